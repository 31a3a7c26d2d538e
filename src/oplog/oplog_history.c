/* The pond's transaction log as people read it (`pond log`, `pond serve`'s /api/log): per
 * transaction its time, the command that made it and, when asked, the data files it added. */
#include "oplog/oplog_internal.h"

#include <pond/delta.h>

#include "util/json.h"

#include <string.h>

#define D POND_DOM_OPLOG

void pond_oplog_history_free(pond_oplog_txn *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++) {
        pond_free(t[i].command);
        for (size_t k = 0; k < t[i].n_files; k++)
            pond_free(t[i].files[k].path);
        pond_free(t[i].files);
        pond_free(t[i].error);
        pond_free(t[i].files_error);
    }
    pond_free(t);
}

/* commitInfo -> time and command: pond's own command line (pondMeta.pondCommand, or
 * pondCommand in ponds written before pondMeta), else the Delta operation. */
static int read_info(pond_oplog_txn *t, const char *dir)
{
    char *info = NULL;
    int rc = pond_delta_commit_info_read(&info, dir, t->txn);
    if (rc == POND_ENOTFOUND)
        return 0; /* a commit without commitInfo (written by another Delta writer) */
    if (rc < 0)
        return rc;
    json_t *j = pond__json_parse(info, strlen(info), 0, "commitInfo", D);
    pond_free(info);
    if (!j) {
        pond_error_prefix("transaction %lld", (long long)t->txn);
        return pond_error_last()->code;
    }
    t->has_info = true;
    json_t *ts = json_object_get(j, "timestamp");
    t->time_us = json_is_integer(ts) ? json_integer_value(ts) * 1000 : 0;
    json_t *words = json_object_get(json_object_get(j, "pondMeta"), "pondCommand");
    if (!words)
        words = json_object_get(j, "pondCommand");
    pond_buf cmd = POND_BUF_INIT;
    size_t k;
    json_t *w;
    rc = 0;
    json_array_foreach(words, k, w)
    {
        if (json_is_string(w) && rc == 0)
            rc = pond_buf_printf(&cmd, "%s%s", cmd.size ? " " : "", json_string_value(w));
    }
    const char *op = json_string_value(json_object_get(j, "operation"));
    if (rc == 0 && !cmd.size && op)
        rc = pond_buf_puts(&cmd, op);
    if (rc == 0 && cmd.size && !(t->command = pond_strndup(cmd.ptr, cmd.size)))
        rc = POND_ENOMEM;
    pond_buf_dispose(&cmd);
    json_decref(j);
    return rc;
}

typedef struct {
    pond_oplog_txn *t;
    size_t cap; /* of t->files */
} files_ctx;

static int on_action(const pond_delta_file_action *a, void *payload)
{
    files_ctx *c = payload;
    pond_oplog_txn *t = c->t;
    if (!a->add)
        return 0;
    if (POND_GROW(t->files, t->n_files, c->cap) < 0)
        return POND_ENOMEM;
    if (!(t->files[t->n_files].path = pond_strdup(a->path)))
        return POND_ENOMEM;
    t->files[t->n_files++].size = a->size;
    return 0;
}

/* A commit that cannot be read is shown with the reason, never dropped silently, and the
 * rest of the log still lists; only running out of memory stops the listing. */
static int keep_error(char **dst, int rc)
{
    if (rc == POND_ENOMEM)
        return rc;
    return (*dst = pond_strdup(pond_error_last()->message)) ? 0 : POND_ENOMEM;
}

int pond_oplog_history(pond_oplog_txn **out, size_t *n_out, const char *dir,
                       const pond_oplog_history_options *opts)
{
    POND_ASSERT_ARG(out && n_out && dir && opts);
    *out = NULL;
    *n_out = 0;
    int64_t latest;
    int rc = pond_oplog_head(&latest, dir); /* an unfinished push: its prefix */
    if (rc < 0)
        return rc;
    int64_t newest = opts->newest >= 0 && opts->newest < latest ? opts->newest : latest;
    int64_t n = newest + 1;
    if (opts->limit >= 0 && opts->limit < n)
        n = opts->limit;
    if (n <= 0)
        return 0;
    pond_oplog_txn *t = pond_calloc((size_t)n, sizeof *t);
    if (!t)
        return POND_ENOMEM;
    for (int64_t i = 0; i < n && rc == 0; i++) {
        t[i].txn = newest - i;
        rc = read_info(&t[i], dir);
        if (rc < 0) {
            rc = keep_error(&t[i].error, rc);
            continue;
        }
        /* one action at a time, never the whole commit, never through a link or FIFO */
        files_ctx fc = {&t[i], 0};
        if (opts->files && (rc = pond_delta_commit_file_actions(dir, t[i].txn, on_action, &fc)) < 0)
            rc = keep_error(&t[i].files_error, rc);
    }
    if (rc < 0) {
        pond_oplog_history_free(t, (size_t)n);
        return rc;
    }
    *out = t;
    *n_out = (size_t)n;
    return 0;
}
