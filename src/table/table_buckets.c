/* Bucketed reads (include/pond/buckets.h).
 *
 * The scan: one pass over the range with the table reader, which skips versions whose event
 * times lie outside [from, to) and row groups whose statistics do, and decodes only the
 * timestamp column and the columns asked for; each row goes to its bucket. Parquet
 * statistics hold min and max but no sum, and at a thousand buckets over ten years a row
 * group of 131,072 rows straddles a dozen buckets, so they only prune. The cache
 * (table_buckets_cache.c) answers repeated requests without reading the pond
 * (docs/serve.md, "Buckets"). */
#include <pond/alloc.h>
#include <pond/buckets.h>
#include <pond/errors.h>
#include <pond/table.h>

#include "table/table_buckets_internal.h"
#include "table/table_internal.h"

#include <string.h>

#define D POND_DOM_TABLE

void pond_buckets_dispose(pond_buckets *b)
{
    for (size_t k = 0; b->names && k < b->n_columns; k++)
        pond_free(b->names[k]);
    pond_free(b->names);
    pond_free(b->cells);
    pond_free(b->timestamp_column);
    memset(b, 0, sizeof *b);
}

int64_t pond_buckets_start(const pond_buckets *b, int64_t i)
{
    bk_grid g;
    bk_grid_init(&g, b->from_us, b->to_us, b->n);
    return bk_start(&g, i);
}

static bool numeric(const pond_arrow_format *f)
{
    switch (f->type) {
    case POND_ARROW_INT8:
    case POND_ARROW_UINT8:
    case POND_ARROW_INT16:
    case POND_ARROW_UINT16:
    case POND_ARROW_INT32:
    case POND_ARROW_UINT32:
    case POND_ARROW_INT64:
    case POND_ARROW_UINT64:
    case POND_ARROW_HALF:
    case POND_ARROW_FLOAT:
    case POND_ARROW_DOUBLE:
        return true;
    default:
        return false;
    }
}

double pond_table__bk_value(const pond_arrow_format *f, const struct ArrowArray *a, int64_t j)
{
    const void *v = a->buffers[1];
    switch (f->type) {
    case POND_ARROW_INT8:
        return ((const int8_t *)v)[j];
    case POND_ARROW_UINT8:
        return ((const uint8_t *)v)[j];
    case POND_ARROW_INT16:
        return ((const int16_t *)v)[j];
    case POND_ARROW_UINT16:
        return ((const uint16_t *)v)[j];
    case POND_ARROW_INT32:
        return ((const int32_t *)v)[j];
    case POND_ARROW_UINT32:
        return ((const uint32_t *)v)[j];
    case POND_ARROW_INT64:
        return (double)((const int64_t *)v)[j];
    case POND_ARROW_UINT64:
        return (double)((const uint64_t *)v)[j];
    case POND_ARROW_FLOAT:
        return ((const float *)v)[j];
    case POND_ARROW_DOUBLE:
        return ((const double *)v)[j];
    case POND_ARROW_HALF: {
        uint16_t h = ((const uint16_t *)v)[j];
        int e = (h >> 10) & 0x1f, m = h & 0x3ff;
        double x = e == 0    ? ldexp(m, -24)
                   : e == 31 ? (m ? NAN : INFINITY)
                             : ldexp(m | 0x400, e - 25);
        return h & 0x8000 ? -x : x;
    }
    default:
        return NAN;
    }
}

/* The series' whole event-time range, from its versions. */
static int whole_range(bool *empty, int64_t *from, int64_t *to, pond_fs *fs, const pond_wd *wd,
                       const char *path)
{
    pond_stat *vs = NULL;
    size_t nv = 0;
    int rc = pond_fs_versions(&vs, &nv, fs, wd, path);
    if (rc < 0)
        return rc;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < nv; i++) {
        if (!vs[i].has_event_time)
            continue;
        lo = vs[i].min_event_time_us < lo ? vs[i].min_event_time_us : lo;
        hi = vs[i].max_event_time_us > hi ? vs[i].max_event_time_us : hi;
    }
    pond_free(vs);
    *empty = lo > hi;
    *from = *empty ? 0 : lo;
    *to = *empty ? 1 : (hi < INT64_MAX ? hi + 1 : hi);
    return 0;
}

/* What the cache needs to know of the series: the newest version that replaces earlier ones
 * (a compaction, or a sql recipe's recompute), or 0: the cache must not extend an entry by it
 * alone; and whether it is a stale manual derived node, whose reads are computed from its
 * sources (its own versions do not change while they do): the cache must not answer for it. */
static int cache_facts(int64_t *newest, bool *stale, pond_fs *fs, const pond_wd *wd,
                       const char *path)
{
    *newest = 0;
    *stale = false;
    pond_fs_node *node = NULL;
    table_attrs a;
    int rc = pond_fs_node_open(&node, fs, wd, path, 0);
    if (rc == 0 && (rc = pond_table__attrs_read(&a, node)) == 0) {
        for (size_t c = 0; c < a.n_comps; c++)
            *newest = a.comps[c].version > *newest ? a.comps[c].version : *newest;
        pond_table__attrs_dispose(&a);
    }
    if (rc == 0)
        rc = pond_derive_stale(stale, node);
    pond_fs_node_free(node);
    return rc;
}

/* One batch of the scan: each row's bucket first (the timestamp column read once), then each
 * value column in a loop of its own type. */
static void fold_batch(pond_buckets *out, bk_grid *g, const struct ArrowArray *b,
                       const table_ts *tk, const pond_arrow_format *fm, int ncols, int64_t *bi)
{
    const struct ArrowArray *tc = b->children[0];
    int64_t n = b->length, base = b->offset;
    bool plain_us = tk->kind == 1 && tk->unit == POND_ARROW_UNIT_US && !tk->local &&
                    (tc->null_count == 0 || !tc->buffers[0]);
    const int64_t *raw = plain_us ? (const int64_t *)tc->buffers[1] + tc->offset + base : NULL;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = base + i;
        if (!raw && pond_table__is_null(tc, r)) {
            bi[i] = -1;
            continue;
        }
        int64_t t = raw ? raw[i] : pond_table__ts_value(tk, tc, r);
        if (t < out->from_us || t >= out->to_us) {
            bi[i] = -1;
            continue;
        }
        bi[i] = bk_bucket(g, t);
        out->rows_read++;
    }
    for (int k = 1; k < ncols; k++) {
        const struct ArrowArray *vc = b->children[k];
        pond_bucket *cells = &out->cells[(size_t)(k - 1) * (size_t)out->n];
        bool no_nulls = vc->null_count == 0 || !vc->buffers[0];
        if (fm[k].type == POND_ARROW_DOUBLE && no_nulls) {
            const double *v = (const double *)vc->buffers[1] + vc->offset + base;
            for (int64_t i = 0; i < n; i++)
                if (bi[i] >= 0)
                    bk_add(&cells[bi[i]], v[i]);
            continue;
        }
        for (int64_t i = 0; i < n; i++) {
            if (bi[i] < 0 || (!no_nulls && pond_table__is_null(vc, base + i)))
                continue;
            bk_add(&cells[bi[i]], pond_table__bk_value(&fm[k], vc, vc->offset + base + i));
        }
    }
}

int pond_table_buckets(pond_buckets *out, pond_fs *fs, const pond_wd *wd, const char *path,
                       const pond_buckets_options *opts)
{
    POND_ASSERT_ARG(out && fs && path && opts);
    memset(out, 0, sizeof *out);
    if (opts->n < 1 || opts->n > POND_BUCKETS_MAX)
        return pond_error_set(POND_EINVALID, D, "%lld buckets: from 1 to %d", (long long)opts->n,
                              POND_BUCKETS_MAX);
    pond_stat st;
    int rc = pond_fs_stat(&st, fs, wd, path);
    if (rc < 0)
        return rc;
    if (st.type != POND_ENTRY_FILE_SERIES)
        return pond_error_set(POND_EINVALID, D, "%s: buckets need a series; this is %s", path,
                              pond_entry_type_name(st.type));
    pond_series_settings set;
    if ((rc = pond_series_settings_get(&set, fs, wd, path)) < 0)
        return rc;
    out->timestamp_column = set.timestamp_column;
    set.timestamp_column = NULL;
    /* the rule the reads apply, for the cache's key (a rule set or changed builds anew) */
    pond_buf dedup = POND_BUF_INIT;
    if (set.dedup == POND_DEDUP_LAST) {
        rc = pond_buf_puts(&dedup, "last");
        for (size_t k = 0; rc == 0 && k < set.n_dedup_keys; k++)
            rc = pond_buf_printf(&dedup, "%s%s", k ? "," : ":", set.dedup_keys[k]);
        if (rc == 0)
            rc = pond_buf_putc(&dedup, '\0');
        if (rc < 0) {
            pond_series_settings_dispose(&set);
            pond_buf_dispose(&dedup);
            return rc;
        }
    }
    pond_tz *tz = NULL;
    if (set.timezone && (rc = pond_tz_open(&tz, set.timezone)) < 0) {
        pond_series_settings_dispose(&set);
        pond_buf_dispose(&dedup);
        return rc;
    }
    pond_series_settings_dispose(&set);
    if (!out->timestamp_column) {
        pond_tz_free(tz);
        pond_buf_dispose(&dedup);
        return pond_error_set(POND_EINVALID, D, "%s: the series has no timestamp column yet", path);
    }
    out->n = opts->n;
    if (opts->has_range) {
        out->from_us = opts->from_us;
        out->to_us = opts->to_us;
        if (out->to_us <= out->from_us)
            rc = pond_error_set(POND_EINVALID, D, "to must be after from");
    } else {
        rc = whole_range(&out->empty, &out->from_us, &out->to_us, fs, wd, path);
    }
    struct ArrowArrayStream s = {0};
    struct ArrowSchema schema = {0};
    const char **cols = NULL;
    pond_arrow_format *fm = NULL;
    int ncols = 0;
    /* the schema: which columns, and their types */
    if (rc == 0) {
        rc = pond_table_read_stream(&s, fs, wd, path,
                                    &(pond_table_read_options)POND_TABLE_READ_OPTIONS_INIT);
        if (rc == 0 && s.get_schema(&s, &schema) != 0)
            rc = pond_error_set(POND_EIO, D, "%s", s.get_last_error(&s));
        if (s.release)
            s.release(&s);
        memset(&s, 0, sizeof s);
    }
    size_t nall = rc == 0 ? (size_t)schema.n_children : 0;
    if (rc == 0 && (!(cols = pond_calloc(nall + 2, sizeof *cols)) ||
                    !(fm = pond_calloc(nall + 2, sizeof *fm))))
        rc = POND_ENOMEM;
    if (rc == 0)
        cols[ncols++] = out->timestamp_column;
    for (size_t k = 0; rc == 0 && k < nall; k++) {
        const struct ArrowSchema *c = schema.children[k];
        pond_arrow_format f;
        if ((rc = pond_arrow_format_parse(&f, c->format)) < 0)
            break;
        if (!strcmp(c->name, out->timestamp_column))
            continue;
        bool asked = !opts->columns;
        for (int q = 0; opts->columns && q < opts->n_columns; q++)
            asked |= !strcmp(opts->columns[q], c->name);
        if (!asked)
            continue;
        if (!numeric(&f)) {
            if (opts->columns) {
                char tn[POND_ARROW_TYPE_NAME_LEN];
                pond_arrow_type_name(tn, c->format);
                rc = pond_error_set(POND_EINVALID, D, "%s: column '%s' is %s, not a number", path,
                                    c->name, tn);
            }
            continue;
        }
        cols[ncols++] = c->name;
    }
    for (int q = 0; rc == 0 && opts->columns && q < opts->n_columns; q++) {
        bool found = false;
        for (int k = 1; k < ncols; k++)
            found |= !strcmp(cols[k], opts->columns[q]);
        if (!found)
            rc = pond_error_set(POND_EINVALID, D, "%s: no numeric column '%s'", path,
                                opts->columns[q]);
    }
    out->n_columns = ncols > 0 ? (size_t)ncols - 1 : 0;
    if (rc == 0 &&
        (!(out->names = pond_calloc(out->n_columns + 1, sizeof *out->names)) ||
         !(out->cells = pond_calloc(out->n_columns * (size_t)out->n + 1, sizeof *out->cells))))
        rc = POND_ENOMEM;
    for (size_t k = 0; rc == 0 && k < out->n_columns; k++)
        if (!(out->names[k] = pond_strdup(cols[k + 1])))
            rc = POND_ENOMEM;
    for (size_t i = 0; rc == 0 && i < out->n_columns * (size_t)out->n; i++) {
        out->cells[i].min = INFINITY;
        out->cells[i].max = -INFINITY;
    }
    /* the cache, when it has the series or the range is worth reading the whole series */
    pond_buckets_cache *cache = opts->version >= 2 ? opts->cache : NULL;
    bool answered = false;
    if (rc == 0 && !out->empty && cache) {
        bool none;
        int64_t lo, hi;
        rc = whole_range(&none, &lo, &hi, fs, wd, path);
        int64_t a = out->from_us > lo ? out->from_us : lo, z = out->to_us < hi ? out->to_us : hi;
        bk_request rq = {fs,
                         wd,
                         path,
                         tz,
                         cols,
                         ncols,
                         !none && z > a && ((bk_i128)z - a) * 4 >= ((bk_i128)hi - lo),
                         dedup.size ? dedup.ptr : NULL,
                         0};
        bool stale = false;
        if (rc == 0)
            rc = cache_facts(&rq.newest_replacing, &stale, fs, wd, path);
        if (rc == 0 && !stale && (rc = pond_table__buckets_cached(out, cache, &rq)) == 0)
            answered = true;
        else if (rc == POND_ENOTFOUND)
            rc = 0;
    }
    /* the pass */
    if (rc == 0 && !out->empty && !answered) {
        pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
        ro.has_range = true;
        ro.from_us = out->from_us;
        ro.to_us = out->to_us;
        ro.columns = cols;
        ro.n_columns = ncols;
        rc = pond_table_read_stream(&s, fs, wd, path, &ro);
    }
    struct ArrowSchema rs = {0};
    table_ts tk;
    if (rc == 0 && s.release && s.get_schema(&s, &rs) != 0)
        rc = pond_error_set(POND_EIO, D, "%s", s.get_last_error(&s));
    if (rc == 0 && s.release) {
        if ((rc = pond_table__ts_kind(&tk, rs.children[0], tz)) == 0 && tk.kind == 0)
            rc = pond_error_set(POND_EINVALID, D, "%s: column '%s' does not hold times", path,
                                out->timestamp_column);
        for (int k = 1; rc == 0 && k < ncols; k++)
            rc = pond_arrow_format_parse(&fm[k], rs.children[k]->format);
    }
    bk_grid g;
    bk_grid_init(&g, out->from_us, out->to_us, out->n);
    int64_t *bi = NULL; /* per row of a batch: its bucket, -1 outside */
    size_t bi_cap = 0;
    while (rc == 0 && s.release) {
        struct ArrowArray b;
        int e = s.get_next(&s, &b);
        if (e != 0) {
            rc = pond_error_set(POND_EIO, D, "%s", s.get_last_error(&s));
            break;
        }
        if (!b.release)
            break;
        if ((size_t)b.length > bi_cap) {
            pond_free(bi);
            bi_cap = (size_t)b.length;
            if (!(bi = pond_malloc(bi_cap * sizeof *bi))) {
                b.release(&b);
                rc = POND_ENOMEM;
                break;
            }
        }
        fold_batch(out, &g, &b, &tk, fm, ncols, bi);
        b.release(&b);
    }
    pond_free(bi);
    pond_arrow_schema_release(&rs);
    if (s.release)
        s.release(&s);
    pond_arrow_schema_release(&schema);
    pond_free(cols);
    pond_free(fm);
    pond_tz_free(tz);
    pond_buf_dispose(&dedup);
    return rc;
}
