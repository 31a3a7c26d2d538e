#include "cli/cli_pond.h"

#include <pond/table.h>

#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Record settings of a series, in one transaction. A change of settings is a new version\n"
    "of the series that holds no rows (its size is 0) and carries them; `pond describe` shows\n"
    "them. Setting what is already set writes nothing.\n"
    "\n"
    "  dedup=last       reads return, of rows with the same timestamp, only the one from the\n"
    "                   newest version (late data replaces earlier data); within a version the\n"
    "                   last row wins. Every read applies it: cat, query, copy out, export.\n"
    "  dedup=last:K,... the same for rows with the same timestamp and values of columns K...\n"
    "  dedup=none       every row of every version (the default)\n"
    "  compact=N        after a `pond copy` into the series, compact it once N versions\n"
    "                   have been written since its last compaction (see pond gc\n"
    "                   --compact-series); N >= 2\n"
    "  compact=off      no automatic compaction (the default)\n";

/* compact=N (N >= 2) or compact=off (0). */
static int parse_compact(int64_t *out, const char *v)
{
    if (!strcmp(v, "off")) {
        *out = 0;
        return 0;
    }
    return cli_parse_int(out, v, 2, INT64_MAX) == 0 ? 0 : -1;
}

int cmd_set(pond_cli *cli, int argc, char **argv)
{
    const cli_spec spec = {
        .command = "set",
        .operands = "PATH KEY=VALUE...",
        .about = ABOUT,
        .missing = "need a path and at least one KEY=VALUE",
        .min_operands = 2,
        .max_operands = -1,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        return rc;
    /* check every setting before opening the pond */
    for (int i = 1; i < n; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq)
            return cli_usage(&spec, "'%s': settings are KEY=VALUE", argv[i]);
        if (!strncmp(argv[i], "dedup=", 6)) {
            cli_dedup d = {0};
            int bad = cli_dedup_parse(&d, eq + 1);
            cli_dedup_dispose(&d);
            if (bad < 0)
                return cli_usage(&spec, "dedup: %s", pond_error_last()->message);
        } else if (!strncmp(argv[i], "compact=", 8)) {
            int64_t k;
            if (parse_compact(&k, eq + 1) < 0)
                return cli_usage(&spec, "compact: a number of versions >= 2, or 'off', not '%s'",
                                 eq + 1);
        } else {
            return cli_usage(&spec, "unknown setting '%.*s' (dedup, compact)", (int)(eq - argv[i]),
                             argv[i]);
        }
    }
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    pond_fs_node *h = NULL;
    rc = cli_pond_begin(&p, cli);
    if (rc == 0 && pond_fs_node_open(&h, p.fs, NULL, argv[0], 0) < 0)
        rc = cli_fail();
    for (int i = 1; i < n && rc == 0; i++) {
        const char *v = strchr(argv[i], '=') + 1;
        if (!strncmp(argv[i], "dedup=", 6)) {
            cli_dedup d = {0};
            if (cli_dedup_parse(&d, v) < 0 ||
                pond_series_set_dedup(h, d.rule, (const char *const *)d.keys, d.n_keys) < 0)
                rc = cli_fail();
            cli_dedup_dispose(&d);
        } else {
            int64_t k = 0;
            (void)parse_compact(&k, v); /* checked above */
            if (pond_series_set_compact_after(h, k) < 0)
                rc = cli_fail();
        }
    }
    pond_fs_node_free(h);
    if (rc == 0 && !pond_fs_txn_changes(p.fs))
        pond_fs_abort(p.fs); /* already set: nothing to commit */
    else if (rc == 0)
        rc = cli_pond_commit(&p);
    cli_pond_close(&p);
    return rc;
}
