/* The map from 16-byte ids (node ids, partition ids) to pointers: open addressing with linear
 * probing, at most 3/4 full, hashed by the one hash function (pond__hash_bytes). Not a face of
 * pond__bytemap: ids are stored in the slots (24 bytes a slot, no key arena), which keeps a
 * pond of a million partitions or a directory of a million nodes within the memory bounds of
 * tests/hostile (the bytemap form took 32 bytes a slot plus 16 to 32 bytes of arena an id). */
#include "util/util.h"

#include <string.h>

static size_t slot_of(const void *key, size_t cap)
{
    return (size_t)pond__hash_bytes(key, sizeof(pond__key16)) & (cap - 1);
}

void *pond__idmap_get(const pond__idmap *m, const void *key)
{
    if (!m->cap)
        return NULL;
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (!m->vals[i])
            return NULL;
        if (!memcmp(&m->keys[i], key, sizeof(pond__key16)))
            return m->vals[i];
    }
}

static int grow(pond__idmap *m)
{
    size_t cap;
    if (pond_mul_overflow(&cap, m->cap ? m->cap : 8, 2))
        return pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "id map too large");
    pond__key16 *k = pond_calloc(cap, sizeof *k);
    void **v = pond_calloc(cap, sizeof *v);
    if (!k || !v) {
        pond_free(k);
        pond_free(v);
        return POND_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->vals[i])
            continue;
        size_t j = slot_of(&m->keys[i], cap);
        while (v[j])
            j = (j + 1) & (cap - 1);
        k[j] = m->keys[i];
        v[j] = m->vals[i];
    }
    pond_free(m->keys);
    pond_free(m->vals);
    m->keys = k;
    m->vals = v;
    m->cap = cap;
    return 0;
}

int pond__idmap_put(pond__idmap *m, const void *key, void *val, void **old_out)
{
    if (old_out)
        *old_out = NULL;
    int rc;
    if ((m->n + 1) * 4 > m->cap * 3 && (rc = grow(m)) < 0)
        return rc;
    size_t i = slot_of(key, m->cap);
    while (m->vals[i] && memcmp(&m->keys[i], key, sizeof(pond__key16)))
        i = (i + 1) & (m->cap - 1);
    if (m->vals[i]) {
        if (old_out)
            *old_out = m->vals[i];
    } else {
        m->n++;
    }
    memcpy(&m->keys[i], key, sizeof(pond__key16));
    m->vals[i] = val;
    return 0;
}

size_t pond__idmap_slots(const pond__idmap *m) { return m->cap; }

void *pond__idmap_at(const pond__idmap *m, size_t i, pond__key16 *key_out)
{
    void *v = i < m->cap ? m->vals[i] : NULL;
    if (v && key_out)
        *key_out = m->keys[i];
    return v;
}

void pond__idmap_dispose(pond__idmap *m)
{
    pond_free(m->keys);
    pond_free(m->vals);
    memset(m, 0, sizeof *m);
}
