/* Parquet writer internals: encoders (RLE/bit-packed hybrid, dictionary), compression, schema
 * mapping and shredding of Arrow arrays into repetition/definition levels. */
#ifndef POND_PARQUET_WRITE_H
#define POND_PARQUET_WRITE_H

#include <pond/alloc.h>
#include <pond/arrow.h>
#include <pond/buf.h>
#include <pond/errors.h>

#include <pond/parquet.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define PQW_MAX_DEPTH 32

/* ---------------------------------------------------------------- byte vectors */

/* Ensure room for `extra` more bytes in b (b->size unchanged). */
int pond_pqw__reserve(pond_buf *b, size_t extra);

/* ---------------------------------------------------------------- RLE / bit-packed hybrid */

/* Append the hybrid encoding of n values (each < 2^bit_width, bit_width 0..32) to out. */
int pond_pqw__rle_encode_u16(pond_buf *out, const uint16_t *v, size_t n, int bit_width);
int pond_pqw__rle_encode_u32(pond_buf *out, const uint32_t *v, size_t n, int bit_width);
/* Bits needed for values up to max_value. */
int pond_pqw__bit_width(uint64_t max_value);

/* ---------------------------------------------------------------- value encodings */

/* DELTA_BINARY_PACKED of n values given in PLAIN form (width 4: INT32, whose deltas wrap at
 * 32 bits so that no bit width exceeds 32; width 8: INT64), appended to out: blocks of 128
 * values in 4 miniblocks of 32, as the Parquet spec lays them out (docs/parquet.md). */
int pond_pqw__delta_encode(pond_buf *out, const void *plain, size_t n, int width);
/* BYTE_STREAM_SPLIT of n values of `width` bytes given in PLAIN form, appended to out. */
int pond_pqw__split_encode(pond_buf *out, const void *plain, size_t n, int width);

/* ---------------------------------------------------------------- dictionary */

/* A dictionary of distinct values kept in PLAIN encoding (ready to be the dictionary page).
 * Fixed-width entries (width <= 8) are keyed by their little-endian bits; variable entries
 * (BYTE_ARRAY: 4-byte length + bytes) and wide fixed entries (FLBA) by their bytes. */
typedef struct {
    uint32_t *slots;  /* index + 1; 0 = empty */
    uint32_t cap;     /* power of two */
    uint32_t n;       /* entries */
    int width;        /* fixed width in bytes; 0 = BYTE_ARRAY */
    bool keyed;       /* entries keyed by their bits (width <= 8) */
    uint64_t *keys;   /* width <= 8: entry bits */
    uint32_t *hashes; /* width > 8 or 0: entry hash */
    uint64_t *offs;   /* width > 8 or 0: entry start in plain (after the length prefix) */
    uint32_t keys_cap;
    pond_buf plain; /* PLAIN encoding of all entries, in index order */
} pqw_dict;

void pond_pqw__dict_init(pqw_dict *d, int width, bool keyed);
void pond_pqw__dict_clear(pqw_dict *d); /* keep memory */
void pond_pqw__dict_dispose(pqw_dict *d);
/* Index of the value (inserting it); < 0 on error. */
int pond_pqw__dict_put_fixed(pqw_dict *d, uint64_t bits, uint32_t *idx_out);
int pond_pqw__dict_put_bytes(pqw_dict *d, const void *p, uint32_t len, uint32_t *idx_out);

/* ---------------------------------------------------------------- compression */

typedef struct pqw_codec pqw_codec;
int pond_pqw__codec_new(pqw_codec **out, int codec, int level);
/* Compress in[0..n) into out (replacing its contents). */
int pond_pqw__codec_compress(pqw_codec *c, pond_buf *out, const void *in, size_t n);
void pond_pqw__codec_free(pqw_codec *c);

uint32_t pond_pqw__crc32(const void *p, size_t n);

/* ---------------------------------------------------------------- schema mapping */

enum { PQW_N_LEAF = 0, PQW_N_STRUCT, PQW_N_LIST, PQW_N_LARGE_LIST, PQW_N_MAP };

/* How leaf values are converted from the Arrow buffer to the Parquet physical value. */
enum {
    PQW_V_BOOL,
    PQW_V_I32, /* from src_width bytes, signed or not (src_signed) */
    PQW_V_I64,
    PQW_V_FLOAT,
    PQW_V_DOUBLE,
    PQW_V_HALF,   /* FLBA(2) */
    PQW_V_BYTES,  /* 32-bit offsets */
    PQW_V_LBYTES, /* 64-bit offsets */
    PQW_V_FIXED,  /* FLBA(width) unsigned bytewise */
    PQW_V_DEC32,  /* decimal128 -> INT32 */
    PQW_V_DEC64,  /* decimal128 -> INT64 */
    PQW_V_DECFL   /* decimal128 -> FLBA(width) big-endian */
};

/* Statistics orderings. */
enum { PQW_O_SIGNED, PQW_O_UNSIGNED, PQW_O_FLOAT, PQW_O_BOOL, PQW_O_BYTES, PQW_O_DECBE };

typedef struct {
    int kind;      /* PQW_N_* of the Arrow node */
    bool nullable; /* adds a definition level */
    int child;     /* index of the child on the way to the leaf (structs, maps' entries) */
    int16_t rep;   /* repetition level of the elements (lists, maps) */
} pqw_node;

typedef struct {
    int top;   /* index of the top-level column */
    int depth; /* nodes from the top-level column down to the leaf */
    pqw_node nodes[PQW_MAX_DEPTH];
    int16_t max_def, max_rep;
    int phys;      /* PQ_BOOLEAN ... */
    int type_len;  /* FLBA width */
    int vkind;     /* PQW_V_* */
    int src_width; /* bytes of one source value (fixed-width kinds) */
    bool src_signed;
    int64_t mul; /* unit conversion factor (seconds -> ms) */
    int order;   /* PQW_O_* */
    char **path; /* path_in_schema */
    int n_path;
} pqw_leaf;

/* One Parquet SchemaElement (flattened depth-first), ready to encode. */
typedef struct {
    char *name;
    int type; /* -1 for groups */
    int type_length;
    int repetition; /* -1 for the root */
    int num_children;
    int converted;        /* -1 none */
    int scale, precision; /* -1 none */
    int lt;               /* logical type PQ_LT_*, 0 none */
    int lt_unit;          /* TIME/TIMESTAMP unit (PQ_UNIT_*) */
    bool lt_utc;
    int lt_bits; /* INTEGER */
    bool lt_signed;
} pqw_selem;

typedef struct {
    pqw_selem *elems;
    int n_elems, cap_elems;
    pqw_leaf *leaves;
    int n_leaves, cap_leaves;
} pqw_schema;

/* Map an Arrow struct schema; POND_EUNSUPPORTED / POND_EINVALID naming the column. */
int pond_pqw__schema_build(pqw_schema *out, const struct ArrowSchema *schema);
void pond_pqw__schema_dispose(pqw_schema *s);

/* ---------------------------------------------------------------- statistics */

/* Append n bytes to b (growth as pond_pqw__reserve). */
static inline int pond_pqw__put(pond_buf *b, const void *p, size_t n)
{
    int rc = pond_pqw__reserve(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->ptr + b->size, p, n);
    b->size += n;
    return 0;
}

typedef struct {
    bool has;      /* min/max present (some non-NaN value seen) */
    bool too_long; /* a binary value longer than the limit: min/max omitted */
    int64_t nulls;
    uint64_t min, max; /* physical bits of fixed-width values */
    pond_buf bmin, bmax;
} pqw_stats;

/* Bytes of one physical value (1 for BOOLEAN, 0 for BYTE_ARRAY). */
int pond_pqw__phys_width(const pqw_leaf *l);
/* Values converted to 64-bit words (everything but binary kinds). */
bool pond_pqw__is_fixed64(const pqw_leaf *l);
/* -1, 0, 1 in the column's order (fixed-width bits / binary values). */
int pond_pqw__cmp_num(const pqw_leaf *l, uint64_t a, uint64_t b);
int pond_pqw__cmp_bytes(const pqw_leaf *l, const uint8_t *a, size_t al, const uint8_t *b,
                        size_t bl);
void pond_pqw__stats_fixed(pqw_stats *st, const pqw_leaf *l, const uint64_t *v, size_t n);
int pond_pqw__stats_bytes(pqw_stats *st, const pqw_leaf *l, const uint8_t *p, size_t len,
                          size_t limit);
int pond_pqw__stats_merge(pqw_stats *into, const pqw_stats *from, const pqw_leaf *l, size_t limit);
void pond_pqw__stats_reset(pqw_stats *st);
/* Append the PLAIN bytes of min (which = 0) or max (1) to out. */
int pond_pqw__stats_value(pond_buf *out, const pqw_stats *st, const pqw_leaf *l, int which);

/* ---------------------------------------------------------------- shredding */

/* Levels and value positions of one leaf for a range of rows. Values are physical indices
 * into the leaf array (`leaf`); when `contiguous`, value i is at physical index first + i. */
typedef struct {
    uint16_t *def, *rep;
    int64_t *vidx;
    size_t n_levels, n_values;
    size_t cap_levels, cap_values, cap_rep;
    bool contiguous;
    int64_t first;
    const struct ArrowArray *leaf;
} pqw_shred;

/* Steps (batch slices, row-group closes) the writer split across threads so far (tests). */
int64_t pond_pqw__parallel_steps(const pond_parquet_writer *w);

int pond_pqw__shred(pqw_shred *s, const pqw_leaf *leaf, const struct ArrowArray *batch,
                    int64_t row0, int64_t nrows);
void pond_pqw__shred_dispose(pqw_shred *s);

#endif
