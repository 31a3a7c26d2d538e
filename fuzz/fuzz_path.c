/* Fuzz target: name validation and path normalisation.
 * Input: "<base>\n<path>" (no newline: the whole input is the path, relative to "/"). */
#include <pond/alloc.h>
#include <pond/tinyfs.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *cstr(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    (void)pond_name_validate((const char *)data, size);
    const uint8_t *nl = memchr(data, '\n', size);
    char *base = nl ? cstr(data, (size_t)(nl - data)) : NULL;
    char *path = nl ? cstr(nl + 1, size - (size_t)(nl - data) - 1) : cstr(data, size);
    if (!path || (nl && !base))
        goto done;
    char *abs_base = NULL, *out = NULL, *again = NULL;
    bool dir = false, dir2 = false;
    /* a base must itself be a normalised absolute path */
    if (base && pond_path_normalize(&abs_base, NULL, NULL, base) < 0)
        goto done;
    if (pond_path_normalize(&out, &dir, abs_base, path) == 0) {
        /* invariants: absolute, no empty, "." or ".." components, idempotent */
        if (out[0] != '/' || (out[1] && out[strlen(out) - 1] == '/') || strstr(out, "//") ||
            strstr(out, "/./") || strstr(out, "/../"))
            __builtin_trap();
        if (pond_path_normalize(&again, &dir2, NULL, out) != 0 || strcmp(again, out) != 0)
            __builtin_trap();
    }
    pond_free(again);
    pond_free(out);
    pond_free(abs_base);
done:
    free(base);
    free(path);
    return 0;
}
