#include "pt.h"

#include <pond/delta.h>
#include <pond/oplog.h>
#include <pond/stream.h>
#include <pond/sys/backend.h>
#include <pond/sys/os.h>
#include <pond/tinyfs.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct {
    char dir[4200];
    pond_backend *be;
    pond_fs *fs;
} env;

static void env_create(env *e, int64_t threshold)
{
    snprintf(e->dir, sizeof e->dir, "%s/pond", PT_TMPDIR());
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_data = threshold;
    PT_ASSERT_OK(pond_oplog_create(e->dir, &co));
    PT_ASSERT_OK(pond_oplog_open(&e->be, e->dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&e->fs, e->be, NULL));
}

static void env_reopen(env *e)
{
    pond_fs_free(e->fs);
    pond_backend_free(e->be);
    PT_ASSERT_OK(pond_oplog_open(&e->be, e->dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&e->fs, e->be, NULL));
}

static void env_close(env *e)
{
    pond_fs_free(e->fs);
    pond_backend_free(e->be);
}

static void put(env *e, const char *path, const char *data, size_t len)
{
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(e->fs, NULL, path, POND_ENTRY_FILE_DATA, data, len));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
}

typedef struct {
    int missing, corrupt, unreferenced, orphan, stale, temp, foreign;
    char last[2048]; /* every message, each as "kind: message\n" */
} seen;

static void on_problem(const char *kind, const char *msg, void *payload)
{
    seen *s = payload;
    s->missing += !strcmp(kind, "missing");
    s->corrupt += !strcmp(kind, "corrupt");
    s->unreferenced += !strcmp(kind, "unreferenced");
    s->orphan += !strcmp(kind, "orphan");
    s->stale += !strcmp(kind, "stale");
    s->temp += !strcmp(kind, "temp");
    s->foreign += !strcmp(kind, "foreign");
    size_t n = strlen(s->last);
    snprintf(s->last + n, sizeof s->last - n, "%s: %s\n", kind, msg);
}

static char *blob_path(env *e, const char *path)
{
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, e->fs, NULL, path));
    pond_oplog_storage so;
    PT_ASSERT_OK(pond_oplog_storage_of(&so, e->be, &st.id, st.version));
    PT_ASSERT(so.in_store);
    char *p = malloc(strlen(e->dir) + strlen(so.blob_path) + 2);
    sprintf(p, "%s/%s", e->dir, so.blob_path);
    return p;
}

static void big(char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (char)(seed >> 16);
    }
}

static void test_fsck_clean_then_corrupt_then_missing(void)
{
    env e;
    env_create(&e, 1000);
    char data[5000];
    big(data, sizeof data, 1);
    pond_fs_mkdir(e.fs, NULL, "/d", 0); /* outside a txn: refused, harmless */
    put(&e, "/big", data, sizeof data);
    put(&e, "/small", "tiny", 4);
    pond_fsck_report r;
    seen s = {0};
    PT_ASSERT_OK(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s));
    PT_ASSERT_INT_EQ(r.blobs_checked, 1);
    PT_ASSERT_INT_EQ(r.inline_checked, 1);
    PT_ASSERT_INT_EQ(r.missing + r.corrupt + r.unreferenced_blobs + r.orphan_files, 0);
    /* flip one byte of the blob */
    char *bp = blob_path(&e, "/big");
    chmod(bp, 0644);
    FILE *f = fopen(bp, "r+b");
    PT_ASSERT(f);
    fseek(f, 4000, SEEK_SET);
    fputc(data[4000] ^ 0x40, f);
    fclose(f);
    memset(&s, 0, sizeof s);
    PT_ASSERT_ERR(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s), POND_ECORRUPT);
    PT_ASSERT_INT_EQ(r.corrupt, 1);
    PT_ASSERT_INT_EQ(s.corrupt, 1);
    PT_ASSERT(strstr(s.last, "/big version 1") != NULL); /* names the node path */
    /* remove it */
    PT_ASSERT_INT_EQ(unlink(bp), 0);
    memset(&s, 0, sizeof s);
    PT_ASSERT_ERR(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s), POND_ECORRUPT);
    PT_ASSERT_INT_EQ(r.missing, 1);
    PT_ASSERT(strstr(s.last, "is missing") != NULL);
    free(bp);
    env_close(&e);
}

static void test_gc_removes_only_unreferenced(void)
{
    env e;
    env_create(&e, 1000);
    char a[3000], b[3000];
    big(a, sizeof a, 1);
    big(b, sizeof b, 2);
    put(&e, "/a", a, sizeof a);
    put(&e, "/b", b, sizeof b);
    put(&e, "/a2", a, sizeof a); /* same content as /a: one blob */
    char *pa = blob_path(&e, "/a"), *pb = blob_path(&e, "/b");
    /* delete /b: its blob is still referenced by version history (keep-all) */
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_remove(e.fs, NULL, "/b", false));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.grace_us = 0;
    pond_gc_report r;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    PT_ASSERT_INT_EQ(r.blobs_removed, 0);
    struct stat st;
    PT_ASSERT(stat(pb, &st) == 0);
    /* a blob written by no commit (an aborted transaction) is removed */
    char c[3000];
    big(c, sizeof c, 3);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(e.fs, NULL, "/c", POND_ENTRY_FILE_DATA, c, sizeof c));
    pond_fs_abort(e.fs); /* content never reached the store: nothing to remove */
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    PT_ASSERT_INT_EQ(r.blobs_removed, 0);
    pond_oplog_unlock(e.be);
    /* with retention, the deleted file's versions go, and with them its blob */
    env_reopen(&e);
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    o.keep_versions = 1;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    pond_oplog_unlock(e.be);
    PT_ASSERT(r.commit_version > 0);
    /* /b was deleted: under a retention policy its versions are history and go, and with them
     * the only reference to its blob; /a and /a2 share one blob that stays */
    PT_ASSERT(stat(pb, &st) != 0);
    PT_ASSERT(stat(pa, &st) == 0);
    env_reopen(&e);
    pond_buf got = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&got, e.fs, NULL, "/a2"));
    PT_ASSERT_INT_EQ(got.size, sizeof a);
    PT_ASSERT_MEM_EQ(got.ptr, a, sizeof a);
    pond_buf_dispose(&got);
    pond_fsck_report fr;
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL));
    free(pa);
    free(pb);
    env_close(&e);
}

static void test_gc_retention_drops_old_blob(void)
{
    env e;
    env_create(&e, 1000);
    char v1[2000], v2[2000];
    big(v1, sizeof v1, 7);
    big(v2, sizeof v2, 8);
    put(&e, "/f", v1, sizeof v1);
    char *p1 = blob_path(&e, "/f");
    put(&e, "/f", v2, sizeof v2);
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.grace_us = 0;
    o.keep_versions = 1;
    pond_gc_report r;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    pond_oplog_unlock(e.be);
    PT_ASSERT(r.versions_dropped >= 1);
    PT_ASSERT_INT_EQ(r.blobs_removed, 1);
    struct stat st;
    PT_ASSERT(stat(p1, &st) != 0); /* version 1's blob is gone */
    env_reopen(&e);
    pond_stat *vs;
    size_t nv;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e.fs, NULL, "/f"));
    PT_ASSERT_INT_EQ(nv, 1);
    PT_ASSERT_INT_EQ(vs[0].version, 2);
    pond_free(vs);
    pond_buf got = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&got, e.fs, NULL, "/f"));
    PT_ASSERT_MEM_EQ(got.ptr, v2, sizeof v2);
    pond_buf_dispose(&got);
    /* the grace period protects young blobs: a fresh unreferenced blob survives */
    free(p1);
    env_close(&e);
}

static void test_gc_orphan_data_file_and_grace(void)
{
    env e;
    env_create(&e, 1000);
    put(&e, "/x", "x", 1);
    /* a data file no commit refers to (a writer that died before its commit) */
    char orphan[4400];
    snprintf(orphan, sizeof orphan,
             "%s/part_id=00000000-0000-7000-8000-000000000000/"
             "00000000000000000099-deadbeef.parquet",
             e.dir);
    FILE *f = fopen(orphan, "w");
    PT_ASSERT(f);
    fputs("PAR1junk", f);
    fclose(f);
    pond_fsck_report fr;
    seen s = {0};
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, on_problem, NULL, &s));
    PT_ASSERT_INT_EQ(fr.orphan_files, 1);
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT; /* default grace: one hour */
    pond_gc_report r;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    PT_ASSERT_INT_EQ(r.data_files_removed, 0); /* too young */
    struct stat st;
    PT_ASSERT(stat(orphan, &st) == 0);
    o.grace_us = 0;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    PT_ASSERT_INT_EQ(r.data_files_removed, 1);
    PT_ASSERT(stat(orphan, &st) != 0);
    pond_oplog_unlock(e.be);
    env_close(&e);
}

static void test_compaction_keeps_everything(void)
{
    env e;
    env_create(&e, 1000);
    for (int i = 0; i < 30; i++) {
        char path[32], data[32];
        snprintf(path, sizeof path, "/f%d", i % 4);
        int n = snprintf(data, sizeof data, "v%d", i);
        put(&e, path, data, (size_t)n);
    }
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.compact = true;
    pond_gc_report r;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    pond_oplog_unlock(e.be);
    PT_ASSERT_INT_EQ(r.partitions_rewritten, 1);
    PT_ASSERT_INT_EQ(r.versions_dropped, 0);
    env_reopen(&e);
    pond_stat *vs;
    size_t nv;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e.fs, NULL, "/f1"));
    PT_ASSERT_INT_EQ(nv, 8); /* i = 1, 5, ..., 29 */
    pond_free(vs);
    pond_buf got = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&got, e.fs, NULL, "/f1"));
    PT_ASSERT_STR_EQ(got.ptr, "v29");
    pond_buf_dispose(&got);
    /* a write after compaction continues the history */
    put(&e, "/f1", "after", 5);
    env_reopen(&e);
    PT_ASSERT_OK(pond_fs_read_all(&got, e.fs, NULL, "/f1"));
    PT_ASSERT_STR_EQ(got.ptr, "after");
    pond_buf_dispose(&got);
    pond_fsck_report fr;
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL));
    env_close(&e);
}

/* Live data files per partition value (the busiest two). */
typedef struct {
    char part[2][64];
    int n[2];
    int other;
} part_counts;

static int count_file(const pond_delta_file *f, void *payload)
{
    part_counts *c = payload;
    const char *v = f->n_partition_values ? f->partition_values[0].value : "";
    for (int i = 0; i < 2; i++) {
        if (!c->part[i][0])
            snprintf(c->part[i], sizeof c->part[i], "%s", v);
        if (!strcmp(c->part[i], v)) {
            c->n[i]++;
            return 0;
        }
    }
    c->other++;
    return 0;
}

static int digit_sum(int n, int base)
{
    int s = 0;
    for (; n; n /= base)
        s += n % base;
    return s;
}

/* Tiered merging: N commits into one directory leave as many data files in its partition as
 * the digit sum of N in base 8 (a binary counter with fan-in 8), and every version stays
 * readable, listings of old directory versions included. */
static void test_tiered_merge(void)
{
    env e;
    env_create(&e, 1000);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(e.fs, NULL, "/d", 0));
    int64_t mkdir_txn;
    PT_ASSERT_OK(pond_fs_commit(&mkdir_txn, e.fs));
    int n = pt_light() ? 150 : 600;
    int64_t *txn = calloc((size_t)n, sizeof *txn);
    PT_ASSERT(txn != NULL);
    for (int i = 0; i < n; i++) {
        char path[32], data[32];
        /* new files grow the listing; every 5th commit overwrites /d/f0 instead */
        snprintf(path, sizeof path, "/d/f%d", i % 5 == 4 ? 0 : i);
        int len = snprintf(data, sizeof data, "v%d", i);
        PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
        PT_ASSERT_OK(pond_fs_write_all(e.fs, NULL, path, POND_ENTRY_FILE_DATA, data, (size_t)len));
        PT_ASSERT_OK(pond_fs_commit(&txn[i], e.fs));
    }
    /* /d's partition received n + 1 files (mkdir, then one per commit) */
    pond_delta_table *t = NULL;
    PT_ASSERT_OK(pond_delta_table_open(&t, e.dir, NULL));
    part_counts c = {0};
    PT_ASSERT_OK(pond_delta_table_foreach_file(t, count_file, &c));
    pond_delta_table_free(t);
    int busiest = c.n[0] > c.n[1] ? c.n[0] : c.n[1];
    int root = c.n[0] > c.n[1] ? c.n[1] : c.n[0];
    PT_ASSERT_INT_EQ(c.other, 0);
    PT_ASSERT_INT_EQ(busiest, digit_sum(n + 1, 8));
    PT_ASSERT_INT_EQ(root, 1); /* the root's one version: mkdir /d (create writes no rows) */
    /* every state reads back, through a fresh open (lazy listings from merged files) */
    env_reopen(&e);
    int step = pt_light() ? 37 : 53;
    for (int i = 0; i < n; i += step) {
        pond_oplog_options oo = POND_OPLOG_OPTIONS_INIT;
        oo.as_of_txn = txn[i];
        pond_backend *be;
        pond_fs *fs;
        PT_ASSERT_OK(pond_oplog_open(&be, e.dir, &oo));
        PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
        pond_fs_dirent *ents;
        size_t ne;
        PT_ASSERT_OK(pond_fs_readdir(&ents, &ne, fs, NULL, "/d"));
        int want = 0; /* distinct names written so far: f<k> for every k that is not 4 mod 5 */
        for (int k = 0; k <= i; k++)
            want += k % 5 != 4;
        PT_ASSERT_INT_EQ((int)ne, want);
        pond_fs_dirents_free(ents, ne);
        /* /d/f0 holds the newest write to it at or before commit i */
        int last = 0;
        for (int k = 0; k <= i; k++)
            if (k == 0 || k % 5 == 4)
                last = k;
        char data[32];
        snprintf(data, sizeof data, "v%d", last);
        pond_buf got = POND_BUF_INIT;
        PT_ASSERT_OK(pond_fs_read_all(&got, fs, NULL, "/d/f0"));
        PT_ASSERT_STR_EQ(got.ptr, data);
        pond_buf_dispose(&got);
        pond_fs_free(fs);
        pond_backend_free(be);
    }
    pond_stat *vs;
    size_t nv;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e.fs, NULL, "/d/f0"));
    PT_ASSERT_INT_EQ((int)nv, 1 + n / 5); /* k = 0, then k = 4, 9, ... < n */
    pond_free(vs);
    pond_fsck_report fr;
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL));
    free(txn);
    env_close(&e);
}

static int first_data_file(const pond_delta_file *f, void *payload)
{
    char *out = payload;
    if (!*out)
        snprintf(out, 512, "%s", f->decoded_path);
    return 0;
}

/* Every data file's SHA-256 is in its add action: a single flipped bit anywhere in the file
 * (data pages, statistics, footer, padding) makes fsck report it and a fresh open refuse to
 * read the partition, instead of returning what the bit now says. */
static void test_data_file_bit_flips(void)
{
    env e;
    env_create(&e, 1000);
    put(&e, "/a", "alpha", 5);
    char rel[512] = {0}, path[4800];
    pond_delta_table *t = NULL;
    PT_ASSERT_OK(pond_delta_table_open(&t, e.dir, NULL));
    PT_ASSERT_OK(pond_delta_table_foreach_file(t, first_data_file, rel));
    pond_delta_table_free(t);
    PT_ASSERT(rel[0] != 0);
    snprintf(path, sizeof path, "%s/%s", e.dir, rel);
    struct stat st;
    PT_ASSERT_INT_EQ(stat(path, &st), 0);
    long size = (long)st.st_size;
    int step = pt_light() ? 97 : 13, flips = 0;
    for (long pos = 0; pos < size; pos += step) {
        FILE *f = fopen(path, "r+b");
        PT_ASSERT(f);
        fseek(f, pos, SEEK_SET);
        int c = fgetc(f);
        int bit = 1 << (pos % 8);
        fseek(f, pos, SEEK_SET);
        fputc(c ^ bit, f);
        fclose(f);
        /* a fresh open reads the partition: it must refuse, never show other bytes */
        pond_backend *be;
        pond_fs *fs;
        PT_ASSERT_OK(pond_oplog_open(&be, e.dir, NULL));
        PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
        pond_buf got = POND_BUF_INIT;
        int rc = pond_fs_read_all(&got, fs, NULL, "/a");
        PT_ASSERT_INT_EQ(rc, POND_ECORRUPT);
        PT_ASSERT_MSG_HAS(rel);
        pond_buf_dispose(&got);
        pond_fsck_report r;
        seen s = {0};
        PT_ASSERT_ERR(pond_oplog_fsck(&r, be, on_problem, NULL, &s), POND_ECORRUPT);
        PT_ASSERT(r.corrupt >= 1);
        pond_fs_free(fs);
        pond_backend_free(be);
        f = fopen(path, "r+b");
        PT_ASSERT(f);
        fseek(f, pos, SEEK_SET);
        fputc(c, f);
        fclose(f);
        flips++;
    }
    PT_ASSERT(flips > 10);
    /* restored: clean again, and a truncated or extended file is refused too */
    pond_buf got = POND_BUF_INIT;
    env_reopen(&e);
    PT_ASSERT_OK(pond_fs_read_all(&got, e.fs, NULL, "/a"));
    PT_ASSERT_STR_EQ(got.ptr, "alpha");
    pond_buf_dispose(&got);
    PT_ASSERT_INT_EQ(truncate(path, size + 1), 0);
    env_reopen(&e);
    PT_ASSERT_ERR(pond_fs_read_all(&got, e.fs, NULL, "/a"), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("appended");
    PT_ASSERT_INT_EQ(truncate(path, size - 1), 0);
    env_reopen(&e);
    PT_ASSERT_ERR(pond_fs_read_all(&got, e.fs, NULL, "/a"), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("truncated");
    pond_buf_dispose(&got);
    env_close(&e);
}

static void write_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "wb");
    PT_ASSERT(f);
    for (size_t i = 0; i < size; i++)
        fputc('z', f);
    fclose(f);
}

static void age(const char *path, int seconds)
{
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= seconds;
    tv[1] = tv[0];
    PT_ASSERT_INT_EQ(utimes(path, tv), 0);
}

static int64_t file_size(const char *path)
{
    struct stat st;
    PT_ASSERT_INT_EQ(lstat(path, &st), 0);
    return (int64_t)st.st_size;
}

/* fsck's own accounting: young temp files with size and age, stale ones, foreign entries (a
 * FIFO where pond keeps a data file fails fsck; a stray regular file does not). */
static void test_fsck_accounting(void)
{
    env e;
    env_create(&e, 1000);
    char data[3000];
    big(data, sizeof data, 4);
    put(&e, "/big", data, sizeof data);
    char tmp[4400], ltmp[4400], fifo[4400], stray[4400];
    snprintf(tmp, sizeof tmp, "%s/_large_files/tmp/77-1-abc.data", e.dir);
    snprintf(ltmp, sizeof ltmp, "%s/_delta_log/.tmp-00000000000000000009-77-1.json", e.dir);
    write_file(tmp, 1234);
    write_file(ltmp, 10);
    age(ltmp, 7200);
    pond_fsck_report r;
    seen s = {0};
    PT_ASSERT_OK(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s));
    PT_ASSERT_INT_EQ(r.young_temps, 1);
    PT_ASSERT_INT_EQ(r.young_temp_bytes, 1234);
    PT_ASSERT_INT_EQ(r.stale_temps, 1);
    PT_ASSERT(
        strstr(s.last, "temp: temp file _large_files/tmp/77-1-abc.data: 1234 bytes, 0 s old") ||
        strstr(s.last, "temp: temp file _large_files/tmp/77-1-abc.data: 1234 bytes, 1 s old"));
    PT_ASSERT(strstr(s.last, "stale: temp file _delta_log/.tmp-00000000000000000009-77-1.json: "
                             "10 bytes, 7200 s old") != NULL);
    /* a stray file in a partition directory: reported, not a failure */
    snprintf(stray, sizeof stray, "%s/part_id=00000000-0000-7000-8000-000000000000/notes.txt",
             e.dir);
    write_file(stray, 5);
    memset(&s, 0, sizeof s);
    PT_ASSERT_OK(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s));
    PT_ASSERT_INT_EQ(r.foreign, 1);
    PT_ASSERT_INT_EQ(r.misplaced, 0);
    PT_ASSERT(strstr(s.last, "notes.txt is a regular file that is not pond's") != NULL);
    /* a FIFO with a data file's name: where pond keeps its own file, so fsck fails */
    snprintf(fifo, sizeof fifo,
             "%s/part_id=00000000-0000-7000-8000-000000000000/"
             "00000000000000000042-0badf00d.parquet",
             e.dir);
    PT_ASSERT_INT_EQ(mkfifo(fifo, 0644), 0);
    memset(&s, 0, sizeof s);
    PT_ASSERT_ERR(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("1 misplaced");
    PT_ASSERT_INT_EQ(r.misplaced, 1);
    PT_ASSERT(strstr(s.last, "00000000000000000042-0badf00d.parquet is a FIFO where pond keeps its "
                             "own file") != NULL);
    /* gc leaves both alone and says so */
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.grace_us = 0;
    pond_gc_report g;
    PT_ASSERT_OK(pond_oplog_gc(&g, e.be, &o));
    pond_oplog_unlock(e.be);
    PT_ASSERT_INT_EQ(g.foreign, 2);
    struct stat st;
    PT_ASSERT(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    PT_ASSERT(lstat(stray, &st) == 0);
    PT_ASSERT(lstat(tmp, &st) != 0 && lstat(ltmp, &st) != 0); /* the temps went (grace 0) */
    env_close(&e);
}

/* gc counts exactly the bytes it removes: temp files, data files and blobs with their tables. */
static void test_gc_bytes_freed(void)
{
    env e;
    env_create(&e, 1000);
    char a[3000], b[3000];
    big(a, sizeof a, 11);
    big(b, sizeof b, 12);
    put(&e, "/f", a, sizeof a);
    char *blob_a = blob_path(&e, "/f");
    put(&e, "/f", b, sizeof b);
    char tmp[4400], orphan[4400], chunks[4400];
    snprintf(tmp, sizeof tmp, "%s/_large_files/tmp/78-2-abc.chunks", e.dir);
    write_file(tmp, 777);
    snprintf(orphan, sizeof orphan,
             "%s/part_id=00000000-0000-7000-8000-000000000000/"
             "00000000000000000099-0000beef.parquet",
             e.dir);
    write_file(orphan, 4321);
    snprintf(chunks, sizeof chunks, "%s.chunks", blob_a);
    age(tmp, 7200);
    age(orphan, 7200);
    /* version 1's blob goes with retention, and so do the data files it rewrites: sizes of
     * every data file now, to add those that are gone after gc */
    int64_t want = file_size(tmp) + file_size(orphan) + file_size(blob_a) + file_size(chunks);
    char part[4400], names[16][64];
    int64_t sizes[16];
    int n = 0;
    snprintf(part, sizeof part, "%s/part_id=00000000-0000-7000-8000-000000000000", e.dir);
    DIR *d = opendir(part);
    PT_ASSERT(d);
    struct dirent *de;
    while ((de = readdir(d)) && n < 16) {
        if (de->d_name[0] == '.' || !strcmp(de->d_name, "00000000000000000099-0000beef.parquet"))
            continue;
        if (strlen(de->d_name) >= sizeof names[n])
            continue;
        char full[4500];
        snprintf(names[n], sizeof names[n], "%.60s", de->d_name);
        snprintf(full, sizeof full, "%.4400s/%.60s", part, names[n]);
        sizes[n++] = file_size(full);
    }
    closedir(d);
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.keep_versions = 1;
    o.grace_us = 0;
    pond_gc_report r;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    pond_oplog_unlock(e.be);
    int gone = 0;
    for (int i = 0; i < n; i++) {
        char full[4500];
        struct stat st;
        snprintf(full, sizeof full, "%.4400s/%.60s", part, names[i]);
        if (stat(full, &st) != 0) {
            want += sizes[i];
            gone++;
        }
    }
    PT_ASSERT(gone >= 1); /* retention replaced at least the file holding version 1 */
    PT_ASSERT_INT_EQ(r.temps_removed, 1);
    PT_ASSERT_INT_EQ(r.blobs_removed, 1);
    PT_ASSERT_INT_EQ(r.data_files_removed, 1 + gone);
    PT_ASSERT_INT_EQ(r.bytes_freed, want);
    struct stat st;
    PT_ASSERT(stat(blob_a, &st) != 0 && stat(chunks, &st) != 0 && stat(orphan, &st) != 0);
    free(blob_a);
    env_close(&e);
}

/* Data files a merge replaced are needed by no read (time travel reads the newest snapshot),
 * so gc removes them, but only once the merge is older than the grace period: a reader that
 * opened the pond before the merge may still be reading them. */
static void test_gc_replaced_files_after_grace(void)
{
    env e;
    env_create(&e, 1000);
    for (int i = 0; i < 9; i++) { /* the 8th commit merges the partition's 8 files */
        char data[16];
        int n = snprintf(data, sizeof data, "v%d", i);
        put(&e, "/f", data, (size_t)n);
    }
    pond_fsck_report fr;
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL));
    PT_ASSERT_INT_EQ(fr.replaced_files, 8);
    PT_ASSERT_INT_EQ(fr.orphan_files, 0);
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT; /* one hour */
    pond_gc_report r;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    PT_ASSERT_INT_EQ(r.data_files_removed, 0);
    o.grace_us = 0;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    PT_ASSERT_INT_EQ(r.data_files_removed, 8);
    pond_oplog_unlock(e.be);
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL));
    PT_ASSERT_INT_EQ(fr.replaced_files, 0);
    /* every version still reads, also through time travel */
    env_reopen(&e);
    pond_stat *vs;
    size_t nv;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e.fs, NULL, "/f"));
    PT_ASSERT_INT_EQ(nv, 9);
    pond_free(vs);
    pond_oplog_options oo = POND_OPLOG_OPTIONS_INIT;
    oo.as_of_txn = 3;
    pond_backend *be;
    pond_fs *fs;
    PT_ASSERT_OK(pond_oplog_open(&be, e.dir, &oo));
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_buf got = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&got, fs, NULL, "/f"));
    PT_ASSERT_STR_EQ(got.ptr, "v2");
    pond_buf_dispose(&got);
    pond_fs_free(fs);
    pond_backend_free(be);
    env_close(&e);
}

/* Inline content loads lazily (a partition load leaves it out): every path that writes rows
 * again -- the merges after a commit, a move and new attributes (which carry the previous
 * version's bytes), gc --compact and retention -- runs here in a fresh open, where no content
 * is loaded yet, and every version kept must read back byte for byte. */
#define LC_FILES 3
#define LC_MAX 200
typedef struct {
    char path[LC_FILES][32];
    char data[LC_FILES][LC_MAX][48];
    int64_t first[LC_FILES]; /* the oldest version still kept */
    int64_t n[LC_FILES];     /* versions written */
} lc_model;

static void lc_check(env *e, const lc_model *m)
{
    for (int f = 0; f < LC_FILES; f++) {
        pond_stat *vs;
        size_t nv;
        PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e->fs, NULL, m->path[f]));
        PT_ASSERT_INT_EQ((int64_t)nv, m->n[f] - m->first[f] + 1);
        for (size_t k = 0; k < nv; k++) {
            int64_t v = vs[k].version;
            PT_ASSERT_INT_EQ(v, m->first[f] + (int64_t)k);
            pond_reader *rd = NULL;
            PT_ASSERT_OK(pond_fs_open_reader_version(&rd, e->fs, NULL, m->path[f], v));
            char buf[64] = {0};
            size_t got = 0;
            PT_ASSERT_OK(pond_reader_read(rd, buf, sizeof buf - 1, &got));
            pond_reader_free(rd);
            PT_ASSERT_STR_EQ(buf, m->data[f][v - 1]);
        }
        pond_free(vs);
    }
}

static void lc_write(env *e, lc_model *m, int f, int i)
{
    char *d = m->data[f][m->n[f]];
    snprintf(d, 48, "file %d write %d %08x", f, i, (unsigned)(i * 2654435761u));
    put(e, m->path[f], d, strlen(d));
    m->n[f]++;
}

/* a new version with the same bytes as the last one (carried, not rewritten by tinyfs) */
static void lc_same(lc_model *m, int f)
{
    memcpy(m->data[f][m->n[f]], m->data[f][m->n[f] - 1], 48);
    m->n[f]++;
}

static void test_lazy_content_rewrites(void)
{
    env e;
    env_create(&e, 1000);
    lc_model m;
    memset(&m, 0, sizeof m);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_mkdir(e.fs, NULL, "/d", 0));
    PT_ASSERT_OK(pond_fs_mkdir(e.fs, NULL, "/e", 0));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    for (int f = 0; f < LC_FILES; f++) {
        snprintf(m.path[f], sizeof m.path[f], "/d/f%d", f);
        m.first[f] = 1;
    }
    /* 70 commits, each from a fresh open: the tiered merges after them (every 8th) rewrite
     * rows whose content was never loaded */
    int n = pt_light() ? 40 : 70;
    for (int i = 0; i < n; i++) {
        env_reopen(&e);
        lc_write(&e, &m, i % LC_FILES, i);
    }
    env_reopen(&e);
    lc_check(&e, &m);
    /* new attributes carry the newest bytes; a move across directories leaves the versions
     * where they are */
    env_reopen(&e);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_set_xattrs(e.fs, NULL, m.path[0], "{\"k\":\"v\"}"));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    lc_same(&m, 0);
    env_reopen(&e);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_rename(e.fs, NULL, m.path[1], "/e/f1"));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    snprintf(m.path[1], sizeof m.path[1], "/e/f1"); /* a move writes only the listings */
    env_reopen(&e);
    lc_check(&e, &m);
    /* gc --compact: every partition's files become one */
    env_reopen(&e);
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    pond_gc_options o = POND_GC_OPTIONS_INIT;
    o.compact = true;
    pond_gc_report r;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    pond_oplog_unlock(e.be);
    PT_ASSERT(r.partitions_rewritten >= 1);
    env_reopen(&e);
    lc_check(&e, &m);
    /* retention keeps the newest 5 versions of each file, rewriting the rest */
    env_reopen(&e);
    PT_ASSERT_OK(pond_oplog_lock(e.be, false));
    o = (pond_gc_options)POND_GC_OPTIONS_INIT;
    o.keep_versions = 5;
    PT_ASSERT_OK(pond_oplog_gc(&r, e.be, &o));
    pond_oplog_unlock(e.be);
    PT_ASSERT(r.versions_dropped > 0);
    for (int f = 0; f < LC_FILES; f++)
        m.first[f] = m.n[f] - 4;
    env_reopen(&e);
    lc_check(&e, &m);
    /* and more writes after it */
    for (int i = 0; i < 10; i++) {
        env_reopen(&e);
        lc_write(&e, &m, 2, n + i);
    }
    env_reopen(&e);
    lc_check(&e, &m);
    pond_fsck_report fr;
    PT_ASSERT_OK(pond_oplog_fsck(&fr, e.be, NULL, NULL, NULL));
    PT_ASSERT_INT_EQ(fr.corrupt, 0);
    PT_ASSERT_INT_EQ(fr.missing, 0);
    env_close(&e);
}

/* Data files opened (openat of a name ending in .parquet, outside _delta_log). */
static int lc_opens;

static int lc_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    size_t n = strlen(path);
    if (n > 8 && !strcmp(path + n - 8, ".parquet") && !strstr(path, "checkpoint"))
        lc_opens++;
    return pond_os_real()->openat(dirfd, path, flags, mode);
}

/* Reading every version of a file whose versions were merged into a few data files reads each
 * data file's content once, not once per version (which made a full read of a 10,000-version
 * series quadratic: each version opened read and hashed a merged file of thousands). */
static void test_lazy_content_file_reads(void)
{
    env e;
    env_create(&e, 1000);
    int n = 100;
    char data[64];
    for (int i = 0; i < n; i++) {
        int len = snprintf(data, sizeof data, "version %d of /f", i + 1);
        put(&e, "/f", data, (size_t)len);
    }
    pond_delta_table *t = NULL;
    PT_ASSERT_OK(pond_delta_table_open(&t, e.dir, NULL));
    part_counts c = {0};
    PT_ASSERT_OK(pond_delta_table_foreach_file(t, count_file, &c));
    pond_delta_table_free(t);
    int files = c.n[0] + c.n[1] + c.other;
    PT_ASSERT(files >= 2 && files < 20); /* merged: 100 commits in base-8 tiers */
    env_reopen(&e);
    pond_os counting = *pond_os_real();
    counting.openat = lc_openat;
    lc_opens = 0;
    pond_os_set(&counting);
    for (int v = 1; v <= n; v++) {
        pond_reader *rd = NULL;
        int rc = pond_fs_open_reader_version(&rd, e.fs, NULL, "/f", v);
        char buf[64] = {0};
        size_t got = 0;
        if (rc == 0)
            rc = pond_reader_read(rd, buf, sizeof buf - 1, &got);
        pond_reader_free(rd);
        if (rc < 0)
            pond_os_set(NULL);
        PT_ASSERT_OK(rc);
        snprintf(data, sizeof data, "version %d of /f", v);
        if (strcmp(buf, data) != 0)
            pond_os_set(NULL);
        PT_ASSERT_STR_EQ(buf, data);
    }
    pond_os_set(NULL);
    /* the partition load reads each file once, the content once more: a file of one row
     * group whole, a merged file's 64-row groups one each (2n rows: /f's and the root's) */
    if (lc_opens > 2 * files + 2 * n / 64)
        pt_fail(__FILE__, __LINE__, "%d data file opens for %d versions in %d files", lc_opens, n,
                files);
    env_close(&e);
}

PT_SUITE(oplog_maint, PT_TEST(fsck_clean_then_corrupt_then_missing),
         PT_TEST(gc_removes_only_unreferenced), PT_TEST(gc_retention_drops_old_blob),
         PT_TEST(gc_orphan_data_file_and_grace), PT_TEST(compaction_keeps_everything),
         PT_TEST(tiered_merge), PT_TEST(data_file_bit_flips), PT_TEST(fsck_accounting),
         PT_TEST(gc_bytes_freed), PT_TEST(gc_replaced_files_after_grace),
         PT_TEST(lazy_content_rewrites), PT_TEST(lazy_content_file_reads))
