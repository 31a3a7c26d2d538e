#include "pt.h"
#include "pt_pond.h"

#include <pond/arrow.h>
#include <pond/oplog.h>
#include <pond/stream.h>
#include <pond/sys/backend.h>
#include <pond/table.h>
#include <pond/tinyfs.h>

#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- fixtures: both backends ---- */

typedef pt_pond env;

static void env_open(env *e, bool disk)
{
    if (disk)
        pt_pond_disk(e, NULL);
    else
        pt_pond_memory(e);
}

static void env_close(env *e) { pt_pond_close(e); }

/* A batch: ts (µs, UTC) = t0 + i*step_us for i in [0, n), value = i + base (double),
 * optional extra int64 column "extra" = i. */
static void make_batch(struct ArrowSchema *schema, struct ArrowArray *batch, int64_t t0,
                       int64_t step_us, int64_t n, double base, bool extra)
{
    int nc = extra ? 3 : 2;
    PT_ASSERT_OK(pond_arrow_schema_init(schema, "+s", "", 0, nc));
    PT_ASSERT_OK(pond_arrow_schema_init(schema->children[0], "tsu:UTC", "timestamp", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(schema->children[1], "g", "value", ARROW_FLAG_NULLABLE, 0));
    if (extra)
        PT_ASSERT_OK(
            pond_arrow_schema_init(schema->children[2], "l", "extra", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(batch, n, 0, 1, nc));
    pond_arrow_builder *b[3];
    PT_ASSERT_OK(pond_arrow_builder_new(&b[0], "tsu:UTC"));
    PT_ASSERT_OK(pond_arrow_builder_new(&b[1], "g"));
    if (extra)
        PT_ASSERT_OK(pond_arrow_builder_new(&b[2], "l"));
    for (int64_t i = 0; i < n; i++) {
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], t0 + i * step_us));
        if (i % 97 == 5)
            PT_ASSERT_OK(pond_arrow_builder_append_null(b[1]));
        else
            PT_ASSERT_OK(pond_arrow_builder_append_double(b[1], (double)i + base));
        if (extra)
            PT_ASSERT_OK(pond_arrow_builder_append_int(b[2], i));
    }
    for (int k = 0; k < nc; k++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(batch->children[k], b[k]));
        pond_arrow_builder_free(b[k]);
    }
}

static void write_series_version(env *e, const char *path, int64_t t0, int64_t step, int64_t n,
                                 double base, bool extra)
{
    struct ArrowSchema s;
    struct ArrowArray a;
    make_batch(&s, &a, t0, step, n, base, extra);
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e->fs, NULL, path, POND_ENTRY_FILE_SERIES, &s, &a, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
}

/* Canonical text of a whole stream (schema names first). */
static char *stream_text(struct ArrowArrayStream *s, int64_t *rows)
{
    struct ArrowSchema schema;
    PT_ASSERT_INT_EQ(s->get_schema(s, &schema), 0);
    pond_buf out = POND_BUF_INIT;
    for (int64_t i = 0; i < schema.n_children; i++)
        pond_buf_printf(&out, "%s%s", i ? "\t" : "", schema.children[i]->name);
    pond_buf_putc(&out, '\n');
    *rows = 0;
    for (;;) {
        struct ArrowArray b;
        int rc = s->get_next(s, &b);
        if (rc != 0)
            pt_fail(__FILE__, __LINE__, "get_next: %d %s", rc,
                    s->get_last_error(s) ? s->get_last_error(s) : "");
        if (!b.release)
            break;
        PT_ASSERT_OK(pond_arrow_array_validate(&schema, &b));
        PT_ASSERT_OK(pond_arrow_canon_batch(&out, &schema, &b));
        *rows += b.length;
        b.release(&b);
    }
    schema.release(&schema);
    s->release(s);
    return pond_buf_detach(&out);
}

static char *batch_text(const struct ArrowSchema *schema, const struct ArrowArray *b)
{
    pond_buf out = POND_BUF_INIT;
    for (int64_t i = 0; i < schema->n_children; i++)
        pond_buf_printf(&out, "%s%s", i ? "\t" : "", schema->children[i]->name);
    pond_buf_putc(&out, '\n');
    PT_ASSERT_OK(pond_arrow_canon_batch(&out, schema, b));
    return pond_buf_detach(&out);
}

/* ---- every flat type, with nulls, through a table ---- */

static const char *const ALL_FORMATS[] = {
    "b", "c", "C",   "s",    "S",       "i",    "I",    "l",   "L",   "f",   "g",    "u",
    "z", "U", "tdD", "tsu:", "tsm:UTC", "tsn:", "tss:", "ttm", "ttu", "w:4", "d:9,2"};

static void make_all_types(struct ArrowSchema *schema, struct ArrowArray *batch, int64_t n,
                           unsigned seed)
{
    size_t nc = POND_ARRAY_LEN(ALL_FORMATS);
    PT_ASSERT_OK(pond_arrow_schema_init(schema, "+s", "", 0, (int64_t)nc));
    PT_ASSERT_OK(pond_arrow_array_init(batch, n, 0, 1, (int64_t)nc));
    for (size_t c = 0; c < nc; c++) {
        char name[16];
        snprintf(name, sizeof name, "c%zu", c);
        PT_ASSERT_OK(pond_arrow_schema_init(schema->children[c], ALL_FORMATS[c], name,
                                            ARROW_FLAG_NULLABLE, 0));
        pond_arrow_builder *b;
        PT_ASSERT_OK(pond_arrow_builder_new(&b, ALL_FORMATS[c]));
        const char *f = ALL_FORMATS[c];
        for (int64_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            int64_t v = (int64_t)(seed >> 8) % 100 - 50;
            if ((seed >> 4) % 7 == 0) {
                PT_ASSERT_OK(pond_arrow_builder_append_null(b));
            } else if (f[0] == 'b') {
                PT_ASSERT_OK(pond_arrow_builder_append_bool(b, v & 1));
            } else if (f[0] == 'f' || f[0] == 'g') {
                PT_ASSERT_OK(pond_arrow_builder_append_double(b, (double)v / 4));
            } else if (f[0] == 'u' || f[0] == 'z' || f[0] == 'U') {
                char s[32];
                int len = snprintf(s, sizeof s, "s%lld", (long long)(v * v));
                PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, s, (size_t)(v > 40 ? 0 : len)));
            } else if (f[0] == 'w') {
                PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, &seed, 4));
            } else if (f[0] == 'd') {
                uint8_t d[16];
                int64_t x = v * 12345;
                memset(d, x < 0 ? 0xff : 0, sizeof d);
                memcpy(d, &x, 8);
                PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, d, 16));
            } else if (f[0] == 'C' || f[0] == 'S' || f[0] == 'I' || f[0] == 'L') {
                PT_ASSERT_OK(pond_arrow_builder_append_uint(b, (uint64_t)(v + 50)));
            } else {
                PT_ASSERT_OK(pond_arrow_builder_append_int(b, v));
            }
        }
        PT_ASSERT_OK(pond_arrow_builder_finish(batch->children[c], b));
        pond_arrow_builder_free(b);
    }
}

static void all_types_roundtrip(bool disk)
{
    env e;
    env_open(&e, disk);
    struct ArrowSchema s;
    struct ArrowArray a;
    make_all_types(&s, &a, 500, 1);
    char *want = batch_text(&s, &a);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e.fs, NULL, "/t", POND_ENTRY_FILE_TABLE, &s, &a, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/t", NULL));
    int64_t rows;
    char *got = stream_text(&st, &rows);
    PT_ASSERT_INT_EQ(rows, 500);
    PT_ASSERT_STR_EQ(got, want);
    pond_free(got);
    pond_free(want);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
    env_close(&e);
}

/* every type, with nulls, through a two-version series (timestamp column given) */
static void all_types_series(bool disk)
{
    env e;
    env_open(&e, disk);
    pond_buf want = POND_BUF_INIT;
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.timestamp_column = "c15"; /* "tsu:" */
    for (int v = 0; v < 2; v++) {
        struct ArrowSchema s;
        struct ArrowArray a;
        make_all_types(&s, &a, 300 + v * 7, 11 + (unsigned)v);
        char *t = batch_text(&s, &a);
        /* the header line once, then the rows of each version in order */
        pond_buf_puts(&want, v == 0 ? t : strchr(t, '\n') + 1);
        pond_free(t);
        PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
        PT_ASSERT_OK(pond_table_write_batch(e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, &s, &a, &wo));
        PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
        pond_arrow_array_release(&a);
        pond_arrow_schema_release(&s);
    }
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/s", NULL));
    int64_t rows;
    char *got = stream_text(&st, &rows);
    PT_ASSERT_INT_EQ(rows, 300 + 307);
    PT_ASSERT_STR_EQ(got, want.ptr);
    pond_free(got);
    pond_buf_dispose(&want);
    env_close(&e);
}

static void test_all_types_series_memory(void) { all_types_series(false); }
static void test_all_types_series_oplog(void) { all_types_series(true); }

static void test_all_types_memory(void) { all_types_roundtrip(false); }
static void test_all_types_oplog(void) { all_types_roundtrip(true); }

/* ---- tables: latest, and any earlier version by number ---- */

static void table_versions(bool disk)
{
    env e;
    env_open(&e, disk);
    char *texts[3];
    for (int v = 0; v < 3; v++) {
        struct ArrowSchema s;
        struct ArrowArray a;
        make_batch(&s, &a, 1000000 * v, 1000, 10 + v, v * 100.0, false);
        texts[v] = batch_text(&s, &a);
        PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
        PT_ASSERT_OK(pond_table_write_batch(e.fs, NULL, "/t", POND_ENTRY_FILE_TABLE, &s, &a, NULL));
        PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
        pond_arrow_array_release(&a);
        pond_arrow_schema_release(&s);
    }
    for (int v = 0; v <= 3; v++) {
        pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
        o.file_version = v; /* 0 = latest */
        struct ArrowArrayStream st;
        PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/t", &o));
        int64_t rows;
        char *got = stream_text(&st, &rows);
        PT_ASSERT_STR_EQ(got, texts[v == 0 ? 2 : v - 1]);
        pond_free(got);
    }
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.file_version = 9;
    struct ArrowArrayStream st;
    PT_ASSERT_ERR(pond_table_read_stream(&st, e.fs, NULL, "/t", &o), POND_ENOTFOUND);
    for (int v = 0; v < 3; v++)
        pond_free(texts[v]);
    env_close(&e);
}

static void test_table_versions_memory(void) { table_versions(false); }
static void test_table_versions_oplog(void) { table_versions(true); }

/* ---- series: 100 versions of one day of 1-second data; a one-hour range ---- */

static void series_range(bool disk)
{
    env e;
    env_open(&e, disk);
    int nv = pt_light() ? 6 : 100;
    int64_t day = 86400LL * 1000000, t0 = 1700000000LL * 1000000;
    for (int v = 0; v < nv; v++)
        write_series_version(&e, "/s", t0 + v * day, 1000000, 86400, v * 1e6, false);
    int64_t from = t0 + 3 * day + 5 * 3600LL * 1000000, to = from + 3600LL * 1000000;
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.has_range = true;
    o.from_us = from;
    o.to_us = to;
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/s", &o));
    /* brute force: exactly the rows of day 3 from 05:00:00 (inclusive) to 06:00:00 (exclusive) */
    int64_t rows = 0, next_expected = from;
    struct ArrowSchema schema;
    PT_ASSERT_INT_EQ(st.get_schema(&st, &schema), 0);
    for (;;) {
        struct ArrowArray b;
        PT_ASSERT_INT_EQ(st.get_next(&st, &b), 0);
        if (!b.release)
            break;
        const struct ArrowArray *ts = b.children[0], *val = b.children[1];
        for (int64_t i = 0; i < b.length; i++) {
            int64_t t = ((const int64_t *)ts->buffers[1])[ts->offset + b.offset + i];
            PT_ASSERT_INT_EQ(t, next_expected);
            int64_t k = (t - t0 - 3 * day) / 1000000; /* row index within version 3 */
            const uint8_t *valid = val->buffers[0];
            int64_t j = val->offset + b.offset + i;
            bool isnull = valid && !(valid[j / 8] & (1u << (j % 8)));
            PT_ASSERT_INT_EQ(isnull, k % 97 == 5);
            if (!isnull)
                PT_ASSERT(((const double *)val->buffers[1])[j] == (double)k + 3e6);
            next_expected += 1000000;
        }
        rows += b.length;
        b.release(&b);
    }
    PT_ASSERT_INT_EQ(rows, 3600);
    pond_table_scan_stats stats;
    PT_ASSERT_OK(pond_table_stream_stats(&stats, &st));
    PT_ASSERT_INT_EQ(stats.versions_total, 1); /* only the version whose range overlaps is */
    PT_ASSERT_INT_EQ(stats.versions_read, 1);  /* listed, and read */
    PT_ASSERT_INT_EQ(stats.rows_returned, 3600);
    schema.release(&schema);
    st.release(&st);
    /* an empty range */
    o.from_us = t0 - 10 * day;
    o.to_us = t0 - 9 * day;
    PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/s", &o));
    char *text = stream_text(&st, &rows);
    PT_ASSERT_INT_EQ(rows, 0);
    pond_free(text);
    env_close(&e);
}

static void test_series_range_memory(void) { series_range(false); }
static void test_series_range_oplog(void) { series_range(true); }

/* ---- schema evolution and refused type changes ---- */

static void series_schema(bool disk)
{
    env e;
    env_open(&e, disk);
    write_series_version(&e, "/s", 0, 1000000, 3, 0, false);
    write_series_version(&e, "/s", 3000000, 1000000, 2, 10, true); /* adds "extra" */
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/s", NULL));
    int64_t rows;
    char *got = stream_text(&st, &rows);
    PT_ASSERT_STR_EQ(got, "timestamp\tvalue\textra\n"
                          "t0\tf0\tN\n"
                          "t1000000000\tf1\tN\n"
                          "t2000000000\tf2\tN\n"
                          "t3000000000\tf10\ti0\n"
                          "t4000000000\tf11\ti1\n");
    pond_free(got);
    /* a version whose "value" is an int64 is refused and leaves the series unchanged */
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "timestamp", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "l", "value", 0, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, 1, 0, 1, 2));
    for (int k = 0; k < 2; k++) {
        pond_arrow_builder *b;
        PT_ASSERT_OK(pond_arrow_builder_new(&b, s.children[k]->format));
        PT_ASSERT_OK(pond_arrow_builder_append_int(b, 99000000));
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[k], b));
        pond_arrow_builder_free(b);
    }
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_ERR(pond_table_write_batch(e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, &s, &a, NULL),
                  POND_EINVALID);
    PT_ASSERT_MSG_HAS("column 'value' is double in version 1 but int64 in the new version");
    pond_fs_abort(e.fs);
    pond_stat stt;
    PT_ASSERT_OK(pond_fs_stat(&stt, e.fs, NULL, "/s"));
    PT_ASSERT_INT_EQ(stt.version, 2);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
    /* the recorded event-time range of version 2 */
    PT_ASSERT(stt.has_event_time);
    PT_ASSERT_INT_EQ(stt.min_event_time_us, 3000000);
    PT_ASSERT_INT_EQ(stt.max_event_time_us, 4000000);
    /* projection */
    const char *cols[] = {"extra"};
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.columns = cols;
    o.n_columns = 1;
    PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/s", &o));
    got = stream_text(&st, &rows);
    PT_ASSERT_STR_EQ(got, "extra\nN\nN\nN\ni0\ni1\n");
    pond_free(got);
    env_close(&e);
}

/* The columns of a series read never depend on which versions a time range touches: they
 * are the union over all versions (issue 14 item 10). */
static void series_range_schema(bool disk)
{
    env e;
    env_open(&e, disk);
    write_series_version(&e, "/s", 0, 1000000, 3, 0, false);
    write_series_version(&e, "/s", 3000000, 1000000, 2, 10, true); /* adds "extra" */
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.has_range = true;
    o.from_us = 0;
    o.to_us = 2000000; /* only version 1 */
    struct ArrowArrayStream st;
    int64_t rows;
    PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/s", &o));
    char *got = stream_text(&st, &rows);
    PT_ASSERT_STR_EQ(got, "timestamp\tvalue\textra\nt0\tf0\tN\nt1000000000\tf1\tN\n");
    pond_free(got);
    o.from_us = 100000000; /* no version at all */
    o.to_us = 200000000;
    PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/s", &o));
    got = stream_text(&st, &rows);
    PT_ASSERT_STR_EQ(got, "timestamp\tvalue\textra\n");
    PT_ASSERT_INT_EQ(rows, 0);
    pond_free(got);
    /* a column only a skipped version has can still be asked for */
    const char *cols[] = {"extra", "value"};
    o.columns = cols;
    o.n_columns = 2;
    o.from_us = 0;
    o.to_us = 1000000;
    PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/s", &o));
    got = stream_text(&st, &rows);
    PT_ASSERT_STR_EQ(got, "extra\tvalue\nN\tf0\n");
    pond_free(got);
    /* the range still reads only the versions it overlaps */
    PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/s", &o));
    pond_table_scan_stats stats;
    struct ArrowArray b;
    int64_t read_versions = 0;
    for (;;) {
        PT_ASSERT_INT_EQ(st.get_next(&st, &b), 0);
        if (!b.release)
            break;
        b.release(&b);
    }
    PT_ASSERT_OK(pond_table_stream_stats(&stats, &st));
    read_versions = stats.versions_read;
    st.release(&st);
    PT_ASSERT_INT_EQ(read_versions, 1);
    /* a missing column names the ones there are */
    const char *bad[] = {"nope"};
    o.columns = bad;
    o.n_columns = 1;
    PT_ASSERT_ERR(pond_table_read_stream(&st, e.fs, NULL, "/s", &o), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("no column 'nope' (columns: timestamp, value, extra)");
    env_close(&e);
}

static void test_series_range_schema_memory(void) { series_range_schema(false); }
static void test_series_range_schema_oplog(void) { series_range_schema(true); }

static void test_series_schema_memory(void) { series_schema(false); }
static void test_series_schema_oplog(void) { series_schema(true); }

/* ---- bounded memory: 1,000 batches in, streamed back ---- */

typedef struct {
    int64_t next, total, per;
    int64_t t0;
} gen_priv;

static int gen_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    (void)s;
    struct ArrowArray a;
    make_batch(out, &a, 0, 1, 0, 0, false);
    pond_arrow_array_release(&a);
    return 0;
}

static int gen_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    gen_priv *g = s->private_data;
    memset(out, 0, sizeof *out);
    if (g->next >= g->total)
        return 0;
    struct ArrowSchema sc;
    make_batch(&sc, out, g->t0 + g->next * g->per * 1000, 1000, g->per, 0, false);
    pond_arrow_schema_release(&sc);
    g->next++;
    return 0;
}

static const char *gen_err(struct ArrowArrayStream *s)
{
    (void)s;
    return NULL;
}

static void gen_release(struct ArrowArrayStream *s) { s->release = NULL; }

static void test_bounded_memory_1000_batches(void)
{
    env e;
    env_open(&e, true);
    gen_priv g = {0, 1000, pt_light() ? 200 : 2000, 1700000000LL * 1000000};
    struct ArrowArrayStream in = {gen_schema, gen_next, gen_err, gen_release, &g};
    size_t base = pond_alloc_current();
    pond_alloc_reset_peak();
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    int64_t rows;
    PT_ASSERT_OK(
        pond_table_write_stream(&rows, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, &in, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    PT_ASSERT_INT_EQ(rows, 1000 * g.per);
    size_t write_peak = pond_alloc_peak() - base;
    /* one thread: about one decoded row group; two: the read-ahead also holds up to two
     * decoded row groups beside the one the caller has (docs/parquet.md) */
    size_t read_peak[2];
    for (int threads = 1; threads <= 2; threads++) {
        pond_alloc_reset_peak();
        pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
        ro.threads = threads;
        struct ArrowArrayStream st;
        PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/s", &ro));
        int64_t got = 0;
        for (;;) {
            struct ArrowArray b;
            PT_ASSERT_INT_EQ(st.get_next(&st, &b), 0);
            if (!b.release)
                break;
            got += b.length;
            b.release(&b);
        }
        st.release(&st);
        read_peak[threads - 1] = pond_alloc_peak() - base;
        PT_ASSERT_INT_EQ(got, rows);
    }
    printf("  bounded memory: %lld rows, write peak %zu KiB, read peak %zu KiB (1 thread), "
           "%zu KiB (2)\n",
           (long long)rows, write_peak / 1024, read_peak[0] / 1024, read_peak[1] / 1024);
    PT_ASSERT(write_peak < 10u * 1000 * 1000);
    PT_ASSERT(read_peak[0] < 10u * 1000 * 1000);
    PT_ASSERT(read_peak[1] < 16u * 1000 * 1000);
    env_close(&e);
}

PT_SUITE(table, PT_TEST(all_types_memory), PT_TEST(all_types_oplog),
         PT_TEST(all_types_series_memory), PT_TEST(all_types_series_oplog),
         PT_TEST(table_versions_memory), PT_TEST(table_versions_oplog),
         PT_TEST(series_range_memory), PT_TEST(series_range_oplog), PT_TEST(series_schema_memory),
         PT_TEST(series_range_schema_memory), PT_TEST(series_range_schema_oplog),
         PT_TEST(series_schema_oplog), PT_TEST(bounded_memory_1000_batches))
