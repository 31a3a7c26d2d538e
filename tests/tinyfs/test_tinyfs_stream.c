/* Streaming handles: readers, writers, buffering and spilling, write protection, threads. */
#include "tinyfs_test.h"

#include "util/util.h"

#include <pthread.h>
#include <stdlib.h>

static void test_reader_basic(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/r", POND_ENTRY_NONE, "0123456789", 10));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_reader *r = NULL;
    PT_ASSERT_OK(pond_fs_open_reader(&r, t.fs, NULL, "/r"));
    PT_ASSERT_INT_EQ(pond_reader_size(r), 10);
    char buf[16] = {0};
    size_t n;
    PT_ASSERT_OK(pond_reader_read(r, buf, 4, &n));
    PT_ASSERT_INT_EQ(n, 4);
    PT_ASSERT_MEM_EQ(buf, "0123", 4);
    PT_ASSERT_INT_EQ(pond_reader_tell(r), 4);
    PT_ASSERT_OK(pond_reader_seek(r, 8));
    PT_ASSERT_OK(pond_reader_read(r, buf, sizeof buf, &n));
    PT_ASSERT_INT_EQ(n, 2);
    PT_ASSERT_MEM_EQ(buf, "89", 2);
    PT_ASSERT_OK(pond_reader_read(r, buf, sizeof buf, &n));
    PT_ASSERT_INT_EQ(n, 0); /* end of stream */
    PT_ASSERT_OK(pond_reader_seek(r, 10));
    PT_ASSERT_ERR(pond_reader_seek(r, 11), POND_EINVALID);
    PT_ASSERT_ERR(pond_reader_seek(r, -1), POND_EINVALID);
    PT_ASSERT_OK(pond_reader_seek(r, 5));
    PT_ASSERT_ERR(pond_reader_read_exact(r, buf, 6), POND_EEOF);
    PT_ASSERT_INT_EQ(pond_reader_tell(r), 5);
    PT_ASSERT_OK(pond_reader_read_exact(r, buf, 5));
    PT_ASSERT_MEM_EQ(buf, "56789", 5);
    PT_ASSERT_OK(pond_reader_pread(r, buf, 3, 1, &n));
    PT_ASSERT_INT_EQ(n, 3);
    PT_ASSERT_MEM_EQ(buf, "123", 3);
    PT_ASSERT_INT_EQ(pond_reader_tell(r), 10);
    /* a reader keeps its content alive after the fs and backend are gone */
    tfs_close(&t);
    PT_ASSERT_OK(pond_reader_pread(r, buf, 10, 0, &n));
    PT_ASSERT_MEM_EQ(buf, "0123456789", 10);
    pond_reader_free(r);
}

static void test_writer_basic(void)
{
    tfs t = tfs_open(0);
    pond_writer *w = NULL;
    PT_ASSERT_ERR(pond_fs_open_writer(&w, t.fs, NULL, "/w", POND_ENTRY_NONE), POND_ETXN);
    PT_ASSERT_MSG_HAS("no open transaction");
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/w", POND_ENTRY_FILE_TABLE));
    PT_ASSERT_OK(pond_writer_write(w, "hello ", 6));
    PT_ASSERT_OK(pond_writer_write(w, "", 0));
    PT_ASSERT_OK(pond_writer_write(w, "world", 5));
    PT_ASSERT_INT_EQ(pond_writer_size(w), 11);
    pond_stat st;
    /* nothing is visible before finish, not even the name */
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/w"), POND_ENOTFOUND);
    PT_ASSERT_OK(pond_writer_finish(w));
    PT_ASSERT_ERR(pond_writer_write(w, "x", 1), POND_EINVALID);
    PT_ASSERT_ERR(pond_writer_finish(w), POND_EINVALID);
    pond_writer_free(w);
    PT_ASSERT_CONTENT(t.fs, NULL, "/w", "hello world");
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/w"));
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_FILE_TABLE);
    PT_ASSERT_INT_EQ(st.size, 11);
    pond_hash h;
    PT_ASSERT_OK(pond_sha256_buf(&h, "hello world", 11));
    PT_ASSERT(pond_hash_equal(&h, &st.sha256));
    /* a different type for an existing file is refused */
    PT_ASSERT_ERR(pond_fs_open_writer(&w, t.fs, NULL, "/w", POND_ENTRY_FILE_DATA), POND_EINVALID);
    PT_ASSERT_MSG_HAS("file:table");
    PT_ASSERT_ERR(pond_fs_open_writer(&w, t.fs, NULL, "/", POND_ENTRY_NONE), POND_EISDIR);
    PT_ASSERT_ERR(pond_fs_open_writer(&w, t.fs, NULL, "/nodir/x", POND_ENTRY_NONE), POND_ENOTFOUND);
    PT_ASSERT_ERR(pond_fs_open_writer(&w, t.fs, NULL, "/w2/", POND_ENTRY_NONE), POND_EISDIR);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT_CONTENT(t.fs, NULL, "/w", "hello world");
    tfs_close(&t);
}

static void test_buffered_below_threshold(void)
{
    tfs t = tfs_open(4096);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    char data[4096];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)('a' + i % 26);
    uint64_t opens = pond_os_calls(POND_OS_OPEN);
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/small", POND_ENTRY_NONE));
    for (size_t off = 0; off < sizeof data; off += 1000)
        PT_ASSERT_OK(pond_writer_write(w, data + off, POND_MIN(1000, sizeof data - off)));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    /* exactly the threshold stays in memory: no file was opened */
    PT_ASSERT_INT_EQ(pond_os_calls(POND_OS_OPEN), opens);
    PT_ASSERT_INT_EQ(tmp_entries(), 0);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, t.fs, NULL, "/small"));
    PT_ASSERT_INT_EQ(b.size, sizeof data);
    PT_ASSERT_MEM_EQ(b.ptr, data, sizeof data);
    pond_buf_dispose(&b);
    pond_fs_abort(t.fs);
    tfs_close(&t);
}

static void test_spill_above_threshold(void)
{
    tfs t = tfs_open(4096);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    char data[10000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7);
    uint64_t opens = pond_os_calls(POND_OS_OPEN);
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/spilled", POND_ENTRY_NONE));
    PT_ASSERT_OK(pond_writer_write(w, data, 4000));
    PT_ASSERT_INT_EQ(pond_os_calls(POND_OS_OPEN), opens);
    PT_ASSERT_OK(pond_writer_write(w, data + 4000, 6000));
    PT_ASSERT_INT_EQ(pond_os_calls(POND_OS_OPEN), opens + 1); /* spilled once */
    PT_ASSERT_INT_EQ(tmp_entries(), 0); /* the spill file is unlinked from the start */
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, t.fs, NULL, "/spilled"));
    PT_ASSERT_INT_EQ(b.size, sizeof data);
    PT_ASSERT_MEM_EQ(b.ptr, data, sizeof data);
    pond_buf_dispose(&b);
    /* an aborted spilled writer leaves nothing behind either */
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/spilled", POND_ENTRY_NONE));
    PT_ASSERT_OK(pond_writer_write(w, data, sizeof data));
    pond_writer_abort(w);
    pond_writer_free(w);
    PT_ASSERT_INT_EQ(tmp_entries(), 0);
    pond_fs_abort(t.fs);
    tfs_close(&t);
}

/* A failing spill write is reported, sticks, and leaves the file as it was. */
static void test_spill_write_error(void)
{
    tfs t = tfs_open(1024);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/f", POND_ENTRY_NONE, "before", 6));
    char data[5000] = {0};
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/f", POND_ENTRY_NONE));
    pond_os_fault_at(POND_OS_PWRITE, 1, POND_FAULT_ERRNO, 28 /* ENOSPC */, true);
    PT_ASSERT_ERR(pond_writer_write(w, data, sizeof data), POND_EIO);
    pond_os_fault_clear();
    PT_ASSERT_ERR(pond_writer_write(w, data, 1), POND_EIO);
    PT_ASSERT_ERR(pond_writer_finish(w), POND_EIO);
    pond_writer_free(w);
    PT_ASSERT_CONTENT(t.fs, NULL, "/f", "before");
    PT_ASSERT_INT_EQ(tmp_entries(), 0);
    pond_fs_abort(t.fs);
    tfs_close(&t);
}

static void pattern_fill(unsigned char *buf, size_t len, uint64_t off)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t x = off + i;
        buf[i] = (unsigned char)((x * 0x9e3779b97f4a7c15ull) >> 56);
    }
}

/* 512 MiB (32 MiB when light) through a writer and back through a reader, with the heap peak
 * staying under 4 MiB. */
static void test_bounded_memory_512mib(void)
{
    const int64_t total = pt_light() ? (int64_t)32 << 20 : (int64_t)512 << 20;
    const size_t chunk = 256 * 1024;
    unsigned char *buf = malloc(chunk), *got = malloc(chunk);
    PT_ASSERT(buf && got);
    tfs t = tfs_open(0); /* the default threshold: 1 MiB */
    pond_alloc_reset_peak();
    size_t base = pond_alloc_current();
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/huge", POND_ENTRY_NONE));
    pond_sha256 *h = NULL;
    PT_ASSERT_OK(pond_sha256_new(&h));
    for (int64_t off = 0; off < total; off += (int64_t)chunk) {
        pattern_fill(buf, chunk, (uint64_t)off);
        PT_ASSERT_OK(pond_sha256_update(h, buf, chunk));
        PT_ASSERT_OK(pond_writer_write(w, buf, chunk));
    }
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_hash want;
    PT_ASSERT_OK(pond_sha256_final(&want, h));
    pond_sha256_free(h);
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/huge"));
    PT_ASSERT_INT_EQ(st.size, total);
    PT_ASSERT(pond_hash_equal(&st.sha256, &want));
    pond_reader *r = NULL;
    PT_ASSERT_OK(pond_fs_open_reader(&r, t.fs, NULL, "/huge"));
    PT_ASSERT_INT_EQ(pond_reader_size(r), total);
    int64_t off = 0;
    for (;;) {
        size_t n;
        PT_ASSERT_OK(pond_reader_read(r, got, chunk, &n));
        if (n == 0)
            break;
        pattern_fill(buf, n, (uint64_t)off);
        if (memcmp(buf, got, n) != 0)
            pt_fail(__FILE__, __LINE__, "content differs near offset %lld", (long long)off);
        off += (int64_t)n;
    }
    PT_ASSERT_INT_EQ(off, total);
    pond_reader_free(r);
    size_t peak = pond_alloc_peak() - base;
    printf("  bounded memory: %lld MiB streamed, heap peak %zu KiB above base\n",
           (long long)(total >> 20), peak / 1024);
    PT_ASSERT(peak < (size_t)4 << 20);
    PT_ASSERT_INT_EQ(tmp_entries(), 0);
    tfs_close(&t);
    free(buf);
    free(got);
}

static void test_second_writer_busy(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/d", 0));
    pond_writer *w1 = NULL, *w2 = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w1, t.fs, NULL, "/d/f", POND_ENTRY_NONE));
    PT_ASSERT_ERR(pond_fs_open_writer(&w2, t.fs, NULL, "/d/f", POND_ENTRY_NONE), POND_EBUSY);
    PT_ASSERT_MSG_HAS("/d/f");
    PT_ASSERT(w2 == NULL);
    /* the same file through a relative path and a symlink is the same file */
    pond_wd *wd = NULL;
    PT_ASSERT_OK(pond_wd_open(&wd, t.fs, NULL, "/d"));
    PT_ASSERT_ERR(pond_fs_open_writer(&w2, t.fs, wd, "./f", POND_ENTRY_NONE), POND_EBUSY);
    PT_ASSERT_OK(pond_fs_symlink(t.fs, NULL, "d/f", "/alias"));
    PT_ASSERT_ERR(pond_fs_open_writer(&w2, t.fs, NULL, "/alias", POND_ENTRY_NONE), POND_EBUSY);
    /* creating, removing or renaming onto the busy name is refused too */
    PT_ASSERT_ERR(pond_fs_create(t.fs, NULL, "/d/f", POND_ENTRY_FILE_DATA), POND_EBUSY);
    PT_ASSERT_ERR(pond_fs_remove(t.fs, NULL, "/d", true), POND_EBUSY);
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/g", POND_ENTRY_NONE, "g", 1));
    PT_ASSERT_ERR(pond_fs_rename(t.fs, NULL, "/g", "/d/f"), POND_EBUSY);
    /* commit waits for writers */
    PT_ASSERT_ERR(pond_fs_commit(NULL, t.fs), POND_EBUSY);
    PT_ASSERT(pond_fs_in_txn(t.fs));
    /* another file is independent */
    PT_ASSERT_OK(pond_fs_open_writer(&w2, t.fs, NULL, "/d/other", POND_ENTRY_NONE));
    PT_ASSERT_OK(pond_writer_finish(w2));
    pond_writer_free(w2);
    w2 = NULL;
    PT_ASSERT_OK(pond_writer_write(w1, "1", 1));
    PT_ASSERT_OK(pond_writer_finish(w1));
    pond_writer_free(w1);
    /* released after finish */
    PT_ASSERT_OK(pond_fs_open_writer(&w2, t.fs, NULL, "/d/f", POND_ENTRY_NONE));
    pond_writer_free(w2);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT_CONTENT(t.fs, NULL, "/alias", "1");
    pond_wd_free(wd);
    tfs_close(&t);
}

static void test_read_during_write_busy(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/f", POND_ENTRY_NONE, "old", 3));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    /* a reader opened before the writer keeps reading the old content */
    pond_reader *early = NULL, *r = NULL;
    PT_ASSERT_OK(pond_fs_open_reader(&early, t.fs, NULL, "/f"));
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/f", POND_ENTRY_NONE));
    PT_ASSERT_OK(pond_writer_write(w, "new!", 4));
    PT_ASSERT_ERR(pond_fs_open_reader(&r, t.fs, NULL, "/f"), POND_EBUSY);
    PT_ASSERT_MSG_HAS("'/f'");
    PT_ASSERT(r == NULL);
    PT_ASSERT_ERR(pond_fs_open_reader_version(&r, t.fs, NULL, "/f", 1), POND_EBUSY);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_ERR(pond_fs_read_all(&b, t.fs, NULL, "/f"), POND_EBUSY);
    pond_buf_dispose(&b);
    char buf[8];
    PT_ASSERT_OK(pond_reader_read_exact(early, buf, 3));
    PT_ASSERT_MEM_EQ(buf, "old", 3);
    pond_reader_free(early);
    /* stat still shows the old version */
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/f"));
    PT_ASSERT_INT_EQ(st.size, 3);
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_CONTENT(t.fs, NULL, "/f", "new!");
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT_CONTENT(t.fs, NULL, "/f", "new!");
    tfs_close(&t);
}

static void test_abort_keeps_old_content(void)
{
    tfs t = tfs_open(16);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/f", POND_ENTRY_NONE, "original", 8));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_stat before, after;
    PT_ASSERT_OK(pond_fs_stat(&before, t.fs, NULL, "/f"));
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_writer *w = NULL;
    /* explicit abort, small and spilled */
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/f", POND_ENTRY_NONE));
    PT_ASSERT_OK(pond_writer_write(w, "replacement that spills past sixteen bytes", 42));
    pond_writer_abort(w);
    PT_ASSERT_ERR(pond_writer_finish(w), POND_EINVALID);
    pond_writer_free(w);
    PT_ASSERT_CONTENT(t.fs, NULL, "/f", "original");
    /* freed before finish = abort; the protection is released */
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/f", POND_ENTRY_NONE));
    PT_ASSERT_OK(pond_writer_write(w, "xx", 2));
    pond_writer_free(w);
    PT_ASSERT_CONTENT(t.fs, NULL, "/f", "original");
    /* a new file whose writer is aborted never appears */
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/new", POND_ENTRY_NONE));
    PT_ASSERT_OK(pond_writer_write(w, "n", 1));
    pond_writer_free(w);
    PT_ASSERT_ERR(pond_fs_stat(&after, t.fs, NULL, "/new"), POND_ENOTFOUND);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT_OK(pond_fs_stat(&after, t.fs, NULL, "/f"));
    PT_ASSERT_INT_EQ(after.version, before.version);
    PT_ASSERT(pond_hash_equal(&after.sha256, &before.sha256));
    PT_ASSERT_INT_EQ(tmp_entries(), 0);
    tfs_close(&t);
}

/* A transaction aborted under an open writer kills it: finish reports POND_ETXN. */
static void test_txn_abort_kills_writer(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/f", POND_ENTRY_NONE));
    PT_ASSERT_OK(pond_writer_write(w, "x", 1));
    pond_fs_abort(t.fs);
    PT_ASSERT_ERR(pond_writer_finish(w), POND_ETXN);
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/f", POND_ENTRY_NONE));
    pond_writer_free(w);
    pond_fs_abort(t.fs);
    tfs_close(&t);
}

/* ---- threads: many writers and readers hammer one file ------------------------------------- */

#define HAMMER_THREADS 6

typedef struct {
    pond_fs *fs;
    int id;
    int iters;
    int wrote, busy_w, busy_r, reads;
    int bad;
} hammer_arg;

static void *hammer(void *p)
{
    hammer_arg *a = p;
    char body[2048];
    /* each thread's content is its id repeated: a torn or mixed read is detectable */
    memset(body, 'A' + a->id, sizeof body);
    for (int i = 0; i < a->iters; i++) {
        pond_writer *w = NULL;
        int rc = pond_fs_open_writer(&w, a->fs, NULL, "/hot", POND_ENTRY_NONE);
        if (rc == POND_EBUSY) {
            a->busy_w++;
        } else if (rc < 0) {
            a->bad++;
        } else {
            size_t len = 100 + (size_t)(i * 37 + a->id * 11) % 1900;
            if (pond_writer_write(w, body, len / 2) < 0 ||
                pond_writer_write(w, body, len - len / 2) < 0 || pond_writer_finish(w) < 0)
                a->bad++;
            else
                a->wrote++;
            pond_writer_free(w);
        }
        pond_reader *r = NULL;
        rc = pond_fs_open_reader(&r, a->fs, NULL, "/hot");
        if (rc == POND_EBUSY) {
            a->busy_r++;
        } else if (rc < 0) {
            a->bad++;
        } else {
            char got[2048];
            size_t n = 0, total = 0;
            int64_t size = pond_reader_size(r);
            while (pond_reader_read(r, got + total, sizeof got - total, &n) == 0 && n > 0)
                total += n;
            if ((int64_t)total != size || size < 100)
                a->bad++;
            for (size_t k = 1; k < total; k++)
                if (got[k] != got[0])
                    a->bad++;
            a->reads++;
            pond_reader_free(r);
        }
    }
    return NULL;
}

static void test_threads_hammer_one_file(void)
{
    tfs t = tfs_open(1000); /* some writers spill, some do not */
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(
        pond_fs_write_all(t.fs, NULL, "/hot", POND_ENTRY_NONE,
                          "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
                          "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
                          128));
    pthread_t th[HAMMER_THREADS];
    hammer_arg args[HAMMER_THREADS];
    int iters = pt_light() ? 30 : 400;
    for (int i = 0; i < HAMMER_THREADS; i++) {
        args[i] = (hammer_arg){t.fs, i, iters, 0, 0, 0, 0, 0};
        PT_ASSERT(pthread_create(&th[i], NULL, hammer, &args[i]) == 0);
    }
    int wrote = 0, reads = 0, bad = 0, busy = 0;
    for (int i = 0; i < HAMMER_THREADS; i++) {
        pthread_join(th[i], NULL);
        wrote += args[i].wrote;
        reads += args[i].reads;
        bad += args[i].bad;
        busy += args[i].busy_w + args[i].busy_r;
    }
    printf("  hammer: %d writes, %d reads, %d busy refusals\n", wrote, reads, busy);
    PT_ASSERT_INT_EQ(bad, 0);
    PT_ASSERT(wrote > 0 && reads > 0);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, t.fs, NULL, "/hot"));
    PT_ASSERT_INT_EQ(st.version, 1); /* all in one transaction */
    PT_ASSERT_INT_EQ(tmp_entries(), 0);
    tfs_close(&t);
}

static void *many_files(void *p)
{
    hammer_arg *a = p;
    for (int i = 0; i < a->iters; i++) {
        char path[64], body[64];
        snprintf(path, sizeof path, "/t%d/f%03d", a->id, i);
        snprintf(body, sizeof body, "thread %d file %d", a->id, i);
        pond_writer *w = NULL;
        if (pond_fs_open_writer(&w, a->fs, NULL, path, POND_ENTRY_NONE) < 0 ||
            pond_writer_write(w, body, strlen(body)) < 0 || pond_writer_finish(w) < 0)
            a->bad++;
        else
            a->wrote++;
        pond_writer_free(w);
    }
    return NULL;
}

static void test_threads_many_files(void)
{
    tfs t = tfs_open(16);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pthread_t th[HAMMER_THREADS];
    hammer_arg args[HAMMER_THREADS];
    int iters = pt_light() ? 10 : 100;
    for (int i = 0; i < HAMMER_THREADS; i++) {
        char dir[16];
        snprintf(dir, sizeof dir, "/t%d", i);
        PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, dir, 0));
        args[i] = (hammer_arg){t.fs, i, iters, 0, 0, 0, 0, 0};
    }
    for (int i = 0; i < HAMMER_THREADS; i++)
        PT_ASSERT(pthread_create(&th[i], NULL, many_files, &args[i]) == 0);
    for (int i = 0; i < HAMMER_THREADS; i++) {
        pthread_join(th[i], NULL);
        PT_ASSERT_INT_EQ(args[i].bad, 0);
        PT_ASSERT_INT_EQ(args[i].wrote, iters);
    }
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    for (int i = 0; i < HAMMER_THREADS; i++) {
        for (int k = 0; k < iters; k++) {
            char path[64], body[64];
            snprintf(path, sizeof path, "/t%d/f%03d", i, k);
            snprintf(body, sizeof body, "thread %d file %d", i, k);
            PT_ASSERT_CONTENT(t.fs, NULL, path, body);
        }
    }
    PT_ASSERT_INT_EQ(tmp_entries(), 0);
    tfs_close(&t);
}

static void test_event_time(void)
{
    tfs t = tfs_open(0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/data", POND_ENTRY_NONE));
    PT_ASSERT_ERR(pond_writer_set_event_time(w, 1, 2), POND_EINVALID);
    PT_ASSERT_MSG_HAS("file:data");
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/s", POND_ENTRY_FILE_SERIES));
    PT_ASSERT_ERR(pond_writer_set_event_time(w, 5, 4), POND_EINVALID);
    PT_ASSERT_OK(pond_writer_set_event_time(w, 4, 5));
    PT_ASSERT_OK(pond_writer_write(w, "v1", 2));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    /* a later version without a range has none: ranges belong to versions */
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(t.fs, NULL, "/s", POND_ENTRY_NONE, "v2", 2));
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_stat *v = NULL;
    size_t n = 0;
    PT_ASSERT_OK(pond_fs_versions(&v, &n, t.fs, NULL, "/s"));
    PT_ASSERT_INT_EQ(n, 2);
    PT_ASSERT(v[0].has_event_time && v[0].min_event_time_us == 4 && v[0].max_event_time_us == 5);
    PT_ASSERT(!v[1].has_event_time);
    PT_ASSERT_INT_EQ(v[1].type, POND_ENTRY_FILE_SERIES);
    pond_free(v);
    tfs_close(&t);
}

/* Every system call on the spill path failing in turn: a clean error, nothing left behind. */
static int spill_body(void *arg)
{
    tfs *t = arg;
    static char data[3000];
    pond_writer *w = NULL;
    pond_reader *r = NULL;
    int rc = pond_fs_begin(t->fs, NULL);
    if (rc == 0 && (rc = pond_fs_open_writer(&w, t->fs, NULL, "/f", POND_ENTRY_NONE)) == 0 &&
        (rc = pond_writer_write(w, data, sizeof data)) == 0 &&
        (rc = pond_writer_write(w, data, sizeof data)) == 0 && (rc = pond_writer_finish(w)) == 0 &&
        (rc = pond_fs_commit(NULL, t->fs)) == 0 &&
        (rc = pond_fs_open_reader(&r, t->fs, NULL, "/f")) == 0) {
        char buf[6000];
        rc = pond_reader_read_exact(r, buf, sizeof buf);
    }
    pond_reader_free(r);
    pond_writer_free(w);
    pond_fs_abort(t->fs);
    return rc;
}

static void test_syscall_fault_loop(void)
{
    static const pond_os_call calls[] = {POND_OS_OPEN, POND_OS_UNLINK, POND_OS_PWRITE,
                                         POND_OS_PREAD};
    for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
        for (uint64_t n = 1;; n++) {
            tfs t = tfs_open(1000);
            size_t before = pond_alloc_current();
            pond_os_fault_at(calls[c], n, POND_FAULT_ERRNO, 5 /* EIO */, false);
            int rc = spill_body(&t);
            bool fired = pond_os_fault_fired();
            pond_os_fault_clear();
            PT_ASSERT_INT_EQ(tmp_entries(), 0);
            tfs_close(&t);
            PT_ASSERT(pond_alloc_current() <= before);
            if (!fired) {
                PT_ASSERT_OK(rc);
                PT_ASSERT(n > 1);
                break;
            }
            if (rc == 0)
                pt_fail(__FILE__, __LINE__, "%s #%llu failed but the body succeeded",
                        pond_os_call_name(calls[c]), (unsigned long long)n);
            PT_ASSERT(rc < 0);
        }
    }
}

PT_SUITE(tinyfs_stream, PT_TEST(reader_basic), PT_TEST(writer_basic),
         PT_TEST(buffered_below_threshold), PT_TEST(spill_above_threshold),
         PT_TEST(spill_write_error), PT_TEST(bounded_memory_512mib), PT_TEST(second_writer_busy),
         PT_TEST(read_during_write_busy), PT_TEST(abort_keeps_old_content),
         PT_TEST(txn_abort_kills_writer), PT_TEST(threads_hammer_one_file),
         PT_TEST(threads_many_files), PT_TEST(event_time), PT_TEST(syscall_fault_loop))
