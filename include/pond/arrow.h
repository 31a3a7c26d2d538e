/* pond: the Arrow C Data Interface (and C Stream Interface) plus helpers.
 *
 * The three structs below are exactly those of the Arrow C Data Interface and C Stream
 * Interface specifications (Apache Arrow's format documentation), guarded by the same macros
 * so this header can be combined with any other Arrow-speaking library.
 *
 * Ownership follows the specification: the consumer of a struct calls its `release` callback
 * once; `release == NULL` marks a released (or moved-from) struct. Moving a struct copies it
 * bitwise and sets the source's release to NULL. Structs built by pond own their buffers and
 * children through `private_data`; releasing the parent releases every child still alive. */
#ifndef POND_ARROW_H
#define POND_ARROW_H

#include "common.h"
#include "buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
    /* Array type description */
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;

    /* Release callback */
    void (*release)(struct ArrowSchema *);
    /* Opaque producer-specific data */
    void *private_data;
};

struct ArrowArray {
    /* Array data description */
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;

    /* Release callback */
    void (*release)(struct ArrowArray *);
    /* Opaque producer-specific data */
    void *private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
    /* Callbacks return 0 or an errno value (EIO, ENOMEM, EINVAL, ...). */
    int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
    /* At the end of the stream, sets out->release to NULL and returns 0. */
    int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
    /* The message of the last error, valid until the next call on the stream; may be NULL. */
    const char *(*get_last_error)(struct ArrowArrayStream *);

    void (*release)(struct ArrowArrayStream *);
    void *private_data;
};

#endif /* ARROW_C_STREAM_INTERFACE */

/* ---------------------------------------------------------------- release and move */

/** Release if not yet released (NULL and released structs are fine). */
POND_API void pond_arrow_schema_release(struct ArrowSchema *s);
POND_API void pond_arrow_array_release(struct ArrowArray *a);
POND_API void pond_arrow_stream_release(struct ArrowArrayStream *s);
/** Move src into dst (dst must be released or uninitialised); src is marked released. */
POND_API void pond_arrow_schema_move(struct ArrowSchema *dst, struct ArrowSchema *src);
POND_API void pond_arrow_array_move(struct ArrowArray *dst, struct ArrowArray *src);
POND_API void pond_arrow_stream_move(struct ArrowArrayStream *dst, struct ArrowArrayStream *src);

/* ---------------------------------------------------------------- format strings */

typedef enum {
    POND_ARROW_NA,                      /* "n" */
    POND_ARROW_BOOL,                    /* "b" */
    POND_ARROW_INT8,                    /* "c" */
    POND_ARROW_UINT8,                   /* "C" */
    POND_ARROW_INT16,                   /* "s" */
    POND_ARROW_UINT16,                  /* "S" */
    POND_ARROW_INT32,                   /* "i" */
    POND_ARROW_UINT32,                  /* "I" */
    POND_ARROW_INT64,                   /* "l" */
    POND_ARROW_UINT64,                  /* "L" */
    POND_ARROW_HALF,                    /* "e" */
    POND_ARROW_FLOAT,                   /* "f" */
    POND_ARROW_DOUBLE,                  /* "g" */
    POND_ARROW_BINARY,                  /* "z" */
    POND_ARROW_STRING,                  /* "u" */
    POND_ARROW_LARGE_BINARY,            /* "Z" */
    POND_ARROW_LARGE_STRING,            /* "U" */
    POND_ARROW_FIXED_BINARY,            /* "w:N" (width) */
    POND_ARROW_DECIMAL128,              /* "d:P,S" (precision, scale) */
    POND_ARROW_DECIMAL256,              /* "d:P,S,256" */
    POND_ARROW_DATE32,                  /* "tdD" */
    POND_ARROW_DATE64,                  /* "tdm" */
    POND_ARROW_TIME32,                  /* "tts" / "ttm" (unit) */
    POND_ARROW_TIME64,                  /* "ttu" / "ttn" (unit) */
    POND_ARROW_TIMESTAMP,               /* "ts?:TZ" (unit, tz) */
    POND_ARROW_DURATION,                /* "tD?" (unit) */
    POND_ARROW_INTERVAL_MONTHS,         /* "tiM" */
    POND_ARROW_INTERVAL_DAY_TIME,       /* "tiD" */
    POND_ARROW_INTERVAL_MONTH_DAY_NANO, /* "tin" */
    POND_ARROW_LIST,                    /* "+l" */
    POND_ARROW_LARGE_LIST,              /* "+L" */
    POND_ARROW_FIXED_LIST,              /* "+w:N" (width) */
    POND_ARROW_STRUCT,                  /* "+s" */
    POND_ARROW_MAP                      /* "+m" */
} pond_arrow_type;

typedef enum {
    POND_ARROW_UNIT_S = 0,
    POND_ARROW_UNIT_MS = 1,
    POND_ARROW_UNIT_US = 2,
    POND_ARROW_UNIT_NS = 3
} pond_arrow_unit;

/** A parsed format string. `tz` points into the format string (empty for none). */
typedef struct {
    pond_arrow_type type;
    int width;     /* fixed binary / fixed list width, in bytes or elements */
    int precision; /* decimal */
    int scale;     /* decimal */
    pond_arrow_unit unit;
    const char *tz;
    int n_buffers; /* buffers the layout has (validity included) */
    int bit_width; /* of one value in buffer 1 for fixed-width types (1 for bool); 0 otherwise */
} pond_arrow_format;

/** Parse a format string; POND_EINVALID (message names the format) if unknown or malformed. */
POND_API int pond_arrow_format_parse(pond_arrow_format *out, const char *format);

/** The type name users see for a format string (as `pond describe` shows it and messages say
 *  it): "int64", "double", "string", "bool", "timestamp[us, UTC]", "decimal(10,2)", ... Returns
 *  out. */
#define POND_ARROW_TYPE_NAME_LEN 64
POND_API const char *pond_arrow_type_name(char out[POND_ARROW_TYPE_NAME_LEN], const char *format);

/* ---------------------------------------------------------------- building schemas */

/** Initialise a schema node owning copies of format and name (name may be NULL) with room
 *  for n_children children, each initialised as released (fill them with
 *  pond_arrow_schema_init too). On failure out is released. */
POND_API int pond_arrow_schema_init(struct ArrowSchema *out, const char *format, const char *name,
                                    int64_t flags, int64_t n_children);
/** Set the metadata from key/value pairs (encoded as the spec's binary layout). */
POND_API int pond_arrow_schema_set_metadata(struct ArrowSchema *s, const char *const *keys,
                                            const char *const *values, int n);
/** Deep copy of a schema (any producer) into a pond-owned one. */
POND_API int pond_arrow_schema_copy(struct ArrowSchema *out, const struct ArrowSchema *src);

/* ---------------------------------------------------------------- building arrays */

/** Initialise an array node with n_buffers NULL buffers and n_children released children.
 *  Buffers set with pond_arrow_array_set_buffer are owned (pond_free on release). */
POND_API int pond_arrow_array_init(struct ArrowArray *out, int64_t length, int64_t null_count,
                                   int64_t n_buffers, int64_t n_children);
/** Give buffer i (allocated with pond_malloc, may be NULL) to the array (_take semantics). */
POND_API void pond_arrow_array_set_buffer(struct ArrowArray *a, int64_t i, void *buf);
/** Allocate (zeroed) and set buffer i; returns it, or NULL with POND_ENOMEM set. */
POND_API void *pond_arrow_array_alloc_buffer(struct ArrowArray *a, int64_t i, size_t bytes);

/** An append builder for leaf arrays of any fixed-width, boolean, binary/string type. */
typedef struct pond_arrow_builder pond_arrow_builder;
POND_API int pond_arrow_builder_new(pond_arrow_builder **out, const char *format);
POND_API int pond_arrow_builder_append_null(pond_arrow_builder *b);
/** Signed integers, dates, times, timestamps, durations (range-checked to the width). */
POND_API int pond_arrow_builder_append_int(pond_arrow_builder *b, int64_t v);
POND_API int pond_arrow_builder_append_uint(pond_arrow_builder *b, uint64_t v);
/** Float, double (half floats are converted). */
POND_API int pond_arrow_builder_append_double(pond_arrow_builder *b, double v);
POND_API int pond_arrow_builder_append_bool(pond_arrow_builder *b, bool v);
/** Binary, string (not validated as UTF-8), fixed-size binary (len must equal the width),
 *  decimal128/256 and intervals (raw little-endian value bytes of the full width). */
POND_API int pond_arrow_builder_append_bytes(pond_arrow_builder *b, const void *p, size_t len);
/** Move the built array out (the builder is reset and can be reused or freed). */
POND_API int pond_arrow_builder_finish(struct ArrowArray *out, pond_arrow_builder *b);
POND_API void pond_arrow_builder_free(pond_arrow_builder *b);
/** An array of n nulls of the leaf type `type` (a column missing from an older version);
 *  POND_EUNSUPPORTED naming the column for a nested type. */
POND_API int pond_arrow_nulls(struct ArrowArray *out, const struct ArrowSchema *type, int64_t n);

/* ---------------------------------------------------------------- validation */

/** Check an imported array against its schema, recursively: buffer and child counts for the
 *  type, non-negative length/offset, null_count within [0, length] and equal to the bitmap's
 *  count, a validity buffer when nulls exist, monotone offsets inside the child/data, struct
 *  children long enough. POND_ECORRUPT with a message naming the path ("a.b[2]") otherwise. */
POND_API int pond_arrow_array_validate(const struct ArrowSchema *schema,
                                       const struct ArrowArray *array);

/* ---------------------------------------------------------------- canonical text (canon-v1) */

/** Append the canonical text of row i of `array` (docs/parquet.md, "Canonical text"):
 *  N, T/F, i42, f1.5, d-1.50, "json", x00ff, D19000, t<ns>, h<ns>, I<m>,<d>,<ns>, [..], {..}, M{..}. */
POND_API int pond_arrow_canon_cell(pond_buf *out, const struct ArrowSchema *schema,
                                   const struct ArrowArray *array, int64_t i);
/** Append all rows of a struct array (a record batch): cells joined by TAB, LF-terminated. */
POND_API int pond_arrow_canon_batch(pond_buf *out, const struct ArrowSchema *schema,
                                    const struct ArrowArray *batch);
/** A decimal128 (bytes 16) or decimal256 (bytes 32) value, little-endian two's complement as
 *  Arrow stores it, as exact decimal text with `scale` digits after the point ("-12.50"; a
 *  negative scale appends zeros). Returns the length. */
#define POND_ARROW_DECIMAL_STRLEN 128
POND_API size_t pond_arrow_format_decimal(char out[POND_ARROW_DECIMAL_STRLEN], const uint8_t *le,
                                          int bytes, int scale);
/** JavaScript String(x) for a double (shortest round-trip); out needs 32 bytes. */
POND_API void pond_arrow_format_double(char out[32], double x);

/* ---------------------------------------------------------------- streams built by pond */

/** Builds an ArrowArrayStream over an array of batches (all taken, also on failure: each is
 *  then released; schema copied). */
POND_API int pond_arrow_stream_from_batches(struct ArrowArrayStream *out,
                                            const struct ArrowSchema *schema,
                                            struct ArrowArray *batches, size_t n);
/** Wraps in so that its batches are produced on a second thread, two ahead of the consumer:
 *  parsing overlaps whatever the consumer does (encoding, compression). in's get_schema must
 *  be callable while get_next runs on the other thread. in is consumed, as by every function
 *  taking an input stream (docs/api.md, "Streams"): moved into out on success, released on
 *  failure. */
POND_API int pond_arrow_stream_prefetch(struct ArrowArrayStream *out, struct ArrowArrayStream *in);

#ifdef __cplusplus
}
#endif

#endif
