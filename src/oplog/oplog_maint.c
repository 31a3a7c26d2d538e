/* Maintenance of an oplog pond: fsck (verify everything), gc (retention, unreferenced files)
 * and compaction (one data file per partition). */
#include "oplog/oplog_internal.h"

#include <pond/delta.h>

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define D POND_DOM_OPLOG

/* ---- small sets ------------------------------------------------------------------------- */

typedef struct {
    pond_hash *v;
    size_t n, cap;
    bool sorted;
} hash_set;

static int hs_add(hash_set *s, const pond_hash *h)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        pond_hash *v = pond_realloc(s->v, cap * sizeof *v);
        if (!v)
            return POND_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *h;
    s->sorted = false;
    return 0;
}

static int hash_cmp(const void *a, const void *b) { return memcmp(a, b, sizeof(pond_hash)); }

static bool hs_has(hash_set *s, const pond_hash *h)
{
    if (!s->sorted && s->n) { /* qsort(NULL, 0, ...) is undefined: an empty set has no v */
        qsort(s->v, s->n, sizeof *s->v, hash_cmp);
        s->sorted = true;
    }
    return s->n && bsearch(h, s->v, s->n, sizeof *s->v, hash_cmp) != NULL;
}

typedef struct {
    char **v;
    size_t n, cap;
    bool sorted;
} str_set;

static int ss_add(str_set *s, const char *str)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **v = pond_realloc(s->v, cap * sizeof *v);
        if (!v)
            return POND_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    if (!(s->v[s->n] = pond_strdup(str)))
        return POND_ENOMEM;
    s->n++;
    s->sorted = false;
    return 0;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ss_has(str_set *s, const char *str)
{
    if (!s->sorted && s->n) {
        qsort(s->v, s->n, sizeof *s->v, str_cmp);
        s->sorted = true;
    }
    return s->n && bsearch(&str, s->v, s->n, sizeof *s->v, str_cmp) != NULL;
}

static void ss_dispose(str_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        pond_free(s->v[i]);
    pond_free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- walking the index ------------------------------------------------------------------ */

#define FOREACH_PART(ob, p)                                                                        \
    for (size_t pi_ = 0; pi_ < (ob)->parts.cap; pi_++)                                             \
        for (ol_part *p = (ob)->parts.vals ? (ob)->parts.vals[pi_] : NULL; p; p = NULL)

#define FOREACH_NODE(part, nd)                                                                     \
    for (size_t ni_ = 0; ni_ < (part)->nodes.cap; ni_++)                                           \
        for (ol_node *nd = (part)->nodes.vals ? (part)->nodes.vals[ni_] : NULL; nd; nd = NULL)

/* Paths of the nodes in the latest tree (node id -> "/a/b"), for messages. */
static int build_paths(oplog_idmap *paths, oplog_be *ob, const pond_node_id *dir, const char *path,
                       int depth)
{
    ol_node *n = NULL;
    int rc = oplog__find_node(&n, NULL, ob, dir);
    if (rc < 0 || !n || !n->n || depth > 256)
        return rc < 0 ? rc : 0;
    const pond_node_rec *r = n->rows[n->n - 1].rec;
    for (size_t i = 0; i < r->n_entries && rc == 0; i++) {
        char *child = pond__path_join(path, r->entries[i].name);
        if (!child)
            return POND_ENOMEM;
        if ((rc = oplog__idmap_put(paths, &r->entries[i].id, child)) < 0) {
            pond_free(child);
            return rc;
        }
        if (r->entries[i].type == POND_ENTRY_DIRECTORY)
            rc = build_paths(paths, ob, &r->entries[i].id, child, depth + 1);
    }
    return rc;
}

static void paths_dispose(oplog_idmap *paths)
{
    for (size_t i = 0; i < paths->cap; i++)
        if (paths->vals && paths->vals[i])
            pond_free(paths->vals[i]);
    oplog__idmap_dispose(paths);
}

static const char *node_name(oplog_idmap *paths, const pond_node_id *id, char buf[64])
{
    const char *p = oplog__idmap_get(paths, id);
    if (p)
        return p;
    char s[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(s, id);
    snprintf(buf, 64, "(removed node %s)", s);
    return buf;
}

/* Where the listings of the latest tree say each reachable node's versions live (node id ->
 * ol_part*, or &NO_PART when the index has no such partition). */
static char NO_PART;

static int build_homes(oplog_idmap *homes, oplog_be *ob, const pond_node_id *dir, int depth)
{
    ol_node *n = NULL;
    int rc = oplog__find_node(&n, NULL, ob, dir);
    if (rc < 0 || !n || !n->n || depth > 256)
        return rc < 0 ? rc : 0;
    const pond_node_rec *r = n->rows[n->n - 1].rec;
    for (size_t i = 0; i < r->n_entries && rc == 0; i++) {
        const pond_dir_entry *e = &r->entries[i];
        if (oplog__idmap_get(homes, &e->id))
            continue; /* listed twice (a damaged tree): the first listing counts */
        pond_node_id home = pond_dir_entry_home(r, e);
        void *hp = oplog__idmap_get(&ob->parts, &home);
        if ((rc = oplog__idmap_put(homes, &e->id, hp ? hp : &NO_PART)) == 0 &&
            e->type == POND_ENTRY_DIRECTORY)
            rc = build_homes(homes, ob, &e->id, depth + 1);
    }
    return rc;
}

/* Data files on disk: `part_id=*` directories of the pond, each path relative to the pond. */
static int list_data_files(str_set *out, const char *dir)
{
    DIR *d = pond__os_opendir(dir);
    if (!d)
        return pond_error_set_os(D, "open '%s'", dir);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (strncmp(e->d_name, "part_id=", 8) != 0)
            continue;
        char *sub = pond__path_join(dir, e->d_name);
        DIR *d2 = sub ? pond__os_opendir(sub) : NULL;
        struct dirent *f;
        while (d2 && rc == 0 && (f = readdir(d2))) {
            if (f->d_name[0] == '.')
                continue;
            char rel[1024];
            snprintf(rel, sizeof rel, "%s/%s", e->d_name, f->d_name);
            rc = ss_add(out, rel);
        }
        if (d2)
            closedir(d2);
        pond_free(sub);
    }
    closedir(d);
    return rc;
}

static int64_t file_mtime_us(const char *dir, const char *rel, int64_t *size)
{
    char *p = pond__path_join(dir, rel);
    struct stat st;
    int64_t t = -1;
    if (p && pond__os_stat(p, &st) == 0) {
        t = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
        if (size)
            *size = (int64_t)st.st_size;
    }
    pond_free(p);
    return t;
}

/* Every data file path any commit ever added (scans the JSON commits). */
static int all_added_paths(str_set *out, const char *dir)
{
    char *log = pond__path_join(dir, "_delta_log");
    if (!log)
        return POND_ENOMEM;
    DIR *d = pond__os_opendir(log);
    int rc = d ? 0 : pond_error_set_os(D, "open '%s'", log);
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len != 25 || strcmp(e->d_name + 20, ".json") != 0)
            continue;
        char *path = pond__path_join(log, e->d_name);
        pond_buf text = POND_BUF_INIT;
        rc = path ? pond__read_file(&text, path, (size_t)1 << 30, D) : POND_ENOMEM;
        for (char *line = text.ptr, *next; rc == 0 && line && *line; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            json_error_t je;
            json_t *j = json_loads(line, 0, &je);
            const char *p = json_string_value(json_object_get(json_object_get(j, "add"), "path"));
            if (p) {
                char *decoded = NULL;
                if (pond_delta_path_decode(&decoded, p) == 0)
                    rc = ss_add(out, decoded);
                pond_free(decoded);
            }
            json_decref(j);
        }
        pond_buf_dispose(&text);
        pond_free(path);
    }
    if (d)
        closedir(d);
    pond_free(log);
    return rc;
}

/* ---- fsck --------------------------------------------------------------------------------- */

typedef struct {
    pond_fsck_report *rep;
    pond_fsck_fn fn;
    void *payload;
    hash_set *referenced;
} fsck_ctx;

static void problem(fsck_ctx *c, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(fsck_ctx *c, const char *kind, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->fn)
        c->fn(kind, msg, c->payload);
}

static int store_entry(const pond_cas_entry *e, void *payload)
{
    fsck_ctx *c = payload;
    if (e->kind == POND_CAS_ENTRY_BLOB && !hs_has(c->referenced, &e->sha256)) {
        c->rep->unreferenced_blobs++;
        problem(c, "unreferenced", "blob _large_files/%s: no version refers to it (gc removes it)",
                e->path);
    } else if (e->kind == POND_CAS_ENTRY_TEMP && e->stale) {
        c->rep->stale_temps++;
        problem(c, "stale", "temp file _large_files/%s: left by an interrupted writer", e->path);
    }
    return 0;
}

int pond_oplog_fsck(pond_fsck_report *out, pond_backend *be, pond_fsck_fn fn,
                    pond_progress_fn progress, void *payload)
{
    oplog_be *ob = (oplog_be *)be;
    memset(out, 0, sizeof *out);
    hash_set verified = {0}, referenced = {0};
    oplog_idmap paths = {0}, homes = {0};
    str_set on_disk = {0}, added = {0};
    fsck_ctx c = {out, fn, payload, &referenced};
    int rc = 0;
    /* the log: every live file exists with its logged size */
    pond_delta_table *t = NULL;
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = ob->as_of;
    if ((rc = pond_delta_table_open(&t, ob->dir, &o)) < 0)
        return rc;
    if (pond_delta_table_verify(t, POND_DELTA_VERIFY_FILES) < 0) {
        out->corrupt++;
        problem(&c, "corrupt", "%s", pond_error_last()->message);
    }
    pond_delta_table_free(t);
    /* every data file decodes (inline content is verified against its hash while decoding) */
    int64_t total = 0;
    FOREACH_PART(ob, p)
    {
        /* every data file: its size and SHA-256 as the log records them */
        bool bad = false;
        for (size_t f = 0; f < p->n_files && rc == 0; f++) {
            pond_buf mem = POND_BUF_INIT;
            pond_parquet_reader *r = NULL;
            int vrc = oplog__open_data_file(&r, &mem, ob, &p->files[f], NULL);
            pond_parquet_reader_free(r);
            pond_buf_dispose(&mem);
            if (vrc == POND_ENOMEM)
                rc = vrc;
            else if (vrc < 0) {
                bad = true;
                bool gone = vrc == POND_ENOTFOUND;
                *(gone ? &out->missing : &out->corrupt) += 1;
                problem(&c, gone ? "missing" : "corrupt", "%s", pond_error_last()->message);
            }
        }
        if (rc < 0)
            goto done;
        out->data_files += (int64_t)p->n_files;
        if (oplog__part_load(ob, p) < 0 && !bad) {
            char id[POND_NODE_ID_STRLEN + 1];
            pond_node_id_format(id, &p->id);
            out->corrupt++;
            problem(&c, "corrupt", "data files of partition %s: %s", id,
                    pond_error_last()->message);
        }
    }
    pond_node_id root = pond_node_id_root();
    char *slash = pond_strdup("/");
    if (!slash || (rc = oplog__idmap_put(&paths, &root, slash)) < 0) {
        pond_free(slash);
        rc = POND_ENOMEM;
        goto done;
    }
    if ((rc = build_paths(&paths, ob, &root, "/", 0)) < 0)
        goto done;
    /* Every reachable node has its versions in the partition its listing names, and nowhere
     * else: versions elsewhere were stranded by a move in a pond written before format 2
     * (that move wrote a new version in the new directory's partition). They are reported,
     * kept, and not read. */
    if ((rc = build_homes(&homes, ob, &root, 0)) < 0)
        goto done;
    FOREACH_PART(ob, p)
    FOREACH_NODE(p, nd)
    {
        if (!nd->n)
            continue;
        const pond_node_id *id = &nd->rows[0].rec->id;
        ol_part *home = oplog__idmap_get(&homes, id);
        if (!home || home == p)
            continue;
        char nb[64], pb[64], pid[POND_NODE_ID_STRLEN + 1];
        pond_node_id_format(pid, &p->id);
        out->stranded += (int64_t)nd->n;
        problem(&c, "stranded",
                "%s: %zu version%s (%lld to %lld) in partition %s (directory %s), where no "
                "listing points: left there by a move in an older pond; kept, not read",
                node_name(&paths, id, nb), nd->n, nd->n == 1 ? "" : "s",
                (long long)nd->rows[0].rec->version, (long long)nd->rows[nd->n - 1].rec->version,
                pid, node_name(&paths, &p->id, pb));
    }
    for (size_t i = 0; i < homes.cap; i++) {
        ol_part *home = homes.vals ? homes.vals[i] : NULL;
        if (!home)
            continue;
        /* found, or in a partition that could not be read (reported above) */
        if (home != (void *)&NO_PART &&
            (!home->loaded || oplog__idmap_get(&home->nodes, &homes.keys[i])))
            continue;
        char nb[64];
        out->missing++;
        problem(&c, "missing", "%s: no version of it in the partition its directory names",
                node_name(&paths, &homes.keys[i], nb));
    }
    FOREACH_PART(ob, p)
    FOREACH_NODE(p, nd)
    for (size_t i = 0; i < nd->n; i++)
        if (nd->rows[i].in_store)
            total += nd->rows[i].rec->size;
    int64_t done_bytes = 0;
    FOREACH_PART(ob, p)
    FOREACH_NODE(p, nd)
    for (size_t i = 0; i < nd->n && rc == 0; i++) {
        const oplog_row *row = &nd->rows[i];
        const pond_node_rec *r = row->rec;
        out->rows++;
        if (!pond_entry_type_is_file(r->type))
            continue;
        if (!row->in_store) {
            out->inline_checked++;
            out->bytes_hashed += r->size;
            continue;
        }
        if ((rc = hs_add(&referenced, &r->sha256)) < 0)
            break;
        char hex[65], nb[64];
        pond_hash_hex(hex, &r->sha256);
        const char *name = node_name(&paths, &r->id, nb);
        if (hs_has(&verified, &r->sha256))
            continue;
        pond_cas_ref ref;
        int vrc = pond_cas_verify(&ref, ob->cas, &r->sha256);
        if ((rc = hs_add(&verified, &r->sha256)) < 0)
            break;
        out->blobs_checked++;
        if (vrc == POND_ENOTFOUND) {
            out->missing++;
            problem(&c, "missing", "%s version %lld: blob %s is missing", name,
                    (long long)r->version, hex);
        } else if (vrc < 0) {
            out->corrupt++;
            problem(&c, "corrupt", "%s version %lld: %s", name, (long long)r->version,
                    pond_error_last()->message);
        } else if (ref.size != r->size || !pond_hash_equal(&ref.root, &row->root)) {
            out->corrupt++;
            problem(&c, "corrupt", "%s version %lld: blob %s does not match the recorded size "
                                   "and chunk root",
                    name, (long long)r->version, hex);
        } else {
            out->bytes_hashed += ref.size;
        }
        done_bytes += r->size;
        if (progress)
            progress(done_bytes, total, payload);
    }
    if (rc < 0)
        goto done;
    /* the store: unreferenced blobs, stale temps (grace: one hour) */
    if ((rc = pond_cas_foreach(ob->cas, 3600LL * 1000000, store_entry, &c)) < 0)
        goto done;
    /* data files no commit refers to */
    if ((rc = list_data_files(&on_disk, ob->dir)) < 0 || (rc = all_added_paths(&added, ob->dir)) < 0)
        goto done;
    for (size_t i = 0; i < on_disk.n; i++)
        if (!ss_has(&added, on_disk.v[i])) {
            out->orphan_files++;
            problem(&c, "orphan", "data file %s: no commit refers to it (gc removes it)",
                    on_disk.v[i]);
        }
    if (out->missing || out->corrupt)
        rc = pond_error_set(POND_ECORRUPT, D, "pond '%s': %lld missing, %lld corrupt", ob->dir,
                            (long long)out->missing, (long long)out->corrupt);
done:
    pond_free(verified.v);
    pond_free(referenced.v);
    paths_dispose(&paths);
    oplog__idmap_dispose(&homes);
    ss_dispose(&on_disk);
    ss_dispose(&added);
    return rc;
}

/* ---- gc and compaction ---------------------------------------------------------------------- */

typedef struct {
    hash_set *referenced;
    hash_set cand;
} gc_blobs;

static int collect_unreferenced(const pond_cas_entry *e, void *payload)
{
    gc_blobs *g = payload;
    if (e->kind == POND_CAS_ENTRY_BLOB && e->stale && !hs_has(g->referenced, &e->sha256))
        return hs_add(&g->cand, &e->sha256);
    return 0;
}

static int row_txn_cmp(const void *a, const void *b)
{
    const oplog_row *x = a, *y = b;
    if (x->rec->txn_seq != y->rec->txn_seq)
        return x->rec->txn_seq < y->rec->txn_seq ? -1 : 1;
    return memcmp(&x->rec->id, &y->rec->id, sizeof x->rec->id);
}

/* Whether version i of node nd survives the retention policy. */
/* Whether version i of node nd survives the retention policy. A node still in the tree keeps
 * its newest version whatever the policy; a removed node is history only, so under a policy
 * its versions go like any old version (that is what frees a deleted file's blob). */
/* Does node nd have version v (rows ascending by version)? */
static bool node_has(const ol_node *nd, int64_t v)
{
    size_t lo = 0, hi = nd->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t x = nd->rows[mid].rec->version;
        if (x == v)
            return nd->rows[mid].rec->size > 0;
        if (x < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Is version i of series nd replaced by a compacted version it still has? The newest version's
 * attributes list the compactions (docs/format.md, "The series index"). Anything unreadable
 * counts as not replaced: the version is kept. The ranges of the node last asked about are
 * kept (per thread): retention asks about every version of a node in turn. */
static bool series_replaced(const ol_node *nd, size_t i)
{
    static _Thread_local pond_node_id cached_id;
    static _Thread_local int64_t cached_version;
    static _Thread_local size_t cached_n;
    static _Thread_local int64_t ranges[64][2]; /* the first 64 compactions that apply */
    static _Thread_local size_t n_ranges;
    const pond_node_rec *newest = nd->rows[nd->n - 1].rec;
    const char *x = newest->xattrs_json;
    /* keyed by what identifies the node's rows: its id, newest version and version count */
    if (!pond_node_id_equal(&cached_id, &newest->id) || cached_version != newest->version ||
        cached_n != nd->n) {
        cached_id = newest->id;
        cached_version = newest->version;
        cached_n = nd->n;
        n_ranges = 0;
        json_error_t je;
        json_t *j = x && strstr(x, "\"pond.compactions\"") ? json_loads(x, 0, &je) : NULL;
        json_t *cs = json_object_get(j, "pond.compactions");
        for (size_t c = 0; c < json_array_size(cs) && n_ranges < 64; c++) {
            json_t *e = json_array_get(cs, c);
            int64_t by = json_integer_value(json_array_get(e, 0));
            int64_t lo = json_integer_value(json_array_get(e, 1));
            int64_t hi = json_integer_value(json_array_get(e, 2));
            if (lo >= 1 && hi >= lo && by > hi && node_has(nd, by)) {
                ranges[n_ranges][0] = lo;
                ranges[n_ranges++][1] = hi;
            }
        }
        json_decref(j);
    }
    int64_t v = nd->rows[i].rec->version;
    for (size_t c = 0; c < n_ranges; c++)
        if (v >= ranges[c][0] && v <= ranges[c][1])
            return true;
    return false;
}

static bool keep_row(const pond_gc_options *o, const ol_node *nd, size_t i, int64_t now,
                     bool live)
{
    bool retention = o->keep_versions > 0 || o->keep_age_us > 0;
    if (!live && retention) {
        if (o->keep_age_us > 0 && o->keep_versions <= 0)
            return now - nd->rows[i].rec->timestamp_us <= o->keep_age_us;
        return false;
    }
    if (i + 1 == nd->n)
        return true; /* the newest version always stays */
    /* a series' state is the union of its versions: retention drops only versions a
     * compaction replaced (their rows live on in the compacted version) */
    if (retention && nd->rows[i].rec->type == POND_ENTRY_FILE_SERIES && !series_replaced(nd, i))
        return true;
    if (o->keep_versions > 0 && nd->n - i > (size_t)o->keep_versions)
        return false;
    if (o->keep_age_us > 0 && now - nd->rows[i].rec->timestamp_us > o->keep_age_us)
        return false;
    return true;
}

static bool is_live(oplog_idmap *live, const ol_node *nd)
{
    return !live->cap || oplog__idmap_get(live, &nd->rows[0].rec->id) != NULL;
}

/* The plan entry for partition p, or NULL. */
static const oplog_merge *plan_for(const oplog_merge *plan, size_t n_plan, const ol_part *p)
{
    for (size_t i = 0; i < n_plan; i++)
        if (pond_node_id_equal(&plan[i].part, &p->id))
            return &plan[i];
    return NULL;
}

/* A directory row whose listing was loaded only to be rewritten goes back to pending, now in
 * the merged file: a merge must not leave a busy directory's whole history in memory. Only
 * rows nobody else holds are dropped. */
static void repend(oplog_row **rows, size_t n, int file_idx)
{
    for (size_t i = 0; i < n; i++) {
        pond_node_rec *rec = rows[i]->rec;
        if (!rec || rec->refs != 1 || rec->type != POND_ENTRY_DIRECTORY)
            continue;
        for (size_t k = 0; k < rec->n_entries; k++)
            pond_free(rec->entries[k].name);
        pond_free(rec->entries);
        rec->entries = NULL;
        rec->n_entries = 0;
        rows[i]->entries_pending = true;
        rows[i]->file_idx = file_idx;
    }
}

/* Rewrites partitions in one commit. With a plan: each named partition's files from_file..
 * become one file of the plan's level. Without: drops the versions the retention policy does
 * not keep (opts NULL: keep all), and merges all the data files of every partition that has
 * at least min_files files or lost versions. The index follows in place (or reloads lazily
 * after retention). */
int oplog__rewrite(pond_gc_report *out, oplog_be *ob, const pond_gc_options *opts,
                   const oplog_merge *plan, size_t n_plan, size_t min_files)
{
    pond_gc_options keep_all = POND_GC_OPTIONS_INIT;
    if (!opts || plan)
        opts = &keep_all;
    bool retention = opts->keep_versions > 0 || opts->keep_age_us > 0;
    int64_t now = pond__now_us();
    int rc = 0;
    oplog_row **loaded = NULL; /* listings read only for this rewrite */
    size_t n_loaded = 0;
    /* retention needs to know which nodes are still in the tree: load everything */
    FOREACH_PART(ob, p)
    if (rc == 0 && (!plan || plan_for(plan, n_plan, p)))
        rc = oplog__part_load(ob, p);
    /* a rewrite writes every row again: older directory listings must be read first */
    FOREACH_PART(ob, p)
    if (rc == 0 && p->loaded) {
        const oplog_merge *m = plan ? plan_for(plan, n_plan, p) : NULL;
        if (m)
            rc = oplog__part_load_entries_from(ob, p, m->from_file, &loaded, &n_loaded);
        else if (!plan)
            rc = oplog__part_load_all_entries(ob, p);
    }
    if (rc < 0) {
        pond_free(loaded);
        return rc;
    }
    oplog_idmap live = {0};
    if (retention) {
        pond_node_id root = pond_node_id_root();
        char *slash = pond_strdup("/");
        if (!slash || (rc = oplog__idmap_put(&live, &root, slash)) < 0) {
            pond_free(slash);
            paths_dispose(&live);
            return POND_ENOMEM;
        }
        if ((rc = build_paths(&live, ob, &root, "/", 0)) < 0) {
            paths_dispose(&live);
            return rc;
        }
    }
    commit_part *cps = NULL;
    size_t ncp = 0, cap = 0;
    pond_delta_actions *acts = NULL;
    pond_buf stats = POND_BUF_INIT;
    str_set removed = {0};
    FOREACH_PART(ob, p)
    {
        if (rc < 0)
            break;
        const oplog_merge *m = plan ? plan_for(plan, n_plan, p) : NULL;
        if (plan && !m)
            continue;
        size_t from = m ? m->from_file : 0;
        bool drop = false;
        FOREACH_NODE(p, nd)
        for (size_t i = 0; i < nd->n; i++)
            drop |= !keep_row(opts, nd, i, now, is_live(&live, nd));
        if (!m && !drop && p->n_files < min_files)
            continue;
        if (from >= p->n_files)
            continue;
        if (ncp == cap) {
            cap = cap ? cap * 2 : 8;
            commit_part *n2 = pond_realloc(cps, cap * sizeof *n2);
            if (!n2) {
                rc = POND_ENOMEM;
                break;
            }
            cps = n2;
        }
        commit_part *cp = &cps[ncp++];
        memset(cp, 0, sizeof *cp);
        cp->part = p->id;
        /* the merged file's level: the plan's, or one above everything it replaces */
        cp->level = m ? m->level : 0;
        for (size_t f = from; !m && f < p->n_files; f++)
            cp->level = p->files[f].level + 1 > cp->level ? p->files[f].level + 1 : cp->level;
        FOREACH_NODE(p, nd)
        for (size_t i = 0; i < nd->n && rc == 0; i++) {
            if (nd->rows[i].file_idx < (int)from)
                continue;
            if (!keep_row(opts, nd, i, now, is_live(&live, nd))) {
                out->versions_dropped++;
                continue;
            }
            if (cp->n == cp->cap) {
                size_t c2 = cp->cap ? cp->cap * 2 : 64;
                oplog_row *r2 = pond_realloc(cp->rows, c2 * sizeof *r2);
                if (!r2) {
                    rc = POND_ENOMEM;
                    break;
                }
                cp->rows = r2;
                cp->cap = c2;
            }
            cp->rows[cp->n] = nd->rows[i];
            cp->rows[cp->n++].rec = pond_node_rec_ref(nd->rows[i].rec);
        }
        for (size_t f = from; f < p->n_files && rc == 0; f++)
            rc = ss_add(&removed, p->files[f].path);
    }
    int64_t version = ob->last_txn + 1;
    if (rc == 0 && ncp > 0) {
        rc = pond_delta_actions_new(&acts);
        for (size_t k = 0; k < ncp && rc == 0; k++) {
            commit_part *cp = &cps[k];
            if (cp->n == 0)
                continue;
            qsort(cp->rows, cp->n, sizeof *cp->rows, row_txn_cmp);
            int64_t maxtxn = cp->rows[cp->n - 1].rec->txn_seq;
            if ((rc = oplog__write_part_file(ob, cp, maxtxn, true)) < 0)
                break;
            char id[POND_NODE_ID_STRLEN + 1];
            pond_node_id_format(id, &cp->part);
            pond_delta_kv pv = {"part_id", id};
            pond_buf_clear(&stats);
            if ((rc = oplog__stats_json(&stats, cp)) < 0)
                break;
            char hex[65];
            pond_delta_kv tag;
            oplog__sha_tag(hex, &tag, cp);
            pond_delta_file_desc f = {POND_DELTA_FILE_DESC_VERSION, cp->path, &pv, 1, cp->size,
                                      now / 1000, 0, retention, stats.ptr, &tag, 1};
            rc = pond_delta_actions_add(acts, &f);
        }
        for (size_t i = 0; i < removed.n && rc == 0; i++) {
            /* the partition value is in the path: part_id=<uuid>/... */
            char id[POND_NODE_ID_STRLEN + 1] = {0};
            memcpy(id, removed.v[i] + 8, POND_NODE_ID_STRLEN);
            pond_delta_kv pv = {"part_id", id};
            pond_delta_file_desc f = {POND_DELTA_FILE_DESC_VERSION, removed.v[i], &pv, 1, -1,
                                      0, now / 1000, retention, NULL, NULL, 0};
            rc = pond_delta_actions_remove(acts, &f);
        }
        if (rc == 0) {
            pond_buf extra = POND_BUF_INIT;
            rc = pond_buf_printf(&extra, "{\"pondTxnSeq\":%lld%s%s}", (long long)version,
                                 opts->command_json ? ",\"pondMeta\":" : "",
                                 opts->command_json ? opts->command_json : "");
            if (rc == 0)
                rc = pond_delta_actions_commit_info(acts, now / 1000,
                                                    retention ? "DELETE" : "OPTIMIZE", NULL,
                                                    extra.ptr);
            pond_buf_dispose(&extra);
        }
        if (rc == 0)
            rc = pond_delta_commit_write(ob->dir, version, acts);
        if (rc == 0) {
            out->partitions_rewritten = (int64_t)ncp;
            out->commit_version = version;
        }
    }
    if (rc == 0 && out->commit_version >= 0) {
        /* the index follows the commit: each rewritten partition now has its one new file;
         * rows are unchanged unless versions were dropped (then it reloads lazily) */
        ob->last_txn = out->commit_version;
        for (size_t k = 0; k < ncp && rc == 0; k++) {
            ol_part *p = oplog__idmap_get(&ob->parts, &cps[k].part);
            if (!p)
                continue;
            const oplog_merge *m = plan ? plan_for(plan, n_plan, p) : NULL;
            size_t from = m ? m->from_file : 0;
            for (size_t f = from; f < p->n_files; f++)
                pond_free(p->files[f].path);
            p->n_files = from;
            if (cps[k].n && cps[k].path)
                rc = oplog__part_add_file(p, cps[k].path, cps[k].rows[cps[k].n - 1].rec->txn_seq,
                                          cps[k].size, &cps[k].sha);
            FOREACH_NODE(p, nd)
            for (size_t i = 0; i < nd->n; i++)
                if (nd->rows[i].file_idx >= (int)from)
                    nd->rows[i].file_idx = (int)from;
            if (retention)
                oplog__part_unload(p);
        }
    }
    for (size_t k = 0; k < ncp; k++) {
        if (rc < 0 && out->commit_version < 0 && cps[k].path) { /* not committed: garbage */
            char *pth = pond__path_join(ob->dir, cps[k].path);
            if (pth)
                (void)pond__os_unlink(pth);
            pond_free(pth);
        }
        for (size_t i = 0; i < cps[k].n; i++)
            oplog__row_dispose(&cps[k].rows[i]);
        pond_free(cps[k].rows);
        pond_free(cps[k].path);
    }
    pond_free(cps);
    pond_delta_actions_free(acts);
    pond_buf_dispose(&stats);
    ss_dispose(&removed);
    paths_dispose(&live);
    if (rc == 0 && out->commit_version >= 0 && plan) {
        /* the rows loaded for this merge now live in the partition's merged (last) file */
        for (size_t i = 0; i < n_loaded; i++) {
            ol_part *p = oplog__idmap_get(&ob->parts, &loaded[i]->rec->part_id);
            if (p && p->n_files)
                repend(&loaded[i], 1, (int)p->n_files - 1);
        }
    }
    pond_free(loaded);
    if (rc < 0 && out->commit_version >= 0)
        return oplog__load_index(ob, -1); /* committed, but the index could not follow */
    return rc;
}

int pond_oplog_gc(pond_gc_report *out, pond_backend *be, const pond_gc_options *opts)
{
    oplog_be *ob = (oplog_be *)be;
    pond_gc_options def = POND_GC_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    memset(out, 0, sizeof *out);
    out->commit_version = -1;
    if (ob->as_of >= 0)
        return pond_error_set(POND_EINVALID, D, "gc needs the live pond, not a past version");
    if (ob->lock_fd < 0)
        return pond_error_set(POND_EINVALID, D, "gc needs the pond's writer lock");
    bool retention = opts->keep_versions > 0 || opts->keep_age_us > 0;
    int64_t now = pond__now_us();
    /* 1. rewrite partitions: drop versions by retention, merge files */
    int rc = oplog__rewrite(out, ob, opts, NULL, 0, opts->compact ? 2 : SIZE_MAX);
    if (rc < 0)
        return rc;
    /* 2. blobs no version of the snapshot refers to. Every partition must be loaded: a blob
     * is only unreferenced if no row anywhere refers to it (a partition that cannot be read
     * stops gc here, before anything is removed). */
    FOREACH_PART(ob, p)
    if (rc == 0)
        rc = oplog__part_load(ob, p);
    if (rc < 0)
        return rc;
    hash_set referenced = {0};
    gc_blobs gb = {&referenced, {0}};
    FOREACH_PART(ob, p)
    FOREACH_NODE(p, nd)
    for (size_t i = 0; i < nd->n && rc == 0; i++)
        if (nd->rows[i].in_store)
            rc = hs_add(&referenced, &nd->rows[i].rec->sha256);
    if (rc == 0)
        rc = pond_cas_foreach(ob->cas, opts->grace_us, collect_unreferenced, &gb);
    for (size_t i = 0; i < gb.cand.n && rc == 0; i++) {
        bool removed_blob = false;
        char *bp = NULL;
        int64_t size = 0;
        if (pond_cas_blob_path(&bp, ob->cas, &gb.cand.v[i]) == 0)
            file_mtime_us("/", bp, &size);
        pond_free(bp);
        rc = pond_cas_remove(&removed_blob, ob->cas, &gb.cand.v[i], opts->grace_us);
        if (removed_blob) {
            out->blobs_removed++;
            out->bytes_freed += size;
        }
    }
    pond_free(referenced.v);
    pond_free(gb.cand.v);
    if (rc < 0)
        return rc;
    /* 3. data files: never committed (aborted writers), or, with retention, dropped */
    str_set on_disk = {0}, added = {0}, live = {0};
    rc = list_data_files(&on_disk, ob->dir);
    if (rc == 0)
        rc = all_added_paths(&added, ob->dir);
    FOREACH_PART(ob, p)
    for (size_t f = 0; f < p->n_files && rc == 0; f++)
        rc = ss_add(&live, p->files[f].path);
    for (size_t i = 0; i < on_disk.n && rc == 0; i++) {
        const char *rel = on_disk.v[i];
        if (ss_has(&live, rel) || (!retention && ss_has(&added, rel)))
            continue;
        int64_t size = 0, mt = file_mtime_us(ob->dir, rel, &size);
        if (mt < 0 || now - mt < opts->grace_us)
            continue;
        char *pth = pond__path_join(ob->dir, rel);
        if (pth && pond__os_unlink(pth) == 0) {
            out->data_files_removed++;
            out->bytes_freed += size;
        }
        pond_free(pth);
    }
    ss_dispose(&on_disk);
    ss_dispose(&added);
    ss_dispose(&live);
    if (rc < 0)
        return rc;
    /* 4. temp files of interrupted writers */
    size_t temps = 0;
    if ((rc = pond_cas_remove_stale_temps(&temps, ob->cas, opts->grace_us)) < 0)
        return rc;
    out->temps_removed += (int64_t)temps;
    char *log = pond__path_join(ob->dir, "_delta_log");
    DIR *d = log ? pond__os_opendir(log) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, ".tmp-", 5) != 0)
            continue;
        char rel[512];
        snprintf(rel, sizeof rel, "_delta_log/%s", e->d_name);
        int64_t mt = file_mtime_us(ob->dir, rel, NULL);
        char *pth = pond__path_join(ob->dir, rel);
        if (pth && mt >= 0 && now - mt >= opts->grace_us && pond__os_unlink(pth) == 0)
            out->temps_removed++;
        pond_free(pth);
    }
    if (d)
        closedir(d);
    pond_free(log);
    return 0;
}
