/* The aggregate fast path. A query of the shape
 *     SELECT agg(col | *) [AS name], ... FROM table [WHERE cond AND cond ...]
 * with agg one of count, sum, avg, total, min, max over numeric columns of one attached pond
 * table, and each cond a comparison (=, ==, <, <=, >, >=, BETWEEN) of a numeric column with a
 * constant (a literal, a parameter, or us(...)), is prepared as
 *     SELECT r0 AS "<name>", ... FROM pond_aggregate('<plan>', <the constants, as written>)
 * whose xFilter scans the table itself (row groups pruned by every condition) and computes the
 * aggregates over whole Arrow batches in C, with SQLite's own semantics: the same summation
 * (in row order, as sumStep does: integers exact with "integer overflow", a double running sum
 * once a REAL appears), NULL for sum/avg/min/max of nothing, NaN read as NULL. SQLite still
 * evaluates the constants (parameters bind as usual) and compares them by its rules
 * (pond_sql__narrow). Anything else is prepared unchanged. */
#include "sql/sql_internal.h"

#include <pond/alloc.h>
#include <pond/buf.h>
#include <pond/errors.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 32
/* SQLite omits its own check of only the first 16 constraints of a plan (a u16 mask): with
 * the plan argument, 15 values keep every "a<i> = value" omitted, so a NULL value cannot
 * make SQLite drop the result row. More conditions go through SQLite unchanged. */
#define MAX_CONDS 15

/* ---- tokens ---- */

typedef enum { T_EOF, T_ID, T_QID, T_STR, T_NUM, T_BLOB, T_PARAM, T_PUNCT, T_BAD } tok_type;

typedef struct {
    tok_type type;
    const char *p;
    int n;
} tok;

static bool id_start(unsigned char c) { return isalpha(c) || c == '_' || c >= 0x80; }

static bool id_char(unsigned char c) { return isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

/* The next token at *s (comments and whitespace skipped). */
static tok next_tok(const char **s)
{
    const char *p = *s;
    tok t = {T_BAD, p, 0};
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            if (!e) {
                *s = p;
                t.p = p;
                return t; /* unterminated: leave it to SQLite */
            }
            p = e + 2;
        } else {
            break;
        }
    }
    t.p = p;
    const char *q = p;
    unsigned char c = (unsigned char)*p;
    if (!c) {
        t.type = T_EOF;
    } else if ((c == 'x' || c == 'X') && p[1] == '\'') {
        q = p + 2;
        while (*q && *q != '\'')
            q++;
        if (*q == '\'') {
            t.type = T_BLOB;
            q++;
        }
    } else if (id_start(c)) {
        while (id_char((unsigned char)*q))
            q++;
        t.type = T_ID;
    } else if (c == '"' || c == '`' || c == '[' || c == '\'') {
        char close = c == '[' ? ']' : (char)c;
        q = p + 1;
        for (;;) {
            if (!*q)
                break;
            if (*q == close) {
                if (close != ']' && q[1] == close) {
                    q += 2;
                    continue;
                }
                q++;
                t.type = c == '\'' ? T_STR : T_QID;
                break;
            }
            q++;
        }
    } else if (isdigit(c) || (c == '.' && isdigit((unsigned char)p[1]))) {
        if (c == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
            q = p + 2;
            while (isxdigit((unsigned char)*q))
                q++;
        } else {
            while (isdigit((unsigned char)*q))
                q++;
            if (*q == '.')
                for (q++; isdigit((unsigned char)*q);)
                    q++;
            if ((*q == 'e' || *q == 'E') &&
                (isdigit((unsigned char)q[1]) ||
                 ((q[1] == '+' || q[1] == '-') && isdigit((unsigned char)q[2])))) {
                q += 2;
                while (isdigit((unsigned char)*q))
                    q++;
            }
        }
        t.type = id_char((unsigned char)*q) ? T_BAD : T_NUM;
    } else if (c == '?') {
        q = p + 1;
        while (isdigit((unsigned char)*q))
            q++;
        t.type = T_PARAM;
    } else if ((c == ':' || c == '@' || c == '$') && id_char((unsigned char)p[1])) {
        q = p + 1;
        while (id_char((unsigned char)*q))
            q++;
        t.type = T_PARAM;
    } else {
        static const char *const PUNCT[] = {"<=", ">=", "==", "<>", "!=", "(", ")", ",",
                                            ";",  "*",  ".",  "=",  "<",  ">", "+", "-"};
        for (size_t i = 0; i < sizeof PUNCT / sizeof *PUNCT; i++) {
            size_t n = strlen(PUNCT[i]);
            if (!strncmp(p, PUNCT[i], n)) {
                q = p + n;
                t.type = T_PUNCT;
                break;
            }
        }
    }
    if (t.type == T_BAD)
        q = p;
    t.n = (int)(q - p);
    *s = q;
    return t;
}

static bool is_kw(const tok *t, const char *kw)
{
    return t->type == T_ID && (int)strlen(kw) == t->n && !sqlite3_strnicmp(t->p, kw, t->n);
}

static bool is_punct(const tok *t, const char *p)
{
    return t->type == T_PUNCT && (int)strlen(p) == t->n && !strncmp(t->p, p, (size_t)t->n);
}

/* An identifier's name (dequoted) into buf; false if t is not one, or a bare keyword. */
static bool ident(const tok *t, char *buf, size_t cap)
{
    size_t k = 0;
    if (t->type == T_ID) {
        if (sqlite3_keyword_check(t->p, t->n) || (size_t)t->n >= cap)
            return false;
        memcpy(buf, t->p, (size_t)t->n);
        buf[t->n] = '\0';
        return true;
    }
    if (t->type != T_QID)
        return false;
    char close = t->p[0] == '[' ? ']' : t->p[0];
    for (int i = 1; i + 1 < t->n; i++) {
        if (k + 1 >= cap)
            return false;
        buf[k++] = t->p[i];
        if (t->p[i] == close && close != ']')
            i++;
    }
    buf[k] = '\0';
    return true;
}

/* ---- the parsed query ---- */

typedef enum {
    A_COUNT_STAR = 'n',
    A_COUNT = 'c',
    A_SUM = 's',
    A_AVG = 'a',
    A_TOTAL = 't',
    A_MIN = 'm',
    A_MAX = 'M'
} agg_code;

typedef struct {
    char code;
    int col; /* -1 for count(*) */
    char colname[256], qual[256];
    const char *name; /* the result column's name: the span, or the alias */
    int name_len;
    char alias[256];
    bool has_alias;
} item;

typedef struct {
    int col;
    char colname[256], qual[256];
    char op; /* "egGlL" */
    const char *val;
    int val_len;
} cond;

typedef struct {
    item items[MAX_ITEMS];
    int n_items;
    cond conds[MAX_CONDS];
    int n_conds;
    char table[256];
} plan;

/* A column reference: name or table.name. */
static bool parse_colref(const char **s, tok *t, char *col, char *qual)
{
    char a[256];
    if (!ident(t, a, sizeof a))
        return false;
    const char *save = *s;
    tok d = next_tok(s);
    if (is_punct(&d, ".")) {
        tok n = next_tok(s);
        if (!ident(&n, col, 256))
            return false;
        snprintf(qual, 256, "%s", a);
    } else {
        *s = save;
        snprintf(col, 256, "%s", a);
        qual[0] = '\0';
    }
    return true;
}

/* A constant: [+-]number, 'text', x'blob', NULL, a parameter, or us(one of those). On success
 * *s is just past it and [start, end) its text. */
static bool parse_value(const char **s, const char **start, int *len)
{
    const char *p = *s;
    tok t = next_tok(&p);
    *start = t.p;
    if (is_punct(&t, "-") || is_punct(&t, "+")) {
        t = next_tok(&p);
        if (t.type != T_NUM)
            return false;
    } else if (is_kw(&t, "us")) {
        tok o = next_tok(&p);
        if (!is_punct(&o, "("))
            return false;
        const char *inner;
        int il;
        if (!parse_value(&p, &inner, &il))
            return false;
        tok c = next_tok(&p);
        if (!is_punct(&c, ")"))
            return false;
        *len = (int)(p - *start);
        *s = p;
        return true;
    } else if (!(t.type == T_NUM || t.type == T_STR || t.type == T_BLOB || t.type == T_PARAM ||
                 is_kw(&t, "null"))) {
        return false;
    }
    *len = (int)(p - *start);
    *s = p;
    return true;
}

static char flip(char op)
{
    switch (op) {
    case 'g':
        return 'l';
    case 'G':
        return 'L';
    case 'l':
        return 'g';
    case 'L':
        return 'G';
    default:
        return op;
    }
}

static char cmp_op(const tok *t)
{
    if (is_punct(t, "=") || is_punct(t, "=="))
        return 'e';
    if (is_punct(t, "<"))
        return 'l';
    if (is_punct(t, "<="))
        return 'L';
    if (is_punct(t, ">"))
        return 'g';
    if (is_punct(t, ">="))
        return 'G';
    return 0;
}

/* One condition (or two, for BETWEEN). */
static bool parse_cond(const char **s, plan *pl)
{
    if (pl->n_conds + 1 > MAX_CONDS)
        return false;
    cond *c = &pl->conds[pl->n_conds];
    const char *p = *s;
    tok t = next_tok(&p);
    const char *q = p;
    tok o = {T_BAD, NULL, 0};
    if (parse_colref(&q, &t, c->colname, c->qual) && (o = next_tok(&q), true) &&
        (is_kw(&o, "between") || cmp_op(&o))) {
        p = q;
        if (is_kw(&o, "between")) {
            if (pl->n_conds + 2 > MAX_CONDS)
                return false;
            cond *d = &pl->conds[pl->n_conds + 1];
            *d = *c;
            tok a;
            if (!parse_value(&p, &c->val, &c->val_len) || (a = next_tok(&p), !is_kw(&a, "and")) ||
                !parse_value(&p, &d->val, &d->val_len))
                return false;
            c->op = 'G';
            d->op = 'L';
            pl->n_conds += 2;
            *s = p;
            return true;
        }
        if (!(c->op = cmp_op(&o)) || !parse_value(&p, &c->val, &c->val_len))
            return false;
    } else {
        p = *s;
        if (!parse_value(&p, &c->val, &c->val_len))
            return false;
        o = next_tok(&p);
        char op = cmp_op(&o);
        t = next_tok(&p);
        if (!op || !parse_colref(&p, &t, c->colname, c->qual))
            return false;
        c->op = flip(op);
    }
    pl->n_conds++;
    *s = p;
    return true;
}

static bool parse_item(const char **s, plan *pl)
{
    if (pl->n_items >= MAX_ITEMS)
        return false;
    item *it = &pl->items[pl->n_items];
    memset(it, 0, sizeof *it);
    const char *p = *s;
    tok f = next_tok(&p);
    static const struct {
        const char *name;
        char code;
    } FN[] = {{"count", A_COUNT}, {"sum", A_SUM}, {"avg", A_AVG},
              {"total", A_TOTAL}, {"min", A_MIN}, {"max", A_MAX}};
    for (size_t i = 0; i < sizeof FN / sizeof *FN && !it->code; i++)
        if (is_kw(&f, FN[i].name))
            it->code = FN[i].code;
    tok o = next_tok(&p);
    if (!it->code || !is_punct(&o, "("))
        return false;
    tok a = next_tok(&p);
    if (is_punct(&a, "*")) {
        if (it->code != A_COUNT)
            return false;
        it->code = A_COUNT_STAR;
        it->col = -1;
    } else if (!parse_colref(&p, &a, it->colname, it->qual)) {
        return false;
    }
    tok c = next_tok(&p);
    if (!is_punct(&c, ")"))
        return false;
    it->name = f.p;
    it->name_len = (int)(p - f.p);
    const char *save = p;
    tok as = next_tok(&p);
    if (is_kw(&as, "as")) {
        tok n = next_tok(&p);
        if (!ident(&n, it->alias, sizeof it->alias))
            return false;
        it->has_alias = true;
    } else {
        p = save;
    }
    pl->n_items++;
    *s = p;
    return true;
}

static bool parse(const char *sql, plan *pl)
{
    const char *p = sql;
    tok t = next_tok(&p);
    if (!is_kw(&t, "select"))
        return false;
    do {
        if (!parse_item(&p, pl))
            return false;
        t = next_tok(&p);
    } while (is_punct(&t, ","));
    if (!is_kw(&t, "from"))
        return false;
    t = next_tok(&p);
    if (!ident(&t, pl->table, sizeof pl->table))
        return false;
    t = next_tok(&p);
    if (is_kw(&t, "where")) {
        do {
            if (!parse_cond(&p, pl))
                return false;
            t = next_tok(&p);
        } while (is_kw(&t, "and"));
    }
    while (is_punct(&t, ";"))
        t = next_tok(&p);
    return t.type == T_EOF;
}

/* ---- checking the plan against the table ---- */

static bool int_kind(sql_kind k)
{
    return (k >= K_BOOL && k <= K_I64 && k != K_U64) || (k >= K_TS_S && k <= K_TS_NS);
}

static bool num_kind(sql_kind k) { return int_kind(k) || k == K_F32 || k == K_F64; }

static int find_col(const sql_table_info *ti, const char *name, const char *qual, const char *table)
{
    if (*qual && sqlite3_stricmp(qual, table))
        return -1;
    for (int i = 0; i < ti->ncols; i++)
        if (!sqlite3_stricmp(ti->cols[i], name))
            return i;
    return -1;
}

static bool resolve(plan *pl, const sql_table_info *ti)
{
    for (int i = 0; i < pl->n_items; i++) {
        item *it = &pl->items[i];
        if (it->code == A_COUNT_STAR)
            continue;
        if ((it->col = find_col(ti, it->colname, it->qual, pl->table)) < 0)
            return false;
        sql_kind k = ti->kinds[it->col];
        if (it->code == A_COUNT ? k == K_OTHER || k == K_U64 : !num_kind(k))
            return false;
    }
    for (int i = 0; i < pl->n_conds; i++) {
        cond *c = &pl->conds[i];
        if ((c->col = find_col(ti, c->colname, c->qual, pl->table)) < 0 ||
            !num_kind(ti->kinds[c->col]))
            return false;
    }
    return true;
}

/* Another table or view of the same name that SQLite would find first (temp before main). */
static bool shadowed(pond_sql *q, const char *name, bool in_temp)
{
    if (in_temp)
        return false;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(q->db,
                           "SELECT 1 FROM temp.sqlite_master WHERE type IN ('table', 'view') "
                           "AND name = ?1 COLLATE NOCASE",
                           -1, &st, NULL) != SQLITE_OK)
        return true;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) != SQLITE_DONE;
    sqlite3_finalize(st);
    return found;
}

static int append_quoted_name(pond_buf *b, const char *s, size_t n)
{
    int rc = pond_buf_putc(b, '"');
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = s[i] == '"' ? pond_buf_puts(b, "\"\"") : pond_buf_putc(b, s[i]);
    return rc ? rc : pond_buf_putc(b, '"');
}

int pond_sql__fast_prepare(sqlite3_stmt **out, pond_sql *q, const char *sql)
{
    *out = NULL;
    plan *pl = pond_calloc(1, sizeof *pl);
    if (!pl)
        return pond_error_set(POND_ENOMEM, POND_DOM_SQL, "sql: out of memory");
    sql_table_info ti;
    int rc = 0;
    if (!parse(sql, pl) || !pond_sql__lookup_table(&ti, q, pl->table) || !resolve(pl, &ti) ||
        shadowed(q, pl->table, ti.in_temp))
        goto done;
    /* the plan: "<agg code><column>," per item, ";", "<op><column>," per condition, ";", name */
    pond_buf spec = POND_BUF_INIT, s2 = POND_BUF_INIT;
    int brc = 0;
    for (int i = 0; i < pl->n_items && brc == 0; i++)
        brc = pond_buf_printf(&spec, "%c%d,", pl->items[i].code, pl->items[i].col);
    brc = brc ? brc : pond_buf_putc(&spec, ';');
    for (int i = 0; i < pl->n_conds && brc == 0; i++)
        brc = pond_buf_printf(&spec, "%c%d,", pl->conds[i].op, pl->conds[i].col);
    brc = brc ? brc : pond_buf_putc(&spec, ';');
    brc = brc ? brc : pond_buf_puts(&spec, pl->table);
    brc = brc ? brc : pond_buf_puts(&s2, "SELECT ");
    for (int i = 0; i < pl->n_items && brc == 0; i++) {
        const item *it = &pl->items[i];
        brc = pond_buf_printf(&s2, "%sr%d AS ", i ? ", " : "", i);
        if (brc == 0)
            brc = it->has_alias ? append_quoted_name(&s2, it->alias, strlen(it->alias))
                                : append_quoted_name(&s2, it->name, (size_t)it->name_len);
    }
    char *lit = brc ? NULL : sqlite3_mprintf("%Q", spec.ptr);
    if (!lit)
        brc = POND_ENOMEM;
    brc = brc ? brc : pond_buf_printf(&s2, " FROM pond_aggregate(%s", lit);
    sqlite3_free(lit);
    for (int i = 0; i < pl->n_conds && brc == 0; i++) {
        brc = pond_buf_puts(&s2, ", ");
        if (brc == 0)
            brc = pond_buf_put(&s2, pl->conds[i].val, (size_t)pl->conds[i].val_len);
    }
    brc = brc ? brc : pond_buf_puts(&s2, ")");
    if (brc < 0) {
        rc = pond_error_set(POND_ENOMEM, POND_DOM_SQL, "sql: out of memory");
    } else if (sqlite3_prepare_v2(q->db, s2.ptr, (int)s2.size, out, NULL) == SQLITE_OK) {
        rc = 1;
    } else {
        *out = NULL; /* let SQLite prepare the original and report its own error */
        if (sqlite3_errcode(q->db) == SQLITE_NOMEM)
            rc = pond_error_set(POND_ENOMEM, POND_DOM_SQL, "sql: out of memory");
    }
    pond_buf_dispose(&spec);
    pond_buf_dispose(&s2);
done:
    pond_free(pl);
    return rc;
}

/* ---- pond_aggregate: computing the plan ---- */

typedef struct {
    sql_kind kind;
    const uint8_t *valid;
    const void *data;
    int64_t off;
} cview;

static inline bool cv_null(const cview *v, int64_t i)
{
    int64_t j = i + v->off;
    return v->kind == K_NULL || (v->valid && !((v->valid[j >> 3] >> (j & 7)) & 1));
}

static inline int64_t cv_int(const cview *v, int64_t i)
{
    int64_t j = i + v->off;
    switch (v->kind) {
    case K_BOOL:
        return (((const uint8_t *)v->data)[j >> 3] >> (j & 7)) & 1;
    case K_I8:
        return ((const int8_t *)v->data)[j];
    case K_U8:
        return ((const uint8_t *)v->data)[j];
    case K_I16:
        return ((const int16_t *)v->data)[j];
    case K_U16:
        return ((const uint16_t *)v->data)[j];
    case K_I32:
        return ((const int32_t *)v->data)[j];
    case K_U32:
        return ((const uint32_t *)v->data)[j];
    case K_I64:
    case K_TS_US:
        return ((const int64_t *)v->data)[j];
    default:
        return pond_sql__ts_to_us(v->kind, ((const int64_t *)v->data)[j]);
    }
}

static inline double cv_dbl(const cview *v, int64_t i)
{
    int64_t j = i + v->off;
    return v->kind == K_F32 ? (double)((const float *)v->data)[j] : ((const double *)v->data)[j];
}

static bool is_dbl(sql_kind k) { return k == K_F32 || k == K_F64; }

/* A condition on a double column: compared per row as SQLite compares REAL with the value. */
typedef struct {
    int col;
    char op;
    int type; /* SQLITE_INTEGER, SQLITE_FLOAT, or SQLITE_TEXT for text and blobs */
    int64_t i;
    double d;
} dcond;

/* x <op> value for a non-NaN double x, comparing exactly (long double holds both). */
static bool dcond_true(const dcond *c, double x)
{
    int cmp;
    if (c->type == SQLITE_TEXT)
        cmp = -1; /* numbers sort before text */
    else if (c->type == SQLITE_INTEGER)
        cmp = (long double)x < (long double)c->i ? -1 : (long double)x > (long double)c->i;
    else
        cmp = x < c->d ? -1 : x > c->d;
    switch (c->op) {
    case 'g':
        return cmp > 0;
    case 'G':
        return cmp >= 0;
    case 'l':
        return cmp < 0;
    case 'L':
        return cmp <= 0;
    default:
        return cmp == 0;
    }
}

typedef struct {
    char code;
    int col;
    int64_t n;
    /* sum, avg, total: SQLite's SumCtx */
    double rsum;
    int64_t isum;
    bool approx, overflow;
    /* min, max */
    bool has;
    int64_t ibest;
    double dbest;
} acc;

typedef struct {
    int type; /* SQLITE_NULL, SQLITE_INTEGER or SQLITE_FLOAT */
    int64_t i;
    double d;
} result;

typedef struct {
    sqlite3_vtab base;
    pond_sql *q;
} agg_vtab;

typedef struct {
    sqlite3_vtab_cursor base;
    result res[MAX_ITEMS];
    int n_res;
    bool eof;
    /* the arguments, for SQLite's own check of "a<i> = value" (it omits only the first 16
     * constraints of a plan) */
    sqlite3_value *args[1 + MAX_CONDS];
    int n_args;
} agg_cursor;

static void free_args(agg_cursor *c)
{
    for (int i = 0; i < c->n_args; i++)
        sqlite3_value_free(c->args[i]);
    c->n_args = 0;
}

#define HIDDEN0 MAX_ITEMS /* column index of "spec"; values follow */

static int agg_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                       sqlite3_vtab **out, char **pzErr)
{
    (void)argc;
    (void)argv;
    (void)pzErr;
    pond_buf ddl = POND_BUF_INIT;
    int rc = pond_buf_puts(&ddl, "CREATE TABLE x(");
    for (int i = 0; i < MAX_ITEMS && rc == 0; i++)
        rc = pond_buf_printf(&ddl, "r%d, ", i);
    rc = rc ? rc : pond_buf_puts(&ddl, "spec HIDDEN");
    for (int i = 0; i < MAX_CONDS && rc == 0; i++)
        rc = pond_buf_printf(&ddl, ", a%d HIDDEN", i);
    rc = rc ? rc : pond_buf_puts(&ddl, ")");
    if (rc < 0) {
        pond_buf_dispose(&ddl);
        return SQLITE_NOMEM;
    }
    rc = sqlite3_declare_vtab(db, ddl.ptr);
    pond_buf_dispose(&ddl);
    if (rc != SQLITE_OK)
        return rc;
    agg_vtab *t = pond_calloc(1, sizeof *t);
    if (!t)
        return SQLITE_NOMEM;
    t->q = aux;
    *out = &t->base;
    return SQLITE_OK;
}

static int agg_disconnect(sqlite3_vtab *base)
{
    pond_free(base);
    return SQLITE_OK;
}

/* Every argument must be known when the scan starts: spec and a0..a(n-1), as argv 0..n. */
static int agg_best_index(sqlite3_vtab *base, sqlite3_index_info *info)
{
    (void)base;
    int max = -1;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->iColumn < HIDDEN0)
            continue;
        if (!c->usable || c->op != SQLITE_INDEX_CONSTRAINT_EQ)
            return SQLITE_CONSTRAINT;
        int k = c->iColumn - HIDDEN0;
        info->aConstraintUsage[i].argvIndex = k + 1;
        info->aConstraintUsage[i].omit = 1;
        max = k > max ? k : max;
    }
    for (int k = 0; k <= max; k++) {
        bool seen = false;
        for (int i = 0; i < info->nConstraint && !seen; i++)
            seen = info->aConstraintUsage[i].argvIndex == k + 1;
        if (!seen)
            return SQLITE_CONSTRAINT;
    }
    if (max < 0)
        return SQLITE_CONSTRAINT;
    info->estimatedCost = 1;
    info->estimatedRows = 1;
    return SQLITE_OK;
}

static int agg_open(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
    (void)base;
    agg_cursor *c = pond_calloc(1, sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    c->eof = true;
    *out = &c->base;
    return SQLITE_OK;
}

static int agg_close(sqlite3_vtab_cursor *base)
{
    free_args((agg_cursor *)base);
    pond_free(base);
    return SQLITE_OK;
}

static int agg_fail(agg_cursor *c, int code, const char *msg)
{
    sqlite3_vtab *v = c->base.pVtab;
    sqlite3_free(v->zErrMsg);
    v->zErrMsg = sqlite3_mprintf("%s", msg);
    return code;
}

/* The plan of a spec: items, conditions, the table name (pointing into spec). */
static bool parse_spec(const char *spec, acc *accs, int *n_acc, char *ops, int *ccols, int *n_cond,
                       const char **table)
{
    const char *p = spec;
    *n_acc = *n_cond = 0;
    while (*p && *p != ';') {
        if (*n_acc >= MAX_ITEMS)
            return false;
        acc *a = &accs[(*n_acc)++];
        memset(a, 0, sizeof *a);
        a->code = *p++;
        char *end;
        long col = strtol(p, &end, 10);
        if (end == p || *end != ',' || col < -1 || col > 1000000)
            return false;
        a->col = (int)col;
        p = end + 1;
    }
    if (*p++ != ';')
        return false;
    while (*p && *p != ';') {
        if (*n_cond >= MAX_CONDS)
            return false;
        ops[*n_cond] = *p++;
        char *end;
        long col = strtol(p, &end, 10);
        if (end == p || *end != ',' || col < 0 || col > 1000000)
            return false;
        ccols[(*n_cond)++] = (int)col;
        p = end + 1;
    }
    if (*p++ != ';')
        return false;
    *table = p;
    return *n_acc > 0;
}

typedef struct {
    int64_t lo, hi;
    bool used;
} irange;

/* Column views of the batch for the columns in need[] (by name; absent ones read NULL). */
static void bind_views(cview *cv, const bool *need, const sql_table_info *ti,
                       const struct ArrowSchema *s, const struct ArrowArray *b)
{
    for (int i = 0; i < ti->ncols; i++) {
        cview *v = &cv[i];
        v->kind = K_NULL;
        if (!need[i])
            continue;
        for (int64_t j = 0; j < s->n_children && j < b->n_children; j++)
            if (s->children[j]->name && !strcmp(s->children[j]->name, ti->cols[i])) {
                const struct ArrowArray *a = b->children[j];
                const char *decl;
                v->kind = pond_sql__kind_of(s->children[j]->format, &decl);
                v->valid = a->null_count != 0 && a->n_buffers > 0 ? a->buffers[0] : NULL;
                v->data = a->n_buffers > 1 ? a->buffers[1] : NULL;
                v->off = a->offset + b->offset;
                break;
            }
    }
}

/* Every row of a batch without nulls in a double column: the loops of accumulate() with the
 * checks hoisted (the additions stay in row order). */
static void accumulate_dense_f64(acc *a, const double *d, int64_t n)
{
    int64_t cnt = 0;
    switch (a->code) {
    case A_SUM:
    case A_AVG:
    case A_TOTAL: {
        double r = a->rsum;
        for (int64_t i = 0; i < n; i++)
            if (d[i] == d[i]) {
                r += d[i];
                cnt++;
            }
        a->rsum = r;
        a->approx |= cnt > 0;
        break;
    }
    case A_MIN:
    case A_MAX: {
        bool has = a->has, mx = a->code == A_MAX;
        double best = a->dbest;
        for (int64_t i = 0; i < n; i++) {
            double x = d[i];
            if (x != x)
                continue;
            cnt++;
            if (!has || (mx ? x > best : x < best))
                best = x;
            has = true;
        }
        a->has = has;
        a->dbest = best;
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++)
            cnt += d[i] == d[i];
    }
    a->n += cnt;
}

/* Two sums over rows without nulls of double columns in one pass: each sum still adds its
 * values in row order (the same result bit for bit), but the two chains of dependent
 * additions run side by side instead of one after the other. */
static void accumulate_dense_sum2(acc *a, const double *x, acc *b, const double *y, int64_t n)
{
    double r = a->rsum, t = b->rsum;
    int64_t ca = 0, cb = 0;
    for (int64_t i = 0; i < n; i++) {
        double u = x[i], v = y[i];
        if (u == u) {
            r += u;
            ca++;
        }
        if (v == v) {
            t += v;
            cb++;
        }
    }
    a->rsum = r;
    a->approx |= ca > 0;
    a->n += ca;
    b->rsum = t;
    b->approx |= cb > 0;
    b->n += cb;
}

static bool is_sum(char code) { return code == A_SUM || code == A_AVG || code == A_TOTAL; }

/* Adds the selected rows of one batch (sel NULL: rows base..base+n-1) into the accumulators. */
static void accumulate(acc *accs, int n_acc, const cview *cv, const int32_t *sel, int64_t base,
                       int64_t n)
{
    bool paired[MAX_ITEMS] = {false};
    if (!sel) { /* pair up the sums over dense doubles */
        int open = -1;
        for (int k = 0; k < n_acc; k++) {
            const cview *v = accs[k].code == A_COUNT_STAR ? NULL : &cv[accs[k].col];
            if (!v || !is_sum(accs[k].code) || v->kind != K_F64 || v->valid)
                continue;
            if (open < 0) {
                open = k;
                continue;
            }
            const cview *w = &cv[accs[open].col];
            accumulate_dense_sum2(&accs[open], (const double *)w->data + w->off + base, &accs[k],
                                  (const double *)v->data + v->off + base, n);
            paired[open] = paired[k] = true;
            open = -1;
        }
    }
    for (int k = 0; k < n_acc; k++) {
        acc *a = &accs[k];
        if (paired[k])
            continue;
        if (a->code == A_COUNT_STAR) {
            a->n += n;
            continue;
        }
        const cview *v = &cv[a->col];
        if (v->kind == K_NULL)
            continue;
        bool dbl = is_dbl(v->kind);
        if (a->code == A_COUNT) { /* any flat column: only its nulls matter */
            for (int64_t s = 0; s < n; s++) {
                int64_t i = sel ? sel[s] : base + s;
                a->n += !cv_null(v, i) && (!dbl || cv_dbl(v, i) == cv_dbl(v, i));
            }
            continue;
        }
        if (!sel && !v->valid && v->kind == K_F64) {
            accumulate_dense_f64(a, (const double *)v->data + v->off + base, n);
            continue;
        }
        for (int64_t s = 0; s < n; s++) {
            int64_t i = sel ? sel[s] : base + s;
            if (cv_null(v, i))
                continue;
            if (dbl) {
                double x = cv_dbl(v, i);
                if (x != x)
                    continue; /* NaN reads as NULL in SQLite */
                a->n++;
                switch (a->code) {
                case A_SUM:
                case A_AVG:
                case A_TOTAL:
                    a->rsum += x;
                    a->approx = true;
                    break;
                case A_MIN:
                    if (!a->has || x < a->dbest)
                        a->dbest = x;
                    a->has = true;
                    break;
                case A_MAX:
                    if (!a->has || x > a->dbest)
                        a->dbest = x;
                    a->has = true;
                    break;
                default:
                    break;
                }
            } else {
                int64_t x = cv_int(v, i);
                a->n++;
                switch (a->code) {
                case A_SUM:
                case A_AVG:
                case A_TOTAL:
                    a->rsum += (double)x;
                    if (!a->approx && !a->overflow && __builtin_add_overflow(a->isum, x, &a->isum))
                        a->approx = a->overflow = true;
                    break;
                case A_MIN:
                    if (!a->has || x < a->ibest)
                        a->ibest = x;
                    a->has = true;
                    break;
                case A_MAX:
                    if (!a->has || x > a->ibest)
                        a->ibest = x;
                    a->has = true;
                    break;
                default:
                    break;
                }
            }
        }
    }
}

/* The rows of the batch that meet every condition, into sel; returns how many. */
static int64_t select_rows(int32_t *sel, int64_t len, const cview *cv, const irange *ranges,
                           const int *rcols, int n_rcols, const dcond *dc, int n_dc)
{
    int64_t n = 0;
    if (n_rcols == 0 && n_dc == 0)
        return len; /* every row: the caller passes no selection */
    if (n_rcols == 0) {
        for (int64_t i = 0; i < len; i++)
            sel[i] = (int32_t)i;
        n = len;
    } else {
        /* the first range column over every row, then the others over the survivors */
        const cview *v = &cv[rcols[0]];
        const irange *r = &ranges[rcols[0]];
        if (v->kind == K_TS_US && !v->valid) {
            const int64_t *d = (const int64_t *)v->data + v->off;
            for (int64_t i = 0; i < len; i++) {
                sel[n] = (int32_t)i;
                n += d[i] >= r->lo && d[i] <= r->hi;
            }
        } else if (v->kind != K_NULL) {
            for (int64_t i = 0; i < len; i++) {
                if (cv_null(v, i))
                    continue;
                int64_t x = cv_int(v, i);
                sel[n] = (int32_t)i;
                n += x >= r->lo && x <= r->hi;
            }
        }
    }
    for (int k = n_rcols ? 1 : 0; k < n_rcols; k++) {
        const cview *v = &cv[rcols[k]];
        const irange *r = &ranges[rcols[k]];
        int64_t m = 0;
        for (int64_t s = 0; s < n; s++) {
            int64_t i = sel[s];
            if (cv_null(v, i))
                continue;
            int64_t x = cv_int(v, i);
            sel[m] = (int32_t)i;
            m += x >= r->lo && x <= r->hi;
        }
        n = m;
    }
    for (int k = 0; k < n_dc; k++) {
        const cview *v = &cv[dc[k].col];
        int64_t m = 0;
        for (int64_t s = 0; s < n; s++) {
            int64_t i = sel[s];
            if (cv_null(v, i))
                continue;
            double x = cv_dbl(v, i);
            if (x != x || !dcond_true(&dc[k], x))
                continue;
            sel[m++] = (int32_t)i;
        }
        n = m;
    }
    return n;
}

static void finish(result *r, const acc *a)
{
    r->type = SQLITE_NULL;
    switch (a->code) {
    case A_COUNT_STAR:
    case A_COUNT:
        r->type = SQLITE_INTEGER;
        r->i = a->n;
        break;
    case A_SUM:
        if (a->n == 0)
            break;
        if (a->approx) {
            r->type = SQLITE_FLOAT;
            r->d = a->rsum;
        } else {
            r->type = SQLITE_INTEGER;
            r->i = a->isum;
        }
        break;
    case A_AVG:
        if (a->n == 0)
            break;
        r->type = SQLITE_FLOAT;
        r->d = a->rsum / (double)a->n;
        break;
    case A_TOTAL:
        r->type = SQLITE_FLOAT;
        r->d = a->rsum;
        break;
    default:
        if (!a->has)
            break;
        r->type = SQLITE_INTEGER; /* or FLOAT: the caller knows the column */
        r->i = a->ibest;
        r->d = a->dbest;
    }
}

static int agg_filter(sqlite3_vtab_cursor *base, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv)
{
    (void)idxNum;
    (void)idxStr;
    agg_cursor *c = (agg_cursor *)base;
    agg_vtab *t = (agg_vtab *)base->pVtab;
    c->eof = true;
    c->n_res = 0;
    free_args(c);
    for (int i = 0; i < argc && i < 1 + MAX_CONDS; i++) {
        if (!(c->args[i] = sqlite3_value_dup(argv[i])))
            return SQLITE_NOMEM;
        c->n_args++;
    }
    acc accs[MAX_ITEMS];
    char ops[MAX_CONDS];
    int ccols[MAX_CONDS], n_acc, n_cond;
    const char *table;
    const char *spec = argc > 0 ? (const char *)sqlite3_value_text(argv[0]) : NULL;
    sql_table_info ti;
    if (!spec || !parse_spec(spec, accs, &n_acc, ops, ccols, &n_cond, &table) || argc != n_cond + 1)
        return agg_fail(c, SQLITE_ERROR, "pond_aggregate: bad plan");
    if (!pond_sql__lookup_table(&ti, t->q, table))
        return agg_fail(c, SQLITE_ERROR, "pond_aggregate: no attached table of that name");
    for (int k = 0; k < n_acc; k++)
        if (accs[k].col >= ti.ncols || (accs[k].col < 0 && accs[k].code != A_COUNT_STAR) ||
            !strchr("ncsatmM", accs[k].code))
            return agg_fail(c, SQLITE_ERROR, "pond_aggregate: bad plan");
    for (int k = 0; k < n_cond; k++)
        if (ccols[k] >= ti.ncols || !num_kind(ti.kinds[ccols[k]]) || !strchr("egGlL", ops[k]))
            return agg_fail(c, SQLITE_ERROR, "pond_aggregate: bad plan");

    int rc = SQLITE_OK;
    size_t nc = (size_t)ti.ncols;
    irange *ranges = pond_calloc(nc, sizeof *ranges);
    bool *need = pond_calloc(nc, sizeof *need);
    cview *cv = pond_calloc(nc, sizeof *cv);
    int *rcols = pond_calloc(nc, sizeof *rcols);
    const char **names = pond_calloc(nc + 1, sizeof *names);
    table_scan_pred *prunes = pond_calloc((size_t)n_cond + 1, sizeof *prunes);
    dcond dc[MAX_CONDS];
    int n_dc = 0, n_rcols = 0, n_prunes = 0, n_names = 0;
    int32_t *sel = NULL;
    size_t sel_cap = 0;
    table_scan *scan = NULL;
    if (!ranges || !need || !cv || !rcols || !names || !prunes) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    bool none = false;
    for (int k = 0; k < n_cond && !none; k++) {
        int col = ccols[k];
        sqlite3_value *v = argv[k + 1];
        need[col] = true;
        if (is_dbl(ti.kinds[col])) {
            int type = sqlite3_value_numeric_type(v);
            if (type == SQLITE_NULL) {
                none = true;
                break;
            }
            dcond *d = &dc[n_dc++];
            d->col = col;
            d->op = ops[k];
            d->type = type == SQLITE_INTEGER || type == SQLITE_FLOAT ? type : SQLITE_TEXT;
            d->i = sqlite3_value_int64(v);
            d->d = sqlite3_value_double(v);
            table_scan_pred *p = &prunes[n_prunes];
            memset(p, 0, sizeof *p);
            p->name = ti.cols[col];
            p->dbl = true;
            if (!pond_sql__double_bounds(ops[k], v, &p->dlo, &p->dhi))
                none = true;
            else if (!isinf(p->dlo) || !isinf(p->dhi))
                n_prunes++;
        } else {
            irange *r = &ranges[col];
            if (!r->used) {
                r->used = true;
                r->lo = INT64_MIN;
                r->hi = INT64_MAX;
                rcols[n_rcols++] = col;
            }
            none = !pond_sql__narrow(ops[k], v, &r->lo, &r->hi);
        }
    }
    /* the timestamp column first: its range also skips versions, and sorted data makes it
     * the most selective */
    for (int k = 1; k < n_rcols; k++)
        if (rcols[k] == ti.ts_col) {
            rcols[k] = rcols[0];
            rcols[0] = ti.ts_col;
        }
    for (int k = 0; k < n_rcols && !none; k++) {
        const irange *r = &ranges[rcols[k]];
        if (r->lo == INT64_MIN && r->hi == INT64_MAX)
            continue;
        sql_kind kind = ti.kinds[rcols[k]];
        if (kind == K_BOOL || kind == K_U8 || kind == K_U16 || kind == K_U32)
            continue; /* unsigned statistics order: no pruning */
        table_scan_pred *p = &prunes[n_prunes++];
        memset(p, 0, sizeof *p);
        p->name = ti.cols[rcols[k]];
        pond_sql__raw_bounds(kind, r->lo, r->hi, &p->lo, &p->hi);
    }
    for (int k = 0; k < n_acc; k++)
        if (accs[k].col >= 0)
            need[accs[k].col] = true;
    for (int i = 0; i < ti.ncols; i++)
        if (need[i])
            names[n_names++] = ti.cols[i];
    if (n_names == 0) /* count(*) alone: one column for the row counts */
        names[n_names++] = ti.cols[ti.ts_col >= 0 ? ti.ts_col : 0];
    if (!none) {
        bool has_range = ti.ts_col >= 0 && ranges[ti.ts_col].used;
        int64_t lo = has_range ? ranges[ti.ts_col].lo : INT64_MIN;
        int64_t hi = has_range ? ranges[ti.ts_col].hi : INT64_MAX;
        /* count(*) (or count(ts)) under timestamp conditions alone: row groups and versions
         * wholly inside the range are counted from statistics, not decoded */
        bool count_only = has_range && n_rcols == 1 && n_dc == 0 && ti.kinds[ti.ts_col] == K_TS_US;
        for (int k = 0; k < n_acc && count_only; k++)
            count_only = accs[k].code == A_COUNT_STAR ||
                         (accs[k].code == A_COUNT && accs[k].col == ti.ts_col);
        table_scan_options so = {
            .vers = ti.vers,
            .n_vers = ti.n_vers,
            .series = ti.series,
            .cols = names,
            .n_cols = n_names,
            .preds = prunes,
            .n_preds = n_prunes,
            .has_range = has_range,
            .lo_us = lo,
            .hi_us = hi,
            .dedup = ti.dedup,
            .threads = t->q->threads,
            .count_col = count_only ? ti.cols[ti.ts_col] : NULL,
            .stats = ti.stats,
            .prefetch = true, /* every batch is read */
        };
        if (pond_table__scan_open(&scan, ti.fs, ti.path, &so) < 0) {
            rc = agg_fail(c, SQLITE_ERROR, pond_error_last()->message);
            goto done;
        }
        for (;;) {
            struct ArrowArray b;
            const struct ArrowSchema *s;
            int e = pond_table__scan_next(scan, &b, &s);
            if (e < 0) {
                rc = agg_fail(c, e == POND_ENOMEM ? SQLITE_NOMEM : SQLITE_ERROR,
                              pond_error_last()->message);
                goto done;
            }
            if (e == 0)
                break;
            if ((size_t)b.length > sel_cap) {
                int32_t *ns = b.length > INT32_MAX ? NULL : pond_realloc(sel, (size_t)b.length * 4);
                if (!ns) {
                    pond_arrow_array_release(&b);
                    rc = SQLITE_NOMEM;
                    goto done;
                }
                sel = ns;
                sel_cap = (size_t)b.length;
            }
            bind_views(cv, need, &ti, s, &b);
            int64_t n = select_rows(sel, b.length, cv, ranges, rcols, n_rcols, dc, n_dc);
            ti.stats->rows_returned += n;
            if (!(n_rcols || n_dc))
                accumulate(accs, n_acc, cv, NULL, 0, n);
            else if (n > 0 && sel[n - 1] - sel[0] == n - 1) /* one run (sorted timestamps) */
                accumulate(accs, n_acc, cv, NULL, sel[0], n);
            else
                accumulate(accs, n_acc, cv, sel, 0, n);
            pond_arrow_array_release(&b);
        }
    }
    if (scan) {
        int64_t inside = pond_table__scan_inside_rows(scan);
        ti.stats->rows_returned += inside;
        for (int k = 0; k < n_acc; k++)
            accs[k].n += inside; /* only count(*) and count(ts) in this mode */
    }
    for (int k = 0; k < n_acc; k++) {
        const acc *a = &accs[k];
        if (a->code == A_SUM && a->overflow) {
            rc = agg_fail(c, SQLITE_ERROR, "integer overflow");
            goto done;
        }
        result *r = &c->res[k];
        finish(r, a);
        if ((a->code == A_MIN || a->code == A_MAX) && r->type != SQLITE_NULL)
            r->type = is_dbl(ti.kinds[a->col]) ? SQLITE_FLOAT : SQLITE_INTEGER;
    }
    c->n_res = n_acc;
    c->eof = false;
done:
    pond_table__scan_free(scan);
    pond_free(sel);
    pond_free(ranges);
    pond_free(need);
    pond_free(cv);
    pond_free(rcols);
    pond_free(names);
    pond_free(prunes);
    return rc;
}

static int agg_next(sqlite3_vtab_cursor *base)
{
    ((agg_cursor *)base)->eof = true;
    return SQLITE_OK;
}

static int agg_eof(sqlite3_vtab_cursor *base) { return ((agg_cursor *)base)->eof; }

static int agg_column(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int col)
{
    agg_cursor *c = (agg_cursor *)base;
    if (col >= HIDDEN0) {
        if (col - HIDDEN0 < c->n_args)
            sqlite3_result_value(ctx, c->args[col - HIDDEN0]);
        else
            sqlite3_result_null(ctx);
    } else if (col >= c->n_res || c->res[col].type == SQLITE_NULL)
        sqlite3_result_null(ctx);
    else if (c->res[col].type == SQLITE_INTEGER)
        sqlite3_result_int64(ctx, c->res[col].i);
    else
        sqlite3_result_double(ctx, c->res[col].d);
    return SQLITE_OK;
}

static int agg_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *out)
{
    (void)base;
    *out = 1;
    return SQLITE_OK;
}

static const sqlite3_module AGG_MODULE = {
    .iVersion = 1,
    .xCreate = NULL, /* eponymous only */
    .xConnect = agg_connect,
    .xBestIndex = agg_best_index,
    .xDisconnect = agg_disconnect,
    .xDestroy = agg_disconnect,
    .xOpen = agg_open,
    .xClose = agg_close,
    .xFilter = agg_filter,
    .xNext = agg_next,
    .xEof = agg_eof,
    .xColumn = agg_column,
    .xRowid = agg_rowid,
};

int pond_sql__register_fast(pond_sql *q)
{
    return sqlite3_create_module_v2(q->db, "pond_aggregate", &AGG_MODULE, q, NULL);
}
