/* pond: SQL over tables and series (SQLite virtual tables).
 *
 * A pond_sql is an in-memory SQLite database (Debian's libsqlite3) bound to one pond_fs, with a
 * virtual-table module "pond" and helper functions. Each attached name is a read-only virtual
 * table over a pond table or series, read through pond_table_read_stream:
 *   - a table gives its latest version (or version N), a series all its versions (or version N);
 *     read the pond as of a past transaction by opening the fs that way (oplog as_of_txn);
 *   - Arrow types map to SQLite values: integers and booleans -> INTEGER, float/double -> REAL,
 *     strings -> TEXT, binaries -> BLOB, timestamps -> INTEGER microseconds since the epoch UTC
 *     (declared type TIMESTAMP, or DATETIME without a time zone), date32 -> TEXT 'YYYY-MM-DD',
 *     anything else -> TEXT in pond's canonical form;
 *   - only the columns a query uses are read, and comparisons (=, <, <=, >, >=, BETWEEN, IN)
 *     of a series' timestamp column (an Arrow timestamp) narrow the stream's time range, so
 *     versions, row groups and rows outside it are never decoded; the range is exactly what
 *     SQLite's comparison would accept, and the cursor applies it to each row itself;
 *     comparisons of other numeric columns with constants skip row groups by statistics;
 *   - simple aggregates over one table run over whole batches (pond_sql_set_fast_path).
 * SQL functions: iso(us) -> 'YYYY-MM-DDTHH:MM:SS[.ffffff]Z'; us(text) -> microseconds (ISO-8601
 * or epoch with unit, as `pond cat --from`); time_bucket(us, width_us) -> us rounded down to a
 * multiple of width_us.
 *
 * Rescans (the inner loop of a join) replay the batches of an earlier identical scan kept in
 * memory (up to 64 MiB decoded per table by default; pond_sql_set_cache_limit), so an
 * attached table is a snapshot: attach again, or open a new pond_sql, to see versions written
 * after its first query.
 *
 * Errors are negative POND_E* codes; SQL errors are POND_EINVALID with the message
 * "sql: <sqlite message>". A pond_sql borrows its fs: free it before the fs. */
#ifndef POND_SQL_H
#define POND_SQL_H

#include "common.h"
#include "rows.h"
#include "table.h"
#include "tinyfs.h"

struct sqlite3;
struct sqlite3_stmt;

typedef struct pond_sql pond_sql;

/** Opens an in-memory SQL database over fs (borrowed for the lifetime of the pond_sql). */
POND_API int pond_sql_open(pond_sql **out, pond_fs *fs);
POND_API void pond_sql_free(pond_sql *q); /* NULL is fine; finalize statements first */

/** Exposes the table or series at path as the SQL table `name` (any identifier; quoted as
 *  needed). file_version 0: latest (table) or all versions (series); N: only version N.
 *  POND_ENOTFOUND / POND_EINVALID if path is missing or not a table or series,
 *  POND_EEXISTS-like SQL errors (POND_EINVALID) if name is taken. */
POND_API int pond_sql_attach(pond_sql *q, const char *name, const char *path, int64_t file_version);

/** Reads a table binding NAME=PATH[@VERSION] as `pond query` and `pond serve` take it: NAME is
 *  what precedes the first '=', PATH the rest; a final '@' followed by digits only is the
 *  version (1 or more), any other '@' is part of the path. *name_out and *path_out are yours
 *  (pond_free); *version_out 0 when no version is given. POND_EINVALID naming the binding
 *  when NAME or PATH is empty, '=' is missing or the version is 0 or out of range. */
POND_API int pond_sql_binding_parse(char **name_out, char **path_out, int64_t *version_out,
                                    const char *binding);

/** Prepares one SQL statement (trailing whitespace and ';' allowed; a second statement is
 *  POND_EINVALID). The statement is yours: sqlite3_finalize it before pond_sql_free. */
POND_API int pond_sql_prepare(struct sqlite3_stmt **out, pond_sql *q, const char *sql);
/** Steps a statement: 1 when a row is ready, 0 when done, or a negative error ("sql: ..."). */
POND_API int pond_sql_step(pond_sql *q, struct sqlite3_stmt *stmt);

/** Runs one SQL statement and writes its rows to sink in fmt (pond_rows_new: names as SQLite
 *  gives them; tz may be NULL). Integers of a result column declared TIMESTAMP (a timestamp
 *  column taken as it is) print as times with a zone, DATETIME as wall-clock times; blobs as
 *  hex. rows_out may be NULL. Errors as pond_sql_prepare and pond_sql_step, or the sink's. */
POND_API int pond_sql_output(int64_t *rows_out, pond_sql *q, const char *sql, pond_rows_format fmt,
                             const pond_tz *tz, pond_rows_sink_fn sink, void *payload);

/** The most decoded bytes each attached table keeps for rescans (default 64 MiB); 0 turns
 *  the cache off (every scan reads the pond). Applies to scans that start afterwards. */
POND_API void pond_sql_set_cache_limit(pond_sql *q, size_t bytes);

/** Threads decoding row groups for scans, the caller's among them (0 = the default, 2; 1 =
 *  the caller's only). Row groups of at least 512 KiB are decoded ahead on the others; the
 *  rows, their order and every result are the same whatever the count (aggregates are still
 *  summed in row order on the caller's thread). Applies to scans that start afterwards. */
POND_API void pond_sql_set_threads(pond_sql *q, int threads);

/** Guards q for SQL text someone else wrote (a `pond serve` request, a `sql` recipe in a pond
 *  someone sent you): statements may only read (SELECT, table reads, recursive CTEs; no
 *  ATTACH, writes, pragmas or load_extension: "not authorized"), values are at most 16 MiB,
 *  SQL text at most 64 KiB, and from this call on at most time_limit_ms may pass (0: no
 *  limit): a statement still running then stops with "sql: the query ran longer than its
 *  limit of N ms" (pond_sql_expired tells). A fast-path aggregate (computed in C while
 *  preparing) is bounded by the data it reads, not by the limit. */
POND_API void pond_sql_guard(pond_sql *q, int64_t time_limit_ms);
/** Whether q's pond_sql_guard time limit stopped a statement. */
POND_API bool pond_sql_expired(const pond_sql *q);

/** The aggregate fast path (on by default): pond_sql_prepare runs a query of the shape
 *  SELECT count/sum/avg/total/min/max(col or *), ... FROM name [WHERE col <op> constant AND
 *  ... | col BETWEEN c1 AND c2] over one attached table with numeric columns by computing the
 *  aggregates over whole batches in C, pruning row groups by every condition; results are
 *  identical to SQLite's own (types, NULLs, the order of summation, "integer overflow"). The
 *  prepared statement then reads from pond_aggregate(...) (sqlite3_sql shows it); column
 *  names are those SQLite would give. Off: every query runs through SQLite's engine. */
POND_API void pond_sql_set_fast_path(pond_sql *q, bool on);

/** The rows of one SQL statement as an Arrow stream (prepared with pond_sql_prepare, so the
 *  fast path applies). Column types: a column taken straight from a table keeps its declared
 *  type (INTEGER -> int64, REAL -> double, TEXT and DATE -> utf8, BLOB -> binary, TIMESTAMP ->
 *  timestamp[us, UTC], DATETIME -> timestamp[us]); any other column is typed by the values of
 *  the first batch (65,536 rows): REAL if any is REAL, else INTEGER; TEXT if any is TEXT;
 *  all NULL -> the null type. A later value that does not fit its column (TEXT in a REAL
 *  column, a non-NULL value in a null column) fails the stream with a message naming the
 *  column and row. The first batch is read here (errors in it are returned here). The stream
 *  borrows q: release it first. */
POND_API int pond_sql_query_stream(struct ArrowArrayStream *out, pond_sql *q, const char *sql);

/** Registers pond on an SQLite connection the caller owns (any SQLite client; the loadable
 *  extension libpond_sqlite calls this): the module "pond", whose tables name the pond first,
 *    CREATE VIRTUAL TABLE s USING pond('/path/to/pond', '/plant/station1' [, version])
 *  (each pond is opened read-only once per connection, as of that statement, and closed with
 *  the connection), with the same column types and pushdown as pond_sql_attach; and the
 *  functions iso, us and time_bucket. The aggregate fast path of pond_sql_prepare does not
 *  apply (the client prepares its own statements). */
POND_API int pond_sql_register(struct sqlite3 *db);

/** Makes this SQL layer the evaluator of `sql` derived recipes (pond_derive_set_sql_evaluator
 *  in <pond/table.h>): each evaluation opens its own pond_sql over the fs, attaches the
 *  recipe's sources and streams the query's rows (pond_sql_query_stream's types). Call once
 *  at start, before writing (the pond CLI does). */
POND_API void pond_sql_derive_register(void);
/** The time limit of every `sql` recipe evaluation from now on (pond_sql_guard: a recipe from
 *  a pond someone sent may hold a query that never ends; it only reads either way). ms <= 0:
 *  the default, POND_SQL_DERIVE_TIME_LIMIT_MS. Not thread-safe: set it at start. */
#define POND_SQL_DERIVE_TIME_LIMIT_MS 600000
POND_API void pond_sql_derive_set_time_limit(int64_t ms);

/** The SQLite handle (borrowed; valid until pond_sql_free), for anything else. */
POND_API struct sqlite3 *pond_sql_db(pond_sql *q);

/** Scan statistics of the attached table `name`, summed over every stream its queries opened
 *  since it was attached or since pond_sql_reset_stats. POND_ENOTFOUND for an unknown name. */
POND_API int pond_sql_table_stats(pond_table_scan_stats *out, pond_sql *q, const char *name);
POND_API void pond_sql_reset_stats(pond_sql *q);

#endif
