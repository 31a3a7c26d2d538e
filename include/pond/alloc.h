/* pond: the one allocator every pond allocation goes through.
 *
 * Memory returned to callers by pond functions (strings, arrays through **out) is freed with
 * pond_free(). Counters let tests assert bounded memory; the hook that fails the Nth
 * allocation is in <pond/sys/testing.h>. */
#ifndef POND_ALLOC_H
#define POND_ALLOC_H

#include "common.h"

POND_API void *pond_malloc(size_t n);
POND_API void *pond_calloc(size_t count, size_t size);
POND_API void *pond_realloc(void *p, size_t n);
POND_API char *pond_strdup(const char *s);
POND_API char *pond_strndup(const char *s, size_t n);
POND_API void pond_free(void *p);

/** Heap bytes currently allocated through pond, and the peak since the last reset. */
POND_API size_t pond_alloc_current(void);
POND_API size_t pond_alloc_peak(void);
/** Reset the peak to the current value. */
POND_API void pond_alloc_reset_peak(void);
/** Total number of successful allocations so far. */
POND_API uint64_t pond_alloc_count(void);

/** Overflow-checked size arithmetic: false on overflow. */
static inline bool pond_add_overflow(size_t *out, size_t a, size_t b)
{
    return __builtin_add_overflow(a, b, out);
}
static inline bool pond_mul_overflow(size_t *out, size_t a, size_t b)
{
    return __builtin_mul_overflow(a, b, out);
}

#endif
