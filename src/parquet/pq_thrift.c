/* Thrift compact protocol (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md). */
#include "parquet/pq_thrift.h"

#include "util/util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pond_pq_tdec_init(pq_tdec *d, const void *buf, size_t len, int64_t base_off, const char *what)
{
    d->begin = d->p = buf;
    d->end = d->begin + len;
    d->base_off = base_off;
    d->depth = 0;
    d->what = what;
    d->cur = NULL;
    d->skips = NULL;
}

int64_t pond_pq_tdec_offset(const pq_tdec *d) { return d->base_off + (int64_t)(d->p - d->begin); }

int pond_pq_tdec_error(const pq_tdec *d, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "%s: %s at offset %" PRId64, d->what,
                          msg, pond_pq_tdec_offset(d));
}

int pond_pq_tdec_varint(pq_tdec *d, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (d->p >= d->end)
            return pond_pq_tdec_error(d, "truncated varint");
        uint8_t b = *d->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return pond_pq_tdec_error(d, "varint longer than 10 bytes");
}

int pond_pq_tdec_i64(pq_tdec *d, int64_t *out)
{
    uint64_t u = 0;
    int rc = pond_pq_tdec_varint(d, &u);
    if (rc < 0)
        return rc;
    *out = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
    return 0;
}

int pond_pq_tdec_i32(pq_tdec *d, int32_t *out)
{
    int64_t v;
    int rc = pond_pq_tdec_i64(d, &v);
    if (rc < 0)
        return rc;
    if (v < INT32_MIN || v > INT32_MAX)
        return pond_pq_tdec_error(d, "i32 out of range");
    *out = (int32_t)v;
    return 0;
}

int pond_pq_tdec_i16(pq_tdec *d, int16_t *out)
{
    int64_t v;
    int rc = pond_pq_tdec_i64(d, &v);
    if (rc < 0)
        return rc;
    if (v < INT16_MIN || v > INT16_MAX)
        return pond_pq_tdec_error(d, "i16 out of range");
    *out = (int16_t)v;
    return 0;
}

int pond_pq_tdec_byte(pq_tdec *d, int8_t *out)
{
    if (d->p >= d->end)
        return pond_pq_tdec_error(d, "truncated byte");
    *out = (int8_t)*d->p++;
    return 0;
}

int pond_pq_tdec_double(pq_tdec *d, double *out)
{
    if (d->end - d->p < 8)
        return pond_pq_tdec_error(d, "truncated double");
    memcpy(out, d->p, 8);
    d->p += 8;
    return 0;
}

int pond_pq_tdec_binary(pq_tdec *d, const uint8_t **ptr, size_t *len)
{
    uint64_t n = 0;
    int rc = pond_pq_tdec_varint(d, &n);
    if (rc < 0)
        return rc;
    if (n > (uint64_t)(d->end - d->p))
        return pond_pq_tdec_error(d, "binary length %" PRIu64 " exceeds the %zu bytes that remain",
                                  n, (size_t)(d->end - d->p));
    *ptr = d->p;
    *len = (size_t)n;
    d->p += n;
    return 0;
}

int pond_pq_tdec_struct_begin(pq_tdec *d, pq_tframe *f, const pq_tstruct *s)
{
    if (++d->depth > PQ_THRIFT_MAX_DEPTH)
        return pond_pq_tdec_error(d, "structures nested deeper than %d", PQ_THRIFT_MAX_DEPTH);
    f->last_id = 0;
    f->prev = d->cur;
    d->cur = s;
    return 0;
}

void pond_pq_tdec_struct_end(pq_tdec *d, const pq_tframe *f)
{
    d->depth--;
    d->cur = f->prev;
}

int pond_pq_tdec_next_field(pq_tdec *d, pq_tframe *f, int *type, int16_t *id)
{
    if (d->p >= d->end)
        return pond_pq_tdec_error(d, "truncated struct (no stop field)");
    uint8_t b = *d->p++;
    if (b == 0) {
        *type = TC_STOP;
        *id = 0;
        return 0;
    }
    *type = b & 0x0f;
    if (*type > TC_STRUCT)
        return pond_pq_tdec_error(d, "unknown field type %d", *type);
    int delta = b >> 4;
    if (delta) {
        if (f->last_id > INT16_MAX - delta)
            return pond_pq_tdec_error(d, "field id overflow");
        *id = (int16_t)(f->last_id + delta);
    } else {
        int rc = pond_pq_tdec_i16(d, id);
        if (rc < 0)
            return rc;
    }
    f->last_id = *id;
    return 0;
}

int pond_pq_tdec_list_begin(pq_tdec *d, int *elem_type, uint32_t *n)
{
    if (d->p >= d->end)
        return pond_pq_tdec_error(d, "truncated list header");
    uint8_t b = *d->p++;
    *elem_type = b & 0x0f;
    uint64_t size = b >> 4;
    if (size == 15) {
        int rc = pond_pq_tdec_varint(d, &size);
        if (rc < 0)
            return rc;
    }
    if (*elem_type > TC_STRUCT || *elem_type == TC_STOP)
        return pond_pq_tdec_error(d, "unknown list element type %d", *elem_type);
    /* every element takes at least one byte (doubles 8) */
    uint64_t min = *elem_type == TC_DOUBLE ? 8 : 1;
    if (size > (uint64_t)(d->end - d->p) / min)
        return pond_pq_tdec_error(d,
                                  "list of %" PRIu64 " elements exceeds the %zu bytes that remain",
                                  size, (size_t)(d->end - d->p));
    *n = (uint32_t)size;
    return 0;
}

int pond_pq_tdec_list_bool(pq_tdec *d, int elem_type, int *out)
{
    (void)elem_type;
    int8_t b = 0;
    int rc = pond_pq_tdec_byte(d, &b);
    if (rc < 0)
        return rc;
    *out = b == 1;
    return 0;
}

int pond_pq_tdec_map_begin(pq_tdec *d, int *key_type, int *val_type, uint32_t *n)
{
    uint64_t size = 0;
    int rc = pond_pq_tdec_varint(d, &size);
    if (rc < 0)
        return rc;
    *key_type = *val_type = 0;
    if (size == 0) {
        *n = 0;
        return 0;
    }
    if (d->p >= d->end)
        return pond_pq_tdec_error(d, "truncated map header");
    uint8_t b = *d->p++;
    *key_type = b >> 4;
    *val_type = b & 0x0f;
    if (size > (uint64_t)(d->end - d->p) / 2)
        return pond_pq_tdec_error(d, "map of %" PRIu64 " entries exceeds the bytes that remain",
                                  size);
    *n = (uint32_t)size;
    return 0;
}

int pond_pq_tdec_field_bool(pq_tdec *d, int type, int *out)
{
    if (type != TC_TRUE && type != TC_FALSE)
        return pond_pq_tdec_error(d, "expected a boolean field, found type %d", type);
    *out = type == TC_TRUE;
    return 0;
}

const char *pond_pq_twire_name(char *buf, size_t cap, int type)
{
    static const char *const n[] = {"stop",   "bool",   "bool", "byte", "i16", "i32",   "i64",
                                    "double", "binary", "list", "set",  "map", "struct"};
    int t = type >= PQ_TLIST_OF ? type - PQ_TLIST_OF : type;
    const char *tn = t >= 0 && t < (int)POND_ARRAY_LEN(n) ? n[t] : "unknown";
    if (type >= PQ_TLIST_OF)
        snprintf(buf, cap, "list<%s>", tn);
    else
        snprintf(buf, cap, "%s", tn);
    return buf;
}

const char *pond_pq_tfield_name(char *buf, size_t cap, const pq_tstruct *s, int16_t id)
{
    const char *fn = s && id >= 0 && id < s->n_fields ? s->fields[id] : NULL;
    if (s && fn)
        snprintf(buf, cap, "%s field '%s' (%d)", s->name, fn, id);
    else if (s)
        snprintf(buf, cap, "%s field %d", s->name, id);
    else
        snprintf(buf, cap, "field %d", id);
    return buf;
}

static bool wire_matches(int type, int want)
{
    if (type == want)
        return true;
    if (want == TC_I16 || want == TC_I32 || want == TC_I64)
        return type == TC_I16 || type == TC_I32 || type == TC_I64;
    if (want == TC_TRUE || want == TC_FALSE)
        return type == TC_TRUE || type == TC_FALSE;
    return false;
}

static int mistyped(const pq_tdec *d, int16_t id, int got, int want)
{
    char fn[96], g[24], w[24];
    return pond_pq_tdec_error(
        d, "%s has wire type %s, expected %s", pond_pq_tfield_name(fn, sizeof fn, d->cur, id),
        pond_pq_twire_name(g, sizeof g, got), pond_pq_twire_name(w, sizeof w, want));
}

int pond_pq_tdec_expect(pq_tdec *d, int type, int want, int16_t id)
{
    return wire_matches(type, want) ? 0 : mistyped(d, id, type, want);
}

void pond_pq_tdec_note_skip(pq_tdec *d, int16_t id, int got, int want, int64_t off)
{
    pq_tskips *k = d->skips;
    for (int i = 0; i < k->n_kinds; i++) {
        if (k->kind[i].s == d->cur && k->kind[i].id == id && k->kind[i].got == got) {
            k->kind[i].count++;
            return;
        }
    }
    if (k->n_kinds == PQ_TSKIP_KINDS) {
        k->other++;
        return;
    }
    k->kind[k->n_kinds].s = d->cur;
    k->kind[k->n_kinds].id = id;
    k->kind[k->n_kinds].got = got;
    k->kind[k->n_kinds].want = want;
    k->kind[k->n_kinds].count = 1;
    k->kind[k->n_kinds].first_off = off;
    k->n_kinds++;
}

int pond_pq_tdec_optional(pq_tdec *d, int type, int want, int16_t id)
{
    if (wire_matches(type, want))
        return 1;
    if (!d->skips)
        return mistyped(d, id, type, want);
    int64_t off = pond_pq_tdec_offset(d);
    int rc = pond_pq_tdec_skip(d, type);
    if (rc < 0)
        return rc;
    pond_pq_tdec_note_skip(d, id, type, want, off);
    return 0;
}

static int skip_depth(pq_tdec *d, int type, int depth)
{
    int rc;
    uint64_t u;
    if (depth > PQ_THRIFT_MAX_DEPTH)
        return pond_pq_tdec_error(d, "skipped value nested deeper than %d", PQ_THRIFT_MAX_DEPTH);
    switch (type) {
    case TC_TRUE:
    case TC_FALSE:
        return 0;
    case TC_BYTE:
        if (d->p >= d->end)
            return pond_pq_tdec_error(d, "truncated byte");
        d->p++;
        return 0;
    case TC_I16:
    case TC_I32:
    case TC_I64:
        return pond_pq_tdec_varint(d, &u);
    case TC_DOUBLE:
        if (d->end - d->p < 8)
            return pond_pq_tdec_error(d, "truncated double");
        d->p += 8;
        return 0;
    case TC_BINARY: {
        const uint8_t *p;
        size_t n;
        return pond_pq_tdec_binary(d, &p, &n);
    }
    case TC_LIST:
    case TC_SET: {
        int et;
        uint32_t n;
        if ((rc = pond_pq_tdec_list_begin(d, &et, &n)) < 0)
            return rc;
        for (uint32_t i = 0; i < n; i++) {
            if (et == TC_TRUE || et == TC_FALSE) {
                if ((rc = skip_depth(d, TC_BYTE, depth + 1)) < 0)
                    return rc;
            } else if ((rc = skip_depth(d, et, depth + 1)) < 0) {
                return rc;
            }
        }
        return 0;
    }
    case TC_MAP: {
        int kt, vt;
        uint32_t n;
        if ((rc = pond_pq_tdec_map_begin(d, &kt, &vt, &n)) < 0)
            return rc;
        for (uint32_t i = 0; i < n; i++) {
            if ((rc = skip_depth(d, kt == TC_TRUE || kt == TC_FALSE ? TC_BYTE : kt, depth + 1)) < 0)
                return rc;
            if ((rc = skip_depth(d, vt == TC_TRUE || vt == TC_FALSE ? TC_BYTE : vt, depth + 1)) < 0)
                return rc;
        }
        return 0;
    }
    case TC_STRUCT: {
        pq_tframe f = {0, NULL};
        int t;
        int16_t id;
        if (depth + d->depth > PQ_THRIFT_MAX_DEPTH)
            return pond_pq_tdec_error(d, "structures nested deeper than %d", PQ_THRIFT_MAX_DEPTH);
        for (;;) {
            if ((rc = pond_pq_tdec_next_field(d, &f, &t, &id)) < 0)
                return rc;
            if (t == TC_STOP)
                return 0;
            if ((rc = skip_depth(d, t, depth + 1)) < 0)
                return rc;
        }
    }
    default:
        return pond_pq_tdec_error(d, "cannot skip unknown type %d", type);
    }
}

int pond_pq_tdec_skip(pq_tdec *d, int type) { return skip_depth(d, type, 0); }

/* ---------------------------------------------------------------- encoder */

void pond_pq_tenc_init(pq_tenc *e, pond_buf *out)
{
    memset(e, 0, sizeof *e);
    e->out = out;
}

void pond_pq_tenc_byte(pq_tenc *e, uint8_t b)
{
    if (e->rc == 0)
        e->rc = pond_buf_put(e->out, &b, 1);
}

void pond_pq_tenc_varint(pq_tenc *e, uint64_t v)
{
    uint8_t tmp[10];
    int n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    if (e->rc == 0)
        e->rc = pond_buf_put(e->out, tmp, (size_t)n);
}

void pond_pq_tenc_i64(pq_tenc *e, int64_t v)
{
    pond_pq_tenc_varint(e, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void pond_pq_tenc_i32(pq_tenc *e, int32_t v) { pond_pq_tenc_i64(e, v); }

void pond_pq_tenc_binary(pq_tenc *e, const void *p, size_t len)
{
    pond_pq_tenc_varint(e, len);
    if (e->rc == 0 && len)
        e->rc = pond_buf_put(e->out, p, len);
}

void pond_pq_tenc_struct_begin(pq_tenc *e)
{
    if (e->depth >= PQ_THRIFT_MAX_DEPTH) {
        if (e->rc == 0)
            e->rc = pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "thrift: nested too deeply");
        return;
    }
    e->last_id[e->depth++] = 0;
}

void pond_pq_tenc_struct_end(pq_tenc *e)
{
    pond_pq_tenc_byte(e, 0);
    if (e->depth > 0)
        e->depth--;
}

void pond_pq_tenc_field(pq_tenc *e, int type, int16_t id)
{
    int16_t *last = &e->last_id[e->depth > 0 ? e->depth - 1 : 0];
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        pond_pq_tenc_byte(e, (uint8_t)((delta << 4) | type));
    } else {
        pond_pq_tenc_byte(e, (uint8_t)type);
        pond_pq_tenc_i64(e, id);
    }
    *last = id;
}

void pond_pq_tenc_field_bool(pq_tenc *e, int16_t id, int v)
{
    pond_pq_tenc_field(e, v ? TC_TRUE : TC_FALSE, id);
}

void pond_pq_tenc_field_i32(pq_tenc *e, int16_t id, int32_t v)
{
    pond_pq_tenc_field(e, TC_I32, id);
    pond_pq_tenc_i32(e, v);
}

void pond_pq_tenc_field_i64(pq_tenc *e, int16_t id, int64_t v)
{
    pond_pq_tenc_field(e, TC_I64, id);
    pond_pq_tenc_i64(e, v);
}

void pond_pq_tenc_field_binary(pq_tenc *e, int16_t id, const void *p, size_t len)
{
    pond_pq_tenc_field(e, TC_BINARY, id);
    pond_pq_tenc_binary(e, p, len);
}

void pond_pq_tenc_field_double(pq_tenc *e, int16_t id, double v)
{
    pond_pq_tenc_field(e, TC_DOUBLE, id);
    if (e->rc == 0)
        e->rc = pond_buf_put(e->out, &v, 8);
}

void pond_pq_tenc_list_begin(pq_tenc *e, int elem_type, uint32_t n)
{
    if (n < 15) {
        pond_pq_tenc_byte(e, (uint8_t)((n << 4) | (uint32_t)elem_type));
    } else {
        pond_pq_tenc_byte(e, (uint8_t)(0xf0 | elem_type));
        pond_pq_tenc_varint(e, n);
    }
}

void pond_pq_tenc_map_begin(pq_tenc *e, int key_type, int val_type, uint32_t n)
{
    pond_pq_tenc_varint(e, n);
    if (n)
        pond_pq_tenc_byte(e, (uint8_t)((key_type << 4) | val_type));
}
