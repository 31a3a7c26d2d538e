/* Arrow array buffers that go back to a buffer cache (src/util/pool.c) when the array is
 * released, not to the allocator: a reader hands out batches whose value buffers its next
 * batches reuse. Internal to pond. */
#ifndef POND_ARROW_CACHE_H
#define POND_ARROW_CACHE_H

#include <pond/arrow.h>

#include "util/util.h"

/* Sets buffer i of a (a node made by pond_arrow_array_init) to buf, of cap bytes, taken from
 * cache c: on release it is given back to c (the array holds a reference to c until then).
 * c NULL: the same as pond_arrow_array_set_buffer. */
void pond_arrow__array_set_cached_buffer(struct ArrowArray *a, int64_t i, void *buf, size_t cap,
                                         pond_bufcache *c);

#endif
