/* The oplog's content sink: a large file written through tinyfs streams straight into the
 * store (one write pass, no spill file), commit only records the reference, abort and unfinished
 * writers leave no temp file, and gc's grace period protects a finished, uncommitted blob. */
#include "pt.h"

#include <pond/alloc.h>
#include <pond/buf.h>
#include <pond/cas.h>
#include <pond/hash.h>
#include <pond/oplog.h>
#include <pond/sys/backend.h>
#include <pond/sys/os.h>
#include <pond/tinyfs.h>

#include "cas_test.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOUR_US (3600LL * 1000000)
#define CHUNK POND_CAS_DEFAULT_CHUNK_SIZE
#define FANOUT POND_CAS_DEFAULT_FANOUT

typedef struct {
    char dir[512];   /* the pond */
    char store[600]; /* its _large_files */
    char spill[600]; /* the fs's tmp_dir */
    pond_backend *be;
    pond_fs *fs;
    pond_cas *cas; /* a separate handle on the store, for counting */
} tp;

static tp tp_open(const char *name, size_t spill_threshold)
{
    tp t;
    memset(&t, 0, sizeof t);
    snprintf(t.dir, sizeof t.dir, "%s/%s", PT_TMPDIR(), name);
    snprintf(t.store, sizeof t.store, "%s/_large_files", t.dir);
    snprintf(t.spill, sizeof t.spill, "%s/%s-spill", PT_TMPDIR(), name);
    PT_ASSERT(mkdir(t.spill, 0755) == 0);
    PT_ASSERT_OK(pond_oplog_create(t.dir, NULL));
    PT_ASSERT_OK(pond_oplog_open(&t.be, t.dir, NULL));
    pond_fs_options o = POND_FS_OPTIONS_INIT;
    o.spill_threshold = spill_threshold;
    o.tmp_dir = t.spill;
    PT_ASSERT_OK(pond_fs_open(&t.fs, t.be, &o));
    PT_ASSERT_OK(pond_cas_open(&t.cas, t.store, NULL));
    return t;
}

/* Frees the fs and backend and opens them again (durability). */
static void tp_reopen(tp *t, size_t spill_threshold)
{
    pond_fs_free(t->fs);
    pond_backend_free(t->be);
    PT_ASSERT_OK(pond_oplog_open(&t->be, t->dir, NULL));
    pond_fs_options o = POND_FS_OPTIONS_INIT;
    o.spill_threshold = spill_threshold;
    o.tmp_dir = t->spill;
    PT_ASSERT_OK(pond_fs_open(&t->fs, t->be, &o));
}

static void tp_close(tp *t)
{
    pond_fs_free(t->fs);
    pond_backend_free(t->be);
    pond_cas_free(t->cas);
}

static void write_file(pond_fs *fs, const char *path, pond_entry_type type, const uint8_t *data,
                       size_t len, size_t step)
{
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, fs, NULL, path, type));
    for (size_t off = 0; off < len; off += step)
        PT_ASSERT_OK(pond_writer_write(w, data + off, POND_MIN(step, len - off)));
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
}

/* Reads path in odd-sized pieces and compares it with data; also a read near the end. */
static void expect_file(pond_fs *fs, const char *path, const uint8_t *data, size_t len)
{
    pond_reader *r = NULL;
    PT_ASSERT_OK(pond_fs_open_reader(&r, fs, NULL, path));
    PT_ASSERT_INT_EQ(pond_reader_size(r), (int64_t)len);
    size_t cap = 300007, total = 0, n;
    uint8_t *buf = malloc(cap);
    PT_ASSERT(buf);
    bool same = true;
    for (;;) {
        PT_ASSERT_OK(pond_reader_read(r, buf, cap, &n));
        if (n == 0)
            break;
        same = same && total + n <= len && memcmp(buf, data + total, n) == 0;
        total += n;
    }
    if (len > 100) {
        PT_ASSERT_OK(pond_reader_pread(r, buf, 100, (int64_t)len - 100, &n));
        same = same && n == 100 && memcmp(buf, data + len - 100, 100) == 0;
    }
    free(buf);
    pond_reader_free(r);
    PT_ASSERT_INT_EQ(total, len);
    PT_ASSERT(same);
}

static pond_stat stat_of(pond_fs *fs, const char *path)
{
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, path));
    return st;
}

static bool in_store(tp *t, const char *path)
{
    pond_stat st = stat_of(t->fs, path);
    pond_oplog_storage s;
    PT_ASSERT_OK(pond_oplog_storage_of(&s, t->be, &st.id, st.version));
    return s.in_store;
}

/* ---- byte accounting through the OS shim's trace ------------------------------------------- */

enum { W_OTHER, W_STORE_DATA, W_STORE_OTHER, W_SPILL, W_NKINDS };

typedef struct {
    const char *store, *spill;
    int kind_of_fd[4096];
    int64_t bytes[W_NKINDS];
    int creates[W_NKINDS];
} wtrace;

static void trace_fn(pond_os_call call, const char *path, const char *path2, int fd, int64_t off,
                     const void *data, size_t len, long rc, void *payload)
{
    (void)path2, (void)off, (void)data;
    wtrace *w = payload;
    if (call == POND_OS_OPEN && rc >= 0 && rc < 4096 && path) {
        int k = W_OTHER;
        size_t ls = strlen(w->store), lp = strlen(w->spill);
        if (!strncmp(path, w->spill, lp))
            k = W_SPILL;
        else if (!strncmp(path, w->store, ls))
            k = strlen(path) > 5 && !strcmp(path + strlen(path) - 5, ".data") ? W_STORE_DATA
                                                                              : W_STORE_OTHER;
        w->kind_of_fd[rc] = k;
        w->creates[k]++;
    } else if ((call == POND_OS_WRITE || call == POND_OS_PWRITE) && fd >= 0 && fd < 4096 &&
               rc > 0) {
        w->bytes[w->kind_of_fd[fd]] += (int64_t)len;
    }
}

/* The chunk table size docs/cas.md gives for size bytes: 32 (n + m) + 64. */
static int64_t table_size(int64_t size)
{
    int64_t n = (size + CHUNK - 1) / CHUNK, m = (n + FANOUT - 1) / FANOUT;
    return 32 * (n + m) + 64;
}

/* A large file through tinyfs on the oplog: every byte is written once, into the store's temp
 * file, which finish publishes; no spill file; commit writes only rows and the log. */
static void test_sink_one_write_pass(void)
{
    size_t len = (pt_light() ? 5 : 40) * 1024 * 1024 + 77;
    uint8_t *data = ct_filled(len, 11);
    tp t = tp_open("one", 1 << 20);
    wtrace *w = calloc(1, sizeof *w);
    PT_ASSERT(w);
    w->store = t.store;
    w->spill = t.spill;
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_os_set_trace(trace_fn, w);
    write_file(t.fs, "/big", POND_ENTRY_FILE_DATA, data, len, 100003);
    /* finished: the blob is published, no temp file is left, nothing is committed yet */
    ct_counts c = ct_count(t.cas, HOUR_US);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_BLOB], 1);
    PT_ASSERT_INT_EQ(c.blobs_with_chunks, 1);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 0);
    PT_ASSERT_INT_EQ(w->bytes[W_OTHER], 0);
    expect_file(t.fs, "/big", data, len); /* the uncommitted content reads (verified) */
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_os_set_trace(NULL, NULL);
    printf("  %zu bytes: %lld to the store's temp content file, %lld to its tables, %lld to "
           "rows and log, %lld spilled\n",
           len, (long long)w->bytes[W_STORE_DATA], (long long)w->bytes[W_STORE_OTHER],
           (long long)w->bytes[W_OTHER], (long long)w->bytes[W_SPILL]);
    PT_ASSERT_INT_EQ(w->bytes[W_STORE_DATA], (int64_t)len);              /* exactly one pass */
    PT_ASSERT_INT_EQ(w->bytes[W_STORE_OTHER], table_size((int64_t)len)); /* the table, once */
    PT_ASSERT_INT_EQ(w->creates[W_SPILL], 0);
    PT_ASSERT_INT_EQ(w->bytes[W_SPILL], 0);
    PT_ASSERT(w->bytes[W_OTHER] > 0 && w->bytes[W_OTHER] < 64 * 1024);
    PT_ASSERT(in_store(&t, "/big"));
    c = ct_count(t.cas, HOUR_US);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_BLOB], 1);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 0);
    /* durable: reopened, the row points at the blob */
    tp_reopen(&t, 1 << 20);
    pond_stat st = stat_of(t.fs, "/big");
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_FILE_DATA);
    PT_ASSERT_INT_EQ(st.size, (int64_t)len);
    PT_ASSERT_INT_EQ(st.version, 1);
    pond_hash want;
    PT_ASSERT_OK(pond_sha256_buf(&want, data, len));
    PT_ASSERT(pond_hash_equal(&st.sha256, &want));
    expect_file(t.fs, "/big", data, len);
    pond_fsck_report rep;
    PT_ASSERT_OK(pond_oplog_fsck(&rep, t.be, NULL, NULL, NULL));
    PT_ASSERT_INT_EQ(rep.missing + rep.corrupt + rep.unreferenced_blobs, 0);
    free(w);
    free(data);
    tp_close(&t);
}

/* The same bytes through the sink and through memory (stored at commit) give the same entry
 * type, size, hash and version, and one blob; the inline/store boundary of file:data holds when
 * both sides of it went through the sink. */
static void test_sink_same_attributes_and_boundary(void)
{
    size_t len = 3 * 1024 * 1024 + 5;
    uint8_t *data = ct_filled(len, 12);
    tp a = tp_open("viasink", 16 * 1024);
    tp b = tp_open("viamem", 8 * 1024 * 1024);
    PT_ASSERT_OK(pond_fs_begin(a.fs, NULL));
    PT_ASSERT_OK(pond_fs_begin(b.fs, NULL));
    write_file(a.fs, "/t", POND_ENTRY_FILE_TABLE, data, len, 65536);
    write_file(b.fs, "/t", POND_ENTRY_FILE_TABLE, data, len, 65536);
    PT_ASSERT_INT_EQ(ct_count(a.cas, HOUR_US).n[POND_CAS_ENTRY_BLOB], 1); /* at finish */
    PT_ASSERT_INT_EQ(ct_count(b.cas, HOUR_US).n[POND_CAS_ENTRY_BLOB], 0); /* at commit */
    /* file:data threshold 64 KiB: 65535 bytes inline, 65536 in the store, both via the sink */
    write_file(a.fs, "/below", POND_ENTRY_FILE_DATA, data, 65535, 4000);
    write_file(a.fs, "/at", POND_ENTRY_FILE_DATA, data + 1, 65536, 4000);
    /* the same content again in another file: deduplicated */
    write_file(a.fs, "/t2", POND_ENTRY_FILE_DATA, data, len, 1 << 20);
    PT_ASSERT_OK(pond_fs_set_xattrs(a.fs, NULL, "/t", "{\"k\":\"v\"}"));
    PT_ASSERT_OK(pond_fs_set_xattrs(b.fs, NULL, "/t", "{\"k\":\"v\"}"));
    PT_ASSERT_OK(pond_fs_commit(NULL, a.fs));
    PT_ASSERT_OK(pond_fs_commit(NULL, b.fs));
    tp_reopen(&a, 16 * 1024);
    tp_reopen(&b, 8 * 1024 * 1024);
    pond_stat sa = stat_of(a.fs, "/t"), sb = stat_of(b.fs, "/t");
    PT_ASSERT_INT_EQ(sa.type, POND_ENTRY_FILE_TABLE);
    PT_ASSERT_INT_EQ(sb.type, POND_ENTRY_FILE_TABLE);
    PT_ASSERT_INT_EQ(sa.size, sb.size);
    PT_ASSERT_INT_EQ(sa.version, sb.version);
    PT_ASSERT(pond_hash_equal(&sa.sha256, &sb.sha256));
    PT_ASSERT(in_store(&a, "/t") && in_store(&b, "/t"));
    char *xa = NULL, *xb = NULL;
    PT_ASSERT_OK(pond_fs_get_xattrs(&xa, a.fs, NULL, "/t"));
    PT_ASSERT_OK(pond_fs_get_xattrs(&xb, b.fs, NULL, "/t"));
    PT_ASSERT(xa && xb);
    PT_ASSERT_STR_EQ(xa, xb);
    pond_free(xa);
    pond_free(xb);
    PT_ASSERT(!in_store(&a, "/below"));
    PT_ASSERT(in_store(&a, "/at"));
    PT_ASSERT(in_store(&a, "/t2"));
    PT_ASSERT_INT_EQ(stat_of(a.fs, "/t2").type, POND_ENTRY_FILE_DATA);
    expect_file(a.fs, "/t", data, len);
    expect_file(a.fs, "/t2", data, len);
    expect_file(b.fs, "/t", data, len);
    expect_file(a.fs, "/below", data, 65535);
    expect_file(a.fs, "/at", data + 1, 65536);
    /* blobs: the big one (shared by /t and /t2), /at's, and /below's sink blob (garbage) */
    PT_ASSERT_INT_EQ(ct_count(a.cas, HOUR_US).n[POND_CAS_ENTRY_BLOB], 3);
    pond_fsck_report rep;
    PT_ASSERT_OK(pond_oplog_fsck(&rep, a.be, NULL, NULL, NULL));
    PT_ASSERT_INT_EQ(rep.unreferenced_blobs, 1);
    PT_ASSERT_INT_EQ(rep.missing + rep.corrupt, 0);
    free(data);
    tp_close(&a);
    tp_close(&b);
}

/* Abort and unfinished writers leave no temp file; a finished, aborted blob is gc's. */
static void test_sink_abort_leaves_no_temp(void)
{
    size_t len = 2 * 1024 * 1024 + 3;
    uint8_t *data = ct_filled(len, 13);
    tp t = tp_open("abort", 64 * 1024);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/a", POND_ENTRY_FILE_DATA));
    PT_ASSERT_OK(pond_writer_write(w, data, len));
    PT_ASSERT_INT_EQ(ct_count(t.cas, HOUR_US).n[POND_CAS_ENTRY_TEMP], 2); /* .data, .chunks */
    pond_fs_abort(t.fs);
    PT_ASSERT_ERR(pond_writer_write(w, data, 1), POND_ETXN);
    PT_ASSERT_INT_EQ(ct_count(t.cas, HOUR_US).n[POND_CAS_ENTRY_TEMP], 0);
    PT_ASSERT_ERR(pond_writer_finish(w), POND_ETXN);
    pond_writer_free(w);
    /* an unfinished writer freed */
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/a", POND_ENTRY_FILE_DATA));
    PT_ASSERT_OK(pond_writer_write(w, data, len));
    PT_ASSERT_INT_EQ(ct_count(t.cas, HOUR_US).n[POND_CAS_ENTRY_TEMP], 2);
    pond_writer_free(w);
    PT_ASSERT_INT_EQ(ct_count(t.cas, HOUR_US).n[POND_CAS_ENTRY_TEMP], 0);
    /* a writer aborted after the transaction ended, then finished */
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/a", POND_ENTRY_FILE_DATA));
    PT_ASSERT_OK(pond_writer_write(w, data, len));
    pond_fs_abort(t.fs);
    PT_ASSERT_ERR(pond_writer_finish(w), POND_ETXN);
    pond_writer_free(w);
    ct_counts c = ct_count(t.cas, HOUR_US);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 0);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_BLOB], 0);
    /* finished, then the transaction aborted: a published blob nothing references */
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    write_file(t.fs, "/a", POND_ENTRY_FILE_DATA, data, len, 1 << 20);
    pond_fs_abort(t.fs);
    c = ct_count(t.cas, HOUR_US);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 0);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_BLOB], 1);
    PT_ASSERT_OK(pond_oplog_lock(t.be, true));
    pond_gc_options go = POND_GC_OPTIONS_INIT;
    pond_gc_report rep;
    PT_ASSERT_OK(pond_oplog_gc(&rep, t.be, &go)); /* young: kept */
    PT_ASSERT_INT_EQ(rep.blobs_removed, 0);
    go.grace_us = 0;
    PT_ASSERT_OK(pond_oplog_gc(&rep, t.be, &go));
    PT_ASSERT_INT_EQ(rep.blobs_removed, 1);
    pond_oplog_unlock(t.be);
    PT_ASSERT_INT_EQ(ct_count(t.cas, HOUR_US).n[POND_CAS_ENTRY_BLOB], 0);
    free(data);
    tp_close(&t);
}

/* Another process runs gc while this one holds a finished, uncommitted blob: the grace period
 * keeps it; with no grace it goes, and the commit then fails cleanly instead of recording a
 * reference to nothing. */
static int child_gc(const char *dir, int64_t grace_us)
{
    pond_backend *be = NULL;
    pond_gc_options go = POND_GC_OPTIONS_INIT;
    go.grace_us = grace_us;
    pond_gc_report rep;
    if (pond_oplog_open(&be, dir, NULL) < 0 || pond_oplog_lock(be, true) < 0 ||
        pond_oplog_gc(&rep, be, &go) < 0)
        return 100;
    pond_oplog_unlock(be);
    pond_backend_free(be);
    return (int)rep.blobs_removed;
}

/* The child reports through a pipe and then execs /bin/true: it inherits the parent's heap,
 * which it must not free, and exec ends it without a leak report from valgrind. */
static int gc_in_child(const char *dir, int64_t grace_us)
{
    int fds[2];
    PT_ASSERT(pipe(fds) == 0);
    fflush(stdout);
    pid_t pid = fork();
    PT_ASSERT(pid >= 0);
    if (pid == 0) {
        unsigned char r = (unsigned char)child_gc(dir, grace_us);
        ssize_t n = write(fds[1], &r, 1);
        execl("/bin/true", "true", (char *)NULL);
        _exit(n == 1 ? 0 : 1);
    }
    close(fds[1]);
    unsigned char r = 200;
    ssize_t n = read(fds[0], &r, 1);
    close(fds[0]);
    int status = 0;
    PT_ASSERT(waitpid(pid, &status, 0) == pid);
    PT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    PT_ASSERT_INT_EQ(n, 1);
    return r;
}

static void test_sink_gc_two_processes(void)
{
    size_t len = 2 * 1024 * 1024 + 9;
    uint8_t *data = ct_filled(len, 14);
    tp t = tp_open("gc2", 64 * 1024);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    write_file(t.fs, "/kept", POND_ENTRY_FILE_DATA, data, len, 1 << 20);
    PT_ASSERT_INT_EQ(gc_in_child(t.dir, HOUR_US), 0); /* unreferenced but young: kept */
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT_INT_EQ(gc_in_child(t.dir, 0), 0); /* committed: referenced */
    tp_reopen(&t, 64 * 1024);
    expect_file(t.fs, "/kept", data, len);
    /* no grace: the uncommitted blob goes, and the commit says so */
    ct_fill(data, len, 15);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    write_file(t.fs, "/lost", POND_ENTRY_FILE_DATA, data, len, 1 << 20);
    PT_ASSERT_INT_EQ(gc_in_child(t.dir, 0), 1);
    PT_ASSERT_ERR(pond_fs_commit(NULL, t.fs), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("no longer in the store");
    tp_reopen(&t, 64 * 1024);
    pond_stat st;
    PT_ASSERT_ERR(pond_fs_stat(&st, t.fs, NULL, "/lost"), POND_ENOTFOUND);
    pond_fsck_report rep;
    PT_ASSERT_OK(pond_oplog_fsck(&rep, t.be, NULL, NULL, NULL));
    PT_ASSERT_INT_EQ(rep.missing + rep.corrupt, 0);
    free(data);
    tp_close(&t);
}

static int64_t mtime_us(const char *path)
{
    struct stat st;
    PT_ASSERT(stat(path, &st) == 0);
    return (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
}

/* A transaction that outlives a gc grace period: at commit the blob (older than the refresh
 * age) gets a fresh chunk table, so a gc right after the commit's reference check cannot take
 * it; a young blob is left alone. */
static void test_sink_old_blob_refreshed_at_commit(void)
{
    size_t len = 1024 * 1024 + 1;
    uint8_t *data = ct_filled(len, 16);
    tp t = tp_open("refresh", 64 * 1024);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    write_file(t.fs, "/old", POND_ENTRY_FILE_DATA, data, len, 1 << 20);
    pond_hash sha;
    PT_ASSERT_OK(pond_sha256_buf(&sha, data, len));
    char *blob = ct_blob_path(t.cas, &sha, ""), *table = ct_blob_path(t.cas, &sha, ".chunks");
    ct_age(blob, 7200);
    ct_age(table, 7200);
    int64_t before = pond__now_us();
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT(mtime_us(table) >= before - 1000000); /* refreshed */
    PT_ASSERT(mtime_us(blob) < before - 3600LL * 1000000);
    expect_file(t.fs, "/old", data, len);
    /* young: untouched at commit */
    ct_fill(data, len, 17);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    write_file(t.fs, "/young", POND_ENTRY_FILE_DATA, data, len, 1 << 20);
    PT_ASSERT_OK(pond_sha256_buf(&sha, data, len));
    char *table2 = ct_blob_path(t.cas, &sha, ".chunks");
    ct_age(table2, 5);
    int64_t t2 = mtime_us(table2);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    PT_ASSERT_INT_EQ(mtime_us(table2), t2);
    expect_file(t.fs, "/young", data, len);
    free(blob);
    free(table);
    free(table2);
    free(data);
    tp_close(&t);
}

/* A damaged chunk of a sink-written blob: reads of it fail naming the node path, the blob and
 * the chunk; other chunks still read. */
static void test_sink_corrupt_read_names_path(void)
{
    size_t len = 1024 * 1024 + 1;
    uint8_t *data = ct_filled(len, 18);
    tp t = tp_open("corrupt", 64 * 1024);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(t.fs, NULL, "/d", 0));
    write_file(t.fs, "/d/big", POND_ENTRY_FILE_DATA, data, len, 1 << 20);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    pond_hash sha;
    PT_ASSERT_OK(pond_sha256_buf(&sha, data, len));
    char *blob = ct_blob_path(t.cas, &sha, "");
    ct_flip(blob, 3 * CHUNK + 10); /* chunk 3 */
    tp_reopen(&t, 64 * 1024);
    pond_reader *r = NULL;
    PT_ASSERT_OK(pond_fs_open_reader(&r, t.fs, NULL, "/d/big"));
    uint8_t buf[100];
    size_t n = 1;
    PT_ASSERT_ERR(pond_reader_pread(r, buf, sizeof buf, 3 * CHUNK + 5, &n), POND_ECORRUPT);
    PT_ASSERT_INT_EQ(n, 0);
    PT_ASSERT_MSG_HAS("'/d/big'");
    PT_ASSERT_MSG_HAS("chunk 3");
    char hex[65];
    pond_hash_hex(hex, &sha);
    PT_ASSERT_MSG_HAS(hex);
    PT_ASSERT_OK(pond_reader_pread(r, buf, sizeof buf, 2 * CHUNK + 5, &n));
    PT_ASSERT_INT_EQ(n, sizeof buf);
    PT_ASSERT_MEM_EQ(buf, data + 2 * CHUNK + 5, sizeof buf);
    pond_reader_free(r);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_ERR(pond_fs_read_all(&b, t.fs, NULL, "/d/big"), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("'/d/big'");
    pond_buf_dispose(&b);
    free(blob);
    free(data);
    tp_close(&t);
}

/* Heap stays bounded streaming through tinyfs and the oplog sink, and reading back. */
static void test_sink_bounded_heap(void)
{
    int64_t total = (pt_light() ? 16 : 128) * 1024 * 1024;
    size_t step = 1 << 20;
    uint8_t *buf = malloc(step);
    PT_ASSERT(buf);
    tp t = tp_open("heap", 0);
    PT_ASSERT_OK(pond_fs_begin(t.fs, NULL));
    size_t base = pond_alloc_current();
    pond_alloc_reset_peak();
    pond_sha256 *h = NULL;
    PT_ASSERT_OK(pond_sha256_new(&h));
    pond_writer *w = NULL;
    PT_ASSERT_OK(pond_fs_open_writer(&w, t.fs, NULL, "/huge", POND_ENTRY_FILE_DATA));
    for (int64_t off = 0; off < total; off += (int64_t)step) {
        ct_fill(buf, step, (uint64_t)off);
        PT_ASSERT_OK(pond_sha256_update(h, buf, step));
        PT_ASSERT_OK(pond_writer_write(w, buf, step));
    }
    PT_ASSERT_OK(pond_writer_finish(w));
    pond_writer_free(w);
    PT_ASSERT_OK(pond_fs_commit(NULL, t.fs));
    size_t wpeak = pond_alloc_peak() - base;
    pond_hash want, got;
    PT_ASSERT_OK(pond_sha256_final(&want, h));
    PT_ASSERT_OK(pond_sha256_reset(h));
    pond_alloc_reset_peak();
    base = pond_alloc_current();
    pond_reader *r = NULL;
    PT_ASSERT_OK(pond_fs_open_reader(&r, t.fs, NULL, "/huge"));
    size_t n;
    int64_t seen = 0;
    while (pond_reader_read(r, buf, step, &n) == 0 && n > 0) {
        PT_ASSERT_OK(pond_sha256_update(h, buf, n));
        seen += (int64_t)n;
    }
    pond_reader_free(r);
    size_t rpeak = pond_alloc_peak() - base;
    PT_ASSERT_OK(pond_sha256_final(&got, h));
    pond_sha256_free(h);
    PT_ASSERT_INT_EQ(seen, total);
    PT_ASSERT(pond_hash_equal(&got, &want));
    printf("  %lld MiB through tinyfs+oplog sink: heap peak %zu KiB writing, %zu KiB reading\n",
           (long long)(total >> 20), wpeak / 1024, rpeak / 1024);
    PT_ASSERT(wpeak < 4u * 1024 * 1024); /* the store writer's ring (2 MiB) and change */
    PT_ASSERT(rpeak < 1u * 1024 * 1024);
    free(buf);
    tp_close(&t);
}

PT_SUITE(cas_sink, PT_TEST(sink_one_write_pass), PT_TEST(sink_same_attributes_and_boundary),
         PT_TEST(sink_abort_leaves_no_temp), PT_TEST(sink_gc_two_processes),
         PT_TEST(sink_old_blob_refreshed_at_commit), PT_TEST(sink_corrupt_read_names_path),
         PT_TEST(sink_bounded_heap))
