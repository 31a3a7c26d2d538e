#include "cli/cli_pond.h"

#include <pond/table.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    pond_series_compact_options o = POND_SERIES_COMPACT_OPTIONS_INIT;
    o.threads = c->p->threads; /* --threads */
    if (pond_fs_node_open(&h, c->p->fs, NULL, path, POND_FS_NODE_NOFOLLOW) < 0 ||
        pond_series_compact(&r, h, &o) < 0) {
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

static void on_warn(const char *message, void *payload)
{
    (void)payload;
    fprintf(stderr, "pond: gc: %s\n", message);
}

int cmd_gc(pond_cli *cli, int argc, char **argv)
{
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    bool compact = false;
    const cli_opt opts[] = {
        {.name = "--keep-versions",
         .kind = CLI_OPT_INT,
         .dest = &o.keep_versions,
         .arg = "N",
         .help = "keep the newest N versions of each file (N >= 1)",
         .min = 1,
         .max = INT64_MAX},
        {.name = "--keep-age",
         .kind = CLI_OPT_FN,
         .dest = &o.keep_age_us,
         .arg = "DURATION",
         .help = "keep every version that was current at some moment of the last\n"
                 "DURATION (0s: keep only the current state)",
         .fn = cli_opt_duration},
        {.name = "--grace",
         .kind = CLI_OPT_FN,
         .dest = &o.grace_us,
         .arg = "DURATION",
         .help = "never remove files younger than DURATION (default 1h), so a\n"
                 "concurrent writer's new files are safe",
         .fn = cli_opt_duration},
        {.name = "--compact",
         .kind = CLI_OPT_FLAG,
         .dest = &o.compact,
         .help = "merge each directory's data files into one (faster opens)"},
        {.name = "--compact-series",
         .kind = CLI_OPT_FLAG,
         .dest = &compact,
         .help = "first, in a transaction of its own, rewrite the versions of each\n"
                 "series matching PATTERN (a pond glob; default: every series) written\n"
                 "since its last compaction into one version with exactly their rows in\n"
                 "their order; it records the versions it replaces: reads skip them,\n"
                 "--at before it still reads them, and retention (--keep-versions,\n"
                 "--keep-age) may then drop them"},
        {0},
    };
    const cli_spec spec = {
        .command = "gc",
        .operands = "[PATTERN]",
        .about =
            "Remove what no read of the pond needs: temp files of interrupted writers, data files\n"
            "no snapshot refers to, blobs in _large_files/ that no version refers to. By default\n"
            "every version is kept (and stays readable with --at). Takes the pond's lock. gc\n"
            "never follows a symbolic link and removes only pond's own regular files; anything\n"
            "else in the pond's directories is left alone and named in a warning. gc reads every\n"
            "commit first: one that cannot be read stops it before anything is removed (what\n"
            "that commit removed is unknown; restore it from a backup).\n"
            "\n"
            "Retention never changes what a read of the current pond returns. For a data file, a\n"
            "table, a symlink or a directory each version is a whole state, so old versions may\n"
            "go; a series reads as the union of all its versions, so of a series still in the\n"
            "pond only versions a compaction replaced are dropped (--compact-series: their rows\n"
            "are in the compacted version). A file or directory that was removed is history only:\n"
            "its versions go like old versions. The state at older transactions then no longer\n"
            "reads as it did: gc records the oldest transaction whose state is complete, and\n"
            "--at an older one fails naming it.\n",
        .opts = opts,
        .footer =
            "DURATION is a number with s, m, h or d (e.g. 30d, 12h, 0s).\n"
            "\n"
            "Order, so that a full disk can be cured: first what is garbage already (nothing\n"
            "is written), then one small retention commit, then what it freed, then merging\n"
            "(a merge that fails, e.g. for lack of space, is a warning: gc still succeeds).\n",
        .max_operands = 1,
    };
    int n, prc = cli_parse(&n, &spec, argc, argv);
    if (prc >= 0)
        return prc;
    if (n && !compact)
        return cli_usage(&spec, "'%s': a PATTERN is for --compact-series", argv[0]);
    const char *series = !compact ? NULL : n ? argv[0] : "/**";
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
    printf("gc: %lld versions dropped, %lld partitions rewritten, %lld data files, %lld blobs "
           "and %lld temp files removed, %s freed\n",
           (long long)r.versions_dropped, (long long)r.partitions_rewritten,
           (long long)r.data_files_removed, (long long)r.blobs_removed, (long long)r.temps_removed,
           freed);
    if (r.oldest_complete > 0)
        printf("gc: transactions before %lld are no longer kept (--at %lld and later read as "
               "before)\n",
               (long long)r.oldest_complete, (long long)r.oldest_complete);
    cli_pond_close(&p);
    return 0;
}
