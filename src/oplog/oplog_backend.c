/* The oplog backend: tinyfs node versions persisted as a Delta Lake table. */
#include "oplog/oplog_internal.h"

#include <pond/delta.h>
#include <pond/parquet.h>

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define D POND_DOM_OPLOG
#define LOCK_NAME "_pond.lock"
#define CFG_FORMAT OPLOG_CFG_FORMAT
#define CFG_T_DATA "pond.threshold.data"
#define CFG_T_TABLE "pond.threshold.table"

static oplog_be *OB(pond_backend *be) { return (oplog_be *)be; }

/* ---- partitions ------------------------------------------------------------------------- */

static void node_free(ol_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        pond_oplog__row_dispose(&n->rows[i]);
    pond_free(n->rows);
    pond_free(n);
}

struct ol_side {
    ol_part part; /* files borrowed from the owner; nodes its own */
    size_t file;
};

void pond_oplog__part_drop_side(ol_part *p)
{
    if (!p->side)
        return;
    pond_oplog__part_unload(&p->side->part);
    pond_free(p->side);
    p->side = NULL;
}

void pond_oplog__part_unload(ol_part *p)
{
    pond_oplog__part_drop_side(p);
    for (size_t i = 0; i < pond__idmap_slots(&p->nodes); i++) {
        ol_node *nd = pond__idmap_at(&p->nodes, i, NULL);
        if (nd)
            node_free(nd);
    }
    pond__idmap_dispose(&p->nodes);
    p->loaded = p->partial = false;
    p->loaded_from = 0;
}

size_t pond_oplog__part_start(const ol_part *p)
{
    return p->loaded ? 0 : p->partial ? p->loaded_from : p->n_files;
}

static void part_free(ol_part *p)
{
    if (!p)
        return;
    pond_oplog__part_unload(p);
    for (size_t i = 0; i < p->n_files; i++)
        pond_free(p->files[i].path);
    pond_free(p->files);
    pond_free(p);
}

static void ob_clear_index(oplog_be *ob);

static int part_get(ol_part **out, oplog_be *ob, const pond_node_id *id, bool create)
{
    ol_part *p = pond__idmap_get(&ob->parts, id);
    if (p || !create) {
        *out = p;
        return 0;
    }
    p = pond_calloc(1, sizeof *p);
    if (!p)
        return POND_ENOMEM;
    p->id = *id;
    int rc = pond__idmap_put(&ob->parts, id, p, NULL);
    if (rc < 0) {
        pond_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int pond_oplog__part_add_file(ol_part *p, const char *path, int64_t txn, int64_t size,
                              const pond_hash *sha, const int64_t *event_time)
{
    if (p->n_files == p->cap_files) {
        /* most partitions of a big pond hold one file or a few (tiered merging) */
        size_t cap = p->cap_files ? p->cap_files * 2 : 1;
        ol_file *f = pond_realloc(p->files, cap * sizeof *f);
        if (!f)
            return POND_ENOMEM;
        p->files = f;
        p->cap_files = cap;
    }
    char *copy = pond_strdup(path);
    if (!copy)
        return POND_ENOMEM;
    ol_file *f = &p->files[p->n_files++];
    memset(f, 0, sizeof *f);
    f->path = copy;
    f->txn = txn;
    f->level = pond_oplog__file_level(path);
    f->size = size;
    if ((f->has_sha = sha != NULL))
        f->sha = *sha;
    if ((f->has_et = event_time != NULL)) {
        f->et_min = event_time[0];
        f->et_max = event_time[1];
    }
    return 0;
}

void pond_oplog__file_set_footer(ol_file *f, const commit_part *cp)
{
    f->has_footer = cp->has_footer && cp->footer_len <= INT32_MAX;
    f->footer_len = (int32_t)(f->has_footer ? cp->footer_len : 0);
    memcpy(f->footer_sha, cp->footer_sha.bytes, OL_FOOTER_SHA_BYTES);
}

void pond_oplog__file_set_versions(ol_file *f, const oplog_row *rows, size_t n)
{
    f->has_vr = n > 0;
    f->v_min = INT64_MAX;
    f->v_max = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        f->v_min = POND_MIN(f->v_min, rows[i].rec->version);
        f->v_max = POND_MAX(f->v_max, rows[i].rec->version);
    }
}

bool pond_oplog__rows_event_time(int64_t et[2], const oplog_row *rows, size_t n)
{
    et[0] = INT64_MAX;
    et[1] = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        const pond_node_rec *r = rows[i].rec;
        if (!r->has_event_time || r->min_event_time_us > r->max_event_time_us)
            return false;
        et[0] = POND_MIN(et[0], r->min_event_time_us);
        et[1] = POND_MAX(et[1], r->max_event_time_us);
    }
    return n > 0;
}

int pond_oplog__open_data_file(pond_parquet_reader **out, pond_buf *mem, oplog_be *ob,
                               const ol_file *f, const pond_parquet_read_options *po)
{
    *out = NULL;
    char *path = pond__path_join(ob->dir, f->path);
    if (!path)
        return POND_ENOMEM;
    /* the add action says how big the file is: never read more than that (plus one byte, to
     * see a file that grew) */
    size_t max = f->size >= 0 ? (size_t)f->size + 1 : (size_t)1 << 40;
    /* relative to the pond, no link followed: a partition directory replaced by a link reads
     * as an error naming it, never as another tree's files */
    int rc = pond__read_file_in(mem, ob->dir, f->path, max, D);
    if (rc == 0 && f->size >= 0 && (int64_t)mem->size != f->size)
        rc = pond_error_set(POND_ECORRUPT, D,
                            "data file '%s' is %zu bytes, the log says %lld: it was truncated "
                            "or appended to",
                            path, mem->size, (long long)f->size);
    if (rc == 0 && f->has_sha) {
        pond_hash got;
        if ((rc = pond_sha256_buf(&got, mem->ptr, mem->size)) == 0 &&
            !pond_hash_equal(&got, &f->sha)) {
            char want[65], have[65];
            pond_hash_hex(want, &f->sha);
            pond_hash_hex(have, &got);
            rc = pond_error_set(POND_ECORRUPT, D,
                                "data file '%s' is corrupt: its SHA-256 is %s, the log records %s",
                                path, have, want);
        }
    }
    if (rc == 0)
        rc = pond_parquet_reader_open_memory(out, mem->ptr, mem->size, po);
    pond_free(path);
    return rc;
}

int pond_oplog__file_level(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *l = strstr(base, "-l");
    if (!l || strlen(base) < 21 || l < base + 21)
        return 0;
    int level = 0;
    for (l += 2; *l >= '0' && *l <= '9' && level < 1000; l++)
        level = level * 10 + (*l - '0');
    return strcmp(l, ".parquet") == 0 ? level : 0;
}

static int file_cmp(const void *a, const void *b)
{
    const ol_file *x = a, *y = b;
    if (x->txn != y->txn)
        return x->txn < y->txn ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* A directory listing tells where each child's rows live: its home partition, which is the
 * listing's own unless the entry names another (a file moved here, format 2). A home the index
 * does not know teaches nothing: lookups then search every partition. */
static int learn_children(oplog_be *ob, ol_part *p, const pond_node_rec *rec)
{
    if (rec->type != POND_ENTRY_DIRECTORY)
        return 0;
    for (size_t i = 0; i < rec->n_entries; i++) {
        const pond_dir_entry *e = &rec->entries[i];
        ol_part *cp = p;
        int rc;
        if (e->type == POND_ENTRY_DIRECTORY) {
            if ((rc = part_get(&cp, ob, &e->id, true)) < 0)
                return rc;
        } else if (!pond_node_id_is_nil(&e->part_id) && !pond_node_id_equal(&e->part_id, &p->id)) {
            (void)part_get(&cp, ob, &e->part_id, false); /* cannot fail without create */
            if (!cp)
                continue;
        }
        if ((rc = pond__idmap_put(&ob->node_part, &e->id, cp, NULL)) < 0)
            return rc;
    }
    return 0;
}

/* Appends a row (taking it) to its node's version list in partition p. */
static int part_put_row(oplog_be *ob, ol_part *p, oplog_row *row)
{
    ol_node *n = pond__idmap_get(&p->nodes, &row->rec->id);
    int rc;
    if (!n) {
        if (!(n = pond_calloc(1, sizeof *n)))
            return POND_ENOMEM;
        if ((rc = pond__idmap_put(&p->nodes, &row->rec->id, n, NULL)) < 0) {
            pond_free(n);
            return rc;
        }
    }
    if (n->n && n->rows[n->n - 1].rec->version >= row->rec->version) {
        char id[POND_NODE_ID_STRLEN + 1];
        pond_node_id_format(id, &row->rec->id);
        return pond_error_set(POND_ECORRUPT, D,
                              "node %s: version %lld (txn %lld) does not follow version %lld", id,
                              (long long)row->rec->version, (long long)row->rec->txn_seq,
                              (long long)n->rows[n->n - 1].rec->version);
    }
    if (POND_GROW(n->rows, n->n, n->cap) < 0)
        return POND_ENOMEM;
    n->rows[n->n++] = *row;
    memset(row, 0, sizeof *row);
    const oplog_row *added = &n->rows[n->n - 1];
    return added->entries_pending ? 0 : learn_children(ob, p, added->rec);
}

/* Reads data file f projected to node_id, version and `third`, calling fn on each batch until
 * it returns non-zero (> 0: enough; < 0: an error) or the file ends. kept (NULL: none) holds
 * bytes of f a partition load read and verified already: the file is then not read and hashed
 * twice. */
typedef int (*file_batch_fn)(const struct ArrowSchema *schema, const struct ArrowArray *batch,
                             void *payload);
static int scan_data_file(oplog_be *ob, const ol_file *f, const pond_buf *kept, const char *third,
                          file_batch_fn fn, void *payload)
{
    pond_buf mem = POND_BUF_INIT;
    const char *cols[] = {"node_id", "version", third};
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.column_names = cols;
    po.n_column_names = 3;
    pond_parquet_reader *r = NULL;
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    int rc = kept && kept->ptr ? pond_parquet_reader_open_memory(&r, kept->ptr, kept->size, &po)
                               : pond_oplog__open_data_file(&r, &mem, ob, f, &po);
    if (rc == 0)
        rc = pond_parquet_reader_schema(r, &schema);
    while (rc == 0 && (rc = pond_parquet_reader_next(r, &batch)) == 0) {
        rc = fn(&schema, &batch, payload);
        pond_arrow_array_release(&batch);
    }
    if (rc == POND_ITEROVER || rc > 0)
        rc = 0;
    pond_arrow_schema_release(&schema);
    pond_parquet_reader_free(r);
    pond_buf_dispose(&mem);
    return rc;
}

typedef struct {
    oplog_be *ob;
    ol_part *p;
    const ol_file *f;
    oplog_row **want;
    size_t nw, found;
    bool learn;
} entries_want;

static int entries_batch(const struct ArrowSchema *schema, const struct ArrowArray *batch,
                         void *payload)
{
    entries_want *w = payload;
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < w->nw; k++) {
        if (!w->want[k]->entries_pending)
            continue;
        int got = pond_oplog__decode_entries_for(w->want[k]->rec, schema, batch, w->f->path);
        if (got < 0)
            rc = got;
        else if (got == 1) {
            w->want[k]->entries_pending = false;
            w->found++;
            /* only a node's newest listing says where its children live now */
            if (w->learn)
                rc = learn_children(w->ob, w->p, w->want[k]->rec);
        }
    }
    return rc < 0 ? rc : w->found == w->nw;
}

/* Reads the listings of the pending directory rows `want` (all in file f) from f's entries
 * column. kept (NULL: none) holds, by file index, bytes a partition load read and verified
 * already. */
static int load_entries(oplog_be *ob, ol_part *p, int file_idx, oplog_row **want, size_t nw,
                        bool learn, const pond_buf *kept)
{
    const ol_file *f = &p->files[file_idx];
    entries_want w = {ob, p, f, want, nw, 0, learn};
    int rc =
        nw ? scan_data_file(ob, f, kept ? &kept[file_idx] : NULL, "entries", entries_batch, &w) : 0;
    if (rc == 0 && w.found < nw)
        rc = pond_error_set(POND_ECORRUPT, D, "data file '%s': a directory row has no listing",
                            f->path);
    return rc;
}

/* Reads pending listings of partition p grouped by data file, so each file is read (and
 * hash-checked) once: the rows of node `only` (NULL: every node), every version or just each
 * node's newest (newest_only: what partition loading needs, and then the listings also tell
 * where children live), in files from_file on. The rows loaded are appended to *loaded when
 * loaded is not NULL. A node's older versions are only ever pending after its partition was
 * loaded, which loads the newest: so only newest_only calls learn from what they read. */
static int load_pending(oplog_be *ob, ol_part *p, ol_node *only, bool newest_only, size_t from_file,
                        oplog_row ***loaded, size_t *n_loaded, const pond_buf *kept)
{
    int rc = 0;
    for (size_t fi = from_file; fi < p->n_files && rc == 0; fi++) {
        oplog_row **want = NULL;
        size_t nw = 0, cap = 0;
        size_t n_nodes = only ? 1 : pond__idmap_slots(&p->nodes);
        for (size_t i = 0; rc == 0 && i < n_nodes; i++) {
            ol_node *nd = only ? only : pond__idmap_at(&p->nodes, i, NULL);
            for (size_t k = nd && newest_only && nd->n ? nd->n - 1 : 0; nd && k < nd->n; k++) {
                if (!nd->rows[k].entries_pending || nd->rows[k].file_idx != (int)fi)
                    continue;
                if (POND_GROW(want, nw, cap) < 0) {
                    rc = POND_ENOMEM;
                    break;
                }
                want[nw++] = &nd->rows[k];
            }
        }
        if (rc == 0 && nw)
            rc = load_entries(ob, p, (int)fi, want, nw, newest_only, kept);
        if (rc == 0 && nw && loaded) {
            oplog_row **l2 = pond_realloc(*loaded, (*n_loaded + nw) * sizeof *l2);
            if (!l2)
                rc = POND_ENOMEM;
            else {
                memcpy(l2 + *n_loaded, want, nw * sizeof *want);
                *loaded = l2;
                *n_loaded += nw;
            }
        }
        pond_free(want);
    }
    return rc;
}

int pond_oplog__part_load_entries_from(oplog_be *ob, ol_part *p, size_t from_file,
                                       oplog_row ***loaded, size_t *n_loaded)
{
    return load_pending(ob, p, NULL, false, from_file, loaded, n_loaded, NULL);
}

int pond_oplog__part_load_all_entries(oplog_be *ob, ol_part *p)
{
    return load_pending(ob, p, NULL, false, 0, NULL, NULL, NULL);
}

typedef struct {
    ol_part *p;
    int file_idx;
} content_want;

static oplog_row *node_version(ol_node *n, int64_t version);

static oplog_row *content_lookup(const pond_node_id *id, int64_t version, void *payload)
{
    content_want *w = payload;
    ol_node *n = pond__idmap_get(&w->p->nodes, id);
    oplog_row *row = n ? node_version(n, version) : NULL;
    return row && row->file_idx == w->file_idx ? row : NULL;
}

typedef struct {
    content_want w;
    const ol_file *f;
    bool verified;
    size_t filled;
} content_scan;

static int content_batch(const struct ArrowSchema *schema, const struct ArrowArray *batch,
                         void *payload)
{
    content_scan *c = payload;
    return pond_oplog__decode_content(&c->filled, schema, batch, c->f->path, c->verified,
                                      content_lookup, &c->w);
}

/* Reads the pending inline content of every row of data file file_idx of p from its content
 * column. */
static int load_content(oplog_be *ob, ol_part *p, int file_idx, bool check_each)
{
    const ol_file *f = &p->files[file_idx];
    content_scan c = {{p, file_idx}, f, f->has_sha && !check_each, 0};
    int rc = scan_data_file(ob, f, NULL, "content", content_batch, &c);
    if (rc < 0 && rc != POND_ENOMEM)
        pond_error_prefix("pond '%s'", ob->dir);
    return rc;
}

int pond_oplog__row_content(oplog_be *ob, ol_part *p, oplog_row *row)
{
    if (!row->content_pending)
        return 0;
    if (row->file_idx < 0 || (size_t)row->file_idx >= p->n_files)
        return pond_error_set(POND_ECORRUPT, D, "pond '%s': a row's data file is unknown", ob->dir);
    /* A merged file of several row groups: the group holding the row, with the other pending
     * rows in it. Otherwise every pending row of the file, not just this one: the file is read
     * and hashed whole either way, and a read of a series opens its versions one after the
     * other -- loading one row per read of a merged file of thousands of versions made a full
     * read quadratic. The memory is at most the content of the files read, as it was before
     * content loaded lazily. */
    int rc = pond_oplog__row_content_group(ob, p, row);
    if (rc == 0 && row->content_pending)
        rc = load_content(ob, p, row->file_idx, false);
    if (rc == 0 && row->content_pending) {
        char id[POND_NODE_ID_STRLEN + 1];
        pond_node_id_format(id, &row->rec->id);
        rc =
            pond_error_set(POND_ECORRUPT, D,
                           "pond '%s': data file '%s' has no row for node %s "
                           "version %lld",
                           ob->dir, p->files[row->file_idx].path, id, (long long)row->rec->version);
    }
    return rc;
}

int pond_oplog__part_load_content_from(oplog_be *ob, ol_part *p, size_t from_file, bool check_each,
                                       oplog_row ***loaded, size_t *n_loaded)
{
    if (from_file >= p->n_files)
        return 0;
    bool *want = pond_calloc(p->n_files, sizeof *want);
    if (!want)
        return POND_ENOMEM;
    FOREACH_NODE(p, nd)
    for (size_t i = 0; i < nd->n; i++)
        if (nd->rows[i].content_pending && nd->rows[i].file_idx >= (int)from_file &&
            (size_t)nd->rows[i].file_idx < p->n_files)
            want[nd->rows[i].file_idx] = true;
    /* the rows about to be loaded, for the caller to drop again */
    int rc = 0;
    size_t more = 0; /* counted first: one allocation, not one per row */
    FOREACH_NODE(p, nd)
    for (size_t i = 0; loaded && i < nd->n; i++)
        more += nd->rows[i].content_pending && nd->rows[i].file_idx >= (int)from_file;
    size_t cap = loaded ? *n_loaded : 0; /* at least what it holds */
    if (more)
        rc = POND_RESERVE(*loaded, *n_loaded + more, cap);
    FOREACH_NODE(p, nd)
    for (size_t i = 0; more && rc == 0 && i < nd->n; i++)
        if (nd->rows[i].content_pending && nd->rows[i].file_idx >= (int)from_file)
            (*loaded)[(*n_loaded)++] = &nd->rows[i];
    for (size_t fi = from_file; fi < p->n_files && rc == 0; fi++)
        if (want[fi])
            rc = load_content(ob, p, (int)fi, check_each);
    /* a row the file did not have is as damaged as a row without content */
    FOREACH_NODE(p, nd)
    for (size_t i = 0; rc == 0 && i < nd->n; i++)
        if (nd->rows[i].content_pending && nd->rows[i].file_idx >= (int)from_file)
            rc = pond_error_set(
                POND_ECORRUPT, D, "pond '%s': data file '%s' has no content for version %lld",
                ob->dir,
                (size_t)nd->rows[i].file_idx < p->n_files ? p->files[nd->rows[i].file_idx].path
                                                          : "?",
                (long long)nd->rows[i].rec->version);
    pond_free(want);
    return rc;
}

/* A data file's tags say which event times and versions its rows hold, and range listings and
 * old-version reads skip files by them. A row outside them (a pond someone sent whose tags lie)
 * would be hidden from those reads: an error naming the file whenever it is loaded (fsck loads
 * every file), never a silent skip. */
static int row_within_tags(const ol_file *f, const pond_node_rec *r)
{
    if (f->has_et && (!r->has_event_time || r->min_event_time_us > r->max_event_time_us ||
                      r->min_event_time_us < f->et_min || r->max_event_time_us > f->et_max))
        return pond_error_set(POND_ECORRUPT, D,
                              "data file '%s': its %s tag (%lld..%lld) does not hold the event "
                              "times of version %lld of a node it stores",
                              f->path, OPLOG_TAG_EVENT_TIME, (long long)f->et_min,
                              (long long)f->et_max, (long long)r->version);
    if (f->has_vr && (r->version < f->v_min || r->version > f->v_max))
        return pond_error_set(POND_ECORRUPT, D,
                              "data file '%s': its %s tag (%lld..%lld) does not hold version %lld "
                              "of a node it stores",
                              f->path, OPLOG_TAG_VERSIONS, (long long)f->v_min, (long long)f->v_max,
                              (long long)r->version);
    return 0;
}

/* Takes the rows loaded from data file f into p (each checked against the file's name and
 * tags; a view of a past transaction sees only the rows written up to it) and disposes of them
 * all; rc is the load's result so far (rows are disposed of after an error too). *has_dir (if
 * not NULL) says whether one was a directory. */
static int put_rows(oplog_be *ob, ol_part *p, const ol_file *f, oplog_row *rows, size_t n, int rc,
                    bool *has_dir)
{
    for (size_t i = 0; i < n; i++) {
        if (has_dir)
            *has_dir |= rows[i].rec->type == POND_ENTRY_DIRECTORY;
        if (rc == 0 && rows[i].rec->txn_seq > f->txn)
            rc = pond_error_set(POND_ECORRUPT, D,
                                "data file '%s' holds txn %lld, newer than its name says (%lld)",
                                f->path, (long long)rows[i].rec->txn_seq, (long long)f->txn);
        if (rc == 0)
            rc = row_within_tags(f, rows[i].rec);
        if (rc == 0 && (ob->row_max_txn < 0 || rows[i].rec->txn_seq <= ob->row_max_txn))
            rc = part_put_row(ob, p, &rows[i]);
        pond_oplog__row_dispose(&rows[i]);
    }
    return rc;
}

/* Loads the rows of data file file_idx of p. With keep (not NULL), a file holding a directory
 * row leaves its verified bytes there for the listings loaded next. */
static int load_file(oplog_be *ob, ol_part *p, int file_idx, pond_buf *keep)
{
    const ol_file *f = &p->files[file_idx];
    pond_buf mem = POND_BUF_INIT;
    pond_parquet_reader *r = NULL;
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    oplog_row *rows = NULL;
    size_t n = 0, cap = 0;
    /* every column but the directory listings and inline content, which are most of the
     * bytes (a series' versions are its content): both load when asked for */
    static const char *const cols[] = {"node_id",        "file_type",      "version",
                                       "txn_seq",        "timestamp",      "size",
                                       "sha256",         "blob_root",      "symlink_target",
                                       "min_event_time", "max_event_time", "extended_attributes"};
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.column_names = cols;
    po.n_column_names = (int)(sizeof cols / sizeof cols[0]);
    int rc = pond_oplog__open_data_file(&r, &mem, ob, f, &po);
    if (rc == 0)
        rc = pond_parquet_reader_schema(r, &schema);
    while (rc == 0) {
        rc = pond_parquet_reader_next(r, &batch);
        if (rc == POND_ITEROVER) {
            rc = 0;
            break;
        }
        if (rc < 0)
            break;
        size_t before = n;
        rc = pond_oplog__decode(&rows, &n, &cap, &schema, &batch, &p->id, f->path);
        for (size_t i = before; i < n; i++) {
            rows[i].file_idx = file_idx;
            rows[i].file_row = (int64_t)i;
        }
        pond_arrow_array_release(&batch);
    }
    if (rc == 0)
        p->files[file_idx].n_rows = OL_FILE_ROWS((int64_t)n);
    bool has_dir = false;
    rc = put_rows(ob, p, f, rows, n, rc, &has_dir);
    pond_free(rows);
    pond_arrow_schema_release(&schema);
    pond_parquet_reader_free(r);
    if (rc < 0 && rc != POND_ENOMEM)
        pond_error_prefix("pond '%s'", ob->dir);
    if (rc == 0 && keep && has_dir) {
        *keep = mem;
        mem = (pond_buf)POND_BUF_INIT;
    }
    pond_buf_dispose(&mem);
    return rc;
}

/* A part of its own over p's files (borrowed, not owned), for rows loaded apart from p's;
 * released with pond_oplog__part_unload. */
static void part_borrow(ol_part *tmp, const ol_part *p)
{
    memset(tmp, 0, sizeof *tmp);
    tmp->id = p->id;
    tmp->files = p->files;
    tmp->n_files = p->n_files;
}

/* Which row groups of a file to load: those that may hold `version` (by_version), those whose
 * event times may meet [from, to] (by_et). */
typedef struct {
    bool by_version;
    int64_t version;
    bool by_et;
    int64_t from, to;
} group_pick;

static bool group_picked(const ol_group *g, const group_pick *k)
{
    if (k->by_version && (k->version < g->v_min || k->version > g->v_max))
        return false;
    return !k->by_et || !g->has_et || (g->et_max >= k->from && g->et_min <= k->to);
}

/* A row outside its row group's recorded versions or event times (a file someone wrote so)
 * would be hidden from the reads that pick groups by them: an error whenever it is loaded. */
static int row_within_group(const ol_file *f, size_t gi, const ol_group *g, const pond_node_rec *r)
{
    if (r->version < g->v_min || r->version > g->v_max ||
        (g->has_et && (!r->has_event_time || r->min_event_time_us < g->et_min ||
                       r->max_event_time_us > g->et_max)))
        return pond_error_set(POND_ECORRUPT, D,
                              "data file '%s': version %lld is outside the versions or event "
                              "times its footer records for row group %zu",
                              f->path, (long long)r->version, gi);
    return 0;
}

/* Loads the rows of the row groups of data file file_idx of p that `pick` selects, reading and
 * verifying only those groups and the footer (the file must have has_footer): an old version,
 * or the versions of one day, without the rest of a merged file. Their inline content comes
 * with them (each row's checked against its sha256): the group's bytes are read and hashed
 * whole anyway, and the versions looked for are opened next. With pick NULL: every group
 * (fsck: each one checked against its footer entry). */
static int load_groups(oplog_be *ob, ol_part *p, int file_idx, const group_pick *pick)
{
    ol_file *f = &p->files[file_idx];
    static const char *const cols[] = {"node_id",        "file_type",      "version",
                                       "txn_seq",        "timestamp",      "size",
                                       "sha256",         "blob_root",      "symlink_target",
                                       "min_event_time", "max_event_time", "extended_attributes",
                                       "content"};
    pond_parquet_read_options po = POND_PARQUET_READ_OPTIONS_INIT;
    po.column_names = cols;
    po.n_column_names = (int)(sizeof cols / sizeof cols[0]);
    ol_gfile *gf = NULL;
    struct ArrowSchema schema = {0};
    oplog_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = pond_oplog__gfile_open(&gf, ob, f, &po);
    pond_parquet_reader *r = rc == 0 ? pond_oplog__gfile_reader(gf) : NULL;
    if (rc == 0)
        rc = pond_parquet_reader_schema(r, &schema);
    if (rc == 0)
        f->n_rows = OL_FILE_ROWS(pond_parquet_reader_num_rows(r));
    int64_t first = 0;
    size_t ng = rc == 0 ? pond_oplog__gfile_n_groups(gf) : 0;
    for (size_t gi = 0; rc == 0 && gi < ng; gi++) {
        const ol_group *g = pond_oplog__gfile_group(gf, gi);
        int64_t g_rows = pond_parquet_reader_row_group_rows(r, (int)gi);
        if (pick && !group_picked(g, pick)) {
            first += g_rows;
            continue;
        }
        struct ArrowArray batch = {0};
        if ((rc = pond_parquet_reader_read_row_group(r, (int)gi, &batch)) < 0)
            break;
        size_t before = n;
        rc = pond_oplog__decode(&rows, &n, &cap, &schema, &batch, &p->id, f->path);
        pond_arrow_array_release(&batch);
        for (size_t i = before; i < n; i++) {
            rows[i].file_idx = file_idx;
            rows[i].file_row = first + (int64_t)(i - before);
            if (rc == 0)
                rc = row_within_group(f, gi, g, rows[i].rec);
        }
        first += g_rows;
    }
    rc = put_rows(ob, p, f, rows, n, rc, NULL);
    pond_free(rows);
    pond_arrow_schema_release(&schema);
    pond_oplog__gfile_free(gf);
    if (rc < 0 && rc != POND_ENOMEM)
        pond_error_prefix("pond '%s'", ob->dir);
    return rc;
}

int pond_oplog__check_file_groups(oplog_be *ob, ol_part *p, int file_idx)
{
    ol_part tmp;
    part_borrow(&tmp, p);
    int rc = p->files[file_idx].has_footer ? load_groups(ob, &tmp, file_idx, NULL) : 0;
    pond_oplog__part_unload(&tmp);
    return rc;
}

/* Moves the rows of o (older versions of the same node, from older files) before n's. */
static int node_prepend(ol_node *n, ol_node *o)
{
    if (!o->n)
        return 0;
    if (n->n && o->rows[o->n - 1].rec->version >= n->rows[0].rec->version) {
        char id[POND_NODE_ID_STRLEN + 1];
        pond_node_id_format(id, &n->rows[0].rec->id);
        return pond_error_set(
            POND_ECORRUPT, D, "node %s: version %lld (txn %lld) does not follow version %lld", id,
            (long long)n->rows[0].rec->version, (long long)n->rows[0].rec->txn_seq,
            (long long)o->rows[o->n - 1].rec->version);
    }
    if (POND_RESERVE(n->rows, n->n + o->n, n->cap) < 0)
        return POND_ENOMEM;
    memmove(n->rows + o->n, n->rows, n->n * sizeof *n->rows);
    memcpy(n->rows, o->rows, o->n * sizeof *o->rows);
    n->n += o->n;
    o->n = 0;
    return 0;
}

/* Loads the rows of files from.. of p that are not loaded yet (those older than the loaded
 * suffix), each node's older rows going before the ones it has: the loaded files stay a suffix.
 * On failure the partition is unloaded (it loads again, and says what is wrong, when used). */
static int part_extend(oplog_be *ob, ol_part *p, size_t from)
{
    size_t start = pond_oplog__part_start(p);
    if (from >= start && !(from == 0 && !p->loaded))
        return 0;
    /* The files holding directory rows stay in memory until the newest listings are read from
     * them: a directory's newest version often lives in the partition's oldest, largest file
     * (a series' directory changes once, its versions every day), which would otherwise be
     * read and hashed twice. At most the bytes loaded, and for a moment. */
    pond_buf *kept = p->n_files ? pond_calloc(p->n_files, sizeof *kept) : NULL;
    int rc = p->n_files && !kept ? POND_ENOMEM : 0;
    /* the older files' rows are gathered apart, then put before each node's loaded rows */
    ol_part older;
    part_borrow(&older, p);
    bool fresh = start == p->n_files; /* nothing loaded: straight into p */
    for (size_t i = from; i < start && rc == 0; i++)
        rc = load_file(ob, fresh ? p : &older, (int)i, &kept[i]);
    for (size_t i = 0; i < pond__idmap_slots(&older.nodes); i++) {
        pond__key16 key;
        ol_node *o = pond__idmap_at(&older.nodes, i, &key);
        if (!o)
            continue;
        ol_node *n = rc == 0 ? pond__idmap_get(&p->nodes, &key) : NULL;
        if (rc == 0 && !n && (rc = pond__idmap_put(&p->nodes, &key, o, NULL)) == 0)
            continue; /* now p's */
        if (rc == 0)
            rc = node_prepend(n, o);
        node_free(o);
    }
    pond__idmap_dispose(&older.nodes);
    /* the listings of the newest directory versions among the rows just loaded (a node with
     * rows loaded before had its newest listing read then) */
    if (rc == 0)
        rc = load_pending(ob, p, NULL, true, from, NULL, NULL, kept);
    for (size_t i = 0; kept && i < p->n_files; i++)
        pond_buf_dispose(&kept[i]);
    pond_free(kept);
    if (rc < 0) {
        pond_oplog__part_unload(p);
        return rc;
    }
    p->loaded = from == 0;
    p->partial = !p->loaded;
    p->loaded_from = from;
    return 0;
}

int pond_oplog__part_load(oplog_be *ob, ol_part *p)
{
    return p->loaded ? 0 : part_extend(ob, p, 0);
}

int pond_oplog__part_load_from(oplog_be *ob, ol_part *p, size_t from)
{
    return part_extend(ob, p, from < p->n_files ? from : p->n_files);
}

/* Loads p newest file first until it holds node id at or below version (INT64_MAX: any of its
 * versions, the newest among them), or every file: a lookup of a node's newest version reads
 * the newest files, not the partition's history. A past view loads everything (its rows are
 * filtered by transaction, and time travel is rare). */
static int part_load_node(oplog_be *ob, ol_part *p, const pond_node_id *id, int64_t version)
{
    if (ob->row_max_txn >= 0)
        return pond_oplog__part_load(ob, p);
    int rc = 0;
    while (rc == 0 && !p->loaded) {
        ol_node *n = pond__idmap_get(&p->nodes, id);
        if (n && n->n && n->rows[0].rec->version <= version)
            break;
        /* one file, then doubling: an old version costs log(files) steps, not files */
        size_t start = pond_oplog__part_start(p), have = p->n_files - start;
        size_t step = have ? have : 1;
        rc = part_extend(ob, p, start > step ? start - step : 0);
    }
    return rc;
}

/* The node's versions, loading its partition (and, for a node never seen in a listing, every
 * partition until found) enough for versions from `version` on (INT64_MIN: all of them,
 * INT64_MAX: the newest). NULL node with 0 = not found. */
static int find_node_from(ol_node **out, ol_part **part_out, oplog_be *ob, const pond_node_id *id,
                          int64_t version)
{
    *out = NULL;
    pond_node_id root = pond_node_id_root();
    ol_part *p = pond__idmap_get(&ob->node_part, id);
    if (!p && pond_node_id_equal(id, &root))
        p = pond__idmap_get(&ob->parts, &root);
    if (!p)
        p = pond__idmap_get(&ob->parts, id); /* a directory is its own partition */
    int rc;
    if (p) {
        if ((rc = version == INT64_MIN ? pond_oplog__part_load(ob, p)
                                       : part_load_node(ob, p, id, version)) < 0)
            return rc;
        *out = pond__idmap_get(&p->nodes, id);
        if (*out) {
            if (part_out)
                *part_out = p;
            return 0;
        }
    }
    for (size_t i = 0; i < pond__idmap_slots(&ob->parts); i++) {
        ol_part *q = pond__idmap_at(&ob->parts, i, NULL);
        if (!q || q == p)
            continue;
        if ((rc = pond_oplog__part_load(ob, q)) < 0)
            return rc;
        if ((*out = pond__idmap_get(&q->nodes, id))) {
            if (part_out)
                *part_out = q;
            return 0;
        }
    }
    return 0;
}

int pond_oplog__find_node(ol_node **out, ol_part **part_out, oplog_be *ob, const pond_node_id *id)
{
    return find_node_from(out, part_out, ob, id, INT64_MIN);
}

/* ---- vtable: reads -------------------------------------------------------------------------- */

static int ob_latest(pond_node_rec **out, pond_backend *be, const pond_node_id *id)
{
    ol_node *n;
    int rc = find_node_from(&n, NULL, OB(be), id, INT64_MAX);
    if (rc < 0)
        return rc;
    if (!n || !n->n)
        return pond_node_not_found(D, id, 0);
    *out = pond_node_rec_ref(n->rows[n->n - 1].rec);
    return 0;
}

oplog_row *pond_oplog__node_version(ol_node *n, int64_t version)
{
    return node_version(n, version);
}

static oplog_row *node_version(ol_node *n, int64_t version)
{
    size_t lo = 0, hi = n->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int64_t v = n->rows[mid].rec->version;
        if (v == version)
            return &n->rows[mid];
        if (v < version)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Reads older file fi of p apart into p's side file (replacing the one there): the row groups
 * `pick` selects when the file has verified row groups, else the whole file. */
static int load_side(oplog_be *ob, ol_part *p, size_t fi, const group_pick *pick)
{
    pond_oplog__part_drop_side(p);
    struct ol_side *sd = pond_calloc(1, sizeof *sd);
    if (!sd)
        return POND_ENOMEM;
    part_borrow(&sd->part, p);
    sd->file = fi;
    int rc = p->files[fi].has_footer ? load_groups(ob, &sd->part, (int)fi, pick)
                                     : load_file(ob, &sd->part, (int)fi, NULL);
    if (rc < 0) {
        pond_oplog__part_unload(&sd->part);
        pond_free(sd);
        return rc;
    }
    p->side = sd;
    return 0;
}

/* Version `version` of node id, older than the loaded files of p, read from the one older
 * file whose version range holds it (p's side file, kept for the next question: a read of a
 * day opens the versions of one old file one after another) instead of loading every file
 * after it. *row NULL (and 0) when the files' ranges cannot tell where it is (a file without
 * one) or it is not there: the caller then loads the suffix down to it, as without this. */
static int side_version(oplog_row **row, ol_part **part_out, oplog_be *ob, ol_part *p,
                        const pond_node_id *id, int64_t version)
{
    *row = NULL;
    size_t start = pond_oplog__part_start(p), fi = start;
    for (size_t k = 0; k < start; k++)
        if (!p->files[k].has_vr)
            return 0;
    /* newest first: versions grow with files */
    while (fi > 0 && !(p->files[fi - 1].v_min <= version && version <= p->files[fi - 1].v_max))
        fi--;
    if (fi == 0)
        return 0;
    fi--;
    /* a file of verified row groups: only the groups that may hold the version are read, and
     * the side holds those; another version of the file may need other groups */
    bool groups = p->files[fi].has_footer;
    if (p->side && p->side->file == fi && groups) {
        ol_node *n = pond__idmap_get(&p->side->part.nodes, id);
        if (!n || !node_version(n, version))
            pond_oplog__part_drop_side(p);
    }
    if (!p->side || p->side->file != fi) {
        group_pick pick = {true, version, false, 0, 0};
        int rc = load_side(ob, p, fi, &pick);
        if (rc < 0)
            return rc;
    }
    /* the owner's file list may have grown (appends) since: borrow it again */
    p->side->part.files = p->files;
    p->side->part.n_files = p->n_files;
    ol_node *n = pond__idmap_get(&p->side->part.nodes, id);
    *row = n ? node_version(n, version) : NULL;
    *part_out = &p->side->part;
    return 0;
}

/* The row of version `version` of node id: from the loaded files, or an older one read apart
 * (side_version), or by loading the suffix down to it. *part_out: the partition (or side
 * file) holding the row, for its listing or content. */
static int find_version(oplog_row **row_out, ol_node **node_out, ol_part **part_out, oplog_be *ob,
                        const pond_node_id *id, int64_t version)
{
    ol_node *n;
    ol_part *part = NULL;
    *row_out = NULL;
    int rc = find_node_from(&n, &part, ob, id, INT64_MAX);
    if (rc < 0)
        return rc;
    oplog_row *row = n ? node_version(n, version) : NULL;
    if (!row && n && n->n && part && !part->loaded && ob->row_max_txn < 0 &&
        version < n->rows[0].rec->version && version > 0 &&
        n->rows[n->n - 1].rec->type != POND_ENTRY_DIRECTORY) {
        ol_part *sp = NULL;
        if ((rc = side_version(&row, &sp, ob, part, id, version)) < 0)
            return rc;
        if (row) {
            *row_out = row;
            *node_out = NULL;
            *part_out = sp;
            return 0;
        }
    }
    if (!row && (rc = find_node_from(&n, &part, ob, id, version)) < 0)
        return rc;
    *row_out = row ? row : n ? node_version(n, version) : NULL;
    *node_out = n;
    *part_out = part;
    return 0;
}

static int ob_get_version(pond_node_rec **out, pond_backend *be, const pond_node_id *id,
                          int64_t version)
{
    ol_node *n;
    ol_part *part = NULL;
    oplog_row *row;
    int rc = find_version(&row, &n, &part, OB(be), id, version);
    if (rc < 0)
        return rc;
    if (!row)
        return pond_node_not_found(D, id, version);
    if (row->entries_pending && (rc = load_entries(OB(be), part, row->file_idx, &row, 1,
                                                   n && row == &n->rows[n->n - 1], NULL)) < 0)
        return rc;
    *out = pond_node_rec_ref(row->rec);
    return 0;
}

static int ob_list_versions(pond_node_rec ***out, size_t *n_out, pond_backend *be,
                            const pond_node_id *id)
{
    ol_node *n;
    ol_part *part = NULL;
    int rc = pond_oplog__find_node(&n, &part, OB(be), id);
    if (rc < 0)
        return rc;
    if (!n || !n->n)
        return pond_node_not_found(D, id, 0);
    if ((rc = load_pending(OB(be), part, n, false, 0, NULL, NULL, NULL)) < 0)
        return rc;
    pond_node_rec **v = pond_calloc(n->n, sizeof *v);
    if (!v)
        return POND_ENOMEM;
    for (size_t i = 0; i < n->n; i++)
        v[i] = pond_node_rec_ref(n->rows[i].rec);
    *out = v;
    *n_out = n->n;
    return 0;
}

typedef struct {
    pond_node_rec **v;
    size_t n, cap;
} rec_list;

/* Appends a reference to row's rec when its event-time range may meet [from, to], refusing a
 * version that does not follow the last one listed (files out of order would hide one). */
static int list_if_overlapping(rec_list *l, const oplog_row *row, int64_t from, int64_t to)
{
    const pond_node_rec *r = row->rec;
    if (r->has_event_time && (r->max_event_time_us < from || r->min_event_time_us > to))
        return 0;
    if (l->n && l->v[l->n - 1]->version >= r->version) {
        char id[POND_NODE_ID_STRLEN + 1];
        pond_node_id_format(id, &r->id);
        return pond_error_set(POND_ECORRUPT, D,
                              "node %s: version %lld does not follow version %lld", id,
                              (long long)r->version, (long long)l->v[l->n - 1]->version);
    }
    if (POND_GROW(l->v, l->n, l->cap) < 0)
        return POND_ENOMEM;
    l->v[l->n++] = pond_node_rec_ref(row->rec);
    return 0;
}

/* The node's versions that may hold event times in [from, to]. The partition's loaded suffix
 * answers for its files; an older file is read only when its event-time range (its add
 * action's tag) meets [from, to] or it has none, and apart: the loaded files stay a suffix. */
static int ob_list_versions_overlapping(pond_node_rec ***out, size_t *n_out, pond_backend *be,
                                        const pond_node_id *id, int64_t from_us, int64_t to_us)
{
    oplog_be *ob = OB(be);
    ol_node *n;
    ol_part *part = NULL;
    int rc = find_node_from(&n, &part, ob, id, INT64_MAX);
    if (rc < 0)
        return rc;
    if (!n || !n->n)
        return pond_node_not_found(D, id, 0);
    /* listings are read with the partition (no event times either): every version */
    if (n->rows[n->n - 1].rec->type == POND_ENTRY_DIRECTORY)
        return ob_list_versions(out, n_out, be, id);
    rec_list l = {0};
    size_t start = pond_oplog__part_start(part);
    for (size_t fi = 0; fi < start && rc == 0; fi++) {
        const ol_file *f = &part->files[fi];
        if (f->has_et && (f->et_max < from_us || f->et_min > to_us))
            continue;
        /* read apart into the partition's side file, kept: the read that lists these
         * versions opens them next (side_version), without reading the file again. Only a
         * live view reads from the side */
        group_pick pick = {false, 0, true, from_us, to_us};
        if (ob->row_max_txn < 0) {
            rc = load_side(ob, part, fi, &pick);
            ol_node *o = rc == 0 ? pond__idmap_get(&part->side->part.nodes, id) : NULL;
            for (size_t i = 0; o && rc == 0 && i < o->n; i++)
                rc = list_if_overlapping(&l, &o->rows[i], from_us, to_us);
            continue;
        }
        ol_part older;
        part_borrow(&older, part);
        rc = f->has_footer ? load_groups(ob, &older, (int)fi, &pick)
                           : load_file(ob, &older, (int)fi, NULL);
        ol_node *o = rc == 0 ? pond__idmap_get(&older.nodes, id) : NULL;
        for (size_t i = 0; o && rc == 0 && i < o->n; i++)
            rc = list_if_overlapping(&l, &o->rows[i], from_us, to_us);
        pond_oplog__part_unload(&older);
    }
    for (size_t i = 0; i < n->n && rc == 0; i++)
        rc = list_if_overlapping(&l, &n->rows[i], from_us, to_us);
    if (rc < 0) {
        pond_node_recs_free(l.v, l.n);
        return rc;
    }
    *out = l.v;
    *n_out = l.n;
    return 0;
}

/* A verified reader over a CAS blob, as a pond_reader. */
typedef struct {
    pond_cas_reader *cr;
    pthread_mutex_t mu; /* pond readers may pread from several threads */
} cas_impl;

static int cas_pread(void *impl, void *buf, size_t len, int64_t off, size_t *n_out)
{
    cas_impl *c = impl;
    pthread_mutex_lock(&c->mu);
    int rc = pond_cas_reader_read_at(c->cr, buf, len, off, n_out);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static void cas_impl_free(void *impl)
{
    cas_impl *c = impl;
    pond_cas_reader_free(c->cr);
    pthread_mutex_destroy(&c->mu);
    pond_free(c);
}

static const pond_reader_ops CAS_OPS = {cas_pread, cas_impl_free};

static int ob_open_content(pond_reader **out, pond_backend *be, const pond_node_rec *rec)
{
    oplog_be *ob = OB(be);
    ol_node *n;
    ol_part *part = NULL;
    oplog_row *row;
    int rc = find_version(&row, &n, &part, ob, &rec->id, rec->version);
    if (rc < 0)
        return rc;
    if (!row)
        return pond_node_not_found(D, &rec->id, rec->version);
    if ((rc = pond_oplog__row_content(ob, part, row)) < 0)
        return rc;
    if (!row->in_store) {
        if (!row->rec->content)
            return pond_error_set(POND_ECORRUPT, D, "version %lld has no content",
                                  (long long)rec->version);
        return pond_blob_open_reader(out, row->rec->content);
    }
    pond_cas_ref ref = {row->rec->sha256, row->root, row->rec->size};
    cas_impl *c = pond_calloc(1, sizeof *c);
    if (!c)
        return POND_ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    if ((rc = pond_cas_reader_open(&c->cr, ob->cas, &ref)) < 0) {
        cas_impl_free(c);
        return rc;
    }
    return pond_reader_new(out, ref.size, &CAS_OPS, c);
}

static int ob_last_txn(int64_t *out, pond_backend *be)
{
    *out = OB(be)->last_txn;
    return 0;
}

/* ---- vtable: commit ----------------------------------------------------------------------- */

static int64_t threshold_for(const oplog_be *ob, pond_entry_type t)
{
    return t == POND_ENTRY_FILE_DATA ? ob->threshold_data : ob->threshold_table;
}

int pond_oplog__stats_json(pond_buf *out, const commit_part *cp)
{
    char lo[POND_NODE_ID_STRLEN + 1], hi[POND_NODE_ID_STRLEN + 1];
    const pond_node_id *mn = &cp->rows[0].rec->id, *mx = mn;
    int64_t vmin = INT64_MAX, vmax = INT64_MIN, smin = INT64_MAX, smax = INT64_MIN;
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    for (size_t i = 0; i < cp->n; i++) {
        const pond_node_rec *r = cp->rows[i].rec;
        tmin = POND_MIN(tmin, r->txn_seq);
        tmax = POND_MAX(tmax, r->txn_seq);
        if (memcmp(&r->id, mn, sizeof *mn) < 0)
            mn = &r->id;
        if (memcmp(&r->id, mx, sizeof *mx) > 0)
            mx = &r->id;
        vmin = POND_MIN(vmin, r->version);
        vmax = POND_MAX(vmax, r->version);
        smin = POND_MIN(smin, r->size);
        smax = POND_MAX(smax, r->size);
    }
    /* UUID strings order like their bytes (lowercase hex, fixed layout) */
    pond_node_id_format(lo, mn);
    pond_node_id_format(hi, mx);
    /* the event times when every row has them (series versions): a Delta reader can skip the
     * file by them, as the oplog does by the same range in its tag */
    int64_t et[2];
    char emin[48] = "", emax[48] = "", enull[48] = "";
    if (pond_oplog__rows_event_time(et, cp->rows, cp->n)) {
        snprintf(emin, sizeof emin, ",\"min_event_time\":%lld", (long long)et[0]);
        snprintf(emax, sizeof emax, ",\"max_event_time\":%lld", (long long)et[1]);
        snprintf(enull, sizeof enull, ",\"min_event_time\":0,\"max_event_time\":0");
    }
    return pond_buf_printf(
        out,
        "{\"numRecords\":%zu,\"minValues\":{\"node_id\":\"%s\",\"version\":%lld,\"txn_seq\":%lld,"
        "\"size\":%lld%s},\"maxValues\":{\"node_id\":\"%s\",\"version\":%lld,\"txn_seq\":%lld,"
        "\"size\":%lld%s},\"nullCount\":{\"node_id\":0,\"version\":0,\"txn_seq\":0,\"size\":0%s}}",
        cp->n, lo, (long long)vmin, (long long)tmin, (long long)smin, emin, hi, (long long)vmax,
        (long long)tmax, (long long)smax, emax, enull);
}

/* The sink of a data file: hashes every byte as it goes by and writes in large blocks. */
typedef struct {
    int fd;
    const char *path;
    pond_sha256 *h;
    pond_buf buf;
    int64_t size;
    pond_sha256 *seg; /* not NULL: also hashes the bytes since the last row group's end */
} data_sink;

static int data_sink_flush(data_sink *d)
{
    int rc = d->buf.size ? pond__write_all(d->fd, d->buf.ptr, d->buf.size, d->path, D) : 0;
    pond_buf_clear(&d->buf);
    return rc;
}

static int data_sink_write(const void *data, size_t len, void *payload)
{
    data_sink *d = payload;
    int rc = pond_sha256_update(d->h, data, len);
    if (rc == 0 && d->seg)
        rc = pond_sha256_update(d->seg, data, len);
    if (rc == 0)
        rc = pond_buf_put(&d->buf, data, len);
    d->size += (int64_t)len;
    if (rc == 0 && d->buf.size >= ((size_t)1 << 20))
        rc = data_sink_flush(d);
    return rc;
}

/* Writes the rows of a merged file (more than one row group) a row group at a time, hashing
 * each group's bytes as they go by, and lists the groups with their hashes, versions and event
 * times in the footer (OPLOG_KV_GROUPS). The bytes after the last group (the footer) are hashed
 * on in ds->seg for the add action's OPLOG_TAG_FOOTER; cp->footer_len is left holding where
 * they start. A writer that made other row groups than asked (it never should) gets no list,
 * and ds->seg is dropped: the file is then read whole, as files written before. */
static int write_groups(commit_part *cp, pond_parquet_writer *w, data_sink *ds, int format)
{
    size_t ng = (cp->n + OL_CONTENT_GROUP_ROWS - 1) / OL_CONTENT_GROUP_ROWS;
    ol_group *groups = pond_calloc(ng, sizeof *groups);
    pond_buf kv = POND_BUF_INIT;
    int rc = groups ? pond_sha256_new(&ds->seg) : POND_ENOMEM;
    bool ok = true;
    for (size_t k = 0; rc == 0 && k < ng; k++) {
        const oplog_row *rows = cp->rows + k * OL_CONTENT_GROUP_ROWS;
        size_t m = POND_MIN(cp->n - k * OL_CONTENT_GROUP_ROWS, (size_t)OL_CONTENT_GROUP_ROWS);
        struct ArrowArray batch = {0};
        ol_group *g = &groups[k];
        g->off = ds->size;
        if ((rc = pond_oplog__encode(&batch, rows, m, format)) == 0 &&
            (rc = pond_parquet_writer_write(w, &batch)) == 0)
            rc = pond_parquet_writer_flush(w);
        pond_arrow_array_release(&batch);
        if (rc < 0)
            break;
        ok = ok && pond_parquet_writer_num_row_groups(w) == (int)(k + 1);
        g->len = ds->size - g->off;
        if ((rc = pond_sha256_final(&g->sha, ds->seg)) < 0 || (rc = pond_sha256_reset(ds->seg)) < 0)
            break;
        int64_t et[2];
        if ((g->has_et = pond_oplog__rows_event_time(et, rows, m))) {
            g->et_min = et[0];
            g->et_max = et[1];
        }
        g->v_min = INT64_MAX;
        g->v_max = INT64_MIN;
        for (size_t i = 0; i < m; i++) {
            g->v_min = POND_MIN(g->v_min, rows[i].rec->version);
            g->v_max = POND_MAX(g->v_max, rows[i].rec->version);
        }
    }
    if (rc == 0 && ok && (rc = pond_oplog__groups_format(&kv, groups, ng)) == 0)
        rc = pond_parquet_writer_add_kv(w, OPLOG_KV_GROUPS, kv.ptr);
    if (rc == 0 && !ok) {
        pond_sha256_free(ds->seg);
        ds->seg = NULL;
    }
    cp->footer_len = ds->size;
    pond_buf_dispose(&kv);
    pond_free(groups);
    return rc;
}

int pond_oplog__write_part_file(oplog_be *ob, commit_part *cp, int64_t txn, bool sync)
{
    char id[POND_NODE_ID_STRLEN + 1], rnd[9];
    pond_node_id_format(id, &cp->part);
    pond_node_id tmp;
    int rc = pond_node_id_new(&tmp);
    if (rc < 0)
        return rc;
    snprintf(rnd, sizeof rnd, "%02x%02x%02x%02x", tmp.bytes[12], tmp.bytes[13], tmp.bytes[14],
             tmp.bytes[15]);
    pond_buf rel = POND_BUF_INIT;
    if (cp->level > 0)
        rc = pond_buf_printf(&rel, "part_id=%s/%020lld-%s-l%d.parquet", id, (long long)txn, rnd,
                             cp->level);
    else
        rc = pond_buf_printf(&rel, "part_id=%s/%020lld-%s.parquet", id, (long long)txn, rnd);
    if (rc < 0)
        return rc;
    cp->path = pond_buf_detach(&rel);
    cp->has_footer = false;
    cp->footer_len = 0;
    char *dirpath = pond_malloc(strlen(ob->dir) + 64);
    char *path = pond__path_join(ob->dir, cp->path);
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    data_sink ds = {-1, path, NULL, POND_BUF_INIT, 0, NULL};
    pond_parquet_writer *w = NULL;
    if (!dirpath || !path) {
        rc = POND_ENOMEM;
        goto done;
    }
    sprintf(dirpath, "%s/part_id=%s", ob->dir, id);
    struct stat st;
    bool new_dir = pond__os_lstat(dirpath, &st) != 0;
    if (!new_dir && !S_ISDIR(st.st_mode)) {
        /* a link here would take the commit's file into another tree */
        rc = pond_error_set(POND_ECORRUPT, D,
                            "'%s' is %s: a pond directory must be a real directory", dirpath,
                            pond__file_kind(st.st_mode));
        goto done;
    }
    if (new_dir && (rc = pond__mkdir(dirpath, true, D)) < 0)
        goto done;
    if (new_dir && (rc = pond__fsync_dir(ob->dir, D)) < 0)
        goto done;
    int format = cp->format ? cp->format : ob->format;
    if ((rc = pond_oplog__arrow_schema(&schema, format)) < 0 ||
        (cp->n <= OL_CONTENT_GROUP_ROWS &&
         (rc = pond_oplog__encode(&batch, cp->rows, cp->n, format)) < 0))
        goto done;
    pond_parquet_writer_options wo = POND_PARQUET_WRITER_OPTIONS_INIT;
    wo.page_index = false; /* rows per file are few; the index would outweigh them */
    if (cp->n > OL_CONTENT_GROUP_ROWS) {
        /* a merged file: one version's content is read from its row group alone. Without
         * statistics (nothing prunes an oplog file by them: the add action carries the ranges)
         * each group's footer entry is a third smaller, and the footer is read per version */
        wo.row_group_rows = OL_CONTENT_GROUP_ROWS;
        wo.statistics = false;
    }
    if ((rc = pond_sha256_new(&ds.h)) < 0)
        goto done;
    if ((rc = pond__open(&ds.fd, path, O_WRONLY | O_CREAT | O_EXCL, 0644, D)) < 0)
        goto done;
    cp->written = true;
    pond_parquet_sink sink = {data_sink_write, NULL, &ds};
    if ((rc = pond_parquet_writer_new(&w, &sink, &schema, &wo)) < 0)
        goto done;
    if (cp->n > OL_CONTENT_GROUP_ROWS)
        rc = write_groups(cp, w, &ds, format);
    else
        rc = pond_parquet_writer_write(w, &batch);
    if (rc < 0 || (rc = pond_parquet_writer_finish(w)) < 0)
        goto done;
    if ((rc = data_sink_flush(&ds)) < 0 || (rc = pond_sha256_final(&cp->sha, ds.h)) < 0)
        goto done;
    if (ds.seg && (rc = pond_sha256_final(&cp->footer_sha, ds.seg)) < 0)
        goto done;
    cp->has_footer = ds.seg != NULL;
    /* write_groups left the footer's start in footer_len */
    cp->footer_len = cp->has_footer ? ds.size - cp->footer_len : 0;
    cp->size = ds.size;
    if (!sync) {
        cp->unsynced = true;
        cp->fd = ds.fd;
        ds.fd = -1;
        goto done;
    }
    if ((rc = pond__fsync(ds.fd, path, D)) < 0)
        goto done;
    rc = pond__fsync_dir(dirpath, D);
done:
    pond_parquet_writer_free(w);
    if (ds.fd >= 0)
        pond__close(ds.fd);
    pond_sha256_free(ds.h);
    pond_sha256_free(ds.seg);
    pond_buf_dispose(&ds.buf);
    pond_arrow_array_release(&batch);
    pond_arrow_schema_release(&schema);
    pond_free(path);
    pond_free(dirpath);
    return rc;
}

int pond_oplog__sync_part_file(oplog_be *ob, commit_part *cp)
{
    if (!cp->unsynced)
        return 0;
    char *path = pond__path_join(ob->dir, cp->path);
    if (!path)
        return POND_ENOMEM;
    int rc = pond__fsync(cp->fd, path, D);
    pond__close(cp->fd);
    cp->unsynced = false;
    char *slash = strrchr(path, '/');
    *slash = '\0';
    if (rc == 0)
        rc = pond__fsync_dir(path, D);
    pond_free(path);
    return rc;
}

/* The tags of a data file's add action: its SHA-256. */
void pond_oplog__sha_tag(char hex[65], pond_delta_kv *tag, const commit_part *cp)
{
    pond_hash_hex(hex, &cp->sha);
    tag->key = OPLOG_TAG_SHA256;
    tag->value = hex;
}

int pond_oplog__add_part_file(pond_delta_actions *acts, const commit_part *cp, int64_t time_ms,
                              bool data_change, pond_buf *stats)
{
    char id[POND_NODE_ID_STRLEN + 1], hex[65];
    pond_node_id_format(id, &cp->part);
    pond_delta_kv pv = {"part_id", id}, tags[4];
    pond_buf_clear(stats);
    int rc = pond_oplog__stats_json(stats, cp);
    if (rc < 0)
        return rc;
    pond_oplog__sha_tag(hex, &tags[0], cp);
    int64_t et[2], vr[2] = {INT64_MAX, INT64_MIN};
    char etv[48], vrv[48];
    size_t n_tags = 1;
    if (pond_oplog__rows_event_time(et, cp->rows, cp->n)) {
        snprintf(etv, sizeof etv, "%lld,%lld", (long long)et[0], (long long)et[1]);
        tags[n_tags++] = (pond_delta_kv){OPLOG_TAG_EVENT_TIME, etv};
    }
    for (size_t i = 0; i < cp->n; i++) {
        vr[0] = POND_MIN(vr[0], cp->rows[i].rec->version);
        vr[1] = POND_MAX(vr[1], cp->rows[i].rec->version);
    }
    if (cp->n) {
        snprintf(vrv, sizeof vrv, "%lld,%lld", (long long)vr[0], (long long)vr[1]);
        tags[n_tags++] = (pond_delta_kv){OPLOG_TAG_VERSIONS, vrv};
    }
    char ftv[96];
    if (cp->has_footer) {
        char fhex[65];
        pond_hash_hex(fhex, &cp->footer_sha);
        snprintf(ftv, sizeof ftv, "%lld,%s", (long long)cp->footer_len, fhex);
        tags[n_tags++] = (pond_delta_kv){OPLOG_TAG_FOOTER, ftv};
    }
    pond_delta_file_desc f = {POND_DELTA_FILE_DESC_VERSION,
                              cp->path,
                              &pv,
                              1,
                              cp->size,
                              time_ms,
                              0,
                              data_change,
                              stats->ptr,
                              tags,
                              n_tags};
    return pond_delta_actions_add(acts, &f);
}

int pond_oplog__remove_part_file(pond_delta_actions *acts, const char *path, int64_t time_ms,
                                 bool data_change)
{
    char id[POND_NODE_ID_STRLEN + 1] = {0};
    memcpy(id, path + 8, POND_NODE_ID_STRLEN); /* part_id=<uuid>/... */
    pond_delta_kv pv = {"part_id", id};
    pond_delta_file_desc f = {
        POND_DELTA_FILE_DESC_VERSION, path, &pv, 1, -1, 0, time_ms, data_change, NULL, NULL, 0};
    return pond_delta_actions_remove(acts, &f);
}

static void commit_parts_dispose(oplog_be *ob, commit_part *cps, size_t n, bool remove_files)
{
    for (size_t i = 0; i < n; i++) {
        if (cps[i].unsynced)
            pond__close(cps[i].fd);
        if (remove_files && cps[i].written && cps[i].path) {
            char *p = pond__path_join(ob->dir, cps[i].path);
            if (p)
                (void)pond__os_unlink(p);
            pond_free(p);
        }
        for (size_t k = 0; k < cps[i].n; k++)
            pond_oplog__row_dispose(&cps[i].rows[k]);
        pond_free(cps[i].rows);
        pond_free(cps[i].path);
    }
    pond_free(cps);
}

typedef struct {
    oplog_be *ob;
    commit_part *cps;
    size_t n;
} sync_ctx;

/* Makes a commit's data files (and their directory entries) durable. */
static int sync_parts(void *payload)
{
    sync_ctx *c = payload;
    int rc = 0;
    for (size_t k = 0; k < c->n && rc == 0; k++)
        rc = pond_oplog__sync_part_file(c->ob, &c->cps[k]);
    return rc;
}

static int carry_content(oplog_row *row, oplog_be *ob, const pond_node_rec *r)
{
    ol_node *n;
    ol_part *part = NULL;
    int rc = find_node_from(&n, &part, ob, &r->id, INT64_MAX);
    if (rc < 0)
        return rc;
    oplog_row *prev = n && n->n ? &n->rows[n->n - 1] : NULL;
    if (prev && (rc = pond_oplog__row_content(ob, part, prev)) < 0)
        return rc;
    if (!prev || !pond_entry_type_is_file(prev->rec->type) || prev->rec->size != r->size ||
        !pond_hash_equal(&prev->rec->sha256, &r->sha256)) {
        char id[POND_NODE_ID_STRLEN + 1];
        pond_node_id_format(id, &r->id);
        return pond_error_set(POND_EINVALID, D,
                              "node %s version %lld: no content, and the previous version's "
                              "content differs",
                              id, (long long)r->version);
    }
    if ((rc = pond_node_rec_dup(&row->rec, r)) < 0)
        return rc;
    row->rec->content = prev->rec->content ? pond_blob_ref(prev->rec->content) : NULL;
    row->in_store = prev->in_store;
    row->root = prev->root;
    return 0;
}

/* Does any listing among recs name a child's home partition other than itself? Only format 2
 * can record that. Nor can format 1 say that a series is read under a dedup rule or that a
 * compacted version replaces others (docs/format.md, "The series index"): a format-1 reader
 * would return rows twice. */
static bool needs_format_2(pond_node_rec *const *recs, size_t n)
{
    /* the series keys are written by table_series.c as compact JSON, keys quoted */
    for (size_t i = 0; i < n; i++) {
        const pond_node_rec *r = recs[i];
        if (r->type == POND_ENTRY_FILE_SERIES && r->xattrs_json &&
            (strstr(r->xattrs_json, "\"pond.compactions\"") ||
             strstr(r->xattrs_json, "\"pond.dedup\"")))
            return true;
        for (size_t k = 0; r->type == POND_ENTRY_DIRECTORY && k < r->n_entries; k++) {
            pond_node_id home = pond_dir_entry_home(r, &r->entries[k]);
            if (r->entries[k].type != POND_ENTRY_DIRECTORY && !pond_node_id_equal(&home, &r->id))
                return true;
        }
    }
    return false;
}

int pond_oplog__commit_format(const oplog_be *ob, pond_node_rec *const *recs, size_t n,
                              bool retention)
{
    if (ob->format >= OPLOG_FORMAT)
        return ob->format;
    return retention || needs_format_2(recs, n) ? OPLOG_FORMAT : ob->format;
}

/* The metaData action that upgrades the pond to format: the snapshot's metaData (id, name,
 * partition columns, configuration, creation time) with pond.format and the schemaString of
 * the new format. Delta readers take it as a schema change adding a nullable nested field. */
static int upgrade_metadata(pond_delta_actions *acts, oplog_be *ob, int format)
{
    pond_delta_table *t = NULL;
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.at_version = ob->last_txn;
    int rc = pond_delta_table_open(&t, ob->dir, &o);
    if (rc < 0)
        return rc;
    const pond_delta_metadata *m = pond_delta_table_metadata(t);
    char fv[8];
    snprintf(fv, sizeof fv, "%d", format);
    pond_delta_kv *cfg = pond_calloc(m->n_configuration + 1, sizeof *cfg);
    if (!cfg) {
        pond_delta_table_free(t);
        return POND_ENOMEM;
    }
    size_t nc = 0;
    for (size_t i = 0; i < m->n_configuration; i++)
        if (strcmp(m->configuration[i].key, CFG_FORMAT) != 0)
            cfg[nc++] = m->configuration[i];
    cfg[nc++] = (pond_delta_kv){CFG_FORMAT, fv};
    pond_delta_metadata_desc md = {POND_DELTA_METADATA_DESC_VERSION,
                                   m->id,
                                   m->name,
                                   m->description,
                                   pond_oplog__schema_string(format),
                                   m->partition_columns,
                                   m->n_partition_columns,
                                   cfg,
                                   nc,
                                   m->created_time};
    rc = pond_delta_actions_metadata(acts, &md);
    pond_free(cfg);
    pond_delta_table_free(t);
    return rc;
}

static int ob_commit(pond_backend *be, const pond_backend_txn_info *info,
                     pond_node_rec *const *recs, size_t n)
{
    oplog_be *ob = OB(be);
    if (ob->as_of >= 0)
        return pond_error_set(POND_EINVALID, D, "pond '%s' is open read-only (as of txn %lld)",
                              ob->dir, (long long)ob->as_of);
    if (info->txn_seq != ob->last_txn + 1)
        return pond_error_set(POND_ECONFLICT, D,
                              "transaction %lld does not follow %lld: another writer committed "
                              "(reopen the pond and retry)",
                              (long long)info->txn_seq, (long long)ob->last_txn);
    commit_part *cps = NULL;
    size_t ncp = 0;
    pond_delta_actions *acts = NULL;
    pond_buf stats = POND_BUF_INIT;
    int rc = 0;
    if (n && !(cps = pond_calloc(n, sizeof *cps)))
        return POND_ENOMEM;
    /* group by partition, moving large content to the store first */
    for (size_t i = 0; i < n && rc == 0; i++) {
        pond_node_rec *r = recs[i];
        commit_part *cp = NULL;
        for (size_t k = 0; k < ncp; k++)
            if (pond_node_id_equal(&cps[k].part, &r->part_id))
                cp = &cps[k];
        if (!cp) {
            cp = &cps[ncp++];
            cp->part = r->part_id;
        }
        if (POND_GROW(cp->rows, cp->n, cp->cap) < 0) {
            rc = POND_ENOMEM;
            break;
        }
        oplog_row *row = &cp->rows[cp->n++];
        memset(row, 0, sizeof *row);
        if (pond_entry_type_is_file(r->type) && !r->content) {
            /* unchanged content (a move, new attributes): carry the previous version's bytes */
            if ((rc = carry_content(row, ob, r)) < 0)
                break;
            continue;
        }
        row->rec = pond_node_rec_ref(r);
        if (pond_entry_type_is_file(r->type) && r->size >= threshold_for(ob, r->type)) {
            pond_cas_ref ref;
            if ((rc = pond_oplog__store_content(&ref, ob, r)) < 0)
                break;
            row->in_store = true;
            row->root = ref.root;
            /* the row serves the store's copy: drop the writer's blob (a spill file, a sink's
             * reader) rather than hold it as long as the partition stays loaded */
            pond_node_rec *own = NULL;
            if ((rc = pond_node_rec_dup(&own, r)) < 0)
                break;
            pond_blob_unref(own->content);
            own->content = NULL;
            pond_node_rec_unref(row->rec);
            row->rec = own;
        }
    }
    /* A format-1 pond is upgraded by the first commit that needs format 2, in that commit: its
     * data files and its metaData action (docs/format.md, "Format 2"). */
    int format = pond_oplog__commit_format(ob, recs, n, false);
    /* the data files are synced after the commit's temp file is written, just before it is
     * synced: one journal commit can then carry both (see sync_parts) */
    for (size_t k = 0; k < ncp && rc == 0; k++) {
        cps[k].format = format;
        rc = pond_oplog__write_part_file(ob, &cps[k], info->txn_seq, false);
    }
    if (rc == 0)
        rc = pond_delta_actions_new(&acts);
    if (rc == 0 && format != ob->format)
        rc = upgrade_metadata(acts, ob, format);
    for (size_t k = 0; k < ncp && rc == 0; k++)
        rc = pond_oplog__add_part_file(acts, &cps[k], info->timestamp_us / 1000, true, &stats);
    if (rc == 0) {
        pond_buf extra = POND_BUF_INIT;
        rc = pond_buf_printf(&extra, "{\"pondTxnSeq\":%lld%s%s}", (long long)info->txn_seq,
                             info->meta_json ? ",\"pondMeta\":" : "",
                             info->meta_json ? info->meta_json : "");
        if (rc == 0)
            rc = pond_delta_actions_commit_info(acts, info->timestamp_us / 1000, "WRITE",
                                                "{\"mode\":\"Append\"}", extra.ptr);
        pond_buf_dispose(&extra);
    }
    if (rc == 0)
        rc = pond_delta_commit_write_hook(ob->dir, info->txn_seq, acts, sync_parts,
                                          &(sync_ctx){ob, cps, ncp});
    if (rc < 0) {
        commit_parts_dispose(ob, cps, ncp, true);
        pond_delta_actions_free(acts);
        pond_buf_dispose(&stats);
        return rc;
    }
    /* durable: publish into the in-memory index (cannot fail for the caller any more except on
     * memory; on failure the index is dropped and rebuilt lazily) */
    ob->last_txn = info->txn_seq;
    ob->format = format;
    int irc = 0;
    for (size_t k = 0; k < ncp && irc == 0; k++) {
        ol_part *p;
        if ((irc = part_get(&p, ob, &cps[k].part, true)) < 0)
            break;
        int64_t et[2];
        bool has_et = pond_oplog__rows_event_time(et, cps[k].rows, cps[k].n);
        if ((irc = pond_oplog__part_add_file(p, cps[k].path, info->txn_seq, cps[k].size,
                                             &cps[k].sha, has_et ? et : NULL)) < 0)
            break;
        pond_oplog__file_set_versions(&p->files[p->n_files - 1], cps[k].rows, cps[k].n);
        pond_oplog__file_set_footer(&p->files[p->n_files - 1], &cps[k]);
        if ((irc = pond__idmap_put(&ob->node_part, &cps[k].part, p, NULL)) < 0)
            break;
        if (!p->loaded && !p->partial)
            continue; /* nothing of it loaded: the new file loads with the rest when used */
        for (size_t i = 0; i < cps[k].n && irc == 0; i++) {
            oplog_row *row = &cps[k].rows[i];
            /* the node's rows live in partition part: remember it for lookups */
            if ((irc = pond__idmap_put(&ob->node_part, &row->rec->id, p, NULL)) < 0)
                break;
            row->file_idx = (int)p->n_files - 1; /* the file just added */
            row->file_row = (int64_t)i;          /* written in this order */
            irc = part_put_row(ob, p, row);
        }
        if (irc < 0)
            pond_oplog__part_unload(p);
    }
    if (irc < 0 && pond_oplog__load_index(ob, -1) < 0) {
        /* The commit is durable but this handle's index misses it and could not be rebuilt:
         * make the next lock reload it, and a commit without one fail as a conflict, rather
         * than let a stale view build on it (docs/reliability.md). */
        ob_clear_index(ob);
        ob->last_txn = -1;
    }
    commit_parts_dispose(ob, cps, ncp, false);
    pond_delta_actions_free(acts);
    pond_buf_dispose(&stats);
    /* merges and checkpoints see the index with this commit in it */
    if (ob->last_txn >= info->txn_seq)
        pond_oplog__after_commit(ob, info->txn_seq);
    return 0;
}

/* ---- opening ------------------------------------------------------------------------------ */

typedef struct {
    oplog_be *ob;
    int rc;
} index_ctx;

/* "<min>,<max>" (decimal, min <= max) into r. */
static bool parse_range(int64_t r[2], const char *v)
{
    char *e1 = NULL, *e2 = NULL;
    if (!v)
        return false;
    errno = 0;
    r[0] = strtoll(v, &e1, 10);
    r[1] = *e1 == ',' ? strtoll(e1 + 1, &e2, 10) : 0;
    return errno == 0 && e1 != v && *e1 == ',' && e2 && e2 != e1 + 1 && !*e2 && r[0] <= r[1];
}

/* OPLOG_TAG_FOOTER: "<bytes>,<sha256 hex>" */
static bool parse_footer_tag(int64_t *len, pond_hash *sha, const char *v)
{
    char *e = NULL;
    if (!v || *v < '0' || *v > '9')
        return false;
    errno = 0;
    long long n = strtoll(v, &e, 10);
    return errno == 0 && *e == ',' && n > 0 && n <= INT32_MAX && strlen(e + 1) == 64 &&
           pond_hash_from_hex(sha, e + 1) == 0 && ((*len = n), true);
}

static int index_file(const pond_delta_file *f, void *payload)
{
    index_ctx *ctx = payload;
    const char *pid = NULL;
    for (size_t i = 0; i < f->n_partition_values; i++)
        if (!strcmp(f->partition_values[i].key, "part_id"))
            pid = f->partition_values[i].value;
    pond_node_id id;
    if (!pid || pond_node_id_parse(&id, pid) < 0)
        return pond_error_set(POND_ECORRUPT, D, "data file '%s' has no valid part_id",
                              f->decoded_path);
    /* the newest transaction in a file is in its name (<txn>-<random>.parquet): the log
     * version that added it is not, once a checkpoint or a compaction has rewritten history */
    const char *base = strrchr(f->decoded_path, '/');
    base = base ? base + 1 : f->decoded_path;
    char *end = NULL;
    long long txn = strtoll(base, &end, 10);
    if (end != base + 20 || *end != '-' || txn < 1)
        return pond_error_set(POND_ECORRUPT, D, "data file '%s' is not named <txn>-<id>.parquet",
                              f->decoded_path);
    pond_hash sha;
    bool has_sha = false, has_et = false, has_vr = false, has_footer = false;
    int64_t et[2], vr[2], footer_len = 0;
    pond_hash footer_sha;
    for (size_t i = 0; i < f->n_tags; i++) {
        /* an unreadable footer tag is none: the file is then read and hashed whole */
        if (!strcmp(f->tags[i].key, OPLOG_TAG_FOOTER)) {
            has_footer = parse_footer_tag(&footer_len, &footer_sha, f->tags[i].value);
            continue;
        }
        /* an unreadable range is no range: the file is then read whenever asked */
        if (!strcmp(f->tags[i].key, OPLOG_TAG_EVENT_TIME)) {
            has_et = parse_range(et, f->tags[i].value);
            continue;
        }
        if (!strcmp(f->tags[i].key, OPLOG_TAG_VERSIONS)) {
            has_vr = parse_range(vr, f->tags[i].value);
            continue;
        }
        if (strcmp(f->tags[i].key, OPLOG_TAG_SHA256) != 0)
            continue;
        if (!f->tags[i].value || pond_hash_from_hex(&sha, f->tags[i].value) < 0)
            return pond_error_set(POND_ECORRUPT, D, "data file '%s': tag %s is not a SHA-256",
                                  f->decoded_path, OPLOG_TAG_SHA256);
        has_sha = true;
    }
    ol_part *p;
    int rc = part_get(&p, ctx->ob, &id, true);
    if (rc == 0)
        rc = pond_oplog__part_add_file(p, f->decoded_path, txn, f->size, has_sha ? &sha : NULL,
                                       has_et ? et : NULL);
    if (rc == 0 && has_footer) {
        ol_file *nf = &p->files[p->n_files - 1];
        nf->has_footer = true;
        nf->footer_len = (int32_t)footer_len;
        memcpy(nf->footer_sha, footer_sha.bytes, OL_FOOTER_SHA_BYTES);
    }
    if (rc == 0 && has_vr) {
        ol_file *nf = &p->files[p->n_files - 1];
        nf->has_vr = true;
        nf->v_min = vr[0];
        nf->v_max = vr[1];
    }
    return rc;
}

static void ob_clear_index(oplog_be *ob)
{
    for (size_t i = 0; i < pond__idmap_slots(&ob->parts); i++) {
        ol_part *p = pond__idmap_at(&ob->parts, i, NULL);
        if (p)
            part_free(p);
    }
    pond__idmap_dispose(&ob->parts);
    pond__idmap_dispose(&ob->node_part);
}

int pond_oplog__load_index(oplog_be *ob, int64_t at_version)
{
    /* Time travel reads the newest snapshot and keeps the rows of transactions up to
     * at_version: compaction keeps every row, so that is the state at at_version exactly unless
     * retention dropped a version that was live then -- which the retention commit records as
     * the oldest complete transaction (docs/format.md, "Retention"). Data files an older
     * snapshot listed are never needed, so gc may remove them; nor is the commit of
     * at_version: a log cleaned up below it, or damaged there under a checkpoint that covers
     * it, still reads at at_version. */
    pond_delta_table *t = NULL;
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.skip_stats = true; /* the index needs paths, sizes and tags: half the memory */
    /* a power cut inside a push's batch: the log ends before its gap (docs/replication.md) */
    int rc = pond_oplog_intent_end(&o.at_version, ob->dir);
    if (rc == 0)
        rc = pond_delta_table_open(&t, ob->dir, &o);
    if (rc < 0)
        return rc;
    /* what the log reader worked around, for the first caller to show (once per handle) */
    for (size_t i = 0; !ob->warned && i < POND_ARRAY_LEN(ob->warnings); i++) {
        const char *w = pond_delta_table_warning(t, i);
        if (!w)
            break;
        pond_free(ob->warnings[i]);
        pond_buf b = POND_BUF_INIT;
        /* both are rewritten from the JSON commits by the repair */
        if (pond_buf_printf(&b, "%s (pond fsck --repair rewrites it)", w) == 0)
            ob->warnings[i] = pond_buf_detach(&b);
        pond_buf_dispose(&b);
    }
    ob->warned = true;
    const char *fmt = pond_delta_table_config(t, CFG_FORMAT);
    int format = pond_oplog_format_supported(fmt) ? fmt[0] - '0' : 0;
    if (!format) {
        rc = pond_error_set(fmt ? POND_EUNSUPPORTED : POND_ENOTFOUND, D,
                            fmt ? "'%s': pond format '%s' is not supported (this build of pond "
                                  "reads formats %d to %d; a newer one wrote it)"
                                : "'%s' is a Delta table but not a pond",
                            ob->dir, fmt ? fmt : "", OPLOG_FORMAT_MIN, OPLOG_FORMAT);
        goto done;
    }
    ob->format = format;
    const char *td = pond_delta_table_config(t, CFG_T_DATA);
    const char *tt = pond_delta_table_config(t, CFG_T_TABLE);
    ob->threshold_data = td ? strtoll(td, NULL, 10) : POND_THRESHOLD_DATA_DEFAULT;
    ob->threshold_table = tt ? strtoll(tt, NULL, 10) : POND_THRESHOLD_TABLE_DEFAULT;
    const char *ci = pond_delta_table_config(t, "pond.checkpoint_interval");
    ob->checkpoint_interval = ci ? strtoll(ci, NULL, 10) : 0;
    if (ob->threshold_data <= 0 || ob->threshold_table <= 0) {
        rc = pond_error_set(POND_ECORRUPT, D, "'%s': bad large-file thresholds", ob->dir);
        goto done;
    }
    const char *oc = pond_delta_table_config(t, OPLOG_CFG_OLDEST_COMPLETE);
    const char *da = pond_delta_table_config(t, OPLOG_CFG_DROPPED_AT);
    ob->oldest_complete = oc ? strtoll(oc, NULL, 10) : 0;
    ob->dropped_at = da ? strtoll(da, NULL, 10) : -1;
    ob->snapshot_version = pond_delta_table_version(t);
    /* a checkpoint that failed after an earlier commit (here or in another process) */
    ob->checkpoint_due = pond_oplog__checkpoint_missed(ob, ob->snapshot_version,
                                                       pond_delta_table_checkpoint_version(t));
    if (at_version > ob->snapshot_version) {
        rc = pond_error_set(POND_ENOTFOUND, D, "version %lld does not exist (latest is %lld)",
                            (long long)at_version, (long long)ob->snapshot_version);
        goto done;
    }
    if (at_version >= 0 && at_version < ob->oldest_complete) {
        rc = pond_error_set(POND_ENOTFOUND, D,
                            "transaction %lld is no longer kept: gc at transaction %lld dropped "
                            "its history; the oldest complete transaction is %lld",
                            (long long)at_version, (long long)ob->dropped_at,
                            (long long)ob->oldest_complete);
        goto done;
    }
    ob_clear_index(ob);
    ob->last_txn = at_version >= 0 ? at_version : ob->snapshot_version;
    ob->row_max_txn = at_version;
    index_ctx ctx = {ob, 0};
    if ((rc = pond_delta_table_foreach_file(t, index_file, &ctx)) < 0)
        goto done;
    for (size_t i = 0; i < pond__idmap_slots(&ob->parts); i++) {
        ol_part *p = pond__idmap_at(&ob->parts, i, NULL);
        if (p)
            qsort(p->files, p->n_files, sizeof *p->files, file_cmp);
    }
done:
    pond_delta_table_free(t);
    return rc;
}

static void ob_free(pond_backend *be)
{
    oplog_be *ob = OB(be);
    if (!ob)
        return;
    ob_clear_index(ob);
    for (size_t i = 0; i < POND_ARRAY_LEN(ob->warnings); i++)
        pond_free(ob->warnings[i]);
    pond_free(ob->maint_error);
    if (ob->lock_fd >= 0)
        pond__close(ob->lock_fd);
    pond_cas_free(ob->cas);
    pond_free(ob->dir);
    pond_free(ob->table_id);
    pond_free(ob);
}

static int ob_open_as_of(pond_backend **out, pond_backend *be, int64_t txn_seq);

static int open_at(pond_backend **out, const char *dir, int64_t as_of)
{
    *out = NULL;
    oplog_be *ob = pond_calloc(1, sizeof *ob);
    if (!ob)
        return POND_ENOMEM;
    ob->lock_fd = -1;
    ob->as_of = as_of;
    ob->row_max_txn = -1;
    ob->dropped_at = -1;
    ob->parent.version = POND_BACKEND_VERSION;
    ob->parent.name = "oplog";
    ob->parent.latest = ob_latest;
    ob->parent.get_version = ob_get_version;
    ob->parent.list_versions = ob_list_versions;
    ob->parent.list_versions_overlapping = ob_list_versions_overlapping;
    ob->parent.open_content = ob_open_content;
    ob->parent.last_txn = ob_last_txn;
    ob->parent.commit = ob_commit;
    ob->parent.open_as_of = ob_open_as_of;
    ob->parent.free = ob_free;
    ob->parent.open_sink = pond_oplog__open_sink;
    int rc = 0;
    char *store = NULL;
    if (!(ob->dir = pond_strdup(dir)) || !(store = pond__path_join(dir, OPLOG_STORE_NAME)))
        rc = POND_ENOMEM;
    if (rc == 0)
        rc = pond_cas_open(&ob->cas, store, NULL);
    pond_free(store);
    if (rc == 0)
        rc = pond_oplog__load_index(ob, as_of);
    if (rc < 0) {
        ob_free(&ob->parent);
        return rc;
    }
    *out = &ob->parent;
    return 0;
}

/* Public functions take any pond_backend *: this is their one way to the oplog's own struct.
 * The vtable's free function identifies an oplog backend (a name could be copied), so a memory
 * or third-party backend is POND_EINVALID naming the function, never a cast of another type. */
int pond_oplog__of(oplog_be **out, const pond_backend *be, const char *fn)
{
    *out = NULL;
    if (!be || be->free != ob_free)
        return pond_error_set(POND_EINVALID, D,
                              "%s: the backend is %s%s%s, not a pond on disk "
                              "(pond_oplog_open gives one)",
                              fn, be ? "'" : "NULL", be && be->name ? be->name : "", be ? "'" : "");
    *out = (oplog_be *)be;
    return 0;
}

static int ob_open_as_of(pond_backend **out, pond_backend *be, int64_t txn_seq)
{
    oplog_be *ob = OB(be);
    if (txn_seq < 0 || txn_seq > ob->last_txn)
        return pond_error_set(POND_ENOTFOUND, D, "pond '%s' has no transaction %lld (last is %lld)",
                              ob->dir, (long long)txn_seq, (long long)ob->last_txn);
    return open_at(out, ob->dir, txn_seq);
}

bool pond_oplog_is_pond(const char *dir)
{
    char *log = pond__path_join(dir, "_delta_log/00000000000000000000.json");
    struct stat st;
    bool ok = log && pond__os_stat(log, &st) == 0;
    pond_free(log);
    if (ok || !log)
        return ok;
    /* a log cleanup (Delta's, or anyone's) removes the oldest commits: a pond is then a
     * _delta_log with any commit or checkpoint in it */
    int64_t v;
    ok = pond_delta_latest_version(&v, dir) == 0;
    if (!ok) {
        log = pond__path_join(dir, "_delta_log/_last_checkpoint");
        ok = log && pond__os_lstat(log, &st) == 0;
        pond_free(log);
    }
    pond_error_clear();
    return ok;
}

const char *pond_oplog_warning(const pond_backend *be, size_t i)
{
    oplog_be *ob;
    if (pond_oplog__of(&ob, be, "pond_oplog_warning") < 0)
        return NULL;
    return i < POND_ARRAY_LEN(ob->warnings) ? ob->warnings[i] : NULL;
}

const char *pond_oplog_maintenance_error(const pond_backend *be)
{
    return be ? ((const oplog_be *)be)->maint_error : NULL;
}

int pond_oplog_open(pond_backend **out, const char *dir, const pond_oplog_options *opts)
{
    POND_ASSERT_ARG(out && dir);
    *out = NULL;
    pond_oplog_options def = POND_OPLOG_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    struct stat st;
    if (pond__os_stat(dir, &st) != 0)
        return pond_error_set_os(D, "pond '%s'", dir);
    if (!pond_oplog_is_pond(dir))
        return pond_error_set(POND_ENOTFOUND, D,
                              "'%s' is not a pond (no _delta_log; "
                              "create one with 'pond init')",
                              dir);
    /* the log is read and written through this path: it must be the pond's own directory */
    char *log = pond__path_join(dir, "_delta_log");
    if (!log)
        return POND_ENOMEM;
    int rc = 0;
    if (pond__os_lstat(log, &st) != 0)
        rc = pond_error_set_os(D, "stat '%s'", log);
    else if (!S_ISDIR(st.st_mode))
        rc = pond_error_set(POND_ECORRUPT, D,
                            "'%s' is %s: a pond directory must be a real directory", log,
                            pond__file_kind(st.st_mode));
    pond_free(log);
    if (rc < 0)
        return rc;
    return open_at(out, dir, opts->as_of_txn);
}

/* True in *out when dir holds nothing, or only what an interrupted pond_oplog_create leaves:
 * an empty `_delta_log/` or one holding nothing but commit temp files (`.tmp-*`), so that
 * `pond init` can be rerun after a crash (docs/reliability.md). */
static int only_create_leftovers(bool *out, const char *dir)
{
    *out = false;
    pond_dir *d = NULL, *log = NULL;
    int rc = pond__dir_open(&d, dir, true, D);
    pond_dirent e;
    bool empty = true, has_log = false;
    while (rc == 0 && (rc = pond__dir_next(&e, d, D)) == 0) {
        if (!strcmp(e.name, "_delta_log") && S_ISDIR(e.st.st_mode))
            has_log = true; /* a real directory only: a link there is not a leftover */
        else
            empty = false;
    }
    if (rc == POND_ITEROVER)
        rc = 0;
    if (rc == 0 && empty && has_log) {
        rc = pond__dir_open_at(&log, d, "_delta_log", D);
        while (rc == 0 && (rc = pond__dir_next(&e, log, D)) == 0)
            if (strncmp(e.name, ".tmp-", 5) != 0)
                empty = false;
        if (rc == POND_ITEROVER)
            rc = 0;
    }
    pond__dir_close(log);
    pond__dir_close(d);
    *out = empty;
    return rc;
}

int pond_oplog_create(const char *dir, const pond_oplog_create_options *opts)
{
    return pond_oplog__create(dir, opts, OPLOG_FORMAT);
}

int pond_oplog__create(const char *dir, const pond_oplog_create_options *opts, int format)
{
    POND_ASSERT_ARG(dir && format >= OPLOG_FORMAT_MIN && format <= OPLOG_FORMAT);
    pond_oplog_create_options def = POND_OPLOG_CREATE_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    if (opts->threshold_data <= 0 || opts->threshold_table <= 0)
        return pond_error_set(POND_EINVALID, D, "large-file thresholds must be positive");
    struct stat st;
    if (pond__os_stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return pond_error_set(POND_EEXISTS, D, "'%s' exists and is not a directory", dir);
        if (pond_oplog_is_pond(dir))
            return pond_error_set(POND_EEXISTS, D, "'%s' is already a pond", dir);
        bool empty;
        int erc = only_create_leftovers(&empty, dir);
        if (erc < 0)
            return erc;
        if (!empty)
            return pond_error_set(POND_EEXISTS, D,
                                  "'%s' is not empty: a new pond needs an empty directory", dir);
    } else {
        int rc = pond__mkdir(dir, false, D);
        if (rc < 0)
            return rc;
        if ((rc = pond__fsync_parent(dir, D)) < 0)
            return rc;
    }
    pond_node_id tid;
    char id[POND_NODE_ID_STRLEN + 1], td[32], tt[32], fv[8];
    int rc = pond_node_id_new(&tid);
    if (rc < 0)
        return rc;
    pond_node_id_format(id, &tid);
    snprintf(td, sizeof td, "%lld", (long long)opts->threshold_data);
    snprintf(tt, sizeof tt, "%lld", (long long)opts->threshold_table);
    snprintf(fv, sizeof fv, "%d", format);
    const char *pcols[] = {"part_id"};
    /* tombstones are not needed by pond (gc reads the commits, time travel replays them):
     * checkpoints carry only the live files */
    pond_delta_kv cfg[] = {{CFG_FORMAT, fv},
                           {CFG_T_DATA, td},
                           {CFG_T_TABLE, tt},
                           {"pond.tombstone_retention_ms", "0"}};
    pond_delta_metadata_desc md = {POND_DELTA_METADATA_DESC_VERSION,
                                   id,
                                   "pond",
                                   NULL,
                                   pond_oplog__schema_string(format),
                                   pcols,
                                   1,
                                   cfg,
                                   4,
                                   pond__now_us() / 1000};
    pond_delta_actions *a = NULL;
    if ((rc = pond_delta_actions_new(&a)) < 0)
        return rc;
    if ((rc = pond_delta_actions_protocol(a, 1, 2, NULL, 0, NULL, 0)) == 0 &&
        (rc = pond_delta_actions_metadata(a, &md)) == 0 &&
        (rc = pond_delta_actions_commit_info(a, pond__now_us() / 1000, "CREATE TABLE",
                                             "{\"mode\":\"ErrorIfExists\"}", opts->command_json)) ==
            0)
        rc = pond_delta_commit_write(dir, 0, a);
    pond_delta_actions_free(a);
    return rc;
}

int pond_oplog_lock(pond_backend *be, bool wait)
{
    oplog_be *ob;
    int rc = pond_oplog__of(&ob, be, "pond_oplog_lock");
    if (rc < 0)
        return rc;
    if (ob->lock_fd >= 0)
        return 0;
    char *path = pond__path_join(ob->dir, LOCK_NAME);
    if (!path)
        return POND_ENOMEM;
    int fd;
    rc = pond__open_lock_file(&fd, path, D);
    if (rc == 0) {
        int r;
        do {
            r = pond__os_flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            rc = errno == EWOULDBLOCK
                     ? pond_error_set(POND_EBUSY, D, "pond '%s' is locked by another writer",
                                      ob->dir)
                     : pond_error_set_os(D, "lock '%s'", path);
            pond__close(fd);
        } else {
            ob->lock_fd = fd;
        }
    }
    pond_free(path);
    /* every writer first finishes a push a power cut interrupted (docs/replication.md) */
    if (rc == 0 && (rc = pond_oplog_intent_finish(ob->dir)) < 0)
        pond_oplog_unlock(be);
    if (rc < 0)
        return rc;
    /* catch up with writers that committed since we read the log. Versions are contiguous
     * (a commit is only written after its predecessor exists), so the next version's file
     * tells whether anyone did, without listing a log of thousands of commits. */
    bool stale = ob->last_txn < 0;
    if (!stale) {
        char name[64];
        snprintf(name, sizeof name, "_delta_log/%020lld.json", (long long)(ob->last_txn + 1));
        char *next = pond__path_join(ob->dir, name);
        struct stat st;
        if (!next)
            rc = POND_ENOMEM;
        else if (pond__os_stat(next, &st) == 0)
            stale = true;
        else if (errno != ENOENT)
            rc = pond_error_set_os(D, "stat '%s'", next);
        pond_free(next);
    }
    if (rc == 0 && stale)
        rc = pond_oplog__load_index(ob, -1);
    if (rc < 0) {
        pond_oplog_unlock(be);
        return rc;
    }
    return 0;
}

/* ---- following other writers ------------------------------------------------------------ */

typedef struct {
    oplog_be *ob;
    int64_t version;
} refresh_ctx;

/* A removed data file (a merge or gc rewrote its partition): its rows go with it, and the
 * rows' file indexes shift, so a loaded partition is dropped and loads again when used. */
static int refresh_remove(const pond_delta_file *f, void *payload)
{
    refresh_ctx *c = payload;
    for (size_t i = 0; i < pond__idmap_slots(&c->ob->parts); i++) {
        ol_part *p = pond__idmap_at(&c->ob->parts, i, NULL);
        for (size_t k = 0; p && k < p->n_files; k++) {
            if (strcmp(p->files[k].path, f->decoded_path) != 0)
                continue;
            pond_free(p->files[k].path);
            memmove(&p->files[k], &p->files[k + 1], (p->n_files - k - 1) * sizeof *p->files);
            p->n_files--;
            pond_oplog__part_unload(p);
            return 0;
        }
    }
    return 0; /* a file the index never had: nothing of it is loaded */
}

/* An added data file: indexed; when its partition is loaded and the file is its newest (a
 * commit's own file always is), only its rows are read and appended, else the partition is
 * dropped and loads again when used. */
static int refresh_add(const pond_delta_file *f, void *payload)
{
    refresh_ctx *c = payload;
    index_ctx ictx = {c->ob, 0};
    int rc = index_file(f, &ictx);
    if (rc < 0)
        return rc;
    const char *pid = NULL;
    for (size_t i = 0; i < f->n_partition_values; i++)
        if (!strcmp(f->partition_values[i].key, "part_id"))
            pid = f->partition_values[i].value;
    pond_node_id id;
    ol_part *p = NULL;
    if (pond_node_id_parse(&id, pid) == 0)
        (void)part_get(&p, c->ob, &id, false);
    if (!p)
        return 0;
    /* files stay in transaction order whether or not the partition is loaded: a partial load
     * takes the last file for the newest (unload also drops the side file, whose indexes
     * move) */
    size_t last = p->n_files - 1;
    if (last > 0 && file_cmp(&p->files[last - 1], &p->files[last]) > 0) {
        qsort(p->files, p->n_files, sizeof *p->files, file_cmp);
        pond_oplog__part_unload(p);
        return 0;
    }
    if (!p->loaded && !p->partial)
        return 0;
    rc = load_file(c->ob, p, (int)last, NULL);
    if (rc == 0)
        rc = load_pending(c->ob, p, NULL, true, last, NULL, NULL, NULL);
    if (rc < 0)
        pond_oplog__part_unload(p); /* loads again, and says what is wrong, when used */
    return rc == POND_ENOMEM ? rc : 0;
}

int pond_oplog_refresh(int64_t *txn_out, pond_backend *be)
{
    oplog_be *ob;
    int rc = pond_oplog__of(&ob, be, "pond_oplog_refresh");
    if (rc < 0)
        return rc;
    /* versions are contiguous and a commit file appears whole (linked into place), so the
     * next version's file existing is exactly "someone committed" */
    while (ob->as_of < 0 && ob->last_txn >= 0) {
        refresh_ctx c = {ob, ob->last_txn + 1};
        bool meta = false;
        rc = pond_delta_commit_changes(&meta, ob->dir, c.version, refresh_add, refresh_remove, &c);
        if (rc == POND_ENOTFOUND) {
            rc = 0;
            break;
        }
        if (rc == 0 && meta) { /* a new format or settings: read the whole log again */
            rc = pond_oplog__load_index(ob, -1);
            break;
        }
        if (rc < 0) { /* the index may be half updated: rebuild it from the log */
            int again = pond_oplog__load_index(ob, -1);
            rc = again < 0 ? again : 0;
            break;
        }
        ob->last_txn = c.version;
    }
    if (txn_out)
        *txn_out = ob->last_txn;
    return rc;
}

void pond_oplog_unlock(pond_backend *be)
{
    oplog_be *ob;
    if (pond_oplog__of(&ob, be, "pond_oplog_unlock") < 0)
        return; /* nothing of another backend's to unlock */
    if (ob->lock_fd >= 0) {
        pond__close(ob->lock_fd); /* closing releases the flock */
        ob->lock_fd = -1;
    }
}

int64_t pond_oplog_threshold(const pond_backend *be, pond_entry_type type)
{
    oplog_be *ob;
    int rc = pond_oplog__of(&ob, be, "pond_oplog_threshold");
    return rc < 0 ? rc : threshold_for(ob, type);
}

const char *pond_oplog_dir(const pond_backend *be)
{
    oplog_be *ob;
    return pond_oplog__of(&ob, be, "pond_oplog_dir") < 0 ? NULL : ob->dir;
}

int pond_oplog_storage_of(pond_oplog_storage *out, pond_backend *be, const pond_node_id *id,
                          int64_t version)
{
    ol_node *n;
    oplog_be *ob;
    memset(out, 0, sizeof *out);
    int rc = pond_oplog__of(&ob, be, "pond_oplog_storage_of");
    if (rc == 0)
        rc = find_node_from(&n, NULL, ob, id, version);
    if (rc < 0)
        return rc;
    oplog_row *row = n ? node_version(n, version) : NULL;
    if (!row)
        return pond_node_not_found(D, id, version);
    out->in_store = row->in_store;
    if (row->in_store) {
        char hex[65];
        pond_hash_hex(hex, &row->rec->sha256);
        snprintf(out->blob_path, sizeof out->blob_path, "%s/%.2s/%s", OPLOG_STORE_NAME, hex, hex);
    }
    return 0;
}
