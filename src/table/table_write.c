/* Writing tables and series: a stream of batches into one Parquet file, a new version. */
#include "table/table_internal.h"

#include <pond/parquet.h>
#include <pond/stream.h>

#include <errno.h>
#include <jansson.h>
#include <string.h>

#define D POND_DOM_TABLE
#define TS_ATTR "pond.timestamp_column"

static int sink_write(const void *data, size_t len, void *payload)
{
    return pond_writer_write(payload, data, len);
}

static int stream_error(struct ArrowArrayStream *s, int err, const char *what)
{
    const char *m = s->get_last_error ? s->get_last_error(s) : NULL;
    return pond_error_set(err == ENOMEM ? POND_ENOMEM : POND_EINVALID, D, "%s: %s", what,
                          m ? m : strerror(err));
}

int table__version_schema(struct ArrowSchema *out, pond_fs *fs, const pond_wd *wd,
                          const char *path, int64_t version);

static int reader_read_at(void *payload, int64_t off, void *buf, size_t len, size_t *n_out)
{
    return pond_reader_pread(payload, buf, len, off, n_out);
}

int table__version_schema(struct ArrowSchema *out, pond_fs *fs, const pond_wd *wd,
                          const char *path, int64_t version)
{
    pond_reader *r = NULL;
    int rc = version > 0 ? pond_fs_open_reader_version(&r, fs, wd, path, version)
                         : pond_fs_open_reader(&r, fs, wd, path);
    if (rc < 0)
        return rc;
    pond_parquet_source src = {reader_read_at, pond_reader_size(r), r};
    pond_parquet_reader *pr = NULL;
    if ((rc = pond_parquet_reader_open(&pr, &src, NULL)) == 0)
        rc = pond_parquet_reader_schema(pr, out);
    pond_parquet_reader_free(pr);
    pond_reader_free(r);
    if (rc < 0)
        pond_error_prefix("%s version %lld", path, (long long)version);
    return rc;
}

/* Every column that exists in an earlier version must keep its type. */
static int check_compatible(pond_fs *fs, const pond_wd *wd, const char *path,
                            const struct ArrowSchema *schema)
{
    pond_stat *vs = NULL;
    size_t nv = 0;
    int rc = pond_fs_versions(&vs, &nv, fs, wd, path);
    if (rc == POND_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    for (size_t v = 0; v < nv && rc == 0; v++) {
        if (vs[v].size == 0)
            continue; /* created empty */
        struct ArrowSchema old = {0};
        if ((rc = table__version_schema(&old, fs, wd, path, vs[v].version)) < 0)
            break;
        for (int64_t i = 0; i < schema->n_children && rc == 0; i++) {
            const struct ArrowSchema *c = schema->children[i];
            for (int64_t k = 0; k < old.n_children; k++) {
                const struct ArrowSchema *o = old.children[k];
                if (!c->name || !o->name || strcmp(c->name, o->name))
                    continue;
                char was[POND_ARROW_TYPE_NAME_LEN], now[POND_ARROW_TYPE_NAME_LEN];
                if (!table__same_type(c, o))
                    rc = pond_error_set(POND_EINVALID, D,
                                        "%s: column '%s' is %s in version %lld but %s in the "
                                        "new version: a series cannot change a column's type",
                                        path, c->name, pond_arrow_type_name(was, o->format),
                                        (long long)vs[v].version,
                                        pond_arrow_type_name(now, c->format));
            }
        }
        /* a column new in this version must be nullable: older versions read it as null */
        for (int64_t i = 0; i < schema->n_children && rc == 0; i++) {
            const struct ArrowSchema *c = schema->children[i];
            bool found = false;
            for (int64_t k = 0; k < old.n_children && !found; k++)
                found = c->name && old.children[k]->name && !strcmp(c->name, old.children[k]->name);
            if (!found && !(c->flags & ARROW_FLAG_NULLABLE))
                rc = pond_error_set(POND_EINVALID, D,
                                    "%s: new column '%s' must be nullable (older versions read "
                                    "it as null)",
                                    path, c->name ? c->name : "");
        }
        pond_arrow_schema_release(&old);
    }
    pond_free(vs);
    return rc;
}

int pond_table_write_stream(int64_t *rows_out, pond_fs *fs, const pond_wd *wd, const char *path,
                            pond_entry_type type, struct ArrowArrayStream *in,
                            const pond_table_write_options *opts)
{
    pond_table_write_options def = POND_TABLE_WRITE_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    pond_writer *w = NULL;
    pond_parquet_writer *pw = NULL;
    int rc = 0, err;
    int64_t rows = 0, tmin = INT64_MAX, tmax = INT64_MIN;
    int ts_col = -1;
    table_ts ts = {0};
    if (type != POND_ENTRY_FILE_TABLE && type != POND_ENTRY_FILE_SERIES) {
        rc = pond_error_set(POND_EINVALID, D, "%s: tables and series only", path);
        goto done;
    }
    if ((err = in->get_schema(in, &schema)) != 0) {
        rc = stream_error(in, err, path);
        goto done;
    }
    if (strcmp(schema.format, "+s") != 0) {
        rc = pond_error_set(POND_EINVALID, D, "%s: a record batch stream must have a struct "
                                              "schema, not '%s'", path, schema.format);
        goto done;
    }
    if (type == POND_ENTRY_FILE_SERIES) {
        ts_col = table__find_ts(&schema, opts->timestamp_column);
        if (ts_col < 0) {
            pond_buf have = POND_BUF_INIT; /* the columns there are, for the message */
            for (int64_t k = 0; k < schema.n_children; k++)
                pond_buf_printf(&have, "%s%s", k ? ", " : "",
                                schema.children[k]->name ? schema.children[k]->name : "");
            const char *cols = have.ptr ? have.ptr : "none";
            rc = ts_col == -2
                     ? pond_error_set(POND_EINVALID, D,
                                      "%s: timestamp column '%s' must be a timestamp or int64",
                                      path, opts->timestamp_column)
                 : opts->timestamp_column
                     ? pond_error_set(POND_EINVALID, D,
                                      "%s: no column '%s' for the timestamp (columns: %s)", path,
                                      opts->timestamp_column, cols)
                     : pond_error_set(POND_EINVALID, D,
                                      "%s: a series needs a timestamp column (named timestamp, "
                                      "Timestamp, event_time, time, ts or datetime, or given "
                                      "with --timestamp-column; columns: %s)",
                                      path, cols);
            pond_buf_dispose(&have);
            goto done;
        }
        table__ts_kind(&ts, schema.children[ts_col]);
        if ((rc = check_compatible(fs, wd, path, &schema)) < 0)
            goto done;
    }
    if ((rc = pond_fs_open_writer(&w, fs, wd, path, type)) < 0)
        goto done;
    pond_parquet_sink sink = {sink_write, NULL, w};
    pond_parquet_writer_options po = POND_PARQUET_WRITER_OPTIONS_INIT;
    if (opts->compression)
        po.compression = (pond_parquet_compression)opts->compression;
    /* tables and series favour ingest speed: zstd level 1 is about 40% cheaper than level 3
     * for a ~20% larger file on sensor data, and still smaller than snappy (docs/decisions.md) */
    po.compression_level = opts->compression_level ? opts->compression_level
                           : po.compression == POND_PARQUET_COMPRESS_ZSTD ? 1
                                                                          : 0;
    po.row_group_rows = opts->row_group_rows > 0 ? opts->row_group_rows : 131072;
    /* 128 KiB pages (16,384 rows of a 64-bit column): with the page index, a time-range read
     * decodes about one page per column beyond the range instead of a whole row group
     * (docs/decisions.md) */
    po.page_bytes = (size_t)128 << 10;
    if ((rc = pond_parquet_writer_new(&pw, &sink, &schema, &po)) < 0)
        goto done;
    for (;;) {
        if ((err = in->get_next(in, &batch)) != 0) {
            rc = stream_error(in, err, path);
            goto done;
        }
        if (!batch.release)
            break;
        if (ts_col >= 0 && batch.n_children > ts_col) {
            const struct ArrowArray *c = batch.children[ts_col];
            for (int64_t i = 0; i < c->length; i++) {
                if (table__is_null(c, i))
                    continue;
                int64_t v = table__ts_value(&ts, c, i);
                tmin = v < tmin ? v : tmin;
                tmax = v > tmax ? v : tmax;
            }
        }
        rc = pond_parquet_writer_write(pw, &batch);
        rows += batch.length;
        pond_arrow_array_release(&batch);
        if (rc < 0)
            goto done;
    }
    if ((rc = pond_parquet_writer_finish(pw)) < 0)
        goto done;
    if (ts_col >= 0 && tmin <= tmax && (rc = pond_writer_set_event_time(w, tmin, tmax)) < 0)
        goto done;
    if ((rc = pond_writer_finish(w)) < 0)
        goto done;
    if (ts_col >= 0) {
        char *cur = NULL;
        const char *name = schema.children[ts_col]->name;
        pond_fs_get_xattrs(&cur, fs, wd, path);
        json_error_t je;
        json_t *obj = cur ? json_loads(cur, 0, &je) : NULL;
        if (!obj || !json_is_object(obj)) {
            json_decref(obj);
            obj = json_object();
        }
        json_t *have = json_object_get(obj, TS_ATTR);
        if (!have || strcmp(json_string_value(have) ? json_string_value(have) : "", name)) {
            json_object_set_new(obj, TS_ATTR, json_string(name));
            char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
            rc = text ? pond_fs_set_xattrs(fs, wd, path, text) : POND_ENOMEM;
            json_malloc_t jm;
            json_free_t jf;
            json_get_alloc_funcs(&jm, &jf); /* whichever allocator jansson was given */
            jf(text);
        }
        json_decref(obj);
        pond_free(cur);
    }
    if (rows_out)
        *rows_out = rows;
done:
    pond_arrow_array_release(&batch);
    pond_parquet_writer_free(pw);
    pond_writer_free(w); /* an unfinished writer is aborted: the file stays as it was */
    pond_arrow_schema_release(&schema);
    if (in->release)
        in->release(in);
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
    if ((rc = table__holder_new(&h, &borrowed)) < 0)
        return rc;
    rc = table__view(&view, h, batch, 0, batch->length);
    table__holder_unref(h);
    if (rc < 0)
        return rc;
    if ((rc = pond_arrow_stream_from_batches(&s, schema, &view, 1)) < 0)
        return rc;
    return pond_table_write_stream(NULL, fs, wd, path, type, &s, opts);
}

int pond_series_timestamp_column(char **out, pond_fs *fs, const pond_wd *wd, const char *path)
{
    *out = NULL;
    char *cur = NULL;
    int rc = pond_fs_get_xattrs(&cur, fs, wd, path);
    if (rc < 0 || !cur)
        return rc;
    json_error_t je;
    json_t *obj = json_loads(cur, 0, &je);
    if (!obj) {
        /* jansson reports allocation failure as a parse error: tell the two apart */
        rc = strstr(je.text, "memory") ? pond_error_set(POND_ENOMEM, D, "out of memory")
                                       : pond_error_set(POND_ECORRUPT, D,
                                                        "%s: extended attributes are not valid "
                                                        "JSON: %s",
                                                        path, je.text);
        pond_free(cur);
        return rc;
    }
    const char *name = json_string_value(json_object_get(obj, TS_ATTR));
    if (name && !(*out = pond_strdup(name)))
        rc = POND_ENOMEM;
    json_decref(obj);
    pond_free(cur);
    return rc;
}
