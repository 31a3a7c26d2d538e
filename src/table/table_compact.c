/* Series compaction: the versions written since the last compaction become one version with
 * exactly their rows in their order, recorded as replacing them (docs/format.md, "The series
 * index"). Incremental by construction: a run never reads a version an earlier run wrote. */
#include "table/table_internal.h"

#include <string.h>

#define D POND_DOM_TABLE

int pond_series_compact(pond_series_compact_result *out, pond_fs_node *node,
                        const pond_series_compact_options *opts)
{
    POND_ASSERT_ARG(out && node);
    memset(out, 0, sizeof *out);
    pond_series_compact_options def = POND_SERIES_COMPACT_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    int64_t min = opts->min_versions > 2 ? opts->min_versions : 2;
    const char *path = pond_fs_node_path(node);
    pond_stat st;
    int64_t last_txn = 0;
    int rc = pond_fs_node_stat(&st, node);
    if (rc == 0)
        rc = pond_fs_last_txn(&last_txn, pond_fs_node_fs(node));
    if (rc < 0)
        return rc;
    if (st.type != POND_ENTRY_FILE_SERIES)
        return pond_error_set(POND_EINVALID, D, "%s is a %s: only a series is compacted", path,
                              pond_entry_type_name(st.type));
    if (st.txn_seq > last_txn)
        return pond_error_set(POND_EBUSY, D,
                              "%s was written in this transaction: compact it in one of its own",
                              path);
    table_attrs a;
    pond_stat *vs = NULL;
    size_t nv = 0;
    if ((rc = pond_table__attrs_read(&a, node)) < 0)
        return rc;
    if ((rc = pond_fs_node_versions(&vs, &nv, node)) < 0) {
        pond_table__attrs_dispose(&a);
        return rc;
    }
    /* the newest compacted version this snapshot holds: everything up to it is compacted */
    int64_t after = 0;
    for (size_t c = 0; c < a.n_comps; c++)
        for (size_t i = 0; i < nv; i++)
            if (vs[i].version == a.comps[c].version && a.comps[c].version > after)
                after = a.comps[c].version;
    int64_t lo = 0, hi = 0, n = 0;
    pond_hash *hashes = pond_calloc(nv ? nv : 1, sizeof *hashes);
    if (!hashes) {
        pond_free(vs);
        pond_table__attrs_dispose(&a);
        return POND_ENOMEM;
    }
    for (size_t i = 0; i < nv; i++) {
        if (vs[i].version <= after || vs[i].size == 0)
            continue;
        if (!lo)
            lo = vs[i].version;
        hi = vs[i].version;
        hashes[n++] = vs[i].sha256;
    }
    if (n >= min && !a.set.timestamp_column)
        rc = pond_error_set(POND_EINVALID, D, "%s: the series records no timestamp column", path);
    if (rc == 0 && n >= min) {
        struct ArrowArrayStream in;
        pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
        wo.timestamp_column = a.set.timestamp_column;
        wo.timezone = a.set.timezone;
        pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
        ro.threads = wo.threads = opts->version >= 2 ? opts->threads : 0;
        pond_table_write_result res;
        if ((rc = pond_table__read_open(&in, node, &ro, lo, hi)) == 0)
            rc = pond_table__node_write(&res, node, POND_ENTRY_FILE_SERIES, &in, &wo, lo, hi,
                                        hashes, (size_t)n);
        if (rc == 0) {
            out->version = res.version;
            out->replaced_lo = lo;
            out->replaced_hi = hi;
            out->versions_replaced = n;
            out->rows = res.rows;
        } else {
            pond_error_prefix("compacting %s", path);
        }
    }
    pond_free(hashes);
    pond_free(vs);
    pond_table__attrs_dispose(&a);
    return rc;
}
