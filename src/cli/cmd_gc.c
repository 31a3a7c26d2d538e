#include "cli/cli_pond.h"

#include <pond/table.h>

#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: pond gc [--keep-versions N] [--keep-age DURATION] [--grace DURATION] [--compact]\n"
    "\n"
    "Remove what no retained version needs: blobs in _large_files/ that no version refers to,\n"
    "data files no commit refers to (left by interrupted writers) and stale temp files. By\n"
    "default every version is kept (and stays readable with --at). Takes the pond's lock.\n"
    "\n"
    "  --keep-versions N    keep only the newest N versions of each file (history older than\n"
    "                       that is dropped for good, also for --at)\n"
    "  --keep-age D         drop versions older than D (the newest version always stays)\n"
    "  --grace D            never remove files younger than D (default 1h), so a concurrent\n"
    "                       writer's new files are safe\n"
    "  --compact            merge each directory's data files into one (faster opens)\n"
    "  --compact-series [PATTERN]  first, in a transaction of its own, rewrite the versions\n"
    "                       of each series matching PATTERN (a pond glob; default: every\n"
    "                       series) written since its last compaction into one version with\n"
    "                       exactly their rows in their order; it records the versions it\n"
    "                       replaces: reads skip them, --at before it still reads them, and\n"
    "                       retention (--keep-versions, --keep-age) may then drop them\n"
    "DURATION is a number with s, m, h or d (e.g. 30d, 12h, 0s).\n";

static const char USAGE[] =
    "pond gc [--keep-versions N] [--keep-age DURATION] [--grace DURATION] [--compact]\n"
    "        [--compact-series [PATTERN]]";

typedef struct {
    cli_pond *p;
    int64_t compacted;
    int rc;
} compact_ctx;

static int compact_one(const char *path, const pond_stat *st, const char *const *caps, size_t n,
                       void *payload)
{
    (void)caps;
    (void)n;
    compact_ctx *c = payload;
    if (st->type != POND_ENTRY_FILE_SERIES)
        return 0;
    pond_fs_node *h = NULL;
    pond_series_compact_result r;
    if (pond_fs_node_open(&h, c->p->fs, NULL, path, POND_FS_NODE_NOFOLLOW) < 0 ||
        pond_series_compact(&r, h, NULL) < 0) {
        pond_fs_node_free(h);
        c->rc = cli_fail();
        return 1;
    }
    pond_fs_node_free(h);
    if (r.version > 0) {
        printf("compacted %s: versions %lld..%lld (%lld with rows, %lld rows) into version %lld\n",
               path, (long long)r.replaced_lo, (long long)r.replaced_hi,
               (long long)r.versions_replaced, (long long)r.rows, (long long)r.version);
        c->compacted++;
    }
    return 0;
}

/* Series compaction: one transaction for every series the pattern matches. */
static int compact_series(cli_pond *p, pond_cli *cli, const char *pattern)
{
    compact_ctx c = {p, 0, 0};
    if (cli_pond_begin(p, cli))
        return 1;
    int g = pond_fs_glob(p->fs, NULL, pattern, compact_one, &c);
    if (g < 0 && c.rc == 0)
        c.rc = cli_fail();
    if (c.rc == 0 && c.compacted)
        c.rc = cli_pond_commit(p);
    else
        pond_fs_abort(p->fs);
    if (c.rc == 0 && !c.compacted)
        printf("compacted nothing: no series has 2 versions with rows since its last "
               "compaction\n");
    return c.rc;
}

static int64_t parse_duration_us(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    double mul = !strcmp(end, "s") || !*end ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600
                 : !strcmp(end, "d")                                        ? 86400
                                                                            : -1;
    if (mul < 0)
        return -1;
    return (int64_t)(v * mul * 1e6);
}

int cmd_gc(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, HELP))
        return 0;
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    const char *series = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(a, "--keep-versions") && more) {
            char *end;
            o.keep_versions = strtoll(argv[++i], &end, 10);
            if (*end || o.keep_versions < 1)
                return cli_usage(USAGE, "--keep-versions needs a number >= 1");
        } else if (!strcmp(a, "--keep-age") && more) {
            if ((o.keep_age_us = parse_duration_us(argv[++i])) <= 0)
                return cli_usage(USAGE, "bad duration '%s'", argv[i]);
        } else if (!strcmp(a, "--grace") && more) {
            if ((o.grace_us = parse_duration_us(argv[++i])) < 0)
                return cli_usage(USAGE, "bad duration '%s'", argv[i]);
        } else if (!strcmp(a, "--compact")) {
            o.compact = true;
        } else if (!strcmp(a, "--compact-series")) {
            series = "/**";
            if (more && argv[i + 1][0] != '-')
                series = argv[++i];
        } else {
            return cli_usage(USAGE, "unknown argument '%s'", a);
        }
    }
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    if (series && compact_series(&p, cli, series)) {
        cli_pond_close(&p);
        return 1;
    }
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
