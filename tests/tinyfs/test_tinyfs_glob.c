/* Globs: single-name patterns with captures, and tree walks with '**'. */
#include "tinyfs_test.h"

#include <pond/buf.h>

static void expect_pat(const char *pat, const char *name, int want, const char *want_caps)
{
    pond_glob_pat *p = NULL;
    PT_ASSERT_OK(pond_glob_pat_compile(&p, pat, strlen(pat)));
    size_t caps[8][2], n = 0;
    int got = pond_glob_pat_match(p, name, strlen(name), caps, 8, &n);
    pond_buf b = POND_BUF_INIT;
    for (size_t i = 0; got && i < n; i++)
        PT_ASSERT_OK(pond_buf_printf(&b, "%s%.*s", i ? "|" : "", (int)(caps[i][1] - caps[i][0]),
                                     name + caps[i][0]));
    pond_glob_pat_free(p);
    bool ok = got == want && (!want || strcmp(b.size ? b.ptr : "", want_caps) == 0);
    if (!ok)
        printf("  pattern '%s' on '%s': got %d caps '%s'\n", pat, name, got, b.size ? b.ptr : "");
    pond_buf_dispose(&b);
    PT_ASSERT(ok);
}

static void test_name_patterns(void)
{
    expect_pat("*", "anything", 1, "anything");
    expect_pat("*", "", 1, "");
    expect_pat("*.csv", "jan.csv", 1, "jan");
    expect_pat("*.csv", "jan.csv.bak", 0, NULL);
    expect_pat("a*b*c", "aXbYbZc", 1, "X|YbZ");
    expect_pat("?", "\xc3\xa9", 1, "\xc3\xa9"); /* one character, not one byte */
    expect_pat("??", "\xc3\xa9", 0, NULL);
    expect_pat("[abc]x", "bx", 1, "b");
    expect_pat("[a-c][!0-9]", "cZ", 1, "c|Z");
    expect_pat("[a-c][!0-9]", "c5", 0, NULL);
    expect_pat("[^a]", "b", 1, "b");
    expect_pat("[]]", "]", 1, "]");
    expect_pat("[\xc3\xa0-\xc3\xbf]", "\xc3\xa9", 1, "\xc3\xa9");
    expect_pat("a\\*b", "a*b", 1, "");
    expect_pat("a\\*b", "axb", 0, NULL);
    expect_pat("**x", "yyx", 1, "yy"); /* '**' within a name is '*' */
    expect_pat("*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, NULL);
    pond_glob_pat *p = NULL;
    PT_ASSERT_ERR(pond_glob_pat_compile(&p, "[abc", 4), POND_EINVALID);
    PT_ASSERT_MSG_HAS("unterminated");
    PT_ASSERT_ERR(pond_glob_pat_compile(&p, "[z-a]", 5), POND_EINVALID);
    PT_ASSERT_ERR(pond_glob_pat_compile(&p, "a/b", 3), POND_EINVALID);
    PT_ASSERT(p == NULL);
}

typedef struct {
    pond_buf out;
    int count;
    int stop_after;
} collect;

static int collect_cb(const char *path, const pond_stat *st, const char *const *caps, size_t n,
                      void *payload)
{
    collect *c = payload;
    pond_buf_printf(&c->out, "%s%s", c->count ? ";" : "", path);
    if (st->type == POND_ENTRY_DIRECTORY)
        pond_buf_puts(&c->out, "/");
    for (size_t i = 0; i < n; i++)
        pond_buf_printf(&c->out, "%s%s", i ? "," : "[", caps[i]);
    if (n)
        pond_buf_puts(&c->out, "]");
    c->count++;
    return c->stop_after && c->count >= c->stop_after ? 42 : 0;
}

static void expect_glob(pond_fs *fs, const pond_wd *wd, const char *pattern, const char *want)
{
    collect c = {POND_BUF_INIT, 0, 0};
    PT_ASSERT_OK(pond_fs_glob(fs, wd, pattern, collect_cb, &c));
    bool ok = strcmp(c.out.size ? c.out.ptr : "", want) == 0;
    if (!ok)
        printf("  glob '%s':\n    got  %s\n    want %s\n", pattern, c.out.size ? c.out.ptr : "",
               want);
    pond_buf_dispose(&c.out);
    PT_ASSERT(ok);
}

static tfs glob_tree(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    const char *files[] = {"/data/2023/jan.csv",   "/data/2023/feb.csv", "/data/2024/jan.csv",
                           "/data/2024/notes.txt", "/data/top.csv",      "/data/sub/deep/x.csv",
                           "/other.csv",           "/star/a*b",          "/star/axb"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char dir[64];
        snprintf(dir, sizeof dir, "%s", files[i]);
        *strrchr(dir, '/') = '\0';
        if (!dir[0])
            strcpy(dir, "/");
        PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, dir, POND_FS_MKDIR_PARENTS));
        PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, files[i], POND_ENTRY_NONE, "x", 1));
    }
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "/data", "/data/sub/loop"));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    return t;
}

static void test_glob_tree(void)
{
    tfs t = glob_tree();
    expect_glob(t.fs, NULL, "/data/*/jan.csv", "/data/2023/jan.csv[2023];/data/2024/jan.csv[2024]");
    /* '**' matches zero directories too, and captures what it crossed */
    expect_glob(t.fs, NULL, "/data/**/*.csv",
                "/data/top.csv[,top];/data/2023/feb.csv[2023,feb];/data/2023/jan.csv[2023,jan];"
                "/data/2024/jan.csv[2024,jan];/data/sub/deep/x.csv[sub/deep,x]");
    expect_glob(t.fs, NULL, "/**/jan.csv",
                "/data/2023/jan.csv[data/2023];/data/2024/jan.csv[data/2024]");
    expect_glob(t.fs, NULL, "/data/202?/[fj]*.csv",
                "/data/2023/feb.csv[3,f,eb];/data/2023/jan.csv[3,j,an];/data/2024/jan.csv[4,j,an]");
    expect_glob(t.fs, NULL, "/data/2024/[!j]*", "/data/2024/notes.txt[n,otes.txt]");
    expect_glob(t.fs, NULL, "/data/sub/**",
                "/data/sub/[];/data/sub/deep/[deep];/data/sub/deep/x.csv[deep/x.csv];"
                "/data/sub/loop[loop]");
    expect_glob(t.fs, NULL, "/*.csv", "/other.csv[other]");
    expect_glob(t.fs, NULL, "/star/a\\*b", "/star/a*b");
    expect_glob(t.fs, NULL, "/star/a?b", "/star/a*b[*];/star/axb[x]");
    expect_glob(t.fs, NULL, "/nothing/**", "");
    expect_glob(t.fs, NULL, "/data/./2023/../2024/j*", "/data/2024/jan.csv[an.csv]");
    /* literal components follow symlinks; wildcards do not */
    expect_glob(t.fs, NULL, "/data/sub/loop/top.csv", "/data/sub/loop/top.csv");
    expect_glob(t.fs, NULL, "/data/sub/*/top.csv", "");
    pond_wd *wd = NULL;
    PT_ASSERT_OK(pond_wd_open(&wd, t.fs, NULL, "/data"));
    expect_glob(t.fs, wd, "2023/*", "/data/2023/feb.csv[feb.csv];/data/2023/jan.csv[jan.csv]");
    pond_wd_free(wd);
    collect c = {POND_BUF_INIT, 0, 2};
    PT_ASSERT_INT_EQ(pond_fs_glob(t.fs, NULL, "/**", collect_cb, &c), 42);
    PT_ASSERT_INT_EQ(c.count, 2);
    pond_buf_dispose(&c.out);
    PT_ASSERT_ERR(pond_fs_glob(t.fs, NULL, "/data/[x", collect_cb, &c), POND_EINVALID);
    PT_ASSERT_ERR(pond_fs_glob(t.fs, NULL, "", collect_cb, &c), POND_EINVALID);
    tfs_close(&t);
}

/* The callback may change the tree it is walking (the walk sees a snapshot). */
static int remove_cb(const char *path, const pond_stat *st, const char *const *caps, size_t n,
                     void *payload)
{
    (void)st, (void)caps, (void)n;
    return pond_fs_remove(payload, NULL, path, false);
}

static void test_glob_callback_mutates(void)
{
    tfs t = glob_tree();
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_glob(t.fs, NULL, "/data/**/*.csv", remove_cb, t.fs));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    expect_glob(t.fs, NULL, "/data/**/*.csv", "");
    expect_glob(t.fs, NULL, "/data/2024/*", "/data/2024/notes.txt[notes.txt]");
    tfs_close(&t);
}

/* Many '**' (and literal components through a symlink loop) used to explore every way of
 * splitting a path among them: exponential (a 248-byte pattern found by the fuzz soak took
 * 20 s). Each (component, path) state is now explored once, and every path is reported once. */
static void test_glob_many_dstars(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/a/b/c/d/e/f/g/h", POND_FS_MKDIR_PARENTS));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/a/b/c/d/e/f/g/h/x", POND_ENTRY_NONE, "1", 1));
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "/a", "/a/b/loop"));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    /* 24 '**': every directory and the file, once each (symlinks are not followed by '**',
     * the loop itself is a file-like entry that the trailing '**' reports) */
    char pat[256] = "";
    for (int i = 0; i < 24; i++)
        strcat(pat, "/**");
    collect c = {POND_BUF_INIT, 0, 0};
    PT_ASSERT_OK(pond_fs_glob(t.fs, NULL, pat, collect_cb, &c));
    PT_ASSERT_INT_EQ(c.count, 1 + 8 + 1 + 1); /* root, a..h, x, loop */
    pond_buf_dispose(&c.out);
    /* the fuzz soak's input: '**' groups between literal 'loop' components */
    collect d = {POND_BUF_INIT, 0, 0};
    PT_ASSERT_OK(pond_fs_glob(t.fs, NULL,
                              "//**//**/**/**/**/loop/****/loop/**/**//**//**/**/**/**/loop/****"
                              "/loop/**/**//**//**/**/**/**/**/loop/****/loop/**/**//**//**/**",
                              collect_cb, &d));
    PT_ASSERT(d.count > 0);
    pond_buf_dispose(&d.out);
    expect_glob(t.fs, NULL, "/**/**/x",
                "/a/b/c/d/e/f/g/h/x[,a/b/c/d/e/f/g/h]"); /* first split wins */
    tfs_close(&t);
}

PT_SUITE(tinyfs_glob, PT_TEST(name_patterns), PT_TEST(glob_tree), PT_TEST(glob_callback_mutates),
         PT_TEST(glob_many_dstars))
