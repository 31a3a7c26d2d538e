/* Time zones from the system tz database: a TZif reader (RFC 8536) and the POSIX TZ rule of its
 * footer, written from the RFC. libc's localtime/mktime would need the process-wide TZ
 * variable, which a library must not touch and which threads would share. */
#include <pond/timefmt.h>

#include "util/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define D POND_DOM_UTIL
#define TZ_NAME_MAX 64
#define TZIF_MAX_BYTES (1 << 20)
/* RFC 8536 bounds a UT offset to -25:59:59 .. +25:59:59 */
#define TZ_OFF_MAX 93599

typedef struct {
    int kind;     /* 'J' (1..365, no Feb 29), 'n' (0..365), 'M' (month.week.day) */
    int a, b, c;  /* J/n: a = day; M: a = month, b = week, c = weekday */
    int32_t time; /* seconds after local midnight (may be negative or over 24h) */
} tz_date;

struct pond_tz {
    char name[TZ_NAME_MAX];
    size_t n_trans;
    int64_t *trans; /* transition instants, ascending */
    uint8_t *idx;   /* type after each transition */
    size_t n_types;
    int32_t *type_off;
    int32_t first_off; /* before the first transition */
    bool has_rule;     /* the footer rule governs times after the last transition */
    int32_t std_off, dst_off;
    bool rule_dst;
    tz_date start, end;
    bool utc;
};

static int bad_zone(const char *name, const char *why)
{
    return pond_error_set(POND_ECORRUPT, D, "time zone '%s': %s", name, why);
}

static pond_tz *tz_alloc(const char *name)
{
    pond_tz *tz = pond_calloc(1, sizeof *tz);
    if (tz)
        snprintf(tz->name, sizeof tz->name, "%s", name);
    return tz;
}

void pond_tz_free(pond_tz *tz)
{
    if (!tz)
        return;
    pond_free(tz->trans);
    pond_free(tz->idx);
    pond_free(tz->type_off);
    pond_free(tz);
}

const char *pond_tz_name(const pond_tz *tz) { return tz ? tz->name : "UTC"; }

bool pond_tz_is_utc(const pond_tz *tz) { return !tz || tz->utc; }

/* ---- the POSIX TZ string of the footer ---- */

typedef struct {
    const char *s;
    size_t i, len;
} cur;

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static bool num(cur *c, int max_digits, int *out)
{
    int v = 0, n = 0;
    while (c->i < c->len && is_digit(c->s[c->i]) && n < max_digits) {
        v = v * 10 + (c->s[c->i++] - '0');
        n++;
    }
    *out = v;
    return n > 0;
}

static bool zone_abbr(cur *c)
{
    if (c->i < c->len && c->s[c->i] == '<') {
        size_t st = ++c->i;
        while (c->i < c->len && c->s[c->i] != '>')
            c->i++;
        if (c->i >= c->len || c->i - st < 3)
            return false;
        c->i++;
        return true;
    }
    size_t st = c->i;
    while (c->i < c->len && ((c->s[c->i] | 0x20) >= 'a' && (c->s[c->i] | 0x20) <= 'z'))
        c->i++;
    return c->i - st >= 3;
}

/* [+-]hh[:mm[:ss]] with hours up to max_h; seconds, signed as written. */
static bool hms(cur *c, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (c->i < c->len && (c->s[c->i] == '+' || c->s[c->i] == '-'))
        sign = c->s[c->i++] == '-' ? -1 : 1;
    if (!num(c, 3, &h) || h > max_h)
        return false;
    if (c->i < c->len && c->s[c->i] == ':') {
        c->i++;
        if (!num(c, 2, &m) || m > 59)
            return false;
        if (c->i < c->len && c->s[c->i] == ':') {
            c->i++;
            if (!num(c, 2, &s) || s > 59)
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool rule_date(cur *c, tz_date *d)
{
    if (c->i >= c->len)
        return false;
    if (c->s[c->i] == 'J') {
        c->i++;
        d->kind = 'J';
        if (!num(c, 3, &d->a) || d->a < 1 || d->a > 365)
            return false;
    } else if (c->s[c->i] == 'M') {
        c->i++;
        d->kind = 'M';
        if (!num(c, 2, &d->a) || d->a < 1 || d->a > 12 || c->i >= c->len || c->s[c->i++] != '.' ||
            !num(c, 1, &d->b) || d->b < 1 || d->b > 5 || c->i >= c->len || c->s[c->i++] != '.' ||
            !num(c, 1, &d->c) || d->c > 6)
            return false;
    } else {
        d->kind = 'n';
        if (!num(c, 3, &d->a) || d->a > 365)
            return false;
    }
    d->time = 7200;
    if (c->i < c->len && c->s[c->i] == '/') {
        c->i++;
        /* RFC 8536 extends the time to -167..167 hours */
        if (!hms(c, 167, &d->time))
            return false;
    }
    return true;
}

static bool parse_rule(pond_tz *tz, const char *s, size_t len)
{
    cur c = {s, 0, len};
    int32_t off;
    if (!zone_abbr(&c) || !hms(&c, 24, &off))
        return false;
    tz->std_off = -off; /* POSIX offsets count hours west */
    tz->has_rule = true;
    if (c.i == len)
        return true;
    if (!zone_abbr(&c))
        return false;
    tz->rule_dst = true;
    tz->dst_off = tz->std_off + 3600;
    if (c.i < len && c.s[c.i] != ',') {
        if (!hms(&c, 24, &off))
            return false;
        tz->dst_off = -off;
    }
    if (c.i == len) { /* POSIX's default: the US rules */
        tz->start = (tz_date){'M', 3, 2, 0, 7200};
        tz->end = (tz_date){'M', 11, 1, 0, 7200};
        return true;
    }
    if (c.s[c.i++] != ',' || !rule_date(&c, &tz->start) || c.i >= len || c.s[c.i++] != ',' ||
        !rule_date(&c, &tz->end))
        return false;
    return c.i == len && tz->std_off >= -TZ_OFF_MAX && tz->std_off <= TZ_OFF_MAX &&
           tz->dst_off >= -TZ_OFF_MAX && tz->dst_off <= TZ_OFF_MAX;
}

static bool leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Seconds since the epoch of the rule's date in year y at 00:00 local (as if UTC). */
static int64_t rule_day(const tz_date *d, int64_t y)
{
    int64_t jan1 = pond_days_from_civil(y, 1, 1), day;
    if (d->kind == 'J')
        day = jan1 + d->a - 1 + (leap_year(y) && d->a >= 60);
    else if (d->kind == 'n')
        day = jan1 + d->a;
    else {
        static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int64_t first = pond_days_from_civil(y, (unsigned)d->a, 1);
        int wday1 = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
        int mday = (d->c - wday1 + 7) % 7 + 1 + (d->b - 1) * 7;
        int dim = dm[d->a - 1] + (d->a == 2 && leap_year(y));
        while (mday > dim)
            mday -= 7;
        day = first + mday - 1;
    }
    return day * 86400;
}

static void civil_year(int64_t secs, int64_t *y)
{
    int64_t z = (secs >= 0 ? secs : secs - 86399) / 86400 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *y = (int64_t)yoe + era * 400 + (mp >= 10);
}

static int32_t rule_offset(const pond_tz *tz, int64_t t)
{
    if (!tz->rule_dst)
        return tz->std_off;
    int64_t y;
    civil_year(t + tz->std_off, &y);
    int64_t start = rule_day(&tz->start, y) + tz->start.time - tz->std_off;
    int64_t end = rule_day(&tz->end, y) + tz->end.time - tz->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? tz->dst_off : tz->std_off;
}

int32_t pond_tz_offset(const pond_tz *tz, int64_t t)
{
    if (!tz || tz->utc)
        return 0;
    if (tz->n_trans == 0)
        return tz->has_rule ? rule_offset(tz, t) : tz->first_off;
    if (t < tz->trans[0])
        return tz->first_off;
    if (t >= tz->trans[tz->n_trans - 1] && tz->has_rule)
        return rule_offset(tz, t);
    size_t lo = 0, hi = tz->n_trans; /* the last transition at or before t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->type_off[tz->idx[lo]];
}

static void fmt_off(char out[16], int32_t off)
{
    int a = off < 0 ? -off : off;
    if (a % 60)
        snprintf(out, 16, "%c%02d:%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60, a % 60);
    else
        snprintf(out, 16, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

int pond_tz_to_utc(int64_t *utc_out, const pond_tz *tz, int64_t local)
{
    if (!tz || tz->utc) {
        *utc_out = local;
        return 0;
    }
    /* Every offset that could apply is in effect somewhere within a day and a bit of the
     * local time (offsets stay within 26 hours and zones never change twice in 30 hours):
     * try each and keep those that give back the same local time. */
    static const int64_t probes[] = {-30 * 3600, -12 * 3600, 0, 12 * 3600, 30 * 3600};
    int32_t offs[5];
    int64_t sol[5];
    size_t no = 0, ns = 0;
    for (size_t k = 0; k < POND_ARRAY_LEN(probes); k++) {
        int32_t o = pond_tz_offset(tz, local + probes[k]);
        bool seen = false;
        for (size_t j = 0; j < no; j++)
            seen |= offs[j] == o;
        if (!seen)
            offs[no++] = o;
    }
    for (size_t j = 0; j < no; j++)
        if (pond_tz_offset(tz, local - offs[j]) == offs[j])
            sol[ns++] = local - offs[j];
    if (ns == 1) {
        *utc_out = sol[0];
        return 0;
    }
    if (ns == 0) {
        *utc_out = local - pond_tz_offset(tz, local - 86400);
        char a[16], b[16];
        fmt_off(a, pond_tz_offset(tz, local - 86400));
        fmt_off(b, pond_tz_offset(tz, local + 86400));
        return pond_error_set(POND_EINVALID, D,
                              "does not exist in %s: the clocks skip it (%s to %s); give the "
                              "offset",
                              tz->name, a, b);
    }
    char a[16], b[16];
    int64_t lo = sol[0] < sol[1] ? sol[0] : sol[1], hi = sol[0] < sol[1] ? sol[1] : sol[0];
    *utc_out = lo;
    fmt_off(a, (int32_t)(local - lo));
    fmt_off(b, (int32_t)(local - hi));
    return pond_error_set(POND_EINVALID, D,
                          "exists twice in %s: the clocks go back (%s, then %s); give the "
                          "offset",
                          tz->name, a, b);
}

/* ---- TZif ---- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

typedef struct {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static size_t block_size(const tzif_counts *k, int tsize)
{
    return (size_t)k->time * (size_t)tsize + k->time + (size_t)k->type * 6 + k->chars +
           (size_t)k->leap * (size_t)(tsize + 4) + k->isstd + k->isut;
}

static bool read_header(tzif_counts *k, int *version, const uint8_t *p, size_t left)
{
    if (left < 44 || memcmp(p, "TZif", 4))
        return false;
    *version = p[4] == 0 ? 1 : p[4] - '0';
    if (*version < 1 || *version > 4)
        return false;
    k->isut = be32(p + 20);
    k->isstd = be32(p + 24);
    k->leap = be32(p + 28);
    k->time = be32(p + 32);
    k->type = be32(p + 36);
    k->chars = be32(p + 40);
    /* each count is bounded by the file size limit: no overflow in block_size */
    return k->isut <= TZIF_MAX_BYTES && k->isstd <= TZIF_MAX_BYTES && k->leap <= TZIF_MAX_BYTES &&
           k->time <= TZIF_MAX_BYTES && k->type >= 1 && k->type <= 256 && k->chars >= 1 &&
           k->chars <= TZIF_MAX_BYTES && (k->isut == 0 || k->isut == k->type) &&
           (k->isstd == 0 || k->isstd == k->type);
}

int pond_tz_from_tzif(pond_tz **out, const char *name, const void *data, size_t len)
{
    *out = NULL;
    const uint8_t *p = data;
    tzif_counts k;
    int version;
    if (len > TZIF_MAX_BYTES || !read_header(&k, &version, p, len))
        return bad_zone(name, "not a TZif file");
    size_t pos = 44, need = block_size(&k, 4);
    int tsize = 4;
    if (version >= 2) {
        /* skip the 32-bit block: the 64-bit one after it is authoritative */
        if (len - pos < need)
            return bad_zone(name, "truncated");
        pos += need;
        if (!read_header(&k, &version, p + pos, len - pos) || version < 2)
            return bad_zone(name, "bad second header");
        pos += 44;
        tsize = 8;
        need = block_size(&k, 8);
    }
    if (len - pos < need)
        return bad_zone(name, "truncated");
    if (k.leap)
        return pond_error_set(POND_EUNSUPPORTED, D,
                              "time zone '%s': leap-second zones are not supported", name);
    pond_tz *tz = tz_alloc(name);
    if (!tz)
        return POND_ENOMEM;
    const uint8_t *tp = p + pos, *ip = tp + (size_t)k.time * (size_t)tsize, *yp = ip + k.time;
    tz->n_trans = k.time;
    tz->n_types = k.type;
    tz->trans = pond_malloc((k.time ? k.time : 1) * sizeof *tz->trans);
    tz->idx = pond_malloc(k.time ? k.time : 1);
    tz->type_off = pond_malloc(k.type * sizeof *tz->type_off);
    int rc = 0;
    if (!tz->trans || !tz->idx || !tz->type_off) {
        rc = POND_ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < k.type; i++) {
        int32_t off = (int32_t)be32(yp + 6 * i);
        if (off < -TZ_OFF_MAX || off > TZ_OFF_MAX || yp[6 * i + 4] > 1 ||
            yp[6 * i + 5] >= k.chars) {
            rc = bad_zone(name, "bad local time type");
            goto fail;
        }
        tz->type_off[i] = off;
    }
    for (uint32_t i = 0; i < k.time; i++) {
        tz->trans[i] = tsize == 8 ? be64(tp + 8 * (size_t)i) : (int32_t)be32(tp + 4 * (size_t)i);
        tz->idx[i] = ip[i];
        if (ip[i] >= k.type || (i && tz->trans[i] <= tz->trans[i - 1])) {
            rc = bad_zone(name, "bad transition table");
            goto fail;
        }
    }
    tz->first_off = tz->type_off[0];
    pos += need;
    if (version >= 2) {
        /* footer: "\n" TZ-string "\n" (the string may be empty) */
        if (len - pos < 2 || p[pos] != '\n') {
            rc = bad_zone(name, "missing footer");
            goto fail;
        }
        const uint8_t *nl = memchr(p + pos + 1, '\n', len - pos - 1);
        if (!nl) {
            rc = bad_zone(name, "unterminated footer");
            goto fail;
        }
        size_t fl = (size_t)(nl - (p + pos + 1));
        if (fl && !parse_rule(tz, (const char *)p + pos + 1, fl)) {
            rc = bad_zone(name, "bad rule in the footer");
            goto fail;
        }
    }
    if (tz->n_trans == 0 && !tz->has_rule)
        tz->utc = tz->first_off == 0;
    else if (tz->n_trans == 0)
        tz->utc = tz->std_off == 0 && !tz->rule_dst;
    *out = tz;
    return 0;
fail:
    pond_tz_free(tz);
    return rc;
}

static bool utc_name(const char *n)
{
    static const char *const names[] = {"UTC",           "Etc/UTC",  "Z",      "Etc/UCT",
                                        "UCT",           "Etc/Zulu", "Zulu",   "Universal",
                                        "Etc/Universal", "GMT",      "Etc/GMT"};
    for (size_t i = 0; i < POND_ARRAY_LEN(names); i++)
        if (!strcmp(n, names[i]))
            return true;
    return false;
}

int pond_tz_open(pond_tz **out, const char *name)
{
    *out = NULL;
    POND_ASSERT_ARG(name);
    size_t nl = strlen(name);
    if (utc_name(name)) {
        if (!(*out = tz_alloc(!strcmp(name, "Z") ? "UTC" : name)))
            return POND_ENOMEM;
        (*out)->utc = true;
        return 0;
    }
    bool ok = nl > 0 && nl < TZ_NAME_MAX && name[0] != '/' && !strstr(name, "..");
    for (size_t i = 0; i < nl && ok; i++) {
        char c = name[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '/' || c == '_' || c == '-' || c == '+';
    }
    if (!ok)
        return pond_error_set(POND_EINVALID, D,
                              "'%.*s' is not a time zone name (an IANA name like "
                              "Europe/Berlin, or UTC)",
                              (int)POND_MIN(nl, 64), name);
    const char *dir = getenv("TZDIR");
    char *path = pond__path_join(dir && *dir ? dir : "/usr/share/zoneinfo", name);
    if (!path)
        return POND_ENOMEM;
    /* zone files are often symbolic links to one another: follow them, but never wait on a
     * FIFO or read a directory */
    int fd = pond__os_open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
    struct stat st;
    int rc = 0;
    if (fd < 0 || pond__os_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = pond_error_set(POND_ENOTFOUND, D,
                            "unknown time zone '%s' (not in the tz database at %s)", name,
                            dir && *dir ? dir : "/usr/share/zoneinfo");
        goto done;
    }
    if (st.st_size > TZIF_MAX_BYTES) {
        rc = bad_zone(name, "zone file too large");
        goto done;
    }
    uint8_t *buf = pond_malloc((size_t)st.st_size + 1);
    size_t n = 0;
    if (!buf) {
        rc = POND_ENOMEM;
        goto done;
    }
    if ((rc = pond__pread_full(&n, fd, buf, (size_t)st.st_size, 0, path, D)) == 0)
        rc = pond_tz_from_tzif(out, name, buf, n);
    pond_free(buf);
done:
    if (fd >= 0)
        pond__os_close(fd);
    pond_free(path);
    return rc;
}
