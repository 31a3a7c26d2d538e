#include "cli/cli_pond.h"

#include <pond/delta.h>
#include <pond/timefmt.h>

#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
        if (pond_delta_commit_info_read(&info, cli->pond_dir, v) < 0) {
            printf("%6lld  (no commit information)\n", (long long)v);
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
            char path[4200];
            snprintf(path, sizeof path, "%s/_delta_log/%020lld.json", cli->pond_dir, (long long)v);
            /* a pond's own file: never through a link, never blocking on a FIFO */
            int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
            struct stat st;
            FILE *f = NULL;
            if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
                f = fdopen(fd, "r");
            if (!f && fd >= 0)
                close(fd);
            char line[8192];
            while (f && fgets(line, sizeof line, f)) {
                json_t *act = json_loads(line, 0, &err);
                json_t *add = json_object_get(act, "add");
                if (add)
                    printf("        + %s (%lld bytes)\n",
                           json_string_value(json_object_get(add, "path")),
                           (long long)json_integer_value(json_object_get(add, "size")));
                json_decref(act);
            }
            if (f)
                fclose(f);
        }
    }
    return rc;
}
