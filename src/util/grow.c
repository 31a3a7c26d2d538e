/* The one growth rule for arrays (POND_GROW, POND_RESERVE in util.h) and the one bump arena. */
#include "util/util.h"

#include <string.h>

int pond__grow(void *ptr_addr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    /* doubling keeps n appends O(n); at least 8 so short arrays do not grow one by one */
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (pond_mul_overflow(&ncap, ncap, 2)) {
            ncap = need;
            break;
        }
    }
    size_t bytes;
    if (pond_mul_overflow(&bytes, ncap, elem))
        return pond_error_set(POND_ENOMEM, POND_DOM_UTIL,
                              "out of memory: an array of %zu elements of %zu bytes", need, elem);
    void *old;
    memcpy(&old, ptr_addr, sizeof old);
    void *p = pond_realloc(old, bytes);
    if (!p)
        return POND_ENOMEM; /* pond_realloc set the message; the old array is untouched */
    memcpy(ptr_addr, &p, sizeof p);
    *cap = ncap;
    return 0;
}

struct pond__arena_block {
    pond__arena_block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
};

#define ARENA_BLOCK 16384u

void *pond__arena_alloc(pond__arena *a, size_t n, size_t align)
{
    if (n == 0)
        n = 1;
    pond__arena_block *b = a->head;
    size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
    if (!b || at > b->cap || b->cap - at < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK, total;
        if (pond_add_overflow(&total, sizeof *b, cap)) {
            pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "out of memory: %zu bytes", n);
            return NULL;
        }
        if (!(b = pond_malloc(total)))
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
        at = 0;
    }
    b->used = at + n;
    return b->data + at;
}

void *pond__arena_zalloc(pond__arena *a, size_t n)
{
    void *p = pond__arena_alloc(a, n, 16);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

char *pond__arena_strdup(pond__arena *a, const char *s)
{
    /* strings need no alignment: a big snapshot holds several per file */
    size_t n = strlen(s) + 1;
    char *p = pond__arena_alloc(a, n, 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

void pond__arena_dispose(pond__arena *a)
{
    pond__arena_block *b = a->head;
    while (b) {
        pond__arena_block *next = b->next;
        pond_free(b);
        b = next;
    }
    a->head = NULL;
}
