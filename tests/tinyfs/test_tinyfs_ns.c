/* The namespace: names, paths, directories, remove, rename, symlinks, transactions, wd. */
#include "tinyfs_test.h"

#include <stdlib.h>

static void expect_norm(const char *base, const char *in, const char *want, bool want_dir)
{
    char *out = NULL;
    bool dir = !want_dir;
    int rc = pond_path_normalize(&out, &dir, base, in);
    if (rc < 0)
        pt_fail(__FILE__, __LINE__, "normalize('%s', '%s'): %s", base ? base : "(null)", in,
                pond_error_last()->message);
    if (strcmp(out, want) != 0 || dir != want_dir)
        pt_fail(__FILE__, __LINE__, "normalize('%s', '%s') = '%s' dir=%d, want '%s' dir=%d",
                base ? base : "(null)", in, out, dir, want, want_dir);
    pond_free(out);
}

static void test_path_normalize(void)
{
    expect_norm(NULL, "/", "/", true);
    expect_norm(NULL, "/a/b", "/a/b", false);
    expect_norm(NULL, "/a/b/", "/a/b", true);
    expect_norm(NULL, "//a///b//", "/a/b", true);
    expect_norm(NULL, "/a/./b/.", "/a/b", true);
    expect_norm(NULL, "/a/b/../c", "/a/c", false);
    expect_norm(NULL, "/../../x", "/x", false); /* never above the root */
    expect_norm(NULL, "/a/..", "/", true);
    expect_norm("/base/dir", "x/y", "/base/dir/x/y", false);
    expect_norm("/base/dir", "../x", "/base/x", false);
    expect_norm("/base/dir", "../../../../x", "/x", false);
    expect_norm("/base/dir", ".", "/base/dir", true);
    expect_norm("/base/dir", "/abs", "/abs", false);
    expect_norm(NULL, "rel", "/rel", false);
    expect_norm(NULL, "/caf\xc3\xa9/\xf0\x9f\x90\x9f", "/caf\xc3\xa9/\xf0\x9f\x90\x9f", false);
    expect_norm(NULL, "/a b/[x]*?", "/a b/[x]*?", false);
    char *out = NULL;
    PT_ASSERT_ERR(pond_path_normalize(&out, NULL, NULL, ""), POND_EINVALID);
    PT_ASSERT_MSG_HAS("empty");
    PT_ASSERT(out == NULL);
    char *lng = malloc(5000);
    PT_ASSERT(lng);
    for (int i = 0; i < 4999; i++)
        lng[i] = i % 100 == 0 ? '/' : 'a';
    lng[4999] = '\0';
    PT_ASSERT_ERR(pond_path_normalize(&out, NULL, NULL, lng), POND_EINVALID);
    PT_ASSERT_MSG_HAS("longer than 4096");
    free(lng);
}

static void test_bad_names(void)
{
    PT_ASSERT_OK(pond_name_validate("ok.txt", 6));
    PT_ASSERT_ERR(pond_name_validate("", 0), POND_EINVALID);
    PT_ASSERT_MSG_HAS("empty");
    PT_ASSERT_ERR(pond_name_validate("a/b", 3), POND_EINVALID);
    PT_ASSERT_MSG_HAS("'a/b'");
    PT_ASSERT_MSG_HAS("'/'");
    PT_ASSERT_ERR(pond_name_validate("a\0b", 3), POND_EINVALID);
    PT_ASSERT_MSG_HAS("NUL");
    PT_ASSERT_ERR(pond_name_validate(".", 1), POND_EINVALID);
    PT_ASSERT_ERR(pond_name_validate("..", 2), POND_EINVALID);
    PT_ASSERT_MSG_HAS("'..'");
    PT_ASSERT_OK(pond_name_validate("...", 3));
    PT_ASSERT_OK(pond_name_validate(".hidden", 7));
    char n255[256], n256[257];
    memset(n255, 'x', 255);
    n255[255] = '\0';
    memset(n256, 'y', 256);
    n256[256] = '\0';
    PT_ASSERT_OK(pond_name_validate(n255, 255));
    PT_ASSERT_ERR(pond_name_validate(n256, 256), POND_EINVALID);
    PT_ASSERT_MSG_HAS("255");
    PT_ASSERT_MSG_HAS("yyyy");
    /* invalid UTF-8: stray continuation, truncated sequence, overlong, surrogate, > U+10FFFF */
    const char *bad[] = {"a\x80", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        PT_ASSERT_ERR(pond_name_validate(bad[i], strlen(bad[i])), POND_EINVALID);
        PT_ASSERT_MSG_HAS("UTF-8");
        PT_ASSERT_MSG_HAS("\\x");
    }
    PT_ASSERT_OK(pond_name_validate("\xe2\x82\xac\xf0\x9f\x98\x80", 7));
    /* through the fs: every path operation names the bad component */
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_ERR(pond_fs_mkdir(t.fs, NULL, "/ok/bad\xff", POND_FS_MKDIR_PARENTS), POND_EINVALID);
    PT_ASSERT_MSG_HAS("bad\\xff");
    PT_ASSERT_ERR(pond_fs_create(t.fs, NULL, n256, POND_ENTRY_FILE_DATA), POND_EINVALID);
    PT_ASSERT_ERR(pond_fs_write_all(t.fs, NULL, "", POND_ENTRY_NONE, "x", 1), POND_EINVALID);
    pond_stat st;
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/ok"), POND_ENOTFOUND); /* nothing created */
    pond_fs_abort(t.fs);
    tfs_close(&t);
}

static void test_mkdir_create_stat(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_ERR(pond_fs_mkdir(t.fs, NULL, "/a", 0), POND_ETXN);
    PT_ASSERT_MSG_HAS("no open transaction");
    PT_ASSERT_MSG_HAS("/a");
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_ERR(pond_fs_begin(t.fs, NULL), POND_EBUSY);
    PT_ASSERT_ERR(pond_fs_mkdir(t.fs, NULL, "/a/b", 0), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("'/a'");
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/a/b/c/", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/a/b", POND_FS_MKDIR_PARENTS)); /* exists: fine */
    PT_ASSERT_ERR(pond_fs_mkdir(t.fs, NULL, "/a/b", 0), POND_EEXISTS);
    PT_ASSERT_MSG_HAS("/a/b");
    PT_ASSERT_ERR(pond_fs_mkdir(t.fs, NULL, "/", 0), POND_EEXISTS);
    PT_ASSERT_OK(pond_fs_create(t.fs, NULL, "/a/t", POND_ENTRY_FILE_TABLE));
    PT_ASSERT_ERR(pond_fs_create(t.fs, NULL, "/a/t", POND_ENTRY_FILE_DATA), POND_EEXISTS);
    PT_ASSERT_ERR(pond_fs_create(t.fs, NULL, "/a/u", POND_ENTRY_DIRECTORY), POND_EINVALID);
    PT_ASSERT_ERR(pond_fs_create(t.fs, NULL, "/a/u/", POND_ENTRY_FILE_DATA), POND_EINVALID);
    PT_ASSERT_ERR(pond_fs_mkdir(t.fs, NULL, "/a/t/x", POND_FS_MKDIR_PARENTS), POND_ENOTDIR);
    PT_ASSERT_ERR(pond_fs_mkdir(t.fs, NULL, "/a/t", POND_FS_MKDIR_PARENTS), POND_EEXISTS);
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/a/t"));
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_FILE_TABLE);
    PT_ASSERT_INT_EQ(st.size, 0);
    PT_ASSERT_INT_EQ(st.version, 1);
    PT_ASSERT(st.mtime_us > 0 && st.btime_us == st.mtime_us);
    /* a trailing slash means "must be a directory" */
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/a/t/"), POND_ENOTDIR);
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/a/t/x"), POND_ENOTDIR);
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/a/b/"));
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_DIRECTORY);
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/"));
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_DIRECTORY);
    pond_node_id root = pond_node_id_root();
    PT_ASSERT(pond_node_id_equal(&st.id, &root));
    char ids[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(ids, &st.id);
    PT_ASSERT_STR_EQ(ids, "00000000-0000-7000-8000-000000000000");
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/a/b/c"));
    pond_node_id_format(ids, &st.id);
    PT_ASSERT_INT_EQ(ids[14], '7'); /* UUIDv7 */
    pond_node_id back;
    PT_ASSERT_OK(pond_node_id_parse(&back, ids));
    PT_ASSERT(pond_node_id_equal(&back, &st.id));
    PT_ASSERT_ERR(pond_node_id_parse(&back, "not-a-uuid"), POND_EINVALID);
    /* the layout to the character: groups of 8-4-4-4-12 digits, either case, nothing after */
    PT_ASSERT_OK(pond_node_id_parse(&back, "0123ABCD-ef01-7000-8000-0123456789AB"));
    pond_node_id_format(ids, &back);
    PT_ASSERT_STR_EQ(ids, "0123abcd-ef01-7000-8000-0123456789ab");
    static const char *const bad[] = {
        "",
        "0123abcd",
        "0123abcd-ef01-7000-8000-0123456789a",
        "0123abcd-ef01-7000-8000-0123456789abc",
        "0123abcdef01-7000-8000-0123456789ab-",
        "0123abc-def01-7000-8000-0123456789ab",
        "0123abcd-ef01-7000-8000_0123456789ab",
        "0123abcd-ef01-7000-8000-0123456789ag",
        "0123abcd-ef01-7000-8000-0123456789a\xc3",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        PT_ASSERT_ERR(pond_node_id_parse(&back, bad[i]), POND_EINVALID);
    int64_t seq = 0;
    PT_ASSERT_OK(pond_fs_commit(&seq, t.fs));
    PT_ASSERT_INT_EQ(seq, 1);
    PT_ASSERT_ERR(pond_fs_commit(&seq, t.fs), POND_ETXN);
    tfs_close(&t);
}

static void test_readdir_order(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    const char *names[] = {"zeta", "Alpha", "beta", "a", "b\xc3\xa9", "10", "9"};
    for (size_t i = 0; i < 7; i++) {
        char p[64];
        snprintf(p, sizeof p, "/d/%s", names[i]);
        if (i == 0)
            PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/d", 0));
        PT_ASSERT_OK(i % 2 ? pond_fs_mkdir(t.fs, NULL, p, 0)
                           : pond_fs_write_all(t.fs, NULL, p, POND_ENTRY_NONE, "x", 1));
    }
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_fs_dirent *e = NULL;
    size_t n = 0;
    PT_ASSERT_OK(pond_fs_readdir(&e, &n, t.fs, NULL, "/d"));
    const char *want[] = {"10", "9", "Alpha", "a", "beta", "b\xc3\xa9", "zeta"}; /* bytes */
    PT_ASSERT_INT_EQ(n, 7);
    for (size_t i = 0; i < n; i++)
        PT_ASSERT_STR_EQ(e[i].name, want[i]);
    pond_fs_dirents_free(e, n);
    PT_ASSERT_ERR(pond_fs_readdir(&e, &n, t.fs, NULL, "/d/zeta"), POND_ENOTDIR);
    PT_ASSERT_ERR(pond_fs_readdir(&e, &n, t.fs, NULL, "/nope"), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("'/nope'");
    tfs_close(&t);
}

static void test_remove(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/d/e/f", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/d/e/f/file", POND_ENTRY_NONE, "x", 1));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/top", POND_ENTRY_NONE, "t", 1));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/empty", 0));
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "/top", "/link"));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT_ERR(pond_fs_remove(t.fs, NULL, "/top", false), POND_ETXN);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_remove(t.fs, NULL, "/top", false));
    PT_ASSERT_ERR(pond_fs_remove(t.fs, NULL, "/top", false), POND_ENOTFOUND);
    PT_ASSERT_OK(pond_fs_remove(t.fs, NULL, "/empty/", false));
    PT_ASSERT_ERR(pond_fs_remove(t.fs, NULL, "/d", false), POND_ENOTEMPTY);
    PT_ASSERT_MSG_HAS("'/d'");
    PT_ASSERT_OK(pond_fs_remove(t.fs, NULL, "/d", true));
    PT_ASSERT_ERR(pond_fs_remove(t.fs, NULL, "/", true), POND_EINVALID);
    /* removing a symlink removes the link, not its (now dangling) target */
    pond_stat st;
    PT_ASSERT_OK(pond_fs_lstat(&st, t.fs, NULL, "/link"));
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_SYMLINK);
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/link"), POND_ENOTFOUND);
    PT_ASSERT_OK(pond_fs_remove(t.fs, NULL, "/link", false));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_fs_dirent *e = NULL;
    size_t n = 9;
    PT_ASSERT_OK(pond_fs_readdir(&e, &n, t.fs, NULL, "/"));
    PT_ASSERT_INT_EQ(n, 0);
    pond_fs_dirents_free(e, n);
    tfs_close(&t);
}

static void test_rename(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/a/b", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/z", 0));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/a/b/f", POND_ENTRY_NONE, "F", 1));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/g", POND_ENTRY_NONE, "G", 1));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_stat before, st;
    PT_ASSERT_OK(pond_fs_stat(&before, t.fs, NULL, "/a/b/f"));
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    /* same directory, new name */
    PT_ASSERT_OK(pond_fs_rename(t.fs, NULL, "/a/b/f", "/a/b/f2"));
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/a/b/f"), POND_ENOTFOUND);
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/a/b/f2"));
    PT_ASSERT(pond_node_id_equal(&st.id, &before.id));
    PT_ASSERT_INT_EQ(st.version, before.version); /* same directory: the node is unchanged */
    /* into an existing directory keeps the name */
    PT_ASSERT_OK(pond_fs_rename(t.fs, NULL, "/a/b/f2", "/z"));
    PT_ASSERT_CONTENT(t.fs, NULL, "/z/f2", "F");
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/z/f2"));
    PT_ASSERT_INT_EQ(st.version, before.version); /* another directory: still unchanged */
    /* existing target */
    PT_ASSERT_ERR(pond_fs_rename(t.fs, NULL, "/g", "/z/f2"), POND_EEXISTS);
    PT_ASSERT_ERR(pond_fs_rename(t.fs, NULL, "/nope", "/x"), POND_ENOTFOUND);
    PT_ASSERT_ERR(pond_fs_rename(t.fs, NULL, "/g", "/nodir/x"), POND_ENOTFOUND);
    PT_ASSERT_ERR(pond_fs_rename(t.fs, NULL, "/g", "/newdir/"), POND_ENOTFOUND);
    /* a directory cannot move into itself */
    PT_ASSERT_ERR(pond_fs_rename(t.fs, NULL, "/a", "/a/b/inside"), POND_EINVALID);
    PT_ASSERT_MSG_HAS("into itself");
    PT_ASSERT_ERR(pond_fs_rename(t.fs, NULL, "/a", "/a/b"), POND_EINVALID);
    PT_ASSERT_ERR(pond_fs_rename(t.fs, NULL, "/", "/x"), POND_EINVALID);
    /* a whole directory moves with its contents */
    PT_ASSERT_OK(pond_fs_rename(t.fs, NULL, "/a", "/z/moved"));
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/z/moved/b"));
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_DIRECTORY);
    PT_ASSERT_OK(pond_fs_rename(t.fs, NULL, "/g", "/g"));
    PT_ASSERT_OK(pond_fs_rename(t.fs, NULL, "/z", "/z/")); /* a directory onto itself */
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT_CONTENT(t.fs, NULL, "/g", "G");
    PT_ASSERT_CONTENT(t.fs, NULL, "/z/f2", "F");
    pond_fs_dirent *e = NULL;
    size_t n = 0;
    PT_ASSERT_OK(pond_fs_readdir(&e, &n, t.fs, NULL, "/"));
    PT_ASSERT_INT_EQ(n, 2);
    PT_ASSERT_STR_EQ(e[0].name, "g");
    PT_ASSERT_STR_EQ(e[1].name, "z");
    pond_fs_dirents_free(e, n);
    tfs_close(&t);
}

static void test_symlinks(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/data/2024", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/data/2024/x", POND_ENTRY_NONE, "X", 1));
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "2024", "/data/latest"));   /* relative */
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "/data/latest/x", "/abs")); /* absolute */
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "../data/./2024/../2024", "/data/up"));
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "missing", "/dangling"));
    PT_ASSERT_ERR(pond_fs_symlink(t.fs, NULL, "x", "/abs"), POND_EEXISTS);
    PT_ASSERT_ERR(pond_fs_symlink(t.fs, NULL, "", "/empty"), POND_EINVALID);
    PT_ASSERT_CONTENT(t.fs, NULL, "/data/latest/x", "X");
    PT_ASSERT_CONTENT(t.fs, NULL, "/abs", "X");
    PT_ASSERT_CONTENT(t.fs, NULL, "/data/up/x", "X");
    char *target = NULL;
    PT_ASSERT_OK(pond_fs_readlink(&target, t.fs, NULL, "/data/latest"));
    PT_ASSERT_STR_EQ(target, "2024");
    pond_free(target);
    PT_ASSERT_ERR(pond_fs_readlink(&target, t.fs, NULL, "/data/2024"), POND_EINVALID);
    pond_stat st, lst;
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/data/latest"));
    PT_ASSERT_OK(pond_fs_lstat(&lst, t.fs, NULL, "/data/latest"));
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_DIRECTORY);
    PT_ASSERT_INT_EQ(lst.type, POND_ENTRY_SYMLINK);
    PT_ASSERT_INT_EQ(lst.size, 4);
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/dangling"), POND_ENOTFOUND);
    /* writing through a dangling symlink creates its target */
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/dangling", POND_ENTRY_NONE, "M", 1));
    PT_ASSERT_CONTENT(t.fs, NULL, "/missing", "M");
    /* a working directory reached through a symlink keeps the physical path */
    pond_wd *wd = NULL;
    PT_ASSERT_OK(pond_wd_open(&wd, t.fs, NULL, "/data/latest"));
    PT_ASSERT_STR_EQ(pond_wd_path(wd), "/data/2024");
    PT_ASSERT_CONTENT(t.fs, wd, "x", "X");
    PT_ASSERT_CONTENT(t.fs, wd, "../latest/x", "X");
    pond_wd_free(wd);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    tfs_close(&t);
}

static void test_symlink_loop(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "/b", "/a"));
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "/a", "/b"));
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "self", "/self"));
    pond_stat st;
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/a"), POND_ELOOP);
    PT_ASSERT_MSG_HAS("too many levels of symbolic links");
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/self/x"), POND_ELOOP);
    PT_ASSERT_OK(pond_fs_lstat(&st, t.fs, NULL, "/a")); /* not followed: fine */
    /* a chain of exactly 40 hops resolves; 41 is too many */
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/end", POND_ENTRY_NONE, "end", 3));
    for (int i = 1; i <= 41; i++) {
        char link[32], target[32];
        snprintf(link, sizeof link, "/h%d", i);
        if (i == 1)
            snprintf(target, sizeof target, "/end");
        else
            snprintf(target, sizeof target, "h%d", i - 1);
        PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, target, link));
    }
    PT_ASSERT_CONTENT(t.fs, NULL, "/h40", "end");
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/h41"), POND_ELOOP);
    PT_ASSERT_MSG_HAS("40");
    pond_fs_abort(t.fs);
    tfs_close(&t);
}

static void test_txn_abort_restores(void)
{
    tfs t = tfs_open(8);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/keep", 0));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/keep/f", POND_ENTRY_NONE, "v1", 2));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_stat root_before, f_before, st;
    PT_ASSERT_OK(pond_fs_stat(&root_before, t.fs, NULL, "/"));
    PT_ASSERT_OK(pond_fs_stat(&f_before, t.fs, NULL, "/keep/f"));
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(
        pond_fs_write_all(t.fs, NULL, "/keep/f", POND_ENTRY_NONE, "v2 spilled past 8", 17));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/new/deep", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_rename(t.fs, NULL, "/keep", "/renamed"));
    PT_ASSERT_OK(pond_fs_set_xattrs(t.fs, NULL, "/renamed/f", "{\"a\":1}"));
    /* reads inside the transaction see its own writes */
    PT_ASSERT_CONTENT(t.fs, NULL, "/renamed/f", "v2 spilled past 8");
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/renamed/f"));
    PT_ASSERT_INT_EQ(st.version, 2);
    pond_fs_abort(t.fs);
    PT_ASSERT(!pond_fs_in_txn(t.fs));
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/new"), POND_ENOTFOUND);
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/renamed"), POND_ENOTFOUND);
    PT_ASSERT_CONTENT(t.fs, NULL, "/keep/f", "v1");
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/keep/f"));
    PT_ASSERT_INT_EQ(st.version, f_before.version);
    PT_ASSERT(pond_hash_equal(&st.sha256, &f_before.sha256));
    char *x = (char *)"sentinel";
    PT_ASSERT_OK(pond_fs_get_xattrs(&x, t.fs, NULL, "/keep/f"));
    PT_ASSERT(x == NULL);
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/"));
    PT_ASSERT_INT_EQ(st.version, root_before.version);
    PT_ASSERT_INT_EQ(st.size, root_before.size);
    int64_t last;
    PT_ASSERT_OK(pond_fs_last_txn(&last, t.fs));
    PT_ASSERT_INT_EQ(last, 1);
    PT_ASSERT_INT_EQ(tmp_entries(), 0);
    /* the next transaction numbers on from the last committed one */
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/keep/f", POND_ENTRY_NONE, "v2", 2));
    int64_t seq;
    PT_ASSERT_OK(pond_fs_commit(&seq, t.fs));
    PT_ASSERT_INT_EQ(seq, 2);
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/keep/f"));
    PT_ASSERT_INT_EQ(st.version, 2);
    PT_ASSERT_INT_EQ(st.txn_seq, 2);
    PT_ASSERT(st.btime_us == f_before.mtime_us);
    tfs_close(&t);
}

static void test_versions_counter(void)
{
    tfs t = tfs_open(0);
    for (int i = 0; i < 4; i++) {
        PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
        char body[8];
        snprintf(body, sizeof body, "v%d", i + 1);
        /* several writes in one transaction still make one version */
        for (int k = 0; k < 3; k++)
            PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/f", POND_ENTRY_NONE, body, strlen(body)));
        if (i == 2)
            PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/other", POND_ENTRY_NONE, "o", 1));
        PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    }
    pond_stat *v = NULL;
    size_t n = 0;
    PT_ASSERT_OK(pond_fs_versions(&v, &n, t.fs, NULL, "/f"));
    PT_ASSERT_INT_EQ(n, 4);
    for (size_t i = 0; i < n; i++) {
        PT_ASSERT_INT_EQ(v[i].version, (int64_t)i + 1);
        PT_ASSERT_INT_EQ(v[i].txn_seq, (int64_t)i + 1);
        PT_ASSERT_INT_EQ(v[i].size, 2);
    }
    pond_free(v);
    PT_ASSERT_OK(pond_fs_versions(&v, &n, t.fs, NULL, "/"));
    PT_ASSERT_INT_EQ(n, 2); /* the root changed only when names were added */
    pond_free(v);
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/other"));
    PT_ASSERT_INT_EQ(st.version, 1);
    PT_ASSERT_INT_EQ(st.txn_seq, 3);
    pond_reader *r = NULL;
    PT_ASSERT_OK(pond_fs_open_reader_version(&r, t.fs, NULL, "/f", 3));
    char buf[4] = {0};
    PT_ASSERT_OK(pond_reader_read_exact(r, buf, 2));
    PT_ASSERT_STR_EQ(buf, "v3");
    pond_reader_free(r);
    PT_ASSERT_ERR(pond_fs_open_reader_version(&r, t.fs, NULL, "/f", 9), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("/f");
    tfs_close(&t);
}

static void test_wd_relative(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/w/x", POND_FS_MKDIR_PARENTS));
    pond_wd *wd = NULL, *wd2 = NULL;
    PT_ASSERT_OK(pond_wd_open(&wd, t.fs, NULL, "w"));
    PT_ASSERT_STR_EQ(pond_wd_path(wd), "/w");
    PT_ASSERT_OK(pond_fs_write_all(t.fs, wd, "x/../file", POND_ENTRY_NONE, "wf", 2));
    PT_ASSERT_CONTENT(t.fs, NULL, "/w/file", "wf");
    PT_ASSERT_OK(pond_wd_open(&wd2, t.fs, wd, "x"));
    PT_ASSERT_STR_EQ(pond_wd_path(wd2), "/w/x");
    PT_ASSERT_CONTENT(t.fs, wd2, "../file", "wf");
    PT_ASSERT_CONTENT(t.fs, wd2, "../../../w/file", "wf");
    PT_ASSERT_CONTENT(t.fs, wd2, "/w/file", "wf");
    pond_wd *bad = NULL;
    PT_ASSERT_ERR(pond_wd_open(&bad, t.fs, wd, "file"), POND_ENOTDIR);
    PT_ASSERT_ERR(pond_wd_open(&bad, t.fs, wd, "nope"), POND_ENOTFOUND);
    pond_wd_free(wd2);
    pond_wd_free(wd);
    pond_fs_abort(t.fs);
    tfs_close(&t);
}

PT_SUITE(tinyfs_ns, PT_TEST(path_normalize), PT_TEST(bad_names), PT_TEST(mkdir_create_stat),
         PT_TEST(readdir_order), PT_TEST(remove), PT_TEST(rename), PT_TEST(symlinks),
         PT_TEST(symlink_loop), PT_TEST(txn_abort_restores), PT_TEST(versions_counter),
         PT_TEST(wd_relative))
