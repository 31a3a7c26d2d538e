#include "cli/cli_pond.h"

int cmd_rm(pond_cli *cli, int argc, char **argv)
{
    bool recursive = false;
    const cli_opt opts[] = {
        {.name = "-r", .alias = "-R", .kind = CLI_OPT_FLAG, .dest = &recursive,
         .help = "remove directories and everything under them"},
        {0},
    };
    const cli_spec spec = {
        .command = "rm",
        .operands = "PATH...",
        .about = "Remove files, symlinks or empty directories, in one transaction.\n"
                 "Their versions stay readable with --at until gc drops them.\n",
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
    for (int i = 0; i < n && rc == 0; i++)
        if (pond_fs_remove(p.fs, NULL, argv[i], recursive) < 0)
            rc = cli_fail();
    if (rc == 0)
        rc = cli_pond_commit(&p);
    cli_pond_close(&p);
    return rc;
}
