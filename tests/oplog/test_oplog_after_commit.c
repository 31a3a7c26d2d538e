/* The work after a commit (merges, checkpoints; oplog_checkpoint.c) reports its failures and
 * retries them: the commit succeeds and is durable, pond_oplog_maintenance_error says what
 * failed, and the next commit (in this process or another) writes the checkpoint. */
#include "pt.h"

#include <pond/delta.h>
#include <pond/oplog.h>
#include <pond/sys/backend.h>
#include <pond/sys/os.h>
#include <pond/tinyfs.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- an OS table whose checkpoint writes fail with ENOSPC while asked to --------------- */

static bool g_fail_checkpoints;
static int g_failed_opens;
static pond_os g_os;

static int open_failing_checkpoints(const char *path, int flags, mode_t mode)
{
    /* the checkpoint's temporary file: "_delta_log/.tmp-<version>.checkpoint-..." */
    if (g_fail_checkpoints && strstr(path, ".checkpoint-")) {
        g_failed_opens++;
        errno = ENOSPC;
        return -1;
    }
    return pond_os_real()->open(path, flags, mode);
}

static void install_os(void)
{
    g_os = *pond_os_real();
    g_os.open = open_failing_checkpoints;
    g_fail_checkpoints = false;
    g_failed_opens = 0;
    pond_os_set(&g_os);
}

/* ---- a pond with a checkpoint every 2 commits ------------------------------------------- */

static void make_pond(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/pond", PT_TMPDIR());
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    /* the interval is pond-wide configuration in commit 0's metaData */
    char path[4300];
    snprintf(path, sizeof path, "%s/_delta_log/00000000000000000000.json", dir);
    pond_buf b = POND_BUF_INIT;
    FILE *f = fopen(path, "rb");
    PT_ASSERT(f);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        PT_ASSERT_OK(pond_buf_put(&b, chunk, n));
    fclose(f);
    char *at = strstr(b.ptr, "\"configuration\":{");
    PT_ASSERT(at);
    at += strlen("\"configuration\":{");
    f = fopen(path, "wb");
    PT_ASSERT(f);
    fwrite(b.ptr, 1, (size_t)(at - b.ptr), f);
    fputs("\"pond.checkpoint_interval\":\"2\",", f);
    fputs(at, f);
    PT_ASSERT(fclose(f) == 0);
    pond_buf_dispose(&b);
}

static bool has_checkpoint(const char *dir, int64_t version)
{
    char path[4300];
    struct stat st;
    snprintf(path, sizeof path, "%s/_delta_log/%020lld.checkpoint.parquet", dir,
             (long long)version);
    return stat(path, &st) == 0;
}

typedef struct {
    pond_backend *be;
    pond_fs *fs;
} handle;

static void open_pond(handle *h, const char *dir)
{
    PT_ASSERT_OK(pond_oplog_open(&h->be, dir, NULL));
    PT_ASSERT_OK(pond_oplog_lock(h->be, true));
    PT_ASSERT_OK(pond_fs_open(&h->fs, h->be, NULL));
}

static void close_pond(handle *h)
{
    pond_fs_free(h->fs);
    pond_oplog_unlock(h->be);
    pond_backend_free(h->be);
    memset(h, 0, sizeof *h);
}

/* Commits /f<i> holding "data <i>"; the commit must succeed whatever follows it. */
static int64_t put(handle *h, int i)
{
    char path[32], data[32];
    snprintf(path, sizeof path, "/f%d", i);
    snprintf(data, sizeof data, "data %d", i);
    PT_ASSERT_OK(pond_fs_begin(h->fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(h->fs, NULL, path, POND_ENTRY_FILE_DATA, data, strlen(data)));
    int64_t v = -1;
    PT_ASSERT_OK(pond_fs_commit(&v, h->fs));
    return v;
}

static void check_all(handle *h, int n)
{
    for (int i = 1; i <= n; i++) {
        char path[32], want[32];
        snprintf(path, sizeof path, "/f%d", i);
        snprintf(want, sizeof want, "data %d", i);
        pond_buf b = POND_BUF_INIT;
        PT_ASSERT_OK(pond_fs_read_all(&b, h->fs, NULL, path));
        PT_ASSERT_INT_EQ(b.size, strlen(want));
        PT_ASSERT(!memcmp(b.ptr, want, b.size));
        pond_buf_dispose(&b);
    }
}

static void test_checkpoint_failure_reported_then_retried(void)
{
    char dir[4200];
    make_pond(dir, sizeof dir);
    install_os();
    handle h;
    open_pond(&h, dir);
    PT_ASSERT_INT_EQ(put(&h, 1), 1);
    PT_ASSERT(pond_oplog_maintenance_error(h.be) == NULL);
    /* commit 2 is due a checkpoint, and the disk is full for it */
    g_fail_checkpoints = true;
    PT_ASSERT_INT_EQ(put(&h, 2), 2);
    PT_ASSERT(g_failed_opens > 0);
    const char *m = pond_oplog_maintenance_error(h.be);
    PT_ASSERT(m != NULL);
    PT_ASSERT(strstr(m, "transaction 2 is committed, but writing the checkpoint failed"));
    PT_ASSERT(strstr(m, "retried at the next commit"));
    PT_ASSERT(strstr(m, strerror(ENOSPC)));
    PT_ASSERT(!has_checkpoint(dir, 2));
    /* the commit is durable: another handle sees it */
    handle other;
    PT_ASSERT_OK(pond_oplog_open(&other.be, dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&other.fs, other.be, NULL));
    check_all(&other, 2);
    pond_fs_free(other.fs);
    pond_backend_free(other.be);
    /* commit 3 is not a multiple of the interval: the missed checkpoint is written anyway */
    g_fail_checkpoints = false;
    PT_ASSERT_INT_EQ(put(&h, 3), 3);
    PT_ASSERT(pond_oplog_maintenance_error(h.be) == NULL);
    PT_ASSERT(has_checkpoint(dir, 3));
    check_all(&h, 3);
    close_pond(&h);
    /* everything reads back from the checkpoint */
    pond_os_set(NULL);
    pond_delta_table *t = NULL;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    PT_ASSERT_INT_EQ(pond_delta_table_checkpoint_version(t), 3);
    pond_delta_table_free(t);
    open_pond(&h, dir);
    check_all(&h, 3);
    close_pond(&h);
}

static void test_missed_checkpoint_retried_by_the_next_process(void)
{
    char dir[4200];
    make_pond(dir, sizeof dir);
    install_os();
    handle h;
    open_pond(&h, dir);
    put(&h, 1);
    g_fail_checkpoints = true;
    put(&h, 2);
    PT_ASSERT(pond_oplog_maintenance_error(h.be) != NULL);
    close_pond(&h);
    /* a new process (a new handle): the missing checkpoint is seen when the pond is opened */
    g_fail_checkpoints = false;
    open_pond(&h, dir);
    PT_ASSERT(pond_oplog_maintenance_error(h.be) == NULL);
    PT_ASSERT_INT_EQ(put(&h, 3), 3);
    PT_ASSERT(pond_oplog_maintenance_error(h.be) == NULL);
    PT_ASSERT(has_checkpoint(dir, 3));
    check_all(&h, 3);
    close_pond(&h);
    pond_os_set(NULL);
}

static void test_repeated_failure_keeps_commits(void)
{
    char dir[4200];
    make_pond(dir, sizeof dir);
    install_os();
    handle h;
    open_pond(&h, dir);
    g_fail_checkpoints = true;
    /* every commit after the first missed checkpoint retries it, and says so */
    for (int i = 1; i <= 5; i++) {
        PT_ASSERT_INT_EQ(put(&h, i), i);
        if (i >= 2)
            PT_ASSERT(pond_oplog_maintenance_error(h.be) != NULL);
    }
    PT_ASSERT(g_failed_opens >= 4);
    close_pond(&h);
    g_fail_checkpoints = false;
    pond_os_set(NULL);
    for (int64_t v = 1; v <= 5; v++)
        PT_ASSERT(!has_checkpoint(dir, v));
    /* no checkpoint at all: the pond reads from its JSON commits, every file there */
    open_pond(&h, dir);
    check_all(&h, 5);
    put(&h, 6);
    PT_ASSERT(has_checkpoint(dir, 6));
    close_pond(&h);
}

PT_SUITE(oplog_after_commit, PT_TEST(checkpoint_failure_reported_then_retried),
         PT_TEST(missed_checkpoint_retried_by_the_next_process),
         PT_TEST(repeated_failure_keeps_commits))
