#include "cli/cli_pond.h"

#include <pond/parquet.h>
#include <pond/table.h>
#include <pond/timefmt.h>

#include <stdio.h>
#include <string.h>

static int read_at(void *payload, int64_t off, void *buf, size_t len, size_t *n_out)
{
    return pond_reader_pread(payload, buf, len, off, n_out);
}

/* Rows and (when schema_out) the Arrow schema of one version's Parquet footer. */
static int version_info(int64_t *rows, struct ArrowSchema *schema_out, cli_pond *p,
                        const char *path, int64_t version)
{
    pond_reader *r = NULL;
    pond_parquet_reader *pq = NULL;
    int rc = pond_fs_open_reader_version(&r, p->fs, NULL, path, version);
    if (rc == 0) {
        pond_parquet_source src = {read_at, pond_reader_size(r), r};
        rc = pond_parquet_reader_open(&pq, &src, NULL);
    }
    if (rc == 0) {
        *rows = pond_parquet_reader_num_rows(pq);
        if (schema_out)
            rc = pond_parquet_reader_schema(pq, schema_out);
    }
    pond_parquet_reader_free(pq);
    pond_reader_free(r);
    return rc;
}

static void print_schema(const struct ArrowSchema *s)
{
    int width = 20; /* the type column lines up even after a long name */
    for (int64_t k = 0; k < s->n_children; k++)
        if ((int)strlen(s->children[k]->name) > width)
            width = (int)strlen(s->children[k]->name);
    for (int64_t k = 0; k < s->n_children; k++) {
        char tn[POND_ARROW_TYPE_NAME_LEN];
        pond_arrow_type_name(tn, s->children[k]->format);
        printf("    %-*s %s%s\n", width, s->children[k]->name, tn,
               s->children[k]->flags & ARROW_FLAG_NULLABLE ? "" : " not null");
    }
}

static void print_settings(const pond_series_settings *set)
{
    printf("  timestamp column: %s\n",
           set->timestamp_column ? set->timestamp_column : "(none yet)");
    /* a series written before zones were recorded read its values as UTC */
    printf("  time zone: %s\n", set->timezone ? set->timezone : "UTC");
    if (set->n_time_formats) {
        printf("  time formats:");
        for (size_t k = 0; k < set->n_time_formats; k++)
            printf(" '%s'", set->time_formats[k]);
        printf("\n");
    }
    if (set->dedup == POND_DEDUP_LAST) {
        printf("  dedup: last");
        for (size_t k = 0; k < set->n_dedup_keys; k++)
            printf("%s%s", k ? "," : ":", set->dedup_keys[k]);
        printf(" (of rows with the same timestamp%s, reads return the newest version's)\n",
               set->n_dedup_keys ? " and key" : "");
    }
    if (set->compact_after > 0)
        printf("  compaction: after %lld versions\n", (long long)set->compact_after);
}

/* What a derived node is computed from, and what depends on a source. */
static int print_derived(pond_fs_node *h)
{
    char *what = NULL, **deps = NULL;
    size_t nd = 0;
    int rc = pond_derive_describe(&what, h);
    if (rc == 0 && what)
        printf("  derived:  %s\n", what);
    if (rc == 0)
        rc = pond_derive_dependents(&deps, &nd, h);
    for (size_t k = 0; k < nd; k++) {
        printf("%s%s", k ? ", " : "  derived nodes: ", deps[k]);
        pond_free(deps[k]);
    }
    if (nd)
        printf(" (refreshed by each write)\n");
    pond_free(deps);
    pond_free(what);
    return rc;
}

static int describe_file(cli_pond *p, pond_fs_node *h, const pond_stat *st)
{
    bool tabular = st->type != POND_ENTRY_FILE_DATA;
    bool series = st->type == POND_ENTRY_FILE_SERIES;
    pond_series_version_info *vi = NULL;
    pond_stat *vs = NULL;
    size_t nv = 0;
    int rc = 0;
    if (pond_fs_node_versions(&vs, &nv, h) < 0 ||
        (series && pond_series_node_versions(&vi, &nv, h) < 0)) {
        pond_free(vs);
        return cli_fail();
    }
    if (series) {
        pond_series_settings set;
        if (pond_series_node_settings_get(&set, h) < 0) {
            pond_free(vs);
            pond_free(vi);
            return cli_fail();
        }
        print_settings(&set);
        pond_series_settings_dispose(&set);
        if (print_derived(h) < 0) {
            pond_free(vs);
            pond_free(vi);
            return cli_fail();
        }
    }
    if (tabular && nv > 0 && (series || vs[nv - 1].size > 0)) {
        struct ArrowSchema s = {0};
        if (pond_table_node_schema(&s, h) == 0) {
            if (series)
                printf("  schema (all versions):\n");
            else
                printf("  schema (version %lld):\n", (long long)vs[nv - 1].version);
            print_schema(&s);
            s.release(&s);
        } else {
            printf("  schema:   unreadable: %s\n", pond_error_last()->message);
        }
    }
    printf("  versions: %zu\n", nv);
    int64_t total_rows = 0, total_size = 0;
    int vw = 1, tw = 1; /* digits of the largest version and transaction numbers */
    for (size_t i = 0; i < nv; i++) {
        int a = snprintf(NULL, 0, "%lld", (long long)vs[i].version);
        int b = snprintf(NULL, 0, "%lld", (long long)vs[i].txn_seq);
        vw = a > vw ? a : vw;
        tw = b > tw ? b : tw;
    }
    for (size_t i = 0; i < nv && rc == 0; i++) {
        char when[40], sz[32];
        cli_time_seconds(when, vs[i].mtime_us);
        cli_human_size(sz, vs[i].size);
        total_size += vs[i].size; /* what the series holds, as list -l says */
        pond_oplog_storage so;
        const char *where = "inline";
        if (pond_oplog_storage_of(&so, p->be, &vs[i].id, vs[i].version) == 0 && so.in_store)
            where = so.blob_path;
        printf("    v%-*lld  %s  %10s  txn %*lld  %s", vw, (long long)vs[i].version, when, sz,
               tw, (long long)vs[i].txn_seq, where);
        if (tabular && vs[i].size > 0) {
            int64_t rows = vi ? vi[i].rows : -1;
            if (rows < 0 && version_info(&rows, NULL, p, pond_fs_node_path(h),
                                         vs[i].version) < 0)
                rows = -1; /* not in the index and unreadable: no count */
            if (rows >= 0) {
                printf("  %lld row%s", (long long)rows, rows == 1 ? "" : "s");
                if (!vi || !vi[i].replaced_by)
                    total_rows += rows;
            }
        }
        if (series && vs[i].size == 0)
            printf("  no rows");
        if (vs[i].has_event_time) {
            char a[40], b[40];
            pond_time_format_iso(a, vs[i].min_event_time_us);
            pond_time_format_iso(b, vs[i].max_event_time_us);
            printf("  %s .. %s", a, b);
        }
        if (vi && vi[i].replaces_lo > 0)
            printf("  compacts v%lld..v%lld", (long long)vi[i].replaces_lo,
                   (long long)vi[i].replaces_hi);
        if (vi && vi[i].replaced_by)
            printf("  replaced by v%lld", (long long)vi[i].replaced_by);
        printf("\n");
    }
    if (series) {
        char sz[32];
        cli_human_size(sz, total_size);
        printf("  rows:     %lld in all versions (%s)\n", (long long)total_rows, sz);
    }
    pond_free(vs);
    pond_free(vi);
    return rc;
}

static int describe_one(cli_pond *p, const char *path)
{
    pond_fs_node *h = NULL;
    pond_stat st;
    if (pond_fs_node_open(&h, p->fs, NULL, path, POND_FS_NODE_NOFOLLOW) < 0 ||
        pond_fs_node_stat(&st, h) < 0) {
        pond_fs_node_free(h);
        return cli_fail();
    }
    char id[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(id, &st.id);
    printf("%s\n  type:     %s\n  node:     %s\n", pond_fs_node_path(h),
           pond_entry_type_name(st.type), id);
    int rc = 0;
    if (st.type == POND_ENTRY_SYMLINK) {
        char *t = NULL;
        if (pond_fs_readlink(&t, p->fs, NULL, path) < 0)
            rc = cli_fail();
        else
            printf("  target:   %s\n", t);
        pond_free(t);
    } else if (st.type == POND_ENTRY_DIRECTORY) {
        printf("  entries:  %lld\n  version:  %lld\n", (long long)st.size, (long long)st.version);
    } else {
        rc = describe_file(p, h, &st);
    }
    pond_fs_node_free(h);
    return rc;
}

int cmd_describe(pond_cli *cli, int argc, char **argv)
{
    const cli_spec spec = {
        .command = "describe",
        .operands = "PATH...",
        .about = "Describe entries: type, versions with sizes, storage (inline in the pond's\n"
                 "table or a blob in _large_files/), and for tables and series the schema, row\n"
                 "counts, the timestamp column, the time zone its times without a zone are\n"
                 "read in, its time formats, and each version's event-time range (UTC). A\n"
                 "series shows its read rule (dedup), its compaction policy and the columns of\n"
                 "all its versions, from its index; a compacted version says which versions it\n"
                 "replaces, and each replaced version by which one it was replaced (reads skip\n"
                 "it).\n",
        .missing = "no path given",
        .min_operands = 1,
        .max_operands = -1,
    };
    int n, rc = cli_parse(&n, &spec, argc, argv);
    if (rc >= 0)
        return rc;
    cli_pond p;
    if (cli_pond_open(&p, cli, false))
        return 1;
    rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = describe_one(&p, argv[i]);
    cli_pond_close(&p);
    return rc;
}
