/* Checkpoints of the oplog's Delta log: every POND_CHECKPOINT_INTERVAL commits (configurable
 * per pond as pond.checkpoint_interval), so opening a pond replays a checkpoint plus fewer
 * than that many JSON commits, whatever its history. */
#include "oplog/oplog_internal.h"

#include <pond/delta.h>

#include <string.h>

static int64_t interval_of(const oplog_be *ob)
{
    return ob->checkpoint_interval > 0 ? ob->checkpoint_interval : POND_CHECKPOINT_INTERVAL;
}

bool pond_oplog__checkpoint_missed(const oplog_be *ob, int64_t version, int64_t checkpoint_version)
{
    return version - (checkpoint_version > 0 ? checkpoint_version : 0) >= interval_of(ob);
}

int pond_oplog__checkpoint_at(const oplog_be *ob, int64_t version, bool rewrite)
{
    pond_delta_table *t = NULL;
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = version;
    int rc = pond_delta_table_open(&t, ob->dir, &o);
    if (rc == 0)
        rc = rewrite ? pond_delta_checkpoint_rewrite(t) : pond_delta_checkpoint_write(t);
    pond_delta_table_free(t);
    return rc;
}

int pond_oplog__maybe_checkpoint(oplog_be *ob, int64_t version)
{
    if (version <= 0 || (version % interval_of(ob) != 0 && !ob->checkpoint_due))
        return 0;
    int rc = pond_oplog__checkpoint_at(ob, version, false);
    if (rc == POND_EEXISTS)
        rc = 0;
    /* a failed checkpoint is written at the next commit, not only at the next multiple */
    ob->checkpoint_due = rc < 0;
    return rc;
}

/* Where the merge cascade of partition p starts, or SIZE_MAX for none: while the newest files
 * (counting the file a merge would produce) include FANIN of one level N, they become one file
 * of level N+1. */
static size_t merge_start(const ol_part *p, int *level)
{
    size_t start = p->n_files;
    int virt = -1; /* level of the merged file covering [start, n_files), -1 = none yet */
    for (;;) {
        int l = virt >= 0 ? virt : (start > 0 ? p->files[start - 1].level : -1);
        if (l < 0)
            break;
        size_t s = start, count = virt >= 0 ? 1 : 0;
        while (s > 0 && p->files[s - 1].level == l) {
            s--;
            count++;
        }
        if (count < POND_MERGE_FANIN)
            break;
        start = s;
        virt = l + 1;
    }
    *level = virt;
    return virt >= 0 ? start : SIZE_MAX;
}

/* Keeps the first failure of this commit's follow-up work, worded for the user: the commit
 * itself succeeded. */
static void maint_failed(oplog_be *ob, const char *what, int64_t version)
{
    if (ob->maint_error)
        return;
    pond_buf b = POND_BUF_INIT;
    if (pond_buf_printf(&b,
                        "transaction %lld is committed, but %s failed (retried at the next "
                        "commit): %s",
                        (long long)version, what, pond_error_last()->message) == 0)
        ob->maint_error = pond_buf_detach(&b);
    pond_buf_dispose(&b);
}

void pond_oplog__after_commit(oplog_be *ob, int64_t version)
{
    pond_free(ob->maint_error);
    ob->maint_error = NULL;
    /* Each commit leaves one small data file per partition it touched: tiered merging keeps
     * the file list (and so checkpoints, opens and partition loads) logarithmic in the history,
     * and rewrites every row only once per level. All merges due go in one commit. A merge
     * that fails is due again at the next commit (the plan comes from the file list). */
    oplog_merge *plan = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < pond__idmap_slots(&ob->parts) && rc == 0; i++) {
        ol_part *p = pond__idmap_at(&ob->parts, i, NULL);
        int level;
        size_t from = p ? merge_start(p, &level) : SIZE_MAX;
        if (from == SIZE_MAX)
            continue;
        if ((rc = POND_GROW(plan, n, cap)) == 0)
            plan[n++] = (oplog_merge){p->id, from, level};
    }
    if (rc < 0) {
        maint_failed(ob, "planning the merge of its data files", version);
    } else if (n) {
        pond_gc_report rep;
        memset(&rep, 0, sizeof rep);
        rep.commit_version = -1;
        rc = pond_oplog__rewrite(&rep, ob, NULL, plan, n, 0);
        /* another writer winning the version only delays the merge: not a failure */
        if (rc < 0 && rc != POND_ECONFLICT)
            maint_failed(ob, "merging its data files", version);
        if (rc == 0 && rep.commit_version > version &&
            pond_oplog__maybe_checkpoint(ob, rep.commit_version) < 0)
            maint_failed(ob, "the checkpoint after merging", rep.commit_version);
    }
    pond_free(plan);
    if (pond_oplog__maybe_checkpoint(ob, version) < 0)
        maint_failed(ob, "writing the checkpoint", version);
}
