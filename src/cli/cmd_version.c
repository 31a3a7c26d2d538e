#include "cli/cmd.h"

int cmd_version(pond_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (cli_wants_help(argc, argv, "usage: pond version\n\nPrint the pond version.\n"))
        return 0;
    if (argc > 1)
        return cli_usage("pond version", "unexpected argument '%s'", argv[1]);
    printf("pond %s\n", pond_version());
    return 0;
}
