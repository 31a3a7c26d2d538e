/* Writers: buffer up to a threshold; past it, stream into the backend's content sink when it
 * offers one (the bytes go straight to their final store, which hashes them), else spill to an
 * unlinked temporary file through a threshold-sized write-behind buffer, hashing while
 * writing. Nothing is visible until finish. */
#include "tinyfs/tinyfs_internal.h"

#include <stdatomic.h>
#include <string.h>

struct pond_writer {
    pond_fs *fs;     /* constant; the fs outlives its writers */
    bool registered; /* in fs->busy (guarded by the fs mutex) */
    pond_node_id parent;
    char *name;
    char *path;
    pond_entry_type type;
    size_t threshold;
    pond_sha256 *sha;        /* spill mode: of the bytes so far (memory mode hashes at finish) */
    pond_content_sink *sink; /* sink mode: the backend's, or NULL */
    atomic_bool txn_ended;   /* set by detach: the transaction ended under the writer */
    int64_t size;
    char *buf;
    size_t len, cap;
    int fd; /* spill file or -1 */
    int64_t file_len;
    tinyfs_event_time et;
    int error; /* sticky */
    bool done;
};

int pond_tinyfs__writer_new(pond_writer **out, pond_fs *fs, const pond_node_id *parent,
                            const char *name, const char *path, pond_entry_type type)
{
    *out = NULL;
    pond_writer *w = pond_calloc(1, sizeof *w);
    if (!w)
        return POND_ENOMEM;
    w->fs = fs;
    w->parent = *parent;
    w->type = type;
    w->threshold = fs->spill_threshold;
    w->fd = -1;
    tinyfs_busy *b = pond_calloc(1, sizeof *b);
    int error = POND_ENOMEM;
    if (!b)
        goto fail;
    if (!(w->name = pond_strdup(name)) || !(w->path = pond_strdup(path)) ||
        !(b->name = pond_strdup(name)))
        goto fail;
    atomic_init(&w->txn_ended, false);
    b->parent = *parent;
    b->writer = w;
    b->next = fs->busy;
    fs->busy = b;
    w->registered = true;
    *out = w;
    return 0;
fail:
    if (b)
        pond_free(b->name);
    pond_free(b);
    pond_writer_free(w);
    return error;
}

void pond_tinyfs__writer_detach(pond_writer *w)
{
    w->registered = false;
    atomic_store(&w->txn_ended, true);
}

static int fail(pond_writer *w, int error)
{
    w->error = error;
    return error;
}

/* Discards what was written so far: buffer, spill file, an unfinished sink (whose backend
 * removes its temporary data). */
static void drop_content(pond_writer *w)
{
    pond_free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
    pond__close(w->fd);
    w->fd = -1;
    if (w->sink)
        w->sink->free(w->sink);
    w->sink = NULL;
}

static int flush(pond_writer *w)
{
    if (!w->len)
        return 0;
    int error = pond__pwrite_all(w->fd, w->buf, w->len, w->file_len, w->path, POND_DOM_TINYFS);
    if (error < 0)
        return error;
    w->file_len += (int64_t)w->len;
    w->len = 0;
    return 0;
}

static int grow(pond_writer *w, size_t want)
{
    if (want <= w->cap)
        return 0;
    size_t nc = w->cap ? w->cap : 256;
    while (nc < want)
        nc = nc > w->threshold / 2 ? w->threshold : nc * 2;
    char *nb = pond_realloc(w->buf, nc);
    if (!nb)
        return POND_ENOMEM;
    w->buf = nb;
    w->cap = nc;
    return 0;
}

/* Content outgrew the buffer: open the backend's sink if it has one (passing it what is
 * buffered), else a spill file (hashing what is buffered). */
static int leave_memory(pond_writer *w)
{
    pond_backend *be = w->fs->be;
    int error;
    if (be->version >= 2 && be->open_sink) {
        pond_tinyfs__lock(w->fs);
        error = be->open_sink(&w->sink, be, w->type);
        pond_tinyfs__unlock(w->fs);
        if (error == 0) {
            if (w->len && (error = w->sink->write(w->sink, w->buf, w->len)) < 0)
                return error;
            pond_free(w->buf); /* not needed any more: writes go straight to the sink */
            w->buf = NULL;
            w->len = w->cap = 0;
            return 0;
        }
        w->sink = NULL;
        if (error != POND_EUNSUPPORTED)
            return error;
    }
    if ((error = pond_sha256_new(&w->sha)) < 0 ||
        (error = pond_sha256_update(w->sha, w->buf ? w->buf : "", w->len)) < 0 ||
        (error = grow(w, w->threshold ? w->threshold : 1)) < 0)
        return error;
    return pond_tinyfs__tmpfile(&w->fd, w->fs->tmp_dir);
}

int pond_writer_write(pond_writer *w, const void *data, size_t len)
{
    POND_ASSERT_ARG(w && (data || len == 0));
    if (w->done)
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "writer for '%s' is closed", w->path);
    if (w->error)
        return pond_error_set(w->error, POND_DOM_TINYFS, "writer for '%s' failed earlier", w->path);
    if (atomic_load(&w->txn_ended)) {
        /* the transaction was aborted: drop what was written now (a sink's temp data too) */
        drop_content(w);
        return fail(w, pond_error_set(POND_ETXN, POND_DOM_TINYFS,
                                      "'%s': the transaction ended under the writer", w->path));
    }
    int error;
    if (len == 0)
        return 0;
    const char *p = data;
    size_t total;
    if (w->fd < 0 && !w->sink && !pond_add_overflow(&total, w->len, len) && total <= w->threshold) {
        if ((error = grow(w, total)) < 0)
            return fail(w, error);
        memcpy(w->buf + w->len, p, len);
        w->len = total;
        w->size += (int64_t)len;
        return 0;
    }
    if (w->fd < 0 && !w->sink && (error = leave_memory(w)) < 0)
        return fail(w, error);
    if (w->sink) {
        if ((error = w->sink->write(w->sink, p, len)) < 0)
            return fail(w, error);
        w->size += (int64_t)len;
        return 0;
    }
    if ((error = pond_sha256_update(w->sha, data, len)) < 0)
        return fail(w, error);
    while (len > 0) {
        size_t n = POND_MIN(len, w->cap - w->len);
        memcpy(w->buf + w->len, p, n);
        w->len += n;
        p += n;
        len -= n;
        w->size += (int64_t)n;
        if (w->len == w->cap && (error = flush(w)) < 0)
            return fail(w, error);
    }
    return 0;
}

int64_t pond_writer_size(const pond_writer *w) { return w->size; }

int pond_writer_set_event_time(pond_writer *w, int64_t min_us, int64_t max_us)
{
    POND_ASSERT_ARG(w);
    if (w->type != POND_ENTRY_FILE_SERIES)
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS,
                              "'%s': event times are for file:series, not %s", w->path,
                              pond_entry_type_name(w->type));
    if (min_us > max_us)
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS,
                              "'%s': event time min %lld > max %lld", w->path, (long long)min_us,
                              (long long)max_us);
    w->et = (tinyfs_event_time){true, min_us, max_us};
    return 0;
}

static void release(pond_writer *w)
{
    pond_tinyfs__lock(w->fs);
    if (w->registered)
        pond_tinyfs__busy_remove(w->fs, w);
    pond_tinyfs__unlock(w->fs);
    drop_content(w);
    w->done = true;
}

int pond_writer_finish(pond_writer *w)
{
    POND_ASSERT_ARG(w);
    if (w->done)
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "writer for '%s' is closed", w->path);
    int error = w->error;
    pond_blob *blob = NULL;
    pond_hash h;
    if (error < 0) {
        error = pond_error_set(error, POND_DOM_TINYFS, "writer for '%s' failed earlier", w->path);
        goto done;
    }
    if (atomic_load(&w->txn_ended)) {
        /* checked before a sink publishes anything (a late abort only leaves gc's garbage) */
        error = pond_error_set(POND_ETXN, POND_DOM_TINYFS,
                               "'%s': the transaction ended before the writer finished", w->path);
        goto done;
    }
    if (w->sink) {
        error = w->sink->finish(&blob, w->sink);
        w->sink->free(w->sink);
        w->sink = NULL;
        if (error < 0)
            goto done;
    } else if (w->fd < 0) {
        char *data = w->buf;
        w->buf = NULL;
        if ((error = pond_tinyfs__blob_take_buf(&blob, data, w->len, NULL)) < 0)
            goto done;
    } else {
        if ((error = pond_sha256_final(&h, w->sha)) < 0 || (error = flush(w)) < 0)
            goto done;
        int fd = w->fd;
        w->fd = -1;
        if ((error = pond_blob_from_fd_take(&blob, fd, w->file_len, &h)) < 0)
            goto done;
    }
    pond_tinyfs__lock(w->fs);
    if (!w->registered) {
        error = pond_error_set(POND_ETXN, POND_DOM_TINYFS,
                               "'%s': the transaction ended before the writer finished", w->path);
    } else {
        error = pond_tinyfs__publish(w->fs, &w->parent, w->name, w->path, w->type, blob, &w->et);
        blob = NULL;
    }
    pond_tinyfs__unlock(w->fs);
done:
    pond_blob_unref(blob);
    release(w);
    return error;
}

void pond_writer_abort(pond_writer *w)
{
    if (w && !w->done)
        release(w);
}

void pond_writer_free(pond_writer *w)
{
    if (!w)
        return;
    if (!w->done && w->fs)
        release(w);
    pond_free(w->buf);
    pond__close(w->fd);
    pond_sha256_free(w->sha);
    pond_free(w->name);
    pond_free(w->path);
    pond_free(w);
}
