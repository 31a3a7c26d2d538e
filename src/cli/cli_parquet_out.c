/* Writing a table or series to a file descriptor, as `pond cat` and `pond copy` both do, so
 * the two give the same bytes for the same file. */
#include "cli/cli_format.h"
#include "cli/cli_pond.h"

#include <pond/parquet.h>
#include <pond/table.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fd_write(const void *data, size_t len, void *payload)
{
    cli_sink *s = payload;
    const char *p = data;
    while (len) {
        ssize_t n = write(s->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return pond_error_set(POND_EIO, POND_DOM_CLI, "%s: %s", s->name, strerror(errno));
        p += n;
        len -= (size_t)n;
        s->written += n;
    }
    return 0;
}

/* Encodes a stream as one Parquet file (zstd, pond's table settings). */
static int encode_parquet(cli_sink *sink, struct ArrowArrayStream *st, int64_t *rows_out)
{
    struct ArrowSchema s = {0};
    int e = st->get_schema(st, &s);
    if (e != 0)
        return pond_error_set(POND_EIO, POND_DOM_CLI, "%s",
                              st->get_last_error(st) ? st->get_last_error(st) : strerror(e));
    pond_parquet_sink ps = {fd_write, NULL, sink};
    pond_parquet_writer *w = NULL;
    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    int rc = pond_parquet_writer_new(&w, &ps, &s, &o);
    int64_t rows = 0;
    while (rc == 0) {
        struct ArrowArray b;
        if ((e = st->get_next(st, &b)) != 0) {
            rc = pond_error_set(POND_EIO, POND_DOM_CLI, "%s",
                                st->get_last_error(st) ? st->get_last_error(st) : strerror(e));
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

static int read_at(void *payload, int64_t off, void *buf, size_t len, size_t *n_out)
{
    return pond_reader_pread(payload, buf, len, off, n_out);
}

/* The stored Parquet bytes of one version, as they are (verified as they are read). */
static int copy_version(cli_sink *sink, pond_fs_node *node, int64_t version, cli_table_out *res)
{
    pond_reader *r = NULL;
    pond_parquet_reader *pq = NULL;
    int rc = pond_fs_node_open_reader(&r, node, version);
    if (rc == 0) { /* the footer first: the row count, and a damaged file fails before output */
        pond_parquet_source src = {read_at, pond_reader_size(r), r};
        if ((rc = pond_parquet_reader_open(&pq, &src, NULL)) == 0)
            res->rows = pond_parquet_reader_num_rows(pq);
        pond_parquet_reader_free(pq);
    }
    char *buf = rc == 0 ? malloc(1 << 20) : NULL;
    if (rc == 0 && !buf)
        rc = pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
    while (rc == 0) {
        size_t n;
        if ((rc = pond_reader_read(r, buf, 1 << 20, &n)) < 0 || n == 0)
            break;
        rc = fd_write(buf, n, sink);
    }
    free(buf);
    pond_reader_free(r);
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
        if ((rc = pond_series_node_versions(&vi, &nv, node)) < 0)
            return rc;
        for (size_t i = 0; i < nv; i++) {
            bool picked = ro->file_version ? vi[i].version == ro->file_version
                                           : !vi[i].replaced_by;
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

int cli_table_write(cli_table_out *res, cli_sink *sink, pond_fs_node *node,
                    const pond_table_read_options *ro, const char *format)
{
    memset(res, 0, sizeof *res);
    int64_t stored = 0, only = 0;
    bool dedup = false;
    int rc = covered(&stored, &only, &dedup, node, ro);
    if (rc < 0)
        return rc;
    res->versions = stored;
    bool whole = !ro->has_range && !ro->columns && !dedup;
    bool parquet = format && !strcmp(format, "parquet");
    int64_t before = sink->written;
    if (parquet && whole && stored == 1) {
        rc = copy_version(sink, node, only, res);
        res->bytes = sink->written - before;
        return rc;
    }
    struct ArrowArrayStream s;
    if ((rc = pond_table_node_read_stream(&s, node, ro)) < 0)
        return rc;
    if (parquet) {
        rc = encode_parquet(sink, &s, &res->rows);
        res->bytes = sink->written - before;
    } else {
        int fd2 = dup(sink->fd);
        FILE *f = fd2 >= 0 ? fdopen(fd2, "w") : NULL;
        if (!f) {
            rc = pond_error_set(POND_EIO, POND_DOM_CLI, "%s: %s", sink->name, strerror(errno));
            if (fd2 >= 0)
                close(fd2);
        } else {
            rc = cli_write_stream(f, &s, cli_fmt_of(format), &res->rows, &res->bytes);
            if (fclose(f) != 0 && rc == 0)
                rc = pond_error_set(POND_EIO, POND_DOM_CLI, "%s: %s", sink->name,
                                    strerror(errno));
            sink->written += res->bytes;
        }
    }
    s.release(&s);
    return rc;
}
