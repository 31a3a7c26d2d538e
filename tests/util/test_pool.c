/* The shared fork-join pool (src/util/pool.c). */
#include "pt.h"

#include <pond/alloc.h>

#include "util/util.h"

#include <stdatomic.h>

typedef struct {
    _Atomic int hits[64];
    int slots;
    _Atomic bool bad_slot;
    _Atomic int max_task_seen;
} pool_arg;

static void count_task(void *payload, int task, int slot)
{
    pool_arg *a = payload;
    if (slot < 0 || slot >= a->slots)
        atomic_store(&a->bad_slot, true);
    atomic_fetch_add(&a->hits[task], 1);
}

static void test_pool_runs_every_task_once(void)
{
    for (int threads = 1; threads <= 4; threads++) {
        pond_pool *p;
        PT_ASSERT_OK(pond__pool_new(&p, threads));
        PT_ASSERT(pond__pool_threads(p) >= 1 && pond__pool_threads(p) <= threads);
        for (int run = 0; run < (pt_light() ? 20 : 200); run++) {
            int n = 1 + run % 64;
            pool_arg a = {.slots = pond__pool_threads(p)};
            pond__pool_run(p, n, count_task, &a);
            PT_ASSERT(!atomic_load(&a.bad_slot));
            for (int i = 0; i < 64; i++)
                PT_ASSERT_INT_EQ(atomic_load(&a.hits[i]), i < n ? 1 : 0);
        }
        pond__pool_run(p, 0, count_task, NULL); /* nothing to do: fn is not called */
        pond__pool_free(p);
    }
    pond__pool_free(NULL);
    PT_ASSERT_INT_EQ(pond__pool_threads(NULL), 1);
}

static void test_pool_without_workers_runs_on_the_caller(void)
{
    pond_pool *p;
    PT_ASSERT_OK(pond__pool_new(&p, 1));
    PT_ASSERT_INT_EQ(pond__pool_threads(p), 1);
    pool_arg a = {.slots = 1};
    pond__pool_run(p, 5, count_task, &a);
    PT_ASSERT(!atomic_load(&a.bad_slot));
    for (int i = 0; i < 5; i++)
        PT_ASSERT_INT_EQ(atomic_load(&a.hits[i]), 1);
    pond__pool_free(p);
}

typedef struct {
    pond_hset *set;
    int handles[2];
    _Atomic int holders[2];
    _Atomic bool shared;
    _Atomic int takes;
} hset_arg;

static void take_task(void *payload, int task, int slot)
{
    (void)task, (void)slot;
    hset_arg *a = payload;
    for (int k = 0; k < 200; k++) {
        int *h = pond__hset_take(a->set);
        int i = (int)(h - a->handles);
        if (atomic_fetch_add(&a->holders[i], 1) != 0)
            atomic_store(&a->shared, true);
        atomic_fetch_add(&a->takes, 1);
        atomic_fetch_sub(&a->holders[i], 1);
        pond__hset_give(a->set, h);
    }
}

static void test_hset_one_holder_per_handle(void)
{
    /* four threads share two handles: each handle has one holder at a time */
    hset_arg a = {0};
    void *hs[2] = {&a.handles[0], &a.handles[1]};
    PT_ASSERT_OK(pond__hset_new(&a.set, hs, 2));
    pond_pool *p;
    PT_ASSERT_OK(pond__pool_new(&p, 4));
    pond__pool_run(p, 8, take_task, &a);
    pond__pool_free(p);
    PT_ASSERT(!atomic_load(&a.shared));
    PT_ASSERT_INT_EQ(atomic_load(&a.takes), 8 * 200);
    pond__hset_free(a.set);
    pond_hset *bad;
    PT_ASSERT_ERR(pond__hset_new(&bad, hs, 0), POND_EINVALID);
    pond__hset_free(NULL);
}

/* The buffer cache: large buffers come back to the next take that fits (the smallest, never
 * more than twice the need), small ones and those over its bounds are freed, and a closed
 * cache keeps nothing while the references of buffers still out keep it alive. */
static void test_bufcache_reuse_and_bounds(void)
{
    const size_t K = 64 << 10;
    pond_bufcache *c;
    PT_ASSERT_OK(pond__bufcache_new(&c, 10 * K));
    size_t cap_a, cap_b, cap;
    void *a = pond__bufcache_take(c, 4 * K, &cap_a);
    void *b = pond__bufcache_take(c, 2 * K, &cap_b);
    PT_ASSERT(a && b && cap_a == 4 * K && cap_b == 2 * K);
    size_t before = pond_alloc_current();
    pond__bufcache_give(c, a, cap_a);
    pond__bufcache_give(c, b, cap_b);
    PT_ASSERT(pond_alloc_current() == before); /* kept, not freed */
    /* the smallest that fits */
    PT_ASSERT(pond__bufcache_take(c, 2 * K - 100, &cap) == b && cap == 2 * K);
    /* 4K is more than twice 1.5K: a new buffer */
    void *n = pond__bufcache_take(c, K + K / 2, &cap);
    PT_ASSERT(n && n != a && cap == K + K / 2);
    PT_ASSERT(pond__bufcache_take(c, 3 * K, &cap) == a && cap == 4 * K);
    /* small buffers are not kept; bounds: 10K bytes */
    uint64_t allocs = pond_alloc_count();
    void *small = pond__bufcache_take(c, 100, &cap);
    PT_ASSERT(small && cap == 100 && pond_alloc_count() == allocs + 1);
    before = pond_alloc_current();
    pond__bufcache_give(c, small, cap);
    PT_ASSERT(pond_alloc_current() < before);
    pond__bufcache_give(c, a, 4 * K);
    pond__bufcache_give(c, b, 2 * K);
    pond__bufcache_give(c, n, K + K / 2); /* 7.5K kept */
    void *big = pond_malloc(3 * K);
    PT_ASSERT(big);
    before = pond_alloc_current();
    pond__bufcache_give(c, big, 3 * K); /* would be 10.5K: freed */
    PT_ASSERT(pond_alloc_current() < before);
    /* a reference outlives close: the cache keeps nothing after it, gives just free */
    pond_bufcache *held = pond__bufcache_ref(c);
    void *x = pond__bufcache_take(c, 2 * K, &cap);
    PT_ASSERT(x == b);
    before = pond_alloc_current();
    pond__bufcache_close(c); /* frees a and n */
    PT_ASSERT(pond_alloc_current() < before);
    before = pond_alloc_current();
    pond__bufcache_give(held, x, cap);
    PT_ASSERT(pond_alloc_current() < before);
    before = pond_alloc_current();
    void *fresh = pond__bufcache_take(held, 2 * K, &cap);
    PT_ASSERT(fresh && pond_alloc_current() > before); /* nothing kept */
    pond_free(fresh);
    pond_free(pond__bufcache_take(NULL, 5, &cap));
    pond__bufcache_give(NULL, pond_malloc(3 * K), 3 * K);
    pond__bufcache_unref(held); /* the last reference */
    pond__bufcache_close(NULL);
    pond__bufcache_unref(NULL);
}

PT_SUITE(util_pool, PT_TEST(pool_runs_every_task_once),
         PT_TEST(pool_without_workers_runs_on_the_caller), PT_TEST(hset_one_holder_per_handle),
         PT_TEST(bufcache_reuse_and_bounds))
