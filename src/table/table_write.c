/* Writing tables and series: a stream of batches into one Parquet file, a new version. */
#include "table/table_internal.h"

#include <pond/parquet.h>
#include <pond/stream.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>

#define D POND_DOM_TABLE
#define TS_ATTR "pond.timestamp_column"
#define TZ_ATTR "pond.timezone"
#define FMT_ATTR "pond.time_formats"

static int record_settings(pond_fs *fs, const pond_wd *wd, const char *path,
                           const pond_series_settings *s);

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

/* What a series write needs beyond the bytes: the timestamp column, the zone its wall-clock
 * values are read in, and the event-time range seen so far. */
typedef struct {
    pond_series_settings eff; /* the settings this write records */
    pond_tz *tz;
    int ts_col;
    table_ts ts;
    int64_t tmin, tmax, rows;
} series_ctx;

static void series_ctx_dispose(series_ctx *c)
{
    pond_series_settings_dispose(&c->eff);
    pond_tz_free(c->tz);
}

static int dup_formats(pond_series_settings *dst, const char *const *f, size_t n)
{
    if (!n)
        return 0;
    if (!(dst->time_formats = pond_calloc(n, sizeof *dst->time_formats)))
        return POND_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!(dst->time_formats[i] = pond_strdup(f[i])))
            return POND_ENOMEM;
        dst->n_time_formats++;
    }
    return 0;
}

/* Settings given for this write against those recorded on the series; fills c->eff and
 * finds the timestamp column of schema. */
static int series_prepare(series_ctx *c, pond_fs *fs, const pond_wd *wd, const char *path,
                          const struct ArrowSchema *schema, const pond_table_write_options *opts)
{
    bool v2 = opts->version >= 2;
    int rc = pond_series_settings_resolve(&c->eff, fs, wd, path, opts->timestamp_column,
                                          v2 ? opts->timezone : NULL,
                                          v2 ? opts->time_formats : NULL,
                                          v2 ? opts->n_time_formats : 0);
    if (rc == 0)
        rc = pond_tz_open(&c->tz, c->eff.timezone);
    if (rc < 0)
        return rc;
    const char *col = c->eff.timestamp_column;
    c->ts_col = table__find_ts(schema, col);
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
    table__ts_kind(&c->ts, schema->children[c->ts_col], c->tz);
    c->tmin = INT64_MAX;
    c->tmax = INT64_MIN;
    return check_compatible(fs, wd, path, schema);
}

/* Event times of one batch, each checked (integers by magnitude, wall-clock times in the
 * zone): an error names the source, the row and the column. */
static int series_scan(series_ctx *c, const struct ArrowArray *batch, const char *source)
{
    if (c->ts_col < 0 || batch->n_children <= c->ts_col)
        return 0;
    const struct ArrowArray *col = batch->children[c->ts_col];
    for (int64_t i = 0; i < col->length; i++) {
        if (table__is_null(col, i))
            continue;
        int64_t v;
        if (table__ts_value_checked(&v, &c->ts, col, i) < 0) {
            pond_error_prefix("%s: row %lld, column '%s'", source, (long long)(c->rows + i + 1),
                              c->eff.timestamp_column);
            return POND_EINVALID;
        }
        c->tmin = v < c->tmin ? v : c->tmin;
        c->tmax = v > c->tmax ? v : c->tmax;
    }
    c->rows += col->length;
    return 0;
}

static int series_finish(series_ctx *c, pond_writer *w)
{
    if (c->ts_col >= 0 && c->tmin <= c->tmax)
        return pond_writer_set_event_time(w, c->tmin, c->tmax);
    return 0;
}

static int open_table_writer(pond_writer **w, pond_fs *fs, const pond_wd *wd, const char *path,
                             pond_entry_type type)
{
    if (type != POND_ENTRY_FILE_TABLE && type != POND_ENTRY_FILE_SERIES)
        return pond_error_set(POND_EINVALID, D, "%s: tables and series only", path);
    return pond_fs_open_writer(w, fs, wd, path, type);
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
    int64_t rows = 0;
    series_ctx sc = {.ts_col = -1};
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
    if (type == POND_ENTRY_FILE_SERIES && (rc = series_prepare(&sc, fs, wd, path, &schema, opts)) < 0)
        goto done;
    if ((rc = open_table_writer(&w, fs, wd, path, type)) < 0)
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
    po.threads = opts->version >= 3 ? opts->threads : 0;
    if ((rc = pond_parquet_writer_new(&pw, &sink, &schema, &po)) < 0)
        goto done;
    for (;;) {
        if ((err = in->get_next(in, &batch)) != 0) {
            rc = stream_error(in, err, path);
            goto done;
        }
        if (!batch.release)
            break;
        if ((rc = series_scan(&sc, &batch, path)) < 0)
            goto done;
        rc = pond_parquet_writer_write(pw, &batch);
        rows += batch.length;
        pond_arrow_array_release(&batch);
        if (rc < 0)
            goto done;
    }
    if ((rc = pond_parquet_writer_finish(pw)) < 0)
        goto done;
    if ((rc = series_finish(&sc, w)) < 0)
        goto done;
    if ((rc = pond_writer_finish(w)) < 0)
        goto done;
    if (sc.ts_col >= 0 && (rc = record_settings(fs, wd, path, &sc.eff)) < 0)
        goto done;
    if (rows_out)
        *rows_out = rows;
done:
    pond_arrow_array_release(&batch);
    pond_parquet_writer_free(pw);
    pond_writer_free(w); /* an unfinished writer is aborted: the file stays as it was */
    pond_arrow_schema_release(&schema);
    series_ctx_dispose(&sc);
    if (in->release)
        in->release(in);
    return rc;
}

int pond_table_write_parquet_file(int64_t *rows_out, pond_fs *fs, const pond_wd *wd,
                                  const char *path, pond_entry_type type, const char *host_path,
                                  const pond_table_write_options *opts)
{
    pond_table_write_options def = POND_TABLE_WRITE_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    pond_parquet_reader *r = NULL;
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    pond_writer *w = NULL;
    series_ctx sc = {.ts_col = -1};
    int fd = -1;
    char *buf = NULL;
    int64_t rows = 0;
    int rc = pond_parquet_reader_open_file(&r, host_path, NULL);
    for (int k = 0; rc == 0 && opts->warn && k < pond_parquet_reader_warning_count(r); k++)
        opts->warn(opts->warn_payload, pond_parquet_reader_warning(r, k));
    if (rc == 0)
        rc = pond_parquet_reader_schema(r, &schema);
    if (rc < 0) {
        pond_error_prefix("'%s' is not a valid Parquet file", host_path);
        goto done;
    }
    if (type == POND_ENTRY_FILE_SERIES &&
        (rc = series_prepare(&sc, fs, wd, path, &schema, opts)) < 0) {
        pond_error_prefix("%s", host_path);
        goto done;
    }
    /* every row group must decode; a series also needs its event times */
    while ((rc = pond_parquet_reader_next(r, &batch)) == 0) {
        rc = series_scan(&sc, &batch, host_path);
        rows += batch.length;
        pond_arrow_array_release(&batch);
        if (rc < 0)
            goto done;
    }
    if (rc != POND_ITEROVER) {
        pond_error_prefix("'%s' is not a valid Parquet file", host_path);
        goto done;
    }
    /* stored as it is: the bytes the user gave, not a re-encoding */
    if ((rc = open_table_writer(&w, fs, wd, path, type)) < 0)
        goto done;
    if ((rc = pond__open(&fd, host_path, O_RDONLY | O_CLOEXEC, 0, D)) < 0)
        goto done;
    if (!(buf = pond_malloc(1 << 20))) {
        rc = POND_ENOMEM;
        goto done;
    }
    for (int64_t off = 0;;) {
        size_t n;
        if ((rc = pond__pread_full(&n, fd, buf, 1 << 20, off, host_path, D)) < 0)
            goto done;
        if (n == 0)
            break;
        if ((rc = pond_writer_write(w, buf, n)) < 0)
            goto done;
        off += (int64_t)n;
    }
    if ((rc = series_finish(&sc, w)) < 0 || (rc = pond_writer_finish(w)) < 0)
        goto done;
    if (sc.ts_col >= 0 && (rc = record_settings(fs, wd, path, &sc.eff)) < 0)
        goto done;
    if (rows_out)
        *rows_out = rows;
done:
    pond_free(buf);
    if (fd >= 0)
        pond__close(fd);
    pond_writer_free(w);
    pond_arrow_array_release(&batch);
    pond_arrow_schema_release(&schema);
    pond_parquet_reader_free(r);
    series_ctx_dispose(&sc);
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

static void jfree(void *p)
{
    json_malloc_t jm;
    json_free_t jf;
    json_get_alloc_funcs(&jm, &jf); /* whichever allocator jansson was given */
    jf(p);
}

/* Records the settings in the node's extended attributes (other keys kept); writes only
 * when something changed. */
static int record_settings(pond_fs *fs, const pond_wd *wd, const char *path,
                           const pond_series_settings *s)
{
    char *cur = NULL;
    int rc = pond_fs_get_xattrs(&cur, fs, wd, path);
    if (rc < 0)
        return rc;
    json_error_t je;
    json_t *obj = cur ? json_loads(cur, 0, &je) : NULL;
    if (!obj || !json_is_object(obj)) {
        json_decref(obj);
        obj = json_object();
    }
    json_t *fmts = NULL;
    if (s->n_time_formats) {
        fmts = json_array();
        for (size_t i = 0; fmts && i < s->n_time_formats; i++)
            json_array_append_new(fmts, json_string(s->time_formats[i]));
    }
    char *before = obj ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (obj) {
        json_object_set_new(obj, TS_ATTR, json_string(s->timestamp_column));
        json_object_set_new(obj, TZ_ATTR, json_string(s->timezone ? s->timezone : "UTC"));
        if (fmts)
            json_object_set_new(obj, FMT_ATTR, fmts);
        else
            json_object_del(obj, FMT_ATTR);
    }
    char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!text || !before)
        rc = POND_ENOMEM;
    else if (strcmp(before, text) != 0)
        rc = pond_fs_set_xattrs(fs, wd, path, text);
    jfree(text);
    jfree(before);
    json_decref(obj);
    pond_free(cur);
    return rc;
}

void pond_series_settings_dispose(pond_series_settings *s)
{
    if (!s)
        return;
    pond_free(s->timestamp_column);
    pond_free(s->timezone);
    for (size_t i = 0; i < s->n_time_formats; i++)
        pond_free(s->time_formats[i]);
    pond_free(s->time_formats);
    memset(s, 0, sizeof *s);
}

int pond_series_settings_get(pond_series_settings *out, pond_fs *fs, const pond_wd *wd,
                             const char *path)
{
    memset(out, 0, sizeof *out);
    char *cur = NULL;
    int rc = pond_fs_get_xattrs(&cur, fs, wd, path);
    if (rc == POND_ENOTFOUND)
        return 0; /* a new series: nothing recorded */
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
    const char *tz = json_string_value(json_object_get(obj, TZ_ATTR));
    json_t *fmts = json_object_get(obj, FMT_ATTR);
    if (name && !(out->timestamp_column = pond_strdup(name)))
        rc = POND_ENOMEM;
    if (rc == 0 && tz && !(out->timezone = pond_strdup(tz)))
        rc = POND_ENOMEM;
    size_t nf = json_is_array(fmts) ? json_array_size(fmts) : 0;
    if (rc == 0 && nf && !(out->time_formats = pond_calloc(nf, sizeof *out->time_formats)))
        rc = POND_ENOMEM;
    for (size_t i = 0; i < nf && rc == 0; i++) {
        const char *f = json_string_value(json_array_get(fmts, i));
        if (!f)
            rc = pond_error_set(POND_ECORRUPT, D, "%s: %s holds a non-string", path, FMT_ATTR);
        else if (!(out->time_formats[i] = pond_strdup(f)))
            rc = POND_ENOMEM;
        else
            out->n_time_formats++;
    }
    json_decref(obj);
    pond_free(cur);
    if (rc < 0)
        pond_series_settings_dispose(out);
    return rc;
}

static int settings_check(const pond_series_settings *rec, const char *path,
                          const char *timestamp_column, const char *timezone)
{
    if (timestamp_column && rec->timestamp_column &&
        strcmp(timestamp_column, rec->timestamp_column))
        return pond_error_set(POND_EINVALID, D,
                              "%s: the series' timestamp column is '%s', not '%s' "
                              "(--timestamp-column)",
                              path, rec->timestamp_column, timestamp_column);
    if (timezone && rec->timezone && strcmp(timezone, rec->timezone))
        return pond_error_set(POND_EINVALID, D,
                              "%s: the series reads times without a zone in %s, not %s "
                              "(--timezone); give the values with their offset instead",
                              path, rec->timezone, timezone);
    return 0;
}

static int dup_or_null(char **out, const char *s)
{
    return s && !(*out = pond_strdup(s)) ? POND_ENOMEM : 0;
}

int pond_series_settings_resolve(pond_series_settings *out, pond_fs *fs, const pond_wd *wd,
                                 const char *path, const char *timestamp_column,
                                 const char *timezone, const char *const *time_formats,
                                 size_t n_time_formats)
{
    pond_series_settings rec;
    memset(out, 0, sizeof *out);
    int rc = pond_series_settings_get(&rec, fs, wd, path);
    if (rc == 0)
        rc = settings_check(&rec, path, timestamp_column, timezone);
    if (rc == 0)
        rc = dup_or_null(&out->timestamp_column,
                         timestamp_column ? timestamp_column : rec.timestamp_column);
    if (rc == 0)
        rc = dup_or_null(&out->timezone,
                         timezone ? timezone : rec.timezone ? rec.timezone : "UTC");
    if (rc == 0 && n_time_formats)
        rc = dup_formats(out, time_formats, n_time_formats);
    else if (rc == 0)
        rc = dup_formats(out, (const char *const *)rec.time_formats, rec.n_time_formats);
    pond_series_settings_dispose(&rec);
    if (rc < 0)
        pond_series_settings_dispose(out);
    return rc;
}

int pond_series_timestamp_column(char **out, pond_fs *fs, const pond_wd *wd, const char *path)
{
    pond_series_settings s;
    *out = NULL;
    int rc = pond_series_settings_get(&s, fs, wd, path);
    if (rc < 0)
        return rc;
    *out = s.timestamp_column;
    s.timestamp_column = NULL;
    pond_series_settings_dispose(&s);
    return 0;
}
