/* Arrow work for export: partition keys from event time, gathering rows into new arrays,
 * per-row hashes for the order-independent row digest, and per-file column statistics. */
#include "export/export_internal.h"

#include <pond/timefmt.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_DAY INT64_C(86400000000)

/* ---- partition keys ---- */

int pond_ex_level_of(pond_export_partition p)
{
    switch (p) {
    case POND_EXPORT_PARTITION_YEAR:
        return 1;
    case POND_EXPORT_PARTITION_MONTH:
        return 2;
    case POND_EXPORT_PARTITION_DAY:
        return 3;
    default:
        return 0;
    }
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

ex_key pond_ex_key_of(int64_t us, int level)
{
    ex_key k = {0, 0, 0, false};
    if (level == 0)
        return k;
    int64_t y;
    unsigned m, d;
    pond_civil_from_days(floor_div(us, US_PER_DAY), &y, &m, &d);
    k.y = (int32_t)y;
    k.m = level >= 2 ? (int32_t)m : 0;
    k.d = level >= 3 ? (int32_t)d : 0;
    return k;
}

bool pond_ex_key_equal(const ex_key *a, const ex_key *b)
{
    return a->null == b->null && a->y == b->y && a->m == b->m && a->d == b->d;
}

void pond_ex_key_text(char out[40], const ex_key *k, int level)
{
    if (level == 0)
        snprintf(out, 40, "*");
    else if (k->null)
        snprintf(out, 40, "null");
    else if (level == 1)
        snprintf(out, 40, "%d", k->y);
    else if (level == 2)
        snprintf(out, 40, "%d-%d", k->y, k->m);
    else
        snprintf(out, 40, "%d-%d-%d", k->y, k->m, k->d);
}

int pond_ex_key_parse(ex_key *out, const char *text, int level)
{
    memset(out, 0, sizeof *out);
    if (level == 0 && !strcmp(text, "*"))
        return 0;
    if (level > 0 && !strcmp(text, "null")) {
        out->null = true;
        return 0;
    }
    int y = 0, m = 0, d = 0, used = 0, n = 0;
    if (level == 1)
        n = sscanf(text, "%d%n", &y, &used);
    else if (level == 2)
        n = sscanf(text, "%d-%d%n", &y, &m, &used);
    else if (level == 3)
        n = sscanf(text, "%d-%d-%d%n", &y, &m, &d, &used);
    if (n != level || text[used] || (level >= 2 && (m < 1 || m > 12)) ||
        (level == 3 && (d < 1 || d > 31)))
        return pond_error_set(POND_ECORRUPT, EX_D, "export state: bad partition key '%s'", text);
    out->y = y;
    out->m = m;
    out->d = d;
    return 0;
}

int pond_ex_key_dir(pond_buf *out, const ex_key *k, int level)
{
    static const char *const names[] = {"year", "month", "day"};
    int rc = 0;
    for (int i = 0; i < level && rc == 0; i++) {
        int v = i == 0 ? k->y : i == 1 ? k->m : k->d;
        if (k->null)
            rc = pond_buf_printf(out, "%s%s=__HIVE_DEFAULT_PARTITION__", i ? "/" : "", names[i]);
        else
            rc = pond_buf_printf(out, "%s%s=%d", i ? "/" : "", names[i], v);
    }
    return rc;
}

bool pond_ex_key_span(const ex_key *k, int level, int64_t *lo, int64_t *hi)
{
    if (level == 0) {
        *lo = INT64_MIN;
        *hi = INT64_MAX;
        return true;
    }
    if (k->null)
        return false;
    int64_t a, b;
    if (level == 1) {
        a = pond_days_from_civil(k->y, 1, 1);
        b = pond_days_from_civil((int64_t)k->y + 1, 1, 1);
    } else if (level == 2) {
        a = pond_days_from_civil(k->y, (unsigned)k->m, 1);
        b = k->m == 12 ? pond_days_from_civil((int64_t)k->y + 1, 1, 1)
                       : pond_days_from_civil(k->y, (unsigned)k->m + 1, 1);
    } else {
        a = pond_days_from_civil(k->y, (unsigned)k->m, (unsigned)k->d);
        b = a + 1;
    }
    *lo = a * US_PER_DAY;
    *hi = b * US_PER_DAY;
    return true;
}

/* ---- gathering rows ---- */

static bool is_null_at(const struct ArrowArray *a, int64_t phys)
{
    if (a->null_count == 0 || !a->buffers[0])
        return false;
    const uint8_t *v = a->buffers[0];
    return !(v[phys >> 3] & (1u << (phys & 7)));
}

static int64_t row_at(int64_t base, const int64_t *idx, int64_t i)
{
    return base + (idx ? idx[i] : i);
}

static int take_validity(struct ArrowArray *out, const struct ArrowArray *in, int64_t base,
                         const int64_t *idx, int64_t n)
{
    if (in->null_count == 0 || !in->buffers[0] || n == 0)
        return 0;
    uint8_t *v = pond_arrow_array_alloc_buffer(out, 0, (size_t)(n + 7) / 8);
    if (!v)
        return POND_ENOMEM;
    int64_t nulls = 0;
    for (int64_t i = 0; i < n; i++) {
        if (is_null_at(in, in->offset + row_at(base, idx, i)))
            nulls++;
        else
            v[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
    out->null_count = nulls;
    return 0;
}

static int unsupported(const struct ArrowSchema *type)
{
    return pond_error_set(POND_EUNSUPPORTED, EX_D, "column '%s': export does not handle type '%s'",
                          type->name ? type->name : "", type->format);
}

static int64_t offset_at(const struct ArrowArray *a, bool large, int64_t i)
{
    return large ? ((const int64_t *)a->buffers[1])[i] : ((const int32_t *)a->buffers[1])[i];
}

/* The offsets of the taken rows of a variable-size column (strings, binary, lists) into out's
 * buffer 1, and in *total_out how many bytes or child elements they span. 32-bit offsets
 * cannot pass 2^31 (what: "bytes of text", "list elements", for the message). */
static int take_offsets(int64_t *total_out, struct ArrowArray *out, const struct ArrowSchema *type,
                        const struct ArrowArray *in, int64_t base, const int64_t *idx, int64_t n,
                        bool large, const char *what)
{
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t p = in->offset + row_at(base, idx, i);
        total += offset_at(in, large, p + 1) - offset_at(in, large, p);
    }
    if (!large && total > INT32_MAX)
        return pond_error_set(POND_EUNSUPPORTED, EX_D, "column '%s': over 2^31 %s in one batch",
                              type->name ? type->name : "", what);
    uint8_t *o = pond_malloc((size_t)(n + 1) * (large ? 8 : 4));
    if (!o)
        return POND_ENOMEM;
    pond_arrow_array_set_buffer(out, 1, o);
    int64_t pos = 0;
    for (int64_t i = 0; i <= n; i++) {
        if (large)
            ((int64_t *)o)[i] = pos;
        else
            ((int32_t *)o)[i] = (int32_t)pos;
        if (i < n) {
            int64_t p = in->offset + row_at(base, idx, i);
            pos += offset_at(in, large, p + 1) - offset_at(in, large, p);
        }
    }
    *total_out = total;
    return 0;
}

static int take_children_rows(struct ArrowArray *out, const struct ArrowSchema *type,
                              const struct ArrowArray *in, const int64_t *rows, int64_t n)
{
    for (int64_t c = 0; c < type->n_children; c++) {
        int rc =
            pond_ex_take(out->children[c], type->children[c], in->children[c], 0, rows, n, false);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int pond_ex_take(struct ArrowArray *out, const struct ArrowSchema *type,
                 const struct ArrowArray *in, int64_t base, const int64_t *idx, int64_t n,
                 bool ns_to_us)
{
    pond_arrow_format f;
    int rc = pond_arrow_format_parse(&f, type->format);
    if (rc < 0)
        return rc;
    if (type->dictionary)
        return unsupported(type);
    int64_t nb = f.type == POND_ARROW_NA ? 0 : f.n_buffers;
    int64_t nc = f.type == POND_ARROW_STRUCT || f.type >= POND_ARROW_LIST ? type->n_children : 0;
    if ((rc = pond_arrow_array_init(out, n, 0, nb, nc)) < 0)
        return rc;
    if (f.type == POND_ARROW_NA) {
        out->null_count = n;
        return 0;
    }
    if ((rc = take_validity(out, in, base, idx, n)) < 0)
        goto fail;
    int64_t off = in->offset;
    switch (f.type) {
    case POND_ARROW_BOOL: {
        uint8_t *d = pond_arrow_array_alloc_buffer(out, 1, (size_t)(n + 7) / 8);
        if (!d)
            goto oom;
        const uint8_t *s = in->buffers[1];
        for (int64_t i = 0; i < n; i++) {
            int64_t p = off + row_at(base, idx, i);
            if (s[p >> 3] & (1u << (p & 7)))
                d[i >> 3] |= (uint8_t)(1u << (i & 7));
        }
        return 0;
    }
    case POND_ARROW_BINARY:
    case POND_ARROW_STRING:
    case POND_ARROW_LARGE_BINARY:
    case POND_ARROW_LARGE_STRING: {
        bool large = f.type == POND_ARROW_LARGE_BINARY || f.type == POND_ARROW_LARGE_STRING;
        int64_t total;
        if ((rc = take_offsets(&total, out, type, in, base, idx, n, large, "bytes of text")) < 0)
            goto fail;
        uint8_t *d = pond_malloc((size_t)total + 1);
        if (!d)
            goto oom;
        pond_arrow_array_set_buffer(out, 2, d);
        const uint8_t *sd = in->buffers[2];
        int64_t pos = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t p = off + row_at(base, idx, i);
            int64_t a = offset_at(in, large, p), b = offset_at(in, large, p + 1);
            memcpy(d + pos, sd + a, (size_t)(b - a));
            pos += b - a;
        }
        return 0;
    }
    case POND_ARROW_STRUCT:
        for (int64_t c = 0; c < nc; c++)
            if ((rc = pond_ex_take(out->children[c], type->children[c], in->children[c], off + base,
                                   idx, n, false)) < 0)
                goto fail;
        return 0;
    case POND_ARROW_LIST:
    case POND_ARROW_LARGE_LIST:
    case POND_ARROW_MAP: {
        bool large = f.type == POND_ARROW_LARGE_LIST;
        int64_t total;
        if ((rc = take_offsets(&total, out, type, in, base, idx, n, large, "list elements")) < 0)
            goto fail;
        int64_t *rows = pond_malloc((size_t)(total ? total : 1) * sizeof *rows);
        if (!rows)
            goto oom;
        int64_t pos = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t p = off + row_at(base, idx, i);
            for (int64_t r = offset_at(in, large, p), b = offset_at(in, large, p + 1); r < b; r++)
                rows[pos++] = r;
        }
        rc = take_children_rows(out, type, in, rows, total);
        pond_free(rows);
        if (rc < 0)
            goto fail;
        return 0;
    }
    case POND_ARROW_FIXED_LIST: {
        int64_t w = f.width, total = n * w;
        int64_t *rows = pond_malloc((size_t)(total ? total : 1) * sizeof *rows);
        if (!rows)
            goto oom;
        for (int64_t i = 0; i < n; i++) {
            int64_t p = off + row_at(base, idx, i);
            for (int64_t k = 0; k < w; k++)
                rows[i * w + k] = p * w + k;
        }
        rc = take_children_rows(out, type, in, rows, total);
        pond_free(rows);
        if (rc < 0)
            goto fail;
        return 0;
    }
    default:
        break;
    }
    /* fixed-width values */
    size_t w = f.type == POND_ARROW_FIXED_BINARY ? (size_t)f.width : (size_t)f.bit_width / 8;
    if (w == 0 || f.n_buffers != 2) {
        rc = unsupported(type);
        goto fail;
    }
    uint8_t *d = pond_malloc(w * (size_t)(n ? n : 1));
    if (!d)
        goto oom;
    pond_arrow_array_set_buffer(out, 1, d);
    const uint8_t *s = in->buffers[1];
    if (w == 8) {
        const int64_t *s8 = (const int64_t *)s;
        int64_t *d8 = (int64_t *)d;
        if (!idx)
            memcpy(d8, s8 + off + base, (size_t)n * 8);
        else
            for (int64_t i = 0; i < n; i++)
                d8[i] = s8[off + base + idx[i]];
        if (ns_to_us && f.type == POND_ARROW_TIMESTAMP && f.unit == POND_ARROW_UNIT_NS) {
            for (int64_t i = 0; i < n; i++) {
                if (d8[i] % 1000 && !is_null_at(out, i)) {
                    rc = pond_error_set(POND_EINVALID, EX_D,
                                        "column '%s': value %" PRId64 " ns has a sub-microsecond "
                                        "part; a Delta timestamp holds microseconds",
                                        type->name ? type->name : "", d8[i]);
                    goto fail;
                }
                d8[i] = floor_div(d8[i], 1000);
            }
        }
    } else {
        for (int64_t i = 0; i < n; i++)
            memcpy(d + (size_t)i * w, s + (size_t)(off + row_at(base, idx, i)) * w, w);
    }
    return 0;
oom:
    rc = POND_ENOMEM;
fail:
    pond_arrow_array_release(out);
    return rc;
}

/* ---- row hashes ---- */

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (n * UINT64_C(0x100000001b3));
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix64(h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
        p += 8;
        n -= 8;
    }
    uint64_t t = 0;
    memcpy(&t, p, n);
    return mix64(h ^ t ^ ((uint64_t)n << 56));
}

#define NULL_HASH UINT64_C(0x6e756c6c2d63656c)

static inline void fold(uint64_t *h, uint64_t cell)
{
    *h = mix64(*h ^ cell) + UINT64_C(0x2545f4914f6cdd1d);
}

int pond_ex_hash_column(uint64_t *h, const struct ArrowSchema *type, const struct ArrowArray *col,
                        int64_t base, int64_t n)
{
    if (!col) {
        for (int64_t i = 0; i < n; i++)
            fold(&h[i], NULL_HASH);
        return 0;
    }
    pond_arrow_format f;
    int rc = pond_arrow_format_parse(&f, type->format);
    if (rc < 0)
        return rc;
    int64_t off = col->offset + base;
    switch (f.type) {
    case POND_ARROW_NA:
        for (int64_t i = 0; i < n; i++)
            fold(&h[i], NULL_HASH);
        return 0;
    case POND_ARROW_BOOL: {
        const uint8_t *s = col->buffers[1];
        for (int64_t i = 0; i < n; i++) {
            int64_t p = off + i;
            fold(&h[i], is_null_at(col, p)              ? NULL_HASH
                        : (s[p >> 3] & (1u << (p & 7))) ? 0x7472756531ULL
                                                        : 0x66616c736530ULL);
        }
        return 0;
    }
    case POND_ARROW_BINARY:
    case POND_ARROW_STRING:
    case POND_ARROW_LARGE_BINARY:
    case POND_ARROW_LARGE_STRING: {
        bool large = f.type == POND_ARROW_LARGE_BINARY || f.type == POND_ARROW_LARGE_STRING;
        const uint8_t *d = col->buffers[2];
        for (int64_t i = 0; i < n; i++) {
            int64_t p = off + i;
            if (is_null_at(col, p)) {
                fold(&h[i], NULL_HASH);
                continue;
            }
            int64_t a = offset_at(col, large, p), b = offset_at(col, large, p + 1);
            fold(&h[i], hash_bytes(d + a, (size_t)(b - a)));
        }
        return 0;
    }
    default:
        break;
    }
    size_t w = f.type == POND_ARROW_FIXED_BINARY ? (size_t)f.width : (size_t)f.bit_width / 8;
    if (f.type == POND_ARROW_STRUCT || f.type >= POND_ARROW_LIST || w == 0) {
        /* nested and odd types: their canonical text (rare; slow but exact) */
        pond_buf cell = POND_BUF_INIT;
        for (int64_t i = 0; i < n && rc == 0; i++) {
            pond_buf_clear(&cell);
            if ((rc = pond_arrow_canon_cell(&cell, type, col, base + i)) == 0)
                fold(&h[i], hash_bytes((const uint8_t *)cell.ptr, cell.size));
        }
        pond_buf_dispose(&cell);
        return rc;
    }
    const uint8_t *s = col->buffers[1];
    for (int64_t i = 0; i < n; i++) {
        int64_t p = off + i;
        if (is_null_at(col, p)) {
            fold(&h[i], NULL_HASH);
        } else if (w == 8) {
            uint64_t v;
            memcpy(&v, s + (size_t)p * 8, 8);
            fold(&h[i], mix64(v ^ UINT64_C(0x8000000000000001)));
        } else {
            fold(&h[i], hash_bytes(s + (size_t)p * w, w));
        }
    }
    return 0;
}

void pond_ex_digest_add_rows(ex_digest *d, const uint64_t *h, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        d->s1 += mix64(h[i]);
        d->s2 += mix64(h[i] ^ UINT64_C(0x5851f42d4c957f2d));
    }
    d->rows += n;
}

/* ---- column statistics ---- */

#define STAT_STRING_MAX 32

void pond_ex_colstats_init(ex_colstats *s, const struct ArrowSchema *type)
{
    memset(s, 0, sizeof *s);
    pond_arrow_format f;
    if (pond_arrow_format_parse(&f, type->format) < 0 || type->dictionary)
        return;
    switch (f.type) {
    case POND_ARROW_INT8:
    case POND_ARROW_INT16:
    case POND_ARROW_INT32:
    case POND_ARROW_INT64:
    case POND_ARROW_UINT8:
    case POND_ARROW_UINT16:
    case POND_ARROW_UINT32:
        s->kind = 1;
        break;
    case POND_ARROW_FLOAT:
    case POND_ARROW_DOUBLE:
        s->kind = 2;
        break;
    case POND_ARROW_STRING:
    case POND_ARROW_LARGE_STRING:
        s->kind = 3;
        break;
    case POND_ARROW_DATE32:
        s->kind = 4;
        break;
    case POND_ARROW_TIMESTAMP:
        s->kind = 5;
        s->unit = f.unit;
        break;
    case POND_ARROW_STRUCT:
    case POND_ARROW_LIST:
    case POND_ARROW_LARGE_LIST:
    case POND_ARROW_MAP:
    case POND_ARROW_FIXED_LIST:
        s->kind = -1; /* nested: no stats at all */
        break;
    default:
        s->kind = 0;
        break;
    }
}

void pond_ex_colstats_dispose(ex_colstats *s)
{
    pond_buf_dispose(&s->smin);
    pond_buf_dispose(&s->smax);
}

static int64_t int_at(const struct ArrowSchema *type, const struct ArrowArray *a, int64_t p)
{
    switch (type->format[0]) {
    case 'c':
        return ((const int8_t *)a->buffers[1])[p];
    case 'C':
        return ((const uint8_t *)a->buffers[1])[p];
    case 's':
        return ((const int16_t *)a->buffers[1])[p];
    case 'S':
        return ((const uint16_t *)a->buffers[1])[p];
    case 'i':
        return ((const int32_t *)a->buffers[1])[p];
    case 'I':
        return ((const uint32_t *)a->buffers[1])[p];
    case 't':
        if (type->format[1] == 'd')
            return ((const int32_t *)a->buffers[1])[p];
        return ((const int64_t *)a->buffers[1])[p];
    default:
        return ((const int64_t *)a->buffers[1])[p];
    }
}

static int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

int pond_ex_colstats_add(ex_colstats *s, const struct ArrowSchema *type,
                         const struct ArrowArray *col, int64_t n)
{
    int64_t off = col->offset;
    for (int64_t i = 0; i < n; i++) {
        int64_t p = off + i;
        if (is_null_at(col, p)) {
            s->nulls++;
            continue;
        }
        if (s->kind <= 0 || s->bad)
            continue;
        if (s->kind == 1 || s->kind == 4 || s->kind == 5) {
            int64_t v = int_at(type, col, p);
            if (!s->has || v < s->imin)
                s->imin = v;
            if (!s->has || v > s->imax)
                s->imax = v;
        } else if (s->kind == 2) {
            double v = type->format[0] == 'f' ? (double)((const float *)col->buffers[1])[p]
                                              : ((const double *)col->buffers[1])[p];
            if (!isfinite(v)) {
                s->bad = true;
                continue;
            }
            if (!s->has || v < s->dmin)
                s->dmin = v;
            if (!s->has || v > s->dmax)
                s->dmax = v;
        } else {
            bool large = type->format[0] == 'U';
            const int32_t *o32 = col->buffers[1];
            const int64_t *o64 = col->buffers[1];
            int64_t a = large ? o64[p] : o32[p], b = large ? o64[p + 1] : o32[p + 1];
            const uint8_t *v = (const uint8_t *)col->buffers[2] + a;
            size_t len = (size_t)(b - a);
            int rc = 0;
            if (!s->has || bytes_cmp(v, len, (const uint8_t *)s->smin.ptr, s->smin.size) < 0) {
                pond_buf_clear(&s->smin);
                rc = pond_buf_put(&s->smin, v, len);
            }
            if (rc == 0 &&
                (!s->has || bytes_cmp(v, len, (const uint8_t *)s->smax.ptr, s->smax.size) > 0)) {
                pond_buf_clear(&s->smax);
                rc = pond_buf_put(&s->smax, v, len);
            }
            if (rc < 0)
                return rc;
        }
        s->has = true;
    }
    return 0;
}

int pond_ex_json_str(pond_buf *out, const char *s, size_t len)
{
    int rc = pond_buf_putc(out, '"');
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            rc = pond_buf_printf(out, "\\%c", c);
        else if (c < 0x20)
            rc = pond_buf_printf(out, "\\u%04x", c);
        else
            rc = pond_buf_putc(out, (char)c);
    }
    return rc ? rc : pond_buf_putc(out, '"');
}

/* A timestamp bound at millisecond precision (Delta's stats): min rounds down, max up. */
static int put_ts(pond_buf *out, int64_t raw, pond_arrow_unit unit, bool up, bool utc)
{
    int64_t ms;
    switch (unit) {
    case POND_ARROW_UNIT_S:
        ms = raw * 1000;
        break;
    case POND_ARROW_UNIT_MS:
        ms = raw;
        break;
    case POND_ARROW_UNIT_US:
        ms = floor_div(raw, 1000) + (up && raw % 1000 != 0);
        break;
    default:
        ms = floor_div(raw, 1000000) + (up && raw % 1000000 != 0);
        break;
    }
    int64_t days = floor_div(ms, 86400000), rem = ms - days * 86400000, y;
    unsigned m, d;
    pond_civil_from_days(days, &y, &m, &d);
    return pond_buf_printf(out, "\"%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%03d%s\"", y, m, d,
                           (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                           (int)(rem % 1000), utc ? "Z" : "");
}

static bool stat_usable(const ex_colstats *s)
{
    if (s->kind <= 0 || !s->has || s->bad)
        return false;
    if (s->kind == 3)
        return s->smin.size <= STAT_STRING_MAX && s->smax.size <= STAT_STRING_MAX;
    if (s->kind == 4 || s->kind == 5) {
        /* years 1..9999 only: the text form has four digits */
        int64_t lo = s->kind == 4 ? s->imin * 86400 : s->imin;
        int64_t hi = s->kind == 4 ? s->imax * 86400 : s->imax;
        if (s->kind == 5) {
            int64_t div = s->unit == POND_ARROW_UNIT_S    ? 1
                          : s->unit == POND_ARROW_UNIT_MS ? 1000
                          : s->unit == POND_ARROW_UNIT_US ? 1000000
                                                          : 1000000000;
            lo = floor_div(lo, div);
            hi = floor_div(hi, div);
        }
        return lo >= INT64_C(-62135596800) && hi < INT64_C(253402300799);
    }
    return true;
}

static int put_bound(pond_buf *out, const ex_colstats *s, const struct ArrowSchema *type, bool max)
{
    char tmp[32];
    switch (s->kind) {
    case 1:
        return pond_buf_printf(out, "%" PRId64, max ? s->imax : s->imin);
    case 2:
        pond_arrow_format_double(tmp, max ? s->dmax : s->dmin);
        return pond_buf_puts(out, tmp);
    case 3: {
        const pond_buf *b = max ? &s->smax : &s->smin;
        return pond_ex_json_str(out, b->ptr ? b->ptr : "", b->size);
    }
    case 4: {
        int64_t y;
        unsigned m, d;
        pond_civil_from_days(max ? s->imax : s->imin, &y, &m, &d);
        return pond_buf_printf(out, "\"%04" PRId64 "-%02u-%02u\"", y, m, d);
    }
    default:
        return put_ts(out, max ? s->imax : s->imin, s->unit, max, type->format[4] != '\0');
    }
}

int pond_ex_stats_json(pond_buf *out, int64_t rows, const struct ArrowSchema *schema,
                       const ex_colstats *cols)
{
    int rc = pond_buf_printf(out, "{\"numRecords\":%" PRId64, rows);
    static const char *const parts[] = {"minValues", "maxValues", "nullCount"};
    for (int part = 0; part < 3 && rc == 0; part++) {
        rc = pond_buf_printf(out, ",\"%s\":{", parts[part]);
        bool first = true;
        for (int64_t c = 0; c < schema->n_children && rc == 0; c++) {
            const ex_colstats *s = &cols[c];
            if (s->kind < 0 || (part < 2 && !stat_usable(s)))
                continue;
            const char *nm = schema->children[c]->name ? schema->children[c]->name : "";
            if (!first)
                rc = pond_buf_putc(out, ',');
            first = false;
            if (rc == 0)
                rc = pond_ex_json_str(out, nm, strlen(nm));
            if (rc == 0)
                rc = pond_buf_putc(out, ':');
            if (rc == 0)
                rc = part == 2 ? pond_buf_printf(out, "%" PRId64, s->nulls)
                               : put_bound(out, s, schema->children[c], part == 1);
        }
        if (rc == 0)
            rc = pond_buf_putc(out, '}');
    }
    return rc ? rc : pond_buf_putc(out, '}');
}

int pond_ex_schema_text(pond_buf *out, const struct ArrowSchema *s)
{
    const char *nm = s->name ? s->name : "";
    int rc = pond_buf_printf(out, "%zu:%s|%s|%d(", strlen(nm), nm, s->format,
                             (s->flags & ARROW_FLAG_NULLABLE) != 0);
    for (int64_t i = 0; i < s->n_children && rc == 0; i++)
        rc = pond_ex_schema_text(out, s->children[i]);
    return rc ? rc : pond_buf_putc(out, ')');
}
