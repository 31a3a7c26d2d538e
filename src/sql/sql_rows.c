/* A statement's rows written as text through the row writer (include/pond/rows.h): what
 * `pond query`, `pond cat --sql` and `pond serve`'s query share. */
#include "sql/sql_internal.h"

#include <pond/alloc.h>
#include <pond/errors.h>
#include <pond/rows.h>

#include <string.h>

/* 0 plain, 1 timestamp with zone (…Z), 2 timestamp without zone */
static int ts_decl(sqlite3_stmt *st, int k)
{
    const char *d = sqlite3_column_decltype(st, k);
    if (!d)
        return 0;
    return !sqlite3_stricmp(d, "TIMESTAMP") ? 1 : !sqlite3_stricmp(d, "DATETIME") ? 2 : 0;
}

static int put_value(pond_rows *w, sqlite3_stmt *st, int k, int ts)
{
    switch (sqlite3_column_type(st, k)) {
    case SQLITE_NULL:
        return pond_rows_null(w);
    case SQLITE_INTEGER: {
        sqlite3_int64 v = sqlite3_column_int64(st, k);
        return ts ? pond_rows_timestamp(w, v, POND_ARROW_UNIT_US, ts == 1) : pond_rows_int(w, v);
    }
    case SQLITE_FLOAT:
        return pond_rows_double(w, sqlite3_column_double(st, k));
    case SQLITE_TEXT: {
        const char *s = (const char *)sqlite3_column_text(st, k);
        return pond_rows_string(w, s ? s : "", (size_t)sqlite3_column_bytes(st, k));
    }
    default: { /* a blob: hex, as binary columns print */
        const unsigned char *p = sqlite3_column_blob(st, k);
        int n = sqlite3_column_bytes(st, k), rc = 0;
        pond_buf hex = POND_BUF_INIT;
        for (int i = 0; i < n && rc == 0; i++)
            rc = pond_buf_printf(&hex, "%02x", p[i]);
        if (rc == 0)
            rc = pond_rows_text(w, hex.ptr ? hex.ptr : "", hex.size);
        pond_buf_dispose(&hex);
        return rc;
    }
    }
}

int pond_sql_output(int64_t *rows_out, pond_sql *q, const char *sql, pond_rows_format fmt,
                    const pond_tz *tz, pond_rows_sink_fn sink, void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc = pond_sql_prepare(&st, q, sql);
    if (rc < 0)
        return rc;
    int nc = sqlite3_column_count(st);
    int *ts = pond_calloc((size_t)nc + 1, sizeof *ts);
    const char **names = pond_calloc((size_t)nc + 1, sizeof *names);
    pond_rows *w = NULL;
    if (!ts || !names) {
        rc = pond_error_set(POND_ENOMEM, POND_DOM_SQL, "out of memory");
        goto done;
    }
    for (int k = 0; k < nc; k++) {
        ts[k] = ts_decl(st, k);
        names[k] = sqlite3_column_name(st, k);
    }
    if ((rc = pond_rows_new(&w, fmt, (size_t)nc, names, tz, sink, payload)) < 0)
        goto done;
    while (rc == 0) {
        int r = pond_sql_step(q, st);
        if (r <= 0) {
            rc = r;
            break;
        }
        for (int k = 0; k < nc && rc == 0; k++)
            rc = put_value(w, st, k, ts[k]);
    }
    if (rc == 0)
        rc = pond_rows_end(w, rows_out);
done:
    pond_rows_free(w);
    pond_free(names);
    pond_free(ts);
    sqlite3_finalize(st);
    return rc;
}
