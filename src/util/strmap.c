/* A map from borrowed strings to integers (open addressing): name lookups over wide
 * schemas, where a loop per name made reading 65,536 columns quadratic. */
#include "util/util.h"

#include <string.h>

static uint64_t str_hash(const char *s) { return pond__hash_bytes(s, strlen(s)); }

static int grow(pond__strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    const char **keys = pond_calloc(cap, sizeof *keys);
    int64_t *vals = pond_calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        pond_free(keys);
        pond_free(vals);
        return pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "out of memory");
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = str_hash(m->keys[i]) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    pond_free(m->keys);
    pond_free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int pond__strmap_put(pond__strmap *m, const char *key, int64_t val)
{
    int rc;
    if ((m->n + 1) * 2 > m->cap && (rc = grow(m)) < 0)
        return rc;
    size_t i = str_hash(key) & (m->cap - 1);
    for (; m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (!strcmp(m->keys[i], key))
            return 1;
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return 0;
}

int64_t pond__strmap_get(const pond__strmap *m, const char *key)
{
    if (!m->cap || !key)
        return -1;
    for (size_t i = str_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (!strcmp(m->keys[i], key))
            return m->vals[i];
    return -1;
}

void pond__strmap_dispose(pond__strmap *m)
{
    pond_free(m->keys);
    pond_free(m->vals);
    memset(m, 0, sizeof *m);
}
