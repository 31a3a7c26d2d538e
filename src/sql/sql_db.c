/* The SQL database: an in-memory SQLite connection with the pond module and time helpers. */
#include "sql/sql_internal.h"

#include <pond/alloc.h>
#include <pond/errors.h>
#include <pond/timefmt.h>

#include "util/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define D POND_DOM_SQL

/* "no such column": the columns each table has, so the user sees what to write instead. */
static void table_columns(pond_buf *out, sqlite3 *db)
{
    sqlite3_stmt *t = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT m.name, p.name FROM (SELECT name, 'temp' AS s FROM "
                           "temp.sqlite_master WHERE type = 'table' UNION ALL SELECT name, "
                           "'main' FROM main.sqlite_master WHERE type = 'table') AS m, "
                           "pragma_table_info(m.name, m.s) AS p ORDER BY m.name, p.cid",
                           -1, &t, NULL) != SQLITE_OK) {
        sqlite3_finalize(t);
        return;
    }
    char last[256] = "";
    while (sqlite3_step(t) == SQLITE_ROW) {
        const char *tab = (const char *)sqlite3_column_text(t, 0);
        const char *col = (const char *)sqlite3_column_text(t, 1);
        if (!tab || !col)
            continue;
        bool same = !strcmp(tab, last);
        pond_buf_printf(out, "%s%s%s%s",
                        same        ? ", "
                        : out->size ? "; "
                                    : " (",
                        same ? "" : tab, same ? "" : " has ", col);
        snprintf(last, sizeof last, "%s", tab);
    }
    if (out->size)
        pond_buf_putc(out, ')');
    sqlite3_finalize(t);
}

static int sql_error(pond_sql *q)
{
    if (q->expired)
        return pond_error_set(POND_EINVALID, D,
                              "sql: the query ran longer than its limit of %lld ms",
                              (long long)q->limit_ms);
    const char *m = sqlite3_errmsg(q->db);
    if (strncmp(m, "no such column", 14) != 0)
        return pond_error_set(POND_EINVALID, D, "sql: %s", m);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", m); /* the next statements reset errmsg */
    pond_buf cols = POND_BUF_INIT;
    table_columns(&cols, q->db);
    int rc = pond_error_set(POND_EINVALID, D, "sql: %s%s", msg, cols.ptr ? cols.ptr : "");
    pond_buf_dispose(&cols);
    return rc;
}

/* iso(us): the ISO-8601 text of a microsecond timestamp. */
static void fn_iso(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_numeric_type(argv[0]) == SQLITE_NULL)
        return;
    char tmp[40];
    size_t n = pond_time_format_iso(tmp, sqlite3_value_int64(argv[0]));
    sqlite3_result_text(ctx, tmp, (int)n, SQLITE_TRANSIENT);
}

/* us(text): microseconds since the epoch of an ISO-8601 text or an epoch with a unit. */
static void fn_us(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int type = sqlite3_value_type(argv[0]);
    if (type == SQLITE_NULL)
        return;
    if (type == SQLITE_INTEGER) {
        sqlite3_result_int64(ctx, sqlite3_value_int64(argv[0]));
        return;
    }
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    int64_t us;
    if (!s || pond_time_parse(&us, s, (size_t)n) < 0) {
        sqlite3_result_error(ctx, s ? pond_error_last()->message : "us(): out of memory", -1);
        return;
    }
    sqlite3_result_int64(ctx, us);
}

/* time_bucket(us, width_us): us rounded down to a multiple of width_us. */
static void fn_bucket(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_numeric_type(argv[0]) == SQLITE_NULL ||
        sqlite3_value_numeric_type(argv[1]) == SQLITE_NULL)
        return;
    int64_t v = sqlite3_value_int64(argv[0]), w = sqlite3_value_int64(argv[1]);
    if (w <= 0) {
        sqlite3_result_error(ctx, "time_bucket(): the width must be positive", -1);
        return;
    }
    sqlite3_result_int64(ctx, (v / w - (v % w < 0)) * w);
}

static int register_functions(sqlite3 *db)
{
    int det = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function(db, "iso", 1, det, NULL, fn_iso, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "us", 1, det, NULL, fn_us, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "time_bucket", 2, det, NULL, fn_bucket, NULL, NULL);
    return rc;
}

int pond_sql_open(pond_sql **out, pond_fs *fs)
{
    *out = NULL;
    pond_sql *q = pond_calloc(1, sizeof *q);
    if (!q)
        return POND_ENOMEM;
    q->fs = fs;
    q->cache_limit = (size_t)64 << 20;
    int rc = pond_table__scan_cache_new(&q->bufs);
    if (rc < 0) {
        if (rc == POND_ENOMEM)
            pond_error_set(rc, D, "sql: out of memory");
        goto fail;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY;
    if (sqlite3_open_v2(":memory:", &q->db, flags, NULL) != SQLITE_OK) {
        rc = q->db ? sql_error(q) : pond_error_set(POND_ENOMEM, D, "sql: out of memory");
        goto fail;
    }
    if (pond_sql__register_module(q, NULL) != SQLITE_OK ||
        pond_sql__register_fast(q) != SQLITE_OK || register_functions(q->db) != SQLITE_OK) {
        rc = sql_error(q);
        goto fail;
    }
    *out = q;
    return 0;
fail:
    pond_sql_free(q);
    return rc;
}

void pond_sql_free(pond_sql *q)
{
    if (!q)
        return;
    sqlite3_close(q->db); /* disconnects the virtual tables */
    pond__bufcache_close(q->bufs);
    pond_free(q->tabs);
    pond_free(q);
}

/* A registered connection's pond_sql ends with the connection (SQLite calls this once every
 * virtual table is disconnected). */
static void foreign_destroy(void *p)
{
    pond_sql *q = p;
    pond_sql__close_ponds(q);
    pond__bufcache_close(q->bufs);
    pond_free(q->tabs);
    pond_free(q);
}

int pond_sql_register(struct sqlite3 *db)
{
    if (!db)
        return pond_error_set(POND_EINVALID, D, "sql: no connection");
    pond_sql *q = pond_calloc(1, sizeof *q);
    if (!q)
        return POND_ENOMEM;
    if (pond_table__scan_cache_new(&q->bufs) < 0) {
        pond_free(q);
        return POND_ENOMEM;
    }
    q->db = db;
    q->foreign = true;
    q->cache_limit = (size_t)64 << 20;
    q->no_fast = true;
    /* on failure SQLite has already called foreign_destroy(q) */
    if (pond_sql__register_module(q, foreign_destroy) != SQLITE_OK)
        return pond_error_set(POND_EINVALID, D, "sql: %s", sqlite3_errmsg(db));
    if (register_functions(db) != SQLITE_OK)
        return pond_error_set(POND_EINVALID, D, "sql: %s", sqlite3_errmsg(db));
    return 0;
}

void pond_sql_set_cache_limit(pond_sql *q, size_t bytes) { q->cache_limit = bytes; }

void pond_sql_set_threads(pond_sql *q, int threads) { q->threads = threads; }

void pond_sql_set_fast_path(pond_sql *q, bool on) { q->no_fast = !on; }

static int guard_authorize(void *p, int action, const char *a, const char *b, const char *c,
                           const char *d)
{
    (void)p, (void)a, (void)c, (void)d;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        return b && !sqlite3_stricmp(b, "load_extension") ? SQLITE_DENY : SQLITE_OK;
    default:
        return SQLITE_DENY;
    }
}

static int guard_progress(void *p)
{
    pond_sql *q = p;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > q->deadline.tv_sec ||
        (now.tv_sec == q->deadline.tv_sec && now.tv_nsec >= q->deadline.tv_nsec))
        q->expired = true;
    return q->expired;
}

void pond_sql_guard(pond_sql *q, int64_t time_limit_ms)
{
    sqlite3 *db = q->db;
#ifndef POND_SQLITE_EXT /* the host's connection: its configuration is the host's */
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
#endif
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 16 << 20);
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 64 << 10);
    sqlite3_set_authorizer(db, guard_authorize, NULL);
    q->expired = false;
    q->limit_ms = time_limit_ms > 0 ? time_limit_ms : 0;
    if (!q->limit_ms) {
        sqlite3_progress_handler(db, 0, NULL, NULL);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &q->deadline);
    q->deadline.tv_sec += (time_t)(q->limit_ms / 1000);
    q->deadline.tv_nsec += (long)(q->limit_ms % 1000) * 1000000;
    if (q->deadline.tv_nsec >= 1000000000) {
        q->deadline.tv_sec++;
        q->deadline.tv_nsec -= 1000000000;
    }
    sqlite3_progress_handler(db, 1000, guard_progress, q);
}

bool pond_sql_expired(const pond_sql *q) { return q->expired; }

sqlite3 *pond_sql_db(pond_sql *q) { return q->db; }

int pond_sql_attach(pond_sql *q, const char *name, const char *path, int64_t file_version)
{
    if (!name || !*name || !path)
        return pond_error_set(POND_EINVALID, D, "sql: attach needs a name and a path");
    char *stmt = sqlite3_mprintf("CREATE VIRTUAL TABLE temp.\"%w\" USING pond(%Q, %lld)", name,
                                 path, (long long)file_version);
    if (!stmt)
        return pond_error_set(POND_ENOMEM, D, "sql: out of memory");
    char *err = NULL;
    int rc = sqlite3_exec(q->db, stmt, NULL, NULL, &err);
    sqlite3_free(stmt);
    if (rc != SQLITE_OK) {
        rc = pond_error_set(POND_EINVALID, D, "sql: %s", err ? err : sqlite3_errmsg(q->db));
        sqlite3_free(err);
        return rc;
    }
    return 0;
}

int pond_sql_binding_parse(char **name_out, char **path_out, int64_t *version_out,
                           const char *binding)
{
    POND_ASSERT_ARG(name_out && path_out && version_out && binding);
    *name_out = *path_out = NULL;
    *version_out = 0;
    const char *eq = strchr(binding, '=');
    if (!eq || eq == binding || !eq[1])
        return pond_error_set(POND_EINVALID, D, "'%s': expected NAME=PATH or NAME=PATH@VERSION",
                              binding);
    const char *end = eq + strlen(eq), *at = strrchr(eq, '@');
    if (at && at[1] && strspn(at + 1, "0123456789") == strlen(at + 1)) {
        int64_t v = 0;
        for (const char *c = at + 1; *c; c++) {
            if (v > (INT64_MAX - (*c - '0')) / 10)
                return pond_error_set(POND_EINVALID, D, "'%s': the version is too large", binding);
            v = v * 10 + (*c - '0');
        }
        if (v < 1)
            return pond_error_set(POND_EINVALID, D, "'%s': versions start at 1", binding);
        *version_out = v;
        end = at;
    }
    if (end == eq + 1)
        return pond_error_set(POND_EINVALID, D, "'%s': the path is empty", binding);
    *name_out = pond_strndup(binding, (size_t)(eq - binding));
    *path_out = pond_strndup(eq + 1, (size_t)(end - eq - 1));
    if (!*name_out || !*path_out) {
        pond_free(*name_out);
        pond_free(*path_out);
        *name_out = *path_out = NULL;
        return POND_ENOMEM;
    }
    return 0;
}

int pond_sql_prepare(sqlite3_stmt **out, pond_sql *q, const char *sql)
{
    const char *tail = NULL;
    *out = NULL;
    if (sqlite3_prepare_v2(q->db, sql, -1, out, &tail) != SQLITE_OK)
        return sql_error(q);
    if (!*out)
        return pond_error_set(POND_EINVALID, D, "sql: no statement");
    for (; tail && *tail; tail++)
        if (!isspace((unsigned char)*tail) && *tail != ';') {
            sqlite3_finalize(*out);
            *out = NULL;
            return pond_error_set(POND_EINVALID, D, "sql: one statement at a time");
        }
    if (!q->no_fast) {
        sqlite3_stmt *fast = NULL;
        int rc = pond_sql__fast_prepare(&fast, q, *out);
        if (rc != 0) {
            sqlite3_finalize(*out);
            *out = fast;
            return rc < 0 ? rc : 0;
        }
    }
    return 0;
}

int pond_sql_step(pond_sql *q, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_NOMEM)
        return pond_error_set(POND_ENOMEM, D, "sql: out of memory");
    return sql_error(q);
}
