/* Reading versions' Parquet files (table_scan.h): the one place a version is opened for its
 * rows or its footer, and the scans the SQL layer reads through. Unlike the table reader's
 * stream (table_read.c, which reads through pond_table__vfile_open too), a scan prunes row
 * groups and pages by predicates on any column and hands out each version's own batches, so
 * nothing is copied or re-wrapped between the Parquet reader and SQLite. */
#include "table/table_scan.h"
#include "parquet/pq_share.h"

#include <pond/alloc.h>
#include <pond/errors.h>
#include <pond/stream.h>

#include <stdio.h>
#include <string.h>

#define D POND_DOM_TABLE

/* ---- one version ---- */

static int vfile_read_at(int64_t off, void *buf, size_t len, size_t *n_out, void *payload)
{
    table_vfile *v = payload;
    pond_reader *h = pond__hset_take(v->set);
    int rc = pond_reader_pread(h, buf, len, off, n_out);
    pond__hset_give(v->set, h);
    return rc;
}

void pond_table__vfile_close(table_vfile *v)
{
    pond_parquet_reader_free(v->pq); /* joins its threads */
    pond__hset_free(v->set);
    for (int i = 0; i < v->n; i++)
        pond_reader_free(v->h[i]);
    pond_arrow_schema_release(&v->schema);
    memset(v, 0, sizeof *v);
}

int pond_table__vfile_open(table_vfile *v, pond_fs_node *node, int64_t version,
                           const pond_parquet_read_options *po)
{
    pond_parquet_read_options def = POND_PARQUET_READ_OPTIONS_INIT;
    pond_parquet_read_options o = po ? *po : def;
    memset(v, 0, sizeof *v);
    int n = o.threads <= 0 ? POND_PARQUET_THREADS_DEFAULT : POND_MIN(o.threads, 64);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        pond_reader *h = NULL;
        if ((rc = pond_fs_node_open_reader(&h, node, version)) == 0)
            v->h[v->n++] = h;
    }
    if (rc == 0)
        rc = pond__hset_new(&v->set, v->h, n);
    if (rc == 0) {
        o.source_concurrent = true;
        /* every byte read is verified against the version's SHA-256 (chunk by chunk for large
         * content): the CRCs pond's writer computed from the same bytes add nothing */
        o.skip_crc_created_by = POND_PARQUET_CREATED_BY_PREFIX;
        pond_parquet_source src = {vfile_read_at, pond_reader_size(v->h[0]), v};
        rc = pond_parquet_reader_open(&v->pq, &src, &o);
    }
    if (rc == 0)
        rc = pond_parquet_reader_schema(v->pq, &v->schema);
    if (rc < 0) {
        pond_error_prefix("%s version %lld", pond_fs_node_path(node), (long long)version);
        pond_table__vfile_close(v);
    }
    return rc;
}

int pond_table__version_footer(int64_t *rows_out, struct ArrowSchema *schema_out,
                               pond_fs_node *node, int64_t version)
{
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.threads = 1; /* nothing is decoded: one reader */
    table_vfile v;
    int rc = pond_table__vfile_open(&v, node, version, &po);
    if (rc < 0)
        return rc;
    if (rows_out)
        *rows_out = pond_parquet_reader_num_rows(v.pq);
    if (schema_out)
        pond_arrow_schema_move(schema_out, &v.schema);
    pond_table__vfile_close(&v);
    return 0;
}

/* ---- scans ---- */

int pond_table__scan_versions(table_scan_version **out, size_t *n_out, int64_t *stored_out,
                              pond_fs_node *node, int64_t file_version)
{
    *out = NULL;
    *n_out = 0;
    *stored_out = 0;
    pond_stat st, *vs = NULL;
    pond_series_version_info *info = NULL;
    size_t nv = 0, ni = 0, n = 0;
    table_scan_version *v = NULL;
    int rc = pond_fs_node_stat(&st, node);
    bool series = st.type == POND_ENTRY_FILE_SERIES;
    if (rc == 0)
        rc = pond_fs_node_versions(&vs, &nv, node);
    if (rc == 0 && series && !file_version)
        rc = pond_table__series_list(&info, &ni, node, false); /* which ones were replaced */
    if (rc == 0 && !(v = pond_calloc(nv ? nv : 1, sizeof *v)))
        rc = pond_error_set(POND_ENOMEM, D, "%s: out of memory", pond_fs_node_path(node));
    bool exists = false;
    for (size_t i = 0; rc == 0 && i < nv; i++) {
        exists |= vs[i].version == file_version;
        bool pick = file_version ? vs[i].version == file_version : series || i + 1 == nv;
        if (!pick || vs[i].size == 0 || (info && i < ni && info[i].replaced_by))
            continue;
        *stored_out += vs[i].size;
        v[n++] = (table_scan_version){vs[i].version, vs[i].has_event_time, vs[i].min_event_time_us,
                                      vs[i].max_event_time_us};
    }
    if (rc == 0 && file_version && !exists)
        rc = pond_error_set(POND_ENOTFOUND, D, "%s has no version %lld", pond_fs_node_path(node),
                            (long long)file_version);
    pond_free(vs);
    pond_free(info);
    if (rc < 0) {
        pond_free(v);
        *stored_out = 0;
        return rc;
    }
    *out = v;
    *n_out = n;
    return 0;
}

struct table_scan {
    pond_fs_node *node; /* the file, walked once per scan */
    const char *path;
    table_scan_options o;
    size_t next; /* the next of o.vers */
    /* dedup (or a stale derived series): the table reader's stream instead of the versions */
    bool stream_mode;
    struct ArrowArrayStream stream;
    struct ArrowSchema stream_schema;
    int64_t inside_rows; /* counting mode */
    /* the version being read (vf) and, prefetching, the next one: two slots that never
     * move (each slot's Parquet source points at it) */
    table_vfile slot[2];
    table_vfile *vf, *ahead; /* ahead: NULL unless the next version is open */
    int ahead_rc;            /* opening the next version failed: reported in its turn */
    int ahead_dom;
    char ahead_msg[256];
    int *groups; /* counting mode: the row groups still to decode, by number */
    int n_groups, next_group;
    bool by_group;
    /* the decode buffers every version's reader takes from and gives back to: one version's
     * freed buffers (and its threads' chunk and page buffers) serve the next's */
    pond_bufcache *cache;
};

static void close_version(table_scan *s)
{
    pond_free(s->groups);
    s->groups = NULL;
    s->n_groups = s->next_group = 0;
    s->by_group = false;
    pond_table__vfile_close(s->vf);
}

static bool has_column(const struct ArrowSchema *schema, const char *name)
{
    for (int64_t i = 0; i < schema->n_children; i++)
        if (!strcmp(schema->children[i]->name, name))
            return true;
    return false;
}

/* The row groups of the open version (pruned to [lo, hi] by the count column) whose values
 * of the count column all lie inside [lo, hi] by their statistics, found with two more
 * Parquet readers of the same version pruned to the values below and above (row groups
 * without statistics stay "maybe"). Their rows are counted without decoding; the others are
 * left to decode. */
static int count_inside(table_scan *s, const table_scan_version *v, int ng)
{
    const table_scan_options *o = &s->o;
    pond_table_scan_stats *st = o->stats;
    const struct ArrowSchema *col = NULL;
    for (int64_t i = 0; i < s->vf->schema.n_children && !col; i++)
        if (!strcmp(s->vf->schema.children[i]->name, o->count_col))
            col = s->vf->schema.children[i];
    if (!col || (col->flags & ARROW_FLAG_NULLABLE)) { /* NULLs to exclude: decode as usual */
        for (int g = 0; g < ng; g++)
            st->row_groups_read += pond_parquet_reader_row_group_selected(s->vf->pq, g);
        return 0;
    }
    if (!(s->groups = pond_calloc((size_t)ng + 1, sizeof *s->groups)))
        return pond_error_set(POND_ENOMEM, D, "%s: out of memory", s->path);
    s->by_group = true;
    if (v->has_event_time && v->min_us >= o->lo_us && v->max_us <= o->hi_us) {
        s->inside_rows += pond_parquet_reader_num_rows(s->vf->pq); /* the whole version */
        return 0;
    }
    bool *out = pond_calloc((size_t)ng + 1, sizeof *out);
    if (!out)
        return pond_error_set(POND_ENOMEM, D, "%s: out of memory", s->path);
    int rc = 0;
    for (int side = 0; side < 2 && rc == 0; side++) {
        /* out[g]: g may hold a value below lo (side 0) or above hi (side 1) */
        if (side == 0 ? o->lo_us == INT64_MIN : o->hi_us == INT64_MAX)
            continue;
        pond_parquet_reader *probe = NULL;
        pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
        const char *only[1] = {o->count_col};
        po.column_names = only;
        po.n_column_names = 1;
        /* the open version's readers: the probe decodes nothing */
        pond_parquet_source src = {vfile_read_at, pond_reader_size(s->vf->h[0]), s->vf};
        rc = pond_parquet_reader_open(&probe, &src, &po);
        if (rc == 0)
            rc = side == 0
                     ? pond_parquet_reader_prune_int(probe, o->count_col, INT64_MIN, o->lo_us - 1)
                     : pond_parquet_reader_prune_int(probe, o->count_col, o->hi_us + 1, INT64_MAX);
        for (int g = 0; g < ng && rc == 0; g++)
            out[g] |= pond_parquet_reader_row_group_selected(probe, g);
        pond_parquet_reader_free(probe);
    }
    for (int g = 0; g < ng && rc == 0; g++) {
        if (!pond_parquet_reader_row_group_selected(s->vf->pq, g))
            continue;
        if (!out[g]) {
            s->inside_rows += pond_parquet_reader_row_group_rows(s->vf->pq, g);
        } else {
            s->groups[s->n_groups++] = g;
            st->row_groups_read++;
        }
    }
    pond_free(out);
    return rc;
}

/* Opens version v into vf (the current slot, or the next one when prefetching) and prunes
 * it (the caller closes it on failure). */
static int open_version(table_scan *s, const table_scan_version *v, table_vfile *vf)
{
    const table_scan_options *o = &s->o;
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.column_names = o->cols; /* those this version has (a series version may predate some) */
    po.n_column_names = o->n_cols;
    po.skip_missing_names = true;
    po.threads = o->threads;
    int rc = pond_table__vfile_open(vf, s->node, v->version, &po);
    if (rc == 0)
        pond_pq_reader_use_cache(vf->pq, s->cache);
    for (int i = 0; i < o->n_preds && rc == 0; i++) {
        const table_scan_pred *p = &o->preds[i];
        if (!has_column(&vf->schema, p->name))
            continue; /* all NULL here: the caller's condition rejects every row anyway */
        rc = p->dbl ? pond_parquet_reader_prune_double(vf->pq, p->name, p->dlo, p->dhi)
                    : pond_parquet_reader_prune_int(vf->pq, p->name, p->lo, p->hi);
        if (rc < 0)
            pond_error_prefix("%s version %lld", s->path, (long long)v->version);
    }
    if (rc < 0)
        return rc;
    int ng = pond_parquet_reader_num_row_groups(vf->pq);
    o->stats->row_groups_total += ng;
    o->stats->versions_read++;
    if (o->count_col)
        return count_inside(s, v, ng);
    for (int g = 0; g < ng; g++)
        o->stats->row_groups_read += pond_parquet_reader_row_group_selected(vf->pq, g);
    return 0;
}

/* The next version to read (skipping those wholly outside the range), or NULL. */
static const table_scan_version *next_version(table_scan *s)
{
    const table_scan_options *o = &s->o;
    while (s->next < o->n_vers) {
        const table_scan_version *v = &o->vers[s->next++];
        if (!o->has_range || !v->has_event_time || (v->max_us >= o->lo_us && v->min_us <= o->hi_us))
            return v;
    }
    return NULL;
}

/* Prefetching: once the current version's workers have nothing left to start, open the next
 * version in the other slot and start its workers. A failure is kept and reported when that
 * version's turn comes (the current version's batches come first, as without prefetching). */
static void open_ahead(table_scan *s)
{
    if (!s->o.prefetch || s->o.threads == 1 || s->o.count_col || s->ahead || s->ahead_rc ||
        s->next >= s->o.n_vers || !pond_parquet_reader_draining(s->vf->pq))
        return;
    const table_scan_version *v = next_version(s);
    if (!v)
        return;
    table_vfile *vf = s->vf == &s->slot[0] ? &s->slot[1] : &s->slot[0];
    int rc = open_version(s, v, vf);
    if (rc == 0)
        rc = pond_parquet_reader_prefetch(vf->pq);
    if (rc < 0) {
        const pond_error *e = pond_error_last();
        s->ahead_rc = rc;
        s->ahead_dom = e->domain;
        snprintf(s->ahead_msg, sizeof s->ahead_msg, "%s", e->message);
        pond_table__vfile_close(vf);
        return;
    }
    s->ahead = vf;
}

int pond_table__scan_cache_new(pond_bufcache **out)
{
    return pond__bufcache_new(out, PQ_CACHE_BYTES);
}

int pond_table__scan_open(table_scan **out, pond_fs *fs, const char *path,
                          const table_scan_options *o)
{
    *out = NULL;
    table_scan *s = pond_calloc(1, sizeof *s);
    if (!s)
        return pond_error_set(POND_ENOMEM, D, "%s: out of memory", path);
    int rc = pond_fs_node_open(&s->node, fs, NULL, path, 0);
    if (rc < 0) {
        pond_free(s);
        return rc;
    }
    s->path = path;
    s->o = *o;
    s->vf = &s->slot[0];
    if (o->cache)
        s->cache = pond__bufcache_ref(o->cache);
    else if (!o->dedup && (rc = pond__bufcache_new(&s->cache, PQ_CACHE_BYTES)) < 0) {
        if (rc == POND_ENOMEM)
            pond_error_set(rc, D, "%s: out of memory", path);
        pond_table__scan_free(s);
        return rc;
    }
    /* a stale manual derived node reads as its recipe computes it now: the table reader's */
    bool stale = false;
    if (o->series && !o->dedup && (rc = pond_derive_stale(&stale, s->node)) < 0) {
        pond_table__scan_free(s);
        return rc;
    }
    if (o->series && !o->dedup && !stale)
        o->stats->versions_total += (int64_t)o->n_vers;
    if (o->dedup || stale) {
        /* which rows a read returns depends on the other versions: the table reader decides */
        pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
        ro.columns = o->cols;
        ro.n_columns = o->n_cols;
        ro.threads = o->threads;
        if (o->has_range && (o->lo_us > INT64_MIN || o->hi_us < INT64_MAX)) {
            ro.has_range = true;
            ro.from_us = o->lo_us;
            ro.to_us = o->hi_us == INT64_MAX ? INT64_MAX : o->hi_us + 1;
        }
        s->stream_mode = true;
        s->o.count_col = NULL; /* the stream's rows are counted as they come */
        rc = pond_table_node_read_stream(&s->stream, s->node, &ro);
        if (rc == 0 && s->stream.get_schema(&s->stream, &s->stream_schema) != 0)
            rc = pond_error_set(POND_EIO, D, "%s: %s", path, s->stream.get_last_error(&s->stream));
        if (rc < 0) {
            pond_table__scan_free(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

static int stream_next(table_scan *s, struct ArrowArray *out, const struct ArrowSchema **schema)
{
    pond_table_scan_stats *st = s->o.stats;
    for (;;) {
        int e = s->stream.get_next(&s->stream, out);
        if (e != 0) {
            const char *m = s->stream.get_last_error(&s->stream);
            return pond_error_set(POND_EIO, D, "%s", m ? m : s->path);
        }
        if (!out->release) {
            pond_table_scan_stats rs;
            if (pond_table_stream_stats(&rs, &s->stream) == 0) {
                st->versions_total += rs.versions_total;
                st->versions_read += rs.versions_read;
                st->row_groups_total += rs.row_groups_total;
                st->row_groups_read += rs.row_groups_read;
            }
            return 0;
        }
        if (out->length == 0) {
            out->release(out);
            continue;
        }
        st->rows_read += out->length;
        *schema = &s->stream_schema;
        return 1;
    }
}

int pond_table__scan_next(table_scan *s, struct ArrowArray *out, const struct ArrowSchema **schema)
{
    memset(out, 0, sizeof *out);
    if (s->stream_mode)
        return stream_next(s, out, schema);
    const table_scan_options *o = &s->o;
    for (;;) {
        if (!s->vf->pq && s->ahead_rc)
            return pond_error_set(s->ahead_rc, s->ahead_dom, "%s", s->ahead_msg);
        if (!s->vf->pq && s->ahead) {
            s->vf = s->ahead; /* opened and pruned already */
            s->ahead = NULL;
        } else if (!s->vf->pq) {
            const table_scan_version *v = next_version(s);
            if (!v)
                return 0;
            int rc = open_version(s, v, s->vf);
            if (rc < 0) {
                close_version(s);
                return rc;
            }
        }
        int rc;
        if (s->by_group)
            rc =
                s->next_group < s->n_groups
                    ? pond_parquet_reader_read_row_group(s->vf->pq, s->groups[s->next_group++], out)
                    : POND_ITEROVER;
        else
            rc = pond_parquet_reader_next(s->vf->pq, out);
        if (rc == POND_ITEROVER) {
            close_version(s);
            continue;
        }
        if (rc < 0)
            return rc;
        o->stats->rows_read += out->length;
        *schema = &s->vf->schema;
        open_ahead(s);
        return 1;
    }
}

int64_t pond_table__scan_inside_rows(const table_scan *s) { return s->inside_rows; }

void pond_table__scan_free(table_scan *s)
{
    if (!s)
        return;
    close_version(s);
    if (s->ahead)
        pond_table__vfile_close(s->ahead);
    if (s->stream.release)
        s->stream.release(&s->stream);
    pond_arrow_schema_release(&s->stream_schema);
    pond_fs_node_free(s->node);
    /* after the readers; batches still out keep it */
    if (s->o.cache)
        pond__bufcache_unref(s->cache);
    else
        pond__bufcache_close(s->cache);
    pond_free(s);
}
