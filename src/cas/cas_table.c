/* The chunk table (`<hex>.chunks`): encoding, decoding and whole-image validation.
 *
 * Layout (docs/cas.md): nchunks chunk hashes, then ngroups group hashes, then a 64-byte
 * little-endian trailer. root = SHA-256(group hashes || trailer). */
#include "cas/cas_internal.h"

#include <string.h>

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void pond_cas__trailer_counts(pond_cas__trailer *t)
{
    uint64_t size = (uint64_t)t->size;
    t->nchunks = size / t->chunk_size + (size % t->chunk_size != 0);
    t->ngroups = t->nchunks / t->fanout + (t->nchunks % t->fanout != 0);
}

void pond_cas__trailer_encode(uint8_t out[POND_CAS__TRAILER_SIZE], const pond_cas__trailer *t)
{
    memcpy(out, POND_CAS__MAGIC, 8);
    put_u32(out + 8, POND_CAS__FORMAT_VERSION);
    put_u32(out + 12, t->chunk_size);
    put_u32(out + 16, t->fanout);
    put_u32(out + 20, 0);
    put_u64(out + 24, (uint64_t)t->size);
    memcpy(out + 32, t->sha256.bytes, 32);
}

int pond_cas__trailer_decode(pond_cas__trailer *out, const uint8_t in[POND_CAS__TRAILER_SIZE],
                             uint64_t table_size, const char *what)
{
    if (memcmp(in, POND_CAS__MAGIC, 8) != 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_CAS, "%s: chunk table: bad magic", what);
    uint32_t version = get_u32(in + 8);
    if (version != POND_CAS__FORMAT_VERSION)
        return pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                              "%s: chunk table: unknown format version %u", what, version);
    pond_cas__trailer t;
    t.chunk_size = get_u32(in + 12);
    t.fanout = get_u32(in + 16);
    uint64_t size = get_u64(in + 24);
    if (t.chunk_size < POND_CAS_MIN_CHUNK_SIZE || t.chunk_size > POND_CAS_MAX_CHUNK_SIZE ||
        t.fanout < POND_CAS_MIN_FANOUT || t.fanout > POND_CAS_MAX_FANOUT || get_u32(in + 20) != 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                              "%s: chunk table: bad parameters (chunk size %u, fanout %u)", what,
                              t.chunk_size, t.fanout);
    if (size > (uint64_t)INT64_MAX)
        return pond_error_set(POND_ECORRUPT, POND_DOM_CAS, "%s: chunk table: bad size %llu", what,
                              (unsigned long long)size);
    t.size = (int64_t)size;
    memcpy(t.sha256.bytes, in + 32, 32);
    pond_cas__trailer_counts(&t);
    uint64_t want;
    if (__builtin_add_overflow(t.nchunks, t.ngroups, &want) ||
        __builtin_mul_overflow(want, (uint64_t)32, &want) ||
        __builtin_add_overflow(want, (uint64_t)POND_CAS__TRAILER_SIZE, &want))
        return pond_error_set(POND_ECORRUPT, POND_DOM_CAS, "%s: chunk table: size %lld too large",
                              what, (long long)t.size);
    if (table_size != want)
        return pond_error_set(
            POND_ECORRUPT, POND_DOM_CAS, "%s: chunk table is %llu bytes, want %llu for size %lld",
            what, (unsigned long long)table_size, (unsigned long long)want, (long long)t.size);
    *out = t;
    return 0;
}

int pond_cas__table_check(pond_hash *root_out, pond_cas__trailer *t_out, const uint8_t *img,
                          size_t len, const char *what)
{
    pond_cas__trailer t;
    int rc;
    if (len < POND_CAS__TRAILER_SIZE)
        return pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                              "%s: chunk table: %zu bytes, shorter than its trailer", what, len);
    if ((rc = pond_cas__trailer_decode(&t, img + len - POND_CAS__TRAILER_SIZE, len, what)) < 0)
        return rc;
    const uint8_t *groups = img + pond_cas__groups_offset(&t);
    for (uint64_t g = 0; g < t.ngroups; g++) {
        uint64_t first = g * t.fanout;
        uint64_t count = POND_MIN((uint64_t)t.fanout, t.nchunks - first);
        pond_hash h;
        if ((rc = pond_sha256_buf(&h, img + 32 * first, (size_t)(32 * count))) < 0)
            return rc;
        if (memcmp(h.bytes, groups + 32 * g, 32) != 0)
            return pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                                  "%s chunk %llu: chunk table group %llu hash mismatch", what,
                                  (unsigned long long)first, (unsigned long long)g);
    }
    if ((rc = pond_sha256_buf(root_out, groups,
                              (size_t)(32 * t.ngroups) + POND_CAS__TRAILER_SIZE)) < 0)
        return rc;
    if (t_out)
        *t_out = t;
    return 0;
}

int pond_cas__table_build(pond_buf *out, pond_hash *root_out, const uint8_t *data, size_t len,
                          uint32_t chunk_size, uint32_t fanout)
{
    pond_cas__trailer t = {.chunk_size = chunk_size, .fanout = fanout, .size = (int64_t)len};
    int rc;
    pond_cas__trailer_counts(&t);
    pond_buf_clear(out);
    for (uint64_t i = 0; i < t.nchunks; i++) {
        pond_hash h;
        size_t off = (size_t)(i * chunk_size);
        if ((rc = pond_sha256_buf(&h, data + off, POND_MIN((size_t)chunk_size, len - off))) < 0 ||
            (rc = pond_buf_put(out, h.bytes, 32)) < 0)
            return rc;
    }
    for (uint64_t g = 0; g < t.ngroups; g++) {
        pond_hash h;
        uint64_t first = g * fanout, count = POND_MIN((uint64_t)fanout, t.nchunks - first);
        if ((rc = pond_sha256_buf(&h, out->ptr + 32 * first, (size_t)(32 * count))) < 0 ||
            (rc = pond_buf_put(out, h.bytes, 32)) < 0)
            return rc;
    }
    if ((rc = pond_sha256_buf(&t.sha256, data, len)) < 0)
        return rc;
    uint8_t trailer[POND_CAS__TRAILER_SIZE];
    pond_cas__trailer_encode(trailer, &t);
    if ((rc = pond_buf_put(out, trailer, sizeof trailer)) < 0)
        return rc;
    return pond_sha256_buf(root_out, out->ptr + pond_cas__groups_offset(&t),
                           (size_t)(32 * t.ngroups) + POND_CAS__TRAILER_SIZE);
}
