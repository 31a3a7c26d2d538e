/* Thrift compact protocol: a bounds-checked decoder over a byte range and an encoder into a
 * pond_buf. Used for the Parquet footer, page headers and page indexes (reader and writer). */
#ifndef POND_PQ_THRIFT_H
#define POND_PQ_THRIFT_H

#include <pond/buf.h>
#include <pond/errors.h>

#include <stddef.h>
#include <stdint.h>

enum {
    TC_STOP = 0,
    TC_TRUE = 1,
    TC_FALSE = 2,
    TC_BYTE = 3,
    TC_I16 = 4,
    TC_I32 = 5,
    TC_I64 = 6,
    TC_DOUBLE = 7,
    TC_BINARY = 8,
    TC_LIST = 9,
    TC_SET = 10,
    TC_MAP = 11,
    TC_STRUCT = 12
};

#define PQ_THRIFT_MAX_DEPTH 32

/* A struct's names for messages: "column metadata", and its field names by id (NULL or out of
 * range: the message gives the id alone). */
typedef struct {
    const char *name;
    const char *const *fields;
    int n_fields;
} pq_tstruct;

/* Wire types of fields for messages: a TC_* type, or PQ_TLIST_OF + element type for a list
 * whose elements have another type than the schema's. */
#define PQ_TLIST_OF 16

/* Optional fields a lenient decoder skipped because their wire type differs from the schema's
 * (Thrift's rule): one entry per kind (struct, field, wire type) with its count and the file
 * offset of the first; kinds beyond the table are only counted. */
#define PQ_TSKIP_KINDS 24
typedef struct {
    struct {
        const pq_tstruct *s;
        int16_t id;
        int got, want;
        int64_t count, first_off;
    } kind[PQ_TSKIP_KINDS];
    int n_kinds;
    int64_t other; /* skips of further kinds */
} pq_tskips;

/* Decoder. `base_off` is the file offset of `begin`, for error messages. */
typedef struct {
    const uint8_t *begin;
    const uint8_t *p;
    const uint8_t *end;
    int64_t base_off;
    int depth;
    const char *what;      /* "footer", "page header", ... */
    const pq_tstruct *cur; /* the struct being decoded, for messages (NULL: none) */
    pq_tskips *skips;      /* NULL: a mistyped optional field is an error too */
} pq_tdec;

void pond_pq_tdec_init(pq_tdec *d, const void *buf, size_t len, int64_t base_off, const char *what);
int64_t pond_pq_tdec_offset(const pq_tdec *d);
/* Sets POND_ECORRUPT naming the offset and `what`. */
int pond_pq_tdec_error(const pq_tdec *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Structs: begin pushes a field-id frame and makes `s` (may be NULL) the struct that messages
 * name; next_field gives the next field (type TC_STOP at the end; for booleans, *type is
 * TC_TRUE/TC_FALSE); end pops both. */
typedef struct {
    int16_t last_id;
    const pq_tstruct *prev;
} pq_tframe;
int pond_pq_tdec_struct_begin(pq_tdec *d, pq_tframe *f, const pq_tstruct *s);
int pond_pq_tdec_next_field(pq_tdec *d, pq_tframe *f, int *type, int16_t *id);
void pond_pq_tdec_struct_end(pq_tdec *d, const pq_tframe *f);

int pond_pq_tdec_varint(pq_tdec *d, uint64_t *out);
int pond_pq_tdec_i64(pq_tdec *d, int64_t *out);
int pond_pq_tdec_i32(pq_tdec *d, int32_t *out);
int pond_pq_tdec_i16(pq_tdec *d, int16_t *out);
int pond_pq_tdec_byte(pq_tdec *d, int8_t *out);
int pond_pq_tdec_double(pq_tdec *d, double *out);
/* Zero-copy: *ptr points into the decoded buffer. */
int pond_pq_tdec_binary(pq_tdec *d, const uint8_t **ptr, size_t *len);
/* Lists and sets; *n is checked against the bytes that remain (min_elem_bytes each). */
int pond_pq_tdec_list_begin(pq_tdec *d, int *elem_type, uint32_t *n);
/* A bool element inside a list. */
int pond_pq_tdec_list_bool(pq_tdec *d, int elem_type, int *out);
int pond_pq_tdec_map_begin(pq_tdec *d, int *key_type, int *val_type, uint32_t *n);
/* Skip a value of the given type (depth-capped). */
int pond_pq_tdec_skip(pq_tdec *d, int type);
/* Read a field value as a boolean when the field type is TC_TRUE/TC_FALSE. */
int pond_pq_tdec_field_bool(pq_tdec *d, int type, int *out);

/* Field types. i16, i32 and i64 share one varint encoding and are accepted for each other
 * (the value must fit); TC_TRUE and TC_FALSE both mean a bool. */
/* A required field, or one decoding depends on: POND_ECORRUPT naming the field (d->cur)
 * when its type is not `want`. */
int pond_pq_tdec_expect(pq_tdec *d, int type, int want, int16_t id);
/* An optional field decoding does not depend on: 1 when its type is `want` (the caller reads
 * it); 0 when it is not and the value was skipped and recorded in d->skips (with no d->skips:
 * the error of pond_pq_tdec_expect). */
int pond_pq_tdec_optional(pq_tdec *d, int type, int want, int16_t id);
/* Record a skipped field of wire type `got` (PQ_TLIST_OF + t for lists) at `off`. */
void pond_pq_tdec_note_skip(pq_tdec *d, int16_t id, int got, int want, int64_t off);
/* The name of a wire type for messages ("i32", "list<binary>"), into buf. */
const char *pond_pq_twire_name(char *buf, size_t cap, int type);
/* "column metadata field 'statistics' (12)" for field id of s (s may be NULL), into buf. */
const char *pond_pq_tfield_name(char *buf, size_t cap, const pq_tstruct *s, int16_t id);

/* Encoder: appends to a pond_buf; errors (POND_ENOMEM) stick in `rc`. */
typedef struct {
    pond_buf *out;
    int rc;
    int depth;
    int16_t last_id[PQ_THRIFT_MAX_DEPTH];
} pq_tenc;

void pond_pq_tenc_init(pq_tenc *e, pond_buf *out);
void pond_pq_tenc_struct_begin(pq_tenc *e);
void pond_pq_tenc_struct_end(pq_tenc *e); /* writes the STOP byte */
void pond_pq_tenc_field(pq_tenc *e, int type, int16_t id);
void pond_pq_tenc_field_bool(pq_tenc *e, int16_t id, int v);
void pond_pq_tenc_field_i32(pq_tenc *e, int16_t id, int32_t v);
void pond_pq_tenc_field_i64(pq_tenc *e, int16_t id, int64_t v);
void pond_pq_tenc_field_binary(pq_tenc *e, int16_t id, const void *p, size_t len);
void pond_pq_tenc_field_double(pq_tenc *e, int16_t id, double v);
void pond_pq_tenc_varint(pq_tenc *e, uint64_t v);
void pond_pq_tenc_i32(pq_tenc *e, int32_t v);
void pond_pq_tenc_i64(pq_tenc *e, int64_t v);
void pond_pq_tenc_binary(pq_tenc *e, const void *p, size_t len);
void pond_pq_tenc_list_begin(pq_tenc *e, int elem_type, uint32_t n);
void pond_pq_tenc_map_begin(pq_tenc *e, int key_type, int val_type, uint32_t n);
void pond_pq_tenc_byte(pq_tenc *e, uint8_t b);

#endif
