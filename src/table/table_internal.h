#ifndef POND_TABLE_INTERNAL_H
#define POND_TABLE_INTERNAL_H

#include <pond/table.h>
#include <pond/hash.h>
#include <pond/timefmt.h>

#include "util/util.h"

/* Views: arrays that share the buffers of a batch kept alive by a reference count. */
typedef struct table_holder table_holder;
/* Takes the batch (moved). */
int pond_table__holder_new(table_holder **out, struct ArrowArray *batch);
void pond_table__holder_unref(table_holder *h);
/* The held batch (borrowed while a reference is held). */
const struct ArrowArray *pond_table__holder_batch(const table_holder *h);
/* A shallow view of src (a child of the held batch) sliced to [start, start+len). */
int pond_table__view(struct ArrowArray *out, table_holder *h, const struct ArrowArray *src,
                     int64_t start, int64_t len);
/* A struct batch of n_cols views/arrays (taken) of length len. */
int pond_table__struct_of(struct ArrowArray *out, struct ArrowArray *cols, int64_t n_cols,
                          int64_t len);

/* Timestamp handling: the µs value of row i of a timestamp, date or int64 column. */
typedef struct {
    int kind; /* 0 none, 1 timestamp with unit, 2 int64 (unit by magnitude), 3 int32, 4 date32 */
    int unit; /* pond_arrow_unit for kind 1 */
    const pond_tz *local; /* kind 1 without a zone and kind 4: wall-clock values read in this
                             zone (NULL: UTC); NULL for instants */
} table_ts;
/* tz: the series' zone, used only when the column holds wall-clock values. */
int pond_table__ts_kind(table_ts *out, const struct ArrowSchema *col, const pond_tz *tz);
int64_t pond_table__ts_value(const table_ts *t, const struct ArrowArray *col, int64_t i);
/* The same, failing (POND_EINVALID, message without context) on an int64 below the epoch
 * magnitude bound or a wall-clock time the zone skips or shows twice: for writers. */
int pond_table__ts_value_checked(int64_t *us_out, const table_ts *t, const struct ArrowArray *col,
                                 int64_t i);
bool pond_table__is_null(const struct ArrowArray *a, int64_t i);
/* Names a timestamp column is detected by (case-insensitive): timestamp, time, date, ... */
bool pond_table__ts_name(const char *name);
/* The timestamp column among n columns of the given kinds (1: a timestamp or date type, 2: an
 * int64, 0: other) by the rule of docs/time.md: the only timestamp-typed column, else the only
 * such one named like a time, else the only int64 named like a time. POND_EINVALID (message
 * naming the candidates, no path) when there is none or it is ambiguous. */
int pond_table__pick_ts(int *index_out, const char *const *names, const int *kinds, size_t n);
/* The index of the timestamp column of a schema: the given name (-2 when its type cannot
 * be one, -1 when missing) or, name NULL, picked as above (-1 with the message set). */
int pond_table__find_ts(const struct ArrowSchema *schema, const char *name);

/* Opening a version's Parquet file (pond_table__vfile_open, pond_table__version_footer) and
 * scans: table_scan.h, shared with the layers above. */
#include "table/table_scan.h"

/* ---- the series index (table_series.c; docs/format.md) ---- */

/* A compacted version and the range of versions it replaces. */
typedef struct {
    int64_t version, lo, hi;
} table_compaction;

/* A series' attributes: the JSON object (kept whole, so keys pond does not know survive a
 * write) and what pond reads from it. */
typedef struct {
    void *obj;                 /* json_t * object */
    pond_series_settings set;  /* time settings, dedup, compaction policy */
    bool has_schema;           /* the merged schema is known */
    struct ArrowSchema schema; /* merged: "+s", every column of versions 1..through */
    int64_t *first;            /* per column: the version that brought it */
    int64_t through;
    table_compaction *comps;
    size_t n_comps;
} table_attrs;

/* Parses attributes (json NULL: none). Errors name path. */
int pond_table__attrs_parse(table_attrs *out, const char *json, const char *path);
/* The latest version's attributes (an entry that does not exist yet has none). */
int pond_table__attrs_read(table_attrs *out, pond_fs_node *node);
void pond_table__attrs_dispose(table_attrs *a);
/* Records the attributes on the node (a new version's, or the pending one's) when they
 * changed; the merged schema is stored when known. */
int pond_table__attrs_write(table_attrs *a, pond_fs_node *node);
/* The attributes as the text pond_table__attrs_write records (pond_free). */
int pond_table__attrs_dump(char **out, table_attrs *a);
int pond_table__attrs_set_settings(table_attrs *a, const pond_series_settings *s);
int pond_table__attrs_set_dedup(table_attrs *a, pond_dedup d, const char *const *keys, size_t n);
int pond_table__attrs_set_compact_after(table_attrs *a, int64_t after);
/* Records the series' btime (POND_XATTR_BTIME) when the attributes do not have it yet: a stat
 * then never reads version 1 (a series written before it computes it once, the old way). */
int pond_table__attrs_keep_btime(table_attrs *a, int64_t btime_us);
int pond_table__attrs_add_compaction(table_attrs *a, int64_t version, int64_t lo, int64_t hi);
/* The per-version entry of the version being written: its number, rows and, for a
 * compacted version, the range it replaces (lo 0: none). */
int pond_table__attrs_set_entry(table_attrs *a, int64_t version, int64_t rows, int64_t lo,
                                int64_t hi, const pond_hash *hashes, size_t n_hashes);
/* The content hashes the compacted versions (of a's compactions) record of the versions they
 * replaced, each with the compacted version (pond_free). */
typedef struct {
    pond_hash hash;
    int64_t in_version;
} table_hash;
int pond_table__replaced_hashes(table_hash **out, size_t *n_out, pond_fs_node *node,
                                const table_attrs *a);
/* "a, b, c": the top-level column names of s (or "none"), for messages that name a column s
 * does not have. Returns 0 or POND_ENOMEM. */
int pond_table__column_list(pond_buf *out, const struct ArrowSchema *s);
/* The index of the top-level column of s named name (exact match), or -1. */
int pond_table__find_column(const struct ArrowSchema *s, const char *name);
/* The checks of pond_table__attrs_merge_schema alone (nothing changes). */
int pond_table__attrs_check_schema(const table_attrs *a, const struct ArrowSchema *s,
                                   const char *path);
/* Merges the schema of version `version` into the merged schema: a column's type may not
 * change, a column new after the first version must be nullable (POND_EINVALID naming path,
 * and nothing changes); columns a version lacks become nullable. */
int pond_table__attrs_merge_schema(table_attrs *a, const struct ArrowSchema *s, int64_t version,
                                   const char *path);
/* Merges the footers of the versions (of vs) the merged schema does not cover: every version
 * of a series written before the index, none of an indexed one. */
int pond_table__attrs_cover(table_attrs *a, pond_fs_node *node, const pond_stat *vs, size_t nv);
/* The entry of version `version` from that version's attributes: rows -1 when it has none of
 * its own (written before the index). */
int pond_table__version_entry(int64_t *rows, int64_t *lo, int64_t *hi, const char *json,
                              int64_t version);
/* replaced_by[i]: the compacted version (among versions, ascending) that holds the rows of
 * versions[i], or 0. held_through > 0: versions lists only some of the view's versions, whose
 * latest is held_through; a compacted version up to it is the view's even when not listed. */
void pond_table__mark_replaced(int64_t *replaced_by, const int64_t *versions, size_t n,
                               const table_compaction *comps, size_t n_comps, int64_t held_through);
/* pond_table__series_list with the series' attributes already read (a borrowed). With range
 * (a read of event times [range[0], range[1]) of every version), the versions that cannot hold
 * such times may be left out: only when the index's merged schema covers the latest version, so
 * that the columns a read returns never depend on the range. */
int pond_table__series_list_with(pond_series_version_info **out, size_t *n_out, pond_fs_node *node,
                                 const table_attrs *a, bool entries, const int64_t *range);
/* The version number a write through node creates (the transaction's pending one, or the
 * next). */
int pond_table__next_version(int64_t *out, pond_fs_node *node);
/* A write of a new version through node (table_write.c); replaces_lo > 0: the version
 * replaces versions replaces_lo..replaces_hi (reads skip them, retention may drop them).
 * With replaced (their contents, n_replaced of them) it is a compaction writing exactly their
 * rows; without (NULL) a recompute: new rows standing for all of them (a sql recipe), which
 * refreshes the node's dependents whole. */
int pond_table__node_write(pond_table_write_result *out, pond_fs_node *node, pond_entry_type type,
                           struct ArrowArrayStream *in, const pond_table_write_options *opts,
                           int64_t replaces_lo, int64_t replaces_hi, const pond_hash *replaced,
                           size_t n_replaced);
/* A read stream (table_read.c); vlo > 0: exactly the versions vlo..vhi of a series that hold
 * rows, no dedup, with the union of their own columns (what a compaction rewrites). */
int pond_table__read_open(struct ArrowArrayStream *out, pond_fs_node *node,
                          const pond_table_read_options *opts, int64_t vlo, int64_t vhi);
/* The settings a write uses: given ones over recorded ones (rec), checked. */
int pond_table__settings_resolve(pond_series_settings *out, const pond_series_settings *rec,
                                 const char *path, const char *timestamp_column,
                                 const char *timezone, const char *const *time_formats,
                                 size_t n_time_formats);

/* A series' event time (pond_event_time in table.h): the one place that says which column holds
 * it, which zone its wall-clock values are in, and (pond_table__ts_value) what a row's value is. The
 * series reader embeds one; export and other readers get one from pond_event_time_open. */
struct pond_event_time {
    char *column; /* the recorded timestamp column, or NULL */
    pond_tz *tz;  /* the series' zone for wall-clock values (NULL: UTC) */
    int index;    /* bound: the column's index in the schema, -1 when not bound */
    table_ts ts;  /* bound: how its values read */
};
/* Reads the settings of the series at path (path in messages). */
int pond_table__event_time_init(pond_event_time *et, pond_fs *fs, const pond_wd *wd,
                                const char *path);
/* From settings already read: column is taken (may be NULL), timezone copied into a zone (path
 * in messages). */
int pond_table__event_time_from(pond_event_time *et, char *column, const char *timezone,
                                const char *path);
void pond_table__event_time_dispose(pond_event_time *et);
/* Binds to the column of the "+s" schema named et->column: 0, 1 when the schema has no such
 * column (et->index -1, no message), POND_EINVALID when its type holds no time. */
int pond_table__event_time_bind(pond_event_time *et, const struct ArrowSchema *schema);

/* Format strings equal, recursively (names of nested children too). */
bool pond_table__same_type(const struct ArrowSchema *a, const struct ArrowSchema *b);

/* JSON records as rows for import (json_import.c). The columns are the keys of the first
 * sample_rows records in order of first appearance; a later record with another key is an
 * error naming it. Fields of a row are in column order; a missing key reads as null. Kinds
 * are csv_import.c's: 0 bare (null, false, true, numbers), 2 a string, 3 nested JSON text. */
typedef struct table_json_src table_json_src;
struct pond_input;
/* layout: 0 auto, 1 array, 2 lines. in is borrowed. Reads the sample at once. */
int pond_table__json_src_new(table_json_src **out, struct pond_input *in, const char *name,
                             int layout, int64_t sample_rows);
size_t pond_table__json_src_ncols(const table_json_src *s);
const char *pond_table__json_src_name(const table_json_src *s, size_t col);
int pond_table__json_src_next(table_json_src *s);
const char *pond_table__json_src_field(const table_json_src *s, size_t col, size_t *len, int *kind);
int64_t pond_table__json_src_line(const table_json_src *s);
void pond_table__json_src_free(table_json_src *s);

/* Of a stream from pond_csv_import_stream (for tests): batches parsed in chunks on the pool,
 * and chunks read again serially (docs/import.md, "Parallel parsing"). */
void pond_table__csv_import_stats(const struct ArrowArrayStream *s, int64_t *parallel_batches,
                                  int64_t *fallbacks);
/* Sets the most bytes a chunk holds (64 MiB; a test sets less), before the first batch. */
void pond_table__csv_import_set_chunk_limit(struct ArrowArrayStream *s, size_t bytes);

/* ---- derived nodes (table_derived.c, table_rollup.c; docs/derived.md) ---- */

enum { TABLE_KEY_INT, TABLE_KEY_STR, TABLE_KEY_BOOL };
typedef enum {
    TABLE_AGG_MIN,
    TABLE_AGG_MAX,
    TABLE_AGG_SUM,
    TABLE_AGG_COUNT,
    TABLE_AGG_AVG,
    TABLE_AGG_AVG2, /* a cascade's avg: sum of input `in` over the sum of input `in2` */
    TABLE_AGG_FIRST,
    TABLE_AGG_LAST
} table_agg;
typedef struct {
    table_agg op;
    size_t in, in2; /* input columns (indexes into in) */
} table_rollup_out;
/* What a rollup computes, from its recipe and its source's columns. */
typedef struct {
    char *dest_path;
    char *every;
    pond__bucket bucket; /* .tz is tz */
    pond_tz *tz;
    bool cascade; /* the source is a rollup: its buckets must nest in ours */
    pond__bucket src_bucket;
    pond_tz *src_bucket_tz;
    pond_tz *src_tz; /* the source's zone for its wall-clock timestamps (NULL: UTC) */
    char *src_ts;    /* the source's timestamp column */
    char **by;
    int *by_kind; /* TABLE_KEY_* */
    size_t n_by;
    char **in; /* input value columns */
    bool *in_double;
    size_t n_in;
    table_rollup_out *outs;
    size_t n_outs;
    char **read_cols; /* borrowed pointers: src_ts, by..., in... */
    size_t n_read_cols;
    struct ArrowSchema schema; /* the output: timestamp, by..., outs... */
} table_rollup_plan;
bool pond_table__rollup_numeric(pond_arrow_type t, bool *is_double);
/* TABLE_KEY_* for a column usable as a --by key, -1 otherwise. */
int pond_table__rollup_key_kind(pond_arrow_type t);
/* The rollup rows of the buckets in [lo, hi) (bucket starts) as a stream; plan and src are
 * borrowed by the stream. *rows_read (may be NULL) grows by the source rows read. */
int pond_table__rollup_stream(struct ArrowArrayStream *out, const table_rollup_plan *plan,
                              pond_fs_node *src, int64_t lo, int64_t hi, int64_t *rows_read);
/* After a write of a new version of the series at node holding rows in [tmin, tmax]: the
 * derived nodes its attributes name are refreshed (their buckets touching the range) in the
 * same transaction; recompute: the version replaced every earlier row (any row may have
 * changed or gone), so they are recomputed whole. *rows_read (may be NULL) grows by the
 * source rows the refreshes read. */
int pond_table__derived_after_write(pond_fs_node *node, table_attrs *attrs, int64_t tmin,
                                    int64_t tmax, bool recompute, int64_t *rows_read);
/* A settings version (no rows) carrying a's attributes, or the transaction's pending version
 * carrying them. */
int pond_table__write_settings_version(table_attrs *a, pond_fs_node *node);
/* Writes every row of the derived node's recipe, computed from its sources now, into scratch
 * (a series of another fs, inside its transaction), with the node's dedup rule. */
int pond_table__derived_compute_into(pond_fs_node *scratch, pond_fs_node *node);
/* A read of a stale manual derived node (docs/derived.md): *computed true and *out its rows
 * as the recipe gives them now, read with ro from a scratch in-memory pond (nothing is
 * written to node's pond); *computed false when node is not one. */
int pond_table__derived_read_stale(struct ArrowArrayStream *out, bool *computed, pond_fs_node *node,
                                   const pond_table_read_options *ro);

/* A join (table_join.c): output columns per source are <name>_<column>. */
enum { TABLE_JOIN_INT, TABLE_JOIN_DOUBLE, TABLE_JOIN_STR, TABLE_JOIN_BOOL };
typedef struct {
    char *name;
    pond_fs_node *node;    /* owned */
    bool has_from, has_to; /* the source's window [from, to) */
    int64_t from, to;
    pond_tz *tz;      /* the source's zone for wall-clock timestamps (NULL: UTC) */
    char **read_cols; /* its timestamp column, then its columns */
    int *kind;        /* TABLE_JOIN_* per column */
    size_t n_cols;
} table_join_src;
typedef struct {
    int64_t tolerance_us; /* 0: exact */
    table_join_src *src;
    size_t n_src;
    struct ArrowSchema schema; /* timestamp, then each source's columns */
} table_join_plan;
/* The join rows with timestamps in [lo, hi) as a stream (plan borrowed). */
int pond_table__join_stream(struct ArrowArrayStream *out, const table_join_plan *plan, int64_t lo,
                            int64_t hi, int64_t *rows_read);

/* The event-time ranges [min, max] of a series' versions that hold rows (not replaced), for
 * skipping stretches of time without data; appended to *spans (pond_free). */
typedef struct {
    int64_t lo, hi;
} table_span;
int pond_table__series_spans(table_span **spans, size_t *n, pond_fs_node *node);
/* The first instant >= t that some span holds (t itself when one holds it), INT64_MAX when
 * none does. */
int64_t pond_table__spans_next(const table_span *spans, size_t n, int64_t t);

#endif
