#include <pond/alloc.h>
#include <pond/buf.h>
#include <pond/errors.h>

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

int pond_buf_put_json_string(pond_buf *out, const char *s, size_t n)
{
    int rc = pond_buf_putc(out, '"');
    for (size_t k = 0; k < n && rc == 0; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c == '"' || c == '\\')
            rc = pond_buf_printf(out, "\\%c", c);
        else if (c == '\n')
            rc = pond_buf_put(out, "\\n", 2);
        else if (c == '\t')
            rc = pond_buf_put(out, "\\t", 2);
        else if (c < 0x20)
            rc = pond_buf_printf(out, "\\u%04x", c);
        else
            rc = pond_buf_putc(out, (char)c);
    }
    return rc ? rc : pond_buf_putc(out, '"');
}
