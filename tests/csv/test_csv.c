#include "pt.h"

#include <pond/buf.h>
#include <pond/csv.h>
#include <pond/timefmt.h>

#include "csv/csv_internal.h"

#include <stdlib.h>

/* Reads all records of text into "a|b|c\n" lines (quoted fields marked with q:), through a
 * reader of a copy (open_mem) or a view of text (pond_csv__reader_open_view). */
static int dump_by(char **out, const char *text, size_t len, const pond_csv_options *opts,
                   bool view)
{
    pond_csv_reader *r;
    int rc = view ? pond_csv__reader_open_view(&r, text, len, opts)
                  : pond_csv_reader_open_mem(&r, text, len, opts);
    if (rc < 0)
        return rc;
    pond_buf b = POND_BUF_INIT;
    while ((rc = pond_csv_reader_next(r)) == 0) {
        for (size_t i = 0; i < pond_csv_reader_nfields(r); i++) {
            bool q;
            size_t fl;
            const char *f = pond_csv_reader_field(r, i, &fl, &q);
            if ((rc = pond_buf_printf(&b, "%s%s%.*s", i ? "|" : "", q ? "q:" : "", (int)fl, f)) < 0)
                break;
        }
        if (rc < 0 || (rc = pond_buf_putc(&b, '\n')) < 0)
            break;
    }
    pond_csv_reader_free(r);
    if (rc != POND_ITEROVER) {
        pond_buf_dispose(&b);
        return rc;
    }
    *out = pond_buf_detach(&b);
    return 0;
}

static int dump(char **out, const char *text, size_t len, const pond_csv_options *opts)
{
    return dump_by(out, text, len, opts, false);
}

#define EXPECT_CSV(in, want)                                                                       \
    do {                                                                                           \
        char *got_ = NULL;                                                                         \
        PT_ASSERT_OK(dump(&got_, in, sizeof(in) - 1, NULL));                                       \
        PT_ASSERT_STR_EQ(got_, want);                                                              \
        pond_free(got_);                                                                           \
    } while (0)

static void test_basic(void)
{
    EXPECT_CSV("a,b,c\n1,2,3\n", "a|b|c\n1|2|3\n");
    EXPECT_CSV("a,b\r\n1,2\r\n", "a|b\n1|2\n");
    EXPECT_CSV("a,b\n1,2", "a|b\n1|2\n");       /* no final newline */
    EXPECT_CSV("\xEF\xBB\xBFx\n1\n", "x\n1\n"); /* BOM */
    EXPECT_CSV("a\n\n\r\nb\n", "a\nb\n");       /* blank lines skipped */
    EXPECT_CSV("a,,c\n,\n", "a||c\n|\n");       /* empty fields */
    EXPECT_CSV("", "");
}

static void test_quotes(void)
{
    EXPECT_CSV("\"a,b\",\"c\"\"d\"\n", "q:a,b|q:c\"d\n");
    EXPECT_CSV("\"line\nbreak\",x\n", "q:line\nbreak|x\n");
    EXPECT_CSV("\"\",x\n", "q:|x\n"); /* quoted empty string is distinguishable */
    EXPECT_CSV("\"a\"\r\n", "q:a\n");
    EXPECT_CSV("ab\"c,d\n", "ab\"c|d\n"); /* a quote inside an unquoted field is literal */
}

static void test_line_numbers(void)
{
    const char text[] = "h\n\"multi\nline\"\nnext\n";
    pond_csv_reader *r;
    PT_ASSERT_OK(pond_csv_reader_open_mem(&r, text, sizeof text - 1, NULL));
    PT_ASSERT_OK(pond_csv_reader_next(r));
    PT_ASSERT_INT_EQ(pond_csv_reader_line(r), 1);
    PT_ASSERT_OK(pond_csv_reader_next(r));
    PT_ASSERT_INT_EQ(pond_csv_reader_line(r), 2);
    PT_ASSERT_OK(pond_csv_reader_next(r));
    PT_ASSERT_INT_EQ(pond_csv_reader_line(r), 4);
    PT_ASSERT_ERR(pond_csv_reader_next(r), POND_ITEROVER);
    pond_csv_reader_free(r);
}

static void test_errors(void)
{
    char *got = NULL;
    const char unterminated[] = "a\n\"abc\n";
    PT_ASSERT_ERR(dump(&got, unterminated, sizeof unterminated - 1, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("line 2: unterminated quoted field");
    const char after[] = "\"a\"x,b\n";
    PT_ASSERT_ERR(dump(&got, after, sizeof after - 1, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("after a closing quote");
    pond_csv_options o = POND_CSV_OPTIONS_INIT;
    o.max_field = 4;
    o.name = "big.csv";
    const char big[] = "abcd,abcde\n";
    PT_ASSERT_ERR(dump(&got, big, sizeof big - 1, &o), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("big.csv: line 1: field longer than 4 bytes");
    o = (pond_csv_options)POND_CSV_OPTIONS_INIT;
    o.max_fields = 2;
    const char many[] = "a,b,c\n";
    PT_ASSERT_ERR(dump(&got, many, sizeof many - 1, &o), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("more than 2 fields");
}

/* Tiny buffers force every token to straddle a refill. */
static void test_small_buffer_equivalence(void)
{
    const char text[] =
        "id,name,note\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,,\"multi\nline\"\n3,z,\n";
    char *want = NULL;
    PT_ASSERT_OK(dump(&want, text, sizeof text - 1, NULL));
    for (size_t bs = 1; bs <= 8; bs++) {
        pond_csv_options o = POND_CSV_OPTIONS_INIT;
        o.buffer_size = bs;
        char *got = NULL;
        PT_ASSERT_OK(dump(&got, text, sizeof text - 1, &o));
        PT_ASSERT_STR_EQ(got, want);
        pond_free(got);
    }
    PT_ASSERT_STR_EQ(want, "id|name|note\n1|q:x, y|q:say \"hi\"\n2||q:multi\nline\n3|z|\n");
    pond_free(want);
}

/* Random unquoted records (fields of 0 to 30 bytes, so delimiters and newlines fall at every
 * place in the eight bytes the field scan reads at once; LF and CRLF; several delimiters),
 * read whole and through small buffers: the fields are those a plain split gives. */
static void test_random_unquoted_fields(void)
{
    static const char delims[] = ",;\t|";
    uint64_t st = 12345;
    for (int round = 0; round < 200; round++) {
        pond_buf text = POND_BUF_INIT, want = POND_BUF_INIT;
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        char delim = delims[(st >> 33) % 4];
        bool crlf = (st >> 40) & 1;
        int rows = 1 + (int)((st >> 20) % 40), cols = 1 + (int)((st >> 50) % 7);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                st = st * 6364136223846793005ull + 1442695040888963407ull;
                int len = (int)((st >> 33) % 31);
                if (c == 0 && len == 0)
                    len = 1; /* an empty line is skipped, not a record */
                if (c) {
                    PT_ASSERT_OK(pond_buf_putc(&text, delim));
                    PT_ASSERT_OK(pond_buf_putc(&want, '|'));
                }
                for (int k = 0; k < len; k++) {
                    char ch = (char)('!' + (st >> (k % 40)) % 90);
                    if (ch == delim || ch == '"' || ch == '|' || ch == '#')
                        ch = 'x';
                    PT_ASSERT_OK(pond_buf_putc(&text, ch));
                    PT_ASSERT_OK(pond_buf_putc(&want, ch));
                }
            }
            PT_ASSERT_OK(pond_buf_puts(&text, crlf ? "\r\n" : "\n"));
            PT_ASSERT_OK(pond_buf_putc(&want, '\n'));
        }
        for (size_t bs = 0; bs < 3; bs++) {
            pond_csv_options o = POND_CSV_OPTIONS_INIT;
            o.delimiter = delim;
            if (bs)
                o.buffer_size = bs * 7;
            char *got = NULL;
            PT_ASSERT_OK(dump(&got, text.ptr, text.size, &o));
            PT_ASSERT_STR_EQ(got, want.ptr);
            pond_free(got);
        }
        pond_buf_dispose(&text);
        pond_buf_dispose(&want);
    }
}

/* A view reader gives the records a reader of a copy gives (quotes, "", CRLF, quoted
 * newlines, blank and comment lines, a last line without a newline, errors) and never writes
 * into the bytes it reads. */
static void test_view_reader_equivalence(void)
{
    static const char *const texts[] = {
        "id,name,note\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,,\"multi\nline\"\n3,z,\n",
        "a,b\n\"\"\"\"\"\",\"\"\n\n\n1,2",
        "a,b\n1,\"end\"",
        "a,b\n1,\"end\"\"\"",
        "a;b\n# note\n1;2\r\n\r\n3;\"q\"\"\"\n",
        "a,b\n1,\"open",
        "a,b\n1,\"x\"y\n",
        "x\n\"\"\n\"a\"\"b\"\"c\"\n",
    };
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        pond_csv_options o = POND_CSV_OPTIONS_INIT;
        if (strchr(texts[k], ';'))
            o.delimiter = ';';
        o.comment = '#';
        size_t len = strlen(texts[k]);
        char *copy = pond_malloc(len ? len : 1);
        PT_ASSERT(copy != NULL);
        memcpy(copy, texts[k], len);
        char *want = NULL, *got = NULL;
        int rw = dump_by(&want, texts[k], len, &o, false);
        char msg[256];
        snprintf(msg, sizeof msg, "%s", rw < 0 ? pond_error_last()->message : "");
        int rg = dump_by(&got, copy, len, &o, true);
        PT_ASSERT_INT_EQ(rg, rw);
        if (rw == 0)
            PT_ASSERT_STR_EQ(got, want);
        else
            PT_ASSERT_STR_EQ(pond_error_last()->message, msg);
        PT_ASSERT(memcmp(copy, texts[k], len) == 0); /* nothing written */
        pond_free(want);
        pond_free(got);
        pond_free(copy);
    }
}

static int csv_alloc_body(void *arg)
{
    (void)arg;
    char *got = NULL;
    const char text[] = "a,b\n\"x\"\"y\",2\n";
    int rc = dump(&got, text, sizeof text - 1, NULL);
    pond_free(got);
    return rc;
}

static void test_alloc_faults(void)
{
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, csv_alloc_body, NULL);
    PT_ASSERT(steps > 3);
}

static void test_file_source(void)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/in.csv", PT_TMPDIR());
    FILE *f = fopen(path, "w");
    PT_ASSERT(f);
    for (int i = 0; i < 100000; i++)
        fprintf(f, "%d,%d.5,\"s%d\"\n", i, i, i % 7);
    fclose(f);
    pond_csv_reader *r;
    PT_ASSERT_OK(pond_csv_reader_open_file(&r, path, NULL));
    int rows = 0, rc;
    long long sum = 0;
    while ((rc = pond_csv_reader_next(r)) == 0) {
        PT_ASSERT_INT_EQ(pond_csv_reader_nfields(r), 3);
        sum += atoll(pond_csv_reader_field(r, 0, NULL, NULL));
        rows++;
    }
    PT_ASSERT_INT_EQ(rc, POND_ITEROVER);
    PT_ASSERT_INT_EQ(rows, 100000);
    PT_ASSERT_INT_EQ(sum, 99999LL * 100000 / 2);
    pond_csv_reader_free(r);
    PT_ASSERT_ERR(pond_csv_reader_open_file(&r, "/nonexistent/x.csv", NULL), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("/nonexistent/x.csv");
}

static int64_t iso(const char *s)
{
    int64_t us = 0;
    int rc = pond_time_parse_iso(&us, s, strlen(s));
    if (rc < 0)
        pt_fail(__FILE__, __LINE__, "parse '%s': %s", s, pond_error_last()->message);
    return us;
}

static void test_time_parse(void)
{
    PT_ASSERT_INT_EQ(iso("1970-01-01"), 0);
    PT_ASSERT_INT_EQ(iso("1970-01-01T00:00:01Z"), 1000000);
    PT_ASSERT_INT_EQ(iso("2024-02-29 12:30:00"), (19782LL * 86400 + 45000) * 1000000);
    PT_ASSERT_INT_EQ(iso("2024-02-29T12:30:00.25+01:00"),
                     (19782LL * 86400 + 41400) * 1000000 + 250000);
    PT_ASSERT_INT_EQ(iso("2024-02-29T12:30-0130"), (19782LL * 86400 + 45000 + 5400) * 1000000);
    PT_ASSERT_INT_EQ(iso("1969-12-31T23:59:59.5Z"), -500000);
    PT_ASSERT_INT_EQ(iso("2000-01-01T00:00:00.123456789Z"), 946684800123456LL);
    int64_t us;
    const char *bad[] = {"",
                         "2024",
                         "2024-13-01",
                         "2023-02-29",
                         "2024-01-01T25:00",
                         "2024-01-01T",
                         "2024-01-01Tx",
                         "2024-01-01T00:00:00.",
                         "2024-01-01 00:00:00 junk",
                         "2024-01-01T00:00+24:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        PT_ASSERT_ERR(pond_time_parse_iso(&us, bad[i], strlen(bad[i])), POND_EINVALID);
        PT_ASSERT_MSG_HAS("bad timestamp");
    }
}

static void test_time_epoch_and_format(void)
{
    int64_t us;
    /* an integer needs its unit (docs/time.md; tests/util/test_time.c has the rest) */
    PT_ASSERT_ERR(pond_time_parse(&us, "1700000000", 10), POND_EINVALID);
    PT_ASSERT_OK(pond_time_parse(&us, "1700000000000ms", 15));
    PT_ASSERT_INT_EQ(us, 1700000000000000LL);
    PT_ASSERT_OK(pond_time_parse(&us, "5s", 2));
    PT_ASSERT_INT_EQ(us, 5000000);
    PT_ASSERT_OK(pond_time_parse(&us, "-1500ns", 7));
    PT_ASSERT_INT_EQ(us, -2);
    PT_ASSERT_OK(pond_time_parse(&us, "2024-01-02", 10));
    PT_ASSERT_INT_EQ(us, 19724LL * 86400 * 1000000);
    PT_ASSERT_ERR(pond_time_parse(&us, "12parsecs", 9), POND_EINVALID);
    PT_ASSERT_ERR(pond_time_parse(&us, "99999999999999999999", 20), POND_EINVALID);
    char out[40];
    pond_time_format_iso(out, 0);
    PT_ASSERT_STR_EQ(out, "1970-01-01T00:00:00Z");
    pond_time_format_iso(out, -500000);
    PT_ASSERT_STR_EQ(out, "1969-12-31T23:59:59.500Z");
    pond_time_format_iso(out, 946684800123456LL);
    PT_ASSERT_STR_EQ(out, "2000-01-01T00:00:00.123456Z");
    /* format -> parse round trip over a wide range */
    for (int64_t v = -62135596800000000LL; v < 253402300799000000LL; v += 987654321012345LL) {
        size_t n = pond_time_format_iso(out, v);
        PT_ASSERT_OK(pond_time_parse_iso(&us, out, n));
        PT_ASSERT_INT_EQ(us, v);
    }
}

PT_SUITE(csv, PT_TEST(basic), PT_TEST(quotes), PT_TEST(line_numbers), PT_TEST(errors),
         PT_TEST(small_buffer_equivalence), PT_TEST(random_unquoted_fields),
         PT_TEST(view_reader_equivalence), PT_TEST(alloc_faults), PT_TEST(file_source),
         PT_TEST(time_parse), PT_TEST(time_epoch_and_format))
