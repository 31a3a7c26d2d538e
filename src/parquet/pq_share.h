/* What a caller reading many Parquet files in turn (a scan over a series' versions,
 * src/table/table_scan.c) shares between their readers. Internal to pond. */
#ifndef POND_PQ_SHARE_H
#define POND_PQ_SHARE_H

#include <pond/parquet.h>

#include "util/util.h"

/* The buffer cache a reader keeps by default: its freed value, chunk and page buffers serve
 * its next row groups. */
#define PQ_CACHE_BYTES ((size_t)32 << 20)

/* Decode r's row groups into buffers of c (a reference is taken; the reader's own cache is
 * closed), so that a scan's versions reuse each other's buffers instead of faulting in fresh
 * memory for every version. Call before the reader decodes anything. NULL: no change. */
void pond_pq_reader_use_cache(pond_parquet_reader *r, pond_bufcache *c);

#endif
