/* The buckets cache (include/pond/buckets.h): series decoded once, answered many times.
 *
 * Why: a bucketed read of a whole series decodes every row (and the large-file store hashes
 * every byte it reads back); a chart asks for the same series again and again, zoomed or
 * not. An entry holds, in the table reader's order, each row's time and each column as a
 * double (a null as NaN: both are left out of every cell), and per block of BLOCK rows its
 * time range and per column count, sum, min and max. A block whose times fall in one bucket
 * of [from, to) is folded whole; only blocks straddling a bucket's edge (one per edge when
 * the rows are in time order) are folded row by row.
 *
 * Staleness: the entry records the versions (number, size, hash) it was read from. The same
 * list: a hit. The list grown by versions whose event times all lie after every time the
 * entry holds: those versions alone are read (file_version) and appended, which is what the
 * whole series' read would return for them. Anything else (a version rewritten or dropped,
 * late data) reads the whole series again. (A series rule that makes a read return other
 * rows than its versions' rows, such as dedup, must send such series to a rebuild.)
 *
 * Threads: one mutex guards the list; an entry is either being written (busy: built,
 * extended) by one call or read by any number (refs). A call that finds it busy waits. */
#include <pond/alloc.h>
#include <pond/buckets.h>
#include <pond/errors.h>

#include "table/table_buckets_internal.h"

#include <pthread.h>
#include <string.h>

#define D POND_DOM_TABLE
#define BLOCK 256

typedef struct {
    int64_t version, size;
    pond_hash sha256;
} vsig;

typedef struct entry {
    struct entry *next;
    char *key;
    vsig *vers;
    size_t n_vers;
    size_t ncols;   /* value columns */
    int64_t n, cap; /* rows */
    int64_t *t;
    double **v;   /* v[c][row] */
    int64_t nblk; /* blocks: [k * BLOCK, min(n, (k + 1) * BLOCK)) */
    int64_t *bmin, *bmax;
    pond_bucket **b; /* b[c][block] */
    int64_t t_max;   /* the latest time held */
    size_t bytes;
    uint64_t used; /* the cache's clock at the last use */
    int refs;
    bool busy;
    bool too_big; /* the series did not fit: not read again (holds no rows) */
} entry;

struct pond_buckets_cache {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t max, bytes;
    uint64_t clock;
    entry *list;
};

int pond_buckets_cache_new(pond_buckets_cache **out, size_t max_bytes)
{
    pond_buckets_cache *c = pond_calloc(1, sizeof *c);
    if (!c)
        return POND_ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->max = max_bytes;
    *out = c;
    return 0;
}

static void entry_clear(entry *e)
{
    pond_free(e->t);
    for (size_t k = 0; e->v && k < e->ncols; k++)
        pond_free(e->v[k]);
    for (size_t k = 0; e->b && k < e->ncols; k++)
        pond_free(e->b[k]);
    pond_free(e->bmin);
    pond_free(e->bmax);
    e->t = NULL;
    e->bmin = e->bmax = NULL;
    if (e->v)
        memset(e->v, 0, e->ncols * sizeof *e->v);
    if (e->b)
        memset(e->b, 0, e->ncols * sizeof *e->b);
    e->n = e->cap = e->nblk = 0;
    e->t_max = INT64_MIN;
}

static void entry_free(entry *e)
{
    if (!e)
        return;
    entry_clear(e);
    pond_free(e->v);
    pond_free(e->b);
    pond_free(e->vers);
    pond_free(e->key);
    pond_free(e);
}

void pond_buckets_cache_free(pond_buckets_cache *c)
{
    if (!c)
        return;
    while (c->list) {
        entry *n = c->list->next;
        entry_free(c->list);
        c->list = n;
    }
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    pond_free(c);
}

size_t pond_buckets_cache_bytes(pond_buckets_cache *c)
{
    pthread_mutex_lock(&c->mu);
    size_t b = c->bytes;
    pthread_mutex_unlock(&c->mu);
    return b;
}

static size_t entry_bytes(const entry *e)
{
    size_t blk = (size_t)((e->cap + BLOCK - 1) / BLOCK);
    return (size_t)e->cap * (8 + 8 * e->ncols) + blk * (16 + sizeof(pond_bucket) * e->ncols);
}

/* ---- keys and versions ---------------------------------------------------------------------- */

static int make_key(char **out, const pond_stat *st, const bk_request *rq)
{
    char id[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(id, &st->id);
    pond_buf k = POND_BUF_INIT;
    int rc = pond_buf_printf(&k, "%s\n%s\n%s\n", id, rq->tz ? pond_tz_name(rq->tz) : "",
                             rq->dedup ? rq->dedup : "");
    for (int i = 0; i < rq->ncols && rc == 0; i++)
        rc = pond_buf_printf(&k, "%s\n", rq->cols[i]);
    if (rc == 0 && !(*out = pond_strndup(k.ptr, k.size)))
        rc = POND_ENOMEM;
    pond_buf_dispose(&k);
    return rc;
}

static bool same_vsig(const vsig *a, const pond_stat *b)
{
    return a->version == b->version && a->size == b->size &&
           !memcmp(a->sha256.bytes, b->sha256.bytes, sizeof a->sha256.bytes);
}

/* ---- filling an entry ----------------------------------------------------------------------------- */

/* Room for need rows, never more than max_rows (doubling, then clamped: no slack past the
 * bound); false in *fits when need itself is over. */
static int grow(entry *e, int64_t need, int64_t max_rows, bool *fits)
{
    if (need <= e->cap)
        return 0;
    if (need > max_rows) {
        *fits = false;
        return 0;
    }
    int64_t cap = e->cap ? e->cap : 4096;
    while (cap < need)
        cap *= 2;
    cap = cap > max_rows ? max_rows : cap;
    int64_t *t = pond_realloc(e->t, (size_t)cap * sizeof *t);
    if (!t)
        return POND_ENOMEM;
    e->t = t;
    for (size_t k = 0; k < e->ncols; k++) {
        double *v = pond_realloc(e->v[k], (size_t)cap * sizeof *v);
        if (!v)
            return POND_ENOMEM;
        e->v[k] = v;
    }
    e->cap = cap;
    return 0;
}

/* Gives back the room past the rows (a later append grows it again). */
static int shrink(entry *e)
{
    if (e->n == e->cap || e->n == 0)
        return 0;
    int64_t *t = pond_realloc(e->t, (size_t)e->n * sizeof *t);
    if (!t)
        return POND_ENOMEM;
    e->t = t;
    for (size_t k = 0; k < e->ncols; k++) {
        double *v = pond_realloc(e->v[k], (size_t)e->n * sizeof *v);
        if (!v)
            return POND_ENOMEM;
        e->v[k] = v;
    }
    e->cap = e->n;
    return 0;
}

/* Blocks from the one holding row `from` on (earlier blocks are complete and unchanged). */
static int index_blocks(entry *e, int64_t from)
{
    int64_t nblk = (e->n + BLOCK - 1) / BLOCK, first = from / BLOCK;
    int64_t *bmin = pond_realloc(e->bmin, (size_t)(nblk ? nblk : 1) * sizeof *bmin);
    if (!bmin)
        return POND_ENOMEM;
    e->bmin = bmin;
    int64_t *bmax = pond_realloc(e->bmax, (size_t)(nblk ? nblk : 1) * sizeof *bmax);
    if (!bmax)
        return POND_ENOMEM;
    e->bmax = bmax;
    for (size_t k = 0; k < e->ncols; k++) {
        pond_bucket *b = pond_realloc(e->b[k], (size_t)(nblk ? nblk : 1) * sizeof *b);
        if (!b)
            return POND_ENOMEM;
        e->b[k] = b;
    }
    for (int64_t q = first; q < nblk; q++) {
        int64_t lo = q * BLOCK, hi = lo + BLOCK < e->n ? lo + BLOCK : e->n;
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        for (int64_t r = lo; r < hi; r++) {
            mn = e->t[r] < mn ? e->t[r] : mn;
            mx = e->t[r] > mx ? e->t[r] : mx;
        }
        e->bmin[q] = mn;
        e->bmax[q] = mx;
        for (size_t k = 0; k < e->ncols; k++) {
            pond_bucket c = {0, INFINITY, -INFINITY, 0};
            for (int64_t r = lo; r < hi; r++)
                bk_add(&c, e->v[k][r]);
            e->b[k][q] = c;
        }
    }
    e->nblk = nblk;
    return 0;
}

/* Appends the rows of stream s (timestamp column first) to e. Rows without a time are left
 * out: they belong to no bucket. *fits false when the entry outgrew limit (e's rows then
 * stop growing; the caller drops the entry). */
static int append_stream(entry *e, struct ArrowArrayStream *s, const bk_request *rq, size_t limit,
                         bool *fits)
{
    struct ArrowSchema sc = {0};
    pond_arrow_format *fm = NULL;
    table_ts tk;
    int rc = 0;
    if (s->get_schema(s, &sc) != 0)
        return pond_error_set(POND_EIO, D, "%s", s->get_last_error(s));
    if ((size_t)sc.n_children != e->ncols + 1)
        rc = pond_error_set(POND_EINVALID, D, "%s: the columns changed", rq->path);
    if (rc == 0 && !(fm = pond_calloc(e->ncols + 1, sizeof *fm)))
        rc = POND_ENOMEM;
    if (rc == 0 && (rc = pond_table__ts_kind(&tk, sc.children[0], rq->tz)) == 0 && tk.kind == 0)
        rc = pond_error_set(POND_EINVALID, D, "%s: column '%s' does not hold times", rq->path,
                            rq->cols[0]);
    for (size_t k = 1; rc == 0 && k <= e->ncols; k++)
        rc = pond_arrow_format_parse(&fm[k], sc.children[k]->format);
    while (rc == 0) {
        struct ArrowArray b;
        if (s->get_next(s, &b) != 0) {
            rc = pond_error_set(POND_EIO, D, "%s", s->get_last_error(s));
            break;
        }
        if (!b.release)
            break;
        /* rows and their blocks: 8 bytes of time and 8 per column, and a block's share */
        size_t per_row = 8 + 8 * e->ncols + (16 + sizeof(pond_bucket) * e->ncols) / BLOCK + 1;
        if (*fits)
            rc = grow(e, e->n + b.length, (int64_t)(limit / per_row), fits);
        for (int64_t i = 0; rc == 0 && *fits && i < b.length; i++) {
            int64_t r = b.offset + i;
            const struct ArrowArray *tc = b.children[0];
            if (pond_table__is_null(tc, r))
                continue;
            int64_t t = pond_table__ts_value(&tk, tc, r);
            e->t[e->n] = t;
            e->t_max = t > e->t_max ? t : e->t_max;
            for (size_t k = 0; k < e->ncols; k++) {
                const struct ArrowArray *vc = b.children[k + 1];
                e->v[k][e->n] = pond_table__is_null(vc, r)
                                    ? NAN
                                    : pond_table__bk_value(&fm[k + 1], vc, vc->offset + r);
            }
            e->n++;
        }
        b.release(&b);
        if (!*fits)
            break; /* the caller scans the range instead */
    }
    pond_free(fm);
    pond_arrow_schema_release(&sc);
    return rc;
}

static int read_into(entry *e, const bk_request *rq, int64_t file_version, size_t limit, bool *fits)
{
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.columns = rq->cols;
    ro.n_columns = rq->ncols;
    ro.file_version = file_version;
    struct ArrowArrayStream s;
    int rc = pond_table_read_stream(&s, rq->fs, rq->wd, rq->path, &ro);
    if (rc < 0)
        return rc;
    rc = append_stream(e, &s, rq, limit, fits);
    s.release(&s);
    return rc;
}

/* ---- answering from an entry -------------------------------------------------------------------- */

static void fold_entry(pond_buckets *out, const entry *e)
{
    bk_grid g;
    bk_grid_init(&g, out->from_us, out->to_us, out->n);
    int64_t from = out->from_us, to = out->to_us;
    for (int64_t q = 0; q < e->nblk; q++) {
        int64_t mn = e->bmin[q], mx = e->bmax[q];
        if (mx < from || mn >= to)
            continue;
        int64_t lo = q * BLOCK, hi = lo + BLOCK < e->n ? lo + BLOCK : e->n;
        if (mn >= from && mx < to) {
            int64_t a = bk_bucket(&g, mn);
            if (mx < g.hi) { /* the whole block lies in bucket a */
                out->rows_read += hi - lo;
                for (size_t k = 0; k < e->ncols; k++)
                    bk_merge(&out->cells[k * (size_t)out->n + (size_t)a], &e->b[k][q]);
                continue;
            }
        }
        for (int64_t r = lo; r < hi; r++) {
            int64_t t = e->t[r];
            if (t < from || t >= to)
                continue;
            int64_t bi = bk_bucket(&g, t);
            out->rows_read++;
            for (size_t k = 0; k < e->ncols; k++)
                bk_add(&out->cells[k * (size_t)out->n + (size_t)bi], e->v[k][r]);
        }
    }
}

/* ---- the cache ----------------------------------------------------------------------------------- */

static void unlink_entry(pond_buckets_cache *c, entry *e)
{
    for (entry **p = &c->list; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            break;
        }
    c->bytes -= e->bytes;
}

/* Drops idle entries, least recently used first, until need more bytes fit. */
static void make_room(pond_buckets_cache *c, size_t need, const entry *keep)
{
    while (c->bytes + need > c->max) {
        entry *victim = NULL;
        for (entry *e = c->list; e; e = e->next)
            if (e != keep && !e->busy && !e->refs && (!victim || e->used < victim->used))
                victim = e;
        if (!victim)
            return;
        unlink_entry(c, victim);
        entry_free(victim);
    }
}

/* The entry's size changed by its owner (busy): account for it. */
static void resize(pond_buckets_cache *c, entry *e)
{
    size_t now = entry_bytes(e);
    c->bytes = c->bytes - e->bytes + now;
    e->bytes = now;
}

int pond_table__buckets_cached(pond_buckets *out, pond_buckets_cache *c, const bk_request *rq)
{
    pond_stat st, *vs = NULL;
    size_t nv = 0;
    char *key = NULL;
    int rc = pond_fs_stat(&st, rq->fs, rq->wd, rq->path);
    if (rc == 0)
        rc = pond_fs_versions(&vs, &nv, rq->fs, rq->wd, rq->path);
    if (rc == 0)
        rc = make_key(&key, &st, rq);
    if (rc < 0) {
        pond_free(vs);
        return rc;
    }
    pthread_mutex_lock(&c->mu);
    entry *e;
again:
    for (e = c->list; e && strcmp(e->key, key) != 0; e = e->next)
        ;
    if (e && e->busy) {
        pthread_cond_wait(&c->cv, &c->mu);
        goto again;
    }
    if (e && e->too_big) {
        pthread_mutex_unlock(&c->mu);
        pond_free(vs);
        pond_free(key);
        return POND_ENOTFOUND;
    }
    /* how the entry's versions relate to the series' */
    size_t common = 0;
    while (e && common < e->n_vers && common < nv && same_vsig(&e->vers[common], &vs[common]))
        common++;
    bool hit = e && common == e->n_vers && common == nv;
    /* under dedup=last a later version may hide rows, even of its own: build anew */
    bool later_only = e && common == e->n_vers && common < nv && !rq->dedup &&
                      rq->newest_replacing < vs[common].version;
    for (size_t i = common; later_only && i < nv; i++)
        later_only =
            vs[i].size == 0 || (vs[i].has_event_time && vs[i].min_event_time_us > e->t_max);
    bool older_view = e && common == nv && common < e->n_vers; /* a handle not yet refreshed */
    pond_buckets_source source = hit          ? POND_BUCKETS_CACHED
                                 : later_only ? POND_BUCKETS_EXTENDED
                                              : POND_BUCKETS_BUILT;
    if (older_view || (source == POND_BUCKETS_BUILT && !rq->covers_most)) {
        pthread_mutex_unlock(&c->mu);
        pond_free(vs);
        pond_free(key);
        return POND_ENOTFOUND; /* scan the range */
    }
    if (source != POND_BUCKETS_CACHED) {
        /* take the entry for writing: new readers wait, current ones finish */
        if (!e) {
            if (!(e = pond_calloc(1, sizeof *e)) ||
                !(e->v = pond_calloc((size_t)rq->ncols, sizeof *e->v)) ||
                !(e->b = pond_calloc((size_t)rq->ncols, sizeof *e->b))) {
                entry_free(e);
                rc = POND_ENOMEM;
                goto done;
            }
            e->key = key;
            key = NULL;
            e->ncols = (size_t)rq->ncols - 1;
            e->t_max = INT64_MIN;
            e->next = c->list;
            c->list = e;
        }
        e->busy = true;
        while (e->refs)
            pthread_cond_wait(&c->cv, &c->mu);
        size_t limit = c->max;
        pthread_mutex_unlock(&c->mu);
        bool fits = true;
        int64_t first_new = e->n;
        if (source == POND_BUCKETS_BUILT) {
            entry_clear(e);
            first_new = 0;
            rc = read_into(e, rq, 0, limit, &fits);
        } else {
            for (size_t i = common; rc == 0 && fits && i < nv; i++)
                if (vs[i].size > 0)
                    rc = read_into(e, rq, vs[i].version, limit, &fits);
        }
        if (rc == 0 && fits)
            rc = shrink(e);
        if (rc == 0 && fits)
            rc = index_blocks(e, first_new);
        vsig *sig = NULL;
        if (rc == 0 && fits && !(sig = pond_calloc(nv ? nv : 1, sizeof *sig)))
            rc = POND_ENOMEM;
        for (size_t i = 0; sig && i < nv; i++)
            sig[i] = (vsig){vs[i].version, vs[i].size, vs[i].sha256};
        pthread_mutex_lock(&c->mu);
        e->busy = false;
        if (rc < 0) {
            unlink_entry(c, e);
            entry_free(e);
            pthread_cond_broadcast(&c->cv);
            goto done;
        }
        if (!fits) {
            /* a series too big for the cache is scanned by its range from now on */
            entry_clear(e);
            e->too_big = true;
            resize(c, e);
            pthread_cond_broadcast(&c->cv);
            rc = POND_ENOTFOUND;
            goto done;
        }
        pond_free(e->vers);
        e->vers = sig;
        e->n_vers = nv;
        resize(c, e);
        make_room(c, 0, e);
        if (c->bytes > c->max) { /* the others are in use: drop this one after the answer */
            unlink_entry(c, e);
            e->next = NULL;
            pthread_cond_broadcast(&c->cv);
            pthread_mutex_unlock(&c->mu);
            fold_entry(out, e);
            entry_free(e);
            out->source = source;
            pthread_mutex_lock(&c->mu);
            goto done;
        }
        pthread_cond_broadcast(&c->cv);
    }
    e->refs++;
    e->used = ++c->clock;
    pthread_mutex_unlock(&c->mu);
    fold_entry(out, e);
    out->source = source;
    pthread_mutex_lock(&c->mu);
    if (--e->refs == 0)
        pthread_cond_broadcast(&c->cv);
done:
    pthread_mutex_unlock(&c->mu);
    pond_free(vs);
    pond_free(key);
    return rc;
}
