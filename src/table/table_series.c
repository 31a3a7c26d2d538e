/* The series index and settings: what a series keeps in its extended attributes
 * (docs/format.md, "The series index"). One JSON object per version row; the keys of the node
 * (settings, merged schema, compactions) are carried from version to version, and each write
 * replaces the per-version entry (pond.version) with its own. Reads and appends plan from it
 * instead of reading the footers of earlier versions. */
#include "table/table_internal.h"

#include <pond/hash.h>
#include <pond/parquet.h>

#include "util/json.h"

#include <string.h>

#define D POND_DOM_TABLE
#define TS_ATTR "pond.timestamp_column"
#define TZ_ATTR "pond.timezone"
#define FMT_ATTR "pond.time_formats"
#define DEDUP_ATTR "pond.dedup"
#define COMPACT_ATTR "pond.compact"
#define SCHEMA_ATTR "pond.schema"
#define COMPS_ATTR "pond.compactions"
#define VERSION_ATTR "pond.version"
/* nested types deeper than this in a recorded schema are corrupt (and never written) */
#define MAX_DEPTH 64
#define MAX_ENTRY_KEYS 64

static int corrupt(const char *path, const char *key, const char *why)
{
    return pond_error_set(POND_ECORRUPT, D, "%s: extended attribute %s: %s", path, key, why);
}

/* ---- a schema as JSON: [{"name", "type" (Arrow format), "nullable", "children"?,
 * "first"? (top level: the version that brought the column)}] ---------------------------- */

static json_t *field_json(const struct ArrowSchema *f, int64_t first)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = json_object_set_new(o, "name", json_string(f->name ? f->name : "")) |
              json_object_set_new(o, "type", json_string(f->format)) |
              json_object_set_new(o, "nullable", json_boolean(f->flags & ARROW_FLAG_NULLABLE));
    if (first > 0)
        bad |= json_object_set_new(o, "first", json_integer(first));
    if (f->n_children > 0) {
        json_t *c = json_array();
        bad |= json_object_set_new(o, "children", c);
        for (int64_t i = 0; c && i < f->n_children && !bad; i++)
            bad |= json_array_append_new(c, field_json(f->children[i], 0));
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static bool nested(const pond_arrow_format *f)
{
    return f->type == POND_ARROW_LIST || f->type == POND_ARROW_LARGE_LIST ||
           f->type == POND_ARROW_FIXED_LIST || f->type == POND_ARROW_STRUCT ||
           f->type == POND_ARROW_MAP;
}

static int field_parse(struct ArrowSchema *out, int64_t *first, const json_t *o, int depth,
                       const char *path)
{
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *type = json_string_value(json_object_get(o, "type"));
    const json_t *nul = json_object_get(o, "nullable");
    const json_t *ch = json_object_get(o, "children");
    pond_arrow_format f;
    if (!json_is_object(o) || !name || !type || !json_is_boolean(nul) ||
        (ch && !json_is_array(ch)) || depth > MAX_DEPTH)
        return corrupt(path, SCHEMA_ATTR, "a field is not {name, type, nullable}");
    if (pond_arrow_format_parse(&f, type) < 0)
        return corrupt(path, SCHEMA_ATTR, "a field has an unknown type");
    size_t n = ch ? json_array_size(ch) : 0;
    if (nested(&f) != (n > 0) || ((f.type == POND_ARROW_LIST || f.type == POND_ARROW_LARGE_LIST ||
                                   f.type == POND_ARROW_FIXED_LIST || f.type == POND_ARROW_MAP) &&
                                  n != 1))
        return corrupt(path, SCHEMA_ATTR, "a field's children do not match its type");
    if (first) {
        const json_t *fv = json_object_get(o, "first");
        *first = json_is_integer(fv) ? json_integer_value(fv) : 0;
    }
    int rc = pond_arrow_schema_init(out, type, name, json_is_true(nul) ? ARROW_FLAG_NULLABLE : 0,
                                    (int64_t)n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = field_parse(out->children[i], NULL, json_array_get(ch, i), depth + 1, path);
    if (rc < 0)
        pond_arrow_schema_release(out);
    return rc;
}

/* ---- attributes ------------------------------------------------------------------------ */

void pond_table__attrs_dispose(table_attrs *a)
{
    if (!a)
        return;
    json_decref(a->obj);
    pond_series_settings_dispose(&a->set);
    pond_arrow_schema_release(&a->schema);
    pond_free(a->first);
    pond_free(a->comps);
    memset(a, 0, sizeof *a);
}

static int dup_strings(char ***out, size_t *n_out, const json_t *arr, const char *path,
                       const char *key)
{
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    if (arr && !json_is_array(arr))
        return corrupt(path, key, "not an array");
    if (!n)
        return 0;
    if (!(*out = pond_calloc(n, sizeof **out)))
        return POND_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (!s)
            return corrupt(path, key, "holds a non-string");
        if (!((*out)[i] = pond_strdup(s)))
            return POND_ENOMEM;
        (*n_out)++;
    }
    return 0;
}

static int parse_schema(table_attrs *a, const json_t *sc, const char *path)
{
    const json_t *fields = json_object_get(sc, "fields");
    const json_t *through = json_object_get(sc, "through");
    if (!json_is_object(sc) || !json_is_array(fields) || !json_is_integer(through) ||
        json_integer_value(through) < 0)
        return corrupt(path, SCHEMA_ATTR, "not {through, fields}");
    size_t n = json_array_size(fields);
    int rc = pond_arrow_schema_init(&a->schema, "+s", "", 0, (int64_t)n);
    if (rc == 0 && !(a->first = pond_calloc(n ? n : 1, sizeof *a->first)))
        rc = POND_ENOMEM;
    pond__strmap seen = {0}; /* by name: a loop per column is quadratic in a wide series */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = field_parse(a->schema.children[i], &a->first[i], json_array_get(fields, i), 0, path);
        int added = rc == 0 ? pond__strmap_put(&seen, a->schema.children[i]->name, 0) : 0;
        if (added < 0)
            rc = added;
        else if (added == 1)
            rc = corrupt(path, SCHEMA_ATTR, "a column appears twice");
    }
    pond__strmap_dispose(&seen);
    if (rc < 0)
        return rc;
    a->has_schema = true;
    a->through = json_integer_value(through);
    return 0;
}

static int parse_comps(table_attrs *a, const json_t *cs, const char *path)
{
    if (!json_is_array(cs))
        return corrupt(path, COMPS_ATTR, "not an array");
    size_t n = json_array_size(cs);
    if (n && !(a->comps = pond_calloc(n, sizeof *a->comps)))
        return POND_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(cs, i);
        if (!json_is_array(e) || json_array_size(e) != 3)
            return corrupt(path, COMPS_ATTR, "an entry is not [version, first, last]");
        table_compaction c = {json_integer_value(json_array_get(e, 0)),
                              json_integer_value(json_array_get(e, 1)),
                              json_integer_value(json_array_get(e, 2))};
        if (c.lo < 1 || c.hi < c.lo || c.version <= c.hi)
            return corrupt(path, COMPS_ATTR, "an entry is not a range of earlier versions");
        a->comps[a->n_comps++] = c;
    }
    return 0;
}

static int parse_dedup(table_attrs *a, const json_t *d, const char *path)
{
    const char *keep = json_string_value(json_object_get(d, "keep"));
    if (!json_is_object(d) || !keep || strcmp(keep, "last"))
        return corrupt(path, DEDUP_ATTR, "not {keep: \"last\", keys}");
    a->set.dedup = POND_DEDUP_LAST;
    return dup_strings(&a->set.dedup_keys, &a->set.n_dedup_keys, json_object_get(d, "keys"), path,
                       DEDUP_ATTR);
}

int pond_table__attrs_parse(table_attrs *out, const char *json, const char *path)
{
    memset(out, 0, sizeof *out);
    json_t *obj = NULL;
    if (json) {
        if (!(obj = pond__json_parse(json, strlen(json), 0, "extended attributes", D))) {
            pond_error_prefix("%s", path);
            return pond_error_last()->code;
        }
    } else if (!(obj = json_object())) {
        return pond_error_set(POND_ENOMEM, D, "out of memory");
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        return pond_error_set(POND_ECORRUPT, D, "%s: extended attributes are not a JSON object",
                              path);
    }
    out->obj = obj;
    const json_t *ts = json_object_get(obj, TS_ATTR), *tz = json_object_get(obj, TZ_ATTR);
    int rc = 0;
    if ((ts && !json_is_string(ts)) || (tz && !json_is_string(tz)))
        rc = pond_error_set(POND_ECORRUPT, D, "%s: %s or %s is not a string", path, TS_ATTR,
                            TZ_ATTR);
    if (rc == 0 && ts && !(out->set.timestamp_column = pond_strdup(json_string_value(ts))))
        rc = POND_ENOMEM;
    if (rc == 0 && tz && !(out->set.timezone = pond_strdup(json_string_value(tz))))
        rc = POND_ENOMEM;
    if (rc == 0)
        rc = dup_strings(&out->set.time_formats, &out->set.n_time_formats,
                         json_object_get(obj, FMT_ATTR), path, FMT_ATTR);
    const json_t *v;
    if (rc == 0 && (v = json_object_get(obj, DEDUP_ATTR)))
        rc = parse_dedup(out, v, path);
    if (rc == 0 && (v = json_object_get(obj, COMPACT_ATTR))) {
        const json_t *after = json_object_get(v, "after");
        if (!json_is_integer(after) || json_integer_value(after) < 2)
            rc = corrupt(path, COMPACT_ATTR, "not {after: N} with N >= 2");
        else
            out->set.compact_after = json_integer_value(after);
    }
    if (rc == 0 && (v = json_object_get(obj, SCHEMA_ATTR)))
        rc = parse_schema(out, v, path);
    if (rc == 0 && (v = json_object_get(obj, COMPS_ATTR)))
        rc = parse_comps(out, v, path);
    if (rc < 0)
        pond_table__attrs_dispose(out);
    return rc;
}

int pond_table__attrs_read(table_attrs *out, pond_fs_node *node)
{
    char *cur = NULL;
    int rc = pond_fs_node_get_xattrs(&cur, node);
    if (rc == POND_ENOTFOUND)
        rc = 0; /* a new series: nothing recorded */
    if (rc == 0)
        rc = pond_table__attrs_parse(out, cur, pond_fs_node_path(node));
    pond_free(cur);
    return rc;
}

/* Puts key = v (taken; NULL is out of memory) into a->obj. */
static int put(table_attrs *a, const char *key, json_t *v)
{
    return v && json_object_set_new(a->obj, key, v) == 0
               ? 0
               : pond_error_set(POND_ENOMEM, D, "out of memory");
}

int pond_table__attrs_set_settings(table_attrs *a, const pond_series_settings *s)
{
    int rc = put(a, TS_ATTR, json_string(s->timestamp_column));
    if (rc == 0)
        rc = put(a, TZ_ATTR, json_string(s->timezone ? s->timezone : "UTC"));
    if (rc == 0 && s->n_time_formats)
        rc = put(a, FMT_ATTR,
                 pond__json_strings((const char *const *)s->time_formats, s->n_time_formats));
    else if (rc == 0)
        json_object_del(a->obj, FMT_ATTR);
    return rc;
}

int pond_table__attrs_set_dedup(table_attrs *a, pond_dedup d, const char *const *keys, size_t n)
{
    if (d != POND_DEDUP_LAST) {
        json_object_del(a->obj, DEDUP_ATTR);
        return 0;
    }
    json_t *o = json_object();
    int rc = put(a, DEDUP_ATTR, o);
    if (rc == 0)
        rc = o && json_object_set_new(o, "keep", json_string("last")) == 0 ? 0 : POND_ENOMEM;
    if (rc == 0)
        rc = json_object_set_new(o, "keys", pond__json_strings(keys, n)) == 0
                 ? 0
                 : pond_error_set(POND_ENOMEM, D, "out of memory");
    return rc;
}

int pond_table__attrs_keep_btime(table_attrs *a, int64_t btime_us)
{
    if (btime_us <= 0 || json_object_get(a->obj, POND_XATTR_BTIME))
        return 0;
    return put(a, POND_XATTR_BTIME, json_integer((json_int_t)btime_us));
}

int pond_table__attrs_set_compact_after(table_attrs *a, int64_t after)
{
    if (after <= 0) {
        json_object_del(a->obj, COMPACT_ATTR);
        return 0;
    }
    json_t *o = json_pack("{sI}", "after", (json_int_t)after);
    return put(a, COMPACT_ATTR, o);
}

int pond_table__attrs_add_compaction(table_attrs *a, int64_t version, int64_t lo, int64_t hi)
{
    json_t *cs = json_object_get(a->obj, COMPS_ATTR);
    if (!cs) {
        if (put(a, COMPS_ATTR, json_array()) < 0)
            return POND_ENOMEM;
        cs = json_object_get(a->obj, COMPS_ATTR);
    }
    /* an entry whose versions and compacted version this one replaces says nothing more (a
     * sql recipe's recompute replaces every earlier version), nor does one for this same
     * version (written again in its transaction): dropped, so the list does not grow with
     * each refresh. A compaction starts after the last one and drops none. */
    for (size_t i = a->n_comps; i-- > 0;) {
        if (a->comps[i].version != version && (a->comps[i].lo < lo || a->comps[i].version > hi))
            continue;
        json_array_remove(cs, i);
        memmove(&a->comps[i], &a->comps[i + 1], (a->n_comps - i - 1) * sizeof *a->comps);
        a->n_comps--;
    }
    json_t *e = json_pack("[III]", (json_int_t)version, (json_int_t)lo, (json_int_t)hi);
    if (!e || json_array_append_new(cs, e) < 0)
        return pond_error_set(POND_ENOMEM, D, "out of memory");
    table_compaction *nc = pond_realloc(a->comps, (a->n_comps + 1) * sizeof *nc);
    if (!nc)
        return POND_ENOMEM;
    a->comps = nc;
    a->comps[a->n_comps++] = (table_compaction){version, lo, hi};
    return 0;
}

int pond_table__attrs_set_entry(table_attrs *a, int64_t version, int64_t rows, int64_t lo,
                                int64_t hi, const pond_hash *hashes, size_t n_hashes)
{
    json_t *e = lo > 0 ? json_pack("{sIsIs[II]}", "v", (json_int_t)version, "rows",
                                   (json_int_t)rows, "replaces", (json_int_t)lo, (json_int_t)hi)
                       : json_pack("{sIsI}", "v", (json_int_t)version, "rows", (json_int_t)rows);
    int rc = put(a, VERSION_ATTR, e);
    if (rc < 0 || !n_hashes)
        return rc;
    /* a compacted version remembers the content of what it replaces, so that re-importing a
     * replaced version's file is still recognised once retention dropped that version */
    json_t *hs = json_array();
    rc = hs && json_object_set_new(e, "hashes", hs) == 0 ? 0 : POND_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n_hashes; i++) {
        char hex[65];
        pond_hash_hex(hex, &hashes[i]);
        if (json_array_append_new(hs, json_string(hex)) < 0)
            rc = POND_ENOMEM;
    }
    return rc < 0 ? pond_error_set(POND_ENOMEM, D, "out of memory") : 0;
}

/* ---- a version's entry, scanned directly (describe, every read's plan and the identical
 * re-import check read it for each version: a jansson tree per version was a fifth of a one-day
 * cat of a long series). The one parser of an entry. ---------------------------------------- */

/* What an entry says. */
typedef struct {
    bool has_v, has_rows, has_replaces;
    int64_t v, rows, lo, hi;
    const char *hashes; /* the text just after the '[' of "hashes", NULL when absent */
} entry;

typedef struct {
    const char *p, *end; /* end: the entry's closing '}' */
} scan;

static void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool accept(scan *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The four hex digits after "\\u" (s->p at the 'u', left at the last digit). */
static bool scan_u4(scan *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (++s->p >= s->end || !is_hex(*s->p))
            return false;
        char c = *s->p;
        v = v * 16 + (unsigned)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    *out = v;
    return true;
}

/* A JSON string: start and len give its raw text between the quotes (escapes as they are).
 * Refused as pond's JSON reading (jansson) refuses them: control characters, bad escapes,
 * \u0000, a surrogate escape not in a high-low pair, bytes that are not UTF-8. */
static bool scan_string(scan *s, const char **start, size_t *len)
{
    if (!accept(s, '"'))
        return false;
    const char *b = s->p;
    while (s->p < s->end && *s->p != '"') {
        unsigned char c = (unsigned char)*s->p;
        if (c < 0x20)
            return false;
        if (c >= 0x80) {
            int n = pond__utf8_seq((const uint8_t *)s->p, (size_t)(s->end - s->p));
            if (n <= 0)
                return false;
            s->p += n;
            continue;
        }
        if (c == '\\') {
            if (++s->p >= s->end)
                return false;
            if (*s->p == 'u') {
                unsigned u, lo;
                if (!scan_u4(s, &u) || u == 0 || (u >= 0xDC00 && u <= 0xDFFF))
                    return false; /* NUL, or a low surrogate alone */
                if (u >= 0xD800 && u <= 0xDBFF &&
                    (s->end - s->p < 3 || s->p[1] != '\\' || s->p[2] != 'u' ||
                     (s->p += 2, !scan_u4(s, &lo)) || lo < 0xDC00 || lo > 0xDFFF))
                    return false; /* a high surrogate must be followed by a low one */
            } else if (!strchr("\"\\/bfnrt", *s->p)) {
                return false;
            }
        }
        s->p++;
    }
    if (s->p >= s->end)
        return false;
    *start = b;
    *len = (size_t)(s->p - b);
    s->p++;
    return true;
}

/* A JSON number: 1 an integer in int64 (*out), 2 another number, 0 not a number (or an integer
 * out of range, which jansson refuses too). */
static int scan_number(scan *s, int64_t *out)
{
    skip_ws(s);
    const char *p = s->p;
    bool neg = p < s->end && *p == '-';
    p += neg;
    if (p >= s->end || !is_digit(*p))
        return 0;
    if (*p == '0' && p + 1 < s->end && is_digit(p[1]))
        return 0;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    bool over = false;
    for (; p < s->end && is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        over |= v > (lim - d) / 10;
        if (!over)
            v = v * 10 + d;
    }
    int kind = 1;
    if (p < s->end && *p == '.') {
        if (++p >= s->end || !is_digit(*p))
            return 0;
        while (p < s->end && is_digit(*p))
            p++;
        kind = 2;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= s->end || !is_digit(*p))
            return 0;
        while (p < s->end && is_digit(*p))
            p++;
        kind = 2;
    }
    if (kind == 1 && over)
        return 0;
    if (kind == 1)
        *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    s->p = p;
    return kind;
}

enum { V_BAD, V_INT, V_OTHER, V_ARRAY };

/* Any value an entry may hold (an object cannot: the entry's text ends at its first '}'): an
 * integer into ints[0]; an array's first two values into ints (0 when not an integer) and its
 * length into *n. */
static int scan_value(scan *s, int depth, int64_t ints[2], int64_t *n)
{
    skip_ws(s);
    if (s->p >= s->end || depth > MAX_DEPTH)
        return V_BAD;
    const char *str;
    size_t len;
    int64_t x;
    switch (*s->p) {
    case '"':
        return scan_string(s, &str, &len) ? V_OTHER : V_BAD;
    case '[': {
        s->p++;
        int64_t k = 0;
        if (!accept(s, ']')) {
            do {
                int64_t one[2] = {0, 0};
                int t = scan_value(s, depth + 1, one, NULL);
                if (t == V_BAD)
                    return V_BAD;
                if (ints && k < 2)
                    ints[k] = t == V_INT ? one[0] : 0; /* as json_integer_value reads it */
                k++;
            } while (accept(s, ','));
            if (!accept(s, ']'))
                return V_BAD;
        }
        if (n)
            *n = k;
        return V_ARRAY;
    }
    case 't':
    case 'f':
    case 'n': {
        static const char *const words[] = {"true", "false", "null"};
        for (size_t i = 0; i < 3; i++) {
            size_t wl = strlen(words[i]);
            if ((size_t)(s->end - s->p) >= wl && !memcmp(s->p, words[i], wl)) {
                s->p += wl;
                return V_OTHER;
            }
        }
        return V_BAD;
    }
    default: {
        int k = scan_number(s, &x);
        if (k == 1 && ints)
            ints[0] = x;
        return k == 1 ? V_INT : k == 2 ? V_OTHER : V_BAD;
    }
    }
}

static bool key_is(const char *k, size_t len, const char *want)
{
    return len == strlen(want) && !memcmp(k, want, len);
}

/* The entry of xattrs (the JSON text of a version's attributes): true when it has one that is
 * valid JSON (what it holds is the caller's to judge), false when it has none or not one of
 * ours. Only the entry is read, not the whole object: keys are written sorted and compact, and
 * the entry holds no '}' inside (numbers and hex strings), so its text is the bytes from its
 * '{' to the first '}'. */
static bool entry_scan(entry *e, const char *xattrs)
{
    memset(e, 0, sizeof *e);
    const char *k = xattrs ? strstr(xattrs, "\"" VERSION_ATTR "\":{") : NULL;
    const char *close = k ? strchr(k, '}') : NULL;
    if (!close)
        return false;
    scan s = {k + strlen("\"" VERSION_ATTR "\":{"), close};
    skip_ws(&s);
    if (s.p == s.end)
        return true; /* {} */
    /* keys seen: a key given twice is refused (as pond's JSON reading refuses it); pond writes
     * at most four, unescaped, so more than MAX_ENTRY_KEYS or an escaped one is not an entry of
     * ours (jansson would read one with more keys: docs/decisions.md) */
    const char *seen[MAX_ENTRY_KEYS];
    size_t seen_len[MAX_ENTRY_KEYS], n_seen = 0;
    do {
        const char *key;
        size_t klen;
        if (!scan_string(&s, &key, &klen) || !accept(&s, ':') || memchr(key, '\\', klen) ||
            n_seen == MAX_ENTRY_KEYS)
            return false;
        for (size_t i = 0; i < n_seen; i++)
            if (seen_len[i] == klen && !memcmp(seen[i], key, klen))
                return false;
        seen[n_seen] = key;
        seen_len[n_seen++] = klen;
        skip_ws(&s);
        const char *at = s.p;
        int64_t ints[2] = {0, 0}, n = 0;
        int t = scan_value(&s, 1, ints, &n); /* the entry's own object is depth 1 */
        if (t == V_BAD)
            return false;
        if (key_is(key, klen, "v")) {
            e->has_v = t == V_INT;
            e->v = ints[0];
        } else if (key_is(key, klen, "rows")) {
            e->has_rows = t == V_INT;
            e->rows = ints[0];
        } else if (key_is(key, klen, "replaces")) {
            e->has_replaces = t == V_ARRAY && n == 2;
            e->lo = ints[0];
            e->hi = ints[1];
        } else if (key_is(key, klen, "hashes")) {
            e->hashes = t == V_ARRAY ? at + 1 : NULL;
        }
    } while (accept(&s, ','));
    skip_ws(&s);
    return s.p == s.end;
}

/* The next string of the (valid) "hashes" array at *p as a hash: 1 and *out, 0 at the end;
 * an element that is not a 64-digit hash is skipped (nothing to compare with). */
static int entry_next_hash(pond_hash *out, const char **p, const char *end)
{
    scan s = {*p, end};
    for (;;) {
        if (accept(&s, ']') || s.p >= s.end)
            return 0;
        (void)accept(&s, ',');
        skip_ws(&s);
        const char *str = NULL;
        size_t len = 0;
        bool is_str = s.p < s.end && *s.p == '"' && scan_string(&s, &str, &len);
        if (!is_str && scan_value(&s, 0, NULL, NULL) == V_BAD)
            return 0; /* not reached: entry_scan checked the array */
        *p = s.p;
        char hex[65];
        if (is_str && len == 64) {
            memcpy(hex, str, 64);
            hex[64] = '\0';
            if (pond_hash_from_hex(out, hex) == 0)
                return 1;
        }
    }
}

typedef struct {
    const table_attrs *a;
    table_hash *h;
    size_t n, cap;
} hash_list;

static int collect_hashes(const pond_stat *st, const char *xattrs, void *payload)
{
    hash_list *l = payload;
    bool compacted = false;
    for (size_t c = 0; c < l->a->n_comps && !compacted; c++)
        compacted = l->a->comps[c].version == st->version;
    entry e;
    if (!compacted || !entry_scan(&e, xattrs) || !e.hashes || e.v != st->version)
        return 0;
    const char *p = e.hashes, *end = strchr(p, '}');
    pond_hash h;
    while (entry_next_hash(&h, &p, end) == 1) {
        if (POND_GROW(l->h, l->n, l->cap) < 0)
            return POND_ENOMEM;
        l->h[l->n++] = (table_hash){h, st->version};
    }
    return 0;
}

int pond_table__replaced_hashes(table_hash **out, size_t *n_out, pond_fs_node *node,
                                const table_attrs *a)
{
    *out = NULL;
    *n_out = 0;
    if (!a->n_comps)
        return 0;
    hash_list l = {a, NULL, 0, 0};
    int rc = pond_fs_node_foreach_version(node, collect_hashes, &l);
    if (rc < 0) {
        pond_free(l.h);
        return rc;
    }
    *out = l.h;
    *n_out = l.n;
    return 0;
}

/* The merged schema into a->obj. */
static int store_schema(table_attrs *a)
{
    json_t *fields = json_array();
    json_t *sc =
        fields ? json_pack("{sIso}", "through", (json_int_t)a->through, "fields", fields) : NULL;
    int rc = put(a, SCHEMA_ATTR, sc);
    for (int64_t i = 0; rc == 0 && i < a->schema.n_children; i++)
        if (json_array_append_new(fields, field_json(a->schema.children[i], a->first[i])) < 0)
            rc = pond_error_set(POND_ENOMEM, D, "out of memory");
    return rc;
}

int pond_table__attrs_dump(char **out, table_attrs *a)
{
    *out = NULL;
    int rc = a->has_schema ? store_schema(a) : 0;
    if (rc < 0)
        return rc;
    *out = pond__json_dump(a->obj, JSON_SORT_KEYS);
    return *out ? 0 : POND_ENOMEM;
}

int pond_table__attrs_write(table_attrs *a, pond_fs_node *node)
{
    char *cur = NULL, *text = NULL;
    int rc = pond_table__attrs_dump(&text, a);
    if (rc == 0)
        rc = pond_fs_node_get_xattrs(&cur, node);
    if (rc == 0 && (!cur || strcmp(cur, text) != 0))
        rc = pond_fs_node_set_xattrs(node, text);
    pond_free(text);
    pond_free(cur);
    return rc;
}

int pond_table__version_entry(int64_t *rows, int64_t *lo, int64_t *hi, const char *json,
                              int64_t version)
{
    *rows = -1;
    *lo = *hi = 0;
    entry e;
    /* an entry copied from an earlier version (a write that did not index) is not this one's */
    if (!entry_scan(&e, json) || !e.has_v || e.v != version || !e.has_rows || e.rows < 0)
        return 0;
    *rows = e.rows;
    if (e.has_replaces) {
        *lo = e.lo;
        *hi = e.hi;
    }
    return 0;
}

int pond_table__column_list(pond_buf *out, const struct ArrowSchema *s)
{
    int rc = 0;
    for (int64_t k = 0; s && k < s->n_children && rc == 0; k++)
        rc = pond_buf_printf(out, "%s%s", k ? ", " : "",
                             s->children[k]->name ? s->children[k]->name : "");
    if (rc == 0 && !out->size)
        rc = pond_buf_puts(out, "none");
    return rc;
}

int pond_table__find_column(const struct ArrowSchema *s, const char *name)
{
    for (int64_t k = 0; k < s->n_children; k++)
        if (s->children[k]->name && !strcmp(s->children[k]->name, name))
            return (int)k;
    return -1;
}

int pond_table__attrs_check_schema(const table_attrs *a, const struct ArrowSchema *s,
                                   const char *path)
{
    bool earlier = a->has_schema && a->through > 0;
    if (!a->has_schema)
        return 0;
    pond__strmap names = {0}; /* the merged columns by name (no name appears twice there) */
    int rc = 0;
    for (int64_t k = 0; k < a->schema.n_children && rc == 0; k++)
        rc = pond__strmap_put(&names, a->schema.children[k]->name, k) < 0 ? POND_ENOMEM : 0;
    for (int64_t i = 0; i < s->n_children && rc == 0; i++) {
        const struct ArrowSchema *c = s->children[i];
        const char *cn = c->name ? c->name : "";
        int64_t k = pond__strmap_get(&names, cn);
        const struct ArrowSchema *o = k >= 0 ? a->schema.children[k] : NULL;
        char was[POND_ARROW_TYPE_NAME_LEN], now[POND_ARROW_TYPE_NAME_LEN];
        if (o && !pond_table__same_type(c, o))
            rc = pond_error_set(POND_EINVALID, D,
                                "%s: column '%s' is %s in version %lld but %s in the new "
                                "version: a series cannot change a column's type",
                                path, cn, pond_arrow_type_name(was, o->format),
                                (long long)a->first[k], pond_arrow_type_name(now, c->format));
        /* a column new in this version must be nullable: older versions read it as null */
        else if (!o && earlier && !(c->flags & ARROW_FLAG_NULLABLE))
            rc = pond_error_set(POND_EINVALID, D,
                                "%s: new column '%s' must be nullable (older versions read it "
                                "as null)",
                                path, cn);
    }
    pond__strmap_dispose(&names);
    return rc;
}

int pond_table__attrs_merge_schema(table_attrs *a, const struct ArrowSchema *s, int64_t version,
                                   const char *path)
{
    int rc = 0;
    bool earlier = a->has_schema && a->through > 0;
    if (!a->has_schema) {
        if ((rc = pond_arrow_schema_init(&a->schema, "+s", "", 0, 0)) < 0)
            return rc;
        a->has_schema = true;
    }
    /* check everything first: a refused version changes nothing */
    if ((rc = pond_table__attrs_check_schema(a, s, path)) < 0)
        return rc;
    int64_t n0 = a->schema.n_children, n = n0;
    /* names through maps (a loop per name is quadratic in a wide series): `in` has the first
     * column of s of each name, `added` the columns of s the merged schema lacks, in order */
    pond__strmap old = {0}, in = {0};
    int64_t *added = pond_calloc((size_t)(s->n_children ? s->n_children : 1), sizeof *added);
    if (!added)
        return POND_ENOMEM;
    for (int64_t k = 0; k < n0 && rc == 0; k++)
        rc = pond__strmap_put(&old, a->schema.children[k]->name, k) < 0 ? POND_ENOMEM : 0;
    for (int64_t i = 0; i < s->n_children && rc == 0; i++) {
        const char *nm = s->children[i]->name ? s->children[i]->name : "";
        rc = pond__strmap_put(&in, nm, i) < 0 ? POND_ENOMEM : 0;
        if (rc == 0 && pond__strmap_get(&old, nm) < 0)
            added[n++ - n0] = i;
    }
    pond__strmap_dispose(&old);
    /* a new struct: the old children moved in, the new columns copied after them */
    struct ArrowSchema ns;
    int64_t *first = rc == 0 ? pond_calloc((size_t)(n ? n : 1), sizeof *first) : NULL;
    if (!first) {
        pond__strmap_dispose(&in);
        pond_free(added);
        return rc < 0 ? rc : POND_ENOMEM;
    }
    if ((rc = pond_arrow_schema_init(&ns, "+s", "", 0, n)) < 0) {
        pond__strmap_dispose(&in);
        pond_free(added);
        pond_free(first);
        return rc;
    }
    for (int64_t k = 0; k < n && rc == 0; k++) {
        if (k >= n0) { /* the (k - n0)-th column of s the merged schema lacks */
            const struct ArrowSchema *c = s->children[added[k - n0]];
            if (!c->name || !*c->name)
                rc = pond_error_set(POND_EINVALID, D, "%s: a column has no name", path);
            else if ((rc = pond_arrow_schema_copy(ns.children[k], c)) == 0 && earlier)
                ns.children[k]->flags |= ARROW_FLAG_NULLABLE;
            first[k] = version;
            continue;
        }
        pond_arrow_schema_move(ns.children[k], a->schema.children[k]);
        first[k] = a->first[k];
    }
    pond_free(added);
    if (rc < 0) {
        /* give the moved columns back: the merged schema is unchanged on failure */
        for (int64_t k = 0; k < n0; k++)
            pond_arrow_schema_move(a->schema.children[k], ns.children[k]);
        pond_arrow_schema_release(&ns);
        pond__strmap_dispose(&in);
        pond_free(first);
        return rc;
    }
    for (int64_t k = 0; k < n0; k++) {
        int64_t i = pond__strmap_get(&in, ns.children[k]->name);
        const struct ArrowSchema *c = i >= 0 ? s->children[i] : NULL;
        /* a version without the column reads it as null */
        if (!c || (c->flags & ARROW_FLAG_NULLABLE))
            ns.children[k]->flags |= ARROW_FLAG_NULLABLE;
    }
    pond__strmap_dispose(&in);
    pond_arrow_schema_release(&a->schema);
    pond_arrow_schema_move(&a->schema, &ns);
    pond_free(a->first);
    a->first = first;
    if (version > a->through)
        a->through = version;
    return rc;
}

/* ---- settings ------------------------------------------------------------------------------ */

void pond_series_settings_dispose(pond_series_settings *s)
{
    if (!s)
        return;
    pond_free(s->timestamp_column);
    pond_free(s->timezone);
    for (size_t i = 0; i < s->n_time_formats; i++)
        pond_free(s->time_formats[i]);
    pond_free(s->time_formats);
    for (size_t i = 0; i < s->n_dedup_keys; i++)
        pond_free(s->dedup_keys[i]);
    pond_free(s->dedup_keys);
    memset(s, 0, sizeof *s);
}

int pond_series_node_settings_get(pond_series_settings *out, pond_fs_node *node)
{
    memset(out, 0, sizeof *out);
    table_attrs a;
    int rc = pond_table__attrs_read(&a, node);
    if (rc < 0)
        return rc;
    *out = a.set;
    memset(&a.set, 0, sizeof a.set);
    pond_table__attrs_dispose(&a);
    return 0;
}

int pond_series_settings_get(pond_series_settings *out, pond_fs *fs, const pond_wd *wd,
                             const char *path)
{
    memset(out, 0, sizeof *out);
    pond_fs_node *h = NULL;
    int rc = pond_fs_node_open(&h, fs, wd, path, 0);
    if (rc == POND_ENOTFOUND)
        return 0; /* not even its directory: nothing recorded */
    if (rc == 0)
        rc = pond_series_node_settings_get(out, h);
    pond_fs_node_free(h);
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

static int dup_list(char ***out, size_t *n_out, const char *const *s, size_t n)
{
    if (!n)
        return 0;
    if (!(*out = pond_calloc(n, sizeof **out)))
        return POND_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!((*out)[i] = pond_strdup(s[i])))
            return POND_ENOMEM;
        (*n_out)++;
    }
    return 0;
}

int pond_table__settings_resolve(pond_series_settings *out, const pond_series_settings *rec,
                                 const char *path, const char *timestamp_column,
                                 const char *timezone, const char *const *time_formats,
                                 size_t n_time_formats)
{
    memset(out, 0, sizeof *out);
    int rc = settings_check(rec, path, timestamp_column, timezone);
    if (rc == 0)
        rc = dup_or_null(&out->timestamp_column,
                         timestamp_column ? timestamp_column : rec->timestamp_column);
    if (rc == 0)
        rc = dup_or_null(&out->timezone, timezone        ? timezone
                                         : rec->timezone ? rec->timezone
                                                         : "UTC");
    if (rc == 0 && n_time_formats)
        rc = dup_list(&out->time_formats, &out->n_time_formats, time_formats, n_time_formats);
    else if (rc == 0)
        rc = dup_list(&out->time_formats, &out->n_time_formats,
                      (const char *const *)rec->time_formats, rec->n_time_formats);
    if (rc == 0)
        rc = dup_list(&out->dedup_keys, &out->n_dedup_keys, (const char *const *)rec->dedup_keys,
                      rec->n_dedup_keys);
    out->dedup = rec->dedup;
    out->compact_after = rec->compact_after;
    if (rc < 0)
        pond_series_settings_dispose(out);
    return rc;
}

int pond_series_node_settings_resolve(pond_series_settings *out, pond_fs_node *node,
                                      const char *timestamp_column, const char *timezone,
                                      const char *const *time_formats, size_t n_time_formats)
{
    memset(out, 0, sizeof *out);
    pond_series_settings rec;
    int rc = pond_series_node_settings_get(&rec, node);
    if (rc == 0)
        rc = pond_table__settings_resolve(out, &rec, pond_fs_node_path(node), timestamp_column,
                                          timezone, time_formats, n_time_formats);
    pond_series_settings_dispose(&rec);
    return rc;
}

int pond_series_settings_resolve(pond_series_settings *out, pond_fs *fs, const pond_wd *wd,
                                 const char *path, const char *timestamp_column,
                                 const char *timezone, const char *const *time_formats,
                                 size_t n_time_formats)
{
    pond_series_settings none;
    memset(out, 0, sizeof *out);
    memset(&none, 0, sizeof none);
    pond_fs_node *h = NULL;
    int rc = pond_fs_node_open(&h, fs, wd, path, 0);
    if (rc == POND_ENOTFOUND) /* its directory does not exist (yet): nothing recorded */
        rc = pond_table__settings_resolve(out, &none, path, timestamp_column, timezone,
                                          time_formats, n_time_formats);
    else if (rc == 0)
        rc = pond_series_node_settings_resolve(out, h, timestamp_column, timezone, time_formats,
                                               n_time_formats);
    pond_fs_node_free(h);
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

/* ---- the index: covering every version, per-version entries ------------------------------- */

int pond_table__attrs_cover(table_attrs *a, pond_fs_node *node, const pond_stat *vs, size_t nv)
{
    int rc = 0;
    for (size_t i = 0; i < nv && rc == 0; i++) {
        if (vs[i].size == 0 || (a->has_schema && vs[i].version <= a->through))
            continue;
        /* written before the index, or by a writer that did not keep it */
        struct ArrowSchema s = {0};
        if ((rc = pond_table__version_footer(NULL, &s, node, vs[i].version)) == 0)
            rc = pond_table__attrs_merge_schema(a, &s, vs[i].version, pond_fs_node_path(node));
        pond_arrow_schema_release(&s);
    }
    return rc;
}

typedef struct {
    pond_series_version_info *v;
    size_t n, cap;
    bool entries; /* read each version's entry (rows, replaces) */
} info_list;

static int collect_info(const pond_stat *st, const char *xattrs, void *payload)
{
    info_list *l = payload;
    if (POND_GROW(l->v, l->n, l->cap) < 0)
        return POND_ENOMEM;
    pond_series_version_info *i = &l->v[l->n];
    memset(i, 0, sizeof *i);
    i->version = st->version;
    i->size = st->size;
    i->has_event_time = st->has_event_time;
    i->min_event_time_us = st->min_event_time_us;
    i->max_event_time_us = st->max_event_time_us;
    i->rows = -1;
    int rc = l->entries ? pond_table__version_entry(&i->rows, &i->replaces_lo, &i->replaces_hi,
                                                    xattrs, st->version)
                        : 0;
    if (rc == 0 && st->size == 0)
        i->rows = 0;
    if (rc == 0)
        l->n++;
    return rc;
}

static bool has_version(const int64_t *versions, size_t n, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (versions[mid] == v)
            return true;
        if (versions[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

void pond_table__mark_replaced(int64_t *replaced_by, const int64_t *versions, size_t n,
                               const table_compaction *comps, size_t n_comps, int64_t held_through)
{
    for (size_t i = 0; i < n; i++)
        replaced_by[i] = 0;
    for (size_t c = 0; c < n_comps; c++) {
        /* only a compacted version this view holds replaces anything: --at before it reads
         * the old layout. A range's listing leaves out a compacted version outside the range
         * while keeping versions without a recorded range that it replaced. */
        bool held = held_through > 0 ? comps[c].version > 0 && comps[c].version <= held_through
                                     : has_version(versions, n, comps[c].version);
        if (!held)
            continue;
        for (size_t i = 0; i < n; i++)
            if (versions[i] >= comps[c].lo && versions[i] <= comps[c].hi &&
                versions[i] < comps[c].version)
                replaced_by[i] = comps[c].version;
    }
}

int pond_series_node_versions(pond_series_version_info **out, size_t *n_out, pond_fs_node *node)
{
    POND_ASSERT_ARG(out && n_out && node);
    return pond_table__series_list(out, n_out, node, true);
}

int pond_table__series_list(pond_series_version_info **out, size_t *n_out, pond_fs_node *node,
                            bool entries)
{
    table_attrs a;
    int rc = pond_table__attrs_read(&a, node);
    if (rc == 0)
        rc = pond_table__series_list_with(out, n_out, node, &a, entries, NULL);
    pond_table__attrs_dispose(&a);
    return rc;
}

int pond_table__series_list_with(pond_series_version_info **out, size_t *n_out, pond_fs_node *node,
                                 const table_attrs *a, bool entries, const int64_t *range)
{
    *out = NULL;
    *n_out = 0;
    info_list l = {0};
    l.entries = entries;
    int64_t *vers = NULL, *by = NULL;
    /* The one listing a series read plans from (the read's stream, its output's version count,
     * the SQL scans). A read with a range lists only the versions whose recorded range overlaps
     * it (and every one without a range: the backend then reads only the oplog files that may
     * hold them), once the merged schema covers the latest version (a->through; attrs_cover
     * needs every later one). A compacted version always overlaps when a version it replaced
     * does (it holds the same rows), so mark_replaced still sees it; a newer version holding a
     * late row of the range overlaps it too, so dedup=last still sees it. */
    pond_stat st;
    int rc = 0;
    bool ranged = false;
    if (range && a->has_schema && (rc = pond_fs_node_stat(&st, node)) == 0)
        ranged = st.version <= a->through;
    if (rc == 0)
        rc = ranged ? pond_fs_node_foreach_version_overlapping(node, range[0], range[1],
                                                               collect_info, &l)
                    : pond_fs_node_foreach_version(node, collect_info, &l);
    if (rc == 0 && l.n) {
        vers = pond_calloc(l.n, sizeof *vers);
        by = pond_calloc(l.n, sizeof *by);
        if (!vers || !by)
            rc = POND_ENOMEM;
    }
    if (rc == 0 && l.n) {
        for (size_t i = 0; i < l.n; i++)
            vers[i] = l.v[i].version;
        pond_table__mark_replaced(by, vers, l.n, a->comps, a->n_comps, ranged ? st.version : 0);
        for (size_t i = 0; i < l.n; i++)
            l.v[i].replaced_by = by[i];
    }
    pond_free(vers);
    pond_free(by);
    if (rc < 0) {
        pond_free(l.v);
        return rc;
    }
    *out = l.v;
    *n_out = l.n;
    return 0;
}

int pond_table_node_schema(struct ArrowSchema *out, pond_fs_node *node)
{
    POND_ASSERT_ARG(out && node);
    memset(out, 0, sizeof *out);
    pond_stat st;
    int rc = pond_fs_node_stat(&st, node);
    if (rc < 0)
        return rc;
    if (st.type == POND_ENTRY_FILE_TABLE)
        return st.size ? pond_table__version_footer(NULL, out, node, 0)
                       : pond_arrow_schema_init(out, "+s", "", 0, 0);
    if (st.type != POND_ENTRY_FILE_SERIES)
        return pond_error_set(POND_EINVALID, D, "%s is a %s, not a table or series",
                              pond_fs_node_path(node), pond_entry_type_name(st.type));
    table_attrs a;
    pond_stat *vs = NULL;
    size_t nv = 0;
    if ((rc = pond_table__attrs_read(&a, node)) < 0)
        return rc;
    /* the version list only when the index does not cover the newest version */
    if ((!a.has_schema || st.version > a.through) &&
        (rc = pond_fs_node_versions(&vs, &nv, node)) == 0)
        rc = pond_table__attrs_cover(&a, node, vs, nv);
    if (rc == 0)
        rc = a.has_schema ? pond_arrow_schema_copy(out, &a.schema)
                          : pond_arrow_schema_init(out, "+s", "", 0, 0);
    pond_free(vs);
    pond_table__attrs_dispose(&a);
    return rc;
}

int pond_table_schema(struct ArrowSchema *out, pond_fs *fs, const pond_wd *wd, const char *path)
{
    pond_fs_node *h = NULL;
    int rc = pond_fs_node_open(&h, fs, wd, path, 0);
    if (rc == 0)
        rc = pond_table_node_schema(out, h);
    pond_fs_node_free(h);
    return rc;
}

/* ---- settings changes: a version without rows carrying the new attributes ------------------ */

/* The version a write through node creates now: the pending one of this transaction, or the
 * next. */
int pond_table__next_version(int64_t *out, pond_fs_node *node)
{
    pond_stat st;
    int rc = pond_fs_node_stat(&st, node);
    if (rc == POND_ENOTFOUND) {
        *out = 1;
        return 0;
    }
    int64_t last = 0;
    if (rc == 0)
        rc = pond_fs_last_txn(&last, pond_fs_node_fs(node));
    if (rc < 0)
        return rc;
    *out = st.txn_seq > last ? st.version : st.version + 1;
    return 0;
}

static int open_series(table_attrs *a, pond_stat **vs, size_t *nv, pond_fs_node *node)
{
    pond_stat st;
    int rc = pond_fs_node_stat(&st, node);
    if (rc < 0)
        return rc;
    if (st.type != POND_ENTRY_FILE_SERIES)
        return pond_error_set(POND_EINVALID, D, "%s is a %s: this is a series setting",
                              pond_fs_node_path(node), pond_entry_type_name(st.type));
    if ((rc = pond_table__attrs_read(a, node)) < 0)
        return rc;
    if ((rc = pond_fs_node_versions(vs, nv, node)) == 0)
        rc = pond_table__attrs_cover(a, node, *vs, *nv);
    if (rc < 0) {
        pond_table__attrs_dispose(a);
        pond_free(*vs);
        *vs = NULL;
    }
    return rc;
}

/* Writes the settings version: no rows, the attributes as a holds them. */
int pond_table__write_settings_version(table_attrs *a, pond_fs_node *node)
{
    int64_t v, last = 0;
    pond_writer *w = NULL;
    pond_stat st;
    int rc = pond_fs_node_stat(&st, node);
    if (rc == 0)
        rc = pond_fs_last_txn(&last, pond_fs_node_fs(node));
    if (rc < 0)
        return rc;
    if (st.txn_seq > last) /* this transaction already wrote a version: it carries them */
        return pond_table__attrs_write(a, node);
    rc = pond_table__next_version(&v, node);
    if (rc == 0)
        rc = pond_fs_node_open_writer(&w, node, POND_ENTRY_FILE_SERIES);
    if (rc == 0)
        rc = pond_writer_finish(w);
    pond_writer_free(w);
    if (rc == 0)
        rc = pond_table__attrs_set_entry(a, v, 0, 0, 0, NULL, 0);
    if (rc == 0)
        rc = pond_table__attrs_write(a, node);
    return rc;
}

static bool same_keys(const pond_series_settings *s, pond_dedup d, const char *const *keys,
                      size_t n)
{
    if ((s->dedup == POND_DEDUP_LAST) != (d == POND_DEDUP_LAST))
        return false;
    if (d != POND_DEDUP_LAST)
        return true;
    if (s->n_dedup_keys != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->dedup_keys[i], keys[i]))
            return false;
    return true;
}

int pond_series_set_dedup(pond_fs_node *node, pond_dedup dedup, const char *const *keys,
                          size_t n_keys)
{
    POND_ASSERT_ARG(node && (keys || !n_keys));
    table_attrs a;
    pond_stat *vs = NULL;
    size_t nv = 0;
    const char *path = pond_fs_node_path(node);
    int rc = open_series(&a, &vs, &nv, node);
    if (rc < 0)
        return rc;
    /* names through maps: a loop per key is quadratic in a wide series */
    pond__strmap cols = {0}, given = {0};
    for (int64_t k = 0; a.has_schema && k < a.schema.n_children && rc == 0; k++)
        rc = pond__strmap_put(&cols, a.schema.children[k]->name, k) < 0 ? POND_ENOMEM : 0;
    for (size_t i = 0; i < n_keys && rc == 0 && dedup == POND_DEDUP_LAST; i++) {
        int64_t ck = pond__strmap_get(&cols, keys[i]);
        const struct ArrowSchema *c = ck >= 0 ? a.schema.children[ck] : NULL;
        pond_arrow_format f;
        if (!c) {
            pond_buf have = POND_BUF_INIT;
            (void)pond_table__column_list(&have, a.has_schema ? &a.schema : NULL);
            rc = pond_error_set(POND_EINVALID, D,
                                "%s: no column '%s' to deduplicate by "
                                "(columns: %s)",
                                path, keys[i], have.ptr ? have.ptr : "none");
            pond_buf_dispose(&have);
        } else if (a.set.timestamp_column && !strcmp(keys[i], a.set.timestamp_column))
            rc = pond_error_set(POND_EINVALID, D,
                                "%s: '%s' is the timestamp column, always part of the key: "
                                "name only the other key columns",
                                path, keys[i]);
        else if (pond_arrow_format_parse(&f, c->format) < 0 || nested(&f))
            rc = pond_error_set(POND_EINVALID, D,
                                "%s: column '%s' has a nested type: it cannot be a key", path,
                                keys[i]);
        int twice = rc == 0 ? pond__strmap_put(&given, keys[i], (int64_t)i) : 0;
        if (twice < 0)
            rc = twice;
        else if (twice == 1)
            rc = pond_error_set(POND_EINVALID, D, "%s: key column '%s' given twice", path, keys[i]);
    }
    pond__strmap_dispose(&cols);
    pond__strmap_dispose(&given);
    if (rc == 0 && dedup == POND_DEDUP_LAST && !a.set.timestamp_column)
        rc = pond_error_set(POND_EINVALID, D,
                            "%s: the series has no timestamp column yet (write a version first)",
                            path);
    /* a rollup's or join's refresh appends recomputed rows that must replace the earlier ones
     * of their bucket (and keys): without its rule a read would return both */
    const json_t *recipe = json_object_get(a.obj, "pond.derived");
    const char *kind = json_string_value(json_object_get(recipe, "kind"));
    if (rc == 0 && kind && strcmp(kind, "sql") && !same_keys(&a.set, dedup, keys, n_keys))
        rc = pond_error_set(POND_EINVALID, D,
                            "%s is a derived node (%s): its refreshes rely on its dedup=last "
                            "rule, which cannot be changed",
                            path, kind);
    if (rc == 0 && !same_keys(&a.set, dedup, keys, n_keys)) {
        rc = pond_table__attrs_set_dedup(&a, dedup, keys, n_keys);
        if (rc == 0)
            rc = pond_table__write_settings_version(&a, node);
    }
    pond_free(vs);
    pond_table__attrs_dispose(&a);
    return rc;
}

int pond_series_set_compact_after(pond_fs_node *node, int64_t after)
{
    POND_ASSERT_ARG(node);
    if (after == 1 || after < 0)
        return pond_error_set(POND_EINVALID, D,
                              "%s: compaction needs at least 2 versions to merge (0: off)",
                              pond_fs_node_path(node));
    table_attrs a;
    pond_stat *vs = NULL;
    size_t nv = 0;
    int rc = open_series(&a, &vs, &nv, node);
    if (rc < 0)
        return rc;
    if (a.set.compact_after != after) {
        rc = pond_table__attrs_set_compact_after(&a, after);
        if (rc == 0)
            rc = pond_table__write_settings_version(&a, node);
    }
    pond_free(vs);
    pond_table__attrs_dispose(&a);
    return rc;
}
