/* pond: a series read as N equal time buckets with min, max, mean and count per bucket and
 * column: what a chart needs, whatever the number of rows (docs/serve.md, "Buckets"). */
#ifndef POND_BUCKETS_H
#define POND_BUCKETS_H

#include "common.h"
#include "tinyfs.h"

/* A cache of series decoded for bucketed reads, shared by calls on any thread (pond serve
 * keeps one): per series and set of columns, the rows' times and values as doubles in the
 * order the table reader returns them, and per block of rows their time range and count,
 * sum, min and max. A call answered from it folds whole blocks that lie in one bucket and
 * looks at single rows only where a block straddles a bucket's edge. An entry is keyed by the
 * series' node, timestamp column, zone and columns, and holds the list of versions it was
 * read from: a call whose series has exactly those versions uses it; one whose versions add
 * later versions holding only later times reads just those and appends them; any other
 * change reads the series again (docs/serve.md, "Buckets"). */
typedef struct pond_buckets_cache pond_buckets_cache;
/** A cache holding at most max_bytes of decoded series (an entry that would not fit is not
 *  kept; idle entries are dropped oldest-used first). Free with pond_buckets_cache_free once
 *  no call uses it. */
POND_API int pond_buckets_cache_new(pond_buckets_cache **out, size_t max_bytes);
POND_API void pond_buckets_cache_free(pond_buckets_cache *c);
/** Bytes held now (for tests and benchmarks). */
POND_API size_t pond_buckets_cache_bytes(pond_buckets_cache *c);

typedef struct {
    unsigned version;           /* POND_BUCKETS_OPTIONS_VERSION */
    bool has_range;             /* false: the series' whole event-time range */
    int64_t from_us, to_us;     /* [from, to), µs UTC */
    int64_t n;                  /* buckets, 1 to POND_BUCKETS_MAX */
    const char *const *columns; /* NULL: every numeric column but the timestamp */
    int n_columns;
    /* version 2 */
    pond_buckets_cache *cache; /* NULL: every call reads the range */
} pond_buckets_options;
#define POND_BUCKETS_OPTIONS_VERSION 2
#define POND_BUCKETS_OPTIONS_INIT                                                                  \
    {                                                                                              \
        POND_BUCKETS_OPTIONS_VERSION, false, 0, 0, 100, NULL, 0, NULL                              \
    }
#define POND_BUCKETS_MAX 100000

typedef enum {
    POND_BUCKETS_SCAN,     /* the range read from the pond */
    POND_BUCKETS_CACHED,   /* from the cache as it was */
    POND_BUCKETS_EXTENDED, /* from the cache, after reading the series' new versions */
    POND_BUCKETS_BUILT,    /* the whole series read into the cache, then answered from it */
} pond_buckets_source;

typedef struct {
    int64_t count;        /* values that went in: nulls, NaN and infinities do not */
    double min, max, sum; /* min/max +inf/-inf and sum 0 when count is 0 */
} pond_bucket;

typedef struct {
    char *timestamp_column;
    int64_t from_us, to_us, n; /* bucket i is [start(i), start(i + 1)), pond_buckets_start */
    size_t n_columns;
    char **names;
    pond_bucket *cells; /* n_columns * n, column-major: cells[c * n + i] */
    int64_t rows_read;  /* rows whose time lies in [from, to) */
    bool empty;         /* the series has no event times (and no range was given) */
    pond_buckets_source source;
} pond_buckets;

/** The series at path over [from, to) in n buckets: per bucket and numeric column (integers
 *  and floats, as doubles) the count of values (nulls, NaN and infinities left out), their
 *  min, max and sum. Without a cache (or when the cache cannot answer) it reads the range
 *  once through pond_table_read_stream (versions outside the range skipped, row groups pruned
 *  by their statistics, only the timestamp and the asked columns decoded) and folds each row
 *  into its bucket; with opts->cache it answers from the cache when the cache holds the
 *  series' current versions, and reads the whole series into it when the range covers most
 *  of the series (out->source says which). Counts, min and max are the same either way; a
 *  sum may differ in its last bits (block sums added in another order). A column asked for
 *  that is not numeric is POND_EINVALID naming it and its type. A path that is not a series,
 *  or a series without a timestamp column, is POND_EINVALID. Dispose with
 *  pond_buckets_dispose (also on failure). */
POND_API int pond_table_buckets(pond_buckets *out, pond_fs *fs, const pond_wd *wd, const char *path,
                                const pond_buckets_options *opts);
POND_API void pond_buckets_dispose(pond_buckets *b);
/** The start of bucket i: from + ceil((to - from) * i / n), µs (i = n gives to). A row at
 *  time t lies in the bucket i with start(i) <= t < start(i + 1). */
POND_API int64_t pond_buckets_start(const pond_buckets *b, int64_t i);

#endif
