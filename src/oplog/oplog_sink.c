/* The oplog's large-file write path: content at or above its type's threshold goes to the
 * store (`_large_files/`). A tinyfs writer streams large content straight into the store through
 * the backend's content sink (a pond_cas_writer), and commit only records the reference; other
 * content is streamed into a store writer at commit (docs/cas.md). */
#include "oplog/oplog_internal.h"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#define D POND_DOM_OPLOG

/* Streams a content blob into the store. */
static int store_blob(pond_cas_ref *ref, oplog_be *ob, pond_blob *blob)
{
    /* the same content stored before: refresh it against gc instead of writing it again */
    int rrc = pond_cas_reuse(ref, ob->cas, pond_blob_sha256(blob), pond_blob_size(blob));
    if (rrc == 0)
        return 0;
    if (rrc != POND_ENOTFOUND)
        return rrc;
    pond_cas_writer *w = NULL;
    char *buf = pond_malloc(1 << 20);
    if (!buf)
        return POND_ENOMEM;
    int rc = pond_cas_writer_new(&w, ob->cas);
    int64_t off = 0, size = pond_blob_size(blob);
    while (rc == 0 && off < size) {
        size_t n = 0;
        rc = pond_blob_pread(blob, buf, (size_t)POND_MIN((int64_t)(1 << 20), size - off), off, &n);
        if (rc == 0 && n == 0)
            rc = pond_error_set(POND_EIO, D, "content ended at %lld of %lld bytes", (long long)off,
                                (long long)size);
        if (rc == 0)
            rc = pond_cas_writer_write(w, buf, n);
        off += (int64_t)n;
    }
    if (rc == 0)
        rc = pond_cas_writer_finish(ref, w);
    if (rc == 0 && !pond_hash_equal(&ref->sha256, pond_blob_sha256(blob)))
        rc = pond_error_set(POND_ECORRUPT, D, "content hash changed while storing it");
    pond_cas_writer_free(w);
    pond_free(buf);
    return rc;
}

/* ---- the content sink: large content streams straight into the store ------------------------ */

/* At commit, a sink's blob whose file is older than this is refreshed in the store
 * (pond_cas_reuse, under the store lock: a fresh chunk table), so a gc whose grace period is
 * longer than this never removes it before the commit lands; a younger one is only checked
 * to be still there (docs/cas.md). */
#define SINK_REFRESH_US (10 * 1000000LL)

/* What a finished sink leaves: a published blob, readable (verified) before it is committed. */
typedef struct {
    char *pond_dir; /* the pond whose store holds it: commit recognises its own blobs */
    pond_cas *cas;  /* its own handle on the store: the blob may outlive the backend */
    pond_cas_ref ref;
    pthread_mutex_t mu;  /* blobs are read from any thread */
    pond_cas_reader *rd; /* opened at the first read */
} sink_blob;

static int sink_blob_pread(void *impl, void *buf, size_t len, int64_t off, size_t *n_out)
{
    sink_blob *sb = impl;
    pthread_mutex_lock(&sb->mu);
    int rc = sb->rd ? 0 : pond_cas_reader_open(&sb->rd, sb->cas, &sb->ref);
    if (rc == 0)
        rc = pond_cas_reader_read_at(sb->rd, buf, len, off, n_out);
    pthread_mutex_unlock(&sb->mu);
    return rc;
}

static void sink_blob_free(void *impl)
{
    sink_blob *sb = impl;
    if (!sb)
        return;
    pond_cas_reader_free(sb->rd);
    pond_cas_free(sb->cas);
    pond_free(sb->pond_dir);
    pthread_mutex_destroy(&sb->mu);
    pond_free(sb);
}

static const pond_reader_ops SINK_BLOB_OPS = {sink_blob_pread, sink_blob_free};

typedef struct {
    pond_content_sink base; /* must be first */
    sink_blob *sb;          /* owned until finish hands it to the blob */
    pond_cas_writer *w;
} oplog_sink;

static int sink_write(pond_content_sink *s, const void *buf, size_t len)
{
    return pond_cas_writer_write(((oplog_sink *)s)->w, buf, len);
}

static int sink_finish(pond_blob **out, pond_content_sink *s)
{
    oplog_sink *os = (oplog_sink *)s;
    *out = NULL;
    if (!os->sb)
        return pond_error_set(POND_EINVALID, D, "content sink already finished");
    int rc = pond_cas_writer_finish(&os->sb->ref, os->w);
    if (rc < 0)
        return rc;
    sink_blob *sb = os->sb;
    os->sb = NULL;
    return pond_blob_from_source(out, sb->ref.size, &sb->ref.sha256, &SINK_BLOB_OPS, sb);
}

static void sink_free(pond_content_sink *s)
{
    oplog_sink *os = (oplog_sink *)s;
    if (!os)
        return;
    pond_cas_writer_free(os->w); /* unfinished: removes its temp files */
    sink_blob_free(os->sb);
    pond_free(os);
}

int pond_oplog__open_sink(pond_content_sink **out, pond_backend *be, pond_entry_type type)
{
    oplog_be *ob = (oplog_be *)be;
    *out = NULL;
    (void)type; /* one store for every type; placement by size is decided at commit */
    if (ob->as_of >= 0)
        return pond_error_set(POND_EUNSUPPORTED, D, "pond '%s' is open read-only (as of txn %lld)",
                              ob->dir, (long long)ob->as_of);
    oplog_sink *os = pond_calloc(1, sizeof *os);
    sink_blob *sb = pond_calloc(1, sizeof *sb);
    char *store = pond__path_join(ob->dir, OPLOG_STORE_NAME);
    if (!os || !sb || !store || !(sb->pond_dir = pond_strdup(ob->dir))) {
        pond_free(os);
        if (sb)
            pond_free(sb->pond_dir);
        pond_free(sb);
        pond_free(store);
        return POND_ENOMEM;
    }
    pthread_mutex_init(&sb->mu, NULL);
    os->base = (pond_content_sink){sink_write, sink_finish, sink_free};
    os->sb = sb;
    int rc = pond_cas_open(&sb->cas, store, NULL);
    pond_free(store);
    if (rc == 0)
        rc = pond_cas_writer_new(&os->w, sb->cas);
    if (rc < 0) {
        sink_free(&os->base);
        return rc;
    }
    *out = &os->base;
    return 0;
}

/* Large content for a row: a blob this pond's sink already stored is only recorded (checked
 * to be still there, refreshed against gc when it is older than SINK_REFRESH_US); anything
 * else is streamed into the store. */
int pond_oplog__store_content(pond_cas_ref *ref, oplog_be *ob, const pond_node_rec *r)
{
    const sink_blob *sb = pond_blob_source(r->content, &SINK_BLOB_OPS);
    if (!sb || strcmp(sb->pond_dir, ob->dir) != 0)
        return store_blob(ref, ob, r->content);
    char id[POND_NODE_ID_STRLEN + 1], hex[65], *path = NULL;
    struct stat st;
    int rc = pond_cas_blob_path(&path, ob->cas, &sb->ref.sha256);
    if (rc < 0)
        return rc;
    if (pond__os_lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
        (int64_t)st.st_size != sb->ref.size) {
        rc = POND_ENOTFOUND;
    } else if (pond__now_us() - ((int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000) >
               SINK_REFRESH_US) {
        rc = pond_cas_reuse(ref, ob->cas, &sb->ref.sha256, sb->ref.size);
    } else {
        *ref = sb->ref;
    }
    pond_free(path);
    if (rc == POND_ENOTFOUND) {
        pond_node_id_format(id, &r->id);
        pond_hash_hex(hex, &sb->ref.sha256);
        return pond_error_set(POND_ENOTFOUND, D,
                              "node %s version %lld: blob %s written in this transaction is no "
                              "longer in the store (removed by gc: the transaction outlived "
                              "the gc grace period)",
                              id, (long long)r->version, hex);
    }
    return rc;
}
