/* Snapshot construction: checkpoint choice (falling back past one that cannot be read), JSON
 * commit replay line by line, final validation; and checks of single log files (fsck). */
#include "delta/delta_table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reader features this reader implements at the log level. Data-level features are the data
 * reader's business: deletion vectors are exposed as descriptors, column mapping as physical
 * names, timestampNtz is a type name. Everything else is refused by name. */
static const char *const g_reader_features[] = {"columnMapping",       "deletionVectors",
                                                "timestampNtz",        "v2Checkpoint",
                                                "vacuumProtocolCheck", NULL};

const char *const *pond_delta_supported_reader_features(void) { return g_reader_features; }

/* ------------------------------------------------------------------ file map */

/* Its own map, not pond__strmap: a slot is one index into files (whose paths are the keys),
 * so a commit of a million adds stays within the snapshot's memory bound (docs/delta.md). */
static uint64_t hash_str(const char *s) { return pond__hash_bytes(s, strlen(s)); }

static delta_file_entry *map_find(const pond_delta_table *t, const char *decoded)
{
    if (!t->n_slots)
        return NULL;
    size_t mask = t->n_slots - 1;
    for (size_t i = hash_str(decoded) & mask;; i = (i + 1) & mask) {
        size_t s = t->slots[i];
        if (!s)
            return NULL;
        if (!strcmp(t->files[s - 1].pub.decoded_path, decoded))
            return &t->files[s - 1];
    }
}

static int map_grow(pond_delta_table *t)
{
    size_t ns = t->n_slots ? t->n_slots * 2 : 256, bytes;
    if (pond_mul_overflow(&bytes, ns, sizeof(size_t)))
        return pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "file map too large");
    size_t *slots = pond_calloc(ns, sizeof(size_t));
    if (!slots)
        return POND_ENOMEM;
    for (size_t f = 0; f < t->n_files; f++) {
        size_t i = hash_str(t->files[f].pub.decoded_path) & (ns - 1);
        while (slots[i])
            i = (i + 1) & (ns - 1);
        slots[i] = f + 1;
    }
    pond_free(t->slots);
    t->slots = slots;
    t->n_slots = ns;
    return 0;
}

/* A new entry for a path not in the map; its strings are already in the arena. */
static int map_insert(delta_file_entry **out, pond_delta_table *t, const char *decoded)
{
    int rc;
    if ((t->n_files + 1) * 2 > t->n_slots && (rc = map_grow(t)) < 0)
        return rc;
    if (t->n_files == t->cap_files) {
        size_t nc = t->cap_files ? t->cap_files + t->cap_files / 2 : 64, bytes;
        if (pond_mul_overflow(&bytes, nc, sizeof *t->files))
            return pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "file table too large");
        delta_file_entry *nf = pond_realloc(t->files, bytes);
        if (!nf)
            return POND_ENOMEM;
        t->files = nf;
        t->cap_files = nc;
    }
    delta_file_entry *e = &t->files[t->n_files];
    memset(e, 0, sizeof *e);
    e->pub.decoded_path = decoded;
    e->added_in = -1;
    e->removed_in = -1;
    size_t mask = t->n_slots - 1;
    size_t i = hash_str(decoded) & mask;
    while (t->slots[i])
        i = (i + 1) & mask;
    t->slots[i] = ++t->n_files;
    *out = e;
    return 0;
}

/* ------------------------------------------------------------------ actions -> state */

typedef struct {
    pond_delta_table *t;
    int64_t version;
    bool checkpoint;
    const char *where; /* "version N" or "checkpoint N" */
} apply_ctx;

static int oom(void) { return pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "out of memory"); }

static const char *adup(pond_delta_table *t, const char *s)
{
    return s ? pond__arena_strdup(&t->arena, s) : NULL;
}

/* A new entry for the decoded path dec, copied into the table's arena. */
static int entry_new(delta_file_entry **out, pond_delta_table *t, const char *dec)
{
    const char *d = adup(t, dec);
    return d ? map_insert(out, t, d) : oom();
}

/* Map keys repeat for every file ("part_id", "pond.sha256"): one copy each. */
static const char *intern_key(pond_delta_table *t, const char *k)
{
    for (size_t i = 0; i < POND_ARRAY_LEN(t->keys) && t->keys[i]; i++)
        if (!strcmp(t->keys[i], k))
            return t->keys[i];
    const char *d = adup(t, k);
    if (d) {
        memmove(t->keys + 1, t->keys, sizeof t->keys - sizeof t->keys[0]);
        t->keys[0] = d;
    }
    return d;
}

/* The kv pairs are copied into the arena: keys interned, values (NULL for a JSON null) copied. */
static int copy_kv(const pond_delta_kv **out, size_t *n_out, pond_delta_table *t,
                   const pond_delta_kv *src, size_t n)
{
    *out = NULL;
    *n_out = 0;
    if (!n)
        return 0;
    pond_delta_kv *kv = pond__arena_alloc(&t->arena, n * sizeof *kv, 16);
    if (!kv)
        return oom();
    for (size_t i = 0; i < n; i++) {
        kv[i].key = intern_key(t, src[i].key);
        kv[i].value = adup(t, src[i].value);
        if (!kv[i].key || (src[i].value && !kv[i].value))
            return oom();
    }
    *out = kv;
    *n_out = n;
    return 0;
}

/* The descriptor kept in the arena and the key of the (path, deletion vector) pair: storage
 * type, path or inline data, "@offset". */
static int keep_dv(pond_delta_dv *dv, const char **key_out, pond_delta_table *t,
                   const pond_delta_dv *src)
{
    *dv = *src;
    dv->path_or_inline = adup(t, src->path_or_inline);
    if (!dv->path_or_inline)
        return oom();
    char off[32] = "";
    if (dv->offset >= 0)
        snprintf(off, sizeof off, "@%" PRId64, dv->offset);
    size_t len = 1 + strlen(dv->path_or_inline) + strlen(off) + 1;
    char *key = pond__arena_alloc(&t->arena, len, 16);
    if (!key)
        return oom();
    snprintf(key, len, "%c%s%s", dv->storage_type, dv->path_or_inline, off);
    *key_out = key;
    return 0;
}

static int decode_path(char **out, const char *logged, const char *where)
{
    int rc = pond_delta_path_decode(out, logged);
    if (rc < 0)
        pond_error_prefix("%s", where);
    return rc;
}

/* A table whose configuration drops tombstones at once (pond's own: retention 0) has no use for
 * a remove of a path that is not live: checkpoints would not carry it. Keeping such tombstones
 * made a big gc commit cost ~300 bytes per removed file. */
static bool keeps_tombstones(const pond_delta_table *t)
{
    const char *ret = json_string_value(json_object_get(
        json_object_get(t->metadata_json, "configuration"), "pond.tombstone_retention_ms"));
    return !ret || strcmp(ret, "0") != 0;
}

static int apply_remove(apply_ctx *c, const delta_file_action *r)
{
    pond_delta_table *t = c->t;
    char *dec = NULL;
    int rc = decode_path(&dec, r->path, c->where);
    if (rc < 0)
        return rc;
    pond_delta_dv dv = {0};
    const char *dv_key = "";
    delta_file_entry *e = map_find(t, dec);
    if (r->dv && (rc = keep_dv(&dv, &dv_key, t, r->dv)) < 0)
        goto done;
    if (!e && !keeps_tombstones(t))
        goto done; /* nothing to retire, and no checkpoint would carry the tombstone */
    if (!e) {
        if ((rc = entry_new(&e, t, dec)) < 0)
            goto done;
        const char *d = e->pub.decoded_path;
        e->pub.path = strcmp(r->path, d) ? adup(t, r->path) : d;
        e->dv_key = dv_key;
        if (!e->pub.path) {
            rc = oom();
            goto done;
        }
    } else if (e->live && !strcmp(e->dv_key, dv_key)) {
        e->live = false;
        t->n_live--;
    }
    /* a remove of another (path, deletion vector) pair leaves the live file alone */
    e->removed_in = c->version;
    e->deletion_timestamp = r->deletion_timestamp;
done:
    pond_free(dec);
    return rc;
}

static int apply_add(apply_ctx *c, const delta_file_action *a)
{
    pond_delta_table *t = c->t;
    const char *logged = a->path;
    char *dec = NULL;
    int rc = decode_path(&dec, logged, c->where);
    if (rc < 0)
        return rc;
    pond_delta_dv dv = {0};
    const char *dv_key = "";
    if (a->dv && (rc = keep_dv(&dv, &dv_key, t, a->dv)) < 0)
        goto done;
    delta_file_entry *e = map_find(t, dec);
    if (e && e->live) {
        if (c->checkpoint) {
            rc =
                pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                               "%s: duplicated live path '%s' in the checkpoint", c->where, logged);
            goto done;
        }
        if (e->added_in == c->version && !strcmp(e->dv_key, dv_key)) {
            rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                "%s: path '%s' appears in more than one add action", c->where,
                                logged);
            goto done;
        }
        if (strcmp(e->dv_key, dv_key) != 0) {
            rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                "%s: duplicated live path '%s' (added again with a different "
                                "deletion vector while the previous one is still live)",
                                c->where, logged);
            goto done;
        }
        /* the same logical file added again (e.g. recomputed stats): the later add wins */
    }
    if (!e && (rc = entry_new(&e, t, dec)) < 0)
        goto done;
    pond_delta_file *f = &e->pub;
    /* most logged paths need no decoding: share the string */
    f->path = strcmp(logged, dec) ? adup(t, logged) : e->pub.decoded_path;
    f->size = a->size;
    f->modification_time = a->modification_time;
    f->data_change = a->data_change;
    f->stats = t->skip_stats ? NULL : adup(t, a->stats);
    f->version = c->version;
    if (!f->path || (!t->skip_stats && a->stats && !f->stats)) {
        rc = oom();
        goto done;
    }
    if ((rc = copy_kv(&f->partition_values, &f->n_partition_values, t, a->partition_values,
                      a->n_partition_values)) < 0 ||
        (rc = copy_kv(&f->tags, &f->n_tags, t, a->tags, a->n_tags)) < 0)
        goto done;
    e->dv_key = dv_key;
    f->deletion_vector = NULL;
    if (*dv_key) {
        /* in the arena: the entries array moves when it grows, the arena never does */
        pond_delta_dv *stable = pond__arena_alloc(&t->arena, sizeof *stable, 16);
        if (!stable) {
            rc = oom();
            goto done;
        }
        *stable = dv;
        f->deletion_vector = stable;
    }
    if (!e->live)
        t->n_live++;
    e->live = true;
    e->added_in = c->version;
done:
    pond_free(dec);
    return rc;
}

/* A checked JSON add or remove, applied. */
static int apply_file_json(apply_ctx *c, const json_t *body, bool add)
{
    delta_file_action fa;
    pond_delta_kv *kv;
    pond_delta_dv dv;
    int rc = pond_delta__file_action_from_json(&fa, &kv, &dv, body);
    if (rc == 0)
        rc = add ? apply_add(c, &fa) : apply_remove(c, &fa);
    pond_free(kv);
    return rc;
}

static int apply_txn(apply_ctx *c, const json_t *x)
{
    pond_delta_table *t = c->t;
    const char *app = json_string_value(json_object_get(x, "appId"));
    int64_t v;
    if (!app || !pond__json_int(&v, x, "version"))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: txn without appId/version",
                              c->where);
    for (size_t i = 0; i < t->n_txns; i++) {
        if (!strcmp(t->txns[i].app_id, app)) {
            t->txns[i].version = v;
            return 0;
        }
    }
    if (POND_GROW(t->txns, t->n_txns, t->cap_txns) < 0)
        return POND_ENOMEM;
    if (!(t->txns[t->n_txns].app_id = adup(t, app)))
        return oom();
    t->txns[t->n_txns++].version = v;
    return 0;
}

static void set_json(json_t **slot, json_t *v)
{
    json_incref(v);
    json_decref(*slot);
    *slot = v;
}

/* Lines of one commit whose actions wait for the second pass (adds and txns), one bit each. */
typedef struct {
    uint8_t *bits;
    size_t cap; /* bytes */
} line_bits;

static int bits_set(line_bits *b, int64_t line)
{
    size_t byte = (size_t)line / 8;
    if (byte >= b->cap) {
        size_t nc = b->cap ? b->cap : 64;
        while (nc <= byte)
            nc *= 2;
        uint8_t *nb = pond_realloc(b->bits, nc);
        if (!nb)
            return oom();
        memset(nb + b->cap, 0, nc - b->cap);
        b->bits = nb;
        b->cap = nc;
    }
    b->bits[byte] |= (uint8_t)(1u << (line % 8));
    return 0;
}

static bool bits_get(const line_bits *b, int64_t line)
{
    size_t byte = (size_t)line / 8;
    return byte < b->cap && (b->bits[byte] >> (line % 8) & 1u);
}

/* The next non-blank line, trailing whitespace trimmed; POND_ITEROVER at the end. */
static int next_action_line(pond__lines *lines, const char **s, size_t *n)
{
    int rc;
    while ((rc = pond__lines_next(lines, s, n)) == 0) {
        while (*n && ((*s)[*n - 1] == '\r' || (*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
            (*n)--;
        if (*n)
            return 0; /* blank lines carry nothing */
    }
    return rc;
}

/* Parses the action on the current line of a commit; errors name "<where> line <n>". */
static int parse_line(json_t **root, delta_action_kind *k, json_t **body, const pond__lines *lines,
                      const char *s, size_t n, const char *where)
{
    char w[128];
    snprintf(w, sizeof w, "%s line %lld", where, (long long)lines->lineno);
    return pond_delta__action_parse(root, k, body, s, n, w);
}

/* Applies one JSON commit, read line by line so that only one action is ever parsed at a time
 * (a commit can be hundreds of MB; a parsed tree is ~36x its text). The order of application
 * is that of the protocol: protocol and metaData (at most one each), removes, then adds and
 * txns (a commit may replace a file's deletion vector with remove + add of the same path). So
 * the commit is read twice: the first pass parses, checks and applies everything but adds and
 * txns, whose lines it only marks (recognised by their first key, without parsing); the second
 * pass parses and applies those. Each action is parsed once. */
static int apply_commit(pond_delta_table *t, pond__lines *lines, int64_t version)
{
    char where[64];
    snprintf(where, sizeof where, "version %" PRId64, version);
    apply_ctx c = {t, version, false, where};
    line_bits later = {NULL, 0};
    int n_proto = 0, n_meta = 0, rc;
    int64_t n_actions = 0;
    const char *s;
    size_t n;
    while ((rc = next_action_line(lines, &s, &n)) == 0) {
        n_actions++;
        const char *key = pond_delta__action_sniff(s, n);
        if (key && (!strcmp(key, "add") || !strcmp(key, "txn"))) {
            if ((rc = bits_set(&later, lines->lineno)) < 0)
                break;
            continue;
        }
        json_t *root, *body;
        delta_action_kind k;
        if ((rc = parse_line(&root, &k, &body, lines, s, n, where)) < 0)
            break;
        switch (k) {
        case DELTA_ACT_REMOVE:
            if ((rc = pond_delta__check_remove(body, where)) == 0)
                rc = apply_file_json(&c, body, false);
            break;
        case DELTA_ACT_PROTOCOL:
            if ((rc = pond_delta__check_protocol(body, where)) == 0) {
                n_proto++;
                set_json(&t->protocol_json, body);
            }
            break;
        case DELTA_ACT_METADATA:
            if ((rc = pond_delta__check_metadata(body, where)) == 0) {
                n_meta++;
                set_json(&t->metadata_json, body);
            }
            break;
        case DELTA_ACT_ADD:
        case DELTA_ACT_TXN:
            rc = bits_set(&later, lines->lineno);
            break;
        default:
            break;
        }
        json_decref(root);
        if (rc < 0)
            break;
    }
    if (rc == POND_ITEROVER)
        rc = 0;
    if (rc == 0 && n_actions == 0)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: empty commit file", where);
    else if (rc == 0 && n_proto > 1)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: more than one protocol action",
                            where);
    else if (rc == 0 && n_meta > 1)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: more than one metaData action",
                            where);
    else if (rc == 0 && version == 0 && !n_proto)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "version 0 has no protocol action");
    else if (rc == 0 && version == 0 && !n_meta)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "version 0 has no metaData action");
    if (rc == 0 && later.cap) {
        pond__lines_rewind(lines);
        while ((rc = next_action_line(lines, &s, &n)) == 0) {
            if (!bits_get(&later, lines->lineno))
                continue;
            json_t *root, *body;
            delta_action_kind k;
            if ((rc = parse_line(&root, &k, &body, lines, s, n, where)) < 0)
                break;
            if (k == DELTA_ACT_ADD && (rc = pond_delta__check_add(body, where)) == 0)
                rc = apply_file_json(&c, body, true);
            else if (k == DELTA_ACT_TXN)
                rc = apply_txn(&c, body);
            json_decref(root);
            if (rc < 0)
                break;
        }
        if (rc == POND_ITEROVER)
            rc = 0;
    }
    pond_free(later.bits);
    return rc;
}

/* A commit (or JSON checkpoint) file, read line by line within the limits. */
static int open_commit_lines(pond__lines *lines, const char *path)
{
    int rc = pond__lines_open(lines, path, DELTA_MAX_LINE_BYTES, POND_DOM_DELTA);
    int64_t size;
    if (rc == 0 && (rc = pond__file_size(&size, lines->fd, path, POND_DOM_DELTA)) == 0 &&
        size > (int64_t)DELTA_MAX_COMMIT_BYTES)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "'%s' is %lld bytes, over the %u-byte limit for one commit", path,
                            (long long)size, DELTA_MAX_COMMIT_BYTES);
    return rc;
}

/* One commit given as text (fuzzing, tests). */
static int apply_text(pond_delta_table *t, const char *text, size_t len, int64_t version)
{
    pond__lines lines;
    pond__lines_mem(&lines, text, len, "commit", DELTA_MAX_LINE_BYTES, POND_DOM_DELTA);
    int rc = apply_commit(t, &lines, version);
    pond__lines_close(&lines);
    return rc;
}

/* ------------------------------------------------------------------ checkpoints */

typedef struct {
    int64_t version;
    const char *kind;
    const delta_log_entry *first; /* first file (parts in order follow it in the sorted listing) */
    uint32_t parts;
} cp_choice;

typedef struct {
    int64_t version;   /* -1 when absent/unusable */
    int64_t parts;     /* -1 when absent */
    char v2_path[256]; /* v2Checkpoint.path, "" when absent */
} last_cp_hint;

static void warn(pond_delta_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* _last_checkpoint is a hint only: a missing, empty, stale or corrupt one is ignored and the
 * listing decides. */
static int read_last_checkpoint(last_cp_hint *h, pond_delta_table *t, const char *log_dir)
{
    h->version = -1;
    h->parts = -1;
    h->v2_path[0] = '\0';
    char *p = pond__path_join(log_dir, "_last_checkpoint");
    if (!p)
        return POND_ENOMEM;
    pond_buf b = POND_BUF_INIT;
    json_t *j = NULL;
    int rc = pond__read_file(&b, p, DELTA_MAX_LAST_CHECKPOINT_BYTES, POND_DOM_DELTA);
    if (rc < 0 || !b.size)
        goto done;
    j = pond__json_parse(b.ptr, b.size, 0, "_last_checkpoint", POND_DOM_DELTA);
    int64_t v;
    if (!j) {
        rc = pond_error_last()->code;
        goto done;
    }
    if (!pond__json_int(&v, j, "version") || v < 0)
        goto done;
    h->version = v;
    if (pond__json_int(&v, j, "parts") && v > 0)
        h->parts = v;
    const char *v2 = json_string_value(json_object_get(json_object_get(j, "v2Checkpoint"), "path"));
    if (v2 && strlen(v2) < sizeof h->v2_path)
        strcpy(h->v2_path, v2);
done:;
    bool empty = rc == 0 && !b.size;
    json_decref(j);
    pond_buf_dispose(&b);
    /* only running out of memory is an error; any other problem just means "no hint", but a
     * file pond wrote that no longer parses is worth a word (a missing one is normal) */
    if (rc == POND_ENOMEM) {
        pond_free(p);
        return rc;
    }
    struct stat st;
    if ((rc < 0 || empty) && pond__os_lstat(p, &st) == 0)
        warn(t,
             "_delta_log/_last_checkpoint cannot be read (%s) and was ignored (it is only a "
             "hint)",
             rc < 0 ? pond_error_last()->message : "it is empty");
    pond_free(p);
    pond_error_clear();
    return 0;
}

/* The newest complete checkpoint at or below target, or version -1. */
static void choose_checkpoint(cp_choice *out, const delta_log_list *l, int64_t target,
                              const last_cp_hint *h)
{
    out->version = -1;
    out->kind = "none";
    out->first = NULL;
    out->parts = 0;
    size_t i = l->n;
    while (i > 0) {
        int64_t v = l->v[i - 1].version;
        size_t lo = i; /* entries [lo, i) have version v */
        while (lo > 0 && l->v[lo - 1].version == v)
            lo--;
        if (v <= target) {
            const delta_log_entry *classic = NULL, *v2 = NULL, *hinted = NULL, *multi = NULL;
            uint32_t multi_parts = 0;
            for (size_t k = lo; k < i; k++) {
                const delta_log_entry *e = &l->v[k];
                if (e->kind == DELTA_LOG_CP_CLASSIC)
                    classic = e;
                else if (e->kind == DELTA_LOG_CP_V2) {
                    if (!v2)
                        v2 = e;
                    if (h->version == v && !strcmp(h->v2_path, e->name))
                        hinted = e;
                } else if (e->kind == DELTA_LOG_CP_MULTI && e->part == 1) {
                    /* complete when parts 1..parts follow in order */
                    uint32_t want = 1;
                    size_t q = k;
                    while (q < i && l->v[q].kind == DELTA_LOG_CP_MULTI &&
                           l->v[q].parts == e->parts && l->v[q].part == want) {
                        want++;
                        q++;
                    }
                    if (want == e->parts + 1 &&
                        (!multi || (h->version == v && h->parts == (int64_t)e->parts))) {
                        multi = e;
                        multi_parts = e->parts;
                    }
                }
            }
            const delta_log_entry *pick = hinted;
            const char *kind = NULL;
            if (!pick && multi && h->version == v && h->parts == (int64_t)multi_parts)
                pick = multi, kind = "multi-part";
            if (!pick && classic)
                pick = classic, kind = "classic";
            if (!pick && multi)
                pick = multi, kind = "multi-part";
            if (!pick && v2)
                pick = v2;
            if (pick) {
                if (!kind)
                    kind = strstr(pick->name, ".json") ? "v2-json" : "v2-parquet";
                out->version = v;
                out->kind = kind;
                out->first = pick;
                out->parts = pick->kind == DELTA_LOG_CP_MULTI ? multi_parts : 1;
                return;
            }
        }
        i = lo;
    }
}

/* A checkpoint is applied action by action as it is read (a big one never sits in memory
 * whole). Order does not matter inside a checkpoint: its adds are the live set and its removes
 * are tombstones of other (path, deletion vector) pairs. */
typedef struct {
    apply_ctx c;
    int n_proto, n_meta;
    char **sidecars;
    size_t n_sidecars, cap_sidecars;
} cp_state;

static int cp_apply_action(cp_state *s, delta_action_kind k, json_t *body);

static int cp_apply(cp_state *s, pond__lines *lines)
{
    int rc;
    const char *line;
    size_t n;
    while ((rc = next_action_line(lines, &line, &n)) == 0) {
        json_t *root, *body;
        delta_action_kind k;
        if ((rc = pond_delta__action_parse(&root, &k, &body, line, n, s->c.where)) < 0)
            return rc;
        rc = cp_apply_action(s, k, body);
        json_decref(root);
        if (rc < 0)
            return rc;
    }
    return rc == POND_ITEROVER ? 0 : rc;
}

static int cp_apply_action(cp_state *s, delta_action_kind k, json_t *body)
{
    int rc = 0;
    {
        switch (k) {
        case DELTA_ACT_ADD:
            if ((rc = pond_delta__check_add(body, s->c.where)) == 0)
                rc = apply_file_json(&s->c, body, true);
            break;
        case DELTA_ACT_REMOVE:
            if ((rc = pond_delta__check_remove(body, s->c.where)) == 0)
                rc = apply_file_json(&s->c, body, false);
            break;
        case DELTA_ACT_PROTOCOL:
            if ((rc = pond_delta__check_protocol(body, s->c.where)) == 0) {
                s->n_proto++;
                set_json(&s->c.t->protocol_json, body);
            }
            break;
        case DELTA_ACT_METADATA:
            if ((rc = pond_delta__check_metadata(body, s->c.where)) == 0) {
                s->n_meta++;
                set_json(&s->c.t->metadata_json, body);
            }
            break;
        case DELTA_ACT_TXN:
            rc = apply_txn(&s->c, body);
            break;
        case DELTA_ACT_SIDECAR: {
            const char *sp = json_string_value(json_object_get(body, "path"));
            char *dec = NULL;
            if (!sp) {
                rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "%s: sidecar without path",
                                    s->c.where);
            } else if ((rc = pond_delta_path_decode(&dec, sp)) < 0) {
                pond_error_prefix("%s: sidecar", s->c.where);
            } else {
                rc = POND_GROW(s->sidecars, s->n_sidecars, s->cap_sidecars);
            }
            if (rc == 0)
                s->sidecars[s->n_sidecars++] = dec;
            else
                pond_free(dec);
            break;
        }
        default:
            break;
        }
    }
    return rc;
}

static int cp_apply_named(void *payload, const char *action, json_t *body)
{
    static const struct {
        const char *name;
        delta_action_kind kind;
    } kinds[] = {{"add", DELTA_ACT_ADD},           {"remove", DELTA_ACT_REMOVE},
                 {"metaData", DELTA_ACT_METADATA}, {"protocol", DELTA_ACT_PROTOCOL},
                 {"txn", DELTA_ACT_TXN},           {"sidecar", DELTA_ACT_SIDECAR}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, action))
            return cp_apply_action(payload, kinds[i].kind, body);
    return 0;
}

static int cp_add(void *payload, const delta_file_action *a)
{
    return apply_add(&((cp_state *)payload)->c, a);
}

static int cp_remove(void *payload, const delta_file_action *r)
{
    return apply_remove(&((cp_state *)payload)->c, r);
}

static int apply_checkpoint_file(cp_state *s, const char *dir, const char *name)
{
    char *p = pond__path_join(dir, name);
    if (!p)
        return POND_ENOMEM;
    int rc;
    size_t n = strlen(name);
    if (n > 5 && !strcmp(name + n - 5, ".json")) {
        pond__lines lines;
        if ((rc = open_commit_lines(&lines, p)) == 0)
            rc = cp_apply(s, &lines);
        pond__lines_close(&lines);
    } else {
        /* adds and removes straight from their columns: a jansson object per row was a
         * quarter of opening a pond of 10,000 versions (the JSON way stays as a test oracle) */
        delta_cp_sink sink = {cp_apply_named, cp_add, cp_remove, s, s->c.where, s->c.t->skip_stats};
        if (s->c.t->cp_via_json)
            sink.add = sink.remove = NULL;
        rc = pond_delta__checkpoint_parquet_actions(p, &sink);
    }
    pond_free(p);
    return rc;
}

static int load_checkpoint(pond_delta_table *t, const char *log_dir, const cp_choice *cp)
{
    char where[64];
    snprintf(where, sizeof where, "checkpoint %" PRId64, cp->version);
    cp_state s = {{t, cp->version, true, where}, 0, 0, NULL, 0, 0};
    int rc = 0;
    /* multi-part: parts 1..n follow the first one in the sorted listing */
    for (uint32_t k = 0; rc == 0 && k < cp->parts; k++)
        rc = apply_checkpoint_file(&s, log_dir, cp[0].first[k].name);
    /* v2 checkpoints may move their file actions to `_delta_log/_sidecars/<path>` */
    char *sc_dir = s.n_sidecars ? pond__path_join(log_dir, "_sidecars") : NULL;
    if (rc == 0 && s.n_sidecars && !sc_dir)
        rc = POND_ENOMEM;
    for (size_t i = 0; rc == 0 && i < s.n_sidecars; i++)
        rc = apply_checkpoint_file(&s, sc_dir, s.sidecars[i]);
    if (rc == 0 && s.n_proto != 1)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "%s: checkpoint must contain exactly one protocol action (found %d)",
                            where, s.n_proto);
    if (rc == 0 && s.n_meta != 1)
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "%s: checkpoint must contain exactly one metaData action (found %d)",
                            where, s.n_meta);
    for (size_t i = 0; i < s.n_sidecars; i++)
        pond_free(s.sidecars[i]);
    pond_free(s.sidecars);
    pond_free(sc_dir);
    return rc;
}

/* ------------------------------------------------------------------ finalize */

static bool protocol_has_reader_feature(const pond_delta_protocol *p, const char *f)
{
    for (size_t i = 0; i < p->n_reader_features; i++)
        if (!strcmp(p->reader_features[i], f))
            return true;
    return false;
}

static int copy_features(const char *const **out, size_t *n_out, pond_delta_table *t,
                         const json_t *arr)
{
    *out = NULL;
    *n_out = 0;
    if (!json_is_array(arr))
        return 0;
    size_t n = json_array_size(arr);
    const char **v = pond__arena_alloc(&t->arena, (n ? n : 1) * sizeof *v, 16);
    if (!v)
        return oom();
    for (size_t i = 0; i < n; i++)
        if (!(v[i] = adup(t, json_string_value(json_array_get(arr, i)))))
            return oom();
    *out = v;
    *n_out = n;
    return 0;
}

static int finalize(pond_delta_table *t)
{
    int rc;
    if (!t->protocol_json)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "no protocol action found in log replay");
    if (!t->metadata_json)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "no metaData action found in log replay");
    /* protocol and reader support */
    pond_delta_protocol *p = &t->protocol;
    int64_t r = 0, w = 0;
    pond__json_int(&r, t->protocol_json, "minReaderVersion");
    pond__json_int(&w, t->protocol_json, "minWriterVersion");
    p->min_reader_version = (int32_t)r;
    p->min_writer_version = (int32_t)w;
    if ((rc = copy_features(&p->reader_features, &p->n_reader_features, t,
                            json_object_get(t->protocol_json, "readerFeatures"))) < 0 ||
        (rc = copy_features(&p->writer_features, &p->n_writer_features, t,
                            json_object_get(t->protocol_json, "writerFeatures"))) < 0)
        return rc;
    if (r > 3)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_DELTA,
                              "minReaderVersion %lld is not supported (max 3)", (long long)r);
    if (r == 3) {
        for (size_t i = 0; i < p->n_reader_features; i++) {
            bool ok = false;
            for (const char *const *f = g_reader_features; *f; f++)
                ok = ok || !strcmp(*f, p->reader_features[i]);
            if (!ok)
                return pond_error_set(POND_EUNSUPPORTED, POND_DOM_DELTA,
                                      "reader feature '%s' is not supported",
                                      p->reader_features[i]);
        }
    }
    /* metadata */
    pond_delta_metadata *m = &t->metadata;
    const json_t *mj = t->metadata_json;
    m->id = adup(t, json_string_value(json_object_get(mj, "id")));
    m->name = adup(t, json_string_value(json_object_get(mj, "name")));
    m->description = adup(t, json_string_value(json_object_get(mj, "description")));
    const char *prov =
        json_string_value(json_object_get(json_object_get(mj, "format"), "provider"));
    m->format_provider = adup(t, prov ? prov : "parquet");
    m->schema_string = adup(t, json_string_value(json_object_get(mj, "schemaString")));
    int64_t ct;
    m->created_time = pond__json_int(&ct, mj, "createdTime") ? ct : -1;
    if (!m->id || !m->format_provider || !m->schema_string)
        return oom();
    if (strcmp(m->format_provider, "parquet") != 0)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_DELTA,
                              "data file format '%s' is not supported (only parquet)",
                              m->format_provider);
    pond_delta_kv *conf;
    size_t n_conf;
    if ((rc = pond_delta__json_kv(&conf, &n_conf, json_object_get(mj, "configuration"))) < 0)
        return rc;
    rc = copy_kv(&m->configuration, &m->n_configuration, t, conf, n_conf);
    pond_free(conf);
    if (rc < 0 || (rc = copy_features(&m->partition_columns, &m->n_partition_columns, t,
                                      json_object_get(mj, "partitionColumns"))) < 0)
        return rc;
    const char *mode = pond_delta_table_config(t, "delta.columnMapping.mode");
    bool cm_enabled = r == 2 || (r == 3 && protocol_has_reader_feature(p, "columnMapping"));
    m->column_mapping = POND_DELTA_COLUMN_MAPPING_NONE;
    if (mode && cm_enabled && strcmp(mode, "none") != 0) {
        if (!strcmp(mode, "name"))
            m->column_mapping = POND_DELTA_COLUMN_MAPPING_NAME;
        else if (!strcmp(mode, "id"))
            m->column_mapping = POND_DELTA_COLUMN_MAPPING_ID;
        else
            return pond_error_set(POND_EUNSUPPORTED, POND_DOM_DELTA,
                                  "column mapping mode '%s' is not supported", mode);
    }
    if ((rc = pond_delta__schema_parse(&m->schema, &t->arena, m->schema_string,
                                       m->column_mapping)) < 0)
        return rc;
    /* partition columns name top-level fields; files carry a value for each, by physical name */
    size_t npc = m->n_partition_columns;
    t->partition_physical = pond__arena_alloc(&t->arena, (npc ? npc : 1) * sizeof(char *), 16);
    if (!t->partition_physical)
        return oom();
    for (size_t i = 0; i < npc; i++) {
        const pond_delta_field *f = pond_delta_table_field(t, m->partition_columns[i]);
        if (!f)
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "partition column '%s' is not in the schema",
                                  m->partition_columns[i]);
        if (f->type->kind != POND_DELTA_TYPE_PRIMITIVE)
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "partition column '%s' has a non-primitive type",
                                  m->partition_columns[i]);
        t->partition_physical[i] = f->physical_name;
    }
    for (size_t fi = 0; fi < t->n_files; fi++) {
        const delta_file_entry *e = &t->files[fi];
        if (!e->live)
            continue;
        for (size_t i = 0; i < npc; i++) {
            bool found = false;
            for (size_t k = 0; k < e->pub.n_partition_values && !found; k++)
                found = !strcmp(e->pub.partition_values[k].key, t->partition_physical[i]);
            if (!found)
                return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                      "file %s: partitionValues lacks partition column '%s'",
                                      e->pub.path, t->partition_physical[i]);
        }
        for (size_t k = 0; k < e->pub.n_partition_values; k++) {
            bool known = false;
            for (size_t i = 0; i < npc && !known; i++)
                known = !strcmp(e->pub.partition_values[k].key, t->partition_physical[i]);
            if (!known)
                return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                      "file %s: partitionValues has non-partition key '%s'",
                                      e->pub.path, e->pub.partition_values[k].key);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ open */

static void warn(pond_delta_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(pond_delta_table *t, const char *fmt, ...)
{
    if (t->n_warnings >= POND_ARRAY_LEN(t->warnings))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *w = pond__arena_strdup(&t->arena, msg);
    if (w) /* out of memory only loses the warning */
        t->warnings[t->n_warnings++] = w;
}

/* Forgets everything a checkpoint that failed half-way applied (warnings and the directory
 * stay): the snapshot is then built again from an older checkpoint or from commit 0. */
static void table_reset(pond_delta_table *t)
{
    json_decref(t->protocol_json);
    json_decref(t->metadata_json);
    t->protocol_json = t->metadata_json = NULL;
    pond_free(t->files);
    pond_free(t->slots);
    pond_free(t->txns);
    t->files = NULL;
    t->slots = NULL;
    t->txns = NULL;
    t->n_files = t->cap_files = t->n_slots = t->n_live = t->n_txns = t->cap_txns = 0;
}

/* ------------------------------------------------------------------ probing the log */

/* How far past the end of a probed log a commit is looked for (a gap is damage that the
 * listing names): every offset up to PROBE_NEAR, then doubling up to PROBE_FAR. PROBE_NEAR
 * spans several checkpoint intervals (pond's is 20 commits), so the commits a checkpoint
 * interval can hold past a gap are all looked at; a stat of a missing name is cheap. */
#define PROBE_NEAR 128
#define PROBE_FAR ((int64_t)1 << 32)
/* More commits than this after the hinted checkpoint: the listing may find a newer one. */
#define PROBE_MAX_COMMITS 1000

/* 1: the log file `<v>.<suffix>` is a regular file; 0: it does not exist; -1: anything else.
 * path holds the log directory and a slash in its first `at` bytes, and 64 more bytes. */
static int probe_stat(char *path, size_t at, int64_t v, const char *suffix)
{
    snprintf(path + at, 64, "%020" PRId64 ".%s", v, suffix);
    struct stat st;
    if (pond__os_stat(path, &st) == 0)
        return S_ISREG(st.st_mode) ? 1 : -1;
    return errno == ENOENT ? 0 : -1;
}

static int probe_add(delta_log_list *l, int64_t v, delta_log_kind kind, const char *suffix)
{
    char name[64];
    snprintf(name, sizeof name, "%020" PRId64 ".%s", v, suffix);
    if (POND_GROW(l->v, l->n, l->cap) < 0)
        return POND_ENOMEM;
    delta_log_entry e = {.version = v, .kind = kind};
    if (!(e.name = pond_strdup(name)))
        return POND_ENOMEM;
    l->v[l->n++] = e;
    return 0;
}

/* The part of the log the newest snapshot needs, found without listing a directory of
 * thousands of commits: the classic checkpoint _last_checkpoint names, then each next commit
 * until one is missing. *ok false (and 0) when anything is unexpected -- no usable hint, another
 * checkpoint kind, a file that is not a regular one, no commit after the checkpoint, a commit
 * after the first missing one (a gap), a long tail -- and the caller lists the directory,
 * whose messages name the damage. */
static int probe_log(delta_log_list *out, bool *ok, const char *log_dir, const last_cp_hint *h)
{
    *ok = false;
    if (h->version < 0 || h->parts > 0 || h->v2_path[0] || h->version > INT64_MAX / 2)
        return 0;
    size_t at = strlen(log_dir) + 1;
    char *path = pond_malloc(at + 64);
    if (!path)
        return POND_ENOMEM;
    memcpy(path, log_dir, at - 1);
    path[at - 1] = '/';
    bool usable = probe_stat(path, at, h->version, "checkpoint.parquet") == 1;
    int64_t end = h->version + 1; /* the first commit missing */
    int got = 0;
    while (usable && (got = probe_stat(path, at, end, "json")) == 1)
        usable = ++end - h->version <= PROBE_MAX_COMMITS;
    /* No commit after the hinted checkpoint is the one shape a log cleanup behind a stale hint
     * leaves (commits up to a newer checkpoint removed, the hint not yet updated to it): only
     * the listing sees that newer checkpoint. One open in a checkpoint interval pays it. */
    usable = usable && got == 0 && end > h->version + 1;
    for (int64_t d = 1; usable && d <= PROBE_FAR; d = d < PROBE_NEAR ? d + 1 : d * 2)
        usable = probe_stat(path, at, end + d, "json") == 0;
    pond_free(path);
    int rc = 0;
    if (usable)
        rc = probe_add(out, h->version, DELTA_LOG_CP_CLASSIC, "checkpoint.parquet");
    for (int64_t v = h->version + 1; usable && rc == 0 && v < end; v++)
        rc = probe_add(out, v, DELTA_LOG_COMMIT, "json");
    if (rc < 0 || !usable)
        pond_delta__log_list_dispose(out);
    *ok = rc == 0 && usable;
    return rc;
}

/* Builds the snapshot at the wanted version from the log files l: the newest checkpoint at or
 * below it that can be read, then the JSON commits after it. A checkpoint that cannot be read
 * is only a warning while the commits it stands for exist (they give exactly the same state);
 * errors name the file that stops the replay. */
static int replay_list(pond_delta_table *t, const pond_delta_open_options *o, const char *log_dir,
                       const delta_log_list *l, const last_cp_hint *h)
{
    char bad_cp[1024] = ""; /* the newest checkpoint skipped, and why */
    int rc = 0;
    int64_t latest = -1, oldest_commit = -1;
    for (size_t i = 0; i < l->n; i++) {
        latest = l->v[i].version > latest ? l->v[i].version : latest;
        if (l->v[i].kind == DELTA_LOG_COMMIT && oldest_commit < 0)
            oldest_commit = l->v[i].version;
    }
    if (latest < 0) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "no commit or checkpoint files in '%s'",
                            log_dir);
        goto done;
    }
    int64_t target = o->at_version < 0 ? latest : o->at_version;
    if (target > latest) {
        rc = pond_error_set(POND_ENOTFOUND, POND_DOM_DELTA,
                            "version %" PRId64 " does not exist (latest is %" PRId64 ")", target,
                            latest);
        goto done;
    }
    cp_choice cp = {-1, "none", NULL, 0};
    int64_t oldest_cp = -1; /* the oldest readable starting point a cleanup left */
    if (!o->ignore_checkpoints) {
        for (int64_t below = target; below >= 0;) {
            choose_checkpoint(&cp, l, below, h);
            if (cp.version < 0)
                break;
            oldest_cp = cp.version;
            if ((rc = load_checkpoint(t, log_dir, &cp)) == 0)
                break;
            if (rc == POND_ENOMEM)
                goto done;
            if (!bad_cp[0])
                snprintf(bad_cp, sizeof bad_cp, "_delta_log/%s cannot be read (%s)", cp.first->name,
                         pond_error_last()->message);
            warn(t,
                 "checkpoint _delta_log/%s cannot be read (%s); the JSON commits were read "
                 "instead",
                 cp.first->name, pond_error_last()->message);
            pond_error_clear();
            table_reset(t);
            below = cp.version - 1;
            cp = (cp_choice){-1, "none", NULL, 0};
            rc = 0;
        }
    }
    t->checkpoint_version = cp.version;
    t->checkpoint_kind = cp.kind;
    size_t li = 0;
    for (int64_t v = cp.version + 1; v <= target; v++) {
        /* the listing is sorted by (version, kind) and a commit sorts first in its version */
        while (li < l->n && l->v[li].version < v)
            li++;
        if (li >= l->n || l->v[li].version != v || l->v[li].kind != DELTA_LOG_COMMIT) {
            if (bad_cp[0])
                rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                    "%s, and the log no longer has all the commits it stands "
                                    "for (%020" PRId64 ".json is missing): restore the "
                                    "checkpoint from a backup",
                                    bad_cp, v);
            else if (cp.version < 0 && v < oldest_commit && oldest_cp < 0 && oldest_commit > 0 &&
                     target < oldest_commit)
                rc = pond_error_set(POND_ENOTFOUND, POND_DOM_DELTA,
                                    "version %" PRId64 " is no longer in the log (the commits "
                                    "before version %" PRId64 " were cleaned up)",
                                    target, oldest_commit);
            else
                rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                    "missing commit file for version %" PRId64
                                    " (_delta_log/%020" PRId64 ".json): versions from %" PRId64
                                    " on cannot be read; restore the file from a backup",
                                    v, v, v);
            goto done;
        }
        char *p = pond__path_join(log_dir, l->v[li].name);
        if (!p) {
            rc = POND_ENOMEM;
            goto done;
        }
        pond__lines lines;
        if ((rc = open_commit_lines(&lines, p)) == 0)
            rc = apply_commit(t, &lines, v);
        pond__lines_close(&lines);
        pond_free(p);
        if (rc == POND_ENOMEM)
            goto done;
        if (rc < 0) {
            char why[1024];
            snprintf(why, sizeof why, "%s", pond_error_last()->message);
            rc = pond_error_set(rc, POND_DOM_DELTA,
                                "commit _delta_log/%s cannot be read (%s): versions from %" PRId64
                                " on cannot be read; restore the file from a backup",
                                l->v[li].name, why, v);
            goto done;
        }
        t->commits_replayed++;
    }
    t->version = target;
    rc = finalize(t);
done:
    return rc;
}

/* The snapshot at the wanted version. The newest one is read from the log files probed from
 * _last_checkpoint on; when that is not possible, or anything goes wrong with what it found,
 * from the listing of the whole directory (docs/delta.md, "Reading", step 0). */
static int replay(pond_delta_table *t, const pond_delta_open_options *o)
{
    char *log_dir = pond__path_join(t->dir, "_delta_log");
    if (!log_dir)
        return POND_ENOMEM;
    delta_log_list l = {0};
    last_cp_hint h = {-1, -1, ""};
    bool probed = false;
    int rc = 0;
    if (!o->ignore_checkpoints)
        rc = read_last_checkpoint(&h, t, log_dir);
    if (rc == 0 && o->at_version < 0)
        rc = probe_log(&l, &probed, log_dir, &h);
    if (rc == 0 && probed) {
        size_t n_warnings = t->n_warnings;
        rc = replay_list(t, o, log_dir, &l, &h);
        pond_delta__log_list_dispose(&l);
        if (rc < 0 && rc != POND_ENOMEM) {
            /* the listing decides, and words what is wrong */
            pond_error_clear();
            table_reset(t);
            t->n_warnings = n_warnings;
            t->commits_replayed = 0;
            probed = false;
            rc = 0;
        }
    }
    if (rc == 0 && !probed && (rc = pond_delta__log_list(&l, log_dir)) == 0)
        rc = replay_list(t, o, log_dir, &l, &h);
    pond_delta__log_list_dispose(&l);
    pond_free(log_dir);
    return rc;
}

int pond_delta_table_open(pond_delta_table **out, const char *dir,
                          const pond_delta_open_options *opts)
{
    return pond_delta__table_open_ex(out, dir, opts, false);
}

int pond_delta__table_open_ex(pond_delta_table **out, const char *dir,
                              const pond_delta_open_options *opts, bool cp_via_json)
{
    POND_ASSERT_ARG(out && dir);
    *out = NULL;
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    if (opts) {
        if (opts->version < 1 || opts->version > POND_DELTA_OPEN_OPTIONS_VERSION)
            return pond_error_set(POND_EINVALID, POND_DOM_DELTA,
                                  "delta open options version %u is not supported", opts->version);
        o.at_version = opts->at_version;
        o.ignore_checkpoints = opts->ignore_checkpoints;
        if (opts->version >= 2)
            o.skip_stats = opts->skip_stats;
    }
    pond_delta_table *t = pond_calloc(1, sizeof *t);
    if (!t)
        return POND_ENOMEM;
    t->version = -1;
    t->checkpoint_version = -1;
    t->checkpoint_kind = "none";
    t->skip_stats = o.skip_stats;
    t->cp_via_json = cp_via_json;
    int rc;
    if (!(t->dir = pond_strdup(dir)))
        rc = POND_ENOMEM;
    else
        rc = replay(t, &o);
    if (rc < 0) {
        pond_delta_table_free(t);
        return rc;
    }
    /* protocol_json / metadata_json stay: the checkpoint writer copies them verbatim */
    *out = t;
    return 0;
}

int pond_delta__table_from_memory(pond_delta_table **out, const char *const *commits,
                                  const size_t *lens, size_t n)
{
    *out = NULL;
    pond_delta_table *t = pond_calloc(1, sizeof *t);
    if (!t)
        return POND_ENOMEM;
    t->checkpoint_version = -1;
    t->checkpoint_kind = "none";
    int rc = (t->dir = pond_strdup(".")) ? 0 : POND_ENOMEM;
    for (size_t v = 0; rc == 0 && v < n; v++) {
        rc = apply_text(t, commits[v], lens[v], (int64_t)v);
        t->commits_replayed++;
    }
    t->version = (int64_t)n - 1;
    if (rc == 0)
        rc = n ? finalize(t) : pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "no commits");
    if (rc < 0) {
        pond_delta_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int pond_delta__table_from_checkpoint_mem(pond_delta_table **out, const void *data, size_t len,
                                          bool via_json)
{
    *out = NULL;
    pond_delta_table *t = pond_calloc(1, sizeof *t);
    if (!t)
        return POND_ENOMEM;
    t->checkpoint_version = 0;
    t->checkpoint_kind = "classic";
    cp_state s = {{t, 0, true, "checkpoint 0"}, 0, 0, NULL, 0, 0};
    delta_cp_sink sink = {cp_apply_named, cp_add, cp_remove, &s, s.c.where, false};
    if (via_json)
        sink.add = sink.remove = NULL;
    int rc = (t->dir = pond_strdup(".")) ? 0 : POND_ENOMEM;
    if (rc == 0)
        rc = pond_delta__checkpoint_parquet_actions_mem(data, len, &sink);
    if (rc == 0 && (s.n_proto != 1 || s.n_meta != 1))
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "checkpoint: %d protocol and %d metaData actions (one each needed)",
                            s.n_proto, s.n_meta);
    for (size_t i = 0; i < s.n_sidecars; i++)
        pond_free(s.sidecars[i]);
    pond_free(s.sidecars);
    t->version = 0;
    if (rc == 0)
        rc = finalize(t);
    if (rc < 0) {
        pond_delta_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int pond_delta_commit_changes(bool *meta_out, const char *dir, int64_t version,
                              pond_delta_file_cb on_add, pond_delta_file_cb on_remove,
                              void *payload)
{
    POND_ASSERT_ARG(meta_out && dir && version >= 0 && on_add && on_remove);
    *meta_out = false;
    char *path = pond_delta__commit_path(dir, version);
    if (!path)
        return POND_ENOMEM;
    pond_buf b = POND_BUF_INIT;
    pond_delta_table *t = NULL;
    struct stat st;
    int rc = 0;
    if (pond__os_stat(path, &st) != 0)
        rc = errno == ENOENT ? pond_error_set(POND_ENOTFOUND, POND_DOM_DELTA,
                                              "version %" PRId64 " does not exist", version)
                             : pond_error_set_os(POND_DOM_DELTA, "stat '%s'", path);
    if (rc == 0)
        rc = pond__read_file(&b, path, DELTA_MAX_COMMIT_BYTES, POND_DOM_DELTA);
    /* the commit alone, applied to an empty state: its adds are the live entries, its
     * removes the others */
    if (rc == 0 && !(t = pond_calloc(1, sizeof *t)))
        rc = POND_ENOMEM;
    if (rc == 0) {
        t->version = version - 1;
        t->checkpoint_version = -1;
        t->checkpoint_kind = "none";
        rc = apply_text(t, b.ptr ? b.ptr : "", b.size, version);
    }
    if (rc == 0)
        *meta_out = t->protocol_json || t->metadata_json;
    for (size_t i = 0; rc == 0 && i < t->n_files; i++)
        if (!t->files[i].live)
            rc = on_remove(&t->files[i].pub, payload);
    for (size_t i = 0; rc == 0 && i < t->n_files; i++)
        if (t->files[i].live)
            rc = on_add(&t->files[i].pub, payload);
    pond_delta_table_free(t);
    pond_buf_dispose(&b);
    pond_free(path);
    return rc;
}

void pond_delta_table_free(pond_delta_table *t)
{
    if (!t)
        return;
    json_decref(t->protocol_json);
    json_decref(t->metadata_json);
    pond__arena_dispose(&t->arena);
    pond_free(t->files);
    pond_free(t->slots);
    pond_free(t->txns);
    pond_free(t->dir);
    pond_free(t);
}

/* ------------------------------------------------------------------ single files */

static pond_delta_table *scratch_table(void)
{
    pond_delta_table *t = pond_calloc(1, sizeof *t);
    if (t) {
        t->version = -1;
        t->checkpoint_version = -1;
        t->checkpoint_kind = "none";
    }
    return t;
}

int pond_delta__check_commit(const char *path, int64_t version)
{
    pond_delta_table *t = scratch_table();
    if (!t)
        return POND_ENOMEM;
    pond__lines lines;
    int rc = open_commit_lines(&lines, path);
    if (rc == 0)
        rc = apply_commit(t, &lines, version);
    pond__lines_close(&lines);
    pond_delta_table_free(t);
    return rc;
}

int pond_delta__check_checkpoint(const char *log_dir, const delta_log_entry *first, uint32_t parts)
{
    pond_delta_table *t = scratch_table();
    if (!t)
        return POND_ENOMEM;
    cp_choice cp = {first->version, "checkpoint", first, parts};
    int rc = load_checkpoint(t, log_dir, &cp);
    t->version = first->version;
    if (rc == 0)
        rc = finalize(t);
    pond_delta_table_free(t);
    return rc;
}

/* ------------------------------------------------------------------ accessors */

int64_t pond_delta_table_version(const pond_delta_table *t) { return t->version; }
const char *pond_delta_table_dir(const pond_delta_table *t) { return t->dir; }
int64_t pond_delta_table_checkpoint_version(const pond_delta_table *t)
{
    return t->checkpoint_version;
}
const char *pond_delta_table_checkpoint_kind(const pond_delta_table *t)
{
    return t->checkpoint_kind;
}
int64_t pond_delta_table_commits_replayed(const pond_delta_table *t) { return t->commits_replayed; }
const char *pond_delta_table_warning(const pond_delta_table *t, size_t i)
{
    return i < t->n_warnings ? t->warnings[i] : NULL;
}
const pond_delta_protocol *pond_delta_table_protocol(const pond_delta_table *t)
{
    return &t->protocol;
}
const pond_delta_metadata *pond_delta_table_metadata(const pond_delta_table *t)
{
    return &t->metadata;
}

const char *pond_delta_table_config(const pond_delta_table *t, const char *key)
{
    for (size_t i = 0; i < t->metadata.n_configuration; i++)
        if (!strcmp(t->metadata.configuration[i].key, key))
            return t->metadata.configuration[i].value;
    return NULL;
}

const pond_delta_field *pond_delta_table_field(const pond_delta_table *t, const char *name)
{
    const pond_delta_type *s = t->metadata.schema;
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->n_fields; i++)
        if (!strcmp(s->fields[i].name, name))
            return &s->fields[i];
    return NULL;
}

size_t pond_delta_table_file_count(const pond_delta_table *t) { return t->n_live; }

int pond_delta_table_foreach_file(const pond_delta_table *t, pond_delta_file_cb cb, void *payload)
{
    POND_ASSERT_ARG(t && cb);
    for (size_t i = 0; i < t->n_files; i++) {
        if (!t->files[i].live)
            continue;
        int rc = cb(&t->files[i].pub, payload);
        if (rc < 0)
            return rc;
    }
    return 0;
}

const pond_delta_file *pond_delta_table_file_lookup(const pond_delta_table *t,
                                                    const char *decoded_path)
{
    const delta_file_entry *e = map_find(t, decoded_path);
    return e && e->live ? &e->pub : NULL;
}

int pond_delta_file_partition_value(const char **value_out, const pond_delta_table *t,
                                    const pond_delta_file *f, const char *column)
{
    POND_ASSERT_ARG(value_out && t && f && column);
    *value_out = NULL;
    for (size_t i = 0; i < t->metadata.n_partition_columns; i++) {
        if (strcmp(t->metadata.partition_columns[i], column) != 0)
            continue;
        for (size_t k = 0; k < f->n_partition_values; k++) {
            if (!strcmp(f->partition_values[k].key, t->partition_physical[i])) {
                /* Delta writes an empty string for a null partition value */
                const char *v = f->partition_values[k].value;
                *value_out = v && *v ? v : NULL;
                return 0;
            }
        }
    }
    return pond_error_set(POND_ENOTFOUND, POND_DOM_DELTA, "'%s' is not a partition column", column);
}

int pond_delta_table_txn_version(int64_t *version_out, const pond_delta_table *t,
                                 const char *app_id)
{
    POND_ASSERT_ARG(version_out && t && app_id);
    for (size_t i = 0; i < t->n_txns; i++) {
        if (!strcmp(t->txns[i].app_id, app_id)) {
            *version_out = t->txns[i].version;
            return 0;
        }
    }
    return pond_error_set(POND_ENOTFOUND, POND_DOM_DELTA, "no txn for app id '%s'", app_id);
}
