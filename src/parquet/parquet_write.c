/* Parquet writer: pages, column chunks, row groups, page indexes and the footer.
 *
 * Data flow per batch slice: shred each leaf into levels + value positions, convert values to
 * their physical form in small chunks, update page statistics, then append them to the page
 * either as dictionary indices or in PLAIN encoding. A full page is encoded (RLE levels +
 * values), compressed and appended to the column's in-memory chunk buffer; a full row group
 * is written to the sink column by column, each chunk preceded by its dictionary page. */
#include "parquet/parquet_write.h"
#include "parquet/pq_meta.h"

#include "util/util.h"

#include <fcntl.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#define CHUNK 4096             /* values converted per step */
#define SLICE 8192             /* levels fed per step (extended to a row boundary) */
#define PAGE_MAX_LEVELS 131072 /* bounds a page's level and index buffers */
/* A step (one batch slice, or closing a row group) is split across columns on the pool only
 * when it holds at least this much input: waking a worker costs more than a small step, and
 * small writes (oplog, tests) stay on the caller's thread. */
#define PARALLEL_MIN_BYTES ((size_t)256 << 10)
#define MAX_THREADS 64
/* Page body bytes of a chunk's first data pages on which its codec is judged (adaptive_codec):
 * the pages until their bodies reach this. Two of pond's 128 KiB pages (which close a little
 * under 128 KiB), one of the library's default 1 MiB pages. */
#define CODEC_TRIAL_BYTES ((int64_t)192 << 10)

enum { DICT_OFF, DICT_TRIAL, DICT_ON, DICT_FALLBACK };
/* The chunk's codec: on trial (pages kept both ways), kept, or dropped (stored raw). */
enum { CODEC_TRIAL, CODEC_KEEP, CODEC_RAW };

typedef struct {
    int64_t offset;    /* in the chunk buffer (data pages only) */
    int32_t size;      /* header + body */
    int32_t raw_size;  /* header + body of its uncompressed form (codec on trial) */
    int64_t first_row; /* within the row group */
    int64_t nulls;
    bool null_page, has_minmax;
    size_t min_off, min_len, max_off, max_len; /* in col->pi_bytes */
} pqw_pageinfo;

typedef struct {
    int64_t data_page_offset, dict_page_offset, num_values, uncomp, comp, file_offset;
    unsigned encs; /* bit e: encoding e (PQ_ENC_*) used by a page */
    int codec;     /* PQ_CODEC_* of the chunk */
    bool has_stats, has_minmax;
    int64_t nulls;
    size_t min_off, min_len, max_off, max_len; /* in w->stat_bytes */
    int64_t ci_off, oi_off;                    /* relative to the index buffers; -1 none */
    int32_t ci_len, oi_len;
} pqw_chunk_meta;

typedef struct {
    pqw_chunk_meta *cols;
    int64_t rows, total_byte_size, total_comp, file_offset;
} pqw_rg_meta;

typedef struct {
    const pqw_leaf *leaf;
    /* the page being filled */
    pond_buf pdef, prep; /* uint16 levels */
    pond_buf pvals;      /* PLAIN values, or uint32 dictionary indices */
    size_t p_levels, p_values, p_rows, p_plain_bytes;
    pqw_stats pst, cst;
    /* the column chunk */
    pqw_dict dict;
    int dict_mode;
    bool page_is_dict; /* pvals holds indices */
    pond_buf chunk;    /* encoded data pages */
    /* adaptive_codec: while the codec is on trial every page goes to `chunk` compressed and
     * to `raw` uncompressed, until the trial's body bytes (t_raw, t_comp) decide which stays */
    int codec_mode;
    int64_t t_raw, t_comp;
    pond_buf raw;
    int64_t c_uncomp, c_comp, c_levels, c_rows;
    bool c_dict_used;
    unsigned c_encs; /* bit e: a data page of the chunk uses encoding e */
    pqw_pageinfo *pages;
    size_t n_pages, cap_pages;
    pond_buf pi_bytes;
    /* the chunk's dictionary page, encoded when the row group closes */
    pond_buf dpage;
    int64_t dpage_uncomp;
    /* the first error of this column in a parallel step (reported on the caller's thread) */
    int rc, dom;
    char msg[256];
} pqw_col;

/* Scratch of one thread (pool slot; slot 0 is the caller's). Each step hands a column to one
 * slot, so a column's state and a slot's scratch are only touched by one thread at a time. */
typedef struct {
    pqw_codec *codec;
    pqw_shred shred;
    pond_buf scratch, cbuf, hdr, tmpb;
    uint64_t *tmp;        /* CHUNK converted fixed values */
    const uint8_t **tptr; /* CHUNK binary value pointers */
    uint32_t *tlen;
} pqw_ctx;

struct pond_parquet_writer {
    pond_parquet_sink sink;
    pond_parquet_writer_options opts;
    char **kv_keys, **kv_values;
    int n_kv;
    size_t cap_kv_keys, cap_kv_values;
    pqw_schema schema;
    struct ArrowSchema aschema; /* copy, for validating batches */
    pqw_col *cols;
    int codec_id;
    int threads;     /* asked for (>= 1) */
    pqw_ctx *ctx;    /* one per thread: [0] from writer_new, the rest with the pool */
    int n_ctx;       /* contexts ready */
    pond_pool *pool; /* started at the first step worth splitting */
    bool pool_tried;
    /* the parallel step in progress */
    const struct ArrowArray *step_batch;
    int64_t step_row, step_n;
    int64_t parallel_steps;
    int64_t pos; /* bytes written to the sink */
    int64_t rows_total, rg_rows;
    int64_t row_bytes_est; /* buffered bytes per row in the current row group */
    pqw_rg_meta *rgs;
    size_t n_rgs, cap_rgs;
    pond_buf stat_bytes;     /* footer min/max values */
    pond_buf ci_buf, oi_buf; /* column indexes, offset indexes (written at finish) */
    int err;
    bool finished;
};

/* ---------------------------------------------------------------- helpers */

static int sticky(pond_parquet_writer *w, int rc)
{
    if (rc < 0 && w->err == 0)
        w->err = rc;
    return rc;
}

static int sink_write(pond_parquet_writer *w, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int rc = w->sink.write(p, n, w->sink.payload);
    if (rc < 0)
        return rc;
    w->pos += (int64_t)n;
    return 0;
}

/* ---------------------------------------------------------------- value conversion */

static int range_error(const pqw_leaf *l, const char *what)
{
    return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "parquet writer: column '%s': %s",
                          l->path[0], what);
}

static inline int64_t vpos(const pqw_shred *s, size_t i)
{
    return s->contiguous ? s->first + (int64_t)i : s->vidx[i];
}

/* Physical bits of values [from, from+n) of the shred (fixed-width kinds). */
static int convert_fixed(uint64_t *out, const pqw_leaf *l, const pqw_shred *s, size_t from,
                         size_t n)
{
    const struct ArrowArray *a = s->leaf;
    const void *buf = a->buffers[1];
    switch (l->vkind) {
    case PQW_V_BOOL: {
        const uint8_t *b = buf;
        for (size_t i = 0; i < n; i++) {
            int64_t p = vpos(s, from + i);
            out[i] = (b[p >> 3] >> (p & 7)) & 1;
        }
        return 0;
    }
    case PQW_V_I32:
        for (size_t i = 0; i < n; i++) {
            int64_t p = vpos(s, from + i), x;
            switch (l->src_width) {
            case 1:
                x = l->src_signed ? ((const int8_t *)buf)[p] : ((const uint8_t *)buf)[p];
                break;
            case 2:
                x = l->src_signed ? ((const int16_t *)buf)[p] : ((const uint16_t *)buf)[p];
                break;
            default:
                x = l->src_signed ? (int64_t)((const int32_t *)buf)[p]
                                  : (int64_t)((const uint32_t *)buf)[p];
                break;
            }
            if (l->mul != 1) {
                x *= l->mul; /* time32[s]: |x| < 2^31, no int64 overflow */
                if (x > INT32_MAX || x < INT32_MIN)
                    return range_error(l, "time value out of range");
            }
            out[i] = (uint32_t)x;
        }
        return 0;
    case PQW_V_I64: {
        const int64_t *b = buf;
        if (l->mul == 1) {
            if (s->contiguous)
                memcpy(out, b + s->first + (int64_t)from, n * 8);
            else
                for (size_t i = 0; i < n; i++)
                    out[i] = (uint64_t)b[s->vidx[from + i]];
            return 0;
        }
        for (size_t i = 0; i < n; i++) {
            int64_t x;
            if (__builtin_mul_overflow(b[vpos(s, from + i)], l->mul, &x))
                return range_error(l, "timestamp out of range for milliseconds");
            out[i] = (uint64_t)x;
        }
        return 0;
    }
    case PQW_V_FLOAT: {
        const uint32_t *b = buf;
        for (size_t i = 0; i < n; i++)
            out[i] = b[vpos(s, from + i)];
        return 0;
    }
    case PQW_V_DOUBLE: {
        const uint64_t *b = buf;
        if (s->contiguous)
            memcpy(out, b + s->first + (int64_t)from, n * 8);
        else
            for (size_t i = 0; i < n; i++)
                out[i] = b[s->vidx[from + i]];
        return 0;
    }
    case PQW_V_HALF: {
        const uint16_t *b = buf;
        for (size_t i = 0; i < n; i++)
            out[i] = b[vpos(s, from + i)];
        return 0;
    }
    case PQW_V_DEC32:
    case PQW_V_DEC64: {
        const uint64_t *b = buf;
        for (size_t i = 0; i < n; i++) {
            int64_t p = vpos(s, from + i);
            uint64_t lo = b[2 * p], hi = b[2 * p + 1];
            int64_t x = (int64_t)lo;
            if (hi != (x < 0 ? UINT64_MAX : 0) ||
                (l->vkind == PQW_V_DEC32 && (x > INT32_MAX || x < INT32_MIN)))
                return range_error(l, "decimal value exceeds its precision");
            out[i] = l->vkind == PQW_V_DEC32 ? (uint32_t)x : lo;
        }
        return 0;
    }
    default:
        return pond_error_set(POND_ERROR, POND_DOM_PARQUET, "parquet writer: bad value kind");
    }
}

/* Pointers and lengths of values [from, from+n) (binary kinds); decimals are converted to
 * big-endian bytes in x->tmpb. */
static int convert_bytes(pqw_ctx *x, const pqw_leaf *l, const pqw_shred *s, size_t from, size_t n)
{
    const struct ArrowArray *a = s->leaf;
    switch (l->vkind) {
    case PQW_V_BYTES: {
        const int32_t *o = a->buffers[1];
        const uint8_t *d = a->buffers[2];
        for (size_t i = 0; i < n; i++) {
            int64_t p = vpos(s, from + i);
            x->tptr[i] = d + o[p];
            x->tlen[i] = (uint32_t)(o[p + 1] - o[p]);
        }
        return 0;
    }
    case PQW_V_LBYTES: {
        const int64_t *o = a->buffers[1];
        const uint8_t *d = a->buffers[2];
        for (size_t i = 0; i < n; i++) {
            int64_t p = vpos(s, from + i);
            if (o[p + 1] - o[p] > INT32_MAX)
                return range_error(l, "binary value longer than 2 GiB");
            x->tptr[i] = d + o[p];
            x->tlen[i] = (uint32_t)(o[p + 1] - o[p]);
        }
        return 0;
    }
    case PQW_V_FIXED: {
        const uint8_t *d = a->buffers[1];
        for (size_t i = 0; i < n; i++) {
            x->tptr[i] = d + vpos(s, from + i) * l->type_len;
            x->tlen[i] = (uint32_t)l->type_len;
        }
        return 0;
    }
    case PQW_V_DECFL: {
        const uint8_t *d = a->buffers[1];
        int rc, nb = l->type_len;
        x->tmpb.size = 0;
        if ((rc = pond_pqw__reserve(&x->tmpb, n * 16)) < 0)
            return rc;
        uint8_t *o = (uint8_t *)x->tmpb.ptr;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *v = d + vpos(s, from + i) * 16;
            uint8_t sign = (v[15] & 0x80) ? 0xff : 0;
            for (int k = 15; k >= nb; k--)
                if (v[k] != sign)
                    return range_error(l, "decimal value exceeds its precision");
            if (((v[nb - 1] & 0x80) ? 0xff : 0) != sign)
                return range_error(l, "decimal value exceeds its precision");
            for (int k = 0; k < nb; k++)
                o[i * 16 + (size_t)k] = v[nb - 1 - k];
            x->tptr[i] = o + i * 16;
            x->tlen[i] = (uint32_t)nb;
        }
        return 0;
    }
    default:
        return pond_error_set(POND_ERROR, POND_DOM_PARQUET, "parquet writer: bad value kind");
    }
}

/* ---------------------------------------------------------------- pages */

static int dict_to_plain(pqw_ctx *x, pqw_col *c);

static int encode_levels(pond_buf *out, const pond_buf *lv, size_t n, int16_t max)
{
    int rc;
    size_t at = out->size;
    if ((rc = pond_pqw__reserve(out, 4)) < 0)
        return rc;
    out->size += 4;
    if ((rc = pond_pqw__rle_encode_u16(out, (const uint16_t *)lv->ptr, n,
                                       pond_pqw__bit_width((uint64_t)max))) < 0)
        return rc;
    uint32_t len = (uint32_t)(out->size - at - 4);
    memcpy(out->ptr + at, &len, 4);
    return 0;
}

static int add_pageinfo(pqw_col *c, pqw_pageinfo **out)
{
    if (c->n_pages == c->cap_pages) {
        size_t nc = c->cap_pages ? c->cap_pages * 2 : 2; /* per column: start small */
        pqw_pageinfo *p = pond_realloc(c->pages, nc * sizeof *p);
        if (!p)
            return POND_ENOMEM;
        c->pages = p;
        c->cap_pages = nc;
    }
    *out = &c->pages[c->n_pages++];
    memset(*out, 0, sizeof **out);
    return 0;
}

/* Compress body (x->scratch) unless `raw`, and append header + body to dst. */
static int emit_page(const pond_parquet_writer *w, pqw_ctx *x, pond_buf *dst, pq_page_header *h,
                     bool raw, int32_t *size_out)
{
    int rc;
    const pond_buf *body = &x->scratch;
    if (!raw && w->codec_id != PQ_CODEC_UNCOMPRESSED) {
        if ((rc = pond_pqw__codec_compress(x->codec, &x->cbuf, x->scratch.ptr, x->scratch.size)) <
            0)
            return rc;
        body = &x->cbuf;
    }
    if (x->scratch.size > INT32_MAX || body->size > INT32_MAX)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "parquet writer: page too large");
    h->uncompressed_page_size = (int32_t)x->scratch.size;
    h->compressed_page_size = (int32_t)body->size;
    if (w->opts.page_crc) {
        h->has_crc = true;
        h->crc = (int32_t)pond_pqw__crc32(body->ptr, body->size);
    }
    pq_tenc e;
    x->hdr.size = 0;
    pond_pq_tenc_init(&e, &x->hdr);
    pond_pq_encode_page_header(&e, h);
    if (e.rc < 0)
        return e.rc;
    if ((rc = pond_pqw__put(dst, x->hdr.ptr, x->hdr.size)) < 0 ||
        (rc = pond_pqw__put(dst, body->ptr, body->size)) < 0)
        return rc;
    *size_out = (int32_t)(x->hdr.size + body->size);
    return 0;
}

/* The encoding of a data page whose values are not dictionary indices (pvals holds them
 * PLAIN). The rule depends only on the column's type and the options, so the bytes do not
 * depend on the thread count. A page of no values (all null) stays PLAIN: its value section
 * is empty, which every reader takes. */
static int value_encoding(const pond_parquet_writer *w, const pqw_col *c)
{
    if (c->p_values == 0)
        return PQ_ENC_PLAIN;
    int phys = c->leaf->phys;
    if (w->opts.delta_ints && (phys == PQ_INT32 || phys == PQ_INT64))
        return PQ_ENC_DELTA_BINARY_PACKED;
    if (w->opts.split_floats && (phys == PQ_FLOAT || phys == PQ_DOUBLE))
        return PQ_ENC_BYTE_STREAM_SPLIT;
    return PQ_ENC_PLAIN;
}

/* The codec stays when it saves at least 1/8 of the trial's page body bytes; otherwise the
 * uncompressed pages replace the compressed ones and the rest of the chunk is not compressed.
 * Depends only on the chunk's pages, so the bytes do not depend on the thread count. */
static int decide_codec(pqw_col *c)
{
    c->codec_mode = c->t_comp * 8 <= c->t_raw * 7 ? CODEC_KEEP : CODEC_RAW;
    if (c->codec_mode == CODEC_RAW) {
        /* copied rather than swapped: `chunk` keeps the capacity of a whole chunk and `raw`
         * only ever holds a trial, so the two buffers do not both grow to a chunk */
        int rc;
        c->chunk.size = 0;
        if ((rc = pond_pqw__put(&c->chunk, c->raw.ptr, c->raw.size)) < 0)
            return rc;
        int64_t off = 0;
        for (size_t p = 0; p < c->n_pages; p++) {
            c->pages[p].offset = off;
            c->pages[p].size = c->pages[p].raw_size;
            off += c->pages[p].raw_size;
        }
        c->c_comp = c->c_uncomp = (int64_t)c->chunk.size;
    }
    c->raw.size = 0;
    return 0;
}

static int flush_page(const pond_parquet_writer *w, pqw_ctx *x, pqw_col *c)
{
    const pqw_leaf *l = c->leaf;
    int rc;
    if (c->p_levels == 0)
        return 0;
    if (c->page_is_dict && c->dict_mode == DICT_TRIAL) {
        /* First page of the chunk: keep the dictionary only if it pays for itself. */
        if (c->dict.n == 0 || c->dict.plain.size * 4 > c->p_plain_bytes * 3) {
            if ((rc = dict_to_plain(x, c)) < 0)
                return rc;
            c->dict_mode = DICT_OFF;
        } else {
            c->dict_mode = DICT_ON;
        }
    }
    x->scratch.size = 0;
    if (l->max_rep > 0 && (rc = encode_levels(&x->scratch, &c->prep, c->p_levels, l->max_rep)) < 0)
        return rc;
    if (l->max_def > 0 && (rc = encode_levels(&x->scratch, &c->pdef, c->p_levels, l->max_def)) < 0)
        return rc;
    int encoding;
    if (c->page_is_dict) {
        int bw = pond_pqw__bit_width(c->dict.n > 0 ? c->dict.n - 1 : 0);
        if (bw == 0)
            bw = 1;
        uint8_t b = (uint8_t)bw;
        if ((rc = pond_pqw__put(&x->scratch, &b, 1)) < 0 ||
            (rc = pond_pqw__rle_encode_u32(&x->scratch, (const uint32_t *)c->pvals.ptr, c->p_values,
                                           bw)) < 0)
            return rc;
        encoding = PQ_ENC_PLAIN_DICTIONARY;
        c->c_dict_used = true;
    } else {
        encoding = value_encoding(w, c);
        if (encoding == PQ_ENC_DELTA_BINARY_PACKED)
            rc = pond_pqw__delta_encode(&x->scratch, c->pvals.ptr, c->p_values,
                                        pond_pqw__phys_width(l));
        else if (encoding == PQ_ENC_BYTE_STREAM_SPLIT)
            rc = pond_pqw__split_encode(&x->scratch, c->pvals.ptr, c->p_values,
                                        pond_pqw__phys_width(l));
        else
            rc = pond_pqw__put(&x->scratch, c->pvals.ptr, c->pvals.size);
        if (rc < 0)
            return rc;
    }
    c->c_encs |= 1u << encoding;
    pq_page_header h;
    memset(&h, 0, sizeof h);
    h.type = PQ_PAGE_DATA;
    h.has_data = true;
    h.data.num_values = (int32_t)c->p_levels;
    h.data.encoding = encoding;
    h.data.def_encoding = PQ_ENC_RLE;
    h.data.rep_encoding = PQ_ENC_RLE;
    pqw_pageinfo *pi;
    if ((rc = add_pageinfo(c, &pi)) < 0)
        return rc;
    pi->offset = (int64_t)c->chunk.size;
    pi->first_row = c->c_rows;
    size_t hdr_before = c->chunk.size;
    if ((rc = emit_page(w, x, &c->chunk, &h, c->codec_mode == CODEC_RAW, &pi->size)) < 0)
        return rc;
    c->c_comp += (int64_t)(c->chunk.size - hdr_before);
    c->c_uncomp += (int64_t)(x->hdr.size + x->scratch.size);
    if (c->codec_mode == CODEC_TRIAL) {
        c->t_raw += (int64_t)x->scratch.size;
        c->t_comp += h.compressed_page_size;
        if ((rc = emit_page(w, x, &c->raw, &h, true, &pi->raw_size)) < 0)
            return rc;
        if (c->t_raw >= CODEC_TRIAL_BYTES && (rc = decide_codec(c)) < 0)
            return rc;
    }
    pi->nulls = c->pst.nulls;
    pi->null_page = c->p_values == 0;
    if (c->pst.has && !c->pst.too_long) {
        pi->has_minmax = true;
        pi->min_off = c->pi_bytes.size;
        if ((rc = pond_pqw__stats_value(&c->pi_bytes, &c->pst, l, 0)) < 0)
            return rc;
        pi->min_len = c->pi_bytes.size - pi->min_off;
        pi->max_off = c->pi_bytes.size;
        if ((rc = pond_pqw__stats_value(&c->pi_bytes, &c->pst, l, 1)) < 0)
            return rc;
        pi->max_len = c->pi_bytes.size - pi->max_off;
    }
    if ((rc = pond_pqw__stats_merge(&c->cst, &c->pst, l, w->opts.max_statistics_bytes)) < 0)
        return rc;
    c->c_levels += (int64_t)c->p_levels;
    c->c_rows += (int64_t)c->p_rows;
    pond_pqw__stats_reset(&c->pst);
    c->pdef.size = c->prep.size = c->pvals.size = 0;
    c->p_levels = c->p_values = c->p_rows = c->p_plain_bytes = 0;
    c->page_is_dict = c->dict_mode == DICT_TRIAL || c->dict_mode == DICT_ON;
    return 0;
}

/* Rewrite the current page's indices as PLAIN values and drop the dictionary. */
static int dict_to_plain(pqw_ctx *x, pqw_col *c)
{
    int rc;
    const uint32_t *idx = (const uint32_t *)c->pvals.ptr;
    pond_buf *out = &x->tmpb;
    const pqw_dict *d = &c->dict;
    out->size = 0;
    if ((rc = pond_pqw__reserve(out, c->p_plain_bytes)) < 0)
        return rc;
    for (size_t i = 0; i < c->p_values; i++) {
        if (d->keyed) {
            if ((rc = pond_pqw__put(out, d->plain.ptr + (size_t)idx[i] * (size_t)d->width,
                                    (size_t)d->width)) < 0)
                return rc;
        } else if (d->width > 0) {
            if ((rc = pond_pqw__put(out, d->plain.ptr + d->offs[idx[i]], (size_t)d->width)) < 0)
                return rc;
        } else {
            if ((rc = pond_pqw__put(out, d->plain.ptr + d->offs[idx[i]] - 4, 4)) < 0)
                return rc;
            uint32_t len;
            memcpy(&len, d->plain.ptr + d->offs[idx[i]] - 4, 4);
            if ((rc = pond_pqw__put(out, d->plain.ptr + d->offs[idx[i]], len)) < 0)
                return rc;
        }
    }
    pond_buf t = c->pvals;
    c->pvals = *out;
    *out = t;
    c->page_is_dict = false;
    pond_pqw__dict_clear(&c->dict);
    return 0;
}

static size_t page_estimate(const pqw_col *c)
{
    size_t lv = c->p_levels / 4;
    if (c->page_is_dict && c->dict_mode == DICT_TRIAL)
        return lv + c->p_plain_bytes; /* the page may still turn PLAIN */
    if (c->page_is_dict)
        return lv + c->p_values * (size_t)(pond_pqw__bit_width(c->dict.n) + 7) / 8 + 1;
    return lv + c->pvals.size;
}

/* Append n values starting at value `from` of the shred to the page. */
static int append_values(const pond_parquet_writer *w, pqw_ctx *x, pqw_col *c, const pqw_shred *s,
                         size_t from, size_t n)
{
    const pqw_leaf *l = c->leaf;
    int rc;
    int width = pond_pqw__phys_width(l);
    while (n > 0) {
        size_t k = n < CHUNK ? n : CHUNK;
        if (pond_pqw__is_fixed64(l)) {
            if ((rc = convert_fixed(x->tmp, l, s, from, k)) < 0)
                return rc;
            if (w->opts.statistics || w->opts.page_index)
                pond_pqw__stats_fixed(&c->pst, l, x->tmp, k);
            if (l->vkind == PQW_V_BOOL) {
                size_t bits = c->p_values;
                if ((rc = pond_pqw__reserve(&c->pvals, k / 8 + 2)) < 0)
                    return rc;
                uint8_t *b = (uint8_t *)c->pvals.ptr;
                for (size_t i = 0; i < k; i++, bits++) {
                    if ((bits & 7) == 0)
                        b[bits >> 3] = 0;
                    b[bits >> 3] |= (uint8_t)(x->tmp[i] << (bits & 7));
                }
                c->pvals.size = (bits + 7) / 8;
            } else if (c->page_is_dict) {
                if ((rc = pond_pqw__reserve(&c->pvals, k * 4)) < 0)
                    return rc;
                uint32_t *ix = (uint32_t *)(c->pvals.ptr + c->pvals.size);
                for (size_t i = 0; i < k; i++)
                    if ((rc = pond_pqw__dict_put_fixed(&c->dict, x->tmp[i], &ix[i])) < 0)
                        return rc;
                c->pvals.size += k * 4;
            } else {
                if ((rc = pond_pqw__reserve(&c->pvals, k * (size_t)width)) < 0)
                    return rc;
                uint8_t *o = (uint8_t *)c->pvals.ptr + c->pvals.size;
                if (width == 8) {
                    memcpy(o, x->tmp, k * 8);
                } else {
                    for (size_t i = 0; i < k; i++)
                        memcpy(o + i * (size_t)width, &x->tmp[i], (size_t)width);
                }
                c->pvals.size += k * (size_t)width;
            }
            c->p_plain_bytes += k * (size_t)width;
        } else {
            if ((rc = convert_bytes(x, l, s, from, k)) < 0)
                return rc;
            if (w->opts.statistics || w->opts.page_index)
                for (size_t i = 0; i < k; i++)
                    if ((rc = pond_pqw__stats_bytes(&c->pst, l, x->tptr[i], x->tlen[i],
                                                    w->opts.max_statistics_bytes)) < 0)
                        return rc;
            size_t pre = l->phys == PQ_BYTE_ARRAY ? 4 : 0;
            if (c->page_is_dict) {
                if ((rc = pond_pqw__reserve(&c->pvals, k * 4)) < 0)
                    return rc;
                uint32_t *ix = (uint32_t *)(c->pvals.ptr + c->pvals.size);
                for (size_t i = 0; i < k; i++) {
                    if ((rc = pond_pqw__dict_put_bytes(&c->dict, x->tptr[i], x->tlen[i], &ix[i])) <
                        0)
                        return rc;
                    c->p_plain_bytes += pre + x->tlen[i];
                }
                c->pvals.size += k * 4;
            } else {
                size_t total = 0;
                for (size_t i = 0; i < k; i++)
                    total += pre + x->tlen[i];
                if ((rc = pond_pqw__reserve(&c->pvals, total)) < 0)
                    return rc;
                uint8_t *o = (uint8_t *)c->pvals.ptr + c->pvals.size;
                for (size_t i = 0; i < k; i++) {
                    if (pre) {
                        memcpy(o, &x->tlen[i], 4);
                        o += 4;
                    }
                    if (x->tlen[i])
                        memcpy(o, x->tptr[i], x->tlen[i]);
                    o += x->tlen[i];
                }
                c->pvals.size += total;
                c->p_plain_bytes += total;
            }
        }
        c->p_values += k;
        from += k;
        n -= k;
        if (c->dict_mode == DICT_TRIAL && c->page_is_dict && c->p_values >= 4096 &&
            c->dict.plain.size * 2 > c->p_plain_bytes) {
            /* Mostly distinct values: stop hashing early, PLAIN for the rest of the chunk. */
            if ((rc = dict_to_plain(x, c)) < 0)
                return rc;
            c->dict_mode = DICT_OFF;
        }
    }
    return 0;
}

/* Feed a shredded slice of one column into pages. */
static int feed(const pond_parquet_writer *w, pqw_ctx *x, pqw_col *c, const pqw_shred *s)
{
    const pqw_leaf *l = c->leaf;
    size_t lv = 0, vv = 0;
    int rc;
    int width = pond_pqw__phys_width(l);
    while (lv < s->n_levels) {
        /* Slice so that a page ends close to its target size. */
        size_t per = c->page_is_dict && c->dict_mode != DICT_TRIAL ? 1
                     : width > 1                                   ? (size_t)width
                     : l->vkind == PQW_V_BOOL                      ? 1
                     : c->p_values                                 ? c->pvals.size / c->p_values + 1
                                                                   : 16;
        size_t est = page_estimate(c), slice = SLICE;
        if (est < w->opts.page_bytes && (w->opts.page_bytes - est) / per + 1 < slice)
            slice = (w->opts.page_bytes - est) / per + 1;
        if (slice < 64)
            slice = 64;
        if (c->p_levels + slice > PAGE_MAX_LEVELS)
            slice = PAGE_MAX_LEVELS > c->p_levels + 64 ? PAGE_MAX_LEVELS - c->p_levels : 64;
        size_t end = lv + slice < s->n_levels ? lv + slice : s->n_levels;
        if (l->max_rep > 0)
            while (end < s->n_levels && s->rep[end] != 0)
                end++;
        size_t nlev = end - lv, nvals, rows;
        if (l->max_def == 0) {
            nvals = nlev;
        } else if (s->contiguous) {
            nvals = nlev;
        } else {
            nvals = 0;
            for (size_t i = lv; i < end; i++)
                nvals += s->def[i] == l->max_def;
        }
        if (l->max_rep == 0) {
            rows = nlev;
        } else {
            rows = 0;
            for (size_t i = lv; i < end; i++)
                rows += s->rep[i] == 0;
        }
        if (l->max_def > 0 && (rc = pond_pqw__put(&c->pdef, s->def + lv, nlev * 2)) < 0)
            return rc;
        if (l->max_rep > 0 && (rc = pond_pqw__put(&c->prep, s->rep + lv, nlev * 2)) < 0)
            return rc;
        if ((rc = append_values(w, x, c, s, vv, nvals)) < 0)
            return rc;
        c->pst.nulls += (int64_t)(nlev - nvals);
        c->p_levels += nlev;
        c->p_rows += rows;
        vv += nvals;
        lv = end;
        bool dict_full = c->page_is_dict && c->dict.plain.size > w->opts.dictionary_bytes;
        if (dict_full || page_estimate(c) >= w->opts.page_bytes || c->p_levels >= PAGE_MAX_LEVELS) {
            if ((rc = flush_page(w, x, c)) < 0)
                return rc;
            if (dict_full && c->dict_mode == DICT_ON) {
                c->dict_mode = DICT_FALLBACK;
                c->page_is_dict = false;
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- parallel steps */

static int ctx_init(pqw_ctx *x, const pond_parquet_writer *w)
{
    int rc = pond_pqw__codec_new(&x->codec, w->codec_id, w->opts.compression_level);
    if (rc < 0)
        return rc;
    x->tmp = pond_malloc(CHUNK * sizeof *x->tmp);
    x->tptr = pond_malloc(CHUNK * sizeof *x->tptr);
    x->tlen = pond_malloc(CHUNK * sizeof *x->tlen);
    return x->tmp && x->tptr && x->tlen ? 0 : POND_ENOMEM;
}

static void ctx_dispose(pqw_ctx *x)
{
    pond_pqw__shred_dispose(&x->shred);
    pond_pqw__codec_free(x->codec);
    pond_buf_dispose(&x->scratch);
    pond_buf_dispose(&x->cbuf);
    pond_buf_dispose(&x->hdr);
    pond_buf_dispose(&x->tmpb);
    pond_free(x->tmp);
    pond_free(x->tptr);
    pond_free(x->tlen);
    memset(x, 0, sizeof *x);
}

/* Close one column's chunk: its last page, then its dictionary page (compressed here so that
 * this work is parallel too; the row group writes it in front of the data pages). */
static int finish_chunk(const pond_parquet_writer *w, pqw_ctx *x, pqw_col *c)
{
    int rc;
    if ((rc = flush_page(w, x, c)) < 0)
        return rc;
    if (c->codec_mode == CODEC_TRIAL && (rc = decide_codec(c)) < 0)
        return rc;
    c->dpage.size = 0;
    c->dpage_uncomp = 0;
    if (!c->c_dict_used)
        return 0;
    x->scratch.size = 0;
    if ((rc = pond_pqw__put(&x->scratch, c->dict.plain.ptr, c->dict.plain.size)) < 0)
        return rc;
    pq_page_header h;
    memset(&h, 0, sizeof h);
    h.type = PQ_PAGE_DICTIONARY;
    h.has_dict = true;
    h.dict.num_values = (int32_t)c->dict.n;
    h.dict.encoding = PQ_ENC_PLAIN_DICTIONARY;
    int32_t size;
    if ((rc = emit_page(w, x, &c->dpage, &h, c->codec_mode == CODEC_RAW, &size)) < 0)
        return rc;
    c->dpage_uncomp = (int64_t)(x->hdr.size + x->scratch.size);
    return 0;
}

enum { STEP_FEED, STEP_FINISH };

static int column_step(const pond_parquet_writer *w, pqw_ctx *x, int i, int kind)
{
    pqw_col *c = &w->cols[i];
    if (kind == STEP_FINISH)
        return finish_chunk(w, x, c);
    int rc = pond_pqw__shred(&x->shred, c->leaf, w->step_batch, w->step_row, w->step_n);
    if (rc < 0)
        return rc;
    return feed(w, x, c, &x->shred);
}

typedef struct {
    const pond_parquet_writer *w;
    int kind;
} step_job;

static void step_task(void *payload, int task, int slot)
{
    step_job *j = payload;
    pqw_col *c = &j->w->cols[task];
    c->rc = column_step(j->w, &j->w->ctx[slot], task, j->kind);
    if (c->rc < 0) {
        const pond_error *e = pond_error_last();
        c->dom = e->domain;
        snprintf(c->msg, sizeof c->msg, "%s", e->message);
    }
}

/* Start the pool and the workers' scratch, once. Without threads the steps run on the caller. */
static int pool_start(pond_parquet_writer *w)
{
    int rc;
    w->pool_tried = true;
    for (int i = w->n_ctx; i < w->threads; i++) {
        if ((rc = ctx_init(&w->ctx[i], w)) < 0)
            return rc;
        w->n_ctx = i + 1;
    }
    return pond__pool_new(&w->pool, w->threads);
}

/* Run one step on every column: split across the pool's threads when it pays, otherwise in
 * column order on the caller's thread. Each column sees the same sequence of slices either
 * way, so the bytes written do not depend on the thread count. On failure the error of the
 * first failing column is returned: the one the sequential order reports. */
static int run_step(pond_parquet_writer *w, int kind, size_t work_bytes)
{
    int rc, nc = w->schema.n_leaves;
    bool split = w->threads > 1 && nc > 1 && work_bytes >= PARALLEL_MIN_BYTES;
    if (split && !w->pool_tried && (rc = pool_start(w)) < 0)
        return rc;
    if (!split || pond__pool_threads(w->pool) < 2) {
        for (int i = 0; i < nc; i++)
            if ((rc = column_step(w, &w->ctx[0], i, kind)) < 0)
                return rc;
        return 0;
    }
    step_job j = {w, kind};
    pond__pool_run(w->pool, nc, step_task, &j);
    w->parallel_steps++;
    for (int i = 0; i < nc; i++)
        if (w->cols[i].rc < 0)
            return pond_error_set(w->cols[i].rc, w->cols[i].dom, "%s", w->cols[i].msg);
    return 0;
}

/* ---------------------------------------------------------------- row groups */

static int first_codec_mode(const pond_parquet_writer *w)
{
    return w->opts.adaptive_codec && w->codec_id != PQ_CODEC_UNCOMPRESSED ? CODEC_TRIAL
                                                                          : CODEC_KEEP;
}

static size_t buffered_bytes(const pond_parquet_writer *w);

static int flush_row_group(pond_parquet_writer *w)
{
    int rc;
    int nc = w->schema.n_leaves;
    size_t closing = 0;
    for (int i = 0; i < nc; i++)
        closing += page_estimate(&w->cols[i]) + w->cols[i].dict.plain.size;
    if ((rc = run_step(w, STEP_FINISH, closing)) < 0)
        return rc;
    if (POND_GROW(w->rgs, w->n_rgs, w->cap_rgs) < 0)
        return POND_ENOMEM;
    pqw_rg_meta *rg = &w->rgs[w->n_rgs];
    memset(rg, 0, sizeof *rg);
    rg->cols = pond_calloc((size_t)nc, sizeof *rg->cols);
    if (!rg->cols)
        return POND_ENOMEM;
    w->n_rgs++;
    rg->rows = w->rg_rows;
    rg->file_offset = w->pos;
    for (int i = 0; i < nc; i++) {
        pqw_col *c = &w->cols[i];
        const pqw_leaf *l = c->leaf;
        pqw_chunk_meta *m = &rg->cols[i];
        m->ci_off = m->oi_off = -1;
        m->dict_page_offset = -1;
        m->file_offset = w->pos;
        int64_t dict_bytes = 0, dict_uncomp = 0;
        if (c->c_dict_used) {
            m->dict_page_offset = w->pos;
            dict_uncomp = c->dpage_uncomp;
            dict_bytes = (int64_t)c->dpage.size;
            if ((rc = sink_write(w, c->dpage.ptr, c->dpage.size)) < 0)
                return rc;
        }
        int64_t data_start = w->pos;
        m->data_page_offset = data_start;
        if ((rc = sink_write(w, c->chunk.ptr, c->chunk.size)) < 0)
            return rc;
        m->num_values = c->c_levels;
        m->comp = c->c_comp + dict_bytes;
        m->uncomp = c->c_uncomp + dict_uncomp;
        m->encs = (c->c_encs ? c->c_encs : 1u << PQ_ENC_PLAIN) | (1u << PQ_ENC_RLE);
        m->codec = c->codec_mode == CODEC_RAW ? PQ_CODEC_UNCOMPRESSED : w->codec_id;
        rg->total_byte_size += m->uncomp;
        rg->total_comp += m->comp;
        if (w->opts.statistics) {
            m->has_stats = true;
            m->nulls = c->cst.nulls;
            if (c->cst.has && !c->cst.too_long) {
                m->has_minmax = true;
                m->min_off = w->stat_bytes.size;
                if ((rc = pond_pqw__stats_value(&w->stat_bytes, &c->cst, l, 0)) < 0)
                    return rc;
                m->min_len = w->stat_bytes.size - m->min_off;
                m->max_off = w->stat_bytes.size;
                if ((rc = pond_pqw__stats_value(&w->stat_bytes, &c->cst, l, 1)) < 0)
                    return rc;
                m->max_len = w->stat_bytes.size - m->max_off;
            }
        }
        if (w->opts.page_index && c->n_pages > 0) {
            size_t np = c->n_pages;
            pq_page_location *locs = pond_calloc(np, sizeof *locs);
            bool *nullp = pond_calloc(np, sizeof *nullp);
            pq_bytes *mins = pond_calloc(np, sizeof *mins), *maxs = pond_calloc(np, sizeof *maxs);
            int64_t *ncount = pond_calloc(np, sizeof *ncount);
            bool ci_ok = true;
            int asc = 1, desc = 1;
            rc = locs && nullp && mins && maxs && ncount ? 0 : POND_ENOMEM;
            for (size_t p = 0; rc == 0 && p < np; p++) {
                const pqw_pageinfo *pi = &c->pages[p];
                locs[p].offset = data_start + pi->offset;
                locs[p].compressed_page_size = pi->size;
                locs[p].first_row_index = pi->first_row;
                nullp[p] = pi->null_page;
                ncount[p] = pi->nulls;
                static const uint8_t empty[1] = {0};
                if (pi->null_page) {
                    mins[p].ptr = maxs[p].ptr = empty;
                } else if (!pi->has_minmax) {
                    ci_ok = false;
                } else {
                    mins[p].ptr = (const uint8_t *)c->pi_bytes.ptr + pi->min_off;
                    mins[p].len = pi->min_len;
                    maxs[p].ptr = (const uint8_t *)c->pi_bytes.ptr + pi->max_off;
                    maxs[p].len = pi->max_len;
                }
            }
            if (rc == 0 && ci_ok) {
                /* boundary order over non-null pages */
                ssize_t prev = -1;
                for (size_t p = 0; p < np; p++) {
                    if (nullp[p])
                        continue;
                    if (prev >= 0) {
                        int a, b;
                        if (pond_pqw__is_fixed64(l)) {
                            uint64_t x = 0, y = 0;
                            memcpy(&x, mins[prev].ptr, mins[prev].len);
                            memcpy(&y, mins[p].ptr, mins[p].len);
                            a = pond_pqw__cmp_num(l, x, y);
                            memcpy(&x, maxs[prev].ptr, maxs[prev].len);
                            memcpy(&y, maxs[p].ptr, maxs[p].len);
                            b = pond_pqw__cmp_num(l, x, y);
                        } else {
                            a = pond_pqw__cmp_bytes(l, mins[prev].ptr, mins[prev].len, mins[p].ptr,
                                                    mins[p].len);
                            b = pond_pqw__cmp_bytes(l, maxs[prev].ptr, maxs[prev].len, maxs[p].ptr,
                                                    maxs[p].len);
                        }
                        if (a > 0 || b > 0)
                            asc = 0;
                        if (a < 0 || b < 0)
                            desc = 0;
                    }
                    prev = (ssize_t)p;
                }
                pq_column_index ci;
                memset(&ci, 0, sizeof ci);
                ci.n_pages = (uint32_t)np;
                ci.null_pages = nullp;
                ci.min_values = mins;
                ci.max_values = maxs;
                ci.boundary_order = asc ? 1 : desc ? 2 : 0;
                ci.n_null_counts = (uint32_t)np;
                ci.null_counts = ncount;
                pq_tenc e;
                size_t at = w->ci_buf.size;
                pond_pq_tenc_init(&e, &w->ci_buf);
                pond_pq_encode_column_index(&e, &ci);
                rc = e.rc;
                m->ci_off = (int64_t)at;
                m->ci_len = (int32_t)(w->ci_buf.size - at);
            }
            if (rc == 0) {
                pq_offset_index oi = {(uint32_t)np, locs};
                pq_tenc e;
                size_t at = w->oi_buf.size;
                pond_pq_tenc_init(&e, &w->oi_buf);
                pond_pq_encode_offset_index(&e, &oi);
                rc = e.rc;
                m->oi_off = (int64_t)at;
                m->oi_len = (int32_t)(w->oi_buf.size - at);
            }
            pond_free(locs);
            pond_free(nullp);
            pond_free(mins);
            pond_free(maxs);
            pond_free(ncount);
            if (rc < 0)
                return rc;
        }
        /* reset the chunk, keeping its buffers */
        c->chunk.size = 0;
        c->c_uncomp = c->c_comp = c->c_levels = c->c_rows = 0;
        c->c_dict_used = false;
        c->c_encs = 0;
        c->codec_mode = first_codec_mode(w);
        c->t_raw = c->t_comp = 0;
        c->n_pages = 0;
        c->pi_bytes.size = 0;
        pond_pqw__stats_reset(&c->cst);
        pond_pqw__dict_clear(&c->dict);
        c->dict_mode = w->opts.dictionary_bytes && l->vkind != PQW_V_BOOL ? DICT_TRIAL : DICT_OFF;
        c->page_is_dict = c->dict_mode == DICT_TRIAL;
    }
    w->rg_rows = 0;
    return 0;
}

static size_t buffered_bytes(const pond_parquet_writer *w)
{
    size_t n = 0;
    for (int i = 0; i < w->schema.n_leaves; i++)
        n += w->cols[i].chunk.size + page_estimate(&w->cols[i]);
    return n;
}

/* ---------------------------------------------------------------- public API */

int pond_parquet_writer_new(pond_parquet_writer **out, const pond_parquet_sink *sink,
                            const struct ArrowSchema *schema,
                            const pond_parquet_writer_options *opts)
{
    static const pond_parquet_writer_options defaults = POND_PARQUET_WRITER_OPTIONS_INIT;
    int rc;
    POND_ASSERT_ARG(out);
    *out = NULL;
    POND_ASSERT_ARG(sink && sink->write && schema);
    if (!opts)
        opts = &defaults;
    if (opts->version < 1 || opts->version > POND_PARQUET_WRITER_OPTIONS_VERSION)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                              "parquet writer: unknown options version %u", opts->version);
    pond_parquet_writer *w = pond_calloc(1, sizeof *w);
    if (!w)
        return POND_ENOMEM;
    w->sink = *sink;
    /* an older caller's struct ends before the fields its version lacks */
    w->opts = defaults;
    memcpy(&w->opts, opts,
           opts->version >= 3   ? sizeof *opts
           : opts->version == 2 ? offsetof(pond_parquet_writer_options, adaptive_codec)
                                : offsetof(pond_parquet_writer_options, delta_ints));
    if (w->opts.row_group_rows <= 0)
        w->opts.row_group_rows = defaults.row_group_rows;
    if (w->opts.row_group_bytes == 0)
        w->opts.row_group_bytes = defaults.row_group_bytes;
    if (w->opts.page_bytes == 0)
        w->opts.page_bytes = defaults.page_bytes;
    if (w->opts.page_bytes > ((size_t)256 << 20))
        w->opts.page_bytes = (size_t)256 << 20;
    if (w->opts.max_statistics_bytes == 0)
        w->opts.max_statistics_bytes = defaults.max_statistics_bytes;
    w->opts.kv_keys = w->opts.kv_values = NULL;
    w->codec_id = (int)opts->compression;
    if ((rc = pond_pqw__schema_build(&w->schema, schema)) < 0 ||
        (rc = pond_arrow_schema_copy(&w->aschema, schema)) < 0)
        goto fail;
    if (opts->n_kv > 0) {
        w->kv_keys = pond_calloc((size_t)opts->n_kv, sizeof *w->kv_keys);
        w->kv_values = pond_calloc((size_t)opts->n_kv, sizeof *w->kv_values);
        if (!w->kv_keys || !w->kv_values) {
            rc = POND_ENOMEM;
            goto fail;
        }
        w->n_kv = opts->n_kv;
        w->cap_kv_keys = w->cap_kv_values = (size_t)opts->n_kv;
        for (int i = 0; i < opts->n_kv; i++) {
            if (!opts->kv_keys || !opts->kv_keys[i]) {
                rc = pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                                    "parquet writer: key-value metadata %d has no key", i);
                goto fail;
            }
            if (!(w->kv_keys[i] = pond_strdup(opts->kv_keys[i])) ||
                (opts->kv_values && opts->kv_values[i] &&
                 !(w->kv_values[i] = pond_strdup(opts->kv_values[i])))) {
                rc = POND_ENOMEM;
                goto fail;
            }
        }
    }
    w->threads =
        opts->threads <= 0 ? POND_PARQUET_THREADS_DEFAULT : POND_MIN(opts->threads, MAX_THREADS);
    w->ctx = pond_calloc((size_t)w->threads, sizeof *w->ctx);
    if (!w->ctx) {
        rc = POND_ENOMEM;
        goto fail;
    }
    w->n_ctx = 1; /* disposed even when its init fails half way */
    if ((rc = ctx_init(&w->ctx[0], w)) < 0)
        goto fail;
    w->cols = pond_calloc((size_t)w->schema.n_leaves, sizeof *w->cols);
    if (!w->cols) {
        rc = POND_ENOMEM;
        goto fail;
    }
    for (int i = 0; i < w->schema.n_leaves; i++) {
        pqw_col *c = &w->cols[i];
        c->leaf = &w->schema.leaves[i];
        int width = c->leaf->phys == PQ_BYTE_ARRAY ? 0 : pond_pqw__phys_width(c->leaf);
        pond_pqw__dict_init(&c->dict, width, pond_pqw__is_fixed64(c->leaf));
        c->dict_mode =
            (w->opts.dictionary_bytes && c->leaf->vkind != PQW_V_BOOL) ? DICT_TRIAL : DICT_OFF;
        c->page_is_dict = c->dict_mode == DICT_TRIAL;
        c->codec_mode = first_codec_mode(w);
    }
    if ((rc = sink_write(w, "PAR1", 4)) < 0)
        goto fail;
    *out = w;
    return 0;
fail:
    pond_parquet_writer_free(w);
    return rc;
}

int64_t pond_pqw__parallel_steps(const pond_parquet_writer *w) { return w->parallel_steps; }

int64_t pond_parquet_writer_rows(const pond_parquet_writer *w) { return w ? w->rows_total : 0; }

/* 0 when w can take more: not failed, not finished. */
static int writable(const pond_parquet_writer *w)
{
    if (w->err)
        return pond_error_set(w->err, POND_DOM_PARQUET, "parquet writer: failed earlier (%s)",
                              pond_error_name(w->err));
    if (w->finished)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "parquet writer: already finished");
    return 0;
}

int pond_parquet_writer_write(pond_parquet_writer *w, const struct ArrowArray *batch)
{
    int rc;
    POND_ASSERT_ARG(w && batch);
    if ((rc = writable(w)) < 0)
        return rc;
    if (!batch->release || batch->n_children != w->schema.elems[0].num_children ||
        batch->length < 0)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                              "parquet writer: batch does not match the schema (%" PRId64
                              " columns, want %d)",
                              batch->n_children, w->schema.elems[0].num_children);
    /* Never read outside the caller's buffers: offsets, lengths and children are checked. */
    if ((rc = pond_arrow_array_validate(&w->aschema, batch)) < 0)
        return rc;
    if (batch->null_count > 0)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                              "parquet writer: a record batch cannot have null rows");
    int64_t row = 0;
    while (row < batch->length) {
        int64_t n = batch->length - row;
        int64_t room = w->opts.row_group_rows - w->rg_rows;
        if (n > room)
            n = room;
        /* Keep slices small enough that the byte limit is checked about 8 times per row
         * group (at least 1024 rows, at most 65536). */
        int64_t per_row = w->row_bytes_est > 0 ? w->row_bytes_est : 64;
        int64_t cap = (int64_t)(w->opts.row_group_bytes / 8) / per_row;
        cap = cap < 1024 ? 1024 : cap > 65536 ? 65536 : cap;
        if (n > cap)
            n = cap;
        w->step_batch = batch;
        w->step_row = row;
        w->step_n = n;
        rc = run_step(w, STEP_FEED, (size_t)n * (size_t)w->schema.n_leaves * 8);
        w->step_batch = NULL;
        if (rc < 0)
            return sticky(w, rc);
        row += n;
        w->rg_rows += n;
        w->rows_total += n;
        size_t buffered = buffered_bytes(w);
        w->row_bytes_est = (int64_t)(buffered / (size_t)w->rg_rows) + 1;
        if (w->rg_rows >= w->opts.row_group_rows || buffered >= w->opts.row_group_bytes)
            if ((rc = flush_row_group(w)) < 0)
                return sticky(w, rc);
    }
    return 0;
}

static int write_footer(pond_parquet_writer *w)
{
    int rc = 0;
    int64_t ci_base = w->pos;
    if ((rc = sink_write(w, w->ci_buf.ptr, w->ci_buf.size)) < 0)
        return rc;
    int64_t oi_base = w->pos;
    if ((rc = sink_write(w, w->oi_buf.ptr, w->oi_buf.size)) < 0)
        return rc;
    const pqw_schema *sc = &w->schema;
    int nc = sc->n_leaves;
    pq_file_meta fm;
    memset(&fm, 0, sizeof fm);
    pq_schema_element *se = pond_calloc((size_t)sc->n_elems, sizeof *se);
    pq_row_group *rgs = pond_calloc(w->n_rgs ? w->n_rgs : 1, sizeof *rgs);
    pq_column_chunk *ccs = pond_calloc(w->n_rgs * (size_t)nc + 1, sizeof *ccs);
    pq_bytes *paths = NULL;
    pq_kv *kvs = pond_calloc((size_t)w->n_kv + 1, sizeof *kvs);
    /* every chunk's encodings, in increasing order (as before: PLAIN, PLAIN_DICTIONARY, RLE) */
    int32_t *encs = pond_calloc(w->n_rgs * (size_t)nc * 8 + 1, sizeof *encs);
    size_t n_path_total = 0;
    for (int i = 0; i < nc; i++)
        n_path_total += (size_t)sc->leaves[i].n_path;
    paths = pond_calloc(n_path_total + 1, sizeof *paths);
    pond_buf meta = POND_BUF_INIT;
    char created[64];
    if (!se || !rgs || !ccs || !paths || !kvs || !encs) {
        rc = POND_ENOMEM;
        goto done;
    }
    for (int i = 0; i < sc->n_elems; i++) {
        const pqw_selem *s = &sc->elems[i];
        pq_schema_element *d = &se[i];
        d->type = s->type;
        d->type_length = s->type_length;
        d->repetition = s->repetition;
        d->name.ptr = (const uint8_t *)s->name;
        d->name.len = strlen(s->name);
        d->num_children = s->num_children;
        d->converted_type = s->converted;
        d->scale = s->scale;
        d->precision = s->precision;
        d->logical.kind = s->lt;
        d->logical.scale = s->scale;
        d->logical.precision = s->precision;
        d->logical.unit = s->lt_unit;
        d->logical.utc = s->lt_utc;
        d->logical.bit_width = s->lt_bits;
        d->logical.is_signed = s->lt_signed;
    }
    size_t pi = 0;
    pq_bytes *leaf_path = paths;
    for (int i = 0; i < nc; i++)
        for (int j = 0; j < sc->leaves[i].n_path; j++) {
            paths[pi].ptr = (const uint8_t *)sc->leaves[i].path[j];
            paths[pi++].len = strlen(sc->leaves[i].path[j]);
        }
    for (size_t r = 0; r < w->n_rgs; r++) {
        const pqw_rg_meta *m = &w->rgs[r];
        pq_row_group *g = &rgs[r];
        g->n_columns = (uint32_t)nc;
        g->columns = &ccs[r * (size_t)nc];
        g->total_byte_size = m->total_byte_size;
        g->num_rows = m->rows;
        g->file_offset = m->file_offset;
        g->total_compressed_size = m->total_comp;
        g->ordinal = r < 32767 ? (int32_t)r : -1;
        size_t poff = 0;
        for (int i = 0; i < nc; i++) {
            const pqw_chunk_meta *cm = &m->cols[i];
            pq_column_chunk *cc = &g->columns[i];
            pq_column_meta *md = &cc->meta_data;
            cc->file_offset = cm->file_offset;
            cc->has_meta_data = true;
            cc->offset_index_offset = cm->oi_off >= 0 ? oi_base + cm->oi_off : -1;
            cc->offset_index_length = cm->oi_len;
            cc->column_index_offset = cm->ci_off >= 0 ? ci_base + cm->ci_off : -1;
            cc->column_index_length = cm->ci_len;
            md->type = sc->leaves[i].phys;
            md->encodings = encs + (r * (size_t)nc + (size_t)i) * 8;
            md->n_encodings = 0;
            for (int32_t e = 0; e < 32 && md->n_encodings < 8; e++)
                if (cm->encs & (1u << e))
                    md->encodings[md->n_encodings++] = e;
            md->path = leaf_path + poff;
            md->n_path = (uint32_t)sc->leaves[i].n_path;
            poff += (size_t)sc->leaves[i].n_path;
            md->codec = cm->codec;
            md->num_values = cm->num_values;
            md->total_uncompressed_size = cm->uncomp;
            md->total_compressed_size = cm->comp;
            md->data_page_offset = cm->data_page_offset;
            md->index_page_offset = -1;
            md->dictionary_page_offset = cm->dict_page_offset;
            md->bloom_filter_offset = -1;
            md->bloom_filter_length = -1;
            if (cm->has_stats) {
                pq_statistics *st = &md->statistics;
                md->has_statistics = true;
                st->has_null_count = true;
                st->null_count = cm->nulls;
                if (cm->has_minmax) {
                    st->min_value.ptr = (const uint8_t *)w->stat_bytes.ptr + cm->min_off;
                    st->min_value.len = cm->min_len;
                    st->max_value.ptr = (const uint8_t *)w->stat_bytes.ptr + cm->max_off;
                    st->max_value.len = cm->max_len;
                    if (!st->min_value.len) /* an empty binary min: keep it non-NULL */
                        st->min_value.ptr = (const uint8_t *)"";
                    if (!st->max_value.len)
                        st->max_value.ptr = (const uint8_t *)"";
                    st->has_max_exact = st->has_min_exact = true;
                    st->is_max_value_exact = st->is_min_value_exact = true;
                }
            }
        }
    }
    for (int i = 0; i < w->n_kv; i++) {
        kvs[i].key.ptr = (const uint8_t *)w->kv_keys[i];
        kvs[i].key.len = strlen(w->kv_keys[i]);
        if (w->kv_values[i]) {
            kvs[i].value.ptr = (const uint8_t *)w->kv_values[i];
            kvs[i].value.len = strlen(w->kv_values[i]);
        }
    }
    snprintf(created, sizeof created, POND_PARQUET_CREATED_BY_PREFIX "%s", pond_version());
    fm.version = 1;
    fm.n_schema = (uint32_t)sc->n_elems;
    fm.schema = se;
    fm.num_rows = w->rows_total;
    fm.n_row_groups = (uint32_t)w->n_rgs;
    fm.row_groups = rgs;
    fm.n_kv = (uint32_t)w->n_kv;
    fm.kv = kvs;
    fm.created_by.ptr = (const uint8_t *)created;
    fm.created_by.len = strlen(created);
    fm.n_column_orders = (uint32_t)nc;
    pq_tenc e;
    pond_pq_tenc_init(&e, &meta);
    pond_pq_encode_file_meta(&e, &fm);
    if ((rc = e.rc) < 0)
        goto done;
    if (meta.size > UINT32_MAX) {
        rc = pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "parquet writer: footer too large");
        goto done;
    }
    uint32_t len = (uint32_t)meta.size;
    uint8_t tail[8];
    memcpy(tail, &len, 4);
    memcpy(tail + 4, "PAR1", 4);
    if ((rc = sink_write(w, meta.ptr, meta.size)) < 0 || (rc = sink_write(w, tail, 8)) < 0)
        goto done;
    if (w->sink.sync)
        rc = w->sink.sync(w->sink.payload);
done:
    pond_buf_dispose(&meta);
    pond_free(se);
    pond_free(rgs);
    pond_free(ccs);
    pond_free(paths);
    pond_free(kvs);
    pond_free(encs);
    return rc;
}

int pond_parquet_writer_flush(pond_parquet_writer *w)
{
    int rc;
    POND_ASSERT_ARG(w);
    if ((rc = writable(w)) < 0)
        return rc;
    if (w->rg_rows > 0 && (rc = flush_row_group(w)) < 0)
        return sticky(w, rc);
    return 0;
}

int pond_parquet_writer_num_row_groups(const pond_parquet_writer *w) { return (int)w->n_rgs; }

int pond_parquet_writer_add_kv(pond_parquet_writer *w, const char *key, const char *value)
{
    POND_ASSERT_ARG(w && key);
    if (w->finished)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "parquet writer: already finished");
    if (POND_GROW(w->kv_keys, (size_t)w->n_kv, w->cap_kv_keys) < 0 ||
        POND_GROW(w->kv_values, (size_t)w->n_kv, w->cap_kv_values) < 0)
        return POND_ENOMEM;
    char *kc = pond_strdup(key), *vc = value ? pond_strdup(value) : NULL;
    if (!kc || (value && !vc)) {
        pond_free(kc);
        pond_free(vc);
        return POND_ENOMEM;
    }
    w->kv_keys[w->n_kv] = kc;
    w->kv_values[w->n_kv] = vc;
    w->n_kv++;
    return 0;
}

int pond_parquet_writer_finish(pond_parquet_writer *w)
{
    int rc;
    POND_ASSERT_ARG(w);
    if ((rc = pond_parquet_writer_flush(w)) < 0)
        return rc;
    if ((rc = write_footer(w)) < 0)
        return sticky(w, rc);
    w->finished = true;
    return 0;
}

void pond_parquet_writer_free(pond_parquet_writer *w)
{
    if (!w)
        return;
    for (int i = 0; w->cols && i < w->schema.n_leaves; i++) {
        pqw_col *c = &w->cols[i];
        pond_buf_dispose(&c->pdef);
        pond_buf_dispose(&c->prep);
        pond_buf_dispose(&c->pvals);
        pond_buf_dispose(&c->pst.bmin);
        pond_buf_dispose(&c->pst.bmax);
        pond_buf_dispose(&c->cst.bmin);
        pond_buf_dispose(&c->cst.bmax);
        pond_pqw__dict_dispose(&c->dict);
        pond_buf_dispose(&c->chunk);
        pond_buf_dispose(&c->raw);
        pond_free(c->pages);
        pond_buf_dispose(&c->pi_bytes);
        pond_buf_dispose(&c->dpage);
    }
    pond_free(w->cols);
    pond__pool_free(w->pool); /* joins the workers before their scratch goes */
    for (int i = 0; w->ctx && i < w->n_ctx; i++)
        ctx_dispose(&w->ctx[i]);
    pond_free(w->ctx);
    for (size_t r = 0; r < w->n_rgs; r++)
        pond_free(w->rgs[r].cols);
    pond_free(w->rgs);
    for (int i = 0; i < w->n_kv; i++) {
        pond_free(w->kv_keys[i]);
        pond_free(w->kv_values[i]);
    }
    pond_free(w->kv_keys);
    pond_free(w->kv_values);
    pond_pqw__schema_dispose(&w->schema);
    pond_arrow_schema_release(&w->aschema);
    pond_buf_dispose(&w->stat_bytes);
    pond_buf_dispose(&w->ci_buf);
    pond_buf_dispose(&w->oi_buf);
    pond_free(w);
}

/* ---------------------------------------------------------------- host-file sink */

typedef struct {
    int fd;
    char *path;
} file_sink;

static int file_sink_write(const void *data, size_t len, void *payload)
{
    file_sink *f = payload;
    return pond__write_all(f->fd, data, len, f->path, POND_DOM_PARQUET);
}

static int file_sink_sync(void *payload)
{
    file_sink *f = payload;
    return pond__fsync(f->fd, f->path, POND_DOM_PARQUET);
}

int pond_parquet_file_sink_open(pond_parquet_sink *out, const char *path)
{
    int rc;
    POND_ASSERT_ARG(out && path);
    memset(out, 0, sizeof *out);
    file_sink *f = pond_calloc(1, sizeof *f);
    if (!f)
        return POND_ENOMEM;
    if (!(f->path = pond_strdup(path))) {
        pond_free(f);
        return POND_ENOMEM;
    }
    if ((rc = pond__open(&f->fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644,
                         POND_DOM_PARQUET)) < 0) {
        pond_free(f->path);
        pond_free(f);
        return rc;
    }
    out->write = file_sink_write;
    out->sync = file_sink_sync;
    out->payload = f;
    return 0;
}

int pond_parquet_file_sink_close(pond_parquet_sink *sink)
{
    if (!sink || !sink->payload)
        return 0;
    file_sink *f = sink->payload;
    pond__close(f->fd);
    pond_free(f->path);
    pond_free(f);
    memset(sink, 0, sizeof *sink);
    return 0;
}

int pond_parquet_write_file(const char *path, const struct ArrowSchema *schema,
                            const struct ArrowArray *const *batches, size_t n_batches,
                            const pond_parquet_writer_options *opts)
{
    pond_parquet_sink sink;
    pond_parquet_writer *w = NULL;
    int rc;
    POND_ASSERT_ARG(path && schema && (batches || n_batches == 0));
    if ((rc = pond_parquet_file_sink_open(&sink, path)) < 0)
        return rc; /* nothing created: leave whatever is at path alone */
    if ((rc = pond_parquet_writer_new(&w, &sink, schema, opts)) < 0)
        goto done;
    for (size_t i = 0; i < n_batches && rc == 0; i++)
        rc = pond_parquet_writer_write(w, batches[i]);
    if (rc == 0)
        rc = pond_parquet_writer_finish(w);
done:
    pond_parquet_writer_free(w);
    pond_parquet_file_sink_close(&sink);
    if (rc < 0)
        (void)pond__os_unlink(path); /* no half-written file is left behind */
    return rc;
}
