/* Decoding parquet.thrift structs from the compact protocol. Unknown fields are skipped. */
#include "parquet/pq_meta.h"

#include "util/util.h"

#include <string.h>

/* ---------------------------------------------------------------- arena */

struct pq_arena_block {
    pq_arena_block *next;
    size_t pad;
    /* data follows (16-aligned because the header is 16 bytes) */
};

void *pq_arena_alloc(pq_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (!a->head || a->cap - a->used < size) {
        size_t cap = size > 16384 ? size : 16384;
        pq_arena_block *b = pond_malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        a->head = b;
        a->used = 0;
        a->cap = cap;
    }
    void *p = (char *)(a->head + 1) + a->used;
    a->used += size;
    memset(p, 0, size);
    return p;
}

void pq_arena_free(pq_arena *a)
{
    pq_arena_block *b = a->head;
    while (b) {
        pq_arena_block *n = b->next;
        pond_free(b);
        b = n;
    }
    a->head = NULL;
    a->used = a->cap = 0;
}

static void *arena_array(pq_arena *a, uint32_t n, size_t elem)
{
    return pq_arena_alloc(a, (size_t)(n ? n : 1) * elem);
}

/* ---------------------------------------------------------------- helpers */

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ < 0)                                                                               \
            return rc_;                                                                            \
    } while (0)

#define EXPECT(t) TRY(pq_tdec_expect(d, type, (t), id))

/* i16, i32 and i64 share the zigzag varint encoding: accept any width that fits. */
static int read_i32f(pq_tdec *d, int type, int16_t id, int32_t *out)
{
    if (type != TC_I16 && type != TC_I64)
        EXPECT(TC_I32);
    return pq_tdec_i32(d, out);
}

static int read_enum(pq_tdec *d, int type, int16_t id, int *out)
{
    int32_t v;
    TRY(read_i32f(d, type, id, &v));
    *out = v;
    return 0;
}

static int read_i64f(pq_tdec *d, int type, int16_t id, int64_t *out)
{
    if (type == TC_I32) {
        int32_t v;
        TRY(pq_tdec_i32(d, &v));
        *out = v;
        return 0;
    }
    EXPECT(TC_I64);
    return pq_tdec_i64(d, out);
}

static int read_bytesf(pq_tdec *d, int type, int16_t id, pq_bytes *out)
{
    EXPECT(TC_BINARY);
    TRY(pq_tdec_binary(d, &out->ptr, &out->len));
    if (!out->ptr)
        out->ptr = (const uint8_t *)"";
    return 0;
}

/* A STRUCT loop: `body` handles field `id` of `type`, falling back to skipping. */
#define STRUCT_LOOP(body)                                                                          \
    do {                                                                                           \
        pq_tframe fr_;                                                                             \
        int type;                                                                                  \
        int16_t id;                                                                                \
        TRY(pq_tdec_struct_begin(d, &fr_));                                                        \
        for (;;) {                                                                                 \
            TRY(pq_tdec_next_field(d, &fr_, &type, &id));                                          \
            if (type == TC_STOP)                                                                   \
                break;                                                                             \
            int handled_ = 1;                                                                      \
            body                                                                                   \
            if (!handled_)                                                                         \
                TRY(pq_tdec_skip(d, type));                                                        \
        }                                                                                          \
        pq_tdec_struct_end(d);                                                                     \
    } while (0)

#define UNHANDLED handled_ = 0

static int read_list_header(pq_tdec *d, int type, int16_t id, int want, uint32_t *n)
{
    int et;
    EXPECT(TC_LIST);
    TRY(pq_tdec_list_begin(d, &et, n));
    bool ints = (want == TC_I16 || want == TC_I32 || want == TC_I64) &&
                (et == TC_I16 || et == TC_I32 || et == TC_I64);
    if (*n && et != want && !(want == TC_TRUE && et == TC_FALSE) && !ints)
        return pq_tdec_error(d, "list field %d has element type %d, expected %d", id, et, want);
    return 0;
}

/* ---------------------------------------------------------------- structs */

static int dec_statistics(pq_statistics *s, pq_tdec *d)
{
    memset(s, 0, sizeof *s);
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_bytesf(d, type, id, &s->max)); break;
        case 2: TRY(read_bytesf(d, type, id, &s->min)); break;
        case 3: TRY(read_i64f(d, type, id, &s->null_count)); s->has_null_count = true; break;
        case 4: TRY(read_i64f(d, type, id, &s->distinct_count)); s->has_distinct_count = true;
            break;
        case 5: TRY(read_bytesf(d, type, id, &s->max_value)); break;
        case 6: TRY(read_bytesf(d, type, id, &s->min_value)); break;
        case 7: {
            int b;
            TRY(pq_tdec_field_bool(d, type, &b));
            s->has_max_exact = true;
            s->is_max_value_exact = b;
            break;
        }
        case 8: {
            int b;
            TRY(pq_tdec_field_bool(d, type, &b));
            s->has_min_exact = true;
            s->is_min_value_exact = b;
            break;
        }
        default: UNHANDLED;
    });
    return 0;
}

static int dec_unit(int *unit, pq_tdec *d)
{
    *unit = 0;
    STRUCT_LOOP(
        if (id >= 1 && id <= 3 && type == TC_STRUCT) {
            *unit = id;
            TRY(pq_tdec_skip(d, TC_STRUCT));
        } else {
            UNHANDLED;
        });
    return 0;
}

static int dec_decimal_lt(pq_logical_type *lt, pq_tdec *d)
{
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_i32f(d, type, id, &lt->scale)); break;
        case 2: TRY(read_i32f(d, type, id, &lt->precision)); break;
        default: UNHANDLED;
    });
    return 0;
}

static int dec_time_lt(pq_logical_type *lt, pq_tdec *d)
{
    STRUCT_LOOP(switch (id) {
        case 1: {
            int b;
            TRY(pq_tdec_field_bool(d, type, &b));
            lt->utc = b;
            break;
        }
        case 2:
            EXPECT(TC_STRUCT);
            TRY(dec_unit(&lt->unit, d));
            break;
        default: UNHANDLED;
    });
    return 0;
}

static int dec_int_lt(pq_logical_type *lt, pq_tdec *d)
{
    STRUCT_LOOP(switch (id) {
        case 1: {
            int8_t b;
            if (type != TC_BYTE)
                return pq_tdec_error(d, "integer bitWidth is not a byte");
            TRY(pq_tdec_byte(d, &b));
            lt->bit_width = b;
            break;
        }
        case 2: {
            int b;
            TRY(pq_tdec_field_bool(d, type, &b));
            lt->is_signed = b;
            break;
        }
        default: UNHANDLED;
    });
    return 0;
}

static int dec_logical(pq_logical_type *lt, pq_tdec *d)
{
    memset(lt, 0, sizeof *lt);
    STRUCT_LOOP(
        if (type != TC_STRUCT) {
            UNHANDLED;
        } else if (id == PQ_LT_DECIMAL) {
            lt->kind = PQ_LT_DECIMAL;
            TRY(dec_decimal_lt(lt, d));
        } else if (id == PQ_LT_TIME || id == PQ_LT_TIMESTAMP) {
            lt->kind = id;
            TRY(dec_time_lt(lt, d));
        } else if (id == PQ_LT_INTEGER) {
            lt->kind = PQ_LT_INTEGER;
            TRY(dec_int_lt(lt, d));
        } else {
            switch (id) {
            case PQ_LT_STRING: case PQ_LT_MAP: case PQ_LT_LIST: case PQ_LT_ENUM: case PQ_LT_DATE:
            case PQ_LT_UNKNOWN: case PQ_LT_JSON: case PQ_LT_BSON: case PQ_LT_UUID:
            case PQ_LT_FLOAT16: case PQ_LT_VARIANT: case PQ_LT_GEOMETRY: case PQ_LT_GEOGRAPHY:
                lt->kind = id;
                break;
            default:
                lt->kind = PQ_LT_OTHER;
            }
            TRY(pq_tdec_skip(d, TC_STRUCT));
        });
    return 0;
}

static int dec_schema_element(pq_schema_element *s, pq_tdec *d)
{
    memset(s, 0, sizeof *s);
    s->type = -1;
    s->repetition = -1;
    s->converted_type = -1;
    s->scale = s->precision = -1;
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_enum(d, type, id, &s->type)); break;
        case 2: TRY(read_i32f(d, type, id, &s->type_length)); break;
        case 3: TRY(read_enum(d, type, id, &s->repetition)); break;
        case 4: TRY(read_bytesf(d, type, id, &s->name)); break;
        case 5: TRY(read_i32f(d, type, id, &s->num_children)); break;
        case 6: TRY(read_enum(d, type, id, &s->converted_type)); break;
        case 7: TRY(read_i32f(d, type, id, &s->scale)); break;
        case 8: TRY(read_i32f(d, type, id, &s->precision)); break;
        case 9: TRY(read_i32f(d, type, id, &s->field_id)); s->has_field_id = true; break;
        case 10: EXPECT(TC_STRUCT); TRY(dec_logical(&s->logical, d)); break;
        default: UNHANDLED;
    });
    if (!s->name.ptr)
        return pq_tdec_error(d, "schema element without a name");
    return 0;
}

static int dec_kv(pq_kv *e, pq_tdec *d)
{
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_bytesf(d, type, id, &e->key)); break;
        case 2: TRY(read_bytesf(d, type, id, &e->value)); break;
        default: UNHANDLED;
    });
    if (!e->key.ptr)
        return pq_tdec_error(d, "key-value entry without a key");
    return 0;
}

static int dec_kv_list(pq_kv **out, uint32_t *n_out, pq_arena *a, pq_tdec *d, int type,
                       int16_t id)
{
    uint32_t n;
    TRY(read_list_header(d, type, id, TC_STRUCT, &n));
    pq_kv *kv = arena_array(a, n, sizeof *kv);
    if (!kv)
        return POND_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        TRY(dec_kv(&kv[i], d));
    *out = kv;
    *n_out = n;
    return 0;
}

static int dec_enc_stats(pq_page_encoding_stats *es, pq_tdec *d)
{
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_enum(d, type, id, &es->page_type)); break;
        case 2: TRY(read_enum(d, type, id, &es->encoding)); break;
        case 3: TRY(read_i32f(d, type, id, &es->count)); break;
        default: UNHANDLED;
    });
    return 0;
}

static int dec_column_meta(pq_column_meta *m, pq_arena *a, pq_tdec *d)
{
    bool seen[12] = {false};
    memset(m, 0, sizeof *m);
    m->index_page_offset = m->dictionary_page_offset = m->bloom_filter_offset = -1;
    m->bloom_filter_length = -1;
    STRUCT_LOOP(if (id > 0 && id < 12) seen[id] = true;
        switch (id) {
        case 1: TRY(read_enum(d, type, id, &m->type)); break;
        case 2: {
            TRY(read_list_header(d, type, id, TC_I32, &m->n_encodings));
            if (!(m->encodings = arena_array(a, m->n_encodings, sizeof *m->encodings)))
                return POND_ENOMEM;
            for (uint32_t i = 0; i < m->n_encodings; i++)
                TRY(pq_tdec_i32(d, &m->encodings[i]));
            break;
        }
        case 3: {
            TRY(read_list_header(d, type, id, TC_BINARY, &m->n_path));
            if (!(m->path = arena_array(a, m->n_path, sizeof *m->path)))
                return POND_ENOMEM;
            for (uint32_t i = 0; i < m->n_path; i++)
                TRY(pq_tdec_binary(d, &m->path[i].ptr, &m->path[i].len));
            break;
        }
        case 4: TRY(read_enum(d, type, id, &m->codec)); break;
        case 5: TRY(read_i64f(d, type, id, &m->num_values)); break;
        case 6: TRY(read_i64f(d, type, id, &m->total_uncompressed_size)); break;
        case 7: TRY(read_i64f(d, type, id, &m->total_compressed_size)); break;
        case 8: TRY(dec_kv_list(&m->kv, &m->n_kv, a, d, type, id)); break;
        case 9: TRY(read_i64f(d, type, id, &m->data_page_offset)); break;
        case 10: TRY(read_i64f(d, type, id, &m->index_page_offset)); break;
        case 11: TRY(read_i64f(d, type, id, &m->dictionary_page_offset)); break;
        case 12:
            EXPECT(TC_STRUCT);
            TRY(dec_statistics(&m->statistics, d));
            m->has_statistics = true;
            break;
        case 13: {
            TRY(read_list_header(d, type, id, TC_STRUCT, &m->n_encoding_stats));
            if (!(m->encoding_stats = arena_array(a, m->n_encoding_stats,
                                                  sizeof *m->encoding_stats)))
                return POND_ENOMEM;
            for (uint32_t i = 0; i < m->n_encoding_stats; i++)
                TRY(dec_enc_stats(&m->encoding_stats[i], d));
            break;
        }
        case 14: TRY(read_i64f(d, type, id, &m->bloom_filter_offset)); break;
        case 15: TRY(read_i32f(d, type, id, &m->bloom_filter_length)); break;
        default: UNHANDLED;
        });
    static const int required[] = {1, 2, 3, 4, 5, 6, 7, 9};
    for (size_t i = 0; i < POND_ARRAY_LEN(required); i++)
        if (!seen[required[i]])
            return pq_tdec_error(d, "column metadata lacks required field %d", required[i]);
    return 0;
}

static int dec_column_chunk(pq_column_chunk *c, pq_arena *a, pq_tdec *d)
{
    memset(c, 0, sizeof *c);
    c->offset_index_offset = c->column_index_offset = -1;
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_bytesf(d, type, id, &c->file_path)); break;
        case 2: TRY(read_i64f(d, type, id, &c->file_offset)); break;
        case 3:
            EXPECT(TC_STRUCT);
            TRY(dec_column_meta(&c->meta_data, a, d));
            c->has_meta_data = true;
            break;
        case 4: TRY(read_i64f(d, type, id, &c->offset_index_offset)); break;
        case 5: TRY(read_i32f(d, type, id, &c->offset_index_length)); break;
        case 6: TRY(read_i64f(d, type, id, &c->column_index_offset)); break;
        case 7: TRY(read_i32f(d, type, id, &c->column_index_length)); break;
        case 8: case 9:
            c->encrypted = true;
            UNHANDLED;
            break;
        default: UNHANDLED;
    });
    return 0;
}

static int dec_sorting(pq_sorting_column *sc, pq_tdec *d)
{
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_i32f(d, type, id, &sc->column_idx)); break;
        case 2: {
            int b;
            TRY(pq_tdec_field_bool(d, type, &b));
            sc->descending = b;
            break;
        }
        case 3: {
            int b;
            TRY(pq_tdec_field_bool(d, type, &b));
            sc->nulls_first = b;
            break;
        }
        default: UNHANDLED;
    });
    return 0;
}

static int dec_row_group(pq_row_group *rg, pq_arena *a, pq_tdec *d)
{
    bool has_rows = false;
    memset(rg, 0, sizeof *rg);
    rg->file_offset = rg->total_compressed_size = -1;
    rg->ordinal = -1;
    STRUCT_LOOP(switch (id) {
        case 1: {
            TRY(read_list_header(d, type, id, TC_STRUCT, &rg->n_columns));
            if (!(rg->columns = arena_array(a, rg->n_columns, sizeof *rg->columns)))
                return POND_ENOMEM;
            for (uint32_t i = 0; i < rg->n_columns; i++)
                TRY(dec_column_chunk(&rg->columns[i], a, d));
            break;
        }
        case 2: TRY(read_i64f(d, type, id, &rg->total_byte_size)); break;
        case 3: TRY(read_i64f(d, type, id, &rg->num_rows)); has_rows = true; break;
        case 4: {
            TRY(read_list_header(d, type, id, TC_STRUCT, &rg->n_sorting));
            if (!(rg->sorting = arena_array(a, rg->n_sorting, sizeof *rg->sorting)))
                return POND_ENOMEM;
            for (uint32_t i = 0; i < rg->n_sorting; i++)
                TRY(dec_sorting(&rg->sorting[i], d));
            break;
        }
        case 5: TRY(read_i64f(d, type, id, &rg->file_offset)); break;
        case 6: TRY(read_i64f(d, type, id, &rg->total_compressed_size)); break;
        case 7: {
            int16_t v;
            EXPECT(TC_I16);
            TRY(pq_tdec_i16(d, &v));
            rg->ordinal = v;
            break;
        }
        default: UNHANDLED;
    });
    if (!has_rows)
        return pq_tdec_error(d, "row group lacks num_rows");
    if (rg->num_rows < 0)
        return pq_tdec_error(d, "row group has negative num_rows");
    return 0;
}

int pq_decode_file_meta(pq_file_meta *m, pq_arena *a, pq_tdec *d)
{
    bool has_schema = false, has_rows = false;
    memset(m, 0, sizeof *m);
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_i32f(d, type, id, &m->version)); break;
        case 2: {
            TRY(read_list_header(d, type, id, TC_STRUCT, &m->n_schema));
            if (!(m->schema = arena_array(a, m->n_schema, sizeof *m->schema)))
                return POND_ENOMEM;
            for (uint32_t i = 0; i < m->n_schema; i++)
                TRY(dec_schema_element(&m->schema[i], d));
            has_schema = true;
            break;
        }
        case 3: TRY(read_i64f(d, type, id, &m->num_rows)); has_rows = true; break;
        case 4: {
            TRY(read_list_header(d, type, id, TC_STRUCT, &m->n_row_groups));
            if (!(m->row_groups = arena_array(a, m->n_row_groups, sizeof *m->row_groups)))
                return POND_ENOMEM;
            for (uint32_t i = 0; i < m->n_row_groups; i++)
                TRY(dec_row_group(&m->row_groups[i], a, d));
            break;
        }
        case 5: TRY(dec_kv_list(&m->kv, &m->n_kv, a, d, type, id)); break;
        case 6: TRY(read_bytesf(d, type, id, &m->created_by)); break;
        case 7: {
            uint32_t n;
            TRY(read_list_header(d, type, id, TC_STRUCT, &n));
            for (uint32_t i = 0; i < n; i++)
                TRY(pq_tdec_skip(d, TC_STRUCT));
            m->n_column_orders = n;
            break;
        }
        case 8: m->encrypted_algorithm = true; UNHANDLED; break;
        default: UNHANDLED;
    });
    if (!has_schema || m->n_schema == 0)
        return pq_tdec_error(d, "file metadata has no schema");
    if (!has_rows || m->num_rows < 0)
        return pq_tdec_error(d, "file metadata lacks a valid num_rows");
    return 0;
}

static int dec_dph(pq_data_page_header *p, pq_tdec *d)
{
    bool nv = false;
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_i32f(d, type, id, &p->num_values)); nv = true; break;
        case 2: TRY(read_enum(d, type, id, &p->encoding)); break;
        case 3: TRY(read_enum(d, type, id, &p->def_encoding)); break;
        case 4: TRY(read_enum(d, type, id, &p->rep_encoding)); break;
        case 5:
            EXPECT(TC_STRUCT);
            TRY(dec_statistics(&p->statistics, d));
            p->has_statistics = true;
            break;
        default: UNHANDLED;
    });
    if (!nv)
        return pq_tdec_error(d, "data page header lacks num_values");
    return 0;
}

static int dec_dict_ph(pq_dict_page_header *p, pq_tdec *d)
{
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_i32f(d, type, id, &p->num_values)); break;
        case 2: TRY(read_enum(d, type, id, &p->encoding)); break;
        case 3: {
            int b;
            TRY(pq_tdec_field_bool(d, type, &b));
            p->has_is_sorted = true;
            p->is_sorted = b;
            break;
        }
        default: UNHANDLED;
    });
    return 0;
}

static int dec_dph2(pq_data_page_header_v2 *p, pq_tdec *d)
{
    p->is_compressed = true;
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_i32f(d, type, id, &p->num_values)); break;
        case 2: TRY(read_i32f(d, type, id, &p->num_nulls)); break;
        case 3: TRY(read_i32f(d, type, id, &p->num_rows)); break;
        case 4: TRY(read_enum(d, type, id, &p->encoding)); break;
        case 5: TRY(read_i32f(d, type, id, &p->def_levels_byte_length)); break;
        case 6: TRY(read_i32f(d, type, id, &p->rep_levels_byte_length)); break;
        case 7: {
            int b;
            TRY(pq_tdec_field_bool(d, type, &b));
            p->is_compressed = b;
            break;
        }
        case 8:
            EXPECT(TC_STRUCT);
            TRY(dec_statistics(&p->statistics, d));
            p->has_statistics = true;
            break;
        default: UNHANDLED;
    });
    return 0;
}

int pq_decode_page_header(pq_page_header *h, pq_tdec *d)
{
    bool has_type = false, has_u = false, has_c = false;
    memset(h, 0, sizeof *h);
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_enum(d, type, id, &h->type)); has_type = true; break;
        case 2: TRY(read_i32f(d, type, id, &h->uncompressed_page_size)); has_u = true; break;
        case 3: TRY(read_i32f(d, type, id, &h->compressed_page_size)); has_c = true; break;
        case 4: TRY(read_i32f(d, type, id, &h->crc)); h->has_crc = true; break;
        case 5:
            EXPECT(TC_STRUCT);
            h->has_data = true;
            TRY(dec_dph(&h->data, d));
            break;
        case 7:
            EXPECT(TC_STRUCT);
            h->has_dict = true;
            TRY(dec_dict_ph(&h->dict, d));
            break;
        case 8:
            EXPECT(TC_STRUCT);
            h->has_data_v2 = true;
            TRY(dec_dph2(&h->data_v2, d));
            break;
        default: UNHANDLED;
    });
    if (!has_type || !has_u || !has_c)
        return pq_tdec_error(d, "page header lacks type or sizes");
    if (h->uncompressed_page_size < 0 || h->compressed_page_size < 0)
        return pq_tdec_error(d, "page header has a negative size");
    return 0;
}

static int dec_page_loc(pq_page_location *pl, pq_tdec *d)
{
    STRUCT_LOOP(switch (id) {
        case 1: TRY(read_i64f(d, type, id, &pl->offset)); break;
        case 2: TRY(read_i32f(d, type, id, &pl->compressed_page_size)); break;
        case 3: TRY(read_i64f(d, type, id, &pl->first_row_index)); break;
        default: UNHANDLED;
    });
    return 0;
}

int pq_decode_offset_index(pq_offset_index *oi, pq_arena *a, pq_tdec *d)
{
    memset(oi, 0, sizeof *oi);
    STRUCT_LOOP(switch (id) {
        case 1: {
            TRY(read_list_header(d, type, id, TC_STRUCT, &oi->n_pages));
            if (!(oi->pages = arena_array(a, oi->n_pages, sizeof *oi->pages)))
                return POND_ENOMEM;
            for (uint32_t i = 0; i < oi->n_pages; i++)
                TRY(dec_page_loc(&oi->pages[i], d));
            break;
        }
        default: UNHANDLED;
    });
    return 0;
}

static int dec_bytes_list(pq_bytes **out, uint32_t *n, pq_arena *a, pq_tdec *d, int type,
                          int16_t id)
{
    TRY(read_list_header(d, type, id, TC_BINARY, n));
    if (!(*out = arena_array(a, *n, sizeof **out)))
        return POND_ENOMEM;
    for (uint32_t i = 0; i < *n; i++)
        TRY(pq_tdec_binary(d, &(*out)[i].ptr, &(*out)[i].len));
    return 0;
}

int pq_decode_column_index(pq_column_index *ci, pq_arena *a, pq_tdec *d)
{
    uint32_t n_min = 0, n_max = 0;
    memset(ci, 0, sizeof *ci);
    STRUCT_LOOP(switch (id) {
        case 1: {
            TRY(read_list_header(d, type, id, TC_TRUE, &ci->n_pages));
            if (!(ci->null_pages = arena_array(a, ci->n_pages, sizeof *ci->null_pages)))
                return POND_ENOMEM;
            for (uint32_t i = 0; i < ci->n_pages; i++) {
                int b;
                TRY(pq_tdec_list_bool(d, TC_TRUE, &b));
                ci->null_pages[i] = b;
            }
            break;
        }
        case 2: TRY(dec_bytes_list(&ci->min_values, &n_min, a, d, type, id)); break;
        case 3: TRY(dec_bytes_list(&ci->max_values, &n_max, a, d, type, id)); break;
        case 4: TRY(read_enum(d, type, id, &ci->boundary_order)); break;
        case 5: {
            TRY(read_list_header(d, type, id, TC_I64, &ci->n_null_counts));
            if (!(ci->null_counts = arena_array(a, ci->n_null_counts, sizeof *ci->null_counts)))
                return POND_ENOMEM;
            for (uint32_t i = 0; i < ci->n_null_counts; i++)
                TRY(pq_tdec_i64(d, &ci->null_counts[i]));
            break;
        }
        default: UNHANDLED;
    });
    if (n_min != ci->n_pages || n_max != ci->n_pages ||
        (ci->n_null_counts && ci->n_null_counts != ci->n_pages))
        return pq_tdec_error(d, "column index lists have different lengths");
    return 0;
}

/* ---------------------------------------------------------------- names */

const char *pq_type_name(int t)
{
    static const char *n[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE",
                              "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < 8 ? n[t] : "?";
}

const char *pq_encoding_name(int e)
{
    static const char *n[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
                              "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                              "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return e >= 0 && e < 10 ? n[e] : "?";
}

const char *pq_codec_name(int c)
{
    static const char *n[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD",
                              "LZ4_RAW"};
    return c >= 0 && c < 8 ? n[c] : "?";
}

const char *pq_converted_name(int c)
{
    static const char *n[] = {"UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE",
                              "TIME_MILLIS", "TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS",
                              "UINT_8", "UINT_16", "UINT_32", "UINT_64", "INT_8", "INT_16",
                              "INT_32", "INT_64", "JSON", "BSON", "INTERVAL"};
    return c >= 0 && c < 22 ? n[c] : "?";
}

const char *pq_repetition_name(int r)
{
    static const char *n[] = {"required", "optional", "repeated"};
    return r >= 0 && r < 3 ? n[r] : "?";
}

const char *pq_page_type_name(int t)
{
    static const char *n[] = {"DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE", "DATA_PAGE_V2"};
    return t >= 0 && t < 4 ? n[t] : "?";
}
