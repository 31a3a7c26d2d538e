/* Parquet writer: Arrow schema -> Parquet schema elements and leaf columns, and the shredding
 * of Arrow validity/offsets into definition and repetition levels (Dremel encoding). */
#include "parquet/parquet_write.h"
#include "parquet/pq_meta.h"

#include "util/util.h"

#include <string.h>

/* ---------------------------------------------------------------- schema */

typedef struct {
    pqw_node nodes[PQW_MAX_DEPTH];
    const char *path[PQW_MAX_DEPTH * 2 + 2];
    int depth, n_path;
    int16_t def, rep;
    int top;
} walk_ctx;

static int add_elem(pqw_schema *s, pqw_selem **out, const char *name)
{
    if (s->n_elems == s->cap_elems) {
        int nc = s->cap_elems ? s->cap_elems * 2 : 16;
        pqw_selem *e = pond_realloc(s->elems, (size_t)nc * sizeof *e);
        if (!e)
            return POND_ENOMEM;
        s->elems = e;
        s->cap_elems = nc;
    }
    pqw_selem *e = &s->elems[s->n_elems];
    memset(e, 0, sizeof *e);
    e->type = -1;
    e->repetition = -1;
    e->converted = -1;
    e->scale = e->precision = -1;
    e->name = pond_strdup(name ? name : "");
    if (!e->name)
        return POND_ENOMEM;
    s->n_elems++;
    *out = e;
    return 0;
}

static int decimal_flba_bytes(int precision)
{
    /* smallest n with 10^precision - 1 <= 2^(8n-1) - 1 */
    static const int table[39] = {0,  1,  1,  2,  2,  3,  3,  4,  4,  4,  5,  5,  6,
                                  6,  6,  7,  7,  8,  8,  9,  9,  9,  10, 10, 11, 11,
                                  11, 12, 12, 13, 13, 14, 14, 14, 15, 15, 16, 16, 16};
    return table[precision];
}

static int unsupported(const walk_ctx *c, const char *name, const char *format)
{
    (void)c;
    char t[POND_ARROW_TYPE_NAME_LEN];
    return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                          "parquet writer: column '%s': type %s is not supported", name ? name : "",
                          format ? pond_arrow_type_name(t, format) : "(none)");
}

static int set_leaf(pqw_selem *e, pqw_leaf *l, const pond_arrow_format *f, const char *name,
                    const char *format, const walk_ctx *c)
{
    l->src_signed = true;
    l->order = PQW_O_SIGNED;
    l->mul = 1;
    switch (f->type) {
    case POND_ARROW_BOOL:
        e->type = PQ_BOOLEAN;
        l->vkind = PQW_V_BOOL;
        l->order = PQW_O_BOOL;
        break;
    case POND_ARROW_INT8:
    case POND_ARROW_INT16:
    case POND_ARROW_UINT8:
    case POND_ARROW_UINT16:
    case POND_ARROW_UINT32: {
        bool sig = f->type == POND_ARROW_INT8 || f->type == POND_ARROW_INT16;
        int bits = f->bit_width;
        e->type = PQ_INT32;
        l->vkind = PQW_V_I32;
        l->src_width = bits / 8;
        l->src_signed = sig;
        l->order = sig ? PQW_O_SIGNED : PQW_O_UNSIGNED;
        e->lt = PQ_LT_INTEGER;
        e->lt_bits = bits;
        e->lt_signed = sig;
        e->converted = sig ? (bits == 8 ? PQ_CT_INT_8 : PQ_CT_INT_16)
                           : (bits == 8    ? PQ_CT_UINT_8
                              : bits == 16 ? PQ_CT_UINT_16
                                           : PQ_CT_UINT_32);
        break;
    }
    case POND_ARROW_INT32:
        e->type = PQ_INT32;
        l->vkind = PQW_V_I32;
        l->src_width = 4;
        break;
    case POND_ARROW_INT64:
        e->type = PQ_INT64;
        l->vkind = PQW_V_I64;
        l->src_width = 8;
        break;
    case POND_ARROW_UINT64:
        e->type = PQ_INT64;
        l->vkind = PQW_V_I64;
        l->src_width = 8;
        l->src_signed = false;
        l->order = PQW_O_UNSIGNED;
        e->lt = PQ_LT_INTEGER;
        e->lt_bits = 64;
        e->lt_signed = false;
        e->converted = PQ_CT_UINT_64;
        break;
    case POND_ARROW_HALF:
        e->type = PQ_FIXED_LEN_BYTE_ARRAY;
        e->type_length = 2;
        e->lt = PQ_LT_FLOAT16;
        l->vkind = PQW_V_HALF;
        l->src_width = 2;
        l->order = PQW_O_FLOAT;
        break;
    case POND_ARROW_FLOAT:
        e->type = PQ_FLOAT;
        l->vkind = PQW_V_FLOAT;
        l->src_width = 4;
        l->order = PQW_O_FLOAT;
        break;
    case POND_ARROW_DOUBLE:
        e->type = PQ_DOUBLE;
        l->vkind = PQW_V_DOUBLE;
        l->src_width = 8;
        l->order = PQW_O_FLOAT;
        break;
    case POND_ARROW_STRING:
    case POND_ARROW_LARGE_STRING:
        e->lt = PQ_LT_STRING;
        e->converted = PQ_CT_UTF8;
        /* fall through */
    case POND_ARROW_BINARY:
    case POND_ARROW_LARGE_BINARY:
        e->type = PQ_BYTE_ARRAY;
        l->vkind = (f->type == POND_ARROW_LARGE_STRING || f->type == POND_ARROW_LARGE_BINARY)
                       ? PQW_V_LBYTES
                       : PQW_V_BYTES;
        l->order = PQW_O_BYTES;
        break;
    case POND_ARROW_FIXED_BINARY:
        if (f->width <= 0)
            return unsupported(c, name, format);
        e->type = PQ_FIXED_LEN_BYTE_ARRAY;
        e->type_length = f->width;
        l->vkind = PQW_V_FIXED;
        l->src_width = f->width;
        l->order = PQW_O_BYTES;
        break;
    case POND_ARROW_DECIMAL128:
        if (f->precision < 1 || f->precision > 38 || f->scale < 0 || f->scale > f->precision)
            return unsupported(c, name, format);
        e->lt = PQ_LT_DECIMAL;
        e->converted = PQ_CT_DECIMAL;
        e->scale = f->scale;
        e->precision = f->precision;
        l->src_width = 16;
        if (f->precision <= 9) {
            e->type = PQ_INT32;
            l->vkind = PQW_V_DEC32;
        } else if (f->precision <= 18) {
            e->type = PQ_INT64;
            l->vkind = PQW_V_DEC64;
        } else {
            e->type = PQ_FIXED_LEN_BYTE_ARRAY;
            e->type_length = decimal_flba_bytes(f->precision);
            l->vkind = PQW_V_DECFL;
            l->order = PQW_O_DECBE;
        }
        break;
    case POND_ARROW_DATE32:
        e->type = PQ_INT32;
        e->lt = PQ_LT_DATE;
        e->converted = PQ_CT_DATE;
        l->vkind = PQW_V_I32;
        l->src_width = 4;
        break;
    case POND_ARROW_TIME32:
        /* Parquet has no seconds unit: seconds are stored as milliseconds. Arrow times carry
         * no zone, so isAdjustedToUTC is false and no legacy converted type applies. */
        e->type = PQ_INT32;
        e->lt = PQ_LT_TIME;
        e->lt_unit = PQ_UNIT_MILLIS;
        l->vkind = PQW_V_I32;
        l->src_width = 4;
        l->mul = f->unit == POND_ARROW_UNIT_S ? 1000 : 1;
        break;
    case POND_ARROW_TIME64:
        e->type = PQ_INT64;
        e->lt = PQ_LT_TIME;
        e->lt_unit = f->unit == POND_ARROW_UNIT_NS ? PQ_UNIT_NANOS : PQ_UNIT_MICROS;
        l->vkind = PQW_V_I64;
        l->src_width = 8;
        break;
    case POND_ARROW_TIMESTAMP:
        e->type = PQ_INT64;
        e->lt = PQ_LT_TIMESTAMP;
        e->lt_utc = f->tz && f->tz[0];
        l->vkind = PQW_V_I64;
        l->src_width = 8;
        switch (f->unit) {
        case POND_ARROW_UNIT_S:
            l->mul = 1000;
            /* fall through */
        case POND_ARROW_UNIT_MS:
            e->lt_unit = PQ_UNIT_MILLIS;
            if (e->lt_utc)
                e->converted = PQ_CT_TIMESTAMP_MILLIS;
            break;
        case POND_ARROW_UNIT_US:
            e->lt_unit = PQ_UNIT_MICROS;
            if (e->lt_utc)
                e->converted = PQ_CT_TIMESTAMP_MICROS;
            break;
        case POND_ARROW_UNIT_NS:
            e->lt_unit = PQ_UNIT_NANOS;
            break;
        }
        break;
    default:
        return unsupported(c, name, format);
    }
    l->phys = e->type;
    l->type_len = e->type_length;
    return 0;
}

static int add_leaf(pqw_schema *s, pqw_leaf **out)
{
    if (s->n_leaves == s->cap_leaves) {
        int nc = s->cap_leaves ? s->cap_leaves * 2 : 8;
        pqw_leaf *l = pond_realloc(s->leaves, (size_t)nc * sizeof *l);
        if (!l)
            return POND_ENOMEM;
        s->leaves = l;
        s->cap_leaves = nc;
    }
    pqw_leaf *l = &s->leaves[s->n_leaves++];
    memset(l, 0, sizeof *l);
    *out = l;
    return 0;
}

static int walk_field(pqw_schema *s, walk_ctx *c, const struct ArrowSchema *f, const char *name,
                      bool force_required);

static int push_node(walk_ctx *c, int kind, bool nullable, const char *name)
{
    if (c->depth >= PQW_MAX_DEPTH || c->n_path + 2 > (int)POND_ARRAY_LEN(c->path))
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                              "parquet writer: column '%s' nested deeper than %d", name,
                              PQW_MAX_DEPTH);
    pqw_node *n = &c->nodes[c->depth++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->nullable = nullable;
    if (nullable)
        c->def++;
    return 0;
}

static int walk_children(pqw_schema *s, walk_ctx *c, const struct ArrowSchema *f)
{
    int rc;
    for (int64_t i = 0; i < f->n_children; i++) {
        walk_ctx save = *c;
        c->nodes[c->depth - 1].child = (int)i;
        if ((rc = walk_field(s, c, f->children[i], f->children[i]->name, false)) < 0)
            return rc;
        *c = save;
    }
    return 0;
}

static int walk_field(pqw_schema *s, walk_ctx *c, const struct ArrowSchema *f, const char *name,
                      bool force_required)
{
    pond_arrow_format fmt;
    pqw_selem *e;
    int rc;
    if (!f || !f->format)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET, "parquet writer: null schema node");
    if ((rc = pond_arrow_format_parse(&fmt, f->format)) < 0)
        return rc;
    if (f->dictionary)
        return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                              "parquet writer: column '%s': dictionary-encoded arrays are not "
                              "supported",
                              name ? name : "");
    bool nullable = !force_required && (f->flags & ARROW_FLAG_NULLABLE);
    if ((rc = add_elem(s, &e, name)) < 0)
        return rc;
    e->repetition = nullable ? PQ_OPTIONAL : PQ_REQUIRED;
    c->path[c->n_path++] = name ? name : "";
    switch (fmt.type) {
    case POND_ARROW_STRUCT:
        if (f->n_children <= 0)
            return pond_error_set(POND_EUNSUPPORTED, POND_DOM_PARQUET,
                                  "parquet writer: column '%s': empty struct", name ? name : "");
        e->num_children = (int)f->n_children;
        if ((rc = push_node(c, PQW_N_STRUCT, nullable, name)) < 0)
            return rc;
        return walk_children(s, c, f);
    case POND_ARROW_LIST:
    case POND_ARROW_LARGE_LIST: {
        if (f->n_children != 1)
            return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                                  "parquet writer: column '%s': list without one child", name);
        e->num_children = 1;
        e->converted = PQ_CT_LIST;
        e->lt = PQ_LT_LIST;
        if ((rc = push_node(c, fmt.type == POND_ARROW_LIST ? PQW_N_LIST : PQW_N_LARGE_LIST,
                            nullable, name)) < 0)
            return rc;
        c->nodes[c->depth - 1].rep = ++c->rep;
        c->def++;
        pqw_selem *g;
        if ((rc = add_elem(s, &g, "list")) < 0)
            return rc;
        g->repetition = PQ_REPEATED;
        g->num_children = 1;
        c->path[c->n_path++] = "list";
        return walk_field(s, c, f->children[0], "element", false);
    }
    case POND_ARROW_MAP: {
        const struct ArrowSchema *ent = f->n_children == 1 ? f->children[0] : NULL;
        if (!ent || !ent->format || strcmp(ent->format, "+s") != 0 || ent->n_children != 2)
            return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                                  "parquet writer: column '%s': malformed map", name);
        e->num_children = 1;
        e->converted = PQ_CT_MAP;
        e->lt = PQ_LT_MAP;
        if ((rc = push_node(c, PQW_N_MAP, nullable, name)) < 0)
            return rc;
        c->nodes[c->depth - 1].rep = ++c->rep;
        c->def++;
        pqw_selem *g;
        if ((rc = add_elem(s, &g, "key_value")) < 0)
            return rc;
        g->repetition = PQ_REPEATED;
        g->num_children = 2;
        c->path[c->n_path++] = "key_value";
        if ((rc = push_node(c, PQW_N_STRUCT, false, name)) < 0)
            return rc;
        for (int i = 0; i < 2; i++) {
            walk_ctx save = *c;
            c->nodes[c->depth - 1].child = i;
            if ((rc = walk_field(s, c, ent->children[i], i == 0 ? "key" : "value", i == 0)) < 0)
                return rc;
            *c = save;
        }
        return 0;
    }
    default:
        break;
    }
    pqw_leaf *l;
    if ((rc = push_node(c, PQW_N_LEAF, nullable, name)) < 0 || (rc = add_leaf(s, &l)) < 0)
        return rc;
    if ((rc = set_leaf(e, l, &fmt, name, f->format, c)) < 0)
        return rc;
    l->top = c->top;
    l->depth = c->depth;
    memcpy(l->nodes, c->nodes, sizeof c->nodes);
    l->max_def = c->def;
    l->max_rep = c->rep;
    l->path = pond_calloc((size_t)c->n_path, sizeof *l->path);
    if (!l->path)
        return POND_ENOMEM;
    l->n_path = c->n_path;
    for (int i = 0; i < c->n_path; i++)
        if (!(l->path[i] = pond_strdup(c->path[i])))
            return POND_ENOMEM;
    return 0;
}

int pond_pqw__schema_build(pqw_schema *out, const struct ArrowSchema *schema)
{
    int rc;
    memset(out, 0, sizeof *out);
    if (!schema || !schema->format || strcmp(schema->format, "+s") != 0)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                              "parquet writer: schema must be a struct ('+s'), got '%s'",
                              schema && schema->format ? schema->format : "(null)");
    if (schema->n_children <= 0)
        return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                              "parquet writer: schema has no columns");
    pqw_selem *root;
    if ((rc = add_elem(out, &root, "schema")) < 0)
        goto fail;
    root->num_children = (int)schema->n_children;
    for (int64_t i = 0; i < schema->n_children; i++) {
        walk_ctx c;
        memset(&c, 0, sizeof c);
        c.top = (int)i;
        const struct ArrowSchema *ch = schema->children[i];
        if ((rc = walk_field(out, &c, ch, ch ? ch->name : NULL, false)) < 0)
            goto fail;
    }
    return 0;
fail:
    pond_pqw__schema_dispose(out);
    return rc;
}

void pond_pqw__schema_dispose(pqw_schema *s)
{
    for (int i = 0; i < s->n_elems; i++)
        pond_free(s->elems[i].name);
    for (int i = 0; i < s->n_leaves; i++) {
        if (s->leaves[i].path)
            for (int j = 0; j < s->leaves[i].n_path; j++)
                pond_free(s->leaves[i].path[j]);
        pond_free(s->leaves[i].path);
    }
    pond_free(s->elems);
    pond_free(s->leaves);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------- shredding */

static int grow_levels(pqw_shred *s, size_t need, bool rep)
{
    if (need > s->cap_levels) {
        size_t nc = s->cap_levels ? s->cap_levels : 1024;
        while (nc < need)
            nc *= 2;
        uint16_t *d = pond_realloc(s->def, nc * sizeof *d);
        if (!d)
            return POND_ENOMEM;
        s->def = d;
        s->cap_levels = nc;
    }
    if (rep && s->cap_rep < s->cap_levels) {
        uint16_t *r = pond_realloc(s->rep, s->cap_levels * sizeof *r);
        if (!r)
            return POND_ENOMEM;
        s->rep = r;
        s->cap_rep = s->cap_levels;
    }
    return 0;
}

static int grow_values(pqw_shred *s, size_t need)
{
    if (need <= s->cap_values)
        return 0;
    size_t nc = s->cap_values ? s->cap_values : 1024;
    while (nc < need)
        nc *= 2;
    int64_t *v = pond_realloc(s->vidx, nc * sizeof *v);
    if (!v)
        return POND_ENOMEM;
    s->vidx = v;
    s->cap_values = nc;
    return 0;
}

static inline bool is_valid(const struct ArrowArray *a, int64_t p)
{
    const uint8_t *v = a->n_buffers > 0 ? a->buffers[0] : NULL;
    return !v || a->null_count == 0 || ((v[p >> 3] >> (p & 7)) & 1);
}

static int null_in_required(const pqw_leaf *l)
{
    return pond_error_set(POND_EINVALID, POND_DOM_PARQUET,
                          "parquet writer: column '%s': null in a non-nullable field", l->path[0]);
}

static inline int emit(pqw_shred *s, uint16_t def, uint16_t rep, int64_t v)
{
    int rc;
    if (s->n_levels == s->cap_levels && (rc = grow_levels(s, s->n_levels + 1, true)) < 0)
        return rc;
    s->def[s->n_levels] = def;
    s->rep[s->n_levels++] = rep;
    if (v >= 0) {
        if (s->n_values == s->cap_values && (rc = grow_values(s, s->n_values + 1)) < 0)
            return rc;
        s->vidx[s->n_values++] = v;
    }
    return 0;
}

static int walk(pqw_shred *s, const pqw_leaf *l, int k, const struct ArrowArray *a, int64_t li,
                uint16_t def, uint16_t rep)
{
    const pqw_node *nd = &l->nodes[k];
    int64_t p = a->offset + li;
    int rc;
    if (!is_valid(a, p)) {
        if (!nd->nullable)
            return null_in_required(l);
        return emit(s, def, rep, -1);
    }
    if (nd->nullable)
        def++;
    switch (nd->kind) {
    case PQW_N_LEAF:
        s->leaf = a;
        return emit(s, def, rep, p);
    case PQW_N_STRUCT:
        return walk(s, l, k + 1, a->children[nd->child], p, def, rep);
    case PQW_N_LIST:
    case PQW_N_MAP:
    case PQW_N_LARGE_LIST: {
        int64_t start, end;
        if (nd->kind == PQW_N_LARGE_LIST) {
            const int64_t *o = a->buffers[1];
            start = o[p];
            end = o[p + 1];
        } else {
            const int32_t *o = a->buffers[1];
            start = o[p];
            end = o[p + 1];
        }
        if (start == end)
            return emit(s, def, rep, -1);
        for (int64_t j = start; j < end; j++)
            if ((rc = walk(s, l, k + 1, a->children[0], j, (uint16_t)(def + 1),
                           j == start ? rep : (uint16_t)nd->rep)) < 0)
                return rc;
        return 0;
    }
    default:
        return pond_error_set(POND_ERROR, POND_DOM_PARQUET, "parquet writer: bad node kind");
    }
}

int pond_pqw__shred(pqw_shred *s, const pqw_leaf *l, const struct ArrowArray *batch, int64_t row0,
                    int64_t nrows)
{
    int rc;
    const struct ArrowArray *col = batch->children[l->top];
    s->n_levels = s->n_values = 0;
    s->contiguous = false;
    s->first = 0;
    s->leaf = NULL;
    int64_t li0 = batch->offset + row0;
    if (l->depth == 1) {
        /* Flat column: levels straight from the validity bitmap. */
        int64_t p0 = col->offset + li0;
        const uint8_t *v = col->n_buffers > 0 ? col->buffers[0] : NULL;
        bool maybe_null = v && col->null_count != 0;
        s->leaf = col;
        if (!maybe_null) {
            if (l->max_def > 0) {
                if ((rc = grow_levels(s, (size_t)nrows, false)) < 0)
                    return rc;
                for (int64_t i = 0; i < nrows; i++)
                    s->def[i] = 1;
            }
            s->n_levels = (size_t)nrows;
            s->n_values = (size_t)nrows;
            s->contiguous = true;
            s->first = p0;
            return 0;
        }
        if ((rc = grow_levels(s, (size_t)nrows, false)) < 0 ||
            (rc = grow_values(s, (size_t)nrows)) < 0)
            return rc;
        size_t nv = 0;
        for (int64_t i = 0; i < nrows; i++) {
            int64_t p = p0 + i;
            uint16_t ok = (v[p >> 3] >> (p & 7)) & 1;
            s->def[i] = ok;
            s->vidx[nv] = p;
            nv += ok;
        }
        if (l->max_def == 0 && nv != (size_t)nrows)
            return null_in_required(l);
        s->n_levels = (size_t)nrows;
        s->n_values = nv;
        return 0;
    }
    if ((rc = grow_levels(s, 1, true)) < 0)
        return rc;
    for (int64_t i = 0; i < nrows; i++)
        if ((rc = walk(s, l, 0, col, li0 + i, 0, 0)) < 0)
            return rc;
    return 0;
}

void pond_pqw__shred_dispose(pqw_shred *s)
{
    pond_free(s->def);
    pond_free(s->rep);
    pond_free(s->vidx);
    memset(s, 0, sizeof *s);
}
