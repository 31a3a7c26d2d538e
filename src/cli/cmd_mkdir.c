#include "cli/cli_pond.h"

#include <string.h>

static const char HELP[] = "usage: pond mkdir [-p] PATH...\n"
                           "\n"
                           "Create directories in the pond, in one transaction.\n"
                           "  -p   create missing parents; an existing directory is fine\n";

int cmd_mkdir(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, HELP))
        return 0;
    unsigned flags = 0;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "-p"))
            flags |= POND_FS_MKDIR_PARENTS;
        else
            return cli_usage("pond mkdir [-p] PATH...", "unknown option '%s'", argv[first]);
    }
    if (first >= argc)
        return cli_usage("pond mkdir [-p] PATH...", "no path given");
    cli_pond p;
    if (cli_pond_open(&p, cli, true))
        return 1;
    int rc = cli_pond_begin(&p, cli);
    for (int i = first; i < argc && rc == 0; i++)
        if (pond_fs_mkdir(p.fs, NULL, argv[i], flags) < 0)
            rc = cli_fail();
    if (rc == 0)
        rc = cli_pond_commit(&p);
    cli_pond_close(&p);
    return rc;
}
