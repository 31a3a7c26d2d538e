/* A pond whose checkpoint or _last_checkpoint is damaged: it opens with a warning naming the
 * file, fsck reports it, repair rewrites it from the JSON commits (and never a commit), and a
 * pond whose oldest commits were cleaned up opens from its checkpoint. */
#include "pt.h"

#include <pond/delta.h>
#include <pond/oplog.h>
#include <pond/sys/backend.h>
#include <pond/tinyfs.h>

#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char dir[4200];
    pond_backend *be;
    pond_fs *fs;
} env;

static void env_open(env *e)
{
    PT_ASSERT_OK(pond_oplog_open(&e->be, e->dir, NULL));
    PT_ASSERT_OK(pond_fs_open(&e->fs, e->be, NULL));
}

static void env_close(env *e)
{
    pond_fs_free(e->fs);
    pond_backend_free(e->be);
    e->fs = NULL;
    e->be = NULL;
}

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
        PT_ASSERT_OK(pond_fs_write_all(e->fs, NULL, path, POND_ENTRY_FILE_DATA, data,
                                       strlen(data)));
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
    /* gc cannot know what the damaged commit added: it refuses before removing anything */
    pond_gc_options go = POND_GC_OPTIONS_INIT;
    go.grace_us = 0;
    pond_gc_report gr;
    PT_ASSERT_ERR(pond_oplog_gc(&gr, e.be, &go), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("00000000000000000001.json");
    pond_oplog_unlock(e.be);
    /* a version the damaged commit is needed for names it */
    env_close(&e);
    pond_oplog_options oo = POND_OPLOG_OPTIONS_INIT;
    oo.as_of_txn = 2;
    PT_ASSERT_ERR(pond_oplog_open(&e.be, e.dir, &oo), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("commit _delta_log/00000000000000000001.json cannot be read");
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
    pond_oplog_options oo = POND_OPLOG_OPTIONS_INIT;
    oo.as_of_txn = 2;
    PT_ASSERT_ERR(pond_oplog_open(&e.be, e.dir, &oo), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("version 2 is no longer in the log");
}

PT_SUITE(oplog_repair, PT_TEST(damaged_checkpoint_read_around_and_repaired),
         PT_TEST(damaged_commit_is_never_touched), PT_TEST(cleaned_up_log_opens))
