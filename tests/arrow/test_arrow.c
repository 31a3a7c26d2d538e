#include "pt.h"

#include <pond/arrow.h>
#include <pond/buf.h>

#include <math.h>

static void test_format_parse(void)
{
    pond_arrow_format f;
    PT_ASSERT_OK(pond_arrow_format_parse(&f, "l"));
    PT_ASSERT_INT_EQ(f.type, POND_ARROW_INT64);
    PT_ASSERT_INT_EQ(f.bit_width, 64);
    PT_ASSERT_INT_EQ(f.n_buffers, 2);
    PT_ASSERT_OK(pond_arrow_format_parse(&f, "u"));
    PT_ASSERT_INT_EQ(f.n_buffers, 3);
    PT_ASSERT_OK(pond_arrow_format_parse(&f, "d:38,-2"));
    PT_ASSERT_INT_EQ(f.type, POND_ARROW_DECIMAL128);
    PT_ASSERT_INT_EQ(f.precision, 38);
    PT_ASSERT_INT_EQ(f.scale, -2);
    PT_ASSERT_OK(pond_arrow_format_parse(&f, "d:60,10,256"));
    PT_ASSERT_INT_EQ(f.type, POND_ARROW_DECIMAL256);
    PT_ASSERT_OK(pond_arrow_format_parse(&f, "tsu:Europe/Paris"));
    PT_ASSERT_INT_EQ(f.type, POND_ARROW_TIMESTAMP);
    PT_ASSERT_INT_EQ(f.unit, POND_ARROW_UNIT_US);
    PT_ASSERT_STR_EQ(f.tz, "Europe/Paris");
    PT_ASSERT_OK(pond_arrow_format_parse(&f, "w:16"));
    PT_ASSERT_INT_EQ(f.width, 16);
    PT_ASSERT_OK(pond_arrow_format_parse(&f, "+s"));
    PT_ASSERT_INT_EQ(f.n_buffers, 1);
    PT_ASSERT_OK(pond_arrow_format_parse(&f, "ttn"));
    PT_ASSERT_INT_EQ(f.type, POND_ARROW_TIME64);
    const char *bad[] = {"",     "x",  "w:",  "w:0", "d:5",     "d:,2",
                         "tsx:", "+q", "ttq", "ll",  "d:5,2,64"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        PT_ASSERT_ERR(pond_arrow_format_parse(&f, bad[i]), POND_EINVALID);
    PT_ASSERT_ERR(pond_arrow_format_parse(&f, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("format string");
}

static void test_schema_release_move_copy(void)
{
    struct ArrowSchema s, m, c;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "root", 0, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "l", "a", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "+l", "b", ARROW_FLAG_NULLABLE, 1));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1]->children[0], "u", "item", 0, 0));
    const char *k[] = {"key"}, *v[] = {"value"};
    PT_ASSERT_OK(pond_arrow_schema_set_metadata(s.children[0], k, v, 1));
    pond_arrow_schema_move(&m, &s);
    PT_ASSERT(s.release == NULL);
    PT_ASSERT(m.release != NULL);
    PT_ASSERT_STR_EQ(m.children[1]->children[0]->format, "u");
    PT_ASSERT_OK(pond_arrow_schema_copy(&c, &m));
    pond_arrow_schema_release(&m);
    PT_ASSERT(m.release == NULL);
    PT_ASSERT_STR_EQ(c.children[0]->name, "a");
    PT_ASSERT_INT_EQ(c.children[0]->flags, ARROW_FLAG_NULLABLE);
    /* metadata layout: int32 count, then int32 length + bytes per key and value */
    int32_t n;
    memcpy(&n, c.children[0]->metadata, 4);
    PT_ASSERT_INT_EQ(n, 1);
    PT_ASSERT_MEM_EQ(c.children[0]->metadata + 8, "key", 3);
    PT_ASSERT_MEM_EQ(c.children[0]->metadata + 15, "value", 5);
    /* releasing a child first (moved out) is fine: the parent skips it */
    struct ArrowSchema child;
    pond_arrow_schema_move(&child, c.children[1]);
    pond_arrow_schema_release(&c);
    PT_ASSERT_STR_EQ(child.format, "+l");
    pond_arrow_schema_release(&child);
    pond_arrow_schema_release(&child); /* twice is a no-op */
    pond_arrow_schema_release(NULL);
}

static int64_t as_i64(const struct ArrowArray *a, int64_t i)
{
    return ((const int64_t *)a->buffers[1])[i];
}

static void test_builder_ints_validity(void)
{
    pond_arrow_builder *b;
    struct ArrowArray a;
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "l"));
    PT_ASSERT_OK(pond_arrow_builder_append_int(b, 42));
    PT_ASSERT_OK(pond_arrow_builder_append_null(b));
    PT_ASSERT_OK(pond_arrow_builder_append_int(b, -7));
    PT_ASSERT_OK(pond_arrow_builder_finish(&a, b));
    pond_arrow_builder_free(b);
    PT_ASSERT_INT_EQ(a.length, 3);
    PT_ASSERT_INT_EQ(a.null_count, 1);
    PT_ASSERT_INT_EQ(a.n_buffers, 2);
    PT_ASSERT_INT_EQ(as_i64(&a, 0), 42);
    PT_ASSERT_INT_EQ(as_i64(&a, 2), -7);
    const uint8_t *valid = a.buffers[0];
    PT_ASSERT_INT_EQ(valid[0] & 7, 5);
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "l", "x", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_validate(&s, &a));
    /* a lying null count is caught */
    a.null_count = 2;
    PT_ASSERT_ERR(pond_arrow_array_validate(&s, &a), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("null_count");
    a.null_count = 1;
    a.n_buffers = 3;
    PT_ASSERT_ERR(pond_arrow_array_validate(&s, &a), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("buffers");
    a.n_buffers = 2;
    a.length = -1;
    PT_ASSERT_ERR(pond_arrow_array_validate(&s, &a), POND_ECORRUPT);
    a.length = 3;
    pond_arrow_array_release(&a);
    PT_ASSERT(a.release == NULL);
    PT_ASSERT_ERR(pond_arrow_array_validate(&s, &a), POND_ECORRUPT);
    pond_arrow_schema_release(&s);
}

static void test_builder_ranges_and_types(void)
{
    pond_arrow_builder *b;
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "c"));
    PT_ASSERT_ERR(pond_arrow_builder_append_int(b, 128), POND_EINVALID);
    PT_ASSERT_OK(pond_arrow_builder_append_int(b, -128));
    PT_ASSERT_ERR(pond_arrow_builder_append_double(b, 1.0), POND_EINVALID);
    PT_ASSERT_ERR(pond_arrow_builder_append_bytes(b, "ab", 2), POND_EINVALID);
    pond_arrow_builder_free(b);
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "C"));
    PT_ASSERT_ERR(pond_arrow_builder_append_int(b, -1), POND_EINVALID);
    PT_ASSERT_ERR(pond_arrow_builder_append_uint(b, 256), POND_EINVALID);
    pond_arrow_builder_free(b);
    PT_ASSERT_ERR(pond_arrow_builder_new(&b, "+s"), POND_EUNSUPPORTED);
    PT_ASSERT(b == NULL);
    PT_ASSERT_ERR(pond_arrow_builder_new(&b, "?"), POND_EINVALID);
}

/* Builds a one-column batch and returns its canonical text. */
static void canon_of(pond_buf *out, const char *format, pond_arrow_builder *b)
{
    struct ArrowArray a, batch;
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_arrow_builder_finish(&a, b));
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 1));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], format, "c", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&batch, a.length, 0, 1, 1));
    pond_arrow_array_move(batch.children[0], &a);
    PT_ASSERT_OK(pond_arrow_array_validate(&s, &batch));
    PT_ASSERT_OK(pond_arrow_canon_batch(out, &s, &batch));
    pond_arrow_array_release(&batch);
    pond_arrow_schema_release(&s);
}

static void test_canon_leaves(void)
{
    pond_buf out = POND_BUF_INIT;
    pond_arrow_builder *b;

    PT_ASSERT_OK(pond_arrow_builder_new(&b, "u"));
    PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, "a\"b\\\n\x01", 6));
    PT_ASSERT_OK(pond_arrow_builder_append_null(b));
    PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, "h\xc3\xa9", 3));
    PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, "bad\xff", 4));
    canon_of(&out, "u", b);
    pond_arrow_builder_free(b);
    PT_ASSERT_STR_EQ(out.ptr, "\"a\\\"b\\\\\\n\\u0001\"\nN\n\"h\xc3\xa9\"\n\"bad\xef\xbf\xbd\"\n");

    pond_buf_clear(&out);
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "z"));
    PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, "\x00\xff", 2));
    PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, "", 0));
    canon_of(&out, "z", b);
    pond_arrow_builder_free(b);
    PT_ASSERT_STR_EQ(out.ptr, "x00ff\nx\n");

    pond_buf_clear(&out);
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "b"));
    PT_ASSERT_OK(pond_arrow_builder_append_bool(b, true));
    PT_ASSERT_OK(pond_arrow_builder_append_bool(b, false));
    PT_ASSERT_OK(pond_arrow_builder_append_null(b));
    canon_of(&out, "b", b);
    pond_arrow_builder_free(b);
    PT_ASSERT_STR_EQ(out.ptr, "T\nF\nN\n");

    pond_buf_clear(&out);
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "tsm:UTC"));
    PT_ASSERT_OK(pond_arrow_builder_append_int(b, -1));
    PT_ASSERT_OK(pond_arrow_builder_append_int(b, INT64_MAX));
    canon_of(&out, "tsm:UTC", b);
    pond_arrow_builder_free(b);
    PT_ASSERT_STR_EQ(out.ptr, "t-1000000\nt9223372036854775807000000\n");

    pond_buf_clear(&out);
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "d:5,2"));
    uint8_t dec[16];
    int64_t v = -150;
    memcpy(dec, &v, 8);
    memset(dec + 8, 0xff, 8);
    PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, dec, 16));
    v = 7;
    memcpy(dec, &v, 8);
    memset(dec + 8, 0, 8);
    PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, dec, 16));
    canon_of(&out, "d:5,2", b);
    pond_arrow_builder_free(b);
    PT_ASSERT_STR_EQ(out.ptr, "d-1.50\nd0.07\n");

    pond_buf_clear(&out);
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "L"));
    PT_ASSERT_OK(pond_arrow_builder_append_uint(b, UINT64_MAX));
    canon_of(&out, "L", b);
    pond_arrow_builder_free(b);
    PT_ASSERT_STR_EQ(out.ptr, "i18446744073709551615\n");

    pond_buf_clear(&out);
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "e"));
    PT_ASSERT_OK(pond_arrow_builder_append_double(b, 1.5));
    PT_ASSERT_OK(pond_arrow_builder_append_double(b, -0.0));
    PT_ASSERT_OK(pond_arrow_builder_append_double(b, NAN));
    PT_ASSERT_OK(pond_arrow_builder_append_double(b, 65504));
    canon_of(&out, "e", b);
    pond_arrow_builder_free(b);
    PT_ASSERT_STR_EQ(out.ptr, "f1.5\nf-0\nfNaN\nf65504\n");

    pond_buf_clear(&out);
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "f"));
    PT_ASSERT_OK(pond_arrow_builder_append_double(b, 0.1));
    canon_of(&out, "f", b);
    pond_arrow_builder_free(b);
    /* JavaScript sees the float32 widened to double */
    PT_ASSERT_STR_EQ(out.ptr, "f0.10000000149011612\n");
    pond_buf_dispose(&out);
}

static void test_js_double_format(void)
{
    /* expected strings are JavaScript's String(x) for these values */
    struct {
        double x;
        const char *js;
    } cases[] = {
        {1.5, "1.5"},
        {100, "100"},
        {1e21, "1e+21"},
        {1e20, "100000000000000000000"},
        {123456789012345680000.0, "123456789012345680000"},
        {0.000001, "0.000001"},
        {1e-7, "1e-7"},
        {1.2345e-7, "1.2345e-7"},
        {-2.5e-8, "-2.5e-8"},
        {0.1, "0.1"},
        {1.0 / 3, "0.3333333333333333"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {-123.456, "-123.456"},
        {INFINITY, "Infinity"},
        {-INFINITY, "-Infinity"},
        {0.1 + 0.2, "0.30000000000000004"},
        {2e-6, "0.000002"},
        {123e-20, "1.23e-18"},
        {9007199254740993.0, "9007199254740992"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pond_arrow_format_double(buf, cases[i].x);
        PT_ASSERT_STR_EQ(buf, cases[i].js);
    }
    pond_arrow_format_double(buf, NAN);
    PT_ASSERT_STR_EQ(buf, "NaN");
}

/* list<int64> [[1,2],[],null] and struct{b:int64, a:string} assembled by hand */
static void test_nested_canon_and_validate(void)
{
    struct ArrowSchema s;
    struct ArrowArray batch;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "+l", "l", ARROW_FLAG_NULLABLE, 1));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0]->children[0], "l", "item", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "+s", "st", ARROW_FLAG_NULLABLE, 2));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1]->children[0], "l", "b", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1]->children[1], "u", "a", 0, 0));

    PT_ASSERT_OK(pond_arrow_array_init(&batch, 3, 0, 1, 2));
    struct ArrowArray *l = batch.children[0];
    PT_ASSERT_OK(pond_arrow_array_init(l, 3, 1, 2, 1));
    uint8_t *lv = pond_arrow_array_alloc_buffer(l, 0, 1);
    lv[0] = 3;
    int32_t *lo = pond_arrow_array_alloc_buffer(l, 1, 4 * sizeof *lo);
    lo[0] = 0, lo[1] = 2, lo[2] = 2, lo[3] = 2;
    pond_arrow_builder *b;
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "l"));
    PT_ASSERT_OK(pond_arrow_builder_append_int(b, 1));
    PT_ASSERT_OK(pond_arrow_builder_append_int(b, 2));
    PT_ASSERT_OK(pond_arrow_builder_finish(l->children[0], b));
    struct ArrowArray *st = batch.children[1];
    PT_ASSERT_OK(pond_arrow_array_init(st, 3, 0, 1, 2));
    for (int i = 0; i < 3; i++)
        PT_ASSERT_OK(pond_arrow_builder_append_int(b, 10 + i));
    PT_ASSERT_OK(pond_arrow_builder_finish(st->children[0], b));
    pond_arrow_builder_free(b);
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "u"));
    PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, "x", 1));
    PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, "y", 1));
    PT_ASSERT_OK(pond_arrow_builder_append_bytes(b, "z", 1));
    PT_ASSERT_OK(pond_arrow_builder_finish(st->children[1], b));
    pond_arrow_builder_free(b);

    PT_ASSERT_OK(pond_arrow_array_validate(&s, &batch));
    pond_buf out = POND_BUF_INIT;
    PT_ASSERT_OK(pond_arrow_canon_batch(&out, &s, &batch));
    PT_ASSERT_STR_EQ(out.ptr, "[i1,i2]\t{\"a\":\"x\",\"b\":i10}\n"
                              "[]\t{\"a\":\"y\",\"b\":i11}\n"
                              "N\t{\"a\":\"z\",\"b\":i12}\n");
    pond_buf_dispose(&out);

    /* decreasing offsets and an offset past the child are caught */
    lo[2] = 1;
    PT_ASSERT_ERR(pond_arrow_array_validate(&s, &batch), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("offsets decrease");
    lo[2] = 2;
    lo[3] = 5;
    PT_ASSERT_ERR(pond_arrow_array_validate(&s, &batch), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("shorter");
    lo[3] = 2;
    /* a short struct child */
    st->children[0]->length = 2;
    PT_ASSERT_ERR(pond_arrow_array_validate(&s, &batch), POND_ECORRUPT);
    st->children[0]->length = 3;
    PT_ASSERT_OK(pond_arrow_array_validate(&s, &batch));

    /* move a child out: the parent's release leaves it alone */
    struct ArrowArray moved;
    pond_arrow_array_move(&moved, batch.children[1]);
    PT_ASSERT(batch.children[1]->release == NULL);
    pond_arrow_array_release(&batch);
    PT_ASSERT_INT_EQ(moved.length, 3);
    pond_arrow_array_release(&moved);
    pond_arrow_schema_release(&s);
}

static int stream_calls;
static void fake_stream_release(struct ArrowArrayStream *s)
{
    stream_calls++;
    s->release = NULL;
}

static void test_stream_move_release(void)
{
    struct ArrowArrayStream a = {0}, b;
    a.release = fake_stream_release;
    pond_arrow_stream_move(&b, &a);
    PT_ASSERT(a.release == NULL);
    pond_arrow_stream_release(&a);
    PT_ASSERT_INT_EQ(stream_calls, 0);
    pond_arrow_stream_release(&b);
    PT_ASSERT_INT_EQ(stream_calls, 1);
    pond_arrow_stream_release(&b);
    PT_ASSERT_INT_EQ(stream_calls, 1);
}

static int build_some(void *arg)
{
    (void)arg;
    pond_arrow_builder *b = NULL;
    struct ArrowArray a;
    struct ArrowSchema s;
    int rc = pond_arrow_builder_new(&b, "u");
    for (int i = 0; rc == 0 && i < 50; i++)
        rc = i % 7 ? pond_arrow_builder_append_bytes(b, "hello", 5)
                   : pond_arrow_builder_append_null(b);
    if (rc == 0)
        rc = pond_arrow_builder_finish(&a, b);
    pond_arrow_builder_free(b);
    if (rc < 0)
        return rc;
    rc = pond_arrow_schema_init(&s, "u", "s", ARROW_FLAG_NULLABLE, 0);
    if (rc == 0) {
        struct ArrowSchema c;
        rc = pond_arrow_schema_copy(&c, &s);
        pond_arrow_schema_release(&c);
    }
    if (rc == 0)
        rc = pond_arrow_array_validate(&s, &a);
    pond_arrow_schema_release(&s);
    pond_arrow_array_release(&a);
    return rc;
}

static void test_alloc_faults(void)
{
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, build_some, NULL);
    PT_ASSERT(steps > 3);
}

/* A column missing from an older version: n nulls of its flat type, valid; nested refused by
 * name. */
static void test_nulls_of_type(void)
{
    const char *fmts[] = {"l", "g", "u", "b", "tsu:UTC", "w:4"};
    for (size_t k = 0; k < sizeof fmts / sizeof *fmts; k++) {
        struct ArrowSchema s;
        struct ArrowArray a;
        PT_ASSERT_OK(pond_arrow_schema_init(&s, fmts[k], "gone", ARROW_FLAG_NULLABLE, 0));
        PT_ASSERT_OK(pond_arrow_nulls(&a, &s, 37));
        PT_ASSERT_INT_EQ(a.length, 37);
        PT_ASSERT_INT_EQ(a.null_count, 37);
        PT_ASSERT_OK(pond_arrow_array_validate(&s, &a));
        pond_arrow_array_release(&a);
        pond_arrow_schema_release(&s);
    }
    struct ArrowSchema list;
    PT_ASSERT_OK(pond_arrow_schema_init(&list, "+l", "readings", ARROW_FLAG_NULLABLE, 1));
    PT_ASSERT_OK(pond_arrow_schema_init(list.children[0], "g", "item", ARROW_FLAG_NULLABLE, 0));
    struct ArrowArray a;
    PT_ASSERT_ERR(pond_arrow_nulls(&a, &list, 3), POND_EUNSUPPORTED);
    PT_ASSERT_MSG_HAS("column 'readings'");
    pond_arrow_schema_release(&list);
}

PT_SUITE(arrow, PT_TEST(format_parse), PT_TEST(schema_release_move_copy),
         PT_TEST(builder_ints_validity), PT_TEST(builder_ranges_and_types), PT_TEST(canon_leaves),
         PT_TEST(js_double_format), PT_TEST(nested_canon_and_validate),
         PT_TEST(stream_move_release), PT_TEST(alloc_faults), PT_TEST(nulls_of_type))
