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
        return pond_error_set(POND_EINVALID, POND_DOM_CAS, "cas: fanout %u out of range",
                              o.fanout);
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
        struct stat st;
        if (pond__os_stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
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
    int fd, rc;
    if ((rc = pond__open(&fd, cas->lock_path, O_RDWR | O_CREAT, 0644, POND_DOM_CAS)) < 0)
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

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

typedef struct {
    pond_cas *cas;
    int64_t cutoff_us;
    pond_cas_entry_cb cb;
    void *payload;
} walk_ctx;

/* Stats <dir>/<rel> and reports it; ENOENT (raced with a remover) is silently skipped. */
static int report(walk_ctx *c, pond_cas_entry *e, const char *rel)
{
    char *full = pond__path_join(c->cas->dir, rel);
    if (!full)
        return POND_ENOMEM;
    struct stat st;
    int rc = 0;
    if (pond__os_lstat(full, &st) < 0) {
        if (errno != ENOENT)
            rc = pond_error_set_os(POND_DOM_CAS, "stat '%s'", full);
        pond_free(full);
        return rc;
    }
    e->path = rel;
    e->size = (int64_t)st.st_size;
    e->mtime_us = pond_cas__mtime_us(&st);
    e->stale = e->mtime_us < c->cutoff_us;
    if (e->kind == POND_CAS_ENTRY_BLOB || e->kind == POND_CAS_ENTRY_CHUNKS) {
        /* the sibling: the blob's table, or the table's blob */
        size_t n = strlen(full);
        bool blob = e->kind == POND_CAS_ENTRY_BLOB;
        char *sib = blob ? pond_malloc(n + 8) : pond_strndup(full, n - 7);
        if (!sib) {
            pond_free(full);
            return POND_ENOMEM;
        }
        if (blob)
            memcpy(sib, full, n), memcpy(sib + n, ".chunks", 8);
        struct stat st2;
        bool exists = pond__os_lstat(sib, &st2) == 0;
        pond_free(sib);
        if (blob)
            e->has_chunks = exists;
        else if (exists) {
            pond_free(full);
            return 0; /* reported with its blob */
        }
    }
    pond_free(full);
    return c->cb(e, c->payload);
}

/* Lists one directory; calls fn for each name except "." and "..". A missing directory is
 * empty. */
static int list_dir(walk_ctx *c, const char *rel, int (*fn)(walk_ctx *, const char *, const char *))
{
    char *full = rel ? pond__path_join(c->cas->dir, rel) : pond_strdup(c->cas->dir);
    if (!full)
        return POND_ENOMEM;
    DIR *d = pond__os_opendir(full);
    if (!d) {
        int rc = errno == ENOENT ? 0 : pond_error_set_os(POND_DOM_CAS, "opendir '%s'", full);
        pond_free(full);
        return rc;
    }
    int rc = 0;
    struct dirent *de;
    for (;;) {
        errno = 0;
        if (!(de = readdir(d))) {
            if (errno)
                rc = pond_error_set_os(POND_DOM_CAS, "readdir '%s'", full);
            break;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if ((rc = fn(c, rel, de->d_name)) != 0)
            break;
    }
    closedir(d);
    pond_free(full);
    return rc;
}

static int visit_fan(walk_ctx *c, const char *fan, const char *name)
{
    char rel[300];
    snprintf(rel, sizeof rel, "%s/%s", fan, name);
    pond_cas_entry e;
    memset(&e, 0, sizeof e);
    size_t n = strlen(name);
    e.kind = POND_CAS_ENTRY_OTHER;
    if ((n == 64 || (n == 71 && !strcmp(name + 64, ".chunks"))) && is_hex(name, 64) &&
        !memcmp(name, fan, 2)) {
        char hex[65];
        memcpy(hex, name, 64);
        hex[64] = '\0';
        if (pond_hash_from_hex(&e.sha256, hex) < 0)
            return POND_ERROR; /* unreachable: is_hex checked */
        e.kind = n == 64 ? POND_CAS_ENTRY_BLOB : POND_CAS_ENTRY_CHUNKS;
    }
    return report(c, &e, rel);
}

static int visit_tmp(walk_ctx *c, const char *tmp, const char *name)
{
    char rel[300];
    snprintf(rel, sizeof rel, "%s/%.250s", tmp, name);
    pond_cas_entry e;
    memset(&e, 0, sizeof e);
    e.kind = POND_CAS_ENTRY_TEMP;
    return report(c, &e, rel);
}

static int visit_top(walk_ctx *c, const char *top, const char *name)
{
    (void)top;
    if (!strcmp(name, ".lock"))
        return 0;
    if (!strcmp(name, "tmp"))
        return list_dir(c, "tmp", visit_tmp);
    if (strlen(name) == 2 && is_hex(name, 2))
        return list_dir(c, name, visit_fan);
    pond_cas_entry e;
    memset(&e, 0, sizeof e);
    e.kind = POND_CAS_ENTRY_OTHER;
    return report(c, &e, name);
}

int pond_cas_foreach(pond_cas *cas, int64_t grace_us, pond_cas_entry_cb cb, void *payload)
{
    POND_ASSERT_ARG(cas && cb && grace_us >= 0);
    walk_ctx c = {cas, pond__now_us() - grace_us, cb, payload};
    return list_dir(&c, NULL, visit_top);
}

/* ---- removal ------------------------------------------------------------------------------ */

/* 1 if path exists and was modified at or after cutoff, 0 if older or absent. */
static int is_fresh(bool *exists_out, const char *path, int64_t cutoff_us)
{
    struct stat st;
    if (pond__os_lstat(path, &st) < 0) {
        if (errno != ENOENT)
            return pond_error_set_os(POND_DOM_CAS, "stat '%s'", path);
        *exists_out = false;
        return 0;
    }
    *exists_out = true;
    return pond_cas__mtime_us(&st) >= cutoff_us;
}

static int unlink_if_exists(const char *path)
{
    if (pond__os_unlink(path) < 0 && errno != ENOENT)
        return pond_error_set_os(POND_DOM_CAS, "unlink '%s'", path);
    return 0;
}

int pond_cas_remove(bool *removed_out, pond_cas *cas, const pond_hash *sha256, int64_t grace_us)
{
    POND_ASSERT_ARG(cas && sha256 && grace_us >= 0);
    if (removed_out)
        *removed_out = false;
    char *blob = NULL, *chunks = NULL, *fan = NULL;
    int lock = -1, rc;
    struct stat st;
    if (pond__os_stat(cas->dir, &st) < 0 && errno == ENOENT)
        return 0; /* no store, nothing to remove (and no lock file to create) */
    if ((rc = pond_cas__paths(&blob, &chunks, &fan, cas, sha256)) < 0)
        return rc;
    if ((rc = pond_cas__lock(&lock, cas)) < 0)
        goto done;
    int64_t cutoff = pond__now_us() - grace_us;
    bool blob_exists = false, chunks_exist = false;
    int fresh_blob = 0, fresh_chunks = 0;
    if ((fresh_blob = is_fresh(&blob_exists, blob, cutoff)) < 0) {
        rc = fresh_blob;
        goto done;
    }
    if ((fresh_chunks = is_fresh(&chunks_exist, chunks, cutoff)) < 0) {
        rc = fresh_chunks;
        goto done;
    }
    if (!blob_exists && !chunks_exist)
        goto done;
    if (fresh_blob || fresh_chunks)
        goto done; /* a writer published or refreshed it within the grace period */
    /* The blob first: a blob without its table is corrupt, a table without its blob is not. */
    if ((rc = unlink_if_exists(blob)) < 0 || (rc = unlink_if_exists(chunks)) < 0)
        goto done;
    if ((rc = pond__fsync_dir(fan, POND_DOM_CAS)) < 0)
        goto done;
    if (removed_out)
        *removed_out = blob_exists;
done:
    if (lock >= 0)
        pond_cas__unlock(lock);
    pond_free(blob);
    pond_free(chunks);
    pond_free(fan);
    return rc;
}

typedef struct {
    size_t removed;
} stale_ctx;

/* A temp file is removed only when it and its sibling (same stem, other suffix) are both stale:
 * the .data file is written once per chunk, so a live writer's pair is never stale. */
static int stale_cb(const pond_cas_entry *e, void *payload)
{
    walk_ctx *c = payload;
    stale_ctx *s = c->payload;
    if (e->kind != POND_CAS_ENTRY_TEMP || !e->stale)
        return 0;
    char *full = pond__path_join(c->cas->dir, e->path);
    if (!full)
        return POND_ENOMEM;
    int rc = 0;
    char *dot = strrchr(full, '.');
    char *slash = strrchr(full, '/');
    if (dot && dot > slash && (!strcmp(dot, ".data") || !strcmp(dot, ".chunks"))) {
        pond_buf sib = POND_BUF_INIT;
        if ((rc = pond_buf_printf(&sib, "%.*s%s", (int)(dot - full), full,
                                  strcmp(dot, ".data") ? ".data" : ".chunks")) < 0) {
            pond_free(full);
            return rc;
        }
        bool exists;
        rc = is_fresh(&exists, sib.ptr, c->cutoff_us);
        pond_buf_dispose(&sib);
        if (rc != 0) {
            pond_free(full);
            return rc < 0 ? rc : 0; /* fresh sibling: a live writer */
        }
    }
    if ((rc = unlink_if_exists(full)) == 0)
        s->removed++;
    pond_free(full);
    return rc;
}

static int stale_walk(walk_ctx *c, const char *tmp, const char *name)
{
    walk_ctx inner = *c;
    inner.cb = stale_cb;
    inner.payload = c;
    return visit_tmp(&inner, tmp, name);
}

int pond_cas_remove_stale_temps(size_t *count_out, pond_cas *cas, int64_t grace_us)
{
    POND_ASSERT_ARG(cas && grace_us >= 0);
    stale_ctx s = {0};
    walk_ctx c = {cas, pond__now_us() - grace_us, NULL, &s};
    int rc = list_dir(&c, "tmp", stale_walk);
    if (rc == 0 && s.removed > 0)
        rc = pond__fsync_dir(cas->tmp_dir, POND_DOM_CAS);
    if (count_out)
        *count_out = s.removed;
    return rc;
}
