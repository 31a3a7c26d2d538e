/* The Parquet schema as a tree of Arrow-shaped nodes with their level thresholds, and the
 * assembly of decoded column chunks into Arrow arrays. */
#ifndef POND_PQ_SCHEMA_H
#define POND_PQ_SCHEMA_H

#include <pond/arrow.h>

#include "parquet/pq_column.h"
#include "parquet/pq_meta.h"

enum { PQN_LEAF, PQN_STRUCT, PQN_LIST, PQN_MAP };

/* How a leaf's physical values become Arrow values. */
enum {
    PQC_COPY,     /* same bytes (INT32, INT64, FLOAT, DOUBLE, FLBA, dates, times, ...) */
    PQC_BOOL,     /* one byte per value -> bits */
    PQC_I32_I8,   /* narrow INT32 to 8 bits */
    PQC_I32_I16,  /* narrow INT32 to 16 bits */
    PQC_INT96_NS, /* Impala/Spark INT96 -> int64 nanoseconds (wraps outside 1677..2262) */
    PQC_INT96_US, /* INT96 -> int64 microseconds (Spark's resolution; the default) */
    PQC_DEC_I32,  /* INT32 unscaled -> decimal128/256 */
    PQC_DEC_I64,
    PQC_DEC_BE,  /* big-endian two's complement bytes (BYTE_ARRAY or FLBA) -> decimal */
    PQC_BYTES,   /* BYTE_ARRAY -> binary / utf8 */
    PQC_INTERVAL /* FLBA(12) months/days/millis -> month_day_nano */
};

typedef struct pq_node {
    int kind;
    const char *name;
    bool nullable;
    int def;      /* level at which the value is non-null */
    int slot_def; /* level at which a slot exists */
    int rep;      /* repetition level of the slots */
    int n_children;
    struct pq_node **children;
    int first_leaf, n_leaves; /* leaves under this node: [first_leaf, first_leaf + n_leaves) */
    /* leaves */
    const pq_schema_element *el;
    pq_leaf_desc desc;
    int conv;
    bool int96_ns;
    size_t out_width; /* Arrow value width in bytes (fixed-width outputs) */
    char format[32];
} pq_node;

typedef struct {
    pq_node *root; /* a struct of the top-level fields */
    int n_leaves;
    pq_node **leaves; /* in column-chunk order */
} pq_schema;

/* Build from the flat schema list (nodes and names live in the arena). */
int pond_pq_schema_build(pq_schema *out, pq_arena *a, const pq_file_meta *m, bool int96_ns);
/* Arrow schema of a node (recursively); the root gives the record batch struct. */
int pond_pq_schema_to_arrow(struct ArrowSchema *out, const pq_node *n);
/* Assemble one node's array from decoded chunks (indexed by leaf number; only the node's
 * leaves are used). The chunks' buffers may be taken over (they are left disposable). */
int pond_pq_assemble(struct ArrowArray *out, const pq_node *n, pq_chunk *chunks);

#endif
