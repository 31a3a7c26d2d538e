/* pond serve: the command line of the HTTP server (src/serve/, docs/serve.md). */
#include "cli/cli_pond.h"
#include "serve/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ABOUT[] =
    "Serve the pond over HTTP, read-only: a web UI (the tree, charts of every series, tables\n"
    "with paging and sorting, describe, versions and the transaction log) and a data API under\n"
    "/api/ (list, describe, read as json, csv, parquet or arrow, buckets for charts, SQL\n"
    "query; docs/serve.md). Listens on loopback unless a token is given; every request sees\n"
    "the newest committed transaction. Stops on Ctrl-C.\n";

/* The token: the file's first line, without surrounding blanks; 16 characters at least. */
static int read_token(char **out, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_error("--token-file: cannot read '%s'", path);
    char line[512] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    char *s = line, *e = line + strlen(line);
    while (*s == ' ' || *s == '\t')
        s++;
    while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    for (char *c = s; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == ';' || *c == ',' || (unsigned char)*c >= 0x7f)
            return cli_error("--token-file: '%s': the token has a blank, control, ';' or ','"
                             " character",
                             path);
    if (strlen(s) < 16)
        return cli_error("--token-file: '%s': the token needs 16 characters or more", path);
    *out = strdup(s);
    return *out ? 0 : cli_error("out of memory");
}

int cmd_serve(pond_cli *cli, int argc, char **argv)
{
    serve_config cfg = {
        .at_txn = cli->at_version,
        .listen = "127.0.0.1:8080",
        .max_connections = 256,
        .max_response = (int64_t)256 << 20,
        .max_request = 64 << 10,
        .sql_ms = 10000,
        .timeout_s = 30,
        .cache_bytes = (int64_t)256 << 20,
    };
    const char *token_file = NULL;
    const cli_opt opts[] = {
        {.name = "--listen",
         .kind = CLI_OPT_STRING,
         .dest = &cfg.listen,
         .arg = "ADDR:PORT",
         .help = "where to listen (default 127.0.0.1:8080; [::1]:8080 for IPv6; port 0:\n"
                 "any free port). A non-loopback address needs --token-file"},
        {.name = "--token-file",
         .kind = CLI_OPT_STRING,
         .dest = &token_file,
         .arg = "FILE",
         .help = "require this token (the file's first line, 16 characters or more) on\n"
                 "every request: Authorization: Bearer TOKEN, or a browser's first ?token="},
        {.name = "--max-connections",
         .kind = CLI_OPT_INT,
         .dest = &cfg.max_connections,
         .arg = "N",
         .help = "open connections, one thread each (default 256); more are refused",
         .min = 1,
         .max = 4096},
        {.name = "--max-response",
         .kind = CLI_OPT_SIZE,
         .dest = &cfg.max_response,
         .arg = "SIZE",
         .help = "largest response; a larger one is a 413 (default 256MiB)",
         .min = 1024,
         .max = INT64_MAX},
        {.name = "--max-request",
         .kind = CLI_OPT_SIZE,
         .dest = &cfg.max_request,
         .arg = "SIZE",
         .help = "largest request line and headers; a larger one is refused\n"
                 "(default 64KiB)",
         .min = 4096,
         .max = (int64_t)16 << 20},
        {.name = "--cache",
         .kind = CLI_OPT_SIZE,
         .dest = &cfg.cache_bytes,
         .arg = "SIZE",
         .help = "memory for series decoded for charts, so repeated bucket requests\n"
                 "do not read the pond again (default 256MiB; 0: none)",
         .min = 0,
         .max = INT64_MAX},
        {.name = "--sql-timeout",
         .kind = CLI_OPT_INT,
         .dest = &cfg.sql_ms,
         .arg = "MS",
         .help = "time limit of one SQL query in milliseconds (default 10000)",
         .min = 1,
         .max = 3600000},
        {.name = "--timeout",
         .kind = CLI_OPT_INT,
         .dest = &cfg.timeout_s,
         .arg = "S",
         .help = "close a connection idle this many seconds (default 30)",
         .min = 1,
         .max = 3600},
        {0},
    };
    const cli_spec spec = {
        .command = "serve",
        .operands = "",
        .about = ABOUT,
        .opts = opts,
        .max_operands = 0,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        return rc;
    if (!cli->pond_dir)
        return cli_error("no pond: give --pond DIR or set POND");
    char *token = NULL;
    if (token_file && read_token(&token, token_file))
        return 1;
    cfg.token = token;
    char *dir = realpath(cli->pond_dir, NULL);
    cfg.pond_dir = dir ? dir : cli->pond_dir;
    rc = serve_run(&cfg) < 0 ? cli_fail() : 0;
    free(dir);
    free(token);
    return rc;
}
