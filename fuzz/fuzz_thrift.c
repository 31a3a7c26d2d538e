/* Thrift compact decoding of Parquet metadata: byte 0 picks the struct (footer, page header,
 * column index, offset index); a footer is decoded as the reader does (mistyped optional
 * fields skipped and noted), re-encoded and decoded again strictly. */
#include "parquet/pq_meta.h"

#include <pond/buf.h>

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    pq_arena a = {0};
    pq_tdec d;
    pond_pq_tdec_init(&d, data + 1, size - 1, 0, "fuzz");
    switch (data[0] % 4) {
    case 0: {
        pq_file_meta m;
        pq_tskips skips;
        memset(&skips, 0, sizeof skips);
        d.skips = &skips;
        if (pond_pq_decode_file_meta(&m, &a, &d) == 0) {
            char name[96], wire[24];
            for (int i = 0; i < skips.n_kinds; i++) /* the names of what was skipped */
                if (!pond_pq_tfield_name(name, sizeof name, skips.kind[i].s, skips.kind[i].id)[0] ||
                    !pond_pq_twire_name(wire, sizeof wire, skips.kind[i].got)[0])
                    __builtin_trap();
            pond_buf out = POND_BUF_INIT;
            pq_tenc e;
            pond_pq_tenc_init(&e, &out);
            pond_pq_encode_file_meta(&e, &m);
            if (e.rc == 0) {
                pq_arena a2 = {0};
                pq_file_meta m2;
                pq_tdec d2;
                pond_pq_tdec_init(&d2, out.ptr, out.size, 0, "fuzz");
                if (pond_pq_decode_file_meta(&m2, &a2, &d2) != 0 || m2.num_rows != m.num_rows ||
                    m2.n_schema != m.n_schema || m2.n_row_groups != m.n_row_groups)
                    __builtin_trap(); /* what we encode we must decode identically */
                pond__arena_dispose(&a2);
            }
            pond_buf_dispose(&out);
        }
        break;
    }
    case 1: {
        pq_page_header h;
        (void)pond_pq_decode_page_header(&h, &d);
        break;
    }
    case 2: {
        pq_column_index ci;
        (void)pond_pq_decode_column_index(&ci, &a, &d);
        break;
    }
    default: {
        pq_offset_index oi;
        (void)pond_pq_decode_offset_index(&oi, &a, &d);
        break;
    }
    }
    pond__arena_dispose(&a);
    return 0;
}
