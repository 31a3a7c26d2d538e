/* pond: a streaming CSV reader (RFC 4180 plus common variants).
 *
 * Reads records one at a time from a byte source with bounded memory: one input buffer plus
 * the current record. Fields are unquoted in place; `""` inside quotes is one quote; CRLF and LF
 * both end a record; blank lines are skipped; a UTF-8 byte-order mark at the start is skipped;
 * optionally, lines starting with a comment character and a number of leading lines are skipped,
 * and runs of blanks separate fields (space-aligned columns).
 * A field over max_field bytes, a record over max_fields fields, an unterminated quote or a
 * character after a closing quote is POND_ECORRUPT naming the line. */
#ifndef POND_CSV_H
#define POND_CSV_H

#include "common.h"

typedef struct pond_csv_reader pond_csv_reader;

typedef struct {
    unsigned version;
    char delimiter;     /* default ',' */
    char quote;         /* default '"' */
    size_t max_field;   /* longest field accepted, bytes (default 16 MiB) */
    size_t max_fields;  /* most fields in one record (default 65536) */
    size_t buffer_size; /* input buffer (default 256 KiB) */
    const char *name;   /* used in error messages (e.g. the file name); may be NULL */
    /* version 2 */
    char comment;       /* 0 = none; a line whose first character is this is skipped whole */
    int64_t skip_lines; /* physical lines skipped at the start, whatever they hold */
    bool space_aligned; /* fields are separated by runs of spaces/tabs; leading and trailing
                           blanks of a line are not fields (delimiter is ignored) */
} pond_csv_options;

#define POND_CSV_OPTIONS_VERSION 2
#define POND_CSV_OPTIONS_INIT                                                                      \
    {                                                                                              \
        POND_CSV_OPTIONS_VERSION, ',', '"', 16u << 20, 65536, 256u << 10, NULL, 0, 0, false        \
    }

/* ---- dialect sniffing ---------------------------------------------------------------------- */

typedef struct {
    char delimiter; /* ',', '\t', ';', '|', or ' ' with space_aligned */
    bool space_aligned;
    char quote;  /* '"', or '\'' when every header field is wrapped in single quotes */
    int fields;  /* fields per record in the sample */
    int records; /* complete records the sample held */
} pond_csv_dialect;

/** Guesses the delimiter (and, unless quote_given, the quote character) from the first bytes
 *  of a text: for each candidate (comma, tab, semicolon, pipe) every sampled record must split
 *  into the same number (>= 2) of fields. One such candidate wins; several tie with the same
 *  score -> POND_EINVALID naming them ("give --delimiter"); none -> space-aligned columns if
 *  those are consistent, else the candidate that splits the most records like the first one,
 *  else ',' (a single column). data is the start of the input after skipped lines; at_eof says
 *  whether it is all of it (else its last, possibly cut, line is ignored). Comment lines
 *  (comment != 0) and blank lines are not sampled. */
POND_API int pond_csv_sniff(pond_csv_dialect *out, const char *data, size_t len, bool at_eof,
                            char quote, bool quote_given, char comment, const char *name);

/* Reads up to cap bytes; *n_out = 0 means end of input. Returns 0 or a negative pond code. */
typedef int (*pond_csv_read_fn)(void *buf, size_t cap, size_t *n_out, void *payload);

/** A reader over a callback source. opts may be NULL (defaults). */
POND_API int pond_csv_reader_new(pond_csv_reader **out, pond_csv_read_fn read, void *payload,
                                 const pond_csv_options *opts);
/** A reader over a host file (opened through pond's OS-call table). */
POND_API int pond_csv_reader_open_file(pond_csv_reader **out, const char *path,
                                       const pond_csv_options *opts);
/** A reader over a memory buffer (borrowed; must outlive the reader). */
POND_API int pond_csv_reader_open_mem(pond_csv_reader **out, const void *data, size_t len,
                                      const pond_csv_options *opts);

/** Advances to the next record: 0 when one is ready, POND_ITEROVER at the end, or an error. */
POND_API int pond_csv_reader_next(pond_csv_reader *r);
POND_API size_t pond_csv_reader_nfields(const pond_csv_reader *r);
/** Field i of the current record (NUL-terminated; valid until the next call to next/free).
 *  *len_out may be NULL; quoted_out (may be NULL) tells a quoted empty string from an empty
 *  field. */
POND_API const char *pond_csv_reader_field(const pond_csv_reader *r, size_t i, size_t *len_out,
                                           bool *quoted_out);
/** 1-based line number where the current record starts. */
POND_API int64_t pond_csv_reader_line(const pond_csv_reader *r);
/** Bytes consumed from the source so far (for progress). */
POND_API int64_t pond_csv_reader_offset(const pond_csv_reader *r);
POND_API void pond_csv_reader_free(pond_csv_reader *r);

#endif
