/* Blobs, readers, node ids, node records and the id map. */
#include "tinyfs/tinyfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* ---- entry types -------------------------------------------------------------------------- */

static const char *const g_type_names[] = {"none",      "directory",  "symlink",
                                           "file:data", "file:table", "file:series"};

const char *pond_entry_type_name(pond_entry_type t)
{
    if ((int)t >= 1 && (size_t)t < POND_ARRAY_LEN(g_type_names))
        return g_type_names[t];
    return "unknown";
}

int pond_entry_type_parse(pond_entry_type *out, const char *name)
{
    POND_ASSERT_ARG(out && name);
    for (size_t i = 1; i < POND_ARRAY_LEN(g_type_names); i++) {
        if (strcmp(name, g_type_names[i]) == 0) {
            *out = (pond_entry_type)i;
            return 0;
        }
    }
    char q[80];
    pond_tinyfs__quote(q, sizeof q, name, strlen(name));
    return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "unknown entry type '%s'", q);
}

bool pond_entry_type_is_file(pond_entry_type t)
{
    return t == POND_ENTRY_FILE_DATA || t == POND_ENTRY_FILE_TABLE || t == POND_ENTRY_FILE_SERIES;
}

/* ---- node ids ----------------------------------------------------------------------------- */

pond_node_id pond_node_id_root(void)
{
    pond_node_id id = {{0}};
    id.bytes[6] = 0x70;
    id.bytes[8] = 0x80;
    return id;
}

int pond_node_id_new(pond_node_id *out)
{
    POND_ASSERT_ARG(out);
    uint8_t rnd[10];
    size_t got = 0;
    while (got < sizeof rnd) {
        ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return pond_error_set_os(POND_DOM_TINYFS, "getrandom");
        }
        got += (size_t)n;
    }
    uint64_t ms = (uint64_t)(pond__now_us() / 1000);
    for (int i = 0; i < 6; i++)
        out->bytes[i] = (uint8_t)(ms >> (40 - 8 * i));
    memcpy(out->bytes + 6, rnd, 10);
    out->bytes[6] = (uint8_t)(0x70 | (out->bytes[6] & 0x0f)); /* version 7 */
    out->bytes[8] = (uint8_t)(0x80 | (out->bytes[8] & 0x3f)); /* variant 10 */
    return 0;
}

void pond_node_id_format(char out[POND_NODE_ID_STRLEN + 1], const pond_node_id *id)
{
    /* 8-4-4-4-12 digits */
    pond__hex_encode(out, id->bytes, 4);
    out[8] = '-';
    pond__hex_encode(out + 9, id->bytes + 4, 2);
    out[13] = '-';
    pond__hex_encode(out + 14, id->bytes + 6, 2);
    out[18] = '-';
    pond__hex_encode(out + 19, id->bytes + 8, 2);
    out[23] = '-';
    pond__hex_encode(out + 24, id->bytes + 10, 6);
}

int pond_node_id_parse(pond_node_id *out, const char *s)
{
    POND_ASSERT_ARG(out && s);
    pond_node_id id;
    /* 8-4-4-4-12 digits: each group decoded whole (every oplog row has a node id) */
    static const unsigned char group_bytes[5] = {4, 2, 2, 2, 6};
    size_t p = 0, b = 0;
    for (int g = 0; g < 5; g++) {
        if (g > 0 && s[p++] != '-')
            goto bad;
        /* stops at a NUL: never reads past a short string */
        if (pond__hex_decode(id.bytes + b, s + p, group_bytes[g]) < 0)
            goto bad;
        p += 2u * group_bytes[g];
        b += group_bytes[g];
    }
    if (s[p] != '\0')
        goto bad;
    *out = id;
    return 0;
bad:;
    char q[80];
    pond_tinyfs__quote(q, sizeof q, s, strnlen(s, 64));
    return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "invalid node id '%s'", q);
}

bool pond_node_id_equal(const pond_node_id *a, const pond_node_id *b)
{
    return memcmp(a->bytes, b->bytes, 16) == 0;
}

bool pond_node_id_is_nil(const pond_node_id *id)
{
    static const pond_node_id nil;
    return pond_node_id_equal(id, &nil);
}

/* ---- blobs -------------------------------------------------------------------------------- */

struct pond_blob {
    atomic_int refs;
    int64_t size;
    pond_hash sha256;
    char *mem;                      /* heap content, or NULL */
    int fd;                         /* file content (unlinked temp file), or -1 */
    const pond_reader_ops *src_ops; /* a backend's source (pond_blob_from_source), or NULL */
    void *src;
};

int pond_tinyfs__blob_take_buf(pond_blob **out, char *data, size_t len, const pond_hash *sha256)
{
    *out = NULL;
    pond_blob *b = pond_calloc(1, sizeof *b);
    if (!b) {
        pond_free(data);
        return POND_ENOMEM;
    }
    atomic_init(&b->refs, 1);
    b->size = (int64_t)len;
    b->mem = data;
    b->fd = -1;
    if (sha256)
        b->sha256 = *sha256;
    else {
        int error = pond_sha256_buf(&b->sha256, data ? data : "", len);
        if (error < 0) {
            pond_blob_unref(b);
            return error;
        }
    }
    *out = b;
    return 0;
}

int pond_blob_from_buf(pond_blob **out, const void *data, size_t len)
{
    POND_ASSERT_ARG(out && (data || len == 0));
    *out = NULL;
    char *copy = pond_malloc(len ? len : 1);
    if (!copy)
        return POND_ENOMEM;
    if (len)
        memcpy(copy, data, len);
    return pond_tinyfs__blob_take_buf(out, copy, len, NULL);
}

int pond_blob_from_fd_take(pond_blob **out, int fd, int64_t size, const pond_hash *sha256)
{
    int error = 0;
    pond_sha256 *h = NULL;
    char *chunk = NULL;
    if (!out || fd < 0 || size < 0) {
        pond__close(fd);
        POND_ASSERT_ARG(out && fd >= 0 && size >= 0);
    }
    *out = NULL;
    pond_blob *b = pond_calloc(1, sizeof *b);
    if (!b) {
        pond__close(fd);
        return POND_ENOMEM;
    }
    atomic_init(&b->refs, 1);
    b->size = size;
    b->fd = fd;
    if (sha256) {
        b->sha256 = *sha256;
    } else {
        const size_t csz = 64 * 1024;
        if ((error = pond_sha256_new(&h)) < 0)
            goto done;
        if (!(chunk = pond_malloc(csz))) {
            error = POND_ENOMEM;
            goto done;
        }
        for (int64_t off = 0; off < size;) {
            size_t want = (size_t)POND_MIN((int64_t)csz, size - off), n;
            if ((error = pond_blob_pread(b, chunk, want, off, &n)) < 0)
                goto done;
            if (n != want) {
                error = pond_error_set(POND_EEOF, POND_DOM_TINYFS,
                                       "blob file shorter than %lld bytes", (long long)size);
                goto done;
            }
            if ((error = pond_sha256_update(h, chunk, n)) < 0)
                goto done;
            off += (int64_t)n;
        }
        error = pond_sha256_final(&b->sha256, h);
    }
done:
    pond_free(chunk);
    pond_sha256_free(h);
    if (error < 0)
        pond_blob_unref(b);
    else
        *out = b;
    return error;
}

int pond_blob_from_source(pond_blob **out, int64_t size, const pond_hash *sha256,
                          const pond_reader_ops *ops, void *impl)
{
    if (!out || !ops || !ops->pread || size < 0 || !sha256) {
        if (ops && ops->free)
            ops->free(impl);
        POND_ASSERT_ARG(out && ops && ops->pread && size >= 0 && sha256);
    }
    *out = NULL;
    pond_blob *b = pond_calloc(1, sizeof *b);
    if (!b) {
        if (ops->free)
            ops->free(impl);
        return POND_ENOMEM;
    }
    atomic_init(&b->refs, 1);
    b->size = size;
    b->sha256 = *sha256;
    b->fd = -1;
    b->src_ops = ops;
    b->src = impl;
    *out = b;
    return 0;
}

void *pond_blob_source(const pond_blob *b, const pond_reader_ops *ops)
{
    return b && ops && b->src_ops == ops ? b->src : NULL;
}

pond_blob *pond_blob_ref(pond_blob *b)
{
    if (b)
        atomic_fetch_add(&b->refs, 1);
    return b;
}

void pond_blob_unref(pond_blob *b)
{
    if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    pond_free(b->mem);
    pond__close(b->fd);
    if (b->src_ops && b->src_ops->free)
        b->src_ops->free(b->src);
    pond_free(b);
}

int64_t pond_blob_size(const pond_blob *b) { return b->size; }
const pond_hash *pond_blob_sha256(const pond_blob *b) { return &b->sha256; }
bool pond_blob_is_file(const pond_blob *b) { return b->fd >= 0; }

int pond_blob_pread(const pond_blob *b, void *buf, size_t len, int64_t off, size_t *n_out)
{
    POND_ASSERT_ARG(b && n_out && (buf || len == 0) && off >= 0);
    *n_out = 0;
    if (off >= b->size)
        return 0;
    size_t n = (size_t)POND_MIN((int64_t)len, b->size - off);
    if (b->src_ops)
        return b->src_ops->pread(b->src, buf, n, off, n_out);
    if (b->fd < 0) {
        memcpy(buf, b->mem + off, n);
        *n_out = n;
        return 0;
    }
    return pond__pread_full(n_out, b->fd, buf, n, off, "(spilled content)", POND_DOM_TINYFS);
}

static int blob_reader_pread(void *impl, void *buf, size_t len, int64_t off, size_t *n_out)
{
    return pond_blob_pread(impl, buf, len, off, n_out);
}

static void blob_reader_free(void *impl) { pond_blob_unref(impl); }

static const pond_reader_ops g_blob_reader_ops = {blob_reader_pread, blob_reader_free};

int pond_blob_open_reader(pond_reader **out, pond_blob *b)
{
    POND_ASSERT_ARG(out && b);
    return pond_reader_new(out, b->size, &g_blob_reader_ops, pond_blob_ref(b));
}

int pond_tinyfs__tmpfile(int *fd_out, const char *dir)
{
    *fd_out = -1;
    for (int attempt = 0; attempt < 16; attempt++) {
        uint8_t rnd[8];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            return pond_error_set_os(POND_DOM_TINYFS, "getrandom");
        char name[40];
        snprintf(name, sizeof name, "pond-spill-%02x%02x%02x%02x%02x%02x%02x%02x.tmp", rnd[0],
                 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
        char *path = pond__path_join(dir, name);
        if (!path)
            return POND_ENOMEM;
        int fd = pond__os_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0) {
            int e = errno;
            if (e == EEXIST || e == EINTR) {
                pond_free(path);
                continue;
            }
            int rc = pond_error_set_os(POND_DOM_TINYFS, "create spill file '%s'", path);
            pond_free(path);
            return rc;
        }
        /* Unlinked at once: the file vanishes on every path, including a crash. */
        if (pond__os_unlink(path) < 0) {
            int rc = pond_error_set_os(POND_DOM_TINYFS, "unlink spill file '%s'", path);
            pond__close(fd);
            (void)pond__os_unlink(path); /* best effort: never leave it behind */
            pond_free(path);
            return rc;
        }
        pond_free(path);
        *fd_out = fd;
        return 0;
    }
    return pond_error_set(POND_EIO, POND_DOM_TINYFS, "no unique spill file name in '%s'", dir);
}

/* ---- readers ------------------------------------------------------------------------------ */

struct pond_reader {
    const pond_reader_ops *ops;
    void *impl;
    int64_t size;
    int64_t pos;
    char *name; /* the node path a tinyfs reader reads, prefixed to read errors; or NULL */
};

int pond_tinyfs__reader_name(pond_reader *r, const char *path)
{
    pond_free(r->name);
    r->name = pond_strdup(path);
    return r->name ? 0 : POND_ENOMEM;
}

int pond_reader_new(pond_reader **out, int64_t size, const pond_reader_ops *ops, void *impl)
{
    if (!out || !ops || !ops->pread || size < 0) {
        if (ops && ops->free)
            ops->free(impl);
        POND_ASSERT_ARG(out && ops && ops->pread && size >= 0);
    }
    *out = NULL;
    pond_reader *r = pond_calloc(1, sizeof *r);
    if (!r) {
        if (ops->free)
            ops->free(impl);
        return POND_ENOMEM;
    }
    r->ops = ops;
    r->impl = impl;
    r->size = size;
    *out = r;
    return 0;
}

int pond_reader_pread(pond_reader *r, void *buf, size_t len, int64_t off, size_t *n_out)
{
    POND_ASSERT_ARG(r && n_out && (buf || len == 0) && off >= 0);
    *n_out = 0;
    if (off >= r->size || len == 0)
        return 0;
    size_t want = (size_t)POND_MIN((int64_t)len, r->size - off);
    int error = r->ops->pread(r->impl, buf, want, off, n_out);
    if (error < 0 && r->name)
        pond_error_prefix("'%s'", r->name); /* e.g. '/data/x': blob ... chunk 3 ... */
    return error;
}

int pond_reader_read(pond_reader *r, void *buf, size_t cap, size_t *n_out)
{
    POND_ASSERT_ARG(r && n_out);
    int error = pond_reader_pread(r, buf, cap, r->pos, n_out);
    if (error == 0)
        r->pos += (int64_t)*n_out;
    return error;
}

int pond_reader_read_exact(pond_reader *r, void *buf, size_t len)
{
    POND_ASSERT_ARG(r && (buf || len == 0));
    if ((int64_t)len > r->size - r->pos)
        return pond_error_set(POND_EEOF, POND_DOM_TINYFS,
                              "read of %zu bytes at offset %lld past the end (size %lld)", len,
                              (long long)r->pos, (long long)r->size);
    size_t n;
    int error = pond_reader_pread(r, buf, len, r->pos, &n);
    if (error < 0)
        return error;
    if (n != len)
        return pond_error_set(POND_EEOF, POND_DOM_TINYFS, "content ended at offset %lld",
                              (long long)(r->pos + (int64_t)n));
    r->pos += (int64_t)n;
    return 0;
}

int pond_reader_seek(pond_reader *r, int64_t off)
{
    POND_ASSERT_ARG(r);
    if (off < 0 || off > r->size)
        return pond_error_set(POND_EINVALID, POND_DOM_TINYFS, "seek to %lld outside [0, %lld]",
                              (long long)off, (long long)r->size);
    r->pos = off;
    return 0;
}

int64_t pond_reader_tell(const pond_reader *r) { return r->pos; }
int64_t pond_reader_size(const pond_reader *r) { return r->size; }

void pond_reader_free(pond_reader *r)
{
    if (!r)
        return;
    if (r->ops->free)
        r->ops->free(r->impl);
    pond_free(r->name);
    pond_free(r);
}

/* ---- node records ------------------------------------------------------------------------- */

int pond_node_rec_new(pond_node_rec **out)
{
    POND_ASSERT_ARG(out);
    *out = pond_calloc(1, sizeof **out);
    if (!*out)
        return POND_ENOMEM;
    (*out)->refs = 1;
    return 0;
}

int pond_node_rec_dup(pond_node_rec **out, const pond_node_rec *src)
{
    POND_ASSERT_ARG(out && src);
    *out = NULL;
    pond_node_rec *r = pond_malloc(sizeof *r);
    if (!r)
        return POND_ENOMEM;
    *r = *src;
    r->refs = 1;
    r->entries = NULL;
    r->n_entries = 0;
    r->symlink_target = NULL;
    r->xattrs_json = NULL;
    r->content = pond_blob_ref(src->content);
    if (src->n_entries) {
        r->entries = pond_calloc(src->n_entries, sizeof *r->entries);
        if (!r->entries)
            goto oom;
        for (size_t i = 0; i < src->n_entries; i++) {
            r->entries[i] = src->entries[i];
            if (!(r->entries[i].name = pond_strdup(src->entries[i].name)))
                goto oom;
            r->n_entries++;
        }
    }
    if (src->symlink_target && !(r->symlink_target = pond_strdup(src->symlink_target)))
        goto oom;
    if (src->xattrs_json && !(r->xattrs_json = pond_strdup(src->xattrs_json)))
        goto oom;
    *out = r;
    return 0;
oom:
    pond_node_rec_unref(r);
    return POND_ENOMEM;
}

int pond_node_not_found(int domain, const pond_node_id *id, int64_t version)
{
    char s[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(s, id);
    if (version > 0)
        return pond_error_set(POND_ENOTFOUND, domain, "node %s has no version %lld", s,
                              (long long)version);
    return pond_error_set(POND_ENOTFOUND, domain, "node %s not found", s);
}

pond_node_rec *pond_node_rec_ref(pond_node_rec *r)
{
    if (r)
        __atomic_fetch_add(&r->refs, 1, __ATOMIC_RELAXED);
    return r;
}

void pond_node_rec_unref(pond_node_rec *r)
{
    if (!r || __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (size_t i = 0; i < r->n_entries; i++)
        pond_free(r->entries[i].name);
    pond_free(r->entries);
    pond_free(r->symlink_target);
    pond_free(r->xattrs_json);
    pond_blob_unref(r->content);
    pond_free(r);
}

void pond_node_recs_free(pond_node_rec **recs, size_t n)
{
    if (!recs)
        return;
    for (size_t i = 0; i < n; i++)
        pond_node_rec_unref(recs[i]);
    pond_free(recs);
}

pond_node_id pond_dir_entry_home(const pond_node_rec *dir, const pond_dir_entry *e)
{
    if (!pond_node_id_is_nil(&e->part_id))
        return e->part_id;
    return e->type == POND_ENTRY_DIRECTORY ? e->id : dir->id;
}

ptrdiff_t pond_tinyfs__dir_find(const pond_node_rec *dir, const char *name)
{
    size_t lo = 0, hi = dir->n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(dir->entries[mid].name, name);
        if (c == 0)
            return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(ptrdiff_t)lo - 1;
}
