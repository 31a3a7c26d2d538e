/* Parquet page codecs: decompression into a buffer of exactly the declared size. */
#ifndef POND_PQ_CODEC_H
#define POND_PQ_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Decompress src into dst, which must come out exactly dst_len bytes long. POND_ECORRUPT
 * (naming `off`, the page's file offset) on malformed input or a size mismatch,
 * POND_EUNSUPPORTED for LZO and unknown codecs. */
int pond_pq_decompress(int codec, const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                       int64_t off);

/* The same with reusable decoder state (*state starts NULL; free with pond_pq_codec_state_free). */
int pond_pq_decompress_with(void **state, int codec, const uint8_t *src, size_t src_len,
                            uint8_t *dst, size_t dst_len, int64_t off);
void pond_pq_codec_state_free(void *state);

/* Cheap checks before allocating dst_len bytes: sizes a codec cannot produce from src_len
 * bytes (snappy's header, lz4 and deflate expansion limits, zstd's frame size). */
int pond_pq_decompress_check(int codec, const uint8_t *src, size_t src_len, size_t dst_len,
                             int64_t off);

/* Compress (for the writer and tests) into a fresh pond_malloc buffer. */
int pond_pq_compress(int codec, const uint8_t *src, size_t src_len, uint8_t **out, size_t *out_len);

#endif
