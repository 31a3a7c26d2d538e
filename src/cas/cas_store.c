/* The store: paths, the publish lock, enumeration (fsck) and removal (gc). */
#include "cas/cas_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <unistd.h>

int pond_cas_open(pond_cas **out, const char *dir, const pond_cas_options *opts)
{
    POND_ASSERT_ARG(out);
    *out = NULL;
    POND_ASSERT_ARG(dir && *dir);
    pond_cas_options o = POND_CAS_OPTIONS_INIT;
    if (opts) {
        if (opts->version != POND_CAS_OPTIONS_VERSION)
            return pond_error_set(POND_EINVALID, POND_DOM_CAS, "cas options: unknown version %u",
                                  opts->version);
        o = *opts;
    }
    if (o.chunk_size < POND_CAS_MIN_CHUNK_SIZE || o.chunk_size > POND_CAS_MAX_CHUNK_SIZE)
        return pond_error_set(POND_EINVALID, POND_DOM_CAS, "cas: chunk size %u out of range",
                              o.chunk_size);
    if (o.fanout < POND_CAS_MIN_FANOUT || o.fanout > POND_CAS_MAX_FANOUT)
        return pond_error_set(POND_EINVALID, POND_DOM_CAS, "cas: fanout %u out of range", o.fanout);
    pond_cas *cas = pond_calloc(1, sizeof *cas);
    if (!cas)
        return POND_ENOMEM;
    cas->chunk_size = o.chunk_size;
    cas->fanout = o.fanout;
    cas->threaded = o.threaded;
    if (!(cas->dir = pond_strdup(dir)) || !(cas->tmp_dir = pond__path_join(dir, "tmp")) ||
        !(cas->lock_path = pond__path_join(dir, ".lock"))) {
        pond_cas_free(cas);
        return POND_ENOMEM;
    }
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    const char *slash = NULL;
    for (size_t i = 0; i < n; i++)
        if (dir[i] == '/')
            slash = dir + i;
    if (!slash)
        cas->parent = pond_strdup(".");
    else
        cas->parent = slash == dir ? pond_strdup("/") : pond_strndup(dir, (size_t)(slash - dir));
    const char *b = slash ? slash + 1 : dir;
    cas->base = pond_strndup(b, (size_t)(dir + n - b));
    if (!cas->parent || !cas->base) {
        pond_cas_free(cas);
        return POND_ENOMEM;
    }
    *out = cas;
    return 0;
}

void pond_cas_free(pond_cas *cas)
{
    if (!cas)
        return;
    pond_free(cas->dir);
    pond_free(cas->tmp_dir);
    pond_free(cas->lock_path);
    pond_free(cas->parent);
    pond_free(cas->base);
    pond_free(cas);
}

int pond_cas__paths(char **blob_out, char **chunks_out, char **fan_out, const pond_cas *cas,
                    const pond_hash *sha256)
{
    char hex[65];
    pond_hash_hex(hex, sha256);
    pond_buf b = POND_BUF_INIT;
    char *blob = NULL, *chunks = NULL, *fan = NULL;
    int rc;
    if ((rc = pond_buf_printf(&b, "%s/%.2s", cas->dir, hex)) < 0)
        goto fail;
    if (fan_out && !(fan = pond_strdup(b.ptr)))
        goto oom;
    if ((rc = pond_buf_printf(&b, "/%s", hex)) < 0)
        goto fail;
    if (blob_out && !(blob = pond_strdup(b.ptr)))
        goto oom;
    if ((rc = pond_buf_puts(&b, ".chunks")) < 0)
        goto fail;
    if (chunks_out && !(chunks = pond_strdup(b.ptr)))
        goto oom;
    pond_buf_dispose(&b);
    if (blob_out)
        *blob_out = blob;
    if (chunks_out)
        *chunks_out = chunks;
    if (fan_out)
        *fan_out = fan;
    return 0;
oom:
    rc = POND_ENOMEM;
fail:
    pond_buf_dispose(&b);
    pond_free(blob);
    pond_free(chunks);
    pond_free(fan);
    return rc;
}

int pond_cas_blob_path(char **out, const pond_cas *cas, const pond_hash *sha256)
{
    POND_ASSERT_ARG(out);
    *out = NULL;
    POND_ASSERT_ARG(cas && sha256);
    return pond_cas__paths(out, NULL, NULL, cas, sha256);
}

int pond_cas__open_file(int *fd_out, const pond_cas *cas, const char *hex, const char *suffix)
{
    char rel[600];
    snprintf(rel, sizeof rel, "%.400s/%.2s/%s%s", cas->base, hex, hex, suffix);
    return pond__open_pond_file_in(fd_out, cas->parent, rel, POND_DOM_CAS);
}

static _Atomic uint64_t g_temp_counter;

int pond_cas__temp_stem(pond_buf *out, const pond_cas *cas)
{
    uint64_t n = atomic_fetch_add(&g_temp_counter, 1);
    pond_buf_clear(out);
    return pond_buf_printf(out, "%s/%ld-%llu-%llx", cas->tmp_dir, (long)getpid(),
                           (unsigned long long)n, (unsigned long long)pond__now_us());
}

int64_t pond_cas__mtime_us(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000;
}

int pond_cas__mkdir_durable(const char *path)
{
    if (pond__os_mkdir(path, 0777) == 0)
        return pond__fsync_parent(path, POND_DOM_CAS);
    if (errno == EEXIST) {
        /* lstat: a link planted where the store keeps a directory must not take pond's writes
         * into another tree */
        struct stat st;
        if (pond__os_lstat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                return 0;
            return pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                                  "'%s' is %s: a pond directory must be a real directory", path,
                                  pond__file_kind(st.st_mode));
        }
        errno = ENOTDIR;
    }
    return pond_error_set_os(POND_DOM_CAS, "mkdir '%s'", path);
}

int pond_cas__ensure_dirs(pond_cas *cas)
{
    int rc = pond_cas__mkdir_durable(cas->dir);
    if (rc == 0)
        rc = pond_cas__mkdir_durable(cas->tmp_dir);
    return rc;
}

int pond_cas__lock(int *fd_out, pond_cas *cas)
{
    /* the lock file is created in the store: never in a tree a link leads to */
    struct stat st;
    if (pond__os_lstat(cas->dir, &st) < 0)
        return pond_error_set_os(POND_DOM_CAS, "stat '%s'", cas->dir);
    if (!S_ISDIR(st.st_mode))
        return pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                              "'%s' is %s: a pond directory must be a real directory", cas->dir,
                              pond__file_kind(st.st_mode));
    int fd, rc;
    if ((rc = pond__open_lock_file(&fd, cas->lock_path, POND_DOM_CAS)) < 0)
        return rc;
    int r;
    do {
        r = pond__os_flock(fd, LOCK_EX);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        rc = pond_error_set_os(POND_DOM_CAS, "lock '%s'", cas->lock_path);
        pond__close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

void pond_cas__unlock(int fd)
{
    pond__close(fd); /* closing the only descriptor releases the flock */
}

/* ---- enumeration -------------------------------------------------------------------------- */

/* Every walk opens the store and its subdirectories with pond__dir_open (never through a
 * link) and looks at entries with lstat semantics: a link, FIFO or device anywhere in the store
 * is reported as foreign and never opened, entered or removed. */

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool pond_cas__is_temp_name(const char *name)
{
    /* <pid>-<n>-<µs hex> (pond_cas__temp_stem) then .data or .chunks */
    const char *p = name;
    for (int part = 0; part < 3; part++) {
        const char *start = p;
        while (part < 2 ? (*p >= '0' && *p <= '9') : (*p && is_hex(p, 1)))
            p++;
        if (p == start || p - start > 20)
            return false;
        if (part < 2 && *p++ != '-')
            return false;
    }
    return !strcmp(p, ".data") || !strcmp(p, ".chunks");
}

/* A blob or chunk-table name of fan-out directory `fan`: 1 blob, 2 table, 0 neither. */
static int store_name_kind(const char *name, const char *fan)
{
    size_t n = strlen(name);
    if ((n != 64 && !(n == 71 && !strcmp(name + 64, ".chunks"))) || !is_hex(name, 64) ||
        memcmp(name, fan, 2) != 0)
        return 0;
    return n == 64 ? 1 : 2;
}

typedef struct {
    pond_cas *cas;
    int64_t cutoff_us;
    pond_cas_entry_cb cb;
    void *payload;
} walk_ctx;

static int emit(walk_ctx *c, pond_cas_entry *e, const char *rel, const struct stat *st)
{
    e->path = rel;
    e->size = (int64_t)st->st_size;
    e->mtime_us = pond_cas__mtime_us(st);
    e->stale = e->mtime_us < c->cutoff_us;
    e->mode = (uint32_t)st->st_mode;
    return c->cb(e, c->payload);
}

/* misplaced: it sits where the store keeps its own file or directory (a pond name of the wrong
 * type: a link, a FIFO, ...), not merely a stray name. */
static int foreign(walk_ctx *c, const char *rel, const struct stat *st, bool misplaced)
{
    pond_cas_entry e;
    memset(&e, 0, sizeof e);
    e.kind = POND_CAS_ENTRY_OTHER;
    e.misplaced = misplaced;
    return emit(c, &e, rel, st);
}

static int walk_fan(walk_ctx *c, pond_dir *top, const char *fan)
{
    pond_dir *d = NULL;
    int rc = pond__dir_open_at(&d, top, fan, POND_DOM_CAS);
    if (rc < 0)
        return rc == POND_ENOTFOUND ? 0 : rc;
    pond_dirent de;
    while ((rc = pond__dir_next(&de, d, POND_DOM_CAS)) == 0) {
        char rel[300];
        snprintf(rel, sizeof rel, "%s/%.250s", fan, de.name);
        int kind = store_name_kind(de.name, fan);
        if (!kind || !S_ISREG(de.st.st_mode)) {
            if ((rc = foreign(c, rel, &de.st, kind != 0)) != 0)
                break;
            continue;
        }
        pond_cas_entry e;
        memset(&e, 0, sizeof e);
        char hex[65], sib[80];
        memcpy(hex, de.name, 64);
        hex[64] = '\0';
        if (pond_hash_from_hex(&e.sha256, hex) < 0) {
            rc = POND_ERROR; /* unreachable: store_name_kind checked */
            break;
        }
        e.kind = kind == 1 ? POND_CAS_ENTRY_BLOB : POND_CAS_ENTRY_CHUNKS;
        snprintf(sib, sizeof sib, "%s%s", hex, kind == 1 ? ".chunks" : "");
        struct stat st2;
        int src = pond__dir_stat(&st2, d, sib, POND_DOM_CAS);
        if (src < 0 && src != POND_ENOTFOUND) {
            rc = src;
            break;
        }
        if (kind == 1)
            e.has_chunks = src == 0 && S_ISREG(st2.st_mode);
        else if (src == 0)
            continue; /* a table is reported with its blob */
        if ((rc = emit(c, &e, rel, &de.st)) != 0)
            break;
    }
    pond__dir_close(d);
    return rc == POND_ITEROVER ? 0 : rc;
}

static int walk_tmp(walk_ctx *c, pond_dir *top)
{
    pond_dir *d = NULL;
    int rc = pond__dir_open_at(&d, top, "tmp", POND_DOM_CAS);
    if (rc < 0)
        return rc == POND_ENOTFOUND ? 0 : rc;
    pond_dirent de;
    while ((rc = pond__dir_next(&de, d, POND_DOM_CAS)) == 0) {
        char rel[300];
        snprintf(rel, sizeof rel, "tmp/%.250s", de.name);
        pond_cas_entry e;
        memset(&e, 0, sizeof e);
        e.kind = POND_CAS_ENTRY_TEMP;
        /* everything in tmp/ is the store's: anything but a regular file there is misplaced */
        if (!S_ISREG(de.st.st_mode))
            rc = foreign(c, rel, &de.st, true);
        else if (!pond_cas__is_temp_name(de.name))
            rc = foreign(c, rel, &de.st, false);
        else
            rc = emit(c, &e, rel, &de.st);
        if (rc != 0)
            break;
    }
    pond__dir_close(d);
    return rc == POND_ITEROVER ? 0 : rc;
}

int pond_cas_foreach(pond_cas *cas, int64_t grace_us, pond_cas_entry_cb cb, void *payload)
{
    POND_ASSERT_ARG(cas && cb && grace_us >= 0);
    walk_ctx c = {cas, pond__now_us() - grace_us, cb, payload};
    pond_dir *top = NULL;
    int rc = pond__dir_open(&top, cas->dir, false, POND_DOM_CAS);
    if (rc == POND_ENOTFOUND)
        return 0;
    if (rc == POND_ECORRUPT) {
        /* the store itself is a link or not a directory: reported, never entered */
        struct stat st;
        if (pond__os_lstat(cas->dir, &st) < 0)
            return rc;
        return foreign(&c, "", &st, true);
    }
    if (rc < 0)
        return rc;
    pond_dirent de;
    while ((rc = pond__dir_next(&de, top, POND_DOM_CAS)) == 0) {
        char name[256];
        snprintf(name, sizeof name, "%s", de.name);
        bool dir = S_ISDIR(de.st.st_mode);
        if (!strcmp(name, ".lock"))
            rc = S_ISREG(de.st.st_mode) ? 0 : foreign(&c, name, &de.st, true);
        else if (!strcmp(name, "tmp"))
            rc = dir ? walk_tmp(&c, top) : foreign(&c, name, &de.st, true);
        else if (strlen(name) == 2 && is_hex(name, 2))
            rc = dir ? walk_fan(&c, top, name) : foreign(&c, name, &de.st, true);
        else
            rc = foreign(&c, name, &de.st, false);
        if (rc != 0)
            break;
    }
    pond__dir_close(top);
    return rc == POND_ITEROVER ? 0 : rc;
}

/* ---- removal ------------------------------------------------------------------------------ */

/* Opens the store (never through a link); *top NULL with 0 when there is no store. */
static int open_store(pond_dir **top, pond_cas *cas)
{
    int rc = pond__dir_open(top, cas->dir, false, POND_DOM_CAS);
    return rc == POND_ENOTFOUND ? 0 : rc;
}

int pond_cas_remove(bool *removed_out, int64_t *bytes_out, pond_cas *cas, const pond_hash *sha256,
                    int64_t grace_us)
{
    POND_ASSERT_ARG(cas && sha256 && grace_us >= 0);
    if (removed_out)
        *removed_out = false;
    if (bytes_out)
        *bytes_out = 0;
    char hex[65], fan_name[3], table[80];
    pond_hash_hex(hex, sha256);
    memcpy(fan_name, hex, 2);
    fan_name[2] = '\0';
    snprintf(table, sizeof table, "%s.chunks", hex);
    pond_dir *top = NULL, *fan = NULL;
    int lock = -1, rc;
    if ((rc = open_store(&top, cas)) < 0 || !top)
        return rc; /* no store: nothing to remove (and no lock file to create) */
    if ((rc = pond_cas__lock(&lock, cas)) < 0)
        goto done;
    if ((rc = pond__dir_open_at(&fan, top, fan_name, POND_DOM_CAS)) < 0) {
        if (rc == POND_ENOTFOUND)
            rc = 0;
        goto done;
    }
    struct stat sb, sc;
    int rb = pond__dir_stat(&sb, fan, hex, POND_DOM_CAS);
    int rt = pond__dir_stat(&sc, fan, table, POND_DOM_CAS);
    if ((rb < 0 && rb != POND_ENOTFOUND) || (rt < 0 && rt != POND_ENOTFOUND)) {
        rc = rb < 0 && rb != POND_ENOTFOUND ? rb : rt;
        goto done;
    }
    bool blob_exists = rb == 0, table_exists = rt == 0;
    if (!blob_exists && !table_exists)
        goto done;
    /* a link or anything else under a pond name is not ours to remove (foreach reports it) */
    if ((blob_exists && !S_ISREG(sb.st_mode)) || (table_exists && !S_ISREG(sc.st_mode)))
        goto done;
    int64_t cutoff = pond__now_us() - grace_us;
    if ((blob_exists && pond_cas__mtime_us(&sb) >= cutoff) ||
        (table_exists && pond_cas__mtime_us(&sc) >= cutoff))
        goto done; /* a writer published or refreshed it within the grace period */
    /* The blob first: a blob without its table is corrupt, a table without its blob is not. */
    int64_t bytes = 0;
    if (blob_exists) {
        rc = pond__dir_remove_file(fan, hex, POND_DOM_CAS);
        if (rc == 0)
            bytes += (int64_t)sb.st_size;
        else if (rc != POND_ENOTFOUND)
            goto done;
    }
    if (table_exists) {
        rc = pond__dir_remove_file(fan, table, POND_DOM_CAS);
        if (rc == 0)
            bytes += (int64_t)sc.st_size;
        else if (rc != POND_ENOTFOUND)
            goto done;
    }
    if ((rc = pond__dir_fsync(fan, POND_DOM_CAS)) < 0)
        goto done;
    if (removed_out)
        *removed_out = blob_exists;
    if (bytes_out)
        *bytes_out = bytes;
done:
    if (lock >= 0)
        pond_cas__unlock(lock);
    pond__dir_close(fan);
    pond__dir_close(top);
    return rc;
}

int pond_cas_remove_stale_temps(size_t *count_out, int64_t *bytes_out, pond_cas *cas,
                                int64_t grace_us)
{
    POND_ASSERT_ARG(cas && grace_us >= 0);
    if (count_out)
        *count_out = 0;
    if (bytes_out)
        *bytes_out = 0;
    pond_dir *top = NULL, *d = NULL;
    int rc;
    if ((rc = open_store(&top, cas)) < 0 || !top)
        return rc;
    if ((rc = pond__dir_open_at(&d, top, "tmp", POND_DOM_CAS)) < 0) {
        pond__dir_close(top);
        return rc == POND_ENOTFOUND ? 0 : rc;
    }
    int64_t cutoff = pond__now_us() - grace_us, bytes = 0;
    size_t removed = 0;
    pond_dirent de;
    while ((rc = pond__dir_next(&de, d, POND_DOM_CAS)) == 0) {
        /* only the store's own temp files, and only when stale */
        if (!S_ISREG(de.st.st_mode) || !pond_cas__is_temp_name(de.name) ||
            pond_cas__mtime_us(&de.st) >= cutoff)
            continue;
        /* ... and only when the sibling (same stem, the other suffix) is stale or absent: a
         * live writer writes its .data file once per chunk, so its pair is never stale */
        const char *dot = strrchr(de.name, '.');
        char sib[300];
        snprintf(sib, sizeof sib, "%.*s%s", (int)(dot - de.name), de.name,
                 strcmp(dot, ".data") ? ".data" : ".chunks");
        struct stat ss;
        int src = pond__dir_stat(&ss, d, sib, POND_DOM_CAS);
        if (src < 0 && src != POND_ENOTFOUND) {
            rc = src;
            break;
        }
        if (src == 0 && pond_cas__mtime_us(&ss) >= cutoff)
            continue;
        int64_t size = (int64_t)de.st.st_size;
        if ((rc = pond__dir_remove_file(d, de.name, POND_DOM_CAS)) == POND_ENOTFOUND)
            continue;
        if (rc < 0)
            break;
        removed++;
        bytes += size;
    }
    if (rc == POND_ITEROVER)
        rc = 0;
    if (rc == 0 && removed > 0)
        rc = pond__dir_fsync(d, POND_DOM_CAS);
    pond__dir_close(d);
    pond__dir_close(top);
    if (count_out)
        *count_out = removed;
    if (bytes_out)
        *bytes_out = bytes;
    return rc;
}
