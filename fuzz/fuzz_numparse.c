/* Fuzz target: pond__parse_double (the CSV import's number reader) must give strtod's double,
 * bit for bit, and refuse exactly what the strtod-based reading refused. */
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool ref_parse(double *v, const char *s, size_t len)
{
    if (!len || len > 64)
        return false;
    for (size_t k = 0; k < len; k++)
        if (!s[k] || (!strchr("0123456789+-.eE", s[k]) && !strchr("infatyINFATY", s[k])))
            return false;
    char buf[72];
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double x = strtod(buf, &end);
    if (end != buf + len || (errno == ERANGE && (isinf(x) || x == 0)))
        return false;
    *v = x;
    return true;
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
