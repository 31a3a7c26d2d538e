/* The Arrow IPC stream writer (src/arrow/arrow_ipc.c), checked byte by byte with a FlatBuffers
 * reader of its own written from the spec (format/Message.fbs, format/Schema.fbs; the
 * encapsulation in the columnar format's "IPC streaming format"): the framing (continuation
 * marker, 8-aligned metadata length, end-of-stream), the Schema and RecordBatch messages' fields
 * and the body's buffers. tests/serve reads the same writer's streams back with apache-arrow. */
#include <pond/arrow_ipc.h>
#include <pond/table.h>

#include "pt.h"

#include <stdlib.h>

/* ---- a reader of FlatBuffers, independent of the writer's builder ------------------------------ */

typedef struct {
    const uint8_t *b;
    size_t n;
} fb;

static uint32_t u32(const fb *f, size_t at)
{
    PT_ASSERT(at + 4 <= f->n);
    uint32_t v;
    memcpy(&v, f->b + at, 4);
    return v;
}
static int64_t i64(const fb *f, size_t at)
{
    PT_ASSERT(at + 8 <= f->n);
    int64_t v;
    memcpy(&v, f->b + at, 8);
    return v;
}
static uint16_t u16(const fb *f, size_t at)
{
    PT_ASSERT(at + 2 <= f->n);
    uint16_t v;
    memcpy(&v, f->b + at, 2);
    return v;
}

/* The position of field slot k of the table at t, or 0 when absent. */
static size_t field(const fb *f, size_t t, int k)
{
    PT_ASSERT(t % 4 == 0);
    int32_t so;
    memcpy(&so, f->b + t, 4);
    size_t vt = (size_t)((int64_t)t - so);
    PT_ASSERT(vt % 2 == 0 && vt + 4 <= f->n);
    uint16_t vsize = u16(f, vt), tsize = u16(f, vt + 2);
    PT_ASSERT(vsize >= 4 && vsize % 2 == 0 && t + tsize <= f->n);
    if (4 + 2 * (size_t)k >= vsize)
        return 0;
    uint16_t off = u16(f, vt + 4 + 2 * (size_t)k);
    PT_ASSERT(off < tsize);
    return off ? t + off : 0;
}
static size_t deref(const fb *f, size_t at) { return at + u32(f, at); }
static int64_t field_int(const fb *f, size_t t, int k, int width, int64_t dflt)
{
    size_t p = field(f, t, k);
    if (!p)
        return dflt;
    PT_ASSERT(p % (size_t)width == 0); /* scalars are aligned to their size */
    return width == 1   ? f->b[p]
           : width == 2 ? (int16_t)u16(f, p)
           : width == 4 ? (int32_t)u32(f, p)
                        : i64(f, p);
}
static size_t field_table(const fb *f, size_t t, int k)
{
    size_t p = field(f, t, k);
    PT_ASSERT(p && p % 4 == 0);
    return deref(f, p);
}
static const char *field_string(const fb *f, size_t t, int k, size_t *len)
{
    size_t s = field_table(f, t, k);
    *len = u32(f, s);
    PT_ASSERT(s + 4 + *len < f->n && f->b[s + 4 + *len] == 0);
    return (const char *)f->b + s + 4;
}
/* A vector: its element count, *at the first element. */
static uint32_t field_vector(const fb *f, size_t t, int k, size_t *at)
{
    size_t v = field_table(f, t, k);
    *at = v + 4;
    return u32(f, v);
}

/* ---- the stream ------------------------------------------------------------------------------ */

typedef struct {
    size_t meta; /* the Message table's position in the stream */
    fb f;        /* the whole stream */
    size_t body; /* where the body starts */
    int64_t body_len;
    size_t next; /* the next message */
} msg;

static int sink(const void *data, size_t len, void *payload)
{
    return pond_buf_put(payload, data, len);
}

/* Reads the encapsulated message at pos: 0xFFFFFFFF, int32 length (the flatbuffer and its
 * padding, so that the body starts 8-aligned), the Message flatbuffer, the body. */
static void read_message(msg *m, const pond_buf *s, size_t pos, int want_kind)
{
    m->f = (fb){(const uint8_t *)s->ptr, s->size};
    PT_ASSERT_INT_EQ(pos % 8, 0);
    PT_ASSERT_INT_EQ(u32(&m->f, pos), 0xFFFFFFFFu);
    uint32_t len = u32(&m->f, pos + 4);
    PT_ASSERT(len > 0 && (8 + len) % 8 == 0);
    size_t root = pos + 8;
    m->meta = root + u32(&m->f, root);
    PT_ASSERT(m->meta < root + len);
    PT_ASSERT_INT_EQ(field_int(&m->f, m->meta, 0, 2, 0), 4); /* MetadataVersion V5 */
    PT_ASSERT_INT_EQ(field_int(&m->f, m->meta, 1, 1, 0), want_kind);
    m->body_len = field_int(&m->f, m->meta, 3, 8, 0);
    PT_ASSERT(m->body_len % 8 == 0);
    m->body = root + len;
    m->next = m->body + (size_t)m->body_len;
    PT_ASSERT(m->next <= s->size);
}

/* Checks a Field: name, nullable, type kind, an empty or present children vector. */
static size_t check_field(const fb *f, size_t fld, const char *name, int nullable, int kind,
                          uint32_t n_children)
{
    size_t len;
    const char *nm = field_string(f, fld, 0, &len);
    PT_ASSERT_INT_EQ(len, strlen(name));
    PT_ASSERT_MEM_EQ(nm, name, len);
    PT_ASSERT_INT_EQ(field_int(f, fld, 1, 1, 0), nullable);
    PT_ASSERT_INT_EQ(field_int(f, fld, 2, 1, 0), kind);
    size_t at;
    PT_ASSERT_INT_EQ(field_vector(f, fld, 5, &at), n_children); /* present even when empty */
    return field_table(f, fld, 3);
}

static void pair_at(const fb *f, size_t at, uint32_t i, int64_t *a, int64_t *b)
{
    PT_ASSERT((at + 16 * i) % 8 == 0); /* structs of int64 are 8-aligned */
    *a = i64(f, at + 16 * i);
    *b = i64(f, at + 16 * i + 8);
}

/* A batch: a int32 [1, null, 3, 40], s utf8 ["x", "", "yz", "w"], ts timestamp[us, UTC],
 * b bool [t, f, t, t]. */
static void make_batch(struct ArrowSchema *schema, struct ArrowArray *batch)
{
    PT_ASSERT_OK(pond_arrow_schema_init(schema, "+s", "", 0, 4));
    PT_ASSERT_OK(pond_arrow_schema_init(schema->children[0], "i", "a", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(schema->children[1], "u", "s", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(schema->children[2], "tsu:UTC", "ts", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(schema->children[3], "b", "b", 0, 0));
    pond_arrow_builder *a = NULL, *s = NULL, *t = NULL, *b = NULL;
    PT_ASSERT_OK(pond_arrow_builder_new(&a, "i"));
    PT_ASSERT_OK(pond_arrow_builder_new(&s, "u"));
    PT_ASSERT_OK(pond_arrow_builder_new(&t, "tsu:UTC"));
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "b"));
    const char *texts[] = {"x", "", "yz", "w"};
    for (int i = 0; i < 4; i++) {
        if (i == 1)
            PT_ASSERT_OK(pond_arrow_builder_append_null(a));
        else
            PT_ASSERT_OK(pond_arrow_builder_append_int(a, i == 3 ? 40 : i + 1));
        PT_ASSERT_OK(pond_arrow_builder_append_bytes(s, texts[i], strlen(texts[i])));
        PT_ASSERT_OK(pond_arrow_builder_append_int(t, 1700000000000000LL + i));
        PT_ASSERT_OK(pond_arrow_builder_append_bool(b, i != 1));
    }
    PT_ASSERT_OK(pond_arrow_array_init(batch, 4, 0, 1, 4));
    PT_ASSERT_OK(pond_arrow_builder_finish(batch->children[0], a));
    PT_ASSERT_OK(pond_arrow_builder_finish(batch->children[1], s));
    PT_ASSERT_OK(pond_arrow_builder_finish(batch->children[2], t));
    PT_ASSERT_OK(pond_arrow_builder_finish(batch->children[3], b));
    pond_arrow_builder_free(a);
    pond_arrow_builder_free(s);
    pond_arrow_builder_free(t);
    pond_arrow_builder_free(b);
}

static void write_stream(pond_buf *out, struct ArrowSchema *schema, struct ArrowArray *batch,
                         int64_t offset, int64_t length)
{
    batch->offset = offset;
    batch->length = length;
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_arrow_stream_from_batches(&st, schema, batch, 1));
    int64_t rows = -1;
    PT_ASSERT_OK(pond_arrow_ipc_write_stream(&rows, &st, sink, out));
    PT_ASSERT_INT_EQ(rows, length);
    PT_ASSERT(st.release == NULL); /* consumed */
}

static void check_schema(const pond_buf *s, msg *m)
{
    read_message(m, s, 0, 1 /* Schema */);
    PT_ASSERT_INT_EQ(m->body_len, 0);
    const fb *f = &m->f;
    size_t sch = field_table(f, m->meta, 2);
    PT_ASSERT_INT_EQ(field_int(f, sch, 0, 2, 0), 0); /* little-endian */
    size_t at;
    PT_ASSERT_INT_EQ(field_vector(f, sch, 1, &at), 4);
    size_t ty = check_field(f, deref(f, at), "a", 1, 2 /* Int */, 0);
    PT_ASSERT_INT_EQ(field_int(f, ty, 0, 4, 0), 32);
    PT_ASSERT_INT_EQ(field_int(f, ty, 1, 1, 0), 1);
    check_field(f, deref(f, at + 4), "s", 0, 5 /* Utf8 */, 0);
    ty = check_field(f, deref(f, at + 8), "ts", 0, 10 /* Timestamp */, 0);
    PT_ASSERT_INT_EQ(field_int(f, ty, 0, 2, 0), 2); /* MICROSECOND */
    size_t len;
    const char *zone = field_string(f, ty, 1, &len);
    PT_ASSERT_INT_EQ(len, 3);
    PT_ASSERT_MEM_EQ(zone, "UTC", 3);
    check_field(f, deref(f, at + 12), "b", 0, 6 /* Bool */, 0);
}

static void test_ipc_bytes(void)
{
    struct ArrowSchema schema;
    struct ArrowArray batch;
    make_batch(&schema, &batch);
    pond_buf s = POND_BUF_INIT;
    write_stream(&s, &schema, &batch, 0, 4);
    msg m;
    check_schema(&s, &m);
    /* the record batch */
    read_message(&m, &s, m.next, 3 /* RecordBatch */);
    const fb *f = &m.f;
    size_t rb = field_table(f, m.meta, 2);
    PT_ASSERT_INT_EQ(field_int(f, rb, 0, 8, 0), 4);
    size_t nodes, bufs;
    PT_ASSERT_INT_EQ(field_vector(f, rb, 1, &nodes), 4);
    PT_ASSERT_INT_EQ(field_vector(f, rb, 2, &bufs), 9);
    int64_t len, nulls;
    const int64_t want_nulls[4] = {1, 0, 0, 0};
    for (uint32_t i = 0; i < 4; i++) {
        pair_at(f, nodes, i, &len, &nulls);
        PT_ASSERT_INT_EQ(len, 4);
        PT_ASSERT_INT_EQ(nulls, want_nulls[i]);
    }
    /* buffers: a validity, a values; s validity, offsets, data; ts validity, values;
     * b validity, values; each 8-aligned in the body, in order, inside bodyLength */
    const int64_t want_len[9] = {1, 16, 0, 20, 4, 0, 32, 0, 1};
    int64_t off[9], blen[9], end = 0;
    for (uint32_t i = 0; i < 9; i++) {
        pair_at(f, bufs, i, &off[i], &blen[i]);
        PT_ASSERT_INT_EQ(blen[i], want_len[i]);
        PT_ASSERT_INT_EQ(off[i] % 8, 0);
        PT_ASSERT(off[i] >= end);
        end = off[i] + blen[i];
    }
    PT_ASSERT(end <= m.body_len);
    const uint8_t *body = f->b + m.body;
    PT_ASSERT_INT_EQ(body[off[0]], 0x0d); /* 1011: row 1 null */
    int32_t vals[4];
    memcpy(vals, body + off[1], 16);
    PT_ASSERT_INT_EQ(vals[0], 1);
    PT_ASSERT_INT_EQ(vals[2], 3);
    PT_ASSERT_INT_EQ(vals[3], 40);
    int32_t offs[5];
    memcpy(offs, body + off[3], 20);
    const int32_t want_offs[5] = {0, 1, 1, 3, 4};
    PT_ASSERT_MEM_EQ(offs, want_offs, sizeof want_offs);
    PT_ASSERT_MEM_EQ(body + off[4], "xyzw", 4);
    int64_t ts[4];
    memcpy(ts, body + off[6], 32);
    PT_ASSERT_INT_EQ(ts[3], 1700000000000003LL);
    PT_ASSERT_INT_EQ(body[off[8]] & 0x0f, 0x0d);
    /* the end-of-stream marker, and nothing after it */
    PT_ASSERT_INT_EQ(s.size, m.next + 8);
    PT_ASSERT_INT_EQ(u32(f, m.next), 0xFFFFFFFFu);
    PT_ASSERT_INT_EQ(u32(f, m.next + 4), 0);
    pond_buf_dispose(&s);
    PT_ASSERT(batch.release == NULL); /* the stream took it */
    schema.release(&schema);
}

/* A sliced batch (offset 1, length 2) is written as its slice: bitmaps shifted to bit 0,
 * offsets rebased to 0, values from the slice. */
static void test_ipc_slice(void)
{
    struct ArrowSchema schema;
    struct ArrowArray batch;
    make_batch(&schema, &batch);
    pond_buf s = POND_BUF_INIT;
    write_stream(&s, &schema, &batch, 1, 2);
    msg m;
    check_schema(&s, &m);
    read_message(&m, &s, m.next, 3);
    const fb *f = &m.f;
    size_t rb = field_table(f, m.meta, 2);
    PT_ASSERT_INT_EQ(field_int(f, rb, 0, 8, 0), 2);
    size_t nodes, bufs;
    field_vector(f, rb, 1, &nodes);
    field_vector(f, rb, 2, &bufs);
    int64_t len, nulls, off[9], blen[9];
    pair_at(f, nodes, 0, &len, &nulls);
    PT_ASSERT_INT_EQ(len, 2);
    PT_ASSERT_INT_EQ(nulls, 1);
    for (uint32_t i = 0; i < 9; i++)
        pair_at(f, bufs, i, &off[i], &blen[i]);
    const uint8_t *body = f->b + m.body;
    PT_ASSERT_INT_EQ(blen[0], 1);
    PT_ASSERT_INT_EQ(body[off[0]] & 0x03, 0x02); /* rows 1, 2: null, 3 */
    int32_t v;
    memcpy(&v, body + off[1] + 4, 4);
    PT_ASSERT_INT_EQ(v, 3);
    int32_t offs[3];
    PT_ASSERT_INT_EQ(blen[3], 12);
    memcpy(offs, body + off[3], 12);
    const int32_t want_offs[3] = {0, 0, 2};
    PT_ASSERT_MEM_EQ(offs, want_offs, sizeof want_offs);
    PT_ASSERT_INT_EQ(blen[4], 2);
    PT_ASSERT_MEM_EQ(body + off[4], "yz", 2);
    PT_ASSERT_INT_EQ(body[off[8]] & 0x03, 0x02); /* bools f, t */
    pond_buf_dispose(&s);
    PT_ASSERT(batch.release == NULL); /* the stream took it */
    schema.release(&schema);
}

/* No batch: a schema and the end-of-stream marker; a type IPC cannot carry is refused by
 * name; a sink error stops the writer and comes back. */
static void test_ipc_edges(void)
{
    struct ArrowSchema schema;
    PT_ASSERT_OK(pond_arrow_schema_init(&schema, "+s", "", 0, 1));
    PT_ASSERT_OK(pond_arrow_schema_init(schema.children[0], "g", "x", ARROW_FLAG_NULLABLE, 0));
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_arrow_stream_from_batches(&st, &schema, NULL, 0));
    pond_buf s = POND_BUF_INIT;
    int64_t rows = -1;
    PT_ASSERT_OK(pond_arrow_ipc_write_stream(&rows, &st, sink, &s));
    PT_ASSERT(st.release == NULL); /* consumed */
    PT_ASSERT_INT_EQ(rows, 0);
    msg m;
    read_message(&m, &s, 0, 1);
    PT_ASSERT_INT_EQ(s.size, m.next + 8);
    pond_buf_dispose(&s);
    schema.release(&schema);

    /* dictionary-encoded columns are not written (pond's readers never make them) */
    PT_ASSERT_OK(pond_arrow_schema_init(&schema, "+s", "", 0, 1));
    PT_ASSERT_OK(pond_arrow_schema_init(schema.children[0], "i", "u", 0, 0));
    PT_ASSERT((schema.children[0]->dictionary = pond_calloc(1, sizeof(struct ArrowSchema))));
    PT_ASSERT_OK(pond_arrow_schema_init(schema.children[0]->dictionary, "u", NULL, 0, 0));
    PT_ASSERT_OK(pond_arrow_stream_from_batches(&st, &schema, NULL, 0));
    PT_ASSERT_ERR(pond_arrow_ipc_write_stream(NULL, &st, sink, &s), POND_EUNSUPPORTED);
    PT_ASSERT_MSG_HAS("column 'u': dictionary-encoded");
    PT_ASSERT(st.release == NULL); /* consumed */
    pond_buf_dispose(&s);
    schema.release(&schema);
}

static int failing_sink(const void *data, size_t len, void *payload)
{
    (void)data, (void)len;
    int *calls = payload;
    if (++*calls == 3)
        return pond_error_set(POND_EIO, POND_DOM_NONE, "the sink is full");
    return 0;
}

static void test_ipc_sink_error(void)
{
    struct ArrowSchema schema;
    struct ArrowArray batch;
    make_batch(&schema, &batch);
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_arrow_stream_from_batches(&st, &schema, &batch, 1));
    int calls = 0;
    PT_ASSERT_ERR(pond_arrow_ipc_write_stream(NULL, &st, failing_sink, &calls), POND_EIO);
    PT_ASSERT_MSG_HAS("the sink is full");
    PT_ASSERT_INT_EQ(calls, 3);
    PT_ASSERT(st.release == NULL);    /* consumed */
    PT_ASSERT(batch.release == NULL); /* the stream took it */
    schema.release(&schema);
}

PT_SUITE(arrow_ipc, PT_TEST(ipc_bytes), PT_TEST(ipc_slice), PT_TEST(ipc_edges),
         PT_TEST(ipc_sink_error))
