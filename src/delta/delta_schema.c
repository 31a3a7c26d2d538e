/* schemaString -> a small type tree (Delta PROTOCOL.md "Schema Serialization Format"). */
#include "delta/delta_internal.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

typedef struct {
    delta_arena *arena;
    pond_delta_column_mapping mode;
} schema_ctx;

static int parse_type(const pond_delta_type **out, schema_ctx *c, const json_t *j,
                      const char *where, int depth);

static int oom(void)
{
    return pond_error_set(POND_ENOMEM, POND_DOM_DELTA, "out of memory parsing schema");
}

static int parse_struct(pond_delta_type *t, schema_ctx *c, const json_t *j, const char *where,
                        int depth)
{
    const json_t *fields = json_object_get(j, "fields");
    if (!json_is_array(fields))
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "schema: struct without a fields array at %s", where);
    size_t n = json_array_size(fields), bytes;
    if (pond_mul_overflow(&bytes, n ? n : 1, sizeof(pond_delta_field)))
        return oom();
    pond_delta_field *fs = pond__arena_alloc(c->arena, bytes, 16);
    if (!fs)
        return oom();
    t->kind = POND_DELTA_TYPE_STRUCT;
    t->fields = fs;
    t->n_fields = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *f = json_array_get(fields, i);
        const json_t *name = json_object_get(f, "name");
        if (!json_is_object(f) || !json_is_string(name))
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "schema: field %zu without a name at %s", i, where);
        const char *nm = json_string_value(name);
        for (size_t k = 0; k < i; k++) {
            if (strcasecmp(fs[k].name, nm) == 0)
                return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                      "schema: duplicate field name (case-insensitive) '%s' at %s",
                                      nm, where);
        }
        pond_delta_field *fd = &fs[i];
        memset(fd, 0, sizeof *fd);
        if (!(fd->name = pond__arena_strdup(c->arena, nm)))
            return oom();
        const json_t *nullable = json_object_get(f, "nullable");
        if (nullable && !json_is_boolean(nullable))
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "schema: field '%s' has a non-boolean nullable at %s", nm, where);
        fd->nullable = nullable ? json_is_true(nullable) : true;
        const json_t *md = json_object_get(f, "metadata");
        if (md && !json_is_object(md))
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "schema: field '%s' metadata is not an object at %s", nm, where);
        if (md) {
            char *s = pond__json_dump(md, 0);
            if (!s)
                return POND_ENOMEM;
            fd->metadata_json = pond__arena_strdup(c->arena, s);
            pond_free(s);
        } else {
            fd->metadata_json = pond__arena_strdup(c->arena, "{}");
        }
        if (!fd->metadata_json)
            return oom();
        const json_t *pn = json_object_get(md, "delta.columnMapping.physicalName");
        int64_t id = -1;
        fd->physical_name = fd->name;
        if (json_is_string(pn) && c->mode != POND_DELTA_COLUMN_MAPPING_NONE) {
            if (!(fd->physical_name = pond__arena_strdup(c->arena, json_string_value(pn))))
                return oom();
        } else if (c->mode != POND_DELTA_COLUMN_MAPPING_NONE) {
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                                  "schema: column mapping is on but field '%s' at %s has no "
                                  "delta.columnMapping.physicalName",
                                  nm, where);
        }
        fd->column_id = pond__json_int(&id, md, "delta.columnMapping.id") ? id : -1;
        char sub[256];
        snprintf(sub, sizeof sub, "%s.%s", where, nm);
        int rc = parse_type(&fd->type, c, json_object_get(f, "type"), sub, depth + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int parse_type(const pond_delta_type **out, schema_ctx *c, const json_t *j,
                      const char *where, int depth)
{
    if (depth > DELTA_MAX_SCHEMA_DEPTH)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                              "schema: types nested deeper than %d levels at %s",
                              DELTA_MAX_SCHEMA_DEPTH, where);
    pond_delta_type *t = pond__arena_alloc(c->arena, sizeof *t, 16);
    if (!t)
        return oom();
    memset(t, 0, sizeof *t);
    *out = t;
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (!*s)
            return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "schema: empty type name at %s",
                                  where);
        t->kind = POND_DELTA_TYPE_PRIMITIVE;
        return (t->primitive = pond__arena_strdup(c->arena, s)) ? 0 : oom();
    }
    const char *kind = json_string_value(json_object_get(j, "type"));
    if (!json_is_object(j) || !kind)
        return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "schema: invalid type at %s", where);
    int rc;
    if (!strcmp(kind, "struct"))
        return parse_struct(t, c, j, where, depth);
    if (!strcmp(kind, "array")) {
        const json_t *cn = json_object_get(j, "containsNull");
        t->kind = POND_DELTA_TYPE_ARRAY;
        t->contains_null = cn ? json_is_true(cn) : true;
        char sub[256];
        snprintf(sub, sizeof sub, "%s[]", where);
        return parse_type(&t->element, c, json_object_get(j, "elementType"), sub, depth + 1);
    }
    if (!strcmp(kind, "map")) {
        const json_t *vn = json_object_get(j, "valueContainsNull");
        t->kind = POND_DELTA_TYPE_MAP;
        t->value_contains_null = vn ? json_is_true(vn) : true;
        char sub[256];
        snprintf(sub, sizeof sub, "%s{key}", where);
        if ((rc = parse_type(&t->key, c, json_object_get(j, "keyType"), sub, depth + 1)) < 0)
            return rc;
        snprintf(sub, sizeof sub, "%s{value}", where);
        return parse_type(&t->value, c, json_object_get(j, "valueType"), sub, depth + 1);
    }
    return pond_error_set(POND_ECORRUPT, POND_DOM_DELTA, "schema: unknown complex type '%s' at %s",
                          kind, where);
}

int pond_delta__schema_parse(const pond_delta_type **out, delta_arena *a, const char *schema_string,
                             pond_delta_column_mapping mode)
{
    json_t *j =
        pond__json_parse(schema_string, strlen(schema_string), 0, "schemaString", POND_DOM_DELTA);
    if (!j) {
        if (pond_error_last()->code == POND_ENOMEM)
            return POND_ENOMEM;
        pond_error_prefix("metaData.schemaString is not valid JSON");
        return POND_ECORRUPT;
    }
    int rc;
    const char *kind = json_string_value(json_object_get(j, "type"));
    if (!json_is_object(j) || !kind || strcmp(kind, "struct") != 0 ||
        !json_is_array(json_object_get(j, "fields"))) {
        rc = pond_error_set(POND_ECORRUPT, POND_DOM_DELTA,
                            "metaData.schemaString is not a JSON struct type "
                            "({\"type\":\"struct\",\"fields\":[...]})");
        goto done;
    }
    schema_ctx c = {a, mode};
    rc = parse_type(out, &c, j, "<root>", 0);
done:
    json_decref(j);
    return rc;
}

int pond_delta__type_format(pond_buf *out, const pond_delta_type *t)
{
    int rc = 0;
    switch (t->kind) {
    case POND_DELTA_TYPE_PRIMITIVE:
        return pond_buf_puts(out, t->primitive);
    case POND_DELTA_TYPE_STRUCT:
        if ((rc = pond_buf_puts(out, "struct<")) < 0)
            return rc;
        for (size_t i = 0; i < t->n_fields; i++) {
            if ((rc = pond_buf_printf(out, "%s%s:", i ? "," : "", t->fields[i].name)) < 0 ||
                (rc = pond_delta__type_format(out, t->fields[i].type)) < 0)
                return rc;
        }
        return pond_buf_putc(out, '>');
    case POND_DELTA_TYPE_ARRAY:
        if ((rc = pond_buf_puts(out, "array<")) < 0 ||
            (rc = pond_delta__type_format(out, t->element)) < 0)
            return rc;
        return pond_buf_putc(out, '>');
    case POND_DELTA_TYPE_MAP:
        if ((rc = pond_buf_puts(out, "map<")) < 0 ||
            (rc = pond_delta__type_format(out, t->key)) < 0 || (rc = pond_buf_putc(out, ',')) < 0 ||
            (rc = pond_delta__type_format(out, t->value)) < 0)
            return rc;
        return pond_buf_putc(out, '>');
    }
    return rc;
}
