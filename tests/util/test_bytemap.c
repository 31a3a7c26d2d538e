/* The byte-string hash map against a brute-force model. */
#include "pt.h"

#include "util/util.h"

#include <stdlib.h>

static void test_bytemap_model(void)
{
    pond__bytemap m;
    pond__bytemap_init(&m);
    int64_t v;
    PT_ASSERT(!pond__bytemap_get(&m, "", 0, &v));
    /* keys of 0..19 bytes drawn from a small alphabet: many collisions of prefixes */
    enum { N = 4000 };
    static char keys[N][20];
    static size_t lens[N];
    static int64_t want[N];
    srand(7);
    for (int i = 0; i < N; i++) {
        lens[i] = (size_t)(rand() % 20);
        for (size_t k = 0; k < lens[i]; k++)
            keys[i][k] = (char)("ab\0c"[rand() % 4]);
        want[i] = i;
        /* a later equal key replaces the value of every earlier copy */
        for (int j = 0; j < i; j++)
            if (lens[j] == lens[i] && !memcmp(keys[j], keys[i], lens[i]))
                want[j] = i;
        PT_ASSERT_OK(pond__bytemap_put(&m, keys[i], lens[i], i));
    }
    for (int i = 0; i < N; i++) {
        PT_ASSERT(pond__bytemap_get(&m, keys[i], lens[i], &v));
        PT_ASSERT_INT_EQ(v, want[i]);
    }
    PT_ASSERT(!pond__bytemap_get(&m, "zzzz", 4, &v));
    pond__bytemap_dispose(&m);
}

static int put_many(void *arg)
{
    (void)arg;
    pond__bytemap m;
    pond__bytemap_init(&m);
    int rc = 0;
    for (int64_t i = 0; i < 300 && rc == 0; i++)
        rc = pond__bytemap_put(&m, &i, sizeof i, i);
    int64_t v = -1;
    if (rc == 0 && (!pond__bytemap_get(&m, &(int64_t){150}, 8, &v) || v != 150))
        rc = pond_error_set(POND_ERROR, POND_DOM_NONE, "lost key 150");
    pond__bytemap_dispose(&m);
    return rc;
}

static void test_bytemap_alloc_faults(void)
{
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, put_many, NULL);
    PT_ASSERT(steps > 2);
}

PT_SUITE(util_bytemap, PT_TEST(bytemap_model), PT_TEST(bytemap_alloc_faults))
