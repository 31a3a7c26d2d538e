#include "cli/cli_pond.h"

#include <pond/export.h>
#include <pond/timefmt.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char ABOUT[] =
    "Write tables and series to a host directory for other engines (DuckDB, Spark, Trino,\n"
    "Polars, delta-rs). One SOURCE path exports into DIR itself; several sources, or a glob,\n"
    "export each into DIR/<its path in the pond>/. Exporting again writes only what changed\n"
    "since the last export (and nothing at all when nothing did). The pond is only read.\n";

static const char FOOTER[] =
    "A series exports the rows pond cat gives: its dedup rule applies (pond set), and after\n"
    "pond gc --compact-series nothing is written again for the versions it replaced.\n"
    "Changing --partition, --from, --to or --columns, or a source's schema or its dedup\n"
    "rule, rewrites that source's files. Files of DIR that pond did not write are never\n"
    "touched; pond's own state lives in DIR/_pond_export.* and DIR/_pond_tmp/.\n";

typedef struct {
    char **paths;
    size_t n, cap;
    int skipped;
} sources;

static int add_source(sources *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->paths[i], path))
            return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **p = realloc(s->paths, cap * sizeof *p);
        if (!p)
            return -1;
        s->paths = p;
        s->cap = cap;
    }
    if (!(s->paths[s->n] = strdup(path)))
        return -1;
    s->n++;
    return 0;
}

/* A glob match that is not a table or series (by lstat: a link is not followed) is passed
 * over; a literal operand is checked by the export itself. */
static int on_operand(const char *path, const pond_stat *st, bool from_glob, void *payload)
{
    sources *s = payload;
    if (from_glob && st->type != POND_ENTRY_FILE_TABLE && st->type != POND_ENTRY_FILE_SERIES) {
        s->skipped++;
        return CLI_SKIPPED;
    }
    char *norm = NULL;
    int rc = 0;
    if (pond_path_normalize(&norm, NULL, NULL, path) < 0)
        rc = cli_fail();
    else if (add_source(s, norm) < 0)
        rc = cli_error("out of memory");
    pond_free(norm);
    return rc;
}

typedef struct {
    int64_t last_us;
    bool drawn;
} progress;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_progress(const char *source, int64_t rows, int64_t bytes, void *payload)
{
    progress *p = payload;
    if (!cli_stderr_tty())
        return;
    int64_t t = mono_us();
    if (t - p->last_us < 100000)
        return;
    p->last_us = t;
    char sz[32];
    cli_human_size(sz, bytes);
    fprintf(stderr, "\r\033[Kexport %s: %lld rows, %s", source, (long long)rows, sz);
    fflush(stderr);
    p->drawn = true;
}

static void clear_progress(progress *p)
{
    if (p->drawn)
        fprintf(stderr, "\r\033[K");
    p->drawn = false;
}

static void on_note(const char *msg, void *payload)
{
    clear_progress(payload);
    fprintf(stderr, "pond: note: %s\n", msg);
}

/* "1 file", "2 files" */
static const char *plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void summary(const char *src, const char *dir, const pond_export_result *r)
{
    if (r->unchanged) {
        printf("%s -> %s: unchanged (%lld %s)\n", src, dir, (long long)r->files_total,
               plural(r->files_total, "file", "files"));
        return;
    }
    if (!r->files_written && !r->files_removed) {
        /* a compaction (or a table version with the same rows), or versions outside the range */
        printf("%s -> %s: no rows to write (the new versions hold rows already exported, or none "
               "in range); %lld %s in all\n",
               src, dir, (long long)r->files_total, plural(r->files_total, "file", "files"));
        return;
    }
    char sz[32];
    cli_human_size(sz, r->bytes_written);
    printf("%s -> %s: %lld %s in %lld new %s (%s)", src, dir, (long long)r->rows,
           plural(r->rows, "row", "rows"), (long long)r->files_written,
           plural(r->files_written, "file", "files"), sz);
    if (r->files_removed)
        printf(", %lld %s replaced", (long long)r->files_removed,
               plural(r->files_removed, "file", "files"));
    if (r->full && r->files_removed)
        printf(" (rewritten whole)");
    if (r->delta_version >= 0)
        printf(", Delta version %lld", (long long)r->delta_version);
    printf("; %lld %s in all\n", (long long)r->files_total,
           plural(r->files_total, "file", "files"));
}

int cmd_export(pond_cli *cli, int argc, char **argv)
{
    pond_export_options o = POND_EXPORT_OPTIONS_INIT;
    const char *format = NULL, *partition = NULL, *columns = NULL;
    const char *from_text = NULL, *to_text = NULL;
    int64_t target = 0;
    pond_tz *tz = NULL;
    const cli_opt opts[] = {
        {.name = "--format",
         .kind = CLI_OPT_CHOICE,
         .dest = &format,
         .arg = "F",
         .choices = "parquet|delta",
         .help = "parquet (default): a Hive-partitioned Parquet dataset\n"
                 "(DIR/year=2024/month=1/part-....parquet); delta: a Delta\n"
                 "table"},
        {.name = "--partition",
         .kind = CLI_OPT_CHOICE,
         .dest = &partition,
         .arg = "P",
         .choices = "none|year|year,month|year,month,day",
         .help = "series: year,month (default), year,month,day, year or\n"
                 "none; by event time, UTC. Tables are never partitioned"},
        {.name = "--from",
         .kind = CLI_OPT_STRING,
         .dest = &from_text,
         .arg = "T",
         .help = "series: rows with event time >= T: 2013, 2013-06,\n"
                 "2013-06-15, 2013-06-15T12:00[:SS[.f]] with an optional\n"
                 "zone (Z, +02:00), or an epoch with its unit: 1706702400s,\n"
                 "...ms, ...us, ...ns (as pond cat --from; docs/time.md)"},
        {.name = "--to",
         .kind = CLI_OPT_STRING,
         .dest = &to_text,
         .arg = "T",
         .help = "series: rows with event time < T (exclusive)"},
        {.name = "--timezone",
         .kind = CLI_OPT_FN,
         .dest = &tz,
         .arg = "TZ",
         .fn = cli_parse_timezone,
         .help = "IANA zone (Europe/Berlin): --from/--to without a zone are\n"
                 "local time there (default: UTC); partitions stay UTC"},
        {.name = "--columns",
         .kind = CLI_OPT_STRING,
         .dest = &columns,
         .arg = "a,b",
         .help = "only these columns"},
        {.name = "--target-size",
         .kind = CLI_OPT_SIZE,
         .dest = &target,
         .arg = "S",
         .min = 1,
         .max = INT64_MAX,
         .help = "close a file once it reaches S bytes (default 128MiB;\n"
                 "64MiB, 1G ...)"},
        {0},
    };
    const cli_spec spec = {
        .command = "export",
        .operands = "SOURCE... host:DIR",
        .about = ABOUT,
        .opts = opts,
        .footer = FOOTER,
        .missing = "no source given",
        .min_operands = 1,
        .max_operands = -1,
    };
    int nargs, rc = cli_parse(&nargs, &spec, argc, argv);
    if (rc >= 0) {
        pond_tz_free(tz);
        return rc;
    }
    char **args = argv;
    char **cols = NULL;
    int ncols = 0;
    sources s = {NULL, 0, 0, 0};
    cli_pond p = {0};
    progress prog = {0, false};
    if (format && !strcmp(format, "delta"))
        o.format = POND_EXPORT_DELTA;
    if (partition && pond_export_partition_parse(&o.partition, partition) < 0) {
        rc = cli_fail(); /* the choices above are what it takes */
        goto out;
    }
    if ((rc = cli_time_range(&o.has_range, &o.from_us, &o.to_us, &spec, from_text, to_text, tz)) >=
        0)
        goto out;
    if (o.has_range && o.to_us <= o.from_us) {
        rc = cli_usage(&spec, "--to must be after --from");
        goto out;
    }
    o.target_file_bytes = target;
    if (columns && !*columns) {
        rc = cli_usage(&spec, "--columns: no column named");
        goto out;
    }
    if (nargs < 2) {
        rc = cli_usage(&spec, "no destination (host:DIR)");
        goto out;
    }
    const char *dest = cli_host_path(args[nargs - 1]);
    if (!dest || !*dest) {
        rc = cli_usage(&spec, "the destination must be a host directory (host:DIR)");
        goto out;
    }
    for (int i = 0; i + 1 < nargs; i++)
        if (cli_host_path(args[i])) {
            rc = cli_usage(&spec, "'%s': sources are pond paths", args[i]);
            goto out;
        }
    if (columns) {
        if (pond_table_columns_parse(&cols, &ncols, columns) < 0) {
            rc = cli_usage(&spec, "--%s", pond_error_last()->message);
            goto out;
        }
        o.columns = (const char *const *)cols;
        o.n_columns = ncols;
    }
    o.progress = on_progress;
    o.note = on_note;
    o.payload = &prog;
    if (cli_pond_open_leased(&p, cli, "pond export")) {
        rc = 1;
        goto out;
    }
    bool globs = false;
    rc = cli_expand_operands(&globs, &p, args, nargs - 1, "table or series", "other entries",
                             on_operand, &s);
    bool many = nargs > 2 || globs;
    if (rc == 0 && s.skipped)
        fprintf(stderr, "pond: note: %d %s not exported (not tables or series)\n", s.skipped,
                s.skipped == 1 ? "match is" : "matches are");
    int64_t total_rows = 0, total_files = 0, total_bytes = 0, unchanged = 0;
    for (size_t i = 0; i < s.n && rc == 0; i++) {
        char *dir = NULL;
        if (many && pond_export_subdir(&dir, dest, s.paths[i]) < 0) {
            rc = cli_fail();
            break;
        }
        pond_export_result r;
        cli_note_if_stale(p.fs, s.paths[i]);
        int e = pond_export_source(&r, p.fs, NULL, s.paths[i], many ? dir : dest, &o);
        clear_progress(&prog);
        if (e < 0)
            rc = cli_fail();
        else
            summary(s.paths[i], many ? dir : dest, &r);
        total_rows += r.rows;
        total_files += r.files_written;
        total_bytes += r.bytes_written;
        unchanged += r.unchanged;
        pond_free(dir);
    }
    if (rc == 0 && s.n > 1) {
        char sz[32];
        cli_human_size(sz, total_bytes);
        printf("%zu sources: %lld %s in %lld new %s (%s), %lld unchanged\n", s.n,
               (long long)total_rows, plural(total_rows, "row", "rows"), (long long)total_files,
               plural(total_files, "file", "files"), sz, (long long)unchanged);
    }
out:
    cli_pond_close(&p); /* a zeroed one too */
    for (size_t i = 0; i < s.n; i++)
        free(s.paths[i]);
    free(s.paths);
    pond_free(cols);
    pond_tz_free(tz);
    return rc;
}
