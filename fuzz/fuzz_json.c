/* Fuzz target: the streaming JSON record reader with small buffers, a small record limit and
 * a shallow depth limit, in each layout. */
#include <pond/errors.h>
#include <pond/json_reader.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pond_json_options o = POND_JSON_OPTIONS_INIT;
    o.layout = (pond_json_layout)(data[0] % 3);
    o.buffer_size = (size_t)(data[0] >> 2) % 9 + 1;
    o.max_record = 4096;
    o.max_depth = 16;
    pond_json_reader *r = NULL;
    if (pond_json_reader_open_mem(&r, data + 1, size - 1, &o) < 0)
        return 0;
    size_t total = 0;
    while (pond_json_reader_next(r) == 0) {
        for (size_t i = 0; i < pond_json_reader_nkeys(r); i++) {
            size_t kl, vl;
            pond_json_kind k;
            const char *key = pond_json_reader_key(r, i, &kl);
            const char *v = pond_json_reader_value(r, i, &vl, &k);
            total += kl + vl + (size_t)k + (size_t)(key[kl] == 0) + (size_t)(v[vl] == 0);
        }
    }
    (void)total;
    pond_json_reader_free(r);
    return 0;
}
