/* The one stream ownership rule (docs/api.md, "Streams"): a function taking an input
 * ArrowArrayStream consumes it, released exactly once when the function returns, on success
 * and on failure alike. Each case counts the releases of a stream of our own. */
#include "pt.h"

#include <pond/arrow.h>
#include <pond/arrow_ipc.h>
#include <pond/buf.h>
#include <pond/rows.h>
#include <pond/table.h>
#include <pond/tinyfs.h>

#include <errno.h>
#include <string.h>

typedef struct {
    int releases;
    int next_calls;
    bool fail; /* get_next fails (EIO) instead of giving the batch */
} counted;

static void v_schema(struct ArrowSchema *out)
{
    PT_ASSERT_OK(pond_arrow_schema_init(out, "+s", "", 0, 1));
    PT_ASSERT_OK(pond_arrow_schema_init(out->children[0], "l", "v", ARROW_FLAG_NULLABLE, 0));
}

static void v_batch(struct ArrowArray *out)
{
    PT_ASSERT_OK(pond_arrow_array_init(out, 3, 0, 1, 1));
    pond_arrow_builder *b;
    PT_ASSERT_OK(pond_arrow_builder_new(&b, "l"));
    for (int i = 0; i < 3; i++)
        PT_ASSERT_OK(pond_arrow_builder_append_int(b, 10 + i));
    PT_ASSERT_OK(pond_arrow_builder_finish(out->children[0], b));
    pond_arrow_builder_free(b);
}

static int c_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    (void)s;
    v_schema(out);
    return 0;
}

static int c_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    counted *c = s->private_data;
    memset(out, 0, sizeof *out);
    if (c->fail)
        return EIO;
    if (c->next_calls++ == 0)
        v_batch(out);
    return 0;
}

static const char *c_err(struct ArrowArrayStream *s)
{
    counted *c = s->private_data;
    return c->fail ? "the source broke" : NULL;
}

static void c_release(struct ArrowArrayStream *s)
{
    counted *c = s->private_data;
    c->releases++;
    s->release = NULL;
}

static struct ArrowArrayStream counted_stream(counted *c)
{
    return (struct ArrowArrayStream){c_schema, c_next, c_err, c_release, c};
}

#define PT_ASSERT_CONSUMED(st, c)                                                                  \
    do {                                                                                           \
        PT_ASSERT((st).release == NULL);                                                           \
        PT_ASSERT_INT_EQ((c).releases, 1);                                                         \
    } while (0)

static int sink_ok(const void *data, size_t len, void *payload)
{
    return pond_buf_put(payload, data, len);
}

static int sink_full(const void *data, size_t len, void *payload)
{
    (void)data;
    (void)len;
    (void)payload;
    return pond_error_set(POND_ERROR, POND_DOM_NONE, "the sink is full");
}

static void test_table_write_stream(void)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&be));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));

    counted c = {0};
    struct ArrowArrayStream st = counted_stream(&c);
    int64_t rows = 0;
    PT_ASSERT_OK(pond_table_write_stream(&rows, fs, NULL, "/t", POND_ENTRY_FILE_TABLE, &st, NULL));
    PT_ASSERT_INT_EQ(rows, 3);
    PT_ASSERT_CONSUMED(st, c);

    /* failing before the stream is read: a missing parent */
    c = (counted){0};
    st = counted_stream(&c);
    PT_ASSERT(pond_table_write_stream(NULL, fs, NULL, "/no/such/t", POND_ENTRY_FILE_TABLE, &st,
                                      NULL) < 0);
    PT_ASSERT_CONSUMED(st, c);

    /* failing on the arguments: not a table type */
    c = (counted){0};
    st = counted_stream(&c);
    PT_ASSERT_ERR(pond_table_write_stream(NULL, fs, NULL, "/d", POND_ENTRY_FILE_DATA, &st, NULL),
                  POND_EINVALID);
    PT_ASSERT_CONSUMED(st, c);

    /* failing while reading it: the source's error, and nothing written */
    c = (counted){.fail = true};
    st = counted_stream(&c);
    PT_ASSERT(pond_table_write_stream(NULL, fs, NULL, "/t", POND_ENTRY_FILE_TABLE, &st, NULL) < 0);
    PT_ASSERT_MSG_HAS("the source broke");
    PT_ASSERT_CONSUMED(st, c);
    pond_stat sst;
    PT_ASSERT_OK(pond_fs_stat(&sst, fs, NULL, "/t"));
    PT_ASSERT_INT_EQ(sst.version, 1);

    /* the node form, with no node */
    c = (counted){0};
    st = counted_stream(&c);
    PT_ASSERT_ERR(pond_table_node_write_stream(NULL, NULL, POND_ENTRY_FILE_TABLE, &st, NULL),
                  POND_EINVALID);
    PT_ASSERT_CONSUMED(st, c);

    pond_fs_abort(fs);
    pond_fs_free(fs);
    pond_backend_free(be);
}

static void test_prefetch(void)
{
    counted c = {0};
    struct ArrowArrayStream in = counted_stream(&c), out;
    PT_ASSERT_OK(pond_arrow_stream_prefetch(&out, &in));
    PT_ASSERT(in.release == NULL); /* moved into out */
    struct ArrowArray b;
    PT_ASSERT_INT_EQ(out.get_next(&out, &b), 0);
    PT_ASSERT_INT_EQ(b.length, 3);
    pond_arrow_array_release(&b);
    PT_ASSERT_INT_EQ(c.releases, 0);
    out.release(&out);
    PT_ASSERT_INT_EQ(c.releases, 1);

    /* failure (the allocation of the wrapper): in is released, not handed back */
    c = (counted){0};
    in = counted_stream(&c);
    pond_alloc_fail_at(1, false);
    int rc = pond_arrow_stream_prefetch(&out, &in);
    pond_alloc_fail_at(0, false);
    PT_ASSERT_INT_EQ(rc, POND_ENOMEM);
    PT_ASSERT_CONSUMED(in, c);
    PT_ASSERT(out.release == NULL);
}

static void test_from_batches_failure_takes_batches(void)
{
    struct ArrowSchema s;
    struct ArrowArray b[2];
    v_schema(&s);
    v_batch(&b[0]);
    v_batch(&b[1]);
    struct ArrowArrayStream st;
    pond_alloc_fail_at(1, false);
    int rc = pond_arrow_stream_from_batches(&st, &s, b, 2);
    pond_alloc_fail_at(0, false);
    PT_ASSERT_INT_EQ(rc, POND_ENOMEM);
    PT_ASSERT(b[0].release == NULL && b[1].release == NULL);
    pond_arrow_schema_release(&s);
}

static void test_output_functions(void)
{
    pond_buf out = POND_BUF_INIT;
    counted c = {0};
    struct ArrowArrayStream st = counted_stream(&c);
    int64_t rows = 0;
    PT_ASSERT_OK(pond_rows_write_stream(&rows, NULL, &st, POND_ROWS_CSV, NULL, sink_ok, &out));
    PT_ASSERT_INT_EQ(rows, 3);
    PT_ASSERT_CONSUMED(st, c);
    PT_ASSERT(out.size > 0 && !memcmp(out.ptr, "v\n10\n", 5));

    c = (counted){0};
    st = counted_stream(&c);
    PT_ASSERT(pond_rows_write_stream(NULL, NULL, &st, POND_ROWS_CSV, NULL, sink_full, NULL) < 0);
    PT_ASSERT_MSG_HAS("the sink is full");
    PT_ASSERT_CONSUMED(st, c);

    c = (counted){.fail = true};
    st = counted_stream(&c);
    PT_ASSERT_ERR(pond_rows_write_stream(NULL, NULL, &st, POND_ROWS_JSON, NULL, sink_ok, &out),
                  POND_EIO);
    PT_ASSERT_MSG_HAS("the source broke");
    PT_ASSERT_CONSUMED(st, c);

    pond_output_result res;
    for (int f = 0; f < 2; f++) {
        pond_output_format fmt = f ? POND_OUTPUT_PARQUET : POND_OUTPUT_TABLE;
        c = (counted){0};
        st = counted_stream(&c);
        pond_buf_clear(&out);
        PT_ASSERT_OK(pond_stream_output(&res, &st, fmt, NULL, sink_ok, &out));
        PT_ASSERT_INT_EQ(res.rows, 3);
        PT_ASSERT_CONSUMED(st, c);
        c = (counted){0};
        st = counted_stream(&c);
        PT_ASSERT(pond_stream_output(&res, &st, fmt, NULL, sink_full, NULL) < 0);
        PT_ASSERT_CONSUMED(st, c);
    }

    c = (counted){0};
    st = counted_stream(&c);
    PT_ASSERT_OK(pond_arrow_ipc_write_stream(&rows, &st, sink_ok, &out));
    PT_ASSERT_INT_EQ(rows, 3);
    PT_ASSERT_CONSUMED(st, c);
    c = (counted){.fail = true};
    st = counted_stream(&c);
    PT_ASSERT_ERR(pond_arrow_ipc_write_stream(NULL, &st, sink_ok, &out), POND_EIO);
    PT_ASSERT_CONSUMED(st, c);
    pond_buf_dispose(&out);
}

PT_SUITE(stream_rule, PT_TEST(table_write_stream), PT_TEST(prefetch),
         PT_TEST(from_batches_failure_takes_batches), PT_TEST(output_functions))
