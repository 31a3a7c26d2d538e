#ifndef POND_SQL_INTERNAL_H
#define POND_SQL_INTERNAL_H

#include <pond/sql.h>

/* Built a second time for the loadable extension (libpond_sqlite.so, POND_SQLITE_EXT): every
 * sqlite3_* call then goes through the host's API table, so the extension works in any SQLite
 * client, whichever SQLite library (or static copy) it uses. */
#ifdef POND_SQLITE_EXT
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
#else
#include <sqlite3.h>
#endif

#include <time.h>

/* A pond opened for the virtual tables of a connection registered with pond_sql_register. */
typedef struct {
    char *dir;
    pond_backend *be;
    pond_fs *fs;
    int refs;
} sql_pond;

struct pond_sql {
    sqlite3 *db;
    pond_fs *fs;
    bool foreign;     /* pond_sql_register: db is the caller's, ponds are named per table */
    sql_pond **ponds; /* each allocated alone: tables keep pointers to them */
    size_t n_ponds;
    void **tabs; /* the module's live virtual tables (vtab *), for stats */
    size_t n_tabs, cap_tabs;
    size_t cache_limit; /* decoded bytes per table kept for rescans */
    bool no_fast;       /* pond_sql_set_fast_path(q, false) */
    int threads;        /* pond_sql_set_threads; 0 = the Parquet reader's default */
    /* pond_sql_guard: a statement stops once the deadline passed */
    int64_t limit_ms;         /* 0: no limit */
    struct timespec deadline; /* CLOCK_MONOTONIC */
    bool expired;
};

/* Registers the "pond" virtual-table module on q->db (sql_vtab.c); with destroy, SQLite calls
 * it with q when the connection closes. */
int pond_sql__register_module(pond_sql *q, void (*destroy)(void *));
/* The ponds a foreign connection's tables opened (sql_vtab.c). */
void pond_sql__close_ponds(pond_sql *q);

/* ---- scans (sql_scan.c): the versions of a table or series read straight from their Parquet
 * files, with row groups pruned by the statistics of any number of columns ---- */

/* One version of the file, as seen when the table was attached (from the series index: no
 * version is read to attach it). */
typedef struct {
    int64_t version;
    bool has_event_time;
    int64_t min_us, max_us; /* event-time range (series) */
} sql_version;

/* Keep only row groups whose statistics of column `name` may hold a value in [lo, hi]
 * (integer-based columns, in their stored unit) or [dlo, dhi] (float/double columns). */
typedef struct {
    const char *name;
    bool dbl;
    int64_t lo, hi;
    double dlo, dhi;
} sql_prune;

typedef struct sql_scan sql_scan;

/* A scan over vers (borrowed, like path, cols and prunes: they must outlive the scan) reading
 * the columns cols that each version has. has_range: versions whose recorded event-time range
 * misses [lo_us, hi_us] are skipped (rows are not filtered: that is the caller's). stats
 * (borrowed) accumulates versions and row groups read and rows decoded. dedup: the series
 * reads under dedup=last (its setting): the scan is then a pond_table_read_stream of the
 * series (the same rows as `pond cat`, filtered to the range), one batch schema throughout.
 * threads: decoding threads (0 = 2), one reader of the version each. */
int pond_sql__scan_open(sql_scan **out, pond_fs *fs, const char *path, bool series,
                        const sql_version *vers, size_t n_vers, const char *const *cols, int n_cols,
                        const sql_prune *prunes, int n_prunes, bool has_range, int64_t lo_us,
                        int64_t hi_us, bool dedup, pond_table_scan_stats *stats, int threads);
/* The next batch (a struct array, one row group) and its schema (valid until the next call
 * or the end of the scan): 1, or 0 at the end, or a negative error with the message set. */
int pond_sql__scan_next(sql_scan *s, struct ArrowArray *out, const struct ArrowSchema **schema);
void pond_sql__scan_free(sql_scan *s);
/* Counting mode, for count(*) under conditions on `column` alone (a non-nullable int64
 * microsecond timestamp, the range [lo_us, hi_us] of the scan, which also prunes by it): row
 * groups (and whole versions) whose statistics (or recorded event-time range) lie inside
 * the range are counted, not returned; call before the first scan_next. */
void pond_sql__scan_count_inside(sql_scan *s, const char *column);
/* The rows counted so far that way. */
int64_t pond_sql__scan_inside_rows(const sql_scan *s);

/* ---- shared by the virtual tables and the aggregate fast path (sql_vtab.c) ---- */

typedef enum {
    K_NULL,
    K_BOOL,
    K_I8,
    K_U8,
    K_I16,
    K_U16,
    K_I32,
    K_U32,
    K_I64,
    K_U64,
    K_F32,
    K_F64,
    K_STR,
    K_LSTR,
    K_BIN,
    K_LBIN,
    K_TS_S,
    K_TS_MS,
    K_TS_US,
    K_TS_NS,
    K_DATE32,
    K_OTHER
} sql_kind;

/* The kind of an Arrow format and the SQL type declared for it. */
sql_kind pond_sql__kind_of(const char *format, const char **decl);
/* A stored timestamp of the given kind in microseconds (saturating). */
int64_t pond_sql__ts_to_us(sql_kind kind, int64_t raw);
/* Narrows [*lo, *hi] to the integers v with "v <op> val" by SQLite's comparison rules
 * (op: one of "egGlL" for =, >, >=, <, <=); false when nothing can match. */
bool pond_sql__narrow(char op, sqlite3_value *val, int64_t *lo, int64_t *hi);
/* A superset [dlo, dhi] of the doubles x with "x <op> val" by SQLite's rules; false when no
 * number can match. */
bool pond_sql__double_bounds(char op, sqlite3_value *val, double *dlo, double *dhi);
/* Raw stored bounds of the µs range [lo, hi] for a timestamp kind; false if not expressible. */
bool pond_sql__raw_bounds(sql_kind kind, int64_t lo, int64_t hi, int64_t *rlo, int64_t *rhi);

/* What the aggregate fast path needs of an attached table (sql_vtab.c). */
typedef struct {
    const char *path;
    bool series;
    bool in_temp; /* else main */
    int ncols;
    char *const *cols;
    const sql_kind *kinds;
    int ts_col;
    const sql_version *vers;
    size_t n_vers;
    bool dedup; /* a series read under dedup=last */
    pond_table_scan_stats *stats;
    pond_fs *fs;
} sql_table_info;
/* The attached pond table named `name` in schema temp or main (case-insensitive), or false. */
bool pond_sql__lookup_table(sql_table_info *out, pond_sql *q, const char *name);

/* ---- the aggregate fast path (sql_fast.c) ---- */

/* Registers the eponymous virtual table pond_aggregate(spec, values...). */
int pond_sql__register_fast(pond_sql *q);

/* As pond_sql_query_stream, but the stream takes q (freed when the stream is released, or here
 * on failure): a query whose pond_sql lives as long as its rows (sql_derived.c). */
int pond_sql__query_stream_take(struct ArrowArrayStream *out, pond_sql *q, const char *sql);
/* If sql is a simple aggregate over one attached table (see docs/sql.md), prepares the
 * equivalent statement over pond_aggregate into *out and returns 1; 0 when it does not apply
 * (prepare it normally); negative on allocation failure. */
int pond_sql__fast_prepare(sqlite3_stmt **out, pond_sql *q, const char *sql);

#endif
