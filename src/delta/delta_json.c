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

/* jansson recurses once per nesting level; bound it before parsing so hostile input cannot
 * exhaust the stack, and so every layer sees the same limit. */
static bool depth_ok(const char *s, size_t n, int max)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[') {
            if (++depth > max)
                return false;
        } else if (c == '}' || c == ']')
            depth--;
    }
    return true;
}

json_t *pond_delta__json_parse(const char *text, size_t len, size_t flags, const char *where)
{
    pond_delta__json_oom_reset();
    if (!depth_ok(text, len, DELTA_MAX_JSON_DEPTH)) {
        pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                       "%s: invalid JSON (nesting deeper than %d levels)", where,
                       DELTA_MAX_JSON_DEPTH);
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

void *pond_delta__arena_alloc(delta_arena *a, size_t n)
{
    size_t need = (n + 15u) & ~(size_t)15u;
    if (need < n)
        return NULL;
    delta_arena_block *b = a->head;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK, total;
        if (pond_add_overflow(&total, sizeof *b, cap))
            return NULL;
        b = pond_malloc(total);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += need;
    return p;
}

char *pond_delta__arena_strdup(delta_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = pond_delta__arena_alloc(a, n);
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
