/* pond: CSV and JSON import, a host text file read as a stream of typed record batches
 * (docs/import.md has every rule). */
#ifndef POND_CSV_IMPORT_H
#define POND_CSV_IMPORT_H

#include "arrow.h"
#include "common.h"
#include "timefmt.h"

typedef enum {
    POND_IMPORT_AUTO = 0, /* JSON when the text starts like a JSON array or object, else CSV */
    POND_IMPORT_CSV,
    POND_IMPORT_JSON,   /* a top-level array of objects */
    POND_IMPORT_NDJSON, /* objects one after another (one per line) */
} pond_import_format;

typedef struct {
    unsigned version;        /* POND_CSV_IMPORT_OPTIONS_VERSION */
    const char *schema;      /* "name:type,..." overrides inference for those columns; types:
                              int64, double, bool, string, timestamp. NULL = infer all */
    int64_t sample_rows;     /* rows read to infer types (default 10000) */
    int64_t batch_rows;      /* rows per batch (default 65536) */
    char delimiter;          /* 0 = sniff (comma, tab, semicolon, pipe, space-aligned); ' ' means
                              space-aligned columns (runs of blanks) */
    const char *schema_hint; /* like schema, applied first, and names the CSV lacks are
                                ignored: the types of an existing series or table */
    /* version 2 */
    char quote;              /* 0 = '"' (or '\'' when sniffing sees a single-quoted header) */
    char comment;            /* 0 = none; lines starting with it are skipped */
    int64_t skip_rows;       /* physical lines skipped before the header */
    bool no_header;          /* no header row: columns are named column1, column2, ... */
    const char *null_values; /* comma-separated markers read as null in every column
                                (unquoted fields only); NULL = the defaults (docs/import.md) */
    bool allow_ragged;       /* short rows are padded with nulls instead of refused */
    int encoding;            /* a pond_input_encoding (0 = UTF-8, or UTF-16 by byte-order mark) */
    int format;              /* a pond_import_format */
    /* called with a one-line note when a documented rule changed what the input says (an
       unnamed column named, ragged rows padded); may be NULL */
    void (*note)(const char *message, void *payload);
    void *note_payload;
    /* version 2, time (docs/time.md) */
    const pond_time_reader *time_reader; /* ISO-8601 plus --time-format, and the zone of values
                                            without one (borrowed; NULL: ISO-8601 in UTC) */
    const char *timestamp_column;        /* a column that must read as timestamps (NULL: none) */
    bool detect_timestamp; /* a series: when timestamp_column is NULL, pick the column after
                              inference and make it a timestamp (integers in it must be
                              epochs by magnitude or match a --time-format) */
    /* version 3 */
    int threads; /* CSV parsing threads, the caller's among them: 0 or 1 = the caller's only;
                    more parse batch_rows lines at a time in parallel, the batches identical
                    to one thread's (docs/import.md, "Parallel parsing") */
} pond_csv_import_options;
#define POND_CSV_IMPORT_OPTIONS_VERSION 3
#define POND_CSV_IMPORT_OPTIONS_INIT                                                               \
    {                                                                                              \
        POND_CSV_IMPORT_OPTIONS_VERSION, NULL, 0, 0, 0, NULL, 0, 0, 0, false, NULL, false, 0, 0,   \
            NULL, NULL, NULL, NULL, false, 0                                                       \
    }

/** A stream of record batches over a host text file ("-" = standard input): CSV with a header
 *  row, NDJSON or a JSON array of objects (docs/import.md has every rule). The input may be
 *  gzip, zstd, bzip2 or xz compressed (detected by magic number) and in another encoding
 *  (opts->encoding); it is decoded to UTF-8 and validated. Types are inferred from the first
 *  sample_rows rows: int64, then double, bool (true/false), timestamp (ISO-8601 or a
 *  --time-format; integers only in a column named like a time or made the timestamp column,
 *  read through the formats or as epochs from 10^9 by magnitude), else string. A column mixing numbers
 *  and text in the sample is text; numbers with a leading zero (007) or beyond int64 are text.
 *  An empty unquoted field is null. A later value that does not fit its column's type, a
 *  number out of double range (1e400), or a row with the wrong number of fields fails the
 *  stream with a message naming the file, line and column. Memory is bounded by one batch
 *  (by 2 x threads batches of lines and of values with threads > 1). Options of version 2 are
 *  accepted (one thread). */
POND_API int pond_csv_import_stream(struct ArrowArrayStream *out, const char *path,
                                    const pond_csv_import_options *opts);

#endif
