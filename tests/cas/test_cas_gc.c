/* cas: fault injection on the writer, allocation faults, fsck and gc primitives. */
#include "pt.h"

#include <pond/cas.h>
#include <pond/hash.h>

#include "util/util.h"
#include "cas_test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOUR_US (3600LL * 1000000)

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int write_blob(pond_cas_ref *ref, pond_cas *cas, const uint8_t *data, size_t len)
{
    pond_cas_writer *w;
    int rc = pond_cas_writer_new(&w, cas);
    if (rc < 0)
        return rc;
    for (size_t off = 0; off < len && rc == 0; off += 100)
        rc = pond_cas_writer_write(w, data + off, POND_MIN((size_t)100, len - off));
    if (rc == 0)
        rc = pond_cas_writer_finish(ref, w);
    pond_cas_writer_free(w);
    return rc;
}

/* Fails the nth call of `call`, n = 1, 2, ... until the write succeeds. Every failed attempt
 * must leave neither a blob under its final name nor a temp file. */
static void fault_loop(pond_os_call call, bool threaded, uint32_t chunk, uint64_t seed)
{
    char name[64];
    snprintf(name, sizeof name, "lf-%s-%d-%u", pond_os_call_name(call), (int)threaded, chunk);
    pond_cas *cas = ct_store(name, chunk, 4, threaded);
    size_t len = chunk * 9 + 3;
    uint8_t *data = malloc(len);
    ct_fill(data, len, seed);
    pond_hash sha;
    PT_ASSERT_OK(pond_sha256_buf(&sha, data, len));
    char *bp = ct_blob_path(cas, &sha, ""), *tp = ct_blob_path(cas, &sha, ".chunks");
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/%s/tmp", PT_TMPDIR(), name);
    pond_cas_ref ref;
    uint64_t n;
    for (n = 1; n < 1000; n++) {
        pond_os_fault_at(call, n, POND_FAULT_ERRNO, EIO, false);
        int rc = write_blob(&ref, cas, data, len);
        bool fired = pond_os_fault_fired();
        pond_os_fault_clear();
        if (!fired) {
            PT_ASSERT_OK(rc);
            break;
        }
        if (rc == 0)
            pt_fail(__FILE__, __LINE__, "%s #%llu failed but the write succeeded",
                    pond_os_call_name(call), (unsigned long long)n);
        PT_ASSERT(access(bp, F_OK) != 0);
        PT_ASSERT(access(tp, F_OK) != 0);
        PT_ASSERT_INT_EQ(count_files(tmp), 0);
    }
    PT_ASSERT(n > 1 || call == POND_OS_LINK); /* the writer makes no link call */
    if (getenv("CT_DEBUG"))
        printf("%s threaded=%d chunk=%u: %llu steps\n", pond_os_call_name(call), threaded, chunk,
               (unsigned long long)n);
    PT_ASSERT(pond_hash_equal(&ref.sha256, &sha));
    pond_cas_ref v;
    PT_ASSERT_OK(pond_cas_verify(&v, cas, &sha));
    PT_ASSERT(pond_hash_equal(&v.root, &ref.root));
    PT_ASSERT_INT_EQ(count_files(tmp), 0);
    free(bp);
    free(tp);
    free(data);
    pond_cas_free(cas);
}

static void test_writer_faults(void)
{
    const pond_os_call calls[] = {POND_OS__COUNT, POND_OS_OPEN,   POND_OS_WRITE,
                                  POND_OS_FSYNC,  POND_OS_RENAME, POND_OS_MKDIR,
                                  POND_OS_FLOCK,  POND_OS_LSTAT,  POND_OS_LINK};
    /* small chunks and page-sized ones, whose writes go through the zero-copy path */
    for (size_t i = 0; i < POND_ARRAY_LEN(calls); i++)
        for (int threaded = 0; threaded < 2; threaded++) {
            fault_loop(calls[i], threaded, 64, i);
            fault_loop(calls[i], threaded, 4096, i);
        }
}

/* Faults on a dedup hit: the existing blob must survive every failure intact. */
static void test_writer_faults_on_dedup(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, true);
    size_t len = 64 * 5;
    uint8_t *data = malloc(len);
    ct_fill(data, len, 77);
    pond_cas_ref ref, again;
    PT_ASSERT_OK(pond_cas_put(&ref, cas, data, len));
    for (uint64_t n = 1; n < 1000; n++) {
        pond_os_fault_at(POND_OS__COUNT, n, POND_FAULT_ERRNO, EIO, false);
        int rc = write_blob(&again, cas, data, len);
        bool fired = pond_os_fault_fired();
        pond_os_fault_clear();
        pond_cas_ref v;
        PT_ASSERT_OK(pond_cas_verify(&v, cas, &ref.sha256));
        PT_ASSERT(pond_hash_equal(&v.root, &ref.root));
        if (!fired) {
            PT_ASSERT_OK(rc);
            break;
        }
        PT_ASSERT(rc < 0);
    }
    ct_counts c = ct_count(cas, 0);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_BLOB], 1);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 0);
    free(data);
    pond_cas_free(cas);
}

typedef struct {
    pond_cas *cas;
    const uint8_t *data;
    size_t len;
} alloc_arg;

static int alloc_body(alloc_arg *a)
{
    pond_cas_ref ref;
    int rc = write_blob(&ref, a->cas, a->data, a->len);
    if (rc < 0)
        return rc;
    pond_cas_reader *r;
    if ((rc = pond_cas_reader_open(&r, a->cas, &ref)) < 0)
        return rc;
    uint8_t *buf = malloc(a->len);
    size_t got = 0, n;
    do {
        rc = pond_cas_reader_read(r, buf + got, POND_MIN((size_t)50, a->len - got), &n);
        got += n;
    } while (rc == 0 && n > 0);
    if (rc == 0 && (got != a->len || memcmp(buf, a->data, a->len) != 0))
        rc = pond_error_set(POND_ERROR, POND_DOM_NONE, "read back differs");
    if (rc == 0) {
        pond_cas_ref v;
        rc = pond_cas_verify(&v, a->cas, &ref.sha256);
    }
    if (rc == 0) {
        pond_cas_ref v;
        rc = pond_cas_reuse(&v, a->cas, &ref.sha256, ref.size);
        if (rc == 0 && !pond_hash_equal(&v.root, &ref.root))
            rc = pond_error_set(POND_ERROR, POND_DOM_NONE, "reuse: another root");
    }
    free(buf);
    pond_cas_reader_free(r);
    return rc;
}

static void test_alloc_faults(void)
{
    for (int threaded = 0; threaded < 2; threaded++) {
        pond_cas *cas = ct_store(threaded ? "t" : "s", 64, 4, threaded);
        alloc_arg a = {cas, NULL, 64 * 11 + 7};
        uint8_t *data = malloc(a.len);
        ct_fill(data, a.len, 4);
        a.data = data;
        size_t before = pond_alloc_current();
        uint64_t steps;
        PT_ALLOC_FAULT_LOOP(steps, alloc_body, &a);
        PT_ASSERT(steps > 5);
        PT_ASSERT_INT_EQ(pond_alloc_current(), before);
        ct_counts c = ct_count(cas, 0);
        PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_BLOB], 1);
        PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 0);
        free(data);
        pond_cas_free(cas);
    }
}

static void test_stale_temps(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, false);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/lf/tmp", PT_TMPDIR());
    /* a live writer with fresh temp files */
    pond_cas_writer *w;
    PT_ASSERT_OK(pond_cas_writer_new(&w, cas));
    uint8_t data[300];
    ct_fill(data, sizeof data, 1);
    PT_ASSERT_OK(pond_cas_writer_write(w, data, sizeof data));
    ct_counts c = ct_count(cas, HOUR_US);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 2);
    PT_ASSERT_INT_EQ(c.stale[POND_CAS_ENTRY_TEMP], 0);
    /* abandoned files from a crashed writer, two hours old, and an old file that is not a
     * writer's (a name writers never use: reported, never removed) */
    char p1[4300], p2[4300], p3[4300], p4[4300];
    snprintf(p1, sizeof p1, "%s/12-1-5f3a.data", tmp);
    snprintf(p2, sizeof p2, "%s/12-1-5f3a.chunks", tmp);
    snprintf(p3, sizeof p3, "%s/odd", tmp);
    /* an old .chunks whose .data is fresh: a slow writer, kept */
    snprintf(p4, sizeof p4, "%s/13-2-5f3b.chunks", tmp);
    const char *paths[] = {p1, p2, p3, p4};
    for (int i = 0; i < 4; i++) {
        int fd = open(paths[i], O_CREAT | O_WRONLY, 0644);
        PT_ASSERT(fd >= 0);
        close(fd);
        ct_age(paths[i], 7200);
    }
    char p5[4300];
    snprintf(p5, sizeof p5, "%s/13-2-5f3b.data", tmp);
    int fd = open(p5, O_CREAT | O_WRONLY, 0644);
    PT_ASSERT(fd >= 0);
    PT_ASSERT_INT_EQ(write(fd, "12345", 5), 5);
    close(fd);
    c = ct_count(cas, HOUR_US);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 6);
    PT_ASSERT_INT_EQ(c.stale[POND_CAS_ENTRY_TEMP], 3);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_OTHER], 1);
    size_t removed = 99;
    int64_t bytes = -1;
    PT_ASSERT_OK(pond_cas_remove_stale_temps(&removed, &bytes, cas, HOUR_US));
    PT_ASSERT_INT_EQ(removed, 2);
    PT_ASSERT_INT_EQ(bytes, 0);
    PT_ASSERT(access(p1, F_OK) != 0 && access(p2, F_OK) != 0);
    PT_ASSERT(access(p3, F_OK) == 0 && access(p4, F_OK) == 0 && access(p5, F_OK) == 0);
    PT_ASSERT_INT_EQ(count_files(tmp), 5);
    /* the live writer is untouched and finishes */
    pond_cas_ref ref;
    PT_ASSERT_OK(pond_cas_writer_finish(&ref, w));
    pond_cas_writer_free(w);
    /* a writer idle for longer than the grace period loses its temp files and fails cleanly */
    PT_ASSERT_OK(pond_cas_writer_new(&w, cas));
    PT_ASSERT_OK(pond_cas_writer_write(w, "x", 1));
    DIR *d = opendir(tmp);
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[4600];
        snprintf(p, sizeof p, "%s/%s", tmp, e->d_name);
        if (e->d_name[0] != '.')
            ct_age(p, 7200);
    }
    closedir(d);
    PT_ASSERT_OK(pond_cas_remove_stale_temps(&removed, &bytes, cas, HOUR_US));
    PT_ASSERT_INT_EQ(removed, 4);
    PT_ASSERT_INT_EQ(bytes, 5); /* 13-2-5f3b.data (the idle writer's byte is still buffered) */
    PT_ASSERT(pond_cas_writer_finish(&ref, w) < 0);
    pond_cas_writer_free(w);
    PT_ASSERT_INT_EQ(count_files(tmp), 1); /* odd */
    PT_ASSERT_INT_EQ(ct_count(cas, 0).n[POND_CAS_ENTRY_BLOB], 1);
    pond_cas_free(cas);
}

static void test_gc_remove(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, true);
    uint8_t data[500];
    ct_fill(data, sizeof data, 8);
    pond_cas_ref ref;
    PT_ASSERT_OK(pond_cas_put(&ref, cas, data, sizeof data));
    char *bp = ct_blob_path(cas, &ref.sha256, ""), *tp = ct_blob_path(cas, &ref.sha256, ".chunks");
    /* fresh: kept */
    bool removed = true;
    PT_ASSERT_OK(pond_cas_remove(&removed, NULL, cas, &ref.sha256, HOUR_US));
    PT_ASSERT(!removed);
    PT_ASSERT(access(bp, F_OK) == 0);
    /* old, then refreshed by a dedup hit: kept */
    ct_age(bp, 7200);
    ct_age(tp, 7200);
    PT_ASSERT_INT_EQ(ct_count(cas, HOUR_US).stale[POND_CAS_ENTRY_BLOB], 1);
    pond_cas_ref again;
    pond_cas_writer *w;
    PT_ASSERT_OK(pond_cas_writer_new(&w, cas));
    PT_ASSERT_OK(pond_cas_writer_write(w, data, sizeof data));
    PT_ASSERT_OK(pond_cas_writer_finish(&again, w));
    PT_ASSERT(pond_cas_writer_deduplicated(w));
    pond_cas_writer_free(w);
    PT_ASSERT_INT_EQ(ct_count(cas, HOUR_US).stale[POND_CAS_ENTRY_BLOB], 0);
    PT_ASSERT_OK(pond_cas_remove(&removed, NULL, cas, &ref.sha256, HOUR_US));
    PT_ASSERT(!removed);
    /* only the table fresh: still kept (a publish in progress) */
    ct_age(bp, 7200);
    PT_ASSERT_OK(pond_cas_remove(&removed, NULL, cas, &ref.sha256, HOUR_US));
    PT_ASSERT(!removed);
    /* both old: removed */
    ct_age(tp, 7200);
    PT_ASSERT_OK(pond_cas_remove(&removed, NULL, cas, &ref.sha256, HOUR_US));
    PT_ASSERT(removed);
    PT_ASSERT(access(bp, F_OK) != 0 && access(tp, F_OK) != 0);
    pond_cas_reader *r;
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &ref), POND_ENOTFOUND);
    PT_ASSERT_OK(pond_cas_remove(&removed, NULL, cas, &ref.sha256, 0));
    PT_ASSERT(!removed);
    /* grace 0 removes a fresh blob */
    PT_ASSERT_OK(pond_cas_put(&ref, cas, data, sizeof data));
    PT_ASSERT_OK(pond_cas_remove(&removed, NULL, cas, &ref.sha256, 0));
    PT_ASSERT(removed);
    PT_ASSERT_INT_EQ(ct_count(cas, 0).n[POND_CAS_ENTRY_BLOB], 0);
    free(bp);
    free(tp);
    pond_cas_free(cas);
}

typedef struct {
    int blobs, orphans, others, stop_after;
    pond_hash orphan;
} walk_state;

static int walk_cb(const pond_cas_entry *e, void *payload)
{
    walk_state *s = payload;
    switch (e->kind) {
    case POND_CAS_ENTRY_BLOB:
        s->blobs++;
        break;
    case POND_CAS_ENTRY_CHUNKS:
        s->orphans++;
        s->orphan = e->sha256;
        PT_ASSERT(strstr(e->path, ".chunks") != NULL);
        break;
    case POND_CAS_ENTRY_OTHER:
        s->others++;
        break;
    default:
        break;
    }
    return s->stop_after && s->blobs == s->stop_after ? 42 : 0;
}

static void test_fsck_enumerate(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, false);
    walk_state s;
    memset(&s, 0, sizeof s);
    PT_ASSERT_OK(pond_cas_foreach(cas, 0, walk_cb, &s)); /* no store yet: empty */
    PT_ASSERT_INT_EQ(s.blobs, 0);
    pond_cas_ref refs[5];
    for (int i = 0; i < 5; i++) {
        uint8_t data[100];
        ct_fill(data, sizeof data, (uint64_t)i + 100);
        PT_ASSERT_OK(pond_cas_put(&refs[i], cas, data, sizeof data));
    }
    /* an orphan table (blob deleted by hand) and a stray file */
    char *bp = ct_blob_path(cas, &refs[2].sha256, "");
    PT_ASSERT(unlink(bp) == 0);
    char junk[4200];
    snprintf(junk, sizeof junk, "%s/lf/README", PT_TMPDIR());
    int fd = open(junk, O_CREAT | O_WRONLY, 0644);
    PT_ASSERT(fd >= 0);
    close(fd);
    memset(&s, 0, sizeof s);
    PT_ASSERT_OK(pond_cas_foreach(cas, 0, walk_cb, &s));
    PT_ASSERT_INT_EQ(s.blobs, 4);
    PT_ASSERT_INT_EQ(s.orphans, 1);
    PT_ASSERT_INT_EQ(s.others, 1);
    PT_ASSERT(pond_hash_equal(&s.orphan, &refs[2].sha256));
    /* a callback's non-zero return stops the walk */
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    PT_ASSERT_INT_EQ(pond_cas_foreach(cas, 0, walk_cb, &s), 42);
    PT_ASSERT_INT_EQ(s.blobs, 2);
    /* the orphan table goes with remove (grace 0) */
    bool removed = true;
    PT_ASSERT_OK(pond_cas_remove(&removed, NULL, cas, &refs[2].sha256, 0));
    PT_ASSERT(!removed);
    PT_ASSERT_INT_EQ(ct_count(cas, 0).n[POND_CAS_ENTRY_CHUNKS], 0);
    /* verify returns the recorded ref for every good blob */
    for (int i = 0; i < 5; i++) {
        if (i == 2)
            continue;
        pond_cas_ref v;
        PT_ASSERT_OK(pond_cas_verify(&v, cas, &refs[i].sha256));
        PT_ASSERT(pond_hash_equal(&v.root, &refs[i].root));
        PT_ASSERT_INT_EQ(v.size, refs[i].size);
    }
    pond_cas_ref v;
    PT_ASSERT_ERR(pond_cas_verify(&v, cas, &refs[2].sha256), POND_ENOTFOUND);
    /* extra bytes appended to a blob: reads are fine, fsck reports it */
    char *bp0 = ct_blob_path(cas, &refs[0].sha256, "");
    PT_ASSERT(chmod(bp0, 0644) == 0);
    fd = open(bp0, O_WRONLY | O_APPEND);
    PT_ASSERT(fd >= 0 && write(fd, "zz", 2) == 2);
    close(fd);
    PT_ASSERT_ERR(pond_cas_verify(&v, cas, &refs[0].sha256), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("on disk");
    free(bp);
    free(bp0);
    pond_cas_free(cas);
}

static void test_reuse(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, true);
    size_t len = 64 * 9 + 5;
    uint8_t *data = malloc(len);
    ct_fill(data, len, 55);
    pond_hash sha;
    PT_ASSERT_OK(pond_sha256_buf(&sha, data, len));
    pond_cas_ref ref, got;
    /* absent: not found (also before the store exists) */
    PT_ASSERT_ERR(pond_cas_reuse(&got, cas, &sha, (int64_t)len), POND_ENOTFOUND);
    PT_ASSERT_OK(pond_cas_put(&ref, cas, data, len));
    char *bp = ct_blob_path(cas, &sha, ""), *tp = ct_blob_path(cas, &sha, ".chunks");
    struct stat before, after;
    PT_ASSERT(stat(bp, &before) == 0);
    ct_age(bp, 7200);
    ct_age(tp, 7200);
    PT_ASSERT_OK(pond_cas_reuse(&got, cas, &sha, (int64_t)len));
    PT_ASSERT(pond_hash_equal(&got.sha256, &ref.sha256));
    PT_ASSERT(pond_hash_equal(&got.root, &ref.root));
    PT_ASSERT_INT_EQ(got.size, ref.size);
    /* the blob was not rewritten; the table was refreshed, which keeps gc away */
    PT_ASSERT(stat(bp, &after) == 0);
    PT_ASSERT_INT_EQ(after.st_ino, before.st_ino);
    bool removed = true;
    PT_ASSERT_OK(pond_cas_remove(&removed, NULL, cas, &sha, HOUR_US));
    PT_ASSERT(!removed);
    PT_ASSERT_INT_EQ(ct_count(cas, 0).n[POND_CAS_ENTRY_TEMP], 0);
    uint8_t *back = malloc(len);
    pond_cas_reader *r;
    size_t n;
    PT_ASSERT_OK(pond_cas_reader_open(&r, cas, &got));
    PT_ASSERT_OK(pond_cas_reader_read_at(r, back, len, 0, &n));
    PT_ASSERT_INT_EQ(n, len);
    PT_ASSERT_MEM_EQ(back, data, len);
    pond_cas_reader_free(r);
    /* another size, a damaged table, a missing table: not reusable */
    PT_ASSERT_ERR(pond_cas_reuse(&got, cas, &sha, (int64_t)len + 1), POND_ENOTFOUND);
    pond_cas_ref v;
    ct_flip(tp, 32 * 10 + 4); /* a group hash (10 chunks, 3 groups) */
    PT_ASSERT_ERR(pond_cas_reuse(&got, cas, &sha, (int64_t)len), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("group");
    ct_flip(tp, 32 * 10 + 4);
    ct_flip(tp, 32 * 2 + 4); /* a chunk hash */
    PT_ASSERT_ERR(pond_cas_reuse(&got, cas, &sha, (int64_t)len), POND_ENOTFOUND);
    ct_flip(tp, 32 * 2 + 4);
    ct_flip(tp, 32 * 13 + 40); /* the trailer's content hash */
    PT_ASSERT_ERR(pond_cas_reuse(&got, cas, &sha, (int64_t)len), POND_ENOTFOUND);
    ct_flip(tp, 32 * 13 + 40);
    PT_ASSERT(unlink(tp) == 0);
    PT_ASSERT_ERR(pond_cas_reuse(&got, cas, &sha, (int64_t)len), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("missing");
    /* a writer then restores it */
    PT_ASSERT_OK(pond_cas_put(&got, cas, data, len));
    PT_ASSERT(pond_hash_equal(&got.root, &ref.root));
    /* every failure of a fault loop leaves the blob intact and no temp file */
    uint64_t k;
    for (k = 1; k < 100; k++) {
        pond_os_fault_at(POND_OS__COUNT, k, POND_FAULT_ERRNO, EIO, false);
        int rc = pond_cas_reuse(&got, cas, &sha, (int64_t)len);
        bool fired = pond_os_fault_fired();
        pond_os_fault_clear();
        PT_ASSERT_OK(pond_cas_verify(&v, cas, &sha));
        PT_ASSERT(pond_hash_equal(&v.root, &ref.root));
        PT_ASSERT_INT_EQ(ct_count(cas, 0).n[POND_CAS_ENTRY_TEMP], 0);
        if (!fired) {
            PT_ASSERT_OK(rc);
            break;
        }
        PT_ASSERT(rc < 0);
    }
    PT_ASSERT(k > 3);
    free(back);
    free(bp);
    free(tp);
    free(data);
    pond_cas_free(cas);
}

/* Crash points run in a fresh process (this binary re-executed, so that neither valgrind nor
 * LSan inspects a deliberately killed process): the constructor below sees CT_CRASH_DIR, writes
 * the blob with the nth mutating OS call replaced by _exit(77), and exits. */
#define CRASH_LEN (64 * 6 + 1)

__attribute__((constructor)) static void crash_child(void)
{
    const char *dir = getenv("CT_CRASH_DIR"), *nth = getenv("CT_CRASH_N");
    if (!dir || !nth)
        return;
    pond_cas_options o = POND_CAS_OPTIONS_INIT;
    o.chunk_size = 64;
    o.fanout = 4;
    pond_cas *cas;
    static uint8_t data[CRASH_LEN];
    ct_fill(data, sizeof data, 31);
    if (pond_cas_open(&cas, dir, &o) < 0)
        _exit(2);
    pond_os_fault_at(POND_OS__COUNT, strtoull(nth, NULL, 10), POND_FAULT_CRASH, 0, false);
    pond_cas_ref ref;
    _exit(write_blob(&ref, cas, data, sizeof data) == 0 ? 0 : 1);
}

/* Kills the writer at its nth mutating OS call, n = 1, 2, ... The store it leaves must hold
 * either no blob or a complete, verifiable one; leftovers are temp files (gone with stale-temp
 * removal) or an orphan table (gone with pond_cas_remove). */
static void test_crash_points(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, true);
    uint8_t data[CRASH_LEN];
    ct_fill(data, sizeof data, 31);
    pond_hash sha;
    PT_ASSERT_OK(pond_sha256_buf(&sha, data, sizeof data));
    char *bp = ct_blob_path(cas, &sha, "");
    char self[4096], dir[4200];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    PT_ASSERT(sl > 0);
    self[sl] = '\0';
    snprintf(dir, sizeof dir, "%s/lf", PT_TMPDIR());
    uint64_t n;
    for (n = 1; n < 200; n++) {
        char nth[32];
        snprintf(nth, sizeof nth, "%llu", (unsigned long long)n);
        fflush(stdout);
        pid_t pid = fork();
        PT_ASSERT(pid >= 0);
        if (pid == 0) {
            setenv("CT_CRASH_DIR", dir, 1);
            setenv("CT_CRASH_N", nth, 1);
            char *argv[] = {self, "-l", NULL};
            execv(self, argv);
            _exit(3);
        }
        int status;
        PT_ASSERT(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
        int code = WEXITSTATUS(status);
        PT_ASSERT(code == 0 || code == 77);
        if (access(bp, F_OK) == 0) {
            pond_cas_ref v;
            PT_ASSERT_OK(pond_cas_verify(&v, cas, &sha));
            bool removed;
            PT_ASSERT_OK(pond_cas_remove(&removed, NULL, cas, &sha, 0));
            PT_ASSERT(removed);
        }
        PT_ASSERT_OK(pond_cas_remove_stale_temps(NULL, NULL, cas, 0));
        PT_ASSERT_OK(pond_cas_remove(NULL, NULL, cas, &sha, 0)); /* an orphan table, if any */
        ct_counts c = ct_count(cas, 0);
        PT_ASSERT_INT_EQ(
            c.n[POND_CAS_ENTRY_BLOB] + c.n[POND_CAS_ENTRY_CHUNKS] + c.n[POND_CAS_ENTRY_TEMP], 0);
        if (code == 0)
            break;
    }
    PT_ASSERT(n > 10);
    free(bp);
    pond_cas_free(cas);
}

PT_SUITE(cas_gc, PT_TEST(writer_faults), PT_TEST(writer_faults_on_dedup), PT_TEST(alloc_faults),
         PT_TEST(stale_temps), PT_TEST(gc_remove), PT_TEST(fsck_enumerate), PT_TEST(crash_points),
         PT_TEST(reuse))
