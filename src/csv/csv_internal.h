/* pond: what the CSV import needs from the reader to parse an input in chunks (the library
 * only; the public reader is include/pond/csv.h). */
#ifndef POND_CSV_INTERNAL_H
#define POND_CSV_INTERNAL_H

#include <pond/csv.h>

/* The bytes the reader has buffered but not parsed (just after the current record, at a
 * record start) and the line they start on. Borrowed: valid until the next call on r. */
void pond_csv__reader_rest(const pond_csv_reader *r, const char **data, size_t *len, int64_t *line);

/* Makes a new reader continue an input at a record start on `line`: no byte-order mark is
 * looked for and no lines are skipped (both belong to the start of the input). Call before the
 * first pond_csv_reader_next. */
void pond_csv__reader_resume(pond_csv_reader *r, int64_t line);

/* A reader over len bytes of data that stay the caller's, valid and unchanged while it reads:
 * nothing is copied and nothing is written into them, so its fields are not NUL-terminated
 * (pond_csv_reader_field's length says where they end); a quoted field with "" is returned
 * unquoted from the reader's own memory. */
int pond_csv__reader_open_view(pond_csv_reader **out, const char *data, size_t len,
                               const pond_csv_options *opts);

#endif
