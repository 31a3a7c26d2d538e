/* Streams built from other things: an array of batches, another stream read ahead on a
 * second thread. */
#include <pond/arrow.h>

#include "util/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- a stream over an array of batches ---- */

typedef struct {
    struct ArrowSchema schema;
    struct ArrowArray *batches;
    size_t n, next;
    char err[256];
} batches_priv;

static int bs_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    batches_priv *p = s->private_data;
    return pond_arrow_schema_copy(out, &p->schema) < 0 ? ENOMEM : 0;
}

static int bs_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    batches_priv *p = s->private_data;
    if (p->next >= p->n) {
        memset(out, 0, sizeof *out);
        return 0;
    }
    pond_arrow_array_move(out, &p->batches[p->next++]);
    return 0;
}

static const char *bs_err(struct ArrowArrayStream *s)
{
    batches_priv *p = s->private_data;
    return p->err[0] ? p->err : NULL;
}

static void bs_release(struct ArrowArrayStream *s)
{
    batches_priv *p = s->private_data;
    for (size_t i = 0; i < p->n; i++)
        pond_arrow_array_release(&p->batches[i]);
    pond_free(p->batches);
    pond_arrow_schema_release(&p->schema);
    pond_free(p);
    s->release = NULL;
}

int pond_arrow_stream_from_batches(struct ArrowArrayStream *out, const struct ArrowSchema *schema,
                                   struct ArrowArray *batches, size_t n)
{
    batches_priv *p = pond_calloc(1, sizeof *p);
    int rc = p ? 0 : POND_ENOMEM;
    if (rc == 0 && n && !(p->batches = pond_calloc(n, sizeof *p->batches)))
        rc = POND_ENOMEM;
    if (rc == 0)
        rc = pond_arrow_schema_copy(&p->schema, schema);
    if (rc < 0) {
        if (p)
            pond_free(p->batches);
        pond_free(p);
        for (size_t i = 0; i < n; i++)
            pond_arrow_array_release(&batches[i]);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        pond_arrow_array_move(&p->batches[i], &batches[i]);
    p->n = n;
    memset(out, 0, sizeof *out);
    out->get_schema = bs_schema;
    out->get_next = bs_next;
    out->get_last_error = bs_err;
    out->release = bs_release;
    out->private_data = p;
    return 0;
}

/* ---- a prefetching stream: the source is read on a second thread ---- */

#define PREFETCH_DEPTH 2

typedef struct {
    struct ArrowArrayStream src;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ArrowArray q[PREFETCH_DEPTH];
    int head, len;
    bool done, stop;
    int err;
    char msg[1024];
} prefetch;

static void *prefetch_main(void *arg)
{
    prefetch *p = arg;
    for (;;) {
        struct ArrowArray b;
        int e = p->src.get_next(&p->src, &b);
        pthread_mutex_lock(&p->mu);
        if (e != 0 || !b.release) {
            p->err = e;
            if (e != 0) {
                const char *m = p->src.get_last_error ? p->src.get_last_error(&p->src) : NULL;
                snprintf(p->msg, sizeof p->msg, "%s", m ? m : strerror(e));
            }
            p->done = true;
            pthread_cond_broadcast(&p->cv);
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        while (p->len == PREFETCH_DEPTH && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            b.release(&b);
            return NULL;
        }
        p->q[(p->head + p->len) % PREFETCH_DEPTH] = b;
        p->len++;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

static int pf_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    prefetch *p = s->private_data;
    /* get_schema on the source is safe: the worker only calls get_next, and the producers
     * used here answer get_schema from immutable state */
    return p->src.get_schema(&p->src, out);
}

static int pf_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    prefetch *p = s->private_data;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&p->mu);
    while (p->len == 0 && !p->done)
        pthread_cond_wait(&p->cv, &p->mu);
    int e = 0;
    if (p->len) {
        *out = p->q[p->head];
        p->head = (p->head + 1) % PREFETCH_DEPTH;
        p->len--;
        pthread_cond_broadcast(&p->cv);
    } else {
        e = p->err;
    }
    pthread_mutex_unlock(&p->mu);
    return e;
}

static const char *pf_err(struct ArrowArrayStream *s)
{
    prefetch *p = s->private_data;
    return p->msg[0] ? p->msg : NULL;
}

static void pf_release(struct ArrowArrayStream *s)
{
    prefetch *p = s->private_data;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    for (int i = 0; i < p->len; i++)
        p->q[(p->head + i) % PREFETCH_DEPTH].release(&p->q[(p->head + i) % PREFETCH_DEPTH]);
    if (p->src.release)
        p->src.release(&p->src);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pond_free(p);
    s->release = NULL;
}

int pond_arrow_stream_prefetch(struct ArrowArrayStream *out, struct ArrowArrayStream *in)
{
    /* in is consumed on failure too (docs/api.md, "Streams"): one rule for every function
     * taking an input stream, so no caller needs to know which ones hand it back */
    memset(out, 0, sizeof *out);
    prefetch *p = pond_calloc(1, sizeof *p);
    if (!p) {
        pond_arrow_stream_release(in);
        return POND_ENOMEM;
    }
    pond_arrow_stream_move(&p->src, in);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, prefetch_main, p) != 0) {
        pond_arrow_stream_release(&p->src);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        pond_free(p);
        return pond_error_set(POND_ERROR, POND_DOM_ARROW, "cannot start a reader thread");
    }
    out->get_schema = pf_schema;
    out->get_next = pf_next;
    out->get_last_error = pf_err;
    out->release = pf_release;
    out->private_data = p;
    return 0;
}
