/* Row output of the CLI: the format a command prints in, the display zone of --timezone, and
 * a table or series written to a file descriptor. The writers themselves are the library's
 * (include/pond/rows.h), shared with `pond serve`. */
#ifndef POND_CLI_FORMAT_H
#define POND_CLI_FORMAT_H

#include <pond/rows.h>
#include <pond/table.h>
#include <pond/timefmt.h>
#include <pond/tinyfs.h>

#include <stdbool.h>
#include <stdio.h>

typedef pond_rows_format cli_fmt;
#define FMT_CSV POND_ROWS_CSV
#define FMT_JSON POND_ROWS_JSON
#define FMT_TABLE POND_ROWS_TABLE

/* The zone instants (timestamps with a zone) print in, for every row written after (cat,
 * query, cat --sql --timezone); NULL: UTC with Z. Borrowed until reset with NULL. */
void cli_format_set_timezone(const pond_tz *tz);
const pond_tz *cli_format_timezone(void);
/* CLI_OPT_FN for --timezone: opens the IANA zone value into *(pond_tz **)dest, freeing the
 * zone a repeated option gave; the caller frees the last one (pond_tz_free). */
int cli_parse_timezone(void *dest, const char *value);
/* CLI_OPT_FN for a zone kept by name (copy's and derive's --timezone): the zone is checked
 * now, a usage error, and *(const char **)dest = value, which the import and a series take. */
int cli_parse_timezone_name(void *dest, const char *value);
/* A pond_rows_sink_fn writing to the FILE * payload. */
int cli_file_sink(const void *data, size_t len, void *payload);

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
 * "json", "table" (or NULL: table on a terminal, else CSV), through pond_table_node_output
 * with the display zone. `pond cat` and `pond copy` both write through here. */
int cli_table_write(cli_table_out *res, cli_sink *sink, pond_fs_node *node,
                    const pond_table_read_options *ro, const char *format);

/* "csv"/"json"/"table" -> the format; NULL -> table on a terminal, CSV otherwise. */
cli_fmt cli_fmt_of(const char *name);

#endif
