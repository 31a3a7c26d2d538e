#include "pt.h"

#include <pond/delta.h>
#include <pond/oplog.h>
#include <pond/stream.h>
#include <pond/sys/backend.h>
#include <pond/sys/testing.h>
#include <pond/tinyfs.h>

#include "conformance/backend_conformance.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *pond_path(const char *name)
{
    size_t n = strlen(PT_TMPDIR()) + strlen(name) + 2;
    char *p = pond_malloc(n);
    PT_ASSERT(p);
    snprintf(p, n, "%s/%s", PT_TMPDIR(), name);
    return p;
}

/* ---- conformance: every case on a fresh on-disk pond, reopen reads it back from disk ---- */

static int disk_factory(pond_backend **out, void *payload)
{
    (void)payload;
    static int counter;
    char name[64];
    snprintf(name, sizeof name, "pond%d", counter++);
    char *dir = pond_path(name);
    int rc = pond_oplog_create(dir, NULL);
    if (rc == 0)
        rc = pond_oplog_open(out, dir, NULL);
    pond_free(dir);
    return rc;
}

static int disk_reopen(pond_backend **be, void *payload)
{
    (void)payload;
    char *dir = pond_strdup(pond_oplog_dir(*be));
    if (!dir)
        return POND_ENOMEM;
    pond_backend_free(*be);
    *be = NULL;
    int rc = pond_oplog_open(be, dir, NULL);
    pond_free(dir);
    return rc;
}

__attribute__((constructor)) static void reg(void)
{
    conformance_register("oplog_conformance", disk_factory, disk_reopen, NULL);
}

/* ---- oplog-specific cases ---- */

typedef struct {
    char *dir;
    pond_backend *be;
    pond_fs *fs;
} env;

static void env_open(env *e, const char *dir)
{
    e->dir = pond_strdup(dir);
    PT_ASSERT_OK(pond_oplog_open(&e->be, dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&e->fs, e->be, NULL));
}

static void env_close(env *e)
{
    pond_fs_free(e->fs);
    pond_backend_free(e->be);
    pond_free(e->dir);
    memset(e, 0, sizeof *e);
}

static void write_file(env *e, const char *path, pond_entry_type t, const void *data, size_t len)
{
    PT_ASSERT_OK(pond_fs_write_all(e->fs, NULL, path, t, data, len));
}

static void expect_content(env *e, const char *path, const void *data, size_t len)
{
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, e->fs, NULL, path));
    PT_ASSERT_INT_EQ(b.size, len);
    PT_ASSERT_MEM_EQ(b.ptr, data, len);
    pond_buf_dispose(&b);
}

static void test_create_refuses_existing(void)
{
    char *dir = pond_path("p");
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    PT_ASSERT(pond_oplog_is_pond(dir));
    PT_ASSERT_ERR(pond_oplog_create(dir, NULL), POND_EEXISTS);
    PT_ASSERT_MSG_HAS("already a pond");
    char *other = pond_path("notempty");
    mkdir(other, 0755);
    char *f = pond_path("notempty/x");
    FILE *fp = fopen(f, "w");
    fclose(fp);
    PT_ASSERT_ERR(pond_oplog_create(other, NULL), POND_EEXISTS);
    PT_ASSERT_MSG_HAS("not empty");
    pond_backend *be;
    PT_ASSERT_ERR(pond_oplog_open(&be, other, NULL), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("is not a pond");
    pond_free(dir);
    pond_free(other);
    pond_free(f);
}

static void test_persist_and_reopen(void)
{
    char *dir = pond_path("p");
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    env e;
    env_open(&e, dir);
    PT_ASSERT_OK(pond_fs_begin(e.fs, "{\"argv\":[\"test\"]}"));
    PT_ASSERT_OK(pond_fs_mkdir(e.fs, NULL, "/sensors/site1", POND_FS_MKDIR_PARENTS));
    write_file(&e, "/sensors/site1/a.txt", POND_ENTRY_FILE_DATA, "hello", 5);
    write_file(&e, "/top.txt", POND_ENTRY_FILE_DATA, "", 0);
    PT_ASSERT_OK(pond_fs_symlink(e.fs, NULL, "sensors/site1/a.txt", "/link"));
    int64_t txn;
    PT_ASSERT_OK(pond_fs_commit(&txn, e.fs));
    PT_ASSERT_INT_EQ(txn, 1);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    write_file(&e, "/sensors/site1/a.txt", POND_ENTRY_FILE_DATA, "hello, again", 12);
    PT_ASSERT_OK(pond_fs_commit(&txn, e.fs));
    PT_ASSERT_INT_EQ(txn, 2);
    env_close(&e);

    env_open(&e, dir);
    expect_content(&e, "/sensors/site1/a.txt", "hello, again", 12);
    expect_content(&e, "/link", "hello, again", 12);
    expect_content(&e, "/top.txt", "", 0);
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, e.fs, NULL, "/sensors/site1/a.txt"));
    PT_ASSERT_INT_EQ(st.version, 2);
    PT_ASSERT_INT_EQ(st.type, POND_ENTRY_FILE_DATA);
    pond_stat *vs;
    size_t nv;
    PT_ASSERT_OK(pond_fs_versions(&vs, &nv, e.fs, NULL, "/sensors/site1/a.txt"));
    PT_ASSERT_INT_EQ(nv, 2);
    PT_ASSERT_INT_EQ(vs[0].size, 5);
    pond_free(vs);
    char *target;
    PT_ASSERT_OK(pond_fs_readlink(&target, e.fs, NULL, "/link"));
    PT_ASSERT_STR_EQ(target, "sensors/site1/a.txt");
    pond_free(target);
    env_close(&e);

    /* time travel: as of transaction 1 */
    pond_backend *be;
    pond_oplog_options oo = POND_OPLOG_OPTIONS_INIT;
    oo.as_of_txn = 1;
    PT_ASSERT_OK(pond_oplog_open(&be, dir, &oo));
    pond_fs *fs;
    PT_ASSERT_OK(pond_fs_open(&fs, be, NULL));
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond_fs_read_all(&b, fs, NULL, "/sensors/site1/a.txt"));
    PT_ASSERT_STR_EQ(b.ptr, "hello");
    pond_buf_dispose(&b);
    pond_fs_free(fs);
    pond_backend_free(be);
    pond_free(dir);
}

static void fill(char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (char)(seed >> 16);
    }
}

static void test_large_file_threshold_boundary(void)
{
    char *dir = pond_path("p");
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_data = 1000;
    co.threshold_table = 2000;
    PT_ASSERT_OK(pond_oplog_create(dir, &co));
    env e;
    env_open(&e, dir);
    PT_ASSERT_INT_EQ(pond_oplog_threshold(e.be, POND_ENTRY_FILE_DATA), 1000);
    PT_ASSERT_INT_EQ(pond_oplog_threshold(e.be, POND_ENTRY_FILE_SERIES), 2000);
    char *buf = pond_malloc(5000);
    fill(buf, 5000, 7);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    write_file(&e, "/below", POND_ENTRY_FILE_DATA, buf, 999);
    write_file(&e, "/at", POND_ENTRY_FILE_DATA, buf, 1000);
    write_file(&e, "/table_below", POND_ENTRY_FILE_TABLE, buf, 1999);
    write_file(&e, "/table_at", POND_ENTRY_FILE_TABLE, buf, 2000);
    write_file(&e, "/dup", POND_ENTRY_FILE_SERIES, buf, 2000); /* same bytes as table_at */
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    env_close(&e);
    env_open(&e, dir);
    struct {
        const char *path;
        size_t len;
        bool in_store;
        pond_entry_type t;
    } want[] = {{"/below", 999, false, POND_ENTRY_FILE_DATA},
                {"/at", 1000, true, POND_ENTRY_FILE_DATA},
                {"/table_below", 1999, false, POND_ENTRY_FILE_TABLE},
                {"/table_at", 2000, true, POND_ENTRY_FILE_TABLE},
                {"/dup", 2000, true, POND_ENTRY_FILE_SERIES}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        pond_stat st;
        PT_ASSERT_OK(pond_fs_stat(&st, e.fs, NULL, want[i].path));
        /* the entry type and version are the same whichever way the bytes are stored */
        PT_ASSERT_INT_EQ(st.type, want[i].t);
        PT_ASSERT_INT_EQ(st.version, 1);
        PT_ASSERT_INT_EQ(st.size, want[i].len);
        pond_oplog_storage so;
        PT_ASSERT_OK(pond_oplog_storage_of(&so, e.be, &st.id, 1));
        PT_ASSERT_INT_EQ(so.in_store, want[i].in_store);
        expect_content(&e, want[i].path, buf, want[i].len);
    }
    /* one blob for the two identical contents */
    pond_stat a, b;
    PT_ASSERT_OK(pond_fs_stat(&a, e.fs, NULL, "/table_at"));
    PT_ASSERT_OK(pond_fs_stat(&b, e.fs, NULL, "/dup"));
    pond_oplog_storage sa, sb;
    PT_ASSERT_OK(pond_oplog_storage_of(&sa, e.be, &a.id, 1));
    PT_ASSERT_OK(pond_oplog_storage_of(&sb, e.be, &b.id, 1));
    PT_ASSERT_STR_EQ(sa.blob_path, sb.blob_path);
    env_close(&e);
    pond_free(buf);
    pond_free(dir);
}

static void test_corrupt_blob_detected(void)
{
    char *dir = pond_path("p");
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_data = 100;
    PT_ASSERT_OK(pond_oplog_create(dir, &co));
    env e;
    env_open(&e, dir);
    char buf[4000];
    fill(buf, sizeof buf, 3);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    write_file(&e, "/big", POND_ENTRY_FILE_DATA, buf, sizeof buf);
    write_file(&e, "/other", POND_ENTRY_FILE_DATA, buf + 1, 500);
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    pond_stat st;
    PT_ASSERT_OK(pond_fs_stat(&st, e.fs, NULL, "/big"));
    pond_oplog_storage so;
    PT_ASSERT_OK(pond_oplog_storage_of(&so, e.be, &st.id, 1));
    char *blob = pond_path(so.blob_path + 0);
    char full[4600];
    snprintf(full, sizeof full, "%s/%s", dir, so.blob_path);
    FILE *f = fopen(full, "r+b");
    PT_ASSERT(f);
    fseek(f, 10, SEEK_SET);
    fputc(buf[10] ^ 1, f);
    fclose(f);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_ERR(pond_fs_read_all(&b, e.fs, NULL, "/big"), POND_ECORRUPT);
    pond_buf_dispose(&b);
    expect_content(&e, "/other", buf + 1, 500); /* other files unaffected */
    env_close(&e);
    pond_free(blob);
    pond_free(dir);
}

static void test_conflicting_writer_loses(void)
{
    char *dir = pond_path("p");
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    env a, b;
    env_open(&a, dir);
    env_open(&b, dir);
    PT_ASSERT_OK(pond_fs_begin(a.fs, NULL));
    write_file(&a, "/a", POND_ENTRY_FILE_DATA, "a", 1);
    PT_ASSERT_OK(pond_fs_begin(b.fs, NULL));
    write_file(&b, "/b", POND_ENTRY_FILE_DATA, "b", 1);
    PT_ASSERT_OK(pond_fs_commit(NULL, a.fs));
    PT_ASSERT_ERR(pond_fs_commit(NULL, b.fs), POND_ECONFLICT);
    env_close(&b);
    /* the loser, after locking (which catches up), commits as the next transaction */
    env_open(&b, dir);
    PT_ASSERT_OK(pond_oplog_lock(b.be, false));
    PT_ASSERT_ERR(pond_oplog_lock(a.be, false), POND_EBUSY);
    PT_ASSERT_OK(pond_fs_begin(b.fs, NULL));
    write_file(&b, "/b", POND_ENTRY_FILE_DATA, "b", 1);
    int64_t txn;
    PT_ASSERT_OK(pond_fs_commit(&txn, b.fs));
    PT_ASSERT_INT_EQ(txn, 2);
    pond_oplog_unlock(b.be);
    env_close(&a);
    env_close(&b);
    env_open(&a, dir);
    expect_content(&a, "/a", "a", 1);
    expect_content(&a, "/b", "b", 1);
    env_close(&a);
    pond_free(dir);
}

static void test_many_transactions(void)
{
    char *dir = pond_path("p");
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    env e;
    env_open(&e, dir);
    int n = pt_light() ? 20 : 200;
    for (int i = 0; i < n; i++) {
        char path[64], data[64];
        snprintf(path, sizeof path, "/d%d/f%d", i % 5, i % 17);
        int len = snprintf(data, sizeof data, "value %d", i);
        PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
        char dirp[16];
        snprintf(dirp, sizeof dirp, "/d%d", i % 5);
        PT_ASSERT_OK(pond_fs_mkdir(e.fs, NULL, dirp, POND_FS_MKDIR_PARENTS));
        write_file(&e, path, POND_ENTRY_FILE_DATA, data, (size_t)len);
        PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    }
    env_close(&e);
    env_open(&e, dir);
    for (int i = n - 17; i < n; i++) {
        char path[64], data[64];
        snprintf(path, sizeof path, "/d%d/f%d", i % 5, i % 17);
        /* the last write to this path */
        int last = i;
        for (int j = i + 1; j < n; j++)
            if (j % 5 == i % 5 && j % 17 == i % 17)
                last = j;
        int len = snprintf(data, sizeof data, "value %d", last);
        expect_content(&e, path, data, (size_t)len);
    }
    env_close(&e);
    pond_free(dir);
}

/* Opening a pond reads the log from the checkpoint _last_checkpoint names on, probing the
 * commits after it by name instead of listing _delta_log (thousands of commits); a gap after
 * the checkpoint is still damage named by the listing. */
static void test_open_probes_log(void)
{
    char *dir = pond_path("p");
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    env e;
    env_open(&e, dir);
    for (int i = 1; i <= 45; i++) { /* checkpoints at 20 and 40 */
        char data[32];
        int len = snprintf(data, sizeof data, "value %d", i);
        PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
        write_file(&e, "/f", POND_ENTRY_FILE_DATA, data, (size_t)len);
        PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    }
    env_close(&e);
    pond_os_calls_reset();
    env_open(&e, dir);
    PT_ASSERT_INT_EQ((int64_t)pond_os_calls(POND_OS_OPENDIR), 0);
    expect_content(&e, "/f", "value 45", 8);
    int64_t txn = -1; /* 45 commits and the merges after some of them */
    PT_ASSERT_OK(pond_fs_last_txn(&txn, e.fs));
    env_close(&e);
    pond_delta_table *t = NULL;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    int64_t cp = pond_delta_table_checkpoint_version(t);
    pond_delta_table_free(t);
    PT_ASSERT(cp > 0 && cp < txn - 2);
    /* a commit after the checkpoint removed: the open fails naming it, as the listing says */
    char *gone = pond_malloc(strlen(dir) + 64);
    PT_ASSERT(gone);
    sprintf(gone, "%s/_delta_log/%020lld.json", dir, (long long)(txn - 2));
    PT_ASSERT(unlink(gone) == 0);
    pond_backend *be = NULL;
    PT_ASSERT_ERR(pond_oplog_open(&be, dir, NULL), POND_ECORRUPT);
    char want[64];
    snprintf(want, sizeof want, "missing commit file for version %lld", (long long)(txn - 2));
    PT_ASSERT_MSG_HAS(want);
    pond_free(gone);
    pond_free(dir);
}

/* Every oplog function given a memory backend: POND_EINVALID naming the function (once a cast
 * that read the memory backend's struct as an oplog's), and the memory backend still works. */
static void test_memory_backend_refused(void)
{
    pond_backend *mem = NULL;
    PT_ASSERT_OK(pond_backend_memory_new(&mem));
    PT_ASSERT_ERR(pond_oplog_lock(mem, false), POND_EINVALID);
    PT_ASSERT_MSG_HAS("pond_oplog_lock");
    PT_ASSERT_MSG_HAS("'memory'");
    pond_oplog_unlock(mem); /* nothing to unlock, no crash */
    int64_t txn = 7;
    PT_ASSERT_ERR(pond_oplog_refresh(&txn, mem), POND_EINVALID);
    PT_ASSERT_MSG_HAS("pond_oplog_refresh");
    PT_ASSERT_INT_EQ(txn, 7);
    PT_ASSERT_INT_EQ(pond_oplog_threshold(mem, POND_ENTRY_FILE_DATA), POND_EINVALID);
    PT_ASSERT_MSG_HAS("pond_oplog_threshold");
    PT_ASSERT(pond_oplog_dir(mem) == NULL);
    PT_ASSERT_MSG_HAS("pond_oplog_dir");
    PT_ASSERT(pond_oplog_warning(mem, 0) == NULL);
    PT_ASSERT_MSG_HAS("pond_oplog_warning");
    pond_oplog_storage st;
    pond_node_id id = {{0}};
    PT_ASSERT_ERR(pond_oplog_storage_of(&st, mem, &id, 1), POND_EINVALID);
    PT_ASSERT_MSG_HAS("pond_oplog_storage_of");
    pond_fsck_report fr;
    PT_ASSERT_ERR(pond_oplog_fsck(&fr, mem, NULL, NULL, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("pond_oplog_fsck");
    pond_repair_report rr;
    PT_ASSERT_ERR(pond_oplog_repair(&rr, mem, NULL, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("pond_oplog_repair");
    pond_gc_report gr;
    PT_ASSERT_ERR(pond_oplog_gc(&gr, mem, NULL), POND_EINVALID);
    PT_ASSERT_MSG_HAS("pond_oplog_gc");
    PT_ASSERT_ERR(pond_oplog_lock(NULL, false), POND_EINVALID);
    PT_ASSERT_MSG_HAS("NULL");
    /* the memory backend was only looked at */
    pond_fs *fs = NULL;
    PT_ASSERT_OK(pond_fs_open(&fs, mem, NULL));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(fs, NULL, "/a", POND_ENTRY_FILE_DATA, "x", 1));
    PT_ASSERT_OK(pond_fs_commit(NULL, fs));
    pond_fs_free(fs);
    pond_backend_free(mem);

    /* and an oplog backend passes the check */
    char *dir = pond_path("p");
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    pond_backend *be = NULL;
    PT_ASSERT_OK(pond_oplog_open(&be, dir, NULL));
    PT_ASSERT_STR_EQ(pond_oplog_dir(be), dir);
    PT_ASSERT_INT_EQ(pond_oplog_threshold(be, POND_ENTRY_FILE_DATA), POND_THRESHOLD_DATA_DEFAULT);
    PT_ASSERT_OK(pond_oplog_lock(be, false));
    pond_oplog_unlock(be);
    pond_backend_free(be);
    pond_free(dir);
}

/* One as_of convention: -1 is the latest in pond_fs_options (version 2) as in
 * pond_oplog_options, so transaction 0 (the pond's creation) can be asked for; a version-1
 * caller's 0 still means the latest. */
static void test_fs_as_of_convention(void)
{
    char *dir = pond_path("p");
    PT_ASSERT_OK(pond_oplog_create(dir, NULL));
    env e;
    env_open(&e, dir);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(e.fs, NULL, "/a", POND_ENTRY_FILE_DATA, "x", 1));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    pond_stat st;
    pond_fs *fs = NULL;

    pond_fs_options o = POND_FS_OPTIONS_INIT; /* latest, writable */
    PT_ASSERT_INT_EQ(o.as_of_txn, -1);
    PT_ASSERT_OK(pond_fs_open(&fs, e.be, &o));
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/a"));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    pond_fs_abort(fs);
    pond_fs_free(fs);

    o.as_of_txn = 0; /* the creation: an empty, read-only root */
    PT_ASSERT_OK(pond_fs_open(&fs, e.be, &o));
    PT_ASSERT_ERR(pond_fs_stat(&st, fs, NULL, "/a"), POND_ENOTFOUND);
    PT_ASSERT_ERR(pond_fs_begin(fs, NULL), POND_EUNSUPPORTED);
    pond_fs_free(fs);

    o.as_of_txn = 1;
    PT_ASSERT_OK(pond_fs_open(&fs, e.be, &o));
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/a"));
    PT_ASSERT_ERR(pond_fs_begin(fs, NULL), POND_EUNSUPPORTED);
    pond_fs_free(fs);

    o.as_of_txn = -2;
    PT_ASSERT_ERR(pond_fs_open(&fs, e.be, &o), POND_EINVALID);
    PT_ASSERT_MSG_HAS("as_of_txn -2");

    /* a caller built against version 1 (INIT was {1, 0, NULL, 0}): 0 is the latest */
    pond_fs_options v1 = {1, 0, NULL, 0};
    PT_ASSERT_OK(pond_fs_open(&fs, e.be, &v1));
    PT_ASSERT_OK(pond_fs_stat(&st, fs, NULL, "/a"));
    PT_ASSERT_OK(pond_fs_begin(fs, NULL));
    pond_fs_abort(fs);
    pond_fs_free(fs);
    v1.as_of_txn = 1;
    PT_ASSERT_OK(pond_fs_open(&fs, e.be, &v1));
    PT_ASSERT_ERR(pond_fs_begin(fs, NULL), POND_EUNSUPPORTED);
    pond_fs_free(fs);

    pond_fs_options v3 = {3, 0, NULL, -1};
    PT_ASSERT_ERR(pond_fs_open(&fs, e.be, &v3), POND_EINVALID);
    env_close(&e);
    pond_free(dir);
}

PT_SUITE(oplog, PT_TEST(memory_backend_refused), PT_TEST(fs_as_of_convention),
         PT_TEST(create_refuses_existing), PT_TEST(persist_and_reopen),
         PT_TEST(large_file_threshold_boundary), PT_TEST(corrupt_blob_detected),
         PT_TEST(conflicting_writer_loses), PT_TEST(many_transactions), PT_TEST(open_probes_log))
