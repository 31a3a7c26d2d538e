/* SQL over pond tables and series: results checked against brute force over the generated
 * data, pushdown checked through scan statistics. Every case runs on both backends. */
#include "pt.h"
#include "sql_test.h"

#include <pond/arrow.h>
#include <pond/oplog.h>
#include <pond/sql.h> /* also table.h (whose CSV tail sits outside its include guard) */
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include "util/util.h"

#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fixtures ---- */

/* The generated series: version v (1-based) has n rows, row i at
 * ts = T0 + ((v-1)*n + i) * STEP; value = (v*1000 + i) / 4.0, null when i % 11 == 3;
 * label = LABELS[(i + v) % 4]; k = i % 5; from version 2 on also extra = v*100 + i. */
static const char *const LABELS[] = {"alpha", "beta", "gamma", "delta"};

static int64_t g_ts(int v, int64_t n, int64_t i) { return T0 + ((v - 1) * n + i) * STEP; }
static bool g_null(int64_t i) { return i % 11 == 3; }
static double g_value(int v, int64_t i) { return (double)(v * 1000 + i) / 4.0; }
static const char *g_label(int v, int64_t i) { return LABELS[(i + v) % 4]; }

static void write_version(env *e, const char *path, int v, int64_t n, int64_t rg_rows)
{
    bool extra = v >= 2;
    int nc = extra ? 5 : 4;
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, nc));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "timestamp", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "g", "value", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[2], "u", "label", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[3], "l", "k", ARROW_FLAG_NULLABLE, 0));
    if (extra)
        PT_ASSERT_OK(pond_arrow_schema_init(s.children[4], "l", "extra", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, nc));
    static const char *const F[] = {"tsu:UTC", "g", "u", "l", "l"};
    pond_arrow_builder *b[5];
    for (int c = 0; c < nc; c++)
        PT_ASSERT_OK(pond_arrow_builder_new(&b[c], F[c]));
    for (int64_t i = 0; i < n; i++) {
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], g_ts(v, n, i)));
        if (g_null(i))
            PT_ASSERT_OK(pond_arrow_builder_append_null(b[1]));
        else
            PT_ASSERT_OK(pond_arrow_builder_append_double(b[1], g_value(v, i)));
        const char *l = g_label(v, i);
        PT_ASSERT_OK(pond_arrow_builder_append_bytes(b[2], l, strlen(l)));
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[3], i % 5));
        if (extra)
            PT_ASSERT_OK(pond_arrow_builder_append_int(b[4], v * 100 + i));
    }
    for (int c = 0; c < nc; c++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[c], b[c]));
        pond_arrow_builder_free(b[c]);
    }
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.row_group_rows = rg_rows;
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e->fs, NULL, path, POND_ENTRY_FILE_SERIES, &s, &a, &wo));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
}

static void write_series(env *e, const char *path, int nv, int64_t n, int64_t rg_rows)
{
    for (int v = 1; v <= nv; v++)
        write_version(e, path, v, n, rg_rows);
}

/* A table: k (int64) -> name (string) for k in 0..3 (k = 4 has no row). */
static void write_names_table(env *e, const char *path)
{
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "l", "k", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "u", "name", 0, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, 4, 0, 1, 2));
    pond_arrow_builder *bk, *bn;
    PT_ASSERT_OK(pond_arrow_builder_new(&bk, "l"));
    PT_ASSERT_OK(pond_arrow_builder_new(&bn, "u"));
    static const char *const NAMES[] = {"zero", "one", "two", "three"};
    for (int i = 0; i < 4; i++) {
        PT_ASSERT_OK(pond_arrow_builder_append_int(bk, i));
        PT_ASSERT_OK(pond_arrow_builder_append_bytes(bn, NAMES[i], strlen(NAMES[i])));
    }
    PT_ASSERT_OK(pond_arrow_builder_finish(a.children[0], bk));
    PT_ASSERT_OK(pond_arrow_builder_finish(a.children[1], bn));
    pond_arrow_builder_free(bk);
    pond_arrow_builder_free(bn);
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e->fs, NULL, path, POND_ENTRY_FILE_TABLE, &s, &a, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
}

/* Runs a query that returns one row and copies its columns out as int64 / double. */
static void query_row(env *e, const char *sql, int ncol, sqlite3_value **vals)
{
    sqlite3_stmt *st;
    PT_ASSERT_OK(pond_sql_prepare(&st, e->q, sql));
    PT_ASSERT_INT_EQ(pond_sql_step(e->q, st), 1);
    PT_ASSERT_INT_EQ(sqlite3_column_count(st), ncol);
    for (int k = 0; k < ncol; k++)
        vals[k] = sqlite3_value_dup(sqlite3_column_value(st, k));
    PT_ASSERT_INT_EQ(pond_sql_step(e->q, st), 0);
    sqlite3_finalize(st);
}

static void free_vals(sqlite3_value **vals, int n)
{
    for (int k = 0; k < n; k++)
        sqlite3_value_free(vals[k]);
}

static int64_t query_int(env *e, const char *sql)
{
    sqlite3_value *v;
    query_row(e, sql, 1, &v);
    PT_ASSERT_INT_EQ(sqlite3_value_type(v), SQLITE_INTEGER);
    int64_t r = sqlite3_value_int64(v);
    sqlite3_value_free(v);
    return r;
}

static bool close_to(double a, double b) { return fabs(a - b) <= 1e-9 * (fabs(a) + fabs(b) + 1); }

/* ---- aggregates ---- */

static void check_aggregates(bool disk)
{
    env e;
    env_open(&e, disk);
    const int NV = 3;
    const int64_t N = pt_light() ? 500 : 3000;
    write_series(&e, "/s", NV, N, 256);
    PT_ASSERT_OK(pond_sql_attach(e.q, "s", "/s", 0));

    int64_t cnt = 0, cnt_val = 0;
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    int64_t per_label[4] = {0};
    for (int v = 1; v <= NV; v++)
        for (int64_t i = 0; i < N; i++) {
            cnt++;
            per_label[(i + v) % 4]++;
            if (g_null(i))
                continue;
            double x = g_value(v, i);
            cnt_val++;
            sum += x;
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
        }
    sqlite3_value *r[6];
    query_row(&e,
              "SELECT count(*), count(value), sum(value), min(value), max(value), "
              "max(timestamp) - min(timestamp) FROM s",
              6, r);
    PT_ASSERT_INT_EQ(sqlite3_value_int64(r[0]), cnt);
    PT_ASSERT_INT_EQ(sqlite3_value_int64(r[1]), cnt_val);
    PT_ASSERT(close_to(sqlite3_value_double(r[2]), sum));
    PT_ASSERT(close_to(sqlite3_value_double(r[3]), mn));
    PT_ASSERT(close_to(sqlite3_value_double(r[4]), mx));
    PT_ASSERT_INT_EQ(sqlite3_value_int64(r[5]), (NV * N - 1) * STEP);
    free_vals(r, 6);

    /* GROUP BY over strings */
    sqlite3_stmt *st;
    PT_ASSERT_OK(pond_sql_prepare(&st, e.q, "SELECT label, count(*) FROM s GROUP BY label"));
    int groups = 0, rc;
    while ((rc = pond_sql_step(e.q, st)) == 1) {
        const char *l = (const char *)sqlite3_column_text(st, 0);
        int idx = -1;
        for (int k = 0; k < 4; k++)
            if (!strcmp(l, LABELS[k]))
                idx = k;
        PT_ASSERT(idx >= 0);
        PT_ASSERT_INT_EQ(sqlite3_column_int64(st, 1), per_label[idx]);
        groups++;
    }
    PT_ASSERT_INT_EQ(rc, 0);
    PT_ASSERT_INT_EQ(groups, 4);
    sqlite3_finalize(st);
    env_close(&e);
}

static void test_aggregates_memory(void) { check_aggregates(false); }
static void test_aggregates_oplog(void) { check_aggregates(true); }

/* ---- a join between a series and a table ---- */

static void check_join(bool disk)
{
    env e;
    env_open(&e, disk);
    const int64_t N = 400;
    write_series(&e, "/s", 2, N, 0);
    write_names_table(&e, "/names");
    PT_ASSERT_OK(pond_sql_attach(e.q, "s", "/s", 0));
    PT_ASSERT_OK(pond_sql_attach(e.q, "n", "/names", 0));
    /* k = 4 has no name: the inner join drops those rows */
    int64_t want[4] = {0};
    double want_sum = 0;
    for (int v = 1; v <= 2; v++)
        for (int64_t i = 0; i < N; i++)
            if (i % 5 < 4) {
                want[i % 5]++;
                if (!g_null(i) && i % 5 == 2)
                    want_sum += g_value(v, i);
            }
    sqlite3_stmt *st;
    PT_ASSERT_OK(pond_sql_prepare(&st, e.q,
                                  "SELECT n.name, count(*), sum(s.value) FROM s "
                                  "JOIN n ON s.k = n.k "
                                  "GROUP BY n.name ORDER BY n.name"));
    static const char *const ORDER[] = {"one", "three", "two", "zero"};
    static const int KEY[] = {1, 3, 2, 0};
    for (int g = 0; g < 4; g++) {
        PT_ASSERT_INT_EQ(pond_sql_step(e.q, st), 1);
        PT_ASSERT_STR_EQ((const char *)sqlite3_column_text(st, 0), ORDER[g]);
        PT_ASSERT_INT_EQ(sqlite3_column_int64(st, 1), want[KEY[g]]);
        if (KEY[g] == 2)
            PT_ASSERT(close_to(sqlite3_column_double(st, 2), want_sum));
    }
    PT_ASSERT_INT_EQ(pond_sql_step(e.q, st), 0);
    sqlite3_finalize(st);
    /* SQLite runs a join as nested loops: the inner table is scanned again for every outer
     * row, and those rescans replay kept batches instead of reading the pond again */
    pond_table_scan_stats ss, sn;
    PT_ASSERT_OK(pond_sql_table_stats(&ss, e.q, "s"));
    PT_ASSERT_OK(pond_sql_table_stats(&sn, e.q, "n"));
    PT_ASSERT(ss.versions_read <= 2); /* one pass over its two versions */
    PT_ASSERT(sn.versions_read <= 1);
    PT_ASSERT_INT_EQ(ss.rows_returned + sn.rows_returned, 2 * N + 4);
    /* a left join keeps them, with NULL names */
    PT_ASSERT_INT_EQ(query_int(&e, "SELECT count(*) FROM s LEFT JOIN n USING (k) "
                                   "WHERE n.name IS NULL"),
                     2 * (N / 5));
    env_close(&e);
}

/* Without the cache, and with one too small for the table, joins give the same answers and the
 * inner table is read again for each outer row. */
static void check_join_cache_limits(bool disk)
{
    env e;
    env_open(&e, disk);
    const int64_t N = 60;
    write_series(&e, "/s", 2, N, 0);
    write_names_table(&e, "/names");
    int64_t want = 0;
    for (int v = 1; v <= 2; v++)
        for (int64_t i = 0; i < N; i++)
            want += i % 5 < 4 ? 1 : 0;
    static const size_t LIMITS[] = {0, 100};
    for (int l = 0; l < 2; l++) {
        pond_sql *q;
        PT_ASSERT_OK(pond_sql_open(&q, e.fs));
        pond_sql_set_cache_limit(q, LIMITS[l]);
        PT_ASSERT_OK(pond_sql_attach(q, "s", "/s", 0));
        PT_ASSERT_OK(pond_sql_attach(q, "n", "/names", 0));
        sqlite3_stmt *st;
        PT_ASSERT_OK(pond_sql_prepare(&st, q, "SELECT count(*) FROM s JOIN n USING (k)"));
        PT_ASSERT_INT_EQ(pond_sql_step(q, st), 1);
        PT_ASSERT_INT_EQ(sqlite3_column_int64(st, 0), want);
        sqlite3_finalize(st);
        pond_table_scan_stats ss, sn;
        PT_ASSERT_OK(pond_sql_table_stats(&ss, q, "s"));
        PT_ASSERT_OK(pond_sql_table_stats(&sn, q, "n"));
        /* whichever is inner was read once per row of the other */
        PT_ASSERT(sn.versions_read >= 2 * N || ss.versions_read >= 2 * 4);
        pond_sql_free(q);
    }
    env_close(&e);
}

static void test_join_cache_limits_memory(void) { check_join_cache_limits(false); }
static void test_join_cache_limits_oplog(void) { check_join_cache_limits(true); }

static void test_join_memory(void) { check_join(false); }
static void test_join_oplog(void) { check_join(true); }

/* ---- time ranges against brute force ---- */

static void check_ranges(bool disk)
{
    env e;
    env_open(&e, disk);
    const int NV = 4;
    const int64_t N = 600;
    write_series(&e, "/s", NV, N, 128);
    PT_ASSERT_OK(pond_sql_attach(e.q, "s", "/s", 0));
    static const char *const OPS[][2] = {{">=", "<"}, {">", "<="}, {">=", "<="}, {">", "<"}};
    uint64_t seed = 0x9e3779b97f4a7c15u;
    int iters = pt_light() ? 12 : 40;
    for (int it = 0; it < iters; it++) {
        /* bounds from a little before the data to a little after, on and off row times */
        int64_t span = NV * N * STEP;
        int64_t a = T0 - 5 * STEP + (int64_t)(rng_next(&seed) % (uint64_t)(span + 10 * STEP));
        int64_t b = a + (int64_t)(rng_next(&seed) % (uint64_t)(span / 3));
        if (it % 3 == 0) {
            a -= a % STEP;
            b -= b % STEP;
        }
        int form = it % 6;
        char sql[512];
        const char *lo = OPS[form % 4][0], *hi = OPS[form % 4][1];
        if (form == 4)
            snprintf(sql, sizeof sql,
                     "SELECT count(*), count(value), total(value) FROM s WHERE timestamp "
                     "BETWEEN %" PRId64 " AND %" PRId64,
                     a, b);
        else if (form == 5)
            snprintf(sql, sizeof sql,
                     "SELECT count(*), count(value), total(value) FROM s "
                     "WHERE timestamp = %" PRId64,
                     a - a % STEP);
        else
            snprintf(sql, sizeof sql,
                     "SELECT count(*), count(value), total(value) FROM s "
                     "WHERE timestamp %s %" PRId64 " AND %" PRId64 " %s timestamp",
                     lo, a, b, hi[0] == '<' ? (hi[1] == '=' ? ">=" : ">") : "?");
        int64_t cnt = 0, cv = 0;
        double sum = 0;
        for (int v = 1; v <= NV; v++)
            for (int64_t i = 0; i < N; i++) {
                int64_t t = g_ts(v, N, i);
                bool in;
                if (form == 4)
                    in = t >= a && t <= b;
                else if (form == 5)
                    in = t == a - a % STEP;
                else
                    in = (lo[1] == '=' ? t >= a : t > a) && (hi[1] == '=' ? t <= b : t < b);
                if (!in)
                    continue;
                cnt++;
                if (!g_null(i)) {
                    cv++;
                    sum += g_value(v, i);
                }
            }
        sqlite3_value *r[3];
        query_row(&e, sql, 3, r);
        if (sqlite3_value_int64(r[0]) != cnt)
            pt_fail(__FILE__, __LINE__, "%s: %lld rows, want %lld", sql,
                    (long long)sqlite3_value_int64(r[0]), (long long)cnt);
        PT_ASSERT_INT_EQ(sqlite3_value_int64(r[1]), cv);
        PT_ASSERT(close_to(sqlite3_value_double(r[2]), sum));
        free_vals(r, 3);
    }
    /* a REAL bound and a bound from us('...') */
    int64_t t5 = g_ts(1, N, 5);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM s WHERE timestamp > %" PRId64 ".5", t5);
    PT_ASSERT_INT_EQ(query_int(&e, sql), NV * N - 6);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM s WHERE timestamp < %" PRId64 ".5", t5);
    PT_ASSERT_INT_EQ(query_int(&e, sql), 6);
    PT_ASSERT_INT_EQ(query_int(&e, "SELECT count(*) FROM s "
                                   "WHERE timestamp >= us('2024-01-01T00:01:00Z') "
                                   "AND timestamp < us('2024-01-01T00:02:00Z')"),
                     60);
    env_close(&e);
}

static void test_ranges_memory(void) { check_ranges(false); }
static void test_ranges_oplog(void) { check_ranges(true); }

/* ---- empty results, bad SQL ---- */

static void check_empty_and_errors(bool disk)
{
    env e;
    env_open(&e, disk);
    write_series(&e, "/s", 2, 50, 0);
    PT_ASSERT_OK(pond_sql_attach(e.q, "s", "/s", 0));
    sqlite3_stmt *st;
    PT_ASSERT_OK(pond_sql_prepare(&st, e.q, "SELECT * FROM s WHERE timestamp < 0"));
    PT_ASSERT_INT_EQ(sqlite3_column_count(st), 5);
    PT_ASSERT_INT_EQ(pond_sql_step(e.q, st), 0);
    sqlite3_finalize(st);
    PT_ASSERT_OK(pond_sql_prepare(&st, e.q, "SELECT label FROM s WHERE label = 'nope'"));
    PT_ASSERT_INT_EQ(pond_sql_step(e.q, st), 0);
    sqlite3_finalize(st);
    PT_ASSERT_OK(
        pond_sql_prepare(&st, e.q, "SELECT * FROM s WHERE timestamp > 5 AND timestamp < 3"));
    PT_ASSERT_INT_EQ(pond_sql_step(e.q, st), 0);
    sqlite3_finalize(st);
    PT_ASSERT_INT_EQ(query_int(&e, "SELECT count(*) FROM s WHERE timestamp = NULL"), 0);
    pond_table_scan_stats ss;
    PT_ASSERT_OK(pond_sql_table_stats(&ss, e.q, "s"));

    PT_ASSERT_ERR(pond_sql_prepare(&st, e.q, "SELEC 1"), POND_EINVALID);
    PT_ASSERT(st == NULL);
    PT_ASSERT_MSG_HAS("sql: near \"SELEC\": syntax error");
    PT_ASSERT_ERR(pond_sql_prepare(&st, e.q, "SELECT nope FROM s"), POND_EINVALID);
    PT_ASSERT_MSG_HAS("sql: no such column: nope");
    PT_ASSERT_ERR(pond_sql_prepare(&st, e.q, "SELECT 1 FROM missing"), POND_EINVALID);
    PT_ASSERT_MSG_HAS("no such table: missing");
    PT_ASSERT_ERR(pond_sql_prepare(&st, e.q, "SELECT 1; SELECT 2"), POND_EINVALID);
    PT_ASSERT_MSG_HAS("one statement");
    PT_ASSERT_OK(pond_sql_prepare(&st, e.q, "SELECT us('yesterday')"));
    PT_ASSERT_ERR(pond_sql_step(e.q, st), POND_EINVALID);
    PT_ASSERT_MSG_HAS("sql: ");
    sqlite3_finalize(st);
    PT_ASSERT_ERR(pond_sql_attach(e.q, "x", "/nope", 0), POND_EINVALID);
    PT_ASSERT_MSG_HAS("/nope");
    PT_ASSERT_ERR(pond_sql_attach(e.q, "s", "/s", 0), POND_EINVALID);
    PT_ASSERT_MSG_HAS("already exists");
    PT_ASSERT_ERR(pond_sql_attach(e.q, "s9", "/s", 9), POND_EINVALID);
    PT_ASSERT_MSG_HAS("no version 9");
    PT_ASSERT_ERR(pond_sql_table_stats(&ss, e.q, "missing"), POND_ENOTFOUND);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(e.fs, NULL, "/d", POND_ENTRY_NONE, "abc", 3));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    PT_ASSERT_ERR(pond_sql_attach(e.q, "d", "/d", 0), POND_EINVALID);
    PT_ASSERT_MSG_HAS("not a table or series");
    /* helper functions */
    sqlite3_value *r[3];
    query_row(&e,
              "SELECT iso(1704067200000000), us('2024-01-01T00:00:01.5Z'), "
              "time_bucket(1704067265000000, 60000000)",
              3, r);
    PT_ASSERT_STR_EQ((const char *)sqlite3_value_text(r[0]), "2024-01-01T00:00:00Z");
    PT_ASSERT_INT_EQ(sqlite3_value_int64(r[1]), INT64_C(1704067201500000));
    PT_ASSERT_INT_EQ(sqlite3_value_int64(r[2]), INT64_C(1704067260000000));
    free_vals(r, 3);
    env_close(&e);
}

static void test_empty_and_errors_memory(void) { check_empty_and_errors(false); }
static void test_empty_and_errors_oplog(void) { check_empty_and_errors(true); }

/* ---- schema evolution: "extra" exists from version 2 on ---- */

static void check_evolution(bool disk)
{
    env e;
    env_open(&e, disk);
    const int64_t N = 100;
    write_series(&e, "/s", 3, N, 0);
    PT_ASSERT_OK(pond_sql_attach(e.q, "s", "/s", 0));
    PT_ASSERT_OK(pond_sql_attach(e.q, "v1", "/s", 1));
    PT_ASSERT_OK(pond_sql_attach(e.q, "v3", "/s", 3));
    sqlite3_value *r[4];
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*), count(extra), sum(timestamp < %" PRId64 " AND extra IS NULL), "
             "sum(extra) FROM s",
             g_ts(2, N, 0));
    query_row(&e, sql, 4, r);
    PT_ASSERT_INT_EQ(sqlite3_value_int64(r[0]), 3 * N);
    PT_ASSERT_INT_EQ(sqlite3_value_int64(r[1]), 2 * N);
    PT_ASSERT_INT_EQ(sqlite3_value_int64(r[2]), N); /* every version-1 row reads NULL */
    int64_t want = 0;
    for (int v = 2; v <= 3; v++)
        for (int64_t i = 0; i < N; i++)
            want += v * 100 + i;
    PT_ASSERT_INT_EQ(sqlite3_value_int64(r[3]), want);
    free_vals(r, 4);
    /* one version: its own schema */
    sqlite3_stmt *st;
    PT_ASSERT_ERR(pond_sql_prepare(&st, e.q, "SELECT extra FROM v1"), POND_EINVALID);
    PT_ASSERT_INT_EQ(query_int(&e, "SELECT count(*) FROM v1"), N);
    snprintf(sql, sizeof sql, "SELECT min(timestamp) FROM v3");
    PT_ASSERT_INT_EQ(query_int(&e, sql), g_ts(3, N, 0));
    PT_ASSERT_INT_EQ(query_int(&e, "SELECT min(extra) FROM v3"), 300);
    env_close(&e);
}

static void test_evolution_memory(void) { check_evolution(false); }
static void test_evolution_oplog(void) { check_evolution(true); }

/* ---- pushdown: a narrow range reads only the overlapping version ---- */

static void check_pushdown(bool disk)
{
    env e;
    env_open(&e, disk);
    const int NV = 5;
    const int64_t N = 1000;
    write_series(&e, "/s", NV, N, 100); /* 10 row groups per version */
    PT_ASSERT_OK(pond_sql_attach(e.q, "s", "/s", 0));
    pond_table_scan_stats ss;

    /* rows 250..349 of version 3: inside one version, two row groups (200-299, 300-399) */
    int64_t a = g_ts(3, N, 250), b = g_ts(3, N, 350);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*), sum(k) FROM s WHERE timestamp >= %" PRId64
             " AND timestamp < %" PRId64,
             a, b);
    int64_t want_k = 0;
    for (int64_t i = 250; i < 350; i++)
        want_k += i % 5;
    sqlite3_value *r[2];
    query_row(&e, sql, 2, r);
    PT_ASSERT_INT_EQ(sqlite3_value_int64(r[0]), 100);
    PT_ASSERT_INT_EQ(sqlite3_value_int64(r[1]), want_k);
    free_vals(r, 2);
    PT_ASSERT_OK(pond_sql_table_stats(&ss, e.q, "s"));
    PT_ASSERT_INT_EQ(ss.versions_total, NV);
    PT_ASSERT_INT_EQ(ss.versions_read, 1);
    PT_ASSERT_INT_EQ(ss.row_groups_read, 2);
    PT_ASSERT_INT_EQ(ss.rows_read, 200);
    PT_ASSERT_INT_EQ(ss.rows_returned, 100);

    /* BETWEEN spanning the end of version 2 and the start of version 3 */
    pond_sql_reset_stats(e.q);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM s WHERE timestamp BETWEEN %" PRId64 " AND %" PRId64,
             g_ts(2, N, 950), g_ts(3, N, 49));
    PT_ASSERT_INT_EQ(query_int(&e, sql), 100);
    PT_ASSERT_OK(pond_sql_table_stats(&ss, e.q, "s"));
    PT_ASSERT_INT_EQ(ss.versions_read, 2);
    PT_ASSERT_INT_EQ(ss.row_groups_read, 2);

    /* the same with the bound written the other way round, and with '=' */
    pond_sql_reset_stats(e.q);
    snprintf(sql, sizeof sql, "SELECT value FROM s WHERE %" PRId64 " = timestamp", g_ts(4, N, 7));
    sqlite3_value *one;
    query_row(&e, sql, 1, &one);
    PT_ASSERT(close_to(sqlite3_value_double(one), g_value(4, 7)));
    sqlite3_value_free(one);
    PT_ASSERT_OK(pond_sql_table_stats(&ss, e.q, "s"));
    PT_ASSERT_INT_EQ(ss.versions_read, 1);
    PT_ASSERT_INT_EQ(ss.row_groups_read, 1);

    /* no time condition: everything is read */
    pond_sql_reset_stats(e.q);
    PT_ASSERT_INT_EQ(query_int(&e, "SELECT count(*) FROM s WHERE k = 1"), NV * N / 5);
    PT_ASSERT_OK(pond_sql_table_stats(&ss, e.q, "s"));
    PT_ASSERT_INT_EQ(ss.versions_read, NV);
    PT_ASSERT_INT_EQ(ss.rows_read, NV * N);

    /* a condition on a non-timestamp column (OR) is not pushed down but stays correct */
    pond_sql_reset_stats(e.q);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM s WHERE timestamp < %" PRId64 " OR k = 0",
             g_ts(1, N, 10));
    PT_ASSERT_INT_EQ(query_int(&e, sql), 10 + (NV * N / 5) - 2);
    env_close(&e);
}

/* The timestamp conditions are omitted from SQLite's own checks (the cursor applies them), so
 * every kind of value must give what SQLite gives on an ordinary table with the same rows. */
static void check_conditions_vs_native(bool disk)
{
    env e;
    env_open(&e, disk);
    const int64_t N = 300;
    write_series(&e, "/s", 3, N, 64);
    PT_ASSERT_OK(pond_sql_attach(e.q, "s", "/s", 0));
    sqlite3 *db = pond_sql_db(e.q);
    PT_ASSERT_INT_EQ(
        sqlite3_exec(db, "CREATE TEMP TABLE native AS SELECT * FROM s", NULL, NULL, NULL),
        SQLITE_OK);
    PT_ASSERT_INT_EQ(sqlite3_exec(db,
                                  "CREATE TEMP TABLE probe(t); INSERT INTO probe VALUES "
                                  "(1704067205000000), (1704067205000000.5), "
                                  "('1704067210000000'), "
                                  "(NULL), ('x'), (1704067799000000)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    int64_t t = g_ts(2, N, 17);
    char conds[40][160];
    int nc = 0;
    static const char *const OPS[] = {">", ">=", "<", "<=", "="};
    for (int o = 0; o < 5; o++) {
        snprintf(conds[nc++], 160, "timestamp %s %" PRId64, OPS[o], t);
        snprintf(conds[nc++], 160, "timestamp %s %" PRId64 ".5", OPS[o], t);
        snprintf(conds[nc++], 160, "timestamp %s %" PRId64 ".0", OPS[o], t);
        snprintf(conds[nc++], 160, "timestamp %s '%" PRId64 "'", OPS[o], t);
        snprintf(conds[nc++], 160, "timestamp %s 'abc'", OPS[o]);
        snprintf(conds[nc++], 160, "timestamp %s x'00'", OPS[o]);
        snprintf(conds[nc++], 160, "timestamp %s 1e300", OPS[o]);
    }
    snprintf(conds[nc++], 160, "timestamp < -1e300");
    snprintf(conds[nc++], 160, "timestamp > 9223372036854775807");
    snprintf(conds[nc++], 160,
             "timestamp <= 9223372036854775807 AND timestamp >= -9223372036854775808");
    snprintf(conds[nc++], 160, "timestamp IN (%" PRId64 ", %" PRId64 ", 5)", t, g_ts(3, N, 0));
    for (int i = 0; i < nc; i++) {
        char a[512], b[512];
        snprintf(a, sizeof a, "SELECT count(*), total(value) FROM s WHERE %.160s", conds[i]);
        snprintf(b, sizeof b, "SELECT count(*), total(value) FROM native WHERE %.160s", conds[i]);
        sqlite3_value *ra[2], *rb[2];
        query_row(&e, a, 2, ra);
        query_row(&e, b, 2, rb);
        if (sqlite3_value_int64(ra[0]) != sqlite3_value_int64(rb[0]))
            pt_fail(__FILE__, __LINE__, "%s: %lld rows, native %lld", conds[i],
                    (long long)sqlite3_value_int64(ra[0]), (long long)sqlite3_value_int64(rb[0]));
        PT_ASSERT(sqlite3_value_double(ra[1]) == sqlite3_value_double(rb[1]));
        free_vals(ra, 2);
        free_vals(rb, 2);
    }
    /* values from another table (a join: the bound changes per outer row) */
    static const char *const JOINS[] = {"s.timestamp = p.t", "s.timestamp > p.t",
                                        "s.timestamp <= p.t"};
    for (int i = 0; i < 3; i++) {
        char a[256], b[256];
        snprintf(a, sizeof a, "SELECT count(*) FROM probe p JOIN s ON %s", JOINS[i]);
        snprintf(b, sizeof b, "SELECT count(*) FROM probe p JOIN native s ON %s", JOINS[i]);
        int64_t ca = query_int(&e, a), cb = query_int(&e, b);
        if (ca != cb)
            pt_fail(__FILE__, __LINE__, "%s: %lld rows, native %lld", JOINS[i], (long long)ca,
                    (long long)cb);
        PT_ASSERT(ca > 0);
    }
    env_close(&e);
}

static void test_conditions_memory(void) { check_conditions_vs_native(false); }
static void test_conditions_oplog(void) { check_conditions_vs_native(true); }

static void test_pushdown_memory(void) { check_pushdown(false); }
static void test_pushdown_oplog(void) { check_pushdown(true); }

/* ---- a series whose timestamp column is a plain int64 (epoch seconds): no range pushdown,
 * SQLite filters on the raw integers ---- */

static void check_int64_timestamps(bool disk)
{
    env e;
    env_open(&e, disk);
    for (int v = 0; v < 3; v++) {
        struct ArrowSchema s;
        struct ArrowArray a;
        PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 2));
        PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "l", "ts", 0, 0));
        PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "l", "x", 0, 0));
        PT_ASSERT_OK(pond_arrow_array_init(&a, 100, 0, 1, 2));
        pond_arrow_builder *bt, *bx;
        PT_ASSERT_OK(pond_arrow_builder_new(&bt, "l"));
        PT_ASSERT_OK(pond_arrow_builder_new(&bx, "l"));
        for (int i = 0; i < 100; i++) {
            PT_ASSERT_OK(pond_arrow_builder_append_int(bt, 1704067200 + v * 100 + i));
            PT_ASSERT_OK(pond_arrow_builder_append_int(bx, v * 100 + i));
        }
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[0], bt));
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[1], bx));
        pond_arrow_builder_free(bt);
        pond_arrow_builder_free(bx);
        PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
        PT_ASSERT_OK(
            pond_table_write_batch(e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, &s, &a, NULL));
        PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
        pond_arrow_array_release(&a);
        pond_arrow_schema_release(&s);
    }
    PT_ASSERT_OK(pond_sql_attach(e.q, "s", "/s", 0));
    /* x = ts - 1704067200 for every row */
    PT_ASSERT_INT_EQ(
        query_int(&e, "SELECT sum(x) FROM s WHERE ts >= 1704067250 AND ts < 1704067260"),
        50 + 51 + 52 + 53 + 54 + 55 + 56 + 57 + 58 + 59);
    PT_ASSERT_INT_EQ(query_int(&e, "SELECT count(*) FROM s WHERE ts > 1704067200 + 298"), 1);
    pond_table_scan_stats ss;
    PT_ASSERT_OK(pond_sql_table_stats(&ss, e.q, "s"));
    PT_ASSERT_INT_EQ(ss.versions_read, 6); /* both queries read all three versions */
    env_close(&e);
}

static void test_int64_timestamps_memory(void) { check_int64_timestamps(false); }
static void test_int64_timestamps_oplog(void) { check_int64_timestamps(true); }

/* ---- types of a table ---- */

static void check_types(bool disk)
{
    env e;
    env_open(&e, disk);
    static const char *const FMT[] = {"b", "c",       "S",    "I",       "L",   "f",
                                      "z", "tss:UTC", "tsm:", "tsn:UTC", "tdD", "d:9,2"};
    const int nc = (int)POND_ARRAY_LEN(FMT);
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, nc));
    PT_ASSERT_OK(pond_arrow_array_init(&a, 2, 0, 1, nc));
    for (int c = 0; c < nc; c++) {
        char name[8];
        snprintf(name, sizeof name, "c%d", c);
        PT_ASSERT_OK(pond_arrow_schema_init(s.children[c], FMT[c], name, ARROW_FLAG_NULLABLE, 0));
        pond_arrow_builder *b;
        PT_ASSERT_OK(pond_arrow_builder_new(&b, FMT[c]));
        switch (c) {
        case 0:
            PT_ASSERT_OK(pond_arrow_builder_append_bool(b, true));
            break;
        case 1:
            PT_ASSERT_OK(pond_arrow_builder_append_int(b, -7));
            break;
        case 2:
            PT_ASSERT_OK(pond_arrow_builder_append_uint(b, 65535));
            break;
        case 3:
            PT_ASSERT_OK(pond_arrow_builder_append_uint(b, 4000000000u));
            break;
        case 4:
            PT_ASSERT_OK(pond_arrow_builder_append_uint(b, UINT64_MAX));
            break;
        case 5:
            PT_ASSERT_OK(pond_arrow_builder_append_double(b, 0.5));
            break;
        case 6:
            PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, "\x00\xff", 2));
            break;
        case 7:
            PT_ASSERT_OK(pond_arrow_builder_append_int(b, 1704067200));
            break;
        case 8:
            PT_ASSERT_OK(pond_arrow_builder_append_int(b, -1500));
            break;
        case 9:
            PT_ASSERT_OK(pond_arrow_builder_append_int(b, INT64_C(1704067200000001999)));
            break;
        case 10:
            PT_ASSERT_OK(pond_arrow_builder_append_int(b, 19723));
            break;
        default: {
            uint8_t dec[16] = {0x39, 0x30}; /* 12345 -> 123.45 */
            PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, dec, 16));
        }
        }
        PT_ASSERT_OK(pond_arrow_builder_append_null(b));
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[c], b));
        pond_arrow_builder_free(b);
    }
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e.fs, NULL, "/t", POND_ENTRY_FILE_TABLE, &s, &a, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
    PT_ASSERT_OK(pond_sql_attach(e.q, "t", "/t", 0));
    sqlite3_stmt *st;
    PT_ASSERT_OK(pond_sql_prepare(&st, e.q, "SELECT * FROM t ORDER BY rowid"));
    PT_ASSERT_INT_EQ(pond_sql_step(e.q, st), 1);
    PT_ASSERT_INT_EQ(sqlite3_column_int64(st, 0), 1);
    PT_ASSERT_INT_EQ(sqlite3_column_int64(st, 1), -7);
    PT_ASSERT_INT_EQ(sqlite3_column_int64(st, 2), 65535);
    PT_ASSERT_INT_EQ(sqlite3_column_int64(st, 3), 4000000000);
    PT_ASSERT_INT_EQ(sqlite3_column_type(st, 4), SQLITE_FLOAT);
    PT_ASSERT(sqlite3_column_double(st, 4) == 18446744073709551615.0);
    PT_ASSERT(sqlite3_column_double(st, 5) == 0.5);
    PT_ASSERT_INT_EQ(sqlite3_column_type(st, 6), SQLITE_BLOB);
    PT_ASSERT_INT_EQ(sqlite3_column_bytes(st, 6), 2);
    PT_ASSERT_MEM_EQ(sqlite3_column_blob(st, 6), "\x00\xff", 2);
    PT_ASSERT_INT_EQ(sqlite3_column_int64(st, 7), INT64_C(1704067200000000));
    PT_ASSERT_INT_EQ(sqlite3_column_int64(st, 8), -1500000);
    PT_ASSERT_INT_EQ(sqlite3_column_int64(st, 9), INT64_C(1704067200000001));
    PT_ASSERT_STR_EQ((const char *)sqlite3_column_text(st, 10), "2024-01-01");
    PT_ASSERT_STR_EQ(sqlite3_column_decltype(st, 7), "TIMESTAMP");
    PT_ASSERT_STR_EQ(sqlite3_column_decltype(st, 8), "DATETIME");
    PT_ASSERT_INT_EQ(sqlite3_column_type(st, 11), SQLITE_TEXT);
    PT_ASSERT(strstr((const char *)sqlite3_column_text(st, 11), "123.45") != NULL);
    PT_ASSERT_INT_EQ(pond_sql_step(e.q, st), 1);
    for (int c = 0; c < nc; c++)
        PT_ASSERT_INT_EQ(sqlite3_column_type(st, c), SQLITE_NULL);
    PT_ASSERT_INT_EQ(pond_sql_step(e.q, st), 0);
    sqlite3_finalize(st);
    env_close(&e);
}

static void test_types_memory(void) { check_types(false); }
static void test_types_oplog(void) { check_types(true); }

/* ---- a table's versions, and the pond as of a past transaction ---- */

static void test_table_versions_and_as_of(void)
{
    env e;
    env_open(&e, true);
    write_names_table(&e, "/t"); /* txn 1: 4 rows */
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    struct ArrowArrayStream in;
    PT_ASSERT_OK(pond_table_read_stream(&in, e.fs, NULL, "/t", NULL));
    struct ArrowSchema s;
    PT_ASSERT_INT_EQ(in.get_schema(&in, &s), 0);
    struct ArrowArray b;
    PT_ASSERT_INT_EQ(in.get_next(&in, &b), 0);
    b.length = 2; /* version 2: the first two rows */
    b.children[0]->length = 2;
    b.children[1]->length = 2;
    PT_ASSERT_OK(pond_table_write_batch(e.fs, NULL, "/t2", POND_ENTRY_FILE_TABLE, &s, &b, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e.fs, NULL, "/t", POND_ENTRY_FILE_TABLE, &s, &b, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs)); /* txn 2 */
    b.release(&b);
    s.release(&s);
    in.release(&in);
    PT_ASSERT_OK(pond_sql_attach(e.q, "latest", "/t", 0));
    PT_ASSERT_OK(pond_sql_attach(e.q, "first", "/t", 1));
    PT_ASSERT_INT_EQ(query_int(&e, "SELECT count(*) FROM latest"), 2);
    PT_ASSERT_INT_EQ(query_int(&e, "SELECT count(*) FROM first"), 4);
    PT_ASSERT_INT_EQ(query_int(&e, "SELECT count(*) FROM first JOIN latest USING (k, name)"), 2);

    /* the pond as of transaction 1: /t has one version, /t2 does not exist */
    pond_backend *be;
    pond_fs *fs;
    pond_sql *q;
    pond_oplog_options oo = POND_OPLOG_OPTIONS_INIT;
    oo.as_of_txn = 1;
    PT_ASSERT_OK(pond_oplog_open(&be, e.dir, &oo));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_sql_open(&q, fs));
    PT_ASSERT_OK(pond_sql_attach(q, "t", "/t", 0));
    PT_ASSERT(pond_sql_attach(q, "t2", "/t2", 0) < 0);
    sqlite3_stmt *st;
    PT_ASSERT_OK(pond_sql_prepare(&st, q, "SELECT count(*) FROM t"));
    PT_ASSERT_INT_EQ(pond_sql_step(q, st), 1);
    PT_ASSERT_INT_EQ(sqlite3_column_int64(st, 0), 4);
    sqlite3_finalize(st);
    pond_sql_free(q);
    pond_fs_free(fs);
    pond_backend_free(be);
    env_close(&e);
}

/* ---- allocation failures ---- */

typedef struct {
    pond_fs *fs;
} fault_arg;

static int fault_body(fault_arg *fa)
{
    pond_sql *q = NULL;
    sqlite3_stmt *st = NULL;
    int rc = pond_sql_open(&q, fa->fs);
    if (rc == 0)
        rc = pond_sql_attach(q, "t", "/t", 0);
    if (rc == 0)
        rc = pond_sql_prepare(&st, q, "SELECT name, sum(k) FROM t WHERE k > 0 GROUP BY 1");
    while (rc == 0 && (rc = pond_sql_step(q, st)) == 1)
        rc = 0;
    sqlite3_finalize(st);
    pond_sql_free(q);
    return rc;
}

static void test_alloc_faults(void)
{
    env e;
    env_open(&e, false);
    /* a table: on a series, an allocation failure inside json_loads in
     * pond_series_timestamp_column (table layer) reads as "no timestamp column" */
    write_names_table(&e, "/t");
    fault_arg fa = {e.fs};
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, fault_body, &fa);
    PT_ASSERT(steps > 5);
    env_close(&e);
}

PT_SUITE(sql, PT_TEST(aggregates_memory), PT_TEST(aggregates_oplog), PT_TEST(join_memory),
         PT_TEST(join_oplog), PT_TEST(join_cache_limits_memory), PT_TEST(join_cache_limits_oplog),
         PT_TEST(ranges_memory), PT_TEST(ranges_oplog), PT_TEST(empty_and_errors_memory),
         PT_TEST(empty_and_errors_oplog), PT_TEST(evolution_memory), PT_TEST(evolution_oplog),
         PT_TEST(pushdown_memory), PT_TEST(pushdown_oplog), PT_TEST(conditions_memory),
         PT_TEST(conditions_oplog), PT_TEST(types_memory), PT_TEST(types_oplog),
         PT_TEST(int64_timestamps_memory), PT_TEST(int64_timestamps_oplog),
         PT_TEST(table_versions_and_as_of), PT_TEST(alloc_faults))
