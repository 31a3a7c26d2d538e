/* Fuzz target: pond__parse_double (the CSV import's number reader) must give strtod's double,
 * bit for bit, and refuse exactly what the strtod-based reading refused. */
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference: strtod on the same decimal text (pond__strtod_decimal, itself pinned against
 * strtod by util_numparse::strtod_decimal); an out-of-range value is refused. */
static bool ref_parse(double *v, const char *s, size_t len)
{
    return pond__strtod_decimal(v, s, len) == 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 80)
        return 0;
    char *s = malloc(size ? size : 1); /* exactly size bytes: a read past the value is caught */
    if (!s)
        return 0;
    memcpy(s, data, size);
    double want = 0, got = 0;
    bool rw = ref_parse(&want, s, size), rg = pond__parse_double(&got, s, size);
    if (rw != rg || (rw && memcmp(&want, &got, sizeof want) && !(isnan(want) && isnan(got))))
        abort();
    free(s);
    return 0;
}
