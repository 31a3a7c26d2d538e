/* pond query "SQL" [NAME=PATH ...] and pond cat --sql "SQL" PATH: SQL over tables and series
 * (include/pond/sql.h), printed in the formats of `pond cat`. */
#include "cli/cli_format.h"
#include "cli/cli_pond.h"

#include <pond/sql.h>
#include <pond/timefmt.h>

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

/* Runs the statement and prints its rows; returns 0 or a pond error. */
static int run_print(pond_sql *q, const char *sql, cli_fmt fmt)
{
    return pond_sql_output(NULL, q, sql, fmt, cli_format_timezone(), cli_file_sink, stdout);
}

int cmd_query(pond_cli *cli, int argc, char **argv)
{
    const char *format = NULL;
    pond_tz *tz = NULL;
    const cli_opt opts[] = {
        {.name = "--format",
         .kind = CLI_OPT_CHOICE,
         .dest = &format,
         .arg = "F",
         .choices = "table|csv|json",
         .help = "table (default on a terminal), csv (default in a pipe), json (one\n"
                 "object per line)"},
        {.name = "--timezone",
         .kind = CLI_OPT_FN,
         .dest = &tz,
         .arg = "TZ",
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
        if (pond_sql_binding_parse(&name, &path, &version, argv[i]) < 0)
            rc = cli_usage(&spec, "bad table binding %s", pond_error_last()->message);
        else if (pond_sql_attach(q, name, path, version) < 0)
            rc = cli_fail();
        else if (!version)
            cli_note_if_stale(p.fs, path);
        pond_free(name);
        pond_free(path);
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
