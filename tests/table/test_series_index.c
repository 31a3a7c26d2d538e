/* The series index (appends and reads without earlier footers), dedup=last against a
 * brute-force model, compaction (same rows, same order, same dedup answers, --at), settings
 * versions and identical re-imports. */
#include "pt.h"

#include <pond/arrow.h>
#include <pond/oplog.h>
#include <pond/rows.h>
#include <pond/stream.h>
#include <pond/sys/backend.h>
#include <pond/sys/os.h>
#include <pond/table.h>
#include <pond/tinyfs.h>

#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a backend that counts the content it opens (every footer read opens content) ---- */

typedef struct {
    pond_backend parent;
    pond_backend *inner;
    int64_t opens;
} counting_be;

static pond_backend *inner(pond_backend *be) { return ((counting_be *)be)->inner; }

/* Records without their content: every read goes through open_content, which counts. */
static int strip(pond_node_rec **o, int rc)
{
    if (rc < 0 || !(*o)->content)
        return rc;
    pond_node_rec *d = NULL;
    if ((rc = pond_node_rec_dup(&d, *o)) < 0)
        return rc;
    pond_blob_unref(d->content);
    d->content = NULL;
    pond_node_rec_unref(*o);
    *o = d;
    return 0;
}
static int c_latest(pond_node_rec **o, pond_backend *be, const pond_node_id *id)
{
    return strip(o, inner(be)->latest(o, inner(be), id));
}
static int c_get_version(pond_node_rec **o, pond_backend *be, const pond_node_id *id, int64_t v)
{
    return strip(o, inner(be)->get_version(o, inner(be), id, v));
}
static int c_list(pond_node_rec ***o, size_t *n, pond_backend *be, const pond_node_id *id)
{
    int rc = inner(be)->list_versions(o, n, inner(be), id);
    for (size_t i = 0; rc == 0 && i < *n; i++)
        rc = strip(&(*o)[i], 0);
    return rc;
}
static int c_open_content(pond_reader **o, pond_backend *be, const pond_node_rec *rec)
{
    ((counting_be *)be)->opens++;
    pond_node_rec *full = NULL;
    int rc = inner(be)->get_version(&full, inner(be), &rec->id, rec->version);
    if (rc == 0)
        rc = full->content ? pond_blob_open_reader(o, full->content)
                           : inner(be)->open_content(o, inner(be), full);
    pond_node_rec_unref(full);
    return rc;
}
static int c_last_txn(int64_t *o, pond_backend *be) { return inner(be)->last_txn(o, inner(be)); }
static int c_commit(pond_backend *be, const pond_backend_txn_info *info, pond_node_rec *const *recs,
                    size_t n)
{
    return inner(be)->commit(inner(be), info, recs, n);
}
static int c_as_of(pond_backend **o, pond_backend *be, int64_t txn)
{
    return inner(be)->open_as_of(o, inner(be), txn);
}
static void c_free(pond_backend *be)
{
    pond_backend_free(inner(be));
    free(be);
}

static pond_backend *counting_new(void)
{
    counting_be *c = calloc(1, sizeof *c);
    PT_ASSERT(c);
    PT_ASSERT_OK(pond_backend_memory_new(&c->inner));
    c->parent.version = POND_BACKEND_VERSION;
    c->parent.name = "counting";
    c->parent.latest = c_latest;
    c->parent.get_version = c_get_version;
    c->parent.list_versions = c_list;
    c->parent.open_content = c_open_content;
    c->parent.last_txn = c_last_txn;
    c->parent.commit = c_commit;
    c->parent.open_as_of = c_as_of;
    c->parent.free = c_free;
    return &c->parent;
}

static int64_t opens(pond_backend *be) { return ((counting_be *)be)->opens; }

/* ---- writing rows: ts (µs, 0 = null), k (string, -1 = null), v (int64, INT64_MIN = null),
 * and an optional double x ---- */

typedef struct {
    int64_t ts; /* 0: null */
    int k;      /* -1: null, else "a" + k */
    int64_t v;  /* INT64_MIN: null */
    int version;
    int row;
} mrow;

/* One write of rows to path in the open transaction, with opts (NULL: the defaults); its
 * result code. */
static int write_rows_o(pond_fs *fs, const char *path, const mrow *rows, int n, bool with_x,
                        const pond_table_write_options *opts)
{
    int nc = with_x ? 4 : 3;
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, nc));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "ts", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "u", "k", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[2], "l", "v", ARROW_FLAG_NULLABLE, 0));
    if (with_x)
        PT_ASSERT_OK(pond_arrow_schema_init(s.children[3], "g", "x", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, nc));
    pond_arrow_builder *b[4];
    for (int c = 0; c < nc; c++)
        PT_ASSERT_OK(pond_arrow_builder_new(&b[c], s.children[c]->format));
    for (int i = 0; i < n; i++) {
        const mrow *r = &rows[i];
        PT_ASSERT_OK(r->ts ? pond_arrow_builder_append_int(b[0], r->ts)
                           : pond_arrow_builder_append_null(b[0]));
        char k[2] = {(char)('a' + r->k), 0};
        PT_ASSERT_OK(r->k >= 0 ? pond_arrow_builder_append_bytes(b[1], k, 1)
                               : pond_arrow_builder_append_null(b[1]));
        PT_ASSERT_OK(r->v != INT64_MIN ? pond_arrow_builder_append_int(b[2], r->v)
                                       : pond_arrow_builder_append_null(b[2]));
        if (with_x)
            PT_ASSERT_OK(pond_arrow_builder_append_double(b[3], (double)r->v / 4));
    }
    for (int c = 0; c < nc; c++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[c], b[c]));
        pond_arrow_builder_free(b[c]);
    }
    int rc = pond_table_write_batch(fs, NULL, path, POND_ENTRY_FILE_SERIES, &s, &a, opts);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
    return rc;
}

static int write_rows(pond_fs *fs, const char *path, const mrow *rows, int n, bool with_x)
{
    return write_rows_o(fs, path, rows, n, with_x, NULL);
}

static void append_rows(pond_fs *fs, const char *path, const mrow *rows, int n, bool with_x)
{
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(write_rows(fs, path, rows, n, with_x));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
}

/* Canonical lines of a read (header first); rows_out counts them. */
static char *read_text(pond_fs *fs, const char *path, const pond_table_read_options *o,
                       int64_t *rows_out, pond_table_scan_stats *stats)
{
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_table_read_stream(&st, fs, NULL, path, o));
    struct ArrowSchema schema;
    PT_ASSERT_INT_EQ(st.get_schema(&st, &schema), 0);
    pond_buf out = POND_BUF_INIT;
    for (int64_t i = 0; i < schema.n_children; i++)
        PT_ASSERT_OK(pond_buf_printf(&out, "%s%s", i ? "\t" : "", schema.children[i]->name));
    PT_ASSERT_OK(pond_buf_putc(&out, '\n'));
    int64_t rows = 0;
    for (;;) {
        struct ArrowArray b;
        int rc = st.get_next(&st, &b);
        if (rc != 0)
            pt_fail(__FILE__, __LINE__, "get_next: %d %s", rc, st.get_last_error(&st));
        if (!b.release)
            break;
        PT_ASSERT_OK(pond_arrow_array_validate(&schema, &b));
        PT_ASSERT_OK(pond_arrow_canon_batch(&out, &schema, &b));
        rows += b.length;
        b.release(&b);
    }
    if (stats)
        PT_ASSERT_OK(pond_table_stream_stats(stats, &st));
    schema.release(&schema);
    st.release(&st);
    if (rows_out)
        *rows_out = rows;
    PT_ASSERT_OK(pond_buf_putc(&out, '\0'));
    return pond_buf_detach(&out);
}

#define DAY_US (86400LL * 1000000)
#define T0 (1700000000LL * 1000000)

/* ---- the index: appends and one-day reads touch no other version ---- */

static void test_index_footers_read(void)
{
    pond_backend *be = counting_new();
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    int n = pt_light() ? 300 : 10000;
    for (int d = 0; d < n; d++) {
        mrow r[2] = {{T0 + d * DAY_US, 0, d, 0, 0}, {T0 + d * DAY_US + DAY_US / 2, 1, -d, 0, 0}};
        int64_t before = opens(be);
        /* version 50 adds a column: still no earlier version read */
        append_rows(fs, "/s", r, 2, d >= 50);
        PT_ASSERT_INT_EQ(opens(be) - before, 0);
    }
    /* the merged schema without reading anything */
    int64_t before = opens(be);
    struct ArrowSchema sc;
    PT_ASSERT_OK(pond_table_schema(&sc, fs, NULL, "/s"));
    PT_ASSERT_INT_EQ(sc.n_children, 4);
    PT_ASSERT_STR_EQ(sc.children[3]->name, "x");
    PT_ASSERT(sc.children[3]->flags & ARROW_FLAG_NULLABLE);
    sc.release(&sc);
    PT_ASSERT_INT_EQ(opens(be) - before, 0);
    /* one day: exactly the one version whose range overlaps it is opened */
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.has_range = true;
    o.from_us = T0 + 7 * DAY_US;
    o.to_us = T0 + 8 * DAY_US;
    o.threads = 1; /* a reader of the version per decoding thread: 1 open = 1 version */
    int64_t rows;
    pond_table_scan_stats stats;
    before = opens(be);
    char *t = read_text(fs, "/s", &o, &rows, &stats);
    PT_ASSERT_INT_EQ(opens(be) - before, 1);
    pond_free(t);
    o.threads = 3; /* the same version, three readers of it */
    before = opens(be);
    t = read_text(fs, "/s", &o, &rows, &stats);
    PT_ASSERT_INT_EQ(opens(be) - before, 3);
    PT_ASSERT_INT_EQ(rows, 2);
    PT_ASSERT_INT_EQ(stats.versions_read, 1);
    PT_ASSERT_INT_EQ(stats.versions_total, 1); /* only the day's version is even listed */
    /* the columns are the merged schema: x exists (as null) before version 50 */
    PT_ASSERT(!strncmp(t, "ts\tk\tv\tx\n", 9));
    pond_free(t);
    /* the versions as the index knows them, without reading them */
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/s", 0));
    pond_series_version_info *vi = NULL;
    size_t nv = 0;
    before = opens(be);
    PT_ASSERT_OK(pond_series_node_versions(&vi, &nv, h));
    PT_ASSERT_INT_EQ(opens(be) - before, 0);
    PT_ASSERT_INT_EQ(nv, n);
    PT_ASSERT_INT_EQ(vi[n - 1].rows, 2);
    PT_ASSERT_INT_EQ(vi[n - 1].min_event_time_us, T0 + (n - 1) * DAY_US);
    pond_free(vi);
    pond_fs_node_free(h);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* A version written through the byte API (no index entry) and a series written before the
 * index: reads take their footers, and the next indexed write covers them. */
static void test_index_unindexed_versions(void)
{
    pond_backend *be = counting_new();
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    mrow r1[1] = {{T0, 0, 1, 0, 0}};
    append_rows(fs, "/s", r1, 1, false);
    mrow r2[1] = {{T0 + DAY_US, 1, 2, 0, 0}};
    append_rows(fs, "/t", r2, 1, true);
    /* version 2 of /s: /t's bytes (a column more) through a raw writer */
    pond_buf bytes = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&bytes, fs, NULL, "/t"));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/s", POND_ENTRY_NONE, bytes.ptr, bytes.size));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_buf_dispose(&bytes);
    int64_t rows;
    char *t = read_text(fs, "/s", NULL, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, 2);
    PT_ASSERT(!strncmp(t, "ts\tk\tv\tx\n", 9)); /* x from version 2's footer */
    pond_free(t);
    /* a type change against the unindexed version is refused, naming it */
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "ts", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "u", "x", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, 1, 0, 1, 2));
    pond_arrow_builder *b;
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "tsu:UTC"));
    PT_ASSERT_OK(pond_arrow_builder_append_int(b, T0 + 2 * DAY_US));
    PT_ASSERT_OK(pond_arrow_builder_finish(a.children[0], b));
    pond_arrow_builder_free(b);
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "u"));
    PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, "s", 1));
    PT_ASSERT_OK(pond_arrow_builder_finish(a.children[1], b));
    pond_arrow_builder_free(b);
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_ERR(pond_table_write_batch(fs, NULL, "/s", POND_ENTRY_FILE_SERIES, &s, &a, NULL),
                  POND_EINVALID);
    PT_ASSERT_MSG_HAS("column 'x' is double in version 2 but string");
    pond_fs_abort(fs);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
    /* an indexed append covers version 2 once; after it, nothing is read again */
    mrow r3[1] = {{T0 + 3 * DAY_US, 2, 3, 0, 0}};
    int64_t before = opens(be);
    append_rows(fs, "/s", r3, 1, true);
    PT_ASSERT_INT_EQ(opens(be) - before, 1);
    before = opens(be);
    mrow r4[1] = {{T0 + 4 * DAY_US, 2, 4, 0, 0}};
    append_rows(fs, "/s", r4, 1, false);
    PT_ASSERT_INT_EQ(opens(be) - before, 0);
    /* a new column that cannot be null is refused: earlier versions would read it as null */
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "ts", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "l", "req", 0, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, 1, 0, 1, 2));
    for (int c = 0; c < 2; c++) {
        PT_ASSERT_OK(pond_arrow_builder_new(&b, s.children[c]->format));
        PT_ASSERT_OK(pond_arrow_builder_append_int(b, T0 + 5 * DAY_US));
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[c], b));
        pond_arrow_builder_free(b);
    }
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_ERR(pond_table_write_batch(fs, NULL, "/s", POND_ENTRY_FILE_SERIES, &s, &a, NULL),
                  POND_EINVALID);
    PT_ASSERT_MSG_HAS("new column 'req' must be nullable");
    pond_fs_abort(fs);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
    t = read_text(fs, "/s", NULL, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, 4);
    pond_free(t);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* ---- dedup=last against "the newest version wins" ---- */

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

/* Random versions: timestamps from a few minutes (so versions overlap and keys repeat), a
 * few null timestamps, null keys and values; version 4 on carries a column more. */
static int random_series(pond_fs *fs, const char *path, unsigned seed, mrow *all, int cap,
                         int n_versions)
{
    int n = 0;
    for (int v = 1; v <= n_versions; v++) {
        int rows = (int)(rnd(&seed) % 12);
        mrow r[16];
        for (int i = 0; i < rows; i++) {
            r[i].ts = rnd(&seed) % 17 == 0 ? 0 : T0 + (int64_t)(rnd(&seed) % 20) * 60000000;
            r[i].k = (int)(rnd(&seed) % 4) - 1;
            r[i].v = rnd(&seed) % 9 == 0 ? INT64_MIN : (int64_t)rnd(&seed);
            r[i].version = v;
            r[i].row = i;
            PT_ASSERT(n < cap);
            all[n++] = r[i];
        }
        append_rows(fs, path, r, rows, v >= 4);
    }
    return n;
}

/* The model: which rows of all (in version, row order) a dedup read returns. */
static void model_keep(bool *keep, const mrow *all, int n, bool by_k, bool has_range, int64_t from,
                       int64_t to)
{
    for (int i = 0; i < n; i++) {
        bool in = all[i].ts ? (!has_range || (all[i].ts >= from && all[i].ts < to)) : !has_range;
        keep[i] = in;
        if (!in || !all[i].ts)
            continue;
        for (int j = i + 1; j < n && keep[i]; j++)
            if (all[j].ts == all[i].ts && (!by_k || all[j].k == all[i].k))
                keep[i] = false; /* a later row of a newer (or the same) version wins */
    }
}

/* The lines of text (after the header) whose index keep[] says, joined. */
static char *select_lines(const char *text, const bool *keep, int n)
{
    pond_buf out = POND_BUF_INIT;
    const char *p = strchr(text, '\n') + 1;
    PT_ASSERT_OK(pond_buf_put(&out, text, (size_t)(p - text)));
    for (int i = 0; i < n; i++) {
        const char *e = strchr(p, '\n');
        PT_ASSERT(e);
        if (keep[i])
            PT_ASSERT_OK(pond_buf_put(&out, p, (size_t)(e - p + 1)));
        p = e + 1;
    }
    PT_ASSERT(!*p);
    PT_ASSERT_OK(pond_buf_putc(&out, '\0'));
    return pond_buf_detach(&out);
}

static void check_dedup(pond_fs *fs, const char *path, const mrow *all, int n, unsigned seed)
{
    pond_table_read_options none = POND_TABLE_READ_OPTIONS_INIT;
    none.dedup = POND_DEDUP_NONE;
    int64_t rows;
    char *raw = read_text(fs, path, &none, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, n); /* every row, in version then row order */
    bool *keep = calloc((size_t)n + 1, 1);
    for (int by_k = 0; by_k < 2; by_k++) {
        for (int rr = 0; rr < 4; rr++) {
            pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
            const char *k = "k";
            o.dedup = POND_DEDUP_LAST;
            o.dedup_keys = by_k ? &k : NULL;
            o.n_dedup_keys = by_k ? 1 : 0;
            if (rr) {
                o.has_range = true;
                o.from_us = T0 + (int64_t)(rnd(&seed) % 20) * 60000000;
                o.to_us = o.from_us + (int64_t)(1 + rnd(&seed) % 10) * 60000000;
            }
            /* the model keeps rows of the raw read: outside the range too, for the lines */
            model_keep(keep, all, n, by_k, o.has_range, o.from_us, o.to_us);
            char *want = select_lines(raw, keep, n);
            char *got = read_text(fs, path, &o, NULL, NULL);
            if (strcmp(want, got))
                printf("  seed %u keys %d range %d\n  want:\n%s  got:\n%s", seed, by_k, rr, want,
                       got);
            PT_ASSERT_STR_EQ(got, want);
            pond_free(want);
            pond_free(got);
        }
    }
    free(keep);
    pond_free(raw);
}

static void test_dedup_model(void)
{
    int runs = pt_light() ? 3 : 25;
    for (int run = 0; run < runs; run++) {
        pond_backend *be = NULL;
        pond_fs *fs = NULL;
        PT_ASSERT_OK(pond_backend_memory_new(&be));
        PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
        static mrow all[16 * 12];
        unsigned seed = 1000u + (unsigned)run;
        int n = random_series(fs, "/s", seed, all, 16 * 12, 3 + run % 12);
        check_dedup(fs, "/s", all, n, seed);
        pond_fs_free(fs);
        pond_backend_free(be);
    }
}

/* The series setting: reads apply it; a read can ask for every row; keys are checked. */
static void test_dedup_setting(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    mrow a[3] = {{T0, 0, 1, 1, 0}, {T0 + 60000000, 0, 2, 1, 1}, {T0 + 120000000, 1, 3, 1, 2}};
    mrow b[2] = {{T0 + 60000000, 0, 20, 2, 0}, {T0 + 60000000, 1, 21, 2, 1}};
    append_rows(fs, "/s", a, 3, false);
    append_rows(fs, "/s", b, 2, false);
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/s", 0));
    PT_ASSERT_ERR(pond_series_set_dedup(h, POND_DEDUP_LAST, NULL, 0), POND_ETXN);
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    const char *bad[] = {"nope"}, *ts[] = {"ts"}, *k[] = {"k"};
    PT_ASSERT_ERR(pond_series_set_dedup(h, POND_DEDUP_LAST, bad, 1), POND_EINVALID);
    PT_ASSERT_MSG_HAS("no column 'nope'");
    PT_ASSERT_ERR(pond_series_set_dedup(h, POND_DEDUP_LAST, ts, 1), POND_EINVALID);
    PT_ASSERT_MSG_HAS("timestamp column");
    PT_ASSERT_OK(pond_series_set_dedup(h, POND_DEDUP_LAST, NULL, 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    int64_t rows;
    char *t = read_text(fs, "/s", NULL, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, 3); /* one row per timestamp: T0, T0+1m (version 2's last), +2m */
    PT_ASSERT(strstr(t, "\ti21\n"));
    PT_ASSERT(!strstr(t, "\ti20\n") && !strstr(t, "\ti2\n"));
    pond_free(t);
    /* the settings change is a version without rows */
    pond_series_settings set;
    PT_ASSERT_OK(pond_series_node_settings_get(&set, h));
    PT_ASSERT_INT_EQ(set.dedup, POND_DEDUP_LAST);
    PT_ASSERT_INT_EQ(set.n_dedup_keys, 0);
    pond_series_settings_dispose(&set);
    pond_stat st;
    PT_ASSERT_OK(pond_fs_node_stat(&st, h));
    PT_ASSERT_INT_EQ(st.version, 3);
    PT_ASSERT_INT_EQ(st.size, 0);
    /* with a key: (T0+1m, a) and (T0+1m, b) are different rows */
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_series_set_dedup(h, POND_DEDUP_LAST, k, 1));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    t = read_text(fs, "/s", NULL, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, 4);
    pond_free(t);
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.dedup = POND_DEDUP_NONE;
    t = read_text(fs, "/s", &o, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, 5);
    pond_free(t);
    /* the same rule again writes nothing */
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_series_set_dedup(h, POND_DEDUP_LAST, k, 1));
    PT_ASSERT_OK(pond_fs_node_stat(&st, h));
    PT_ASSERT_INT_EQ(st.version, 4);
    PT_ASSERT_OK(pond_series_set_dedup(h, POND_DEDUP_NONE, NULL, 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    t = read_text(fs, "/s", NULL, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, 5);
    pond_free(t);
    pond_fs_node_free(h);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* ---- compaction ---- */

static void compact(pond_fs *fs, const char *path, pond_series_compact_result *res)
{
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, path, 0));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_series_compact(res, h, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_node_free(h);
}

static void test_compact_same_rows(void)
{
    int runs = pt_light() ? 2 : 12;
    for (int run = 0; run < runs; run++) {
        pond_backend *be = NULL;
        pond_fs *fs = NULL;
        PT_ASSERT_OK(pond_backend_memory_new(&be));
        PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
        static mrow all[32 * 12];
        unsigned seed = 77u + (unsigned)run;
        int n = random_series(fs, "/s", seed, all, 32 * 12, 4 + run % 9);
        pond_table_read_options last = POND_TABLE_READ_OPTIONS_INIT;
        const char *k = "k";
        last.dedup = POND_DEDUP_LAST;
        last.dedup_keys = &k;
        last.n_dedup_keys = 1;
        int64_t before_txn;
        PT_ASSERT_OK(pond_fs_last_txn(&before_txn, fs));
        char *raw0 = read_text(fs, "/s", NULL, NULL, NULL);
        char *dd0 = read_text(fs, "/s", &last, NULL, NULL);
        pond_series_compact_result res;
        compact(fs, "/s", &res);
        PT_ASSERT(res.version > 0);
        PT_ASSERT_INT_EQ(res.replaced_lo, 1);
        int64_t rows;
        pond_table_scan_stats stats;
        char *raw1 = read_text(fs, "/s", NULL, &rows, &stats);
        PT_ASSERT_STR_EQ(raw1, raw0);
        PT_ASSERT_INT_EQ(rows, n);
        PT_ASSERT_INT_EQ(stats.versions_read, 1);
        char *dd1 = read_text(fs, "/s", &last, NULL, NULL);
        PT_ASSERT_STR_EQ(dd1, dd0);
        /* time travel to before the compaction reads the old layout, the same rows */
        pond_fs *old = NULL;
        pond_fs_options fo = POND_FS_OPTIONS_INIT;
        fo.as_of_txn = before_txn;
        PT_ASSERT_OK(pond_fs_open(&old, be, &fo));
        char *raw_old = read_text(old, "/s", NULL, NULL, &stats);
        PT_ASSERT_STR_EQ(raw_old, raw0);
        PT_ASSERT(stats.versions_read > 1 || n == 0);
        pond_fs_free(old);
        /* more versions, and a second run compacts only those */
        static mrow more[32 * 12];
        int m = random_series(fs, "/s", seed * 3, more, 32 * 12, 3);
        char *raw2 = read_text(fs, "/s", NULL, &rows, NULL);
        PT_ASSERT_INT_EQ(rows, n + m);
        char *dd2 = read_text(fs, "/s", &last, NULL, NULL);
        pond_series_compact_result res2;
        compact(fs, "/s", &res2);
        PT_ASSERT_INT_EQ(res2.replaced_lo, res.version + 1);
        char *raw3 = read_text(fs, "/s", NULL, NULL, &stats);
        PT_ASSERT_STR_EQ(raw3, raw2);
        PT_ASSERT_INT_EQ(stats.versions_read, 2);
        char *dd3 = read_text(fs, "/s", &last, NULL, NULL);
        PT_ASSERT_STR_EQ(dd3, dd2);
        /* nothing new: nothing written */
        pond_series_compact_result res3;
        compact(fs, "/s", &res3);
        PT_ASSERT_INT_EQ(res3.version, 0);
        /* the index says who replaced whom */
        pond_fs_node *h = NULL;
        PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/s", 0));
        pond_series_version_info *vi = NULL;
        size_t nv = 0;
        PT_ASSERT_OK(pond_series_node_versions(&vi, &nv, h));
        for (size_t i = 0; i < nv; i++) {
            int64_t v = vi[i].version;
            int64_t want = v < res.version                       ? res.version
                           : v > res.version && v < res2.version ? res2.version
                                                                 : 0;
            PT_ASSERT_INT_EQ(vi[i].replaced_by, want);
            if (v == res2.version) {
                PT_ASSERT_INT_EQ(vi[i].replaces_lo, res2.replaced_lo);
                PT_ASSERT_INT_EQ(vi[i].rows, m);
            }
        }
        pond_free(vi);
        pond_fs_node_free(h);
        pond_free(raw0), pond_free(raw1), pond_free(raw2), pond_free(raw3), pond_free(raw_old);
        pond_free(dd0), pond_free(dd1), pond_free(dd2), pond_free(dd3);
        pond_fs_free(fs);
        pond_backend_free(be);
    }
}

/* ---- one day of a long series: only the versions overlapping it are opened, and the rows
 * are those of the whole series in that day (late versions, nulls, dedup, compaction, --at) */

/* n_versions daily versions from day `first` on, each of 1-5 rows; about one in six is late
 * data for one of the three days before, a few timestamps are null. */
static int daily_series(pond_fs *fs, unsigned *seed, mrow *all, int cap, int first, int n_versions,
                        int vbase)
{
    int n = 0;
    for (int v = 0; v < n_versions; v++) {
        int day = first + v;
        if (rnd(seed) % 6 == 0 && day > 3)
            day -= 1 + (int)(rnd(seed) % 3);
        int rows = 1 + (int)(rnd(seed) % 5);
        mrow r[8];
        for (int i = 0; i < rows; i++) {
            r[i].ts = rnd(seed) % 15 == 0
                          ? 0
                          : T0 + day * DAY_US + (int64_t)(rnd(seed) % 1440) * 60000000;
            r[i].k = (int)(rnd(seed) % 3);
            r[i].v = (int64_t)rnd(seed);
            r[i].version = vbase + v + 1;
            r[i].row = i;
            PT_ASSERT(n < cap);
            all[n++] = r[i];
        }
        append_rows(fs, "/s", r, rows, false);
    }
    return n;
}

/* The versions (of all[0..n); the rows before nc are one compacted version) whose rows' range
 * overlaps [from, to), or that have rows but no timestamp: what a range read may open. */
static int64_t overlapping(const mrow *all, int n, int nc, int64_t from, int64_t to)
{
    int64_t count = 0;
    for (int i = 0; i < n;) {
        int j = i;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (; j < n && (j < nc ? i < nc : all[j].version == all[i].version); j++)
            if (all[j].ts) {
                lo = POND_MIN(lo, all[j].ts);
                hi = POND_MAX(hi, all[j].ts);
            }
        count += lo == INT64_MAX || (lo < to && hi >= from);
        i = j;
    }
    return count;
}

/* Random days of fs's /s (rows all[0..n) in read order, the first nc of them compacted into
 * one version): each day's read equals the whole read's rows of that day, with and without
 * dedup=last, and opens only the versions whose range overlaps it. */
static void check_days(pond_fs *fs, pond_backend *be, const mrow *all, int n, int nc, int days,
                       unsigned *seed)
{
    pond_table_read_options none = POND_TABLE_READ_OPTIONS_INIT;
    none.dedup = POND_DEDUP_NONE;
    int64_t rows;
    char *raw = read_text(fs, "/s", &none, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, n);
    bool *keep = calloc((size_t)n + 1, 1);
    PT_ASSERT(keep);
    for (int t = 0; t < 12; t++) {
        int64_t from = T0 + (int64_t)(rnd(seed) % (unsigned)(days + 2)) * DAY_US;
        int64_t to = from + DAY_US;
        for (int dd = 0; dd < 2; dd++) {
            pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
            o.dedup = dd ? POND_DEDUP_LAST : POND_DEDUP_NONE;
            o.has_range = true;
            o.from_us = from;
            o.to_us = to;
            o.threads = 1; /* one reader per version: opens count versions */
            model_keep(keep, all, n, false, true, from, to);
            if (!dd)
                for (int i = 0; i < n; i++)
                    keep[i] = all[i].ts && all[i].ts >= from && all[i].ts < to;
            char *want = select_lines(raw, keep, n);
            int64_t before = opens(be);
            pond_table_scan_stats st;
            char *got = read_text(fs, "/s", &o, NULL, &st);
            int64_t opened = opens(be) - before;
            PT_ASSERT_STR_EQ(got, want);
            int64_t bound = overlapping(all, n, nc, from, to);
            /* under dedup each version is opened twice: its keys first, then its rows */
            if (opened > (dd ? 2 : 1) * bound)
                printf("  day %lld dedup %d: %lld versions opened, %lld overlap\n",
                       (long long)((from - T0) / DAY_US), dd, (long long)opened, (long long)bound);
            PT_ASSERT(opened <= (dd ? 2 : 1) * bound);
            PT_ASSERT_INT_EQ(st.versions_read, bound);
            pond_free(want);
            pond_free(got);
        }
    }
    free(keep);
    pond_free(raw);
}

static int count_bytes(const void *data, size_t len, void *payload)
{
    (void)data;
    *(size_t *)payload += len;
    return 0;
}

/* pond_table_output's version count (what `pond copy` out prints): a range read counts the
 * versions it considers, those not replaced that may hold its times (recorded range overlapping
 * [from, to), or none recorded), as the full listing says; it plans once, from the stream. */
static void check_output_count(pond_fs *fs, int64_t from, int64_t to)
{
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    pond_output_result all, day;
    size_t bytes = 0;
    PT_ASSERT_OK(
        pond_table_output(&all, fs, NULL, "/s", &o, POND_OUTPUT_CSV, NULL, count_bytes, &bytes));
    o.has_range = true;
    o.from_us = from;
    o.to_us = to;
    PT_ASSERT_OK(
        pond_table_output(&day, fs, NULL, "/s", &o, POND_OUTPUT_CSV, NULL, count_bytes, &bytes));
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/s", 0));
    pond_series_version_info *vi = NULL;
    size_t nv = 0;
    PT_ASSERT_OK(pond_series_node_versions(&vi, &nv, h));
    int64_t want = 0, stored = 0;
    for (size_t i = 0; i < nv; i++) {
        if (vi[i].size == 0 || vi[i].replaced_by)
            continue;
        stored++;
        want += !vi[i].has_event_time ||
                (vi[i].max_event_time_us >= from && vi[i].min_event_time_us < to);
    }
    pond_free(vi);
    pond_fs_node_free(h);
    PT_ASSERT(all.versions > 1);
    PT_ASSERT_INT_EQ(all.versions, stored);
    PT_ASSERT_INT_EQ(day.versions, want);
    PT_ASSERT(day.versions < all.versions);
}

static void test_one_day_reads(void)
{
    int nv = pt_light() ? 60 : 400;
    pond_backend *be = counting_new();
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    static mrow all[2 * 400 * 5];
    unsigned seed = 4242;
    int n = daily_series(fs, &seed, all, 2 * 400 * 5, 0, nv, 0);
    check_days(fs, be, all, n, 0, nv, &seed);
    check_output_count(fs, T0 + 5 * DAY_US, T0 + 6 * DAY_US);
    int64_t before_txn;
    PT_ASSERT_OK(pond_fs_last_txn(&before_txn, fs));
    /* compacted: one version holds the first nv; a day then opens it, and the later ones */
    pond_series_compact_result res;
    compact(fs, "/s", &res);
    PT_ASSERT_INT_EQ(res.version, nv + 1);
    int m = daily_series(fs, &seed, all + n, 2 * 400 * 5 - n, nv, nv, nv + 1);
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.has_range = true;
    o.from_us = T0 + (int64_t)(nv + nv / 2) * DAY_US;
    o.to_us = o.from_us + DAY_US;
    o.threads = 1;
    int64_t b = opens(be);
    int64_t rows;
    pond_free(read_text(fs, "/s", &o, &rows, NULL));
    /* a day after the compacted range: the compacted version is not opened */
    PT_ASSERT(opens(be) - b <= overlapping(all + n, m, 0, o.from_us, o.to_us));
    check_days(fs, be, all, n + m, n, 2 * nv, &seed);
    check_output_count(fs, T0 + 5 * DAY_US, T0 + 6 * DAY_US);
    /* --at before the compaction: the old layout, the same rows per day */
    pond_fs *old = NULL;
    pond_fs_options fo = POND_FS_OPTIONS_INIT;
    fo.as_of_txn = before_txn;
    PT_ASSERT_OK(pond_fs_open(&old, be, &fo));
    check_days(old, be, all, n, 0, nv, &seed);
    pond_fs_free(old);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* ---- identical content: skipped when asked ---- */

static void test_skip_identical(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    mrow a[2] = {{T0, 0, 1, 1, 0}, {T0 + 1, 1, 2, 1, 1}};
    mrow b[1] = {{T0 + 2, 0, 3, 2, 0}};
    append_rows(fs, "/s", a, 2, false);
    append_rows(fs, "/s", b, 1, false);
    pond_buf bytes = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&bytes, fs, NULL, "/s")); /* version 2's Parquet */
    char host[4200];
    snprintf(host, sizeof host, "%s/v2.parquet", PT_TMPDIR());
    FILE *f = fopen(host, "wb");
    PT_ASSERT(f && fwrite(bytes.ptr, 1, bytes.size, f) == bytes.size && fclose(f) == 0);
    pond_buf_dispose(&bytes);
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/s", 0));
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.skip_identical = true;
    pond_table_write_result res;
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_table_node_write_parquet_file(&res, h, POND_ENTRY_FILE_SERIES, host, &wo));
    PT_ASSERT_INT_EQ(res.identical_to, 2);
    PT_ASSERT_INT_EQ(res.version, 0);
    pond_stat st;
    PT_ASSERT_OK(pond_fs_node_stat(&st, h));
    PT_ASSERT_INT_EQ(st.version, 2); /* nothing pending */
    wo.skip_identical = false;
    PT_ASSERT_OK(pond_table_node_write_parquet_file(&res, h, POND_ENTRY_FILE_SERIES, host, &wo));
    PT_ASSERT_INT_EQ(res.identical_to, 0);
    PT_ASSERT_INT_EQ(res.version, 3);
    PT_ASSERT_INT_EQ(res.rows, 1);
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    int64_t rows;
    char *t = read_text(fs, "/s", NULL, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, 4);
    pond_free(t);
    pond_fs_node_free(h);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* ---- an oplog pond: what one append reads does not grow with the series' history ---- */

static int g_data_opens; /* oplog data files opened (openat of *.parquet outside _delta_log) */

static int data_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    size_t n = strlen(path);
    if (n > 8 && !strcmp(path + n - 8, ".parquet") && !strstr(path, "checkpoint"))
        g_data_opens++;
    return pond_os_real()->openat(dirfd, path, flags, mode);
}

/* Day d of /s (two rows), with the identical check on as `pond copy` has it; the version the
 * series then has. */
static int64_t append_day(pond_fs *fs, int d, int64_t v)
{
    mrow r[2] = {{T0 + d * DAY_US, 0, v, 0, 0}, {T0 + d * DAY_US + DAY_US / 2, 1, -v, 0, 0}};
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.skip_identical = true;
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    int rc = write_rows_o(fs, "/s", r, 2, false, &wo);
    if (rc < 0)
        pond_fs_abort(fs);
    PT_ASSERT_OK(rc);
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/s"));
    return st.version;
}

static void reopen(pond_fs **fs, pond_backend **be, const char *dir)
{
    pond_fs_free(*fs);
    pond_backend_free(*be);
    PT_ASSERT_OK(pond_oplog_open(be, dir, NULL));
    PT_ASSERT_OK(pond_fs_open(fs, *be, NULL));
}

/* Data files a fresh handle opens for one append of the next day. */
static int append_opens(pond_fs **fs, pond_backend **be, const char *dir, int d)
{
    reopen(fs, be, dir);
    pond_os counting = *pond_os_real();
    counting.openat = data_openat;
    g_data_opens = 0;
    pond_os_set(&counting);
    pond_stat st;
    int rc = pond_fs_stat(&st, *fs, NULL, "/s");
    pond_os_set(NULL);
    PT_ASSERT_OK(rc);
    pond_os_set(&counting);
    int64_t v = append_day(*fs, d, d + 1);
    pond_os_set(NULL);
    PT_ASSERT_INT_EQ(v, st.version + 1);
    return g_data_opens;
}

/* One append of a day to an oplog series with the identical check on (what `pond copy` does):
 * the data files it opens are as many at 401 versions (light runs: 201) as at 41 (before: the
 * check listed every version, and the stat's btime read version 1, so the series' whole
 * partition was read). An identical re-import of an old day is still found, and btime is still
 * version 1's. */
static void test_append_oplog_bounded(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/pond", PT_TMPDIR());
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    PT_ASSERT_OK(pond_oplog_create(dir, &co));
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    int small = -1, d = 0, most = pt_light() ? 201 : 401;
    for (; d < most; d++) {
        if (d == 41)
            small = append_opens(&fs, &be, dir, d++);
        PT_ASSERT_INT_EQ(append_day(fs, d, d + 1), d + 1);
    }
    int large = append_opens(&fs, &be, dir, d++);
    if (getenv("POND_TEST_VERBOSE"))
        printf("one append: %d data files opened at 41 versions, %d at %d\n", small, large, most);
    if (large > small + 1 || large > 6)
        pt_fail(__FILE__, __LINE__, "one append opened %d data files at %d versions, %d at 41",
                large, most, small);
    /* an old day again, the same rows: skipped, found in the old files by its range */
    reopen(&fs, &be, dir);
    PT_ASSERT_INT_EQ(append_day(fs, 3, 4), d);
    /* the same day with other values is a new version */
    PT_ASSERT_INT_EQ(append_day(fs, 3, 5), d + 1);
    reopen(&fs, &be, dir);
    pond_stat st, *vs = NULL;
    size_t nv = 0;
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/s"));
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, fs, NULL, "/s"));
    PT_ASSERT_INT_EQ((int64_t)nv, d + 1);
    PT_ASSERT_INT_EQ(st.btime_us, vs[0].mtime_us);
    PT_ASSERT(vs[0].mtime_us < vs[nv - 1].mtime_us);
    pond_free(vs);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* ---- compaction's thread count: the same bytes at 1, 2 and 4 threads, and a version-1
 * options struct (before `threads`) still works ---- */

static void test_compact_threads(void)
{
    pond_hash want = {{0}};
    for (int t = 0; t < 4; t++) {
        pond_backend *be = NULL;
        pond_fs *fs = NULL;
        PT_ASSERT_OK(pond_backend_memory_new(&be));
        PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
        for (int v = 0; v < 5; v++) {
            mrow r[64];
            for (int i = 0; i < 64; i++)
                r[i] = (mrow){T0 + (int64_t)(v * 64 + i) * 1000000, i % 3, v * 100 + i, v, i};
            append_rows(fs, "/s", r, 64, true);
        }
        pond_series_compact_options o = POND_SERIES_COMPACT_OPTIONS_INIT;
        if (t == 3)
            o.version = 1; /* a caller built against version 1: no threads field read */
        else
            o.threads = t == 0 ? 1 : t == 1 ? 2 : 4;
        pond_series_compact_result res;
        pond_fs_node *h = NULL;
        PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/s", 0));
        PT_ASSERT_OK(pond_fs_begin(fs, NULL));
        PT_ASSERT_OK(pond_series_compact(&res, h, &o));
        PT_ASSERT_OK(pond_fs_commit(NULL, fs));
        PT_ASSERT_INT_EQ(res.rows, 5 * 64);
        pond_stat st;
        PT_ASSERT_OK(pond_fs_node_stat(&st, h));
        if (t == 0)
            want = st.sha256;
        else
            PT_ASSERT(pond_hash_equal(&st.sha256, &want));
        pond_fs_node_free(h);
        pond_fs_free(fs);
        pond_backend_free(be);
    }
}

/* ---- several writes to one series in one transaction: every write's rows are kept ---- */

static void open_env(pond_backend **be, pond_fs **fs, bool disk)
{
    if (disk) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/pond", PT_TMPDIR());
        PT_ASSERT_OK(pond_oplog_create(dir, NULL));
        PT_ASSERT_OK(pond_oplog_open(be, dir, NULL));
    } else {
        PT_ASSERT_OK(pond_backend_memory_new(be));
    }
    PT_ASSERT_OK(pond_fs_open(fs, *be, NULL));
}

static void two_writes_one_txn(bool disk)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    open_env(&be, &fs, disk);
    mrow a[2] = {{T0, 0, 1, 1, 0}, {T0 + 60000000, 1, 2, 1, 1}};
    mrow b[3] = {{T0 + 120000000, 0, 3, 2, 0}, {T0 + 30000000, 1, 4, 2, 1}, {0, -1, 5, 2, 2}};
    mrow c[1] = {{T0 + 180000000, 2, 6, 2, 0}};
    append_rows(fs, "/s", a, 2, false);
    /* a new series and an existing one, each written twice (three times) in one transaction */
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(write_rows(fs, "/s", b, 3, false));
    PT_ASSERT_OK(write_rows(fs, "/new", a, 2, false));
    PT_ASSERT_OK(write_rows(fs, "/s", c, 1, false));
    PT_ASSERT_OK(write_rows(fs, "/new", b, 3, false));
    PT_ASSERT_OK(write_rows(fs, "/new", c, 1, false));
    /* a write whose columns differ from this transaction's earlier write is refused, and the
     * earlier rows stay */
    PT_ASSERT_ERR(write_rows(fs, "/s", c, 1, true), POND_EINVALID);
    PT_ASSERT_MSG_HAS("/s");
    PT_ASSERT_MSG_HAS("same transaction");
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    int64_t rows;
    char *t = read_text(fs, "/s", NULL, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, 6); /* 2 + 3 + 1: none lost, in write order */
    const char *want_s = "ts\tk\tv\n"
                         "t1700000000000000000\t\"a\"\ti1\n"
                         "t1700000060000000000\t\"b\"\ti2\n"
                         "t1700000120000000000\t\"a\"\ti3\n"
                         "t1700000030000000000\t\"b\"\ti4\n"
                         "N\tN\ti5\n"
                         "t1700000180000000000\t\"c\"\ti6\n";
    PT_ASSERT_STR_EQ(t, want_s);
    pond_free(t);
    t = read_text(fs, "/new", NULL, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, 6);
    pond_free(t);
    /* one version per transaction, indexed with all its rows and its whole time range */
    pond_series_version_info *vi = NULL;
    size_t nv = 0;
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/s", 0));
    PT_ASSERT_OK(pond_series_node_versions(&vi, &nv, h));
    PT_ASSERT_INT_EQ(nv, 2);
    PT_ASSERT_INT_EQ(vi[1].rows, 4);
    PT_ASSERT_INT_EQ(vi[1].min_event_time_us, T0 + 30000000);
    PT_ASSERT_INT_EQ(vi[1].max_event_time_us, T0 + 180000000);
    pond_free(vi);
    /* a one-minute range read of the second version's later write finds its row */
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.has_range = true;
    o.from_us = T0 + 180000000;
    o.to_us = T0 + 180000001;
    t = read_text(fs, "/s", &o, &rows, NULL);
    PT_ASSERT_INT_EQ(rows, 1);
    pond_free(t);
    pond_fs_node_free(h);
    pond_fs_free(fs);
    pond_backend_free(be);
}

static void test_two_writes_one_txn_memory(void) { two_writes_one_txn(false); }
static void test_two_writes_one_txn_oplog(void) { two_writes_one_txn(true); }

/* What `pond copy --type series host:F /s` does, through one handle: one path walk. */
static void test_copy_walks_once(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/pond", PT_TMPDIR());
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    mrow a[2] = {{T0, 0, 1, 1, 0}, {T0 + 1, 1, 2, 1, 1}};
    append_rows(fs, "/src", a, 2, false);
    pond_buf bytes = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&bytes, fs, NULL, "/src"));
    char host[4200];
    snprintf(host, sizeof host, "%s/day.parquet", PT_TMPDIR());
    FILE *f = fopen(host, "wb");
    PT_ASSERT(f && fwrite(bytes.ptr, 1, bytes.size, f) == bytes.size && fclose(f) == 0);
    pond_buf_dispose(&bytes);
    for (int round = 0; round < 3; round++) {
        uint64_t w0 = pond_fs_path_walks(fs);
        pond_fs_node *h = NULL;
        PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/s", 0));
        pond_series_settings eff;
        PT_ASSERT_OK(pond_series_node_settings_resolve(&eff, h, NULL, NULL, NULL, 0));
        pond_series_settings_dispose(&eff);
        struct ArrowSchema sc = {0};
        if (round)
            PT_ASSERT_OK(pond_table_node_schema(&sc, h));
        pond_arrow_schema_release(&sc);
        pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
        wo.skip_identical = true;
        pond_table_write_result res;
        PT_ASSERT_OK(pond_fs_begin(fs, NULL));
        PT_ASSERT_OK(
            pond_table_node_write_parquet_file(&res, h, POND_ENTRY_FILE_SERIES, host, &wo));
        PT_ASSERT_INT_EQ(res.identical_to, round ? 1 : 0);
        if (pond_fs_txn_changes(fs))
            PT_ASSERT_OK(pond_fs_commit(NULL, fs));
        else
            pond_fs_abort(fs);
        PT_ASSERT_OK(pond_series_node_settings_get(&eff, h));
        pond_series_settings_dispose(&eff);
        pond_fs_node_free(h);
        PT_ASSERT_INT_EQ(pond_fs_path_walks(fs) - w0, 1);
    }
    pond_fs_free(fs);
    pond_backend_free(be);
}

PT_SUITE(series_index, PT_TEST(copy_walks_once), PT_TEST(index_footers_read),
         PT_TEST(one_day_reads), PT_TEST(index_unindexed_versions), PT_TEST(dedup_model),
         PT_TEST(dedup_setting), PT_TEST(compact_same_rows), PT_TEST(skip_identical),
         PT_TEST(two_writes_one_txn_memory), PT_TEST(compact_threads),
         PT_TEST(two_writes_one_txn_oplog), PT_TEST(append_oplog_bounded))
