/* Reading one column chunk: pages -> levels + dense (non-null) physical values. */
#ifndef POND_PQ_COLUMN_H
#define POND_PQ_COLUMN_H

#include "parquet/pq_encoding.h"

#include <pond/parquet.h>
#include "parquet/pq_meta.h"

typedef struct {
    int physical;    /* PQ_BOOLEAN .. */
    int type_length; /* FIXED_LEN_BYTE_ARRAY */
    int max_def, max_rep;
    size_t width;     /* bytes per decoded value; 0 for BYTE_ARRAY */
    const char *path; /* dotted column path, for messages */
} pq_leaf_desc;

typedef struct {
    int64_t n_levels;
    int16_t *def;       /* n_levels entries, NULL when max_def == 0 */
    int16_t *rep;       /* n_levels entries, NULL when max_rep == 0 */
    int64_t n_values;   /* dense non-null values */
    uint8_t *values;    /* n_values * width bytes (booleans one byte each) */
    pq_bytes_out bytes; /* BYTE_ARRAY: data + n_values+1 int32 offsets */
    size_t values_cap, levels_cap;
    pond_bufcache *cache; /* borrowed: where values came from and go back (NULL: malloc) */
} pq_chunk;

typedef pond_parquet_read_fn pq_read_fn;

/* Buffers reused from chunk to chunk (owned by the caller; free with pond_pq_scratch_dispose). */
typedef struct {
    uint8_t *chunk;
    size_t chunk_cap;
    uint8_t *page;
    size_t page_cap;
    uint32_t *idx;
    size_t idx_cap; /* entries */
    void *codec_state;
    pond_bufcache *cache; /* borrowed (set by the first chunk read): chunk and page come from
                             and go back there; it must outlive the scratch's use */
} pq_scratch;

void pond_pq_scratch_dispose(pq_scratch *s);

typedef struct {
    pq_read_fn read_at;
    void *payload;
    int64_t file_size;
    size_t max_bytes; /* cap on one page and on one chunk's decoded buffers */
    bool verify_crc;
    pq_scratch *scratch; /* may be NULL: buffers are then freed after the chunk */
    /* Page selection (NULL = read the whole chunk): the chunk's offset index, checked with
     * pond_pq_chunk_pages_ok, and one flag per page. Only the selected data pages are read and
     * decoded (plus whatever precedes the first page: the dictionary page); each must hold
     * exactly its rows' levels (flat columns only: one level per row). */
    const pq_offset_index *pages;
    const uint8_t *page_sel;
    int64_t chunk_rows;   /* the row group's row count (rows of the last page) */
    pond_bufcache *cache; /* large buffers (values, chunk bytes, pages) from here (NULL: malloc) */
} pq_chunk_opts;

/* Read and decode a whole column chunk. On failure the chunk is disposed. */
int pond_pq_chunk_read(pq_chunk *out, const pq_leaf_desc *leaf, const pq_column_chunk *cc,
                       const pq_chunk_opts *opts);
void pond_pq_chunk_dispose(pq_chunk *c);

/* Whether an offset index can drive page selection for this chunk: pages start at row 0 with
 * strictly increasing first rows below num_rows, and lie in order inside the chunk's byte
 * range after its dictionary page. A bad index is not an error: the caller reads the chunk. */
bool pond_pq_chunk_pages_ok(const pq_column_chunk *cc, const pq_offset_index *oi, int64_t num_rows);

/* A range predicate for pruning: the leaf it applies to and an integer or a double range. */
typedef struct {
    int leaf;
    bool is_double;
    int64_t ilo, ihi;
    double dlo, dhi;
} pq_pred;

/* Whether a chunk or page whose min/max statistics are mn/mx (PLAIN values of the leaf's
 * physical type) may hold a value in the predicate's range. False only when the statistics
 * prove it cannot: INT32/INT64 bounds against an integer range, FLOAT/DOUBLE bounds against a
 * double range, each of its type's width and neither NaN. Anything else may match. */
bool pond_pq_stats_may_match(const pq_pred *p, int physical, pq_bytes mn, pq_bytes mx);

/* Keep only the levels in the sorted, disjoint intervals iv[2k] .. iv[2k+1] (level positions)
 * of a decoded flat chunk (max_rep == 0), compacting levels and values in place. */
void pond_pq_chunk_keep(pq_chunk *c, const pq_leaf_desc *leaf, const int64_t *iv, size_t n_iv);

#endif
