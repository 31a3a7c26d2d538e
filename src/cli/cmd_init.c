#include "cli/cli_pond.h"

#include <string.h>

static const char HELP[] =
    "usage: pond [--pond DIR] init [--threshold-data SIZE] [--threshold-table SIZE] [DIR]\n"
    "\n"
    "Create a new, empty pond in DIR (default: --pond or $POND). DIR must not exist or be an\n"
    "empty directory. File content at or above a threshold is kept once, by SHA-256, in\n"
    "_large_files/; smaller content is stored inline in the pond's Delta table.\n"
    "\n"
    "  --threshold-data SIZE    for file:data (default 64KiB)\n"
    "  --threshold-table SIZE   for file:table and file:series (default 1MiB)\n"
    "SIZE is bytes, or a number with k/K/KiB/M/MiB/G/GiB.\n";

int cmd_init(pond_cli *cli, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, HELP))
        return 0;
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    const char *dir = cli->pond_dir;
    const char *usage = "pond [--pond DIR] init [--threshold-data SIZE] [--threshold-table SIZE] [DIR]";
    for (int i = 1; i < argc; i++) {
        int64_t *t = !strcmp(argv[i], "--threshold-data")    ? &co.threshold_data
                     : !strcmp(argv[i], "--threshold-table") ? &co.threshold_table
                                                             : NULL;
        if (t) {
            if (i + 1 >= argc)
                return cli_usage(usage, "%s needs a size", argv[i]);
            if ((*t = cli_parse_size(argv[++i])) <= 0)
                return cli_usage(usage, "bad size '%s' for %s", argv[i], argv[i - 1]);
        } else if (argv[i][0] == '-') {
            return cli_usage(usage, "unknown option '%s'", argv[i]);
        } else if (dir && dir != cli->pond_dir) {
            return cli_usage(usage, "more than one directory");
        } else {
            dir = argv[i];
        }
    }
    if (!dir)
        return cli_usage(usage, "no directory: give DIR, --pond DIR or set POND");
    pond_buf meta = POND_BUF_INIT;
    pond_buf_puts(&meta, "{\"pondCommand\":[");
    for (int i = 0; i < cli->cmdline_argc; i++) {
        if (i)
            pond_buf_putc(&meta, ',');
        cli_json_str(&meta, i == 0 ? "pond" : cli->cmdline_argv[i]);
    }
    pond_buf_puts(&meta, "]}");
    co.command_json = meta.ptr;
    int rc = pond_oplog_create(dir, &co);
    pond_buf_dispose(&meta);
    if (rc < 0)
        return cli_fail();
    printf("created pond %s\n", dir);
    return 0;
}
