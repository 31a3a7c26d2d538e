/* CSV dialects: the sniffer, comments, skipped lines, space-aligned columns; JSON records. */
#include "pt.h"

#include <pond/buf.h>
#include <pond/csv.h>
#include <pond/json_reader.h>

#include <stdlib.h>

static pond_csv_dialect sniff_ok(const char *text)
{
    pond_csv_dialect d;
    int rc = pond_csv_sniff(&d, text, strlen(text), true, 0, false, 0, "s.csv");
    if (rc < 0)
        pt_fail(__FILE__, __LINE__, "sniff '%s': %s", text, pond_error_last()->message);
    return d;
}

static void test_sniff_delimiters(void)
{
    PT_ASSERT_INT_EQ(sniff_ok("a,b,c\n1,2,3\n").delimiter, ',');
    PT_ASSERT_INT_EQ(sniff_ok("a\tb\n1\t2\n").delimiter, '\t');
    PT_ASSERT_INT_EQ(sniff_ok("a|b\n1|2\n").delimiter, '|');
    /* European CSV: semicolons between fields, decimal commas inside them */
    pond_csv_dialect d = sniff_ok("name;value\nx;1,5\ny;2,25\n");
    PT_ASSERT_INT_EQ(d.delimiter, ';');
    PT_ASSERT_INT_EQ(d.fields, 2);
    /* commas inside quotes do not count */
    PT_ASSERT_INT_EQ(sniff_ok("a;b\n\"1,2,3\";4\n\"x,\ny\";5\n").delimiter, ';');
    /* a text column with spaces is not space-aligned */
    PT_ASSERT_INT_EQ(sniff_ok("location,date\nNew York,2024-01-01\nSeattle,2024-01-02\n").delimiter,
                     ',');
    /* one column: nothing splits it */
    d = sniff_ok("value\n1\n2\n");
    PT_ASSERT_INT_EQ(d.delimiter, ',');
    PT_ASSERT_INT_EQ(d.fields, 1);
    /* "full name" values with single spaces are one column, not space-aligned */
    PT_ASSERT_INT_EQ(sniff_ok("full name\nJohn Smith\nAda Lovelace\n").fields, 1);
    /* empty input */
    PT_ASSERT_INT_EQ(sniff_ok("").delimiter, ',');
}

static void test_sniff_space_aligned(void)
{
    pond_csv_dialect d = sniff_ok("  year   value\n  1871    1120\n  1872    1160\n");
    PT_ASSERT(d.space_aligned);
    PT_ASSERT_INT_EQ(d.fields, 2);
}

static void test_sniff_ragged_and_ambiguous(void)
{
    /* ragged: the delimiter that splits most lines like the header wins (the importer then
     * names the bad line) */
    pond_csv_dialect d = sniff_ok("a,b,c\n1,2,3\n4,5\n6,7,8\n");
    PT_ASSERT_INT_EQ(d.delimiter, ',');
    PT_ASSERT_INT_EQ(d.fields, 3);
    /* two delimiters both split every line evenly: refused */
    const char amb[] = "a,b;c\n1,2;3\n";
    PT_ASSERT_ERR(pond_csv_sniff(&d, amb, sizeof amb - 1, true, 0, false, 0, "amb.csv"),
                  POND_EINVALID);
    PT_ASSERT_MSG_HAS("amb.csv: cannot tell the delimiter: comma and semicolon");
    PT_ASSERT_MSG_HAS("--delimiter");
}

static void test_sniff_quote_comment_and_cut(void)
{
    /* statsmodels' anes96: a tab-separated header in single quotes */
    pond_csv_dialect d = sniff_ok("'popul'\t'TVnews'\n0\t7\n190\t1\n");
    PT_ASSERT_INT_EQ(d.delimiter, '\t');
    PT_ASSERT_INT_EQ(d.quote, '\'');
    PT_ASSERT_INT_EQ(sniff_ok("\"a\",\"b\"\n1,2\n").quote, '"');
    const char given[] = "'a','b'\n1,2\n";
    PT_ASSERT_OK(pond_csv_sniff(&d, given, sizeof given - 1, true, '"', true, 0, NULL));
    PT_ASSERT_INT_EQ(d.quote, '"');
    /* comment lines are not sampled */
    const char com[] = "# exported; by x|y\na,b\n1,2\n";
    PT_ASSERT_OK(pond_csv_sniff(&d, com, sizeof com - 1, true, 0, false, '#', NULL));
    PT_ASSERT_INT_EQ(d.delimiter, ',');
    /* a sample cut mid-line ignores its last line */
    const char cut[] = "a;b\n1;2\n3;4,5,6,7";
    PT_ASSERT_OK(pond_csv_sniff(&d, cut, sizeof cut - 1, false, 0, false, 0, NULL));
    PT_ASSERT_INT_EQ(d.delimiter, ';');
    PT_ASSERT_INT_EQ(d.records, 2);
}

static int dump(char **out, const char *text, const pond_csv_options *o)
{
    pond_csv_reader *r;
    int rc = pond_csv_reader_open_mem(&r, text, strlen(text), o);
    if (rc < 0)
        return rc;
    pond_buf b = POND_BUF_INIT;
    while ((rc = pond_csv_reader_next(r)) == 0) {
        pond_buf_printf(&b, "%lld:", (long long)pond_csv_reader_line(r));
        for (size_t i = 0; i < pond_csv_reader_nfields(r); i++)
            pond_buf_printf(&b, "%s%s", i ? "|" : "", pond_csv_reader_field(r, i, NULL, NULL));
        pond_buf_putc(&b, '\n');
    }
    pond_csv_reader_free(r);
    if (rc != POND_ITEROVER) {
        pond_buf_dispose(&b);
        return rc;
    }
    *out = b.ptr ? pond_buf_detach(&b) : pond_strdup("");
    return 0;
}

#define EXPECT_DUMP(text, opts, want)                                                              \
    do {                                                                                           \
        char *got_ = NULL;                                                                         \
        PT_ASSERT_OK(dump(&got_, text, opts));                                                     \
        PT_ASSERT_STR_EQ(got_, want);                                                              \
        pond_free(got_);                                                                           \
    } while (0)

static void test_reader_comment_skip_quote(void)
{
    pond_csv_options o = POND_CSV_OPTIONS_INIT;
    o.comment = '#';
    EXPECT_DUMP("# title\na,b\n#x,y\n1,2\n", &o, "2:a|b\n4:1|2\n");
    EXPECT_DUMP("a,b\n1,#2\n", &o, "1:a|b\n2:1|#2\n"); /* only at the start of a line */
    o = (pond_csv_options)POND_CSV_OPTIONS_INIT;
    o.skip_lines = 2;
    EXPECT_DUMP("Report, 2024\n\"unbalanced\na,b\n1,2\n", &o, "3:a|b\n4:1|2\n");
    o.skip_lines = 9;
    EXPECT_DUMP("a\nb\n", &o, "");
    o = (pond_csv_options)POND_CSV_OPTIONS_INIT;
    o.quote = '\'';
    o.delimiter = '\t';
    EXPECT_DUMP("'a b'\t'c'\n1\t\"2\"\n", &o, "1:a b|c\n2:1|\"2\"\n");
    /* version 1 options still work (no comment field) */
    o = (pond_csv_options)POND_CSV_OPTIONS_INIT;
    o.version = 1;
    EXPECT_DUMP("a,b\n", &o, "1:a|b\n");
}

static void test_reader_space_aligned(void)
{
    pond_csv_options o = POND_CSV_OPTIONS_INIT;
    o.space_aligned = true;
    o.delimiter = ' ';
    EXPECT_DUMP("  x    y   \n  1.5  \"a b\"\r\n\n   2\t 3\n", &o, "1:x|y\n2:1.5|a b\n4:2|3\n");
    for (size_t bs = 1; bs < 6; bs++) { /* every token straddles a refill */
        o.buffer_size = bs;
        EXPECT_DUMP("  x    y   \n  1.5  \"a b\"\r\n\n   2\t 3", &o, "1:x|y\n2:1.5|a b\n4:2|3\n");
    }
}

/* ---- JSON records -------------------------------------------------------------------------- */

static int jdump(char **out, const char *text, size_t len, const pond_json_options *o)
{
    pond_json_reader *r;
    int rc = pond_json_reader_open_mem(&r, text, len, o);
    if (rc < 0)
        return rc;
    pond_buf b = POND_BUF_INIT;
    static const char *const K[] = {"null", "false", "true", "num", "str", "nested"};
    int bad = 0;
    while ((rc = pond_json_reader_next(r)) == 0) {
        bad |= pond_buf_printf(&b, "%lld:", (long long)pond_json_reader_line(r));
        for (size_t i = 0; i < pond_json_reader_nkeys(r); i++) {
            pond_json_kind k;
            const char *v = pond_json_reader_value(r, i, NULL, &k);
            bad |= pond_buf_printf(&b, " %s=%s(%s)", pond_json_reader_key(r, i, NULL), K[k], v);
        }
        bad |= pond_buf_putc(&b, '\n');
    }
    if (bad < 0 && rc == POND_ITEROVER)
        rc = POND_ENOMEM;
    pond_json_reader_free(r);
    if (rc != POND_ITEROVER) {
        pond_buf_dispose(&b);
        return rc;
    }
    *out = b.ptr ? pond_buf_detach(&b) : pond_strdup("");
    return *out ? 0 : POND_ENOMEM;
}

#define EXPECT_JSON(text, want)                                                                    \
    do {                                                                                           \
        char *got_ = NULL;                                                                         \
        PT_ASSERT_OK(jdump(&got_, text, strlen(text), NULL));                                      \
        PT_ASSERT_STR_EQ(got_, want);                                                              \
        pond_free(got_);                                                                           \
    } while (0)

#define EXPECT_JSON_FAIL(text, msg)                                                                \
    do {                                                                                           \
        char *got_ = NULL;                                                                         \
        PT_ASSERT_ERR(jdump(&got_, text, strlen(text), NULL), POND_ECORRUPT);                      \
        PT_ASSERT_MSG_HAS(msg);                                                                    \
    } while (0)

static void test_json_layouts_and_values(void)
{
    EXPECT_JSON("[{\"a\":1,\"b\":\"x\"},\n {\"a\":-2.5e3,\"b\":null}]",
                "1: a=num(1) b=str(x)\n2: a=num(-2.5e3) b=null()\n");
    EXPECT_JSON("{\"a\":true}\n\n{\"a\":false}\r\n{}\n", "1: a=true()\n3: a=false()\n4:\n");
    EXPECT_JSON("[]", "");
    EXPECT_JSON("  [ ]  \n", "");
    EXPECT_JSON("", "");
    EXPECT_JSON("{\"n\": {\"x\": [1, 2, {\"y\": \"a b\"}]}, \"e\": []}",
                "1: n=nested({\"x\":[1,2,{\"y\":\"a b\"}]}) e=nested([])\n");
    EXPECT_JSON("{\"s\":\"tab\\there \\\"q\\\" \\u00e9 \\ud83c\\udf0a \\/\"}",
                "1: s=str(tab\there \"q\" \xc3\xa9 \xf0\x9f\x8c\x8a /)\n");
    EXPECT_JSON("{\"k\\u0041\":\"\"}", "1: kA=str()\n");
}

static void test_json_errors(void)
{
    EXPECT_JSON_FAIL("[{\"a\":1},]", "line 1: a comma before ']'");
    EXPECT_JSON_FAIL("[{\"a\":1}", "the input ends inside the array");
    EXPECT_JSON_FAIL("[{\"a\":1}] x", "data after the end of the array");
    EXPECT_JSON_FAIL("[1, 2]", "record 1 is a number, not an object");
    EXPECT_JSON_FAIL("{\"a\":1}\n[2]", "line 2: record 2 is an array, not an object");
    EXPECT_JSON_FAIL("{\"a\":01}", "leading zero");
    EXPECT_JSON_FAIL("{\"a\":1.}", "invalid number");
    EXPECT_JSON_FAIL("{\"a\":tru}", "not JSON");
    EXPECT_JSON_FAIL("{\"a\":\"x\ny\"}", "control character");
    EXPECT_JSON_FAIL("{\"a\":\"\\ud800\"}", "unpaired");
    EXPECT_JSON_FAIL("{\"a\":\"\\u0000\"}", "NUL");
    EXPECT_JSON_FAIL("{\"a\" 1}", "expected ':'");
    EXPECT_JSON_FAIL("{\"a\":1 \"b\":2}", "expected ',' or '}'");
    EXPECT_JSON_FAIL("{\n\"a\":\n[1,\n2\n]]", "line 5: expected ',' or '}'");
    EXPECT_JSON_FAIL("{\"a\":\"unterminated", "ends inside a string");
    /* depth limit */
    char deep[400];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "{\"a\":");
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = 0;
    EXPECT_JSON_FAIL(deep, "nested deeper than the limit");
    /* record size limit */
    pond_json_options o = POND_JSON_OPTIONS_INIT;
    o.max_record = 64;
    o.buffer_size = 8;
    char *got = NULL;
    const char big[] = "{\"a\":\"0123456789012345678901234567890123456789012345678901234567\"}";
    PT_ASSERT_ERR(jdump(&got, big, sizeof big - 1, &o), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("a record longer than 64 bytes");
    /* layouts forced */
    o = (pond_json_options)POND_JSON_OPTIONS_INIT;
    o.layout = POND_JSON_ARRAY;
    PT_ASSERT_ERR(jdump(&got, "{\"a\":1}", 7, &o), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("expected a JSON array");
}

/* Tiny buffers: every token straddles a refill; the result is the same. */
static void test_json_small_buffers(void)
{
    const char text[] = "[{\"a\":\"x\\\"y\",\"b\":[1,{\"c\":null}]},{\"a\":\"\\u00e9\",\"b\":2}]";
    char *want = NULL;
    PT_ASSERT_OK(jdump(&want, text, sizeof text - 1, NULL));
    for (size_t bs = 1; bs <= 9; bs++) {
        pond_json_options o = POND_JSON_OPTIONS_INIT;
        o.buffer_size = bs;
        char *got = NULL;
        PT_ASSERT_OK(jdump(&got, text, sizeof text - 1, &o));
        PT_ASSERT_STR_EQ(got, want);
        pond_free(got);
    }
    pond_free(want);
}

/* A huge array streams through a buffer the size of one record. */
static void test_json_huge_array_bounded(void)
{
    size_t n = pt_light() ? 20000 : 400000;
    pond_buf t = POND_BUF_INIT;
    PT_ASSERT_OK(pond_buf_putc(&t, '['));
    for (size_t i = 0; i < n; i++)
        PT_ASSERT_OK(pond_buf_printf(&t, "%s{\"i\":%zu,\"s\":\"row %zu\",\"v\":[%zu]}\n",
                                     i ? "," : "", i, i, i % 7));
    PT_ASSERT_OK(pond_buf_putc(&t, ']'));
    size_t before = pond_alloc_current();
    pond_alloc_reset_peak();
    pond_json_options o = POND_JSON_OPTIONS_INIT;
    o.buffer_size = 4096;
    pond_json_reader *r;
    PT_ASSERT_OK(pond_json_reader_open_mem(&r, t.ptr, t.size, &o));
    size_t rows = 0, sum = 0;
    int rc;
    while ((rc = pond_json_reader_next(r)) == 0) {
        sum += (size_t)atoll(pond_json_reader_value(r, 0, NULL, NULL));
        rows++;
    }
    PT_ASSERT_INT_EQ(rc, POND_ITEROVER);
    PT_ASSERT_INT_EQ(rows, n);
    PT_ASSERT_INT_EQ(sum, n * (n - 1) / 2);
    PT_ASSERT(pond_alloc_peak() - before < 64 * 1024); /* input is MBs */
    pond_json_reader_free(r);
    pond_buf_dispose(&t);
}

static int json_alloc_body(void *arg)
{
    (void)arg;
    char *got = NULL;
    const char text[] = "[{\"a\":\"x\",\"b\":[1,{\"c\":2}]},{\"a\":null}]";
    int rc = jdump(&got, text, sizeof text - 1, NULL);
    pond_free(got);
    return rc;
}

static void test_json_alloc_faults(void)
{
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, json_alloc_body, NULL);
    PT_ASSERT(steps > 3);
}

PT_SUITE(csv_dialect, PT_TEST(sniff_delimiters), PT_TEST(sniff_space_aligned),
         PT_TEST(sniff_ragged_and_ambiguous), PT_TEST(sniff_quote_comment_and_cut),
         PT_TEST(reader_comment_skip_quote), PT_TEST(reader_space_aligned),
         PT_TEST(json_layouts_and_values), PT_TEST(json_errors), PT_TEST(json_small_buffers),
         PT_TEST(json_huge_array_bounded), PT_TEST(json_alloc_faults))
