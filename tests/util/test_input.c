/* The input stack: decompression by magic number, text decoding, BOM, errors with line/byte. */
#include "pt.h"

#include <pond/buf.h>
#include <pond/input.h>

#include <bzlib.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* Reads everything (with reads of `chunk` bytes) into out. */
static int drain(pond_buf *out, pond_input *in, size_t chunk)
{
    char buf[4096];
    for (;;) {
        size_t n;
        int rc = pond_input_read(in, buf, (chunk < sizeof buf ? chunk : sizeof buf), &n);
        if (rc < 0)
            return rc;
        if (n == 0)
            return 0;
        if ((rc = pond_buf_put(out, buf, n)) < 0)
            return rc;
    }
}

static int read_all(pond_buf *out, const void *data, size_t len, pond_input_encoding enc)
{
    pond_input_options o = POND_INPUT_OPTIONS_INIT;
    o.encoding = enc;
    o.name = "t.csv";
    pond_input *in = NULL;
    int rc = pond_input_open_mem(&in, data, len, &o);
    if (rc == 0)
        rc = drain(out, in, 4096);
    pond_input_free(in);
    return rc;
}

#define EXPECT_TEXT(data, len, enc, want)                                                          \
    do {                                                                                           \
        pond_buf b_ = POND_BUF_INIT;                                                               \
        PT_ASSERT_OK(read_all(&b_, data, len, enc));                                               \
        PT_ASSERT_INT_EQ(b_.size, strlen(want));                                                   \
        PT_ASSERT(b_.size == 0 || memcmp(b_.ptr, want, b_.size) == 0);                             \
        pond_buf_dispose(&b_);                                                                     \
    } while (0)

#define EXPECT_FAIL(data, len, enc, code, msg)                                                     \
    do {                                                                                           \
        pond_buf b_ = POND_BUF_INIT;                                                               \
        PT_ASSERT_ERR(read_all(&b_, data, len, enc), code);                                        \
        PT_ASSERT_MSG_HAS(msg);                                                                    \
        pond_buf_dispose(&b_);                                                                     \
    } while (0)

static void test_utf8_valid_and_bom(void)
{
    const char s[] = "a,b\n\xc3\xa9t\xc3\xa9,\xe2\x82\xac\xf0\x9f\x8c\x8a\n";
    EXPECT_TEXT(s, sizeof s - 1, POND_INPUT_AUTO, s);
    const char bom[] = "\xEF\xBB\xBFx\n1\n";
    EXPECT_TEXT(bom, sizeof bom - 1, POND_INPUT_AUTO, "x\n1\n");
    EXPECT_TEXT("", 0, POND_INPUT_AUTO, "");
    EXPECT_TEXT("\xEF\xBB\xBF", 3, POND_INPUT_AUTO, "");
}

static void test_utf8_invalid_names_line_and_byte(void)
{
    const char latin1[] = "name,city\nx,Z\xfcrich\n";
    EXPECT_FAIL(latin1, sizeof latin1 - 1, POND_INPUT_AUTO, POND_ECORRUPT,
                "t.csv: line 2, byte 13: invalid UTF-8");
    PT_ASSERT_MSG_HAS("--encoding latin1 or cp1252");
    const char overlong[] = "ab\xc0\xaf";
    EXPECT_FAIL(overlong, sizeof overlong - 1, POND_INPUT_AUTO, POND_ECORRUPT,
                "line 1, byte 2: invalid UTF-8");
    const char surrogate[] = "\n\n\xed\xa0\x80";
    EXPECT_FAIL(surrogate, sizeof surrogate - 1, POND_INPUT_AUTO, POND_ECORRUPT,
                "line 3, byte 2: invalid UTF-8");
    const char cut[] = "ok\xe2\x82";
    EXPECT_FAIL(cut, sizeof cut - 1, POND_INPUT_AUTO, POND_ECORRUPT,
                "byte 2: the file ends inside a UTF-8 character");
    const char nul[] = "a\0b";
    EXPECT_FAIL(nul, sizeof nul - 1, POND_INPUT_AUTO, POND_ECORRUPT, "byte 1: NUL byte");
}

/* Lines of every length (so newlines fall at every place in the eight bytes the ASCII scan
 * reads at once) and then a bad byte or a NUL: the line and byte named are exact, across the
 * input's internal buffers too. */
static void test_bad_byte_after_many_lines(void)
{
    for (int bad = 0; bad < 2; bad++) {
        pond_buf in = POND_BUF_INIT;
        int64_t lines = 0;
        for (int k = 0; lines < 40000; k++, lines++) {
            for (int c = 0; c < k % 23; c++)
                PT_ASSERT_OK(pond_buf_putc(&in, (char)('a' + (k + c) % 26)));
            PT_ASSERT_OK(pond_buf_putc(&in, k % 5 == 0 ? '\t' : ','));
            PT_ASSERT_OK(pond_buf_putc(&in, '\n'));
        }
        size_t off = in.size + 3;
        PT_ASSERT_OK(pond_buf_put(&in, "abc", 3));
        PT_ASSERT_OK(pond_buf_put(&in, bad ? "\xff" : "\0", 1));
        char want[96];
        snprintf(want, sizeof want, "t.csv: line %lld, byte %zu: %s", (long long)lines + 1, off,
                 bad ? "invalid UTF-8" : "NUL byte");
        EXPECT_FAIL(in.ptr, in.size, POND_INPUT_AUTO, POND_ECORRUPT, want);
        pond_buf_dispose(&in);
    }
}

/* A multi-byte character that straddles internal buffers and tiny reads is never split. */
static void test_utf8_across_buffers(void)
{
    size_t n = 699999;
    char *s = malloc(n + 1);
    PT_ASSERT(s);
    for (size_t i = 0; i < n; i += 3)
        memcpy(s + i, i % 2 ? "\xe2\x82\xac" : "ab\n", 3);
    s[n] = 0;
    pond_input *in;
    PT_ASSERT_OK(pond_input_open_mem(&in, s, n, NULL));
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(drain(&b, in, 7));
    PT_ASSERT_INT_EQ(b.size, n);
    PT_ASSERT(memcmp(b.ptr, s, n) == 0);
    pond_buf_dispose(&b);
    pond_input_free(in);
    free(s);
}

static void test_latin1_cp1252(void)
{
    const char s[] = "Z\xfcrich,\x80,\x93q\x94\n";
    EXPECT_TEXT(s, sizeof s - 1, POND_INPUT_LATIN1, "Z\xc3\xbcrich,\xc2\x80,\xc2\x93q\xc2\x94\n");
    EXPECT_TEXT(s, sizeof s - 1, POND_INPUT_CP1252,
                "Z\xc3\xbcrich,\xe2\x82\xac,\xe2\x80\x9cq\xe2\x80\x9d\n");
    const char undef[] = "ok\nx\x81y\n";
    EXPECT_FAIL(undef, sizeof undef - 1, POND_INPUT_CP1252, POND_ECORRUPT,
                "t.csv: line 2, byte 4: byte not defined in Windows-1252");
    pond_input_encoding e;
    PT_ASSERT_OK(pond_input_encoding_parse(&e, "Windows-1252"));
    PT_ASSERT_INT_EQ(e, POND_INPUT_CP1252);
    PT_ASSERT_ERR(pond_input_encoding_parse(&e, "ebcdic"), POND_EINVALID);
    PT_ASSERT_MSG_HAS("unknown encoding 'ebcdic'");
}

static void test_utf16(void)
{
    const char le_bom[] = "\xff\xfe"
                          "a\0,\0\xe9\0\n\0";
    const char be_bom[] = "\xfe\xff"
                          "\0a\0,\0\xe9\0\n";
    const char le[] = "a\0,\0\xe9\0\n\0";
    const char be[] = "\0a\0,\0\xe9\0\n";
    const char *want = "a,\xc3\xa9\n";
    /* a byte-order mark is enough without --encoding */
    EXPECT_TEXT(le_bom, sizeof le_bom - 1, POND_INPUT_AUTO, want);
    EXPECT_TEXT(be_bom, sizeof be_bom - 1, POND_INPUT_AUTO, want);
    EXPECT_TEXT(le_bom, sizeof le_bom - 1, POND_INPUT_UTF16, want);
    EXPECT_TEXT(be_bom, sizeof be_bom - 1, POND_INPUT_UTF16, want);
    EXPECT_TEXT(le, sizeof le - 1, POND_INPUT_UTF16, want); /* no mark: little-endian */
    EXPECT_TEXT(le, sizeof le - 1, POND_INPUT_UTF16LE, want);
    EXPECT_TEXT(be, sizeof be - 1, POND_INPUT_UTF16BE, want);
    EXPECT_TEXT(le_bom, sizeof le_bom - 1, POND_INPUT_UTF16LE, want);
    /* without a mark and without --encoding the NULs give it away */
    EXPECT_FAIL(le, sizeof le - 1, POND_INPUT_AUTO, POND_ECORRUPT, "--encoding utf-16le");
    EXPECT_FAIL(le_bom, sizeof le_bom - 1, POND_INPUT_UTF8, POND_ECORRUPT, "UTF-16 byte-order");
    const char odd[] = "a\0b";
    EXPECT_FAIL(odd, sizeof odd - 1, POND_INPUT_UTF16LE, POND_ECORRUPT,
                "ends inside a UTF-16 character");
    const char lone[] = "a\0\x00\xd8"
                        "b\0";
    EXPECT_FAIL(lone, sizeof lone - 1, POND_INPUT_UTF16LE, POND_ECORRUPT, "byte 2");
}

/* ---- compression ---------------------------------------------------------------------------- */

static void gzip_of(pond_buf *out, const char *s, size_t n)
{
    z_stream z = {0};
    PT_ASSERT(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    PT_ASSERT_OK(pond_buf_grow(out, out->size + deflateBound(&z, n) + 32));
    z.next_in = (Bytef *)s;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->ptr + out->size;
    z.avail_out = (uInt)(out->asize - out->size - 1);
    PT_ASSERT(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out->size += z.total_out;
    deflateEnd(&z);
}

static void compress_as(pond_buf *out, pond_input_compression c, const char *s, size_t n)
{
    pond_buf_clear(out);
    size_t cap = n + n / 2 + 4096;
    PT_ASSERT_OK(pond_buf_grow(out, cap));
    switch (c) {
    case POND_INPUT_GZIP:
        gzip_of(out, s, n);
        break;
    case POND_INPUT_ZSTD: {
        size_t r = ZSTD_compress(out->ptr, cap, s, n, 3);
        PT_ASSERT(!ZSTD_isError(r));
        out->size = r;
        break;
    }
    case POND_INPUT_BZIP2: {
        unsigned len = (unsigned)cap;
        PT_ASSERT(BZ2_bzBuffToBuffCompress(out->ptr, &len, (char *)s, (unsigned)n, 9, 0, 0) ==
                  BZ_OK);
        out->size = len;
        break;
    }
    case POND_INPUT_XZ: {
        size_t pos = 0;
        PT_ASSERT(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (const uint8_t *)s, n,
                                          (uint8_t *)out->ptr, &pos, cap) == LZMA_OK);
        out->size = pos;
        break;
    }
    default:
        break;
    }
}

static void test_compressed_formats(void)
{
    size_t n = pt_light() ? 200000 : 3000000; /* several internal buffers' worth */
    char *text = malloc(n);
    PT_ASSERT(text);
    for (size_t i = 0; i < n; i++)
        text[i] = i % 61 == 60 ? '\n' : (char)('a' + (i * 7 + i / 61) % 26);
    pond_input_compression kinds[] = {POND_INPUT_GZIP, POND_INPUT_ZSTD, POND_INPUT_BZIP2,
                                      POND_INPUT_XZ};
    for (size_t k = 0; k < 4; k++) {
        pond_buf z = POND_BUF_INIT, got = POND_BUF_INIT;
        compress_as(&z, kinds[k], text, n);
        PT_ASSERT(z.size < n);
        pond_input *in;
        PT_ASSERT_OK(pond_input_open_mem(&in, z.ptr, z.size, NULL));
        size_t before = pond_alloc_current();
        pond_alloc_reset_peak();
        PT_ASSERT_OK(drain(&got, in, 4096));
        PT_ASSERT_INT_EQ(pond_input_compression_of(in), kinds[k]);
        PT_ASSERT_INT_EQ(got.size, n);
        PT_ASSERT(memcmp(got.ptr, text, n) == 0);
        /* bounded: the output buffer grew to n, the input stack itself stays small */
        PT_ASSERT(pond_alloc_peak() - before < got.asize + ((size_t)2 << 20));
        pond_input_free(in);
        /* truncated: a clear error, never a short read taken for the end */
        PT_ASSERT_OK(pond_input_open_mem(&in, z.ptr, z.size * 2 / 3, NULL));
        pond_buf_clear(&got);
        PT_ASSERT_ERR(drain(&got, in, 4096), POND_ECORRUPT);
        PT_ASSERT_MSG_HAS(pond_input_compression_name(kinds[k]));
        pond_input_free(in);
        pond_buf_dispose(&z);
        pond_buf_dispose(&got);
    }
    free(text);
}

static void test_gzip_members_and_garbage(void)
{
    pond_buf z = POND_BUF_INIT, got = POND_BUF_INIT;
    gzip_of(&z, "a,b\n", 4);
    gzip_of(&z, "1,2\n", 4); /* two members, as `cat a.gz b.gz` makes */
    pond_input *in;
    PT_ASSERT_OK(pond_input_open_mem(&in, z.ptr, z.size, NULL));
    PT_ASSERT_OK(drain(&got, in, 3));
    PT_ASSERT_INT_EQ(got.size, 8);
    PT_ASSERT(memcmp(got.ptr, "a,b\n1,2\n", 8) == 0);
    pond_input_free(in);
    PT_ASSERT_OK(pond_buf_put(&z, "junk", 4));
    pond_buf_clear(&got);
    PT_ASSERT_ERR(read_all(&got, z.ptr, z.size, POND_INPUT_AUTO), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("unexpected data after the end of the gzip stream");
    /* a flipped byte in the deflate data */
    pond_buf_clear(&z);
    gzip_of(&z, "hello hello hello hello\n", 24);
    z.ptr[12] ^= 0x55;
    pond_buf_clear(&got);
    PT_ASSERT(read_all(&got, z.ptr, z.size, POND_INPUT_AUTO) == POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("t.csv: gzip data is corrupt");
    pond_buf_dispose(&z);
    pond_buf_dispose(&got);
}

static void test_binary_and_archives_named(void)
{
    EXPECT_FAIL("PK\x03\x04zzzz", 8, POND_INPUT_AUTO, POND_EUNSUPPORTED,
                "t.csv: looks like a zip archive");
    EXPECT_FAIL("PAR1\0\0\0\0", 8, POND_INPUT_AUTO, POND_EINVALID, "looks like a Parquet file");
    EXPECT_FAIL("\x89PNG\r\n", 6, POND_INPUT_AUTO, POND_EINVALID, "looks like a PNG image");
    pond_buf z = POND_BUF_INIT, zz = POND_BUF_INIT;
    gzip_of(&z, "a\n", 2);
    gzip_of(&zz, z.ptr, z.size);
    EXPECT_FAIL(zz.ptr, zz.size, POND_INPUT_AUTO, POND_EINVALID, "compressed twice");
    pond_buf_dispose(&z);
    pond_buf_dispose(&zz);
}

static void test_peek_then_read(void)
{
    const char s[] = "\xEF\xBB\xBFh1;h2\n1;2\n";
    pond_input *in;
    PT_ASSERT_OK(pond_input_open_mem(&in, s, sizeof s - 1, NULL));
    const char *p;
    size_t n;
    PT_ASSERT_OK(pond_input_peek(in, &p, &n, 5));
    PT_ASSERT_INT_EQ(n, 5);
    PT_ASSERT(!memcmp(p, "h1;h2", 5));
    PT_ASSERT_OK(pond_input_peek(in, &p, &n, 1000));
    PT_ASSERT_INT_EQ(n, sizeof s - 4);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(drain(&b, in, 4));
    PT_ASSERT_INT_EQ(b.size, sizeof s - 4);
    pond_buf_dispose(&b);
    pond_input_free(in);
}

/* Standard input and pipes: short reads of any size. */
static void test_pipe_source(void)
{
    int fds[2];
    PT_ASSERT(pipe(fds) == 0);
    pond_buf z = POND_BUF_INIT;
    compress_as(&z, POND_INPUT_ZSTD, "x,y\n1,2\n", 8);
    PT_ASSERT(write(fds[1], z.ptr, z.size) == (ssize_t)z.size);
    close(fds[1]);
    pond_input *in;
    PT_ASSERT_OK(pond_input_open_fd(&in, fds[0], NULL));
    pond_buf got = POND_BUF_INIT;
    PT_ASSERT_OK(drain(&got, in, 4096));
    PT_ASSERT_INT_EQ(got.size, 8);
    PT_ASSERT(!memcmp(got.ptr, "x,y\n1,2\n", 8));
    PT_ASSERT_STR_EQ(pond_input_name(in), "input");
    pond_input_free(in);
    close(fds[0]);
    PT_ASSERT_ERR(pond_input_open_file(&in, PT_TMPDIR(), NULL), POND_EISDIR);
    PT_ASSERT_MSG_HAS("is a directory");
    pond_buf_dispose(&z);
    pond_buf_dispose(&got);
}

/* Reads of `cap` bytes (a heap buffer: cap may exceed drain's) until the end or an error:
 * everything delivered before it in *out, the message in msg. */
static int drain_cap(pond_buf *out, char *msg, size_t msg_cap, const pond_buf *data,
                     pond_input_encoding enc, size_t cap)
{
    pond_input_options o = POND_INPUT_OPTIONS_INIT;
    o.encoding = enc;
    o.name = "t.csv";
    pond_input *in = NULL;
    char *buf = malloc(cap);
    int rc = buf ? pond_input_open_mem(&in, data->ptr, data->size, &o) : POND_ENOMEM;
    if (rc == 0 && cap > 3) { /* a peek first, as the import's sniffing does */
        const char *p;
        size_t n;
        rc = pond_input_peek(in, &p, &n, 3);
    }
    while (rc == 0) {
        size_t n;
        if ((rc = pond_input_read(in, buf, cap, &n)) < 0 || n == 0)
            break;
        rc = pond_buf_put(out, buf, n);
    }
    snprintf(msg, msg_cap, "%s", rc < 0 ? pond_error_last()->message : "");
    pond_input_free(in);
    free(buf);
    return rc;
}

/* Reads of 512 KiB and more decode straight into the caller's buffer (no copy through the
 * input's own one): the same text, the same error, and the same text delivered before the
 * error as reads of 61 bytes, for UTF-8 (BOM, characters across buffers, a bad byte or a NUL
 * past the first 512 KiB), Latin-1 and UTF-16 (iconv) and gzip input. */
static void test_large_reads_match_small_reads(void)
{
    size_t caps[] = {512 << 10, 1 << 20, (1 << 20) + 17, 3 << 20};
    size_t n_caps = pt_light() ? 2 : sizeof caps / sizeof caps[0];
    for (int v = 0; v < 6; v++) {
        pond_buf data = POND_BUF_INIT;
        pond_input_encoding enc = v == 3 ? POND_INPUT_LATIN1 : POND_INPUT_AUTO;
        if (v == 1 || v == 5)
            PT_ASSERT_OK(pond_buf_put(&data, "\xEF\xBB\xBF", 3));
        for (int k = 0; data.size < (size_t)(pt_light() ? 700 : 2600) << 10; k++) {
            char line[64];
            int n = snprintf(line, sizeof line, "%d,x%s,%d.5\n", k,
                             v == 3  ? "\xe9"
                             : k % 7 ? "y"
                                     : "\xc3\xa9\xe2\x82\xac",
                             k * 3);
            PT_ASSERT_OK(pond_buf_put(&data, line, (size_t)n));
        }
        if (v == 2)
            PT_ASSERT_OK(pond_buf_put(&data, "tail,\xff\n", 7));
        if (v == 5)
            PT_ASSERT_OK(pond_buf_put(&data, "tail,\0\n", 7));
        if (v == 4) { /* UTF-16LE with a byte-order mark */
            pond_buf w = POND_BUF_INIT;
            PT_ASSERT_OK(pond_buf_put(&w, "\xFF\xFE", 2));
            for (size_t i = 0; i < data.size; i++) {
                PT_ASSERT_OK(pond_buf_putc(&w, (char)((unsigned char)data.ptr[i] & 0x7F)));
                PT_ASSERT_OK(pond_buf_putc(&w, 0));
            }
            pond_buf_dispose(&data);
            data = w;
        }
        if (v == 1) {
            pond_buf z = POND_BUF_INIT;
            gzip_of(&z, data.ptr, data.size);
            pond_buf_dispose(&data);
            data = z;
        }
        pond_buf small = POND_BUF_INIT;
        char small_msg[256], big_msg[256];
        int small_rc = drain_cap(&small, small_msg, sizeof small_msg, &data, enc, 61);
        PT_ASSERT_INT_EQ(small_rc < 0, v == 2 || v == 5);
        for (size_t c = 0; c < n_caps; c++) {
            pond_buf big = POND_BUF_INIT;
            int big_rc = drain_cap(&big, big_msg, sizeof big_msg, &data, enc, caps[c]);
            PT_ASSERT_INT_EQ(big_rc, small_rc);
            PT_ASSERT_STR_EQ(big_msg, small_msg);
            PT_ASSERT_INT_EQ(big.size, small.size);
            PT_ASSERT(memcmp(big.ptr, small.ptr, small.size) == 0);
            pond_buf_dispose(&big);
        }
        if (v == 2)
            PT_ASSERT(strstr(small_msg, "invalid UTF-8"));
        if (v == 5)
            PT_ASSERT(strstr(small_msg, "NUL byte"));
        pond_buf_dispose(&small);
        pond_buf_dispose(&data);
    }
}

/* Plain UTF-8 read in reads of 1 MiB is checked in place in the caller's buffer: a character
 * cut by the end of a fill (256 KiB of source at a time) at each of its bytes, a bad byte, a
 * cut character and a NUL at and after that place give the same text, the same error and the
 * same text before the error as reads of 61 bytes. */
static void test_in_place_reads_match_small_reads(void)
{
    static const char *const tails[] = {"", "\xff", "\xe2\x82", "\0", "\xc3"};
    for (size_t shift = 0; shift < 4; shift++)
        for (size_t t = 0; t < sizeof tails / sizeof *tails; t++) {
            pond_buf data = POND_BUF_INIT;
            size_t edge = (size_t)256 << 10;
            while (data.size < edge - 3 - shift - 8) /* ASCII lines up to near the edge */
                PT_ASSERT_OK(pond_buf_put(&data, "ab,cd\n", 6));
            while (data.size < edge - 3 + shift)
                PT_ASSERT_OK(pond_buf_putc(&data, 'x'));
            PT_ASSERT_OK(pond_buf_put(&data, "\xe2\x82\xac,\xc3\xa9\n", 7)); /* across it */
            size_t tl = t == 3 ? 1 : strlen(tails[t]);
            for (int k = 0; k < 3000; k++)
                PT_ASSERT_OK(pond_buf_put(&data, "1,\xc3\xa9\n", 5));
            if (t == 2 || t == 4) { /* a cut character at the very end */
                PT_ASSERT_OK(pond_buf_put(&data, tails[t], tl));
            } else {
                PT_ASSERT_OK(pond_buf_put(&data, tails[t], tl));
                PT_ASSERT_OK(pond_buf_put(&data, "z\n", 2));
            }
            pond_buf small = POND_BUF_INIT, big = POND_BUF_INIT;
            char small_msg[256], big_msg[256];
            int small_rc =
                drain_cap(&small, small_msg, sizeof small_msg, &data, POND_INPUT_AUTO, 61);
            PT_ASSERT_INT_EQ(small_rc < 0, t != 0);
            int big_rc = drain_cap(&big, big_msg, sizeof big_msg, &data, POND_INPUT_AUTO, 1 << 20);
            PT_ASSERT_INT_EQ(big_rc, small_rc);
            PT_ASSERT_STR_EQ(big_msg, small_msg);
            PT_ASSERT_INT_EQ(big.size, small.size);
            PT_ASSERT(memcmp(big.ptr, small.ptr, small.size) == 0);
            if (t == 0)
                PT_ASSERT(small.size == data.size && !memcmp(small.ptr, data.ptr, data.size));
            pond_buf_dispose(&small);
            pond_buf_dispose(&big);
            pond_buf_dispose(&data);
        }
}

static int input_alloc_body(void *arg)
{
    const pond_buf *z = arg;
    pond_buf got = POND_BUF_INIT;
    pond_input_options o = POND_INPUT_OPTIONS_INIT;
    o.encoding = POND_INPUT_CP1252;
    pond_input *in = NULL;
    int rc = pond_input_open_mem(&in, z->ptr, z->size, &o);
    if (rc == 0)
        rc = drain(&got, in, 4096);
    pond_input_free(in);
    pond_buf_dispose(&got);
    return rc;
}

static void test_alloc_faults(void)
{
    uint64_t steps;
    pond_buf z = POND_BUF_INIT;
    gzip_of(&z, "a,b\n1,\x80\n", 8);
    PT_ALLOC_FAULT_LOOP(steps, input_alloc_body, &z);
    PT_ASSERT(steps > 3);
    pond_buf_dispose(&z);
}

PT_SUITE(input, PT_TEST(utf8_valid_and_bom), PT_TEST(utf8_invalid_names_line_and_byte),
         PT_TEST(bad_byte_after_many_lines), PT_TEST(utf8_across_buffers), PT_TEST(latin1_cp1252),
         PT_TEST(utf16), PT_TEST(compressed_formats), PT_TEST(gzip_members_and_garbage),
         PT_TEST(binary_and_archives_named), PT_TEST(peek_then_read), PT_TEST(pipe_source),
         PT_TEST(alloc_faults), PT_TEST(large_reads_match_small_reads),
         PT_TEST(in_place_reads_match_small_reads))
