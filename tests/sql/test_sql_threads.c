/* SQL scans on several decoding threads (pond_sql_set_threads): every result is the same as on
 * one thread, to the last bit (the fast path still sums in row order), on both backends. */
#include "pt.h"
#include "sql_test.h"

#include <pond/arrow.h>

#include "util/util.h"

#include <sqlite3.h>

/* Version v of /s: n rows of ts, x (double, some NULL), y (int64), tag, in rg_rows row groups
 * large enough (> 512 KiB of x and y, outside light runs) to be decoded on the reader's
 * threads: a single one by columns, several ahead. */
static void write_version(env *e, int v, int64_t n, int64_t rg_rows)
{
    static const char *const F[] = {"tsu:UTC", "g", "l", "u"};
    static const char *const N[] = {"ts", "x", "y", "tag"};
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 4));
    for (int c = 0; c < 4; c++)
        PT_ASSERT_OK(
            pond_arrow_schema_init(s.children[c], F[c], N[c], c ? ARROW_FLAG_NULLABLE : 0, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, 4));
    pond_arrow_builder *b[4];
    for (int c = 0; c < 4; c++)
        PT_ASSERT_OK(pond_arrow_builder_new(&b[c], F[c]));
    uint64_t r = 0x9e3779b97f4a7c15u + (uint64_t)v;
    for (int64_t i = 0; i < n; i++) {
        uint64_t x = rng_next(&r);
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], T0 + ((v - 1) * n + i) * STEP));
        if (x % 13 == 0)
            PT_ASSERT_OK(pond_arrow_builder_append_null(b[1]));
        else /* values whose sum depends on the order of summation */
            PT_ASSERT_OK(pond_arrow_builder_append_double(b[1], (double)(x >> 11) * 0x1p-40 - 1e3));
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[2], (int64_t)(x >> 40) - (1 << 23)));
        char t[8];
        int len = snprintf(t, sizeof t, "t%d", (int)(x % 16));
        PT_ASSERT_OK(pond_arrow_builder_append_bytes(b[3], t, (size_t)len));
    }
    for (int c = 0; c < 4; c++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[c], b[c]));
        pond_arrow_builder_free(b[c]);
    }
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.row_group_rows = rg_rows;
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e->fs, NULL, "/s", POND_ENTRY_FILE_SERIES, &s, &a, &wo));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
}

/* Every row of every query, as text, with doubles to 17 digits. */
static void run_all(pond_buf *out, env *e, const char *const *queries, int nq)
{
    for (int k = 0; k < nq; k++) {
        sqlite3_stmt *st;
        PT_ASSERT_OK(pond_sql_prepare(&st, e->q, queries[k]));
        int rc;
        while ((rc = pond_sql_step(e->q, st)) == 1) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                char cell[64];
                if (sqlite3_column_type(st, c) == SQLITE_FLOAT)
                    snprintf(cell, sizeof cell, "%.17g|", sqlite3_column_double(st, c));
                else
                    snprintf(cell, sizeof cell, "%s|", (const char *)sqlite3_column_text(st, c));
                PT_ASSERT_OK(pond_buf_puts(out, cell));
            }
            PT_ASSERT_OK(pond_buf_puts(out, "\n"));
        }
        PT_ASSERT_INT_EQ(rc, 0);
        sqlite3_finalize(st);
    }
}

static void check_threads_same_results(bool disk)
{
    const int64_t n = pt_light() ? 8000 : 80000;
    char range[256];
    snprintf(range, sizeof range,
             "SELECT count(*), sum(x), avg(x), min(y), max(y) FROM s "
             "WHERE ts BETWEEN %lld AND %lld",
             (long long)(T0 + n / 2 * STEP), (long long)(T0 + (n + n / 3) * STEP));
    const char *const queries[] = {
        "SELECT count(*), sum(x), avg(x), total(x), min(x), max(x), sum(y), count(x) FROM s",
        range,
        "SELECT count(*), sum(x) FROM s WHERE x > 0 AND y < 1000", /* fast path, conditions */
        "SELECT tag, count(*), sum(x), max(y) FROM s GROUP BY tag ORDER BY tag", /* SQLite */
        "SELECT sum(x * 2), count(*) FROM s WHERE tag = 't3'",                   /* SQLite */
        /* scans SQLite abandons mid-way: their workers stop, their buffers serve the next */
        "SELECT ts, x, tag FROM s LIMIT 5",
        "SELECT x FROM s WHERE y > 0 LIMIT 3 OFFSET 1000",
    };
    env e;
    env_open(&e, disk);
    for (int v = 1; v <= 3; v++)
        write_version(&e, v, n, v == 1 ? n : n / 2);
    pond_buf want = POND_BUF_INIT;
    for (int threads = 1; threads <= 4; threads += threads < 2 ? 1 : 2) { /* 1, 2, 4 */
        pond_sql_set_threads(e.q, threads);
        PT_ASSERT_OK(pond_sql_attach(e.q, "s", "/s", 0));
        pond_buf got = POND_BUF_INIT;
        run_all(&got, &e, queries, (int)POND_ARRAY_LEN(queries));
        if (threads == 1) {
            want = got;
            PT_ASSERT(want.size > 100);
        } else {
            PT_ASSERT_STR_EQ(got.ptr, want.ptr);
            pond_buf_dispose(&got);
        }
        PT_ASSERT_INT_EQ(sqlite3_exec(pond_sql_db(e.q), "DROP TABLE s", NULL, NULL, NULL),
                         SQLITE_OK);
    }
    pond_buf_dispose(&want);
    env_close(&e);
}

static void test_threads_same_results_memory(void) { check_threads_same_results(false); }
static void test_threads_same_results_oplog(void) { check_threads_same_results(true); }

PT_SUITE(sql_threads, PT_TEST(threads_same_results_memory), PT_TEST(threads_same_results_oplog))
