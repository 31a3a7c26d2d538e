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

/* Scans read through the table layer: pond_table__scan_open and its options. */
#include "table/table_scan.h"

/* The recogniser of the aggregate fast path (sql_fast.c) prepares "EXPLAIN <the query>" with
 * q->probe set: xBestIndex (sql_vtab.c) then takes every comparison of a numeric column with
 * "=, <, <=, >, >=" (omitted, so SQLite's own check is gone from the program) and records
 * here, per call, which table it planned and the right-hand values SQLite already knows.
 * Its idxStr is "probe<call>:<op><column>,..." (one per argv value). */
#define SQL_PROBE_CALLS 16
#define SQL_PROBE_ARGS 16
typedef struct {
    const void *table; /* identity: the table's stats (sql_table_info.stats) */
    const void *vtab;  /* its sqlite3_vtab, as EXPLAIN names it in VOpen ("vtab:%p") */
    const char *name;  /* its SQL name (the table's own copy) */
    int n;             /* argv values (may exceed SQL_PROBE_ARGS; only those are kept) */
    sqlite3_value *rhs[SQL_PROBE_ARGS]; /* known right-hand sides; NULL: not known now */
} sql_probe_call;
typedef struct {
    sql_probe_call calls[SQL_PROBE_CALLS];
    int n_calls;
} sql_probe;

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
    sql_probe *probe;   /* set while sql_fast.c explains a statement */
    int threads;        /* pond_sql_set_threads; 0 = the Parquet reader's default */
    /* the scans' decode buffers, kept from one statement to the next (at most 32 MiB while
     * the connection is open: pond_table__scan_cache_new) */
    pond_bufcache *bufs;
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
/* Whether SQLite of this version (sqlite3_libversion_number) sums as the fast path does: in
 * row order, one double running sum. 3.43 and later add doubles with Kahan-Babuska-Neumaier
 * compensation, a different answer, so sum/avg/total are left to SQLite there. */
bool pond_sql__plain_sums(int version);
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
    const table_scan_version *vers;
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
/* If st (the user's statement, prepared by SQLite unchanged) is a simple aggregate over one
 * attached table, recognised from SQLite's compiled program (see docs/sql.md), prepares the
 * equivalent statement over pond_aggregate into *out and returns 1; 0 when it does not apply
 * (use st); negative on allocation failure. */
int pond_sql__fast_prepare(sqlite3_stmt **out, pond_sql *q, sqlite3_stmt *st);

#endif
