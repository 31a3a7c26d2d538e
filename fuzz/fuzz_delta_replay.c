/* Fuzz target: a whole log replay. The input is split into commits 0, 1, ... at form feeds
 * ('\f'); each commit is split into action lines by the replay itself. An input that starts
 * with "PAR1" is a Parquet checkpoint instead: its rows become action lines, replayed as
 * commit 0. */
#include <pond/delta.h>

#include "delta/delta_internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_COMMITS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *commits[MAX_COMMITS];
    size_t lens[MAX_COMMITS], n = 0;
    const char *s = (const char *)data, *end = s + size;
    if (size > (4u << 20))
        return 0;
    while (n < MAX_COMMITS) {
        const char *ff = memchr(s, '\f', (size_t)(end - s));
        commits[n] = s;
        lens[n++] = ff ? (size_t)(ff - s) : (size_t)(end - s);
        if (!ff)
            break;
        s = ff + 1;
    }
    pond_buf cp = POND_BUF_INIT;
    if (size >= 4 && !memcmp(data, "PAR1", 4)) {
        if (pond_delta__checkpoint_parquet_lines_mem(&cp, data, size) < 0) {
            pond_buf_dispose(&cp);
            return 0;
        }
        commits[0] = cp.ptr ? cp.ptr : "";
        lens[0] = cp.size;
        n = 1;
    }
    pond_delta_table *t = NULL;
    if (pond_delta__table_from_memory(&t, commits, lens, n) == 0) {
        const pond_delta_metadata *m = pond_delta_table_metadata(t);
        for (size_t i = 0; i < m->n_partition_columns; i++)
            (void)pond_delta_table_field(t, m->partition_columns[i]);
        (void)pond_delta_table_file_count(t);
    }
    pond_delta_table_free(t);
    pond_buf_dispose(&cp);
    return 0;
}
