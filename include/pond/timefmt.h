/* pond: event-time parsing and formatting. pond's time unit is microseconds since the Unix
 * epoch, UTC (DESIGN.md). */
#ifndef POND_TIMEFMT_H
#define POND_TIMEFMT_H

#include "common.h"

/** Parses an ISO-8601 / RFC 3339 timestamp into microseconds since the epoch (UTC):
 *  `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `...:SS`, `...:SS.f` (1-9 fraction digits; digits past
 *  microseconds are dropped), with `T` or one
 *  space between date and time, and an optional zone `Z`, `+HH`, `+HH:MM` or `+HHMM`
 *  (likewise `-`). A timestamp without a zone is taken as UTC. Years 0001-9999.
 *  Returns 0, or POND_EINVALID with a message quoting the text. */
POND_API int pond_time_parse_iso(int64_t *us_out, const char *s, size_t len);

/** Accepts what pond_time_parse_iso accepts, or an integer epoch value with an optional unit
 *  suffix: `1700000000s`, `1700000000000ms`, `1700000000000000us`, `...ns`; a bare integer is
 *  read by magnitude (|v| < 1e11: seconds; < 1e14: milliseconds; < 1e17: microseconds; else
 *  nanoseconds). Used for --from/--to on the command line. */
POND_API int pond_time_parse(int64_t *us_out, const char *s, size_t len);

/** Converts an integer epoch value of unknown unit by the magnitude rule above. */
POND_API int64_t pond_time_epoch_guess_us(int64_t v);

/** Formats as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (fraction only when non-zero, trimmed to 3 or 6
 *  digits). out must hold 40 bytes. Returns the length. */
POND_API size_t pond_time_format_iso(char out[40], int64_t us);

/** Days since 1970-01-01 for a proleptic Gregorian date (no validation). */
POND_API int64_t pond_days_from_civil(int64_t y, unsigned m, unsigned d);
/** The proleptic Gregorian date of a day count since 1970-01-01 (the inverse). */
POND_API void pond_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
