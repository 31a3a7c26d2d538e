/* Opening a pond from the command line, transactions, and small shared helpers. */
#ifndef POND_CLI_POND_H
#define POND_CLI_POND_H

#include "cli/cmd.h"

#include <pond/oplog.h>
#include <pond/table.h>
#include <pond/stream.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

typedef struct {
    pond_backend *be;
    pond_fs *fs;
    const char *dir;
    bool writing;
} cli_pond;

/* Opens the pond named by --pond/$POND. write: takes the writer lock (waiting for another
 * writer), else honours --at. Prints the error and returns 1 on failure (0 on success). */
int cli_pond_open(cli_pond *p, pond_cli *cli, bool write);
/* Begins the one transaction of a write command, recording the command line. */
int cli_pond_begin(cli_pond *p, pond_cli *cli);
/* Commits; prints nothing. Returns 0 or prints the error and returns 1. */
int cli_pond_commit(cli_pond *p);
void cli_pond_close(cli_pond *p);

/* "64KiB", "1MiB", "1048576", "2G": bytes; -1 on a bad size. */
int64_t cli_parse_size(const char *s);
/* Appends s as a JSON string literal. */
int cli_json_str(pond_buf *b, const char *s);
/* Human size: "1.5 MiB". out needs 32 bytes. */
void cli_human_size(char out[32], int64_t n);
/* "host:PATH" / "host:///abs" -> the host path (borrowed into s); NULL for a pond path. */
const char *cli_host_path(const char *s);
/* True when stdout/stderr is a terminal (progress bars, aligned tables). */
bool cli_stdout_tty(void);
bool cli_stderr_tty(void);

/* "last", "last:K1,K2" or "none" (--dedup, pond set dedup=): the rule and its key columns
 * (*keys: free with cli_free_strings). 0, or -1 on a bad value (nothing to free). */
int cli_parse_dedup(const char *s, pond_dedup *d, char ***keys, size_t *n_keys);
void cli_free_strings(char **s, size_t n);

/* A progress bar on stderr, drawn only on a terminal and for totals over a few MB. */
typedef struct {
    const char *what;
    int64_t total, done;
    int64_t last_draw_us;
    bool active;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *what, int64_t total);
void cli_progress_add(cli_progress *p, int64_t n);
void cli_progress_end(cli_progress *p);

#endif
