#include <pond/alloc.h>
#include <pond/errors.h>
#include <pond/sys/testing.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Each block carries a 16-byte header holding its size, so current and peak heap use can be
 * tracked exactly (the bounded-memory tests depend on it) and alignment stays max_align_t. */
#define HDR 16

static _Atomic size_t g_current;
static _Atomic size_t g_peak;
static _Atomic uint64_t g_count;
static _Atomic uint64_t g_fail_at; /* 0 = off; counts down */
static _Atomic bool g_fail_persist;
static _Atomic bool g_fail_fired;

static bool should_fail(void)
{
    uint64_t n = atomic_load(&g_fail_at);
    if (n == 0)
        return false;
    if (n == 1) {
        if (!atomic_load(&g_fail_persist))
            atomic_store(&g_fail_at, 0);
        atomic_store(&g_fail_fired, true);
        return true;
    }
    /* A race between threads only shifts which allocation fails; tests that use this are
     * single-threaded. */
    atomic_compare_exchange_strong(&g_fail_at, &n, n - 1);
    return false;
}

static void account(size_t add, size_t sub)
{
    size_t cur = atomic_fetch_add(&g_current, add) + add;
    atomic_fetch_sub(&g_current, sub);
    cur -= sub;
    size_t peak = atomic_load(&g_peak);
    while (cur > peak && !atomic_compare_exchange_weak(&g_peak, &peak, cur))
        ;
}

void *pond_malloc(size_t n)
{
    size_t total;
    if (should_fail() || pond_add_overflow(&total, n, HDR)) {
        pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "out of memory allocating %zu bytes", n);
        return NULL;
    }
    unsigned char *p = malloc(total);
    if (!p) {
        pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "out of memory allocating %zu bytes", n);
        return NULL;
    }
    memcpy(p, &n, sizeof n);
    atomic_fetch_add(&g_count, 1);
    account(n, 0);
    return p + HDR;
}

void *pond_calloc(size_t count, size_t size)
{
    size_t n;
    if (pond_mul_overflow(&n, count, size)) {
        pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "allocation size overflow (%zu x %zu)", count,
                       size);
        return NULL;
    }
    void *p = pond_malloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *pond_realloc(void *ptr, size_t n)
{
    if (!ptr)
        return pond_malloc(n);
    size_t total;
    if (should_fail() || pond_add_overflow(&total, n, HDR)) {
        pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "out of memory allocating %zu bytes", n);
        return NULL;
    }
    unsigned char *base = (unsigned char *)ptr - HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    unsigned char *p = realloc(base, total);
    if (!p) {
        pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "out of memory allocating %zu bytes", n);
        return NULL;
    }
    memcpy(p, &n, sizeof n);
    atomic_fetch_add(&g_count, 1);
    account(n, old);
    return p + HDR;
}

void pond_free(void *ptr)
{
    if (!ptr)
        return;
    unsigned char *base = (unsigned char *)ptr - HDR;
    size_t n;
    memcpy(&n, base, sizeof n);
    atomic_fetch_sub(&g_current, n);
    free(base);
}

char *pond_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = pond_malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

char *pond_strdup(const char *s) { return pond_strndup(s, SIZE_MAX - 1); }

size_t pond_alloc_current(void) { return atomic_load(&g_current); }
size_t pond_alloc_peak(void) { return atomic_load(&g_peak); }
void pond_alloc_reset_peak(void) { atomic_store(&g_peak, atomic_load(&g_current)); }
uint64_t pond_alloc_count(void) { return atomic_load(&g_count); }

void pond_alloc_fail_at(uint64_t n, bool persistent)
{
    atomic_store(&g_fail_persist, persistent);
    atomic_store(&g_fail_fired, false);
    atomic_store(&g_fail_at, n);
}

bool pond_alloc_fail_fired(void) { return atomic_load(&g_fail_fired); }
