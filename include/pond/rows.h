/* pond: rows as text (CSV, JSON lines, aligned tables), and a table or series written out in a
 * format. Every front end that prints rows goes through here (`pond cat`, `pond query`, `pond
 * copy --format csv|json`, `pond serve`'s read and query), so a value prints the same
 * everywhere and re-imports to the same type and value (docs/cli.md, "Output").
 *
 * Output goes to a sink callback (a file descriptor, a buffer, an HTTP response); a sink error
 * stops the writer and is returned as it is. Nothing here touches process-wide state: the
 * display zone is a parameter, so writers on several threads are independent. */
#ifndef POND_ROWS_H
#define POND_ROWS_H

#include "arrow.h"
#include "common.h"
#include "table.h"
#include "timefmt.h"
#include "tinyfs.h"

typedef enum {
    POND_ROWS_CSV = 0, /* header row, then one line per row; RFC 4180 quoting */
    POND_ROWS_JSON,    /* one object per line, keys in column order; nothing for no rows */
    POND_ROWS_TABLE,   /* aligned text: header, rule, rows, "(N rows)" */
} pond_rows_format;

/** Where text goes: all of data or an error (a negative pond code, message set). */
typedef int (*pond_rows_sink_fn)(const void *data, size_t len, void *payload);

typedef struct pond_rows pond_rows;

/** A writer of ncols columns named names (copied) in format fmt. tz (borrowed, may be NULL):
 *  the zone timestamps with a zone print in (local time with its offset); NULL prints UTC
 *  with Z. CSV writes its header at once (an empty result keeps its shape). Cells come row by
 *  row, left to right. A table sizes its columns on the first 1,000 rows (memory stays
 *  bounded), right-aligns columns of numbers and cuts text wider than 40 columns with '~'.
 *  Output is handed to sink in pieces of about 64 KiB. */
POND_API int pond_rows_new(pond_rows **out, pond_rows_format fmt, size_t ncols,
                           const char *const *names, const pond_tz *tz, pond_rows_sink_fn sink,
                           void *payload);
POND_API int pond_rows_null(pond_rows *w);
POND_API int pond_rows_int(pond_rows *w, int64_t v);
POND_API int pond_rows_uint(pond_rows *w, uint64_t v);
POND_API int pond_rows_double(pond_rows *w, double v);
POND_API int pond_rows_float(pond_rows *w, float v);
POND_API int pond_rows_bool(pond_rows *w, bool v);
/** Text the user stored: a JSON string, CSV-quoted when needed, control characters escaped
 *  in a table. */
POND_API int pond_rows_string(pond_rows *w, const char *s, size_t n);
/** pond's text for a typed value (a time, a date, hex): a JSON string, CSV-quoted only when
 *  CSV needs it. */
POND_API int pond_rows_text(pond_rows *w, const char *s, size_t n);
/** A number already formatted (decimal text): bare in JSON and CSV, right-aligned. */
POND_API int pond_rows_number_text(pond_rows *w, const char *s, size_t n);
/** JSON text (nested values): raw in JSON, a string in CSV and tables. */
POND_API int pond_rows_json(pond_rows *w, const char *s, size_t n);
/** A timestamp of the given unit, as pond_format_timestamp prints it with the writer's zone. */
POND_API int pond_rows_timestamp(pond_rows *w, int64_t v, pond_arrow_unit unit, bool has_tz);
/** Hands everything to the sink (a table's footer too); rows_out (may be NULL): the rows. */
POND_API int pond_rows_end(pond_rows *w, int64_t *rows_out);
/** Bytes handed to the sink so far. */
POND_API int64_t pond_rows_bytes(const pond_rows *w);
/** NULL is fine. Unflushed output is dropped. */
POND_API void pond_rows_free(pond_rows *w);

/** Writes every batch of st as rows; rows_out and bytes_out may be NULL. st is consumed
 *  (released on success and on failure: docs/api.md, "Streams"). A stream error is POND_EIO
 *  with the stream's message. */
POND_API int pond_rows_write_stream(int64_t *rows_out, int64_t *bytes_out,
                                    struct ArrowArrayStream *st, pond_rows_format fmt,
                                    const pond_tz *tz, pond_rows_sink_fn sink, void *payload);

/** Shortest text that reads back as the same double, always with a '.' or an exponent
 *  ("5.0", "0.1", "1e+300", "-0.0"); NaN, Infinity, -Infinity. Returns the length. */
POND_API size_t pond_format_double(char out[40], double d);
/** The same for a float: the shortest text that reads back as the same float ("0.1"). */
POND_API size_t pond_format_float(char out[40], float f);
/** A timestamp value of the given unit: ISO-8601 UTC ("2024-01-31T12:00:00Z", fraction digits
 *  only when needed, nine for nanoseconds), or, with tz not UTC, local time there with its
 *  offset ("2024-01-31T13:00:00+01:00"); without a time zone (has_tz false) the value is a
 *  wall-clock time, printed as it is without a Z. A value beyond the calendar prints as its
 *  epoch with the unit ("9223372036854775807s"). out needs 48 bytes. */
POND_API size_t pond_format_timestamp(char out[48], int64_t v, pond_arrow_unit unit, bool has_tz,
                                      const pond_tz *tz);

/** A size for people: "512 B", "1.5 MiB" (powers of 1024, one decimal). out needs 32 bytes. */
POND_API void pond_format_size(char out[32], int64_t n);
/** A time to the second, always 20 characters ("2024-01-31T12:00:00Z", rounded down): for
 *  listings that line up. out needs 40 bytes. */
POND_API size_t pond_format_time_seconds(char out[40], int64_t us);

/* ---- a table or series written out ------------------------------------------------------- */

typedef enum {
    POND_OUTPUT_CSV = POND_ROWS_CSV,
    POND_OUTPUT_JSON = POND_ROWS_JSON,
    POND_OUTPUT_TABLE = POND_ROWS_TABLE,
    POND_OUTPUT_PARQUET, /* one Parquet file */
} pond_output_format;

typedef struct {
    int64_t rows;     /* rows written */
    int64_t versions; /* stored versions the read covered */
    int64_t bytes;    /* bytes handed to the sink */
} pond_output_result;

/** Writes every batch of st in fmt: rows as pond_rows_write_stream, or Parquet as one file
 *  encoded anew (zstd). st is consumed, also on failure. res->versions is left 0. */
POND_API int pond_stream_output(pond_output_result *res, struct ArrowArrayStream *st,
                                pond_output_format fmt, const pond_tz *tz, pond_rows_sink_fn sink,
                                void *payload);

/** Writes the table or series at path, read with ro (range, columns, version, dedup), to sink
 *  in fmt. A series is read as pond_table_read_stream reads it: versions a compaction replaced
 *  skipped, its dedup setting (or ro's) applied. Parquet is one file: the stored bytes
 *  (verified as read, the footer checked first) when the read is exactly one stored version,
 *  unprojected, unranged and not under a dedup rule; otherwise the rows encoded anew with
 *  zstd (a series of several versions, a range, a projection, dedup). `pond cat`,
 *  `pond copy` and `pond serve` all write through here, so they give the same bytes for the
 *  same arguments. tz as for pond_rows_new (text formats only). */
POND_API int pond_table_output(pond_output_result *res, pond_fs *fs, const pond_wd *wd,
                               const char *path, const pond_table_read_options *ro,
                               pond_output_format fmt, const pond_tz *tz, pond_rows_sink_fn sink,
                               void *payload);
/** The same through a node handle (`pond cat` and `pond copy` hold one). */
POND_API int pond_table_node_output(pond_output_result *res, pond_fs_node *node,
                                    const pond_table_read_options *ro, pond_output_format fmt,
                                    const pond_tz *tz, pond_rows_sink_fn sink, void *payload);

#endif
