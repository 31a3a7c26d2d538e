/* Parquet checkpoints -> the actions the replay already applies.
 *
 * Each row of a checkpoint holds one action in one of its top-level struct columns (add,
 * remove, metaData, protocol, txn, domainMetadata, sidecar, checkpointMetadata). The row
 * becomes the jansson value a commit line would parse to, so checkpoints and commits go
 * through the same validation, without JSON text in between. Arrow struct -> object (null
 * fields omitted), map -> object, list -> array; typed copies of stats and partition values
 * (`*_parsed`) are skipped. */
#include "delta/delta_internal.h"

#include <pond/parquet.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const g_action_columns[] = {
    "add", "remove",         "metaData", "protocol",
    "txn", "domainMetadata", "sidecar",  "checkpointMetadata",
    NULL};

static bool is_action_column(const char *name)
{
    for (const char *const *a = g_action_columns; *a; a++)
        if (!strcmp(*a, name))
            return true;
    return false;
}

static bool valid_at(const struct ArrowArray *a, int64_t i)
{
    const uint8_t *bm = a->n_buffers > 0 ? a->buffers[0] : NULL;
    int64_t j = i + a->offset;
    return !bm || (bm[j >> 3] >> (j & 7) & 1);
}

static int corrupt(const char *what, const char *fmt)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                          "%s: unexpected checkpoint column type "
                          "'%s'",
                          what, fmt);
}

/* When an add has no JSON `stats` but a typed `stats_parsed` struct (checkpoints written with
 * delta.checkpoint.writeStatsAsJson=false), writes "stats":"{\"numRecords\":N}" and returns 1;
 * 0 when there is nothing to write. Bounds are left out: only the count is needed here. */
static int stats_from_parsed(pond_buf *out, const struct ArrowSchema *s, const struct ArrowArray *a,
                             int64_t j, bool first)
{
    for (int64_t c = 0; c < s->n_children; c++) {
        const struct ArrowSchema *ps = s->children[c];
        const struct ArrowArray *pa = a->children[c];
        if (!ps->name || strcmp(ps->name, "stats_parsed") != 0 || strcmp(ps->format, "+s") != 0 ||
            !valid_at(pa, j))
            continue;
        for (int64_t k = 0; k < ps->n_children; k++) {
            const struct ArrowSchema *ns = ps->children[k];
            const struct ArrowArray *na = pa->children[k];
            int64_t e = j + pa->offset;
            if (!ns->name || strcmp(ns->name, "numRecords") != 0 || strcmp(ns->format, "l") != 0 ||
                !valid_at(na, e))
                continue;
            int rc = pond_buf_printf(out, "%s\"stats\":\"{\\\"numRecords\\\":%" PRId64 "}\"",
                                     first ? "" : ",",
                                     ((const int64_t *)na->buffers[1])[e + na->offset]);
            return rc < 0 ? rc : 1;
        }
    }
    return 0;
}

/* ---- direct path: Arrow rows -> jansson values, no JSON text in between ---- */

static int to_json(json_t **out, const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                   const char *what, int depth);

static int bad_utf8(const char *what)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: a string is not valid UTF-8", what);
}

static int str_json(json_t **out, const uint8_t *p, size_t n, const char *what)
{
    *out = json_stringn((const char *)p, n);
    return *out ? 0 : bad_utf8(what);
}

static int to_json(json_t **out, const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i,
                   const char *what, int depth)
{
    const char *f = s->format;
    int64_t j = i + a->offset;
    int rc = 0;
    *out = NULL;
    if (depth > 16)
        return corrupt(what, "nesting");
    if (!valid_at(a, i)) {
        *out = json_null();
        return 0;
    }
    switch (f[0]) {
    case 'b': {
        const uint8_t *bm = a->buffers[1];
        *out = json_boolean(bm[j >> 3] >> (j & 7) & 1);
        return 0;
    }
    case 'c':
        *out = json_integer(((const int8_t *)a->buffers[1])[j]);
        return 0;
    case 's':
        *out = json_integer(((const int16_t *)a->buffers[1])[j]);
        return 0;
    case 'i':
        *out = json_integer(((const int32_t *)a->buffers[1])[j]);
        return 0;
    case 'l':
        *out = json_integer(((const int64_t *)a->buffers[1])[j]);
        return 0;
    case 'u':
    case 'z': {
        const int32_t *off = a->buffers[1];
        return str_json(out, (const uint8_t *)a->buffers[2] + off[j], (size_t)(off[j + 1] - off[j]),
                        what);
    }
    case 'U':
    case 'Z': {
        const int64_t *off = a->buffers[1];
        return str_json(out, (const uint8_t *)a->buffers[2] + off[j], (size_t)(off[j + 1] - off[j]),
                        what);
    }
    case '+':
        break;
    default:
        return corrupt(what, f);
    }
    if (!strcmp(f, "+s")) {
        json_t *obj = json_object();
        bool has_stats = false;
        for (int64_t c = 0; obj && rc == 0 && c < s->n_children; c++) {
            const struct ArrowSchema *cs = s->children[c];
            const struct ArrowArray *ca = a->children[c];
            size_t nl = strlen(cs->name ? cs->name : "");
            if (!cs->name || (nl > 7 && !strcmp(cs->name + nl - 7, "_parsed")) || !valid_at(ca, j))
                continue;
            has_stats = has_stats || !strcmp(cs->name, "stats");
            json_t *v;
            if ((rc = to_json(&v, cs, ca, j, what, depth + 1)) == 0 &&
                json_object_set_new(obj, cs->name, v) != 0)
                rc = POND_ENOMEM;
        }
        if (obj && rc == 0 && !has_stats) {
            pond_buf t = POND_BUF_INIT;
            int k = stats_from_parsed(&t, s, a, j, true);
            if (k < 0)
                rc = k;
            else if (k == 1) {
                /* t holds "stats":"{...}" as JSON text: take the string value */
                pond_buf w = POND_BUF_INIT;
                pond_buf_printf(&w, "{%s}", t.ptr);
                json_t *tmp =
                    w.ptr ? pond__json_parse(w.ptr, w.size, 0, "stats", POND_DOM_DELTA) : NULL;
                json_t *sv = json_object_get(tmp, "stats");
                if (sv)
                    json_object_set(obj, "stats", sv);
                json_decref(tmp);
                pond_buf_dispose(&w);
            }
            pond_buf_dispose(&t);
        }
        if (!obj)
            rc = POND_ENOMEM;
        if (rc < 0) {
            json_decref(obj);
            return rc;
        }
        *out = obj;
        return 0;
    }
    if (!strcmp(f, "+m")) {
        const int32_t *off = a->buffers[1];
        const struct ArrowSchema *es = s->children[0];
        const struct ArrowArray *ea = a->children[0];
        if (es->n_children != 2 || ea->n_children != 2)
            return corrupt(what, s->format);
        const struct ArrowSchema *ks = es->children[0];
        if (ks->format[0] != 'u' && ks->format[0] != 'U')
            return corrupt(what, ks->format);
        json_t *obj = json_object();
        for (int32_t k = off[j]; obj && rc == 0 && k < off[j + 1]; k++) {
            int64_t e = k + ea->offset;
            json_t *key, *val;
            if ((rc = to_json(&key, ks, ea->children[0], e, what, depth + 1)) < 0)
                break;
            if (!json_is_string(key)) {
                json_decref(key);
                rc = corrupt(what, "null map key");
                break;
            }
            rc = to_json(&val, es->children[1], ea->children[1], e, what, depth + 1);
            if (rc == 0 && json_object_setn_new(obj, json_string_value(key),
                                                json_string_length(key), val) != 0)
                rc = POND_ENOMEM;
            json_decref(key);
        }
        if (!obj)
            rc = POND_ENOMEM;
        if (rc < 0) {
            json_decref(obj);
            return rc;
        }
        *out = obj;
        return 0;
    }
    if (!strcmp(f, "+l") || !strcmp(f, "+L")) {
        int64_t lo, hi;
        if (f[1] == 'l') {
            lo = ((const int32_t *)a->buffers[1])[j];
            hi = ((const int32_t *)a->buffers[1])[j + 1];
        } else {
            lo = ((const int64_t *)a->buffers[1])[j];
            hi = ((const int64_t *)a->buffers[1])[j + 1];
        }
        json_t *arr = json_array();
        for (int64_t k = lo; arr && rc == 0 && k < hi; k++) {
            json_t *v;
            if ((rc = to_json(&v, s->children[0], a->children[0], k, what, depth + 1)) == 0 &&
                json_array_append_new(arr, v) != 0)
                rc = POND_ENOMEM;
        }
        if (!arr)
            rc = POND_ENOMEM;
        if (rc < 0) {
            json_decref(arr);
            return rc;
        }
        *out = arr;
        return 0;
    }
    return corrupt(what, f);
}

/* Calls fn for every action of every row, one row group at a time (memory stays one batch). */
static int actions_from_reader(pond_parquet_reader *r, const char *what, delta_action_fn fn,
                               void *payload)
{
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    int rc = pond_parquet_reader_schema(r, &schema);
    if (rc == 0 && strcmp(schema.format, "+s") != 0)
        rc = corrupt(what, schema.format);
    while (rc == 0) {
        rc = pond_parquet_reader_next(r, &batch);
        if (rc == POND_ITEROVER) {
            rc = 0;
            break;
        }
        if (rc < 0 || (rc = pond_arrow_array_validate(&schema, &batch)) < 0)
            break;
        for (int64_t row = 0; rc == 0 && row < batch.length; row++) {
            for (int64_t c = 0; rc == 0 && c < schema.n_children; c++) {
                const struct ArrowSchema *cs = schema.children[c];
                const struct ArrowArray *ca = batch.children[c];
                if (!cs->name || !is_action_column(cs->name) || !valid_at(ca, row + batch.offset))
                    continue;
                json_t *body;
                if ((rc = to_json(&body, cs, ca, row + batch.offset, what, 0)) < 0)
                    break;
                rc = fn(payload, cs->name, body);
                json_decref(body);
            }
        }
        batch.release(&batch);
    }
    if (batch.release)
        batch.release(&batch);
    if (schema.release)
        schema.release(&schema);
    return rc;
}

int pond_delta__checkpoint_parquet_actions(const char *path, delta_action_fn fn, void *payload)
{
    pond_parquet_reader *r = NULL;
    int fd;
    /* a table's own file: never through a link, never blocking on a FIFO */
    int rc = pond__open_pond_file(&fd, path, POND_DOM_DELTA);
    if (rc == 0)
        rc = pond_parquet_reader_open_fd(&r, fd, path, NULL);
    if (rc == 0)
        rc = actions_from_reader(r, path, fn, payload);
    pond_parquet_reader_free(r);
    if (rc < 0 && rc != POND_ENOMEM && !strstr(pond_error_last()->message, path))
        pond_error_prefix("checkpoint '%s'", path);
    return rc;
}

/* The actions as JSON lines ({"add":{...}}), as a commit would carry them (fuzzing). */
static int append_line(void *payload, const char *action, json_t *body)
{
    json_t *line = json_pack("{s:O}", action, body);
    if (!line)
        return pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "out of memory building a JSON line");
    int rc = pond__json_dump_buf(payload, line, 0);
    json_decref(line);
    return rc < 0 ? rc : pond_buf_putc(payload, '\n');
}

int pond_delta__checkpoint_parquet_lines_mem(pond_buf *out, const void *data, size_t len)
{
    pond_parquet_reader *r = NULL;
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    o.max_alloc = 64u << 20;
    int rc = pond_parquet_reader_open_memory(&r, data, len, &o);
    if (rc == 0)
        rc = actions_from_reader(r, "checkpoint", append_line, out);
    pond_parquet_reader_free(r);
    return rc;
}
