/* One Delta action line: parse, field validation, path encoding. */
#include "delta/delta_internal.h"

#include <string.h>

static const struct {
    const char *name;
    delta_action_kind kind;
} g_actions[] = {
    {"add", DELTA_ACT_ADD},
    {"remove", DELTA_ACT_REMOVE},
    {"metaData", DELTA_ACT_METADATA},
    {"protocol", DELTA_ACT_PROTOCOL},
    {"txn", DELTA_ACT_TXN},
    {"commitInfo", DELTA_ACT_COMMITINFO},
    {"cdc", DELTA_ACT_CDC},
    {"domainMetadata", DELTA_ACT_DOMAIN},
    {"checkpointMetadata", DELTA_ACT_CHECKPOINT_META},
    {"sidecar", DELTA_ACT_SIDECAR},
};

const char *pond_delta__action_sniff(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i >= len || line[i++] != '{')
        return NULL;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i >= len || line[i++] != '"')
        return NULL;
    size_t k0 = i;
    while (i < len && line[i] != '"' && line[i] != '\\')
        i++;
    if (i >= len || line[i] != '"')
        return NULL;
    size_t kn = i - k0;
    for (i++; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
        ;
    if (i >= len || line[i] != ':')
        return NULL;
    for (size_t a = 0; a < sizeof g_actions / sizeof g_actions[0]; a++)
        if (strlen(g_actions[a].name) == kn && !memcmp(g_actions[a].name, line + k0, kn))
            return g_actions[a].name;
    return NULL;
}

int pond_delta__action_parse(json_t **root_out, delta_action_kind *kind_out, json_t **body_out,
                             const char *line, size_t len, const char *where)
{
    *root_out = NULL;
    *body_out = NULL;
    *kind_out = DELTA_ACT_UNKNOWN;
    json_t *root = pond__json_parse(line, len, 0, where, POND_DOM_DELTA);
    if (!root)
        return pond_error_last()->code;
    if (!json_is_object(root)) {
        json_decref(root);
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: not a JSON object", where);
    }
    if (json_object_size(root) != 1) {
        size_t n = json_object_size(root);
        json_decref(root);
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: expected exactly one action per line, got %zu", where, n);
    }
    const char *key = json_object_iter_key(json_object_iter(root));
    json_t *body = json_object_iter_value(json_object_iter(root));
    for (size_t i = 0; i < POND_ARRAY_LEN(g_actions); i++) {
        if (!strcmp(key, g_actions[i].name)) {
            *kind_out = g_actions[i].kind;
            break;
        }
    }
    if (*kind_out != DELTA_ACT_UNKNOWN && !json_is_object(body)) {
        /* key belongs to root: report before releasing it */
        int rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: action '%s' is not an object",
                                where, key);
        json_decref(root);
        *kind_out = DELTA_ACT_UNKNOWN;
        return rc;
    }
    *root_out = root;
    *body_out = body;
    return 0;
}

static const char *path_of(const json_t *a)
{
    const char *p = json_string_value(json_object_get(a, "path"));
    return p ? p : "?";
}

static bool is_string_map(const json_t *m)
{
    const char *k;
    json_t *v;
    if (!json_is_object(m))
        return false;
    json_object_foreach((json_t *)m, k, v)
    {
        if (!json_is_string(v) && !json_is_null(v))
            return false;
    }
    return true;
}

int pond_delta__check_dv(const json_t *dv, const char *where)
{
    const char *st = json_string_value(json_object_get(dv, "storageType"));
    int64_t n;
    if (!json_is_object(dv))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: deletionVector is not an object",
                              where);
    if (!st || strlen(st) != 1 || !strchr("uip", st[0]))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: deletionVector.storageType '%s' invalid", where, st ? st : "?");
    if (!json_is_string(json_object_get(dv, "pathOrInlineDv")))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: deletionVector.pathOrInlineDv missing", where);
    if (!pond__json_int(&n, dv, "sizeInBytes") || n < 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: deletionVector.sizeInBytes missing", where);
    if (!pond__json_int(&n, dv, "cardinality") || n < 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: deletionVector.cardinality missing", where);
    const json_t *off = json_object_get(dv, "offset");
    if (off && !json_is_null(off) && (!json_is_integer(off) || json_integer_value(off) < 0))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: deletionVector.offset is not a non-negative integer", where);
    return 0;
}

/* ---- JSON add/remove -> delta_file_action */

/* A checked JSON string map as borrowed kv pairs (*out is the caller's to pond_free). */
int pond_delta__json_kv(pond_delta_kv **out, size_t *n_out, const json_t *m)
{
    *out = NULL;
    *n_out = json_is_object(m) ? json_object_size(m) : 0;
    if (!*n_out)
        return 0;
    if (!(*out = pond_malloc(*n_out * sizeof **out)))
        return pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "out of memory");
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v)
    {
        (*out)[i].key = k;
        (*out)[i++].value = json_string_value(v);
    }
    return 0;
}

/* A checked deletionVector object as a borrowed descriptor. */
static void json_dv(pond_delta_dv *dv, const json_t *j)
{
    int64_t n;
    dv->storage_type = json_string_value(json_object_get(j, "storageType"))[0];
    dv->path_or_inline = json_string_value(json_object_get(j, "pathOrInlineDv"));
    dv->offset = pond__json_int(&n, j, "offset") ? n : -1;
    dv->size_in_bytes = pond__json_int(&n, j, "sizeInBytes") ? n : 0;
    dv->cardinality = pond__json_int(&n, j, "cardinality") ? n : 0;
}

/* A checked add or remove action (JSON) as the fields replay applies; *kv_out holds the borrowed
 * map pairs for the caller to pond_free. */
int pond_delta__file_action_from_json(delta_file_action *fa, pond_delta_kv **kv_out,
                                      pond_delta_dv *dv, const json_t *a)
{
    int64_t n;
    memset(fa, 0, sizeof *fa);
    *kv_out = NULL;
    fa->path = json_string_value(json_object_get(a, "path"));
    fa->size = pond__json_int(&n, a, "size") ? n : 0;
    fa->modification_time = pond__json_int(&n, a, "modificationTime") ? n : 0;
    fa->data_change = json_is_true(json_object_get(a, "dataChange"));
    fa->stats = json_string_value(json_object_get(a, "stats"));
    fa->deletion_timestamp = pond__json_int(&n, a, "deletionTimestamp") ? n : 0;
    const json_t *dvj = json_object_get(a, "deletionVector");
    if (json_is_object(dvj)) {
        json_dv(dv, dvj);
        fa->dv = dv;
    }
    pond_delta_kv *pv, *tags;
    size_t n_pv, n_tags;
    int rc = pond_delta__json_kv(&pv, &n_pv, json_object_get(a, "partitionValues"));
    if (rc == 0 && (rc = pond_delta__json_kv(&tags, &n_tags, json_object_get(a, "tags"))) < 0)
        pond_free(pv);
    if (rc < 0)
        return rc;
    /* one allocation for both maps, so the caller frees one pointer */
    if (n_pv && n_tags) {
        pond_delta_kv *both = pond_malloc((n_pv + n_tags) * sizeof *both);
        if (both) {
            memcpy(both, pv, n_pv * sizeof *pv);
            memcpy(both + n_pv, tags, n_tags * sizeof *tags);
        }
        pond_free(pv);
        pond_free(tags);
        if (!both)
            return pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "out of memory");
        pv = both;
        tags = both + n_pv;
    } else if (n_tags) {
        pv = tags;
    }
    *kv_out = pv;
    fa->partition_values = pv;
    fa->n_partition_values = n_pv;
    fa->tags = tags;
    fa->n_tags = n_tags;
    return 0;
}

int pond_delta__check_add(const json_t *a, const char *where)
{
    int64_t n;
    const char *p = json_string_value(json_object_get(a, "path"));
    if (!p || !*p)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: add without path", where);
    if (!pond__json_int(&n, a, "size") || n < 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: add %s without integer size",
                              where, p);
    if (!pond__json_int(&n, a, "modificationTime"))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: add %s without integer modificationTime", where, p);
    if (!json_is_boolean(json_object_get(a, "dataChange")))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: add %s without boolean dataChange", where, p);
    if (!is_string_map(json_object_get(a, "partitionValues")))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: add %s without partitionValues map", where, p);
    const json_t *st = json_object_get(a, "stats");
    if (st && !json_is_null(st) && !json_is_string(st))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: add %s stats is not a JSON string", where, p);
    const json_t *tags = json_object_get(a, "tags");
    if (tags && !json_is_null(tags) && !is_string_map(tags))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: add %s tags is not a string map",
                              where, p);
    const json_t *dv = json_object_get(a, "deletionVector");
    if (dv && !json_is_null(dv)) {
        char w[512];
        snprintf(w, sizeof w, "%s: add %s", where, p);
        return pond_delta__check_dv(dv, w);
    }
    return 0;
}

int pond_delta__check_remove(const json_t *r, const char *where)
{
    const char *p = json_string_value(json_object_get(r, "path"));
    if (!p || !*p)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: remove without path", where);
    if (!json_is_boolean(json_object_get(r, "dataChange")))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: remove %s without boolean dataChange", where, p);
    const json_t *ts = json_object_get(r, "deletionTimestamp");
    if (ts && !json_is_null(ts) && !json_is_integer(ts))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: remove %s deletionTimestamp is not an integer", where, p);
    const json_t *dv = json_object_get(r, "deletionVector");
    if (dv && !json_is_null(dv)) {
        char w[512];
        snprintf(w, sizeof w, "%s: remove %s", where, path_of(r));
        return pond_delta__check_dv(dv, w);
    }
    return 0;
}

static int check_features(const json_t *p, const char *key, const char *where)
{
    const json_t *arr = json_object_get(p, key);
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: protocol.%s is not an array",
                              where, key);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        if (!json_is_string(json_array_get(arr, i)))
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "%s: protocol.%s[%zu] is not a string", where, key, i);
    }
    return 0;
}

int pond_delta__check_protocol(const json_t *p, const char *where)
{
    int64_t r, w;
    int rc;
    if (!pond__json_int(&r, p, "minReaderVersion") || !pond__json_int(&w, p, "minWriterVersion"))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: protocol without integer minReaderVersion/minWriterVersion",
                              where);
    if (r < 1 || w < 1 || r > INT32_MAX || w > INT32_MAX)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: protocol versions out of range (%lld/%lld)", where, (long long)r,
                              (long long)w);
    if ((rc = check_features(p, "readerFeatures", where)) < 0 ||
        (rc = check_features(p, "writerFeatures", where)) < 0)
        return rc;
    if (r == 3 && !json_is_array(json_object_get(p, "readerFeatures")))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: minReaderVersion 3 requires readerFeatures", where);
    if (w == 7 && !json_is_array(json_object_get(p, "writerFeatures")))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: minWriterVersion 7 requires writerFeatures", where);
    if (r == 3 && w < 7)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: reader version 3 requires writer version 7", where);
    return 0;
}

int pond_delta__check_metadata(const json_t *m, const char *where)
{
    if (!json_is_string(json_object_get(m, "id")))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: metaData without id", where);
    if (!json_is_string(json_object_get(m, "schemaString")))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: metaData without schemaString",
                              where);
    const json_t *pc = json_object_get(m, "partitionColumns");
    if (!json_is_array(pc))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: metaData without partitionColumns array", where);
    for (size_t i = 0; i < json_array_size(pc); i++) {
        if (!json_is_string(json_array_get(pc, i)))
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "%s: metaData.partitionColumns[%zu] is not a string", where, i);
    }
    const json_t *fmt = json_object_get(m, "format");
    if (!json_is_object(fmt))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: metaData without format", where);
    const json_t *cfg = json_object_get(m, "configuration");
    if (cfg && !json_is_null(cfg) && !is_string_map(cfg))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: metaData.configuration is not a string map", where);
    const json_t *ct = json_object_get(m, "createdTime");
    if (ct && !json_is_null(ct) && !json_is_integer(ct))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "%s: metaData.createdTime is not an integer", where);
    return 0;
}

/* ------------------------------------------------------------------ paths */

/* Characters kept as is in a logged path; everything else is %XX (RFC 3986 unreserved plus '/'
 * and '=' for hive-style partition directories). */
static bool keep_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '/' || c == '=';
}

int pond_delta_path_encode(char **out, const char *path)
{
    POND_ASSERT_ARG(out && path);
    *out = NULL;
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path), cap;
    if (pond_mul_overflow(&cap, n, 3) || pond_add_overflow(&cap, cap, 1))
        return pond_error_set(POND_EINVALID, POND_DOM_DELTA, "path too long");
    char *s = pond_malloc(cap), *o = s;
    if (!s)
        return POND_ENOMEM;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (keep_char(*p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    *out = s;
    return 0;
}

static bool has_scheme(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return false;
    for (s++; *s && *s != '/'; s++) {
        if (*s == ':')
            return true;
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '+' || *s == '.' || *s == '-'))
            return false;
    }
    return false;
}

int pond_delta_path_decode(char **out, const char *logged)
{
    POND_ASSERT_ARG(out && logged);
    *out = NULL;
    if (has_scheme(logged))
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_DELTA,
                              "data file path '%s' is an absolute URI (pond reads only paths "
                              "relative to the table)",
                              logged);
    size_t n = strlen(logged);
    char *s = pond_malloc(n + 1), *o = s;
    if (!s)
        return POND_ENOMEM;
    for (const char *p = logged; *p; p++) {
        if (*p != '%') {
            *o++ = *p;
            continue;
        }
        int h = pond__hexval(p[1]), l = h >= 0 ? pond__hexval(p[2]) : -1;
        if (h < 0 || l < 0) {
            pond_free(s);
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "data file path '%s': bad percent escape at offset %zu", logged,
                                  (size_t)(p - logged));
        }
        if (h == 0 && l == 0) {
            pond_free(s);
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "data file path '%s' decodes to a NUL byte", logged);
        }
        *o++ = (char)(h << 4 | l);
        p += 2;
    }
    *o = '\0';
    int rc = 0;
    if (s[0] == '/') {
        rc = pond_error_set(POND_EUNSUPPORTED, POND_DOM_DELTA,
                            "data file path '%s' is absolute (pond reads only paths relative to "
                            "the table)",
                            logged);
        goto done;
    }
    /* every component must be a real name: no "", ".", ".." (no escape from the table) */
    for (const char *c = s;;) {
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.')) {
            rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                "data file path '%s' has an empty, '.' or '..' component", logged);
            goto done;
        }
        if (!e)
            break;
        c = e + 1;
    }
done:
    if (rc < 0) {
        pond_free(s);
        return rc;
    }
    *out = s;
    return 0;
}
