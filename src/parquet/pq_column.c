/* Column chunk reader: page headers, CRCs, codecs, levels, dictionaries and value encodings. */
#include "parquet/pq_column.h"
#include "parquet/pq_codec.h"

#include "util/util.h"

#include <inttypes.h>
#include <string.h>
#include <zlib.h>

typedef struct {
    const pq_leaf_desc *leaf;
    const pq_chunk_opts *o;
    pq_chunk *c;
    int codec;
    bool has_dict;
    int64_t dict_n;
    uint8_t *dict_values;      /* fixed-width dictionary entries */
    pq_bytes_out dict_bytes;   /* BYTE_ARRAY dictionary entries */
    pq_scratch *s;             /* decompression buffer, dictionary indices, chunk bytes */
    pq_scratch own;
    int64_t page_off;          /* file offset of the current page header */
} chunk_ctx;

static int corrupt(chunk_ctx *x, const char *msg)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "page at offset %" PRId64 ": %s",
                          x->page_off, msg);
}

static int too_big(chunk_ctx *x, const char *what, uint64_t n)
{
    return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET, "page at offset %" PRId64
                          ": %s of %" PRIu64 " bytes exceeds the reader's limit of %zu bytes",
                          x->page_off, what, n, x->o->max_bytes);
}

static int grow(chunk_ctx *x, void **p, size_t *cap, size_t need, const char *what)
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
    pq_rle_init(&r, p, len, bit_width_of(max), what);
    int rc = pq_rle_get_levels(&r, out, n, max);
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
    return grow(x, (void **)&c->values, &c->values_cap, need, "decoded values");
}

static int decode_plain_fixed(chunk_ctx *x, uint8_t *dst, const uint8_t *p, size_t len,
                              size_t nn)
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
    int rc = grow(x, (void **)&x->s->idx, &bytes, nn * sizeof *x->s->idx, "dictionary indices");
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
    pq_rle_init(&r, p + 1, len - 1, bw, "dictionary indices");
    if ((rc = pq_rle_get(&r, x->s->idx, nn)) < 0)
        return rc;
    uint32_t dn = (uint32_t)x->dict_n;
    for (size_t i = 0; i < nn; i++)
        if (x->s->idx[i] >= dn)
            return corrupt(x, "dictionary index out of range");
    const uint32_t *idx = x->s->idx;
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
        if ((rc = pond_buf_grow(&b->data, b->data.size + total)) < 0 ||
            (rc = pond_buf_grow(&b->offsets, b->offsets.size + 4 * nn)) < 0)
            return rc;
        int32_t off;
        memcpy(&off, b->offsets.ptr + b->offsets.size - 4, 4);
        char *w = b->data.ptr + b->data.size;
        int32_t *o = (int32_t *)(void *)(b->offsets.ptr + b->offsets.size);
        for (size_t i = 0; i < nn; i++) {
            int32_t s = doff[idx[i]], l = doff[idx[i] + 1] - s;
            if (l)
                memcpy(w, dd + s, (size_t)l);
            w += l;
            off += l;
            o[i] = off;
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
        if ((rc = pq_delta_decode(p, len, (int64_t *)(void *)dst, nn, &n, &used,
                                  "delta binary packed")) < 0)
            return rc;
    } else {
        int64_t *tmp = pond_malloc((nn ? nn : 1) * sizeof *tmp);
        if (!tmp)
            return POND_ENOMEM;
        rc = pq_delta_decode(p, len, tmp, nn, &n, &used, "delta binary packed");
        int32_t *o = (int32_t *)(void *)dst;
        for (size_t i = 0; rc == 0 && i < n; i++)
            o[i] = (int32_t)(uint32_t)(uint64_t)tmp[i];
        pond_free(tmp);
        if (rc < 0)
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
            return pq_plain_byte_arrays(&x->dict_bytes, p, len, nn, &used, x->o->max_bytes,
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
            return pq_plain_byte_arrays(&c->bytes, p, len, nn, &used,
                                        POND_MIN(x->o->max_bytes, (size_t)INT32_MAX), l->path);
        return decode_plain_fixed(x, dst, p, len, nn);
    case PQ_ENC_PLAIN_DICTIONARY: case PQ_ENC_RLE_DICTIONARY:
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
        pq_rle_init(&r, p + 4, bl, 1, "rle booleans");
        if ((rc = pq_rle_get(&r, x->s->idx, nn)) < 0)
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
        return pq_delta_length_byte_arrays(&c->bytes, p, len, nn,
                                           POND_MIN(x->o->max_bytes, (size_t)INT32_MAX), l->path);
    case PQ_ENC_DELTA_BYTE_ARRAY:
        if (l->physical == PQ_BYTE_ARRAY)
            return pq_delta_byte_arrays(&c->bytes, p, len, nn,
                                        POND_MIN(x->o->max_bytes, (size_t)INT32_MAX), l->path);
        if (l->physical == PQ_FIXED_LEN_BYTE_ARRAY) {
            pq_bytes_out tmp = {POND_BUF_INIT, POND_BUF_INIT};
            rc = pq_delta_byte_arrays(&tmp, p, len, nn, x->o->max_bytes, l->path);
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
        return pq_byte_stream_split(dst, p, len, nn, l->width, "byte stream split");
    default:
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET, "page at offset %" PRId64
                              ": unsupported encoding %s (%d)", x->page_off,
                              pq_encoding_name(enc), enc);
    }
}

static int decompress_into(chunk_ctx *x, const uint8_t *src, size_t src_len, size_t dst_len)
{
    int rc = pq_decompress_check(x->codec, src, src_len, dst_len, x->page_off);
    if (rc < 0)
        return rc;
    rc = grow(x, (void **)&x->s->page, &x->s->page_cap, dst_len ? dst_len : 1, "page");
    if (rc < 0)
        return rc;
    return pq_decompress_with(&x->s->codec_state, x->codec, src, src_len, x->s->page, dst_len,
                              x->page_off);
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
        if (x->codec != PQ_CODEC_UNCOMPRESSED) {
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
                return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET, "page at offset %"
                                      PRId64 ": level encoding %s", x->page_off,
                                      pq_encoding_name(lenc));
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
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET, "page at offset %" PRId64
                              ": dictionary encoding %s", x->page_off,
                              pq_encoding_name(h->dict.encoding));
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
        if ((rc = grow(x, (void **)&x->dict_values, &cap, (size_t)nv * l->width + 1,
                       "dictionary")) < 0)
            return rc;
    }
    if ((rc = decode_values(x, PQ_ENC_PLAIN, vals, ulen, (size_t)nv, true)) < 0)
        return rc;
    x->has_dict = true;
    x->dict_n = nv;
    return 0;
}

void pq_scratch_dispose(pq_scratch *s)
{
    pond_free(s->chunk);
    pond_free(s->page);
    pond_free(s->idx);
    pq_codec_state_free(s->codec_state);
    memset(s, 0, sizeof *s);
}

void pq_chunk_dispose(pq_chunk *c)
{
    pond_free(c->def);
    pond_free(c->rep);
    pond_free(c->values);
    pond_buf_dispose(&c->bytes.data);
    pond_buf_dispose(&c->bytes.offsets);
    memset(c, 0, sizeof *c);
}

int pq_chunk_read(pq_chunk *out, const pq_leaf_desc *leaf, const pq_column_chunk *cc,
                  const pq_chunk_opts *o)
{
    chunk_ctx x = {.leaf = leaf, .o = o, .c = out};
    x.s = o->scratch ? o->scratch : &x.own;
    uint8_t *buf = NULL;
    int rc = 0;
    memset(out, 0, sizeof *out);
    const pq_column_meta *m = &cc->meta_data;
    if (cc->encrypted) {
        rc = pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET, "encrypted column chunks are "
                            "not supported");
        goto done;
    }
    if (cc->file_path.ptr) {
        rc = pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET, "column chunk stored in another "
                            "file ('%.*s')", (int)POND_MIN(cc->file_path.len, 100),
                            cc->file_path.ptr);
        goto done;
    }
    if (!cc->has_meta_data) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "column chunk without metadata");
        goto done;
    }
    if (m->type != leaf->physical) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "column chunk type %s differs from "
                            "the schema's %s", pq_type_name(m->type),
                            pq_type_name(leaf->physical));
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
    int64_t start = m->data_page_offset;
    if (m->dictionary_page_offset > 0 && m->dictionary_page_offset < start)
        start = m->dictionary_page_offset;
    int64_t len = m->total_compressed_size;
    x.page_off = start;
    if (start < 4 || len < 0 || start > o->file_size || len > o->file_size - start) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "column chunk range [%" PRId64
                            ", +%" PRId64 ") lies outside the file of %" PRId64 " bytes",
                            start, len, o->file_size);
        goto done;
    }
    if ((uint64_t)len > o->max_bytes) {
        rc = too_big(&x, "column chunk", (uint64_t)len);
        goto done;
    }
    if (m->num_values < 0) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "negative num_values");
        goto done;
    }
    if ((rc = grow(&x, (void **)&x.s->chunk, &x.s->chunk_cap, len ? (size_t)len : 1,
                   "column chunk")) < 0)
        goto done;
    buf = x.s->chunk;
    size_t got = 0;
    if ((rc = o->read_at(o->payload, start, buf, (size_t)len, &got)) < 0)
        goto done;
    if (got != (size_t)len) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "column chunk at offset %" PRId64
                            " truncated: %zu of %" PRId64 " bytes", start, got, len);
        goto done;
    }
    if (leaf->physical == PQ_BYTE_ARRAY) {
        int32_t z = 0;
        if ((rc = pond_buf_put(&out->bytes.offsets, &z, 4)) < 0)
            goto done;
    }
    /* size the level and value buffers once from the metadata (an upper bound for values;
     * a lying count only fails earlier, at the same limit) */
    if ((uint64_t)m->num_values > o->max_bytes) {
        rc = too_big(&x, "column chunk values", (uint64_t)m->num_values);
        goto done;
    }
    if ((rc = reserve_levels(&x, (size_t)m->num_values)) < 0 ||
        (rc = reserve_values(&x, (size_t)m->num_values)) < 0)
        goto done;
    if (leaf->physical == PQ_BYTE_ARRAY &&
        (rc = pond_buf_grow(&out->bytes.offsets, 4 * ((size_t)m->num_values + 1))) < 0)
        goto done;
    size_t pos = 0;
    while (out->n_levels < m->num_values && pos < (size_t)len) {
        pq_tdec d;
        pq_page_header h;
        x.page_off = start + (int64_t)pos;
        pq_tdec_init(&d, buf + pos, (size_t)len - pos, x.page_off, "page header");
        if ((rc = pq_decode_page_header(&h, &d)) < 0)
            goto done;
        size_t hlen = (size_t)(d.p - d.begin);
        const uint8_t *body = buf + pos + hlen;
        size_t blen = (size_t)h.compressed_page_size;
        if (blen > (size_t)len - pos - hlen) {
            rc = corrupt(&x, "page extends past the column chunk");
            goto done;
        }
        if ((size_t)h.uncompressed_page_size > o->max_bytes) {
            rc = too_big(&x, "page", (uint64_t)h.uncompressed_page_size);
            goto done;
        }
        if (h.has_crc && o->verify_crc) {
            uint32_t crc = (uint32_t)crc32(0L, body, (uInt)blen);
            if (crc != (uint32_t)h.crc) {
                rc = corrupt(&x, "page CRC mismatch");
                goto done;
            }
        }
        switch (h.type) {
        case PQ_PAGE_DICTIONARY:
            rc = dict_page(&x, &h, body, blen);
            break;
        case PQ_PAGE_DATA:
            if (!h.has_data)
                rc = corrupt(&x, "data page without a data page header");
            else
                rc = data_page(&x, &h, body, blen);
            break;
        case PQ_PAGE_DATA_V2:
            if (!h.has_data_v2)
                rc = corrupt(&x, "data page v2 without its header");
            else
                rc = data_page(&x, &h, body, blen);
            break;
        default:
            break; /* index pages and unknown page types are skipped */
        }
        if (rc < 0)
            goto done;
        pos += hlen + blen;
    }
    if (out->n_levels != m->num_values) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "column chunk at offset %" PRId64
                            " holds %" PRId64 " values, its metadata says %" PRId64, start,
                            out->n_levels, m->num_values);
        goto done;
    }
done:
    pq_scratch_dispose(&x.own);
    pond_free(x.dict_values);
    pond_buf_dispose(&x.dict_bytes.data);
    pond_buf_dispose(&x.dict_bytes.offsets);
    if (rc < 0) {
        pond_error_prefix("column '%s'", leaf->path);
        pq_chunk_dispose(out);
    }
    return rc;
}
