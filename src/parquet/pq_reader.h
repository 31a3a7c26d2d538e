/* The reader's internal state (shared by pq_reader.c and pq_describe.c). */
#ifndef POND_PQ_READER_H
#define POND_PQ_READER_H

#include <pond/parquet.h>

#include "parquet/pq_meta.h"
#include "parquet/pq_schema.h"

struct pond_parquet_reader {
    pond_parquet_source src;
    int fd;                  /* open_file: owned descriptor, else -1 */
    char *path;
    const uint8_t *mem;      /* open_memory: borrowed buffer */
    size_t mem_len;
    uint8_t *footer;         /* the footer bytes the metadata points into */
    pq_arena arena;
    pq_file_meta meta;
    pq_schema schema;
    int *proj;               /* projected top-level field indices */
    int n_proj;
    uint8_t *rg_selected;    /* per row group: not pruned */
    uint32_t next_rg;
    size_t max_alloc;
    bool verify_crc;
    pq_scratch scratch;      /* page buffers reused across chunks */
    int64_t max_batch_rows;  /* 0: one batch per row group */
    struct pq_shared_batch *cur; /* the row group being handed out in slices */
    int64_t cur_pos;
};

/* Reads the footer and schema of r->src. */
int pq_reader_init(pond_parquet_reader *r, const pond_parquet_read_options *opts);

#endif
