/* Damaged directory listings: the listing rules (every one), and walks of a tree that lists a
 * directory twice or inside itself (glob, the busy check of remove). */
#include "tinyfs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int n;
    char all[4096];
} problems;

static void on_problem(const char *msg, void *payload)
{
    problems *p = payload;
    p->n++;
    size_t len = strlen(p->all);
    snprintf(p->all + len, sizeof p->all - len, "%s\n", msg);
}

static pond_node_id id_n(int n)
{
    pond_node_id id;
    memset(&id, 0, sizeof id);
    id.bytes[0] = 0x01;
    id.bytes[15] = (uint8_t)n;
    return id;
}

/* A directory record (id 1) with the given names (ids 10, 11, ...; files). */
static pond_node_rec *dir_with(const char *const *names, size_t n)
{
    pond_node_rec *r = NULL;
    PT_ASSERT_OK(pond_node_rec_new(&r));
    r->id = id_n(1);
    r->type = POND_ENTRY_DIRECTORY;
    r->entries = calloc(n ? n : 1, sizeof *r->entries);
    for (size_t i = 0; i < n; i++) {
        r->entries[i].name = pond_strdup(names[i]);
        r->entries[i].id = id_n(10 + (int)i);
        r->entries[i].type = POND_ENTRY_FILE_DATA;
    }
    r->n_entries = n;
    return r;
}

static void free_dir(pond_node_rec *r)
{
    for (size_t i = 0; i < r->n_entries; i++)
        pond_free(r->entries[i].name);
    free(r->entries);
    r->entries = NULL;
    r->n_entries = 0;
    pond_node_rec_unref(r);
}

/* One rule broken: reported once with the callback (with `want` in the message), and the
 * first error without it. */
static void expect_one(pond_node_rec *r, const char *want)
{
    problems p = {0, ""};
    PT_ASSERT_INT_EQ(pond_dir_entries_check(r, on_problem, &p), 1);
    if (!strstr(p.all, want))
        printf("  want '%s' in: %s", want, p.all);
    PT_ASSERT(strstr(p.all, want) != NULL);
    PT_ASSERT_ERR(pond_dir_entries_check(r, NULL, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS(want);
}

static void test_listing_rules_each(void)
{
    static const struct {
        const char *names[3];
        const char *want;
    } cases[] = {
        {{"", "b", "c"}, "entry 0 '': empty"},
        {{"-", ".", "a"}, "entry 1 '.': '.' and '..' are reserved"},
        {{"..", "b", "c"}, "entry 0 '..': '.' and '..' are reserved"},
        {{"a", "b/c", "d"}, "entry 1 'b/c': contains '/'"},
        {{"a", "b\xff", "c"}, "not valid UTF-8"},
        {{"a", "b", "b"}, "entry 2 'b': the same name as the entry before it"},
        {{"a", "c", "b"}, "entry 2 'b': out of order"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        pond_node_rec *r = dir_with(cases[k].names, 3);
        expect_one(r, cases[k].want);
        free_dir(r);
    }
    char longname[300];
    memset(longname, 'x', 256);
    longname[256] = '\0';
    const char *ln[] = {longname};
    pond_node_rec *r = dir_with(ln, 1);
    expect_one(r, "longer than 255 bytes");
    free_dir(r);
    /* ids and types */
    const char *abc[] = {"a", "b", "c"};
    r = dir_with(abc, 3);
    PT_ASSERT_INT_EQ(pond_dir_entries_check(r, NULL, NULL), 0);
    memset(&r->entries[1].id, 0, sizeof r->entries[1].id);
    expect_one(r, "entry 1 'b': no node id");
    r->entries[1].id = r->id;
    expect_one(r, "entry 1 'b': refers to the directory itself");
    r->entries[1].id = pond_node_id_root();
    expect_one(r, "entry 1 'b': refers to the root directory");
    r->entries[1].id = id_n(50);
    r->entries[1].type = (pond_entry_type)9;
    expect_one(r, "entry 1 'b': unknown entry type");
    r->entries[1].type = POND_ENTRY_DIRECTORY;
    PT_ASSERT_INT_EQ(pond_dir_entries_check(r, NULL, NULL), 0);
    /* part_id (format 2): optional, and only a file or symlink has a home elsewhere */
    r->entries[1].part_id = id_n(60);
    expect_one(r, "entry 1 'b': a directory entry has a part_id");
    r->entries[1].part_id = r->id; /* the listing's own: still not on a directory */
    expect_one(r, "entry 1 'b': a directory entry has a part_id");
    r->entries[1].type = POND_ENTRY_SYMLINK;
    PT_ASSERT_INT_EQ(pond_dir_entries_check(r, NULL, NULL), 0); /* the default, spelt out */
    r->entries[1].part_id = pond_node_id_root();
    r->entries[1].type = POND_ENTRY_FILE_SERIES;
    PT_ASSERT_INT_EQ(pond_dir_entries_check(r, NULL, NULL), 0); /* moved here from the root */
    memset(&r->entries[1].part_id, 0, sizeof r->entries[1].part_id);
    PT_ASSERT_INT_EQ(pond_dir_entries_check(r, NULL, NULL), 0); /* none: at home */
    free_dir(r);
}

static void test_listing_rules_all_reported(void)
{
    const char *names[] = {"z", "", "a/b", "a/b", "."};
    pond_node_rec *r = dir_with(names, 5);
    r->entries[0].id = r->id;
    problems p = {0, ""};
    /* z: itself; '': empty + out of order; a/b: '/'; a/b: '/' + duplicate; '.': reserved +
     * out of order */
    PT_ASSERT_INT_EQ(pond_dir_entries_check(r, on_problem, &p), 8);
    PT_ASSERT_INT_EQ(p.n, 8);
    PT_ASSERT(strstr(p.all, "entry 3 'a/b': the same name") != NULL);
    free_dir(r);
}

static void test_walk_enter(void)
{
    pond_dir_walk *w = NULL;
    PT_ASSERT_OK(pond_dir_walk_new(&w));
    pond_node_id root = pond_node_id_root(), a = id_n(2), b = id_n(3);
    PT_ASSERT_INT_EQ(pond_dir_walk_enter(w, &root, "a", &a, "/a"), 0);
    PT_ASSERT_INT_EQ(pond_dir_walk_enter(w, &a, "b", &b, "/a/b"), 0);
    /* the same entry again (through a symlink, another pattern component) */
    PT_ASSERT_INT_EQ(pond_dir_walk_enter(w, &a, "b", &b, "/link/b"), 1);
    /* a listed again elsewhere: a cycle */
    PT_ASSERT_ERR(pond_dir_walk_enter(w, &b, "up", &a, "/a/b/up"), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("'/a/b/up' is directory");
    PT_ASSERT_MSG_HAS("already reached as '/a'");
    PT_ASSERT_ERR(pond_dir_walk_enter(w, &b, "r", &root, "/a/b/r"), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("root directory");
    pond_dir_walk_free(w);
    pond_dir_walk_free(NULL);
}

/* Commits raw records to a memory backend, bypassing tinyfs (which never writes such trees). */
static void commit_raw(pond_backend *be, pond_node_rec *const *recs, size_t n)
{
    int64_t last = 0;
    PT_ASSERT_OK(be->last_txn(&last, be));
    pond_backend_txn_info info = {last + 1, 1700000000000000, NULL};
    for (size_t i = 0; i < n; i++)
        recs[i]->txn_seq = last + 1;
    PT_ASSERT_OK(be->commit(be, &info, recs, n));
}

static void set_entry(pond_node_rec *r, size_t i, const char *name, pond_node_id id,
                      pond_entry_type t)
{
    r->entries[i].name = pond_strdup(name);
    r->entries[i].id = id;
    r->entries[i].type = t;
}

/* A chain of `depth` directories d0/d1/... where every level lists the next directory twice
 * ("a" and "b"): 2^depth paths for a walk that does not notice. */
static void build_diamonds(tfs *t, int depth)
{
    pond_node_rec **recs = calloc((size_t)depth + 1, sizeof *recs);
    pond_node_id root = pond_node_id_root();
    for (int k = 0; k <= depth; k++) {
        pond_node_rec *r = NULL;
        PT_ASSERT_OK(pond_node_rec_new(&r));
        r->id = k == 0 ? root : id_n(100 + k);
        r->part_id = r->id;
        r->type = POND_ENTRY_DIRECTORY;
        r->version = 1;
        if (k < depth) {
            r->entries = pond_calloc(2, sizeof *r->entries);
            set_entry(r, 0, "a", id_n(101 + k), POND_ENTRY_DIRECTORY);
            set_entry(r, 1, "b", id_n(101 + k), POND_ENTRY_DIRECTORY);
            r->n_entries = 2;
        }
        r->size = (int64_t)r->n_entries;
        recs[k] = r;
    }
    commit_raw(t->be, recs, (size_t)depth + 1);
    for (int k = 0; k <= depth; k++)
        pond_node_rec_unref(recs[k]);
    free(recs);
}

static int count_cb(const char *path, const pond_stat *st, const char *const *caps, size_t n,
                    void *payload)
{
    (void)path, (void)st, (void)caps, (void)n;
    (*(int *)payload)++;
    return 0;
}

static void test_glob_directory_listed_twice(void)
{
    tfs t = tfs_open(0);
    build_diamonds(&t, 40);
    clock_t c0 = clock();
    int count = 0;
    PT_ASSERT_ERR(pond_fs_glob(t.fs, NULL, "/**/*", count_cb, &count), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("'/b' is directory");
    PT_ASSERT_MSG_HAS("already reached as '/a'");
    PT_ASSERT_ERR(
        pond_fs_glob(t.fs, NULL, "/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/*/x", count_cb, &count),
        POND_ECORRUPT);
    PT_ASSERT_ERR(pond_fs_glob(t.fs, NULL, "/a/a/b/**", count_cb, &count), POND_ECORRUPT);
    PT_ASSERT((double)(clock() - c0) / CLOCKS_PER_SEC < 2.0);
    /* a plain path is finite: it resolves */
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/a/b/a/b/a"));
    tfs_close(&t);
}

static void test_glob_cycle(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/a/b", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_stat a, b;
    PT_ASSERT_OK(pond_fs_stat(&a, t.fs, NULL, "/a"));
    PT_ASSERT_OK(pond_fs_stat(&b, t.fs, NULL, "/a/b"));
    /* b lists a twice: a cycle, and two of them */
    pond_node_rec *r = NULL;
    PT_ASSERT_OK(pond_node_rec_new(&r));
    r->id = b.id;
    r->part_id = b.id;
    r->type = POND_ENTRY_DIRECTORY;
    r->version = b.version + 1;
    r->entries = pond_calloc(2, sizeof *r->entries);
    set_entry(r, 0, "up1", a.id, POND_ENTRY_DIRECTORY);
    set_entry(r, 1, "up2", a.id, POND_ENTRY_DIRECTORY);
    r->n_entries = 2;
    r->size = 2;
    commit_raw(t.be, &r, 1);
    pond_node_rec_unref(r);
    int count = 0;
    PT_ASSERT_ERR(pond_fs_glob(t.fs, NULL, "/**", count_cb, &count), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("'/a/b/up1' is directory");
    /* remove checks for busy writers below what it removes: the same walk */
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/w", POND_ENTRY_FILE_DATA));
    PT_ASSERT_ERR(pond_fs_remove(t.fs, NULL, "/a", true), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("already reached as");
    pond_writer_free(w);
    pond_fs_abort(t.fs);
    tfs_close(&t);
}

PT_SUITE(tinyfs_listing, PT_TEST(listing_rules_each), PT_TEST(listing_rules_all_reported),
         PT_TEST(walk_enter), PT_TEST(glob_directory_listed_twice), PT_TEST(glob_cycle))
