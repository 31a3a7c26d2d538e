/* Hexadecimal digits: the one encoder and decoder (hashes, node ids, URL escapes). */
#include "util/util.h"

static const char HEX_DIGITS[] = "0123456789abcdef";

/* Without a branch: an oplog load decodes two hex strings per row (its node id and sha256),
 * and with a branch per digit (a random mix of digits and letters) that was 8% of a copy into
 * a series of 10,000 versions (session 6's profile). */
static inline int hexval(unsigned c)
{
    unsigned d = c - '0';          /* < 10 for '0'..'9' */
    unsigned l = (c | 0x20) - 'a'; /* < 6 for 'a'..'f' and 'A'..'F', nothing else */
    int is_d = -(int)(d < 10), is_l = -(int)(l < 6); /* all ones or zero */
    return (is_d & (int)d) | (is_l & (int)(l + 10)) | ~(is_d | is_l);
}

int pond__hexval(int c) { return c >= 0 && c < 256 ? hexval((unsigned)c) : -1; }

char pond__hexdigit(unsigned v) { return HEX_DIGITS[v & 15]; }

void pond__hex_encode(char *out, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX_DIGITS[p[i] >> 4];
        out[2 * i + 1] = HEX_DIGITS[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int pond__hex_decode(void *out, const char *hex, size_t n)
{
    unsigned char *o = out;
    for (size_t i = 0; i < n; i++) {
        /* a NUL is not a digit: a short string stops here, never reads past its end */
        int hi = hexval((unsigned char)hex[2 * i]);
        int lo = hi < 0 ? -1 : hexval((unsigned char)hex[2 * i + 1]);
        if (lo < 0)
            return -1;
        o[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}
