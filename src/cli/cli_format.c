#include "cli/cli_format.h"

#include <pond/alloc.h>
#include <pond/errors.h>
#include <pond/timefmt.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static bool is_null(const struct ArrowArray *a, int64_t i)
{
    const uint8_t *v = a->n_buffers ? a->buffers[0] : NULL;
    if (!v || a->null_count == 0)
        return false;
    int64_t j = i + a->offset;
    return !(v[j >> 3] & (1u << (j & 7)));
}

static int put_text(pond_buf *out, const char *s, size_t n, cli_fmt fmt, bool is_string)
{
    if (fmt == FMT_JSON && is_string) {
        int rc = pond_buf_putc(out, '"');
        for (size_t k = 0; k < n && rc == 0; k++) {
            unsigned char c = (unsigned char)s[k];
            if (c == '"' || c == '\\')
                rc = pond_buf_printf(out, "\\%c", c);
            else if (c < 0x20)
                rc = pond_buf_printf(out, "\\u%04x", c);
            else
                rc = pond_buf_putc(out, (char)c);
        }
        return rc ? rc : pond_buf_putc(out, '"');
    }
    if (fmt == FMT_CSV && !memchr(s, ',', n) && !memchr(s, '"', n) &&
        !memchr(s, '\n', n) && !memchr(s, '\r', n) && !(is_string && n == 0))
        return pond_buf_put(out, s, n);
    if (fmt == FMT_CSV) {
        int rc = pond_buf_putc(out, '"');
        for (size_t k = 0; k < n && rc == 0; k++)
            rc = s[k] == '"' ? pond_buf_put(out, "\"\"", 2) : pond_buf_putc(out, s[k]);
        return rc ? rc : pond_buf_putc(out, '"');
    }
    /* table: control characters shown escaped */
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        unsigned char c = (unsigned char)s[k];
        rc = c < 0x20 ? pond_buf_printf(out, "\\x%02x", c) : pond_buf_putc(out, (char)c);
    }
    return rc;
}

static const pond_tz *display_tz;

void cli_format_set_timezone(const pond_tz *tz) { display_tz = tz; }

int cli_format_cell(pond_buf *out, const struct ArrowSchema *s, const struct ArrowArray *a,
                    int64_t i, cli_fmt fmt)
{
    if (is_null(a, i))
        return fmt == FMT_JSON ? pond_buf_puts(out, "null") : fmt == FMT_TABLE ? pond_buf_puts(out, "NULL") : 0;
    pond_arrow_format f;
    int rc = pond_arrow_format_parse(&f, s->format);
    if (rc < 0)
        return rc;
    int64_t j = i + a->offset;
    char tmp[64];
    switch (f.type) {
    case POND_ARROW_BOOL: {
        const uint8_t *v = a->buffers[1];
        return pond_buf_puts(out, v[j >> 3] & (1u << (j & 7)) ? "true" : "false");
    }
    case POND_ARROW_INT8: return pond_buf_printf(out, "%d", ((const int8_t *)a->buffers[1])[j]);
    case POND_ARROW_UINT8: return pond_buf_printf(out, "%u", ((const uint8_t *)a->buffers[1])[j]);
    case POND_ARROW_INT16: return pond_buf_printf(out, "%d", ((const int16_t *)a->buffers[1])[j]);
    case POND_ARROW_UINT16: return pond_buf_printf(out, "%u", ((const uint16_t *)a->buffers[1])[j]);
    case POND_ARROW_INT32: return pond_buf_printf(out, "%" PRId32, ((const int32_t *)a->buffers[1])[j]);
    case POND_ARROW_UINT32: return pond_buf_printf(out, "%" PRIu32, ((const uint32_t *)a->buffers[1])[j]);
    case POND_ARROW_INT64: return pond_buf_printf(out, "%" PRId64, ((const int64_t *)a->buffers[1])[j]);
    case POND_ARROW_UINT64: return pond_buf_printf(out, "%" PRIu64, ((const uint64_t *)a->buffers[1])[j]);
    case POND_ARROW_FLOAT:
    case POND_ARROW_DOUBLE: {
        double d = f.type == POND_ARROW_FLOAT ? ((const float *)a->buffers[1])[j]
                                              : ((const double *)a->buffers[1])[j];
        char num[32];
        pond_arrow_format_double(num, d);
        if (fmt == FMT_JSON && (d != d || d == 1.0 / 0.0 || d == -1.0 / 0.0))
            return pond_buf_printf(out, "\"%s\"", num);
        return pond_buf_puts(out, num);
    }
    case POND_ARROW_STRING:
    case POND_ARROW_BINARY:
    case POND_ARROW_LARGE_STRING:
    case POND_ARROW_LARGE_BINARY: {
        int64_t lo, hi;
        if (f.type == POND_ARROW_LARGE_STRING || f.type == POND_ARROW_LARGE_BINARY) {
            lo = ((const int64_t *)a->buffers[1])[j];
            hi = ((const int64_t *)a->buffers[1])[j + 1];
        } else {
            lo = ((const int32_t *)a->buffers[1])[j];
            hi = ((const int32_t *)a->buffers[1])[j + 1];
        }
        const char *p = (const char *)a->buffers[2] + lo;
        if (f.type == POND_ARROW_STRING || f.type == POND_ARROW_LARGE_STRING)
            return put_text(out, p, (size_t)(hi - lo), fmt, true);
        rc = fmt == FMT_JSON ? pond_buf_putc(out, '"') : 0;
        for (int64_t k = lo; k < hi && rc == 0; k++)
            rc = pond_buf_printf(out, "%02x", (unsigned char)((const char *)a->buffers[2])[k]);
        return rc ? rc : fmt == FMT_JSON ? pond_buf_putc(out, '"') : 0;
    }
    case POND_ARROW_TIMESTAMP: {
        int64_t v = ((const int64_t *)a->buffers[1])[j], us;
        int sub_ns = 0;
        switch (f.unit) {
        case POND_ARROW_UNIT_S: us = v * 1000000; break;
        case POND_ARROW_UNIT_MS: us = v * 1000; break;
        case POND_ARROW_UNIT_US: us = v; break;
        default:
            us = v / 1000 - (v % 1000 < 0);
            sub_ns = (int)(v - us * 1000);
        }
        /* an instant prints in the --timezone asked for; a wall-clock time as it is */
        size_t n = *f.tz ? pond_time_format_iso_tz(tmp, us, display_tz)
                         : pond_time_format_iso(tmp, us);
        if (sub_ns) { /* nanoseconds: print all nine digits */
            int64_t frac = ((us % 1000000) + 1000000) % 1000000;
            char *t = strchr(tmp, 'T'), zone[16] = "Z";
            char *zp = t ? strpbrk(t + 1, "Z+-") : NULL;
            if (zp)
                snprintf(zone, sizeof zone, "%s", zp);
            char *dot = strchr(tmp, '.');
            size_t base = dot ? (size_t)(dot - tmp) : zp ? (size_t)(zp - tmp) : n - 1;
            n = base + (size_t)snprintf(tmp + base, sizeof tmp - base, ".%06lld%03d%s",
                                        (long long)frac, sub_ns, zone);
        }
        if (!*f.tz) /* no time zone: a wall-clock time, not an instant */
            tmp[--n] = '\0';
        return fmt == FMT_JSON ? pond_buf_printf(out, "\"%s\"", tmp) : pond_buf_put(out, tmp, n);
    }
    case POND_ARROW_DATE32: {
        int64_t days = ((const int32_t *)a->buffers[1])[j];
        pond_time_format_iso(tmp, days * 86400LL * 1000000);
        tmp[10] = '\0';
        return fmt == FMT_JSON ? pond_buf_printf(out, "\"%s\"", tmp) : pond_buf_puts(out, tmp);
    }
    default: {
        /* everything else (decimals, times, nested) in the canonical text form */
        pond_buf c = POND_BUF_INIT;
        rc = pond_arrow_canon_cell(&c, s, a, i);
        if (rc == 0)
            rc = put_text(out, c.ptr ? c.ptr : "", c.size, fmt, fmt == FMT_JSON);
        pond_buf_dispose(&c);
        return rc;
    }
    }
}

static int stream_fail(struct ArrowArrayStream *st, int e)
{
    const char *m = st->get_last_error ? st->get_last_error(st) : NULL;
    return pond_error_set(POND_EIO, POND_DOM_CLI, "%s", m ? m : strerror(e));
}

#define TABLE_MAX_WIDTH 40
#define TABLE_SIZING_ROWS 1000

/* Table mode sizes its columns on the first rows, prints them with the header, then prints
 * later rows at the same widths (cut with '~'), so memory stays bounded. */
static void table_put(pond_buf *out, const char *cell, size_t width, bool first, bool last)
{
    size_t len = strlen(cell);
    if (len > width)
        pond_buf_printf(out, "%s%.*s~", first ? "" : "  ", (int)width - 1, cell);
    else
        pond_buf_printf(out, "%s%-*s", first ? "" : "  ", last ? 0 : (int)width, cell);
}

static void table_header(pond_buf *out, const struct ArrowSchema *s, const size_t *width)
{
    for (int64_t k = 0; k < s->n_children; k++)
        table_put(out, s->children[k]->name, width[k], k == 0, k == s->n_children - 1);
    pond_buf_putc(out, '\n');
    for (int64_t k = 0; k < s->n_children; k++) {
        pond_buf_puts(out, k ? "  " : "");
        for (size_t w = 0; w < width[k]; w++)
            pond_buf_putc(out, '-');
    }
    pond_buf_putc(out, '\n');
}

static void flush_cells(pond_buf *out, const struct ArrowSchema *s, const size_t *width,
                        char **cells, size_t *n_cells)
{
    table_header(out, s, width);
    int64_t nc = s->n_children;
    for (size_t c = 0; c < *n_cells; c++) {
        int64_t k = (int64_t)(c % (size_t)nc);
        table_put(out, cells[c], width[k], k == 0, k == nc - 1);
        if (k == nc - 1)
            pond_buf_putc(out, '\n');
        pond_free(cells[c]);
    }
    *n_cells = 0;
}

int cli_write_stream(FILE *f, struct ArrowArrayStream *st, cli_fmt fmt, int64_t *rows_out)
{
    struct ArrowSchema s = {0};
    pond_buf out = POND_BUF_INIT;
    int rc = 0, e;
    int64_t rows = 0;
    size_t *width = NULL;
    char **cells = NULL; /* table mode: the first rows, to size the columns */
    size_t n_cells = 0, cap_cells = 0;
    bool header_done = false;
    if ((e = st->get_schema(st, &s)) != 0)
        return stream_fail(st, e);
    int64_t nc = s.n_children;
    if (fmt == FMT_CSV) {
        for (int64_t k = 0; k < nc && rc == 0; k++) {
            if (k)
                rc = pond_buf_putc(&out, ',');
            if (rc == 0)
                rc = put_text(&out, s.children[k]->name, strlen(s.children[k]->name), FMT_CSV, false);
        }
        if (rc == 0)
            rc = pond_buf_putc(&out, '\n');
    }
    if (fmt == FMT_TABLE && !(width = calloc((size_t)(nc ? nc : 1), sizeof *width)))
        rc = pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
    for (int64_t k = 0; k < nc && width; k++)
        width[k] = strlen(s.children[k]->name);
    while (rc == 0) {
        struct ArrowArray b;
        if ((e = st->get_next(st, &b)) != 0) {
            rc = stream_fail(st, e);
            break;
        }
        if (!b.release)
            break;
        for (int64_t i = 0; i < b.length && rc == 0; i++) {
            if (fmt == FMT_JSON)
                rc = pond_buf_putc(&out, '{');
            for (int64_t k = 0; k < nc && rc == 0; k++) {
                const struct ArrowArray *col = b.children[k];
                if (fmt == FMT_TABLE) {
                    pond_buf cell = POND_BUF_INIT;
                    rc = cli_format_cell(&cell, s.children[k], col, i + b.offset, FMT_TABLE);
                    char *text = pond_buf_detach(&cell);
                    if (!text) {
                        rc = POND_ENOMEM;
                        break;
                    }
                    if (header_done) {
                        table_put(&out, text, width[k], k == 0, k == nc - 1);
                        if (k == nc - 1)
                            pond_buf_putc(&out, '\n');
                        pond_free(text);
                        continue;
                    }
                    if (n_cells == cap_cells) {
                        cap_cells = cap_cells ? cap_cells * 2 : 1024;
                        char **nc2 = realloc(cells, cap_cells * sizeof *nc2);
                        if (!nc2) {
                            rc = pond_error_set(POND_ENOMEM, POND_DOM_CLI, "out of memory");
                            pond_free(text);
                            break;
                        }
                        cells = nc2;
                    }
                    size_t w = strlen(text);
                    if (w > width[k])
                        width[k] = w > TABLE_MAX_WIDTH ? TABLE_MAX_WIDTH : w;
                    cells[n_cells++] = text;
                    continue;
                }
                if (k)
                    rc = pond_buf_putc(&out, ',');
                if (rc == 0 && fmt == FMT_JSON) {
                    rc = put_text(&out, s.children[k]->name, strlen(s.children[k]->name), FMT_JSON, true);
                    if (rc == 0)
                        rc = pond_buf_putc(&out, ':');
                }
                if (rc == 0)
                    rc = cli_format_cell(&out, s.children[k], col, i + b.offset, fmt);
            }
            if (rc == 0 && fmt != FMT_TABLE)
                rc = pond_buf_puts(&out, fmt == FMT_JSON ? "}\n" : "\n");
            rows++;
            if (fmt == FMT_TABLE && !header_done && rows >= TABLE_SIZING_ROWS) {
                flush_cells(&out, &s, width, cells, &n_cells);
                header_done = true;
            }
        }
        b.release(&b);
        if (out.size > (1 << 16)) {
            fwrite(out.ptr, 1, out.size, f);
            pond_buf_clear(&out);
        }
    }
    if (rc == 0 && fmt == FMT_TABLE) {
        if (!header_done)
            flush_cells(&out, &s, width, cells, &n_cells);
        pond_buf_printf(&out, "(%lld row%s)\n", (long long)rows, rows == 1 ? "" : "s");
    }
    for (size_t c = 0; c < n_cells; c++)
        pond_free(cells[c]);
    free(cells);
    free(width);
    if (out.size)
        fwrite(out.ptr, 1, out.size, f);
    pond_buf_dispose(&out);
    s.release(&s);
    if (rows_out)
        *rows_out = rows;
    return rc;
}
