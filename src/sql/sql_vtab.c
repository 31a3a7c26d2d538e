/* The "pond" SQLite virtual-table module: a pond table or series as a read-only SQL table.
 * A cursor holds one Arrow batch of a pond_table_read_stream at a time; xColumn reads the
 * current row straight from that batch's buffers by a per-column kind decided once per batch. */
#include "sql/sql_internal.h"

#include <pond/alloc.h>
#include <pond/errors.h>
#include <pond/timefmt.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D POND_DOM_SQL

/* Planning: rows are estimated from the stored (compressed) bytes of the selected versions;
 * only the ratios between plans matter. A table whose scans fit the cache costs little to
 * scan again, which steers SQLite to put it in the inner loop of a join. */
#define PLAN_BYTES_PER_ROW 8
#define SMALL_STORED_BYTES ((int64_t)8 << 20)
/* Completed scans a table keeps for rescans (inner loops of joins); their decoded bytes are
 * limited by pond_sql's cache_limit. */
#define CACHE_SLOTS 4

typedef enum {
    K_NULL,
    K_BOOL,
    K_I8,
    K_U8,
    K_I16,
    K_U16,
    K_I32,
    K_U32,
    K_I64,
    K_U64,
    K_F32,
    K_F64,
    K_STR,
    K_LSTR,
    K_BIN,
    K_LBIN,
    K_TS_S,
    K_TS_MS,
    K_TS_US,
    K_TS_NS,
    K_DATE32,
    K_OTHER
} col_kind;

static col_kind kind_of(const char *format, const char **decl)
{
    pond_arrow_format f;
    *decl = "TEXT";
    if (pond_arrow_format_parse(&f, format) < 0)
        return K_OTHER;
    switch (f.type) {
    case POND_ARROW_NA: *decl = ""; return K_NULL;
    case POND_ARROW_BOOL: *decl = "INTEGER"; return K_BOOL;
    case POND_ARROW_INT8: *decl = "INTEGER"; return K_I8;
    case POND_ARROW_UINT8: *decl = "INTEGER"; return K_U8;
    case POND_ARROW_INT16: *decl = "INTEGER"; return K_I16;
    case POND_ARROW_UINT16: *decl = "INTEGER"; return K_U16;
    case POND_ARROW_INT32: *decl = "INTEGER"; return K_I32;
    case POND_ARROW_UINT32: *decl = "INTEGER"; return K_U32;
    case POND_ARROW_INT64: *decl = "INTEGER"; return K_I64;
    case POND_ARROW_UINT64: *decl = "INTEGER"; return K_U64;
    case POND_ARROW_FLOAT: *decl = "REAL"; return K_F32;
    case POND_ARROW_DOUBLE: *decl = "REAL"; return K_F64;
    case POND_ARROW_STRING: return K_STR;
    case POND_ARROW_LARGE_STRING: return K_LSTR;
    case POND_ARROW_BINARY: *decl = "BLOB"; return K_BIN;
    case POND_ARROW_LARGE_BINARY: *decl = "BLOB"; return K_LBIN;
    case POND_ARROW_DATE32: *decl = "DATE"; return K_DATE32;
    case POND_ARROW_TIMESTAMP:
        *decl = *f.tz ? "TIMESTAMP" : "DATETIME";
        return f.unit == POND_ARROW_UNIT_S    ? K_TS_S
               : f.unit == POND_ARROW_UNIT_MS ? K_TS_MS
               : f.unit == POND_ARROW_UNIT_US ? K_TS_US
                                              : K_TS_NS;
    default: return K_OTHER;
    }
}

typedef struct {
    sqlite3_vtab base;
    pond_sql *q;
    char *name; /* the SQL table name */
    char *path;
    int64_t file_version;
    bool series;
    int ncols;
    char **cols; /* column names */
    int ts_col;  /* the series' timestamp column when it is an Arrow timestamp; -1 otherwise */
    pond_table_scan_stats stats;
    double est_rows; /* for planning */
    bool small;      /* stored bytes small enough that its scans are likely cached */
    /* completed scans kept for rescans, by key (columns read, timestamp bounds) */
    struct scan_cache {
        bool used;
        unsigned long long cols;
        bool has_filter;
        int64_t lo, hi;
        struct ArrowSchema schema;
        struct ArrowArray *batches;
        size_t n;
    } cache[CACHE_SLOTS];
    size_t cache_bytes;
    bool too_big; /* a scan outgrew the cache limit: stop trying */
} vtab;

typedef struct scan_cache scan_cache;

static const struct ArrowArray NO_BATCH; /* length 0: the current batch before/after a scan */

/* One column of the current batch. */
typedef struct {
    col_kind kind;
    const uint8_t *valid; /* NULL when the batch has no nulls in it */
    const void *data;     /* buffer 1 */
    const char *bytes;    /* buffer 2 of (large) strings and binaries */
    int64_t off;          /* offset of row 0 of the batch into the buffers */
    const struct ArrowSchema *schema;
    const struct ArrowArray *array;
} colview;

typedef struct {
    sqlite3_vtab_cursor base;
    struct ArrowArrayStream st;
    struct ArrowSchema schema; /* of st */
    struct ArrowArray batch;   /* the stream's current batch */
    const struct ArrowArray *cur;        /* the current batch: &batch or a cached one */
    const struct ArrowSchema *cur_schema; /* &schema or the cache entry's */
    const scan_cache *cached;            /* rescanning this cache entry; NULL: the stream */
    size_t cache_i;
    /* stream mode: batches already read, kept to become a cache entry at the end */
    bool keeping;
    struct ArrowArray *keep;
    size_t n_keep, cap_keep, keep_bytes;
    unsigned long long cols; /* the scan's key */
    int64_t row, rowid;
    int *map; /* vtab column -> child of the stream's batches, -1 if not read */
    colview *cv;
    bool eof;
    /* the timestamp conditions SQLite left to us (omitted): lo <= ts <= hi, ts not null */
    bool has_filter;
    int64_t lo, hi;
} cursor;

/* ---- the registry of attached tables (for stats) ---- */

static int registry_add(pond_sql *q, vtab *t)
{
    if (q->n_tabs == q->cap_tabs) {
        size_t cap = q->cap_tabs ? q->cap_tabs * 2 : 8;
        void **n = pond_realloc(q->tabs, cap * sizeof *n);
        if (!n)
            return POND_ENOMEM;
        q->tabs = n;
        q->cap_tabs = cap;
    }
    q->tabs[q->n_tabs++] = t;
    return 0;
}

static void registry_remove(pond_sql *q, vtab *t)
{
    for (size_t i = 0; i < q->n_tabs; i++)
        if (q->tabs[i] == t) {
            q->tabs[i] = q->tabs[--q->n_tabs];
            return;
        }
}

int pond_sql_table_stats(pond_table_scan_stats *out, pond_sql *q, const char *name)
{
    for (size_t i = 0; i < q->n_tabs; i++) {
        vtab *t = q->tabs[i];
        if (!sqlite3_stricmp(t->name, name)) {
            *out = t->stats;
            return 0;
        }
    }
    return pond_error_set(POND_ENOTFOUND, D, "sql: no attached table '%s'", name);
}

void pond_sql_reset_stats(pond_sql *q)
{
    for (size_t i = 0; i < q->n_tabs; i++)
        memset(&((vtab *)q->tabs[i])->stats, 0, sizeof(pond_table_scan_stats));
}

/* ---- connect / disconnect ---- */

static void cache_entry_free(scan_cache *e)
{
    for (size_t i = 0; i < e->n; i++)
        pond_arrow_array_release(&e->batches[i]);
    pond_free(e->batches);
    pond_arrow_schema_release(&e->schema);
    memset(e, 0, sizeof *e);
}

static void vtab_free(vtab *t)
{
    if (!t)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (t->cache[i].used)
            cache_entry_free(&t->cache[i]);
    for (int i = 0; i < t->ncols && t->cols; i++)
        pond_free(t->cols[i]);
    pond_free(t->cols);
    pond_free(t->name);
    pond_free(t->path);
    pond_free(t);
}

/* A module argument as written in CREATE VIRTUAL TABLE: '...' (with '' for '), or bare. */
static char *unquote_arg(const char *a)
{
    size_t n = strlen(a);
    while (n && (a[n - 1] == ' ' || a[n - 1] == '\t' || a[n - 1] == '\n'))
        n--;
    while (n && (*a == ' ' || *a == '\t' || *a == '\n')) {
        a++;
        n--;
    }
    char *out = pond_malloc(n + 1);
    if (!out)
        return NULL;
    if (n >= 2 && (a[0] == '\'' || a[0] == '"') && a[n - 1] == a[0]) {
        char qc = a[0];
        size_t k = 0;
        for (size_t i = 1; i + 1 < n; i++) {
            out[k++] = a[i];
            if (a[i] == qc && i + 2 < n && a[i + 1] == qc)
                i++;
        }
        out[k] = '\0';
    } else {
        memcpy(out, a, n);
        out[n] = '\0';
    }
    return out;
}

static int set_err(char **pzErr, const char *msg)
{
    *pzErr = sqlite3_mprintf("%s", msg);
    return SQLITE_ERROR;
}

static int vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                      sqlite3_vtab **out, char **pzErr)
{
    pond_sql *q = aux;
    if (argc < 4 || argc > 5)
        return set_err(pzErr, "usage: CREATE VIRTUAL TABLE name USING pond('/path' [, version])");
    if (!q->fs)
        return set_err(pzErr, "pond: no pond is open");
    vtab *t = pond_calloc(1, sizeof *t);
    if (!t)
        return SQLITE_NOMEM;
    t->q = q;
    t->ts_col = -1;
    struct ArrowArrayStream st = {0};
    struct ArrowSchema schema = {0};
    pond_buf ddl = POND_BUF_INIT;
    char *ts_name = NULL, *vs = NULL;
    int rc = SQLITE_OK;
    if (!(t->name = pond_strdup(argv[2])) || !(t->path = unquote_arg(argv[3]))) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    if (argc == 5) {
        char *end;
        if (!(vs = unquote_arg(argv[4]))) {
            rc = SQLITE_NOMEM;
            goto done;
        }
        t->file_version = strtoll(vs, &end, 10);
        if (*end || t->file_version < 0) {
            *pzErr = sqlite3_mprintf("pond: bad version '%s'", vs);
            rc = SQLITE_ERROR;
            goto done;
        }
    }
    pond_stat stt;
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.file_version = t->file_version;
    if (pond_fs_stat(&stt, q->fs, NULL, t->path) < 0 ||
        pond_table_read_stream(&st, q->fs, NULL, t->path, &ro) < 0) {
        rc = set_err(pzErr, pond_error_last()->message);
        goto done;
    }
    t->series = stt.type == POND_ENTRY_FILE_SERIES;
    pond_stat *vers = NULL;
    size_t nv = 0;
    int64_t stored = 0;
    if (pond_fs_versions(&vers, &nv, q->fs, NULL, t->path) < 0) {
        rc = set_err(pzErr, pond_error_last()->message);
        goto done;
    }
    for (size_t i = 0; i < nv; i++)
        if (t->file_version ? vers[i].version == t->file_version
                            : (t->series || i + 1 == nv))
            stored += vers[i].size;
    pond_free(vers);
    t->est_rows = (double)(stored / PLAN_BYTES_PER_ROW) + 10;
    t->small = stored <= SMALL_STORED_BYTES;
    int e = st.get_schema(&st, &schema);
    if (e) {
        const char *m = st.get_last_error(&st);
        rc = set_err(pzErr, m ? m : "pond: cannot read the schema");
        goto done;
    }
    if (t->series && pond_series_timestamp_column(&ts_name, q->fs, NULL, t->path) < 0) {
        rc = set_err(pzErr, pond_error_last()->message);
        goto done;
    }
    t->ncols = (int)schema.n_children;
    if (!(t->cols = pond_calloc((size_t)t->ncols + 1, sizeof *t->cols))) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    int brc = pond_buf_puts(&ddl, "CREATE TABLE x(");
    for (int i = 0; i < t->ncols && brc == 0; i++) {
        const struct ArrowSchema *c = schema.children[i];
        const char *decl;
        col_kind k = kind_of(c->format, &decl);
        if (!(t->cols[i] = pond_strdup(c->name ? c->name : ""))) {
            brc = POND_ENOMEM;
            break;
        }
        if (ts_name && !strcmp(t->cols[i], ts_name) && k >= K_TS_S && k <= K_TS_NS)
            t->ts_col = i;
        char *cd = sqlite3_mprintf("%s\"%w\" %s", i ? ", " : "", t->cols[i], decl);
        brc = cd ? pond_buf_puts(&ddl, cd) : POND_ENOMEM;
        sqlite3_free(cd);
    }
    if (brc == 0)
        brc = pond_buf_puts(&ddl, ")");
    if (brc < 0) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    if (t->ncols == 0) {
        *pzErr = sqlite3_mprintf("pond: %s has no columns", t->path);
        rc = SQLITE_ERROR;
        goto done;
    }
    if ((rc = sqlite3_declare_vtab(db, ddl.ptr)) != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("pond: %s: %s", t->path, sqlite3_errmsg(db));
        goto done;
    }
    if (registry_add(q, t) < 0) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    *out = &t->base;
    t = NULL;
done:
    pond_buf_dispose(&ddl);
    pond_arrow_schema_release(&schema);
    pond_arrow_stream_release(&st);
    pond_free(ts_name);
    pond_free(vs);
    vtab_free(t);
    return rc;
}

static int vt_disconnect(sqlite3_vtab *base)
{
    vtab *t = (vtab *)base;
    registry_remove(t->q, t);
    vtab_free(t);
    return SQLITE_OK;
}

/* ---- planning ---- */

static char op_char(unsigned char op)
{
    switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return 'e';
    case SQLITE_INDEX_CONSTRAINT_GT: return 'g';
    case SQLITE_INDEX_CONSTRAINT_GE: return 'G';
    case SQLITE_INDEX_CONSTRAINT_LT: return 'l';
    case SQLITE_INDEX_CONSTRAINT_LE: return 'L';
    default: return 0;
    }
}

/* idxStr: "<colUsed in hex>:<one op char per argv value>". The timestamp constraints are
 * passed down and omitted: xFilter turns them into the exact inclusive range [lo, hi] that
 * SQLite's comparison rules give, the stream reads only that range (versions, row groups,
 * rows), and the cursor re-checks each row in C, so SQLite need not evaluate them. */
static int vt_best_index(sqlite3_vtab *base, sqlite3_index_info *info)
{
    vtab *t = (vtab *)base;
    char ops[64];
    int n = 0;
    bool lo = false, hi = false, eq = false;
    for (int i = 0; i < info->nConstraint && n < (int)sizeof ops - 1; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        char oc = op_char(c->op);
        if (!c->usable || t->ts_col < 0 || c->iColumn != t->ts_col || !oc)
            continue;
        ops[n++] = oc;
        info->aConstraintUsage[i].argvIndex = n;
        info->aConstraintUsage[i].omit = 1; /* exact: see narrow() and row_matches() */
        eq |= oc == 'e';
        lo |= oc == 'g' || oc == 'G';
        hi |= oc == 'l' || oc == 'L';
    }
    ops[n] = '\0';
    double rows = t->est_rows;
    if (eq)
        rows /= 10000;
    else if (lo && hi)
        rows /= 100;
    else if (lo || hi)
        rows /= 4;
    info->estimatedRows = (sqlite3_int64)rows + 1;
    info->estimatedCost = 10 + (t->small ? rows / 20 : rows);
    info->idxStr = sqlite3_mprintf("%llx:%s", (unsigned long long)info->colUsed, ops);
    if (!info->idxStr)
        return SQLITE_NOMEM;
    info->needToFreeIdxStr = 1;
    return SQLITE_OK;
}

/* ---- cursors ---- */

static int vt_open(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
    vtab *t = (vtab *)base;
    cursor *c = pond_calloc(1, sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    c->map = pond_calloc((size_t)t->ncols, sizeof *c->map);
    c->cv = pond_calloc((size_t)t->ncols, sizeof *c->cv);
    if (!c->map || !c->cv) {
        pond_free(c->map);
        pond_free(c->cv);
        pond_free(c);
        return SQLITE_NOMEM;
    }
    c->eof = true;
    c->cur = &NO_BATCH;
    *out = &c->base;
    return SQLITE_OK;
}

static void drop_keep(cursor *c)
{
    for (size_t i = 0; i < c->n_keep; i++)
        pond_arrow_array_release(&c->keep[i]);
    pond_free(c->keep);
    c->keep = NULL;
    c->n_keep = c->cap_keep = c->keep_bytes = 0;
    c->keeping = false;
}

static void cursor_reset(cursor *c)
{
    vtab *t = (vtab *)c->base.pVtab;
    pond_arrow_array_release(&c->batch);
    drop_keep(c);
    c->cached = NULL;
    c->cur = &NO_BATCH;
    c->cur_schema = NULL;
    if (c->st.release) {
        pond_table_scan_stats s;
        if (pond_table_stream_stats(&s, &c->st) == 0) {
            t->stats.versions_total += s.versions_total;
            t->stats.versions_read += s.versions_read;
            t->stats.row_groups_total += s.row_groups_total;
            t->stats.row_groups_read += s.row_groups_read;
            t->stats.rows_read += s.rows_read;
            t->stats.rows_returned += s.rows_returned;
        }
    }
    pond_arrow_stream_release(&c->st);
    pond_arrow_schema_release(&c->schema);
    c->eof = true;
    c->row = 0;
}

static int vt_close(sqlite3_vtab_cursor *base)
{
    cursor *c = (cursor *)base;
    cursor_reset(c);
    pond_free(c->map);
    pond_free(c->cv);
    pond_free(c);
    return SQLITE_OK;
}

static int cursor_fail(cursor *c, const char *msg)
{
    sqlite3_vtab *v = c->base.pVtab;
    sqlite3_free(v->zErrMsg);
    v->zErrMsg = sqlite3_mprintf("%s", msg ? msg : "pond: stream failed");
    return SQLITE_ERROR;
}

/* Points the column views at the new batch. */
static void bind_batch(cursor *c)
{
    vtab *t = (vtab *)c->base.pVtab;
    const struct ArrowArray *b = c->cur;
    for (int i = 0; i < t->ncols; i++) {
        colview *v = &c->cv[i];
        int k = c->map[i];
        if (k < 0) {
            v->kind = K_NULL;
            continue;
        }
        const struct ArrowArray *a = b->children[k];
        const char *decl;
        v->kind = kind_of(c->cur_schema->children[k]->format, &decl);
        v->valid = a->null_count != 0 && a->n_buffers > 0 ? a->buffers[0] : NULL;
        v->data = a->n_buffers > 1 ? a->buffers[1] : NULL;
        v->bytes = a->n_buffers > 2 ? a->buffers[2] : NULL;
        v->off = a->offset + b->offset;
        v->schema = c->cur_schema->children[k];
        v->array = a;
    }
}

/* Decoded bytes of a batch (fixed-width values at 8 bytes, plus string and binary data). */
static size_t batch_bytes(const struct ArrowSchema *schema, const struct ArrowArray *b)
{
    size_t n = sizeof *b;
    for (int64_t k = 0; k < b->n_children && k < schema->n_children; k++) {
        const struct ArrowArray *a = b->children[k];
        const char *decl;
        col_kind kind = kind_of(schema->children[k]->format, &decl);
        n += (size_t)a->length * 8 + 64;
        if ((kind == K_STR || kind == K_BIN) && a->length > 0) {
            const int32_t *o = a->buffers[1];
            n += (size_t)(o[a->offset + a->length] - o[a->offset]);
        } else if ((kind == K_LSTR || kind == K_LBIN) && a->length > 0) {
            const int64_t *o = a->buffers[1];
            n += (size_t)(o[a->offset + a->length] - o[a->offset]);
        }
    }
    return n;
}

/* End of a stream scan that kept its batches: they become a cache entry if a slot is free. */
static int store_cache(cursor *c, bool has_filter, int64_t lo, int64_t hi)
{
    vtab *t = (vtab *)c->base.pVtab;
    scan_cache *e = NULL;
    for (int i = 0; i < CACHE_SLOTS && !e; i++)
        if (!t->cache[i].used)
            e = &t->cache[i];
    if (!e) {
        drop_keep(c);
        return SQLITE_OK;
    }
    if (pond_arrow_schema_copy(&e->schema, &c->schema) < 0) {
        drop_keep(c);
        return cursor_fail(c, pond_error_last()->message);
    }
    e->used = true;
    e->cols = c->cols;
    e->has_filter = has_filter;
    e->lo = lo;
    e->hi = hi;
    e->batches = c->keep;
    e->n = c->n_keep;
    t->cache_bytes += c->keep_bytes;
    c->keep = NULL;
    c->n_keep = c->cap_keep = c->keep_bytes = 0;
    c->keeping = false;
    return SQLITE_OK;
}

/* Moves to the next non-empty batch, or to the end. */
static int next_batch(cursor *c)
{
    vtab *t = (vtab *)c->base.pVtab;
    for (;;) {
        c->row = 0;
        if (c->cached) {
            if (c->cache_i >= c->cached->n) {
                c->eof = true;
                c->cur = &NO_BATCH;
                return SQLITE_OK;
            }
            c->cur = &c->cached->batches[c->cache_i++];
            if (c->cur->length > 0) {
                bind_batch(c);
                return SQLITE_OK;
            }
            continue;
        }
        c->cur = &NO_BATCH;
        if (c->batch.release && c->keeping) {
            if (c->n_keep == c->cap_keep) {
                size_t cap = c->cap_keep ? c->cap_keep * 2 : 16;
                struct ArrowArray *k = pond_realloc(c->keep, cap * sizeof *k);
                if (!k)
                    return SQLITE_NOMEM;
                c->keep = k;
                c->cap_keep = cap;
            }
            pond_arrow_array_move(&c->keep[c->n_keep++], &c->batch);
        }
        pond_arrow_array_release(&c->batch);
        int e = c->st.get_next(&c->st, &c->batch);
        if (e)
            return cursor_fail(c, c->st.get_last_error(&c->st));
        if (!c->batch.release) {
            c->eof = true;
            return c->keeping ? store_cache(c, c->has_filter, c->lo, c->hi) : SQLITE_OK;
        }
        if (c->keeping) {
            c->keep_bytes += batch_bytes(&c->schema, &c->batch);
            if (t->cache_bytes + c->keep_bytes > t->q->cache_limit) {
                drop_keep(c);
                t->too_big = true;
            }
        }
        if (c->batch.length > 0) {
            c->cur = &c->batch;
            bind_batch(c);
            return SQLITE_OK;
        }
    }
}

static int64_t floor_div(int64_t v, int64_t d)
{
    return v / d - (v % d < 0);
}

/* A stored timestamp in microseconds; values beyond the int64 range saturate (only corrupt or
 * absurd data gets there) so that xColumn and the range check agree and never overflow. */
static int64_t ts_to_us(col_kind kind, int64_t raw)
{
    int64_t out;
    switch (kind) {
    case K_TS_S:
    case K_TS_MS:
        if (__builtin_mul_overflow(raw, kind == K_TS_S ? 1000000 : 1000, &out))
            return raw < 0 ? INT64_MIN : INT64_MAX;
        return out;
    case K_TS_NS: return floor_div(raw, 1000);
    default: return raw;
    }
}

/* The timestamp condition on the current row, with the values xColumn would give. */
static bool row_matches(const cursor *c)
{
    const colview *v = &c->cv[((const vtab *)c->base.pVtab)->ts_col];
    int64_t j = c->row + v->off, x;
    if (v->kind == K_NULL || (v->valid && !((v->valid[j >> 3] >> (j & 7)) & 1)))
        return false;
    x = ts_to_us(v->kind, ((const int64_t *)v->data)[j]);
    return x >= c->lo && x <= c->hi;
}

/* From the current position (a row, or past the end of the batch) to the first row that
 * meets the timestamp condition, or to the end. */
static int settle(cursor *c)
{
    for (;;) {
        if (c->row >= c->cur->length) {
            int rc = next_batch(c);
            if (rc != SQLITE_OK || c->eof)
                return rc;
        }
        if (!c->has_filter || row_matches(c))
            return SQLITE_OK;
        c->row++;
    }
}

/* The exact set of µs values v with "v <op> val" as an inclusive [lo, hi] (SQLite's rules:
 * NULL matches nothing; the column has NUMERIC affinity, so text that looks like a number is
 * compared as one; an INTEGER is less than any TEXT or BLOB; INTEGER vs REAL compares the
 * numbers exactly). Returns false when nothing can match. */
#define TWO63 9223372036854775808.0

static bool narrow(char op, sqlite3_value *val, int64_t *lo, int64_t *hi)
{
    int type = sqlite3_value_numeric_type(val);
    int64_t l = INT64_MIN, h = INT64_MAX;
    if (type == SQLITE_NULL)
        return false;
    if (type == SQLITE_INTEGER) {
        int64_t v = sqlite3_value_int64(val);
        switch (op) {
        case 'g':
            if (v == INT64_MAX)
                return false;
            l = v + 1;
            break;
        case 'G': l = v; break;
        case 'l':
            if (v == INT64_MIN)
                return false;
            h = v - 1;
            break;
        case 'L': h = v; break;
        default: l = h = v;
        }
    } else if (type == SQLITE_FLOAT) {
        double d = sqlite3_value_double(val);
        double fl = floor(d), ce = ceil(d);
        if (d != d)
            return false;
        switch (op) {
        case 'g': /* smallest integer > d */
        case 'G': { /* smallest integer >= d */
            double m = op == 'g' ? fl + 1 : ce;
            if (m >= TWO63)
                return false;
            if (m > -TWO63)
                l = (int64_t)m;
            break;
        }
        case 'l': /* largest integer < d */
        case 'L': { /* largest integer <= d */
            double m = op == 'l' ? ce - 1 : fl;
            if (m < -TWO63)
                return false;
            if (m < TWO63)
                h = (int64_t)m;
            break;
        }
        default:
            if (fl != d || d >= TWO63 || d < -TWO63)
                return false;
            l = h = (int64_t)d;
        }
    } else if (op != 'l' && op != 'L') {
        return false; /* text or blob: greater than every integer */
    }
    if (l > *lo)
        *lo = l;
    if (h < *hi)
        *hi = h;
    return *lo <= *hi;
}

static int vt_filter(sqlite3_vtab_cursor *base, int idxNum, const char *idxStr, int argc,
                     sqlite3_value **argv)
{
    (void)idxNum;
    cursor *c = (cursor *)base;
    vtab *t = (vtab *)base->pVtab;
    cursor_reset(c);
    c->rowid = 0;
    char *colon = NULL;
    unsigned long long used = idxStr ? strtoull(idxStr, &colon, 16) : ~0ULL;
    const char *ops = colon && *colon == ':' ? colon + 1 : "";
    c->has_filter = false;
    c->lo = INT64_MIN;
    c->hi = INT64_MAX;
    for (int i = 0; i < argc && ops[i]; i++) {
        c->has_filter = true;
        if (!narrow(ops[i], argv[i], &c->lo, &c->hi))
            return SQLITE_OK; /* nothing can match: read nothing */
    }

    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.file_version = t->file_version;
    if (c->has_filter && (c->lo != INT64_MIN || c->hi != INT64_MAX)) {
        /* [lo, hi] as the stream's [from, to); a hi of INT64_MAX stays a bound of the cursor */
        ro.has_range = true;
        ro.from_us = c->lo;
        ro.to_us = c->hi == INT64_MAX ? INT64_MAX : c->hi + 1;
    }
    const char **names = pond_calloc((size_t)t->ncols + 1, sizeof *names);
    if (!names)
        return SQLITE_NOMEM;
    int nn = 0;
    c->cols = 0;
    for (int i = 0; i < t->ncols; i++)
        if ((used & (1ULL << (i < 63 ? i : 63))) || (c->has_filter && i == t->ts_col)) {
            names[nn++] = t->cols[i];
            c->cols |= 1ULL << (i < 63 ? i : 63);
        }
    if (nn == 0) {
        /* count(*) and the like: read one cheap column for the row counts */
        int pick = t->ts_col >= 0 ? t->ts_col : 0;
        names[nn++] = t->cols[pick];
        c->cols |= 1ULL << (pick < 63 ? pick : 63);
    }
    if (nn < t->ncols) {
        ro.columns = names;
        ro.n_columns = nn;
    }
    /* the same scan again (the inner loop of a join): replay the kept batches */
    for (int i = 0; i < CACHE_SLOTS && !c->cached; i++) {
        const scan_cache *ce = &t->cache[i];
        if (ce->used && ce->cols == c->cols && ce->has_filter == c->has_filter &&
            ce->lo == c->lo && ce->hi == c->hi) {
            c->cached = ce;
            c->cache_i = 0;
            c->cur_schema = &ce->schema;
        }
    }
    int rc = 0;
    if (!c->cached) {
        rc = pond_table_read_stream(&c->st, t->q->fs, NULL, t->path, &ro);
        if (rc == 0) {
            int e = c->st.get_schema(&c->st, &c->schema);
            if (e) {
                pond_free(names);
                return cursor_fail(c, c->st.get_last_error(&c->st));
            }
            c->cur_schema = &c->schema;
            c->keeping = !t->too_big && t->q->cache_limit > 0;
        }
    }
    pond_free(names);
    if (rc < 0)
        return cursor_fail(c, pond_error_last()->message);
    for (int i = 0; i < t->ncols; i++) {
        c->map[i] = -1;
        for (int64_t k = 0; k < c->cur_schema->n_children; k++)
            if (c->cur_schema->children[k]->name &&
                !strcmp(c->cur_schema->children[k]->name, t->cols[i]))
                c->map[i] = (int)k;
    }
    c->eof = false;
    rc = next_batch(c);
    return rc != SQLITE_OK || c->eof ? rc : settle(c);
}

static int vt_next(sqlite3_vtab_cursor *base)
{
    cursor *c = (cursor *)base;
    c->rowid++;
    if (++c->row < c->cur->length && !c->has_filter)
        return SQLITE_OK;
    return settle(c);
}

static int vt_eof(sqlite3_vtab_cursor *base)
{
    return ((cursor *)base)->eof;
}

static int vt_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *out)
{
    *out = ((cursor *)base)->rowid;
    return SQLITE_OK;
}

static int vt_column(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int col)
{
    cursor *c = (cursor *)base;
    const colview *v = &c->cv[col];
    int64_t j = c->row + v->off;
    if (v->kind == K_NULL || (v->valid && !((v->valid[j >> 3] >> (j & 7)) & 1))) {
        sqlite3_result_null(ctx);
        return SQLITE_OK;
    }
    switch (v->kind) {
    case K_BOOL:
        sqlite3_result_int(ctx, (((const uint8_t *)v->data)[j >> 3] >> (j & 7)) & 1);
        break;
    case K_I8: sqlite3_result_int(ctx, ((const int8_t *)v->data)[j]); break;
    case K_U8: sqlite3_result_int(ctx, ((const uint8_t *)v->data)[j]); break;
    case K_I16: sqlite3_result_int(ctx, ((const int16_t *)v->data)[j]); break;
    case K_U16: sqlite3_result_int(ctx, ((const uint16_t *)v->data)[j]); break;
    case K_I32: sqlite3_result_int(ctx, ((const int32_t *)v->data)[j]); break;
    case K_U32: sqlite3_result_int64(ctx, ((const uint32_t *)v->data)[j]); break;
    case K_I64:
    case K_TS_US: sqlite3_result_int64(ctx, ((const int64_t *)v->data)[j]); break;
    case K_U64: {
        uint64_t u = ((const uint64_t *)v->data)[j];
        if (u > (uint64_t)INT64_MAX)
            sqlite3_result_double(ctx, (double)u);
        else
            sqlite3_result_int64(ctx, (int64_t)u);
        break;
    }
    case K_F32: sqlite3_result_double(ctx, ((const float *)v->data)[j]); break;
    case K_F64: sqlite3_result_double(ctx, ((const double *)v->data)[j]); break;
    case K_TS_S:
    case K_TS_MS:
    case K_TS_NS:
        sqlite3_result_int64(ctx, ts_to_us(v->kind, ((const int64_t *)v->data)[j]));
        break;
    case K_STR:
    case K_BIN: {
        const int32_t *o = v->data;
        int32_t lo = o[j], n = o[j + 1] - lo;
        if (v->kind == K_STR)
            sqlite3_result_text(ctx, v->bytes + lo, n, SQLITE_TRANSIENT);
        else
            sqlite3_result_blob(ctx, v->bytes + lo, n, SQLITE_TRANSIENT);
        break;
    }
    case K_LSTR:
    case K_LBIN: {
        const int64_t *o = v->data;
        int64_t lo = o[j], n = o[j + 1] - lo;
        if (v->kind == K_LSTR)
            sqlite3_result_text64(ctx, v->bytes + lo, (sqlite3_uint64)n, SQLITE_TRANSIENT,
                                  SQLITE_UTF8);
        else
            sqlite3_result_blob64(ctx, v->bytes + lo, (sqlite3_uint64)n, SQLITE_TRANSIENT);
        break;
    }
    case K_DATE32: {
        char tmp[40];
        int64_t days = ((const int32_t *)v->data)[j];
        if (days < -719162 || days > 2932896) { /* outside 0001-01-01..9999-12-31: the number */
            sqlite3_result_int64(ctx, days);
            break;
        }
        pond_time_format_iso(tmp, days * 86400LL * 1000000);
        sqlite3_result_text(ctx, tmp, 10, SQLITE_TRANSIENT);
        break;
    }
    default: {
        pond_buf b = POND_BUF_INIT;
        if (pond_arrow_canon_cell(&b, v->schema, v->array, c->row + c->cur->offset) < 0) {
            pond_buf_dispose(&b);
            sqlite3_result_error(ctx, pond_error_last()->message, -1);
            return SQLITE_ERROR;
        }
        sqlite3_result_text(ctx, b.ptr ? b.ptr : "", (int)b.size, SQLITE_TRANSIENT);
        pond_buf_dispose(&b);
        break;
    }
    }
    return SQLITE_OK;
}

static const sqlite3_module MODULE = {
    .iVersion = 1,
    .xCreate = vt_connect,
    .xConnect = vt_connect,
    .xBestIndex = vt_best_index,
    .xDisconnect = vt_disconnect,
    .xDestroy = vt_disconnect,
    .xOpen = vt_open,
    .xClose = vt_close,
    .xFilter = vt_filter,
    .xNext = vt_next,
    .xEof = vt_eof,
    .xColumn = vt_column,
    .xRowid = vt_rowid,
};

int pond_sql__register_module(pond_sql *q)
{
    return sqlite3_create_module_v2(q->db, "pond", &MODULE, q, NULL);
}
