/* Fuzzes the wire protocol decoder (docs/replication.md, "Wire protocol"): the input is one
 * frame body (type byte + payload). A frame that decodes must hold only bounded, checked
 * fields; every object in it must re-encode and decode to the same object. */
#include "repl/repl_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* An input that starts with 0xff is a byte stream instead: as the server reads a put (an
 * object's content through pond_wire_read_data, in reads of uneven sizes, at version 1 or 2 by
 * the next byte), then messages (pond_wire_recv) until the stream fails or ends. */
static void stream(const uint8_t *data, size_t size)
{
    FILE *f = tmpfile();
    if (!f)
        return;
    wire_conn c;
    uint8_t *buf = malloc(WIRE_MAX_DATA);
    if (buf && fwrite(data + 2, 1, size - 2, f) == size - 2 && fflush(f) == 0 &&
        lseek(fileno(f), 0, SEEK_SET) == 0 && pond_wire_conn_init(&c, fileno(f), -1, "fuzz") == 0) {
        pond_wire_set_version(&c, 1 + (data[1] & 1));
        static const size_t caps[] = {1, 4096, 3, WIRE_MAX_DATA};
        size_t n = 1;
        for (size_t i = 0; n > 0; i++) {
            size_t cap = caps[i % 4];
            if (pond_wire_read_data(&c, buf, cap, &n) != 0)
                break;
            if (n > cap || n > c.max_data)
                abort();
        }
        wire_msg m;
        while (n == 0 && pond_wire_recv(&c, &m) == 0) {
            if (m.type == W_DATA && m.data_len > c.max_data)
                abort();
            pond_wire_msg_dispose(&m);
        }
        pond_wire_conn_dispose(&c);
    }
    free(buf);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 2 && data[0] == 0xff) {
        stream(data, size);
        return 0;
    }
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
