/* Random Arrow schemas and batches (see test_parquet_write_gen.h). No test harness here: the
 * fuzz target includes this file too. */
#include "test_parquet_write_gen.h"

#include <pond/alloc.h>
#include <pond/errors.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

__extension__ typedef __int128 pqwg_i128;
__extension__ typedef unsigned __int128 pqwg_u128;

const char *const pqwg_leaf_formats[] = {
    "b",   "c",   "C",   "s",    "S",    "i",    "I",     "l",       "L",       "e",   "f",
    "g",   "u",   "U",   "z",    "Z",    "w:3",  "d:5,2", "d:15,3",  "d:30,4",  "tdD", "tts",
    "ttm", "ttu", "ttn", "tss:", "tsm:", "tsu:", "tsn:",  "tsu:UTC", "tsm:UTC", NULL};

void pqwg_seed(pqwg_rng *r, uint64_t seed, const uint8_t *in, size_t in_len)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    r->s = z ^ (z >> 31);
    r->in = in;
    r->in_len = in_len;
    r->in_pos = 0;
}

uint64_t pqwg_u64(pqwg_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    if (r->in && r->in_pos < r->in_len)
        z = (z & ~(uint64_t)0xff) | r->in[r->in_pos++];
    return z;
}

uint32_t pqwg_below(pqwg_rng *r, uint32_t n) { return n ? (uint32_t)(pqwg_u64(r) % n) : 0; }

static int n_leaf_formats(void)
{
    int n = 0;
    while (pqwg_leaf_formats[n])
        n++;
    return n;
}

int pqwg_field(struct ArrowSchema *out, const char *format, const char *name, bool nullable)
{
    return pond_arrow_schema_init(out, format, name, nullable ? ARROW_FLAG_NULLABLE : 0, 0);
}

static int gen_field(struct ArrowSchema *out, pqwg_rng *r, const char *name, int depth, int leaf,
                     bool force_required)
{
    int rc;
    bool nullable = !force_required && pqwg_below(r, 4) != 0;
    int64_t flags = nullable ? ARROW_FLAG_NULLABLE : 0;
    uint32_t kind = depth > 0 ? pqwg_below(r, 6) : 0;
    if (kind == 1) { /* struct */
        int n = 1 + (int)pqwg_below(r, 3);
        if ((rc = pond_arrow_schema_init(out, "+s", name, flags, n)) < 0)
            return rc;
        for (int i = 0; i < n; i++) {
            char nm[16];
            snprintf(nm, sizeof nm, "f%d", i);
            if ((rc = gen_field(out->children[i], r, nm, depth - 1, leaf, false)) < 0)
                return rc;
        }
        return 0;
    }
    if (kind == 2 || kind == 3) { /* list / large list */
        if ((rc = pond_arrow_schema_init(out, kind == 2 ? "+l" : "+L", name, flags, 1)) < 0)
            return rc;
        return gen_field(out->children[0], r, "item", depth - 1, leaf, false);
    }
    if (kind == 4) { /* map */
        if ((rc = pond_arrow_schema_init(out, "+m", name, flags, 1)) < 0 ||
            (rc = pond_arrow_schema_init(out->children[0], "+s", "entries", 0, 2)) < 0 ||
            (rc = pqwg_field(out->children[0]->children[0], pqwg_below(r, 2) ? "u" : "i", "key",
                             false)) < 0)
            return rc;
        return gen_field(out->children[0]->children[1], r, "value", depth - 1, leaf, false);
    }
    const char *fmt =
        pqwg_leaf_formats[leaf >= 0 ? leaf : (int)pqwg_below(r, (uint32_t)n_leaf_formats())];
    return pond_arrow_schema_init(out, fmt, name, flags, 0);
}

int pqwg_schema(struct ArrowSchema *out, pqwg_rng *r, int n_cols, int max_depth, int leaf)
{
    int rc = pond_arrow_schema_init(out, "+s", "", 0, n_cols);
    for (int i = 0; rc == 0 && i < n_cols; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "c%d", i);
        rc = gen_field(out->children[i], r, nm, max_depth, leaf, false);
    }
    if (rc < 0)
        pond_arrow_schema_release(out);
    return rc;
}

/* ---------------------------------------------------------------- values */

static const char *const strs[] = {"",
                                   "a",
                                   "hello",
                                   "Hello",
                                   "\xc3\xa9t\xc3\xa9",
                                   "\xe6\x97\xa5\xe6\x9c\xac",
                                   "zz",
                                   "with \"quote\"",
                                   "tab\there",
                                   "longer string value 0123456789"};

static double pick_double(pqwg_rng *r, bool half)
{
    static const double specials[] = {0.0, -0.0, 1.5, -2.25, 1e300, -1e-300, 65504.0};
    switch (pqwg_below(r, 12)) {
    case 0:
        return NAN;
    case 1:
        return INFINITY;
    case 2:
        return -INFINITY;
    case 3:
    case 4: {
        double d = specials[pqwg_below(r, 7)];
        return half && fabs(d) > 65504.0 ? 2.0 : half && d != 0 && fabs(d) < 1e-4 ? 0.5 : d;
    }
    default:
        return ((double)(int64_t)(pqwg_u64(r) % 200001) - 100000.0) / (half ? 64.0 : 7.0);
    }
}

static int64_t pick_int(pqwg_rng *r, int64_t lo, int64_t hi)
{
    switch (pqwg_below(r, 8)) {
    case 0:
        return lo;
    case 1:
        return hi;
    case 2:
        return lo <= 0 && hi >= 0 ? 0 : lo;
    default: {
        uint64_t span = (uint64_t)hi - (uint64_t)lo;
        uint64_t v = span == UINT64_MAX ? pqwg_u64(r) : pqwg_u64(r) % (span + 1);
        return (int64_t)((uint64_t)lo + v);
    }
    }
}

static int append_leaf(pond_arrow_builder *b, const pond_arrow_format *f, pqwg_rng *r)
{
    switch (f->type) {
    case POND_ARROW_BOOL:
        return pond_arrow_builder_append_bool(b, pqwg_below(r, 2));
    case POND_ARROW_INT8:
        return pond_arrow_builder_append_int(b, pick_int(r, INT8_MIN, INT8_MAX));
    case POND_ARROW_INT16:
        return pond_arrow_builder_append_int(b, pick_int(r, INT16_MIN, INT16_MAX));
    case POND_ARROW_INT32:
        return pond_arrow_builder_append_int(b, pick_int(r, INT32_MIN, INT32_MAX));
    case POND_ARROW_INT64:
        return pond_arrow_builder_append_int(b, pick_int(r, INT64_MIN, INT64_MAX));
    case POND_ARROW_UINT8:
        return pond_arrow_builder_append_uint(b, (uint64_t)pick_int(r, 0, UINT8_MAX));
    case POND_ARROW_UINT16:
        return pond_arrow_builder_append_uint(b, (uint64_t)pick_int(r, 0, UINT16_MAX));
    case POND_ARROW_UINT32:
        return pond_arrow_builder_append_uint(b, (uint64_t)pick_int(r, 0, UINT32_MAX));
    case POND_ARROW_UINT64: {
        uint64_t v = pqwg_below(r, 4) == 0 ? UINT64_MAX : pqwg_below(r, 3) == 0 ? 0 : pqwg_u64(r);
        return pond_arrow_builder_append_uint(b, v);
    }
    case POND_ARROW_HALF:
        return pond_arrow_builder_append_double(b, pick_double(r, true));
    case POND_ARROW_FLOAT:
        return pond_arrow_builder_append_double(b, (float)pick_double(r, false));
    case POND_ARROW_DOUBLE:
        return pond_arrow_builder_append_double(b, pick_double(r, false));
    case POND_ARROW_STRING:
    case POND_ARROW_LARGE_STRING: {
        const char *s = strs[pqwg_below(r, sizeof strs / sizeof strs[0])];
        return pond_arrow_builder_append_bytes(b, s, strlen(s));
    }
    case POND_ARROW_BINARY:
    case POND_ARROW_LARGE_BINARY:
    case POND_ARROW_FIXED_BINARY: {
        uint8_t buf[16];
        size_t n = f->type == POND_ARROW_FIXED_BINARY ? (size_t)f->width : pqwg_below(r, 9);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)pqwg_below(r, pqwg_below(r, 2) ? 4 : 256);
        return pond_arrow_builder_append_bytes(b, buf, n);
    }
    case POND_ARROW_DECIMAL128: {
        pqwg_i128 lim = 1;
        for (int i = 0; i < f->precision; i++)
            lim *= 10;
        pqwg_i128 v;
        uint32_t k = pqwg_below(r, 6);
        if (k == 0)
            v = lim - 1;
        else if (k == 1)
            v = -(lim - 1);
        else if (k == 2)
            v = 0;
        else {
            pqwg_u128 u = ((pqwg_u128)pqwg_u64(r) << 64) | pqwg_u64(r);
            v = (pqwg_i128)(u % (pqwg_u128)lim);
            if (pqwg_below(r, 2))
                v = -v;
        }
        uint8_t bytes[16];
        memcpy(bytes, &v, 16);
        return pond_arrow_builder_append_bytes(b, bytes, 16);
    }
    case POND_ARROW_DATE32:
        return pond_arrow_builder_append_int(b, pick_int(r, -100000, 100000));
    case POND_ARROW_TIME32:
        return pond_arrow_builder_append_int(
            b, pick_int(r, 0, f->unit == POND_ARROW_UNIT_S ? 86399 : 86399999));
    case POND_ARROW_TIME64:
        return pond_arrow_builder_append_int(
            b, pick_int(r, 0, f->unit == POND_ARROW_UNIT_US ? 86399999999LL : 86399999999999LL));
    case POND_ARROW_TIMESTAMP: {
        static const int64_t lim[] = {10000000000LL, 10000000000000LL, 10000000000000000LL,
                                      4000000000000000000LL};
        return pond_arrow_builder_append_int(b, pick_int(r, -lim[f->unit], lim[f->unit]));
    }
    default:
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_NONE, "pqwg: no generator for '%d'",
                              f->type);
    }
}

static bool draw_valid(pqwg_rng *r, int null_pct)
{
    return null_pct == 0 || (int)pqwg_below(r, 100) >= null_pct;
}

/* Validity for n slots; *nulls_out set; NULL buffer when no nulls. */
static uint8_t *gen_validity(pqwg_rng *r, int64_t n, int null_pct, int64_t *nulls_out, int *rc)
{
    *nulls_out = 0;
    *rc = 0;
    if (null_pct == 0)
        return NULL;
    uint8_t *v = pond_calloc(1, (size_t)(n + 7) / 8 + 1);
    if (!v) {
        *rc = POND_ENOMEM;
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        if (draw_valid(r, null_pct))
            v[i >> 3] |= (uint8_t)(1u << (i & 7));
        else
            (*nulls_out)++;
    }
    if (*nulls_out == 0) {
        pond_free(v);
        return NULL;
    }
    return v;
}

static int gen_array(struct ArrowArray *out, const struct ArrowSchema *s, pqwg_rng *r, int64_t n,
                     const int64_t *map_pos);

static int gen_keys(struct ArrowArray *out, const struct ArrowSchema *s, const int64_t *pos,
                    int64_t n)
{
    pond_arrow_builder *b = NULL;
    int rc = pond_arrow_builder_new(&b, s->format);
    for (int64_t i = 0; rc == 0 && i < n; i++) {
        if (s->format[0] == 'u') {
            char k[24];
            int len = snprintf(k, sizeof k, "k%lld", (long long)pos[i]);
            rc = pond_arrow_builder_append_bytes(b, k, (size_t)len);
        } else {
            rc = pond_arrow_builder_append_int(b, pos[i] * 7 - 3);
        }
    }
    if (rc == 0)
        rc = pond_arrow_builder_finish(out, b);
    pond_arrow_builder_free(b);
    return rc;
}

static int gen_array(struct ArrowArray *out, const struct ArrowSchema *s, pqwg_rng *r, int64_t n,
                     const int64_t *map_pos)
{
    pond_arrow_format f;
    int rc = pond_arrow_format_parse(&f, s->format);
    if (rc < 0)
        return rc;
    static const int pcts[] = {0, 10, 50, 100};
    int null_pct = (s->flags & ARROW_FLAG_NULLABLE) ? pcts[pqwg_below(r, 4)] : 0;
    if (f.type == POND_ARROW_STRUCT) {
        int64_t nulls;
        uint8_t *valid = gen_validity(r, n, null_pct, &nulls, &rc);
        if (rc < 0)
            return rc;
        if ((rc = pond_arrow_array_init(out, n, nulls, 1, s->n_children)) < 0) {
            pond_free(valid);
            return rc;
        }
        pond_arrow_array_set_buffer(out, 0, valid);
        for (int64_t i = 0; i < s->n_children; i++)
            if ((rc = (map_pos && i == 0)
                          ? gen_keys(out->children[i], s->children[i], map_pos, n)
                          : gen_array(out->children[i], s->children[i], r, n, NULL)) < 0)
                return rc;
        return 0;
    }
    if (f.type == POND_ARROW_LIST || f.type == POND_ARROW_LARGE_LIST || f.type == POND_ARROW_MAP) {
        int64_t nulls;
        uint8_t *valid = gen_validity(r, n, null_pct, &nulls, &rc);
        if (rc < 0)
            return rc;
        if ((rc = pond_arrow_array_init(out, n, nulls, 2, 1)) < 0) {
            pond_free(valid);
            return rc;
        }
        pond_arrow_array_set_buffer(out, 0, valid);
        bool large = f.type == POND_ARROW_LARGE_LIST;
        void *offs = pond_arrow_array_alloc_buffer(out, 1, (size_t)(n + 1) * (large ? 8 : 4));
        if (!offs)
            return POND_ENOMEM;
        int64_t total = 0;
        int maxlen = pqwg_below(r, 3) == 0 ? 0 : 4;
        for (int64_t i = 0; i < n; i++) {
            bool ok = !valid || ((valid[i >> 3] >> (i & 7)) & 1);
            int64_t len = ok ? pqwg_below(r, (uint32_t)maxlen + 1) : 0;
            total += len;
            if (large)
                ((int64_t *)offs)[i + 1] = total;
            else
                ((int32_t *)offs)[i + 1] = (int32_t)total;
        }
        int64_t *pos = NULL;
        if (f.type == POND_ARROW_MAP) {
            pos = pond_malloc((size_t)(total + 1) * sizeof *pos);
            if (!pos)
                return POND_ENOMEM;
            for (int64_t i = 0; i < n; i++) {
                int32_t a = ((int32_t *)offs)[i], b = ((int32_t *)offs)[i + 1];
                for (int32_t j = a; j < b; j++)
                    pos[j] = j - a;
            }
        }
        rc = gen_array(out->children[0], s->children[0], r, total, pos);
        pond_free(pos);
        return rc;
    }
    pond_arrow_builder *b = NULL;
    if ((rc = pond_arrow_builder_new(&b, s->format)) < 0)
        return rc;
    for (int64_t i = 0; rc == 0 && i < n; i++)
        rc = draw_valid(r, null_pct) ? append_leaf(b, &f, r) : pond_arrow_builder_append_null(b);
    if (rc == 0)
        rc = pond_arrow_builder_finish(out, b);
    pond_arrow_builder_free(b);
    return rc;
}

int pqwg_batch(struct ArrowArray *out, const struct ArrowSchema *schema, pqwg_rng *r, int64_t rows,
               int64_t slice)
{
    int rc = pond_arrow_array_init(out, rows + slice, 0, 1, schema->n_children);
    for (int64_t i = 0; rc == 0 && i < schema->n_children; i++)
        rc = gen_array(out->children[i], schema->children[i], r, rows + slice, NULL);
    if (rc < 0) {
        pond_arrow_array_release(out);
        return rc;
    }
    out->offset = slice;
    out->length = rows;
    return 0;
}

/* ---------------------------------------------------------------- integer and float edges */

const char *const pqwg_edge_names[PQWG_EDGE_NCOL] = {"i32", "i64", "ts", "f32", "f64"};
static const char *const edge_format[PQWG_EDGE_NCOL] = {"i", "l", "tsu:UTC", "f", "g"};

static int64_t edge_int(pqwg_rng *r, int mode, int64_t i, int64_t prev)
{
    switch (mode) {
    case 0: /* anything */
        return (int64_t)pqwg_u64(r);
    case 1: /* the extremes alternating: every delta wraps */
        return (i + (int64_t)pqwg_below(r, 2)) % 2 ? INT64_MIN : INT64_MAX;
    case 2: /* a timestamp-like step with jitter, now and then a big jump back */
        return pqwg_below(r, 50) == 0 ? prev - (int64_t)pqwg_below(r, 1u << 30)
                                      : prev + 1000000 + (int64_t)pqwg_below(r, 3);
    case 3: /* constant */
        return -42;
    case 4: /* small noise around zero, negative deltas included */
        return (int64_t)pqwg_below(r, 2001) - 1000;
    case 6: /* a clean timestamp step with jitter */
        return prev + 1000000 + (int64_t)pqwg_below(r, 3);
    default: /* extremes and zero mixed with noise */
        switch (pqwg_below(r, 4)) {
        case 0:
            return INT64_MIN;
        case 1:
            return INT64_MAX;
        case 2:
            return 0;
        default:
            return (int64_t)pqwg_u64(r) >> pqwg_below(r, 64);
        }
    }
}

static double edge_double(pqwg_rng *r, int64_t i)
{
    static const double special[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-310, -1.5, 1e308};
    if (pqwg_below(r, 4) == 0) {
        double d = special[pqwg_below(r, sizeof special / sizeof special[0])];
        if (isnan(d) && pqwg_below(r, 2)) {
            uint64_t bits = 0x7ff0000000000001ULL | (pqwg_u64(r) & 0x000fffffffffffffULL);
            memcpy(&d, &bits, 8); /* a NaN with a payload */
        }
        return d;
    }
    return (double)i * 0.25 + (double)(int64_t)pqwg_below(r, 1000) / 7.0;
}

int pqwg_edge_batch(struct ArrowSchema *s, struct ArrowArray *a, pqwg_rng *r, int64_t n, int mode,
                    int null_pct)
{
    int rc = pond_arrow_schema_init(s, "+s", "", 0, PQWG_EDGE_NCOL);
    if (rc < 0)
        return rc;
    if ((rc = pond_arrow_array_init(a, n, 0, 1, PQWG_EDGE_NCOL)) < 0) {
        pond_arrow_schema_release(s);
        return rc;
    }
    for (int c = 0; rc == 0 && c < PQWG_EDGE_NCOL; c++) {
        bool nullable = c != PQWG_EDGE_TS;
        pond_arrow_builder *b = NULL;
        if ((rc = pqwg_field(s->children[c], edge_format[c], pqwg_edge_names[c], nullable)) < 0 ||
            (rc = pond_arrow_builder_new(&b, edge_format[c])) < 0)
            break;
        /* timestamps stay in years other readers convert (their min/max are checked as
         * dates): steps with jitter and jumps back, or mode 6's clean steps */
        bool ts = c == PQWG_EDGE_TS;
        int64_t prev =
            ts ? 1700000000000000 + (int64_t)pqwg_below(r, 1u << 30) : (int64_t)pqwg_u64(r);
        for (int64_t i = 0; rc == 0 && i < n; i++) {
            if (nullable && (int)pqwg_below(r, 100) < null_pct) {
                rc = pond_arrow_builder_append_null(b);
            } else if (c == PQWG_EDGE_F32 || c == PQWG_EDGE_F64) {
                rc = pond_arrow_builder_append_double(b, edge_double(r, i));
            } else {
                int64_t v = edge_int(r, ts && mode != 6 ? 2 : mode, i, prev);
                if (c == PQWG_EDGE_I32) /* INT32's own extremes */
                    v = v == INT64_MIN   ? INT32_MIN
                        : v == INT64_MAX ? INT32_MAX
                                         : (int32_t)(uint32_t)(uint64_t)v;
                prev = v;
                rc = pond_arrow_builder_append_int(b, v);
            }
        }
        if (rc == 0)
            rc = pond_arrow_builder_finish(a->children[c], b);
        pond_arrow_builder_free(b);
    }
    if (rc < 0) {
        pond_arrow_array_release(a);
        pond_arrow_schema_release(s);
    }
    return rc;
}
