/* The public Parquet reader: footer, schema, projection, row-group iteration, pruning. */
#include <pond/parquet.h>

#include "parquet/pq_reader.h"
#include "parquet/pq_share.h"

#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MAX_ALLOC ((size_t)1 << 30)
#define DEFAULT_THREADS 2

static int fd_read_at(int64_t off, void *buf, size_t len, size_t *n_out, void *payload)
{
    pond_parquet_reader *r = payload;
    return pond__pread_full(n_out, r->fd, buf, len, off, r->path, POND_DOM_PARQUET);
}

static int mem_read_at(int64_t off, void *buf, size_t len, size_t *n_out, void *payload)
{
    pond_parquet_reader *r = payload;
    if (off < 0 || (uint64_t)off > r->mem_len) {
        *n_out = 0;
        return 0;
    }
    size_t n = POND_MIN(len, r->mem_len - (size_t)off);
    memcpy(buf, r->mem + off, n);
    *n_out = n;
    return 0;
}

static int read_exact(pond_parquet_reader *r, int64_t off, void *buf, size_t len, const char *what)
{
    size_t n = 0;
    int rc = r->src.read_at(off, buf, len, &n, r->src.payload);
    if (rc < 0)
        return rc;
    if (n != len)
        return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                              "%s at offset %" PRId64 " truncated (%zu of %zu bytes)", what, off, n,
                              len);
    return 0;
}

typedef struct pq_shared_batch pq_shared_batch;
static void shared_unref(pq_shared_batch *h);

/* Lets go of r's buffer cache: closes its own (batches still out keep it until released),
 * or drops its reference to a scan's. */
static void drop_cache(pond_parquet_reader *r)
{
    if (r->own_cache)
        pond__bufcache_close(r->cache);
    else
        pond__bufcache_unref(r->cache);
}

void pond_parquet_reader_free(pond_parquet_reader *r)
{
    if (!r)
        return;
    /* the decode threads first: a read-ahead worker may still be reading through the source */
    pond_pq_reader_threads_free(r);
    if (r->fd >= 0)
        pond__close(r->fd);
    pond_free(r->path);
    pond_free(r->footer);
    pond_pq_scratch_dispose(&r->scratch);
    shared_unref(r->cur);
    drop_cache(r);
    pond__arena_dispose(&r->arena);
    pond_free(r);
}

static int find_field(const pond_parquet_reader *r, const char *name)
{
    const pq_node *root = r->schema.root;
    for (int i = 0; i < root->n_children; i++)
        if (!strcmp(root->children[i]->name, name))
            return i;
    return -1;
}

static int setup_projection(pond_parquet_reader *r, const pond_parquet_read_options *o)
{
    const pq_node *root = r->schema.root;
    int n = root->n_children;
    r->proj = pond__arena_zalloc(&r->arena, (size_t)(n + 1) * sizeof *r->proj);
    if (!r->proj)
        return POND_ENOMEM;
    if (o && o->columns) {
        for (int i = 0; i < o->n_columns; i++) {
            if (o->columns[i] < 0 || o->columns[i] >= n)
                return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                                      "projection: column index "
                                      "%d out of range (the file has %d)",
                                      o->columns[i], n);
        }
        if (o->n_columns > n)
            return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "projection: too many columns");
        memcpy(r->proj, o->columns, (size_t)o->n_columns * sizeof *r->proj);
        r->n_proj = o->n_columns;
    } else if (o && o->column_names) {
        if (o->n_column_names > n && !o->skip_missing_names)
            return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "projection: too many columns");
        /* by name through a map: a loop per name is quadratic in a wide schema */
        pond__strmap names = {0};
        int rc = 0, np = 0;
        for (int i = 0; i < n && rc == 0; i++) /* the first field of a name wins */
            rc = pond__strmap_put(&names, root->children[i]->name, i) < 0 ? POND_ENOMEM : 0;
        for (int i = 0; i < o->n_column_names && rc == 0; i++) {
            int k = (int)pond__strmap_get(&names, o->column_names[i]);
            if (k < 0 && o->skip_missing_names)
                continue;
            if (k < 0)
                rc = pond_error_set(POND_ENOTFOUND, POND_DOM_PARQUET,
                                    "projection: no column named '%s'", o->column_names[i]);
            else if (np == n)
                rc =
                    pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "projection: too many columns");
            else
                r->proj[np++] = k;
        }
        pond__strmap_dispose(&names);
        if (rc < 0)
            return rc;
        r->n_proj = np;
    } else {
        for (int i = 0; i < n; i++)
            r->proj[i] = i;
        r->n_proj = n;
    }
    return 0;
}

/* One line per kind of skipped footer field, in the reader's arena. */
static int footer_warnings(pond_parquet_reader *r, const pq_tskips *k)
{
    int n = k->n_kinds + (k->other > 0);
    if (n == 0)
        return 0;
    if (!(r->warnings = pond__arena_zalloc(&r->arena, (size_t)n * sizeof *r->warnings)))
        return POND_ENOMEM;
    for (int i = 0; i < n; i++) {
        char line[256], fn[96], got[24], want[24];
        if (i == k->n_kinds) {
            snprintf(line, sizeof line,
                     "footer: %" PRId64 " more fields of another wire type "
                     "than the parquet schema's skipped",
                     k->other);
        } else {
            const char *nm = pond_pq_tfield_name(fn, sizeof fn, k->kind[i].s, k->kind[i].id);
            int len = snprintf(line, sizeof line,
                               "footer: %s has wire type %s, expected %s; "
                               "skipped",
                               nm, pond_pq_twire_name(got, sizeof got, k->kind[i].got),
                               pond_pq_twire_name(want, sizeof want, k->kind[i].want));
            if (len >= 0 && (size_t)len < sizeof line) {
                if (k->kind[i].count == 1)
                    snprintf(line + len, sizeof line - (size_t)len, " at offset %" PRId64,
                             k->kind[i].first_off);
                else
                    snprintf(line + len, sizeof line - (size_t)len,
                             " %" PRId64 " times, first "
                             "at offset %" PRId64,
                             k->kind[i].count, k->kind[i].first_off);
            }
        }
        char *w = pond__arena_zalloc(&r->arena, strlen(line) + 1);
        if (!w)
            return POND_ENOMEM;
        memcpy(w, line, strlen(line) + 1);
        r->warnings[i] = w;
    }
    r->n_warnings = n;
    return 0;
}

/* The tail of every open: r's source is set; reads the footer. r is freed on failure. */
static int open_finish(pond_parquet_reader **out, pond_parquet_reader *r,
                       const pond_parquet_read_options *opts)
{
    int rc = pond_pq_reader_init(r, opts);
    if (rc < 0) {
        pond_parquet_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void pond_pq_reader_use_cache(pond_parquet_reader *r, pond_bufcache *c)
{
    if (!c || c == r->cache)
        return;
    drop_cache(r);
    r->cache = pond__bufcache_ref(c);
    r->own_cache = false;
}

int pond_parquet_reader_open(pond_parquet_reader **out, const pond_parquet_source *src,
                             const pond_parquet_read_options *opts)
{
    POND_ASSERT_ARG(out && src && src->read_at);
    *out = NULL;
    pond_parquet_reader *r = pond_calloc(1, sizeof *r);
    if (!r)
        return POND_ENOMEM;
    r->fd = -1;
    r->src = *src;
    return open_finish(out, r, opts);
}

int pond_pq_reader_init(pond_parquet_reader *r, const pond_parquet_read_options *opts)
{
    int rc;
    uint8_t tail[8], head[4];
    r->max_alloc = opts && opts->max_alloc ? opts->max_alloc : DEFAULT_MAX_ALLOC;
    r->verify_crc = !(opts && opts->skip_crc);
    r->max_batch_rows = opts && opts->max_batch_rows > 0 ? opts->max_batch_rows : 0;
    r->page_index = !(opts && opts->no_page_index);
    r->threads = opts && opts->threads > 0 ? POND_MIN(opts->threads, 64) : DEFAULT_THREADS;
    if (!r->concurrent && !(opts && opts->source_concurrent))
        r->threads = 1;
    int64_t size = r->src.size;
    if (size < 12)
        return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                              "not a parquet file: %" PRId64 " bytes is too small", size);
    if ((rc = read_exact(r, 0, head, 4, "header")) < 0 ||
        (rc = read_exact(r, size - 8, tail, 8, "footer")) < 0)
        return rc;
    if (!memcmp(tail + 4, "PARE", 4))
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                              "encrypted parquet file "
                              "(PARE footer): modular encryption is not supported");
    if (memcmp(tail + 4, "PAR1", 4) != 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                              "not a parquet file: bad magic at "
                              "offset %" PRId64,
                              size - 4);
    if (memcmp(head, "PAR1", 4) != 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                              "not a parquet file: bad magic at "
                              "offset 0");
    uint32_t flen = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
                    (uint32_t)tail[3] << 24;
    if ((int64_t)flen > size - 12)
        return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                              "footer length %u exceeds the "
                              "file (%" PRId64 " bytes)",
                              flen, size);
    if (flen > r->max_alloc)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                              "footer of %u bytes exceeds "
                              "the reader's limit",
                              flen);
    int64_t foff = size - 8 - flen;
    if (!(r->footer = pond_malloc(flen ? flen : 1)))
        return POND_ENOMEM;
    if ((rc = read_exact(r, foff, r->footer, flen, "footer")) < 0)
        return rc;
    pq_tdec d;
    pq_tskips skips;
    memset(&skips, 0, sizeof skips);
    pond_pq_tdec_init(&d, r->footer, flen, foff, "footer");
    d.skips = &skips;
    if ((rc = pond_pq_decode_file_meta(&r->meta, &r->arena, &d)) < 0 ||
        (rc = footer_warnings(r, &skips)) < 0)
        return rc;
    if (r->meta.encrypted_algorithm)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                              "encrypted parquet file "
                              "(plaintext footer): modular encryption is not supported");
    const char *trusted = opts ? opts->skip_crc_created_by : NULL;
    if (trusted && r->meta.created_by.ptr && r->meta.created_by.len >= strlen(trusted) &&
        !memcmp(r->meta.created_by.ptr, trusted, strlen(trusted)))
        r->verify_crc = false;
    if ((rc = pond_pq_schema_build(&r->schema, &r->arena, &r->meta, opts && opts->int96_ns)) < 0)
        return rc;
    for (uint32_t i = 0; i < r->meta.n_row_groups; i++) {
        const pq_row_group *rg = &r->meta.row_groups[i];
        if (rg->n_columns != (uint32_t)r->schema.n_leaves)
            return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                                  "row group %u has %u column "
                                  "chunks, the schema has %d leaf columns",
                                  i, rg->n_columns, r->schema.n_leaves);
    }
    if (!(r->rg_selected = pond__arena_zalloc(&r->arena, r->meta.n_row_groups + 1)))
        return POND_ENOMEM;
    memset(r->rg_selected, 1, r->meta.n_row_groups);
    return setup_projection(r, opts);
}

/* Takes fd (closed on failure too). */
static int open_fd(pond_parquet_reader **out, int fd, const char *path,
                   const pond_parquet_read_options *opts)
{
    pond_parquet_reader *r = pond_calloc(1, sizeof *r);
    if (!r) {
        pond__close(fd);
        return POND_ENOMEM;
    }
    r->fd = fd;
    int rc = POND_ENOMEM;
    if (!(r->path = pond_strdup(path)) ||
        (rc = pond__file_size(&r->src.size, r->fd, path, POND_DOM_PARQUET)) < 0) {
        pond_parquet_reader_free(r);
        return rc;
    }
    r->src.read_at = fd_read_at;
    r->src.payload = r;
    r->concurrent = true;
    return open_finish(out, r, opts);
}

int pond_parquet_reader_open_file(pond_parquet_reader **out, const char *path,
                                  const pond_parquet_read_options *opts)
{
    POND_ASSERT_ARG(out && path);
    *out = NULL;
    /* a FIFO must not hang the open; Parquet needs random access, so anything but a regular
     * file is refused by name */
    int fd, rc;
    struct stat st;
    if ((rc = pond__open_regular(&fd, &st, path, "a Parquet file", POND_DOM_PARQUET)) < 0)
        return rc;
    return open_fd(out, fd, path, opts);
}

int pond_parquet_reader_open_fd(pond_parquet_reader **out, int fd, const char *path,
                                const pond_parquet_read_options *opts)
{
    POND_ASSERT_ARG(out && fd >= 0 && path);
    *out = NULL;
    return open_fd(out, fd, path, opts);
}

int pond_parquet_reader_open_memory(pond_parquet_reader **out, const void *buf, size_t len,
                                    const pond_parquet_read_options *opts)
{
    POND_ASSERT_ARG(out && (buf || len == 0));
    *out = NULL;
    pond_parquet_reader *r = pond_calloc(1, sizeof *r);
    if (!r)
        return POND_ENOMEM;
    r->fd = -1;
    r->mem = buf;
    r->mem_len = len;
    r->src.read_at = mem_read_at;
    r->src.payload = r;
    r->src.size = (int64_t)len;
    r->concurrent = true;
    return open_finish(out, r, opts);
}

int pond_parquet_reader_schema(pond_parquet_reader *r, struct ArrowSchema *out)
{
    POND_ASSERT_ARG(r && out);
    int rc = pond_arrow_schema_init(out, "+s", "", 0, r->n_proj);
    if (rc < 0)
        return rc;
    for (int i = 0; i < r->n_proj; i++) {
        if ((rc = pond_pq_schema_to_arrow(out->children[i], r->schema.root->children[r->proj[i]])) <
            0) {
            pond_arrow_schema_release(out);
            return rc;
        }
    }
    return 0;
}

int pond_parquet_reader_read_row_group(pond_parquet_reader *r, int rgi, struct ArrowArray *out)
{
    POND_ASSERT_ARG(r && out);
    return pond_pq_read_row_group(r, rgi, out, false, NULL);
}

/* Slices of one decoded row group share its buffers: every node of a slice is a shallow copy
 * holding a reference, so a consumer may release slices and move children out in any order;
 * the row group is freed with the last reference. */
struct pq_shared_batch {
    struct ArrowArray full;
    int64_t refs;
};

typedef struct {
    pq_shared_batch *h;
    struct ArrowArray **child_ptrs;
    struct ArrowArray *children;
} shared_priv;

static void shared_unref(pq_shared_batch *h)
{
    if (h && --h->refs == 0) {
        pond_arrow_array_release(&h->full);
        pond_free(h);
    }
}

static void shared_release(struct ArrowArray *a)
{
    shared_priv *p = a->private_data;
    for (int64_t i = 0; i < a->n_children; i++)
        pond_arrow_array_release(a->children[i]);
    pond_free(p->child_ptrs);
    pond_free(p->children);
    shared_unref(p->h);
    pond_free(p);
    a->release = NULL;
}

static int share_node(struct ArrowArray *dst, const struct ArrowArray *src, pq_shared_batch *h,
                      int depth)
{
    memset(dst, 0, sizeof *dst);
    if (depth > 256)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "batch nested too deeply");
    shared_priv *p = pond_calloc(1, sizeof *p);
    if (!p)
        return POND_ENOMEM;
    *dst = *src;
    dst->dictionary = NULL; /* the reader never produces dictionary arrays */
    dst->private_data = p;
    dst->release = shared_release;
    dst->n_children = 0;
    dst->children = NULL;
    p->h = h;
    h->refs++;
    if (src->n_children > 0) {
        p->children = pond_calloc((size_t)src->n_children, sizeof *p->children);
        p->child_ptrs = pond_calloc((size_t)src->n_children, sizeof *p->child_ptrs);
        if (!p->children || !p->child_ptrs) {
            shared_release(dst);
            return POND_ENOMEM;
        }
        dst->children = p->child_ptrs;
        for (int64_t i = 0; i < src->n_children; i++) {
            p->child_ptrs[i] = &p->children[i];
            dst->n_children = i + 1;
            int rc = share_node(&p->children[i], src->children[i], h, depth + 1);
            if (rc < 0) {
                dst->n_children = i; /* the failed child is already released */
                shared_release(dst);
                return rc;
            }
        }
    }
    return 0;
}

int pond_parquet_reader_next(pond_parquet_reader *r, struct ArrowArray *out)
{
    POND_ASSERT_ARG(r && out);
    memset(out, 0, sizeof *out);
    int rc;
    if (!r->cur) {
        struct ArrowArray a;
        if ((rc = pond_pq_next_row_group(r, &a)) < 0)
            return rc;
        if (r->max_batch_rows <= 0 || a.length <= r->max_batch_rows) {
            pond_arrow_array_move(out, &a);
            return 0;
        }
        pq_shared_batch *h = pond_calloc(1, sizeof *h);
        if (!h) {
            pond_arrow_array_release(&a);
            return POND_ENOMEM;
        }
        pond_arrow_array_move(&h->full, &a);
        h->refs = 1; /* the reader's own reference */
        r->cur = h;
        r->cur_pos = 0;
    }
    pq_shared_batch *h = r->cur;
    if ((rc = share_node(out, &h->full, h, 0)) < 0)
        return rc;
    int64_t n = POND_MIN(r->max_batch_rows, h->full.length - r->cur_pos);
    out->offset = h->full.offset + r->cur_pos;
    out->length = n;
    out->null_count = 0;
    r->cur_pos += n;
    if (r->cur_pos >= h->full.length) {
        r->cur = NULL;
        shared_unref(h);
    }
    return 0;
}

/* ---------------------------------------------------------------- metadata */

int pond_parquet_reader_prefetch(pond_parquet_reader *r)
{
    POND_ASSERT_ARG(r);
    return pond_pq_prefetch(r);
}

bool pond_parquet_reader_draining(const pond_parquet_reader *r)
{
    return !r || pond_pq_draining(r);
}

int64_t pond_parquet_reader_num_rows(const pond_parquet_reader *r)
{
    int64_t n = 0;
    for (uint32_t i = 0; i < r->meta.n_row_groups; i++)
        n += r->meta.row_groups[i].num_rows;
    return n;
}

int pond_parquet_reader_num_row_groups(const pond_parquet_reader *r)
{
    return (int)r->meta.n_row_groups;
}

int64_t pond_parquet_reader_row_group_rows(const pond_parquet_reader *r, int i)
{
    if (i < 0 || (uint32_t)i >= r->meta.n_row_groups)
        return -1;
    return r->meta.row_groups[i].num_rows;
}

int pond_parquet_reader_num_leaves(const pond_parquet_reader *r) { return r->schema.n_leaves; }

static const char *arena_cstr(pond_parquet_reader *r, pq_bytes b)
{
    if (!b.ptr)
        return NULL;
    char *s = pond__arena_zalloc(&r->arena, b.len + 1);
    if (s && b.len)
        memcpy(s, b.ptr, b.len);
    return s;
}

const char *pond_parquet_reader_created_by(const pond_parquet_reader *r)
{
    return arena_cstr((pond_parquet_reader *)r, r->meta.created_by);
}

int pond_parquet_reader_kv_count(const pond_parquet_reader *r) { return (int)r->meta.n_kv; }

int pond_parquet_reader_kv(const pond_parquet_reader *r, int i, const char **key,
                           const char **value)
{
    if (i < 0 || (uint32_t)i >= r->meta.n_kv)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "key-value index %d", i);
    pond_parquet_reader *w = (pond_parquet_reader *)r;
    *key = arena_cstr(w, r->meta.kv[i].key);
    *value = arena_cstr(w, r->meta.kv[i].value);
    if (!*key)
        return POND_ENOMEM;
    return 0;
}

int pond_parquet_reader_warning_count(const pond_parquet_reader *r) { return r->n_warnings; }

const char *pond_parquet_reader_warning(const pond_parquet_reader *r, int i)
{
    return i >= 0 && i < r->n_warnings ? r->warnings[i] : NULL;
}

/* ---------------------------------------------------------------- pruning */

bool pond_parquet_reader_row_group_selected(const pond_parquet_reader *r, int i)
{
    return i >= 0 && (uint32_t)i < r->meta.n_row_groups && r->rg_selected[i];
}

static int prune_leaf(pond_parquet_reader *r, const char *column, const pq_node **leaf_out)
{
    int k = find_field(r, column);
    if (k < 0)
        return pond_error_set(POND_ENOTFOUND, POND_DOM_PARQUET, "prune: no column named '%s'",
                              column);
    const pq_node *n = r->schema.root->children[k];
    if (n->kind != PQN_LEAF)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "prune: column '%s' is nested",
                              column);
    *leaf_out = n;
    return 0;
}

/* Deselect the row groups whose chunk statistics for p->leaf prove no value meets p: the new
 * min/max fields, or the deprecated ones, which are right for the signed sort order of ints
 * and floats, the only columns pruned. */
static void prune_row_groups(pond_parquet_reader *r, const pq_pred *p, int physical)
{
    for (uint32_t i = 0; i < r->meta.n_row_groups; i++) {
        const pq_column_chunk *cc = &r->meta.row_groups[i].columns[p->leaf];
        if (!r->rg_selected[i] || !cc->has_meta_data || !cc->meta_data.has_statistics)
            continue;
        const pq_statistics *s = &cc->meta_data.statistics;
        pq_bytes mn = s->min_value.ptr ? s->min_value : s->min;
        pq_bytes mx = s->max_value.ptr ? s->max_value : s->max;
        if (!pond_pq_stats_may_match(p, physical, mn, mx))
            r->rg_selected[i] = 0;
    }
}

int pond_parquet_reader_prune_int(pond_parquet_reader *r, const char *column, int64_t lo,
                                  int64_t hi)
{
    const pq_node *n;
    int rc = prune_leaf(r, column, &n);
    if (rc < 0)
        return rc;
    int t = n->desc.physical;
    bool unsig =
        n->format[0] == 'C' || n->format[0] == 'S' || n->format[0] == 'I' || n->format[0] == 'L';
    if ((t != PQ_INT32 && t != PQ_INT64) || n->conv >= PQC_DEC_I32 || unsig)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                              "prune: column '%s' is not a "
                              "signed integer-based column",
                              column);
    pq_pred p = {.leaf = n->first_leaf, .ilo = lo, .ihi = hi};
    prune_row_groups(r, &p, t);
    if (r->n_preds < PQ_MAX_PREDS)
        r->preds[r->n_preds++] = p;
    return 0;
}

int pond_parquet_reader_prune_double(pond_parquet_reader *r, const char *column, double lo,
                                     double hi)
{
    const pq_node *n;
    int rc = prune_leaf(r, column, &n);
    if (rc < 0)
        return rc;
    int t = n->desc.physical;
    if (t != PQ_FLOAT && t != PQ_DOUBLE)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                              "prune: column '%s' is not a "
                              "floating-point column",
                              column);
    pq_pred p = {.leaf = n->first_leaf, .is_double = true, .dlo = lo, .dhi = hi};
    prune_row_groups(r, &p, t);
    if (r->n_preds < PQ_MAX_PREDS && !isnan(lo) && !isnan(hi))
        r->preds[r->n_preds++] = p;
    return 0;
}

/* ---------------------------------------------------------------- stream */

typedef struct {
    pond_parquet_reader *r;
    char err[512];
} stream_priv;

static int stream_fail(stream_priv *p, int rc)
{
    snprintf(p->err, sizeof p->err, "%s", pond_error_last()->message);
    return pond__errno_of(rc);
}

static int stream_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    stream_priv *p = s->private_data;
    int rc = pond_parquet_reader_schema(p->r, out);
    return rc < 0 ? stream_fail(p, rc) : 0;
}

static int stream_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    stream_priv *p = s->private_data;
    int rc = pond_parquet_reader_next(p->r, out);
    if (rc == POND_ITEROVER) {
        out->release = NULL;
        return 0;
    }
    return rc < 0 ? stream_fail(p, rc) : 0;
}

static const char *stream_error(struct ArrowArrayStream *s)
{
    stream_priv *p = s->private_data;
    return p->err[0] ? p->err : NULL;
}

static void stream_release(struct ArrowArrayStream *s)
{
    stream_priv *p = s->private_data;
    if (p) {
        pond_parquet_reader_free(p->r);
        pond_free(p);
    }
    s->release = NULL;
}

int pond_parquet_reader_stream(struct ArrowArrayStream *out, pond_parquet_reader *r)
{
    POND_ASSERT_ARG(out && r);
    memset(out, 0, sizeof *out);
    stream_priv *p = pond_calloc(1, sizeof *p);
    if (!p) {
        pond_parquet_reader_free(r);
        return POND_ENOMEM;
    }
    p->r = r;
    out->get_schema = stream_schema;
    out->get_next = stream_next;
    out->get_last_error = stream_error;
    out->release = stream_release;
    out->private_data = p;
    return 0;
}

/* ---------------------------------------------------------------- dump */

int pond_parquet_dump(pond_parquet_reader *r, pond_parquet_write_fn write, void *payload,
                      int64_t *rows_out)
{
    struct ArrowSchema s;
    struct ArrowArray a;
    pond_buf out = POND_BUF_INIT;
    int64_t rows = 0;
    int rc = pond_parquet_reader_schema(r, &s);
    if (rc < 0)
        return rc;
    for (;;) {
        rc = pond_parquet_reader_next(r, &a);
        if (rc == POND_ITEROVER) {
            rc = 0;
            break;
        }
        if (rc < 0)
            break;
        /* write in slices so the text buffer stays small */
        for (int64_t off = 0; off < a.length && rc == 0; off += 4096) {
            struct ArrowArray view = a;
            view.offset = a.offset + off;
            view.length = POND_MIN(4096, a.length - off);
            pond_buf_clear(&out);
            rc = pond_arrow_canon_batch(&out, &s, &view);
            if (rc == 0 && out.size)
                rc = write(out.ptr, out.size, payload);
        }
        rows += a.length;
        pond_arrow_array_release(&a);
        if (rc < 0)
            break;
    }
    pond_buf_dispose(&out);
    pond_arrow_schema_release(&s);
    if (rows_out)
        *rows_out = rows;
    return rc;
}
