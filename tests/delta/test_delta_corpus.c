/* Walks the delta section of ../shared/corpus/manifest.json and checks every table against the
 * outcome the manifest expects (see ../shared/corpus/README.md for the status values). */
#include "pt.h"

#include <pond/delta.h>
#include <pond/hash.h>

#include "delta/delta_internal.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <stdlib.h>

typedef struct {
    int checked, refused, json_replayed, data_only, failures, digests, cp_consistent;
    pond_buf report;
} corpus_stats;

static void note_failure(corpus_stats *s, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_failure(corpus_stats *s, const char *key, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->failures++;
    pond_buf_printf(&s->report, "  %s: %s\n", key, msg);
}

/* Phrases of mutations that can only be seen by reading data file contents (needs Parquet). */
static bool needs_data(const char *phrase)
{
    return phrase && (!strcmp(phrase, "actual minimum") || !strcmp(phrase, "stats.numRecords"));
}

static int open_and_verify(pond_delta_table **t, const char *dir, bool ignore_cp, unsigned flags)
{
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.ignore_checkpoints = ignore_cp;
    int rc = pond_delta_table_open(t, dir, &o);
    if (rc == 0 && flags)
        rc = pond_delta_table_verify(*t, flags);
    return rc;
}

/* Compares the snapshot with the manifest's expectation (version, file count) and the oracle's
 * protocol and partition columns. */
static void compare(corpus_stats *s, const char *key, const pond_delta_table *t, const json_t *exp,
                    const json_t *oracle)
{
    char a[64], b[64];
    const json_t *v = json_object_get(exp, "version");
    if (json_is_integer(v) && json_integer_value(v) != pond_delta_table_version(t)) {
        snprintf(a, sizeof a, "%lld", (long long)pond_delta_table_version(t));
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
        note_failure(s, key, "version %s, manifest says %s", a, b);
    }
    const json_t *nf = json_object_get(exp, "numFiles");
    if (json_is_integer(nf) && (size_t)json_integer_value(nf) != pond_delta_table_file_count(t)) {
        snprintf(a, sizeof a, "%zu", pond_delta_table_file_count(t));
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(nf));
        note_failure(s, key, "%s live files, manifest says %s", a, b);
    }
    const json_t *p = json_object_get(oracle, "protocol");
    const pond_delta_protocol *pr = pond_delta_table_protocol(t);
    if (json_is_object(p) &&
        (json_integer_value(json_object_get(p, "minReaderVersion")) != pr->min_reader_version ||
         json_integer_value(json_object_get(p, "minWriterVersion")) != pr->min_writer_version))
        note_failure(s, key, "protocol differs from the oracle's");
    const json_t *pc = json_object_get(oracle, "partitionColumns");
    const pond_delta_metadata *md = pond_delta_table_metadata(t);
    if (json_is_array(pc)) {
        bool same = json_array_size(pc) == md->n_partition_columns;
        for (size_t i = 0; same && i < md->n_partition_columns; i++)
            same = !strcmp(json_string_value(json_array_get(pc, i)), md->partition_columns[i]);
        if (!same)
            note_failure(s, key, "partition columns differ from the oracle's");
    }
    s->checked++;
}

/* The order-independent Delta digest of canon-v1 (../shared/tools/oracle/README.md):
 * sha256("rows=<n>;sum=<hi><lo>") over two wrapping 64-bit lane sums of sha256(line). */
typedef struct {
    uint64_t hi, lo;
    int64_t rows;
    pond_buf partial;
} digest_state;

static int digest_write(const void *buf, size_t len, void *payload)
{
    digest_state *d = payload;
    pond_hash h;
    int rc = pond_sha256_buf(&h, buf, len);
    uint64_t a = 0, b = 0;
    for (int i = 0; i < 8; i++) {
        a = a << 8 | h.bytes[i];
        b = b << 8 | h.bytes[8 + i];
    }
    d->hi += a;
    d->lo += b;
    d->rows++;
    return rc;
}

static int table_digest(char out[72], int64_t *rows, const pond_delta_table *t)
{
    digest_state d = {0, 0, 0, POND_BUF_INIT};
    int64_t n;
    int rc = pond_delta_table_dump(t, digest_write, &d, &n);
    if (rc < 0)
        return rc;
    char text[128];
    snprintf(text, sizeof text, "rows=%lld;sum=%016llx%016llx", (long long)d.rows,
             (unsigned long long)d.hi, (unsigned long long)d.lo);
    pond_hash h;
    if ((rc = pond_sha256_buf(&h, text, strlen(text))) < 0)
        return rc;
    char hex[65];
    pond_hash_hex(hex, &h);
    snprintf(out, 72, "sha256:%s", hex);
    *rows = n;
    return n == d.rows ? 0 : POND_ERROR;
}

/* Reads the rows and compares them with the manifest's row count and digest. */
static void compare_rows(corpus_stats *s, const char *key, const pond_delta_table *t,
                         const json_t *exp)
{
    const char *want = json_string_value(json_object_get(exp, "digest"));
    const json_t *rows = json_object_get(exp, "rows");
    if (!want || !json_is_integer(rows))
        return;
    char got[72];
    int64_t n;
    int rc = table_digest(got, &n, t);
    if (rc == POND_EUNSUPPORTED) {
        printf("    rows not compared for %s: %s\n", key, pond_error_last()->message);
        return;
    }
    if (rc < 0)
        note_failure(s, key, "reading rows: %s", pond_error_last()->message);
    else if (n != json_integer_value(rows))
        note_failure(s, key, "%lld rows, manifest says %lld", (long long)n,
                     (long long)json_integer_value(rows));
    else if (strcmp(got, want) != 0)
        note_failure(s, key, "digest %s, manifest says %s", got, want);
    else
        s->digests++;
}

typedef struct {
    pond_buf b;
} files_desc;

static int desc_file(const pond_delta_file *f, void *payload)
{
    files_desc *d = payload;
    return pond_buf_printf(&d->b, "%s|%lld|%c%s\n", f->decoded_path, (long long)f->size,
                           f->deletion_vector ? f->deletion_vector->storage_type : '-',
                           f->deletion_vector ? f->deletion_vector->path_or_inline : "");
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted text of a snapshot's live files (free with pond_free). */
static char *files_text(const pond_delta_table *t)
{
    files_desc d = {POND_BUF_INIT};
    PT_ASSERT_OK(pond_delta_table_foreach_file(t, desc_file, &d));
    size_t n = 0;
    for (size_t i = 0; i < d.b.size; i++)
        n += d.b.ptr[i] == '\n';
    char **lines = pond_malloc((n ? n : 1) * sizeof *lines);
    PT_ASSERT(lines);
    size_t k = 0;
    for (char *s = d.b.ptr ? strtok(d.b.ptr, "\n") : NULL; s && k < n; s = strtok(NULL, "\n"))
        lines[k++] = s;
    qsort(lines, k, sizeof *lines, cmp_cstr);
    pond_buf out = POND_BUF_INIT;
    for (size_t i = 0; i < k; i++)
        pond_buf_printf(&out, "%s\n", lines[i]);
    pond_free(lines);
    pond_buf_dispose(&d.b);
    return pond_buf_detach(&out);
}

/* A snapshot built from a checkpoint must equal the one replayed from the JSON commits when the
 * table still has them all. */
static void compare_with_json_replay(corpus_stats *s, const char *key, const char *dir,
                                     const pond_delta_table *t)
{
    if (pond_delta_table_checkpoint_version(t) < 0)
        return;
    pond_delta_table *j = NULL;
    pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
    o.ignore_checkpoints = true;
    o.at_version = pond_delta_table_version(t);
    if (pond_delta_table_open(&j, dir, &o) < 0)
        return; /* history cleaned up (or a broken commit the checkpoint superseded) */
    if (strcmp(pond_delta_table_metadata(t)->id, pond_delta_table_metadata(j)->id) != 0) {
        /* a synthetic fixture whose checkpoint is not derived from its commits */
        printf("    %s: checkpoint and commits describe different tables; checkpoint used\n", key);
        pond_delta_table_free(j);
        return;
    }
    char *a = files_text(t), *b = files_text(j);
    if (strcmp(a, b) != 0)
        note_failure(s, key, "checkpoint snapshot differs from the JSON replay");
    else
        s->cp_consistent++;
    pond_free(a);
    pond_free(b);
    pond_delta_table_free(j);
}

static bool is_parquet_refusal(int rc)
{
    return rc == POND_EUNSUPPORTED && strstr(pond_error_last()->message, "parquet reader");
}

static void check_case(corpus_stats *s, const char *corpus, const char *key, const json_t *c)
{
    const json_t *exp = json_object_get(c, "expect");
    const json_t *oracle = json_object_get(c, "oracle");
    const char *status = json_string_value(json_object_get(exp, "status"));
    const char *phrase = json_string_value(json_object_get(exp, "errorLike"));
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s/delta", corpus, key);
    pond_delta_table *t = NULL;
    int rc;
    if (!status) {
        note_failure(s, key, "manifest entry without expect.status");
        return;
    }
    if (!strcmp(status, "read") || !strcmp(status, "OK") || !strcmp(status, "log-only")) {
        bool log_only = !strcmp(status, "log-only");
        rc = open_and_verify(&t, dir, false,
                             log_only ? POND_DELTA_VERIFY_CRC : POND_DELTA_VERIFY_ALL);
        if (rc == 0) {
            compare(s, key, t, exp, oracle);
            compare_with_json_replay(s, key, dir, t);
            /* under valgrind (light mode) only the small tables' rows are read */
            if (!log_only &&
                (!pt_light() || json_integer_value(json_object_get(c, "bytes")) < 60000))
                compare_rows(s, key, t, exp);
        } else if (is_parquet_refusal(rc)) {
            /* The snapshot starts at a Parquet checkpoint. When every JSON commit is still
             * there, the full replay must give the same answer. */
            s->refused++;
            pond_delta_table_free(t);
            t = NULL;
            rc = open_and_verify(&t, dir, true,
                                 log_only ? POND_DELTA_VERIFY_CRC : POND_DELTA_VERIFY_ALL);
            if (rc == 0) {
                s->json_replayed++;
                compare(s, key, t, exp, oracle);
            } else if (rc != POND_EUNSUPPORTED &&
                       !strstr(pond_error_last()->message, "missing commit file")) {
                note_failure(s, key, "json-only replay failed: %s", pond_error_last()->message);
            }
        } else if (rc == POND_EUNSUPPORTED) {
            s->refused++;
            printf("    refused %s: %s\n", key, pond_error_last()->message);
        } else {
            note_failure(s, key, "should read, got: %s", pond_error_last()->message);
        }
    } else if (!strcmp(status, "reject")) {
        rc = open_and_verify(&t, dir, false, POND_DELTA_VERIFY_ALL);
        if (rc == 0)
            note_failure(s, key, "should be rejected but opened");
        else
            s->checked++;
    } else if (!strcmp(status, "unsupported-feature") || !strcmp(status, "UNSUPPORTED")) {
        rc = open_and_verify(&t, dir, false, POND_DELTA_VERIFY_ALL);
        if (rc != POND_EUNSUPPORTED)
            note_failure(s, key, "should be refused as unsupported, got: %s",
                         rc ? pond_error_last()->message : "success");
        else if (phrase && !strstr(pond_error_last()->message, phrase))
            note_failure(s, key, "message \"%s\" lacks \"%s\"", pond_error_last()->message, phrase);
        else
            s->checked++;
    } else if (!strcmp(status, "INVALID")) {
        rc = open_and_verify(&t, dir, false, POND_DELTA_VERIFY_ALL);
        if (rc == 0 && needs_data(phrase)) {
            /* the data check happens while reading the rows */
            char got[72];
            int64_t n;
            rc = table_digest(got, &n, t);
        }
        if (rc == 0 && needs_data(phrase)) {
            s->data_only++;
            printf("    not checked %s: \"%s\" needs the data files read\n", key, phrase);
        } else if (rc == 0) {
            note_failure(s, key, "should be rejected (\"%s\") but opened", phrase);
        } else if (phrase && !strstr(pond_error_last()->message, phrase)) {
            note_failure(s, key, "message \"%s\" lacks \"%s\"", pond_error_last()->message, phrase);
        } else {
            s->checked++;
        }
    } else if (!strcmp(status, "ambiguous") || !strcmp(status, "read-or-reject-cleanly")) {
        (void)open_and_verify(&t, dir, false, POND_DELTA_VERIFY_ALL); /* must not crash */
        s->checked++;
    } else {
        note_failure(s, key, "unknown expect.status '%s'", status);
    }
    pond_delta_table_free(t);
}

static void test_manifest(void)
{
    const char *corpus = pt_corpus_dir();
    if (!corpus)
        pt_skip("../shared/corpus not found");
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", corpus);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond__read_file(&b, path, 64u << 20, POND_DOM_DELTA));
    json_error_t err;
    json_t *m = json_loadb(b.ptr, b.size, 0, &err);
    pond_buf_dispose(&b);
    PT_ASSERT(m != NULL);
    const json_t *delta = json_object_get(m, "delta");
    PT_ASSERT(json_is_object(delta));
    corpus_stats s = {0};
    const char *key;
    json_t *c;
    size_t n = 0;
    json_object_foreach((json_t *)delta, key, c)
    {
        check_case(&s, corpus, key, c);
        n++;
    }
    printf("    delta corpus: %d tables' rows match the manifest digest; %d checkpoint snapshots "
           "equal their JSON replay\n",
           s.digests, s.cp_consistent);
    printf(
        "    delta corpus: %zu tables, %d checked, %d refused as unsupported (%d of them checked "
        "by a json-only replay), %d need data reading\n",
        n, s.checked, s.refused, s.json_replayed, s.data_only);
    json_decref(m);
    if (s.failures) {
        printf("%s", s.report.ptr);
        pond_buf_dispose(&s.report);
        pt_fail(__FILE__, __LINE__, "%d corpus tables disagree with the manifest", s.failures);
    }
    pond_buf_dispose(&s.report);
    PT_ASSERT(n >= 100);
    PT_ASSERT(s.checked > 80);
}

static int find_dv(const pond_delta_file *f, void *payload)
{
    if (f->deletion_vector)
        *(const pond_delta_file **)payload = f;
    return 0;
}

/* The expected rows come from an independent decoder (a few lines of Python over the .bin). */
static void test_deletion_vector_file(void)
{
    const char *corpus = pt_corpus_dir();
    if (!corpus)
        pt_skip("../shared/corpus not found");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/delta/kernel-data/table-with-dv-small/delta", corpus);
    pond_delta_table *t;
    PT_ASSERT_OK(pond_delta_table_open(&t, dir, NULL));
    const pond_delta_file *f = NULL;
    PT_ASSERT_OK(pond_delta_table_foreach_file(t, find_dv, &f));
    PT_ASSERT(f);
    uint64_t *rows;
    size_t n;
    PT_ASSERT_OK(pond_delta_dv_read(&rows, &n, t, f));
    PT_ASSERT_INT_EQ(n, 2);
    PT_ASSERT_INT_EQ(rows[0], 0);
    PT_ASSERT_INT_EQ(rows[1], 9);
    pond_free(rows);
    pond_delta_table_free(t);
}

/* ---- every corpus checkpoint read through its columns and through jansson values */

typedef struct {
    int tables, with_checkpoint, files, files_read;
    pond_buf report;
} two_ways;

static void two_ways_table(two_ways *w, const char *dir)
{
    for (int skip = 0; skip < 2; skip++) {
        pond_delta_open_options o = POND_DELTA_OPEN_OPTIONS_INIT;
        o.skip_stats = skip;
        pond_delta_table *t = NULL, *oracle = NULL;
        int rc = pond_delta_table_open(&t, dir, &o);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", rc < 0 ? pond_error_last()->message : "");
        int orc = pond_delta__table_open_ex(&oracle, dir, &o, true);
        pond_buf diff = POND_BUF_INIT;
        if (rc != orc)
            pond_buf_printf(&w->report, "  %s: %d through the columns, %d through jansson (%s)\n",
                            dir, rc, orc, rc < 0 ? msg : pond_error_last()->message);
        else if (rc < 0 && strcmp(msg, pond_error_last()->message) != 0)
            pond_buf_printf(&w->report, "  %s: \"%s\" vs \"%s\"\n", dir, msg,
                            pond_error_last()->message);
        else if (rc == 0 && (pond_delta__snapshot_diff(&diff, t, oracle) < 0 || diff.size))
            pond_buf_printf(&w->report, "  %s: snapshots differ: %s\n", dir,
                            diff.ptr ? diff.ptr : "?");
        if (!skip) {
            w->tables++;
            w->with_checkpoint += rc == 0 && pond_delta_table_checkpoint_version(t) >= 0;
        }
        pond_buf_dispose(&diff);
        pond_delta_table_free(t);
        pond_delta_table_free(oracle);
    }
}

/* One checkpoint file alone, from memory (parts and sidecars lack protocol and metaData: both
 * ways must then fail alike). */
static void two_ways_file(two_ways *w, const char *path)
{
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond__read_file(&b, path, 64u << 20, POND_DOM_DELTA));
    pond_delta_table *t = NULL, *oracle = NULL;
    int rc = pond_delta__table_from_checkpoint_mem(&t, b.ptr, b.size, false);
    int orc = pond_delta__table_from_checkpoint_mem(&oracle, b.ptr, b.size, true);
    pond_buf diff = POND_BUF_INIT;
    if (rc != orc)
        pond_buf_printf(&w->report, "  %s: %d through the columns, %d through jansson\n", path, rc,
                        orc);
    else if (rc == 0 && (pond_delta__snapshot_diff(&diff, t, oracle) < 0 || diff.size))
        pond_buf_printf(&w->report, "  %s: snapshots differ: %s\n", path,
                        diff.ptr ? diff.ptr : "?");
    w->files++;
    w->files_read += rc == 0;
    pond_buf_dispose(&diff);
    pond_buf_dispose(&b);
    pond_delta_table_free(t);
    pond_delta_table_free(oracle);
}

static void two_ways_walk(two_ways *w, const char *dir, int depth)
{
    pond_dir *d = NULL;
    PT_ASSERT_OK(pond__dir_open(&d, dir, false, POND_DOM_DELTA));
    pond_dirent e;
    int rc;
    while ((rc = pond__dir_next(&e, d, POND_DOM_DELTA)) == 0) {
        if (!S_ISDIR(e.st.st_mode) && !S_ISREG(e.st.st_mode))
            continue;
        char *p = pond__path_join(dir, e.name);
        PT_ASSERT(p);
        size_t n = strlen(e.name);
        if (S_ISDIR(e.st.st_mode) && !strcmp(e.name, "_delta_log"))
            two_ways_table(w, dir);
        if (S_ISDIR(e.st.st_mode) && depth < 8)
            two_ways_walk(w, p, depth + 1);
        else if (S_ISREG(e.st.st_mode) && strstr(e.name, ".checkpoint.") && n > 8 &&
                 !strcmp(e.name + n - 8, ".parquet"))
            two_ways_file(w, p);
        pond_free(p);
    }
    PT_ASSERT_INT_EQ(rc, POND_ITEROVER);
    pond__dir_close(d);
}

static void test_checkpoint_two_ways(void)
{
    const char *corpus = pt_corpus_dir();
    if (!corpus)
        pt_skip("../shared/corpus not found");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/delta", corpus);
    two_ways w = {0, 0, 0, 0, POND_BUF_INIT};
    two_ways_walk(&w, dir, 0);
    printf("    delta corpus: %d tables (%d open from a checkpoint) and %d checkpoint files (%d "
           "read alone) the same through the columns and through jansson\n",
           w.tables, w.with_checkpoint, w.files, w.files_read);
    if (w.report.size) {
        printf("%s", w.report.ptr);
        pond_buf_dispose(&w.report);
        pt_fail(__FILE__, __LINE__, "checkpoints read differently through the columns");
    }
    PT_ASSERT(w.with_checkpoint >= 15);
    PT_ASSERT(w.files >= 40 && w.files_read >= 10);
}

PT_SUITE(delta_corpus, PT_TEST(manifest), PT_TEST(deletion_vector_file),
         PT_TEST(checkpoint_two_ways))
