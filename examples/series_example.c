/* A complete pond program: create a pond, write a series from a stream of record batches,
 * append a second version, and read a time range back as a stream.
 *
 *   build/examples/series_example [DIR]     (default: a fresh directory under /tmp)
 *
 * Built and run by the test suite; see docs/api.md for a walk through the API. */
#include <pond/pond.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(call)                                                                                \
    do {                                                                                           \
        if ((call) < 0) {                                                                          \
            fprintf(stderr, "%s: %s\n", #call, pond_error_last()->message);                        \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* A producer of batches: `n_batches` batches of one-minute readings starting at t0. */
typedef struct {
    int64_t t0_us;
    int n_batches, next, rows_per_batch;
} gen;

static int gen_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    (void)s;
    if (pond_arrow_schema_init(out, "+s", "", 0, 2) < 0 ||
        pond_arrow_schema_init(out->children[0], "tsu:UTC", "timestamp", 0, 0) < 0 ||
        pond_arrow_schema_init(out->children[1], "g", "temperature_c", ARROW_FLAG_NULLABLE, 0) < 0)
        return ENOMEM;
    return 0;
}

static int gen_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    gen *g = s->private_data;
    memset(out, 0, sizeof *out);
    if (g->next == g->n_batches)
        return 0; /* end of stream: out->release stays NULL */
    pond_arrow_builder *ts = NULL, *temp = NULL;
    if (pond_arrow_builder_new(&ts, "tsu:UTC") < 0 || pond_arrow_builder_new(&temp, "g") < 0)
        return ENOMEM;
    for (int i = 0; i < g->rows_per_batch; i++) {
        int64_t minute = (int64_t)g->next * g->rows_per_batch + i;
        pond_arrow_builder_append_int(ts, g->t0_us + minute * 60 * 1000000);
        pond_arrow_builder_append_double(temp, 20.0 + (double)(minute % 60) / 10.0);
    }
    if (pond_arrow_array_init(out, g->rows_per_batch, 0, 1, 2) < 0 ||
        pond_arrow_builder_finish(out->children[0], ts) < 0 ||
        pond_arrow_builder_finish(out->children[1], temp) < 0)
        return ENOMEM;
    pond_arrow_builder_free(ts);
    pond_arrow_builder_free(temp);
    g->next++;
    return 0;
}

static const char *gen_error(struct ArrowArrayStream *s)
{
    (void)s;
    return NULL;
}

static void gen_release(struct ArrowArrayStream *s) { s->release = NULL; }

static void write_version(pond_fs *fs, int64_t t0_us, int n_batches)
{
    gen g = {t0_us, n_batches, 0, 1440};
    struct ArrowArrayStream in = {gen_schema, gen_next, gen_error, gen_release, &g};
    int64_t rows = 0;
    CHECK(pond_fs_begin(fs, "{\"example\":\"series\"}")); /* one transaction = one commit */
    CHECK(pond_table_write_stream(&rows, fs, NULL, "/sensors/station1", POND_ENTRY_FILE_SERIES, &in,
                                  NULL));
    int64_t txn;
    CHECK(pond_fs_commit(&txn, fs));
    printf("transaction %lld: wrote a version of %lld rows\n", (long long)txn, (long long)rows);
}

int main(int argc, char **argv)
{
    char dir[4096];
    if (argc > 1)
        snprintf(dir, sizeof dir, "%s", argv[1]);
    else
        snprintf(dir, sizeof dir, "/tmp/pond-example-%d", (int)getpid());

    /* 1. create the pond and open it */
    CHECK(pond_oplog_create(dir, NULL));
    pond_backend *be;
    pond_fs *fs;
    CHECK(pond_oplog_open(&be, dir, NULL));
    CHECK(pond_fs_open(&fs, be, NULL));
    CHECK(pond_fs_begin(fs, NULL));
    CHECK(pond_fs_mkdir(fs, NULL, "/sensors", 0));
    CHECK(pond_fs_commit(NULL, fs));

    /* 2. a series from a stream of batches: 10 days of 1-minute data, one day per batch */
    int64_t jan1 = 1735689600LL * 1000000; /* 2025-01-01T00:00:00Z in µs */
    write_version(fs, jan1, 10);
    /* 3. append a second version: the next 5 days */
    write_version(fs, jan1 + 10LL * 86400 * 1000000, 5);

    /* 4. read one hour of day 12 back: [from, to), inclusive start, exclusive end */
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.has_range = true;
    CHECK(pond_time_parse_iso(&ro.from_us, "2025-01-12T06:00:00Z", 20));
    CHECK(pond_time_parse_iso(&ro.to_us, "2025-01-12T07:00:00Z", 20));
    struct ArrowArrayStream st;
    CHECK(pond_table_read_stream(&st, fs, NULL, "/sensors/station1", &ro));
    int64_t rows = 0, first = 0, last = 0;
    for (;;) {
        struct ArrowArray b;
        if (st.get_next(&st, &b) != 0) {
            fprintf(stderr, "read: %s\n", st.get_last_error(&st));
            return 1;
        }
        if (!b.release)
            break;
        const struct ArrowArray *ts = b.children[0];
        const int64_t *v = (const int64_t *)ts->buffers[1] + ts->offset + b.offset;
        if (b.length && !rows)
            first = v[0];
        if (b.length)
            last = v[b.length - 1];
        rows += b.length;
        b.release(&b);
    }
    pond_table_scan_stats stats;
    CHECK(pond_table_stream_stats(&stats, &st));
    st.release(&st);
    char a[40], z[40];
    pond_time_format_iso(a, first);
    pond_time_format_iso(z, last);
    printf("range read: %lld rows, %s .. %s; %lld of %lld versions opened\n", (long long)rows, a, z,
           (long long)stats.versions_read, (long long)stats.versions_total);
    pond_fs_free(fs);
    pond_backend_free(be);
    /* one hour of minutes, from the second version only */
    return rows == 60 && stats.versions_read == 1 ? 0 : 1;
}
