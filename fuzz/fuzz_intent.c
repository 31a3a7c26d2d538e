/* Fuzz target: the push intent parser (`_host/push-intent`, docs/format.md). A pond someone
 * sent may carry any bytes there. A parsed intent is bounded, its versions ascend (a version's
 * commit and checkpoint once each), and it formats back to exactly the bytes it was parsed from. */
#include "oplog/oplog_intent.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > OPLOG_INTENT_MAX_BYTES)
        return 0;
    oplog_intent in;
    if (pond_oplog__intent_parse(&in, (const char *)data, size, "fuzz") != 0)
        return 0;
    if (in.n > OPLOG_INTENT_MAX_ENTRIES)
        __builtin_trap();
    for (size_t i = 0; i < in.n; i++) {
        const pond_push_entry *e = &in.v[i];
        if (e->version < 0 || e->size < 0)
            __builtin_trap();
        if (!pond_oplog__intent_follows(in.v, i, e) ||
            (i && (e->version < in.v[i - 1].version ||
                   (e->version == in.v[i - 1].version && e->checkpoint == in.v[i - 1].checkpoint))))
            __builtin_trap();
    }
    pond_buf b = POND_BUF_INIT;
    if (pond_oplog__intent_format(&b, in.v, in.n) == 0 &&
        (b.size != size || memcmp(b.ptr, data, size)))
        __builtin_trap();
    pond_buf_dispose(&b);
    pond_oplog__intent_dispose(&in);
    return 0;
}
