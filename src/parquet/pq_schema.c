/* Parquet schema -> Arrow-shaped node tree (levels per node) and Arrow schemas. */
#include "parquet/pq_schema.h"

#include "util/util.h"

#include <stdio.h>
#include <string.h>

#define MAX_SCHEMA_DEPTH 64

typedef struct {
    pq_arena *a;
    const pq_file_meta *m;
    uint32_t next; /* next schema element to consume */
    int n_leaves;
    pq_node **leaves;
    uint32_t leaves_cap;
    bool int96_ns;
} build_ctx;

static int schema_error(const char *what, uint32_t idx)
{
    return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET, "schema element %u: %s", idx, what);
}

static char *arena_name(pq_arena *a, pq_bytes b)
{
    char *s = pond__arena_zalloc(a, b.len + 1);
    if (s && b.len)
        memcpy(s, b.ptr, b.len);
    return s;
}

static pq_node *new_node(build_ctx *c, int kind, const char *name, int n_children)
{
    pq_node *n = pond__arena_zalloc(c->a, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->name = name;
    n->n_children = n_children;
    if (n_children > 0 &&
        !(n->children = pond__arena_zalloc(c->a, (size_t)n_children * sizeof *n->children)))
        return NULL;
    return n;
}

/* A leaf's Arrow format and conversion, from its physical, logical and converted type. */
static int leaf_type(pq_node *n)
{
    const pq_schema_element *e = n->el;
    const pq_logical_type *lt = &e->logical;
    int ct = e->converted_type;
    int t = e->type;
    bool dec = lt->kind == PQ_LT_DECIMAL || (lt->kind == PQ_LT_NONE && ct == PQ_CT_DECIMAL);
    int precision = lt->kind == PQ_LT_DECIMAL ? lt->precision : e->precision;
    int scale = lt->kind == PQ_LT_DECIMAL ? lt->scale : e->scale;
    n->conv = PQC_COPY;
    if (t == PQ_FIXED_LEN_BYTE_ARRAY && e->type_length <= 0)
        return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                              "column '%s': fixed-length "
                              "byte array of length %d",
                              n->name, e->type_length);
    if (dec &&
        (t == PQ_INT32 || t == PQ_INT64 || t == PQ_BYTE_ARRAY || t == PQ_FIXED_LEN_BYTE_ARRAY)) {
        if (precision <= 0 || scale < 0 || scale > precision || precision > 76)
            return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                                  "column '%s': invalid decimal "
                                  "precision %d / scale %d",
                                  n->name, precision, scale);
        bool wide = precision > 38;
        snprintf(n->format, sizeof n->format, wide ? "d:%d,%d,256" : "d:%d,%d", precision, scale);
        n->out_width = wide ? 32 : 16;
        n->conv = t == PQ_INT32 ? PQC_DEC_I32 : t == PQ_INT64 ? PQC_DEC_I64 : PQC_DEC_BE;
        if (t == PQ_FIXED_LEN_BYTE_ARRAY && (size_t)e->type_length > n->out_width)
            return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                                  "column '%s': decimal of "
                                  "%d bytes",
                                  n->name, e->type_length);
        return 0;
    }
    switch (t) {
    case PQ_BOOLEAN:
        strcpy(n->format, "b");
        n->conv = PQC_BOOL;
        return 0;
    case PQ_INT32: {
        int bits = 32;
        bool sign = true;
        if (lt->kind == PQ_LT_INTEGER) {
            bits = lt->bit_width;
            sign = lt->is_signed;
        } else if (ct >= PQ_CT_UINT_8 && ct <= PQ_CT_UINT_32) {
            bits = 8 << (ct - PQ_CT_UINT_8);
            sign = false;
        } else if (ct >= PQ_CT_INT_8 && ct <= PQ_CT_INT_32) {
            bits = 8 << (ct - PQ_CT_INT_8);
        }
        n->out_width = 4;
        if (lt->kind == PQ_LT_DATE || (lt->kind == PQ_LT_NONE && ct == PQ_CT_DATE)) {
            strcpy(n->format, "tdD");
        } else if ((lt->kind == PQ_LT_TIME && lt->unit == PQ_UNIT_MILLIS) ||
                   (lt->kind == PQ_LT_NONE && ct == PQ_CT_TIME_MILLIS)) {
            strcpy(n->format, "ttm");
        } else if (bits == 8) {
            strcpy(n->format, sign ? "c" : "C");
            n->conv = PQC_I32_I8;
            n->out_width = 1;
        } else if (bits == 16) {
            strcpy(n->format, sign ? "s" : "S");
            n->conv = PQC_I32_I16;
            n->out_width = 2;
        } else {
            strcpy(n->format, sign ? "i" : "I");
        }
        return 0;
    }
    case PQ_INT64:
        n->out_width = 8;
        if (lt->kind == PQ_LT_TIMESTAMP) {
            const char *u = lt->unit == PQ_UNIT_MILLIS  ? "m"
                            : lt->unit == PQ_UNIT_NANOS ? "n"
                                                        : "u";
            snprintf(n->format, sizeof n->format, "ts%s:%s", u, lt->utc ? "UTC" : "");
        } else if (lt->kind == PQ_LT_NONE && ct == PQ_CT_TIMESTAMP_MILLIS) {
            strcpy(n->format, "tsm:UTC");
        } else if (lt->kind == PQ_LT_NONE && ct == PQ_CT_TIMESTAMP_MICROS) {
            strcpy(n->format, "tsu:UTC");
        } else if (lt->kind == PQ_LT_TIME) {
            strcpy(n->format, lt->unit == PQ_UNIT_NANOS ? "ttn" : "ttu");
        } else if (lt->kind == PQ_LT_NONE && ct == PQ_CT_TIME_MICROS) {
            strcpy(n->format, "ttu");
        } else if ((lt->kind == PQ_LT_INTEGER && !lt->is_signed) ||
                   (lt->kind == PQ_LT_NONE && ct == PQ_CT_UINT_64)) {
            strcpy(n->format, "L");
        } else {
            strcpy(n->format, "l");
        }
        return 0;
    case PQ_INT96:
        strcpy(n->format, n->int96_ns ? "tsn:" : "tsu:");
        n->conv = n->int96_ns ? PQC_INT96_NS : PQC_INT96_US;
        n->out_width = 8;
        return 0;
    case PQ_FLOAT:
        strcpy(n->format, "f");
        n->out_width = 4;
        return 0;
    case PQ_DOUBLE:
        strcpy(n->format, "g");
        n->out_width = 8;
        return 0;
    case PQ_BYTE_ARRAY: {
        bool str =
            lt->kind == PQ_LT_STRING || lt->kind == PQ_LT_ENUM || lt->kind == PQ_LT_JSON ||
            (lt->kind == PQ_LT_NONE && (ct == PQ_CT_UTF8 || ct == PQ_CT_ENUM || ct == PQ_CT_JSON));
        strcpy(n->format, str ? "u" : "z");
        n->conv = PQC_BYTES;
        return 0;
    }
    case PQ_FIXED_LEN_BYTE_ARRAY:
        if (e->type_length <= 0)
            return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                                  "column '%s': fixed-length "
                                  "byte array of length %d",
                                  n->name, e->type_length);
        n->out_width = (size_t)e->type_length;
        if (lt->kind == PQ_LT_FLOAT16 && e->type_length == 2) {
            strcpy(n->format, "e");
        } else if (ct == PQ_CT_INTERVAL && e->type_length == 12 && lt->kind == PQ_LT_NONE) {
            strcpy(n->format, "tin");
            n->conv = PQC_INTERVAL;
            n->out_width = 16;
        } else {
            snprintf(n->format, sizeof n->format, "w:%d", e->type_length);
        }
        return 0;
    default:
        return pond_error_set(POND_ECORRUPT, POND_DOM_PARQUET,
                              "column '%s': unknown physical "
                              "type %d",
                              n->name, t);
    }
}

static int add_leaf(build_ctx *c, pq_node *n)
{
    if ((uint32_t)c->n_leaves == c->leaves_cap) {
        uint32_t cap = c->leaves_cap ? c->leaves_cap * 2 : 16;
        pq_node **l = pond__arena_zalloc(c->a, cap * sizeof *l);
        if (!l)
            return POND_ENOMEM;
        if (c->n_leaves)
            memcpy(l, c->leaves, (size_t)c->n_leaves * sizeof *l);
        c->leaves = l;
        c->leaves_cap = cap;
    }
    n->first_leaf = c->n_leaves;
    n->n_leaves = 1;
    c->leaves[c->n_leaves++] = n;
    return 0;
}

typedef struct {
    int def_p, rep_p, slot_def;
    const char *path;
} level_ctx;

static int make_field(pq_node **out, build_ctx *c, uint32_t idx, level_ctx lc, int depth);

static bool is_repeated(const pq_file_meta *m, uint32_t i)
{
    return m->schema[i].repetition == PQ_REPEATED;
}

/* Index of the element after the subtree at i (elements were validated by count_subtree). */
static uint32_t skip_subtree(const pq_file_meta *m, uint32_t i)
{
    uint32_t kids = (uint32_t)(m->schema[i].num_children > 0 ? m->schema[i].num_children : 0);
    i++;
    for (uint32_t k = 0; k < kids; k++)
        i = skip_subtree(m, i);
    return i;
}

static int path_join(build_ctx *c, const char *parent, const char *name, const char **out)
{
    size_t pl = parent ? strlen(parent) : 0, nl = strlen(name);
    char *s = pond__arena_zalloc(c->a, pl + nl + 2);
    if (!s)
        return POND_ENOMEM;
    if (pl) {
        memcpy(s, parent, pl);
        s[pl++] = '.';
    }
    memcpy(s + pl, name, nl);
    *out = s;
    return 0;
}

/* The value of element idx (its own repetition handled by the caller). */
static int make_value(pq_node **out, build_ctx *c, uint32_t idx, int def_self, int rep_self,
                      int slot_def, bool nullable, const char *path, int depth)
{
    const pq_file_meta *m = c->m;
    const pq_schema_element *e = &m->schema[idx];
    int rc;
    if (depth > MAX_SCHEMA_DEPTH)
        return schema_error("schema nested too deeply", idx);
    if (def_self > 255 || rep_self > 255)
        return schema_error("too many nesting levels", idx);
    char *name = arena_name(c->a, e->name);
    if (!name)
        return POND_ENOMEM;
    int nkids = e->num_children;
    pq_node *n;
    if (nkids <= 0 && e->type >= 0) {
        if (!(n = new_node(c, PQN_LEAF, name, 0)))
            return POND_ENOMEM;
        n->el = e;
        n->int96_ns = c->int96_ns;
        n->def = n->desc.max_def = def_self;
        n->desc.max_rep = rep_self;
        n->slot_def = slot_def;
        n->rep = rep_self;
        n->nullable = nullable;
        n->desc.physical = e->type;
        n->desc.type_length = e->type_length;
        n->desc.path = path;
        if ((rc = leaf_type(n)) < 0)
            return rc;
        switch (e->type) {
        case PQ_BOOLEAN:
            n->desc.width = 1;
            break;
        case PQ_INT32:
        case PQ_FLOAT:
            n->desc.width = 4;
            break;
        case PQ_INT64:
        case PQ_DOUBLE:
            n->desc.width = 8;
            break;
        case PQ_INT96:
            n->desc.width = 12;
            break;
        case PQ_BYTE_ARRAY:
            n->desc.width = 0;
            break;
        default:
            n->desc.width = (size_t)e->type_length;
            break;
        }
        if ((rc = add_leaf(c, n)) < 0)
            return rc;
        *out = n;
        return 0;
    }
    if (nkids <= 0)
        return schema_error("group without children", idx);
    uint32_t first = idx + 1;
    bool list_ann = e->converted_type == PQ_CT_LIST || e->logical.kind == PQ_LT_LIST;
    bool map_ann = e->converted_type == PQ_CT_MAP || e->converted_type == PQ_CT_MAP_KEY_VALUE ||
                   e->logical.kind == PQ_LT_MAP;
    const pq_schema_element *k0 = &m->schema[first];
    int first_leaf = c->n_leaves;
    if (list_ann && nkids == 1 && is_repeated(m, first) && k0->num_children <= 1) {
        if (!(n = new_node(c, PQN_LIST, name, 1)))
            return POND_ENOMEM;
        level_ctx inner = {def_self + 1, rep_self + 1, def_self + 1, path};
        if (k0->num_children == 1) {
            const char *p2;
            if ((rc = path_join(c, path, (const char *)arena_name(c->a, k0->name), &p2)) < 0)
                return rc;
            inner.path = p2;
            rc = make_field(&n->children[0], c, first + 1, inner, depth + 1);
        } else {
            rc = make_value(&n->children[0], c, first, def_self + 1, rep_self + 1, def_self + 1,
                            false, path, depth + 1);
        }
        if (rc < 0)
            return rc;
    } else if (map_ann && nkids == 1 && is_repeated(m, first) && k0->num_children == 2) {
        if (!(n = new_node(c, PQN_MAP, name, 1)))
            return POND_ENOMEM;
        if ((rc = make_value(&n->children[0], c, first, def_self + 1, rep_self + 1, def_self + 1,
                             false, path, depth + 1)) < 0)
            return rc;
        pq_node *entries = n->children[0];
        if (entries->kind != PQN_STRUCT || entries->n_children != 2)
            return schema_error("map entries are not a key/value group", first);
        entries->name = "entries";
    } else {
        if (!(n = new_node(c, PQN_STRUCT, name, nkids)))
            return POND_ENOMEM;
        level_ctx inner = {def_self, rep_self, slot_def, path};
        uint32_t k = first;
        for (int i = 0; i < nkids; i++) {
            if (k >= m->n_schema)
                return schema_error("children run past the schema list", idx);
            const char *p2;
            char *kn = arena_name(c->a, m->schema[k].name);
            if (!kn || (rc = path_join(c, path, kn, &p2)) < 0)
                return POND_ENOMEM;
            inner.path = p2;
            if ((rc = make_field(&n->children[i], c, k, inner, depth + 1)) < 0)
                return rc;
            k = skip_subtree(m, k);
        }
    }
    n->def = def_self;
    n->slot_def = slot_def;
    n->rep = rep_self;
    n->nullable = nullable;
    n->first_leaf = first_leaf;
    n->n_leaves = c->n_leaves - first_leaf;
    if (n->n_leaves == 0)
        return schema_error("group without leaf columns", idx);
    *out = n;
    return 0;
}

static int make_field(pq_node **out, build_ctx *c, uint32_t idx, level_ctx lc, int depth)
{
    const pq_schema_element *e = &c->m->schema[idx];
    int rc;
    if (e->repetition == PQ_REPEATED) {
        /* a bare repeated field is a non-null list of its values */
        char *name = arena_name(c->a, e->name);
        pq_node *l = name ? new_node(c, PQN_LIST, name, 1) : NULL;
        if (!l)
            return POND_ENOMEM;
        int first_leaf = c->n_leaves;
        if ((rc = make_value(&l->children[0], c, idx, lc.def_p + 1, lc.rep_p + 1, lc.def_p + 1,
                             false, lc.path, depth + 1)) < 0)
            return rc;
        l->def = lc.def_p;
        l->slot_def = lc.slot_def;
        l->rep = lc.rep_p;
        l->nullable = false;
        l->first_leaf = first_leaf;
        l->n_leaves = c->n_leaves - first_leaf;
        *out = l;
        return 0;
    }
    bool opt = e->repetition == PQ_OPTIONAL;
    if (e->repetition != PQ_OPTIONAL && e->repetition != PQ_REQUIRED && e->repetition != -1)
        return schema_error("unknown repetition type", idx);
    return make_value(out, c, idx, lc.def_p + (opt ? 1 : 0), lc.rep_p, lc.slot_def, opt, lc.path,
                      depth);
}

/* Every group's children must fit in the list: a lying num_children is corrupt. */
static int check_counts(const pq_file_meta *m, uint32_t i, uint32_t *next, int depth)
{
    if (depth > MAX_SCHEMA_DEPTH)
        return schema_error("schema nested too deeply", i);
    if (i >= m->n_schema)
        return schema_error("schema list ends inside a group", i);
    int32_t kids = m->schema[i].num_children;
    if (kids < 0 || (uint32_t)kids > m->n_schema - i - 1)
        return schema_error("num_children exceeds the schema list", i);
    uint32_t k = i + 1;
    for (int32_t c = 0; c < kids; c++) {
        int rc = check_counts(m, k, &k, depth + 1);
        if (rc < 0)
            return rc;
    }
    *next = k;
    return 0;
}

int pond_pq_schema_build(pq_schema *out, pq_arena *a, const pq_file_meta *m, bool int96_ns)
{
    build_ctx c = {.a = a, .m = m, .int96_ns = int96_ns};
    int rc;
    uint32_t end = 0;
    memset(out, 0, sizeof *out);
    if ((rc = check_counts(m, 0, &end, 0)) < 0)
        return rc;
    if (end != m->n_schema)
        return schema_error("elements after the root's subtree", end);
    const pq_schema_element *root = &m->schema[0];
    int nkids = root->num_children;
    pq_node *r = new_node(&c, PQN_STRUCT, "", nkids);
    if (!r)
        return POND_ENOMEM;
    uint32_t k = 1;
    for (int i = 0; i < nkids; i++) {
        level_ctx lc = {0, 0, 0, arena_name(a, m->schema[k].name)};
        if (!lc.path)
            return POND_ENOMEM;
        if ((rc = make_field(&r->children[i], &c, k, lc, 1)) < 0)
            return rc;
        k = skip_subtree(m, k);
    }
    r->n_leaves = c.n_leaves;
    out->root = r;
    out->n_leaves = c.n_leaves;
    out->leaves = c.leaves;
    return 0;
}

int pond_pq_schema_to_arrow(struct ArrowSchema *out, const pq_node *n)
{
    const char *fmt;
    switch (n->kind) {
    case PQN_LEAF:
        fmt = n->format;
        break;
    case PQN_STRUCT:
        fmt = "+s";
        break;
    case PQN_LIST:
        fmt = "+l";
        break;
    default:
        fmt = "+m";
        break;
    }
    int rc = pond_arrow_schema_init(out, fmt, n->name, n->nullable ? ARROW_FLAG_NULLABLE : 0,
                                    n->n_children);
    if (rc < 0)
        return rc;
    for (int i = 0; i < n->n_children; i++) {
        if ((rc = pond_pq_schema_to_arrow(out->children[i], n->children[i])) < 0) {
            pond_arrow_schema_release(out);
            return rc;
        }
    }
    if (n->kind == PQN_MAP) {
        /* keys are never null */
        out->children[0]->children[0]->flags &= ~(int64_t)ARROW_FLAG_NULLABLE;
        out->children[0]->flags &= ~(int64_t)ARROW_FLAG_NULLABLE;
    }
    return 0;
}
