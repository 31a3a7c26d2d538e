/* What replication needs from the oplog: the blobs a data file refers to, the files a commit
 * adds and removes, host-side state under `_host/` (snapshot leases, incoming transfers) and
 * the gc hook that honours leases (docs/replication.md). */
#include "oplog/oplog_internal.h"

#include <pond/delta.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#define D POND_DOM_OPLOG
#define MAX_DATA_FILE_BYTES ((size_t)1 << 31)
#define MAX_COMMIT_BYTES ((size_t)256 << 20)

bool pond_oplog_format_supported(const char *format)
{
    return format && !strcmp(format, "1");
}

/* ---- what data files and commits refer to ------------------------------------------------ */

int pond_oplog_data_file_blobs(const void *bytes, size_t len, const char *name,
                               pond_oplog_blob_fn fn, void *payload)
{
    POND_ASSERT_ARG(bytes && name && fn);
    static const char *const cols[] = {"node_id", "file_type", "version",  "txn_seq",
                                       "timestamp", "size",    "sha256",   "content",
                                       "blob_root", "symlink_target", "min_event_time",
                                       "max_event_time", "extended_attributes"};
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
        rc = oplog__decode(&rows, &n, &cap, &schema, &batch, &part, name);
        for (size_t i = 0; i < n; i++) {
            if (rc == 0 && rows[i].in_store)
                rc = fn(&rows[i].rec->sha256, rows[i].rec->size, &rows[i].root, payload);
            oplog__row_dispose(&rows[i]);
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

int pond_oplog_commit_files(const char *text, size_t len, const char *name,
                            pond_oplog_action_fn fn, void *payload)
{
    POND_ASSERT_ARG(text && name && fn);
    int rc = 0;
    size_t lineno = 0;
    for (size_t pos = 0; rc == 0 && pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        lineno++;
        if (ll == 0)
            continue;
        json_error_t je;
        json_t *j = json_loadb(line, ll, 0, &je);
        if (!j || !json_is_object(j)) {
            json_decref(j);
            return pond_error_set(POND_ECORRUPT, D, "commit %s line %zu: not a JSON object",
                                  name, lineno);
        }
        json_t *a = json_object_get(j, "add");
        bool add = a != NULL;
        if (!a)
            a = json_object_get(j, "remove");
        const char *p = json_string_value(json_object_get(a, "path"));
        if (a && !p)
            rc = pond_error_set(POND_ECORRUPT, D, "commit %s line %zu: an action without a path",
                                name, lineno);
        if (rc == 0 && p) {
            char *decoded = NULL;
            json_t *js = json_object_get(a, "size");
            int64_t size = json_is_integer(js) ? (int64_t)json_integer_value(js) : -1;
            const char *hex = json_string_value(
                json_object_get(json_object_get(a, "tags"), OPLOG_TAG_SHA256));
            pond_hash sha;
            bool has_sha = hex && pond_hash_from_hex(&sha, hex) == 0;
            if ((rc = pond_delta_path_decode(&decoded, p)) == 0)
                rc = fn(add, decoded, size, has_sha ? &sha : NULL, payload);
            pond_free(decoded);
        }
        json_decref(j);
    }
    return rc;
}

/* ---- leases --------------------------------------------------------------------------------- */

struct pond_oplog_lease {
    int fd;
    char *path;
};

static char *host_path(const char *dir, const char *rel)
{
    pond_buf b = POND_BUF_INIT;
    if (pond_buf_printf(&b, "%s/%s/%s", dir, POND_HOST_DIR, rel) < 0) {
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
    char *host = host_path(dir, ""), *leases = host_path(dir, "leases");
    pond_buf tmp = POND_BUF_INIT, final = POND_BUF_INIT, text = POND_BUF_INIT;
    int fd = -1, rc = 0;
    uint32_t rnd = 0;
    if (!host || !leases)
        rc = POND_ENOMEM;
    if (rc == 0 && (rc = pond__mkdir(host, true, D)) == 0)
        rc = pond__mkdir(leases, true, D);
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

int pond_oplog_lease_oldest(int64_t *version_out, const char *dir)
{
    POND_ASSERT_ARG(version_out && dir);
    *version_out = -1;
    char *leases = host_path(dir, "leases");
    if (!leases)
        return POND_ENOMEM;
    DIR *d = pond__os_opendir(leases);
    if (!d) {
        int rc = errno == ENOENT ? 0 : pond_error_set_os(D, "open '%s'", leases);
        pond_free(leases);
        return rc;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 7 || strcmp(e->d_name + n - 6, ".lease") != 0)
            continue;
        char *p = pond__path_join(leases, e->d_name);
        if (!p) {
            rc = POND_ENOMEM;
            break;
        }
        int fd = -1;
        if (pond__open_pond_file(&fd, p, D) < 0) {
            pond_error_clear(); /* gone meanwhile, or not a regular file: not a lease */
            pond_free(p);
            continue;
        }
        if (pond__os_flock(fd, LOCK_SH | LOCK_NB) == 0) {
            /* nobody holds it: its holder died */
            (void)pond__os_unlink(p);
        } else if (errno == EWOULDBLOCK) {
            char buf[256];
            size_t got = 0;
            if (pond__pread_full(&got, fd, buf, sizeof buf - 1, 0, p, D) == 0) {
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
        pond_free(p);
    }
    closedir(d);
    pond_free(leases);
    return rc;
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
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        char **v = pond_realloc(k->paths, cap * sizeof *v);
        if (!v)
            return POND_ENOMEM;
        k->paths = v;
        k->cap = cap;
    }
    if (!(k->paths[k->n] = pond_strdup(path)))
        return POND_ENOMEM;
    k->n++;
    return 0;
}

static int keep_live(const pond_delta_file *f, void *payload)
{
    return keep_path(payload, f->decoded_path);
}

static int keep_added(bool add, const char *path, int64_t size, const pond_hash *sha,
                      void *payload)
{
    (void)size, (void)sha;
    return add ? keep_path(payload, path) : 0;
}

static int keep_blob(const pond_hash *sha, int64_t size, const pond_hash *root, void *payload)
{
    (void)size, (void)root;
    keep_ctx *k = payload;
    return k->blob(sha, NULL, k->payload);
}

int oplog__lease_keep(oplog_be *ob, oplog_lease_keep_fn blob, oplog_lease_keep_fn file,
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
        char rel[64];
        snprintf(rel, sizeof rel, "_delta_log/%020" PRId64 ".json", v);
        char *p = pond__path_join(ob->dir, rel);
        if (!p) {
            rc = POND_ENOMEM;
            break;
        }
        pond_buf_clear(&text);
        if (pond__read_file(&text, p, MAX_COMMIT_BYTES, D) == 0)
            rc = pond_oplog_commit_files(text.ptr ? text.ptr : "", text.size, rel, keep_added, &k);
        else
            pond_error_clear();
        pond_free(p);
    }
    for (size_t i = 0; rc == 0 && i < k.n; i++) {
        char *p = pond__path_join(ob->dir, k.paths[i]);
        if (!p) {
            rc = POND_ENOMEM;
            break;
        }
        pond_buf_clear(&text);
        /* a file already gone has nothing left to protect; one that does not decode is kept
         * whole (it is in k's files) and fsck reports it */
        if (pond__read_file(&text, p, MAX_DATA_FILE_BYTES, D) == 0) {
            int brc = pond_oplog_data_file_blobs(text.ptr, text.size, k.paths[i], keep_blob, &k);
            if (brc == POND_ENOMEM)
                rc = brc;
        }
        pond_error_clear();
        pond_free(p);
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
    char *inc = host_path(dir, "incoming");
    if (!inc)
        return POND_ENOMEM;
    DIR *d = pond__os_opendir(inc);
    if (!d) {
        int rc = errno == ENOENT ? 0 : pond_error_set_os(D, "open '%s'", inc);
        pond_free(inc);
        return rc;
    }
    int64_t now = pond__now_us();
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *p = pond__path_join(inc, e->d_name);
        struct stat st;
        /* only regular files are ours to report or remove; a symlink is never followed */
        if (p && pond__os_lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
            if (now - mt >= grace_us) {
                char rel[600];
                snprintf(rel, sizeof rel, "%s/incoming/%s", POND_HOST_DIR, e->d_name);
                if (!remove || pond__os_unlink(p) == 0) {
                    (*count_out)++;
                    if (fn)
                        fn(rel, payload);
                }
            }
        }
        pond_free(p);
    }
    closedir(d);
    pond_free(inc);
    return 0;
}
