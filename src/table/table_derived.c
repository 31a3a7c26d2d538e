/* Derived nodes (docs/derived.md): a series whose rows a recipe computes from other series.
 * The recipe lives in the node's attributes (pond.derived) and names its sources by node id;
 * each source names its dependents (pond.derived_by). A write of a new version of a source
 * refreshes its dependents in the same transaction (pond_table__derived_after_write, called by the
 * one series write path), recomputing only the buckets the new version's rows fall in; the
 * recomputed rows are a new version of the derived series, whose dedup=last rule on
 * (bucket, keys) makes reads see the newest row of each bucket. */
#include "table/table_internal.h"

#include "util/json.h"

#include <stdatomic.h>
#include <string.h>

#define D POND_DOM_TABLE
#define DERIVED_ATTR "pond.derived"
#define DERIVED_BY_ATTR "pond.derived_by"
#define STALE_ATTR "pond.derived_stale"

static const char *const AGG_NAMES[] = {"min", "max", "sum", "count", "avg", "", "first", "last"};

static int nomem(void) { return pond_error_set(POND_ENOMEM, D, "out of memory"); }

/* ---- finding nodes by id ---------------------------------------------------------------- */

typedef struct {
    pond_node_id id;
    char *path;
} find_ctx;

static int find_fn(const char *path, const pond_stat *st, const char *const *caps, size_t n,
                   void *payload)
{
    (void)caps;
    (void)n;
    find_ctx *f = payload;
    if (!pond_node_id_equal(&st->id, &f->id))
        return 0;
    f->path = pond_strdup(path);
    return f->path ? 1 : nomem();
}

/* The node with id id_text: at path_hint when it is still there, else found by a walk of the
 * tree (it moved). POND_ENOTFOUND when no entry has that id (it was removed). */
static int resolve(pond_fs_node **out, pond_fs *fs, const char *id_text, const char *path_hint)
{
    *out = NULL;
    find_ctx f = {0};
    if (!id_text || pond_node_id_parse(&f.id, id_text) < 0)
        return pond_error_set(POND_ECORRUPT, D, "%s: not a node id in a derived recipe",
                              id_text ? id_text : "(none)");
    pond_stat st;
    if (path_hint && pond_fs_node_open(out, fs, NULL, path_hint, POND_FS_NODE_NOFOLLOW) == 0) {
        if (pond_fs_node_stat(&st, *out) == 0 && pond_node_id_equal(&st.id, &f.id))
            return 0;
        pond_fs_node_free(*out);
        *out = NULL;
    }
    int rc = pond_fs_glob(fs, NULL, "/**/*", find_fn, &f);
    if (rc < 0)
        return rc;
    if (!f.path)
        return pond_error_set(POND_ENOTFOUND, D, "%s: no such node (it was removed)",
                              path_hint ? path_hint : id_text);
    rc = pond_fs_node_open(out, fs, NULL, f.path, POND_FS_NODE_NOFOLLOW);
    pond_free(f.path);
    return rc;
}

/* ---- recipes ------------------------------------------------------------------------------ */

/* A node's attributes as a JSON object (a new reference), or NULL when it has none. */
static int attrs_of(json_t **out, pond_fs_node *node)
{
    *out = NULL;
    char *x = NULL;
    int rc = pond_fs_node_get_xattrs(&x, node);
    if (rc < 0 || !x) {
        pond_free(x);
        return rc;
    }
    *out = pond__json_parse(x, strlen(x), 0, "extended attributes", D);
    pond_free(x);
    if (*out)
        return 0;
    pond_error_prefix("%s", pond_fs_node_path(node));
    return pond_error_last()->code;
}

/* The recipe object of a node's attributes (a new reference), or NULL when it has none. */
static int recipe_of(json_t **out, pond_fs_node *node)
{
    *out = NULL;
    json_t *obj = NULL;
    int rc = attrs_of(&obj, node);
    if (rc < 0 || !obj)
        return rc;
    json_t *r = json_object_get(obj, DERIVED_ATTR);
    if (r && !json_is_object(r)) {
        json_decref(obj);
        return pond_error_set(POND_ECORRUPT, D, "%s: %s is not an object", pond_fs_node_path(node),
                              DERIVED_ATTR);
    }
    *out = json_incref(r);
    json_decref(obj);
    return 0;
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int strings_of(char ***out, size_t *n_out, const json_t *arr, const char *path,
                      const char *key)
{
    *out = NULL;
    *n_out = 0;
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return pond_error_set(POND_ECORRUPT, D, "%s: derived recipe: %s is not a list", path, key);
    size_t n = json_array_size(arr);
    char **s = pond_calloc(n + 1, sizeof *s);
    if (!s)
        return nomem();
    for (size_t i = 0; i < n; i++) {
        const char *v = json_string_value(json_array_get(arr, i));
        if (!v || !(s[i] = pond_strdup(v))) {
            for (size_t k = 0; k < i; k++)
                pond_free(s[k]);
            pond_free(s);
            return v ? nomem()
                     : pond_error_set(POND_ECORRUPT, D,
                                      "%s: derived recipe: %s holds a "
                                      "non-string",
                                      path, key);
        }
    }
    *out = s;
    *n_out = n;
    return 0;
}

static void strings_free(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        pond_free(s[i]);
    pond_free(s);
}

/* ---- rollup plans ---------------------------------------------------------------------------- */

static void plan_dispose(table_rollup_plan *p)
{
    pond_free(p->dest_path);
    pond_free(p->every);
    pond_tz_free(p->tz);
    pond_tz_free(p->src_bucket_tz);
    pond_tz_free(p->src_tz);
    pond_free(p->src_ts);
    strings_free(p->by, p->n_by);
    pond_free(p->by_kind);
    strings_free(p->in, p->n_in);
    pond_free(p->in_double);
    pond_free(p->outs);
    pond_free(p->read_cols);
    pond_arrow_schema_release(&p->schema);
    memset(p, 0, sizeof *p);
}

static int agg_parse(table_agg *out, const char *s)
{
    for (int k = 0; k < (int)(sizeof AGG_NAMES / sizeof *AGG_NAMES); k++)
        if (AGG_NAMES[k][0] && !strcmp(AGG_NAMES[k], s)) {
            *out = (table_agg)k;
            return 0;
        }
    return pond_error_set(POND_EINVALID, D,
                          "unknown aggregate '%s' (avg, min, max, sum, count, first, last)", s);
}

static const struct ArrowSchema *schema_col(const struct ArrowSchema *s, const char *name)
{
    for (int64_t k = 0; k < s->n_children; k++)
        if (s->children[k]->name && !strcmp(s->children[k]->name, name))
            return s->children[k];
    return NULL;
}

static int add_input(table_rollup_plan *p, size_t *idx, const char *name, bool dbl)
{
    for (size_t k = 0; k < p->n_in; k++)
        if (!strcmp(p->in[k], name)) {
            *idx = k;
            return 0;
        }
    char **in = pond_realloc(p->in, (p->n_in + 2) * sizeof *in);
    if (!in)
        return nomem();
    p->in = in;
    bool *d = pond_realloc(p->in_double, (p->n_in + 2) * sizeof *d);
    if (!d)
        return nomem();
    p->in_double = d;
    if (!(in[p->n_in] = pond_strdup(name)))
        return nomem();
    d[p->n_in] = dbl;
    *idx = p->n_in++;
    return 0;
}

/* An input column of the source for a rollup column: numeric, or an error naming both. */
static int numeric_input(bool *dbl, const struct ArrowSchema *sch, const char *col,
                         const char *src_path, const char *why)
{
    const struct ArrowSchema *c = schema_col(sch, col);
    if (!c)
        return pond_error_set(POND_EINVALID, D, "source %s has no column '%s'%s", src_path, col,
                              why);
    pond_arrow_format f;
    char tn[POND_ARROW_TYPE_NAME_LEN];
    if (pond_arrow_format_parse(&f, c->format) < 0 || !pond_table__rollup_numeric(f.type, dbl))
        return pond_error_set(POND_EINVALID, D,
                              "column '%s' of source %s is %s: a rollup aggregates numbers", col,
                              src_path, pond_arrow_type_name(tn, c->format));
    return 0;
}

static int bucket_open(pond__bucket *b, pond_tz **tz, const char *every, const char *zone)
{
    int rc = pond__bucket_parse(b, every);
    if (rc == 0 && zone && strcmp(zone, "UTC") && (rc = pond_tz_open(tz, zone)) == 0)
        b->tz = *tz;
    return rc;
}

/* The plan of a rollup recipe over the source src (validates the recipe against the source:
 * errors name the source and the column). */
static int plan_build(table_rollup_plan *p, const json_t *recipe, pond_fs_node *src,
                      const char *dest_path)
{
    memset(p, 0, sizeof *p);
    const char *sp = pond_fs_node_path(src);
    pond_series_settings set = {0};
    struct ArrowSchema sch = {0};
    json_t *src_recipe = NULL;
    char **cols = NULL, **aggs = NULL;
    size_t n_cols = 0, n_aggs = 0;
    pond_stat st;
    int rc = pond_fs_node_stat(&st, src);
    if (rc == 0 && st.type != POND_ENTRY_FILE_SERIES)
        rc = pond_error_set(POND_EINVALID, D, "source %s is a %s: a rollup reads a series", sp,
                            pond_entry_type_name(st.type));
    if (rc == 0 && !(p->dest_path = pond_strdup(dest_path)))
        rc = nomem();
    const char *every = jstr(recipe, "every");
    if (rc == 0 && (!every || !(p->every = pond_strdup(every))))
        rc = every ? nomem()
                   : pond_error_set(POND_ECORRUPT, D, "%s: derived recipe without 'every'",
                                    dest_path);
    if (rc == 0)
        rc = bucket_open(&p->bucket, &p->tz, every, jstr(recipe, "timezone"));
    if (rc == 0)
        rc = pond_series_node_settings_get(&set, src);
    if (rc == 0 && !set.timestamp_column)
        rc = pond_error_set(POND_EINVALID, D,
                            "source %s has no timestamp column yet (write "
                            "rows to it first)",
                            sp);
    if (rc == 0 && !(p->src_ts = pond_strdup(set.timestamp_column)))
        rc = nomem();
    if (rc == 0 && set.timezone && strcmp(set.timezone, "UTC"))
        rc = pond_tz_open(&p->src_tz, set.timezone);
    if (rc == 0)
        rc = pond_table_node_schema(&sch, src);
    if (rc == 0)
        rc = recipe_of(&src_recipe, src);
    if (rc == 0 && src_recipe) {
        const char *kind = jstr(src_recipe, "kind");
        p->cascade = kind && !strcmp(kind, "rollup");
        if (p->cascade)
            rc = bucket_open(&p->src_bucket, &p->src_bucket_tz, jstr(src_recipe, "every"),
                             jstr(src_recipe, "timezone"));
    }
    if (rc == 0)
        rc = strings_of(&p->by, &p->n_by, json_object_get(recipe, "by"), dest_path, "by");
    if (rc == 0 && !(p->by_kind = pond_calloc(p->n_by + 1, sizeof *p->by_kind)))
        rc = nomem();
    for (size_t k = 0; rc == 0 && k < p->n_by; k++) {
        const struct ArrowSchema *c = schema_col(&sch, p->by[k]);
        pond_arrow_format f;
        char tn[POND_ARROW_TYPE_NAME_LEN];
        if (!c)
            rc = pond_error_set(POND_EINVALID, D, "source %s has no column '%s' (--by)", sp,
                                p->by[k]);
        else if (!strcmp(p->by[k], p->src_ts) || !strcmp(p->by[k], "timestamp"))
            rc = pond_error_set(POND_EINVALID, D, "--by '%s': the time column is the bucket",
                                p->by[k]);
        else if (pond_arrow_format_parse(&f, c->format) < 0 ||
                 (p->by_kind[k] = pond_table__rollup_key_kind(f.type)) < 0)
            rc = pond_error_set(POND_EINVALID, D,
                                "column '%s' of source %s is %s: --by takes integer, string "
                                "or bool columns",
                                p->by[k], sp, pond_arrow_type_name(tn, c->format));
    }
    if (rc == 0)
        rc = strings_of(&cols, &n_cols, json_object_get(recipe, "columns"), dest_path, "columns");
    if (rc == 0)
        rc = strings_of(&aggs, &n_aggs, json_object_get(recipe, "agg"), dest_path, "agg");
    if (rc == 0 && (!n_cols || !n_aggs))
        rc = pond_error_set(POND_EINVALID, D,
                            "%s: a rollup needs at least one column and one "
                            "aggregate",
                            dest_path);
    if (rc == 0 && !(p->outs = pond_calloc(n_cols * n_aggs, sizeof *p->outs)))
        rc = nomem();
    /* output schema: timestamp, by..., <column>_<agg>... */
    size_t ncols = 1 + p->n_by + n_cols * n_aggs;
    if (rc == 0)
        rc = pond_arrow_schema_init(&p->schema, "+s", "", 0, (int64_t)ncols);
    if (rc == 0)
        rc = pond_arrow_schema_init(p->schema.children[0], "tsu:UTC", "timestamp", 0, 0);
    static const char *const KEY_FMT[] = {"l", "u", "b"};
    for (size_t k = 0; rc == 0 && k < p->n_by; k++)
        rc = pond_arrow_schema_init(p->schema.children[1 + k], KEY_FMT[p->by_kind[k]], p->by[k],
                                    ARROW_FLAG_NULLABLE, 0);
    for (size_t c = 0; rc == 0 && c < n_cols; c++) {
        for (size_t a = 0; rc == 0 && a < n_aggs; a++) {
            table_agg op = TABLE_AGG_MIN;
            if ((rc = agg_parse(&op, aggs[a])) < 0)
                break;
            table_rollup_out *o = &p->outs[p->n_outs];
            o->op = op;
            bool dbl = false, dbl2 = false;
            char name[512];
            if (!p->cascade) {
                rc = numeric_input(&dbl, &sch, cols[c], sp, "");
                if (rc == 0)
                    rc = add_input(p, &o->in, cols[c], dbl);
            } else {
                /* a rollup of a rollup: min of mins, sum of sums and counts, avg from both */
                if (op == TABLE_AGG_COUNT || op == TABLE_AGG_AVG) {
                    snprintf(name, sizeof name, "%s_count", cols[c]);
                    rc = numeric_input(&dbl2, &sch, name, sp,
                                       " (a rollup of a rollup counts from the source's counts)");
                    if (rc == 0)
                        rc = add_input(p, op == TABLE_AGG_AVG ? &o->in2 : &o->in, name, dbl2);
                    if (op == TABLE_AGG_COUNT)
                        o->op = TABLE_AGG_SUM;
                }
                if (rc == 0 && op != TABLE_AGG_COUNT) {
                    snprintf(name, sizeof name, "%s_%s", cols[c],
                             op == TABLE_AGG_AVG ? "sum" : aggs[a]);
                    rc = numeric_input(&dbl, &sch, name, sp,
                                       op == TABLE_AGG_AVG
                                           ? " (a rollup of a rollup averages from the "
                                             "source's sums and counts)"
                                           : " (a rollup of a rollup aggregates the source's "
                                             "aggregate of the same name)");
                    if (rc == 0)
                        rc = add_input(p, &o->in, name, dbl);
                    if (op == TABLE_AGG_AVG)
                        o->op = TABLE_AGG_AVG2;
                }
                if (rc == 0 && o->op == TABLE_AGG_SUM && op == TABLE_AGG_COUNT)
                    dbl = dbl2;
            }
            if (rc < 0)
                break;
            bool out_dbl = op == TABLE_AGG_AVG ? true : op == TABLE_AGG_COUNT ? false : dbl;
            snprintf(name, sizeof name, "%s_%s", cols[c], aggs[a]);
            for (size_t k = 0; k < p->n_by && rc == 0; k++)
                if (!strcmp(p->by[k], name))
                    rc = pond_error_set(POND_EINVALID, D,
                                        "column '%s' would be both a --by key and an aggregate",
                                        name);
            if (rc == 0)
                rc = pond_arrow_schema_init(p->schema.children[1 + p->n_by + p->n_outs],
                                            out_dbl ? "g" : "l", name, ARROW_FLAG_NULLABLE, 0);
            p->n_outs++;
        }
    }
    p->n_read_cols = 1 + p->n_by + p->n_in;
    if (rc == 0 && !(p->read_cols = pond_calloc(p->n_read_cols, sizeof *p->read_cols)))
        rc = nomem();
    if (rc == 0) {
        p->read_cols[0] = p->src_ts;
        for (size_t k = 0; k < p->n_by; k++)
            p->read_cols[1 + k] = p->by[k];
        for (size_t k = 0; k < p->n_in; k++)
            p->read_cols[1 + p->n_by + k] = p->in[k];
    }
    strings_free(cols, n_cols);
    strings_free(aggs, n_aggs);
    json_decref(src_recipe);
    pond_arrow_schema_release(&sch);
    pond_series_settings_dispose(&set);
    if (rc < 0)
        plan_dispose(p);
    return rc;
}

/* ---- join plans ----------------------------------------------------------------------------- */

static void join_dispose(table_join_plan *p)
{
    for (size_t s = 0; p->src && s < p->n_src; s++) {
        table_join_src *x = &p->src[s];
        pond_free(x->name);
        pond_fs_node_free(x->node);
        pond_tz_free(x->tz);
        strings_free(x->read_cols, x->n_cols + 1);
        pond_free(x->kind);
    }
    pond_free(p->src);
    pond_arrow_schema_release(&p->schema);
    memset(p, 0, sizeof *p);
}

static int join_kind(pond_arrow_type t)
{
    bool dbl;
    if (pond_table__rollup_numeric(t, &dbl))
        return dbl ? TABLE_JOIN_DOUBLE : TABLE_JOIN_INT;
    if (t == POND_ARROW_STRING || t == POND_ARROW_LARGE_STRING)
        return TABLE_JOIN_STR;
    return t == POND_ARROW_BOOL ? TABLE_JOIN_BOOL : -1;
}

/* One source of a join: its node (the written one when it is that), settings and columns. */
static int join_source(table_join_src *x, const json_t *js, pond_fs *fs)
{
    const char *name = jstr(js, "name");
    pond_series_settings set = {0};
    struct ArrowSchema sch = {0};
    pond_stat st;
    int rc = name && (x->name = pond_strdup(name)) ? 0 : nomem();
    if (rc == 0) {
        rc = resolve(&x->node, fs, jstr(js, "id"), jstr(js, "path"));
        if (rc == POND_ENOTFOUND)
            pond_error_set(POND_ENOTFOUND, D, "source %s is gone (removed with --force)",
                           jstr(js, "path") ? jstr(js, "path") : "?");
    }
    if (rc == 0 && (rc = pond_fs_node_stat(&st, x->node)) == 0 && st.type != POND_ENTRY_FILE_SERIES)
        rc = pond_error_set(POND_EINVALID, D, "source %s is a %s: a join reads series",
                            pond_fs_node_path(x->node), pond_entry_type_name(st.type));
    const json_t *f = json_object_get(js, "from"), *t = json_object_get(js, "to");
    if ((x->has_from = json_is_integer(f)))
        x->from = json_integer_value(f);
    if ((x->has_to = json_is_integer(t)))
        x->to = json_integer_value(t);
    if (rc == 0)
        rc = pond_series_node_settings_get(&set, x->node);
    if (rc == 0 && !set.timestamp_column)
        rc = pond_error_set(POND_EINVALID, D,
                            "source %s has no timestamp column yet (write "
                            "rows to it first)",
                            pond_fs_node_path(x->node));
    if (rc == 0 && set.timezone && strcmp(set.timezone, "UTC"))
        rc = pond_tz_open(&x->tz, set.timezone);
    if (rc == 0)
        rc = pond_table_node_schema(&sch, x->node);
    if (rc == 0 &&
        (!(x->read_cols = pond_calloc((size_t)sch.n_children + 1, sizeof *x->read_cols)) ||
         !(x->kind = pond_calloc((size_t)sch.n_children + 1, sizeof *x->kind))))
        rc = nomem();
    if (rc == 0 && !(x->read_cols[0] = pond_strdup(set.timestamp_column)))
        rc = nomem();
    for (int64_t k = 0; rc == 0 && k < sch.n_children; k++) {
        const char *cn = sch.children[k]->name;
        pond_arrow_format fm;
        char tn[POND_ARROW_TYPE_NAME_LEN];
        if (!cn || !strcmp(cn, set.timestamp_column))
            continue;
        int kind =
            pond_arrow_format_parse(&fm, sch.children[k]->format) == 0 ? join_kind(fm.type) : -1;
        if (kind < 0) {
            rc = pond_error_set(POND_EINVALID, D,
                                "column '%s' of source %s is %s: a join carries numbers, "
                                "strings and bools",
                                cn, pond_fs_node_path(x->node),
                                pond_arrow_type_name(tn, sch.children[k]->format));
            break;
        }
        x->kind[x->n_cols] = kind;
        if (!(x->read_cols[++x->n_cols] = pond_strdup(cn)))
            rc = nomem();
    }
    pond_arrow_schema_release(&sch);
    pond_series_settings_dispose(&set);
    return rc;
}

static int join_build(table_join_plan *p, const json_t *recipe, pond_fs *fs)
{
    memset(p, 0, sizeof *p);
    const json_t *srcs = json_object_get(recipe, "sources");
    size_t n = json_array_size(srcs);
    const json_t *tol = json_object_get(recipe, "tolerance_us");
    p->tolerance_us = json_is_integer(tol) ? json_integer_value(tol) : 0;
    if (n < 1 || p->tolerance_us < 0)
        return pond_error_set(POND_ECORRUPT, D, "a join recipe %s",
                              n < 1 ? "without sources" : "with a negative tolerance");
    if (!(p->src = pond_calloc(n, sizeof *p->src)))
        return nomem();
    p->n_src = n;
    int rc = 0;
    size_t ncols = 1;
    for (size_t s = 0; rc == 0 && s < n; s++) {
        rc = join_source(&p->src[s], json_array_get(srcs, s), fs);
        ncols += p->src[s].n_cols;
    }
    if (rc == 0)
        rc = pond_arrow_schema_init(&p->schema, "+s", "", 0, (int64_t)ncols);
    if (rc == 0)
        rc = pond_arrow_schema_init(p->schema.children[0], "tsu:UTC", "timestamp", 0, 0);
    static const char *const FMT[] = {"l", "g", "u", "b"};
    size_t col = 1;
    for (size_t s = 0; rc == 0 && s < n; s++) {
        for (size_t k = 0; rc == 0 && k < p->src[s].n_cols; k++, col++) {
            char name[512];
            snprintf(name, sizeof name, "%s_%s", p->src[s].name, p->src[s].read_cols[k + 1]);
            for (size_t c = 1; c < col && rc == 0; c++)
                if (!strcmp(p->schema.children[c]->name, name))
                    rc = pond_error_set(POND_EINVALID, D,
                                        "two columns of the join would be named '%s' (give the "
                                        "sources other names: --source NAME=PATH)",
                                        name);
            if (rc == 0)
                rc = pond_arrow_schema_init(p->schema.children[col], FMT[p->src[s].kind[k]], name,
                                            ARROW_FLAG_NULLABLE, 0);
        }
    }
    if (rc < 0)
        join_dispose(p);
    return rc;
}

/* ---- sql plans ------------------------------------------------------------------------------ */

/* The SQL layer's evaluator (pond_sql_derive_register): the table layer sits below SQL. */
static _Atomic(pond_derive_sql_fn) sql_eval;

void pond_derive_set_sql_evaluator(pond_derive_sql_fn fn) { atomic_store(&sql_eval, fn); }

/* A sql recipe ready to run: its query and its sources' names and current paths. */
typedef struct {
    const char *sql; /* borrowed from the recipe */
    char **names, **paths;
    size_t n;
} table_sql_plan;

static void sql_dispose(table_sql_plan *p)
{
    strings_free(p->names, p->n);
    strings_free(p->paths, p->n);
    memset(p, 0, sizeof *p);
}

static int sql_build(table_sql_plan *p, const json_t *recipe, pond_fs *fs)
{
    memset(p, 0, sizeof *p);
    const json_t *srcs = json_object_get(recipe, "sources");
    size_t n = json_array_size(srcs);
    if (!(p->sql = jstr(recipe, "sql")) || n < 1)
        return pond_error_set(POND_ECORRUPT, D, "a sql recipe without %s",
                              p->sql ? "sources" : "its query");
    if (!(p->names = pond_calloc(n + 1, sizeof *p->names)) ||
        !(p->paths = pond_calloc(n + 1, sizeof *p->paths))) {
        pond_free(p->names);
        p->names = NULL;
        return nomem();
    }
    p->n = n;
    int rc = 0;
    for (size_t s = 0; rc == 0 && s < n; s++) {
        const json_t *js = json_array_get(srcs, s);
        pond_fs_node *node = NULL;
        rc = resolve(&node, fs, jstr(js, "id"), jstr(js, "path"));
        if (rc == POND_ENOTFOUND)
            pond_error_set(POND_ENOTFOUND, D, "source %s is gone (removed with --force)",
                           jstr(js, "path") ? jstr(js, "path") : "?");
        if (rc == 0 && (!jstr(js, "name") || !(p->names[s] = pond_strdup(jstr(js, "name")))))
            rc = jstr(js, "name") ? nomem()
                                  : pond_error_set(POND_ECORRUPT, D,
                                                   "a sql recipe's source "
                                                   "without a name");
        if (rc == 0 && !(p->paths[s] = pond_strdup(pond_fs_node_path(node))))
            rc = nomem();
        pond_fs_node_free(node);
    }
    if (rc < 0)
        sql_dispose(p);
    return rc;
}

/* The query's rows, checked to hold a timestamp column (*ts_col: its name, borrowed from
 * the stream's schema copy in ts_name). Errors name the query. */
static int sql_stream(struct ArrowArrayStream *out, char ts_name[256], const table_sql_plan *p,
                      pond_fs *fs)
{
    pond_derive_sql_fn fn = atomic_load(&sql_eval);
    if (!fn)
        return pond_error_set(POND_EUNSUPPORTED, D,
                              "a sql recipe is computed by the SQL layer, which this program "
                              "did not set up (pond_sql_derive_register)");
    int rc =
        fn(out, fs, p->sql, (const char *const *)p->names, (const char *const *)p->paths, p->n);
    if (rc < 0) {
        pond_error_prefix("sql recipe '%s'", p->sql);
        return rc;
    }
    struct ArrowSchema sch = {0};
    int err = out->get_schema(out, &sch);
    if (err != 0) {
        const char *m = out->get_last_error ? out->get_last_error(out) : NULL;
        rc = pond_error_set(POND_EINVALID, D, "sql recipe '%s': %s", p->sql, m ? m : "no schema");
    } else {
        int k = pond_table__find_ts(&sch, NULL);
        if (k >= 0) {
            snprintf(ts_name, 256, "%s", sch.children[k]->name);
        } else {
            pond_buf have = POND_BUF_INIT;
            for (int64_t c = 0; c < sch.n_children; c++)
                pond_buf_printf(&have, "%s%s", c ? ", " : "",
                                sch.children[c]->name ? sch.children[c]->name : "");
            rc = pond_error_set(POND_EINVALID, D,
                                "sql recipe '%s': its result has no timestamp column (a "
                                "column named timestamp, time, ts, event_time or datetime "
                                "holding times or int64 microseconds; it has: %s)",
                                p->sql, have.ptr ? have.ptr : "no columns");
            pond_buf_dispose(&have);
        }
    }
    pond_arrow_schema_release(&sch);
    if (rc < 0)
        out->release(out);
    return rc;
}

/* ---- refresh --------------------------------------------------------------------------------- */

/* A recipe ready to compute: a rollup over its source, a join, or a sql query. */
typedef struct {
    bool join, sql;
    table_rollup_plan r;
    pond_fs_node *src; /* the rollup's source (owned) */
    table_join_plan j;
    table_sql_plan q;
} dplan;

static void dplan_dispose(dplan *p)
{
    if (p->join)
        join_dispose(&p->j);
    else if (p->sql)
        sql_dispose(&p->q);
    else
        plan_dispose(&p->r);
    pond_fs_node_free(p->src);
    memset(p, 0, sizeof *p);
}

/* The single source of a rollup recipe, resolved. */
static int recipe_source(pond_fs_node **out, const json_t *recipe, pond_fs *fs,
                         const char *dest_path)
{
    const json_t *srcs = json_object_get(recipe, "sources");
    const json_t *s0 = json_array_get(srcs, 0);
    if (!s0)
        return pond_error_set(POND_ECORRUPT, D, "%s: derived recipe without sources", dest_path);
    int rc = resolve(out, fs, jstr(s0, "id"), jstr(s0, "path"));
    if (rc == POND_ENOTFOUND)
        pond_error_set(POND_ENOTFOUND, D, "%s: its source %s is gone (removed with --force)",
                       dest_path, jstr(s0, "path") ? jstr(s0, "path") : "?");
    return rc;
}

static int dplan_build(dplan *p, const json_t *recipe, pond_fs *fs, const char *dest_path)
{
    memset(p, 0, sizeof *p);
    const char *kind = jstr(recipe, "kind");
    if (kind && (!strcmp(kind, "join") || !strcmp(kind, "sql"))) {
        p->join = kind[0] == 'j';
        p->sql = !p->join;
        int rc = p->join ? join_build(&p->j, recipe, fs) : sql_build(&p->q, recipe, fs);
        if (rc < 0)
            pond_error_prefix("%s", dest_path);
        return rc;
    }
    if (!kind || strcmp(kind, "rollup"))
        return pond_error_set(POND_EUNSUPPORTED, D,
                              "%s: derived by '%s', which this pond "
                              "does not know",
                              dest_path, kind ? kind : "?");
    int rc = recipe_source(&p->src, recipe, fs, dest_path);
    if (rc == 0)
        rc = plan_build(&p->r, recipe, p->src, dest_path);
    if (rc < 0) {
        pond_fs_node_free(p->src);
        p->src = NULL;
    }
    return rc;
}

/* The output rows [lo, hi) that rows at times [tmin, tmax] of a source change. */
static void dplan_touch(const dplan *p, int64_t tmin, int64_t tmax, int64_t *lo, int64_t *hi)
{
    if (p->join) {
        *lo = tmin;
        *hi = tmax + p->j.tolerance_us + 1;
    } else {
        *lo = pond__bucket_floor(&p->r.bucket, tmin);
        *hi = pond__bucket_next(&p->r.bucket, pond__bucket_floor(&p->r.bucket, tmax));
    }
}

static int dplan_stream(struct ArrowArrayStream *s, const dplan *p, int64_t lo, int64_t hi,
                        int64_t *rows_read)
{
    return p->join ? pond_table__join_stream(s, &p->j, lo, hi, rows_read)
                   : pond_table__rollup_stream(s, &p->r, p->src, lo, hi, rows_read);
}

/* Writes the rows [lo, hi) of dest as a new version (the pending one of this transaction,
 * widened to the rows that one holds, since it is replaced). whole: the rows are all of
 * dest's, and the version replaces every earlier one (a sql recipe, whose rows may change
 * anywhere, or a recompute of a node whose source was recomputed so). */
static int derived_write(pond_table_write_result *res, pond_fs_node *dest, const dplan *p,
                         int64_t lo, int64_t hi, bool whole, int64_t *rows_read)
{
    pond_stat st;
    int64_t last = 0, v = 1;
    int rc = pond_fs_node_stat(&st, dest);
    if (rc == POND_ENOTFOUND) {
        rc = 0;
        st.txn_seq = 0;
    }
    if (rc == 0)
        rc = pond_fs_last_txn(&last, pond_fs_node_fs(dest));
    if (rc == 0 && (whole || p->sql))
        rc = pond_table__next_version(&v, dest);
    if (rc < 0)
        return rc;
    pond_table_write_options o = POND_TABLE_WRITE_OPTIONS_INIT;
    o.timestamp_column = "timestamp";
    struct ArrowArrayStream s;
    if (p->sql) {
        char ts[256];
        if ((rc = sql_stream(&s, ts, &p->q, pond_fs_node_fs(dest))) < 0) {
            pond_error_prefix("%s", pond_fs_node_path(dest));
            return rc;
        }
        o.timestamp_column = ts;
        /* no earlier version (creation): an ordinary write, else it replaces them all */
        return pond_table__node_write(res, dest, POND_ENTRY_FILE_SERIES, &s, &o, v > 1 ? 1 : 0,
                                      v > 1 ? v - 1 : 0, NULL, 0);
    }
    if (!whole && st.txn_seq > last && st.has_event_time) {
        int64_t plo, phi;
        dplan_touch(p, st.min_event_time_us, st.max_event_time_us, &plo, &phi);
        if (p->join)
            phi = st.max_event_time_us + 1;
        lo = lo < hi && lo < plo ? lo : plo;
        hi = hi > phi ? hi : phi;
    }
    if ((rc = dplan_stream(&s, p, lo, hi, rows_read)) < 0)
        return rc;
    return pond_table__node_write(res, dest, POND_ENTRY_FILE_SERIES, &s, &o, whole && v > 1 ? 1 : 0,
                                  whole && v > 1 ? v - 1 : 0, NULL, 0);
}

/* The event-time range of a series' rows, from its index: *has false when it has none. */
static int source_extent(bool *has, int64_t *lo, int64_t *hi, pond_fs_node *src)
{
    pond_series_version_info *vi = NULL;
    size_t n = 0;
    int rc = pond_series_node_versions(&vi, &n, src);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (vi[i].size == 0 || vi[i].replaced_by || !vi[i].has_event_time)
            continue;
        *has = true;
        *lo = vi[i].min_event_time_us < *lo ? vi[i].min_event_time_us : *lo;
        *hi = vi[i].max_event_time_us > *hi ? vi[i].max_event_time_us : *hi;
    }
    pond_free(vi);
    return rc;
}

/* Records (or clears) on dest that a source changed since its last refresh: a manual
 * recipe's node, which source writes do not refresh. A settings version when it changes. */
static int set_stale(pond_fs_node *dest, bool stale)
{
    table_attrs a;
    int rc = pond_table__attrs_read(&a, dest);
    if (rc < 0)
        return rc;
    bool was = json_is_true(json_object_get(a.obj, STALE_ATTR));
    if (was != stale) {
        if (stale)
            rc = json_object_set_new(a.obj, STALE_ATTR, json_true()) == 0 ? 0 : nomem();
        else
            json_object_del(a.obj, STALE_ATTR);
        if (rc == 0)
            rc = pond_table__write_settings_version(&a, dest);
    }
    pond_table__attrs_dispose(&a);
    return rc;
}

/* Recomputes the whole of dest (creation, explicit refresh, a source recomputed whole);
 * replace: the new version replaces every earlier one (a bucket or row that is no longer
 * there goes too). */
static int plan_extent(int64_t *lo_out, int64_t *hi_out, const dplan *pp);

static int refresh_all(pond_table_write_result *res, pond_fs_node *dest, const json_t *recipe,
                       bool replace)
{
    dplan p;
    int rc = dplan_build(&p, recipe, pond_fs_node_fs(dest), pond_fs_node_path(dest));
    if (rc < 0)
        return rc;
    int64_t lo, hi;
    if ((rc = plan_extent(&lo, &hi, &p)) == 0)
        rc = derived_write(res, dest, &p, lo, hi, replace, NULL);
    dplan_dispose(&p);
    return rc;
}

/* The output rows [lo, hi) a whole computation of the plan covers (0, 0: none). */
static int plan_extent(int64_t *lo_out, int64_t *hi_out, const dplan *pp)
{
    dplan p = *pp; /* dplan_touch writes nothing through it */
    int rc = 0;
    bool has = false;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    if (p.sql) {
        has = true; /* the query reads what it reads */
    } else if (p.join) {
        for (size_t s = 0; rc == 0 && s < p.j.n_src; s++) {
            bool h = false;
            int64_t a = INT64_MAX, b = INT64_MIN;
            const table_join_src *x = &p.j.src[s];
            rc = source_extent(&h, &a, &b, x->node);
            if (x->has_from && a < x->from)
                a = x->from;
            if (x->has_to && b >= x->to)
                b = x->to - 1;
            if (rc == 0 && h && a <= b) {
                has = true;
                lo = a < lo ? a : lo;
                hi = b + 1 > hi ? b + 1 : hi;
            }
        }
    } else if ((rc = source_extent(&has, &lo, &hi, p.src)) == 0 && has) {
        dplan_touch(&p, lo, hi, &lo, &hi);
    }
    if (rc == 0 && !has)
        lo = hi = 0;
    *lo_out = lo;
    *hi_out = hi;
    return rc;
}

int pond_table__derived_compute_into(pond_fs_node *scratch, pond_fs_node *node)
{
    json_t *recipe = NULL;
    pond_series_settings set = {0};
    dplan p;
    int rc = recipe_of(&recipe, node);
    if (rc == 0 && !recipe)
        rc = pond_error_set(POND_EINVALID, D, "%s is not a derived node", pond_fs_node_path(node));
    if (rc == 0)
        rc = dplan_build(&p, recipe, pond_fs_node_fs(node), pond_fs_node_path(node));
    if (rc < 0) {
        json_decref(recipe);
        return rc;
    }
    int64_t lo, hi;
    struct ArrowArrayStream s;
    char ts[256] = "timestamp";
    pond_table_write_options o = POND_TABLE_WRITE_OPTIONS_INIT;
    if ((rc = plan_extent(&lo, &hi, &p)) == 0)
        rc = p.sql ? sql_stream(&s, ts, &p.q, pond_fs_node_fs(node))
                   : dplan_stream(&s, &p, lo, hi, NULL);
    o.timestamp_column = ts;
    if (rc == 0)
        rc = pond_table__node_write(NULL, scratch, POND_ENTRY_FILE_SERIES, &s, &o, 0, 0, NULL, 0);
    /* the node's read rule (a rollup's or join's dedup), for the same rows as a refresh */
    if (rc == 0)
        rc = pond_series_node_settings_get(&set, node);
    if (rc == 0 && set.dedup == POND_DEDUP_LAST)
        rc = pond_series_set_dedup(scratch, POND_DEDUP_LAST, (const char *const *)set.dedup_keys,
                                   set.n_dedup_keys);
    if (rc < 0)
        pond_error_prefix("%s", pond_fs_node_path(node));
    pond_series_settings_dispose(&set);
    dplan_dispose(&p);
    json_decref(recipe);
    return rc;
}

static int refresh_deps(pond_fs_node *node, table_attrs *attrs, const json_t *deps, int64_t tmin,
                        int64_t tmax, bool recompute, int64_t *rows_read);

/* How deep the refreshes on this thread are nested (a chain of derived nodes: each refresh is
 * a write that refreshes the next). A pond made elsewhere can name a cycle; this bounds it. */
static _Thread_local int refresh_depth;
#define MAX_CHAIN 32

int pond_table__derived_after_write(pond_fs_node *node, table_attrs *attrs, int64_t tmin,
                                    int64_t tmax, bool recompute, int64_t *rows_read)
{
    const json_t *deps = json_object_get(attrs->obj, DERIVED_BY_ATTR);
    if (!deps || (!recompute && tmin > tmax))
        return 0;
    if (!json_is_array(deps))
        return pond_error_set(POND_ECORRUPT, D, "%s: %s is not a list", pond_fs_node_path(node),
                              DERIVED_BY_ATTR);
    if (refresh_depth >= MAX_CHAIN)
        return pond_error_set(POND_ECORRUPT, D,
                              "%s: derived nodes depend on each other in a cycle or a chain "
                              "longer than %d",
                              pond_fs_node_path(node), MAX_CHAIN);
    refresh_depth++;
    int rc = refresh_deps(node, attrs, deps, tmin, tmax, recompute, rows_read);
    refresh_depth--;
    return rc;
}

static int refresh_deps(pond_fs_node *node, table_attrs *attrs, const json_t *deps, int64_t tmin,
                        int64_t tmax, bool recompute, int64_t *rows_read)
{
    pond_fs *fs = pond_fs_node_fs(node);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(deps); i++) {
        const json_t *d = json_array_get(deps, i);
        pond_fs_node *dest = NULL;
        json_t *recipe = NULL;
        rc = resolve(&dest, fs, jstr(d, "id"), jstr(d, "path"));
        if (rc == POND_ENOTFOUND) {
            /* the derived node was removed: forget it (on this version's attributes), so
             * later writes do not look for it again */
            json_array_remove((json_t *)deps, i--);
            rc = pond_table__attrs_write(attrs, node);
            continue;
        }
        if (rc == 0)
            rc = recipe_of(&recipe, dest);
        const char *refresh = recipe ? jstr(recipe, "refresh") : NULL;
        bool manual = refresh && !strcmp(refresh, "manual");
        if (rc == 0 && recipe && manual)
            rc = set_stale(dest, true); /* said by describe and cat until a refresh */
        const char *kind = recipe ? jstr(recipe, "kind") : NULL;
        bool whole = recompute || (kind && !strcmp(kind, "sql"));
        if (rc == 0 && recipe && !manual && whole) {
            rc = refresh_all(NULL, dest, recipe, true);
        } else if (rc == 0 && recipe && !manual) {
            dplan p;
            if ((rc = dplan_build(&p, recipe, fs, pond_fs_node_path(dest))) == 0) {
                int64_t lo, hi;
                dplan_touch(&p, tmin, tmax, &lo, &hi);
                rc = derived_write(NULL, dest, &p, lo, hi, false, rows_read);
                dplan_dispose(&p);
            }
        }
        json_decref(recipe);
        pond_fs_node_free(dest);
    }
    return rc;
}

/* ---- creation ------------------------------------------------------------------------------ */

/* The default columns of a rollup: every numeric column of the source but its timestamp and
 * the keys; over a rollup, the columns it aggregates. */
static int default_columns(json_t **out, pond_fs_node *src, const pond_derive_options *o)
{
    *out = NULL;
    json_t *src_recipe = NULL;
    int rc = recipe_of(&src_recipe, src);
    if (rc < 0)
        return rc;
    if (src_recipe && json_is_array(json_object_get(src_recipe, "columns"))) {
        *out = json_deep_copy(json_object_get(src_recipe, "columns"));
        json_decref(src_recipe);
        return *out ? 0 : nomem();
    }
    json_decref(src_recipe);
    struct ArrowSchema sch = {0};
    pond_series_settings set = {0};
    rc = pond_table_node_schema(&sch, src);
    if (rc == 0)
        rc = pond_series_node_settings_get(&set, src);
    json_t *a = rc == 0 ? json_array() : NULL;
    if (rc == 0 && !a)
        rc = nomem();
    for (int64_t k = 0; rc == 0 && k < sch.n_children; k++) {
        const char *name = sch.children[k]->name;
        pond_arrow_format f;
        bool dbl;
        bool skip = !name || (set.timestamp_column && !strcmp(name, set.timestamp_column));
        for (size_t b = 0; !skip && b < o->n_by; b++)
            skip = !strcmp(o->by[b], name);
        if (skip || pond_arrow_format_parse(&f, sch.children[k]->format) < 0 ||
            !pond_table__rollup_numeric(f.type, &dbl))
            continue;
        if (json_array_append_new(a, json_string(name)) < 0)
            rc = nomem();
    }
    if (rc == 0 && json_array_size(a) == 0)
        rc = pond_error_set(POND_EINVALID, D, "source %s has no numeric column to roll up",
                            pond_fs_node_path(src));
    pond_series_settings_dispose(&set);
    pond_arrow_schema_release(&sch);
    if (rc < 0)
        json_decref(a);
    else
        *out = a;
    return rc;
}

/* Records (id, path) of dest in the source's pond.derived_by (a settings version of it). */
static int link_source(pond_fs_node *src, const pond_node_id *dest_id, const char *dest_path)
{
    table_attrs a;
    char idt[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(idt, dest_id);
    int rc = pond_table__attrs_read(&a, src);
    if (rc < 0)
        return rc;
    json_t *deps = json_object_get(a.obj, DERIVED_BY_ATTR);
    if (!deps) {
        deps = json_array();
        if (!deps || json_object_set_new(a.obj, DERIVED_BY_ATTR, deps) < 0)
            rc = nomem();
    }
    json_t *e = rc == 0 ? json_pack("{ssss}", "id", idt, "path", dest_path) : NULL;
    if (rc == 0 && (!e || json_array_append_new(deps, e) < 0))
        rc = nomem();
    if (rc == 0)
        rc = pond_table__write_settings_version(&a, src);
    pond_table__attrs_dispose(&a);
    return rc;
}

static int check_name(const char *s, size_t len)
{
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
              (i > 0 && s[i] >= '0' && s[i] <= '9')))
            return -1;
    return 0;
}

/* "[NAME=]PATH": the name (a SQL identifier before the first '='; default the file name)
 * into name, the node opened and checked to be a series. */
static int open_source(pond_fs_node **out, char name[256], pond_fs *fs, const char *spec,
                       const char *what)
{
    const char *eq = strchr(spec, '='), *path = spec;
    name[0] = 0;
    if (eq && check_name(spec, (size_t)(eq - spec)) == 0 && (size_t)(eq - spec) < 256) {
        memcpy(name, spec, (size_t)(eq - spec));
        name[eq - spec] = 0;
        path = eq + 1;
    }
    pond_stat st;
    int rc = pond_fs_node_open(out, fs, NULL, path, 0);
    if (rc == 0)
        rc = pond_fs_node_stat(&st, *out);
    if (rc == 0 && st.type != POND_ENTRY_FILE_SERIES)
        rc = pond_error_set(POND_EINVALID, D, "source %s is a %s: a %s reads series",
                            pond_fs_node_path(*out), pond_entry_type_name(st.type), what);
    if (rc == 0 && !name[0]) {
        const char *base = strrchr(pond_fs_node_path(*out), '/');
        snprintf(name, 256, "%s", base ? base + 1 : pond_fs_node_path(*out));
    }
    if (rc < 0) {
        pond_fs_node_free(*out);
        *out = NULL;
    }
    return rc;
}

static json_t *source_json(pond_fs_node *src, const char *name)
{
    pond_stat st;
    char idt[POND_NODE_ID_STRLEN + 1];
    if (pond_fs_node_stat(&st, src) < 0)
        return NULL;
    pond_node_id_format(idt, &st.id);
    return json_pack("{ssssss}", "name", name, "id", idt, "path", pond_fs_node_path(src));
}

/* "NAME=FROM..TO" (either side may be empty) onto the source named NAME of srcs. */
static int apply_window(json_t *srcs, const char *w, const pond_tz *tz)
{
    const char *eq = strchr(w, '='), *dots = eq ? strstr(eq, "..") : NULL;
    if (!eq || !dots)
        return pond_error_set(POND_EINVALID, D,
                              "window '%s': use NAME=FROM..TO (FROM or TO may "
                              "be left out)",
                              w);
    json_t *js = NULL;
    for (size_t i = 0; i < json_array_size(srcs) && !js; i++) {
        const char *n = jstr(json_array_get(srcs, i), "name");
        if (n && strlen(n) == (size_t)(eq - w) && !strncmp(n, w, (size_t)(eq - w)))
            js = json_array_get(srcs, i);
    }
    if (!js)
        return pond_error_set(POND_EINVALID, D, "window '%s': no source is named '%.*s'", w,
                              (int)(eq - w), w);
    int64_t from = 0, to = 0;
    int rc = 0;
    if (dots > eq + 1 &&
        (rc = pond_time_parse_arg(&from, eq + 1, (size_t)(dots - eq - 1), tz)) == 0)
        rc = json_object_set_new(js, "from", json_integer(from)) == 0 ? 0 : nomem();
    if (rc == 0 && dots[2] && (rc = pond_time_parse_arg(&to, dots + 2, strlen(dots + 2), tz)) == 0)
        rc = json_object_set_new(js, "to", json_integer(to)) == 0 ? 0 : nomem();
    if (rc == POND_EINVALID)
        pond_error_prefix("window '%s'", w);
    if (rc == 0 && dots > eq + 1 && dots[2] && from >= to)
        rc = pond_error_set(POND_EINVALID, D, "window '%s' is empty", w);
    return rc;
}

/* The recipe of a rollup (src: its source, opened). */
static int rollup_recipe(json_t **out, pond_fs_node *src, const char *name,
                         const pond_derive_options *o)
{
    json_t *cols = NULL;
    pond__bucket b;
    pond_tz *tz = NULL;
    *out = NULL;
    if (o->n_sources != 1)
        return pond_error_set(POND_EINVALID, D, "a rollup has exactly one --source (given %zu)",
                              o->n_sources);
    if (!o->every)
        return pond_error_set(POND_EINVALID, D, "a rollup needs --every (1m, 1h, 1d, 1w, 1mo)");
    int rc = bucket_open(&b, &tz, o->every, o->timezone);
    pond_tz_free(tz);
    if (rc < 0)
        return rc;
    if (o->n_columns)
        cols = pond__json_strings(o->columns, o->n_columns);
    else if ((rc = default_columns(&cols, src, o)) < 0)
        return rc;
    static const char *const DEF_AGGS[] = {"avg", "min", "max", "sum", "count"};
    *out = json_pack("{sss[o]sssssosososs}", "kind", "rollup", "sources", source_json(src, name),
                     "every", o->every, "timezone", o->timezone ? o->timezone : "UTC", "agg",
                     o->n_aggs ? pond__json_strings(o->aggs, o->n_aggs)
                               : pond__json_strings(DEF_AGGS, 5),
                     "columns", cols, "by", pond__json_strings(o->by, o->n_by), "refresh",
                     o->refresh_manual ? "manual" : "auto");
    return *out ? 0 : nomem();
}

int pond_derive_create(pond_table_write_result *out, pond_fs_node *dest,
                       const pond_derive_options *o)
{
    POND_ASSERT_ARG(dest && o && o->kind);
    const char *dp = pond_fs_node_path(dest);
    pond_fs *fs = pond_fs_node_fs(dest);
    pond_table_write_result res = {0};
    pond_stat st;
    int rc = pond_fs_node_stat(&st, dest);
    if (rc == 0)
        return pond_error_set(POND_EEXISTS, D, "%s already exists", dp);
    if (rc != POND_ENOTFOUND)
        return rc;
    bool sql = !strcmp(o->kind, "sql");
    bool join = sql || !strcmp(o->kind, "join"); /* several named sources */
    if (!join && strcmp(o->kind, "rollup"))
        return pond_error_set(POND_EUNSUPPORTED, D,
                              "derive %s: this pond makes rollups, "
                              "joins and sql recipes",
                              o->kind);
    if (o->n_sources < 1)
        return pond_error_set(POND_EINVALID, D, "a %s needs a --source", o->kind);
    const char *query = o->version >= 2 ? o->sql : NULL;
    if (sql && (!query || !*query))
        return pond_error_set(POND_EINVALID, D, "a sql recipe needs its query (--sql)");
    if (!sql && query)
        return pond_error_set(POND_EINVALID, D, "a query (--sql) is for sql recipes");
    pond_fs_node **srcs = pond_calloc(o->n_sources, sizeof *srcs);
    json_t *recipe = NULL, *jsrcs = NULL;
    pond_tz *tz = NULL;
    if (!srcs)
        return nomem();
    char name[256];
    if (!join) {
        if ((rc = open_source(&srcs[0], name, fs, o->sources[0], "rollup")) == 0)
            rc = rollup_recipe(&recipe, srcs[0], name, o);
    } else {
        jsrcs = json_array();
        rc = jsrcs ? 0 : nomem();
        for (size_t s = 0; rc == 0 && s < o->n_sources; s++) {
            if ((rc = open_source(&srcs[s], name, fs, o->sources[s], o->kind)) < 0)
                break;
            for (size_t k = 0; k < s && rc == 0; k++)
                if (!strcmp(jstr(json_array_get(jsrcs, k), "name"), name))
                    rc = pond_error_set(POND_EINVALID, D,
                                        "two sources are named '%s' "
                                        "(--source NAME=PATH)",
                                        name);
            if (rc == 0 && json_array_append_new(jsrcs, source_json(srcs[s], name)) < 0)
                rc = nomem();
        }
        if (rc == 0 && o->timezone)
            rc = pond_tz_open(&tz, o->timezone);
        for (size_t w = 0; rc == 0 && w < o->n_windows; w++)
            rc = apply_window(jsrcs, o->windows[w], tz);
        if (rc == 0 && o->tolerance_us < 0)
            rc = pond_error_set(POND_EINVALID, D, "a negative --tolerance");
        if (rc == 0 && sql && (o->n_windows || o->tolerance_us))
            rc = pond_error_set(POND_EINVALID, D,
                                "windows and a tolerance are for joins (a "
                                "sql recipe says it in its query)");
        if (rc == 0 && sql &&
            !(recipe = json_pack("{sssOssss}", "kind", "sql", "sources", jsrcs, "sql", query,
                                 "refresh", o->refresh_manual ? "manual" : "auto")))
            rc = nomem();
        if (rc == 0 && !sql &&
            !(recipe = json_pack("{sssOsIss}", "kind", "join", "sources", jsrcs, "tolerance_us",
                                 (json_int_t)o->tolerance_us, "refresh",
                                 o->refresh_manual ? "manual" : "auto")))
            rc = nomem();
    }
    if (rc == 0)
        rc = refresh_all(&res, dest, recipe, false);
    /* the recipe and the read rule go on the version just written */
    table_attrs a;
    if (rc == 0 && (rc = pond_table__attrs_read(&a, dest)) == 0) {
        if (json_object_set(a.obj, DERIVED_ATTR, recipe) < 0)
            rc = nomem();
        /* a rollup's or join's refresh appends rows that replace earlier ones by key; a sql
         * recipe's replaces its whole earlier versions, and its rows are as the query has
         * them (duplicates included) */
        if (rc == 0 && !sql)
            rc = pond_table__attrs_set_dedup(&a, POND_DEDUP_LAST, join ? NULL : o->by,
                                             join ? 0 : o->n_by);
        if (rc == 0)
            rc = pond_table__attrs_write(&a, dest);
        pond_table__attrs_dispose(&a);
    }
    if (rc == 0)
        rc = pond_fs_node_stat(&st, dest);
    for (size_t s = 0; rc == 0 && s < o->n_sources; s++)
        if (srcs[s])
            rc = link_source(srcs[s], &st.id, dp);
    if (rc == 0 && out)
        *out = res;
    for (size_t s = 0; s < o->n_sources; s++)
        pond_fs_node_free(srcs[s]);
    pond_free(srcs);
    json_decref(jsrcs);
    json_decref(recipe);
    pond_tz_free(tz);
    return rc;
}

int pond_derive_refresh(pond_table_write_result *out, pond_fs_node *node)
{
    POND_ASSERT_ARG(node);
    json_t *recipe = NULL;
    pond_table_write_result res = {0};
    int rc = recipe_of(&recipe, node);
    if (rc == 0 && !recipe)
        rc = pond_error_set(POND_EINVALID, D, "%s is not a derived node", pond_fs_node_path(node));
    if (rc == 0)
        rc = refresh_all(&res, node, recipe, true);
    if (rc == 0)
        rc = set_stale(node, false);
    if (rc == 0 && out)
        *out = res;
    json_decref(recipe);
    return rc;
}

/* ---- what readers and rm ask --------------------------------------------------------------- */

int pond_derive_recipe(char **out, pond_fs_node *node)
{
    POND_ASSERT_ARG(out && node);
    *out = NULL;
    json_t *recipe = NULL;
    int rc = recipe_of(&recipe, node);
    if (rc < 0 || !recipe)
        return rc;
    *out = pond__json_dump(recipe, JSON_SORT_KEYS);
    json_decref(recipe);
    return *out ? 0 : POND_ENOMEM;
}

int pond_derive_describe(char **out, pond_fs_node *node)
{
    POND_ASSERT_ARG(out && node);
    *out = NULL;
    json_t *recipe = NULL;
    pond_fs_node *src = NULL;
    pond_buf b = POND_BUF_INIT;
    int rc = recipe_of(&recipe, node);
    if (rc < 0 || !recipe)
        return rc;
    const json_t *srcs = json_object_get(recipe, "sources");
    bool sql = jstr(recipe, "kind") && !strcmp(jstr(recipe, "kind"), "sql");
    bool join = sql || (jstr(recipe, "kind") && !strcmp(jstr(recipe, "kind"), "join"));
    pond_buf_printf(&b, "%s of ", jstr(recipe, "kind") ? jstr(recipe, "kind") : "?");
    for (size_t i = 0; rc == 0 && i < json_array_size(srcs); i++) {
        const json_t *si = json_array_get(srcs, i);
        rc = resolve(&src, pond_fs_node_fs(node), jstr(si, "id"), jstr(si, "path"));
        const char *where = rc == 0 ? pond_fs_node_path(src) : NULL;
        if (rc == POND_ENOTFOUND)
            rc = 0;
        pond_buf_printf(&b, "%s%s", i ? ", " : "",
                        where ? where : "(gone: removed with --force; the last rows stay)");
        if (join)
            pond_buf_printf(&b, " as %s", jstr(si, "name") ? jstr(si, "name") : "?");
        const json_t *f = json_object_get(si, "from"), *t = json_object_get(si, "to");
        char tf[40];
        if (json_is_integer(f)) {
            pond_time_format_iso(tf, json_integer_value(f));
            pond_buf_printf(&b, " from %s", tf);
        }
        if (json_is_integer(t)) {
            pond_time_format_iso(tf, json_integer_value(t));
            pond_buf_printf(&b, " until %s", tf);
        }
        pond_fs_node_free(src);
        src = NULL;
    }
    if (sql) {
        pond_buf_printf(&b, ": %s", jstr(recipe, "sql") ? jstr(recipe, "sql") : "?");
    } else if (join) {
        const json_t *tol = json_object_get(recipe, "tolerance_us");
        if (json_is_integer(tol) && json_integer_value(tol) > 0)
            pond_buf_printf(&b, ", as of at most %gs earlier",
                            (double)json_integer_value(tol) / 1e6);
        else
            pond_buf_puts(&b, ", on equal timestamps");
    } else {
        pond_buf_printf(&b, " every %s", jstr(recipe, "every") ? jstr(recipe, "every") : "?");
    }
    if (jstr(recipe, "timezone") && strcmp(jstr(recipe, "timezone"), "UTC"))
        pond_buf_printf(&b, " in %s", jstr(recipe, "timezone"));
    const char *keys[] = {"agg", "columns", "by"};
    const char *label[] = {", aggregates ", " of ", " by "};
    for (int k = 0; k < 3; k++) {
        const json_t *a = json_object_get(recipe, keys[k]);
        for (size_t i = 0; i < json_array_size(a); i++)
            pond_buf_printf(&b, "%s%s", i ? "," : label[k],
                            json_string_value(json_array_get(a, i))
                                ? json_string_value(json_array_get(a, i))
                                : "?");
    }
    if (jstr(recipe, "refresh") && !strcmp(jstr(recipe, "refresh"), "manual")) {
        bool stale = false;
        if (rc == 0)
            rc = pond_derive_stale(&stale, node);
        pond_buf_puts(&b, stale ? " (refreshed by pond derive refresh; stale: a source "
                                  "changed since the last refresh)"
                                : " (refreshed by pond derive refresh)");
    }
    if (rc == 0 && !b.ptr)
        rc = nomem();
    if (rc == 0)
        *out = pond_buf_detach(&b);
    pond_buf_dispose(&b);
    pond_fs_node_free(src);
    json_decref(recipe);
    return rc;
}

int pond_derive_dependents(char ***out, size_t *n_out, pond_fs_node *node)
{
    POND_ASSERT_ARG(out && n_out && node);
    *out = NULL;
    *n_out = 0;
    table_attrs a;
    int rc = pond_table__attrs_read(&a, node);
    if (rc < 0)
        return rc;
    const json_t *deps = json_object_get(a.obj, DERIVED_BY_ATTR);
    size_t n = json_array_size(deps), k = 0;
    char **paths = n ? pond_calloc(n, sizeof *paths) : NULL;
    if (n && !paths)
        rc = nomem();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const json_t *d = json_array_get(deps, i);
        pond_fs_node *dn = NULL;
        rc = resolve(&dn, pond_fs_node_fs(node), jstr(d, "id"), jstr(d, "path"));
        if (rc == POND_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc == 0 && !(paths[k++] = pond_strdup(pond_fs_node_path(dn))))
            rc = nomem();
        pond_fs_node_free(dn);
    }
    pond_table__attrs_dispose(&a);
    if (rc < 0) {
        strings_free(paths, k);
        return rc;
    }
    *out = paths;
    *n_out = k;
    return 0;
}

int pond_derive_stale(bool *out, pond_fs_node *node)
{
    POND_ASSERT_ARG(out && node);
    *out = false;
    /* every table read asks: the attributes are parsed only when they name the mark */
    char *x = NULL;
    int rc = pond_fs_node_get_xattrs(&x, node);
    bool named = rc == 0 && x && strstr(x, "\"" STALE_ATTR "\"");
    pond_free(x);
    if (rc < 0 || !named)
        return rc;
    json_t *obj = NULL;
    if ((rc = attrs_of(&obj, node)) < 0 || !obj)
        return rc;
    *out = json_is_true(json_object_get(obj, STALE_ATTR));
    json_decref(obj);
    return 0;
}
