#include "cli/cli_pond.h"

#include <stdlib.h>
#include <string.h>

/* "30d", "12h", "90m", "10s", "0s", "1.5h": microseconds. */
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
    double v = digits ? strtod(s, NULL) * mul * 1e6 : -1;
    if (!digits || mul < 0 || v >= 9.2e18)
        return pond_error_set(POND_EINVALID, POND_DOM_CLI,
                              "'%s' is not a duration (a number with s, m, h or d: 30d, 12h)", s);
    *(int64_t *)dest = (int64_t)v;
    return 0;
}

int cmd_gc(pond_cli *cli, int argc, char **argv)
{
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    bool keep_age_given = false;
    const cli_opt opts[] = {
        {.name = "--keep-versions", .kind = CLI_OPT_INT, .dest = &o.keep_versions, .arg = "N",
         .help = "keep only the newest N versions of each file (history older than\n"
                 "that is dropped for good, also for --at)",
         .min = 1, .max = INT64_MAX},
        {.name = "--keep-age", .kind = CLI_OPT_FN, .dest = &o.keep_age_us, .arg = "DURATION",
         .help = "drop versions older than DURATION (the newest version always stays)",
         .fn = parse_duration, .given = &keep_age_given},
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
        .about = "Remove what no retained version needs: blobs in _large_files/ that no version\n"
                 "refers to, data files no commit refers to (left by interrupted writers) and stale\n"
                 "temp files. By default every version is kept (and stays readable with --at).\n"
                 "Takes the pond's lock.\n",
        .opts = opts,
        .footer = "DURATION is a number with s, m, h or d (e.g. 30d, 12h, 0s).\n",
        .max_operands = 0,
    };
    int n, prc = cli_parse(&n, &spec, argc, argv);
    if (prc >= 0)
        return prc;
    if (keep_age_given && o.keep_age_us <= 0)
        return cli_usage(&spec, "--keep-age: a duration above 0 (the newest version always "
                                "stays)");
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
    cli_pond_close(&p);
    return 0;
}
