/* Verified reads: every chunk is checked against its chunk hash, every group of chunk hashes
 * against its group hash, and the group hashes plus trailer against the root the caller
 * recorded. Nothing unverified is ever copied out. Also the full re-hash used by fsck. */
#include "cas/cas_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#define NONE UINT64_MAX

struct pond_cas_reader {
    char hex[65];
    char *blob_path, *chunks_path;
    int fd_blob, fd_chunks;
    pond_cas__trailer t;
    pond_hash root;
    uint8_t *tail;  /* group hashes || trailer, verified against root */
    uint8_t *group; /* the cached group of chunk hashes */
    uint64_t group_idx;
    uint8_t *chunk; /* the cached verified chunk */
    uint64_t chunk_idx;
    pond_sha256 *ctx;
    int64_t pos;
};

void pond_cas_reader_free(pond_cas_reader *r)
{
    if (!r)
        return;
    pond__close(r->fd_blob);
    pond__close(r->fd_chunks);
    pond_free(r->blob_path);
    pond_free(r->chunks_path);
    pond_free(r->tail);
    pond_free(r->group);
    pond_free(r->chunk);
    pond_sha256_free(r->ctx);
    pond_free(r);
}

/* Opens the blob and its table; with want_root, the table must hash to it, otherwise r->root is
 * computed from the table as found (fsck). */
static int reader_open(pond_cas_reader **out, pond_cas *cas, const pond_hash *sha,
                       const pond_hash *want_root)
{
    *out = NULL;
    pond_cas_reader *r = pond_calloc(1, sizeof *r);
    if (!r)
        return POND_ENOMEM;
    r->fd_blob = r->fd_chunks = -1;
    r->group_idx = r->chunk_idx = NONE;
    pond_hash_hex(r->hex, sha);
    int rc;
    if ((rc = pond_cas__paths(&r->blob_path, &r->chunks_path, NULL, cas, sha)) < 0 ||
        (rc = pond_sha256_new(&r->ctx)) < 0)
        goto fail;
    if ((rc = pond_cas__open_file(&r->fd_blob, cas, r->hex, "")) < 0) {
        if (rc == POND_ENOTFOUND)
            pond_error_set(rc, POND_DOM_CAS, "blob %s: not found in the store", r->hex);
        goto fail;
    }
    if ((rc = pond_cas__open_file(&r->fd_chunks, cas, r->hex, ".chunks")) < 0) {
        if (rc == POND_ENOTFOUND)
            rc = pond_error_set(POND_ECORRUPT, POND_DOM_CAS, "blob %s: chunk table '%s' missing",
                                r->hex, r->chunks_path);
        goto fail;
    }
    int64_t table_size;
    if ((rc = pond__file_size(&table_size, r->fd_chunks, r->chunks_path, POND_DOM_CAS)) < 0)
        goto fail;
    char what[80];
    snprintf(what, sizeof what, "blob %s", r->hex);
    uint8_t trailer[POND_CAS__TRAILER_SIZE];
    size_t got;
    if (table_size < POND_CAS__TRAILER_SIZE) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_CAS, "%s: chunk table is %lld bytes", what,
                            (long long)table_size);
        goto fail;
    }
    if ((rc = pond__pread_full(&got, r->fd_chunks, trailer, sizeof trailer,
                               table_size - POND_CAS__TRAILER_SIZE, r->chunks_path, POND_DOM_CAS)) <
        0)
        goto fail;
    if (got != sizeof trailer) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_CAS, "%s: chunk table shrank while read", what);
        goto fail;
    }
    if ((rc = pond_cas__trailer_decode(&r->t, trailer, (uint64_t)table_size, what)) < 0)
        goto fail;
    if (r->t.ngroups > POND_CAS__MAX_GROUP_LIST / 32) {
        rc = pond_error_set(POND_EUNSUPPORTED, POND_DOM_CAS,
                            "%s: %llu chunk groups exceed the reader's limit", what,
                            (unsigned long long)r->t.ngroups);
        goto fail;
    }
    size_t tail_len = (size_t)r->t.ngroups * 32 + POND_CAS__TRAILER_SIZE;
    if (!(r->tail = pond_malloc(tail_len))) {
        rc = POND_ENOMEM;
        goto fail;
    }
    if ((rc = pond__pread_full(&got, r->fd_chunks, r->tail, tail_len,
                               (int64_t)pond_cas__groups_offset(&r->t), r->chunks_path,
                               POND_DOM_CAS)) < 0)
        goto fail;
    if (got != tail_len || memcmp(r->tail + tail_len - sizeof trailer, trailer, sizeof trailer)) {
        rc =
            pond_error_set(POND_ECORRUPT, POND_DOM_CAS, "%s: chunk table changed while read", what);
        goto fail;
    }
    if ((rc = pond_sha256_buf(&r->root, r->tail, tail_len)) < 0)
        goto fail;
    if (want_root && !pond_hash_equal(&r->root, want_root)) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                            "%s: chunk table does not match the recorded root", what);
        goto fail;
    }
    if (!pond_hash_equal(&r->t.sha256, sha)) {
        char other[65];
        pond_hash_hex(other, &r->t.sha256);
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_CAS, "%s: chunk table is for content %s", what,
                            other);
        goto fail;
    }
    *out = r;
    return 0;
fail:
    pond_cas_reader_free(r);
    return rc;
}

int pond_cas_reader_open(pond_cas_reader **out, pond_cas *cas, const pond_cas_ref *ref)
{
    POND_ASSERT_ARG(out);
    *out = NULL;
    POND_ASSERT_ARG(cas && ref);
    pond_cas_reader *r;
    int rc = reader_open(&r, cas, &ref->sha256, &ref->root);
    if (rc < 0)
        return rc;
    if (ref->size >= 0 && ref->size != r->t.size) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                            "blob %s: size %lld, but %lld bytes were recorded", r->hex,
                            (long long)r->t.size, (long long)ref->size);
        pond_cas_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int64_t pond_cas_reader_size(const pond_cas_reader *r) { return r ? r->t.size : 0; }

/* Loads and verifies the group of chunk hashes that holds chunk i. */
static int load_group(pond_cas_reader *r, uint64_t i)
{
    uint64_t g = i / r->t.fanout;
    if (g == r->group_idx)
        return 0;
    if (!r->group &&
        !(r->group = pond_malloc(32 * (size_t)POND_MIN((uint64_t)r->t.fanout, r->t.nchunks))))
        return POND_ENOMEM;
    uint64_t first = g * r->t.fanout;
    size_t len = 32 * (size_t)POND_MIN((uint64_t)r->t.fanout, r->t.nchunks - first);
    size_t got;
    int rc;
    r->group_idx = NONE;
    if ((rc = pond__pread_full(&got, r->fd_chunks, r->group, len, (int64_t)(32 * first),
                               r->chunks_path, POND_DOM_CAS)) < 0)
        return rc;
    pond_hash h;
    if (got != len || (rc = pond_sha256_buf(&h, r->group, len)) < 0 ||
        memcmp(h.bytes, r->tail + 32 * g, 32) != 0) {
        return rc < 0 ? rc
                      : pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                                       "blob %s chunk %llu: chunk table group %llu hash mismatch",
                                       r->hex, (unsigned long long)i, (unsigned long long)g);
    }
    r->group_idx = g;
    return 0;
}

static size_t chunk_len(const pond_cas_reader *r, uint64_t i)
{
    uint64_t start = i * r->t.chunk_size;
    return (size_t)POND_MIN((uint64_t)r->t.chunk_size, (uint64_t)r->t.size - start);
}

/* Reads chunk i into dst (the reader's buffer) and verifies it; wiped on failure. */
static int read_chunk(pond_cas_reader *r, uint64_t i, uint8_t *dst)
{
    size_t len = chunk_len(r, i);
    int64_t off = (int64_t)(i * r->t.chunk_size);
    size_t got = 0;
    pond_hash h;
    int rc;
    if ((rc = load_group(r, i)) < 0)
        return rc;
    if ((rc = pond__pread_full(&got, r->fd_blob, dst, len, off, r->blob_path, POND_DOM_CAS)) < 0)
        goto wipe;
    if (got != len) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                            "blob %s chunk %llu (offset %lld): truncated, %zu of %zu bytes", r->hex,
                            (unsigned long long)i, (long long)off, got, len);
        goto wipe;
    }
    if ((rc = pond_sha256_reset(r->ctx)) < 0 || (rc = pond_sha256_update(r->ctx, dst, len)) < 0 ||
        (rc = pond_sha256_final(&h, r->ctx)) < 0)
        goto wipe;
    if (memcmp(h.bytes, r->group + 32 * (i % r->t.fanout), 32) != 0) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                            "blob %s chunk %llu (offset %lld, %zu bytes): sha-256 mismatch", r->hex,
                            (unsigned long long)i, (long long)off, len);
        goto wipe;
    }
    return 0;
wipe:
    memset(dst, 0, len);
    return rc;
}

int pond_cas_reader_read_at(pond_cas_reader *r, void *buf, size_t len, int64_t off, size_t *n_out)
{
    POND_ASSERT_ARG(n_out);
    *n_out = 0;
    POND_ASSERT_ARG(r && (buf || len == 0) && off >= 0);
    if (off >= r->t.size || len == 0)
        return 0;
    uint64_t end = (uint64_t)off + POND_MIN((uint64_t)len, (uint64_t)(r->t.size - off));
    uint64_t pos = (uint64_t)off;
    uint8_t *out = buf;
    const uint64_t csize = r->t.chunk_size;
    int rc;
    /* A chunk the span covers whole is read straight into the caller's buffer and hashed
     * there (no copy out of the reader's buffer); a chunk it covers in part is read and verified in
     * the reader's buffer, which keeps it for the next small read (a footer, a page). Either
     * way read_chunk is the one verified read, and on a failure every byte this call wrote is
     * wiped before it returns. */
    while (pos < end) {
        uint64_t i = pos / csize;
        uint64_t cstart = i * csize;
        size_t clen = chunk_len(r, i);
        size_t n = (size_t)(POND_MIN(end, cstart + clen) - pos);
        if (i != r->chunk_idx && pos == cstart && n == clen) {
            if ((rc = read_chunk(r, i, out)) < 0)
                goto wipe;
        } else {
            if (i != r->chunk_idx) {
                if (!r->chunk &&
                    !(r->chunk = pond_malloc((size_t)POND_MIN(csize, (uint64_t)r->t.size)))) {
                    rc = POND_ENOMEM;
                    goto wipe;
                }
                r->chunk_idx = NONE;
                if ((rc = read_chunk(r, i, r->chunk)) < 0)
                    goto wipe;
                r->chunk_idx = i;
            }
            memcpy(out, r->chunk + (pos - cstart), n);
        }
        out += n;
        pos += n;
    }
    *n_out = (size_t)(end - (uint64_t)off);
    return 0;
wipe:
    memset(buf, 0, (size_t)(pos - (uint64_t)off));
    return rc;
}

int pond_cas_reader_read(pond_cas_reader *r, void *buf, size_t cap, size_t *n_out)
{
    POND_ASSERT_ARG(r && n_out);
    int rc = pond_cas_reader_read_at(r, buf, cap, r->pos, n_out);
    if (rc == 0)
        r->pos += (int64_t)*n_out;
    return rc;
}

int pond_cas_reader_seek(int64_t *pos_out, pond_cas_reader *r, int64_t off, int whence)
{
    POND_ASSERT_ARG(r);
    int64_t base;
    switch (whence) {
    case SEEK_SET:
        base = 0;
        break;
    case SEEK_CUR:
        base = r->pos;
        break;
    case SEEK_END:
        base = r->t.size;
        break;
    default:
        return pond_error_set(POND_EINVALID, POND_DOM_CAS, "seek: bad whence %d", whence);
    }
    int64_t pos;
    if (__builtin_add_overflow(base, off, &pos) || pos < 0)
        return pond_error_set(POND_EINVALID, POND_DOM_CAS,
                              "seek: blob %s: offset %lld from %lld is out of range", r->hex,
                              (long long)off, (long long)base);
    r->pos = pos;
    if (pos_out)
        *pos_out = pos;
    return 0;
}

int pond_cas_verify(pond_cas_ref *ref_out, pond_cas *cas, const pond_hash *sha256)
{
    POND_ASSERT_ARG(ref_out && cas && sha256);
    pond_cas_reader *r = NULL;
    pond_sha256 *whole = NULL;
    int rc;
    if ((rc = reader_open(&r, cas, sha256, NULL)) < 0 || (rc = pond_sha256_new(&whole)) < 0)
        goto done;
    if (r->t.nchunks > 0 && !(r->chunk = pond_malloc((size_t)POND_MIN((uint64_t)r->t.chunk_size,
                                                                      (uint64_t)r->t.size)))) {
        rc = POND_ENOMEM;
        goto done;
    }
    for (uint64_t i = 0; i < r->t.nchunks; i++) {
        if ((rc = read_chunk(r, i, r->chunk)) < 0 ||
            (rc = pond_sha256_update(whole, r->chunk, chunk_len(r, i))) < 0)
            goto done;
    }
    int64_t on_disk;
    if ((rc = pond__file_size(&on_disk, r->fd_blob, r->blob_path, POND_DOM_CAS)) < 0)
        goto done;
    if (on_disk != r->t.size) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_CAS, "blob %s: %lld bytes on disk, want %lld",
                            r->hex, (long long)on_disk, (long long)r->t.size);
        goto done;
    }
    pond_hash h;
    if ((rc = pond_sha256_final(&h, whole)) < 0)
        goto done;
    if (!pond_hash_equal(&h, sha256)) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_CAS,
                            "blob %s: content hash does not match its name", r->hex);
        goto done;
    }
    ref_out->sha256 = *sha256;
    ref_out->root = r->root;
    ref_out->size = r->t.size;
done:
    pond_sha256_free(whole);
    pond_cas_reader_free(r);
    return rc;
}

/* Copies the open table to `tmp`, group by group, checking every group of chunk hashes against
 * its group hash on the way (the tail was checked at open), and fsyncs the copy. */
static int copy_table(pond_cas_reader *r, const char *tmp)
{
    int fd, rc;
    if ((rc = pond__open(&fd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0444, POND_DOM_CAS)) < 0)
        return rc;
    for (uint64_t g = 0; g < r->t.ngroups; g++) {
        uint64_t first = g * r->t.fanout;
        size_t len = 32 * (size_t)POND_MIN((uint64_t)r->t.fanout, r->t.nchunks - first);
        if ((rc = load_group(r, first)) < 0 ||
            (rc = pond__write_all(fd, r->group, len, tmp, POND_DOM_CAS)) < 0)
            goto done;
    }
    if ((rc = pond__write_all(fd, r->tail, 32 * (size_t)r->t.ngroups + POND_CAS__TRAILER_SIZE, tmp,
                              POND_DOM_CAS)) < 0)
        goto done;
    rc = pond__fsync(fd, tmp, POND_DOM_CAS);
done:
    pond__close(fd);
    return rc;
}

/* Re-codes the current error as POND_ENOTFOUND, keeping its message. */
static int not_reusable(const char *hex)
{
    char why[512];
    snprintf(why, sizeof why, "%s", pond_error_last()->message); /* the setter overwrites it */
    return pond_error_set(POND_ENOTFOUND, POND_DOM_CAS, "blob %s: not reusable: %s", hex, why);
}

int pond_cas_reuse(pond_cas_ref *ref_out, pond_cas *cas, const pond_hash *sha256, int64_t size)
{
    POND_ASSERT_ARG(ref_out && cas && sha256 && size >= 0);
    char hex[65];
    pond_hash_hex(hex, sha256);
    struct stat st;
    if (pond__os_lstat(cas->dir, &st) < 0 && errno == ENOENT)
        return pond_error_set(POND_ENOTFOUND, POND_DOM_CAS, "blob %s: not in the store", hex);
    pond_cas_reader *r = NULL;
    pond_buf tmp = POND_BUF_INIT;
    char *fan = NULL;
    bool tmp_made = false;
    int lock = -1, rc;
    if ((rc = pond_cas__paths(NULL, NULL, &fan, cas, sha256)) < 0 ||
        (rc = pond_cas__lock(&lock, cas)) < 0)
        goto done;
    if ((rc = reader_open(&r, cas, sha256, NULL)) < 0) {
        if (rc == POND_ENOTFOUND || rc == POND_ECORRUPT)
            rc = not_reusable(hex);
        goto done;
    }
    int64_t on_disk;
    if ((rc = pond__file_size(&on_disk, r->fd_blob, r->blob_path, POND_DOM_CAS)) < 0)
        goto done;
    if (r->t.size != size || on_disk != size) {
        rc = pond_error_set(POND_ENOTFOUND, POND_DOM_CAS,
                            "blob %s: not reusable: %lld bytes (table %lld), want %lld", hex,
                            (long long)on_disk, (long long)r->t.size, (long long)size);
        goto done;
    }
    /* The refresh: a fresh copy of the table replaces it, so gc sees the pair as new. */
    if ((rc = pond_cas__ensure_dirs(cas)) < 0 || (rc = pond_cas__temp_stem(&tmp, cas)) < 0 ||
        (rc = pond_buf_puts(&tmp, ".chunks")) < 0)
        goto done;
    tmp_made = true;
    if ((rc = copy_table(r, tmp.ptr)) < 0) {
        if (rc == POND_ECORRUPT)
            rc = not_reusable(hex);
        goto done;
    }
    if (pond__os_rename(tmp.ptr, r->chunks_path) < 0) {
        rc = pond_error_set_os(POND_DOM_CAS, "rename '%s' to '%s'", tmp.ptr, r->chunks_path);
        goto done;
    }
    tmp_made = false;
    if ((rc = pond__fsync_dir(fan, POND_DOM_CAS)) < 0)
        goto done;
    ref_out->sha256 = *sha256;
    ref_out->root = r->root;
    ref_out->size = size;
done:
    if (tmp_made)
        (void)pond__os_unlink(tmp.ptr);
    if (lock >= 0)
        pond_cas__unlock(lock);
    pond_cas_reader_free(r);
    pond_buf_dispose(&tmp);
    pond_free(fan);
    return rc;
}
