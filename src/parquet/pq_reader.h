/* The reader's internal state (shared by pq_reader.c and pq_describe.c). */
#ifndef POND_PQ_READER_H
#define POND_PQ_READER_H

#include <pond/parquet.h>

#include "parquet/pq_meta.h"
#include "parquet/pq_schema.h"
#include "util/util.h"

#define PQ_MAX_PREDS 8

struct pq_ra;

struct pond_parquet_reader {
    pond_parquet_source src;
    int fd; /* open_file: owned descriptor, else -1 */
    char *path;
    const uint8_t *mem; /* open_memory: borrowed buffer */
    size_t mem_len;
    uint8_t *footer; /* the footer bytes the metadata points into */
    pq_arena arena;
    pq_file_meta meta;
    const char **warnings; /* footer warnings (arena strings) */
    int n_warnings;
    pq_schema schema;
    int *proj; /* projected top-level field indices */
    int n_proj;
    uint8_t *rg_selected; /* per row group: not pruned */
    uint32_t next_rg;
    size_t max_alloc;
    bool verify_crc;
    pq_scratch scratch;          /* page buffers reused across chunks */
    int64_t max_batch_rows;      /* 0: one batch per row group */
    struct pq_shared_batch *cur; /* the row group being handed out in slices */
    int64_t cur_pos;
    /* page pruning: range predicates on flat top-level leaves (pq_rowgroup.c) */
    pq_pred preds[PQ_MAX_PREDS];
    int n_preds;
    bool page_index;      /* use column/offset indexes to skip pages */
    int threads;          /* decode threads (1 = the caller's only) */
    bool concurrent;      /* src.read_at may run on several threads (file, memory) */
    pond_pool *pool;      /* columns of one row group (src/util/pool.c), started on the
                                first parallel row group */
    pq_scratch *wscratch; /* per extra thread: threads - 1 scratch sets */
    _Atomic int64_t pages_read, pages_skipped; /* data pages in page-pruned chunks */
    struct pq_ra *ra; /* read-ahead of row groups for next() (threads > 1) */
    /* large decode buffers (values, chunk bytes, pages) come from and go back here: a
     * scan's (pond_pq_reader_use_cache) or the reader's own (own_cache), created once next()
     * has a second row group to decode (a read of one row group keeps none); one reference */
    pond_bufcache *cache;
    bool own_cache;
};

/* Reads the footer and schema of r->src. */
int pond_pq_reader_init(pond_parquet_reader *r, const pond_parquet_read_options *opts);

/* Read row group rgi into out. With prune, applies the page-index predicates: *empty_out is
 * set (and out left released) when no page can match. */
int pond_pq_read_row_group(pond_parquet_reader *r, int rgi, struct ArrowArray *out, bool prune,
                           bool *empty_out);
/* Stop the thread pool and read-ahead threads, free per-thread scratch (reader_free). */
void pond_pq_reader_threads_free(pond_parquet_reader *r);
/* The next row group for pond_parquet_reader_next, in file order: the first selected row
 * group at or after r->next_rg that has rows to return (r->next_rg is advanced past it).
 * Decoded ahead on threads when allowed. POND_ITEROVER at the end. */
int pond_pq_next_row_group(pond_parquet_reader *r, struct ArrowArray *out);
/* pond_parquet_reader_prefetch and _draining (the read-ahead lives in pq_rowgroup.c). */
int pond_pq_prefetch(pond_parquet_reader *r);
bool pond_pq_draining(const pond_parquet_reader *r);

#endif
