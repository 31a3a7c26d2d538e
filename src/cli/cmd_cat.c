#include "cli/cli_format.h"
#include "cli/cli_pond.h"

#include <pond/table.h>
#include <pond/timefmt.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_write_parquet_fd(int fd, struct ArrowArrayStream *st);

static const char HELP[] =
    "usage: pond cat [--format raw|table|csv|json|parquet] [--version N] [--from T] [--to T]\n"
    "                [--timezone TZ] [--columns a,b] [--dedup R] PATH\n"
    "\n"
    "Print a file. Data files print as bytes. Tables and series print as an aligned text\n"
    "table on a terminal and as CSV in a pipe, unless --format says otherwise; a series\n"
    "prints all its versions in order as one table.\n"
    "\n"
    "  --format F    raw (the stored bytes), table, csv, json (one object per line), parquet\n"
    "  --version N   one version of the file (default: latest; for a series, all)\n"
    "  --from T      series: rows with event time >= T: 2013, 2013-06, 2013-06-15,\n"
    "                2013-06-15T12:00[:SS[.f]] with an optional zone (Z, +02:00), or an epoch\n"
    "                with its unit: 1706702400s, ...ms, ...us, ...ns (docs/time.md)\n"
    "  --to T        series: rows with event time < T (exclusive; --to 2014 ends with 2013)\n"
    "  --timezone TZ IANA zone (Europe/Berlin): --from/--to without a zone are local time\n"
    "                there, and timestamps print as local time with their offset (default:\n"
    "                UTC, printed with Z)\n"
    "  --columns a,b only these columns\n"
    "  --dedup R     series: last (of rows with the same timestamp, only the newest\n"
    "                version's), last:K,... (the same timestamp and values of columns K...),\n"
    "                or none (every row); default: the series' setting (pond set)\n"
    "  --sql \"SQL\"   run SQL over the file, named `source` (see pond query --help)\n";

static const char USAGE[] = "pond cat [--format F] [--version N] [--from T] [--to T] "
                            "[--timezone TZ] [--columns a,b] [--dedup R] PATH";

static int cat_raw(cli_pond *p, const char *path, int64_t version)
{
    pond_reader *r = NULL;
    if ((version ? pond_fs_open_reader_version(&r, p->fs, NULL, path, version)
                 : pond_fs_open_reader(&r, p->fs, NULL, path)) < 0)
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
    if (cli_wants_help(argc, argv, HELP))
        return 0;
    /* --sql "SELECT ... FROM source": SQL over the file (cmd_query.c) */
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--sql"))
            return cmd_cat_sql(cli, argc, argv);
    int64_t version = 0;
    const char *path = NULL, *format = NULL, *columns = NULL;
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    bool has_from = false, has_to = false;
    const char *from_text = NULL, *to_text = NULL;
    pond_tz *tz = NULL;
    int urc = 0;
    char **dedup_keys = NULL;
    size_t n_dedup_keys = 0;
    const char *dedup_text = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(a, "--version") && more) {
            char *end;
            version = strtoll(argv[++i], &end, 10);
            if (*end || version < 1)
                return pond_tz_free(tz), cli_usage(USAGE, "bad version '%s'", argv[i]);
        } else if (!strcmp(a, "--format") && more) {
            format = argv[++i];
        } else if ((!strcmp(a, "--from") || !strcmp(a, "--to")) && more) {
            if (a[2] == 'f')
                from_text = argv[++i];
            else
                to_text = argv[++i];
        } else if (!strcmp(a, "--timezone") && more) {
            pond_tz_free(tz);
            tz = NULL;
            if (pond_tz_open(&tz, argv[++i]) < 0)
                return cli_usage(USAGE, "--timezone: %s", pond_error_last()->message);
        } else if (!strcmp(a, "--columns") && more) {
            columns = argv[++i];
        } else if (!strcmp(a, "--dedup") && more) {
            dedup_text = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return pond_tz_free(tz), cli_usage(USAGE, "unknown option '%s'", a);
        } else if (path) {
            return pond_tz_free(tz), cli_usage(USAGE, "one path at a time");
        } else {
            path = a;
        }
    }
    if (from_text || to_text) {
        /* after the loop: --timezone may come after --from */
        const char *t = from_text ? from_text : to_text;
        if (from_text && (urc = pond_time_parse_arg(&ro.from_us, t, strlen(t), tz)) == 0)
            has_from = true;
        if (urc == 0 && to_text) {
            t = to_text;
            if ((urc = pond_time_parse_arg(&ro.to_us, t, strlen(t), tz)) == 0)
                has_to = true;
        }
        if (urc < 0) {
            pond_tz_free(tz);
            return cli_usage(USAGE, "%s: %s", t == from_text ? "--from" : "--to",
                             pond_error_last()->message);
        }
    }
    if (dedup_text && cli_parse_dedup(dedup_text, &ro.dedup, &dedup_keys, &n_dedup_keys) < 0) {
        pond_tz_free(tz);
        return cli_usage(USAGE, "--dedup: 'last', 'last:COLUMN,...' or 'none', not '%s'",
                         dedup_text);
    }
    cli_format_set_timezone(tz);
    if (!path) {
        cli_free_strings(dedup_keys, n_dedup_keys);
        pond_tz_free(tz);
        return cli_usage(USAGE, "no path given");
    }
    if (format && strcmp(format, "raw") && strcmp(format, "table") && strcmp(format, "csv") &&
        strcmp(format, "json") && strcmp(format, "parquet"))
        return pond_tz_free(tz), cli_free_strings(dedup_keys, n_dedup_keys),
               cli_usage(USAGE, "unknown format '%s'", format);
    cli_pond p;
    if (cli_pond_open(&p, cli, false))
        return pond_tz_free(tz), cli_free_strings(dedup_keys, n_dedup_keys), 1;
    int rc = 0;
    pond_stat st;
    char **cols = NULL;
    int ncols = 0;
    if (pond_fs_stat(&st, p.fs, NULL, path) < 0) {
        rc = cli_fail();
        goto done;
    }
    bool tabular = st.type == POND_ENTRY_FILE_TABLE || st.type == POND_ENTRY_FILE_SERIES;
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
        if (has_from || has_to || columns) {
            rc = cli_error("%s: --from, --to and --columns are for tables and series", path);
            goto done;
        }
        rc = cat_raw(&p, path, version);
        goto done;
    }
    if ((has_from || has_to) && st.type != POND_ENTRY_FILE_SERIES) {
        rc = cli_error("%s: --from/--to need a series; this is a table", path);
        goto done;
    }
    if (has_from || has_to) {
        ro.has_range = true;
        if (!has_from)
            ro.from_us = INT64_MIN;
        if (!has_to)
            ro.to_us = INT64_MAX;
        if (ro.to_us <= ro.from_us) {
            rc = cli_error("--to must be after --from");
            goto done;
        }
    }
    if (columns) {
        for (const char *c = columns; c; c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL)
            ncols++;
        cols = calloc((size_t)ncols, sizeof *cols);
        int k = 0;
        for (const char *c = columns; c && cols; k++) {
            const char *e = strchr(c, ',');
            cols[k] = e ? strndup(c, (size_t)(e - c)) : strdup(c);
            c = e ? e + 1 : NULL;
        }
        ro.columns = (const char *const *)cols;
        ro.n_columns = ncols;
    }
    ro.file_version = version;
    ro.dedup_keys = (const char *const *)dedup_keys;
    ro.n_dedup_keys = n_dedup_keys;
    if (ro.dedup != POND_DEDUP_DEFAULT && (st.type != POND_ENTRY_FILE_SERIES || version)) {
        rc = cli_error("%s: --dedup is for reading a whole series", path);
        goto done;
    }
    struct ArrowArrayStream s;
    if (pond_table_read_stream(&s, p.fs, NULL, path, &ro) < 0) {
        rc = cli_fail();
        goto done;
    }
    if (format && !strcmp(format, "parquet")) {
        if (isatty(1))
            rc = cli_error("--format parquet writes binary data: redirect it to a file");
        else if (cli_write_parquet_fd(1, &s) < 0)
            rc = cli_fail();
    } else {
        cli_fmt f = !format ? (cli_stdout_tty() ? FMT_TABLE : FMT_CSV)
                    : !strcmp(format, "table") ? FMT_TABLE
                    : !strcmp(format, "json")  ? FMT_JSON
                                               : FMT_CSV;
        if (cli_write_stream(stdout, &s, f, NULL) < 0)
            rc = cli_fail();
    }
    s.release(&s);
done:
    cli_free_strings(dedup_keys, n_dedup_keys);
    for (int k = 0; k < ncols && cols; k++)
        free(cols[k]);
    free(cols);
    cli_pond_close(&p);
    cli_format_set_timezone(NULL);
    pond_tz_free(tz);
    return rc;
}
