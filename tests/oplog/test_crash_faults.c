/* Reliability, in process (docs/reliability.md): allocation failures and injected OS faults
 * at every step of an oplog commit and reopen leave the pond at the old or the new state,
 * leak nothing, and fsck finds nothing missing or corrupt; an interrupted create can be redone.
 * The process-level crash-point, trace-lint, concurrency and corruption harness is
 * tests/crash/run.sh. */
#include "pt.h"

#include <pond/oplog.h>
#include <pond/sys/backend.h>
#include <pond/sys/os.h>
#include <pond/tinyfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIG_LEN 3000 /* above the test pond's 1000-byte threshold: goes to _large_files */

static char *tmp_path(const char *name)
{
    size_t n = strlen(PT_TMPDIR()) + strlen(name) + 2;
    char *p = pond_malloc(n);
    PT_ASSERT(p);
    snprintf(p, n, "%s/%s", PT_TMPDIR(), name);
    return p;
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
}

static void make_pond(const char *dir)
{
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_data = 1000;
    PT_ASSERT_OK(pond_oplog_create(dir, &co));
}

typedef struct {
    const char *dir;
    uint64_t fail_in_commit; /* > 0: fail this allocation counted from pond_fs_commit on */
    uint64_t commit_allocs;  /* out: allocations pond_fs_commit made */
    uint8_t big[BIG_LEN];
} step_arg;

/* One step: open, lock, write a small and a large file in one transaction, commit, reopen and
 * read the large file back. Returns 0 or the first error; frees everything either way. */
static int commit_step(step_arg *a)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    pond_buf b = POND_BUF_INIT;
    int rc;
    if ((rc = pond_oplog_open(&be, a->dir, NULL)) < 0)
        goto done;
    if ((rc = pond_oplog_lock(be, true)) < 0 || (rc = pond_fs_open(&fs, be, NULL)) < 0)
        goto done;
    if ((rc = pond_fs_begin(fs, "{\"pondCommand\":[\"test\"]}")) < 0)
        goto done;
    if ((rc = pond_fs_write_all(fs, NULL, "/small", POND_ENTRY_FILE_DATA, "tiny", 4)) < 0 ||
        (rc = pond_fs_write_all(fs, NULL, "/big", POND_ENTRY_FILE_DATA, a->big, BIG_LEN)) < 0) {
        pond_fs_abort(fs);
        goto done;
    }
    if (a->fail_in_commit)
        pond_alloc_fail_at(a->fail_in_commit, false);
    uint64_t before = pond_alloc_count();
    rc = pond_fs_commit(NULL, fs);
    a->commit_allocs = pond_alloc_count() - before;
    if (rc < 0)
        goto done;
    /* the committing process sees its own commit too (the in-memory index), also when an
     * allocation failed after the commit became durable (the fault is used up by then) */
    bool fired_in_commit = pond_alloc_fail_fired();
    if ((rc = pond_fs_read_all(&b, fs, NULL, "/small")) < 0) {
        if (fired_in_commit)
            pt_fail(__FILE__, __LINE__,
                    "commit succeeded despite an allocation failure, but "
                    "its own fs does not see it: %s",
                    pond_error_last()->message);
        goto done;
    }
    if (b.size != 4 || memcmp(b.ptr, "tiny", 4) != 0) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG, "own commit reads back differently");
        goto done;
    }
    pond_buf_clear(&b);
    pond_fs_free(fs);
    fs = NULL;
    pond_backend_free(be);
    be = NULL;
    if ((rc = pond_oplog_open(&be, a->dir, NULL)) < 0 || (rc = pond_fs_open(&fs, be, NULL)) < 0)
        goto done;
    if ((rc = pond_fs_read_all(&b, fs, NULL, "/big")) < 0)
        goto done;
    if (b.size != BIG_LEN || memcmp(b.ptr, a->big, BIG_LEN) != 0)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG, "read back differs");
done:
    pond_buf_dispose(&b);
    pond_fs_free(fs);
    pond_backend_free(be);
    return rc;
}

/* Without faults: the pond opens; /big and /small are both absent (old state) or both hold
 * exactly what was written (new state); fsck finds nothing missing or corrupt. Returns 1 for the
 * new state, 0 for the old. */
static int check_old_or_new(const step_arg *a)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, a->dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_buf big = POND_BUF_INIT, small = POND_BUF_INIT;
    int rb = pond_fs_read_all(&big, fs, NULL, "/big");
    int rs = pond_fs_read_all(&small, fs, NULL, "/small");
    PT_ASSERT(rb == 0 || rb == POND_ENOTFOUND);
    PT_ASSERT_INT_EQ(rb, rs);
    if (rb == 0) {
        PT_ASSERT_INT_EQ(big.size, BIG_LEN);
        PT_ASSERT_MEM_EQ(big.ptr, a->big, BIG_LEN);
        PT_ASSERT_INT_EQ(small.size, 4);
        PT_ASSERT_MEM_EQ(small.ptr, "tiny", 4);
    }
    pond_fsck_report r;
    PT_ASSERT_OK(pond_oplog_fsck(&r, be, NULL, NULL, NULL));
    PT_ASSERT_INT_EQ(r.missing, 0);
    PT_ASSERT_INT_EQ(r.corrupt, 0);
    pond_buf_dispose(&big);
    pond_buf_dispose(&small);
    pond_fs_free(fs);
    pond_backend_free(be);
    return rb == 0;
}

static void test_alloc_fault_loop_commit_reopen(void)
{
    /* a fresh pond per step, so that every step starts from the same old state */
    static step_arg a;
    fill(a.big, BIG_LEN, 7);
    char name[64];
    /* every allocation with POND_CRASH_FULL=1 (make crash-test); else a sample that thins out
     * with n (all of the first 48, then about 10 per doubling). POND_CRASH_ALLOC_START=n
     * starts at n, for debugging one step. */
    bool full = getenv("POND_CRASH_FULL") != NULL;
    const char *start = getenv("POND_CRASH_ALLOC_START");
    uint64_t n, steps = 0;
    for (n = start ? strtoull(start, NULL, 10) : 1;; n += full || n < 48 ? 1 : n / 10, steps++) {
        snprintf(name, sizeof name, "p%llu", (unsigned long long)n);
        char *dir = tmp_path(name);
        make_pond(dir);
        a.dir = dir;
        pond_alloc_fail_at(n, false);
        int rc = commit_step(&a);
        bool fired = pond_alloc_fail_fired();
        pond_alloc_fail_at(0, false);
        if (!fired)
            PT_ASSERT_OK(rc);
        /* success despite a failed allocation is right only when the commit was already
         * durable (the index update after it recovers); then the state must be the new one */
        int state = check_old_or_new(&a);
        if (rc == 0)
            PT_ASSERT_INT_EQ(state, 1);
        pond_free(dir);
        if (!fired)
            break;
        if (pt_light() && n > 40)
            n += n / 8; /* valgrind: sample the later steps more thinly */
    }
    PT_ASSERT(n > 100); /* the loop really ran over many allocations */
    PT_ASSERT(steps > 20);
}

/* Regression: an allocation failing after the commit file was durable (while publishing into
 * the in-memory index) left the committing handle blind to its own commit. Every allocation of
 * pond_fs_commit, one at a time. */
static void test_alloc_fault_every_commit_allocation(void)
{
    static step_arg a;
    fill(a.big, BIG_LEN, 9);
    char *dir = tmp_path("clean");
    make_pond(dir);
    a.dir = dir;
    PT_ASSERT_OK(commit_step(&a));
    uint64_t total = a.commit_allocs;
    PT_ASSERT(total > 20);
    pond_free(dir);
    /* every allocation with POND_CRASH_FULL=1; else every one of the last 40 (publishing into
     * the index, after the commit is durable) and about 30 spread over the rest */
    bool full = getenv("POND_CRASH_FULL") != NULL;
    uint64_t stride = full ? 1 : total / (pt_light() ? 15 : 30) + 1, succeeded = 0;
    uint64_t tail = total > 40 && !pt_light() ? total - 40 : total - 12;
    for (uint64_t k = 1; k <= total; k += k >= tail ? 1 : stride) {
        char name[64];
        snprintf(name, sizeof name, "c%llu", (unsigned long long)k);
        dir = tmp_path(name);
        make_pond(dir);
        a.dir = dir;
        a.fail_in_commit = k;
        int rc = commit_step(&a);
        bool fired = pond_alloc_fail_fired();
        pond_alloc_fail_at(0, false);
        a.fail_in_commit = 0;
        PT_ASSERT(fired);
        int state = check_old_or_new(&a);
        if (rc == 0) {
            PT_ASSERT_INT_EQ(state, 1);
            succeeded++;
        }
        pond_free(dir);
    }
    (void)succeeded;
}

/* Open and read back: no writes, so every allocation is cheap to fail. Regression: a failed
 * allocation of a directory row's entries left n_entries set over a NULL array, and freeing
 * the half-decoded row crashed. */
static int reopen_step(step_arg *a)
{
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    pond_buf b = POND_BUF_INIT;
    int rc;
    if ((rc = pond_oplog_open(&be, a->dir, NULL)) == 0 && (rc = pond_fs_open(&fs, be, NULL)) == 0 &&
        (rc = pond_fs_read_all(&b, fs, NULL, "/big")) == 0 &&
        (b.size != BIG_LEN || memcmp(b.ptr, a->big, BIG_LEN) != 0))
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_OPLOG, "read back differs");
    pond_buf_dispose(&b);
    pond_fs_free(fs);
    pond_backend_free(be);
    return rc;
}

static void test_alloc_fault_every_reopen_allocation(void)
{
    static step_arg a;
    fill(a.big, BIG_LEN, 5);
    char *dir = tmp_path("p");
    make_pond(dir);
    a.dir = dir;
    PT_ASSERT_OK(commit_step(&a));
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, reopen_step, &a);
    PT_ASSERT(steps > 20);
    PT_ASSERT_INT_EQ(check_old_or_new(&a), 1);
    pond_free(dir);
}

/* Every mutating OS call of the step fails once with EIO (then persistently with ENOSPC): the
 * step fails cleanly, the pond is at the old or the new state; short writes and EINTR on writes
 * are retried and the step succeeds. */
static void os_fault_loop(pond_fault_kind kind, int err, bool persistent, bool must_succeed)
{
    static step_arg a;
    fill(a.big, BIG_LEN, 11);
    char name[64];
    uint64_t n;
    int stride = pt_light() ? 5 : 1;
    for (n = 1;; n += (uint64_t)stride) {
        snprintf(name, sizeof name, "f%d-%d-%llu", (int)kind, (int)persistent,
                 (unsigned long long)n);
        char *dir = tmp_path(name);
        make_pond(dir);
        a.dir = dir;
        pond_os_fault_at(POND_OS__COUNT, n, kind, err, persistent);
        int rc = commit_step(&a);
        bool fired = pond_os_fault_fired();
        pond_os_fault_clear();
        if (!fired || must_succeed)
            PT_ASSERT_OK(rc);
        if (rc < 0 && kind == POND_FAULT_ERRNO)
            PT_ASSERT_MSG_HAS(strerror(err));
        int state = check_old_or_new(&a);
        if (rc == 0)
            PT_ASSERT_INT_EQ(state, 1);
        pond_free(dir);
        if (!fired)
            break;
    }
    PT_ASSERT(n > 10);
}

static void test_os_eio_once(void) { os_fault_loop(POND_FAULT_ERRNO, EIO, false, false); }
static void test_os_enospc_persistent(void)
{
    os_fault_loop(POND_FAULT_ERRNO, ENOSPC, true, false);
}

static void test_short_writes_retried(void)
{
    /* only write calls are shortened; every one of them, in turn */
    static step_arg a;
    fill(a.big, BIG_LEN, 13);
    char name[64];
    uint64_t n;
    for (n = 1;; n++) {
        snprintf(name, sizeof name, "s%llu", (unsigned long long)n);
        char *dir = tmp_path(name);
        make_pond(dir);
        a.dir = dir;
        pond_os_fault_at(POND_OS_WRITE, n, POND_FAULT_SHORT, 0, false);
        int rc = commit_step(&a);
        bool fired = pond_os_fault_fired();
        pond_os_fault_clear();
        PT_ASSERT_OK(rc);
        PT_ASSERT_INT_EQ(check_old_or_new(&a), 1);
        pond_os_fault_at(POND_OS_WRITE, n, POND_FAULT_EINTR, 0, false);
        rc = commit_step(&a); /* a second version of both files */
        pond_os_fault_clear();
        PT_ASSERT_OK(rc);
        PT_ASSERT_INT_EQ(check_old_or_new(&a), 1);
        pond_free(dir);
        if (!fired)
            break;
    }
    PT_ASSERT(n > 3);
}

/* Regression: `pond init` interrupted after creating `_delta_log/` (or its temp commit) left a
 * directory that was neither a pond nor accepted by a second `pond init`. */
static void test_create_after_interrupted_create(void)
{
    char *dir = tmp_path("half");
    PT_ASSERT_INT_EQ(mkdir(dir, 0755), 0);
    char *log = tmp_path("half/_delta_log");
    PT_ASSERT_INT_EQ(mkdir(log, 0755), 0);
    char *tmpf = tmp_path("half/_delta_log/.tmp-00000000000000000000-1-0.json");
    int fd = open(tmpf, O_WRONLY | O_CREAT | O_EXCL, 0644);
    PT_ASSERT(fd >= 0);
    PT_ASSERT_INT_EQ(write(fd, "{\"proto", 7), 7);
    close(fd);
    PT_ASSERT(!pond_oplog_is_pond(dir));
    make_pond(dir);
    PT_ASSERT(pond_oplog_is_pond(dir));
    pond_backend *be = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    pond_backend_free(be);
    /* anything else in the directory still refuses */
    char *other = tmp_path("other");
    PT_ASSERT_INT_EQ(mkdir(other, 0755), 0);
    char *olog = tmp_path("other/_delta_log");
    PT_ASSERT_INT_EQ(mkdir(olog, 0755), 0);
    char *ofile = tmp_path("other/_delta_log/notes.txt");
    fd = open(ofile, O_WRONLY | O_CREAT | O_EXCL, 0644);
    PT_ASSERT(fd >= 0);
    close(fd);
    PT_ASSERT_ERR(pond_oplog_create(other, NULL), POND_EEXISTS);
    PT_ASSERT_MSG_HAS("not empty");
    pond_free(dir);
    pond_free(log);
    pond_free(tmpf);
    pond_free(other);
    pond_free(olog);
    pond_free(ofile);
}

PT_SUITE(oplog_crash, PT_TEST(alloc_fault_loop_commit_reopen),
         PT_TEST(alloc_fault_every_commit_allocation), PT_TEST(alloc_fault_every_reopen_allocation),
         PT_TEST(os_eio_once), PT_TEST(os_enospc_persistent), PT_TEST(short_writes_retried),
         PT_TEST(create_after_interrupted_create))
