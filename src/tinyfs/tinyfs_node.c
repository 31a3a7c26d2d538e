/* Node handles: a path walked once, then stat, versions, readers, writers and attributes by
 * the entry's directory and name. The path-based calls of the same names are this plus one
 * walk, so there is one implementation of each. */
#include "tinyfs/tinyfs_internal.h"

#include <string.h>

#define D POND_DOM_TINYFS

struct pond_fs_node {
    pond_fs *fs;
    tinyfs_entry e;
};

static int node_new(pond_fs_node **out, pond_fs *fs, const pond_wd *wd, const char *path,
                    bool follow)
{
    *out = NULL;
    pond_fs_node *h = pond_calloc(1, sizeof *h);
    if (!h)
        return POND_ENOMEM;
    h->fs = fs;
    int error = pond_tinyfs__resolve_entry(&h->e, fs, wd, path, follow);
    if (error < 0) {
        pond_free(h);
        return error;
    }
    *out = h;
    return 0;
}

int pond_fs_node_open(pond_fs_node **out, pond_fs *fs, const pond_wd *wd, const char *path,
                      unsigned flags)
{
    POND_ASSERT_ARG(out && fs && path);
    pond_tinyfs__lock(fs);
    int error = node_new(out, fs, wd, path, !(flags & POND_FS_NODE_NOFOLLOW));
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_node_dup(pond_fs_node **out, const pond_fs_node *node)
{
    POND_ASSERT_ARG(out && node);
    *out = NULL;
    pond_fs_node *h = pond_calloc(1, sizeof *h);
    if (!h)
        return POND_ENOMEM;
    h->fs = node->fs;
    h->e = node->e;
    h->e.path = pond_strdup(node->e.path);
    h->e.name = node->e.name ? pond_strdup(node->e.name) : NULL;
    if (!h->e.path || (node->e.name && !h->e.name)) {
        pond_fs_node_free(h);
        return POND_ENOMEM;
    }
    *out = h;
    return 0;
}

void pond_fs_node_free(pond_fs_node *node)
{
    if (!node)
        return;
    pond_tinyfs__entry_dispose(&node->e);
    pond_free(node);
}

const char *pond_fs_node_path(const pond_fs_node *node) { return node->e.path; }

pond_fs *pond_fs_node_fs(const pond_fs_node *node) { return node->fs; }

/* The entry's current record (a new reference), or NULL when its directory no longer lists
 * the name. */
static int entry_rec(pond_node_rec **out, pond_fs_node *h)
{
    *out = NULL;
    if (!h->e.has_parent) {
        pond_node_id root = pond_node_id_root();
        return pond_tinyfs__get_node(out, h->fs, &root);
    }
    pond_node_rec *dir = NULL;
    int error = pond_tinyfs__get_node(&dir, h->fs, &h->e.parent);
    if (error == POND_ENOTFOUND)
        return 0;
    if (error < 0)
        return error;
    ptrdiff_t at = dir->type == POND_ENTRY_DIRECTORY ? pond_tinyfs__dir_find(dir, h->e.name) : -1;
    if (at >= 0) {
        pond_node_id id = dir->entries[at].id;
        error = pond_tinyfs__get_node(out, h->fs, &id);
    }
    pond_node_rec_unref(dir);
    return error;
}

static int existing_rec(pond_node_rec **out, pond_fs_node *h)
{
    int error = entry_rec(out, h);
    if (error == 0 && !*out)
        error = pond_tinyfs__not_found(h->e.path);
    return error;
}

int pond_fs_node_stat(pond_stat *out, pond_fs_node *node)
{
    POND_ASSERT_ARG(out && node);
    pond_tinyfs__lock(node->fs);
    pond_node_rec *rec = NULL;
    int error = existing_rec(&rec, node);
    if (error == 0)
        pond_tinyfs__fill_stat(out, node->fs, rec);
    pond_node_rec_unref(rec);
    pond_tinyfs__unlock(node->fs);
    return error;
}

/* A version's recorded event-time range overlaps [from, to], or it has none. */
static bool may_overlap(const pond_node_rec *r, const int64_t *range)
{
    return !range || !r->has_event_time ||
           (r->max_event_time_us >= range[0] && r->min_event_time_us <= range[1]);
}

/* The stored versions of the entry plus the transaction's pending one (fs locked):
 * *recs from the backend (free with pond_node_recs_free), *extra the pending or unwritten
 * record to list after them (or NULL; a reference). With range ([from, to] event times), only
 * the stored versions that may hold event times in it. */
static int version_recs(pond_node_rec ***recs, size_t *n, pond_node_rec **extra, pond_fs_node *h,
                        const int64_t *range)
{
    *recs = NULL;
    *n = 0;
    *extra = NULL;
    pond_fs *fs = h->fs;
    pond_node_rec *rec = NULL;
    int error = existing_rec(&rec, h);
    if (error < 0)
        return error;
    bool pending = fs->in_txn && pond__idmap_get(&fs->pending, &rec->id) == rec;
    bool ranged = range && fs->be->version >= 4 && fs->be->list_versions_overlapping;
    if (ranged || fs->be->list_versions) {
        error = ranged ? fs->be->list_versions_overlapping(recs, n, fs->be, &rec->id, range[0],
                                                           range[1])
                       : fs->be->list_versions(recs, n, fs->be, &rec->id);
        if (error == POND_ENOTFOUND && (pending || rec->version == 0))
            error = 0;
        /* exactly the overlapping ones, whichever way the backend answered (it may say more) */
        size_t k = 0;
        for (size_t i = 0; error == 0 && i < *n; i++) {
            if (may_overlap((*recs)[i], range))
                (*recs)[k++] = (*recs)[i];
            else
                pond_node_rec_unref((*recs)[i]);
        }
        if (error == 0)
            *n = k;
    } else if (!pending) {
        error = pond_error_set(POND_EUNSUPPORTED, D, "backend cannot list versions");
    }
    if (error == 0 && (pending || (!*n && rec->version == 0)))
        *extra = pond_node_rec_ref(rec);
    if (error == 0 && !*n && !*extra && !range)
        error = pond_tinyfs__not_found(h->e.path);
    pond_node_rec_unref(rec);
    if (error < 0) {
        pond_node_recs_free(*recs, *n);
        *recs = NULL;
        *n = 0;
    }
    return error;
}

int pond_fs_node_versions(pond_stat **out, size_t *n_out, pond_fs_node *node)
{
    POND_ASSERT_ARG(out && n_out && node);
    *out = NULL;
    *n_out = 0;
    pond_tinyfs__lock(node->fs);
    pond_node_rec **v = NULL, *extra = NULL;
    size_t n = 0;
    int error = version_recs(&v, &n, &extra, node, NULL);
    size_t total = n + (extra != NULL);
    pond_stat *s = error == 0 ? pond_calloc(total, sizeof *s) : NULL;
    if (error == 0 && !s)
        error = POND_ENOMEM;
    if (error == 0) {
        for (size_t i = 0; i < n; i++)
            pond_tinyfs__fill_stat(&s[i], NULL, v[i]);
        if (extra)
            pond_tinyfs__fill_stat(&s[n], NULL, extra);
        for (size_t i = 1; i < total; i++)
            s[i].btime_us = s[0].mtime_us;
        *out = s;
        *n_out = total;
    }
    pond_node_recs_free(v, n);
    pond_node_rec_unref(extra);
    pond_tinyfs__unlock(node->fs);
    return error;
}

static int foreach_version(pond_fs_node *node, const int64_t *range, pond_fs_version_fn fn,
                           void *payload)
{
    pond_tinyfs__lock(node->fs);
    pond_node_rec **v = NULL, *extra = NULL;
    size_t n = 0;
    int error = version_recs(&v, &n, &extra, node, range);
    int64_t btime = n ? v[0]->timestamp_us : extra ? extra->timestamp_us : 0;
    if (error == 0 && range) { /* the first version listed need not be version 1 */
        pond_node_rec *rec = NULL;
        pond_stat st;
        if ((error = existing_rec(&rec, node)) == 0) {
            pond_tinyfs__fill_stat(&st, node->fs, rec);
            btime = st.btime_us;
        }
        pond_node_rec_unref(rec);
    }
    for (size_t i = 0; error == 0 && i < n + (extra != NULL); i++) {
        const pond_node_rec *r = i < n ? v[i] : extra;
        pond_stat st;
        pond_tinyfs__fill_stat(&st, NULL, r);
        st.btime_us = btime;
        error = fn(&st, r->xattrs_json, payload);
    }
    pond_node_recs_free(v, n);
    pond_node_rec_unref(extra);
    pond_tinyfs__unlock(node->fs);
    return error;
}

int pond_fs_node_foreach_version(pond_fs_node *node, pond_fs_version_fn fn, void *payload)
{
    POND_ASSERT_ARG(node && fn);
    return foreach_version(node, NULL, fn, payload);
}

int pond_fs_node_foreach_version_overlapping(pond_fs_node *node, int64_t from_us, int64_t to_us,
                                             pond_fs_version_fn fn, void *payload)
{
    POND_ASSERT_ARG(node && fn);
    int64_t range[2] = {from_us, to_us};
    return foreach_version(node, range, fn, payload);
}

static int file_check(const pond_node_rec *rec, const char *path)
{
    if (!rec)
        return pond_tinyfs__not_found(path);
    if (rec->type == POND_ENTRY_DIRECTORY)
        return pond_error_set(POND_EISDIR, D, "'%s': is a directory", path);
    if (!pond_entry_type_is_file(rec->type))
        return pond_error_set(POND_EINVALID, D, "'%s': is a %s, not a file", path,
                              pond_entry_type_name(rec->type));
    return 0;
}

static bool busy(pond_fs_node *h)
{
    return h->e.has_parent && pond_tinyfs__busy_find(h->fs, &h->e.parent, h->e.name);
}

int pond_fs_node_open_reader(pond_reader **out, pond_fs_node *node, int64_t version)
{
    POND_ASSERT_ARG(out && node && version >= 0);
    *out = NULL;
    pond_fs *fs = node->fs;
    pond_tinyfs__lock(fs);
    pond_node_rec *rec = NULL, *v = NULL;
    int error = entry_rec(&rec, node);
    if (error == 0)
        error = file_check(rec, node->e.path);
    if (error < 0)
        goto done;
    /* an open writer makes the file busy; the versions it already has are immutable and
     * stay readable by number (series compaction reads them while writing their merge) */
    if (version == 0 && busy(node)) {
        error = pond_tinyfs__busy_error(node->e.path);
    } else if (version == 0 || rec->version == version) {
        error = pond_tinyfs__content_reader(out, fs, rec);
    } else if (!fs->be->get_version) {
        error = pond_error_set(POND_EUNSUPPORTED, D, "backend cannot read old versions");
    } else if ((error = fs->be->get_version(&v, fs->be, &rec->id, version)) < 0) {
        pond_error_prefix("'%s'", node->e.path);
    } else {
        error = fs->be->open_content
                    ? fs->be->open_content(out, fs->be, v)
                    : pond_error_set(POND_EUNSUPPORTED, D, "backend cannot read content");
    }
    if (error == 0 && (error = pond_tinyfs__reader_name(*out, node->e.path)) < 0) {
        pond_reader_free(*out);
        *out = NULL;
    }
done:
    pond_node_rec_unref(v);
    pond_node_rec_unref(rec);
    pond_tinyfs__unlock(fs);
    return error;
}

static int check_file_type(pond_entry_type type, const char *path)
{
    if (type != POND_ENTRY_NONE && !pond_entry_type_is_file(type))
        return pond_error_set(POND_EINVALID, D, "write '%s': %s is not a file type", path,
                              pond_entry_type_name(type));
    return 0;
}

int pond_fs_node_open_writer(pond_writer **out, pond_fs_node *node, pond_entry_type type)
{
    POND_ASSERT_ARG(out && node);
    *out = NULL;
    pond_fs *fs = node->fs;
    const char *path = node->e.path;
    int error = check_file_type(type, path);
    if (error < 0)
        return error;
    pond_tinyfs__lock(fs);
    pond_node_rec *rec = NULL;
    if ((error = pond_tinyfs__need_txn(fs, "write", path)) < 0)
        goto done;
    if (!node->e.has_parent) {
        error = pond_error_set(POND_EISDIR, D, "'/': is a directory");
    } else if (node->e.dir) {
        error = pond_error_set(POND_EISDIR, D, "'%s/': a file name cannot end in '/'", path);
    } else if ((error = entry_rec(&rec, node)) < 0) {
        /* error set */
    } else if (rec && (error = file_check(rec, path)) < 0) {
        /* error set */
    } else if (rec && type != POND_ENTRY_NONE && type != rec->type) {
        error = pond_error_set(POND_EINVALID, D, "'%s' is %s, not %s", path,
                               pond_entry_type_name(rec->type), pond_entry_type_name(type));
    } else if (busy(node)) {
        error = pond_tinyfs__busy_error(path);
    } else {
        if (type == POND_ENTRY_NONE)
            type = rec ? rec->type : POND_ENTRY_FILE_DATA;
        error = pond_tinyfs__writer_new(out, fs, &node->e.parent, node->e.name, path, type);
    }
done:
    pond_node_rec_unref(rec);
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_node_get_xattrs(char **out, pond_fs_node *node)
{
    POND_ASSERT_ARG(out && node);
    *out = NULL;
    pond_tinyfs__lock(node->fs);
    pond_node_rec *rec = NULL;
    int error = existing_rec(&rec, node);
    if (error == 0 && rec->xattrs_json && !(*out = pond_strdup(rec->xattrs_json)))
        error = POND_ENOMEM;
    pond_node_rec_unref(rec);
    pond_tinyfs__unlock(node->fs);
    return error;
}

int pond_fs_node_set_xattrs(pond_fs_node *node, const char *json)
{
    POND_ASSERT_ARG(node);
    pond_fs *fs = node->fs;
    pond_tinyfs__lock(fs);
    pond_node_rec *rec = NULL, *pend = NULL;
    char *copy = NULL;
    int error = pond_tinyfs__need_txn(fs, "set attributes of", node->e.path);
    if (error == 0)
        error = existing_rec(&rec, node);
    if (error < 0)
        goto done;
    if (busy(node)) {
        error = pond_tinyfs__busy_error(node->e.path);
    } else if (json && !(copy = pond_strdup(json))) {
        error = POND_ENOMEM;
    } else {
        pond_node_id id = rec->id;
        pond_node_rec_unref(rec); /* so the overlay can change its pending version in place */
        rec = NULL;
        if ((error = pond_tinyfs__make_pending(&pend, fs, &id)) == 0) {
            pond_free(pend->xattrs_json);
            pend->xattrs_json = copy;
            copy = NULL;
        }
    }
done:
    pond_free(copy);
    pond_node_rec_unref(rec);
    pond_tinyfs__unlock(fs);
    return error;
}

/* ---- the path-based calls: one walk, then the handle's operation ------------------------- */

int pond_fs_open_reader(pond_reader **out, pond_fs *fs, const pond_wd *wd, const char *path)
{
    return pond_fs_open_reader_version(out, fs, wd, path, 0);
}

int pond_fs_open_reader_version(pond_reader **out, pond_fs *fs, const pond_wd *wd, const char *path,
                                int64_t version)
{
    POND_ASSERT_ARG(out && fs && path);
    *out = NULL;
    pond_tinyfs__lock(fs);
    pond_fs_node *h = NULL;
    int error = node_new(&h, fs, wd, path, true);
    /* by path, any version of a file a writer is open on is busy (as it always was) */
    if (error == 0 && version > 0 && busy(h)) {
        pond_node_rec *rec = NULL;
        error = entry_rec(&rec, h);
        if (error == 0 && (error = file_check(rec, h->e.path)) == 0)
            error = pond_tinyfs__busy_error(h->e.path);
        pond_node_rec_unref(rec);
    }
    if (error == 0)
        error = pond_fs_node_open_reader(out, h, version);
    pond_fs_node_free(h);
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_versions(pond_stat **out, size_t *n_out, pond_fs *fs, const pond_wd *wd,
                     const char *path)
{
    POND_ASSERT_ARG(out && n_out && fs && path);
    *out = NULL;
    *n_out = 0;
    pond_tinyfs__lock(fs);
    pond_fs_node *h = NULL;
    int error = node_new(&h, fs, wd, path, false);
    if (error == 0)
        error = pond_fs_node_versions(out, n_out, h);
    pond_fs_node_free(h);
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_open_writer(pond_writer **out, pond_fs *fs, const pond_wd *wd, const char *path,
                        pond_entry_type type)
{
    POND_ASSERT_ARG(out && fs && path);
    *out = NULL;
    int error = check_file_type(type, path);
    if (error < 0)
        return error;
    pond_tinyfs__lock(fs);
    pond_fs_node *h = NULL;
    if ((error = pond_tinyfs__need_txn(fs, "write", path)) == 0 &&
        (error = node_new(&h, fs, wd, path, true)) == 0)
        error = pond_fs_node_open_writer(out, h, type);
    pond_fs_node_free(h);
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_get_xattrs(char **out, pond_fs *fs, const pond_wd *wd, const char *path)
{
    POND_ASSERT_ARG(out && fs && path);
    *out = NULL;
    pond_tinyfs__lock(fs);
    pond_fs_node *h = NULL;
    int error = node_new(&h, fs, wd, path, true);
    if (error == 0)
        error = pond_fs_node_get_xattrs(out, h);
    pond_fs_node_free(h);
    pond_tinyfs__unlock(fs);
    return error;
}

int pond_fs_set_xattrs(pond_fs *fs, const pond_wd *wd, const char *path, const char *json)
{
    POND_ASSERT_ARG(fs && path);
    pond_tinyfs__lock(fs);
    pond_fs_node *h = NULL;
    int error = pond_tinyfs__need_txn(fs, "set attributes of", path);
    if (error == 0 && (error = node_new(&h, fs, wd, path, true)) == 0)
        error = pond_fs_node_set_xattrs(h, json);
    pond_fs_node_free(h);
    pond_tinyfs__unlock(fs);
    return error;
}
