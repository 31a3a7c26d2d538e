#include "cli/cli_pond.h"

#include <pond/export.h>
#include <pond/timefmt.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char HELP[] =
    "usage: pond export [--format parquet|delta] [--partition P] [--from T] [--to T]\n"
    "                   [--columns a,b] [--target-size SIZE] SOURCE... host:DIR\n"
    "\n"
    "Write tables and series to a host directory for other engines (DuckDB, Spark, Trino,\n"
    "Polars, delta-rs). One SOURCE path exports into DIR itself; several sources, or a glob,\n"
    "export each into DIR/<its path in the pond>/. Exporting again writes only what changed\n"
    "since the last export (and nothing at all when nothing did). The pond is only read.\n"
    "\n"
    "  --format F        parquet (default): a Hive-partitioned Parquet dataset\n"
    "                    (DIR/year=2024/month=1/part-....parquet); delta: a Delta table\n"
    "  --partition P     series: year,month (default), year,month,day, year or none;\n"
    "                    by event time, UTC. Tables are never partitioned\n"
    "  --from T          series: rows with event time >= T (ISO-8601 like 2024-01-31T12:00Z,\n"
    "                    or epoch with unit: 1706702400s, ...ms, ...us, ...ns)\n"
    "  --to T            series: rows with event time < T (exclusive)\n"
    "  --columns a,b     only these columns\n"
    "  --target-size S   close a file once it reaches S bytes (default 128MiB; 64MiB, 1G ...)\n"
    "\n"
    "Changing --partition, --from, --to or --columns, or a source's schema, rewrites that\n"
    "source's files. Files of DIR that pond did not write are never touched; pond's own state\n"
    "lives in DIR/_pond_export.* and DIR/_pond_tmp/.\n";

/* the options are in the operands text until export has its option table (cli_opt) */
static const cli_spec USAGE[] = {{
    .command = "export",
    .operands = "[--format parquet|delta] [--partition P] [--from T] [--to T] [--columns a,b] "
                "[--target-size S] SOURCE... host:DIR",
}};

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

static int on_match(const char *path, const pond_stat *st, const char *const *caps, size_t ncaps,
                    void *payload)
{
    (void)caps;
    (void)ncaps;
    sources *s = payload;
    if (st->type != POND_ENTRY_FILE_TABLE && st->type != POND_ENTRY_FILE_SERIES) {
        s->skipped++;
        return 0;
    }
    return add_source(s, path) < 0 ? -1 : 0;
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

static void on_progress(void *payload, const char *source, int64_t rows, int64_t bytes)
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

static void on_note(void *payload, const char *msg)
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
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(HELP, stdout);
            return 0;
        }
    pond_export_options o = POND_EXPORT_OPTIONS_INIT;
    const char *columns = NULL;
    char **args = calloc((size_t)argc + 1, sizeof *args);
    int nargs = 0;
    bool has_from = false, has_to = false;
    if (!args)
        return cli_error("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(a, "--format") && more) {
            const char *f = argv[++i];
            if (!strcmp(f, "parquet"))
                o.format = POND_EXPORT_PARQUET;
            else if (!strcmp(f, "delta"))
                o.format = POND_EXPORT_DELTA;
            else {
                free(args);
                return cli_usage(USAGE, "unknown format '%s' (parquet or delta)", f);
            }
        } else if (!strcmp(a, "--partition") && more) {
            if (pond_export_partition_parse(&o.partition, argv[++i]) < 0) {
                free(args);
                return cli_usage(USAGE, "%s", pond_error_last()->message);
            }
        } else if ((!strcmp(a, "--from") || !strcmp(a, "--to")) && more) {
            int64_t us;
            const char *t = argv[++i];
            if (pond_time_parse(&us, t, strlen(t)) < 0) {
                free(args);
                return cli_usage(USAGE, "%s: %s", a, pond_error_last()->message);
            }
            if (a[2] == 'f') {
                o.from_us = us;
                has_from = true;
            } else {
                o.to_us = us;
                has_to = true;
            }
        } else if (!strcmp(a, "--columns") && more) {
            columns = argv[++i];
        } else if (!strcmp(a, "--target-size") && more) {
            o.target_file_bytes = cli_parse_size(argv[++i]);
            if (o.target_file_bytes <= 0) {
                free(args);
                return cli_usage(USAGE, "bad size '%s'", argv[i]);
            }
        } else if (!strcmp(a, "--")) {
            for (i++; i < argc; i++)
                args[nargs++] = argv[i];
        } else if (a[0] == '-' && a[1]) {
            free(args);
            return cli_usage(USAGE, "unknown option '%s'", a);
        } else {
            args[nargs++] = argv[i];
        }
    }
    if (nargs < 2) {
        free(args);
        return cli_usage(USAGE, nargs ? "no destination (host:DIR)" : "no source given");
    }
    const char *dest = cli_host_path(args[nargs - 1]);
    if (!dest || !*dest) {
        free(args);
        return cli_usage(USAGE, "the destination must be a host directory (host:DIR)");
    }
    for (int i = 0; i + 1 < nargs; i++)
        if (cli_host_path(args[i])) {
            int rc = cli_usage(USAGE, "'%s': sources are pond paths", args[i]);
            free(args);
            return rc;
        }
    if (has_from || has_to) {
        o.has_range = true;
        o.from_us = has_from ? o.from_us : INT64_MIN;
        o.to_us = has_to ? o.to_us : INT64_MAX;
        if (o.to_us <= o.from_us) {
            free(args);
            return cli_usage(USAGE, "--to must be after --from");
        }
    }
    char **cols = NULL;
    int ncols = 0;
    if (columns) {
        for (const char *c = columns; c; c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL)
            ncols++;
        cols = calloc((size_t)ncols, sizeof *cols);
        const char *c = columns;
        for (int k = 0; cols && k < ncols; k++) {
            const char *e = strchr(c, ',');
            cols[k] = e ? strndup(c, (size_t)(e - c)) : strdup(c);
            c = e ? e + 1 : c;
        }
        o.columns = (const char *const *)cols;
        o.n_columns = ncols;
    }
    progress prog = {0, false};
    o.progress = on_progress;
    o.note = on_note;
    o.payload = &prog;
    cli_pond p;
    int rc = 0;
    sources s = {NULL, 0, 0, 0};
    bool many = nargs > 2;
    if (cli_pond_open(&p, cli, false)) {
        rc = 1;
        goto out;
    }
    for (int i = 0; i + 1 < nargs && rc == 0; i++) {
        if (strpbrk(args[i], "*?[")) {
            many = true;
            size_t before = s.n;
            int skipped = s.skipped;
            if (pond_fs_glob(p.fs, NULL, args[i], on_match, &s) < 0)
                rc = cli_fail();
            else if (s.n == before)
                rc = cli_error("no table or series matches '%s'%s", args[i],
                               s.skipped > skipped ? " (only directories or data files)" : "");
        } else {
            char *norm = NULL;
            if (pond_path_normalize(&norm, NULL, NULL, args[i]) < 0 || add_source(&s, norm) < 0)
                rc = cli_fail();
            pond_free(norm);
        }
    }
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
    cli_pond_close(&p);
out:
    for (size_t i = 0; i < s.n; i++)
        free(s.paths[i]);
    free(s.paths);
    for (int k = 0; k < ncols && cols; k++)
        free(cols[k]);
    free(cols);
    free(args);
    return rc;
}
