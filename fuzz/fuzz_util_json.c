/* Fuzz target: util's bounded JSON parse (the door every layer parses JSON through), then a
 * dump and a second parse that must give an equal value. */
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    json_t *j = pond__json_parse((const char *)data, size, 0, "fuzz", POND_DOM_UTIL);
    if (!j)
        return 0;
    char *s = pond__json_dump(j, 0);
    if (s) {
        json_t *k = pond__json_parse(s, strlen(s), 0, "fuzz again", POND_DOM_UTIL);
        /* what pond printed, pond reads back as the same value (NaN cannot be JSON) */
        if (!k || !json_equal(j, k))
            abort();
        json_decref(k);
        pond_free(s);
    }
    json_decref(j);
    return 0;
}
