/* Rows as text: CSV, JSON lines and aligned tables (include/pond/rows.h). */
#include <pond/alloc.h>
#include <pond/errors.h>
#include <pond/rows.h>
#include <pond/timefmt.h>

#include "util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_MAX_WIDTH 40
#define TABLE_SIZING_ROWS 1000
#define FLUSH_AT (1 << 16)

struct pond_rows {
    pond_rows_format fmt;
    const pond_tz *tz;
    pond_rows_sink_fn sink;
    void *payload;
    size_t nc;
    char **names;
    pond_buf out;  /* pending output, handed on in 64 KiB pieces */
    int64_t bytes; /* handed to the sink so far */
    pond_buf cell; /* scratch for one cell's text */
    size_t col;    /* next column of the current row */
    int64_t rows;
    int error; /* a sink error sticks */
    /* table mode */
    size_t *width;
    unsigned char *kinds; /* per column: bit 1 = a number seen, bit 2 = other text seen */
    char **cells;         /* the sizing rows: cell text, kind in the first byte */
    size_t n_cells, cap_cells;
    bool sized;
};

/* What a cell is decides how each format writes it. */
enum {
    K_NULL = 1, /* JSON null, CSV empty, table NULL */
    K_NUM,      /* bare in JSON and CSV, right-aligned in a table */
    K_STR,      /* a JSON string, CSV-quoted when needed */
    K_LIT,      /* bare in JSON and CSV (true, false), left-aligned */
    K_JSON,     /* JSON text: raw in JSON, a string elsewhere */
    K_NUMSTR,   /* NaN and infinities: JSON has none, so strings there; numbers elsewhere */
    K_TEXT,     /* pond's text for a typed value (times, dates, hex): like K_STR */
};

/* ---- numbers and times ------------------------------------------------------------------ */

static size_t special_double(char out[40], double d)
{
    const char *s = isnan(d)   ? "NaN"
                    : isinf(d) ? (d < 0 ? "-Infinity" : "Infinity")
                               : (signbit(d) ? "-0.0" : "0.0");
    strcpy(out, s);
    return strlen(s);
}

/* A float type's text needs a '.' or an exponent, or it re-imports as an integer. */
static size_t mark_floating(char out[40], size_t n)
{
    if (!strpbrk(out, ".e") && n + 2 < 40) {
        memcpy(out + n, ".0", 3);
        n += 2;
    }
    return n;
}

size_t pond_format_double(char out[40], double d)
{
    if (!isfinite(d) || d == 0)
        return special_double(out, d);
    pond_arrow_format_double(out, d); /* shortest digits that read back as d */
    return mark_floating(out, strlen(out));
}

size_t pond_format_float(char out[40], float f)
{
    if (!isfinite(f) || f == 0)
        return special_double(out, f);
    int n = 0;
    for (int prec = 1; prec <= 9; prec++) {
        n = snprintf(out, 40, "%.*g", prec, (double)f);
        if (strtof(out, NULL) == f)
            break;
    }
    return mark_floating(out, (size_t)n);
}

/* 26 hours: more than any offset a zone has had */
#define MAX_OFFSET_US (26LL * 3600 * 1000000)

size_t pond_format_timestamp(char out[48], int64_t v, pond_arrow_unit unit, bool has_tz,
                             const pond_tz *display_tz)
{
    static const char *const suffix[] = {"s", "ms", "us", "ns"};
    const pond_tz *tz = has_tz && display_tz && !pond_tz_is_utc(display_tz) ? display_tz : NULL;
    int64_t us, sub_ns = 0,
                mul = unit == POND_ARROW_UNIT_S    ? 1000000
                      : unit == POND_ARROW_UNIT_MS ? 1000
                                                   : 1;
    if (unit == POND_ARROW_UNIT_NS) {
        us = v / 1000 - (v % 1000 < 0);
        sub_ns = v - us * 1000;
    } else if (__builtin_mul_overflow(v, mul, &us) ||
               (tz && (us > INT64_MAX - MAX_OFFSET_US || us < INT64_MIN + MAX_OFFSET_US))) {
        /* beyond the calendar pond prints: the epoch value with its unit, as --from reads it */
        return (size_t)snprintf(out, 48, "%lld%s", (long long)v, suffix[unit]);
    }
    size_t n = tz ? pond_time_format_iso_tz(out, us, tz) : pond_time_format_iso(out, us);
    if (sub_ns) { /* nanoseconds: all nine digits, before the Z or the offset */
        int64_t frac = ((us % 1000000) + 1000000) % 1000000;
        char zone[16] = "Z", *t = strchr(out, 'T');
        char *zp = t ? strpbrk(t + 1, "Z+-") : NULL;
        if (zp)
            snprintf(zone, sizeof zone, "%s", zp);
        char *dot = strchr(out, '.');
        size_t base = dot ? (size_t)(dot - out) : zp ? (size_t)(zp - out) : n;
        n = base + (size_t)snprintf(out + base, 48 - base, ".%06lld%03lld%s", (long long)frac,
                                    (long long)sub_ns, zone);
    }
    if (!has_tz) /* no time zone: a wall-clock time, not an instant */
        out[--n] = '\0';
    return n;
}

static size_t format_time_of_day(char out[48], int64_t ns)
{
    int64_t s = ns / 1000000000, frac = ns % 1000000000;
    int n = snprintf(out, 48, "%02lld:%02lld:%02lld", (long long)(s / 3600),
                     (long long)(s / 60 % 60), (long long)(s % 60));
    if (frac) {
        n += snprintf(out + n, 48 - (size_t)n, ".%09lld", (long long)frac);
        while (out[n - 1] == '0')
            out[--n] = '\0';
    }
    return (size_t)n;
}

void pond_format_size(char out[32], int64_t n)
{
    static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(out, 32, "%lld B", (long long)n);
    else
        snprintf(out, 32, "%.1f %s", v, u[i]);
}

size_t pond_format_time_seconds(char out[40], int64_t us)
{
    int64_t s = us / 1000000 - (us % 1000000 < 0); /* floor: a time never shows later */
    return pond_time_format_iso(out, s * 1000000);
}

/* ---- the row writer --------------------------------------------------------------------- */

static int oom(void) { return pond_error_set(POND_ENOMEM, POND_DOM_TABLE, "out of memory"); }

static int put_json_string(pond_buf *out, const char *s, size_t n)
{
    return pond_buf_put_json_string(out, s, n);
}

/* Quoted when CSV needs it, when empty (an unquoted empty field is a null) and when it
 * starts or ends with a space (readers that trim would lose it). */
static int put_csv_field(pond_buf *out, const char *s, size_t n)
{
    bool quote = n == 0 || memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) ||
                 memchr(s, '\r', n) || s[0] == ' ' || s[n - 1] == ' ';
    if (!quote)
        return pond_buf_put(out, s, n);
    int rc = pond_buf_putc(out, '"');
    for (size_t k = 0; k < n && rc == 0; k++)
        rc = s[k] == '"' ? pond_buf_put(out, "\"\"", 2) : pond_buf_putc(out, s[k]);
    return rc ? rc : pond_buf_putc(out, '"');
}

/* Display width: UTF-8 code points (continuation bytes take no column). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

/* Byte length of the first `cols` code points of s. */
static size_t width_prefix(const char *s, size_t cols)
{
    size_t i = 0, w = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80 && w++ == cols)
            break;
    }
    return i;
}

int pond_rows_new(pond_rows **out, pond_rows_format fmt, size_t ncols, const char *const *names,
                  const pond_tz *tz, pond_rows_sink_fn sink, void *payload)
{
    *out = NULL;
    pond_rows *w = pond_calloc(1, sizeof *w);
    if (!w)
        return oom();
    w->fmt = fmt;
    w->tz = tz;
    w->sink = sink;
    w->payload = payload;
    w->nc = ncols;
    w->out = (pond_buf)POND_BUF_INIT;
    w->cell = (pond_buf)POND_BUF_INIT;
    size_t n = ncols ? ncols : 1;
    if (!(w->names = pond_calloc(n, sizeof *w->names)) ||
        !(w->width = pond_calloc(n, sizeof *w->width)) || !(w->kinds = pond_calloc(n, 1))) {
        pond_rows_free(w);
        return oom();
    }
    for (size_t k = 0; k < ncols; k++) {
        if (!(w->names[k] = pond_strdup(names[k] ? names[k] : ""))) {
            pond_rows_free(w);
            return oom();
        }
        w->width[k] = text_width(w->names[k]);
    }
    /* CSV: the header comes first, so an empty result still says which columns it has */
    int rc = 0;
    for (size_t k = 0; w->fmt == POND_ROWS_CSV && k < ncols && rc == 0; k++) {
        rc = k ? pond_buf_putc(&w->out, ',') : 0;
        if (rc == 0)
            rc = put_csv_field(&w->out, w->names[k], strlen(w->names[k]));
    }
    if (rc == 0 && w->fmt == POND_ROWS_CSV && ncols)
        rc = pond_buf_putc(&w->out, '\n');
    if (rc < 0) {
        pond_rows_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void pond_rows_free(pond_rows *w)
{
    if (!w)
        return;
    for (size_t k = 0; w->names && k < w->nc; k++)
        pond_free(w->names[k]);
    pond_free(w->names);
    for (size_t c = 0; c < w->n_cells; c++)
        pond_free(w->cells[c]);
    pond_free(w->cells);
    pond_free(w->width);
    pond_free(w->kinds);
    pond_buf_dispose(&w->out);
    pond_buf_dispose(&w->cell);
    pond_free(w);
}

int64_t pond_rows_bytes(const pond_rows *w) { return w->bytes; }

static bool right_aligned(const pond_rows *w, size_t k)
{
    return w->kinds[k] == 1; /* numbers and nulls only */
}

/* A number wider than its column (after the sizing rows) is printed whole: a cut number
 * would read as another number. */
static int table_put(pond_rows *w, size_t k, const char *text, bool number)
{
    size_t width = w->width[k], tw = text_width(text);
    bool last = k + 1 == w->nc, right = right_aligned(w, k);
    int rc = k ? pond_buf_puts(&w->out, "  ") : 0;
    if (rc == 0 && tw > width && !number) {
        rc = pond_buf_put(&w->out, text, width_prefix(text, width - 1));
        return rc ? rc : pond_buf_putc(&w->out, '~');
    }
    for (size_t p = tw; rc == 0 && right && p < width; p++)
        rc = pond_buf_putc(&w->out, ' ');
    if (rc == 0)
        rc = pond_buf_puts(&w->out, text);
    for (size_t p = tw; rc == 0 && !right && !last && p < width; p++)
        rc = pond_buf_putc(&w->out, ' ');
    return rc;
}

/* Ends a table line without the padding of an empty last cell. */
static int table_eol(pond_rows *w)
{
    while (w->out.size && w->out.ptr[w->out.size - 1] == ' ')
        w->out.size--;
    return pond_buf_putc(&w->out, '\n');
}

static int table_flush_sized(pond_rows *w)
{
    int rc = 0;
    for (size_t k = 0; k < w->nc && rc == 0; k++)
        rc = table_put(w, k, w->names[k], false);
    rc = rc ? rc : pond_buf_putc(&w->out, '\n');
    for (size_t k = 0; k < w->nc && rc == 0; k++) {
        rc = k ? pond_buf_puts(&w->out, "  ") : 0;
        for (size_t p = 0; p < w->width[k] && rc == 0; p++)
            rc = pond_buf_putc(&w->out, '-');
    }
    rc = rc ? rc : pond_buf_putc(&w->out, '\n');
    for (size_t c = 0; c < w->n_cells && rc == 0; c++) {
        size_t k = c % w->nc;
        char kind = w->cells[c][0];
        rc = table_put(w, k, w->cells[c] + 1, kind == K_NUM || kind == K_NUMSTR);
        if (rc == 0 && k + 1 == w->nc)
            rc = table_eol(w);
    }
    for (size_t c = 0; c < w->n_cells; c++)
        pond_free(w->cells[c]);
    w->n_cells = 0;
    w->sized = true;
    return rc;
}

static int flush_out(pond_rows *w, bool all)
{
    if (w->error)
        return w->error;
    if (w->out.size && (all || w->out.size > FLUSH_AT)) {
        int rc = w->sink(w->out.ptr, w->out.size, w->payload);
        if (rc < 0)
            return w->error = rc;
        w->bytes += (int64_t)w->out.size;
        pond_buf_clear(&w->out);
    }
    return 0;
}

/* The table text of a cell: NULL, or the text with control characters escaped. */
static int table_text(pond_buf *t, int kind, const char *s, size_t n)
{
    if (kind == K_NULL)
        return pond_buf_put(t, "NULL", 5);
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        unsigned char c = (unsigned char)s[k];
        rc = c < 0x20 || c == 0x7f ? pond_buf_printf(t, "\\x%02x", c) : pond_buf_putc(t, (char)c);
    }
    return rc ? rc : pond_buf_putc(t, '\0');
}

static int table_cell(pond_rows *w, int kind, const char *s, size_t n)
{
    size_t k = w->col;
    pond_buf t = POND_BUF_INIT;
    int rc = pond_buf_putc(&t, (char)kind);
    if (rc == 0)
        rc = table_text(&t, kind, s, n);
    if (rc < 0) {
        pond_buf_dispose(&t);
        return rc;
    }
    if (w->sized) {
        rc = table_put(w, k, t.ptr + 1, kind == K_NUM || kind == K_NUMSTR);
        pond_buf_dispose(&t);
        return rc ? rc : k + 1 == w->nc ? table_eol(w) : 0;
    }
    if (kind != K_NULL)
        w->kinds[k] |= kind == K_NUM || kind == K_NUMSTR ? 1 : 2;
    size_t tw = text_width(t.ptr + 1);
    if (tw > w->width[k])
        w->width[k] = tw > TABLE_MAX_WIDTH ? TABLE_MAX_WIDTH : tw;
    if (POND_GROW(w->cells, w->n_cells, w->cap_cells) < 0) {
        pond_buf_dispose(&t);
        return oom();
    }
    w->cells[w->n_cells++] = pond_buf_detach(&t);
    return 0;
}

static int put_cell(pond_rows *w, int kind, const char *s, size_t n)
{
    int rc = 0;
    if (w->nc == 0)
        return 0;
    if (w->fmt == POND_ROWS_TABLE) {
        rc = table_cell(w, kind, s, n);
    } else if (w->fmt == POND_ROWS_JSON) {
        rc = pond_buf_putc(&w->out, w->col ? ',' : '{');
        if (rc == 0)
            rc = put_json_string(&w->out, w->names[w->col], strlen(w->names[w->col]));
        if (rc == 0)
            rc = pond_buf_putc(&w->out, ':');
        if (rc == 0)
            rc = kind == K_NULL ? pond_buf_put(&w->out, "null", 4)
                 : kind == K_STR || kind == K_NUMSTR || kind == K_TEXT
                     ? put_json_string(&w->out, s, n)
                     : pond_buf_put(&w->out, s, n);
    } else {
        rc = w->col ? pond_buf_putc(&w->out, ',') : 0;
        if (rc == 0 && kind != K_NULL)
            rc = kind == K_STR || kind == K_JSON || kind == K_TEXT ? put_csv_field(&w->out, s, n)
                                                                   : pond_buf_put(&w->out, s, n);
    }
    if (rc < 0)
        return rc;
    if (++w->col < w->nc)
        return 0;
    w->col = 0;
    w->rows++;
    if (w->fmt != POND_ROWS_TABLE)
        rc = pond_buf_puts(&w->out, w->fmt == POND_ROWS_JSON ? "}\n" : "\n");
    else if (!w->sized && w->rows >= TABLE_SIZING_ROWS)
        rc = table_flush_sized(w);
    return rc ? rc : flush_out(w, false);
}

int pond_rows_null(pond_rows *w) { return put_cell(w, K_NULL, "", 0); }

int pond_rows_int(pond_rows *w, int64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%" PRId64, v);
    return put_cell(w, K_NUM, t, (size_t)n);
}

int pond_rows_uint(pond_rows *w, uint64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%" PRIu64, v);
    return put_cell(w, K_NUM, t, (size_t)n);
}

int pond_rows_double(pond_rows *w, double v)
{
    char t[40];
    size_t n = pond_format_double(t, v);
    return put_cell(w, isfinite(v) ? K_NUM : K_NUMSTR, t, n);
}

int pond_rows_float(pond_rows *w, float v)
{
    char t[40];
    size_t n = pond_format_float(t, v);
    return put_cell(w, isfinite(v) ? K_NUM : K_NUMSTR, t, n);
}

int pond_rows_bool(pond_rows *w, bool v)
{
    return put_cell(w, K_LIT, v ? "true" : "false", v ? 4 : 5);
}

int pond_rows_string(pond_rows *w, const char *s, size_t n) { return put_cell(w, K_STR, s, n); }

int pond_rows_number_text(pond_rows *w, const char *s, size_t n)
{
    return put_cell(w, K_NUM, s, n);
}

int pond_rows_json(pond_rows *w, const char *s, size_t n) { return put_cell(w, K_JSON, s, n); }

int pond_rows_text(pond_rows *w, const char *s, size_t n) { return put_cell(w, K_TEXT, s, n); }

int pond_rows_timestamp(pond_rows *w, int64_t v, pond_arrow_unit unit, bool has_tz)
{
    char t[48];
    size_t n = pond_format_timestamp(t, v, unit, has_tz, w->tz);
    return put_cell(w, K_TEXT, t, n);
}

int pond_rows_end(pond_rows *w, int64_t *rows_out)
{
    int rc = 0;
    if (w->fmt == POND_ROWS_TABLE && w->nc) {
        if (!w->sized)
            rc = table_flush_sized(w);
        if (rc == 0)
            rc = pond_buf_printf(&w->out, "(%lld row%s)\n", (long long)w->rows,
                                 w->rows == 1 ? "" : "s");
    }
    if (rc == 0)
        rc = flush_out(w, true);
    if (rows_out)
        *rows_out = w->rows;
    return rc;
}

/* ---- Arrow arrays ------------------------------------------------------------------------ */

static bool is_null(const struct ArrowArray *a, int64_t j)
{
    const uint8_t *v = a->n_buffers ? a->buffers[0] : NULL;
    return v && a->null_count != 0 && !(v[j >> 3] & (1u << (j & 7)));
}

static int json_value(pond_buf *out, const struct ArrowSchema *s, const struct ArrowArray *a,
                      int64_t i, int depth, const pond_tz *display_tz);

/* The text and kind of element i (before a's own offset) of a leaf array; nested values as
 * JSON text. */
static int value_text(pond_buf *out, int *kind, const struct ArrowSchema *s,
                      const pond_arrow_format *f, const struct ArrowArray *a, int64_t i, int depth,
                      const pond_tz *display_tz)
{
    int64_t j = i + a->offset;
    const void *v = a->n_buffers > 1 ? a->buffers[1] : NULL;
    char t[POND_ARROW_DECIMAL_STRLEN];
    size_t n;
    *kind = K_NUM;
    if (f->type == POND_ARROW_NA || is_null(a, j)) {
        *kind = K_NULL;
        return 0;
    }
    switch (f->type) {
    case POND_ARROW_BOOL:
        *kind = K_LIT;
        return pond_buf_puts(out,
                             ((const uint8_t *)v)[j >> 3] & (1u << (j & 7)) ? "true" : "false");
    case POND_ARROW_INT8:
        return pond_buf_printf(out, "%d", ((const int8_t *)v)[j]);
    case POND_ARROW_UINT8:
        return pond_buf_printf(out, "%u", ((const uint8_t *)v)[j]);
    case POND_ARROW_INT16:
        return pond_buf_printf(out, "%d", ((const int16_t *)v)[j]);
    case POND_ARROW_UINT16:
        return pond_buf_printf(out, "%u", ((const uint16_t *)v)[j]);
    case POND_ARROW_INT32:
        return pond_buf_printf(out, "%" PRId32, ((const int32_t *)v)[j]);
    case POND_ARROW_UINT32:
        return pond_buf_printf(out, "%" PRIu32, ((const uint32_t *)v)[j]);
    case POND_ARROW_INT64:
    case POND_ARROW_DURATION:
        return pond_buf_printf(out, "%" PRId64, ((const int64_t *)v)[j]);
    case POND_ARROW_UINT64:
        return pond_buf_printf(out, "%" PRIu64, ((const uint64_t *)v)[j]);
    case POND_ARROW_HALF:
    case POND_ARROW_FLOAT: {
        float x;
        if (f->type == POND_ARROW_FLOAT) {
            x = ((const float *)v)[j];
        } else { /* IEEE half: every half is exactly a float */
            uint16_t h = ((const uint16_t *)v)[j];
            int e = (h >> 10) & 0x1f, m = h & 0x3ff;
            x = e == 0    ? ldexpf((float)m, -24)
                : e == 31 ? (m ? NAN : INFINITY)
                          : ldexpf((float)(m | 0x400), e - 25);
            if (h & 0x8000)
                x = -x;
        }
        n = pond_format_float(t, x);
        *kind = isfinite(x) ? K_NUM : K_NUMSTR;
        return pond_buf_put(out, t, n);
    }
    case POND_ARROW_DOUBLE: {
        double x = ((const double *)v)[j];
        n = pond_format_double(t, x);
        *kind = isfinite(x) ? K_NUM : K_NUMSTR;
        return pond_buf_put(out, t, n);
    }
    case POND_ARROW_DECIMAL128:
    case POND_ARROW_DECIMAL256: {
        int bytes = f->type == POND_ARROW_DECIMAL128 ? 16 : 32;
        n = pond_arrow_format_decimal(t, (const uint8_t *)v + (size_t)bytes * (size_t)j, bytes,
                                      f->scale);
        return pond_buf_put(out, t, n);
    }
    case POND_ARROW_STRING:
    case POND_ARROW_BINARY:
    case POND_ARROW_LARGE_STRING:
    case POND_ARROW_LARGE_BINARY:
    case POND_ARROW_FIXED_BINARY: {
        int64_t lo, hi;
        const char *d = a->buffers[2];
        if (f->type == POND_ARROW_FIXED_BINARY) {
            d = v;
            lo = j * f->width;
            hi = lo + f->width;
        } else if (f->type == POND_ARROW_LARGE_STRING || f->type == POND_ARROW_LARGE_BINARY) {
            lo = ((const int64_t *)v)[j];
            hi = ((const int64_t *)v)[j + 1];
        } else {
            lo = ((const int32_t *)v)[j];
            hi = ((const int32_t *)v)[j + 1];
        }
        *kind = K_STR;
        if (f->type == POND_ARROW_STRING || f->type == POND_ARROW_LARGE_STRING)
            return pond_buf_put(out, d + lo, (size_t)(hi - lo));
        *kind = K_TEXT;
        int rc = 0; /* binary: hex */
        for (int64_t k = lo; k < hi && rc == 0; k++)
            rc = pond_buf_printf(out, "%02x", (unsigned char)d[k]);
        return rc;
    }
    case POND_ARROW_TIMESTAMP:
        n = pond_format_timestamp(t, ((const int64_t *)v)[j], f->unit, f->tz && *f->tz, display_tz);
        *kind = K_TEXT;
        return pond_buf_put(out, t, n);
    case POND_ARROW_DATE32:
    case POND_ARROW_DATE64: {
        int64_t days = f->type == POND_ARROW_DATE32 ? ((const int32_t *)v)[j]
                                                    : ((const int64_t *)v)[j] / 86400000;
        pond_time_format_iso(t, days * 86400LL * 1000000);
        *kind = K_TEXT;
        return pond_buf_put(out, t, 10);
    }
    case POND_ARROW_TIME32:
    case POND_ARROW_TIME64: {
        static const int64_t unit_ns[] = {1000000000, 1000000, 1000, 1};
        int64_t x =
            f->type == POND_ARROW_TIME32 ? ((const int32_t *)v)[j] : ((const int64_t *)v)[j];
        n = format_time_of_day(t, x * unit_ns[f->unit]);
        *kind = K_TEXT;
        return pond_buf_put(out, t, n);
    }
    case POND_ARROW_INTERVAL_MONTHS:
    case POND_ARROW_INTERVAL_DAY_TIME:
    case POND_ARROW_INTERVAL_MONTH_DAY_NANO: {
        /* ISO-8601 durations: P<months>M<days>DT<seconds>S */
        int32_t months = 0, days = 0;
        int64_t ns = 0;
        if (f->type == POND_ARROW_INTERVAL_MONTHS) {
            months = ((const int32_t *)v)[j];
        } else if (f->type == POND_ARROW_INTERVAL_DAY_TIME) {
            days = ((const int32_t *)v)[2 * j];
            ns = (int64_t)((const int32_t *)v)[2 * j + 1] * 1000000;
        } else {
            const uint8_t *p = (const uint8_t *)v + 16 * j;
            memcpy(&months, p, 4);
            memcpy(&days, p + 4, 4);
            memcpy(&ns, p + 8, 8);
        }
        *kind = K_TEXT;
        return pond_buf_printf(out, "P%dM%dDT%s%lld.%09lldS", (int)months, (int)days,
                               ns < 0 ? "-" : "", (long long)(llabs(ns / 1000000000)),
                               (long long)(llabs(ns % 1000000000)));
    }
    default:
        *kind = K_JSON;
        return json_value(out, s, a, i, depth, display_tz);
    }
}

/* Nested values (lists, structs, maps) as JSON: a struct is an object, a list an array, a
 * map an object when its keys are strings and an array of {"key", "value"} otherwise. */
static int json_value(pond_buf *out, const struct ArrowSchema *s, const struct ArrowArray *a,
                      int64_t i, int depth, const pond_tz *display_tz)
{
    pond_arrow_format f;
    int rc = pond_arrow_format_parse(&f, s->format);
    if (rc < 0)
        return rc;
    if (depth > 64)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_TABLE,
                              "a value nested more than 64 deep");
    int64_t j = i + a->offset;
    if (is_null(a, j))
        return pond_buf_puts(out, "null");
    const void *v = a->n_buffers > 1 ? a->buffers[1] : NULL;
    switch (f.type) {
    case POND_ARROW_LIST:
    case POND_ARROW_LARGE_LIST:
    case POND_ARROW_FIXED_LIST: {
        int64_t b = f.type == POND_ARROW_LIST         ? ((const int32_t *)v)[j]
                    : f.type == POND_ARROW_LARGE_LIST ? ((const int64_t *)v)[j]
                                                      : j * f.width;
        int64_t e = f.type == POND_ARROW_LIST         ? ((const int32_t *)v)[j + 1]
                    : f.type == POND_ARROW_LARGE_LIST ? ((const int64_t *)v)[j + 1]
                                                      : b + f.width;
        rc = pond_buf_putc(out, '[');
        for (int64_t k = b; k < e && rc == 0; k++) {
            rc = k > b ? pond_buf_putc(out, ',') : 0;
            if (rc == 0)
                rc = json_value(out, s->children[0], a->children[0], k, depth + 1, display_tz);
        }
        return rc ? rc : pond_buf_putc(out, ']');
    }
    case POND_ARROW_STRUCT:
        rc = pond_buf_putc(out, '{');
        for (int64_t c = 0; c < s->n_children && rc == 0; c++) {
            const char *name = s->children[c]->name ? s->children[c]->name : "";
            rc = c ? pond_buf_putc(out, ',') : 0;
            if (rc == 0)
                rc = put_json_string(out, name, strlen(name));
            if (rc == 0)
                rc = pond_buf_putc(out, ':');
            if (rc == 0)
                rc = json_value(out, s->children[c], a->children[c], j, depth + 1, display_tz);
        }
        return rc ? rc : pond_buf_putc(out, '}');
    case POND_ARROW_MAP: {
        const struct ArrowSchema *es = s->children[0];
        const struct ArrowArray *ea = a->children[0];
        int64_t b = ((const int32_t *)v)[j], e = ((const int32_t *)v)[j + 1];
        pond_arrow_format kf;
        if ((rc = pond_arrow_format_parse(&kf, es->children[0]->format)) < 0)
            return rc;
        bool obj = kf.type == POND_ARROW_STRING || kf.type == POND_ARROW_LARGE_STRING;
        rc = pond_buf_putc(out, obj ? '{' : '[');
        for (int64_t k = b; k < e && rc == 0; k++) {
            int64_t row = k + ea->offset;
            rc = k > b ? pond_buf_putc(out, ',') : 0;
            if (rc == 0)
                rc = pond_buf_puts(out, obj ? "" : "{\"key\":");
            if (rc == 0)
                rc = json_value(out, es->children[0], ea->children[0], row, depth + 1, display_tz);
            if (rc == 0)
                rc = pond_buf_puts(out, obj ? ":" : ",\"value\":");
            if (rc == 0)
                rc = json_value(out, es->children[1], ea->children[1], row, depth + 1, display_tz);
            if (rc == 0 && !obj)
                rc = pond_buf_putc(out, '}');
        }
        return rc ? rc : pond_buf_putc(out, obj ? '}' : ']');
    }
    default: {
        pond_buf t = POND_BUF_INIT;
        int kind;
        rc = value_text(&t, &kind, s, &f, a, i, depth + 1, display_tz);
        if (rc == 0)
            rc = kind == K_STR || kind == K_NUMSTR || kind == K_TEXT
                     ? put_json_string(out, t.ptr ? t.ptr : "", t.size)
                 : kind == K_NULL ? pond_buf_puts(out, "null")
                                  : pond_buf_put(out, t.ptr ? t.ptr : "", t.size);
        pond_buf_dispose(&t);
        return rc;
    }
    }
}

static int stream_fail(struct ArrowArrayStream *st, int e)
{
    const char *m = st->get_last_error ? st->get_last_error(st) : NULL;
    return pond_error_set(POND_EIO, POND_DOM_TABLE, "%s", m ? m : strerror(e));
}

static int rows_write(int64_t *rows_out, int64_t *bytes_out, struct ArrowArrayStream *st,
                      pond_rows_format fmt, const pond_tz *tz, pond_rows_sink_fn sink,
                      void *payload)
{
    struct ArrowSchema s = {0};
    int e = st->get_schema(st, &s);
    if (e != 0)
        return stream_fail(st, e);
    size_t nc = (size_t)s.n_children;
    const char **names = pond_calloc(nc ? nc : 1, sizeof *names);
    pond_arrow_format *fm = pond_calloc(nc ? nc : 1, sizeof *fm);
    pond_rows *w = NULL;
    int rc = names && fm ? 0 : oom();
    for (size_t k = 0; k < nc && rc == 0; k++) {
        names[k] = s.children[k]->name;
        rc = pond_arrow_format_parse(&fm[k], s.children[k]->format);
    }
    if (rc == 0)
        rc = pond_rows_new(&w, fmt, nc, names, tz, sink, payload);
    while (rc == 0) {
        struct ArrowArray b;
        if ((e = st->get_next(st, &b)) != 0) {
            rc = stream_fail(st, e);
            break;
        }
        if (!b.release)
            break;
        for (int64_t i = 0; i < b.length && rc == 0; i++) {
            for (size_t k = 0; k < nc && rc == 0; k++) {
                int kind;
                pond_buf_clear(&w->cell);
                rc = value_text(&w->cell, &kind, s.children[k], &fm[k], b.children[k], i + b.offset,
                                0, tz);
                if (rc == 0)
                    rc = put_cell(w, kind, w->cell.ptr ? w->cell.ptr : "", w->cell.size);
            }
        }
        b.release(&b);
    }
    if (rc == 0)
        rc = pond_rows_end(w, rows_out);
    if (bytes_out)
        *bytes_out = w ? w->bytes : 0;
    pond_rows_free(w);
    pond_free(names);
    pond_free(fm);
    s.release(&s);
    return rc;
}

int pond_rows_write_stream(int64_t *rows_out, int64_t *bytes_out, struct ArrowArrayStream *st,
                           pond_rows_format fmt, const pond_tz *tz, pond_rows_sink_fn sink,
                           void *payload)
{
    int rc = rows_write(rows_out, bytes_out, st, fmt, tz, sink, payload);
    pond_arrow_stream_release(st); /* consumed, also on failure (docs/api.md, "Streams") */
    return rc;
}
