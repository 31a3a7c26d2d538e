/* Decoding parquet.thrift structs from the compact protocol. Unknown fields are skipped; so are
 * optional fields of another wire type than the schema's where decoding does not depend on them
 * (noted in the decoder's skip list), while any other mistyped field is an error naming it. */
#include "parquet/pq_meta.h"

#include "util/util.h"

#include <string.h>

static void *arena_array(pq_arena *a, uint32_t n, size_t elem)
{
    return pond__arena_zalloc(a, (size_t)(n ? n : 1) * elem);
}

/* ---------------------------------------------------------------- helpers */

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ < 0)                                                                               \
            return rc_;                                                                            \
    } while (0)

/* Field names for messages, by id (parquet.thrift). */
#define STRUCT_NAMES(var, name, ...)                                                               \
    static const char *const var##_fields[] = {NULL, __VA_ARGS__};                                 \
    static const pq_tstruct var = {name, var##_fields, (int)POND_ARRAY_LEN(var##_fields)}

STRUCT_NAMES(S_FILE, "file metadata", "version", "schema", "num_rows", "row_groups",
             "key_value_metadata", "created_by", "column_orders", "encryption_algorithm",
             "footer_signing_key_metadata");
STRUCT_NAMES(S_SCHEMA, "schema element", "type", "type_length", "repetition_type", "name",
             "num_children", "converted_type", "scale", "precision", "field_id", "logicalType");
STRUCT_NAMES(S_RG, "row group", "columns", "total_byte_size", "num_rows", "sorting_columns",
             "file_offset", "total_compressed_size", "ordinal");
STRUCT_NAMES(S_CHUNK, "column chunk", "file_path", "file_offset", "meta_data",
             "offset_index_offset", "offset_index_length", "column_index_offset",
             "column_index_length", "crypto_metadata", "encrypted_column_metadata");
STRUCT_NAMES(S_CMETA, "column metadata", "type", "encodings", "path_in_schema", "codec",
             "num_values", "total_uncompressed_size", "total_compressed_size", "key_value_metadata",
             "data_page_offset", "index_page_offset", "dictionary_page_offset", "statistics",
             "encoding_stats", "bloom_filter_offset", "bloom_filter_length", "size_statistics",
             "geospatial_statistics");
STRUCT_NAMES(S_STATS, "statistics", "max", "min", "null_count", "distinct_count", "max_value",
             "min_value", "is_max_value_exact", "is_min_value_exact");
STRUCT_NAMES(S_KV, "key-value", "key", "value");
STRUCT_NAMES(S_SORT, "sorting column", "column_idx", "descending", "nulls_first");
STRUCT_NAMES(S_ENCSTATS, "page encoding stats", "page_type", "encoding", "count");
STRUCT_NAMES(S_LOGICAL, "logical type", "STRING", "MAP", "LIST", "ENUM", "DECIMAL", "DATE", "TIME",
             "TIMESTAMP", NULL, "INTEGER", "UNKNOWN", "JSON", "BSON", "UUID", "FLOAT16", "VARIANT",
             "GEOMETRY", "GEOGRAPHY");
STRUCT_NAMES(S_DECIMAL, "decimal logical type", "scale", "precision");
STRUCT_NAMES(S_TIME, "time logical type", "isAdjustedToUTC", "unit");
STRUCT_NAMES(S_UNIT, "time unit", "MILLIS", "MICROS", "NANOS");
STRUCT_NAMES(S_INT, "integer logical type", "bitWidth", "isSigned");
STRUCT_NAMES(S_PAGE, "page header", "type", "uncompressed_page_size", "compressed_page_size", "crc",
             "data_page_header", "index_page_header", "dictionary_page_header",
             "data_page_header_v2");
STRUCT_NAMES(S_DPH, "data page header", "num_values", "encoding", "definition_level_encoding",
             "repetition_level_encoding", "statistics");
STRUCT_NAMES(S_DICTPH, "dictionary page header", "num_values", "encoding", "is_sorted");
STRUCT_NAMES(S_DPH2, "data page header v2", "num_values", "num_nulls", "num_rows", "encoding",
             "definition_levels_byte_length", "repetition_levels_byte_length", "is_compressed",
             "statistics");
STRUCT_NAMES(S_PAGELOC, "page location", "offset", "compressed_page_size", "first_row_index");
STRUCT_NAMES(S_OFFIDX, "offset index", "page_locations", "unencoded_byte_array_data_bytes");
STRUCT_NAMES(S_COLIDX, "column index", "null_pages", "min_values", "max_values", "boundary_order",
             "null_counts", "repetition_level_histograms", "definition_level_histograms");

/* A required field, or one decoding depends on: a wrong wire type is an error naming it. */
#define EXPECT(t) TRY(pond_pq_tdec_expect(d, type, (t), id))

/* An optional field decoding does not depend on: with a wrong wire type it is skipped and
 * noted (Thrift's rule), which ends this `case` of the field switch. Use only directly in a
 * switch case. */
#define OPTIONAL(t)                                                                                \
    {                                                                                              \
        int ok_ = pond_pq_tdec_optional(d, type, (t), id);                                         \
        if (ok_ < 0)                                                                               \
            return ok_;                                                                            \
        if (ok_ == 0)                                                                              \
            break;                                                                                 \
    }

static int read_i32f(pq_tdec *d, int type, int16_t id, int32_t *out)
{
    EXPECT(TC_I32);
    return pond_pq_tdec_i32(d, out);
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
    EXPECT(TC_I64);
    return pond_pq_tdec_i64(d, out);
}

static int read_bytesf(pq_tdec *d, int type, int16_t id, pq_bytes *out)
{
    EXPECT(TC_BINARY);
    TRY(pond_pq_tdec_binary(d, &out->ptr, &out->len));
    if (!out->ptr)
        out->ptr = (const uint8_t *)"";
    return 0;
}

static int read_boolf(pq_tdec *d, int type, int16_t id, bool *out)
{
    int b;
    EXPECT(TC_TRUE);
    TRY(pond_pq_tdec_field_bool(d, type, &b));
    *out = b;
    return 0;
}

/* A STRUCT loop over the fields of struct `desc`: `body` handles field `id` of `type`,
 * falling back to skipping. */
#define STRUCT_LOOP(desc, body)                                                                    \
    do {                                                                                           \
        pq_tframe fr_;                                                                             \
        int type;                                                                                  \
        int16_t id;                                                                                \
        TRY(pond_pq_tdec_struct_begin(d, &fr_, (desc)));                                           \
        for (;;) {                                                                                 \
            TRY(pond_pq_tdec_next_field(d, &fr_, &type, &id));                                     \
            if (type == TC_STOP)                                                                   \
                break;                                                                             \
            int handled_ = 1;                                                                      \
            body if (!handled_) TRY(pond_pq_tdec_skip(d, type));                                   \
        }                                                                                          \
        pond_pq_tdec_struct_end(d, &fr_);                                                          \
    } while (0)

#define UNHANDLED handled_ = 0

static bool elem_matches(int et, int want)
{
    bool ints = (want == TC_I16 || want == TC_I32 || want == TC_I64) &&
                (et == TC_I16 || et == TC_I32 || et == TC_I64);
    bool bools = (want == TC_TRUE || want == TC_FALSE) && (et == TC_TRUE || et == TC_FALSE);
    return et == want || ints || bools;
}

/* A list field whose elements must have type `want` (an empty list may have any). */
static int read_list_header(pq_tdec *d, int type, int16_t id, int want, uint32_t *n)
{
    int et;
    if (type != TC_LIST)
        return pond_pq_tdec_expect(d, type, PQ_TLIST_OF + want, id);
    TRY(pond_pq_tdec_list_begin(d, &et, n));
    if (*n && !elem_matches(et, want))
        return pond_pq_tdec_expect(d, PQ_TLIST_OF + et, PQ_TLIST_OF + want, id);
    return 0;
}

/* An optional list field decoding does not depend on: 1 with *n elements of type `want` to
 * read; 0 when the field or its elements have another type and it was skipped and noted. */
static int read_opt_list(pq_tdec *d, int type, int16_t id, int want, uint32_t *n)
{
    if (type != TC_LIST)
        return pond_pq_tdec_optional(d, type, PQ_TLIST_OF + want, id);
    const uint8_t *at = d->p;
    int et;
    TRY(pond_pq_tdec_list_begin(d, &et, n));
    if (*n == 0 || elem_matches(et, want))
        return 1;
    if (!d->skips)
        return pond_pq_tdec_expect(d, PQ_TLIST_OF + et, PQ_TLIST_OF + want, id);
    int64_t off = pond_pq_tdec_offset(d);
    d->p = at;
    TRY(pond_pq_tdec_skip(d, TC_LIST));
    pond_pq_tdec_note_skip(d, id, PQ_TLIST_OF + et, PQ_TLIST_OF + want, off);
    return 0;
}

/* ---------------------------------------------------------------- structs */

/* Statistics: nothing in them is needed to decode a page (they only prune), so each field
 * with a wrong wire type is skipped on its own. */
static int dec_statistics(pq_statistics *s, pq_tdec *d)
{
    memset(s, 0, sizeof *s);
    STRUCT_LOOP(
        &S_STATS, switch (id) {
            case 1:
                OPTIONAL(TC_BINARY);
                TRY(read_bytesf(d, type, id, &s->max));
                break;
            case 2:
                OPTIONAL(TC_BINARY);
                TRY(read_bytesf(d, type, id, &s->min));
                break;
            case 3:
                OPTIONAL(TC_I64);
                TRY(read_i64f(d, type, id, &s->null_count));
                s->has_null_count = true;
                break;
            case 4:
                OPTIONAL(TC_I64);
                TRY(read_i64f(d, type, id, &s->distinct_count));
                s->has_distinct_count = true;
                break;
            case 5:
                OPTIONAL(TC_BINARY);
                TRY(read_bytesf(d, type, id, &s->max_value));
                break;
            case 6:
                OPTIONAL(TC_BINARY);
                TRY(read_bytesf(d, type, id, &s->min_value));
                break;
            case 7:
                OPTIONAL(TC_TRUE);
                TRY(read_boolf(d, type, id, &s->is_max_value_exact));
                s->has_max_exact = true;
                break;
            case 8:
                OPTIONAL(TC_TRUE);
                TRY(read_boolf(d, type, id, &s->is_min_value_exact));
                s->has_min_exact = true;
                break;
            default:
                UNHANDLED;
        });
    return 0;
}

static int dec_unit(int *unit, pq_tdec *d)
{
    *unit = 0;
    STRUCT_LOOP(
        &S_UNIT,
        if (id >= 1 && id <= 3) {
            EXPECT(TC_STRUCT);
            *unit = id;
            TRY(pond_pq_tdec_skip(d, TC_STRUCT));
        } else { UNHANDLED; });
    return 0;
}

static int dec_decimal_lt(pq_logical_type *lt, pq_tdec *d)
{
    STRUCT_LOOP(
        &S_DECIMAL, switch (id) {
            case 1:
                TRY(read_i32f(d, type, id, &lt->scale));
                break;
            case 2:
                TRY(read_i32f(d, type, id, &lt->precision));
                break;
            default:
                UNHANDLED;
        });
    return 0;
}

static int dec_time_lt(pq_logical_type *lt, pq_tdec *d)
{
    STRUCT_LOOP(
        &S_TIME, switch (id) {
            case 1:
                TRY(read_boolf(d, type, id, &lt->utc));
                break;
            case 2:
                EXPECT(TC_STRUCT);
                TRY(dec_unit(&lt->unit, d));
                break;
            default:
                UNHANDLED;
        });
    return 0;
}

static int dec_int_lt(pq_logical_type *lt, pq_tdec *d)
{
    STRUCT_LOOP(
        &S_INT, switch (id) {
            case 1: {
                int8_t b;
                EXPECT(TC_BYTE);
                TRY(pond_pq_tdec_byte(d, &b));
                lt->bit_width = b;
                break;
            }
            case 2:
                TRY(read_boolf(d, type, id, &lt->is_signed));
                break;
            default:
                UNHANDLED;
        });
    return 0;
}

/* The LogicalType union decides how values decode: a known member of another wire type than
 * a struct is an error; an unknown member is a logical type this reader does not know. */
static int dec_logical(pq_logical_type *lt, pq_tdec *d)
{
    memset(lt, 0, sizeof *lt);
    STRUCT_LOOP(
        &S_LOGICAL, switch (id) {
            case PQ_LT_DECIMAL:
                EXPECT(TC_STRUCT);
                lt->kind = PQ_LT_DECIMAL;
                TRY(dec_decimal_lt(lt, d));
                break;
            case PQ_LT_TIME:
            case PQ_LT_TIMESTAMP:
                EXPECT(TC_STRUCT);
                lt->kind = id;
                TRY(dec_time_lt(lt, d));
                break;
            case PQ_LT_INTEGER:
                EXPECT(TC_STRUCT);
                lt->kind = PQ_LT_INTEGER;
                TRY(dec_int_lt(lt, d));
                break;
            case PQ_LT_STRING:
            case PQ_LT_MAP:
            case PQ_LT_LIST:
            case PQ_LT_ENUM:
            case PQ_LT_DATE:
            case PQ_LT_UNKNOWN:
            case PQ_LT_JSON:
            case PQ_LT_BSON:
            case PQ_LT_UUID:
            case PQ_LT_FLOAT16:
            case PQ_LT_VARIANT:
            case PQ_LT_GEOMETRY:
            case PQ_LT_GEOGRAPHY:
                EXPECT(TC_STRUCT);
                lt->kind = id;
                TRY(pond_pq_tdec_skip(d, TC_STRUCT));
                break;
            default:
                lt->kind = PQ_LT_OTHER;
                UNHANDLED;
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
    STRUCT_LOOP(
        &S_SCHEMA, switch (id) {
            case 1:
                TRY(read_enum(d, type, id, &s->type));
                break;
            case 2:
                TRY(read_i32f(d, type, id, &s->type_length));
                break;
            case 3:
                TRY(read_enum(d, type, id, &s->repetition));
                break;
            case 4:
                TRY(read_bytesf(d, type, id, &s->name));
                break;
            case 5:
                TRY(read_i32f(d, type, id, &s->num_children));
                break;
            case 6:
                TRY(read_enum(d, type, id, &s->converted_type));
                break;
            case 7:
                TRY(read_i32f(d, type, id, &s->scale));
                break;
            case 8:
                TRY(read_i32f(d, type, id, &s->precision));
                break;
            case 9:
                OPTIONAL(TC_I32);
                TRY(read_i32f(d, type, id, &s->field_id));
                s->has_field_id = true;
                break;
            case 10:
                EXPECT(TC_STRUCT);
                TRY(dec_logical(&s->logical, d));
                break;
            default:
                UNHANDLED;
        });
    if (!s->name.ptr)
        return pond_pq_tdec_error(d, "schema element without a name");
    return 0;
}

static int dec_kv(pq_kv *e, pq_tdec *d)
{
    STRUCT_LOOP(
        &S_KV, switch (id) {
            case 1:
                TRY(read_bytesf(d, type, id, &e->key));
                break;
            case 2:
                OPTIONAL(TC_BINARY);
                TRY(read_bytesf(d, type, id, &e->value));
                break;
            default:
                UNHANDLED;
        });
    if (!e->key.ptr)
        return pond_pq_tdec_error(d, "key-value entry without a key");
    return 0;
}

/* key_value_metadata (optional): 1 when read, 0 when skipped for its wire type. */
static int dec_kv_list(pq_kv **out, uint32_t *n_out, pq_arena *a, pq_tdec *d, int type, int16_t id)
{
    uint32_t n;
    int rc = read_opt_list(d, type, id, TC_STRUCT, &n);
    if (rc <= 0)
        return rc;
    pq_kv *kv = arena_array(a, n, sizeof *kv);
    if (!kv)
        return POND_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        TRY(dec_kv(&kv[i], d));
    *out = kv;
    *n_out = n;
    return 1;
}

static int dec_enc_stats(pq_page_encoding_stats *es, pq_tdec *d)
{
    STRUCT_LOOP(
        &S_ENCSTATS, switch (id) {
            case 1:
                TRY(read_enum(d, type, id, &es->page_type));
                break;
            case 2:
                TRY(read_enum(d, type, id, &es->encoding));
                break;
            case 3:
                TRY(read_i32f(d, type, id, &es->count));
                break;
            default:
                UNHANDLED;
        });
    return 0;
}

static int dec_column_meta(pq_column_meta *m, pq_arena *a, pq_tdec *d)
{
    bool seen[12] = {false};
    memset(m, 0, sizeof *m);
    m->index_page_offset = m->dictionary_page_offset = m->bloom_filter_offset = -1;
    m->bloom_filter_length = -1;
    STRUCT_LOOP(
        &S_CMETA, if (id > 0 && id < 12) seen[id] = true; switch (id) {
            case 1:
                TRY(read_enum(d, type, id, &m->type));
                break;
            case 2: {
                TRY(read_list_header(d, type, id, TC_I32, &m->n_encodings));
                if (!(m->encodings = arena_array(a, m->n_encodings, sizeof *m->encodings)))
                    return POND_ENOMEM;
                for (uint32_t i = 0; i < m->n_encodings; i++)
                    TRY(pond_pq_tdec_i32(d, &m->encodings[i]));
                break;
            }
            case 3: {
                TRY(read_list_header(d, type, id, TC_BINARY, &m->n_path));
                if (!(m->path = arena_array(a, m->n_path, sizeof *m->path)))
                    return POND_ENOMEM;
                for (uint32_t i = 0; i < m->n_path; i++)
                    TRY(pond_pq_tdec_binary(d, &m->path[i].ptr, &m->path[i].len));
                break;
            }
            case 4:
                TRY(read_enum(d, type, id, &m->codec));
                break;
            case 5:
                TRY(read_i64f(d, type, id, &m->num_values));
                break;
            case 6:
                TRY(read_i64f(d, type, id, &m->total_uncompressed_size));
                break;
            case 7:
                TRY(read_i64f(d, type, id, &m->total_compressed_size));
                break;
            case 8:
                TRY(dec_kv_list(&m->kv, &m->n_kv, a, d, type, id));
                break;
            case 9:
                TRY(read_i64f(d, type, id, &m->data_page_offset));
                break;
            case 10:
                OPTIONAL(TC_I64);
                TRY(read_i64f(d, type, id, &m->index_page_offset));
                break;
            /* where the chunk starts: decoding depends on it */
            case 11:
                TRY(read_i64f(d, type, id, &m->dictionary_page_offset));
                break;
            case 12:
                OPTIONAL(TC_STRUCT);
                TRY(dec_statistics(&m->statistics, d));
                m->has_statistics = true;
                break;
            case 13: {
                uint32_t n;
                int rc = read_opt_list(d, type, id, TC_STRUCT, &n);
                if (rc <= 0) {
                    TRY(rc);
                    break;
                }
                m->n_encoding_stats = n;
                if (!(m->encoding_stats = arena_array(a, n, sizeof *m->encoding_stats)))
                    return POND_ENOMEM;
                for (uint32_t i = 0; i < n; i++)
                    TRY(dec_enc_stats(&m->encoding_stats[i], d));
                break;
            }
            case 14:
                OPTIONAL(TC_I64);
                TRY(read_i64f(d, type, id, &m->bloom_filter_offset));
                break;
            case 15:
                OPTIONAL(TC_I32);
                TRY(read_i32f(d, type, id, &m->bloom_filter_length));
                break;
            default:
                UNHANDLED;
        });
    static const int required[] = {1, 2, 3, 4, 5, 6, 7, 9};
    for (size_t i = 0; i < POND_ARRAY_LEN(required); i++)
        if (!seen[required[i]])
            return pond_pq_tdec_error(d, "column metadata lacks required field '%s' (%d)",
                                      S_CMETA_fields[required[i]], required[i]);
    return 0;
}

static int dec_column_chunk(pq_column_chunk *c, pq_arena *a, pq_tdec *d)
{
    memset(c, 0, sizeof *c);
    c->offset_index_offset = c->column_index_offset = -1;
    STRUCT_LOOP(
        &S_CHUNK, switch (id) {
            case 1:
                TRY(read_bytesf(d, type, id, &c->file_path));
                break;
            case 2:
                TRY(read_i64f(d, type, id, &c->file_offset));
                break;
            case 3:
                EXPECT(TC_STRUCT);
                TRY(dec_column_meta(&c->meta_data, a, d));
                c->has_meta_data = true;
                break;
            case 4:
                OPTIONAL(TC_I64);
                TRY(read_i64f(d, type, id, &c->offset_index_offset));
                break;
            case 5:
                OPTIONAL(TC_I32);
                TRY(read_i32f(d, type, id, &c->offset_index_length));
                break;
            case 6:
                OPTIONAL(TC_I64);
                TRY(read_i64f(d, type, id, &c->column_index_offset));
                break;
            case 7:
                OPTIONAL(TC_I32);
                TRY(read_i32f(d, type, id, &c->column_index_length));
                break;
            case 8:
            case 9:
                c->encrypted = true;
                UNHANDLED;
                break;
            default:
                UNHANDLED;
        });
    return 0;
}

static int dec_sorting(pq_sorting_column *sc, pq_tdec *d)
{
    STRUCT_LOOP(
        &S_SORT, switch (id) {
            case 1:
                TRY(read_i32f(d, type, id, &sc->column_idx));
                break;
            case 2:
                TRY(read_boolf(d, type, id, &sc->descending));
                break;
            case 3:
                TRY(read_boolf(d, type, id, &sc->nulls_first));
                break;
            default:
                UNHANDLED;
        });
    return 0;
}

static int dec_row_group(pq_row_group *rg, pq_arena *a, pq_tdec *d)
{
    bool has_rows = false;
    memset(rg, 0, sizeof *rg);
    rg->file_offset = rg->total_compressed_size = -1;
    rg->ordinal = -1;
    STRUCT_LOOP(
        &S_RG, switch (id) {
            case 1: {
                TRY(read_list_header(d, type, id, TC_STRUCT, &rg->n_columns));
                if (!(rg->columns = arena_array(a, rg->n_columns, sizeof *rg->columns)))
                    return POND_ENOMEM;
                for (uint32_t i = 0; i < rg->n_columns; i++)
                    TRY(dec_column_chunk(&rg->columns[i], a, d));
                break;
            }
            case 2:
                TRY(read_i64f(d, type, id, &rg->total_byte_size));
                break;
            case 3:
                TRY(read_i64f(d, type, id, &rg->num_rows));
                has_rows = true;
                break;
            case 4: {
                uint32_t n;
                int rc = read_opt_list(d, type, id, TC_STRUCT, &n);
                if (rc <= 0) {
                    TRY(rc);
                    break;
                }
                rg->n_sorting = n;
                if (!(rg->sorting = arena_array(a, n, sizeof *rg->sorting)))
                    return POND_ENOMEM;
                for (uint32_t i = 0; i < n; i++)
                    TRY(dec_sorting(&rg->sorting[i], d));
                break;
            }
            case 5:
                OPTIONAL(TC_I64);
                TRY(read_i64f(d, type, id, &rg->file_offset));
                break;
            case 6:
                OPTIONAL(TC_I64);
                TRY(read_i64f(d, type, id, &rg->total_compressed_size));
                break;
            case 7: {
                int16_t v;
                OPTIONAL(TC_I16);
                TRY(pond_pq_tdec_i16(d, &v));
                rg->ordinal = v;
                break;
            }
            default:
                UNHANDLED;
        });
    if (!has_rows)
        return pond_pq_tdec_error(d, "row group lacks num_rows");
    if (rg->num_rows < 0)
        return pond_pq_tdec_error(d, "row group has negative num_rows");
    return 0;
}

int pond_pq_decode_file_meta(pq_file_meta *m, pq_arena *a, pq_tdec *d)
{
    bool has_schema = false, has_rows = false;
    memset(m, 0, sizeof *m);
    STRUCT_LOOP(
        &S_FILE, switch (id) {
            case 1:
                TRY(read_i32f(d, type, id, &m->version));
                break;
            case 2: {
                TRY(read_list_header(d, type, id, TC_STRUCT, &m->n_schema));
                if (!(m->schema = arena_array(a, m->n_schema, sizeof *m->schema)))
                    return POND_ENOMEM;
                for (uint32_t i = 0; i < m->n_schema; i++)
                    TRY(dec_schema_element(&m->schema[i], d));
                has_schema = true;
                break;
            }
            case 3:
                TRY(read_i64f(d, type, id, &m->num_rows));
                has_rows = true;
                break;
            case 4: {
                TRY(read_list_header(d, type, id, TC_STRUCT, &m->n_row_groups));
                if (!(m->row_groups = arena_array(a, m->n_row_groups, sizeof *m->row_groups)))
                    return POND_ENOMEM;
                for (uint32_t i = 0; i < m->n_row_groups; i++)
                    TRY(dec_row_group(&m->row_groups[i], a, d));
                break;
            }
            case 5:
                TRY(dec_kv_list(&m->kv, &m->n_kv, a, d, type, id));
                break;
            case 6:
                OPTIONAL(TC_BINARY);
                TRY(read_bytesf(d, type, id, &m->created_by));
                break;
            case 7: {
                uint32_t n;
                int rc = read_opt_list(d, type, id, TC_STRUCT, &n);
                if (rc <= 0) {
                    TRY(rc);
                    break;
                }
                /* ColumnOrder unions: only TYPE_ORDER exists, so each is skipped whole */
                for (uint32_t i = 0; i < n; i++)
                    TRY(pond_pq_tdec_skip(d, TC_STRUCT));
                m->n_column_orders = n;
                break;
            }
            case 8:
                m->encrypted_algorithm = true;
                UNHANDLED;
                break;
            default:
                UNHANDLED;
        });
    if (!has_schema || m->n_schema == 0)
        return pond_pq_tdec_error(d, "file metadata has no schema");
    if (!has_rows || m->num_rows < 0)
        return pond_pq_tdec_error(d, "file metadata lacks a valid num_rows");
    return 0;
}

/* Page headers are decoded without a skip list (d->skips NULL): a mistyped field there is an
 * error, since the pages are read after the footer and on several threads, where no warning
 * could reach the caller. */
static int dec_dph(pq_data_page_header *p, pq_tdec *d)
{
    bool nv = false;
    STRUCT_LOOP(
        &S_DPH, switch (id) {
            case 1:
                TRY(read_i32f(d, type, id, &p->num_values));
                nv = true;
                break;
            case 2:
                TRY(read_enum(d, type, id, &p->encoding));
                break;
            case 3:
                TRY(read_enum(d, type, id, &p->def_encoding));
                break;
            case 4:
                TRY(read_enum(d, type, id, &p->rep_encoding));
                break;
            case 5:
                OPTIONAL(TC_STRUCT);
                TRY(dec_statistics(&p->statistics, d));
                p->has_statistics = true;
                break;
            default:
                UNHANDLED;
        });
    if (!nv)
        return pond_pq_tdec_error(d, "data page header lacks num_values");
    return 0;
}

static int dec_dict_ph(pq_dict_page_header *p, pq_tdec *d)
{
    STRUCT_LOOP(
        &S_DICTPH, switch (id) {
            case 1:
                TRY(read_i32f(d, type, id, &p->num_values));
                break;
            case 2:
                TRY(read_enum(d, type, id, &p->encoding));
                break;
            case 3:
                OPTIONAL(TC_TRUE);
                TRY(read_boolf(d, type, id, &p->is_sorted));
                p->has_is_sorted = true;
                break;
            default:
                UNHANDLED;
        });
    return 0;
}

static int dec_dph2(pq_data_page_header_v2 *p, pq_tdec *d)
{
    p->is_compressed = true;
    STRUCT_LOOP(
        &S_DPH2, switch (id) {
            case 1:
                TRY(read_i32f(d, type, id, &p->num_values));
                break;
            case 2:
                TRY(read_i32f(d, type, id, &p->num_nulls));
                break;
            case 3:
                TRY(read_i32f(d, type, id, &p->num_rows));
                break;
            case 4:
                TRY(read_enum(d, type, id, &p->encoding));
                break;
            case 5:
                TRY(read_i32f(d, type, id, &p->def_levels_byte_length));
                break;
            case 6:
                TRY(read_i32f(d, type, id, &p->rep_levels_byte_length));
                break;
            case 7:
                TRY(read_boolf(d, type, id, &p->is_compressed));
                break;
            case 8:
                OPTIONAL(TC_STRUCT);
                TRY(dec_statistics(&p->statistics, d));
                p->has_statistics = true;
                break;
            default:
                UNHANDLED;
        });
    return 0;
}

int pond_pq_decode_page_header(pq_page_header *h, pq_tdec *d)
{
    bool has_type = false, has_u = false, has_c = false;
    memset(h, 0, sizeof *h);
    STRUCT_LOOP(
        &S_PAGE, switch (id) {
            case 1:
                TRY(read_enum(d, type, id, &h->type));
                has_type = true;
                break;
            case 2:
                TRY(read_i32f(d, type, id, &h->uncompressed_page_size));
                has_u = true;
                break;
            case 3:
                TRY(read_i32f(d, type, id, &h->compressed_page_size));
                has_c = true;
                break;
            case 4:
                OPTIONAL(TC_I32);
                TRY(read_i32f(d, type, id, &h->crc));
                h->has_crc = true;
                break;
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
            default:
                UNHANDLED;
        });
    if (!has_type || !has_u || !has_c)
        return pond_pq_tdec_error(d, "page header lacks type or sizes");
    if (h->uncompressed_page_size < 0 || h->compressed_page_size < 0)
        return pond_pq_tdec_error(d, "page header has a negative size");
    return 0;
}

static int dec_page_loc(pq_page_location *pl, pq_tdec *d)
{
    STRUCT_LOOP(
        &S_PAGELOC, switch (id) {
            case 1:
                TRY(read_i64f(d, type, id, &pl->offset));
                break;
            case 2:
                TRY(read_i32f(d, type, id, &pl->compressed_page_size));
                break;
            case 3:
                TRY(read_i64f(d, type, id, &pl->first_row_index));
                break;
            default:
                UNHANDLED;
        });
    return 0;
}

int pond_pq_decode_offset_index(pq_offset_index *oi, pq_arena *a, pq_tdec *d)
{
    memset(oi, 0, sizeof *oi);
    STRUCT_LOOP(
        &S_OFFIDX, switch (id) {
            case 1: {
                TRY(read_list_header(d, type, id, TC_STRUCT, &oi->n_pages));
                if (!(oi->pages = arena_array(a, oi->n_pages, sizeof *oi->pages)))
                    return POND_ENOMEM;
                for (uint32_t i = 0; i < oi->n_pages; i++)
                    TRY(dec_page_loc(&oi->pages[i], d));
                break;
            }
            default:
                UNHANDLED;
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
        TRY(pond_pq_tdec_binary(d, &(*out)[i].ptr, &(*out)[i].len));
    return 0;
}

int pond_pq_decode_column_index(pq_column_index *ci, pq_arena *a, pq_tdec *d)
{
    uint32_t n_min = 0, n_max = 0;
    memset(ci, 0, sizeof *ci);
    STRUCT_LOOP(
        &S_COLIDX, switch (id) {
            case 1: {
                TRY(read_list_header(d, type, id, TC_TRUE, &ci->n_pages));
                if (!(ci->null_pages = arena_array(a, ci->n_pages, sizeof *ci->null_pages)))
                    return POND_ENOMEM;
                for (uint32_t i = 0; i < ci->n_pages; i++) {
                    int b;
                    TRY(pond_pq_tdec_list_bool(d, TC_TRUE, &b));
                    ci->null_pages[i] = b;
                }
                break;
            }
            case 2:
                TRY(dec_bytes_list(&ci->min_values, &n_min, a, d, type, id));
                break;
            case 3:
                TRY(dec_bytes_list(&ci->max_values, &n_max, a, d, type, id));
                break;
            case 4:
                TRY(read_enum(d, type, id, &ci->boundary_order));
                break;
            case 5: {
                TRY(read_list_header(d, type, id, TC_I64, &ci->n_null_counts));
                if (!(ci->null_counts = arena_array(a, ci->n_null_counts, sizeof *ci->null_counts)))
                    return POND_ENOMEM;
                for (uint32_t i = 0; i < ci->n_null_counts; i++)
                    TRY(pond_pq_tdec_i64(d, &ci->null_counts[i]));
                break;
            }
            default:
                UNHANDLED;
        });
    if (n_min != ci->n_pages || n_max != ci->n_pages ||
        (ci->n_null_counts && ci->n_null_counts != ci->n_pages))
        return pond_pq_tdec_error(d, "column index lists have different lengths");
    return 0;
}

/* ---------------------------------------------------------------- names */

const char *pond_pq_type_name(int t)
{
    static const char *n[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                              "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < 8 ? n[t] : "?";
}

const char *pond_pq_encoding_name(int e)
{
    static const char *n[] = {
        "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
        "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return e >= 0 && e < 10 ? n[e] : "?";
}

const char *pond_pq_codec_name(int c)
{
    static const char *n[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                              "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    return c >= 0 && c < 8 ? n[c] : "?";
}

const char *pond_pq_converted_name(int c)
{
    static const char *n[] = {"UTF8",
                              "MAP",
                              "MAP_KEY_VALUE",
                              "LIST",
                              "ENUM",
                              "DECIMAL",
                              "DATE",
                              "TIME_MILLIS",
                              "TIME_MICROS",
                              "TIMESTAMP_MILLIS",
                              "TIMESTAMP_MICROS",
                              "UINT_8",
                              "UINT_16",
                              "UINT_32",
                              "UINT_64",
                              "INT_8",
                              "INT_16",
                              "INT_32",
                              "INT_64",
                              "JSON",
                              "BSON",
                              "INTERVAL"};
    return c >= 0 && c < 22 ? n[c] : "?";
}

const char *pond_pq_repetition_name(int r)
{
    static const char *n[] = {"required", "optional", "repeated"};
    return r >= 0 && r < 3 ? n[r] : "?";
}

const char *pond_pq_page_type_name(int t)
{
    static const char *n[] = {"DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE", "DATA_PAGE_V2"};
    return t >= 0 && t < 4 ? n[t] : "?";
}
