/* Time in tables and series (docs/time.md): the timestamp column detected by type and name and
 * recorded with the zone, CSV values through --time-format and --timezone with file/line/column
 * errors, and Parquet files as series sources (ranges recorded, reads pruned, wall-clock
 * timestamps read in the series' zone). */
#include "pt.h"
#include "pt_pond.h"

#include <pond/arrow.h>
#include <pond/csv_import.h>
#include <pond/parquet.h>
#include <pond/sys/backend.h>
#include <pond/table.h>
#include <pond/timefmt.h>
#include <pond/tinyfs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef pt_pond env;

static void env_open(env *e)
{
    pt_pond_memory(e);
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
}

static void env_close(env *e) { pt_pond_close(e); }

static int64_t civil(int y, unsigned m, unsigned d, int h, int mi, int s)
{
    return (pond_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + s) * 1000000;
}

/* A host file with the given text; its path (static buffer per slot). */
static const char *host_file(int slot, const char *name, const char *text)
{
    static char paths[4][4200];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", PT_TMPDIR(), name);
    FILE *f = fopen(paths[slot], "w");
    PT_ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
    return paths[slot];
}

/* Writes a host Parquet file of n rows with 64-bit columns of the given formats and names;
 * column k, row i holds vals[k][i] (INT64_MIN: null). */
static const char *host_parquet(const char *name, int nc, const char *const *formats,
                                const char *const *names, const int64_t *const *vals, int64_t n)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/%s", PT_TMPDIR(), name);
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, nc));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, nc));
    for (int k = 0; k < nc; k++) {
        PT_ASSERT_OK(
            pond_arrow_schema_init(s.children[k], formats[k], names[k], ARROW_FLAG_NULLABLE, 0));
        pond_arrow_builder *b;
        PT_ASSERT_OK(pond_arrow_builder_new(&b, formats[k]));
        for (int64_t i = 0; i < n; i++) {
            if (vals[k][i] == INT64_MIN)
                PT_ASSERT_OK(pond_arrow_builder_append_null(b));
            else if (!strcmp(formats[k], "tdD"))
                PT_ASSERT_OK(pond_arrow_builder_append_int(b, vals[k][i]));
            else
                PT_ASSERT_OK(pond_arrow_builder_append_int(b, vals[k][i]));
        }
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[k], b));
        pond_arrow_builder_free(b);
    }
    const struct ArrowArray *batches[] = {&a};
    PT_ASSERT_OK(pond_parquet_write_file(path, &s, batches, 1, NULL));
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
    return path;
}

/* Rows of a series read with a range; versions read via stats. */
static int64_t count_range(env *e, const char *path, int64_t from, int64_t to, int64_t *vers_read)
{
    pond_table_read_options o = POND_TABLE_READ_OPTIONS_INIT;
    o.has_range = true;
    o.from_us = from;
    o.to_us = to;
    struct ArrowArrayStream s;
    PT_ASSERT_OK(pond_table_read_stream(&s, e->fs, NULL, path, &o));
    int64_t rows = 0;
    for (;;) {
        struct ArrowArray b;
        PT_ASSERT(s.get_next(&s, &b) == 0);
        if (!b.release)
            break;
        rows += b.length;
        b.release(&b);
    }
    pond_table_scan_stats st;
    PT_ASSERT_OK(pond_table_stream_stats(&st, &s));
    if (vers_read)
        *vers_read = st.versions_read;
    s.release(&s);
    return rows;
}

/* The event-time range of path's newest version. The transaction is committed first and a new
 * one begun: writes to one series in one transaction share one version (whose range covers
 * them all), and these checks are about the last write alone. */
static void last_event_range(env *e, const char *path, int64_t *lo, int64_t *hi)
{
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    pond_stat *vs = NULL;
    size_t nv = 0;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e->fs, NULL, path));
    PT_ASSERT(nv > 0 && vs[nv - 1].has_event_time);
    *lo = vs[nv - 1].min_event_time_us;
    *hi = vs[nv - 1].max_event_time_us;
    pond_free(vs);
}

static void test_parquet_series_detects_and_prunes(void)
{
    env e;
    env_open(&e);
    int64_t t[4], v[4];
    for (int i = 0; i < 4; i++) {
        t[i] = civil(2024, 1, 1 + i, 0, 0, 0);
        v[i] = i;
    }
    const char *fm[] = {"l", "tsu:UTC"}, *nm[] = {"reading", "taken"};
    const int64_t *cols[] = {v, t};
    /* the only timestamp column, whatever its name */
    const char *p1 = host_parquet("a.parquet", 2, fm, nm, cols, 4);
    PT_ASSERT_OK(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p1, NULL));
    int64_t lo, hi;
    last_event_range(&e, "/s", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, civil(2024, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(hi, civil(2024, 1, 4, 0, 0, 0));
    pond_series_settings set;
    PT_ASSERT_OK(pond_series_settings_get(&set, e.fs, NULL, "/s"));
    PT_ASSERT_STR_EQ(set.timestamp_column, "taken");
    PT_ASSERT_STR_EQ(set.timezone, "UTC");
    pond_series_settings_dispose(&set);
    /* a second version in March (another transaction): a range read skips the first */
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    for (int i = 0; i < 4; i++)
        t[i] = civil(2024, 3, 1 + i, 0, 0, 0);
    const char *p2 = host_parquet("b.parquet", 2, fm, nm, cols, 4);
    PT_ASSERT_OK(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p2, NULL));
    int64_t vr;
    PT_ASSERT_INT_EQ(
        count_range(&e, "/s", civil(2024, 3, 2, 0, 0, 0), civil(2024, 4, 1, 0, 0, 0), &vr), 3);
    PT_ASSERT_INT_EQ(vr, 1);
    PT_ASSERT_INT_EQ(count_range(&e, "/s", INT64_MIN, INT64_MAX, &vr), 8);
    PT_ASSERT_INT_EQ(vr, 2);
    /* the file is stored as it is: same bytes */
    pond_reader *r;
    PT_ASSERT_OK(pond_fs_open_reader(&r, e.fs, NULL, "/s"));
    FILE *f = fopen(p2, "rb");
    fseek(f, 0, SEEK_END);
    PT_ASSERT_INT_EQ(pond_reader_size(r), ftell(f));
    fclose(f);
    pond_reader_free(r);
    env_close(&e);
}

static void test_parquet_series_column_choice(void)
{
    env e;
    env_open(&e);
    int64_t a[2] = {civil(2024, 1, 1, 0, 0, 0), civil(2024, 1, 2, 0, 0, 0)};
    int64_t b[2] = {civil(2030, 1, 1, 0, 0, 0), civil(2030, 1, 2, 0, 0, 0)};
    const char *fm[] = {"tsu:UTC", "tsu:UTC"}, *nm[] = {"created", "updated"};
    const int64_t *cols[] = {a, b};
    const char *p = host_parquet("two.parquet", 2, fm, nm, cols, 2);
    /* two timestamp columns, neither named like a time: ambiguous */
    PT_ASSERT_ERR(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p, NULL),
        POND_EINVALID);
    PT_ASSERT_MSG_HAS("'created', 'updated'");
    PT_ASSERT_MSG_HAS("--timestamp-column");
    PT_ASSERT_MSG_HAS("two.parquet");
    pond_stat st;
    PT_ASSERT_ERR(pond_fs_stat(&st, e.fs, NULL, "/s"), POND_ENOTFOUND);
    /* --timestamp-column chooses */
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.timestamp_column = "updated";
    PT_ASSERT_OK(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p, &wo));
    int64_t lo, hi;
    last_event_range(&e, "/s", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, b[0]);
    PT_ASSERT_INT_EQ(count_range(&e, "/s", civil(2030, 1, 2, 0, 0, 0), INT64_MAX, NULL), 1);
    /* a later write needs no flag: the recorded column is used */
    PT_ASSERT_OK(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p, NULL));
    last_event_range(&e, "/s", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, b[0]);
    /* a different column given is a mismatch naming both and the flag */
    wo.timestamp_column = "created";
    PT_ASSERT_ERR(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p, &wo),
        POND_EINVALID);
    PT_ASSERT_MSG_HAS("timestamp column is 'updated', not 'created' (--timestamp-column)");
    /* and so is another zone */
    wo.timestamp_column = NULL;
    wo.timezone = "Europe/Berlin";
    PT_ASSERT_ERR(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p, &wo),
        POND_EINVALID);
    PT_ASSERT_MSG_HAS("in UTC, not Europe/Berlin (--timezone)");
    /* a file without the recorded column */
    const char *fm1[] = {"tsu:UTC"}, *nm1[] = {"created"};
    const int64_t *c1[] = {a};
    p = host_parquet("one.parquet", 1, fm1, nm1, c1, 2);
    PT_ASSERT_ERR(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p, NULL),
        POND_EINVALID);
    PT_ASSERT_MSG_HAS("no column 'updated', the series' timestamp column");
    env_close(&e);
}

static void test_parquet_wall_clock_in_zone(void)
{
    env e;
    env_open(&e);
    /* Parquet timestamps not adjusted to UTC: 2024-07-01 12:00 and 13:00 wall clock */
    int64_t t[2] = {civil(2024, 7, 1, 12, 0, 0), civil(2024, 7, 1, 13, 0, 0)}, v[2] = {1, 2};
    const char *fm[] = {"tsu:", "l"}, *nm[] = {"when", "v"};
    const int64_t *cols[] = {t, v};
    const char *p = host_parquet("local.parquet", 2, fm, nm, cols, 2);
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.timezone = "Europe/Berlin";
    PT_ASSERT_OK(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p, &wo));
    int64_t lo, hi;
    last_event_range(&e, "/s", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, civil(2024, 7, 1, 10, 0, 0)); /* CEST: UTC+2 */
    PT_ASSERT_INT_EQ(hi, civil(2024, 7, 1, 11, 0, 0));
    /* a range in UTC meets the rows at their instants */
    PT_ASSERT_INT_EQ(count_range(&e, "/s", civil(2024, 7, 1, 11, 0, 0), INT64_MAX, NULL), 1);
    PT_ASSERT_INT_EQ(count_range(&e, "/s", civil(2024, 7, 1, 12, 0, 0), INT64_MAX, NULL), 0);
    PT_ASSERT_INT_EQ(
        count_range(&e, "/s", civil(2024, 7, 1, 10, 0, 0), civil(2024, 7, 1, 10, 0, 1), NULL), 1);
    /* the same file with no zone given after the first write: the recorded zone */
    PT_ASSERT_OK(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p, NULL));
    last_event_range(&e, "/s", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, civil(2024, 7, 1, 10, 0, 0));
    /* a wall-clock time the zone skips: refused, naming the file, row and column */
    t[1] = civil(2024, 3, 31, 2, 30, 0);
    p = host_parquet("gap.parquet", 2, fm, nm, cols, 2);
    PT_ASSERT_ERR(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p, NULL),
        POND_EINVALID);
    PT_ASSERT_MSG_HAS("gap.parquet: row 2, column 'when': 2024-03-31T02:30:00");
    PT_ASSERT_MSG_HAS("does not exist in Europe/Berlin");
    /* dates are wall-clock days: midnight in the zone */
    int64_t d[2] = {19905, 19906}; /* 2024-07-01, 2024-07-02 */
    const char *fmd[] = {"tdD", "l"}, *nmd[] = {"day", "v"};
    const int64_t *cd[] = {d, v};
    p = host_parquet("dates.parquet", 2, fmd, nmd, cd, 2);
    wo.timezone = "America/New_York";
    PT_ASSERT_OK(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/d", POND_ENTRY_FILE_SERIES, p, &wo));
    last_event_range(&e, "/d", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, civil(2024, 7, 1, 4, 0, 0)); /* EDT: UTC-4 */
    PT_ASSERT_INT_EQ(count_range(&e, "/d", civil(2024, 7, 2, 0, 0, 0), INT64_MAX, NULL), 1);
    env_close(&e);
}

static void test_parquet_small_integers_refused(void)
{
    env e;
    env_open(&e);
    int64_t y[3] = {1871, 1872, 1873}, v[3] = {1120, 1160, 963};
    const char *fm[] = {"l", "l"}, *nm[] = {"year", "volume"};
    const int64_t *cols[] = {y, v};
    const char *p = host_parquet("nile.parquet", 2, fm, nm, cols, 3);
    PT_ASSERT_ERR(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES, p, NULL),
        POND_EINVALID);
    PT_ASSERT_MSG_HAS("nile.parquet: row 1, column 'year': 1871 is not a time");
    PT_ASSERT_MSG_HAS("--time-format %Y");
    /* as a table it is just integers */
    PT_ASSERT_OK(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/t", POND_ENTRY_FILE_TABLE, p, NULL));
    /* epochs in seconds from 10^9 on are read by magnitude */
    int64_t ts[2] = {1706702400, 1706788800};
    const char *fm2[] = {"l", "l"}, *nm2[] = {"ts", "volume"};
    const int64_t *c2[] = {ts, v};
    p = host_parquet("epoch.parquet", 2, fm2, nm2, c2, 2);
    PT_ASSERT_OK(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/e", POND_ENTRY_FILE_SERIES, p, NULL));
    int64_t lo, hi;
    last_event_range(&e, "/e", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, 1706702400LL * 1000000);
    PT_ASSERT_INT_EQ(hi, 1706788800LL * 1000000);
    /* not a Parquet file at all */
    p = host_file(0, "x.parquet", "PAR1 but not really");
    PT_ASSERT(
        pond_table_write_parquet_file(NULL, e.fs, NULL, "/x", POND_ENTRY_FILE_SERIES, p, NULL) < 0);
    PT_ASSERT_MSG_HAS("is not a valid Parquet file");
    env_close(&e);
}

/* Imports CSV text as a series with the given formats and zone; returns the rc. */
static int csv_series(env *e, const char *dest, const char *text, const char *const *formats,
                      size_t nf, const char *zone, const char *ts_col, const char *schema)
{
    /* what pond copy does: the given settings over the recorded ones */
    pond_series_settings eff;
    int rc = pond_series_settings_resolve(&eff, e->fs, NULL, dest, ts_col, zone, formats, nf);
    if (rc < 0)
        return rc;
    pond_tz *tz = NULL;
    pond_time_reader *r = NULL;
    PT_ASSERT_OK(pond_tz_open(&tz, eff.timezone));
    PT_ASSERT_OK(
        pond_time_reader_new(&r, (const char *const *)eff.time_formats, eff.n_time_formats, tz));
    pond_csv_import_options io = POND_CSV_IMPORT_OPTIONS_INIT;
    io.time_reader = r;
    io.timestamp_column = eff.timestamp_column;
    io.detect_timestamp = true;
    io.schema = schema;
    struct ArrowArrayStream s;
    rc = pond_csv_import_stream(&s, host_file(1, "in.csv", text), &io);
    if (rc == 0) {
        pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
        wo.timestamp_column = ts_col;
        wo.timezone = zone;
        wo.time_formats = formats;
        wo.n_time_formats = nf;
        rc = pond_table_write_stream(NULL, e->fs, NULL, dest, POND_ENTRY_FILE_SERIES, &s, &wo);
    }
    pond_time_reader_free(r);
    pond_tz_free(tz);
    pond_series_settings_dispose(&eff);
    return rc;
}

static void test_csv_real_lines(void)
{
    env e;
    env_open(&e);
    int64_t lo, hi;
    /* statsmodels co2.csv */
    const char *co2 = "date,co2\n19580329,316.1\n19580405,317.3\n19580412,317.6\n";
    PT_ASSERT_ERR(csv_series(&e, "/co2", co2, NULL, 0, NULL, NULL, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("in.csv: line 2, column 1 ('date'): 19580329 is not a time");
    PT_ASSERT_MSG_HAS("--time-format %Y%m%d");
    const char *f1[] = {"%Y%m%d"};
    PT_ASSERT_OK(csv_series(&e, "/co2", co2, f1, 1, NULL, NULL, NULL));
    last_event_range(&e, "/co2", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, civil(1958, 3, 29, 0, 0, 0));
    PT_ASSERT_INT_EQ(hi, civil(1958, 4, 12, 0, 0, 0));
    /* statsmodels sunspots.csv: quoted header, integer years */
    const char *sun = "\"YEAR\",\"SUNACTIVITY\"\n1700,5\n1701,11\n1702,16\n";
    PT_ASSERT_ERR(csv_series(&e, "/sun", sun, NULL, 0, NULL, NULL, "YEAR:timestamp"),
                  POND_EINVALID);
    PT_ASSERT_MSG_HAS("line 2, column 1 ('YEAR'): 1700 is not a time");
    PT_ASSERT_MSG_HAS("--time-format %Y");
    const char *fy[] = {"%Y"};
    PT_ASSERT_OK(csv_series(&e, "/sun", sun, fy, 1, NULL, NULL, NULL));
    last_event_range(&e, "/sun", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, civil(1700, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(hi, civil(1702, 1, 1, 0, 0, 0));
    /* a later append needs no flag: the recorded formats and column */
    PT_ASSERT_OK(
        csv_series(&e, "/sun", "\"YEAR\",\"SUNACTIVITY\"\n1703,23\n", NULL, 0, NULL, NULL, NULL));
    last_event_range(&e, "/sun", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, civil(1703, 1, 1, 0, 0, 0));
    /* statsmodels nile.csv: the other integer column stays an integer under %Y */
    PT_ASSERT_OK(
        csv_series(&e, "/nile", "year,volume\n1871,1120\n1872,1160\n", fy, 1, NULL, NULL, NULL));
    struct ArrowArrayStream s;
    PT_ASSERT_OK(pond_table_read_stream(&s, e.fs, NULL, "/nile", NULL));
    struct ArrowSchema sc;
    PT_ASSERT(s.get_schema(&s, &sc) == 0);
    PT_ASSERT_STR_EQ(sc.children[0]->format, "tsu:UTC");
    PT_ASSERT_STR_EQ(sc.children[1]->format, "l");
    sc.release(&sc);
    s.release(&s);
    /* vega stocks.csv: a text date column named date needs its format */
    const char *stocks = "symbol,date,price\nMSFT,Jan 1 2000,39.81\nMSFT,Feb 1 2000,36.35\n";
    PT_ASSERT_ERR(csv_series(&e, "/stocks", stocks, NULL, 0, NULL, NULL, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("line 2, column 2 ('date'): 'Jan 1 2000' is not an ISO-8601 time");
    const char *fb[] = {"%b %d %Y"};
    PT_ASSERT_OK(csv_series(&e, "/stocks", stocks, fb, 1, NULL, NULL, NULL));
    last_event_range(&e, "/stocks", &lo, &hi);
    PT_ASSERT_INT_EQ(hi, civil(2000, 2, 1, 0, 0, 0));
    /* vega seattle-weather.csv and iowa-electricity.csv: ISO dates, detected */
    PT_ASSERT_OK(csv_series(&e, "/sw",
                            "date,precipitation,temp_max,temp_min,wind,weather\n"
                            "2012-01-01,0.0,12.8,5.0,4.7,drizzle\n"
                            "2012-01-02,10.9,10.6,2.8,4.5,rain\n",
                            NULL, 0, NULL, NULL, NULL));
    PT_ASSERT_OK(csv_series(&e, "/iowa",
                            "year,source,net_generation\n2001-01-01,Fossil Fuels,35361\n"
                            "2002-01-01,Fossil Fuels,35991\n",
                            NULL, 0, NULL, NULL, NULL));
    last_event_range(&e, "/iowa", &lo, &hi);
    PT_ASSERT_INT_EQ(hi, civil(2002, 1, 1, 0, 0, 0));
    /* statsmodels danish_data: quarters */
    const char *fq[] = {"%YQ%q"};
    PT_ASSERT_OK(csv_series(&e, "/dk", "period,lrm\n1974Q1,11.63255023\n1974Q2,11.60415248\n", fq,
                            1, NULL, NULL, NULL));
    last_event_range(&e, "/dk", &lo, &hi);
    PT_ASSERT_INT_EQ(hi, civil(1974, 4, 1, 0, 0, 0));
    /* vega github.csv: local date-times with no zone, read in a zone */
    const char *fg[] = {"%Y/%m/%d %H:%M:%S"};
    PT_ASSERT_OK(csv_series(&e, "/gh", "time,count\n2015/01/01 01:00:00,2\n2015/01/01 04:00:00,3\n",
                            fg, 1, "America/Los_Angeles", NULL, NULL));
    last_event_range(&e, "/gh", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, civil(2015, 1, 1, 9, 0, 0));
    /* a local time in the DST gap is an error naming file, line and column */
    PT_ASSERT_ERR(csv_series(&e, "/gap",
                             "date,pressure\n2010-03-14T01:00:00,1016.6\n"
                             "2010-03-14T02:00:00,1016.5\n",
                             NULL, 0, "America/Los_Angeles", NULL, NULL),
                  POND_EINVALID);
    PT_ASSERT_MSG_HAS("in.csv: line 3, column 1 ('date'): '2010-03-14T02:00:00': does not exist "
                      "in America/Los_Angeles");
    /* 19-Sep-03, and a value that fits no format later in the file */
    const char *fd[] = {"%d-%b-%y"};
    PT_ASSERT_ERR(csv_series(&e, "/dmy", "date,v\n19-Sep-03,1\n20-Sep-03,2\n21-Sept-2003,3\n", fd,
                             1, NULL, NULL, NULL),
                  POND_EINVALID);
    PT_ASSERT_MSG_HAS("line 4, column 1 ('date'): '21-Sept-2003' is not a time: expected ISO-8601");
    PT_ASSERT_MSG_HAS("--time-format '%d-%b-%y'");
    PT_ASSERT_OK(
        csv_series(&e, "/dmy", "date,v\n19-Sep-03,1\n20-Sep-03,2\n", fd, 1, NULL, NULL, NULL));
    last_event_range(&e, "/dmy", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, civil(2003, 9, 19, 0, 0, 0));
    env_close(&e);
}

static void test_csv_detection(void)
{
    env e;
    env_open(&e);
    /* two timestamp columns: the one named like a time */
    PT_ASSERT_OK(csv_series(&e, "/a", "created,date,v\n2020-01-01,2024-01-01,1\n", NULL, 0, NULL,
                            NULL, NULL));
    pond_series_settings set;
    PT_ASSERT_OK(pond_series_settings_get(&set, e.fs, NULL, "/a"));
    PT_ASSERT_STR_EQ(set.timestamp_column, "date");
    pond_series_settings_dispose(&set);
    /* two timestamp columns, neither named: ask */
    PT_ASSERT_ERR(
        csv_series(&e, "/b", "created,updated\n2020-01-01,2024-01-01\n", NULL, 0, NULL, NULL, NULL),
        POND_EINVALID);
    PT_ASSERT_MSG_HAS("several columns could be the timestamp ('created', 'updated')");
    /* a small-integer column named time is not picked over a real timestamp */
    PT_ASSERT_OK(csv_series(&e, "/c", "time,when\n1,2024-01-01T00:00:00Z\n2,2024-01-02T00:00:00Z\n",
                            NULL, 0, NULL, NULL, NULL));
    PT_ASSERT_OK(pond_series_settings_get(&set, e.fs, NULL, "/c"));
    PT_ASSERT_STR_EQ(set.timestamp_column, "when");
    pond_series_settings_dispose(&set);
    /* epoch seconds by magnitude in a column named ts */
    int64_t lo, hi;
    PT_ASSERT_OK(
        csv_series(&e, "/d", "ts,v\n1706702400,1\n1706702460,2\n", NULL, 0, NULL, NULL, NULL));
    last_event_range(&e, "/d", &lo, &hi);
    PT_ASSERT_INT_EQ(hi, 1706702460LL * 1000000);
    /* the given timestamp column must exist */
    PT_ASSERT_ERR(csv_series(&e, "/e", "a,b\n1,2\n", NULL, 0, NULL, "when", NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("no column 'when'");
    /* an epoch beside small integers in the picked column: the small one fails on its line */
    PT_ASSERT_ERR(csv_series(&e, "/f", "time,v\n1706702400,1\n17,2\n", NULL, 0, NULL, NULL, NULL),
                  POND_EINVALID);
    PT_ASSERT_MSG_HAS("line 3, column 1 ('time'): 17 is not a time");
    env_close(&e);
}

/* pond_event_time: a row's event time as a range read computes it, and the versions a range
 * read opens (export partitions with these). */
static void test_event_time_api(void)
{
    env e;
    env_open(&e);
    int64_t t[3] = {civil(2024, 1, 31, 23, 30, 0), INT64_MIN, civil(2024, 7, 1, 12, 0, 0)};
    int64_t v[3] = {1, 2, 3};
    const char *fm[] = {"tsu:", "l"}, *nm[] = {"when", "v"};
    const int64_t *cols[] = {t, v};
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.timezone = "Europe/Berlin";
    PT_ASSERT_OK(pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES,
                                               host_parquet("et.parquet", 2, fm, nm, cols, 3),
                                               &wo));
    pond_event_time *et;
    PT_ASSERT_OK(pond_event_time_open(&et, e.fs, NULL, "/s"));
    PT_ASSERT_STR_EQ(pond_event_time_column(et), "when");
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    struct ArrowArray b;
    PT_ASSERT_OK(pond_table_read_stream(&st, e.fs, NULL, "/s", NULL));
    PT_ASSERT(st.get_schema(&st, &sc) == 0);
    PT_ASSERT_OK(pond_event_time_bind(et, &sc));
    PT_ASSERT(st.get_next(&st, &b) == 0 && b.release);
    int64_t us;
    PT_ASSERT(pond_event_time_of_row(&us, et, &b, 0));
    PT_ASSERT_INT_EQ(us, civil(2024, 1, 31, 22, 30, 0)); /* CET: UTC+1 */
    PT_ASSERT(!pond_event_time_of_row(&us, et, &b, 1));  /* null */
    b.offset = 2;                                        /* a sliced batch: its offset is applied */
    PT_ASSERT(pond_event_time_of_row(&us, et, &b, 0));
    PT_ASSERT_INT_EQ(us, civil(2024, 7, 1, 10, 0, 0)); /* CEST: UTC+2 */
    b.offset = 0;
    b.release(&b);
    st.release(&st);
    /* a schema without the column; a column that holds no time */
    pond_arrow_schema_release(sc.children[0]);
    PT_ASSERT_OK(pond_arrow_schema_init(sc.children[0], "u", "other", 0, 0));
    PT_ASSERT_ERR(pond_event_time_bind(et, &sc), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("'when'");
    pond_arrow_schema_release(sc.children[0]);
    PT_ASSERT_OK(pond_arrow_schema_init(sc.children[0], "u", "when", 0, 0));
    PT_ASSERT_ERR(pond_event_time_bind(et, &sc), POND_EINVALID);
    sc.release(&sc);
    pond_event_time_free(et);
    /* the range test of version skipping: [from, to) against the recorded min/max */
    pond_stat *vs = NULL;
    size_t nv = 0;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e.fs, NULL, "/s"));
    PT_ASSERT(nv == 1 && vs[0].has_event_time);
    int64_t lo = vs[0].min_event_time_us, hi = vs[0].max_event_time_us;
    PT_ASSERT(pond_series_version_in_range(&vs[0], lo, lo + 1));
    PT_ASSERT(pond_series_version_in_range(&vs[0], hi, hi + 1));
    PT_ASSERT(!pond_series_version_in_range(&vs[0], hi + 1, INT64_MAX));
    PT_ASSERT(!pond_series_version_in_range(&vs[0], INT64_MIN, lo));
    vs[0].has_event_time = false; /* no recorded range: always read */
    PT_ASSERT(pond_series_version_in_range(&vs[0], hi + 1, INT64_MAX));
    pond_free(vs);
    /* a table has no event time */
    PT_ASSERT_OK(pond_table_write_parquet_file(NULL, e.fs, NULL, "/t", POND_ENTRY_FILE_TABLE,
                                               host_parquet("et.parquet", 2, fm, nm, cols, 3),
                                               NULL));
    PT_ASSERT_OK(pond_event_time_open(&et, e.fs, NULL, "/t"));
    PT_ASSERT(pond_event_time_column(et) == NULL);
    pond_event_time_free(et);
    env_close(&e);
}

/* A host file changed while it is copied in (issue 15's re-import review): the bytes stored must
 * be the bytes checked and indexed. The shim below replaces or grows the file right after the
 * import opened it. */
static struct {
    char path[4200], other[4200];
    int mode; /* 1: rename other over path after the first open; 2: append at the first pread */
    bool fired;
} host_change;

static int changing_open(const char *path, int flags, mode_t mode)
{
    int fd = pond_os_real()->open(path, flags, mode);
    if (fd >= 0 && host_change.mode == 1 && !host_change.fired && !strcmp(path, host_change.path)) {
        host_change.fired = true;
        PT_ASSERT(pond_os_real()->rename(host_change.other, host_change.path) == 0);
    }
    return fd;
}

static ssize_t changing_pread(int fd, void *buf, size_t n, off_t off)
{
    if (host_change.mode == 2 && !host_change.fired) {
        host_change.fired = true;
        FILE *f = fopen(host_change.path, "ab");
        PT_ASSERT(f != NULL);
        fputs("appended by another program", f);
        fclose(f);
    }
    return pond_os_real()->pread(fd, buf, n, off);
}

static char *file_bytes(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    PT_ASSERT(f != NULL);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)*len);
    PT_ASSERT(b && fread(b, 1, (size_t)*len, f) == (size_t)*len);
    fclose(f);
    return b;
}

static void test_host_file_replaced_during_import(void)
{
    env e;
    env_open(&e);
    int64_t t[6], v[6];
    for (int i = 0; i < 6; i++) {
        t[i] = civil(2024, 1, 1 + i, 0, 0, 0);
        v[i] = i;
    }
    const char *fm[] = {"l", "tsu:UTC"}, *nm[] = {"v", "ts"};
    const int64_t *cols[] = {v, t};
    snprintf(host_change.path, sizeof host_change.path, "%s",
             host_parquet("jan.parquet", 2, fm, nm, cols, 4));
    for (int i = 0; i < 6; i++)
        t[i] = civil(2024, 3, 1 + i, 0, 0, 0);
    snprintf(host_change.other, sizeof host_change.other, "%s",
             host_parquet("mar.parquet", 2, fm, nm, cols, 6));
    long jan_len;
    char *jan = file_bytes(host_change.path, &jan_len);
    pond_os shim = *pond_os_real();
    shim.open = changing_open;
    host_change.mode = 1;
    host_change.fired = false;
    pond_os_set(&shim);
    int rc = pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES,
                                           host_change.path, NULL);
    pond_os_set(NULL);
    PT_ASSERT_OK(rc);
    PT_ASSERT(host_change.fired);
    /* what was indexed (January, 4 rows) is what was stored: January's bytes */
    int64_t lo, hi;
    last_event_range(&e, "/s", &lo, &hi);
    PT_ASSERT_INT_EQ(lo, civil(2024, 1, 1, 0, 0, 0));
    PT_ASSERT_INT_EQ(hi, civil(2024, 1, 4, 0, 0, 0));
    pond_reader *r;
    PT_ASSERT_OK(pond_fs_open_reader(&r, e.fs, NULL, "/s"));
    PT_ASSERT_INT_EQ(pond_reader_size(r), jan_len);
    char *got = malloc((size_t)jan_len);
    size_t n = 0;
    PT_ASSERT_OK(pond_reader_pread(r, got, (size_t)jan_len, 0, &n));
    PT_ASSERT_INT_EQ((int64_t)n, jan_len);
    PT_ASSERT(memcmp(got, jan, (size_t)jan_len) == 0);
    PT_ASSERT_INT_EQ(count_range(&e, "/s", INT64_MIN, INT64_MAX, NULL), 4);
    pond_reader_free(r);
    free(got);
    free(jan);
    env_close(&e);
}

static void test_host_file_grows_during_import(void)
{
    env e;
    env_open(&e);
    int64_t t[4], v[4];
    for (int i = 0; i < 4; i++) {
        t[i] = civil(2024, 1, 1 + i, 0, 0, 0);
        v[i] = i;
    }
    const char *fm[] = {"l", "tsu:UTC"}, *nm[] = {"v", "ts"};
    const int64_t *cols[] = {v, t};
    snprintf(host_change.path, sizeof host_change.path, "%s",
             host_parquet("grow.parquet", 2, fm, nm, cols, 4));
    pond_os shim = *pond_os_real();
    shim.pread = changing_pread;
    host_change.mode = 2;
    host_change.fired = false;
    pond_os_set(&shim);
    int rc = pond_table_write_parquet_file(NULL, e.fs, NULL, "/s", POND_ENTRY_FILE_SERIES,
                                           host_change.path, NULL);
    pond_os_set(NULL);
    PT_ASSERT(host_change.fired);
    PT_ASSERT_ERR(rc, POND_ECONFLICT);
    PT_ASSERT(strstr(pond_error_last()->message, "grow.parquet") != NULL);
    PT_ASSERT(strstr(pond_error_last()->message, "changed while") != NULL);
    /* nothing stored: the series does not exist */
    pond_stat st;
    PT_ASSERT_ERR(pond_fs_stat(&st, e.fs, NULL, "/s"), POND_ENOTFOUND);
    env_close(&e);
}

PT_SUITE(table_time, PT_TEST(parquet_series_detects_and_prunes),
         PT_TEST(parquet_series_column_choice), PT_TEST(parquet_wall_clock_in_zone),
         PT_TEST(parquet_small_integers_refused), PT_TEST(csv_real_lines), PT_TEST(csv_detection),
         PT_TEST(event_time_api), PT_TEST(host_file_replaced_during_import),
         PT_TEST(host_file_grows_during_import))
