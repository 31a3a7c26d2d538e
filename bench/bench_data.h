/* The benchmark series shared by bench_sql.c and bench_parquet.c:
 * ts (timestamp UTC, 1 s steps from 2024-01-01), a, b, c (doubles, random walks), tag (string,
 * 16 distinct values), from a fixed xorshift sequence, so every run and program writes the same
 * rows. Header-only (static inline) for the bench programs; failures exit with pond's message. */
#ifndef POND_BENCH_DATA_H
#define POND_BENCH_DATA_H

#include <pond/arrow.h>
#include <pond/errors.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_DATA_T0 1704067200000000LL /* 2024-01-01T00:00:00Z in microseconds */

typedef struct {
    uint64_t rng;   /* xorshift64 state */
    double walk[3]; /* the random walks of a, b, c */
} bench_data;

#define BENCH_DATA_INIT                                                                            \
    {                                                                                              \
        88172645463325252ULL, { 100, 200, 300 }                                                    \
    }

static inline _Noreturn void bench_data_die(const char *what)
{
    fprintf(stderr, "bench: %s: %s\n", what, pond_error_last()->message);
    exit(1);
}

static inline uint64_t bench_data_next(bench_data *d)
{
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    return d->rng;
}

static inline void bench_data_schema(struct ArrowSchema *s)
{
    if (pond_arrow_schema_init(s, "+s", "", 0, 5) < 0 ||
        pond_arrow_schema_init(s->children[0], "tsu:UTC", "ts", 0, 0) < 0 ||
        pond_arrow_schema_init(s->children[1], "g", "a", ARROW_FLAG_NULLABLE, 0) < 0 ||
        pond_arrow_schema_init(s->children[2], "g", "b", ARROW_FLAG_NULLABLE, 0) < 0 ||
        pond_arrow_schema_init(s->children[3], "g", "c", ARROW_FLAG_NULLABLE, 0) < 0 ||
        pond_arrow_schema_init(s->children[4], "u", "tag", ARROW_FLAG_NULLABLE, 0) < 0)
        bench_data_die("schema");
}

/* Rows [row0, row0 + n) as one batch (rows must be generated in order). */
static inline void bench_data_batch(bench_data *d, struct ArrowArray *b, int64_t row0, int64_t n)
{
    static const char *const tags[16] = {
        "alpha", "bravo",   "charlie", "delta", "echo", "foxtrot",  "golf",  "hotel",
        "india", "juliett", "kilo",    "lima",  "mike", "november", "oscar", "papa"};
    if (pond_arrow_array_init(b, n, 0, 1, 5) < 0)
        bench_data_die("batch");
    struct ArrowArray *c = b->children[0];
    if (pond_arrow_array_init(c, n, 0, 2, 0) < 0)
        bench_data_die("batch");
    int64_t *ts = pond_arrow_array_alloc_buffer(c, 1, (size_t)n * 8);
    if (!ts)
        bench_data_die("batch");
    for (int64_t i = 0; i < n; i++)
        ts[i] = BENCH_DATA_T0 + (row0 + i) * 1000000;
    for (int k = 0; k < 3; k++) {
        c = b->children[1 + k];
        if (pond_arrow_array_init(c, n, 0, 2, 0) < 0)
            bench_data_die("batch");
        double *v = pond_arrow_array_alloc_buffer(c, 1, (size_t)n * 8);
        if (!v)
            bench_data_die("batch");
        for (int64_t i = 0; i < n; i++) {
            d->walk[k] += ((double)(bench_data_next(d) >> 11) / 9007199254740992.0 - 0.5) * 0.1;
            v[i] = d->walk[k];
        }
    }
    c = b->children[4];
    if (pond_arrow_array_init(c, n, 0, 3, 0) < 0)
        bench_data_die("batch");
    int32_t *off = pond_arrow_array_alloc_buffer(c, 1, (size_t)(n + 1) * 4);
    char *data = pond_arrow_array_alloc_buffer(c, 2, (size_t)n * 8);
    if (!off || !data)
        bench_data_die("batch");
    int32_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        const char *t = tags[bench_data_next(d) >> 60];
        size_t len = strlen(t);
        memcpy(data + pos, t, len);
        pos += (int32_t)len;
        off[i + 1] = pos;
    }
}

#endif
