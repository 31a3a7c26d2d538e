/* Writing a classic checkpoint (`<v>.checkpoint.parquet`) of a snapshot, and `_last_checkpoint`.
 *
 * Rows are built as the JSON actions a commit would carry, then turned into Arrow columns of
 * the Delta checkpoint schema (txn, add, remove, metaData, protocol; one action per row) by one
 * generic JSON -> Arrow routine, and written with the Parquet writer. */
#include "delta/delta_table.h"

#include <pond/arrow.h>
#include <pond/parquet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef delta_col_spec col_spec;

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))
static const col_spec KV[] = {{"key", "u", NULL, 0, false}, {"value", "u", NULL, 0, true}};
static const col_spec MAP_SS[] = {{"key_value", "+s", KV, 2, false}};
static const col_spec LIST_S[] = {{"element", "u", NULL, 0, true}};
static const col_spec DV[] = {{"storageType", "u", NULL, 0, true},
                              {"pathOrInlineDv", "u", NULL, 0, true},
                              {"offset", "i", NULL, 0, true},
                              {"sizeInBytes", "i", NULL, 0, true},
                              {"cardinality", "l", NULL, 0, true}};
static const col_spec TXN[] = {{"appId", "u", NULL, 0, true},
                               {"version", "l", NULL, 0, true},
                               {"lastUpdated", "l", NULL, 0, true}};
static const col_spec ADD[] = {
    {"path", "u", NULL, 0, true},       {"partitionValues", "+m", MAP_SS, 1, true},
    {"size", "l", NULL, 0, true},       {"modificationTime", "l", NULL, 0, true},
    {"dataChange", "b", NULL, 0, true}, {"stats", "u", NULL, 0, true},
    {"tags", "+m", MAP_SS, 1, true},    {"deletionVector", "+s", DV, N(DV), true}};
static const col_spec REMOVE[] = {{"path", "u", NULL, 0, true},
                                  {"deletionTimestamp", "l", NULL, 0, true},
                                  {"dataChange", "b", NULL, 0, true},
                                  {"extendedFileMetadata", "b", NULL, 0, true},
                                  {"partitionValues", "+m", MAP_SS, 1, true},
                                  {"size", "l", NULL, 0, true},
                                  {"deletionVector", "+s", DV, N(DV), true}};
static const col_spec FORMAT[] = {{"provider", "u", NULL, 0, true},
                                  {"options", "+m", MAP_SS, 1, true}};
static const col_spec META[] = {{"id", "u", NULL, 0, true},
                                {"name", "u", NULL, 0, true},
                                {"description", "u", NULL, 0, true},
                                {"format", "+s", FORMAT, N(FORMAT), true},
                                {"schemaString", "u", NULL, 0, true},
                                {"partitionColumns", "+l", LIST_S, 1, true},
                                {"configuration", "+m", MAP_SS, 1, true},
                                {"createdTime", "l", NULL, 0, true}};
static const col_spec PROTO[] = {{"minReaderVersion", "i", NULL, 0, true},
                                 {"minWriterVersion", "i", NULL, 0, true},
                                 {"readerFeatures", "+l", LIST_S, 1, true},
                                 {"writerFeatures", "+l", LIST_S, 1, true}};
static const col_spec TOP[] = {{"txn", "+s", TXN, N(TXN), true},
                               {"add", "+s", ADD, N(ADD), true},
                               {"remove", "+s", REMOVE, N(REMOVE), true},
                               {"metaData", "+s", META, N(META), true},
                               {"protocol", "+s", PROTO, N(PROTO), true}};
static const col_spec ROOT = {"checkpoint", "+s", TOP, N(TOP), false};

static int build_schema(struct ArrowSchema *out, const col_spec *s)
{
    int rc = pond_arrow_schema_init(out, s->format, s->name, s->nullable ? ARROW_FLAG_NULLABLE : 0,
                                    s->n_children);
    for (int i = 0; rc == 0 && i < s->n_children; i++)
        rc = build_schema(out->children[i], &s->children[i]);
    if (rc < 0)
        pond_arrow_schema_release(out);
    return rc;
}

static bool present(const json_t *v) { return v && !json_is_null(v); }

static int validity(struct ArrowArray *a, const json_t *const *v, size_t n, int64_t *nulls)
{
    *nulls = 0;
    for (size_t i = 0; i < n; i++)
        *nulls += !present(v[i]);
    if (!*nulls)
        return 0;
    uint8_t *bm = pond_arrow_array_alloc_buffer(a, 0, (n + 7) / 8);
    if (!bm)
        return POND_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (present(v[i]))
            bm[i / 8] |= (uint8_t)(1u << (i % 8));
    a->null_count = *nulls;
    return 0;
}

/* Column `s` of n rows whose JSON values are v[i] (NULL or JSON null = null). */
static int build_array(struct ArrowArray *out, const col_spec *s, const json_t *const *v, size_t n)
{
    int rc = 0;
    int64_t nulls;
    if (s->format[0] != '+') {
        pond_arrow_builder *b = NULL;
        if ((rc = pond_arrow_builder_new(&b, s->format)) < 0)
            return rc;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const json_t *x = v[i];
            if (s->format[0] == 'u' && json_is_string(x))
                rc =
                    pond_arrow_builder_append_bytes(b, json_string_value(x), json_string_length(x));
            else if ((s->format[0] == 'l' || s->format[0] == 'i') && json_is_integer(x))
                rc = pond_arrow_builder_append_int(b, (int64_t)json_integer_value(x));
            else if (s->format[0] == 'b' && json_is_boolean(x))
                rc = pond_arrow_builder_append_bool(b, json_is_true(x));
            else
                rc = pond_arrow_builder_append_null(b);
        }
        if (rc == 0)
            rc = pond_arrow_builder_finish(out, b);
        pond_arrow_builder_free(b);
        return rc;
    }
    if (!strcmp(s->format, "+s")) {
        if ((rc = pond_arrow_array_init(out, (int64_t)n, 0, 1, s->n_children)) < 0)
            return rc;
        const json_t **cv = pond_calloc(n ? n : 1, sizeof *cv);
        if (!cv)
            rc = POND_ENOMEM;
        if (rc == 0)
            rc = validity(out, v, n, &nulls);
        for (int c = 0; rc == 0 && c < s->n_children; c++) {
            for (size_t i = 0; i < n; i++)
                cv[i] = present(v[i]) ? json_object_get(v[i], s->children[c].name) : NULL;
            rc = build_array(out->children[c], &s->children[c], cv, n);
        }
        pond_free(cv);
        if (rc < 0)
            pond_arrow_array_release(out);
        return rc;
    }
    /* list (JSON array) or map (JSON object of strings): offsets + one child */
    bool map = !strcmp(s->format, "+m");
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += !present(v[i]) ? 0 : map ? json_object_size(v[i]) : json_array_size(v[i]);
    if (total > INT32_MAX)
        return pond_error_set(POND_EINVALID, POND_DOM_DELTA, "checkpoint column too large");
    if ((rc = pond_arrow_array_init(out, (int64_t)n, 0, 2, 1)) < 0)
        return rc;
    int32_t *off = pond_arrow_array_alloc_buffer(out, 1, (n + 1) * sizeof(int32_t));
    const json_t **cv = pond_calloc(total ? total : 1, sizeof *cv);
    json_t **keys = map ? pond_calloc(total ? total : 1, sizeof *keys) : NULL;
    if (!off || !cv || (map && !keys))
        rc = POND_ENOMEM;
    if (rc == 0)
        rc = validity(out, v, n, &nulls);
    size_t k = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        off[i] = (int32_t)k;
        if (!present(v[i]))
            continue;
        if (!map) {
            for (size_t e = 0; e < json_array_size(v[i]); e++)
                cv[k++] = json_array_get(v[i], e);
            continue;
        }
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v[i], key, val)
        {
            /* one {"key":..,"value":..} object per entry, for the entries struct */
            json_t *kv = json_pack("{s:s,s:O}", "key", key, "value", val);
            if (!kv) {
                rc = pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "out of memory");
                break;
            }
            keys[k] = kv;
            cv[k++] = kv;
        }
    }
    if (rc == 0) {
        off[n] = (int32_t)k;
        rc = build_array(out->children[0], &s->children[0], cv, k);
    }
    for (size_t i = 0; keys && i < k; i++)
        json_decref(keys[i]);
    pond_free(keys);
    pond_free(cv);
    if (rc < 0)
        pond_arrow_array_release(out);
    return rc;
}

/* ------------------------------------------------------------------ rows */

typedef struct {
    json_t **v;
    size_t n, cap;
} row_list;

static int row_push(row_list *r, json_t *row)
{
    if (!row)
        return pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "out of memory building checkpoint");
    if (POND_GROW(r->v, r->n, r->cap) < 0) {
        json_decref(row);
        return POND_ENOMEM;
    }
    r->v[r->n++] = row;
    return 0;
}

static json_t *kv_json(const pond_delta_kv *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, kv[i].key, kv[i].value ? json_string(kv[i].value) : json_null());
    return o;
}

static json_t *dv_json(const pond_delta_dv *dv)
{
    char st[2] = {dv->storage_type, '\0'};
    json_t *o = json_pack("{s:s,s:s,s:I,s:I}", "storageType", st, "pathOrInlineDv",
                          dv->path_or_inline, "sizeInBytes", (json_int_t)dv->size_in_bytes,
                          "cardinality", (json_int_t)dv->cardinality);
    if (o && dv->offset >= 0)
        json_object_set_new(o, "offset", json_integer(dv->offset));
    return o;
}

static int collect_rows(row_list *rows, const pond_delta_table *t)
{
    int rc = 0;
    const char *ret = pond_delta_table_config(t, "pond.tombstone_retention_ms");
    int64_t retention_ms = ret ? strtoll(ret, NULL, 10) : -1;
    int64_t now_ms = pond__now_us() / 1000;
    if ((rc = row_push(rows, json_pack("{s:O}", "protocol", t->protocol_json))) < 0 ||
        (rc = row_push(rows, json_pack("{s:O}", "metaData", t->metadata_json))) < 0)
        return rc;
    for (size_t i = 0; i < t->n_txns; i++) {
        json_t *x = json_pack("{s:{s:s,s:I}}", "txn", "appId", t->txns[i].app_id, "version",
                              (json_int_t)t->txns[i].version);
        if ((rc = row_push(rows, x)) < 0)
            return rc;
    }
    for (size_t i = 0; i < t->n_files; i++) {
        const delta_file_entry *e = &t->files[i];
        const pond_delta_file *f = &e->pub;
        json_t *a;
        if (e->live) {
            a = json_pack("{s:s,s:o,s:I,s:I,s:b}", "path", f->path, "partitionValues",
                          kv_json(f->partition_values, f->n_partition_values), "size",
                          (json_int_t)f->size, "modificationTime", (json_int_t)f->modification_time,
                          "dataChange", 0);
            if (a && f->stats)
                json_object_set_new(a, "stats", json_string(f->stats));
            if (a && f->n_tags)
                json_object_set_new(a, "tags", kv_json(f->tags, f->n_tags));
            if (a && f->deletion_vector)
                json_object_set_new(a, "deletionVector", dv_json(f->deletion_vector));
            a = a ? json_pack("{s:o}", "add", a) : NULL;
        } else if (e->removed_in >= 0) {
            /* tombstones stay until their retention expires: pond.tombstone_retention_ms when
             * the table sets it (ponds do), otherwise forever */
            if (retention_ms >= 0 && e->deletion_timestamp < now_ms - retention_ms)
                continue;
            a = json_pack("{s:s,s:I,s:b}", "path", f->path, "deletionTimestamp",
                          (json_int_t)e->deletion_timestamp, "dataChange", 0);
            if (a && *e->dv_key && e->pub.deletion_vector)
                json_object_set_new(a, "deletionVector", dv_json(e->pub.deletion_vector));
            a = a ? json_pack("{s:o}", "remove", a) : NULL;
        } else {
            continue;
        }
        if ((rc = row_push(rows, a)) < 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ write */

static atomic_uint g_cp_seq;

/* Whether path may be replaced by rename: absent, or a regular file. Anything else at one of
 * the log's own names (a link, a FIFO, a directory) is not the table's to replace: a writer
 * never renames over a foreign entry (docs/format.md, "Pond's own names"). *ok_out false then,
 * with the message set (POND_ECORRUPT) for a caller that reports it. */
static int replaceable(bool *ok_out, const char *path)
{
    struct stat st;
    *ok_out = true;
    if (pond__os_lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : pond_error_set_os(POND_DOM_DELTA, "stat '%s'", path);
    if (S_ISREG(st.st_mode))
        return 0;
    *ok_out = false;
    pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                   "'%s' is %s: pond replaces only its own regular file there (remove it, then "
                   "run pond fsck --repair again)",
                   path, pond__file_kind(st.st_mode));
    return 0;
}

/* Writes _last_checkpoint through tmp (paths allocated by the caller before the checkpoint was
 * published, so nothing after the link can fail for lack of memory). A foreign entry at
 * _last_checkpoint is left alone: every reader skips it (it is only a hint), so a plain
 * checkpoint goes on without it, and a repair (strict) says so. */
static int publish_last_checkpoint(const char *log_dir, const char *tmp, const char *final,
                                   int64_t version, size_t size, int64_t bytes, size_t n_add,
                                   bool strict)
{
    char text[256];
    snprintf(text, sizeof text,
             "{\"version\":%" PRId64 ",\"size\":%zu,\"sizeInBytes\":%" PRId64
             ",\"numOfAddFiles\":%zu}\n",
             version, size, bytes, n_add);
    bool ok;
    int rc = replaceable(&ok, final);
    if (rc < 0 || !ok)
        return rc < 0 ? rc : strict ? POND_ECORRUPT : 0;
    int fd = -1;
    /* created here or not at all: an entry already at the temp name is never written through */
    rc = pond__open(&fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644, POND_DOM_DELTA);
    if (rc < 0)
        return rc;
    rc = pond__write_all(fd, text, strlen(text), tmp, POND_DOM_DELTA);
    if (rc == 0)
        rc = pond__fsync(fd, tmp, POND_DOM_DELTA);
    pond__close(fd);
    /* _last_checkpoint is only a hint, so replacing it by rename is safe */
    if (rc == 0 && pond__os_rename(tmp, final) < 0)
        rc = pond_error_set_os(POND_DOM_DELTA, "rename '%s' to '%s'", tmp, final);
    if (rc < 0)
        (void)pond__os_unlink(tmp);
    if (rc == 0)
        rc = pond__fsync_dir(log_dir, POND_DOM_DELTA);
    return rc;
}

/* A Parquet sink over a file descriptor this file opened. */
typedef struct {
    int fd;
    const char *path;
} fd_sink;

static int fd_sink_write(const void *data, size_t len, void *payload)
{
    fd_sink *f = payload;
    return pond__write_all(f->fd, data, len, f->path, POND_DOM_DELTA);
}

static int fd_sink_sync(void *payload)
{
    fd_sink *f = payload;
    return pond__fsync(f->fd, f->path, POND_DOM_DELTA);
}

/* Writes the checkpoint's Parquet file to tmp, created exclusively and never through a link
 * (*created_out once it exists: the caller removes it on failure), fsynced. */
static int write_temp(int64_t *bytes_out, bool *created_out, const char *tmp,
                      const struct ArrowSchema *schema, const struct ArrowArray *batch)
{
    int fd = -1;
    int rc = pond__open(&fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644, POND_DOM_DELTA);
    if (rc < 0)
        return rc;
    *created_out = true;
    fd_sink fs = {fd, tmp};
    pond_parquet_sink sink = {fd_sink_write, fd_sink_sync, &fs};
    pond_parquet_writer_options opts = POND_PARQUET_WRITER_OPTIONS_INIT;
    pond_parquet_writer *w = NULL;
    rc = pond_parquet_writer_new(&w, &sink, schema, &opts);
    if (rc == 0)
        rc = pond_parquet_writer_write(w, batch);
    if (rc == 0)
        rc = pond_parquet_writer_finish(w);
    pond_parquet_writer_free(w);
    if (rc == 0)
        rc = pond__file_size(bytes_out, fd, tmp, POND_DOM_DELTA);
    pond__close(fd);
    return rc;
}

/* Is there a checkpoint newer than version (then _last_checkpoint must keep naming it)? */
static int newer_checkpoint(bool *out, const char *log_dir, int64_t version)
{
    delta_log_list l = {0};
    int rc = pond_delta__log_list(&l, log_dir);
    *out = false;
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        *out |= l.v[i].kind != DELTA_LOG_COMMIT && l.v[i].version > version;
    pond_delta__log_list_dispose(&l);
    return rc;
}

static int checkpoint_write(const pond_delta_table *t, bool replace)
{
    /* a snapshot opened without stats would write a checkpoint that lost them */
    POND_ASSERT_ARG(t && t->protocol_json && t->metadata_json && !t->skip_stats);
    row_list rows = {0};
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    char *log_dir = pond__path_join(t->dir, "_delta_log"), *tmp = NULL, *final = NULL;
    char *lc_tmp = NULL, *lc_final = NULL;
    char name[96];
    int rc = log_dir ? 0 : POND_ENOMEM;
    bool linked = false, created = false;
    if (rc == 0)
        rc = collect_rows(&rows, t);
    if (rc == 0)
        rc = build_schema(&schema, &ROOT);
    if (rc == 0)
        rc = build_array(&batch, &ROOT, (const json_t *const *)rows.v, rows.n);
    if (rc < 0)
        goto done;
    snprintf(name, sizeof name, ".tmp-%020" PRId64 ".checkpoint-%ld-%u.parquet", t->version,
             (long)getpid(), atomic_fetch_add(&g_cp_seq, 1u));
    tmp = pond__path_join(log_dir, name);
    snprintf(name, sizeof name, "%020" PRId64 ".checkpoint.parquet", t->version);
    final = pond__path_join(log_dir, name);
    snprintf(name, sizeof name, ".tmp-last-checkpoint-%ld-%u", (long)getpid(),
             atomic_fetch_add(&g_cp_seq, 1u));
    lc_tmp = pond__path_join(log_dir, name);
    lc_final = pond__path_join(log_dir, "_last_checkpoint");
    if (!tmp || !final || !lc_tmp || !lc_final) {
        rc = POND_ENOMEM;
        goto done;
    }
    int64_t bytes = 0;
    if ((rc = write_temp(&bytes, &created, tmp, &schema, &batch)) < 0)
        goto done;
    if (replace) {
        /* a checkpoint holds nothing the commits do not: replacing one atomically is safe,
         * but only a regular file is the table's to replace */
        bool ok;
        if ((rc = replaceable(&ok, final)) < 0 || (!ok && (rc = POND_ECORRUPT) < 0))
            goto done;
        if (pond__os_rename(tmp, final) < 0) {
            rc = pond_error_set_os(POND_DOM_DELTA, "rename '%s' to '%s'", tmp, final);
            goto done;
        }
    } else if (pond__os_link(tmp, final) < 0) {
        rc = errno == EEXIST ? pond_error_set(POND_EEXISTS, POND_DOM_DELTA,
                                              "checkpoint %" PRId64 " already exists", t->version)
                             : pond_error_set_os(POND_DOM_DELTA, "link '%s'", final);
        goto done;
    }
    linked = true;
    if (!replace)
        (void)pond__os_unlink(tmp);
    if ((rc = pond__fsync_dir(log_dir, POND_DOM_DELTA)) < 0)
        goto done;
    bool newer = false;
    if (replace && (rc = newer_checkpoint(&newer, log_dir, t->version)) < 0)
        goto done;
    if (!newer)
        rc = publish_last_checkpoint(log_dir, lc_tmp, lc_final, t->version, rows.n, bytes,
                                     t->n_live, replace);
done:
    if (created && !linked)
        (void)pond__os_unlink(tmp);
    pond_arrow_array_release(&batch);
    pond_arrow_schema_release(&schema);
    for (size_t i = 0; i < rows.n; i++)
        json_decref(rows.v[i]);
    pond_free(rows.v);
    pond_free(log_dir);
    pond_free(tmp);
    pond_free(final);
    pond_free(lc_tmp);
    pond_free(lc_final);
    return rc;
}

int pond_delta_checkpoint_write(const pond_delta_table *t) { return checkpoint_write(t, false); }

int pond_delta__rows_parquet(const char *path, const delta_col_spec *root, const char *const *rows,
                             size_t n)
{
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    json_t **v = pond_calloc(n ? n : 1, sizeof *v);
    int rc = v ? 0 : POND_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!(v[i] = pond__json_parse(rows[i], strlen(rows[i]), 0, "row", POND_DOM_DELTA)))
            rc = pond_error_last()->code;
    if (rc == 0)
        rc = build_schema(&schema, root);
    if (rc == 0)
        rc = build_array(&batch, root, (const json_t *const *)v, n);
    bool created = false;
    int64_t bytes;
    if (rc == 0 && (rc = write_temp(&bytes, &created, path, &schema, &batch)) < 0 && created)
        (void)pond__os_unlink(path);
    pond_arrow_array_release(&batch);
    pond_arrow_schema_release(&schema);
    for (size_t i = 0; v && i < n; i++)
        json_decref(v[i]);
    pond_free(v);
    return rc;
}

int pond_delta_checkpoint_rewrite(const pond_delta_table *t) { return checkpoint_write(t, true); }
