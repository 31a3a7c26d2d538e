/* A version's index entry (docs/format.md, "The series index") is read by a direct scanner, not
 * a jansson tree per version: it must say what jansson says of the same text, for what pond
 * writes and for random and damaged entries (a pond someone sent). The reference below is the
 * jansson reading the scanner replaced, kept here only to check it. */
#include "pt.h"

#include <pond/errors.h>

#include "table/table_internal.h"
#include "util/json.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reading before the scanner (session 8), through jansson. */
static void reference(int64_t *rows, int64_t *lo, int64_t *hi, const char *xattrs, int64_t version)
{
    *rows = -1;
    *lo = *hi = 0;
    const char *k = strstr(xattrs, "\"pond.version\":{");
    const char *e = k ? strchr(k, '}') : NULL;
    if (!e)
        return;
    k += strlen("\"pond.version\":");
    json_t *obj = pond__json_parse(k, (size_t)(e - k + 1), 0, "pond.version", POND_DOM_TABLE);
    if (!obj)
        return;
    const json_t *v = json_object_get(obj, "v"), *r = json_object_get(obj, "rows");
    const json_t *rp = json_object_get(obj, "replaces");
    if (json_is_integer(v) && json_integer_value(v) == version && json_is_integer(r) &&
        json_integer_value(r) >= 0) {
        *rows = json_integer_value(r);
        if (json_is_array(rp) && json_array_size(rp) == 2) {
            *lo = json_integer_value(json_array_get(rp, 0));
            *hi = json_integer_value(json_array_get(rp, 1));
        }
    }
    json_decref(obj);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static void ws(pond_buf *b)
{
    static const char *const w[] = {"", "", "", " ", "\n", "\t ", "\r"};
    PT_ASSERT_OK(pond_buf_puts(b, w[rnd() % 7]));
}

static void value(pond_buf *b, int depth)
{
    static const char *const scalars[] = {"0",
                                          "1",
                                          "-1",
                                          "2",
                                          "3",
                                          "144",
                                          "9223372036854775807",
                                          "-9223372036854775808",
                                          "9223372036854775808",
                                          "1.5",
                                          "2e3",
                                          "-0",
                                          "01",
                                          "1.",
                                          "true",
                                          "false",
                                          "null",
                                          "\"x\"",
                                          "\"a\\\"b\"",
                                          "\"\\u00e9\"",
                                          "\"\\q\"",
                                          "\"" /* broken */,
                                          "1e",
                                          "--1",
                                          "[]"};
    ws(b);
    if (depth < 3 && rnd() % 4 == 0) {
        PT_ASSERT_OK(pond_buf_putc(b, '['));
        int n = (int)(rnd() % 4);
        for (int i = 0; i < n; i++) {
            if (i)
                PT_ASSERT_OK(pond_buf_putc(b, ','));
            value(b, depth + 1);
        }
        ws(b);
        PT_ASSERT_OK(pond_buf_putc(b, ']'));
    } else if (rnd() % 3 == 0) {
        PT_ASSERT_OK(pond_buf_printf(b, "\"%064llx\"", (unsigned long long)rnd()));
    } else {
        PT_ASSERT_OK(pond_buf_puts(b, scalars[rnd() % (sizeof scalars / sizeof *scalars)]));
    }
    ws(b);
}

static void check(const char *text, int64_t version)
{
    int64_t r1, l1, h1, r2, l2, h2;
    PT_ASSERT_OK(pond_table__version_entry(&r1, &l1, &h1, text, version));
    reference(&r2, &l2, &h2, text, version);
    if (r1 != r2 || l1 != l2 || h1 != h2)
        fprintf(stderr, "entry %s (version %lld): scanner %lld %lld %lld, jansson %lld %lld %lld\n",
                text, (long long)version, (long long)r1, (long long)l1, (long long)h1,
                (long long)r2, (long long)l2, (long long)h2);
    PT_ASSERT_INT_EQ(r1, r2);
    PT_ASSERT_INT_EQ(l1, l2);
    PT_ASSERT_INT_EQ(h1, h2);
}

/* What pond writes reads back, with and without the keys around it. */
static void test_written_entries(void)
{
    int64_t rows, lo, hi;
    check("{\"pond.version\":{\"rows\":144,\"v\":7}}", 7);
    PT_ASSERT_OK(pond_table__version_entry(&rows, &lo, &hi,
                                           "{\"pond.schema\":{\"through\":9},\"pond.version\":{"
                                           "\"hashes\":[\"00\"],\"replaces\":[3,8],\"rows\":12,"
                                           "\"v\":9},\"pond.x\":1}",
                                           9));
    PT_ASSERT_INT_EQ(rows, 12);
    PT_ASSERT_INT_EQ(lo, 3);
    PT_ASSERT_INT_EQ(hi, 8);
    /* an entry copied from an earlier version is not this one's */
    PT_ASSERT_OK(
        pond_table__version_entry(&rows, &lo, &hi, "{\"pond.version\":{\"rows\":12,\"v\":8}}", 9));
    PT_ASSERT_INT_EQ(rows, -1);
    PT_ASSERT_OK(pond_table__version_entry(&rows, &lo, &hi, NULL, 1));
    PT_ASSERT_INT_EQ(rows, -1);
    check("{\"pond.version\":{}}", 1);
    check("{\"pond.version\":{\"rows\":1,\"v\":1", 1);
    check("{\"pond.version\":{\"rows\":1,\"v\":1,}}", 1);
    check("{\"pond.version\":{\"rows\":-1,\"v\":1}}", 1);
    check("{\"pond.version\":{\"rows\":1.0,\"v\":1}}", 1);
    check("{\"pond.version\":{\"rows\":1,\"v\":1,\"rows\":5}}", 1);
    check("{\"pond.version\":{\"replaces\":[1,true],\"rows\":1,\"v\":1}}", 1);
    check("{\"pond.version\":{\"replaces\":[1,2,3],\"rows\":1,\"v\":1}}", 1);
    check("{\"pond.version\":{\"rows\":99999999999999999999,\"v\":1}}", 1);
    check("{\"pond.version\":{\"rows\":1,\"v\":1,\"x\":\"\\u0000\"}}", 1);
    /* an escaped key is not pond's (jansson would read \u0076 as v): no entry */
    PT_ASSERT_OK(pond_table__version_entry(&rows, &lo, &hi,
                                           "{\"pond.version\":{\"rows\":1,\"\\u0076\":1}}", 1));
    PT_ASSERT_INT_EQ(rows, -1);
}

/* Random entries, and damaged copies of them: the scanner and jansson agree on each. */
static void test_random_entries_match_jansson(void)
{
    static const char *const keys[] = {"v", "rows", "replaces", "hashes", "x", "y"};
    int n = pt_light() ? 3000 : 30000;
    pond_buf b = POND_BUF_INIT;
    for (int i = 0; i < n; i++) {
        pond_buf_clear(&b);
        int64_t version = (int64_t)(rnd() % 4);
        PT_ASSERT_OK(pond_buf_puts(&b, rnd() % 2 ? "{\"pond.schema\":[1,2]," : "{"));
        PT_ASSERT_OK(pond_buf_puts(&b, "\"pond.version\":{"));
        int nk = (int)(rnd() % 5);
        for (int k = 0; k < nk; k++) {
            if (k)
                PT_ASSERT_OK(pond_buf_putc(&b, ','));
            ws(&b);
            const char *key = keys[rnd() % 6];
            PT_ASSERT_OK(pond_buf_printf(&b, "\"%s\":", key));
            if (!strcmp(key, "v") && rnd() % 2)
                PT_ASSERT_OK(pond_buf_printf(&b, "%lld", (long long)(rnd() % 4)));
            else if (!strcmp(key, "rows") && rnd() % 2)
                PT_ASSERT_OK(pond_buf_printf(&b, "%lld", (long long)(rnd() % 1000)));
            else if (!strcmp(key, "replaces") && rnd() % 2)
                PT_ASSERT_OK(pond_buf_printf(&b, "[%lld,%lld]", (long long)(rnd() % 9),
                                             (long long)(rnd() % 9)));
            else
                value(&b, 0);
        }
        PT_ASSERT_OK(pond_buf_puts(&b, "}}"));
        check(b.ptr, version);
        /* damaged: a byte changed, or the text cut */
        char *copy = pond_strdup(b.ptr);
        PT_ASSERT(copy);
        size_t len = strlen(copy);
        if (rnd() % 2) {
            copy[rnd() % len] = "{}[],:\" 0-a\\"[rnd() % 12];
        } else {
            copy[rnd() % len] = '\0';
        }
        check(copy, version);
        pond_free(copy);
    }
    pond_buf_dispose(&b);
}

/* Hostile entries the random test does not generate (review of session 9): nesting counted
 * from the entry's own object, bytes that are not UTF-8, surrogate escapes, more keys than pond
 * writes. */
static int check_one(const char *what, const char *text, int64_t version)
{
    int64_t r1, l1, h1, r2, l2, h2;
    PT_ASSERT_OK(pond_table__version_entry(&r1, &l1, &h1, text, version));
    reference(&r2, &l2, &h2, text, version);
    if (r1 == r2 && l1 == l2 && h1 == h2)
        return 0;
    fprintf(stderr, "%s: scanner rows %lld, jansson rows %lld\n", what, (long long)r1,
            (long long)r2);
    return 1;
}

static void test_hostile_entries_match_jansson(void)
{
    char buf[512];
    int bad = 0;
    /* nesting: jansson's reading refuses 64 levels inside the entry (POND_JSON_MAX_DEPTH
     * counts the entry's own object); the scanner's MAX_DEPTH counts from the value */
    for (int depth = 60; depth <= 67; depth++) {
        int n = snprintf(buf, sizeof buf, "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":");
        for (int i = 0; i < depth; i++)
            buf[n++] = '[';
        buf[n++] = '1';
        for (int i = 0; i < depth; i++)
            buf[n++] = ']';
        snprintf(buf + n, sizeof buf - (size_t)n, "}}");
        char what[32];
        snprintf(what, sizeof what, "depth %d", depth);
        bad += check_one(what, buf, 1);
    }
    /* not UTF-8 in a string: jansson refuses the entry */
    bad += check_one("invalid UTF-8", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\xff\"}}", 1);
    /* a lone surrogate escape: jansson refuses it */
    bad +=
        check_one("lone surrogate", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\\ud800\"}}", 1);
    /* valid forms both read: a surrogate pair, multi-byte UTF-8; and invalid ones both refuse:
     * a high surrogate alone or followed by a non-surrogate, a truncated sequence, overlong */
    bad += check_one("pair", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\\ud83d\\ude00\"}}", 1);
    bad += check_one(
        "utf8",
        "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}}",
        1);
    bad += check_one("high alone", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\\ud83d\"}}", 1);
    bad +=
        check_one("high+a", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\\ud83d\\u0041\"}}", 1);
    bad += check_one("truncated", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\xe2\x82\"}}", 1);
    bad += check_one("overlong", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\xc0\xaf\"}}", 1);
    /* nine distinct keys: valid JSON, jansson reads it */
    bad += check_one("nine keys",
                     "{\"pond.version\":{\"a\":0,\"b\":0,\"c\":0,\"d\":0,\"e\":0,\"f\":0,\"g\":0,"
                     "\"rows\":5,\"v\":1}}",
                     1);
    PT_ASSERT_INT_EQ(bad, 0);
}

PT_SUITE(series_entry, PT_TEST(written_entries), PT_TEST(random_entries_match_jansson),
         PT_TEST(hostile_entries_match_jansson))
