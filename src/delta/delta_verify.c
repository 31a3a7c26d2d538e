/* Checks beyond the log: data files on disk, stats, the version checksum; commitInfo lookup. */
#include "delta/delta_table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int parse_stats(json_t **out, const pond_delta_file *f)
{
    char where[64];
    snprintf(where, sizeof where, "stats");
    /* integers as reals: decimal bounds may exceed 64 bits and must not make stats "invalid" */
    json_t *j = pond__json_parse(f->stats, strlen(f->stats), JSON_DECODE_INT_AS_REAL, where,
                                 POND_DOM_DELTA);
    if (!j) {
        if (pond_error_last()->code == POND_ENOMEM)
            return POND_ENOMEM;
        char why[256]; /* the message buffer is about to be rewritten */
        snprintf(why, sizeof why, "%s", pond_error_last()->message);
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "file %s: stats is not valid JSON (%s)", f->path, why);
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "file %s: stats is not valid JSON (not an object)", f->path);
    }
    *out = j;
    return 0;
}

int pond_delta_file_num_records(int64_t *num_out, const pond_delta_file *f)
{
    POND_ASSERT_ARG(num_out && f);
    if (!f->stats)
        return pond_error_set(POND_ENOTFOUND, POND_DOM_DELTA, "file %s has no stats", f->path);
    json_t *j;
    int rc = parse_stats(&j, f);
    if (rc < 0)
        return rc;
    json_t *n = json_object_get(j, "numRecords");
    if (!n || json_is_null(n)) {
        rc = pond_error_set(POND_ENOTFOUND, POND_DOM_DELTA, "file %s: stats without numRecords",
                            f->path);
    } else {
        double d = json_number_value(n);
        if (!json_is_number(n) || d < 0 || d > 9007199254740992.0 || d != (double)(int64_t)d)
            rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                "file %s: stats.numRecords is not a count", f->path);
        else
            *num_out = (int64_t)d;
    }
    json_decref(j);
    return rc;
}

static int verify_file(const pond_delta_table *t, const pond_delta_file *f)
{
    char *p = pond__path_join(t->dir, f->decoded_path);
    if (!p)
        return POND_ENOMEM;
    struct stat st;
    int rc = 0;
    if (pond__os_stat(p, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                "file %s: data file does not exist (%s)", f->path, p);
        else
            rc = pond_error_set_os(POND_DOM_DELTA, "file %s: stat '%s'", f->path, p);
    } else if (!S_ISREG(st.st_mode)) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "file %s: '%s' is not a regular file",
                            f->path, p);
    } else if ((int64_t)st.st_size != f->size) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "file %s: size in log %" PRId64 " != actual file size %" PRId64,
                            f->path, f->size, (int64_t)st.st_size);
    }
    pond_free(p);
    if (rc < 0)
        return rc;
    int64_t n;
    if (f->stats) {
        rc = pond_delta_file_num_records(&n, f);
        if (rc == POND_ENOTFOUND)
            rc = 0;
        if (rc < 0)
            return rc;
    }
    if (!f->deletion_vector)
        return 0;
    if (!f->stats || pond_delta_file_num_records(&n, f) < 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "file %s: a file with a deletion vector must have stats.numRecords",
                              f->path);
    uint64_t *rows;
    size_t nrows;
    if ((rc = pond_delta_dv_read(&rows, &nrows, t, f)) < 0)
        return rc;
    if (nrows && rows[nrows - 1] >= (uint64_t)n)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "file %s: deletion vector deletes row %" PRIu64 " of %" PRId64, f->path,
                            rows[nrows - 1], n);
    pond_free(rows);
    return rc;
}

static int crc_mismatch(const char *name, const char *what, long long got, long long want)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: %s %lld != %lld (log replay)", name,
                          what, got, want);
}

static int verify_crc(const pond_delta_table *t)
{
    char name[40];
    snprintf(name, sizeof name, "%020" PRId64 ".crc", t->version);
    char *log_dir = pond__path_join(t->dir, "_delta_log");
    char *p = log_dir ? pond__path_join(log_dir, name) : NULL;
    pond_buf b = POND_BUF_INIT;
    json_t *j = NULL;
    int rc = 0;
    if (!p) {
        rc = POND_ENOMEM;
        goto done;
    }
    struct stat st;
    if (pond__os_stat(p, &st) < 0 && errno == ENOENT)
        goto done; /* checksums are optional */
    if ((rc = pond__read_file(&b, p, DELTA_MAX_LAST_CHECKPOINT_BYTES, POND_DOM_DELTA)) < 0)
        goto done;
    if (!(j = pond__json_parse(b.ptr ? b.ptr : "", b.size, JSON_DECODE_INT_AS_REAL, name,
                               POND_DOM_DELTA))) {
        rc = pond_error_last()->code;
        goto done;
    }
    int64_t bytes = 0;
    for (size_t i = 0; i < t->n_files; i++)
        if (t->files[i].live)
            bytes += t->files[i].pub.size;
    const json_t *v;
    if (json_is_number(v = json_object_get(j, "numFiles")) &&
        json_number_value(v) != (double)t->n_live) {
        rc = crc_mismatch(name, "numFiles", (long long)json_number_value(v), (long long)t->n_live);
        goto done;
    }
    if (json_is_number(v = json_object_get(j, "tableSizeBytes")) &&
        json_number_value(v) != (double)bytes) {
        rc = crc_mismatch(name, "tableSizeBytes", (long long)json_number_value(v), bytes);
        goto done;
    }
    if (json_is_number(v = json_object_get(j, "numMetadata")) && json_number_value(v) != 1) {
        rc = crc_mismatch(name, "numMetadata", (long long)json_number_value(v), 1);
        goto done;
    }
    if (json_is_number(v = json_object_get(j, "numProtocol")) && json_number_value(v) != 1) {
        rc = crc_mismatch(name, "numProtocol", (long long)json_number_value(v), 1);
        goto done;
    }
    const char *id = json_string_value(json_object_get(json_object_get(j, "metadata"), "id"));
    if (id && strcmp(id, t->metadata.id) != 0) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: metadata.id %s != %s", name, id,
                            t->metadata.id);
        goto done;
    }
    const json_t *pr = json_object_get(j, "protocol");
    if (json_is_object(pr) && (json_number_value(json_object_get(pr, "minReaderVersion")) !=
                                   t->protocol.min_reader_version ||
                               json_number_value(json_object_get(pr, "minWriterVersion")) !=
                                   t->protocol.min_writer_version)) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "%s: protocol versions differ from log replay", name);
        goto done;
    }
done:
    json_decref(j);
    pond_buf_dispose(&b);
    pond_free(p);
    pond_free(log_dir);
    return rc;
}

int pond_delta_table_verify(const pond_delta_table *t, unsigned flags)
{
    POND_ASSERT_ARG(t);
    int rc;
    if (flags & POND_DELTA_VERIFY_FILES) {
        for (size_t i = 0; i < t->n_files; i++) {
            if (t->files[i].live && (rc = verify_file(t, &t->files[i].pub)) < 0)
                return rc;
        }
    }
    if ((flags & POND_DELTA_VERIFY_CRC) && (rc = verify_crc(t)) < 0)
        return rc;
    return 0;
}

int pond_delta_commit_info_read(char **json_out, const char *dir, int64_t version)
{
    POND_ASSERT_ARG(json_out && dir && version >= 0);
    *json_out = NULL;
    char where[64];
    char *p = pond_delta__commit_path(dir, version);
    if (!p)
        return POND_ENOMEM;
    /* line by line: only the commitInfo line is parsed, whatever the commit's size */
    pond__lines lines;
    int rc = pond__lines_open(&lines, p, DELTA_MAX_LINE_BYTES, POND_DOM_DELTA);
    const char *s;
    size_t n;
    while (rc == 0 && (rc = pond__lines_next(&lines, &s, &n)) == 0) {
        const char *key = pond_delta__action_sniff(s, n);
        if (!key || strcmp(key, "commitInfo") != 0)
            continue;
        snprintf(where, sizeof where, "version %" PRId64 " line %lld", version,
                 (long long)lines.lineno);
        json_t *root, *body;
        delta_action_kind k;
        if ((rc = pond_delta__action_parse(&root, &k, &body, s, n, where)) < 0)
            break;
        *json_out = pond__json_dump(body, 0);
        rc = *json_out ? 1 : POND_ENOMEM;
        json_decref(root);
    }
    pond__lines_close(&lines);
    pond_free(p);
    if (rc == POND_ITEROVER)
        return pond_error_set(POND_ENOTFOUND, POND_DOM_DELTA,
                              "version %" PRId64 " has no commitInfo", version);
    return rc < 0 ? rc : 0;
}

/* The add and remove actions of one commit read through lines, one action parsed at a time. */
static int file_actions(pond__lines *lines, const char *name, pond_delta_file_action_fn fn,
                        void *payload)
{
    char where[4200];
    pond_delta_kv *tags = NULL;
    size_t tags_cap = 0;
    const char *s;
    size_t n;
    int rc;
    while ((rc = pond__lines_next(lines, &s, &n)) == 0) {
        const char *key = pond_delta__action_sniff(s, n);
        if (key && strcmp(key, "add") != 0 && strcmp(key, "remove") != 0)
            continue; /* not a file action: nothing to parse */
        while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (!n)
            continue;
        snprintf(where, sizeof where, "'%s' line %lld", name, (long long)lines->lineno);
        json_t *root, *body;
        delta_action_kind k;
        if ((rc = pond_delta__action_parse(&root, &k, &body, s, n, where)) < 0)
            break;
        bool add = k == DELTA_ACT_ADD;
        if (add)
            rc = pond_delta__check_add(body, where);
        else if (k == DELTA_ACT_REMOVE)
            rc = pond_delta__check_remove(body, where);
        if (rc == 0 && (add || k == DELTA_ACT_REMOVE)) {
            pond_delta_file_action a = {
                add, json_string_value(json_object_get(body, "path")), NULL, -1, -1, NULL, 0};
            int64_t v;
            if (pond__json_int(&v, body, "size") && v >= 0)
                a.size = v;
            if (!add && pond__json_int(&v, body, "deletionTimestamp"))
                a.deletion_timestamp = v;
            const json_t *tj = json_object_get(body, "tags");
            size_t nt = json_is_object(tj) ? json_object_size(tj) : 0;
            if (nt > tags_cap) {
                pond_delta_kv *t2 = pond_realloc(tags, nt * sizeof *t2);
                if (!t2)
                    rc = POND_ENOMEM;
                else
                    tags = t2, tags_cap = nt;
            }
            if (rc == 0 && nt) {
                const char *tk;
                json_t *tv;
                json_object_foreach((json_t *)tj, tk, tv) tags[a.n_tags++] =
                    (pond_delta_kv){tk, json_string_value(tv)};
                a.tags = tags;
            }
            char *dec = NULL;
            if (rc == 0 && (rc = pond_delta_path_decode(&dec, a.path)) < 0)
                pond_error_prefix("%s", where);
            if (rc == 0) {
                a.decoded_path = dec;
                rc = fn(&a, payload);
            }
            pond_free(dec);
        }
        json_decref(root);
        if (rc < 0)
            break;
    }
    pond_free(tags);
    return rc == POND_ITEROVER ? 0 : rc;
}

int pond_delta_commit_file_actions(const char *dir, int64_t version, pond_delta_file_action_fn fn,
                                   void *payload)
{
    POND_ASSERT_ARG(dir && version >= 0 && fn);
    char *p = pond_delta__commit_path(dir, version);
    if (!p)
        return POND_ENOMEM;
    pond__lines lines;
    int rc = pond__lines_open(&lines, p, DELTA_MAX_LINE_BYTES, POND_DOM_DELTA);
    if (rc == 0)
        rc = file_actions(&lines, p, fn, payload);
    pond__lines_close(&lines);
    pond_free(p);
    return rc;
}

int pond_delta_commit_text_file_actions(const char *text, size_t len, const char *name,
                                        pond_delta_file_action_fn fn, void *payload)
{
    POND_ASSERT_ARG((text || !len) && name && fn);
    pond__lines lines;
    pond__lines_mem(&lines, text, len, name, DELTA_MAX_LINE_BYTES, POND_DOM_DELTA);
    int rc = file_actions(&lines, name, fn, payload);
    pond__lines_close(&lines);
    return rc;
}

typedef struct {
    pond_delta_path_fn fn;
    void *payload;
} added_ctx;

static int added_only(const pond_delta_file_action *a, void *payload)
{
    added_ctx *c = payload;
    return a->add ? c->fn(a->decoded_path, c->payload) : 0;
}

int pond_delta_commit_added_paths(const char *dir, int64_t version, pond_delta_path_fn fn,
                                  void *payload)
{
    POND_ASSERT_ARG(dir && version >= 0 && fn);
    added_ctx c = {fn, payload};
    return pond_delta_commit_file_actions(dir, version, added_only, &c);
}

/* ------------------------------------------------------------------ snapshot comparison */

static bool same_str(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static bool same_kv(const pond_delta_kv *a, size_t na, const pond_delta_kv *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!same_str(a[i].key, b[i].key) || !same_str(a[i].value, b[i].value))
            return false;
    return true;
}

static const char *file_diff(const delta_file_entry *x, const delta_file_entry *y)
{
    const pond_delta_file *a = &x->pub, *b = &y->pub;
    if (x->live != y->live || x->removed_in != y->removed_in ||
        x->deletion_timestamp != y->deletion_timestamp || !same_str(x->dv_key, y->dv_key))
        return "state";
    if (!same_str(a->path, b->path) || a->size != b->size ||
        a->modification_time != b->modification_time || a->data_change != b->data_change ||
        a->version != b->version)
        return "fields";
    if (!same_str(a->stats, b->stats))
        return "stats";
    if (!same_kv(a->partition_values, a->n_partition_values, b->partition_values,
                 b->n_partition_values))
        return "partitionValues";
    if (!same_kv(a->tags, a->n_tags, b->tags, b->n_tags))
        return "tags";
    const pond_delta_dv *p = a->deletion_vector, *q = b->deletion_vector;
    if (!p != !q ||
        (p && (p->storage_type != q->storage_type ||
               !same_str(p->path_or_inline, q->path_or_inline) || p->offset != q->offset ||
               p->size_in_bytes != q->size_in_bytes || p->cardinality != q->cardinality)))
        return "deletionVector";
    return NULL;
}

int pond_delta__snapshot_diff(pond_buf *out, const pond_delta_table *a, const pond_delta_table *b)
{
    out->size = 0;
    if (a->version != b->version || a->n_files != b->n_files || a->n_live != b->n_live ||
        a->n_txns != b->n_txns)
        return pond_buf_printf(out, "versions %lld/%lld, files %zu/%zu, live %zu/%zu, txns %zu/%zu",
                               (long long)a->version, (long long)b->version, a->n_files, b->n_files,
                               a->n_live, b->n_live, a->n_txns, b->n_txns);
    if (!json_equal(a->protocol_json, b->protocol_json) ||
        !json_equal(a->metadata_json, b->metadata_json))
        return pond_buf_puts(out, "protocol or metaData");
    for (size_t i = 0; i < a->n_txns; i++)
        if (strcmp(a->txns[i].app_id, b->txns[i].app_id) != 0 ||
            a->txns[i].version != b->txns[i].version)
            return pond_buf_printf(out, "txn %zu", i);
    for (size_t i = 0; i < a->n_files; i++) {
        const delta_file_entry *x = &a->files[i], *y = &b->files[i];
        const char *what =
            strcmp(x->pub.decoded_path, y->pub.decoded_path) ? "order" : file_diff(x, y);
        if (what)
            return pond_buf_printf(out, "file %zu (%s): %s", i, x->pub.decoded_path, what);
    }
    return 0;
}
