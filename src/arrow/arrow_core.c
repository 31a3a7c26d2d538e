/* Arrow C Data Interface: release/move, format strings, schema and array nodes owned by pond. */
#include <pond/arrow.h>

#include "arrow/arrow_cache.h"
#include "util/util.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- release and move */

void pond_arrow_schema_release(struct ArrowSchema *s)
{
    if (s && s->release)
        s->release(s);
}

void pond_arrow_array_release(struct ArrowArray *a)
{
    if (a && a->release)
        a->release(a);
}

void pond_arrow_stream_release(struct ArrowArrayStream *s)
{
    if (s && s->release)
        s->release(s);
}

void pond_arrow_schema_move(struct ArrowSchema *dst, struct ArrowSchema *src)
{
    memcpy(dst, src, sizeof *dst);
    src->release = NULL;
}

void pond_arrow_array_move(struct ArrowArray *dst, struct ArrowArray *src)
{
    memcpy(dst, src, sizeof *dst);
    src->release = NULL;
}

void pond_arrow_stream_move(struct ArrowArrayStream *dst, struct ArrowArrayStream *src)
{
    memcpy(dst, src, sizeof *dst);
    src->release = NULL;
}

/* ---------------------------------------------------------------- format strings */

static int parse_int(const char **p, int *out)
{
    const char *s = *p;
    long v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > 1000000000L)
            return -1;
        s++;
    }
    *out = (int)v;
    *p = s;
    return 0;
}

static int bad_format(const char *f)
{
    return pond_error_set(POND_EINVALID, POND_DOM_ARROW,
                          "arrow: unknown or malformed format "
                          "string '%.40s'",
                          f ? f : "(null)");
}

static int unit_of(char c, pond_arrow_unit *u)
{
    switch (c) {
    case 's':
        *u = POND_ARROW_UNIT_S;
        return 0;
    case 'm':
        *u = POND_ARROW_UNIT_MS;
        return 0;
    case 'u':
        *u = POND_ARROW_UNIT_US;
        return 0;
    case 'n':
        *u = POND_ARROW_UNIT_NS;
        return 0;
    default:
        return -1;
    }
}

const char *pond_arrow_type_name(char out[POND_ARROW_TYPE_NAME_LEN], const char *f)
{
    const size_t cap = POND_ARROW_TYPE_NAME_LEN;
    static const struct {
        const char *fmt, *name;
    } names[] = {{"n", "null"},       {"b", "bool"},       {"c", "int8"},       {"C", "uint8"},
                 {"s", "int16"},      {"S", "uint16"},     {"i", "int32"},      {"I", "uint32"},
                 {"l", "int64"},      {"L", "uint64"},     {"e", "float16"},    {"f", "float"},
                 {"g", "double"},     {"u", "string"},     {"U", "string"},     {"z", "binary"},
                 {"Z", "binary"},     {"tdD", "date"},     {"tdm", "date64"},   {"tts", "time[s]"},
                 {"ttm", "time[ms]"}, {"ttu", "time[us]"}, {"ttn", "time[ns]"}, {"+s", "struct"},
                 {"+l", "list"},      {"+L", "list"},      {"+m", "map"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(f, names[i].fmt)) {
            snprintf(out, cap, "%s", names[i].name);
            return out;
        }
    if (f[0] == 't' && f[1] == 's') {
        static const char *units[] = {"s", "ms", "us", "ns"};
        const char *u = f[2] == 's'   ? units[0]
                        : f[2] == 'm' ? units[1]
                        : f[2] == 'u' ? units[2]
                                      : units[3];
        const char *tz = strchr(f, ':');
        snprintf(out, cap, "timestamp[%s%s%s]", u, tz && tz[1] ? ", " : "",
                 tz && tz[1] ? tz + 1 : "");
        return out;
    }
    if (f[0] == 'd' && f[1] == ':') {
        snprintf(out, cap, "decimal(%s)", f + 2);
        return out;
    }
    if (f[0] == 'w' && f[1] == ':') {
        snprintf(out, cap, "fixed_binary(%s)", f + 2);
        return out;
    }
    if (f[0] == 't' && f[1] == 'D' && f[2]) {
        snprintf(out, cap, "duration[%s]",
                 f[2] == 's'   ? "s"
                 : f[2] == 'm' ? "ms"
                 : f[2] == 'u' ? "us"
                               : "ns");
        return out;
    }
    if (f[0] == 't' && f[1] == 'i') {
        snprintf(out, cap, "interval[%s]",
                 f[2] == 'M'   ? "months"
                 : f[2] == 'D' ? "days, ms"
                               : "months, days, ns");
        return out;
    }
    if (f[0] == '+' && f[1] == 'w' && f[2] == ':') {
        snprintf(out, cap, "fixed_list(%s)", f + 3);
        return out;
    }
    snprintf(out, cap, "unknown(%s)", f);
    return out;
}

int pond_arrow_format_parse(pond_arrow_format *out, const char *f)
{
    memset(out, 0, sizeof *out);
    out->tz = "";
    if (!f || !*f)
        return bad_format(f);
    out->n_buffers = 2;
    if (f[1] == '\0') {
        static const struct {
            char c;
            pond_arrow_type t;
            int bits;
        } simple[] = {
            {'b', POND_ARROW_BOOL, 1},    {'c', POND_ARROW_INT8, 8},
            {'C', POND_ARROW_UINT8, 8},   {'s', POND_ARROW_INT16, 16},
            {'S', POND_ARROW_UINT16, 16}, {'i', POND_ARROW_INT32, 32},
            {'I', POND_ARROW_UINT32, 32}, {'l', POND_ARROW_INT64, 64},
            {'L', POND_ARROW_UINT64, 64}, {'e', POND_ARROW_HALF, 16},
            {'f', POND_ARROW_FLOAT, 32},  {'g', POND_ARROW_DOUBLE, 64},
        };
        if (f[0] == 'n') {
            out->type = POND_ARROW_NA;
            out->n_buffers = 0;
            return 0;
        }
        for (size_t i = 0; i < POND_ARRAY_LEN(simple); i++) {
            if (simple[i].c == f[0]) {
                out->type = simple[i].t;
                out->bit_width = simple[i].bits;
                return 0;
            }
        }
        out->n_buffers = 3;
        switch (f[0]) {
        case 'z':
            out->type = POND_ARROW_BINARY;
            return 0;
        case 'u':
            out->type = POND_ARROW_STRING;
            return 0;
        case 'Z':
            out->type = POND_ARROW_LARGE_BINARY;
            return 0;
        case 'U':
            out->type = POND_ARROW_LARGE_STRING;
            return 0;
        default:
            return bad_format(f);
        }
    }
    const char *p = f + 2;
    if (f[0] == 'w' && f[1] == ':') {
        if (parse_int(&p, &out->width) < 0 || *p || out->width <= 0)
            return bad_format(f);
        out->type = POND_ARROW_FIXED_BINARY;
        out->bit_width = out->width * 8;
        return 0;
    }
    if (f[0] == 'd' && f[1] == ':') {
        int bits = 128;
        if (parse_int(&p, &out->precision) < 0 || *p++ != ',')
            return bad_format(f);
        bool neg = *p == '-';
        if (neg)
            p++;
        if (parse_int(&p, &out->scale) < 0)
            return bad_format(f);
        if (neg)
            out->scale = -out->scale;
        if (*p == ',') {
            p++;
            if (parse_int(&p, &bits) < 0 || (bits != 128 && bits != 256))
                return bad_format(f);
        }
        if (*p || out->precision <= 0)
            return bad_format(f);
        out->type = bits == 128 ? POND_ARROW_DECIMAL128 : POND_ARROW_DECIMAL256;
        out->bit_width = bits;
        return 0;
    }
    if (f[0] == 't') {
        switch (f[1]) {
        case 'd':
            if (!strcmp(f, "tdD")) {
                out->type = POND_ARROW_DATE32;
                out->bit_width = 32;
                return 0;
            }
            if (!strcmp(f, "tdm")) {
                out->type = POND_ARROW_DATE64;
                out->bit_width = 64;
                return 0;
            }
            return bad_format(f);
        case 't':
            if (unit_of(f[2], &out->unit) < 0 || f[3])
                return bad_format(f);
            out->type = out->unit <= POND_ARROW_UNIT_MS ? POND_ARROW_TIME32 : POND_ARROW_TIME64;
            out->bit_width = out->unit <= POND_ARROW_UNIT_MS ? 32 : 64;
            return 0;
        case 's':
            if (unit_of(f[2], &out->unit) < 0 || f[3] != ':')
                return bad_format(f);
            out->type = POND_ARROW_TIMESTAMP;
            out->tz = f + 4;
            out->bit_width = 64;
            return 0;
        case 'D':
            if (unit_of(f[2], &out->unit) < 0 || f[3])
                return bad_format(f);
            out->type = POND_ARROW_DURATION;
            out->bit_width = 64;
            return 0;
        case 'i':
            if (!strcmp(f, "tiM")) {
                out->type = POND_ARROW_INTERVAL_MONTHS;
                out->bit_width = 32;
            } else if (!strcmp(f, "tiD")) {
                out->type = POND_ARROW_INTERVAL_DAY_TIME;
                out->bit_width = 64;
            } else if (!strcmp(f, "tin")) {
                out->type = POND_ARROW_INTERVAL_MONTH_DAY_NANO;
                out->bit_width = 128;
            } else {
                return bad_format(f);
            }
            return 0;
        default:
            return bad_format(f);
        }
    }
    if (f[0] == '+') {
        if (!strcmp(f, "+l")) {
            out->type = POND_ARROW_LIST;
            return 0;
        }
        if (!strcmp(f, "+L")) {
            out->type = POND_ARROW_LARGE_LIST;
            return 0;
        }
        if (!strcmp(f, "+m")) {
            out->type = POND_ARROW_MAP;
            return 0;
        }
        if (!strcmp(f, "+s")) {
            out->type = POND_ARROW_STRUCT;
            out->n_buffers = 1;
            return 0;
        }
        if (f[1] == 'w' && f[2] == ':') {
            p = f + 3;
            if (parse_int(&p, &out->width) < 0 || *p || out->width <= 0)
                return bad_format(f);
            out->type = POND_ARROW_FIXED_LIST;
            out->n_buffers = 1;
            return 0;
        }
    }
    return bad_format(f);
}

/* ---------------------------------------------------------------- schema nodes */

typedef struct {
    char *format;
    char *name;
    char *metadata;
    struct ArrowSchema **child_ptrs;
    struct ArrowSchema *children;
} schema_priv;

static void schema_release(struct ArrowSchema *s)
{
    schema_priv *p = s->private_data;
    if (p) {
        for (int64_t i = 0; i < s->n_children; i++)
            pond_arrow_schema_release(s->children[i]);
        if (s->dictionary) {
            pond_arrow_schema_release(s->dictionary);
            pond_free(s->dictionary);
        }
        pond_free(p->format);
        pond_free(p->name);
        pond_free(p->metadata);
        pond_free(p->child_ptrs);
        pond_free(p->children);
        pond_free(p);
    }
    s->release = NULL;
}

int pond_arrow_schema_init(struct ArrowSchema *out, const char *format, const char *name,
                           int64_t flags, int64_t n_children)
{
    memset(out, 0, sizeof *out);
    if (!format || n_children < 0 || n_children > 1000000)
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW, "arrow: invalid schema node");
    schema_priv *p = pond_calloc(1, sizeof *p);
    if (!p)
        return POND_ENOMEM;
    out->private_data = p;
    out->release = schema_release;
    out->flags = flags;
    p->format = pond_strdup(format);
    p->name = name ? pond_strdup(name) : NULL;
    if (!p->format || (name && !p->name))
        goto oom;
    out->format = p->format;
    out->name = p->name;
    if (n_children > 0) {
        p->children = pond_calloc((size_t)n_children, sizeof *p->children);
        p->child_ptrs = pond_calloc((size_t)n_children, sizeof *p->child_ptrs);
        if (!p->children || !p->child_ptrs)
            goto oom;
        for (int64_t i = 0; i < n_children; i++)
            p->child_ptrs[i] = &p->children[i];
        out->children = p->child_ptrs;
        out->n_children = n_children;
    }
    return 0;
oom:
    schema_release(out);
    return POND_ENOMEM;
}

static void put_i32(char *p, int32_t v) { memcpy(p, &v, 4); }

int pond_arrow_schema_set_metadata(struct ArrowSchema *s, const char *const *keys,
                                   const char *const *values, int n)
{
    schema_priv *p = s->private_data;
    if (!p || s->release != schema_release || n < 0)
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW, "arrow: metadata on a foreign schema");
    size_t size = 4;
    for (int i = 0; i < n; i++)
        size += 8 + strlen(keys[i]) + strlen(values[i]);
    char *m = pond_malloc(size);
    if (!m)
        return POND_ENOMEM;
    char *w = m;
    put_i32(w, n);
    w += 4;
    for (int i = 0; i < n; i++) {
        size_t kl = strlen(keys[i]), vl = strlen(values[i]);
        put_i32(w, (int32_t)kl);
        memcpy(w + 4, keys[i], kl);
        w += 4 + kl;
        put_i32(w, (int32_t)vl);
        memcpy(w + 4, values[i], vl);
        w += 4 + vl;
    }
    pond_free(p->metadata);
    p->metadata = m;
    s->metadata = n ? m : NULL;
    return 0;
}

static size_t metadata_size(const char *m)
{
    if (!m)
        return 0;
    int32_t n, l;
    memcpy(&n, m, 4);
    size_t off = 4;
    for (int32_t i = 0; i < n * 2; i++) {
        memcpy(&l, m + off, 4);
        off += 4 + (size_t)l;
    }
    return off;
}

static int schema_copy_depth(struct ArrowSchema *out, const struct ArrowSchema *src, int depth)
{
    if (depth > 64)
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW, "arrow: schema nested too deeply");
    if (!src || !src->release || !src->format)
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW, "arrow: copy of a released schema");
    int rc = pond_arrow_schema_init(out, src->format, src->name, src->flags, src->n_children);
    if (rc < 0)
        return rc;
    schema_priv *p = out->private_data;
    if (src->metadata) {
        size_t n = metadata_size(src->metadata);
        if (!(p->metadata = pond_malloc(n)))
            goto fail;
        memcpy(p->metadata, src->metadata, n);
        out->metadata = p->metadata;
    }
    for (int64_t i = 0; i < src->n_children; i++)
        if ((rc = schema_copy_depth(out->children[i], src->children[i], depth + 1)) < 0)
            goto fail;
    if (src->dictionary) {
        if (!(out->dictionary = pond_calloc(1, sizeof *out->dictionary)))
            goto fail;
        if ((rc = schema_copy_depth(out->dictionary, src->dictionary, depth + 1)) < 0)
            goto fail;
    }
    return 0;
fail:
    schema_release(out);
    return rc < 0 ? rc : POND_ENOMEM;
}

int pond_arrow_schema_copy(struct ArrowSchema *out, const struct ArrowSchema *src)
{
    return schema_copy_depth(out, src, 0);
}

/* ---------------------------------------------------------------- array nodes */

typedef struct {
    void **bufs;
    struct ArrowArray **child_ptrs;
    struct ArrowArray *children;
    pond_bufcache *cache; /* buffers with a capacity in caps go back there */
    size_t caps[3];
} array_priv;

static void array_release(struct ArrowArray *a)
{
    array_priv *p = a->private_data;
    if (p) {
        for (int64_t i = 0; i < a->n_children; i++)
            pond_arrow_array_release(a->children[i]);
        if (a->dictionary) {
            pond_arrow_array_release(a->dictionary);
            pond_free(a->dictionary);
        }
        for (int64_t i = 0; i < a->n_buffers; i++) {
            if (p->caps[i])
                pond__bufcache_give(p->cache, p->bufs[i], p->caps[i]);
            else
                pond_free(p->bufs[i]);
        }
        pond__bufcache_unref(p->cache);
        pond_free(p->bufs);
        pond_free(p->child_ptrs);
        pond_free(p->children);
        pond_free(p);
    }
    a->release = NULL;
}

int pond_arrow_array_init(struct ArrowArray *out, int64_t length, int64_t null_count,
                          int64_t n_buffers, int64_t n_children)
{
    memset(out, 0, sizeof *out);
    if (length < 0 || n_buffers < 0 || n_buffers > 3 || n_children < 0 || n_children > 1000000)
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW, "arrow: invalid array node");
    array_priv *p = pond_calloc(1, sizeof *p);
    if (!p)
        return POND_ENOMEM;
    out->private_data = p;
    out->release = array_release;
    out->length = length;
    out->null_count = null_count;
    if (n_buffers) {
        if (!(p->bufs = pond_calloc((size_t)n_buffers, sizeof *p->bufs)))
            goto oom;
        out->buffers = (const void **)p->bufs;
        out->n_buffers = n_buffers;
    }
    if (n_children) {
        p->children = pond_calloc((size_t)n_children, sizeof *p->children);
        p->child_ptrs = pond_calloc((size_t)n_children, sizeof *p->child_ptrs);
        if (!p->children || !p->child_ptrs)
            goto oom;
        for (int64_t i = 0; i < n_children; i++)
            p->child_ptrs[i] = &p->children[i];
        out->children = p->child_ptrs;
        out->n_children = n_children;
    }
    return 0;
oom:
    array_release(out);
    return POND_ENOMEM;
}

void pond_arrow_array_set_buffer(struct ArrowArray *a, int64_t i, void *buf)
{
    array_priv *p = a->private_data;
    if (p->caps[i])
        pond__bufcache_give(p->cache, p->bufs[i], p->caps[i]);
    else
        pond_free(p->bufs[i]);
    p->caps[i] = 0;
    p->bufs[i] = buf;
}

void pond_arrow__array_set_cached_buffer(struct ArrowArray *a, int64_t i, void *buf, size_t cap,
                                         pond_bufcache *c)
{
    array_priv *p = a->private_data;
    pond_arrow_array_set_buffer(a, i, buf);
    if (!c || !buf)
        return;
    if (!p->cache)
        p->cache = pond__bufcache_ref(c);
    p->caps[i] = cap;
}

void *pond_arrow_array_alloc_buffer(struct ArrowArray *a, int64_t i, size_t bytes)
{
    void *b = pond_calloc(1, bytes ? bytes : 1);
    if (b)
        pond_arrow_array_set_buffer(a, i, b);
    return b;
}
