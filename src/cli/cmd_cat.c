#include "cli/cli_format.h"
#include "cli/cli_pond.h"

#include <pond/table.h>
#include <pond/timefmt.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char ABOUT[] =
    "Print a file. Data files print as bytes. Tables and series print as an aligned text\n"
    "table on a terminal and as CSV in a pipe, unless --format says otherwise; a series\n"
    "prints all its versions in order as one table, with the columns of all its versions\n"
    "(even when a time range reads only some). CSV and JSON output re-import to the same\n"
    "types and values with pond copy.\n";

static int cat_raw(pond_fs_node *node, int64_t version)
{
    pond_reader *r = NULL;
    if (pond_fs_node_open_reader(&r, node, version) < 0)
        return cli_fail();
    int rc = 0;
    char *buf = malloc(1 << 20);
    while (rc == 0 && buf) {
        size_t n;
        if (pond_reader_read(r, buf, 1 << 20, &n) < 0) {
            rc = cli_fail();
            break;
        }
        if (n == 0)
            break;
        if (fwrite(buf, 1, n, stdout) != n)
            rc = cli_error("write to standard output failed");
    }
    if (!buf)
        rc = cli_error("out of memory");
    free(buf);
    pond_reader_free(r);
    return rc;
}

int cmd_cat(pond_cli *cli, int argc, char **argv)
{
    int64_t version = 0;
    const char *format = NULL, *columns = NULL, *sql = NULL;
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    const char *from_text = NULL, *to_text = NULL;
    bool has_from = false, has_to = false;
    pond_tz *tz = NULL;
    cli_dedup dedup = {0};
    const cli_opt opts[] = {
        {.name = "--format",
         .kind = CLI_OPT_CHOICE,
         .dest = &format,
         .arg = "F",
         .choices = "raw|table|csv|json|parquet",
         .help = "raw (the stored bytes), table, csv, json (one object per line),\n"
                 "parquet (one file: a series' versions merged)"},
        {.name = "--version",
         .kind = CLI_OPT_INT,
         .dest = &version,
         .arg = "N",
         .help = "one version of the file (default: latest; for a series, all)",
         .min = 1,
         .max = INT64_MAX},
        {.name = "--from",
         .kind = CLI_OPT_STRING,
         .dest = &from_text,
         .arg = "T",
         .given = &has_from,
         .help = "series: rows with event time >= T: 2013, 2013-06, 2013-06-15,\n"
                 "2013-06-15T12:00[:SS[.f]] with an optional zone (Z, +02:00), or an\n"
                 "epoch with its unit: 1706702400s, ...ms, ...us, ...ns (docs/time.md)"},
        {.name = "--to",
         .kind = CLI_OPT_STRING,
         .dest = &to_text,
         .arg = "T",
         .given = &has_to,
         .help = "series: rows with event time < T (exclusive; --to 2014 ends with 2013)"},
        {.name = "--timezone",
         .kind = CLI_OPT_FN,
         .dest = &tz,
         .arg = "TZ",
         .fn = cli_parse_timezone,
         .help = "IANA zone (Europe/Berlin): --from/--to without a zone are local time\n"
                 "there, and timestamps print as local time with their offset (default:\n"
                 "UTC, printed with Z)"},
        {.name = "--columns",
         .kind = CLI_OPT_STRING,
         .dest = &columns,
         .arg = "a,b",
         .help = "only these columns, in this order"},
        {.name = "--dedup",
         .kind = CLI_OPT_FN,
         .dest = &dedup,
         .arg = "R",
         .fn = cli_opt_dedup,
         .help = "series: last (of rows with the same timestamp, only the newest\n"
                 "version's), last:K,... (the same timestamp and values of columns K...),\n"
                 "or none (every row); default: the series' setting (pond set)"},
        {.name = "--sql",
         .kind = CLI_OPT_STRING,
         .dest = &sql,
         .arg = "SQL",
         .help = "run SQL over the file, named `source` (see pond query --help);\n"
                 "goes with --format (table, csv, json) and --version"},
        {0},
    };
    const cli_spec spec = {
        .command = "cat",
        .operands = "PATH",
        .about = ABOUT,
        .opts = opts,
        .missing = "no path given",
        .min_operands = 1,
        .max_operands = 1,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0) {
        pond_tz_free(tz);
        cli_dedup_dispose(&dedup);
        return rc;
    }
    const char *path = argv[0];
    cli_pond p = {0};
    pond_fs_node *node = NULL;
    pond_stat st;
    char **cols = NULL;
    int ncols = 0;
    if (sql) { /* SQL over the file (cmd_query.c) */
        if (format && (!strcmp(format, "raw") || !strcmp(format, "parquet")))
            rc =
                cli_usage(&spec, "--format %s does not go with --sql (table, csv or json)", format);
        else if (has_from || has_to || columns)
            rc = cli_usage(&spec, "%s does not go with --sql (put the condition in the SQL)",
                           has_from ? "--from"
                           : has_to ? "--to"
                                    : "--columns");
        else if (dedup.rule != POND_DEDUP_DEFAULT)
            rc = cli_usage(&spec, "--dedup does not go with --sql (SQL reads the series under "
                                  "its own setting: pond set PATH dedup=...)");
        else {
            cli_format_set_timezone(tz);
            rc = cli_cat_sql(cli, sql, path, version, cli_fmt_of(format));
        }
        goto done;
    }
    if (columns && !*columns) {
        rc = cli_usage(&spec, "--columns: no column named");
        goto done;
    }
    bool has_range;
    int64_t from_us, to_us;
    if ((rc = cli_time_range(&has_range, &from_us, &to_us, &spec, has_from ? from_text : NULL,
                             has_to ? to_text : NULL, tz)) >= 0)
        goto done;
    cli_format_set_timezone(tz);
    if (cli_pond_open(&p, cli, false)) {
        rc = 1;
        goto done;
    }
    rc = 0;
    /* the path is walked once: the handle serves the stat and the read */
    if (pond_fs_node_open(&node, p.fs, NULL, path, 0) < 0 || pond_fs_node_stat(&st, node) < 0) {
        rc = cli_fail();
        goto done;
    }
    bool tabular = st.type == POND_ENTRY_FILE_TABLE || st.type == POND_ENTRY_FILE_SERIES;
    bool stale = false;
    if (st.type == POND_ENTRY_FILE_SERIES && pond_derive_stale(&stale, node) == 0 && stale)
        cli_note_stale(path);
    if (st.type == POND_ENTRY_DIRECTORY) {
        rc = cli_error("%s: is a directory (pond list '%s/')", path, path);
        goto done;
    }
    if (!tabular || (format && !strcmp(format, "raw"))) {
        if (format && strcmp(format, "raw")) {
            rc = cli_error("%s: --format %s is for tables and series; this is %s", path, format,
                           pond_entry_type_name(st.type));
            goto done;
        }
        if (has_from || has_to || columns || dedup.rule != POND_DEDUP_DEFAULT) {
            rc = cli_error("%s: --from, --to, --columns and --dedup are for tables and series",
                           path);
            goto done;
        }
        rc = cat_raw(node, version);
        goto done;
    }
    if ((has_from || has_to) && st.type != POND_ENTRY_FILE_SERIES) {
        rc = cli_error("%s: --from/--to need a series; this is a table", path);
        goto done;
    }
    if (has_range) {
        ro.has_range = true;
        ro.from_us = from_us;
        ro.to_us = to_us;
        if (ro.to_us <= ro.from_us) {
            rc = cli_error("--to must be after --from");
            goto done;
        }
    }
    if (columns) {
        if (pond_table_columns_parse(&cols, &ncols, columns) < 0) {
            rc = cli_usage(&spec, "--%s", pond_error_last()->message);
            goto done;
        }
        ro.columns = (const char *const *)cols;
        ro.n_columns = ncols;
    }
    ro.file_version = version;
    ro.threads = p.threads;
    ro.dedup = dedup.rule;
    ro.dedup_keys = (const char *const *)dedup.keys;
    ro.n_dedup_keys = dedup.n_keys;
    if (ro.dedup != POND_DEDUP_DEFAULT && (st.type != POND_ENTRY_FILE_SERIES || version)) {
        rc = cli_error("%s: --dedup is for reading a whole series", path);
        goto done;
    }
    if (format && !strcmp(format, "parquet") && isatty(1)) {
        rc = cli_error("--format parquet writes binary data: redirect it to a file");
        goto done;
    }
    fflush(stdout);
    cli_sink sink = {1, "standard output", 0};
    cli_table_out res;
    if (cli_table_write(&res, &sink, node, &ro, format) < 0)
        rc = cli_fail();
done:
    pond_fs_node_free(node);
    cli_dedup_dispose(&dedup);
    pond_free(cols);
    cli_pond_close(&p); /* a zeroed one too */
    cli_format_set_timezone(NULL);
    pond_tz_free(tz);
    return rc;
}
