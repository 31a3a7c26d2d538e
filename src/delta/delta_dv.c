/* Deletion vectors: locate, check (size, CRC-32) and decode (64-bit portable roaring bitmaps,
 * Delta PROTOCOL.md "Deletion Vector Format"). */
#include "delta/delta_table.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define DV_MAGIC 1681511377u
#define DV_MAX_BYTES (256u << 20)

static const char Z85[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/* Decodes len z85 characters (len % 5 == 0) into len / 5 * 4 bytes. */
static int z85_decode(uint8_t *out, const char *s, size_t len)
{
    if (len % 5)
        return -1;
    for (size_t i = 0; i < len; i += 5) {
        uint64_t v = 0;
        for (size_t k = 0; k < 5; k++) {
            const char *p = s[i + k] ? strchr(Z85, s[i + k]) : NULL;
            if (!p)
                return -1;
            v = v * 85 + (uint64_t)(p - Z85);
        }
        if (v > UINT32_MAX)
            return -1;
        out[i / 5 * 4 + 0] = (uint8_t)(v >> 24);
        out[i / 5 * 4 + 1] = (uint8_t)(v >> 16);
        out[i / 5 * 4 + 2] = (uint8_t)(v >> 8);
        out[i / 5 * 4 + 3] = (uint8_t)v;
    }
    return 0;
}

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16le(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

typedef struct {
    uint64_t *v;
    size_t n, cap, max; /* max = the declared cardinality */
    const char *what;
} dv_rows;

static int put_row(dv_rows *r, uint64_t row)
{
    if (r->n && row <= r->v[r->n - 1])
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: deletion vector rows are not strictly increasing", r->what);
    if (r->n == r->max)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: deletion vector holds more rows than its cardinality", r->what);
    if (r->n == r->cap) {
        /* grow with the data, not with the declared cardinality, which may lie */
        size_t nc = r->cap ? r->cap * 2 : 1024;
        nc = nc > r->max ? r->max : nc;
        uint64_t *nv = pond_realloc(r->v, nc * sizeof *nv);
        if (!nv)
            return POND_ENOMEM;
        r->v = nv;
        r->cap = nc;
    }
    r->v[r->n++] = row;
    return 0;
}

/* One 32-bit portable roaring bitmap at data[*pos..len); high = the 64-bit bucket key. */
static int roaring32(dv_rows *r, const uint8_t *d, size_t len, size_t *pos, uint64_t high)
{
    size_t p = *pos;
#define NEED(n)                                                                                    \
    do {                                                                                           \
        if ((n) > len - p)                                                                         \
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,                                   \
                                  "%s: deletion vector truncated at byte %zu", r->what, p);        \
    } while (0)
    NEED(4);
    uint32_t cookie = rd32le(d + p);
    p += 4;
    size_t size;
    const uint8_t *run_bitmap = NULL;
    if ((cookie & 0xffffu) == 12347u) {
        size = (cookie >> 16) + 1;
        NEED((size + 7) / 8);
        run_bitmap = d + p;
        p += (size + 7) / 8;
    } else if (cookie == 12346u) {
        NEED(4);
        size = rd32le(d + p);
        p += 4;
        if (size > 65536)
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "%s: deletion vector has %zu containers", r->what, size);
    } else {
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: bad roaring cookie %" PRIu32,
                              r->what, cookie);
    }
    NEED(size * 4);
    const uint8_t *hdr = d + p;
    p += size * 4;
    if (!run_bitmap || size >= 4) {
        NEED(size * 4); /* container offsets: containers follow in order, so skip them */
        p += size * 4;
    }
    for (size_t i = 0; i < size; i++) {
        uint64_t base = high << 32 | (uint64_t)rd16le(hdr + 4 * i) << 16;
        uint32_t card = (uint32_t)rd16le(hdr + 4 * i + 2) + 1;
        int rc;
        if (run_bitmap && (run_bitmap[i / 8] >> (i % 8) & 1)) {
            NEED(2);
            uint16_t nruns = rd16le(d + p);
            p += 2;
            NEED((size_t)nruns * 4);
            for (uint16_t k = 0; k < nruns; k++) {
                uint32_t start = rd16le(d + p), n = (uint32_t)rd16le(d + p + 2) + 1;
                p += 4;
                if (start + n > 65536)
                    return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                          "%s: deletion vector run past its container", r->what);
                for (uint32_t x = 0; x < n; x++)
                    if ((rc = put_row(r, base + start + x)) < 0)
                        return rc;
            }
        } else if (card <= 4096) {
            NEED((size_t)card * 2);
            for (uint32_t k = 0; k < card; k++, p += 2)
                if ((rc = put_row(r, base + rd16le(d + p))) < 0)
                    return rc;
        } else {
            NEED(8192);
            for (uint32_t bit = 0; bit < 65536; bit++)
                if (d[p + bit / 8] >> (bit % 8) & 1)
                    if ((rc = put_row(r, base + bit)) < 0)
                        return rc;
            p += 8192;
        }
    }
#undef NEED
    *pos = p;
    return 0;
}

/* Decodes the serialized bitmap (magic + 64-bit portable roaring array) into sorted rows. */
static int decode_bitmap(dv_rows *r, const uint8_t *d, size_t len)
{
    if (len < 12 || rd32le(d) != DV_MAGIC)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: bad deletion vector magic",
                              r->what);
    uint64_t buckets = (uint64_t)rd32le(d + 4) | (uint64_t)rd32le(d + 8) << 32;
    size_t pos = 12;
    if (buckets > (len - pos) / 8)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: deletion vector claims %" PRIu64 " buckets", r->what, buckets);
    for (uint64_t b = 0; b < buckets; b++) {
        if (len - pos < 4)
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: deletion vector truncated",
                                  r->what);
        uint32_t key = rd32le(d + pos);
        pos += 4;
        int rc = roaring32(r, d, len, &pos, key);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Reads the DV's serialized bytes into *out (pond_malloc'd). */
static int load_bytes(uint8_t **out, size_t *len_out, const pond_delta_table *t,
                      const pond_delta_dv *dv, const char *what)
{
    *out = NULL;
    if (dv->size_in_bytes < 12 || (uint64_t)dv->size_in_bytes > DV_MAX_BYTES)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: deletion vector sizeInBytes %" PRId64 " out of range", what,
                              dv->size_in_bytes);
    size_t size = (size_t)dv->size_in_bytes;
    const char *s = dv->path_or_inline;
    size_t slen = strlen(s);
    if (dv->storage_type == 'i') {
        uint8_t *b = pond_malloc(slen / 5 * 4 + 4);
        if (!b)
            return POND_ENOMEM;
        if (z85_decode(b, s, slen) < 0 || slen / 5 * 4 < size) {
            pond_free(b);
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "%s: inline deletion vector is not valid z85 of %zu bytes", what,
                                  size);
        }
        *out = b;
        *len_out = size;
        return 0;
    }
    if (dv->storage_type == 'p')
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_DELTA,
                              "%s: deletion vectors stored at absolute paths are not supported",
                              what);
    /* 'u': <prefix><20 z85 chars of a UUID> -> <prefix>/deletion_vector_<uuid>.bin */
    uint8_t u[16];
    if (slen < 20 || z85_decode(u, s + slen - 20, 20) < 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: bad deletion vector id '%s'",
                              what, s);
    char rel[512];
    int n = snprintf(rel, sizeof rel,
                     "%.*s%sdeletion_vector_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                     "%02x%02x%02x%02x%02x%02x.bin",
                     (int)(slen - 20), s, slen > 20 ? "/" : "", u[0], u[1], u[2], u[3], u[4], u[5],
                     u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    if (n < 0 || (size_t)n >= sizeof rel || strstr(rel, "..") || rel[0] == '/')
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: bad deletion vector path '%s'",
                              what, s);
    char *path = pond__path_join(t->dir, rel);
    if (!path)
        return POND_ENOMEM;
    int fd, rc = pond__open(&fd, path, O_RDONLY, 0, POND_DOM_DELTA);
    if (rc < 0) {
        if (rc == POND_ENOTFOUND)
            rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                "%s: deletion vector file does not exist (%s)", what, path);
        pond_free(path);
        return rc;
    }
    int64_t off = dv->offset < 0 ? 1 : dv->offset;
    uint8_t *b = pond_malloc(size + 8);
    size_t got = 0;
    if (!b)
        rc = POND_ENOMEM;
    else if ((rc = pond__pread_full(&got, fd, b, size + 8, off, path, POND_DOM_DELTA)) == 0 &&
             got < size + 8)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "%s: deletion vector at %s offset %" PRId64 " is truncated", what, path,
                            off);
    if (rc == 0 && rd32be(b) != size)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "%s: deletion vector size %" PRIu32 " in %s != sizeInBytes %zu", what,
                            rd32be(b), path, size);
    if (rc == 0 && (uint32_t)crc32(0L, b + 4, (uInt)size) != rd32be(b + 4 + size))
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "%s: deletion vector CRC-32 mismatch in %s at offset %" PRId64, what,
                            path, off);
    pond__close(fd);
    pond_free(path);
    if (rc < 0) {
        pond_free(b);
        return rc;
    }
    memmove(b, b + 4, size);
    *out = b;
    *len_out = size;
    return 0;
}

int pond_delta_dv_read(uint64_t **rows_out, size_t *n_out, const pond_delta_table *t,
                       const pond_delta_file *f)
{
    POND_ASSERT_ARG(rows_out && n_out && t && f && f->deletion_vector);
    *rows_out = NULL;
    *n_out = 0;
    const pond_delta_dv *dv = f->deletion_vector;
    char what[512];
    snprintf(what, sizeof what, "file %s", f->path);
    if (dv->cardinality < 0 || dv->cardinality > (int64_t)(DV_MAX_BYTES * 8ull))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: deletion vector cardinality %" PRId64 " out of range", what,
                              dv->cardinality);
    uint8_t *bytes;
    size_t len;
    int rc = load_bytes(&bytes, &len, t, dv, what);
    if (rc < 0)
        return rc;
    dv_rows r = {NULL, 0, 0, (size_t)dv->cardinality, what};
    rc = decode_bitmap(&r, bytes, len);
    pond_free(bytes);
    if (rc == 0 && r.n != (size_t)dv->cardinality)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "%s: deletion vector cardinality %" PRId64 " != decoded %zu", what,
                            dv->cardinality, r.n);
    if (rc < 0) {
        pond_free(r.v);
        return rc;
    }
    *rows_out = r.v;
    *n_out = r.n;
    return 0;
}
