/* The page-level decoders on raw bytes: byte 0 picks the decoder, byte 1 a bit width or a
 * value count; the rest is the encoded data. */
#include "parquet/pq_codec.h"
#include "parquet/pq_encoding.h"
#include "parquet/pq_meta.h"

#include <pond/alloc.h>

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int which = data[0] % 8;
    int arg = data[1];
    const uint8_t *p = data + 2;
    size_t len = size - 2;
    size_t n = (size_t)arg * 4 + len % 64; /* values requested: bounded */
    switch (which) {
    case 0: { /* RLE / bit-packed hybrid */
        uint32_t out[1100];
        pq_rle r;
        pond_pq_rle_init(&r, p, len, arg % 33, "fuzz");
        (void)pond_pq_rle_get(&r, out, n);
        break;
    }
    case 1: { /* levels */
        int16_t out[1100];
        pq_rle r;
        pond_pq_rle_init(&r, p, len, arg % 17, "fuzz");
        (void)pond_pq_rle_get_levels(&r, out, n, arg % 17 ? (1 << (arg % 17)) - 1 : 0);
        break;
    }
    case 2: { /* DELTA_BINARY_PACKED, into int64 or (odd arg) int32 values */
        int64_t out[1100];
        size_t got, used;
        if (arg & 1)
            (void)pond_pq_delta_decode32(p, len, (int32_t *)out, n < 1100 ? n : 1100, &got, &used,
                                         "fuzz");
        else
            (void)pond_pq_delta_decode(p, len, out, n < 1100 ? n : 1100, &got, &used, "fuzz");
        break;
    }
    case 3:
    case 4:
    case 5: { /* byte arrays */
        pq_bytes_out o = {POND_BUF_INIT, POND_BUF_INIT};
        size_t used;
        if (which == 3)
            (void)pond_pq_plain_byte_arrays(&o, p, len, n, &used, 1 << 20, "fuzz");
        else if (which == 4)
            (void)pond_pq_delta_length_byte_arrays(&o, p, len, n, 1 << 20, "fuzz");
        else
            (void)pond_pq_delta_byte_arrays(&o, p, len, n, 1 << 20, "fuzz");
        pond_buf_dispose(&o.data);
        pond_buf_dispose(&o.offsets);
        break;
    }
    case 6: { /* BYTE_STREAM_SPLIT */
        uint8_t out[8 * 1100];
        size_t w = (size_t)(arg % 8) + 1;
        (void)pond_pq_byte_stream_split(out, p, len, n < 1100 ? n : 1100, w, "fuzz");
        break;
    }
    default: { /* codecs, output capped */
        size_t cap = (size_t)arg * 256;
        uint8_t *out = pond_malloc(cap ? cap : 1);
        if (out) {
            (void)pond_pq_decompress(1 + (int)(len % 7), p, len, out, cap, 0);
            pond_free(out);
        }
        break;
    }
    }
    return 0;
}
