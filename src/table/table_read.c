/* Reading tables and series as one ArrowArrayStream: a series read plans from its index
 * (versions selected by event time, compacted versions in place of those they replace, the
 * merged schema), opens only the versions it reads, prunes row groups by Parquet statistics,
 * filters rows exactly and, under dedup=last, keeps only the last row of each key. */
#include "table/table_internal.h"

#include <pond/parquet.h>
#include <pond/stream.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D POND_DOM_TABLE

typedef struct {
    int64_t version;
    bool has_event_time;
    int64_t min_us, max_us;
    size_t cluster; /* dedup: the versions whose event-time ranges overlap share one */
} ver;

/* dedup: the last occurrence of every key among a cluster's versions */
typedef struct {
    pond__bytemap last; /* key -> version index << 40 | ordinal of the row in that version */
    bool built;
    size_t last_member;
} cluster;

#define ROW_BITS 40

typedef struct {
    pond_fs_node *node;
    const char *path; /* the node's */
    pond_table_read_options opts;
    bool series;
    ver *vers;
    size_t n_vers, next_ver;
    struct ArrowSchema out_schema; /* a "+s" of the output columns */
    pond_event_time et;            /* series: its timestamp column and zone */
    /* dedup */
    bool dedup;
    char **keys;
    size_t n_keys;
    cluster *clusters;
    size_t n_clusters;
    pond_buf key;
    /* the version being read */
    size_t cur;
    int64_t ordinal; /* rows of it counted for dedup so far */
    table_vfile vf;  /* its Parquet reader (pq) and the schema of its batches */
    int *map;        /* output column -> input column, -1 missing */
    int in_ts;       /* input column of the timestamp, -1 none */
    int *in_keys;    /* dedup: input column of each key, -1 missing */
    table_ts ts;
    /* batches ready to hand out */
    struct ArrowArray *queue;
    size_t q_head, q_len, q_cap;
    pond_table_scan_stats stats;
    char err[1024];
    bool failed;
    pond__strmap wanted; /* opts.columns by name (wide schemas: no loop per name) */
} rd;

static int fail(rd *r, int rc)
{
    snprintf(r->err, sizeof r->err, "%s", pond_error_last()->message);
    r->failed = true;
    return pond__errno_of(rc);
}

static void close_version(rd *r)
{
    pond_table__vfile_close(&r->vf);
    pond_free(r->map);
    r->map = NULL;
    pond_free(r->in_keys);
    r->in_keys = NULL;
}

static bool wanted(const rd *r, const char *name)
{
    return !r->opts.columns || pond__strmap_get(&r->wanted, name) >= 0;
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

static bool need_ts(const rd *r) { return r->et.column && (r->opts.has_range || r->dedup); }

static bool in_range(const rd *r, int64_t us)
{
    return !r->opts.has_range || (us >= r->opts.from_us && us < r->opts.to_us);
}

/* Appends name to names unless `seen` has it (a map: a loop per name is quadratic in a wide
 * schema). */
static int add_name(const char **names, int *nn, pond__strmap *seen, const char *name)
{
    int added = pond__strmap_put(seen, name, *nn);
    if (added < 0)
        return added;
    if (added == 0)
        names[(*nn)++] = name;
    return 0;
}

/* The columns of schema by name; the last column of a name wins. */
static int name_index(pond__strmap *m, const struct ArrowSchema *schema)
{
    int rc = 0;
    for (int64_t i = schema->n_children - 1; i >= 0 && rc == 0; i--)
        if (schema->children[i]->name)
            rc = pond__strmap_put(m, schema->children[i]->name, i) < 0 ? POND_ENOMEM : 0;
    return rc;
}

/* Opens version v projected to `names` (those it has), pruning row groups by the range;
 * row groups decode ahead on opts.threads threads. */
static int open_pq(table_vfile *vf, int *in_ts, table_ts *ts, rd *r, const ver *v,
                   const char **names, int nn)
{
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.column_names = names;
    po.n_column_names = nn;
    po.skip_missing_names = true;
    po.threads = r->opts.threads;
    int rc = pond_table__vfile_open(vf, r->node, v->version, &po);
    if (rc < 0)
        return rc;
    const struct ArrowSchema *schema = &vf->schema;
    pond_parquet_reader *pq = vf->pq;
    *in_ts = -1;
    if (need_ts(r)) {
        /* bound per version (a copy: the cluster pass and the row pass each have one open); a
         * version without the column (written before it was recorded) is not filtered */
        pond_event_time et = r->et;
        if ((rc = pond_table__event_time_bind(&et, schema)) < 0) {
            pond_error_prefix("%s version %lld", r->path, (long long)v->version);
            return rc;
        }
        *in_ts = et.index;
        *ts = et.ts;
        int64_t lo, hi;
        if (*in_ts >= 0 && r->opts.has_range &&
            raw_bounds(ts, r->opts.from_us, r->opts.to_us, &lo, &hi) &&
            (rc = pond_parquet_reader_prune_int(pq, r->et.column, lo, hi)) < 0)
            return rc;
    }
    return 0;
}

/* The dedup key of row i: the timestamp (µs) and the canonical text of each key column. */
static int row_key(rd *r, const struct ArrowSchema *schema, const struct ArrowArray *b,
                   const int *in_keys, int64_t us, int64_t i)
{
    pond_buf_clear(&r->key);
    int rc = pond_buf_put(&r->key, &us, sizeof us);
    for (size_t k = 0; rc == 0 && k < r->n_keys; k++) {
        if (in_keys[k] < 0)
            rc = pond_buf_put(&r->key, "N", 1); /* a version without the column: null */
        else
            rc = pond_arrow_canon_cell(&r->key, schema->children[in_keys[k]],
                                       b->children[in_keys[k]], b->offset + i);
        if (rc == 0)
            rc = pond_buf_putc(&r->key, '\t');
    }
    return rc;
}

/* The input column of each dedup key, through `in` (name_index of the input schema). */
static int find_keys(int **out, const rd *r, const pond__strmap *in)
{
    *out = pond_calloc(r->n_keys ? r->n_keys : 1, sizeof **out);
    if (!*out)
        return POND_ENOMEM;
    for (size_t k = 0; k < r->n_keys; k++)
        (*out)[k] = (int)pond__strmap_get(in, r->keys[k]);
    return 0;
}

/* Reads the timestamp and key columns of every version of cluster c, in version order, and
 * remembers where each key occurs last. Rows are numbered among those a read keeps (a non-null
 * timestamp inside the range), so row-group pruning cannot shift the numbers. */
static int build_cluster(rd *r, size_t c)
{
    cluster *cl = &r->clusters[c];
    const char **names = pond_calloc(r->n_keys + 2, sizeof *names);
    if (!names)
        return POND_ENOMEM;
    int nn = 0;
    pond__strmap seen = {0};
    int rc = add_name(names, &nn, &seen, r->et.column);
    for (size_t k = 0; k < r->n_keys && rc == 0; k++)
        rc = add_name(names, &nn, &seen, r->keys[k]);
    for (size_t vi = 0; vi < r->n_vers && rc == 0; vi++) {
        if (r->vers[vi].cluster != c)
            continue;
        table_vfile vf = {0};
        struct ArrowArray b = {0};
        int in_ts, *in_keys = NULL;
        table_ts ts;
        int64_t ordinal = 0;
        pond__strmap in = {0};
        rc = open_pq(&vf, &in_ts, &ts, r, &r->vers[vi], names, nn);
        if (rc == 0)
            rc = name_index(&in, &vf.schema);
        if (rc == 0)
            rc = find_keys(&in_keys, r, &in);
        pond__strmap_dispose(&in);
        while (rc == 0 && in_ts >= 0 && (rc = pond_parquet_reader_next(vf.pq, &b)) == 0) {
            const struct ArrowArray *tsc = b.children[in_ts];
            for (int64_t i = 0; i < b.length && rc == 0; i++) {
                if (pond_table__is_null(tsc, i))
                    continue;
                int64_t us = pond_table__ts_value(&ts, tsc, i);
                if (!in_range(r, us))
                    continue;
                if ((rc = row_key(r, &vf.schema, &b, in_keys, us, i)) == 0)
                    rc = pond__bytemap_put(&cl->last, r->key.ptr, r->key.size,
                                           (int64_t)vi << ROW_BITS | ordinal);
                ordinal++;
            }
            pond_arrow_array_release(&b);
        }
        if (rc == POND_ITEROVER)
            rc = 0;
        pond_free(in_keys);
        pond_table__vfile_close(&vf); /* joins its threads */
    }
    pond__strmap_dispose(&seen);
    pond_free(names);
    cl->built = rc == 0;
    return rc;
}

static int open_version(rd *r, size_t vi)
{
    const ver *v = &r->vers[vi];
    /* the cluster's keys first: its pass and this version's would otherwise each have
     * decoding threads running at once */
    if (r->dedup && !r->clusters[v->cluster].built) {
        int brc = build_cluster(r, v->cluster);
        if (brc < 0)
            return brc;
    }
    int64_t nout = r->out_schema.n_children;
    const char **names = pond_calloc((size_t)nout + r->n_keys + 2, sizeof *names);
    if (!names)
        return POND_ENOMEM;
    int nn = 0, rc = 0;
    pond__strmap seen = {0};
    for (int64_t k = 0; k < nout && rc == 0; k++)
        rc = add_name(names, &nn, &seen, r->out_schema.children[k]->name);
    if (rc == 0 && need_ts(r))
        rc = add_name(names, &nn, &seen, r->et.column);
    for (size_t k = 0; r->dedup && k < r->n_keys && rc == 0; k++)
        rc = add_name(names, &nn, &seen, r->keys[k]);
    pond__strmap_dispose(&seen);
    if (rc == 0)
        rc = open_pq(&r->vf, &r->in_ts, &r->ts, r, v, names, nn);
    pond_free(names);
    if (rc < 0)
        return rc;
    r->cur = vi;
    r->ordinal = 0;
    int ng = pond_parquet_reader_num_row_groups(r->vf.pq);
    r->stats.row_groups_total += ng;
    for (int g = 0; g < ng; g++)
        r->stats.row_groups_read += pond_parquet_reader_row_group_selected(r->vf.pq, g);
    r->stats.versions_read++;
    if (!(r->map = pond_calloc((size_t)(nout ? nout : 1), sizeof *r->map)))
        return POND_ENOMEM;
    pond__strmap in = {0}; /* the last input column of a name wins */
    rc = name_index(&in, &r->vf.schema);
    for (int64_t k = 0; k < nout && rc == 0; k++)
        r->map[k] = (int)pond__strmap_get(&in, r->out_schema.children[k]->name);
    if (rc == 0 && r->dedup)
        rc = find_keys(&r->in_keys, r, &in);
    pond__strmap_dispose(&in);
    return rc;
}

static void end_version(rd *r)
{
    if (r->dedup && r->vf.pq) {
        cluster *cl = &r->clusters[r->vers[r->cur].cluster];
        if (cl->last_member == r->cur) /* no later version needs it */
            pond__bytemap_dispose(&cl->last);
    }
    close_version(r);
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
            rc = pond_table__view(&cols[k], h, in->children[r->map[k]], in->offset + start, n);
        else
            rc = pond_arrow_nulls(&cols[k], r->out_schema.children[k], n);
    }
    struct ArrowArray out;
    if (rc == 0 && (rc = pond_table__struct_of(&out, cols, nout, n)) == 0) {
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

/* Is row i of batch b one the read returns? */
static int keep_row(bool *out, rd *r, const struct ArrowArray *b, int64_t i)
{
    *out = true;
    if (r->in_ts < 0)
        return 0;
    const struct ArrowArray *tsc = b->children[r->in_ts];
    if (pond_table__is_null(tsc, i)) {
        *out = !r->opts.has_range; /* no time: outside any range; never a duplicate */
        return 0;
    }
    int64_t us = pond_table__ts_value(&r->ts, tsc, i);
    if (!in_range(r, us)) {
        *out = false;
        return 0;
    }
    if (!r->dedup)
        return 0;
    int64_t where, me = (int64_t)r->cur << ROW_BITS | r->ordinal++;
    int rc = row_key(r, &r->vf.schema, b, r->in_keys, us, i);
    if (rc < 0)
        return rc;
    *out = !pond__bytemap_get(&r->clusters[r->vers[r->cur].cluster].last, r->key.ptr, r->key.size,
                              &where) ||
           where == me;
    return 0;
}

static int process_batch(rd *r, struct ArrowArray *b)
{
    table_holder *h;
    int64_t len = b->length;
    r->stats.rows_read += len;
    int rc = pond_table__holder_new(&h, b);
    if (rc < 0)
        return rc;
    const struct ArrowArray *in = pond_table__holder_batch(h);
    /* runs of rows kept: sorted data without duplicates gives one run */
    int64_t i = 0;
    while (i < len && rc == 0) {
        bool keep = false;
        while (i < len && rc == 0 && (rc = keep_row(&keep, r, in, i)) == 0 && !keep)
            i++;
        int64_t s = i;
        if (i < len && keep)
            i++;
        while (i < len && rc == 0 && (rc = keep_row(&keep, r, in, i)) == 0 && keep)
            i++;
        if (rc == 0 && i > s)
            rc = emit_run(r, h, in, s, i - s);
        if (i < len && !keep)
            i++;
    }
    pond_table__holder_unref(h);
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
        if (!r->vf.pq) {
            if (r->next_ver >= r->n_vers)
                return 0; /* end of stream: out->release stays NULL */
            if ((rc = open_version(r, r->next_ver++)) < 0) {
                int e = fail(r, rc);
                close_version(r);
                return e;
            }
        }
        struct ArrowArray b = {0};
        rc = pond_parquet_reader_next(r->vf.pq, &b);
        if (rc == POND_ITEROVER) {
            end_version(r);
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

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        pond_free(s[i]);
    pond_free(s);
}

static void rd_free(rd *r)
{
    close_version(r);
    for (size_t i = 0; i < r->q_len; i++)
        pond_arrow_array_release(&r->queue[r->q_head + i]);
    pond_free(r->queue);
    pond_free(r->vers);
    for (size_t i = 0; i < r->n_clusters; i++)
        pond__bytemap_dispose(&r->clusters[i].last);
    pond_free(r->clusters);
    free_strings(r->keys, r->n_keys);
    pond_buf_dispose(&r->key);
    pond_arrow_schema_release(&r->out_schema);
    pond_table__event_time_dispose(&r->et);
    pond_fs_node_free(r->node);
    free_strings((char **)r->opts.columns, (size_t)r->opts.n_columns);
    pond__strmap_dispose(&r->wanted);
    pond_free(r);
}

static void rd_release(struct ArrowArrayStream *s)
{
    rd_free(s->private_data);
    s->release = NULL;
}

/* The output schema: the wanted columns of `all` (the merged schema of a series, or the
 * version's own), in its order, or in the order they were asked for. Names are looked up in
 * maps: a loop per name is quadratic in a wide schema. */
static int project(rd *r, const struct ArrowSchema *all)
{
    pond__strmap have = {0}; /* the columns of all by name (the first of a name) */
    int rc = 0;
    for (int64_t k = 0; k < all->n_children && rc == 0; k++)
        rc = pond__strmap_put(&have, all->children[k]->name, k) < 0 ? POND_ENOMEM : 0;
    for (int i = 0; r->opts.columns && i < r->opts.n_columns && rc == 0; i++) {
        /* r->wanted keeps the first index of each name asked for */
        if (pond__strmap_get(&r->wanted, r->opts.columns[i]) != i)
            rc = pond_error_set(POND_EINVALID, D, "%s: column '%s' asked for twice", r->path,
                                r->opts.columns[i]);
        else if (pond__strmap_get(&have, r->opts.columns[i]) < 0 && all->n_children) {
            pond_buf list = POND_BUF_INIT; /* the columns there are, for the message */
            (void)pond_table__column_list(&list, all);
            rc = pond_error_set(POND_ENOTFOUND, D, "%s: no column '%s' (columns: %s)", r->path,
                                r->opts.columns[i], list.ptr ? list.ptr : "none");
            pond_buf_dispose(&list);
        }
    }
    int64_t n = 0;
    for (int64_t k = 0; k < all->n_children; k++)
        n += wanted(r, all->children[k]->name);
    if (rc == 0)
        rc = pond_arrow_schema_init(&r->out_schema, "+s", "", 0, n);
    if (rc == 0 && !r->opts.columns) {
        for (int64_t k = 0, o = 0; k < all->n_children && rc == 0; k++)
            if (wanted(r, all->children[k]->name))
                rc = pond_arrow_schema_copy(r->out_schema.children[o++], all->children[k]);
    } else if (rc == 0) {
        /* the columns in the order they were asked for (those there are: a series with no
         * version yet has none) */
        for (int i = 0, o = 0; i < r->opts.n_columns && rc == 0; i++) {
            int64_t k = pond__strmap_get(&have, r->opts.columns[i]);
            if (k >= 0)
                rc = pond_arrow_schema_copy(r->out_schema.children[o++], all->children[k]);
        }
    }
    pond__strmap_dispose(&have);
    return rc;
}

/* Groups the versions whose event-time ranges overlap (a row can only repeat a key of a
 * version whose range holds its timestamp): each group is read twice (keys first), and one at
 * a time. */
typedef struct {
    bool has;
    int64_t min;
    size_t i;
} by_start;

static int start_cmp(const void *a, const void *b)
{
    const by_start *x = a, *y = b;
    if (x->has != y->has)
        return x->has ? 1 : -1;
    if (x->min != y->min)
        return x->min < y->min ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int plan_clusters(rd *r)
{
    size_t n = r->n_vers;
    by_start *o = pond_calloc(n ? n : 1, sizeof *o);
    r->clusters = pond_calloc(n ? n : 1, sizeof *r->clusters);
    if (!o || !r->clusters) {
        pond_free(o);
        return POND_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        o[i] = (by_start){r->vers[i].has_event_time, r->vers[i].min_us, i};
    qsort(o, n, sizeof *o, start_cmp);
    int64_t end = 0;
    bool open = false;
    for (size_t i = 0; i < n; i++) {
        ver *v = &r->vers[o[i].i];
        if (!v->has_event_time || !open || v->min_us > end) {
            r->n_clusters++;
            open = v->has_event_time;
            end = v->max_us;
        } else if (v->max_us > end) {
            end = v->max_us;
        }
        v->cluster = r->n_clusters - 1;
        cluster *c = &r->clusters[v->cluster];
        if (o[i].i >= c->last_member)
            c->last_member = o[i].i;
    }
    pond_free(o);
    return 0;
}

static int copy_strings(char ***out, const char *const *s, size_t n)
{
    *out = NULL;
    if (!n)
        return 0;
    if (!(*out = pond_calloc(n, sizeof **out)))
        return POND_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!((*out)[i] = pond_strdup(s[i])))
            return POND_ENOMEM;
    return 0;
}

/* The dedup rule of this read: asked for, else the series' own. */
static int setup_dedup(rd *r, const table_attrs *a, const pond_table_read_options *o)
{
    pond_dedup d = o->version >= 2 ? o->dedup : POND_DEDUP_DEFAULT;
    const char *const *keys = NULL;
    size_t nk = 0;
    if (d == POND_DEDUP_DEFAULT) {
        d = a->set.dedup == POND_DEDUP_LAST ? POND_DEDUP_LAST : POND_DEDUP_NONE;
        keys = (const char *const *)a->set.dedup_keys;
        nk = a->set.n_dedup_keys;
    } else if (d == POND_DEDUP_LAST) {
        keys = o->dedup_keys;
        nk = o->n_dedup_keys;
    }
    if (d != POND_DEDUP_LAST)
        return 0;
    if (!r->et.column)
        return pond_error_set(POND_EINVALID, D,
                              "%s: dedup needs the series' timestamp column, and it has none yet",
                              r->path);
    pond__strmap have = {0}; /* the columns by name: a loop per key is quadratic */
    for (int64_t i = 0; a->has_schema && i < a->schema.n_children; i++)
        if (pond__strmap_put(&have, a->schema.children[i]->name, i) < 0) {
            pond__strmap_dispose(&have);
            return POND_ENOMEM;
        }
    for (size_t k = 0; k < nk; k++) {
        if (pond__strmap_get(&have, keys[k]) < 0) {
            pond__strmap_dispose(&have);
            pond_buf list = POND_BUF_INIT;
            (void)pond_table__column_list(&list, a->has_schema ? &a->schema : NULL);
            pond_error_set(POND_ENOTFOUND, D, "%s: no column '%s' to deduplicate by (columns: %s)",
                           r->path, keys[k], list.ptr ? list.ptr : "none");
            pond_buf_dispose(&list);
            return POND_ENOTFOUND;
        }
    }
    pond__strmap_dispose(&have);
    r->dedup = true;
    r->n_keys = nk;
    int rc = copy_strings(&r->keys, keys, nk);
    return rc < 0 ? rc : plan_clusters(r);
}

/* vlo > 0: series compaction reads exactly versions vlo..vhi (those with rows), as they are
 * (no dedup), with the columns they have. */
int pond_table__read_open(struct ArrowArrayStream *out, pond_fs_node *node,
                          const pond_table_read_options *opts, int64_t vlo, int64_t vhi)
{
    pond_table_read_options def = POND_TABLE_READ_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    memset(out, 0, sizeof *out);
    rd *r = pond_calloc(1, sizeof *r);
    if (!r)
        return POND_ENOMEM;
    /* a version-1 caller's struct ends before `dedup` (dedup and threads: version 2) */
    r->opts = def;
    memcpy(&r->opts, opts,
           opts->version >= 2 ? sizeof *opts : offsetof(pond_table_read_options, dedup));
    r->opts.columns = NULL;
    r->opts.n_columns = 0;
    table_attrs a = {0}, u = {0};
    pond_stat st;
    pond_stat *vs = NULL;
    size_t nv = 0;
    int64_t *vnum = NULL, *by = NULL;
    int rc = pond_fs_node_dup(&r->node, node);
    if (rc < 0)
        goto fail;
    r->path = pond_fs_node_path(r->node);
    if (opts->columns) {
        if ((rc = copy_strings((char ***)&r->opts.columns, opts->columns,
                               (size_t)opts->n_columns)) < 0)
            goto fail;
        r->opts.n_columns = opts->n_columns;
        /* r->wanted keeps the first index of each name (project() refuses a second) */
        for (int i = 0; i < opts->n_columns && rc == 0; i++)
            rc = pond__strmap_put(&r->wanted, r->opts.columns[i], i) < 0 ? POND_ENOMEM : 0;
        if (rc < 0)
            goto fail;
    }
    if ((rc = pond_fs_node_stat(&st, r->node)) < 0)
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
    pond_series_version_info *info = NULL; /* a series: its versions, as its plan lists them */
    if (r->series) {
        if ((rc = pond_table__attrs_read(&a, r->node)) < 0)
            goto fail;
        rc = pond_table__event_time_from(&r->et, a.set.timestamp_column, a.set.timezone, r->path);
        a.set.timestamp_column = NULL;
        /* [from, to) as the closed range the backend takes */
        int64_t range[2] = {opts->from_us, opts->to_us == INT64_MIN ? INT64_MIN : opts->to_us - 1};
        bool ranged = opts->has_range && opts->file_version == 0 && !vlo;
        if (rc < 0 || (rc = pond_table__series_list_with(&info, &nv, r->node, &a, false,
                                                         ranged ? range : NULL)) < 0)
            goto fail;
        if (!(vs = pond_calloc(nv ? nv : 1, sizeof *vs)))
            rc = POND_ENOMEM;
        for (size_t i = 0; vs && i < nv; i++)
            vs[i] = (pond_stat){.type = POND_ENTRY_FILE_SERIES,
                                .version = info[i].version,
                                .size = info[i].size,
                                .has_event_time = info[i].has_event_time,
                                .min_event_time_us = info[i].min_event_time_us,
                                .max_event_time_us = info[i].max_event_time_us};
    } else {
        rc = pond_fs_node_versions(&vs, &nv, r->node);
    }
    if (rc < 0) {
        pond_free(info);
        goto fail;
    }
    if (!(r->vers = pond_calloc(nv ? nv : 1, sizeof *r->vers)) ||
        !(vnum = pond_calloc(nv ? nv : 1, sizeof *vnum)) ||
        !(by = pond_calloc(nv ? nv : 1, sizeof *by))) {
        pond_free(info);
        rc = POND_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < nv; i++)
        vnum[i] = vs[i].version;
    bool whole = r->series && opts->file_version == 0; /* every version of a series */
    for (size_t i = 0; whole && !vlo && i < nv; i++)
        by[i] = info[i].replaced_by;
    pond_free(info);
    for (size_t i = 0; i < nv; i++) {
        const pond_stat *v = &vs[i];
        bool pick = opts->file_version > 0 ? v->version == opts->file_version
                    : vlo                  ? v->version >= vlo && v->version <= vhi
                                           : r->series || i + 1 == nv;
        if (!pick || v->size == 0 || by[i])
            continue; /* created empty, a settings change, or replaced by a compaction */
        if (r->series && whole) {
            r->stats.versions_total++;
            /* a version wholly outside the range is not read; its columns are still in the
             * merged schema: what a read returns never depends on the range */
            if (opts->has_range && !pond_series_version_in_range(v, opts->from_us, opts->to_us))
                continue;
        }
        ver *dst = &r->vers[r->n_vers++];
        dst->version = v->version;
        dst->has_event_time = v->has_event_time;
        dst->min_us = v->min_event_time_us;
        dst->max_us = v->max_event_time_us;
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
    /* the columns: of the one version read, of the versions a compaction merges, or the
     * series' merged schema from its index */
    if (whole && !vlo) {
        if ((rc = pond_table__attrs_cover(&a, r->node, vs, nv)) < 0)
            goto fail;
        rc = a.has_schema ? project(r, &a.schema)
                          : pond_arrow_schema_init(&r->out_schema, "+s", "", 0, 0);
    } else {
        for (size_t i = 0; i < r->n_vers && rc == 0; i++) {
            struct ArrowSchema s = {0};
            if ((rc = pond_table__version_footer(NULL, &s, r->node, r->vers[i].version)) == 0)
                rc = pond_table__attrs_merge_schema(&u, &s, r->vers[i].version, r->path);
            pond_arrow_schema_release(&s);
        }
        if (rc == 0)
            rc = u.has_schema ? project(r, &u.schema)
                              : pond_arrow_schema_init(&r->out_schema, "+s", "", 0, 0);
    }
    if (rc < 0)
        goto fail;
    if (whole && !vlo && (rc = setup_dedup(r, &a, opts)) < 0)
        goto fail;
    pond_free(vs);
    pond_free(vnum);
    pond_free(by);
    pond_table__attrs_dispose(&a);
    pond_table__attrs_dispose(&u);
    out->get_schema = rd_schema;
    out->get_next = rd_next;
    out->get_last_error = rd_err;
    out->release = rd_release;
    out->private_data = r;
    return 0;
fail:
    pond_free(vs);
    pond_free(vnum);
    pond_free(by);
    pond_table__attrs_dispose(&a);
    pond_table__attrs_dispose(&u);
    rd_free(r);
    return rc;
}

int pond_table_node_read_stream(struct ArrowArrayStream *out, pond_fs_node *node,
                                const pond_table_read_options *opts)
{
    POND_ASSERT_ARG(out && node);
    /* a stale manual derived node reads as its recipe computes it now (never stored) */
    bool computed = false;
    int rc = pond_table__derived_read_stale(out, &computed, node, opts);
    if (rc < 0 || computed)
        return rc;
    return pond_table__read_open(out, node, opts, 0, 0);
}

int pond_table_read_stream(struct ArrowArrayStream *out, pond_fs *fs, const pond_wd *wd,
                           const char *path, const pond_table_read_options *opts)
{
    memset(out, 0, sizeof *out);
    pond_fs_node *h = NULL;
    int rc = pond_fs_node_open(&h, fs, wd, path, 0);
    if (rc == 0)
        rc = pond_table_node_read_stream(out, h, opts);
    pond_fs_node_free(h);
    return rc;
}

int pond_table_stream_stats(pond_table_scan_stats *out, struct ArrowArrayStream *s)
{
    if (!s || s->get_next != rd_next)
        return pond_error_set(POND_EINVALID, D, "not a pond table stream");
    *out = ((rd *)s->private_data)->stats;
    return 0;
}

int pond_table_columns_parse(char ***out, int *n_out, const char *list)
{
    POND_ASSERT_ARG(out && n_out && list);
    *out = NULL;
    *n_out = 0;
    if (!*list)
        return pond_error_set(POND_EINVALID, D, "columns: no column named");
    size_t n = 1, len = strlen(list);
    for (const char *c = list; *c; c++)
        n += *c == ',';
    if (n > INT32_MAX / 2)
        return pond_error_set(POND_EINVALID, D, "columns: too many names");
    char **v = pond_malloc((n + 1) * sizeof *v + len + 1);
    if (!v)
        return POND_ENOMEM;
    char *text = (char *)(v + n + 1);
    memcpy(text, list, len + 1);
    size_t k = 0;
    for (char *t = text;; t++) {
        v[k++] = t;
        char *comma = strchr(t, ',');
        if (comma)
            *comma = '\0';
        if (!*t) {
            pond_free(v);
            return pond_error_set(POND_EINVALID, D, "columns: an empty name in '%s'", list);
        }
        if (!comma)
            break;
        t = comma;
    }
    v[k] = NULL;
    *out = v;
    *n_out = (int)n;
    return 0;
}
