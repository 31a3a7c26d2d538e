/* The aggregate fast path. A query over one attached pond table whose compiled program
 * (SQLite's own, read with EXPLAIN; docs/sql.md) has the shape
 *     SELECT agg(col | *) [AS name], ... FROM table [WHERE cond AND cond ...]
 * with agg one of count, sum, avg, total, min, max over numeric columns, and each cond a
 * comparison (=, <, <=, >, >=, BETWEEN) of a numeric column with a constant that SQLite
 * loads by Integer, Int64, Real, String8, Null or Variable (a bound parameter), or a
 * constant function call SQLite evaluates while planning (us(...)), is prepared as
 *     SELECT r0 AS "<name>", ... FROM pond_aggregate('<plan>', <the constants>)
 * whose xFilter scans the table itself (row groups pruned by every condition) and computes the
 * aggregates over whole Arrow batches in C, with SQLite's own semantics: the same summation
 * (in row order, as sumStep does: integers exact with "integer overflow", a double running sum
 * once a REAL appears), NULL for sum/avg/min/max of nothing, NaN read as NULL. SQLite still
 * evaluates parameters (they bind as usual) and pond_aggregate compares by SQLite's rules
 * (pond_sql__narrow). The SQL text is never tokenised here: the conditions are the ones the
 * pond table's xBestIndex took (sql_vtab.c, probe mode), the aggregates and their columns the
 * AggStep and VColumn instructions; anything else in the program (a second cursor, a
 * comparison SQLite makes itself, GROUP BY, DISTINCT, LIMIT, an expression) is prepared
 * unchanged. */
#include "sql/sql_internal.h"

#include <pond/alloc.h>
#include <pond/buf.h>
#include <pond/errors.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 32
/* SQLite omits its own check of only the first 16 constraints of a plan (a u16 mask): with
 * the plan argument, 15 values keep every "a<i> = value" omitted, so a NULL value cannot
 * make SQLite drop the result row. A query with more conditions has a comparison of its own
 * in the explained program (or more than 15 values) and goes through SQLite unchanged. */
#define MAX_CONDS 15
/* The accepted programs are short (about 10 instructions plus 3 per aggregate and condition);
 * longer ones, or registers past this, are not the shape. */
#define MAX_OPS 512
#define MAX_REGS 1024

typedef enum {
    A_COUNT_STAR = 'n',
    A_COUNT = 'c',
    A_SUM = 's',
    A_AVG = 'a',
    A_TOTAL = 't',
    A_MIN = 'm',
    A_MAX = 'M'
} agg_code;

static bool int_kind(sql_kind k)
{
    return (k >= K_BOOL && k <= K_I64 && k != K_U64) || (k >= K_TS_S && k <= K_TS_NS);
}

static bool num_kind(sql_kind k) { return int_kind(k) || k == K_F32 || k == K_F64; }

/* ---- recognising the shape from SQLite's program ---- */

/* One row of EXPLAIN. */
typedef struct {
    char name[16];
    int64_t p1, p2, p3;
    char *p4; /* NULL when empty */
    int p5;
} vop;

/* What a register holds at a point of the program: a constant loaded by instruction `v`, a
 * column `v` of the cursor, or the result of aggregate `v`. */
typedef struct {
    char kind; /* 0 unknown, 'k' constant, 'c' column, 'a' aggregate */
    int v;
} reg;

typedef struct {
    char code;
    int col;     /* -1 for count(*) */
    int64_t acc; /* its accumulator register */
} agg_item;

/* The recognised program. */
typedef struct {
    vop *ops;
    int n_ops;
    reg *regs;
    agg_item aggs[MAX_ITEMS];
    int n_aggs;
    int out[MAX_ITEMS]; /* the aggregate of each result column */
    int n_out;
    int args[MAX_CONDS]; /* the instruction loading each xFilter value */
    int n_args;
    const char *idx;   /* VFilter's idxStr */
    const char *vopen; /* VOpen's P4: the table's sqlite3_vtab */
    int *fargs;        /* per instruction: a one-argument call's argument (its loader), or -1 */
} program;

static bool is(const vop *o, const char *name) { return !strcmp(o->name, name); }

static reg *reg_at(program *pg, int64_t r) { return r >= 0 && r < MAX_REGS ? &pg->regs[r] : NULL; }

static bool set_reg(program *pg, int64_t r, char kind, int v)
{
    reg *x = reg_at(pg, r);
    if (x) {
        x->kind = kind;
        x->v = v;
    }
    return x != NULL;
}

bool pond_sql__plain_sums(int version) { return version < 3043000; }

static bool is_sum(char code) { return code == A_SUM || code == A_AVG || code == A_TOTAL; }

static char agg_code_of(const char *p4, int n_arg)
{
    static const struct {
        const char *name;
        char code;
    } FN[] = {{"count(0)", A_COUNT_STAR}, {"count(1)", A_COUNT}, {"sum(1)", A_SUM},
              {"avg(1)", A_AVG},          {"total(1)", A_TOTAL}, {"min(1)", A_MIN},
              {"max(1)", A_MAX}};
    for (size_t i = 0; p4 && i < sizeof FN / sizeof *FN; i++)
        if (!strcmp(p4, FN[i].name)) {
            if (is_sum(FN[i].code) && !pond_sql__plain_sums(sqlite3_libversion_number()))
                return 0;
            return FN[i].code == A_COUNT_STAR ? (n_arg == 0 ? A_COUNT_STAR : 0)
                                              : (n_arg == 1 ? FN[i].code : 0);
        }
    return 0;
}

/* Runs one stretch [from, to) of the program in order, tracking registers; false as soon as
 * an instruction is not of the shape. The init section (constants SQLite hoists) runs first,
 * then the body: VOpen, the xFilter values, VFilter, the loop (VColumn, CollSeq, AggStep),
 * VNext, AggFinal, Copy, ResultRow, Halt. */
static bool simulate(program *pg, int from, int to, bool init, int *cursor, int *filter_at,
                     int *next_at, bool *done)
{
    for (int i = from; i < to; i++) {
        const vop *o = &pg->ops[i];
        bool in_loop = *filter_at >= 0 && *next_at < 0;
        if (is(o, "Integer") || is(o, "Int64") || is(o, "Real") || is(o, "String8") ||
            is(o, "Blob") || is(o, "Variable")) {
            if (!set_reg(pg, o->p2, 'k', i))
                return false;
        } else if (is(o, "Null")) {
            for (int64_t r = o->p2; r <= (o->p3 > o->p2 ? o->p3 : o->p2); r++)
                if (!set_reg(pg, r, 'k', i))
                    return false;
        } else if (!in_loop && *next_at < 0 && (is(o, "Function") || is(o, "PureFunc"))) {
            /* a call SQLite evaluates once, before the scan (put_expr writes only us()) */
            const reg *a = reg_at(pg, o->p2);
            pg->fargs[i] = a && a->kind == 'k' ? a->v : -1;
            if (!set_reg(pg, o->p3, 'k', i))
                return false;
        } else if (!init && is(o, "Once")) {
            if (*filter_at >= 0 || o->p2 <= i || o->p2 > to)
                return false; /* run once before the scan: its stretch runs here in order */
        } else if (init && is(o, "Transaction")) {
            continue;
        } else if (init && is(o, "Goto")) {
            if (o->p2 != 1 || i != to - 1)
                return false;
        } else if (init) {
            return false;
        } else if (is(o, "VOpen")) {
            if (*cursor >= 0 || *filter_at >= 0 || !o->p4)
                return false;
            *cursor = (int)o->p1;
            pg->vopen = o->p4;
        } else if (is(o, "VFilter")) {
            const reg *argc = reg_at(pg, o->p3 + 1);
            if (*cursor < 0 || o->p1 != *cursor || *filter_at >= 0 || !argc || argc->kind != 'k' ||
                !is(&pg->ops[argc->v], "Integer") || !o->p4)
                return false;
            int64_t n = pg->ops[argc->v].p1;
            if (n < 0 || n > MAX_CONDS)
                return false;
            for (int64_t k = 0; k < n; k++) {
                const reg *a = reg_at(pg, o->p3 + 2 + k);
                if (!a || a->kind != 'k')
                    return false;
                pg->args[k] = a->v;
            }
            pg->n_args = (int)n;
            pg->idx = o->p4;
            *filter_at = i;
        } else if (is(o, "VColumn")) {
            if (!in_loop || o->p1 != *cursor || o->p2 < 0 || o->p2 > INT32_MAX ||
                !set_reg(pg, o->p3, 'c', (int)o->p2))
                return false;
        } else if (is(o, "CollSeq")) {
            if (!in_loop || o->p1 != 0) /* P1 would be a register it writes */
                return false;
        } else if (is(o, "AggStep")) {
            char code = agg_code_of(o->p4, o->p5);
            if (!in_loop || o->p1 != 0 || !code || pg->n_aggs >= MAX_ITEMS)
                return false;
            agg_item *it = &pg->aggs[pg->n_aggs];
            it->code = code;
            it->col = -1;
            it->acc = o->p3;
            if (code != A_COUNT_STAR) {
                const reg *a = reg_at(pg, o->p2);
                if (!a || a->kind != 'c')
                    return false;
                it->col = a->v;
            }
            for (int k = 0; k < pg->n_aggs; k++)
                if (pg->aggs[k].acc == it->acc)
                    return false;
            pg->n_aggs++;
            if (!set_reg(pg, it->acc, 0, 0)) /* an accumulator until AggFinal */
                return false;
        } else if (is(o, "VNext")) {
            if (!in_loop || o->p1 != *cursor || o->p2 != *filter_at + 1 ||
                pg->ops[*filter_at].p2 != i + 1)
                return false;
            *next_at = i;
        } else if (is(o, "AggFinal")) {
            int k = 0;
            while (k < pg->n_aggs && pg->aggs[k].acc != o->p1)
                k++;
            if (*next_at < 0 || k == pg->n_aggs || !set_reg(pg, o->p1, 'a', k))
                return false;
        } else if (is(o, "Copy") || is(o, "SCopy")) {
            int64_t n = is(o, "Copy") ? o->p3 + 1 : 1;
            for (int64_t k = 0; k < n; k++) {
                const reg *src = reg_at(pg, o->p1 + k);
                if (!src || !set_reg(pg, o->p2 + k, src->kind, src->v))
                    return false;
            }
        } else if (is(o, "ResultRow")) {
            if (*next_at < 0 || pg->n_out || o->p2 < 1 || o->p2 > MAX_ITEMS)
                return false;
            for (int64_t k = 0; k < o->p2; k++) {
                const reg *r = reg_at(pg, o->p1 + k);
                if (!r || r->kind != 'a')
                    return false;
                pg->out[pg->n_out++] = r->v;
            }
        } else if (is(o, "Halt")) {
            if (i != to - 1 || o->p1 != 0 || !pg->n_out)
                return false;
            *done = true;
        } else {
            return false;
        }
    }
    return true;
}

static bool recognise(program *pg)
{
    if (pg->n_ops < 4 || !is(&pg->ops[0], "Init"))
        return false;
    int64_t init = pg->ops[0].p2;
    if (init < 2 || init >= pg->n_ops)
        return false;
    int cursor = -1, filter_at = -1, next_at = -1;
    bool done = false;
    return simulate(pg, (int)init, pg->n_ops, true, &cursor, &filter_at, &next_at, &done) &&
           is(&pg->ops[pg->n_ops - 1], "Goto") &&
           simulate(pg, 1, (int)init, false, &cursor, &filter_at, &next_at, &done) && done &&
           filter_at >= 0 && next_at >= 0;
}

/* ---- the equivalent statement ---- */

static int oom(void) { return pond_error_set(POND_ENOMEM, POND_DOM_SQL, "sql: out of memory"); }

/* A REAL literal SQLite reads back as exactly d, into t: the shortest of 15, 16 and 17
 * digits that does (SQLite's parsing rounds on its own, and differently under valgrind, so
 * SQLite itself is asked). 1, 0 when none does, < 0 on allocation failure. */
static int real_text(char t[3][40], int *pick, pond_sql *q, double d)
{
    char sel[160];
    for (int i = 0; i < 3; i++) {
        if (isinf(d))
            snprintf(t[i], 40, "%s9e999", d < 0 ? "-" : "");
        else
            snprintf(t[i], 40, "%.*g", 15 + i, d);
        if (!strpbrk(t[i], ".eEn"))
            strcat(t[i], ".0"); /* stays REAL */
    }
    snprintf(sel, sizeof sel, "SELECT %s, %s, %s", t[0], t[1], t[2]);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(q->db, sel, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc == SQLITE_NOMEM ? oom() : 0;
    rc = sqlite3_step(st);
    *pick = -1;
    for (int i = 0; i < 3 && rc == SQLITE_ROW && *pick < 0; i++) {
        double got = sqlite3_column_double(st, i);
        if (sqlite3_column_type(st, i) == SQLITE_FLOAT && !memcmp(&got, &d, sizeof d))
            *pick = i;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_NOMEM)
        return oom();
    return *pick >= 0;
}

/* The SQL text of a constant computed inside the program (the arguments of a function call
 * SQLite evaluates once, such as us('2024-01-01T00:00:00Z')): literals from the instruction
 * that loads them, parameters as numbered or named, and pond's us() around them. 0, 1 when it
 * cannot be written, or < 0. */
static int put_expr(pond_buf *b, const program *pg, int j, int depth)
{
    const vop *o = &pg->ops[j];
    int rc;
    if (depth > 8)
        return 1;
    if (is(o, "Variable")) {
        if (!o->p4)
            rc = pond_buf_printf(b, "?%lld", (long long)o->p1);
        else if (!strchr("?:@$", o->p4[0]))
            return 1;
        else
            rc = pond_buf_puts(b, o->p4);
    } else if (is(o, "Integer")) {
        rc = pond_buf_printf(b, "%lld", (long long)o->p1);
    } else if (is(o, "Int64")) {
        if (!o->p4 ||
            strspn(o->p4 + (o->p4[0] == '-'), "0123456789") != strlen(o->p4) - (o->p4[0] == '-'))
            return 1;
        rc = pond_buf_puts(b, o->p4);
    } else if (is(o, "String8")) {
        char *lit = sqlite3_mprintf("%Q", o->p4 ? o->p4 : "");
        if (!lit)
            return oom();
        rc = pond_buf_puts(b, lit);
        sqlite3_free(lit);
    } else if (is(o, "Null")) {
        rc = pond_buf_puts(b, "NULL");
    } else if ((is(o, "Function") || is(o, "PureFunc")) && o->p4 && !strcmp(o->p4, "us(1)")) {
        /* pond's own deterministic function; the statement calls it again */
        if (pg->fargs[j] < 0)
            return 1;
        rc = pond_buf_puts(b, "us(");
        if (rc == 0 && (rc = put_expr(b, pg, pg->fargs[j], depth + 1)) != 0)
            return rc;
        rc = pond_buf_putc(b, ')');
    } else {
        return 1; /* a Real inside a call: its digits in EXPLAIN are rounded */
    }
    return rc < 0 ? oom() : 0;
}

/* The SQL text of xFilter value k: a function call or a parameter as written in the program,
 * else the value SQLite knew while planning (checked against the instruction that loads it).
 * 0, 1 when it cannot be written, or < 0. */
static int put_value(pond_buf *b, pond_sql *q, const program *pg, const sql_probe_call *call, int k)
{
    const vop *o = &pg->ops[pg->args[k]];
    if (is(o, "Variable") || is(o, "Function") || is(o, "PureFunc"))
        return put_expr(b, pg, pg->args[k], 0);
    sqlite3_value *v = k < SQL_PROBE_ARGS ? call->rhs[k] : NULL;
    if (!v)
        return 1; /* SQLite did not know it while planning */
    int type = sqlite3_value_type(v), rc = 0;
    if (is(o, "Integer")   ? type != SQLITE_INTEGER || sqlite3_value_int64(v) != o->p1
        : is(o, "Int64")   ? type != SQLITE_INTEGER
        : is(o, "Real")    ? type != SQLITE_FLOAT && type != SQLITE_INTEGER
        : is(o, "String8") ? type != SQLITE_TEXT
        : is(o, "Blob")    ? type != SQLITE_BLOB
        : is(o, "Null")    ? type != SQLITE_NULL
                           : true)
        return 1; /* not the value of that instruction: some other mapping */
    switch (is(o, "Real") ? SQLITE_FLOAT : type) {
    case SQLITE_NULL:
        rc = pond_buf_puts(b, "NULL");
        break;
    case SQLITE_INTEGER:
        rc = pond_buf_printf(b, "%lld", (long long)sqlite3_value_int64(v));
        break;
    case SQLITE_FLOAT: {
        /* SQLite gives an integral Real as INTEGER (numeric affinity) */
        double d =
            type == SQLITE_INTEGER ? (double)sqlite3_value_int64(v) : sqlite3_value_double(v);
        char t[3][40];
        int pick = 0;
        if ((rc = real_text(t, &pick, q, d)) <= 0)
            return rc < 0 ? rc : 1;
        rc = pond_buf_puts(b, t[pick]);
        break;
    }
    case SQLITE_TEXT: {
        const char *s = (const char *)sqlite3_value_text(v);
        if (!s)
            return oom();
        if ((int)strlen(s) != sqlite3_value_bytes(v))
            return 1; /* a NUL inside */
        char *lit = sqlite3_mprintf("%Q", s);
        if (!lit)
            return oom();
        rc = pond_buf_puts(b, lit);
        sqlite3_free(lit);
        break;
    }
    default: { /* a blob */
        const unsigned char *x = sqlite3_value_blob(v);
        int n = sqlite3_value_bytes(v);
        if (!x && n)
            return oom();
        rc = pond_buf_puts(b, "x'");
        for (int i = 0; i < n && rc == 0; i++)
            rc = pond_buf_printf(b, "%02x", x[i]);
        rc = rc ? rc : pond_buf_putc(b, '\'');
    }
    }
    return rc < 0 ? oom() : 0;
}

/* The parameters of the equivalent statement are the user's: the same count, and each index
 * with the same name (an anonymous "?" written as "?N"). */
static bool same_parameters(sqlite3_stmt *a, sqlite3_stmt *b)
{
    int n = sqlite3_bind_parameter_count(a);
    if (sqlite3_bind_parameter_count(b) != n)
        return false;
    for (int i = 1; i <= n; i++) {
        const char *x = sqlite3_bind_parameter_name(a, i), *y = sqlite3_bind_parameter_name(b, i);
        char num[16];
        snprintf(num, sizeof num, "?%d", i);
        if (x ? !y || strcmp(x, y) : y && strcmp(y, num))
            return false;
    }
    return true;
}

static int append_quoted_name(pond_buf *b, const char *s)
{
    int rc = pond_buf_putc(b, '"');
    for (; *s && rc == 0; s++)
        rc = *s == '"' ? pond_buf_puts(b, "\"\"") : pond_buf_putc(b, *s);
    return rc ? rc : pond_buf_putc(b, '"');
}

/* The statement over pond_aggregate for a recognised program, into *out (or NULL: not
 * applicable). */
static int build(sqlite3_stmt **out, pond_sql *q, sqlite3_stmt *st, const program *pg,
                 const sql_probe *probe)
{
    int id;
    char *ops;
    if (sscanf(pg->idx, "probe%d:", &id) != 1 || id < 0 || id >= probe->n_calls ||
        !(ops = strchr(pg->idx, ':')))
        return 0;
    ops++;
    const sql_probe_call *call = &probe->calls[id];
    char *vt = sqlite3_mprintf("vtab:%p", call->vtab);
    if (!vt)
        return oom();
    bool same_vtab = !strcmp(vt, pg->vopen);
    sqlite3_free(vt);
    if (!same_vtab)
        return 0; /* the cursor is another module's table */
    sql_table_info ti;
    if (call->n != pg->n_args || pg->n_out != sqlite3_column_count(st) ||
        !pond_sql__lookup_table(&ti, q, call->name) || (const void *)ti.stats != call->table)
        return 0; /* another table of that name is found first by name */
    /* the aggregates and their columns */
    for (int i = 0; i < pg->n_out; i++) {
        const agg_item *it = &pg->aggs[pg->out[i]];
        if (it->code == A_COUNT_STAR)
            continue;
        if (it->col >= ti.ncols)
            return 0;
        sql_kind k = ti.kinds[it->col];
        if (it->code == A_COUNT ? k == K_OTHER || k == K_U64 : !num_kind(k))
            return 0;
    }
    /* the plan: "<agg code><column>," per item, ";", "<op><column>," per condition, ";", name */
    pond_buf spec = POND_BUF_INIT, sql = POND_BUF_INIT, vals = POND_BUF_INIT;
    int rc = 0;
    for (int i = 0; i < pg->n_out && rc == 0; i++)
        rc = pond_buf_printf(&spec, "%c%d,", pg->aggs[pg->out[i]].code, pg->aggs[pg->out[i]].col);
    rc = rc ? rc : pond_buf_putc(&spec, ';');
    const char *p = ops;
    for (int k = 0; k < pg->n_args && rc == 0; k++) {
        char op = *p, *end;
        long col = op ? strtol(p + 1, &end, 10) : -1;
        if (!op || !strchr("egGlL", op) || end == p + 1 || *end != ',' || col < 0 ||
            col >= ti.ncols || !num_kind(ti.kinds[col])) {
            rc = 1;
            break;
        }
        p = end + 1;
        rc = pond_buf_printf(&spec, "%c%ld,", op, col);
        if (rc == 0)
            rc = pond_buf_puts(&vals, ", ");
        if (rc == 0)
            rc = put_value(&vals, q, pg, call, k);
    }
    if (rc == 0 && *p)
        rc = 1;
    rc = rc ? rc : pond_buf_putc(&spec, ';');
    rc = rc ? rc : pond_buf_puts(&spec, call->name);
    rc = rc ? rc : pond_buf_puts(&sql, "SELECT ");
    for (int i = 0; i < pg->n_out && rc == 0; i++) {
        const char *name = sqlite3_column_name(st, i);
        rc = name ? pond_buf_printf(&sql, "%sr%d AS ", i ? ", " : "", i) : oom();
        if (rc == 0)
            rc = append_quoted_name(&sql, name);
    }
    if (rc == 0) {
        char *lit = sqlite3_mprintf("%Q", spec.ptr);
        rc = lit ? pond_buf_printf(&sql, " FROM pond_aggregate(%s%s)", lit,
                                   vals.size ? vals.ptr : "")
                 : oom();
        sqlite3_free(lit);
    }
    if (rc < 0) {
        rc = oom();
    } else if (rc > 0) {
        rc = 0; /* a condition or value it cannot write */
    } else {
        if (sqlite3_prepare_v2(q->db, sql.ptr, (int)sql.size, out, NULL) == SQLITE_OK &&
            same_parameters(st, *out)) {
            rc = 1;
        } else {
            rc = sqlite3_errcode(q->db) == SQLITE_NOMEM ? oom() : 0;
            sqlite3_finalize(*out);
            *out = NULL;
        }
    }
    pond_buf_dispose(&spec);
    pond_buf_dispose(&sql);
    pond_buf_dispose(&vals);
    return rc;
}

/* The EXPLAIN rows of st's SQL (prepared again with q->probe set), into pg->ops. 1 when
 * read, 0 when not the shape (too long, or it does not prepare), < 0 on allocation failure. */
static int explain(program *pg, pond_sql *q, sqlite3_stmt *st)
{
    char *text = sqlite3_mprintf("EXPLAIN %s", sqlite3_sql(st));
    if (!text)
        return oom();
    sqlite3_stmt *ex = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v2(q->db, text, -1, &ex, &tail);
    bool one = rc == SQLITE_OK && ex && (!tail || !tail[strspn(tail, " \t\r\n;")]);
    sqlite3_free(text);
    if (rc == SQLITE_NOMEM)
        return oom();
    if (!one) {
        sqlite3_finalize(ex);
        return 0;
    }
    rc = 1;
    int s;
    while ((s = sqlite3_step(ex)) == SQLITE_ROW && rc == 1) {
        if (pg->n_ops >= MAX_OPS) {
            rc = 0;
            break;
        }
        vop *o = &pg->ops[pg->n_ops++];
        const char *name = (const char *)sqlite3_column_text(ex, 1);
        const char *p4 = (const char *)sqlite3_column_text(ex, 5);
        snprintf(o->name, sizeof o->name, "%s", name ? name : "");
        o->p1 = sqlite3_column_int64(ex, 2);
        o->p2 = sqlite3_column_int64(ex, 3);
        o->p3 = sqlite3_column_int64(ex, 4);
        o->p5 = sqlite3_column_int(ex, 6);
        if (p4 && *p4 && !(o->p4 = pond_strdup(p4)))
            rc = oom();
    }
    if (rc == 1 && s != SQLITE_DONE)
        rc = s == SQLITE_NOMEM ? oom() : 0;
    sqlite3_finalize(ex);
    return rc;
}

int pond_sql__fast_prepare(sqlite3_stmt **out, pond_sql *q, sqlite3_stmt *st)
{
    *out = NULL;
    int ncol = sqlite3_column_count(st);
    if (!sqlite3_stmt_readonly(st) || ncol < 1 || ncol > MAX_ITEMS || q->probe)
        return 0;
    sql_probe *probe = pond_calloc(1, sizeof *probe);
    program *pg = pond_calloc(1, sizeof *pg);
    if (pg) {
        pg->ops = pond_calloc(MAX_OPS, sizeof *pg->ops);
        pg->fargs = pond_calloc(MAX_OPS, sizeof *pg->fargs);
        pg->regs = pond_calloc(MAX_REGS, sizeof *pg->regs);
    }
    int rc = 0;
    if (!probe || !pg || !pg->ops || !pg->regs || !pg->fargs) {
        rc = oom();
    } else {
        q->probe = probe;
        rc = explain(pg, q, st);
        q->probe = NULL;
        if (rc == 1)
            rc = recognise(pg) ? build(out, q, st, pg, probe) : 0;
    }
    for (int i = 0; probe && i < probe->n_calls; i++)
        for (int k = 0; k < probe->calls[i].n && k < SQL_PROBE_ARGS; k++)
            sqlite3_value_free(probe->calls[i].rhs[k]);
    for (int i = 0; pg && pg->ops && i < pg->n_ops; i++)
        pond_free(pg->ops[i].p4);
    if (pg) {
        pond_free(pg->ops);
        pond_free(pg->regs);
        pond_free(pg->fargs);
    }
    pond_free(pg);
    pond_free(probe);
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
            .cache = t->q->bufs,
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
