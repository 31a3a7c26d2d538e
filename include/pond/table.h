/* pond: tables and series — Arrow record batches in, Parquet files in the pond, streams out.
 *
 * A table (file:table) is one Parquet file per version; reading gives the latest version (or
 * one by number). A series (file:series) is a sequence of versions, each a complete Parquet
 * file; reading gives every version in version order as one stream, optionally limited to an
 * event-time range [from, to) (inclusive start, exclusive end, µs UTC) and to some columns.
 * Each series version records the min and max of its timestamp column, so a range read skips
 * whole versions, then row groups by Parquet statistics, then filters rows exactly.
 *
 * Streams follow the Arrow C Stream Interface; a stream returned here borrows the fs: release
 * it before freeing the fs. Errors inside a stream are errno values (EIO for corrupt data,
 * ENOMEM, EINVAL) with get_last_error() giving pond's message. */
#ifndef POND_TABLE_H
#define POND_TABLE_H

#include "arrow.h"
#include "common.h"
#include "timefmt.h"
#include "tinyfs.h"

/** How a series read treats rows that share a timestamp (and key columns). */
typedef enum {
    POND_DEDUP_DEFAULT = 0, /* read option: the series' own setting */
    POND_DEDUP_NONE = 1,    /* every row of every version */
    POND_DEDUP_LAST = 2     /* of rows with the same timestamp and key values, only the last
                               in version order (then row order): the newest version wins */
} pond_dedup;

typedef struct {
    unsigned version;             /* POND_TABLE_WRITE_OPTIONS_VERSION */
    const char *timestamp_column; /* series: NULL = the one recorded on the series, else
                                     detected (docs/time.md): the only timestamp or date
                                     column, else the one named like a time (timestamp, time,
                                     date, ts, datetime, event_time, any case) */
    int compression;              /* a pond_parquet_compression; 0 (NONE) means the default zstd */
    int64_t row_group_rows;       /* 0 = default (131072: small enough for range pruning) */
    int compression_level;        /* 0 = default: zstd level 1 (ingest speed), else the codec's */
    /* version 2 */
    const char *timezone;            /* series: the IANA zone wall-clock values (timestamps
                                     without a zone, dates) are read in; NULL = the recorded
                                     one, else UTC. Recorded on the series */
    const char *const *time_formats; /* series: --time-format strings to record (n = 0: keep
                                        the recorded ones) */
    size_t n_time_formats;
    /* called with each thing a Parquet source's reader skipped to read it (a one-line warning,
       pond_parquet_reader_warning); may be NULL */
    void (*warn)(const char *message, void *payload);
    void *warn_payload;
    /* version 3 */
    bool skip_identical; /* series: when the new version's content has the same
                                     SHA-256 as an existing version's, write nothing and say
                                     which (pond_table_write_result.identical_to) */
    int threads;         /* Parquet encoding threads, the caller's among them (0 = 2;
                                     1 = the caller's only); the bytes stored are the same
                                     whatever the count (pond_parquet_writer_options) */
} pond_table_write_options;
#define POND_TABLE_WRITE_OPTIONS_VERSION 3
#define POND_TABLE_WRITE_OPTIONS_INIT                                                              \
    {                                                                                              \
        POND_TABLE_WRITE_OPTIONS_VERSION, NULL, 0, 0, 0, NULL, NULL, 0, NULL, NULL, false, 0       \
    }

/** What a write did. */
typedef struct {
    int64_t rows;              /* rows written */
    int64_t version;           /* the version it created (pending until the transaction commits) */
    int64_t identical_to;      /* skip_identical: the version whose content is the same (then
                             nothing was written and version is 0), else 0; when retention
                             dropped that version after a compaction replaced it: the
                             compacted version, which records the contents it replaced */
    int64_t derived_rows_read; /* a series write: source rows read to refresh the derived
                                  nodes that depend on it (docs/derived.md) */
} pond_table_write_result;

/** Writes a new version of the table or series at path (created if missing; parents must
 *  exist) from a stream of batches. in is consumed: released when this returns, on success
 *  and on failure alike (docs/api.md, "Streams"). Requires an open
 *  transaction. For a series the new version's schema must be compatible with the previous
 *  ones: same type for every column that exists in both (otherwise POND_EINVALID naming the
 *  column and both types, and nothing is written); added columns must be nullable.
 *  rows_out may be NULL. */
POND_API int pond_table_write_stream(int64_t *rows_out, pond_fs *fs, const pond_wd *wd,
                                     const char *path, pond_entry_type type,
                                     struct ArrowArrayStream *in,
                                     const pond_table_write_options *opts);
/** A new version of the table or series at path from a host Parquet file, stored byte for
 *  byte as it is after every row group was decoded. A series gets its timestamp column
 *  (given, recorded or detected as for pond_table_write_stream) and its event-time range
 *  from the file's values; a timestamp without a zone (Parquet isAdjustedToUTC=false) or a
 *  date is read in the series' zone. Errors name host_path, and a bad value its row. */
POND_API int pond_table_write_parquet_file(int64_t *rows_out, pond_fs *fs, const pond_wd *wd,
                                           const char *path, pond_entry_type type,
                                           const char *host_path,
                                           const pond_table_write_options *opts);
/** pond_table_write_stream and pond_table_write_parquet_file through a node handle: the
 *  path is walked once for everything a write reads and records (settings, the series index,
 *  the writer). out may be NULL. */
POND_API int pond_table_node_write_stream(pond_table_write_result *out, pond_fs_node *node,
                                          pond_entry_type type, struct ArrowArrayStream *in,
                                          const pond_table_write_options *opts);
POND_API int pond_table_node_write_parquet_file(pond_table_write_result *out, pond_fs_node *node,
                                                pond_entry_type type, const char *host_path,
                                                const pond_table_write_options *opts);
/** The same from one batch (schema and batch are only read). */
POND_API int pond_table_write_batch(pond_fs *fs, const pond_wd *wd, const char *path,
                                    pond_entry_type type, const struct ArrowSchema *schema,
                                    const struct ArrowArray *batch,
                                    const pond_table_write_options *opts);

typedef struct {
    unsigned version;     /* POND_TABLE_READ_OPTIONS_VERSION */
    int64_t file_version; /* 0: latest (table) or all versions (series); N: only version N */
    bool has_range;       /* series: limit to [from_us, to_us) */
    int64_t from_us, to_us;
    const char *const *columns; /* projection by name (NULL = all) */
    int n_columns;
    /* version 2 */
    pond_dedup dedup;              /* series: DEFAULT = the series' setting */
    const char *const *dedup_keys; /* with dedup LAST: key columns besides the timestamp */
    size_t n_dedup_keys;
    int threads; /* decoding threads, the caller's among them (0 = 2; 1 = the
                                   caller's only): row groups of >= 512 KiB decode ahead in
                                   parallel; the batches are the same whatever the count */
} pond_table_read_options;
#define POND_TABLE_READ_OPTIONS_VERSION 2
#define POND_TABLE_READ_OPTIONS_INIT                                                               \
    {                                                                                              \
        POND_TABLE_READ_OPTIONS_VERSION, 0, false, 0, 0, NULL, 0, POND_DEDUP_DEFAULT, NULL, 0, 0   \
    }

/** Splits a column list "a,b,c" as `pond cat --columns` and `pond serve` take it: names in
 *  order, split at every ',' (names cannot hold a comma). *out (NULL-terminated, one
 *  allocation: pond_free it) and *n_out. POND_EINVALID for an empty list or an empty name. */
POND_API int pond_table_columns_parse(char ***out, int *n_out, const char *list);

/** A stream over a table or series (see above). A series read plans from its index
 *  (docs/format.md): it opens only the versions it reads, skips versions a compaction
 *  replaced, and its columns are the merged schema of all versions (projected). */
POND_API int pond_table_read_stream(struct ArrowArrayStream *out, pond_fs *fs, const pond_wd *wd,
                                    const char *path, const pond_table_read_options *opts);
/** The same through a node handle (the stream keeps its own copy of the handle). */
POND_API int pond_table_node_read_stream(struct ArrowArrayStream *out, pond_fs_node *node,
                                         const pond_table_read_options *opts);
/** The columns a read returns: a table's latest version's schema; a series' merged schema
 *  (every column of every version, first seen first, nullable where some version lacks it),
 *  from its index without reading any version (older series without an index: from the
 *  versions' footers). */
POND_API int pond_table_schema(struct ArrowSchema *out, pond_fs *fs, const pond_wd *wd,
                               const char *path);
POND_API int pond_table_node_schema(struct ArrowSchema *out, pond_fs_node *node);

/** What the index knows about one version of a series, without reading it. */
typedef struct {
    int64_t version;
    int64_t size; /* bytes; 0: a version with no rows (created empty, or a settings
                              change) */
    int64_t rows; /* -1: not in the index (written before it existed) */
    bool has_event_time;
    int64_t min_event_time_us, max_event_time_us;
    int64_t replaced_by;              /* the compacted version holding its rows, or 0 */
    int64_t replaces_lo, replaces_hi; /* a compacted version: the versions it replaces */
} pond_series_version_info;
/** Every version of the series at node, oldest first (pond_free). */
POND_API int pond_series_node_versions(pond_series_version_info **out, size_t *n_out,
                                       pond_fs_node *node);

/** Series compaction (inside a transaction): the versions written since the series' last
 *  compaction (or since its first version) that are not yet replaced become one new version
 *  holding exactly their rows in their order, which records the range of versions it
 *  replaces; reads skip replaced versions, and retention may then drop them. Nothing is
 *  written when fewer than min_versions (at least 2) such versions hold rows. */
typedef struct {
    unsigned version;     /* POND_SERIES_COMPACT_OPTIONS_VERSION */
    int64_t min_versions; /* 0 = 2 */
    /* since 2 */
    int threads; /* decoding and encoding threads, the caller's among them (0 = 2) */
} pond_series_compact_options;
#define POND_SERIES_COMPACT_OPTIONS_VERSION 2
#define POND_SERIES_COMPACT_OPTIONS_INIT                                                           \
    {                                                                                              \
        POND_SERIES_COMPACT_OPTIONS_VERSION, 0, 0                                                  \
    }
typedef struct {
    int64_t version; /* the compacted version written, 0 when none */
    int64_t replaced_lo, replaced_hi;
    int64_t versions_replaced; /* versions with rows among them */
    int64_t rows;
} pond_series_compact_result;
POND_API int pond_series_compact(pond_series_compact_result *out, pond_fs_node *node,
                                 const pond_series_compact_options *opts);

/** Statistics a reader of the stream gathered (for tests, describe and benchmarks). */
typedef struct {
    /* series versions considered / opened; a read with a time range considers only the
     * versions that may hold its times (whose recorded range overlaps it, or without one) */
    int64_t versions_total, versions_read;
    int64_t row_groups_total, row_groups_read;
    int64_t rows_read, rows_returned;
} pond_table_scan_stats;
/** Fills stats for a stream made by pond_table_read_stream (POND_EINVALID otherwise). s is
 *  only looked at (a question about a stream pond made, not an input: the one exception to
 *  the rule of docs/api.md, "Streams"). */
POND_API int pond_table_stream_stats(pond_table_scan_stats *out, struct ArrowArrayStream *s);

/** What a series records in its extended attributes (docs/format.md): how later writes read
 *  their time values, and how reads treat it. */
typedef struct {
    char *timestamp_column; /* NULL: none recorded yet */
    char *timezone;         /* NULL: none recorded (read as UTC) */
    char **time_formats;    /* --time-format strings of the last write that gave some */
    size_t n_time_formats;
    /* since 2 */
    pond_dedup dedup;  /* NONE (or DEFAULT) unless set with pond_series_set_dedup */
    char **dedup_keys; /* key columns besides the timestamp */
    size_t n_dedup_keys;
    int64_t compact_after; /* automatic compaction once this many versions follow the last
                               compaction (0: off); see pond_series_compact */
} pond_series_settings;
/** The settings recorded on the series at path; all NULL when none are or the path does not
 *  exist. Dispose with pond_series_settings_dispose. */
POND_API int pond_series_settings_get(pond_series_settings *out, pond_fs *fs, const pond_wd *wd,
                                      const char *path);
/** The same through a node handle. */
POND_API int pond_series_node_settings_get(pond_series_settings *out, pond_fs_node *node);
POND_API void pond_series_settings_dispose(pond_series_settings *s);
/** The settings a write to the series at path uses: each one given (NULL / n == 0: not
 *  given), else the recorded one; the zone defaults to "UTC", the timestamp column stays NULL
 *  when neither is known (then it is detected). A given timestamp column or zone that differs
 *  from the recorded one is POND_EINVALID naming path, both values and the flag. */
POND_API int pond_series_settings_resolve(pond_series_settings *out, pond_fs *fs, const pond_wd *wd,
                                          const char *path, const char *timestamp_column,
                                          const char *timezone, const char *const *time_formats,
                                          size_t n_time_formats);
POND_API int pond_series_node_settings_resolve(pond_series_settings *out, pond_fs_node *node,
                                               const char *timestamp_column, const char *timezone,
                                               const char *const *time_formats,
                                               size_t n_time_formats);

/** Records a read rule on the series (inside a transaction): dedup (NONE removes it) with
 *  n_keys key columns, each of which must be a column of the series other than its timestamp
 *  column, of a type that is not nested. Like every change of a series' settings this writes
 *  a new version holding no rows (size 0: reads skip it) that carries the new attributes.
 *  Nothing is written when the rule is already the recorded one. */
POND_API int pond_series_set_dedup(pond_fs_node *node, pond_dedup dedup, const char *const *keys,
                                   size_t n_keys);
/** Records the automatic compaction policy (0: off): after a write through pond copy, a
 *  series with at least `after` versions since its last compaction is compacted. */
POND_API int pond_series_set_compact_after(pond_fs_node *node, int64_t after);

/** The timestamp column of a series (from its attributes), or NULL; pond_free. */
POND_API int pond_series_timestamp_column(char **out, pond_fs *fs, const pond_wd *wd,
                                          const char *path);

/* ---- event time ------------------------------------------------------------------------------ */

/** The event time of a series' rows, by the rules the series reader filters a range with
 *  (docs/time.md): the series' recorded timestamp column; an Arrow timestamp by its unit, one
 *  without a zone (a wall-clock Parquet timestamp) or a date read in the series' zone; an
 *  integer as an epoch by magnitude. Anything else that needs the event time of a row (export's
 *  partitions) reads it here, so it always agrees with pond_table_read_stream's range. */
typedef struct pond_event_time pond_event_time;
/** Reads the settings of the series at path once (its timestamp column and zone). A path that
 *  is not a series, or records no timestamp column, gives one whose column is NULL. */
POND_API int pond_event_time_open(pond_event_time **out, pond_fs *fs, const pond_wd *wd,
                                  const char *path);
/** NULL is fine. */
POND_API void pond_event_time_free(pond_event_time *et);
/** The series' timestamp column, or NULL (borrowed: lives as long as et). */
POND_API const char *pond_event_time_column(const pond_event_time *et);
/** Binds et to the schema of the batches it will read (a "+s", e.g. a stream's from
 *  pond_table_read_stream): finds the timestamp column and how its type reads. POND_ENOTFOUND
 *  when the schema lacks the column (or none is recorded), POND_EINVALID when its type holds no
 *  time; messages name the column. Binding again replaces the previous binding. */
POND_API int pond_event_time_bind(pond_event_time *et, const struct ArrowSchema *schema);
/** The event time (µs UTC) of row i of batch (a struct array of the bound schema; its offset
 *  is applied here); false for a null timestamp. et must be bound. */
POND_API bool pond_event_time_of_row(int64_t *us_out, const pond_event_time *et,
                                     const struct ArrowArray *batch, int64_t i);
/** Whether a series version (a pond_fs_versions entry) may hold rows in [from_us, to_us): a
 *  range read skips the versions for which this is false (those whose recorded event-time
 *  range lies outside; a version without one is always read). */
POND_API bool pond_series_version_in_range(const pond_stat *v, int64_t from_us, int64_t to_us);

/* ---- derived nodes (docs/derived.md) ----------------------------------------------------- */

/** A derived node: a series whose rows a recipe computes from other series, kept current by
 *  every write of a source in the same transaction (only the buckets the new rows fall in are
 *  recomputed) and read like any series. Its recipe is recorded in its attributes
 *  (pond.derived, docs/format.md) and names its sources by node id. */
typedef struct {
    unsigned version;           /* POND_DERIVE_OPTIONS_VERSION */
    const char *kind;           /* "rollup", "join" or "sql" */
    const char *const *sources; /* "[NAME=]PATH", paths from the root */
    size_t n_sources;
    const char *every;       /* rollup: "15m", "1h", "1d", "1w", "1mo" */
    const char *timezone;    /* rollup: the zone of 1d/1w/1mo buckets; NULL: UTC */
    const char *const *aggs; /* avg, min, max, sum, count, first, last; n 0: avg, min,
                                     max, sum, count */
    size_t n_aggs;
    const char *const *columns; /* n 0: every numeric column of the source (over a rollup:
                                     the columns it aggregates) */
    size_t n_columns;
    const char *const *by; /* key columns: one row per bucket and key values */
    size_t n_by;
    bool refresh_manual;        /* not refreshed by source writes: pond_derive_refresh */
    int64_t tolerance_us;       /* join: 0 exact; else as-of: each source's latest row at
                                     most this much earlier */
    const char *const *windows; /* join: "NAME=FROM..TO" (either side may be empty; times
                                     as --from takes them, in timezone): the source named NAME
                                     contributes only rows in [FROM, TO) */
    size_t n_windows;
    /* version 2 */
    const char *sql; /* sql: one SELECT over the sources by their NAMEs (the
                                     dialect of pond query); its result needs a timestamp
                                     column. Recomputed whole when a source changes. */
} pond_derive_options;
#define POND_DERIVE_OPTIONS_VERSION 2
#define POND_DERIVE_OPTIONS_INIT                                                                   \
    {                                                                                              \
        POND_DERIVE_OPTIONS_VERSION, NULL, NULL, 0, NULL, NULL, NULL, 0, NULL, 0, NULL, 0, false,  \
            0, NULL, 0, NULL                                                                       \
    }

/** Computes a sql recipe: the rows of the one SELECT statement sql over the series at
 *  paths[i] exposed as the SQL tables names[i], read through fs as it is now (inside the
 *  writing transaction: its pending versions included), as a stream *out that the caller
 *  releases and that keeps whatever it needs. Errors name the query. */
typedef int (*pond_derive_sql_fn)(struct ArrowArrayStream *out, pond_fs *fs, const char *sql,
                                  const char *const *names, const char *const *paths, size_t n);
/** The evaluator of sql recipes for this process (NULL: none). The table layer does not
 *  depend on the SQL layer, which provides one: pond_sql_derive_register() (<pond/sql.h>)
 *  sets it, and the pond CLI calls that at start. Without one, creating or refreshing a sql
 *  recipe (a write to one of its sources included) fails saying so. Set it before any
 *  thread writes. */
POND_API void pond_derive_set_sql_evaluator(pond_derive_sql_fn fn);

/** Creates the derived node at dest (which must not exist; inside a transaction) and
 *  materializes it from the sources' current rows. Errors name the source and the column
 *  (a missing column, a type that cannot be aggregated, buckets that do not nest). */
POND_API int pond_derive_create(pond_table_write_result *out, pond_fs_node *dest,
                                const pond_derive_options *opts);
/** Recomputes the whole of the derived node (inside a transaction): a manual recipe's
 *  refresh. */
POND_API int pond_derive_refresh(pond_table_write_result *out, pond_fs_node *node);
/** The recipe as compact JSON (pond_free), or *out NULL when node is not derived. */
POND_API int pond_derive_recipe(char **out, pond_fs_node *node);
/** One line saying what the node is derived from, for describe (pond_free); *out NULL when
 *  node is not derived. A source removed with --force is named as gone. */
POND_API int pond_derive_describe(char **out, pond_fs_node *node);
/** *out true when node is a --refresh manual derived node whose sources changed since its
 *  last refresh (pond.derived_stale): its rows are its last refresh's. */
POND_API int pond_derive_stale(bool *out, pond_fs_node *node);
/** The current paths of the derived nodes that depend on node (pond_free each and the
 *  array); none when nothing does. */
POND_API int pond_derive_dependents(char ***out, size_t *n_out, pond_fs_node *node);
/** pond_fs_remove (inside a transaction) that keeps the sources of derived nodes: a series
 *  that derived nodes depend on (with recursive, any under a directory) is refused with
 *  POND_EINVALID naming it and them, and nothing is removed, unless force (they then keep
 *  their last rows and say their source is gone). pond_fs_remove itself knows nothing of
 *  derived nodes (tinyfs sits below tables): a program removing series calls this. */
POND_API int pond_derive_remove(pond_fs *fs, const pond_wd *wd, const char *path, bool recursive,
                                bool force);

#endif
