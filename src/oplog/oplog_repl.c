/* What replication needs from the oplog: the blobs a data file refers to, the files a commit
 * adds and removes, host-side state under `_host/` (snapshot leases, incoming transfers) and
 * the gc hook that honours leases (docs/replication.md). */
#include "oplog/oplog_internal.h"

#include <pond/delta.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#define D POND_DOM_OPLOG
#define MAX_DATA_FILE_BYTES ((size_t)1 << 31)

bool pond_oplog_format_supported(const char *format)
{
    /* one digit, OPLOG_FORMAT_MIN..OPLOG_FORMAT: the formats this build reads and writes */
    return format && format[0] >= '0' + OPLOG_FORMAT_MIN && format[0] <= '0' + OPLOG_FORMAT &&
           !format[1];
}

/* ---- what data files and commits refer to ------------------------------------------------ */

int pond_oplog_data_file_blobs(const void *bytes, size_t len, const char *name,
                               pond_oplog_blob_fn fn, void *payload)
{
    POND_ASSERT_ARG(bytes && name && fn);
    static const char *const cols[] = {"node_id",
                                       "file_type",
                                       "version",
                                       "txn_seq",
                                       "timestamp",
                                       "size",
                                       "sha256",
                                       "content",
                                       "blob_root",
                                       "symlink_target",
                                       "min_event_time",
                                       "max_event_time",
                                       "extended_attributes"};
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.column_names = cols;
    po.n_column_names = (int)POND_ARRAY_LEN(cols);
    pond_parquet_reader *r = NULL;
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    pond_node_id part = pond_node_id_root(); /* only used in messages about the rows */
    int rc = pond_parquet_reader_open_memory(&r, bytes, len, &po);
    if (rc == 0)
        rc = pond_parquet_reader_schema(r, &schema);
    while (rc == 0) {
        if ((rc = pond_parquet_reader_next(r, &batch)) == POND_ITEROVER) {
            rc = 0;
            break;
        }
        if (rc < 0)
            break;
        oplog_row *rows = NULL;
        size_t n = 0, cap = 0;
        rc = pond_oplog__decode(&rows, &n, &cap, &schema, &batch, &part, name);
        for (size_t i = 0; i < n; i++) {
            if (rc == 0 && rows[i].in_store)
                rc = fn(&rows[i].rec->sha256, rows[i].rec->size, &rows[i].root, payload);
            pond_oplog__row_dispose(&rows[i]);
        }
        pond_free(rows);
        pond_arrow_array_release(&batch);
    }
    pond_arrow_schema_release(&schema);
    pond_parquet_reader_free(r);
    if (rc < 0 && rc != POND_ENOMEM && pond_error_last()->code != rc)
        rc = pond_error_set(rc, D, "data file '%s' cannot be read", name);
    return rc;
}

typedef struct {
    pond_oplog_action_fn fn;
    void *payload;
} files_ctx;

static int file_action(const pond_delta_file_action *a, void *payload)
{
    files_ctx *c = payload;
    pond_hash sha;
    bool has_sha = false;
    for (size_t i = 0; i < a->n_tags && !has_sha; i++)
        has_sha = !strcmp(a->tags[i].key, OPLOG_TAG_SHA256) && a->tags[i].value &&
                  pond_hash_from_hex(&sha, a->tags[i].value) == 0;
    return c->fn(a->add, a->decoded_path, a->size, has_sha ? &sha : NULL, c->payload);
}

int pond_oplog_commit_files(const char *text, size_t len, const char *name, pond_oplog_action_fn fn,
                            void *payload)
{
    POND_ASSERT_ARG(text && name && fn);
    /* one action parsed at a time, with the log reader's bounds: a commit received from
     * another pond is never parsed whole */
    files_ctx c = {fn, payload};
    return pond_delta_commit_text_file_actions(text, len, name, file_action, &c);
}

/* ---- leases --------------------------------------------------------------------------------- */

struct pond_oplog_lease {
    int fd;
    char *path;
};

/* dir/_host, or dir/_host/rel. */
static char *host_path(const char *dir, const char *rel)
{
    pond_buf b = POND_BUF_INIT;
    if (pond_buf_printf(&b, "%s/%s%s%s", dir, POND_HOST_DIR, rel ? "/" : "", rel ? rel : "") < 0) {
        pond_buf_dispose(&b);
        return NULL;
    }
    return pond_buf_detach(&b);
}

int pond_oplog_lease_take(pond_oplog_lease **out, const char *dir, int64_t version,
                          const char *what)
{
    POND_ASSERT_ARG(out && dir && version >= 0);
    *out = NULL;
    char *host = host_path(dir, NULL), *leases = host_path(dir, "leases");
    pond_buf tmp = POND_BUF_INIT, final = POND_BUF_INIT, text = POND_BUF_INIT;
    int fd = -1, rc = 0;
    uint32_t rnd = 0;
    if (!host || !leases)
        rc = POND_ENOMEM;
    /* real directories only: a lease written through a link would protect nothing */
    if (rc == 0 && (rc = pond__mkdir_own(host, NULL, D)) == 0)
        rc = pond__mkdir_own(leases, NULL, D);
    if (rc == 0 && getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        rc = pond_error_set_os(D, "getrandom");
    if (rc == 0)
        rc = pond_buf_printf(&tmp, "%s/.tmp-%ld-%08x", leases, (long)getpid(), rnd);
    if (rc == 0)
        rc = pond_buf_printf(&final, "%s/%ld-%08x.lease", leases, (long)getpid(), rnd);
    if (rc == 0)
        rc = pond_buf_printf(&text, "pond-lease 1\nversion %" PRId64 "\nwhat %s\n", version,
                             what ? what : "-");
    /* the lock is taken before the lease has its name, so gc never sees an unlocked live one */
    if (rc == 0)
        rc = pond__open(&fd, tmp.ptr, O_WRONLY | O_CREAT | O_EXCL, 0644, D);
    if (rc == 0 && pond__os_flock(fd, LOCK_EX | LOCK_NB) < 0)
        rc = pond_error_set_os(D, "lock '%s'", tmp.ptr);
    if (rc == 0)
        rc = pond__write_all(fd, text.ptr, text.size, tmp.ptr, D);
    if (rc == 0 && pond__os_rename(tmp.ptr, final.ptr) < 0)
        rc = pond_error_set_os(D, "rename '%s' to '%s'", tmp.ptr, final.ptr);
    if (rc < 0) {
        if (fd >= 0)
            (void)pond__os_unlink(tmp.ptr);
        pond__close(fd);
    } else {
        pond_oplog_lease *l = pond_calloc(1, sizeof *l);
        if (!l) {
            (void)pond__os_unlink(final.ptr);
            pond__close(fd);
            rc = POND_ENOMEM;
        } else {
            l->fd = fd;
            l->path = pond_buf_detach(&final);
            *out = l;
        }
    }
    pond_free(host);
    pond_free(leases);
    pond_buf_dispose(&tmp);
    pond_buf_dispose(&final);
    pond_buf_dispose(&text);
    return rc;
}

void pond_oplog_lease_release(pond_oplog_lease *l)
{
    if (!l)
        return;
    (void)pond__os_unlink(l->path);
    pond__close(l->fd);
    pond_free(l->path);
    pond_free(l);
}

/* Opens dir/_host/<sub> without following a link anywhere below the pond: *out NULL when it is
 * not there. A link or anything but a directory there is POND_ECORRUPT. */
static int open_host_dir(pond_dir **out, const char *dir, const char *sub)
{
    *out = NULL;
    pond_dir *root = NULL, *host = NULL;
    int rc = pond__dir_open(&root, dir, true, D);
    if (rc == 0)
        rc = pond__dir_open_at(&host, root, POND_HOST_DIR, D);
    if (rc == 0)
        rc = pond__dir_open_at(out, host, sub, D);
    pond__dir_close(host);
    pond__dir_close(root);
    if (rc == POND_ENOTFOUND) {
        pond_error_clear();
        rc = 0;
    }
    return rc;
}

int pond_oplog_lease_oldest(int64_t *version_out, const char *dir)
{
    POND_ASSERT_ARG(version_out && dir);
    *version_out = -1;
    pond_dir *d = NULL;
    int rc = open_host_dir(&d, dir, "leases");
    if (rc == POND_ECORRUPT) {
        /* a link where pond keeps its leases (fsck fails on it): no lease can be told apart
         * from a dead one, so every version is protected, as for an unreadable lease */
        pond_error_clear();
        *version_out = 0;
        return 0;
    }
    if (rc < 0 || !d)
        return rc;
    pond_dirent e;
    while ((rc = pond__dir_next(&e, d, D)) == 0) {
        size_t n = strlen(e.name);
        if (n < 7 || strcmp(e.name + n - 6, ".lease") != 0 || !S_ISREG(e.st.st_mode))
            continue;
        char name[256];
        snprintf(name, sizeof name, "%s", e.name);
        int fd = -1;
        if (pond__dir_open_file(&fd, d, name, D) < 0) {
            pond_error_clear(); /* gone meanwhile, or not a regular file: not a lease */
            continue;
        }
        if (pond__os_flock(fd, LOCK_SH | LOCK_NB) == 0) {
            /* nobody holds it: its holder died */
            (void)pond__dir_remove_file(d, name, D);
            pond_error_clear();
        } else if (errno == EWOULDBLOCK) {
            char buf[256];
            size_t got = 0;
            if (pond__pread_full(&got, fd, buf, sizeof buf - 1, 0, name, D) == 0) {
                buf[got] = '\0';
                const char *v = strstr(buf, "\nversion ");
                long long ver = v ? strtoll(v + 9, NULL, 10) : -1;
                if (ver >= 0 && (*version_out < 0 || ver < *version_out))
                    *version_out = ver;
                /* a live lease that cannot be read protects everything */
                if (ver < 0)
                    *version_out = 0;
            } else {
                pond_error_clear();
                *version_out = 0;
            }
        }
        pond__close(fd);
    }
    pond__dir_close(d);
    return rc == POND_ITEROVER ? 0 : rc;
}

/* ---- gc: what live leases keep --------------------------------------------------------------- */

typedef struct {
    oplog_lease_keep_fn blob, file;
    void *payload;
    char **paths;
    size_t n, cap;
} keep_ctx;

static int keep_path(keep_ctx *k, const char *path)
{
    int rc = k->file(NULL, path, k->payload);
    if (rc < 0)
        return rc;
    if (POND_GROW(k->paths, k->n, k->cap) < 0)
        return POND_ENOMEM;
    if (!(k->paths[k->n] = pond_strdup(path)))
        return POND_ENOMEM;
    k->n++;
    return 0;
}

static int keep_live(const pond_delta_file *f, void *payload)
{
    return keep_path(payload, f->decoded_path);
}

static int keep_action(const pond_delta_file_action *a, void *payload)
{
    return a->add ? keep_path(payload, a->decoded_path) : 0;
}

static int keep_blob(const pond_hash *sha, int64_t size, const pond_hash *root, void *payload)
{
    (void)size, (void)root;
    keep_ctx *k = payload;
    return k->blob(sha, NULL, k->payload);
}

int pond_oplog__lease_keep(oplog_be *ob, oplog_lease_keep_fn blob, oplog_lease_keep_fn file,
                           void *payload)
{
    int64_t oldest;
    int rc = pond_oplog_lease_oldest(&oldest, ob->dir);
    if (rc < 0 || oldest < 0)
        return rc;
    if (oldest > ob->last_txn)
        oldest = ob->last_txn;
    keep_ctx k = {blob, file, payload, NULL, 0, 0};
    pond_delta_table *t = NULL;
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = oldest;
    /* the leased version itself may be gone from the log (then its successors still count) */
    if (pond_delta_table_open(&t, ob->dir, &o) == 0)
        rc = pond_delta_table_foreach_file(t, keep_live, &k);
    else
        pond_error_clear();
    pond_delta_table_free(t);
    pond_buf text = POND_BUF_INIT;
    for (int64_t v = oldest + 1; rc == 0 && v <= ob->last_txn; v++) {
        /* one action at a time (never the whole commit), without following a link or blocking
         * on a FIFO; a commit that is gone (a log cleanup, a start from a checkpoint) has
         * nothing to keep, one that cannot be read stops gc: what it added is unknown */
        rc = pond_delta_commit_file_actions(ob->dir, v, keep_action, &k);
        if (rc == POND_ENOTFOUND) {
            pond_error_clear();
            rc = 0;
        }
    }
    for (size_t i = 0; rc == 0 && i < k.n; i++) {
        pond_buf_clear(&text);
        /* a file already gone has nothing left to protect; one that does not decode is kept
         * whole (it is in k's files) and fsck reports it */
        int frc = pond__read_file_in(&text, ob->dir, k.paths[i], MAX_DATA_FILE_BYTES, D);
        if (frc == 0) {
            int brc = pond_oplog_data_file_blobs(text.ptr, text.size, k.paths[i], keep_blob, &k);
            if (brc == POND_ENOMEM)
                rc = brc;
        } else if (frc == POND_ENOMEM) {
            rc = frc;
        }
        pond_error_clear();
    }
    pond_buf_dispose(&text);
    for (size_t i = 0; i < k.n; i++)
        pond_free(k.paths[i]);
    pond_free(k.paths);
    return rc;
}

/* ---- leftovers of interrupted transfers -------------------------------------------------- */

int pond_oplog_host_temps(const char *dir, int64_t grace_us, bool remove,
                          void (*fn)(const char *rel, void *payload), void *payload,
                          int64_t *count_out)
{
    POND_ASSERT_ARG(dir && count_out);
    *count_out = 0;
    pond_dir *d = NULL;
    int rc = open_host_dir(&d, dir, "incoming");
    if (rc < 0 || !d)
        return rc;
    int64_t now = pond__now_us();
    pond_dirent e;
    while ((rc = pond__dir_next(&e, d, D)) == 0) {
        /* only regular files are ours to report or remove; nothing is followed */
        if (!S_ISREG(e.st.st_mode))
            continue;
        int64_t mt = (int64_t)e.st.st_mtim.tv_sec * 1000000 + e.st.st_mtim.tv_nsec / 1000;
        if (now - mt < grace_us)
            continue;
        char rel[600];
        snprintf(rel, sizeof rel, "%s/incoming/%.500s", POND_HOST_DIR, e.name);
        int urc = remove ? pond__dir_remove_file(d, e.name, D) : 0;
        if (urc == POND_ENOMEM) {
            rc = urc;
            break;
        }
        if (urc < 0) {
            pond_error_clear(); /* gone meanwhile */
            continue;
        }
        (*count_out)++;
        if (fn)
            fn(rel, payload);
    }
    pond__dir_close(d);
    return rc == POND_ITEROVER ? 0 : rc;
}
