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

/* Appends s as a JSON string literal. */
int cli_json_str(pond_buf *b, const char *s);
/* A time to the second, always 20 characters ("2024-01-31T12:00:00Z"): for listings that
 * line up. */
size_t cli_time_seconds(char out[40], int64_t us);
/* Human size: "1.5 MiB". out needs 32 bytes. */
void cli_human_size(char out[32], int64_t n);
/* "host:PATH" / "host:///abs" -> the host path (borrowed into s); NULL for a pond path. */
const char *cli_host_path(const char *s);
/* True when stdout/stderr is a terminal (progress bars, aligned tables). */
bool cli_stdout_tty(void);
bool cli_stderr_tty(void);

/* A series read rule as the command line gives it: "last", "last:K1,K2" or "none" (cat
 * --dedup, pond set dedup=). Zero-initialised: none given (POND_DEDUP_DEFAULT). */
typedef struct {
    pond_dedup rule;
    char **keys; /* key columns besides the timestamp */
    size_t n_keys;
} cli_dedup;
/* Parses s into *out (disposed first): 0, or POND_EINVALID with a message naming the value. */
int cli_dedup_parse(cli_dedup *out, const char *s);
/* CLI_OPT_FN for --dedup: dest is a cli_dedup. */
int cli_opt_dedup(void *dest, const char *value);
void cli_dedup_dispose(cli_dedup *d);

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
