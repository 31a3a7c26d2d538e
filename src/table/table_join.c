/* The join engine (docs/derived.md): series aligned on time. Output rows are at every
 * timestamp some source has (within its window); each source contributes its row at that
 * timestamp (exact) or its latest row at most `tolerance` earlier (as-of). The range is
 * processed in chunks of time, each a read of every source over the chunk (plus the
 * tolerance before it), so memory is one chunk of every source whatever their size. */
#include "table/table_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D POND_DOM_TABLE
#define CHUNK_US (7LL * 86400 * 1000000) /* a week of rows per read */

/* One source's rows of a chunk, sorted by time, the last row of each timestamp kept. */
typedef struct {
    size_t n, cap;
    int64_t *ts;
    size_t *ord; /* the row's index in the cell arrays */
    int64_t *iv; /* n_cols per row */
    double *dv;
    uint8_t *null; /* n_cols per row */
    size_t *soff, *slen;
    pond_buf str;
} chunk_rows;

typedef struct {
    const table_join_plan *plan;
    table_span *spans; /* where some source has rows: chunks without any are skipped */
    size_t n_spans;
    int64_t cur, hi;
    int64_t *rows_read;
    chunk_rows *rows; /* per source */
    char err[512];
} jn;

static int nomem(void) { return pond_error_set(POND_ENOMEM, D, "out of memory"); }

static void rows_clear(chunk_rows *r)
{
    r->n = 0;
    pond_buf_clear(&r->str);
}

static void rows_dispose(chunk_rows *r)
{
    pond_free(r->ts);
    pond_free(r->ord);
    pond_free(r->iv);
    pond_free(r->dv);
    pond_free(r->null);
    pond_free(r->soff);
    pond_free(r->slen);
    pond_buf_dispose(&r->str);
}

static int grow(void **p, size_t n, size_t size)
{
    void *q = pond_realloc(*p, n * size);
    if (!q)
        return nomem();
    *p = q;
    return 0;
}

static int rows_reserve(chunk_rows *r, size_t nc, size_t want)
{
    if (want <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : 1024;
    while (cap < want)
        cap *= 2;
    size_t cells = cap * (nc ? nc : 1);
    int rc = grow((void **)&r->ts, cap, sizeof *r->ts);
    if (rc == 0)
        rc = grow((void **)&r->ord, cap, sizeof *r->ord);
    if (rc == 0)
        rc = grow((void **)&r->iv, cells, sizeof *r->iv);
    if (rc == 0)
        rc = grow((void **)&r->dv, cells, sizeof *r->dv);
    if (rc == 0)
        rc = grow((void **)&r->null, cells, sizeof *r->null);
    if (rc == 0)
        rc = grow((void **)&r->soff, cells, sizeof *r->soff);
    if (rc == 0)
        rc = grow((void **)&r->slen, cells, sizeof *r->slen);
    if (rc == 0)
        r->cap = cap;
    return rc;
}

/* One cell of column a (type t) into row slot `cell`. */
static int put_cell(chunk_rows *r, size_t cell, const struct ArrowArray *a, pond_arrow_type t,
                    int64_t i)
{
    r->null[cell] = pond_table__is_null(a, i);
    if (r->null[cell])
        return 0;
    int64_t j = a->offset + i;
    const void *b = a->buffers[1];
    switch (t) {
    case POND_ARROW_INT8:
        r->iv[cell] = ((const int8_t *)b)[j];
        break;
    case POND_ARROW_UINT8:
        r->iv[cell] = ((const uint8_t *)b)[j];
        break;
    case POND_ARROW_INT16:
        r->iv[cell] = ((const int16_t *)b)[j];
        break;
    case POND_ARROW_UINT16:
        r->iv[cell] = ((const uint16_t *)b)[j];
        break;
    case POND_ARROW_INT32:
        r->iv[cell] = ((const int32_t *)b)[j];
        break;
    case POND_ARROW_UINT32:
        r->iv[cell] = ((const uint32_t *)b)[j];
        break;
    case POND_ARROW_INT64:
        r->iv[cell] = ((const int64_t *)b)[j];
        break;
    case POND_ARROW_FLOAT:
        r->dv[cell] = ((const float *)b)[j];
        break;
    case POND_ARROW_DOUBLE:
        r->dv[cell] = ((const double *)b)[j];
        break;
    case POND_ARROW_BOOL:
        r->iv[cell] = (((const uint8_t *)b)[j >> 3] >> (j & 7)) & 1;
        break;
    case POND_ARROW_STRING:
    case POND_ARROW_LARGE_STRING: {
        int64_t s, e;
        if (t == POND_ARROW_STRING) {
            s = ((const int32_t *)b)[j];
            e = ((const int32_t *)b)[j + 1];
        } else {
            s = ((const int64_t *)b)[j];
            e = ((const int64_t *)b)[j + 1];
        }
        r->soff[cell] = r->str.size;
        r->slen[cell] = (size_t)(e - s);
        return pond_buf_put(&r->str, (const char *)a->buffers[2] + s, (size_t)(e - s));
    }
    default:
        break;
    }
    return 0;
}

/* Reads source s over [from, to) (its window applied) into r. */
static int read_source(jn *j, size_t s, int64_t from, int64_t to)
{
    const table_join_src *src = &j->plan->src[s];
    chunk_rows *r = &j->rows[s];
    rows_clear(r);
    if (src->has_from && from < src->from)
        from = src->from;
    if (src->has_to && to > src->to)
        to = src->to;
    if (from >= to)
        return 0;
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.has_range = true;
    o.from_us = from;
    o.to_us = to;
    o.columns = (const char *const *)src->read_cols;
    o.n_columns = (int)src->n_cols + 1;
    struct ArrowArrayStream st = {0};
    struct ArrowSchema sc = {0};
    struct ArrowArray b = {0};
    int *map = NULL;
    pond_arrow_type *types = NULL;
    table_ts tsk;
    int rc = pond_table_node_read_stream(&st, src->node, &o);
    if (rc < 0)
        return rc;
    int err = st.get_schema(&st, &sc);
    if (err) {
        rc = pond_error_set(POND_ERROR, D, "%s", st.get_last_error(&st));
        goto done;
    }
    map = pond_calloc(src->n_cols + 1, sizeof *map);
    types = pond_calloc(src->n_cols + 1, sizeof *types);
    if (!map || !types) {
        rc = nomem();
        goto done;
    }
    for (size_t k = 0; k <= src->n_cols && rc == 0; k++) {
        pond_arrow_format f;
        map[k] = pond_table__find_column(&sc, src->read_cols[k]);
        if (map[k] < 0)
            rc = pond_error_set(POND_EINVALID, D, "source %s no longer has column '%s'",
                                pond_fs_node_path(src->node), src->read_cols[k]);
        else if ((rc = pond_arrow_format_parse(&f, sc.children[map[k]]->format)) == 0)
            types[k] = f.type;
    }
    if (rc == 0)
        rc = pond_table__ts_kind(&tsk, sc.children[map[0]], src->tz);
    size_t nc = src->n_cols;
    while (rc == 0) {
        if ((err = st.get_next(&st, &b)) != 0) {
            const char *m = st.get_last_error(&st);
            rc = pond_error_set(err == ENOMEM ? POND_ENOMEM
                                : err == EIO  ? POND_ECORRUPT
                                              : POND_ERROR,
                                D, "%s", m ? m : strerror(err));
            break;
        }
        if (!b.release)
            break;
        if ((rc = rows_reserve(r, nc, r->n + (size_t)b.length)) < 0)
            break;
        for (int64_t i = 0; i < b.length && rc == 0; i++) {
            const struct ArrowArray *tc = b.children[map[0]];
            if (pond_table__is_null(tc, i))
                continue; /* a row without a timestamp is at no time */
            size_t at = r->n++;
            r->ts[at] = pond_table__ts_value(&tsk, tc, i);
            r->ord[at] = at;
            for (size_t k = 0; k < nc && rc == 0; k++)
                rc = put_cell(r, at * nc + k, b.children[map[k + 1]], types[k + 1], i);
        }
        pond_arrow_array_release(&b);
    }
    if (j->rows_read) {
        pond_table_scan_stats ss;
        if (pond_table_stream_stats(&ss, &st) == 0)
            *j->rows_read += ss.rows_read;
    }
done:
    pond_arrow_array_release(&b);
    pond_arrow_schema_release(&sc);
    if (st.release)
        st.release(&st);
    pond_free(map);
    pond_free(types);
    return rc;
}

typedef struct {
    int64_t ts;
    size_t idx;
} ts_idx;

static int ts_idx_cmp(const void *a, const void *b)
{
    const ts_idx *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts ? 1 : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Sorts r by (ts, arrival) and keeps the last row of each timestamp (read order: the newest
 * version's, as dedup=last would). */
static int sort_source(chunk_rows *r)
{
    if (r->n == 0)
        return 0;
    ts_idx *v = pond_malloc(r->n * sizeof *v);
    if (!v)
        return nomem();
    for (size_t i = 0; i < r->n; i++)
        v[i] = (ts_idx){r->ts[i], i};
    qsort(v, r->n, sizeof *v, ts_idx_cmp);
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (k > 0 && r->ts[r->ord[k - 1]] == v[i].ts)
            k--; /* a later row of the same timestamp replaces the earlier */
        r->ord[k++] = v[i].idx;
    }
    r->n = k;
    pond_free(v);
    return 0;
}

static int append_cell(pond_arrow_builder *b, const chunk_rows *r, size_t row, size_t k, size_t nc,
                       int kind)
{
    size_t cell = row * nc + k;
    if (r->null[cell])
        return pond_arrow_builder_append_null(b);
    switch (kind) {
    case TABLE_JOIN_DOUBLE:
        return pond_arrow_builder_append_double(b, r->dv[cell]);
    case TABLE_JOIN_STR:
        return pond_arrow_builder_append_bytes(b, r->str.ptr ? r->str.ptr + r->soff[cell] : "",
                                               r->slen[cell]);
    case TABLE_JOIN_BOOL:
        return pond_arrow_builder_append_bool(b, r->iv[cell] != 0);
    default:
        return pond_arrow_builder_append_int(b, r->iv[cell]);
    }
}

/* The output rows with timestamps in [c0, c1) as one batch (length 0 when there are none). */
static int chunk_batch(jn *j, int64_t c0, int64_t c1, struct ArrowArray *out, int64_t *n_out)
{
    const table_join_plan *p = j->plan;
    int64_t tol = p->tolerance_us;
    int rc = 0;
    for (size_t s = 0; s < p->n_src && rc == 0; s++) {
        rc = read_source(j, s, c0 - tol, c1);
        if (rc == 0)
            rc = sort_source(&j->rows[s]);
    }
    if (rc < 0)
        return rc;
    size_t ncols = (size_t)p->schema.n_children;
    pond_arrow_builder **bl = pond_calloc(ncols, sizeof *bl);
    struct ArrowArray *arrs = pond_calloc(ncols, sizeof *arrs);
    size_t *pos = pond_calloc(p->n_src, sizeof *pos); /* next unconsumed row per source */
    size_t *cur = pond_calloc(p->n_src, sizeof *cur); /* rows at or before t, per source */
    if (!bl || !arrs || !pos || !cur)
        rc = nomem();
    for (size_t k = 0; rc == 0 && k < ncols; k++)
        rc = pond_arrow_builder_new(&bl[k], p->schema.children[k]->format);
    int64_t n = 0;
    for (;;) {
        if (rc < 0)
            break;
        /* the next output timestamp: the smallest unconsumed one at or after c0 */
        int64_t t = INT64_MAX;
        for (size_t s = 0; s < p->n_src; s++) {
            const chunk_rows *r = &j->rows[s];
            while (pos[s] < r->n && r->ts[r->ord[pos[s]]] < c0)
                pos[s]++;
            if (pos[s] < r->n && r->ts[r->ord[pos[s]]] < t)
                t = r->ts[r->ord[pos[s]]];
        }
        if (t == INT64_MAX || t >= c1)
            break;
        rc = pond_arrow_builder_append_int(bl[0], t);
        size_t col = 1;
        for (size_t s = 0; s < p->n_src && rc == 0; s++) {
            const chunk_rows *r = &j->rows[s];
            const table_join_src *src = &p->src[s];
            /* the latest row at or before t */
            while (cur[s] < r->n && r->ts[r->ord[cur[s]]] <= t)
                cur[s]++;
            /* a source says nothing outside its window, even as-of */
            bool has = cur[s] > 0 && t - r->ts[r->ord[cur[s] - 1]] <= tol &&
                       !(src->has_from && t < src->from) && !(src->has_to && t >= src->to);
            for (size_t k = 0; k < src->n_cols && rc == 0; k++)
                rc = has ? append_cell(bl[col + k], r, r->ord[cur[s] - 1], k, src->n_cols,
                                       src->kind[k])
                         : pond_arrow_builder_append_null(bl[col + k]);
            col += src->n_cols;
            if (pos[s] < r->n && r->ts[r->ord[pos[s]]] == t)
                pos[s]++;
        }
        n++;
    }
    size_t built = 0;
    for (; rc == 0 && built < ncols; built++)
        rc = pond_arrow_builder_finish(&arrs[built], bl[built]);
    if (rc == 0)
        rc = pond_table__struct_of(out, arrs, (int64_t)ncols, n);
    else
        for (size_t k = 0; k < built; k++)
            pond_arrow_array_release(&arrs[k]);
    for (size_t k = 0; bl && k < ncols; k++)
        pond_arrow_builder_free(bl[k]);
    pond_free(bl);
    pond_free(arrs);
    pond_free(pos);
    pond_free(cur);
    *n_out = n;
    return rc;
}

static int fail(jn *j, int rc)
{
    snprintf(j->err, sizeof j->err, "%s", pond_error_last()->message);
    return pond__errno_of(rc);
}

static int jn_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    jn *j = s->private_data;
    memset(out, 0, sizeof *out);
    while (j->cur < j->hi) {
        int64_t next = pond_table__spans_next(j->spans, j->n_spans, j->cur);
        if (next >= j->hi)
            break;
        j->cur = next > j->cur ? next : j->cur;
        int64_t c1 = j->hi - j->cur > CHUNK_US ? j->cur + CHUNK_US : j->hi;
        int64_t n = 0;
        int rc = chunk_batch(j, j->cur, c1, out, &n);
        j->cur = c1;
        if (rc < 0)
            return fail(j, rc);
        if (n > 0)
            return 0;
        pond_arrow_array_release(out);
    }
    return 0;
}

static int jn_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    jn *j = s->private_data;
    int rc = pond_arrow_schema_copy(out, &j->plan->schema);
    return rc < 0 ? fail(j, rc) : 0;
}

static const char *jn_err(struct ArrowArrayStream *s)
{
    jn *j = s->private_data;
    return j->err[0] ? j->err : NULL;
}

static void jn_release(struct ArrowArrayStream *s)
{
    jn *j = s->private_data;
    for (size_t k = 0; j->rows && k < j->plan->n_src; k++)
        rows_dispose(&j->rows[k]);
    pond_free(j->rows);
    pond_free(j->spans);
    pond_free(j);
    s->release = NULL;
}

int pond_table__join_stream(struct ArrowArrayStream *out, const table_join_plan *plan, int64_t lo,
                            int64_t hi, int64_t *rows_read)
{
    memset(out, 0, sizeof *out);
    jn *j = pond_calloc(1, sizeof *j);
    if (!j || !(j->rows = pond_calloc(plan->n_src ? plan->n_src : 1, sizeof *j->rows))) {
        pond_free(j);
        return nomem();
    }
    for (size_t s = 0; s < plan->n_src; s++) {
        int rc = pond_table__series_spans(&j->spans, &j->n_spans, plan->src[s].node);
        if (rc < 0) {
            pond_free(j->spans);
            pond_free(j->rows);
            pond_free(j);
            return rc;
        }
    }
    /* as-of: a row counts up to the tolerance after its time */
    for (size_t k = 0; k < j->n_spans; k++)
        j->spans[k].hi = j->spans[k].hi > INT64_MAX - plan->tolerance_us
                             ? INT64_MAX
                             : j->spans[k].hi + plan->tolerance_us;
    j->plan = plan;
    j->cur = lo;
    j->hi = hi;
    j->rows_read = rows_read;
    out->get_schema = jn_schema;
    out->get_next = jn_next;
    out->get_last_error = jn_err;
    out->release = jn_release;
    out->private_data = j;
    return 0;
}
