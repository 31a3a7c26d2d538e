/* pond serve: the data API under /api/ (docs/serve.md). */
#include "serve/serve.h"

#include <pond/arrow_ipc.h>
#include <pond/buckets.h>
#include <pond/describe.h>
#include <pond/rows.h>
#include <pond/sql.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Sends body b as a content_type response when the handler got this far (rc == 0); any
 * failure, the handler's or the send's, becomes the error response. */
static void reply(serve_req *r, int rc, const pond_buf *b, const char *content_type)
{
    if (rc == 0)
        rc = serve_body_write(b->ptr ? b->ptr : "", b->size, r);
    if (rc < 0)
        serve_fail(r);
    else
        serve_set_type(r, content_type);
}

/* The event times the versions record: lo > hi when none does. */
static void versions_range(int64_t *lo, int64_t *hi, const pond_stat *vs, size_t n)
{
    *lo = INT64_MAX;
    *hi = INT64_MIN;
    for (size_t i = 0; i < n; i++)
        if (vs[i].has_event_time) {
            *lo = vs[i].min_event_time_us < *lo ? vs[i].min_event_time_us : *lo;
            *hi = vs[i].max_event_time_us > *hi ? vs[i].max_event_time_us : *hi;
        }
}

static int event_range(bool *any, int64_t *lo, int64_t *hi, pond_fs *fs, const char *path)
{
    pond_stat *vs = NULL;
    size_t n = 0;
    int rc = pond_fs_versions(&vs, &n, fs, NULL, path);
    if (rc == 0)
        versions_range(lo, hi, vs, n);
    *any = rc == 0 && *lo <= *hi;
    pond_free(vs);
    return rc;
}

/* ---- list ------------------------------------------------------------------------------------ */

static int list_entry(pond_buf *b, pond_fs *fs, const char *path, const char *name,
                      const pond_stat *st)
{
    char when[40];
    pond_time_format_iso(when, st->mtime_us);
    int rc = pond_buf_puts(b, "{\"name\":");
    if (rc == 0)
        rc = pond_buf_put_json_string(b, name, strlen(name));
    if (rc == 0)
        rc = pond_buf_puts(b, ",\"path\":");
    if (rc == 0)
        rc = pond_buf_put_json_string(b, path, strlen(path));
    int64_t size = st->size, nv = 0, lo = INT64_MAX, hi = INT64_MIN;
    if (rc == 0 && st->type != POND_ENTRY_DIRECTORY && st->type != POND_ENTRY_SYMLINK) {
        pond_stat *vs = NULL;
        size_t n = 0;
        if ((rc = pond_fs_versions(&vs, &n, fs, NULL, path)) == 0) {
            nv = (int64_t)n;
            if (st->type == POND_ENTRY_FILE_SERIES)
                size = 0; /* a series is all its versions */
            for (size_t i = 0; i < n; i++)
                if (st->type == POND_ENTRY_FILE_SERIES)
                    size += vs[i].size;
            versions_range(&lo, &hi, vs, n);
        }
        pond_free(vs);
    }
    if (rc == 0)
        rc = pond_buf_printf(b,
                             ",\"type\":\"%s\",\"size\":%lld,\"version\":%lld,\"versions\":%lld,"
                             "\"txn\":%lld,\"time\":\"%s\"",
                             pond_entry_type_name(st->type), (long long)size,
                             (long long)st->version, (long long)nv, (long long)st->txn_seq, when);
    if (rc == 0 && lo <= hi) {
        char a[40], c[40];
        pond_time_format_iso(a, lo);
        pond_time_format_iso(c, hi);
        rc = pond_buf_printf(b, ",\"min_event_time\":\"%s\",\"max_event_time\":\"%s\"", a, c);
    }
    if (rc == 0 && st->type == POND_ENTRY_SYMLINK) {
        char *t = NULL;
        if ((rc = pond_fs_readlink(&t, fs, NULL, path)) == 0) {
            rc = pond_buf_puts(b, ",\"target\":");
            if (rc == 0)
                rc = pond_buf_put_json_string(b, t, strlen(t));
        }
        pond_free(t);
    }
    return rc ? rc : pond_buf_putc(b, '}');
}

static int api_list(serve_req *r, const serve_params *p)
{
    const char *arg = p->path;
    pond_fs *fs = serve_fs(r);
    char *norm = NULL;
    pond_buf b = POND_BUF_INIT, full = POND_BUF_INIT;
    pond_fs_dirent *ents = NULL;
    size_t n = 0;
    pond_stat st;
    int rc = pond_path_normalize(&norm, NULL, NULL, arg && *arg ? arg : "/");
    if (rc == 0)
        rc = pond_fs_lstat(&st, fs, NULL, norm);
    if (rc == 0) {
        rc = pond_buf_puts(&b, "{\"path\":");
        if (rc == 0)
            rc = pond_buf_put_json_string(&b, norm, strlen(norm));
        if (rc == 0)
            rc = pond_buf_puts(&b, ",\"entries\":[");
    }
    if (rc == 0 && st.type != POND_ENTRY_DIRECTORY) {
        const char *base = strrchr(norm, '/');
        rc = list_entry(&b, fs, norm, base ? base + 1 : norm, &st);
    } else if (rc == 0) {
        rc = pond_fs_readdir(&ents, &n, fs, NULL, norm);
        for (size_t k = 0; k < n && rc == 0; k++) {
            pond_buf_clear(&full);
            pond_stat es;
            rc = pond_buf_printf(&full, "%s/%s", strcmp(norm, "/") ? norm : "", ents[k].name);
            if (rc == 0)
                rc = pond_fs_lstat(&es, fs, NULL, full.ptr);
            if (rc == 0 && k)
                rc = pond_buf_putc(&b, ',');
            if (rc == 0)
                rc = list_entry(&b, fs, full.ptr, ents[k].name, &es);
        }
    }
    if (rc == 0)
        rc = pond_buf_puts(&b, "]}\n");
    reply(r, rc, &b, "application/json");
    if (ents)
        pond_fs_dirents_free(ents, n);
    pond_buf_dispose(&b);
    pond_buf_dispose(&full);
    pond_free(norm);
    return 0;
}

/* ---- describe ----------------------------------------------------------------------------- */

static int api_describe(serve_req *r, const serve_params *p)
{
    const char *path = p->path;
    bool text = p->format && !strcmp(p->format, "text");
    pond_describe d;
    pond_buf b = POND_BUF_INIT;
    int rc = pond_describe_get(&d, serve_fs(r), serve_backend(r), path);
    if (rc == 0)
        rc = text ? pond_describe_text(&b, &d) : pond_describe_json(&b, &d);
    if (rc == 0 && !text)
        rc = pond_buf_putc(&b, '\n');
    reply(r, rc, &b, text ? "text/plain; charset=utf-8" : "application/json");
    pond_buf_dispose(&b);
    pond_describe_dispose(&d);
    return 0;
}

/* ---- read ------------------------------------------------------------------------------------ */

/* A stream that passes on rows [offset, offset + limit) of another (slicing its batches). */
typedef struct {
    struct ArrowArrayStream in;
    int64_t skip, left;
} limit_stream;

static int lim_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    limit_stream *l = s->private_data;
    return l->in.get_schema(&l->in, out);
}

static int lim_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    limit_stream *l = s->private_data;
    for (;;) {
        if (l->left == 0) {
            out->release = NULL;
            return 0;
        }
        int e = l->in.get_next(&l->in, out);
        if (e != 0 || !out->release)
            return e;
        if (out->length <= l->skip) {
            l->skip -= out->length;
            out->release(out);
            continue;
        }
        /* the parent's offset applies to every child (the Arrow C data interface) */
        out->offset += l->skip;
        out->length -= l->skip;
        l->skip = 0;
        if (l->left >= 0 && out->length > l->left)
            out->length = l->left;
        out->null_count = 0;
        if (l->left >= 0)
            l->left -= out->length;
        return 0;
    }
}

static const char *lim_error(struct ArrowArrayStream *s)
{
    limit_stream *l = s->private_data;
    return l->in.get_last_error(&l->in);
}

static void lim_release(struct ArrowArrayStream *s)
{
    limit_stream *l = s->private_data;
    if (l->in.release)
        l->in.release(&l->in);
    pond_free(l);
    s->release = NULL;
}

static int ipc_sink(const void *data, size_t len, void *payload)
{
    return serve_body_write(data, len, payload);
}

/* A stale manual derived node is computed from its sources for each read and not stored
 * (docs/derived.md); the CLI says so on stderr, a response says so in a header. */
static void mark_stale(serve_req *r, const char *path)
{
    pond_fs_node *h = NULL;
    bool stale = false;
    if (pond_fs_node_open(&h, serve_fs(r), NULL, path, 0) == 0 &&
        pond_derive_stale(&stale, h) == 0 && stale)
        serve_set_header(r, "X-Pond-Stale",
                         "computed from its sources for this read, not stored: a manual recipe "
                         "whose sources changed since its last refresh");
    pond_fs_node_free(h);
    pond_error_clear();
}

static int api_read(serve_req *r, const serve_params *p)
{
    const char *path = p->path;
    const char *fmt = p->format ? p->format : "json";
    static const char *const fmts[] = {"json", "csv", "parquet", "arrow", "raw"};
    int fi = 0;
    for (int k = 0; k < 5; k++)
        if (!strcmp(fmt, fmts[k]))
            fi = k;
    int64_t limit = p->limit, offset = p->offset, version = p->version;
    const pond_tz *tz = p->tz;
    bool has_from = p->has_from, has_to = p->has_to;
    int64_t from = p->from_us, to = p->to_us;
    pond_fs *fs = serve_fs(r);
    pond_stat st;
    if (pond_fs_stat(&st, fs, NULL, path) < 0) {
        serve_fail(r);
        goto done;
    }
    bool tabular = st.type == POND_ENTRY_FILE_TABLE || st.type == POND_ENTRY_FILE_SERIES;
    if (st.type == POND_ENTRY_DIRECTORY) {
        serve_error(r, 400, "%s: is a directory (use /api/list)", path);
        goto done;
    }
    if (!tabular || fi == 4) {
        if (p->format && fi != 4) {
            serve_error(r, 400, "%s: format %s is for tables and series; this is %s", path, fmt,
                        pond_entry_type_name(st.type));
            goto done;
        }
        if (has_from || has_to || p->columns || limit >= 0 || offset) {
            serve_error(r, 400,
                        "%s: from, to, columns, limit and offset are for tables and "
                        "series",
                        path);
            goto done;
        }
        pond_reader *rd = NULL;
        char buf[65536];
        int rc = version ? pond_fs_open_reader_version(&rd, fs, NULL, path, version)
                         : pond_fs_open_reader(&rd, fs, NULL, path);
        while (rc == 0) {
            size_t n;
            if ((rc = pond_reader_read(rd, buf, sizeof buf, &n)) < 0 || n == 0)
                break;
            rc = serve_body_write(buf, n, r);
        }
        pond_reader_free(rd);
        if (rc < 0)
            serve_fail(r);
        else
            serve_set_type(r, "application/octet-stream");
        goto done;
    }
    if ((has_from || has_to) && st.type != POND_ENTRY_FILE_SERIES) {
        serve_error(r, 400, "%s: from/to need a series; this is a table", path);
        goto done;
    }
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    if (has_from || has_to) {
        ro.has_range = true;
        ro.from_us = has_from ? from : INT64_MIN;
        ro.to_us = has_to ? to : INT64_MAX;
    }
    if (p->columns) {
        ro.columns = (const char *const *)p->columns;
        ro.n_columns = p->n_columns;
    }
    ro.file_version = version;
    static const char *const types[] = {"application/x-ndjson", "text/csv; charset=utf-8",
                                        "application/vnd.apache.parquet",
                                        "application/vnd.apache.arrow.stream"};
    pond_output_format of = fi == 0   ? POND_OUTPUT_JSON
                            : fi == 1 ? POND_OUTPUT_CSV
                                      : POND_OUTPUT_PARQUET;
    mark_stale(r, path);
    int rc;
    if (fi != 3 && limit < 0 && offset == 0) {
        pond_output_result res;
        rc = pond_table_output(&res, fs, NULL, path, &ro, of, tz, serve_body_write, r);
    } else {
        struct ArrowArrayStream in, out;
        limit_stream *l = NULL;
        rc = pond_table_read_stream(&in, fs, NULL, path, &ro);
        if (rc == 0 && !(l = pond_calloc(1, sizeof *l))) {
            in.release(&in);
            rc = pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
        }
        if (rc == 0) {
            l->in = in;
            l->skip = offset;
            l->left = limit;
            out = (struct ArrowArrayStream){lim_schema, lim_next, lim_error, lim_release, l};
            if (fi == 3) {
                rc = pond_arrow_ipc_write_stream(NULL, &out, ipc_sink, r);
            } else {
                pond_output_result res;
                rc = pond_stream_output(&res, &out, of, tz, serve_body_write, r);
            } /* either consumes out */
        }
    }
    if (rc < 0)
        serve_fail(r);
    else
        serve_set_type(r, types[fi]);
done:
    return 0;
}

/* ---- buckets ---------------------------------------------------------------------------------- */

static int put_num(pond_buf *b, double x, bool present)
{
    char t[40];
    if (!present)
        return pond_buf_puts(b, "null");
    size_t n = pond_format_double(t, x);
    return pond_buf_put(b, t, n);
}

static int api_buckets(serve_req *r, const serve_params *p)
{
    const char *path = p->path;
    pond_buckets_options o = POND_BUCKETS_OPTIONS_INIT;
    o.n = p->n;
    o.cache = serve_buckets_cache(r);
    bool has_from = p->has_from, has_to = p->has_to;
    int64_t from = p->from_us, to = p->to_us;
    if (p->columns) {
        o.columns = (const char *const *)p->columns;
        o.n_columns = p->n_columns;
    }
    pond_buckets bk;
    pond_buf b = POND_BUF_INIT;
    int rc = 0;
    if (has_from != has_to) { /* one end given: the other from the series' versions */
        int64_t lo, hi;
        bool any;
        rc = event_range(&any, &lo, &hi, serve_fs(r), path);
        if (rc == 0) {
            from = has_from ? from : any ? lo : 0;
            to = has_to ? to : any ? (hi < INT64_MAX ? hi + 1 : hi) : 1;
            if (to <= from)
                rc = pond_error_set(POND_EINVALID, POND_DOM_CLI,
                                    "%s: the range ends before it starts", path);
        }
        has_from = has_to = true;
    }
    o.has_range = has_from;
    o.from_us = from;
    o.to_us = to;
    if (rc == 0) {
        mark_stale(r, path);
        rc = pond_table_buckets(&bk, serve_fs(r), NULL, path, &o);
    } else
        memset(&bk, 0, sizeof bk);
    char a[40], c[40];
    static const char *const sources[] = {"scan", "cache", "cache+new versions",
                                          "cache (read now)"};
    if (rc == 0) {
        pond_time_format_iso(a, bk.from_us);
        pond_time_format_iso(c, bk.to_us);
        rc = pond_buf_puts(&b, "{\"path\":");
        if (rc == 0)
            rc = pond_buf_put_json_string(&b, path, strlen(path));
        if (rc == 0)
            rc = pond_buf_puts(&b, ",\"timestamp_column\":");
        if (rc == 0)
            rc = pond_buf_put_json_string(&b, bk.timestamp_column, strlen(bk.timestamp_column));
        if (rc == 0)
            rc = pond_buf_printf(&b,
                                 ",\"from\":\"%s\",\"to\":\"%s\",\"from_us\":%lld,\"to_us\":%lld,"
                                 "\"n\":%lld,\"rows\":%lld,\"empty\":%s,\"source\":\"%s\","
                                 "\"time\":[",
                                 a, c, (long long)bk.from_us, (long long)bk.to_us, (long long)bk.n,
                                 (long long)bk.rows_read, bk.empty ? "true" : "false",
                                 sources[bk.source]);
        for (int64_t i = 0; i < bk.n && rc == 0; i++)
            rc = pond_buf_printf(&b, i ? ",%lld" : "%lld", (long long)pond_buckets_start(&bk, i));
        if (rc == 0)
            rc = pond_buf_puts(&b, "],\"columns\":[");
        for (size_t k = 0; k < bk.n_columns && rc == 0; k++) {
            const pond_bucket *cell = &bk.cells[k * (size_t)bk.n];
            rc = pond_buf_puts(&b, k ? ",{\"name\":" : "{\"name\":");
            if (rc == 0)
                rc = pond_buf_put_json_string(&b, bk.names[k], strlen(bk.names[k]));
            static const char *const keys[] = {"count", "min", "max", "mean"};
            for (int q = 0; q < 4 && rc == 0; q++) {
                rc = pond_buf_printf(&b, ",\"%s\":[", keys[q]);
                for (int64_t i = 0; i < bk.n && rc == 0; i++) {
                    const pond_bucket *x = &cell[i];
                    rc = i ? pond_buf_putc(&b, ',') : 0;
                    if (rc == 0)
                        rc = q == 0   ? pond_buf_printf(&b, "%lld", (long long)x->count)
                             : q == 1 ? put_num(&b, x->min, x->count > 0)
                             : q == 2 ? put_num(&b, x->max, x->count > 0)
                                      : put_num(&b, x->sum / (double)x->count, x->count > 0);
                }
                if (rc == 0)
                    rc = pond_buf_putc(&b, ']');
            }
            if (rc == 0)
                rc = pond_buf_putc(&b, '}');
        }
        if (rc == 0)
            rc = pond_buf_puts(&b, "]}\n");
    }
    reply(r, rc, &b, "application/json");
    pond_buf_dispose(&b);
    pond_buckets_dispose(&bk);
    return 0;
}

/* ---- query ------------------------------------------------------------------------------------ */

/* Read-only SQL: reading and functions, nothing else (no ATTACH, no writes, no pragmas, no
 * extension loading). */
static int api_query(serve_req *r, const serve_params *p)
{
    const char *sql = p->sql, *fmt = p->format;
    pond_sql *q = NULL;
    int rc = pond_sql_open(&q, serve_fs(r));
    for (size_t i = 0; rc == 0 && i < p->n_srcs; i++)
        rc = pond_sql_attach(q, p->srcs[i].name, p->srcs[i].path, p->srcs[i].version);
    if (rc == 0) {
        int64_t ms = serve_cfg(r)->sql_ms;
        pond_sql_guard(q, ms);
        rc = pond_sql_output(NULL, q, sql,
                             fmt && !strcmp(fmt, "csv") ? POND_ROWS_CSV : POND_ROWS_JSON, p->tz,
                             serve_body_write, r);
        if (rc < 0 && pond_sql_expired(q)) {
            serve_error(r, 503, "sql: the query ran longer than the server's limit of %lld ms",
                        (long long)ms);
            goto done;
        }
        if (rc < 0 && strstr(pond_error_last()->message, "not authorized")) {
            serve_error(r, 403,
                        "sql: only reading is allowed here (no ATTACH, writes, "
                        "pragmas or extensions): %s",
                        pond_error_last()->message);
            goto done;
        }
    }
    if (rc < 0)
        serve_fail(r);
    else
        serve_set_type(r, fmt && !strcmp(fmt, "csv") ? "text/csv; charset=utf-8"
                                                     : "application/x-ndjson");
done:
    pond_sql_free(q);
    return 0;
}

/* ---- log ---------------------------------------------------------------------------------------- */

/* The transaction log, newest first, a page at a time: `limit` (default 100) transactions
 * below `before` (default: from the one this request sees). */
static int api_log(serve_req *r, const serve_params *p)
{
    pond_oplog_history_options o = POND_OPLOG_HISTORY_OPTIONS_INIT;
    int64_t seen = serve_txn(r);
    o.newest = p->before < 0 ? seen : p->before - 1 < seen ? p->before - 1 : seen;
    o.limit = p->limit < 0 ? 100 : p->limit;
    o.files = false;
    pond_oplog_txn *t = NULL;
    size_t n = 0;
    pond_buf b = POND_BUF_INIT;
    int rc = o.newest < 0 ? 0 : pond_oplog_history(&t, &n, pond_oplog_dir(serve_backend(r)), &o);
    if (rc == 0)
        rc = pond_buf_printf(&b, "{\"txn\":%lld,\"entries\":[", (long long)seen);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = pond_buf_printf(&b, "%s{\"txn\":%lld", i ? "," : "", (long long)t[i].txn);
        if (rc == 0 && t[i].has_info) {
            char when[40];
            pond_time_format_iso(when, t[i].time_us);
            rc = pond_buf_printf(&b, ",\"time\":\"%s\"", when);
        }
        if (rc == 0 && t[i].command) {
            rc = pond_buf_puts(&b, ",\"command\":");
            if (rc == 0)
                rc = pond_buf_put_json_string(&b, t[i].command, strlen(t[i].command));
        }
        if (rc == 0 && t[i].error) { /* a damaged commit is shown, never dropped */
            rc = pond_buf_puts(&b, ",\"error\":");
            if (rc == 0)
                rc = pond_buf_put_json_string(&b, t[i].error, strlen(t[i].error));
        }
        if (rc == 0)
            rc = pond_buf_putc(&b, '}');
    }
    /* the next page starts below the last transaction listed; none past transaction 0 */
    int64_t next = n && t[n - 1].txn > 0 && (int64_t)n == o.limit ? t[n - 1].txn : -1;
    if (rc == 0 && next >= 0)
        rc = pond_buf_printf(&b, "],\"next_before\":%lld}\n", (long long)next);
    else if (rc == 0)
        rc = pond_buf_puts(&b, "],\"next_before\":null}\n");
    reply(r, rc, &b, "application/json");
    pond_buf_dispose(&b);
    pond_oplog_history_free(t, n);
    return 0;
}

int serve_api(serve_req *r, const serve_params *p)
{
    switch (p->route) {
    case SERVE_API_LIST:
        return api_list(r, p);
    case SERVE_API_DESCRIBE:
        return api_describe(r, p);
    case SERVE_API_READ:
        return api_read(r, p);
    case SERVE_API_BUCKETS:
        return api_buckets(r, p);
    case SERVE_API_QUERY:
        return api_query(r, p);
    case SERVE_API_LOG:
        return api_log(r, p);
    }
    return serve_error(r, 404, "no such API");
}
