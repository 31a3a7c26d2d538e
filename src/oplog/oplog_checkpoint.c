/* Checkpoints of the oplog's Delta log: every POND_CHECKPOINT_INTERVAL commits (configurable
 * per pond as pond.checkpoint_interval), so opening a pond replays a checkpoint plus fewer
 * than that many JSON commits, whatever its history. */
#include "oplog/oplog_internal.h"

#include <pond/delta.h>

#include <string.h>

int pond_oplog__maybe_checkpoint(oplog_be *ob, int64_t version)
{
    int64_t every =
        ob->checkpoint_interval > 0 ? ob->checkpoint_interval : POND_CHECKPOINT_INTERVAL;
    if (version <= 0 || version % every != 0)
        return 0;
    pond_delta_table *t = NULL;
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = version;
    int rc = pond_delta_table_open(&t, ob->dir, &o);
    if (rc == 0)
        rc = pond_delta_checkpoint_write(t);
    pond_delta_table_free(t);
    return rc == POND_EEXISTS ? 0 : rc;
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

void pond_oplog__after_commit(oplog_be *ob, int64_t version)
{
    /* Each commit leaves one small data file per partition it touched: tiered merging keeps
     * the file list (and so checkpoints, opens and partition loads) logarithmic in the history,
     * and rewrites every row only once per level. All merges due go in one commit. */
    oplog_merge *plan = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < ob->parts.cap; i++) {
        ol_part *p = ob->parts.vals ? ob->parts.vals[i] : NULL;
        int level;
        size_t from = p ? merge_start(p, &level) : SIZE_MAX;
        if (from == SIZE_MAX)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            oplog_merge *p2 = pond_realloc(plan, cap * sizeof *p2);
            if (!p2) {
                pond_free(plan);
                return;
            }
            plan = p2;
        }
        plan[n++] = (oplog_merge){p->id, from, level};
    }
    if (n) {
        pond_gc_report rep;
        memset(&rep, 0, sizeof rep);
        rep.commit_version = -1;
        /* a failure (e.g. another writer won the version) only delays the merge */
        if (pond_oplog__rewrite(&rep, ob, NULL, plan, n, 0) == 0 && rep.commit_version > version)
            (void)pond_oplog__maybe_checkpoint(ob, rep.commit_version);
    }
    pond_free(plan);
    (void)pond_oplog__maybe_checkpoint(ob, version);
}
