/* Fuzz target: a whole log replay. The input is split into commits 0, 1, ... at form feeds
 * ('\f'); each commit is split into action lines by the replay itself. An input that starts
 * with "PAR1" is a Parquet checkpoint instead: it is read into a snapshot through its columns
 * (what an open does) and through jansson values (the former way); when both read, the two
 * snapshots must be the same. */
#include <pond/delta.h>

#include "delta/delta_internal.h"

#include <stdio.h>
#include <stdlib.h>
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
    if (size >= 4 && !memcmp(data, "PAR1", 4)) {
        pond_delta_table *direct = NULL, *oracle = NULL;
        int rc = pond_delta__table_from_checkpoint_mem(&direct, data, size, false);
        int orc = pond_delta__table_from_checkpoint_mem(&oracle, data, size, true);
        /* both ways accept and refuse alike (out of memory aside) */
        if ((rc == 0) != (orc == 0) && rc != POND_ENOMEM && orc != POND_ENOMEM) {
            fprintf(stderr, "checkpoint read two ways: column path %d, JSON way %d\n", rc, orc);
            abort();
        }
        if (orc == 0 && rc == 0) {
            pond_buf diff = POND_BUF_INIT;
            if (pond_delta__snapshot_diff(&diff, direct, oracle) < 0 || diff.size) {
                fprintf(stderr, "checkpoint read two ways differs: %s\n",
                        diff.ptr ? diff.ptr : "?");
                abort();
            }
            pond_buf_dispose(&diff);
        }
        pond_delta_table_free(direct);
        pond_delta_table_free(oracle);
        return 0;
    }
    pond_delta_table *t = NULL;
    if (pond_delta__table_from_memory(&t, commits, lens, n) == 0) {
        const pond_delta_metadata *m = pond_delta_table_metadata(t);
        for (size_t i = 0; i < m->n_partition_columns; i++)
            (void)pond_delta_table_field(t, m->partition_columns[i]);
        (void)pond_delta_table_file_count(t);
    }
    pond_delta_table_free(t);
    return 0;
}
