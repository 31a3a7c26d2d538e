/* Derived nodes: rollups against an independent GROUP BY computed by sqlite3 after every
 * append of a random sequence (nulls, NaN, gaps, out-of-order and late rows, dedup=last on the
 * source), cascades, the rows a refresh reads, creation checks, dependents, compaction. */
#include "pt.h"
#include "pt_pond.h"

#include <pond/arrow.h>
#include <pond/stream.h>
#include <pond/sys/backend.h>
#include <pond/table.h>
#include <pond/timefmt.h>
#include <pond/tinyfs.h>

#include "util/util.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_US (60LL * 1000000)
#define HOUR_US (3600LL * 1000000)
#define DAY_US (86400LL * 1000000)
#define T0 (1704067200LL * 1000000) /* 2024-01-01T00:00:00Z */

typedef struct {
    int64_t ts; /* 0: null */
    int k;      /* -1: null, else "a" + k */
    bool v_null;
    int64_t v;
    int x_kind; /* 0 value, 1 null, 2 NaN */
    double x;
} row;

/* One transaction writing rows to the series at path; returns what the write did. */
static void write_rows(pond_fs *fs, const char *path, const row *rows, int n,
                       pond_table_write_result *res);

static pond_table_write_result append(pond_fs *fs, const char *path, const row *rows, int n)
{
    pond_table_write_result res = {0};
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    write_rows(fs, path, rows, n, &res);
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    return res;
}

/* The rows in two writes of one transaction (the series keeps both, its rollups see both). */
static void append_split(pond_fs *fs, const char *path, const row *rows, int n)
{
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    write_rows(fs, path, rows, n / 2, NULL);
    write_rows(fs, path, rows + n / 2, n - n / 2, NULL);
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
}

static void write_rows(pond_fs *fs, const char *path, const row *rows, int n,
                       pond_table_write_result *res_out)
{
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 4));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "ts", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "u", "k", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[2], "l", "v", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[3], "g", "x", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, 4));
    pond_arrow_builder *b[4];
    for (int c = 0; c < 4; c++)
        PT_ASSERT_OK(pond_arrow_builder_new(&b[c], s.children[c]->format));
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        PT_ASSERT_OK(r->ts ? pond_arrow_builder_append_int(b[0], r->ts)
                           : pond_arrow_builder_append_null(b[0]));
        char k[2] = {(char)('a' + r->k), 0};
        PT_ASSERT_OK(r->k >= 0 ? pond_arrow_builder_append_bytes(b[1], k, 1)
                               : pond_arrow_builder_append_null(b[1]));
        PT_ASSERT_OK(!r->v_null ? pond_arrow_builder_append_int(b[2], r->v)
                                : pond_arrow_builder_append_null(b[2]));
        PT_ASSERT_OK(r->x_kind == 1   ? pond_arrow_builder_append_null(b[3])
                     : r->x_kind == 2 ? pond_arrow_builder_append_double(b[3], NAN)
                                      : pond_arrow_builder_append_double(b[3], r->x));
    }
    for (int c = 0; c < 4; c++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[c], b[c]));
        pond_arrow_builder_free(b[c]);
    }
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_arrow_stream_from_batches(&st, &s, &a, 1));
    pond_fs_node *h = NULL;
    pond_table_write_result res = {0};
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, path, 0));
    PT_ASSERT_OK(pond_table_node_write_stream(&res, h, POND_ENTRY_FILE_SERIES, &st, NULL));
    pond_fs_node_free(h);
    pond_arrow_schema_release(&s);
    if (res_out)
        *res_out = res;
}

static int derive(pond_fs *fs, const char *dest, const char *src, const char *every,
                  const char *aggs, const char *cols, const char *by)
{
    const char *srcs[] = {src};
    char abuf[128], cbuf[64], bbuf[64];
    const char *av[8], *cv[4], *bv[4];
    pond_derive_options o = POND_DERIVE_OPTIONS_INIT;
    o.kind = "rollup";
    o.sources = srcs;
    o.n_sources = 1;
    o.every = every;
    struct {
        const char *in;
        char *buf;
        size_t cap;
        const char **v;
        size_t *n;
    } lists[] = {{aggs, abuf, sizeof abuf, av, &o.n_aggs},
                 {cols, cbuf, sizeof cbuf, cv, &o.n_columns},
                 {by, bbuf, sizeof bbuf, bv, &o.n_by}};
    for (int l = 0; l < 3; l++) {
        if (!lists[l].in)
            continue;
        snprintf(lists[l].buf, lists[l].cap, "%s", lists[l].in);
        for (char *p = strtok(lists[l].buf, ","); p; p = strtok(NULL, ","))
            lists[l].v[(*lists[l].n)++] = p;
    }
    o.aggs = av;
    o.columns = cv;
    o.by = bv;
    return pt_derive_create(fs, dest, &o);
}

/* ---- text of a read and of the oracle: one line per row, cells tab-separated ---- */

static void cell_double(pond_buf *o, double d)
{
    if (isnan(d))
        pond_buf_puts(o, "nan");
    else
        pond_buf_printf(o, "%.17g", d);
}

static char *read_text(pond_fs *fs, const char *path, int64_t *versions)
{
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_table_read_stream(&st, fs, NULL, path, NULL));
    struct ArrowSchema s;
    PT_ASSERT_INT_EQ(st.get_schema(&st, &s), 0);
    pond_buf out = POND_BUF_INIT;
    for (;;) {
        struct ArrowArray b;
        PT_ASSERT_INT_EQ(st.get_next(&st, &b), 0);
        if (!b.release)
            break;
        for (int64_t i = 0; i < b.length; i++) {
            for (int64_t c = 0; c < s.n_children; c++) {
                const struct ArrowArray *a = b.children[c];
                const char *f = s.children[c]->format;
                int64_t j = a->offset + b.offset + i;
                if (c)
                    pond_buf_putc(&out, '\t');
                const uint8_t *valid = a->buffers[0];
                if (a->null_count && valid && !(valid[j >> 3] & (1 << (j & 7)))) {
                    pond_buf_puts(&out, "null");
                } else if (f[0] == 'g') {
                    cell_double(&out, ((const double *)a->buffers[1])[j]);
                } else if (f[0] == 'u') {
                    const int32_t *off = a->buffers[1];
                    pond_buf_put(&out, (const char *)a->buffers[2] + off[j],
                                 (size_t)(off[j + 1] - off[j]));
                } else {
                    pond_buf_printf(&out, "%lld", (long long)((const int64_t *)a->buffers[1])[j]);
                }
            }
            pond_buf_putc(&out, '\n');
        }
        b.release(&b);
    }
    s.release(&s);
    st.release(&st);
    if (versions) {
        pond_stat *vs = NULL;
        size_t n = 0;
        PT_ASSERT_OK(pond_fs_versions(&vs, &n, fs, NULL, path));
        *versions = (int64_t)n;
        pond_free(vs);
    }
    pond_buf_putc(&out, 0);
    return pond_buf_detach(&out);
}

/* The oracle: the source as the test kept it (newest row per (ts, k)) in sqlite3, and a
 * GROUP BY per bucket and k with the documented NaN rule (NaN is stored as NULL plus a
 * flag, since sqlite has no NaN): counted as a value; sum, avg and max are NaN when any value
 * is; min is NaN only when every value is. */
typedef struct {
    sqlite3 *db;
    int64_t seq;
} oracle;

static void exec(oracle *o, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(o->db, sql, NULL, NULL, &err) != SQLITE_OK)
        pt_fail(__FILE__, __LINE__, "sqlite: %s: %s", err, sql);
}

static void oracle_add(oracle *o, const row *rows, int n)
{
    sqlite3_stmt *del, *ins;
    PT_ASSERT_INT_EQ(
        sqlite3_prepare_v2(o->db, "DELETE FROM src WHERE ts = ?1 AND k IS ?2", -1, &del, NULL),
        SQLITE_OK);
    PT_ASSERT_INT_EQ(
        sqlite3_prepare_v2(o->db, "INSERT INTO src VALUES (?1, ?2, ?3, ?4, ?5)", -1, &ins, NULL),
        SQLITE_OK);
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        if (!r->ts)
            continue; /* in no bucket */
        char k[2] = {(char)('a' + r->k), 0};
        for (int s = 0; s < 2; s++) {
            sqlite3_stmt *st = s ? ins : del;
            sqlite3_bind_int64(st, 1, r->ts);
            if (r->k >= 0)
                sqlite3_bind_text(st, 2, k, 1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(st, 2);
            if (s) {
                if (r->v_null)
                    sqlite3_bind_null(st, 3);
                else
                    sqlite3_bind_int64(st, 3, r->v);
                if (r->x_kind == 0)
                    sqlite3_bind_double(st, 4, r->x);
                else
                    sqlite3_bind_null(st, 4);
                sqlite3_bind_int(st, 5, r->x_kind == 2);
            }
            PT_ASSERT_INT_EQ(sqlite3_step(st), SQLITE_DONE);
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
        }
    }
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
}

/* Expected rows of a rollup by k over v and x with aggregates aggs (a subset of
 * avg,min,max,sum,count,first,last in that order of the recipe) and buckets of width w. */
static char *oracle_text(oracle *o, int64_t w, const char *const *aggs, int n_aggs)
{
    pond_buf q = POND_BUF_INIT;
    pond_buf_printf(&q,
                    "WITH g AS (SELECT ts / %lld * %lld AS b, ts, k, v, x, xnan FROM src) "
                    "SELECT b, k",
                    (long long)w, (long long)w);
    const char *xv = "(x IS NOT NULL OR xnan)";
    const char *corr = "FROM g g2 WHERE g2.b = g.b AND g2.k IS g.k";
    for (int c = 0; c < 2; c++) {
        for (int a = 0; a < n_aggs; a++) {
            const char *ag = aggs[a];
            if (c == 0) {
                if (!strcmp(ag, "count"))
                    pond_buf_puts(&q, ", COUNT(v)");
                else if (!strcmp(ag, "first") || !strcmp(ag, "last"))
                    pond_buf_printf(&q,
                                    ", (SELECT v %s AND v IS NOT NULL ORDER BY ts %s "
                                    "LIMIT 1)",
                                    corr, ag[0] == 'f' ? "ASC" : "DESC");
                else
                    pond_buf_printf(&q, ", %s(v)", ag);
            } else {
                if (!strcmp(ag, "count"))
                    pond_buf_printf(&q, ", SUM(%s)", xv);
                else if (!strcmp(ag, "sum") || !strcmp(ag, "avg") || !strcmp(ag, "max"))
                    pond_buf_printf(&q, ", CASE WHEN SUM(xnan) > 0 THEN 'nan' ELSE %s(x) END", ag);
                else if (!strcmp(ag, "min"))
                    pond_buf_puts(&q, ", CASE WHEN MIN(x) IS NOT NULL THEN MIN(x) WHEN "
                                      "SUM(xnan) > 0 THEN 'nan' END");
                else
                    pond_buf_printf(&q,
                                    ", (SELECT CASE WHEN xnan THEN 'nan' ELSE x END %s "
                                    "AND %s ORDER BY ts %s LIMIT 1)",
                                    corr, xv, ag[0] == 'f' ? "ASC" : "DESC");
            }
        }
    }
    pond_buf_puts(&q, " FROM g GROUP BY b, k ORDER BY b, k");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(o->db, q.ptr, -1, &st, NULL) != SQLITE_OK)
        pt_fail(__FILE__, __LINE__, "sqlite: %s: %s", sqlite3_errmsg(o->db), q.ptr);
    pond_buf out = POND_BUF_INIT;
    int nc = sqlite3_column_count(st);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < nc; c++) {
            if (c)
                pond_buf_putc(&out, '\t');
            int t = sqlite3_column_type(st, c);
            /* columns of x, and avg of v, are doubles */
            int agg = c >= 2 ? (c - 2) % n_aggs : -1;
            bool dbl = c >= 2 && ((c - 2) >= n_aggs || !strcmp(aggs[agg], "avg"));
            bool cnt = agg >= 0 && !strcmp(aggs[agg], "count");
            if (t == SQLITE_NULL)
                pond_buf_puts(&out, cnt ? "0" : "null");
            else if (t == SQLITE_TEXT && c != 1)
                pond_buf_puts(&out, (const char *)sqlite3_column_text(st, c));
            else if (t == SQLITE_TEXT)
                pond_buf_puts(&out, (const char *)sqlite3_column_text(st, c));
            else if (dbl && !cnt)
                cell_double(&out, sqlite3_column_double(st, c));
            else
                pond_buf_printf(&out, "%lld", (long long)sqlite3_column_int64(st, c));
        }
        pond_buf_putc(&out, '\n');
    }
    sqlite3_finalize(st);
    pond_buf_dispose(&q);
    pond_buf_putc(&out, 0);
    return pond_buf_detach(&out);
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text sorted: a series read returns its rows in version order (a recomputed
 * bucket where its newest version has it), not in time order. */
static char *sorted_lines(char *text)
{
    size_t n = 0;
    for (char *p = text; *p; p++)
        n += *p == '\n';
    char **lines = pond_calloc(n + 1, sizeof *lines);
    size_t k = 0;
    for (char *p = text, *q; *p; p = q + 1) {
        q = strchr(p, '\n');
        *q = 0;
        lines[k++] = p;
    }
    qsort(lines, n, sizeof *lines, line_cmp);
    pond_buf out = POND_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        pond_buf_printf(&out, "%s\n", lines[i]);
    pond_buf_putc(&out, 0);
    pond_free(lines);
    pond_free(text);
    return pond_buf_detach(&out);
}

static void check(pond_fs *fs, oracle *o, const char *path, int64_t w, const char *const *aggs,
                  int n_aggs, int step)
{
    char *got = sorted_lines(read_text(fs, path, NULL));
    char *want = sorted_lines(oracle_text(o, w, aggs, n_aggs));
    if (strcmp(got, want))
        pt_fail(__FILE__, __LINE__, "%s after append %d:\n--- got\n%s--- want\n%s", path, step, got,
                want);
    pond_free(got);
    pond_free(want);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void random_rows(row *rows, int n, int64_t *hi)
{
    int mode = (int)(rnd() % 3); /* 0: after the newest, 1: late, 2: anywhere in 3 days */
    int64_t start = mode == 0 ? *hi + (int64_t)(rnd() % 180) * MIN_US
                    : mode == 1
                        ? T0 + (int64_t)(rnd() % (uint64_t)((*hi - T0) / MIN_US + 1)) * MIN_US
                        : T0 + (int64_t)(rnd() % (3 * 1440)) * MIN_US;
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        memset(r, 0, sizeof *r);
        r->ts = rnd() % 25 == 0 ? 0 : start + (int64_t)(rnd() % 240) * MIN_US;
        r->k = (int)(rnd() % 4) - 1;
        r->v_null = rnd() % 10 == 0;
        r->v = (int64_t)(rnd() % 101) - 50;
        int xk = (int)(rnd() % 20);
        r->x_kind = xk == 0 ? 1 : xk == 1 ? 2 : 0;
        r->x = ((double)(rnd() % 81) - 40) / 4; /* quarters: every sum is exact */
        if (r->ts > *hi)
            *hi = r->ts;
    }
}

static void test_rollup_oracle(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    oracle o = {0};
    PT_ASSERT_INT_EQ(sqlite3_open(":memory:", &o.db), SQLITE_OK);
    exec(&o, "CREATE TABLE src (ts INTEGER, k TEXT, v INTEGER, x REAL, xnan INTEGER)");
    row rows[64];
    int64_t hi = T0;
    random_rows(rows, 40, &hi);
    append(fs, "/s", rows, 40);
    oracle_add(&o, rows, 40);
    /* the source's own read rule: the newest row per (ts, k) */
    pond_fs_node *h = NULL;
    const char *keys[] = {"k"};
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/s", 0));
    PT_ASSERT_OK(pond_series_set_dedup(h, POND_DEDUP_LAST, keys, 1));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_node_free(h);
    static const char *const ALL[] = {"avg", "min", "max", "sum", "count", "first", "last"};
    static const char *const CASC[] = {"avg", "min", "max", "sum", "count"};
    PT_ASSERT_OK(derive(fs, "/h", "/s", "1h", "avg,min,max,sum,count,first,last", "v,x", "k"));
    PT_ASSERT_OK(derive(fs, "/d", "/h", "1d", "avg,min,max,sum,count", NULL, "k"));
    check(fs, &o, "/h", HOUR_US, ALL, 7, 0);
    check(fs, &o, "/d", DAY_US, CASC, 5, 0);
    int steps = pt_light() ? 6 : 30;
    for (int step = 1; step <= steps; step++) {
        int n = 1 + (int)(rnd() % 40);
        random_rows(rows, n, &hi);
        if (step % 3 == 0 && n > 1)
            append_split(fs, "/s", rows, n); /* two writes in one transaction */
        else
            append(fs, "/s", rows, n);
        oracle_add(&o, rows, n);
        check(fs, &o, "/h", HOUR_US, ALL, 7, step);
        check(fs, &o, "/d", DAY_US, CASC, 5, step);
    }
    sqlite3_close(o.db);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* ---- joins against a brute-force model ---- */

#define MODEL_MAX 4096
typedef struct {
    row r[MODEL_MAX]; /* every row appended, in order: the last of a timestamp wins */
    int n;
} model;

/* The latest row of m at or before t and at most tol earlier (-1: none). */
static int model_at(const model *m, int64_t t, int64_t tol)
{
    int best = -1;
    for (int i = 0; i < m->n; i++) {
        int64_t ts = m->r[i].ts;
        if (!ts || ts > t || t - ts > tol)
            continue;
        if (best < 0 || ts >= m->r[best].ts)
            best = i;
    }
    return best;
}

static int ts_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static char *model_text(const model *ms, int n, const int64_t *from, const int64_t *to, int64_t tol)
{
    int64_t *ts = pond_calloc(2 * MODEL_MAX, sizeof *ts);
    int nt = 0;
    for (int s = 0; s < n; s++)
        for (int i = 0; i < ms[s].n; i++) {
            int64_t t = ms[s].r[i].ts;
            if (t && t >= from[s] && t < to[s])
                ts[nt++] = t;
        }
    qsort(ts, (size_t)nt, sizeof *ts, ts_cmp);
    pond_buf out = POND_BUF_INIT;
    for (int i = 0; i < nt; i++) {
        if (i && ts[i] == ts[i - 1])
            continue;
        pond_buf_printf(&out, "%lld", (long long)ts[i]);
        for (int s = 0; s < n; s++) {
            int k = ts[i] >= from[s] && ts[i] < to[s] ? model_at(&ms[s], ts[i], tol) : -1;
            /* a source's rows outside its window are not read, so cannot be as-of either */
            if (k >= 0 && ms[s].r[k].ts < from[s])
                k = -1;
            if (k < 0) {
                pond_buf_puts(&out, "\tnull\tnull\tnull");
                continue;
            }
            const row *r = &ms[s].r[k];
            if (r->k >= 0)
                pond_buf_printf(&out, "\t%c", 'a' + r->k);
            else
                pond_buf_puts(&out, "\tnull");
            if (r->v_null)
                pond_buf_puts(&out, "\tnull");
            else
                pond_buf_printf(&out, "\t%lld", (long long)r->v);
            pond_buf_putc(&out, '\t');
            if (r->x_kind == 1)
                pond_buf_puts(&out, "null");
            else
                cell_double(&out, r->x_kind == 2 ? NAN : r->x);
        }
        pond_buf_putc(&out, '\n');
    }
    pond_free(ts);
    pond_buf_putc(&out, 0);
    return pond_buf_detach(&out);
}

static void test_join_oracle(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    model *ms = pond_calloc(2, sizeof *ms);
    const char *paths[] = {"/a", "/b"};
    int64_t hi = T0;
    row rows[64];
    for (int s = 0; s < 2; s++) {
        random_rows(rows, 30, &hi);
        append(fs, paths[s], rows, 30);
        memcpy(ms[s].r + ms[s].n, rows, 30 * sizeof *rows);
        ms[s].n += 30;
    }
    /* the replaced sensor: a until T0 + 1.5 days, b from T0 + 1 day; and an as-of join */
    const char *srcs[] = {"a=/a", "b=/b"};
    const char *wins[] = {"a=..2024-01-02T12:00:00Z", "b=2024-01-02.."};
    int64_t from[2] = {INT64_MIN, T0 + DAY_US}, to[2] = {T0 + DAY_US * 3 / 2, INT64_MAX};
    int64_t all_from[2] = {INT64_MIN, INT64_MIN}, all_to[2] = {INT64_MAX, INT64_MAX};
    for (int k = 0; k < 2; k++) {
        pond_derive_options o = POND_DERIVE_OPTIONS_INIT;
        o.kind = "join";
        o.sources = srcs;
        o.n_sources = 2;
        if (k == 0) {
            o.windows = wins;
            o.n_windows = 2;
        } else {
            o.tolerance_us = 5 * MIN_US;
        }
        pond_fs_node *h = NULL;
        PT_ASSERT_OK(pond_fs_begin(fs, NULL));
        PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, k ? "/asof" : "/stitched", 0));
        PT_ASSERT_OK(pond_derive_create(NULL, h, &o));
        PT_ASSERT_OK(pond_fs_commit(NULL, fs));
        pond_fs_node_free(h);
    }
    int steps = pt_light() ? 4 : 20;
    for (int step = 0; step <= steps; step++) {
        if (step > 0) {
            int s = (int)(rnd() % 2), n = 1 + (int)(rnd() % 30);
            random_rows(rows, n, &hi);
            append(fs, paths[s], rows, n);
            memcpy(ms[s].r + ms[s].n, rows, (size_t)n * sizeof *rows);
            ms[s].n += n;
        }
        for (int k = 0; k < 2; k++) {
            char *got = sorted_lines(read_text(fs, k ? "/asof" : "/stitched", NULL));
            char *want = sorted_lines(
                model_text(ms, 2, k ? all_from : from, k ? all_to : to, k ? 5 * MIN_US : 0));
            if (strcmp(got, want))
                pt_fail(__FILE__, __LINE__, "%s after append %d:\n--- got\n%s--- want\n%s",
                        k ? "/asof" : "/stitched", step, got, want);
            pond_free(got);
            pond_free(want);
        }
    }
    pond_free(ms);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* ---- a refresh reads the buckets the new rows touch, not the whole source ---- */

static void write_minutes(pond_fs *fs, pond_table_write_result *res, int64_t from, int64_t n)
{
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "ts", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "g", "v", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, 2));
    pond_arrow_builder *b[2];
    for (int c = 0; c < 2; c++)
        PT_ASSERT_OK(pond_arrow_builder_new(&b[c], s.children[c]->format));
    for (int64_t i = 0; i < n; i++) {
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], from + i * MIN_US));
        PT_ASSERT_OK(pond_arrow_builder_append_double(b[1], (double)(i % 1000) / 8));
    }
    for (int c = 0; c < 2; c++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[c], b[c]));
        pond_arrow_builder_free(b[c]);
    }
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_arrow_stream_from_batches(&st, &s, &a, 1));
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/m", 0));
    PT_ASSERT_OK(pond_table_node_write_stream(res, h, POND_ENTRY_FILE_SERIES, &st, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_node_free(h);
    pond_arrow_schema_release(&s);
}

static void test_refresh_rows_read(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    /* five years of one-minute rows (60 days under valgrind), in yearly versions */
    int64_t days = pt_light() ? 60 : 5 * 365, per = pt_light() ? 30 : 365;
    pond_table_write_result res = {0};
    for (int64_t d = 0; d < days; d += per)
        write_minutes(fs, &res, T0 + d * DAY_US, per * 1440);
    PT_ASSERT_OK(derive(fs, "/m1h", "/m", "1h", "avg,max,count", NULL, NULL));
    /* one more day: the refresh reads that day and at most a bucket around it */
    write_minutes(fs, &res, T0 + days * DAY_US, 1440);
    PT_ASSERT(res.derived_rows_read > 0);
    PT_ASSERT(res.derived_rows_read <= 2 * 1440 + 60);
    /* and the rollup holds every hour, the last day's included */
    int64_t nv = 0;
    char *t = read_text(fs, "/m1h", &nv);
    int64_t lines = 0;
    for (const char *p = t; *p; p++)
        lines += *p == '\n';
    PT_ASSERT_INT_EQ(lines, (days + 1) * 24);
    PT_ASSERT_INT_EQ(nv, 2);
    pond_free(t);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* Second buckets over a source with one row days before a dense stretch: the windows grow
 * over the empty days and shrink again (re-read) when one holds too many groups; every row
 * is counted once. */
static void test_sparse_then_dense(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    int n = pt_light() ? 20000 : 100000;
    row *rows = pond_calloc((size_t)n + 1, sizeof *rows);
    rows[0] = (row){T0 - 30 * DAY_US, 0, false, 1, 0, 0};
    for (int i = 1; i <= n; i++)
        rows[i] = (row){T0 + (int64_t)i * 1000000, 0, false, 1, 0, 0};
    append(fs, "/s", rows, n + 1);
    pond_free(rows);
    PT_ASSERT_OK(derive(fs, "/r", "/s", "1s", "count", "v", NULL));
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_table_read_stream(&st, fs, NULL, "/r", NULL));
    int64_t groups = 0, total = 0;
    for (;;) {
        struct ArrowArray b;
        PT_ASSERT_INT_EQ(st.get_next(&st, &b), 0);
        if (!b.release)
            break;
        groups += b.length;
        const int64_t *c = b.children[1]->buffers[1];
        for (int64_t i = 0; i < b.length; i++)
            total += c[b.children[1]->offset + i];
        b.release(&b);
    }
    st.release(&st);
    PT_ASSERT_INT_EQ(groups, n + 1);
    PT_ASSERT_INT_EQ(total, n + 1);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* ---- creation checks, dependents, compaction ---- */

static void test_create_checks(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    row r[3] = {{T0, 0, false, 1, 0, 1.5},
                {T0 + MIN_US, 1, false, 2, 0, 2.5},
                {T0 + HOUR_US, 0, false, 3, 0, 3.5}};
    append(fs, "/s", r, 3);
    PT_ASSERT_ERR(derive(fs, "/r", "/nope", "1h", NULL, NULL, NULL), POND_ENOTFOUND);
    PT_ASSERT_ERR(derive(fs, "/r", "/s", "1h", NULL, "zz", NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("source /s has no column 'zz'");
    PT_ASSERT_ERR(derive(fs, "/r", "/s", "1h", NULL, "k", NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("column 'k' of source /s is string");
    PT_ASSERT_ERR(derive(fs, "/r", "/s", "7m", NULL, NULL, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("bucket '7m'");
    PT_ASSERT_ERR(derive(fs, "/r", "/s", "1h", "median", NULL, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("unknown aggregate 'median'");
    PT_ASSERT_ERR(derive(fs, "/r", "/s", "1h", NULL, NULL, "zz"), POND_EINVALID);
    PT_ASSERT_OK(derive(fs, "/r", "/s", "1h", "min,max,first", NULL, "k"));
    PT_ASSERT_ERR(derive(fs, "/r", "/s", "1h", NULL, NULL, NULL), POND_EEXISTS);
    /* a cascade needs the source's sums and counts for avg, and buckets that nest */
    PT_ASSERT_ERR(derive(fs, "/d", "/r", "1d", "avg", NULL, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("source /r has no column 'v_count'");
    PT_ASSERT_OK(derive(fs, "/d", "/r", "1d", "min,max", NULL, NULL));
    PT_ASSERT_ERR(derive(fs, "/q", "/d", "1h", "min", NULL, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("does not lie within one 1h bucket");
    /* dependents, and what describe says */
    pond_fs_node *h = NULL;
    char **deps = NULL, *what = NULL;
    size_t nd = 0;
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/s", 0));
    PT_ASSERT_OK(pond_derive_dependents(&deps, &nd, h));
    PT_ASSERT_INT_EQ(nd, 1);
    PT_ASSERT_STR_EQ(deps[0], "/r");
    pond_free(deps[0]);
    pond_free(deps);
    pond_fs_node_free(h);
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/d", 0));
    PT_ASSERT_OK(pond_derive_describe(&what, h));
    PT_ASSERT_STR_EQ(what, "rollup of /r every 1d, aggregates min,max of v,x");
    pond_free(what);
    pond_fs_node_free(h);
    /* compaction of the source recomputes nothing */
    append(fs, "/s", r, 1);
    int64_t before = 0, after = 0;
    pond_free(read_text(fs, "/r", &before));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/s", 0));
    pond_series_compact_result cr;
    PT_ASSERT_OK(pond_series_compact(&cr, h, NULL));
    PT_ASSERT(cr.version > 0);
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_node_free(h);
    pond_free(read_text(fs, "/r", &after));
    PT_ASSERT_INT_EQ(after, before);
    /* a removed derived node is forgotten by the source's next write */
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_remove(fs, NULL, "/d", false));
    PT_ASSERT_OK(pond_fs_remove(fs, NULL, "/r", false));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    append(fs, "/s", r + 2, 1);
    char *x = NULL;
    PT_ASSERT_OK(pond_fs_get_xattrs(&x, fs, NULL, "/s"));
    PT_ASSERT(strstr(x, "\"pond.derived_by\":[]") != NULL);
    pond_free(x);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* One row holding only a "timestamp" column, in its own transaction (txn false: in the open
 * one); returns the write's result code. */
static int write_ts(pond_fs *fs, const char *path, int64_t t, bool txn)
{
    struct ArrowArrayStream in;
    struct ArrowSchema sc;
    struct ArrowArray a;
    pond_arrow_builder *b = NULL;
    PT_ASSERT_OK(pond_arrow_schema_init(&sc, "+s", "", 0, 1));
    PT_ASSERT_OK(pond_arrow_schema_init(sc.children[0], "tsu:UTC", "timestamp", 0, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, 1, 0, 1, 1));
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "tsu:UTC"));
    PT_ASSERT_OK(pond_arrow_builder_append_int(b, t));
    PT_ASSERT_OK(pond_arrow_builder_finish(a.children[0], b));
    pond_arrow_builder_free(b);
    PT_ASSERT_OK(pond_arrow_stream_from_batches(&in, &sc, &a, 1));
    pond_arrow_schema_release(&sc);
    if (txn)
        PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    int rc = pond_table_write_stream(NULL, fs, NULL, path, POND_ENTRY_FILE_SERIES, &in, NULL);
    if (txn)
        PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    return rc;
}

/* Two sources of a join written in one transaction: the join has one pending version, which
 * the second refresh replaces, so that refresh must recompute the first one's rows too. */
static void test_same_txn_twice(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    row r[2] = {{T0, 0, false, 1, 0, 1.5}, {T0 + 3 * HOUR_US, 1, false, 2, 0, 2.5}};
    append(fs, "/s1", r, 2);
    append(fs, "/s2", r + 1, 1);
    const char *srcs[] = {"a=/s1", "b=/s2"};
    pond_derive_options o = POND_DERIVE_OPTIONS_INIT;
    o.kind = "join";
    o.sources = srcs;
    o.n_sources = 2;
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/j", 0));
    PT_ASSERT_OK(pond_derive_create(NULL, h, &o));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_node_free(h);
    /* one transaction: a row for s1 at 00:10, then one for s2 at 05:00 */
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    for (int k = 0; k < 2; k++) {
        struct ArrowSchema sc;
        struct ArrowArray arr;
        pond_arrow_builder *bl[2];
        PT_ASSERT_OK(pond_arrow_schema_init(&sc, "+s", "", 0, 2));
        PT_ASSERT_OK(pond_arrow_schema_init(sc.children[0], "tsu:UTC", "ts", 0, 0));
        PT_ASSERT_OK(pond_arrow_schema_init(sc.children[1], "l", "v", ARROW_FLAG_NULLABLE, 0));
        PT_ASSERT_OK(pond_arrow_array_init(&arr, 1, 0, 1, 2));
        for (int c = 0; c < 2; c++)
            PT_ASSERT_OK(pond_arrow_builder_new(&bl[c], sc.children[c]->format));
        PT_ASSERT_OK(pond_arrow_builder_append_int(bl[0], k ? T0 + 5 * HOUR_US : T0 + 10 * MIN_US));
        PT_ASSERT_OK(pond_arrow_builder_append_int(bl[1], 10 + k));
        for (int c = 0; c < 2; c++) {
            PT_ASSERT_OK(pond_arrow_builder_finish(arr.children[c], bl[c]));
            pond_arrow_builder_free(bl[c]);
        }
        PT_ASSERT_OK(pond_table_write_batch(fs, NULL, k ? "/s2" : "/s1", POND_ENTRY_FILE_SERIES,
                                            &sc, &arr, NULL));
        pond_arrow_array_release(&arr);
        pond_arrow_schema_release(&sc);
    }
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    /* the join equals one made from scratch, both new rows included */
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/fresh", 0));
    PT_ASSERT_OK(pond_derive_create(NULL, h, &o));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_node_free(h);
    char *got = sorted_lines(read_text(fs, "/j", NULL));
    char *want = sorted_lines(read_text(fs, "/fresh", NULL));
    PT_ASSERT_STR_EQ(got, want);
    PT_ASSERT(strstr(got, "1704067800000000\tnull\t10\tnull\t") != NULL); /* s1's row of the txn */
    PT_ASSERT(strstr(got, "1704085200000000\tnull\tnull\tnull\tnull\t11\t") != NULL); /* s2's */
    pond_free(got);
    pond_free(want);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* A pond made elsewhere whose derived nodes depend on each other: a write fails naming the
 * cycle instead of recursing without end. */
static void test_cycle_refused(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(write_ts(fs, "/a", T0, true));
    PT_ASSERT_OK(write_ts(fs, "/b", T0, true));
    char ida[POND_NODE_ID_STRLEN + 1], idb[POND_NODE_ID_STRLEN + 1], x[512];
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/a"));
    pond_node_id_format(ida, &st.id);
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/b"));
    pond_node_id_format(idb, &st.id);
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    for (int k = 0; k < 2; k++) {
        const char *other = k ? ida : idb, *op = k ? "/a" : "/b";
        snprintf(x, sizeof x,
                 "{\"pond.timestamp_column\":\"timestamp\",\"pond.derived\":{\"kind\":\"join\","
                 "\"sources\":[{\"name\":\"o\",\"id\":\"%s\",\"path\":\"%s\"}]},"
                 "\"pond.derived_by\":[{\"id\":\"%s\",\"path\":\"%s\"}]}",
                 other, op, other, op);
        PT_ASSERT_OK(pond_fs_set_xattrs(fs, NULL, k ? "/b" : "/a", x));
    }
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_ERR(write_ts(fs, "/a", T0 + HOUR_US, false), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("depend on each other in a cycle");
    pond_fs_abort(fs);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* ---- buckets in a zone ---- */

/* A rollup's refreshes rely on its dedup=last rule by bucket and keys: no other rule is
 * set on it (the rows of each refresh would all be read), the same rule is a no-op. */
static void test_dedup_change_refused(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    row r[] = {{T0, 0, false, 1, 0, 1.0}, {T0 + MIN_US, 1, false, 2, 0, 2.0}};
    append(fs, "/s", r, 2);
    PT_ASSERT_OK(derive(fs, "/h", "/s", "1h", "sum", "v", "k"));
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/h", 0));
    PT_ASSERT_ERR(pond_series_set_dedup(h, POND_DEDUP_NONE, NULL, 0), POND_EINVALID);
    PT_ASSERT_MSG_HAS("/h is a derived node (rollup): its refreshes rely on its dedup=last");
    PT_ASSERT_ERR(pond_series_set_dedup(h, POND_DEDUP_LAST, NULL, 0), POND_EINVALID);
    const char *k[] = {"k"};
    PT_ASSERT_OK(pond_series_set_dedup(h, POND_DEDUP_LAST, k, 1));
    PT_ASSERT_INT_EQ(pond_fs_txn_changes(fs), 0);
    pond_fs_abort(fs);
    pond_fs_node_free(h);
    /* a late row still replaces its bucket's row: the rule is there */
    row late[] = {{T0 + 2 * MIN_US, 0, false, 10, 0, 1.0}};
    append(fs, "/s", late, 1);
    int64_t versions = 0;
    char *got = read_text(fs, "/h", &versions);
    PT_ASSERT(strstr(got, "\t11") != NULL);
    pond_free(got);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* The library keeps a source of derived nodes (a C API user's removal as pond rm's): refused
 * naming both, also under a recursive removal of its directory; with force it goes and the
 * rollup keeps its rows. */
static void test_remove_source(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/dir", 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    row r[] = {{T0, 0, false, 1, 0, 1.0}};
    append(fs, "/dir/s", r, 1);
    PT_ASSERT_OK(derive(fs, "/h", "/dir/s", "1h", "sum", "v", NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_ERR(pond_derive_remove(fs, NULL, "/dir/s", false, false), POND_EINVALID);
    PT_ASSERT_MSG_HAS("/dir/s is a source of /h: remove it first, or use --force");
    PT_ASSERT_ERR(pond_derive_remove(fs, NULL, "/dir", true, false), POND_EINVALID);
    PT_ASSERT_MSG_HAS("/dir/s is a source of /h");
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/dir/s"));
    PT_ASSERT_OK(pond_derive_remove(fs, NULL, "/dir", true, true));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    PT_ASSERT_ERR(pond_fs_stat(&st, fs, NULL, "/dir/s"), POND_ENOTFOUND);
    char *got = read_text(fs, "/h", NULL);
    PT_ASSERT_STR_EQ(got, "1704067200000000\t1\n");
    pond_free(got);
    pond_fs_free(fs);
    pond_backend_free(be);
}

/* A read of a stale manual rollup computes it from its sources now, with the read's range
 * and the rollup's dedup rule, and writes nothing; a refresh then stores the same rows. */
static void test_stale_read_computes(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    row r[] = {{T0, 0, false, 1, 0, 1.0}, {T0 + HOUR_US, 0, false, 2, 0, 1.0}};
    append(fs, "/s", r, 2);
    const char *srcs[] = {"/s"}, *aggs[] = {"sum"}, *cols[] = {"v"};
    pond_derive_options o = POND_DERIVE_OPTIONS_INIT;
    o.kind = "rollup";
    o.sources = srcs;
    o.n_sources = 1;
    o.every = "1h";
    o.aggs = aggs;
    o.n_aggs = 1;
    o.columns = cols;
    o.n_columns = 1;
    o.refresh_manual = true;
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open(&h, fs, NULL, "/h", 0));
    PT_ASSERT_OK(pond_derive_create(NULL, h, &o));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    /* late data into the first hour, a new third hour: stale */
    row more[] = {{T0 + MIN_US, 0, false, 10, 0, 1.0}, {T0 + 2 * HOUR_US, 0, false, 5, 0, 1.0}};
    append(fs, "/s", more, 2);
    bool stale = false;
    PT_ASSERT_OK(pond_derive_stale(&stale, h));
    PT_ASSERT(stale);
    int64_t txn = 0, txn2 = 0, nv = 0, nv2 = 0;
    PT_ASSERT_OK(pond_fs_last_txn(&txn, fs));
    char *got = read_text(fs, "/h", &nv);
    PT_ASSERT_STR_EQ(got, "1704067200000000\t11\n1704070800000000\t2\n1704074400000000\t5\n");
    pond_free(got);
    /* a range read applies to the computed rows */
    struct ArrowArrayStream st;
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.has_range = true;
    ro.from_us = T0 + HOUR_US;
    ro.to_us = T0 + 2 * HOUR_US;
    PT_ASSERT_OK(pond_table_node_read_stream(&st, h, &ro));
    int64_t rows = 0;
    for (;;) {
        struct ArrowArray b;
        PT_ASSERT_INT_EQ(st.get_next(&st, &b), 0);
        if (!b.release)
            break;
        rows += b.length;
        b.release(&b);
    }
    st.release(&st);
    PT_ASSERT_INT_EQ(rows, 1);
    /* nothing was written: no transaction, no version */
    PT_ASSERT_OK(pond_fs_last_txn(&txn2, fs));
    PT_ASSERT_INT_EQ(txn2, txn);
    pond_free(read_text(fs, "/s", NULL));
    got = read_text(fs, "/h", &nv2);
    PT_ASSERT_INT_EQ(nv2, nv);
    pond_free(got);
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_derive_refresh(NULL, h));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    got = read_text(fs, "/h", NULL);
    PT_ASSERT_STR_EQ(got, "1704067200000000\t11\n1704070800000000\t2\n1704074400000000\t5\n");
    pond_free(got);
    pond_fs_node_free(h);
    pond_fs_free(fs);
    pond_backend_free(be);
}

static void test_buckets(void)
{
    pond__bucket b;
    pond_tz *tz = NULL;
    int64_t t;
    PT_ASSERT_OK(pond__bucket_parse(&b, "1d"));
    PT_ASSERT_OK(pond_tz_open(&tz, "Europe/Berlin"));
    b.tz = tz;
    /* 2024-03-31 is 23 hours long in Berlin: it starts 2024-03-30T23:00Z, the next day
     * 2024-03-31T22:00Z */
    PT_ASSERT_OK(pond_time_parse(&t, "2024-03-31T12:00:00Z", 20));
    int64_t s = pond__bucket_floor(&b, t), want;
    PT_ASSERT_OK(pond_time_parse(&want, "2024-03-30T23:00:00Z", 20));
    PT_ASSERT_INT_EQ(s, want);
    PT_ASSERT_OK(pond_time_parse(&want, "2024-03-31T22:00:00Z", 20));
    PT_ASSERT_INT_EQ(pond__bucket_next(&b, s), want);
    PT_ASSERT_OK(pond__bucket_parse(&b, "1w"));
    PT_ASSERT_OK(pond_time_parse(&t, "2024-01-07T23:59:59Z", 20)); /* a Sunday */
    PT_ASSERT_OK(pond_time_parse(&want, "2024-01-01T00:00:00Z", 20));
    PT_ASSERT_INT_EQ(pond__bucket_floor(&b, t), want);
    PT_ASSERT_OK(pond__bucket_parse(&b, "1mo"));
    PT_ASSERT_OK(pond_time_parse(&t, "2024-02-29T10:00:00Z", 20));
    PT_ASSERT_OK(pond_time_parse(&want, "2024-03-01T00:00:00Z", 20));
    PT_ASSERT_INT_EQ(pond__bucket_next(&b, pond__bucket_floor(&b, t)), want);
    PT_ASSERT_OK(pond__bucket_parse(&b, "15m"));
    PT_ASSERT_INT_EQ(pond__bucket_floor(&b, -1), -15 * MIN_US);
    PT_ASSERT_ERR(pond__bucket_parse(&b, "2d"), POND_EINVALID);
    pond_tz_free(tz);
}

PT_SUITE(derived, PT_TEST(rollup_oracle), PT_TEST(join_oracle), PT_TEST(refresh_rows_read),
         PT_TEST(sparse_then_dense), PT_TEST(create_checks), PT_TEST(same_txn_twice),
         PT_TEST(cycle_refused), PT_TEST(dedup_change_refused), PT_TEST(remove_source),
         PT_TEST(stale_read_computes), PT_TEST(buckets))
