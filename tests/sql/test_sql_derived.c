/* sql recipes (docs/derived.md): a derived node holding the rows of a query over named
 * sources equals the query run directly over the sources, after every append of a random
 * sequence (rows the query drops later included), through the C API on both backends; a
 * rollup over a sql node follows it; the version a recompute writes replaces every earlier
 * one without the index growing; creation errors name the query. */
#include "sql/sql_test.h"
#include "pt_pond.h"

#include <pond/arrow.h>
#include <pond/rows.h>
#include <pond/table.h>

#include <time.h>

#define HOUR INT64_C(3600000000)

/* One transaction appending n rows (ts, k, v) to the series at path (aborted on failure). */
static int append_rc(pond_fs *fs, const char *path, const int64_t *ts, const int *k,
                     const int64_t *v, int n)
{
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 3));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "ts", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "u", "k", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[2], "l", "v", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, 3));
    pond_arrow_builder *b[3];
    for (int c = 0; c < 3; c++)
        PT_ASSERT_OK(pond_arrow_builder_new(&b[c], s.children[c]->format));
    for (int i = 0; i < n; i++) {
        char kk[2] = {(char)('a' + k[i]), 0};
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], ts[i]));
        PT_ASSERT_OK(pond_arrow_builder_append_bytes(b[1], kk, 1));
        PT_ASSERT_OK(v[i] < 0 ? pond_arrow_builder_append_null(b[2])
                              : pond_arrow_builder_append_int(b[2], v[i]));
    }
    for (int c = 0; c < 3; c++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[c], b[c]));
        pond_arrow_builder_free(b[c]);
    }
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_arrow_stream_from_batches(&st, &s, &a, 1));
    pond_arrow_schema_release(&s);
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    int rc = pond_table_write_stream(NULL, fs, NULL, path, POND_ENTRY_FILE_SERIES, &st, NULL);
    if (rc == 0)
        rc = pond_fs_commit(NULL, fs);
    else
        pond_fs_abort(fs);
    return rc;
}

static void append(pond_fs *fs, const char *path, const int64_t *ts, const int *k, const int64_t *v,
                   int n)
{
    PT_ASSERT_OK(append_rc(fs, path, ts, k, v, n));
}

static int derive(pond_fs *fs, const char *kind, const char *dest, const char *const *srcs,
                  size_t n, const char *sql, const char *every)
{
    pond_derive_options o = POND_DERIVE_OPTIONS_INIT;
    o.kind = kind;
    o.sources = srcs;
    o.n_sources = n;
    o.sql = sql;
    o.every = every;
    static const char *const aggs[] = {"sum", "count"};
    if (every) {
        o.aggs = aggs;
        o.n_aggs = 2;
    }
    return pt_derive_create(fs, dest, &o);
}

static int buf_sink(const void *data, size_t len, void *payload)
{
    return pond_buf_put(payload, data, len);
}

/* The CSV of sql over the tables "NAME=PATH" of binds, with a fresh pond_sql (an attached
 * table is a snapshot of its first scan). */
static char *run(pond_fs *fs, const char *sql, const char *const *binds, size_t n)
{
    pond_sql *q = NULL;
    PT_ASSERT_OK(pond_sql_open(&q, fs));
    for (size_t i = 0; i < n; i++) {
        char *name = NULL, *path = NULL;
        int64_t v;
        PT_ASSERT_OK(pond_sql_binding_parse(&name, &path, &v, binds[i]));
        PT_ASSERT_OK(pond_sql_attach(q, name, path, v));
        pond_free(name);
        pond_free(path);
    }
    pond_buf out = POND_BUF_INIT;
    PT_ASSERT_OK(pond_sql_output(NULL, q, sql, POND_ROWS_CSV, NULL, buf_sink, &out));
    pond_buf_putc(&out, 0);
    pond_sql_free(q);
    return pond_buf_detach(&out);
}

/* A view that drops rows as the sources grow (those below the average so far), a join of
 * two sources with duplicate timestamps, and a rollup over the first view. */
static const char VIEW_SQL[] =
    "SELECT ts AS timestamp, k, v FROM a WHERE v >= (SELECT avg(v) FROM a)";
static const char JOIN_SQL[] = "SELECT a.ts AS timestamp, a.k, a.v AS av, b.v AS bv FROM a "
                               "JOIN b ON a.k = b.k AND a.ts / 3600000000 = b.ts / 3600000000";

static void check_equal(pond_fs *fs, int step)
{
    static const char *const ab[] = {"a=/a", "b=/b"};
    static const char *const v[] = {"v=/view"}, *const j[] = {"j=/joined"}, *const r[] = {"r=/r"};
    char want_sql[512];
    snprintf(want_sql, sizeof want_sql, "SELECT * FROM (%s) ORDER BY 1, 2, 3", VIEW_SQL);
    char *want = run(fs, want_sql, ab, 2), *got = run(fs, "SELECT * FROM v ORDER BY 1, 2, 3", v, 1);
    if (strcmp(want, got))
        printf("step %d: view\n", step);
    PT_ASSERT_STR_EQ(got, want);
    pond_free(want);
    pond_free(got);
    snprintf(want_sql, sizeof want_sql, "SELECT * FROM (%s) ORDER BY 1, 2, 3, 4", JOIN_SQL);
    want = run(fs, want_sql, ab, 2);
    got = run(fs, "SELECT * FROM j ORDER BY 1, 2, 3, 4", j, 1);
    if (strcmp(want, got))
        printf("step %d: join\n", step);
    PT_ASSERT_STR_EQ(got, want);
    pond_free(want);
    pond_free(got);
    /* the rollup of the view: buckets whose rows the view dropped are gone too */
    want = run(fs,
               "SELECT timestamp / 3600000000 * 3600000000 AS t, sum(v) AS v_sum, "
               "count(v) AS v_count FROM v GROUP BY 1 ORDER BY 1",
               v, 1);
    got = run(fs, "SELECT timestamp + 0 AS t, v_sum, v_count FROM r ORDER BY 1", r, 1);
    if (strcmp(want, got))
        printf("step %d: rollup of the view\n", step);
    PT_ASSERT_STR_EQ(got, want);
    pond_free(want);
    pond_free(got);
}

static void check_matches_query(bool disk)
{
    env e;
    env_open(&e, disk);
    pond_sql_derive_register();
    uint64_t seed = disk ? 7 : 11;
    int64_t ts[8], v[8];
    int k[8];
    for (int i = 0; i < 4; i++) {
        ts[i] = T0 + (int64_t)i * HOUR / 2;
        k[i] = i % 2;
        v[i] = 10 + i;
    }
    append(e.fs, "/a", ts, k, v, 4);
    append(e.fs, "/b", ts, k, v, 4);
    static const char *const ab[] = {"a=/a", "b=/b"}, *const only_a[] = {"a=/a"};
    static const char *const view[] = {"/view"};
    PT_ASSERT_OK(derive(e.fs, "sql", "/view", only_a, 1, VIEW_SQL, NULL));
    PT_ASSERT_OK(derive(e.fs, "sql", "/joined", ab, 2, JOIN_SQL, NULL));
    PT_ASSERT_OK(derive(e.fs, "rollup", "/r", view, 1, NULL, "1h"));
    check_equal(e.fs, 0);
    for (int step = 1; step <= 12; step++) {
        int n = 1 + (int)(rng_next(&seed) % 8);
        for (int i = 0; i < n; i++) {
            /* late rows into old hours, new hours, repeated timestamps, nulls */
            ts[i] = T0 + (int64_t)(rng_next(&seed) % 24) * HOUR / 4;
            k[i] = (int)(rng_next(&seed) % 3);
            v[i] = rng_next(&seed) % 7 == 0 ? -1 : (int64_t)(rng_next(&seed) % 40);
        }
        append(e.fs, step % 3 ? "/a" : "/b", ts, k, v, n);
        check_equal(e.fs, step);
    }
    /* both sources in one transaction: /joined is recomputed twice in it, the second time
     * replacing the first's pending version (not merged with it) */
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    for (int s = 0; s < 2; s++) {
        ts[0] = T0 + 30 * HOUR + s * 60 * STEP; /* one hour, one key: they join */
        v[0] = 35;
        struct ArrowSchema sch;
        struct ArrowArray a;
        PT_ASSERT_OK(pond_arrow_schema_init(&sch, "+s", "", 0, 3));
        PT_ASSERT_OK(pond_arrow_schema_init(sch.children[0], "tsu:UTC", "ts", 0, 0));
        PT_ASSERT_OK(pond_arrow_schema_init(sch.children[1], "u", "k", ARROW_FLAG_NULLABLE, 0));
        PT_ASSERT_OK(pond_arrow_schema_init(sch.children[2], "l", "v", ARROW_FLAG_NULLABLE, 0));
        PT_ASSERT_OK(pond_arrow_array_init(&a, 1, 0, 1, 3));
        pond_arrow_builder *b[3];
        for (int c = 0; c < 3; c++)
            PT_ASSERT_OK(pond_arrow_builder_new(&b[c], sch.children[c]->format));
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], ts[0]));
        PT_ASSERT_OK(pond_arrow_builder_append_bytes(b[1], "a", 1));
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[2], v[0]));
        for (int c = 0; c < 3; c++) {
            PT_ASSERT_OK(pond_arrow_builder_finish(a.children[c], b[c]));
            pond_arrow_builder_free(b[c]);
        }
        PT_ASSERT_OK(pond_table_write_batch(e.fs, NULL, s ? "/b" : "/a", POND_ENTRY_FILE_SERIES,
                                            &sch, &a, NULL));
        pond_arrow_array_release(&a);
        pond_arrow_schema_release(&sch);
    }
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    check_equal(e.fs, 13);
    /* each recompute replaced every earlier version: one entry in the index, whatever the
     * number of refreshes, and only the newest version is read */
    pond_fs_node *h = NULL;
    pond_series_version_info *vi = NULL;
    size_t nv = 0;
    PT_ASSERT_OK(pond_fs_node_open(&h, e.fs, NULL, "/view", 0));
    PT_ASSERT_OK(pond_series_node_versions(&vi, &nv, h));
    PT_ASSERT(nv >= 9); /* creation and the 8 appends to /a */
    size_t live = 0;
    for (size_t i = 0; i < nv; i++)
        live += vi[i].size > 0 && !vi[i].replaced_by;
    PT_ASSERT_INT_EQ(live, 1);
    char *x = NULL;
    PT_ASSERT_OK(pond_fs_node_get_xattrs(&x, h));
    const char *c = strstr(x, "\"pond.compactions\"");
    PT_ASSERT(c != NULL);
    PT_ASSERT(strstr(c + 1, "[") && !strstr(strstr(c, "]") + 1, "],[")); /* one entry */
    pond_free(x);
    char *d = NULL;
    PT_ASSERT_OK(pond_derive_describe(&d, h));
    PT_ASSERT(strstr(d, "sql of /a as a: SELECT ts AS timestamp") != NULL);
    pond_free(d);
    pond_free(vi);
    pond_fs_node_free(h);
    env_close(&e);
}

static void test_matches_query_memory(void) { check_matches_query(false); }
static void test_matches_query_oplog(void) { check_matches_query(true); }

/* Errors at creation name the query and what is wrong; nothing is created. */
static void test_create_errors(void)
{
    env e;
    env_open(&e, false);
    pond_sql_derive_register();
    int64_t ts[] = {T0}, v[] = {1};
    int k[] = {0};
    append(e.fs, "/a", ts, k, v, 1);
    static const char *const a[] = {"a=/a"};
    PT_ASSERT_INT_EQ(derive(e.fs, "sql", "/x", a, 1, "SELECT k, v FROM a", NULL), POND_EINVALID);
    PT_ASSERT(strstr(pond_error_last()->message, "'SELECT k, v FROM a': its result has no "
                                                 "timestamp column") != NULL);
    PT_ASSERT(strstr(pond_error_last()->message, "it has: k, v") != NULL);
    PT_ASSERT_INT_EQ(derive(e.fs, "sql", "/x", a, 1, "SELECT ts FROM nope", NULL), POND_EINVALID);
    PT_ASSERT(strstr(pond_error_last()->message, "SELECT ts FROM nope") != NULL);
    PT_ASSERT(strstr(pond_error_last()->message, "no such table: nope") != NULL);
    PT_ASSERT_INT_EQ(derive(e.fs, "sql", "/x", a, 1, NULL, NULL), POND_EINVALID);
    PT_ASSERT_INT_EQ(derive(e.fs, "rollup", "/x", a, 1, "SELECT 1", "1h"), POND_EINVALID);
    pond_stat st;
    PT_ASSERT_INT_EQ(pond_fs_stat(&st, e.fs, NULL, "/x"), POND_ENOTFOUND);
    /* without the SQL layer's evaluator: refused, saying why; writes to a source too */
    PT_ASSERT_OK(derive(e.fs, "sql", "/ok", a, 1, "SELECT ts, v FROM a", NULL));
    pond_derive_set_sql_evaluator(NULL);
    PT_ASSERT_INT_EQ(derive(e.fs, "sql", "/y", a, 1, "SELECT ts FROM a", NULL), POND_EUNSUPPORTED);
    PT_ASSERT(strstr(pond_error_last()->message, "pond_sql_derive_register") != NULL);
    PT_ASSERT_INT_EQ(append_rc(e.fs, "/a", ts, k, v, 1), POND_EUNSUPPORTED);
    PT_ASSERT(strstr(pond_error_last()->message, "/ok") != NULL);
    pond_sql_derive_register();
    PT_ASSERT_OK(append_rc(e.fs, "/a", ts, k, v, 1));
    char *got = NULL;
    static const char *const ok[] = {"ok=/ok"};
    got = run(e.fs, "SELECT count(*) FROM ok", ok, 1);
    PT_ASSERT(strstr(got, "\n2") != NULL); /* the row written while it was refused is gone */
    pond_free(got);
    env_close(&e);
}

/* A recipe from a pond someone sent runs whenever a source is written: a query that never
 * ends is stopped by the time limit, and one that would do more than read is refused. */
static void test_hostile_recipes(void)
{
    env e;
    env_open(&e, false);
    pond_sql_derive_register();
    pond_sql_derive_set_time_limit(200);
    int64_t ts[] = {T0}, v[] = {1};
    int k[] = {0};
    append(e.fs, "/a", ts, k, v, 1);
    static const char *const a[] = {"a=/a"};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    PT_ASSERT_INT_EQ(derive(e.fs, "sql", "/x", a, 1,
                            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                            "SELECT ts + (SELECT max(x) FROM c) AS ts FROM a",
                            NULL),
                     POND_EINVALID);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    PT_ASSERT_MSG_HAS("ran longer than its limit of 200 ms");
    PT_ASSERT(t1.tv_sec - t0.tv_sec < 30);
    PT_ASSERT_INT_EQ(
        derive(e.fs, "sql", "/x", a, 1, "SELECT ts, load_extension('/tmp/x.so') AS y FROM a", NULL),
        POND_EINVALID);
    PT_ASSERT_MSG_HAS("not authorized");
    PT_ASSERT_INT_EQ(derive(e.fs, "sql", "/x", a, 1, "SELECT ts FROM a; DELETE FROM a", NULL),
                     POND_EINVALID);
    pond_stat st;
    PT_ASSERT_INT_EQ(pond_fs_stat(&st, e.fs, NULL, "/x"), POND_ENOTFOUND);
    /* an ordinary recipe still works under the limit */
    PT_ASSERT_OK(derive(e.fs, "sql", "/ok", a, 1, "SELECT ts, v * 2 AS w FROM a", NULL));
    pond_sql_derive_set_time_limit(0); /* back to the default */
    env_close(&e);
}

PT_SUITE(sql_derived, PT_TEST(matches_query_memory), PT_TEST(matches_query_oplog),
         PT_TEST(create_errors), PT_TEST(hostile_recipes))
