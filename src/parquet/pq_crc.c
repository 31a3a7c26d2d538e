/* CRC-32 (the zlib/gzip polynomial) of page bytes. On x86-64 with PCLMULQDQ the bulk of the
 * buffer is folded 64 bytes at a time with carry-less multiplication (the method of Intel's
 * "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ"), several times faster than
 * table-driven code; the tail and other machines use zlib. */
#include "parquet/pq_crc.h"

#include <zlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define PQ_CRC_CLMUL 1

/* Fold constants for the bit-reflected polynomial 0x104C11DB7: x^(4*128+32), x^(4*128-32)
 * mod P (64-byte folds), x^(128+32), x^(128-32) mod P (16-byte folds), x^64 mod P, and the
 * Barrett pair (P, floor(x^64 / P)), all bit-reflected. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_clmul(uint32_t crc, const uint8_t *p,
                                                                   size_t len)
{
    /* len >= 64 and a multiple of 16; crc is the raw (inverted) register */
    const __m128i k12 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
    const __m128i k34 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
    const __m128i poly = _mm_set_epi64x(0x1F7011641, 0x1DB710641);
    const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    p += 64;
    len -= 64;
    while (len >= 64) {
        __m128i t1 = _mm_clmulepi64_si128(x1, k12, 0x00);
        __m128i t2 = _mm_clmulepi64_si128(x2, k12, 0x00);
        __m128i t3 = _mm_clmulepi64_si128(x3, k12, 0x00);
        __m128i t4 = _mm_clmulepi64_si128(x4, k12, 0x00);
        x1 = _mm_clmulepi64_si128(x1, k12, 0x11);
        x2 = _mm_clmulepi64_si128(x2, k12, 0x11);
        x3 = _mm_clmulepi64_si128(x3, k12, 0x11);
        x4 = _mm_clmulepi64_si128(x4, k12, 0x11);
        x1 =
            _mm_xor_si128(_mm_xor_si128(x1, t1), _mm_loadu_si128((const __m128i *)(const void *)p));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, t2),
                           _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, t3),
                           _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, t4),
                           _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
        p += 64;
        len -= 64;
    }
    /* fold the four lanes into one */
    __m128i t = _mm_clmulepi64_si128(x1, k34, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k34, 0x11), t), x2);
    t = _mm_clmulepi64_si128(x1, k34, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k34, 0x11), t), x3);
    t = _mm_clmulepi64_si128(x1, k34, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k34, 0x11), t), x4);
    while (len >= 16) {
        t = _mm_clmulepi64_si128(x1, k34, 0x00);
        x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k34, 0x11), t),
                           _mm_loadu_si128((const __m128i *)(const void *)p));
        p += 16;
        len -= 16;
    }
    /* 128 -> 64 bits (appending 32 zero bits), then 64 -> 32 */
    t = _mm_clmulepi64_si128(k34, x1, 0x01);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
    t = _mm_srli_si128(x1, 4);
    x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00);
    x1 = _mm_xor_si128(x1, t);
    /* Barrett reduction */
    t = _mm_and_si128(x1, mask32);
    t = _mm_clmulepi64_si128(t, poly, 0x10);
    t = _mm_and_si128(t, mask32);
    t = _mm_clmulepi64_si128(t, poly, 0x00);
    x1 = _mm_xor_si128(x1, t);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}

static int have_clmul(void)
{
    static int cached = -1;
    int c = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (c < 0) {
        __builtin_cpu_init();
        c = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
        __atomic_store_n(&cached, c, __ATOMIC_RELAXED);
    }
    return c;
}
#endif

static uint32_t crc_zlib(uint32_t crc, const uint8_t *p, size_t len)
{
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = (uint32_t)crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
}

uint32_t pond_pq_crc32(uint32_t crc, const uint8_t *p, size_t len)
{
#ifdef PQ_CRC_CLMUL
    if (len >= 64 && have_clmul()) {
        size_t bulk = len & ~(size_t)15;
        crc = ~crc_clmul(~crc, p, bulk);
        p += bulk;
        len -= bulk;
    }
#endif
    return crc_zlib(crc, p, len);
}

uint32_t pond_pq_crc32_portable(uint32_t crc, const uint8_t *p, size_t len)
{
    return crc_zlib(crc, p, len);
}
