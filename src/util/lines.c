/* Reading a pond file line by line with a bounded buffer (Delta commits are one JSON action per
 * line: a 200 MB commit must not be read whole). */
#include "util/util.h"

#include <string.h>

#define LINES_CHUNK ((size_t)64 << 10)

int pond__lines_open(pond__lines *r, const char *path, size_t max_line, int domain)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->path = path;
    r->max_line = max_line;
    r->domain = domain;
    return pond__open_pond_file(&r->fd, path, domain);
}

void pond__lines_mem(pond__lines *r, const char *text, size_t len, const char *name,
                     size_t max_line, int domain)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->path = name;
    r->max_line = max_line;
    r->domain = domain;
    r->in_mem = true;
    r->mem = text ? text : "";
    r->mem_len = text ? len : 0;
}

void pond__lines_close(pond__lines *r)
{
    pond__close(r->fd);
    r->fd = -1;
    pond_free(r->buf);
    r->buf = NULL;
}

void pond__lines_rewind(pond__lines *r)
{
    r->start = r->end = 0;
    r->file_off = 0;
    r->lineno = 0;
    r->eof = false;
}

/* Reads more of the file after what the buffer holds, keeping [start, end). */
static int fill(pond__lines *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    size_t want = r->end + LINES_CHUNK;
    if (want > r->max_line + 1)
        want = r->max_line + 1; /* a line may end right after max_line bytes */
    if (want > r->cap) {
        char *nb = pond_realloc(r->buf, want);
        if (!nb)
            return pond_error_set(POND_ENOMEM, r->domain, "out of memory reading '%s'", r->path);
        r->buf = nb;
        r->cap = want;
    }
    size_t n = 0;
    int rc = pond__pread_full(&n, r->fd, r->buf + r->end, r->cap - r->end, r->file_off, r->path,
                              r->domain);
    if (rc < 0)
        return rc;
    r->file_off += (int64_t)n;
    r->end += n;
    if (n < r->cap - (r->end - n))
        r->eof = true;
    return 0;
}

static int too_long(const pond__lines *r)
{
    return pond_error_set(POND_ECORRUPT, r->domain,
                          "'%s' line %lld is longer than %zu bytes (the limit for one line)",
                          r->path, (long long)r->lineno, r->max_line);
}

int pond__lines_next(pond__lines *r, const char **line, size_t *len)
{
    r->lineno++;
    if (r->in_mem) {
        if (r->start >= r->mem_len)
            return POND_ITEROVER;
        const char *s = r->mem + r->start;
        const char *nl = memchr(s, '\n', r->mem_len - r->start);
        size_t n = nl ? (size_t)(nl - s) : r->mem_len - r->start;
        if (n > r->max_line)
            return too_long(r);
        r->start += n + (nl ? 1 : 0);
        *line = s;
        *len = n;
        return 0;
    }
    size_t scanned = 0;
    for (;;) {
        const char *s = r->buf ? r->buf + r->start : NULL;
        size_t have = r->end - r->start;
        const char *nl = have > scanned ? memchr(s + scanned, '\n', have - scanned) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - s);
            if (n > r->max_line)
                return too_long(r);
            r->start += n + 1;
            *line = s;
            *len = n;
            return 0;
        }
        scanned = have;
        if (have > r->max_line)
            return too_long(r);
        if (r->eof) {
            if (!have)
                return POND_ITEROVER;
            r->start = r->end; /* the last line has no newline */
            *line = s;
            *len = have;
            return 0;
        }
        int rc = fill(r);
        if (rc < 0)
            return rc;
    }
}

int pond__window_refill(char **in, size_t *cap, size_t *len, size_t keep, size_t max,
                        pond__read_fn read, void *payload, size_t *got, bool *eof)
{
    *got = 0;
    if (keep > 0) {
        memmove(*in, *in + keep, *len - keep);
        *len -= keep;
    }
    if (*len == *cap) {
        if (*cap >= max)
            return 1;
        size_t c = *cap > max / 2 ? max : *cap * 2;
        char *b = pond_realloc(*in, c + 1);
        if (!b)
            return POND_ENOMEM;
        *in = b;
        *cap = c;
    }
    int rc = read(*in + *len, *cap - *len, got, payload);
    if (rc < 0)
        return rc;
    *len += *got;
    if (*got == 0)
        *eof = true;
    return 0;
}

int pond__mem_read(void *buf, size_t cap, size_t *n_out, void *payload)
{
    pond__mem_source *m = payload;
    size_t n = POND_MIN(cap, m->len - m->pos);
    if (n) /* data may be NULL when len is 0 */
        memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    *n_out = n;
    return 0;
}
