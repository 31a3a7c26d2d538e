/* Decimal text to double, exactly as strtod reads it, without strtod for the common shapes. */
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Exact powers of ten as doubles (10^0 .. 10^22 are all representable). */
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static bool is_digit(char c) { return (unsigned)(c - '0') <= 9; }

/* strtod on decimal text only: strtod also reads hex (0x1p3) and leading blanks, which a CSV
 * value that says them does not mean as a number. */
int pond__strtod_decimal(double *v, const char *s, size_t len)
{
    if (!len || len > 64)
        return 0;
    for (size_t k = 0; k < len; k++)
        if (!strchr("0123456789+-.eE", s[k]) && !strchr("infatyINFATY", s[k]))
            return 0;
    char buf[72];
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double x = strtod(buf, &end);
    if (end != buf + len)
        return 0;
    *v = x;
    return errno == ERANGE && (isinf(x) || x == 0) ? -1 : 1;
}

/* out of range: the caller tells it from text (1e400 is a number, but not a double) */
static bool by_strtod(double *v, const char *s, size_t len)
{
    return pond__strtod_decimal(v, s, len) > 0;
}

bool pond__parse_double(double *v, const char *s, size_t len)
{
    if (!len || len > 64)
        return false;
    /* [sign] digits [. digits] [e [sign] digits]: with at most 19 digits, a mantissa m up to
     * 2^53 and a power of ten up to 22 either way, m and 10^k are exact doubles and m * 10^k or
     * m / 10^k is one correctly rounded IEEE operation: strtod's double (Clinger's fast path).
     * Everything else (longer mantissas, larger exponents, inf, nan) goes to strtod. */
    const char *p = s, *end = s + len;
    bool neg = *p == '-';
    p += *p == '-' || *p == '+';
    uint64_t m = 0;
    size_t ndig = 0, nfrac = 0;
    const char *dot = NULL;
    /* the digits and the point in one loop: one exit per value to mispredict, not two (the
     * mantissa wraps past 19 digits: refused below) */
    for (; p < end; p++) {
        unsigned dg = (unsigned)(unsigned char)*p - '0';
        if (dg <= 9) {
            m = m * 10 + dg;
            ndig++;
        } else if (*p == '.' && !dot) {
            dot = p;
        } else {
            break;
        }
    }
    if (dot)
        nfrac = (size_t)(p - dot - 1);
    if (ndig == 0 || ndig > 19)
        return by_strtod(v, s, len);
    int e10 = -(int)nfrac;
    if (p < end) {
        if (*p != 'e' && *p != 'E')
            return by_strtod(v, s, len);
        p++;
        bool eneg = p < end && *p == '-';
        p += p < end && (*p == '-' || *p == '+');
        const char *x0 = p;
        int x = 0;
        while (p < end && is_digit(*p) && x < 10000)
            x = x * 10 + (*p++ - '0');
        if (p == x0 || p != end)
            return by_strtod(v, s, len);
        e10 += eneg ? -x : x;
    }
    if (m > (UINT64_C(1) << 53) || e10 < -22 || e10 > 22)
        return by_strtod(v, s, len);
    double d = (double)m;
    if (e10 < 0)
        d /= POW10[-e10];
    else if (e10 > 0)
        d *= POW10[e10];
    *v = neg ? -d : d;
    return true;
}
