/* The time model (docs/time.md): --from/--to forms, the epoch magnitude rule, --time-format,
 * time zones from the tz database with DST gaps and overlaps. Values come from real files
 * (vega-datasets, statsmodels) where the brief names them. */
#include "pt.h"

#include <pond/timefmt.h>

#include "util/time_internal.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define S(x) (int64_t)(x##LL * 1000000)

static int64_t civil(int y, unsigned m, unsigned d, int h, int mi, int s)
{
    return (pond_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + s) * 1000000;
}

static int64_t arg(const char *s, const pond_tz *tz)
{
    int64_t us = 0;
    if (pond_time_parse_arg(&us, s, strlen(s), tz) < 0)
        pt_fail(__FILE__, __LINE__, "parse '%s': %s", s, pond_error_last()->message);
    return us;
}

static pond_tz *zone(const char *name)
{
    pond_tz *tz = NULL;
    if (pond_tz_open(&tz, name) < 0)
        pt_fail(__FILE__, __LINE__, "zone '%s': %s", name, pond_error_last()->message);
    return tz;
}

static void test_arg_forms(void)
{
    PT_ASSERT_INT_EQ(arg("2013", NULL), civil(2013, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(arg("2013-06", NULL), civil(2013, 6, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(arg("2013-06-15", NULL), civil(2013, 6, 15, 0, 0, 0));
    PT_ASSERT_INT_EQ(arg("2013-06-15T12:30", NULL), civil(2013, 6, 15, 12, 30, 0));
    PT_ASSERT_INT_EQ(arg("2013-06-15T12:30:05.25", NULL), civil(2013, 6, 15, 12, 30, 5) + 250000);
    PT_ASSERT_INT_EQ(arg("2013-06-15T12:30+02:00", NULL), civil(2013, 6, 15, 10, 30, 0));
    PT_ASSERT_INT_EQ(arg("2013-06-15 12:30:00Z", NULL), civil(2013, 6, 15, 12, 30, 0));
    PT_ASSERT_INT_EQ(arg("1706702400s", NULL), S(1706702400));
    PT_ASSERT_INT_EQ(arg("1706702400000ms", NULL), S(1706702400));
    PT_ASSERT_INT_EQ(arg("1706702400000000us", NULL), S(1706702400));
    PT_ASSERT_INT_EQ(arg("1706702400000000999ns", NULL), S(1706702400));
    PT_ASSERT_INT_EQ(arg("-1500ns", NULL), -2);
    PT_ASSERT_INT_EQ(arg("5s", NULL), 5000000);
    /* pond_time_parse is the same in UTC (SQL us() uses it) */
    int64_t us;
    PT_ASSERT_OK(pond_time_parse(&us, "2013", 4));
    PT_ASSERT_INT_EQ(us, civil(2013, 1, 1, 0, 0, 0));
    /* in a zone: a form without a zone is local time there */
    pond_tz *ber = zone("Europe/Berlin");
    PT_ASSERT_INT_EQ(arg("2013", ber), civil(2012, 12, 31, 23, 0, 0));
    PT_ASSERT_INT_EQ(arg("2013-06", ber), civil(2013, 5, 31, 22, 0, 0));
    PT_ASSERT_INT_EQ(arg("2013-06-15T12:30Z", ber), civil(2013, 6, 15, 12, 30, 0));
    PT_ASSERT_INT_EQ(arg("1706702400s", ber), S(1706702400));
    pond_tz_free(ber);
}

static void test_arg_refusals(void)
{
    static const struct {
        const char *in, *msg;
    } cases[] = {
        {"1706702400", "an epoch needs a unit"},
        {"19580329", "an epoch needs a unit"},
        {"201", "an epoch needs a unit"},
        {"2013-6", "expected YYYY-MM-DD"},
        {"2013-13", "out of range"},
        {"2013-02-29", "out of range"},
        {"2013-06-15T25:00", "out of range"},
        {"2013-06-15T", "expected HH:MM"},
        {"12parsecs", "unit s, ms, us or ns"},
        {"yesterday", "expected YYYY, YYYY-MM"},
        {"", "expected YYYY, YYYY-MM"},
        {"99999999999999999999s", "out of range"},
        {"9999999999999999s", "out of range"},
        {"0000", "out of range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t us;
        PT_ASSERT_ERR(pond_time_parse_arg(&us, cases[i].in, strlen(cases[i].in), NULL),
                      POND_EINVALID);
        PT_ASSERT_MSG_HAS(cases[i].msg);
    }
}

static void test_epoch_magnitude(void)
{
    int64_t us;
    PT_ASSERT_OK(pond_time_epoch_magnitude(&us, 1000000000));
    PT_ASSERT_INT_EQ(us, S(1000000000));
    PT_ASSERT_OK(pond_time_epoch_magnitude(&us, 1706702400123LL));
    PT_ASSERT_INT_EQ(us, 1706702400123000LL);
    PT_ASSERT_OK(pond_time_epoch_magnitude(&us, 1706702400123456LL));
    PT_ASSERT_INT_EQ(us, 1706702400123456LL);
    PT_ASSERT_OK(pond_time_epoch_magnitude(&us, 1706702400123456789LL));
    PT_ASSERT_INT_EQ(us, 1706702400123456LL);
    /* sunspots.csv YEAR, co2.csv date, an old epoch, a negative one */
    const int64_t refused[] = {1700, 19580329, 999999999, 0, -1706702400LL};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        PT_ASSERT_ERR(pond_time_epoch_magnitude(&us, refused[i]), POND_EINVALID);
        PT_ASSERT_MSG_HAS("--time-format %Y");
        PT_ASSERT_MSG_HAS("%Y%m%d");
        PT_ASSERT_MSG_HAS("--time-format %s");
    }
}

static int64_t rd(const char *fmt, const char *value, const pond_tz *tz)
{
    pond_time_reader *r = NULL;
    const char *f[] = {fmt};
    if (pond_time_reader_new(&r, f, fmt ? 1 : 0, tz) < 0)
        pt_fail(__FILE__, __LINE__, "format '%s': %s", fmt, pond_error_last()->message);
    int64_t us = 0;
    int rc = pond_time_reader_parse(&us, r, value, strlen(value), 0);
    pond_time_reader_free(r);
    if (rc < 0)
        pt_fail(__FILE__, __LINE__, "'%s' with '%s': %s", value, fmt, pond_error_last()->message);
    return us;
}

static void test_formats_from_real_files(void)
{
    /* vega-datasets seattle-weather.csv, iowa-electricity.csv: ISO dates need no format */
    PT_ASSERT_INT_EQ(rd(NULL, "2012-01-01", NULL), civil(2012, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%b %d %Y", "2001-01-01", NULL), civil(2001, 1, 1, 0, 0, 0));
    /* stocks.csv, sp500.csv */
    PT_ASSERT_INT_EQ(rd("%b %d %Y", "Jan 1 2000", NULL), civil(2000, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%b %d %Y", "Dec 1 2009", NULL), civil(2009, 12, 1, 0, 0, 0));
    /* github.csv: a local date-time with no zone */
    PT_ASSERT_INT_EQ(rd("%Y/%m/%d %H:%M:%S", "2015/01/01 01:00:00", NULL),
                     civil(2015, 1, 1, 1, 0, 0));
    PT_ASSERT_INT_EQ(rd("%Y/%m/%d %H:%M", "2015/01/01 01:00", NULL), civil(2015, 1, 1, 1, 0, 0));
    /* seattle-weather-hourly-normals.csv: ISO without a zone, read in a zone */
    pond_tz *la = zone("America/Los_Angeles");
    PT_ASSERT_INT_EQ(rd(NULL, "2010-01-01T01:00:00", la), civil(2010, 1, 1, 9, 0, 0));
    PT_ASSERT_INT_EQ(rd("%Y/%m/%d %H:%M:%S", "2015/07/01 01:00:00", la),
                     civil(2015, 7, 1, 8, 0, 0));
    pond_tz_free(la);
    /* statsmodels co2: 19580329; sunspots and nile: integer years; danish_data: 1974Q1 */
    PT_ASSERT_INT_EQ(rd("%Y%m%d", "19580329", NULL), civil(1958, 3, 29, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%Y", "1700", NULL), civil(1700, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%Y", "1871", NULL), civil(1871, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%YQ%q", "1974Q1", NULL), civil(1974, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%YQ%q", "1987Q3", NULL), civil(1987, 7, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%d-%b-%y", "19-Sep-03", NULL), civil(2003, 9, 19, 0, 0, 0));
    /* old epoch seconds need %s */
    PT_ASSERT_INT_EQ(rd("%s", "86400", NULL), S(86400));
    PT_ASSERT_INT_EQ(rd("%s.%f", "-1.5", NULL), -1500000);
    PT_ASSERT_INT_EQ(rd("%s.%f", "-0.5", NULL), -500000);
}

static void test_format_directives(void)
{
    /* the %y century rule: 69-99 are 19xx, 00-68 are 20xx */
    PT_ASSERT_INT_EQ(rd("%y-%m-%d", "68-01-01", NULL), civil(2068, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%y-%m-%d", "69-01-01", NULL), civil(1969, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%y-%m-%d", "00-02-29", NULL), civil(2000, 2, 29, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%y-%m-%d", "99-12-31", NULL), civil(1999, 12, 31, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%B %e, %Y", "September  9, 2001", NULL), civil(2001, 9, 9, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%m/%d/%Y %I:%M %p", "07/04/2021 12:15 AM", NULL),
                     civil(2021, 7, 4, 0, 15, 0));
    PT_ASSERT_INT_EQ(rd("%m/%d/%Y %I:%M %p", "07/04/2021 12:15 pm", NULL),
                     civil(2021, 7, 4, 12, 15, 0));
    PT_ASSERT_INT_EQ(rd("%Y.%j", "2024.366", NULL), civil(2024, 12, 31, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%F %T", "2024-02-29 23:59:60", NULL), civil(2024, 2, 29, 23, 59, 59));
    PT_ASSERT_INT_EQ(rd("%d.%m.%Y %R", "31.12.1999 23:30", NULL), civil(1999, 12, 31, 23, 30, 0));
    PT_ASSERT_INT_EQ(rd("%Y%m%d %H%M%S%z", "20240101 120000+0130", NULL),
                     civil(2024, 1, 1, 10, 30, 0));
    PT_ASSERT_INT_EQ(rd("%Y%m%d %H%M%S%z", "20240101 120000Z", NULL), civil(2024, 1, 1, 12, 0, 0));
    PT_ASSERT_INT_EQ(rd("%a %b %d %Y", "Sat Jan 01 2000", NULL), civil(2000, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%Y %%", "2000 %", NULL), civil(2000, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(rd("%S.%f %Y", "05.123456789 2000", NULL),
                     civil(2000, 1, 1, 0, 0, 5) + 123456);
    /* several formats: the first that matches all of the value wins; ISO always works */
    pond_time_reader *r = NULL;
    const char *fs[] = {"%Y", "%b %d %Y"};
    PT_ASSERT_OK(pond_time_reader_new(&r, fs, 2, NULL));
    int64_t us;
    PT_ASSERT_OK(pond_time_reader_parse(&us, r, "Feb 1 2000", 10, 0));
    PT_ASSERT_INT_EQ(us, civil(2000, 2, 1, 0, 0, 0));
    PT_ASSERT_OK(pond_time_reader_parse(&us, r, "1999", 4, 0));
    PT_ASSERT_INT_EQ(us, civil(1999, 1, 1, 0, 0, 0));
    PT_ASSERT_OK(pond_time_reader_parse(&us, r, "2000-03-01T00:00Z", 17, 0));
    PT_ASSERT_INT_EQ(us, civil(2000, 3, 1, 0, 0, 0));
    /* NO_FORMATS: an integer is not read through the formats (a column not named a time) */
    PT_ASSERT_ERR(pond_time_reader_parse(&us, r, "1999", 4, POND_TIME_NO_FORMATS), POND_EINVALID);
    PT_ASSERT_ERR(pond_time_reader_parse(&us, r, "Feb 30 2000", 11, 0), POND_EINVALID);
    PT_ASSERT_MSG_HAS("day out of range");
    PT_ASSERT_ERR(pond_time_reader_parse(&us, r, "Feb 1 2000x", 11, 0), POND_EINVALID);
    PT_ASSERT_MSG_HAS("--time-format '%Y', '%b %d %Y'");
    pond_time_reader_free(r);
}

static void value_refused(const char *fmt, const char *value, const char *msg)
{
    pond_time_reader *r = NULL;
    const char *f[] = {fmt};
    PT_ASSERT_OK(pond_time_reader_new(&r, f, fmt ? 1 : 0, NULL));
    int64_t us;
    int rc = pond_time_reader_parse(&us, r, value, strlen(value), 0);
    pond_time_reader_free(r);
    if (rc != POND_EINVALID)
        pt_fail(__FILE__, __LINE__, "'%s' with '%s' gave %d", value, fmt ? fmt : "", rc);
    PT_ASSERT_MSG_HAS(msg);
}

static void test_value_refusals(void)
{
    value_refused("%YQ%q", "1974Q5", "quarter out of range");
    value_refused("%YQ%q", "1974Q0", "quarter out of range");
    value_refused("%Y%m%d", "19581329", "month out of range");
    value_refused("%Y.%j", "2023.366", "day of the year out of range");
    value_refused("%a %b %d %Y", "Sun Jan 01 2000", "weekday does not match");
    value_refused("%m/%d/%Y %I:%M %p", "07/04/2021 13:15 PM", "hour out of range");
    value_refused("%H:%M %Y", "24:00 2000", "time of day out of range");
    value_refused("%Y", "0", "year out of range");
    /* integers without a format: only epochs from 10^9 on */
    value_refused(NULL, "1880", "--time-format %Y");
    value_refused(NULL, "19580329", "--time-format %Y%m%d");
    value_refused("%Y", "19580329", "matches none of --time-format '%Y'");
    value_refused(NULL, "Jan 1 2000", "other forms need --time-format");
    value_refused(NULL, "2012-01-32", "other forms need --time-format");
}

static void test_format_refusals(void)
{
    static const struct {
        const char *fmt, *msg;
    } cases[] = {
        {"%Q", "unknown directive %Q"},
        {"%Y-%Z", "unknown directive %Z"},
        {"%m/%d", "needs a year"},
        {"%s %Y", "%s stands alone"},
        {"%Y %I:%M", "%I needs %p"},
        {"%Y %H %p", "%H does not go with"},
        {"%Y %j %m", "%j gives month and day"},
        {"%YQ%q-%m", "%q gives the month"},
        {"%Y %d", "needs a month"},
        {"%Y %Y", "appears twice"},
        {"%Y%", "lone %"},
        {"", "empty"},
        {"%Y %f", "needs %S or %s"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pond_time_reader *r = NULL;
        const char *f[] = {cases[i].fmt};
        PT_ASSERT_ERR(pond_time_reader_new(&r, f, 1, NULL), POND_EINVALID);
        PT_ASSERT(r == NULL);
        PT_ASSERT_MSG_HAS(cases[i].msg);
    }
}

static void test_zones(void)
{
    pond_tz *tz = NULL;
    PT_ASSERT_ERR(pond_tz_open(&tz, "Mars/Olympus_Mons"), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("unknown time zone 'Mars/Olympus_Mons'");
    PT_ASSERT_ERR(pond_tz_open(&tz, "../../etc/passwd"), POND_EINVALID);
    PT_ASSERT_ERR(pond_tz_open(&tz, "/etc/localtime"), POND_EINVALID);
    PT_ASSERT_ERR(pond_tz_open(&tz, "Europe"), POND_ENOTFOUND); /* a directory */
    PT_ASSERT_ERR(pond_tz_open(&tz, ""), POND_EINVALID);
    tz = zone("UTC");
    PT_ASSERT(pond_tz_is_utc(tz));
    PT_ASSERT_STR_EQ(pond_tz_name(tz), "UTC");
    pond_tz_free(tz);

    pond_tz *ber = zone("Europe/Berlin");
    PT_ASSERT(!pond_tz_is_utc(ber));
    PT_ASSERT_INT_EQ(pond_tz_offset(ber, civil(2024, 1, 15, 0, 0, 0) / 1000000), 3600);
    PT_ASSERT_INT_EQ(pond_tz_offset(ber, civil(2024, 7, 15, 0, 0, 0) / 1000000), 7200);
    /* past the file's last transition the footer rule (CET-1CEST,M3.5.0,M10.5.0/3) rules */
    PT_ASSERT_INT_EQ(pond_tz_offset(ber, civil(2100, 7, 1, 0, 0, 0) / 1000000), 7200);
    PT_ASSERT_INT_EQ(pond_tz_offset(ber, civil(2100, 12, 1, 0, 0, 0) / 1000000), 3600);
    /* before the first transition: local mean time, +00:53:28 */
    PT_ASSERT_INT_EQ(pond_tz_offset(ber, civil(1850, 1, 1, 0, 0, 0) / 1000000), 3208);
    pond_tz *syd = zone("Australia/Sydney"); /* southern: DST spans the new year */
    PT_ASSERT_INT_EQ(pond_tz_offset(syd, civil(2100, 1, 15, 0, 0, 0) / 1000000), 11 * 3600);
    PT_ASSERT_INT_EQ(pond_tz_offset(syd, civil(2100, 7, 15, 0, 0, 0) / 1000000), 10 * 3600);
    PT_ASSERT_INT_EQ(pond_tz_offset(syd, civil(2024, 1, 15, 0, 0, 0) / 1000000), 11 * 3600);
    pond_tz_free(syd);
    char out[40];
    pond_time_format_iso_tz(out, civil(2024, 3, 31, 1, 0, 0), ber);
    PT_ASSERT_STR_EQ(out, "2024-03-31T03:00:00+02:00");
    pond_time_format_iso_tz(out, civil(2024, 1, 1, 0, 0, 0) + 500000, ber);
    PT_ASSERT_STR_EQ(out, "2024-01-01T01:00:00.500+01:00");
    pond_time_format_iso_tz(out, civil(2024, 1, 1, 0, 0, 0), NULL);
    PT_ASSERT_STR_EQ(out, "2024-01-01T00:00:00Z");
    pond_tz *kol = zone("Asia/Kolkata");
    pond_time_format_iso_tz(out, civil(2024, 1, 1, 0, 0, 0), kol);
    PT_ASSERT_STR_EQ(out, "2024-01-01T05:30:00+05:30");
    pond_tz_free(kol);
    pond_tz_free(ber);
}

static void test_dst_gap_and_overlap(void)
{
    pond_tz *ber = zone("Europe/Berlin");
    int64_t u;
    /* spring forward 2024-03-31 02:00 -> 03:00: 02:30 does not exist */
    PT_ASSERT_ERR(pond_tz_to_utc(&u, ber, civil(2024, 3, 31, 2, 30, 0) / 1000000), POND_EINVALID);
    PT_ASSERT_MSG_HAS("does not exist in Europe/Berlin");
    PT_ASSERT_MSG_HAS("+01:00 to +02:00");
    /* fall back 2024-10-27 03:00 -> 02:00: 02:30 happens twice */
    PT_ASSERT_ERR(pond_tz_to_utc(&u, ber, civil(2024, 10, 27, 2, 30, 0) / 1000000), POND_EINVALID);
    PT_ASSERT_MSG_HAS("exists twice in Europe/Berlin");
    PT_ASSERT_MSG_HAS("+02:00, then +01:00");
    /* the edges: 03:00 exists once on both days; 01:59:59 too */
    PT_ASSERT_OK(pond_tz_to_utc(&u, ber, civil(2024, 3, 31, 3, 0, 0) / 1000000));
    PT_ASSERT_INT_EQ(u * 1000000, civil(2024, 3, 31, 1, 0, 0));
    PT_ASSERT_OK(pond_tz_to_utc(&u, ber, civil(2024, 10, 27, 3, 0, 0) / 1000000));
    PT_ASSERT_INT_EQ(u * 1000000, civil(2024, 10, 27, 2, 0, 0));
    PT_ASSERT_OK(pond_tz_to_utc(&u, ber, civil(2024, 10, 27, 1, 59, 59) / 1000000));
    PT_ASSERT_INT_EQ(u * 1000000, civil(2024, 10, 26, 23, 59, 59));
    /* the same through the rule past 2037 */
    PT_ASSERT_ERR(pond_tz_to_utc(&u, ber, civil(2100, 3, 28, 2, 30, 0) / 1000000), POND_EINVALID);
    PT_ASSERT_MSG_HAS("does not exist");
    /* through a value: the message quotes it */
    int64_t us;
    PT_ASSERT_ERR(pond_time_parse_iso_tz(&us, "2024-03-31T02:30:00", 19, ber), POND_EINVALID);
    PT_ASSERT_MSG_HAS("'2024-03-31T02:30:00': does not exist in Europe/Berlin");
    PT_ASSERT_ERR(pond_time_parse_arg(&us, "2024-10-27T02:30", 16, ber), POND_EINVALID);
    PT_ASSERT_MSG_HAS("exists twice");
    /* a value with its offset is fine in the overlap */
    PT_ASSERT_OK(pond_time_parse_arg(&us, "2024-10-27T02:30+01:00", 22, ber));
    PT_ASSERT_INT_EQ(us, civil(2024, 10, 27, 1, 30, 0));
    /* a format does not get around it: the gap is the gap */
    pond_time_reader *r = NULL;
    const char *f[] = {"%Y/%m/%d %H:%M"};
    PT_ASSERT_OK(pond_time_reader_new(&r, f, 1, ber));
    PT_ASSERT_ERR(pond_time_reader_parse(&us, r, "2024/03/31 02:30", 16, 0), POND_EINVALID);
    PT_ASSERT_MSG_HAS("does not exist");
    PT_ASSERT_ERR(pond_time_reader_parse(&us, r, "2024-03-31 02:30", 16, 0), POND_EINVALID);
    PT_ASSERT_MSG_HAS("does not exist");
    pond_time_reader_free(r);
    pond_tz_free(ber);
    /* New York: 2024-03-10 02:30 skipped, 2024-11-03 01:30 twice */
    pond_tz *ny = zone("America/New_York");
    PT_ASSERT_ERR(pond_tz_to_utc(&u, ny, civil(2024, 3, 10, 2, 30, 0) / 1000000), POND_EINVALID);
    PT_ASSERT_ERR(pond_tz_to_utc(&u, ny, civil(2024, 11, 3, 1, 30, 0) / 1000000), POND_EINVALID);
    PT_ASSERT_OK(pond_tz_to_utc(&u, ny, civil(2024, 11, 3, 2, 30, 0) / 1000000));
    PT_ASSERT_INT_EQ(u * 1000000, civil(2024, 11, 3, 7, 30, 0));
    pond_tz_free(ny);
}

/* A TZif v2 file with no transitions: the footer rule alone. */
static size_t tzif_rule_only(uint8_t *buf, const char *rule)
{
    size_t n = 0;
    for (int part = 0; part < 2; part++) {
        memset(buf + n, 0, 44);
        memcpy(buf + n, "TZif2", 5);
        buf[n + 39] = 1; /* typecnt */
        buf[n + 43] = 4; /* charcnt */
        n += 44;
        const uint8_t type[6] = {0xff, 0xff, 0xb9, 0xb0, 0, 0}; /* -18000 */
        memcpy(buf + n, type, 6);
        n += 6;
        memcpy(buf + n, "EST", 4);
        n += 4;
    }
    n += (size_t)sprintf((char *)buf + n, "\n%s\n", rule);
    return n;
}

static void test_tzif_rules(void)
{
    uint8_t buf[256];
    pond_tz *tz = NULL;
    size_t n = tzif_rule_only(buf, "EST5EDT,M3.2.0,M11.1.0");
    PT_ASSERT_OK(pond_tz_from_tzif(&tz, "test/NY", buf, n));
    PT_ASSERT_INT_EQ(pond_tz_offset(tz, civil(2030, 1, 1, 0, 0, 0) / 1000000), -5 * 3600);
    PT_ASSERT_INT_EQ(pond_tz_offset(tz, civil(2030, 7, 1, 0, 0, 0) / 1000000), -4 * 3600);
    /* 2030-03-10 is the second Sunday of March: 02:00 EST -> 03:00 EDT (07:00Z) */
    PT_ASSERT_INT_EQ(pond_tz_offset(tz, civil(2030, 3, 10, 6, 59, 59) / 1000000), -5 * 3600);
    PT_ASSERT_INT_EQ(pond_tz_offset(tz, civil(2030, 3, 10, 7, 0, 0) / 1000000), -4 * 3600);
    pond_tz_free(tz);
    /* Julian days, negative and large rule times, <+03> names */
    const char *ok[] = {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "IST-2IDT,M3.4.4/26,M10.5.0",
                        "XXX3YYY,J60/1:30,300/25", "<+0545>-5:45", "EST5EDT"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        n = tzif_rule_only(buf, ok[i]);
        PT_ASSERT_OK(pond_tz_from_tzif(&tz, "test", buf, n));
        int64_t u;
        PT_ASSERT_OK(pond_tz_to_utc(&u, tz, civil(2040, 1, 15, 12, 0, 0) / 1000000));
        pond_tz_free(tz);
    }
    const char *bad[] = {"EST",   "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0",
                         "<AB>5", "EST5EDT,J0,J300",         "EST99"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = tzif_rule_only(buf, bad[i]);
        PT_ASSERT_ERR(pond_tz_from_tzif(&tz, "test", buf, n), POND_ECORRUPT);
        PT_ASSERT_MSG_HAS("bad rule");
    }
    /* truncations of a real zone file are errors, never crashes */
    n = tzif_rule_only(buf, "EST5EDT,M3.2.0,M11.1.0");
    for (size_t k = 0; k < n - 1; k++) {
        PT_ASSERT(pond_tz_from_tzif(&tz, "test", buf, k) < 0);
        PT_ASSERT(tz == NULL);
    }
}

/* The fast path for YYYY-MM-DD[T ]HH:MM:SS[.f][zone] against the general ISO-8601 reader: the
 * same instant or the same refusal (and message) for well-formed values of every field and
 * for each of them with one byte changed, cut or extended. */
static void test_iso_fast_path_equivalence(void)
{
    uint64_t st = 99;
    char s[64], t[64];
    int n = pt_light() ? 3000 : 60000;
    for (int k = 0; k < n; k++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t r = st >> 11;
        int y = (int)(r % 10000), mo = (int)(r / 10000 % 14), d = (int)(r / 140000 % 33);
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        r = st >> 11;
        int h = (int)(r % 25), mi = (int)(r / 25 % 61), sec = (int)(r / 1525 % 62);
        static const char *const fracs[] = {"",           ".5",          ",25", ".123456",
                                            ".123456789", ".1234567891", "."};
        static const char *const zones[] = {"",    "Z",      "z",    "+05", "-0330", "+05:30",
                                            "+24", "-23:59", "+05:", "+5",  " UTC",  "+0560"};
        static const char seps[] = "T t_";
        int len = snprintf(s, sizeof s, "%04d-%02d-%02d%c%02d:%02d:%02d%s%s", y, mo, d,
                           seps[r / 94550 % 4], h, mi, sec, fracs[r / 378200 % 7],
                           zones[(r / 2647400) % 12]);
        for (int m = -1; m < 3; m++) {
            size_t tl = (size_t)len;
            memcpy(t, s, tl);
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)((st >> 33) % (size_t)len);
            if (m == 0)
                t[at] = (char)(' ' + (st >> 45) % 95); /* one byte changed */
            else if (m == 1)
                tl = at; /* cut */
            else if (m == 2)
                t[tl++] = (char)('0' + (st >> 45) % 10); /* one more digit */
            int64_t a = 0, b = 0;
            int ra = pond_time_parse_iso(&a, t, tl);
            char ma[256] = "";
            if (ra < 0)
                snprintf(ma, sizeof ma, "%s", pond_error_last()->message);
            int rb = pond__time_parse_iso_general(&b, t, tl);
            if (ra != rb || (ra == 0 && a != b) ||
                (ra < 0 && strcmp(ma, pond_error_last()->message) != 0))
                pt_fail(__FILE__, __LINE__, "'%.*s': fast %d %lld '%s', general %d %lld '%s'",
                        (int)tl, t, ra, (long long)a, ma, rb, (long long)b,
                        pond_error_last()->message);
        }
    }
}

/* One value through the memo and without it (the unoptimised parse): the same result, instant
 * and message. */
static void memo_same(pond__time_memo *memo, const pond_time_reader *r, const char *s)
{
    size_t len = strlen(s);
    int64_t a = -1, b = -2;
    int ra = pond__time_reader_parse_memo(&a, r, s, len, 0, memo);
    char ma[256] = "";
    if (ra < 0)
        snprintf(ma, sizeof ma, "%s", pond_error_last()->message);
    int rb = pond_time_reader_parse(&b, r, s, len, 0);
    if (ra != rb || (ra == 0 && a != b) || (ra < 0 && strcmp(ma, pond_error_last()->message) != 0))
        pt_fail(__FILE__, __LINE__, "'%s': memo %d %lld '%s', plain %d %lld '%s'", s, ra,
                (long long)a, ma, rb, (long long)b, pond_error_last()->message);
}

/* Rows of a timestamp column read with the minute of the row before kept (csv_import): the
 * same instants and refusals as each value read alone, across midnight, month and year ends,
 * leap days, DST changes under a zone, offsets that change between rows of the same minute,
 * invalid values after valid ones of the same day or minute, and random neighbours. */
static void test_iso_memo_equivalence(void)
{
    static const char *const rows[] = {
        "2024-01-31T23:59:58",
        "2024-01-31T23:59:59",
        "2024-02-01T00:00:00",
        "2024-02-01T00:00:01",
        "2024-02-28T23:59:59",
        "2024-02-29T00:00:00",
        "2024-02-29T23:59:59.999999",
        "2024-03-01T00:00:00",
        "2023-02-28T23:59:59",
        "2023-02-29T00:00:00",
        "2023-02-28T23:59:59",
        "2023-03-01T00:00:00",
        "2023-12-31T23:59:59",
        "2024-01-01T00:00:00",
        "2024-04-30T10:00:00",
        "2024-04-31T10:00:00",
        "2024-04-30T10:00:01",
        /* spring forward in Europe/Berlin: 02:00-02:59 do not exist */
        "2024-03-31T01:59:58",
        "2024-03-31T01:59:59",
        "2024-03-31T02:00:00",
        "2024-03-31T02:00:01",
        "2024-03-31T02:59:59",
        "2024-03-31T03:00:00",
        "2024-03-31T03:00:01",
        /* fall back: 02:00-02:59 twice; with an offset they are one instant each */
        "2024-10-27T01:59:59",
        "2024-10-27T02:00:00",
        "2024-10-27T02:00:00+02:00",
        "2024-10-27T02:00:00+01:00",
        "2024-10-27T02:00:01Z",
        "2024-10-27T02:00:01+0130",
        "2024-10-27T02:00:01-05",
        "2024-10-27T02:00:02",
        "2024-10-27T03:00:00",
        /* the same minute, different rests: fractions, zones, leap second, bad tails */
        "2024-06-01T12:30:00",
        "2024-06-01T12:30:00.5",
        "2024-06-01T12:30:00,25Z",
        "2024-06-01T12:30:60",
        "2024-06-01T12:30:59",
        "2024-06-01T12:30:5x",
        "2024-06-01T12:30:61",
        "2024-06-01T12:30:01+24",
        "2024-06-01T12:30:02",
        "2024-06-01T12:30:03 UTC",
        "2024-06-01T12:30:04.1234567891",
        "2024-06-01T12:30:05",
        "2024-06-01T12:30",
        "2024-06-01T12:30:06",
        "2024-06-01 12:30:07",
        "2024-06-01",
        "2024-06-01T12:30:08",
        "2024-06-01T12:3",
        "2024-06-01T12:30:09",
        /* an invalid date after valid rows of the same day */
        "2024-06-31T12:30:00",
        "2024-06-30T12:30:00",
        "2024-06-30T24:00:00",
        "2024-06-30T23:60:00",
        "2024-06-30T23:59:00",
    };
    const char *zones[] = {NULL, "Europe/Berlin", "America/New_York", "Asia/Kolkata"};
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
        pond_tz *tz = zones[z] ? zone(zones[z]) : NULL;
        pond_time_reader *r = NULL;
        PT_ASSERT_OK(pond_time_reader_new(&r, NULL, 0, tz));
        pond__time_memo memo = {0};
        for (size_t k = 0; k < sizeof rows / sizeof *rows; k++)
            memo_same(&memo, r, rows[k]);
        /* every second over both of 2024's DST changes in Europe/Berlin and New York, and
         * over a midnight, in order */
        static const int64_t from[] = {1711846800, 1710054000, 1729990800, 1730613600, 1704063000};
        for (size_t f = 0; f < sizeof from / sizeof *from; f++)
            for (int64_t sec = from[f]; sec < from[f] + (pt_light() ? 900 : 7200); sec++) {
                int64_t d = sec / 86400, rem = sec % 86400, y;
                unsigned mo, dd;
                pond_civil_from_days(d, &y, &mo, &dd);
                char s[40];
                snprintf(s, sizeof s, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, mo, dd,
                         (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
                memo_same(&memo, r, s);
            }
        pond_time_reader_free(r);
        pond_tz_free(tz);
    }
    /* random neighbours: one minute written with random rests, one byte changed */
    uint64_t st = 7;
    pond__time_memo memo = {0};
    pond_tz *ber = zone("Europe/Berlin");
    pond_time_reader *r = NULL;
    PT_ASSERT_OK(pond_time_reader_new(&r, NULL, 0, ber));
    static const char *const heads[] = {
        "2024-03-31T02:", "2024-10-27T02:", "2024-02-29T23:", "2023-02-29T23:", "2024-12-31T23:"};
    static const char *const rests[] = {"",    ".5", "Z", "+05:30", "-0330", "+05",
                                        "+24", ".",  " ", "+05:",   "z",     ".1234567891"};
    for (int k = 0; k < (pt_light() ? 2000 : 20000); k++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t v = st >> 11;
        char s[64];
        int len = snprintf(s, sizeof s, "%s%02d:%02d%s", heads[v % 5], (int)(v / 5 % 61),
                           (int)(v / 305 % 62), rests[v / 18910 % 12]);
        if (v / 226920 % 4 == 0)
            s[(v >> 40) % (uint64_t)len] = (char)(' ' + (v >> 20) % 95);
        memo_same(&memo, r, s);
    }
    pond_time_reader_free(r);
    pond_tz_free(ber);
}

PT_SUITE(time, PT_TEST(arg_forms), PT_TEST(arg_refusals), PT_TEST(epoch_magnitude),
         PT_TEST(formats_from_real_files), PT_TEST(format_directives), PT_TEST(value_refusals),
         PT_TEST(format_refusals), PT_TEST(zones), PT_TEST(dst_gap_and_overlap),
         PT_TEST(tzif_rules), PT_TEST(iso_fast_path_equivalence), PT_TEST(iso_memo_equivalence))
