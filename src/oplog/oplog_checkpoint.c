/* Checkpoints of the oplog's Delta log: every POND_CHECKPOINT_INTERVAL commits (configurable
 * per pond as pond.checkpoint_interval), so opening a pond replays a checkpoint plus fewer
 * than that many JSON commits, whatever its history. */
#include "oplog/oplog_internal.h"

#include <pond/delta.h>

int oplog__maybe_checkpoint(oplog_be *ob, int64_t version)
{
    int64_t every = ob->checkpoint_interval > 0 ? ob->checkpoint_interval : POND_CHECKPOINT_INTERVAL;
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

void oplog__after_commit(oplog_be *ob, int64_t version)
{
    /* Small commits leave a data file per partition each: merging keeps the file list (and so
     * the checkpoint and every open) proportional to the directories, not to the history. */
    for (size_t i = 0; i < ob->parts.cap; i++) {
        ol_part *p = ob->parts.vals ? ob->parts.vals[i] : NULL;
        if (!p || p->n_files < POND_COMPACT_FILES)
            continue;
        pond_node_id id = p->id;
        pond_gc_report rep;
        if (oplog__rewrite(&rep, ob, NULL, &id, POND_COMPACT_FILES) < 0)
            return; /* e.g. another writer won the version: compaction waits for a later commit */
        if (rep.commit_version > version)
            (void)oplog__maybe_checkpoint(ob, rep.commit_version);
        break; /* the index was rebuilt: one partition per commit is enough */
    }
    (void)oplog__maybe_checkpoint(ob, version);
}
