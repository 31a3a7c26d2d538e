/* The pond command table. Each command lives in cmd_<name>.c. */
#ifndef POND_CLI_CMD_H
#define POND_CLI_CMD_H

#include "cli/cli_format.h"
#include "cli/cli_opt.h"

#include <pond/pond.h>

#include <stdio.h>

typedef struct {
    const char *pond_dir; /* --pond DIR or $POND; NULL when neither is given */
    const char *argv0;
    int64_t at_version; /* --at N: read as of transaction N; -1 = latest */
    int threads;        /* --threads N: Parquet encoding/decoding threads; 0 = default (2) */
    int cmdline_argc;   /* the whole command line, for commitInfo */
    char **cmdline_argv;
} pond_cli;

/* A command returns the process exit code: 0 ok, 1 error, 2 usage. */
typedef int (*pond_cmd_fn)(pond_cli *cli, int argc, char **argv);

typedef struct {
    const char *name;
    pond_cmd_fn fn;
    const char *summary; /* one line for `pond --help`; NULL: not listed (wire-server) */
} pond_cmd;

/* Print "pond: <message>" for the last error and return 1. */
int cli_fail(void);
/* Print "pond: <formatted>" and return 1 (usage errors: cli_usage in cli_opt.h, exit 2). */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "pond: warning: <formatted>" (after what stdout holds so far); the command goes on. */
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

extern const pond_cmd pond_commands[];

/* Commands (one per cmd_<name>.c), listed in commands.c. */
int cmd_version(pond_cli *cli, int argc, char **argv);
int cmd_init(pond_cli *cli, int argc, char **argv);
int cmd_mkdir(pond_cli *cli, int argc, char **argv);
int cmd_copy(pond_cli *cli, int argc, char **argv);
int cmd_list(pond_cli *cli, int argc, char **argv);
int cmd_cat(pond_cli *cli, int argc, char **argv);
int cmd_rm(pond_cli *cli, int argc, char **argv);
int cmd_mv(pond_cli *cli, int argc, char **argv);
int cmd_log(pond_cli *cli, int argc, char **argv);
int cmd_describe(pond_cli *cli, int argc, char **argv);
int cmd_ln(pond_cli *cli, int argc, char **argv);
int cmd_fsck(pond_cli *cli, int argc, char **argv);
int cmd_gc(pond_cli *cli, int argc, char **argv);
int cmd_set(pond_cli *cli, int argc, char **argv);
int cmd_derive(pond_cli *cli, int argc, char **argv);
int cmd_export(pond_cli *cli, int argc, char **argv);

int cmd_delta(pond_cli *cli, int argc, char **argv);

/* Replication (cmd_remote.c). */
int cmd_remote(pond_cli *cli, int argc, char **argv);
int cmd_push(pond_cli *cli, int argc, char **argv);
int cmd_pull(pond_cli *cli, int argc, char **argv);
int cmd_clone(pond_cli *cli, int argc, char **argv);
int cmd_verify(pond_cli *cli, int argc, char **argv);
int cmd_status(pond_cli *cli, int argc, char **argv);
int cmd_wire_server(pond_cli *cli, int argc, char **argv);

int cmd_parquet(pond_cli *cli, int argc, char **argv);

/* SQL (cmd_query.c): `pond query`, and `pond cat --sql` (called by cmd_cat). */
int cmd_query(pond_cli *cli, int argc, char **argv);
/* pond serve (cmd_serve.c, the server in src/serve/). */
int cmd_serve(pond_cli *cli, int argc, char **argv);
int cli_cat_sql(pond_cli *cli, const char *sql, const char *path, int64_t version, cli_fmt fmt);
#endif
