/* pond: the time model. pond's time unit is microseconds since the Unix epoch, UTC (DESIGN.md).
 * Every layer reads and writes times through this header; the rules are in docs/time.md. */
#ifndef POND_TIMEFMT_H
#define POND_TIMEFMT_H

#include "common.h"

/* ---- time zones ------------------------------------------------------------------------------ */

/** A time zone: UTC, or an IANA zone read from the system tz database (TZif files under
 *  $TZDIR, default /usr/share/zoneinfo). Immutable once opened: share it between threads. */
typedef struct pond_tz pond_tz;

/** Opens the zone named `name` ("UTC", "Europe/Berlin", "America/New_York"; "UTC", "Etc/UTC"
 *  and "Z" need no file). A name that is not a zone of the database is POND_ENOTFOUND, a name
 *  that cannot be one (empty, "..", a leading '/', odd characters) POND_EINVALID, a damaged
 *  zone file POND_ECORRUPT; each message names the zone. */
POND_API int pond_tz_open(pond_tz **out, const char *name);
/** The same from the bytes of a TZif file (RFC 8536, versions 1 to 4; leap-second zones are
 *  refused). data is only read. Used by pond_tz_open and the fuzz target. */
POND_API int pond_tz_from_tzif(pond_tz **out, const char *name, const void *data, size_t len);
/** NULL is fine. */
POND_API void pond_tz_free(pond_tz *tz);
/** The zone's name as opened ("UTC" for NULL). Valid while tz lives. */
POND_API const char *pond_tz_name(const pond_tz *tz);
/** True for NULL and for a zone that is always UTC+0 without daylight saving time. */
POND_API bool pond_tz_is_utc(const pond_tz *tz);
/** Seconds east of UTC in effect at the instant utc_s (seconds since the epoch). NULL: 0. */
POND_API int32_t pond_tz_offset(const pond_tz *tz, int64_t utc_s);
/** The instant of a local wall-clock time (local_s: seconds since 1970-01-01T00:00 local, as
 *  if it were UTC). A local time the clocks skip (a spring-forward gap) or show twice (a
 *  fall-back overlap) is POND_EINVALID with a message saying which and the zone's offsets;
 *  *utc_s_out is set even then, for readers of values checked when they were written: the
 *  earlier instant of an overlap, a gap's time read with the offset before the gap. */
POND_API int pond_tz_to_utc(int64_t *utc_s_out, const pond_tz *tz, int64_t local_s);

/* ---- parsing --------------------------------------------------------------------------------- */

/** Parses an ISO-8601 / RFC 3339 timestamp into microseconds since the epoch (UTC):
 *  `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `...:SS`, `...:SS.f` (1-9 fraction digits; digits past
 *  microseconds are dropped), with `T` or one space between date and time, and an optional
 *  zone `Z`, `+HH`, `+HH:MM` or `+HHMM` (likewise `-`). A timestamp without a zone is taken as
 *  UTC. Years 0001-9999. Returns 0, or POND_EINVALID with a message quoting the text. */
POND_API int pond_time_parse_iso(int64_t *us_out, const char *s, size_t len);
/** The same, with `YYYY-MM` also accepted (the first of the month) and a value without a zone
 *  read as local time in tz (NULL: UTC), which may fail as pond_tz_to_utc does. */
POND_API int pond_time_parse_iso_tz(int64_t *us_out, const char *s, size_t len, const pond_tz *tz);

/** The command-line forms of a point in time (--from/--to, SQL us()): `YYYY`, `YYYY-MM`,
 *  `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.f]]` with an optional zone, or an integer epoch with a
 *  unit: `1706702400s`, `...ms`, `...us`, `...ns`. A form without a zone is local time in tz
 *  (NULL: UTC). An integer without a unit (other than a four-digit year) is refused: its unit
 *  cannot be known. */
POND_API int pond_time_parse_arg(int64_t *us_out, const char *s, size_t len, const pond_tz *tz);
/** pond_time_parse_arg in UTC. */
POND_API int pond_time_parse(int64_t *us_out, const char *s, size_t len);

/** Integers below this are never read as epoch times by magnitude (2001-09-09T01:46:40Z in
 *  seconds): 1880 or 19580329 are years and dates, not 1970. */
#define POND_TIME_EPOCH_MIN 1000000000LL
/** An integer in a timestamp column as an epoch time by magnitude: v >= 10^9 and < 10^11
 *  seconds, < 10^14 milliseconds, < 10^17 microseconds, else nanoseconds. A smaller value
 *  (or a negative one) is POND_EINVALID with a message pointing at --time-format %Y, %Y%m%d
 *  and %s. */
POND_API int pond_time_epoch_magnitude(int64_t *us_out, int64_t v);
/** How integer event times written before the magnitude rule are read back (no lower bound:
 *  |v| < 1e11 seconds, < 1e14 ms, < 1e17 µs, else ns). Reading only; writers use the above. */
POND_API int64_t pond_time_epoch_guess_us(int64_t v);

/** A compiled set of strptime-style formats (--time-format) with a zone for values that carry
 *  none. Directives: %Y %m %d %e %H %I %M %S %f %p %y %b %B %h %a %A %j %q %s %z %T %F %R %%
 *  and whitespace (docs/time.md). Immutable once made; the tz is borrowed and must outlive it. */
typedef struct pond_time_reader pond_time_reader;
/** formats may be NULL when n == 0 (then only ISO-8601 and epochs are read). A format with an
 *  unknown directive, one that names no year (and is not %s), or mixes fields that conflict is
 *  POND_EINVALID naming the format. */
POND_API int pond_time_reader_new(pond_time_reader **out, const char *const *formats, size_t n,
                                  const pond_tz *tz);
POND_API void pond_time_reader_free(pond_time_reader *r);
/** Flags of pond_time_reader_parse. */
#define POND_TIME_NO_EPOCH 1u   /* do not read a bare integer as an epoch by magnitude */
#define POND_TIME_NO_FORMATS 2u /* formats are not tried on a value that is a bare integer */
#define POND_TIME_SYNTAX                                                                           \
    4u /* succeed (*us_out unset) when the value has the form of ISO-8601
                                   or a format, even if a field is out of range or the local
                                   time does not exist: for type inference */
/** Reads one value: ISO-8601 (as pond_time_parse_iso_tz), else the first format that matches
 *  all of it, else an integer by magnitude. Errors are POND_EINVALID with a message quoting
 *  the value and saying what was expected (the caller adds file, line and column). */
POND_API int pond_time_reader_parse(int64_t *us_out, const pond_time_reader *r, const char *s,
                                    size_t len, unsigned flags);
/** True when the reader has at least one --time-format. */
POND_API bool pond_time_reader_has_formats(const pond_time_reader *r);
/** The zone values without one are read in (borrowed; NULL means UTC). */
POND_API const pond_tz *pond_time_reader_tz(const pond_time_reader *r);

/* ---- formatting ------------------------------------------------------------------------------ */

/** Formats as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (fraction only when non-zero, trimmed to 3 or 6
 *  digits). out must hold 40 bytes. Returns the length. */
POND_API size_t pond_time_format_iso(char out[40], int64_t us);
/** The same in a zone: local time with its offset (`2024-03-31T03:00:00+02:00`); UTC (or
 *  NULL) gives the `Z` form above. out must hold 40 bytes. */
POND_API size_t pond_time_format_iso_tz(char out[40], int64_t us, const pond_tz *tz);

/** Days since 1970-01-01 for a proleptic Gregorian date (no validation). */
POND_API int64_t pond_days_from_civil(int64_t y, unsigned m, unsigned d);
/** The proleptic Gregorian date of a day count since 1970-01-01 (the inverse). */
POND_API void pond_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
