/* Delta types for exported columns: the schemaString and the protocol the types need. */
#include "export/export_internal.h"

#include <string.h>

static int type_json(pond_buf *out, const struct ArrowSchema *t, bool *ntz);

static int field_json(pond_buf *out, const struct ArrowSchema *f, bool *ntz)
{
    const char *nm = f->name ? f->name : "";
    int rc = pond_buf_puts(out, "{\"name\":");
    if (rc == 0)
        rc = pond_ex_json_str(out, nm, strlen(nm));
    if (rc == 0)
        rc = pond_buf_puts(out, ",\"type\":");
    if (rc == 0)
        rc = type_json(out, f, ntz);
    if (rc == 0)
        rc = pond_buf_printf(out, ",\"nullable\":%s,\"metadata\":{}}",
                             (f->flags & ARROW_FLAG_NULLABLE) ? "true" : "false");
    return rc;
}

static int no_type(const struct ArrowSchema *t)
{
    return pond_error_set(POND_EUNSUPPORTED, EX_D, "column '%s': Delta has no type for '%s'",
                          t->name ? t->name : "", t->format);
}

static int type_json(pond_buf *out, const struct ArrowSchema *t, bool *ntz)
{
    pond_arrow_format f;
    int rc = pond_arrow_format_parse(&f, t->format);
    if (rc < 0)
        return rc;
    if (t->dictionary)
        return no_type(t);
    const char *prim = NULL;
    switch (f.type) {
    case POND_ARROW_BOOL:
        prim = "boolean";
        break;
    case POND_ARROW_INT8:
        prim = "byte";
        break;
    case POND_ARROW_INT16:
    case POND_ARROW_UINT8:
        prim = "short";
        break;
    case POND_ARROW_INT32:
    case POND_ARROW_UINT16:
        prim = "integer";
        break;
    case POND_ARROW_INT64:
    case POND_ARROW_UINT32:
        prim = "long";
        break;
    case POND_ARROW_FLOAT:
        prim = "float";
        break;
    case POND_ARROW_DOUBLE:
        prim = "double";
        break;
    case POND_ARROW_STRING:
    case POND_ARROW_LARGE_STRING:
        prim = "string";
        break;
    case POND_ARROW_BINARY:
    case POND_ARROW_LARGE_BINARY:
    case POND_ARROW_FIXED_BINARY:
        prim = "binary";
        break;
    case POND_ARROW_DATE32:
        prim = "date";
        break;
    case POND_ARROW_TIMESTAMP:
        if (*f.tz) {
            prim = "timestamp";
        } else {
            prim = "timestamp_ntz";
            *ntz = true;
        }
        break;
    case POND_ARROW_DECIMAL128:
        if (f.precision > 38)
            return no_type(t);
        return pond_buf_printf(out, "\"decimal(%d,%d)\"", f.precision, f.scale);
    case POND_ARROW_STRUCT:
        rc = pond_buf_puts(out, "{\"type\":\"struct\",\"fields\":[");
        for (int64_t i = 0; i < t->n_children && rc == 0; i++) {
            if (i)
                rc = pond_buf_putc(out, ',');
            if (rc == 0)
                rc = field_json(out, t->children[i], ntz);
        }
        return rc ? rc : pond_buf_puts(out, "]}");
    case POND_ARROW_LIST:
    case POND_ARROW_LARGE_LIST:
    case POND_ARROW_FIXED_LIST:
        if (t->n_children != 1)
            return no_type(t);
        rc = pond_buf_puts(out, "{\"type\":\"array\",\"elementType\":");
        if (rc == 0)
            rc = type_json(out, t->children[0], ntz);
        if (rc == 0)
            rc = pond_buf_printf(out, ",\"containsNull\":%s}",
                                 (t->children[0]->flags & ARROW_FLAG_NULLABLE) ? "true" : "false");
        return rc;
    case POND_ARROW_MAP: {
        const struct ArrowSchema *e = t->n_children == 1 ? t->children[0] : NULL;
        if (!e || e->n_children != 2)
            return no_type(t);
        rc = pond_buf_puts(out, "{\"type\":\"map\",\"keyType\":");
        if (rc == 0)
            rc = type_json(out, e->children[0], ntz);
        if (rc == 0)
            rc = pond_buf_puts(out, ",\"valueType\":");
        if (rc == 0)
            rc = type_json(out, e->children[1], ntz);
        if (rc == 0)
            rc = pond_buf_printf(out, ",\"valueContainsNull\":%s}",
                                 (e->children[1]->flags & ARROW_FLAG_NULLABLE) ? "true" : "false");
        return rc;
    }
    default:
        return no_type(t);
    }
    return pond_buf_printf(out, "\"%s\"", prim);
}

int pond_ex_delta_schema(pond_buf *out, int *reader, int *writer, const struct ArrowSchema *schema,
                         int level)
{
    static const char *const parts[] = {"year", "month", "day"};
    bool ntz = false;
    int rc = pond_buf_puts(out, "{\"type\":\"struct\",\"fields\":[");
    for (int64_t i = 0; i < schema->n_children && rc == 0; i++) {
        if (i)
            rc = pond_buf_putc(out, ',');
        if (rc == 0)
            rc = field_json(out, schema->children[i], &ntz);
    }
    for (int i = 0; i < level && rc == 0; i++)
        rc = pond_buf_printf(out,
                             "%s{\"name\":\"%s\",\"type\":\"integer\",\"nullable\":true,"
                             "\"metadata\":{}}",
                             schema->n_children || i ? "," : "", parts[i]);
    if (rc == 0)
        rc = pond_buf_puts(out, "]}");
    /* timestamp_ntz is a table feature (protocol 3/7); everything else fits 1/2 */
    *reader = ntz ? 3 : 1;
    *writer = ntz ? 7 : 2;
    return rc;
}
