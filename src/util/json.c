/* jansson behind bounds (src/util/json.h): the only file that parses or prints JSON with it on
 * behalf of other layers. */
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

/* What jansson 2.14 allocates for a parsed document, per token (measured with pond's allocator
 * headers): a string, number or literal ~110 bytes (a key costs about as much, in its object's
 * hash table), an object ~270 bytes more than that even when empty, an array ~60 more; plus
 * the bytes of every string. */
#define JSON_COST_TOKEN 112u
#define JSON_COST_OBJECT 272u
#define JSON_COST_ARRAY 64u

/* jansson recurses once per nesting level and builds a tree many times the size of its text
 * (36x for typical actions, 90x for a crafted run of empty objects): bound both before
 * parsing, so hostile input can neither exhaust the stack nor the memory, and so every layer
 * sees the same limits. Returns the estimated size of the tree, or 0 when too deep. */
static size_t parse_cost(const char *s, size_t n, int max_depth)
{
    int depth = 0;
    bool in_str = false;
    size_t cost = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            cost++;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            cost += JSON_COST_TOKEN;
            break;
        case '{':
        case '[':
            if (++depth > max_depth)
                return 0;
            cost += JSON_COST_TOKEN + (c == '{' ? JSON_COST_OBJECT : JSON_COST_ARRAY);
            break;
        case '}':
        case ']':
            depth--;
            break;
        case '-':
        case 't':
        case 'f':
        case 'n':
            cost += JSON_COST_TOKEN;
            break;
        default:
            /* the first digit of a number (digits after a digit, '.', 'e' do not count) */
            if (c >= '0' && c <= '9' &&
                (i == 0 ||
                 !((s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '-' || s[i - 1] == '.' ||
                   s[i - 1] == 'e' || s[i - 1] == 'E' || s[i - 1] == '+')))
                cost += JSON_COST_TOKEN;
            break;
        }
    }
    return cost ? cost : 1;
}

json_t *pond__json_parse(const char *text, size_t len, size_t flags, const char *where, int domain)
{
    size_t cost = parse_cost(text, len, POND_JSON_MAX_DEPTH);
    if (!cost) {
        pond_error_set(POND_ECORRUPT, domain, "%s: invalid JSON (nesting deeper than %d levels)",
                       where, POND_JSON_MAX_DEPTH);
        return NULL;
    }
    if (cost > POND_JSON_MAX_TREE_BYTES) {
        pond_error_set(POND_ECORRUPT, domain,
                       "%s: JSON too large to parse (%zu bytes holding about %zu MiB of values; "
                       "the limit is %u MiB)",
                       where, len, cost >> 20, POND_JSON_MAX_TREE_BYTES >> 20);
        return NULL;
    }
    json_error_t err;
    json_t *j = json_loadb(text, len, flags | JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        if (json_error_code(&err) == json_error_out_of_memory)
            pond_error_set(POND_ENOMEM, domain, "%s: out of memory parsing JSON", where);
        else
            pond_error_set(POND_ECORRUPT, domain, "%s: invalid JSON (%s at position %d)", where,
                           err.text, err.position);
    }
    return j;
}

typedef struct {
    pond_buf *out;
    bool failed;
} dump_ctx;

/* jansson 2.14 does not check every callback's result: a failed append must also fail every
 * later one, and the dump is judged by the flag, or a commit could be written with a piece
 * of its JSON missing. */
static int dump_to_buf(const char *s, size_t n, void *payload)
{
    dump_ctx *c = payload;
    if (!c->failed && pond_buf_put(c->out, s, n) < 0)
        c->failed = true;
    return c->failed ? -1 : 0;
}

int pond__json_dump_buf(pond_buf *out, const json_t *j, size_t flags)
{
    size_t before = out->size;
    dump_ctx c = {out, false};
    int rc = json_dump_callback(j, dump_to_buf, &c, JSON_COMPACT | JSON_ENCODE_ANY | flags);
    if (rc < 0 || c.failed) {
        out->size = before;
        if (out->ptr)
            out->ptr[before] = '\0';
        return pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "out of memory serializing JSON");
    }
    /* an empty document still leaves a NUL-terminated (empty) string */
    return pond_buf_put(out, "", 0);
}

char *pond__json_dump(const json_t *j, size_t flags)
{
    pond_buf b = POND_BUF_INIT;
    if (pond__json_dump_buf(&b, j, flags) < 0) {
        pond_buf_dispose(&b);
        return NULL;
    }
    return pond_buf_detach(&b);
}

json_t *pond__json_strings(const char *const *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(s[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

bool pond__json_int(int64_t *out, const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

bool pond__json_top_int(int64_t *out, const char *text, const char *key)
{
    size_t klen = strlen(key);
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p != '{')
        return false;
    int depth = 0;
    for (; *p; p++) {
        char c = *p;
        if (c == '"') {
            const char *s = ++p;
            while (*p && *p != '"')
                p += (*p == '\\' && p[1]) ? 2 : 1;
            if (!*p)
                return false;
            /* a key of the top-level object: "key" then ':' */
            const char *q = p + 1;
            while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
                q++;
            if (depth != 1 || *q != ':' || (size_t)(p - s) != klen || memcmp(s, key, klen))
                continue;
            q++;
            while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
                q++;
            bool neg = *q == '-';
            q += neg;
            if (*q < '0' || *q > '9')
                return false;
            uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
            for (; *q >= '0' && *q <= '9'; q++) {
                unsigned d = (unsigned)(*q - '0');
                if (v > (lim - d) / 10)
                    return false;
                v = v * 10 + d;
            }
            while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
                q++;
            if (*q != ',' && *q != '}')
                return false; /* a fraction or exponent: not an integer */
            *out = neg ? (int64_t)(0 - v) : (int64_t)v;
            return true;
        }
        if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth == 0)
            return false;
    }
    return false;
}
