/* Fuzz target: the export state / journal parser (an export directory is outside input: it may
 * have been copied from anywhere). A parsed state never names a file outside the directory. */
#include "export/export_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 20))
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ex_state s;
    if (pond_ex_state_parse(&s, text, size, "fuzz") == 0) {
        /* every file name stays inside the directory */
        for (size_t i = 0; i < pond_ex_state_nfiles(&s); i++) {
            const char *n = pond_ex_state_file(&s, i)->name;
            if (!n[0] || n[0] == '/' || strstr(n, ".."))
                __builtin_trap();
        }
        for (size_t i = 0; i < pond_ex_state_nvers(&s); i++)
            (void)pond_ex_state_ver(&s, i)->rows;
        pond_ex_state_dispose(&s);
    }
    free(text);
    return 0;
}
