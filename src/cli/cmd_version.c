#include "cli/cmd.h"

int cmd_version(pond_cli *cli, int argc, char **argv)
{
    (void)cli;
    const cli_spec spec = {
        .command = "version",
        .operands = "",
        .about = "Print the pond version.\n",
        .max_operands = 0,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        return rc;
    printf("pond %s\n", pond_version());
    return 0;
}
