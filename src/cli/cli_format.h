/* Text output of record batches: CSV, JSON lines and aligned tables. */
#ifndef POND_CLI_FORMAT_H
#define POND_CLI_FORMAT_H

#include <pond/arrow.h>
#include <pond/buf.h>
#include <pond/timefmt.h>

#include <stdio.h>

typedef enum { FMT_CSV, FMT_JSON, FMT_TABLE } cli_fmt;

/* Timestamps with a zone (instants) print as local time with their offset in tz instead of
 * UTC with Z (NULL: UTC). Borrowed until reset with NULL. */
void cli_format_set_timezone(const pond_tz *tz);

/* Appends the text of row i of column array a (with schema s). */
int cli_format_cell(pond_buf *out, const struct ArrowSchema *s, const struct ArrowArray *a,
                    int64_t i, cli_fmt fmt);

/* Writes a stream to f in the format; returns 0 or a pond error. rows_out may be NULL. */
int cli_write_stream(FILE *f, struct ArrowArrayStream *st, cli_fmt fmt, int64_t *rows_out);

#endif
