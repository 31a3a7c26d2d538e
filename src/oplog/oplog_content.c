/* One version's inline content read from the row group of its data file that holds it.
 *
 * A merged data file holds thousands of versions' rows (a series' content is most of its
 * bytes), in row groups of OL_CONTENT_GROUP_ROWS rows. A read of one version reads the footer
 * and that row group's node_id, version and content chunks, never the rest of the file: the
 * file's own SHA-256 cannot be checked then, so each row's content is checked against the
 * row's recorded SHA-256 instead (pond_oplog__decode_content, not `verified`), and no byte that
 * does not match reaches a caller. Files of one row group (commits, old merged files) are read
 * whole as before: the caller does it when the row is still pending here. */
#include "oplog_internal.h"

#include <pond/errors.h>

#define D POND_DOM_OPLOG

typedef struct {
    int fd;
    const char *path;
} fd_source;

static int fd_read_at(int64_t off, void *buf, size_t len, size_t *n_out, void *payload)
{
    const fd_source *s = payload;
    return pond__pread_full(n_out, s->fd, buf, len, off, s->path, D);
}

typedef struct {
    ol_part *p;
    int file_idx;
} group_want;

static oplog_row *group_lookup(const pond_node_id *id, int64_t version, void *payload)
{
    group_want *w = payload;
    ol_node *n = pond__idmap_get(&w->p->nodes, id);
    oplog_row *row = n ? pond_oplog__node_version(n, version) : NULL;
    return row && row->file_idx == w->file_idx ? row : NULL;
}

int pond_oplog__row_content_group(oplog_be *ob, ol_part *p, oplog_row *row)
{
    const ol_file *f = &p->files[row->file_idx];
    if (row->file_row < 0 || f->size < 0 || f->n_rows <= OL_CONTENT_GROUP_ROWS)
        return 0;
    char *path = pond__path_join(ob->dir, f->path);
    if (!path)
        return POND_ENOMEM;
    fd_source src = {-1, path};
    const char *cols[] = {"node_id", "version", "content"};
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.column_names = cols;
    po.n_column_names = 3;
    pond_parquet_reader *r = NULL;
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    int rc = pond__open_pond_file_in(&src.fd, ob->dir, f->path, D);
    if (rc == 0) {
        pond_parquet_source ps = {fd_read_at, f->size, &src};
        rc = pond_parquet_reader_open(&r, &ps, &po);
    }
    int groups = rc == 0 ? pond_parquet_reader_num_row_groups(r) : 0;
    int g = 0;
    int64_t first = 0;
    while (g < groups && first + pond_parquet_reader_row_group_rows(r, g) <= row->file_row)
        first += pond_parquet_reader_row_group_rows(r, g++);
    /* one group: the whole file is that group, read and hashed whole by the caller */
    if (rc == 0 && groups > 1 && g < groups && (rc = pond_parquet_reader_schema(r, &schema)) == 0 &&
        (rc = pond_parquet_reader_read_row_group(r, g, &batch)) == 0) {
        group_want w = {p, row->file_idx};
        size_t filled = 0;
        rc = pond_oplog__decode_content(&filled, &schema, &batch, f->path, false, group_lookup, &w);
    }
    if (rc < 0 && rc != POND_ENOMEM)
        pond_error_prefix("pond '%s': version %lld from data file '%s'", ob->dir,
                          (long long)row->rec->version, f->path);
    pond_arrow_array_release(&batch);
    pond_arrow_schema_release(&schema);
    pond_parquet_reader_free(r);
    if (src.fd >= 0)
        pond__close(src.fd);
    pond_free(path);
    return rc;
}
