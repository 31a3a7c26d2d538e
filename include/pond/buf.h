/* pond: a growable byte buffer (caller-owned struct, heap contents). */
#ifndef POND_BUF_H
#define POND_BUF_H

#include "common.h"

typedef struct {
    char *ptr;    /* always NUL-terminated when size > 0 or after any put */
    size_t size;  /* bytes used */
    size_t asize; /* bytes allocated */
} pond_buf;

#define POND_BUF_INIT                                                                              \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

POND_API int pond_buf_grow(pond_buf *b, size_t target_size);
POND_API int pond_buf_put(pond_buf *b, const void *data, size_t len);
POND_API int pond_buf_puts(pond_buf *b, const char *s);
POND_API int pond_buf_putc(pond_buf *b, char c);
POND_API int pond_buf_printf(pond_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
POND_API void pond_buf_clear(pond_buf *b);
/** Hands the contents to the caller (free with pond_free) and resets the buffer. */
POND_API char *pond_buf_detach(pond_buf *b);
/** Appends s (n bytes) as a JSON string literal: `"` and `\` escaped, \n and \t as such,
 *  other control characters as \u00XX; other bytes as they are. */
POND_API int pond_buf_put_json_string(pond_buf *b, const char *s, size_t n);
POND_API void pond_buf_dispose(pond_buf *b);

#endif
