#include <pond/alloc.h>
#include <pond/buf.h>
#include <pond/errors.h>

#include "util/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pond_buf_grow(pond_buf *b, size_t target)
{
    size_t need;
    if (pond_add_overflow(&need, target, 1))
        return pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "buffer size overflow");
    if (need <= b->asize)
        return 0;
    size_t cap = b->asize ? b->asize : 64;
    while (cap < need) {
        if (pond_mul_overflow(&cap, cap, 2)) {
            cap = need;
            break;
        }
    }
    char *p = pond_realloc(b->ptr, cap);
    if (!p)
        return POND_ENOMEM;
    b->ptr = p;
    b->asize = cap;
    return 0;
}

int pond_buf_put(pond_buf *b, const void *data, size_t len)
{
    size_t need;
    if (pond_add_overflow(&need, b->size, len))
        return pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "buffer size overflow");
    int rc = pond_buf_grow(b, need);
    if (rc < 0)
        return rc;
    if (len)
        memcpy(b->ptr + b->size, data, len);
    b->size = need;
    b->ptr[b->size] = '\0';
    return 0;
}

int pond_buf_puts(pond_buf *b, const char *s) { return pond_buf_put(b, s, strlen(s)); }
int pond_buf_putc(pond_buf *b, char c) { return pond_buf_put(b, &c, 1); }

int pond_buf_printf(pond_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return pond_error_set(POND_EINVALID, POND_DOM_UTIL, "bad format string");
    int rc = pond_buf_grow(b, b->size + (size_t)n);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->size += (size_t)n;
    return 0;
}

void pond_buf_clear(pond_buf *b)
{
    b->size = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

char *pond_buf_detach(pond_buf *b)
{
    char *p = b->ptr;
    if (!p)
        p = pond_strdup("");
    b->ptr = NULL;
    b->size = b->asize = 0;
    return p;
}

void pond_buf_dispose(pond_buf *b)
{
    pond_free(b->ptr);
    b->ptr = NULL;
    b->size = b->asize = 0;
}

/* The one JSON string escaper: one pass copying runs of plain bytes. js: as JSON.stringify
 * writes a string that came from UTF-8 (\b \f \r short, invalid UTF-8 as U+FFFD, as
 * TextDecoder reads it), for the canonical form the JavaScript oracles compare. */
int pond__json_escape(pond_buf *out, const void *s, size_t n, bool js)
{
    static const char hexd[] = "0123456789abcdef";
    const uint8_t *p = s;
    int rc = pond_buf_grow(out, out->size + n + 2);
    if (rc < 0)
        return rc;
    if ((rc = pond_buf_putc(out, '"')) < 0)
        return rc;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] != '"' && p[run] != '\\' &&
               (p[run] < 0x80 || !js))
            run++;
        if (run > i && (rc = pond_buf_put(out, p + i, run - i)) < 0)
            return rc;
        i = run;
        if (i >= n)
            break;
        uint8_t c = p[i];
        if (c >= 0x80) { /* js only: the loop above copied them otherwise */
            /* Valid UTF-8 is copied; invalid bytes become U+FFFD like TextDecoder. */
            int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
            bool ok = len > 0 && c <= 0xf4 && i + (size_t)len <= n;
            for (int j = 1; ok && j < len; j++)
                ok = (p[i + (size_t)j] & 0xc0) == 0x80;
            if (ok && len == 3) {
                uint32_t cp = ((c & 0x0fu) << 12) | ((p[i + 1] & 0x3fu) << 6);
                ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
            } else if (ok && len == 4) {
                uint32_t cp = ((c & 0x07u) << 18) | ((p[i + 1] & 0x3fu) << 12);
                ok = cp >= 0x10000 && cp <= 0x10ffff;
            }
            if (ok) {
                rc = pond_buf_put(out, p + i, (size_t)len);
                i += (size_t)len;
            } else {
                rc = pond_buf_puts(out, "\xef\xbf\xbd");
                /* skip the maximal invalid prefix: one byte, then continuation bytes that
                 * could have belonged to it */
                size_t j = i + 1;
                if (len > 0)
                    while (j < n && j < i + (size_t)len && (p[j] & 0xc0) == 0x80) {
                        /* a truncated sequence counts as one replacement */
                        j++;
                    }
                i = j;
            }
            if (rc < 0)
                return rc;
            continue;
        }
        char esc[8];
        switch (c) {
        case '"':
            strcpy(esc, "\\\"");
            break;
        case '\\':
            strcpy(esc, "\\\\");
            break;
        case '\n':
            strcpy(esc, "\\n");
            break;
        case '\t':
            strcpy(esc, "\\t");
            break;
        case '\b':
        case '\f':
        case '\r':
            if (js) {
                strcpy(esc, c == '\b' ? "\\b" : c == '\f' ? "\\f" : "\\r");
                break;
            }
            /* fall through */
        default:
            esc[0] = '\\';
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hexd[c >> 4];
            esc[5] = hexd[c & 15];
            esc[6] = '\0';
        }
        if ((rc = pond_buf_puts(out, esc)) < 0)
            return rc;
        i++;
    }
    return pond_buf_putc(out, '"');
}

int pond_buf_put_json_string(pond_buf *out, const char *s, size_t n)
{
    return pond__json_escape(out, s, n, false);
}
