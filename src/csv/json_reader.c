/* Streaming JSON records: a bounded scan finds each record's end, then it is parsed alone. */
#include <pond/json_reader.h>

#include "util/util.h"

#include <stdio.h>
#include <string.h>

#define D POND_DOM_UTIL

typedef struct {
    size_t koff, klen, voff, vlen;
    pond_json_kind kind;
} pair;

enum { S_START, S_ARRAY_FIRST, S_ARRAY_NEXT, S_LINES, S_DONE };

struct pond_json_reader {
    pond_json_options opts;
    pond_json_read_fn read;
    void *payload;
    char *in;
    size_t cap, pos, len; /* unread data is in[pos, len) */
    bool eof;
    int64_t line; /* line of in[pos] */
    int state;
    pond_json_layout layout;
    int64_t rec_line, records;
    pond_buf out; /* keys and values of the current record, NUL-terminated */
    pair *pairs;
    size_t npairs, pairs_cap;
    pond__mem_source mem;
    /* parse position, for messages */
    const char *rec_start;
};

static const char *rname(const pond_json_reader *r) { return r->opts.name ? r->opts.name : "json"; }

/* Moves unread data to the front and reads more; grows the buffer when it is full. */
static int refill(pond_json_reader *r)
{
    size_t got;
    int rc = pond__window_refill(&r->in, &r->cap, &r->len, r->pos, r->opts.max_record, r->read,
                                 r->payload, &got, &r->eof);
    r->pos = 0;
    if (rc == 1)
        return pond_error_set(POND_ECORRUPT, D, "%s: line %lld: a record longer than %zu bytes",
                              rname(r), (long long)r->line, r->opts.max_record);
    return rc;
}

/* Skips whitespace; returns the next character, -1 at the end of the input, or an error
 * (< -1). */
static int peek_char(pond_json_reader *r)
{
    int rc;
    for (;;) {
        while (r->pos < r->len) {
            char c = r->in[r->pos];
            if (c == '\n')
                r->line++;
            else if (c != ' ' && c != '\t' && c != '\r')
                return (unsigned char)c;
            r->pos++;
        }
        if (r->eof)
            return -1;
        if ((rc = refill(r)) < 0)
            return rc < -1 ? rc : POND_ERROR;
    }
}

static int syntax(const pond_json_reader *r, int64_t line, const char *what)
{
    return pond_error_set(POND_ECORRUPT, D, "%s: line %lld: %s", rname(r), (long long)line, what);
}

static const char *kind_of_start(char c)
{
    switch (c) {
    case '[':
        return "an array";
    case '"':
        return "a string";
    case 't':
    case 'f':
        return "a boolean";
    case 'n':
        return "null";
    default:
        return (c == '-' || (c >= '0' && c <= '9')) ? "a number" : "not JSON";
    }
}

/* Finds the end of the object at in[pos]: returns its length in *n_out (refilling as needed). */
static int scan_object(pond_json_reader *r, size_t *n_out)
{
    size_t i = 0; /* relative to pos: refill keeps it valid */
    int depth = 0;
    bool str = false;
    int rc;
    for (;;) {
        const char *b = r->in + r->pos;
        size_t n = r->len - r->pos;
        while (i < n) {
            char c = b[i];
            if (str) {
                const char *q = b + i;
                while (q < b + n && *q != '"' && *q != '\\')
                    q++;
                i = (size_t)(q - b);
                if (i >= n)
                    break;
                if (*q == '\\') {
                    if (i + 1 >= n)
                        break; /* the escaped character is not read yet */
                    i += 2;
                    continue;
                }
                str = false;
                i++;
                continue;
            }
            if (c == '"')
                str = true;
            else if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    *n_out = i + 1;
                    return 0;
                }
            }
            i++;
        }
        if (r->eof)
            return syntax(r, r->line,
                          str ? "the input ends inside a string"
                              : "the input ends inside a record");
        if ((rc = refill(r)) < 0)
            return rc;
    }
}

/* ---- parsing one record from memory ------------------------------------------------------- */

typedef struct {
    pond_json_reader *r;
    const char *p, *end;
} cursor;

static int perr(cursor *c, const char *what)
{
    int64_t line = c->r->rec_line;
    for (const char *q = c->r->rec_start; q < c->p && q < c->end; q++)
        line += *q == '\n';
    return syntax(c->r, line, what);
}

static void ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char h = p[i];
        unsigned d = h >= '0' && h <= '9'   ? (unsigned)(h - '0')
                     : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                     : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10)
                                            : 16u;
        if (d > 15)
            return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

static int put_utf8(pond_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return pond_buf_put(b, u, n);
}

/* A string at c->p (on the opening quote). Unescaped into out when unescape, else copied as
 * JSON text (for nested values). */
static int string(cursor *c, pond_buf *out, bool unescape)
{
    const char *s = ++c->p;
    int rc;
    if (!unescape && (rc = pond_buf_putc(out, '"')) < 0)
        return rc;
    for (;;) {
        const char *q = s;
        while (q < c->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
            q++;
        if ((rc = pond_buf_put(out, s, (size_t)(q - s))) < 0)
            return rc;
        c->p = q;
        if (q >= c->end)
            return perr(c, "unterminated string");
        if (*q == '"') {
            c->p = q + 1;
            return unescape ? 0 : pond_buf_putc(out, '"');
        }
        if (*q != '\\')
            return perr(c, "a control character inside a string (write it as \\n, \\t or \\u00XX)");
        if (q + 1 >= c->end)
            return perr(c, "unterminated string");
        char e = q[1];
        s = q + 2;
        if (!unescape) {
            if (!strchr("\"\\/bfnrtu", e) || !e)
                return perr(c, "invalid escape in a string");
            if (e == 'u') {
                unsigned v;
                if (c->end - s < 4 || hex4(s, &v) < 0)
                    return perr(c, "invalid \\u escape in a string");
            }
            if ((rc = pond_buf_put(out, q, 2)) < 0)
                return rc;
            continue;
        }
        char lit = 0;
        switch (e) {
        case '"':
            lit = '"';
            break;
        case '\\':
            lit = '\\';
            break;
        case '/':
            lit = '/';
            break;
        case 'b':
            lit = '\b';
            break;
        case 'f':
            lit = '\f';
            break;
        case 'n':
            lit = '\n';
            break;
        case 'r':
            lit = '\r';
            break;
        case 't':
            lit = '\t';
            break;
        case 'u': {
            unsigned v, lo;
            if (c->end - s < 4 || hex4(s, &v) < 0)
                return perr(c, "invalid \\u escape in a string");
            s += 4;
            if (v >= 0xD800 && v <= 0xDBFF) {
                if (c->end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) < 0 ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return perr(c, "an unpaired UTF-16 surrogate in a \\u escape");
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            } else if (v >= 0xDC00 && v <= 0xDFFF) {
                return perr(c, "an unpaired UTF-16 surrogate in a \\u escape");
            }
            if (v == 0)
                return perr(c, "a NUL character (\\u0000) in a string");
            if ((rc = put_utf8(out, v)) < 0)
                return rc;
            continue;
        }
        default:
            return perr(c, "invalid escape in a string");
        }
        if ((rc = pond_buf_putc(out, lit)) < 0)
            return rc;
    }
}

static int number(cursor *c, pond_buf *out)
{
    const char *s = c->p, *p = s;
    if (p < c->end && *p == '-')
        p++;
    if (p < c->end && *p == '0')
        p++;
    else if (p < c->end && *p >= '1' && *p <= '9')
        while (p < c->end && *p >= '0' && *p <= '9')
            p++;
    else
        return perr(c, "invalid number");
    if (p < c->end && *p == '.') {
        const char *f = ++p;
        while (p < c->end && *p >= '0' && *p <= '9')
            p++;
        if (p == f)
            return perr(c, "invalid number");
    }
    if (p < c->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < c->end && (*p == '+' || *p == '-'))
            p++;
        const char *x = p;
        while (p < c->end && *p >= '0' && *p <= '9')
            p++;
        if (p == x)
            return perr(c, "invalid number");
    }
    if (p < c->end && ((*p >= '0' && *p <= '9') || *p == '.'))
        return perr(c, "invalid number (a leading zero?)");
    c->p = p;
    return pond_buf_put(out, s, (size_t)(p - s));
}

static int literal(cursor *c, const char *word, pond_buf *out)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n))
        return perr(c, "not JSON (expected a value)");
    c->p += n;
    return out ? pond_buf_put(out, word, n) : 0;
}

/* Any value, validated and copied to out as compact JSON text. */
static int value_text(cursor *c, pond_buf *out, int depth)
{
    int rc;
    if (depth > c->r->opts.max_depth)
        return perr(c, "nested deeper than the limit");
    ws(c);
    if (c->p >= c->end)
        return perr(c, "expected a value");
    char ch = *c->p;
    if (ch == '"')
        return string(c, out, false);
    if (ch == 't')
        return literal(c, "true", out);
    if (ch == 'f')
        return literal(c, "false", out);
    if (ch == 'n')
        return literal(c, "null", out);
    if (ch != '{' && ch != '[')
        return number(c, out);
    char close = ch == '{' ? '}' : ']';
    c->p++;
    if ((rc = pond_buf_putc(out, ch)) < 0)
        return rc;
    ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return pond_buf_putc(out, close);
    }
    for (;;) {
        if (close == '}') {
            ws(c);
            if (c->p >= c->end || *c->p != '"')
                return perr(c, "expected a key (a string) in an object");
            if ((rc = string(c, out, false)) < 0)
                return rc;
            ws(c);
            if (c->p >= c->end || *c->p != ':')
                return perr(c, "expected ':' after a key");
            c->p++;
            if ((rc = pond_buf_putc(out, ':')) < 0)
                return rc;
        }
        if ((rc = value_text(c, out, depth + 1)) < 0)
            return rc;
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            if ((rc = pond_buf_putc(out, ',')) < 0)
                return rc;
            continue;
        }
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return pond_buf_putc(out, close);
        }
        return perr(c, close == '}' ? "expected ',' or '}' in an object"
                                    : "expected ',' or ']' in an array");
    }
}

static int add_pair(pond_json_reader *r, pair pr)
{
    if (POND_GROW(r->pairs, r->npairs, r->pairs_cap) < 0)
        return POND_ENOMEM;
    r->pairs[r->npairs++] = pr;
    return 0;
}

/* The record object in [s, s + n): its top-level pairs into r->out / r->pairs. */
static int parse_record(pond_json_reader *r, const char *s, size_t n)
{
    cursor c = {r, s + 1, s + n};
    pond_buf *o = &r->out;
    int rc;
    pond_buf_clear(o);
    r->npairs = 0;
    ws(&c);
    if (c.p < c.end && *c.p == '}')
        return c.p + 1 == c.end ? 0 : perr(&c, "data after the end of a record");
    for (;;) {
        pair pr = {0};
        ws(&c);
        if (c.p >= c.end || *c.p != '"')
            return perr(&c, "expected a key (a string) in an object");
        pr.koff = o->size;
        if ((rc = string(&c, o, true)) < 0)
            return rc;
        pr.klen = o->size - pr.koff;
        if (memchr(o->ptr + pr.koff, 0, pr.klen))
            return perr(&c, "a NUL character in a key");
        if ((rc = pond_buf_putc(o, 0)) < 0)
            return rc;
        ws(&c);
        if (c.p >= c.end || *c.p != ':')
            return perr(&c, "expected ':' after a key");
        c.p++;
        ws(&c);
        if (c.p >= c.end)
            return perr(&c, "expected a value");
        pr.voff = o->size;
        char ch = *c.p;
        if (ch == '"') {
            pr.kind = POND_JSON_STRING;
            rc = string(&c, o, true);
        } else if (ch == '{' || ch == '[') {
            pr.kind = POND_JSON_NESTED;
            rc = value_text(&c, o, 1);
        } else if (ch == 't') {
            pr.kind = POND_JSON_TRUE;
            rc = literal(&c, "true", NULL);
        } else if (ch == 'f') {
            pr.kind = POND_JSON_FALSE;
            rc = literal(&c, "false", NULL);
        } else if (ch == 'n') {
            pr.kind = POND_JSON_NULL;
            rc = literal(&c, "null", NULL);
        } else {
            pr.kind = POND_JSON_NUMBER;
            rc = number(&c, o);
        }
        if (rc < 0)
            return rc;
        pr.vlen = o->size - pr.voff;
        if ((rc = pond_buf_putc(o, 0)) < 0 || (rc = add_pair(r, pr)) < 0)
            return rc;
        ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        if (c.p < c.end && *c.p == '}' && c.p + 1 == c.end)
            return 0;
        return perr(&c, "expected ',' or '}' in an object");
    }
}

int pond_json_reader_next(pond_json_reader *r)
{
    int ch, rc;
    if (r->state == S_DONE)
        return POND_ITEROVER;
    ch = peek_char(r);
    if (ch < -1)
        return ch;
    if (r->state == S_START) {
        pond_json_layout l = r->opts.layout;
        if (l == POND_JSON_AUTO)
            l = ch == '[' ? POND_JSON_ARRAY : POND_JSON_LINES;
        r->layout = l;
        if (l == POND_JSON_ARRAY) {
            if (ch != '[')
                return syntax(r, r->line,
                              ch < 0 ? "empty input (a JSON array was expected)"
                                     : "expected a JSON array ('[')");
            r->pos++;
            r->state = S_ARRAY_FIRST;
        } else {
            r->state = S_LINES;
        }
        if ((ch = peek_char(r)) < -1)
            return ch;
    }
    if (r->state == S_ARRAY_FIRST || r->state == S_ARRAY_NEXT) {
        if (ch == ']') {
            r->pos++;
            r->state = S_DONE;
            if ((ch = peek_char(r)) < -1)
                return ch;
            if (ch != -1)
                return syntax(r, r->line, "data after the end of the array");
            return POND_ITEROVER;
        }
        if (r->state == S_ARRAY_NEXT) {
            if (ch != ',')
                return syntax(r, r->line,
                              ch < 0 ? "the input ends inside the array"
                                     : "expected ',' or ']' after a record");
            r->pos++;
            if ((ch = peek_char(r)) < -1)
                return ch;
            if (ch == ']')
                return syntax(r, r->line, "a comma before ']'");
        }
        if (ch < 0)
            return syntax(r, r->line, "the input ends inside the array");
    } else if (ch < 0) {
        r->state = S_DONE;
        return POND_ITEROVER;
    }
    if (ch != '{') {
        char msg[96];
        snprintf(msg, sizeof msg, "record %lld is %s, not an object", (long long)r->records + 1,
                 kind_of_start((char)ch));
        return syntax(r, r->line, msg);
    }
    size_t n = 0;
    if ((rc = scan_object(r, &n)) < 0)
        return rc;
    r->rec_line = r->line;
    r->rec_start = r->in + r->pos;
    if ((rc = parse_record(r, r->in + r->pos, n)) < 0)
        return rc;
    for (size_t k = 0; k < n; k++)
        r->line += r->in[r->pos + k] == '\n';
    r->pos += n;
    r->records++;
    if (r->state == S_ARRAY_FIRST)
        r->state = S_ARRAY_NEXT;
    return 0;
}

size_t pond_json_reader_nkeys(const pond_json_reader *r) { return r->npairs; }

const char *pond_json_reader_key(const pond_json_reader *r, size_t i, size_t *len_out)
{
    if (i >= r->npairs)
        return NULL;
    if (len_out)
        *len_out = r->pairs[i].klen;
    return r->out.ptr + r->pairs[i].koff;
}

const char *pond_json_reader_value(const pond_json_reader *r, size_t i, size_t *len_out,
                                   pond_json_kind *kind_out)
{
    if (i >= r->npairs)
        return NULL;
    if (len_out)
        *len_out = r->pairs[i].vlen;
    if (kind_out)
        *kind_out = r->pairs[i].kind;
    return r->out.ptr + r->pairs[i].voff;
}

int64_t pond_json_reader_line(const pond_json_reader *r) { return r->rec_line; }
pond_json_layout pond_json_reader_layout(const pond_json_reader *r) { return r->layout; }

int pond_json_reader_new(pond_json_reader **out, pond_json_read_fn read, void *payload,
                         const pond_json_options *opts)
{
    POND_ASSERT_ARG(out && read);
    *out = NULL;
    pond_json_options def = POND_JSON_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    if (opts->version != POND_JSON_OPTIONS_VERSION || opts->buffer_size == 0 ||
        opts->max_record == 0 || opts->max_depth < 1)
        return pond_error_set(POND_EINVALID, D, "json: invalid options");
    pond_json_reader *r = pond_calloc(1, sizeof *r);
    if (!r)
        return POND_ENOMEM;
    r->opts = *opts;
    r->read = read;
    r->payload = payload;
    r->line = 1;
    r->cap = POND_MIN(opts->buffer_size, opts->max_record);
    r->in = pond_malloc(r->cap + 1);
    if (!r->in) {
        pond_free(r);
        return POND_ENOMEM;
    }
    *out = r;
    return 0;
}

int pond_json_reader_open_mem(pond_json_reader **out, const void *data, size_t len,
                              const pond_json_options *opts)
{
    int rc = pond_json_reader_new(out, pond__mem_read, NULL, opts);
    if (rc < 0)
        return rc;
    (*out)->mem = (pond__mem_source){data, len, 0};
    (*out)->payload = &(*out)->mem;
    return 0;
}

void pond_json_reader_free(pond_json_reader *r)
{
    if (!r)
        return;
    pond_buf_dispose(&r->out);
    pond_free(r->pairs);
    pond_free(r->in);
    pond_free(r);
}
