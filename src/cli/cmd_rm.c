#include "cli/cli_pond.h"

#include <string.h>

static const char HELP[] = "usage: pond rm [-r] PATH...\n"
                           "\n"
                           "Remove files, symlinks or empty directories, in one transaction.\n"
                           "Their versions stay readable with --at until gc drops them.\n"
                           "  -r   remove directories and everything under them\n";

int cmd_rm(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, HELP))
        return 0;
    bool recursive = false;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "-r") || !strcmp(argv[first], "-R"))
            recursive = true;
        else
            return cli_usage("pond rm [-r] PATH...", "unknown option '%s'", argv[first]);
    }
    if (first >= argc)
        return cli_usage("pond rm [-r] PATH...", "no path given");
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    int rc = cli_pond_begin(&p, cli);
    for (int i = first; i < argc && rc == 0; i++)
        if (pond_fs_remove(p.fs, NULL, argv[i], recursive) < 0)
            rc = cli_fail();
    if (rc == 0)
        rc = cli_pond_commit(&p);
    cli_pond_close(&p);
    return rc;
}
