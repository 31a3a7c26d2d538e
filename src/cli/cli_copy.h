/* pond copy: what copy-in (cmd_copy.c) and copy-out (cmd_copy_out.c) share. */
#ifndef POND_CLI_COPY_H
#define POND_CLI_COPY_H

#include "cli/cli_pond.h"

/* What a copy did, for its one-line summary. */
typedef struct {
    int64_t files, versions, rows, bytes;
    bool tabular;    /* a table or series was among the files: rows count */
    int64_t skipped; /* series sources identical to a version already there (not counted in
                        files, versions, rows or bytes) */
} cli_copy_tally;

/* Prints "copied N files into the pond|to the host: V versions, R rows, SIZE", and
 * "; K identical skipped" when some were. */
void cli_copy_summary(const cli_copy_tally *t, const char *where);

/* Copies pond files (paths or globs) to the host path dest (a directory when it ends in '/',
 * already is one, or several files are copied). format: "parquet", "csv", "json" for tables
 * and series, or NULL (the destination's extension, else Parquet). Prints errors itself;
 * returns the exit code. */
int cli_copy_out(cli_copy_tally *t, cli_pond *p, char **srcs, int n_srcs, const char *dest,
                 const char *format);

/* The last component of path (trailing slashes ignored), borrowed from path. */
const char *cli_base_name(const char *path);
/* dir/name in a malloc'd string (one '/' between them), or NULL when out of memory. */
char *cli_path_join(const char *dir, const char *name);

#endif
