/* Fuzz target: a series' extended attributes as a pond someone sent may hold them (the series
 * index, docs/format.md): parsed, the per-version entry read, merged with a schema of their own
 * columns, replaced versions marked, and dumped and parsed again (the second dump must equal
 * the first). */
#include <pond/arrow.h>
#include <pond/errors.h>

#include "table/table_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t rows, lo, hi;
    for (int64_t v = 0; v < 4; v++)
        (void)pond_table__version_entry(&rows, &lo, &hi, text, v);
    table_attrs a;
    if (pond_table__attrs_parse(&a, text, "/s") == 0) {
        int64_t versions[8] = {1, 2, 3, 4, 5, 6, 7, 8}, by[8];
        pond_table__mark_replaced(by, versions, 8, a.comps, a.n_comps, 0);
        /* a listing known to hold every version up to 8 marks the same as the list itself */
        int64_t by_held[8];
        pond_table__mark_replaced(by_held, versions, 8, a.comps, a.n_comps, 8);
        if (memcmp(by, by_held, sizeof by))
            abort();
        if (a.has_schema) {
            /* a version with exactly the merged columns always merges */
            struct ArrowSchema copy;
            if (pond_arrow_schema_copy(&copy, &a.schema) == 0) {
                if (pond_table__attrs_merge_schema(&a, &copy, a.through + 1, "/s") < 0 &&
                    pond_error_last()->code != POND_ENOMEM &&
                    pond_error_last()->code != POND_EINVALID)
                    abort();
                pond_arrow_schema_release(&copy);
            }
        }
        (void)pond_table__attrs_set_entry(&a, 9, 1, 0, 0, NULL, 0);
        char *one = NULL, *two = NULL;
        if (pond_table__attrs_dump(&one, &a) == 0) {
            table_attrs b;
            if (pond_table__attrs_parse(&b, one, "/s") != 0) {
                if (pond_error_last()->code != POND_ENOMEM)
                    abort(); /* what pond writes, pond reads */
            } else {
                if (pond_table__attrs_dump(&two, &b) == 0 && strcmp(one, two) != 0)
                    abort();
                pond_table__attrs_dispose(&b);
            }
        }
        pond_free(one);
        pond_free(two);
        pond_table__attrs_dispose(&a);
    }
    free(text);
    return 0;
}
