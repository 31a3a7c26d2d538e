/* The canonical text form (canon-v1) of Arrow values, shared with the JavaScript oracles. */
#include <pond/arrow.h>

#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JavaScript Number.prototype.toString: shortest digits that round-trip, laid out per
 * ECMA-262 Number::toString (plain notation for exponents in [-7, 21), else d.ddde+x). */
void pond_arrow_format_double(char out[32], double x)
{
    if (isnan(x)) {
        strcpy(out, "NaN");
        return;
    }
    if (isinf(x)) {
        strcpy(out, x < 0 ? "-Infinity" : "Infinity");
        return;
    }
    if (x == 0) {
        strcpy(out, "0");
        return;
    }
    char tmp[40];
    int prec;
    /* For normal doubles, if 15 digits round-trip the shortest form is those digits without
     * trailing zeros; subnormals carry fewer digits, so search down from there. */
    int lo = fabs(x) < 2.2250738585072014e-308 ? 1 : 15;
    for (prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    if (lo < 15) {
        char t2[40];
        for (int p2 = prec - 1; p2 >= lo; p2--) {
            snprintf(t2, sizeof t2, "%.*e", p2 - 1, x);
            if (strtod(t2, NULL) != x)
                break;
            memcpy(tmp, t2, sizeof t2);
        }
    }
    /* tmp = [-]d.ddddde[+-]xx */
    char digits[24];
    int k = 0;
    const char *p = tmp;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[k++] = *p;
    int e = atoi(p + 1);
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    int n = e + 1;
    char *w = out;
    if (neg)
        *w++ = '-';
    if (k <= n && n <= 21) {
        memcpy(w, digits, (size_t)k);
        w += k;
        for (int i = 0; i < n - k; i++)
            *w++ = '0';
    } else if (0 < n && n <= 21) {
        memcpy(w, digits, (size_t)n);
        w += n;
        *w++ = '.';
        memcpy(w, digits + n, (size_t)(k - n));
        w += k - n;
    } else if (-6 < n && n <= 0) {
        *w++ = '0';
        *w++ = '.';
        for (int i = 0; i < -n; i++)
            *w++ = '0';
        memcpy(w, digits, (size_t)k);
        w += k;
    } else {
        *w++ = digits[0];
        if (k > 1) {
            *w++ = '.';
            memcpy(w, digits + 1, (size_t)(k - 1));
            w += k - 1;
        }
        w += sprintf(w, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    *w = '\0';
}

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

static double half_to_double(uint16_t u)
{
    int sign = (u & 0x8000) ? -1 : 1;
    int exp = (u >> 10) & 0x1f;
    int frac = u & 0x3ff;
    if (exp == 0)
        return sign * ldexp(frac, -24);
    if (exp == 31)
        return frac ? NAN : sign * INFINITY;
    return sign * ldexp(1024 + frac, exp - 25);
}

static int put_i128(pond_buf *out, char tag, i128 v)
{
    char tmp[48];
    int i = sizeof tmp;
    bool neg = v < 0;
    u128 u = neg ? -(u128)v : (u128)v;
    tmp[--i] = '\0';
    do {
        tmp[--i] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (neg)
        tmp[--i] = '-';
    tmp[--i] = tag;
    return pond_buf_puts(out, tmp + i);
}

size_t pond_arrow_format_decimal(char out[POND_ARROW_DECIMAL_STRLEN], const uint8_t *le, int bytes,
                                 int scale)
{
    /* Little-endian two's complement of 16 or 32 bytes; printed exactly. */
    uint32_t w[8] = {0};
    bool neg = le[bytes - 1] & 0x80;
    for (int i = 0; i < bytes; i++)
        w[i / 4] |= (uint32_t)le[i] << (8 * (i % 4));
    int nw = bytes / 4;
    if (neg) { /* negate */
        uint64_t carry = 1;
        for (int i = 0; i < nw; i++) {
            uint64_t t = (uint64_t)(uint32_t)~w[i] + carry;
            w[i] = (uint32_t)t;
            carry = t >> 32;
        }
    }
    char digits[100];
    int nd = 0;
    for (;;) {
        bool zero = true;
        for (int i = 0; i < nw; i++)
            zero &= w[i] == 0;
        if (zero)
            break;
        uint64_t rem = 0;
        for (int i = nw - 1; i >= 0; i--) {
            uint64_t cur = (rem << 32) | w[i];
            w[i] = (uint32_t)(cur / 10);
            rem = cur % 10;
        }
        digits[nd++] = (char)('0' + rem);
    }
    int k = 0;
    if (neg)
        out[k++] = '-';
    if (scale > 0) {
        while (nd < scale + 1)
            digits[nd++] = '0';
        for (int i = nd - 1; i >= 0; i--) {
            out[k++] = digits[i];
            if (i == scale)
                out[k++] = '.';
        }
    } else {
        if (nd == 0)
            digits[nd++] = '0';
        for (int i = nd - 1; i >= 0; i--)
            out[k++] = digits[i];
        for (int i = 0; i < -scale && k < POND_ARROW_DECIMAL_STRLEN - 1; i++)
            out[k++] = '0';
    }
    out[k] = '\0';
    return (size_t)k;
}

static int put_decimal(pond_buf *out, const uint8_t *le, int bytes, int scale)
{
    char s[POND_ARROW_DECIMAL_STRLEN];
    pond_arrow_format_decimal(s, le, bytes, scale);
    int rc = pond_buf_putc(out, 'd');
    return rc ? rc : pond_buf_puts(out, s);
}

static int put_json_string(pond_buf *out, const uint8_t *p, size_t n)
{
    return pond__json_escape(out, p, n, true); /* as JSON.stringify writes it */
}

static int put_hex(pond_buf *out, const uint8_t *p, size_t n)
{
    int rc = pond_buf_grow(out, out->size + 2 * n + 2);
    if (rc < 0)
        return rc;
    out->ptr[out->size] = 'x';
    pond__hex_encode(out->ptr + out->size + 1, p, n);
    out->size += 2 * n + 1;
    return 0;
}

static const int64_t unit_ns[] = {1000000000LL, 1000000LL, 1000LL, 1LL};

typedef struct {
    char *s;
    size_t n;
} str_item;

static int cmp_item(const void *a, const void *b)
{
    const str_item *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->s, y->s, n);
    if (c)
        return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

static int canon_rec(pond_buf *out, const struct ArrowSchema *s, const struct ArrowArray *a,
                     int64_t i, int depth);

/* JS compares keys by UTF-16 code units; for the names and canonical keys we sort this equals
 * bytewise order except for supplementary characters, which we accept. */
static int canon_struct(pond_buf *out, const struct ArrowSchema *s, const struct ArrowArray *a,
                        int64_t j, int depth)
{
    int rc = 0;
    int64_t n = s->n_children;
    str_item *items = pond_calloc((size_t)(n ? n : 1), sizeof *items);
    if (!items)
        return POND_ENOMEM;
    for (int64_t c = 0; c < n && rc == 0; c++) {
        pond_buf tmp = POND_BUF_INIT;
        const char *name = s->children[c]->name ? s->children[c]->name : "";
        rc = put_json_string(&tmp, (const uint8_t *)name, strlen(name));
        if (rc == 0)
            rc = pond_buf_putc(&tmp, ':');
        if (rc == 0)
            rc = canon_rec(&tmp, s->children[c], a->children[c], j, depth + 1);
        if (rc < 0) {
            pond_buf_dispose(&tmp);
            break;
        }
        items[c].n = tmp.size;
        items[c].s = tmp.ptr;
    }
    if (rc == 0) {
        /* sort by the JSON-quoted name: the quote and ':' keep prefixes ordered like JS */
        qsort(items, (size_t)n, sizeof *items, cmp_item);
        rc = pond_buf_putc(out, '{');
        for (int64_t c = 0; c < n && rc == 0; c++) {
            if (c)
                rc = pond_buf_putc(out, ',');
            if (rc == 0)
                rc = pond_buf_put(out, items[c].s, items[c].n);
        }
        if (rc == 0)
            rc = pond_buf_putc(out, '}');
    }
    for (int64_t c = 0; c < n; c++)
        pond_free(items[c].s);
    pond_free(items);
    return rc;
}

static int canon_map(pond_buf *out, const struct ArrowSchema *s, const struct ArrowArray *a,
                     int64_t j, int depth)
{
    const int32_t *off = a->buffers[1];
    int64_t b = off[j], e = off[j + 1];
    const struct ArrowSchema *es = s->children[0];
    const struct ArrowArray *ea = a->children[0];
    int64_t n = e - b;
    int rc = 0;
    /* each item: key and value canon separated by '\0' for ordering by key then value */
    str_item *items = pond_calloc((size_t)(n ? n : 1), sizeof *items);
    if (!items)
        return POND_ENOMEM;
    for (int64_t k = 0; k < n && rc == 0; k++) {
        pond_buf tmp = POND_BUF_INIT;
        rc = canon_rec(&tmp, es->children[0], ea->children[0], ea->offset + b + k, depth + 1);
        if (rc == 0)
            rc = pond_buf_putc(&tmp, '\0');
        if (rc == 0)
            rc = canon_rec(&tmp, es->children[1], ea->children[1], ea->offset + b + k, depth + 1);
        if (rc < 0) {
            pond_buf_dispose(&tmp);
            break;
        }
        items[k].s = tmp.ptr;
        items[k].n = tmp.size;
    }
    if (rc == 0) {
        qsort(items, (size_t)n, sizeof *items, cmp_item);
        rc = pond_buf_puts(out, "M{");
        for (int64_t k = 0; k < n && rc == 0; k++) {
            if (k)
                rc = pond_buf_putc(out, ',');
            size_t kl = strlen(items[k].s);
            if (rc == 0)
                rc = pond_buf_put(out, items[k].s, kl);
            if (rc == 0)
                rc = pond_buf_puts(out, "=>");
            if (rc == 0)
                rc = pond_buf_put(out, items[k].s + kl + 1, items[k].n - kl - 1);
        }
        if (rc == 0)
            rc = pond_buf_putc(out, '}');
    }
    for (int64_t k = 0; k < n; k++)
        pond_free(items[k].s);
    pond_free(items);
    return rc;
}

static int canon_rec(pond_buf *out, const struct ArrowSchema *s, const struct ArrowArray *a,
                     int64_t i, int depth)
{
    pond_arrow_format f;
    int rc;
    char tmp[64];
    if (depth > 64)
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW, "canon: nested too deeply");
    if ((rc = pond_arrow_format_parse(&f, s->format)) < 0)
        return rc;
    if (f.type == POND_ARROW_NA)
        return pond_buf_putc(out, 'N');
    int64_t j = a->offset + i;
    const uint8_t *valid = a->n_buffers > 0 ? a->buffers[0] : NULL;
    if (valid && !((valid[j >> 3] >> (j & 7)) & 1))
        return pond_buf_putc(out, 'N');
    const void *v = a->n_buffers > 1 ? a->buffers[1] : NULL;
    switch (f.type) {
    case POND_ARROW_BOOL:
        return pond_buf_putc(out, ((((const uint8_t *)v)[j >> 3] >> (j & 7)) & 1) ? 'T' : 'F');
    case POND_ARROW_INT8:
        return put_i128(out, 'i', ((const int8_t *)v)[j]);
    case POND_ARROW_UINT8:
        return put_i128(out, 'i', ((const uint8_t *)v)[j]);
    case POND_ARROW_INT16:
        return put_i128(out, 'i', ((const int16_t *)v)[j]);
    case POND_ARROW_UINT16:
        return put_i128(out, 'i', ((const uint16_t *)v)[j]);
    case POND_ARROW_INT32:
        return put_i128(out, 'i', ((const int32_t *)v)[j]);
    case POND_ARROW_UINT32:
        return put_i128(out, 'i', ((const uint32_t *)v)[j]);
    case POND_ARROW_INT64:
        return put_i128(out, 'i', ((const int64_t *)v)[j]);
    case POND_ARROW_UINT64:
        return put_i128(out, 'i', ((const uint64_t *)v)[j]);
    case POND_ARROW_DURATION:
        return put_i128(out, 'i', ((const int64_t *)v)[j]);
    case POND_ARROW_HALF:
    case POND_ARROW_FLOAT:
    case POND_ARROW_DOUBLE: {
        double d = f.type == POND_ARROW_HALF    ? half_to_double(((const uint16_t *)v)[j])
                   : f.type == POND_ARROW_FLOAT ? (double)((const float *)v)[j]
                                                : ((const double *)v)[j];
        tmp[0] = 'f';
        if (d == 0 && signbit(d))
            strcpy(tmp + 1, "-0");
        else
            pond_arrow_format_double(tmp + 1, d);
        return pond_buf_puts(out, tmp);
    }
    case POND_ARROW_DECIMAL128:
        return put_decimal(out, (const uint8_t *)v + 16 * j, 16, f.scale);
    case POND_ARROW_DECIMAL256:
        return put_decimal(out, (const uint8_t *)v + 32 * j, 32, f.scale);
    case POND_ARROW_STRING:
    case POND_ARROW_BINARY: {
        const int32_t *o = v;
        const uint8_t *d = a->buffers[2];
        size_t n = (size_t)(o[j + 1] - o[j]);
        return f.type == POND_ARROW_STRING ? put_json_string(out, d + o[j], n)
                                           : put_hex(out, d + o[j], n);
    }
    case POND_ARROW_LARGE_STRING:
    case POND_ARROW_LARGE_BINARY: {
        const int64_t *o = v;
        const uint8_t *d = a->buffers[2];
        size_t n = (size_t)(o[j + 1] - o[j]);
        return f.type == POND_ARROW_LARGE_STRING ? put_json_string(out, d + o[j], n)
                                                 : put_hex(out, d + o[j], n);
    }
    case POND_ARROW_FIXED_BINARY:
        return put_hex(out, (const uint8_t *)v + (size_t)f.width * (size_t)j, (size_t)f.width);
    case POND_ARROW_DATE32:
        return put_i128(out, 'D', ((const int32_t *)v)[j]);
    case POND_ARROW_DATE64:
        return put_i128(out, 'D', ((const int64_t *)v)[j] / 86400000);
    case POND_ARROW_TIME32:
        return put_i128(out, 'h', (i128)((const int32_t *)v)[j] * unit_ns[f.unit]);
    case POND_ARROW_TIME64:
        return put_i128(out, 'h', (i128)((const int64_t *)v)[j] * unit_ns[f.unit]);
    case POND_ARROW_TIMESTAMP:
        return put_i128(out, 't', (i128)((const int64_t *)v)[j] * unit_ns[f.unit]);
    case POND_ARROW_INTERVAL_MONTHS:
        snprintf(tmp, sizeof tmp, "I%d,0,0", ((const int32_t *)v)[j]);
        return pond_buf_puts(out, tmp);
    case POND_ARROW_INTERVAL_DAY_TIME: {
        const int32_t *p = (const int32_t *)v + 2 * j;
        snprintf(tmp, sizeof tmp, "I0,%d,%lld", p[0], (long long)p[1] * 1000000LL);
        return pond_buf_puts(out, tmp);
    }
    case POND_ARROW_INTERVAL_MONTH_DAY_NANO: {
        const uint8_t *p = (const uint8_t *)v + 16 * j;
        int32_t m, d;
        int64_t ns;
        memcpy(&m, p, 4);
        memcpy(&d, p + 4, 4);
        memcpy(&ns, p + 8, 8);
        snprintf(tmp, sizeof tmp, "I%d,%d,%lld", m, d, (long long)ns);
        return pond_buf_puts(out, tmp);
    }
    case POND_ARROW_LIST:
    case POND_ARROW_LARGE_LIST:
    case POND_ARROW_FIXED_LIST: {
        int64_t b, e;
        if (f.type == POND_ARROW_LIST) {
            b = ((const int32_t *)v)[j];
            e = ((const int32_t *)v)[j + 1];
        } else if (f.type == POND_ARROW_LARGE_LIST) {
            b = ((const int64_t *)v)[j];
            e = ((const int64_t *)v)[j + 1];
        } else {
            b = j * f.width;
            e = b + f.width;
        }
        if ((rc = pond_buf_putc(out, '[')) < 0)
            return rc;
        for (int64_t k = b; k < e; k++) {
            if (k > b && (rc = pond_buf_putc(out, ',')) < 0)
                return rc;
            if ((rc = canon_rec(out, s->children[0], a->children[0], k, depth + 1)) < 0)
                return rc;
        }
        return pond_buf_putc(out, ']');
    }
    case POND_ARROW_STRUCT:
        return canon_struct(out, s, a, j, depth);
    case POND_ARROW_MAP:
        return canon_map(out, s, a, j, depth);
    default:
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_ARROW, "canon: format '%s'", s->format);
    }
}

int pond_arrow_canon_cell(pond_buf *out, const struct ArrowSchema *schema,
                          const struct ArrowArray *array, int64_t i)
{
    return canon_rec(out, schema, array, i, 0);
}

int pond_arrow_canon_batch(pond_buf *out, const struct ArrowSchema *schema,
                           const struct ArrowArray *batch)
{
    int rc;
    if (strcmp(schema->format, "+s") != 0 || batch->n_children != schema->n_children)
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW, "canon: a batch must be a struct");
    for (int64_t r = 0; r < batch->length; r++) {
        for (int64_t c = 0; c < schema->n_children; c++) {
            if (c && (rc = pond_buf_putc(out, '\t')) < 0)
                return rc;
            if ((rc = canon_rec(out, schema->children[c], batch->children[c], batch->offset + r,
                                1)) < 0)
                return rc;
        }
        if ((rc = pond_buf_putc(out, '\n')) < 0)
            return rc;
    }
    return 0;
}
