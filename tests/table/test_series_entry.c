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

PT_SUITE(series_entry, PT_TEST(written_entries), PT_TEST(random_entries_match_jansson))
