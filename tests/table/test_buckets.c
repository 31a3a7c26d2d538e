/* Bucketed reads (include/pond/buckets.h): the scan and the cache against a brute-force
 * computation from the series' rows, at the edges (one bucket, more buckets than rows, empty
 * ranges, a row on a bucket's start and on `to`, NaN, infinities and nulls, unsorted rows,
 * integer columns), and the cache's life: hits, appends read alone, late data and rewrites
 * read again, a series too big for it. */
#include "pt.h"
#include "pt_pond.h"

#include <pond/arrow.h>
#include <pond/buckets.h>
#include <pond/oplog.h>
#include <pond/sys/backend.h>
#include <pond/table.h>
#include <pond/tinyfs.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

typedef pt_pond env;
static void env_open(env *e) { pt_pond_memory(e); }
static void env_close(env *e) { pt_pond_close(e); }

#define NUL_MARK (-1e300) /* in the test's arrays: a null */

/* Writes a version of /s: rows (t[i] µs, x[i] double, k[i] int64 or null when kn[i]). */
static void write_version(env *e, const int64_t *t, const double *x, const int64_t *k, int64_t n,
                          int64_t row_group_rows)
{
    struct ArrowSchema sc;
    PT_ASSERT_OK(pond_arrow_schema_init(&sc, "+s", "", 0, 4));
    PT_ASSERT_OK(pond_arrow_schema_init(sc.children[0], "tsu:UTC", "timestamp", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(sc.children[1], "g", "x", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(sc.children[2], "l", "k", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(sc.children[3], "u", "label", ARROW_FLAG_NULLABLE, 0));
    pond_arrow_builder *bt = NULL, *bx = NULL, *bk = NULL, *bl = NULL;
    PT_ASSERT_OK(pond_arrow_builder_new(&bt, "tsu:UTC"));
    PT_ASSERT_OK(pond_arrow_builder_new(&bx, "g"));
    PT_ASSERT_OK(pond_arrow_builder_new(&bk, "l"));
    PT_ASSERT_OK(pond_arrow_builder_new(&bl, "u"));
    for (int64_t i = 0; i < n; i++) {
        PT_ASSERT_OK(pond_arrow_builder_append_int(bt, t[i]));
        if (x[i] == NUL_MARK)
            PT_ASSERT_OK(pond_arrow_builder_append_null(bx));
        else
            PT_ASSERT_OK(pond_arrow_builder_append_double(bx, x[i]));
        if (k[i] == INT64_MIN)
            PT_ASSERT_OK(pond_arrow_builder_append_null(bk));
        else
            PT_ASSERT_OK(pond_arrow_builder_append_int(bk, k[i]));
        PT_ASSERT_OK(pond_arrow_builder_append_bytes(bl, "a", 1));
    }
    struct ArrowArray b;
    PT_ASSERT_OK(pond_arrow_array_init(&b, n, 0, 1, 4));
    PT_ASSERT_OK(pond_arrow_builder_finish(b.children[0], bt));
    PT_ASSERT_OK(pond_arrow_builder_finish(b.children[1], bx));
    PT_ASSERT_OK(pond_arrow_builder_finish(b.children[2], bk));
    PT_ASSERT_OK(pond_arrow_builder_finish(b.children[3], bl));
    pond_arrow_builder_free(bt);
    pond_arrow_builder_free(bx);
    pond_arrow_builder_free(bk);
    pond_arrow_builder_free(bl);
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_arrow_stream_from_batches(&st, &sc, &b, 1));
    sc.release(&sc);
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.row_group_rows = row_group_rows;
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(
        pond_table_write_stream(NULL, e->fs, NULL, "/s", POND_ENTRY_FILE_SERIES, &st, &wo));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
}

/* Every row of the series, as the table reader gives them. */
typedef struct {
    int64_t n;
    int64_t *t;
    double *x, *k; /* NaN for null */
} rows;

static void read_rows(rows *r, env *e)
{
    memset(r, 0, sizeof *r);
    struct ArrowArrayStream s;
    const char *cols[] = {"timestamp", "x", "k"};
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.columns = cols;
    ro.n_columns = 3;
    PT_ASSERT_OK(pond_table_read_stream(&s, e->fs, NULL, "/s", &ro));
    for (;;) {
        struct ArrowArray b;
        PT_ASSERT(s.get_next(&s, &b) == 0);
        if (!b.release)
            break;
        r->t = realloc(r->t, (size_t)(r->n + b.length) * sizeof *r->t);
        r->x = realloc(r->x, (size_t)(r->n + b.length) * sizeof *r->x);
        r->k = realloc(r->k, (size_t)(r->n + b.length) * sizeof *r->k);
        for (int64_t i = 0; i < b.length; i++) {
            int64_t j = b.offset + i;
            const struct ArrowArray *tc = b.children[0], *xc = b.children[1], *kc = b.children[2];
            r->t[r->n] = ((const int64_t *)tc->buffers[1])[tc->offset + j];
            const uint8_t *xv = xc->buffers[0], *kv = kc->buffers[0];
            int64_t xj = xc->offset + j, kj = kc->offset + j;
            r->x[r->n] =
                xv && !(xv[xj >> 3] & (1 << (xj & 7))) ? NAN : ((const double *)xc->buffers[1])[xj];
            r->k[r->n] = kv && !(kv[kj >> 3] & (1 << (kj & 7)))
                             ? NAN
                             : (double)((const int64_t *)kc->buffers[1])[kj];
            r->n++;
        }
        b.release(&b);
    }
    s.release(&s);
}

static void rows_free(rows *r)
{
    free(r->t);
    free(r->x);
    free(r->k);
}

/* The documented buckets, by brute force: bucket i holds t with
 * from + ceil((to - from) * i / n) <= t < from + ceil((to - from) * (i + 1) / n). */
static int64_t ceil_start(int64_t from, int64_t to, int64_t n, int64_t i)
{
    __extension__ __int128 span = (__int128)to - from;
    return (int64_t)(from + (span * i + n - 1) / n);
}

static void expect(const pond_buckets *b, const rows *r, int64_t from, int64_t to, int64_t n)
{
    PT_ASSERT_INT_EQ(b->from_us, from);
    PT_ASSERT_INT_EQ(b->to_us, to);
    PT_ASSERT_INT_EQ(b->n, n);
    PT_ASSERT_INT_EQ(b->n_columns, 2);
    PT_ASSERT_STR_EQ(b->names[0], "x");
    PT_ASSERT_STR_EQ(b->names[1], "k");
    for (int64_t i = 0; i <= n; i++)
        PT_ASSERT_INT_EQ(pond_buckets_start(b, i), ceil_start(from, to, n, i));
    int64_t in_range = 0;
    for (int64_t q = 0; q < r->n; q++)
        in_range += r->t[q] >= from && r->t[q] < to;
    PT_ASSERT_INT_EQ(b->rows_read, in_range);
    /* each row's bucket from the documented starts: the i with start(i) <= t < start(i+1) */
    int64_t *which = malloc((size_t)(r->n ? r->n : 1) * sizeof *which);
    for (int64_t q = 0; q < r->n; q++) {
        which[q] = -1;
        if (r->t[q] < from || r->t[q] >= to)
            continue;
        __extension__ __int128 d = (__int128)r->t[q] - from;
        int64_t i = (int64_t)(d * n / (__extension__(__int128) to - from));
        while (i > 0 && ceil_start(from, to, n, i) > r->t[q])
            i--;
        while (i + 1 < n && ceil_start(from, to, n, i + 1) <= r->t[q])
            i++;
        PT_ASSERT(ceil_start(from, to, n, i) <= r->t[q] &&
                  r->t[q] < ceil_start(from, to, n, i + 1));
        which[q] = i;
    }
    pond_bucket *want = malloc((size_t)n * 2 * sizeof *want);
    for (int64_t i = 0; i < 2 * n; i++)
        want[i] = (pond_bucket){0, INFINITY, -INFINITY, 0};
    for (int c = 0; c < 2; c++) {
        const double *v = c ? r->k : r->x;
        for (int64_t q = 0; q < r->n; q++) {
            if (which[q] < 0 || !isfinite(v[q]))
                continue;
            pond_bucket *w = &want[(size_t)c * (size_t)n + (size_t)which[q]];
            w->count++;
            w->sum += v[q];
            w->min = v[q] < w->min ? v[q] : w->min;
            w->max = v[q] > w->max ? v[q] : w->max;
        }
    }
    for (int64_t i = 0; i < 2 * n; i++) {
        const pond_bucket *cell = &b->cells[i], *w = &want[i];
        if (cell->count != w->count)
            pt_fail(__FILE__, __LINE__, "column %d bucket %lld: count %lld, want %lld",
                    (int)(i / n), (long long)(i % n), (long long)cell->count, (long long)w->count);
        if (!w->count)
            continue;
        PT_ASSERT(cell->min == w->min);
        PT_ASSERT(cell->max == w->max);
        PT_ASSERT(fabs(cell->sum - w->sum) <= 1e-9 * fmax(1, fabs(w->sum)));
    }
    free(which);
    free(want);
}

static void run(pond_buckets *b, env *e, pond_buckets_cache *cache, bool range, int64_t from,
                int64_t to, int64_t n)
{
    pond_buckets_options o = POND_BUCKETS_OPTIONS_INIT;
    const char *cols[] = {"x", "k"};
    o.columns = cols;
    o.n_columns = 2;
    o.has_range = range;
    o.from_us = from;
    o.to_us = to;
    o.n = n;
    o.cache = cache;
    PT_ASSERT_OK(pond_table_buckets(b, e->fs, NULL, "/s", &o));
}

/* checks one request through the scan and through a cache (whatever it answers from) */
static void check(env *e, pond_buckets_cache *cache, int64_t from, int64_t to, int64_t n)
{
    rows r;
    read_rows(&r, e);
    pond_buckets b;
    run(&b, e, NULL, true, from, to, n);
    PT_ASSERT_INT_EQ(b.source, POND_BUCKETS_SCAN);
    expect(&b, &r, from, to, n);
    pond_buckets_dispose(&b);
    if (cache) {
        run(&b, e, cache, true, from, to, n);
        expect(&b, &r, from, to, n);
        pond_buckets_dispose(&b);
    }
    rows_free(&r);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A row on a bucket's start belongs to that bucket; a row at `to` to none; buckets narrower
 * than a microsecond hold nothing. Before the ceil rule, start(1) of [0, 3) in 2 buckets was
 * named 1 while the row at 1 was counted in bucket 0. */
static void test_edges_of_buckets(void)
{
    env e;
    env_open(&e);
    int64_t t[] = {1000, 1001, 1002, 1003}, k[] = {1, 2, 3, 4};
    double x[] = {1, 2, 3, 4};
    write_version(&e, t, x, k, 4, 0);
    pond_buckets b;
    run(&b, &e, NULL, true, 1000, 1003, 2);
    PT_ASSERT_INT_EQ(pond_buckets_start(&b, 1), 1002);
    PT_ASSERT_INT_EQ(b.cells[0].count, 2); /* 1000, 1001 */
    PT_ASSERT_INT_EQ(b.cells[1].count, 1); /* 1002; 1003 is `to` */
    PT_ASSERT(b.cells[1].min == 3);
    pond_buckets_dispose(&b);
    check(&e, NULL, 1000, 1003, 2);
    check(&e, NULL, 1000, 1004, 3);
    check(&e, NULL, 1000, 1004, 1);
    check(&e, NULL, 1001, 1002, 7); /* more buckets than microseconds */
    check(&e, NULL, 1000, 1004, 1000);
    check(&e, NULL, 0, 1000, 10);                          /* before every row: empty */
    check(&e, NULL, 1004, 5000, 10);                       /* after */
    check(&e, NULL, INT64_MIN / 2, INT64_MAX / 2, 100000); /* a span of centuries */
    /* no range: the versions' event times, to one past the last */
    run(&b, &e, NULL, false, 0, 0, 4);
    PT_ASSERT_INT_EQ(b.from_us, 1000);
    PT_ASSERT_INT_EQ(b.to_us, 1004);
    PT_ASSERT_INT_EQ(b.cells[3].count, 1);
    pond_buckets_dispose(&b);
    env_close(&e);
}

static void test_nan_null_inf(void)
{
    env e;
    env_open(&e);
    int64_t t[8], k[8];
    double x[8] = {1.5, NAN, INFINITY, NUL_MARK, -INFINITY, -2.5, 0.0, -0.0};
    for (int i = 0; i < 8; i++) {
        t[i] = 5000 + i;
        k[i] = i % 3 ? i * 1000 : INT64_MIN;
    }
    write_version(&e, t, x, k, 8, 0);
    pond_buckets b;
    run(&b, &e, NULL, true, 5000, 5008, 1);
    PT_ASSERT_INT_EQ(b.cells[0].count, 4); /* 1.5, -2.5, 0, -0 */
    PT_ASSERT(b.cells[0].min == -2.5 && b.cells[0].max == 1.5 && b.cells[0].sum == -1.0);
    PT_ASSERT_INT_EQ(b.cells[1].count, 5); /* k: 1, 2, 4, 5, 7 (thousands) */
    PT_ASSERT(b.cells[1].min == 1000 && b.cells[1].max == 7000);
    pond_buckets_dispose(&b);
    /* a bucket of only NaN and nulls is empty */
    run(&b, &e, NULL, true, 5001, 5004, 3);
    PT_ASSERT_INT_EQ(b.cells[0].count, 0);
    PT_ASSERT_INT_EQ(b.cells[2].count, 0);
    pond_buckets_dispose(&b);
    check(&e, NULL, 5000, 5008, 3);
    env_close(&e);
}

static void test_errors(void)
{
    env e;
    env_open(&e);
    int64_t t[] = {1, 2}, k[] = {1, 2};
    double x[] = {1, 2};
    write_version(&e, t, x, k, 2, 0);
    pond_buckets b;
    pond_buckets_options o = POND_BUCKETS_OPTIONS_INIT;
    const char *label[] = {"label"}, *nope[] = {"nope"};
    o.columns = label;
    o.n_columns = 1;
    PT_ASSERT_ERR(pond_table_buckets(&b, e.fs, NULL, "/s", &o), POND_EINVALID);
    PT_ASSERT_MSG_HAS("column 'label' is string, not a number");
    pond_buckets_dispose(&b);
    o.columns = nope;
    PT_ASSERT_ERR(pond_table_buckets(&b, e.fs, NULL, "/s", &o), POND_EINVALID);
    PT_ASSERT_MSG_HAS("no numeric column 'nope'");
    pond_buckets_dispose(&b);
    o.columns = NULL;
    o.n = 0;
    PT_ASSERT_ERR(pond_table_buckets(&b, e.fs, NULL, "/s", &o), POND_EINVALID);
    pond_buckets_dispose(&b);
    o.n = POND_BUCKETS_MAX + 1;
    PT_ASSERT_ERR(pond_table_buckets(&b, e.fs, NULL, "/s", &o), POND_EINVALID);
    pond_buckets_dispose(&b);
    o.n = 10;
    o.has_range = true;
    o.from_us = o.to_us = 5;
    PT_ASSERT_ERR(pond_table_buckets(&b, e.fs, NULL, "/s", &o), POND_EINVALID);
    PT_ASSERT_MSG_HAS("to must be after from");
    pond_buckets_dispose(&b);
    PT_ASSERT_ERR(pond_table_buckets(&b, e.fs, NULL, "/nope", &o), POND_ENOTFOUND);
    pond_buckets_dispose(&b);
    env_close(&e);
}

/* Random series (several versions, unsorted rows, nulls, NaN, many row groups) against the
 * brute force, scan and cache, over random ranges and bucket counts. */
static void test_random_against_brute_force(void)
{
    env e;
    env_open(&e);
    pond_buckets_cache *cache = NULL;
    PT_ASSERT_OK(pond_buckets_cache_new(&cache, 64 << 20));
    int64_t nrows = pt_light() ? 1500 : 6000;
    int64_t *t = malloc((size_t)nrows * sizeof *t), *k = malloc((size_t)nrows * sizeof *k);
    double *x = malloc((size_t)nrows * sizeof *x);
    for (int v = 0; v < 3; v++) {
        for (int64_t i = 0; i < nrows; i++) {
            uint64_t z = next_rand();
            /* mostly in order, some rows out of it, a few equal times */
            t[i] = (int64_t)(v * nrows + i) * 1000 + (z % 10 == 0 ? -(int64_t)(z % 50000) : 0);
            x[i] = z % 17 == 0   ? NUL_MARK
                   : z % 23 == 0 ? NAN
                                 : (double)(int64_t)(z % 20001 - 10000) / 8;
            k[i] = z % 13 == 0 ? INT64_MIN : (int64_t)(z >> 20) % 1000000;
        }
        write_version(&e, t, x, k, nrows, 1000);
    }
    int rounds = pt_light() ? 6 : 25;
    for (int q = 0; q < rounds; q++) {
        uint64_t z = next_rand();
        int64_t span = 3 * nrows * 1000;
        int64_t from = (int64_t)(z % (uint64_t)span) - 60000,
                len = 1 + (int64_t)((z >> 24) % (uint64_t)span);
        int64_t n = 1 + (int64_t)((z >> 40) % 700);
        if (q == 0) { /* the whole series: the cache reads it */
            from = -100000;
            len = span + 200000;
        }
        check(&e, cache, from, from + len, n);
    }
    pond_buckets_cache_free(cache);
    free(t);
    free(k);
    free(x);
    env_close(&e);
}

/* The cache's life: read, hit, appends read alone, late data read again, a series too big. */
static void test_cache_life(void)
{
    env e;
    env_open(&e);
    pond_buckets_cache *cache = NULL;
    PT_ASSERT_OK(pond_buckets_cache_new(&cache, 8 << 20));
    int64_t t[600], k[600];
    double x[600];
    for (int i = 0; i < 600; i++) {
        t[i] = 1000000 + i * 10;
        x[i] = i % 7 - 3;
        k[i] = i;
    }
    write_version(&e, t, x, k, 600, 0);
    pond_buckets b;
    run(&b, &e, cache, false, 0, 0, 50);
    PT_ASSERT_INT_EQ(b.source, POND_BUCKETS_BUILT);
    pond_buckets_dispose(&b);
    size_t held = pond_buckets_cache_bytes(cache);
    PT_ASSERT(held > 600 * 24);
    run(&b, &e, cache, true, 1000000, 1003000, 50);
    PT_ASSERT_INT_EQ(b.source, POND_BUCKETS_CACHED);
    pond_buckets_dispose(&b);
    /* a narrow range on a series the cache does not hold is scanned, not read whole */
    pond_buckets_cache_free(cache);
    PT_ASSERT_OK(pond_buckets_cache_new(&cache, 8 << 20));
    run(&b, &e, cache, true, 1000000, 1000100, 5);
    PT_ASSERT_INT_EQ(b.source, POND_BUCKETS_SCAN);
    pond_buckets_dispose(&b);
    check(&e, cache, 0, 2000000, 30); /* read into the cache */
    /* an append after every time held: that version alone is read */
    for (int i = 0; i < 600; i++)
        t[i] += 6000;
    write_version(&e, t, x, k, 600, 0);
    run(&b, &e, cache, true, 0, 2000000, 30);
    PT_ASSERT_INT_EQ(b.source, POND_BUCKETS_EXTENDED);
    pond_buckets_dispose(&b);
    check(&e, cache, 0, 2000000, 30);
    check(&e, cache, 1003000, 1009000, 77);
    /* late data (times among those held): the whole series again */
    for (int i = 0; i < 600; i++)
        t[i] = 1000005 + i * 3;
    write_version(&e, t, x, k, 600, 0);
    run(&b, &e, cache, true, 0, 2000000, 30);
    PT_ASSERT_INT_EQ(b.source, POND_BUCKETS_BUILT);
    pond_buckets_dispose(&b);
    check(&e, cache, 0, 2000000, 30);
    pond_buckets_cache_free(cache);
    /* a cache too small for the series: scanned, every time, and it holds nothing */
    PT_ASSERT_OK(pond_buckets_cache_new(&cache, 4096));
    for (int round = 0; round < 2; round++) {
        run(&b, &e, cache, false, 0, 0, 10);
        PT_ASSERT_INT_EQ(b.source, POND_BUCKETS_SCAN);
        pond_buckets_dispose(&b);
    }
    PT_ASSERT_INT_EQ(pond_buckets_cache_bytes(cache), 0);
    check(&e, cache, 0, 2000000, 30);
    pond_buckets_cache_free(cache);
    env_close(&e);
}

/* Series semantics (issue 15): buckets count the rows `pond cat` returns. A dedup=last rule set
 * after the cache holds the series, a later version with duplicate timestamps of its own
 * under that rule (a version read alone is not deduplicated: before, the cache appended it
 * as is and counted both rows), and a compaction (its version repeats the rows of those it
 * replaces): scan and cache agree with the reader, never counting a row twice. */
static void set_dedup(env *e, pond_dedup d)
{
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open(&h, e->fs, NULL, "/s", 0));
    PT_ASSERT_OK(pond_series_set_dedup(h, d, NULL, 0));
    pond_fs_node_free(h);
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
}

static void compact(env *e, int64_t want_replaced)
{
    pond_fs_node *h = NULL;
    pond_series_compact_result cr;
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open(&h, e->fs, NULL, "/s", 0));
    PT_ASSERT_OK(pond_series_compact(
        &cr, h, &(pond_series_compact_options)POND_SERIES_COMPACT_OPTIONS_INIT));
    pond_fs_node_free(h);
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    PT_ASSERT_INT_EQ(cr.versions_replaced, want_replaced);
}

static void test_series_semantics(void)
{
    env e;
    env_open(&e);
    pond_buckets_cache *cache = NULL;
    PT_ASSERT_OK(pond_buckets_cache_new(&cache, 8 << 20));
    int64_t t[400], k[400];
    double x[400];
    for (int i = 0; i < 400; i++) { /* two rows at every timestamp */
        t[i] = 1000000 + (i / 2) * 10;
        x[i] = i % 5 - 2;
        k[i] = i;
    }
    write_version(&e, t, x, k, 400, 0);
    pond_buckets b;
    run(&b, &e, cache, false, 0, 0, 20);
    PT_ASSERT_INT_EQ(b.rows_read, 400);
    pond_buckets_dispose(&b);
    set_dedup(&e, POND_DEDUP_LAST);
    run(&b, &e, cache, true, 0, 2000000, 20);
    PT_ASSERT_INT_EQ(b.rows_read, 200); /* the rule's version holds no rows, yet changes them */
    pond_buckets_dispose(&b);
    check(&e, cache, 0, 2000000, 20);
    /* later times only, duplicated within the version */
    for (int i = 0; i < 400; i++)
        t[i] = 1010000 + (i / 2) * 10;
    write_version(&e, t, x, k, 400, 0);
    run(&b, &e, cache, true, 0, 2000000, 20);
    PT_ASSERT_INT_EQ(b.rows_read, 400);
    pond_buckets_dispose(&b);
    check(&e, cache, 0, 2000000, 20);
    check(&e, cache, 1009000, 1011000, 7);
    /* late data hiding some of both, then a compaction of all three */
    for (int i = 0; i < 400; i++)
        t[i] = 1005000 + i * 20;
    write_version(&e, t, x, k, 400, 0);
    check(&e, cache, 0, 2000000, 20);
    compact(&e, 3);
    check(&e, cache, 0, 2000000, 20);
    check(&e, cache, 1003000, 1012000, 33);
    /* without the rule, the compacted version counts each row once */
    set_dedup(&e, POND_DEDUP_NONE);
    run(&b, &e, cache, true, 0, 2000000, 20);
    PT_ASSERT_INT_EQ(b.rows_read, 1200);
    pond_buckets_dispose(&b);
    check(&e, cache, 0, 2000000, 20);
    pond_buckets_cache_free(cache);
    env_close(&e);
}

/* Threads sharing one cache, each with its own handle on an on-disk pond, while the main
 * thread appends versions (later times: the cache appends them) and then late data (the
 * cache reads the series again): every answer counts exactly the rows of one committed
 * state, never a half one, and the counts never go back. */
typedef struct {
    const char *dir;
    pond_buckets_cache *cache;
    atomic_int *stop;
    _Atomic int64_t last; /* read by the main thread while the reader runs */
    int64_t answers, bad;
} reader_arg;

static void *reader_main(void *p)
{
    reader_arg *a = p;
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    if (pond_oplog_open(&be, a->dir, NULL) < 0 || pond_fs_open(&fs, be, NULL) < 0) {
        a->bad++;
        return NULL;
    }
    while (!atomic_load(a->stop)) {
        if (pond_oplog_refresh(NULL, be) < 0) {
            a->bad++;
            break;
        }
        pond_buckets b;
        pond_buckets_options o = POND_BUCKETS_OPTIONS_INIT;
        const char *cols[] = {"x"};
        o.columns = cols;
        o.n_columns = 1;
        o.n = 37;
        o.cache = a->cache;
        o.has_range = true;
        o.from_us = 0;
        o.to_us = INT64_MAX / 2;
        if (pond_table_buckets(&b, fs, NULL, "/s", &o) == 0) {
            int64_t total = 0;
            for (int64_t i = 0; i < b.n; i++)
                total += b.cells[i].count;
            /* every version holds 300 rows, all counted */
            if (total % 300 != 0 || total < atomic_load(&a->last) || total != b.rows_read)
                a->bad++;
            atomic_store(&a->last, total);
            a->answers++;
        } else {
            a->bad++;
        }
        pond_buckets_dispose(&b);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    pond_fs_free(fs);
    pond_backend_free(be);
    return NULL;
}

static void test_cache_threads(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/pond", PT_TMPDIR());
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    env e;
    PT_ASSERT_OK(pond_oplog_open(&e.be, dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&e.fs, e.be, NULL));
    int64_t t[300], k[300];
    double x[300];
    for (int i = 0; i < 300; i++) {
        x[i] = i;
        k[i] = i;
    }
    int versions = 0;
    for (; versions < 2; versions++) {
        for (int i = 0; i < 300; i++)
            t[i] = (versions * 300 + i) * 1000LL;
        write_version(&e, t, x, k, 300, 0);
    }
    pond_buckets_cache *cache = NULL;
    PT_ASSERT_OK(pond_buckets_cache_new(&cache, 16 << 20));
    atomic_int stop = 0;
    reader_arg args[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        args[i].dir = dir;
        args[i].cache = cache;
        args[i].stop = &stop;
        atomic_init(&args[i].last, 0);
        args[i].answers = args[i].bad = 0;
        PT_ASSERT(pthread_create(&th[i], NULL, reader_main, &args[i]) == 0);
    }
    int more = pt_light() ? 4 : 12;
    for (int v = 0; v < more; v++, versions++) {
        for (int i = 0; i < 300; i++) /* the last one: late data, among earlier times */
            t[i] = v == more - 1 ? 500 + i * 7 : (versions * 300 + i) * 1000LL;
        write_version(&e, t, x, k, 300, 0);
    }
    /* let the readers see the last state */
    for (int spins = 0; spins < 2000; spins++) {
        bool all = true;
        for (int i = 0; i < 3; i++)
            all &= atomic_load(&args[i].last) == versions * 300LL;
        if (all)
            break;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        PT_ASSERT_INT_EQ(args[i].bad, 0);
        PT_ASSERT(args[i].answers > 0);
        PT_ASSERT_INT_EQ(atomic_load(&args[i].last), versions * 300LL);
    }
    pond_buckets_cache_free(cache);
    env_close(&e);
}

/* A stale manual derived node is computed from its sources at each read (docs/derived.md): the
 * cache must not answer for it from an earlier computation, whose versions are the node's
 * own and do not change while its sources do. */
static void test_stale_manual_node_not_cached(void)
{
    env e;
    env_open(&e);
    pond_buckets_cache *cache = NULL;
    PT_ASSERT_OK(pond_buckets_cache_new(&cache, 8 << 20));
    const int64_t H = 3600000000LL;
    int64_t t[48], k[48];
    double x[48];
    for (int i = 0; i < 48; i++) {
        t[i] = (int64_t)i * H;
        x[i] = i;
        k[i] = i;
    }
    write_version(&e, t, x, k, 12, 0);
    pond_derive_options o = POND_DERIVE_OPTIONS_INIT;
    const char *src = "/s";
    static const char *const aggs[] = {"count"};
    o.kind = "rollup";
    o.sources = &src;
    o.n_sources = 1;
    o.every = "1h";
    o.aggs = aggs;
    o.n_aggs = 1;
    o.refresh_manual = true;
    PT_ASSERT_OK(pt_derive_create(e.fs, "/r", &o));
    pond_buckets_options bo = POND_BUCKETS_OPTIONS_INIT;
    bo.has_range = true;
    bo.from_us = 0;
    bo.to_us = 48 * H;
    bo.n = 4;
    bo.cache = cache;
    int64_t want[] = {12, 24, 36};
    for (int round = 0; round < 3; round++) {
        if (round) /* the source grows: the node goes (or stays) stale */
            write_version(&e, t + 12 * round, x + 12 * round, k + 12 * round, 12, 0);
        for (int again = 0; again < 2; again++) {
            pond_buckets b;
            PT_ASSERT_OK(pond_table_buckets(&b, e.fs, NULL, "/r", &bo));
            PT_ASSERT_INT_EQ(b.rows_read, want[round]);
            pond_buckets_dispose(&b);
        }
    }
    pond_buckets_cache_free(cache);
    env_close(&e);
}

PT_SUITE(buckets, PT_TEST(edges_of_buckets), PT_TEST(nan_null_inf), PT_TEST(errors),
         PT_TEST(random_against_brute_force), PT_TEST(cache_life), PT_TEST(series_semantics),
         PT_TEST(cache_threads), PT_TEST(stale_manual_node_not_cached))
