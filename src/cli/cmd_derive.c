/* pond derive: create a derived node (a rollup kept current as its source grows), or refresh
 * a manual one. docs/derived.md has the rules. */
#include "cli/cli_format.h"
#include "cli/cli_pond.h"

#include <pond/table.h>

#include <stdlib.h>
#include <string.h>

#define MAX_SOURCES 16
#define MAX_LIST 256

static const char ABOUT[] =
    "Create a derived node DEST, in one transaction: a series whose rows a recipe computes\n"
    "from other series, materialized now and kept current by every later write to a source,\n"
    "in the same transaction (only the buckets the new rows fall in are recomputed, late data\n"
    "included). It reads like any series: cat, describe, query, copy out, list -l.\n"
    "\n"
    "  pond derive rollup DEST --source [NAME=]PATH --every 1h [--agg avg,min,max]\n"
    "                     [--columns C,...] [--by K,...] [--timezone ZONE]\n"
    "      one row per bucket (and --by key values): a 'timestamp' column holding the bucket's\n"
    "      start and one column <column>_<agg> per column and aggregate; empty buckets are\n"
    "      absent. A rollup of a rollup (daily from hourly) aggregates the source's\n"
    "      aggregates: exact for min, max, sum and count, avg from sum and count.\n"
    "  pond derive join DEST --source [NAME=]PATH... [--tolerance DURATION]\n"
    "                   [--window NAME=FROM..TO]...\n"
    "      series aligned on time: a row at every timestamp some source has (within its\n"
    "      window), with each source's columns as <NAME>_<column>: its row at that time, or\n"
    "      with --tolerance its latest row at most that much earlier; null when it has none.\n"
    "      The replaced sensor: --window old=..2024-06-01 --window new=2024-06-01..\n"
    "  pond derive sql DEST --source NAME=PATH... --sql \"SELECT ...\"\n"
    "      the rows of one SQL statement (the dialect of pond query) over the sources, each\n"
    "      the SQL table NAME; the result needs a timestamp column (timestamp, time, ts,\n"
    "      event_time or datetime). Recomputed whole when a source changes; the new version\n"
    "      replaces the earlier ones (gc can drop them).\n"
    "  pond derive refresh DEST\n"
    "      recompute DEST from its sources (a recipe made with --refresh manual).\n"
    "\n"
    "A source that derived nodes depend on cannot be removed without rm --force.\n";

static const char FOOTER[] =
    "\nBuckets: Ns, Nm, Nh dividing a day (aligned on the epoch, UTC), 1d, 1w (from Monday),\n"
    "1mo (from local midnight in --timezone, default UTC).\n"
    "Aggregates: avg, min, max, sum, count, first, last (default avg,min,max,sum,count: a rollup "
    "of it can average); nulls are\n"
    "skipped; NaN counts, makes sum, avg and max NaN, and is min only when every value is.\n";

typedef struct {
    const char *v[MAX_SOURCES];
    size_t n;
} sources;

static int opt_window(void *dest, const char *s)
{
    sources *ss = dest;
    if (ss->n == MAX_SOURCES)
        return pond_error_set(POND_EINVALID, POND_DOM_CLI, "at most %d windows", MAX_SOURCES);
    if (!strchr(s, '=') || !strstr(s, ".."))
        return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                              "'%s': a window is NAME=FROM..TO (FROM or TO may be left out)", s);
    ss->v[ss->n++] = s;
    return 0;
}

static int opt_source(void *dest, const char *s)
{
    sources *ss = dest;
    if (ss->n == MAX_SOURCES)
        return pond_error_set(POND_EINVALID, POND_DOM_CLI, "at most %d sources", MAX_SOURCES);
    ss->v[ss->n++] = s;
    return 0;
}

/* A comma-separated list into owned copies (v[0] holds the one buffer the names point in). */
typedef struct {
    char *buf;
    const char *v[MAX_LIST];
    size_t n;
} list;

static int opt_list(void *dest, const char *s)
{
    list *l = dest;
    pond_free(l->buf);
    l->n = 0;
    if (!(l->buf = pond_strdup(s)))
        return POND_ENOMEM;
    for (char *p = l->buf, *q; p; p = q) {
        if ((q = strchr(p, ',')))
            *q++ = 0;
        if (!*p)
            return pond_error_set(POND_EINVALID, POND_DOM_CLI, "an empty name in '%s'", s);
        if (l->n == MAX_LIST)
            return pond_error_set(POND_EINVALID, POND_DOM_CLI, "at most %d names", MAX_LIST);
        l->v[l->n++] = p;
    }
    return 0;
}

static int refresh(pond_cli *cli, const char *path)
{
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    pond_fs_node *h = NULL;
    pond_table_write_result res = {0};
    int rc = cli_pond_begin(&p, cli);
    if (rc == 0 &&
        (pond_fs_node_open(&h, p.fs, NULL, path, 0) < 0 || pond_derive_refresh(&res, h) < 0))
        rc = cli_fail();
    pond_fs_node_free(h);
    if (rc == 0)
        rc = cli_pond_commit(&p);
    if (rc == 0)
        printf("%s: %lld row%s (version %lld)\n", path, (long long)res.rows,
               res.rows == 1 ? "" : "s", (long long)res.version);
    cli_pond_close(&p);
    return rc;
}

int cmd_derive(pond_cli *cli, int argc, char **argv)
{
    sources srcs = {0}, windows = {0};
    int64_t tolerance = 0;
    list aggs = {0}, cols = {0}, by = {0};
    const char *every = NULL, *tz = NULL, *refresh_mode = NULL, *sql = NULL;
    const cli_opt opts[] = {
        {.name = "--source",
         .kind = CLI_OPT_FN,
         .dest = &srcs,
         .arg = "[NAME=]PATH",
         .help = "a source series (repeatable); NAME defaults to its file name",
         .fn = opt_source},
        {.name = "--every",
         .kind = CLI_OPT_STRING,
         .dest = &every,
         .arg = "BUCKET",
         .help = "rollup: the bucket width (15m, 1h, 1d, 1w, 1mo)"},
        {.name = "--agg",
         .kind = CLI_OPT_FN,
         .dest = &aggs,
         .arg = "A,...",
         .help = "rollup: aggregates (avg, min, max, sum, count, first, last)",
         .fn = opt_list},
        {.name = "--columns",
         .kind = CLI_OPT_FN,
         .dest = &cols,
         .arg = "C,...",
         .help = "rollup: the columns to aggregate (default: every numeric one)",
         .fn = opt_list},
        {.name = "--by",
         .kind = CLI_OPT_FN,
         .dest = &by,
         .arg = "K,...",
         .help = "rollup: key columns: one row per bucket and key values",
         .fn = opt_list},
        {.name = "--timezone",
         .kind = CLI_OPT_FN,
         .dest = &tz,
         .arg = "ZONE",
         .help = "rollup: the zone whose midnight starts 1d, 1w and 1mo buckets; join: the\n"
                 "zone of --window times without one (default UTC)",
         .fn = cli_parse_timezone_name},
        {.name = "--tolerance",
         .kind = CLI_OPT_FN,
         .dest = &tolerance,
         .arg = "DURATION",
         .help = "join: as-of: each source's latest row at most DURATION earlier (30s, 5m;\n"
                 "default: equal timestamps only)",
         .fn = cli_opt_duration},
        {.name = "--window",
         .kind = CLI_OPT_FN,
         .dest = &windows,
         .arg = "NAME=FROM..TO",
         .help = "join: source NAME counts only in [FROM, TO) (repeatable; FROM or TO may be\n"
                 "left out; times as --from takes them, in --timezone)",
         .fn = opt_window},
        {.name = "--sql",
         .kind = CLI_OPT_STRING,
         .dest = &sql,
         .arg = "SELECT",
         .help = "sql: the query, over the sources by their NAMEs"},
        {.name = "--refresh",
         .kind = CLI_OPT_CHOICE,
         .dest = &refresh_mode,
         .arg = "WHEN",
         .help = "auto (default): refreshed by every source write; manual: by pond derive "
                 "refresh",
         .choices = "auto|manual"},
        {0},
    };
    const cli_spec spec = {
        .command = "derive",
        .operands = "KIND DEST",
        .about = ABOUT,
        .opts = opts,
        .footer = FOOTER,
        .missing = "need a kind (rollup, join, sql, refresh) and a destination",
        .min_operands = 2,
        .max_operands = 2,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        goto out;
    rc = 0;
    if (!strcmp(argv[0], "refresh")) {
        rc = refresh(cli, argv[1]);
        goto out;
    }
    bool sqlk = !strcmp(argv[0], "sql");
    bool join = sqlk || !strcmp(argv[0], "join"); /* named sources, no buckets */
    if (!join && strcmp(argv[0], "rollup")) {
        rc = cli_usage(&spec, "unknown kind '%s' (rollup, join, sql, refresh)", argv[0]);
        goto out;
    }
    if (sqlk != (sql != NULL)) {
        rc = cli_usage(&spec, sqlk ? "a sql recipe needs --sql \"SELECT ...\""
                                   : "--sql is for sql recipes");
        goto out;
    }
    if (sqlk && (windows.n || tolerance)) {
        rc = cli_usage(&spec, "--window and --tolerance are for joins");
        goto out;
    }
    if (!join && (srcs.n != 1 || !every)) {
        rc = cli_usage(&spec, srcs.n != 1 ? "a rollup has exactly one --source"
                                          : "a rollup needs --every");
        goto out;
    }
    if (join && (!srcs.n || every || aggs.n || cols.n || by.n)) {
        rc = cli_usage(&spec, !srcs.n ? (sqlk ? "a sql recipe needs at least one --source"
                                              : "a join needs at least one --source")
                                      : "--every, --agg, --columns and --by are for rollups");
        goto out;
    }
    if (!join && (windows.n || tolerance)) {
        rc = cli_usage(&spec, "--window and --tolerance are for joins");
        goto out;
    }
    pond_derive_options o = POND_DERIVE_OPTIONS_INIT;
    o.kind = argv[0];
    o.sources = srcs.v;
    o.n_sources = srcs.n;
    o.every = every;
    o.timezone = tz;
    o.aggs = aggs.v;
    o.n_aggs = aggs.n;
    o.columns = cols.v;
    o.n_columns = cols.n;
    o.by = by.v;
    o.n_by = by.n;
    o.refresh_manual = refresh_mode && !strcmp(refresh_mode, "manual");
    o.tolerance_us = tolerance;
    o.windows = windows.v;
    o.n_windows = windows.n;
    o.sql = sql;
    cli_pond p;
    if (cli_pond_open(&p, cli, true)) {
        rc = 1;
        goto out;
    }
    pond_fs_node *h = NULL;
    pond_table_write_result res = {0};
    rc = cli_pond_begin(&p, cli);
    if (rc == 0 &&
        (pond_fs_node_open(&h, p.fs, NULL, argv[1], 0) < 0 || pond_derive_create(&res, h, &o) < 0))
        rc = cli_fail();
    pond_fs_node_free(h);
    if (rc == 0)
        rc = cli_pond_commit(&p);
    if (rc == 0)
        printf("%s: %lld row%s\n", argv[1], (long long)res.rows, res.rows == 1 ? "" : "s");
    cli_pond_close(&p);
out:
    pond_free(aggs.buf);
    pond_free(cols.buf);
    pond_free(by.buf);
    return rc;
}
