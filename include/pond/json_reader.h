/* pond: a streaming reader of JSON records (a top-level array of objects, or NDJSON: objects
 * one after another, usually one per line).
 *
 * Memory is bounded by one record: the reader finds where the next object ends (a bounded scan
 * that tracks strings and nesting), then parses that object alone, so a gigabyte array streams
 * through a buffer the size of its largest element. Each record is a flat list of key/value
 * pairs: strings unescaped to UTF-8, numbers as their JSON text, nested objects and arrays as
 * compact JSON text. Anything that is not JSON, a record that is not an object, a record over
 * max_record bytes or nested deeper than max_depth is POND_ECORRUPT naming the input and line.
 * Input must be UTF-8 (pond_input validates it). */
#ifndef POND_JSON_READER_H
#define POND_JSON_READER_H

#include "common.h"

typedef struct pond_json_reader pond_json_reader;

typedef enum {
    POND_JSON_AUTO = 0, /* '[' first: an array; '{' first: NDJSON */
    POND_JSON_ARRAY,
    POND_JSON_LINES,
} pond_json_layout;

typedef enum {
    POND_JSON_NULL,
    POND_JSON_FALSE,
    POND_JSON_TRUE,
    POND_JSON_NUMBER,
    POND_JSON_STRING,
    POND_JSON_NESTED, /* an object or array, as compact JSON text */
} pond_json_kind;

typedef struct {
    unsigned version; /* POND_JSON_OPTIONS_VERSION */
    pond_json_layout layout;
    size_t max_record;  /* largest record accepted, bytes (default 16 MiB) */
    int max_depth;      /* deepest nesting (default 64) */
    size_t buffer_size; /* initial buffer (default 256 KiB) */
    const char *name;   /* for messages */
} pond_json_options;
#define POND_JSON_OPTIONS_VERSION 1
#define POND_JSON_OPTIONS_INIT                                                                     \
    {                                                                                              \
        POND_JSON_OPTIONS_VERSION, POND_JSON_AUTO, 16u << 20, 64, 256u << 10, NULL                 \
    }

/* Reads up to cap bytes; *n_out = 0 means end of input. */
typedef int (*pond_json_read_fn)(void *buf, size_t cap, size_t *n_out, void *payload);

POND_API int pond_json_reader_new(pond_json_reader **out, pond_json_read_fn read, void *payload,
                                  const pond_json_options *opts);
/** Over a memory buffer (borrowed). */
POND_API int pond_json_reader_open_mem(pond_json_reader **out, const void *data, size_t len,
                                       const pond_json_options *opts);
/** The next record: 0, POND_ITEROVER at the end, or an error. */
POND_API int pond_json_reader_next(pond_json_reader *r);
POND_API size_t pond_json_reader_nkeys(const pond_json_reader *r);
/** Key i of the current record (NUL-terminated, unescaped; valid until next/free). */
POND_API const char *pond_json_reader_key(const pond_json_reader *r, size_t i, size_t *len_out);
/** Value i (NUL-terminated; "" for null, false and true; valid until next/free). */
POND_API const char *pond_json_reader_value(const pond_json_reader *r, size_t i, size_t *len_out,
                                            pond_json_kind *kind_out);
/** 1-based line where the current record starts. */
POND_API int64_t pond_json_reader_line(const pond_json_reader *r);
/** The layout found (ARRAY or LINES) once the first record was read. */
POND_API pond_json_layout pond_json_reader_layout(const pond_json_reader *r);
POND_API void pond_json_reader_free(pond_json_reader *r);

#endif
