/* The one growth rule for arrays (POND_GROW, POND_RESERVE in util.h). */
#include "util/util.h"

#include <string.h>

int pond__grow(void *ptr_addr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    /* doubling keeps n appends O(n); at least 8 so short arrays do not grow one by one */
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (pond_mul_overflow(&ncap, ncap, 2)) {
            ncap = need;
            break;
        }
    }
    size_t bytes;
    if (pond_mul_overflow(&bytes, ncap, elem))
        return pond_error_set(POND_ENOMEM, POND_DOM_UTIL,
                              "out of memory: an array of %zu elements of %zu bytes", need, elem);
    void *old;
    memcpy(&old, ptr_addr, sizeof old);
    void *p = pond_realloc(old, bytes);
    if (!p)
        return POND_ENOMEM; /* pond_realloc set the message; the old array is untouched */
    memcpy(ptr_addr, &p, sizeof p);
    *cap = ncap;
    return 0;
}
