/* Fuzz target: timestamp parsing (ISO-8601 and epoch forms) and the format/parse round trip. */
#include <pond/errors.h>
#include <pond/timefmt.h>

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t us;
    if (pond_time_parse(&us, (const char *)data, size) == 0 && us > -62135596800000000LL &&
        us < 253402300799000000LL) {
        char out[40];
        size_t n = pond_time_format_iso(out, us);
        int64_t back;
        if (pond_time_parse_iso(&back, out, n) != 0 || back != us)
            abort();
    }
    return 0;
}
