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
#include <stdarg.h>
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

/* The end of a container's conversion: *out = v, or v dropped when it or a member failed
 * (v NULL: out of memory). */
static int json_done(json_t **out, json_t *v, int rc)
{
    if (!v)
        rc = POND_ENOMEM;
    if (rc < 0) {
        json_decref(v);
        return rc;
    }
    *out = v;
    return 0;
}

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

/* A struct row (j: the array's own index) as a JSON object. keep (NULL-terminated), when given,
 * names the only fields converted: an add or remove row converts just what the replay reads,
 * as the column path does (the protocol says unknown fields are ignored), and its stats only
 * when keep names "stats". */
static int struct_json(json_t **out, const struct ArrowSchema *s, const struct ArrowArray *a,
                       int64_t j, const char *what, int depth, const char *const *keep)
{
    int rc = 0;
    json_t *obj = json_object();
    bool has_stats = false, stats_kept = !keep;
    for (size_t k = 0; keep && keep[k]; k++)
        stats_kept = stats_kept || !strcmp(keep[k], "stats");
    for (int64_t c = 0; obj && rc == 0 && c < s->n_children; c++) {
        const struct ArrowSchema *cs = s->children[c];
        const struct ArrowArray *ca = a->children[c];
        size_t nl = strlen(cs->name ? cs->name : "");
        if (!cs->name || (nl > 7 && !strcmp(cs->name + nl - 7, "_parsed")) || !valid_at(ca, j))
            continue;
        bool kept = !keep;
        for (size_t k = 0; !kept && keep[k]; k++)
            kept = !strcmp(keep[k], cs->name);
        if (!kept)
            continue;
        has_stats = has_stats || !strcmp(cs->name, "stats");
        json_t *v;
        if ((rc = to_json(&v, cs, ca, j, what, depth + 1)) == 0 &&
            json_object_set_new(obj, cs->name, v) != 0)
            rc = POND_ENOMEM;
    }
    if (obj && rc == 0 && !has_stats && stats_kept) {
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
    return json_done(out, obj, rc);
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
    if (!strcmp(f, "+s"))
        return struct_json(out, s, a, j, what, depth, NULL);
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
        return json_done(out, obj, rc);
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
        return json_done(out, arr, rc);
    }
    return corrupt(what, f);
}

/* ---- column path: add and remove rows straight to delta_file_action ----
 *
 * The add and remove columns are looked at once per file: where each field the replay uses
 * lives and whether its type is one handled here (integers of any width, booleans, strings or
 * binary, string maps, the deletionVector struct). A column with a known field of any other
 * shape goes through the JSON conversion above, which words the problem as it always did.
 * Unknown fields are not read (the protocol says to ignore them). Every value is then checked
 * as pond_delta__check_add/remove check a JSON action, with the same messages. */

enum { F_PATH, F_SIZE, F_MTIME, F_DATA_CHANGE, F_STATS, F_PV, F_TAGS, F_DV, F_DEL_TS, F_N };
static const char *const g_file_fields[F_N] = {"path",       "size",           "modificationTime",
                                               "dataChange", "stats",          "partitionValues",
                                               "tags",       "deletionVector", "deletionTimestamp"};
/* What the JSON way converts of an add or remove row: the same fields (stats only where the
 * column path reads them), so both ways accept and refuse alike. */
static const char *const g_add_keep[] = {"path",       "size",           "modificationTime",
                                         "dataChange", "stats",          "partitionValues",
                                         "tags",       "deletionVector", NULL};
static const char *const g_add_keep_no_stats[] = {
    "path",           "size", "modificationTime", "dataChange", "partitionValues", "tags",
    "deletionVector", NULL};
static const char *const g_remove_keep[] = {
    "path", "size",           "dataChange",        "partitionValues",
    "tags", "deletionVector", "deletionTimestamp", NULL};
enum { D_TYPE, D_PATH, D_OFFSET, D_SIZE, D_CARD, D_N };
static const char *const g_dv_fields[D_N] = {"storageType", "pathOrInlineDv", "offset",
                                             "sizeInBytes", "cardinality"};

typedef struct {
    int64_t f[F_N];  /* child index of each field, -1 when absent */
    int64_t dv[D_N]; /* the same inside deletionVector */
    int64_t stats_parsed, num_records;
    bool direct;
} file_cols;

static bool is_int(const char *f) { return f[1] == 0 && strchr("csil", f[0]); }
static bool is_str(const char *f) { return f[1] == 0 && strchr("uzUZ", f[0]); }

/* A string map whose keys are strings and values strings (or binary): the JSON way refuses
 * other keys and any other value makes the map no string map. */
static bool is_str_map(const struct ArrowSchema *s)
{
    if (strcmp(s->format, "+m") != 0 || s->n_children != 1 || s->children[0]->n_children != 2)
        return false;
    const struct ArrowSchema *e = s->children[0];
    return (!strcmp(e->children[0]->format, "u") || !strcmp(e->children[0]->format, "U")) &&
           is_str(e->children[1]->format);
}

/* The child named name: -1 when there is none, -2 when there are several (a JSON object keeps
 * the last; such a column goes the JSON way). */
static int64_t child_index(const struct ArrowSchema *s, const char *name)
{
    int64_t at = -1;
    for (int64_t c = 0; c < s->n_children; c++)
        if (s->children[c]->name && !strcmp(s->children[c]->name, name))
            at = at == -1 ? c : -2;
    return at;
}

static void resolve_file_cols(file_cols *fc, const struct ArrowSchema *s)
{
    static const char kinds[F_N] = {'s', 'i', 'i', 'b', 's', 'm', 'm', 'd', 'i'};
    memset(fc, 0, sizeof *fc);
    fc->direct = !strcmp(s->format, "+s");
    for (int k = 0; k < F_N; k++) {
        fc->f[k] = fc->direct ? child_index(s, g_file_fields[k]) : -1;
        fc->direct = fc->direct && fc->f[k] != -2;
        if (fc->f[k] < 0)
            continue;
        const struct ArrowSchema *cs = s->children[fc->f[k]];
        switch (kinds[k]) {
        case 's':
            fc->direct = fc->direct && is_str(cs->format);
            break;
        case 'i':
            fc->direct = fc->direct && is_int(cs->format);
            break;
        case 'b':
            fc->direct = fc->direct && !strcmp(cs->format, "b");
            break;
        case 'm':
            fc->direct = fc->direct && is_str_map(cs);
            break;
        default: /* the deletion vector */
            fc->direct = fc->direct && !strcmp(cs->format, "+s");
            for (int d = 0; fc->direct && d < D_N; d++) {
                fc->dv[d] = child_index(cs, g_dv_fields[d]);
                const char *df = fc->dv[d] < 0 ? NULL : cs->children[fc->dv[d]]->format;
                fc->direct = fc->dv[d] != -2;
                if (df)
                    fc->direct = d < D_OFFSET ? is_str(df) : is_int(df);
            }
        }
    }
    /* typed stats: only numRecords is used (stats_from_parsed) */
    fc->stats_parsed = fc->num_records = -1;
    int64_t sp = fc->direct ? child_index(s, "stats_parsed") : -1;
    fc->direct = fc->direct && sp != -2;
    if (sp >= 0 && !strcmp(s->children[sp]->format, "+s")) {
        int64_t nr = child_index(s->children[sp], "numRecords");
        fc->direct = nr != -2;
        if (nr >= 0 && !strcmp(s->children[sp]->children[nr]->format, "l")) {
            fc->stats_parsed = sp;
            fc->num_records = nr;
        }
    }
}

/* Strict UTF-8 as jansson checks it (no overlongs, surrogates or code points past U+10FFFF). */
static bool utf8_ok(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                     : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xf0 && c <= 0xf4 ? 4
                                              : 0;
        if (!len || n - i < len)
            return false;
        uint32_t cp = c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += len;
    }
    return true;
}

/* The scratch of one row: its strings, NUL-terminated, in one buffer (offsets until the row is
 * complete: the buffer moves as it grows) and its map pairs. */
typedef struct {
    size_t key, key_len, value; /* offsets into text; value NO_STRING for a null */
} kv_off;
typedef struct {
    pond_buf text;
    kv_off *kv;
    size_t n_kv, cap_kv;
    pond_delta_kv *pairs;
    size_t cap_pairs;
} row_scratch;

/* Past this many pairs in one map a row goes through the JSON conversion: the duplicate-key
 * scan below is quadratic, and no writer puts that many partition columns or tags on a file. */
#define MAP_DIRECT_MAX 64

#define NO_STRING SIZE_MAX

static int64_t int_at(const struct ArrowSchema *s, const struct ArrowArray *a, int64_t i)
{
    int64_t j = i + a->offset;
    switch (s->format[0]) {
    case 'c':
        return ((const int8_t *)a->buffers[1])[j];
    case 's':
        return ((const int16_t *)a->buffers[1])[j];
    case 'i':
        return ((const int32_t *)a->buffers[1])[j];
    default:
        return ((const int64_t *)a->buffers[1])[j];
    }
}

static void str_at(const uint8_t **p, size_t *n, const struct ArrowSchema *s,
                   const struct ArrowArray *a, int64_t i)
{
    int64_t j = i + a->offset, lo, hi;
    if (s->format[0] == 'u' || s->format[0] == 'z') {
        lo = ((const int32_t *)a->buffers[1])[j];
        hi = ((const int32_t *)a->buffers[1])[j + 1];
    } else {
        lo = ((const int64_t *)a->buffers[1])[j];
        hi = ((const int64_t *)a->buffers[1])[j + 1];
    }
    *p = (const uint8_t *)a->buffers[2] + lo;
    *n = (size_t)(hi - lo);
}

/* Copies a string value into the scratch text; *off_out is its offset. */
static int put_str(size_t *off_out, row_scratch *rs, const struct ArrowSchema *s,
                   const struct ArrowArray *a, int64_t i, const char *what)
{
    const uint8_t *p;
    size_t n;
    str_at(&p, &n, s, a, i);
    if (!utf8_ok(p, n))
        return bad_utf8(what);
    *off_out = rs->text.size;
    int rc = pond_buf_put(&rs->text, p, n);
    return rc < 0 ? rc : pond_buf_putc(&rs->text, '\0');
}

/* Appends the pairs of a string map at row i; a key seen before in the same map keeps its
 * place and takes the later value, as a JSON object does. 1: too many pairs for this path. */
static int put_map(size_t *first_out, size_t *n_out, row_scratch *rs, const struct ArrowSchema *s,
                   const struct ArrowArray *a, int64_t i, const char *what)
{
    const struct ArrowSchema *ks = s->children[0]->children[0], *vs = s->children[0]->children[1];
    const struct ArrowArray *ea = a->children[0];
    const struct ArrowArray *ka = ea->children[0], *va = ea->children[1];
    int64_t j = i + a->offset;
    const int32_t *off = a->buffers[1];
    if (off[j + 1] - off[j] > MAP_DIRECT_MAX)
        return 1;
    size_t first = rs->n_kv;
    int rc = 0;
    for (int32_t k = off[j]; k < off[j + 1]; k++) {
        int64_t e = k + ea->offset;
        if (!valid_at(ka, e))
            return corrupt(what, "null map key");
        kv_off p = {0, 0, NO_STRING};
        if ((rc = put_str(&p.key, rs, ks, ka, e, what)) < 0)
            return rc;
        p.key_len = rs->text.size - p.key - 1;
        if (valid_at(va, e) && (rc = put_str(&p.value, rs, vs, va, e, what)) < 0)
            return rc;
        /* keys are compared whole (with any NUL inside), as jansson does */
        size_t q = first;
        while (q < rs->n_kv &&
               (rs->kv[q].key_len != p.key_len ||
                memcmp(rs->text.ptr + rs->kv[q].key, rs->text.ptr + p.key, p.key_len) != 0))
            q++;
        if (q < rs->n_kv) {
            rs->kv[q].value = p.value;
            continue;
        }
        if ((rc = POND_GROW(rs->kv, rs->n_kv, rs->cap_kv)) < 0)
            return rc;
        rs->kv[rs->n_kv++] = p;
    }
    *first_out = first;
    *n_out = rs->n_kv - first;
    return 0;
}

static int bad(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(const char *where, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: %s", where, msg);
}

#define HAS(k) (fc->f[k] >= 0 && valid_at(a->children[fc->f[k]], j))
#define COL_S(k) s->children[fc->f[k]]
#define COL_A(k) a->children[fc->f[k]]

/* The deletion vector of the row at struct index j, checked as pond_delta__check_dv. */
static int row_dv(pond_delta_dv *dv, row_scratch *rs, size_t str[2], const file_cols *fc,
                  const struct ArrowSchema *s, const struct ArrowArray *a, int64_t j,
                  const char *what)
{
    const struct ArrowSchema *ds = COL_S(F_DV);
    const struct ArrowArray *da = COL_A(F_DV);
    int64_t dj = j + da->offset;
    bool has[D_N];
    int rc;
    for (int d = 0; d < D_N; d++)
        has[d] = fc->dv[d] >= 0 && valid_at(da->children[fc->dv[d]], dj);
    str[0] = str[1] = NO_STRING;
    for (int d = D_TYPE; d <= D_PATH; d++)
        if (has[d] && (rc = put_str(&str[d], rs, ds->children[fc->dv[d]], da->children[fc->dv[d]],
                                    dj, what)) < 0)
            return rc;
    int64_t v[D_N] = {0};
    for (int d = D_OFFSET; d < D_N; d++)
        if (has[d])
            v[d] = int_at(ds->children[fc->dv[d]], da->children[fc->dv[d]], dj);
    dv->offset = has[D_OFFSET] ? v[D_OFFSET] : -1;
    dv->size_in_bytes = has[D_SIZE] ? v[D_SIZE] : -1;
    dv->cardinality = has[D_CARD] ? v[D_CARD] : -1;
    return 0;
}

/* One add (or remove) row at struct index i (the parent's offset included) to fa, checked;
 * 1 when the row is to go through the JSON conversion instead. */
static int file_row(delta_file_action *fa, pond_delta_dv *dv, row_scratch *rs, bool add,
                    const file_cols *fc, const struct ArrowSchema *s, const struct ArrowArray *a,
                    int64_t i, const char *what, const delta_cp_sink *sink)
{
    const char *where = sink->where;
    /* stats a snapshot drops are not read (the oplog's open: a third of a checkpoint's bytes) */
    bool stats_wanted = add && !sink->skip_stats;
    int64_t j = i + a->offset;
    size_t path = NO_STRING, stats = NO_STRING, dv_str[2] = {NO_STRING, NO_STRING};
    size_t pv_first = 0, n_pv = 0, tags_first = 0, n_tags = 0;
    bool has_pv = HAS(F_PV), has_dv = HAS(F_DV);
    int rc = 0;
    rs->text.size = 0;
    rs->n_kv = 0;
    memset(fa, 0, sizeof *fa);
    if (HAS(F_PATH) && (rc = put_str(&path, rs, COL_S(F_PATH), COL_A(F_PATH), j, what)) < 0)
        return rc;
    if (stats_wanted && HAS(F_STATS) &&
        (rc = put_str(&stats, rs, COL_S(F_STATS), COL_A(F_STATS), j, what)) < 0)
        return rc;
    if (has_pv && (rc = put_map(&pv_first, &n_pv, rs, COL_S(F_PV), COL_A(F_PV), j, what)) != 0)
        return rc;
    if (HAS(F_TAGS) &&
        (rc = put_map(&tags_first, &n_tags, rs, COL_S(F_TAGS), COL_A(F_TAGS), j, what)) != 0)
        return rc;
    if (has_dv && (rc = row_dv(dv, rs, dv_str, fc, s, a, j, what)) < 0)
        return rc;
    if (stats == NO_STRING && stats_wanted && fc->stats_parsed >= 0 &&
        valid_at(a->children[fc->stats_parsed], j)) {
        const struct ArrowArray *pa = a->children[fc->stats_parsed];
        const struct ArrowArray *na = pa->children[fc->num_records];
        int64_t e = j + pa->offset;
        if (valid_at(na, e)) {
            stats = rs->text.size;
            if ((rc = pond_buf_printf(&rs->text, "{\"numRecords\":%" PRId64 "}",
                                      ((const int64_t *)na->buffers[1])[e + na->offset])) < 0 ||
                (rc = pond_buf_putc(&rs->text, '\0')) < 0)
                return rc;
        }
    }
    /* every string is in place: pointers now */
    const char *text = rs->text.ptr;
    if ((rc = POND_RESERVE(rs->pairs, rs->n_kv, rs->cap_pairs)) < 0)
        return rc;
    for (size_t k = 0; k < rs->n_kv; k++) {
        rs->pairs[k].key = text + rs->kv[k].key;
        rs->pairs[k].value = rs->kv[k].value == NO_STRING ? NULL : text + rs->kv[k].value;
    }
    const char *kind = add ? "add" : "remove";
    fa->path = path == NO_STRING ? NULL : text + path;
    if (!fa->path || !*fa->path)
        return bad(where, "%s without path", kind);
    fa->stats = stats == NO_STRING ? NULL : text + stats;
    fa->partition_values = n_pv ? rs->pairs + pv_first : NULL;
    fa->n_partition_values = n_pv;
    fa->tags = n_tags ? rs->pairs + tags_first : NULL;
    fa->n_tags = n_tags;
    if (add) {
        if (!HAS(F_SIZE) || (fa->size = int_at(COL_S(F_SIZE), COL_A(F_SIZE), j)) < 0)
            return bad(where, "add %s without integer size", fa->path);
        if (!HAS(F_MTIME))
            return bad(where, "add %s without integer modificationTime", fa->path);
        fa->modification_time = int_at(COL_S(F_MTIME), COL_A(F_MTIME), j);
    }
    if (!HAS(F_DATA_CHANGE))
        return bad(where, "%s %s without boolean dataChange", kind, fa->path);
    int64_t bj = j + COL_A(F_DATA_CHANGE)->offset;
    fa->data_change = ((const uint8_t *)COL_A(F_DATA_CHANGE)->buffers[1])[bj >> 3] >> (bj & 7) & 1;
    if (add && !has_pv)
        return bad(where, "add %s without partitionValues map", fa->path);
    if (!add && HAS(F_DEL_TS))
        fa->deletion_timestamp = int_at(COL_S(F_DEL_TS), COL_A(F_DEL_TS), j);
    if (has_dv) {
        char w[512];
        snprintf(w, sizeof w, "%s: %s %s", where, kind, fa->path);
        const char *st = dv_str[0] == NO_STRING ? NULL : text + dv_str[0];
        if (!st || strlen(st) != 1 || !strchr("uip", st[0]))
            return bad(w, "deletionVector.storageType '%s' invalid", st ? st : "?");
        if (dv_str[1] == NO_STRING)
            return bad(w, "deletionVector.pathOrInlineDv missing");
        if (dv->size_in_bytes < 0)
            return bad(w, "deletionVector.sizeInBytes missing");
        if (dv->cardinality < 0)
            return bad(w, "deletionVector.cardinality missing");
        if (dv->offset < -1 ||
            (dv->offset == -1 && fc->dv[D_OFFSET] >= 0 &&
             valid_at(COL_A(F_DV)->children[fc->dv[D_OFFSET]], j + COL_A(F_DV)->offset)))
            return bad(w, "deletionVector.offset is not a non-negative integer");
        dv->storage_type = st[0];
        dv->path_or_inline = text + dv_str[1];
        fa->dv = dv;
    }
    return 0;
}

#undef HAS
#undef COL_S
#undef COL_A

/* Every action of every row to the sink, one row group at a time (memory stays one batch). */
static int actions_from_reader(pond_parquet_reader *r, const char *what, const delta_cp_sink *sink)
{
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    row_scratch rs = {POND_BUF_INIT, NULL, 0, 0, NULL, 0};
    file_cols add_cols = {.direct = false}, remove_cols = {.direct = false};
    int rc = pond_parquet_reader_schema(r, &schema);
    if (rc == 0 && strcmp(schema.format, "+s") != 0)
        rc = corrupt(what, schema.format);
    int64_t add_col = rc == 0 ? child_index(&schema, "add") : -1;
    int64_t remove_col = rc == 0 ? child_index(&schema, "remove") : -1;
    if (add_col >= 0 && sink->add)
        resolve_file_cols(&add_cols, schema.children[add_col]);
    if (remove_col >= 0 && sink->remove)
        resolve_file_cols(&remove_cols, schema.children[remove_col]);
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
                const file_cols *fc = c == add_col      ? &add_cols
                                      : c == remove_col ? &remove_cols
                                                        : NULL;
                if (fc && fc->direct) {
                    delta_file_action fa;
                    pond_delta_dv dv;
                    rc = file_row(&fa, &dv, &rs, c == add_col, fc, cs, ca, row + batch.offset, what,
                                  sink);
                    if (rc == 0)
                        rc = c == add_col ? sink->add(sink->payload, &fa)
                                          : sink->remove(sink->payload, &fa);
                    if (rc != 1)
                        continue;
                    rc = 0; /* a map too big for the column path: the JSON way */
                }
                json_t *body;
                if (fc && !strcmp(cs->format, "+s"))
                    rc = struct_json(&body, cs, ca, row + batch.offset + ca->offset, what, 0,
                                     c == remove_col    ? g_remove_keep
                                     : sink->skip_stats ? g_add_keep_no_stats
                                                        : g_add_keep);
                else
                    rc = to_json(&body, cs, ca, row + batch.offset, what, 0);
                if (rc < 0)
                    break;
                rc = sink->action(sink->payload, cs->name, body);
                json_decref(body);
            }
        }
        batch.release(&batch);
    }
    if (batch.release)
        batch.release(&batch);
    if (schema.release)
        schema.release(&schema);
    pond_buf_dispose(&rs.text);
    pond_free(rs.kv);
    pond_free(rs.pairs);
    return rc;
}

int pond_delta__checkpoint_parquet_actions(const char *path, const delta_cp_sink *sink)
{
    pond_parquet_reader *r = NULL;
    int fd;
    /* a table's own file: never through a link, never blocking on a FIFO */
    int rc = pond__open_pond_file(&fd, path, POND_DOM_DELTA);
    if (rc == 0)
        rc = pond_parquet_reader_open_fd(&r, fd, path, NULL);
    if (rc == 0)
        rc = actions_from_reader(r, path, sink);
    pond_parquet_reader_free(r);
    if (rc < 0 && rc != POND_ENOMEM && !strstr(pond_error_last()->message, path))
        pond_error_prefix("checkpoint '%s'", path);
    return rc;
}

int pond_delta__checkpoint_parquet_actions_mem(const void *data, size_t len,
                                               const delta_cp_sink *sink)
{
    pond_parquet_reader *r = NULL;
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    o.max_alloc = 64u << 20;
    int rc = pond_parquet_reader_open_memory(&r, data, len, &o);
    if (rc == 0)
        rc = actions_from_reader(r, "checkpoint", sink);
    pond_parquet_reader_free(r);
    return rc;
}
