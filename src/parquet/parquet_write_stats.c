/* Parquet writer: statistics (min/max in each column's order, null counts) of pages and
 * column chunks. */
#include "parquet/parquet_write.h"
#include "parquet/pq_meta.h"

#include <math.h>
#include <string.h>

static double half_to_double(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v;
    if (e == 0)
        v = ldexp(m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexp(m + 1024, e - 25);
    return s ? -v : v;
}

int pond_pqw__phys_width(const pqw_leaf *l)
{
    switch (l->phys) {
    case PQ_BOOLEAN:
        return 1;
    case PQ_INT32:
    case PQ_FLOAT:
        return 4;
    case PQ_INT64:
    case PQ_DOUBLE:
        return 8;
    case PQ_FIXED_LEN_BYTE_ARRAY:
        return l->type_len;
    default:
        return 0;
    }
}

bool pond_pqw__is_fixed64(const pqw_leaf *l)
{
    return l->vkind != PQW_V_BYTES && l->vkind != PQW_V_LBYTES && l->vkind != PQW_V_FIXED &&
           l->vkind != PQW_V_DECFL;
}

/* ---------------------------------------------------------------- statistics */

static double fbits(const pqw_leaf *l, uint64_t b)
{
    if (l->phys == PQ_FLOAT) {
        float f;
        uint32_t u = (uint32_t)b;
        memcpy(&f, &u, 4);
        return f;
    }
    if (l->phys == PQ_DOUBLE) {
        double d;
        memcpy(&d, &b, 8);
        return d;
    }
    return half_to_double((uint16_t)b);
}

/* Compare two fixed-width physical values in the column's sort order. */
int pond_pqw__cmp_num(const pqw_leaf *l, uint64_t a, uint64_t b)
{
    switch (l->order) {
    case PQW_O_SIGNED:
        if (l->phys == PQ_INT32) {
            int32_t x = (int32_t)(uint32_t)a, y = (int32_t)(uint32_t)b;
            return x < y ? -1 : x > y;
        } else {
            int64_t x = (int64_t)a, y = (int64_t)b;
            return x < y ? -1 : x > y;
        }
    case PQW_O_UNSIGNED:
    case PQW_O_BOOL:
        return a < b ? -1 : a > b;
    case PQW_O_FLOAT: {
        double x = fbits(l, a), y = fbits(l, b);
        return x < y ? -1 : x > y;
    }
    default:
        return 0;
    }
}

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* memcmp's sign of the first n bytes. Short strings (tags, names) are compared with word loads:
 * a libc call per value was the most of the statistics' cost. From 4 to 8 bytes, the first and
 * the last 4 bytes (overlapping only where the first ones are equal) decide in order. */
static inline int prefix_cmp(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n >= 4 && n <= 8) {
        uint32_t x = be32(a), y = be32(b);
        if (x == y) {
            x = be32(a + n - 4);
            y = be32(b + n - 4);
        }
        return x < y ? -1 : x > y;
    }
    int c = n ? memcmp(a, b, n) : 0;
    return c < 0 ? -1 : c > 0;
}

int pond_pqw__cmp_bytes(const pqw_leaf *l, const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    if (l->order == PQW_O_DECBE && al > 0 && bl > 0 && al == bl) {
        int8_t x = (int8_t)a[0], y = (int8_t)b[0];
        if (x != y)
            return x < y ? -1 : 1;
        int c = memcmp(a + 1, b + 1, al - 1);
        return c < 0 ? -1 : c > 0;
    }
    size_t n = al < bl ? al : bl;
    int c = prefix_cmp(a, b, n);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

static bool is_nan_bits(const pqw_leaf *l, uint64_t b)
{
    return l->order == PQW_O_FLOAT && isnan(fbits(l, b));
}

/* Fold the non-NaN values v[0..n) into st. */
void pond_pqw__stats_fixed(pqw_stats *st, const pqw_leaf *l, const uint64_t *v, size_t n)
{
    size_t i = 0;
    if (!st->has) {
        while (i < n && is_nan_bits(l, v[i]))
            i++;
        if (i == n)
            return;
        st->has = true;
        st->min = st->max = v[i++];
    }
    uint64_t mn = st->min, mx = st->max;
    if (l->order == PQW_O_SIGNED && l->phys == PQ_INT64) {
        int64_t a = (int64_t)mn, b = (int64_t)mx;
        for (; i < n; i++) {
            int64_t x = (int64_t)v[i];
            a = x < a ? x : a;
            b = x > b ? x : b;
        }
        mn = (uint64_t)a;
        mx = (uint64_t)b;
    } else if (l->phys == PQ_DOUBLE) {
        double a = fbits(l, mn), b = fbits(l, mx);
        for (; i < n; i++) {
            double x;
            memcpy(&x, &v[i], 8);
            if (x < a) {
                a = x;
                mn = v[i];
            }
            if (x > b) {
                b = x;
                mx = v[i];
            }
        }
    } else {
        for (; i < n; i++) {
            if (is_nan_bits(l, v[i]))
                continue;
            if (pond_pqw__cmp_num(l, v[i], mn) < 0)
                mn = v[i];
            if (pond_pqw__cmp_num(l, v[i], mx) > 0)
                mx = v[i];
        }
    }
    st->min = mn;
    st->max = mx;
}

int pond_pqw__stats_bytes(pqw_stats *st, const pqw_leaf *l, const uint8_t *p, size_t len,
                          size_t limit)
{
    int rc;
    if (len > limit) {
        st->too_long = true;
        return 0;
    }
    if (!st->has) {
        st->has = true;
        st->bmin.size = st->bmax.size = 0;
        if ((rc = pond_pqw__put(&st->bmin, p, len)) < 0 ||
            (rc = pond_pqw__put(&st->bmax, p, len)) < 0)
            return rc;
        return 0;
    }
    if (pond_pqw__cmp_bytes(l, p, len, (const uint8_t *)st->bmin.ptr, st->bmin.size) < 0) {
        st->bmin.size = 0;
        if ((rc = pond_pqw__put(&st->bmin, p, len)) < 0)
            return rc;
    }
    if (pond_pqw__cmp_bytes(l, p, len, (const uint8_t *)st->bmax.ptr, st->bmax.size) > 0) {
        st->bmax.size = 0;
        if ((rc = pond_pqw__put(&st->bmax, p, len)) < 0)
            return rc;
    }
    return 0;
}

int pond_pqw__stats_merge(pqw_stats *into, const pqw_stats *from, const pqw_leaf *l, size_t limit)
{
    int rc;
    into->nulls += from->nulls;
    into->too_long |= from->too_long;
    if (!from->has)
        return 0;
    if (pond_pqw__is_fixed64(l)) {
        uint64_t v[2] = {from->min, from->max};
        pond_pqw__stats_fixed(into, l, v, 2);
        return 0;
    }
    if ((rc = pond_pqw__stats_bytes(into, l, (const uint8_t *)from->bmin.ptr, from->bmin.size,
                                    limit)) < 0)
        return rc;
    return pond_pqw__stats_bytes(into, l, (const uint8_t *)from->bmax.ptr, from->bmax.size, limit);
}

void pond_pqw__stats_reset(pqw_stats *st)
{
    st->has = st->too_long = false;
    st->nulls = 0;
    st->bmin.size = st->bmax.size = 0;
}

/* Append the PLAIN bytes of min (which = 0) or max (1) to out; -0/+0 per the spec. */
int pond_pqw__stats_value(pond_buf *out, const pqw_stats *st, const pqw_leaf *l, int which)
{
    if (!pond_pqw__is_fixed64(l)) {
        const pond_buf *b = which ? &st->bmax : &st->bmin;
        return pond_pqw__put(out, b->ptr, b->size);
    }
    uint64_t v = which ? st->max : st->min;
    if (l->order == PQW_O_FLOAT && fbits(l, v) == 0) {
        int sbit = l->phys == PQ_DOUBLE ? 63 : l->phys == PQ_FLOAT ? 31 : 15;
        if (which)
            v &= ~((uint64_t)1 << sbit);
        else
            v |= (uint64_t)1 << sbit;
    }
    return pond_pqw__put(out, &v, (size_t)pond_pqw__phys_width(l));
}
