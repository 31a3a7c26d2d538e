/* pond__parse_double against strtod: the same answer, bit for bit, on every input. */
#include "harness/pt.h"
#include "util/util.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The reference: strtod on the same decimal text (pond__strtod_decimal, itself pinned against
 * strtod by util_numparse::strtod_decimal); an out-of-range value is refused. */
static bool ref_parse(double *v, const char *s, size_t len)
{
    return pond__strtod_decimal(v, s, len) == 1;
}

/* Compares both on s (not NUL-terminated where it is read: a guard byte follows). */
static void check(const char *s, size_t len)
{
    char buf[80];
    if (len > 70)
        len = 70;
    memcpy(buf, s, len);
    buf[len] = '7'; /* a digit after the value must not be read */
    double want = 0, got = 0;
    bool rw = ref_parse(&want, buf, len), rg = pond__parse_double(&got, buf, len);
    if (rw != rg)
        pt_fail(__FILE__, __LINE__, "'%.*s': strtod %s, pond__parse_double %s", (int)len, buf,
                rw ? "reads it" : "refuses it", rg ? "reads it" : "refuses it");
    if (rw && memcmp(&want, &got, sizeof want) != 0 && !(isnan(want) && isnan(got)))
        pt_fail(__FILE__, __LINE__, "'%.*s': strtod %.17g (%a), pond__parse_double %.17g (%a)",
                (int)len, buf, want, want, got, got);
}

static void check_str(const char *s) { check(s, strlen(s)); }

static void test_edge_cases(void)
{
    static const char *const cases[] = {
        "0",
        "-0",
        "+0",
        "-0.0",
        "0.0",
        "-0e5",
        "0e-30",
        "00012",
        "-01.50",
        "1.",
        ".5",
        "-.5",
        "+.5",
        ".",
        "-",
        "+",
        "",
        "e5",
        "1e",
        "1e+",
        "1e-",
        "1e5.",
        "1.2.3",
        "--1",
        "+-1",
        "1-",
        "1e5e5",
        "1ee5",
        "inf",
        "-inf",
        "Infinity",
        "-Infinity",
        "nan",
        "NaN",
        "infinity",
        "0x1p3",
        " 1",
        "1 ",
        "1_000",
        "1,5",
        "0.1",
        "0.2",
        "0.3",
        "0.247204",
        "-0.420829",
        "123.456",
        "9007199254740992",
        "9007199254740993",
        "9007199254740993.0",
        "9007199254740991",
        "-9007199254740993",
        "18014398509481985",
        "123456789012345678",
        "1234567890123456789",
        "12345678901234567890",
        "99999999999999999999",
        "0.1234567890123456789",
        "1.234567890123456789e5",
        "1e22",
        "1e23",
        "1e-22",
        "1e-23",
        "9007199254740992e22",
        "9007199254740992e-22",
        "9007199254740993e-22",
        "1E5",
        "1e+05",
        "1e-0005",
        "1e0000000000000000000005",
        "1e99999",
        "1e-99999",
        "1e400",
        "-1e400",
        "1e-400",
        "-1e-400",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "2.2250738585072011e-308",
        "2.2250738585072014e-308",
        "4.9406564584124654e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "5e-324",
        "3e-324",
        "2e-324",
        "1e-323",
        "0.000001",
        "1e-7",
        "3.0000000000000004",
        "0.30000000000000004",
        "2.5",
        "0.5e1",
        "1.5e-1",
        "0.0000000000000000000001",
        "0.00000000000000000000001",
        "4503599627370496.5",
        "4503599627370497.5",
        "1000000000000000000000",
        "10000000000000000000000",
        "100000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000001",
        "00000000000000000000000000000000000000000000000000000000000000001.5",
        "1234567890123456789012345678901234567890123456789012345678901234",
        "12345678901234567890123456789012345678901234567890123456789012345",
    };
    for (size_t k = 0; k < POND_ARRAY_LEN(cases); k++)
        check_str(cases[k]);
}

static uint64_t rnd_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* Random decimal shapes: signs, up to 22 digits either side of a point, exponents. */
static void test_random_decimals(void)
{
    int n = pt_light() ? 20000 : 400000;
    char s[96];
    for (int t = 0; t < n; t++) {
        size_t len = 0;
        uint64_t r = rnd();
        if (r % 3 == 0)
            s[len++] = r % 2 ? '-' : '+';
        r = rnd();
        int ni = (int)(r % 23), nf = (int)((r >> 8) % 23);
        bool dot = (r >> 16) % 4 != 0;
        for (int k = 0; k < ni; k++)
            s[len++] = (char)('0' + rnd() % 10);
        if (dot) {
            s[len++] = '.';
            for (int k = 0; k < nf; k++)
                s[len++] = (char)('0' + rnd() % 10);
        }
        r = rnd();
        if (r % 3 == 0) {
            s[len++] = r & 8 ? 'e' : 'E';
            if (r & 16)
                s[len++] = r & 32 ? '-' : '+';
            int ne = (int)((r >> 8) % 4);
            for (int k = 0; k < ne; k++)
                s[len++] = (char)('0' + rnd() % 10);
        }
        check(s, len);
    }
}

/* Random doubles (normal, subnormal, near halfway) written the ways files write them. */
static void test_random_doubles(void)
{
    int n = pt_light() ? 10000 : 200000;
    char s[512];
    for (int t = 0; t < n; t++) {
        uint64_t bits = rnd();
        double x;
        switch (t % 4) {
        case 0: /* any finite double */
            memcpy(&x, &bits, sizeof x);
            if (!isfinite(x))
                continue;
            break;
        case 1: /* values of everyday size */
            x = (double)(int64_t)(bits % 2000000000) / 1e6 - 1000;
            break;
        case 2: /* subnormals */
            bits &= 0x800FFFFFFFFFFFFFull;
            memcpy(&x, &bits, sizeof x);
            break;
        default: { /* halfway between two doubles, written with enough digits to see it */
            x = (double)(bits >> 11) * 0x1p-20;
            long double mid = ((long double)x + (long double)nextafter(x, INFINITY)) / 2;
            int len = snprintf(s, sizeof s, "%.30Le", mid);
            check(s, (size_t)len);
            len = snprintf(s, sizeof s, "%.17Lg", mid);
            check(s, (size_t)len);
            continue;
        }
        }
        int lens[] = {
            snprintf(s, 40, "%.17g", x),       snprintf(s + 40, 40, "%.15g", x),
            snprintf(s + 80, 40, "%.6f", x),   snprintf(s + 120, 40, "%.3f", x),
            snprintf(s + 160, 40, "%.9e", x),  snprintf(s + 200, 40, "%.20e", x),
            snprintf(s + 240, 40, "%.25g", x), snprintf(s + 280, 40, "%.1f", x),
        };
        for (size_t k = 0; k < POND_ARRAY_LEN(lens); k++)
            if (lens[k] > 0 && lens[k] < 40)
                check(s + 40 * k, (size_t)lens[k]);
    }
}

/* Random bytes from the number alphabet: what is not a number is refused by both. */
static void test_random_bytes(void)
{
    static const char alpha[] = "0123456789+-.eE inxaf";
    int n = pt_light() ? 20000 : 300000;
    char s[24];
    for (int t = 0; t < n; t++) {
        size_t len = 1 + rnd() % 12;
        for (size_t k = 0; k < len; k++)
            s[k] = alpha[rnd() % (sizeof alpha - 1)];
        check(s, len);
    }
}

/* strtod's own three answers, which the CSV import's type inference also asks (a number out of
 * a double's range is a number: its line fails with the reason rather than becoming text). */
static void test_strtod_decimal(void)
{
    static const struct {
        const char *s;
        int want;
    } cases[] = {
        {"1.5", 1},    {"-0", 1},      {"inf", 1},     {"NaN", 1},  {"1e308", 1},
        {"1e400", -1}, {"-1e400", -1}, {"1e-400", -1}, {"0x10", 0}, {" 1", 0},
        {"1 ", 0},     {"", 0},        {"1e40a", 0},   {"abc", 0},  {"1,5", 0},
    };
    for (size_t k = 0; k < POND_ARRAY_LEN(cases); k++) {
        double v = 42;
        int got = pond__strtod_decimal(&v, cases[k].s, strlen(cases[k].s));
        PT_ASSERT_INT_EQ(got, cases[k].want);
        if (got != 0) {
            char buf[72];
            snprintf(buf, sizeof buf, "%s", cases[k].s);
            double x = strtod(buf, NULL);
            PT_ASSERT(memcmp(&v, &x, sizeof v) == 0 || (isnan(v) && isnan(x)));
        } else {
            PT_ASSERT(v == 42); /* untouched */
        }
    }
    /* 65 digits: longer than any value it reads (the copy is bounded) */
    char longs[65];
    memset(longs, '1', sizeof longs);
    double v = 0;
    PT_ASSERT_INT_EQ(pond__strtod_decimal(&v, longs, sizeof longs), 0);
    PT_ASSERT_INT_EQ(pond__strtod_decimal(&v, longs, 64), 1);
}

PT_SUITE(util_numparse, PT_TEST(edge_cases), PT_TEST(random_decimals), PT_TEST(random_doubles),
         PT_TEST(random_bytes), PT_TEST(strtod_decimal))
