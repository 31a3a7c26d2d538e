/* Parquet value encodings (decoders; bit-packing helpers shared with the writer).
 *
 * Every decoder works on a bounded input range and fails with POND_ECORRUPT (message naming
 * `what` and the problem) instead of reading past it. */
#ifndef POND_PQ_ENCODING_H
#define POND_PQ_ENCODING_H

#include <pond/buf.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unpack n values of bit width bw (0..64) from LSB-first packed src (src_len bytes, which
 * must hold ceil(n*bw/8) bytes; checked by the caller). */
void pond_pq_unpack32(const uint8_t *src, size_t src_len, int bw, uint32_t *out, size_t n);
void pond_pq_unpack64(const uint8_t *src, size_t src_len, int bw, uint64_t *out, size_t n);
/* Pack n values LSB-first into dst (ceil(n*bw/8) bytes, zeroed by the caller). */
void pond_pq_pack64(uint8_t *dst, int bw, const uint64_t *in, size_t n);

/* RLE / bit-packed hybrid decoder. */
typedef struct {
    const uint8_t *p, *end;
    int bw;
    uint32_t rle_left; /* values left in the current RLE run */
    uint32_t rle_value;
    uint32_t bp_left;  /* values left in the current bit-packed run */
    const uint8_t *bp; /* packed bytes of the current run */
    size_t bp_pos;     /* index of the next value within the run */
    size_t bp_bytes;
    const char *what;
    size_t max_count; /* pond_pq_rle_get_levels: how many decoded levels equal the maximum */
} pq_rle;

void pond_pq_rle_init(pq_rle *r, const uint8_t *p, size_t len, int bw, const char *what);
/* Decode exactly n values; POND_ECORRUPT if the data ends first. */
int pond_pq_rle_get(pq_rle *r, uint32_t *out, size_t n);
/* Same, as int16 levels, rejecting values above max_level. */
int pond_pq_rle_get_levels(pq_rle *r, int16_t *out, size_t n, int max_level);

/* Read an unsigned LEB128 varint from [*p, end); advances *p. */
int pond_pq_uvarint(const uint8_t **p, const uint8_t *end, uint64_t *out, const char *what);

/* DELTA_BINARY_PACKED: decode up to `cap` values (all the header announces must fit) into
 * out (int64 values; callers narrow to int32). *n_out gets the header's count and *end_out
 * the first byte after the encoded data. */
int pond_pq_delta_decode(const uint8_t *p, size_t len, int64_t *out, size_t cap, size_t *n_out,
                         size_t *used_out, const char *what);
/* The same into int32 values (an INT32 column: values wrap at 32 bits). */
int pond_pq_delta_decode32(const uint8_t *p, size_t len, int32_t *out, size_t cap, size_t *n_out,
                           size_t *used_out, const char *what);
/* Header only: the value count. */
int pond_pq_delta_count(const uint8_t *p, size_t len, size_t *n_out, const char *what);

/* Byte arrays decoded into data (appended) and offsets (n+1 int32 entries appended after the
 * existing last offset). */
typedef struct {
    pond_buf data;
    pond_buf offsets; /* int32 */
} pq_bytes_out;

int pond_pq_plain_byte_arrays(pq_bytes_out *out, const uint8_t *p, size_t len, size_t n,
                              size_t *used_out, size_t max_data, const char *what);
int pond_pq_delta_length_byte_arrays(pq_bytes_out *out, const uint8_t *p, size_t len, size_t n,
                                     size_t max_data, const char *what);
int pond_pq_delta_byte_arrays(pq_bytes_out *out, const uint8_t *p, size_t len, size_t n,
                              size_t max_data, const char *what);
/* BYTE_STREAM_SPLIT of n values of width w into out (n*w bytes). */
int pond_pq_byte_stream_split(uint8_t *out, const uint8_t *p, size_t len, size_t n, size_t w,
                              const char *what);

#endif
