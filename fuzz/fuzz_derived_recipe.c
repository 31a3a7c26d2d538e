/* Fuzz target: a derived node's recipe as a pond someone sent may hold it (pond.derived,
 * docs/format.md). The input is the recipe's JSON text; it is put on a series /d that the
 * series /s names as a dependent, then described, refreshed whole, and refreshed by a write to
 * /s (the hook every series write runs). Source ids in the input may be "S" and "T", replaced
 * by the ids of /s and /t. A sql recipe runs through the SQL layer's evaluator. Nothing may
 * crash, leak or loop; errors are fine. */
#include <pond/alloc.h>
#include <pond/arrow.h>
#include <pond/errors.h>
#include <pond/sql.h>
#include <pond/table.h>
#include <pond/tinyfs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_rows(pond_fs *fs, const char *path, int64_t t0, int n, const char *ts)
{
    struct ArrowSchema s;
    struct ArrowArray a;
    int rc = pond_arrow_schema_init(&s, "+s", "", 0, 3);
    if (rc < 0)
        return rc;
    pond_arrow_schema_init(s.children[0], "tsu:UTC", ts, ARROW_FLAG_NULLABLE, 0);
    pond_arrow_schema_init(s.children[1], "u", "k", ARROW_FLAG_NULLABLE, 0);
    pond_arrow_schema_init(s.children[2], "g", "v", ARROW_FLAG_NULLABLE, 0);
    if ((rc = pond_arrow_array_init(&a, n, 0, 1, 3)) < 0) {
        pond_arrow_schema_release(&s);
        return rc;
    }
    for (int c = 0; c < 3 && rc == 0; c++) {
        pond_arrow_builder *b = NULL;
        if ((rc = pond_arrow_builder_new(&b, s.children[c]->format)) < 0)
            break;
        for (int i = 0; i < n && rc == 0; i++)
            rc = c == 0   ? pond_arrow_builder_append_int(b, t0 + i * 60000000LL)
                 : c == 1 ? pond_arrow_builder_append_bytes(b, i % 2 ? "a" : "b", 1)
                          : pond_arrow_builder_append_double(b, i * 0.5);
        if (rc == 0)
            rc = pond_arrow_builder_finish(a.children[c], b);
        pond_arrow_builder_free(b);
    }
    if (rc == 0)
        rc = pond_table_write_batch(fs, NULL, path, POND_ENTRY_FILE_SERIES, &s, &a, NULL);
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
    return rc;
}

/* text with every "S"/"T" (quoted) replaced by the quoted ids */
static char *with_ids(const char *text, const char *sid, const char *tid)
{
    size_t n = strlen(text);
    char *out = malloc(n * 13 + 64), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '"' && i + 2 < n && (text[i + 1] == 'S' || text[i + 1] == 'T') &&
            text[i + 2] == '"') {
            o += sprintf(o, "\"%s\"", text[i + 1] == 'S' ? sid : tid);
            i += 2;
        } else {
            *o++ = text[i];
        }
    }
    *o = 0;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    pond_backend *be = NULL;
    pond_fs *fs = NULL;
    pond_fs_node *d = NULL, *s = NULL;
    char *recipe = NULL, *attrs = NULL, *what = NULL, **deps = NULL;
    size_t nd = 0;
    pond_stat st;
    char sid[POND_NODE_ID_STRLEN + 1], tid[POND_NODE_ID_STRLEN + 1], did[POND_NODE_ID_STRLEN + 1];
    const int64_t t0 = 1704067200000000LL;
    pond_sql_derive_register();
    if (pond_backend_memory_new(&be) < 0 || pond_fs_open(&fs, be, NULL) < 0)
        goto done;
    if (pond_fs_begin(fs, NULL) < 0 || write_rows(fs, "/s", t0, 10, "ts") < 0 ||
        write_rows(fs, "/t", t0 + 300000000LL, 10, "ts") < 0 ||
        write_rows(fs, "/d", t0, 1, "timestamp") < 0 || pond_fs_commit(NULL, fs) < 0)
        goto done;
    if (pond_fs_stat(&st, fs, NULL, "/s") < 0)
        goto done;
    pond_node_id_format(sid, &st.id);
    if (pond_fs_stat(&st, fs, NULL, "/t") < 0)
        goto done;
    pond_node_id_format(tid, &st.id);
    if (pond_fs_stat(&st, fs, NULL, "/d") < 0)
        goto done;
    pond_node_id_format(did, &st.id);
    if (!(recipe = with_ids(text, sid, tid)) || !(attrs = malloc(strlen(recipe) + 200)))
        goto done;
    if (pond_fs_begin(fs, NULL) < 0)
        goto done;
    sprintf(attrs, "{\"pond.derived\":%s,\"pond.timestamp_column\":\"timestamp\"}", recipe);
    if (pond_fs_node_open(&d, fs, NULL, "/d", 0) == 0 && pond_fs_node_set_xattrs(d, attrs) == 0) {
        sprintf(attrs,
                "{\"pond.derived_by\":[{\"id\":\"%s\",\"path\":\"/d\"},{\"id\":\"%s\"}],"
                "\"pond.timestamp_column\":\"ts\"}",
                did, tid);
        (void)pond_fs_set_xattrs(fs, NULL, "/s", attrs);
        (void)pond_derive_describe(&what, d);
        int rc = pond_derive_refresh(NULL, d);
        if (getenv("FUZZ_DERIVED_DEBUG")) /* what the input reached */
            fprintf(stderr, "describe: %s\nrefresh: %d %s\n", what ? what : "-", rc,
                    rc < 0 ? pond_error_last()->message : "");
        if (pond_fs_node_open(&s, fs, NULL, "/s", 0) == 0)
            (void)pond_derive_dependents(&deps, &nd, s);
        (void)write_rows(fs, "/s", t0 + 120000000LL, 3, "ts");
    }
    pond_fs_abort(fs);
done:
    for (size_t i = 0; i < nd; i++)
        pond_free(deps[i]);
    pond_free(deps);
    pond_free(what);
    pond_fs_node_free(d);
    pond_fs_node_free(s);
    pond_fs_free(fs);
    pond_backend_free(be);
    free(attrs);
    free(recipe);
    free(text);
    return 0;
}
