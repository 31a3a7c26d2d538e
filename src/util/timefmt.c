#include <pond/timefmt.h>

#include "util/util.h"

#include <stdio.h>
#include <string.h>

/* Howard Hinnant's days_from_civil algorithm (public domain description), written anew. */
int64_t pond_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void pond_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dm[m - 1];
}

/* Reads exactly n digits at s[*i]. */
static bool digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return false;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return true;
}

static int bad(const char *s, size_t len, const char *why)
{
    return pond_error_set(POND_EINVALID, POND_DOM_UTIL, "bad timestamp '%.*s': %s",
                          (int)POND_MIN(len, 64), s, why);
}

int pond_time_parse_iso(int64_t *us_out, const char *s, size_t len)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    int64_t frac_us = 0;
    if (!digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' || !digits(s, len, &i, 2, &mo) ||
        i >= len || s[i++] != '-' || !digits(s, len, &i, 2, &d))
        return bad(s, len, "expected YYYY-MM-DD");
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)mo))
        return bad(s, len, "date out of range");
    int64_t offset_s = 0;
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (!digits(s, len, &i, 2, &h) || i >= len || s[i++] != ':' ||
            !digits(s, len, &i, 2, &mi))
            return bad(s, len, "expected HH:MM after the date");
        if (i < len && s[i] == ':') {
            i++;
            if (!digits(s, len, &i, 2, &sec))
                return bad(s, len, "expected seconds");
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                int nd = 0;
                int64_t scale = 100000;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    if (nd < 6)
                        frac_us += (s[i] - '0') * scale;
                    scale /= 10;
                    nd++;
                    i++;
                }
                if (nd == 0 || nd > 9)
                    return bad(s, len, "fraction must have 1 to 9 digits");
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return bad(s, len, "time out of range");
        if (sec == 60)
            sec = 59; /* a leap second is clamped: pond time has no leap seconds */
        if (i < len) {
            if (s[i] == 'Z' || s[i] == 'z') {
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
                if (!digits(s, len, &i, 2, &oh))
                    return bad(s, len, "bad zone offset");
                if (i < len && s[i] == ':')
                    i++;
                if (i < len && !digits(s, len, &i, 2, &om))
                    return bad(s, len, "bad zone offset");
                if (oh > 23 || om > 59)
                    return bad(s, len, "zone offset out of range");
                offset_s = sign * (oh * 3600 + om * 60);
            }
        }
    }
    if (i != len)
        return bad(s, len, "unexpected characters at the end");
    int64_t days = pond_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    *us_out = secs * 1000000 + frac_us;
    return 0;
}

int64_t pond_time_epoch_guess_us(int64_t v)
{
    int64_t a = v < 0 ? -(v + 1) : v;
    if (a < 100000000000LL)
        return v * 1000000;
    if (a < 100000000000000LL)
        return v * 1000;
    if (a < 100000000000000000LL)
        return v;
    return v / 1000 - (v % 1000 < 0); /* floor division of nanoseconds */
}

int pond_time_parse(int64_t *us_out, const char *s, size_t len)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    size_t start = i;
    int64_t v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
            return bad(s, len, "integer out of range");
        i++;
    }
    if (i == start || (i < len && s[i] == '-' && !neg && i - start == 4))
        return pond_time_parse_iso(us_out, s, len);
    if (neg)
        v = -v;
    const char *unit = s + i;
    size_t ul = len - i;
    int64_t r;
    if (ul == 0) {
        *us_out = pond_time_epoch_guess_us(v);
        return 0;
    } else if (ul == 1 && unit[0] == 's') {
        if (__builtin_mul_overflow(v, 1000000, &r))
            return bad(s, len, "out of range");
    } else if (ul == 2 && !memcmp(unit, "ms", 2)) {
        if (__builtin_mul_overflow(v, 1000, &r))
            return bad(s, len, "out of range");
    } else if (ul == 2 && !memcmp(unit, "us", 2)) {
        r = v;
    } else if (ul == 2 && !memcmp(unit, "ns", 2)) {
        r = v / 1000 - (v % 1000 < 0);
    } else {
        return bad(s, len, "expected ISO-8601 or an integer with unit s, ms, us or ns");
    }
    *us_out = r;
    return 0;
}

size_t pond_time_format_iso(char out[40], int64_t us)
{
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    pond_civil_from_days(days, &y, &m, &d);
    int n;
    if (frac == 0)
        n = snprintf(out, 40, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    else if (frac % 1000 == 0)
        n = snprintf(out, 40, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)(frac / 1000));
    else
        n = snprintf(out, 40, "%04lld-%02u-%02uT%02d:%02d:%02d.%06dZ", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)frac);
    return n < 0 ? 0 : (size_t)POND_MIN(n, 39);
}
