/* pond: what `pond describe` says about an entry, gathered once and written as the CLI's text
 * or as JSON (`pond serve`'s /api/describe): type, node id, symlink target, a series' time
 * settings, the schema of the latest table version, and every version with its time,
 * size, transaction, storage, rows and event-time range. */
#ifndef POND_DESCRIBE_H
#define POND_DESCRIBE_H

#include "arrow.h"
#include "buf.h"
#include "common.h"
#include "sys/backend.h"
#include "table.h"
#include "tinyfs.h"

typedef struct {
    pond_stat st;        /* version, txn_seq, mtime_us, size, event-time range */
    bool in_store;       /* content in `_large_files/` (blob_path), else inline in the table */
    char blob_path[512]; /* relative to the pond directory */
    int64_t rows;        /* tables and series: the version's rows; -1 unknown or unreadable */
    int64_t replaced_by; /* series: the compacted version holding its rows (reads skip it), or 0 */
    int64_t replaces_lo, replaces_hi; /* series: a compacted version's replaced range, or 0 */
} pond_describe_version;

typedef struct {
    char *path;   /* normalized */
    pond_stat st; /* the entry itself (not following a symlink) */
    char node_id[POND_NODE_ID_STRLEN + 1];
    char *target;                    /* symlinks */
    pond_series_settings settings;   /* series; all NULL otherwise */
    bool has_schema;                 /* tables and series with a stored version */
    int64_t schema_version;          /* table: the version the schema is from (the
                                                 latest); series: 0, the merged schema of all
                                                 versions (from its index) */
    struct ArrowSchema schema;       /* released when !has_schema */
    char *schema_error;              /* the schema could not be read: why */
    pond_describe_version *versions; /* files: oldest first */
    size_t n_versions;
    int64_t total_rows, total_size; /* over all versions (rows: not counting
                                                 versions a compaction replaced) */
    char *derived;                  /* a derived node: its recipe in words */
    char **dependents;              /* a source: its derived nodes' paths */
    size_t n_dependents;
} pond_describe;

/** Describes the entry at path of fs. be (may be NULL) is the backend fs was opened on: an
 *  oplog backend tells where each version's content is stored. Dispose with
 *  pond_describe_dispose (also after a failure). */
POND_API int pond_describe_get(pond_describe *out, pond_fs *fs, pond_backend *be, const char *path);
POND_API void pond_describe_dispose(pond_describe *d);
/** Appends the text `pond describe` prints. */
POND_API int pond_describe_text(pond_buf *out, const pond_describe *d);
/** Appends one JSON object: path, type, node, target, timestamp_column, timezone,
 *  time_formats, dedup, compact_after, derived, dependents, schema [{name, type, nullable}], schema_version,
 *  versions [{version, txn, time, size, storage, rows, min_event_time, max_event_time,
 *  replaced_by, replaces}], rows, size (docs/serve.md). */
POND_API int pond_describe_json(pond_buf *out, const pond_describe *d);

#endif
