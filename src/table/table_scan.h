/* Reading the rows of a table's or series' versions: the one place in pond that opens a
 * version's Parquet file (table_scan.c). The table reader (table_read.c), the SQL layer's
 * virtual tables and aggregate path, and describe all read through it. Internal to pond: the
 * layers above the table layer include it as "table/table_scan.h". */
#ifndef POND_TABLE_SCAN_H
#define POND_TABLE_SCAN_H

#include <pond/parquet.h>
#include <pond/table.h>

#include "util/util.h"

/* ---- one version's Parquet file ---- */

/* A version opened for reading: one pond_reader per decoding thread (a pond_reader is used by
 * one thread at a time, and reading one verifies the content's hashes, a good part of a
 * scan's time, so each of the Parquet reader's threads takes a reader of its own from the
 * set for each read), the Parquet reader over them, and the schema of its batches. */
typedef struct {
    void *h[64]; /* pond_reader *; h[0] gives the size */
    int n;
    pond_hset *set;
    pond_parquet_reader *pq;
    struct ArrowSchema schema; /* of the batches (the projection) */
} table_vfile;

/* Opens version `version` (0: the latest or the pending one) of node with the Parquet options
 * po (NULL: defaults; its threads also say how many readers to open: 0 = 2, capped at 64; the
 * source is set here). Errors are prefixed with the node's path and the version; on failure
 * *v is closed. */
int pond_table__vfile_open(table_vfile *v, pond_fs_node *node, int64_t version,
                           const pond_parquet_read_options *po);
/* Joins the Parquet reader's threads and frees everything; a zeroed or closed one is fine. */
void pond_table__vfile_close(table_vfile *v);
/* The row count and (schema_out not NULL) the Arrow schema of one version, from its footer
 * only (nothing is decoded). Errors name the path and version. */
int pond_table__version_footer(int64_t *rows_out, struct ArrowSchema *schema_out,
                               pond_fs_node *node, int64_t version);

/* pond_series_node_versions, with entries false: without reading any version's entry (rows
 * -1, replaces 0): which versions a read covers and which a compaction replaced, from the
 * series' attributes and one listing of its versions. A one-day read of a long series plans
 * through here (table_output.c), and scans plan from it (table_series.c). */
int pond_table__series_list(pond_series_version_info **out, size_t *n_out, pond_fs_node *node,
                            bool entries);

/* ---- scans: selected versions, projected, pruned by predicates on any column ---- */

/* One version to scan, as the caller selected it (from the series index: no version is read
 * to select it). */
typedef struct {
    int64_t version;
    bool has_event_time;
    int64_t min_us, max_us; /* recorded event-time range (series) */
} table_scan_version;

/* A predicate pushed to row-group and page statistics: the conjunction of the comparisons
 * `column op constant` on one column, as the closed range of values they leave: [lo, hi] for
 * an integer-based column (in its stored unit) or [dlo, dhi] for a float/double column.
 * Statistics prune; rows are not filtered (that stays the caller's: batches are a superset
 * of the matching rows). The first 8 predicates of a version also prune pages. */
typedef struct {
    const char *name;
    bool dbl;
    int64_t lo, hi;
    double dlo, dhi;
} table_scan_pred;

/* The versions a read of node covers, as pond_table_read_stream selects them before a range:
 * file_version N > 0, that one (POND_ENOTFOUND naming the path when there is none); 0, a
 * table's latest version or every version of a series, less those without rows (created
 * empty, settings changes) and those a compaction replaced. From the node's versions and the
 * series index: no version is read. *out: pond_free; *stored_out: their stored bytes. */
int pond_table__scan_versions(table_scan_version **out, size_t *n_out, int64_t *stored_out,
                              pond_fs_node *node, int64_t file_version);

typedef struct {
    /* the versions to read, in order (borrowed, like every pointer here: they must outlive
     * the scan) */
    const table_scan_version *vers;
    size_t n_vers;
    bool series;
    const char *const *cols; /* projection: the columns each version has of these */
    int n_cols;
    const table_scan_pred *preds;
    int n_preds;
    /* has_range: versions whose recorded event-time range misses [lo_us, hi_us] (inclusive)
     * are skipped (rows are not filtered) */
    bool has_range;
    int64_t lo_us, hi_us;
    /* the series reads under dedup=last (its setting): the scan is then the table reader's
     * stream of the series (the rows `pond cat` gives, filtered to the range), one batch
     * schema throughout; a stale manual derived series reads that way too */
    bool dedup;
    int threads; /* decoding threads (0 = 2), one reader of the version each */
    /* counting mode, for count(*) under conditions on this column alone (a non-nullable
     * int64 µs timestamp; the range [lo_us, hi_us] also prunes by it): row groups (and whole
     * versions) whose statistics (or recorded event-time range) lie inside the range are
     * counted (pond_table__scan_inside_rows), not returned. NULL: off */
    const char *count_col;
    pond_table_scan_stats *stats; /* accumulates versions, row groups and rows read */
    /* a caller that reads every batch to the end (an aggregate): with threads > 1, the next
     * version is opened, and its workers start, once the current one's have nothing left to
     * start, so no core idles at a version boundary. Its versions count in stats as it opens
     * them. Memory: the current version's row groups plus the next's read-ahead. */
    bool prefetch;
    /* where the versions' readers take their large decode buffers from and give them back
     * to (borrowed, a reference is taken; pond_table__scan_cache_new): a caller that scans
     * again and again (a SQL connection) keeps one across scans, so the memory of one scan's
     * batches serves the next's instead of being faulted in afresh. NULL: one for this scan */
    pond_bufcache *cache;
} table_scan_options;

typedef struct table_scan table_scan;

/* A buffer cache for table_scan_options.cache, of the size the Parquet reader keeps for its
 * own (32 MiB of buffers of 64 KiB and more at most); end it with pond__bufcache_close. */
int pond_table__scan_cache_new(pond_bufcache **out);

/* A scan of the file at path: each version's own batches (one row group, or the rows of the
 * pages left, per batch), not re-wrapped to a common schema (columns a version lacks are
 * absent), unless o->dedup. */
int pond_table__scan_open(table_scan **out, pond_fs *fs, const char *path,
                          const table_scan_options *o);
/* The next batch (a struct array) and its schema (valid until the next call or the end of
 * the scan): 1, or 0 at the end, or a negative error with the message set. */
int pond_table__scan_next(table_scan *s, struct ArrowArray *out, const struct ArrowSchema **schema);
/* Counting mode: the rows counted from statistics so far. */
int64_t pond_table__scan_inside_rows(const table_scan *s);
void pond_table__scan_free(table_scan *s); /* NULL is fine */

#endif
