#include "cli/cli_pond.h"

int cmd_mv(pond_cli *cli, int argc, char **argv)
{
    const cli_spec spec = {
        .command = "mv",
        .operands = "SRC DST",
        .about = "Move or rename an entry within the pond. If DST is an existing\n"
                 "directory, SRC moves into it under its own name. The entry keeps its\n"
                 "identity and every version (cat --version K, describe, series reads):\n"
                 "a move adds no version and copies nothing. --at N before the move\n"
                 "still shows SRC.\n",
        .missing = "expected exactly two paths",
        .min_operands = 2,
        .max_operands = 2,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        return rc;
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    rc = cli_pond_begin(&p, cli);
    if (rc == 0 && pond_fs_rename(p.fs, NULL, argv[0], argv[1]) < 0)
        rc = cli_fail();
    if (rc == 0)
        rc = cli_pond_commit(&p);
    cli_pond_close(&p);
    return rc;
}
