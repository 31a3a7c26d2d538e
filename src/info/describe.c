/* pond describe, gathered once and written as text or JSON (include/pond/describe.h). */
#include <pond/alloc.h>
#include <pond/describe.h>
#include <pond/errors.h>
#include <pond/oplog.h>
#include <pond/rows.h>
#include <pond/timefmt.h>

#include <stdio.h>
#include <string.h>

#include "table/table_scan.h"

void pond_describe_dispose(pond_describe *d)
{
    pond_free(d->path);
    pond_free(d->target);
    pond_series_settings_dispose(&d->settings);
    if (d->has_schema)
        pond_arrow_schema_release(&d->schema);
    pond_free(d->schema_error);
    pond_free(d->versions);
    pond_free(d->derived);
    for (size_t k = 0; k < d->n_dependents; k++)
        pond_free(d->dependents[k]);
    pond_free(d->dependents);
    memset(d, 0, sizeof *d);
}

int pond_describe_get(pond_describe *d, pond_fs *fs, pond_backend *be, const char *path)
{
    memset(d, 0, sizeof *d);
    pond_fs_node *h = NULL;
    pond_stat *vs = NULL;
    pond_series_version_info *vi = NULL;
    size_t nv = 0, ni = 0;
    int rc = pond_fs_node_open(&h, fs, NULL, path, POND_FS_NODE_NOFOLLOW);
    if (rc == 0)
        rc = pond_fs_node_stat(&d->st, h);
    if (rc == 0)
        rc = (d->path = pond_strdup(pond_fs_node_path(h))) ? 0 : POND_ENOMEM;
    if (rc < 0)
        goto done;
    pond_node_id_format(d->node_id, &d->st.id);
    if (d->st.type == POND_ENTRY_SYMLINK) {
        rc = pond_fs_readlink(&d->target, fs, NULL, path);
        goto done;
    }
    if (d->st.type == POND_ENTRY_DIRECTORY)
        goto done;
    bool tabular = d->st.type != POND_ENTRY_FILE_DATA;
    bool series = d->st.type == POND_ENTRY_FILE_SERIES;
    if ((rc = pond_fs_node_versions(&vs, &nv, h)) < 0)
        goto done;
    if (series && ((rc = pond_series_node_versions(&vi, &ni, h)) < 0 ||
                   (rc = pond_series_node_settings_get(&d->settings, h)) < 0 ||
                   (rc = pond_derive_describe(&d->derived, h)) < 0 ||
                   (rc = pond_derive_dependents(&d->dependents, &d->n_dependents, h)) < 0))
        goto done;
    if (vi && ni != nv) /* both lists come from the same log: a mismatch is a bug */
        pond_free(vi), vi = NULL;
    /* a series' columns are the merged schema of all its versions, from its index */
    if (tabular && nv > 0 && (series || vs[nv - 1].size > 0)) {
        d->schema_version = series ? 0 : vs[nv - 1].version;
        if (pond_table_node_schema(&d->schema, h) == 0)
            d->has_schema = true;
        else if (!(d->schema_error = pond_strdup(pond_error_last()->message))) {
            rc = POND_ENOMEM;
            goto done;
        }
    }
    if (!(d->versions = pond_calloc(nv ? nv : 1, sizeof *d->versions))) {
        rc = POND_ENOMEM;
        goto done;
    }
    d->n_versions = nv;
    /* only an oplog backend knows where content is stored */
    bool oplog = be && be->name && !strcmp(be->name, "oplog");
    for (size_t i = 0; i < nv; i++) {
        pond_describe_version *v = &d->versions[i];
        v->st = vs[i];
        v->rows = -1;
        d->total_size += vs[i].size; /* what the series holds, as list -l says */
        pond_oplog_storage so;
        if (oplog && pond_oplog_storage_of(&so, be, &vs[i].id, vs[i].version) == 0 && so.in_store) {
            v->in_store = true;
            snprintf(v->blob_path, sizeof v->blob_path, "%s", so.blob_path);
        }
        if (vi) {
            v->replaced_by = vi[i].replaced_by;
            v->replaces_lo = vi[i].replaces_lo;
            v->replaces_hi = vi[i].replaces_hi;
        }
        if (!tabular || vs[i].size == 0)
            continue;
        v->rows = vi ? vi[i].rows : -1;
        /* not in the index (written before it existed): the footer; unreadable: no count */
        if (v->rows < 0 && pond_table__version_footer(&v->rows, NULL, h, vs[i].version) < 0)
            v->rows = -1;
        if (v->rows >= 0 && !v->replaced_by)
            d->total_rows += v->rows;
    }
done:
    pond_free(vs);
    pond_free(vi);
    pond_fs_node_free(h);
    return rc;
}

int pond_describe_text(pond_buf *o, const pond_describe *d)
{
    int rc = pond_buf_printf(o, "%s\n  type:     %s\n  node:     %s\n", d->path,
                             pond_entry_type_name(d->st.type), d->node_id);
    if (d->st.type == POND_ENTRY_SYMLINK)
        return rc ? rc : pond_buf_printf(o, "  target:   %s\n", d->target ? d->target : "");
    if (d->st.type == POND_ENTRY_DIRECTORY)
        return rc ? rc
                  : pond_buf_printf(o, "  entries:  %lld\n  version:  %lld\n",
                                    (long long)d->st.size, (long long)d->st.version);
    bool tabular = d->st.type != POND_ENTRY_FILE_DATA;
    if (rc == 0 && d->st.type == POND_ENTRY_FILE_SERIES) {
        const pond_series_settings *s = &d->settings;
        rc = pond_buf_printf(o, "  timestamp column: %s\n",
                             s->timestamp_column ? s->timestamp_column : "(none yet)");
        /* a series written before zones were recorded read its values as UTC */
        if (rc == 0)
            rc = pond_buf_printf(o, "  time zone: %s\n", s->timezone ? s->timezone : "UTC");
        if (rc == 0 && s->n_time_formats) {
            rc = pond_buf_puts(o, "  time formats:");
            for (size_t k = 0; k < s->n_time_formats && rc == 0; k++)
                rc = pond_buf_printf(o, " '%s'", s->time_formats[k]);
            if (rc == 0)
                rc = pond_buf_putc(o, '\n');
        }
        if (rc == 0 && s->dedup == POND_DEDUP_LAST) {
            rc = pond_buf_puts(o, "  dedup: last");
            for (size_t k = 0; k < s->n_dedup_keys && rc == 0; k++)
                rc = pond_buf_printf(o, "%s%s", k ? "," : ":", s->dedup_keys[k]);
            if (rc == 0)
                rc = pond_buf_printf(
                    o, " (of rows with the same timestamp%s, reads return the newest version's)\n",
                    s->n_dedup_keys ? " and key" : "");
        }
        if (rc == 0 && s->compact_after > 0)
            rc = pond_buf_printf(o, "  compaction: after %lld versions\n",
                                 (long long)s->compact_after);
        if (rc == 0 && d->derived)
            rc = pond_buf_printf(o, "  derived:  %s\n", d->derived);
        for (size_t k = 0; k < d->n_dependents && rc == 0; k++)
            rc = pond_buf_printf(o, "%s%s", k ? ", " : "  derived nodes: ", d->dependents[k]);
        if (rc == 0 && d->n_dependents)
            rc = pond_buf_puts(o, " (refreshed by each write)\n");
    }
    if (rc == 0 && d->has_schema) {
        const struct ArrowSchema *s = &d->schema;
        rc = d->st.type == POND_ENTRY_FILE_SERIES
                 ? pond_buf_puts(o, "  schema (all versions):\n")
                 : pond_buf_printf(o, "  schema (version %lld):\n", (long long)d->schema_version);
        int width = 20; /* the type column lines up even after a long name */
        for (int64_t k = 0; k < s->n_children; k++)
            if ((int)strlen(s->children[k]->name) > width)
                width = (int)strlen(s->children[k]->name);
        for (int64_t k = 0; k < s->n_children && rc == 0; k++) {
            char tn[POND_ARROW_TYPE_NAME_LEN];
            pond_arrow_type_name(tn, s->children[k]->format);
            rc = pond_buf_printf(o, "    %-*s %s%s\n", width, s->children[k]->name, tn,
                                 s->children[k]->flags & ARROW_FLAG_NULLABLE ? "" : " not null");
        }
    } else if (rc == 0 && d->schema_error) {
        rc = pond_buf_printf(o, "  schema:   unreadable: %s\n", d->schema_error);
    }
    if (rc == 0)
        rc = pond_buf_printf(o, "  versions: %zu\n", d->n_versions);
    int vw = 1, tw = 1; /* digits of the largest version and transaction numbers */
    for (size_t i = 0; i < d->n_versions; i++) {
        int a = snprintf(NULL, 0, "%lld", (long long)d->versions[i].st.version);
        int b = snprintf(NULL, 0, "%lld", (long long)d->versions[i].st.txn_seq);
        vw = a > vw ? a : vw;
        tw = b > tw ? b : tw;
    }
    for (size_t i = 0; i < d->n_versions && rc == 0; i++) {
        const pond_describe_version *v = &d->versions[i];
        char when[40], sz[32];
        pond_format_time_seconds(when, v->st.mtime_us);
        pond_format_size(sz, v->st.size);
        rc = pond_buf_printf(o, "    v%-*lld  %s  %10s  txn %*lld  %s", vw,
                             (long long)v->st.version, when, sz, tw, (long long)v->st.txn_seq,
                             v->in_store ? v->blob_path : "inline");
        if (rc == 0 && tabular && v->rows >= 0)
            rc = pond_buf_printf(o, "  %lld row%s", (long long)v->rows, v->rows == 1 ? "" : "s");
        if (rc == 0 && d->st.type == POND_ENTRY_FILE_SERIES && v->st.size == 0)
            rc = pond_buf_puts(o, "  no rows");
        if (rc == 0 && v->st.has_event_time) {
            char a[40], b[40];
            pond_time_format_iso(a, v->st.min_event_time_us);
            pond_time_format_iso(b, v->st.max_event_time_us);
            rc = pond_buf_printf(o, "  %s .. %s", a, b);
        }
        /* a sql recipe's refresh is a whole recompute replacing every earlier version (the
         * index records it as a compaction without contents): say what it is */
        bool recompute = d->derived && !strncmp(d->derived, "sql ", 4);
        if (rc == 0 && v->replaces_lo > 0)
            rc = pond_buf_printf(
                o, recompute ? "  recomputed, replaces v%lld..v%lld" : "  compacts v%lld..v%lld",
                (long long)v->replaces_lo, (long long)v->replaces_hi);
        if (rc == 0 && v->replaced_by)
            rc = pond_buf_printf(o, "  replaced by v%lld", (long long)v->replaced_by);
        if (rc == 0)
            rc = pond_buf_putc(o, '\n');
    }
    if (rc == 0 && d->st.type == POND_ENTRY_FILE_SERIES) {
        char sz[32];
        pond_format_size(sz, d->total_size);
        rc = pond_buf_printf(o, "  rows:     %lld in all versions (%s)\n", (long long)d->total_rows,
                             sz);
    }
    return rc;
}

static int json_key_str(pond_buf *o, const char *key, const char *v)
{
    int rc = pond_buf_printf(o, ",\"%s\":", key);
    if (rc == 0)
        rc = v ? pond_buf_put_json_string(o, v, strlen(v)) : pond_buf_puts(o, "null");
    return rc;
}

static int json_time(pond_buf *o, const char *key, bool has, int64_t us)
{
    char t[40];
    if (!has)
        return pond_buf_printf(o, ",\"%s\":null", key);
    pond_time_format_iso(t, us);
    return pond_buf_printf(o, ",\"%s\":\"%s\"", key, t);
}

int pond_describe_json(pond_buf *o, const pond_describe *d)
{
    int rc = pond_buf_puts(o, "{\"path\":");
    if (rc == 0)
        rc = pond_buf_put_json_string(o, d->path, strlen(d->path));
    if (rc == 0)
        rc = pond_buf_printf(o, ",\"type\":\"%s\",\"node\":\"%s\",\"version\":%lld,\"txn\":%lld",
                             pond_entry_type_name(d->st.type), d->node_id, (long long)d->st.version,
                             (long long)d->st.txn_seq);
    if (rc == 0 && d->st.type == POND_ENTRY_SYMLINK)
        rc = json_key_str(o, "target", d->target);
    if (rc == 0 && d->st.type == POND_ENTRY_DIRECTORY)
        rc = pond_buf_printf(o, ",\"entries\":%lld", (long long)d->st.size);
    if (rc == 0 && d->st.type == POND_ENTRY_FILE_SERIES) {
        const pond_series_settings *s = &d->settings;
        rc = json_key_str(o, "timestamp_column", s->timestamp_column);
        if (rc == 0)
            rc = json_key_str(o, "timezone", s->timezone ? s->timezone : "UTC");
        if (rc == 0)
            rc = pond_buf_puts(o, ",\"time_formats\":[");
        for (size_t k = 0; k < s->n_time_formats && rc == 0; k++) {
            rc = k ? pond_buf_putc(o, ',') : 0;
            if (rc == 0)
                rc = pond_buf_put_json_string(o, s->time_formats[k], strlen(s->time_formats[k]));
        }
        if (rc == 0)
            rc = pond_buf_putc(o, ']');
        if (rc == 0 && s->dedup == POND_DEDUP_LAST) {
            rc = pond_buf_puts(o, ",\"dedup\":{\"rule\":\"last\",\"keys\":[");
            for (size_t k = 0; k < s->n_dedup_keys && rc == 0; k++) {
                rc = k ? pond_buf_putc(o, ',') : 0;
                if (rc == 0)
                    rc = pond_buf_put_json_string(o, s->dedup_keys[k], strlen(s->dedup_keys[k]));
            }
            if (rc == 0)
                rc = pond_buf_puts(o, "]}");
        } else if (rc == 0) {
            rc = pond_buf_puts(o, ",\"dedup\":null");
        }
        if (rc == 0)
            rc = s->compact_after > 0
                     ? pond_buf_printf(o, ",\"compact_after\":%lld", (long long)s->compact_after)
                     : pond_buf_puts(o, ",\"compact_after\":null");
        if (rc == 0)
            rc = json_key_str(o, "derived", d->derived);
        if (rc == 0)
            rc = pond_buf_puts(o, ",\"dependents\":[");
        for (size_t k = 0; k < d->n_dependents && rc == 0; k++) {
            rc = k ? pond_buf_putc(o, ',') : 0;
            if (rc == 0)
                rc = pond_buf_put_json_string(o, d->dependents[k], strlen(d->dependents[k]));
        }
        if (rc == 0)
            rc = pond_buf_putc(o, ']');
    }
    if (rc == 0 && d->has_schema) {
        /* a series' schema is the merged one of all versions: schema_version null */
        rc = d->schema_version > 0 ? pond_buf_printf(o, ",\"schema_version\":%lld,\"schema\":[",
                                                     (long long)d->schema_version)
                                   : pond_buf_puts(o, ",\"schema_version\":null,\"schema\":[");
        for (int64_t k = 0; k < d->schema.n_children && rc == 0; k++) {
            const struct ArrowSchema *c = d->schema.children[k];
            char tn[POND_ARROW_TYPE_NAME_LEN];
            pond_arrow_type_name(tn, c->format);
            rc = pond_buf_puts(o, k ? ",{\"name\":" : "{\"name\":");
            if (rc == 0)
                rc = pond_buf_put_json_string(o, c->name, strlen(c->name));
            if (rc == 0)
                rc = json_key_str(o, "type", tn);
            if (rc == 0)
                rc = pond_buf_printf(o, ",\"nullable\":%s}",
                                     c->flags & ARROW_FLAG_NULLABLE ? "true" : "false");
        }
        if (rc == 0)
            rc = pond_buf_putc(o, ']');
    } else if (rc == 0 && d->schema_error) {
        rc = json_key_str(o, "schema_error", d->schema_error);
    }
    if (rc == 0 && d->st.type != POND_ENTRY_DIRECTORY && d->st.type != POND_ENTRY_SYMLINK) {
        rc = pond_buf_puts(o, ",\"versions\":[");
        for (size_t i = 0; i < d->n_versions && rc == 0; i++) {
            const pond_describe_version *v = &d->versions[i];
            rc = pond_buf_printf(o, "%s{\"version\":%lld,\"txn\":%lld,\"size\":%lld", i ? "," : "",
                                 (long long)v->st.version, (long long)v->st.txn_seq,
                                 (long long)v->st.size);
            if (rc == 0)
                rc = json_time(o, "time", true, v->st.mtime_us);
            if (rc == 0)
                rc = json_key_str(o, "storage", v->in_store ? v->blob_path : "inline");
            if (rc == 0)
                rc = v->rows >= 0 ? pond_buf_printf(o, ",\"rows\":%lld", (long long)v->rows)
                                  : pond_buf_puts(o, ",\"rows\":null");
            if (rc == 0)
                rc = json_time(o, "min_event_time", v->st.has_event_time, v->st.min_event_time_us);
            if (rc == 0)
                rc = json_time(o, "max_event_time", v->st.has_event_time, v->st.max_event_time_us);
            if (rc == 0 && d->st.type == POND_ENTRY_FILE_SERIES)
                rc = v->replaced_by
                         ? pond_buf_printf(o, ",\"replaced_by\":%lld", (long long)v->replaced_by)
                         : pond_buf_puts(o, ",\"replaced_by\":null");
            if (rc == 0 && d->st.type == POND_ENTRY_FILE_SERIES)
                rc = v->replaces_lo > 0
                         ? pond_buf_printf(o, ",\"replaces\":[%lld,%lld]",
                                           (long long)v->replaces_lo, (long long)v->replaces_hi)
                         : pond_buf_puts(o, ",\"replaces\":null");
            if (rc == 0)
                rc = pond_buf_putc(o, '}');
        }
        if (rc == 0)
            rc = pond_buf_printf(o, "],\"rows\":%lld,\"size\":%lld", (long long)d->total_rows,
                                 (long long)d->total_size);
    }
    return rc ? rc : pond_buf_putc(o, '}');
}
