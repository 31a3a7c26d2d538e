/* The write side: an action builder and the put-if-absent commit. */
#include "delta/delta_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct pond_delta_actions {
    json_t **v; /* each {"<action>": {...}} */
    size_t n, cap;
    bool has_protocol, has_metadata, has_commit_info;
};

int pond_delta_actions_new(pond_delta_actions **out)
{
    POND_ASSERT_ARG(out);
    *out = pond_calloc(1, sizeof **out);
    return *out ? 0 : POND_ENOMEM;
}

void pond_delta_actions_free(pond_delta_actions *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        json_decref(a->v[i]);
    pond_free(a->v);
    pond_free(a);
}

size_t pond_delta_actions_count(const pond_delta_actions *a) { return a ? a->n : 0; }

static int oom(void)
{
    return pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "out of memory building delta actions");
}

/* Takes the reference to body in all cases. */
static int push(pond_delta_actions *a, const char *kind, json_t *body)
{
    json_t *root = json_object();
    if (json_object_set_new(root, kind, body) < 0) {
        json_decref(root);
        return POND_ENOMEM;
    }
    if (POND_GROW(a->v, a->n, a->cap) < 0) {
        json_decref(root);
        return POND_ENOMEM;
    }
    a->v[a->n++] = root;
    return 0;
}

/* json_object_set_new that tracks failure: *ok turns false and the value is released. */
/* json_object_set_new consumes v even when it fails (including o == NULL or v == NULL). */
static void put(json_t *o, const char *k, json_t *v, bool *ok)
{
    if (json_object_set_new(o, k, v) < 0)
        *ok = false;
}

static json_t *str_array(const char *const *v, size_t n, bool *ok)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        if (!v[i] || json_array_append_new(arr, json_string(v[i])) < 0) {
            *ok = false;
            break;
        }
    }
    if (!arr)
        *ok = false;
    return arr;
}

static json_t *kv_object(const pond_delta_kv *kv, size_t n, bool *ok)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        put(o, kv[i].key, kv[i].value ? json_string(kv[i].value) : json_null(), ok);
    if (!o)
        *ok = false;
    return o;
}

int pond_delta_actions_protocol(pond_delta_actions *a, int32_t min_reader, int32_t min_writer,
                                const char *const *reader_features, size_t n_reader,
                                const char *const *writer_features, size_t n_writer)
{
    POND_ASSERT_ARG(a && min_reader >= 1 && min_writer >= 1);
    if (a->has_protocol)
        return pond_error_set(POND_EINVALID, POND_DOM_DELTA, "a commit carries one protocol");
    if ((min_reader == 3 && !reader_features) || (min_writer == 7 && !writer_features))
        return pond_error_set(POND_EINVALID, POND_DOM_DELTA,
                              "protocol %d/%d requires feature lists", min_reader, min_writer);
    bool ok = true;
    json_t *p = json_object();
    put(p, "minReaderVersion", json_integer(min_reader), &ok);
    put(p, "minWriterVersion", json_integer(min_writer), &ok);
    if (reader_features)
        put(p, "readerFeatures", str_array(reader_features, n_reader, &ok), &ok);
    if (writer_features)
        put(p, "writerFeatures", str_array(writer_features, n_writer, &ok), &ok);
    if (!ok) {
        json_decref(p);
        return oom();
    }
    int rc = push(a, "protocol", p);
    a->has_protocol = rc == 0;
    return rc;
}

int pond_delta_actions_metadata(pond_delta_actions *a, const pond_delta_metadata_desc *m)
{
    POND_ASSERT_ARG(a && m && m->id && m->schema_string);
    if (a->has_metadata)
        return pond_error_set(POND_EINVALID, POND_DOM_DELTA, "a commit carries one metaData");
    /* the schema must be one our own reader accepts, and name every partition column */
    delta_arena arena = {0};
    const pond_delta_type *schema;
    int rc =
        pond_delta__schema_parse(&schema, &arena, m->schema_string, POND_DELTA_COLUMN_MAPPING_NONE);
    for (size_t i = 0; rc == 0 && i < m->n_partition_columns; i++) {
        bool found = false;
        for (size_t k = 0; k < schema->n_fields && !found; k++)
            found =
                m->partition_columns[i] && !strcmp(schema->fields[k].name, m->partition_columns[i]);
        if (!found)
            rc = pond_error_set(POND_EINVALID, POND_DOM_DELTA,
                                "partition column '%s' is not in the schema",
                                m->partition_columns[i] ? m->partition_columns[i] : "(null)");
    }
    pond__arena_dispose(&arena);
    if (rc == POND_ECORRUPT) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", pond_error_last()->message);
        return pond_error_set(POND_EINVALID, POND_DOM_DELTA, "%s", msg);
    }
    if (rc < 0)
        return rc;
    bool ok = true;
    json_t *md = json_object();
    put(md, "id", json_string(m->id), &ok);
    if (m->name)
        put(md, "name", json_string(m->name), &ok);
    if (m->description)
        put(md, "description", json_string(m->description), &ok);
    json_t *fmt = json_object();
    put(fmt, "provider", json_string("parquet"), &ok);
    put(fmt, "options", json_object(), &ok);
    put(md, "format", fmt, &ok);
    put(md, "schemaString", json_string(m->schema_string), &ok);
    put(md, "partitionColumns", str_array(m->partition_columns, m->n_partition_columns, &ok), &ok);
    put(md, "configuration", kv_object(m->configuration, m->n_configuration, &ok), &ok);
    if (m->created_time >= 0)
        put(md, "createdTime", json_integer(m->created_time), &ok);
    if (!ok) {
        json_decref(md);
        return oom();
    }
    rc = push(a, "metaData", md);
    a->has_metadata = rc == 0;
    return rc;
}

static int check_path(const char *path)
{
    char *enc = NULL, *dec = NULL;
    int rc = pond_delta_path_encode(&enc, path);
    if (rc == 0)
        rc = pond_delta_path_decode(&dec, enc);
    if (rc == 0 && strcmp(dec, path) != 0)
        rc = pond_error_set(POND_EINVALID, POND_DOM_DELTA, "path '%s' does not round-trip", path);
    pond_free(enc);
    pond_free(dec);
    if (rc == POND_ECORRUPT || rc == POND_EUNSUPPORTED)
        rc = pond_error_set(POND_EINVALID, POND_DOM_DELTA,
                            "data file path '%s' must be relative, without '.', '..' or empty "
                            "components",
                            path);
    return rc;
}

static json_t *file_body(const pond_delta_file_desc *f, bool add, bool *ok)
{
    char *enc = NULL;
    if (pond_delta_path_encode(&enc, f->path) < 0) {
        *ok = false;
        return NULL;
    }
    json_t *o = json_object();
    put(o, "path", json_string(enc), ok);
    pond_free(enc);
    if (add || f->n_partition_values)
        put(o, "partitionValues", kv_object(f->partition_values, f->n_partition_values, ok), ok);
    if (add || f->size >= 0)
        put(o, "size", json_integer(f->size), ok);
    if (add)
        put(o, "modificationTime", json_integer(f->modification_time), ok);
    else
        put(o, "deletionTimestamp", json_integer(f->deletion_timestamp), ok);
    put(o, "dataChange", json_boolean(f->data_change), ok);
    if (!add)
        put(o, "extendedFileMetadata", json_boolean(f->n_partition_values > 0 || f->size >= 0), ok);
    if (add && f->stats)
        put(o, "stats", json_string(f->stats), ok);
    if (f->n_tags)
        put(o, "tags", kv_object(f->tags, f->n_tags, ok), ok);
    if (!o)
        *ok = false;
    return o;
}

static int add_file(pond_delta_actions *a, const pond_delta_file_desc *f, bool add)
{
    POND_ASSERT_ARG(a && f && f->path);
    int rc = check_path(f->path);
    if (rc < 0)
        return rc;
    if (add && f->size < 0)
        return pond_error_set(POND_EINVALID, POND_DOM_DELTA, "add %s: negative size", f->path);
    if (add && f->stats) {
        json_t *s = pond__json_parse(f->stats, strlen(f->stats), JSON_DECODE_INT_AS_REAL, "stats",
                                     POND_DOM_DELTA);
        bool obj = json_is_object(s);
        json_decref(s);
        if (!obj)
            return pond_error_last()->code == POND_ENOMEM
                       ? POND_ENOMEM
                       : pond_error_set(POND_EINVALID, POND_DOM_DELTA,
                                        "add %s: stats is not a JSON object", f->path);
    }
    bool ok = true;
    json_t *body = file_body(f, add, &ok);
    if (!ok) {
        json_decref(body);
        return oom();
    }
    return push(a, add ? "add" : "remove", body);
}

int pond_delta_actions_add(pond_delta_actions *a, const pond_delta_file_desc *f)
{
    return add_file(a, f, true);
}

int pond_delta_actions_remove(pond_delta_actions *a, const pond_delta_file_desc *f)
{
    return add_file(a, f, false);
}

int pond_delta_actions_txn(pond_delta_actions *a, const char *app_id, int64_t version,
                           int64_t last_updated)
{
    POND_ASSERT_ARG(a && app_id);
    bool ok = true;
    json_t *o = json_object();
    put(o, "appId", json_string(app_id), &ok);
    put(o, "version", json_integer(version), &ok);
    if (last_updated >= 0)
        put(o, "lastUpdated", json_integer(last_updated), &ok);
    if (!ok) {
        json_decref(o);
        return oom();
    }
    return push(a, "txn", o);
}

static int parse_object_arg(json_t **out, const char *text, const char *what)
{
    *out = NULL;
    if (!text)
        return 0;
    json_t *j = pond__json_parse(text, strlen(text), 0, what, POND_DOM_DELTA);
    if (!j)
        return pond_error_last()->code == POND_ENOMEM
                   ? POND_ENOMEM
                   : pond_error_set(POND_EINVALID, POND_DOM_DELTA, "%s is not valid JSON", what);
    if (!json_is_object(j)) {
        json_decref(j);
        return pond_error_set(POND_EINVALID, POND_DOM_DELTA, "%s is not a JSON object", what);
    }
    *out = j;
    return 0;
}

int pond_delta_actions_commit_info(pond_delta_actions *a, int64_t timestamp_ms,
                                   const char *operation, const char *operation_parameters_json,
                                   const char *extra_json)
{
    POND_ASSERT_ARG(a && operation);
    if (a->has_commit_info)
        return pond_error_set(POND_EINVALID, POND_DOM_DELTA, "a commit carries one commitInfo");
    json_t *params = NULL, *extra = NULL;
    int rc;
    if ((rc = parse_object_arg(&params, operation_parameters_json, "operationParameters")) < 0)
        return rc;
    if ((rc = parse_object_arg(&extra, extra_json, "commitInfo extra fields")) < 0) {
        json_decref(params);
        return rc;
    }
    bool ok = true;
    json_t *o = json_object();
    put(o, "timestamp", json_integer(timestamp_ms), &ok);
    put(o, "operation", json_string(operation), &ok);
    put(o, "operationParameters", params ? params : json_object(), &ok);
    if (extra && o && json_object_update_missing(o, extra) < 0)
        ok = false;
    json_decref(extra);
    if (!ok) {
        json_decref(o);
        return oom();
    }
    /* commitInfo leads the commit, as Spark and delta-rs write it */
    rc = push(a, "commitInfo", o);
    if (rc == 0) {
        json_t *ci = a->v[a->n - 1];
        memmove(a->v + 1, a->v, (a->n - 1) * sizeof *a->v);
        a->v[0] = ci;
    }
    a->has_commit_info = rc == 0;
    return rc;
}

int pond_delta_actions_to_json(pond_buf *out, const pond_delta_actions *a)
{
    POND_ASSERT_ARG(out && a);
    for (size_t i = 0; i < a->n; i++) {
        int rc = pond__json_dump_buf(out, a->v[i], 0);
        if (rc < 0 || (rc = pond_buf_putc(out, '\n')) < 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ commit */

static atomic_uint g_tmp_seq;

int pond_delta_commit_write(const char *dir, int64_t version, const pond_delta_actions *a)
{
    return pond_delta_commit_write_hook(dir, version, a, NULL, NULL);
}

int pond_delta_commit_write_hook(const char *dir, int64_t version, const pond_delta_actions *a,
                                 int (*before_sync)(void *payload), void *payload)
{
    POND_ASSERT_ARG(dir && a && version >= 0);
    if (!a->n)
        return pond_error_set(POND_EINVALID, POND_DOM_DELTA, "commit %" PRId64 " has no actions",
                              version);
    if (version == 0 && (!a->has_protocol || !a->has_metadata))
        return pond_error_set(POND_EINVALID, POND_DOM_DELTA,
                              "commit 0 must carry protocol and metaData");
    pond_buf json = POND_BUF_INIT;
    char *log_dir = NULL, *final = NULL, *tmp = NULL;
    char name[64];
    int fd = -1, rc;
    bool linked = false;
    if ((rc = pond_delta_actions_to_json(&json, a)) < 0)
        goto done;
    if (!(log_dir = pond__path_join(dir, "_delta_log"))) {
        rc = POND_ENOMEM;
        goto done;
    }
    struct stat st;
    if (pond__os_stat(log_dir, &st) < 0) {
        if ((rc = pond__mkdir(log_dir, true, POND_DOM_DELTA)) < 0 ||
            (rc = pond__fsync_dir(dir, POND_DOM_DELTA)) < 0)
            goto done;
    }
    if (version > 0) {
        /* never leave a gap: the previous version must be there (as a commit or checkpoint) */
        char prev[64], prev_cp[64];
        snprintf(prev, sizeof prev, "%020" PRId64 ".json", version - 1);
        snprintf(prev_cp, sizeof prev_cp, "%020" PRId64 ".checkpoint.parquet", version - 1);
        char *pp = pond__path_join(log_dir, prev), *pc = pond__path_join(log_dir, prev_cp);
        bool oom = !pp || !pc;
        bool ok = !oom && (pond__os_stat(pp, &st) == 0 || pond__os_stat(pc, &st) == 0);
        pond_free(pp);
        pond_free(pc);
        if (!ok) {
            rc = oom ? POND_ENOMEM
                     : pond_error_set(POND_EINVALID, POND_DOM_DELTA,
                                      "cannot write version %" PRId64 ": version %" PRId64
                                      " does not exist in '%s'",
                                      version, version - 1, log_dir);
            goto done;
        }
    }
    snprintf(name, sizeof name, "%020" PRId64 ".json", version);
    if (!(final = pond__path_join(log_dir, name))) {
        rc = POND_ENOMEM;
        goto done;
    }
    snprintf(name, sizeof name, ".tmp-%020" PRId64 "-%ld-%u.json", version, (long)getpid(),
             atomic_fetch_add(&g_tmp_seq, 1u));
    if (!(tmp = pond__path_join(log_dir, name))) {
        rc = POND_ENOMEM;
        goto done;
    }
    if ((rc = pond__open(&fd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644, POND_DOM_DELTA)) < 0)
        goto done;
    if ((rc = pond__write_all(fd, json.ptr, json.size, tmp, POND_DOM_DELTA)) < 0 ||
        (before_sync && (rc = before_sync(payload)) < 0) ||
        (rc = pond__fsync(fd, tmp, POND_DOM_DELTA)) < 0)
        goto done;
    pond__close(fd);
    fd = -1;
    /* put-if-absent: link() fails with EEXIST when another writer owns the version */
    if (pond__os_link(tmp, final) < 0) {
        if (errno == EEXIST)
            rc = pond_error_set(POND_ECONFLICT, POND_DOM_DELTA,
                                "version %" PRId64 " already exists in '%s'", version, log_dir);
        else
            rc = pond_error_set_os(POND_DOM_DELTA, "link '%s' to '%s'", tmp, final);
        goto done;
    }
    linked = true;
    (void)pond__os_unlink(tmp); /* a leftover temp is harmless: gc removes stale ones */
    if ((rc = pond__fsync_dir(log_dir, POND_DOM_DELTA)) < 0) {
        /* Not known durable: withdraw the commit rather than report failure for a version that
         * may later appear to be ours -- the caller would garbage-collect files it references. */
        if (pond__os_unlink(final) == 0)
            (void)pond__fsync_dir(log_dir, POND_DOM_DELTA);
        goto done_tmp_gone;
    }
    rc = 0;
    goto done_tmp_gone;
done:
    pond__close(fd);
    if (tmp && !linked)
        (void)pond__os_unlink(tmp);
done_tmp_gone:
    pond_buf_dispose(&json);
    pond_free(log_dir);
    pond_free(final);
    pond_free(tmp);
    return rc;
}
