/* The Arrow IPC stream format (include/pond/arrow_ipc.h), with a small FlatBuffers builder.
 *
 * FlatBuffers are built back to front, as the reference builder does: children first, at the
 * end of the buffer, so every offset a parent writes points forward to something already
 * written. Offsets below are measured from the end of the buffer ("size" = bytes written so
 * far). Message layout per the Arrow spec (format/Message.fbs, format/Schema.fbs):
 * 0xFFFFFFFF, int32 metadata length (the flatbuffer padded so the body starts 8-aligned), the
 * Message flatbuffer, then the body: each buffer padded to 8 bytes. */
#include <pond/alloc.h>
#include <pond/arrow_ipc.h>
#include <pond/buf.h>
#include <pond/errors.h>

#include <string.h>

#define D POND_DOM_ARROW

/* ---- a FlatBuffers builder ------------------------------------------------------------------- */

#define FB_MAX_SLOTS 8

typedef struct {
    uint8_t *buf;
    size_t cap, head; /* the data is buf[head, cap) */
    size_t minalign;
    int err;
    uint32_t slot[FB_MAX_SLOTS]; /* the current table's fields: their offsets, 0 = absent */
    int nslots;
    uint32_t object_start;
} fbb;

static uint32_t fb_size(const fbb *b) { return (uint32_t)(b->cap - b->head); }

static void fb_grow(fbb *b, size_t need)
{
    if (b->err || b->head >= need)
        return;
    size_t used = b->cap - b->head, cap = b->cap ? b->cap : 256;
    while (cap - used < need)
        cap *= 2;
    uint8_t *n = pond_malloc(cap);
    if (!n) {
        b->err = POND_ENOMEM;
        return;
    }
    if (used)
        memcpy(n + cap - used, b->buf + b->head, used);
    pond_free(b->buf);
    b->buf = n;
    b->head = cap - used;
    b->cap = cap;
}

static void fb_put(fbb *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    fb_grow(b, n);
    if (b->err)
        return;
    b->head -= n;
    memcpy(b->buf + b->head, p, n);
}

/* Pads so that after `extra` more bytes the size is a multiple of align. */
static void fb_prep(fbb *b, size_t align, size_t extra)
{
    if (align > b->minalign)
        b->minalign = align;
    size_t pad = (align - ((fb_size(b) + extra) % align)) % align;
    static const uint8_t zero[8] = {0};
    fb_put(b, zero, pad);
}

static void fb_scalar(fbb *b, const void *p, size_t n)
{
    fb_prep(b, n, 0);
    fb_put(b, p, n);
}

/* A uoffset to target (an earlier size), written here. */
static void fb_uoffset(fbb *b, uint32_t target)
{
    fb_prep(b, 4, 0);
    uint32_t v = fb_size(b) + 4 - target;
    fb_put(b, &v, 4);
}

static uint32_t fb_string(fbb *b, const char *s)
{
    size_t n = strlen(s);
    fb_prep(b, 4, n + 1);
    uint8_t z = 0;
    fb_put(b, &z, 1);
    fb_put(b, s, n);
    uint32_t len = (uint32_t)n;
    fb_put(b, &len, 4);
    return fb_size(b);
}

static uint32_t fb_offsets_vector(fbb *b, const uint32_t *offs, size_t n)
{
    fb_prep(b, 4, 4 * n);
    for (size_t i = n; i-- > 0;)
        fb_uoffset(b, offs[i]);
    uint32_t len = (uint32_t)n;
    fb_put(b, &len, 4);
    return fb_size(b);
}

/* A vector of n structs of two int64 each (FieldNode, Buffer). */
static uint32_t fb_pairs_vector(fbb *b, const int64_t *pairs, size_t n)
{
    fb_prep(b, 4, 16 * n);
    fb_prep(b, 8, 16 * n);
    for (size_t i = n; i-- > 0;)
        fb_put(b, &pairs[2 * i], 16);
    uint32_t len = (uint32_t)n;
    fb_put(b, &len, 4);
    return fb_size(b);
}

static void fb_table_start(fbb *b)
{
    memset(b->slot, 0, sizeof b->slot);
    b->nslots = 0;
    b->object_start = fb_size(b);
}

static void fb_mark(fbb *b, int slot)
{
    b->slot[slot] = fb_size(b);
    if (slot + 1 > b->nslots)
        b->nslots = slot + 1;
}

static void fb_field(fbb *b, int slot, const void *p, size_t n)
{
    fb_scalar(b, p, n);
    fb_mark(b, slot);
}

static void fb_field_i16(fbb *b, int slot, int16_t v) { fb_field(b, slot, &v, 2); }
static void fb_field_i32(fbb *b, int slot, int32_t v) { fb_field(b, slot, &v, 4); }
static void fb_field_i64(fbb *b, int slot, int64_t v) { fb_field(b, slot, &v, 8); }
static void fb_field_u8(fbb *b, int slot, uint8_t v) { fb_field(b, slot, &v, 1); }

static void fb_field_offset(fbb *b, int slot, uint32_t target)
{
    fb_uoffset(b, target);
    fb_mark(b, slot);
}

static uint32_t fb_table_end(fbb *b)
{
    int32_t zero = 0;
    fb_scalar(b, &zero, 4); /* the soffset to the vtable, patched below */
    uint32_t table = fb_size(b);
    for (int s = b->nslots; s-- > 0;) {
        uint16_t off = b->slot[s] ? (uint16_t)(table - b->slot[s]) : 0;
        fb_put(b, &off, 2);
    }
    uint16_t osize = (uint16_t)(table - b->object_start), vsize = (uint16_t)(4 + 2 * b->nslots);
    fb_put(b, &osize, 2);
    fb_put(b, &vsize, 2);
    if (b->err)
        return 0;
    int32_t so = (int32_t)(fb_size(b) - table); /* the vtable lies just before the table */
    memcpy(b->buf + b->cap - table, &so, 4);
    return table;
}

static void fb_finish(fbb *b, uint32_t root)
{
    fb_prep(b, b->minalign > 4 ? b->minalign : 4, 4);
    fb_uoffset(b, root);
}

static void fb_reset(fbb *b)
{
    b->head = b->cap;
    b->minalign = 1;
}

/* ---- Schema ------------------------------------------------------------------------------------ */

enum {
    T_NULL = 1,
    T_INT,
    T_FLOAT,
    T_BINARY,
    T_UTF8,
    T_BOOL,
    T_DECIMAL,
    T_DATE,
    T_TIME,
    T_TIMESTAMP,
    T_INTERVAL,
    T_LIST,
    T_STRUCT,
    T_UNION,
    T_FIXED_BINARY,
    T_FIXED_LIST,
    T_MAP,
    T_DURATION,
    T_LARGE_BINARY,
    T_LARGE_UTF8,
    T_LARGE_LIST
};

/* The type table of a format; *kind_out its union tag. */
static int type_table(uint32_t *out, uint8_t *kind_out, fbb *b, const pond_arrow_format *f,
                      const char *name)
{
    int16_t unit = (int16_t)f->unit;
    uint32_t tz = 0;
    if (f->type == POND_ARROW_TIMESTAMP && f->tz && *f->tz)
        tz = fb_string(b, f->tz);
    fb_table_start(b);
    switch (f->type) {
    case POND_ARROW_NA:
        *kind_out = T_NULL;
        break;
    case POND_ARROW_BOOL:
        *kind_out = T_BOOL;
        break;
    case POND_ARROW_INT8:
    case POND_ARROW_UINT8:
    case POND_ARROW_INT16:
    case POND_ARROW_UINT16:
    case POND_ARROW_INT32:
    case POND_ARROW_UINT32:
    case POND_ARROW_INT64:
    case POND_ARROW_UINT64: {
        bool sign = f->type == POND_ARROW_INT8 || f->type == POND_ARROW_INT16 ||
                    f->type == POND_ARROW_INT32 || f->type == POND_ARROW_INT64;
        fb_field_i32(b, 0, f->bit_width);
        fb_field_u8(b, 1, sign);
        *kind_out = T_INT;
        break;
    }
    case POND_ARROW_HALF:
    case POND_ARROW_FLOAT:
    case POND_ARROW_DOUBLE:
        fb_field_i16(b, 0, f->type == POND_ARROW_HALF ? 0 : f->type == POND_ARROW_FLOAT ? 1 : 2);
        *kind_out = T_FLOAT;
        break;
    case POND_ARROW_BINARY:
        *kind_out = T_BINARY;
        break;
    case POND_ARROW_STRING:
        *kind_out = T_UTF8;
        break;
    case POND_ARROW_LARGE_BINARY:
        *kind_out = T_LARGE_BINARY;
        break;
    case POND_ARROW_LARGE_STRING:
        *kind_out = T_LARGE_UTF8;
        break;
    case POND_ARROW_FIXED_BINARY:
        fb_field_i32(b, 0, f->width);
        *kind_out = T_FIXED_BINARY;
        break;
    case POND_ARROW_DECIMAL128:
    case POND_ARROW_DECIMAL256:
        fb_field_i32(b, 2, f->type == POND_ARROW_DECIMAL128 ? 128 : 256);
        fb_field_i32(b, 1, f->scale);
        fb_field_i32(b, 0, f->precision);
        *kind_out = T_DECIMAL;
        break;
    case POND_ARROW_DATE32:
    case POND_ARROW_DATE64:
        fb_field_i16(b, 0, f->type == POND_ARROW_DATE32 ? 0 : 1);
        *kind_out = T_DATE;
        break;
    case POND_ARROW_TIME32:
    case POND_ARROW_TIME64:
        fb_field_i32(b, 1, f->type == POND_ARROW_TIME32 ? 32 : 64);
        fb_field_i16(b, 0, unit);
        *kind_out = T_TIME;
        break;
    case POND_ARROW_TIMESTAMP:
        if (tz)
            fb_field_offset(b, 1, tz);
        fb_field_i16(b, 0, unit);
        *kind_out = T_TIMESTAMP;
        break;
    case POND_ARROW_DURATION:
        fb_field_i16(b, 0, unit);
        *kind_out = T_DURATION;
        break;
    case POND_ARROW_INTERVAL_MONTHS:
    case POND_ARROW_INTERVAL_DAY_TIME:
    case POND_ARROW_INTERVAL_MONTH_DAY_NANO:
        fb_field_i16(b, 0,
                     f->type == POND_ARROW_INTERVAL_MONTHS     ? 0
                     : f->type == POND_ARROW_INTERVAL_DAY_TIME ? 1
                                                               : 2);
        *kind_out = T_INTERVAL;
        break;
    case POND_ARROW_LIST:
        *kind_out = T_LIST;
        break;
    case POND_ARROW_LARGE_LIST:
        *kind_out = T_LARGE_LIST;
        break;
    case POND_ARROW_FIXED_LIST:
        fb_field_i32(b, 0, f->width);
        *kind_out = T_FIXED_LIST;
        break;
    case POND_ARROW_STRUCT:
        *kind_out = T_STRUCT;
        break;
    case POND_ARROW_MAP:
        fb_field_u8(b, 0, 0);
        *kind_out = T_MAP;
        break;
    default:
        return pond_error_set(POND_EUNSUPPORTED, D,
                              "column '%s': its type cannot be sent as Arrow IPC", name);
    }
    *out = fb_table_end(b);
    return b->err;
}

static int field_table(uint32_t *out, fbb *b, const struct ArrowSchema *s, int depth)
{
    pond_arrow_format f;
    const char *name = s->name ? s->name : "";
    int rc = pond_arrow_format_parse(&f, s->format);
    if (rc < 0)
        return rc;
    if (s->dictionary)
        return pond_error_set(POND_EUNSUPPORTED, D,
                              "column '%s': dictionary-encoded columns cannot be sent as Arrow IPC",
                              name);
    if (depth > 64)
        return pond_error_set(POND_EUNSUPPORTED, D, "column '%s' is nested too deeply", name);
    uint32_t *kids = NULL, children = 0;
    if (s->n_children > 0 && !(kids = pond_calloc((size_t)s->n_children, sizeof *kids)))
        return POND_ENOMEM;
    for (int64_t k = 0; k < s->n_children && rc == 0; k++)
        rc = field_table(&kids[k], b, s->children[k], depth + 1);
    /* always present, empty for a primitive: Arrow C++ before 4.0 refuses a Field without it */
    if (rc == 0)
        children = fb_offsets_vector(b, kids, s->n_children > 0 ? (size_t)s->n_children : 0);
    pond_free(kids);
    if (rc < 0)
        return rc;
    uint8_t kind = 0;
    uint32_t type = 0;
    if ((rc = type_table(&type, &kind, b, &f, name)) < 0)
        return rc;
    uint32_t nm = fb_string(b, name);
    fb_table_start(b);
    fb_field_offset(b, 5, children);
    fb_field_offset(b, 3, type);
    fb_field_offset(b, 0, nm);
    fb_field_u8(b, 2, kind);
    fb_field_u8(b, 1, (s->flags & ARROW_FLAG_NULLABLE) != 0);
    *out = fb_table_end(b);
    return b->err;
}

/* ---- messages ------------------------------------------------------------------------------------ */

typedef struct {
    pond_arrow_ipc_sink_fn sink;
    void *payload;
    fbb b;
    pond_buf body;
    int64_t *nodes, *bufs; /* pairs */
    size_t n_nodes, n_bufs, cap_nodes, cap_bufs;
} ipc;

static int emit_message(ipc *w, uint8_t header_kind, uint32_t header, int64_t body_len)
{
    fbb *b = &w->b;
    fb_table_start(b);
    fb_field_i64(b, 3, body_len);
    fb_field_offset(b, 2, header);
    fb_field_i16(b, 0, 4); /* MetadataVersion V5 */
    fb_field_u8(b, 1, header_kind);
    uint32_t msg = fb_table_end(b);
    fb_finish(b, msg);
    if (b->err)
        return b->err;
    size_t n = fb_size(b), padded = (n + 8 + 7) / 8 * 8 - 8;
    uint32_t prefix[2] = {0xFFFFFFFFu, (uint32_t)padded};
    static const uint8_t zero[8] = {0};
    int rc = w->sink(prefix, 8, w->payload);
    if (rc == 0)
        rc = w->sink(b->buf + b->head, n, w->payload);
    if (rc == 0 && padded > n)
        rc = w->sink(zero, padded - n, w->payload);
    fb_reset(b);
    return rc;
}

static int write_schema(ipc *w, const struct ArrowSchema *s)
{
    fbb *b = &w->b;
    size_t n = s->n_children > 0 ? (size_t)s->n_children : 0;
    uint32_t *fields = n ? pond_calloc(n, sizeof *fields) : NULL;
    if (n && !fields)
        return POND_ENOMEM;
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++)
        rc = field_table(&fields[k], b, s->children[k], 0);
    uint32_t vec = rc == 0 ? fb_offsets_vector(b, fields, n) : 0;
    pond_free(fields);
    if (rc < 0)
        return rc;
    fb_table_start(b);
    fb_field_offset(b, 1, vec);
    fb_field_i16(b, 0, 0); /* little-endian */
    uint32_t schema = fb_table_end(b);
    return b->err ? b->err : emit_message(w, 1, schema, 0);
}

static int push_pair(int64_t **v, size_t *n, size_t *cap, int64_t a, int64_t c)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        int64_t *p = pond_realloc(*v, nc * 2 * sizeof *p);
        if (!p)
            return POND_ENOMEM;
        *v = p;
        *cap = nc;
    }
    (*v)[2 * *n] = a;
    (*v)[2 * *n + 1] = c;
    (*n)++;
    return 0;
}

/* Appends a buffer of the body (8-aligned) and its (offset, length). */
static int body_put(ipc *w, const void *p, size_t len)
{
    int64_t off = (int64_t)w->body.size;
    int rc = len ? pond_buf_put(&w->body, p, len) : 0;
    while (rc == 0 && w->body.size % 8)
        rc = pond_buf_putc(&w->body, 0);
    return rc ? rc : push_pair(&w->bufs, &w->n_bufs, &w->cap_bufs, off, (int64_t)len);
}

/* Bits [start, start + len) of a bitmap as a bitmap starting at bit 0. */
static int body_bits(ipc *w, const uint8_t *bits, int64_t start, int64_t len)
{
    size_t nbytes = (size_t)((len + 7) / 8);
    if (start % 8 == 0)
        return body_put(w, bits + start / 8, nbytes);
    uint8_t *tmp = pond_calloc(nbytes ? nbytes : 1, 1);
    if (!tmp)
        return POND_ENOMEM;
    for (int64_t i = 0; i < len; i++)
        if (bits[(start + i) >> 3] & (1u << ((start + i) & 7)))
            tmp[i >> 3] |= (uint8_t)(1u << (i & 7));
    int rc = body_put(w, tmp, nbytes);
    pond_free(tmp);
    return rc;
}

/* Offsets [start, start + len] rebased to start at 0; lo and hi: the child range. */
static int body_offsets(ipc *w, const void *offs, bool large, int64_t start, int64_t len,
                        int64_t *lo, int64_t *hi)
{
    size_t each = large ? 8 : 4;
    uint8_t *tmp = pond_malloc((size_t)(len + 1) * each);
    if (!tmp)
        return POND_ENOMEM;
    *lo = large ? ((const int64_t *)offs)[start] : ((const int32_t *)offs)[start];
    for (int64_t i = 0; i <= len; i++) {
        int64_t v = large ? ((const int64_t *)offs)[start + i] : ((const int32_t *)offs)[start + i];
        if (large) {
            int64_t x = v - *lo;
            memcpy(tmp + 8 * i, &x, 8);
        } else {
            int32_t x = (int32_t)(v - *lo);
            memcpy(tmp + 4 * i, &x, 4);
        }
        *hi = v;
    }
    int rc = body_put(w, tmp, (size_t)(len + 1) * each);
    pond_free(tmp);
    return rc;
}

/* One array's node and buffers, elements [start, start + len) of its buffers (its own offset
 * already included in start), then its children's. */
static int write_array(ipc *w, const struct ArrowSchema *s, const struct ArrowArray *a,
                       int64_t start, int64_t len, int depth)
{
    pond_arrow_format f;
    int rc = pond_arrow_format_parse(&f, s->format);
    if (rc < 0)
        return rc;
    if (depth > 64)
        return pond_error_set(POND_EUNSUPPORTED, D, "a value nested too deeply");
    const uint8_t *valid = a->n_buffers && f.type != POND_ARROW_NA ? a->buffers[0] : NULL;
    int64_t nulls = 0;
    if (f.type == POND_ARROW_NA)
        nulls = len;
    else if (valid && a->null_count != 0)
        for (int64_t i = 0; i < len; i++)
            nulls += !(valid[(start + i) >> 3] & (1u << ((start + i) & 7)));
    if ((rc = push_pair(&w->nodes, &w->n_nodes, &w->cap_nodes, len, nulls)) < 0)
        return rc;
    if (f.type == POND_ARROW_NA)
        return 0;
    rc = nulls ? body_bits(w, valid, start, len) : body_put(w, NULL, 0);
    const void *v = a->n_buffers > 1 ? a->buffers[1] : NULL;
    int64_t lo = 0, hi = 0;
    switch (f.type) {
    case POND_ARROW_BOOL:
        return rc ? rc : body_bits(w, v, start, len);
    case POND_ARROW_BINARY:
    case POND_ARROW_STRING:
    case POND_ARROW_LARGE_BINARY:
    case POND_ARROW_LARGE_STRING: {
        bool large = f.type == POND_ARROW_LARGE_BINARY || f.type == POND_ARROW_LARGE_STRING;
        if (rc == 0)
            rc = body_offsets(w, v, large, start, len, &lo, &hi);
        return rc ? rc : body_put(w, (const uint8_t *)a->buffers[2] + lo, (size_t)(hi - lo));
    }
    case POND_ARROW_LIST:
    case POND_ARROW_LARGE_LIST:
    case POND_ARROW_MAP:
        if (rc == 0)
            rc = body_offsets(w, v, f.type == POND_ARROW_LARGE_LIST, start, len, &lo, &hi);
        return rc ? rc
                  : write_array(w, s->children[0], a->children[0], a->children[0]->offset + lo,
                                hi - lo, depth + 1);
    case POND_ARROW_FIXED_LIST:
        return rc ? rc
                  : write_array(w, s->children[0], a->children[0],
                                a->children[0]->offset + start * f.width, len * f.width, depth + 1);
    case POND_ARROW_STRUCT:
        for (int64_t k = 0; k < s->n_children && rc == 0; k++)
            rc = write_array(w, s->children[k], a->children[k], a->children[k]->offset + start, len,
                             depth + 1);
        return rc;
    default: {
        size_t bytes = f.type == POND_ARROW_FIXED_BINARY              ? (size_t)f.width
                       : f.type == POND_ARROW_INTERVAL_MONTH_DAY_NANO ? 16
                                                                      : (size_t)f.bit_width / 8;
        if (!bytes)
            return pond_error_set(POND_EUNSUPPORTED, D,
                                  "column '%s': its type cannot be sent "
                                  "as Arrow IPC",
                                  s->name ? s->name : "");
        return rc ? rc
                  : body_put(w, (const uint8_t *)v + (size_t)start * bytes, (size_t)len * bytes);
    }
    }
}

static int write_batch(ipc *w, const struct ArrowSchema *s, const struct ArrowArray *batch)
{
    pond_buf_clear(&w->body);
    w->n_nodes = w->n_bufs = 0;
    int rc = 0;
    for (int64_t k = 0; k < s->n_children && rc == 0; k++)
        rc = write_array(w, s->children[k], batch->children[k],
                         batch->children[k]->offset + batch->offset, batch->length, 0);
    if (rc < 0)
        return rc;
    fbb *b = &w->b;
    uint32_t bufs = fb_pairs_vector(b, w->bufs, w->n_bufs);
    uint32_t nodes = fb_pairs_vector(b, w->nodes, w->n_nodes);
    fb_table_start(b);
    fb_field_i64(b, 0, batch->length);
    fb_field_offset(b, 2, bufs);
    fb_field_offset(b, 1, nodes);
    uint32_t rb = fb_table_end(b);
    if (b->err)
        return b->err;
    if ((rc = emit_message(w, 3, rb, (int64_t)w->body.size)) < 0)
        return rc;
    return w->body.size ? w->sink(w->body.ptr, w->body.size, w->payload) : 0;
}

static int ipc_write(int64_t *rows_out, struct ArrowArrayStream *st, pond_arrow_ipc_sink_fn sink,
                     void *payload)
{
    ipc w = {sink, payload, {0}, POND_BUF_INIT, NULL, NULL, 0, 0, 0, 0};
    fb_reset(&w.b);
    struct ArrowSchema s = {0};
    int64_t rows = 0;
    int e = st->get_schema(st, &s), rc = 0;
    if (e != 0) {
        const char *m = st->get_last_error ? st->get_last_error(st) : NULL;
        return pond_error_set(POND_EIO, D, "%s", m ? m : strerror(e));
    }
    rc = write_schema(&w, &s);
    while (rc == 0) {
        struct ArrowArray b;
        if ((e = st->get_next(st, &b)) != 0) {
            const char *m = st->get_last_error ? st->get_last_error(st) : NULL;
            rc = pond_error_set(POND_EIO, D, "%s", m ? m : strerror(e));
            break;
        }
        if (!b.release)
            break;
        rows += b.length;
        rc = write_batch(&w, &s, &b);
        b.release(&b);
    }
    if (rc == 0) {
        uint32_t eos[2] = {0xFFFFFFFFu, 0};
        rc = sink(eos, 8, payload);
    }
    if (rows_out)
        *rows_out = rows;
    pond_free(w.b.buf);
    pond_buf_dispose(&w.body);
    pond_free(w.nodes);
    pond_free(w.bufs);
    s.release(&s);
    return rc;
}

int pond_arrow_ipc_write_stream(int64_t *rows_out, struct ArrowArrayStream *st,
                                pond_arrow_ipc_sink_fn sink, void *payload)
{
    int rc = ipc_write(rows_out, st, sink, payload);
    pond_arrow_stream_release(st); /* consumed, also on failure (docs/api.md, "Streams") */
    return rc;
}
