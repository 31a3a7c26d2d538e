/* A readable description of a Parquet file's metadata (pond parquet meta). */
#include "parquet/pq_reader.h"

#include "util/util.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int put_bytes_printable(pond_buf *out, pq_bytes b, size_t max)
{
    int rc = 0;
    size_t n = POND_MIN(b.len, max);
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint8_t c = b.ptr[i];
        rc = (c >= 0x20 && c < 0x7f && c != '\\') ? pond_buf_putc(out, (char)c)
                                                  : pond_buf_printf(out, "\\x%02x", c);
    }
    if (rc == 0 && b.len > max)
        rc = pond_buf_puts(out, "...");
    return rc;
}

static int put_logical(pond_buf *out, const pq_schema_element *e)
{
    static const char *names[] = {"",        "STRING",  "MAP",      "LIST",      "ENUM",
                                  "DECIMAL", "DATE",    "TIME",     "TIMESTAMP", "",
                                  "INTEGER", "UNKNOWN", "JSON",     "BSON",      "UUID",
                                  "FLOAT16", "VARIANT", "GEOMETRY", "GEOGRAPHY"};
    static const char *units[] = {"?", "MILLIS", "MICROS", "NANOS"};
    const pq_logical_type *lt = &e->logical;
    int rc = 0;
    if (lt->kind != PQ_LT_NONE) {
        const char *nm = lt->kind < (int)POND_ARRAY_LEN(names) ? names[lt->kind] : "OTHER";
        switch (lt->kind) {
        case PQ_LT_DECIMAL:
            rc = pond_buf_printf(out, " %s(%d,%d)", nm, lt->precision, lt->scale);
            break;
        case PQ_LT_TIME:
        case PQ_LT_TIMESTAMP:
            rc = pond_buf_printf(out, " %s(%s,%s)", nm, units[lt->unit & 3],
                                 lt->utc ? "utc" : "local");
            break;
        case PQ_LT_INTEGER:
            rc = pond_buf_printf(out, " INTEGER(%d,%s)", lt->bit_width,
                                 lt->is_signed ? "signed" : "unsigned");
            break;
        default:
            rc = pond_buf_printf(out, " %s", nm);
        }
    }
    if (rc == 0 && e->converted_type >= 0)
        rc = pond_buf_printf(out, " (converted %s)", pond_pq_converted_name(e->converted_type));
    return rc;
}

static int describe_schema(pond_buf *out, const pq_file_meta *m, uint32_t *i, int depth)
{
    const pq_schema_element *e = &m->schema[*i];
    int rc = pond_buf_printf(out, "%*s", 2 + 2 * depth, "");
    if (rc == 0 && depth > 0)
        rc = pond_buf_printf(out, "%s ", pond_pq_repetition_name(e->repetition));
    if (rc == 0) {
        if (e->num_children > 0)
            rc = pond_buf_puts(out, "group ");
        else if (e->type == PQ_FIXED_LEN_BYTE_ARRAY)
            rc = pond_buf_printf(out, "FIXED_LEN_BYTE_ARRAY(%d) ", e->type_length);
        else
            rc = pond_buf_printf(out, "%s ", pond_pq_type_name(e->type));
    }
    if (rc == 0)
        rc = put_bytes_printable(out, e->name, 200);
    if (rc == 0)
        rc = put_logical(out, e);
    if (rc == 0)
        rc = pond_buf_putc(out, '\n');
    int32_t kids = e->num_children;
    (*i)++;
    for (int32_t k = 0; k < kids && rc == 0 && *i < m->n_schema; k++)
        rc = describe_schema(out, m, i, depth + 1);
    return rc;
}

/* Statistics printed by physical type where the bytes are plain values. */
static int put_stat_value(pond_buf *out, int type, pq_bytes b)
{
    if (!b.ptr)
        return pond_buf_puts(out, "-");
    if (type == PQ_INT32 && b.len == 4) {
        int32_t v;
        memcpy(&v, b.ptr, 4);
        return pond_buf_printf(out, "%" PRId32, v);
    }
    if (type == PQ_INT64 && b.len == 8) {
        int64_t v;
        memcpy(&v, b.ptr, 8);
        return pond_buf_printf(out, "%" PRId64, v);
    }
    if (type == PQ_FLOAT && b.len == 4) {
        float v;
        memcpy(&v, b.ptr, 4);
        return pond_buf_printf(out, "%.9g", (double)v);
    }
    if (type == PQ_DOUBLE && b.len == 8) {
        double v;
        memcpy(&v, b.ptr, 8);
        return pond_buf_printf(out, "%.17g", v);
    }
    if (type == PQ_BOOLEAN && b.len == 1)
        return pond_buf_puts(out, b.ptr[0] ? "true" : "false");
    int rc = pond_buf_putc(out, '"');
    if (rc == 0)
        rc = put_bytes_printable(out, b, 40);
    if (rc == 0)
        rc = pond_buf_putc(out, '"');
    return rc;
}

int pond_parquet_reader_describe(pond_buf *out, pond_parquet_reader *r)
{
    const pq_file_meta *m = &r->meta;
    int rc = pond_buf_printf(out, "version: %d\nnum_rows: %" PRId64 "\nrow_groups: %u\n",
                             m->version, m->num_rows, m->n_row_groups);
    if (rc == 0 && m->created_by.ptr) {
        rc = pond_buf_puts(out, "created_by: ");
        if (rc == 0)
            rc = put_bytes_printable(out, m->created_by, 200);
        if (rc == 0)
            rc = pond_buf_putc(out, '\n');
    }
    for (uint32_t i = 0; i < m->n_kv && rc == 0; i++) {
        rc = pond_buf_puts(out, "metadata: ");
        if (rc == 0)
            rc = put_bytes_printable(out, m->kv[i].key, 100);
        if (rc == 0)
            rc = pond_buf_puts(out, " = ");
        if (rc == 0)
            rc = m->kv[i].value.ptr ? put_bytes_printable(out, m->kv[i].value, 200)
                                    : pond_buf_puts(out, "(null)");
        if (rc == 0)
            rc = pond_buf_putc(out, '\n');
    }
    for (int i = 0; i < r->n_warnings && rc == 0; i++)
        rc = pond_buf_printf(out, "warning: %s\n", r->warnings[i]);
    if (rc == 0)
        rc = pond_buf_puts(out, "schema:\n");
    uint32_t idx = 0;
    if (rc == 0)
        rc = describe_schema(out, m, &idx, 0);
    for (uint32_t g = 0; g < m->n_row_groups && rc == 0; g++) {
        const pq_row_group *rg = &m->row_groups[g];
        rc = pond_buf_printf(out, "row group %u: %" PRId64 " rows, %" PRId64 " bytes\n", g,
                             rg->num_rows, rg->total_byte_size);
        for (uint32_t c = 0; c < rg->n_columns && rc == 0; c++) {
            const pq_column_chunk *cc = &rg->columns[c];
            const pq_column_meta *cm = &cc->meta_data;
            rc = pond_buf_puts(out, "  column ");
            for (uint32_t p = 0; p < cm->n_path && rc == 0; p++) {
                if (p)
                    rc = pond_buf_putc(out, '.');
                if (rc == 0)
                    rc = put_bytes_printable(out, cm->path[p], 100);
            }
            if (rc == 0)
                rc = pond_buf_printf(
                    out,
                    ": %s %s, %" PRId64 " values, %" PRId64 " bytes compressed, %" PRId64
                    " uncompressed, data at %" PRId64,
                    pond_pq_type_name(cm->type), pond_pq_codec_name(cm->codec), cm->num_values,
                    cm->total_compressed_size, cm->total_uncompressed_size, cm->data_page_offset);
            if (rc == 0 && cm->dictionary_page_offset >= 0)
                rc = pond_buf_printf(out, ", dictionary at %" PRId64, cm->dictionary_page_offset);
            if (rc == 0)
                rc = pond_buf_puts(out, "\n    encodings:");
            for (uint32_t k = 0; k < cm->n_encodings && rc == 0; k++)
                rc = pond_buf_printf(out, " %s", pond_pq_encoding_name(cm->encodings[k]));
            if (rc == 0 && cm->has_statistics) {
                const pq_statistics *s = &cm->statistics;
                pq_bytes mn = s->min_value.ptr ? s->min_value : s->min;
                pq_bytes mx = s->max_value.ptr ? s->max_value : s->max;
                rc = pond_buf_puts(out, "\n    statistics: min ");
                if (rc == 0)
                    rc = put_stat_value(out, cm->type, mn);
                if (rc == 0)
                    rc = pond_buf_puts(out, ", max ");
                if (rc == 0)
                    rc = put_stat_value(out, cm->type, mx);
                if (rc == 0 && s->has_null_count)
                    rc = pond_buf_printf(out, ", nulls %" PRId64, s->null_count);
                if (rc == 0 && s->has_distinct_count)
                    rc = pond_buf_printf(out, ", distinct %" PRId64, s->distinct_count);
            }
            if (rc == 0 && cc->column_index_offset >= 0)
                rc = pond_buf_printf(out, "\n    column index at %" PRId64 " (%d bytes)",
                                     cc->column_index_offset, cc->column_index_length);
            if (rc == 0 && cc->offset_index_offset >= 0)
                rc = pond_buf_printf(out, "\n    offset index at %" PRId64 " (%d bytes)",
                                     cc->offset_index_offset, cc->offset_index_length);
            if (rc == 0)
                rc = pond_buf_putc(out, '\n');
        }
    }
    return rc;
}
