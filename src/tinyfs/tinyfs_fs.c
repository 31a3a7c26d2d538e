/* The filesystem: transactions (an overlay of pending node versions over the backend), path
 * resolution with symlinks, and the namespace operations. */
#include "tinyfs/tinyfs_internal.h"
#include "util/json.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void pond_tinyfs__lock(pond_fs *fs) { pthread_mutex_lock(&fs->mu); }
void pond_tinyfs__unlock(pond_fs *fs) { pthread_mutex_unlock(&fs->mu); }

#define D POND_DOM_TINYFS

/* ---- open / free ------------------------------------------------------------------------- */

int pond_fs_open(pond_fs **out, pond_backend *backend, const pond_fs_options *opts)
{
    POND_ASSERT_ARG(out && backend && backend->free);
    *out = NULL;
    if (backend->version < POND_BACKEND_VERSION_MIN || backend->version > POND_BACKEND_VERSION)
        return pond_error_set(POND_EUNSUPPORTED, D,
                              "backend '%s' has interface version %u, want %u to %u",
                              backend->name ? backend->name : "?", backend->version,
                              (unsigned)POND_BACKEND_VERSION_MIN, (unsigned)POND_BACKEND_VERSION);
    if (opts && (opts->version < 1 || opts->version > POND_FS_OPTIONS_VERSION))
        return pond_error_set(POND_EINVALID, D, "fs options version %u, want 1 to %u",
                              opts->version, (unsigned)POND_FS_OPTIONS_VERSION);
    /* -1 is the latest (version 2, as in pond_oplog_options); a version-1 caller said latest
     * with 0, which stays latest for it, so its INIT keeps meaning what it did */
    int64_t as_of = -1;
    if (opts && opts->version >= 2)
        as_of = opts->as_of_txn;
    else if (opts && opts->as_of_txn > 0)
        as_of = opts->as_of_txn;
    if (as_of < -1)
        return pond_error_set(POND_EINVALID, D,
                              "fs options: as_of_txn %lld is neither -1 (latest) nor a "
                              "transaction",
                              (long long)as_of);
    pond_fs *fs = pond_calloc(1, sizeof *fs);
    if (!fs)
        return POND_ENOMEM;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&fs->mu, &a);
    pthread_mutexattr_destroy(&a);
    fs->be = backend;
    fs->spill_threshold =
        opts && opts->spill_threshold ? opts->spill_threshold : POND_FS_DEFAULT_SPILL_THRESHOLD;
    const char *tmp = opts && opts->tmp_dir ? opts->tmp_dir : getenv("TMPDIR");
    int error = 0;
    if (!(fs->tmp_dir = pond_strdup(tmp && *tmp ? tmp : "/tmp"))) {
        error = POND_ENOMEM;
        goto fail;
    }
    if (as_of >= 0) {
        if (!backend->open_as_of) {
            error = pond_error_set(POND_EUNSUPPORTED, D, "backend '%s' has no time travel",
                                   backend->name ? backend->name : "?");
            goto fail;
        }
        if ((error = backend->open_as_of(&fs->view, backend, as_of)) < 0)
            goto fail;
        fs->be = fs->view;
        fs->read_only = true;
    }
    *out = fs;
    return 0;
fail:
    pond_fs_free(fs);
    return error;
}

void pond_fs_free(pond_fs *fs)
{
    if (!fs)
        return;
    pond_fs_abort(fs);
    pond_backend_free(fs->view);
    pond_free(fs->tmp_dir);
    pthread_mutex_destroy(&fs->mu);
    pond_free(fs);
}

/* ---- nodes and the pending overlay ------------------------------------------------------- */

static int root_rec(pond_node_rec **out)
{
    int error = pond_node_rec_new(out);
    if (error == 0) {
        (*out)->id = (*out)->part_id = pond_node_id_root();
        (*out)->type = POND_ENTRY_DIRECTORY;
    }
    return error;
}

int pond_tinyfs__get_node(pond_node_rec **out, pond_fs *fs, const pond_node_id *id)
{
    *out = NULL;
    if (fs->in_txn) {
        pond_node_rec *p = pond__idmap_get(&fs->pending, id);
        if (p) {
            *out = pond_node_rec_ref(p);
            return 0;
        }
    }
    pond_node_id root = pond_node_id_root();
    if (!fs->be->latest) {
        if (pond_node_id_equal(id, &root))
            return root_rec(out);
        return pond_error_set(POND_EUNSUPPORTED, D, "backend has no 'latest' operation");
    }
    int error = fs->be->latest(out, fs->be, id);
    if (error == POND_ENOTFOUND && pond_node_id_equal(id, &root))
        return root_rec(out); /* an empty fs has an (unwritten) empty root */
    return error;
}

static int pending_add(pond_fs *fs, pond_node_rec *r)
{
    if (POND_GROW(fs->pending_list, fs->n_pending, fs->cap_pending) < 0)
        return POND_ENOMEM;
    int error = pond__idmap_put(&fs->pending, &r->id, r, NULL);
    if (error < 0)
        return error;
    fs->pending_list[fs->n_pending++] = pond_node_rec_ref(r);
    return 0;
}

/* A mutable pending version of node id (borrowed; owned by the overlay). The first change of a
 * node in a txn copies its latest version as version + 1; a pending version someone else still
 * references (a glob in progress) is copied rather than changed under them. */
int pond_tinyfs__make_pending(pond_node_rec **out, pond_fs *fs, const pond_node_id *id)
{
    *out = NULL;
    pond_node_rec *p = pond__idmap_get(&fs->pending, id), *copy = NULL;
    int error;
    if (p && __atomic_load_n(&p->refs, __ATOMIC_ACQUIRE) == 1) {
        *out = p;
        return 0;
    }
    if (p) {
        if ((error = pond_node_rec_dup(&copy, p)) < 0)
            return error;
        (void)pond__idmap_put(&fs->pending, id, copy, NULL); /* replaces: cannot fail */
        for (size_t i = 0; i < fs->n_pending; i++)
            if (fs->pending_list[i] == p)
                fs->pending_list[i] = copy;
        pond_node_rec_unref(p);
        *out = copy;
        return 0;
    }
    pond_node_rec *base = NULL;
    if ((error = pond_tinyfs__get_node(&base, fs, id)) < 0)
        return error;
    error = pond_node_rec_dup(&copy, base);
    pond_node_rec_unref(base);
    if (error < 0)
        return error;
    copy->version++;
    copy->txn_seq = fs->txn_seq;
    copy->timestamp_us = fs->txn_time_us;
    if ((error = pending_add(fs, copy)) < 0) {
        pond_node_rec_unref(copy);
        return error;
    }
    pond_node_rec_unref(copy); /* the overlay holds it */
    *out = copy;
    return 0;
}

static int new_rec(pond_node_rec **out, pond_fs *fs, pond_entry_type type,
                   const pond_node_id *parent)
{
    int error = pond_node_rec_new(out);
    if (error < 0)
        return error;
    pond_node_rec *r = *out;
    if ((error = pond_node_id_new(&r->id)) < 0) {
        pond_node_rec_unref(r);
        *out = NULL;
        return error;
    }
    r->type = type;
    /* A directory and a series are their own home partition: a series grows by a version per
     * import for years, and in its directory's partition every lookup in that directory would
     * load all of its rows (docs/format.md, "Home partitions"). Other files live with their
     * directory. */
    r->part_id = type == POND_ENTRY_DIRECTORY || type == POND_ENTRY_FILE_SERIES ? r->id : *parent;
    r->version = 1;
    r->txn_seq = fs->txn_seq;
    r->timestamp_us = fs->txn_time_us;
    return 0;
}

/* part: the child's home partition when it is not dir (a file moved in), else NULL. */
static int dir_insert(pond_node_rec *dir, const char *name, const pond_node_id *id,
                      pond_entry_type type, const pond_node_id *part)
{
    ptrdiff_t at = pond_tinyfs__dir_find(dir, name);
    assert(at < 0);
    size_t pos = (size_t)(-at - 1);
    char *nm = pond_strdup(name);
    if (!nm)
        return POND_ENOMEM;
    pond_dir_entry *ne = pond_realloc(dir->entries, (dir->n_entries + 1) * sizeof *ne);
    if (!ne) {
        pond_free(nm);
        return POND_ENOMEM;
    }
    memmove(ne + pos + 1, ne + pos, (dir->n_entries - pos) * sizeof *ne);
    ne[pos] = (pond_dir_entry){nm, *id, type, {{0}}};
    if (part && type != POND_ENTRY_DIRECTORY && !pond_node_id_equal(part, &dir->id))
        ne[pos].part_id = *part;
    dir->entries = ne;
    dir->n_entries++;
    dir->size = (int64_t)dir->n_entries;
    return 0;
}

static void dir_remove(pond_node_rec *dir, const char *name)
{
    ptrdiff_t at = pond_tinyfs__dir_find(dir, name);
    if (at < 0)
        return;
    pond_free(dir->entries[at].name);
    memmove(dir->entries + at, dir->entries + at + 1,
            (dir->n_entries - (size_t)at - 1) * sizeof *dir->entries);
    dir->n_entries--;
    dir->size = (int64_t)dir->n_entries;
}

/* ---- transactions ------------------------------------------------------------------------ */

static void txn_clear(pond_fs *fs)
{
    for (size_t i = 0; i < fs->n_pending; i++)
        pond_node_rec_unref(fs->pending_list[i]);
    pond_free(fs->pending_list);
    fs->pending_list = NULL;
    fs->n_pending = fs->cap_pending = 0;
    pond__idmap_dispose(&fs->pending);
    pond_free(fs->txn_meta);
    fs->txn_meta = NULL;
    fs->in_txn = false;
}

int pond_fs_begin(pond_fs *fs, const char *meta_json)
{
    POND_ASSERT_ARG(fs);
    int error = 0;
    pond_tinyfs__lock(fs);
    if (fs->read_only) {
        error = pond_error_set(POND_EUNSUPPORTED, D, "this fs is a read-only view");
    } else if (fs->in_txn) {
        error = pond_error_set(POND_EBUSY, D, "a transaction is already open on this fs");
    } else if (!fs->be->commit) {
        error = pond_error_set(POND_EUNSUPPORTED, D, "backend '%s' cannot commit",
                               fs->be->name ? fs->be->name : "?");
    } else {
        int64_t last = 0;
        if (fs->be->last_txn && (error = fs->be->last_txn(&last, fs->be)) < 0)
            goto done;
        if (meta_json && !(fs->txn_meta = pond_strdup(meta_json))) {
            error = POND_ENOMEM;
            goto done;
        }
        fs->txn_seq = last + 1;
        fs->txn_time_us = pond__now_us();
        fs->in_txn = true;
    }
done:
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_commit(int64_t *txn_seq_out, pond_fs *fs)
{
    POND_ASSERT_ARG(fs);
    int error = 0;
    pond_tinyfs__lock(fs);
    if (!fs->in_txn) {
        error = pond_error_set(POND_ETXN, D, "commit: no open transaction");
        goto done;
    }
    if (fs->busy) {
        error =
            pond_error_set(POND_EBUSY, D, "commit: a writer is still open on '%s'", fs->busy->name);
        goto done;
    }
    pond_backend_txn_info info = {fs->txn_seq, fs->txn_time_us, fs->txn_meta};
    error = fs->be->commit(fs->be, &info, fs->pending_list, fs->n_pending);
    if (error == 0 && txn_seq_out)
        *txn_seq_out = fs->txn_seq;
    txn_clear(fs);
done:
    pond_tinyfs__unlock(fs);
    return error;
}

void pond_fs_abort(pond_fs *fs)
{
    if (!fs)
        return;
    pond_tinyfs__lock(fs);
    while (fs->busy) {
        tinyfs_busy *b = fs->busy;
        fs->busy = b->next;
        pond_tinyfs__writer_detach(b->writer);
        pond_free(b->name);
        pond_free(b);
    }
    if (fs->in_txn)
        txn_clear(fs);
    pond_tinyfs__unlock(fs);
}

uint64_t pond_fs_path_walks(pond_fs *fs)
{
    pond_tinyfs__lock(fs);
    uint64_t n = fs->walks;
    pond_tinyfs__unlock(fs);
    return n;
}

size_t pond_fs_txn_changes(pond_fs *fs)
{
    pond_tinyfs__lock(fs);
    size_t n = fs->in_txn ? fs->n_pending : 0;
    pond_tinyfs__unlock(fs);
    return n;
}

bool pond_fs_in_txn(pond_fs *fs)
{
    pond_tinyfs__lock(fs);
    bool r = fs->in_txn;
    pond_tinyfs__unlock(fs);
    return r;
}

int pond_fs_last_txn(int64_t *out, pond_fs *fs)
{
    POND_ASSERT_ARG(out && fs);
    *out = 0;
    pond_tinyfs__lock(fs);
    int error = fs->be->last_txn ? fs->be->last_txn(out, fs->be) : 0;
    pond_tinyfs__unlock(fs);
    return error;
}

/* ---- busy files -------------------------------------------------------------------------- */

tinyfs_busy *pond_tinyfs__busy_find(pond_fs *fs, const pond_node_id *parent, const char *name)
{
    for (tinyfs_busy *b = fs->busy; b; b = b->next)
        if (pond_node_id_equal(&b->parent, parent) && strcmp(b->name, name) == 0)
            return b;
    return NULL;
}

void pond_tinyfs__busy_remove(pond_fs *fs, pond_writer *w)
{
    for (tinyfs_busy **pp = &fs->busy; *pp; pp = &(*pp)->next) {
        if ((*pp)->writer == w) {
            tinyfs_busy *b = *pp;
            *pp = b->next;
            pond_free(b->name);
            pond_free(b);
            break;
        }
    }
    pond_tinyfs__writer_detach(w);
}

int pond_tinyfs__busy_error(const char *path)
{
    return pond_error_set(POND_EBUSY, D, "'%s': busy: a writer is open on it", path);
}

/* ---- path resolution --------------------------------------------------------------------- */

enum { RES_FOLLOW = 1, RES_CHAIN = 2 };

typedef struct {
    char *path;            /* physical absolute path (symlinks substituted) */
    pond_node_rec *parent; /* the directory holding the final name; NULL for the root */
    pond_node_rec *node;   /* the final node; NULL when the name does not exist */
    const char *name;      /* the final name (inside path); NULL for the root */
    bool dir;              /* the path ended in '/' */
    pond_node_id *chain;   /* RES_CHAIN: directory ids from the root to the final directory */
    size_t n_chain, cap_chain;
} res_t;

static void res_dispose(res_t *r)
{
    pond_free(r->path);
    pond_node_rec_unref(r->parent);
    pond_node_rec_unref(r->node);
    pond_free(r->chain);
    memset(r, 0, sizeof *r);
}

/* Drop the record references before changing the overlay, so make_pending can change the
 * pending versions in place instead of copying them. */
static void res_drop_recs(res_t *r)
{
    pond_node_rec_unref(r->parent);
    pond_node_rec_unref(r->node);
    r->parent = r->node = NULL;
}

static int chain_push(res_t *r, const pond_node_id *id)
{
    int rc = POND_GROW(r->chain, r->n_chain, r->cap_chain);
    if (rc == 0)
        r->chain[r->n_chain++] = *id;
    return rc;
}

static int resolve(res_t *r, pond_fs *fs, const pond_wd *wd, const char *path, int flags)
{
    memset(r, 0, sizeof *r);
    int error = pond_path_normalize(&r->path, &r->dir, wd ? wd->path : "/", path);
    if (error < 0)
        return error;
    if (r->dir)
        flags |= RES_FOLLOW;
    pond_node_id root = pond_node_id_root();
    int hops = 0;
    fs->walks++;
restart:
    pond_node_rec_unref(r->parent);
    pond_node_rec_unref(r->node);
    r->parent = r->node = NULL;
    r->name = NULL;
    r->n_chain = 0;
    if ((error = pond_tinyfs__get_node(&r->node, fs, &root)) < 0)
        goto fail;
    for (char *p = r->path + 1; *p;) {
        char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        bool last = !end;
        pond_node_rec *cur = r->node;
        if (cur->type != POND_ENTRY_DIRECTORY) {
            error = pond_error_set(POND_ENOTDIR, D, "'%.*s': not a directory",
                                   (int)(p - 1 - r->path), r->path);
            goto fail;
        }
        if ((flags & RES_CHAIN) && (error = chain_push(r, &cur->id)) < 0)
            goto fail;
        char save = p[n];
        p[n] = '\0';
        ptrdiff_t at = pond_tinyfs__dir_find(cur, p);
        p[n] = save;
        pond_node_rec_unref(r->parent);
        r->parent = cur;
        r->node = NULL;
        r->name = p;
        if (at < 0) {
            if (last)
                return 0;
            error = pond_error_set(POND_ENOTFOUND, D, "'%.*s': no such file or directory",
                                   (int)(p + n - r->path), r->path);
            goto fail;
        }
        if ((error = pond_tinyfs__get_node(&r->node, fs, &cur->entries[at].id)) < 0)
            goto fail;
        if (r->node->type == POND_ENTRY_SYMLINK && (!last || (flags & RES_FOLLOW))) {
            if (++hops > TINYFS_SYMLINK_HOPS) {
                error = pond_error_set(POND_ELOOP, D,
                                       "'%s': too many levels of symbolic links (more than %d)",
                                       r->path, TINYFS_SYMLINK_HOPS);
                goto fail;
            }
            /* Substitute the target for this component and start over from the root. */
            char *dir = p - 1 == r->path ? pond_strdup("/")
                                         : pond_strndup(r->path, (size_t)(p - 1 - r->path));
            char *target = NULL, *joined = NULL;
            pond_buf b = POND_BUF_INIT;
            error = dir ? pond_path_normalize(&target, NULL, dir, r->node->symlink_target)
                        : POND_ENOMEM;
            if (error == 0 && (error = pond_buf_puts(&b, target)) == 0 && !last)
                error = pond_buf_puts(&b, p + n);
            if (error == 0)
                error = pond_path_normalize(&joined, NULL, NULL, b.ptr);
            pond_free(dir);
            pond_free(target);
            pond_buf_dispose(&b);
            if (error < 0) {
                pond_error_prefix("following symlink '%.*s'", (int)(p + n - r->path), r->path);
                goto fail;
            }
            pond_free(r->path);
            r->path = joined;
            goto restart;
        }
        if (last)
            break;
        p = end + 1;
    }
    if (r->dir && r->node && r->node->type != POND_ENTRY_DIRECTORY) {
        error = pond_error_set(POND_ENOTDIR, D, "'%s/': not a directory", r->path);
        goto fail;
    }
    return 0;
fail:
    res_dispose(r);
    return error;
}

int pond_tinyfs__need_txn(pond_fs *fs, const char *what, const char *path)
{
    if (fs->read_only)
        return pond_error_set(POND_EUNSUPPORTED, D, "%s '%s': this fs is a read-only view", what,
                              path ? path : "");
    if (!fs->in_txn)
        return pond_error_set(POND_ETXN, D, "%s '%s': no open transaction", what, path ? path : "");
    return 0;
}

int pond_tinyfs__not_found(const char *path)
{
    return pond_error_set(POND_ENOTFOUND, D, "'%s': no such file or directory", path);
}

/* Does the subtree under dir (at path) hold any directory that a busy writer writes into? The
 * walk refuses a damaged tree that lists a directory twice (exponential) or inside itself. */
static int busy_under(bool *out, pond_fs *fs, const pond_node_rec *dir, pond_buf *path,
                      pond_dir_walk *walk, int depth)
{
    *out = false;
    if (depth > TINYFS_PATH_MAX)
        return pond_error_set(POND_ECORRUPT, D, "directory tree deeper than %d", TINYFS_PATH_MAX);
    for (tinyfs_busy *b = fs->busy; b; b = b->next)
        if (pond_node_id_equal(&b->parent, &dir->id))
            return (*out = true), 0;
    size_t path0 = path->size;
    for (size_t i = 0; i < dir->n_entries && !*out; i++) {
        if (dir->entries[i].type != POND_ENTRY_DIRECTORY)
            continue;
        pond_node_rec *c = NULL;
        int error = pond_buf_printf(path, "/%s", dir->entries[i].name);
        if (error == 0)
            error = pond_dir_walk_enter(walk, &dir->id, dir->entries[i].name, &dir->entries[i].id,
                                        path->ptr);
        if (error == 0)
            error = pond_tinyfs__get_node(&c, fs, &dir->entries[i].id);
        if (error == 0)
            error = busy_under(out, fs, c, path, walk, depth + 1);
        pond_node_rec_unref(c);
        path->size = path0;
        path->ptr[path0] = '\0';
        if (error < 0)
            return error;
    }
    return 0;
}

static int check_not_busy(pond_fs *fs, const res_t *r)
{
    if (!fs->busy || !r->node)
        return 0;
    if (r->parent && pond_tinyfs__busy_find(fs, &r->parent->id, r->name))
        return pond_tinyfs__busy_error(r->path);
    if (r->node->type == POND_ENTRY_DIRECTORY) {
        bool b = false;
        pond_buf path = POND_BUF_INIT;
        pond_dir_walk *walk = NULL;
        int error = pond_buf_puts(&path, strcmp(r->path, "/") ? r->path : "");
        if (error == 0)
            error = pond_dir_walk_new(&walk);
        if (error == 0)
            error = busy_under(&b, fs, r->node, &path, walk, 0);
        pond_dir_walk_free(walk);
        pond_buf_dispose(&path);
        if (error < 0)
            return error;
        if (b)
            return pond_error_set(POND_EBUSY, D, "'%s': busy: a writer is open below it", r->path);
    }
    return 0;
}

/* Link a fresh node rec under its parent (both in the overlay), all or nothing. */
static int link_new(pond_fs *fs, const pond_node_id *parent_id, const char *name,
                    pond_node_rec *rec)
{
    pond_node_rec *parent;
    int error = pond_tinyfs__make_pending(&parent, fs, parent_id);
    if (error < 0)
        return error;
    if ((error = dir_insert(parent, name, &rec->id, rec->type, &rec->part_id)) < 0)
        return error;
    if ((error = pending_add(fs, rec)) < 0) {
        dir_remove(parent, name);
        return error;
    }
    return 0;
}

/* ---- operations -------------------------------------------------------------------------- */

static int create_node(pond_fs *fs, const pond_wd *wd, const char *path, pond_entry_type type,
                       const char *target, bool exist_ok)
{
    res_t r;
    int error = resolve(&r, fs, wd, path, type == POND_ENTRY_DIRECTORY ? RES_FOLLOW : 0);
    if (error < 0)
        return error;
    pond_node_rec *rec = NULL;
    if (!r.parent) {
        error = exist_ok ? 0 : pond_error_set(POND_EEXISTS, D, "'/': already exists");
        goto done;
    }
    if (r.node) {
        if (exist_ok && r.node->type == POND_ENTRY_DIRECTORY)
            goto done;
        error = pond_error_set(POND_EEXISTS, D, "'%s': already exists", r.path);
        goto done;
    }
    if (r.dir && type != POND_ENTRY_DIRECTORY) {
        error = pond_error_set(POND_EINVALID, D, "'%s/': a %s name cannot end in '/'", r.path,
                               pond_entry_type_name(type));
        goto done;
    }
    if (pond_tinyfs__busy_find(fs, &r.parent->id, r.name)) {
        error = pond_tinyfs__busy_error(r.path);
        goto done;
    }
    if ((error = new_rec(&rec, fs, type, &r.parent->id)) < 0)
        goto done;
    if (type == POND_ENTRY_SYMLINK) {
        if (!(rec->symlink_target = pond_strdup(target))) {
            error = POND_ENOMEM;
            goto done;
        }
        rec->size = (int64_t)strlen(target);
        if ((error = pond_sha256_buf(&rec->sha256, target, strlen(target))) < 0)
            goto done;
    } else if (type != POND_ENTRY_DIRECTORY) {
        if ((error = pond_blob_from_buf(&rec->content, NULL, 0)) < 0)
            goto done;
        rec->sha256 = *pond_blob_sha256(rec->content);
    }
    pond_node_id pid = r.parent->id;
    res_drop_recs(&r);
    error = link_new(fs, &pid, r.name, rec);
done:
    pond_node_rec_unref(rec);
    res_dispose(&r);
    return error;
}

int pond_fs_mkdir(pond_fs *fs, const pond_wd *wd, const char *path, unsigned flags)
{
    POND_ASSERT_ARG(fs && path);
    pond_tinyfs__lock(fs);
    int error = pond_tinyfs__need_txn(fs, "mkdir", path);
    if (error == 0 && !(flags & POND_FS_MKDIR_PARENTS)) {
        error = create_node(fs, wd, path, POND_ENTRY_DIRECTORY, NULL, false);
    } else if (error == 0) {
        char *abs = NULL;
        if ((error = pond_path_normalize(&abs, NULL, wd ? wd->path : "/", path)) == 0) {
            /* each prefix in turn; a symlink to a directory counts as one */
            for (char *p = abs + 1; error == 0 && *p;) {
                char *end = strchr(p, '/');
                if (end)
                    *end = '\0';
                error = create_node(fs, NULL, abs, POND_ENTRY_DIRECTORY, NULL, true);
                if (!end)
                    break;
                if (error == POND_EEXISTS)
                    error = pond_error_set(POND_ENOTDIR, D, "'%s': not a directory", abs);
                *end = '/';
                p = end + 1;
            }
        }
        pond_free(abs);
    }
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_create(pond_fs *fs, const pond_wd *wd, const char *path, pond_entry_type type)
{
    POND_ASSERT_ARG(fs && path);
    if (!pond_entry_type_is_file(type))
        return pond_error_set(POND_EINVALID, D, "create '%s': %s is not a file type", path,
                              pond_entry_type_name(type));
    pond_tinyfs__lock(fs);
    int error = pond_tinyfs__need_txn(fs, "create", path);
    if (error == 0)
        error = create_node(fs, wd, path, type, NULL, false);
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_symlink(pond_fs *fs, const pond_wd *wd, const char *target, const char *linkpath)
{
    POND_ASSERT_ARG(fs && target && linkpath);
    size_t tl = strnlen(target, TINYFS_PATH_MAX + 1);
    if (tl == 0 || tl > TINYFS_PATH_MAX)
        return pond_error_set(POND_EINVALID, D, "symlink '%s': target is %s", linkpath,
                              tl ? "longer than 4096 bytes" : "empty");
    pond_tinyfs__lock(fs);
    int error = pond_tinyfs__need_txn(fs, "symlink", linkpath);
    if (error == 0)
        error = create_node(fs, wd, linkpath, POND_ENTRY_SYMLINK, target, false);
    pond_tinyfs__unlock(fs);
    return error;
}

/* The btime a version's attributes record (POND_XATTR_BTIME), if they do: read without parsing
 * the whole attributes (a series' can hold the hashes of thousands of compacted versions, and
 * every stat asks). */
static bool recorded_btime(int64_t *out, const pond_node_rec *n)
{
    int64_t v = 0;
    if (!n->xattrs_json || !pond__json_top_int(&v, n->xattrs_json, POND_XATTR_BTIME) || v <= 0)
        return false;
    *out = v;
    return true;
}

void pond_tinyfs__fill_stat(pond_stat *st, pond_fs *fs, const pond_node_rec *n)
{
    memset(st, 0, sizeof *st);
    st->type = n->type;
    st->id = n->id;
    st->version = n->version;
    st->txn_seq = n->txn_seq;
    st->size = n->size;
    st->mtime_us = st->btime_us = n->timestamp_us;
    st->sha256 = n->sha256;
    st->has_event_time = n->has_event_time;
    st->min_event_time_us = n->min_event_time_us;
    st->max_event_time_us = n->max_event_time_us;
    if (n->version > 1 && recorded_btime(&st->btime_us, n))
        return;
    if (n->version > 1 && fs && fs->be->get_version) {
        pond_node_rec *first = NULL;
        if (fs->be->get_version(&first, fs->be, &n->id, 1) == 0)
            st->btime_us = first->timestamp_us;
        pond_node_rec_unref(first);
    }
}

static int do_stat(pond_stat *out, pond_fs *fs, const pond_wd *wd, const char *path, int flags)
{
    POND_ASSERT_ARG(out && fs && path);
    pond_tinyfs__lock(fs);
    res_t r;
    int error = resolve(&r, fs, wd, path, flags);
    if (error == 0) {
        if (!r.node)
            error = pond_tinyfs__not_found(r.path);
        else
            pond_tinyfs__fill_stat(out, fs, r.node);
        res_dispose(&r);
    }
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_stat(pond_stat *out, pond_fs *fs, const pond_wd *wd, const char *path)
{
    return do_stat(out, fs, wd, path, RES_FOLLOW);
}

int pond_fs_lstat(pond_stat *out, pond_fs *fs, const pond_wd *wd, const char *path)
{
    return do_stat(out, fs, wd, path, 0);
}

void pond_fs_dirents_free(pond_fs_dirent *entries, size_t n)
{
    if (!entries)
        return;
    for (size_t i = 0; i < n; i++)
        pond_free(entries[i].name);
    pond_free(entries);
}

int pond_fs_readdir(pond_fs_dirent **out, size_t *n_out, pond_fs *fs, const pond_wd *wd,
                    const char *path)
{
    POND_ASSERT_ARG(out && n_out && fs && path);
    *out = NULL;
    *n_out = 0;
    pond_tinyfs__lock(fs);
    res_t r;
    int error = resolve(&r, fs, wd, path, RES_FOLLOW);
    if (error < 0)
        goto unlock;
    if (!r.node) {
        error = pond_tinyfs__not_found(r.path);
    } else if (r.node->type != POND_ENTRY_DIRECTORY) {
        error = pond_error_set(POND_ENOTDIR, D, "'%s': not a directory", r.path);
    } else {
        size_t n = r.node->n_entries;
        pond_fs_dirent *e = pond_calloc(n ? n : 1, sizeof *e);
        if (!e) {
            error = POND_ENOMEM;
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            if (!(e[i].name = pond_strdup(r.node->entries[i].name))) {
                pond_fs_dirents_free(e, i);
                error = POND_ENOMEM;
                goto done;
            }
            e[i].type = r.node->entries[i].type;
            e[i].id = r.node->entries[i].id;
        }
        *out = e;
        *n_out = n;
    }
done:
    res_dispose(&r);
unlock:
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_tinyfs__content_reader(pond_reader **out, pond_fs *fs, const pond_node_rec *n)
{
    if (n->content)
        return pond_blob_open_reader(out, n->content);
    if (!fs->be->open_content)
        return pond_error_set(POND_EUNSUPPORTED, D, "backend cannot read content");
    if (!(fs->in_txn && pond__idmap_get(&fs->pending, &n->id) == n))
        return fs->be->open_content(out, fs->be, n);
    /* a pending version without content of its own has its last committed version's bytes */
    pond_node_rec *prev = NULL;
    int error = fs->be->latest ? fs->be->latest(&prev, fs->be, &n->id)
                               : pond_error_set(POND_EUNSUPPORTED, D, "backend has no 'latest'");
    if (error == 0)
        error = fs->be->open_content(out, fs->be, prev);
    pond_node_rec_unref(prev);
    return error;
}

int pond_fs_read_all(pond_buf *out, pond_fs *fs, const pond_wd *wd, const char *path)
{
    POND_ASSERT_ARG(out && fs && path);
    pond_reader *rd = NULL;
    int error = pond_fs_open_reader(&rd, fs, wd, path);
    if (error < 0)
        return error;
    int64_t size = pond_reader_size(rd);
    size_t want;
    if ((uint64_t)size > SIZE_MAX / 2 || pond_add_overflow(&want, out->size, (size_t)size)) {
        error = pond_error_set(POND_ENOMEM, D, "'%s': %lld bytes do not fit in memory", path,
                               (long long)size);
    } else if ((error = pond_buf_grow(out, want + 1)) == 0 &&
               (error = pond_reader_read_exact(rd, out->ptr + out->size, (size_t)size)) == 0) {
        out->size = want;
        out->ptr[want] = '\0';
    }
    pond_reader_free(rd);
    return error;
}

static void set_content(pond_node_rec *rec, pond_blob *blob, const tinyfs_event_time *et)
{
    pond_blob_unref(rec->content);
    rec->content = blob;
    rec->size = pond_blob_size(blob);
    rec->sha256 = *pond_blob_sha256(blob);
    rec->has_event_time = et && et->has;
    rec->min_event_time_us = rec->has_event_time ? et->min_us : 0;
    rec->max_event_time_us = rec->has_event_time ? et->max_us : 0;
}

int pond_tinyfs__publish(pond_fs *fs, const pond_node_id *parent_id, const char *name,
                         const char *path, pond_entry_type type, pond_blob *blob,
                         const tinyfs_event_time *et)
{
    pond_node_rec *parent = NULL, *rec = NULL;
    int error = pond_tinyfs__get_node(&parent, fs, parent_id);
    if (error == POND_ENOMEM)
        goto done;
    if (error < 0 || parent->type != POND_ENTRY_DIRECTORY) {
        error = pond_error_set(POND_ENOTFOUND, D, "'%s': its directory was removed", path);
        goto done;
    }
    ptrdiff_t at = pond_tinyfs__dir_find(parent, name);
    if (at >= 0) {
        if (!pond_entry_type_is_file(parent->entries[at].type)) {
            error = pond_error_set(POND_EEXISTS, D, "'%s': now a %s", path,
                                   pond_entry_type_name(parent->entries[at].type));
            goto done;
        }
        pond_node_id id = parent->entries[at].id;
        pond_node_rec_unref(parent);
        parent = NULL;
        if ((error = pond_tinyfs__make_pending(&rec, fs, &id)) < 0)
            goto done;
        set_content(rec, blob, et); /* part_id stays: a moved file's versions stay home */
        blob = NULL;
        rec = NULL; /* borrowed from the overlay */
    } else {
        if ((error = new_rec(&rec, fs, type, parent_id)) < 0)
            goto done;
        set_content(rec, blob, et);
        blob = NULL;
        pond_node_rec_unref(parent);
        parent = NULL;
        error = link_new(fs, parent_id, name, rec);
    }
done:
    pond_node_rec_unref(rec);
    pond_node_rec_unref(parent);
    pond_blob_unref(blob);
    return error;
}

int pond_fs_write_all(pond_fs *fs, const pond_wd *wd, const char *path, pond_entry_type type,
                      const void *data, size_t len)
{
    pond_writer *w = NULL;
    int error = pond_fs_open_writer(&w, fs, wd, path, type);
    if (error == 0 && (error = pond_writer_write(w, data, len)) == 0)
        error = pond_writer_finish(w);
    pond_writer_free(w);
    return error;
}

int pond_fs_remove(pond_fs *fs, const pond_wd *wd, const char *path, bool recursive)
{
    POND_ASSERT_ARG(fs && path);
    pond_tinyfs__lock(fs);
    res_t r;
    int error = pond_tinyfs__need_txn(fs, "remove", path);
    if (error < 0)
        goto unlock;
    if ((error = resolve(&r, fs, wd, path, 0)) < 0)
        goto unlock;
    if (!r.node) {
        error = pond_tinyfs__not_found(r.path);
    } else if (!r.parent) {
        error = pond_error_set(POND_EINVALID, D, "'/': the root cannot be removed");
    } else if (r.node->type == POND_ENTRY_DIRECTORY && r.node->n_entries && !recursive) {
        error = pond_error_set(POND_ENOTEMPTY, D, "'%s': directory not empty", r.path);
    } else if ((error = check_not_busy(fs, &r)) == 0) {
        pond_node_rec *parent;
        pond_node_id pid = r.parent->id;
        res_drop_recs(&r);
        if ((error = pond_tinyfs__make_pending(&parent, fs, &pid)) == 0)
            dir_remove(parent, r.name);
    }
    res_dispose(&r);
unlock:
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_rename(pond_fs *fs, const pond_wd *wd, const char *from, const char *to)
{
    POND_ASSERT_ARG(fs && from && to);
    pond_tinyfs__lock(fs);
    res_t s, d;
    memset(&d, 0, sizeof d);
    int error = pond_tinyfs__need_txn(fs, "rename", from);
    if (error < 0)
        goto unlock;
    if ((error = resolve(&s, fs, wd, from, 0)) < 0)
        goto unlock;
    if (!s.node) {
        error = pond_tinyfs__not_found(s.path);
        goto done;
    }
    if (!s.parent) {
        error = pond_error_set(POND_EINVALID, D, "'/': the root cannot be moved");
        goto done;
    }
    if ((error = check_not_busy(fs, &s)) < 0)
        goto done;
    if ((error = resolve(&d, fs, wd, to, RES_FOLLOW | RES_CHAIN)) < 0)
        goto done;
    pond_node_id target_dir;
    const char *target_name;
    if (d.node && pond_node_id_equal(&d.node->id, &s.node->id))
        goto done; /* the same entry: nothing to do */
    if (d.node && d.node->type == POND_ENTRY_DIRECTORY) {
        target_dir = d.node->id;
        target_name = s.name;
        if ((error = chain_push(&d, &d.node->id)) < 0)
            goto done;
        if (pond_tinyfs__dir_find(d.node, target_name) >= 0) {
            if (pond_node_id_equal(&d.node->id, &s.parent->id))
                goto done; /* moving into its own directory: nothing to do */
            error = pond_error_set(POND_EEXISTS, D, "'%s/%s': already exists",
                                   strcmp(d.path, "/") ? d.path : "", target_name);
            goto done;
        }
    } else if (d.node) {
        error = pond_error_set(POND_EEXISTS, D, "'%s': already exists", d.path);
        goto done;
    } else if (d.dir) {
        error = pond_tinyfs__not_found(d.path);
        goto done;
    } else {
        target_dir = d.parent->id;
        target_name = d.name;
    }
    if (s.node->type == POND_ENTRY_DIRECTORY) {
        for (size_t i = 0; i < d.n_chain; i++) {
            if (pond_node_id_equal(&d.chain[i], &s.node->id)) {
                error = pond_error_set(POND_EINVALID, D, "cannot move '%s' into itself ('%s')",
                                       s.path, d.path);
                goto done;
            }
        }
    }
    if (pond_tinyfs__busy_find(fs, &target_dir, target_name)) {
        error = pond_tinyfs__busy_error(d.path);
        goto done;
    }
    pond_node_id src_dir = s.parent->id, src_id = s.node->id, home = s.node->part_id;
    pond_entry_type src_type = s.node->type;
    bool moves = !pond_node_id_equal(&target_dir, &src_dir);
    /* Only the two listings change: the node keeps its id, its versions and its home partition
     * (the target's entry names the home when it is elsewhere). A node created in this very
     * transaction has no versions anywhere yet, so it simply gets the target as its home,
     * unless it is its own home (a series). */
    pond_node_rec *pend = pond__idmap_get(&fs->pending, &src_id), *node = NULL;
    bool rehome = moves && src_type != POND_ENTRY_DIRECTORY && pend && pend->version == 1 &&
                  pond_node_id_equal(&home, &src_dir);
    pond_node_rec *tdir = NULL, *sdir = NULL;
    res_drop_recs(&s);
    res_drop_recs(&d);
    if (rehome) {
        if ((error = pond_tinyfs__make_pending(&node, fs, &src_id)) < 0)
            goto done;
        home = target_dir;
    }
    char *sname = pond_strdup(s.name);
    if (!sname) {
        error = POND_ENOMEM;
    } else if ((error = pond_tinyfs__make_pending(&tdir, fs, &target_dir)) == 0 &&
               (error = dir_insert(tdir, target_name, &src_id, src_type, &home)) == 0 &&
               (error = pond_tinyfs__make_pending(&sdir, fs, &src_dir)) == 0) {
        dir_remove(sdir, sname);
        if (node)
            node->part_id = home;
    } else if (error < 0 && tdir && pond_tinyfs__dir_find(tdir, target_name) >= 0) {
        dir_remove(tdir, target_name);
    }
    pond_free(sname);
done:
    res_dispose(&d);
    res_dispose(&s);
unlock:
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_readlink(char **out, pond_fs *fs, const pond_wd *wd, const char *path)
{
    POND_ASSERT_ARG(out && fs && path);
    *out = NULL;
    pond_tinyfs__lock(fs);
    res_t r;
    int error = resolve(&r, fs, wd, path, 0);
    if (error == 0) {
        if (!r.node)
            error = pond_tinyfs__not_found(r.path);
        else if (r.node->type != POND_ENTRY_SYMLINK)
            error = pond_error_set(POND_EINVALID, D, "'%s': not a symlink", r.path);
        else if (!(*out = pond_strdup(r.node->symlink_target)))
            error = POND_ENOMEM;
        res_dispose(&r);
    }
    pond_tinyfs__unlock(fs);
    return error;
}

/* ---- working directories ------------------------------------------------------------------- */

int pond_wd_open(pond_wd **out, pond_fs *fs, const pond_wd *base, const char *path)
{
    POND_ASSERT_ARG(out && fs && path);
    *out = NULL;
    pond_tinyfs__lock(fs);
    res_t r;
    int error = resolve(&r, fs, base, path, RES_FOLLOW);
    if (error == 0) {
        if (!r.node)
            error = pond_tinyfs__not_found(r.path);
        else if (r.node->type != POND_ENTRY_DIRECTORY)
            error = pond_error_set(POND_ENOTDIR, D, "'%s': not a directory", r.path);
        else if (!(*out = pond_calloc(1, sizeof **out)))
            error = POND_ENOMEM;
        else {
            (*out)->fs = fs;
            (*out)->path = r.path;
            r.path = NULL;
        }
        res_dispose(&r);
    }
    pond_tinyfs__unlock(fs);
    return error;
}

const char *pond_wd_path(const pond_wd *wd) { return wd ? wd->path : "/"; }

void pond_wd_free(pond_wd *wd)
{
    if (!wd)
        return;
    pond_free(wd->path);
    pond_free(wd);
}

int pond_tinyfs__lookup(pond_node_rec **out, char **path_out, pond_fs *fs, const char *abs_path,
                        bool follow)
{
    res_t r;
    *out = NULL;
    *path_out = NULL;
    int error = resolve(&r, fs, NULL, abs_path, follow ? RES_FOLLOW : 0);
    if (error < 0)
        return error;
    if (!r.node) {
        error = pond_tinyfs__not_found(r.path);
    } else {
        *out = r.node;
        *path_out = r.path;
        r.node = NULL;
        r.path = NULL;
    }
    res_dispose(&r);
    return error;
}

int pond_tinyfs__resolve_entry(tinyfs_entry *out, pond_fs *fs, const pond_wd *wd, const char *path,
                               bool follow)
{
    res_t r;
    memset(out, 0, sizeof *out);
    int error = resolve(&r, fs, wd, path, follow ? RES_FOLLOW : 0);
    if (error < 0)
        return error;
    out->dir = r.dir;
    if (r.parent) {
        out->has_parent = true;
        out->parent = r.parent->id;
        if (!(out->name = pond_strdup(r.name)))
            error = POND_ENOMEM;
    }
    out->path = r.path;
    r.path = NULL;
    res_dispose(&r);
    if (error < 0)
        pond_tinyfs__entry_dispose(out);
    return error;
}

void pond_tinyfs__entry_dispose(tinyfs_entry *e)
{
    pond_free(e->path);
    pond_free(e->name);
    memset(e, 0, sizeof *e);
}
