/* pond's one hash map: byte strings to int64 values, open addressing with linear probing over
 * slots that keep the full 64-bit hash (most probes end on it), keys copied into one arena.
 * The string map (names of wide schemas) is a typed face of it; ids have their own compact
 * map (idmap.c). */
#include "util/util.h"

#include <string.h>

typedef struct {
    uint64_t hash; /* 0: empty (hashes are forced non-zero) */
    size_t off, len;
    int64_t val;
} slot;

uint64_t pond__hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t k;
        memcpy(&k, s + i, 8);
        k *= 0xff51afd7ed558ccdull;
        k ^= k >> 32;
        h = (h ^ k) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
    }
    uint64_t tail = 0;
    for (size_t j = 0; i < n; i++, j++)
        tail |= (uint64_t)s[i] << (8 * j);
    h = (h ^ tail) * 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h ? h : 1;
}

void pond__bytemap_init(pond__bytemap *m) { memset(m, 0, sizeof *m); }

void pond__bytemap_dispose(pond__bytemap *m)
{
    pond_free(m->slots);
    pond_buf_dispose(&m->keys);
    memset(m, 0, sizeof *m);
}

static slot *find(const pond__bytemap *m, uint64_t h, const void *key, size_t len)
{
    slot *s = m->slots;
    for (size_t i = (size_t)h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!s[i].hash || (s[i].hash == h && s[i].len == len &&
                           (!len || !memcmp(m->keys.ptr + s[i].off, key, len))))
            return &s[i];
    }
}

static int grow(pond__bytemap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    slot *ns = pond_calloc(cap, sizeof *ns);
    if (!ns)
        return POND_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        slot *o = &((slot *)m->slots)[i];
        if (!o->hash)
            continue;
        size_t k = (size_t)o->hash & (cap - 1);
        while (ns[k].hash)
            k = (k + 1) & (cap - 1);
        ns[k] = *o;
    }
    pond_free(m->slots);
    m->slots = ns;
    m->cap = cap;
    return 0;
}

int pond__bytemap_put(pond__bytemap *m, const void *key, size_t len, int64_t val)
{
    /* at most half full: probes stay short */
    if ((m->n + 1) * 2 > m->cap) {
        int rc = grow(m);
        if (rc < 0)
            return rc;
    }
    uint64_t h = pond__hash_bytes(key, len);
    slot *s = find(m, h, key, len);
    if (s->hash) {
        s->val = val;
        return 0;
    }
    size_t off = m->keys.size;
    int rc = pond_buf_put(&m->keys, key, len);
    if (rc < 0)
        return rc;
    s->hash = h;
    s->off = off;
    s->len = len;
    s->val = val;
    m->n++;
    return 0;
}

bool pond__bytemap_get(const pond__bytemap *m, const void *key, size_t len, int64_t *val)
{
    if (!m->n)
        return false;
    slot *s = find(m, pond__hash_bytes(key, len), key, len);
    if (!s->hash)
        return false;
    *val = s->val;
    return true;
}

bool pond__bytemap_at(const pond__bytemap *m, size_t i, const void **key, size_t *len, int64_t *val)
{
    const slot *s = i < m->cap ? &((const slot *)m->slots)[i] : NULL;
    if (!s || !s->hash)
        return false;
    if (key)
        *key = m->keys.ptr + s->off;
    if (len)
        *len = s->len;
    if (val)
        *val = s->val;
    return true;
}

/* ---- strings to integers ---- */

int pond__strmap_put(pond__strmap *m, const char *key, int64_t val)
{
    int64_t v;
    size_t n = strlen(key);
    if (pond__bytemap_get(&m->m, key, n, &v))
        return 1;
    return pond__bytemap_put(&m->m, key, n, val);
}

int64_t pond__strmap_get(const pond__strmap *m, const char *key)
{
    int64_t v;
    return key && pond__bytemap_get(&m->m, key, strlen(key), &v) ? v : -1;
}

void pond__strmap_dispose(pond__strmap *m) { pond__bytemap_dispose(&m->m); }
