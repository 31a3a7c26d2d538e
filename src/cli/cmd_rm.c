#include "cli/cli_pond.h"

#include <string.h>

int cmd_rm(pond_cli *cli, int argc, char **argv)
{
    bool recursive = false, force = false;
    const cli_opt opts[] = {
        {.name = "-r",
         .alias = "-R",
         .kind = CLI_OPT_FLAG,
         .dest = &recursive,
         .help = "remove directories and everything under them"},
        {.name = "--force",
         .kind = CLI_OPT_FLAG,
         .dest = &force,
         .help = "remove a source of derived nodes too (they keep their last rows and say\n"
                 "their source is gone)"},
        {0},
    };
    const cli_spec spec = {
        .command = "rm",
        .operands = "PATH...",
        .about = "Remove files, symlinks or empty directories, in one transaction.\n"
                 "Their versions stay readable with --at until gc drops them. A series that\n"
                 "derived nodes are computed from is refused without --force.\n",
        .opts = opts,
        .missing = "no path given",
        .min_operands = 1,
        .max_operands = -1,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        return rc;
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    rc = cli_pond_begin(&p, cli);
    /* the sources of derived nodes are kept unless --force (the library's rule) */
    for (int i = 0; i < n && rc == 0; i++)
        if (pond_derive_remove(p.fs, NULL, argv[i], recursive, force) < 0)
            rc = cli_fail();
    if (rc == 0)
        rc = cli_pond_commit(&p);
    cli_pond_close(&p);
    return rc;
}
