#include "cli/cli_pond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: pond gc [--keep-versions N] [--keep-age DURATION] [--grace DURATION] [--compact]\n"
    "\n"
    "Remove what no read of the pond needs: temp files of interrupted writers, data files no\n"
    "snapshot refers to, blobs in _large_files/ that no version refers to. By default every\n"
    "version is kept (and stays readable with --at). Takes the pond's lock. gc never follows a\n"
    "symbolic link and removes only pond's own regular files; anything else in the pond's\n"
    "directories is left alone and named in a warning.\n"
    "\n"
    "Retention never changes what a read of the current pond returns. For a data file, a\n"
    "table, a symlink or a directory each version is a whole state, so old versions may go;\n"
    "a series reads as the union of all its versions, so no version of a series still in the\n"
    "pond is dropped. A file or directory that was removed is history only: its versions go\n"
    "like old versions. The state at older transactions then no longer reads as it did:\n"
    "gc records the oldest transaction whose state is complete, and --at an older one fails\n"
    "naming it.\n"
    "\n"
    "  --keep-versions N    keep the newest N versions of each file (N >= 1)\n"
    "  --keep-age D         keep every version that was current at some moment of the last D\n"
    "                       (0s: keep only the current state)\n"
    "  --grace D            never remove files younger than D (default 1h), so a concurrent\n"
    "                       writer's new files are safe\n"
    "  --compact            merge each directory's data files into one (faster opens)\n"
    "DURATION is a number with s, m, h or d (e.g. 30d, 12h, 0s).\n"
    "\n"
    "Order, so that a full disk can be cured: first what is garbage already (nothing is\n"
    "written), then one small retention commit, then what it freed, then merging (a merge\n"
    "that fails, e.g. for lack of space, is a warning: gc still succeeds).\n";

static const char USAGE[] =
    "pond gc [--keep-versions N] [--keep-age DURATION] [--grace DURATION] [--compact]";

static int64_t parse_duration_us(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    double mul = !strcmp(end, "s") || !*end ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600
                 : !strcmp(end, "d")                                        ? 86400
                                                                            : -1;
    /* at most 1000 years: beyond that (or nan, inf) is not a duration anyone means */
    if (mul < 0 || !(v * mul <= 1000.0 * 366 * 86400))
        return -1;
    return (int64_t)(v * mul * 1e6);
}

static void on_warn(const char *message, void *payload)
{
    (void)payload;
    fprintf(stderr, "pond: gc: %s\n", message);
}

int cmd_gc(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, HELP))
        return 0;
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(a, "--keep-versions") && more) {
            char *end;
            o.keep_versions = strtoll(argv[++i], &end, 10);
            if (*end || o.keep_versions < 1)
                return cli_usage(USAGE, "--keep-versions needs a number >= 1");
        } else if (!strcmp(a, "--keep-age") && more) {
            if ((o.keep_age_us = parse_duration_us(argv[++i])) < 0)
                return cli_usage(USAGE, "bad duration '%s'", argv[i]);
        } else if (!strcmp(a, "--grace") && more) {
            if ((o.grace_us = parse_duration_us(argv[++i])) < 0)
                return cli_usage(USAGE, "bad duration '%s'", argv[i]);
        } else if (!strcmp(a, "--compact")) {
            o.compact = true;
        } else {
            return cli_usage(USAGE, "unknown argument '%s'", a);
        }
    }
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    pond_buf meta = POND_BUF_INIT;
    pond_buf_puts(&meta, "{\"pondCommand\":[");
    for (int i = 0; i < cli->cmdline_argc; i++) {
        if (i)
            pond_buf_putc(&meta, ',');
        cli_json_str(&meta, i == 0 ? "pond" : cli->cmdline_argv[i]);
    }
    pond_buf_puts(&meta, "]}");
    o.command_json = meta.ptr;
    o.warn = on_warn;
    pond_gc_report r;
    int rc = pond_oplog_gc(&r, p.be, &o);
    pond_buf_dispose(&meta);
    if (rc < 0) {
        cli_pond_close(&p);
        return cli_fail();
    }
    char freed[32];
    cli_human_size(freed, r.bytes_freed);
    printf("gc: %lld versions dropped, %lld directories rewritten, %lld data files, %lld blobs "
           "and %lld temp files removed, %s freed\n",
           (long long)r.versions_dropped, (long long)r.partitions_rewritten,
           (long long)r.data_files_removed, (long long)r.blobs_removed,
           (long long)r.temps_removed, freed);
    if (r.oldest_complete > 0)
        printf("gc: transactions before %lld are no longer kept (--at %lld and later read as "
               "before)\n",
               (long long)r.oldest_complete, (long long)r.oldest_complete);
    cli_pond_close(&p);
    return 0;
}
