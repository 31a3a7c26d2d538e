/* Time buckets for rollups (docs/derived.md): fixed widths aligned on the Unix epoch, and
 * calendar days, weeks and months aligned on local midnight of a zone. */
#include "util/time_internal.h"
#include "util/util.h"

#include <string.h>

#define D POND_DOM_TABLE
#define US_S 1000000LL
#define DAY_S 86400LL

int pond__bucket_parse(pond__bucket *out, const char *spec)
{
    memset(out, 0, sizeof *out);
    int64_t n = 0;
    size_t i = 0;
    while (spec[i] >= '0' && spec[i] <= '9' && n < 1000000)
        n = n * 10 + (spec[i++] - '0');
    const char *u = spec + i;
    if (i == 0 || n <= 0)
        goto bad;
    if (!strcmp(u, "s"))
        out->width_us = n * US_S;
    else if (!strcmp(u, "m"))
        out->width_us = n * 60 * US_S;
    else if (!strcmp(u, "h"))
        out->width_us = n * 3600 * US_S;
    else if (!strcmp(u, "d") && n == 1)
        out->cal = POND__BUCKET_DAY;
    else if (!strcmp(u, "w") && n == 1)
        out->cal = POND__BUCKET_WEEK;
    else if (!strcmp(u, "mo") && n == 1)
        out->cal = POND__BUCKET_MONTH;
    else
        goto bad;
    /* fixed widths stay below a day: a longer one would not line up with days in any zone */
    if (out->width_us > DAY_S * US_S || (out->width_us && (DAY_S * US_S) % out->width_us))
        goto bad;
    return 0;
bad:
    return pond_error_set(POND_EINVALID, D,
                          "bucket '%s': use Ns, Nm or Nh dividing a day (1m, 15m, 1h, 6h), or "
                          "1d, 1w (weeks from Monday) or 1mo",
                          spec);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The instant local midnight of day `day` (days since 1970-01-01 local) begins. A midnight the
 * clocks skip begins at the first instant after the gap (pond_tz_to_utc's reading). */
static int64_t local_day_start(const pond_tz *tz, int64_t day)
{
    int64_t utc_s;
    (void)pond_tz_to_utc(&utc_s, tz, day * DAY_S);
    return utc_s * US_S;
}

/* The local day (days since 1970-01-01 in the zone) holding instant us. */
static int64_t local_day(const pond_tz *tz, int64_t us)
{
    int64_t s = floor_div(us, US_S);
    return floor_div(s + pond_tz_offset(tz, s), DAY_S);
}

static int64_t cal_floor_day(const pond__bucket *b, int64_t day)
{
    if (b->cal == POND__BUCKET_WEEK)
        return floor_div(day + 3, 7) * 7 - 3; /* 1970-01-01 was a Thursday: weeks from Monday */
    if (b->cal == POND__BUCKET_MONTH) {
        int64_t y;
        unsigned m, d;
        pond_civil_from_days(day, &y, &m, &d);
        return pond_days_from_civil(y, m, 1);
    }
    return day;
}

int64_t pond__bucket_floor(const pond__bucket *b, int64_t us)
{
    if (b->width_us)
        return floor_div(us, b->width_us) * b->width_us;
    int64_t start = local_day_start(b->tz, cal_floor_day(b, local_day(b->tz, us)));
    /* a zone whose midnight is skipped: the day's start can be after an instant of the day
     * before the gap, which belongs to the previous bucket */
    if (start > us)
        start = local_day_start(b->tz, cal_floor_day(b, local_day(b->tz, us) - 1));
    return start;
}

int64_t pond__bucket_next(const pond__bucket *b, int64_t start_us)
{
    if (b->width_us)
        return start_us + b->width_us;
    int64_t day = cal_floor_day(b, local_day(b->tz, start_us));
    if (b->cal == POND__BUCKET_DAY)
        day += 1;
    else if (b->cal == POND__BUCKET_WEEK)
        day += 7;
    else {
        int64_t y;
        unsigned m, d;
        pond_civil_from_days(day, &y, &m, &d);
        day = m == 12 ? pond_days_from_civil(y + 1, 1, 1) : pond_days_from_civil(y, m + 1, 1);
    }
    return local_day_start(b->tz, day);
}
