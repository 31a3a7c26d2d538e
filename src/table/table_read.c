/* Reading tables and series as one ArrowArrayStream: version selection by event time,
 * row-group pruning by Parquet statistics, exact row filtering, schema union across versions. */
#include "table/table_internal.h"

#include <pond/parquet.h>
#include <pond/stream.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define D POND_DOM_TABLE

typedef struct {
    int64_t version;
    struct ArrowSchema schema;
    bool skip; /* outside the time range: its schema counts, its rows are not read */
} ver;

typedef struct {
    pond_fs *fs;
    char *path;
    pond_table_read_options opts;
    bool series;
    ver *vers;
    size_t n_vers, next_ver;
    struct ArrowSchema out_schema; /* a "+s" of the output columns */
    pond_event_time et;            /* series: its timestamp column and zone; bound per version */
    /* the version being read */
    pond_reader *reader;
    pond_reader **more;     /* threads - 1 more readers of the version */
    int n_more;
    pond_hset *readers;     /* reader and more, for the Parquet reader's threads */
    pond_parquet_reader *pq;
    struct ArrowSchema in_schema;
    int *map;   /* output column -> input column, -1 missing */
    int in_ts;  /* input column of the timestamp when filtering a range (et.index), -1 none */
    /* batches ready to hand out */
    struct ArrowArray *queue;
    size_t q_head, q_len, q_cap;
    pond_table_scan_stats stats;
    char err[1024];
    bool failed;
} rd;

static int errno_of(int rc)
{
    switch (rc) {
    case POND_ENOMEM: return ENOMEM;
    case POND_EINVALID: return EINVAL;
    case POND_ENOTFOUND: return ENOENT;
    case POND_EUNSUPPORTED: return ENOTSUP;
    default: return EIO;
    }
}

static int fail(rd *r, int rc)
{
    snprintf(r->err, sizeof r->err, "%s", pond_error_last()->message);
    r->failed = true;
    return errno_of(rc);
}

static void close_version(rd *r)
{
    pond_parquet_reader_free(r->pq); /* joins its threads */
    r->pq = NULL;
    pond__hset_free(r->readers);
    r->readers = NULL;
    for (int i = 0; i < r->n_more; i++)
        pond_reader_free(r->more[i]);
    pond_free(r->more);
    r->more = NULL;
    r->n_more = 0;
    pond_reader_free(r->reader);
    r->reader = NULL;
    pond_arrow_schema_release(&r->in_schema);
    pond_free(r->map);
    r->map = NULL;
}

/* A pond_reader is used by one thread at a time, and reading one verifies the content's
 * hashes (a good part of a scan's time): each of the Parquet reader's threads takes a reader
 * of its own from the set for each read. */
static int read_at(void *payload, int64_t off, void *buf, size_t len, size_t *n_out)
{
    rd *r = payload;
    pond_reader *h = pond__hset_take(r->readers);
    int rc = pond_reader_pread(h, buf, len, off, n_out);
    pond__hset_give(r->readers, h);
    return rc;
}

/* One reader per decoding thread: r->reader and threads - 1 more of the same version. */
static int open_readers(rd *r, int64_t version)
{
    int n = r->opts.threads <= 0 ? 2 : POND_MIN(r->opts.threads, 64);
    void *hs[64] = {r->reader};
    if (n > 1 && !(r->more = pond_calloc((size_t)n - 1, sizeof *r->more)))
        return POND_ENOMEM;
    for (int i = 1; i < n; i++) {
        int rc = pond_fs_open_reader_version(&r->more[i - 1], r->fs, NULL, r->path, version);
        if (rc < 0)
            return rc;
        hs[i] = r->more[i - 1];
        r->n_more = i;
    }
    return pond__hset_new(&r->readers, hs, n);
}

static bool wanted(const rd *r, const char *name)
{
    if (!r->opts.columns)
        return true;
    for (int i = 0; i < r->opts.n_columns; i++)
        if (name && !strcmp(r->opts.columns[i], name))
            return true;
    return false;
}

/* Lower and upper raw bounds of [from, to) in the stored unit of the timestamp column.
 * Wall-clock values are bounded loosely (a zone is never more than 26 hours from UTC): the
 * bounds only skip row groups, rows are filtered on their exact instants. */
static bool raw_bounds(const table_ts *t, int64_t from, int64_t to, int64_t *lo, int64_t *hi)
{
    if ((t->kind != 1 && t->kind != 4) || to <= from)
        return false;
    int64_t last = to - 1;
    if (t->local && !pond_tz_is_utc(t->local)) {
        const int64_t slack = 26LL * 3600 * 1000000;
        if (from < INT64_MIN + slack || last > INT64_MAX - slack)
            return false;
        from -= slack;
        last += slack;
    }
    if (t->kind == 4) {
        const int64_t day = 86400LL * 1000000;
        *lo = from / day - (from % day < 0);
        *hi = last / day - (last % day < 0);
        return *lo >= INT32_MIN && *hi <= INT32_MAX;
    }
    switch (t->unit) {
    case POND_ARROW_UNIT_S:
        *lo = from / 1000000 - (from % 1000000 < 0);
        *hi = last / 1000000 - (last % 1000000 < 0);
        return true;
    case POND_ARROW_UNIT_MS:
        *lo = from / 1000 - (from % 1000 < 0);
        *hi = last / 1000 - (last % 1000 < 0);
        return true;
    case POND_ARROW_UNIT_US:
        *lo = from;
        *hi = last;
        return true;
    default:
        if (from < INT64_MIN / 1000 || last > INT64_MAX / 1000 - 999)
            return false;
        *lo = from * 1000;
        *hi = last * 1000 + 999;
        return true;
    }
}

static int open_version(rd *r, const ver *v)
{
    int rc = pond_fs_open_reader_version(&r->reader, r->fs, NULL, r->path, v->version);
    if (rc == 0)
        rc = open_readers(r, v->version);
    if (rc < 0)
        return rc;
    /* project to the wanted columns this version has, plus the timestamp for filtering */
    const char **names = pond_calloc((size_t)v->schema.n_children + 1, sizeof *names);
    if (!names)
        return POND_ENOMEM;
    int nn = 0;
    for (int64_t i = 0; i < v->schema.n_children; i++) {
        const char *nm = v->schema.children[i]->name;
        if (wanted(r, nm) ||
            (r->et.column && nm && !strcmp(nm, r->et.column) && r->opts.has_range))
            names[nn++] = nm;
    }
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.column_names = names;
    po.n_column_names = nn;
    po.threads = r->opts.threads;
    po.source_concurrent = true;
    pond_parquet_source src = {read_at, pond_reader_size(r->reader), r};
    rc = pond_parquet_reader_open(&r->pq, &src, &po);
    pond_free(names);
    if (rc == 0)
        rc = pond_parquet_reader_schema(r->pq, &r->in_schema);
    if (rc < 0) {
        pond_error_prefix("%s version %lld", r->path, (long long)v->version);
        return rc;
    }
    r->in_ts = -1;
    if (r->et.column && r->opts.has_range) {
        /* a version without the column (written before it was recorded) is not filtered */
        if ((rc = table__event_time_bind(&r->et, &r->in_schema)) < 0) {
            pond_error_prefix("%s version %lld", r->path, (long long)v->version);
            return rc;
        }
        r->in_ts = r->et.index;
        int64_t lo, hi;
        if (r->in_ts >= 0 && raw_bounds(&r->et.ts, r->opts.from_us, r->opts.to_us, &lo, &hi) &&
            (rc = pond_parquet_reader_prune_int(r->pq, r->et.column, lo, hi)) < 0)
            return rc;
    }
    int ng = pond_parquet_reader_num_row_groups(r->pq);
    r->stats.row_groups_total += ng;
    for (int g = 0; g < ng; g++)
        r->stats.row_groups_read += pond_parquet_reader_row_group_selected(r->pq, g);
    r->stats.versions_read++;
    int64_t nout = r->out_schema.n_children;
    if (!(r->map = pond_calloc((size_t)(nout ? nout : 1), sizeof *r->map)))
        return POND_ENOMEM;
    for (int64_t k = 0; k < nout; k++) {
        r->map[k] = -1;
        for (int64_t i = 0; i < r->in_schema.n_children; i++)
            if (!strcmp(r->in_schema.children[i]->name, r->out_schema.children[k]->name))
                r->map[k] = (int)i;
    }
    return 0;
}

static int enqueue(rd *r, struct ArrowArray *b)
{
    if (r->q_head + r->q_len == r->q_cap) {
        if (r->q_head) {
            memmove(r->queue, r->queue + r->q_head, r->q_len * sizeof *r->queue);
            r->q_head = 0;
        } else {
            size_t cap = r->q_cap ? r->q_cap * 2 : 8;
            struct ArrowArray *q = pond_realloc(r->queue, cap * sizeof *q);
            if (!q)
                return POND_ENOMEM;
            r->queue = q;
            r->q_cap = cap;
        }
    }
    pond_arrow_array_move(&r->queue[r->q_head + r->q_len++], b);
    return 0;
}

/* One output batch of rows [start, start+n) of the input batch held by h. */
static int emit_run(rd *r, table_holder *h, const struct ArrowArray *in, int64_t start, int64_t n)
{
    int64_t nout = r->out_schema.n_children;
    struct ArrowArray *cols = pond_calloc((size_t)(nout ? nout : 1), sizeof *cols);
    if (!cols)
        return POND_ENOMEM;
    int rc = 0;
    for (int64_t k = 0; k < nout && rc == 0; k++) {
        if (r->map[k] >= 0)
            rc = table__view(&cols[k], h, in->children[r->map[k]], in->offset + start, n);
        else
            rc = table__null_array(&cols[k], r->out_schema.children[k], n);
    }
    struct ArrowArray out;
    if (rc == 0 && (rc = table__struct_of(&out, cols, nout, n)) == 0) {
        r->stats.rows_returned += n;
        rc = enqueue(r, &out);
        if (rc < 0)
            pond_arrow_array_release(&out);
    } else {
        for (int64_t k = 0; k < nout; k++)
            pond_arrow_array_release(&cols[k]);
    }
    pond_free(cols);
    return rc;
}

static int process_batch(rd *r, struct ArrowArray *b)
{
    table_holder *h;
    int64_t len = b->length;
    r->stats.rows_read += len;
    const struct ArrowArray *tsc = r->in_ts >= 0 ? b->children[r->in_ts] : NULL;
    int rc = table__holder_new(&h, b);
    if (rc < 0)
        return rc;
    const struct ArrowArray *in = table__holder_batch(h);
    if (!tsc) {
        if (len > 0)
            rc = emit_run(r, h, in, 0, len);
    } else {
        /* runs of rows inside [from, to): sorted data gives one run */
        int64_t i = 0;
        while (i < len && rc == 0) {
            while (i < len && (table__is_null(tsc, i) ||
                               table__ts_value(&r->et.ts, tsc, i) < r->opts.from_us ||
                               table__ts_value(&r->et.ts, tsc, i) >= r->opts.to_us))
                i++;
            int64_t s = i;
            while (i < len && !table__is_null(tsc, i) &&
                   table__ts_value(&r->et.ts, tsc, i) >= r->opts.from_us &&
                   table__ts_value(&r->et.ts, tsc, i) < r->opts.to_us)
                i++;
            if (i > s)
                rc = emit_run(r, h, in, s, i - s);
        }
    }
    table__holder_unref(h);
    return rc;
}

static int rd_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    rd *r = s->private_data;
    memset(out, 0, sizeof *out);
    if (r->failed)
        return EIO;
    for (;;) {
        if (r->q_len) {
            pond_arrow_array_move(out, &r->queue[r->q_head++]);
            r->q_len--;
            if (!r->q_len)
                r->q_head = 0;
            return 0;
        }
        int rc;
        if (!r->pq) {
            while (r->next_ver < r->n_vers && r->vers[r->next_ver].skip)
                r->next_ver++;
            if (r->next_ver >= r->n_vers)
                return 0; /* end of stream: out->release stays NULL */
            if ((rc = open_version(r, &r->vers[r->next_ver++])) < 0) {
                int e = fail(r, rc);
                close_version(r);
                return e;
            }
        }
        struct ArrowArray b = {0};
        rc = pond_parquet_reader_next(r->pq, &b);
        if (rc == POND_ITEROVER) {
            close_version(r);
            continue;
        }
        if (rc == 0)
            rc = process_batch(r, &b);
        pond_arrow_array_release(&b);
        if (rc < 0)
            return fail(r, rc);
    }
}

static int rd_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    rd *r = s->private_data;
    int rc = pond_arrow_schema_copy(out, &r->out_schema);
    return rc < 0 ? fail(r, rc) : 0;
}

static const char *rd_err(struct ArrowArrayStream *s)
{
    rd *r = s->private_data;
    return r->err[0] ? r->err : NULL;
}

static void rd_free(rd *r)
{
    close_version(r);
    for (size_t i = 0; i < r->q_len; i++)
        pond_arrow_array_release(&r->queue[r->q_head + i]);
    pond_free(r->queue);
    for (size_t i = 0; i < r->n_vers; i++)
        pond_arrow_schema_release(&r->vers[i].schema);
    pond_free(r->vers);
    pond_arrow_schema_release(&r->out_schema);
    table__event_time_dispose(&r->et);
    pond_free(r->path);
    if (r->opts.columns) {
        for (int i = 0; i < r->opts.n_columns; i++)
            pond_free((void *)r->opts.columns[i]);
        pond_free((void *)r->opts.columns);
    }
    pond_free(r);
}

static void rd_release(struct ArrowArrayStream *s)
{
    rd_free(s->private_data);
    s->release = NULL;
}

/* The output schema: the union of the selected versions' columns in first-seen order,
 * projected. Columns absent from some version must be nullable in the output. */
static int build_schema(rd *r)
{
    const struct ArrowSchema **cols = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (size_t v = 0; v < r->n_vers && rc == 0; v++) {
        for (int64_t i = 0; i < r->vers[v].schema.n_children && rc == 0; i++) {
            const struct ArrowSchema *c = r->vers[v].schema.children[i];
            if (!wanted(r, c->name))
                continue;
            bool seen = false;
            for (size_t k = 0; k < n && !seen; k++)
                seen = !strcmp(cols[k]->name, c->name);
            if (seen)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                const struct ArrowSchema **nc = pond_realloc(cols, cap * sizeof *nc);
                if (!nc) {
                    rc = POND_ENOMEM;
                    break;
                }
                cols = nc;
            }
            cols[n++] = c;
        }
    }
    if (rc == 0 && r->opts.columns) {
        for (int i = 0; i < r->opts.n_columns && rc == 0; i++) {
            bool found = false;
            for (size_t k = 0; k < n && !found; k++)
                found = !strcmp(cols[k]->name, r->opts.columns[i]);
            if (!found && r->n_vers) {
                pond_buf have = POND_BUF_INIT;
                for (size_t v = 0; v < r->n_vers; v++)
                    for (int64_t c = 0; c < r->vers[v].schema.n_children; c++) {
                        const char *nm = r->vers[v].schema.children[c]->name;
                        bool dup = false;
                        for (size_t u = 0; u <= v && !dup; u++)
                            for (int64_t d = 0; d < r->vers[u].schema.n_children && !dup; d++)
                                dup = (u < v || d < c) &&
                                      !strcmp(r->vers[u].schema.children[d]->name, nm);
                        if (!dup)
                            pond_buf_printf(&have, "%s%s", have.size ? ", " : "", nm);
                    }
                rc = pond_error_set(POND_ENOTFOUND, D, "%s: no column '%s' (columns: %s)",
                                    r->path, r->opts.columns[i], have.ptr ? have.ptr : "none");
                pond_buf_dispose(&have);
            }
        }
    }
    if (rc == 0 && r->opts.columns) { /* the columns in the order they were asked for */
        for (int i = 0; i < r->opts.n_columns && rc == 0; i++) {
            for (int j = 0; j < i && rc == 0; j++)
                if (!strcmp(r->opts.columns[i], r->opts.columns[j]))
                    rc = pond_error_set(POND_EINVALID, D, "%s: column '%s' asked for twice",
                                        r->path, r->opts.columns[i]);
            for (size_t k = (size_t)i; k < n && rc == 0; k++)
                if (!strcmp(cols[k]->name, r->opts.columns[i])) {
                    const struct ArrowSchema *t = cols[i];
                    cols[i] = cols[k];
                    cols[k] = t;
                    break;
                }
        }
    }
    if (rc == 0)
        rc = pond_arrow_schema_init(&r->out_schema, "+s", "", 0, (int64_t)n);
    for (size_t k = 0; k < n && rc == 0; k++) {
        rc = pond_arrow_schema_copy(r->out_schema.children[k], cols[k]);
        bool everywhere = true;
        for (size_t v = 0; v < r->n_vers && everywhere; v++) {
            bool has = false;
            for (int64_t i = 0; i < r->vers[v].schema.n_children && !has; i++)
                has = !strcmp(r->vers[v].schema.children[i]->name, cols[k]->name);
            everywhere = has;
        }
        if (rc == 0 && !everywhere)
            r->out_schema.children[k]->flags |= ARROW_FLAG_NULLABLE;
    }
    pond_free(cols);
    return rc;
}

int pond_table_read_stream(struct ArrowArrayStream *out, pond_fs *fs, const pond_wd *wd,
                           const char *path, const pond_table_read_options *opts)
{
    pond_table_read_options def = POND_TABLE_READ_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    memset(out, 0, sizeof *out);
    rd *r = pond_calloc(1, sizeof *r);
    if (!r)
        return POND_ENOMEM;
    r->fs = fs;
    /* a version-1 caller's struct ends before `threads` (added in version 2) */
    r->opts = def;
    memcpy(&r->opts, opts,
           opts->version >= 2 ? sizeof *opts : offsetof(pond_table_read_options, threads));
    r->opts.columns = NULL;
    int rc = 0;
    pond_stat st;
    pond_stat *vs = NULL;
    size_t nv = 0;
    char *norm = NULL;
    if ((rc = pond_path_normalize(&norm, NULL, wd ? pond_wd_path(wd) : NULL, path)) < 0)
        goto fail;
    r->path = norm;
    if (opts->columns) {
        if (!(r->opts.columns = pond_calloc((size_t)opts->n_columns + 1, sizeof(char *)))) {
            rc = POND_ENOMEM;
            goto fail;
        }
        for (int i = 0; i < opts->n_columns; i++)
            if (!(((char **)r->opts.columns)[i] = pond_strdup(opts->columns[i]))) {
                rc = POND_ENOMEM;
                goto fail;
            }
    }
    if ((rc = pond_fs_stat(&st, fs, NULL, r->path)) < 0)
        goto fail;
    if (st.type != POND_ENTRY_FILE_TABLE && st.type != POND_ENTRY_FILE_SERIES) {
        rc = pond_error_set(POND_EINVALID, D, "%s is a %s, not a table or series", r->path,
                            pond_entry_type_name(st.type));
        goto fail;
    }
    r->series = st.type == POND_ENTRY_FILE_SERIES;
    if (opts->has_range && !r->series) {
        rc = pond_error_set(POND_EINVALID, D, "%s: a time range needs a series", r->path);
        goto fail;
    }
    if ((rc = pond_fs_versions(&vs, &nv, fs, NULL, r->path)) < 0)
        goto fail;
    if (r->series && (rc = table__event_time_init(&r->et, fs, NULL, r->path)) < 0)
        goto fail;
    if (!(r->vers = pond_calloc(nv ? nv : 1, sizeof *r->vers))) {
        rc = POND_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < nv; i++) {
        const pond_stat *v = &vs[i];
        bool pick;
        if (opts->file_version > 0)
            pick = v->version == opts->file_version;
        else
            pick = r->series || i + 1 == nv;
        if (!pick || v->size == 0)
            continue;
        ver *dst = &r->vers[r->n_vers];
        if (r->series) {
            r->stats.versions_total++;
            /* a version wholly outside the range is not read, but its columns are still
             * part of the series: what a read returns never depends on the range */
            dst->skip = opts->has_range &&
                        !pond_series_version_in_range(v, opts->from_us, opts->to_us);
        }
        dst->version = v->version;
        if ((rc = table__version_schema(&dst->schema, fs, NULL, r->path, v->version)) < 0)
            goto fail;
        r->n_vers++;
    }
    if (opts->file_version > 0 && r->n_vers == 0) {
        bool exists = false;
        for (size_t i = 0; i < nv; i++)
            exists |= vs[i].version == opts->file_version;
        if (!exists) {
            rc = pond_error_set(POND_ENOTFOUND, D, "%s has no version %lld", r->path,
                                (long long)opts->file_version);
            goto fail;
        }
    }
    if ((rc = build_schema(r)) < 0)
        goto fail;
    pond_free(vs);
    out->get_schema = rd_schema;
    out->get_next = rd_next;
    out->get_last_error = rd_err;
    out->release = rd_release;
    out->private_data = r;
    return 0;
fail:
    pond_free(vs);
    rd_free(r);
    return rc;
}

int pond_table_stream_stats(pond_table_scan_stats *out, struct ArrowArrayStream *s)
{
    if (!s || s->get_next != rd_next)
        return pond_error_set(POND_EINVALID, D, "not a pond table stream");
    *out = ((rd *)s->private_data)->stats;
    return 0;
}
