/* Hexadecimal digits: the one encoder and decoder (hashes, node ids, URL escapes). */
#include "util/util.h"

static const char HEX_DIGITS[] = "0123456789abcdef";

int pond__hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

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
        int hi = pond__hexval((unsigned char)hex[2 * i]);
        int lo = hi < 0 ? -1 : pond__hexval((unsigned char)hex[2 * i + 1]);
        if (lo < 0)
            return -1;
        o[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}
