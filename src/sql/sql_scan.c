/* Scans for SQL: the selected versions of a table or series read straight from their Parquet
 * files through the Parquet reader, one row group per batch. Unlike pond_table_read_stream,
 * a scan prunes row groups by the statistics of any column (a range per column), and hands
 * out each version's own batches (columns it lacks are simply absent: the cursor reads them
 * as NULL), so nothing is copied or re-wrapped between the reader and SQLite. */
#include "sql/sql_internal.h"

#include <pond/alloc.h>
#include <pond/errors.h>
#include <pond/parquet.h>
#include <pond/stream.h>
#include <pond/table.h>

#include "util/util.h"

#include <string.h>

#define D POND_DOM_SQL

struct sql_scan {
    pond_fs_node *node; /* the file, walked once per scan */
    const char *path;
    /* dedup: the series' read stream instead of its versions */
    bool stream_mode;
    struct ArrowArrayStream stream;
    struct ArrowSchema stream_schema;
    bool series;
    const sql_version *vers;
    size_t n_vers, next;
    const char *const *cols;
    int n_cols;
    const sql_prune *prunes;
    int n_prunes;
    bool has_range;
    int64_t lo_us, hi_us;
    pond_table_scan_stats *stats;
    int threads;
    /* counting mode (pond_sql__scan_count_inside) */
    const char *count_col;
    int64_t inside_rows;
    /* the version being read */
    pond_reader *reader;
    pond_reader **more; /* threads - 1 more readers of the version */
    int n_more;
    pond_hset *readers; /* reader and more, for the Parquet reader's threads */
    pond_parquet_reader *pq;
    struct ArrowSchema schema;
    int *groups; /* counting mode: the row groups still to decode, by number */
    int n_groups, next_group;
    bool by_group;
};

static void close_version(sql_scan *s)
{
    pond_free(s->groups);
    s->groups = NULL;
    s->n_groups = s->next_group = 0;
    s->by_group = false;
    pond_parquet_reader_free(s->pq); /* joins its threads */
    s->pq = NULL;
    pond__hset_free(s->readers);
    s->readers = NULL;
    for (int i = 0; i < s->n_more; i++)
        pond_reader_free(s->more[i]);
    pond_free(s->more);
    s->more = NULL;
    s->n_more = 0;
    pond_reader_free(s->reader);
    s->reader = NULL;
    pond_arrow_schema_release(&s->schema);
}

/* A pond_reader is used by one thread at a time, and reading one verifies the content's
 * hashes: each of the Parquet reader's threads takes a reader of its own for each read. */
static int set_read_at(int64_t off, void *buf, size_t len, size_t *n_out, void *payload)
{
    sql_scan *s = payload;
    pond_reader *h = pond__hset_take(s->readers);
    int rc = pond_reader_pread(h, buf, len, off, n_out);
    pond__hset_give(s->readers, h);
    return rc;
}

/* One reader per decoding thread: s->reader and threads - 1 more of the same version. */
static int open_readers(sql_scan *s, int64_t version)
{
    int n = s->threads <= 0 ? 2 : POND_MIN(s->threads, 64);
    void *hs[64] = {s->reader};
    if (n > 1 && !(s->more = pond_calloc((size_t)n - 1, sizeof *s->more)))
        return POND_ENOMEM;
    for (int i = 1; i < n; i++) {
        int rc = pond_fs_node_open_reader(&s->more[i - 1], s->node, version);
        if (rc < 0)
            return rc;
        hs[i] = s->more[i - 1];
        s->n_more = i;
    }
    return pond__hset_new(&s->readers, hs, n);
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
 * readers pruned to the values below and above (row groups without statistics stay
 * "maybe"). Their rows are counted without decoding; the others are left to decode. */
static int count_inside(sql_scan *s, const sql_version *v, int ng)
{
    const struct ArrowSchema *col = NULL;
    for (int64_t i = 0; i < s->schema.n_children && !col; i++)
        if (!strcmp(s->schema.children[i]->name, s->count_col))
            col = s->schema.children[i];
    if (!col || (col->flags & ARROW_FLAG_NULLABLE)) { /* NULLs to exclude: decode as usual */
        for (int g = 0; g < ng; g++)
            s->stats->row_groups_read += pond_parquet_reader_row_group_selected(s->pq, g);
        return 0;
    }
    if (!(s->groups = pond_calloc((size_t)ng + 1, sizeof *s->groups)))
        return pond_error_set(POND_ENOMEM, D, "sql: out of memory");
    s->by_group = true;
    if (v->has_event_time && v->min_us >= s->lo_us && v->max_us <= s->hi_us) {
        s->inside_rows += pond_parquet_reader_num_rows(s->pq); /* the whole version */
        return 0;
    }
    bool *out = pond_calloc((size_t)ng + 1, sizeof *out);
    if (!out)
        return pond_error_set(POND_ENOMEM, D, "sql: out of memory");
    int rc = 0;
    for (int side = 0; side < 2 && rc == 0; side++) {
        /* out[g]: g may hold a value below lo (side 0) or above hi (side 1) */
        if (side == 0 ? s->lo_us == INT64_MIN : s->hi_us == INT64_MAX)
            continue;
        pond_parquet_reader *probe = NULL;
        pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
        const char *only[1] = {s->count_col};
        po.column_names = only;
        po.n_column_names = 1;
        pond_parquet_source src = {set_read_at, pond_reader_size(s->reader), s};
        rc = pond_parquet_reader_open(&probe, &src, &po);
        if (rc == 0)
            rc = side == 0
                     ? pond_parquet_reader_prune_int(probe, s->count_col, INT64_MIN, s->lo_us - 1)
                     : pond_parquet_reader_prune_int(probe, s->count_col, s->hi_us + 1, INT64_MAX);
        for (int g = 0; g < ng && rc == 0; g++)
            out[g] |= pond_parquet_reader_row_group_selected(probe, g);
        pond_parquet_reader_free(probe);
    }
    for (int g = 0; g < ng && rc == 0; g++) {
        if (!pond_parquet_reader_row_group_selected(s->pq, g))
            continue;
        if (!out[g]) {
            s->inside_rows += pond_parquet_reader_row_group_rows(s->pq, g);
        } else {
            s->groups[s->n_groups++] = g;
            s->stats->row_groups_read++;
        }
    }
    pond_free(out);
    return rc;
}

static int open_version(sql_scan *s, const sql_version *v)
{
    /* the columns this version has (a series version may predate some) */
    int rc = pond_fs_node_open_reader(&s->reader, s->node, v->version);
    if (rc == 0)
        rc = open_readers(s, v->version);
    if (rc == 0) {
        pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
        po.column_names = s->cols;
        po.n_column_names = s->n_cols;
        po.skip_missing_names = true;
        po.threads = s->threads;
        po.source_concurrent = true;
        pond_parquet_source src = {set_read_at, pond_reader_size(s->reader), s};
        rc = pond_parquet_reader_open(&s->pq, &src, &po);
    }
    if (rc == 0)
        rc = pond_parquet_reader_schema(s->pq, &s->schema);
    for (int i = 0; i < s->n_prunes && rc == 0; i++) {
        const sql_prune *p = &s->prunes[i];
        if (!has_column(&s->schema, p->name))
            continue; /* all NULL here: the caller's condition rejects every row anyway */
        rc = p->dbl ? pond_parquet_reader_prune_double(s->pq, p->name, p->dlo, p->dhi)
                    : pond_parquet_reader_prune_int(s->pq, p->name, p->lo, p->hi);
    }
    if (rc < 0) {
        pond_error_prefix("%s version %lld", s->path, (long long)v->version);
        return rc;
    }
    int ng = pond_parquet_reader_num_row_groups(s->pq);
    s->stats->row_groups_total += ng;
    s->stats->versions_read++;
    if (s->count_col)
        return count_inside(s, v, ng);
    for (int g = 0; g < ng; g++)
        s->stats->row_groups_read += pond_parquet_reader_row_group_selected(s->pq, g);
    return 0;
}

int pond_sql__scan_open(sql_scan **out, pond_fs *fs, const char *path, bool series,
                        const sql_version *vers, size_t n_vers, const char *const *cols, int n_cols,
                        const sql_prune *prunes, int n_prunes, bool has_range, int64_t lo_us,
                        int64_t hi_us, bool dedup, pond_table_scan_stats *stats, int threads)
{
    sql_scan *s = pond_calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return pond_error_set(POND_ENOMEM, D, "sql: out of memory");
    int rc = pond_fs_node_open(&s->node, fs, NULL, path, 0);
    if (rc < 0) {
        pond_free(s);
        return rc;
    }
    s->path = path;
    s->series = series;
    s->vers = vers;
    s->n_vers = n_vers;
    s->cols = cols;
    s->n_cols = n_cols;
    s->prunes = prunes;
    s->n_prunes = n_prunes;
    s->has_range = has_range;
    s->lo_us = lo_us;
    s->hi_us = hi_us;
    s->stats = stats;
    s->threads = threads;
    /* a stale manual derived node reads as its recipe computes it now: the table reader's */
    bool stale = false;
    if (series && !dedup && (rc = pond_derive_stale(&stale, s->node)) < 0) {
        pond_sql__scan_free(s);
        return rc;
    }
    if (series && !dedup && !stale)
        stats->versions_total += (int64_t)n_vers;
    if (dedup || stale) {
        /* which rows a read returns depends on the other versions: the table reader decides */
        pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
        o.columns = cols;
        o.n_columns = n_cols;
        o.threads = threads;
        if (has_range && (lo_us > INT64_MIN || hi_us < INT64_MAX)) {
            o.has_range = true;
            o.from_us = lo_us;
            o.to_us = hi_us == INT64_MAX ? INT64_MAX : hi_us + 1;
        }
        s->stream_mode = true;
        rc = pond_table_node_read_stream(&s->stream, s->node, &o);
        if (rc == 0 && s->stream.get_schema(&s->stream, &s->stream_schema) != 0)
            rc = pond_error_set(POND_EIO, D, "%s: %s", path, s->stream.get_last_error(&s->stream));
        if (rc < 0) {
            pond_sql__scan_free(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

static int stream_next(sql_scan *s, struct ArrowArray *out, const struct ArrowSchema **schema)
{
    for (;;) {
        int e = s->stream.get_next(&s->stream, out);
        if (e != 0) {
            const char *m = s->stream.get_last_error(&s->stream);
            return pond_error_set(POND_EIO, D, "%s", m ? m : s->path);
        }
        if (!out->release) {
            pond_table_scan_stats st;
            if (pond_table_stream_stats(&st, &s->stream) == 0) {
                s->stats->versions_total += st.versions_total;
                s->stats->versions_read += st.versions_read;
                s->stats->row_groups_total += st.row_groups_total;
                s->stats->row_groups_read += st.row_groups_read;
            }
            return 0;
        }
        if (out->length == 0) {
            out->release(out);
            continue;
        }
        s->stats->rows_read += out->length;
        *schema = &s->stream_schema;
        return 1;
    }
}

int pond_sql__scan_next(sql_scan *s, struct ArrowArray *out, const struct ArrowSchema **schema)
{
    memset(out, 0, sizeof *out);
    if (s->stream_mode)
        return stream_next(s, out, schema);
    for (;;) {
        if (!s->pq) {
            const sql_version *v = NULL;
            while (!v && s->next < s->n_vers) {
                v = &s->vers[s->next++];
                if (s->has_range && v->has_event_time &&
                    (v->max_us < s->lo_us || v->min_us > s->hi_us))
                    v = NULL; /* the whole version lies outside the range */
            }
            if (!v)
                return 0;
            int rc = open_version(s, v);
            if (rc < 0) {
                close_version(s);
                return rc;
            }
        }
        int rc;
        if (s->by_group)
            rc = s->next_group < s->n_groups
                     ? pond_parquet_reader_read_row_group(s->pq, s->groups[s->next_group++], out)
                     : POND_ITEROVER;
        else
            rc = pond_parquet_reader_next(s->pq, out);
        if (rc == POND_ITEROVER) {
            close_version(s);
            continue;
        }
        if (rc < 0)
            return rc;
        s->stats->rows_read += out->length;
        *schema = &s->schema;
        return 1;
    }
}

void pond_sql__scan_count_inside(sql_scan *s, const char *column) { s->count_col = column; }

int64_t pond_sql__scan_inside_rows(const sql_scan *s) { return s->inside_rows; }

void pond_sql__scan_free(sql_scan *s)
{
    if (!s)
        return;
    close_version(s);
    if (s->stream.release)
        s->stream.release(&s->stream);
    pond_arrow_schema_release(&s->stream_schema);
    pond_fs_node_free(s->node);
    pond_free(s);
}
