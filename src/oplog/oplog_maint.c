/* Maintenance of an oplog pond: fsck (verify everything), gc (garbage, retention, merging)
 * and the merges themselves (tiered after a commit, whole partitions for gc --compact).
 * Retention's decisions and commit are in oplog_retain.c; the walk of the pond's directories
 * in oplog_walk.c. */
#include "oplog/oplog_internal.h"
#include "oplog/oplog_intent.h"

#include <pond/delta.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define D POND_DOM_OPLOG

/* ---- small sets ------------------------------------------------------------------------- */

typedef struct {
    pond_hash *v;
    size_t n, cap;
    bool sorted;
} hash_set;

static int hs_add(hash_set *s, const pond_hash *h)
{
    if (POND_GROW(s->v, s->n, s->cap) < 0)
        return POND_ENOMEM;
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

int pond_oplog__strs_add(oplog_strs *s, const char *str)
{
    if (POND_GROW(s->v, s->n, s->cap) < 0)
        return POND_ENOMEM;
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

bool pond_oplog__strs_has(oplog_strs *s, const char *str)
{
    if (!s->sorted && s->n) {
        qsort(s->v, s->n, sizeof *s->v, str_cmp);
        s->sorted = true;
    }
    return s->n && bsearch(&str, s->v, s->n, sizeof *s->v, str_cmp) != NULL;
}

void pond_oplog__strs_dispose(oplog_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        pond_free(s->v[i]);
    pond_free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- walking the index ------------------------------------------------------------------ */

static const char *node_name(pond__idmap *paths, const pond_node_id *id, char buf[64])
{
    const char *p = pond__idmap_get(paths, id);
    if (p)
        return p;
    char s[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(s, id);
    snprintf(buf, 64, "(removed node %s)", s);
    return buf;
}

/* The data files the index refers to (relative paths). */
static int live_files(oplog_strs *out, oplog_be *ob)
{
    int rc = 0;
    FOREACH_PART(ob, p)
    for (size_t f = 0; f < p->n_files && rc == 0; f++)
        rc = pond_oplog__strs_add(out, p->files[f].path);
    return rc;
}

/* What the log says about each data file it names: the newest version that added it (-1:
 * none; the oldest checkpoint's version for a file live there after a log cleanup), the newest
 * that removed it (-1: none) and that removal's deletionTimestamp (ms). One entry per path,
 * sorted by path, once scan_log returns. */
typedef struct {
    char *path;
    int64_t add_v, rm_v, rm_ms;
} log_file;
typedef struct {
    log_file *v;
    size_t n, cap;
} log_files;

static int log_file_cmp(const void *a, const void *b)
{
    return strcmp(((const log_file *)a)->path, ((const log_file *)b)->path);
}

static void log_files_dispose(log_files *l)
{
    for (size_t i = 0; i < l->n; i++)
        pond_free(l->v[i].path);
    pond_free(l->v);
    memset(l, 0, sizeof *l);
}

static const log_file *log_lookup(const log_files *l, const char *path)
{
    log_file key = {(char *)path, 0, 0, 0};
    return l->n ? bsearch(&key, l->v, l->n, sizeof *l->v, log_file_cmp) : NULL;
}

static int log_push(log_files *l, const char *path, int64_t add_v, int64_t rm_v, int64_t rm_ms)
{
    if (POND_GROW(l->v, l->n, l->cap) < 0)
        return POND_ENOMEM;
    char *copy = pond_strdup(path);
    if (!copy)
        return POND_ENOMEM;
    l->v[l->n++] = (log_file){copy, add_v, rm_v, rm_ms};
    return 0;
}

typedef struct {
    log_files *files;
    int64_t version;
    bool adds; /* fsck: adds too (gc needs only removals) */
} scan_ctx;

static int scan_action(const pond_delta_file_action *a, void *payload)
{
    scan_ctx *c = payload;
    if (a->add)
        return c->adds ? log_push(c->files, a->decoded_path, c->version, -1, -1) : 0;
    return log_push(c->files, a->decoded_path, -1, c->version,
                    a->deletion_timestamp > 0 ? a->deletion_timestamp : 0);
}

static int scan_live(const pond_delta_file *f, void *payload)
{
    scan_ctx *c = payload;
    return log_push(c->files, f->decoded_path, c->version, -1, -1);
}

/* Scans the JSON commits still in the log, one action at a time. gc (strict) learns when each
 * replaced data file was removed: it keeps one for its grace period after the removal (a reader
 * that opened the pond before may still read it) and, in a format-1 pond, for good; a commit
 * that cannot be read stops it, since what that commit removed is unknown. fsck tells a data
 * file no commit ever wrote from one a later commit replaced: a commit that cannot be read is
 * skipped (the log check reports it), and after a log cleanup the files live at the oldest
 * checkpoint count as written (the commits that added them are gone). */
static int scan_log(log_files *out, const char *dir, bool strict)
{
    pond_dir *d = NULL;
    char *log = pond__path_join(dir, "_delta_log");
    int rc = log ? pond__dir_open(&d, log, false, D) : POND_ENOMEM;
    scan_ctx sc = {out, 0, !strict};
    pond_dirent e;
    while (rc == 0 && (rc = pond__dir_next(&e, d, D)) == 0) {
        size_t len = strlen(e.name);
        if (len != 25 || strcmp(e.name + 20, ".json") != 0)
            continue;
        char *end = NULL;
        long long v = strtoll(e.name, &end, 10);
        if (end != e.name + 20 || v < 0)
            continue;
        /* a link or FIFO at a commit's name cannot be read either (it is opened without
         * following or blocking): fsck reports it as misplaced */
        sc.version = v;
        rc = pond_delta_commit_file_actions(dir, v, scan_action, &sc);
        if (rc < 0 && rc != POND_ENOMEM && !strict) {
            pond_error_clear();
            rc = 0;
        } else if (rc < 0 && rc != POND_ENOMEM) {
            pond_error_prefix("which data files the commits added and removed is unknown "
                              "(restore the damaged commit from a backup)");
        }
    }
    pond__dir_close(d);
    pond_free(log);
    if (rc == POND_ITEROVER)
        rc = 0;
    int64_t oldest;
    if (rc == 0 && !strict && pond_delta_oldest_version(&oldest, dir) == 0 && oldest > 0) {
        pond_delta_table *t = NULL;
        pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
        o.at_version = oldest;
        o.skip_stats = true;
        sc.version = oldest;
        if ((rc = pond_delta_table_open(&t, dir, &o)) == 0)
            rc = pond_delta_table_foreach_file(t, scan_live, &sc);
        pond_delta_table_free(t);
        if (rc < 0 && rc != POND_ENOMEM) {
            pond_error_clear(); /* the log check reports the checkpoint */
            rc = 0;
        }
    }
    if (rc == 0 && out->n) {
        /* one entry per path: its newest add and newest removal */
        qsort(out->v, out->n, sizeof *out->v, log_file_cmp);
        size_t k = 0;
        for (size_t i = 0; i < out->n; i++) {
            log_file *f = &out->v[i], *prev = k ? &out->v[k - 1] : NULL;
            if (!prev || strcmp(prev->path, f->path) != 0) {
                out->v[k++] = *f;
                continue;
            }
            if (f->add_v > prev->add_v)
                prev->add_v = f->add_v;
            if (f->rm_v > prev->rm_v) {
                prev->rm_v = f->rm_v;
                prev->rm_ms = f->rm_ms;
            }
            pond_free(f->path);
        }
        out->n = k;
    }
    return rc;
}

static int64_t mtime_us(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000;
}

/* ---- fsck --------------------------------------------------------------------------------- */

/* Temp files younger than this are a writer at work (fsck has no --grace: gc's default). */
#define FSCK_GRACE_US (3600LL * 1000000)

typedef struct {
    pond_fsck_report *rep;
    pond_fsck_fn fn;
    void *payload;
    hash_set *referenced;
    oplog_strs *live;
    log_files *logged;
    int64_t now;
} fsck_ctx;

void pond_oplog__fsck_say(pond_fsck_fn fn, void *payload, const char *kind, const char *fmt, ...)
{
    if (!fn)
        return;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn(kind, msg, payload);
}
#define problem(c, kind, ...) pond_oplog__fsck_say((c)->fn, (c)->payload, kind, __VA_ARGS__)

static void temp_file(fsck_ctx *c, const char *rel, int64_t size, int64_t mtime)
{
    int64_t age = (c->now - mtime) / 1000000;
    if (c->now - mtime > FSCK_GRACE_US) {
        c->rep->stale_temps++;
        problem(c, "stale",
                "temp file %s: %lld bytes, %lld s old: left by an interrupted "
                "writer (gc removes it)",
                rel, (long long)size, (long long)age);
    } else {
        c->rep->young_temps++;
        c->rep->young_temp_bytes += size;
        problem(c, "temp",
                "temp file %s: %lld bytes, %lld s old: a writer at work or one that "
                "stopped (gc removes it once older than its grace period)",
                rel, (long long)size, (long long)(age < 0 ? 0 : age));
    }
}

static void foreign_entry(fsck_ctx *c, const char *what, bool misplaced)
{
    c->rep->foreign++;
    c->rep->misplaced += misplaced;
    problem(c, "foreign", "%s", what);
}

/* A damaged directory tree (a directory reached twice): one "corrupt" line. */
static void tree_corrupt(const char *msg, void *payload)
{
    fsck_ctx *c = payload;
    c->rep->corrupt++;
    problem(c, "corrupt", "%s", msg);
}

static void listing_problem(const char *msg, void *payload)
{
    fsck_ctx *c = payload;
    c->rep->corrupt++;
    problem(c, "corrupt", "%s", msg);
}

/* Every directory listing of one data file against the listing rules: one problem per broken
 * rule (a partition load stops at the first). *bad_out when any. The file is read whole, its
 * size and hash checked, as any read of it does. */
static int check_file_listings(bool *bad_out, fsck_ctx *c, oplog_be *ob, const ol_file *f)
{
    static const char *const cols[] = {"node_id", "file_type", "version", "entries"};
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.column_names = cols;
    po.n_column_names = 4;
    pond_buf mem = POND_BUF_INIT;
    pond_parquet_reader *r = NULL;
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    int rc = pond_oplog__open_data_file(&r, &mem, ob, f, &po);
    if (rc == 0)
        rc = pond_parquet_reader_schema(r, &schema);
    while (rc == 0 && (rc = pond_parquet_reader_next(r, &batch)) == 0) {
        int n = 0;
        rc = pond_oplog__check_listings(&n, &schema, &batch, f->path, listing_problem, c);
        *bad_out |= n > 0;
        pond_arrow_array_release(&batch);
    }
    if (rc == POND_ITEROVER)
        rc = 0;
    pond_arrow_schema_release(&schema);
    pond_parquet_reader_free(r);
    pond_buf_dispose(&mem);
    return rc;
}

/* One line about a foreign entry of the store, worded as pond_oplog__describe_foreign words the
 * pond's own. */
static void describe_store_foreign(char *out, size_t cap, const pond_cas_entry *e)
{
    char rel[600];
    snprintf(rel, sizeof rel, "%s%s%s", OPLOG_STORE_NAME, *e->path ? "/" : "", e->path);
    /* the store itself, tmp/ and the fan-out directories are directories; the rest files */
    bool dir = !*e->path || !strcmp(e->path, "tmp") || strlen(e->path) == 2;
    if (e->misplaced)
        snprintf(out, cap,
                 "%s is %s where pond keeps its own %s: pond never follows or "
                 "removes it",
                 rel, pond__file_kind((mode_t)e->mode), dir ? "directory" : "file");
    else
        snprintf(out, cap, "%s is %s that is not pond's: left alone", rel,
                 pond__file_kind((mode_t)e->mode));
}

static int store_entry(const pond_cas_entry *e, void *payload)
{
    fsck_ctx *c = payload;
    char rel[600];
    snprintf(rel, sizeof rel, "%s%s%s", OPLOG_STORE_NAME, *e->path ? "/" : "", e->path);
    if (e->kind == POND_CAS_ENTRY_BLOB && !hs_has(c->referenced, &e->sha256)) {
        c->rep->unreferenced_blobs++;
        problem(c, "unreferenced", "blob %s: no version refers to it (gc removes it)", rel);
    } else if (e->kind == POND_CAS_ENTRY_CHUNKS) {
        c->rep->unreferenced_blobs++;
        problem(c, "unreferenced", "chunk table %s: its blob is gone (gc removes it)", rel);
    } else if (e->kind == POND_CAS_ENTRY_TEMP) {
        temp_file(c, rel, e->size, e->mtime_us);
    } else if (e->kind == POND_CAS_ENTRY_OTHER) {
        char what[800];
        describe_store_foreign(what, sizeof what, e);
        foreign_entry(c, what, e->misplaced);
    }
    return 0;
}

static int walk_entry(const oplog_walk_entry *e, void *payload)
{
    fsck_ctx *c = payload;
    if (e->kind == OPLOG_WALK_DATA) {
        if (pond_oplog__strs_has(c->live, e->rel))
            return 0;
        if (log_lookup(c->logged, e->rel)) {
            c->rep->replaced_files++; /* a merge or retention replaced it: not a problem */
            return 0;
        }
        c->rep->orphan_files++;
        problem(c, "orphan", "data file %s: no commit refers to it (gc removes it)", e->rel);
    } else if (e->kind == OPLOG_WALK_LOG_TEMP || e->kind == OPLOG_WALK_HOST_TEMP) {
        temp_file(c, e->rel, (int64_t)e->st->st_size, mtime_us(e->st));
    } else if (e->kind != OPLOG_WALK_PART_END) {
        char what[800];
        pond_oplog__describe_foreign(what, sizeof what, e);
        foreign_entry(c, what, e->misplaced);
    }
    return 0;
}

int pond_oplog_fsck(pond_fsck_report *out, pond_backend *be, pond_fsck_fn fn,
                    pond_progress_fn progress, void *payload)
{
    oplog_be *ob;
    memset(out, 0, sizeof *out);
    hash_set verified = {0}, referenced = {0};
    pond__idmap paths = {0}, homes = {0};
    oplog_strs live = {0};
    log_files logged = {0};
    fsck_ctx c = {out, fn, payload, &referenced, &live, &logged, pond__now_us()};
    int rc = pond_oplog__of(&ob, be, "pond_oplog_fsck");
    if (rc < 0)
        return rc;
    /* the log: every live file exists with its logged size */
    pond_delta_table *t = NULL;
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = ob->snapshot_version; /* the snapshot this view reads (also for --at) */
    if ((rc = pond_delta_table_open(&t, ob->dir, &o)) < 0)
        return rc;
    /* every log file on its own: a damaged checkpoint or old commit does not stop a read */
    int64_t log_problems = 0;
    if ((rc = pond_oplog__fsck_log(&log_problems, ob, fn, payload)) < 0) {
        pond_delta_table_free(t);
        return rc;
    }
    out->corrupt += log_problems;
    if (pond_delta_table_verify(t, POND_DELTA_VERIFY_FILES) < 0) {
        out->corrupt++;
        problem(&c, "corrupt", "%s", pond_error_last()->message);
    }
    pond_delta_table_free(t);
    if ((rc = pond_oplog__intent_report(ob->dir, fn, payload)) < 0)
        return rc;
    /* every data file decodes (inline content is verified against its hash while loading) */
    int64_t total = 0;
    FOREACH_PART(ob, p)
    {
        /* every data file: its size and SHA-256 as the log records them */
        bool bad = false;
        for (size_t f = 0; f < p->n_files && rc == 0; f++) {
            /* read whole, size and hash checked, and every listing in it checked */
            int vrc = check_file_listings(&bad, &c, ob, &p->files[f]);
            /* and, for a file read by row groups, its footer against its tag, each group
             * against the footer and each row against its group's entry: what those reads
             * trust */
            if (vrc == 0)
                vrc = pond_oplog__check_file_groups(ob, p, (int)f);
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
        /* and every inline content against its own hash, which a read skips when the
         * file's hash matched */
        if ((pond_oplog__part_load(ob, p) < 0 ||
             pond_oplog__part_load_content_from(ob, p, 0, true, NULL, NULL) < 0) &&
            !bad) {
            char id[POND_NODE_ID_STRLEN + 1];
            pond_node_id_format(id, &p->id);
            out->corrupt++;
            problem(&c, "corrupt", "data files of partition %s: %s", id,
                    pond_error_last()->message);
        }
    }
    if ((rc = pond_oplog__tree_paths(&paths, ob, tree_corrupt, &c)) < 0)
        goto done;
    /* Every reachable node has its versions in the partition its listing names, and nowhere
     * else: versions elsewhere were stranded by a move in a pond written before format 2
     * (that move wrote a new version in the new directory's partition). They are reported,
     * kept, and not read. */
    if ((rc = pond_oplog__tree_homes(&homes, ob, true)) < 0)
        goto done;
    FOREACH_PART(ob, p)
    FOREACH_NODE(p, nd)
    {
        if (!nd->n)
            continue;
        const pond_node_id *id = &nd->rows[0].rec->id;
        ol_part *home = pond__idmap_get(&homes, id);
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
    for (size_t i = 0; i < pond__idmap_slots(&homes); i++) {
        pond__key16 k;
        ol_part *home = pond__idmap_at(&homes, i, &k);
        if (!home)
            continue;
        /* found, or in a partition that could not be read (reported above) */
        if (home != OPLOG_NO_PART && (!home->loaded || pond__idmap_get(&home->nodes, &k)))
            continue;
        char nb[64];
        pond_node_id id;
        memcpy(id.bytes, k.bytes, sizeof id.bytes);
        out->missing++;
        problem(&c, "missing", "%s: no version of it in the partition its directory names",
                node_name(&paths, &id, nb));
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
            problem(&c, "corrupt",
                    "%s version %lld: blob %s does not match the recorded size "
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
    /* the store: unreferenced blobs, temp files, foreign entries */
    if ((rc = pond_cas_foreach(ob->cas, FSCK_GRACE_US, store_entry, &c)) < 0)
        goto done;
    /* the pond's own directories: data files no commit refers to, log temps, temps of
     * interrupted transfers (`_host/incoming/`), foreign entries */
    if ((rc = live_files(&live, ob)) < 0 || (rc = scan_log(&logged, ob->dir, false)) < 0 ||
        (rc = pond_oplog__walk(ob, walk_entry, &c)) < 0)
        goto done;
    if (out->missing || out->corrupt || out->misplaced)
        rc = pond_error_set(POND_ECORRUPT, D,
                            "pond '%s': %lld missing, %lld corrupt, %lld "
                            "misplaced",
                            ob->dir, (long long)out->missing, (long long)out->corrupt,
                            (long long)out->misplaced);
done:
    pond_free(verified.v);
    pond_free(referenced.v);
    pond_oplog__paths_dispose(&paths);
    pond__idmap_dispose(&homes);
    pond_oplog__strs_dispose(&live);
    log_files_dispose(&logged);
    return rc;
}

/* ---- gc --------------------------------------------------------------------------------------- */

static void warn(const pond_gc_options *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn(const pond_gc_options *o, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (o->warn)
        o->warn(msg, o->warn_payload);
}

typedef struct {
    pond_gc_report *out;
    const pond_gc_options *opts;
    oplog_strs *live;
    oplog_strs *leased; /* data files a snapshot lease keeps */
    log_files *logged;  /* when commits removed each data file */
    hash_set *referenced;
    hash_set cand;
    int64_t now;
    bool report;        /* warn about foreign entries (the first sweep only) */
    bool keep_replaced; /* a format-1 pond: data files a commit replaced stay */
} sweep_ctx;

/* What a push in progress still reads (snapshot leases, docs/replication.md): the data files
 * live at the oldest leased version or added after it, and the blobs they refer to. */
typedef struct {
    hash_set *blobs;
    oplog_strs *files;
} gc_keep;

static int gc_keep_blob(const pond_hash *sha, const char *path, void *payload)
{
    (void)path;
    return hs_add(((gc_keep *)payload)->blobs, sha);
}

static int gc_keep_file(const pond_hash *sha, const char *path, void *payload)
{
    (void)sha;
    return pond_oplog__strs_add(((gc_keep *)payload)->files, path);
}

static int sweep_walk(const oplog_walk_entry *e, void *payload)
{
    sweep_ctx *s = payload;
    if (e->kind == OPLOG_WALK_FOREIGN) {
        if (s->report) {
            char what[800];
            pond_oplog__describe_foreign(what, sizeof what, e);
            s->out->foreign++;
            warn(s->opts, "%s", what);
        }
        return 0;
    }
    /* a partition directory left empty (its node removed and dropped by retention, or a
     * writer's that crashed before its first file): the writer under the lock gc holds makes
     * it again when it needs it */
    if (e->kind == OPLOG_WALK_PART_END) {
        int rc = pond__dir_remove_empty(e->dir, e->name, D);
        return rc < 0 ? rc : 0;
    }
    /* a data file no snapshot refers to (a writer's that never committed, or one a merge or
     * retention replaced: time travel reads the newest snapshot, so nothing needs it, unless a
     * snapshot lease keeps it), a commit's temp file or a transfer's (`_host/incoming/`); in
     * every case only once older than the grace period */
    if (e->kind == OPLOG_WALK_DATA &&
        (pond_oplog__strs_has(s->live, e->rel) || pond_oplog__strs_has(s->leased, e->rel)))
        return 0;
    if (s->now - mtime_us(e->st) < s->opts->grace_us)
        return 0;
    const log_file *lf = e->kind == OPLOG_WALK_DATA ? log_lookup(s->logged, e->rel) : NULL;
    int64_t gone_ms = lf && lf->rm_v >= 0 ? lf->rm_ms : -1;
    if (gone_ms >= 0 && s->now - gone_ms * 1000 < s->opts->grace_us)
        return 0; /* replaced within the grace period: a reader may still be on it */
    /* the pond before format 2 reads --at T from the Delta snapshot at T, which lists the
     * files later commits replaced: in a format-1 pond they stay (docs/format.md, "Retention") */
    if (gone_ms >= 0 && s->keep_replaced)
        return 0;
    int64_t size = (int64_t)e->st->st_size;
    int rc = pond__dir_remove_file(e->dir, e->name, D);
    if (rc == POND_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    if (e->kind == OPLOG_WALK_DATA)
        s->out->data_files_removed++;
    else
        s->out->temps_removed++;
    s->out->bytes_freed += size;
    return 0;
}

static int sweep_store(const pond_cas_entry *e, void *payload)
{
    sweep_ctx *s = payload;
    if (e->kind == POND_CAS_ENTRY_OTHER) {
        if (s->report) {
            char what[800];
            describe_store_foreign(what, sizeof what, e);
            s->out->foreign++;
            warn(s->opts, "%s", what);
        }
        return 0;
    }
    /* blobs no version refers to, and tables whose blob is gone */
    if ((e->kind == POND_CAS_ENTRY_BLOB || e->kind == POND_CAS_ENTRY_CHUNKS) && e->stale &&
        !hs_has(s->referenced, &e->sha256))
        return hs_add(&s->cand, &e->sha256);
    return 0;
}

/* Removes what is garbage in the current state, writing nothing: the store's stale temp
 * files, commit temp files, data files no snapshot refers to, and blobs no version refers to
 * (every partition is loaded first: a blob is only unreferenced if no row anywhere names it,
 * and a partition that cannot be read stops gc before any blob goes). */
static int sweep(pond_gc_report *out, oplog_be *ob, const pond_gc_options *opts, bool report)
{
    oplog_strs live = {0}, leased = {0};
    log_files logged = {0};
    hash_set referenced = {0};
    sweep_ctx s = {out,         opts, &live,          &leased, &logged,
                   &referenced, {0},  pond__now_us(), report,  ob->format < 2};
    gc_keep keep = {&referenced, &leased};
    size_t temps = 0;
    int64_t bytes = 0;
    /* what a push in progress still reads, and what every commit removed (one that cannot be
     * read stops gc here): all read before anything is removed */
    int rc = pond_oplog__lease_keep(ob, gc_keep_blob, gc_keep_file, &keep);
    if (rc == 0 && (rc = live_files(&live, ob)) == 0 &&
        (rc = scan_log(&logged, ob->dir, true)) == 0) {
        rc = pond_cas_remove_stale_temps(&temps, &bytes, ob->cas, opts->grace_us);
        if (rc == POND_ECORRUPT)
            rc = 0; /* a foreign entry where the store keeps tmp/: the store walk reports it */
        out->temps_removed += (int64_t)temps;
        out->bytes_freed += bytes;
    }
    if (rc == 0)
        rc = pond_oplog__walk(ob, sweep_walk, &s);
    FOREACH_PART(ob, p)
    if (rc == 0)
        rc = pond_oplog__part_load(ob, p);
    FOREACH_PART(ob, p)
    FOREACH_NODE(p, nd)
    for (size_t i = 0; i < nd->n && rc == 0; i++)
        if (nd->rows[i].in_store)
            rc = hs_add(&referenced, &nd->rows[i].rec->sha256);
    if (rc == 0)
        rc = pond_cas_foreach(ob->cas, opts->grace_us, sweep_store, &s);
    for (size_t i = 0; i < s.cand.n && rc == 0; i++) {
        bool gone = false;
        int64_t freed = 0;
        rc = pond_cas_remove(&gone, &freed, ob->cas, &s.cand.v[i], opts->grace_us);
        out->blobs_removed += gone;
        out->bytes_freed += freed;
    }
    pond_oplog__strs_dispose(&live);
    pond_oplog__strs_dispose(&leased);
    log_files_dispose(&logged);
    pond_free(referenced.v);
    pond_free(s.cand.v);
    return rc;
}

int pond_oplog_gc(pond_gc_report *out, pond_backend *be, const pond_gc_options *opts)
{
    oplog_be *ob;
    pond_gc_options def = POND_GC_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    memset(out, 0, sizeof *out);
    out->commit_version = -1;
    int rc = pond_oplog__of(&ob, be, "pond_oplog_gc");
    if (rc < 0)
        return rc;
    if (ob->as_of >= 0)
        return pond_error_set(POND_EINVALID, D, "gc needs the live pond, not a past version");
    if (ob->lock_fd < 0)
        return pond_error_set(POND_EINVALID, D, "gc needs the pond's writer lock");
    if (opts->grace_us < 0)
        return pond_error_set(POND_EINVALID, D, "gc: the grace period must not be negative");
    /* 1. what is garbage already: frees space before anything is written, so that a full
     * disk can be cured from inside pond */
    rc = sweep(out, ob, opts, true);
    if (rc < 0)
        return rc;
    /* 2. retention: the smallest commit that drops what the policy does not keep */
    if ((rc = pond_oplog__retain(out, ob, opts)) < 0)
        return rc;
    /* 3. what retention freed */
    if (out->commit_version >= 0 && (rc = sweep(out, ob, opts, false)) < 0)
        return rc;
    /* 4. merging last: it only makes reads faster, so a failure (a full disk) is a warning */
    if (opts->compact) {
        pond_gc_report m;
        memset(&m, 0, sizeof m);
        m.commit_version = -1;
        rc = pond_oplog__rewrite(&m, ob, opts, NULL, 0, 2);
        int e = rc < 0 ? pond__error_os_errno() : 0;
        if (e == ENOSPC || e == EDQUOT) {
            /* everything that frees space is done; merging would only make reads faster */
            out->merge_skipped = true;
            warn(opts, "merging data files skipped: %s", pond_error_last()->message);
            return 0;
        }
        if (rc < 0)
            return rc;
        out->partitions_rewritten += m.partitions_rewritten;
        if (m.commit_version >= 0) {
            out->commit_version = m.commit_version;
            if ((rc = sweep(out, ob, opts, false)) < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- merging ----------------------------------------------------------------------------------- */

static int row_txn_cmp(const void *a, const void *b)
{
    const oplog_row *x = a, *y = b;
    if (x->rec->txn_seq != y->rec->txn_seq)
        return x->rec->txn_seq < y->rec->txn_seq ? -1 : 1;
    return memcmp(&x->rec->id, &y->rec->id, sizeof x->rec->id);
}

/* The plan entry for partition p, or NULL. */
static const oplog_merge *plan_for(const oplog_merge *plan, size_t n_plan, const ol_part *p)
{
    for (size_t i = 0; i < n_plan; i++)
        if (pond_node_id_equal(&plan[i].part, &p->id))
            return &plan[i];
    return NULL;
}

/* A directory row whose listing (or a row whose inline content) was loaded only to be
 * rewritten goes back to pending, now in the merged file: a merge must not leave a busy
 * directory's or a series' whole history in memory. Only rows nobody else holds are dropped. */
static void repend(oplog_row **rows, size_t n, int file_idx)
{
    for (size_t i = 0; i < n; i++) {
        pond_node_rec *rec = rows[i]->rec;
        if (!rec || rec->refs != 1)
            continue;
        if (rec->type == POND_ENTRY_DIRECTORY) {
            for (size_t k = 0; k < rec->n_entries; k++)
                pond_free(rec->entries[k].name);
            pond_free(rec->entries);
            rec->entries = NULL;
            rec->n_entries = 0;
            rows[i]->entries_pending = true;
        } else if (pond_entry_type_is_file(rec->type) && !rows[i]->in_store && rec->content) {
            pond_blob_unref(rec->content);
            rec->content = NULL;
            rows[i]->content_pending = true;
        } else {
            continue;
        }
        rows[i]->file_idx = file_idx;
        rows[i]->file_row = -1; /* the merged file is read whole until it loads again */
    }
}

/* Merges data files in one commit (operation OPTIMIZE, no data change: every row stays).
 * With a plan: each named partition's files from_file.. become one file of the plan's level.
 * Without: all the data files of every partition that has at least min_files files become one.
 * The index follows in place. */
int pond_oplog__rewrite(pond_gc_report *out, oplog_be *ob, const pond_gc_options *opts,
                        const oplog_merge *plan, size_t n_plan, size_t min_files)
{
    int64_t now = pond__now_us();
    int rc = 0;
    oplog_row **loaded = NULL; /* listings read only for this rewrite */
    size_t n_loaded = 0;
    /* a planned merge rewrites the newest files only: the older ones need not be loaded (the
     * files loaded are always a suffix, docs/decisions.md "Partial loads") */
    FOREACH_PART(ob, p)
    if (rc == 0 && (plan ? plan_for(plan, n_plan, p) != NULL : p->n_files >= min_files))
        rc = plan ? pond_oplog__part_load_from(ob, p, plan_for(plan, n_plan, p)->from_file)
                  : pond_oplog__part_load(ob, p);
    /* a rewrite writes every row again: older directory listings must be read first */
    FOREACH_PART(ob, p)
    if (rc == 0 && (p->loaded || p->partial)) {
        const oplog_merge *m = plan ? plan_for(plan, n_plan, p) : NULL;
        size_t from = m ? m->from_file : 0;
        if (m || (!plan && p->n_files >= min_files))
            rc = pond_oplog__part_load_entries_from(ob, p, from, &loaded, &n_loaded);
        /* and their inline content, which a partition load leaves out */
        if (rc == 0 && (m || (!plan && p->n_files >= min_files)))
            rc = pond_oplog__part_load_content_from(ob, p, from, false, &loaded, &n_loaded);
    }
    if (rc < 0) {
        pond_free(loaded);
        return rc;
    }
    commit_part *cps = NULL;
    size_t ncp = 0, cap = 0;
    pond_delta_actions *acts = NULL;
    pond_buf stats = POND_BUF_INIT;
    oplog_strs removed = {0};
    FOREACH_PART(ob, p)
    {
        if (rc < 0)
            break;
        const oplog_merge *m = plan ? plan_for(plan, n_plan, p) : NULL;
        if (plan ? !m : p->n_files < min_files)
            continue;
        size_t from = m ? m->from_file : 0;
        if (from >= p->n_files)
            continue;
        if (POND_GROW(cps, ncp, cap) < 0) {
            rc = POND_ENOMEM;
            break;
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
            if (POND_GROW(cp->rows, cp->n, cp->cap) < 0) {
                rc = POND_ENOMEM;
                break;
            }
            cp->rows[cp->n] = nd->rows[i];
            cp->rows[cp->n++].rec = pond_node_rec_ref(nd->rows[i].rec);
        }
        for (size_t f = from; f < p->n_files && rc == 0; f++)
            rc = pond_oplog__strs_add(&removed, p->files[f].path);
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
            if ((rc = pond_oplog__write_part_file(ob, cp, maxtxn, true)) < 0)
                break;
            rc = pond_oplog__add_part_file(acts, cp, now / 1000, false, &stats);
        }
        for (size_t i = 0; i < removed.n && rc == 0; i++)
            rc = pond_oplog__remove_part_file(acts, removed.v[i], now / 1000, false);
        if (rc == 0) {
            const char *cmd = opts ? opts->command_json : NULL;
            pond_buf extra = POND_BUF_INIT;
            rc = pond_buf_printf(&extra, "{\"pondTxnSeq\":%lld%s%s}", (long long)version,
                                 cmd ? ",\"pondMeta\":" : "", cmd ? cmd : "");
            if (rc == 0)
                rc = pond_delta_actions_commit_info(acts, now / 1000, "OPTIMIZE", NULL, extra.ptr);
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
        /* the index follows the commit: each rewritten partition now has its one new file */
        ob->last_txn = out->commit_version;
        ob->snapshot_version = out->commit_version;
        for (size_t k = 0; k < ncp && rc == 0; k++) {
            ol_part *p = pond__idmap_get(&ob->parts, &cps[k].part);
            if (!p)
                continue;
            const oplog_merge *m = plan ? plan_for(plan, n_plan, p) : NULL;
            size_t from = m ? m->from_file : 0;
            for (size_t f = from; f < p->n_files; f++)
                pond_free(p->files[f].path);
            p->n_files = from;
            int64_t et[2];
            bool has_et = pond_oplog__rows_event_time(et, cps[k].rows, cps[k].n);
            pond_oplog__part_drop_side(p); /* file indexes change */
            if (cps[k].n && cps[k].path)
                rc = pond_oplog__part_add_file(p, cps[k].path,
                                               cps[k].rows[cps[k].n - 1].rec->txn_seq, cps[k].size,
                                               &cps[k].sha, has_et ? et : NULL);
            if (rc == 0 && cps[k].n && cps[k].path)
                pond_oplog__file_set_versions(&p->files[p->n_files - 1], cps[k].rows, cps[k].n);
            if (rc == 0 && cps[k].n && cps[k].path)
                pond_oplog__file_set_footer(&p->files[p->n_files - 1], &cps[k]);
            FOREACH_NODE(p, nd)
            for (size_t i = 0; i < nd->n; i++)
                if (nd->rows[i].file_idx >= (int)from)
                    nd->rows[i].file_idx = (int)from;
        }
    }
    for (size_t k = 0; k < ncp; k++) {
        if (rc < 0 && out->commit_version < 0 && cps[k].written && cps[k].path) {
            char *pth = pond__path_join(ob->dir, cps[k].path); /* never committed: ours */
            if (pth)
                (void)pond__os_unlink(pth);
            pond_free(pth);
        }
        for (size_t i = 0; i < cps[k].n; i++)
            pond_oplog__row_dispose(&cps[k].rows[i]);
        pond_free(cps[k].rows);
        pond_free(cps[k].path);
    }
    pond_free(cps);
    pond_delta_actions_free(acts);
    pond_buf_dispose(&stats);
    pond_oplog__strs_dispose(&removed);
    if (rc == 0 && out->commit_version >= 0) {
        /* the rows loaded for this merge now live in the partition's merged (last) file */
        for (size_t i = 0; i < n_loaded; i++) {
            ol_part *p = pond__idmap_get(&ob->parts, &loaded[i]->rec->part_id);
            if (p && p->n_files)
                repend(&loaded[i], 1, (int)p->n_files - 1);
        }
    }
    pond_free(loaded);
    if (rc < 0 && out->commit_version >= 0)
        return pond_oplog__load_index(ob, -1); /* committed, but the index could not follow */
    return rc;
}
