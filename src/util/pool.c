/* Thread helpers. A small fork-join pool: pond__pool_run hands tasks 0..n-1 to the workers and
 * the caller's thread and returns when all are done; tasks are claimed in increasing order
 * under one mutex (they are coarse: a column chunk, a row group, so the lock is not
 * contended). And a set of interchangeable handles that threads take and give back. */
#include "util/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define POOL_MAX 64

struct pond_pool {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    bool quit;
    /* the running job; n == 0 when none */
    void (*fn)(void *payload, int task, int slot);
    void *payload;
    int n, next, finished;
    int n_workers;
    pthread_t th[POOL_MAX];
    struct pool_worker {
        struct pond_pool *p;
        int slot;
    } w[POOL_MAX];
};

/* Claim and run tasks of the current job until none is left (lock held on entry and exit). */
static void drain(struct pond_pool *p, int slot)
{
    while (p->next < p->n) {
        int task = p->next++;
        void (*fn)(void *, int, int) = p->fn;
        void *payload = p->payload;
        pthread_mutex_unlock(&p->mu);
        fn(payload, task, slot);
        pthread_mutex_lock(&p->mu);
        if (++p->finished == p->n)
            pthread_cond_signal(&p->done);
    }
}

static void *worker_main(void *arg)
{
    struct pool_worker *w = arg;
    struct pond_pool *p = w->p;
    pthread_mutex_lock(&p->mu);
    while (!p->quit) {
        if (p->next < p->n)
            drain(p, w->slot);
        else
            pthread_cond_wait(&p->work, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int pond__pool_new(pond_pool **out, int threads)
{
    *out = NULL;
    struct pond_pool *p = pond_calloc(1, sizeof *p);
    if (!p)
        return POND_ENOMEM;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        pond_free(p);
        return pond_error_set(POND_ERROR, POND_DOM_UTIL, "cannot create a thread pool lock");
    }
    bool work_ok = pthread_cond_init(&p->work, NULL) == 0;
    if (!work_ok || pthread_cond_init(&p->done, NULL) != 0) {
        if (work_ok)
            pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->mu);
        pond_free(p);
        return pond_error_set(POND_ERROR, POND_DOM_UTIL, "cannot create a thread pool condition");
    }
    int want = POND_MIN(threads - 1, POOL_MAX);
    for (int i = 0; i < want; i++) {
        p->w[i].p = p;
        p->w[i].slot = i + 1;
        if (pthread_create(&p->th[i], NULL, worker_main, &p->w[i]) != 0)
            break; /* run with the threads we have (possibly none: the caller does it all) */
        p->n_workers = i + 1;
    }
    *out = p;
    return 0;
}

int pond__pool_threads(const pond_pool *p) { return p ? p->n_workers + 1 : 1; }

void pond__pool_run(pond_pool *p, int n, void (*fn)(void *payload, int task, int slot),
                    void *payload)
{
    if (n <= 0)
        return;
    if (!p || p->n_workers == 0 || n == 1) {
        for (int i = 0; i < n; i++)
            fn(payload, i, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->payload = payload;
    p->next = p->finished = 0;
    p->n = n;
    pthread_cond_broadcast(&p->work);
    drain(p, 0);
    while (p->finished < p->n)
        pthread_cond_wait(&p->done, &p->mu);
    p->n = p->next = p->finished = 0;
    p->fn = NULL;
    p->payload = NULL;
    pthread_mutex_unlock(&p->mu);
}

void pond__pool_free(pond_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_workers; i++)
        pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    pond_free(p);
}

/* ---------------------------------------------------------------- handle set */

#define HSET_MAX 64

struct pond_hset {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    void *h[HSET_MAX];
    bool busy[HSET_MAX];
};

int pond__hset_new(pond_hset **out, void *const *handles, int n)
{
    *out = NULL;
    if (n < 1 || n > HSET_MAX)
        return pond_error_set(POND_EINVALID, POND_DOM_UTIL, "handle set of %d handles", n);
    struct pond_hset *s = pond_calloc(1, sizeof *s);
    if (!s)
        return POND_ENOMEM;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        pond_free(s);
        return pond_error_set(POND_ERROR, POND_DOM_UTIL, "cannot create a handle set lock");
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        pond_free(s);
        return pond_error_set(POND_ERROR, POND_DOM_UTIL, "cannot create a handle set condition");
    }
    s->n = n;
    memcpy(s->h, handles, (size_t)n * sizeof *handles);
    *out = s;
    return 0;
}

void *pond__hset_take(pond_hset *s)
{
    pthread_mutex_lock(&s->mu);
    for (;;) {
        for (int i = 0; i < s->n; i++) {
            if (!s->busy[i]) {
                s->busy[i] = true;
                pthread_mutex_unlock(&s->mu);
                return s->h[i];
            }
        }
        pthread_cond_wait(&s->cv, &s->mu);
    }
}

void pond__hset_give(pond_hset *s, void *handle)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n; i++)
        if (s->h[i] == handle)
            s->busy[i] = false;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void pond__hset_free(pond_hset *s)
{
    if (!s)
        return;
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pond_free(s);
}

/* ---------------------------------------------------------------- buffer cache */

/* Buffers below this size come from malloc as cheaply as from here. */
#define BUFCACHE_MIN ((size_t)64 << 10)
#define BUFCACHE_SLOTS 32

struct pond_bufcache {
    pthread_mutex_t mu;
    _Atomic int refs;
    bool closed;
    size_t max_bytes, kept_bytes;
    int n;
    void *buf[BUFCACHE_SLOTS];
    size_t cap[BUFCACHE_SLOTS];
};

int pond__bufcache_new(pond_bufcache **out, size_t max_bytes)
{
    *out = NULL;
    pond_bufcache *c = pond_calloc(1, sizeof *c);
    if (!c)
        return POND_ENOMEM;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        pond_free(c);
        return pond_error_set(POND_ERROR, POND_DOM_UTIL, "cannot create a buffer cache lock");
    }
    atomic_init(&c->refs, 1);
    c->max_bytes = max_bytes;
    *out = c;
    return 0;
}

pond_bufcache *pond__bufcache_ref(pond_bufcache *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

/* Frees the kept buffers (lock held). */
static void bufcache_drop(pond_bufcache *c)
{
    for (int i = 0; i < c->n; i++)
        pond_free(c->buf[i]);
    c->n = 0;
    c->kept_bytes = 0;
}

void pond__bufcache_unref(pond_bufcache *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    bufcache_drop(c); /* the last reference: no other thread can hold the lock */
    pthread_mutex_destroy(&c->mu);
    pond_free(c);
}

void pond__bufcache_close(pond_bufcache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->closed = true;
    bufcache_drop(c);
    pthread_mutex_unlock(&c->mu);
    pond__bufcache_unref(c);
}

void *pond__bufcache_take(pond_bufcache *c, size_t need, size_t *cap_out)
{
    need = need ? need : 1;
    if (c && need >= BUFCACHE_MIN) {
        pthread_mutex_lock(&c->mu);
        int best = -1;
        /* the smallest that fits, and not more than twice the need (a large buffer is kept
         * for a large need) */
        for (int i = 0; i < c->n; i++)
            if (c->cap[i] >= need && c->cap[i] / 2 <= need &&
                (best < 0 || c->cap[i] < c->cap[best]))
                best = i;
        if (best >= 0) {
            void *b = c->buf[best];
            *cap_out = c->cap[best];
            c->kept_bytes -= c->cap[best];
            c->n--;
            c->buf[best] = c->buf[c->n];
            c->cap[best] = c->cap[c->n];
            pthread_mutex_unlock(&c->mu);
            return b;
        }
        pthread_mutex_unlock(&c->mu);
    }
    void *b = pond_malloc(need);
    *cap_out = b ? need : 0;
    return b;
}

void pond__bufcache_give(pond_bufcache *c, void *buf, size_t cap)
{
    if (!buf)
        return;
    if (c && cap >= BUFCACHE_MIN) {
        pthread_mutex_lock(&c->mu);
        if (!c->closed && c->n < BUFCACHE_SLOTS && c->kept_bytes <= c->max_bytes &&
            cap <= c->max_bytes - c->kept_bytes) {
            c->buf[c->n] = buf;
            c->cap[c->n++] = cap;
            c->kept_bytes += cap;
            buf = NULL;
        }
        pthread_mutex_unlock(&c->mu);
    }
    pond_free(buf);
}
