/* Damaged directory listings in an on-disk pond (crafted with tests/oplog/craft.c): decoding
 * refuses every broken rule with a message naming the data file; fsck reports every violation
 * and every directory reached twice; the writer never writes a damaged listing back; gc's
 * retention and globbing stop on a cycle instead of looping. */
#include "pt.h"
#include "pt_pond.h"

#include "craft.h"

#include <pond/delta.h>
#include <pond/oplog.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef pt_pond env;
static void env_open(env *e) { pt_pond_open(e); }
static void env_close(env *e) { pt_pond_close(e); }

/* A pond with /a/b (directories) and /f (a file); returns the ids as text. */
static void env_create(env *e, char a[37], char b[37], char f[37])
{
    snprintf(e->dir, sizeof e->dir, "%s/pond", PT_TMPDIR());
    PT_ASSERT_OK(pond_oplog_create(e->dir, NULL));
    env_open(e);
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(e->fs, NULL, "/a/b", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_write_all(e->fs, NULL, "/f", POND_ENTRY_FILE_DATA, "x", 1));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, e->fs, NULL, "/a"));
    pond_node_id_format(a, &st.id);
    PT_ASSERT_OK(pond_fs_stat(&st, e->fs, NULL, "/a/b"));
    pond_node_id_format(b, &st.id);
    PT_ASSERT_OK(pond_fs_stat(&st, e->fs, NULL, "/f"));
    pond_node_id_format(f, &st.id);
    env_close(e);
}

#define E(name, id, type)                                                                          \
    {                                                                                              \
        name, sizeof(name) - 1, id, type, NULL                                                     \
    }
#define EP(name, id, type, part)                                                                   \
    {                                                                                              \
        name, sizeof(name) - 1, id, type, part                                                     \
    }
static const char NIL[] = "00000000-0000-0000-0000-000000000000";
static const char ROOT[] = "00000000-0000-7000-8000-000000000000";

static void test_decode_refuses_each_rule(void)
{
    char a[37], b[37], f[37];
    env e;
    env_create(&e, a, b, f);
    /* each case replaces the root listing: the reader must refuse it, naming file and rule */
    struct {
        craft_entry entries[2];
        const char *want;
    } cases[] = {
        {{E("a", a, "directory"), E(".", f, "file:data")}, "entry 1 '.': '.' and '..'"},
        {{E("..", a, "directory"), E("f", f, "file:data")}, "entry 0 '..': '.' and '..'"},
        {{E("a", a, "directory"), E("f/g", f, "file:data")}, "entry 1 'f/g': contains '/'"},
        {{E("a", a, "directory"), E("f\0g", f, "file:data")}, "entry 1: name contains a NUL"},
        {{E("", a, "directory"), E("f", f, "file:data")}, "entry 0 '': empty"},
        {{E("a", a, "directory"), E("a", f, "file:data")}, "entry 1 'a': the same name"},
        {{E("f", f, "file:data"), E("a", a, "directory")}, "entry 1 'a': out of order"},
        {{E("a", a, "directory"), E("f", NIL, "file:data")}, "entry 1 'f': no node id"},
        {{E("a", a, "directory"), E("r", ROOT, "directory")}, "refers to the directory itself"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        PT_ASSERT_OK(craft_listing(e.dir, ROOT, cases[k].entries, 2));
        env_open(&e);
        pond_fs_dirent *ents = NULL;
        size_t n = 0;
        PT_ASSERT_ERR(pond_fs_readdir(&ents, &n, e.fs, NULL, "/"), POND_ECORRUPT);
        PT_ASSERT_MSG_HAS(cases[k].want);
        PT_ASSERT_MSG_HAS("data file 'part_id=00000000-0000-7000-8000-000000000000/");
        PT_ASSERT_MSG_HAS("listing of directory 00000000-0000-7000-8000-000000000000");
        env_close(&e);
    }
    /* in a subdirectory (under a sound root again): the root id, and its own id */
    craft_entry good[] = {E("a", a, "directory"), E("f", f, "file:data")};
    PT_ASSERT_OK(craft_listing(e.dir, ROOT, good, 2));
    craft_entry sub[] = {E("r", ROOT, "directory")};
    PT_ASSERT_OK(craft_listing(e.dir, b, sub, 1));
    env_open(&e);
    pond_fs_dirent *ents = NULL;
    size_t n = 0;
    PT_ASSERT_ERR(pond_fs_readdir(&ents, &n, e.fs, NULL, "/a/b"), POND_ECORRUPT);
    env_close(&e);
    (void)ents;
    craft_entry self[] = {E("me", b, "directory")};
    PT_ASSERT_OK(craft_listing(e.dir, b, self, 1));
    env_open(&e);
    pond_stat st;
    PT_ASSERT_ERR(pond_fs_stat(&st, e.fs, NULL, "/a/b/me"), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("entry 0 'me': refers to the directory itself");
    env_close(&e);
}

typedef struct {
    int corrupt, missing;
    char all[8192];
} seen;

static void on_problem(const char *kind, const char *msg, void *payload)
{
    seen *s = payload;
    s->corrupt += !strcmp(kind, "corrupt");
    s->missing += !strcmp(kind, "missing");
    size_t len = strlen(s->all);
    snprintf(s->all + len, sizeof s->all - len, "%s %s\n", kind, msg);
}

static void test_fsck_reports_every_violation(void)
{
    char a[37], b[37], f[37];
    env e;
    env_create(&e, a, b, f);
    /* five broken rules in one listing of a, one more in the root's */
    craft_entry bad[] = {E("z", a, "directory"), E("", f, "file:data"), E("x/y", f, "file:data"),
                         E("y\0y", f, "file:data"), E("yy", NIL, "file:data")};
    PT_ASSERT_OK(craft_listing(e.dir, a, bad, 5));
    craft_entry root_bad[] = {E("a", a, "directory"), E("a", f, "file:data")};
    PT_ASSERT_OK(craft_listing(e.dir, ROOT, root_bad, 2));
    env_open(&e);
    pond_fsck_report r;
    seen s = {0, 0, ""};
    PT_ASSERT_ERR(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s), POND_ECORRUPT);
    /* z: itself; '': empty, out of order; x/y: '/'; y\0y: NUL (read as "y": in order); yy: no
     * id; root: duplicate */
    if (s.corrupt != 7)
        printf("%s", s.all);
    PT_ASSERT_INT_EQ(s.corrupt, 7);
    PT_ASSERT_INT_EQ(r.corrupt, 7);
    PT_ASSERT(strstr(s.all, "entry 2 'x/y': contains '/'") != NULL);
    PT_ASSERT(strstr(s.all, "entry 3: name contains a NUL byte") != NULL);
    PT_ASSERT(strstr(s.all, "entry 4 'yy': no node id") != NULL);
    PT_ASSERT(strstr(s.all, "entry 1 'a': the same name") != NULL);
    env_close(&e);
}

static int count_cb(const char *path, const pond_stat *st, const char *const *caps, size_t n,
                    void *payload)
{
    (void)path, (void)st, (void)caps, (void)n;
    (*(int *)payload)++;
    return 0;
}

static void test_fsck_gc_list_directory_reached_twice(void)
{
    char a[37], b[37], f[37];
    env e;
    env_create(&e, a, b, f);
    /* b lists a (a cycle), and the root lists b a second time */
    craft_entry cyc[] = {E("up", a, "directory")};
    PT_ASSERT_OK(craft_listing(e.dir, b, cyc, 1));
    craft_entry root2[] = {E("a", a, "directory"), E("b2", b, "directory"), E("f", f, "file:data")};
    PT_ASSERT_OK(craft_listing(e.dir, ROOT, root2, 3));
    env_open(&e);
    pond_fsck_report r;
    seen s = {0, 0, ""};
    PT_ASSERT_ERR(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s), POND_ECORRUPT);
    PT_ASSERT_INT_EQ(s.corrupt, 2);
    PT_ASSERT(strstr(s.all, "'/a/b/up' is directory") != NULL);
    PT_ASSERT(strstr(s.all, "already reached as '/a'") != NULL);
    PT_ASSERT(strstr(s.all, "'/b2' is directory") != NULL);
    /* retention needs the live tree: it refuses, and removes nothing */
    PT_ASSERT_OK(pond_oplog_lock(e.be, true));
    pond_gc_options go = POND_GC_OPTIONS_INIT;
    go.keep_versions = 1;
    go.grace_us = 0;
    pond_gc_report gr;
    PT_ASSERT_ERR(pond_oplog_gc(&gr, e.be, &go), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("already reached as");
    PT_ASSERT_INT_EQ(gr.data_files_removed + gr.blobs_removed + gr.versions_dropped, 0);
    pond_oplog_unlock(e.be);
    /* list: the glob stops at the first directory reached twice */
    int count = 0;
    PT_ASSERT_ERR(pond_fs_glob(e.fs, NULL, "/**", count_cb, &count), POND_ECORRUPT);
    env_close(&e);
}

/* A cycle in a listing that is history by now (the directories holding it left the tree
 * while it stood): retention replays every listing, and the cycle must neither loop nor make
 * its walk grow; gc completes and the current tree reads as before. */
static void test_gc_replays_a_cycle_in_history(void)
{
    char a[37], b[37], f[37];
    env e;
    env_create(&e, a, b, f);
    craft_entry cyc[] = {E("up", a, "directory")};
    PT_ASSERT_OK(craft_listing(e.dir, b, cyc, 1));
    craft_entry root1[] = {E("f", f, "file:data")}; /* /a (and with it /a/b) leave the tree */
    PT_ASSERT_OK(craft_listing(e.dir, ROOT, root1, 1));
    env_open(&e);
    PT_ASSERT_OK(pond_oplog_lock(e.be, true));
    pond_gc_options go = POND_GC_OPTIONS_INIT;
    go.keep_versions = 1;
    go.grace_us = 0;
    pond_gc_report gr;
    PT_ASSERT_OK(pond_oplog_gc(&gr, e.be, &go));
    PT_ASSERT(gr.versions_dropped > 0);
    pond_oplog_unlock(e.be);
    env_close(&e);
    env_open(&e);
    pond_buf data = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&data, e.fs, NULL, "/f"));
    PT_ASSERT_INT_EQ(data.size, 1);
    pond_buf_dispose(&data);
    pond_fsck_report r;
    PT_ASSERT_OK(pond_oplog_fsck(&r, e.be, NULL, NULL, NULL));
    env_close(&e);
}

/* part_id (format 2) through the oplog's decoder: the stored text must be a node id that is
 * not all zero, never on a directory entry, and the listing's own directory reads as none;
 * fsck reports each broken rule; a listing crafted in format 1 (no part_id field) still reads. */
static void test_part_id_rules(void)
{
    char a[37], b[37], f[37];
    env e;
    env_create(&e, a, b, f);
    /* the listing's own id as part_id is the default: /f reads, fsck finds nothing; the same
     * listing in format 1 too */
    for (int format = 2; format >= 1; format--) {
        craft_entry own[] = {E("a", a, "directory"), EP("f", f, "file:data", ROOT)};
        if (format == 1)
            own[1].part_id = NULL;
        PT_ASSERT_OK(craft_listing_format(e.dir, format, ROOT, own, 2));
        env_open(&e);
        pond_buf buf = POND_BUF_INIT;
        PT_ASSERT_OK(pond_fs_read_all(&buf, e.fs, NULL, "/f"));
        PT_ASSERT(buf.size == 1 && buf.ptr[0] == 'x');
        pond_buf_dispose(&buf);
        pond_fsck_report r;
        seen s = {0, 0, ""};
        int rc = pond_oplog_fsck(&r, e.be, on_problem, NULL, &s);
        if (rc < 0)
            printf("%s", s.all);
        PT_ASSERT_OK(rc);
        env_close(&e);
    }
    /* format 1 cannot hold a part_id */
    craft_entry moved[] = {E("a", a, "directory"), EP("f", f, "file:data", b)};
    PT_ASSERT_ERR(craft_listing_format(e.dir, 1, ROOT, moved, 2), POND_EINVALID);
    /* fsck: both broken rules of one listing, one line each */
    craft_entry bad[] = {EP("a", a, "directory", b), EP("f", f, "file:data", NIL)};
    PT_ASSERT_OK(craft_listing(e.dir, ROOT, bad, 2));
    env_open(&e);
    pond_fsck_report r;
    seen s = {0, 0, ""};
    PT_ASSERT_ERR(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s), POND_ECORRUPT);
    PT_ASSERT(strstr(s.all, "entry 0 'a': a directory entry has a part_id") != NULL);
    PT_ASSERT(strstr(s.all, "entry 1: part_id is the nil id") != NULL);
    if (s.corrupt != 2)
        printf("%s", s.all);
    PT_ASSERT_INT_EQ(s.corrupt, 2);
    env_close(&e);
    /* a reader refuses each at the first broken rule, naming the file */
    struct {
        craft_entry entries[2];
        const char *want;
    } cases[] = {
        {{EP("a", a, "directory", a), E("f", f, "file:data")},
         "entry 0 'a': a directory entry has a part_id"},
        {{EP("a", a, "directory", ROOT), E("f", f, "file:data")},
         "entry 0 'a': a directory entry has a part_id"},
        {{E("a", a, "directory"), EP("f", f, "file:data", NIL)}, "entry 1: part_id is the nil id"},
        {{E("a", a, "directory"), EP("f", f, "file:data", "x")},
         "bad part_id in a directory entry"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        PT_ASSERT_OK(craft_listing(e.dir, ROOT, cases[k].entries, 2));
        env_open(&e);
        pond_fs_dirent *ents = NULL;
        size_t n = 0;
        PT_ASSERT_ERR(pond_fs_readdir(&ents, &n, e.fs, NULL, "/"), POND_ECORRUPT);
        PT_ASSERT_MSG_HAS(cases[k].want);
        PT_ASSERT_MSG_HAS("data file 'part_id=00000000-0000-7000-8000-000000000000/");
        env_close(&e);
    }
}

static void test_writer_refuses_damaged_listing(void)
{
    char a[37], b[37], f[37];
    env e;
    env_create(&e, a, b, f);
    env_open(&e);
    int64_t before;
    PT_ASSERT_OK(pond_delta_latest_version(&before, e.dir));
    /* a record with a duplicate name, handed straight to the backend */
    pond_node_rec *cur = NULL, *r = NULL;
    pond_node_id root = pond_node_id_root();
    PT_ASSERT_OK(e.be->latest(&cur, e.be, &root));
    PT_ASSERT_OK(pond_node_rec_dup(&r, cur));
    pond_node_rec_unref(cur);
    pond_free(r->entries[1].name);
    r->entries[1].name = pond_strdup("a");
    r->version++;
    r->txn_seq = before + 1;
    pond_backend_txn_info info = {before + 1, 1700000000000000, NULL};
    PT_ASSERT_OK(pond_oplog_lock(e.be, true));
    PT_ASSERT_ERR(e.be->commit(e.be, &info, &r, 1), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("refusing to write the damaged listing of directory "
                      "00000000-0000-7000-8000-000000000000");
    PT_ASSERT_MSG_HAS("the same name as the entry before it");
    pond_oplog_unlock(e.be);
    pond_node_rec_unref(r);
    int64_t after;
    PT_ASSERT_OK(pond_delta_latest_version(&after, e.dir));
    PT_ASSERT_INT_EQ(after, before);
    env_close(&e);
}

PT_SUITE(oplog_listing, PT_TEST(decode_refuses_each_rule), PT_TEST(fsck_reports_every_violation),
         PT_TEST(fsck_gc_list_directory_reached_twice), PT_TEST(writer_refuses_damaged_listing),
         PT_TEST(part_id_rules), PT_TEST(gc_replays_a_cycle_in_history))
