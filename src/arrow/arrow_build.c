/* Arrow leaf-array append builder and validation of imported arrays. */
#include <pond/arrow.h>

#include "util/util.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct pond_arrow_builder {
    pond_arrow_format fmt;
    char *format;
    pond_buf validity; /* one bit per value */
    pond_buf values;   /* fixed-width values, bool bits, or variable-length data */
    pond_buf offsets;  /* int32 or int64 offsets for binary/string */
    int64_t length;
    int64_t nulls;
    size_t width; /* bytes of a fixed-width value; 0 for bool and variable-length types */
};

static bool is_var(const pond_arrow_format *f)
{
    return f->type == POND_ARROW_BINARY || f->type == POND_ARROW_STRING ||
           f->type == POND_ARROW_LARGE_BINARY || f->type == POND_ARROW_LARGE_STRING;
}

static bool is_large(const pond_arrow_format *f)
{
    return f->type == POND_ARROW_LARGE_BINARY || f->type == POND_ARROW_LARGE_STRING;
}

static int put_offset(pond_arrow_builder *b)
{
    if (is_large(&b->fmt)) {
        int64_t o = (int64_t)b->values.size;
        return pond_buf_put(&b->offsets, &o, 8);
    }
    if (b->values.size > INT32_MAX)
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW,
                              "arrow builder: data exceeds 2 GiB (use a large type)");
    int32_t o = (int32_t)b->values.size;
    return pond_buf_put(&b->offsets, &o, 4);
}

int pond_arrow_builder_new(pond_arrow_builder **out, const char *format)
{
    *out = NULL;
    pond_arrow_format f;
    int rc = pond_arrow_format_parse(&f, format);
    if (rc < 0)
        return rc;
    if (f.type == POND_ARROW_NA || f.type >= POND_ARROW_LIST)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_ARROW,
                              "arrow builder: '%s' is not a leaf type", format);
    pond_arrow_builder *b = pond_calloc(1, sizeof *b);
    if (!b)
        return POND_ENOMEM;
    if (!(b->format = pond_strdup(format))) {
        pond_free(b);
        return POND_ENOMEM;
    }
    b->fmt = f;
    b->fmt.tz = "";
    b->width = is_var(&f) || f.type == POND_ARROW_BOOL ? 0 : (size_t)f.bit_width / 8;
    *out = b;
    return 0;
}

void pond_arrow_builder_free(pond_arrow_builder *b)
{
    if (!b)
        return;
    pond_buf_dispose(&b->validity);
    pond_buf_dispose(&b->values);
    pond_buf_dispose(&b->offsets);
    pond_free(b->format);
    pond_free(b);
}

static int set_bit(pond_buf *buf, int64_t i, bool v)
{
    size_t need = (size_t)(i / 8) + 1;
    if (buf->size < need) {
        int rc = pond_buf_grow(buf, need);
        if (rc < 0)
            return rc;
        memset(buf->ptr + buf->size, 0, need - buf->size);
        buf->size = need;
    }
    if (v)
        buf->ptr[i / 8] |= (char)(1u << (i % 8));
    return 0;
}

/* Appends the slot: validity bit, then value bytes (NULL = zeroes). */
static int append_slot(pond_arrow_builder *b, bool valid, const void *p, size_t len)
{
    int rc;
    /* the common case, once per value of an import: a valid fixed-width value with room in
     * both buffers (as pond_buf_grow keeps it: one byte past the size) */
    size_t byte = (size_t)b->length >> 3;
    if (valid && len && len == b->width && byte + 1 < b->validity.asize &&
        b->values.size + len < b->values.asize) {
        if (byte == b->validity.size)
            b->validity.ptr[b->validity.size++] = 0;
        b->validity.ptr[byte] |= (char)(1u << (b->length & 7));
        memcpy(b->values.ptr + b->values.size, p, len);
        b->values.size += len;
        b->length++;
        return 0;
    }
    if (b->length == 0 && is_var(&b->fmt) && (rc = put_offset(b)) < 0)
        return rc;
    if ((rc = set_bit(&b->validity, b->length, valid)) < 0)
        return rc;
    if (b->fmt.type == POND_ARROW_BOOL) {
        rc = set_bit(&b->values, b->length, valid && p && *(const bool *)p);
    } else if (is_var(&b->fmt)) {
        if (valid && len && (rc = pond_buf_put(&b->values, p, len)) < 0)
            return rc;
        rc = put_offset(b);
    } else {
        size_t w = (size_t)b->fmt.bit_width / 8;
        if (valid && len != w)
            return pond_error_set(POND_EINVALID, POND_DOM_ARROW,
                                  "arrow builder: value of %zu bytes for '%s'", len, b->format);
        if ((rc = pond_buf_grow(&b->values, b->values.size + w)) < 0)
            return rc;
        if (valid)
            memcpy(b->values.ptr + b->values.size, p, w);
        else
            memset(b->values.ptr + b->values.size, 0, w);
        b->values.size += w;
    }
    if (rc < 0)
        return rc;
    b->length++;
    b->nulls += !valid;
    return 0;
}

int pond_arrow_builder_append_null(pond_arrow_builder *b) { return append_slot(b, false, NULL, 0); }

static int range_error(pond_arrow_builder *b)
{
    return pond_error_set(POND_EINVALID, POND_DOM_ARROW,
                          "arrow builder: value out of range "
                          "for '%s'",
                          b->format);
}

int pond_arrow_builder_append_int(pond_arrow_builder *b, int64_t v)
{
    switch (b->fmt.type) {
    case POND_ARROW_INT8: {
        if (v < INT8_MIN || v > INT8_MAX)
            return range_error(b);
        int8_t x = (int8_t)v;
        return append_slot(b, true, &x, 1);
    }
    case POND_ARROW_INT16: {
        if (v < INT16_MIN || v > INT16_MAX)
            return range_error(b);
        int16_t x = (int16_t)v;
        return append_slot(b, true, &x, 2);
    }
    case POND_ARROW_INT32:
    case POND_ARROW_DATE32:
    case POND_ARROW_TIME32:
    case POND_ARROW_INTERVAL_MONTHS: {
        if (v < INT32_MIN || v > INT32_MAX)
            return range_error(b);
        int32_t x = (int32_t)v;
        return append_slot(b, true, &x, 4);
    }
    case POND_ARROW_INT64:
    case POND_ARROW_DATE64:
    case POND_ARROW_TIME64:
    case POND_ARROW_TIMESTAMP:
    case POND_ARROW_DURATION:
        return append_slot(b, true, &v, 8);
    case POND_ARROW_UINT8:
    case POND_ARROW_UINT16:
    case POND_ARROW_UINT32:
    case POND_ARROW_UINT64:
        if (v < 0)
            return range_error(b);
        return pond_arrow_builder_append_uint(b, (uint64_t)v);
    default:
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW, "arrow builder: integer for '%s'",
                              b->format);
    }
}

int pond_arrow_builder_append_uint(pond_arrow_builder *b, uint64_t v)
{
    switch (b->fmt.type) {
    case POND_ARROW_UINT8: {
        if (v > UINT8_MAX)
            return range_error(b);
        uint8_t x = (uint8_t)v;
        return append_slot(b, true, &x, 1);
    }
    case POND_ARROW_UINT16: {
        if (v > UINT16_MAX)
            return range_error(b);
        uint16_t x = (uint16_t)v;
        return append_slot(b, true, &x, 2);
    }
    case POND_ARROW_UINT32: {
        if (v > UINT32_MAX)
            return range_error(b);
        uint32_t x = (uint32_t)v;
        return append_slot(b, true, &x, 4);
    }
    case POND_ARROW_UINT64:
        return append_slot(b, true, &v, 8);
    default:
        if (v > INT64_MAX)
            return range_error(b);
        return pond_arrow_builder_append_int(b, (int64_t)v);
    }
}

static uint16_t to_half(double d)
{
    float f = (float)d;
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    int exp = (int)((x >> 23) & 0xff) - 127 + 15;
    uint32_t mant = x & 0x7fffff;
    if (isnan(f))
        return sign | 0x7e00;
    if (exp >= 31)
        return sign | 0x7c00;
    if (exp <= 0) {
        if (exp < -10)
            return sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t h = mant >> shift;
        if ((mant >> (shift - 1)) & 1)
            h++;
        return sign | (uint16_t)h;
    }
    uint32_t h = ((uint32_t)exp << 10) | (mant >> 13);
    if (mant & 0x1000)
        h++; /* round half up; carries into the exponent correctly */
    return sign | (uint16_t)h;
}

int pond_arrow_builder_append_double(pond_arrow_builder *b, double v)
{
    switch (b->fmt.type) {
    case POND_ARROW_DOUBLE:
        return append_slot(b, true, &v, 8);
    case POND_ARROW_FLOAT: {
        float f = (float)v;
        return append_slot(b, true, &f, 4);
    }
    case POND_ARROW_HALF: {
        uint16_t h = to_half(v);
        return append_slot(b, true, &h, 2);
    }
    default:
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW, "arrow builder: float for '%s'",
                              b->format);
    }
}

int pond_arrow_builder_append_bool(pond_arrow_builder *b, bool v)
{
    if (b->fmt.type != POND_ARROW_BOOL)
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW, "arrow builder: boolean for '%s'",
                              b->format);
    return append_slot(b, true, &v, 1);
}

int pond_arrow_builder_append_bytes(pond_arrow_builder *b, const void *p, size_t len)
{
    if (b->fmt.type == POND_ARROW_BOOL)
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW, "arrow builder: bytes for 'b'");
    return append_slot(b, true, p, len);
}

static void *detach_or_empty(pond_buf *b)
{
    if (b->ptr) {
        void *p = b->ptr;
        b->ptr = NULL;
        b->size = b->asize = 0;
        return p;
    }
    return pond_calloc(1, 8);
}

int pond_arrow_builder_finish(struct ArrowArray *out, pond_arrow_builder *b)
{
    int rc;
    if (b->length == 0 && is_var(&b->fmt) && (rc = put_offset(b)) < 0)
        return rc;
    int nb = is_var(&b->fmt) ? 3 : 2;
    if ((rc = pond_arrow_array_init(out, b->length, b->nulls, nb, 0)) < 0)
        return rc;
    void *validity = NULL;
    if (b->nulls) {
        validity = detach_or_empty(&b->validity);
        if (!validity)
            goto oom;
    }
    pond_buf_dispose(&b->validity);
    pond_arrow_array_set_buffer(out, 0, validity);
    if (is_var(&b->fmt)) {
        void *o = detach_or_empty(&b->offsets);
        if (!o)
            goto oom;
        pond_arrow_array_set_buffer(out, 1, o);
        void *d = detach_or_empty(&b->values);
        if (!d)
            goto oom;
        pond_arrow_array_set_buffer(out, 2, d);
    } else {
        void *d = detach_or_empty(&b->values);
        if (!d)
            goto oom;
        pond_arrow_array_set_buffer(out, 1, d);
    }
    b->length = b->nulls = 0;
    pond_buf_dispose(&b->values);
    pond_buf_dispose(&b->offsets);
    return 0;
oom:
    pond_arrow_array_release(out);
    return POND_ENOMEM;
}

/* ---------------------------------------------------------------- validation */

static int verr(const char *path, const char *what)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_ARROW, "arrow array '%s': %s", path, what);
}

static int64_t offset_at(const void *offsets, bool large, int64_t i)
{
    return large ? ((const int64_t *)offsets)[i] : ((const int32_t *)offsets)[i];
}

/* The offsets of a variable-size array (32- or 64-bit) never decrease and start at 0 or more;
 * *end_out is the last one, how far into the data or child the array reaches. */
static int check_offsets(int64_t *end_out, const struct ArrowArray *a, bool large, const char *path)
{
    const void *o = a->buffers[1];
    if (!o && !a->length)
        return 0;
    if (!o)
        return verr(path, "offsets buffer is NULL");
    for (int64_t i = 0; i < a->length; i++)
        if (offset_at(o, large, a->offset + i + 1) < offset_at(o, large, a->offset + i))
            return verr(path, "offsets decrease");
    if (offset_at(o, large, a->offset) < 0)
        return verr(path, "negative offset");
    *end_out = offset_at(o, large, a->offset + a->length);
    return 0;
}

static int64_t count_nulls(const uint8_t *bits, int64_t off, int64_t len)
{
    int64_t valid = 0;
    for (int64_t i = 0; i < len; i++)
        valid += (bits[(off + i) >> 3] >> ((off + i) & 7)) & 1;
    return len - valid;
}

static int validate_rec(const struct ArrowSchema *s, const struct ArrowArray *a, char *path,
                        size_t plen, int depth)
{
    pond_arrow_format f;
    int rc;
    size_t l = strlen(path);
    snprintf(path + l, plen - l, "%s%s", l ? "." : "", s->name ? s->name : "?");
    if (depth > 64)
        return verr(path, "nested too deeply");
    if (!a->release)
        return verr(path, "released");
    if ((rc = pond_arrow_format_parse(&f, s->format)) < 0)
        return rc;
    if (a->length < 0 || a->offset < 0 || a->length > INT64_MAX - a->offset)
        return verr(path, "negative length or offset");
    if (a->null_count < -1 || a->null_count > a->length)
        return verr(path, "null_count outside [0, length]");
    if (a->n_buffers != f.n_buffers)
        return pond_error_set(POND_ECORRUPT, POND_DOM_ARROW,
                              "arrow array '%s': %" PRId64 " buffers, format '%s' needs %d", path,
                              a->n_buffers, s->format, f.n_buffers);
    if (a->n_children != s->n_children)
        return verr(path, "child count differs from the schema");
    if (a->n_buffers && !a->buffers)
        return verr(path, "buffers pointer is NULL");
    int64_t want_children = 0;
    switch (f.type) {
    case POND_ARROW_LIST:
    case POND_ARROW_LARGE_LIST:
    case POND_ARROW_MAP:
    case POND_ARROW_FIXED_LIST:
        want_children = 1;
        break;
    case POND_ARROW_STRUCT:
        want_children = s->n_children;
        break;
    default:
        break;
    }
    if (a->n_children != want_children)
        return verr(path, "wrong number of children for the type");
    const uint8_t *validity = f.n_buffers ? a->buffers[0] : NULL;
    if (a->null_count != 0 && f.type != POND_ARROW_NA) {
        if (!validity)
            return verr(path, "nulls but no validity buffer");
        int64_t n = count_nulls(validity, a->offset, a->length);
        if (a->null_count >= 0 && n != a->null_count)
            return pond_error_set(POND_ECORRUPT, POND_DOM_ARROW,
                                  "arrow array '%s': null_count "
                                  "%" PRId64 " but the bitmap has %" PRId64,
                                  path, a->null_count, n);
    }
    for (int i = 1; i < f.n_buffers; i++)
        if (!a->buffers[i] && a->length > 0)
            return verr(path, "data buffer is NULL");
    int64_t child_need = 0;
    if (f.type == POND_ARROW_BINARY || f.type == POND_ARROW_STRING || f.type == POND_ARROW_LIST ||
        f.type == POND_ARROW_MAP) {
        if ((rc = check_offsets(&child_need, a, false, path)) < 0)
            return rc;
    } else if (f.type == POND_ARROW_LARGE_BINARY || f.type == POND_ARROW_LARGE_STRING ||
               f.type == POND_ARROW_LARGE_LIST) {
        if ((rc = check_offsets(&child_need, a, true, path)) < 0)
            return rc;
    } else if (f.type == POND_ARROW_FIXED_LIST) {
        child_need = (a->offset + a->length) * f.width;
    } else if (f.type == POND_ARROW_STRUCT) {
        child_need = a->offset + a->length;
    }
    for (int64_t i = 0; i < a->n_children; i++) {
        if (!s->children[i] || !a->children[i])
            return verr(path, "child pointer is NULL");
        if (f.type != POND_ARROW_BINARY &&
            a->children[i]->offset + a->children[i]->length < child_need)
            return verr(path, "child array shorter than the parent needs");
        size_t keep = strlen(path);
        if ((rc = validate_rec(s->children[i], a->children[i], path, plen, depth + 1)) < 0)
            return rc;
        path[keep] = '\0';
    }
    if (f.type == POND_ARROW_MAP) {
        const struct ArrowSchema *e = s->children[0];
        if (strcmp(e->format, "+s") != 0 || e->n_children != 2)
            return verr(path, "map entries are not a struct of key and value");
        if (a->children[0]->children[0]->null_count > 0)
            return verr(path, "map key is null");
    }
    return 0;
}

int pond_arrow_array_validate(const struct ArrowSchema *schema, const struct ArrowArray *array)
{
    char path[512] = "";
    if (!schema || !array || !schema->release)
        return pond_error_set(POND_EINVALID, POND_DOM_ARROW,
                              "arrow: validate of a released "
                              "schema or NULL array");
    return validate_rec(schema, array, path, sizeof path, 0);
}

int pond_arrow_nulls(struct ArrowArray *out, const struct ArrowSchema *type, int64_t n)
{
    pond_arrow_format f;
    int rc = pond_arrow_format_parse(&f, type->format);
    if (rc < 0)
        return rc;
    if (f.type == POND_ARROW_STRUCT || f.type == POND_ARROW_LIST ||
        f.type == POND_ARROW_LARGE_LIST || f.type == POND_ARROW_MAP ||
        f.type == POND_ARROW_FIXED_LIST)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_ARROW,
                              "column '%s': a nested column missing from an older version "
                              "cannot be filled with nulls",
                              type->name ? type->name : "");
    pond_arrow_builder *b;
    if ((rc = pond_arrow_builder_new(&b, type->format)) < 0)
        return rc;
    for (int64_t i = 0; i < n && rc == 0; i++)
        rc = pond_arrow_builder_append_null(b);
    if (rc == 0)
        rc = pond_arrow_builder_finish(out, b);
    pond_arrow_builder_free(b);
    return rc;
}
