/* A pond whose checkpoint or _last_checkpoint is damaged: it opens with a warning naming the
 * file, fsck reports it, repair rewrites it from the JSON commits (and never a commit), and a
 * pond whose oldest commits were cleaned up opens from its checkpoint (and time-travels to
 * the transactions before it: the rows, not the commits, hold each state). */
#include "pt.h"
#include "pt_pond.h"

#include <pond/delta.h>
#include <pond/oplog.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef pt_pond env;
static void env_open(env *e) { pt_pond_open(e); }
static void env_close(env *e) { pt_pond_close(e); }

static char *log_file(env *e, const char *name)
{
    static char p[4400];
    snprintf(p, sizeof p, "%s/_delta_log/%s", e->dir, name);
    return p;
}

static void put_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    PT_ASSERT(f);
    fputs(text, f);
    fclose(f);
}

/* Files /f1 .. /f4 in commits 1..4, a checkpoint at 3 written as the oplog writes them. */
static void make_pond(env *e)
{
    snprintf(e->dir, sizeof e->dir, "%s/pond", PT_TMPDIR());
    PT_ASSERT_OK(pond_oplog_create(e->dir, NULL));
    env_open(e);
    for (int i = 1; i <= 4; i++) {
        char path[16], data[16];
        snprintf(path, sizeof path, "/f%d", i);
        snprintf(data, sizeof data, "data %d", i);
        PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
        PT_ASSERT_OK(
            pond_fs_write_all(e->fs, NULL, path, POND_ENTRY_FILE_DATA, data, strlen(data)));
        PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
        if (i == 3) {
            pond_delta_table *t = NULL;
            PT_ASSERT_OK(pond_delta_table_open(&t, e->dir, NULL));
            PT_ASSERT_OK(pond_delta_checkpoint_write(t));
            pond_delta_table_free(t);
        }
    }
    env_close(e);
}

static void expect_files(env *e)
{
    for (int i = 1; i <= 4; i++) {
        char path[16], want[16];
        snprintf(path, sizeof path, "/f%d", i);
        snprintf(want, sizeof want, "data %d", i);
        pond_buf b = POND_BUF_INIT;
        PT_ASSERT_OK(pond_fs_read_all(&b, e->fs, NULL, path));
        PT_ASSERT_INT_EQ(b.size, strlen(want));
        PT_ASSERT(memcmp(b.ptr, want, b.size) == 0);
        pond_buf_dispose(&b);
    }
}

/* The pond as of transaction txn: /f1 .. /f<txn> and nothing after (time travel reads the
 * newest snapshot's rows up to txn, so it needs neither the commit nor the snapshot at txn). */
static void expect_state_at(env *e, int64_t txn)
{
    pond_oplog_options oo = POND_OPLOG_OPTIONS_INIT;
    oo.as_of_txn = txn;
    PT_ASSERT_OK(pond_oplog_open(&e->be, e->dir, &oo));
    PT_ASSERT_OK(pond_fs_open(&e->fs, e->be, NULL));
    for (int i = 1; i <= 4; i++) {
        char path[16], want[16];
        snprintf(path, sizeof path, "/f%d", i);
        snprintf(want, sizeof want, "data %d", i);
        pond_buf b = POND_BUF_INIT;
        if (i > txn) {
            PT_ASSERT_ERR(pond_fs_read_all(&b, e->fs, NULL, path), POND_ENOTFOUND);
            continue;
        }
        PT_ASSERT_OK(pond_fs_read_all(&b, e->fs, NULL, path));
        PT_ASSERT_INT_EQ(b.size, strlen(want));
        PT_ASSERT(memcmp(b.ptr, want, b.size) == 0);
        pond_buf_dispose(&b);
    }
    env_close(e);
}

typedef struct {
    int corrupt, repaired, unrepaired;
    char all[8192];
} seen;

static void on_problem(const char *kind, const char *msg, void *payload)
{
    seen *s = payload;
    s->corrupt += !strcmp(kind, "corrupt");
    s->repaired += !strcmp(kind, "repaired");
    s->unrepaired += !strcmp(kind, "unrepaired");
    size_t len = strlen(s->all);
    snprintf(s->all + len, sizeof s->all - len, "%s %s\n", kind, msg);
}

static void test_damaged_checkpoint_read_around_and_repaired(void)
{
    env e;
    make_pond(&e);
    static const char CP[] = "00000000000000000003.checkpoint.parquet";
    put_text(log_file(&e, CP), "PAR1 damaged PAR1");
    put_text(log_file(&e, "_last_checkpoint"), "{\"vers");
    env_open(&e);
    /* right answers, and warnings naming both files */
    expect_files(&e);
    PT_ASSERT(pond_oplog_warning(e.be, 0) && pond_oplog_warning(e.be, 1));
    PT_ASSERT(!pond_oplog_warning(e.be, 2));
    char both[2048];
    snprintf(both, sizeof both, "%s\n%s", pond_oplog_warning(e.be, 0), pond_oplog_warning(e.be, 1));
    PT_ASSERT(strstr(both, "_delta_log/_last_checkpoint cannot be read"));
    PT_ASSERT(strstr(both, "checkpoint _delta_log/00000000000000000003.checkpoint.parquet cannot "
                           "be read"));
    PT_ASSERT(strstr(both, "pond fsck --repair rewrites it"));
    seen s = {0, 0, 0, ""};
    pond_fsck_report r;
    PT_ASSERT_ERR(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s), POND_ECORRUPT);
    PT_ASSERT_INT_EQ(s.corrupt, 2);
    PT_ASSERT(strstr(s.all, "corrupt _delta_log/00000000000000000003.checkpoint.parquet: "));
    /* repair needs the lock */
    pond_repair_report rr;
    PT_ASSERT_ERR(pond_oplog_repair(&rr, e.be, on_problem, &s), POND_EINVALID);
    PT_ASSERT_OK(pond_oplog_lock(e.be, true));
    memset(&s, 0, sizeof s);
    PT_ASSERT_OK(pond_oplog_repair(&rr, e.be, on_problem, &s));
    PT_ASSERT_INT_EQ(rr.checkpoints_rewritten, 1);
    PT_ASSERT_INT_EQ(rr.last_checkpoint_rewritten, 1);
    PT_ASSERT_INT_EQ(rr.unrepaired, 0);
    PT_ASSERT_INT_EQ(s.repaired, 2);
    pond_oplog_unlock(e.be);
    env_close(&e);
    env_open(&e);
    PT_ASSERT(!pond_oplog_warning(e.be, 0));
    expect_files(&e);
    memset(&s, 0, sizeof s);
    PT_ASSERT_OK(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s));
    PT_ASSERT_INT_EQ(s.corrupt, 0);
    env_close(&e);
    /* the snapshot really starts from the rewritten checkpoint */
    pond_delta_table *t = NULL;
    PT_ASSERT_OK(pond_delta_table_open(&t, e.dir, NULL));
    PT_ASSERT_INT_EQ(pond_delta_table_checkpoint_version(t), 3);
    pond_delta_table_free(t);
}

static void test_damaged_commit_is_never_touched(void)
{
    env e;
    make_pond(&e);
    /* commit 1 is covered by the checkpoint: the pond reads, fsck names the commit, repair
     * leaves it as it is */
    put_text(log_file(&e, "00000000000000000001.json"), "{\"add\":{");
    env_open(&e);
    expect_files(&e);
    seen s = {0, 0, 0, ""};
    pond_fsck_report r;
    PT_ASSERT_ERR(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s), POND_ECORRUPT);
    PT_ASSERT(strstr(s.all, "corrupt _delta_log/00000000000000000001.json: "));
    PT_ASSERT(strstr(s.all, "restore it from a backup"));
    PT_ASSERT_OK(pond_oplog_lock(e.be, true));
    pond_repair_report rr;
    memset(&s, 0, sizeof s);
    PT_ASSERT_OK(pond_oplog_repair(&rr, e.be, on_problem, &s));
    PT_ASSERT_INT_EQ(rr.unrepaired, 1);
    PT_ASSERT_INT_EQ(rr.checkpoints_rewritten, 0);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond__read_file(&b, log_file(&e, "00000000000000000001.json"), 100, 0));
    PT_ASSERT_INT_EQ(b.size, 8);
    pond_buf_dispose(&b);
    /* gc cannot know what the damaged commit removed: it refuses before removing anything,
     * even what is garbage whatever the log says (a commit's temp file, a store temp) */
    char tmp[4400], store_tmp[4400];
    snprintf(tmp, sizeof tmp, "%s", log_file(&e, ".tmp-00000000000000000099-1-1.json"));
    put_text(tmp, "{}");
    snprintf(store_tmp, sizeof store_tmp, "%s/_large_files", e.dir);
    PT_ASSERT(mkdir(store_tmp, 0755) == 0 || errno == EEXIST);
    snprintf(store_tmp, sizeof store_tmp, "%s/_large_files/tmp", e.dir);
    PT_ASSERT(mkdir(store_tmp, 0755) == 0 || errno == EEXIST);
    snprintf(store_tmp, sizeof store_tmp, "%s/_large_files/tmp/1-1-abc.data", e.dir);
    put_text(store_tmp, "partial chunk");
    pond_gc_options go = POND_GC_OPTIONS_INIT;
    go.grace_us = 0;
    pond_gc_report gr;
    PT_ASSERT_ERR(pond_oplog_gc(&gr, e.be, &go), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("00000000000000000001.json");
    PT_ASSERT_MSG_HAS("restore the damaged commit from a backup");
    PT_ASSERT_INT_EQ(gr.temps_removed + gr.data_files_removed + gr.blobs_removed, 0);
    PT_ASSERT_INT_EQ(access(tmp, F_OK), 0);
    PT_ASSERT_INT_EQ(access(store_tmp, F_OK), 0);
    pond_oplog_unlock(e.be);
    /* time travel does not need the damaged commit: the newest snapshot's rows hold every
     * state (docs/format.md, "Retention") */
    env_close(&e);
    expect_state_at(&e, 2);
    expect_state_at(&e, 1);
}

/* Retention's oldest complete transaction lives in metaData: it holds whether the snapshot
 * comes from a checkpoint, from the commits around a damaged one, from a repaired one, or from
 * the checkpoint of a cleaned-up log. */
static void expect_refused_below(env *e, int64_t oldest)
{
    pond_oplog_options oo = POND_OPLOG_OPTIONS_INIT;
    oo.as_of_txn = oldest - 1;
    PT_ASSERT_ERR(pond_oplog_open(&e->be, e->dir, &oo), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("is no longer kept");
    oo.as_of_txn = oldest;
    PT_ASSERT_OK(pond_oplog_open(&e->be, e->dir, &oo));
    pond_backend_free(e->be);
    e->be = NULL;
}

static void test_retention_survives_checkpoint_damage(void)
{
    env e;
    make_pond(&e);
    env_open(&e);
    for (int i = 0; i < 2; i++) { /* two more versions of /f1 */
        PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
        PT_ASSERT_OK(pond_fs_write_all(e.fs, NULL, "/f1", POND_ENTRY_FILE_DATA, "data 1", 6));
        PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    }
    PT_ASSERT_OK(pond_oplog_lock(e.be, true));
    pond_gc_options go = POND_GC_OPTIONS_INIT;
    go.keep_versions = 1;
    go.grace_us = 0;
    pond_gc_report gr;
    PT_ASSERT_OK(pond_oplog_gc(&gr, e.be, &go));
    PT_ASSERT(gr.oldest_complete > 0);
    int64_t oldest = gr.oldest_complete, latest = gr.commit_version;
    pond_oplog_unlock(e.be);
    env_close(&e);
    pond_delta_table *t = NULL;
    PT_ASSERT_OK(pond_delta_table_open(&t, e.dir, NULL));
    PT_ASSERT_INT_EQ(pond_delta_table_version(t), latest);
    PT_ASSERT_OK(pond_delta_checkpoint_write(t));
    pond_delta_table_free(t);
    expect_refused_below(&e, oldest);
    char cp[64];
    snprintf(cp, sizeof cp, "%020lld.checkpoint.parquet", (long long)latest);
    put_text(log_file(&e, cp), "PAR1 damaged PAR1");
    expect_refused_below(&e, oldest); /* read around: the retention commit says it */
    env_open(&e);
    PT_ASSERT(pond_oplog_warning(e.be, 0) != NULL);
    PT_ASSERT_OK(pond_oplog_lock(e.be, true));
    pond_repair_report rr;
    PT_ASSERT_OK(pond_oplog_repair(&rr, e.be, NULL, NULL));
    PT_ASSERT_INT_EQ(rr.checkpoints_rewritten, 1);
    pond_oplog_unlock(e.be);
    env_close(&e);
    expect_refused_below(&e, oldest);
    /* a log cleanup up to that checkpoint: the checkpoint's metaData still says it */
    for (int64_t v = 0; v < latest; v++) {
        char name[32];
        snprintf(name, sizeof name, "%020lld.json", (long long)v);
        PT_ASSERT_INT_EQ(unlink(log_file(&e, name)), 0);
    }
    PT_ASSERT_INT_EQ(unlink(log_file(&e, "00000000000000000003.checkpoint.parquet")), 0);
    expect_refused_below(&e, oldest);
    env_open(&e);
    expect_files(&e);
    pond_fsck_report r;
    PT_ASSERT_OK(pond_oplog_fsck(&r, e.be, NULL, NULL, NULL));
    PT_ASSERT_OK(pond_oplog_lock(e.be, true));
    PT_ASSERT_OK(pond_oplog_gc(&gr, e.be, &go));
    pond_oplog_unlock(e.be);
    expect_files(&e);
    env_close(&e);
}

/* Repair writes only pond's own regular files: a link or FIFO at a checkpoint's name or at
 * _last_checkpoint is named and left alone (never replaced, never written through), and what
 * the link points to is untouched. */
static void test_repair_leaves_foreign_entries(void)
{
    env e;
    make_pond(&e);
    char victim[4300];
    snprintf(victim, sizeof victim, "%s/victim", PT_TMPDIR());
    put_text(victim, "precious");
    char cp[4400], lc[4400]; /* log_file's buffer is reused */
    snprintf(cp, sizeof cp, "%s", log_file(&e, "00000000000000000003.checkpoint.parquet"));
    PT_ASSERT_INT_EQ(unlink(cp), 0);
    PT_ASSERT_INT_EQ(symlink(victim, cp), 0);
    snprintf(lc, sizeof lc, "%s", log_file(&e, "_last_checkpoint"));
    PT_ASSERT_INT_EQ(unlink(lc), 0);
    PT_ASSERT_INT_EQ(mkfifo(lc, 0644), 0);
    env_open(&e);
    expect_files(&e);
    PT_ASSERT_OK(pond_oplog_lock(e.be, true));
    pond_repair_report rr;
    seen s = {0, 0, 0, ""};
    PT_ASSERT_OK(pond_oplog_repair(&rr, e.be, on_problem, &s));
    PT_ASSERT_INT_EQ(rr.checkpoints_rewritten, 0);
    PT_ASSERT_INT_EQ(rr.unrepaired, 2);
    PT_ASSERT(strstr(s.all, "is a symbolic link: pond replaces only its own regular file"));
    PT_ASSERT(strstr(s.all, "is a FIFO"));
    pond_oplog_unlock(e.be);
    env_close(&e);
    struct stat st;
    PT_ASSERT_INT_EQ(lstat(cp, &st), 0);
    PT_ASSERT(S_ISLNK(st.st_mode));
    PT_ASSERT_INT_EQ(lstat(lc, &st), 0);
    PT_ASSERT(S_ISFIFO(st.st_mode));
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond__read_file(&b, victim, 100, 0));
    PT_ASSERT_INT_EQ(b.size, 8);
    PT_ASSERT(memcmp(b.ptr, "precious", 8) == 0);
    pond_buf_dispose(&b);
    /* no temp file of the repair is left in the log */
    DIR *d = opendir(log_file(&e, ""));
    PT_ASSERT(d);
    for (struct dirent *de; (de = readdir(d));)
        PT_ASSERT(strncmp(de->d_name, ".tmp-", 5) != 0);
    closedir(d);
}

static void test_cleaned_up_log_opens(void)
{
    env e;
    make_pond(&e);
    for (int v = 0; v <= 3; v++) {
        char name[32];
        snprintf(name, sizeof name, "%020d.json", v);
        PT_ASSERT_INT_EQ(unlink(log_file(&e, name)), 0);
    }
    PT_ASSERT(pond_oplog_is_pond(e.dir));
    env_open(&e);
    expect_files(&e);
    PT_ASSERT(!pond_oplog_warning(e.be, 0));
    seen s = {0, 0, 0, ""};
    pond_fsck_report r;
    PT_ASSERT_OK(pond_oplog_fsck(&r, e.be, on_problem, NULL, &s));
    /* and it takes writes */
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_write_all(e.fs, NULL, "/f5", POND_ENTRY_FILE_DATA, "x", 1));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    env_close(&e);
    /* a transaction whose commit was cleaned up is still a state of the pond: its rows are in
     * the newest snapshot's data files */
    expect_state_at(&e, 2);
    expect_state_at(&e, 4);
}

PT_SUITE(oplog_repair, PT_TEST(damaged_checkpoint_read_around_and_repaired),
         PT_TEST(damaged_commit_is_never_touched), PT_TEST(cleaned_up_log_opens),
         PT_TEST(repair_leaves_foreign_entries), PT_TEST(retention_survives_checkpoint_damage))
