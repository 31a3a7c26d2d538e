#include "cli/cli_pond.h"

#include <pond/table.h>

#include <stdlib.h>
#include <string.h>

static const char HELP[] =
    "usage: pond set PATH KEY=VALUE...\n"
    "\n"
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

static const char USAGE[] = "pond set PATH KEY=VALUE...";

int cmd_set(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, HELP))
        return 0;
    if (argc < 3)
        return cli_usage(USAGE, argc < 2 ? "no path given" : "no setting given");
    if (argv[1][0] == '-')
        return cli_usage(USAGE, "unknown option '%s'", argv[1]);
    /* check every setting before opening the pond */
    for (int i = 2; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        pond_dedup d;
        char **keys;
        size_t nk;
        if (!eq)
            return cli_usage(USAGE, "'%s': settings are KEY=VALUE", argv[i]);
        if (!strncmp(argv[i], "dedup=", 6)) {
            if (cli_parse_dedup(eq + 1, &d, &keys, &nk) < 0)
                return cli_usage(USAGE, "dedup: 'last', 'last:COLUMN,...' or 'none', not '%s'",
                                 eq + 1);
            cli_free_strings(keys, nk);
        } else if (!strncmp(argv[i], "compact=", 8)) {
            char *end;
            long long n = strtoll(eq + 1, &end, 10);
            if (strcmp(eq + 1, "off") && (*end || end == eq + 1 || n < 2))
                return cli_usage(USAGE, "compact: a number of versions >= 2, or 'off', not '%s'",
                                 eq + 1);
        } else {
            return cli_usage(USAGE, "unknown setting '%.*s' (dedup, compact)",
                             (int)(eq - argv[i]), argv[i]);
        }
    }
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    pond_fs_node *h = NULL;
    int rc = cli_pond_begin(&p, cli);
    if (rc == 0 && pond_fs_node_open(&h, p.fs, NULL, argv[1], 0) < 0)
        rc = cli_fail();
    for (int i = 2; i < argc && rc == 0; i++) {
        const char *v = strchr(argv[i], '=') + 1;
        if (!strncmp(argv[i], "dedup=", 6)) {
            pond_dedup d;
            char **keys;
            size_t nk;
            if (cli_parse_dedup(v, &d, &keys, &nk) < 0)
                rc = cli_error("out of memory");
            else if (pond_series_set_dedup(h, d, (const char *const *)keys, nk) < 0)
                rc = cli_fail();
            cli_free_strings(keys, nk);
        } else if (pond_series_set_compact_after(h, strcmp(v, "off") ? strtoll(v, NULL, 10) : 0) <
                   0) {
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
