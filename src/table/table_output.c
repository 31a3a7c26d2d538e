/* A table or series written out in a format (include/pond/rows.h): what `pond cat`, `pond
 * copy` and `pond serve` share, so they give the same bytes for the same file. */
#include <pond/alloc.h>
#include <pond/errors.h>
#include <pond/parquet.h>
#include <pond/rows.h>
#include <pond/table.h>

#include "table/table_internal.h"
#include "util/util.h"

#include <string.h>

#define D POND_DOM_TABLE

typedef struct {
    pond_rows_sink_fn sink;
    void *payload;
    int64_t bytes;
} out_ctx;

static int out_write(const void *data, size_t len, void *payload)
{
    out_ctx *o = payload;
    int rc = o->sink(data, len, o->payload);
    if (rc == 0)
        o->bytes += (int64_t)len;
    return rc;
}

static int stream_error(struct ArrowArrayStream *st, int e)
{
    const char *m = st->get_last_error ? st->get_last_error(st) : NULL;
    return pond_error_set(POND_EIO, D, "%s", m ? m : strerror(e));
}

/* Encodes a stream as one Parquet file (zstd, pond's table settings). */
static int encode_parquet(out_ctx *o, struct ArrowArrayStream *st, int64_t *rows_out)
{
    struct ArrowSchema s = {0};
    int e = st->get_schema(st, &s);
    if (e != 0)
        return stream_error(st, e);
    pond_parquet_sink ps = {out_write, NULL, o};
    pond_parquet_writer *w = NULL;
    pond_parquet_writer_options po = POND_PARQUET_WRITER_OPTIONS_INIT;
    int rc = pond_parquet_writer_new(&w, &ps, &s, &po);
    int64_t rows = 0;
    while (rc == 0) {
        struct ArrowArray b;
        if ((e = st->get_next(st, &b)) != 0) {
            rc = stream_error(st, e);
            break;
        }
        if (!b.release)
            break;
        rows += b.length;
        rc = pond_parquet_writer_write(w, &b);
        b.release(&b);
    }
    if (rc == 0)
        rc = pond_parquet_writer_finish(w);
    pond_parquet_writer_free(w);
    s.release(&s);
    *rows_out = rows;
    return rc;
}

/* The stored Parquet bytes of one version, as they are (verified as they are read). */
static int copy_version(out_ctx *o, pond_fs_node *node, int64_t version, int64_t *rows_out)
{
    /* the footer first: the row count, and a damaged file fails before output */
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.threads = 1;
    table_vfile vf;
    int rc = pond_table__vfile_open(&vf, node, version, &po);
    pond_reader *r = rc == 0 ? vf.h[0] : NULL;
    if (rc == 0)
        *rows_out = pond_parquet_reader_num_rows(vf.pq);
    char *buf = rc == 0 ? pond_malloc(1 << 20) : NULL;
    if (rc == 0 && !buf)
        rc = pond_error_set(POND_ENOMEM, D, "out of memory");
    while (rc == 0) {
        size_t n;
        if ((rc = pond_reader_read(r, buf, 1 << 20, &n)) < 0 || n == 0)
            break;
        rc = out_write(buf, n, o);
    }
    pond_free(buf);
    pond_table__vfile_close(&vf);
    return rc;
}

/* The versions a read with ro covers (*n_out; *only: the last of them) and whether it reads
 * under a dedup rule. A series read skips the versions a compaction replaced (the index
 * says which, without reading any); a range may skip more: they are counted anyway. */
static int covered(int64_t *n_out, int64_t *only, bool *dedup, pond_fs_node *node,
                   const pond_table_read_options *ro)
{
    pond_stat st;
    int rc = pond_fs_node_stat(&st, node);
    if (rc < 0)
        return rc;
    *n_out = *only = 0;
    *dedup = false;
    if (st.type == POND_ENTRY_FILE_SERIES) {
        pond_series_version_info *vi = NULL;
        size_t nv = 0;
        if ((rc = pond_table__series_list(&vi, &nv, node, false)) < 0) /* no entry needed */
            return rc;
        for (size_t i = 0; i < nv; i++) {
            bool picked = ro->file_version ? vi[i].version == ro->file_version : !vi[i].replaced_by;
            if (picked && vi[i].size > 0) {
                (*n_out)++;
                *only = vi[i].version;
            }
        }
        pond_free(vi);
        if (ro->file_version)
            return 0;
        pond_dedup d = ro->version >= 2 ? ro->dedup : POND_DEDUP_DEFAULT;
        if (d == POND_DEDUP_DEFAULT) {
            pond_series_settings set;
            if ((rc = pond_series_node_settings_get(&set, node)) < 0)
                return rc;
            d = set.dedup;
            pond_series_settings_dispose(&set);
        }
        *dedup = d == POND_DEDUP_LAST;
        return 0;
    }
    pond_stat *vs = NULL;
    size_t nv = 0;
    if ((rc = pond_fs_node_versions(&vs, &nv, node)) < 0)
        return rc;
    for (size_t i = 0; i < nv; i++) {
        bool picked = ro->file_version ? vs[i].version == ro->file_version : i + 1 == nv;
        if (picked && vs[i].size > 0) {
            (*n_out)++;
            *only = vs[i].version;
        }
    }
    pond_free(vs);
    return 0;
}

int pond_table_node_output(pond_output_result *res, pond_fs_node *node,
                           const pond_table_read_options *ro, pond_output_format fmt,
                           const pond_tz *tz, pond_rows_sink_fn sink, void *payload)
{
    POND_ASSERT_ARG(res && node && ro && sink);
    memset(res, 0, sizeof *res);
    int64_t stored = 0, only = 0;
    bool dedup = false;
    pond_stat st;
    int rc = pond_fs_node_stat(&st, node);
    if (rc < 0)
        return rc;
    bool stale = false; /* a stale manual derived node: its rows are computed, not stored */
    if ((rc = pond_derive_stale(&stale, node)) < 0)
        return rc;
    /* a range read of a stored series counts its versions as its stream plans them (the same
     * count, one listing of the versions instead of two: a one-day read of a long series) */
    bool ranged = st.type == POND_ENTRY_FILE_SERIES && ro->has_range && !ro->file_version && !stale;
    if (!ranged && (rc = covered(&stored, &only, &dedup, node, ro)) < 0)
        return rc;
    res->versions = stored;
    bool whole = !ro->has_range && !ro->columns && !dedup && !stale;
    out_ctx o = {sink, payload, 0};
    if (fmt == POND_OUTPUT_PARQUET && whole && stored == 1) {
        rc = copy_version(&o, node, only, &res->rows);
        res->bytes = o.bytes;
        return rc;
    }
    struct ArrowArrayStream s;
    if ((rc = pond_table_node_read_stream(&s, node, ro)) < 0)
        return rc;
    pond_table_scan_stats ss;
    if (ranged && (rc = pond_table_stream_stats(&ss, &s)) < 0) {
        pond_arrow_stream_release(&s);
        return rc;
    }
    if (ranged)
        stored = ss.versions_total;
    rc = pond_stream_output(res, &s, fmt, tz, sink, payload); /* consumes s */
    res->versions = stored;
    return rc;
}

int pond_table_output(pond_output_result *res, pond_fs *fs, const pond_wd *wd, const char *path,
                      const pond_table_read_options *ro, pond_output_format fmt, const pond_tz *tz,
                      pond_rows_sink_fn sink, void *payload)
{
    POND_ASSERT_ARG(res && fs && path && ro && sink);
    memset(res, 0, sizeof *res);
    pond_fs_node *node = NULL;
    int rc = pond_fs_node_open(&node, fs, wd, path, 0);
    if (rc == 0)
        rc = pond_table_node_output(res, node, ro, fmt, tz, sink, payload);
    pond_fs_node_free(node);
    return rc;
}

int pond_stream_output(pond_output_result *res, struct ArrowArrayStream *st, pond_output_format fmt,
                       const pond_tz *tz, pond_rows_sink_fn sink, void *payload)
{
    memset(res, 0, sizeof *res);
    if (fmt != POND_OUTPUT_PARQUET)
        return pond_rows_write_stream(&res->rows, &res->bytes, st, (pond_rows_format)fmt, tz, sink,
                                      payload);
    out_ctx o = {sink, payload, 0};
    int rc = encode_parquet(&o, st, &res->rows);
    res->bytes = o.bytes;
    pond_arrow_stream_release(st); /* consumed, also on failure (docs/api.md, "Streams") */
    return rc;
}
