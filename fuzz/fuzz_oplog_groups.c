/* Fuzz target: the `pond.row_groups` entry of a data file's footer (docs/format.md, "Row-group
 * hashes"), as a pond someone sent may hold it. The first byte picks the file's row-group count
 * and the next eight its footer offset; the rest is the entry. What parses must tile the file,
 * and must format back to text that parses to the same groups and formats the same again. */
#include "oplog/oplog_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const ol_group *a, const ol_group *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].off != b[i].off || a[i].len != b[i].len || a[i].v_min != b[i].v_min ||
            a[i].v_max != b[i].v_max || a[i].has_et != b[i].has_et ||
            (a[i].has_et && (a[i].et_min != b[i].et_min || a[i].et_max != b[i].et_max)) ||
            !pond_hash_equal(&a[i].sha, &b[i].sha))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9 || size > 65536)
        return 0;
    size_t n_rg = (size_t)data[0] % 64 + 1;
    int64_t foot_off = 0;
    memcpy(&foot_off, data + 1, sizeof foot_off);
    char *text = malloc(size - 9 + 1);
    ol_group *g = calloc(n_rg, sizeof *g), *again = calloc(n_rg, sizeof *again);
    if (!text || !g || !again)
        abort();
    memcpy(text, data + 9, size - 9);
    text[size - 9] = '\0';
    size_t n = 0, n2 = 0;
    const char *why = NULL;
    if (pond_oplog__groups_parse(g, n_rg, &n, text, foot_off, &why) == 0) {
        if (n != n_rg || why)
            abort();
        int64_t at = 4;
        for (size_t i = 0; i < n; i++) {
            if (g[i].off != at || g[i].len <= 0)
                abort();
            at += g[i].len;
        }
        if (at != foot_off)
            abort();
        pond_buf out = POND_BUF_INIT, out2 = POND_BUF_INIT;
        if (pond_oplog__groups_format(&out, g, n) < 0)
            abort();
        if (pond_oplog__groups_parse(again, n_rg, &n2, out.ptr, foot_off, &why) != 0 || n2 != n ||
            !same(g, again, n))
            abort();
        if (pond_oplog__groups_format(&out2, again, n2) < 0 || out.size != out2.size ||
            memcmp(out.ptr, out2.ptr, out.size) != 0)
            abort();
        pond_buf_dispose(&out);
        pond_buf_dispose(&out2);
    } else if (!why) {
        abort();
    }
    free(text);
    free(g);
    free(again);
    return 0;
}
