/* Parquet encodings: RLE/bit-packed hybrid, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
 * DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT and PLAIN byte arrays. */
#include "parquet/pq_encoding.h"

#include "util/util.h"

#include <string.h>

static int enc_error(const char *what, const char *why)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "%s: %s", what, why);
}

static inline uint64_t load64(const uint8_t *src, size_t src_len, size_t byte)
{
    uint64_t v = 0;
    if (byte + 8 <= src_len) {
        memcpy(&v, src + byte, 8);
    } else {
        for (size_t i = 0; byte + i < src_len && i < 8; i++)
            v |= (uint64_t)src[byte + i] << (8 * i);
    }
    return v;
}

void pond_pq_unpack32(const uint8_t *src, size_t src_len, int bw, uint32_t *out, size_t n)
{
    if (bw == 0) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    const uint64_t mask = bw >= 32 ? 0xffffffffu : ((1u << bw) - 1);
    size_t i = 0;
    /* fast path: every 8-byte load stays inside the buffer */
    size_t safe = src_len >= 8 ? ((src_len - 8) * 8) / (size_t)bw : 0;
    if (safe > n)
        safe = n;
    for (size_t bit = 0; i < safe; i++, bit += (size_t)bw) {
        uint64_t v;
        memcpy(&v, src + (bit >> 3), 8);
        out[i] = (uint32_t)((v >> (bit & 7)) & mask);
    }
    for (size_t bit = i * (size_t)bw; i < n; i++, bit += (size_t)bw)
        out[i] = (uint32_t)((load64(src, src_len, bit >> 3) >> (bit & 7)) & mask);
}

void pond_pq_unpack64(const uint8_t *src, size_t src_len, int bw, uint64_t *out, size_t n)
{
    if (bw == 0) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    const uint64_t mask = bw >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bw) - 1);
    for (size_t i = 0, bit = 0; i < n; i++, bit += (size_t)bw) {
        size_t byte = bit >> 3;
        unsigned sh = bit & 7;
        uint64_t v = load64(src, src_len, byte) >> sh;
        if (sh + (unsigned)bw > 64) {
            uint64_t hi = byte + 8 < src_len ? src[byte + 8] : 0;
            v |= hi << (64 - sh);
        }
        out[i] = v & mask;
    }
}

void pond_pq_pack64(uint8_t *dst, int bw, const uint64_t *in, size_t n)
{
    for (size_t i = 0, bit = 0; i < n; i++, bit += (size_t)bw)
        for (int b = 0; b < bw; b++)
            if ((in[i] >> b) & 1)
                dst[(bit + (size_t)b) >> 3] |= (uint8_t)(1u << ((bit + (size_t)b) & 7));
}

int pond_pq_uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *out, const char *what)
{
    uint64_t v = 0;
    const uint8_t *p = *pp;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= end)
            return enc_error(what, "truncated varint");
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            *pp = p;
            return 0;
        }
    }
    return enc_error(what, "varint too long");
}

/* ---------------------------------------------------------------- RLE hybrid */

void pond_pq_rle_init(pq_rle *r, const uint8_t *p, size_t len, int bw, const char *what)
{
    memset(r, 0, sizeof *r);
    r->p = p;
    r->end = p + len;
    r->bw = bw;
    r->what = what;
}

static int rle_next_run(pq_rle *r)
{
    uint64_t h = 0;
    int rc = pond_pq_uvarint(&r->p, r->end, &h, r->what);
    if (rc < 0)
        return rc;
    if (h & 1) {
        uint64_t groups = h >> 1;
        size_t bytes = (size_t)((groups * (uint64_t)r->bw));
        if (groups == 0 || groups > (1u << 28))
            return enc_error(r->what, "bad bit-packed run length");
        /* a final run may be cut short: accept what remains (values past it are an error) */
        size_t avail = (size_t)(r->end - r->p);
        if (bytes > avail)
            bytes = avail;
        r->bp = r->p;
        r->bp_bytes = bytes;
        r->bp_pos = 0;
        uint64_t vals = r->bw ? (uint64_t)bytes * 8 / (uint64_t)r->bw : groups * 8;
        if (vals > groups * 8)
            vals = groups * 8;
        r->bp_left = (uint32_t)vals;
        r->p += bytes;
        if (r->bp_left == 0)
            return enc_error(r->what, "empty bit-packed run");
    } else {
        uint64_t count = h >> 1;
        if (count == 0 || count > UINT32_MAX)
            return enc_error(r->what, "bad rle run length");
        size_t vb = ((size_t)r->bw + 7) / 8;
        if ((size_t)(r->end - r->p) < vb)
            return enc_error(r->what, "truncated rle run value");
        uint32_t v = 0;
        for (size_t i = 0; i < vb; i++)
            v |= (uint32_t)r->p[i] << (8 * i);
        r->p += vb;
        if (r->bw < 32 && (v >> r->bw))
            return enc_error(r->what, "rle value wider than the bit width");
        r->rle_value = v;
        r->rle_left = (uint32_t)count;
    }
    return 0;
}

int pond_pq_rle_get(pq_rle *r, uint32_t *out, size_t n)
{
    while (n > 0) {
        if (r->rle_left) {
            size_t k = r->rle_left < n ? r->rle_left : n;
            uint32_t v = r->rle_value;
            for (size_t i = 0; i < k; i++)
                out[i] = v;
            out += k;
            n -= k;
            r->rle_left -= (uint32_t)k;
        } else if (r->bp_left) {
            size_t k = r->bp_left < n ? r->bp_left : n;
            if (r->bp_pos == 0 && k == r->bp_left) {
                pond_pq_unpack32(r->bp, r->bp_bytes, r->bw, out, k);
            } else {
                /* unpack from the middle of a run: offset the source by whole bytes */
                size_t bit = r->bp_pos * (size_t)r->bw;
                size_t byte = bit >> 3;
                if ((bit & 7) == 0) {
                    pond_pq_unpack32(r->bp + byte, r->bp_bytes - byte, r->bw, out, k);
                } else {
                    for (size_t i = 0; i < k; i++, bit += (size_t)r->bw) {
                        uint64_t v = load64(r->bp, r->bp_bytes, bit >> 3) >> (bit & 7);
                        out[i] = (uint32_t)(v & (r->bw >= 32 ? 0xffffffffu : ((1u << r->bw) - 1)));
                    }
                }
            }
            r->bp_pos += k;
            r->bp_left -= (uint32_t)k;
            out += k;
            n -= k;
        } else {
            if (r->p >= r->end)
                return enc_error(r->what, "rle data ends before all values were decoded");
            int rc = rle_next_run(r);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int pond_pq_rle_get_levels(pq_rle *r, int16_t *out, size_t n, int max_level)
{
    uint32_t tmp[1024];
    while (n > 0) {
        /* fast path: a long RLE run fills directly */
        if (r->rle_left) {
            size_t k = r->rle_left < n ? r->rle_left : n;
            if (r->rle_value > (uint32_t)max_level)
                return enc_error(r->what, "level above the column's maximum");
            int16_t v = (int16_t)r->rle_value;
            for (size_t i = 0; i < k; i++)
                out[i] = v;
            if (r->rle_value == (uint32_t)max_level)
                r->max_count += k;
            r->rle_left -= (uint32_t)k;
            out += k;
            n -= k;
            continue;
        }
        size_t k = n < 1024 ? n : 1024;
        if (r->bp_left && r->bp_left < k)
            k = r->bp_left;
        if (!r->bp_left && !r->rle_left) {
            if (r->p >= r->end)
                return enc_error(r->what, "level data ends before all levels were decoded");
            int rc = rle_next_run(r);
            if (rc < 0)
                return rc;
            continue;
        }
        int rc = pond_pq_rle_get(r, tmp, k);
        if (rc < 0)
            return rc;
        size_t at_max = 0;
        for (size_t i = 0; i < k; i++) {
            if (tmp[i] > (uint32_t)max_level)
                return enc_error(r->what, "level above the column's maximum");
            at_max += tmp[i] == (uint32_t)max_level;
            out[i] = (int16_t)tmp[i];
        }
        r->max_count += at_max;
        out += k;
        n -= k;
    }
    return 0;
}

/* ---------------------------------------------------------------- DELTA_BINARY_PACKED */

typedef struct {
    uint64_t block_size, miniblocks, total;
    int64_t first;
} delta_header;

static int delta_read_header(delta_header *h, const uint8_t **p, const uint8_t *end,
                             const char *what)
{
    uint64_t z = 0;
    int rc;
    if ((rc = pond_pq_uvarint(p, end, &h->block_size, what)) < 0 ||
        (rc = pond_pq_uvarint(p, end, &h->miniblocks, what)) < 0 ||
        (rc = pond_pq_uvarint(p, end, &h->total, what)) < 0 ||
        (rc = pond_pq_uvarint(p, end, &z, what)) < 0)
        return rc;
    h->first = (int64_t)((z >> 1) ^ (~(z & 1) + 1));
    if (h->block_size == 0 || h->block_size % 128 != 0 || h->block_size > (1u << 16) ||
        h->miniblocks == 0 || h->block_size % h->miniblocks != 0 ||
        (h->block_size / h->miniblocks) % 32 != 0)
        return enc_error(what, "bad delta block header");
    if (h->total > ((uint64_t)1 << 31))
        return enc_error(what, "delta value count too large");
    return 0;
}

int pond_pq_delta_count(const uint8_t *p, size_t len, size_t *n_out, const char *what)
{
    delta_header h;
    int rc = delta_read_header(&h, &p, p + len, what);
    if (rc < 0)
        return rc;
    *n_out = (size_t)h.total;
    return 0;
}

/* One miniblock's want values of bw bits at p (avail bytes readable from p) added to prev
 * and stored as out_width-byte integers. The common widths take one unaligned 8-byte load per
 * value and add as they unpack (this is the hot loop of every series read). */
static inline void delta_mini(void *out, int out_width, size_t got, const uint8_t *p, size_t avail,
                              int bw, size_t want, uint64_t min_delta, uint64_t *prev_io)
{
    uint64_t prev = *prev_io;
    int64_t *o64 = (int64_t *)out + got;
    int32_t *o32 = (int32_t *)out + got;
#define DELTA_STORE(i)                                                                             \
    do {                                                                                           \
        if (out_width == 8)                                                                        \
            o64[i] = (int64_t)prev;                                                                \
        else                                                                                       \
            o32[i] = (int32_t)(uint32_t)prev;                                                      \
    } while (0)
    if (bw == 0) {
        for (size_t i = 0; i < want; i++) {
            prev += min_delta;
            DELTA_STORE(i);
        }
    } else if (bw <= 56 && ((want - 1) * (size_t)bw) / 8 + 8 <= avail) {
        const uint64_t mask = ((uint64_t)1 << bw) - 1;
        for (size_t i = 0, bit = 0; i < want; i++, bit += (size_t)bw) {
            uint64_t v;
            memcpy(&v, p + (bit >> 3), 8);
            prev += min_delta + ((v >> (bit & 7)) & mask);
            DELTA_STORE(i);
        }
    } else {
        uint64_t tmp[64];
        for (size_t done = 0; done < want;) {
            size_t k = want - done < 64 ? want - done : 64;
            /* done is a multiple of 64, so the bit offset is byte-aligned */
            size_t byte = done * (size_t)bw / 8;
            pond_pq_unpack64(p + byte, avail - byte, bw, tmp, k);
            for (size_t i = 0; i < k; i++) {
                prev += min_delta + tmp[i];
                DELTA_STORE(done + i);
            }
            done += k;
        }
    }
#undef DELTA_STORE
    *prev_io = prev;
}

static int delta_decode(const uint8_t *start, size_t len, void *out, int out_width, size_t cap,
                        size_t *n_out, size_t *used_out, const char *what)
{
    const uint8_t *p = start, *end = start + len;
    delta_header h;
    int rc = delta_read_header(&h, &p, end, what);
    if (rc < 0)
        return rc;
    if (h.total > cap)
        return enc_error(what, "more delta values than the page holds");
    size_t n = (size_t)h.total;
    *n_out = n;
    if (n == 0) {
        *used_out = (size_t)(p - start);
        return 0;
    }
    if (out_width == 8)
        ((int64_t *)out)[0] = h.first;
    else
        ((int32_t *)out)[0] = (int32_t)(uint32_t)(uint64_t)h.first;
    size_t got = 1;
    uint64_t prev = (uint64_t)h.first;
    size_t per_mini = (size_t)(h.block_size / h.miniblocks);
    while (got < n) {
        uint64_t z = 0;
        if ((rc = pond_pq_uvarint(&p, end, &z, what)) < 0)
            return rc;
        uint64_t min_delta = (z >> 1) ^ (~(z & 1) + 1);
        if ((uint64_t)(end - p) < h.miniblocks)
            return enc_error(what, "truncated delta bit widths");
        const uint8_t *widths = p;
        p += h.miniblocks;
        for (uint64_t m = 0; m < h.miniblocks && got < n; m++) {
            int bw = widths[m];
            if (bw > 64)
                return enc_error(what, "delta bit width above 64");
            size_t bytes = per_mini * (size_t)bw / 8;
            size_t avail = (size_t)(end - p);
            size_t want = n - got < per_mini ? n - got : per_mini;
            if (bytes > avail) {
                /* the last miniblock may be cut short as long as the needed values are there */
                if ((want * (size_t)bw + 7) / 8 > avail)
                    return enc_error(what, "truncated delta miniblock");
                bytes = avail;
            }
            delta_mini(out, out_width, got, p, avail, bw, want, min_delta, &prev);
            got += want;
            p += bytes;
        }
    }
    *used_out = (size_t)(p - start);
    return 0;
}

int pond_pq_delta_decode(const uint8_t *start, size_t len, int64_t *out, size_t cap, size_t *n_out,
                         size_t *used_out, const char *what)
{
    return delta_decode(start, len, out, 8, cap, n_out, used_out, what);
}

int pond_pq_delta_decode32(const uint8_t *start, size_t len, int32_t *out, size_t cap,
                           size_t *n_out, size_t *used_out, const char *what)
{
    return delta_decode(start, len, out, 4, cap, n_out, used_out, what);
}

/* ---------------------------------------------------------------- byte arrays */

static int last_offset(pq_bytes_out *out, int32_t *last)
{
    if (out->offsets.size == 0) {
        int32_t z = 0;
        int rc = pond_buf_put(&out->offsets, &z, 4);
        if (rc < 0)
            return rc;
    }
    memcpy(last, out->offsets.ptr + out->offsets.size - 4, 4);
    return 0;
}

static int check_data_cap(size_t have, size_t add, size_t max_data, const char *what)
{
    if (add > max_data || have > max_data - add)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                              "%s: byte array data exceeds the %zu-byte limit of one column chunk",
                              what, max_data);
    return 0;
}

int pond_pq_plain_byte_arrays(pq_bytes_out *out, const uint8_t *p, size_t len, size_t n,
                              size_t *used_out, size_t max_data, const char *what)
{
    int32_t off;
    int rc = last_offset(out, &off);
    if (rc < 0)
        return rc;
    /* first pass: validate and size */
    size_t pos = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        if (len - pos < 4)
            return enc_error(what, "truncated byte array length");
        uint32_t l;
        memcpy(&l, p + pos, 4);
        pos += 4;
        if (l > len - pos)
            return enc_error(what, "byte array length exceeds the page");
        pos += l;
        total += l;
    }
    if ((rc = check_data_cap(out->data.size, total, max_data, what)) < 0)
        return rc;
    if ((rc = pond_buf_grow(&out->data, out->data.size + total)) < 0 ||
        (rc = pond_buf_grow(&out->offsets, out->offsets.size + 4 * n)) < 0)
        return rc;
    uint8_t *d = (uint8_t *)out->data.ptr + out->data.size;
    int32_t *o = (int32_t *)(void *)(out->offsets.ptr + out->offsets.size);
    pos = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t l;
        memcpy(&l, p + pos, 4);
        memcpy(d, p + pos + 4, l);
        d += l;
        pos += 4 + l;
        off += (int32_t)l;
        o[i] = off;
    }
    out->data.size += total;
    out->offsets.size += 4 * n;
    *used_out = pos;
    return 0;
}

int pond_pq_delta_length_byte_arrays(pq_bytes_out *out, const uint8_t *p, size_t len, size_t n,
                                     size_t max_data, const char *what)
{
    size_t cnt, used;
    int rc = pond_pq_delta_count(p, len, &cnt, what);
    if (rc < 0)
        return rc;
    if (cnt != n)
        return enc_error(what, "length count differs from the value count");
    int64_t *lens = pond_malloc((cnt ? cnt : 1) * sizeof *lens);
    if (!lens)
        return POND_ENOMEM;
    if ((rc = pond_pq_delta_decode(p, len, lens, cnt, &cnt, &used, what)) < 0)
        goto done;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] < 0 || (uint64_t)lens[i] > len - used - total) {
            rc = enc_error(what, "byte array length exceeds the page");
            goto done;
        }
        total += (size_t)lens[i];
    }
    int32_t off;
    if ((rc = check_data_cap(out->data.size, total, max_data, what)) < 0 ||
        (rc = last_offset(out, &off)) < 0 ||
        (rc = pond_buf_grow(&out->offsets, out->offsets.size + 4 * n)) < 0 ||
        (rc = pond_buf_put(&out->data, p + used, total)) < 0)
        goto done;
    int32_t *o = (int32_t *)(void *)(out->offsets.ptr + out->offsets.size);
    for (size_t i = 0; i < n; i++) {
        off += (int32_t)lens[i];
        o[i] = off;
    }
    out->offsets.size += 4 * n;
done:
    pond_free(lens);
    return rc;
}

int pond_pq_delta_byte_arrays(pq_bytes_out *out, const uint8_t *p, size_t len, size_t n,
                              size_t max_data, const char *what)
{
    size_t np, ns, used1, used2;
    int rc = pond_pq_delta_count(p, len, &np, what);
    if (rc < 0)
        return rc;
    if (np != n)
        return enc_error(what, "prefix length count differs from the value count");
    int64_t *pre = pond_malloc((np ? np : 1) * sizeof *pre);
    int64_t *suf = NULL;
    if (!pre)
        return POND_ENOMEM;
    if ((rc = pond_pq_delta_decode(p, len, pre, np, &np, &used1, what)) < 0)
        goto done;
    if ((rc = pond_pq_delta_count(p + used1, len - used1, &ns, what)) < 0)
        goto done;
    if (ns != n) {
        rc = enc_error(what, "suffix length count differs from the value count");
        goto done;
    }
    if (!(suf = pond_malloc((ns ? ns : 1) * sizeof *suf))) {
        rc = POND_ENOMEM;
        goto done;
    }
    if ((rc = pond_pq_delta_decode(p + used1, len - used1, suf, ns, &ns, &used2, what)) < 0)
        goto done;
    const uint8_t *s = p + used1 + used2;
    size_t left = len - used1 - used2;
    int32_t off;
    if ((rc = last_offset(out, &off)) < 0 ||
        (rc = pond_buf_grow(&out->offsets, out->offsets.size + 4 * n)) < 0)
        goto done;
    size_t prev_start = out->data.size, prev_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (pre[i] < 0 || suf[i] < 0 || (uint64_t)pre[i] > prev_len || (uint64_t)suf[i] > left) {
            rc = enc_error(what, "bad prefix or suffix length");
            goto done;
        }
        size_t pl = (size_t)pre[i], sl = (size_t)suf[i];
        if ((rc = check_data_cap(out->data.size, pl + sl, max_data, what)) < 0 ||
            (rc = pond_buf_grow(&out->data, out->data.size + pl + sl)) < 0)
            goto done;
        size_t start = out->data.size;
        memmove(out->data.ptr + start, out->data.ptr + prev_start, pl);
        memcpy(out->data.ptr + start + pl, s, sl);
        out->data.size += pl + sl;
        s += sl;
        left -= sl;
        prev_start = start;
        prev_len = pl + sl;
        off += (int32_t)(pl + sl);
        memcpy(out->offsets.ptr + out->offsets.size, &off, 4);
        out->offsets.size += 4;
    }
done:
    pond_free(pre);
    pond_free(suf);
    return rc;
}

int pond_pq_byte_stream_split(uint8_t *out, const uint8_t *p, size_t len, size_t n, size_t w,
                              const char *what)
{
    if (w == 0 || len / w < n)
        return enc_error(what, "byte stream split data shorter than the values");
    /* stream k holds byte k of every value: w streams of n bytes */
    size_t stride = n;
    if (w == 8 || w == 4) {
        /* gather one value from the w streams at a time: sequential reads and writes */
        for (size_t i = 0; i < n; i++) {
            uint64_t v = 0;
            for (size_t k = 0; k < w; k++)
                v |= (uint64_t)p[k * stride + i] << (8 * k);
            memcpy(out + i * w, &v, w); /* little-endian host */
        }
        return 0;
    }
    for (size_t k = 0; k < w; k++) {
        const uint8_t *s = p + k * stride;
        for (size_t i = 0; i < n; i++)
            out[i * w + k] = s[i];
    }
    return 0;
}
