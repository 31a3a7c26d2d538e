/* Test-only: commits a directory row with a hand-made listing (see craft.h). */
#include "craft.h"

#include "oplog/oplog_internal.h"

#include <pond/arrow.h>
#include <pond/delta.h>
#include <pond/parquet.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The one-row batch: every column null or its directory value, entries as given. */
static int build_batch(struct ArrowArray *out, const struct ArrowSchema *schema, const char *dir_id,
                       int64_t version, const craft_entry *e, size_t n)
{
    int rc = pond_arrow_array_init(out, 1, 0, 1, schema->n_children);
    for (int64_t c = 0; c < schema->n_children && rc == 0; c++) {
        const char *name = schema->children[c]->name;
        if (!strcmp(name, "entries")) {
            struct ArrowArray *list = out->children[c];
            if ((rc = pond_arrow_array_init(list, 1, 0, 2, 1)) < 0)
                break;
            uint8_t *valid = pond_arrow_array_alloc_buffer(list, 0, 1);
            int32_t *offs = pond_arrow_array_alloc_buffer(list, 1, 2 * sizeof(int32_t));
            if (!valid || !offs)
                return POND_ENOMEM;
            valid[0] = 1;
            offs[1] = (int32_t)n;
            /* the entry struct's fields as the schema has them (format 1: three) */
            int64_t nf = schema->children[c]->children[0]->n_children;
            struct ArrowArray *st = list->children[0];
            if ((rc = pond_arrow_array_init(st, (int64_t)n, 0, 1, nf)) < 0)
                break;
            for (int64_t k = 0; k < nf && rc == 0; k++) {
                const char *field = schema->children[c]->children[0]->children[k]->name;
                pond_arrow_builder *b = NULL;
                rc = pond_arrow_builder_new(&b, "u");
                for (size_t i = 0; i < n && rc == 0; i++) {
                    bool is_name = !strcmp(field, "name");
                    const char *s = is_name                       ? e[i].name
                                    : !strcmp(field, "node_id")   ? e[i].id
                                    : !strcmp(field, "file_type") ? e[i].type
                                                                  : e[i].part_id;
                    size_t len = is_name ? e[i].name_len : s ? strlen(s) : 0;
                    rc = s ? pond_arrow_builder_append_bytes(b, s, len)
                           : pond_arrow_builder_append_null(b);
                }
                if (rc == 0)
                    rc = pond_arrow_builder_finish(st->children[k], b);
                pond_arrow_builder_free(b);
            }
            continue;
        }
        pond_arrow_builder *b = NULL;
        if ((rc = pond_arrow_builder_new(&b, schema->children[c]->format)) < 0)
            break;
        if (!strcmp(name, "node_id"))
            rc = pond_arrow_builder_append_bytes(b, dir_id, strlen(dir_id));
        else if (!strcmp(name, "file_type"))
            rc = pond_arrow_builder_append_bytes(b, "directory", 9);
        else if (!strcmp(name, "version") || !strcmp(name, "txn_seq"))
            rc = pond_arrow_builder_append_int(b, version);
        else if (!strcmp(name, "timestamp"))
            rc = pond_arrow_builder_append_int(b, 1700000000000000);
        else if (!strcmp(name, "size"))
            rc = pond_arrow_builder_append_int(b, (int64_t)n);
        else
            rc = pond_arrow_builder_append_null(b);
        if (rc == 0)
            rc = pond_arrow_builder_finish(out->children[c], b);
        pond_arrow_builder_free(b);
    }
    return rc;
}

int craft_listing(const char *pond_path, const char *dir_id, const craft_entry *entries, size_t n)
{
    return craft_listing_format(pond_path, 2, dir_id, entries, n);
}

int craft_listing_format(const char *pond_path, int format, const char *dir_id,
                         const craft_entry *entries, size_t n)
{
    for (size_t i = 0; i < n && format < 2; i++)
        if (entries[i].part_id)
            return pond_error_set(POND_EINVALID, POND_DOM_OPLOG,
                                  "craft: entry %zu has a part_id, which format %d cannot hold", i,
                                  format);
    int64_t latest;
    int rc = pond_delta_latest_version(&latest, pond_path);
    if (rc < 0)
        return rc;
    /* the new transaction's number is above every version any node can have */
    int64_t txn = latest + 1;
    char rel[256], path[4500], sub[4500];
    snprintf(sub, sizeof sub, "%s/part_id=%s", pond_path, dir_id);
    snprintf(rel, sizeof rel, "part_id=%s/%020lld-c0ffee00.parquet", dir_id, (long long)txn);
    snprintf(path, sizeof path, "%s/%s", pond_path, rel);
    (void)pond__mkdir(sub, true, POND_DOM_OPLOG);
    struct ArrowSchema schema = {0};
    struct ArrowArray batch = {0};
    pond_delta_actions *a = NULL;
    pond_buf file = POND_BUF_INIT;
    if ((rc = pond_oplog__arrow_schema(&schema, format)) < 0 ||
        (rc = build_batch(&batch, &schema, dir_id, txn, entries, n)) < 0)
        goto done;
    const struct ArrowArray *batches[] = {&batch};
    pond_parquet_writer_options wo = POND_PARQUET_WRITER_OPTIONS_INIT;
    if ((rc = pond_parquet_write_file(path, &schema, batches, 1, &wo)) < 0 ||
        (rc = pond__read_file(&file, path, (size_t)1 << 30, POND_DOM_OPLOG)) < 0)
        goto done;
    pond_hash sha;
    char hex[65], stats[128];
    if ((rc = pond_sha256_buf(&sha, file.ptr, file.size)) < 0)
        goto done;
    pond_hash_hex(hex, &sha);
    snprintf(stats, sizeof stats, "{\"numRecords\":1}");
    pond_delta_kv pv = {"part_id", dir_id}, tag = {OPLOG_TAG_SHA256, hex};
    pond_delta_file_desc f = {POND_DELTA_FILE_DESC_VERSION,
                              rel,
                              &pv,
                              1,
                              (int64_t)file.size,
                              1700000000000,
                              0,
                              true,
                              stats,
                              &tag,
                              1};
    if ((rc = pond_delta_actions_new(&a)) < 0 || (rc = pond_delta_actions_add(a, &f)) < 0 ||
        (rc = pond_delta_actions_commit_info(a, 1700000000000, "WRITE", NULL,
                                             "{\"pondMeta\":{\"pondCommand\":[\"craft\"]}}")) < 0)
        goto done;
    rc = pond_delta_commit_write(pond_path, txn, a);
done:
    pond_delta_actions_free(a);
    pond_buf_dispose(&file);
    pond_arrow_array_release(&batch);
    pond_arrow_schema_release(&schema);
    return rc;
}
