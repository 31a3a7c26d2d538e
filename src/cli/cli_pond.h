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
    int threads;             /* --threads: Parquet encoding/decoding threads (0 = the default) */
    pond_oplog_lease *lease; /* cli_pond_open_leased: released by cli_pond_close */
} cli_pond;

/* Says on stderr that path is a stale manual derived node, which reads compute from its
 * sources without storing (docs/derived.md). */
void cli_note_stale(const char *path);
/* cli_note_stale when path is a derived node marked stale (its reads compute it). */
void cli_note_if_stale(pond_fs *fs, const char *path);
/* Opens the pond named by --pond/$POND. write: takes the writer lock (waiting for another
 * writer), else honours --at. Prints the error and returns 1 on failure (0 on success). */
int cli_pond_open(cli_pond *p, pond_cli *cli, bool write);
/* cli_pond_open for reading (honouring --at) under a snapshot lease taken first, so that a
 * gc in another process keeps every file this command may read however long it runs (what
 * export does; serve and push take their own). A pond whose directory cannot hold a lease
 * (read-only to this user) is read without one, after a warning. */
int cli_pond_open_leased(cli_pond *p, pond_cli *cli, const char *what);
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

/* --from/--to as every command reads them: pond_time_parse_arg in tz (NULL: UTC), after the
 * whole line so that --timezone may come after them. from_text/to_text NULL: not given. Sets
 * *has_range and the range [*from_us, *to_us) (INT64_MIN/INT64_MAX for a missing end).
 * Returns -1 when both read, else prints the usage error of spec and returns CLI_EXIT_USAGE. */
int cli_time_range(bool *has_range, int64_t *from_us, int64_t *to_us, const cli_spec *spec,
                   const char *from_text, const char *to_text, const pond_tz *tz);

/* ---- pond operands: paths and globs (copy-out, export, list) ---- */

/* True when a pond operand is a pattern for pond_fs_glob (it has '*', '?' or '['). */
bool cli_is_glob(const char *operand);

/* What a cli_operand_fn returns for a glob match it passes over. */
#define CLI_SKIPPED (-1)
/* Called for each pond entry the operands name: a literal operand as given, with st NULL (the
 * callback stats it as it needs); a glob match by its absolute path, with its lstat. Returns 0
 * when it took the entry, CLI_SKIPPED when it passed over it, or an exit code (1, the error
 * printed) that stops the expansion. */
typedef int (*cli_operand_fn)(const char *path, const pond_stat *st, bool from_glob, void *payload);
/* Calls fn for every entry operands[0..n) name, in order: a literal operand once, a glob once
 * per match (pond_fs_glob: name order). A glob none of whose matches fn took is an error: "no
 * match for 'PAT'", or "no <kind> matches 'PAT', only <skipped>" when fn passed over all it
 * matched. Returns 0 or the exit code (printed). *globs_out (may be NULL): whether any operand
 * was a glob. */
int cli_expand_operands(bool *globs_out, cli_pond *p, char *const *operands, int n,
                        const char *kind, const char *skipped, cli_operand_fn fn, void *payload);

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
