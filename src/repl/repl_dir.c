/* The directory transport: a remote pond that is a directory on this machine (another disk, a
 * mounted share). It is also what the wire server runs on its side, and how push and pull read
 * the local pond, so every byte any transport stores goes through here.
 *
 * Durability order (docs/replication.md, "Batches and power cuts"): data files are written to
 * `_host/incoming/` and renamed into place at the next sync; blobs are published by the store's
 * own writer (fsync, rename); commits and checkpoints are written to temp files in `_delta_log/`
 * and staged. A sync places the data files, names the staged log files in the push intent,
 * makes all of it durable with one syncfs, links the log files in order (put-if-absent), fsyncs
 * `_delta_log/` once and removes the intent. So the log never names a file that is not
 * durable, and a power cut inside the batch leaves a gap only the intent explains (and the
 * next writer removes). O(1) synchronous writes per batch instead of three per commit. */
#include "repl/repl_internal.h"

#include <pond/cas.h>
#include <pond/delta.h>
#include <pond/oplog.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#define IO_CHUNK ((size_t)256 * 1024)
#define MAX_DATA_FILE ((size_t)1 << 31)

typedef struct {
    char *tmp;    /* _host/incoming/<name>, or _delta_log/.tmp-repl-<name> */
    char *final;  /* absolute final path */
    repl_obj obj; /* staged log files: what it is (kind, version, size, sha256) */
    bool linked;  /* staged log files: this run linked it (withdrawn if not made durable) */
} pending_file;

typedef struct {
    repl_remote base;
    char *dir;     /* the pond as named */
    char *work;    /* where objects go: dir, or the temp directory of a first push */
    bool incoming; /* work is the temp directory */
    int lock_fd;
    pond_cas *cas;
    pending_file *pend; /* data files received, not yet in place */
    size_t n_pend, cap_pend;
    pending_file *staged; /* commits received, not yet published (in version order) */
    size_t n_staged, cap_staged;
    pond_oplog_lease *lease;
    uint32_t seq;
    /* `_host/incoming/` and `_delta_log/` of work were made or checked as real directories in
     * this session (a check per received file was two failing mkdirs each) */
    bool incoming_ok, log_ok;
} dir_remote;

#define DR(r) ((dir_remote *)(r))

/* Every op sees everything put before it: staged commits are published first. */
static int publish(dir_remote *d);

/* ---- objects ------------------------------------------------------------------------------- */

static bool plain_name(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

int pond_repl_obj_check(repl_obj *o)
{
    char hex[65];
    switch (o->kind) {
    case REPL_COMMIT:
    case REPL_CHECKPOINT:
        if (o->version < 0 || o->version > 99999999999999999LL)
            return pond_error_set(POND_ECORRUPT, R, "log version %" PRId64 " is out of range",
                                  o->version);
        snprintf(o->path, sizeof o->path, "_delta_log/%020" PRId64 "%s", o->version,
                 o->kind == REPL_COMMIT ? ".json" : ".checkpoint.parquet");
        return 0;
    case REPL_LAST_CHECKPOINT:
        snprintf(o->path, sizeof o->path, "_delta_log/_last_checkpoint");
        return 0;
    case REPL_BLOB:
        pond_hash_hex(hex, &o->sha256);
        snprintf(o->path, sizeof o->path, "_large_files/%.2s/%s", hex, hex);
        o->has_sha = true;
        return 0;
    case REPL_DATA: {
        size_t n = strnlen(o->path, sizeof o->path);
        const char *slash = n < sizeof o->path ? memchr(o->path, '/', n) : NULL;
        pond_node_id id;
        char uuid[POND_NODE_ID_STRLEN + 1] = {0};
        bool ok =
            slash && slash - o->path == 8 + POND_NODE_ID_STRLEN && !strncmp(o->path, "part_id=", 8);
        if (ok) {
            memcpy(uuid, o->path + 8, POND_NODE_ID_STRLEN);
            ok = pond_node_id_parse(&id, uuid) == 0;
        }
        const char *name = slash ? slash + 1 : "";
        size_t nl = n - (size_t)(name - o->path);
        ok = ok && nl > 8 && !strcmp(name + nl - 8, ".parquet") && plain_name(name, nl);
        if (!ok) {
            pond_error_clear();
            return pond_error_set(POND_ECORRUPT, R,
                                  "'%.*s' is not a data file path (part_id=<uuid>/<name>.parquet)",
                                  (int)(n < 120 ? n : 120), o->path);
        }
        return 0;
    }
    }
    return pond_error_set(POND_ECORRUPT, R, "unknown object kind %d", (int)o->kind);
}

/* ---- small file helpers --------------------------------------------------------------------- */

static char *join(const char *a, const char *b) { return pond__path_join(a, b); }

/* SHA-256 and size of the pond file root/rel (no link followed in any component of rel, never
 * blocking on a FIFO). */
static int hash_file(pond_hash *sha_out, int64_t *size_out, const char *root, const char *rel)
{
    int fd = -1;
    int rc = pond__open_pond_file_in(&fd, root, rel, R);
    if (rc < 0)
        return rc;
    char *path = join(root, rel);
    if (!path) {
        pond__close(fd);
        return POND_ENOMEM;
    }
    pond_sha256 *h = NULL;
    char *buf = pond_malloc(IO_CHUNK);
    int64_t size = 0;
    if (!buf || (rc = pond_sha256_new(&h)) < 0)
        rc = rc < 0 ? rc : POND_ENOMEM;
    while (rc == 0) {
        size_t got = 0;
        if ((rc = pond__pread_full(&got, fd, buf, IO_CHUNK, size, path, R)) < 0 || got == 0)
            break;
        rc = pond_sha256_update(h, buf, got);
        size += (int64_t)got;
    }
    if (rc == 0)
        rc = pond_sha256_final(sha_out, h);
    if (rc == 0)
        *size_out = size;
    pond_sha256_free(h);
    pond_free(buf);
    pond_free(path);
    pond__close(fd);
    return rc;
}

static int random_name(char out[40], dir_remote *d, const char *suffix)
{
    uint32_t rnd;
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return pond_error_set_os(R, "getrandom");
    snprintf(out, 40, "%ld-%u-%08x%s", (long)getpid(), ++d->seq, rnd, suffix);
    return 0;
}

/* ---- the log listing ----------------------------------------------------------------------- */

typedef struct {
    repl_log_entry *v;
    size_t n, cap;
} log_vec;

static int parse_log_name(repl_log_entry *e, const char *name)
{
    size_t n = strlen(name);
    if (n < 21 || name[20] != '.')
        return 0;
    for (int i = 0; i < 20; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    e->version = strtoll(name, NULL, 10);
    if (!strcmp(name + 21, "json"))
        e->kind = REPL_COMMIT;
    else if (!strcmp(name + 21, "checkpoint.parquet"))
        e->kind = REPL_CHECKPOINT;
    else
        return 0;
    return 1;
}

static int log_cmp(const void *a, const void *b)
{
    const repl_log_entry *x = a, *y = b;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    return (int)x->kind - (int)y->kind;
}

static int list_log_dir(log_vec *out, const char *pond)
{
    /* a power cut inside a batch: the log ends before its gap (pond_oplog_intent_end) */
    int64_t end = -1;
    int rc = pond_oplog_intent_end(&end, pond);
    if (rc < 0)
        return rc;
    /* the pond's own directories: never through a link (the path to the pond may be one) */
    pond_dir *root = NULL, *d = NULL;
    rc = pond__dir_open(&root, pond, true, R);
    if (rc == 0)
        rc = pond__dir_open_at(&d, root, "_delta_log", R);
    pond__dir_close(root);
    if (rc == POND_ENOTFOUND) {
        pond_error_clear();
        return 0;
    }
    if (rc < 0)
        return rc;
    pond_dirent e;
    while ((rc = pond__dir_next(&e, d, R)) == 0) {
        repl_log_entry le = {0};
        if (!parse_log_name(&le, e.name) || (end >= 0 && le.version > end))
            continue;
        le.size = S_ISREG(e.st.st_mode) ? (int64_t)e.st.st_size : -1;
        if (POND_GROW(out->v, out->n, out->cap) < 0) {
            rc = POND_ENOMEM;
            break;
        }
        out->v[out->n++] = le;
    }
    pond__dir_close(d);
    if (rc == POND_ITEROVER)
        rc = 0;
    if (rc == 0 && out->n)
        qsort(out->v, out->n, sizeof *out->v, log_cmp);
    return rc;
}

static bool log_has(const log_vec *l, int64_t version, repl_kind kind)
{
    size_t lo = 0, hi = l->n;
    repl_log_entry key = {version, kind, 0};
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = log_cmp(&l->v[mid], &key);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int fill_info(repl_info *out, const char *pond)
{
    log_vec l = {0};
    int rc = list_log_dir(&l, pond);
    out->head = out->low = out->last_checkpoint = -1;
    out->head_is_commit = false;
    out->pond_id[0] = out->format[0] = '\0';
    if (rc < 0 || l.n == 0) {
        pond_free(l.v);
        return rc;
    }
    out->head = l.v[l.n - 1].version;
    out->head_is_commit = log_has(&l, out->head, REPL_COMMIT);
    for (size_t i = l.n; i > 0; i--)
        if (l.v[i - 1].kind == REPL_CHECKPOINT) {
            out->last_checkpoint = l.v[i - 1].version;
            break;
        }
    int64_t v = out->head_is_commit ? out->head : out->head - 1;
    while (v >= 0 && log_has(&l, v, REPL_COMMIT))
        v--;
    out->low = v + 1;
    pond_free(l.v);
    pond_delta_table *t = NULL;
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = out->head;
    if ((rc = pond_delta_table_open(&t, pond, &o)) < 0)
        return rc;
    const pond_delta_metadata *m = pond_delta_table_metadata(t);
    const char *fmt = pond_delta_table_config(t, "pond.format");
    snprintf(out->pond_id, sizeof out->pond_id, "%s", m && m->id ? m->id : "");
    snprintf(out->format, sizeof out->format, "%s", fmt ? fmt : "");
    pond_delta_table_free(t);
    return 0;
}

/* ---- ops ----------------------------------------------------------------------------------- */

static int clean_incoming(dir_remote *d)
{
    int64_t n = 0;
    /* under the writer lock every file there is a dead transfer's, and a push intent is a
     * batch a power cut interrupted: finished first (docs/replication.md) */
    int rc = pond_oplog_host_temps(d->work, 0, true, NULL, NULL, &n);
    return rc < 0 ? rc : pond_oplog_intent_finish(d->work);
}

static int lock_pond(dir_remote *d)
{
    char *lp = join(d->work, "_pond.lock");
    if (!lp)
        return POND_ENOMEM;
    int rc = pond__open_lock_file(&d->lock_fd, lp, R); /* never through a link */
    if (rc == 0 && pond__os_flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0)
        rc = errno == EWOULDBLOCK
                 ? pond_error_set(POND_EBUSY, R, "pond '%s' is busy: another writer holds its lock",
                                  d->dir)
                 : pond_error_set_os(R, "lock '%s'", lp);
    pond_free(lp);
    return rc;
}

static int incoming_name(char **out, const char *dir)
{
    /* <parent>/.<name>.pond-incoming: beside the pond, so the final rename stays on one file
     * system, and the same for every attempt, so an interrupted first push resumes */
    const char *slash = strrchr(dir, '/');
    pond_buf b = POND_BUF_INIT;
    int rc = slash
                 ? pond_buf_printf(&b, "%.*s/.%s.pond-incoming", (int)(slash - dir), dir, slash + 1)
                 : pond_buf_printf(&b, ".%s.pond-incoming", dir);
    if (rc < 0) {
        pond_buf_dispose(&b);
        return rc;
    }
    *out = pond_buf_detach(&b);
    return 0;
}

static int dir_is_empty(bool *out, const char *dir)
{
    DIR *d = pond__os_opendir(dir);
    if (!d)
        return pond_error_set_os(R, "open '%s'", dir);
    struct dirent *e;
    *out = true;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            *out = false;
    closedir(d);
    return 0;
}

static int d_open(repl_info *out, repl_remote *r, repl_open_mode mode)
{
    dir_remote *d = DR(r);
    memset(out, 0, sizeof *out);
    int rc = 0;
    struct stat st;
    bool exists = pond__os_stat(d->dir, &st) == 0;
    if (exists && !S_ISDIR(st.st_mode))
        return pond_error_set(POND_EEXISTS, R, "'%s' exists and is not a directory", d->dir);
    if (exists && pond_oplog_is_pond(d->dir)) {
        out->exists = true;
        if (mode == REPL_OPEN_WRITE && ((rc = lock_pond(d)) < 0 || (rc = clean_incoming(d)) < 0))
            return rc;
        if ((rc = fill_info(out, d->dir)) < 0)
            return rc;
        /* reading the log needs no lease (gc never removes commits); whoever reads data
         * files and blobs holds one first (hold), so a refused run writes nothing */
        return rc;
    }
    if (mode == REPL_OPEN_READ)
        return 0; /* out->exists false: the caller says what that means */
    if (exists) {
        bool empty = false;
        if ((rc = dir_is_empty(&empty, d->dir)) < 0)
            return rc;
        if (!empty)
            return pond_error_set(POND_EEXISTS, R, "'%s' is not a pond and not empty", d->dir);
    }
    pond_free(d->work);
    d->work = NULL;
    d->incoming_ok = d->log_ok = false;
    if ((rc = incoming_name(&d->work, d->dir)) < 0)
        return rc;
    d->incoming = true;
    if ((rc = pond__mkdir(d->work, true, R)) < 0 || (rc = pond__fsync_parent(d->work, R)) < 0)
        return rc;
    if ((rc = lock_pond(d)) < 0 || (rc = clean_incoming(d)) < 0)
        return rc;
    pond_cas_free(d->cas);
    d->cas = NULL;
    out->exists = true;
    out->incoming = true;
    return fill_info(out, d->work);
}

static int d_list_log(repl_remote *r, int64_t from, int64_t to, repl_log_fn fn, void *payload)
{
    int prc = publish(DR(r));
    if (prc < 0)
        return prc;
    log_vec l = {0};
    int rc = list_log_dir(&l, DR(r)->work);
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        if (l.v[i].version >= from && l.v[i].version <= to)
            rc = fn(&l.v[i], payload);
    pond_free(l.v);
    return rc;
}

static int d_hash_log(pond_hash *out, bool *present, repl_remote *r, const repl_obj *objs, size_t n)
{
    int prc = publish(DR(r));
    if (prc < 0)
        return prc;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int64_t size;
        rc = hash_file(&out[i], &size, DR(r)->work, objs[i].path);
        present[i] = rc == 0;
        if (rc == POND_ENOTFOUND) {
            pond_error_clear();
            rc = 0;
        }
    }
    return rc;
}

static int d_store(dir_remote *d)
{
    if (d->cas)
        return 0;
    char *s = join(d->work, "_large_files");
    if (!s)
        return POND_ENOMEM;
    int rc = pond_cas_open(&d->cas, s, NULL);
    pond_free(s);
    return rc;
}

/* Whether the store has a regular file at rel (of size, unless size < 0); opened as a pond
 * file, so a link anywhere below the pond or a FIFO is not a blob. */
static int store_file_present(bool *out, dir_remote *d, const char *rel, int64_t size)
{
    int fd = -1;
    *out = false;
    int rc = pond__open_pond_file_in(&fd, d->work, rel, R);
    if (rc == POND_ENOMEM)
        return rc;
    if (rc == 0) {
        struct stat st;
        *out = pond__os_fstat(fd, &st) == 0 && (size < 0 || (int64_t)st.st_size == size);
        pond__close(fd);
    }
    pond_error_clear();
    return 0;
}

static int blob_present(bool *out, dir_remote *d, const pond_hash *sha, int64_t size)
{
    char hex[65], rel[200];
    pond_hash_hex(hex, sha);
    snprintf(rel, sizeof rel, "_large_files/%.2s/%s", hex, hex);
    int rc = store_file_present(out, d, rel, size);
    if (rc == 0 && *out) {
        snprintf(rel, sizeof rel, "_large_files/%.2s/%s.chunks", hex, hex);
        rc = store_file_present(out, d, rel, -1);
    }
    return rc;
}

/* Whether an answer about objs depends on what is received but not yet published: a data file
 * while data files wait, a log file that is staged. have() of the next batch's data files or
 * of a checkpoint does not publish, so a batch's commits are linked with the next batch's data
 * files, in one sync. */
static bool depends_on_pending(const dir_remote *d, const repl_obj *objs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const repl_obj *o = &objs[i];
        if (o->kind == REPL_DATA && d->n_pend)
            return true;
        for (size_t k = 0; o->kind != REPL_DATA && o->kind != REPL_BLOB && k < d->n_staged; k++)
            if (d->staged[k].obj.kind == o->kind && d->staged[k].obj.version == o->version)
                return true;
    }
    return false;
}

static int d_have(bool *out, repl_remote *r, const repl_obj *objs, size_t n)
{
    int prc = depends_on_pending(DR(r), objs, n) ? publish(DR(r)) : 0;
    if (prc < 0)
        return prc;
    dir_remote *d = DR(r);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const repl_obj *o = &objs[i];
        if (o->kind == REPL_BLOB) {
            rc = blob_present(&out[i], d, &o->sha256, o->size);
            continue;
        }
        pond_hash h;
        int64_t size = -1;
        struct stat st;
        char *p = join(d->work, o->path);
        if (!p)
            return POND_ENOMEM;
        /* absent (most files of a first push): no walk of the path; present: read and hashed
         * through the walk that never follows a link */
        bool absent = pond__os_lstat(p, &st) != 0 && errno == ENOENT;
        pond_free(p);
        if (absent) {
            out[i] = false;
            continue;
        }
        int hrc = hash_file(&h, &size, d->work, o->path);
        out[i] = hrc == 0 && (o->size < 0 || size == o->size) &&
                 (!o->has_sha || pond_hash_equal(&h, &o->sha256));
        if (hrc == POND_ENOMEM)
            rc = hrc;
        pond_error_clear();
    }
    return rc;
}

typedef struct {
    dir_remote *d;
    repl_blob_fn fn;
    void *payload;
} mb_ctx;

static int mb_blob(const pond_hash *sha, int64_t size, const pond_hash *root, void *payload)
{
    mb_ctx *c = payload;
    bool have;
    int rc = blob_present(&have, c->d, sha, size);
    if (rc < 0 || have)
        return rc;
    repl_blob_ref b = {*sha, *root, size};
    return c->fn(&b, c->payload);
}

static int d_missing_blobs(repl_remote *r, const repl_obj *files, size_t n, repl_blob_fn fn,
                           void *payload)
{
    int prc = publish(DR(r));
    if (prc < 0)
        return prc;
    dir_remote *d = DR(r);
    mb_ctx c = {d, fn, payload};
    pond_buf mem = POND_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *p = join(d->work, files[i].path);
        if (!p) {
            rc = POND_ENOMEM;
            break;
        }
        if ((rc = pond__read_file_in(&mem, d->work, files[i].path, MAX_DATA_FILE, R)) == 0)
            rc = pond_oplog_data_file_blobs(mem.ptr ? mem.ptr : "", mem.size, p, mb_blob, &c);
        pond_free(p);
    }
    pond_buf_dispose(&mem);
    return rc;
}

typedef struct {
    int fd;
    int64_t off;
    char *path;
} file_source;

static int fs_read(void *self, void *buf, size_t cap, size_t *n_out)
{
    file_source *f = self;
    int rc = pond__pread_full(n_out, f->fd, buf, cap, f->off, f->path, R);
    f->off += (int64_t)*n_out;
    return rc;
}

static void fs_close(void *self)
{
    file_source *f = self;
    if (!f)
        return;
    pond__close(f->fd);
    pond_free(f->path);
    pond_free(f);
}

static int d_get(repl_source *out, repl_remote *r, const repl_obj *obj)
{
    int prc = publish(DR(r));
    if (prc < 0)
        return prc;
    file_source *f = pond_calloc(1, sizeof *f);
    if (!f)
        return POND_ENOMEM;
    f->fd = -1;
    int rc = (f->path = join(DR(r)->work, obj->path)) ? 0 : POND_ENOMEM;
    if (rc == 0)
        rc = pond__open_pond_file_in(&f->fd, DR(r)->work, obj->path, R);
    if (rc < 0) {
        fs_close(f);
        return rc;
    }
    *out = (repl_source){fs_read, fs_close, f};
    return 0;
}

typedef struct {
    repl_obj_fn fn;
    void *payload;
} live_ctx;

static int live_file(const pond_delta_file *f, void *payload)
{
    live_ctx *c = payload;
    repl_obj o = {.kind = REPL_DATA, .size = f->size};
    if (strlen(f->decoded_path) >= sizeof o.path)
        return pond_error_set(POND_ECORRUPT, R, "data file path '%s' is too long", f->decoded_path);
    strcpy(o.path, f->decoded_path);
    for (size_t i = 0; i < f->n_tags; i++)
        if (!strcmp(f->tags[i].key, "pond.sha256") && f->tags[i].value)
            o.has_sha = pond_hash_from_hex(&o.sha256, f->tags[i].value) == 0;
    int rc = pond_repl_obj_check(&o);
    return rc < 0 ? rc : c->fn(&o, c->payload);
}

static int d_live_files(repl_remote *r, int64_t version, repl_obj_fn fn, void *payload)
{
    int prc = publish(DR(r));
    if (prc < 0)
        return prc;
    pond_delta_table *t = NULL;
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = version;
    live_ctx c = {fn, payload};
    int rc = pond_delta_table_open(&t, DR(r)->work, &o);
    if (rc == 0)
        rc = pond_delta_table_foreach_file(t, live_file, &c);
    pond_delta_table_free(t);
    return rc;
}

/* Streams src into a cas writer: the source reads straight into the writer's chunk buffers
 * (no copy), and the writer's hash thread hashes one while the next is read. */
static int receive_blob(int64_t *size_out, const repl_source *src, pond_cas_writer *w)
{
    int64_t size = 0;
    int rc;
    for (;;) {
        void *p;
        size_t cap, got = 0;
        if ((rc = pond_cas_writer_buffer(&p, &cap, w)) < 0 ||
            (rc = src->read(src->self, p, cap, &got)) < 0 ||
            (rc = pond_cas_writer_commit(w, got)) < 0 || got == 0)
            break;
        size += (int64_t)got;
    }
    *size_out = size;
    return rc;
}

/* Streams src into fd, hashing: its size and SHA-256 for the caller to check. */
static int receive(int64_t *size_out, pond_hash *sha_out, const repl_source *src, int fd,
                   const char *path)
{
    pond_sha256 *h = NULL;
    char *buf = pond_malloc(IO_CHUNK);
    int rc = buf ? pond_sha256_new(&h) : POND_ENOMEM;
    int64_t size = 0;
    while (rc == 0) {
        size_t got = 0;
        if ((rc = src->read(src->self, buf, IO_CHUNK, &got)) < 0 || got == 0)
            break;
        size += (int64_t)got;
        if ((rc = pond_sha256_update(h, buf, got)) == 0)
            rc = pond__write_all(fd, buf, got, path, R);
    }
    if (rc == 0)
        rc = pond_sha256_final(sha_out, h);
    *size_out = size;
    pond_sha256_free(h);
    pond_free(buf);
    return rc;
}

static int mismatch(const repl_obj *o, const char *url, int64_t size, const pond_hash *got)
{
    char want[65], have[65];
    pond_hash_hex(want, &o->sha256);
    pond_hash_hex(have, got);
    if (o->size >= 0 && size != o->size)
        return pond_error_set(POND_ECORRUPT, R,
                              "%s from '%s' has %lld bytes, %lld expected: refused", o->path, url,
                              (long long)size, (long long)o->size);
    return pond_error_set(POND_ECORRUPT, R,
                          "%s from '%s' does not match its SHA-256 (%s, expected %s): refused",
                          o->path, url, have, want);
}

static int put_blob(dir_remote *d, const repl_obj *o, const repl_source *src)
{
    int rc = d_store(d);
    pond_cas_writer *w = NULL;
    pond_cas_ref ref;
    int64_t size = 0;
    if (rc == 0)
        rc = pond_cas_writer_new(&w, d->cas);
    if (rc == 0)
        rc = receive_blob(&size, src, w);
    /* a blob that does not hash to its name is published under the name it does hash to,
     * where it is harmless unreferenced garbage; it never takes the expected name */
    if (rc == 0)
        rc = pond_cas_writer_finish(&ref, w);
    pond_cas_writer_free(w);
    if (rc == 0 && (!pond_hash_equal(&ref.sha256, &o->sha256) || ref.size != o->size))
        rc = mismatch(o, d->base.url, ref.size, &ref.sha256);
    if (rc == 0 && !pond_hash_equal(&ref.root, &o->root))
        rc = pond_error_set(POND_ECORRUPT, R,
                            "%s: its chunk table root differs from the one its data file "
                            "records (another chunk size?): refused",
                            o->path);
    return rc;
}

/* A large received file's bytes start going to disk as soon as it is written, so that the
 * batch's syncfs finds them written (received while the rest arrives). Small files are left
 * to the syncfs, which writes them together: a writeback started per small file is an I/O
 * each. */
#define WRITEBACK_MIN ((int64_t)1 << 20)

/* Receives object o from src into the new file tmp and checks its size and SHA-256 against
 * what the source listed (a data file must list a hash: it is content-addressed; a log file
 * may not); tmp is removed on any failure. */
static int receive_file(int64_t *size, pond_hash *sha, dir_remote *d, const repl_obj *o,
                        const repl_source *src, const char *tmp, bool sha_required)
{
    int fd = -1;
    int rc = pond__open(&fd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644, R);
    if (rc == 0)
        rc = receive(size, sha, src, fd, tmp);
    if (rc == 0 && ((o->size >= 0 && *size != o->size) ||
                    (o->has_sha ? !pond_hash_equal(sha, &o->sha256) : sha_required)))
        rc = mismatch(o, d->base.url, *size, sha);
    if (rc == 0 && *size >= WRITEBACK_MIN)
        pond__writeback_hint(fd, 0, 0);
    pond__close(fd);
    if (rc < 0 && fd >= 0)
        (void)pond__os_unlink(tmp);
    return rc;
}

static int incoming_tmp(char **out, dir_remote *d)
{
    char name[40];
    char *inc = NULL;
    pond_buf b = POND_BUF_INIT;
    int rc = random_name(name, d, ".tmp");
    if (rc == 0)
        rc = pond_buf_printf(&b, "%s/%s", d->work, POND_HOST_DIR);
    /* real directories only: received bytes never land outside the pond */
    if (rc == 0 && !d->incoming_ok && (rc = pond__mkdir_own(b.ptr, NULL, R)) == 0 &&
        (rc = pond_buf_puts(&b, "/incoming")) == 0 && (rc = pond__mkdir_own(b.ptr, NULL, R)) == 0)
        d->incoming_ok = true;
    else if (rc == 0 && d->incoming_ok)
        rc = pond_buf_puts(&b, "/incoming");
    if (rc == 0)
        rc = pond_buf_printf(&b, "/%s", name);
    if (rc == 0)
        inc = pond_buf_detach(&b);
    pond_buf_dispose(&b);
    *out = inc;
    return rc;
}

static int push_pending(pending_file **v, size_t *n, size_t *cap, const pending_file *f)
{
    if (POND_GROW(*v, *n, *cap) < 0)
        return POND_ENOMEM;
    (*v)[(*n)++] = *f;
    return 0;
}

/* fsync a closed file by name (the received files are closed after writing: a batch may hold
 * more files than a process may keep open) */
static int fsync_path(const char *path)
{
    int fd = -1;
    int rc = pond__open(&fd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0, R);
    if (rc == 0)
        rc = pond__fsync(fd, path, R);
    pond__close(fd);
    return rc;
}

static int put_data(dir_remote *d, const repl_obj *o, const repl_source *src)
{
    char *tmp = NULL, *final = join(d->work, o->path);
    int rc = final ? incoming_tmp(&tmp, d) : POND_ENOMEM;
    int64_t size = 0;
    pond_hash sha;
    if (rc == 0 && (rc = receive_file(&size, &sha, d, o, src, tmp, true)) == 0) {
        pending_file pf = {tmp, final, *o, false};
        if ((rc = push_pending(&d->pend, &d->n_pend, &d->cap_pend, &pf)) < 0)
            (void)pond__os_unlink(tmp);
    }
    if (rc < 0) {
        pond_free(tmp);
        pond_free(final);
    }
    return rc;
}

/* Forgets received files not yet in place (removing their temp files). */
static void drop_pending(pending_file *v, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        if (v[i].tmp)
            (void)pond__os_unlink(v[i].tmp);
        pond_free(v[i].tmp);
        pond_free(v[i].final);
    }
    *n = 0;
}

/* Puts the received data files in place (renames; the next syncfs makes them durable, before
 * any commit that names them is linked). A power cut before that may leave one torn at its
 * name: no commit refers to it, fsck reports an orphan, and `have` sends it again. */
static int place_data(dir_remote *d)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < d->n_pend; i++) {
        pending_file *p = &d->pend[i];
        char *slash = strrchr(p->final, '/');
        *slash = '\0';
        /* a partition directory: a real one (a link there would take the file elsewhere) */
        rc = pond__mkdir_own(p->final, NULL, R);
        *slash = '/';
        if (rc == 0 && pond__os_rename(p->tmp, p->final) < 0)
            rc = pond_error_set_os(R, "rename '%s' to '%s'", p->tmp, p->final);
        if (rc < 0)
            break;
        pond_free(p->tmp);
        p->tmp = NULL; /* in place: nothing to remove */
    }
    drop_pending(d->pend, &d->n_pend);
    return rc;
}

/* A log file arrives in a temp file in `_delta_log/` and is checked against its size and
 * SHA-256. A commit or checkpoint is staged (published in order at the next sync, after every
 * data file put before it); `_last_checkpoint` is published at once. */
static int stage_log(pending_file *out, dir_remote *d, const repl_obj *o, const repl_source *src)
{
    char *log = join(d->work, "_delta_log"), *final = join(d->work, o->path), *tmp = NULL;
    char name[40];
    int rc = log && final ? random_name(name, d, ".tmp") : POND_ENOMEM;
    int64_t size = 0;
    pond_hash sha;
    bool created = false;
    if (rc == 0 && !d->log_ok && (rc = pond__mkdir_own(log, &created, R)) == 0 && created)
        rc = pond__fsync_dir(d->work, R);
    if (rc == 0)
        d->log_ok = true;
    if (rc == 0 && !(tmp = pond_malloc(strlen(log) + 48)))
        rc = POND_ENOMEM;
    if (rc == 0) {
        sprintf(tmp, "%s/.tmp-repl-%s", log, name);
        rc = receive_file(&size, &sha, d, o, src, tmp, false);
    }
    pond_free(log);
    if (rc < 0) {
        pond_free(tmp);
        pond_free(final);
        return rc;
    }
    *out = (pending_file){tmp, final, *o, false};
    out->obj.size = size;
    out->obj.sha256 = sha;
    return 0;
}

/* Whether the version before commit v is there: as a commit or a checkpoint, or a checkpoint
 * of v itself (where a start from a checkpoint began). Never a gap in the log. */
static int may_follow(dir_remote *d, int64_t v)
{
    if (v == 0)
        return 0;
    repl_obj prev[3] = {{.kind = REPL_COMMIT, .version = v - 1},
                        {.kind = REPL_CHECKPOINT, .version = v - 1},
                        {.kind = REPL_CHECKPOINT, .version = v}};
    int rc = 0;
    bool ok = false;
    for (int k = 0; k < 3 && rc == 0 && !ok; k++) {
        (void)pond_repl_obj_check(&prev[k]);
        char *p = join(d->work, prev[k].path);
        struct stat st;
        if (!p)
            rc = POND_ENOMEM;
        else
            ok = pond__os_lstat(p, &st) == 0;
        pond_free(p);
    }
    if (rc == 0 && !ok)
        rc = pond_error_set(POND_EINVALID, R,
                            "commit %" PRId64 " cannot follow: version %" PRId64 " is not in '%s'",
                            v, v - 1, d->dir);
    return rc;
}

/* Links (put-if-absent) or renames (_last_checkpoint) a staged log file into place; the temp
 * file goes either way. The caller makes the entry durable. */
static int place_log(dir_remote *d, pending_file *f)
{
    const repl_obj *o = &f->obj;
    int rc = o->kind == REPL_COMMIT ? may_follow(d, o->version) : 0;
    bool placed = false;
    if (rc == 0 && o->kind == REPL_LAST_CHECKPOINT) {
        if (pond__os_rename(f->tmp, f->final) < 0)
            rc = pond_error_set_os(R, "rename '%s' to '%s'", f->tmp, f->final);
        placed = rc == 0;
    } else if (rc == 0) {
        if (pond__os_link(f->tmp, f->final) == 0) {
            placed = true;
            f->linked = true;
        } else if (errno == EEXIST) {
            pond_hash have;
            int64_t hs;
            int hrc = hash_file(&have, &hs, d->work, o->path);
            if (hrc == 0 && hs == o->size && pond_hash_equal(&have, &o->sha256))
                rc = 0; /* an earlier, interrupted run put it */
            else if (o->kind == REPL_CHECKPOINT)
                rc = 0; /* a checkpoint is derived: the one there describes the same version */
            else
                rc = pond_error_set(POND_ECONFLICT, R,
                                    "'%s' already has a different commit %" PRId64, d->dir,
                                    o->version);
        } else {
            rc = pond_error_set_os(R, "link '%s' to '%s'", f->tmp, f->final);
        }
    }
    if (!placed || o->kind != REPL_LAST_CHECKPOINT)
        (void)pond__os_unlink(f->tmp);
    pond_free(f->tmp);
    f->tmp = NULL;
    return rc;
}

/* The staged log files, in link order, as the push intent names them. */
static int write_intent(dir_remote *d)
{
    pond_push_entry *v = pond_malloc(d->n_staged * sizeof *v);
    if (!v)
        return POND_ENOMEM;
    for (size_t i = 0; i < d->n_staged; i++) {
        const repl_obj *o = &d->staged[i].obj;
        v[i] = (pond_push_entry){o->version, o->kind == REPL_CHECKPOINT, o->size, o->sha256};
    }
    int rc = pond_oplog_intent_write(d->work, v, d->n_staged);
    pond_free(v);
    return rc;
}

/* Publishes what was received since the last sync: the data files in place, then the staged
 * log files, named first in the push intent; one syncfs makes all of it durable; then the
 * links in order and one fsync of `_delta_log/`; then the intent goes. A power cut anywhere
 * leaves the log a prefix, or a gap that the durable intent explains (docs/replication.md). */
static int publish(dir_remote *d)
{
    if (!d->n_pend && !d->n_staged)
        return 0;
    int rc = place_data(d);
    bool intent = false;
    if (rc == 0 && d->n_staged)
        intent = (rc = write_intent(d)) == 0;
    if (rc == 0)
        rc = pond__syncfs(d->work, R);
    for (size_t i = 0; rc == 0 && i < d->n_staged; i++)
        rc = place_log(d, &d->staged[i]);
    if (intent) {
        char *log = join(d->work, "_delta_log");
        int frc = log ? pond__fsync_dir(log, R) : POND_ENOMEM;
        if (frc == 0)
            frc = pond_oplog_intent_clear(d->work);
        else
            /* not known durable: withdraw this run's links, newest first, as the oplog's own
             * commit does; the intent stays for the next writer to finish */
            for (size_t i = d->n_staged; i > 0; i--)
                if (d->staged[i - 1].linked)
                    (void)pond__os_unlink(d->staged[i - 1].final);
        pond_free(log);
        rc = rc < 0 ? rc : frc;
    }
    drop_pending(d->staged, &d->n_staged);
    return rc;
}

static int d_sync(repl_remote *r) { return publish(DR(r)); }

/* Staged log files wait for a sync; a batch holds at most this many (a batch of the algorithm
 * is 512 commits and their checkpoints; the push intent names at most 4096) */
#define MAX_STAGED 2048

static int d_put(repl_remote *r, const repl_obj *o, const repl_source *src)
{
    dir_remote *d = DR(r);
    pending_file f;
    int rc;
    switch (o->kind) {
    case REPL_BLOB:
        return put_blob(d, o, src);
    case REPL_DATA:
        return put_data(d, o, src);
    case REPL_COMMIT:
    case REPL_CHECKPOINT:
        /* a checkpoint is staged after its version's commit: linked in the same batch */
        if ((rc = stage_log(&f, d, o, src)) < 0)
            return rc;
        if ((rc = push_pending(&d->staged, &d->n_staged, &d->cap_staged, &f)) < 0) {
            drop_pending(&f, &(size_t){1});
            return rc;
        }
        return d->n_staged >= MAX_STAGED ? publish(d) : 0;
    default:
        /* _last_checkpoint names a checkpoint that must be there first */
        if ((rc = publish(d)) < 0 || (rc = stage_log(&f, d, o, src)) < 0)
            return rc;
        if ((rc = fsync_path(f.tmp)) < 0) {
            drop_pending(&f, &(size_t){1});
            return rc;
        }
        rc = place_log(d, &f);
        if (rc == 0) {
            char *log = join(d->work, "_delta_log");
            rc = log ? pond__fsync_dir(log, R) : POND_ENOMEM;
            pond_free(log);
        }
        pond_free(f.final);
        return rc;
    }
}

static int d_finish(repl_remote *r)
{
    dir_remote *d = DR(r);
    int rc = publish(d);
    if (rc < 0 || !d->incoming)
        return rc;
    /* rename(2) replaces an empty directory and refuses a non-empty one */
    if (pond__os_rename(d->work, d->dir) < 0)
        return pond_error_set_os(R, "rename '%s' to '%s'", d->work, d->dir);
    if ((rc = pond__fsync_parent(d->dir, R)) < 0)
        return rc;
    pond_free(d->work);
    d->incoming = false;
    d->incoming_ok = d->log_ok = false;
    return (d->work = pond_strdup(d->dir)) ? 0 : POND_ENOMEM;
}

typedef struct {
    repl_problem_fn fn;
    void *payload;
    pond_buf named; /* blob hashes fsck's messages named */
    pond_cas *cas;
    pond_fsck_report *out;
} verify_ctx;

static void v_problem(const char *kind, const char *msg, void *payload)
{
    verify_ctx *c = payload;
    const char *b = strstr(msg, "blob ");
    if (b && strlen(b) >= 5 + 64)
        (void)pond_buf_put(&c->named, b + 5, 64);
    if (c->fn)
        c->fn(kind, msg, c->payload);
}

static int v_blob(const pond_cas_entry *e, void *payload)
{
    verify_ctx *c = payload;
    char hex[65];
    pond_hash_hex(hex, &e->sha256);
    if (e->kind != POND_CAS_ENTRY_BLOB || (c->named.ptr && strstr(c->named.ptr, hex)))
        return 0;
    pond_cas_ref ref;
    int rc = pond_cas_verify(&ref, c->cas, &e->sha256);
    if (rc == POND_ENOMEM)
        return rc;
    if (rc < 0) {
        c->out->corrupt++;
        if (c->fn)
            c->fn("corrupt", pond_error_last()->message, c->payload);
    } else {
        c->out->bytes_hashed += ref.size;
    }
    return 0;
}

static int d_verify(pond_fsck_report *out, repl_remote *r, repl_problem_fn fn, void *payload)
{
    int prc = publish(DR(r));
    if (prc < 0)
        return prc;
    dir_remote *d = DR(r);
    pond_backend *be = NULL;
    memset(out, 0, sizeof *out);
    int rc = pond_oplog_open(&be, d->work, NULL);
    verify_ctx c = {fn, payload, POND_BUF_INIT, NULL, out};
    if (rc == 0)
        rc = pond_oplog_fsck(out, be, v_problem, NULL, &c);
    pond_backend_free(be);
    /* rows of a data file that does not decode were never seen, nor the blobs they name:
     * every other blob in the store is re-hashed against its name */
    if (rc == POND_ECORRUPT && out->corrupt + out->missing > 0) {
        int64_t before = out->corrupt;
        int wrc = d_store(d);
        c.cas = d->cas;
        if (wrc == 0)
            wrc = pond_cas_foreach(d->cas, 0, v_blob, &c);
        if (wrc < 0)
            rc = wrc;
        else if (out->corrupt > before)
            rc = pond_error_set(POND_ECORRUPT, R, "pond '%s': %lld missing, %lld corrupt", d->dir,
                                (long long)out->missing, (long long)out->corrupt);
    }
    pond_buf_dispose(&c.named);
    return rc;
}

static int d_hold(repl_remote *r, int64_t version)
{
    dir_remote *d = DR(r);
    pond_oplog_lease *l = NULL;
    int rc = pond_oplog_lease_take(&l, d->dir, version < 0 ? 0 : version, "replication");
    if (rc < 0)
        return rc;
    pond_oplog_lease_release(d->lease);
    d->lease = l;
    return 0;
}

static void d_free(repl_remote *r)
{
    dir_remote *d = DR(r);
    if (!d)
        return;
    drop_pending(d->pend, &d->n_pend);
    drop_pending(d->staged, &d->n_staged);
    pond_free(d->pend);
    pond_free(d->staged);
    pond_oplog_lease_release(d->lease);
    pond_cas_free(d->cas);
    if (d->lock_fd >= 0)
        pond__close(d->lock_fd);
    pond_free(d->dir);
    pond_free(d->work);
    pond_free(d->base.url);
    pond_free(d);
}

static const repl_transport DIR_TRANSPORT = {
    REPL_TRANSPORT_VERSION,
    "dir",
    d_open,
    d_hold,
    d_list_log,
    d_hash_log,
    d_have,
    d_missing_blobs,
    d_get,
    d_live_files,
    d_put,
    d_sync,
    d_finish,
    d_verify,
    d_free,
};

int pond_repl_dir_new(repl_remote **out, const char *dir, const char *url)
{
    *out = NULL;
    dir_remote *d = pond_calloc(1, sizeof *d);
    if (!d)
        return POND_ENOMEM;
    d->base.t = &DIR_TRANSPORT;
    d->lock_fd = -1;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    d->dir = pond_strndup(dir, n);
    d->work = pond_strndup(dir, n);
    d->base.url = pond_strdup(url ? url : dir);
    if (!d->dir || !d->work || !d->base.url) {
        d_free(&d->base);
        return POND_ENOMEM;
    }
    *out = &d->base;
    return 0;
}
