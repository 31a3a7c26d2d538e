/* The input stack for text imports: source -> decompression -> decoding -> BOM skip. */
#include <pond/input.h>

#include "util/util.h"

#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <lzma.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define D POND_DOM_UTIL
#define RAW_CAP ((size_t)128 << 10)
#define DEC_CAP ((size_t)256 << 10)
#define OUT_CAP ((size_t)512 << 10)
_Static_assert(DEC_CAP <= OUT_CAP, "pond_input_read checks plain text in place");
/* xz streams declare their dictionary size; a hostile one could ask for gigabytes. */
#define XZ_MEMLIMIT ((uint64_t)256 << 20)

struct pond_input {
    pond_input_options opts;
    char *name;
    /* source */
    int fd;
    bool own_fd;
    const uint8_t *mem;
    size_t mem_len, mem_pos;
    /* compressed bytes */
    uint8_t *raw;
    size_t raw_pos, raw_len;
    bool raw_eof;
    int64_t raw_off; /* source offset of raw[0] */
    bool detected;
    pond_input_compression comp;
    bool codec_live;  /* a codec stream is initialised */
    bool member_done; /* the current stream/member ended; another may follow */
    z_stream z;
    ZSTD_DStream *zs;
    size_t zs_last; /* last ZSTD_decompressStream result: 0 at a frame boundary */
    bz_stream bz;
    lzma_stream xz;
    /* decompressed, undecoded bytes */
    uint8_t *dec;
    size_t dec_pos, dec_len;
    bool dec_eof;
    int64_t dec_off; /* decompressed offset of dec[0] */
    /* decoding */
    bool started;
    pond_input_encoding enc; /* resolved: UTF8, LATIN1, CP1252, UTF16LE or UTF16BE */
    iconv_t cd;
    /* decoded UTF-8 */
    char *out;
    size_t out_pos, out_len;
    bool out_eof;
    bool bom_checked;
    int64_t line;
    /* a failure sticks */
    int err;
    char errmsg[512];
};

static const char *const COMP_NAMES[] = {"plain", "gzip", "zstd", "bzip2", "xz"};

const char *pond_input_compression_name(pond_input_compression c)
{
    return (unsigned)c < POND_ARRAY_LEN(COMP_NAMES) ? COMP_NAMES[c] : "unknown";
}

int pond_input_encoding_parse(pond_input_encoding *out, const char *name)
{
    static const struct {
        const char *name;
        pond_input_encoding enc;
    } names[] = {
        {"utf-8", POND_INPUT_UTF8},        {"utf8", POND_INPUT_UTF8},
        {"latin1", POND_INPUT_LATIN1},     {"latin-1", POND_INPUT_LATIN1},
        {"iso-8859-1", POND_INPUT_LATIN1}, {"iso8859-1", POND_INPUT_LATIN1},
        {"cp1252", POND_INPUT_CP1252},     {"windows-1252", POND_INPUT_CP1252},
        {"utf-16", POND_INPUT_UTF16},      {"utf16", POND_INPUT_UTF16},
        {"utf-16le", POND_INPUT_UTF16LE},  {"utf16le", POND_INPUT_UTF16LE},
        {"utf-16be", POND_INPUT_UTF16BE},  {"utf16be", POND_INPUT_UTF16BE},
    };
    for (size_t i = 0; i < POND_ARRAY_LEN(names); i++)
        if (!strcasecmp(name, names[i].name)) {
            *out = names[i].enc;
            return 0;
        }
    return pond_error_set(POND_EINVALID, D,
                          "unknown encoding '%s' (utf-8, latin1, cp1252, utf-16, utf-16le or "
                          "utf-16be)",
                          name);
}

/* Records a failure so that every later read repeats it. */
static int fail(pond_input *in, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(pond_input *in, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(in->errmsg, sizeof in->errmsg, fmt, ap);
    va_end(ap);
    in->err = code;
    return pond_error_set(code, D, "%s", in->errmsg);
}

static int stick(pond_input *in, int rc)
{
    if (rc < 0 && !in->err) {
        in->err = rc;
        snprintf(in->errmsg, sizeof in->errmsg, "%s", pond_error_last()->message);
    }
    return rc;
}

/* ---- source ------------------------------------------------------------------------------- */

/* Up to cap bytes of the source into dst; *n_out 0 at its end. */
static int source_read(pond_input *in, void *dst, size_t cap, size_t *n_out)
{
    if (in->mem) {
        size_t n = POND_MIN(cap, in->mem_len - in->mem_pos);
        memcpy(dst, in->mem + in->mem_pos, n);
        in->mem_pos += n;
        *n_out = n;
        return 0;
    }
    ssize_t k;
    do {
        k = pond__os_read(in->fd, dst, cap);
    } while (k < 0 && errno == EINTR);
    if (k < 0)
        return pond_error_set_os(D, "read '%s'", in->name);
    *n_out = (size_t)k;
    return 0;
}

static int fill_raw(pond_input *in)
{
    if (in->raw_pos > 0) {
        memmove(in->raw, in->raw + in->raw_pos, in->raw_len - in->raw_pos);
        in->raw_off += (int64_t)in->raw_pos;
        in->raw_len -= in->raw_pos;
        in->raw_pos = 0;
    }
    if (in->raw_eof || in->raw_len == RAW_CAP)
        return 0;
    size_t n = 0;
    int rc = source_read(in, in->raw + in->raw_len, RAW_CAP - in->raw_len, &n);
    if (rc < 0)
        return rc;
    in->raw_len += n;
    if (n == 0)
        in->raw_eof = true;
    return 0;
}

static bool has_magic(const pond_input *in, const char *m, size_t n)
{
    return in->raw_len - in->raw_pos >= n && !memcmp(in->raw + in->raw_pos, m, n);
}

/* Starts a codec stream for in->comp (called again for each concatenated member). */
static int codec_start(pond_input *in)
{
    switch (in->comp) {
    case POND_INPUT_GZIP:
        if (in->codec_live)
            return inflateReset(&in->z) == Z_OK ? 0 : POND_ENOMEM;
        memset(&in->z, 0, sizeof in->z);
        if (inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK)
            return pond_error_set(POND_ENOMEM, D, "%s: cannot start gzip decoding", in->name);
        break;
    case POND_INPUT_ZSTD:
        if (!in->zs && !(in->zs = ZSTD_createDStream()))
            return pond_error_set(POND_ENOMEM, D, "%s: cannot start zstd decoding", in->name);
        ZSTD_initDStream(in->zs);
        break;
    case POND_INPUT_BZIP2:
        if (in->codec_live)
            BZ2_bzDecompressEnd(&in->bz);
        memset(&in->bz, 0, sizeof in->bz);
        if (BZ2_bzDecompressInit(&in->bz, 0, 0) != BZ_OK)
            return pond_error_set(POND_ENOMEM, D, "%s: cannot start bzip2 decoding", in->name);
        break;
    case POND_INPUT_XZ:
        if (in->codec_live)
            lzma_end(&in->xz);
        memset(&in->xz, 0, sizeof in->xz);
        if (lzma_stream_decoder(&in->xz, XZ_MEMLIMIT, LZMA_CONCATENATED) != LZMA_OK)
            return pond_error_set(POND_ENOMEM, D, "%s: cannot start xz decoding", in->name);
        break;
    default:
        break;
    }
    in->codec_live = true;
    in->member_done = false;
    return 0;
}

static int detect(pond_input *in)
{
    int rc;
    while (in->raw_len - in->raw_pos < 6 && !in->raw_eof)
        if ((rc = fill_raw(in)) < 0)
            return rc;
    in->detected = true;
    if (has_magic(in, "\x1f\x8b", 2))
        in->comp = POND_INPUT_GZIP;
    else if (has_magic(in, "\x28\xb5\x2f\xfd", 4))
        in->comp = POND_INPUT_ZSTD;
    else if (has_magic(in, "BZh", 3) && in->raw_len - in->raw_pos >= 4 &&
             in->raw[in->raw_pos + 3] >= '1' && in->raw[in->raw_pos + 3] <= '9')
        in->comp = POND_INPUT_BZIP2;
    else if (has_magic(in,
                       "\xfd"
                       "7zXZ\0",
                       6))
        in->comp = POND_INPUT_XZ;
    else if (has_magic(in, "PK\x03\x04", 4))
        return fail(in, POND_EUNSUPPORTED, "%s: looks like a zip archive: unzip it first",
                    in->name);
    else if (has_magic(in, "7z\xbc\xaf\x27\x1c", 6))
        return fail(in, POND_EUNSUPPORTED, "%s: looks like a 7-zip archive: extract it first",
                    in->name);
    return in->comp == POND_INPUT_PLAIN ? 0 : codec_start(in);
}

/* Does the rest of raw begin another member of the same format? */
static bool next_member(const pond_input *in)
{
    switch (in->comp) {
    case POND_INPUT_GZIP:
        return has_magic(in, "\x1f\x8b", 2);
    case POND_INPUT_BZIP2:
        return has_magic(in, "BZh", 3);
    default:
        return false;
    }
}

static int codec_error(pond_input *in, const char *what)
{
    return fail(in, POND_ECORRUPT, "%s: %s data is corrupt near compressed byte %lld (%s)",
                in->name, COMP_NAMES[in->comp], (long long)(in->raw_off + (int64_t)in->raw_pos),
                what);
}

static int truncated(pond_input *in)
{
    return fail(in, POND_ECORRUPT,
                "%s: truncated %s data: the file ends inside a compressed "
                "stream (%lld bytes read)",
                in->name, COMP_NAMES[in->comp], (long long)(in->raw_off + (int64_t)in->raw_len));
}

/* Runs the codec over raw into dec[dec_len, cap); sets *progress when it consumed or produced. */
static int codec_step(pond_input *in, bool *progress)
{
    uint8_t *src = in->raw + in->raw_pos;
    size_t src_n = in->raw_len - in->raw_pos;
    uint8_t *dst = in->dec + in->dec_len;
    size_t dst_n = DEC_CAP - in->dec_len;
    size_t used = 0, made = 0;
    bool end = false;
    switch (in->comp) {
    case POND_INPUT_GZIP: {
        in->z.next_in = src;
        in->z.avail_in = (uInt)src_n;
        in->z.next_out = dst;
        in->z.avail_out = (uInt)dst_n;
        int zr = inflate(&in->z, Z_NO_FLUSH);
        used = src_n - in->z.avail_in;
        made = dst_n - in->z.avail_out;
        if (zr == Z_STREAM_END)
            end = true;
        else if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT)
            return codec_error(in, in->z.msg ? in->z.msg : "bad data");
        else if (zr == Z_MEM_ERROR)
            return pond_error_set(POND_ENOMEM, D, "%s: out of memory decoding gzip", in->name);
        break;
    }
    case POND_INPUT_ZSTD: {
        ZSTD_inBuffer ib = {src, src_n, 0};
        ZSTD_outBuffer ob = {dst, dst_n, 0};
        size_t r = ZSTD_decompressStream(in->zs, &ob, &ib);
        if (ZSTD_isError(r))
            return codec_error(in, ZSTD_getErrorName(r));
        if (ib.pos || ob.pos) /* an empty call after a frame returns the next header's size */
            in->zs_last = r;
        used = ib.pos;
        made = ob.pos;
        break;
    }
    case POND_INPUT_BZIP2: {
        in->bz.next_in = (char *)src;
        in->bz.avail_in = (unsigned)src_n;
        in->bz.next_out = (char *)dst;
        in->bz.avail_out = (unsigned)dst_n;
        int br = BZ2_bzDecompress(&in->bz);
        used = src_n - in->bz.avail_in;
        made = dst_n - in->bz.avail_out;
        if (br == BZ_STREAM_END)
            end = true;
        else if (br == BZ_MEM_ERROR)
            return pond_error_set(POND_ENOMEM, D, "%s: out of memory decoding bzip2", in->name);
        else if (br != BZ_OK)
            return codec_error(in, "bad block");
        break;
    }
    case POND_INPUT_XZ: {
        in->xz.next_in = src;
        in->xz.avail_in = src_n;
        in->xz.next_out = dst;
        in->xz.avail_out = dst_n;
        lzma_ret xr = lzma_code(&in->xz, in->raw_eof ? LZMA_FINISH : LZMA_RUN);
        used = src_n - in->xz.avail_in;
        made = dst_n - in->xz.avail_out;
        if (xr == LZMA_STREAM_END)
            end = true;
        else if (xr == LZMA_MEMLIMIT_ERROR)
            return fail(in, POND_EUNSUPPORTED,
                        "%s: the xz stream needs more than %llu MiB of memory to decode", in->name,
                        (unsigned long long)(XZ_MEMLIMIT >> 20));
        else if (xr == LZMA_MEM_ERROR)
            return pond_error_set(POND_ENOMEM, D, "%s: out of memory decoding xz", in->name);
        else if (xr == LZMA_BUF_ERROR && in->raw_eof)
            return truncated(in);
        else if (xr != LZMA_OK && xr != LZMA_BUF_ERROR)
            return codec_error(in, xr == LZMA_FORMAT_ERROR ? "not xz" : "bad data");
        break;
    }
    default:
        break;
    }
    in->raw_pos += used;
    in->dec_len += made;
    *progress = used || made;
    if (end) {
        in->member_done = true;
        *progress = true;
    }
    return 0;
}

/* Adds decompressed bytes to dec (after moving unread ones to the front); sets dec_eof at the
 * end of the input. */
static int fill_dec(pond_input *in)
{
    int rc;
    if (in->dec_pos > 0) {
        memmove(in->dec, in->dec + in->dec_pos, in->dec_len - in->dec_pos);
        in->dec_off += (int64_t)in->dec_pos;
        in->dec_len -= in->dec_pos;
        in->dec_pos = 0;
    }
    if (!in->detected && (rc = detect(in)) < 0)
        return rc;
    size_t before = in->dec_len;
    bool stalled = false;
    while (in->dec_len == before && in->dec_len < DEC_CAP && !in->dec_eof) {
        if (in->comp == POND_INPUT_PLAIN && in->raw_pos == in->raw_len && !in->raw_eof) {
            /* plain text once raw (the bytes detection looked at) is used up: straight from
             * the source into dec, a copy of every byte less */
            size_t n = 0;
            if ((rc = source_read(in, in->dec + in->dec_len, DEC_CAP - in->dec_len, &n)) < 0)
                return rc;
            in->dec_len += n;
            in->raw_eof = in->dec_eof = n == 0;
            continue;
        }
        if ((in->raw_pos == in->raw_len || stalled) && !in->raw_eof && (rc = fill_raw(in)) < 0)
            return rc;
        if (in->comp == POND_INPUT_PLAIN) {
            size_t n = POND_MIN(DEC_CAP - in->dec_len, in->raw_len - in->raw_pos);
            memcpy(in->dec + in->dec_len, in->raw + in->raw_pos, n);
            in->dec_len += n;
            in->raw_pos += n;
            if (in->raw_eof && in->raw_pos == in->raw_len)
                in->dec_eof = true;
            continue;
        }
        if (in->member_done) {
            if (in->raw_pos == in->raw_len && in->raw_eof) {
                in->dec_eof = true;
                break;
            }
            while (in->raw_len - in->raw_pos < 4 && !in->raw_eof)
                if ((rc = fill_raw(in)) < 0)
                    return rc;
            if (!next_member(in))
                return fail(in, POND_ECORRUPT,
                            "%s: unexpected data after the end of the %s stream at compressed "
                            "byte %lld",
                            in->name, COMP_NAMES[in->comp],
                            (long long)(in->raw_off + (int64_t)in->raw_pos));
            if ((rc = codec_start(in)) < 0)
                return rc;
        }
        bool progress = false;
        if ((rc = codec_step(in, &progress)) < 0)
            return rc;
        if (in->comp == POND_INPUT_ZSTD && in->raw_eof && in->raw_pos == in->raw_len && !progress) {
            if (in->zs_last != 0)
                return truncated(in);
            in->dec_eof = true;
        } else if (!progress && in->raw_eof && in->raw_pos == in->raw_len && !in->member_done) {
            return truncated(in);
        } else if (!progress && in->raw_pos == 0 && in->raw_len == RAW_CAP) {
            return codec_error(in, "no progress");
        }
        stalled = !progress;
    }
    return 0;
}

/* ---- decoding ----------------------------------------------------------------------------- */

static int bad_text(pond_input *in, int64_t off, const char *what)
{
    return fail(in, POND_ECORRUPT, "%s: line %lld, byte %lld: %s", in->name, (long long)in->line,
                (long long)off, what);
}

/* Length of the valid UTF-8 sequence at p (n bytes available): >0 valid, 0 incomplete (more
 * bytes needed), -1 invalid. */
int pond__utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    int len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else
        return -1;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return 0;
        if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xBF))
            return -1;
    }
    return len;
}

/* Known binary formats, to say what a file is instead of "invalid UTF-8". */
static const char *binary_kind(const char *p, size_t n)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *what;
    } kinds[] = {
        {"PAR1", 4, "a Parquet file"},
        {"\x1f\x8b", 2, "gzip data inside a compressed file (compressed twice?)"},
        {"\x28\xb5\x2f\xfd", 4, "zstd data inside a compressed file (compressed twice?)"},
        {"\xfd"
         "7zXZ",
         5, "xz data inside a compressed file (compressed twice?)"},
        {"PK\x03\x04", 4, "a zip archive"},
        {"\x89PNG", 4, "a PNG image"},
        {"%PDF-", 5, "a PDF document"},
        {"SQLite format 3", 15, "an SQLite database"},
        {"\x7f"
         "ELF",
         4, "an executable"},
        {"ARROW1", 6, "an Arrow IPC file"},
    };
    for (size_t k = 0; k < POND_ARRAY_LEN(kinds); k++)
        if (n >= kinds[k].len && !memcmp(p, kinds[k].magic, kinds[k].len))
            return kinds[k].what;
    if (n >= 262 && !memcmp(p + 257, "ustar", 5))
        return "a tar archive (extract it first)";
    return NULL;
}

static int resolve_encoding(pond_input *in)
{
    int rc;
    while (in->dec_len - in->dec_pos < 262 && !in->dec_eof && in->dec_len < DEC_CAP)
        if ((rc = fill_dec(in)) < 0)
            return rc;
    const uint8_t *p = in->dec + in->dec_pos;
    size_t n = in->dec_len - in->dec_pos;
    const char *bin = binary_kind((const char *)p, n);
    if (bin)
        return fail(in, POND_EINVALID, "%s: looks like %s, not text", in->name, bin);
    bool le = n >= 2 && p[0] == 0xFF && p[1] == 0xFE, be = n >= 2 && p[0] == 0xFE && p[1] == 0xFF;
    pond_input_encoding e = in->opts.encoding;
    if (e == POND_INPUT_AUTO)
        e = le ? POND_INPUT_UTF16LE : be ? POND_INPUT_UTF16BE : POND_INPUT_UTF8;
    else if (e == POND_INPUT_UTF16)
        e = be ? POND_INPUT_UTF16BE : POND_INPUT_UTF16LE;
    if (e == POND_INPUT_UTF8 && (le || be))
        return fail(in, POND_ECORRUPT,
                    "%s: starts with a UTF-16 byte-order mark, not UTF-8 (give --encoding utf-16)",
                    in->name);
    if ((e == POND_INPUT_UTF16LE && le) || (e == POND_INPUT_UTF16BE && be))
        in->dec_pos += 2; /* the mark is not text */
    in->enc = e;
    if (e != POND_INPUT_UTF8) {
        const char *from = e == POND_INPUT_LATIN1    ? "ISO-8859-1"
                           : e == POND_INPUT_CP1252  ? "CP1252"
                           : e == POND_INPUT_UTF16LE ? "UTF-16LE"
                                                     : "UTF-16BE";
        in->cd = iconv_open("UTF-8", from);
        if (in->cd == (iconv_t)-1)
            return fail(in, POND_EUNSUPPORTED, "%s: this system cannot convert from %s", in->name,
                        from);
    }
    in->started = true;
    return 0;
}

/* Validated UTF-8 from dec into out. */
/* How many of p[0, n) are ASCII other than NUL (valid UTF-8 as they are), counting their
 * newlines into *lines: sixteen (SSE2) or eight bytes at a time, since every byte of a text
 * input passes here. */
static size_t ascii_run(const uint8_t *p, size_t n, int64_t *lines)
{
    size_t i = 0;
    int64_t nl = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128(), newlines = _mm_set1_epi8('\n');
    while (n - i >= 16) {
        /* per byte lane, minus the newlines seen (0xFF each): 255 blocks at most per sum */
        __m128i acc = zero;
        size_t stop = POND_MIN(i + 16 * 255, n - 15);
        for (; i < stop; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            if (_mm_movemask_epi8(_mm_or_si128(v, _mm_cmpeq_epi8(v, zero))))
                break; /* a byte >= 0x80 or a NUL in these sixteen: the loop below finds it */
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, newlines));
        }
        __m128i sum = _mm_sad_epu8(acc, zero);
        nl += _mm_cvtsi128_si32(sum) + _mm_cvtsi128_si32(_mm_unpackhi_epi64(sum, sum));
        if (i < stop)
            break;
    }
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull,
                   lows = 0x7F7F7F7F7F7F7F7Full, newlines = ones * '\n';
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if ((w & highs) || ((w - ones) & ~w & highs))
            break;                 /* a byte >= 0x80 or a NUL in these eight */
        uint64_t x = w ^ newlines; /* a newline is a zero byte of x, marked exactly */
        uint64_t marks = ~(((x & lows) + lows) | x) & highs;
        nl += (int64_t)(((marks >> 7) * ones) >> 56); /* their count (no popcnt in x86-64 v1) */
    }
#endif
    for (; i < n && p[i] && p[i] < 0x80; i++)
        nl += p[i] == '\n';
    *lines += nl;
    return i;
}

static int decode_utf8(pond_input *in)
{
    const uint8_t *p = in->dec + in->dec_pos, *end = in->dec + in->dec_len;
    char *o = in->out + in->out_len;
    size_t room = OUT_CAP - in->out_len;
    while (p < end && room) {
        size_t lim = POND_MIN((size_t)(end - p), room);
        size_t run = ascii_run(p, lim, &in->line); /* the common case */
        if (o != (const char *)p)                  /* the same place: checked in place */
            memcpy(o, p, run);
        o += run, p += run, room -= run;
        if (p == end || !room)
            break;
        int len = pond__utf8_seq(p, (size_t)(end - p));
        int64_t off = in->dec_off + (int64_t)(p - in->dec);
        in->out_len = (size_t)(o - in->out);
        in->dec_pos = (size_t)(p - in->dec);
        if (len < 0 || (len == 0 && in->dec_eof))
            return bad_text(in, off,
                            len < 0 ? "invalid UTF-8 (if the file is Latin-1 or Windows-1252, give "
                                      "--encoding latin1 or cp1252)"
                                    : "the file ends inside a UTF-8 character");
        if (len == 0)
            break; /* the rest of the character is not read yet */
        if ((size_t)len > room)
            break;
        if (*p == 0)
            return bad_text(in, off,
                            "NUL byte (a binary file, or UTF-16 text without a byte-order mark: "
                            "give --encoding utf-16le or utf-16be)");
        if (o != (const char *)p)
            memcpy(o, p, (size_t)len);
        o += len, p += len, room -= (size_t)len;
    }
    in->out_len = (size_t)(o - in->out);
    in->dec_pos = (size_t)(p - in->dec);
    return 0;
}

static int decode_iconv(pond_input *in)
{
    char *src = (char *)in->dec + in->dec_pos;
    size_t src_n = in->dec_len - in->dec_pos;
    char *o = in->out + in->out_len, *o0 = o;
    size_t room = OUT_CAP - in->out_len;
    size_t r = iconv(in->cd, &src, &src_n, &o, &room);
    int e = errno;
    int64_t off = in->dec_off + (int64_t)((uint8_t *)src - in->dec);
    /* count lines and refuse NUL characters in what was converted */
    for (char *c = o0; c < o; c++) {
        if (*c == '\n')
            in->line++;
        else if (*c == 0) {
            in->dec_pos = (size_t)((uint8_t *)src - in->dec);
            return bad_text(in, off, "NUL character (a binary file, or the wrong encoding)");
        }
    }
    in->out_len = (size_t)(o - in->out);
    in->dec_pos = (size_t)((uint8_t *)src - in->dec);
    if (r != (size_t)-1 || e == E2BIG)
        return 0;
    if (e == EINVAL) { /* an incomplete character at the end of what we have */
        if (in->dec_eof)
            return bad_text(in, off,
                            in->enc >= POND_INPUT_UTF16 ? "the file ends inside a UTF-16 character"
                                                        : "the file ends inside a character");
        return 0;
    }
    if (in->enc == POND_INPUT_CP1252)
        return bad_text(in, off,
                        "byte not defined in Windows-1252 (0x81, 0x8D, 0x8F, 0x90 and "
                        "0x9D are not characters)");
    return bad_text(in, off,
                    in->enc >= POND_INPUT_UTF16 ? "invalid UTF-16 (an unpaired surrogate)"
                                                : "cannot be converted to UTF-8");
}

/* Decodes more text into out (after moving unread text to the front). */
static int fill_out(pond_input *in)
{
    int rc;
    if (in->out_pos > 0) {
        memmove(in->out, in->out + in->out_pos, in->out_len - in->out_pos);
        in->out_len -= in->out_pos;
        in->out_pos = 0;
    }
    if (!in->started && (rc = resolve_encoding(in)) < 0)
        return rc;
    size_t before = in->out_len;
    while (in->out_len == before && in->out_len < OUT_CAP && !in->out_eof) {
        if (in->dec_pos == in->dec_len || in->dec_len - in->dec_pos < 4) {
            if (in->dec_eof && in->dec_pos == in->dec_len) {
                in->out_eof = true;
                break;
            }
            if (!in->dec_eof && (rc = fill_dec(in)) < 0)
                return rc;
        }
        if ((rc = in->enc == POND_INPUT_UTF8 ? decode_utf8(in) : decode_iconv(in)) < 0)
            return rc;
        if (in->out_len == before && in->dec_eof && in->dec_pos == in->dec_len)
            in->out_eof = true;
    }
    if (!in->bom_checked && (in->out_len >= 3 || in->out_eof)) {
        in->bom_checked = true;
        if (in->out_len >= 3 && !memcmp(in->out, "\xEF\xBB\xBF", 3))
            in->out_pos = 3; /* a byte-order mark is not text */
    }
    return 0;
}

int pond_input_read(pond_input *in, void *buf, size_t cap, size_t *n_out)
{
    *n_out = 0;
    if (in->err)
        return pond_error_set(in->err, D, "%s", in->errmsg);
    int rc;
    if (in->out_pos == in->out_len && in->bom_checked && !in->out_eof && cap >= OUT_CAP) {
        /* decode straight into the caller's buffer, a copy of every byte less: the same
         * fill_out with the same room, so the text before an error is delivered exactly as
         * through out (a fill that fails delivers nothing) */
        char *own = in->out;
        uint8_t *own_dec = in->dec;
        /* plain UTF-8 with nothing pending in dec: read into the caller's buffer as dec too
         * and check it in place (decode_utf8 does not copy where out and dec are one place;
         * out_len and dec_pos move together from 0, so nothing decoded is moved or
         * overwritten, and DEC_CAP <= OUT_CAP <= cap) */
        bool in_place = in->started && in->detected && in->comp == POND_INPUT_PLAIN &&
                        in->enc == POND_INPUT_UTF8 && in->dec_pos == in->dec_len && !in->dec_eof &&
                        in->raw_pos == in->raw_len;
        if (in_place) {
            in->dec_off += (int64_t)in->dec_pos;
            in->dec_pos = in->dec_len = 0;
            in->dec = buf;
        }
        in->out = buf;
        in->out_pos = in->out_len = 0;
        rc = fill_out(in);
        size_t n = in->out_len;
        in->out = own;
        in->out_pos = in->out_len = 0;
        if (in_place) { /* what is not decoded yet (part of a character) back into dec */
            size_t rest = in->dec_len - in->dec_pos;
            memcpy(own_dec, in->dec + in->dec_pos, rest);
            in->dec_off += (int64_t)in->dec_pos;
            in->dec_pos = 0;
            in->dec_len = rest;
            in->dec = own_dec;
        }
        if (rc < 0)
            return stick(in, rc);
        *n_out = n;
        return 0;
    }
    while (in->out_pos == in->out_len || !in->bom_checked) {
        if (in->out_eof && in->bom_checked)
            return 0;
        if ((rc = fill_out(in)) < 0)
            return stick(in, rc);
        if (in->out_eof && in->out_pos == in->out_len)
            return 0;
    }
    size_t n = POND_MIN(cap, in->out_len - in->out_pos);
    /* never split a character: back off to a character start when cut */
    if (n < in->out_len - in->out_pos)
        while (n > 0 && ((uint8_t)in->out[in->out_pos + n] & 0xC0) == 0x80)
            n--;
    if (n == 0 && cap > 0) { /* a buffer smaller than one character: pass the bytes on */
        n = POND_MIN(cap, in->out_len - in->out_pos);
    }
    memcpy(buf, in->out + in->out_pos, n);
    in->out_pos += n;
    *n_out = n;
    return 0;
}

int pond_input_peek(pond_input *in, const char **data, size_t *len, size_t want)
{
    if (in->err)
        return pond_error_set(in->err, D, "%s", in->errmsg);
    want = POND_MIN(want, OUT_CAP / 2);
    int rc;
    while ((in->out_len - in->out_pos < want || !in->bom_checked) && !in->out_eof)
        if ((rc = fill_out(in)) < 0)
            return stick(in, rc);
    *data = in->out + in->out_pos;
    *len = POND_MIN(want, in->out_len - in->out_pos);
    return 0;
}

pond_input_compression pond_input_compression_of(const pond_input *in) { return in->comp; }
const char *pond_input_name(const pond_input *in) { return in->name; }

/* ---- lifecycle ---------------------------------------------------------------------------- */

static int input_new(pond_input **out, const pond_input_options *o, const char *name)
{
    *out = NULL;
    pond_input_options def = POND_INPUT_OPTIONS_INIT;
    if (!o)
        o = &def;
    if (o->version != POND_INPUT_OPTIONS_VERSION)
        return pond_error_set(POND_EINVALID, D, "input: unknown options version %u", o->version);
    pond_input *in = pond_calloc(1, sizeof *in);
    if (!in)
        return POND_ENOMEM;
    in->opts = *o;
    in->fd = -1;
    in->cd = (iconv_t)-1;
    in->line = 1;
    in->name = pond_strdup(o->name ? o->name : name);
    in->raw = pond_malloc(RAW_CAP);
    in->dec = pond_malloc(DEC_CAP);
    in->out = pond_malloc(OUT_CAP);
    if (!in->name || !in->raw || !in->dec || !in->out) {
        pond_input_free(in);
        return POND_ENOMEM;
    }
    in->opts.name = in->name;
    *out = in;
    return 0;
}

int pond_input_open_fd(pond_input **out, int fd, const pond_input_options *o)
{
    POND_ASSERT_ARG(out && fd >= 0);
    int rc = input_new(out, o, fd == 0 ? "stdin" : "input");
    if (rc == 0)
        (*out)->fd = fd;
    return rc;
}

int pond_input_open_mem(pond_input **out, const void *data, size_t len, const pond_input_options *o)
{
    POND_ASSERT_ARG(out && (data || len == 0));
    int rc = input_new(out, o, "input");
    if (rc == 0) {
        (*out)->mem = data ? data : (const uint8_t *)"";
        (*out)->mem_len = len;
    }
    return rc;
}

int pond_input_open_file(pond_input **out, const char *path, const pond_input_options *o)
{
    POND_ASSERT_ARG(out && path);
    if (!strcmp(path, "-"))
        return pond_input_open_fd(out, 0, o);
    int fd, rc;
    *out = NULL;
    if ((rc = pond__open(&fd, path, O_RDONLY | O_CLOEXEC, 0, D)) < 0)
        return rc;
    struct stat st;
    if (pond__os_fstat(fd, &st) < 0) {
        rc = pond_error_set_os(D, "stat '%s'", path);
        pond__close(fd);
        return rc;
    }
    if (S_ISDIR(st.st_mode)) {
        pond__close(fd);
        return pond_error_set(POND_EISDIR, D, "%s: is a directory", path);
    }
    if ((rc = input_new(out, o, path)) < 0) {
        pond__close(fd);
        return rc;
    }
    (*out)->fd = fd;
    (*out)->own_fd = true;
    return 0;
}

void pond_input_free(pond_input *in)
{
    if (!in)
        return;
    if (in->own_fd)
        pond__close(in->fd);
    if (in->codec_live) {
        if (in->comp == POND_INPUT_GZIP)
            inflateEnd(&in->z);
        else if (in->comp == POND_INPUT_BZIP2)
            BZ2_bzDecompressEnd(&in->bz);
        else if (in->comp == POND_INPUT_XZ)
            lzma_end(&in->xz);
    }
    ZSTD_freeDStream(in->zs);
    if (in->cd != (iconv_t)-1)
        iconv_close(in->cd);
    pond_free(in->name);
    pond_free(in->raw);
    pond_free(in->dec);
    pond_free(in->out);
    pond_free(in);
}
