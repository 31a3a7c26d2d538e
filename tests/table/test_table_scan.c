/* The table layer's scans (src/table/table_scan.h), which the SQL layer reads through:
 * predicates on any column prune row groups, each version's own batches come out unwrapped,
 * versions outside the range are skipped, the counting mode counts from statistics, a
 * dedup=last series reads through the table reader, and footers name what failed. */
#include "pt.h"
#include "pt_pond.h"

#include <pond/alloc.h>
#include <pond/arrow.h>
#include <pond/errors.h>
#include <pond/sys/backend.h>
#include <pond/table.h>
#include <pond/tinyfs.h>

#include "table/table_scan.h"

#include <string.h>

typedef pt_pond env;
static void env_open(env *e) { pt_pond_memory(e); }
static void env_close(env *e) { pt_pond_close(e); }

#define SEC 1000000LL

/* One series version of n rows: ts = t0 + i s (not nullable), value = base + i (double) and,
 * with extra, extra = i (int64); row groups of rg rows. */
static void write_version(env *e, const char *path, int64_t t0, int64_t n, double base, bool extra,
                          int64_t rg)
{
    int nc = extra ? 3 : 2;
    struct ArrowSchema s;
    struct ArrowArray a;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, nc));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[0], "tsu:UTC", "ts", 0, 0));
    PT_ASSERT_OK(pond_arrow_schema_init(s.children[1], "g", "value", ARROW_FLAG_NULLABLE, 0));
    if (extra)
        PT_ASSERT_OK(pond_arrow_schema_init(s.children[2], "l", "extra", ARROW_FLAG_NULLABLE, 0));
    PT_ASSERT_OK(pond_arrow_array_init(&a, n, 0, 1, nc));
    pond_arrow_builder *b[3];
    PT_ASSERT_OK(pond_arrow_builder_new(&b[0], "tsu:UTC"));
    PT_ASSERT_OK(pond_arrow_builder_new(&b[1], "g"));
    if (extra)
        PT_ASSERT_OK(pond_arrow_builder_new(&b[2], "l"));
    for (int64_t i = 0; i < n; i++) {
        PT_ASSERT_OK(pond_arrow_builder_append_int(b[0], t0 + i * SEC));
        PT_ASSERT_OK(pond_arrow_builder_append_double(b[1], base + (double)i));
        if (extra)
            PT_ASSERT_OK(pond_arrow_builder_append_int(b[2], i));
    }
    for (int k = 0; k < nc; k++) {
        PT_ASSERT_OK(pond_arrow_builder_finish(a.children[k], b[k]));
        pond_arrow_builder_free(b[k]);
    }
    pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
    wo.timestamp_column = "ts";
    wo.row_group_rows = rg;
    PT_ASSERT_OK(pond_fs_begin(e->fs, NULL));
    PT_ASSERT_OK(pond_table_write_batch(e->fs, NULL, path, POND_ENTRY_FILE_SERIES, &s, &a, &wo));
    PT_ASSERT_OK(pond_fs_commit(NULL, e->fs));
    pond_arrow_array_release(&a);
    pond_arrow_schema_release(&s);
}

/* The versions of the file at path a read covers (pond_table__scan_versions), into out. */
static size_t versions(table_scan_version *out, size_t cap, env *e, const char *path)
{
    pond_fs_node *h = NULL;
    table_scan_version *v = NULL;
    size_t n = 0;
    int64_t stored = 0;
    PT_ASSERT_OK(pond_fs_node_open(&h, e->fs, NULL, path, 0));
    PT_ASSERT_OK(pond_table__scan_versions(&v, &n, &stored, h, 0));
    pond_fs_node_free(h);
    PT_ASSERT(n <= cap);
    PT_ASSERT(n == 0 || stored > 0);
    memcpy(out, v, n * sizeof *v);
    pond_free(v);
    return n;
}

static int child_index(const struct ArrowSchema *s, const char *name)
{
    for (int64_t i = 0; i < s->n_children; i++)
        if (!strcmp(s->children[i]->name, name))
            return (int)i;
    return -1;
}

/* Reads the whole scan: rows returned, and of them those whose int64 column `col` lies in
 * [lo, hi] (col NULL: none counted). */
static int64_t drain(table_scan *sc, const char *col, int64_t lo, int64_t hi, int64_t *matched)
{
    int64_t rows = 0;
    *matched = 0;
    for (;;) {
        struct ArrowArray b;
        const struct ArrowSchema *s;
        int e = pond_table__scan_next(sc, &b, &s);
        PT_ASSERT(e >= 0);
        if (e == 0)
            break;
        PT_ASSERT_OK(pond_arrow_array_validate(s, &b));
        int k = col ? child_index(s, col) : -1;
        for (int64_t i = 0; k >= 0 && i < b.length; i++) {
            int64_t v = ((const int64_t *)b.children[k]->buffers[1])[b.children[k]->offset + i];
            *matched += v >= lo && v <= hi;
        }
        rows += b.length;
        pond_arrow_array_release(&b);
    }
    return rows;
}

/* Opens the scan of path with o, drains it (as drain) and frees it. */
static int64_t scan_all(env *e, const char *path, const table_scan_options *o, const char *col,
                        int64_t lo, int64_t hi, int64_t *matched)
{
    table_scan *sc = NULL;
    PT_ASSERT_OK(pond_table__scan_open(&sc, e->fs, path, o));
    int64_t rows = drain(sc, col, lo, hi, matched);
    pond_table__scan_free(sc);
    return rows;
}

/* A predicate on a column that is not the timestamp prunes row groups by its statistics:
 * only the groups that may hold a match are read, and every matching row is among them. */
static void test_pred_prunes_any_column(void)
{
    env e;
    env_open(&e);
    write_version(&e, "/s", 0, 1000, 0.0, true, 100);
    table_scan_version vers[4];
    size_t nv = versions(vers, 4, &e, "/s");
    const char *cols[] = {"extra", "value"};
    table_scan_pred preds[2] = {{.name = "extra", .lo = 250, .hi = 349}};
    pond_table_scan_stats st = {0};
    table_scan_options o = {.vers = vers,
                            .n_vers = nv,
                            .series = true,
                            .cols = cols,
                            .n_cols = 2,
                            .preds = preds,
                            .n_preds = 1,
                            .stats = &st};
    int64_t matched, rows = scan_all(&e, "/s", &o, "extra", 250, 349, &matched);
    PT_ASSERT_INT_EQ(matched, 100);
    PT_ASSERT_INT_EQ(rows, 200); /* row groups 200..299 and 300..399 */
    PT_ASSERT_INT_EQ(st.row_groups_total, 10);
    PT_ASSERT_INT_EQ(st.row_groups_read, 2);
    PT_ASSERT_INT_EQ(st.rows_read, 200);

    /* a double predicate, and the two together (AND) */
    memset(&st, 0, sizeof st);
    preds[1] = (table_scan_pred){.name = "value", .dbl = true, .dlo = 0.0, .dhi = 299.5};
    o.preds = preds + 1;
    rows = scan_all(&e, "/s", &o, "extra", 0, 299, &matched);
    PT_ASSERT_INT_EQ(matched, 300);
    PT_ASSERT_INT_EQ(rows, 300);
    PT_ASSERT_INT_EQ(st.row_groups_read, 3);
    memset(&st, 0, sizeof st);
    o.preds = preds;
    o.n_preds = 2;
    rows = scan_all(&e, "/s", &o, "extra", 250, 299, &matched);
    PT_ASSERT_INT_EQ(matched, 50);
    PT_ASSERT_INT_EQ(st.row_groups_read, 1);
    PT_ASSERT_INT_EQ(rows, 100);

    /* no predicate: everything */
    memset(&st, 0, sizeof st);
    o.n_preds = 0;
    rows = scan_all(&e, "/s", &o, "extra", INT64_MIN, INT64_MAX, &matched);
    PT_ASSERT_INT_EQ(rows, 1000);
    PT_ASSERT_INT_EQ(matched, 1000);
    PT_ASSERT_INT_EQ(st.row_groups_read, 10);
    env_close(&e);
}

/* Each version's own batches: a version written before a column existed hands out batches
 * without it (not re-wrapped with a null column), a later one with it. */
static void test_per_version_batches(void)
{
    env e;
    env_open(&e);
    write_version(&e, "/s", 0, 10, 0.0, false, 0);
    write_version(&e, "/s", 100 * SEC, 10, 0.0, true, 0);
    table_scan_version vers[4];
    size_t nv = versions(vers, 4, &e, "/s");
    PT_ASSERT_INT_EQ(nv, 2);
    const char *cols[] = {"ts", "extra"};
    pond_table_scan_stats st = {0};
    table_scan_options o = {
        .vers = vers, .n_vers = nv, .series = true, .cols = cols, .n_cols = 2, .stats = &st};
    table_scan *sc = NULL;
    PT_ASSERT_OK(pond_table__scan_open(&sc, e.fs, "/s", &o));
    int64_t widths[2] = {-1, -1};
    for (int n = 0;; n++) {
        struct ArrowArray b;
        const struct ArrowSchema *s;
        int rc = pond_table__scan_next(sc, &b, &s);
        PT_ASSERT(rc >= 0);
        if (rc == 0)
            break;
        PT_ASSERT(n < 2);
        PT_ASSERT_INT_EQ(b.length, 10);
        widths[n] = s->n_children;
        pond_arrow_array_release(&b);
    }
    pond_table__scan_free(sc);
    PT_ASSERT_INT_EQ(widths[0], 1); /* ts only */
    PT_ASSERT_INT_EQ(widths[1], 2);
    PT_ASSERT_INT_EQ(st.versions_total, 2);
    PT_ASSERT_INT_EQ(st.versions_read, 2);
    env_close(&e);
}

/* The event-time range skips whole versions; the counting mode counts row groups (and
 * versions) wholly inside the range from statistics and returns only the others. */
static void test_range_and_counting(void)
{
    env e;
    env_open(&e);
    write_version(&e, "/s", 0, 1000, 0.0, false, 100);        /* ts 0..999 s */
    write_version(&e, "/s", 5000 * SEC, 100, 0.0, false, 50); /* ts 5000..5099 s */
    write_version(&e, "/s", 9000 * SEC, 100, 0.0, false, 50); /* ts 9000..9099 s */
    table_scan_version vers[4];
    size_t nv = versions(vers, 4, &e, "/s");
    PT_ASSERT_INT_EQ(nv, 3);
    const char *cols[] = {"ts"};
    /* [150 s, 5049 s]: version 3 skipped; version 2 half; version 1's groups 2..9 inside */
    int64_t lo = 150 * SEC, hi = 5049 * SEC;
    table_scan_pred pred = {.name = "ts", .lo = lo, .hi = hi};
    pond_table_scan_stats st = {0};
    table_scan_options o = {.vers = vers,
                            .n_vers = nv,
                            .series = true,
                            .cols = cols,
                            .n_cols = 1,
                            .preds = &pred,
                            .n_preds = 1,
                            .has_range = true,
                            .lo_us = lo,
                            .hi_us = hi,
                            .stats = &st};
    table_scan *sc = NULL;
    PT_ASSERT_OK(pond_table__scan_open(&sc, e.fs, "/s", &o));
    int64_t matched, rows = drain(sc, "ts", lo, hi, &matched);
    PT_ASSERT_INT_EQ(pond_table__scan_inside_rows(sc), 0);
    pond_table__scan_free(sc);
    PT_ASSERT_INT_EQ(matched, 850 + 50);
    PT_ASSERT_INT_EQ(rows, 900 + 50); /* groups 100..999 and the first of version 2 */
    PT_ASSERT_INT_EQ(st.versions_total, 3);
    PT_ASSERT_INT_EQ(st.versions_read, 2);

    memset(&st, 0, sizeof st);
    o.count_col = "ts";
    PT_ASSERT_OK(pond_table__scan_open(&sc, e.fs, "/s", &o));
    rows = drain(sc, "ts", lo, hi, &matched);
    int64_t inside = pond_table__scan_inside_rows(sc);
    pond_table__scan_free(sc);
    PT_ASSERT_INT_EQ(inside, 800 + 50); /* groups 200..999, and version 2's first group */
    PT_ASSERT_INT_EQ(rows, 100);        /* group 100..199 straddles the lower bound */
    PT_ASSERT_INT_EQ(matched + inside, 850 + 50);
    PT_ASSERT_INT_EQ(st.row_groups_read, 1);
    env_close(&e);
}

/* A dedup=last series reads through the table reader: of rows with the same timestamp, the
 * newest version's, with the projection and the range applied. */
static void test_dedup_through_reader(void)
{
    env e;
    env_open(&e);
    write_version(&e, "/s", 0, 100, 0.0, true, 0);
    write_version(&e, "/s", 50 * SEC, 100, 1000.0, true, 0); /* ts 50..149: 50 repeat */
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open(&h, e.fs, NULL, "/s", 0));
    PT_ASSERT_OK(pond_series_set_dedup(h, POND_DEDUP_LAST, NULL, 0));
    pond_fs_node_free(h);
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    table_scan_version vers[4];
    size_t nv = versions(vers, 4, &e, "/s");
    PT_ASSERT_INT_EQ(nv, 2);
    const char *cols[] = {"value"};
    pond_table_scan_stats st = {0};
    table_scan_options o = {.vers = vers,
                            .n_vers = nv,
                            .series = true,
                            .cols = cols,
                            .n_cols = 1,
                            .has_range = true,
                            .lo_us = 40 * SEC,
                            .hi_us = 59 * SEC,
                            .dedup = true,
                            .stats = &st};
    table_scan *sc = NULL;
    PT_ASSERT_OK(pond_table__scan_open(&sc, e.fs, "/s", &o));
    int64_t rows = 0;
    double sum = 0;
    for (;;) {
        struct ArrowArray b;
        const struct ArrowSchema *s;
        int rc = pond_table__scan_next(sc, &b, &s);
        PT_ASSERT(rc >= 0);
        if (rc == 0)
            break;
        PT_ASSERT_INT_EQ(s->n_children, 1);
        for (int64_t i = 0; i < b.length; i++)
            sum += ((const double *)b.children[0]->buffers[1])[b.children[0]->offset + i];
        rows += b.length;
        pond_arrow_array_release(&b);
    }
    pond_table__scan_free(sc);
    /* ts 40..49 from version 1 (values 40..49), ts 50..59 from version 2 (1000..1009) */
    PT_ASSERT_INT_EQ(rows, 20);
    PT_ASSERT(sum == 445.0 + 10045.0);
    env_close(&e);
}

/* Footers: rows and schema without decoding; a missing version's error names the path. */
static void test_version_footer(void)
{
    env e;
    env_open(&e);
    write_version(&e, "/s", 0, 123, 0.0, true, 50);
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&h, e.fs, NULL, "/s", 0));
    int64_t rows = -1;
    struct ArrowSchema s = {0};
    PT_ASSERT_OK(pond_table__version_footer(&rows, &s, h, 1));
    PT_ASSERT_INT_EQ(rows, 123);
    PT_ASSERT_INT_EQ(s.n_children, 3);
    PT_ASSERT_STR_EQ(s.children[2]->name, "extra");
    pond_arrow_schema_release(&s);
    PT_ASSERT(pond_table__version_footer(&rows, NULL, h, 7) < 0);
    PT_ASSERT(strstr(pond_error_last()->message, "/s") != NULL);
    PT_ASSERT_INT_EQ(rows, 123); /* untouched on failure */
    pond_fs_node_free(h);
    env_close(&e);
}

/* The versions a scan reads: every series version with rows, in order, less those a
 * compaction replaced (their rows are in the compacted one) and the settings change (no
 * rows); one by number; a missing number is an error naming the path. */
static void test_scan_versions(void)
{
    env e;
    env_open(&e);
    write_version(&e, "/s", 0, 10, 0.0, false, 0);
    write_version(&e, "/s", 100 * SEC, 10, 0.0, false, 0);
    pond_fs_node *h = NULL;
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_fs_node_open(&h, e.fs, NULL, "/s", 0));
    pond_series_compact_result cr;
    PT_ASSERT_OK(pond_series_compact(&cr, h, NULL));
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    PT_ASSERT_INT_EQ(cr.version, 3);
    PT_ASSERT_OK(pond_fs_begin(e.fs, NULL));
    PT_ASSERT_OK(pond_series_set_dedup(h, POND_DEDUP_LAST, NULL, 0)); /* version 4: no rows */
    PT_ASSERT_OK(pond_fs_commit(NULL, e.fs));
    write_version(&e, "/s", 200 * SEC, 10, 0.0, false, 0);
    table_scan_version *v = NULL;
    size_t n = 0;
    int64_t stored = 0;
    PT_ASSERT_OK(pond_table__scan_versions(&v, &n, &stored, h, 0));
    PT_ASSERT_INT_EQ(n, 2);
    PT_ASSERT_INT_EQ(v[0].version, 3);
    PT_ASSERT_INT_EQ(v[1].version, 5);
    PT_ASSERT(v[1].has_event_time && v[1].min_us == 200 * SEC && v[1].max_us == 209 * SEC);
    pond_free(v);
    PT_ASSERT_OK(pond_table__scan_versions(&v, &n, &stored, h, 1)); /* replaced, still readable */
    PT_ASSERT_INT_EQ(n, 1);
    PT_ASSERT_INT_EQ(v[0].version, 1);
    pond_free(v);
    PT_ASSERT_INT_EQ(pond_table__scan_versions(&v, &n, &stored, h, 9), POND_ENOTFOUND);
    PT_ASSERT(v == NULL && n == 0);
    PT_ASSERT(strstr(pond_error_last()->message, "/s has no version 9") != NULL);
    pond_fs_node_free(h);
    env_close(&e);
}

/* Every batch of a scan in order: per batch its length and the first and last value, and the
 * sum over all (doubles added in row order). */
typedef struct {
    int n;
    int64_t len[64];
    double first[64], last[64];
    double sum;
} batch_log;

static int scan_log(batch_log *lg, env *e, const char *path, const table_scan_options *o)
{
    memset(lg, 0, sizeof *lg);
    table_scan *sc = NULL;
    int rc = pond_table__scan_open(&sc, e->fs, path, o);
    while (rc == 0) {
        struct ArrowArray b;
        const struct ArrowSchema *s;
        int got = pond_table__scan_next(sc, &b, &s);
        if (got <= 0) {
            rc = got;
            break;
        }
        int k = child_index(s, "value");
        PT_ASSERT(k >= 0 && lg->n < 64 && b.length > 0);
        const double *d = (const double *)b.children[k]->buffers[1] + b.children[k]->offset;
        lg->len[lg->n] = b.length;
        lg->first[lg->n] = d[0];
        lg->last[lg->n] = d[b.length - 1];
        for (int64_t i = 0; i < b.length; i++)
            lg->sum += d[i];
        lg->n++;
        pond_arrow_array_release(&b);
    }
    pond_table__scan_free(sc);
    return rc;
}

/* Prefetching (the next version opened, and its workers started, while the current one's
 * last row groups are read) returns the same batches in the same order as a scan on one
 * thread, with the same statistics, also when the range skips a version in between. Row
 * groups of 560 KB of doubles decode ahead on the reader's workers. */
static void test_prefetch_same_batches(void)
{
    env e;
    env_open(&e);
    for (int v = 0; v < 5; v++) /* 140,000 rows each: 2 row groups; version 3 has "extra" */
        write_version(&e, "/s", v * 200000 * SEC, 140000, v * 1e6, v == 3, 70000);
    write_version(&e, "/small", 0, 10, 0.0, false, 0);
    write_version(&e, "/small", 100 * SEC, 10, 100.0, false, 0);
    write_version(&e, "/small", 200 * SEC, 10, 200.0, false, 0);
    table_scan_version vers[8];
    const char *cols[] = {"ts", "value", "extra"};
    for (int pass = 0; pass < 3; pass++) {
        const char *path = pass == 2 ? "/small" : "/s";
        size_t nv = versions(vers, 8, &e, path);
        pond_table_scan_stats st1 = {0}, st2 = {0};
        table_scan_options o = {.vers = vers,
                                .n_vers = nv,
                                .series = true,
                                .cols = cols,
                                .n_cols = 3,
                                .threads = 1,
                                .stats = &st1};
        if (pass == 1) { /* versions 0, 2 and 3 (version 1 lies outside) */
            o.has_range = true;
            o.lo_us = 0;
            o.hi_us = 700000 * SEC;
            vers[1].min_us = vers[1].max_us = 900000 * SEC;
        }
        batch_log one, two;
        PT_ASSERT_OK(scan_log(&one, &e, path, &o));
        o.threads = 2;
        o.prefetch = true;
        o.stats = &st2;
        PT_ASSERT_OK(scan_log(&two, &e, path, &o));
        PT_ASSERT_INT_EQ(two.n, one.n);
        for (int i = 0; i < one.n; i++) {
            PT_ASSERT_INT_EQ(two.len[i], one.len[i]);
            PT_ASSERT(two.first[i] == one.first[i] && two.last[i] == one.last[i]);
        }
        PT_ASSERT(memcmp(&two.sum, &one.sum, sizeof one.sum) == 0);
        PT_ASSERT_INT_EQ(st2.versions_read, st1.versions_read);
        PT_ASSERT_INT_EQ(st2.row_groups_read, st1.row_groups_read);
        PT_ASSERT_INT_EQ(st2.rows_read, st1.rows_read);
        if (pass == 0) {
            PT_ASSERT_INT_EQ(one.n, 10);
            PT_ASSERT(one.first[2] == 1e6 && one.last[9] == 4e6 + 139999);
        } else if (pass == 1) {
            PT_ASSERT_INT_EQ(st1.versions_read, 3);
            PT_ASSERT(one.first[2] == 2e6); /* version 1 skipped */
        } else {
            PT_ASSERT_INT_EQ(one.n, 3);
            PT_ASSERT(one.first[2] == 200.0);
        }
    }
    env_close(&e);
}

/* A failure opening the next version ahead is reported, in its turn: every allocation that
 * fails fails the scan (none is swallowed by the prefetch) and leaks nothing. */
typedef struct {
    env *e;
    table_scan_version vers[4];
    size_t nv;
} fault_env;

static int prefetch_fault_body(void *arg)
{
    fault_env *f = arg;
    env *e = f->e;
    const table_scan_version *vers = f->vers;
    size_t nv = f->nv;
    const char *cols[] = {"ts", "value"};
    pond_table_scan_stats st = {0};
    table_scan_options o = {.vers = vers,
                            .n_vers = nv,
                            .series = true,
                            .cols = cols,
                            .n_cols = 2,
                            .threads = 2,
                            .prefetch = true,
                            .stats = &st};
    batch_log lg;
    int rc = scan_log(&lg, e, "/small", &o);
    if (rc == 0 && (lg.n != 3 || lg.first[1] != 100.0))
        rc = pond_error_set(POND_ERROR, POND_DOM_NONE, "wrong batches");
    return rc;
}

static void test_prefetch_faults(void)
{
    env e;
    env_open(&e);
    write_version(&e, "/small", 0, 10, 0.0, false, 0);
    write_version(&e, "/small", 100 * SEC, 10, 100.0, false, 0);
    write_version(&e, "/small", 200 * SEC, 10, 200.0, false, 0);
    fault_env f = {.e = &e};
    f.nv = versions(f.vers, 4, &e, "/small");
    PT_ASSERT_OK(prefetch_fault_body(&f));
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, prefetch_fault_body, &f);
    PT_ASSERT(steps > 10);
    env_close(&e);
}

/* A buffer cache the caller keeps across scans (a SQL connection's) serves versions of
 * different columns and scan after scan with the same batches as a scan on one thread; a
 * scan abandoned after its first batch (SQLite stopping at a LIMIT) stops its workers, and its
 * batch stays good after the scan and the cache are gone. */
static void test_cache_across_scans(void)
{
    env e;
    env_open(&e);
    for (int v = 0; v < 4; v++) /* 140,000 rows each: 2 row groups; version 2 has "extra" */
        write_version(&e, "/s", v * 200000 * SEC, 140000, v * 1e6, v == 2, 70000);
    table_scan_version vers[8];
    size_t nv = versions(vers, 8, &e, "/s");
    const char *cols[] = {"ts", "value", "extra"};
    pond_table_scan_stats st = {0};
    table_scan_options o = {.vers = vers,
                            .n_vers = nv,
                            .series = true,
                            .cols = cols,
                            .n_cols = 3,
                            .threads = 1,
                            .stats = &st};
    batch_log one, two;
    PT_ASSERT_OK(scan_log(&one, &e, "/s", &o));
    PT_ASSERT_INT_EQ(one.n, 8);
    pond_bufcache *cache;
    PT_ASSERT_OK(pond_table__scan_cache_new(&cache));
    o.cache = cache;
    for (int round = 0; round < 3; round++) {
        o.threads = round == 1 ? 1 : 2;
        o.prefetch = round != 1;
        PT_ASSERT_OK(scan_log(&two, &e, "/s", &o));
        PT_ASSERT_INT_EQ(two.n, one.n);
        for (int i = 0; i < one.n; i++) {
            PT_ASSERT_INT_EQ(two.len[i], one.len[i]);
            PT_ASSERT(two.first[i] == one.first[i] && two.last[i] == one.last[i]);
        }
        PT_ASSERT(memcmp(&two.sum, &one.sum, sizeof one.sum) == 0);
    }
    /* abandoned after the first batch, the batch released last */
    o.threads = 2;
    o.prefetch = true;
    table_scan *sc;
    PT_ASSERT_OK(pond_table__scan_open(&sc, e.fs, "/s", &o));
    struct ArrowArray b;
    const struct ArrowSchema *sch;
    PT_ASSERT_INT_EQ(pond_table__scan_next(sc, &b, &sch), 1);
    int k = child_index(sch, "value");
    PT_ASSERT(k >= 0 && b.length == one.len[0]);
    pond_table__scan_free(sc);
    pond__bufcache_close(cache);
    const double *d = (const double *)b.children[k]->buffers[1] + b.children[k]->offset;
    PT_ASSERT(d[0] == one.first[0] && d[b.length - 1] == one.last[0]);
    pond_arrow_array_release(&b);
    env_close(&e);
}

PT_SUITE(table_scan, PT_TEST(cache_across_scans), PT_TEST(scan_versions),
         PT_TEST(pred_prunes_any_column), PT_TEST(per_version_batches), PT_TEST(range_and_counting),
         PT_TEST(dedup_through_reader), PT_TEST(version_footer), PT_TEST(prefetch_same_batches),
         PT_TEST(prefetch_faults))
