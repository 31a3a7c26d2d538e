#include <pond/timefmt.h>

#include "util/util.h"
#include "util/time_internal.h"

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

unsigned pond__days_in_month(int64_t y, unsigned m)
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

typedef struct {
    int y, mo, d, h, mi, sec;
    int64_t frac_us;
    bool has_zone;
    int64_t offset_s;
} iso_fields;

enum { ISO_FULL = 0, ISO_MONTH = 1, ISO_YEAR = 2 }; /* the shortest form allowed */

static int dig2(const char *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

/* The shape nearly every file writes, YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|+HH[:MM]], read with one
 * check of its fixed places instead of a bounds check per digit. False for anything else, and
 * for values out of range: iso_parse reads those (and words their errors) as before. In two
 * halves: iso_head reads the first 16 characters (the date, hours and minutes) and depends on
 * nothing else, iso_tail the rest (':', seconds, fraction, zone), so pond__time_parse_iso_memo
 * can keep a head that repeats from the value before. */
static bool iso_head(iso_fields *f, const char *s, size_t len)
{
    static const unsigned char at[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15};
    if (len < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
        return false;
    unsigned bad = 0;
    for (size_t k = 0; k < sizeof at; k++)
        bad |= (unsigned)(s[at[k]] - '0') > 9;
    if (bad)
        return false;
    f->y = dig2(s) * 100 + dig2(s + 2);
    f->mo = dig2(s + 5);
    f->d = dig2(s + 8);
    f->h = dig2(s + 11);
    f->mi = dig2(s + 14);
    return f->y >= 1 && f->mo >= 1 && f->mo <= 12 && f->d >= 1 && f->h <= 23 && f->mi <= 59 &&
           (f->d <= 28 || (unsigned)f->d <= pond__days_in_month(f->y, (unsigned)f->mo));
}

/* The rest after iso_head's 16 characters (len >= 19). */
static bool iso_tail(iso_fields *f, const char *s, size_t len)
{
    if (s[16] != ':' || (unsigned)(s[17] - '0') > 9 || (unsigned)(s[18] - '0') > 9)
        return false;
    f->sec = dig2(s + 17);
    f->frac_us = 0;
    f->has_zone = false;
    f->offset_s = 0;
    if (f->sec > 59)
        return false;
    size_t i = 19;
    if (i < len && (s[i] == '.' || s[i] == ',')) {
        int64_t scale = 100000;
        size_t d0 = ++i;
        for (; i < len && (unsigned)(s[i] - '0') <= 9; i++, scale /= 10)
            if (scale)
                f->frac_us += (s[i] - '0') * scale;
        if (i == d0 || i - d0 > 9)
            return false;
    }
    if (i == len)
        return true;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        f->has_zone = true;
        return true;
    }
    if (s[i] != '+' && s[i] != '-')
        return false;
    int sign = s[i] == '-' ? -1 : 1, om = 0;
    size_t rest = len - i - 1;
    const char *z = s + i + 1;
    if (rest != 2 && rest != 4 && !(rest == 5 && z[2] == ':'))
        return false;
    const char *mm = rest == 5 ? z + 3 : z + 2;
    if ((unsigned)(z[0] - '0') > 9 || (unsigned)(z[1] - '0') > 9 ||
        (rest > 2 && ((unsigned)(mm[0] - '0') > 9 || (unsigned)(mm[1] - '0') > 9)))
        return false;
    int oh = dig2(z);
    if (rest > 2)
        om = dig2(mm);
    if (oh > 23 || om > 59)
        return false;
    f->offset_s = sign * (oh * 3600 + om * 60);
    f->has_zone = true;
    return true;
}

static bool iso_fast(iso_fields *f, const char *s, size_t len)
{
    return iso_head(f, s, len) && iso_tail(f, s, len);
}

static int iso_parse_general(iso_fields *f, const char *s, size_t len, int shortest)
{
    size_t i = 0;
    memset(f, 0, sizeof *f);
    f->mo = f->d = 1;
    if (!digits(s, len, &i, 4, &f->y))
        return bad(s, len, "expected YYYY-MM-DD");
    if (i == len && shortest >= ISO_YEAR)
        return f->y < 1 ? bad(s, len, "date out of range") : 0;
    if (i >= len || s[i++] != '-' || !digits(s, len, &i, 2, &f->mo))
        return bad(s, len, "expected YYYY-MM-DD");
    if (i == len && shortest >= ISO_MONTH)
        return f->y < 1 || f->mo < 1 || f->mo > 12 ? bad(s, len, "date out of range") : 0;
    if (i >= len || s[i++] != '-' || !digits(s, len, &i, 2, &f->d))
        return bad(s, len, "expected YYYY-MM-DD");
    if (f->y < 1 || f->mo < 1 || f->mo > 12 || f->d < 1 ||
        (unsigned)f->d > pond__days_in_month(f->y, (unsigned)f->mo))
        return bad(s, len, "date out of range");
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (!digits(s, len, &i, 2, &f->h) || i >= len || s[i++] != ':' ||
            !digits(s, len, &i, 2, &f->mi))
            return bad(s, len, "expected HH:MM after the date");
        if (i < len && s[i] == ':') {
            i++;
            if (!digits(s, len, &i, 2, &f->sec))
                return bad(s, len, "expected seconds");
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                int nd = 0;
                int64_t scale = 100000;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    if (nd < 6)
                        f->frac_us += (s[i] - '0') * scale;
                    scale /= 10;
                    nd++;
                    i++;
                }
                if (nd == 0 || nd > 9)
                    return bad(s, len, "fraction must have 1 to 9 digits");
            }
        }
        if (f->h > 23 || f->mi > 59 || f->sec > 60)
            return bad(s, len, "time out of range");
        if (f->sec == 60)
            f->sec = 59; /* a leap second is clamped: pond time has no leap seconds */
        if (i < len) {
            if (s[i] == 'Z' || s[i] == 'z') {
                i++;
                f->has_zone = true;
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
                f->offset_s = sign * (oh * 3600 + om * 60);
                f->has_zone = true;
            }
        }
    }
    if (i != len)
        return bad(s, len, "unexpected characters at the end");
    return 0;
}

static int iso_parse(iso_fields *f, const char *s, size_t len, int shortest)
{
    return iso_fast(f, s, len) ? 0 : iso_parse_general(f, s, len, shortest);
}

int pond__time_compose(int64_t *us_out, int64_t local_s, int64_t frac_us, bool has_zone,
                       int64_t offset_s, const pond_tz *tz, const char *s, size_t len)
{
    int64_t secs = local_s - offset_s;
    if (!has_zone && pond_tz_to_utc(&secs, tz, local_s) < 0) {
        pond_error_prefix("'%.*s'", (int)POND_MIN(len, 64), s);
        return POND_EINVALID;
    }
    *us_out = secs * 1000000 + frac_us;
    return 0;
}

static int iso_to_us(int64_t *us_out, const iso_fields *f, const pond_tz *tz, const char *s,
                     size_t len)
{
    int64_t days = pond_days_from_civil(f->y, (unsigned)f->mo, (unsigned)f->d);
    return pond__time_compose(us_out, days * 86400 + f->h * 3600 + f->mi * 60 + f->sec, f->frac_us,
                              f->has_zone, f->offset_s, tz, s, len);
}

int pond_time_parse_iso(int64_t *us_out, const char *s, size_t len)
{
    iso_fields f;
    int rc = iso_parse(&f, s, len, ISO_FULL);
    return rc < 0 ? rc : iso_to_us(us_out, &f, NULL, s, len);
}

int pond__time_parse_iso_general(int64_t *us_out, const char *s, size_t len)
{
    iso_fields f;
    int rc = iso_parse_general(&f, s, len, ISO_FULL);
    return rc < 0 ? rc : iso_to_us(us_out, &f, NULL, s, len);
}

int pond__time_parse_iso_local(int64_t *us_out, const char *s, size_t len, const pond_tz *tz,
                               bool *parsed)
{
    iso_fields f;
    int rc = iso_parse(&f, s, len, ISO_MONTH);
    *parsed = rc == 0;
    return rc < 0 ? rc : iso_to_us(us_out, &f, tz, s, len);
}

int pond__time_parse_iso_memo(int64_t *us_out, const char *s, size_t len, const pond_tz *tz,
                              pond__time_memo *memo, bool *parsed)
{
    iso_fields f;
    if (memo && memo->ok && len >= 19 && memcmp(s, memo->head, sizeof memo->head) == 0 &&
        iso_tail(&f, s, len)) {
        /* the same 16 characters as the value memo->head came from: the same local minute;
         * the zone (or the offset) is applied to each value as always */
        *parsed = true;
        return pond__time_compose(us_out, memo->local_s + f.sec, f.frac_us, f.has_zone, f.offset_s,
                                  tz, s, len);
    }
    if (!memo || !iso_head(&f, s, len))
        return pond__time_parse_iso_local(us_out, s, len, tz, parsed);
    int64_t local_s =
        pond_days_from_civil(f.y, (unsigned)f.mo, (unsigned)f.d) * 86400 + f.h * 3600 + f.mi * 60;
    memcpy(memo->head, s, sizeof memo->head);
    memo->local_s = local_s;
    memo->ok = true;
    if (!iso_tail(&f, s, len))
        return pond__time_parse_iso_local(us_out, s, len, tz, parsed);
    *parsed = true;
    return pond__time_compose(us_out, local_s + f.sec, f.frac_us, f.has_zone, f.offset_s, tz, s,
                              len);
}

int pond_time_parse_iso_tz(int64_t *us_out, const char *s, size_t len, const pond_tz *tz)
{
    bool parsed;
    return pond__time_parse_iso_local(us_out, s, len, tz, &parsed);
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

int pond_time_epoch_magnitude(int64_t *us_out, int64_t v)
{
    if (v < POND_TIME_EPOCH_MIN)
        return pond_error_set(POND_EINVALID, POND_DOM_UTIL,
                              "%lld is not a time: integers are epoch times only from "
                              "1000000000 (2001-09-09) on; for years give --time-format %%Y, "
                              "for dates like 19580329 --time-format %%Y%%m%%d, for older epoch "
                              "seconds --time-format %%s",
                              (long long)v);
    *us_out = pond_time_epoch_guess_us(v);
    return 0;
}

int pond__time_parse_int(int64_t *v_out, const char *s, size_t len, size_t *end_out)
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
    if (i == start)
        return POND_ENOTFOUND; /* no digits: not an integer (no message) */
    *v_out = neg ? -v : v;
    *end_out = i;
    return 0;
}

int pond_time_parse_arg(int64_t *us_out, const char *s, size_t len, const pond_tz *tz)
{
    if (len >= 4 && s[0] >= '0' && s[0] <= '9' && (len == 4 || s[4] == '-')) {
        bool four = len == 4;
        for (size_t k = 0; k < 4 && four; k++)
            four = s[k] >= '0' && s[k] <= '9';
        if (four || (len > 4 && s[4] == '-')) {
            iso_fields f;
            int rc = iso_parse(&f, s, len, ISO_YEAR);
            return rc < 0 ? rc : iso_to_us(us_out, &f, tz, s, len);
        }
    }
    int64_t v, r;
    size_t i;
    int rc = pond__time_parse_int(&v, s, len, &i);
    if (rc == POND_ENOTFOUND)
        return bad(s, len,
                   "expected YYYY, YYYY-MM, YYYY-MM-DD[THH:MM[:SS[.f]]][zone] or an "
                   "epoch with a unit (1706702400s, ms, us or ns)");
    if (rc < 0)
        return rc;
    const char *unit = s + i;
    size_t ul = len - i;
    if (ul == 0)
        return bad(s, len,
                   "an epoch needs a unit: s, ms, us or ns (like 1706702400s); a year "
                   "has four digits");
    if (ul == 1 && unit[0] == 's') {
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

int pond_time_parse(int64_t *us_out, const char *s, size_t len)
{
    return pond_time_parse_arg(us_out, s, len, NULL);
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

size_t pond_time_format_iso_tz(char out[40], int64_t us, const pond_tz *tz)
{
    if (pond_tz_is_utc(tz))
        return pond_time_format_iso(out, us);
    int64_t secs = us / 1000000 - (us % 1000000 < 0);
    int32_t off = pond_tz_offset(tz, secs);
    size_t n = pond_time_format_iso(out, us + (int64_t)off * 1000000);
    if (n == 0)
        return 0;
    int a = off < 0 ? -off : off;
    int k = a % 60 ? snprintf(out + n - 1, 40 - (n - 1), "%c%02d:%02d:%02d", off < 0 ? '-' : '+',
                              a / 3600, a / 60 % 60, a % 60)
                   : snprintf(out + n - 1, 40 - (n - 1), "%c%02d:%02d", off < 0 ? '-' : '+',
                              a / 3600, a / 60 % 60);
    return k < 0 ? 0 : POND_MIN(n - 1 + (size_t)k, 39);
}
