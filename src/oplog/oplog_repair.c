/* pond fsck's log part: every file of `_delta_log` checked on its own, and the repair of what
 * the log itself can rebuild (checkpoints and `_last_checkpoint`, from the JSON commits). A
 * commit is never written, replaced or removed here: it holds what nothing else does. */
#include "oplog/oplog_internal.h"

#include <pond/delta.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define D POND_DOM_OPLOG

typedef struct {
    pond_fsck_fn fn;
    void *payload;
    int64_t problems;
    int64_t hidden_above; /* an unfinished push hides the log above this version (-1: none) */
} log_ctx;

#define say(c, kind, ...) pond_oplog__fsck_say((c)->fn, (c)->payload, kind, __VA_ARGS__)

static const char *advice(const pond_delta_log_problem *p)
{
    switch (p->kind) {
    case POND_DELTA_LOG_CHECKPOINT:
        return "pond fsck --repair rewrites it from the JSON commits";
    case POND_DELTA_LOG_LAST_CHECKPOINT:
        return "only a hint; pond fsck --repair rewrites it";
    default:
        return "a commit cannot be rebuilt from the log: restore it from a backup";
    }
}

static void on_log_problem(const pond_delta_log_problem *p, void *payload)
{
    log_ctx *c = payload;
    /* the batch of a push cut by a power loss: its files above the gap are the intent's, and
     * fsck reports them once as an unfinished push (pond_oplog__intent_report), not as damage */
    if (c->hidden_above >= 0 && p->version > c->hidden_above)
        return;
    c->problems++;
    say(c, "corrupt", "_delta_log/%s: %s (%s)", p->file, p->problem, advice(p));
}

int pond_oplog__fsck_log(int64_t *problems_out, oplog_be *ob, pond_fsck_fn fn, void *payload)
{
    log_ctx c = {fn, payload, 0, -1};
    int n = 0;
    int rc = pond_oplog_intent_end(&c.hidden_above, ob->dir);
    if (rc == 0)
        rc = pond_delta_log_check(&n, ob->dir, on_log_problem, &c);
    *problems_out = c.problems;
    return rc;
}

/* ---- repair ------------------------------------------------------------------------------ */

typedef struct {
    pond_delta_log_file_kind kind;
    int64_t version;
    char file[96];
} bad_file;

typedef struct {
    bad_file *v;
    size_t n, cap;
    bool oom;
} bad_list;

static void collect(const pond_delta_log_problem *p, void *payload)
{
    bad_list *l = payload;
    if (POND_GROW(l->v, l->n, l->cap) < 0) {
        l->oom = true;
        return;
    }
    bad_file *b = &l->v[l->n++];
    b->kind = p->kind;
    b->version = p->version;
    snprintf(b->file, sizeof b->file, "%s", p->file);
}

/* A link, FIFO or anything but a regular file at _last_checkpoint is not pond's to replace
 * (docs/format.md, "Pond's own names"): named, left alone, and nothing is written for it. */
static int foreign_last_checkpoint(bool *still_bad, log_ctx *c, oplog_be *ob,
                                   pond_repair_report *out)
{
    char *p = pond__path_join(ob->dir, "_delta_log/_last_checkpoint");
    if (!p)
        return POND_ENOMEM;
    struct stat st;
    if (pond__os_lstat(p, &st) == 0 && !S_ISREG(st.st_mode)) {
        *still_bad = false;
        out->unrepaired++;
        say(c, "unrepaired",
            "_delta_log/_last_checkpoint is %s: pond replaces only its own regular file there "
            "(remove it, then run pond fsck --repair again)",
            pond__file_kind(st.st_mode));
    }
    pond_free(p);
    return 0;
}

int pond_oplog_repair(pond_repair_report *out, pond_backend *be, pond_fsck_fn fn, void *payload)
{
    oplog_be *ob;
    memset(out, 0, sizeof *out);
    int rc = pond_oplog__of(&ob, be, "pond_oplog_repair");
    if (rc < 0)
        return rc;
    if (ob->as_of >= 0)
        return pond_error_set(POND_EINVALID, D, "repair needs the live pond, not a past version");
    if (ob->lock_fd < 0)
        return pond_error_set(POND_EINVALID, D, "repair needs the pond's writer lock");
    log_ctx c = {fn, payload, 0, -1};
    bad_list bad = {NULL, 0, 0, false};
    int n = 0;
    rc = pond_delta_log_check(&n, ob->dir, collect, &bad);
    if (rc == 0 && bad.oom)
        rc = pond_error_set(POND_ENOMEM, D, "out of memory");
    bool last_bad = false;
    for (size_t i = 0; rc == 0 && i < bad.n; i++) {
        const bad_file *b = &bad.v[i];
        char classic[64];
        snprintf(classic, sizeof classic, "%020lld.checkpoint.parquet", (long long)b->version);
        if (b->kind == POND_DELTA_LOG_LAST_CHECKPOINT) {
            last_bad = true;
        } else if (b->kind == POND_DELTA_LOG_CHECKPOINT && !strcmp(b->file, classic)) {
            int rrc = pond_oplog__checkpoint_at(ob, b->version, true);
            if (rrc == POND_ENOMEM) {
                rc = rrc;
            } else if (rrc < 0) {
                out->unrepaired++;
                say(&c, "unrepaired", "_delta_log/%s: %s", b->file, pond_error_last()->message);
            } else {
                out->checkpoints_rewritten++;
                say(&c, "repaired", "_delta_log/%s: rewritten from the JSON commits", b->file);
            }
        } else {
            out->unrepaired++;
            say(&c, "unrepaired", "_delta_log/%s: %s", b->file,
                b->kind == POND_DELTA_LOG_COMMIT
                    ? "a commit cannot be rebuilt from the log: restore it from a backup"
                    : "not a checkpoint pond writes: restore it from a backup or remove it");
        }
    }
    if (rc == 0 && last_bad)
        rc = foreign_last_checkpoint(&last_bad, &c, ob, out);
    if (rc == 0 && last_bad) {
        /* point it at the newest checkpoint that reads (rewritten as it is), or make one */
        pond_delta_table *t = NULL;
        if ((rc = pond_delta_table_open(&t, ob->dir, NULL)) == 0) {
            int64_t cp = pond_delta_table_checkpoint_version(t),
                    latest = pond_delta_table_version(t);
            if (cp >= 0) {
                rc = pond_oplog__checkpoint_at(ob, cp, true);
            } else if (latest > 0) {
                rc = pond_delta_checkpoint_write(t);
            } else {
                rc = pond_error_set(POND_ECORRUPT, D, "no version to checkpoint");
            }
            if (rc == 0) {
                out->last_checkpoint_rewritten = 1;
                say(&c, "repaired", "_delta_log/_last_checkpoint: rewritten for checkpoint %lld",
                    (long long)(cp >= 0 ? cp : latest));
            }
        }
        pond_delta_table_free(t);
        if (rc < 0 && rc != POND_ENOMEM) {
            out->unrepaired++;
            say(&c, "unrepaired", "_delta_log/_last_checkpoint: %s", pond_error_last()->message);
            rc = 0;
        }
    }
    pond_free(bad.v);
    return rc;
}
