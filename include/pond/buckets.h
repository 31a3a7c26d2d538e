/* pond: a series read as N equal time buckets with min, max, mean and count per bucket and
 * column: what a chart needs, whatever the number of rows (docs/serve.md, "Buckets"). */
#ifndef POND_BUCKETS_H
#define POND_BUCKETS_H

#include "common.h"
#include "tinyfs.h"

typedef struct {
    unsigned version;           /* POND_BUCKETS_OPTIONS_VERSION */
    bool has_range;             /* false: the series' whole event-time range */
    int64_t from_us, to_us;     /* [from, to), µs UTC */
    int64_t n;                  /* buckets, 1 to POND_BUCKETS_MAX */
    const char *const *columns; /* NULL: every numeric column but the timestamp */
    int n_columns;
} pond_buckets_options;
#define POND_BUCKETS_OPTIONS_VERSION 1
#define POND_BUCKETS_OPTIONS_INIT {POND_BUCKETS_OPTIONS_VERSION, false, 0, 0, 100, NULL, 0}
#define POND_BUCKETS_MAX 100000

typedef struct {
    int64_t count; /* values that went in: nulls, NaN and infinities do not */
    double min, max, sum;
} pond_bucket;

typedef struct {
    char *timestamp_column;
    int64_t from_us, to_us, n; /* bucket i is [from + (to-from)*i/n, from + (to-from)*(i+1)/n) */
    size_t n_columns;
    char **names;
    pond_bucket *cells; /* n_columns * n, column-major: cells[c * n + i] */
    int64_t rows_read;  /* rows of the range that were read */
    bool empty;         /* the series has no event times (and no range was given) */
} pond_buckets;

/** Reads the series at path over [from, to) once, through pond_table_read_stream (versions
 *  outside the range skipped, row groups pruned by their statistics, only the timestamp and
 *  the asked columns decoded) and folds each row into its bucket. Numeric columns only
 *  (integers, floats, decimals as doubles); a column asked for that is not numeric is
 *  POND_EINVALID naming it and its type. A path that is not a series, or a series without a
 *  timestamp column, is POND_EINVALID. Dispose with pond_buckets_dispose (also on failure). */
POND_API int pond_table_buckets(pond_buckets *out, pond_fs *fs, const pond_wd *wd,
                                const char *path, const pond_buckets_options *opts);
POND_API void pond_buckets_dispose(pond_buckets *b);
/** The start of bucket i (i = n gives to). */
POND_API int64_t pond_buckets_start(const pond_buckets *b, int64_t i);

#endif
