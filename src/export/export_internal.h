/* Export internals shared by the files of src/export/ (docs/export.md). */
#ifndef POND_EXPORT_INTERNAL_H
#define POND_EXPORT_INTERNAL_H

#include <pond/arrow.h>
#include <pond/export.h>
#include <pond/hash.h>
#include <pond/parquet.h>
#include <pond/table.h>

#include "util/util.h"

#define EX_D POND_DOM_EXPORT

/* Names in the export directory: everything of pond's starts with '_' so that engines skip it,
 * and nothing but a published data file ends in ".parquet". */
#define EX_STATE "_pond_export.state"
#define EX_JOURNAL "_pond_export.journal"
#define EX_LOCK "_pond_export.lock"
#define EX_TMPDIR "_pond_tmp"

/* ---- partition keys (export_arrow.c) ---- */

/* The partition of a row: its event time's UTC year, month, day down to `level`
 * (0 none, 1 year, 2 month, 3 day), or null for a null timestamp. */
typedef struct {
    int32_t y, m, d;
    bool null;
} ex_key;

int pond_ex_level_of(pond_export_partition p);
ex_key pond_ex_key_of(int64_t us, int level);
bool pond_ex_key_equal(const ex_key *a, const ex_key *b);
/* The key as state text ("-" for no partition, "null", "2024", "2024-1", "2024-1-15");
 * out needs 40 bytes. */
void pond_ex_key_text(char out[40], const ex_key *k, int level);
int pond_ex_key_parse(ex_key *out, const char *text, int level);
/* The directory of a partition ("year=2024/month=1"; "" with no partition). */
int pond_ex_key_dir(pond_buf *out, const ex_key *k, int level);
/* The event-time span [*lo, *hi) of a partition (a null key has none: false). */
bool pond_ex_key_span(const ex_key *k, int level, int64_t *lo, int64_t *hi);

/* ---- Arrow helpers (export_arrow.c) ---- */

/* Rows idx[0..n) of `in` (logical indices of in, whose own offset is applied here) as a new
 * pond-owned array of the same type; with ns_to_us a nanosecond timestamp column becomes a
 * microsecond one (POND_EINVALID naming the column when a value has a sub-microsecond part). */
int pond_ex_take(struct ArrowArray *out, const struct ArrowSchema *type,
                 const struct ArrowArray *in, int64_t base, const int64_t *idx, int64_t n,
                 bool ns_to_us);

/* Mixes the values of rows [base, base+n) of a column into the per-row hashes h[0..n). col may
 * be NULL (a column the version lacks: every row null). */
int pond_ex_hash_column(uint64_t *h, const struct ArrowSchema *type, const struct ArrowArray *col,
                        int64_t base, int64_t n);
/* The order-independent digest of a multiset of rows: two 64-bit wrapping sums. */
typedef struct {
    int64_t rows;
    uint64_t s1, s2;
} ex_digest;
void pond_ex_digest_add_rows(ex_digest *d, const uint64_t *h, int64_t n);

/* Per-column statistics of one output file, for Delta's stats (min, max, null count). */
typedef struct {
    int kind; /* 0 none (nulls counted only), 1 int, 2 double, 3 string, 4 date, 5 timestamp */
    pond_arrow_unit unit;
    int64_t nulls;
    bool has, bad; /* a value was seen; min/max unusable (NaN, long string, unsigned 64) */
    int64_t imin, imax;
    double dmin, dmax;
    pond_buf smin, smax;
} ex_colstats;
void pond_ex_colstats_init(ex_colstats *s, const struct ArrowSchema *type);
int pond_ex_colstats_add(ex_colstats *s, const struct ArrowSchema *type,
                         const struct ArrowArray *col, int64_t n);
void pond_ex_colstats_dispose(ex_colstats *s);
/* Appends the stats JSON object of a file ({"numRecords":..,"minValues":..}). */
int pond_ex_stats_json(pond_buf *out, int64_t rows, const struct ArrowSchema *schema,
                       const ex_colstats *cols);
/* Appends s as a JSON string literal. */
int pond_ex_json_str(pond_buf *out, const char *s, size_t len);
/* A canonical text of a schema (names, formats, nullability, recursively) for fingerprints. */
int pond_ex_schema_text(pond_buf *out, const struct ArrowSchema *s);

/* ---- state and journal (export_state.c) ---- */

typedef struct {
    int64_t version;
    pond_hash sha;
    int64_t txn_seq;
    int64_t rows;
    uint64_t s1, s2;
    char *parts; /* the partition keys it holds rows of, comma-separated ("" = none) */
} ex_ver;

typedef struct {
    char *name; /* relative to the export directory */
    char *key;  /* partition key text */
    int64_t rows, bytes;
    char *tmp; /* journal: the temporary name (in _pond_tmp/) it is published from, or NULL */
} ex_file;

typedef struct {
    pond_export_format format;
    char *source, *node, *kind, *options, *schema, *settings;
    int64_t position; /* the pond transaction of the newest exported source version */
    int64_t run;      /* export runs that wrote files (numbers file names) */
    char *delta_id;   /* Delta: the table id and the version this state matches */
    int64_t delta_version;
    int protocol_reader, protocol_writer; /* Delta: the protocol written */
    pond_buf vers;                        /* ex_ver */
    pond_buf files;                       /* ex_file */
    pond_buf removed; /* journal: names of files this step removes (ex_file, tmp NULL) */
} ex_state;

void pond_ex_state_init(ex_state *s);
void pond_ex_state_dispose(ex_state *s);
size_t pond_ex_state_nvers(const ex_state *s);
ex_ver *pond_ex_state_ver(const ex_state *s, size_t i);
size_t pond_ex_state_nfiles(const ex_state *s);
ex_file *pond_ex_state_file(const ex_state *s, size_t i);
size_t pond_ex_state_nremoved(const ex_state *s);
ex_file *pond_ex_state_removed(const ex_state *s, size_t i);
int pond_ex_state_add_ver(ex_state *s, const ex_ver *v);   /* copies */
int pond_ex_state_add_file(ex_state *s, const ex_file *f); /* copies */
int pond_ex_state_add_removed(ex_state *s, const ex_file *f);
/* Parses a state or journal text (modified in place; path names it in messages). */
int pond_ex_state_parse(ex_state *s, char *text, size_t len, const char *path);
/* Reads dir/name; *found false (and s empty) when it does not exist. */
int pond_ex_state_load(ex_state *s, bool *found, const char *dir, const char *name);
/* Writes dir/name by temp + fsync + rename + fsync of dir. */
int pond_ex_state_save(const ex_state *s, const char *dir, const char *name);

/* ---- one export of one source (export_run.c, export_write.c) ---- */

#define EX_MAX_WRITERS 8

/* An open output file of one partition. */
typedef struct {
    ex_key key;
    char keytext[40];
    char *tmp_name; /* in _pond_tmp/ */
    char *tmp_path;
    char *final_name; /* relative to the export directory */
    pond_parquet_sink file;
    pond_parquet_writer *pw;
    int64_t bytes, rows;
    int64_t *total;     /* the export's bytes written so far, all files (progress) */
    ex_colstats *stats; /* Delta: one per output column */
    uint64_t last_use;
} ex_writer;

/* A finished output file waiting to be published. */
typedef struct {
    char *name, *key, *tmp, *stats;
    int64_t rows, bytes;
} ex_written;

typedef struct {
    pond_fs *fs;
    char *path; /* the source, absolute */
    const char *dir;
    char *tmpdir;
    const pond_export_options *o;
    pond_export_result *res;
    int level;
    bool series, delta;
    bool dedup; /* the series has a dedup rule: a new version may hide rows exported earlier */
    /* partitioned series: the event time of a row, as the series reader reads it (table.h) */
    pond_event_time *et;
    const char *ts_name; /* its column (borrowed from et) */
    /* the columns each read asks for (NULL: all) and the output columns */
    char **read_cols;
    int n_read_cols;
    struct ArrowSchema out_schema; /* "+s" of the output columns as written */
    bool *cast_ns;                 /* per output column: ns -> µs (Delta) */
    /* writers */
    int64_t run, seq;
    ex_writer *writers[EX_MAX_WRITERS]; /* each allocated: a writer's sink points at it */
    size_t n_writers;
    uint64_t tick;
    pond_buf written; /* ex_written */
    /* scratch */
    pond_buf hashes, idx;
    int64_t rows, bytes;
} ex_ctx;

/* Appends the rows idx[0..n) of batch (all rows when idx is NULL) to the partition's file,
 * opening, rolling over or evicting files as needed. map[k]: the batch column of output
 * column k, or -1 (null). */
int pond_ex_emit(ex_ctx *c, const ex_key *key, const struct ArrowArray *batch, const int *map,
                 const int64_t *idx, int64_t n);
/* Finishes every open file. */
int pond_ex_finish_all(ex_ctx *c);
/* Drops every open file (after an error): their temporary files are removed. */
void pond_ex_drop_all(ex_ctx *c);
/* Removes whatever an unfinished export left in _pond_tmp/ (only pond's temporary names). */
int pond_ex_clean_tmp(const char *tmpdir);
/* Moves the new files of journal j into place: rename from _pond_tmp/ (done once; a file
 * already in place is fine), then fsync their directories. With remove, first unlinks the
 * files j lists as removed. */
int pond_ex_publish_files(const char *dir, const ex_state *j, bool remove);
/* The directories of rel inside dir (every component before a '/': "a/b/f" checks a and a/b,
 * "a/b/" checks a and a/b) are real directories or missing, never a symbolic link that would
 * take a rename or an unlink outside dir (POND_ECORRUPT naming it). */
int pond_ex_check_dirs(const char *dir, const char *rel);
/* Removes partition directories left empty by removed files (best effort). */
void pond_ex_prune_dirs(const char *dir, const ex_state *j);
void pond_ex_written_dispose(ex_written *w);

/* ---- Delta (export_delta.c) ---- */

/* The Delta schemaString of the output columns plus the partition columns; the protocol the
 * types need. POND_EUNSUPPORTED naming a column Delta has no type for. */
int pond_ex_delta_schema(pond_buf *out, int *reader, int *writer, const struct ArrowSchema *schema,
                         int level);

#endif
