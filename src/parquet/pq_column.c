/* Column chunk reader: page headers, CRCs, codecs, levels, dictionaries and value encodings. */
#include "parquet/pq_column.h"
#include "parquet/pq_codec.h"
#include "parquet/pq_crc.h"

#include "util/util.h"

#include <inttypes.h>
#include <string.h>

typedef struct {
    const pq_leaf_desc *leaf;
    const pq_chunk_opts *o;
    pq_chunk *c;
    int codec;
    bool has_dict;
    int64_t dict_n;
    uint8_t *dict_values;    /* fixed-width dictionary entries */
    pq_bytes_out dict_bytes; /* BYTE_ARRAY dictionary entries */
    size_t dict_max_len;     /* longest BYTE_ARRAY dictionary entry */
    pq_scratch *s;           /* decompression buffer, dictionary indices, chunk bytes */
    pq_scratch own;
    int64_t page_off; /* file offset of the current page header */
} chunk_ctx;

static int corrupt(chunk_ctx *x, const char *msg)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "page at offset %" PRId64 ": %s",
                          x->page_off, msg);
}

static int too_big(chunk_ctx *x, const char *what, uint64_t n)
{
    return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                          "page at offset %" PRId64 ": %s of %" PRIu64
                          " bytes exceeds the reader's limit of %zu bytes",
                          x->page_off, what, n, x->o->max_bytes);
}

static int grow(chunk_ctx *x, pond_bufcache *cache, void **p, size_t *cap, size_t need,
                const char *what)
{
    if (need <= *cap)
        return 0;
    if (need > x->o->max_bytes)
        return too_big(x, what, need);
    size_t n = *cap ? *cap : need;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    if (n > x->o->max_bytes)
        n = need;
    if (!*p) {
        if (!(*p = pond__bufcache_take(cache, n, cap)))
            return POND_ENOMEM;
        return 0;
    }
    void *q = pond_realloc(*p, n);
    if (!q)
        return POND_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static int bit_width_of(int max)
{
    int bw = 0;
    while (max >> bw)
        bw++;
    return bw;
}

/* ---------------------------------------------------------------- levels */

/* Decodes n levels; *at_max gets how many equal max (the defined values, for def levels). */
static int read_levels(int16_t *out, const uint8_t *p, size_t len, size_t n, int max,
                       const char *what, size_t *at_max)
{
    pq_rle r;
    pond_pq_rle_init(&r, p, len, bit_width_of(max), what);
    int rc = pond_pq_rle_get_levels(&r, out, n, max);
    *at_max = r.max_count;
    return rc;
}

static int reserve_levels(chunk_ctx *x, size_t n)
{
    pq_chunk *c = x->c;
    size_t need;
    if (pond_add_overflow(&need, (size_t)c->n_levels, n) || need > x->o->max_bytes / 2)
        return too_big(x, "level data", (uint64_t)c->n_levels + n);
    if (need <= c->levels_cap)
        return 0;
    size_t cap = c->levels_cap ? c->levels_cap : need;
    while (cap < need)
        cap *= 2;
    if (cap > x->o->max_bytes / 2)
        cap = need;
    if (x->leaf->max_def > 0) {
        int16_t *d = pond_realloc(c->def, cap * sizeof *d);
        if (!d)
            return POND_ENOMEM;
        c->def = d;
    }
    if (x->leaf->max_rep > 0) {
        int16_t *r = pond_realloc(c->rep, cap * sizeof *r);
        if (!r)
            return POND_ENOMEM;
        c->rep = r;
    }
    c->levels_cap = cap;
    return 0;
}

/* ---------------------------------------------------------------- values */

static int reserve_values(chunk_ctx *x, size_t nn)
{
    pq_chunk *c = x->c;
    size_t w = x->leaf->width, need;
    if (w == 0)
        return 0;
    if (pond_mul_overflow(&need, (size_t)c->n_values + nn, w))
        return too_big(x, "values", UINT64_MAX);
    return grow(x, c->cache, (void **)&c->values, &c->values_cap, need, "decoded values");
}

static int decode_plain_fixed(chunk_ctx *x, uint8_t *dst, const uint8_t *p, size_t len, size_t nn)
{
    const pq_leaf_desc *l = x->leaf;
    if (l->physical == PQ_BOOLEAN) {
        if ((nn + 7) / 8 > len)
            return corrupt(x, "plain booleans shorter than the value count");
        for (size_t i = 0; i < nn; i++)
            dst[i] = (p[i >> 3] >> (i & 7)) & 1;
        return 0;
    }
    if (len / l->width < nn)
        return corrupt(x, "plain values shorter than the value count");
    if (nn)
        memcpy(dst, p, nn * l->width);
    return 0;
}

static int ensure_idx(chunk_ctx *x, size_t nn)
{
    size_t bytes = x->s->idx_cap * sizeof *x->s->idx;
    if (nn <= x->s->idx_cap)
        return 0;
    int rc =
        grow(x, NULL, (void **)&x->s->idx, &bytes, nn * sizeof *x->s->idx, "dictionary indices");
    if (rc == 0)
        x->s->idx_cap = bytes / sizeof *x->s->idx;
    return rc;
}

static int decode_dict_indices(chunk_ctx *x, const uint8_t *p, size_t len, size_t nn)
{
    pq_chunk *c = x->c;
    int rc;
    if (!x->has_dict)
        return corrupt(x, "dictionary-encoded page without a dictionary page");
    if (nn == 0)
        return 0;
    if (len < 1)
        return corrupt(x, "dictionary page data is empty");
    int bw = p[0];
    if (bw > 32)
        return corrupt(x, "dictionary index bit width above 32");
    if ((rc = ensure_idx(x, nn)) < 0)
        return rc;
    pq_rle r;
    pond_pq_rle_init(&r, p + 1, len - 1, bw, "dictionary indices");
    if ((rc = pond_pq_rle_get(&r, x->s->idx, nn)) < 0)
        return rc;
    uint32_t dn = (uint32_t)x->dict_n, mx = 0;
    const uint32_t *idx = x->s->idx;
    for (size_t i = 0; i < nn; i++) /* a branch-free max (vectorised) */
        mx = idx[i] > mx ? idx[i] : mx;
    if (mx >= dn)
        return corrupt(x, "dictionary index out of range");
    if (x->leaf->physical == PQ_BYTE_ARRAY) {
        const int32_t *doff = (const int32_t *)(void *)x->dict_bytes.offsets.ptr;
        const char *dd = x->dict_bytes.data.ptr;
        size_t total = 0;
        for (size_t i = 0; i < nn; i++)
            total += (size_t)(doff[idx[i] + 1] - doff[idx[i]]);
        pq_bytes_out *b = &c->bytes;
        if (total > x->o->max_bytes || b->data.size > x->o->max_bytes - total ||
            b->data.size + total > INT32_MAX)
            return too_big(x, "byte array data", b->data.size + total);
        if ((rc = pond_buf_grow(&b->data, b->data.size + total + 16)) < 0 ||
            (rc = pond_buf_grow(&b->offsets, b->offsets.size + 4 * nn)) < 0)
            return rc;
        int32_t off;
        memcpy(&off, b->offsets.ptr + b->offsets.size - 4, 4);
        char *w = b->data.ptr + b->data.size;
        int32_t *o = (int32_t *)(void *)(b->offsets.ptr + b->offsets.size);
        if (x->dict_max_len <= 16) {
            /* short entries: fixed 16-byte copies (both buffers have 16 bytes of slack) */
            for (size_t i = 0; i < nn; i++) {
                int32_t s = doff[idx[i]], l = doff[idx[i] + 1] - s;
                memcpy(w, dd + s, 16);
                w += l;
                off += l;
                o[i] = off;
            }
        } else {
            for (size_t i = 0; i < nn; i++) {
                int32_t s = doff[idx[i]], l = doff[idx[i] + 1] - s;
                if (l)
                    memcpy(w, dd + s, (size_t)l);
                w += l;
                off += l;
                o[i] = off;
            }
        }
        b->data.size += total;
        b->offsets.size += 4 * nn;
        return 0;
    }
    size_t wd = x->leaf->width;
    uint8_t *dst = c->values + (size_t)c->n_values * wd;
    if (wd == 8) {
        const uint64_t *dv = (const uint64_t *)(void *)x->dict_values;
        uint64_t *o = (uint64_t *)(void *)dst;
        for (size_t i = 0; i < nn; i++)
            o[i] = dv[idx[i]];
    } else if (wd == 4) {
        const uint32_t *dv = (const uint32_t *)(void *)x->dict_values;
        uint32_t *o = (uint32_t *)(void *)dst;
        for (size_t i = 0; i < nn; i++)
            o[i] = dv[idx[i]];
    } else {
        for (size_t i = 0; i < nn; i++)
            memcpy(dst + i * wd, x->dict_values + (size_t)idx[i] * wd, wd);
    }
    return 0;
}

static int decode_delta_ints(chunk_ctx *x, uint8_t *dst, const uint8_t *p, size_t len, size_t nn)
{
    const pq_leaf_desc *l = x->leaf;
    size_t n, used;
    int rc;
    if (l->physical != PQ_INT32 && l->physical != PQ_INT64)
        return corrupt(x, "DELTA_BINARY_PACKED on a non-integer column");
    if (l->physical == PQ_INT64) {
        if ((rc = pond_pq_delta_decode(p, len, (int64_t *)(void *)dst, nn, &n, &used,
                                       "delta binary packed")) < 0)
            return rc;
    } else if ((rc = pond_pq_delta_decode32(p, len, (int32_t *)(void *)dst, nn, &n, &used,
                                            "delta binary packed")) < 0) {
        return rc;
    }
    if (n != nn)
        return corrupt(x, "delta value count differs from the page's value count");
    return 0;
}

static int decode_values(chunk_ctx *x, int enc, const uint8_t *p, size_t len, size_t nn,
                         bool is_dict_page)
{
    const pq_leaf_desc *l = x->leaf;
    pq_chunk *c = x->c;
    int rc;
    size_t used;
    if (is_dict_page) {
        /* dictionary pages are PLAIN */
        if (l->physical == PQ_BYTE_ARRAY)
            return pond_pq_plain_byte_arrays(&x->dict_bytes, p, len, nn, &used, x->o->max_bytes,
                                             "dictionary page");
        if (l->physical == PQ_BOOLEAN)
            return corrupt(x, "dictionary page for a boolean column");
        if (len / l->width < nn)
            return corrupt(x, "dictionary page shorter than its value count");
        memcpy(x->dict_values, p, nn * l->width);
        return 0;
    }
    if ((rc = reserve_values(x, nn)) < 0)
        return rc;
    uint8_t *dst = l->width ? c->values + (size_t)c->n_values * l->width : NULL;
    switch (enc) {
    case PQ_ENC_PLAIN:
        if (l->physical == PQ_BYTE_ARRAY)
            return pond_pq_plain_byte_arrays(&c->bytes, p, len, nn, &used,
                                             POND_MIN(x->o->max_bytes, (size_t)INT32_MAX), l->path);
        return decode_plain_fixed(x, dst, p, len, nn);
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY:
        return decode_dict_indices(x, p, len, nn);
    case PQ_ENC_RLE: {
        if (l->physical != PQ_BOOLEAN)
            return corrupt(x, "RLE value encoding on a non-boolean column");
        if (len < 4)
            return corrupt(x, "truncated RLE boolean length");
        uint32_t bl;
        memcpy(&bl, p, 4);
        if (bl > len - 4)
            return corrupt(x, "RLE boolean length exceeds the page");
        if ((rc = ensure_idx(x, nn)) < 0)
            return rc;
        pq_rle r;
        pond_pq_rle_init(&r, p + 4, bl, 1, "rle booleans");
        if ((rc = pond_pq_rle_get(&r, x->s->idx, nn)) < 0)
            return rc;
        for (size_t i = 0; i < nn; i++)
            dst[i] = (uint8_t)x->s->idx[i];
        return 0;
    }
    case PQ_ENC_DELTA_BINARY_PACKED:
        return decode_delta_ints(x, dst, p, len, nn);
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        if (l->physical != PQ_BYTE_ARRAY)
            return corrupt(x, "DELTA_LENGTH_BYTE_ARRAY on a non-byte-array column");
        return pond_pq_delta_length_byte_arrays(
            &c->bytes, p, len, nn, POND_MIN(x->o->max_bytes, (size_t)INT32_MAX), l->path);
    case PQ_ENC_DELTA_BYTE_ARRAY:
        if (l->physical == PQ_BYTE_ARRAY)
            return pond_pq_delta_byte_arrays(&c->bytes, p, len, nn,
                                             POND_MIN(x->o->max_bytes, (size_t)INT32_MAX), l->path);
        if (l->physical == PQ_FIXED_LEN_BYTE_ARRAY) {
            pq_bytes_out tmp = {POND_BUF_INIT, POND_BUF_INIT};
            rc = pond_pq_delta_byte_arrays(&tmp, p, len, nn, x->o->max_bytes, l->path);
            if (rc == 0) {
                const int32_t *o = (const int32_t *)(void *)tmp.offsets.ptr;
                for (size_t i = 0; i < nn && rc == 0; i++)
                    if ((size_t)(o[i + 1] - o[i]) != l->width)
                        rc = corrupt(x, "DELTA_BYTE_ARRAY value of the wrong fixed length");
                if (rc == 0 && nn)
                    memcpy(dst, tmp.data.ptr, nn * l->width);
            }
            pond_buf_dispose(&tmp.data);
            pond_buf_dispose(&tmp.offsets);
            return rc;
        }
        return corrupt(x, "DELTA_BYTE_ARRAY on a non-byte-array column");
    case PQ_ENC_BYTE_STREAM_SPLIT:
        if (l->physical == PQ_BYTE_ARRAY || l->physical == PQ_BOOLEAN || l->physical == PQ_INT96)
            return corrupt(x, "BYTE_STREAM_SPLIT on an unsupported type");
        return pond_pq_byte_stream_split(dst, p, len, nn, l->width, "byte stream split");
    default:
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                              "page at offset %" PRId64 ": unsupported encoding %s (%d)",
                              x->page_off, pond_pq_encoding_name(enc), enc);
    }
}

/* A compressed section of 0 bytes: writers store a v2 all-null page's values (and an empty
 * page's body) as nothing at all rather than as the codec's empty stream, which every codec
 * then reads as empty. Valid only when the section declares 0 bytes. */
static int empty_section(chunk_ctx *x, size_t dst_len)
{
    if (dst_len == 0)
        return 0;
    return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                          "page at offset %" PRId64
                          ": compressed section is empty but declares %zu bytes",
                          x->page_off, dst_len);
}

static int decompress_into(chunk_ctx *x, const uint8_t *src, size_t src_len, size_t dst_len)
{
    int rc = src_len == 0 ? empty_section(x, dst_len)
                          : pond_pq_decompress_check(x->codec, src, src_len, dst_len, x->page_off);
    if (rc < 0)
        return rc;
    rc = grow(x, x->s->cache, (void **)&x->s->page, &x->s->page_cap, dst_len ? dst_len : 1, "page");
    if (rc < 0 || src_len == 0)
        return rc;
    return pond_pq_decompress_with(&x->s->codec_state, x->codec, src, src_len, x->s->page, dst_len,
                                   x->page_off);
}

/* PLAIN fixed-width values whose page section is exactly nn values: decompressed straight
 * into the chunk's value buffer (no copy through the page buffer). 1 when done, 0 when the
 * page does not qualify. */
static int direct_plain(chunk_ctx *x, int enc, const uint8_t *src, size_t src_len, size_t ulen,
                        size_t nn)
{
    const pq_leaf_desc *l = x->leaf;
    size_t bytes;
    if (enc != PQ_ENC_PLAIN || l->width == 0 || l->physical == PQ_BOOLEAN ||
        pond_mul_overflow(&bytes, nn, l->width) || bytes != ulen || ulen == 0)
        return 0;
    int rc = pond_pq_decompress_check(x->codec, src, src_len, ulen, x->page_off);
    if (rc == 0)
        rc = reserve_values(x, nn);
    if (rc == 0)
        rc = pond_pq_decompress_with(&x->s->codec_state, x->codec, src, src_len,
                                     x->c->values + (size_t)x->c->n_values * l->width, ulen,
                                     x->page_off);
    return rc < 0 ? rc : 1;
}

/* Longest level section (its 4-byte length included) direct_present decompresses in place. */
#define PRESENT_MAX_LEVELS 64

/* A v1 page of an optional flat column whose values are all present (PLAIN, fixed width): its
 * body is [u32 length][definition levels][values], and the values, all present, are its last
 * nn * width bytes. The page is decompressed where those values belong in the chunk's value
 * buffer, so they are not copied again; the few bytes in front of them (the levels) overwrite
 * the end of the previous page's values, which are saved first and put back. 1 when done; 0
 * when the page does not qualify (nothing written); 2 when its values turned out not all
 * present: the page is then in the scratch page buffer for the ordinary path. */
static int direct_present(chunk_ctx *x, int enc, const uint8_t *src, size_t src_len, size_t ulen,
                          size_t n)
{
    const pq_leaf_desc *l = x->leaf;
    pq_chunk *c = x->c;
    size_t bytes, at = (size_t)c->n_values * l->width;
    if (enc != PQ_ENC_PLAIN || l->width == 0 || l->physical == PQ_BOOLEAN || l->max_rep ||
        l->max_def == 0 || pond_mul_overflow(&bytes, n, l->width) || ulen < bytes)
        return 0;
    size_t pre = ulen - bytes;
    if (pre < 4 || pre > PRESENT_MAX_LEVELS || at < pre)
        return 0; /* the first page of a chunk has nothing in front: the ordinary path */
    int rc = pond_pq_decompress_check(x->codec, src, src_len, ulen, x->page_off);
    if (rc == 0)
        rc = reserve_values(x, n);
    if (rc < 0)
        return rc;
    uint8_t saved[PRESENT_MAX_LEVELS], head[PRESENT_MAX_LEVELS];
    uint8_t *dst = c->values + at - pre;
    memcpy(saved, dst, pre);
    rc =
        pond_pq_decompress_with(&x->s->codec_state, x->codec, src, src_len, dst, ulen, x->page_off);
    memcpy(head, dst, pre);
    memcpy(dst, saved, pre);
    if (rc < 0)
        return rc;
    uint32_t ll;
    memcpy(&ll, head, 4);
    size_t defined = 0;
    if (ll == pre - 4) {
        int16_t *def = c->def + c->n_levels;
        if ((rc = read_levels(def, head + 4, ll, n, l->max_def, "definition levels", &defined)) < 0)
            return rc;
        if (defined == n) {
            c->n_levels += (int64_t)n;
            c->n_values += (int64_t)n;
            return 1;
        }
    }
    /* some values are absent: the page as decompressed, for the ordinary path */
    if ((rc = grow(x, x->s->cache, (void **)&x->s->page, &x->s->page_cap, ulen, "page")) < 0)
        return rc;
    memcpy(x->s->page, head, pre);
    memcpy(x->s->page + pre, c->values + at, bytes);
    return 2;
}

static int data_page(chunk_ctx *x, const pq_page_header *h, const uint8_t *body, size_t blen)
{
    const pq_leaf_desc *l = x->leaf;
    pq_chunk *c = x->c;
    int rc;
    bool v2 = h->type == PQ_PAGE_DATA_V2;
    size_t defined = 0, unused = 0;
    int32_t nv = v2 ? h->data_v2.num_values : h->data.num_values;
    int enc = v2 ? h->data_v2.encoding : h->data.encoding;
    if (nv < 0)
        return corrupt(x, "negative value count");
    /* a page of no values holds nothing to decode, whatever its body (DuckDB and hyparquet
     * read such pages; an empty v1 body has not even levels); the chunk's value count still
     * catches a page whose count was lost */
    if (nv == 0)
        return 0;
    size_t n = (size_t)nv;
    if ((rc = reserve_levels(x, n)) < 0)
        return rc;
    int16_t *def = l->max_def ? c->def + c->n_levels : NULL;
    int16_t *rep = l->max_rep ? c->rep + c->n_levels : NULL;
    const uint8_t *vals;
    size_t vlen;
    if (v2) {
        const pq_data_page_header_v2 *v = &h->data_v2;
        if (v->rep_levels_byte_length < 0 || v->def_levels_byte_length < 0 ||
            (size_t)v->rep_levels_byte_length + (size_t)v->def_levels_byte_length > blen ||
            (size_t)v->rep_levels_byte_length + (size_t)v->def_levels_byte_length >
                (size_t)h->uncompressed_page_size)
            return corrupt(x, "level lengths exceed the page");
        const uint8_t *p = body;
        if (rep && (rc = read_levels(rep, p, (size_t)v->rep_levels_byte_length, n, l->max_rep,
                                     "repetition levels", &unused)) < 0)
            return rc;
        p += v->rep_levels_byte_length;
        if (def && (rc = read_levels(def, p, (size_t)v->def_levels_byte_length, n, l->max_def,
                                     "definition levels", &defined)) < 0)
            return rc;
        p += v->def_levels_byte_length;
        size_t clen = blen - (size_t)(p - body);
        size_t ulen = (size_t)h->uncompressed_page_size - (size_t)v->rep_levels_byte_length -
                      (size_t)v->def_levels_byte_length;
        if (v->is_compressed && x->codec != PQ_CODEC_UNCOMPRESSED) {
            size_t nn = def ? defined : n;
            if (clen == 0 && (rc = empty_section(x, ulen)) < 0)
                return rc;
            if (rep && n > 0 && c->n_levels == 0 && rep[0] != 0)
                return corrupt(x, "first repetition level of the column is not 0");
            if ((rc = direct_plain(x, enc, p, clen, ulen, nn)) != 0) {
                if (rc < 0)
                    return rc;
                c->n_levels += (int64_t)n;
                c->n_values += (int64_t)nn;
                return 0;
            }
            if ((rc = decompress_into(x, p, clen, ulen)) < 0)
                return rc;
            vals = x->s->page;
            vlen = ulen;
        } else {
            vals = p;
            vlen = clen;
        }
    } else {
        size_t ulen = (size_t)h->uncompressed_page_size;
        if (blen == 0 && ulen == 0)
            return pond_error_set(
                POND_ECORRUPT, POND_DOM_PARQUET,
                "page at offset %" PRId64 ": page of %zu values has an empty body", x->page_off, n);
        if (blen == 0 && x->codec != PQ_CODEC_UNCOMPRESSED)
            return empty_section(x, ulen);
        if (x->codec != PQ_CODEC_UNCOMPRESSED && !rep && !def) {
            /* no levels: the page is only values */
            if ((rc = direct_plain(x, enc, body, blen, ulen, n)) != 0) {
                if (rc < 0)
                    return rc;
                c->n_levels += (int64_t)n;
                c->n_values += (int64_t)n;
                return 0;
            }
        }
        int direct = 0;
        if (x->codec != PQ_CODEC_UNCOMPRESSED && !rep && def &&
            h->data.def_encoding == PQ_ENC_RLE &&
            (direct = direct_present(x, enc, body, blen, ulen, n)) < 0)
            return direct;
        if (direct == 1)
            return 0; /* levels and values in place */
        if (direct == 2) {
            vals = x->s->page; /* decompressed already */
        } else if (x->codec != PQ_CODEC_UNCOMPRESSED) {
            if ((rc = decompress_into(x, body, blen, ulen)) < 0)
                return rc;
            vals = x->s->page;
        } else {
            if (blen != ulen)
                return corrupt(x, "uncompressed page sizes differ");
            vals = body;
        }
        vlen = ulen;
        for (int k = 0; k < 2; k++) {
            int16_t *lv = k == 0 ? rep : def;
            int max = k == 0 ? l->max_rep : l->max_def;
            int lenc = k == 0 ? h->data.rep_encoding : h->data.def_encoding;
            if (!lv)
                continue;
            if (lenc == PQ_ENC_BIT_PACKED) {
                /* deprecated: MSB-first packing, no length prefix */
                int bw = bit_width_of(max);
                size_t bytes = (n * (size_t)bw + 7) / 8;
                if (bytes > vlen)
                    return corrupt(x, "bit-packed levels exceed the page");
                for (size_t i = 0; i < n; i++) {
                    unsigned v = 0;
                    for (int b = 0; b < bw; b++) {
                        size_t bit = i * (size_t)bw + (size_t)b;
                        v = (v << 1) | ((vals[bit >> 3] >> (7 - (bit & 7))) & 1u);
                    }
                    if (v > (unsigned)max)
                        return corrupt(x, "level above the column's maximum");
                    lv[i] = (int16_t)v;
                    if (k == 1)
                        defined += v == (unsigned)max;
                }
                vals += bytes;
                vlen -= bytes;
                continue;
            }
            if (lenc != PQ_ENC_RLE)
                return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                                      "page at offset %" PRId64 ": level encoding %s", x->page_off,
                                      pond_pq_encoding_name(lenc));
            if (vlen < 4)
                return corrupt(x, "truncated level length");
            uint32_t ll;
            memcpy(&ll, vals, 4);
            if (ll > vlen - 4)
                return corrupt(x, "level length exceeds the page");
            if ((rc = read_levels(lv, vals + 4, ll, n, max,
                                  k == 0 ? "repetition levels" : "definition levels",
                                  k == 0 ? &unused : &defined)) < 0)
                return rc;
            vals += 4 + ll;
            vlen -= 4 + ll;
        }
    }
    if (rep && n > 0 && c->n_levels == 0 && rep[0] != 0)
        return corrupt(x, "first repetition level of the column is not 0");
    size_t nn = def ? defined : n;
    if ((rc = decode_values(x, enc, vals, vlen, nn, false)) < 0)
        return rc;
    c->n_levels += (int64_t)n;
    c->n_values += (int64_t)nn;
    return 0;
}

static int dict_page(chunk_ctx *x, const pq_page_header *h, const uint8_t *body, size_t blen)
{
    const pq_leaf_desc *l = x->leaf;
    int rc;
    if (x->has_dict)
        return corrupt(x, "second dictionary page in a column chunk");
    if (!h->has_dict)
        return corrupt(x, "dictionary page without a dictionary header");
    int32_t nv = h->dict.num_values;
    if (nv < 0)
        return corrupt(x, "negative dictionary size");
    if (h->dict.encoding != PQ_ENC_PLAIN && h->dict.encoding != PQ_ENC_PLAIN_DICTIONARY)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                              "page at offset %" PRId64 ": dictionary encoding %s", x->page_off,
                              pond_pq_encoding_name(h->dict.encoding));
    const uint8_t *vals = body;
    size_t ulen = (size_t)h->uncompressed_page_size;
    if (x->codec != PQ_CODEC_UNCOMPRESSED) {
        if ((rc = decompress_into(x, body, blen, ulen)) < 0)
            return rc;
        vals = x->s->page;
    } else if (blen != ulen) {
        return corrupt(x, "uncompressed page sizes differ");
    }
    /* every entry takes at least one byte (4 for byte arrays' lengths) */
    size_t min = l->width ? l->width : 4;
    if ((size_t)nv > ulen / min)
        return corrupt(x, "dictionary value count exceeds the page");
    if (l->width) {
        size_t cap = 0;
        if ((rc = grow(x, NULL, (void **)&x->dict_values, &cap, (size_t)nv * l->width + 1,
                       "dictionary")) < 0)
            return rc;
    }
    if ((rc = decode_values(x, PQ_ENC_PLAIN, vals, ulen, (size_t)nv, true)) < 0)
        return rc;
    x->dict_max_len = SIZE_MAX;
    if (l->physical == PQ_BYTE_ARRAY) {
        /* the longest entry, and slack for the gather's fixed-size copies */
        const int32_t *doff = (const int32_t *)(void *)x->dict_bytes.offsets.ptr;
        int32_t m = 0;
        for (int32_t i = 0; i < nv; i++)
            m = POND_MAX(m, doff[i + 1] - doff[i]);
        x->dict_max_len = (size_t)m;
        if ((rc = pond_buf_grow(&x->dict_bytes.data, x->dict_bytes.data.size + 16)) < 0)
            return rc;
    }
    x->has_dict = true;
    x->dict_n = nv;
    return 0;
}

void pond_pq_scratch_dispose(pq_scratch *s)
{
    pond__bufcache_give(s->cache, s->chunk, s->chunk_cap);
    pond__bufcache_give(s->cache, s->page, s->page_cap);
    pond_free(s->idx);
    pond_pq_codec_state_free(s->codec_state);
    memset(s, 0, sizeof *s);
}

void pond_pq_chunk_dispose(pq_chunk *c)
{
    pond_free(c->def);
    pond_free(c->rep);
    pond__bufcache_give(c->cache, c->values, c->values_cap);
    pond_buf_dispose(&c->bytes.data);
    pond_buf_dispose(&c->bytes.offsets);
    memset(c, 0, sizeof *c);
}

/* The chunk's byte range: from the dictionary page (when it comes first) to the end. */
static void chunk_range(const pq_column_meta *m, int64_t *start, int64_t *len)
{
    *start = m->data_page_offset;
    if (m->dictionary_page_offset > 0 && m->dictionary_page_offset < *start)
        *start = m->dictionary_page_offset;
    *len = m->total_compressed_size;
}

/* Decode the pages in buf[0, len) (file offset base). Whole-chunk mode (page_rows NULL): stop
 * once `want` levels are decoded. Page mode: every data page must be the next of the n_rows
 * expected pages and hold exactly page_rows[k] levels; n_rows == 0 allows no data page. */
static int decode_pages(chunk_ctx *x, const uint8_t *buf, size_t len, int64_t base, int64_t want,
                        const int64_t *page_rows, size_t n_rows)
{
    pq_chunk *out = x->c;
    size_t pos = 0, k = 0;
    int rc = 0;
    while (pos < len && (page_rows || out->n_levels < want)) {
        pq_tdec d;
        pq_page_header h;
        x->page_off = base + (int64_t)pos;
        pond_pq_tdec_init(&d, buf + pos, len - pos, x->page_off, "page header");
        if ((rc = pond_pq_decode_page_header(&h, &d)) < 0)
            return rc;
        size_t hlen = (size_t)(d.p - d.begin);
        const uint8_t *body = buf + pos + hlen;
        size_t blen = (size_t)h.compressed_page_size;
        if (blen > len - pos - hlen)
            return corrupt(x, page_rows ? "page extends past its offset index location"
                                        : "page extends past the column chunk");
        if ((size_t)h.uncompressed_page_size > x->o->max_bytes)
            return too_big(x, "page", (uint64_t)h.uncompressed_page_size);
        if (h.has_crc && x->o->verify_crc) {
            uint32_t crc = pond_pq_crc32(0, body, blen);
            if (crc != (uint32_t)h.crc)
                return corrupt(x, "page CRC mismatch");
        }
        bool data = h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DATA_V2;
        if (data && page_rows && k >= n_rows)
            return corrupt(x, "data page where the offset index has none");
        int64_t before = out->n_levels;
        switch (h.type) {
        case PQ_PAGE_DICTIONARY:
            rc = dict_page(x, &h, body, blen);
            break;
        case PQ_PAGE_DATA:
            if (!h.has_data)
                rc = corrupt(x, "data page without a data page header");
            else
                rc = data_page(x, &h, body, blen);
            break;
        case PQ_PAGE_DATA_V2:
            if (!h.has_data_v2)
                rc = corrupt(x, "data page v2 without its header");
            else
                rc = data_page(x, &h, body, blen);
            break;
        default:
            break; /* index pages and unknown page types are skipped */
        }
        if (rc < 0)
            return rc;
        if (data && page_rows && out->n_levels - before != page_rows[k++])
            return corrupt(x, "page row count differs from its offset index");
        pos += hlen + blen;
    }
    if (page_rows && k != n_rows)
        return corrupt(x, "pages missing at the offset index locations");
    return 0;
}

/* Read [off, off+len) of the file into the scratch chunk buffer. */
static int read_range(chunk_ctx *x, int64_t off, size_t len)
{
    int rc = grow(x, x->s->cache, (void **)&x->s->chunk, &x->s->chunk_cap, len ? len : 1,
                  "column chunk");
    if (rc < 0)
        return rc;
    size_t got = 0;
    if ((rc = x->o->read_at(off, x->s->chunk, len, &got, x->o->payload)) < 0)
        return rc;
    if (got != len)
        return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                              "column chunk at offset %" PRId64 " truncated: %zu of %zu bytes", off,
                              got, len);
    return 0;
}

bool pond_pq_chunk_pages_ok(const pq_column_chunk *cc, const pq_offset_index *oi, int64_t num_rows)
{
    if (!cc->has_meta_data || !oi || oi->n_pages == 0 || !oi->pages)
        return false;
    int64_t start, len;
    chunk_range(&cc->meta_data, &start, &len);
    if (start < 4 || len <= 0 || start > INT64_MAX - len)
        return false;
    int64_t end = start + len, prev_end = start;
    if (cc->meta_data.dictionary_page_offset > 0 &&
        cc->meta_data.dictionary_page_offset >= oi->pages[0].offset)
        return false; /* the dictionary must come before the first data page */
    for (uint32_t i = 0; i < oi->n_pages; i++) {
        const pq_page_location *p = &oi->pages[i];
        if (p->offset < prev_end || p->compressed_page_size <= 0 ||
            p->compressed_page_size > end - p->offset)
            return false;
        if (i == 0 ? p->first_row_index != 0
                   : p->first_row_index <= oi->pages[i - 1].first_row_index)
            return false;
        if (p->first_row_index >= num_rows)
            return false;
        prev_end = p->offset + p->compressed_page_size;
    }
    return true;
}

bool pond_pq_stats_may_match(const pq_pred *p, int physical, pq_bytes mn, pq_bytes mx)
{
    if (!mn.ptr || !mx.ptr)
        return true;
    if (!p->is_double) {
        int64_t a, b;
        if (physical == PQ_INT32 && mn.len == 4 && mx.len == 4) {
            int32_t x, y;
            memcpy(&x, mn.ptr, 4);
            memcpy(&y, mx.ptr, 4);
            a = x;
            b = y;
        } else if (physical == PQ_INT64 && mn.len == 8 && mx.len == 8) {
            memcpy(&a, mn.ptr, 8);
            memcpy(&b, mx.ptr, 8);
        } else {
            return true;
        }
        return !(b < p->ilo || a > p->ihi);
    }
    double a, b;
    if (physical == PQ_FLOAT && mn.len == 4 && mx.len == 4) {
        float x, y;
        memcpy(&x, mn.ptr, 4);
        memcpy(&y, mx.ptr, 4);
        a = x;
        b = y;
    } else if (physical == PQ_DOUBLE && mn.len == 8 && mx.len == 8) {
        memcpy(&a, mn.ptr, 8);
        memcpy(&b, mx.ptr, 8);
    } else {
        return true;
    }
    /* NaN bounds (and a NaN range) compare false: the chunk may match */
    return !(b < p->dlo || a > p->dhi);
}

void pond_pq_chunk_keep(pq_chunk *c, const pq_leaf_desc *leaf, const int64_t *iv, size_t n_iv)
{
    int16_t *def = leaf->max_def > 0 ? c->def : NULL;
    int16_t maxd = (int16_t)leaf->max_def;
    size_t wd = leaf->width;
    bool bytes = leaf->physical == PQ_BYTE_ARRAY;
    int32_t *off = bytes ? (int32_t *)(void *)c->bytes.offsets.ptr : NULL;
    char *data = bytes ? c->bytes.data.ptr : NULL;
    int64_t lr = 0, lw = 0, vr = 0, vw = 0;
    for (size_t k = 0; k < n_iv; k++) {
        int64_t a = iv[2 * k], b = iv[2 * k + 1];
        if (a < lr)
            a = lr;
        if (b > c->n_levels)
            b = c->n_levels;
        if (a >= b)
            continue;
        if (def) {
            for (int64_t i = lr; i < a; i++)
                vr += def[i] == maxd;
        } else {
            vr += a - lr;
        }
        int64_t nv = 0;
        if (def) {
            for (int64_t i = a; i < b; i++)
                nv += def[i] == maxd;
            memmove(def + lw, def + a, (size_t)(b - a) * sizeof *def);
        } else {
            nv = b - a;
        }
        if (bytes) {
            int32_t base = off[vr], dst = off[vw];
            int32_t n = off[vr + nv] - base;
            if (n > 0 && dst != base)
                memmove(data + dst, data + base, (size_t)n);
            for (int64_t i = 0; i < nv; i++)
                off[vw + i + 1] = dst + (off[vr + i + 1] - base);
        } else if (nv > 0 && vw != vr) {
            memmove(c->values + (size_t)vw * wd, c->values + (size_t)vr * wd, (size_t)nv * wd);
        }
        lw += b - a;
        vw += nv;
        vr += nv;
        lr = b;
    }
    c->n_levels = lw;
    c->n_values = vw;
    if (bytes) {
        c->bytes.data.size = (size_t)off[vw];
        c->bytes.offsets.size = 4 * ((size_t)vw + 1);
    }
}

int pond_pq_chunk_read(pq_chunk *out, const pq_leaf_desc *leaf, const pq_column_chunk *cc,
                       const pq_chunk_opts *o)
{
    chunk_ctx x = {.leaf = leaf, .o = o, .c = out};
    x.s = o->scratch ? o->scratch : &x.own;
    if (!x.s->chunk && !x.s->page)
        x.s->cache = o->cache; /* what its buffers come from and go back to */
    int rc = 0;
    int64_t *page_rows = NULL;
    memset(out, 0, sizeof *out);
    out->cache = o->cache;
    const pq_column_meta *m = &cc->meta_data;
    if (cc->encrypted) {
        rc = pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                            "encrypted column chunks are "
                            "not supported");
        goto done;
    }
    if (cc->file_path.ptr) {
        rc = pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                            "column chunk stored in another "
                            "file ('%.*s')",
                            (int)POND_MIN(cc->file_path.len, 100), cc->file_path.ptr);
        goto done;
    }
    if (!cc->has_meta_data) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "column chunk without metadata");
        goto done;
    }
    if (m->type != leaf->physical) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                            "column chunk type %s differs from "
                            "the schema's %s",
                            pond_pq_type_name(m->type), pond_pq_type_name(leaf->physical));
        goto done;
    }
    x.codec = m->codec;
    if (m->num_values < 0) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "negative num_values");
        goto done;
    }
    if (m->num_values == 0) {
        /* an empty chunk: nothing to read (some writers leave its offsets at 0) */
        if (leaf->physical == PQ_BYTE_ARRAY)
            rc = pond_buf_put(&out->bytes.offsets, &(int32_t){0}, 4);
        goto done;
    }
    int64_t start, len;
    chunk_range(m, &start, &len);
    x.page_off = start;
    if (start < 4 || len < 0 || start > o->file_size || len > o->file_size - start) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                            "column chunk range [%" PRId64 ", +%" PRId64
                            ") lies outside the file of %" PRId64 " bytes",
                            start, len, o->file_size);
        goto done;
    }
    if ((uint64_t)len > o->max_bytes) {
        rc = too_big(&x, "column chunk", (uint64_t)len);
        goto done;
    }
    /* the levels to expect: the whole chunk, or the selected pages' rows */
    int64_t want = m->num_values;
    const pq_offset_index *oi = o->page_sel ? o->pages : NULL;
    size_t n_sel = 0;
    if (oi) {
        if (!(page_rows = pond_malloc(oi->n_pages * sizeof *page_rows))) {
            rc = POND_ENOMEM;
            goto done;
        }
        want = 0;
        for (uint32_t i = 0; i < oi->n_pages; i++) {
            int64_t e = i + 1 < oi->n_pages ? oi->pages[i + 1].first_row_index : o->chunk_rows;
            if (o->page_sel[i]) {
                page_rows[n_sel++] = e - oi->pages[i].first_row_index;
                want += e - oi->pages[i].first_row_index;
            }
        }
    }
    if (leaf->physical == PQ_BYTE_ARRAY) {
        int32_t z = 0;
        if ((rc = pond_buf_put(&out->bytes.offsets, &z, 4)) < 0)
            goto done;
    }
    /* size the level and value buffers once from the metadata (an upper bound for values;
     * a lying count only fails earlier, at the same limit) */
    if ((uint64_t)want > o->max_bytes) {
        rc = too_big(&x, "column chunk values", (uint64_t)want);
        goto done;
    }
    if ((rc = reserve_levels(&x, (size_t)want)) < 0 || (rc = reserve_values(&x, (size_t)want)) < 0)
        goto done;
    if (leaf->physical == PQ_BYTE_ARRAY &&
        (rc = pond_buf_grow(&out->bytes.offsets, 4 * ((size_t)want + 1))) < 0)
        goto done;
    if (!oi) {
        if ((rc = read_range(&x, start, (size_t)len)) < 0 ||
            (rc = decode_pages(&x, x.s->chunk, (size_t)len, start, want, NULL, 0)) < 0)
            goto done;
    } else {
        /* what precedes the first page (the dictionary page), then each run of selected
         * pages in one read */
        int64_t pre = oi->pages[0].offset - start;
        if (pre > 0 &&
            ((rc = read_range(&x, start, (size_t)pre)) < 0 ||
             (rc = decode_pages(&x, x.s->chunk, (size_t)pre, start, 0, page_rows, 0)) < 0))
            goto done;
        size_t k = 0;
        for (uint32_t i = 0; i < oi->n_pages;) {
            if (!o->page_sel[i]) {
                i++;
                continue;
            }
            uint32_t j = i;
            while (j + 1 < oi->n_pages && o->page_sel[j + 1])
                j++;
            int64_t a = oi->pages[i].offset;
            int64_t b = oi->pages[j].offset + oi->pages[j].compressed_page_size;
            if ((rc = read_range(&x, a, (size_t)(b - a))) < 0 ||
                (rc = decode_pages(&x, x.s->chunk, (size_t)(b - a), a, 0, page_rows + k,
                                   j - i + 1)) < 0)
                goto done;
            k += j - i + 1;
            i = j + 1;
        }
    }
    if (out->n_levels != want) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                            "column chunk at offset %" PRId64 " holds %" PRId64
                            " values, its metadata says %" PRId64,
                            start, out->n_levels, want);
        goto done;
    }
done:
    pond_free(page_rows);
    pond_pq_scratch_dispose(&x.own);
    pond_free(x.dict_values);
    pond_buf_dispose(&x.dict_bytes.data);
    pond_buf_dispose(&x.dict_bytes.offsets);
    if (rc < 0) {
        pond_error_prefix("column '%s'", leaf->path);
        pond_pq_chunk_dispose(out);
    }
    return rc;
}
