/* One export of one source: compare the source's versions with the directory's state, read
 * what is new (or the partitions that must be written again), write it, publish it
 * (docs/export.md has the rules and the crash-safety argument). */
#include "export/export_internal.h"

#include <pond/delta.h>
#include <pond/table.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>

static const pond_export_options DEFAULTS = POND_EXPORT_OPTIONS_INIT;

int pond_export_partition_parse(pond_export_partition *out, const char *text)
{
    static const struct {
        const char *name;
        pond_export_partition p;
    } forms[] = {{"none", POND_EXPORT_PARTITION_NONE},
                 {"year", POND_EXPORT_PARTITION_YEAR},
                 {"year,month", POND_EXPORT_PARTITION_MONTH},
                 {"year,month,day", POND_EXPORT_PARTITION_DAY}};
    for (size_t i = 0; i < POND_ARRAY_LEN(forms); i++)
        if (!strcmp(text, forms[i].name)) {
            *out = forms[i].p;
            return 0;
        }
    return pond_error_set(POND_EINVALID, EX_D,
                          "unknown partitioning '%s' (none, year, year,month or year,month,day)",
                          text);
}

int pond_export_subdir(char **out, const char *dir, const char *pond_path)
{
    *out = NULL;
    char *norm = NULL;
    int rc = pond_path_normalize(&norm, NULL, NULL, pond_path);
    if (rc < 0)
        return rc;
    for (const char *c = norm + 1; *c && rc == 0;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (c[0] == '_' || c[0] == '.')
            rc = pond_error_set(POND_EINVALID, EX_D,
                                "%s: '%.*s' starts with '%c', so engines would skip its directory; "
                                "export it alone into a directory of its own",
                                norm, (int)n, c, c[0]);
        else if (memchr(c, '=', n))
            rc =
                pond_error_set(POND_EINVALID, EX_D,
                               "%s: '%.*s' contains '=', so engines would take its directory for a "
                               "partition; export it alone into a directory of its own",
                               norm, (int)n, c);
        c = e ? e + 1 : c + n;
    }
    if (rc == 0 && !(*out = pond__path_join(dir, norm + 1)))
        rc = POND_ENOMEM;
    pond_free(norm);
    return rc;
}

/* ---- the versions of the source ---- */

enum { V_NEW = 0, V_KEPT, V_REPLACED };

typedef struct {
    pond_stat st;
    int status;
    ex_ver rec; /* rows, digest, partitions (parts owned) */
    bool have_rec;
} cver;

typedef struct {
    cver *cur;
    size_t n_cur;
    bool *old_kept;    /* per version of the old state: still there, unchanged */
    pond_buf affected; /* char *: partition key texts to write again */
    bool all;          /* every partition (a full export) */
} plan;

static bool in_affected(const plan *p, const char *key)
{
    if (p->all)
        return true;
    char *const *v = (char *const *)p->affected.ptr;
    for (size_t i = 0; i < p->affected.size / sizeof(char *); i++)
        if (!strcmp(v[i], key))
            return true;
    return false;
}

static int add_affected(plan *p, const char *key, size_t len)
{
    char *k = pond_strndup(key, len);
    if (!k)
        return POND_ENOMEM;
    if (in_affected(p, k)) {
        pond_free(k);
        return 0;
    }
    int rc = pond_buf_put(&p->affected, &k, sizeof k);
    if (rc < 0)
        pond_free(k);
    return rc;
}

static int add_affected_parts(plan *p, const char *parts)
{
    int rc = 0;
    for (const char *s = parts; s && *s && rc == 0;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        rc = add_affected(p, s, n);
        s = e ? e + 1 : s + n;
    }
    return rc;
}

static bool parts_meet(const plan *p, const char *parts)
{
    if (p->all)
        return parts && *parts;
    for (const char *s = parts; s && *s;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char *const *v = (char *const *)p->affected.ptr;
        for (size_t i = 0; i < p->affected.size / sizeof(char *); i++)
            if (strlen(v[i]) == n && !memcmp(v[i], s, n))
                return true;
        s = e ? e + 1 : s + n;
    }
    return false;
}

static void plan_dispose(plan *p)
{
    for (size_t i = 0; i < p->n_cur; i++)
        pond_free(p->cur[i].rec.parts);
    pond_free(p->cur);
    pond_free(p->old_kept);
    char **v = (char **)p->affected.ptr;
    for (size_t i = 0; i < p->affected.size / sizeof(char *); i++)
        pond_free(v[i]);
    pond_buf_dispose(&p->affected);
}

/* ---- reading one version ---- */

typedef struct {
    ex_key key;
    char text[40];
    pond_buf idx; /* int64_t */
    int64_t n;
} group;

typedef struct {
    bool write, digest, filter;
} rmode;

static int stream_fail(struct ArrowArrayStream *s, int e)
{
    const char *m = s->get_last_error ? s->get_last_error(s) : NULL;
    int code = e == ENOMEM    ? POND_ENOMEM
               : e == EINVAL  ? POND_EINVALID
               : e == ENOENT  ? POND_ENOTFOUND
               : e == ENOTSUP ? POND_EUNSUPPORTED
                              : POND_ECORRUPT;
    return pond_error_set(code, EX_D, "%s", m ? m : strerror(e));
}

/* The stream of one version, reading only the wanted columns that version has. */
static int open_version(struct ArrowArrayStream *out, ex_ctx *c, int64_t version, bool has_range,
                        int64_t lo, int64_t hi)
{
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.file_version = version;
    ro.has_range = has_range;
    ro.from_us = lo;
    ro.to_us = hi;
    int rc = pond_table_read_stream(out, c->fs, NULL, c->path, &ro);
    if (rc < 0 || !c->read_cols)
        return rc;
    struct ArrowSchema s = {0};
    int e = out->get_schema(out, &s);
    if (e) {
        rc = stream_fail(out, e);
        out->release(out);
        return rc;
    }
    const char **names = pond_calloc((size_t)c->n_read_cols + 1, sizeof *names);
    int nn = 0;
    pond__strmap have = {0}; /* the columns there are: one lookup per name, not a loop */
    for (int64_t k = 0; names && k < s.n_children; k++)
        if (s.children[k]->name && pond__strmap_put(&have, s.children[k]->name, k) < 0) {
            pond_free(names);
            names = NULL;
        }
    for (int i = 0; names && i < c->n_read_cols; i++)
        if (pond__strmap_get(&have, c->read_cols[i]) >= 0)
            names[nn++] = c->read_cols[i];
    pond__strmap_dispose(&have);
    if (!names) {
        rc = POND_ENOMEM;
    } else if (nn > 0) { /* with none of them, read everything: the rows still count */
        out->release(out);
        ro.columns = names;
        ro.n_columns = nn;
        rc = pond_table_read_stream(out, c->fs, NULL, c->path, &ro);
    }
    if (rc < 0 && out->release)
        out->release(out);
    pond_free(names);
    pond_arrow_schema_release(&s);
    return rc;
}

static int parts_add(pond_buf *parts, const char *text)
{
    /* kept as ",a,b," while reading so membership is one search */
    size_t n = strlen(text);
    if (parts->size == 0 && pond_buf_putc(parts, ',') < 0)
        return POND_ENOMEM;
    for (const char *s = parts->ptr; (s = strstr(s, text));) {
        if (s[-1] == ',' && s[n] == ',')
            return 0;
        s++;
    }
    int rc = pond_buf_puts(parts, text);
    return rc ? rc : pond_buf_putc(parts, ',');
}

/* Groups the rows of batch b by partition (c->et bound to its schema). One group without an
 * index list when every row falls in the same partition (sorted series: nearly always). */
static int group_rows(pond_buf *groups, size_t *ng, ex_ctx *c, const struct ArrowArray *b)
{
    group *g = (group *)groups->ptr;
    int64_t n = b->length;
    *ng = 0;
    ex_key cur = {0, 0, 0, true};
    int64_t lo = 0, hi = 0, us;
    bool have = false;
    /* first: does one partition hold all rows? */
    int64_t i = 0;
    if (c->level == 0) {
        i = n;
    } else {
        for (; i < n; i++) {
            bool v = pond_event_time_of_row(&us, c->et, b, i);
            if (!have) {
                cur = v ? pond_ex_key_of(us, c->level) : (ex_key){0, 0, 0, true};
                if (!cur.null)
                    pond_ex_key_span(&cur, c->level, &lo, &hi);
                have = true;
            } else if (cur.null ? v : (!v || us < lo || us >= hi)) {
                break;
            }
        }
    }
    if (groups->size < sizeof(group)) {
        group z = {{0, 0, 0, false}, "", POND_BUF_INIT, 0};
        if (pond_buf_put(groups, &z, sizeof z) < 0)
            return POND_ENOMEM;
        g = (group *)groups->ptr;
    }
    if (i == n) {
        g[0].key = c->level ? cur : (ex_key){0, 0, 0, false};
        pond_ex_key_text(g[0].text, &g[0].key, c->level);
        g[0].n = n;
        g[0].idx.size = 0;
        *ng = 1;
        return 0;
    }
    /* several partitions: an index list per partition */
    size_t last = 0;
    for (i = 0; i < n; i++) {
        bool v = pond_event_time_of_row(&us, c->et, b, i);
        ex_key k = v ? pond_ex_key_of(us, c->level) : (ex_key){0, 0, 0, true};
        size_t gi;
        if (*ng && pond_ex_key_equal(&g[last].key, &k)) {
            gi = last;
        } else {
            for (gi = 0; gi < *ng && !pond_ex_key_equal(&g[gi].key, &k); gi++)
                ;
            if (gi == *ng) {
                if (groups->size < (gi + 1) * sizeof(group)) {
                    group z = {{0, 0, 0, false}, "", POND_BUF_INIT, 0};
                    if (pond_buf_put(groups, &z, sizeof z) < 0)
                        return POND_ENOMEM;
                    g = (group *)groups->ptr;
                }
                g[gi].key = k;
                pond_ex_key_text(g[gi].text, &k, c->level);
                g[gi].n = 0;
                g[gi].idx.size = 0;
                ++*ng;
            }
        }
        last = gi;
        if (pond_buf_put(&g[gi].idx, &i, sizeof i) < 0)
            return POND_ENOMEM;
        g[gi].n++;
    }
    return 0;
}

/* A version's record from what was read of it: rows, digest, partitions (reset after). */
static int finish_rec(cver *v, ex_digest *dg, pond_buf *parts)
{
    pond_free(v->rec.parts);
    v->rec.parts = NULL;
    int rc = 0;
    if (parts->size > 1) {
        parts->ptr[parts->size - 1] = '\0'; /* the trailing ',' */
        v->rec.parts = pond_strdup(parts->ptr + 1);
    } else {
        v->rec.parts = pond_strdup("");
    }
    if (!v->rec.parts)
        rc = POND_ENOMEM;
    v->rec.rows = dg->rows;
    v->rec.s1 = dg->s1;
    v->rec.s2 = dg->s2;
    v->have_rec = rc == 0;
    memset(dg, 0, sizeof *dg);
    pond_buf_clear(parts);
    return rc;
}

/* Reads a stream over the versions sel[0..nsel) (in version order) and writes, digests or
 * filters its rows as m says. With several versions, each batch's version is the number of
 * versions the table reader has opened so far (it hands out every batch of a version before
 * it opens the next). */
static int scan(ex_ctx *c, const plan *p, struct ArrowArrayStream *st, cver **sel, size_t nsel,
                rmode m)
{
    struct ArrowSchema bs = {0};
    pond_buf groups = POND_BUF_INIT, parts = POND_BUF_INIT;
    int *map = NULL;
    ex_digest dg = {0, 0, 0};
    size_t cur = 0;
    int64_t nout = c->out_schema.n_children;
    int rc = 0, e = st->get_schema(st, &bs);
    if (e) {
        rc = stream_fail(st, e);
        goto done;
    }
    if (bs.n_children == 0)
        goto finish; /* no rows */
    if (!(map = pond_calloc((size_t)(nout ? nout : 1), sizeof *map))) {
        rc = POND_ENOMEM;
        goto done;
    }
    pond__strmap in = {0}; /* the batch's columns by name: wide exports stay linear */
    for (int64_t i = 0; i < bs.n_children && rc == 0; i++)
        if (bs.children[i]->name && pond__strmap_put(&in, bs.children[i]->name, i) < 0)
            rc = POND_ENOMEM;
    for (int64_t k = 0; k < nout && rc == 0; k++)
        map[k] = (int)pond__strmap_get(&in, c->out_schema.children[k]->name);
    pond__strmap_dispose(&in);
    if (rc < 0)
        goto done;
    if (c->level > 0 && (rc = pond_event_time_bind(c->et, &bs)) < 0) {
        pond_error_prefix("%s: partitioning by event time", c->path);
        goto done;
    }
    for (;;) {
        struct ArrowArray b = {0};
        if ((e = st->get_next(st, &b)) != 0) {
            rc = stream_fail(st, e);
            break;
        }
        if (!b.release)
            break;
        if (nsel > 1 && m.digest) {
            pond_table_scan_stats ss;
            size_t k = pond_table_stream_stats(&ss, st) == 0 && ss.versions_read > 0
                           ? (size_t)ss.versions_read - 1
                           : nsel;
            if (k < cur || k >= nsel)
                rc = pond_error_set(POND_ERROR, EX_D,
                                    "%s: the series reader opened versions out of the expected "
                                    "order",
                                    c->path);
            while (rc == 0 && cur < k)
                rc = finish_rec(sel[cur++], &dg, &parts);
        }
        int64_t n = b.length;
        if (rc == 0 && m.digest && n > 0) {
            rc = pond_buf_grow(&c->hashes, (size_t)n * 8);
            uint64_t *h = (uint64_t *)c->hashes.ptr;
            for (int64_t i = 0; rc == 0 && i < n; i++)
                h[i] = UINT64_C(0x243f6a8885a308d3);
            for (int64_t k = 0; k < nout && rc == 0; k++)
                rc = pond_ex_hash_column(h, map[k] >= 0 ? bs.children[map[k]] : NULL,
                                         map[k] >= 0 ? b.children[map[k]] : NULL, b.offset, n);
            if (rc == 0)
                pond_ex_digest_add_rows(&dg, h, n);
        }
        size_t ng = 0;
        if (rc == 0 && n > 0)
            rc = group_rows(&groups, &ng, c, &b);
        group *g = (group *)groups.ptr;
        for (size_t i = 0; i < ng && rc == 0; i++) {
            if (m.digest)
                rc = parts_add(&parts, g[i].text);
            if (rc == 0 && m.write && (!m.filter || in_affected(p, g[i].text)))
                rc = pond_ex_emit(c, &g[i].key, &b, map,
                                  g[i].idx.size ? (int64_t *)g[i].idx.ptr : NULL, g[i].n);
        }
        pond_arrow_array_release(&b);
        if (rc < 0)
            break;
    }
finish:
    /* the current version, and those after it that gave no row */
    while (rc == 0 && m.digest && cur < nsel)
        rc = finish_rec(sel[cur++], &dg, &parts);
done:
    for (size_t i = 0; i < groups.size / sizeof(group); i++)
        pond_buf_dispose(&((group *)groups.ptr)[i].idx);
    pond_buf_dispose(&groups);
    pond_buf_dispose(&parts);
    pond_free(map);
    pond_arrow_schema_release(&bs);
    return rc;
}

/* Whether version v can hold rows in [lo, hi): the table reader's own rule, so that a stream
 * over several versions opens exactly those (scan attributes batches by that count). */
static bool may_overlap(const cver *v, bool has, int64_t lo, int64_t hi)
{
    return !has || pond_series_version_in_range(&v->st, lo, hi);
}

static int empty_rec(cver *v)
{
    ex_digest dg = {0, 0, 0};
    pond_buf parts = POND_BUF_INIT;
    int rc = finish_rec(v, &dg, &parts);
    pond_buf_dispose(&parts);
    return rc;
}

/* The event-time range a read needs: the export's, narrowed with filter to the spans of the
 * partitions written again. False when it is empty. */
static bool read_range(const ex_ctx *c, const plan *p, bool filter, bool *has_out, int64_t *lo_out,
                       int64_t *hi_out)
{
    bool has = c->o->has_range;
    int64_t lo = has ? c->o->from_us : INT64_MIN, hi = has ? c->o->to_us : INT64_MAX;
    if (filter && !p->all && c->level > 0 && !in_affected(p, "null")) {
        /* only the spans of the partitions written again */
        int64_t alo = INT64_MAX, ahi = INT64_MIN;
        char *const *a = (char *const *)p->affected.ptr;
        for (size_t i = 0; i < p->affected.size / sizeof(char *); i++) {
            ex_key k;
            int64_t l, h;
            if (pond_ex_key_parse(&k, a[i], c->level) == 0 &&
                pond_ex_key_span(&k, c->level, &l, &h)) {
                alo = l < alo ? l : alo;
                ahi = h > ahi ? h : ahi;
            }
        }
        lo = alo > lo ? alo : lo;
        hi = ahi < hi ? ahi : hi;
        has = true;
        if (lo >= hi)
            return false;
    }
    *has_out = has;
    *lo_out = lo;
    *hi_out = hi;
    return true;
}

/* One version, read alone (appends, and partitions written again): its own rows, which no
 * dedup rule touches (a version's record is what it holds). */
static int read_version(ex_ctx *c, const plan *p, cver *v, rmode m)
{
    bool has;
    int64_t lo, hi;
    if (!read_range(c, p, m.filter, &has, &lo, &hi))
        return 0;
    if (!may_overlap(v, has, lo, hi)) /* not opened: no row in the range */
        return m.digest ? empty_rec(v) : 0;
    struct ArrowArrayStream st = {0};
    int rc = open_version(&st, c, v->st.version, has, lo, hi);
    if (rc < 0)
        return rc;
    c->res->versions_read++;
    rc = scan(c, p, &st, &v, 1, m);
    st.release(&st);
    return rc;
}

/* One read of the series (the export's columns, rows in [lo, hi) when has) scanned in mode m;
 * counts the versions it read. */
static int read_scan(ex_ctx *c, const plan *p, bool has, int64_t lo, int64_t hi, pond_dedup dedup,
                     cver **sel, size_t nsel, rmode m)
{
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.has_range = has;
    ro.from_us = lo;
    ro.to_us = hi;
    ro.columns = (const char *const *)c->read_cols;
    ro.n_columns = c->n_read_cols;
    ro.dedup = dedup;
    struct ArrowArrayStream st = {0};
    int rc = pond_table_read_stream(&st, c->fs, NULL, c->path, &ro);
    if (rc < 0)
        return rc;
    rc = scan(c, p, &st, sel, nsel, m);
    pond_table_scan_stats ss;
    if (pond_table_stream_stats(&ss, &st) == 0)
        c->res->versions_read += ss.versions_read;
    st.release(&st);
    return rc;
}

/* Every version in one stream (a full export): one listing of the node's versions instead of
 * one per version, and the reader's own union of their columns. raw: every row of every version
 * (a version's record), else the rows a read gives (under the series' dedup rule). */
static int read_all(ex_ctx *c, const plan *p, rmode m, bool raw)
{
    bool has = c->o->has_range;
    int64_t lo = has ? c->o->from_us : INT64_MIN, hi = has ? c->o->to_us : INT64_MAX;
    cver **sel = pond_calloc(p->n_cur ? p->n_cur : 1, sizeof *sel);
    if (!sel)
        return POND_ENOMEM;
    size_t nsel = 0;
    int rc = 0;
    for (size_t k = 0; k < p->n_cur && rc == 0; k++) {
        if (may_overlap(&p->cur[k], has, lo, hi))
            sel[nsel++] = &p->cur[k];
        else if (m.digest)
            rc = empty_rec(&p->cur[k]);
    }
    if (rc == 0 && nsel)
        rc = read_scan(c, p, has, lo, hi, raw ? POND_DEDUP_NONE : POND_DEDUP_DEFAULT, sel, nsel, m);
    pond_free(sel);
    return rc;
}

/* The partitions written again, from one read of the whole series under its dedup rule: a row
 * hides only rows of the same event time, so of the same partition, and a partition holding
 * none of a new version's rows keeps its files. */
static int read_affected(ex_ctx *c, const plan *p)
{
    bool has;
    int64_t lo, hi;
    if (!p->affected.size || !read_range(c, p, true, &has, &lo, &hi))
        return 0;
    rmode m = {true, false, true};
    return read_scan(c, p, has, lo, hi, POND_DEDUP_DEFAULT, NULL, 0, m);
}

/* ---- the source ---- */

static int load_source(ex_ctx *c, plan *p, char **settings, char **node, bool *empty)
{
    pond_stat st, *vs = NULL;
    size_t nv = 0;
    int rc = pond_fs_stat(&st, c->fs, NULL, c->path);
    if (rc < 0)
        return rc;
    if (st.type != POND_ENTRY_FILE_TABLE && st.type != POND_ENTRY_FILE_SERIES)
        return pond_error_set(POND_EINVALID, EX_D, "%s is a %s, not a table or series", c->path,
                              pond_entry_type_name(st.type));
    c->series = st.type == POND_ENTRY_FILE_SERIES;
    char idtext[POND_NODE_ID_STRLEN + 1];
    pond_node_id_format(idtext, &st.id);
    if (!(*node = pond_strdup(idtext)))
        return POND_ENOMEM;
    /* a series' versions with what its index says of them: a version a compaction replaced
     * is not read (its rows are in the compacted version) */
    pond_fs_node *node_h = NULL;
    pond_series_version_info *info = NULL;
    size_t ni = 0;
    if ((rc = pond_fs_node_open(&node_h, c->fs, NULL, c->path, 0)) == 0)
        rc = pond_fs_node_versions(&vs, &nv, node_h);
    if (rc == 0 && c->series)
        rc = pond_series_node_versions(&info, &ni, node_h);
    pond_fs_node_free(node_h);
    if (rc == 0 && !(p->cur = pond_calloc(nv ? nv : 1, sizeof *p->cur)))
        rc = POND_ENOMEM;
    if (rc < 0) {
        pond_free(vs);
        pond_free(info);
        return rc;
    }
    for (size_t i = 0, j = 0; i < nv; i++) {
        while (j < ni && info[j].version < vs[i].version)
            j++;
        bool replaced = j < ni && info[j].version == vs[i].version && info[j].replaced_by;
        /* the versions a read gives: every series version with content that no compaction
         * replaced, a table's latest */
        if (vs[i].size == 0 || replaced || (!c->series && i + 1 != nv))
            continue;
        p->cur[p->n_cur].st = vs[i];
        p->cur[p->n_cur].rec.version = vs[i].version;
        p->cur[p->n_cur].rec.sha = vs[i].sha256;
        p->cur[p->n_cur].rec.txn_seq = vs[i].txn_seq;
        p->n_cur++;
    }
    pond_free(vs);
    pond_free(info);
    *empty = p->n_cur == 0;
    /* the settings that decide what a read returns and where rows go (timestamp column, zone,
     * dedup rule), not the whole attributes: the series index changes them with every write */
    pond_buf t = POND_BUF_INIT;
    pond_hash h;
    char hex[65] = "-";
    if (c->series) {
        pond_series_settings set;
        if ((rc = pond_series_settings_get(&set, c->fs, NULL, c->path)) < 0)
            return rc;
        const char *col = set.timestamp_column ? set.timestamp_column : "";
        const char *tz = set.timezone ? set.timezone : "";
        rc = pond_buf_printf(&t, "timestamp_column=%zu:%s;timezone=%zu:%s;dedup=%s", strlen(col),
                             col, strlen(tz), tz, set.dedup == POND_DEDUP_LAST ? "last" : "none");
        for (size_t k = 0; rc == 0 && set.dedup == POND_DEDUP_LAST && k < set.n_dedup_keys; k++)
            rc = pond_buf_printf(&t, ":%zu:%s", strlen(set.dedup_keys[k]), set.dedup_keys[k]);
        c->dedup = set.dedup == POND_DEDUP_LAST;
        pond_series_settings_dispose(&set);
        if (rc == 0 && (rc = pond_sha256_buf(&h, t.ptr, t.size)) == 0)
            pond_hash_hex(hex, &h);
        pond_buf_dispose(&t);
    }
    if (rc == 0 && !(*settings = pond_strdup(hex)))
        rc = POND_ENOMEM;
    return rc;
}

/* The output columns: a read of the whole source (union of its versions' columns, projected);
 * the event-time column is read too when partitioning needs it, and left out of the files when
 * it was not asked for. */
static int build_schema(ex_ctx *c)
{
    int rc = 0;
    bool add_ts = false;
    if (c->o->columns) {
        add_ts = c->level > 0;
        for (int i = 0; i < c->o->n_columns && add_ts; i++)
            add_ts = strcmp(c->o->columns[i], c->ts_name) != 0;
        c->n_read_cols = c->o->n_columns + add_ts;
        if (!(c->read_cols = pond_calloc((size_t)c->n_read_cols + 1, sizeof(char *))))
            return POND_ENOMEM;
        for (int i = 0; i < c->o->n_columns && rc == 0; i++)
            if (!(c->read_cols[i] = pond_strdup(c->o->columns[i])))
                rc = POND_ENOMEM;
        if (rc == 0 && add_ts && !(c->read_cols[c->o->n_columns] = pond_strdup(c->ts_name)))
            rc = POND_ENOMEM;
        if (rc < 0)
            return rc;
    }
    pond_table_read_options ro = POND_TABLE_READ_OPTIONS_INIT;
    ro.columns = (const char *const *)c->read_cols;
    ro.n_columns = c->n_read_cols;
    struct ArrowArrayStream st;
    struct ArrowSchema s = {0};
    if ((rc = pond_table_read_stream(&st, c->fs, NULL, c->path, &ro)) < 0)
        return rc;
    int e = st.get_schema(&st, &s);
    rc = e ? stream_fail(&st, e) : 0;
    st.release(&st);
    if (rc < 0)
        return rc;
    int64_t n = 0;
    for (int64_t i = 0; i < s.n_children; i++)
        n += !(add_ts && !strcmp(s.children[i]->name, c->ts_name));
    if (c->level > 0) {
        bool found = false;
        for (int64_t i = 0; i < s.n_children; i++)
            found |= !strcmp(s.children[i]->name, c->ts_name);
        if (!found && s.n_children)
            rc = pond_error_set(POND_EINVALID, EX_D,
                                "%s: its timestamp column '%s' is missing, so it cannot be "
                                "partitioned by event time (use partitioning none)",
                                c->path, c->ts_name);
    }
    if (rc == 0)
        rc = pond_arrow_schema_init(&c->out_schema, "+s", "", 0, n);
    if (rc == 0 && !(c->cast_ns = pond_calloc((size_t)(n ? n : 1), sizeof *c->cast_ns)))
        rc = POND_ENOMEM;
    static const char *const pnames[] = {"year", "month", "day"};
    int64_t k = 0;
    for (int64_t i = 0; i < s.n_children && rc == 0; i++) {
        const struct ArrowSchema *col = s.children[i];
        if (add_ts && !strcmp(col->name, c->ts_name))
            continue;
        for (int l = 0; l < c->level && rc == 0; l++)
            if (!strcasecmp(col->name, pnames[l]))
                rc = pond_error_set(POND_EINVALID, EX_D,
                                    "%s: column '%s' has the name of a partition column; export "
                                    "with partitioning none or without that column",
                                    c->path, col->name);
        if (rc == 0)
            rc = pond_arrow_schema_copy(c->out_schema.children[k], col);
        pond_arrow_format f;
        /* Delta timestamps are microseconds (Spark reads no nanosecond Parquet timestamps) */
        if (rc == 0 && c->delta && pond_arrow_format_parse(&f, col->format) == 0 &&
            f.type == POND_ARROW_TIMESTAMP && f.unit == POND_ARROW_UNIT_NS) {
            char fmt[64];
            snprintf(fmt, sizeof fmt, "tsu:%s", f.tz);
            struct ArrowSchema t;
            rc = pond_arrow_schema_init(&t, fmt, col->name, col->flags, 0);
            if (rc == 0) {
                pond_arrow_schema_release(c->out_schema.children[k]);
                pond_arrow_schema_move(c->out_schema.children[k], &t);
                c->cast_ns[k] = true;
            }
        }
        k++;
    }
    pond_arrow_schema_release(&s);
    return rc;
}

static int options_text(char **out, const ex_ctx *c)
{
    pond_buf b = POND_BUF_INIT;
    int rc = pond_buf_printf(&b, "partition=%d;", c->level);
    if (rc == 0)
        rc = c->o->has_range ? pond_buf_printf(&b, "range=%" PRId64 "..%" PRId64 ";", c->o->from_us,
                                               c->o->to_us)
                             : pond_buf_puts(&b, "range=all;");
    if (rc == 0)
        rc = c->o->columns ? pond_buf_printf(&b, "columns=%d", c->o->n_columns)
                           : pond_buf_puts(&b, "columns=*");
    for (int i = 0; c->o->columns && i < c->o->n_columns && rc == 0; i++)
        rc = pond_buf_printf(&b, ":%zu:%s", strlen(c->o->columns[i]), c->o->columns[i]);
    if (rc == 0 && !(*out = pond_buf_detach(&b)))
        rc = POND_ENOMEM;
    pond_buf_dispose(&b);
    return rc;
}

static int schema_fp(char **out, const ex_ctx *c)
{
    pond_buf b = POND_BUF_INIT;
    pond_hash h;
    char hex[65];
    int rc = pond_ex_schema_text(&b, &c->out_schema);
    if (rc == 0)
        rc = pond_sha256_buf(&h, b.ptr, b.size);
    pond_buf_dispose(&b);
    if (rc < 0)
        return rc;
    pond_hash_hex(hex, &h);
    return (*out = pond_strdup(hex)) ? 0 : POND_ENOMEM;
}

/* ---- the directory ---- */

static int take_lock(int *fd_out, const char *dir)
{
    char *p = pond__path_join(dir, EX_LOCK);
    if (!p)
        return POND_ENOMEM;
    int rc = pond__open(fd_out, p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644, EX_D);
    if (rc == 0 && pond__os_flock(*fd_out, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK
                 ? pond_error_set(POND_EBUSY, EX_D, "%s: another export is writing this directory",
                                  dir)
                 : pond_error_set_os(EX_D, "lock '%s'", p);
        pond__close(*fd_out);
        *fd_out = -1;
    }
    pond_free(p);
    return rc;
}

static void strip_journal(ex_state *s)
{
    for (size_t i = 0; i < pond_ex_state_nremoved(s); i++) {
        ex_file *f = pond_ex_state_removed(s, i);
        pond_free(f->name);
        pond_free(f->key);
        pond_free(f->tmp);
    }
    pond_buf_dispose(&s->removed);
    for (size_t i = 0; i < pond_ex_state_nfiles(s); i++) {
        pond_free(pond_ex_state_file(s, i)->tmp);
        pond_ex_state_file(s, i)->tmp = NULL;
    }
}

/* The journal becomes the state, then goes. */
static int settle_journal(const char *dir, ex_state *j)
{
    strip_journal(j);
    int rc = pond_ex_state_save(j, dir, EX_STATE);
    char *p = rc == 0 ? pond__path_join(dir, EX_JOURNAL) : NULL;
    if (rc == 0 && !p)
        rc = POND_ENOMEM;
    if (rc == 0 && pond__os_unlink(p) < 0 && errno != ENOENT)
        rc = pond_error_set_os(EX_D, "remove '%s'", p);
    if (rc == 0)
        rc = pond__fsync_dir(dir, EX_D);
    pond_free(p);
    return rc;
}

static bool delta_committed(const char *dir, const ex_state *j)
{
    char *info = NULL;
    if (pond_delta_commit_info_read(&info, dir, j->delta_version) < 0)
        return false;
    char want[64];
    snprintf(want, sizeof want, "\"pondExportRun\":%" PRId64, j->run);
    const char *s = strstr(info, want);
    bool ok = s && (s[strlen(want)] < '0' || s[strlen(want)] > '9');
    pond_free(info);
    return ok;
}

/* Finishes or undoes what a killed export left: a Parquet journal is redone; a Delta journal
 * is adopted when its commit exists and undone (its uncommitted files removed) otherwise. */
static int recover(ex_ctx *c, const pond_export_options *o)
{
    ex_state j;
    bool found;
    int rc = pond_ex_state_load(&j, &found, c->dir, EX_JOURNAL);
    if (rc < 0 || !found)
        return rc;
    if (strcmp(j.source, c->path) != 0) {
        rc = pond_error_set(POND_EINVALID, EX_D,
                            "%s: an unfinished export of %s is in this directory; export %s "
                            "again to finish it",
                            c->dir, j.source, j.source);
    } else if (j.format == POND_EXPORT_PARQUET) {
        if ((rc = pond_ex_publish_files(c->dir, &j, true)) == 0) {
            pond_ex_prune_dirs(c->dir, &j);
            rc = settle_journal(c->dir, &j);
        }
    } else if (delta_committed(c->dir, &j)) {
        rc = settle_journal(c->dir, &j);
    } else {
        for (size_t i = 0; i < pond_ex_state_nfiles(&j) && rc == 0; i++) {
            const ex_file *f = pond_ex_state_file(&j, i);
            if (!f->tmp)
                continue; /* committed by an earlier export */
            char *p = pond__path_join(c->dir, f->name);
            if (!p)
                rc = POND_ENOMEM;
            else if (pond__os_unlink(p) < 0 && errno != ENOENT)
                rc = pond_error_set_os(EX_D, "remove '%s'", p);
            pond_free(p);
        }
        char *p = rc == 0 ? pond__path_join(c->dir, EX_JOURNAL) : NULL;
        if (p && pond__os_unlink(p) < 0 && errno != ENOENT)
            rc = pond_error_set_os(EX_D, "remove '%s'", p);
        pond_free(p);
    }
    if (rc == 0 && o->note)
        o->note("finished an export that was interrupted", o->payload);
    pond_ex_state_dispose(&j);
    return rc;
}

/* ---- Delta commit ---- */

static int partition_values(pond_delta_kv kv[3], char vals[3][16], const ex_ctx *c,
                            const char *keytext)
{
    static const char *const pnames[] = {"year", "month", "day"};
    ex_key k;
    int rc = pond_ex_key_parse(&k, keytext, c->level);
    if (rc < 0)
        return rc;
    for (int i = 0; i < c->level; i++) {
        snprintf(vals[i], 16, "%d", i == 0 ? k.y : i == 1 ? k.m : k.d);
        kv[i].key = pnames[i];
        kv[i].value = k.null ? NULL : vals[i];
    }
    return 0;
}

static int delta_commit(ex_ctx *c, const ex_state *ns, const ex_state *old, const char *schema,
                        int reader, int writer)
{
    static const char *const pnames[] = {"year", "month", "day"};
    pond_delta_actions *a = NULL;
    int64_t now_ms = pond__now_us() / 1000;
    int64_t v = ns->delta_version;
    int rc = pond_delta_actions_new(&a);
    static const char *const ntz[] = {"timestampNtz"};
    if (rc == 0 && (v == 0 || old->protocol_reader != reader || old->protocol_writer != writer))
        rc = reader == 3 ? pond_delta_actions_protocol(a, 3, 7, ntz, 1, ntz, 1)
                         : pond_delta_actions_protocol(a, 1, 2, NULL, 0, NULL, 0);
    if (rc == 0 &&
        (v == 0 || strcmp(old->schema, ns->schema) || strcmp(old->options, ns->options))) {
        const char *slash = strrchr(c->path, '/');
        pond_delta_metadata_desc md = {POND_DELTA_METADATA_DESC_VERSION,
                                       ns->delta_id,
                                       slash && slash[1] ? slash + 1 : c->path,
                                       NULL,
                                       schema,
                                       pnames,
                                       (size_t)c->level,
                                       NULL,
                                       0,
                                       now_ms};
        rc = pond_delta_actions_metadata(a, &md);
    }
    for (size_t i = 0; i < pond_ex_state_nremoved(ns) && rc == 0; i++) {
        const ex_file *f = pond_ex_state_removed(ns, i);
        pond_delta_kv kv[3];
        char vals[3][16];
        rc = partition_values(kv, vals, c, f->key);
        pond_delta_file_desc d = {POND_DELTA_FILE_DESC_VERSION,
                                  f->name,
                                  kv,
                                  (size_t)c->level,
                                  f->bytes,
                                  0,
                                  now_ms,
                                  true,
                                  NULL,
                                  NULL,
                                  0};
        if (rc == 0)
            rc = pond_delta_actions_remove(a, &d);
    }
    const ex_written *w = (const ex_written *)c->written.ptr;
    for (size_t i = 0; i < c->written.size / sizeof *w && rc == 0; i++) {
        pond_delta_kv kv[3];
        char vals[3][16];
        rc = partition_values(kv, vals, c, w[i].key);
        pond_delta_file_desc d = {POND_DELTA_FILE_DESC_VERSION,
                                  w[i].name,
                                  kv,
                                  (size_t)c->level,
                                  w[i].bytes,
                                  now_ms,
                                  0,
                                  true,
                                  w[i].stats,
                                  NULL,
                                  0};
        if (rc == 0)
            rc = pond_delta_actions_add(a, &d);
    }
    pond_buf app = POND_BUF_INIT, extra = POND_BUF_INIT;
    if (rc == 0)
        rc = pond_buf_printf(&app, "pond-export:%s", c->path);
    if (rc == 0)
        rc = pond_delta_actions_txn(a, app.ptr, ns->position, now_ms);
    if (rc == 0)
        rc = pond_buf_puts(&extra, "{\"pondExportSource\":");
    if (rc == 0)
        rc = pond_ex_json_str(&extra, c->path, strlen(c->path));
    if (rc == 0)
        rc = pond_buf_printf(&extra, ",\"pondExportRun\":%" PRId64 ",\"pondTxnSeq\":%" PRId64 "}",
                             ns->run, ns->position);
    if (rc == 0)
        rc = pond_delta_actions_commit_info(a, now_ms, "WRITE",
                                            v == 0 || pond_ex_state_nremoved(ns)
                                                ? "{\"mode\":\"Overwrite\"}"
                                                : "{\"mode\":\"Append\"}",
                                            extra.ptr);
    if (rc == 0)
        rc = pond_delta_commit_write(c->dir, v, a);
    pond_buf_dispose(&app);
    pond_buf_dispose(&extra);
    pond_delta_actions_free(a);
    return rc;
}

/* ---- the export ---- */

static int check_state(const ex_ctx *c, const ex_state *s, bool found)
{
    if (!found)
        return 0;
    if (strcmp(s->source, c->path) != 0)
        return pond_error_set(POND_EINVALID, EX_D,
                              "%s holds the export of %s; export %s into another directory", c->dir,
                              s->source, c->path);
    if ((s->format == POND_EXPORT_DELTA) != c->delta)
        return pond_error_set(POND_EINVALID, EX_D,
                              "%s holds a %s export of %s; export as %s into another directory",
                              c->dir, s->format == POND_EXPORT_DELTA ? "Delta" : "Parquet", c->path,
                              c->delta ? "Delta" : "Parquet");
    return 0;
}

static int check_delta_log(const ex_ctx *c, const ex_state *s, bool found)
{
    int64_t latest = -1;
    int rc = pond_delta_latest_version(&latest, c->dir);
    if (rc < 0 && rc != POND_ENOTFOUND)
        return rc;
    if (rc == POND_ENOTFOUND)
        latest = -1;
    if (!found && latest >= 0)
        return pond_error_set(POND_EINVALID, EX_D,
                              "%s holds a Delta table pond did not write; export into another "
                              "directory",
                              c->dir);
    if (found && latest != s->delta_version)
        return pond_error_set(POND_EINVALID, EX_D,
                              "%s: the Delta table is at version %" PRId64 " but pond's last "
                              "export wrote version %" PRId64
                              "; another writer changed it: export into another directory",
                              c->dir, latest, s->delta_version);
    return 0;
}

static int note(const ex_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int note(const ex_ctx *c, const char *fmt, ...)
{
    if (!c->o->note)
        return 0;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->o->note(msg, c->o->payload);
    return 0;
}

static bool same_rows(const ex_ver *a, const ex_ver *b)
{
    return a->rows == b->rows && a->s1 == b->s1 && a->s2 == b->s2;
}

/* Versions that disappeared (R) and new ones (N): when a prefix of N, in version order, holds
 * exactly R's rows (a compaction), those versions replace R and nothing is written for them.
 * Digests of N are computed by reading N (no file is written). */
static int match_replacements(ex_ctx *c, plan *p, const ex_state *old, bool *matched)
{
    ex_ver gone = {0};
    *matched = false;
    for (size_t i = 0; i < pond_ex_state_nvers(old); i++) {
        const ex_ver *o = pond_ex_state_ver(old, i);
        if (!p->old_kept[i]) {
            gone.rows += o->rows;
            gone.s1 += o->s1;
            gone.s2 += o->s2;
        }
    }
    ex_ver sum = {0};
    rmode m = {false, true, false};
    for (size_t k = 0; k < p->n_cur; k++) {
        cver *v = &p->cur[k];
        if (v->status != V_NEW)
            continue;
        int rc = read_version(c, p, v, m);
        if (rc < 0)
            return rc;
        sum.rows += v->rec.rows;
        sum.s1 += v->rec.s1;
        sum.s2 += v->rec.s2;
        if (same_rows(&sum, &gone)) {
            for (size_t q = 0; q <= k; q++)
                if (p->cur[q].status == V_NEW)
                    p->cur[q].status = V_REPLACED;
            *matched = true;
            return 0;
        }
        if (sum.rows > gone.rows)
            return 0;
    }
    return 0;
}

static void ctx_dispose(ex_ctx *c)
{
    pond_ex_drop_all(c);
    ex_written *w = (ex_written *)c->written.ptr;
    for (size_t i = 0; i < c->written.size / sizeof *w; i++)
        pond_ex_written_dispose(&w[i]);
    pond_buf_dispose(&c->written);
    for (int i = 0; i < c->n_read_cols && c->read_cols; i++)
        pond_free(c->read_cols[i]);
    pond_free(c->read_cols);
    pond_arrow_schema_release(&c->out_schema);
    pond_free(c->cast_ns);
    pond_event_time_free(c->et);
    pond_free(c->path);
    pond_free(c->tmpdir);
    pond_buf_dispose(&c->hashes);
    pond_buf_dispose(&c->idx);
}

int pond_export_source(pond_export_result *out, pond_fs *fs, const pond_wd *wd, const char *path,
                       const char *dir, const pond_export_options *opts)
{
    POND_ASSERT_ARG(out && fs && path && dir && *dir);
    memset(out, 0, sizeof *out);
    out->delta_version = -1;
    const pond_export_options *o = opts ? opts : &DEFAULTS;
    ex_ctx c;
    memset(&c, 0, sizeof c);
    c.fs = fs;
    c.o = o;
    c.res = out;
    c.dir = dir;
    c.delta = o->format == POND_EXPORT_DELTA;
    plan p;
    memset(&p, 0, sizeof p);
    ex_state old, ns;
    pond_ex_state_init(&old);
    pond_ex_state_init(&ns);
    char *settings = NULL, *node = NULL, *opt_text = NULL, *fp = NULL;
    pond_buf delta_schema = POND_BUF_INIT;
    int lock_fd = -1, reader = 1, writer = 2;
    bool found = false, empty = false;
    int rc = pond_path_normalize(&c.path, NULL, wd ? pond_wd_path(wd) : NULL, path);
    if (rc < 0)
        goto done;
    if ((rc = load_source(&c, &p, &settings, &node, &empty)) < 0)
        goto done;
    c.level = pond_ex_level_of(o->partition);
    if (o->partition == POND_EXPORT_PARTITION_DEFAULT)
        c.level = c.series ? 2 : 0;
    if (!c.series && c.level > 0) {
        note(&c, "%s: a table has no event time; exported without partitions", c.path);
        c.level = 0;
    }
    if (o->has_range && !c.series) {
        rc = pond_error_set(POND_EINVALID, EX_D, "%s: a time range needs a series; this is a table",
                            c.path);
        goto done;
    }
    if (o->has_range && o->to_us <= o->from_us) {
        rc = pond_error_set(POND_EINVALID, EX_D,
                            "%s: the end of the time range must be after its "
                            "start",
                            c.path);
        goto done;
    }
    if (c.series && c.level > 0) {
        if ((rc = pond_event_time_open(&c.et, fs, NULL, c.path)) < 0)
            goto done;
        c.ts_name = pond_event_time_column(c.et);
    }
    if (c.series && c.level > 0 && !c.ts_name && !empty) {
        rc = pond_error_set(POND_EINVALID, EX_D,
                            "%s: the series records no timestamp column to partition by; export "
                            "with partitioning none",
                            c.path);
        goto done;
    }
    if (empty)
        c.level = c.series ? c.level : 0;
    if (!empty && (rc = build_schema(&c)) < 0)
        goto done;
    if (!empty && c.delta &&
        (rc = pond_ex_delta_schema(&delta_schema, &reader, &writer, &c.out_schema, c.level)) < 0)
        goto done;
    if ((rc = options_text(&opt_text, &c)) < 0 || (!empty && (rc = schema_fp(&fp, &c)) < 0))
        goto done;
    /* the directory: created, locked, recovered, its state read and checked */
    if ((rc = pond__mkdir_p(dir, EX_D)) < 0 || (rc = take_lock(&lock_fd, dir)) < 0)
        goto done;
    if (!(c.tmpdir = pond__path_join(dir, EX_TMPDIR))) {
        rc = POND_ENOMEM;
        goto done;
    }
    /* recovery first: a journal names temporary files it still has to publish */
    if ((rc = pond_ex_check_dirs(dir, EX_TMPDIR "/")) < 0 ||
        (rc = pond__mkdir(c.tmpdir, true, EX_D)) < 0 || (rc = recover(&c, o)) < 0 ||
        (rc = pond_ex_clean_tmp(c.tmpdir)) < 0)
        goto done;
    if ((rc = pond_ex_state_load(&old, &found, dir, EX_STATE)) < 0 ||
        (rc = check_state(&c, &old, found)) < 0 ||
        (c.delta && (rc = check_delta_log(&c, &old, found)) < 0))
        goto done;
    if (empty && !found) {
        note(&c, "%s has no rows: nothing exported", c.path);
        out->unchanged = true;
        goto done;
    }
    /* what changed */
    bool full = !found || strcmp(old.options, opt_text) || !fp || strcmp(old.schema, fp) ||
                strcmp(old.settings, settings);
    bool changed = full;
    /* both lists ascend by version number: one merge pairs them */
    size_t nold = pond_ex_state_nvers(&old);
    if (!(p.old_kept = pond_calloc(nold ? nold : 1, sizeof *p.old_kept))) {
        rc = POND_ENOMEM;
        goto done;
    }
    for (size_t k = 0, i = 0; k < p.n_cur && !full; k++) {
        cver *v = &p.cur[k];
        while (i < nold && pond_ex_state_ver(&old, i)->version < v->st.version)
            i++;
        const ex_ver *ov = i < nold ? pond_ex_state_ver(&old, i) : NULL;
        if (ov && ov->version == v->st.version && pond_hash_equal(&ov->sha, &v->st.sha256)) {
            v->status = V_KEPT;
            p.old_kept[i] = true;
            v->rec.rows = ov->rows;
            v->rec.s1 = ov->s1;
            v->rec.s2 = ov->s2;
            if (!(v->rec.parts = pond_strdup(ov->parts))) {
                rc = POND_ENOMEM;
                goto done;
            }
            v->have_rec = true;
        }
        changed |= v->status == V_NEW;
    }
    size_t kept = 0;
    for (size_t k = 0; k < p.n_cur; k++)
        kept += p.cur[k].status == V_KEPT;
    bool gone = !full && kept < pond_ex_state_nvers(&old);
    changed |= gone;
    /* files of earlier exports that someone removed: their partitions are written again */
    for (size_t i = 0; i < pond_ex_state_nfiles(&old) && !full && rc == 0; i++) {
        const ex_file *f = pond_ex_state_file(&old, i);
        char *fp2 = pond__path_join(dir, f->name);
        struct stat st;
        if (!fp2) {
            rc = POND_ENOMEM;
        } else if (pond__os_lstat(fp2, &st) < 0) {
            note(&c, "%s: '%s' of an earlier export is missing; its partition is written again",
                 c.path, fp2);
            rc = add_affected(&p, f->key, strlen(f->key));
            changed = true;
        }
        pond_free(fp2);
    }
    if (rc < 0)
        goto done;
    if (!changed) {
        out->unchanged = true;
        out->versions_kept = (int64_t)kept;
        out->files_total = (int64_t)pond_ex_state_nfiles(&old);
        out->delta_version = c.delta ? old.delta_version : -1;
        goto done;
    }
    bool matched = false;
    if (gone && (rc = match_replacements(&c, &p, &old, &matched)) < 0)
        goto done;
    if (gone && !matched) {
        /* rows changed other than by appending: the partitions of the versions that went are
         * written again from the versions there are now */
        for (size_t i = 0; i < pond_ex_state_nvers(&old) && rc == 0; i++) {
            if (!p.old_kept[i])
                rc = add_affected_parts(&p, pond_ex_state_ver(&old, i)->parts);
        }
        if (rc < 0)
            goto done;
    }
    p.all = full;
    out->full = full;
    c.run = old.run + 1;
    /* read and write */
    if (full && !c.dedup) {
        rmode m = {true, true, false};
        rc = read_all(&c, &p, m, false);
    } else if (full) {
        /* the records from every row, the files from the rows a read gives */
        rmode digest = {false, true, false}, write = {true, false, false};
        if ((rc = read_all(&c, &p, digest, true)) == 0)
            rc = read_all(&c, &p, write, false);
    } else if (c.dedup) {
        /* a new version's rows may hide rows already exported: every partition it touches is
         * written again from the deduplicated read */
        for (size_t k = 0; k < p.n_cur && rc == 0; k++) {
            cver *v = &p.cur[k];
            if (v->status != V_NEW)
                continue;
            rmode m = {false, true, false};
            if (!v->have_rec)
                rc = read_version(&c, &p, v, m);
            if (rc == 0)
                rc = add_affected_parts(&p, v->rec.parts);
        }
        if (rc == 0)
            rc = read_affected(&c, &p);
    }
    for (size_t k = 0; k < p.n_cur && rc == 0 && !full && !c.dedup; k++) {
        cver *v = &p.cur[k];
        if (v->status == V_NEW) {
            rmode m = {true, true, false};
            rc = read_version(&c, &p, v, m);
        } else if (p.affected.size && parts_meet(&p, v->rec.parts)) {
            rmode m = {true, false, true};
            rc = read_version(&c, &p, v, m);
        }
    }
    if (rc == 0)
        rc = pond_ex_finish_all(&c);
    /* the temporary files' names are durable before a journal can name them */
    if (rc == 0 && c.written.size)
        rc = pond__fsync_dir(c.tmpdir, EX_D);
    if (rc < 0)
        goto done;
    /* the new state */
    ns.format = o->format;
    if (!(ns.source = pond_strdup(c.path)) || !(ns.node = pond_strdup(node)) ||
        !(ns.kind = pond_strdup(c.series ? "series" : "table")) ||
        !(ns.options = pond_strdup(opt_text)) ||
        /* a source with no rows left keeps the schema it had (a Delta table keeps its
           metaData; only its files are removed) */
        !(ns.schema = pond_strdup(fp      ? fp
                                  : found ? old.schema
                                          : "-")) ||
        !(ns.settings = pond_strdup(settings))) {
        rc = POND_ENOMEM;
        goto done;
    }
    ns.run = c.run;
    ns.protocol_reader = reader;
    ns.protocol_writer = writer;
    for (size_t k = 0; k < p.n_cur && rc == 0; k++) {
        ns.position = p.cur[k].st.txn_seq > ns.position ? p.cur[k].st.txn_seq : ns.position;
        out->versions_kept += p.cur[k].status != V_NEW;
        rc = pond_ex_state_add_ver(&ns, &p.cur[k].rec);
    }
    for (size_t i = 0; i < pond_ex_state_nfiles(&old) && rc == 0; i++) {
        const ex_file *f = pond_ex_state_file(&old, i);
        if (full || in_affected(&p, f->key))
            rc = pond_ex_state_add_removed(&ns, f);
        else
            rc = pond_ex_state_add_file(&ns, f);
    }
    const ex_written *w = (const ex_written *)c.written.ptr;
    for (size_t i = 0; i < c.written.size / sizeof *w && rc == 0; i++) {
        ex_file f = {w[i].name, w[i].key, w[i].rows, w[i].bytes, w[i].tmp};
        rc = pond_ex_state_add_file(&ns, &f);
    }
    if (rc < 0)
        goto done;
    out->files_removed = (int64_t)pond_ex_state_nremoved(&ns);
    out->files_total = (int64_t)pond_ex_state_nfiles(&ns);
    if (!c.delta) {
        /* journal, then removals and renames, then the state */
        if ((rc = pond_ex_state_save(&ns, dir, EX_JOURNAL)) < 0 ||
            (rc = pond_ex_publish_files(dir, &ns, true)) < 0)
            goto done;
        pond_ex_prune_dirs(dir, &ns);
        rc = settle_journal(dir, &ns);
        goto done;
    }
    /* Delta: the files in place (invisible until committed), journal, commit, state */
    ns.delta_version = found ? old.delta_version + 1 : 0;
    if (found && old.delta_id) {
        if (!(ns.delta_id = pond_strdup(old.delta_id)))
            rc = POND_ENOMEM;
    } else {
        pond_node_id id;
        char text[POND_NODE_ID_STRLEN + 1];
        if ((rc = pond_node_id_new(&id)) == 0) {
            pond_node_id_format(text, &id);
            if (!(ns.delta_id = pond_strdup(text)))
                rc = POND_ENOMEM;
        }
    }
    bool nothing = c.written.size == 0 && pond_ex_state_nremoved(&ns) == 0;
    if (rc == 0 && nothing && found) {
        /* recognised as the same rows (a compaction): no commit, the state follows */
        ns.delta_version = old.delta_version;
        rc = pond_ex_state_save(&ns, dir, EX_STATE);
        out->delta_version = ns.delta_version;
        goto done;
    }
    /* the journal first: whatever a crash leaves after it is either committed (adopted) or
     * removed by the next export */
    bool journaled = false;
    if (rc == 0 && (rc = pond_ex_state_save(&ns, dir, EX_JOURNAL)) == 0)
        journaled = true;
    if (rc == 0)
        rc = pond_ex_publish_files(dir, &ns, false);
    if (rc == 0)
        rc = delta_commit(&c, &ns, &old, delta_schema.ptr ? delta_schema.ptr : "", reader, writer);
    if (rc == 0)
        rc = settle_journal(dir, &ns);
    if (rc < 0 && journaled) {
        /* undo now what is not committed (keeping the first error's message) */
        char keep[512];
        snprintf(keep, sizeof keep, "%s", pond_error_last()->message);
        (void)recover(&c, &DEFAULTS);
        pond_error_set(rc, EX_D, "%s", keep);
    }
    if (rc == 0)
        out->delta_version = ns.delta_version;
    if (rc == 0 && ns.delta_version > 0 && ns.delta_version % 10 == 0) {
        pond_delta_table *t = NULL;
        if ((rc = pond_delta_table_open(&t, dir, NULL)) == 0)
            rc = pond_delta_checkpoint_write(t);
        pond_delta_table_free(t);
    }
done:
    if (lock_fd >= 0)
        pond__close(lock_fd);
    ctx_dispose(&c);
    plan_dispose(&p);
    pond_ex_state_dispose(&old);
    pond_ex_state_dispose(&ns);
    pond_free(settings);
    pond_free(node);
    pond_free(opt_text);
    pond_free(fp);
    pond_buf_dispose(&delta_schema);
    return rc;
}
