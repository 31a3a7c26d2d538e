#include "cli/cli_pond.h"

#include <pond/delta.h>
#include <pond/timefmt.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int print_added(const pond_delta_file_action *a, void *payload)
{
    (void)payload;
    if (a->add)
        printf("        + %s (%lld bytes)\n", a->path, (long long)a->size);
    return 0;
}

int cmd_log(pond_cli *cli, int argc, char **argv)
{
    int64_t limit = -1;
    bool verbose = false;
    const cli_opt opts[] = {
        {.name = "--limit", .kind = CLI_OPT_INT, .dest = &limit, .arg = "N",
         .help = "at most N transactions", .min = 0, .max = INT64_MAX},
        {.name = "-v", .kind = CLI_OPT_FLAG, .dest = &verbose,
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
    int64_t latest;
    if (pond_delta_latest_version(&latest, cli->pond_dir) < 0)
        return cli_fail();
    if (cli->at_version >= 0 && cli->at_version < latest)
        latest = cli->at_version;
    int rc = 0;
    for (int64_t v = latest; v >= 0 && limit != 0 && rc == 0; v--, limit--) {
        char *info = NULL;
        int irc = pond_delta_commit_info_read(&info, cli->pond_dir, v);
        if (irc == POND_ENOTFOUND) {
            printf("%6lld  (no commit information)\n", (long long)v);
            continue;
        }
        if (irc < 0) { /* never silent about a damaged commit */
            printf("%6lld  (the commit cannot be read: %s)\n", (long long)v,
                   pond_error_last()->message);
            continue;
        }
        json_error_t err;
        json_t *j = json_loads(info, 0, &err);
        pond_free(info);
        int64_t ts = j ? json_integer_value(json_object_get(j, "timestamp")) : 0;
        char when[40];
        pond_time_format_iso(when, ts * 1000);
        pond_buf cmd = POND_BUF_INIT;
        json_t *argvj = json_object_get(json_object_get(j, "pondMeta"), "pondCommand");
        if (!argvj)
            argvj = json_object_get(j, "pondCommand");
        size_t k;
        json_t *a;
        json_array_foreach(argvj, k, a) pond_buf_printf(&cmd, "%s%s", k ? " " : "",
                                                        json_string_value(a));
        const char *op = j ? json_string_value(json_object_get(j, "operation")) : NULL;
        printf("%6lld  %s  %s\n", (long long)v, when,
               cmd.size ? cmd.ptr : (op ? op : "(unknown)"));
        pond_buf_dispose(&cmd);
        json_decref(j);
        if (verbose) {
            /* one action at a time, never the whole commit, never through a link or FIFO */
            int arc = pond_delta_commit_file_actions(cli->pond_dir, v, print_added, NULL);
            if (arc < 0)
                printf("        (the rest of the commit cannot be read: %s)\n",
                       pond_error_last()->message);
        }
    }
    return rc;
}
