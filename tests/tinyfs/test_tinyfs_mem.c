/* The memory backend: the conformance suite, allocation-failure loops, and its specifics. */
#include "tinyfs_test.h"

#include "conformance/backend_conformance.h"

static int mem_factory(pond_backend **out, void *payload)
{
    (void)payload;
    return pond_backend_memory_new(out);
}

__attribute__((constructor)) static void register_conformance(void)
{
    conformance_register("tinyfs_conformance_mem", mem_factory, NULL, NULL);
}

/* create-write-finish-read, with every allocation along the way failing in turn. */
static int fault_body(void *arg)
{
    const char *tmp = arg;
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    pond_writer *w = NULL;
    pond_reader *r = NULL;
    pond_buf b = POND_BUF_INIT;
    int rc;
    static const char data[] = "0123456789abcdefghijklmnopqrstuvwxyz0123456789";
    if ((rc = pond_backend_memory_new(&be)) < 0)
        goto done;
    pond_fs_options o = POND_FS_OPTIONS_INIT;
    o.spill_threshold = 16; /* the spill path is on the way too */
    o.tmp_dir = tmp;
    if ((rc = pond_fs_open(&fs, be, &o)) < 0 || (rc = pond_fs_begin(fs, "{}")) < 0 ||
        (rc = pond_fs_mkdir(fs, NULL, "/a/b", POND_FS_MKDIR_PARENTS)) < 0 ||
        (rc = pond_fs_create(fs, NULL, "/a/b/empty", POND_ENTRY_FILE_DATA)) < 0 ||
        (rc = pond_fs_open_writer(&w, fs, NULL, "/a/b/f", POND_ENTRY_NONE)) < 0 ||
        (rc = pond_writer_write(w, data, 10)) < 0 ||
        (rc = pond_writer_write(w, data + 10, sizeof data - 10)) < 0 ||
        (rc = pond_writer_finish(w)) < 0 || (rc = pond_fs_symlink(fs, NULL, "b/f", "/a/l")) < 0 ||
        (rc = pond_fs_commit(NULL, fs)) < 0)
        goto done;
    if ((rc = pond_fs_open_reader(&r, fs, NULL, "/a/l")) < 0 ||
        (rc = pond_fs_read_all(&b, fs, NULL, "/a/b/f")) < 0)
        goto done;
    if (b.size != sizeof data || memcmp(b.ptr, data, sizeof data) != 0)
        rc = pond_error_set(POND_ERROR, POND_DOM_TINYFS, "content differs");
    if (pond_reader_size(r) != (int64_t)sizeof data)
        rc = pond_error_set(POND_ERROR, POND_DOM_TINYFS, "reader size differs");
done:
    pond_buf_dispose(&b);
    pond_reader_free(r);
    pond_writer_free(w);
    pond_fs_free(fs);
    pond_backend_free(be);
    return rc;
}

static void test_alloc_fault_loop(void)
{
    size_t before = pond_alloc_current();
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, fault_body, (void *)PT_TMPDIR());
    printf("  alloc fault loop: %llu allocations, each failed once\n",
           (unsigned long long)steps - 1);
    PT_ASSERT(steps > 20);
    PT_ASSERT_INT_EQ(pond_alloc_current(), before); /* nothing leaked on any path */
    PT_ASSERT_INT_EQ(tmp_entries(), 0);
}

static int count_cb(const char *path, const pond_stat *st, const char *const *caps, size_t n,
                    void *payload)
{
    (void)path, (void)st, (void)caps, (void)n;
    ++*(int *)payload;
    return 0;
}

/* The namespace operations, with every allocation along the way failing in turn. */
static int ns_fault_body(void *arg)
{
    (void)arg;
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    pond_wd *wd = NULL;
    pond_fs_dirent *e = NULL;
    pond_stat *v = NULL;
    size_t n = 0, nv = 0;
    char *target = NULL, *x = NULL;
    int count = 0, rc;
    if ((rc = pond_backend_memory_new(&be)) < 0 || (rc = pond_fs_open(&fs, be, NULL)) < 0 ||
        (rc = pond_fs_begin(fs, NULL)) < 0 ||
        (rc = pond_fs_mkdir(fs, NULL, "/a/b/c", POND_FS_MKDIR_PARENTS)) < 0 ||
        (rc = pond_fs_write_all(fs, NULL, "/a/b/f.csv", POND_ENTRY_NONE, "1", 1)) < 0 ||
        (rc = pond_fs_commit(NULL, fs)) < 0 || (rc = pond_fs_begin(fs, NULL)) < 0 ||
        (rc = pond_fs_write_all(fs, NULL, "/a/b/f.csv", POND_ENTRY_NONE, "22", 2)) < 0 ||
        (rc = pond_fs_symlink(fs, NULL, "b", "/a/l")) < 0 ||
        (rc = pond_wd_open(&wd, fs, NULL, "/a/l")) < 0 ||
        (rc = pond_fs_rename(fs, wd, "f.csv", "/a/g.csv")) < 0 ||
        (rc = pond_fs_set_xattrs(fs, NULL, "/a/g.csv", "{}")) < 0 ||
        (rc = pond_fs_get_xattrs(&x, fs, NULL, "/a/g.csv")) < 0 ||
        (rc = pond_fs_readlink(&target, fs, NULL, "/a/l")) < 0 ||
        (rc = pond_fs_glob(fs, NULL, "/**/[fg]*.csv", count_cb, &count)) < 0 ||
        (rc = pond_fs_readdir(&e, &n, fs, NULL, "/a")) < 0 ||
        (rc = pond_fs_versions(&v, &nv, fs, NULL, "/a/g.csv")) < 0 ||
        (rc = pond_fs_remove(fs, NULL, "/a/b", true)) < 0 || (rc = pond_fs_commit(NULL, fs)) < 0)
        goto done;
    if (count != 1 || n != 3 || nv != 2 || strcmp(target, "b") != 0)
        rc = pond_error_set(POND_ERROR, POND_DOM_TINYFS, "wrong results: %d %zu %zu", count, n, nv);
done:
    pond_free(x);
    pond_free(target);
    pond_free(v);
    pond_fs_dirents_free(e, n);
    pond_wd_free(wd);
    pond_fs_free(fs);
    pond_backend_free(be);
    return rc;
}

static void test_alloc_fault_loop_namespace(void)
{
    size_t before = pond_alloc_current();
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, ns_fault_body, NULL);
    PT_ASSERT(steps > 50);
    PT_ASSERT_INT_EQ(pond_alloc_current(), before);
}

/* Large content stays in the (unlinked) spill file held by the backend: not on the heap. */
static void test_large_content_not_on_heap(void)
{
    tfs t = tfs_open(4096);
    size_t base = pond_alloc_current();
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_writer *w = NULL;
    char chunk[4096];
    memset(chunk, 'q', sizeof chunk);
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/big", POND_ENTRY_NONE));
    for (int i = 0; i < 256; i++) /* 1 MiB */
        PT_ASSERT_OK(pond_writer_write(w, chunk, sizeof chunk));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT(pond_alloc_current() - base < 64 * 1024);
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/big"));
    PT_ASSERT_INT_EQ(st.size, 1 << 20);
    tfs_close(&t);
}

static void test_node_ids_unique(void)
{
    pond_node_id ids[200];
    for (int i = 0; i < 200; i++) {
        PT_ASSERT_OK(pond_node_id_new(&ids[i]));
        PT_ASSERT_INT_EQ(ids[i].bytes[6] >> 4, 7);
        PT_ASSERT_INT_EQ(ids[i].bytes[8] >> 6, 2);
        for (int j = 0; j < i; j++)
            PT_ASSERT(!pond_node_id_equal(&ids[i], &ids[j]));
    }
    pond_entry_type ty;
    PT_ASSERT_OK(pond_entry_type_parse(&ty, "file:series"));
    PT_ASSERT_INT_EQ(ty, POND_ENTRY_FILE_SERIES);
    PT_ASSERT_STR_EQ(pond_entry_type_name(POND_ENTRY_DIRECTORY), "directory");
    PT_ASSERT_STR_EQ(pond_entry_type_name(POND_ENTRY_SYMLINK), "symlink");
    PT_ASSERT_STR_EQ(pond_entry_type_name(POND_ENTRY_FILE_DATA), "file:data");
    PT_ASSERT_STR_EQ(pond_entry_type_name(POND_ENTRY_FILE_TABLE), "file:table");
    PT_ASSERT_ERR(pond_entry_type_parse(&ty, "file:blob"), POND_EINVALID);
    PT_ASSERT_MSG_HAS("file:blob");
}

/* A backend that implements nothing but free: every op is POND_EUNSUPPORTED, never a crash. */
static void bare_free(pond_backend *be) { pond_free(be); }

static void test_bare_backend(void)
{
    pond_backend *be = pond_calloc(1, sizeof *be);
    PT_ASSERT(be);
    be->version = POND_BACKEND_VERSION;
    be->name = "bare";
    be->free = bare_free;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/"));
    PT_ASSERT_ERR(pond_fs_stat(&st, fs, NULL, "/x"), POND_ENOTFOUND);
    PT_ASSERT_ERR(pond_fs_begin(fs, NULL), POND_EUNSUPPORTED);
    pond_fs_options o = POND_FS_OPTIONS_INIT;
    o.as_of_txn = 1;
    pond_fs *old = NULL;
    PT_ASSERT_ERR(pond_fs_open(&old, be, &o), POND_EUNSUPPORTED);
    pond_fs_free(fs);
    be->version = 99;
    PT_ASSERT_ERR(pond_fs_open(&fs, be, NULL), POND_EUNSUPPORTED);
    pond_backend_free(be);
}

/* A backend whose records carry no content (like an on-disk one): content only through
 * open_content. Wraps the memory backend. */
typedef struct {
    pond_backend parent;
    pond_backend *inner;
} strip_be;

static int strip(pond_node_rec **out, int rc)
{
    if (rc < 0)
        return rc;
    pond_node_rec *copy = NULL;
    rc = pond_node_rec_dup(&copy, *out);
    pond_node_rec_unref(*out);
    *out = copy;
    if (rc == 0) {
        pond_blob_unref(copy->content);
        copy->content = NULL;
    }
    return rc;
}

static int strip_latest(pond_node_rec **out, pond_backend *be, const pond_node_id *id)
{
    pond_backend *in = ((strip_be *)be)->inner;
    return strip(out, in->latest(out, in, id));
}

static int strip_get_version(pond_node_rec **out, pond_backend *be, const pond_node_id *id,
                             int64_t v)
{
    pond_backend *in = ((strip_be *)be)->inner;
    return strip(out, in->get_version(out, in, id, v));
}

static int strip_open_content(pond_reader **out, pond_backend *be, const pond_node_rec *rec)
{
    pond_backend *in = ((strip_be *)be)->inner;
    pond_node_rec *full = NULL;
    int rc = in->get_version(&full, in, &rec->id, rec->version);
    if (rc == 0)
        rc = in->open_content(out, in, full);
    pond_node_rec_unref(full);
    return rc;
}

static int strip_last_txn(int64_t *out, pond_backend *be)
{
    pond_backend *in = ((strip_be *)be)->inner;
    return in->last_txn(out, in);
}

static int strip_commit(pond_backend *be, const pond_backend_txn_info *info,
                        pond_node_rec *const *recs, size_t n)
{
    pond_backend *in = ((strip_be *)be)->inner;
    return in->commit(in, info, recs, n);
}

static void strip_free(pond_backend *be)
{
    pond_backend_free(((strip_be *)be)->inner);
    pond_free(be);
}

static void test_backend_without_content_in_records(void)
{
    strip_be *sb = pond_calloc(1, sizeof *sb);
    PT_ASSERT(sb);
    PT_ASSERT_OK(pond_backend_memory_new(&sb->inner));
    /* a backend without open_sink: writers spill as before */
    sb->parent = (pond_backend){.version = POND_BACKEND_VERSION,
                                .name = "strip",
                                .latest = strip_latest,
                                .get_version = strip_get_version,
                                .open_content = strip_open_content,
                                .last_txn = strip_last_txn,
                                .commit = strip_commit,
                                .free = strip_free};
    pond_backend *be = &sb->parent;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/a", 0));
    PT_ASSERT_OK(pond_fs_mkdir(fs, NULL, "/b", 0));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/a/f", POND_ENTRY_NONE, "payload", 7));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    PT_ASSERT_CONTENT(fs, NULL, "/a/f", "payload");
    /* a new version without new bytes (xattrs), then a move (no version); read inside and
     * after the txn */
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_set_xattrs(fs, NULL, "/a/f", "{\"x\":1}"));
    PT_ASSERT_CONTENT(fs, NULL, "/a/f", "payload");
    PT_ASSERT_OK(pond_fs_rename(fs, NULL, "/a/f", "/b"));
    PT_ASSERT_CONTENT(fs, NULL, "/b/f", "payload");
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    PT_ASSERT_CONTENT(fs, NULL, "/b/f", "payload");
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/b/f"));
    PT_ASSERT_INT_EQ(st.version, 2);
    PT_ASSERT_INT_EQ(st.size, 7);
    pond_stat *v = NULL;
    size_t n = 0;
    PT_ASSERT_ERR(pond_fs_versions(&v, &n, fs, NULL, "/b/f"), POND_EUNSUPPORTED);
    pond_fs_free(fs);
    pond_backend_free(be);
}

PT_SUITE(tinyfs_mem, PT_TEST(alloc_fault_loop), PT_TEST(alloc_fault_loop_namespace),
         PT_TEST(large_content_not_on_heap), PT_TEST(node_ids_unique), PT_TEST(bare_backend),
         PT_TEST(backend_without_content_in_records))
