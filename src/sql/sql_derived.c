/* The evaluator of `sql` derived recipes (docs/derived.md): the table layer keeps recipes
 * current but sits below SQL, so it calls what this layer registers with
 * pond_derive_set_sql_evaluator. Each evaluation is a pond_sql of its own over the fs, inside
 * the writing transaction, so it reads the sources' pending versions and no cached scan of an
 * earlier one. */
#include "sql/sql_internal.h"

#include <pond/errors.h>
#include <pond/sql.h>
#include <pond/table.h>

#define D POND_DOM_SQL

/* Every evaluation's time limit (pond_sql_derive_set_time_limit). */
static int64_t g_limit_ms = POND_SQL_DERIVE_TIME_LIMIT_MS;

/* A recipe may come from a pond someone else made and runs whenever a source is written: it
 * must be a query that reads (no ATTACH of a host file, no statement that writes). */
static int check_query(pond_sql *q, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = pond_sql_prepare(&st, q, sql);
    if (rc == 0 && (!sqlite3_stmt_readonly(st) || sqlite3_column_count(st) == 0))
        rc = pond_error_set(POND_EINVALID, D,
                            "sql: a recipe is one query that returns rows "
                            "and changes nothing");
    sqlite3_finalize(st);
    return rc;
}

static int evaluate(struct ArrowArrayStream *out, pond_fs *fs, const char *sql,
                    const char *const *names, const char *const *paths, size_t n)
{
    pond_sql *q = NULL;
    int rc = pond_sql_open(&q, fs);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((rc = pond_sql_attach(q, names[i], paths[i], 0)) < 0)
            pond_error_prefix("source %s as '%s'", paths[i], names[i]);
    if (rc == 0)
        rc = check_query(q, sql);
    /* after the sources are attached (ATTACH is then refused) and the query is known to only
     * read: a query that never ends (a recursive one in a pond someone sent) is stopped */
    if (rc == 0)
        pond_sql_guard(q, g_limit_ms);
    if (rc < 0) {
        pond_sql_free(q);
        return rc;
    }
    return pond_sql__query_stream_take(out, q, sql);
}

void pond_sql_derive_register(void) { pond_derive_set_sql_evaluator(evaluate); }

void pond_sql_derive_set_time_limit(int64_t ms)
{
    g_limit_ms = ms > 0 ? ms : POND_SQL_DERIVE_TIME_LIMIT_MS;
}
