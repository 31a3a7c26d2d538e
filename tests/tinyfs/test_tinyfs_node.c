/* Node handles: one path walk, then every metadata and content call through the handle. */
#include "tinyfs/tinyfs_test.h"

#include <stdlib.h>
#include <string.h>

static int count_versions(const pond_stat *st, const char *xattrs, void *payload)
{
    int64_t *n = payload;
    (*n)++;
    PT_ASSERT_INT_EQ(st->version, *n);
    if (st->version == 2)
        PT_ASSERT_STR_EQ(xattrs, "{\"k\":2}");
    return 0;
}

static void test_node_one_walk(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/a/b", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/a/b/f", POND_ENTRY_FILE_DATA, "one", 3));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));

    uint64_t w0 = pond_fs_path_walks(t.fs);
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, t.fs, NULL, "/a/./b//f", 0));
    PT_ASSERT_STR_EQ(pond_fs_node_path(h), "/a/b/f");
    PT_ASSERT(pond_fs_node_fs(h) == t.fs);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_stat st;
    PT_ASSERT_OK(pond_fs_node_stat(&st, h));
    PT_ASSERT_INT_EQ(st.version, 1);
    PT_ASSERT_INT_EQ(st.size, 3);
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_node_open_writer(&w, h, POND_ENTRY_NONE));
    pond_reader *r = NULL;
    PT_ASSERT_ERR(pond_fs_node_open_reader(&r, h, 0), POND_EBUSY);
    PT_ASSERT_MSG_HAS("/a/b/f");
    PT_ASSERT_OK(pond_writer_write(w, "second", 6));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_node_set_xattrs(h, "{\"k\":2}"));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT_OK(pond_fs_node_stat(&st, h));
    PT_ASSERT_INT_EQ(st.version, 2);
    char *x = NULL;
    PT_ASSERT_OK(pond_fs_node_get_xattrs(&x, h));
    PT_ASSERT_STR_EQ(x, "{\"k\":2}");
    pond_free(x);
    pond_stat *vs = NULL;
    size_t nv = 0;
    PT_ASSERT_OK(pond_fs_node_versions(&vs, &nv, h));
    PT_ASSERT_INT_EQ(nv, 2);
    PT_ASSERT_INT_EQ(vs[0].size, 3);
    PT_ASSERT_INT_EQ(vs[1].size, 6);
    pond_free(vs);
    int64_t seen = 0;
    PT_ASSERT_OK(pond_fs_node_foreach_version(h, count_versions, &seen));
    PT_ASSERT_INT_EQ(seen, 2);
    char buf[16] = {0};
    PT_ASSERT_OK(pond_fs_node_open_reader(&r, h, 1));
    PT_ASSERT_OK(pond_reader_read_exact(r, buf, 3));
    PT_ASSERT_STR_EQ(buf, "one");
    pond_reader_free(r);
    PT_ASSERT_OK(pond_fs_node_open_reader(&r, h, 0));
    PT_ASSERT_OK(pond_reader_read_exact(r, buf, 6));
    PT_ASSERT_STR_EQ(buf, "second");
    pond_reader_free(r);
    PT_ASSERT_ERR(pond_fs_node_open_reader(&r, h, 7), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("/a/b/f");
    /* everything above walked the path once */
    PT_ASSERT_INT_EQ(pond_fs_path_walks(t.fs) - w0, 1);
    pond_fs_node *d = NULL;
    PT_ASSERT_OK(pond_fs_node_dup(&d, h));
    pond_fs_node_free(h);
    PT_ASSERT_OK(pond_fs_node_stat(&st, d));
    PT_ASSERT_INT_EQ(pond_fs_path_walks(t.fs) - w0, 1);
    pond_fs_node_free(d);
    tfs_close(&t);
}

static void test_node_created_and_removed(void)
{
    tfs t = tfs_open(0);
    pond_fs_node *h = NULL;
    PT_ASSERT_ERR(pond_fs_node_open(&h, t.fs, NULL, "/nodir/f", 0), POND_ENOTFOUND);
    PT_ASSERT(!h);
    PT_ASSERT_OK(pond_fs_node_open(&h, t.fs, NULL, "/new", 0));
    pond_stat st;
    PT_ASSERT_ERR(pond_fs_node_stat(&st, h), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("'/new': no such file");
    pond_writer *w = NULL;
    PT_ASSERT_ERR(pond_fs_node_open_writer(&w, h, POND_ENTRY_FILE_DATA), POND_ETXN);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_ERR(pond_fs_node_set_xattrs(h, "{}"), POND_ENOTFOUND);
    PT_ASSERT_ERR(pond_fs_node_open_writer(&w, h, POND_ENTRY_DIRECTORY), POND_EINVALID);
    PT_ASSERT_OK(pond_fs_node_open_writer(&w, h, POND_ENTRY_FILE_SERIES));
    PT_ASSERT_OK(pond_writer_write(w, "x", 1));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    /* the handle sees the file its writer created, within the transaction */
    PT_ASSERT_OK(pond_fs_node_stat(&st, h));
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_FILE_SERIES);
    pond_stat *vs = NULL;
    size_t nv = 0;
    PT_ASSERT_OK(pond_fs_node_versions(&vs, &nv, h));
    PT_ASSERT_INT_EQ(nv, 1);
    pond_free(vs);
    PT_ASSERT_ERR(pond_fs_node_open_writer(&w, h, POND_ENTRY_FILE_TABLE), POND_EINVALID);
    PT_ASSERT_MSG_HAS("is file:series, not file:table");
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_remove(t.fs, NULL, "/new", false));
    PT_ASSERT_ERR(pond_fs_node_stat(&st, h), POND_ENOTFOUND);
    pond_fs_abort(t.fs);
    PT_ASSERT_OK(pond_fs_node_stat(&st, h));
    pond_fs_node_free(h);
    /* the root: a directory, no writer */
    PT_ASSERT_OK(pond_fs_node_open(&h, t.fs, NULL, "/", 0));
    PT_ASSERT_OK(pond_fs_node_stat(&st, h));
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_DIRECTORY);
    pond_reader *r = NULL;
    PT_ASSERT_ERR(pond_fs_node_open_reader(&r, h, 0), POND_EISDIR);
    pond_fs_node_free(h);
    tfs_close(&t);
}

static void test_node_symlinks(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/d", 0));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/d/f", POND_ENTRY_FILE_DATA, "abc", 3));
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "d/f", "/l"));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_fs_node *h = NULL, *n = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, t.fs, NULL, "/l", 0));
    PT_ASSERT_OK(pond_fs_node_open(&n, t.fs, NULL, "/l", POND_FS_NODE_NOFOLLOW));
    PT_ASSERT_STR_EQ(pond_fs_node_path(h), "/d/f");
    PT_ASSERT_STR_EQ(pond_fs_node_path(n), "/l");
    pond_stat a, b;
    PT_ASSERT_OK(pond_fs_node_stat(&a, h));
    PT_ASSERT_OK(pond_fs_node_stat(&b, n));
    PT_ASSERT_INT_EQ(a.type, POND_ENTRY_FILE_DATA);
    PT_ASSERT_INT_EQ(b.type, POND_ENTRY_SYMLINK);
    pond_fs_node_free(h);
    pond_fs_node_free(n);
    tfs_close(&t);
}

static int node_ops(void *arg)
{
    tfs *t = arg;
    pond_fs_node *h = NULL;
    int rc = pond_fs_node_open(&h, t->fs, NULL, "/f", 0);
    pond_stat *vs = NULL;
    size_t nv = 0;
    pond_reader *r = NULL;
    char *x = NULL;
    if (rc == 0)
        rc = pond_fs_node_versions(&vs, &nv, h);
    if (rc == 0)
        rc = pond_fs_node_open_reader(&r, h, 1);
    if (rc == 0)
        rc = pond_fs_node_get_xattrs(&x, h);
    pond_free(x);
    pond_reader_free(r);
    pond_free(vs);
    pond_fs_node_free(h);
    return rc;
}

static int node_ops_fn(tfs *t) { return node_ops(t); }

static void test_node_alloc_faults(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/f", POND_ENTRY_FILE_DATA, "1", 1));
    PT_ASSERT_OK(pond_fs_set_xattrs(t.fs, NULL, "/f", "{}"));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, node_ops_fn, &t);
    PT_ASSERT(steps > 3);
    tfs_close(&t);
}

static int g_overlap_calls;

/* Stands for a version-4 backend's own answer: every version (more than asked; tinyfs
 * filters). */
static int trap_overlapping(pond_node_rec ***out, size_t *n_out, pond_backend *be,
                            const pond_node_id *id, int64_t from_us, int64_t to_us)
{
    (void)from_us;
    (void)to_us;
    g_overlap_calls++;
    return be->list_versions(out, n_out, be, id);
}

static int collect_overlapping(const pond_stat *st, const char *xattrs, void *payload)
{
    (void)xattrs;
    int64_t *seen = payload;
    seen[++seen[0]] = st->version;
    return 0;
}

/* pond_fs_node_foreach_version_overlapping: the versions whose event-time range meets
 * [from, to], those without one, and the pending one whatever its range; a version-3 backend
 * (no list_versions_overlapping in its struct) is asked for every version, a version-4 one
 * through its call, and tinyfs filters either answer. */
static void test_node_versions_overlapping(void)
{
    tfs t = tfs_open(0);
    /* ranges: v1 [0, 10], v2 none, v3 [20, 30], v4 [5, 25] */
    const int64_t lo[] = {0, -1, 20, 5}, hi[] = {10, -1, 30, 25};
    for (int v = 0; v < 4; v++) {
        pond_writer *w = NULL;
        PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
        PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/s", POND_ENTRY_FILE_SERIES));
        PT_ASSERT_OK(pond_writer_write(w, "x", 1));
        if (lo[v] >= 0)
            PT_ASSERT_OK(pond_writer_set_event_time(w, lo[v], hi[v]));
        PT_ASSERT_OK(pond_writer_finish(w));
        pond_writer_free(w);
        PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    }
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, t.fs, NULL, "/s", 0));
    for (unsigned version = 3; version <= 4; version++) {
        t.be->version = version;
        t.be->list_versions_overlapping = trap_overlapping;
        g_overlap_calls = 0;
        int64_t seen[8] = {0};
        PT_ASSERT_OK(
            pond_fs_node_foreach_version_overlapping(h, 11, 19, collect_overlapping, seen));
        PT_ASSERT_INT_EQ(seen[0], 2); /* v2 (no range), v4 */
        PT_ASSERT_INT_EQ(seen[1], 2);
        PT_ASSERT_INT_EQ(seen[2], 4);
        PT_ASSERT_INT_EQ(g_overlap_calls, version == 4);
        memset(seen, 0, sizeof seen);
        PT_ASSERT_OK(
            pond_fs_node_foreach_version_overlapping(h, 30, 40, collect_overlapping, seen));
        PT_ASSERT_INT_EQ(seen[0], 2); /* v2, v3 (30 is in [20, 30]) */
        PT_ASSERT_INT_EQ(seen[1], 2);
        PT_ASSERT_INT_EQ(seen[2], 3);
    }
    /* the pending version, whatever its range */
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open_writer(&w, h, POND_ENTRY_NONE));
    PT_ASSERT_OK(pond_writer_write(w, "y", 1));
    PT_ASSERT_OK(pond_writer_set_event_time(w, 1000, 2000));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    int64_t seen[8] = {0};
    PT_ASSERT_OK(pond_fs_node_foreach_version_overlapping(h, 21, 22, collect_overlapping, seen));
    PT_ASSERT_INT_EQ(seen[0], 4); /* v2, v3, v4, pending v5 */
    PT_ASSERT_INT_EQ(seen[4], 5);
    pond_fs_abort(t.fs);
    pond_fs_node_free(h);
    tfs_close(&t);
}

PT_SUITE(tinyfs_node, PT_TEST(node_one_walk), PT_TEST(node_created_and_removed),
         PT_TEST(node_symlinks), PT_TEST(node_alloc_faults), PT_TEST(node_versions_overlapping))
