/* Codecs over the Debian libraries: snappy, zlib, zstd, lz4, brotli. */
#include "parquet/pq_codec.h"
#include "parquet/pq_meta.h"

#include "util/util.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <inttypes.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <pthread.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

static int codec_error(int codec, int64_t off, const char *why)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "%s page at offset %" PRId64 ": %s",
                          pond_pq_codec_name(codec), off, why);
}

static int gunzip(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len, int64_t off)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return pond_error_set(POND_ENOMEM, POND_DOM_PARQUET, "gzip: inflateInit failed");
    z.next_in = (Bytef *)(uintptr_t)src;
    z.next_out = dst;
    size_t in_left = src_len, out_left = dst_len;
    int rc = Z_OK;
    for (;;) {
        z.avail_in = (uInt)(in_left > UINT32_MAX ? UINT32_MAX : in_left);
        z.avail_out = (uInt)(out_left > UINT32_MAX ? UINT32_MAX : out_left);
        uInt ai = z.avail_in, ao = z.avail_out;
        rc = inflate(&z, Z_NO_FLUSH);
        in_left -= ai - z.avail_in;
        out_left -= ao - z.avail_out;
        if (rc == Z_STREAM_END) {
            /* concatenated gzip members */
            if (in_left == 0 || out_left == 0)
                break;
            if (inflateReset(&z) != Z_OK)
                break;
            continue;
        }
        if (rc != Z_OK || (ai == z.avail_in && ao == z.avail_out))
            break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END)
        return codec_error(PQ_CODEC_GZIP, off, "malformed or truncated deflate stream");
    if (out_left != 0)
        return codec_error(PQ_CODEC_GZIP, off, "decompressed size differs from the header");
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Hadoop's Lz4Codec framing: blocks of [be32 raw size][be32 compressed size][lz4 block]. */
static bool lz4_hadoop(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len)
{
    size_t in = 0, out = 0;
    while (in < src_len) {
        if (src_len - in < 8)
            return false;
        uint32_t raw = be32(src + in), comp = be32(src + in + 4);
        in += 8;
        if (comp > src_len - in || raw > dst_len - out || comp > INT32_MAX || raw > INT32_MAX)
            return false;
        int n = LZ4_decompress_safe((const char *)src + in, (char *)dst + out, (int)comp, (int)raw);
        if (n < 0 || (uint32_t)n != raw)
            return false;
        in += comp;
        out += raw;
    }
    return out == dst_len;
}

static bool lz4_frame(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len)
{
    LZ4F_dctx *ctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
        return false;
    size_t in = 0, out = 0;
    bool ok = false;
    for (;;) {
        size_t isz = src_len - in, osz = dst_len - out;
        size_t r = LZ4F_decompress(ctx, dst + out, &osz, src + in, &isz, NULL);
        if (LZ4F_isError(r))
            break;
        in += isz;
        out += osz;
        if (r == 0) {
            ok = in == src_len && out == dst_len;
            break;
        }
        if (isz == 0 && osz == 0)
            break;
    }
    LZ4F_freeDecompressionContext(ctx);
    return ok;
}

int pond_pq_decompress(int codec, const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                       int64_t off)
{
    int rc;
    switch (codec) {
    case PQ_CODEC_UNCOMPRESSED:
        if ((rc = pond_pq_decompress_check(codec, src, src_len, dst_len, off)) < 0)
            return rc;
        memcpy(dst, src, src_len);
        return 0;
    case PQ_CODEC_SNAPPY: {
        if ((rc = pond_pq_decompress_check(codec, src, src_len, dst_len, off)) < 0)
            return rc; /* the header says dst_len */
        size_t n = dst_len;
        if (snappy_uncompress((const char *)src, src_len, (char *)dst, &n) != SNAPPY_OK ||
            n != dst_len)
            return codec_error(codec, off, "malformed snappy data");
        return 0;
    }
    case PQ_CODEC_GZIP:
        return gunzip(src, src_len, dst, dst_len, off);
    case PQ_CODEC_ZSTD: {
        size_t n = ZSTD_decompress(dst, dst_len, src, src_len);
        if (ZSTD_isError(n))
            return codec_error(codec, off, ZSTD_getErrorName(n));
        if (n != dst_len)
            return codec_error(codec, off, "decompressed size differs from the header");
        return 0;
    }
    case PQ_CODEC_LZ4_RAW: {
        if (src_len > INT32_MAX || dst_len > INT32_MAX)
            return codec_error(codec, off, "page too large for lz4");
        int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)src_len, (int)dst_len);
        if (n < 0 || (size_t)n != dst_len)
            return codec_error(codec, off, "malformed lz4 block or size mismatch");
        return 0;
    }
    case PQ_CODEC_LZ4: {
        if (lz4_hadoop(src, src_len, dst, dst_len))
            return 0;
        if (src_len <= INT32_MAX && dst_len <= INT32_MAX) {
            int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)src_len, (int)dst_len);
            if (n >= 0 && (size_t)n == dst_len)
                return 0;
        }
        if (lz4_frame(src, src_len, dst, dst_len))
            return 0;
        return codec_error(codec, off, "not a valid hadoop-framed, raw or framed lz4 page");
    }
    case PQ_CODEC_BROTLI: {
        size_t n = dst_len;
        if (BrotliDecoderDecompress(src_len, src, &n, dst) != BROTLI_DECODER_RESULT_SUCCESS)
            return codec_error(codec, off, "malformed brotli stream or size mismatch");
        if (n != dst_len)
            return codec_error(codec, off, "decompressed size differs from the header");
        return 0;
    }
    default:
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                              "page at offset %" PRId64 ": unsupported codec %s (%d)", off,
                              pond_pq_codec_name(codec), codec);
    }
}

/* the thread's zstd context, freed when the thread ends */
static pthread_once_t g_dctx_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_dctx_key;
static void dctx_free(void *p) { ZSTD_freeDCtx(p); }
static void dctx_key_init(void) { pthread_key_create(&g_dctx_key, dctx_free); }

int pond_pq_decompress_with(void **state, int codec, const uint8_t *src, size_t src_len,
                            uint8_t *dst, size_t dst_len, int64_t off)
{
    if (codec != PQ_CODEC_ZSTD || !state)
        return pond_pq_decompress(codec, src, src_len, dst, dst_len, off);
    /* One decompression context per thread, reused by every reader: creating one costs more
     * than decompressing a small page, and opening a pond reads many small files. The per-
     * reader state is kept for API compatibility but not needed. */
    (void)state;
    pthread_once(&g_dctx_once, dctx_key_init);
    ZSTD_DCtx *dctx = pthread_getspecific(g_dctx_key);
    if (!dctx) {
        if (!(dctx = ZSTD_createDCtx()))
            return pond_error_set(POND_ENOMEM, POND_DOM_PARQUET, "zstd: out of memory");
        pthread_setspecific(g_dctx_key, dctx);
    }
    size_t n = ZSTD_decompressDCtx(dctx, dst, dst_len, src, src_len);
    if (ZSTD_isError(n))
        return codec_error(codec, off, ZSTD_getErrorName(n));
    if (n != dst_len)
        return codec_error(codec, off, "decompressed size differs from the header");
    return 0;
}

void pond_pq_codec_state_free(void *state)
{
    if (state)
        ZSTD_freeDCtx(state);
}

int pond_pq_decompress_check(int codec, const uint8_t *src, size_t src_len, size_t dst_len,
                             int64_t off)
{
    switch (codec) {
    case PQ_CODEC_UNCOMPRESSED:
        if (src_len != dst_len)
            return codec_error(codec, off, "compressed and uncompressed sizes differ");
        return 0;
    case PQ_CODEC_SNAPPY: {
        size_t n;
        if (snappy_uncompressed_length((const char *)src, src_len, &n) != SNAPPY_OK)
            return codec_error(codec, off, "malformed snappy header");
        if (n != dst_len)
            return codec_error(codec, off, "decompressed size differs from the header");
        return 0;
    }
    case PQ_CODEC_LZ4_RAW:
        /* an LZ4 block expands at most 255 times */
        if (dst_len / 255 > src_len + 16)
            return codec_error(codec, off, "declared size impossible for the lz4 block");
        return 0;
    case PQ_CODEC_GZIP:
        /* deflate expands at most 1032 times (plus headers) */
        if (dst_len / 1032 > src_len + 64)
            return codec_error(codec, off, "declared size impossible for the deflate stream");
        return 0;
    case PQ_CODEC_ZSTD: {
        unsigned long long n = ZSTD_getFrameContentSize(src, src_len);
        if (n == ZSTD_CONTENTSIZE_ERROR)
            return codec_error(codec, off, "malformed zstd frame");
        /* a single frame that declares its size must match (several frames: checked later) */
        if (n != ZSTD_CONTENTSIZE_UNKNOWN && n > dst_len)
            return codec_error(codec, off, "decompressed size differs from the header");
        return 0;
    }
    default:
        return 0;
    }
}

int pond_pq_compress(int codec, const uint8_t *src, size_t src_len, uint8_t **out, size_t *out_len)
{
    size_t cap;
    uint8_t *dst;
    *out = NULL;
    *out_len = 0;
    switch (codec) {
    case PQ_CODEC_UNCOMPRESSED:
        cap = src_len;
        break;
    case PQ_CODEC_SNAPPY:
        cap = snappy_max_compressed_length(src_len);
        break;
    case PQ_CODEC_GZIP:
        cap = compressBound((uLong)src_len) + 32;
        break;
    case PQ_CODEC_ZSTD:
        cap = ZSTD_compressBound(src_len);
        break;
    case PQ_CODEC_LZ4_RAW:
        if (src_len > LZ4_MAX_INPUT_SIZE)
            return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "lz4: page too large");
        cap = (size_t)LZ4_compressBound((int)src_len);
        break;
    case PQ_CODEC_BROTLI:
        cap = BrotliEncoderMaxCompressedSize(src_len);
        if (cap == 0)
            cap = src_len + 1024;
        break;
    default:
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET, "compress: codec %s",
                              pond_pq_codec_name(codec));
    }
    if (!(dst = pond_malloc(cap ? cap : 1)))
        return POND_ENOMEM;
    size_t n = cap;
    bool ok = true;
    switch (codec) {
    case PQ_CODEC_UNCOMPRESSED:
        memcpy(dst, src, src_len);
        n = src_len;
        break;
    case PQ_CODEC_SNAPPY:
        ok = snappy_compress((const char *)src, src_len, (char *)dst, &n) == SNAPPY_OK;
        break;
    case PQ_CODEC_GZIP: {
        z_stream z;
        memset(&z, 0, sizeof z);
        ok = deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
        if (ok) {
            z.next_in = (Bytef *)(uintptr_t)src;
            z.avail_in = (uInt)src_len;
            z.next_out = dst;
            z.avail_out = (uInt)cap;
            ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
            n = z.total_out;
            deflateEnd(&z);
        }
        break;
    }
    case PQ_CODEC_ZSTD:
        n = ZSTD_compress(dst, cap, src, src_len, 3);
        ok = !ZSTD_isError(n);
        break;
    case PQ_CODEC_LZ4_RAW: {
        int r = LZ4_compress_default((const char *)src, (char *)dst, (int)src_len, (int)cap);
        ok = r > 0 || src_len == 0;
        n = r > 0 ? (size_t)r : 0;
        break;
    }
    case PQ_CODEC_BROTLI:
        ok = BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, src_len, src, &n,
                                   dst) == BROTLI_TRUE;
        break;
    default:
        break;
    }
    if (!ok) {
        pond_free(dst);
        return pond_error_set(POND_ERROR, POND_DOM_PARQUET, "compress: %s failed",
                              pond_pq_codec_name(codec));
    }
    *out = dst;
    *out_len = n;
    return 0;
}
