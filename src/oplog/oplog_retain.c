/* Retention: which node versions gc may drop, and the one commit that drops them.
 *
 * The rule (docs/format.md, "Retention"): retention never changes what a plain read of the
 * current pond returns. For a data file, a table, a symlink or a directory a version is a whole
 * state, so old versions may go; a series' state is the union of its versions, so a live series
 * keeps every version a compaction has not replaced (a replaced version's rows are in the
 * compacted version, which reads return in their place). A node no longer in the tree is history
 * only. --keep-versions N keeps each node's newest N versions; --keep-age D keeps every version
 * that was current at some moment of the last D.
 *
 * The commit rewrites only the data files that hold dropped rows (each into one file of the
 * same level, or none), so it is as small as retention can be: on a nearly full disk it is the
 * one thing gc has to write before it can free space. It records the oldest transaction whose
 * state is still complete, computed exactly: a dropped version that was live from transaction
 * s until e (superseded by the node's next version, or its node left the tree) makes the
 * states s..e-1 incomplete, so every state from the largest such e on reads as it did. */
#include "oplog/oplog_internal.h"

#include <pond/delta.h>

#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D POND_DOM_OPLOG

/* ---- the current tree ---------------------------------------------------------------------- */

static int build_paths(pond__idmap *paths, oplog_be *ob, const pond_node_id *dir, const char *path,
                       int depth, oplog_tree_problem_fn corrupt, void *payload)
{
    ol_node *n = NULL;
    int rc = pond_oplog__find_node(&n, NULL, ob, dir);
    if (rc < 0)
        return corrupt && rc != POND_ENOMEM ? 0 : rc; /* fsck has reported the partition */
    if (!n || !n->n || depth > 256)
        return 0; /* a directory without versions: fsck's check of homes reports it */
    const pond_node_rec *r = n->rows[n->n - 1].rec;
    for (size_t i = 0; i < r->n_entries && rc == 0; i++) {
        const pond_dir_entry *e = &r->entries[i];
        const char *first = pond__idmap_get(paths, &e->id);
        if (first && e->type != POND_ENTRY_DIRECTORY)
            continue; /* a file listed twice: its first path names it */
        char *child = pond__path_join(path, e->name);
        if (!child)
            return POND_ENOMEM;
        if (first) {
            /* walking it again would loop (a cycle) or grow exponentially (a directory listed
             * twice at every level) */
            char id[POND_NODE_ID_STRLEN + 1], msg[1536];
            pond_node_id_format(id, &e->id);
            if (!corrupt) {
                rc = pond_error_set(POND_ECORRUPT, D,
                                    "'%s' is directory %s, already reached as '%s': the "
                                    "directory tree is corrupt (pond fsck reports every damaged "
                                    "listing)",
                                    child, id, first);
            } else {
                snprintf(msg, sizeof msg,
                         "'%s' is directory %s, already reached as '%s': a directory listed "
                         "twice or inside itself (a cycle)",
                         child, id, first);
                corrupt(msg, payload);
            }
            pond_free(child);
            continue;
        }
        if ((rc = pond__idmap_put(paths, &e->id, child, NULL)) < 0) {
            pond_free(child);
            return rc;
        }
        if (e->type == POND_ENTRY_DIRECTORY)
            rc = build_paths(paths, ob, &e->id, child, depth + 1, corrupt, payload);
    }
    return rc;
}

int pond_oplog__tree_paths(pond__idmap *paths, oplog_be *ob, oplog_tree_problem_fn corrupt,
                           void *payload)
{
    pond_node_id root = pond_node_id_root();
    char *slash = pond_strdup("/");
    int rc;
    if (!slash || (rc = pond__idmap_put(paths, &root, slash, NULL)) < 0) {
        pond_free(slash);
        return POND_ENOMEM;
    }
    return build_paths(paths, ob, &root, "/", 0, corrupt, payload);
}

char pond_oplog__no_part;

static int build_homes(pond__idmap *homes, oplog_be *ob, const pond_node_id *dir, int depth,
                       bool tolerant)
{
    ol_node *n = NULL;
    int rc = pond_oplog__find_node(&n, NULL, ob, dir);
    if (rc < 0)
        return tolerant && rc != POND_ENOMEM ? 0 : rc; /* fsck has reported the partition */
    if (!n || !n->n || depth > 256)
        return 0;
    const pond_node_rec *r = n->rows[n->n - 1].rec;
    for (size_t i = 0; i < r->n_entries && rc == 0; i++) {
        const pond_dir_entry *e = &r->entries[i];
        if (pond__idmap_get(homes, &e->id))
            continue; /* listed twice (a damaged tree): the first listing counts */
        pond_node_id home = pond_dir_entry_home(r, e);
        void *hp = pond__idmap_get(&ob->parts, &home);
        if ((rc = pond__idmap_put(homes, &e->id, hp ? hp : OPLOG_NO_PART, NULL)) == 0 &&
            e->type == POND_ENTRY_DIRECTORY)
            rc = build_homes(homes, ob, &e->id, depth + 1, tolerant);
    }
    return rc;
}

int pond_oplog__tree_homes(pond__idmap *homes, oplog_be *ob, bool tolerant)
{
    pond_node_id root = pond_node_id_root();
    return build_homes(homes, ob, &root, 0, tolerant);
}

void pond_oplog__paths_dispose(pond__idmap *paths)
{
    for (size_t i = 0; i < pond__idmap_slots(paths); i++)
        pond_free(pond__idmap_at(paths, i, NULL));
    pond__idmap_dispose(paths);
}

/* ---- every version, and when each node left the tree ----------------------------------------- */

typedef struct {
    oplog_row *row; /* borrowed from its partition */
    ol_part *part;
} rrow;

typedef struct {
    const pond_node_rec *listing; /* a directory's listing as the replay stands */
    int64_t rm_txn, rm_ts;        /* when the node left the tree; -1: never (or unknown) */
} rnode;

typedef struct {
    pond_node_id *v;
    size_t n, cap;
} id_vec;

static int iv_push(id_vec *v, const pond_node_id *id)
{
    if (POND_GROW(v->v, v->n, v->cap) < 0)
        return POND_ENOMEM;
    v->v[v->n++] = *id;
    return 0;
}

static int id_cmp(const void *a, const void *b) { return memcmp(a, b, sizeof(pond_node_id)); }

static int rrow_id_version_cmp(const void *a, const void *b)
{
    const rrow *x = a, *y = b;
    int c = memcmp(&x->row->rec->id, &y->row->rec->id, sizeof(pond_node_id));
    if (c)
        return c;
    return x->row->rec->version < y->row->rec->version
               ? -1
               : x->row->rec->version > y->row->rec->version;
}

static int rrow_txn_cmp(const void *a, const void *b)
{
    const rrow *x = *(const rrow *const *)a, *y = *(const rrow *const *)b;
    if (x->row->rec->txn_seq != y->row->rec->txn_seq)
        return x->row->rec->txn_seq < y->row->rec->txn_seq ? -1 : 1;
    return memcmp(&x->row->rec->id, &y->row->rec->id, sizeof(pond_node_id));
}

/* The child ids of a listing, sorted (NULL listing: none). */
static int listing_ids(id_vec *out, const pond_node_rec *r)
{
    out->n = 0;
    for (size_t i = 0; r && i < r->n_entries; i++) {
        int rc = iv_push(out, &r->entries[i].id);
        if (rc < 0)
            return rc;
    }
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, id_cmp);
    return 0;
}

/* Marks x and everything below it (as the replay's listings stand) as gone at txn. */
static int mark_removed(pond__idmap *nodes, id_vec *stack, const pond_node_id *x, int64_t txn,
                        int64_t ts)
{
    stack->n = 0;
    int rc = iv_push(stack, x);
    while (rc == 0 && stack->n) {
        pond_node_id y = stack->v[--stack->n];
        rnode *info = pond__idmap_get(nodes, &y);
        if (!info || info->rm_txn >= 0)
            continue;
        info->rm_txn = txn;
        info->rm_ts = ts;
        for (size_t i = 0; info->listing && i < info->listing->n_entries && rc == 0; i++)
            rc = iv_push(stack, &info->listing->entries[i].id);
    }
    return rc;
}

/* Replays every directory version in transaction order: a child that leaves a listing in a
 * transaction that puts it in no other listing (a move does) left the tree then, with its
 * whole subtree. */
static int replay_removals(pond__idmap *nodes, rrow *rows, size_t n)
{
    rrow **dirs = NULL;
    size_t nd = 0;
    id_vec before = {0}, after = {0}, gone = {0}, came = {0}, stack = {0};
    int rc = 0;
    if (!(dirs = pond_malloc((n ? n : 1) * sizeof *dirs)))
        return POND_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (rows[i].row->rec->type == POND_ENTRY_DIRECTORY)
            dirs[nd++] = &rows[i];
    qsort(dirs, nd, sizeof *dirs, rrow_txn_cmp);
    for (size_t i = 0; i < nd && rc == 0;) {
        int64_t txn = dirs[i]->row->rec->txn_seq, ts = dirs[i]->row->rec->timestamp_us;
        gone.n = came.n = 0;
        for (; i < nd && dirs[i]->row->rec->txn_seq == txn && rc == 0; i++) {
            const pond_node_rec *r = dirs[i]->row->rec;
            rnode *info = pond__idmap_get(nodes, &r->id);
            if (!info)
                continue;
            if ((rc = listing_ids(&before, info->listing)) < 0 || (rc = listing_ids(&after, r)) < 0)
                break;
            info->listing = r;
            size_t a = 0, b = 0;
            while (rc == 0 && (a < before.n || b < after.n)) {
                int c = a == before.n ? 1 : b == after.n ? -1 : id_cmp(&before.v[a], &after.v[b]);
                if (c < 0)
                    rc = iv_push(&gone, &before.v[a++]);
                else if (c > 0)
                    rc = iv_push(&came, &after.v[b++]);
                else
                    a++, b++;
            }
        }
        if (came.n)
            qsort(came.v, came.n, sizeof *came.v, id_cmp);
        for (size_t k = 0; k < gone.n && rc == 0; k++)
            if (!came.n || !bsearch(&gone.v[k], came.v, came.n, sizeof *came.v, id_cmp))
                rc = mark_removed(nodes, &stack, &gone.v[k], txn, ts);
    }
    pond_free(dirs);
    pond_free(before.v);
    pond_free(after.v);
    pond_free(gone.v);
    pond_free(came.v);
    pond_free(stack.v);
    return rc;
}

/* ---- series compaction ----------------------------------------------------------------------- */

/* The versions lo..hi of a series that the compacted version `by` replaced. */
typedef struct {
    int64_t lo, hi;
    const pond_node_rec *by;
} replaced_range;

typedef struct {
    replaced_range *v;
    size_t n, cap;
} range_vec;

/* The row of version v among rows[a..b) (one node's rows, ascending by version), or NULL. */
static const pond_node_rec *version_row(const rrow *rows, size_t a, size_t b, int64_t v)
{
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        int64_t x = rows[mid].row->rec->version;
        if (x == v)
            return rows[mid].row->rec;
        if (x < v)
            a = mid + 1;
        else
            b = mid;
    }
    return NULL;
}

/* The ranges a live series' compactions replaced (docs/format.md, "The series index"): the
 * entries [C, lo, hi] of its newest version's pond.compactions whose compacted version C is
 * among its rows[a..b) with content. A version is replaced only while C exists: retention
 * drops C's range with C still there, never C. Anything unreadable replaces nothing, so the
 * versions stay. */
static int series_replaced(range_vec *out, const rrow *rows, size_t a, size_t b)
{
    out->n = 0;
    const char *x = rows[b - 1].row->rec->xattrs_json;
    if (!x || !strstr(x, "\"pond.compactions\""))
        return 0;
    json_t *j = pond__json_parse(x, strlen(x), 0, "pond.compactions", POND_DOM_OPLOG);
    json_t *cs = json_object_get(j, "pond.compactions");
    int rc = 0;
    for (size_t c = 0; c < json_array_size(cs) && rc == 0; c++) {
        json_t *e = json_array_get(cs, c);
        json_int_t by = json_integer_value(json_array_get(e, 0));
        json_int_t lo = json_integer_value(json_array_get(e, 1));
        json_int_t hi = json_integer_value(json_array_get(e, 2));
        const pond_node_rec *r =
            lo >= 1 && hi >= lo && by > hi ? version_row(rows, a, b, by) : NULL;
        if (!r || r->size <= 0)
            continue;
        if (POND_GROW(out->v, out->n, out->cap) < 0) {
            rc = POND_ENOMEM;
            break;
        }
        out->v[out->n++] = (replaced_range){lo, hi, r};
    }
    json_decref(j);
    return rc;
}

/* The compacted version that replaced version v, or NULL. */
static const pond_node_rec *replaced_by(const range_vec *rv, int64_t v)
{
    for (size_t i = 0; i < rv->n; i++)
        if (v >= rv->v[i].lo && v <= rv->v[i].hi)
            return rv->v[i].by;
    return NULL;
}

/* ---- the commit ------------------------------------------------------------------------------ */

static int row_txn_cmp(const void *a, const void *b)
{
    const oplog_row *x = a, *y = b;
    if (x->rec->txn_seq != y->rec->txn_seq)
        return x->rec->txn_seq < y->rec->txn_seq ? -1 : 1;
    return memcmp(&x->rec->id, &y->rec->id, sizeof x->rec->id);
}

typedef struct {
    commit_part *v;
    size_t n, cap;
} cp_vec;

static int cp_push(commit_part **out, cp_vec *v)
{
    if (POND_GROW(v->v, v->n, v->cap) < 0)
        return POND_ENOMEM;
    *out = &v->v[v->n++];
    memset(*out, 0, sizeof **out);
    return 0;
}

static int cp_add_row(commit_part *cp, const oplog_row *row)
{
    if (POND_GROW(cp->rows, cp->n, cp->cap) < 0)
        return POND_ENOMEM;
    cp->rows[cp->n] = *row;
    cp->rows[cp->n++].rec = pond_node_rec_ref(row->rec);
    return 0;
}

/* The table's configuration with the two retention keys and the pond format set (strings in
 * *cfg_out point into the table and into num, which must outlive the use). */
static int retention_config(pond_delta_kv **cfg_out, size_t *n_out, const pond_delta_metadata *md,
                            char num[3][24], int64_t oldest, int64_t at, int format)
{
    pond_delta_kv *cfg = pond_malloc((md->n_configuration + 3) * sizeof *cfg);
    if (!cfg)
        return POND_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < md->n_configuration; i++)
        if (strcmp(md->configuration[i].key, OPLOG_CFG_OLDEST_COMPLETE) != 0 &&
            strcmp(md->configuration[i].key, OPLOG_CFG_DROPPED_AT) != 0 &&
            strcmp(md->configuration[i].key, OPLOG_CFG_FORMAT) != 0)
            cfg[n++] = md->configuration[i];
    snprintf(num[0], 24, "%lld", (long long)oldest);
    snprintf(num[1], 24, "%lld", (long long)at);
    snprintf(num[2], 24, "%d", format);
    cfg[n++] = (pond_delta_kv){OPLOG_CFG_FORMAT, num[2]};
    cfg[n++] = (pond_delta_kv){OPLOG_CFG_OLDEST_COMPLETE, num[0]};
    cfg[n++] = (pond_delta_kv){OPLOG_CFG_DROPPED_AT, num[1]};
    *cfg_out = cfg;
    *n_out = n;
    return 0;
}

/* Writes the rewritten files and the commit: add the new files, remove the old ones, the
 * metaData with the retention keys. The keys are format 2 (docs/format.md, "Retention"): in a
 * format-1 pond this commit is the upgrade, so its metaData says format 2 with the format-2
 * schemaString and its files are written in format 2, as the first move across directories
 * would do. */
static int retention_commit(oplog_be *ob, cp_vec *cps, oplog_strs *removed, int64_t version,
                            int64_t oldest, const pond_gc_options *opts)
{
    pond_delta_table *t = NULL;
    pond_delta_actions *acts = NULL;
    pond_delta_kv *cfg = NULL;
    pond_buf stats = POND_BUF_INIT, extra = POND_BUF_INIT;
    int64_t now = pond__now_us();
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    int rc = pond_delta_table_open(&t, ob->dir, &o);
    if (rc == 0 && pond_delta_table_version(t) != version - 1)
        rc = pond_error_set(POND_ECONFLICT, D, "pond '%s' changed during gc", ob->dir);
    if (rc == 0)
        rc = pond_delta_actions_new(&acts);
    int format = pond_oplog__commit_format(ob, NULL, 0, true);
    for (size_t k = 0; k < cps->n && rc == 0; k++) {
        commit_part *cp = &cps->v[k];
        cp->format = format;
        qsort(cp->rows, cp->n, sizeof *cp->rows, row_txn_cmp);
        if ((rc = pond_oplog__write_part_file(ob, cp, cp->rows[cp->n - 1].rec->txn_seq, true)) < 0)
            break;
        rc = pond_oplog__add_part_file(acts, cp, now / 1000, true, &stats);
    }
    for (size_t i = 0; i < removed->n && rc == 0; i++)
        rc = pond_oplog__remove_part_file(acts, removed->v[i], now / 1000, true);
    if (rc == 0) {
        const pond_delta_metadata *md = pond_delta_table_metadata(t);
        char num[3][24];
        size_t ncfg;
        if ((rc = retention_config(&cfg, &ncfg, md, num, oldest, version, format)) == 0) {
            pond_delta_metadata_desc m = {POND_DELTA_METADATA_DESC_VERSION,
                                          md->id,
                                          md->name,
                                          md->description,
                                          format == ob->format ? md->schema_string
                                                               : pond_oplog__schema_string(format),
                                          md->partition_columns,
                                          md->n_partition_columns,
                                          cfg,
                                          ncfg,
                                          md->created_time};
            rc = pond_delta_actions_metadata(acts, &m);
        }
    }
    if (rc == 0)
        rc = pond_buf_printf(&extra, "{\"pondTxnSeq\":%lld%s%s}", (long long)version,
                             opts->command_json ? ",\"pondMeta\":" : "",
                             opts->command_json ? opts->command_json : "");
    if (rc == 0)
        rc = pond_delta_actions_commit_info(acts, now / 1000, "DELETE", NULL, extra.ptr);
    if (rc == 0)
        rc = pond_delta_commit_write(ob->dir, version, acts);
    if (rc < 0) {
        for (size_t k = 0; k < cps->n; k++) {
            if (!cps->v[k].written || !cps->v[k].path)
                continue;
            char *pth = pond__path_join(ob->dir, cps->v[k].path); /* never committed: ours */
            if (pth)
                (void)pond__os_unlink(pth);
            pond_free(pth);
        }
    }
    pond_free(cfg);
    pond_buf_dispose(&stats);
    pond_buf_dispose(&extra);
    pond_delta_actions_free(acts);
    pond_delta_table_free(t);
    return rc;
}

/* ---- the policy -------------------------------------------------------------------------------- */

int pond_oplog__retain(pond_gc_report *out, oplog_be *ob, const pond_gc_options *opts)
{
    bool by_versions = opts->keep_versions > 0, by_age = opts->keep_age_us >= 0;
    if (!by_versions && !by_age)
        return 0;
    int rc = 0;
    /* every version of every node, with every directory listing: the replay needs them all */
    FOREACH_PART(ob, p)
    if (rc == 0 && (rc = pond_oplog__part_load(ob, p)) == 0 &&
        (rc = pond_oplog__part_load_all_entries(ob, p)) == 0)
        rc = pond_oplog__part_load_content_from(ob, p, 0, false, NULL, NULL);
    if (rc < 0)
        return rc;
    pond__idmap live = {0}, nodes = {0}, homes = {0};
    rrow *rows = NULL;
    rnode *info = NULL;
    cp_vec cps = {0};
    oplog_strs removed = {0};
    range_vec ranges = {0};
    size_t n = 0, cap = 0, n_nodes = 0;
    if ((rc = pond_oplog__tree_paths(&live, ob, NULL, NULL)) < 0 ||
        (rc = pond_oplog__tree_homes(&homes, ob, false)) < 0)
        goto done;
    FOREACH_PART(ob, p)
    FOREACH_NODE(p, nd)
    for (size_t i = 0; i < nd->n && rc == 0; i++) {
        if (POND_GROW(rows, n, cap) < 0) {
            rc = POND_ENOMEM;
            break;
        }
        rows[n++] = (rrow){&nd->rows[i], p};
    }
    if (rc < 0)
        goto done;
    if (n)
        qsort(rows, n, sizeof *rows, rrow_id_version_cmp);
    for (size_t i = 0; i < n; i++)
        n_nodes += i == 0 || memcmp(&rows[i].row->rec->id, &rows[i - 1].row->rec->id,
                                    sizeof(pond_node_id)) != 0;
    if (!(info = pond_calloc(n_nodes ? n_nodes : 1, sizeof *info))) {
        rc = POND_ENOMEM;
        goto done;
    }
    for (size_t i = 0, k = 0; i < n && rc == 0; i++) {
        if (i && !memcmp(&rows[i].row->rec->id, &rows[i - 1].row->rec->id, sizeof(pond_node_id)))
            continue;
        info[k].rm_txn = info[k].rm_ts = -1;
        rc = pond__idmap_put(&nodes, &rows[i].row->rec->id, &info[k++], NULL);
    }
    if (rc < 0 || (rc = replay_removals(&nodes, rows, n)) < 0)
        goto done;
    /* the decisions, and the oldest complete transaction they leave */
    int64_t now = pond__now_us(), cutoff = now - (by_age ? opts->keep_age_us : 0);
    int64_t version = ob->last_txn + 1;
    int64_t oldest = ob->oldest_complete, dropped = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && !memcmp(&rows[b].row->rec->id, &rows[a].row->rec->id, sizeof(pond_node_id)))
            b++;
        const pond_node_rec *newest = rows[b - 1].row->rec;
        bool is_live = pond__idmap_get(&live, &newest->id) != NULL;
        bool series = newest->type == POND_ENTRY_FILE_SERIES;
        const rnode *ni = pond__idmap_get(&nodes, &newest->id);
        /* a live node's versions outside the partition its listing names (a format-1 move
         * stranded them): never read, never deleted (docs/format.md, "Format 2") */
        const ol_part *home = is_live ? pond__idmap_get(&homes, &newest->id) : NULL;
        if (is_live && series && (rc = series_replaced(&ranges, rows, a, b)) < 0)
            goto done;
        for (size_t i = a; i < b; i++) {
            oplog_row *row = rows[i].row;
            row->gc_drop = false;
            bool last = i + 1 == b;
            /* the current state: a live node's newest version, and every version of a live
             * series that no compaction replaced (its state is the union of its versions) */
            const pond_node_rec *by =
                is_live && series && !last ? replaced_by(&ranges, row->rec->version) : NULL;
            if (is_live && (last || (series && !by)))
                continue;
            if (home && (const void *)home != (const void *)rows[i].part)
                continue;
            int64_t end_txn = -1, end_ts = -1;
            if (by) { /* part of the current state until the compaction replaced it */
                end_txn = by->txn_seq;
                end_ts = by->timestamp_us;
            } else if (!last) {
                end_txn = rows[i + 1].row->rec->txn_seq;
                end_ts = rows[i + 1].row->rec->timestamp_us;
            } else if (ni && ni->rm_txn >= 0) {
                end_txn = ni->rm_txn;
                end_ts = ni->rm_ts;
            }
            bool drop = false;
            if (by_versions)
                drop = !is_live || (int64_t)(b - 1 - i) >= opts->keep_versions;
            /* by age: a version goes when it stopped being current before the cutoff (a
             * removed node whose removal the log no longer shows stays) */
            if (by_age && end_txn >= 0 && end_ts < cutoff)
                drop = true;
            if (!drop)
                continue;
            row->gc_drop = true;
            dropped++;
            /* a removal the replay could not place: nothing older than this gc is complete */
            int64_t end = end_txn >= 0 ? end_txn : version;
            if (end > oldest)
                oldest = end;
        }
        a = b;
    }
    out->versions_dropped = dropped;
    if (dropped == 0)
        goto done;
    /* the rewrite: each data file holding a dropped row becomes one file of its kept rows */
    FOREACH_PART(ob, p)
    {
        if (rc < 0)
            break;
        bool touched = false;
        for (size_t f = 0; f < p->n_files && rc == 0; f++) {
            bool dirty = false;
            FOREACH_NODE(p, nd)
            for (size_t i = 0; i < nd->n; i++)
                dirty |= nd->rows[i].file_idx == (int)f && nd->rows[i].gc_drop;
            if (!dirty)
                continue;
            touched = true;
            if ((rc = pond_oplog__strs_add(&removed, p->files[f].path)) < 0)
                break;
            commit_part *cp = NULL;
            if ((rc = cp_push(&cp, &cps)) < 0)
                break;
            cp->part = p->id;
            cp->level = p->files[f].level;
            FOREACH_NODE(p, nd)
            for (size_t i = 0; i < nd->n && rc == 0; i++)
                if (nd->rows[i].file_idx == (int)f && !nd->rows[i].gc_drop)
                    rc = cp_add_row(cp, &nd->rows[i]);
            if (rc == 0 && cp->n == 0) { /* every row of the file goes: no new file */
                cps.n--;
                pond_free(cp->rows);
            }
        }
        out->partitions_rewritten += touched;
    }
    if (rc == 0)
        rc = retention_commit(ob, &cps, &removed, version, oldest, opts);
    if (rc == 0) {
        out->commit_version = version;
        out->oldest_complete = oldest;
        /* rows are read again lazily from the new files */
        rc = pond_oplog__load_index(ob, -1);
    }
done:
    for (size_t k = 0; k < cps.n; k++) {
        for (size_t i = 0; i < cps.v[k].n; i++)
            pond_oplog__row_dispose(&cps.v[k].rows[i]);
        pond_free(cps.v[k].rows);
        pond_free(cps.v[k].path);
    }
    pond_free(cps.v);
    pond_oplog__strs_dispose(&removed);
    pond_free(ranges.v);
    pond_free(rows);
    pond_free(info);
    pond__idmap_dispose(&nodes);
    pond__idmap_dispose(&homes);
    pond_oplog__paths_dispose(&live);
    return rc;
}
