/* The hash-while-writing blob writer.
 *
 * Bytes are copied into a ring of chunk-sized buffers (or, for whole chunks of a large write,
 * used where they are). Each chunk needs two SHA-256s: the whole-content digest, which is
 * sequential, and its own chunk hash, which is independent of every other chunk. The caller's
 * thread writes each chunk to the temp file; a worker thread feeds it to the whole-content digest
 * and then computes its chunk hash unless the caller has already taken that job: whenever the
 * caller would wait (for a ring slot, before a write that lent its memory returns, at finish)
 * it computes the newest unclaimed chunk hashes itself. So the
 * two cores split the two digests and the write between them as their speeds allow, and the
 * data is read from memory once per digest and never read back from disk.
 *
 * Only the caller's thread touches the file system or the allocator, and it does so in an order
 * that does not depend on the worker's timing (chunk hashes are collected into the chunk table
 * only at fixed points: before a ring slot is reused, at the end of a write that lent memory,
 * at finish), so fault injection and crash enumeration stay deterministic. */
#include "cas/cas_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define NBUF 8
#define WRITEBACK_STEP ((int64_t)8 << 20)

enum { CHASH_OPEN, CHASH_CLAIMED, CHASH_DONE }; /* the state of a slot's chunk hash */

struct pond_cas_writer {
    pond_cas *cas;
    char *tmp_data, *tmp_chunks; /* NULL once renamed or removed */
    int fd_data, fd_chunks;
    uint32_t chunk_size, fanout;
    uint8_t *bufs[NBUF];
    size_t fill;      /* bytes in the current buffer */
    uint64_t nchunks; /* chunks written */
    uint64_t retired; /* chunks whose hash is in `group` (threaded; else == nchunks) */
    int64_t size;
    int64_t hinted;          /* bytes of data handed to pond__writeback_hint so far */
    pond_sha256 *chunk_ctx;  /* caller's thread */
    pond_sha256 *whole_ctx;  /* the worker's (or the caller's when not threaded) */
    pond_sha256 *wchunk_ctx; /* the worker's chunk hashes */
    uint8_t *group;          /* the current group's chunk hashes */
    uint32_t group_fill;
    uint8_t *groups; /* every group hash so far */
    size_t ngroups, groups_cap;
    int error; /* sticky */
    bool finished, dedup;
    bool lent; /* pond_cas_writer_buffer handed out the current buffer's free part */
    /* the worker; the slot of chunk j is j % NBUF */
    bool want_thread, thread_running;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    const uint8_t *ptrs[NBUF];  /* under mu: the slot's bytes, a buffer or the caller's */
    size_t lens[NBUF];          /* under mu */
    uint8_t cstate[NBUF];       /* under mu: CHASH_* */
    uint8_t chash[NBUF][32];    /* under mu once CHASH_DONE */
    uint64_t submitted, hashed; /* under mu: chunks handed over / whole-hashed */
    bool quit, hash_failed;     /* under mu */
    uint64_t failed_chunk;      /* under mu: the first chunk a SHA-256 call failed on */
};

static void note_hash_failure(pond_cas_writer *w, uint64_t chunk)
{
    if (!w->hash_failed || chunk < w->failed_chunk)
        w->failed_chunk = chunk;
    w->hash_failed = true;
}

/* One chunk's own hash, h_i, through a reusable context. */
static int chunk_hash(pond_hash *h, pond_sha256 *ctx, const uint8_t *p, size_t len)
{
    int rc;
    if ((rc = pond_sha256_reset(ctx)) < 0 || (rc = pond_sha256_update(ctx, p, len)) < 0)
        return rc;
    return pond_sha256_final(h, ctx);
}

/* Computes the chunk hash of slot k (claimed by the calling thread) outside the lock. */
static void chunk_hash_claimed(pond_cas_writer *w, pond_sha256 *ctx, size_t k, uint64_t chunk)
{
    const uint8_t *p = w->ptrs[k];
    size_t len = w->lens[k];
    pond_hash h;
    pthread_mutex_unlock(&w->mu);
    bool ok = chunk_hash(&h, ctx, p, len) == 0;
    pthread_mutex_lock(&w->mu);
    if (ok)
        memcpy(w->chash[k], h.bytes, 32);
    else
        note_hash_failure(w, chunk);
    w->cstate[k] = CHASH_DONE;
}

static void *worker_main(void *arg)
{
    pond_cas_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->hashed == w->submitted && !w->quit)
            pthread_cond_wait(&w->cv_work, &w->mu);
        if (w->hashed == w->submitted)
            break;
        size_t k = (size_t)(w->hashed % NBUF);
        const uint8_t *p = w->ptrs[k];
        size_t len = w->lens[k];
        pthread_mutex_unlock(&w->mu);
        bool ok = pond_sha256_update(w->whole_ctx, p, len) == 0;
        pthread_mutex_lock(&w->mu);
        uint64_t chunk = w->hashed++;
        if (!ok)
            note_hash_failure(w, chunk);
        if (w->cstate[k] == CHASH_OPEN) {
            w->cstate[k] = CHASH_CLAIMED;
            chunk_hash_claimed(w, w->wchunk_ctx, k, chunk);
        }
        pthread_cond_signal(&w->cv_done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static int flush_group(pond_cas_writer *w);

/* Appends h_i to the current group, writing the group out when it is full. */
static int group_add(pond_cas_writer *w, const uint8_t hash[32])
{
    memcpy(w->group + 32 * (size_t)w->group_fill++, hash, 32);
    return w->group_fill == w->fanout ? flush_group(w) : 0;
}

/* Makes chunks [retired, upto) retired: both digests done, the chunk hash moved into the group
 * (flushing full groups), the slot free for reuse. While the worker is behind, the caller
 * computes the newest unclaimed chunk hashes itself instead of waiting. Stops early only on a
 * chunk-table write error, which it returns. */
static int retire_upto(pond_cas_writer *w, uint64_t upto)
{
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    /* Only what was handed over can be retired (waiting for more would never end). submitted
     * equals nchunks except after a failed data write, and the error is sticky. */
    if (upto > w->submitted) {
        pthread_mutex_unlock(&w->mu);
        return pond_error_set(POND_ERROR, POND_DOM_CAS,
                              "cas writer: retire %llu of %llu submitted chunks",
                              (unsigned long long)upto, (unsigned long long)w->submitted);
    }
    while (w->retired < upto) {
        size_t k = (size_t)(w->retired % NBUF);
        if (w->hashed > w->retired && w->cstate[k] == CHASH_DONE) {
            uint8_t hash[32];
            memcpy(hash, w->chash[k], 32);
            w->retired++;
            pthread_mutex_unlock(&w->mu); /* group_add may write the chunk table */
            rc = group_add(w, hash);
            pthread_mutex_lock(&w->mu);
            if (rc < 0)
                break;
            continue;
        }
        uint64_t j = w->submitted;
        while (j > w->retired && w->cstate[(j - 1) % NBUF] != CHASH_OPEN)
            j--;
        if (j > w->retired) {
            size_t s = (size_t)((j - 1) % NBUF);
            w->cstate[s] = CHASH_CLAIMED;
            chunk_hash_claimed(w, w->chunk_ctx, s, j - 1);
            continue;
        }
        pthread_cond_wait(&w->cv_done, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* Waits until no slot's bytes are in use by either digest (also when a retire failed). */
static void wait_idle(pond_cas_writer *w)
{
    pthread_mutex_lock(&w->mu);
    for (;;) {
        bool busy = w->hashed < w->submitted;
        for (size_t k = 0; k < NBUF && !busy; k++)
            busy = w->cstate[k] == CHASH_CLAIMED;
        if (!busy)
            break;
        pthread_cond_wait(&w->cv_done, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
}

static void stop_worker(pond_cas_writer *w)
{
    if (!w->thread_running)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_signal(&w->cv_work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->thread_running = false;
    pthread_cond_destroy(&w->cv_done);
    pthread_cond_destroy(&w->cv_work);
    pthread_mutex_destroy(&w->mu);
}

static int make_temp_names(pond_cas_writer *w)
{
    pond_buf b = POND_BUF_INIT;
    int rc = pond_cas__temp_stem(&b, w->cas);
    if (rc < 0)
        return rc;
    size_t stem = b.size;
    if ((rc = pond_buf_puts(&b, ".data")) < 0 || !(w->tmp_data = pond_strdup(b.ptr)))
        goto done;
    b.size = stem;
    if ((rc = pond_buf_puts(&b, ".chunks")) < 0 || !(w->tmp_chunks = pond_strdup(b.ptr)))
        goto done;
done:
    pond_buf_dispose(&b);
    if (rc == 0 && (!w->tmp_data || !w->tmp_chunks))
        rc = POND_ENOMEM;
    return rc;
}

int pond_cas_writer_new(pond_cas_writer **out, pond_cas *cas)
{
    POND_ASSERT_ARG(out);
    *out = NULL;
    POND_ASSERT_ARG(cas);
    pond_cas_writer *w = pond_calloc(1, sizeof *w);
    if (!w)
        return POND_ENOMEM;
    w->cas = cas;
    w->fd_data = w->fd_chunks = -1;
    w->chunk_size = cas->chunk_size;
    w->fanout = cas->fanout;
    w->want_thread = cas->threaded;
    int rc;
    if (!(w->group = pond_malloc((size_t)w->fanout * 32)))
        goto oom;
    if ((rc = pond_sha256_new(&w->chunk_ctx)) < 0 || (rc = pond_sha256_new(&w->whole_ctx)) < 0 ||
        (w->want_thread && (rc = pond_sha256_new(&w->wchunk_ctx)) < 0))
        goto fail;
    if ((rc = make_temp_names(w)) < 0 || (rc = pond_cas__ensure_dirs(cas)) < 0)
        goto fail;
    if ((rc = pond__open(&w->fd_data, w->tmp_data, O_WRONLY | O_CREAT | O_EXCL, 0444,
                         POND_DOM_CAS)) < 0) {
        pond_free(w->tmp_data);
        w->tmp_data = NULL;
        goto fail;
    }
    if ((rc = pond__open(&w->fd_chunks, w->tmp_chunks, O_WRONLY | O_CREAT | O_EXCL, 0444,
                         POND_DOM_CAS)) < 0) {
        pond_free(w->tmp_chunks);
        w->tmp_chunks = NULL;
        goto fail;
    }
    *out = w;
    return 0;
oom:
    rc = POND_ENOMEM;
fail:
    pond_cas_writer_free(w);
    return rc;
}

static int writer_fail(pond_cas_writer *w, int rc)
{
    if (w->error == 0)
        w->error = rc;
    return rc;
}

static int flush_group(pond_cas_writer *w)
{
    if (w->group_fill == 0)
        return 0;
    int rc;
    size_t len = (size_t)w->group_fill * 32;
    if ((rc = pond__write_all(w->fd_chunks, w->group, len, w->tmp_chunks, POND_DOM_CAS)) < 0)
        return rc;
    if (w->ngroups == w->groups_cap) {
        size_t cap = w->groups_cap ? w->groups_cap * 2 : 4;
        uint8_t *g = pond_realloc(w->groups, cap * 32);
        if (!g)
            return POND_ENOMEM;
        w->groups = g;
        w->groups_cap = cap;
    }
    pond_hash h;
    if ((rc = pond_sha256_buf(&h, w->group, len)) < 0)
        return rc;
    memcpy(w->groups + 32 * w->ngroups++, h.bytes, 32);
    w->group_fill = 0;
    return 0;
}

/* The buffer chunk number nchunks goes to: the ring with the worker, else always the first (the
 * worker starts at chunk 0 or never). */
static size_t buf_index(const pond_cas_writer *w)
{
    return w->thread_running ? (size_t)(w->nchunks % NBUF) : 0;
}

/* Chunk number nchunks: `data` is either bufs[buf_index(w)] or, for a whole chunk in a large
 * write, the caller's memory (then the caller retires every chunk before returning). */
static int process_chunk(pond_cas_writer *w, const uint8_t *data, size_t len, bool last)
{
    int rc;
    pond_hash inline_hash = {{0}}; /* h_i when hashed on this thread */
    if (!last && w->want_thread && !w->thread_running) {
        /* Started at the first full chunk: small blobs never pay for a thread. */
        if (pthread_mutex_init(&w->mu, NULL) == 0) {
            if (pthread_cond_init(&w->cv_work, NULL) == 0) {
                if (pthread_cond_init(&w->cv_done, NULL) == 0) {
                    w->submitted = w->hashed = w->retired = w->nchunks;
                    if (pthread_create(&w->thread, NULL, worker_main, w) == 0)
                        w->thread_running = true;
                    else
                        pthread_cond_destroy(&w->cv_done);
                }
                if (!w->thread_running)
                    pthread_cond_destroy(&w->cv_work);
            }
            if (!w->thread_running)
                pthread_mutex_destroy(&w->mu);
        }
        w->want_thread = w->thread_running; /* no second attempt: hash inline instead */
    }
    if (w->thread_running) {
        size_t k = (size_t)(w->nchunks % NBUF);
        pthread_mutex_lock(&w->mu);
        w->ptrs[k] = data;
        w->lens[k] = len;
        w->cstate[k] = CHASH_OPEN;
        w->submitted++;
        pthread_cond_signal(&w->cv_work);
        pthread_mutex_unlock(&w->mu);
    } else {
        if ((rc = pond_sha256_update(w->whole_ctx, data, len)) < 0 ||
            (rc = chunk_hash(&inline_hash, w->chunk_ctx, data, len)) < 0)
            return rc;
    }
    if ((rc = pond__write_all(w->fd_data, data, len, w->tmp_data, POND_DOM_CAS)) < 0)
        return rc;
    w->nchunks++;
    w->size += (int64_t)len;
    w->fill = 0;
    /* a large blob's bytes start for the disk while the next ones arrive, so the fsync at
     * finish waits for the tail instead of the whole blob */
    if (w->size - w->hinted >= WRITEBACK_STEP) {
        pond__writeback_hint(w->fd_data, w->hinted, w->size - w->hinted);
        w->hinted = w->size;
    }
    if (!w->thread_running) {
        w->retired = w->nchunks;
        return group_add(w, inline_hash.bytes);
    }
    return 0;
}

/* Before chunk nchunks reuses its ring slot, the slot's previous chunk must be retired. */
static int wait_slot(pond_cas_writer *w)
{
    if (w->thread_running && w->nchunks >= NBUF)
        return retire_upto(w, w->nchunks - NBUF + 1);
    return 0;
}

static int write_chunks(pond_cas_writer *w, const uint8_t *p, size_t len, bool *borrowed)
{
    int rc;
    while (len > 0) {
        if (w->fill == 0 && len >= w->chunk_size) {
            /* A whole chunk of the caller's: hashed and written from where it is, no copy. */
            if ((rc = wait_slot(w)) < 0)
                return rc;
            *borrowed = true;
            if ((rc = process_chunk(w, p, w->chunk_size, false)) < 0)
                return rc;
            p += w->chunk_size;
            len -= w->chunk_size;
            continue;
        }
        if (w->fill == 0 && (rc = wait_slot(w)) < 0)
            return rc;
        size_t k = buf_index(w);
        if (!w->bufs[k] && !(w->bufs[k] = pond_malloc(w->chunk_size)))
            return POND_ENOMEM; /* allocated on first use: small blobs need one */
        size_t n = POND_MIN(len, (size_t)w->chunk_size - w->fill);
        memcpy(w->bufs[k] + w->fill, p, n);
        w->fill += n;
        p += n;
        len -= n;
        if (w->fill == w->chunk_size && (rc = process_chunk(w, w->bufs[k], w->fill, false)) < 0)
            return rc;
    }
    return 0;
}

int pond_cas_writer_write(pond_cas_writer *w, const void *buf, size_t len)
{
    POND_ASSERT_ARG(w && (buf || len == 0));
    if (w->error)
        return pond_error_set(w->error, POND_DOM_CAS, "cas writer: an earlier write failed");
    if (w->finished)
        return pond_error_set(POND_EINVALID, POND_DOM_CAS, "cas writer: already finished");
    bool borrowed = false;
    w->lent = false; /* a buffer handed out before is written over, never committed */
    int rc = write_chunks(w, buf, len, &borrowed);
    if (borrowed && w->thread_running) {
        /* Neither digest may still read the caller's memory when we return, also on failure. */
        if (rc == 0)
            rc = retire_upto(w, w->nchunks);
        wait_idle(w);
    }
    return rc < 0 ? writer_fail(w, rc) : 0;
}

int pond_cas_writer_buffer(void **buf_out, size_t *cap_out, pond_cas_writer *w)
{
    POND_ASSERT_ARG(buf_out && cap_out && w);
    *buf_out = NULL;
    *cap_out = 0;
    if (w->error)
        return pond_error_set(w->error, POND_DOM_CAS, "cas writer: an earlier write failed");
    if (w->finished)
        return pond_error_set(POND_EINVALID, POND_DOM_CAS, "cas writer: already finished");
    int rc;
    /* the slot is free only once the chunk that used it last is retired */
    if (w->fill == 0 && (rc = wait_slot(w)) < 0)
        return writer_fail(w, rc);
    size_t k = buf_index(w);
    if (!w->bufs[k] && !(w->bufs[k] = pond_malloc(w->chunk_size)))
        return writer_fail(w, POND_ENOMEM);
    w->lent = true;
    *buf_out = w->bufs[k] + w->fill;
    *cap_out = (size_t)w->chunk_size - w->fill;
    return 0;
}

int pond_cas_writer_commit(pond_cas_writer *w, size_t len)
{
    POND_ASSERT_ARG(w);
    if (w->error)
        return pond_error_set(w->error, POND_DOM_CAS, "cas writer: an earlier write failed");
    if (w->finished) /* a buffer lent before finish belongs to nothing now */
        return pond_error_set(POND_EINVALID, POND_DOM_CAS, "cas writer: already finished");
    if (!w->lent || len > (size_t)w->chunk_size - w->fill)
        return writer_fail(w, pond_error_set(POND_EINVALID, POND_DOM_CAS,
                                             "cas writer: commit of %zu bytes without a buffer "
                                             "that holds them",
                                             len));
    w->lent = false;
    size_t k = buf_index(w);
    w->fill += len;
    int rc = 0;
    if (w->fill == w->chunk_size)
        rc = process_chunk(w, w->bufs[k], w->fill, false);
    return rc < 0 ? writer_fail(w, rc) : 0;
}

/* Renames both temp files into place under the store lock (the publish step). */
static int publish(pond_cas_writer *w, const pond_hash *sha)
{
    char *blob = NULL, *chunks = NULL, *fan = NULL;
    int lock = -1, rc;
    bool existed = false, renamed_chunks = false, renamed_blob = false;
    if ((rc = pond_cas__paths(&blob, &chunks, &fan, w->cas, sha)) < 0)
        return rc;
    if ((rc = pond_cas__mkdir_durable(fan)) < 0)
        goto done;
    if ((rc = pond_cas__lock(&lock, w->cas)) < 0)
        goto done;
    struct stat st;
    /* a link, a FIFO or anything else under the blob's or the table's name is not ours to
     * replace: refused by name (fsck reports it), never renamed over */
    const char *names[2] = {blob, chunks};
    for (int k = 0; k < 2; k++) {
        if (pond__os_lstat(names[k], &st) == 0) {
            if (!S_ISREG(st.st_mode)) {
                rc = pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                                    "'%s' is %s where pond keeps its own file: move it away",
                                    names[k], pond__file_kind(st.st_mode));
                goto done;
            }
        } else if (errno != ENOENT) {
            rc = pond_error_set_os(POND_DOM_CAS, "stat '%s'", names[k]);
            goto done;
        }
    }
    if (pond__os_lstat(blob, &st) == 0) {
        existed = true;
        /* A different size under the same hash is a damaged copy: ours replaces it. */
        w->dedup = st.st_size == w->size;
    } else if (errno != ENOENT) {
        rc = pond_error_set_os(POND_DOM_CAS, "stat '%s'", blob);
        goto done;
    }
    /* The table first, so that a blob under its final name always has its table. Replacing an
     * existing blob (same content, same table) gives it a fresh inode and mtime: that refresh is
     * what keeps a concurrent gc from removing a blob a writer is about to reference. */
    if (pond__os_rename(w->tmp_chunks, chunks) < 0) {
        rc = pond_error_set_os(POND_DOM_CAS, "rename '%s' to '%s'", w->tmp_chunks, chunks);
        goto done;
    }
    renamed_chunks = true;
    if (pond__os_rename(w->tmp_data, blob) < 0) {
        rc = pond_error_set_os(POND_DOM_CAS, "rename '%s' to '%s'", w->tmp_data, blob);
        goto done;
    }
    renamed_blob = true;
    rc = pond__fsync_dir(fan, POND_DOM_CAS);
done:
    if (rc < 0 && !existed && (renamed_chunks || renamed_blob)) {
        /* Nothing was there before and the lock excludes other publishers: take ours back so
         * that no blob appears under its final name unless finish succeeds. Best effort. */
        if (renamed_blob)
            (void)pond__os_unlink(blob);
        (void)pond__os_unlink(chunks);
    }
    if (renamed_chunks) {
        pond_free(w->tmp_chunks);
        w->tmp_chunks = NULL;
    }
    if (renamed_blob) {
        pond_free(w->tmp_data);
        w->tmp_data = NULL;
    }
    if (lock >= 0)
        pond_cas__unlock(lock);
    pond_free(blob);
    pond_free(chunks);
    pond_free(fan);
    return rc;
}

static int finish(pond_cas_ref *ref, pond_cas_writer *w)
{
    int rc;
    if (w->fill > 0 && (rc = process_chunk(w, w->bufs[buf_index(w)], w->fill, true)) < 0)
        return rc;
    if (w->thread_running) {
        rc = retire_upto(w, w->nchunks);
        stop_worker(w); /* the worker drains what was submitted; the caller claims nothing now */
        if (rc < 0)
            return rc;
        if (w->hash_failed)
            return pond_error_set(POND_ERROR, POND_DOM_CAS,
                                  "cas writer: SHA-256 failed on chunk %llu (offset %llu)",
                                  (unsigned long long)w->failed_chunk,
                                  (unsigned long long)(w->failed_chunk * w->chunk_size));
    }
    pond_cas__trailer t = {.chunk_size = w->chunk_size, .fanout = w->fanout, .size = w->size};
    if ((rc = pond_sha256_final(&t.sha256, w->whole_ctx)) < 0)
        return rc;
    if ((rc = flush_group(w)) < 0)
        return rc;
    uint8_t trailer[POND_CAS__TRAILER_SIZE];
    pond_cas__trailer_encode(trailer, &t);
    if ((rc = pond__write_all(w->fd_chunks, w->groups, w->ngroups * 32, w->tmp_chunks,
                              POND_DOM_CAS)) < 0 ||
        (rc = pond__write_all(w->fd_chunks, trailer, sizeof trailer, w->tmp_chunks, POND_DOM_CAS)) <
            0)
        return rc;
    /* root = SHA-256(group hashes || trailer) */
    if ((rc = pond_sha256_reset(w->chunk_ctx)) < 0 ||
        (rc = pond_sha256_update(w->chunk_ctx, w->groups, w->ngroups * 32)) < 0 ||
        (rc = pond_sha256_update(w->chunk_ctx, trailer, sizeof trailer)) < 0 ||
        (rc = pond_sha256_final(&ref->root, w->chunk_ctx)) < 0)
        return rc;
    if ((rc = pond__fsync(w->fd_data, w->tmp_data, POND_DOM_CAS)) < 0 ||
        (rc = pond__fsync(w->fd_chunks, w->tmp_chunks, POND_DOM_CAS)) < 0)
        return rc;
    pond__close(w->fd_data);
    pond__close(w->fd_chunks);
    w->fd_data = w->fd_chunks = -1;
    if ((rc = publish(w, &t.sha256)) < 0)
        return rc;
    ref->sha256 = t.sha256;
    ref->size = w->size;
    return 0;
}

int pond_cas_writer_finish(pond_cas_ref *ref_out, pond_cas_writer *w)
{
    POND_ASSERT_ARG(ref_out && w);
    if (w->error)
        return pond_error_set(w->error, POND_DOM_CAS, "cas writer: an earlier write failed");
    if (w->finished)
        return pond_error_set(POND_EINVALID, POND_DOM_CAS, "cas writer: already finished");
    pond_cas_ref ref;
    int rc = finish(&ref, w);
    if (rc < 0)
        return writer_fail(w, rc);
    w->finished = true;
    *ref_out = ref;
    return 0;
}

bool pond_cas_writer_deduplicated(const pond_cas_writer *w) { return w && w->finished && w->dedup; }

void pond_cas_writer_free(pond_cas_writer *w)
{
    if (!w)
        return;
    stop_worker(w);
    pond__close(w->fd_data);
    pond__close(w->fd_chunks);
    if (w->tmp_data)
        (void)pond__os_unlink(w->tmp_data);
    if (w->tmp_chunks)
        (void)pond__os_unlink(w->tmp_chunks);
    pond_free(w->tmp_data);
    pond_free(w->tmp_chunks);
    for (int i = 0; i < NBUF; i++)
        pond_free(w->bufs[i]);
    pond_free(w->group);
    pond_free(w->groups);
    pond_sha256_free(w->chunk_ctx);
    pond_sha256_free(w->whole_ctx);
    pond_sha256_free(w->wchunk_ctx);
    pond_free(w);
}

int pond_cas_put(pond_cas_ref *ref_out, pond_cas *cas, const void *data, size_t len)
{
    pond_cas_writer *w;
    int rc = pond_cas_writer_new(&w, cas);
    if (rc < 0)
        return rc;
    if ((rc = pond_cas_writer_write(w, data, len)) == 0)
        rc = pond_cas_writer_finish(ref_out, w);
    pond_cas_writer_free(w);
    return rc;
}
