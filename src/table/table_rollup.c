/* The rollup engine (docs/derived.md): a stream of bucket rows computed from a source series
 * over a time range, one window of buckets at a time, so memory is bounded by the groups of
 * one window whatever the source's size. */
#include "table/table_internal.h"

#include <pond/stream.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D POND_DOM_TABLE
/* buckets per window to start with (fixed widths adapt, see ru_next): one source read each;
 * the groups of one window are held in memory */
#define WINDOW_BUCKETS 4096
/* a window holding more groups than this is read again as a smaller one (unless it is one
 * bucket: its keys must all be held) */
#define MAX_GROUPS (WINDOW_BUCKETS * 16)

__extension__ typedef __int128 i128;

/* One input column's running aggregates in one group. */
typedef struct {
    int64_t n;        /* non-null values (NaN included) */
    int64_t nnan;     /* NaN values */
    double sum, comp; /* Neumaier-compensated sum of doubles */
    i128 isum;
    double dmin, dmax; /* over values other than NaN */
    int64_t imin, imax;
    int64_t fts, lts; /* timestamps of first and last */
    double dfirst, dlast;
    int64_t ifirst, ilast;
} acc;

typedef struct {
    size_t key_off, key_len;
    int64_t bucket;
} group;

typedef struct {
    const table_rollup_plan *plan;
    pond_fs_node *src;
    table_span *spans; /* where the source has rows: windows without any are skipped */
    size_t n_spans;
    int64_t cur, hi;
    int64_t window; /* fixed-width buckets per window: grows over sparse stretches */
    bool overflow;  /* the window read stopped at MAX_GROUPS */
    int64_t *rows_read;
    /* one window's groups */
    pond__bytemap map;
    pond_buf keys, groups, accs;
    size_t n_groups;
    pond_buf key;
    struct ArrowSchema schema;
    char err[512];
} ru;

static void window_reset(ru *r)
{
    pond__bytemap_dispose(&r->map);
    pond__bytemap_init(&r->map);
    pond_buf_clear(&r->keys);
    pond_buf_clear(&r->groups);
    pond_buf_clear(&r->accs);
    r->n_groups = 0;
}

/* ---- reading cells -------------------------------------------------------------------------- */

/* A numeric cell as int64 (ints) or double (floats). */
static void num_at(const struct ArrowArray *a, pond_arrow_type t, int64_t i, int64_t *iv,
                   double *dv)
{
    int64_t j = i + a->offset;
    const void *b = a->buffers[1];
    switch (t) {
    case POND_ARROW_INT8:
        *iv = ((const int8_t *)b)[j];
        break;
    case POND_ARROW_UINT8:
        *iv = ((const uint8_t *)b)[j];
        break;
    case POND_ARROW_INT16:
        *iv = ((const int16_t *)b)[j];
        break;
    case POND_ARROW_UINT16:
        *iv = ((const uint16_t *)b)[j];
        break;
    case POND_ARROW_INT32:
        *iv = ((const int32_t *)b)[j];
        break;
    case POND_ARROW_UINT32:
        *iv = ((const uint32_t *)b)[j];
        break;
    case POND_ARROW_INT64:
        *iv = ((const int64_t *)b)[j];
        break;
    case POND_ARROW_FLOAT:
        *dv = ((const float *)b)[j];
        break;
    case POND_ARROW_DOUBLE:
        *dv = ((const double *)b)[j];
        break;
    default:
        break;
    }
}

bool pond_table__rollup_numeric(pond_arrow_type t, bool *is_double)
{
    switch (t) {
    case POND_ARROW_INT8:
    case POND_ARROW_UINT8:
    case POND_ARROW_INT16:
    case POND_ARROW_UINT16:
    case POND_ARROW_INT32:
    case POND_ARROW_UINT32:
    case POND_ARROW_INT64:
        *is_double = false;
        return true;
    case POND_ARROW_FLOAT:
    case POND_ARROW_DOUBLE:
        *is_double = true;
        return true;
    default:
        return false;
    }
}

int pond_table__rollup_key_kind(pond_arrow_type t)
{
    bool dbl;
    if (pond_table__rollup_numeric(t, &dbl)) /* the integers a rollup reads exactly as int64 */
        return dbl ? -1 : TABLE_KEY_INT;
    switch (t) {
    case POND_ARROW_STRING:
    case POND_ARROW_LARGE_STRING:
        return TABLE_KEY_STR;
    case POND_ARROW_BOOL:
        return TABLE_KEY_BOOL;
    default:
        return -1;
    }
}

static void put_be64(uint8_t out[8], int64_t v)
{
    uint64_t u = (uint64_t)v ^ ((uint64_t)1 << 63); /* sign flipped: memcmp orders them */
    for (int k = 7; k >= 0; k--, u >>= 8)
        out[k] = (uint8_t)u;
}

static int64_t get_be64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int k = 0; k < 8; k++)
        u = u << 8 | p[k];
    return (int64_t)(u ^ ((uint64_t)1 << 63));
}

/* Appends the key cell (memcmp-ordered: null first, ints by value, strings bytewise with NUL
 * escaped and a two-byte terminator). */
static int key_cell(pond_buf *k, const struct ArrowArray *a, pond_arrow_type t, int kind, int64_t i)
{
    if (pond_table__is_null(a, i))
        return pond_buf_putc(k, 0);
    int rc = pond_buf_putc(k, 1);
    int64_t j = i + a->offset;
    if (rc == 0 && kind == TABLE_KEY_INT) {
        int64_t v = 0;
        double d;
        num_at(a, t, i, &v, &d);
        uint8_t b[8];
        put_be64(b, v);
        rc = pond_buf_put(k, b, 8);
    } else if (rc == 0 && kind == TABLE_KEY_BOOL) {
        const uint8_t *bits = a->buffers[1];
        rc = pond_buf_putc(k, (bits[j >> 3] >> (j & 7)) & 1 ? 2 : 1);
    } else if (rc == 0) {
        int64_t s, e;
        if (t == POND_ARROW_STRING) {
            s = ((const int32_t *)a->buffers[1])[j];
            e = ((const int32_t *)a->buffers[1])[j + 1];
        } else {
            s = ((const int64_t *)a->buffers[1])[j];
            e = ((const int64_t *)a->buffers[1])[j + 1];
        }
        const char *p = (const char *)a->buffers[2];
        for (int64_t x = s; rc == 0 && x < e; x++) {
            rc = pond_buf_putc(k, p[x]);
            if (rc == 0 && p[x] == 0)
                rc = pond_buf_putc(k, (char)0xff);
        }
        if (rc == 0)
            rc = pond_buf_put(k, "\0\0", 2);
    }
    return rc;
}

/* ---- aggregation ------------------------------------------------------------------------------ */

static void acc_init(acc *a)
{
    memset(a, 0, sizeof *a);
    a->fts = INT64_MAX;
    a->lts = INT64_MIN;
}

static void acc_add(acc *a, bool dbl, int64_t iv, double dv, int64_t ts)
{
    bool first = ts < a->fts, last = ts >= a->lts;
    if (dbl) {
        if (isnan(dv)) {
            a->nnan++;
        } else if (a->n - a->nnan == 0) {
            a->dmin = a->dmax = dv;
        } else {
            a->dmin = dv < a->dmin ? dv : a->dmin;
            a->dmax = dv > a->dmax ? dv : a->dmax;
        }
        /* Neumaier: the sum does not depend on the order rows arrive in for the values a
         * double adds exactly, and loses at most one rounding otherwise */
        double t = a->sum + dv;
        if (isfinite(t))
            a->comp += fabs(a->sum) >= fabs(dv) ? (a->sum - t) + dv : (dv - t) + a->sum;
        a->sum = t;
        if (first)
            a->dfirst = dv;
        if (last)
            a->dlast = dv;
    } else {
        if (a->n == 0) {
            a->imin = a->imax = iv;
        } else {
            a->imin = iv < a->imin ? iv : a->imin;
            a->imax = iv > a->imax ? iv : a->imax;
        }
        a->isum += iv;
        if (first)
            a->ifirst = iv;
        if (last)
            a->ilast = iv;
    }
    if (first)
        a->fts = ts;
    if (last)
        a->lts = ts;
    a->n++;
}

static double acc_dsum(const acc *a) { return isfinite(a->sum) ? a->sum + a->comp : a->sum; }

/* ---- one window ----------------------------------------------------------------------------- */

typedef struct {
    int ts, *by, *in;
    pond_arrow_type *by_t, *in_t;
    table_ts tsk;
} cols;

static int bucket_check(ru *r, int64_t src_start, int64_t start)
{
    /* a cascade: the source bucket starting at src_start must lie inside one of ours */
    const table_rollup_plan *p = r->plan;
    int64_t src_end = pond__bucket_next(&p->src_bucket, src_start);
    if (pond__bucket_floor(&p->bucket, src_end - 1) == start)
        return 0;
    char t[40];
    pond_time_format_iso(t, src_start);
    return pond_error_set(POND_EINVALID, D,
                          "the bucket of source %s starting %s does not lie within one %s "
                          "bucket (a rollup of a rollup needs buckets that nest)",
                          pond_fs_node_path(r->src), t, p->every);
}

static int add_rows(ru *r, const struct ArrowArray *b, cols *c)
{
    const table_rollup_plan *p = r->plan;
    int rc = 0;
    int64_t last_src = INT64_MIN, last_bucket = 0;
    for (int64_t i = 0; i < b->length && rc == 0; i++) {
        const struct ArrowArray *tc = b->children[c->ts];
        if (pond_table__is_null(tc, i))
            continue; /* a row without a timestamp is in no bucket */
        int64_t ts = pond_table__ts_value(&c->tsk, tc, i);
        int64_t bucket;
        if (ts == last_src) {
            bucket = last_bucket;
        } else {
            bucket = pond__bucket_floor(&p->bucket, ts);
            if (p->cascade && (rc = bucket_check(r, ts, bucket)) < 0)
                break;
            last_src = ts;
            last_bucket = bucket;
        }
        pond_buf_clear(&r->key);
        uint8_t be[8];
        put_be64(be, bucket);
        rc = pond_buf_put(&r->key, be, 8);
        for (size_t k = 0; rc == 0 && k < p->n_by; k++)
            rc = key_cell(&r->key, b->children[c->by[k]], c->by_t[k], p->by_kind[k], i);
        if (rc < 0)
            break;
        int64_t gi;
        if (!pond__bytemap_get(&r->map, r->key.ptr, r->key.size, &gi)) {
            gi = (int64_t)r->n_groups;
            group g = {r->keys.size, r->key.size, bucket};
            if ((rc = pond__bytemap_put(&r->map, r->key.ptr, r->key.size, gi)) < 0 ||
                (rc = pond_buf_put(&r->keys, r->key.ptr, r->key.size)) < 0 ||
                (rc = pond_buf_put(&r->groups, &g, sizeof g)) < 0)
                break;
            for (size_t k = 0; k < p->n_in && rc == 0; k++) {
                acc a;
                acc_init(&a);
                rc = pond_buf_put(&r->accs, &a, sizeof a);
            }
            if (rc < 0)
                break;
            if (++r->n_groups > MAX_GROUPS && r->window > 1 && r->plan->bucket.width_us) {
                r->overflow = true;
                return 0;
            }
        }
        acc *accs = (acc *)(void *)r->accs.ptr + (size_t)gi * p->n_in;
        for (size_t k = 0; k < p->n_in; k++) {
            const struct ArrowArray *a = b->children[c->in[k]];
            if (pond_table__is_null(a, i))
                continue;
            int64_t iv = 0;
            double dv = 0;
            num_at(a, c->in_t[k], i, &iv, &dv);
            acc_add(&accs[k], p->in_double[k], iv, dv, ts);
        }
    }
    return rc;
}

/* Reads the source over [r->cur, wend) into the window's groups. */
static int read_window(ru *r, int64_t wend)
{
    const table_rollup_plan *p = r->plan;
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.has_range = true;
    o.from_us = r->cur;
    o.to_us = wend;
    o.columns = (const char *const *)p->read_cols;
    o.n_columns = (int)p->n_read_cols;
    struct ArrowArrayStream s = {0};
    struct ArrowSchema sc = {0};
    struct ArrowArray b = {0};
    cols c = {0};
    int rc = pond_table_node_read_stream(&s, r->src, &o);
    if (rc < 0)
        return rc;
    int err = s.get_schema(&s, &sc);
    if (err) {
        rc = pond_error_set(POND_ERROR, D, "%s: %s", pond_fs_node_path(r->src),
                            s.get_last_error(&s) ? s.get_last_error(&s) : strerror(err));
        goto done;
    }
    c.by = pond_calloc(p->n_by + 1, sizeof *c.by);
    c.by_t = pond_calloc(p->n_by + 1, sizeof *c.by_t);
    c.in = pond_calloc(p->n_in + 1, sizeof *c.in);
    c.in_t = pond_calloc(p->n_in + 1, sizeof *c.in_t);
    if (!c.by || !c.by_t || !c.in || !c.in_t) {
        rc = pond_error_set(POND_ENOMEM, D, "out of memory");
        goto done;
    }
    c.ts = pond_table__find_column(&sc, p->src_ts);
    for (size_t k = 0; k < p->n_by; k++)
        c.by[k] = pond_table__find_column(&sc, p->by[k]);
    for (size_t k = 0; k < p->n_in; k++)
        c.in[k] = pond_table__find_column(&sc, p->in[k]);
    bool missing = c.ts < 0;
    for (size_t k = 0; k < p->n_by; k++)
        missing |= c.by[k] < 0;
    for (size_t k = 0; k < p->n_in; k++)
        missing |= c.in[k] < 0;
    if (missing) {
        rc = pond_error_set(POND_EINVALID, D,
                            "source %s no longer has the columns the "
                            "recipe names",
                            pond_fs_node_path(r->src));
        goto done;
    }
    pond_arrow_format f;
    for (size_t k = 0; k < p->n_by && rc == 0; k++) {
        rc = pond_arrow_format_parse(&f, sc.children[c.by[k]]->format);
        c.by_t[k] = f.type;
        if (rc == 0 && pond_table__rollup_key_kind(f.type) != p->by_kind[k])
            rc = pond_error_set(POND_EINVALID, D, "column '%s' of source %s changed type", p->by[k],
                                pond_fs_node_path(r->src));
    }
    for (size_t k = 0; k < p->n_in && rc == 0; k++) {
        bool dbl = false;
        rc = pond_arrow_format_parse(&f, sc.children[c.in[k]]->format);
        c.in_t[k] = f.type;
        if (rc == 0 && (!pond_table__rollup_numeric(f.type, &dbl) || dbl != p->in_double[k]))
            rc = pond_error_set(POND_EINVALID, D, "column '%s' of source %s changed type", p->in[k],
                                pond_fs_node_path(r->src));
    }
    if (rc == 0)
        rc = pond_table__ts_kind(&c.tsk, sc.children[c.ts], p->src_tz);
    while (rc == 0) {
        if ((err = s.get_next(&s, &b)) != 0) {
            const char *m = s.get_last_error(&s);
            rc = pond_error_set(err == ENOMEM ? POND_ENOMEM
                                : err == EIO  ? POND_ECORRUPT
                                              : POND_ERROR,
                                D, "%s", m ? m : strerror(err));
            break;
        }
        if (!b.release)
            break;
        rc = add_rows(r, &b, &c);
        pond_arrow_array_release(&b);
        if (r->overflow)
            break;
    }
    if (r->rows_read) {
        pond_table_scan_stats st;
        if (pond_table_stream_stats(&st, &s) == 0)
            *r->rows_read += st.rows_read;
    }
done:
    pond_arrow_array_release(&b);
    pond_arrow_schema_release(&sc);
    if (s.release)
        s.release(&s);
    pond_free(c.by);
    pond_free(c.by_t);
    pond_free(c.in);
    pond_free(c.in_t);
    return rc;
}

/* ---- output ------------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *key;
    size_t len;
    size_t idx;
} sorted;

static int sorted_cmp(const void *a, const void *b)
{
    const sorted *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Decodes by-column k's cell from the key at *p (advanced past it) into builder bl. */
static int key_emit(pond_arrow_builder *bl, int kind, const uint8_t **p, pond_buf *tmp)
{
    const uint8_t *q = *p;
    if (*q++ == 0) {
        *p = q;
        return pond_arrow_builder_append_null(bl);
    }
    int rc;
    if (kind == TABLE_KEY_INT) {
        rc = pond_arrow_builder_append_int(bl, get_be64(q));
        q += 8;
    } else if (kind == TABLE_KEY_BOOL) {
        rc = pond_arrow_builder_append_bool(bl, *q++ == 2);
    } else {
        pond_buf_clear(tmp);
        rc = 0;
        while (rc == 0 && !(q[0] == 0 && q[1] == 0)) {
            rc = pond_buf_putc(tmp, (char)q[0]);
            q += q[0] == 0 ? 2 : 1;
        }
        q += 2;
        if (rc == 0)
            rc = pond_arrow_builder_append_bytes(bl, tmp->ptr ? tmp->ptr : "", tmp->size);
    }
    *p = q;
    return rc;
}

static int out_emit(ru *r, pond_arrow_builder *bl, const table_rollup_out *o, const acc *accs,
                    int64_t bucket)
{
    const acc *a = &accs[o->in];
    bool dbl = r->plan->in_double[o->in];
    switch (o->op) {
    case TABLE_AGG_COUNT:
        return pond_arrow_builder_append_int(bl, a->n);
    case TABLE_AGG_AVG2: {
        const acc *c = &accs[o->in2];
        if (a->n == 0 || c->isum == 0)
            return pond_arrow_builder_append_null(bl);
        return pond_arrow_builder_append_double(bl, (dbl ? acc_dsum(a) : (double)a->isum) /
                                                        (double)c->isum);
    }
    default:
        break;
    }
    if (a->n == 0)
        return pond_arrow_builder_append_null(bl);
    switch (o->op) {
    case TABLE_AGG_MIN:
        if (dbl)
            return pond_arrow_builder_append_double(bl, a->n > a->nnan ? a->dmin : NAN);
        return pond_arrow_builder_append_int(bl, a->imin);
    case TABLE_AGG_MAX:
        if (dbl)
            return pond_arrow_builder_append_double(bl, a->nnan ? NAN : a->dmax);
        return pond_arrow_builder_append_int(bl, a->imax);
    case TABLE_AGG_SUM:
        if (dbl)
            return pond_arrow_builder_append_double(bl, acc_dsum(a));
        if (a->isum > INT64_MAX || a->isum < INT64_MIN) {
            char t[40];
            pond_time_format_iso(t, bucket);
            return pond_error_set(POND_EINVALID, D,
                                  "the sum of column '%s' in the bucket starting %s is beyond "
                                  "int64",
                                  r->plan->in[o->in], t);
        }
        return pond_arrow_builder_append_int(bl, (int64_t)a->isum);
    case TABLE_AGG_AVG:
        return pond_arrow_builder_append_double(bl, (dbl ? acc_dsum(a) : (double)a->isum) /
                                                        (double)a->n);
    case TABLE_AGG_FIRST:
        return dbl ? pond_arrow_builder_append_double(bl, a->dfirst)
                   : pond_arrow_builder_append_int(bl, a->ifirst);
    case TABLE_AGG_LAST:
        return dbl ? pond_arrow_builder_append_double(bl, a->dlast)
                   : pond_arrow_builder_append_int(bl, a->ilast);
    default:
        return pond_error_set(POND_ERROR, D, "unknown aggregate");
    }
}

/* The window's groups as one batch, ordered by bucket then keys. */
static int window_batch(ru *r, struct ArrowArray *out)
{
    const table_rollup_plan *p = r->plan;
    size_t ncols = 1 + p->n_by + p->n_outs;
    sorted *ord = pond_calloc(r->n_groups ? r->n_groups : 1, sizeof *ord);
    pond_arrow_builder **bl = pond_calloc(ncols, sizeof *bl);
    struct ArrowArray *arrs = pond_calloc(ncols, sizeof *arrs);
    pond_buf tmp = POND_BUF_INIT;
    int rc = ord && bl && arrs ? 0 : pond_error_set(POND_ENOMEM, D, "out of memory");
    const group *gs = (const group *)(void *)r->groups.ptr;
    for (size_t g = 0; rc == 0 && g < r->n_groups; g++)
        ord[g] = (sorted){(const uint8_t *)r->keys.ptr + gs[g].key_off, gs[g].key_len, g};
    if (rc == 0)
        qsort(ord, r->n_groups, sizeof *ord, sorted_cmp);
    for (size_t k = 0; rc == 0 && k < ncols; k++)
        rc = pond_arrow_builder_new(&bl[k], p->schema.children[k]->format);
    for (size_t x = 0; rc == 0 && x < r->n_groups; x++) {
        const group *g = &gs[ord[x].idx];
        const acc *accs = (const acc *)(const void *)r->accs.ptr + ord[x].idx * p->n_in;
        rc = pond_arrow_builder_append_int(bl[0], g->bucket);
        const uint8_t *q = ord[x].key + 8;
        for (size_t k = 0; rc == 0 && k < p->n_by; k++)
            rc = key_emit(bl[1 + k], p->by_kind[k], &q, &tmp);
        for (size_t k = 0; rc == 0 && k < p->n_outs; k++)
            rc = out_emit(r, bl[1 + p->n_by + k], &p->outs[k], accs, g->bucket);
    }
    size_t built = 0;
    for (; rc == 0 && built < ncols; built++)
        rc = pond_arrow_builder_finish(&arrs[built], bl[built]);
    if (rc == 0)
        rc = pond_table__struct_of(out, arrs, (int64_t)ncols, (int64_t)r->n_groups);
    else
        for (size_t k = 0; k < built; k++)
            pond_arrow_array_release(&arrs[k]);
    for (size_t k = 0; bl && k < ncols; k++)
        pond_arrow_builder_free(bl[k]);
    pond_free(bl);
    pond_free(arrs);
    pond_free(ord);
    pond_buf_dispose(&tmp);
    return rc;
}

/* ---- spans of time with data ------------------------------------------------------------ */

int pond_table__series_spans(table_span **spans, size_t *n, pond_fs_node *node)
{
    pond_series_version_info *vi = NULL;
    size_t nv = 0;
    int rc = pond_series_node_versions(&vi, &nv, node);
    if (rc < 0)
        return rc;
    table_span *s = pond_realloc(*spans, (*n + nv + 1) * sizeof *s);
    if (!s) {
        pond_free(vi);
        return pond_error_set(POND_ENOMEM, D, "out of memory");
    }
    *spans = s;
    for (size_t i = 0; i < nv; i++)
        if (vi[i].size > 0 && !vi[i].replaced_by && vi[i].has_event_time)
            s[(*n)++] = (table_span){vi[i].min_event_time_us, vi[i].max_event_time_us};
    pond_free(vi);
    return 0;
}

int64_t pond_table__spans_next(const table_span *spans, size_t n, int64_t t)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (spans[i].lo <= t && t <= spans[i].hi)
            return t;
        if (spans[i].lo > t && spans[i].lo < best)
            best = spans[i].lo;
    }
    return best;
}

/* ---- the stream ---------------------------------------------------------------------------- */

static int fail(ru *r, int rc)
{
    snprintf(r->err, sizeof r->err, "%s", pond_error_last()->message);
    return pond__errno_of(rc);
}

static int ru_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    ru *r = s->private_data;
    memset(out, 0, sizeof *out);
    const pond__bucket *bk = &r->plan->bucket;
    while (r->cur < r->hi) {
        /* a stretch without source rows costs nothing, however many buckets it spans */
        int64_t next = pond_table__spans_next(r->spans, r->n_spans, r->cur);
        if (next >= r->hi)
            break;
        if (next > r->cur)
            r->cur = pond__bucket_floor(bk, next);
        int64_t wend = r->cur;
        if (bk->width_us) {
            /* memory is the groups of a window, not its buckets: a window that found few
             * groups lets the next one span more time (second buckets over years of sparse
             * rows are a few reads, not millions), one that found many shrinks it */
            int64_t span = r->window > (INT64_MAX / 2) / bk->width_us ? INT64_MAX / 2
                                                                      : r->window * bk->width_us;
            wend = r->hi - r->cur > span ? r->cur + span : r->hi;
        } else {
            for (int k = 0; k < WINDOW_BUCKETS && wend < r->hi; k++)
                wend = pond__bucket_next(bk, wend);
        }
        window_reset(r);
        r->overflow = false;
        int rc = read_window(r, wend);
        if (rc < 0)
            return fail(r, rc);
        if (r->overflow) { /* too many groups: the same start, a smaller window */
            r->window = r->window / 8 > 1 ? r->window / 8 : 1;
            continue;
        }
        r->cur = wend;
        if (r->n_groups < WINDOW_BUCKETS / 4 && r->window < ((int64_t)1 << 40))
            r->window *= 2;
        else if (r->n_groups > WINDOW_BUCKETS * 4 && r->window > 64)
            r->window /= 2;
        if (r->n_groups == 0)
            continue;
        if ((rc = window_batch(r, out)) < 0)
            return fail(r, rc);
        return 0;
    }
    return 0; /* the end: out stays released */
}

static int ru_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    ru *r = s->private_data;
    int rc = pond_arrow_schema_copy(out, &r->plan->schema);
    return rc < 0 ? fail(r, rc) : 0;
}

static const char *ru_err(struct ArrowArrayStream *s)
{
    ru *r = s->private_data;
    return r->err[0] ? r->err : NULL;
}

static void ru_release(struct ArrowArrayStream *s)
{
    ru *r = s->private_data;
    pond__bytemap_dispose(&r->map);
    pond_buf_dispose(&r->keys);
    pond_buf_dispose(&r->groups);
    pond_buf_dispose(&r->accs);
    pond_buf_dispose(&r->key);
    pond_free(r->spans);
    pond_free(r);
    s->release = NULL;
}

int pond_table__rollup_stream(struct ArrowArrayStream *out, const table_rollup_plan *plan,
                              pond_fs_node *src, int64_t lo, int64_t hi, int64_t *rows_read)
{
    memset(out, 0, sizeof *out);
    ru *r = pond_calloc(1, sizeof *r);
    if (!r)
        return pond_error_set(POND_ENOMEM, D, "out of memory");
    r->plan = plan;
    r->src = src;
    r->cur = lo;
    r->hi = hi;
    r->window = WINDOW_BUCKETS;
    r->rows_read = rows_read;
    pond__bytemap_init(&r->map);
    int rc = pond_table__series_spans(&r->spans, &r->n_spans, src);
    if (rc < 0) {
        pond_free(r);
        return rc;
    }
    out->get_schema = ru_schema;
    out->get_next = ru_next;
    out->get_last_error = ru_err;
    out->release = ru_release;
    out->private_data = r;
    return 0;
}
