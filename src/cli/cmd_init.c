#include "cli/cli_pond.h"

#include <string.h>

int cmd_init(pond_cli *cli, int argc, char **argv)
{
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    const cli_opt opts[] = {
        {.name = "--threshold-data",
         .kind = CLI_OPT_SIZE,
         .dest = &co.threshold_data,
         .arg = "SIZE",
         .help = "for file:data (default 64KiB)",
         .min = 1,
         .max = INT64_MAX},
        {.name = "--threshold-table",
         .kind = CLI_OPT_SIZE,
         .dest = &co.threshold_table,
         .arg = "SIZE",
         .help = "for file:table and file:series (default 1MiB)",
         .min = 1,
         .max = INT64_MAX},
        {0},
    };
    const cli_spec spec = {
        .command = "init",
        .operands = "[DIR]",
        .about = "Create a new, empty pond in DIR (default: --pond or $POND). DIR must not exist\n"
                 "or be an empty directory. File content at or above a threshold is kept once, by\n"
                 "SHA-256, in _large_files/; smaller content is stored inline in the pond's Delta\n"
                 "table.\n",
        .opts = opts,
        .footer = "SIZE is bytes, or a number with k/K/KB/KiB/M/MB/MiB/G/GB/GiB.\n",
        .max_operands = 1,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        return rc;
    const char *dir = n ? argv[0] : cli->pond_dir;
    if (!dir)
        return cli_usage(&spec, "no directory: give DIR, --pond DIR or set POND");
    pond_buf meta = POND_BUF_INIT;
    pond_buf_puts(&meta, "{\"pondCommand\":[");
    for (int i = 0; i < cli->cmdline_argc; i++) {
        if (i)
            pond_buf_putc(&meta, ',');
        cli_json_str(&meta, i == 0 ? "pond" : cli->cmdline_argv[i]);
    }
    pond_buf_puts(&meta, "]}");
    co.command_json = meta.ptr;
    rc = pond_oplog_create(dir, &co);
    pond_buf_dispose(&meta);
    if (rc < 0)
        return cli_fail();
    printf("created pond %s\n", dir);
    return 0;
}
