/* pond_sql_register: the pond module on a connection the caller owns (what the loadable
 * extension does): tables name their pond, ponds are shared and closed with the connection,
 * results equal pond_sql's own, errors are SQL errors. */
#include "pt.h"
#include "sql_test.h"

#include <pond/arrow.h>
#include <pond/table.h>

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>

static void put_series(env *e, const char *path, int64_t n)
{
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "timestamp", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "g", "value", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, 2));
    pond_arrow_builder *b[2];
    PT_ASSERT_OK(pond_arrow_builder_new(&b[0], "tsu:UTC"));
    PT_ASSERT_OK(pond_arrow_builder_new(&b[1], "g"));
    for (int64_t i = 0; i < n; i++) {
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], T0 + i * STEP));
        PT_ASSERT_OK(pond_arrow_builder_append_double(b[1], (double)i / 2));
    }
    for (int k = 0; k < 2; k++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[k], b[k]));
        pond_arrow_builder_free(b[k]);
    }
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e->fs, NULL, path, POND_ENTRY_FILE_SERIES, &s, &a, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    a.release(&a);
    s.release(&s);
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        pt_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
    PT_ASSERT_INT_EQ(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        pt_fail(__FILE__, __LINE__, "%s: %s", sql, err ? err : "?");
}

static void exec_err(sqlite3 *db, const char *sql, const char *want)
{
    char *err = NULL;
    PT_ASSERT(sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK);
    if (!err || !strstr(err, want))
        pt_fail(__FILE__, __LINE__, "error '%s' lacks '%s'", err ? err : "(none)", want);
    sqlite3_free(err);
}

static void test_register_foreign_connection(void)
{
    env e;
    env_open(&e, true);
    int64_t n = pt_light() ? 500 : 5000;
    put_series(&e, "/s", n);
    put_series(&e, "/s", 10);
    sqlite3 *db;
    PT_ASSERT_INT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
    PT_ASSERT_OK(pond_sql_register(db));
    char sql[8600];
    /* two tables over one pond (opened once), one of them a single version */
    snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE a USING pond('%s', '/s')", e.dir);
    exec_ok(db, sql);
    snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE b USING pond('%s', '/s', 2)", e.dir);
    exec_ok(db, sql);
    PT_ASSERT_INT_EQ(one_int(db, "SELECT count(*) FROM a"), n + 10);
    PT_ASSERT_INT_EQ(one_int(db, "SELECT count(*) FROM b"), 10);
    /* the same answers as the pond's own SQL, range pushdown included */
    const char *q = "SELECT count(*) FROM a WHERE timestamp >= us('2024-01-01T00:01:00Z') AND "
                    "timestamp < us('2024-01-01T00:02:00Z')";
    PT_ASSERT_OK(pond_sql_attach(e.q, "a", "/s", 0));
    sqlite3_stmt *st;
    PT_ASSERT_OK(pond_sql_prepare(&st, e.q, q));
    PT_ASSERT_INT_EQ(pond_sql_step(e.q, st), 1);
    int64_t want = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    PT_ASSERT_INT_EQ(one_int(db, q), want);
    PT_ASSERT_INT_EQ(want, 60); /* version 1's second minute */
    /* values below 10: i/2 for i < 20 (version 1) and i < 10 (version 2): 95 + 22.5 */
    PT_ASSERT_INT_EQ(one_int(db, "SELECT sum(value) * 2 FROM a WHERE value < 10"), 235);
    exec_ok(db, "DROP TABLE b");
    PT_ASSERT_INT_EQ(one_int(db, "SELECT iso(0) = '1970-01-01T00:00:00Z'"), 1);
    /* errors name what is wrong */
    snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE c USING pond('%s', '/missing')", e.dir);
    exec_err(db, sql, "/missing");
    exec_err(db, "CREATE VIRTUAL TABLE c USING pond('/s')", "usage");
    snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE c USING pond('%s/nope', '/s')", e.dir);
    exec_err(db, sql, "nope");
    PT_ASSERT_INT_EQ(sqlite3_close(db), SQLITE_OK); /* closes the pond */
    env_close(&e);
}

/* pond_sql_query_stream: declared types, types from values, misfits named, empty results */
static void test_query_stream(void)
{
    env e;
    env_open(&e, false);
    put_series(&e, "/s", 100);
    PT_ASSERT_OK(pond_sql_attach(e.q, "s", "/s", 0));
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b;
    PT_ASSERT_OK(pond_sql_query_stream(&st, e.q,
                                       "SELECT timestamp, value, value * 2 AS v2, "
                                       "'x' AS t, NULL AS n, x'00ff' AS bin, 7 AS i "
                                       "FROM s WHERE value < 5"));
    PT_ASSERT_INT_EQ(st.get_schema(&st, &sc), 0);
    const char *want[] = {"tsu:UTC", "g", "g", "u", "n", "z", "l"};
    PT_ASSERT_INT_EQ(sc.n_children, 7);
    for (int k = 0; k < 7; k++)
        PT_ASSERT_STR_EQ(sc.children[k]->format, want[k]);
    PT_ASSERT_STR_EQ(sc.children[2]->name, "v2");
    PT_ASSERT_INT_EQ(st.get_next(&st, &b), 0);
    PT_ASSERT_INT_EQ(b.length, 10);
    PT_ASSERT_INT_EQ(((const int64_t *)b.children[0]->buffers[1])[3], T0 + 3 * STEP);
    PT_ASSERT(((const double *)b.children[2]->buffers[1])[4] == 4.0);
    PT_ASSERT_INT_EQ(b.children[4]->null_count, 10);
    PT_ASSERT_OK(pond_arrow_array_validate(&sc, &b));
    b.release(&b);
    PT_ASSERT_INT_EQ(st.get_next(&st, &b), 0);
    PT_ASSERT(b.release == NULL);
    sc.release(&sc);
    st.release(&st);
    /* no row: the declared types still type the columns */
    PT_ASSERT_OK(pond_sql_query_stream(&st, e.q, "SELECT timestamp, value FROM s WHERE value < 0"));
    PT_ASSERT_INT_EQ(st.get_schema(&st, &sc), 0);
    PT_ASSERT_STR_EQ(sc.children[1]->format, "g");
    PT_ASSERT_INT_EQ(st.get_next(&st, &b), 0);
    PT_ASSERT(b.release == NULL);
    sc.release(&sc);
    st.release(&st);
    /* a value after the first batch that does not fit its column: an error naming it */
    PT_ASSERT_OK(pond_sql_query_stream(&st, e.q,
                                       "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                       "FROM c WHERE i < 70000) SELECT CASE WHEN i < 66000 THEN "
                                       "i ELSE 'late' END AS v FROM c"));
    PT_ASSERT_INT_EQ(st.get_next(&st, &b), 0);
    PT_ASSERT_INT_EQ(b.length, 65536);
    b.release(&b);
    PT_ASSERT_INT_EQ(st.get_next(&st, &b), EINVAL);
    const char *m = st.get_last_error(&st);
    PT_ASSERT(m && strstr(m, "column 'v' row 66000: a TEXT value in an INTEGER column"));
    st.release(&st);
    PT_ASSERT_ERR(pond_sql_query_stream(&st, e.q, "SELECT nope FROM s"), POND_EINVALID);
    env_close(&e);
}

PT_SUITE(sql_register, PT_TEST(register_foreign_connection), PT_TEST(query_stream))
