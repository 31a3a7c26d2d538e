#include "cli/cli_pond.h"

static const char HELP[] = "usage: pond mv SRC DST\n"
                           "\n"
                           "Move or rename an entry within the pond. If DST is an existing\n"
                           "directory, SRC moves into it under its own name. The entry keeps its\n"
                           "identity and every version (cat --version K, describe, series reads):\n"
                           "a move adds no version and copies nothing. --at N before the move\n"
                           "still shows SRC. No options.\n";

int cmd_mv(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, HELP))
        return 0;
    if (argc != 3)
        return cli_usage("pond mv SRC DST", "expected exactly two paths");
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    int rc = cli_pond_begin(&p, cli);
    if (rc == 0 && pond_fs_rename(p.fs, NULL, argv[1], argv[2]) < 0)
        rc = cli_fail();
    if (rc == 0)
        rc = cli_pond_commit(&p);
    cli_pond_close(&p);
    return rc;
}
