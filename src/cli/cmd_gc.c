#include "cli/cli_pond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "30d", "12h", "90m", "10s", "0s", "1.5h": microseconds. Digits with at most one '.' and a
 * unit (none means seconds): no sign, exponent, nan or inf; at most 1000 years, beyond which
 * it is not a duration anyone means. */
static int parse_duration(void *dest, const char *s)
{
    const char *p = s;
    bool digits = false, dot = false;
    for (; (*p >= '0' && *p <= '9') || (*p == '.' && !dot); p++) {
        digits |= *p != '.';
        dot |= *p == '.';
    }
    double mul = !strcmp(p, "s") || !*p ? 1 : !strcmp(p, "m") ? 60 : !strcmp(p, "h") ? 3600
                 : !strcmp(p, "d")                                    ? 86400
                                                                      : -1;
    double v = digits ? strtod(s, NULL) * mul : -1;
    if (!digits || mul < 0 || !(v <= 1000.0 * 366 * 86400))
        return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                              "'%s' is not a duration (a number with s, m, h or d: 30d, 12h, "
                              "0s; at most 1000 years)",
                              s);
    *(int64_t *)dest = (int64_t)(v * 1e6);
    return 0;
}

static void on_warn(const char *message, void *payload)
{
    (void)payload;
    fprintf(stderr, "pond: gc: %s\n", message);
}

int cmd_gc(pond_cli *cli, int argc, char **argv)
{
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    const cli_opt opts[] = {
        {.name = "--keep-versions", .kind = CLI_OPT_INT, .dest = &o.keep_versions, .arg = "N",
         .help = "keep the newest N versions of each file (N >= 1)", .min = 1,
         .max = INT64_MAX},
        {.name = "--keep-age", .kind = CLI_OPT_FN, .dest = &o.keep_age_us, .arg = "DURATION",
         .help = "keep every version that was current at some moment of the last\n"
                 "DURATION (0s: keep only the current state)",
         .fn = parse_duration},
        {.name = "--grace", .kind = CLI_OPT_FN, .dest = &o.grace_us, .arg = "DURATION",
         .help = "never remove files younger than DURATION (default 1h), so a\n"
                 "concurrent writer's new files are safe",
         .fn = parse_duration},
        {.name = "--compact", .kind = CLI_OPT_FLAG, .dest = &o.compact,
         .help = "merge each directory's data files into one (faster opens)"},
        {0},
    };
    const cli_spec spec = {
        .command = "gc",
        .operands = "",
        .about =
            "Remove what no read of the pond needs: temp files of interrupted writers, data files\n"
            "no snapshot refers to, blobs in _large_files/ that no version refers to. By default\n"
            "every version is kept (and stays readable with --at). Takes the pond's lock. gc\n"
            "never follows a symbolic link and removes only pond's own regular files; anything\n"
            "else in the pond's directories is left alone and named in a warning.\n"
            "\n"
            "Retention never changes what a read of the current pond returns. For a data file, a\n"
            "table, a symlink or a directory each version is a whole state, so old versions may\n"
            "go; a series reads as the union of all its versions, so no version of a series\n"
            "still in the pond is dropped. A file or directory that was removed is history only:\n"
            "its versions go like old versions. The state at older transactions then no longer\n"
            "reads as it did: gc records the oldest transaction whose state is complete, and\n"
            "--at an older one fails naming it.\n",
        .opts = opts,
        .footer = "DURATION is a number with s, m, h or d (e.g. 30d, 12h, 0s).\n"
                  "\n"
                  "Order, so that a full disk can be cured: first what is garbage already (nothing\n"
                  "is written), then one small retention commit, then what it freed, then merging\n"
                  "(a merge that fails, e.g. for lack of space, is a warning: gc still succeeds).\n",
        .max_operands = 0,
    };
    int n, prc = cli_parse(&n, &spec, argc, argv);
    if (prc >= 0)
        return prc;
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
