/* Reading timestamp values: ISO-8601, strptime-style formats (--time-format) and integer epochs
 * by magnitude, in one order every layer shares (docs/time.md). The format matcher is our own:
 * libc's strptime depends on the locale, has no quarter directive and no way to say which
 * field a value lacked. */
#include <pond/timefmt.h>

#include "util/time_internal.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define D POND_DOM_UTIL
#define MAX_FORMATS 16
#define MAX_FORMAT_LEN 128

struct pond_time_reader {
    const pond_tz *tz;
    size_t n;
    char *formats[MAX_FORMATS];
    char list[MAX_FORMATS * (MAX_FORMAT_LEN + 4)]; /* "'f1', 'f2'" for messages */
};

static const char *const MONTHS[] = {"january",   "february", "march",    "april",
                                     "may",       "june",     "july",     "august",
                                     "september", "october",  "november", "december"};
static const char *const WEEKDAYS[] = {"sunday",   "monday", "tuesday", "wednesday",
                                       "thursday", "friday", "saturday"};

enum {
    F_YEAR = 1 << 0,  /* %Y %y */
    F_MONTH = 1 << 1, /* %m %b */
    F_DAY = 1 << 2,   /* %d %e */
    F_YDAY = 1 << 3,  /* %j */
    F_QUARTER = 1 << 4,
    F_HOUR24 = 1 << 5, /* %H */
    F_HOUR12 = 1 << 6, /* %I */
    F_AMPM = 1 << 7,
    F_MIN = 1 << 8,
    F_SEC = 1 << 9,
    F_FRAC = 1 << 10,
    F_EPOCH = 1 << 11, /* %s */
    F_ZONE = 1 << 12,
    F_WDAY = 1 << 13,
};

/* The field a directive sets, 0 for literals and whitespace, -1 for an unknown directive. */
static int directive_field(char c)
{
    switch (c) {
    case 'Y':
    case 'y':
        return F_YEAR;
    case 'm':
    case 'b':
    case 'B':
    case 'h':
        return F_MONTH;
    case 'd':
    case 'e':
        return F_DAY;
    case 'j':
        return F_YDAY;
    case 'q':
        return F_QUARTER;
    case 'H':
        return F_HOUR24;
    case 'I':
        return F_HOUR12;
    case 'p':
        return F_AMPM;
    case 'M':
        return F_MIN;
    case 'S':
        return F_SEC;
    case 'f':
        return F_FRAC;
    case 's':
        return F_EPOCH;
    case 'z':
        return F_ZONE;
    case 'a':
    case 'A':
        return F_WDAY;
    case 'T':
        return F_HOUR24 | F_MIN | F_SEC;
    case 'F':
        return F_YEAR | F_MONTH | F_DAY;
    case 'R':
        return F_HOUR24 | F_MIN;
    case '%':
    case 'n':
    case 't':
        return 0;
    default:
        return -1;
    }
}

static int bad_format(const char *f, const char *why)
{
    return pond_error_set(POND_EINVALID, D, "--time-format '%.*s': %s", MAX_FORMAT_LEN, f, why);
}

static int check_format(const char *f)
{
    size_t len = strlen(f);
    if (len == 0)
        return bad_format(f, "empty");
    if (len > MAX_FORMAT_LEN)
        return bad_format(f, "longer than 128 characters");
    int seen = 0;
    for (size_t i = 0; i < len; i++) {
        if (f[i] != '%')
            continue;
        if (++i == len)
            return bad_format(f, "ends with a lone %");
        int fld = directive_field(f[i]);
        if (fld < 0) {
            char why[96];
            snprintf(why, sizeof why, "unknown directive %%%c (docs/time.md lists them)", f[i]);
            return bad_format(f, why);
        }
        if (fld & seen)
            return bad_format(f, "a field appears twice");
        seen |= fld;
    }
    if ((seen & F_EPOCH) && (seen & ~(F_EPOCH | F_FRAC)))
        return bad_format(f, "%s stands alone (with %f at most)");
    if (!(seen & (F_YEAR | F_EPOCH)))
        return bad_format(f, "needs a year (%Y or %y) or %s");
    if ((seen & F_YDAY) && (seen & (F_MONTH | F_DAY | F_QUARTER)))
        return bad_format(f, "%j gives month and day: it does not go with %m, %d, %b or %q");
    if ((seen & F_QUARTER) && (seen & (F_MONTH | F_DAY)))
        return bad_format(f, "%q gives the month: it does not go with %m, %d or %b");
    if ((seen & F_HOUR24) && (seen & (F_HOUR12 | F_AMPM)))
        return bad_format(f, "%H does not go with %I or %p");
    if (!!(seen & F_HOUR12) != !!(seen & F_AMPM))
        return bad_format(f, "%I needs %p (AM/PM) and %p needs %I");
    if ((seen & F_DAY) && !(seen & F_MONTH))
        return bad_format(f, "a day (%d) needs a month (%m or %b)");
    if ((seen & F_FRAC) && !(seen & (F_SEC | F_EPOCH)))
        return bad_format(f, "%f (a fraction of a second) needs %S or %s");
    return 0;
}

int pond_time_reader_new(pond_time_reader **out, const char *const *formats, size_t n,
                         const pond_tz *tz)
{
    *out = NULL;
    POND_ASSERT_ARG(n == 0 || formats);
    if (n > MAX_FORMATS)
        return pond_error_set(POND_EINVALID, D, "--time-format: at most %d formats", MAX_FORMATS);
    for (size_t i = 0; i < n; i++) {
        int rc = check_format(formats[i]);
        if (rc < 0)
            return rc;
    }
    pond_time_reader *r = pond_calloc(1, sizeof *r);
    if (!r)
        return POND_ENOMEM;
    r->tz = tz;
    size_t lp = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(r->formats[i] = pond_strdup(formats[i]))) {
            pond_time_reader_free(r);
            return POND_ENOMEM;
        }
        r->n++;
        int k = snprintf(r->list + lp, sizeof r->list - lp, "%s'%s'", i ? ", " : "", formats[i]);
        lp += k > 0 ? (size_t)k : 0;
    }
    *out = r;
    return 0;
}

void pond_time_reader_free(pond_time_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        pond_free(r->formats[i]);
    pond_free(r);
}

bool pond_time_reader_has_formats(const pond_time_reader *r) { return r && r->n > 0; }

const pond_tz *pond_time_reader_tz(const pond_time_reader *r) { return r ? r->tz : NULL; }

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* 1..max digits. */
static bool take_num(const char *s, size_t len, size_t *i, int max, int64_t *out)
{
    int64_t v = 0;
    int n = 0;
    while (*i < len && n < max && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[(*i)++] - '0');
        n++;
    }
    *out = v;
    return n > 0;
}

/* A full or three-letter English name from names (case-insensitive); its index or -1. */
static int take_name(const char *s, size_t len, size_t *i, const char *const *names, int count)
{
    for (int k = 0; k < count; k++) {
        size_t nl = strlen(names[k]);
        if (len - *i >= nl && !strncasecmp(s + *i, names[k], nl)) {
            *i += nl;
            return k;
        }
    }
    for (int k = 0; k < count; k++)
        if (len - *i >= 3 && !strncasecmp(s + *i, names[k], 3)) {
            *i += 3;
            return k;
        }
    return -1;
}

typedef struct {
    int64_t year, month, day, yday, quarter, hour, min, sec, frac_us, epoch, offset_s;
    int wday, pm;
    bool two_digit_year, has_zone, epoch_neg;
    int seen;
} fields;

/* Matches all of s against format f; false when it does not match. */
static bool match(fields *v, const char *f, const char *s, size_t len)
{
    size_t i = 0;
    memset(v, 0, sizeof *v);
    v->wday = v->pm = -1;
    for (size_t k = 0; f[k]; k++) {
        char c = f[k];
        if (is_space(c)) {
            while (i < len && is_space(s[i]))
                i++;
            continue;
        }
        if (c != '%') {
            if (i >= len || s[i] != c)
                return false;
            i++;
            continue;
        }
        c = f[++k];
        int64_t n;
        switch (c) {
        case 'Y':
            if (!take_num(s, len, &i, 4, &v->year))
                return false;
            break;
        case 'y':
            if (!take_num(s, len, &i, 2, &v->year))
                return false;
            v->two_digit_year = true;
            break;
        case 'm':
            if (!take_num(s, len, &i, 2, &v->month))
                return false;
            break;
        case 'b':
        case 'B':
        case 'h': {
            int m = take_name(s, len, &i, MONTHS, 12);
            if (m < 0)
                return false;
            v->month = m + 1;
            break;
        }
        case 'e':
            if (i < len && s[i] == ' ')
                i++;
            /* fall through */
        case 'd':
            if (!take_num(s, len, &i, 2, &v->day))
                return false;
            break;
        case 'j':
            if (!take_num(s, len, &i, 3, &v->yday))
                return false;
            break;
        case 'q':
            if (!take_num(s, len, &i, 1, &v->quarter))
                return false;
            break;
        case 'H':
        case 'I':
            if (!take_num(s, len, &i, 2, &v->hour))
                return false;
            break;
        case 'M':
            if (!take_num(s, len, &i, 2, &v->min))
                return false;
            break;
        case 'S':
            if (!take_num(s, len, &i, 2, &v->sec))
                return false;
            break;
        case 'f': {
            int nd = 0;
            int64_t scale = 100000;
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                if (nd < 6)
                    v->frac_us += (s[i] - '0') * scale;
                scale /= 10;
                nd++;
                i++;
            }
            if (nd == 0 || nd > 9)
                return false;
            break;
        }
        case 'p':
            if (len - i >= 2 && !strncasecmp(s + i, "AM", 2))
                v->pm = 0;
            else if (len - i >= 2 && !strncasecmp(s + i, "PM", 2))
                v->pm = 1;
            else
                return false;
            i += 2;
            break;
        case 'a':
        case 'A':
            if ((v->wday = take_name(s, len, &i, WEEKDAYS, 7)) < 0)
                return false;
            break;
        case 's': {
            size_t e;
            if (pond__time_parse_int(&n, s + i, len - i, &e) < 0)
                return false;
            v->epoch = n;
            v->epoch_neg = s[i] == '-'; /* "-0.5": the fraction takes the sign of the text */
            i += e;
            break;
        }
        case 'z': {
            if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
                i++;
            } else {
                if (i >= len || (s[i] != '+' && s[i] != '-'))
                    return false;
                int sign = s[i++] == '-' ? -1 : 1;
                int64_t hh, mm = 0;
                size_t st = i;
                if (!take_num(s, len, &i, 2, &hh) || i - st != 2)
                    return false;
                if (i < len && s[i] == ':')
                    i++;
                st = i;
                if (i < len && s[i] >= '0' && s[i] <= '9' &&
                    (!take_num(s, len, &i, 2, &mm) || i - st != 2))
                    return false;
                if (hh > 23 || mm > 59)
                    return false;
                v->offset_s = sign * (hh * 3600 + mm * 60);
            }
            v->has_zone = true;
            break;
        }
        case 'T':
        case 'F':
        case 'R': {
            /* the same as their expansions */
            const char *x = c == 'T' ? "%H:%M:%S" : c == 'F' ? "%Y-%m-%d" : "%H:%M";
            fields sub;
            size_t j = i;
            /* find how much of s the expansion takes: try the longest prefix that matches */
            bool ok = false;
            for (size_t end = len; end > j && !ok; end--)
                if (match(&sub, x, s + j, end - j)) {
                    ok = true;
                    i = end;
                }
            if (!ok)
                return false;
            if (c == 'F') {
                v->year = sub.year;
                v->month = sub.month;
                v->day = sub.day;
            } else {
                v->hour = sub.hour;
                v->min = sub.min;
                v->sec = sub.sec;
            }
            break;
        }
        case 'n':
        case 't':
            while (i < len && is_space(s[i]))
                i++;
            break;
        case '%':
            if (i >= len || s[i] != '%')
                return false;
            i++;
            break;
        default:
            return false;
        }
        int fld = directive_field(c);
        v->seen |= fld > 0 ? fld : 0;
    }
    return i == len;
}

static int value_error(const char *s, size_t len, const char *why)
{
    return pond_error_set(POND_EINVALID, D, "'%.*s' is not a time: %s", (int)POND_MIN(len, 64), s,
                          why);
}

/* The instant of matched fields, or an error naming what is out of range. */
static int fields_to_us(int64_t *us_out, const pond_time_reader *r, const fields *v, const char *s,
                        size_t len)
{
    if (v->seen & F_EPOCH) {
        int64_t us;
        if (__builtin_mul_overflow(v->epoch, 1000000, &us) ||
            __builtin_add_overflow(us, v->epoch_neg ? -v->frac_us : v->frac_us, &us))
            return value_error(s, len, "epoch out of range");
        *us_out = us;
        return 0;
    }
    int64_t y = v->year;
    if (v->two_digit_year) /* POSIX: 69-99 are 1969-1999, 00-68 are 2000-2068 */
        y += y >= 69 ? 1900 : 2000;
    if (y < 1 || y > 9999)
        return value_error(s, len, "year out of range (1 to 9999)");
    int64_t month = v->seen & F_MONTH ? v->month : 1, day = v->seen & F_DAY ? v->day : 1;
    if (v->seen & F_QUARTER) {
        if (v->quarter < 1 || v->quarter > 4)
            return value_error(s, len, "quarter out of range (1 to 4)");
        month = 3 * (v->quarter - 1) + 1;
    }
    int64_t days;
    if (v->seen & F_YDAY) {
        int ylen = pond__days_in_month(y, 2) == 29 ? 366 : 365;
        if (v->yday < 1 || v->yday > ylen)
            return value_error(s, len, "day of the year out of range");
        days = pond_days_from_civil(y, 1, 1) + v->yday - 1;
    } else {
        if (month < 1 || month > 12)
            return value_error(s, len, "month out of range");
        if (day < 1 || day > pond__days_in_month(y, (unsigned)month))
            return value_error(s, len, "day out of range");
        days = pond_days_from_civil(y, (unsigned)month, (unsigned)day);
    }
    if (v->wday >= 0 && ((days + 4) % 7 + 7) % 7 != v->wday)
        return value_error(s, len, "the weekday does not match the date");
    int64_t hour = v->hour;
    if (v->seen & F_HOUR12) {
        if (hour < 1 || hour > 12)
            return value_error(s, len, "hour out of range (1 to 12 with AM/PM)");
        hour = hour % 12 + (v->pm == 1 ? 12 : 0);
    }
    int64_t sec = v->sec;
    if (hour > 23 || v->min > 59 || sec > 60)
        return value_error(s, len, "time of day out of range");
    if (sec == 60)
        sec = 59; /* leap seconds are clamped, as in ISO-8601 values */
    return pond__time_compose(us_out, days * 86400 + hour * 3600 + v->min * 60 + sec, v->frac_us,
                              v->has_zone, v->offset_s, r ? r->tz : NULL, s, len);
}

static bool is_integer(const char *s, size_t len)
{
    size_t i = len && (s[0] == '-' || s[0] == '+');
    if (i == len)
        return false;
    for (; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int pond_time_reader_parse(int64_t *us_out, const pond_time_reader *r, const char *s, size_t len,
                           unsigned flags)
{
    return pond__time_reader_parse_memo(us_out, r, s, len, flags, NULL);
}

int pond__time_reader_parse_memo(int64_t *us_out, const pond_time_reader *r, const char *s,
                                 size_t len, unsigned flags, pond__time_memo *memo)
{
    if (len >= 7 && s[4] == '-' && s[0] >= '0' && s[0] <= '9') {
        bool parsed;
        int rc = pond__time_parse_iso_memo(us_out, s, len, r ? r->tz : NULL, memo, &parsed);
        /* a local time the zone skips or shows twice is that, whatever the formats say */
        if (rc == 0 || parsed)
            return (flags & POND_TIME_SYNTAX) ? 0 : rc;
    }
    bool integer = is_integer(s, len);
    size_t n = r ? r->n : 0;
    if (!(integer && (flags & POND_TIME_NO_FORMATS))) {
        for (size_t k = 0; k < n; k++) {
            fields v;
            if (match(&v, r->formats[k], s, len))
                return (flags & POND_TIME_SYNTAX) ? 0 : fields_to_us(us_out, r, &v, s, len);
        }
    }
    if (integer && !(flags & POND_TIME_NO_EPOCH)) {
        int64_t v;
        size_t e;
        int rc = pond__time_parse_int(&v, s, len, &e);
        if (rc < 0)
            return rc;
        if (n && v < POND_TIME_EPOCH_MIN)
            return pond_error_set(POND_EINVALID, D,
                                  "'%.*s' matches none of --time-format %s (and integers are "
                                  "epoch times only from 1000000000, 2001-09-09, on)",
                                  (int)POND_MIN(len, 64), s, r->list);
        return pond_time_epoch_magnitude(us_out, v);
    }
    if (n)
        return pond_error_set(POND_EINVALID, D,
                              "'%.*s' is not a time: expected ISO-8601 (2024-01-31T12:00:00Z) "
                              "or --time-format %s",
                              (int)POND_MIN(len, 64), s, r->list);
    return value_error(s, len,
                       "expected ISO-8601 like 2024-01-31T12:00:00Z (other forms need "
                       "--time-format, docs/time.md)");
}
