/* The util kit: the growth rule (POND_GROW / POND_RESERVE), the id map, hex, the one hash
 * function and the JSON door (util/json.h: bounds, no process-wide allocator). */
#include "pt.h"

#include <pond/hash.h>

#include "util/json.h"
#include "util/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growth ------------------------------------------------------------------------------ */

static void test_grow_appends_and_keeps(void)
{
    int64_t *v = NULL;
    size_t n = 0, cap = 0;
    for (int64_t i = 0; i < 1000; i++) {
        PT_ASSERT_OK(POND_GROW(v, n, cap));
        PT_ASSERT(cap > n);
        v[n++] = i * 3;
    }
    /* doubling from 8: 8, 16, ..., 1024 */
    PT_ASSERT_INT_EQ(cap, 1024);
    for (int64_t i = 0; i < 1000; i++)
        PT_ASSERT_INT_EQ(v[i], i * 3);
    /* room already there: nothing moves */
    int64_t *before = v;
    PT_ASSERT_OK(POND_RESERVE(v, 1024, cap));
    PT_ASSERT(v == before);
    /* a reservation past double the capacity takes what is asked */
    PT_ASSERT_OK(POND_RESERVE(v, 5000, cap));
    PT_ASSERT(cap >= 5000);
    PT_ASSERT_INT_EQ(v[999], 2997);
    pond_free(v);
}

static void test_grow_overflow_is_an_error(void)
{
    int64_t *v = NULL;
    size_t cap = 0;
    /* more elements than size_t can count in bytes: refused before any allocation */
    PT_ASSERT_ERR(POND_RESERVE(v, SIZE_MAX / 4, cap), POND_ENOMEM);
    PT_ASSERT_MSG_HAS("out of memory: an array of");
    PT_ASSERT(v == NULL);
    PT_ASSERT_INT_EQ(cap, 0);
    /* n at the top of size_t: n + 1 elements cannot be counted in bytes either */
    struct {
        char c[3];
    } *w = NULL;
    size_t wcap = 0;
    PT_ASSERT_ERR(POND_RESERVE(w, SIZE_MAX / 2, wcap), POND_ENOMEM);
    PT_ASSERT(w == NULL);
}

static int grow_many(void *arg)
{
    (void)arg;
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) {
        if ((rc = POND_GROW(v, n, cap)) == 0)
            v[n++] = (char *)"x";
    }
    /* a failed growth left the elements in place */
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], "x"))
            rc = pond_error_set(POND_ERROR, POND_DOM_NONE, "element %zu lost", i);
    pond_free(v);
    return rc;
}

static void test_grow_alloc_faults(void)
{
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, grow_many, NULL);
    PT_ASSERT(steps > 3); /* 8, 16, 32, 64, 128 */
}

/* ---- id map ------------------------------------------------------------------------------ */

static void key_of(unsigned char k[16], uint32_t i)
{
    memset(k, 0, 16);
    /* UUIDv7-like: the same leading bytes (a timestamp) for many ids */
    memcpy(k + 12, &i, sizeof i);
}

static void test_idmap_model(void)
{
    pond__idmap m = {0};
    unsigned char k[16];
    key_of(k, 1);
    PT_ASSERT(pond__idmap_get(&m, k) == NULL);
    enum { N = 5000 };
    static int vals[N];
    for (uint32_t i = 0; i < N; i++) {
        key_of(k, i);
        void *old = &vals[0];
        PT_ASSERT_OK(pond__idmap_put(&m, k, &vals[i], &old));
        PT_ASSERT(old == NULL);
    }
    PT_ASSERT_INT_EQ(m.n, N);
    /* replacing hands back the old value and keeps the count */
    key_of(k, 77);
    void *old = NULL;
    PT_ASSERT_OK(pond__idmap_put(&m, k, &vals[78], &old));
    PT_ASSERT(old == &vals[77]);
    PT_ASSERT_INT_EQ(m.n, N);
    for (uint32_t i = 0; i < N; i++) {
        key_of(k, i);
        PT_ASSERT(pond__idmap_get(&m, k) == &vals[i == 77 ? 78 : i]);
    }
    key_of(k, N);
    PT_ASSERT(pond__idmap_get(&m, k) == NULL);
    /* walking the slots meets every entry once, with its key */
    size_t seen = 0;
    for (size_t i = 0; i < pond__idmap_slots(&m); i++) {
        pond__key16 key;
        void *v = pond__idmap_at(&m, i, &key);
        if (!v)
            continue;
        seen++;
        PT_ASSERT(pond__idmap_get(&m, &key) == v);
    }
    PT_ASSERT(pond__idmap_at(&m, pond__idmap_slots(&m), NULL) == NULL);
    PT_ASSERT_INT_EQ(seen, N);
    pond__idmap_dispose(&m);
    PT_ASSERT_INT_EQ(pond__idmap_slots(&m), 0);
}

static int idmap_fill(void *arg)
{
    (void)arg;
    pond__idmap m = {0};
    unsigned char k[16];
    static int x;
    int rc = 0;
    for (uint32_t i = 0; i < 300 && rc == 0; i++) {
        key_of(k, i);
        rc = pond__idmap_put(&m, k, &x, NULL);
    }
    key_of(k, 299);
    if (rc == 0 && pond__idmap_get(&m, k) != &x)
        rc = pond_error_set(POND_ERROR, POND_DOM_NONE, "lost id 299");
    pond__idmap_dispose(&m);
    return rc;
}

static void test_idmap_alloc_faults(void)
{
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, idmap_fill, NULL);
    PT_ASSERT(steps > 2);
}

static void test_strmap_copies_keys(void)
{
    pond__strmap m = {0};
    char name[16];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "col%d", i);
        PT_ASSERT_INT_EQ(pond__strmap_put(&m, name, i), 0);
    }
    /* the key buffer was reused for every put: the map kept its own copies */
    PT_ASSERT_INT_EQ(pond__strmap_put(&m, "col7", 99), 1);
    PT_ASSERT_INT_EQ(pond__strmap_get(&m, "col7"), 7);
    PT_ASSERT_INT_EQ(pond__strmap_get(&m, "col199"), 199);
    PT_ASSERT_INT_EQ(pond__strmap_get(&m, "col200"), -1);
    PT_ASSERT_INT_EQ(pond__strmap_get(&m, NULL), -1);
    PT_ASSERT_OK(pond__strmap_put(&m, "", 5));
    PT_ASSERT_INT_EQ(pond__strmap_get(&m, ""), 5);
    pond__strmap_dispose(&m);
    PT_ASSERT_INT_EQ(pond__strmap_get(&m, "col7"), -1);
}

/* ---- hash, hex --------------------------------------------------------------------------- */

static void test_hash_bytes(void)
{
    PT_ASSERT(pond__hash_bytes("", 0) != 0);
    PT_ASSERT(pond__hash_bytes("abc", 3) == pond__hash_bytes("abcd", 3));
    PT_ASSERT(pond__hash_bytes("abc", 3) != pond__hash_bytes("abd", 3));
    /* lengths matter: a NUL byte more is another key */
    PT_ASSERT(pond__hash_bytes("a\0", 2) != pond__hash_bytes("a", 1));
    /* 16-byte ids differing in one byte anywhere spread over the low bits */
    unsigned char a[16] = {0}, b[16] = {0};
    int differ = 0;
    for (int i = 0; i < 16; i++) {
        memset(b, 0, 16);
        b[i] = 1;
        differ += (pond__hash_bytes(a, 16) & 1023) != (pond__hash_bytes(b, 16) & 1023);
    }
    PT_ASSERT(differ >= 15);
}

static void test_hex_round_trip(void)
{
    unsigned char in[256], back[256];
    for (int i = 0; i < 256; i++)
        in[i] = (unsigned char)i;
    char hex[513];
    pond__hex_encode(hex, in, 256);
    PT_ASSERT_INT_EQ(strlen(hex), 512);
    PT_ASSERT(!strncmp(hex, "000102", 6));
    PT_ASSERT_STR_EQ(hex + 506, "fdfeff");
    PT_ASSERT_OK(pond__hex_decode(back, hex, 256));
    PT_ASSERT(!memcmp(in, back, 256));
    /* either case is read */
    unsigned char x[2];
    PT_ASSERT_OK(pond__hex_decode(x, "aBcD", 2));
    PT_ASSERT_INT_EQ(x[0], 0xab);
    PT_ASSERT_INT_EQ(x[1], 0xcd);
    pond__hex_encode(hex, "", 0);
    PT_ASSERT_STR_EQ(hex, "");
}

static void test_hex_rejects(void)
{
    unsigned char x[4] = {9, 9, 9, 9};
    PT_ASSERT(pond__hex_decode(x, "0g", 1) < 0);
    PT_ASSERT(pond__hex_decode(x, "g0", 1) < 0);
    /* a string shorter than 2n stops at its NUL */
    PT_ASSERT(pond__hex_decode(x, "abc", 2) < 0);
    PT_ASSERT(pond__hex_decode(x, "", 1) < 0);
    PT_ASSERT(pond__hex_decode(x, "\xc3\xa9", 1) < 0);
    PT_ASSERT_INT_EQ(pond__hexval('F'), 15);
    PT_ASSERT_INT_EQ(pond__hexval('/'), -1);
    PT_ASSERT_INT_EQ(pond__hexval(':'), -1);
    PT_ASSERT_INT_EQ(pond__hexval(-61), -1);
    /* every byte against the plain definition (the decoder computes it without a branch) */
    for (int c = -1; c <= 256; c++) {
        int want = c >= '0' && c <= '9'   ? c - '0'
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : -1;
        PT_ASSERT_INT_EQ(pond__hexval(c), want);
        char two[3] = {(char)c, 'a', '\0'};
        if (c > 0 && c < 256)
            PT_ASSERT_INT_EQ(pond__hex_decode(x, two, 1), want < 0 ? -1 : 0);
        if (c > 0 && c < 256 && want >= 0)
            PT_ASSERT_INT_EQ(x[0], want << 4 | 10);
    }
    PT_ASSERT_INT_EQ(pond__hexdigit(0x1a), 'a');
    /* the SHA-256 parser uses the same decoder */
    pond_hash h;
    PT_ASSERT_ERR(pond_hash_from_hex(&h, "abcd"), POND_EINVALID);
    char full[66];
    memset(full, 'a', 64);
    full[64] = '\0';
    PT_ASSERT_OK(pond_hash_from_hex(&h, full));
    PT_ASSERT_INT_EQ(h.bytes[31], 0xaa);
    full[64] = 'a';
    full[65] = '\0';
    PT_ASSERT_ERR(pond_hash_from_hex(&h, full), POND_EINVALID);
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void test_json_parse_and_dump(void)
{
    const char text[] = "{\"b\":[1,2.5,\"x\\u00e9\"],\"a\":null,\"c\":{\"d\":true}}";
    json_t *j = pond__json_parse(text, strlen(text), 0, "test", POND_DOM_UTIL);
    PT_ASSERT(j != NULL);
    int64_t v;
    PT_ASSERT(!pond__json_int(&v, j, "a"));
    char *s = pond__json_dump(j, JSON_SORT_KEYS);
    PT_ASSERT(s != NULL);
    PT_ASSERT_STR_EQ(s, "{\"a\":null,\"b\":[1,2.5,\"x\xc3\xa9\"],\"c\":{\"d\":true}}");
    pond_free(s); /* pond's allocator: the dump was copied out of jansson's */
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_buf_puts(&b, "x="));
    PT_ASSERT_OK(pond__json_dump_buf(&b, json_object_get(j, "c"), 0));
    PT_ASSERT_STR_EQ(b.ptr, "x={\"d\":true}");
    PT_ASSERT_OK(pond__json_dump_buf(&b, json_object_get(j, "a"), 0));
    PT_ASSERT_STR_EQ(b.ptr, "x={\"d\":true}null");
    pond_buf_dispose(&b);
    json_decref(j);
    /* not NUL-terminated: only len bytes are read */
    j = pond__json_parse("{\"n\":42}garbage", 8, 0, "test", POND_DOM_UTIL);
    PT_ASSERT(j != NULL);
    PT_ASSERT(pond__json_int(&v, j, "n"));
    PT_ASSERT_INT_EQ(v, 42);
    json_decref(j);
}

static void test_json_parse_errors_name_where(void)
{
    PT_ASSERT(pond__json_parse("{\"a\":", 5, 0, "commit 7", POND_DOM_DELTA) == NULL);
    PT_ASSERT_INT_EQ(pond_error_last()->code, POND_ECORRUPT);
    PT_ASSERT_INT_EQ(pond_error_last()->domain, POND_DOM_DELTA);
    PT_ASSERT_MSG_HAS("commit 7: invalid JSON (");
    /* a key twice is refused: which value counts would be a guess */
    PT_ASSERT(pond__json_parse("{\"a\":1,\"a\":2}", 13, 0, "attrs", POND_DOM_TABLE) == NULL);
    PT_ASSERT_MSG_HAS("attrs: invalid JSON (duplicate object key");
}

static void test_json_depth_and_size_bounds(void)
{
    /* 64 levels parse, 65 do not (jansson would recurse once per level) */
    char deep[200];
    for (int depth = 64; depth <= 65; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        json_t *j = pond__json_parse(deep, 2 * (size_t)depth, 0, "deep", POND_DOM_UTIL);
        if (depth == 64) {
            PT_ASSERT(j != NULL);
            json_decref(j);
        } else {
            PT_ASSERT(j == NULL);
            PT_ASSERT_MSG_HAS("deep: invalid JSON (nesting deeper than 64 levels)");
        }
    }
    /* a run of empty objects costs ~90x its text once parsed: refused before parsing */
    size_t n = (3u << 20) / 3;
    char *big = pond_malloc(3 * n + 2);
    PT_ASSERT(big);
    big[0] = '[';
    for (size_t i = 0; i < n; i++)
        memcpy(big + 1 + 3 * i, "{},", 3);
    big[3 * n] = ']';
    big[3 * n + 1] = '\0';
    PT_ASSERT(pond__json_parse(big, 3 * n + 1, 0, "big", POND_DOM_UTIL) == NULL);
    PT_ASSERT_INT_EQ(pond_error_last()->code, POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("big: JSON too large to parse");
    pond_free(big);
}

static void test_json_escape_two_forms(void)
{
    static const char in[] = "a\"b\\c\n\t\b\f\r\x01\x7f\xc3\xa9\xff|";
    size_t n = sizeof in - 1;
    pond_buf b = POND_BUF_INIT;
    /* pond's own: short escapes for \n \t only, other bytes as they are */
    PT_ASSERT_OK(pond_buf_put_json_string(&b, in, n));
    PT_ASSERT_STR_EQ(b.ptr, "\"a\\\"b\\\\c\\n\\t\\u0008\\u000c\\u000d\\u0001\x7f\xc3\xa9\xff|\"");
    /* JSON.stringify of what TextDecoder reads: \b \f \r short, invalid UTF-8 as U+FFFD */
    pond_buf_clear(&b);
    PT_ASSERT_OK(pond__json_escape(&b, in, n, true));
    PT_ASSERT_STR_EQ(b.ptr, "\"a\\\"b\\\\c\\n\\t\\b\\f\\r\\u0001\x7f\xc3\xa9\xef\xbf\xbd|\"");
    /* what the escaper writes, the parser reads back as the same string */
    json_t *j = pond__json_parse(b.ptr, b.size, JSON_DECODE_ANY, "escaped", POND_DOM_UTIL);
    PT_ASSERT(j != NULL);
    PT_ASSERT_STR_EQ(json_string_value(j), "a\"b\\c\n\t\b\f\r\x01\x7f\xc3\xa9\xef\xbf\xbd|");
    json_decref(j);
    pond_buf_dispose(&b);
}

static void test_json_leaves_the_process_allocator_alone(void)
{
    /* an embedding application's jansson keeps libc's allocator: values it makes are freed
     * by plain free(), whatever pond did before */
    json_t *j = pond__json_parse("[1]", 3, 0, "x", POND_DOM_UTIL);
    PT_ASSERT(j != NULL);
    json_decref(j);
    json_malloc_t m = NULL;
    json_free_t f = NULL;
    json_get_alloc_funcs(&m, &f);
    PT_ASSERT(m == malloc);
    PT_ASSERT(f == free);
    char *s = json_dumps(json_true(), JSON_ENCODE_ANY);
    PT_ASSERT_STR_EQ(s, "true");
    free(s);
}

/* The one bump arena: alignment, zeroing, requests larger than a block, strings, and every
 * allocation failure reported as NULL with nothing leaked. */
static void test_arena_alloc(void)
{
    pond__arena a = {0};
    char *s = pond__arena_strdup(&a, "x");
    PT_ASSERT(s && !strcmp(s, "x"));
    for (size_t n = 0; n < 200; n++) {
        unsigned char *p = pond__arena_alloc(&a, n * 37 % 301, 16);
        PT_ASSERT(p && (uintptr_t)p % 16 == 0);
        memset(p, 0xAB, n * 37 % 301 ? n * 37 % 301 : 1);
        unsigned char *z = pond__arena_zalloc(&a, n);
        PT_ASSERT(z && (uintptr_t)z % 16 == 0);
        for (size_t k = 0; k < n; k++)
            PT_ASSERT_INT_EQ(z[k], 0);
    }
    char *big = pond__arena_alloc(&a, 100000, 8); /* its own block */
    PT_ASSERT(big);
    memset(big, 1, 100000);
    PT_ASSERT(!strcmp(s, "x")); /* earlier memory stays put */
    PT_ASSERT(pond__arena_alloc(&a, SIZE_MAX - 8, 16) == NULL);
    PT_ASSERT_INT_EQ(pond_error_last()->code, POND_ENOMEM);
    pond__arena_dispose(&a);
    PT_ASSERT(a.head == NULL);
}

static int arena_some(void *payload)
{
    (void)payload;
    pond__arena a = {0};
    int rc = 0;
    for (int i = 0; i < 50 && rc == 0; i++)
        if (!pond__arena_zalloc(&a, (size_t)i * 1000) || !pond__arena_strdup(&a, "abc"))
            rc = POND_ENOMEM;
    pond__arena_dispose(&a);
    return rc;
}

static void test_arena_alloc_faults(void)
{
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, arena_some, NULL);
    PT_ASSERT(steps > 2);
}

/* pond__json_top_int reads what jansson reads for a top-level integer member, and nothing from a
 * nested object, a string, an array, a non-integer or a non-object. */
static int jansson_top_int(int64_t *out, const char *text, const char *key)
{
    json_t *o = pond__json_parse(text, strlen(text), 0, "t", 0);
    int ok = o && json_is_object(o) && pond__json_int(out, o, key);
    json_decref(o);
    return ok;
}

static void test_json_top_int_matches_jansson(void)
{
    static const char *const cases[] = {
        "{\"pond.btime\":123}",
        "{\"a\":1,\"pond.btime\":1700000000000000,\"z\":[1,2]}",
        " { \"pond.btime\" : -5 , \"b\":{}} ",
        "{\"x\":{\"pond.btime\":7},\"pond.btime\":8}",
        "{\"x\":{\"pond.btime\":7}}",
        "{\"x\":\"\\\"pond.btime\\\":9\"}",
        "{\"x\":[{\"pond.btime\":1}],\"y\":2}",
        "{\"pond.btime\":1.5}",
        "{\"pond.btime\":1e3}",
        "{\"pond.btime\":\"12\"}",
        "{\"pond.btime\":9223372036854775807}",
        "{\"pond.btime\":9223372036854775808}",
        "{\"pond.btime\":-9223372036854775808}",
        "[{\"pond.btime\":1}]",
        "{\"pond.btimex\":1,\"xpond.btime\":2}",
        "{\"k\\\\\":\"v\",\"pond.btime\":3}",
        "{}",
        "{\"hashes\":[\"aa\",\"bb\"],\"pond.series\":{\"fields\":[{\"n\":\"}\"}]},\"pond.btime\":"
        "42}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t a = 0, b = 0;
        bool got = pond__json_top_int(&a, cases[i], "pond.btime");
        int want = jansson_top_int(&b, cases[i], "pond.btime");
        if (got != (bool)want || (got && a != b))
            fprintf(stderr, "case %zu: %s: scanner %d %lld, jansson %d %lld\n", i, cases[i], got,
                    (long long)a, want, (long long)b);
        PT_ASSERT(got == (bool)want);
        if (got)
            PT_ASSERT_INT_EQ(a, b);
    }
}

PT_SUITE(util_kit, PT_TEST(json_top_int_matches_jansson), PT_TEST(grow_appends_and_keeps),
         PT_TEST(grow_overflow_is_an_error), PT_TEST(grow_alloc_faults), PT_TEST(idmap_model),
         PT_TEST(idmap_alloc_faults), PT_TEST(strmap_copies_keys), PT_TEST(hash_bytes),
         PT_TEST(hex_round_trip), PT_TEST(hex_rejects), PT_TEST(json_parse_and_dump),
         PT_TEST(json_parse_errors_name_where), PT_TEST(json_depth_and_size_bounds),
         PT_TEST(json_escape_two_forms), PT_TEST(json_leaves_the_process_allocator_alone),
         PT_TEST(arena_alloc), PT_TEST(arena_alloc_faults))
