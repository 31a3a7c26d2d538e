/* Writing tables and series: a stream of batches into one Parquet file, a new version. A
 * series write reads what it needs from the series index (settings, the merged schema) and
 * records its own entry there; it reads no earlier version. */
#include "table/table_internal.h"

#include <pond/hash.h>
#include <pond/parquet.h>
#include <pond/stream.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#define D POND_DOM_TABLE

static int stream_error(struct ArrowArrayStream *s, int err, const char *what)
{
    const char *m = s->get_last_error ? s->get_last_error(s) : NULL;
    return pond_error_set(err == ENOMEM ? POND_ENOMEM : POND_EINVALID, D, "%s: %s", what,
                          m ? m : strerror(err));
}

/* What a series write needs beyond the bytes: the series' attributes, the timestamp column,
 * the zone its wall-clock values are read in, the event-time range and rows seen so far, and
 * the SHA-256 of the content (only when there is an earlier version it could be identical to). */
typedef struct {
    bool series;
    table_attrs attrs;
    pond_stat *vs; /* the versions before this write (all, or those the identical check asked) */
    size_t nv, cap_vs;
    bool listed;              /* vs holds every version */
    bool identical;           /* look for an earlier version with the same content */
    pond_series_settings eff; /* the settings this write records */
    pond_tz *tz;
    int ts_col;
    table_ts ts;
    int64_t tmin, tmax, rows;
    int64_t row_base; /* rows of this transaction's earlier writes, not counted in messages */
    int64_t version;  /* the version this write creates */
    int64_t replaces_lo, replaces_hi; /* a compaction: the versions it replaces */
    const pond_hash *replaced;        /* a compaction: their contents */
    size_t n_replaced;
    table_hash *old; /* the contents compacted versions recorded (skip_identical) */
    size_t n_old;
    pond_sha256 *sha;
    pond_writer *w;
} write_ctx;

static void ctx_dispose(write_ctx *c)
{
    pond_table__attrs_dispose(&c->attrs);
    pond_free(c->vs);
    pond_series_settings_dispose(&c->eff);
    pond_tz_free(c->tz);
    pond_free(c->old);
    pond_sha256_free(c->sha);
    pond_writer_free(c->w); /* an unfinished writer is aborted: the file stays as it was */
}

static int sink_write(const void *data, size_t len, void *payload)
{
    write_ctx *c = payload;
    int rc = c->sha ? pond_sha256_update(c->sha, data, len) : 0;
    return rc < 0 ? rc : pond_writer_write(c->w, data, len);
}

/* Settings given for this write against those recorded on the series, the timestamp column
 * of schema, and the new version's schema checked against (and merged into) the series'
 * merged schema. */
static int series_prepare(write_ctx *c, pond_fs_node *node, const struct ArrowSchema *schema,
                          const pond_table_write_options *opts)
{
    const char *path = pond_fs_node_path(node);
    bool v2 = opts->version >= 2;
    int rc = pond_table__attrs_read(&c->attrs, node);
    if (rc == 0)
        rc = pond_table__settings_resolve(
            &c->eff, &c->attrs.set, path, opts->timestamp_column, v2 ? opts->timezone : NULL,
            v2 ? opts->time_formats : NULL, v2 ? opts->n_time_formats : 0);
    if (rc == 0)
        rc = pond_tz_open(&c->tz, c->eff.timezone);
    if (rc < 0)
        return rc;
    const char *col = c->eff.timestamp_column;
    c->ts_col = pond_table__find_ts(schema, col);
    if (c->ts_col < 0) {
        if (c->ts_col == -2)
            return pond_error_set(POND_EINVALID, D,
                                  "%s: timestamp column '%s' must be a timestamp, date or int64",
                                  path, col);
        if (col && !opts->timestamp_column)
            return pond_error_set(POND_EINVALID, D,
                                  "%s: the new data has no column '%s', the series' timestamp "
                                  "column (--timestamp-column names it for a new series)",
                                  path, col);
        if (col) {
            pond_buf have = POND_BUF_INIT; /* the columns there are, for the message */
            for (int64_t k = 0; k < schema->n_children; k++)
                pond_buf_printf(&have, "%s%s", k ? ", " : "",
                                schema->children[k]->name ? schema->children[k]->name : "");
            pond_error_set(POND_EINVALID, D,
                           "%s: no column '%s' for the timestamp (--timestamp-column; columns: "
                           "%s)",
                           path, col, have.ptr ? have.ptr : "none");
            pond_buf_dispose(&have);
            return POND_EINVALID;
        }
        pond_error_prefix("%s", path);
        return POND_EINVALID;
    }
    pond_free(c->eff.timestamp_column);
    if (!(c->eff.timestamp_column = pond_strdup(schema->children[c->ts_col]->name)))
        return POND_ENOMEM;
    pond_table__ts_kind(&c->ts, schema->children[c->ts_col], c->tz);
    c->tmin = INT64_MAX;
    c->tmax = INT64_MIN;
    /* the version list only when something needs it: versions the index does not cover
     * (a series written before it), or the check for identical content */
    pond_stat st;
    rc = pond_fs_node_stat(&st, node);
    bool exists = rc == 0;
    if (rc == POND_ENOTFOUND)
        rc = 0; /* a new series */
    /* from version 2 on: a stat of version 1 (which may be this transaction's, pending) gives
     * its own timestamp, which is the commit's only once committed */
    if (rc == 0 && exists && st.version > 1)
        rc = pond_table__attrs_keep_btime(&c->attrs, st.btime_us);
    c->identical = exists && opts->version >= 3 && opts->skip_identical;
    c->listed = exists && (!c->attrs.has_schema || st.version > c->attrs.through);
    if (rc == 0 && c->listed)
        rc = pond_fs_node_versions(&c->vs, &c->nv, node);
    if (rc == 0 && exists && opts->version >= 3 && opts->skip_identical)
        rc = pond_table__replaced_hashes(&c->old, &c->n_old, node, &c->attrs);
    if (rc == 0)
        rc = pond_table__attrs_cover(&c->attrs, node, c->vs, c->nv);
    if (rc == 0)
        rc = pond_table__next_version(&c->version, node);
    if (rc == 0)
        rc = pond_table__attrs_check_schema(&c->attrs, schema, path);
    return rc;
}

/* Event times of one batch, each checked (integers by magnitude, wall-clock times in the
 * zone): an error names the source, the row and the column. */
static int series_scan(write_ctx *c, const struct ArrowArray *batch, const char *source)
{
    if (!c->series || c->ts_col < 0 || batch->n_children <= c->ts_col)
        return 0;
    const struct ArrowArray *col = batch->children[c->ts_col];
    for (int64_t i = 0; i < col->length; i++) {
        if (pond_table__is_null(col, i))
            continue;
        int64_t v;
        if (pond_table__ts_value_checked(&v, &c->ts, col, i) < 0) {
            pond_error_prefix("%s: row %lld, column '%s'", source,
                              (long long)(c->rows - c->row_base + i + 1), c->eff.timestamp_column);
            return POND_EINVALID;
        }
        c->tmin = v < c->tmin ? v : c->tmin;
        c->tmax = v > c->tmax ? v : c->tmax;
    }
    c->rows += col->length;
    return 0;
}

static int collect_version(const pond_stat *st, const char *xattrs, void *payload)
{
    (void)xattrs;
    write_ctx *c = payload;
    if (POND_GROW(c->vs, c->nv, c->cap_vs) < 0)
        return POND_ENOMEM;
    c->vs[c->nv++] = *st;
    return 0;
}

/* The versions the identical check compares with: identical content has the identical
 * event-time range, so only the versions whose range overlaps the new content's (and those
 * without one) are asked for, not the series' whole history (docs/decisions.md). */
static int identical_candidates(write_ctx *c, pond_fs_node *node)
{
    if (c->listed)
        return 0;
    if (c->ts_col < 0 || c->tmin > c->tmax) /* no range to ask by */
        return pond_fs_node_versions(&c->vs, &c->nv, node);
    return pond_fs_node_foreach_version_overlapping(node, c->tmin, c->tmax, collect_version, c);
}

/* The earlier version whose content is the same (or the compacted version holding the rows
 * of a version with that content, which retention may have dropped), or 0. */
static int64_t identical_version(const write_ctx *c, const pond_hash *h)
{
    for (size_t i = 0; i < c->nv; i++)
        if (c->vs[i].size > 0 && c->vs[i].version != c->version &&
            pond_hash_equal(&c->vs[i].sha256, h))
            return c->vs[i].version;
    for (size_t i = 0; i < c->n_old; i++)
        if (pond_hash_equal(&c->old[i].hash, h))
            return c->old[i].in_version;
    return 0;
}

/* Finishes the writer, unless the content equals an earlier version's and the options say to
 * skip it (then c->sha is set: hash_if_needed); then records the series' attributes and this
 * version's entry. */
static int finish(pond_table_write_result *res, write_ctx *c, pond_fs_node *node)
{
    int rc = 0;
    if (c->series) {
        pond_hash h;
        if (c->sha && (rc = pond_sha256_final(&h, c->sha)) < 0)
            return rc;
        if (c->sha && c->identical && (rc = identical_candidates(c, node)) < 0)
            return rc;
        if (c->sha && c->identical && (res->identical_to = identical_version(c, &h)) > 0) {
            res->rows = 0;
            return 0; /* the writer is aborted: nothing is written */
        }
        if (c->ts_col >= 0 && c->tmin <= c->tmax &&
            (rc = pond_writer_set_event_time(c->w, c->tmin, c->tmax)) < 0)
            return rc;
    }
    if ((rc = pond_writer_finish(c->w)) < 0)
        return rc;
    res->version = c->version;
    if (!c->series) {
        pond_stat st;
        if ((rc = pond_fs_node_stat(&st, node)) == 0)
            res->version = st.version;
        return rc;
    }
    /* the merged schema takes the columns as readers will see them: the new version's
     * footer (Parquet stores some types in another form, large strings as strings, ...) */
    struct ArrowSchema stored = {0};
    rc = pond_table__version_footer(NULL, &stored, node, 0);
    if (rc == 0)
        rc =
            pond_table__attrs_merge_schema(&c->attrs, &stored, c->version, pond_fs_node_path(node));
    pond_arrow_schema_release(&stored);
    if (rc == 0)
        rc = pond_table__attrs_set_settings(&c->attrs, &c->eff);
    if (rc == 0)
        rc = pond_table__attrs_set_entry(&c->attrs, c->version, c->rows, c->replaces_lo,
                                         c->replaces_hi, c->replaced, c->n_replaced);
    if (rc == 0 && c->replaces_lo > 0)
        rc =
            pond_table__attrs_add_compaction(&c->attrs, c->version, c->replaces_lo, c->replaces_hi);
    if (rc == 0)
        rc = pond_table__attrs_write(&c->attrs, node);
    /* the one place derived nodes are kept current: a new version of a source refreshes them
     * in this transaction; a compaction changes no row and refreshes nothing, a recompute
     * (a sql recipe's rows replacing all earlier ones) may change any row */
    bool recompute = c->replaces_lo > 0 && !c->replaced;
    if (rc == 0 && c->ts_col >= 0 && (recompute || (c->replaces_lo == 0 && c->tmin <= c->tmax)))
        rc = pond_table__derived_after_write(node, &c->attrs, c->tmin, c->tmax, recompute,
                                             &res->derived_rows_read);
    return rc;
}

/* Rows this transaction already wrote to the series: tinyfs keeps one version per node per
 * transaction, so a second write would replace the first one's rows. Instead the new version
 * holds both, the earlier rows first. *rows_out is 0 when the pending version (if any) holds
 * no rows of this transaction (a settings version, or a copy of the last committed one). */
static int pending_rows(int64_t *rows_out, pond_fs_node *node)
{
    *rows_out = 0;
    pond_stat st;
    int64_t last = 0, rows, lo, hi;
    int rc = pond_fs_node_stat(&st, node);
    if (rc == POND_ENOTFOUND)
        return 0;
    if (rc == 0)
        rc = pond_fs_last_txn(&last, pond_fs_node_fs(node));
    if (rc < 0 || st.txn_seq <= last || st.size == 0)
        return rc;
    char *x = NULL;
    if ((rc = pond_fs_node_get_xattrs(&x, node)) == 0)
        rc = pond_table__version_entry(&rows, &lo, &hi, x, st.version);
    pond_free(x);
    if (rc < 0 || rows <= 0)
        return rc;
    if (lo > 0)
        return pond_error_set(POND_EINVALID, D,
                              "%s was compacted in this same transaction: commit before "
                              "writing to it again",
                              pond_fs_node_path(node));
    *rows_out = rows;
    return 0;
}

static bool same_columns(const struct ArrowSchema *a, const struct ArrowSchema *b)
{
    if (strcmp(a->format, b->format) != 0 ||
        strcmp(a->name ? a->name : "", b->name ? b->name : "") != 0 ||
        a->n_children != b->n_children)
        return false;
    for (int64_t i = 0; i < a->n_children; i++)
        if (!same_columns(a->children[i], b->children[i]))
            return false;
    return true;
}

static int typed_columns(pond_buf *out, const struct ArrowSchema *s)
{
    int rc = 0;
    for (int64_t k = 0; k < s->n_children && rc == 0; k++)
        rc = pond_buf_printf(out, "%s%s %s", k ? ", " : "",
                             s->children[k]->name ? s->children[k]->name : "",
                             s->children[k]->format);
    return rc == 0 ? pond_buf_putc(out, '\0') : rc;
}

/* The rows of this transaction's earlier write (the pending version), opened before the new
 * version's writer (the node is busy once that is open); their columns must be the new
 * write's, column for column. */
typedef struct {
    table_vfile vf;
} pending_src;

static void pending_close(pending_src *p) { pond_table__vfile_close(&p->vf); }

static int pending_open(pending_src *p, pond_fs_node *node, const struct ArrowSchema *schema)
{
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.threads = 1; /* decoded on the writer's thread */
    int rc = pond_table__vfile_open(&p->vf, node, 0, &po);
    const struct ArrowSchema *have = &p->vf.schema;
    if (rc == 0 && !same_columns(have, schema)) {
        pond_buf was = POND_BUF_INIT, now = POND_BUF_INIT;
        rc = typed_columns(&was, have);
        if (rc == 0)
            rc = typed_columns(&now, schema);
        if (rc == 0)
            rc = pond_error_set(POND_EINVALID, D,
                                "%s: written twice in the same transaction with different "
                                "columns (first: %s; now: %s); commit between the two writes",
                                pond_fs_node_path(node), was.ptr, now.ptr);
        pond_buf_dispose(&was);
        pond_buf_dispose(&now);
    }
    if (rc < 0)
        pending_close(p);
    return rc;
}

/* Writes the pending rows into pw, before the new ones. */
static int pending_copy(pending_src *p, write_ctx *c, pond_fs_node *node, pond_parquet_writer *pw)
{
    struct ArrowArray batch = {0};
    int rc;
    while ((rc = pond_parquet_reader_next(p->vf.pq, &batch)) == 0) {
        rc = series_scan(c, &batch, pond_fs_node_path(node));
        if (rc == 0)
            rc = pond_parquet_writer_write(pw, &batch);
        pond_arrow_array_release(&batch);
        if (rc < 0)
            break;
    }
    pending_close(p);
    c->row_base = c->rows;
    return rc == POND_ITEROVER ? 0 : rc;
}

static int begin(write_ctx *c, pond_fs_node *node, pond_entry_type type)
{
    const char *path = pond_fs_node_path(node);
    if (type != POND_ENTRY_FILE_TABLE && type != POND_ENTRY_FILE_SERIES)
        return pond_error_set(POND_EINVALID, D, "%s: tables and series only", path);
    c->series = type == POND_ENTRY_FILE_SERIES;
    c->ts_col = -1;
    return 0;
}

/* The content hash of the new version is only compared with earlier contents (skip_identical):
 * with none to compare (a new series, the option off) the bytes are not hashed here at all,
 * and only the store hashes what it stores (docs/cas.md, "Who hashes what"). Which earlier
 * versions to compare with is known only once the content's event-time range is (c->identical,
 * series_prepare; identical_candidates), so any existing series hashes. */
static int hash_if_needed(write_ctx *c)
{
    return c->series && c->identical ? pond_sha256_new(&c->sha) : 0;
}

int pond_table__node_write(pond_table_write_result *out, pond_fs_node *node, pond_entry_type type,
                           struct ArrowArrayStream *in, const pond_table_write_options *opts,
                           int64_t replaces_lo, int64_t replaces_hi, const pond_hash *replaced,
                           size_t n_replaced)
{
    pond_table_write_options def = POND_TABLE_WRITE_OPTIONS_INIT;
    pond_table_write_result res = {0};
    if (!opts)
        opts = &def;
    const char *path = pond_fs_node_path(node);
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    pond_parquet_writer *pw = NULL;
    int rc, err;
    write_ctx c = {0};
    pending_src pend = {0};
    c.replaces_lo = replaces_lo;
    c.replaces_hi = replaces_hi;
    c.replaced = replaced;
    c.n_replaced = n_replaced;
    if ((rc = begin(&c, node, type)) < 0)
        goto done;
    if ((err = in->get_schema(in, &schema)) != 0) {
        rc = stream_error(in, err, path);
        goto done;
    }
    if (strcmp(schema.format, "+s") != 0) {
        rc = pond_error_set(POND_EINVALID, D,
                            "%s: a record batch stream must have a struct "
                            "schema, not '%s'",
                            path, schema.format);
        goto done;
    }
    if (c.series &&
        ((rc = series_prepare(&c, node, &schema, opts)) < 0 || (rc = hash_if_needed(&c)) < 0))
        goto done;
    /* a compaction or a recompute replaces earlier versions itself (the pending one among
     * them: a compaction read it, a recompute computed everything): nothing to carry over */
    int64_t pending = 0;
    if (c.series && replaces_lo == 0 && (rc = pending_rows(&pending, node)) < 0)
        goto done;
    if (pending > 0 && (rc = pending_open(&pend, node, &schema)) < 0)
        goto done;
    if ((rc = pond_fs_node_open_writer(&c.w, node, type)) < 0)
        goto done;
    pond_parquet_sink sink = {sink_write, NULL, &c};
    pond_parquet_writer_options po = POND_PARQUET_WRITER_OPTIONS_INIT;
    if (opts->compression)
        po.compression = (pond_parquet_compression)opts->compression;
    /* tables and series favour ingest speed: zstd level 1 is about 40% cheaper than level 3
     * for a ~20% larger file on sensor data, and still smaller than snappy (docs/decisions.md) */
    po.compression_level = opts->compression_level                        ? opts->compression_level
                           : po.compression == POND_PARQUET_COMPRESS_ZSTD ? 1
                                                                          : 0;
    po.row_group_rows = opts->row_group_rows > 0 ? opts->row_group_rows : 131072;
    /* 128 KiB pages (16,384 rows of a 64-bit column): with the page index, a time-range read
     * decodes about one page per column beyond the range instead of a whole row group
     * (docs/decisions.md) */
    po.page_bytes = (size_t)128 << 10;
    po.threads = opts->version >= 3 ? opts->threads : 0;
    if ((rc = pond_parquet_writer_new(&pw, &sink, &schema, &po)) < 0)
        goto done;
    if (pending > 0 && (rc = pending_copy(&pend, &c, node, pw)) < 0)
        goto done;
    for (;;) {
        if ((err = in->get_next(in, &batch)) != 0) {
            rc = stream_error(in, err, path);
            goto done;
        }
        if (!batch.release)
            break;
        if ((rc = series_scan(&c, &batch, path)) < 0)
            goto done;
        rc = pond_parquet_writer_write(pw, &batch);
        res.rows += batch.length;
        pond_arrow_array_release(&batch);
        if (rc < 0)
            goto done;
    }
    if ((rc = pond_parquet_writer_finish(pw)) < 0)
        goto done;
    if ((rc = finish(&res, &c, node)) < 0) /* rows stay counted unless identical */
        goto done;
    if (out)
        *out = res;
done:
    pond_arrow_array_release(&batch);
    pond_parquet_writer_free(pw);
    pending_close(&pend);
    pond_arrow_schema_release(&schema);
    ctx_dispose(&c);
    if (in->release)
        in->release(in);
    return rc;
}

int pond_table_node_write_stream(pond_table_write_result *out, pond_fs_node *node,
                                 pond_entry_type type, struct ArrowArrayStream *in,
                                 const pond_table_write_options *opts)
{
    POND_ASSERT_ARG(in);
    if (!node)
        pond_arrow_stream_release(in); /* consumed on every failure (docs/api.md, "Streams") */
    POND_ASSERT_ARG(node);
    return pond_table__node_write(out, node, type, in, opts, 0, 0, NULL, 0);
}

int pond_table_write_stream(int64_t *rows_out, pond_fs *fs, const pond_wd *wd, const char *path,
                            pond_entry_type type, struct ArrowArrayStream *in,
                            const pond_table_write_options *opts)
{
    pond_fs_node *h = NULL;
    pond_table_write_result res = {0};
    POND_ASSERT_ARG(in);
    int rc = pond_fs_node_open(&h, fs, wd, path, 0);
    if (rc < 0) {
        pond_arrow_stream_release(in);
        return rc;
    }
    rc = pond_table_node_write_stream(&res, h, type, in, opts);
    pond_fs_node_free(h);
    if (rc == 0 && rows_out)
        *rows_out = res.rows;
    return rc;
}

/* The file stored must be the file checked: same size as read, size and times as at the open. */
static int host_unchanged(int fd, const struct stat *st0, int64_t stored, const char *host_path)
{
    struct stat st;
    if (pond__os_fstat(fd, &st) < 0)
        return pond_error_set_os(D, "stat '%s'", host_path);
    if (stored != st0->st_size || st.st_size != st0->st_size ||
        st.st_mtim.tv_sec != st0->st_mtim.tv_sec || st.st_mtim.tv_nsec != st0->st_mtim.tv_nsec ||
        st.st_ctim.tv_sec != st0->st_ctim.tv_sec || st.st_ctim.tv_nsec != st0->st_ctim.tv_nsec)
        return pond_error_set(POND_ECONFLICT, D,
                              "'%s' changed while it was being copied in: nothing was stored "
                              "from it (copy it again once it is complete)",
                              host_path);
    return 0;
}

int pond_table_node_write_parquet_file(pond_table_write_result *out, pond_fs_node *node,
                                       pond_entry_type type, const char *host_path,
                                       const pond_table_write_options *opts)
{
    POND_ASSERT_ARG(node && host_path);
    pond_table_write_options def = POND_TABLE_WRITE_OPTIONS_INIT;
    pond_table_write_result res = {0};
    if (!opts)
        opts = &def;
    pond_parquet_reader *r = NULL;
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    write_ctx c = {0};
    int fd = -1;
    char *buf = NULL;
    int rc = begin(&c, node, type);
    if (rc < 0)
        return rc;
    /* One open for the check and the copy: the bytes stored are the bytes checked and indexed
     * even when the path is replaced meanwhile (a tool renaming a new file into place); a write
     * into the open file is caught by its stat below (docs/decisions.md). */
    struct stat st0;
    if ((rc = pond__open_regular(&fd, &st0, host_path, "a Parquet file", D)) < 0) {
        ctx_dispose(&c);
        return rc;
    }
    int rfd = fcntl(fd, F_DUPFD_CLOEXEC, 0); /* the reader owns its descriptor */
    if (rfd < 0) {
        rc = pond_error_set_os(D, "open '%s'", host_path);
        goto done;
    }
    rc = pond_parquet_reader_open_fd(&r, rfd, host_path, NULL);
    for (int k = 0; rc == 0 && opts->warn && k < pond_parquet_reader_warning_count(r); k++)
        opts->warn(pond_parquet_reader_warning(r, k), opts->warn_payload);
    if (rc == 0)
        rc = pond_parquet_reader_schema(r, &schema);
    if (rc < 0) {
        pond_error_prefix("'%s' is not a valid Parquet file", host_path);
        goto done;
    }
    if (c.series && (rc = series_prepare(&c, node, &schema, opts)) < 0) {
        pond_error_prefix("%s", host_path);
        goto done;
    }
    if ((rc = hash_if_needed(&c)) < 0)
        goto done;
    int64_t pending = 0;
    if (c.series && (rc = pending_rows(&pending, node)) < 0)
        goto done;
    if (pending > 0) {
        /* this transaction wrote rows here already: the file's rows join them in a new
         * encoding (the bytes cannot be stored as they are) */
        struct ArrowArrayStream st;
        rc = pond_parquet_reader_stream(&st, r);
        r = NULL; /* the stream owns it (freed on failure too) */
        if (rc < 0)
            goto done;
        rc = pond_table__node_write(out, node, type, &st, opts, 0, 0, NULL, 0);
        if (rc < 0)
            pond_error_prefix("%s", host_path);
        goto done;
    }
    /* every row group must decode; a series also needs its event times */
    while ((rc = pond_parquet_reader_next(r, &batch)) == 0) {
        rc = series_scan(&c, &batch, host_path);
        res.rows += batch.length;
        pond_arrow_array_release(&batch);
        if (rc < 0)
            goto done;
    }
    if (rc != POND_ITEROVER) {
        pond_error_prefix("'%s' is not a valid Parquet file", host_path);
        goto done;
    }
    if (!c.series)
        c.rows = res.rows;
    /* stored as it is: the bytes the user gave, not a re-encoding */
    if ((rc = pond_fs_node_open_writer(&c.w, node, type)) < 0)
        goto done;
    if (!(buf = pond_malloc(1 << 20))) {
        rc = POND_ENOMEM;
        goto done;
    }
    int64_t off = 0;
    for (;;) {
        size_t n;
        if ((rc = pond__pread_full(&n, fd, buf, 1 << 20, off, host_path, D)) < 0)
            goto done;
        if (n == 0)
            break;
        if ((rc = sink_write(buf, n, &c)) < 0)
            goto done;
        off += (int64_t)n;
        if (off > st0.st_size)
            break; /* grew while being stored: refused below */
    }
    if ((rc = host_unchanged(fd, &st0, off, host_path)) < 0)
        goto done;
    if ((rc = finish(&res, &c, node)) < 0) /* rows stay counted unless identical */
        goto done;
    if (out)
        *out = res;
done:
    pond_free(buf);
    if (fd >= 0)
        pond__close(fd);
    pond_arrow_array_release(&batch);
    pond_arrow_schema_release(&schema);
    pond_parquet_reader_free(r);
    ctx_dispose(&c);
    return rc;
}

int pond_table_write_parquet_file(int64_t *rows_out, pond_fs *fs, const pond_wd *wd,
                                  const char *path, pond_entry_type type, const char *host_path,
                                  const pond_table_write_options *opts)
{
    pond_fs_node *h = NULL;
    pond_table_write_result res = {0};
    int rc = pond_fs_node_open(&h, fs, wd, path, 0);
    if (rc == 0)
        rc = pond_table_node_write_parquet_file(&res, h, type, host_path, opts);
    pond_fs_node_free(h);
    if (rc == 0 && rows_out)
        *rows_out = res.rows;
    return rc;
}

int pond_table_write_batch(pond_fs *fs, const pond_wd *wd, const char *path, pond_entry_type type,
                           const struct ArrowSchema *schema, const struct ArrowArray *batch,
                           const pond_table_write_options *opts)
{
    struct ArrowArrayStream s;
    struct ArrowArray view = {0};
    table_holder *h = NULL;
    int rc;
    /* The stream takes its batches: give it a view over the caller's batch, whose holder owns
     * nothing (release NULL), so the caller's batch stays untouched and owned by the caller. */
    struct ArrowArray borrowed = *batch;
    borrowed.release = NULL;
    if ((rc = pond_table__holder_new(&h, &borrowed)) < 0)
        return rc;
    rc = pond_table__view(&view, h, batch, 0, batch->length);
    pond_table__holder_unref(h);
    if (rc < 0)
        return rc;
    if ((rc = pond_arrow_stream_from_batches(&s, schema, &view, 1)) < 0)
        return rc;
    return pond_table_write_stream(NULL, fs, wd, path, type, &s, opts);
}
