#include <pond/csv.h>

#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

typedef struct {
    size_t off;  /* into rec */
    size_t len;
    bool quoted;
} field;

struct pond_csv_reader {
    pond_csv_options opts;
    pond_csv_read_fn read;
    void *payload;
    /* input */
    char *in;
    size_t in_len, in_pos;
    bool eof;
    int64_t consumed;
    /* current record */
    pond_buf rec;
    field *fields;
    size_t nfields, fields_cap;
    int64_t line, rec_line;
    bool started;
    /* file/memory sources */
    int fd;
    char *path;
    const char *mem;
    size_t mem_len, mem_pos;
};

static const char *rname(const pond_csv_reader *r)
{
    return r->opts.name ? r->opts.name : "csv";
}

static int fill(pond_csv_reader *r)
{
    if (r->eof)
        return 0;
    size_t n = 0;
    int rc = r->read(r->payload, r->in, r->opts.buffer_size, &n);
    if (rc < 0)
        return rc;
    r->in_len = n;
    r->in_pos = 0;
    r->consumed += (int64_t)n;
    if (n == 0)
        r->eof = true;
    return 0;
}

/* Next input byte, or -1 at the end of input. */
static inline int peek(pond_csv_reader *r, int *rc)
{
    if (r->in_pos == r->in_len) {
        if ((*rc = fill(r)) < 0 || r->eof)
            return -1;
    }
    return (unsigned char)r->in[r->in_pos];
}

static int push_field(pond_csv_reader *r, size_t off, bool quoted)
{
    if (r->nfields == r->opts.max_fields)
        return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL,
                              "%s: line %lld: more than %zu fields in one record", rname(r),
                              (long long)r->rec_line, r->opts.max_fields);
    if (r->nfields == r->fields_cap) {
        size_t cap = r->fields_cap ? r->fields_cap * 2 : 32;
        field *f = pond_realloc(r->fields, cap * sizeof *f);
        if (!f)
            return POND_ENOMEM;
        r->fields = f;
        r->fields_cap = cap;
    }
    r->fields[r->nfields++] = (field){off, r->rec.size - off, quoted};
    return pond_buf_putc(&r->rec, '\0');
}

static int too_long(pond_csv_reader *r)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL,
                          "%s: line %lld: field longer than %zu bytes", rname(r),
                          (long long)r->rec_line, r->opts.max_field);
}

/* Appends input bytes [start, in_pos) to the record, checking the field limit. */
static int take(pond_csv_reader *r, size_t start, size_t field_off)
{
    size_t n = r->in_pos - start;
    if (r->rec.size - field_off + n > r->opts.max_field)
        return too_long(r);
    return n ? pond_buf_put(&r->rec, r->in + start, n) : 0;
}

int pond_csv_reader_next(pond_csv_reader *r)
{
    int rc = 0;
    const char delim = r->opts.delimiter, quote = r->opts.quote;
    pond_buf_clear(&r->rec);
    r->nfields = 0;
    if (!r->started) {
        r->started = true;
        int c = peek(r, &rc);
        if (rc < 0)
            return rc;
        /* UTF-8 byte-order mark */
        if (c == 0xEF && r->in_len - r->in_pos >= 3 && !memcmp(r->in + r->in_pos, "\xEF\xBB\xBF", 3))
            r->in_pos += 3;
    }
    /* skip blank lines */
    for (;;) {
        int c = peek(r, &rc);
        if (rc < 0)
            return rc;
        if (c < 0)
            return POND_ITEROVER;
        if (c == '\n') {
            r->in_pos++;
            r->line++;
        } else if (c == '\r') {
            r->in_pos++;
        } else {
            break;
        }
    }
    r->rec_line = r->line;
    for (;;) { /* one field per iteration */
        size_t field_off = r->rec.size;
        int c = peek(r, &rc);
        if (rc < 0)
            return rc;
        if (c == quote) {
            r->in_pos++;
            int64_t qline = r->line;
            for (;;) {
                size_t start = r->in_pos;
                while (r->in_pos < r->in_len && r->in[r->in_pos] != quote) {
                    if (r->in[r->in_pos] == '\n')
                        r->line++;
                    r->in_pos++;
                }
                if ((rc = take(r, start, field_off)) < 0)
                    return rc;
                if (r->in_pos == r->in_len) {
                    if ((rc = fill(r)) < 0)
                        return rc;
                    if (r->eof)
                        return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL,
                                              "%s: line %lld: unterminated quoted field", rname(r),
                                              (long long)qline);
                    continue;
                }
                r->in_pos++; /* the quote */
                c = peek(r, &rc);
                if (rc < 0)
                    return rc;
                if (c == quote) { /* "" is one quote */
                    r->in_pos++;
                    if ((rc = pond_buf_putc(&r->rec, quote)) < 0)
                        return rc;
                    continue;
                }
                break;
            }
            if ((rc = push_field(r, field_off, true)) < 0)
                return rc;
            c = peek(r, &rc);
            if (rc < 0)
                return rc;
            if (c == '\r') {
                r->in_pos++;
                c = peek(r, &rc);
                if (rc < 0)
                    return rc;
                if (c != '\n' && c >= 0)
                    return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL,
                                          "%s: line %lld: carriage return after a closing quote",
                                          rname(r), (long long)r->line);
            }
            if (c < 0)
                return 0;
            r->in_pos++;
            if (c == '\n') {
                r->line++;
                return 0;
            }
            if (c != delim)
                return pond_error_set(POND_ECORRUPT, POND_DOM_UTIL,
                                      "%s: line %lld: unexpected character '%c' after a closing "
                                      "quote",
                                      rname(r), (long long)r->line, c);
            continue;
        }
        /* unquoted field: scan to the delimiter or the end of the line */
        for (;;) {
            size_t start = r->in_pos;
            const char *p = r->in + r->in_pos, *end = r->in + r->in_len;
            while (p < end && *p != delim && *p != '\n')
                p++;
            r->in_pos = (size_t)(p - r->in);
            if ((rc = take(r, start, field_off)) < 0)
                return rc;
            if (p < end)
                break;
            if ((rc = fill(r)) < 0)
                return rc;
            if (r->eof)
                break;
        }
        c = r->eof ? -1 : (unsigned char)r->in[r->in_pos];
        /* a CR before LF (or at the end) belongs to the line ending */
        if ((c == '\n' || c < 0) && r->rec.size > field_off && r->rec.ptr[r->rec.size - 1] == '\r')
            r->rec.size--;
        if ((rc = push_field(r, field_off, false)) < 0)
            return rc;
        if (c < 0)
            return 0;
        r->in_pos++;
        if (c == '\n') {
            r->line++;
            return 0;
        }
    }
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
    return r->rec.ptr + r->fields[i].off;
}

int64_t pond_csv_reader_line(const pond_csv_reader *r) { return r->rec_line; }
int64_t pond_csv_reader_offset(const pond_csv_reader *r)
{
    return r->consumed - (int64_t)(r->in_len - r->in_pos);
}

int pond_csv_reader_new(pond_csv_reader **out, pond_csv_read_fn read, void *payload,
                        const pond_csv_options *opts)
{
    POND_ASSERT_ARG(out && read);
    *out = NULL;
    pond_csv_options def = POND_CSV_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    if (opts->version != POND_CSV_OPTIONS_VERSION || opts->buffer_size == 0 ||
        opts->delimiter == '\n' || opts->delimiter == '\r' || opts->delimiter == opts->quote)
        return pond_error_set(POND_EINVALID, POND_DOM_UTIL, "csv: invalid options");
    pond_csv_reader *r = pond_calloc(1, sizeof *r);
    if (!r)
        return POND_ENOMEM;
    r->opts = *opts;
    r->read = read;
    r->payload = payload;
    r->line = 1;
    r->fd = -1;
    r->in = pond_malloc(opts->buffer_size);
    if (!r->in) {
        pond_free(r);
        return POND_ENOMEM;
    }
    *out = r;
    return 0;
}

static int read_fd(void *payload, void *buf, size_t cap, size_t *n_out)
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

static int read_mem(void *payload, void *buf, size_t cap, size_t *n_out)
{
    pond_csv_reader *r = payload;
    size_t n = POND_MIN(cap, r->mem_len - r->mem_pos);
    memcpy(buf, r->mem + r->mem_pos, n);
    r->mem_pos += n;
    *n_out = n;
    return 0;
}

int pond_csv_reader_open_mem(pond_csv_reader **out, const void *data, size_t len,
                             const pond_csv_options *opts)
{
    int rc = pond_csv_reader_new(out, read_mem, NULL, opts);
    if (rc < 0)
        return rc;
    (*out)->payload = *out;
    (*out)->mem = data;
    (*out)->mem_len = len;
    return 0;
}

void pond_csv_reader_free(pond_csv_reader *r)
{
    if (!r)
        return;
    pond__close(r->fd);
    pond_free(r->path);
    pond_free(r->in);
    pond_free(r->fields);
    pond_buf_dispose(&r->rec);
    pond_free(r);
}
