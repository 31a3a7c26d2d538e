/* Fuzzes the wire protocol decoder (docs/replication.md, "Wire protocol"): the input is one
 * frame body (type byte + payload). A frame that decodes must hold only bounded, checked
 * fields; every object in it must re-encode and decode to the same object. */
#include "repl/repl_wire.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_obj(const repl_obj *a)
{
    pond_buf b = POND_BUF_INIT;
    pond_wire_begin(&b, W_GET);
    pond_wire_obj(&b, a);
    wire_msg m;
    if (!b.ptr || pond_wire_decode(&m, (const uint8_t *)b.ptr, b.size) != 0)
        abort();
    const repl_obj *o = &m.obj;
    if (o->kind != a->kind || o->version != a->version || strcmp(o->path, a->path) ||
        o->size != a->size || o->has_sha != a->has_sha || memcmp(&o->sha256, &a->sha256, 32) ||
        memcmp(&o->root, &a->root, 32))
        abort();
    pond_wire_msg_dispose(&m);
    pond_buf_dispose(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wire_msg m;
    if (pond_wire_decode(&m, data, size) != 0)
        return 0;
    if (m.n > WIRE_MAX_ITEMS || strlen(m.s1) > WIRE_MAX_STR || strlen(m.s2) > WIRE_MAX_STR ||
        m.data_len > WIRE_MAX_DATA)
        abort();
    if (m.type == W_GET || m.type == W_PUT)
        same_obj(&m.obj);
    for (size_t k = 0; m.objs && k < m.n; k++)
        same_obj(&m.objs[k]);
    pond_wire_msg_dispose(&m);
    return 0;
}
