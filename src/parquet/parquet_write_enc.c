/* Parquet writer encoders: RLE/bit-packed hybrid, dictionary hash table, page compression. */
#include "parquet/parquet_write.h"
#include "parquet/pq_meta.h"

#include "util/util.h"

#include <lz4.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>

#include "parquet/pq_crc.h"
#include <zstd.h>

int pond_pqw__reserve(pond_buf *b, size_t extra)
{
    size_t need;
    if (pond_add_overflow(&need, b->size, extra) || pond_add_overflow(&need, need, 1))
        return pond_error_set(POND_ENOMEM, POND_DOM_PARQUET, "parquet writer: buffer too large");
    if (need <= b->asize)
        return 0;
    /* Grow by 1.5x (1.25x past 1 MiB) rather than doubling: chunk buffers hold a whole row
     * group, and their slack counts against the memory bound. */
    size_t cap = b->asize < 64
                     ? 64
                     : b->asize + (b->asize < ((size_t)1 << 20) ? b->asize / 2 : b->asize / 4);
    if (cap < need)
        cap = need;
    char *p = pond_realloc(b->ptr, cap);
    if (!p)
        return POND_ENOMEM;
    b->ptr = p;
    b->asize = cap;
    return 0;
}

/* ---------------------------------------------------------------- RLE / bit-packed hybrid */

int pond_pqw__bit_width(uint64_t max_value)
{
    int w = 0;
    while (max_value) {
        w++;
        max_value >>= 1;
    }
    return w;
}

static uint8_t *put_uleb(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Worst case per 8 values: a bit-packed group (bit_width bytes) plus amortised headers; an
 * RLE run needs at most 10 + 4 bytes. Reserve generously up front so the loops need no checks. */
static size_t rle_bound(size_t n, int bit_width)
{
    return (n / 8 + 1) * ((size_t)bit_width + 16) + 32;
}

#define RLE_ENCODER(NAME, T)                                                                       \
    int NAME(pond_buf *out, const T *v, size_t n, int bit_width)                                   \
    {                                                                                              \
        int rc = pond_pqw__reserve(out, rle_bound(n, bit_width));                                  \
        if (rc < 0)                                                                                \
            return rc;                                                                             \
        uint8_t *p = (uint8_t *)out->ptr + out->size;                                              \
        int vbytes = (bit_width + 7) / 8;                                                          \
        size_t i = 0;                                                                              \
        while (i < n) {                                                                            \
            size_t run = 1;                                                                        \
            while (i + run < n && v[i + run] == v[i])                                              \
                run++;                                                                             \
            if (run >= 8 || bit_width == 0) {                                                      \
                p = put_uleb(p, (uint64_t)run << 1);                                               \
                uint32_t x = v[i];                                                                 \
                for (int b = 0; b < vbytes; b++)                                                   \
                    *p++ = (uint8_t)(x >> (8 * b));                                                \
                i += run;                                                                          \
                continue;                                                                          \
            }                                                                                      \
            size_t start = i;                                                                      \
            for (;;) {                                                                             \
                i += 8;                                                                            \
                if (i >= n) {                                                                      \
                    i = n;                                                                         \
                    break;                                                                         \
                }                                                                                  \
                size_t r = 1;                                                                      \
                while (r < 8 && i + r < n && v[i + r] == v[i])                                     \
                    r++;                                                                           \
                if (r >= 8)                                                                        \
                    break;                                                                         \
            }                                                                                      \
            size_t groups = (i - start + 7) / 8;                                                   \
            p = put_uleb(p, ((uint64_t)groups << 1) | 1);                                          \
            for (size_t g = 0; g < groups; g++) {                                                  \
                uint64_t acc = 0;                                                                  \
                int bits = 0;                                                                      \
                size_t base = start + g * 8;                                                       \
                for (size_t k = 0; k < 8; k++) {                                                   \
                    uint64_t x = base + k < i ? (uint64_t)v[base + k] : 0;                         \
                    acc |= x << bits;                                                              \
                    bits += bit_width;                                                             \
                    while (bits >= 8) {                                                            \
                        *p++ = (uint8_t)acc;                                                       \
                        acc >>= 8;                                                                 \
                        bits -= 8;                                                                 \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        out->size = (size_t)(p - (uint8_t *)out->ptr);                                             \
        return 0;                                                                                  \
    }

RLE_ENCODER(pond_pqw__rle_encode_u16, uint16_t)
RLE_ENCODER(pond_pqw__rle_encode_u32, uint32_t)

/* ---------------------------------------------------------------- DELTA_BINARY_PACKED */

#define DELTA_BLOCK 128
#define DELTA_MINIS 4
#define DELTA_PER_MINI (DELTA_BLOCK / DELTA_MINIS)

static inline uint64_t zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0); }

static inline int64_t plain_at(const uint8_t *p, size_t i, int width)
{
    if (width == 4) {
        int32_t v;
        memcpy(&v, p + i * 4, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, p + i * 8, 8);
    return v;
}

/* 32 values of bw bits (0..64) packed LSB-first: 4 * bw bytes. */
static uint8_t *pack32(uint8_t *p, const uint64_t *v, int bw)
{
    if (bw == 0)
        return p;
    uint64_t acc = 0;
    int bits = 0;
    for (int i = 0; i < DELTA_PER_MINI; i++) {
        acc |= v[i] << bits; /* bits < 64 */
        bits += bw;
        if (bits >= 64) {
            memcpy(p, &acc, 8); /* little-endian host */
            p += 8;
            bits -= 64;
            acc = bits ? v[i] >> (bw - bits) : 0;
        }
    }
    for (; bits > 0; bits -= 8) {
        *p++ = (uint8_t)acc;
        acc >>= 8;
    }
    return p;
}

int pond_pqw__delta_encode(pond_buf *out, const void *plain, size_t n, int width)
{
    const uint8_t *src = plain;
    size_t blocks = n > 1 ? (n - 1 + DELTA_BLOCK - 1) / DELTA_BLOCK : 0;
    /* per block: min delta (<= 10) + widths + at most 64 bits per value */
    size_t bound = 48 + blocks * (10 + DELTA_MINIS + DELTA_BLOCK * 8);
    int rc = pond_pqw__reserve(out, bound);
    if (rc < 0)
        return rc;
    uint8_t *p = (uint8_t *)out->ptr + out->size;
    p = put_uleb(p, DELTA_BLOCK);
    p = put_uleb(p, DELTA_MINIS);
    p = put_uleb(p, n);
    p = put_uleb(p, n ? zigzag64(plain_at(src, 0, width)) : 0);
    uint64_t adj[DELTA_BLOCK];
    int64_t d[DELTA_BLOCK];
    int64_t prev = n ? plain_at(src, 0, width) : 0;
    for (size_t i = 1; i < n;) {
        size_t k = n - i < DELTA_BLOCK ? n - i : DELTA_BLOCK;
        int64_t min = INT64_MAX;
        for (size_t j = 0; j < k; j++) {
            int64_t v = plain_at(src, i + j, width);
            /* deltas wrap in the column's width (2's complement, as the spec allows) */
            d[j] = width == 4 ? (int64_t)(int32_t)((uint32_t)v - (uint32_t)prev)
                              : (int64_t)((uint64_t)v - (uint64_t)prev);
            prev = v;
            if (d[j] < min)
                min = d[j];
        }
        p = put_uleb(p, zigzag64(min));
        uint8_t *widths = p;
        p += DELTA_MINIS;
        for (size_t j = 0; j < DELTA_BLOCK; j++)
            adj[j] = j < k ? (uint64_t)d[j] - (uint64_t)min : 0; /* padding: zero bits */
        for (int m = 0; m < DELTA_MINIS; m++) {
            size_t first = (size_t)m * DELTA_PER_MINI;
            if (first >= k) {
                /* a miniblock with no values: width 0 and no bytes */
                widths[m] = 0;
                continue;
            }
            uint64_t any = 0;
            for (size_t j = first; j < first + DELTA_PER_MINI; j++)
                any |= adj[j];
            int bw = pond_pqw__bit_width(any);
            widths[m] = (uint8_t)bw;
            p = pack32(p, adj + first, bw);
        }
        i += k;
    }
    out->size = (size_t)(p - (uint8_t *)out->ptr);
    return 0;
}

/* ---------------------------------------------------------------- BYTE_STREAM_SPLIT */

int pond_pqw__split_encode(pond_buf *out, const void *plain, size_t n, int width)
{
    size_t bytes = n * (size_t)width;
    int rc = pond_pqw__reserve(out, bytes);
    if (rc < 0)
        return rc;
    const uint8_t *src = plain;
    uint8_t *dst = (uint8_t *)out->ptr + out->size;
    if (width == 8) {
        for (size_t i = 0; i < n; i++) {
            uint64_t v;
            memcpy(&v, src + i * 8, 8);
            for (int k = 0; k < 8; k++)
                dst[(size_t)k * n + i] = (uint8_t)(v >> (8 * k));
        }
    } else {
        for (size_t i = 0; i < n; i++)
            for (int k = 0; k < width; k++)
                dst[(size_t)k * n + i] = src[i * (size_t)width + (size_t)k];
    }
    out->size += bytes;
    return 0;
}

/* ---------------------------------------------------------------- dictionary */

void pond_pqw__dict_init(pqw_dict *d, int width, bool keyed)
{
    memset(d, 0, sizeof *d);
    d->width = width;
    d->keyed = keyed && width > 0 && width <= 8;
}

void pond_pqw__dict_clear(pqw_dict *d)
{
    if (d->slots)
        memset(d->slots, 0, d->cap * sizeof *d->slots);
    d->n = 0;
    d->plain.size = 0;
}

void pond_pqw__dict_dispose(pqw_dict *d)
{
    pond_free(d->slots);
    pond_free(d->keys);
    pond_free(d->hashes);
    pond_free(d->offs);
    pond_buf_dispose(&d->plain);
    int width = d->width;
    bool keyed = d->keyed;
    memset(d, 0, sizeof *d);
    d->width = width;
    d->keyed = keyed;
}

static inline uint32_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

/* The last n < 8 bytes of a key as one word, with fixed-size loads: a variable-length memcpy is
 * a libc call, which cost more than the rest of hashing a short key. Two overlapping 4-byte
 * loads (n >= 4) or three bytes (n < 4) cover every byte, so keys of one length that differ
 * give different words. */
static inline uint64_t tail_word(const uint8_t *p, size_t n)
{
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        return (uint64_t)a | (uint64_t)b << 32;
    }
    if (n == 0)
        return 0;
    return (uint64_t)p[0] | (uint64_t)p[n >> 1] << 8 | (uint64_t)p[n - 1] << 16;
}

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    while (n >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        h = (h ^ x) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    h = (h ^ tail_word(p, n)) * 0x94d049bb133111ebULL;
    return hash64(h);
}

/* Short keys dominate dictionaries (tags, names): compare them without a libc call. */
static inline bool bytes_equal(const void *a, const void *b, size_t n)
{
    if (n < 8)
        return tail_word(a, n) == tail_word(b, n);
    if (n <= 16) {
        uint64_t x0, y0, x1, y1;
        memcpy(&x0, a, 8);
        memcpy(&y0, b, 8);
        memcpy(&x1, (const uint8_t *)a + n - 8, 8);
        memcpy(&y1, (const uint8_t *)b + n - 8, 8);
        return x0 == y0 && x1 == y1;
    }
    return memcmp(a, b, n) == 0;
}

static bool dict_is_fixed(const pqw_dict *d) { return d->keyed; }

static uint32_t entry_hash(const pqw_dict *d, uint32_t idx)
{
    return dict_is_fixed(d) ? hash64(d->keys[idx]) : d->hashes[idx];
}

static int dict_grow(pqw_dict *d)
{
    /* start small: a wide table has a dictionary per column (65,536 columns x 4 KiB) */
    uint32_t ncap = d->cap ? d->cap * 2 : 16;
    if (ncap == 0 || ncap > (1u << 30))
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                              "parquet writer: dictionary too large");
    uint32_t *slots = pond_calloc(ncap, sizeof *slots);
    if (!slots)
        return POND_ENOMEM;
    for (uint32_t i = 0; i < d->n; i++) {
        uint32_t s = entry_hash(d, i) & (ncap - 1);
        while (slots[s])
            s = (s + 1) & (ncap - 1);
        slots[s] = i + 1;
    }
    pond_free(d->slots);
    d->slots = slots;
    d->cap = ncap;
    return 0;
}

static int dict_grow_entries(pqw_dict *d)
{
    if (d->n < d->keys_cap)
        return 0;
    uint32_t nc = d->keys_cap ? d->keys_cap * 2 : 8;
    if (dict_is_fixed(d)) {
        uint64_t *k = pond_realloc(d->keys, (size_t)nc * sizeof *k);
        if (!k)
            return POND_ENOMEM;
        d->keys = k;
    } else {
        uint32_t *h = pond_realloc(d->hashes, (size_t)nc * sizeof *h);
        if (!h)
            return POND_ENOMEM;
        d->hashes = h;
        uint64_t *o = pond_realloc(d->offs, (size_t)nc * sizeof *o);
        if (!o)
            return POND_ENOMEM;
        d->offs = o;
    }
    d->keys_cap = nc;
    return 0;
}

int pond_pqw__dict_put_fixed(pqw_dict *d, uint64_t bits, uint32_t *idx_out)
{
    int rc;
    if ((d->n + 1) * 2 > d->cap && (rc = dict_grow(d)) < 0)
        return rc;
    uint32_t mask = d->cap - 1, s = hash64(bits) & mask;
    for (;;) {
        uint32_t e = d->slots[s];
        if (!e)
            break;
        if (d->keys[e - 1] == bits) {
            *idx_out = e - 1;
            return 0;
        }
        s = (s + 1) & mask;
    }
    if ((rc = dict_grow_entries(d)) < 0 || (rc = pond_pqw__reserve(&d->plain, 8)) < 0)
        return rc;
    d->keys[d->n] = bits;
    memcpy(d->plain.ptr + d->plain.size, &bits, (size_t)d->width); /* little-endian host */
    d->plain.size += (size_t)d->width;
    d->slots[s] = ++d->n;
    *idx_out = d->n - 1;
    return 0;
}

int pond_pqw__dict_put_bytes(pqw_dict *d, const void *p, uint32_t len, uint32_t *idx_out)
{
    int rc;
    if ((d->n + 1) * 2 > d->cap && (rc = dict_grow(d)) < 0)
        return rc;
    uint32_t h = hash_bytes(p, len);
    uint32_t mask = d->cap - 1, s = h & mask;
    for (;;) {
        uint32_t e = d->slots[s];
        if (!e)
            break;
        uint32_t i = e - 1;
        if (d->hashes[i] == h) {
            const char *q = d->plain.ptr + d->offs[i];
            uint32_t qlen;
            if (d->width)
                qlen = (uint32_t)d->width;
            else
                memcpy(&qlen, q - 4, 4);
            if (qlen == len && bytes_equal(q, p, len)) {
                *idx_out = i;
                return 0;
            }
        }
        s = (s + 1) & mask;
    }
    if ((rc = dict_grow_entries(d)) < 0 || (rc = pond_pqw__reserve(&d->plain, (size_t)len + 4)) < 0)
        return rc;
    if (!d->width) {
        memcpy(d->plain.ptr + d->plain.size, &len, 4);
        d->plain.size += 4;
    }
    d->hashes[d->n] = h;
    d->offs[d->n] = d->plain.size;
    if (len)
        memcpy(d->plain.ptr + d->plain.size, p, len);
    d->plain.size += len;
    d->slots[s] = ++d->n;
    *idx_out = d->n - 1;
    return 0;
}

/* ---------------------------------------------------------------- compression */

struct pqw_codec {
    int codec;
    int level;
    ZSTD_CCtx *zstd;
    z_stream z;
    bool z_init;
};

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    size_t n;
    if (pond_mul_overflow(&n, items, size))
        return NULL;
    return pond_malloc(n);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    pond_free(p);
}

int pond_pqw__codec_new(pqw_codec **out, int codec, int level)
{
    *out = NULL;
    pqw_codec *c = pond_calloc(1, sizeof *c);
    if (!c)
        return POND_ENOMEM;
    c->codec = codec;
    c->level = level;
    switch (codec) {
    case PQ_CODEC_UNCOMPRESSED:
    case PQ_CODEC_SNAPPY:
    case PQ_CODEC_LZ4_RAW:
        break;
    case PQ_CODEC_ZSTD:
        if (!c->level)
            c->level = 3;
        c->zstd = ZSTD_createCCtx();
        if (!c->zstd) {
            pond_free(c);
            return pond_error_set(POND_ENOMEM, POND_DOM_PARQUET, "zstd: cannot create context");
        }
        break;
    case PQ_CODEC_GZIP:
        if (!c->level)
            c->level = 6;
        c->z.zalloc = z_alloc;
        c->z.zfree = z_free;
        if (deflateInit2(&c->z, c->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            pond_free(c);
            return pond_error_set(POND_ENOMEM, POND_DOM_PARQUET, "gzip: cannot initialise");
        }
        c->z_init = true;
        break;
    default:
        pond_free(c);
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                              "parquet writer: unsupported compression codec %d", codec);
    }
    *out = c;
    return 0;
}

void pond_pqw__codec_free(pqw_codec *c)
{
    if (!c)
        return;
    if (c->zstd)
        ZSTD_freeCCtx(c->zstd);
    if (c->z_init)
        deflateEnd(&c->z);
    pond_free(c);
}

int pond_pqw__codec_compress(pqw_codec *c, pond_buf *out, const void *in, size_t n)
{
    int rc;
    out->size = 0;
    switch (c->codec) {
    case PQ_CODEC_UNCOMPRESSED:
        if ((rc = pond_pqw__reserve(out, n)) < 0)
            return rc;
        if (n)
            memcpy(out->ptr, in, n);
        out->size = n;
        return 0;
    case PQ_CODEC_ZSTD: {
        size_t bound = ZSTD_compressBound(n);
        if ((rc = pond_pqw__reserve(out, bound)) < 0)
            return rc;
        size_t r = ZSTD_compressCCtx(c->zstd, out->ptr, bound, in, n, c->level);
        if (ZSTD_isError(r))
            return pond_error_set(POND_ERROR, POND_DOM_PARQUET, "zstd: %s", ZSTD_getErrorName(r));
        out->size = r;
        return 0;
    }
    case PQ_CODEC_SNAPPY: {
        size_t bound = snappy_max_compressed_length(n), len = bound;
        if ((rc = pond_pqw__reserve(out, bound)) < 0)
            return rc;
        if (snappy_compress(in, n, out->ptr, &len) != SNAPPY_OK)
            return pond_error_set(POND_ERROR, POND_DOM_PARQUET, "snappy: compression failed");
        out->size = len;
        return 0;
    }
    case PQ_CODEC_LZ4_RAW: {
        if (n > (size_t)LZ4_MAX_INPUT_SIZE)
            return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "lz4: page too large (%zu)", n);
        int bound = LZ4_compressBound((int)n);
        if ((rc = pond_pqw__reserve(out, (size_t)bound)) < 0)
            return rc;
        int r = LZ4_compress_default(in, out->ptr, (int)n, bound);
        if (r <= 0 && n > 0)
            return pond_error_set(POND_ERROR, POND_DOM_PARQUET, "lz4: compression failed");
        out->size = (size_t)(r > 0 ? r : 0);
        if (n == 0) {
            /* LZ4 encodes an empty block as one token byte. */
            out->ptr[0] = 0;
            out->size = 1;
        }
        return 0;
    }
    case PQ_CODEC_GZIP: {
        if (n > UINT32_MAX / 2)
            return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "gzip: page too large (%zu)", n);
        size_t bound = deflateBound(&c->z, (uLong)n) + 32;
        if ((rc = pond_pqw__reserve(out, bound)) < 0)
            return rc;
        if (deflateReset(&c->z) != Z_OK)
            return pond_error_set(POND_ERROR, POND_DOM_PARQUET, "gzip: reset failed");
        c->z.next_in = (Bytef *)(uintptr_t)in;
        c->z.avail_in = (uInt)n;
        c->z.next_out = (Bytef *)out->ptr;
        c->z.avail_out = (uInt)bound;
        int zr = deflate(&c->z, Z_FINISH);
        if (zr != Z_STREAM_END)
            return pond_error_set(zr == Z_MEM_ERROR ? POND_ENOMEM : POND_ERROR, POND_DOM_PARQUET,
                                  "gzip: deflate returned %d", zr);
        out->size = bound - c->z.avail_out;
        return 0;
    }
    default:
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET, "unsupported codec %d",
                              c->codec);
    }
}

uint32_t pond_pqw__crc32(const void *p, size_t n) { return pond_pq_crc32(0, p, n); }
