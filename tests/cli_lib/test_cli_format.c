/* Row output (include/pond/rows.h, used by the CLI): numbers that read back exactly,
 * CSV/JSON/table shape. */
#include "cli/cli_format.h"

#include "pt.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

static void test_double_text(void)
{
    static const struct {
        double d;
        const char *want;
    } cases[] = {
        {5.0, "5.0"},
        {0.1, "0.1"},
        {-2.5, "-2.5"},
        {1e300, "1e+300"},
        {1e21, "1e+21"},
        {1e20, "100000000000000000000.0"},
        {123456.0, "123456.0"},
        {5e-324, "5e-324"},
        {1e-7, "1e-7"},
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {NAN, "NaN"},
        {INFINITY, "Infinity"},
        {-INFINITY, "-Infinity"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {0.30000000000000004, "0.30000000000000004"},
    };
    char t[40];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pond_format_double(t, cases[i].d);
        PT_ASSERT_STR_EQ(t, cases[i].want);
    }
    /* every finite double reads back bit for bit, and always looks like a float */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int n = pt_light() ? 2000 : 100000;
    for (int i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (!isfinite(d))
            continue;
        pond_format_double(t, d);
        double back = strtod(t, NULL);
        PT_ASSERT(memcmp(&back, &d, sizeof d) == 0);
        PT_ASSERT(strpbrk(t, ".e") != NULL);
    }
}

static void test_float_text(void)
{
    char t[40];
    pond_format_float(t, 0.1f);
    PT_ASSERT_STR_EQ(t, "0.1");
    pond_format_float(t, 16777216.0f);
    PT_ASSERT_STR_EQ(t, "16777216.0");
    pond_format_float(t, 1e20f);
    PT_ASSERT_STR_EQ(t, "1e+20");
    pond_format_float(t, -0.0f);
    PT_ASSERT_STR_EQ(t, "-0.0");
    uint32_t x = 2463534242u;
    int n = pt_light() ? 2000 : 20000;
    for (int i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        float f;
        memcpy(&f, &x, sizeof f);
        if (!isfinite(f))
            continue;
        pond_format_float(t, f);
        float back = strtof(t, NULL);
        PT_ASSERT(memcmp(&back, &f, sizeof f) == 0);
        PT_ASSERT(strpbrk(t, ".e") != NULL);
    }
}

static void test_timestamp_text(void)
{
    const pond_tz *cur_tz = NULL;
    char t[48];
    pond_format_timestamp(t, 1706702400, POND_ARROW_UNIT_S, true, cur_tz);
    PT_ASSERT_STR_EQ(t, "2024-01-31T12:00:00Z");
    pond_format_timestamp(t, 1706702400123456789LL, POND_ARROW_UNIT_NS, true, cur_tz);
    PT_ASSERT_STR_EQ(t, "2024-01-31T12:00:00.123456789Z");
    pond_format_timestamp(t, -1, POND_ARROW_UNIT_NS, false, cur_tz);
    PT_ASSERT_STR_EQ(t, "1969-12-31T23:59:59.999999999");
    pond_format_timestamp(t, INT64_MAX, POND_ARROW_UNIT_S, true, cur_tz); /* beyond the calendar */
    PT_ASSERT_STR_EQ(t, "9223372036854775807s");
}

/* --timezone: instants print as local time with the offset, nanoseconds before it; wall-clock
 * times (no zone) as they are. */
static void test_timestamp_zone(void)
{
    const pond_tz *cur_tz = NULL;
    char t[48];
    pond_tz *tz = NULL;
    PT_ASSERT_OK(pond_tz_open(&tz, "Asia/Kolkata"));
    cur_tz = tz;
    pond_format_timestamp(t, 1706702400, POND_ARROW_UNIT_S, true, cur_tz);
    PT_ASSERT_STR_EQ(t, "2024-01-31T17:30:00+05:30");
    pond_format_timestamp(t, 1706702400123456789LL, POND_ARROW_UNIT_NS, true, cur_tz);
    PT_ASSERT_STR_EQ(t, "2024-01-31T17:30:00.123456789+05:30");
    pond_format_timestamp(t, 1706702400500LL, POND_ARROW_UNIT_MS, true, cur_tz);
    PT_ASSERT_STR_EQ(t, "2024-01-31T17:30:00.500+05:30");
    pond_format_timestamp(t, 1706702400, POND_ARROW_UNIT_S, false, cur_tz);
    PT_ASSERT_STR_EQ(t, "2024-01-31T12:00:00");
    pond_format_timestamp(t, INT64_MAX, POND_ARROW_UNIT_US, true,
                          cur_tz); /* an offset would overflow */
    PT_ASSERT_STR_EQ(t, "9223372036854775807us");
    cur_tz = NULL;
    pond_tz_free(tz);
    pond_format_timestamp(t, 1706702400, POND_ARROW_UNIT_S, true, cur_tz);
    PT_ASSERT_STR_EQ(t, "2024-01-31T12:00:00Z");
}

/* Writes rows in fmt into a string: two columns (a number, a string). */
static char *rows_text(cli_fmt fmt, int n_rows)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    pond_rows *w = NULL;
    const char *names[] = {"n", "s"};
    PT_ASSERT_OK(pond_rows_new(&w, fmt, 2, names, NULL, cli_file_sink, m));
    static const char *strs[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "", "ünï"};
    for (int i = 0; i < n_rows; i++) {
        if (i == 2)
            PT_ASSERT_OK(pond_rows_null(w));
        else if (i == 3)
            PT_ASSERT_OK(pond_rows_double(w, NAN));
        else
            PT_ASSERT_OK(pond_rows_double(w, i * 10.0 + 0.5));
        PT_ASSERT_OK(pond_rows_string(w, strs[i % 6], strlen(strs[i % 6])));
    }
    int64_t rows = -1;
    PT_ASSERT_OK(pond_rows_end(w, &rows));
    PT_ASSERT_INT_EQ(rows, n_rows);
    pond_rows_free(w);
    fclose(m);
    return text;
}

static void test_rows_csv_json(void)
{
    char *t = rows_text(FMT_CSV, 6);
    PT_ASSERT_STR_EQ(t, "n,s\n0.5,plain\n10.5,\"a,b\"\n,\"say \"\"hi\"\"\"\nNaN,\"two\nlines\"\n"
                        "40.5,\"\"\n50.5,ünï\n");
    free(t);
    t = rows_text(FMT_JSON, 6);
    PT_ASSERT_STR_EQ(t, "{\"n\":0.5,\"s\":\"plain\"}\n{\"n\":10.5,\"s\":\"a,b\"}\n"
                        "{\"n\":null,\"s\":\"say \\\"hi\\\"\"}\n"
                        "{\"n\":\"NaN\",\"s\":\"two\\nlines\"}\n"
                        "{\"n\":40.5,\"s\":\"\"}\n{\"n\":50.5,\"s\":\"ünï\"}\n");
    free(t);
}

static void test_rows_table_alignment(void)
{
    char *t = rows_text(FMT_TABLE, 6);
    PT_ASSERT_STR_EQ(t, "   n  s\n"
                        "----  ------------\n"
                        " 0.5  plain\n"
                        "10.5  a,b\n"
                        "NULL  say \"hi\"\n"
                        " NaN  two\\x0alines\n"
                        "40.5\n"
                        "50.5  ünï\n"
                        "(6 rows)\n");
    free(t);
}

/* No rows: CSV keeps its header, a table its header and count, JSON prints nothing. */
static void test_rows_empty_shape(void)
{
    char *t = rows_text(FMT_CSV, 0);
    PT_ASSERT_STR_EQ(t, "n,s\n");
    free(t);
    t = rows_text(FMT_JSON, 0);
    PT_ASSERT_STR_EQ(t, "");
    free(t);
    t = rows_text(FMT_TABLE, 0);
    PT_ASSERT_STR_EQ(t, "n  s\n-  -\n(0 rows)\n");
    free(t);
}

/* More rows than the sizing window: later rows keep the widths, wide cells are cut. */
static void test_rows_table_streams(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    pond_rows *w = NULL;
    const char *names[] = {"id", "text"};
    PT_ASSERT_OK(pond_rows_new(&w, FMT_TABLE, 2, names, NULL, cli_file_sink, m));
    for (int i = 0; i < 1500; i++) {
        PT_ASSERT_OK(pond_rows_int(w, i));
        const char *s =
            i == 1400 ? "a very long value that goes well past forty characters" : "short";
        PT_ASSERT_OK(pond_rows_string(w, s, strlen(s)));
    }
    PT_ASSERT_OK(pond_rows_end(w, NULL));
    pond_rows_free(w);
    fclose(m);
    PT_ASSERT(strstr(text, " id  text\n---  -----\n") == text);
    PT_ASSERT(strstr(text, "\n1400  a ve~\n") != NULL); /* a number is never cut */
    PT_ASSERT(strstr(text, "\n  7  short\n") != NULL);
    PT_ASSERT(strstr(text, "(1500 rows)\n") != NULL);
    free(text);
}

PT_SUITE(cli_format, PT_TEST(double_text), PT_TEST(float_text), PT_TEST(timestamp_text),
         PT_TEST(timestamp_zone), PT_TEST(rows_csv_json), PT_TEST(rows_table_alignment),
         PT_TEST(rows_empty_shape), PT_TEST(rows_table_streams))
