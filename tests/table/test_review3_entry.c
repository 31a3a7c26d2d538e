/* Review (session 9, rev3): the series entry scanner against the jansson reading it replaced,
 * on hostile entries the random test does not generate. Each case here differs on int 920beba
 * (the scanner accepts an entry jansson refuses, or the other way round). */
#include "pt.h"

#include <pond/errors.h>

#include "table/table_internal.h"
#include "util/json.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>

/* The reading before the scanner (as tests/table/test_series_entry.c keeps it). */
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

static int check(const char *what, const char *text, int64_t version)
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
        bad += check(what, buf, 1);
    }
    /* not UTF-8 in a string: jansson refuses the entry */
    bad += check("invalid UTF-8", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\xff\"}}", 1);
    /* a lone surrogate escape: jansson refuses it */
    bad += check("lone surrogate", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\\ud800\"}}", 1);
    /* valid forms both read: a surrogate pair, multi-byte UTF-8; and invalid ones both refuse:
     * a high surrogate alone or followed by a non-surrogate, a truncated sequence, overlong */
    bad += check("pair", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\\ud83d\\ude00\"}}", 1);
    bad += check(
        "utf8",
        "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}}",
        1);
    bad += check("high alone", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\\ud83d\"}}", 1);
    bad += check("high+a", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\\ud83d\\u0041\"}}", 1);
    bad += check("truncated", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\xe2\x82\"}}", 1);
    bad += check("overlong", "{\"pond.version\":{\"rows\":5,\"v\":1,\"x\":\"\xc0\xaf\"}}", 1);
    /* nine distinct keys: valid JSON, jansson reads it */
    bad += check("nine keys",
                 "{\"pond.version\":{\"a\":0,\"b\":0,\"c\":0,\"d\":0,\"e\":0,\"f\":0,\"g\":0,"
                 "\"rows\":5,\"v\":1}}",
                 1);
    PT_ASSERT_INT_EQ(bad, 0);
}

PT_SUITE(review3_entry, PT_TEST(hostile_entries_match_jansson))
