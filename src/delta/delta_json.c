/* The snapshot arena: strings and arrays that live as long as a snapshot. */
#include "delta/delta_internal.h"

#include <string.h>

/* ------------------------------------------------------------------ arena */

struct delta_arena_block {
    delta_arena_block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
};

#define ARENA_BLOCK 16384u

static void *arena_alloc(delta_arena *a, size_t n, size_t align)
{
    delta_arena_block *b = a->head;
    size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
    if (!b || at > b->cap || b->cap - at < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK, total;
        if (pond_add_overflow(&total, sizeof *b, cap))
            return NULL;
        b = pond_malloc(total);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
        at = 0;
    }
    void *p = b->data + at;
    b->used = at + n;
    return p;
}

void *pond_delta__arena_alloc(delta_arena *a, size_t n) { return arena_alloc(a, n ? n : 1, 16); }

char *pond_delta__arena_strdup(delta_arena *a, const char *s)
{
    /* strings need no alignment: a big snapshot holds several per file */
    size_t n = strlen(s) + 1;
    char *p = arena_alloc(a, n, 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

void pond_delta__arena_dispose(delta_arena *a)
{
    delta_arena_block *b = a->head;
    while (b) {
        delta_arena_block *n = b->next;
        pond_free(b);
        b = n;
    }
    a->head = NULL;
}
