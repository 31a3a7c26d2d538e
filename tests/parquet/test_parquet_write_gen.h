/* Random Arrow schemas and record batches for the Parquet writer tests and fuzz target.
 * Deterministic for a seed (and optional fuzz bytes that steer the choices). */
#ifndef TEST_PARQUET_WRITE_GEN_H
#define TEST_PARQUET_WRITE_GEN_H

#include <pond/arrow.h>

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s;
    const uint8_t *in; /* fuzz bytes mixed into the first draws (may be NULL) */
    size_t in_len, in_pos;
} pqwg_rng;

void pqwg_seed(pqwg_rng *r, uint64_t seed, const uint8_t *in, size_t in_len);
uint64_t pqwg_u64(pqwg_rng *r);
uint32_t pqwg_below(pqwg_rng *r, uint32_t n);

/* The leaf formats the generator knows (NULL-terminated). */
extern const char *const pqwg_leaf_formats[];

/* A struct schema with n_cols columns; nested types up to max_depth levels (0 = flat).
 * `leaf` >= 0 forces every leaf to pqwg_leaf_formats[leaf]. */
int pqwg_schema(struct ArrowSchema *out, pqwg_rng *r, int n_cols, int max_depth, int leaf);
/* One field schema (name given) of a fixed format, nullable or not. */
int pqwg_field(struct ArrowSchema *out, const char *format, const char *name, bool nullable);
/* A batch of `rows` rows for the schema. When `slice` > 0 the batch carries `slice` extra
 * leading rows and offset = slice. */
int pqwg_batch(struct ArrowArray *out, const struct ArrowSchema *schema, pqwg_rng *r, int64_t rows,
               int64_t slice);

/* Flat columns i32, i64 (nullable), ts (timestamp[us, UTC], required: steps of 1 s with
 * jitter and jumps back (mode 6: without), in this century), f32, f64 (nullable) for the integer and float
 * encodings: n rows, null_pct percent nulls; i32 and i64 drawn in `mode`: 0 random, 1 INT_MIN/INT_MAX alternating (every delta wraps), 2 steps with jitter
 * and jumps back, 3 constant, 4 small noise, 5 extremes/zero/noise, 6 clean steps. Floats mix
 * NaN (with payloads), -0.0, infinities and subnormals into ordinary values. */
enum { PQWG_EDGE_I32, PQWG_EDGE_I64, PQWG_EDGE_TS, PQWG_EDGE_F32, PQWG_EDGE_F64, PQWG_EDGE_NCOL };
extern const char *const pqwg_edge_names[PQWG_EDGE_NCOL];
int pqwg_edge_batch(struct ArrowSchema *s, struct ArrowArray *a, pqwg_rng *r, int64_t n, int mode,
                    int null_pct);

#endif
