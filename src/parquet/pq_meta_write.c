/* Encoding parquet.thrift structs with the compact protocol (for the writer and tests). */
#include "parquet/pq_meta.h"

static void enc_bytes(pq_tenc *e, int16_t id, pq_bytes b)
{
    if (b.ptr)
        pond_pq_tenc_field_binary(e, id, b.ptr, b.len);
}

void pond_pq_encode_statistics(pq_tenc *e, const pq_statistics *s)
{
    pond_pq_tenc_struct_begin(e);
    enc_bytes(e, 1, s->max);
    enc_bytes(e, 2, s->min);
    if (s->has_null_count)
        pond_pq_tenc_field_i64(e, 3, s->null_count);
    if (s->has_distinct_count)
        pond_pq_tenc_field_i64(e, 4, s->distinct_count);
    enc_bytes(e, 5, s->max_value);
    enc_bytes(e, 6, s->min_value);
    if (s->has_max_exact)
        pond_pq_tenc_field_bool(e, 7, s->is_max_value_exact);
    if (s->has_min_exact)
        pond_pq_tenc_field_bool(e, 8, s->is_min_value_exact);
    pond_pq_tenc_struct_end(e);
}

static void enc_empty_struct(pq_tenc *e, int16_t id)
{
    pond_pq_tenc_field(e, TC_STRUCT, id);
    pond_pq_tenc_struct_begin(e);
    pond_pq_tenc_struct_end(e);
}

static void enc_logical(pq_tenc *e, const pq_logical_type *lt)
{
    pond_pq_tenc_struct_begin(e);
    switch (lt->kind) {
    case PQ_LT_DECIMAL:
        pond_pq_tenc_field(e, TC_STRUCT, PQ_LT_DECIMAL);
        pond_pq_tenc_struct_begin(e);
        pond_pq_tenc_field_i32(e, 1, lt->scale);
        pond_pq_tenc_field_i32(e, 2, lt->precision);
        pond_pq_tenc_struct_end(e);
        break;
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        pond_pq_tenc_field(e, TC_STRUCT, (int16_t)lt->kind);
        pond_pq_tenc_struct_begin(e);
        pond_pq_tenc_field_bool(e, 1, lt->utc);
        pond_pq_tenc_field(e, TC_STRUCT, 2);
        pond_pq_tenc_struct_begin(e);
        enc_empty_struct(e, (int16_t)(lt->unit ? lt->unit : PQ_UNIT_MICROS));
        pond_pq_tenc_struct_end(e);
        pond_pq_tenc_struct_end(e);
        break;
    case PQ_LT_INTEGER:
        pond_pq_tenc_field(e, TC_STRUCT, PQ_LT_INTEGER);
        pond_pq_tenc_struct_begin(e);
        pond_pq_tenc_field(e, TC_BYTE, 1);
        pond_pq_tenc_byte(e, (uint8_t)lt->bit_width);
        pond_pq_tenc_field_bool(e, 2, lt->is_signed);
        pond_pq_tenc_struct_end(e);
        break;
    default:
        if (lt->kind > 0 && lt->kind != PQ_LT_OTHER)
            enc_empty_struct(e, (int16_t)lt->kind);
    }
    pond_pq_tenc_struct_end(e);
}

static void enc_schema_element(pq_tenc *e, const pq_schema_element *s)
{
    pond_pq_tenc_struct_begin(e);
    if (s->type >= 0)
        pond_pq_tenc_field_i32(e, 1, s->type);
    if (s->type_length > 0)
        pond_pq_tenc_field_i32(e, 2, s->type_length);
    if (s->repetition >= 0)
        pond_pq_tenc_field_i32(e, 3, s->repetition);
    pond_pq_tenc_field_binary(e, 4, s->name.ptr ? s->name.ptr : (const uint8_t *)"", s->name.len);
    if (s->num_children > 0)
        pond_pq_tenc_field_i32(e, 5, s->num_children);
    if (s->converted_type >= 0)
        pond_pq_tenc_field_i32(e, 6, s->converted_type);
    if (s->scale >= 0)
        pond_pq_tenc_field_i32(e, 7, s->scale);
    if (s->precision >= 0)
        pond_pq_tenc_field_i32(e, 8, s->precision);
    if (s->has_field_id)
        pond_pq_tenc_field_i32(e, 9, s->field_id);
    if (s->logical.kind != PQ_LT_NONE && s->logical.kind != PQ_LT_OTHER) {
        pond_pq_tenc_field(e, TC_STRUCT, 10);
        enc_logical(e, &s->logical);
    }
    pond_pq_tenc_struct_end(e);
}

static void enc_kv(pq_tenc *e, int16_t id, const pq_kv *kv, uint32_t n)
{
    if (!n)
        return;
    pond_pq_tenc_field(e, TC_LIST, id);
    pond_pq_tenc_list_begin(e, TC_STRUCT, n);
    for (uint32_t i = 0; i < n; i++) {
        pond_pq_tenc_struct_begin(e);
        enc_bytes(e, 1, kv[i].key);
        enc_bytes(e, 2, kv[i].value);
        pond_pq_tenc_struct_end(e);
    }
}

static void enc_column_meta(pq_tenc *e, const pq_column_meta *m)
{
    pond_pq_tenc_struct_begin(e);
    pond_pq_tenc_field_i32(e, 1, m->type);
    pond_pq_tenc_field(e, TC_LIST, 2);
    pond_pq_tenc_list_begin(e, TC_I32, m->n_encodings);
    for (uint32_t i = 0; i < m->n_encodings; i++)
        pond_pq_tenc_i32(e, m->encodings[i]);
    pond_pq_tenc_field(e, TC_LIST, 3);
    pond_pq_tenc_list_begin(e, TC_BINARY, m->n_path);
    for (uint32_t i = 0; i < m->n_path; i++)
        pond_pq_tenc_binary(e, m->path[i].ptr, m->path[i].len);
    pond_pq_tenc_field_i32(e, 4, m->codec);
    pond_pq_tenc_field_i64(e, 5, m->num_values);
    pond_pq_tenc_field_i64(e, 6, m->total_uncompressed_size);
    pond_pq_tenc_field_i64(e, 7, m->total_compressed_size);
    enc_kv(e, 8, m->kv, m->n_kv);
    pond_pq_tenc_field_i64(e, 9, m->data_page_offset);
    if (m->index_page_offset >= 0)
        pond_pq_tenc_field_i64(e, 10, m->index_page_offset);
    if (m->dictionary_page_offset >= 0)
        pond_pq_tenc_field_i64(e, 11, m->dictionary_page_offset);
    if (m->has_statistics) {
        pond_pq_tenc_field(e, TC_STRUCT, 12);
        pond_pq_encode_statistics(e, &m->statistics);
    }
    if (m->n_encoding_stats) {
        pond_pq_tenc_field(e, TC_LIST, 13);
        pond_pq_tenc_list_begin(e, TC_STRUCT, m->n_encoding_stats);
        for (uint32_t i = 0; i < m->n_encoding_stats; i++) {
            pond_pq_tenc_struct_begin(e);
            pond_pq_tenc_field_i32(e, 1, m->encoding_stats[i].page_type);
            pond_pq_tenc_field_i32(e, 2, m->encoding_stats[i].encoding);
            pond_pq_tenc_field_i32(e, 3, m->encoding_stats[i].count);
            pond_pq_tenc_struct_end(e);
        }
    }
    if (m->bloom_filter_offset >= 0)
        pond_pq_tenc_field_i64(e, 14, m->bloom_filter_offset);
    if (m->bloom_filter_length >= 0)
        pond_pq_tenc_field_i32(e, 15, m->bloom_filter_length);
    pond_pq_tenc_struct_end(e);
}

static void enc_column_chunk(pq_tenc *e, const pq_column_chunk *c)
{
    pond_pq_tenc_struct_begin(e);
    enc_bytes(e, 1, c->file_path);
    pond_pq_tenc_field_i64(e, 2, c->file_offset);
    if (c->has_meta_data) {
        pond_pq_tenc_field(e, TC_STRUCT, 3);
        enc_column_meta(e, &c->meta_data);
    }
    if (c->offset_index_offset >= 0) {
        pond_pq_tenc_field_i64(e, 4, c->offset_index_offset);
        pond_pq_tenc_field_i32(e, 5, c->offset_index_length);
    }
    if (c->column_index_offset >= 0) {
        pond_pq_tenc_field_i64(e, 6, c->column_index_offset);
        pond_pq_tenc_field_i32(e, 7, c->column_index_length);
    }
    pond_pq_tenc_struct_end(e);
}

static void enc_row_group(pq_tenc *e, const pq_row_group *rg)
{
    pond_pq_tenc_struct_begin(e);
    pond_pq_tenc_field(e, TC_LIST, 1);
    pond_pq_tenc_list_begin(e, TC_STRUCT, rg->n_columns);
    for (uint32_t i = 0; i < rg->n_columns; i++)
        enc_column_chunk(e, &rg->columns[i]);
    pond_pq_tenc_field_i64(e, 2, rg->total_byte_size);
    pond_pq_tenc_field_i64(e, 3, rg->num_rows);
    if (rg->n_sorting) {
        pond_pq_tenc_field(e, TC_LIST, 4);
        pond_pq_tenc_list_begin(e, TC_STRUCT, rg->n_sorting);
        for (uint32_t i = 0; i < rg->n_sorting; i++) {
            pond_pq_tenc_struct_begin(e);
            pond_pq_tenc_field_i32(e, 1, rg->sorting[i].column_idx);
            pond_pq_tenc_field_bool(e, 2, rg->sorting[i].descending);
            pond_pq_tenc_field_bool(e, 3, rg->sorting[i].nulls_first);
            pond_pq_tenc_struct_end(e);
        }
    }
    if (rg->file_offset >= 0)
        pond_pq_tenc_field_i64(e, 5, rg->file_offset);
    if (rg->total_compressed_size >= 0)
        pond_pq_tenc_field_i64(e, 6, rg->total_compressed_size);
    if (rg->ordinal >= 0) {
        pond_pq_tenc_field(e, TC_I16, 7);
        pond_pq_tenc_i32(e, rg->ordinal);
    }
    pond_pq_tenc_struct_end(e);
}

void pond_pq_encode_file_meta(pq_tenc *e, const pq_file_meta *m)
{
    pond_pq_tenc_struct_begin(e);
    pond_pq_tenc_field_i32(e, 1, m->version);
    pond_pq_tenc_field(e, TC_LIST, 2);
    pond_pq_tenc_list_begin(e, TC_STRUCT, m->n_schema);
    for (uint32_t i = 0; i < m->n_schema; i++)
        enc_schema_element(e, &m->schema[i]);
    pond_pq_tenc_field_i64(e, 3, m->num_rows);
    pond_pq_tenc_field(e, TC_LIST, 4);
    pond_pq_tenc_list_begin(e, TC_STRUCT, m->n_row_groups);
    for (uint32_t i = 0; i < m->n_row_groups; i++)
        enc_row_group(e, &m->row_groups[i]);
    enc_kv(e, 5, m->kv, m->n_kv);
    enc_bytes(e, 6, m->created_by);
    if (m->n_column_orders) {
        /* ColumnOrder is a union whose only member is TYPE_ORDER (field 1, empty struct) */
        pond_pq_tenc_field(e, TC_LIST, 7);
        pond_pq_tenc_list_begin(e, TC_STRUCT, m->n_column_orders);
        for (uint32_t i = 0; i < m->n_column_orders; i++) {
            pond_pq_tenc_struct_begin(e);
            enc_empty_struct(e, 1);
            pond_pq_tenc_struct_end(e);
        }
    }
    pond_pq_tenc_struct_end(e);
}

void pond_pq_encode_page_header(pq_tenc *e, const pq_page_header *h)
{
    pond_pq_tenc_struct_begin(e);
    pond_pq_tenc_field_i32(e, 1, h->type);
    pond_pq_tenc_field_i32(e, 2, h->uncompressed_page_size);
    pond_pq_tenc_field_i32(e, 3, h->compressed_page_size);
    if (h->has_crc)
        pond_pq_tenc_field_i32(e, 4, h->crc);
    if (h->has_data) {
        const pq_data_page_header *p = &h->data;
        pond_pq_tenc_field(e, TC_STRUCT, 5);
        pond_pq_tenc_struct_begin(e);
        pond_pq_tenc_field_i32(e, 1, p->num_values);
        pond_pq_tenc_field_i32(e, 2, p->encoding);
        pond_pq_tenc_field_i32(e, 3, p->def_encoding);
        pond_pq_tenc_field_i32(e, 4, p->rep_encoding);
        if (p->has_statistics) {
            pond_pq_tenc_field(e, TC_STRUCT, 5);
            pond_pq_encode_statistics(e, &p->statistics);
        }
        pond_pq_tenc_struct_end(e);
    }
    if (h->has_dict) {
        const pq_dict_page_header *p = &h->dict;
        pond_pq_tenc_field(e, TC_STRUCT, 7);
        pond_pq_tenc_struct_begin(e);
        pond_pq_tenc_field_i32(e, 1, p->num_values);
        pond_pq_tenc_field_i32(e, 2, p->encoding);
        if (p->has_is_sorted)
            pond_pq_tenc_field_bool(e, 3, p->is_sorted);
        pond_pq_tenc_struct_end(e);
    }
    if (h->has_data_v2) {
        const pq_data_page_header_v2 *p = &h->data_v2;
        pond_pq_tenc_field(e, TC_STRUCT, 8);
        pond_pq_tenc_struct_begin(e);
        pond_pq_tenc_field_i32(e, 1, p->num_values);
        pond_pq_tenc_field_i32(e, 2, p->num_nulls);
        pond_pq_tenc_field_i32(e, 3, p->num_rows);
        pond_pq_tenc_field_i32(e, 4, p->encoding);
        pond_pq_tenc_field_i32(e, 5, p->def_levels_byte_length);
        pond_pq_tenc_field_i32(e, 6, p->rep_levels_byte_length);
        pond_pq_tenc_field_bool(e, 7, p->is_compressed);
        if (p->has_statistics) {
            pond_pq_tenc_field(e, TC_STRUCT, 8);
            pond_pq_encode_statistics(e, &p->statistics);
        }
        pond_pq_tenc_struct_end(e);
    }
    pond_pq_tenc_struct_end(e);
}

void pond_pq_encode_offset_index(pq_tenc *e, const pq_offset_index *oi)
{
    pond_pq_tenc_struct_begin(e);
    pond_pq_tenc_field(e, TC_LIST, 1);
    pond_pq_tenc_list_begin(e, TC_STRUCT, oi->n_pages);
    for (uint32_t i = 0; i < oi->n_pages; i++) {
        pond_pq_tenc_struct_begin(e);
        pond_pq_tenc_field_i64(e, 1, oi->pages[i].offset);
        pond_pq_tenc_field_i32(e, 2, oi->pages[i].compressed_page_size);
        pond_pq_tenc_field_i64(e, 3, oi->pages[i].first_row_index);
        pond_pq_tenc_struct_end(e);
    }
    pond_pq_tenc_struct_end(e);
}

void pond_pq_encode_column_index(pq_tenc *e, const pq_column_index *ci)
{
    pond_pq_tenc_struct_begin(e);
    pond_pq_tenc_field(e, TC_LIST, 1);
    pond_pq_tenc_list_begin(e, TC_TRUE, ci->n_pages);
    for (uint32_t i = 0; i < ci->n_pages; i++)
        pond_pq_tenc_byte(e, ci->null_pages[i] ? 1 : 2);
    pond_pq_tenc_field(e, TC_LIST, 2);
    pond_pq_tenc_list_begin(e, TC_BINARY, ci->n_pages);
    for (uint32_t i = 0; i < ci->n_pages; i++)
        pond_pq_tenc_binary(e, ci->min_values[i].ptr, ci->min_values[i].len);
    pond_pq_tenc_field(e, TC_LIST, 3);
    pond_pq_tenc_list_begin(e, TC_BINARY, ci->n_pages);
    for (uint32_t i = 0; i < ci->n_pages; i++)
        pond_pq_tenc_binary(e, ci->max_values[i].ptr, ci->max_values[i].len);
    pond_pq_tenc_field_i32(e, 4, ci->boundary_order);
    if (ci->n_null_counts) {
        pond_pq_tenc_field(e, TC_LIST, 5);
        pond_pq_tenc_list_begin(e, TC_I64, ci->n_null_counts);
        for (uint32_t i = 0; i < ci->n_null_counts; i++)
            pond_pq_tenc_i64(e, ci->null_counts[i]);
    }
    pond_pq_tenc_struct_end(e);
}
