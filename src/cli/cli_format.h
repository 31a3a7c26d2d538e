/* Text output of rows: CSV, JSON lines and aligned tables. Every command that prints rows
 * (cat, query, cat --sql, copy --format csv|json) goes through cli_rows, so a value prints the
 * same everywhere and re-imports to the same type and value (docs/cli.md, "Output"). */
#ifndef POND_CLI_FORMAT_H
#define POND_CLI_FORMAT_H

#include <pond/arrow.h>
#include <pond/buf.h>
#include <pond/table.h>
#include <pond/timefmt.h>
#include <pond/tinyfs.h>

#include <stdbool.h>
#include <stdio.h>

typedef enum { FMT_CSV, FMT_JSON, FMT_TABLE } cli_fmt;

/* A writer of rows in one format. Cells are given row by row, left to right; the row ends
 * with its last column. CSV prints the header even when no row follows, JSON prints one
 * object per row and nothing for no rows, a table prints its header, the rows and "(N rows)".
 * A table sizes its columns on the first 1,000 rows (memory stays bounded), right-aligns
 * columns whose cells are all numbers and cuts cells wider than 40 characters with '~'. */
typedef struct {
    FILE *f;
    cli_fmt fmt;
    size_t nc;
    char **names;
    pond_buf out;  /* pending output, flushed in 64 KiB pieces */
    int64_t bytes; /* written to f so far */
    pond_buf cell; /* scratch for one cell's text */
    size_t col;    /* next column of the current row */
    int64_t rows;
    /* table mode */
    size_t *width;
    unsigned char *kinds; /* per column: bit 1 = a number seen, bit 2 = other text seen */
    char **cells;         /* the sizing rows: cell text, kind in the first byte */
    size_t n_cells, cap_cells;
    bool sized;
} cli_rows;

/* names: ncols column names (copied). Returns 0 or a pond error (out of memory). */
int cli_rows_begin(cli_rows *w, FILE *f, cli_fmt fmt, size_t ncols, const char *const *names);
int cli_rows_null(cli_rows *w);
int cli_rows_int(cli_rows *w, int64_t v);
int cli_rows_uint(cli_rows *w, uint64_t v);
int cli_rows_double(cli_rows *w, double v);
int cli_rows_float(cli_rows *w, float v);
int cli_rows_bool(cli_rows *w, bool v);
/* Text the user stored: JSON string, CSV-quoted when needed, control characters escaped in
 * a table. */
int cli_rows_string(cli_rows *w, const char *s, size_t n);
/* pond's text for a typed value (a time, a date, hex): a JSON string, CSV-quoted only when
 * CSV needs it. */
int cli_rows_text(cli_rows *w, const char *s, size_t n);
/* A number already formatted (decimal text): bare in JSON and CSV, right-aligned. */
int cli_rows_number_text(cli_rows *w, const char *s, size_t n);
/* JSON text (nested values): raw in JSON, a string in CSV and tables. */
int cli_rows_json(cli_rows *w, const char *s, size_t n);
/* Flushes everything (the table footer too); *rows_out (may be NULL) gets the row count. */
int cli_rows_end(cli_rows *w, int64_t *rows_out);
void cli_rows_dispose(cli_rows *w);

/* Shortest text that reads back as the same double, always with a '.' or an exponent
 * ("5.0", "0.1", "1e+300", "-0.0"); NaN, Infinity, -Infinity. out needs 40 bytes. */
size_t cli_format_double(char out[40], double d);
/* The same for a float: the shortest text that reads back as the same float ("0.1"). */
size_t cli_format_float(char out[40], float f);
/* A timestamp value of the given unit: ISO-8601 UTC ("2024-01-31T12:00:00Z", fraction
 * digits only when needed, nine for nanoseconds), or with a display zone set (below) local
 * time there with its offset ("2024-01-31T13:00:00+01:00"); without a time zone the value is
 * a wall-clock time, printed as it is without a Z. out needs 48 bytes. */
size_t cli_format_timestamp(char out[48], int64_t v, pond_arrow_unit unit, bool has_tz);
/* The zone instants (timestamps with a zone) print in, for every row written after (cat,
 * query, cat --sql --timezone); NULL: UTC with Z. Borrowed until reset with NULL. */
void cli_format_set_timezone(const pond_tz *tz);
/* CLI_OPT_FN for --timezone: opens the IANA zone value into *(pond_tz **)dest, freeing the
 * zone a repeated option gave; the caller frees the last one (pond_tz_free). */
int cli_parse_timezone(void *dest, const char *value);

/* Writes a stream in the format; rows_out and bytes_out may be NULL. The stream is not
 * released. */
int cli_write_stream(FILE *f, struct ArrowArrayStream *st, cli_fmt fmt, int64_t *rows_out,
                     int64_t *bytes_out);

/* Where cli_table_write writes: a file descriptor, its name for messages, the bytes written. */
typedef struct {
    int fd;
    const char *name;
    int64_t written;
} cli_sink;

typedef struct {
    int64_t rows, versions, bytes;
} cli_table_out;

/* Writes the table or series at node, read with ro, to sink in format "parquet", "csv",
 * "json", "table" (or NULL: table on a terminal, else CSV). Parquet is one file: the stored
 * bytes when the read is exactly one stored version, unprojected, unranged and not under a
 * dedup rule; otherwise the rows encoded anew (a series of several versions, a range, a
 * projection, dedup). `pond cat` and `pond copy` both write through here, so they give the
 * same bytes. */
int cli_table_write(cli_table_out *res, cli_sink *sink, pond_fs_node *node,
                    const pond_table_read_options *ro, const char *format);


/* "csv"/"json"/"table" -> the format; NULL -> table on a terminal, CSV otherwise. */
cli_fmt cli_fmt_of(const char *name);

#endif
