/* Bucketed reads: what the scan (table_buckets.c) and the cache (table_buckets_cache.c) share:
 * the grid of buckets and how a value goes into a cell. */
#ifndef POND_TABLE_BUCKETS_INTERNAL_H
#define POND_TABLE_BUCKETS_INTERNAL_H

#include <pond/buckets.h>

#include "table/table_internal.h"

#include <math.h>

/* (t - from) * n overflows 64 bits for spans of centuries at many buckets */
__extension__ typedef __int128 bk_i128;

/* Bucket i is [start(i), start(i + 1)) with start(i) = from + ceil((to - from) * i / n): the
 * integers t with i <= (t - from) * n / (to - from) < i + 1, so the bucket of t is
 * floor((t - from) * n / (to - from)) and every t lies in the bucket whose start the answer
 * names. The current bucket is remembered: rows in time order rarely divide. */
typedef struct {
    int64_t from, to, n;
    bk_i128 span;
    int64_t bi, lo, hi; /* the current bucket and its [lo, hi) */
} bk_grid;

static inline int64_t bk_start(const bk_grid *g, int64_t i)
{
    return (int64_t)(g->from + (g->span * i + g->n - 1) / g->n);
}

static inline void bk_grid_init(bk_grid *g, int64_t from, int64_t to, int64_t n)
{
    g->from = from;
    g->to = to;
    g->n = n;
    g->span = (bk_i128)to - from;
    g->bi = 0;
    g->lo = bk_start(g, 0);
    g->hi = bk_start(g, 1);
}

/* The bucket of t, from <= t < to. */
static inline int64_t bk_bucket(bk_grid *g, int64_t t)
{
    if (t >= g->lo && t < g->hi)
        return g->bi;
    g->bi = (int64_t)(((bk_i128)t - g->from) * g->n / g->span);
    g->lo = bk_start(g, g->bi);
    g->hi = bk_start(g, g->bi + 1);
    return g->bi;
}

/* Nulls (as NaN), NaN and infinities do not go in. */
static inline void bk_add(pond_bucket *c, double x)
{
    if (!isfinite(x))
        return;
    c->count++;
    c->sum += x;
    c->min = x < c->min ? x : c->min;
    c->max = x > c->max ? x : c->max;
}

static inline void bk_merge(pond_bucket *c, const pond_bucket *b)
{
    if (!b->count)
        return;
    c->count += b->count;
    c->sum += b->sum;
    c->min = b->min < c->min ? b->min : c->min;
    c->max = b->max > c->max ? b->max : c->max;
}

/* What pond_table_buckets found before reading rows, for the cache. */
typedef struct {
    pond_fs *fs;
    const pond_wd *wd;
    const char *path;
    const pond_tz *tz;        /* the series' zone (wall-clock timestamps) */
    const char *const *cols;  /* the timestamp column, then the value columns */
    int ncols;                /* 1 + value columns */
    bool covers_most;         /* the range spans most of the series' event times */
    const char *dedup;        /* the series' dedup=last rule as text ("last:K1,K2"), or
                                       NULL: a version read alone is not deduplicated, so an
                                       entry under a rule is only ever built whole */
    int64_t newest_replacing; /* the newest version replacing earlier ones, or 0: a
                                       version read alone then is not what a read returns */
} bk_request;

/* Answers from the cache when it has (or can cheaply bring up to date, or is allowed to
 * build) the series' decoded columns: 0 with out's cells filled and out->source set;
 * POND_ENOTFOUND when the caller should scan instead; another error as a read's. */
int pond_table__buckets_cached(pond_buckets *out, pond_buckets_cache *c, const bk_request *rq);

/* Double value j (the array's own offset already added) of a numeric column; NaN for
 * types that are not numeric. */
double pond_table__bk_value(const pond_arrow_format *f, const struct ArrowArray *a, int64_t j);

#endif
