/* The "pond" SQLite virtual-table module: a pond table or series as a read-only SQL table.
 * A cursor holds one Arrow batch of a pond_table_read_stream at a time; xColumn reads the
 * current row straight from that batch's buffers by a per-column kind decided once per batch. */
#include "sql/sql_internal.h"
#include "util/util.h"

#include <pond/oplog.h>

#include <pond/alloc.h>
#include <pond/buf.h>
#include <pond/errors.h>
#include <pond/table.h>
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

sql_kind pond_sql__kind_of(const char *format, const char **decl)
{
    pond_arrow_format f;
    *decl = "TEXT";
    if (pond_arrow_format_parse(&f, format) < 0)
        return K_OTHER;
    switch (f.type) {
    case POND_ARROW_NA:
        *decl = "";
        return K_NULL;
    case POND_ARROW_BOOL:
        *decl = "INTEGER";
        return K_BOOL;
    case POND_ARROW_INT8:
        *decl = "INTEGER";
        return K_I8;
    case POND_ARROW_UINT8:
        *decl = "INTEGER";
        return K_U8;
    case POND_ARROW_INT16:
        *decl = "INTEGER";
        return K_I16;
    case POND_ARROW_UINT16:
        *decl = "INTEGER";
        return K_U16;
    case POND_ARROW_INT32:
        *decl = "INTEGER";
        return K_I32;
    case POND_ARROW_UINT32:
        *decl = "INTEGER";
        return K_U32;
    case POND_ARROW_INT64:
        *decl = "INTEGER";
        return K_I64;
    case POND_ARROW_UINT64:
        *decl = "INTEGER";
        return K_U64;
    case POND_ARROW_FLOAT:
        *decl = "REAL";
        return K_F32;
    case POND_ARROW_DOUBLE:
        *decl = "REAL";
        return K_F64;
    case POND_ARROW_STRING:
        return K_STR;
    case POND_ARROW_LARGE_STRING:
        return K_LSTR;
    case POND_ARROW_BINARY:
        *decl = "BLOB";
        return K_BIN;
    case POND_ARROW_LARGE_BINARY:
        *decl = "BLOB";
        return K_LBIN;
    case POND_ARROW_DATE32:
        *decl = "DATE";
        return K_DATE32;
    case POND_ARROW_TIMESTAMP:
        *decl = *f.tz ? "TIMESTAMP" : "DATETIME";
        return f.unit == POND_ARROW_UNIT_S    ? K_TS_S
               : f.unit == POND_ARROW_UNIT_MS ? K_TS_MS
               : f.unit == POND_ARROW_UNIT_US ? K_TS_US
                                              : K_TS_NS;
    default:
        return K_OTHER;
    }
}

typedef struct {
    sqlite3_vtab base;
    pond_sql *q;
    pond_fs *fs;    /* q->fs, or the pond this table names (pond_sql_register) */
    sql_pond *pond; /* pond_sql_register: its entry in q->ponds (a reference) */
    char *name;     /* the SQL table name */
    char *schema;   /* the SQL schema it lives in (temp, main, ...) */
    char *path;
    int64_t file_version;
    bool series;
    int ncols;
    char **cols;     /* column names */
    sql_kind *kinds; /* of the union schema */
    int ts_col;      /* the series' timestamp column when it is an Arrow timestamp; -1 otherwise */
    table_scan_version *vers; /* the selected versions as attached (a snapshot, like the cache) */
    size_t n_vers;
    bool dedup; /* a series read under dedup=last: scans go through the table reader */
    pond_table_scan_stats stats;
    double est_rows; /* for planning */
    bool small;      /* stored bytes small enough that its scans are likely cached */
    /* completed scans kept for rescans, by key (columns read, timestamp bounds, pruning) */
    struct scan_cache {
        bool used;
        unsigned long long cols;
        bool has_filter;
        int64_t lo, hi;
        char *pkey;                  /* the pruning ranges as text ("" for none) */
        struct ArrowSchema *schemas; /* one per batch (versions differ) */
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
    sql_kind kind;
    const uint8_t *valid; /* NULL when the batch has no nulls in it */
    const void *data;     /* buffer 1 */
    const char *bytes;    /* buffer 2 of (large) strings and binaries */
    int64_t off;          /* offset of row 0 of the batch into the buffers */
    const struct ArrowSchema *schema;
    const struct ArrowArray *array;
} colview;

#define MAX_PRUNES 16

typedef struct {
    sqlite3_vtab_cursor base;
    table_scan *scan;
    struct ArrowArray batch;                /* the scan's current batch */
    const struct ArrowSchema *batch_schema; /* its schema (the scan's) */
    const struct ArrowArray *cur;           /* the current batch: &batch or a cached one */
    const struct ArrowSchema *cur_schema;   /* its schema */
    const scan_cache *cached;               /* rescanning this cache entry; NULL: the scan */
    size_t cache_i;
    /* scan mode: batches already read, kept to become a cache entry at the end */
    bool keeping;
    struct ArrowArray *keep;
    struct ArrowSchema *keep_schemas;
    size_t n_keep, cap_keep, keep_bytes;
    unsigned long long cols; /* the scan's key */
    char *pkey;
    const char **names; /* the columns the scan reads */
    int n_names;
    table_scan_pred prunes[MAX_PRUNES + 1]; /* other columns, then the timestamp */
    int n_prunes;
    int64_t row, rowid;
    colview *cv;
    bool eof;
    /* the timestamp conditions SQLite left to us (omitted): lo <= ts <= hi, ts not null */
    bool has_filter;
    int64_t lo, hi;
} cursor;

/* ---- the registry of attached tables (for stats) ---- */

static int registry_add(pond_sql *q, vtab *t)
{
    if (POND_GROW(q->tabs, q->n_tabs, q->cap_tabs) < 0)
        return POND_ENOMEM;
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
    for (size_t i = 0; i < e->n; i++) {
        pond_arrow_array_release(&e->batches[i]);
        pond_arrow_schema_release(&e->schemas[i]);
    }
    pond_free(e->batches);
    pond_free(e->schemas);
    pond_free(e->pkey);
    memset(e, 0, sizeof *e);
}

static void pond_unref(pond_sql *q, sql_pond *sp);

static void vtab_free(vtab *t)
{
    if (!t)
        return;
    if (t->pond)
        pond_unref(t->q, t->pond);
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (t->cache[i].used)
            cache_entry_free(&t->cache[i]);
    for (int i = 0; i < t->ncols && t->cols; i++)
        pond_free(t->cols[i]);
    pond_free(t->cols);
    pond_free(t->kinds);
    pond_free(t->vers);
    pond_free(t->name);
    pond_free(t->schema);
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

/* ---- ponds named by tables (pond_sql_register) ---- */

/* The pond at dir, opened read-only once per connection and shared by its tables. */
static int pond_ref(sql_pond **out, pond_sql *q, const char *dir)
{
    for (size_t i = 0; i < q->n_ponds; i++) {
        sql_pond *sp = q->ponds[i];
        if (!strcmp(sp->dir, dir)) {
            sp->refs++;
            *out = sp;
            return 0;
        }
    }
    sql_pond *sp = pond_calloc(1, sizeof *sp);
    sql_pond **arr = pond_realloc(q->ponds, (q->n_ponds + 1) * sizeof *arr);
    if (arr)
        q->ponds = arr;
    if (!sp || !arr) {
        pond_free(sp);
        return POND_ENOMEM;
    }
    int rc = (sp->dir = pond_strdup(dir)) ? 0 : POND_ENOMEM;
    if (rc == 0)
        rc = pond_oplog_open(&sp->be, dir, NULL);
    if (rc == 0)
        rc = pond_fs_open(&sp->fs, sp->be, NULL);
    if (rc < 0) {
        pond_fs_free(sp->fs);
        pond_backend_free(sp->be);
        pond_free(sp->dir);
        pond_free(sp);
        return rc;
    }
    sp->refs = 1;
    arr[q->n_ponds++] = sp;
    *out = sp;
    return 0;
}

static void pond_close_one(sql_pond *sp)
{
    pond_fs_free(sp->fs);
    pond_backend_free(sp->be);
    pond_free(sp->dir);
    pond_free(sp);
}

static void pond_unref(pond_sql *q, sql_pond *sp)
{
    if (--sp->refs > 0)
        return;
    sql_pond **arr = q->ponds;
    for (size_t i = 0; i < q->n_ponds; i++)
        if (arr[i] == sp) {
            arr[i] = arr[--q->n_ponds];
            break;
        }
    pond_close_one(sp);
}

void pond_sql__close_ponds(pond_sql *q)
{
    for (size_t i = 0; i < q->n_ponds; i++)
        pond_close_one(q->ponds[i]);
    pond_free(q->ponds);
    q->ponds = NULL;
    q->n_ponds = 0;
}

static int vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                      char **pzErr)
{
    pond_sql *q = aux;
    /* a pond_sql's own tables name a path of its fs; a registered connection's tables name
       the pond directory first */
    int first = q->foreign ? 4 : 3;
    if (argc < first + 1 || argc > first + 2)
        return set_err(pzErr, q->foreign ? "usage: CREATE VIRTUAL TABLE name USING "
                                           "pond('/pond/dir', '/path' [, version])"
                                         : "usage: CREATE VIRTUAL TABLE name USING "
                                           "pond('/path' [, version])");
    if (!q->foreign && !q->fs)
        return set_err(pzErr, "pond: no pond is open");
    vtab *t = pond_calloc(1, sizeof *t);
    if (!t)
        return SQLITE_NOMEM;
    t->q = q;
    t->fs = q->fs;
    t->ts_col = -1;
    struct ArrowSchema uschema = {0};        /* the columns */
    const struct ArrowSchema **ucols = NULL; /* the union's columns (borrowed from those) */
    pond_buf ddl = POND_BUF_INIT;
    char *ts_name = NULL, *vs = NULL;
    int rc = SQLITE_OK;
    if (!(t->name = pond_strdup(argv[2])) || !(t->schema = pond_strdup(argv[1])) ||
        !(t->path = unquote_arg(argv[first]))) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    if (q->foreign) {
        char *dir = unquote_arg(argv[3]);
        int orc = dir ? pond_ref(&t->pond, q, dir) : POND_ENOMEM;
        pond_free(dir);
        if (orc == POND_ENOMEM) {
            rc = SQLITE_NOMEM;
            goto done;
        }
        if (orc < 0) {
            rc = set_err(pzErr, pond_error_last()->message);
            goto done;
        }
        t->fs = t->pond->fs;
    }
    if (argc == first + 2) {
        char *end;
        if (!(vs = unquote_arg(argv[first + 1]))) {
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
    /* everything from the series index: no version is read to attach it */
    pond_fs_node *node = NULL;
    pond_stat stt;
    if (pond_fs_node_open(&node, t->fs, NULL, t->path, 0) < 0 ||
        pond_fs_node_stat(&stt, node) < 0) {
        pond_fs_node_free(node);
        rc = set_err(pzErr, pond_error_last()->message);
        goto done;
    }
    if (stt.type != POND_ENTRY_FILE_TABLE && stt.type != POND_ENTRY_FILE_SERIES) {
        pond_fs_node_free(node);
        *pzErr = sqlite3_mprintf("%s is a %s, not a table or series", t->path,
                                 pond_entry_type_name(stt.type));
        rc = SQLITE_ERROR;
        goto done;
    }
    t->series = stt.type == POND_ENTRY_FILE_SERIES;
    /* the versions a scan reads (the table layer selects them, as its reader does) */
    int64_t stored = 0;
    int xrc = pond_table__scan_versions(&t->vers, &t->n_vers, &stored, node, t->file_version);
    /* the columns: the series' merged schema, or the one version's (its footer) */
    if (xrc == 0 && t->series && !t->file_version)
        xrc = pond_table_node_schema(&uschema, node);
    else if (xrc == 0 && t->n_vers)
        xrc = pond_table__version_footer(NULL, &uschema, node, t->vers[0].version);
    if (xrc == 0 && t->series && !t->file_version) {
        pond_series_settings set;
        if ((xrc = pond_series_node_settings_get(&set, node)) == 0) {
            t->dedup = set.dedup == POND_DEDUP_LAST;
            pond_series_settings_dispose(&set);
        }
    }
    pond_fs_node_free(node);
    if (xrc < 0) {
        rc = set_err(pzErr, pond_error_last()->message);
        goto done;
    }
    t->est_rows = (double)(stored / PLAN_BYTES_PER_ROW) + 10;
    t->small = stored <= SMALL_STORED_BYTES;
    if (!uschema.release && pond_arrow_schema_init(&uschema, "+s", "", 0, 0) < 0) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    if (!(ucols = pond_calloc((size_t)uschema.n_children + 1, sizeof *ucols))) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    for (int64_t i = 0; i < uschema.n_children; i++)
        ucols[t->ncols++] = uschema.children[i];
    /* wall-clock timestamps of a series in another zone than UTC are converted by the reader
     * when it filters, but SQLite compares the stored values: no pushdown for them */
    bool wall_clock_utc = true;
    if (t->series) {
        pond_series_settings set;
        if (pond_series_settings_get(&set, t->fs, NULL, t->path) < 0) {
            rc = set_err(pzErr, pond_error_last()->message);
            goto done;
        }
        ts_name = set.timestamp_column;
        set.timestamp_column = NULL;
        wall_clock_utc = !set.timezone || !strcmp(set.timezone, "UTC");
        pond_series_settings_dispose(&set);
    }
    if (!(t->cols = pond_calloc((size_t)t->ncols + 1, sizeof *t->cols)) ||
        !(t->kinds = pond_calloc((size_t)t->ncols + 1, sizeof *t->kinds))) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    int brc = pond_buf_puts(&ddl, "CREATE TABLE x(");
    for (int i = 0; i < t->ncols && brc == 0; i++) {
        const struct ArrowSchema *c = ucols[i];
        const char *decl;
        sql_kind k = pond_sql__kind_of(c->format, &decl);
        t->kinds[i] = k;
        if (!(t->cols[i] = pond_strdup(c->name ? c->name : ""))) {
            brc = POND_ENOMEM;
            break;
        }
        if (ts_name && !strcmp(t->cols[i], ts_name) && k >= K_TS_S && k <= K_TS_NS &&
            (wall_clock_utc || !strcmp(decl, "TIMESTAMP")))
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
    if (t->ncols > sqlite3_limit(db, SQLITE_LIMIT_COLUMN, -1)) {
        *pzErr = sqlite3_mprintf("pond: %s has %d columns, and SQL tables have at most %d", t->path,
                                 t->ncols, sqlite3_limit(db, SQLITE_LIMIT_COLUMN, -1));
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
    pond_arrow_schema_release(&uschema);
    pond_free(ucols);
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
    case SQLITE_INDEX_CONSTRAINT_EQ:
        return 'e';
    case SQLITE_INDEX_CONSTRAINT_GT:
        return 'g';
    case SQLITE_INDEX_CONSTRAINT_GE:
        return 'G';
    case SQLITE_INDEX_CONSTRAINT_LT:
        return 'l';
    case SQLITE_INDEX_CONSTRAINT_LE:
        return 'L';
    default:
        return 0;
    }
}

/* Columns whose Parquet statistics can prune row groups for a comparison: signed integers,
 * floats and timestamps (unsigned ones are stored with a different sort order). */
static bool prunable(sql_kind k)
{
    return (k >= K_I8 && k <= K_I64 && k != K_U8 && k != K_U16 && k != K_U32) || k == K_F32 ||
           k == K_F64 || (k >= K_TS_S && k <= K_TS_NS);
}

/* The fast path's recogniser (q->probe, see sql_internal.h): every comparison of a numeric
 * column (the kinds pond_aggregate computes with) is taken and omitted, and the call recorded
 * with the right-hand values SQLite knows now. The statement is only explained, never run. */
static int probe_best_index(vtab *t, sqlite3_index_info *info)
{
    sql_probe *pr = t->q->probe;
    if (pr->n_calls >= SQL_PROBE_CALLS)
        return SQLITE_CONSTRAINT; /* bounded: SQLite tries another plan or fails the EXPLAIN */
    int id = pr->n_calls++;
    sql_probe_call *call = &pr->calls[id];
    memset(call, 0, sizeof *call);
    call->table = &t->stats;
    call->vtab = &t->base;
    call->name = t->name;
    pond_buf ops = POND_BUF_INIT;
    int rc = pond_buf_printf(&ops, "probe%d:", id);
    for (int i = 0; i < info->nConstraint && rc == 0; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        char oc = op_char(c->op);
        if (!c->usable || !oc || c->iColumn < 0 || c->iColumn >= t->ncols)
            continue;
        sql_kind k = t->kinds[c->iColumn];
        if (!((k >= K_BOOL && k <= K_I64 && k != K_U64) || k == K_F32 || k == K_F64 ||
              (k >= K_TS_S && k <= K_TS_NS)))
            continue;
        if (call->n < SQL_PROBE_ARGS) {
            sqlite3_value *rhs = NULL;
            if (sqlite3_vtab_rhs_value(info, i, &rhs) == SQLITE_OK &&
                !(call->rhs[call->n] = sqlite3_value_dup(rhs)))
                rc = POND_ENOMEM;
        }
        info->aConstraintUsage[i].argvIndex = ++call->n;
        info->aConstraintUsage[i].omit = 1;
        if (rc == 0)
            rc = pond_buf_printf(&ops, "%c%d,", oc, c->iColumn);
    }
    if (rc == 0 && !(info->idxStr = sqlite3_mprintf("%s", ops.ptr)))
        rc = POND_ENOMEM;
    pond_buf_dispose(&ops);
    if (rc)
        return SQLITE_NOMEM;
    info->needToFreeIdxStr = 1;
    info->estimatedRows = 1;
    info->estimatedCost = 1e6 / (1 + call->n); /* the plan that takes every condition */
    return SQLITE_OK;
}

/* idxStr: "<colUsed in hex>:" then "<op char><column>," per argv value.
 * - Timestamp constraints are passed down and omitted: xFilter turns them into the exact
 *   inclusive range [lo, hi] that SQLite's comparison rules give, the scan reads only that
 *   range (versions, row groups), and the cursor checks each row in C, so SQLite need not.
 * - Comparisons of another prunable column with a constant (known now: a join's changing
 *   values are not used) only prune row groups by statistics; SQLite still checks them. */
static int vt_best_index(sqlite3_vtab *base, sqlite3_index_info *info)
{
    vtab *t = (vtab *)base;
    if (t->q->probe)
        return probe_best_index(t, info);
    char ops[64 * 8];
    size_t len = 0;
    int n = 0, npr = 0;
    bool lo = false, hi = false, eq = false;
    for (int i = 0; i < info->nConstraint && len + 16 < sizeof ops; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        char oc = op_char(c->op);
        if (!c->usable || !oc || c->iColumn < 0 || c->iColumn >= t->ncols)
            continue;
        if (c->iColumn == t->ts_col) {
            info->aConstraintUsage[i].omit = 1; /* exact: see pond_sql__narrow, row_matches */
            eq |= oc == 'e';
            lo |= oc == 'g' || oc == 'G';
            hi |= oc == 'l' || oc == 'L';
        } else {
            sqlite3_value *rhs = NULL;
            if (!prunable(t->kinds[c->iColumn]) || npr >= MAX_PRUNES ||
                sqlite3_vtab_rhs_value(info, i, &rhs) != SQLITE_OK)
                continue;
            npr++;
        }
        info->aConstraintUsage[i].argvIndex = ++n;
        len += (size_t)snprintf(ops + len, sizeof ops - len, "%c%d,", oc, c->iColumn);
    }
    ops[len] = '\0';
    double rows = t->est_rows;
    if (eq)
        rows /= 10000;
    else if (lo && hi)
        rows /= 100;
    else if (lo || hi)
        rows /= 4;
    if (npr)
        rows /= 2;
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
    c->cv = pond_calloc((size_t)t->ncols, sizeof *c->cv);
    c->names = pond_calloc((size_t)t->ncols + 1, sizeof *c->names);
    if (!c->cv || !c->names) {
        pond_free(c->cv);
        pond_free(c->names);
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
    for (size_t i = 0; i < c->n_keep; i++) {
        pond_arrow_array_release(&c->keep[i]);
        pond_arrow_schema_release(&c->keep_schemas[i]);
    }
    pond_free(c->keep);
    pond_free(c->keep_schemas);
    c->keep = NULL;
    c->keep_schemas = NULL;
    c->n_keep = c->cap_keep = c->keep_bytes = 0;
    c->keeping = false;
}

static void cursor_reset(cursor *c)
{
    pond_arrow_array_release(&c->batch);
    drop_keep(c);
    c->cached = NULL;
    c->cur = &NO_BATCH;
    c->cur_schema = NULL;
    c->batch_schema = NULL;
    pond_table__scan_free(c->scan);
    c->scan = NULL;
    sqlite3_free(c->pkey);
    c->pkey = NULL;
    c->eof = true;
    c->row = 0;
}

static int vt_close(sqlite3_vtab_cursor *base)
{
    cursor *c = (cursor *)base;
    cursor_reset(c);
    pond_free(c->cv);
    pond_free(c->names);
    pond_free(c);
    return SQLITE_OK;
}

static int cursor_fail(cursor *c, const char *msg)
{
    sqlite3_vtab *v = c->base.pVtab;
    sqlite3_free(v->zErrMsg);
    v->zErrMsg = sqlite3_mprintf("%s", msg ? msg : "pond: scan failed");
    return SQLITE_ERROR;
}

/* Points the column views at the new batch (by name: versions may lack columns). */
static int bind_batch(cursor *c)
{
    vtab *t = (vtab *)c->base.pVtab;
    const struct ArrowArray *b = c->cur;
    const struct ArrowSchema *s = c->cur_schema;
    /* a wide table by name through a map (the first column of a name wins): a loop per name
     * is quadratic */
    pond__strmap names = {0};
    bool mapped = (int64_t)t->ncols * s->n_children > 4096;
    for (int64_t j = 0; mapped && j < s->n_children && j < b->n_children; j++)
        if (s->children[j]->name && pond__strmap_put(&names, s->children[j]->name, j) < 0) {
            pond__strmap_dispose(&names);
            return SQLITE_NOMEM;
        }
    for (int i = 0; i < t->ncols; i++) {
        colview *v = &c->cv[i];
        int k = -1;
        if (mapped)
            k = (int)pond__strmap_get(&names, t->cols[i]);
        for (int64_t j = 0; !mapped && j < s->n_children && j < b->n_children && k < 0; j++)
            if (s->children[j]->name && !strcmp(s->children[j]->name, t->cols[i]))
                k = (int)j;
        if (k < 0) {
            v->kind = K_NULL;
            continue;
        }
        const struct ArrowArray *a = b->children[k];
        const char *decl;
        v->kind = pond_sql__kind_of(s->children[k]->format, &decl);
        v->valid = a->null_count != 0 && a->n_buffers > 0 ? a->buffers[0] : NULL;
        v->data = a->n_buffers > 1 ? a->buffers[1] : NULL;
        v->bytes = a->n_buffers > 2 ? a->buffers[2] : NULL;
        v->off = a->offset + b->offset;
        v->schema = s->children[k];
        v->array = a;
    }
    pond__strmap_dispose(&names);
    return SQLITE_OK;
}

/* Decoded bytes of a batch (fixed-width values at 8 bytes, plus string and binary data). */
static size_t batch_bytes(const struct ArrowSchema *schema, const struct ArrowArray *b)
{
    size_t n = sizeof *b;
    for (int64_t k = 0; k < b->n_children && k < schema->n_children; k++) {
        const struct ArrowArray *a = b->children[k];
        const char *decl;
        sql_kind kind = pond_sql__kind_of(schema->children[k]->format, &decl);
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

/* End of a scan that kept its batches: they become a cache entry if a slot is free. */
static int store_cache(cursor *c)
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
    if (!(e->pkey = pond_strdup(c->pkey ? c->pkey : ""))) {
        drop_keep(c);
        return SQLITE_NOMEM;
    }
    e->used = true;
    e->cols = c->cols;
    e->has_filter = c->has_filter;
    e->lo = c->lo;
    e->hi = c->hi;
    e->batches = c->keep;
    e->schemas = c->keep_schemas;
    e->n = c->n_keep;
    t->cache_bytes += c->keep_bytes;
    c->keep = NULL;
    c->keep_schemas = NULL;
    c->n_keep = c->cap_keep = c->keep_bytes = 0;
    c->keeping = false;
    return SQLITE_OK;
}

/* Keeps the current scan batch (moved) for the cache entry this scan may become. */
static int keep_batch(cursor *c)
{
    if (c->n_keep == c->cap_keep) {
        size_t cap = c->cap_keep ? c->cap_keep * 2 : 16;
        struct ArrowArray *k = pond_realloc(c->keep, cap * sizeof *k);
        if (!k)
            return SQLITE_NOMEM;
        c->keep = k;
        struct ArrowSchema *ks = pond_realloc(c->keep_schemas, cap * sizeof *ks);
        if (!ks)
            return SQLITE_NOMEM;
        c->keep_schemas = ks;
        c->cap_keep = cap;
    }
    if (pond_arrow_schema_copy(&c->keep_schemas[c->n_keep], c->batch_schema) < 0)
        return SQLITE_NOMEM;
    pond_arrow_array_move(&c->keep[c->n_keep++], &c->batch);
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
            c->cur_schema = &c->cached->schemas[c->cache_i];
            c->cur = &c->cached->batches[c->cache_i++];
            if (c->cur->length > 0)
                return bind_batch(c);
            continue;
        }
        c->cur = &NO_BATCH;
        if (c->batch.release && c->keeping) {
            int rc = keep_batch(c);
            if (rc != SQLITE_OK) {
                drop_keep(c);
                return rc;
            }
        }
        pond_arrow_array_release(&c->batch);
        int e = c->scan ? pond_table__scan_next(c->scan, &c->batch, &c->batch_schema) : 0;
        if (e < 0)
            return cursor_fail(c, pond_error_last()->message);
        if (e == 0) {
            c->eof = true;
            return c->keeping ? store_cache(c) : SQLITE_OK;
        }
        if (c->keeping) {
            c->keep_bytes += batch_bytes(c->batch_schema, &c->batch);
            if (t->cache_bytes + c->keep_bytes > t->q->cache_limit) {
                drop_keep(c);
                t->too_big = true;
            }
        }
        if (c->batch.length > 0) {
            if (!c->has_filter)
                t->stats.rows_returned += c->batch.length;
            c->cur = &c->batch;
            c->cur_schema = c->batch_schema;
            return bind_batch(c);
        }
    }
}

static int64_t floor_div(int64_t v, int64_t d) { return v / d - (v % d < 0); }

/* A stored timestamp in microseconds; values beyond the int64 range saturate (only corrupt or
 * absurd data gets there) so that xColumn and the range check agree and never overflow. */
int64_t pond_sql__ts_to_us(sql_kind kind, int64_t raw)
{
    int64_t out;
    switch (kind) {
    case K_TS_S:
    case K_TS_MS:
        if (__builtin_mul_overflow(raw, kind == K_TS_S ? 1000000 : 1000, &out))
            return raw < 0 ? INT64_MIN : INT64_MAX;
        return out;
    case K_TS_NS:
        return floor_div(raw, 1000);
    default:
        return raw;
    }
}

/* The timestamp condition on the current row, with the values xColumn would give. */
static bool row_matches(const cursor *c)
{
    const colview *v = &c->cv[((const vtab *)c->base.pVtab)->ts_col];
    int64_t j = c->row + v->off, x;
    if (v->kind == K_NULL || (v->valid && !((v->valid[j >> 3] >> (j & 7)) & 1)))
        return false;
    x = pond_sql__ts_to_us(v->kind, ((const int64_t *)v->data)[j]);
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
        if (!c->has_filter)
            return SQLITE_OK;
        if (row_matches(c)) {
            if (!c->cached)
                ((vtab *)c->base.pVtab)->stats.rows_returned++;
            return SQLITE_OK;
        }
        c->row++;
    }
}

/* The exact set of µs values v with "v <op> val" as an inclusive [lo, hi] (SQLite's rules:
 * NULL matches nothing; the column has NUMERIC affinity, so text that looks like a number is
 * compared as one; an INTEGER is less than any TEXT or BLOB; INTEGER vs REAL compares the
 * numbers exactly). Returns false when nothing can match. */
#define TWO63 9223372036854775808.0

bool pond_sql__narrow(char op, sqlite3_value *val, int64_t *lo, int64_t *hi)
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
        case 'G':
            l = v;
            break;
        case 'l':
            if (v == INT64_MIN)
                return false;
            h = v - 1;
            break;
        case 'L':
            h = v;
            break;
        default:
            l = h = v;
        }
    } else if (type == SQLITE_FLOAT) {
        double d = sqlite3_value_double(val);
        double fl = floor(d), ce = ceil(d);
        if (d != d)
            return false;
        switch (op) {
        case 'g':   /* smallest integer > d */
        case 'G': { /* smallest integer >= d */
            double m = op == 'g' ? fl + 1 : ce;
            if (m >= TWO63)
                return false;
            if (m > -TWO63)
                l = (int64_t)m;
            break;
        }
        case 'l':   /* largest integer < d */
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

bool pond_sql__raw_bounds(sql_kind kind, int64_t lo, int64_t hi, int64_t *rlo, int64_t *rhi)
{
    int64_t m;
    switch (kind) {
    case K_TS_S:
    case K_TS_MS:
        /* stored r reads as r*m µs (saturating at the int64 ends, kept by open bounds) */
        m = kind == K_TS_S ? 1000000 : 1000;
        *rlo = lo == INT64_MIN ? INT64_MIN : floor_div(lo, m);
        *rhi = hi == INT64_MAX ? INT64_MAX : floor_div(hi, m) + 1;
        return true;
    case K_TS_NS:
        /* stored r reads as floor(r / 1000) µs */
        *rlo = lo < INT64_MIN / 1000 ? INT64_MIN : lo * 1000;
        *rhi = hi > INT64_MAX / 1000 - 1 ? INT64_MAX : hi * 1000 + 999;
        return true;
    default:
        *rlo = lo;
        *rhi = hi;
        return true;
    }
}

/* A superset [dlo, dhi] of the doubles x with "x <op> val" (SQLite's rules: NULL matches
 * nothing, text and blobs are above every number). False when nothing can match. */
bool pond_sql__double_bounds(char op, sqlite3_value *val, double *dlo, double *dhi)
{
    int type = sqlite3_value_numeric_type(val);
    *dlo = -INFINITY;
    *dhi = INFINITY;
    if (type == SQLITE_NULL)
        return false;
    if (type != SQLITE_INTEGER && type != SQLITE_FLOAT)
        return op == 'l' || op == 'L'; /* everything is below text: no bound */
    double d = sqlite3_value_double(val);
    /* an integer beyond 2^53 rounds: widen by one step each way */
    double a = type == SQLITE_INTEGER ? nextafter(d, -INFINITY) : d;
    double b = type == SQLITE_INTEGER ? nextafter(d, INFINITY) : d;
    if (op == 'g' || op == 'G' || op == 'e')
        *dlo = a;
    if (op == 'l' || op == 'L' || op == 'e')
        *dhi = b;
    return true;
}

/* Adds the row-group pruning range of "column <op> val"; false when no row can match. */
static bool add_prune(cursor *c, vtab *t, int col, char op, sqlite3_value *val)
{
    sql_kind k = t->kinds[col];
    table_scan_pred *p = &c->prunes[c->n_prunes];
    memset(p, 0, sizeof *p);
    p->name = t->cols[col];
    if (k == K_F32 || k == K_F64) {
        p->dbl = true;
        if (!pond_sql__double_bounds(op, val, &p->dlo, &p->dhi))
            return false;
        if (isinf(p->dlo) && isinf(p->dhi))
            return true; /* no bound */
    } else {
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        if (!pond_sql__narrow(op, val, &lo, &hi))
            return false;
        if (lo == INT64_MIN && hi == INT64_MAX)
            return true;
        pond_sql__raw_bounds(k, lo, hi, &p->lo, &p->hi);
    }
    c->n_prunes++;
    return true;
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
    const char *p = colon && *colon == ':' ? colon + 1 : "";
    c->has_filter = false;
    c->lo = INT64_MIN;
    c->hi = INT64_MAX;
    c->n_prunes = 0;
    bool none = false;
    for (int i = 0; i < argc && *p; i++) {
        char op = *p++, *end;
        long col = strtol(p, &end, 10);
        p = *end == ',' ? end + 1 : end;
        if (col < 0 || col >= t->ncols)
            continue;
        if (col == t->ts_col) {
            c->has_filter = true;
            none |= !pond_sql__narrow(op, argv[i], &c->lo, &c->hi);
        } else if (c->n_prunes < MAX_PRUNES) {
            none |= !add_prune(c, t, (int)col, op, argv[i]);
        }
    }
    if (none)
        return SQLITE_OK; /* nothing can match: read nothing */
    bool has_range = c->has_filter && (c->lo != INT64_MIN || c->hi != INT64_MAX);
    if (has_range) {
        table_scan_pred *pr = &c->prunes[c->n_prunes++];
        memset(pr, 0, sizeof *pr);
        pr->name = t->cols[t->ts_col];
        pond_sql__raw_bounds(t->kinds[t->ts_col], c->lo, c->hi, &pr->lo, &pr->hi);
    }
    int nn = 0;
    c->cols = 0;
    for (int i = 0; i < t->ncols; i++)
        if ((used & (1ULL << (i < 63 ? i : 63))) || (c->has_filter && i == t->ts_col)) {
            c->names[nn++] = t->cols[i];
            c->cols |= 1ULL << (i < 63 ? i : 63);
        }
    if (nn == 0) {
        /* count(*) and the like: read one cheap column for the row counts */
        int pick = t->ts_col >= 0 ? t->ts_col : 0;
        c->names[nn++] = t->cols[pick];
        c->cols |= 1ULL << (pick < 63 ? pick : 63);
    }
    c->n_names = nn;
    /* the cache key of the pruning */
    c->pkey = sqlite3_mprintf("");
    for (int i = 0; i < c->n_prunes && c->pkey; i++) {
        const table_scan_pred *pr = &c->prunes[i];
        char *k =
            sqlite3_mprintf("%s%s:%d:%lld:%lld:%!.17g:%!.17g;", c->pkey, pr->name, (int)pr->dbl,
                            (long long)pr->lo, (long long)pr->hi, pr->dlo, pr->dhi);
        sqlite3_free(c->pkey);
        c->pkey = k;
    }
    if (!c->pkey)
        return SQLITE_NOMEM;
    /* the same scan again (the inner loop of a join): replay the kept batches */
    for (int i = 0; i < CACHE_SLOTS && !c->cached; i++) {
        const scan_cache *ce = &t->cache[i];
        if (ce->used && ce->cols == c->cols && ce->has_filter == c->has_filter && ce->lo == c->lo &&
            ce->hi == c->hi && !strcmp(ce->pkey, c->pkey)) {
            c->cached = ce;
            c->cache_i = 0;
        }
    }
    if (!c->cached) {
        table_scan_options so = {
            .vers = t->vers,
            .n_vers = t->n_vers,
            .series = t->series,
            .cols = c->names,
            .n_cols = nn,
            .preds = c->prunes,
            .n_preds = c->n_prunes,
            .has_range = has_range,
            .lo_us = c->lo,
            .hi_us = c->hi,
            .dedup = t->dedup,
            .threads = t->q->threads,
            .stats = &t->stats,
            .cache = t->q->bufs,
        };
        if (pond_table__scan_open(&c->scan, t->fs, t->path, &so) < 0)
            return cursor_fail(c, pond_error_last()->message);
        c->keeping = !t->too_big && t->q->cache_limit > 0;
    }
    c->eof = false;
    int rc = next_batch(c);
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

static int vt_eof(sqlite3_vtab_cursor *base) { return ((cursor *)base)->eof; }

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
    case K_I8:
        sqlite3_result_int(ctx, ((const int8_t *)v->data)[j]);
        break;
    case K_U8:
        sqlite3_result_int(ctx, ((const uint8_t *)v->data)[j]);
        break;
    case K_I16:
        sqlite3_result_int(ctx, ((const int16_t *)v->data)[j]);
        break;
    case K_U16:
        sqlite3_result_int(ctx, ((const uint16_t *)v->data)[j]);
        break;
    case K_I32:
        sqlite3_result_int(ctx, ((const int32_t *)v->data)[j]);
        break;
    case K_U32:
        sqlite3_result_int64(ctx, ((const uint32_t *)v->data)[j]);
        break;
    case K_I64:
    case K_TS_US:
        sqlite3_result_int64(ctx, ((const int64_t *)v->data)[j]);
        break;
    case K_U64: {
        uint64_t u = ((const uint64_t *)v->data)[j];
        if (u > (uint64_t)INT64_MAX)
            sqlite3_result_double(ctx, (double)u);
        else
            sqlite3_result_int64(ctx, (int64_t)u);
        break;
    }
    case K_F32:
        sqlite3_result_double(ctx, ((const float *)v->data)[j]);
        break;
    case K_F64:
        sqlite3_result_double(ctx, ((const double *)v->data)[j]);
        break;
    case K_TS_S:
    case K_TS_MS:
    case K_TS_NS:
        sqlite3_result_int64(ctx, pond_sql__ts_to_us(v->kind, ((const int64_t *)v->data)[j]));
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

int pond_sql__register_module(pond_sql *q, void (*destroy)(void *))
{
    return sqlite3_create_module_v2(q->db, "pond", &MODULE, q, destroy);
}

bool pond_sql__lookup_table(sql_table_info *out, pond_sql *q, const char *name)
{
    vtab *found = NULL;
    for (size_t i = 0; i < q->n_tabs; i++) {
        vtab *t = q->tabs[i];
        if (sqlite3_stricmp(t->name, name))
            continue;
        if (!sqlite3_stricmp(t->schema, "temp")) {
            found = t; /* SQLite looks in temp first */
            break;
        }
        if (!sqlite3_stricmp(t->schema, "main"))
            found = t;
    }
    if (!found)
        return false;
    vtab *t = found;
    out->path = t->path;
    out->series = t->series;
    out->in_temp = !sqlite3_stricmp(t->schema, "temp");
    out->ncols = t->ncols;
    out->cols = t->cols;
    out->kinds = t->kinds;
    out->ts_col = t->ts_col;
    out->vers = t->vers;
    out->n_vers = t->n_vers;
    out->dedup = t->dedup;
    out->stats = &t->stats;
    out->fs = t->fs;
    return true;
}
