/* Shared between the time files of src/util (timefmt.c, timeread.c); not installed. */
#ifndef POND_UTIL_TIME_INTERNAL_H
#define POND_UTIL_TIME_INTERNAL_H

#include "util/util.h"
#include <pond/timefmt.h>

/* Days in month m (1-12) of year y. */
unsigned pond__days_in_month(int64_t y, unsigned m);
/* The instant of local seconds local_s plus frac_us: with has_zone, local_s - offset_s; else
 * local_s read in tz. A skipped or doubled local time is POND_EINVALID quoting s. */
int pond__time_compose(int64_t *us_out, int64_t local_s, int64_t frac_us, bool has_zone,
                       int64_t offset_s, const pond_tz *tz, const char *s, size_t len);
/* [+-]digits at the start of s: POND_ENOTFOUND (no message) when there are no digits,
 * POND_EINVALID when out of range; *end_out is the index after the digits. */
int pond__time_parse_int(int64_t *v_out, const char *s, size_t len, size_t *end_out);

/* pond_time_parse_iso_tz, telling apart a value that is not ISO-8601 (*parsed false) from
 * one that is but names a local time the zone skips or shows twice (*parsed true). */
int pond__time_parse_iso_local(int64_t *us_out, const char *s, size_t len, const pond_tz *tz,
                               bool *parsed);

/* pond__time_parse_iso_local keeping memo (NULL: none; util.h): exactly its result. */
int pond__time_parse_iso_memo(int64_t *us_out, const char *s, size_t len, const pond_tz *tz,
                              pond__time_memo *memo, bool *parsed);

/* pond_time_parse_iso without its fast path for the common fixed shape: the reference the
 * tests hold the fast path to. */
int pond__time_parse_iso_general(int64_t *us_out, const char *s, size_t len);

#endif
