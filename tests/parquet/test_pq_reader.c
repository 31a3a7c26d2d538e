/* The Parquet reader API: sources, schema, projection, streams, pruning, hostile input. */
#include "pt.h"

#include <pond/alloc.h>
#include <pond/arrow.h>
#include <pond/buf.h>
#include <pond/parquet.h>

#include "util/util.h"

#include <errno.h>
#include <math.h>

static void fixture(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/fuzz/corpus/parquet_footer/%s", pt_source_dir(), name);
}

static void load(pond_buf *b, const char *name)
{
    char path[4096];
    fixture(path, sizeof path, name);
    PT_ASSERT_OK(pond__read_file(b, path, 1 << 24, POND_DOM_NONE));
}

static int buf_write(const void *p, size_t n, void *payload) { return pond_buf_put(payload, p, n); }

static void dump_reader(pond_buf *out, pond_parquet_reader *r)
{
    int64_t rows;
    PT_ASSERT_OK(pond_parquet_dump(r, buf_write, out, &rows));
}

static void test_schema_and_rows_alltypes(void)
{
    char path[4096];
    fixture(path, sizeof path, "alltypes_plain.parquet");
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open_file(&r, path, NULL));
    PT_ASSERT_INT_EQ(pond_parquet_reader_num_rows(r), 8);
    PT_ASSERT_INT_EQ(pond_parquet_reader_num_row_groups(r), 1);
    PT_ASSERT_INT_EQ(pond_parquet_reader_num_leaves(r), 11);
    PT_ASSERT(strstr(pond_parquet_reader_created_by(r), "impala") != NULL);
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_parquet_reader_schema(r, &s));
    PT_ASSERT_STR_EQ(s.format, "+s");
    PT_ASSERT_INT_EQ(s.n_children, 11);
    PT_ASSERT_STR_EQ(s.children[0]->name, "id");
    PT_ASSERT_STR_EQ(s.children[0]->format, "i");
    PT_ASSERT_STR_EQ(s.children[1]->format, "b");
    PT_ASSERT_STR_EQ(s.children[7]->format, "g");
    PT_ASSERT_STR_EQ(s.children[8]->name, "date_string_col");
    PT_ASSERT_STR_EQ(s.children[8]->format, "z");
    PT_ASSERT_STR_EQ(s.children[10]->name, "timestamp_col");
    PT_ASSERT_STR_EQ(s.children[10]->format, "tsu:");
    PT_ASSERT(s.children[0]->flags & ARROW_FLAG_NULLABLE);
    struct ArrowArray a;
    PT_ASSERT_OK(pond_parquet_reader_next(r, &a));
    PT_ASSERT_OK(pond_arrow_array_validate(&s, &a));
    PT_ASSERT_INT_EQ(a.length, 8);
    const int32_t *ids = a.children[0]->buffers[1];
    /* the Impala table's ids, in file order */
    const int32_t want[8] = {4, 5, 6, 7, 2, 3, 0, 1};
    PT_ASSERT_MEM_EQ(ids, want, sizeof want);
    pond_buf cell = POND_BUF_INIT;
    PT_ASSERT_OK(pond_arrow_canon_cell(&cell, s.children[10], a.children[10], 0));
    /* 2009-03-01 00:00:00 UTC */
    PT_ASSERT_STR_EQ(cell.ptr, "t1235865600000000000");
    pond_buf_dispose(&cell);
    pond_arrow_array_release(&a);
    PT_ASSERT_ERR(pond_parquet_reader_next(r, &a), POND_ITEROVER);
    PT_ASSERT(a.release == NULL);
    pond_arrow_schema_release(&s);
    pond_parquet_reader_free(r);
}

static void test_memory_equals_file_and_int96_ns(void)
{
    pond_buf file = POND_BUF_INIT, d1 = POND_BUF_INIT, d2 = POND_BUF_INIT;
    load(&file, "alltypes_plain.parquet");
    char path[4096];
    fixture(path, sizeof path, "alltypes_plain.parquet");
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, NULL));
    dump_reader(&d1, r);
    pond_parquet_reader_free(r);
    PT_ASSERT_OK(pond_parquet_reader_open_file(&r, path, NULL));
    dump_reader(&d2, r);
    pond_parquet_reader_free(r);
    PT_ASSERT_INT_EQ(d1.size, d2.size);
    PT_ASSERT_MEM_EQ(d1.ptr, d2.ptr, d1.size);
    /* with INT96 as nanoseconds, the text is the same (whole seconds) */
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    o.int96_ns = true;
    pond_buf_clear(&d2);
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, &o));
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_parquet_reader_schema(r, &s));
    PT_ASSERT_STR_EQ(s.children[10]->format, "tsn:");
    pond_arrow_schema_release(&s);
    dump_reader(&d2, r);
    pond_parquet_reader_free(r);
    PT_ASSERT_MEM_EQ(d1.ptr, d2.ptr, d1.size);
    pond_buf_dispose(&file);
    pond_buf_dispose(&d1);
    pond_buf_dispose(&d2);
}

static void test_projection(void)
{
    pond_buf file = POND_BUF_INIT, all = POND_BUF_INIT, some = POND_BUF_INIT;
    load(&file, "alltypes_plain.parquet");
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, NULL));
    dump_reader(&all, r);
    pond_parquet_reader_free(r);
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    const char *names[] = {"string_col", "id"};
    o.column_names = names;
    o.n_column_names = 2;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, &o));
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_parquet_reader_schema(r, &s));
    PT_ASSERT_INT_EQ(s.n_children, 2);
    PT_ASSERT_STR_EQ(s.children[0]->name, "string_col");
    PT_ASSERT_STR_EQ(s.children[1]->name, "id");
    pond_arrow_schema_release(&s);
    dump_reader(&some, r);
    pond_parquet_reader_free(r);
    /* each projected line is the full line's cells 9 and 0 */
    char *line = all.ptr, *pl = some.ptr;
    for (int row = 0; row < 8; row++) {
        char *cells[11] = {0};
        char *nl = strchr(line, '\n');
        *nl = '\0';
        int k = 0;
        for (char *c = line; k < 11; k++) {
            cells[k] = c;
            char *t = strchr(c, '\t');
            if (!t)
                break;
            *t = '\0';
            c = t + 1;
        }
        char want[256];
        snprintf(want, sizeof want, "%s\t%s", cells[9], cells[0]);
        char *pnl = strchr(pl, '\n');
        *pnl = '\0';
        PT_ASSERT_STR_EQ(pl, want);
        line = nl + 1;
        pl = pnl + 1;
    }
    /* by index, and bad projections */
    int idx[] = {10};
    o.column_names = NULL;
    o.columns = idx;
    o.n_columns = 1;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, &o));
    PT_ASSERT_OK(pond_parquet_reader_schema(r, &s));
    PT_ASSERT_STR_EQ(s.children[0]->name, "timestamp_col");
    pond_arrow_schema_release(&s);
    pond_parquet_reader_free(r);
    idx[0] = 11;
    PT_ASSERT_ERR(pond_parquet_reader_open_memory(&r, file.ptr, file.size, &o), POND_EINVALID);
    PT_ASSERT(r == NULL);
    const char *bad[] = {"nope"};
    o.columns = NULL;
    o.column_names = bad;
    o.n_column_names = 1;
    PT_ASSERT_ERR(pond_parquet_reader_open_memory(&r, file.ptr, file.size, &o), POND_ENOTFOUND);
    PT_ASSERT_MSG_HAS("nope");
    pond_buf_dispose(&file);
    pond_buf_dispose(&all);
    pond_buf_dispose(&some);
}

static void test_stream_and_nested(void)
{
    char path[4096];
    fixture(path, sizeof path, "nested_maps.snappy.parquet");
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open_file(&r, path, NULL));
    struct ArrowArrayStream st;
    PT_ASSERT_OK(pond_parquet_reader_stream(&st, r));
    struct ArrowSchema s;
    PT_ASSERT_INT_EQ(st.get_schema(&st, &s), 0);
    PT_ASSERT_STR_EQ(s.children[0]->format, "+m");
    PT_ASSERT_STR_EQ(s.children[0]->children[0]->format, "+s");
    PT_ASSERT_STR_EQ(s.children[0]->children[0]->children[1]->format, "+m");
    int64_t rows = 0;
    for (;;) {
        struct ArrowArray a;
        PT_ASSERT_INT_EQ(st.get_next(&st, &a), 0);
        if (!a.release)
            break;
        PT_ASSERT_OK(pond_arrow_array_validate(&s, &a));
        rows += a.length;
        pond_arrow_array_release(&a);
    }
    PT_ASSERT_INT_EQ(rows, 6);
    PT_ASSERT(st.get_last_error(&st) == NULL);
    pond_arrow_schema_release(&s);
    st.release(&st);
    PT_ASSERT(st.release == NULL);
}

static void test_prune_row_groups(void)
{
    const char *corpus = pt_corpus_dir();
    if (!corpus)
        pt_skip("no ../shared/corpus");
    char path[4096];
    snprintf(path, sizeof path, "%s/parquet/generated/scalar_multi_rowgroup.parquet", corpus);
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    const char *names[] = {"id"};
    o.column_names = names;
    o.n_column_names = 1;
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open_file(&r, path, &o));
    PT_ASSERT_INT_EQ(pond_parquet_reader_num_row_groups(r), 10);
    PT_ASSERT_OK(pond_parquet_reader_prune_int(r, "id", 3000, 5000));
    int selected = 0;
    for (int i = 0; i < 10; i++)
        selected += pond_parquet_reader_row_group_selected(r, i);
    PT_ASSERT_INT_EQ(selected, 2);
    int64_t rows = 0, lo = INT64_MAX, hi = INT64_MIN;
    struct ArrowArray a;
    int rc;
    while ((rc = pond_parquet_reader_next(r, &a)) == 0) {
        const int64_t *v = a.children[0]->buffers[1];
        for (int64_t i = 0; i < a.length; i++) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
        rows += a.length;
        pond_arrow_array_release(&a);
    }
    PT_ASSERT_INT_EQ(rc, POND_ITEROVER);
    PT_ASSERT_INT_EQ(rows, 4096);
    /* every row of the range is in the kept groups */
    PT_ASSERT(lo <= 3000 && hi >= 5000);
    PT_ASSERT_ERR(pond_parquet_reader_prune_int(r, "nonexistent", 0, 1), POND_ENOTFOUND);
    pond_parquet_reader_free(r);
    o.column_names = NULL;
    o.n_column_names = 0;
    PT_ASSERT_OK(pond_parquet_reader_open_file(&r, path, &o));
    PT_ASSERT_ERR(pond_parquet_reader_prune_int(r, "c_string", 0, 1), POND_EINVALID);
    PT_ASSERT_OK(pond_parquet_reader_prune_double(r, "c_double", 1e300, INFINITY));
    pond_parquet_reader_free(r);
}

static void test_truncated_and_flipped_files(void)
{
    pond_buf file = POND_BUF_INIT;
    load(&file, "alltypes_plain.snappy.parquet");
    size_t step = pt_light() ? 7 : 1;
    for (size_t n = 0; n < file.size; n += step) {
        pond_parquet_reader *r = NULL;
        int rc = pond_parquet_reader_open_memory(&r, file.ptr, n, NULL);
        PT_ASSERT(rc < 0);
        PT_ASSERT(rc == POND_ECORRUPT);
        PT_ASSERT(r == NULL);
    }
    /* flip each byte: whatever happens, it is clean (errors are codes, reads are valid) */
    for (size_t i = 0; i < file.size; i += step) {
        pond_buf_clear(&file);
        load(&file, "alltypes_plain.snappy.parquet");
        file.ptr[i] ^= (char)0x5a;
        pond_parquet_reader *r = NULL;
        if (pond_parquet_reader_open_memory(&r, file.ptr, file.size, NULL) < 0)
            continue;
        struct ArrowSchema s;
        PT_ASSERT_OK(pond_parquet_reader_schema(r, &s));
        struct ArrowArray a;
        int rc = pond_parquet_reader_next(r, &a);
        if (rc == 0) {
            PT_ASSERT_OK(pond_arrow_array_validate(&s, &a));
            pond_arrow_array_release(&a);
        } else {
            PT_ASSERT(rc != POND_ERROR && pond_error_last()->message[0]);
        }
        pond_arrow_schema_release(&s);
        pond_parquet_reader_free(r);
    }
    pond_buf_dispose(&file);
}

static void test_errors(void)
{
    pond_parquet_reader *r = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/none.parquet", PT_TMPDIR());
    PT_ASSERT_ERR(pond_parquet_reader_open_file(&r, path, NULL), POND_ENOTFOUND);
    PT_ASSERT(r == NULL);
    const char junk[] = "PAR1 this is not parquet at all PAR1";
    PT_ASSERT_ERR(pond_parquet_reader_open_memory(&r, junk, sizeof junk - 1, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("footer length");
    PT_ASSERT_ERR(pond_parquet_reader_open_memory(&r, "PAR1", 4, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("too small");
    /* a chunk larger than max_alloc is refused, not allocated */
    pond_buf file = POND_BUF_INIT;
    load(&file, "alltypes_plain.parquet");
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    o.max_alloc = 16;
    PT_ASSERT_ERR(pond_parquet_reader_open_memory(&r, file.ptr, file.size, &o), POND_EUNSUPPORTED);
    o.max_alloc = 2000;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, &o));
    struct ArrowArray a;
    int rc = pond_parquet_reader_next(r, &a);
    PT_ASSERT(rc == 0 || rc == POND_EUNSUPPORTED);
    if (rc == 0)
        pond_arrow_array_release(&a);
    pond_parquet_reader_free(r);
    pond_buf_dispose(&file);
    load(&file, "nested_maps.snappy.parquet");
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, NULL));
    PT_ASSERT_ERR(pond_parquet_reader_read_row_group(r, 5, &a), POND_EINVALID);
    pond_parquet_reader_free(r);
    pond_buf_dispose(&file);
    pond_parquet_reader_free(NULL);
}

static int read_all(void *arg)
{
    const pond_buf *file = arg;
    pond_parquet_reader *r = NULL;
    int rc = pond_parquet_reader_open_memory(&r, file->ptr, file->size, NULL);
    pond_buf out = POND_BUF_INIT;
    if (rc == 0)
        rc = pond_parquet_dump(r, buf_write, &out, NULL);
    pond_buf_dispose(&out);
    pond_parquet_reader_free(r);
    return rc;
}

static void test_alloc_fault_loop(void)
{
    const char *names[] = {"alltypes_plain.snappy.parquet", "nested_maps.snappy.parquet",
                           "datapage_v2.snappy.parquet"};
    for (size_t i = 0; i < (pt_light() ? 1 : 3); i++) {
        pond_buf file = POND_BUF_INIT;
        load(&file, names[i]);
        uint64_t steps;
        PT_ALLOC_FAULT_LOOP(steps, read_all, &file);
        PT_ASSERT(steps > 5);
        pond_buf_dispose(&file);
    }
}

static void test_describe(void)
{
    pond_buf file = POND_BUF_INIT, out = POND_BUF_INIT;
    load(&file, "alltypes_plain.snappy.parquet");
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, NULL));
    PT_ASSERT_OK(pond_parquet_reader_describe(&out, r));
    PT_ASSERT(strstr(out.ptr, "num_rows: 2\n") != NULL);
    PT_ASSERT(strstr(out.ptr, "optional INT96 timestamp_col") != NULL);
    PT_ASSERT(strstr(out.ptr, "column id: INT32 SNAPPY") != NULL);
    PT_ASSERT(strstr(out.ptr, "encodings:") != NULL);
    pond_parquet_reader_free(r);
    pond_buf_dispose(&file);
    pond_buf_dispose(&out);
}

static void test_sliced_batches(void)
{
    pond_buf file = POND_BUF_INIT, full = POND_BUF_INIT, sliced = POND_BUF_INIT;
    load(&file, "alltypes_plain.parquet");
    pond_parquet_reader *r;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, NULL));
    dump_reader(&full, r);
    pond_parquet_reader_free(r);
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    o.max_batch_rows = 3;
    PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, &o));
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_parquet_reader_schema(r, &s));
    struct ArrowArray b[4];
    int n = 0, rc;
    while (n < 4 && (rc = pond_parquet_reader_next(r, &b[n])) == 0) {
        PT_ASSERT_OK(pond_arrow_array_validate(&s, &b[n]));
        PT_ASSERT_OK(pond_arrow_canon_batch(&sliced, &s, &b[n]));
        n++;
    }
    PT_ASSERT_INT_EQ(n, 3);
    PT_ASSERT_INT_EQ(b[0].length, 3);
    PT_ASSERT_INT_EQ(b[2].length, 2);
    PT_ASSERT_ERR(pond_parquet_reader_next(r, &b[3]), POND_ITEROVER);
    PT_ASSERT_INT_EQ(sliced.size, full.size);
    PT_ASSERT_MEM_EQ(sliced.ptr, full.ptr, full.size);
    /* move a column out of the middle slice, free the reader and the slices, then use it */
    struct ArrowArray col;
    pond_arrow_array_move(&col, b[1].children[0]);
    pond_parquet_reader_free(r);
    pond_arrow_array_release(&b[2]);
    pond_arrow_array_release(&b[0]);
    pond_arrow_array_release(&b[1]);
    const int32_t *ids = col.buffers[1];
    PT_ASSERT_INT_EQ(ids[b[1].offset + 0], 7); /* row 3 of the file */
    pond_arrow_array_release(&col);
    pond_arrow_schema_release(&s);
    pond_buf_dispose(&file);
    pond_buf_dispose(&full);
    pond_buf_dispose(&sliced);
}

static int read_sliced(void *arg)
{
    const pond_buf *file = arg;
    pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
    o.max_batch_rows = 1;
    pond_parquet_reader *r = NULL;
    int rc = pond_parquet_reader_open_memory(&r, file->ptr, file->size, &o);
    pond_buf out = POND_BUF_INIT;
    if (rc == 0)
        rc = pond_parquet_dump(r, buf_write, &out, NULL);
    pond_buf_dispose(&out);
    pond_parquet_reader_free(r);
    return rc;
}

static void test_sliced_alloc_faults(void)
{
    pond_buf file = POND_BUF_INIT;
    load(&file, "nested_maps.snappy.parquet");
    uint64_t steps;
    PT_ALLOC_FAULT_LOOP(steps, read_sliced, &file);
    PT_ASSERT(steps > 5);
    pond_buf_dispose(&file);
}

static void test_os_read_failure(void)
{
    char path[4096];
    fixture(path, sizeof path, "alltypes_plain.parquet");
    pond_parquet_reader *r = NULL;
    /* the first pread (header) fails */
    pond_os_fault_at(POND_OS_PREAD, 1, POND_FAULT_ERRNO, EIO, false);
    PT_ASSERT_ERR(pond_parquet_reader_open_file(&r, path, NULL), POND_EIO);
    PT_ASSERT(r == NULL);
    pond_os_fault_clear();
    /* a column chunk read fails after a good open */
    PT_ASSERT_OK(pond_parquet_reader_open_file(&r, path, NULL));
    pond_os_fault_at(POND_OS_PREAD, 3, POND_FAULT_ERRNO, EIO, false);
    struct ArrowArray a;
    PT_ASSERT_ERR(pond_parquet_reader_next(r, &a), POND_EIO);
    PT_ASSERT_MSG_HAS("row group 0");
    pond_os_fault_clear();
    pond_parquet_reader_free(r);
    /* short reads and EINTR are retried by the shim helpers */
    pond_os_fault_at(POND_OS_PREAD, 1, POND_FAULT_SHORT, 0, true);
    PT_ASSERT_OK(pond_parquet_reader_open_file(&r, path, NULL));
    PT_ASSERT_OK(pond_parquet_reader_next(r, &a));
    PT_ASSERT_INT_EQ(a.length, 8);
    pond_arrow_array_release(&a);
    pond_os_fault_clear();
    pond_parquet_reader_free(r);
}

/* A file of n_rg row groups of rg_rows rows of 4 required doubles (row i, column c: i * 4 + c),
 * uncompressed and PLAIN: each column chunk decodes to one buffer of rg_rows * 8 bytes. */
static void four_doubles(pond_buf *file, int n_rg, int64_t rg_rows)
{
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_arrow_schema_init(&s, "+s", "", 0, 4));
    const char *names[4] = {"a", "b", "c", "d"};
    for (int c = 0; c < 4; c++)
        PT_ASSERT_OK(pond_arrow_schema_init(s.children[c], "g", names[c], 0, 0));
    pond_parquet_writer_options o = POND_PARQUET_WRITER_OPTIONS_INIT;
    o.compression = POND_PARQUET_COMPRESS_NONE;
    o.dictionary_bytes = 0;
    o.row_group_rows = rg_rows;
    pond_parquet_sink sink = {buf_write, NULL, file};
    pond_parquet_writer *w;
    PT_ASSERT_OK(pond_parquet_writer_new(&w, &sink, &s, &o));
    for (int g = 0; g < n_rg; g++) {
        struct ArrowArray b;
        PT_ASSERT_OK(pond_arrow_array_init(&b, rg_rows, 0, 1, 4));
        for (int c = 0; c < 4; c++) {
            PT_ASSERT_OK(pond_arrow_array_init(b.children[c], rg_rows, 0, 2, 0));
            double *v = pond_arrow_array_alloc_buffer(b.children[c], 1, (size_t)rg_rows * 8);
            PT_ASSERT(v);
            for (int64_t i = 0; i < rg_rows; i++)
                v[i] = (double)((g * rg_rows + i) * 4 + c);
        }
        PT_ASSERT_OK(pond_parquet_writer_write(w, &b));
        pond_arrow_array_release(&b);
    }
    PT_ASSERT_OK(pond_parquet_writer_finish(w));
    pond_parquet_writer_free(w);
    pond_arrow_schema_release(&s);
}

static void check_four_doubles(const struct ArrowArray *b, int g, int64_t rg_rows)
{
    PT_ASSERT_INT_EQ(b->length, rg_rows);
    for (int c = 0; c < 4; c++) {
        const double *v = (const double *)b->children[c]->buffers[1] + b->children[c]->offset;
        for (int64_t i = 0; i < rg_rows; i += 997)
            PT_ASSERT(v[i] == (double)((g * rg_rows + i) * 4 + c));
        PT_ASSERT(v[rg_rows - 1] == (double)((g * rg_rows + rg_rows - 1) * 4 + c));
    }
}

/* A reader decodes each row group into the value buffers its earlier batches gave back (the
 * memory of a fresh buffer is faulted in again on every row group). On one thread, reading
 * the next row group after releasing one allocates no new value buffer; with read-ahead, at
 * most three row groups are out at once (the caller's and two decoding ahead), so over the
 * whole file no more than those are allocated, whenever they are. A batch outlives its
 * reader. */
static void test_row_groups_reuse_value_buffers(void)
{
    const int64_t rows = 20000; /* 160,000 bytes per column chunk */
    const int n_rg = 24;
    pond_buf file = POND_BUF_INIT;
    four_doubles(&file, n_rg, rows);
    for (int threads = 1; threads <= 2; threads++) {
        pond_parquet_read_options o = POND_PARQUET_READ_OPTIONS_INIT;
        o.threads = threads;
        pond_parquet_reader *r;
        PT_ASSERT_OK(pond_parquet_reader_open_memory(&r, file.ptr, file.size, &o));
        PT_ASSERT_INT_EQ(pond_parquet_reader_num_row_groups(r), n_rg);
        struct ArrowArray b;
        size_t total = 0;
        for (int g = 0; g < n_rg - 1; g++) {
            size_t base = pond_alloc_current();
            pond_alloc_reset_peak();
            PT_ASSERT_OK(pond_parquet_reader_next(r, &b));
            check_four_doubles(&b, g, rows);
            pond_arrow_array_release(&b);
            size_t grew = pond_alloc_peak() - base;
            /* one thread: four new value buffers (640,000 bytes) for every row group before */
            if (threads == 1 && g > 0 && grew >= (size_t)rows * 8)
                PT_ASSERT_INT_EQ(grew, 0);
            if (g > 0)
                total += grew;
        }
        /* two threads: 12 value and 3 chunk buffers at most (before: 4 per row group) */
        if (total >= 16 * (size_t)rows * 8)
            PT_ASSERT_INT_EQ(total, 0);
        PT_ASSERT_OK(pond_parquet_reader_next(r, &b));
        pond_parquet_reader_free(r); /* the batch keeps its buffers */
        check_four_doubles(&b, n_rg - 1, rows);
        pond_arrow_array_release(&b);
    }
    pond_buf_dispose(&file);
}

PT_SUITE(pq_reader, PT_TEST(row_groups_reuse_value_buffers), PT_TEST(os_read_failure),
         PT_TEST(sliced_batches), PT_TEST(sliced_alloc_faults), PT_TEST(schema_and_rows_alltypes),
         PT_TEST(memory_equals_file_and_int96_ns), PT_TEST(projection), PT_TEST(stream_and_nested),
         PT_TEST(prune_row_groups), PT_TEST(truncated_and_flipped_files), PT_TEST(errors),
         PT_TEST(alloc_fault_loop), PT_TEST(describe))
