/* Writers and a backend's content sink (vtable version 2): content past the spill threshold
 * streams into the sink, nothing spills, the sink's blob is what the node version holds. The
 * backend here wraps the memory backend and adds a sink that records what it receives. */
#include "tinyfs/tinyfs_test.h"

#include <pond/alloc.h>
#include <pond/errors.h>
#include <pond/hash.h>
#include <pond/sys/os.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    pond_backend parent; /* must be first */
    pond_backend *inner;
    int opened, finished, discarded, writes;
    int fail_write_at; /* > 0: that write (1-based, counted per backend) fails with EIO */
    bool unsupported;  /* open_sink answers POND_EUNSUPPORTED */
    pond_entry_type last_type;
} sink_be;

typedef struct {
    pond_content_sink base; /* must be first */
    sink_be *be;
    pond_buf data;
    bool finished;
} fake_sink;

/* The blob a fake sink finishes into: its own copy of the bytes. */
typedef struct {
    char *data;
    size_t len;
} fake_src;

static int src_pread(void *impl, void *buf, size_t len, int64_t off, size_t *n_out)
{
    fake_src *s = impl;
    size_t avail = (size_t)off >= s->len ? 0 : s->len - (size_t)off;
    size_t n = len < avail ? len : avail;
    memcpy(buf, s->data + off, n);
    *n_out = n;
    return 0;
}

static void src_free(void *impl)
{
    fake_src *s = impl;
    pond_free(s->data);
    pond_free(s);
}

static const pond_reader_ops SRC_OPS = {src_pread, src_free};

static int fs_write(pond_content_sink *s, const void *buf, size_t len)
{
    fake_sink *f = (fake_sink *)s;
    if (++f->be->writes == f->be->fail_write_at)
        return pond_error_set(POND_EIO, POND_DOM_TINYFS, "fake sink: write %d fails",
                              f->be->writes);
    return pond_buf_put(&f->data, buf, len);
}

static int fs_finish(pond_blob **out, pond_content_sink *s)
{
    fake_sink *f = (fake_sink *)s;
    fake_src *src = pond_calloc(1, sizeof *src);
    if (!src)
        return POND_ENOMEM;
    pond_hash h;
    int rc = pond_sha256_buf(&h, f->data.ptr ? f->data.ptr : "", f->data.size);
    if (rc < 0) {
        pond_free(src);
        return rc;
    }
    src->len = f->data.size;
    src->data = pond_buf_detach(&f->data);
    f->finished = true;
    f->be->finished++;
    return pond_blob_from_source(out, (int64_t)src->len, &h, &SRC_OPS, src);
}

static void fs_free(pond_content_sink *s)
{
    fake_sink *f = (fake_sink *)s;
    if (!f->finished)
        f->be->discarded++;
    pond_buf_dispose(&f->data);
    pond_free(f);
}

static int sb_open_sink(pond_content_sink **out, pond_backend *be, pond_entry_type type)
{
    sink_be *sb = (sink_be *)be;
    *out = NULL;
    if (sb->unsupported)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_TINYFS, "no sink today");
    fake_sink *f = pond_calloc(1, sizeof *f);
    if (!f)
        return POND_ENOMEM;
    f->base = (pond_content_sink){fs_write, fs_finish, fs_free};
    f->be = sb;
    sb->opened++;
    sb->last_type = type;
    *out = &f->base;
    return 0;
}

#define INNER(be) (((sink_be *)(be))->inner)
static int sb_latest(pond_node_rec **out, pond_backend *be, const pond_node_id *id)
{
    return INNER(be)->latest(out, INNER(be), id);
}
static int sb_get_version(pond_node_rec **out, pond_backend *be, const pond_node_id *id, int64_t v)
{
    return INNER(be)->get_version(out, INNER(be), id, v);
}
static int sb_list_versions(pond_node_rec ***out, size_t *n, pond_backend *be,
                            const pond_node_id *id)
{
    return INNER(be)->list_versions(out, n, INNER(be), id);
}
static int sb_open_content(pond_reader **out, pond_backend *be, const pond_node_rec *rec)
{
    return INNER(be)->open_content(out, INNER(be), rec);
}
static int sb_last_txn(int64_t *out, pond_backend *be)
{
    return INNER(be)->last_txn(out, INNER(be));
}
static int sb_commit(pond_backend *be, const pond_backend_txn_info *info,
                     pond_node_rec *const *recs, size_t n)
{
    return INNER(be)->commit(INNER(be), info, recs, n);
}
static void sb_free(pond_backend *be)
{
    pond_backend_free(INNER(be));
    pond_free(be);
}

typedef struct {
    sink_be *sb;
    pond_fs *fs;
} sfs;

static sfs sfs_open(size_t threshold)
{
    sfs t = {NULL, NULL};
    t.sb = pond_calloc(1, sizeof *t.sb);
    PT_ASSERT(t.sb);
    PT_ASSERT_OK(pond_backend_memory_new(&t.sb->inner));
    t.sb->parent = (pond_backend){.version = POND_BACKEND_VERSION,
                                  .name = "sink-test",
                                  .latest = sb_latest,
                                  .get_version = sb_get_version,
                                  .list_versions = sb_list_versions,
                                  .open_content = sb_open_content,
                                  .last_txn = sb_last_txn,
                                  .commit = sb_commit,
                                  .free = sb_free,
                                  .open_sink = sb_open_sink};
    pond_fs_options o = POND_FS_OPTIONS_INIT;
    o.spill_threshold = threshold;
    o.tmp_dir = PT_TMPDIR();
    PT_ASSERT_OK(pond_fs_open(&t.fs, &t.sb->parent, &o));
    return t;
}

static void sfs_close(sfs *t)
{
    pond_fs_free(t->fs);
    pond_backend_free(&t->sb->parent);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i + seed) * 2654435761u >> 11);
}

/* Reads the whole file and compares it with want. */
static void expect_file(pond_fs *fs, const char *path, const unsigned char *want, size_t len)
{
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, fs, NULL, path));
    PT_ASSERT_INT_EQ(b.size, len);
    int same = len == 0 || memcmp(b.ptr, want, len) == 0;
    pond_buf_dispose(&b);
    PT_ASSERT(same);
}

/* Counts creating opens under the test's temporary directory (where spill files would go). */
static int g_tmp_creates;
static void count_creates(pond_os_call call, const char *path, const char *path2, int fd,
                          int64_t off, const void *data, size_t len, long rc, void *payload)
{
    (void)path2, (void)fd, (void)off, (void)data, (void)len, (void)rc;
    if (call == POND_OS_OPEN && path && strncmp(path, payload, strlen(payload)) == 0)
        g_tmp_creates++;
}

/* Up to the threshold the content stays in memory (no sink); one byte more and every byte
 * goes to the sink, in order, and nothing spills. */
static void test_sink_at_threshold(void)
{
    const size_t T = 4096;
    unsigned char data[3 * 4096 + 100];
    fill(data, sizeof data, 1);
    sfs t = sfs_open(T);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/exact", POND_ENTRY_FILE_TABLE, data, T));
    PT_ASSERT_INT_EQ(t.sb->opened, 0);
    g_tmp_creates = 0;
    pond_os_set_trace(count_creates, (void *)PT_TMPDIR());
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/over", POND_ENTRY_FILE_TABLE));
    PT_ASSERT_OK(pond_writer_write(w, data, 1000));
    PT_ASSERT_OK(pond_writer_write(w, data + 1000, T - 1000));
    PT_ASSERT_INT_EQ(t.sb->opened, 0); /* exactly T bytes: still in memory */
    PT_ASSERT_OK(pond_writer_write(w, data + T, 1));
    PT_ASSERT_INT_EQ(t.sb->opened, 1);
    PT_ASSERT_INT_EQ(t.sb->last_type, POND_ENTRY_FILE_TABLE);
    PT_ASSERT_OK(pond_writer_write(w, data + T + 1, sizeof data - T - 1));
    PT_ASSERT_INT_EQ(pond_writer_size(w), (int64_t)sizeof data);
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    pond_os_set_trace(NULL, NULL);
    PT_ASSERT_INT_EQ(g_tmp_creates, 0); /* no spill file */
    PT_ASSERT_INT_EQ(t.sb->finished, 1);
    PT_ASSERT_INT_EQ(t.sb->discarded, 0);
    /* both read back in the transaction and after it, with the same attributes */
    expect_file(t.fs, "/over", data, sizeof data);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    expect_file(t.fs, "/exact", data, T);
    expect_file(t.fs, "/over", data, sizeof data);
    pond_stat a, b;
    PT_ASSERT_OK(pond_fs_stat(&a, t.fs, NULL, "/exact"));
    PT_ASSERT_OK(pond_fs_stat(&b, t.fs, NULL, "/over"));
    PT_ASSERT_INT_EQ(a.type, POND_ENTRY_FILE_TABLE);
    PT_ASSERT_INT_EQ(b.type, POND_ENTRY_FILE_TABLE);
    PT_ASSERT_INT_EQ(a.version, b.version);
    PT_ASSERT_INT_EQ(b.size, (int64_t)sizeof data);
    pond_hash want;
    PT_ASSERT_OK(pond_sha256_buf(&want, data, sizeof data));
    PT_ASSERT(pond_hash_equal(&b.sha256, &want));
    PT_ASSERT_OK(pond_sha256_buf(&want, data, T));
    PT_ASSERT(pond_hash_equal(&a.sha256, &want));
    sfs_close(&t);
}

/* A single write larger than the threshold goes to the sink at once, buffer included. */
static void test_sink_big_first_write(void)
{
    size_t len = 100000;
    unsigned char *data = malloc(len);
    PT_ASSERT(data);
    fill(data, len, 2);
    sfs t = sfs_open(1024);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/a", POND_ENTRY_FILE_DATA));
    PT_ASSERT_OK(pond_writer_write(w, data, 10));
    PT_ASSERT_OK(pond_writer_write(w, data + 10, len - 10));
    PT_ASSERT_INT_EQ(t.sb->writes, 2); /* the 10 buffered bytes, then the big write as is */
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    expect_file(t.fs, "/a", data, len);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    expect_file(t.fs, "/a", data, len);
    free(data);
    sfs_close(&t);
}

/* A failing sink write sticks; the sink is discarded, nothing is published. */
static void test_sink_write_error(void)
{
    unsigned char data[8192];
    fill(data, sizeof data, 3);
    sfs t = sfs_open(1024);
    t.sb->fail_write_at = 3;
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/a", POND_ENTRY_FILE_DATA));
    PT_ASSERT_OK(pond_writer_write(w, data, 2000)); /* opens the sink: write 1 */
    PT_ASSERT_OK(pond_writer_write(w, data, 2000)); /* write 2 */
    PT_ASSERT_ERR(pond_writer_write(w, data, 2000), POND_EIO);
    PT_ASSERT_MSG_HAS("fake sink");
    PT_ASSERT_ERR(pond_writer_write(w, data, 1), POND_EIO); /* sticky */
    PT_ASSERT(pond_writer_finish(w) < 0);
    pond_writer_free(w);
    PT_ASSERT_INT_EQ(t.sb->discarded, 1);
    PT_ASSERT_INT_EQ(t.sb->finished, 0);
    pond_stat st;
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/a"), POND_ENOTFOUND);
    pond_fs_abort(t.fs);
    sfs_close(&t);
}

/* Aborting the transaction: the next write fails and discards the sink at once; a writer
 * freed unfinished discards it too; a finished one leaves a blob the abort drops. */
static void test_sink_abort(void)
{
    unsigned char data[8192];
    fill(data, sizeof data, 4);
    sfs t = sfs_open(1024);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/a", POND_ENTRY_FILE_DATA));
    PT_ASSERT_OK(pond_writer_write(w, data, sizeof data));
    PT_ASSERT_INT_EQ(t.sb->opened, 1);
    pond_fs_abort(t.fs);
    PT_ASSERT_INT_EQ(t.sb->discarded, 0);
    PT_ASSERT_ERR(pond_writer_write(w, data, 10), POND_ETXN);
    PT_ASSERT_INT_EQ(t.sb->discarded, 1); /* dropped by the write, before the writer is freed */
    PT_ASSERT_ERR(pond_writer_finish(w), POND_ETXN);
    pond_writer_free(w);
    /* freed unfinished */
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/a", POND_ENTRY_FILE_DATA));
    PT_ASSERT_OK(pond_writer_write(w, data, sizeof data));
    pond_writer_free(w);
    PT_ASSERT_INT_EQ(t.sb->discarded, 2);
    /* aborted with the writer finished: the content goes with the overlay */
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/a", POND_ENTRY_FILE_DATA));
    PT_ASSERT_OK(pond_writer_write(w, data, sizeof data));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_INT_EQ(t.sb->finished, 1);
    pond_fs_abort(t.fs);
    pond_stat st;
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/a"), POND_ENOTFOUND);
    /* a writer without a sink behaves the same way after an abort */
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/b", POND_ENTRY_FILE_DATA));
    PT_ASSERT_OK(pond_writer_write(w, data, 10));
    pond_fs_abort(t.fs);
    PT_ASSERT_ERR(pond_writer_write(w, data, 10), POND_ETXN);
    PT_ASSERT_ERR(pond_writer_finish(w), POND_ETXN);
    pond_writer_free(w);
    sfs_close(&t);
}

/* A backend that declines the sink (POND_EUNSUPPORTED) gets the spill path. */
static void test_sink_declined_spills(void)
{
    size_t len = 50000;
    unsigned char *data = malloc(len);
    PT_ASSERT(data);
    fill(data, len, 5);
    sfs t = sfs_open(1024);
    t.sb->unsupported = true;
    g_tmp_creates = 0;
    pond_os_set_trace(count_creates, (void *)PT_TMPDIR());
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/a", POND_ENTRY_FILE_DATA, data, len));
    pond_os_set_trace(NULL, NULL);
    PT_ASSERT_INT_EQ(g_tmp_creates, 1); /* one spill file */
    PT_ASSERT_INT_EQ(tmp_entries(), 0); /* unlinked at once */
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    expect_file(t.fs, "/a", data, len);
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/a"));
    pond_hash want;
    PT_ASSERT_OK(pond_sha256_buf(&want, data, len));
    PT_ASSERT(pond_hash_equal(&st.sha256, &want));
    free(data);
    sfs_close(&t);
}

/* Interface versions: 0, the versions before pond_dir_entry gained part_id (1 and 2: their
 * listings are laid out differently) and the next one are refused; a source blob is recognised
 * only by its own ops. */
static void test_sink_versions_and_sources(void)
{
    sfs t = sfs_open(1024);
    pond_fs *fs = NULL;
    for (unsigned v = 0; v < POND_BACKEND_VERSION_MIN; v++) {
        t.sb->parent.version = v;
        PT_ASSERT_ERR(pond_fs_open(&fs, &t.sb->parent, NULL), POND_EUNSUPPORTED);
    }
    PT_ASSERT_INT_EQ(POND_BACKEND_VERSION_MIN, 3);
    t.sb->parent.version = POND_BACKEND_VERSION + 1;
    PT_ASSERT_ERR(pond_fs_open(&fs, &t.sb->parent, NULL), POND_EUNSUPPORTED);
    PT_ASSERT_MSG_HAS("interface version");
    t.sb->parent.version = POND_BACKEND_VERSION;
    fake_src *src = pond_calloc(1, sizeof *src);
    PT_ASSERT(src);
    src->data = pond_strdup("hello");
    src->len = 5;
    pond_hash h;
    PT_ASSERT_OK(pond_sha256_buf(&h, "hello", 5));
    pond_blob *b = NULL;
    PT_ASSERT_OK(pond_blob_from_source(&b, 5, &h, &SRC_OPS, src));
    PT_ASSERT(pond_blob_source(b, &SRC_OPS) == src);
    static const pond_reader_ops other = {src_pread, NULL};
    PT_ASSERT(pond_blob_source(b, &other) == NULL);
    PT_ASSERT(!pond_blob_is_file(b));
    char got[8];
    size_t n = 0;
    PT_ASSERT_OK(pond_blob_pread(b, got, sizeof got, 1, &n));
    PT_ASSERT_INT_EQ(n, 4);
    PT_ASSERT_MEM_EQ(got, "ello", 4);
    pond_blob *heap = NULL;
    PT_ASSERT_OK(pond_blob_from_buf(&heap, "x", 1));
    PT_ASSERT(pond_blob_source(heap, &SRC_OPS) == NULL);
    pond_blob_unref(heap);
    pond_blob_unref(b); /* frees src through its ops */
    sfs_close(&t);
}

/* Allocation failures anywhere on the sink path: an error, never a leak or a crash. */
static int alloc_body(void *arg)
{
    (void)arg;
    static unsigned char data[6000];
    fill(data, sizeof data, 6);
    sink_be *sb = pond_calloc(1, sizeof *sb);
    if (!sb)
        return POND_ENOMEM;
    int rc = pond_backend_memory_new(&sb->inner);
    if (rc < 0) {
        pond_free(sb);
        return rc;
    }
    sb->parent = (pond_backend){.version = POND_BACKEND_VERSION,
                                .latest = sb_latest,
                                .get_version = sb_get_version,
                                .list_versions = sb_list_versions,
                                .open_content = sb_open_content,
                                .last_txn = sb_last_txn,
                                .commit = sb_commit,
                                .free = sb_free,
                                .open_sink = sb_open_sink};
    pond_fs *fs = NULL;
    pond_buf b = POND_BUF_INIT;
    pond_fs_options o = POND_FS_OPTIONS_INIT;
    o.spill_threshold = 1024;
    o.tmp_dir = PT_TMPDIR();
    if ((rc = pond_fs_open(&fs, &sb->parent, &o)) == 0 && (rc = pond_fs_begin(fs, NULL)) == 0 &&
        (rc = pond_fs_write_all(fs, NULL, "/a", POND_ENTRY_FILE_DATA, data, sizeof data)) == 0 &&
        (rc = pond_fs_commit(NULL, fs)) == 0 && (rc = pond_fs_read_all(&b, fs, NULL, "/a")) == 0 &&
        (b.size != sizeof data || memcmp(b.ptr, data, sizeof data) != 0))
        rc = pond_error_set(POND_ERROR, POND_DOM_TINYFS, "content differs");
    if (rc == 0 && sb->discarded != 0)
        rc = pond_error_set(POND_ERROR, POND_DOM_TINYFS, "a sink was discarded");
    pond_buf_dispose(&b);
    pond_fs_free(fs);
    pond_backend_free(&sb->parent);
    return rc;
}

static void test_sink_alloc_faults(void)
{
    size_t before = pond_alloc_current();
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, alloc_body, NULL);
    printf("  sink alloc fault loop: %llu allocations, each failed once\n",
           (unsigned long long)steps - 1);
    PT_ASSERT(steps > 10);
    PT_ASSERT_INT_EQ(pond_alloc_current(), before);
}

PT_SUITE(tinyfs_sink, PT_TEST(sink_at_threshold), PT_TEST(sink_big_first_write),
         PT_TEST(sink_write_error), PT_TEST(sink_abort), PT_TEST(sink_declined_spills),
         PT_TEST(sink_versions_and_sources), PT_TEST(sink_alloc_faults))
