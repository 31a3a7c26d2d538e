/* pond query "SQL" [NAME=PATH ...] and pond cat --sql "SQL" PATH: SQL over tables and series
 * (include/pond/sql.h), printed in the formats of `pond cat`. */
#include "cli/cli_pond.h"

#include <pond/sql.h>
#include <pond/timefmt.h>

#include <ctype.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

typedef enum { QF_CSV, QF_JSON, QF_TABLE } qfmt;

static const char QUERY_HELP[] =
    "usage: pond query [--format table|csv|json] \"SQL\" [NAME=PATH[@VERSION] ...]\n"
    "\n"
    "Run one SQL statement (SQLite) over tables and series of the pond. Each NAME=PATH makes\n"
    "the table or series at PATH the SQL table NAME: a table at its latest version, a series\n"
    "with all its versions (@VERSION: only that version); --at N reads the pond as of\n"
    "transaction N. Timestamps are integers (microseconds since the epoch, UTC); a result\n"
    "column taken straight from a timestamp column prints as ISO-8601. SQL functions:\n"
    "iso(us), us('2024-01-31T12:00Z'), time_bucket(us, width_us). Conditions on a series'\n"
    "timestamp column (ts >= us('...') AND ts < ..., BETWEEN) limit what is read, and\n"
    "comparisons of other numeric columns with constants skip row groups by statistics.\n"
    "SELECT count/sum/avg/total/min/max(...) FROM one table with such conditions (AND)\n"
    "is computed over whole column batches, with SQLite's results.\n"
    "\n"
    "  --format F   table (default on a terminal), csv (default in a pipe), json (one object\n"
    "               per line)\n"
    "  --timezone TZ  print timestamps as local time with their offset in this IANA zone\n"
    "               (Europe/Berlin) instead of UTC\n";

static const char QUERY_USAGE[] = "pond query [--format F] [--timezone TZ] \"SQL\" "
                                  "[NAME=PATH[@VERSION] ...]";

static const char CAT_USAGE[] = "pond cat --sql \"SQL\" [--format F] [--version N] "
                                "[--timezone TZ] PATH";

/* ---- printing rows ---- */

#define TABLE_MAX_WIDTH 40
#define TABLE_SIZING_ROWS 1000

static int put_text(pond_buf *out, const char *s, size_t n, qfmt fmt, bool is_string)
{
    int rc = 0;
    if (fmt == QF_JSON && is_string) {
        rc = pond_buf_putc(out, '"');
        for (size_t k = 0; k < n && rc == 0; k++) {
            unsigned char c = (unsigned char)s[k];
            if (c == '"' || c == '\\')
                rc = pond_buf_printf(out, "\\%c", c);
            else if (c < 0x20)
                rc = pond_buf_printf(out, "\\u%04x", c);
            else
                rc = pond_buf_putc(out, (char)c);
        }
        return rc ? rc : pond_buf_putc(out, '"');
    }
    if (fmt == QF_CSV) {
        if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
            !memchr(s, '\r', n) && !(is_string && n == 0))
            return pond_buf_put(out, s, n);
        rc = pond_buf_putc(out, '"');
        for (size_t k = 0; k < n && rc == 0; k++)
            rc = s[k] == '"' ? pond_buf_put(out, "\"\"", 2) : pond_buf_putc(out, s[k]);
        return rc ? rc : pond_buf_putc(out, '"');
    }
    for (size_t k = 0; k < n && rc == 0; k++) {
        unsigned char c = (unsigned char)s[k];
        rc = c < 0x20 ? pond_buf_printf(out, "\\x%02x", c) : pond_buf_putc(out, (char)c);
    }
    return rc;
}

/* 0 plain, 1 timestamp with zone (…Z), 2 timestamp without zone */
static int ts_decl(sqlite3_stmt *st, int k)
{
    const char *d = sqlite3_column_decltype(st, k);
    if (!d)
        return 0;
    return !sqlite3_stricmp(d, "TIMESTAMP") ? 1 : !sqlite3_stricmp(d, "DATETIME") ? 2 : 0;
}

/* --timezone: timestamps print as local time with their offset there (NULL: UTC, with Z) */
static const pond_tz *display_tz;

static int format_value(pond_buf *out, sqlite3_stmt *st, int k, qfmt fmt, int ts)
{
    char tmp[40];
    switch (sqlite3_column_type(st, k)) {
    case SQLITE_NULL:
        return fmt == QF_JSON    ? pond_buf_puts(out, "null")
               : fmt == QF_TABLE ? pond_buf_puts(out, "NULL")
                                 : 0;
    case SQLITE_INTEGER: {
        sqlite3_int64 v = sqlite3_column_int64(st, k);
        if (!ts)
            return pond_buf_printf(out, "%lld", (long long)v);
        size_t n = ts == 1 ? pond_time_format_iso_tz(tmp, v, display_tz)
                           : pond_time_format_iso(tmp, v);
        if (ts == 2)
            tmp[--n] = '\0';
        return fmt == QF_JSON ? pond_buf_printf(out, "\"%s\"", tmp) : pond_buf_put(out, tmp, n);
    }
    case SQLITE_FLOAT: {
        double d = sqlite3_column_double(st, k);
        pond_arrow_format_double(tmp, d);
        if (fmt == QF_JSON && (d != d || d == 1.0 / 0.0 || d == -1.0 / 0.0))
            return pond_buf_printf(out, "\"%s\"", tmp);
        return pond_buf_puts(out, tmp);
    }
    case SQLITE_TEXT: {
        const char *s = (const char *)sqlite3_column_text(st, k);
        int n = sqlite3_column_bytes(st, k);
        return put_text(out, s ? s : "", (size_t)n, fmt, true);
    }
    default: {
        const unsigned char *p = sqlite3_column_blob(st, k);
        int n = sqlite3_column_bytes(st, k), rc = fmt == QF_JSON ? pond_buf_putc(out, '"') : 0;
        for (int i = 0; i < n && rc == 0; i++)
            rc = pond_buf_printf(out, "%02x", p[i]);
        return rc ? rc : fmt == QF_JSON ? pond_buf_putc(out, '"') : 0;
    }
    }
}

static void table_put(pond_buf *out, const char *cell, size_t width, bool first, bool last)
{
    size_t len = strlen(cell);
    if (len > width)
        pond_buf_printf(out, "%s%.*s~", first ? "" : "  ", (int)width - 1, cell);
    else
        pond_buf_printf(out, "%s%-*s", first ? "" : "  ", last ? 0 : (int)width, cell);
}

typedef struct {
    FILE *f;
    pond_buf out;
    qfmt fmt;
    int nc;
    size_t *width;
    char **cells; /* table mode: the first rows, to size the columns */
    size_t n_cells, cap_cells;
    bool header_done;
} printer;

static void flush_table(printer *p, sqlite3_stmt *st)
{
    for (int k = 0; k < p->nc; k++)
        table_put(&p->out, sqlite3_column_name(st, k), p->width[k], k == 0, k == p->nc - 1);
    pond_buf_putc(&p->out, '\n');
    for (int k = 0; k < p->nc; k++) {
        pond_buf_puts(&p->out, k ? "  " : "");
        for (size_t w = 0; w < p->width[k]; w++)
            pond_buf_putc(&p->out, '-');
    }
    pond_buf_putc(&p->out, '\n');
    for (size_t c = 0; c < p->n_cells; c++) {
        int k = (int)(c % (size_t)p->nc);
        table_put(&p->out, p->cells[c], p->width[k], k == 0, k == p->nc - 1);
        if (k == p->nc - 1)
            pond_buf_putc(&p->out, '\n');
        free(p->cells[c]);
    }
    p->n_cells = 0;
    p->header_done = true;
}

static int print_row(printer *p, sqlite3_stmt *st, const int *ts)
{
    int rc = p->fmt == QF_JSON ? pond_buf_putc(&p->out, '{') : 0;
    for (int k = 0; k < p->nc && rc == 0; k++) {
        if (p->fmt == QF_TABLE) {
            pond_buf cell = POND_BUF_INIT;
            rc = format_value(&cell, st, k, QF_TABLE, ts[k]);
            if (rc == 0)
                rc = pond_buf_putc(&cell, '\0');
            if (rc < 0) {
                pond_buf_dispose(&cell);
                break;
            }
            if (p->header_done) {
                table_put(&p->out, cell.ptr, p->width[k], k == 0, k == p->nc - 1);
                if (k == p->nc - 1)
                    rc = pond_buf_putc(&p->out, '\n');
                pond_buf_dispose(&cell);
                continue;
            }
            if (p->n_cells == p->cap_cells) {
                size_t cap = p->cap_cells ? p->cap_cells * 2 : 1024;
                char **n = realloc(p->cells, cap * sizeof *n);
                if (!n) {
                    pond_buf_dispose(&cell);
                    return pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
                }
                p->cells = n;
                p->cap_cells = cap;
            }
            char *text = strdup(cell.ptr);
            pond_buf_dispose(&cell);
            if (!text)
                return pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
            size_t w = strlen(text);
            if (w > p->width[k])
                p->width[k] = w > TABLE_MAX_WIDTH ? TABLE_MAX_WIDTH : w;
            p->cells[p->n_cells++] = text;
            continue;
        }
        if (k)
            rc = pond_buf_putc(&p->out, ',');
        if (rc == 0 && p->fmt == QF_JSON) {
            const char *name = sqlite3_column_name(st, k);
            rc = put_text(&p->out, name, strlen(name), QF_JSON, true);
            if (rc == 0)
                rc = pond_buf_putc(&p->out, ':');
        }
        if (rc == 0)
            rc = format_value(&p->out, st, k, p->fmt, ts[k]);
    }
    if (rc == 0 && p->fmt != QF_TABLE)
        rc = pond_buf_puts(&p->out, p->fmt == QF_JSON ? "}\n" : "\n");
    return rc;
}

/* Runs the statement and prints its rows; returns 0 or a pond error. */
static int run_print(pond_sql *q, const char *sql, qfmt fmt)
{
    sqlite3_stmt *st = NULL;
    int rc = pond_sql_prepare(&st, q, sql);
    if (rc < 0)
        return rc;
    printer p = {.f = stdout, .out = POND_BUF_INIT, .fmt = fmt};
    p.nc = sqlite3_column_count(st);
    int *ts = calloc((size_t)p.nc + 1, sizeof *ts);
    p.width = calloc((size_t)p.nc + 1, sizeof *p.width);
    if (!ts || !p.width) {
        rc = pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
        goto done;
    }
    for (int k = 0; k < p.nc; k++) {
        ts[k] = ts_decl(st, k);
        p.width[k] = strlen(sqlite3_column_name(st, k));
    }
    if (fmt == QF_CSV && p.nc) {
        for (int k = 0; k < p.nc && rc == 0; k++) {
            const char *name = sqlite3_column_name(st, k);
            rc = (k ? pond_buf_putc(&p.out, ',') : 0);
            if (rc == 0)
                rc = put_text(&p.out, name, strlen(name), QF_CSV, false);
        }
        if (rc == 0)
            rc = pond_buf_putc(&p.out, '\n');
    }
    int64_t rows = 0;
    while (rc == 0) {
        int r = pond_sql_step(q, st);
        if (r <= 0) {
            rc = r;
            break;
        }
        if (p.nc == 0)
            continue;
        rc = print_row(&p, st, ts);
        rows++;
        if (fmt == QF_TABLE && !p.header_done && rows >= TABLE_SIZING_ROWS)
            flush_table(&p, st);
        if (p.out.size > (1 << 16)) {
            fwrite(p.out.ptr, 1, p.out.size, p.f);
            pond_buf_clear(&p.out);
        }
    }
    if (rc == 0 && fmt == QF_TABLE && p.nc) {
        if (!p.header_done)
            flush_table(&p, st);
        pond_buf_printf(&p.out, "(%lld row%s)\n", (long long)rows, rows == 1 ? "" : "s");
    }
    if (rc == 0 && p.out.size)
        fwrite(p.out.ptr, 1, p.out.size, p.f);
done:
    for (size_t c = 0; c < p.n_cells; c++)
        free(p.cells[c]);
    free(p.cells);
    free(p.width);
    free(ts);
    pond_buf_dispose(&p.out);
    sqlite3_finalize(st);
    return rc;
}

static int parse_format(qfmt *out, const char *format)
{
    if (!format)
        *out = cli_stdout_tty() ? QF_TABLE : QF_CSV;
    else if (!strcmp(format, "table"))
        *out = QF_TABLE;
    else if (!strcmp(format, "csv"))
        *out = QF_CSV;
    else if (!strcmp(format, "json"))
        *out = QF_JSON;
    else
        return -1;
    return 0;
}

static int set_display_tz(const char *name)
{
    pond_tz *tz = NULL;
    int rc = pond_tz_open(&tz, name);
    pond_tz_free((pond_tz *)display_tz);
    display_tz = tz; /* kept until the process ends: one command per process */
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
            *version = strtoll(at + 1, NULL, 10);
            if (*version < 1)
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
    if (cli_wants_help(argc, argv, QUERY_HELP))
        return 0;
    const char *sql = NULL, *format = NULL;
    int first_binding = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--format") && i + 1 < argc) {
            format = argv[++i];
        } else if (!strcmp(a, "--timezone") && i + 1 < argc && !sql) {
            if (set_display_tz(argv[++i]) < 0)
                return cli_usage(QUERY_USAGE, "--timezone: %s", pond_error_last()->message);
        } else if (a[0] == '-' && a[1] && !sql) {
            return cli_usage(QUERY_USAGE, "unknown option '%s'", a);
        } else if (!sql) {
            sql = a;
        } else if (first_binding == argc) {
            first_binding = i;
        }
    }
    if (!sql)
        return cli_usage(QUERY_USAGE, "no SQL given");
    qfmt fmt;
    if (parse_format(&fmt, format) < 0)
        return cli_usage(QUERY_USAGE, "unknown format '%s'", format);
    for (int i = first_binding; i < argc; i++) {
        if (!strcmp(argv[i], "--format")) {
            i++;
            continue;
        }
        if (!strchr(argv[i], '=') || argv[i][0] == '=')
            return cli_usage(QUERY_USAGE, "expected NAME=PATH, got '%s'", argv[i]);
    }
    bool need_pond = first_binding < argc;
    cli_pond p = {0};
    if ((need_pond || cli->pond_dir) && cli_pond_open(&p, cli, false))
        return 1;
    pond_sql *q = NULL;
    int rc = 0;
    if (pond_sql_open(&q, p.fs) < 0) {
        rc = cli_fail();
        goto done;
    }
    for (int i = first_binding; i < argc && rc == 0; i++) {
        if (!strcmp(argv[i], "--format")) {
            i++;
            continue;
        }
        char *name = NULL, *path = NULL;
        int64_t version;
        if (parse_binding(&name, &path, &version, argv[i]) < 0)
            rc = cli_usage(QUERY_USAGE, "bad table binding '%s'", argv[i]);
        else if (pond_sql_attach(q, name, path, version) < 0)
            rc = cli_fail();
        free(name);
        free(path);
    }
    if (rc == 0 && run_print(q, sql, fmt) < 0)
        rc = cli_fail();
done:
    pond_sql_free(q);
    cli_pond_close(&p);
    return rc;
}

int cmd_cat_sql(pond_cli *cli, int argc, char **argv)
{
    const char *sql = NULL, *format = NULL, *path = NULL;
    int64_t version = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(a, "--sql") && more) {
            sql = argv[++i];
        } else if (!strcmp(a, "--format") && more) {
            format = argv[++i];
        } else if (!strcmp(a, "--timezone") && more) {
            if (set_display_tz(argv[++i]) < 0)
                return cli_usage(CAT_USAGE, "--timezone: %s", pond_error_last()->message);
        } else if (!strcmp(a, "--version") && more) {
            char *end;
            version = strtoll(argv[++i], &end, 10);
            if (*end || version < 1)
                return cli_usage(CAT_USAGE, "bad version '%s'", argv[i]);
        } else if (a[0] == '-' && a[1]) {
            return cli_usage(CAT_USAGE, "'%s' does not go with --sql", a);
        } else if (path) {
            return cli_usage(CAT_USAGE, "one path at a time");
        } else {
            path = a;
        }
    }
    if (!sql)
        return cli_usage(CAT_USAGE, "--sql needs a statement");
    if (!path)
        return cli_usage(CAT_USAGE, "no path given");
    qfmt fmt;
    if (parse_format(&fmt, format) < 0)
        return cli_usage(CAT_USAGE, "unknown format '%s' (with --sql: table, csv, json)", format);
    cli_pond p;
    if (cli_pond_open(&p, cli, false))
        return 1;
    pond_sql *q = NULL;
    int rc = 0;
    if (pond_sql_open(&q, p.fs) < 0 || pond_sql_attach(q, "source", path, version) < 0 ||
        run_print(q, sql, fmt) < 0)
        rc = cli_fail();
    pond_sql_free(q);
    cli_pond_close(&p);
    return rc;
}
