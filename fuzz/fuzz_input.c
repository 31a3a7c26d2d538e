/* Fuzz target: the input stack (magic-number detection, the four decompressors, UTF-8
 * validation and the Latin-1/CP1252/UTF-16 converters). The first byte picks the encoding and
 * the read size; output is capped so that a decompression bomb ends the run early. */
#include <pond/errors.h>
#include <pond/input.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pond_input_options o = POND_INPUT_OPTIONS_INIT;
    o.encoding = (pond_input_encoding)(data[0] % 7);
    size_t chunk = (size_t)(data[0] >> 3) + 1;
    pond_input *in = NULL;
    if (pond_input_open_mem(&in, data + 1, size - 1, &o) < 0)
        return 0;
    const char *p;
    size_t n;
    if (data[0] & 4)
        (void)pond_input_peek(in, &p, &n, 4096);
    char buf[64];
    size_t total = 0;
    while (total < (16u << 20)) {
        if (pond_input_read(in, buf, chunk, &n) < 0 || n == 0)
            break;
        total += n;
    }
    pond_input_free(in);
    return 0;
}
