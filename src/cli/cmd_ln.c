#include "cli/cli_pond.h"

#include <string.h>

static const char HELP[] = "usage: pond ln -s TARGET LINK\n"
                           "\n"
                           "Create a symbolic link LINK in the pond whose target is the path text\n"
                           "TARGET (relative to LINK's directory, or absolute in the pond).\n";

int cmd_ln(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, HELP))
        return 0;
    if (argc != 4 || strcmp(argv[1], "-s") != 0)
        return cli_usage("pond ln -s TARGET LINK", "only symbolic links: pond ln -s TARGET LINK");
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    int rc = cli_pond_begin(&p, cli);
    if (rc == 0 && pond_fs_symlink(p.fs, NULL, argv[2], argv[3]) < 0)
        rc = cli_fail();
    if (rc == 0)
        rc = cli_pond_commit(&p);
    cli_pond_close(&p);
    return rc;
}
