/* Parallel CSV parsing (docs/import.md, "Parallel parsing"): at 2 and 4 threads the import
 * gives the batches, the Parquet bytes, the errors and the notes of one thread. Small batches
 * make small chunks, so chunk boundaries fall everywhere in small inputs. */
#include "pt.h"
#include "pt_pond.h"

#include <pond/alloc.h>
#include <pond/buf.h>
#include <pond/csv_import.h>
#include <pond/hash.h>
#include <pond/parquet.h>
#include <pond/timefmt.h>

#include "table/table_internal.h"
#include "util/util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one import gave: its rows as text, its batch lengths, the SHA-256 of the Parquet file
 * written from its batches, or its error. */
typedef struct {
    pond_buf rows, lengths, notes;
    char parquet_sha[65];
    int rc;
    char err[1024];
    size_t chunk_limit;             /* 0: the default */
    int64_t par_batches, fallbacks; /* the most of the runs at 2 and 4 threads */
} outcome;

static void dump_batch(pond_buf *out, const struct ArrowSchema *sc, const struct ArrowArray *b)
{
    for (int64_t i = 0; i < b->length; i++) {
        for (int64_t c = 0; c < b->n_children; c++) {
            const struct ArrowArray *a = b->children[c];
            const char *f = sc->children[c]->format;
            int64_t k = a->offset + i;
            if (c)
                pond_buf_putc(out, '|');
            if (!pt_arrow_valid(a, i))
                pond_buf_putc(out, '~');
            else if (!strcmp(f, "l") || !strncmp(f, "ts", 2))
                pond_buf_printf(out, "%lld", (long long)((const int64_t *)a->buffers[1])[k]);
            else if (!strcmp(f, "g"))
                pond_buf_printf(out, "%.17g", ((const double *)a->buffers[1])[k]);
            else if (!strcmp(f, "b"))
                pond_buf_puts(out, (((const uint8_t *)a->buffers[1])[k / 8] >> (k % 8)) & 1
                                       ? "true"
                                       : "false");
            else {
                const int32_t *o = a->buffers[1];
                pond_buf_printf(out, "'%.*s'", (int)(o[k + 1] - o[k]),
                                (const char *)a->buffers[2] + o[k]);
            }
        }
        pond_buf_putc(out, '\n');
    }
}

static void take_note(const char *msg, void *payload) { pond_buf_printf(payload, "%s\n", msg); }

static void run_import(outcome *o, const char *path, pond_csv_import_options opts, int threads)
{
    size_t limit = o->chunk_limit;
    memset(o, 0, sizeof *o);
    o->chunk_limit = limit;
    opts.threads = threads;
    opts.note = take_note;
    opts.note_payload = &o->notes;
    struct ArrowArrayStream s;
    if ((o->rc = pond_csv_import_stream(&s, path, &opts)) < 0) {
        snprintf(o->err, sizeof o->err, "%s", pond_error_last()->message);
        return;
    }
    if (limit)
        pond_table__csv_import_set_chunk_limit(&s, limit);
    struct ArrowSchema sc;
    PT_ASSERT_INT_EQ(s.get_schema(&s, &sc), 0);
    for (int64_t c = 0; c < sc.n_children; c++)
        pond_buf_printf(&o->rows, "%s%s:%s", c ? "," : "", sc.children[c]->name,
                        sc.children[c]->format);
    pond_buf_putc(&o->rows, '\n');
    struct ArrowArray *batches = NULL;
    size_t n = 0;
    int rc;
    for (;;) {
        struct ArrowArray b;
        if ((rc = s.get_next(&s, &b)) != 0 || !b.release)
            break;
        dump_batch(&o->rows, &sc, &b);
        pond_buf_printf(&o->lengths, "%lld ", (long long)b.length);
        batches = realloc(batches, (n + 1) * sizeof *batches);
        PT_ASSERT(batches != NULL);
        batches[n++] = b;
    }
    if (rc == 0) { /* after the end, the end again, with no second note */
        struct ArrowArray b;
        PT_ASSERT_INT_EQ(s.get_next(&s, &b), 0);
        PT_ASSERT(b.release == NULL);
    }
    pond_table__csv_import_stats(&s, &o->par_batches, &o->fallbacks);
    if (rc != 0) {
        o->rc = POND_EINVALID;
        snprintf(o->err, sizeof o->err, "%s", s.get_last_error(&s));
    } else {
        const struct ArrowArray **ptrs = calloc(n + 1, sizeof *ptrs);
        PT_ASSERT(ptrs != NULL);
        for (size_t k = 0; k < n; k++)
            ptrs[k] = &batches[k];
        char pq[4400];
        snprintf(pq, sizeof pq, "%s/out-%d.parquet", PT_TMPDIR(), threads);
        pond_parquet_writer_options wo = POND_PARQUET_WRITER_OPTIONS_INIT;
        wo.row_group_rows = 1000; /* several row groups in small inputs */
        PT_ASSERT_OK(
            pond_parquet_write_file(pq, &sc, (const struct ArrowArray *const *)ptrs, n, &wo));
        free(ptrs);
        FILE *f = fopen(pq, "rb");
        PT_ASSERT(f != NULL);
        pond_buf bytes = POND_BUF_INIT;
        char chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
            PT_ASSERT_OK(pond_buf_put(&bytes, chunk, got));
        fclose(f);
        pond_hash h;
        PT_ASSERT_OK(pond_sha256_buf(&h, bytes.ptr, bytes.size));
        pond_hash_hex(o->parquet_sha, &h);
        pond_buf_dispose(&bytes);
    }
    for (size_t k = 0; k < n; k++)
        batches[k].release(&batches[k]);
    free(batches);
    sc.release(&sc);
    s.release(&s);
}

static void outcome_dispose(outcome *o)
{
    pond_buf_dispose(&o->rows);
    pond_buf_dispose(&o->lengths);
    pond_buf_dispose(&o->notes);
}

static const char *str(const pond_buf *b) { return b->ptr ? b->ptr : ""; }

/* Imports text at 1, 2 and 4 threads and checks that all three agree on everything; returns
 * the one-thread outcome (the caller disposes it). */
static void same_at_all_threads(outcome *one, const char *path, const pond_csv_import_options *o)
{
    run_import(one, path, *o, 1);
    PT_ASSERT_INT_EQ(one->par_batches, 0);
    static const int counts[] = {2, 4};
    for (size_t k = 0; k < 2; k++) {
        outcome par = {0};
        par.chunk_limit = one->chunk_limit;
        run_import(&par, path, *o, counts[k]);
        PT_ASSERT_INT_EQ(par.rc, one->rc);
        PT_ASSERT_STR_EQ(par.err, one->err);
        PT_ASSERT_STR_EQ(str(&par.rows), str(&one->rows));
        PT_ASSERT_STR_EQ(str(&par.lengths), str(&one->lengths));
        PT_ASSERT_STR_EQ(str(&par.notes), str(&one->notes));
        PT_ASSERT_STR_EQ(par.parquet_sha, one->parquet_sha);
        one->par_batches = POND_MAX(one->par_batches, par.par_batches);
        one->fallbacks = POND_MAX(one->fallbacks, par.fallbacks);
        outcome_dispose(&par);
    }
}

static pond_csv_import_options small_batches(int64_t batch_rows)
{
    pond_csv_import_options o = POND_CSV_IMPORT_OPTIONS_INIT;
    o.batch_rows = batch_rows;
    o.sample_rows = batch_rows > 3 ? batch_rows / 2 : 1;
    return o;
}

/* Generated rows: a time, doubles, an integer, a flag and text with the delimiter, quotes and
 * nulls in it. */
static void generate(pond_buf *b, int rows, const char *eol)
{
    pond_buf_printf(b, "timestamp,a,b,n,flag,label%s", eol);
    for (int i = 0; i < rows; i++) {
        const char *label = i % 7 == 0 ? "\"x, \"\"quoted\"\"\"" : i % 5 == 0 ? "" : "plain";
        pond_buf_printf(b, "2024-01-01T00:%02d:%02dZ,%d.%03d,%g,%d,%s,%s%s", (i / 60) % 60, i % 60,
                        i % 1000, (i * 37) % 1000, i * 0.25 - 3.125, i, i % 3 ? "true" : "false",
                        label, eol);
    }
}

static void test_generated_same_bytes(void)
{
    pond_buf text = POND_BUF_INIT;
    generate(&text, 5000, "\n");
    const char *path = pt_tmp_file("gen.csv", text.ptr, text.size);
    const int64_t sizes[] = {1, 2, 3, 64, 999, 65536};
    for (size_t k = 0; k < POND_ARRAY_LEN(sizes); k++) {
        pond_csv_import_options o = small_batches(sizes[k]);
        outcome one = {0};
        same_at_all_threads(&one, path, &o);
        PT_ASSERT_STR_EQ(one.err, "");
        PT_ASSERT(strstr(str(&one.rows), "|'x, \"quoted\"'\n") != NULL);
        /* every row, in input order */
        PT_ASSERT(strstr(str(&one.rows), "|4999|true|'plain'\n") != NULL);
        PT_ASSERT(strstr(str(&one.rows), "|4998|false|'x, \"quoted\"'\n") != NULL);
        PT_ASSERT_INT_EQ(one.fallbacks, 0); /* quotes, but no newline in them */
        if (sizes[k] < 1000)
            PT_ASSERT(one.par_batches > 4);
        outcome_dispose(&one);
    }
    pond_buf_dispose(&text);
}

/* Chunks are bounded in bytes: rows too long for a chunk of batch_rows lines are read
 * serially, the same. */
static void test_chunk_limit(void)
{
    pond_buf text = POND_BUF_INIT;
    generate(&text, 400, "\n");
    const char *path = pt_tmp_file("long.csv", text.ptr, text.size);
    const size_t limits[] = {1, 100, 2000}; /* lines are 40 to 80 bytes */
    for (size_t k = 0; k < POND_ARRAY_LEN(limits); k++) {
        pond_csv_import_options o = small_batches(10);
        outcome one = {.chunk_limit = limits[k]};
        same_at_all_threads(&one, path, &o);
        PT_ASSERT_STR_EQ(one.err, "");
        PT_ASSERT(strstr(str(&one.rows), "|399|false|'x, \"quoted\"'\n") != NULL);
        if (limits[k] < 2000) {
            PT_ASSERT(one.fallbacks > 0);
        } else {
            PT_ASSERT_INT_EQ(one.fallbacks, 0);
            PT_ASSERT(one.par_batches > 10);
        }
        outcome_dispose(&one);
    }
    pond_buf_dispose(&text);
}

/* A header and no rows (or only blank lines after it) ends at every thread count: the
 * parallel state must see the end of an input it never cut a chunk from. */
static void test_header_only(void)
{
    static const char *const texts[] = {"timestamp,a\n", "timestamp,a\n\n\n", "timestamp,a"};
    const int64_t sizes[] = {1, 2, 65536};
    for (size_t t = 0; t < POND_ARRAY_LEN(texts); t++)
        for (size_t k = 0; k < POND_ARRAY_LEN(sizes); k++) {
            const char *path = pt_tmp_file("empty.csv", texts[t], strlen(texts[t]));
            pond_csv_import_options o = small_batches(sizes[k]);
            outcome one = {0};
            same_at_all_threads(&one, path, &o);
            PT_ASSERT_STR_EQ(one.err, "");
            PT_ASSERT_INT_EQ(one.rc, 0);
            PT_ASSERT_STR_EQ(str(&one.lengths), "");
            outcome_dispose(&one);
        }
}

static void test_crlf_and_bom(void)
{
    pond_buf text = POND_BUF_INIT;
    pond_buf_puts(&text, "\xEF\xBB\xBF");
    generate(&text, 300, "\r\n");
    const char *path = pt_tmp_file("crlf.csv", text.ptr, text.size);
    pond_csv_import_options o = small_batches(8);
    outcome one = {0};
    same_at_all_threads(&one, path, &o);
    PT_ASSERT_INT_EQ(one.rc, 0);
    PT_ASSERT(!strncmp(str(&one.rows), "timestamp:tsu:UTC,a:g", 21));
    PT_ASSERT(strstr(str(&one.rows), "\r") == NULL);
    PT_ASSERT(one.par_batches > 10);
    PT_ASSERT_INT_EQ(one.fallbacks, 0);
    outcome_dispose(&one);
    pond_buf_dispose(&text);
}

/* Quoted fields with newlines, placed so that chunk cuts fall inside them, beside blank and
 * comment lines (each makes its chunk read serially) and a byte-order mark in the middle of
 * the data (data there, not a mark). */
static void test_quoted_newlines_across_chunks(void)
{
    pond_buf text = POND_BUF_INIT;
    pond_buf_puts(&text, "id,note,v\n");
    for (int i = 0; i < 400; i++) {
        if (i % 13 == 5)
            pond_buf_printf(&text, "%d,\"two\nlines, \"\"q\"\"\",%d\n", i, i);
        else if (i % 29 == 7)
            pond_buf_printf(&text, "%d,\"a\r\n\nb\n\",%d\r\n", i, i);
        else if (i % 31 == 3)
            pond_buf_printf(&text, "\n%d,blank before,%d\n", i, i);
        else if (i % 37 == 11)
            pond_buf_printf(&text, "%d,\xEF\xBB\xBFmark,%d\n", i, i);
        else
            pond_buf_printf(&text, "%d,n%d,%d\n", i, i, i);
    }
    const char *path = pt_tmp_file("nl.csv", text.ptr, text.size);
    for (int64_t batch = 1; batch <= 9; batch++) {
        pond_csv_import_options o = small_batches(batch);
        outcome one = {0};
        same_at_all_threads(&one, path, &o);
        PT_ASSERT_INT_EQ(one.rc, 0);
        PT_ASSERT(strstr(str(&one.rows), "\n5|'two\nlines, \"q\"'|5\n") != NULL);
        PT_ASSERT(strstr(str(&one.rows), "\n7|'a\r\n\nb\n'|7\n") != NULL);
        PT_ASSERT(strstr(str(&one.rows), "\n11|'\xEF\xBB\xBFmark'|11\n") != NULL);
        PT_ASSERT(strstr(str(&one.rows), "\n399|'n399'|399\n") != NULL);
        PT_ASSERT(one.par_batches > 0);
        PT_ASSERT(one.fallbacks > 0);
        outcome_dispose(&one);
    }
    /* many quoted newlines: after a few chunks fail, the rest is read serially, the same */
    pond_buf_clear(&text);
    pond_buf_puts(&text, "id,note\n");
    for (int i = 0; i < 300; i++)
        pond_buf_printf(&text, "%d,\"line\n%d\"\n", i, i);
    path = pt_tmp_file("many.csv", text.ptr, text.size);
    pond_csv_import_options o = small_batches(4);
    outcome one = {0};
    same_at_all_threads(&one, path, &o);
    PT_ASSERT_INT_EQ(one.rc, 0);
    PT_ASSERT(strstr(str(&one.rows), "\n299|'line\n299'\n") != NULL);
    PT_ASSERT_INT_EQ(one.fallbacks, 8); /* then serial to the end */
    outcome_dispose(&one);
    pond_buf_dispose(&text);
}

/* An error in a late chunk names the line it is on, counted across chunks and across the
 * quoted newlines before it, and stops the stream where one thread stops it. */
static void test_late_error_line(void)
{
    pond_buf text = POND_BUF_INIT;
    pond_buf_puts(&text, "n,s\n");
    for (int i = 0; i < 2000; i++) {
        if (i == 100)
            pond_buf_puts(&text, "100,\"a\nb\"\n"); /* line 102 holds two lines */
        else if (i == 1500)
            pond_buf_puts(&text, "oops,x\n"); /* line 1503 */
        else
            pond_buf_printf(&text, "%d,x\n", i);
    }
    const char *path = pt_tmp_file("late.csv", text.ptr, text.size);
    const int64_t sizes[] = {3, 64, 500};
    for (size_t k = 0; k < POND_ARRAY_LEN(sizes); k++) {
        pond_csv_import_options o = small_batches(sizes[k]);
        outcome one = {0};
        same_at_all_threads(&one, path, &o);
        PT_ASSERT(one.rc < 0);
        PT_ASSERT(strstr(one.err, "late.csv: line 1503: 'oops' is not a valid int64 for column "
                                  "'n'") != NULL);
        PT_ASSERT(one.par_batches > 0);
        PT_ASSERT(one.fallbacks > 0);
        outcome_dispose(&one);
    }
    /* a row with too many fields, and a field the reader refuses, late */
    pond_buf_clear(&text);
    pond_buf_puts(&text, "a,b\n");
    for (int i = 0; i < 700; i++)
        pond_buf_puts(&text, i == 600 ? "1,2,3\n" : i == 650 ? "1,\"x\"y\n" : "1,2\n");
    path = pt_tmp_file("wide.csv", text.ptr, text.size);
    pond_csv_import_options o = small_batches(16);
    outcome one = {0};
    same_at_all_threads(&one, path, &o);
    PT_ASSERT(one.rc < 0);
    PT_ASSERT(strstr(one.err, "wide.csv: line 602 has 3 fields, the header has 2") != NULL);
    outcome_dispose(&one);
    pond_buf_dispose(&text);
}

/* Every dialect the sniffer accepts, and the options that change how lines are read. */
static void test_dialects(void)
{
    static const struct {
        const char *head, *row;
        char delimiter, comment;
        bool ragged, no_header;
    } cases[] = {
        {"a,b,c", "%d,x%d,%d.5", 0, 0, false, false},
        {"a\tb\tc", "%d\tx%d\t%d.5", 0, 0, false, false},
        {"a;b;c", "%d;x%d;%d,5", 0, 0, false, false},
        {"a|b|c", "%d|x%d|%d.5", 0, 0, false, false},
        {"  a   b    c", "  %d  x%d   %d.5", 0, 0, false, false},
        {"'a','b','c'", "%d,'x%d',%d.5", 0, 0, false, false},
        {"a,b,c", "%d,x%d,%d.5", ',', '#', false, false},
        {"a,b,c", "%d,x%d", 0, 0, true, false},
        {"1,x0,0.5", "%d,x%d,%d.5", 0, 0, false, true},
    };
    for (size_t k = 0; k < POND_ARRAY_LEN(cases); k++) {
        pond_buf text = POND_BUF_INIT;
        pond_buf_printf(&text, "%s\n", cases[k].head);
        for (int i = 0; i < 500; i++) {
            if (cases[k].comment && i % 50 == 10)
                pond_buf_puts(&text, "# a comment, \"with a quote\n");
            for (const char *r = cases[k].row; *r; r++) { /* %d is i */
                if (r[0] == '%' && r[1] == 'd')
                    pond_buf_printf(&text, "%d", i), r++;
                else
                    pond_buf_putc(&text, *r);
            }
            pond_buf_putc(&text, '\n');
        }
        const char *path = pt_tmp_file("d.csv", text.ptr, text.size);
        pond_csv_import_options o = small_batches(7);
        o.delimiter = cases[k].delimiter;
        o.comment = cases[k].comment;
        o.allow_ragged = cases[k].ragged;
        o.no_header = cases[k].no_header;
        outcome one = {0};
        same_at_all_threads(&one, path, &o);
        PT_ASSERT_OK(one.rc);
        PT_ASSERT(strstr(str(&one.rows), "499|") != NULL);
        PT_ASSERT(one.par_batches > 10);
        PT_ASSERT(cases[k].comment ? one.fallbacks > 0 : one.fallbacks == 0);
        if (cases[k].ragged)
            PT_ASSERT(strstr(str(&one.notes), "500 rows had fewer fields") != NULL);
        outcome_dispose(&one);
        pond_buf_dispose(&text);
    }
}

/* Real CSVs: the statsmodels and vega heads under tests/data/time and the larger CSVs of
 * ../shared/corpus (quoted fields, empty fields). */
static void test_real_csvs(void)
{
    static const char *const time_files[] = {"co2-concentration.csv",
                                             "co2.csv",
                                             "danish.csv",
                                             "github.csv",
                                             "iowa-electricity.csv",
                                             "macrodata.csv",
                                             "nile.csv",
                                             "seattle-weather.csv",
                                             "sp500.csv",
                                             "stocks.csv",
                                             "sunspots-more.csv",
                                             "sunspots.csv",
                                             "weather.csv"};
    char path[4400];
    for (size_t k = 0; k < POND_ARRAY_LEN(time_files); k++) {
        snprintf(path, sizeof path, "%s/tests/data/time/%s", pt_source_dir(), time_files[k]);
        pond_csv_import_options o = small_batches(1);
        outcome one = {0};
        same_at_all_threads(&one, path, &o);
        outcome_dispose(&one);
    }
    const char *corpus = pt_corpus_dir();
    if (!corpus)
        return; /* the unit files above still ran */
    static const char *const corpus_files[] = {"delta_binary_packed_expect.csv",
                                               "delta_byte_array_expect.csv",
                                               "delta_encoding_required_column_expect.csv"};
    for (size_t k = 0; k < POND_ARRAY_LEN(corpus_files); k++) {
        snprintf(path, sizeof path, "%s/parquet/parquet-testing/%s", corpus, corpus_files[k]);
        const int64_t sizes[] = {5, 97, 1000};
        for (size_t s = 0; s < POND_ARRAY_LEN(sizes); s++) {
            pond_csv_import_options o = small_batches(sizes[s]);
            outcome one = {0};
            same_at_all_threads(&one, path, &o);
            PT_ASSERT_OK(one.rc);
            PT_ASSERT(one.rows.size > 1000);
            if (sizes[s] == 5)
                PT_ASSERT(one.par_batches > 10);
            outcome_dispose(&one);
        }
    }
}

/* A digest of a stream's schema, batch lengths and values, computed without pond's allocator
 * (so that only the import's allocations fail in the fault loop). */
static void mix(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 1099511628211ull;
}

static int digest_import(uint64_t *h, const char *path, int threads)
{
    pond_csv_import_options o = small_batches(4);
    o.threads = threads;
    *h = 14695981039346656037ull;
    struct ArrowArrayStream s;
    int rc = pond_csv_import_stream(&s, path, &o);
    if (rc < 0)
        return rc;
    struct ArrowSchema sc;
    if (s.get_schema(&s, &sc) != 0) {
        s.release(&s);
        return POND_ENOMEM;
    }
    struct ArrowArray b;
    while ((rc = s.get_next(&s, &b)) == 0 && b.release) {
        mix(h, &b.length, sizeof b.length);
        for (int64_t c = 0; c < b.n_children; c++) {
            const struct ArrowArray *a = b.children[c];
            for (int64_t i = 0; i < a->length; i++) {
                bool v = pt_arrow_valid(a, i);
                mix(h, &v, 1);
                int64_t k = a->offset + i;
                if (v && c == 1) {
                    const int32_t *off = a->buffers[1];
                    mix(h, (const char *)a->buffers[2] + off[k], (size_t)(off[k + 1] - off[k]));
                } else if (v) {
                    mix(h, (const char *)a->buffers[1] + k * 8, 8);
                }
            }
        }
        b.release(&b);
    }
    sc.release(&sc);
    s.release(&s);
    return rc == 0 ? 0 : POND_ERROR;
}

/* Every allocation failing in turn, on whichever thread: the import fails cleanly (a chunk a
 * worker could not parse is read again serially, so it may also succeed), leaks nothing, and
 * when it succeeds it gives the rows of one thread. */
static void test_alloc_faults(void)
{
    pond_buf text = POND_BUF_INIT;
    pond_buf_puts(&text, "id,note\n");
    for (int i = 0; i < 60; i++)
        pond_buf_printf(&text, i % 9 == 4 ? "%d,\"a\nb%d\"\n" : "%d,x%d\n", i, i);
    const char *path = pt_tmp_file("faults.csv", text.ptr, text.size);
    pond_buf_dispose(&text);
    uint64_t want, got;
    PT_ASSERT_OK(digest_import(&want, path, 1));
    size_t before = pond_alloc_current();
    int failed = 0, recovered = 0;
    for (uint64_t n = 1;; n++) {
        pond_alloc_fail_at(n, false);
        int rc = digest_import(&got, path, 2);
        bool fired = pond_alloc_fail_fired();
        pond_alloc_fail_at(0, false);
        PT_ASSERT_INT_EQ(pond_alloc_current(), before);
        if (rc == 0)
            PT_ASSERT(got == want);
        if (!fired) {
            PT_ASSERT_OK(rc);
            break;
        }
        failed += rc < 0;
        recovered += rc == 0;
    }
    PT_ASSERT(failed > 0);
    printf("    alloc faults: %d failed cleanly, %d recovered by a serial re-read\n", failed,
           recovered);
}

/* Every CSV of a directory (one level of subdirectories too), at batches of 3 and 50 rows
 * (light runs, valgrind: each file at one of them in turn, every file still read; the real data
 * sets were 117 CPU-s of valgrind's run). */
static int same_for_dir(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int files = 0;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".csv")) {
            const int64_t sizes[] = {3, 50};
            for (size_t k = 0; k < POND_ARRAY_LEN(sizes); k++) {
                if (pt_light() && k != (size_t)files % POND_ARRAY_LEN(sizes))
                    continue;
                pond_csv_import_options o = small_batches(sizes[k]);
                outcome one = {0};
                same_at_all_threads(&one, path, &o);
                outcome_dispose(&one);
            }
            files++;
        } else if (depth > 0) {
            files += same_for_dir(path, depth - 1);
        }
    }
    closedir(d);
    return files;
}

/* The statsmodels data sets (python3-statsmodels) and vega-datasets (installed by the realdata
 * suite into the build directory), whole. */
static void test_real_datasets(void)
{
    int sm = same_for_dir("/usr/lib/python3/dist-packages/statsmodels/datasets", 1);
    char vega[4400];
    snprintf(vega, sizeof vega, "%s/build/realdata/node_modules/vega-datasets/data",
             pt_source_dir());
    int vg = same_for_dir(vega, 0);
    printf("    real data sets: %d statsmodels and %d vega CSVs the same at 1, 2 and 4 threads\n",
           sm, vg);
    DIR *probe = opendir("/usr/lib/python3/dist-packages/statsmodels");
    if (probe) { /* installed: its CSVs were found and read */
        closedir(probe);
        PT_ASSERT(sm > 20);
    }
}

/* Local times under a zone, a row every 29 s over a DST change, midnight and a month end, some
 * rows with an offset or Z within the same minute as rows without: at every thread count each
 * value is the instant the value alone reads as (the import keeps the minute of the row
 * before); then an invalid date after valid rows of the same day names its line and column. */
static void test_times_across_days_and_zones(void)
{
    pond_tz *tz = NULL;
    PT_ASSERT_OK(pond_tz_open(&tz, "Europe/Berlin"));
    pond_time_reader *tr = NULL;
    PT_ASSERT_OK(pond_time_reader_new(&tr, NULL, 0, tz));
    pond_buf text = POND_BUF_INIT, want = POND_BUF_INIT;
    pond_buf_puts(&text, "timestamp,v\n");
    int64_t from = pond_days_from_civil(2024, 3, 30) * 86400 + 22 * 3600;
    int64_t to = pond_days_from_civil(2024, 4, 1) * 86400 + 2 * 3600;
    int rows = 0;
    for (int64_t s = from; s < to; s += 29) {
        int64_t y;
        unsigned mo, d;
        pond_civil_from_days(s / 86400, &y, &mo, &d);
        int h = (int)(s % 86400 / 3600), mi = (int)(s % 3600 / 60), sec = (int)(s % 60);
        if (d == 31 && h == 2)
            continue; /* the hour Europe/Berlin skips */
        static const char *const zones[] = {"", "", "", "+01:00", "Z", "+0200", ".25"};
        char v[64];
        int n = snprintf(v, sizeof v, "%04lld-%02u-%02uT%02d:%02d:%02d%s", (long long)y, mo, d, h,
                         mi, sec, zones[rows % 7]);
        int64_t us;
        PT_ASSERT_OK(pond_time_reader_parse(&us, tr, v, (size_t)n, 0));
        pond_buf_printf(&text, "%s,%d\n", v, rows);
        pond_buf_printf(&want, "%lld|%d\n", (long long)us, rows);
        rows++;
    }
    const char *path = pt_tmp_file("zoned.csv", text.ptr, text.size);
    const int64_t sizes[] = {7, 64, 1000};
    for (size_t k = 0; k < POND_ARRAY_LEN(sizes); k++) {
        pond_csv_import_options o = small_batches(sizes[k]);
        o.time_reader = tr;
        o.timestamp_column = "timestamp";
        outcome one = {0};
        same_at_all_threads(&one, path, &o);
        PT_ASSERT_STR_EQ(one.err, "");
        const char *body = strchr(str(&one.rows), '\n');
        PT_ASSERT(body != NULL);
        PT_ASSERT_STR_EQ(body + 1, str(&want));
        PT_ASSERT(one.par_batches > 0);
        outcome_dispose(&one);
    }
    /* 2023-02-29 after 2023-02-28 rows of the same hour and minute */
    pond_buf_clear(&text);
    pond_buf_puts(&text, "timestamp,v\n");
    for (int i = 0; i < 300; i++)
        pond_buf_printf(&text, "2023-02-2%cT23:59:%02d,%d\n", i == 250 ? '9' : '8', i % 60, i);
    path = pt_tmp_file("feb29.csv", text.ptr, text.size);
    pond_csv_import_options o = small_batches(16);
    o.time_reader = tr;
    o.timestamp_column = "timestamp";
    outcome one = {0};
    same_at_all_threads(&one, path, &o);
    PT_ASSERT(one.rc < 0);
    PT_ASSERT(strstr(one.err, "feb29.csv: line 252, column 1 ('timestamp')") != NULL);
    PT_ASSERT(strstr(one.err, "'2023-02-29T23:59:10'") != NULL);
    outcome_dispose(&one);
    pond_buf_dispose(&text);
    pond_buf_dispose(&want);
    pond_time_reader_free(tr);
    pond_tz_free(tz);
}

PT_SUITE(import_par, PT_TEST(generated_same_bytes), PT_TEST(chunk_limit), PT_TEST(header_only),
         PT_TEST(crlf_and_bom), PT_TEST(quoted_newlines_across_chunks), PT_TEST(late_error_line),
         PT_TEST(dialects), PT_TEST(real_csvs), PT_TEST(real_datasets), PT_TEST(alloc_faults),
         PT_TEST(times_across_days_and_zones))
