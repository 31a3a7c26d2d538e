/* Fuzzes the chunk-table parser (`<hex>.chunks`, docs/cas.md): the input is parsed as a table
 * image; then, as content, it is built into a table that must parse back to the same root, and
 * a one-byte change of that image must be refused or change the root. */
#include <pond/alloc.h>
#include <pond/buf.h>

#include "cas/cas_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pond_hash root, root2;
    pond_cas__trailer t;
    (void)pond_cas__table_check(&root, &t, data, size, "fuzz");
    if (size < 2 || size > (1u << 20))
        return 0;
    uint32_t chunk = POND_CAS_MIN_CHUNK_SIZE + data[0];
    uint32_t fanout = POND_CAS_MIN_FANOUT + data[1] % 16;
    pond_buf img = POND_BUF_INIT;
    if (pond_cas__table_build(&img, &root, data + 2, size - 2, chunk, fanout) == 0) {
        if (pond_cas__table_check(&root2, &t, (const uint8_t *)img.ptr, img.size, "fuzz") != 0 ||
            !pond_hash_equal(&root, &root2) || t.size != (int64_t)(size - 2) ||
            t.chunk_size != chunk || t.fanout != fanout)
            abort();
        size_t at = (size_t)data[size - 1] * 7919 % img.size;
        img.ptr[at] ^= 0x01;
        bool changed_root =
            pond_cas__table_check(&root2, &t, (const uint8_t *)img.ptr, img.size, "fuzz") != 0 ||
            !pond_hash_equal(&root, &root2);
        /* a chunk hash change is caught by its group hash; anything else changes the root */
        if (!changed_root)
            abort();
    }
    pond_buf_dispose(&img);
    return 0;
}
