/* pond_oplog_refresh: a reader following another writer commit by commit sees each whole
 * transaction, through appends to loaded partitions, merges (remove + add) and new
 * directories, without reopening the pond. */
#include "pt.h"

#include <pond/oplog.h>
#include <pond/stream.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    pond_backend *be;
    pond_fs *fs;
} side;

static void side_open(side *s, const char *dir)
{
    PT_ASSERT_OK(pond_oplog_open(&s->be, dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&s->fs, s->be, NULL));
}

static void side_close(side *s)
{
    pond_fs_free(s->fs);
    pond_backend_free(s->be);
}

static void write_file(side *w, const char *path, const char *text)
{
    PT_ASSERT_OK(pond_fs_begin(w->fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(w->fs, NULL, path, POND_ENTRY_FILE_DATA, text, strlen(text)));
    PT_ASSERT_OK(pond_fs_commit(NULL, w->fs));
}

static void expect_text(side *r, const char *path, const char *want)
{
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, r->fs, NULL, path));
    PT_ASSERT_INT_EQ((int64_t)b.size, (int64_t)strlen(want));
    int same = memcmp(b.ptr, want, b.size) == 0;
    pond_buf_dispose(&b);
    PT_ASSERT(same);
}

static int64_t versions_of(side *r, const char *path)
{
    pond_stat *v = NULL;
    size_t n = 0;
    PT_ASSERT_OK(pond_fs_versions(&v, &n, r->fs, NULL, path));
    pond_free(v);
    return (int64_t)n;
}

static void test_follows_writer(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/pond", PT_TMPDIR());
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    side w, r;
    side_open(&w, dir);
    PT_ASSERT_OK(pond_fs_begin(w.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(w.fs, NULL, "/d", 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, w.fs));
    write_file(&w, "/d/a", "a1");
    side_open(&r, dir);
    expect_text(&r, "/d/a", "a1"); /* loads the partition of /d */
    int64_t txn = -1, before;
    PT_ASSERT_OK(pond_fs_last_txn(&before, r.fs));
    /* nothing new: nothing changes */
    PT_ASSERT_OK(pond_oplog_refresh(&txn, r.be));
    PT_ASSERT_INT_EQ(txn, before);
    /* 20 commits to the loaded partition: appends, then merges (remove + add) on the way,
     * a new directory and a file in it */
    char text[32];
    for (int i = 2; i <= 21; i++) {
        snprintf(text, sizeof text, "a%d", i);
        write_file(&w, "/d/a", text);
        if (i % 7 == 0) { /* refresh in between: each step is one whole transaction */
            PT_ASSERT_OK(pond_oplog_refresh(&txn, r.be));
            expect_text(&r, "/d/a", text);
            PT_ASSERT_INT_EQ(versions_of(&r, "/d/a"), i);
        }
    }
    PT_ASSERT_OK(pond_fs_begin(w.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(w.fs, NULL, "/d/e", 0));
    PT_ASSERT_OK(pond_fs_write_all(w.fs, NULL, "/d/e/b", POND_ENTRY_FILE_DATA, "b1", 2));
    PT_ASSERT_OK(pond_fs_commit(NULL, w.fs));
    int64_t wrote;
    PT_ASSERT_OK(pond_fs_last_txn(&wrote, w.fs));
    pond_stat st;
    PT_ASSERT_INT_EQ(pond_fs_stat(&st, r.fs, NULL, "/d/e/b"), POND_ENOTFOUND); /* not yet */
    PT_ASSERT_OK(pond_oplog_refresh(&txn, r.be));
    PT_ASSERT_INT_EQ(txn, wrote);
    expect_text(&r, "/d/a", "a21");
    PT_ASSERT_INT_EQ(versions_of(&r, "/d/a"), 21);
    expect_text(&r, "/d/e/b", "b1");
    /* every old version still reads as it was written */
    for (int64_t k = 1; k <= 21; k++) {
        pond_reader *rd = NULL;
        char want[32], got[32];
        snprintf(want, sizeof want, "a%lld", (long long)k);
        PT_ASSERT_OK(pond_fs_open_reader_version(&rd, r.fs, NULL, "/d/a", k));
        size_t n = 0;
        PT_ASSERT_OK(pond_reader_read(rd, got, sizeof got, &n));
        pond_reader_free(rd);
        PT_ASSERT_INT_EQ((int64_t)n, (int64_t)strlen(want));
        PT_ASSERT(memcmp(got, want, n) == 0);
    }
    side_close(&r);
    side_close(&w);
}

/* A reader freshly opened and one refreshed agree on every path and version. */
static void test_refreshed_equals_reopened(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/pond", PT_TMPDIR());
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    side w, r, fresh;
    side_open(&w, dir);
    side_open(&r, dir);
    PT_ASSERT_OK(pond_fs_begin(w.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(w.fs, NULL, "/x", 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, w.fs));
    static const char *const names[] = {"/x/p", "/x/q", "/r"};
    for (int i = 0; i < 30; i++) {
        char text[32];
        snprintf(text, sizeof text, "v%d", i);
        write_file(&w, names[i % 3], text);
        if (i % 4 == 0) {
            PT_ASSERT_OK(pond_oplog_refresh(NULL, r.be));
            pond_stat st;
            PT_ASSERT_OK(pond_fs_stat(&st, r.fs, NULL, names[i % 3]));
        }
    }
    PT_ASSERT_OK(pond_oplog_refresh(NULL, r.be));
    side_open(&fresh, dir);
    for (int k = 0; k < 3; k++) {
        PT_ASSERT_INT_EQ(versions_of(&r, names[k]), versions_of(&fresh, names[k]));
        pond_buf a = POND_BUF_INIT, b = POND_BUF_INIT;
        PT_ASSERT_OK(pond_fs_read_all(&a, r.fs, NULL, names[k]));
        PT_ASSERT_OK(pond_fs_read_all(&b, fresh.fs, NULL, names[k]));
        int same = a.size == b.size && memcmp(a.ptr, b.ptr, a.size) == 0;
        pond_buf_dispose(&a);
        pond_buf_dispose(&b);
        PT_ASSERT(same);
    }
    side_close(&fresh);
    side_close(&r);
    side_close(&w);
}

PT_SUITE(oplog_refresh, PT_TEST(follows_writer), PT_TEST(refreshed_equals_reopened))
