#include "cli/cli_pond.h"

int cmd_ln(pond_cli *cli, int argc, char **argv)
{
    bool symbolic = false;
    const cli_opt opts[] = {
        {.name = "-s",
         .kind = CLI_OPT_FLAG,
         .dest = &symbolic,
         .help = "a symbolic link (required: pond has no hard links)"},
        {0},
    };
    const cli_spec spec = {
        .command = "ln",
        .operands = "TARGET LINK",
        .about = "Create a symbolic link LINK in the pond whose target is the path text\n"
                 "TARGET (relative to LINK's directory, or absolute in the pond).\n",
        .opts = opts,
        .missing = "expected TARGET and LINK",
        .min_operands = 2,
        .max_operands = 2,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        return rc;
    if (!symbolic)
        return cli_usage(&spec, "only symbolic links: pond ln -s TARGET LINK");
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    rc = cli_pond_begin(&p, cli);
    if (rc == 0 && pond_fs_symlink(p.fs, NULL, argv[0], argv[1]) < 0)
        rc = cli_fail();
    if (rc == 0)
        rc = cli_pond_commit(&p);
    cli_pond_close(&p);
    return rc;
}
