/* The in-memory backend: node versions in a hash map, content as shared blobs. Content of
 * spilled writers stays in its unlinked temporary file (the blob holds the descriptor), so the
 * heap holds only small files. Time travel is a view sharing the same state. */
#include "tinyfs/tinyfs_internal.h"

#include <stdatomic.h>
#include <string.h>

typedef struct {
    pond_node_rec **v; /* versions, oldest first */
    size_t n, cap;
} mem_node;

typedef struct {
    atomic_int refs;
    pthread_mutex_t mu;
    pond__idmap nodes; /* id -> mem_node* */
    int64_t last_txn;
} mem_state;

typedef struct {
    pond_backend parent; /* must be first */
    mem_state *st;
    int64_t as_of; /* 0: live and writable */
} mem_backend;

static void state_unref(mem_state *st)
{
    if (atomic_fetch_sub(&st->refs, 1) != 1)
        return;
    for (size_t i = 0; i < pond__idmap_slots(&st->nodes); i++) {
        mem_node *n = pond__idmap_at(&st->nodes, i, NULL);
        if (!n)
            continue;
        pond_node_recs_free(n->v, n->n);
        pond_free(n);
    }
    pond__idmap_dispose(&st->nodes);
    pthread_mutex_destroy(&st->mu);
    pond_free(st);
}

/* Versions visible to this backend (as_of limits them). */
static size_t visible(const mem_backend *mb, const mem_node *n)
{
    if (!n)
        return 0;
    if (!mb->as_of)
        return n->n;
    size_t k = n->n;
    while (k > 0 && n->v[k - 1]->txn_seq > mb->as_of)
        k--;
    return k;
}

static int mem_latest(pond_node_rec **out, pond_backend *be, const pond_node_id *id)
{
    mem_backend *mb = (mem_backend *)be;
    *out = NULL;
    pthread_mutex_lock(&mb->st->mu);
    mem_node *n = pond__idmap_get(&mb->st->nodes, id);
    size_t k = visible(mb, n);
    if (k)
        *out = pond_node_rec_ref(n->v[k - 1]);
    pthread_mutex_unlock(&mb->st->mu);
    return *out ? 0 : pond_node_not_found(POND_DOM_TINYFS, id, 0);
}

static int mem_get_version(pond_node_rec **out, pond_backend *be, const pond_node_id *id,
                           int64_t version)
{
    mem_backend *mb = (mem_backend *)be;
    *out = NULL;
    pthread_mutex_lock(&mb->st->mu);
    mem_node *n = pond__idmap_get(&mb->st->nodes, id);
    size_t k = visible(mb, n);
    for (size_t i = 0; i < k; i++)
        if (n->v[i]->version == version)
            *out = pond_node_rec_ref(n->v[i]);
    pthread_mutex_unlock(&mb->st->mu);
    return *out ? 0 : pond_node_not_found(POND_DOM_TINYFS, id, version > 0 ? version : 1);
}

static int mem_list_versions(pond_node_rec ***out, size_t *n_out, pond_backend *be,
                             const pond_node_id *id)
{
    mem_backend *mb = (mem_backend *)be;
    *out = NULL;
    *n_out = 0;
    int error = 0;
    pthread_mutex_lock(&mb->st->mu);
    mem_node *n = pond__idmap_get(&mb->st->nodes, id);
    size_t k = visible(mb, n);
    if (!k) {
        error = pond_node_not_found(POND_DOM_TINYFS, id, 0);
    } else if (!(*out = pond_calloc(k, sizeof **out))) {
        error = POND_ENOMEM;
    } else {
        for (size_t i = 0; i < k; i++)
            (*out)[i] = pond_node_rec_ref(n->v[i]);
        *n_out = k;
    }
    pthread_mutex_unlock(&mb->st->mu);
    return error;
}

static int mem_open_content(pond_reader **out, pond_backend *be, const pond_node_rec *rec)
{
    (void)be;
    *out = NULL;
    if (!pond_entry_type_is_file(rec->type) || !rec->content)
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "%s version %lld has no content",
                              pond_entry_type_name(rec->type), (long long)rec->version);
    return pond_blob_open_reader(out, rec->content);
}

static int mem_last_txn(int64_t *out, pond_backend *be)
{
    mem_backend *mb = (mem_backend *)be;
    pthread_mutex_lock(&mb->st->mu);
    *out = mb->as_of ? mb->as_of : mb->st->last_txn;
    pthread_mutex_unlock(&mb->st->mu);
    return 0;
}

static int mem_commit(pond_backend *be, const pond_backend_txn_info *info,
                      pond_node_rec *const *recs, size_t n)
{
    mem_backend *mb = (mem_backend *)be;
    mem_state *st = mb->st;
    pond_node_rec **stored = NULL; /* our own copies, where a record needs completing */
    int error = 0;
    if (mb->as_of)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_TINYFS,
                              "memory backend view as of txn %lld is read-only",
                              (long long)mb->as_of);
    pthread_mutex_lock(&st->mu);
    if (info->txn_seq != st->last_txn + 1) {
        error = pond_error_set(POND_ECONFLICT, POND_DOM_TINYFS,
                               "commit of txn %lld but the last is %lld", (long long)info->txn_seq,
                               (long long)st->last_txn);
        goto done;
    }
    /* Phase 1 may fail (and leaves only empty, invisible node slots); phase 2 cannot. */
    if (n && !(stored = pond_calloc(n, sizeof *stored))) {
        error = POND_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const pond_node_rec *r = recs[i];
        mem_node *node = pond__idmap_get(&st->nodes, &r->id);
        if (!node) {
            if (!(node = pond_calloc(1, sizeof *node))) {
                error = POND_ENOMEM;
                goto done;
            }
            if ((error = pond__idmap_put(&st->nodes, &r->id, node, NULL)) < 0) {
                pond_free(node);
                goto done;
            }
        }
        int64_t want = node->n ? node->v[node->n - 1]->version + 1 : 1;
        if (r->version != want || r->txn_seq != info->txn_seq) {
            char s[POND_NODE_ID_STRLEN + 1];
            pond_node_id_format(s, &r->id);
            error = pond_error_set(POND_ECONFLICT, POND_DOM_TINYFS,
                                   "node %s: commit of version %lld (txn %lld), expected %lld", s,
                                   (long long)r->version, (long long)r->txn_seq, (long long)want);
            goto done;
        }
        if (pond_entry_type_is_file(r->type) && !r->content) {
            /* same bytes as the previous version: share its blob */
            const pond_node_rec *prev = node->n ? node->v[node->n - 1] : NULL;
            if (!prev || !prev->content || prev->size != r->size ||
                !pond_hash_equal(&prev->sha256, &r->sha256)) {
                char s[POND_NODE_ID_STRLEN + 1];
                pond_node_id_format(s, &r->id);
                error = pond_error_set(POND_EINVALID, POND_DOM_TINYFS,
                                       "node %s version %lld: no content, and the previous "
                                       "version's differs",
                                       s, (long long)r->version);
                goto done;
            }
            if ((error = pond_node_rec_dup(&stored[i], r)) < 0)
                goto done;
            stored[i]->content = pond_blob_ref(prev->content);
        }
        if (POND_GROW(node->v, node->n, node->cap) < 0) {
            error = POND_ENOMEM;
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        mem_node *node = pond__idmap_get(&st->nodes, &recs[i]->id);
        node->v[node->n++] = stored[i] ? stored[i] : pond_node_rec_ref(recs[i]);
        stored[i] = NULL;
    }
    st->last_txn = info->txn_seq;
done:
    pthread_mutex_unlock(&st->mu);
    if (stored)
        pond_node_recs_free(stored, n);
    return error;
}

static void mem_free(pond_backend *be)
{
    mem_backend *mb = (mem_backend *)be;
    state_unref(mb->st);
    pond_free(mb);
}

static int mem_new(pond_backend **out, mem_state *st, int64_t as_of);

static int mem_open_as_of(pond_backend **out, pond_backend *be, int64_t txn_seq)
{
    mem_backend *mb = (mem_backend *)be;
    int64_t last;
    mem_last_txn(&last, be);
    *out = NULL;
    if (txn_seq < 1 || txn_seq > last)
        return pond_error_set(POND_ENOTFOUND, POND_DOM_TINYFS,
                              "no transaction %lld (the last is %lld)", (long long)txn_seq,
                              (long long)last);
    atomic_fetch_add(&mb->st->refs, 1);
    int error = mem_new(out, mb->st, txn_seq);
    if (error < 0)
        state_unref(mb->st);
    return error;
}

static int mem_new(pond_backend **out, mem_state *st, int64_t as_of)
{
    mem_backend *mb = pond_calloc(1, sizeof *mb);
    if (!mb)
        return POND_ENOMEM;
    mb->parent.version = POND_BACKEND_VERSION;
    mb->parent.name = "memory";
    mb->parent.latest = mem_latest;
    mb->parent.get_version = mem_get_version;
    mb->parent.list_versions = mem_list_versions;
    mb->parent.open_content = mem_open_content;
    mb->parent.last_txn = mem_last_txn;
    mb->parent.commit = as_of ? NULL : mem_commit;
    mb->parent.open_as_of = mem_open_as_of;
    mb->parent.free = mem_free;
    mb->st = st;
    mb->as_of = as_of;
    *out = &mb->parent;
    return 0;
}

int pond_backend_memory_new(pond_backend **out)
{
    POND_ASSERT_ARG(out);
    *out = NULL;
    mem_state *st = pond_calloc(1, sizeof *st);
    if (!st)
        return POND_ENOMEM;
    atomic_init(&st->refs, 1);
    pthread_mutex_init(&st->mu, NULL);
    int error = mem_new(out, st, 0);
    if (error < 0)
        state_unref(st);
    return error;
}

void pond_backend_free(pond_backend *be)
{
    if (be)
        be->free(be);
}
