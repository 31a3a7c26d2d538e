/* Parquet encodings and codecs. Expected bytes are hand-encoded from the format spec, or
 * produced by the small reference encoders below (independent of the decoders). */
#include "pt.h"

#include "parquet/parquet_write.h"
#include "parquet/pq_codec.h"
#include "parquet/pq_encoding.h"
#include "parquet/pq_meta.h"

#include <lz4.h>

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_rle_hybrid_spec_example(void)
{
    /* RLE run: 5 x 4; bit-packed run of one group: 0..7 at width 3 (spec: 0x88 0xC6 0xFA) */
    const uint8_t data[] = {0x0a, 0x04, 0x03, 0x88, 0xc6, 0xfa};
    uint32_t out[13];
    pq_rle r;
    pond_pq_rle_init(&r, data, sizeof data, 3, "test");
    PT_ASSERT_OK(pond_pq_rle_get(&r, out, 13));
    const uint32_t want[13] = {4, 4, 4, 4, 4, 0, 1, 2, 3, 4, 5, 6, 7};
    PT_ASSERT_MEM_EQ(out, want, sizeof want);
    /* asking for more than the data holds fails */
    pond_pq_rle_init(&r, data, sizeof data, 3, "test");
    PT_ASSERT_OK(pond_pq_rle_get(&r, out, 13));
    uint32_t more[14];
    pond_pq_rle_init(&r, data, sizeof data, 3, "test");
    PT_ASSERT_ERR(pond_pq_rle_get(&r, more, 14), POND_ECORRUPT);
    /* in pieces across run boundaries */
    pond_pq_rle_init(&r, data, sizeof data, 3, "test");
    for (int i = 0; i < 13; i++) {
        uint32_t v;
        PT_ASSERT_OK(pond_pq_rle_get(&r, &v, 1));
        PT_ASSERT_INT_EQ(v, want[i]);
    }
    /* as levels with a maximum of 5: 6 and 7 are rejected */
    int16_t lv[13];
    pond_pq_rle_init(&r, data, sizeof data, 3, "levels");
    PT_ASSERT_ERR(pond_pq_rle_get_levels(&r, lv, 13, 5), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("level above");
    pond_pq_rle_init(&r, data, sizeof data, 3, "levels");
    PT_ASSERT_OK(pond_pq_rle_get_levels(&r, lv, 13, 7));
    PT_ASSERT_INT_EQ(lv[12], 7);
    PT_ASSERT_INT_EQ(lv[0], 4);
    /* an RLE value wider than the bit width is corrupt */
    const uint8_t wide[] = {0x02, 0x09};
    pond_pq_rle_init(&r, wide, sizeof wide, 3, "test");
    PT_ASSERT_ERR(pond_pq_rle_get(&r, out, 1), POND_ECORRUPT);
    /* width 0: RLE runs of zeros */
    const uint8_t zero[] = {0x20};
    pond_pq_rle_init(&r, zero, sizeof zero, 0, "test");
    PT_ASSERT_OK(pond_pq_rle_get(&r, out, 13));
    PT_ASSERT_INT_EQ(out[12], 0);
}

static void test_unpack_pack_round_trip(void)
{
    uint64_t in[100], out[100];
    uint32_t out32[100];
    uint8_t packed[100 * 8 + 8];
    for (int bw = 0; bw <= 64; bw++) {
        uint64_t mask = bw == 64 ? ~0ULL : ((1ULL << bw) - 1);
        for (int i = 0; i < 100; i++)
            in[i] = rnd() & mask;
        memset(packed, 0, sizeof packed);
        pond_pq_pack64(packed, bw, in, 100);
        size_t bytes = (size_t)(100 * bw + 7) / 8;
        pond_pq_unpack64(packed, bytes, bw, out, 100);
        PT_ASSERT_MEM_EQ(out, in, sizeof in);
        if (bw <= 32) {
            pond_pq_unpack32(packed, bytes, bw, out32, 100);
            for (int i = 0; i < 100; i++)
                PT_ASSERT_INT_EQ(out32[i], in[i]);
        }
    }
}

/* A reference DELTA_BINARY_PACKED encoder (block 128, 4 miniblocks of 32). */
static void put_uvar(pond_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        pond_buf_putc(b, (char)(v | 0x80));
        v >>= 7;
    }
    pond_buf_putc(b, (char)v);
}

static uint64_t zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static void ref_delta_encode(pond_buf *b, const int64_t *v, size_t n)
{
    put_uvar(b, 128);
    put_uvar(b, 4);
    put_uvar(b, n);
    put_uvar(b, zz(n ? v[0] : 0));
    for (size_t start = 1; start < n; start += 128) {
        uint64_t d[128];
        size_t k = n - start < 128 ? n - start : 128;
        int64_t min = INT64_MAX;
        for (size_t i = 0; i < k; i++) {
            d[i] = (uint64_t)v[start + i] - (uint64_t)v[start + i - 1];
            if ((int64_t)d[i] < min)
                min = (int64_t)d[i];
        }
        put_uvar(b, zz(min));
        uint8_t widths[4] = {0};
        size_t nmini = (k + 31) / 32;
        for (size_t m = 0; m < nmini; m++) {
            uint64_t mx = 0;
            for (size_t i = m * 32; i < (m + 1) * 32 && i < k; i++) {
                d[i] -= (uint64_t)min;
                if (d[i] > mx)
                    mx = d[i];
            }
            while (widths[m] < 64 && (mx >> widths[m]))
                widths[m]++;
        }
        pond_buf_put(b, widths, 4);
        for (size_t m = 0; m < nmini; m++) {
            uint64_t vals[32] = {0};
            for (size_t i = 0; i < 32 && m * 32 + i < k; i++)
                vals[i] = d[m * 32 + i];
            uint8_t bytes[32 * 8] = {0};
            pond_pq_pack64(bytes, widths[m], vals, 32);
            pond_buf_put(b, bytes, (size_t)widths[m] * 4);
        }
    }
}

static void test_delta_binary_packed(void)
{
    /* spec example: 7 5 3 1 2 3 4 5, hand-encoded */
    const uint8_t ex[] = {0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 0x02, 0x00, 0x00,
                          0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    int64_t out[600];
    size_t n, used;
    PT_ASSERT_OK(pond_pq_delta_decode(ex, sizeof ex, out, 8, &n, &used, "test"));
    PT_ASSERT_INT_EQ(n, 8);
    PT_ASSERT_INT_EQ(used, sizeof ex);
    const int64_t want[8] = {7, 5, 3, 1, 2, 3, 4, 5};
    PT_ASSERT_MEM_EQ(out, want, sizeof want);
    /* a capacity below the header's count is refused before writing */
    PT_ASSERT_ERR(pond_pq_delta_decode(ex, sizeof ex, out, 7, &n, &used, "test"), POND_ECORRUPT);
    /* truncation anywhere fails */
    for (size_t cut = 0; cut < 12; cut++)
        PT_ASSERT_ERR(pond_pq_delta_decode(ex, cut, out, 8, &n, &used, "test"), POND_ECORRUPT);

    /* random sequences including wrapping extremes, through the reference encoder */
    for (int round = 0; round < 20; round++) {
        int64_t v[600];
        size_t cnt = (size_t)(rnd() % 600);
        for (size_t i = 0; i < cnt; i++) {
            switch (round % 4) {
            case 0:
                v[i] = (int64_t)(rnd() % 1000) - 500;
                break;
            case 1:
                v[i] = (int64_t)rnd();
                break;
            case 2:
                v[i] = i % 2 ? INT64_MIN : INT64_MAX;
                break;
            default:
                v[i] = (int64_t)i * 1000 + (int64_t)(rnd() % 3);
                break;
            }
        }
        pond_buf b = POND_BUF_INIT;
        ref_delta_encode(&b, v, cnt);
        PT_ASSERT_OK(
            pond_pq_delta_decode((const uint8_t *)b.ptr, b.size, out, 600, &n, &used, "t"));
        PT_ASSERT_INT_EQ(n, cnt);
        PT_ASSERT_INT_EQ(used, b.size);
        PT_ASSERT(cnt == 0 || memcmp(out, v, cnt * sizeof *v) == 0);
        pond_buf_dispose(&b);
    }
    /* bad headers: block size not a multiple of 128, zero miniblocks */
    const uint8_t bad1[] = {0x40, 0x04, 0x01, 0x00};
    const uint8_t bad2[] = {0x80, 0x01, 0x00, 0x01, 0x00};
    PT_ASSERT_ERR(pond_pq_delta_decode(bad1, sizeof bad1, out, 8, &n, &used, "t"), POND_ECORRUPT);
    PT_ASSERT_ERR(pond_pq_delta_decode(bad2, sizeof bad2, out, 8, &n, &used, "t"), POND_ECORRUPT);
}

static void test_delta_encoder_matches_spec_and_reference(void)
{
    /* the writer's encoder: the spec example's bytes, then the reference encoder's bytes for
     * random INT64 sequences (block and miniblock edges, wrapping extremes), decoded back */
    const uint8_t ex[] = {0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 0x02, 0x00, 0x00,
                          0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    const int64_t exv[8] = {7, 5, 3, 1, 2, 3, 4, 5};
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_pqw__delta_encode(&b, exv, 8, 8));
    PT_ASSERT_INT_EQ(b.size, sizeof ex);
    PT_ASSERT_MEM_EQ(b.ptr, ex, sizeof ex);
    static const size_t sizes[] = {0, 1, 2, 32, 33, 127, 128, 129, 130, 160, 161, 256, 257, 599};
    int64_t v[600], out[600];
    int32_t v32[600], out32[600];
    for (int round = 0; round < 120; round++) {
        size_t cnt = round < 14 ? sizes[round] : (size_t)(rnd() % 600);
        for (size_t i = 0; i < cnt; i++) {
            switch (round % 5) {
            case 0:
                v[i] = (int64_t)(rnd() % 1000) - 500;
                break;
            case 1:
                v[i] = (int64_t)rnd();
                break;
            case 2:
                v[i] = (i + rnd() % 2) % 2 ? INT64_MIN : INT64_MAX;
                break;
            case 3:
                v[i] = 1700000000000000 - (int64_t)i * 1000000;
                break;
            default:
                v[i] = (int64_t)i * 1000 + (int64_t)(rnd() % 3);
                break;
            }
            v32[i] = round % 5 == 2 ? (v[i] < 0 ? INT32_MIN : INT32_MAX)
                                    : (int32_t)(uint32_t)(uint64_t)v[i];
        }
        pond_buf ref = POND_BUF_INIT;
        ref_delta_encode(&ref, v, cnt);
        b.size = 0;
        PT_ASSERT_OK(pond_pqw__delta_encode(&b, v, cnt, 8));
        if (b.size != ref.size || memcmp(b.ptr, ref.ptr, b.size) != 0)
            pt_fail(__FILE__, __LINE__, "round %d (%zu values): encoder differs from reference",
                    round, cnt);
        size_t n, used;
        PT_ASSERT_OK(
            pond_pq_delta_decode((const uint8_t *)b.ptr, b.size, out, 600, &n, &used, "t"));
        PT_ASSERT_INT_EQ(n, cnt);
        PT_ASSERT_INT_EQ(used, b.size);
        PT_ASSERT(cnt == 0 || memcmp(out, v, cnt * sizeof *v) == 0);
        pond_buf_dispose(&ref);
        /* INT32: deltas wrap at 32 bits, so no miniblock is wider than 32 bits */
        b.size = 0;
        PT_ASSERT_OK(pond_pqw__delta_encode(&b, v32, cnt, 4));
        PT_ASSERT_OK(
            pond_pq_delta_decode32((const uint8_t *)b.ptr, b.size, out32, 600, &n, &used, "t"));
        PT_ASSERT_INT_EQ(n, cnt);
        PT_ASSERT_INT_EQ(used, b.size);
        PT_ASSERT(cnt == 0 || memcmp(out32, v32, cnt * sizeof *v32) == 0);
        const uint8_t *p = (const uint8_t *)b.ptr, *end = p + b.size;
        uint64_t hdr;
        for (int k = 0; k < 4; k++)
            PT_ASSERT_OK(pond_pq_uvarint(&p, end, &hdr, "t"));
        for (size_t got = 1; got < cnt; got += 128) {
            PT_ASSERT_OK(pond_pq_uvarint(&p, end, &hdr, "t"));
            size_t bytes = 0;
            for (int m = 0; m < 4; m++) {
                PT_ASSERT(p[m] <= 32);
                bytes += (size_t)p[m] * 4;
            }
            p += 4 + bytes;
        }
        PT_ASSERT(p == end);
    }
    pond_buf_dispose(&b);
}

static void test_byte_stream_split_encoder(void)
{
    /* two doubles: stream k holds byte k of each value */
    const double d[2] = {1.0, -0.0};
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_pqw__split_encode(&b, d, 2, 8));
    const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0, 0x3f, 0x80};
    PT_ASSERT_INT_EQ(b.size, 16);
    PT_ASSERT_MEM_EQ(b.ptr, want, 16);
    /* random bits (NaN payloads, infinities, -0.0 are just bits here) of width 2, 4, 8 back
     * through the decoder */
    for (size_t w = 2; w <= 8; w *= 2) {
        uint8_t in[8 * 300], back[8 * 300];
        for (size_t n = 0; n < 300; n += 37) {
            for (size_t i = 0; i < n * w; i++)
                in[i] = (uint8_t)rnd();
            b.size = 0;
            PT_ASSERT_OK(pond_pqw__split_encode(&b, in, n, (int)w));
            PT_ASSERT_INT_EQ(b.size, n * w);
            PT_ASSERT_OK(
                pond_pq_byte_stream_split(back, (const uint8_t *)b.ptr, b.size, n, w, "t"));
            PT_ASSERT(n == 0 || memcmp(back, in, n * w) == 0);
        }
    }
    pond_buf_dispose(&b);
}

static void bytes_eq_list(pq_bytes_out *o, const char *const *want, size_t n)
{
    const int32_t *off = (const int32_t *)(void *)o->offsets.ptr;
    PT_ASSERT_INT_EQ(o->offsets.size, 4 * (n + 1));
    for (size_t i = 0; i < n; i++) {
        PT_ASSERT_INT_EQ(off[i + 1] - off[i], strlen(want[i]));
        PT_ASSERT_MEM_EQ(o->data.ptr + off[i], want[i], strlen(want[i]));
    }
}

static void test_byte_array_encodings(void)
{
    const char *words[] = {"Hello", "World", "Foobar", "ABCDEF"};
    /* DELTA_LENGTH_BYTE_ARRAY from the spec */
    pond_buf b = POND_BUF_INIT;
    int64_t lens[4] = {5, 5, 6, 6};
    ref_delta_encode(&b, lens, 4);
    pond_buf_puts(&b, "HelloWorldFoobarABCDEF");
    pq_bytes_out o = {POND_BUF_INIT, POND_BUF_INIT};
    PT_ASSERT_OK(
        pond_pq_delta_length_byte_arrays(&o, (const uint8_t *)b.ptr, b.size, 4, 1 << 20, "t"));
    bytes_eq_list(&o, words, 4);
    pond_buf_dispose(&o.data);
    pond_buf_dispose(&o.offsets);
    /* a length past the data */
    b.size -= 3;
    PT_ASSERT_ERR(
        pond_pq_delta_length_byte_arrays(&o, (const uint8_t *)b.ptr, b.size, 4, 1 << 20, "t"),
        POND_ECORRUPT);
    pond_buf_dispose(&o.data);
    pond_buf_dispose(&o.offsets);
    pond_buf_dispose(&b);

    /* DELTA_BYTE_ARRAY from the spec: axis axle babble babyhood */
    const char *dwords[] = {"axis", "axle", "babble", "babyhood"};
    int64_t pre[4] = {0, 2, 0, 3}, suf[4] = {4, 2, 6, 5};
    ref_delta_encode(&b, pre, 4);
    ref_delta_encode(&b, suf, 4);
    pond_buf_puts(&b, "axislebabbleyhood");
    PT_ASSERT_OK(pond_pq_delta_byte_arrays(&o, (const uint8_t *)b.ptr, b.size, 4, 1 << 20, "t"));
    bytes_eq_list(&o, dwords, 4);
    pond_buf_dispose(&o.data);
    pond_buf_dispose(&o.offsets);
    /* the data cap turns into a clear refusal */
    PT_ASSERT_ERR(pond_pq_delta_byte_arrays(&o, (const uint8_t *)b.ptr, b.size, 4, 10, "t"),
                  POND_EUNSUPPORTED);
    PT_ASSERT_MSG_HAS("limit");
    pond_buf_dispose(&o.data);
    pond_buf_dispose(&o.offsets);
    pond_buf_dispose(&b);
    /* a prefix longer than the previous value */
    int64_t badpre[2] = {0, 9}, badsuf[2] = {1, 1};
    ref_delta_encode(&b, badpre, 2);
    ref_delta_encode(&b, badsuf, 2);
    pond_buf_puts(&b, "ab");
    PT_ASSERT_ERR(pond_pq_delta_byte_arrays(&o, (const uint8_t *)b.ptr, b.size, 2, 1 << 20, "t"),
                  POND_ECORRUPT);
    pond_buf_dispose(&o.data);
    pond_buf_dispose(&o.offsets);
    pond_buf_dispose(&b);

    /* PLAIN */
    const uint8_t plain[] = {2, 0, 0, 0, 'h', 'i', 0, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 'c'};
    const char *pw[] = {"hi", "", "abc"};
    size_t used;
    PT_ASSERT_OK(pond_pq_plain_byte_arrays(&o, plain, sizeof plain, 3, &used, 1 << 20, "t"));
    PT_ASSERT_INT_EQ(used, sizeof plain);
    bytes_eq_list(&o, pw, 3);
    pond_buf_dispose(&o.data);
    pond_buf_dispose(&o.offsets);
    for (size_t cut = 0; cut < sizeof plain; cut++) {
        PT_ASSERT_ERR(pond_pq_plain_byte_arrays(&o, plain, cut, 3, &used, 1 << 20, "t"),
                      POND_ECORRUPT);
        pond_buf_dispose(&o.data);
        pond_buf_dispose(&o.offsets);
    }
}

static void test_byte_stream_split(void)
{
    /* two floats 1.0f (00 00 80 3f) and -2.0f (00 00 00 c0): streams of byte k */
    const uint8_t in[] = {0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x3f, 0xc0};
    float out[2];
    PT_ASSERT_OK(pond_pq_byte_stream_split((uint8_t *)out, in, sizeof in, 2, 4, "t"));
    PT_ASSERT(out[0] == 1.0f && out[1] == -2.0f);
    PT_ASSERT_ERR(pond_pq_byte_stream_split((uint8_t *)out, in, 7, 2, 4, "t"), POND_ECORRUPT);
}

static void test_codecs_round_trip(void)
{
    uint8_t src[5000];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i % 97 < 50 ? 'a' + i % 7 : rnd());
    const int codecs[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY,  PQ_CODEC_GZIP,
                          PQ_CODEC_ZSTD,         PQ_CODEC_LZ4_RAW, PQ_CODEC_BROTLI};
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++) {
        uint8_t *comp;
        size_t clen;
        uint8_t back[5000];
        PT_ASSERT_OK(pond_pq_compress(codecs[c], src, sizeof src, &comp, &clen));
        PT_ASSERT_OK(pond_pq_decompress(codecs[c], comp, clen, back, sizeof back, 0));
        PT_ASSERT_MEM_EQ(back, src, sizeof src);
        /* a wrong declared size or damaged data fails cleanly */
        PT_ASSERT_ERR(pond_pq_decompress(codecs[c], comp, clen, back, sizeof back - 1, 77),
                      POND_ECORRUPT);
        PT_ASSERT_MSG_HAS("offset 77");
        if (codecs[c] != PQ_CODEC_UNCOMPRESSED) {
            uint8_t bad[64];
            memset(bad, 0xa5, sizeof bad);
            PT_ASSERT_ERR(pond_pq_decompress(codecs[c], bad, sizeof bad, back, sizeof back, 0),
                          POND_ECORRUPT);
        }
        pond_free(comp);
    }
    /* the Hadoop-framed LZ4 codec: [be32 raw][be32 compressed][block] twice */
    uint8_t frame[2 * (8 + 3000)];
    size_t fl = 0;
    for (int part = 0; part < 2; part++) {
        const char *p = (const char *)src + part * 2500;
        int n = LZ4_compress_default(p, (char *)frame + fl + 8, 2500, 3000);
        PT_ASSERT(n > 0);
        uint32_t raw = 2500, cl = (uint32_t)n;
        for (int k = 0; k < 4; k++) {
            frame[fl + (size_t)k] = (uint8_t)(raw >> (24 - 8 * k));
            frame[fl + 4 + (size_t)k] = (uint8_t)(cl >> (24 - 8 * k));
        }
        fl += 8 + (size_t)n;
    }
    uint8_t back[5000];
    PT_ASSERT_OK(pond_pq_decompress(PQ_CODEC_LZ4, frame, fl, back, sizeof back, 0));
    PT_ASSERT_MEM_EQ(back, src, sizeof src);
    /* LZO is refused as unsupported */
    PT_ASSERT_ERR(pond_pq_decompress(PQ_CODEC_LZO, src, 10, back, 10, 0), POND_EUNSUPPORTED);
}

PT_SUITE(pq_encoding, PT_TEST(rle_hybrid_spec_example), PT_TEST(unpack_pack_round_trip),
         PT_TEST(delta_binary_packed), PT_TEST(byte_array_encodings), PT_TEST(byte_stream_split),
         PT_TEST(codecs_round_trip), PT_TEST(delta_encoder_matches_spec_and_reference),
         PT_TEST(byte_stream_split_encoder))
