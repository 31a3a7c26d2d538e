/* Fuzz target: one Delta action JSON line (parse + the field checks of its action kind). */
#include <pond/delta.h>

#include "delta/delta_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = NULL, *body = NULL;
    delta_action_kind kind;
    if (size > (1u << 20))
        return 0;
    if (pond_delta__action_parse(&root, &kind, &body, (const char *)data, size, "fuzz") == 0) {
        switch (kind) {
        case DELTA_ACT_ADD:
            (void)pond_delta__check_add(body, "fuzz");
            break;
        case DELTA_ACT_REMOVE:
            (void)pond_delta__check_remove(body, "fuzz");
            break;
        case DELTA_ACT_PROTOCOL:
            (void)pond_delta__check_protocol(body, "fuzz");
            break;
        case DELTA_ACT_METADATA:
            if (pond_delta__check_metadata(body, "fuzz") == 0) {
                delta_arena arena = {0};
                const pond_delta_type *schema;
                const char *s = json_string_value(json_object_get(body, "schemaString"));
                if (pond_delta__schema_parse(&schema, &arena, s, POND_DELTA_COLUMN_MAPPING_NONE) ==
                    0) {
                    pond_buf b = POND_BUF_INIT;
                    (void)pond_delta__type_format(&b, schema);
                    pond_buf_dispose(&b);
                }
                pond__arena_dispose(&arena);
            }
            break;
        default:
            break;
        }
        const char *p = json_string_value(json_object_get(body, "path"));
        char *dec = NULL;
        if (p && pond_delta_path_decode(&dec, p) == 0) {
            char *enc = NULL;
            (void)pond_delta_path_encode(&enc, dec);
            pond_free(enc);
        }
        pond_free(dec);
    }
    json_decref(root);
    return 0;
}
