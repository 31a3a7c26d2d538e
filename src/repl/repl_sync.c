/* Push, pull and clone: one fast-forward algorithm between a source and a destination
 * transport; verify and compare (docs/replication.md, "Push and pull").
 *
 * 1. Both logs are compared by the SHA-256 of commit files (the head and, on a mismatch, a
 *    binary search): the destination must be at a transaction of the source.
 * 2. The commits the destination lacks are scanned for the data files they add; files the
 *    source no longer has (retention) mean intermediate transactions cannot be rebuilt, and
 *    the destination is started from the source's oldest checkpoint after them.
 * 3. In batches: data files the destination lacks, then the blobs they refer to that it lacks,
 *    then a sync (all durable), then the batch's commits in order (put-if-absent) and their
 *    checkpoints. An interrupted run leaves the destination at a transaction of the source; the
 *    next one finds what arrived (have) and does not send it again. */
#include "repl/repl_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_COMMITS 512
#define HAVE_BATCH 512
#define MAX_COMMIT_BYTES ((size_t)256 << 20)
/* Commit texts read while planning are kept for sending up to this much; the rest are read
 * again when sent (a long history never sits in memory whole). */
#define KEEP_COMMIT_BYTES ((size_t)64 << 20)

typedef struct {
    repl_remote *src, *dst;
    repl_info si, di;
    pond_repl_report *rep;
    const pond_repl_options *o;
} sync_ctx;

static void note(const pond_repl_options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(const pond_repl_options *o, const char *fmt, ...)
{
    if (!o || !o->note)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o->note(msg, o->payload);
}

static int64_t head_commit(const repl_info *i) { return i->head_is_commit ? i->head : i->head - 1; }

static int commit_hash(pond_hash *out, bool *present, repl_remote *r, int64_t v)
{
    repl_obj o = {.kind = REPL_COMMIT, .version = v};
    (void)pond_repl_obj_check(&o);
    return r->t->hash_log(out, present, r, &o, 1);
}

/* 1 when both have commit v with the same bytes, 0 when not, < 0 on error. */
static int same_commit(sync_ctx *c, int64_t v)
{
    pond_hash a, b;
    bool pa, pb;
    int rc = commit_hash(&a, &pa, c->src, v);
    if (rc == 0)
        rc = commit_hash(&b, &pb, c->dst, v);
    if (rc < 0)
        return rc;
    return pa && pb && pond_hash_equal(&a, &b);
}

/* The relation of the destination to the source (see pond_repl_compare). */
static int relate(pond_repl_status *st, sync_ctx *c)
{
    st->local_head = c->si.head;
    st->remote_head = c->di.exists ? c->di.head : -1;
    st->common = -1;
    if (!c->di.exists || c->di.head < 0) {
        st->relation = POND_REPL_MISSING;
        return 0;
    }
    if (strcmp(c->si.pond_id, c->di.pond_id) != 0) {
        st->relation = POND_REPL_UNRELATED;
        return 0;
    }
    int64_t lo = c->si.low > c->di.low ? c->si.low : c->di.low;
    int64_t sh = head_commit(&c->si), dh = head_commit(&c->di);
    int64_t hi = sh < dh ? sh : dh;
    if (lo > hi) {
        /* no commit on both sides: the destination is older than the oldest commit the source
         * still has (its log was cleaned up); the same table id is all there is to go by */
        st->relation = c->di.head < c->si.low ? POND_REPL_BEHIND : POND_REPL_DIVERGED;
        return 0;
    }
    int rc = same_commit(c, hi);
    if (rc < 0)
        return rc;
    int64_t common = -1;
    if (rc == 1) {
        common = hi;
    } else if ((rc = same_commit(c, lo)) < 0) {
        return rc;
    } else if (rc == 1) {
        /* logs agree up to some version in [lo, hi): find the last (they never re-agree) */
        int64_t a = lo, b = hi;
        while (b - a > 1) {
            int64_t m = a + (b - a) / 2;
            if ((rc = same_commit(c, m)) < 0)
                return rc;
            *(rc ? &a : &b) = m;
        }
        common = a;
    }
    st->common = common;
    if (common == hi && c->si.head == c->di.head)
        st->relation = POND_REPL_SAME;
    else if (common == hi && hi == dh && c->di.head < c->si.head)
        st->relation = POND_REPL_BEHIND;
    else if (common == hi && hi == sh && c->si.head < c->di.head)
        st->relation = POND_REPL_AHEAD;
    else
        st->relation = POND_REPL_DIVERGED;
    return 0;
}

/* ---- the commits to send ------------------------------------------------------------------- */

typedef struct {
    repl_obj obj;
    int64_t added, removed; /* versions; removed INT64_MAX when still live at the head */
    bool at_source;
} plan_file;

typedef struct {
    plan_file *v;
    size_t n, cap;
    char **bytes; /* commit texts, by version - first */
    size_t *lens;
    int64_t first, last;
    int64_t *checkpoints; /* source checkpoint versions in [first-1, last] */
    size_t n_cp, cap_cp;
} plan;

static void plan_dispose(plan *p)
{
    for (int64_t v = p->first; p->bytes && v <= p->last; v++)
        pond_free(p->bytes[v - p->first]);
    pond_free(p->bytes);
    pond_free(p->lens);
    pond_free(p->v);
    pond_free(p->checkpoints);
    memset(p, 0, sizeof *p);
}

static plan_file *plan_find(plan *p, const char *path)
{
    for (size_t i = p->n; i > 0; i--)
        if (!strcmp(p->v[i - 1].obj.path, path))
            return &p->v[i - 1];
    return NULL;
}

typedef struct {
    plan *p;
    int64_t version;
} scan_ctx;

static int scan_action(bool add, const char *path, int64_t size, const pond_hash *sha,
                       void *payload)
{
    scan_ctx *s = payload;
    plan *p = s->p;
    if (!add) {
        plan_file *f = plan_find(p, path);
        if (f && f->removed == INT64_MAX)
            f->removed = s->version;
        return 0;
    }
    if (POND_GROW(p->v, p->n, p->cap) < 0)
        return POND_ENOMEM;
    plan_file *f = &p->v[p->n];
    memset(f, 0, sizeof *f);
    f->obj.kind = REPL_DATA;
    f->obj.size = size;
    if (strlen(path) >= sizeof f->obj.path)
        return pond_error_set(POND_ECORRUPT, R, "data file path '%s' is too long", path);
    strcpy(f->obj.path, path);
    if (sha) {
        f->obj.sha256 = *sha;
        f->obj.has_sha = true;
    }
    int rc = pond_repl_obj_check(&f->obj);
    if (rc < 0)
        return rc;
    if (!f->obj.has_sha)
        return pond_error_set(POND_EUNSUPPORTED, R,
                              "data file '%s' has no pond.sha256 tag: it cannot be verified on "
                              "arrival",
                              path);
    f->added = s->version;
    f->removed = INT64_MAX;
    p->n++;
    return 0;
}

typedef struct {
    uint8_t *ptr;
    size_t len, cap, max;
    const char *what;
} mem_sink;

static int read_all(pond_buf *out, repl_remote *r, const repl_obj *o, size_t max)
{
    repl_source s;
    int rc = r->t->get(&s, r, o);
    if (rc < 0)
        return rc;
    pond_buf_clear(out);
    char buf[65536];
    for (;;) {
        size_t got = 0;
        if ((rc = s.read(s.self, buf, sizeof buf, &got)) < 0 || got == 0)
            break;
        if (out->size + got > max) {
            rc = pond_error_set(POND_EINVALID, R, "%s from '%s' is over %zu bytes", o->path, r->url,
                                max);
            break;
        }
        if ((rc = pond_buf_put(out, buf, got)) < 0)
            break;
    }
    if (s.close)
        s.close(s.self);
    return rc;
}

static int cp_entry(const repl_log_entry *e, void *payload)
{
    plan *p = payload;
    if (e->kind != REPL_CHECKPOINT)
        return 0;
    if (POND_GROW(p->checkpoints, p->n_cp, p->cap_cp) < 0)
        return POND_ENOMEM;
    p->checkpoints[p->n_cp++] = e->version;
    return 0;
}

/* Reads the commits first..last of the source and what they add and remove. */
static int plan_scan(plan *p, sync_ctx *c, int64_t first, int64_t last)
{
    p->first = first;
    p->last = last;
    size_t n = (size_t)(last - first + 1);
    p->bytes = pond_calloc(n ? n : 1, sizeof *p->bytes);
    p->lens = pond_calloc(n ? n : 1, sizeof *p->lens);
    if (!p->bytes || !p->lens)
        return POND_ENOMEM;
    pond_buf b = POND_BUF_INIT;
    size_t kept = 0;
    int rc = 0;
    for (int64_t v = first; rc == 0 && v <= last; v++) {
        repl_obj o = {.kind = REPL_COMMIT, .version = v, .size = -1};
        (void)pond_repl_obj_check(&o);
        if ((rc = read_all(&b, c->src, &o, MAX_COMMIT_BYTES)) < 0)
            break;
        scan_ctx s = {p, v};
        rc = pond_oplog_commit_files(b.ptr ? b.ptr : "", b.size, o.path, scan_action, &s);
        p->lens[v - first] = b.size;
        if (rc == 0 && kept + b.size <= KEEP_COMMIT_BYTES) {
            kept += b.size;
            p->bytes[v - first] = pond_buf_detach(&b);
            if (!p->bytes[v - first] && !(p->bytes[v - first] = pond_strdup("")))
                rc = POND_ENOMEM;
        }
    }
    pond_buf_dispose(&b);
    if (rc == 0)
        rc = c->src->t->list_log(c->src, first > 0 ? first - 1 : 0, INT64_MAX, cp_entry, p);
    return rc;
}

/* Marks which planned files the source still has. */
static int plan_at_source(plan *p, sync_ctx *c)
{
    repl_obj *objs = pond_malloc(HAVE_BATCH * sizeof *objs);
    bool *have = pond_malloc(HAVE_BATCH * sizeof *have);
    int rc = objs && have ? 0 : POND_ENOMEM;
    for (size_t i = 0; rc == 0 && i < p->n; i += HAVE_BATCH) {
        size_t k = p->n - i < HAVE_BATCH ? p->n - i : HAVE_BATCH;
        for (size_t j = 0; j < k; j++)
            objs[j] = p->v[i + j].obj;
        if ((rc = c->src->t->have(have, c->src, objs, k)) == 0)
            for (size_t j = 0; j < k; j++)
                p->v[i + j].at_source = have[j];
    }
    pond_free(objs);
    pond_free(have);
    return rc;
}

/* ---- sending --------------------------------------------------------------------------------- */

typedef struct {
    pond_hash *v;
    size_t n, cap;
} hash_list;

static bool hl_has(const hash_list *h, const pond_hash *x)
{
    for (size_t i = 0; i < h->n; i++)
        if (pond_hash_equal(&h->v[i], x))
            return true;
    return false;
}

static int hl_add(hash_list *h, const pond_hash *x)
{
    if (POND_GROW(h->v, h->n, h->cap) < 0)
        return POND_ENOMEM;
    h->v[h->n++] = *x;
    return 0;
}

/* Counts the bytes as they pass from the source to the destination. */
typedef struct {
    repl_source in;
    int64_t bytes;
} counting;

static int count_read(void *self, void *buf, size_t cap, size_t *n_out)
{
    counting *c = self;
    int rc = c->in.read(c->in.self, buf, cap, n_out);
    c->bytes += (int64_t)*n_out;
    return rc;
}

static int transfer(sync_ctx *c, const repl_obj *o)
{
    counting cnt = {{0}, 0};
    int rc = c->src->t->get(&cnt.in, c->src, o);
    if (rc < 0)
        return rc;
    repl_source s = {count_read, NULL, &cnt};
    rc = c->dst->t->put(c->dst, o, &s);
    if (cnt.in.close)
        cnt.in.close(cnt.in.self);
    c->rep->bytes += cnt.bytes;
    return rc;
}

typedef struct {
    sync_ctx *c;
    hash_list *sent;
    repl_blob_ref *v;
    size_t n, cap;
} blob_ctx;

static int want_blob(const repl_blob_ref *b, void *payload)
{
    blob_ctx *bc = payload;
    if (hl_has(bc->sent, &b->sha256))
        return 0;
    if (POND_GROW(bc->v, bc->n, bc->cap) < 0)
        return POND_ENOMEM;
    bc->v[bc->n++] = *b;
    return hl_add(bc->sent, &b->sha256);
}

/* Sends the files (and the blobs they refer to) the destination lacks; then syncs. */
static int send_files(sync_ctx *c, repl_obj *files, size_t n, hash_list *sent)
{
    bool *have = pond_malloc((n ? n : 1) * sizeof *have);
    int rc = have ? 0 : POND_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i += HAVE_BATCH) {
        size_t k = n - i < HAVE_BATCH ? n - i : HAVE_BATCH;
        rc = c->dst->t->have(have + i, c->dst, files + i, k);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (have[i]) {
            c->rep->already++;
            continue;
        }
        if ((rc = transfer(c, &files[i])) == 0)
            c->rep->data_files++;
    }
    pond_free(have);
    /* the data files must be where the destination can read them before it lists blobs */
    if (rc == 0 && n)
        rc = c->dst->t->sync(c->dst);
    blob_ctx bc = {c, sent, NULL, 0, 0};
    for (size_t i = 0; rc == 0 && i < n; i += HAVE_BATCH) {
        size_t k = n - i < HAVE_BATCH ? n - i : HAVE_BATCH;
        rc = c->dst->t->missing_blobs(c->dst, files + i, k, want_blob, &bc);
    }
    for (size_t i = 0; rc == 0 && i < bc.n; i++) {
        repl_obj o = {.kind = REPL_BLOB,
                      .sha256 = bc.v[i].sha256,
                      .root = bc.v[i].root,
                      .size = bc.v[i].size};
        (void)pond_repl_obj_check(&o);
        if ((rc = transfer(c, &o)) == 0)
            c->rep->blobs++;
        else if (rc == POND_ENOTFOUND)
            pond_error_prefix("the source lacks a blob a data file refers to (run pond fsck "
                              "there)");
    }
    pond_free(bc.v);
    if (rc == 0 && bc.n)
        rc = c->dst->t->sync(c->dst);
    return rc;
}

typedef struct {
    const char *ptr;
    size_t len, pos;
} mem_source;

static int mem_read(void *self, void *buf, size_t cap, size_t *n_out)
{
    mem_source *m = self;
    size_t k = m->len - m->pos < cap ? m->len - m->pos : cap;
    if (k)
        memcpy(buf, m->ptr + m->pos, k);
    m->pos += k;
    *n_out = k;
    return 0;
}

static int put_commit(sync_ctx *c, plan *p, int64_t v)
{
    repl_obj o = {.kind = REPL_COMMIT, .version = v, .size = -1, .has_sha = true};
    (void)pond_repl_obj_check(&o);
    pond_buf again = POND_BUF_INIT;
    int rc = 0;
    if (!p->bytes[v - p->first]) {
        /* not kept: read again, and it must be what was planned */
        rc = read_all(&again, c->src, &o, MAX_COMMIT_BYTES);
        if (rc == 0 && again.size != p->lens[v - p->first])
            rc = pond_error_set(POND_ECONFLICT, R,
                                "commit %" PRId64 " of '%s' changed during "
                                "the transfer",
                                v, c->src->url);
    }
    mem_source m = {p->bytes[v - p->first] ? p->bytes[v - p->first] : again.ptr,
                    p->lens[v - p->first], 0};
    o.size = (int64_t)m.len;
    if (rc == 0)
        rc = pond_sha256_buf(&o.sha256, m.ptr ? m.ptr : "", m.len);
    repl_source s = {mem_read, NULL, &m};
    if (rc == 0 && (rc = c->dst->t->put(c->dst, &o, &s)) == 0) {
        c->rep->commits++;
        c->rep->bytes += (int64_t)m.len;
    }
    pond_buf_dispose(&again);
    return rc;
}

static bool plan_has_cp(const plan *p, int64_t v)
{
    for (size_t i = 0; i < p->n_cp; i++)
        if (p->checkpoints[i] == v)
            return true;
    return false;
}

typedef struct {
    repl_obj *v;
    size_t n, cap;
} obj_vec;

static int ov_add(const repl_obj *o, void *payload)
{
    obj_vec *ov = payload;
    if (POND_GROW(ov->v, ov->n, ov->cap) < 0)
        return POND_ENOMEM;
    ov->v[ov->n++] = *o;
    return 0;
}

/* The checkpoints of versions from..to that the source has and the destination lacks, in one
 * hash_log and one have (a round trip over SSH per batch, not per checkpoint). */
static int batch_checkpoints(obj_vec *out, sync_ctx *c, const plan *p, int64_t from, int64_t to)
{
    out->n = 0;
    int rc = 0;
    for (int64_t k = from; rc == 0 && k <= to; k++) {
        if (!plan_has_cp(p, k))
            continue;
        repl_obj o = {.kind = REPL_CHECKPOINT, .version = k, .size = -1};
        (void)pond_repl_obj_check(&o);
        rc = ov_add(&o, out);
    }
    size_t n = out->n;
    bool *flags = rc == 0 && n ? pond_malloc(2 * n * sizeof *flags) : NULL;
    pond_hash *sha = rc == 0 && n ? pond_malloc(n * sizeof *sha) : NULL;
    if (n && rc == 0 && (!flags || !sha))
        rc = POND_ENOMEM;
    if (rc == 0 && n)
        rc = c->src->t->hash_log(sha, flags, c->src, out->v, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        out->v[i].sha256 = sha[i];
        out->v[i].has_sha = flags[i];
    }
    if (rc == 0 && n)
        rc = c->dst->t->have(flags + n, c->dst, out->v, n);
    size_t k = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (out->v[i].has_sha && !flags[n + i])
            out->v[k++] = out->v[i];
    if (rc == 0)
        out->n = k;
    pond_free(flags);
    pond_free(sha);
    return rc;
}

static int put_checkpoint(sync_ctx *c, int64_t v)
{
    repl_obj o = {.kind = REPL_CHECKPOINT, .version = v, .size = -1};
    (void)pond_repl_obj_check(&o);
    bool present;
    int rc = c->src->t->hash_log(&o.sha256, &present, c->src, &o, 1);
    o.has_sha = present;
    if (rc < 0 || !present)
        return rc;
    bool have = false;
    if ((rc = c->dst->t->have(&have, c->dst, &o, 1)) < 0 || have)
        return rc;
    if ((rc = transfer(c, &o)) == 0)
        c->rep->checkpoints++;
    return rc;
}

static int put_last_checkpoint(sync_ctx *c, int64_t head)
{
    repl_obj o = {.kind = REPL_LAST_CHECKPOINT, .size = -1};
    (void)pond_repl_obj_check(&o);
    pond_buf b = POND_BUF_INIT;
    int rc = read_all(&b, c->src, &o, 1 << 20);
    if (rc == POND_ENOTFOUND) {
        pond_error_clear();
        return 0;
    }
    /* only a hint: copied when it names a checkpoint the destination has */
    const char *vp = rc == 0 && b.ptr ? strstr(b.ptr, "\"version\":") : NULL;
    long long v = vp ? strtoll(vp + 10, NULL, 10) : -1;
    if (rc == 0 && v >= 0 && v <= head) {
        bool have = false;
        o.size = (int64_t)b.size;
        o.has_sha = true;
        rc = pond_sha256_buf(&o.sha256, b.ptr, b.size);
        if (rc == 0)
            rc = c->dst->t->have(&have, c->dst, &o, 1);
        mem_source m = {b.ptr, b.size, 0};
        repl_source s = {mem_read, NULL, &m};
        if (rc == 0 && !have)
            rc = c->dst->t->put(c->dst, &o, &s);
    }
    pond_buf_dispose(&b);
    return rc;
}

/* Fast-forwards the destination to the source's head. */
static int forward(sync_ctx *c)
{
    int64_t head = c->si.head, start = c->di.head + 1;
    int64_t first = start > c->si.low ? start : c->si.low;
    plan p = {0};
    hash_list sent = {0};
    obj_vec ov = {0};
    int rc = c->src->t->hold(c->src, start > 0 ? start - 1 : 0);
    if (rc == 0)
        rc = plan_scan(&p, c, first, head);
    if (rc == 0)
        rc = plan_at_source(&p, c);
    /* a start from a checkpoint: the source lacks commits (its log was cleaned up) or data
     * files of intermediate transactions (retention) that the destination lacks */
    int64_t need_cp = start < c->si.low ? c->si.low - 1 : -1;
    for (size_t i = 0; rc == 0 && i < p.n; i++) {
        if (p.v[i].at_source)
            continue;
        if (p.v[i].removed == INT64_MAX)
            rc = pond_error_set(POND_ECORRUPT, R,
                                "data file %s of '%s' is missing or does not match its SHA-256 "
                                "(pond fsck there tells): refused",
                                p.v[i].obj.path, c->src->url);
        else if (p.v[i].removed > need_cp)
            need_cp = p.v[i].removed;
    }
    int64_t cp = -1;
    if (rc == 0 && need_cp >= 0) {
        for (size_t i = 0; i < p.n_cp; i++)
            if (p.checkpoints[i] >= need_cp && p.checkpoints[i] >= start - 1 &&
                (cp < 0 || p.checkpoints[i] < cp))
                cp = p.checkpoints[i];
        if (cp < 0)
            rc = pond_error_set(POND_ENOTFOUND, R,
                                "'%s' lacks transactions %" PRId64 "..%" PRId64
                                " and the source no longer has all they need, nor a checkpoint "
                                "after them to start from",
                                c->dst->url, start, need_cp);
    }
    int64_t from = start;
    if (rc == 0 && cp >= 0) {
        note(c->o,
             "the source no longer has everything transactions %" PRId64 "..%" PRId64
             " need (retention): starting '%s' from checkpoint %" PRId64,
             start, cp, c->dst->url, cp);
        c->rep->start_checkpoint = cp;
        /* the state at cp: its live files, of which the destination may have some */
        if ((rc = c->src->t->live_files(c->src, cp, ov_add, &ov)) == 0)
            rc = send_files(c, ov.v, ov.n, &sent);
        if (rc == 0)
            rc = put_checkpoint(c, cp);
        from = cp + 1;
        if (rc == 0 && cp >= c->si.low && cp >= first)
            rc = put_commit(c, &p, cp);
    }
    obj_vec cps = {0};
    repl_obj *batch = NULL;
    size_t bcap = 0;
    for (int64_t v = from; rc == 0 && v <= head; v += BATCH_COMMITS) {
        int64_t end = v + BATCH_COMMITS - 1 < head ? v + BATCH_COMMITS - 1 : head;
        size_t nb = 0;
        for (size_t i = 0; i < p.n; i++) {
            if (p.v[i].added < v || p.v[i].added > end || !p.v[i].at_source)
                continue;
            if ((rc = POND_GROW(batch, nb, bcap)) < 0)
                break;
            batch[nb++] = p.v[i].obj;
        }
        if (rc == 0)
            rc = send_files(c, batch, nb, &sent);
        if (rc == 0)
            rc = batch_checkpoints(&cps, c, &p, v, end);
        size_t ci = 0;
        for (int64_t k = v; rc == 0 && k <= end; k++) {
            rc = put_commit(c, &p, k);
            if (rc == 0 && ci < cps.n && cps.v[ci].version == k &&
                (rc = transfer(c, &cps.v[ci++])) == 0)
                c->rep->checkpoints++;
        }
        if (rc == 0)
            c->rep->to_version = end;
    }
    pond_free(batch);
    pond_free(cps.v);
    if (rc == 0)
        rc = put_last_checkpoint(c, head);
    if (rc == 0)
        rc = c->dst->t->sync(c->dst);
    if (rc == 0 && c->di.incoming) {
        rc = c->dst->t->finish(c->dst);
        c->rep->created = rc == 0;
    }
    if (rc == 0)
        c->rep->to_version = head;
    pond_free(ov.v);
    pond_free(sent.v);
    plan_dispose(&p);
    return rc;
}

static const char *side(bool push) { return push ? "remote" : "local pond"; }

/* The whole run: open, compare, refuse or fast-forward. push: the destination is the remote
 * (for messages). */
static int run(pond_repl_report *out, repl_remote *src, repl_remote *dst, bool push,
               const pond_repl_options *o)
{
    memset(out, 0, sizeof *out);
    out->from_version = out->to_version = -1;
    out->start_checkpoint = -1;
    sync_ctx c = {src, dst, {0}, {0}, out, o};
    int rc = src->t->open(&c.si, src, REPL_OPEN_READ);
    if (rc == 0 && (!c.si.exists || c.si.head < 0))
        rc = pond_error_set(POND_ENOTFOUND, R, "'%s' is not a pond", src->url);
    if (rc == 0 && !pond_oplog_format_supported(c.si.format))
        rc = pond_error_set(POND_EUNSUPPORTED, R, "'%s': pond format '%s' is not supported",
                            src->url, c.si.format);
    if (rc == 0)
        rc = dst->t->open(&c.di, dst, REPL_OPEN_WRITE);
    if (rc < 0)
        return rc;
    /* Both ends in formats this build reads. They may differ: a destination behind its source
     * is the source at an older transaction, before the commit that upgraded the format
     * (docs/format.md, "Format 2"), and the fast-forward carries that commit byte for byte;
     * a pond that is not behind is refused below by the log comparison. */
    if (c.di.exists && c.di.head >= 0 && !pond_oplog_format_supported(c.di.format))
        return pond_error_set(POND_EUNSUPPORTED, R,
                              "'%s' is a pond of format '%s', which this build does not support "
                              "('%s' is of format '%s'): nothing was changed",
                              dst->url, c.di.format, src->url, c.si.format);
    out->from_version = c.di.incoming ? -1 : c.di.head;
    out->to_version = c.di.head;
    pond_repl_status st;
    if ((rc = relate(&st, &c)) < 0)
        return rc;
    const char *dn = push ? dst->url : src->url;
    switch (st.relation) {
    case POND_REPL_MISSING:
    case POND_REPL_BEHIND:
        return forward(&c);
    case POND_REPL_SAME:
        if (c.di.incoming)
            return forward(&c); /* everything arrived but the rename */
        return 0;
    case POND_REPL_UNRELATED:
        return pond_error_set(POND_ECONFLICT, R,
                              "'%s' is a different pond (table id %s, this one %s): nothing "
                              "was changed",
                              dn, push ? c.di.pond_id : c.si.pond_id,
                              push ? c.si.pond_id : c.di.pond_id);
    case POND_REPL_AHEAD:
        return pond_error_set(POND_ECONFLICT, R,
                              "the %s is ahead: it is at transaction %" PRId64
                              ", the %s at %" PRId64 " (%s first): nothing was changed",
                              side(push), c.di.head, side(!push), c.si.head,
                              push ? "pull" : "push");
    case POND_REPL_DIVERGED:
        if (st.common < 0)
            return pond_error_set(POND_ECONFLICT, R,
                                  "'%s' and this pond have diverged: no common transaction "
                                  "(%s head %" PRId64 ", local head %" PRId64
                                  "): nothing was changed",
                                  dn, push ? "remote" : "remote", push ? c.di.head : c.si.head,
                                  push ? c.si.head : c.di.head);
        return pond_error_set(
            POND_ECONFLICT, R,
            "'%s' and this pond have diverged: last common transaction %" PRId64
            ", remote head %" PRId64 ", local head %" PRId64 ": nothing was changed",
            dn, st.common, push ? c.di.head : c.si.head, push ? c.si.head : c.di.head);
    }
    return 0;
}

static pond_repl_options defaults(const pond_repl_options *o)
{
    pond_repl_options d = POND_REPL_OPTIONS_INIT;
    return o ? *o : d;
}

int pond_repl_push(pond_repl_report *out, const char *dir, const char *url,
                   const pond_repl_options *opts)
{
    POND_ASSERT_ARG(out && dir && url);
    pond_repl_options o = defaults(opts);
    repl_remote *src = NULL, *dst = NULL;
    int rc = pond_repl_dir_new(&src, dir, dir);
    if (rc == 0)
        rc = pond_repl_remote_open_url(&dst, url, o.exec, o.ssh_command);
    if (rc == 0)
        rc = run(out, src, dst, true, &o);
    pond_repl_remote_free(dst);
    pond_repl_remote_free(src);
    return rc;
}

int pond_repl_pull(pond_repl_report *out, const char *dir, const char *url,
                   const pond_repl_options *opts)
{
    POND_ASSERT_ARG(out && dir && url);
    pond_repl_options o = defaults(opts);
    repl_remote *src = NULL, *dst = NULL;
    int rc = pond_repl_remote_open_url(&src, url, o.exec, o.ssh_command);
    if (rc == 0)
        rc = pond_repl_dir_new(&dst, dir, dir);
    if (rc == 0 && !pond_oplog_is_pond(dir))
        rc = pond_error_set(POND_ENOTFOUND, R, "'%s' is not a pond (pond clone makes one)", dir);
    if (rc == 0)
        rc = run(out, src, dst, false, &o);
    pond_repl_remote_free(dst);
    pond_repl_remote_free(src);
    return rc;
}

int pond_repl_clone(pond_repl_report *out, const char *url, const char *dir,
                    const pond_repl_options *opts)
{
    POND_ASSERT_ARG(out && dir && url);
    pond_repl_options o = defaults(opts);
    repl_remote *src = NULL, *dst = NULL;
    int rc = 0;
    if (pond_oplog_is_pond(dir))
        return pond_error_set(POND_EEXISTS, R, "'%s' is already a pond (pond pull updates it)",
                              dir);
    if (rc == 0)
        rc = pond_repl_remote_open_url(&src, url, o.exec, o.ssh_command);
    if (rc == 0)
        rc = pond_repl_dir_new(&dst, dir, dir);
    if (rc == 0)
        rc = run(out, src, dst, false, &o);
    pond_repl_remote_free(dst);
    pond_repl_remote_free(src);
    if (rc == 0) {
        rc = pond_remote_add(dir, "origin", url, o.exec);
        if (rc == 0)
            rc = pond_remote_set_version(dir, "origin", out->to_version);
    }
    return rc;
}

int pond_repl_compare(pond_repl_status *out, const char *dir, const char *url,
                      const pond_repl_options *opts)
{
    POND_ASSERT_ARG(out && dir && url);
    pond_repl_options o = defaults(opts);
    repl_remote *local = NULL, *remote = NULL;
    pond_repl_report rep = {0};
    sync_ctx c = {NULL, NULL, {0}, {0}, &rep, &o};
    int rc = pond_repl_dir_new(&local, dir, dir);
    if (rc == 0)
        rc = pond_repl_remote_open_url(&remote, url, o.exec, o.ssh_command);
    if (rc == 0)
        rc = local->t->open(&c.si, local, REPL_OPEN_READ);
    if (rc == 0)
        rc = remote->t->open(&c.di, remote, REPL_OPEN_READ);
    c.src = local;
    c.dst = remote;
    if (rc == 0)
        rc = relate(out, &c);
    pond_repl_remote_free(remote);
    pond_repl_remote_free(local);
    return rc;
}

typedef struct {
    pond_fsck_fn fn;
    void *payload;
} vctx;

static void v_problem(const char *kind, const char *msg, void *payload)
{
    vctx *v = payload;
    if (v->fn)
        v->fn(kind, msg, v->payload);
}

int pond_repl_verify(pond_repl_verify_report *out, const char *dir, const char *url,
                     pond_fsck_fn fn, void *payload, const pond_repl_options *opts)
{
    POND_ASSERT_ARG(out && dir && url);
    memset(out, 0, sizeof *out);
    pond_repl_options o = defaults(opts);
    repl_remote *local = NULL, *remote = NULL;
    repl_info li, ri;
    vctx v = {fn, payload};
    int rc = pond_repl_dir_new(&local, dir, dir);
    if (rc == 0)
        rc = pond_repl_remote_open_url(&remote, url, o.exec, o.ssh_command);
    if (rc == 0)
        rc = local->t->open(&li, local, REPL_OPEN_READ);
    if (rc == 0)
        rc = remote->t->open(&ri, remote, REPL_OPEN_READ);
    if (rc == 0 && !ri.exists)
        rc = pond_error_set(POND_ENOTFOUND, R, "'%s' is not a pond", remote->url);
    /* the log: every commit both have must be the same bytes */
    int64_t lo = li.low > ri.low ? li.low : ri.low;
    int64_t hi = head_commit(&li) < head_commit(&ri) ? head_commit(&li) : head_commit(&ri);
    repl_obj *objs = pond_malloc(HAVE_BATCH * sizeof *objs);
    pond_hash *hl = pond_malloc(HAVE_BATCH * sizeof *hl);
    pond_hash *hr = pond_malloc(HAVE_BATCH * sizeof *hr);
    bool *pl = pond_malloc(HAVE_BATCH), *pr = pond_malloc(HAVE_BATCH);
    if (rc == 0 && (!objs || !hl || !hr || !pl || !pr))
        rc = POND_ENOMEM;
    for (int64_t v0 = lo; rc == 0 && v0 <= hi; v0 += HAVE_BATCH) {
        size_t k = (size_t)(hi - v0 + 1 < HAVE_BATCH ? hi - v0 + 1 : HAVE_BATCH);
        for (size_t j = 0; j < k; j++) {
            objs[j] = (repl_obj){.kind = REPL_COMMIT, .version = v0 + (int64_t)j};
            (void)pond_repl_obj_check(&objs[j]);
        }
        if ((rc = local->t->hash_log(hl, pl, local, objs, k)) < 0 ||
            (rc = remote->t->hash_log(hr, pr, remote, objs, k)) < 0)
            break;
        for (size_t j = 0; j < k; j++) {
            out->commits_compared++;
            if (pl[j] && pr[j] && pond_hash_equal(&hl[j], &hr[j]))
                continue;
            out->log_differs++;
            char msg[300];
            snprintf(msg, sizeof msg, "%s of '%s' %s", objs[j].path, remote->url,
                     !pr[j] ? "is missing" : "differs from this pond's");
            v_problem(!pr[j] ? "missing" : "differs", msg, &v);
        }
    }
    pond_free(objs);
    pond_free(hl);
    pond_free(hr);
    pond_free(pl);
    pond_free(pr);
    int frc = rc;
    if (rc == 0)
        frc = remote->t->verify(&out->fsck, remote, v_problem, &v);
    pond_repl_remote_free(remote);
    pond_repl_remote_free(local);
    if (rc < 0)
        return rc;
    if (frc < 0 && frc != POND_ECORRUPT)
        return frc;
    if (out->log_differs || out->fsck.missing || out->fsck.corrupt)
        return pond_error_set(POND_ECORRUPT, R,
                              "remote '%s': %lld missing, %lld corrupt, %lld log files differ", url,
                              (long long)out->fsck.missing, (long long)out->fsck.corrupt,
                              (long long)out->log_differs);
    return 0;
}
