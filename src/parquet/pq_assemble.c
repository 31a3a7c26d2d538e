/* Assembly of decoded column chunks (levels + dense values) into Arrow arrays.
 *
 * A node's slots are the level entries of its first leaf with def >= slot_def and
 * rep <= rep; a slot is valid when def >= the node's def. A list's child slots between two of
 * its own slots are its elements. Every leaf under a node sees the same slots, which is
 * checked: columns of different shapes in one row group are corrupt. */
#include "parquet/pq_schema.h"

#include "arrow/arrow_cache.h"
#include "util/util.h"

#include <string.h>

static int shape_error(const pq_node *n, const char *what)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "column '%s': %s", n->name, what);
}

static inline int lvl(const int16_t *a, int64_t i) { return a ? a[i] : 0; }

/* Validity bitmap for the node's slots; returns the slot count and null count. */
static int slots_and_validity(const pq_node *n, const pq_chunk *c, uint8_t **valid_out,
                              int64_t *len_out, int64_t *nulls_out)
{
    const int16_t *def = c->def, *rep = c->rep;
    int64_t len = 0, nulls = 0;
    *valid_out = NULL;
    if (!rep && n->slot_def == 0) {
        len = c->n_levels;
    } else {
        for (int64_t i = 0; i < c->n_levels; i++)
            len += lvl(def, i) >= n->slot_def && lvl(rep, i) <= n->rep;
    }
    bool flat = !rep && n->slot_def == 0;
    if (flat && n->kind == PQN_LEAF && c->n_values == c->n_levels) {
        /* every level entry carried a value: nothing is null */
        *len_out = len;
        *nulls_out = 0;
        return 0;
    }
    if (def && n->def > 0 && flat) {
        /* common case first: count, and build a bitmap only when something is null */
        int64_t k = 0;
        for (int64_t i = 0; i < c->n_levels; i++)
            k += def[i] < n->def;
        if (k == 0) {
            *len_out = len;
            *nulls_out = 0;
            return 0;
        }
    }
    if (def && n->def > 0) {
        uint8_t *v = pond_calloc(1, (size_t)(len + 7) / 8 + 1);
        if (!v)
            return POND_ENOMEM;
        int64_t s = 0;
        if (!rep && n->slot_def == 0) {
            for (int64_t i = 0; i < c->n_levels; i++) {
                bool ok = def[i] >= n->def;
                v[i >> 3] |= (uint8_t)(ok << (i & 7));
                nulls += !ok;
            }
        } else {
            for (int64_t i = 0; i < c->n_levels; i++) {
                if (def[i] >= n->slot_def && lvl(rep, i) <= n->rep) {
                    bool ok = def[i] >= n->def;
                    v[s >> 3] |= (uint8_t)(ok << (s & 7));
                    nulls += !ok;
                    s++;
                }
            }
        }
        if (nulls == 0) {
            pond_free(v);
            v = NULL;
        }
        *valid_out = v;
    }
    *len_out = len;
    *nulls_out = nulls;
    return 0;
}

static int64_t read_i32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}
static int64_t read_i64(const uint8_t *p)
{
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void put_decimal(uint8_t *dst, size_t w, int64_t v)
{
    memcpy(dst, &v, 8);
    memset(dst + 8, v < 0 ? 0xff : 0, w - 8);
}

/* Convert value k of the chunk into dst (one Arrow value of out_width bytes). */
static void convert_one(const pq_node *n, const pq_chunk *c, int64_t k, uint8_t *dst)
{
    size_t w = n->desc.width;
    const uint8_t *src = c->values ? c->values + (size_t)k * w : NULL;
    switch (n->conv) {
    case PQC_I32_I8:
        dst[0] = (uint8_t)read_i32(src);
        break;
    case PQC_I32_I16: {
        int16_t v = (int16_t)read_i32(src);
        memcpy(dst, &v, 2);
        break;
    }
    case PQC_INT96_NS: {
        int64_t nanos = read_i64(src);
        int32_t jd = (int32_t)read_i32(src + 8);
        uint64_t ns = (uint64_t)((int64_t)jd - 2440588) * 86400000000000ULL + (uint64_t)nanos;
        memcpy(dst, &ns, 8);
        break;
    }
    case PQC_INT96_US: {
        int64_t nanos = read_i64(src);
        int32_t jd = (int32_t)read_i32(src + 8);
        uint64_t us = (uint64_t)((int64_t)jd - 2440588) * 86400000000ULL + (uint64_t)(nanos / 1000);
        memcpy(dst, &us, 8);
        break;
    }
    case PQC_DEC_I32:
        put_decimal(dst, n->out_width, read_i32(src));
        break;
    case PQC_DEC_I64:
        put_decimal(dst, n->out_width, read_i64(src));
        break;
    case PQC_DEC_BE: {
        const uint8_t *p;
        size_t len;
        if (n->desc.physical == PQ_BYTE_ARRAY) {
            const int32_t *o = (const int32_t *)(void *)c->bytes.offsets.ptr;
            len = (size_t)(o[k + 1] - o[k]);
            p = len ? (const uint8_t *)c->bytes.data.ptr + o[k] : (const uint8_t *)"";
        } else {
            p = src;
            len = w;
        }
        bool neg = len > 0 && (p[0] & 0x80);
        memset(dst, neg ? 0xff : 0, n->out_width);
        /* keep the low out_width bytes (larger values were refused by the schema or are
         * sign padding) */
        for (size_t i = 0; i < len && i < n->out_width; i++)
            dst[i] = p[len - 1 - i];
        break;
    }
    case PQC_INTERVAL: {
        uint32_t months, days, millis;
        memcpy(&months, src, 4);
        memcpy(&days, src + 4, 4);
        memcpy(&millis, src + 8, 4);
        int64_t ns = (int64_t)millis * 1000000;
        memcpy(dst, &months, 4);
        memcpy(dst + 4, &days, 4);
        memcpy(dst + 8, &ns, 8);
        break;
    }
    default:
        memcpy(dst, src, n->out_width);
    }
}

static int assemble_leaf(struct ArrowArray *out, const pq_node *n, pq_chunk *c)
{
    uint8_t *valid;
    int64_t len, nulls;
    int rc = slots_and_validity(n, c, &valid, &len, &nulls);
    if (rc < 0)
        return rc;
    if (len - nulls != c->n_values) {
        pond_free(valid);
        return shape_error(n, "value count differs from the defined levels");
    }
    bool bytes = n->conv == PQC_BYTES;
    if ((rc = pond_arrow_array_init(out, len, nulls, bytes ? 3 : 2, 0)) < 0) {
        pond_free(valid);
        return rc;
    }
    pond_arrow_array_set_buffer(out, 0, valid);
    if (bytes) {
        int32_t *off;
        if (nulls == 0 && c->bytes.offsets.ptr) {
            off = (int32_t *)(void *)c->bytes.offsets.ptr;
            c->bytes.offsets.ptr = NULL;
            c->bytes.offsets.size = c->bytes.offsets.asize = 0;
        } else {
            const int32_t *src = (const int32_t *)(void *)c->bytes.offsets.ptr;
            if (!(off = pond_malloc((size_t)(len + 1) * sizeof *off)))
                goto oom;
            int64_t k = 0;
            off[0] = 0;
            for (int64_t s = 0; s < len; s++) {
                if (!valid || ((valid[s >> 3] >> (s & 7)) & 1))
                    k++;
                off[s + 1] = src ? src[k] : 0;
            }
        }
        pond_arrow_array_set_buffer(out, 1, off);
        void *data = c->bytes.data.ptr;
        if (data) {
            c->bytes.data.ptr = NULL;
            c->bytes.data.size = c->bytes.data.asize = 0;
        } else if (!(data = pond_calloc(1, 1))) {
            goto oom;
        }
        pond_arrow_array_set_buffer(out, 2, data);
        return 0;
    }
    if (n->conv == PQC_BOOL) {
        uint8_t *bits = pond_arrow_array_alloc_buffer(out, 1, (size_t)(len + 7) / 8 + 1);
        if (!bits)
            goto oom;
        int64_t k = 0;
        for (int64_t s = 0; s < len; s++) {
            if (valid && !((valid[s >> 3] >> (s & 7)) & 1))
                continue;
            bits[s >> 3] |= (uint8_t)((c->values[k++] & 1) << (s & 7));
        }
        return 0;
    }
    size_t ow = n->out_width;
    if (n->conv == PQC_COPY && nulls == 0 && c->values) {
        /* zero copy: the decoded buffer is the Arrow buffer */
        pond_arrow__array_set_cached_buffer(out, 1, c->values, c->values_cap, c->cache);
        c->values = NULL;
        c->values_cap = 0;
        return 0;
    }
    uint8_t *dst = pond_arrow_array_alloc_buffer(out, 1, (size_t)len * ow);
    if (!dst)
        goto oom;
    if (n->conv == PQC_COPY) {
        if (nulls == 0) {
            if (len)
                memcpy(dst, c->values, (size_t)len * ow);
            return 0;
        }
        int64_t k = 0;
        for (int64_t s = 0; s < len; s++)
            if ((valid[s >> 3] >> (s & 7)) & 1)
                memcpy(dst + (size_t)s * ow, c->values + (size_t)(k++) * ow, ow);
        return 0;
    }
    int64_t k = 0;
    for (int64_t s = 0; s < len; s++)
        if (!valid || ((valid[s >> 3] >> (s & 7)) & 1))
            convert_one(n, c, k++, dst + (size_t)s * ow);
    return 0;
oom:
    pond_arrow_array_release(out);
    return POND_ENOMEM;
}

static int assemble_rec(struct ArrowArray *out, const pq_node *n, pq_chunk *chunks,
                        int64_t expect_len, int depth);

static int assemble_group(struct ArrowArray *out, const pq_node *n, pq_chunk *chunks, int depth)
{
    pq_chunk *c = &chunks[n->first_leaf];
    uint8_t *valid;
    int64_t len, nulls;
    int rc = slots_and_validity(n, c, &valid, &len, &nulls);
    if (rc < 0)
        return rc;
    bool list = n->kind != PQN_STRUCT;
    if ((rc = pond_arrow_array_init(out, len, nulls, list ? 2 : 1, n->n_children)) < 0) {
        pond_free(valid);
        return rc;
    }
    pond_arrow_array_set_buffer(out, 0, valid);
    int64_t child_len = len;
    if (list) {
        const pq_node *ch = n->children[0];
        int32_t *off = pond_arrow_array_alloc_buffer(out, 1, (size_t)(len + 1) * sizeof *off);
        if (!off) {
            pond_arrow_array_release(out);
            return POND_ENOMEM;
        }
        int64_t s = 0, k = 0;
        for (int64_t i = 0; i < c->n_levels; i++) {
            int d = lvl(c->def, i), r = lvl(c->rep, i);
            if (d >= n->slot_def && r <= n->rep) {
                if (k > INT32_MAX) {
                    pond_arrow_array_release(out);
                    return shape_error(n, "more than 2^31 list elements in one batch");
                }
                off[s++] = (int32_t)k;
            }
            if (d >= ch->slot_def && r <= ch->rep)
                k++;
        }
        off[s] = (int32_t)k;
        child_len = k;
    }
    for (int i = 0; i < n->n_children; i++) {
        if ((rc = assemble_rec(out->children[i], n->children[i], chunks, child_len, depth + 1)) <
            0) {
            pond_arrow_array_release(out);
            return rc;
        }
    }
    return 0;
}

static int assemble_rec(struct ArrowArray *out, const pq_node *n, pq_chunk *chunks,
                        int64_t expect_len, int depth)
{
    int rc;
    if (depth > 128)
        return shape_error(n, "nested too deeply");
    if (n->kind == PQN_LEAF)
        rc = assemble_leaf(out, n, &chunks[n->first_leaf]);
    else
        rc = assemble_group(out, n, chunks, depth);
    if (rc < 0)
        return rc;
    if (expect_len >= 0 && out->length != expect_len) {
        pond_arrow_array_release(out);
        return shape_error(n, "columns of one row group have different lengths");
    }
    return 0;
}

int pond_pq_assemble(struct ArrowArray *out, const pq_node *n, pq_chunk *chunks)
{
    return assemble_rec(out, n, chunks, -1, 0);
}
