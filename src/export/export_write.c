/* Export output files: one Parquet writer per open partition (at most EX_MAX_WRITERS at once,
 * so memory stays bounded by that many row groups), each writing a temporary file in
 * _pond_tmp/ that is published later by rename; and the publishing itself. */
#include "export/export_internal.h"

#include <pond/tinyfs.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void pond_ex_written_dispose(ex_written *w)
{
    pond_free(w->name);
    pond_free(w->key);
    pond_free(w->tmp);
    pond_free(w->stats);
}

static int count_write(const void *data, size_t len, void *payload)
{
    ex_writer *w = payload;
    int rc = w->file.write(data, len, w->file.payload);
    if (rc == 0) {
        w->bytes += (int64_t)len;
        *w->total += (int64_t)len;
    }
    return rc;
}

static int count_sync(void *payload)
{
    ex_writer *w = payload;
    return w->file.sync ? w->file.sync(w->file.payload) : 0;
}

static void writer_dispose(ex_ctx *c, ex_writer *w, bool drop_file)
{
    pond_parquet_writer_free(w->pw);
    pond_parquet_file_sink_close(&w->file);
    if (drop_file && w->tmp_path)
        (void)pond__os_unlink(w->tmp_path);
    if (w->stats)
        for (int64_t k = 0; k < c->out_schema.n_children; k++)
            pond_ex_colstats_dispose(&w->stats[k]);
    pond_free(w->stats);
    pond_free(w->tmp_name);
    pond_free(w->tmp_path);
    pond_free(w->final_name);
    memset(w, 0, sizeof *w);
}

int pond_ex_check_dirs(const char *dir, const char *rel)
{
    char *p = pond__path_join(dir, rel);
    if (!p)
        return POND_ENOMEM;
    int rc = 0;
    for (char *s = p + strlen(p) - strlen(rel); *s && rc == 0; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        struct stat st;
        if (pond__os_lstat(p, &st) == 0 && !S_ISDIR(st.st_mode))
            rc = pond_error_set(POND_ECORRUPT, EX_D,
                                "'%s' is %s: export writes and removes files only inside %s", p,
                                S_ISLNK(st.st_mode) ? "a symbolic link" : "not a directory", dir);
        *s = '/';
    }
    pond_free(p);
    return rc;
}

static uint32_t random32(void)
{
    pond_node_id id;
    uint32_t r = 0;
    if (pond_node_id_new(&id) == 0)
        memcpy(&r, id.bytes + 12, 4);
    return r ^ (uint32_t)getpid();
}

static int writer_open(ex_ctx *c, ex_writer *w, const ex_key *key)
{
    memset(w, 0, sizeof *w);
    w->key = *key;
    w->total = &c->bytes;
    pond_ex_key_text(w->keytext, key, c->level);
    int64_t seq = ++c->seq;
    pond_buf b = POND_BUF_INIT;
    char *dirpath = NULL;
    int rc = pond_buf_printf(&b, "%06" PRId64 "-%05" PRId64 ".tmp", c->run, seq);
    if (rc == 0 && !(w->tmp_name = pond_buf_detach(&b)))
        rc = POND_ENOMEM;
    if (rc == 0 && !(w->tmp_path = pond__path_join(c->tmpdir, w->tmp_name)))
        rc = POND_ENOMEM;
    if (rc == 0)
        rc = pond_ex_key_dir(&b, key, c->level);
    if (rc == 0 && c->level > 0) {
        if (!(dirpath = pond__path_join(c->dir, b.ptr)))
            rc = POND_ENOMEM;
        else if ((rc = pond_buf_putc(&b, '/')) == 0 &&
                 (rc = pond_ex_check_dirs(c->dir, b.ptr)) == 0)
            rc = pond__mkdir_p(dirpath, EX_D);
        b.ptr[--b.size] = '\0';
    }
    size_t dirlen = b.size;
    /* a name no earlier file has: the run and sequence are unique within this directory's
     * state, the random part guards against files left by a state that was deleted */
    for (int attempt = 0; rc == 0; attempt++) {
        b.size = dirlen;
        rc = pond_buf_printf(&b, "%spart-%06" PRId64 "-%05" PRId64 "-%08" PRIx32 ".parquet",
                             dirlen ? "/" : "", c->run, seq, random32());
        char *full = rc == 0 ? pond__path_join(c->dir, b.ptr) : NULL;
        struct stat st;
        bool taken = full && pond__os_lstat(full, &st) == 0;
        pond_free(full);
        if (rc == 0 && !full)
            rc = POND_ENOMEM;
        if (rc < 0 || !taken)
            break;
        if (attempt == 8)
            rc = pond_error_set(POND_EEXISTS, EX_D, "%s: no free file name in '%s'", c->path,
                                dirpath ? dirpath : c->dir);
    }
    if (rc == 0 && !(w->final_name = pond_buf_detach(&b)))
        rc = POND_ENOMEM;
    pond_buf_dispose(&b);
    pond_free(dirpath);
    if (rc == 0)
        rc = pond_parquet_file_sink_open(&w->file, w->tmp_path);
    pond_parquet_writer_options po = POND_PARQUET_WRITER_OPTIONS_INIT;
    /* zstd level 1: every engine reads it, and it costs about half of level 3 for a file
     * ~10% larger (the same choice as the pond's own tables, docs/decisions.md) */
    po.compression_level = 1;
    /* an export is a file for other engines: every chunk has the codec the user asked for,
     * even where it saves little (docs/decisions.md) */
    po.adaptive_codec = false;
    if (c->o->row_group_rows > 0)
        po.row_group_rows = c->o->row_group_rows;
    pond_parquet_sink counting = {count_write, count_sync, w};
    if (rc == 0)
        rc = pond_parquet_writer_new(&w->pw, &counting, &c->out_schema, &po);
    if (rc == 0 && c->delta) {
        int64_t n = c->out_schema.n_children;
        if (!(w->stats = pond_calloc((size_t)(n ? n : 1), sizeof *w->stats)))
            rc = POND_ENOMEM;
        for (int64_t k = 0; k < n && rc == 0; k++)
            pond_ex_colstats_init(&w->stats[k], c->out_schema.children[k]);
    }
    if (rc < 0)
        writer_dispose(c, w, true);
    return rc;
}

static int writer_finish(ex_ctx *c, ex_writer *w)
{
    ex_written d = {0};
    int rc = pond_parquet_writer_finish(w->pw);
    if (rc == 0)
        rc = pond_parquet_file_sink_close(&w->file);
    if (rc == 0 && w->stats) {
        pond_buf s = POND_BUF_INIT;
        rc = pond_ex_stats_json(&s, w->rows, &c->out_schema, w->stats);
        if (rc == 0 && !(d.stats = pond_buf_detach(&s)))
            rc = POND_ENOMEM;
        pond_buf_dispose(&s);
    }
    if (rc == 0) {
        d.name = w->final_name;
        d.tmp = w->tmp_name;
        d.rows = w->rows;
        d.bytes = w->bytes;
        if (!(d.key = pond_strdup(w->keytext)))
            rc = POND_ENOMEM;
    }
    if (rc == 0 && (rc = pond_buf_put(&c->written, &d, sizeof d)) == 0) {
        w->final_name = w->tmp_name = NULL; /* now owned by the written entry */
        c->res->files_written++;
        c->res->bytes_written += w->bytes;
        writer_dispose(c, w, false);
        return 0;
    }
    pond_free(d.key);
    pond_free(d.stats);
    writer_dispose(c, w, true);
    return rc;
}

/* Finishes (or, after an error, drops) writer i and takes it out of the open set. */
static int writer_close(ex_ctx *c, size_t i, bool finish)
{
    ex_writer *w = c->writers[i];
    int rc = 0;
    if (finish)
        rc = writer_finish(c, w);
    else
        writer_dispose(c, w, true);
    pond_free(w);
    c->writers[i] = c->writers[--c->n_writers];
    c->writers[c->n_writers] = NULL;
    return rc;
}

int pond_ex_finish_all(ex_ctx *c)
{
    int rc = 0;
    while (c->n_writers) {
        int r = writer_close(c, c->n_writers - 1, rc == 0);
        rc = r < 0 ? r : rc;
    }
    return rc;
}

void pond_ex_drop_all(ex_ctx *c)
{
    while (c->n_writers)
        (void)writer_close(c, c->n_writers - 1, false);
}

static int writer_for(size_t *out, ex_ctx *c, const ex_key *key)
{
    for (size_t i = 0; i < c->n_writers; i++)
        if (pond_ex_key_equal(&c->writers[i]->key, key)) {
            *out = i;
            return 0;
        }
    if (c->n_writers == EX_MAX_WRITERS) {
        /* unsorted data touching many partitions: close the least recently used file */
        size_t lru = 0;
        for (size_t i = 1; i < c->n_writers; i++)
            if (c->writers[i]->last_use < c->writers[lru]->last_use)
                lru = i;
        int rc = writer_close(c, lru, true);
        if (rc < 0)
            return rc;
    }
    ex_writer *w = pond_calloc(1, sizeof *w);
    if (!w)
        return POND_ENOMEM;
    int rc = writer_open(c, w, key);
    if (rc < 0) {
        pond_free(w);
        return rc;
    }
    c->writers[c->n_writers] = w;
    *out = c->n_writers++;
    return 0;
}

static void noop_release(struct ArrowArray *a) { a->release = NULL; }

int pond_ex_emit(ex_ctx *c, const ex_key *key, const struct ArrowArray *batch, const int *map,
                 const int64_t *idx, int64_t n)
{
    size_t wi;
    int rc = writer_for(&wi, c, key);
    if (rc < 0)
        return rc;
    ex_writer *w = c->writers[wi];
    int64_t nout = c->out_schema.n_children;
    struct ArrowArray *owned = pond_calloc((size_t)(nout ? nout : 1), sizeof *owned);
    struct ArrowArray **ptrs = pond_calloc((size_t)(nout ? nout : 1), sizeof *ptrs);
    if (!owned || !ptrs) {
        rc = POND_ENOMEM;
        goto done;
    }
    /* whole batches go through as they are (the writer only reads them); a subset of the rows,
     * a converted column or an offset batch is gathered into new arrays */
    bool whole = !idx && batch->offset == 0;
    for (int64_t k = 0; k < nout && rc == 0; k++) {
        const struct ArrowSchema *t = c->out_schema.children[k];
        if (map[k] < 0) {
            rc = pond_arrow_nulls(&owned[k], t, n);
            ptrs[k] = &owned[k];
        } else if (whole && !c->cast_ns[k]) {
            ptrs[k] = batch->children[map[k]];
        } else {
            rc = pond_ex_take(&owned[k], t, batch->children[map[k]], batch->offset, idx, n,
                              c->cast_ns[k]);
            ptrs[k] = &owned[k];
        }
    }
    if (rc < 0)
        goto done;
    const void *bufs[1] = {NULL};
    struct ArrowArray view = {n, 0, 0, 1, 0, bufs, ptrs, NULL, noop_release, NULL};
    view.n_children = nout;
    if ((rc = pond_parquet_writer_write(w->pw, &view)) < 0)
        goto done;
    for (int64_t k = 0; w->stats && k < nout && rc == 0; k++)
        rc = pond_ex_colstats_add(&w->stats[k], c->out_schema.children[k], ptrs[k], n);
    w->rows += n;
    w->last_use = ++c->tick;
    c->rows += n;
    c->res->rows += n;
    if (c->o->progress)
        c->o->progress(c->path, c->rows, c->bytes, c->o->payload);
    int64_t target = c->o->target_file_bytes > 0 ? c->o->target_file_bytes : (int64_t)128 << 20;
    if (rc == 0 && w->bytes >= target)
        rc = writer_close(c, wi, true);
done:
    for (int64_t k = 0; owned && k < nout; k++)
        pond_arrow_array_release(&owned[k]);
    pond_free(owned);
    pond_free(ptrs);
    return rc;
}

/* ---- temporary files ---- */

static bool tmp_name(const char *n)
{
    size_t i = 0, d1 = 0, d2 = 0;
    while (n[i] >= '0' && n[i] <= '9')
        i++, d1++;
    if (!d1 || n[i++] != '-')
        return false;
    while (n[i] >= '0' && n[i] <= '9')
        i++, d2++;
    return d2 && !strcmp(n + i, ".tmp");
}

int pond_ex_clean_tmp(const char *tmpdir)
{
    DIR *d = pond__os_opendir(tmpdir);
    if (!d)
        return errno == ENOENT ? 0 : pond_error_set_os(EX_D, "open directory '%s'", tmpdir);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!tmp_name(e->d_name))
            continue;
        char *p = pond__path_join(tmpdir, e->d_name);
        struct stat st;
        if (!p)
            rc = POND_ENOMEM;
        else if (pond__os_lstat(p, &st) == 0 && S_ISREG(st.st_mode) && pond__os_unlink(p) < 0 &&
                 errno != ENOENT)
            rc = pond_error_set_os(EX_D, "remove '%s'", p);
        pond_free(p);
    }
    closedir(d);
    return rc;
}

/* ---- publishing ---- */

/* The distinct parent directories of the files touched, to fsync once each. */
typedef struct {
    pond_buf dirs; /* char * */
} dirset;

static int dirset_put(dirset *s, const char *dir, size_t n)
{
    char **v = (char **)s->dirs.ptr;
    for (size_t i = 0; i < s->dirs.size / sizeof(char *); i++)
        if (strlen(v[i]) == n && !memcmp(v[i], dir, n))
            return 0;
    char *d = pond_strndup(dir, n);
    if (!d)
        return POND_ENOMEM;
    int rc = pond_buf_put(&s->dirs, &d, sizeof d);
    if (rc < 0)
        pond_free(d);
    return rc;
}

/* Adds the directory holding path (an absolute or dir-relative path with a '/'). */
static int dirset_add(dirset *s, const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? dirset_put(s, path, (size_t)(slash - path)) : dirset_put(s, ".", 1);
}

static int dirset_sync(dirset *s)
{
    int rc = 0;
    char **v = (char **)s->dirs.ptr;
    for (size_t i = 0; i < s->dirs.size / sizeof(char *); i++) {
        struct stat st;
        if (rc == 0 && pond__os_lstat(v[i], &st) == 0)
            rc = pond__fsync_dir(v[i], EX_D);
        pond_free(v[i]);
    }
    pond_buf_dispose(&s->dirs);
    return rc;
}

/* Unlinks one file the journal removes (gone already is fine). */
static int remove_one(dirset *ds, const char *dir, const char *name)
{
    int rc = pond_ex_check_dirs(dir, name);
    char *p = rc == 0 ? pond__path_join(dir, name) : NULL;
    if (rc == 0 && !p)
        rc = POND_ENOMEM;
    if (rc == 0 && pond__os_unlink(p) < 0 && errno != ENOENT)
        rc = pond_error_set_os(EX_D, "remove '%s'", p);
    if (rc == 0)
        rc = dirset_add(ds, p);
    pond_free(p);
    return rc;
}

/* Renames one new file into place (in place already is fine: a redone journal). */
static int publish_one(dirset *ds, const char *dir, const char *tmpdir, const ex_file *f)
{
    int rc = pond_ex_check_dirs(dir, f->name);
    if (rc < 0)
        return rc;
    char *src = pond__path_join(tmpdir, f->tmp), *dst = pond__path_join(dir, f->name);
    struct stat st;
    if (!src || !dst) {
        rc = POND_ENOMEM;
    } else if (pond__os_lstat(src, &st) == 0) {
        char *slash = strrchr(dst, '/');
        *slash = '\0';
        rc = pond__mkdir_p(dst, EX_D);
        *slash = '/';
        if (rc == 0 && pond__os_rename(src, dst) < 0)
            rc = pond_error_set_os(EX_D, "rename '%s' to '%s'", src, dst);
    } else if (pond__os_lstat(dst, &st) != 0) {
        rc = pond_error_set(POND_ECORRUPT, EX_D,
                            "'%s': neither the file nor its temporary file '%s' exists (remove "
                            "%s/" EX_JOURNAL " and export again)",
                            dst, src, dir);
    }
    if (rc == 0)
        rc = dirset_add(ds, dst);
    pond_free(src);
    pond_free(dst);
    return rc;
}

int pond_ex_publish_files(const char *dir, const ex_state *j, bool remove)
{
    dirset ds = {POND_BUF_INIT};
    char *tmpdir = pond__path_join(dir, EX_TMPDIR);
    int rc = tmpdir ? 0 : POND_ENOMEM;
    /* removed files go first: a reader may miss rows for a moment, never see them twice */
    for (size_t i = 0; remove && i < pond_ex_state_nremoved(j) && rc == 0; i++)
        rc = remove_one(&ds, dir, pond_ex_state_removed(j, i)->name);
    if (rc == 0 && remove)
        rc = dirset_sync(&ds);
    for (size_t i = 0; i < pond_ex_state_nfiles(j) && rc == 0; i++)
        if (pond_ex_state_file(j, i)->tmp)
            rc = publish_one(&ds, dir, tmpdir, pond_ex_state_file(j, i));
    if (rc == 0)
        rc = dirset_put(&ds, tmpdir, strlen(tmpdir)); /* the renames took names out of it */
    int r2 = dirset_sync(&ds);
    pond_free(tmpdir);
    return rc < 0 ? rc : r2;
}

static bool partition_component(const char *name)
{
    return !strncmp(name, "year=", 5) || !strncmp(name, "month=", 6) || !strncmp(name, "day=", 4);
}

void pond_ex_prune_dirs(const char *dir, const ex_state *j)
{
    for (size_t i = 0; i < pond_ex_state_nremoved(j); i++) {
        char *p = pond__path_join(dir, pond_ex_state_removed(j, i)->name);
        if (!p)
            return;
        /* up to three levels of partition directories, deepest first; rmdir keeps non-empty
         * ones (and anything not a partition directory is never touched) */
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(p, '/');
            if (!slash || (size_t)(slash - p) <= strlen(dir))
                break;
            *slash = '\0';
            const char *last = strrchr(p, '/');
            if (!partition_component(last ? last + 1 : p) || pond__os_rmdir(p) < 0)
                break;
        }
        pond_free(p);
    }
}
