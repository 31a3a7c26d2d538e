#include "cli/cli_pond.h"

#include <pond/delta.h>
#include <pond/timefmt.h>

#include <stdlib.h>
#include <string.h>

int cmd_log(pond_cli *cli, int argc, char **argv)
{
    int64_t limit = -1;
    bool verbose = false;
    const cli_opt opts[] = {
        {.name = "--limit",
         .kind = CLI_OPT_INT,
         .dest = &limit,
         .arg = "N",
         .help = "at most N transactions",
         .min = 0,
         .max = INT64_MAX},
        {.name = "-v",
         .kind = CLI_OPT_FLAG,
         .dest = &verbose,
         .help = "also print the files each transaction wrote"},
        {0},
    };
    const cli_spec spec = {
        .command = "log",
        .operands = "",
        .about = "List the pond's transactions, newest first: sequence number, time (UTC)\n"
                 "and the command that made it.\n",
        .opts = opts,
        .max_operands = 0,
    };
    int n, prc = cli_parse(&n, &spec, argc, argv);
    if (prc >= 0)
        return prc;
    if (!cli->pond_dir)
        return cli_error("no pond: give --pond DIR or set POND");
    pond_oplog_history_options o = POND_OPLOG_HISTORY_OPTIONS_INIT;
    o.newest = cli->at_version;
    o.limit = limit;
    o.files = verbose;
    pond_oplog_txn *t = NULL;
    size_t nt = 0;
    if (pond_oplog_history(&t, &nt, cli->pond_dir, &o) < 0)
        return cli_fail();
    for (size_t i = 0; i < nt; i++) {
        if (t[i].error) { /* never silent about a damaged commit */
            printf("%6lld  (the commit cannot be read: %s)\n", (long long)t[i].txn, t[i].error);
            continue;
        }
        if (!t[i].has_info) {
            printf("%6lld  (no commit information)\n", (long long)t[i].txn);
            continue;
        }
        char when[40];
        pond_time_format_iso(when, t[i].time_us);
        printf("%6lld  %s  %s\n", (long long)t[i].txn, when,
               t[i].command ? t[i].command : "(unknown)");
        for (size_t k = 0; k < t[i].n_files; k++)
            printf("        + %s (%lld bytes)\n", t[i].files[k].path,
                   (long long)t[i].files[k].size);
        if (t[i].files_error)
            printf("        (the rest of the commit cannot be read: %s)\n", t[i].files_error);
    }
    pond_oplog_history_free(t, nt);
    return 0;
}
