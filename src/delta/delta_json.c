/* jansson behind pond's allocator, a depth-limited parse, and the snapshot arena. */
#include "delta/delta_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t g_json_once = PTHREAD_ONCE_INIT;
static _Thread_local bool g_json_oom;

/* jansson 2.14 is not safe against a failed allocation inside its lexer: lex_save() ignores a
 * failed buffer growth and lex_scan_string() then hits assert(0). So a failed pond_malloc is
 * recorded (g_json_oom) and served from libc instead; every pond entry point into jansson resets
 * the flag first and reports POND_ENOMEM when it is set afterwards. Allocation-fault tests still
 * reach every jansson allocation, and jansson never sees NULL unless libc is out of memory too.
 * The block header remembers which allocator served the block. */
#define JSON_HDR 16u

static void *json_alloc(size_t n)
{
    size_t total;
    if (pond_add_overflow(&total, n, JSON_HDR))
        return NULL;
    unsigned char *p = pond_malloc(total);
    if (p) {
        p[0] = 1;
        return p + JSON_HDR;
    }
    g_json_oom = true;
    if (!(p = malloc(total)))
        return NULL;
    p[0] = 2;
    return p + JSON_HDR;
}

static void json_free(void *q)
{
    if (!q)
        return;
    unsigned char *p = (unsigned char *)q - JSON_HDR;
    if (p[0] == 2)
        free(p);
    else
        pond_free(p);
}

static void json_init_once(void) { json_set_alloc_funcs(json_alloc, json_free); }

void pond_delta__json_init(void) { pthread_once(&g_json_once, json_init_once); }

/* Install the allocator before main: jansson's allocator is process-wide, and a value allocated
 * by one allocator must never be freed by the other, so the switch has to happen before any
 * layer creates a JSON value. */
__attribute__((constructor)) static void json_init_at_load(void) { pond_delta__json_init(); }

void pond_delta__json_oom_reset(void)
{
    pond_delta__json_init();
    g_json_oom = false;
}

int pond_delta__json_oom_check(void)
{
    if (!g_json_oom)
        return 0;
    g_json_oom = false;
    return pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "out of memory in the JSON library");
}

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

json_t *pond_delta__json_parse(const char *text, size_t len, size_t flags, const char *where)
{
    pond_delta__json_oom_reset();
    size_t cost = parse_cost(text, len, DELTA_MAX_JSON_DEPTH);
    if (!cost) {
        pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                       "%s: invalid JSON (nesting deeper than %d levels)", where,
                       DELTA_MAX_JSON_DEPTH);
        return NULL;
    }
    if (cost > DELTA_MAX_JSON_TREE_BYTES) {
        pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                       "%s: JSON too large to parse (%zu bytes holding about %zu MiB of values; "
                       "the limit is %u MiB)",
                       where, len, cost >> 20, DELTA_MAX_JSON_TREE_BYTES >> 20);
        return NULL;
    }
    json_error_t err;
    json_t *j = json_loadb(text, len, flags | JSON_REJECT_DUPLICATES, &err);
    if (pond_delta__json_oom_check() < 0) {
        json_decref(j);
        return NULL;
    }
    if (!j) {
        if (json_error_code(&err) == json_error_out_of_memory)
            pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "%s: out of memory parsing JSON", where);
        else
            pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: invalid JSON (%s at position %d)",
                           where, err.text, err.position);
    }
    return j;
}

char *pond_delta__json_dump(const json_t *j)
{
    pond_delta__json_oom_reset();
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    char *copy = s && !g_json_oom ? pond_strdup(s) : NULL;
    json_free(s);
    if (pond_delta__json_oom_check() < 0) {
        pond_free(copy);
        return NULL;
    }
    if (!copy)
        pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "out of memory serializing JSON");
    return copy;
}

bool pond_delta__json_int(int64_t *out, const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* ------------------------------------------------------------------ arena */

struct delta_arena_block {
    delta_arena_block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
};

#define ARENA_BLOCK 16384u

static void *arena_alloc(delta_arena *a, size_t n, size_t align)
{
    delta_arena_block *b = a->head;
    size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
    if (!b || at > b->cap || b->cap - at < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK, total;
        if (pond_add_overflow(&total, sizeof *b, cap))
            return NULL;
        b = pond_malloc(total);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
        at = 0;
    }
    void *p = b->data + at;
    b->used = at + n;
    return p;
}

void *pond_delta__arena_alloc(delta_arena *a, size_t n) { return arena_alloc(a, n ? n : 1, 16); }

char *pond_delta__arena_strdup(delta_arena *a, const char *s)
{
    /* strings need no alignment: a big snapshot holds several per file */
    size_t n = strlen(s) + 1;
    char *p = arena_alloc(a, n, 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

void pond_delta__arena_dispose(delta_arena *a)
{
    delta_arena_block *b = a->head;
    while (b) {
        delta_arena_block *n = b->next;
        pond_free(b);
        b = n;
    }
    a->head = NULL;
}
