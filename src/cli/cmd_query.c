/* pond query "SQL" [NAME=PATH ...] and pond cat --sql "SQL" PATH: SQL over tables and series
 * (include/pond/sql.h), printed in the formats of `pond cat`. */
#include "cli/cli_format.h"
#include "cli/cli_pond.h"

#include <pond/sql.h>
#include <pond/timefmt.h>

#include <ctype.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static const char QUERY_ABOUT[] =
    "Run one SQL statement (SQLite) over tables and series of the pond. Each NAME=PATH makes\n"
    "the table or series at PATH the SQL table NAME: a table at its latest version, a series\n"
    "with all its versions (@VERSION: only that version); --at N reads the pond as of\n"
    "transaction N. Timestamps are integers (microseconds since the epoch, UTC); a result\n"
    "column taken straight from a timestamp column prints as ISO-8601. SQL functions:\n"
    "iso(us), us('2024-01-31T12:00Z'), time_bucket(us, width_us). Conditions on a series'\n"
    "timestamp column (ts >= us('...') AND ts < ..., BETWEEN) limit what is read, and\n"
    "comparisons of other numeric columns with constants skip row groups by statistics.\n"
    "SELECT count/sum/avg/total/min/max(...) FROM one table with such conditions (AND)\n"
    "is computed over whole column batches, with SQLite's results. Timestamps print in UTC\n"
    "with Z, or with --timezone as local time there with its offset.\n";

/* 0 plain, 1 timestamp with zone (…Z), 2 timestamp without zone */
static int ts_decl(sqlite3_stmt *st, int k)
{
    const char *d = sqlite3_column_decltype(st, k);
    if (!d)
        return 0;
    return !sqlite3_stricmp(d, "TIMESTAMP") ? 1 : !sqlite3_stricmp(d, "DATETIME") ? 2 : 0;
}

static int put_value(cli_rows *w, sqlite3_stmt *st, int k, int ts)
{
    switch (sqlite3_column_type(st, k)) {
    case SQLITE_NULL:
        return cli_rows_null(w);
    case SQLITE_INTEGER: {
        sqlite3_int64 v = sqlite3_column_int64(st, k);
        if (!ts)
            return cli_rows_int(w, v);
        char t[48];
        size_t n = cli_format_timestamp(t, v, POND_ARROW_UNIT_US, ts == 1);
        return cli_rows_text(w, t, n);
    }
    case SQLITE_FLOAT:
        return cli_rows_double(w, sqlite3_column_double(st, k));
    case SQLITE_TEXT: {
        const char *s = (const char *)sqlite3_column_text(st, k);
        return cli_rows_string(w, s ? s : "", (size_t)sqlite3_column_bytes(st, k));
    }
    default: { /* a blob: hex, as binary columns print */
        const unsigned char *p = sqlite3_column_blob(st, k);
        int n = sqlite3_column_bytes(st, k), rc = 0;
        pond_buf hex = POND_BUF_INIT;
        for (int i = 0; i < n && rc == 0; i++)
            rc = pond_buf_printf(&hex, "%02x", p[i]);
        if (rc == 0)
            rc = cli_rows_text(w, hex.ptr ? hex.ptr : "", hex.size);
        pond_buf_dispose(&hex);
        return rc;
    }
    }
}

/* Runs the statement and prints its rows; returns 0 or a pond error. */
static int run_print(pond_sql *q, const char *sql, cli_fmt fmt)
{
    sqlite3_stmt *st = NULL;
    int rc = pond_sql_prepare(&st, q, sql);
    if (rc < 0)
        return rc;
    int nc = sqlite3_column_count(st);
    int *ts = calloc((size_t)nc + 1, sizeof *ts);
    const char **names = calloc((size_t)nc + 1, sizeof *names);
    cli_rows w;
    memset(&w, 0, sizeof w);
    if (!ts || !names) {
        rc = pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
        goto done;
    }
    for (int k = 0; k < nc; k++) {
        ts[k] = ts_decl(st, k);
        names[k] = sqlite3_column_name(st, k);
    }
    if ((rc = cli_rows_begin(&w, stdout, fmt, (size_t)nc, names)) < 0)
        goto done;
    while (rc == 0) {
        int r = pond_sql_step(q, st);
        if (r <= 0) {
            rc = r;
            break;
        }
        for (int k = 0; k < nc && rc == 0; k++)
            rc = put_value(&w, st, k, ts[k]);
    }
    if (rc == 0)
        rc = cli_rows_end(&w, NULL);
done:
    cli_rows_dispose(&w);
    free(names);
    free(ts);
    sqlite3_finalize(st);
    return rc;
}

/* NAME=PATH[@VERSION] */
static int parse_binding(char **name, char **path, int64_t *version, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return -1;
    const char *end = arg + strlen(arg), *at = strrchr(eq, '@');
    *version = 0;
    if (at && at[1]) {
        bool digits = true;
        for (const char *c = at + 1; *c; c++)
            digits &= isdigit((unsigned char)*c) != 0;
        if (digits) {
            if (cli_parse_int(version, at + 1, 1, INT64_MAX) < 0)
                return -1;
            end = at;
        }
    }
    *name = strndup(arg, (size_t)(eq - arg));
    *path = strndup(eq + 1, (size_t)(end - eq - 1));
    return *name && *path ? 0 : -1;
}

int cmd_query(pond_cli *cli, int argc, char **argv)
{
    const char *format = NULL;
    pond_tz *tz = NULL;
    const cli_opt opts[] = {
        {.name = "--format", .kind = CLI_OPT_CHOICE, .dest = &format, .arg = "F",
         .choices = "table|csv|json",
         .help = "table (default on a terminal), csv (default in a pipe), json (one\n"
                 "object per line)"},
        {.name = "--timezone", .kind = CLI_OPT_FN, .dest = &tz, .arg = "TZ",
         .fn = cli_parse_timezone,
         .help = "print timestamps as local time with their offset in this IANA zone\n"
                 "(Europe/Berlin) instead of UTC"},
        {0},
    };
    const cli_spec spec = {
        .command = "query",
        .operands = "SQL [NAME=PATH[@VERSION]...]",
        .about = QUERY_ABOUT,
        .opts = opts,
        .missing = "no SQL given",
        .min_operands = 1,
        .max_operands = -1,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0) {
        pond_tz_free(tz);
        return rc;
    }
    const char *sql = argv[0];
    for (int i = 1; i < n; i++)
        if (!strchr(argv[i], '=') || argv[i][0] == '=') {
            pond_tz_free(tz);
            return cli_usage(&spec, "expected NAME=PATH, got '%s'", argv[i]);
        }
    bool need_pond = n > 1;
    cli_pond p = {0};
    if ((need_pond || cli->pond_dir) && cli_pond_open(&p, cli, false)) {
        pond_tz_free(tz);
        return 1;
    }
    pond_sql *q = NULL;
    rc = 0;
    cli_format_set_timezone(tz);
    if (pond_sql_open(&q, p.fs) < 0) {
        rc = cli_fail();
        goto done;
    }
    pond_sql_set_threads(q, p.threads);
    for (int i = 1; i < n && rc == 0; i++) {
        char *name = NULL, *path = NULL;
        int64_t version;
        if (parse_binding(&name, &path, &version, argv[i]) < 0)
            rc = cli_usage(&spec, "bad table binding '%s' (NAME=PATH or NAME=PATH@VERSION, "
                                  "VERSION 1 or more)", argv[i]);
        else if (pond_sql_attach(q, name, path, version) < 0)
            rc = cli_fail();
        free(name);
        free(path);
    }
    if (rc == 0 && run_print(q, sql, cli_fmt_of(format)) < 0)
        rc = cli_fail();
done:
    pond_sql_free(q);
    cli_pond_close(&p);
    cli_format_set_timezone(NULL);
    pond_tz_free(tz);
    return rc;
}

int cli_cat_sql(pond_cli *cli, const char *sql, const char *path, int64_t version, cli_fmt fmt)
{
    cli_pond p;
    if (cli_pond_open(&p, cli, false))
        return 1;
    pond_sql *q = NULL;
    int rc = 0;
    if (pond_sql_open(&q, p.fs) < 0) {
        rc = cli_fail();
    } else {
        pond_sql_set_threads(q, p.threads);
        if (pond_sql_attach(q, "source", path, version) < 0 || run_print(q, sql, fmt) < 0)
            rc = cli_fail();
    }
    pond_sql_free(q);
    cli_pond_close(&p);
    return rc;
}
