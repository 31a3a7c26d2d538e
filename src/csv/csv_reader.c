#include "csv/csv_internal.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct {
    size_t off; /* into the input buffer, relative to the record start */
    size_t len;
    bool quoted;
    bool in_scratch; /* a view's unquoted copy of a field with "": off is into r->scratch */
} field;

/* The reader parses in place: every record lies contiguous in the input buffer (a record that
 * crosses the end of the buffered data is moved to the buffer start, and the buffer grows when
 * one record does not fit), fields are NUL-terminated and unquoted where they lie. A record is
 * first scanned without changing a byte; only a complete record is then cut into fields, so a
 * rescan after a refill sees the original bytes. */
struct pond_csv_reader {
    pond_csv_options opts;
    pond_csv_read_fn read;
    void *payload;
    char *in;        /* buffer */
    size_t cap;      /* its size */
    size_t pos, len; /* unread data is in[pos, len) */
    size_t rec;      /* start of the current record */
    bool eof;
    int64_t consumed; /* bytes read from the source */
    field *fields;
    size_t nfields, fields_cap;
    int64_t line, rec_line;
    bool started;
    int fd;
    char *path;
    pond__mem_source mem;
    /* a view (pond_csv__reader_open_view): in is the caller's bytes, never written; fields
     * are not NUL-terminated and one with "" is unquoted into scratch */
    bool view;
    pond_buf scratch;
};

static const char *rname(const pond_csv_reader *r) { return r->opts.name ? r->opts.name : "csv"; }

#define MAX_RECORD_BUFFER ((size_t)256 << 20)

/* Makes room after the data: moves the current record to the buffer start, or grows the
 * buffer when the record already starts there; then reads more. */
static int refill(pond_csv_reader *r)
{
    size_t keep = r->rec, got;
    int rc = pond__window_refill(&r->in, &r->cap, &r->len, keep, MAX_RECORD_BUFFER, r->read,
                                 r->payload, &got, &r->eof);
    r->pos -= keep;
    r->rec = 0;
    r->consumed += (int64_t)got;
    if (rc == 1)
        return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL,
                              "%s: line %lld: record longer than %zu bytes", rname(r),
                              (long long)r->line, MAX_RECORD_BUFFER);
    return rc;
}

static int push_field_slow(pond_csv_reader *r, size_t off, size_t len, bool quoted)
{
    if (r->nfields == r->opts.max_fields)
        return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL,
                              "%s: line %lld: more than %zu fields in one record", rname(r),
                              (long long)r->rec_line, r->opts.max_fields);
    if (POND_GROW(r->fields, r->nfields, r->fields_cap) < 0)
        return POND_ENOMEM;
    if (len > r->opts.max_field)
        return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL,
                              "%s: line %lld: field longer than %zu bytes", rname(r),
                              (long long)r->rec_line, r->opts.max_field);
    r->fields[r->nfields++] = (field){off, len, quoted, false};
    return 0;
}

/* Once per field: the checks and the growth out of line. */
static inline int push_field(pond_csv_reader *r, size_t off, size_t len, bool quoted)
{
    if (r->nfields >= r->fields_cap || r->nfields >= r->opts.max_fields || len > r->opts.max_field)
        return push_field_slow(r, off, len, quoted);
    r->fields[r->nfields++] = (field){off, len, quoted, false};
    return 0;
}

/* The first of [p, end) that is the delimiter or a newline (end when none). Sixteen (SSE2) or
 * eight bytes at a time: most fields are longer than a few bytes, and this runs over every
 * byte of the input. */
static const char *field_end(const char *p, const char *end, char delim)
{
#if defined(__SSE2__)
    const __m128i dv = _mm_set1_epi8(delim), nv = _mm_set1_epi8('\n');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned hit =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, dv), _mm_cmpeq_epi8(v, nv)));
        if (hit)
            return p + __builtin_ctz(hit);
        p += 16;
    }
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const uint64_t dm = ones * (uint8_t)delim, nm = ones * (uint8_t)'\n';
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t a = w ^ dm, b = w ^ nm;
        /* a zero byte of a or b: its lowest one is found exactly (borrows only run upward) */
        uint64_t hit = ((a - ones) & ~a & highs) | ((b - ones) & ~b & highs);
        if (hit)
            return p + (__builtin_ctzll(hit) >> 3);
        p += 8;
    }
#endif
    while (p < end && *p != delim && *p != '\n')
        p++;
    return p;
}

/* Whether the record ends at p: 1 when it does (at a newline, or at the end of the input;
 * r->pos set past it), 0 when the data ends first and more may come, 2 when a field follows.
 * end is r->in + r->len, kept in the caller's register: inlined into the field loop, the check
 * stays the two compares it was per field. */
static inline int record_end(pond_csv_reader *r, const char *p, const char *end, int64_t *lines)
{
    if (p >= end) {
        if (!r->eof)
            return 0;
        r->pos = r->len;
        return 1;
    }
    if (*p == '\n') {
        (*lines)++;
        r->pos = (size_t)(p + 1 - r->in);
        return 1;
    }
    return 2;
}

/* Space-aligned columns: past a run of blanks after a field. Returns 1 when the record ends
 * there (r->pos set), 0 when more data is needed, 2 when another field follows at *pp. */
static int blank_run(pond_csv_reader *r, const char **pp, int64_t *lines)
{
    const char *p = *pp, *end = r->in + r->len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p < end && *p == '\r') {
        if (p + 1 >= end && !r->eof)
            return 0;
        if (p + 1 >= end || p[1] == '\n')
            p++;
    }
    int rc = record_end(r, p, end, lines);
    if (rc == 2)
        *pp = p;
    return rc;
}

/* Scans one record starting at r->rec without modifying the buffer. Returns 1 when complete
 * (r->pos just past it, fields recorded), 0 when the data ends first (and more may come), or
 * an error. *lines counts the newlines inside it. */
static int scan_record(pond_csv_reader *r, int64_t *lines)
{
    const char delim = r->opts.delimiter, quote = r->opts.quote;
    const bool spaced = r->opts.space_aligned;
    const char *b = r->in, *end = r->in + r->len;
    const char *p = b + r->rec;
    r->nfields = 0;
    *lines = 0;
    int rc;
    for (;;) { /* one field per iteration */
        if (p < end && *p == quote) {
            const char *start = ++p;
            int64_t qline = r->line + *lines;
            for (;;) {
                const char *q = memchr(p, quote, (size_t)(end - p));
                for (const char *c = p; c < (q ? q : end); c++)
                    *lines += *c == '\n';
                if (!q || q + 1 >= end) {
                    if (r->eof && !q)
                        return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL,
                                              "%s: line %lld: unterminated quoted field", rname(r),
                                              (long long)qline);
                    if (!r->eof)
                        return 0; /* need the byte after the quote */
                    p = q + 1;    /* closing quote at the very end of the input */
                    break;
                }
                if (q[1] == quote) { /* "" is one quote */
                    p = q + 2;
                    continue;
                }
                p = q + 1;
                break;
            }
            /* the field is [start, p-1) before unescaping */
            if ((rc = push_field(r, (size_t)(start - b) - r->rec, (size_t)(p - 1 - start), true)) <
                0)
                return rc;
            if (p < end && *p == '\r') {
                if (p + 1 >= end && !r->eof)
                    return 0;
                if (p + 1 < end && p[1] != '\n')
                    return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL,
                                          "%s: line %lld: carriage return after a closing quote",
                                          rname(r), (long long)(r->line + *lines));
                p++;
            }
            if ((rc = record_end(r, p, end, lines)) != 2)
                return rc;
            if (spaced && (*p == ' ' || *p == '\t')) {
                if ((rc = blank_run(r, &p, lines)) != 2)
                    return rc;
                continue;
            }
            if (spaced || *p != delim)
                return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL,
                                      "%s: line %lld: unexpected character '%c' after a closing "
                                      "quote",
                                      rname(r), (long long)(r->line + *lines), *p);
            p++;
            continue;
        }
        /* unquoted: up to the delimiter or the end of the line */
        const char *start = p;
        if (spaced)
            while (p < end && *p != ' ' && *p != '\t' && *p != '\n')
                p++;
        else
            p = field_end(p, end, delim);
        if (p >= end && !r->eof)
            return 0;
        size_t flen = (size_t)(p - start);
        if ((p >= end || *p == '\n') && flen && start[flen - 1] == '\r')
            flen--; /* CR of a CRLF line end */
        if ((rc = push_field(r, (size_t)(start - b) - r->rec, flen, false)) < 0)
            return rc;
        if (spaced && p < end && *p != '\n') {
            if ((rc = blank_run(r, &p, lines)) != 2)
                return rc;
            continue;
        }
        /* at the end of the data r->eof is set here: the check above returned otherwise */
        if ((rc = record_end(r, p, end, lines)) != 2)
            return rc;
        p++; /* the delimiter */
    }
}

/* Consumes the rest of the current line, its newline included. Returns 0, or 1 at the end of
 * the input. */
static int skip_line(pond_csv_reader *r)
{
    int rc;
    for (;;) {
        char *nl = memchr(r->in + r->pos, '\n', r->len - r->pos);
        if (nl) {
            r->pos = (size_t)(nl + 1 - r->in);
            r->line++;
            return 0;
        }
        r->pos = r->len;
        if (r->eof)
            return 1;
        r->rec = r->pos;
        if ((rc = refill(r)) < 0)
            return rc;
    }
}

/* A view's record: only the fields with "" are copied (unquoted, into scratch). */
static int view_cut(pond_csv_reader *r)
{
    const char *base = r->in + r->rec;
    const char q = r->opts.quote;
    pond_buf_clear(&r->scratch);
    for (size_t i = 0; i < r->nfields; i++) {
        field *f = &r->fields[i];
        const char *s = base + f->off;
        if (!f->quoted || !memchr(s, q, f->len))
            continue;
        size_t at = r->scratch.size;
        int rc = pond_buf_grow(&r->scratch, at + f->len);
        if (rc < 0)
            return rc;
        char *w = r->scratch.ptr + at;
        for (size_t k = 0; k < f->len; k++) {
            *w++ = s[k];
            if (s[k] == q)
                k++; /* the second quote of "" */
        }
        r->scratch.size = (size_t)(w - r->scratch.ptr);
        f->off = at;
        f->len = r->scratch.size - at;
        f->in_scratch = true;
    }
    return 0;
}

int pond_csv_reader_next(pond_csv_reader *r)
{
    int rc;
    if (!r->started) {
        r->started = true;
        while (r->len < 3 && !r->eof)
            if ((rc = refill(r)) < 0)
                return rc;
        if (r->len >= 3 && !memcmp(r->in, "\xEF\xBB\xBF", 3))
            r->pos = 3; /* UTF-8 byte-order mark */
        for (int64_t k = 0; k < r->opts.skip_lines; k++)
            if ((rc = skip_line(r)) != 0)
                return rc < 0 ? rc : POND_ITEROVER;
    }
    /* skip blank lines (and comment lines, and leading blanks of space-aligned columns) */
    for (;;) {
        if (r->pos == r->len) {
            if (r->eof)
                return POND_ITEROVER;
            r->rec = r->pos;
            if ((rc = refill(r)) < 0)
                return rc;
            continue;
        }
        char c = r->in[r->pos];
        if (c == '\n') {
            r->pos++;
            r->line++;
        } else if (c == '\r' || (r->opts.space_aligned && (c == ' ' || c == '\t'))) {
            r->pos++;
        } else if (c == r->opts.comment && c) {
            if ((rc = skip_line(r)) != 0)
                return rc < 0 ? rc : POND_ITEROVER;
        } else {
            break;
        }
    }
    r->rec = r->pos;
    r->rec_line = r->line;
    int64_t lines;
    while ((rc = scan_record(r, &lines)) == 0) {
        if (r->eof)
            return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL, "%s: line %lld: truncated record",
                                  rname(r), (long long)r->line);
        if ((rc = refill(r)) < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    r->line += lines;
    if (r->view)
        return view_cut(r);
    /* cut the complete record into NUL-terminated, unquoted fields, in place */
    char *base = r->in + r->rec;
    for (size_t i = 0; i < r->nfields; i++) {
        field *f = &r->fields[i];
        char *s = base + f->off;
        if (f->quoted && memchr(s, r->opts.quote, f->len)) {
            size_t w = 0;
            for (size_t k = 0; k < f->len; k++) {
                s[w++] = s[k];
                if (s[k] == r->opts.quote)
                    k++; /* the second quote of "" */
            }
            f->len = w;
        }
        s[f->len] = '\0';
    }
    return 0;
}

size_t pond_csv_reader_nfields(const pond_csv_reader *r) { return r->nfields; }

const char *pond_csv_reader_field(const pond_csv_reader *r, size_t i, size_t *len_out,
                                  bool *quoted_out)
{
    if (i >= r->nfields) {
        if (len_out)
            *len_out = 0;
        if (quoted_out)
            *quoted_out = false;
        return NULL;
    }
    if (len_out)
        *len_out = r->fields[i].len;
    if (quoted_out)
        *quoted_out = r->fields[i].quoted;
    if (r->fields[i].in_scratch)
        return r->scratch.ptr + r->fields[i].off;
    return r->in + r->rec + r->fields[i].off;
}

int64_t pond_csv_reader_line(const pond_csv_reader *r) { return r->rec_line; }

void pond_csv__reader_rest(const pond_csv_reader *r, const char **data, size_t *len, int64_t *line)
{
    *data = r->in + r->pos;
    *len = r->len - r->pos;
    *line = r->line;
}

void pond_csv__reader_resume(pond_csv_reader *r, int64_t line)
{
    r->started = true;
    r->line = line;
}
int64_t pond_csv_reader_offset(const pond_csv_reader *r)
{
    return r->consumed - (int64_t)(r->len - r->pos);
}

int pond_csv_reader_new(pond_csv_reader **out, pond_csv_read_fn read, void *payload,
                        const pond_csv_options *opts)
{
    POND_ASSERT_ARG(out && read);
    *out = NULL;
    pond_csv_options o = POND_CSV_OPTIONS_INIT;
    if (opts && opts->version == 1) /* version 1 ends before comment */
        memcpy(&o, opts, offsetof(pond_csv_options, comment));
    else if (opts)
        o = *opts;
    o.version = POND_CSV_OPTIONS_VERSION;
    if ((opts && opts->version != 1 && opts->version != POND_CSV_OPTIONS_VERSION) ||
        o.buffer_size == 0 || o.delimiter == '\n' || o.delimiter == '\r' ||
        o.delimiter == o.quote || o.quote == '\n' || o.quote == '\r' || o.skip_lines < 0 ||
        (o.comment && (o.comment == o.quote || o.comment == '\n' || o.comment == '\r' ||
                       (!o.space_aligned && o.comment == o.delimiter))))
        return pond_error_set(POND_EINVALID, POND_DOM_UTIL, "csv: invalid options");
    pond_csv_reader *r = pond_calloc(1, sizeof *r);
    if (!r)
        return POND_ENOMEM;
    r->opts = o;
    r->read = read;
    r->payload = payload;
    r->line = 1;
    r->fd = -1;
    r->cap = o.buffer_size;
    r->in = pond_malloc(r->cap + 1); /* +1: a NUL after a field that ends the input */
    if (!r->in) {
        pond_free(r);
        return POND_ENOMEM;
    }
    *out = r;
    return 0;
}

static int read_fd(void *buf, size_t cap, size_t *n_out, void *payload)
{
    pond_csv_reader *r = payload;
    for (;;) {
        ssize_t n = pond__os_read(r->fd, buf, cap);
        if (n >= 0) {
            *n_out = (size_t)n;
            return 0;
        }
        if (errno != EINTR)
            return pond_error_set_os(POND_DOM_UTIL, "read '%s'", r->path);
    }
}

int pond_csv_reader_open_file(pond_csv_reader **out, const char *path, const pond_csv_options *opts)
{
    pond_csv_options o = POND_CSV_OPTIONS_INIT;
    if (opts)
        o = *opts;
    if (!o.name)
        o.name = path;
    int fd, rc;
    if ((rc = pond__open(&fd, path, O_RDONLY, 0, POND_DOM_UTIL)) < 0)
        return rc;
    if ((rc = pond_csv_reader_new(out, read_fd, NULL, &o)) < 0) {
        pond__close(fd);
        return rc;
    }
    (*out)->payload = *out;
    (*out)->fd = fd;
    (*out)->path = pond_strdup(path);
    if (!(*out)->path) {
        pond_csv_reader_free(*out);
        *out = NULL;
        return POND_ENOMEM;
    }
    (*out)->opts.name = (*out)->path;
    return 0;
}

static int read_none(void *buf, size_t cap, size_t *n_out, void *payload)
{
    (void)buf, (void)cap, (void)payload;
    *n_out = 0;
    return 0;
}

int pond_csv__reader_open_view(pond_csv_reader **out, const char *data, size_t len,
                               const pond_csv_options *opts)
{
    int rc = pond_csv_reader_new(out, read_none, NULL, opts);
    if (rc < 0)
        return rc;
    pond_csv_reader *r = *out;
    pond_free(r->in);
    r->in = (char *)data; /* never written: r->view */
    r->cap = r->len = len;
    r->consumed = (int64_t)len;
    r->eof = true;
    r->view = true;
    return 0;
}

int pond_csv_reader_open_mem(pond_csv_reader **out, const void *data, size_t len,
                             const pond_csv_options *opts)
{
    int rc = pond_csv_reader_new(out, pond__mem_read, NULL, opts);
    if (rc < 0)
        return rc;
    (*out)->mem = (pond__mem_source){data, len, 0};
    (*out)->payload = &(*out)->mem;
    return 0;
}

void pond_csv_reader_free(pond_csv_reader *r)
{
    if (!r)
        return;
    pond__close(r->fd);
    pond_free(r->path);
    if (!r->view)
        pond_free(r->in);
    pond_buf_dispose(&r->scratch);
    pond_free(r->fields);
    pond_free(r);
}
