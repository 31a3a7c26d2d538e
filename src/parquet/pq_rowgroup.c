/* Reading one row group: page pruning with the column and offset indexes, and decoding the
 * projected columns on a small thread pool. */
#include <pond/parquet.h>

#include "parquet/pq_reader.h"
#include "parquet/pq_share.h"

#include "util/util.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Row groups whose projected columns hold less than this (uncompressed) decode on the
 * caller's thread: waking workers costs more than it saves. */
#define PARALLEL_MIN_BYTES ((int64_t)512 << 10)

/* ---------------------------------------------------------------- page indexes */

/* Read and decode an index structure at [off, off+len). *found is false when the chunk has
 * none or it is unusable (out of the file, too large, undecodable): pruning is optional, so a
 * bad index only means reading the whole chunk. Only allocation and I/O failures are errors. */
static int load_index(pond_parquet_reader *r, pq_arena *a, int64_t off, int32_t len,
                      bool column_index, void *out, bool *found)
{
    *found = false;
    if (off < 4 || len <= 0 || off > r->src.size || len > r->src.size - off ||
        (size_t)len > r->max_alloc)
        return 0;
    uint8_t *buf = pond__arena_zalloc(a, (size_t)len);
    if (!buf)
        return POND_ENOMEM;
    size_t got = 0;
    int rc = r->src.read_at(off, buf, (size_t)len, &got, r->src.payload);
    if (rc < 0)
        return rc;
    if (got != (size_t)len)
        return 0;
    pq_tdec d;
    pond_pq_tdec_init(&d, buf, (size_t)len, off, column_index ? "column index" : "offset index");
    rc = column_index ? pond_pq_decode_column_index(out, a, &d)
                      : pond_pq_decode_offset_index(out, a, &d);
    if (rc == POND_ENOMEM)
        return rc;
    *found = rc == 0;
    return 0;
}

static int load_offset_index(pond_parquet_reader *r, const pq_column_chunk *cc, int64_t num_rows,
                             pq_arena *a, pq_offset_index *oi, bool *ok)
{
    int rc = load_index(r, a, cc->offset_index_offset, cc->offset_index_length, false, oi, ok);
    if (rc == 0 && *ok)
        *ok = pond_pq_chunk_pages_ok(cc, oi, num_rows);
    return rc;
}

/* Whether page i of a column index may hold a value in the predicate's range. */
static bool page_may_match(const pq_pred *p, const pq_column_index *ci, uint32_t i,
                           const pq_leaf_desc *leaf)
{
    int physical = leaf->physical;
    /* only nulls: no value lies in any range. Trusted only when it can be true: some
     * writers mark every page of a required column as null when they kept no statistics */
    if (ci->null_pages[i] && leaf->max_def > 0 &&
        (ci->n_null_counts == 0 || ci->null_counts[i] > 0))
        return false;
    return pond_pq_stats_may_match(p, physical, ci->min_values[i], ci->max_values[i]);
}

/* Appends [a, b) to the n sorted intervals of v (room for one more), joined to the last one
 * when it starts where that one ends; returns the new count. */
static size_t push_interval(int64_t *v, size_t n, int64_t a, int64_t b)
{
    if (n && v[2 * n - 1] == a) {
        v[2 * n - 1] = b;
        return n;
    }
    v[2 * n] = a;
    v[2 * n + 1] = b;
    return n + 1;
}

/* Intersect the sorted, disjoint intervals x (nx) with y (ny) into out (room for nx + ny). */
static size_t intersect(int64_t *out, const int64_t *x, size_t nx, const int64_t *y, size_t ny)
{
    size_t i = 0, j = 0, n = 0;
    while (i < nx && j < ny) {
        int64_t a = POND_MAX(x[2 * i], y[2 * j]), b = POND_MIN(x[2 * i + 1], y[2 * j + 1]);
        if (a < b) {
            out[2 * n] = a;
            out[2 * n + 1] = b;
            n++;
        }
        if (x[2 * i + 1] < y[2 * j + 1])
            i++;
        else
            j++;
    }
    return n;
}

/* The rows of row group rgi that may match every predicate with a usable page index, as
 * sorted, disjoint intervals [iv[2k], iv[2k+1]) allocated in a. */
static int row_ranges(pond_parquet_reader *r, int rgi, pq_arena *a, int64_t **iv_out, size_t *n_out)
{
    const pq_row_group *rg = &r->meta.row_groups[rgi];
    int64_t *iv = pond__arena_zalloc(a, 2 * sizeof *iv);
    if (!iv)
        return POND_ENOMEM;
    iv[0] = 0;
    iv[1] = rg->num_rows;
    size_t n = rg->num_rows > 0;
    for (int k = 0; k < r->n_preds && n > 0; k++) {
        const pq_pred *p = &r->preds[k];
        const pq_column_chunk *cc = &rg->columns[p->leaf];
        pq_offset_index oi;
        pq_column_index ci;
        bool ok_oi, ok_ci;
        int rc = load_offset_index(r, cc, rg->num_rows, a, &oi, &ok_oi);
        if (rc == 0 && ok_oi)
            rc = load_index(r, a, cc->column_index_offset, cc->column_index_length, true, &ci,
                            &ok_ci);
        if (rc < 0)
            return rc;
        if (!ok_oi || !ok_ci || ci.n_pages != oi.n_pages || !ci.null_pages)
            continue;
        int64_t *pv = pond__arena_zalloc(a, 2 * (size_t)oi.n_pages * sizeof *pv);
        int64_t *nv = pond__arena_zalloc(a, 2 * ((size_t)oi.n_pages + n) * sizeof *nv);
        if (!pv || !nv)
            return POND_ENOMEM;
        size_t np = 0;
        const pq_leaf_desc *leaf = &r->schema.leaves[p->leaf]->desc;
        for (uint32_t i = 0; i < oi.n_pages; i++) {
            if (!page_may_match(p, &ci, i, leaf))
                continue;
            int64_t f = oi.pages[i].first_row_index;
            int64_t e = i + 1 < oi.n_pages ? oi.pages[i + 1].first_row_index : rg->num_rows;
            np = push_interval(pv, np, f, e);
        }
        n = intersect(nv, iv, n, pv, np);
        iv = nv;
    }
    *iv_out = iv;
    *n_out = n;
    return 0;
}

/* ---------------------------------------------------------------- one column */

typedef struct {
    pond_parquet_reader *r;
    int rgi;
    const int64_t *iv; /* row intervals to keep (NULL: all rows) */
    size_t n_iv;
    int64_t rows_out;
    struct ArrowArray *out;
    pq_chunk *chunks;
    _Atomic int next; /* next projected column to take */
    _Atomic bool failed;
    _Atomic int64_t pages_read, pages_skipped;
    int *rc; /* per projected column */
    int *dom;
    char (*msg)[256];
} rg_job;

/* Choose the pages of one chunk that hold rows of the kept intervals; loc gets the kept
 * intervals in the chunk's decoded level positions. Returns the interval count. */
static size_t select_pages(const pq_offset_index *oi, int64_t num_rows, const int64_t *iv,
                           size_t n_iv, uint8_t *sel, int64_t *loc, int64_t *n_read)
{
    int64_t base = 0;
    size_t j = 0, n = 0;
    *n_read = 0;
    for (uint32_t i = 0; i < oi->n_pages; i++) {
        int64_t f = oi->pages[i].first_row_index;
        int64_t e = i + 1 < oi->n_pages ? oi->pages[i + 1].first_row_index : num_rows;
        while (j < n_iv && iv[2 * j + 1] <= f)
            j++;
        sel[i] = j < n_iv && iv[2 * j] < e;
        if (!sel[i])
            continue;
        (*n_read)++;
        for (size_t k = j; k < n_iv && iv[2 * k] < e; k++) {
            int64_t la = base + POND_MAX(iv[2 * k], f) - f;
            int64_t lb = base + POND_MIN(iv[2 * k + 1], e) - f;
            n = push_interval(loc, n, la, lb);
        }
        base += e - f;
    }
    return n;
}

static int decode_column(rg_job *g, int p, pq_scratch *s)
{
    pond_parquet_reader *r = g->r;
    const pq_row_group *rg = &r->meta.row_groups[g->rgi];
    const pq_node *n = r->schema.root->children[r->proj[p]];
    pq_chunk_opts co = {.read_at = r->src.read_at,
                        .payload = r->src.payload,
                        .file_size = r->src.size,
                        .max_bytes = r->max_alloc,
                        .verify_crc = r->verify_crc,
                        .scratch = s,
                        .chunk_rows = rg->num_rows,
                        .cache = r->cache};
    int rc = 0;
    for (int l = n->first_leaf; rc == 0 && l < n->first_leaf + n->n_leaves; l++) {
        const pq_leaf_desc *desc = &r->schema.leaves[l]->desc;
        const pq_column_chunk *cc = &rg->columns[l];
        pq_arena a = {0};
        const int64_t *keep = g->iv;
        size_t n_keep = g->n_iv;
        pq_offset_index oi;
        bool ok = false;
        if (g->iv && (rc = load_offset_index(r, cc, rg->num_rows, &a, &oi, &ok)) == 0 && ok) {
            uint8_t *sel = pond__arena_zalloc(&a, oi.n_pages);
            int64_t *loc = pond__arena_zalloc(&a, 2 * ((size_t)oi.n_pages + g->n_iv) * sizeof *loc);
            if (!sel || !loc) {
                rc = POND_ENOMEM;
            } else {
                int64_t nr;
                n_keep = select_pages(&oi, rg->num_rows, g->iv, g->n_iv, sel, loc, &nr);
                keep = loc;
                co.pages = &oi;
                co.page_sel = sel;
                atomic_fetch_add(&g->pages_read, nr);
                atomic_fetch_add(&g->pages_skipped, (int64_t)oi.n_pages - nr);
            }
        }
        if (rc == 0)
            rc = pond_pq_chunk_read(&g->chunks[l], desc, cc, &co);
        if (rc == 0 && keep)
            pond_pq_chunk_keep(&g->chunks[l], desc, keep, n_keep);
        co.pages = NULL;
        co.page_sel = NULL;
        pond__arena_dispose(&a);
    }
    if (rc == 0)
        rc = pond_pq_assemble(g->out->children[p], n, g->chunks);
    if (rc == 0 && g->out->children[p]->length != g->rows_out)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                            "column '%s' has %" PRId64 " rows, the row group says %" PRId64,
                            n->name, g->out->children[p]->length, g->rows_out);
    for (int l = n->first_leaf; l < n->first_leaf + n->n_leaves; l++)
        pond_pq_chunk_dispose(&g->chunks[l]);
    return rc;
}

/* Decodes projected column p; a failure is kept for that column (the thread's error is
 * another thread's to report) and stops the job's other columns. */
static void decode_one(rg_job *g, int p, pq_scratch *s)
{
    int rc = decode_column(g, p, s);
    if (rc < 0) {
        const pond_error *e = pond_error_last();
        g->rc[p] = rc;
        g->dom[p] = e->domain;
        snprintf(g->msg[p], sizeof g->msg[p], "%s", e->message);
        atomic_store(&g->failed, true);
    }
}

/* Take columns until none is left (or one failed); errors are kept per column. */
static void run_job(rg_job *g, pq_scratch *s)
{
    for (;;) {
        int p = atomic_fetch_add(&g->next, 1);
        if (p >= g->r->n_proj || atomic_load(&g->failed))
            return;
        decode_one(g, p, s);
    }
}

/* ---------------------------------------------------------------- column pool */

/* One projected column of the job on pool slot `slot` (0: the caller's scratch). */
static void column_task(void *payload, int p, int slot)
{
    rg_job *g = payload;
    pond_parquet_reader *r = g->r;
    if (atomic_load(&g->failed))
        return;
    decode_one(g, p, slot == 0 ? &r->scratch : &r->wscratch[slot - 1]);
}

/* The reader's column pool (src/util/pool.c), started on first use; *out is NULL when no
 * worker could be started (the caller then decodes alone). */
static int pool_get(pond_parquet_reader *r, pond_pool **out)
{
    int rc;
    *out = NULL;
    if (!r->pool) {
        if (!r->wscratch &&
            !(r->wscratch = pond_calloc((size_t)(r->threads - 1), sizeof *r->wscratch)))
            return POND_ENOMEM;
        if ((rc = pond__pool_new(&r->pool, r->threads)) < 0)
            return rc;
    }
    *out = pond__pool_threads(r->pool) > 1 ? r->pool : NULL;
    return 0;
}

static void ra_free(struct pq_ra *ra);

void pond_pq_reader_threads_free(pond_parquet_reader *r)
{
    ra_free(r->ra);
    r->ra = NULL;
    pond__pool_free(r->pool); /* joins the workers before their scratch goes */
    r->pool = NULL;
    if (r->wscratch) {
        for (int i = 0; i < r->threads - 1; i++)
            pond_pq_scratch_dispose(&r->wscratch[i]);
        pond_free(r->wscratch);
        r->wscratch = NULL;
    }
}

/* ---------------------------------------------------------------- row group */

static bool projection_flat(const pond_parquet_reader *r)
{
    for (int p = 0; p < r->n_proj; p++) {
        const pq_node *n = r->schema.root->children[r->proj[p]];
        for (int l = n->first_leaf; l < n->first_leaf + n->n_leaves; l++)
            if (r->schema.leaves[l]->desc.max_rep > 0)
                return false;
    }
    return true;
}

static int64_t projected_bytes(const pond_parquet_reader *r, const pq_row_group *rg)
{
    int64_t total = 0;
    for (int p = 0; p < r->n_proj; p++) {
        const pq_node *n = r->schema.root->children[r->proj[p]];
        for (int l = n->first_leaf; l < n->first_leaf + n->n_leaves; l++) {
            const pq_column_chunk *cc = &rg->columns[l];
            if (cc->has_meta_data && cc->meta_data.total_uncompressed_size > 0)
                total += POND_MIN(cc->meta_data.total_uncompressed_size, INT64_MAX / 128);
        }
    }
    return total;
}

/* Decode row group rgi with scratch s; the column pool only when use_pool. */
static int read_rg(pond_parquet_reader *r, int rgi, struct ArrowArray *out, bool prune,
                   bool *empty_out, pq_scratch *s, bool use_pool)
{
    memset(out, 0, sizeof *out);
    if (empty_out)
        *empty_out = false;
    if (rgi < 0 || (uint32_t)rgi >= r->meta.n_row_groups)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "row group %d out of range", rgi);
    const pq_row_group *rg = &r->meta.row_groups[rgi];
    int nl = r->schema.n_leaves, np = r->n_proj;
    pq_arena ra = {0};
    rg_job g = {.r = r, .rgi = rgi, .out = out, .rows_out = rg->num_rows};
    int rc = 0;
    if (prune && r->page_index && r->n_preds > 0 && projection_flat(r)) {
        int64_t *iv;
        size_t n;
        if ((rc = row_ranges(r, rgi, &ra, &iv, &n)) < 0)
            goto done;
        if (n == 0 && rg->num_rows > 0) {
            *empty_out = true;
            goto done;
        }
        if (n > 0 && !(n == 1 && iv[0] == 0 && iv[1] == rg->num_rows)) {
            g.iv = iv;
            g.n_iv = n;
            g.rows_out = 0;
            for (size_t k = 0; k < n; k++)
                g.rows_out += iv[2 * k + 1] - iv[2 * k];
        }
    }
    g.chunks = pond_calloc((size_t)(nl ? nl : 1), sizeof *g.chunks);
    g.rc = pond_calloc((size_t)(np ? np : 1), sizeof *g.rc);
    g.dom = pond_calloc((size_t)(np ? np : 1), sizeof *g.dom);
    g.msg = pond_calloc((size_t)(np ? np : 1), sizeof *g.msg);
    if (!g.chunks || !g.rc || !g.dom || !g.msg) {
        rc = POND_ENOMEM;
        goto done;
    }
    if ((rc = pond_arrow_array_init(out, g.rows_out, 0, 1, np)) < 0)
        goto done;
    pond_pool *pl = NULL;
    if (use_pool && r->threads > 1 && np > 1 && projected_bytes(r, rg) >= PARALLEL_MIN_BYTES &&
        (rc = pool_get(r, &pl)) < 0)
        goto done;
    if (pl)
        pond__pool_run(pl, np, column_task, &g);
    else
        run_job(&g, s);
    r->pages_read += g.pages_read;
    r->pages_skipped += g.pages_skipped;
    for (int p = 0; p < np; p++) {
        if (g.rc[p] < 0) {
            rc = pond_error_set(g.rc[p], g.dom[p], "%s", g.msg[p]);
            break;
        }
    }
done:
    pond_free(g.chunks);
    pond_free(g.rc);
    pond_free(g.dom);
    pond_free(g.msg);
    pond__arena_dispose(&ra);
    if (rc < 0) {
        pond_arrow_array_release(out);
        if (rc != POND_ENOMEM)
            pond_error_prefix("row group %d", rgi);
    }
    return rc;
}

int pond_pq_read_row_group(pond_parquet_reader *r, int rgi, struct ArrowArray *out, bool prune,
                           bool *empty_out)
{
    return read_rg(r, rgi, out, prune, empty_out, &r->scratch, true);
}

/* ---------------------------------------------------------------- read-ahead */

/* With threads > 1, next() decodes whole row groups on threads-1 workers and the caller's
 * thread, in file order, into at most `threads` slots: workers run ahead while the caller
 * consumes, and nobody waits at a per-row-group barrier. Memory: up to `threads` decoded row
 * groups besides the one the caller holds. Prune calls must come before the first next(). */
#define RA_MAX 16

typedef struct {
    int rgi; /* -1: free */
    bool done, empty;
    struct ArrowArray out;
    int rc, dom;
    char msg[256];
} ra_slot;

struct pq_ra {
    pond_parquet_reader *r;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool quit;
    uint32_t assign_next; /* row groups below are assigned (or skipped) */
    int n_slots, n_threads;
    ra_slot slots[RA_MAX];
    pq_scratch scratch[RA_MAX];
    pthread_t th[RA_MAX];
    struct ra_worker {
        struct pq_ra *ra;
        int idx;
    } w[RA_MAX];
};

/* The next selected row group at or after `from` (n_row_groups when none). */
static uint32_t next_selected(const pond_parquet_reader *r, uint32_t from)
{
    while (from < r->meta.n_row_groups && !r->rg_selected[from])
        from++;
    return from;
}

static ra_slot *free_slot(struct pq_ra *ra)
{
    for (int i = 0; i < ra->n_slots; i++)
        if (ra->slots[i].rgi < 0)
            return &ra->slots[i];
    return NULL;
}

/* Decode into a claimed slot (called without the lock), then publish it. */
static void ra_decode(struct pq_ra *ra, ra_slot *sl, pq_scratch *s)
{
    struct ArrowArray out;
    bool empty = false;
    int rc = read_rg(ra->r, sl->rgi, &out, true, &empty, s, false);
    int dom = 0;
    char msg[256] = "";
    if (rc < 0) {
        dom = pond_error_last()->domain;
        snprintf(msg, sizeof msg, "%s", pond_error_last()->message);
    }
    pthread_mutex_lock(&ra->mu);
    sl->out = out;
    sl->empty = empty;
    sl->rc = rc;
    sl->dom = dom;
    memcpy(sl->msg, msg, sizeof msg);
    sl->done = true;
    pthread_cond_broadcast(&ra->cv);
    pthread_mutex_unlock(&ra->mu);
}

/* Claim the next unassigned row group into a free slot (lock held); NULL if none. */
static ra_slot *ra_claim(struct pq_ra *ra)
{
    uint32_t g = next_selected(ra->r, ra->assign_next);
    if (g >= ra->r->meta.n_row_groups)
        return NULL;
    ra_slot *sl = free_slot(ra);
    if (!sl)
        return NULL;
    sl->rgi = (int)g;
    sl->done = false;
    ra->assign_next = g + 1;
    return sl;
}

static void *ra_main(void *arg)
{
    struct ra_worker *w = arg;
    struct pq_ra *ra = w->ra;
    pthread_mutex_lock(&ra->mu);
    while (!ra->quit) {
        ra_slot *sl = ra_claim(ra);
        if (!sl) {
            pthread_cond_wait(&ra->cv, &ra->mu);
            continue;
        }
        pthread_mutex_unlock(&ra->mu);
        ra_decode(ra, sl, &ra->scratch[w->idx]);
        pthread_mutex_lock(&ra->mu);
    }
    pthread_mutex_unlock(&ra->mu);
    return NULL;
}

static void ra_free(struct pq_ra *ra)
{
    if (!ra)
        return;
    pthread_mutex_lock(&ra->mu);
    ra->quit = true;
    pthread_cond_broadcast(&ra->cv);
    pthread_mutex_unlock(&ra->mu);
    for (int i = 0; i < ra->n_threads; i++)
        pthread_join(ra->th[i], NULL);
    for (int i = 0; i < ra->n_slots; i++)
        if (ra->slots[i].rgi >= 0 && ra->slots[i].done)
            pond_arrow_array_release(&ra->slots[i].out);
    for (int i = 0; i < RA_MAX; i++)
        pond_pq_scratch_dispose(&ra->scratch[i]);
    pthread_cond_destroy(&ra->cv);
    pthread_mutex_destroy(&ra->mu);
    pond_free(ra);
}

/* The reader's own buffer cache, for a read of more than one row group (a scan gave it its
 * own before). */
static int own_cache(pond_parquet_reader *r)
{
    if (r->cache)
        return 0;
    int rc = pond__bufcache_new(&r->cache, PQ_CACHE_BYTES);
    r->own_cache = rc == 0;
    return rc;
}

/* Start read-ahead when it can pay: threads allowed, at least two selected row groups left
 * and the first one large enough. *out NULL otherwise (no error). */
static int ra_start(pond_parquet_reader *r, struct pq_ra **out)
{
    *out = NULL;
    if (r->threads < 2)
        return 0;
    uint32_t a = next_selected(r, r->next_rg);
    if (a >= r->meta.n_row_groups || next_selected(r, a + 1) >= r->meta.n_row_groups ||
        projected_bytes(r, &r->meta.row_groups[a]) < PARALLEL_MIN_BYTES)
        return 0;
    int rc = own_cache(r);
    if (rc < 0)
        return rc;
    struct pq_ra *ra = pond_calloc(1, sizeof *ra);
    if (!ra)
        return POND_ENOMEM;
    if (pthread_mutex_init(&ra->mu, NULL) != 0) {
        pond_free(ra);
        return 0;
    }
    if (pthread_cond_init(&ra->cv, NULL) != 0) {
        pthread_mutex_destroy(&ra->mu);
        pond_free(ra);
        return 0;
    }
    ra->r = r;
    ra->assign_next = r->next_rg;
    ra->n_slots = POND_MIN(r->threads, RA_MAX);
    for (int i = 0; i < ra->n_slots; i++)
        ra->slots[i].rgi = -1;
    for (int i = 0; i < ra->n_slots - 1; i++) {
        ra->w[i].ra = ra;
        ra->w[i].idx = i + 1; /* scratch[0] is the caller's */
        if (pthread_create(&ra->th[i], NULL, ra_main, &ra->w[i]) != 0)
            break;
        ra->n_threads = i + 1;
    }
    if (ra->n_threads == 0) {
        ra_free(ra);
        return 0;
    }
    *out = ra;
    return 0;
}

/* The caller's side: deliver the next row group in order, helping with decoding. */
static int ra_next(struct pq_ra *ra, struct ArrowArray *out, bool *have)
{
    pond_parquet_reader *r = ra->r;
    *have = false;
    pthread_mutex_lock(&ra->mu);
    for (;;) {
        uint32_t target = next_selected(r, r->next_rg);
        if (target >= r->meta.n_row_groups) {
            pthread_mutex_unlock(&ra->mu);
            return POND_ITEROVER;
        }
        ra_slot *sl = NULL;
        for (int i = 0; i < ra->n_slots; i++) {
            ra_slot *x = &ra->slots[i];
            if (x->rgi >= 0 && x->done && (uint32_t)x->rgi < target) { /* pruned since */
                pond_arrow_array_release(&x->out);
                x->rgi = -1;
            } else if (x->rgi == (int)target) {
                sl = x;
            }
        }
        if (sl && sl->done) {
            int rc = sl->rc;
            bool empty = sl->empty;
            if (rc < 0)
                pond_error_set(rc, sl->dom, "%s", sl->msg);
            else
                pond_arrow_array_move(out, &sl->out);
            sl->rgi = -1;
            if (rc == 0)
                r->next_rg = target + 1; /* after an error, a retry decodes it directly */
            pthread_cond_broadcast(&ra->cv);
            pthread_mutex_unlock(&ra->mu);
            if (rc < 0)
                return rc;
            if (empty) { /* no page can match: the next one */
                pthread_mutex_lock(&ra->mu);
                continue;
            }
            *have = true;
            return 0;
        }
        if (!sl && ra->assign_next > target) {
            /* assigned before and gone: its decoding failed; decode it here (again) */
            pthread_mutex_unlock(&ra->mu);
            bool empty = false;
            int rc = read_rg(r, (int)target, out, true, &empty, &ra->scratch[0], false);
            if (rc < 0)
                return rc;
            r->next_rg = target + 1;
            if (!empty) {
                *have = true;
                return 0;
            }
            pthread_mutex_lock(&ra->mu);
            continue;
        }
        /* help: decode the next unassigned row group (the target itself when it is) */
        ra_slot *mine = ra_claim(ra);
        if (mine) {
            pthread_mutex_unlock(&ra->mu);
            ra_decode(ra, mine, &ra->scratch[0]);
            pthread_mutex_lock(&ra->mu);
            continue;
        }
        pthread_cond_wait(&ra->cv, &ra->mu);
    }
}

int pond_pq_next_row_group(pond_parquet_reader *r, struct ArrowArray *out)
{
    memset(out, 0, sizeof *out);
    int rc;
    if (!r->ra && (rc = ra_start(r, &r->ra)) < 0)
        return rc;
    if (r->ra) {
        bool have;
        rc = ra_next(r->ra, out, &have);
        return rc;
    }
    /* more than one row group to read: the later ones decode into the earlier ones' buffers */
    uint32_t a = next_selected(r, r->next_rg);
    if (a < r->meta.n_row_groups && next_selected(r, a + 1) < r->meta.n_row_groups &&
        (rc = own_cache(r)) < 0)
        return rc;
    bool empty = true;
    while (empty) { /* a row group where no page can match is skipped */
        r->next_rg = next_selected(r, r->next_rg);
        if (r->next_rg >= r->meta.n_row_groups)
            return POND_ITEROVER;
        if ((rc = pond_pq_read_row_group(r, (int)r->next_rg, out, true, &empty)) < 0)
            return rc;
        r->next_rg++;
    }
    return 0;
}

int pond_pq_prefetch(pond_parquet_reader *r) { return r->ra ? 0 : ra_start(r, &r->ra); }

bool pond_pq_draining(const pond_parquet_reader *r)
{
    struct pq_ra *ra = r->ra;
    if (!ra)
        return next_selected(r, next_selected(r, r->next_rg) + 1) >= r->meta.n_row_groups;
    pthread_mutex_lock(&ra->mu);
    bool d = next_selected(r, ra->assign_next) >= r->meta.n_row_groups;
    pthread_mutex_unlock(&ra->mu);
    return d;
}
