#include "cli/cli_pond.h"

int cmd_mkdir(pond_cli *cli, int argc, char **argv)
{
    bool parents = false;
    const cli_opt opts[] = {
        {.name = "-p",
         .kind = CLI_OPT_FLAG,
         .dest = &parents,
         .help = "create missing parents; an existing directory is fine"},
        {0},
    };
    const cli_spec spec = {
        .command = "mkdir",
        .operands = "PATH...",
        .about = "Create directories in the pond, in one transaction.\n",
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
        if (pond_fs_mkdir(p.fs, NULL, argv[i], parents ? POND_FS_MKDIR_PARENTS : 0) < 0)
            rc = cli_fail();
    if (rc == 0)
        rc = cli_pond_commit(&p);
    cli_pond_close(&p);
    return rc;
}
