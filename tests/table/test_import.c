/* Import of CSV dialects, encodings, compressed files and JSON into Arrow batches. */
#include "pt.h"
#include "pt_pond.h"

#include <pond/buf.h>
#include <pond/csv_import.h>
#include <pond/table.h>
#include <pond/alloc.h>
#include <pond/hash.h>
#include <pond/stream.h>
#include <pond/tinyfs.h>

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

/* "name:type,...\n" then one line per row: values joined with '|', nulls as ~. */
static int dump_stream(pond_buf *out, struct ArrowArrayStream *s)
{
    struct ArrowSchema sc;
    int rc = s->get_schema(s, &sc);
    if (rc != 0)
        return pond_error_set(POND_ERROR, POND_DOM_NONE, "%s", s->get_last_error(s));
    for (int64_t c = 0; c < sc.n_children; c++)
        pond_buf_printf(out, "%s%s:%s", c ? "," : "", sc.children[c]->name, sc.children[c]->format);
    pond_buf_putc(out, '\n');
    struct ArrowArray b;
    while ((rc = s->get_next(s, &b)) == 0 && b.release) {
        for (int64_t i = 0; i < b.length; i++) {
            for (int64_t c = 0; c < b.n_children; c++) {
                const struct ArrowArray *a = b.children[c];
                const char *f = sc.children[c]->format;
                if (c)
                    pond_buf_putc(out, '|');
                if (!pt_arrow_valid(a, i)) {
                    pond_buf_putc(out, '~');
                    continue;
                }
                int64_t k = a->offset + i;
                if (!strcmp(f, "l") || !strncmp(f, "ts", 2))
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
        b.release(&b);
    }
    sc.release(&sc);
    if (rc != 0)
        return pond_error_set(POND_EINVALID, POND_DOM_NONE, "%s", s->get_last_error(s));
    return 0;
}

static int import_text(pond_buf *out, const char *name, const void *data, size_t len,
                       const pond_csv_import_options *o)
{
    const char *path = pt_tmp_file(name, data, len);
    struct ArrowArrayStream s;
    int rc = pond_csv_import_stream(&s, path, o);
    if (rc < 0)
        return rc;
    rc = dump_stream(out, &s);
    s.release(&s);
    return rc;
}

#define EXPECT_IMPORT(text, opts, want)                                                            \
    do {                                                                                           \
        pond_buf b_ = POND_BUF_INIT;                                                               \
        PT_ASSERT_OK(import_text(&b_, "in.csv", text, strlen(text), opts));                        \
        PT_ASSERT_STR_EQ(b_.ptr, want);                                                            \
        pond_buf_dispose(&b_);                                                                     \
    } while (0)

#define EXPECT_IMPORT_FAIL(text, opts, msg)                                                        \
    do {                                                                                           \
        pond_buf b_ = POND_BUF_INIT;                                                               \
        PT_ASSERT(import_text(&b_, "in.csv", text, strlen(text), opts) < 0);                       \
        PT_ASSERT_MSG_HAS(msg);                                                                    \
        pond_buf_dispose(&b_);                                                                     \
    } while (0)

static void test_sniffed_delimiters(void)
{
    EXPECT_IMPORT("a;b\nx;1,5\ny;2\n", NULL, "a:u,b:u\n'x'|'1,5'\n'y'|'2'\n");
    EXPECT_IMPORT("a\tb\n1\t2.5\n", NULL, "a:l,b:g\n1|2.5\n");
    EXPECT_IMPORT("  year  volume\n  1871  1120\n  1872   963\n", NULL,
                  "year:l,volume:l\n1871|1120\n1872|963\n");
    EXPECT_IMPORT_FAIL("a,b;c\n1,2;3\n", NULL, "cannot tell the delimiter");
    pond_csv_import_options o = POND_CSV_IMPORT_OPTIONS_INIT;
    o.delimiter = ';';
    EXPECT_IMPORT("a,b;c\n1,2;3\n", &o, "a,b:u,c:l\n'1,2'|3\n");
}

static void test_quote_comment_skip_header(void)
{
    EXPECT_IMPORT("'popul'\t'TV'\n0\t7\n", NULL, "popul:l,TV:l\n0|7\n");
    pond_csv_import_options o = POND_CSV_IMPORT_OPTIONS_INIT;
    o.quote = '\'';
    EXPECT_IMPORT("'a','b'\n'x,y',2\n", &o, "a:u,b:l\n'x,y'|2\n");
    o = (pond_csv_import_options)POND_CSV_IMPORT_OPTIONS_INIT;
    o.comment = '#';
    o.skip_rows = 1;
    EXPECT_IMPORT("Exported by X, 2024\n# units: m\na,b\n# mid\n1,2\n", &o, "a:l,b:l\n1|2\n");
    o = (pond_csv_import_options)POND_CSV_IMPORT_OPTIONS_INIT;
    o.no_header = true;
    EXPECT_IMPORT("1,x\n2,y\n", &o, "column1:l,column2:u\n1|'x'\n2|'y'\n");
    /* R's write.csv: an unnamed first column of row names */
    EXPECT_IMPORT("\"\",\"v\"\n\"1\",3\n\"2\",4\n", NULL, "column1:l,v:l\n1|3\n2|4\n");
}

static void test_null_values(void)
{
    /* defaults: null in columns of numbers, text in text columns */
    EXPECT_IMPORT("n,s\n1,NA\nNA,x\n-,N/A\n,\n", NULL, "n:l,s:u\n1|'NA'\n~|'x'\n~|'N/A'\n~|~\n");
    EXPECT_IMPORT("n\nNA\nNULL\n", NULL, "n:u\n'NA'\n'NULL'\n"); /* all markers: text */
    pond_csv_import_options o = POND_CSV_IMPORT_OPTIONS_INIT;
    o.null_values = "NA,-";
    EXPECT_IMPORT("n,s\n1,NA\n-,x\n\"NA\",-\n", &o, "n:u,s:u\n'1'|~\n~|'x'\n'NA'|~\n");
    o.null_values = "NA,-,?";
    EXPECT_IMPORT("n\n1\n?\n", &o, "n:l\n1\n~\n");
    /* quoted empty is an empty string, unquoted empty is null */
    EXPECT_IMPORT("s,t\n\"\",x\n,y\n", NULL, "s:u,t:u\n''|'x'\n~|'y'\n");
}

static void test_numbers(void)
{
    /* surrounding blanks in numeric columns; text columns keep them */
    EXPECT_IMPORT("a,b,s\n 1 , 2.5,  x \n3,4 ,y\n", NULL, "a:l,b:g,s:u\n1|2.5|'  x '\n3|4|'y'\n");
    /* leading-zero codes and over-long integers stay text */
    EXPECT_IMPORT("zip,id,n\n01234,123456789012345678901234,0\n10001,1,0.5\n", NULL,
                  "zip:u,id:u,n:g\n'01234'|'123456789012345678901234'|0\n'10001'|'1'|0.5\n");
    /* the int64 extremes are integers; one past them is text */
    EXPECT_IMPORT("id\n-9223372036854775808\n9223372036854775807\n", NULL,
                  "id:l\n-9223372036854775808\n9223372036854775807\n");
    EXPECT_IMPORT("id\n9223372036854775808\n1\n", NULL, "id:u\n'9223372036854775808'\n'1'\n");
    /* numbers mixed with text in the sample: a text column */
    EXPECT_IMPORT("v\n1\nabc\n2.5\n", NULL, "v:u\n'1'\n'abc'\n'2.5'\n");
    /* hex is not a number */
    EXPECT_IMPORT("v\n0x10\n", NULL, "v:u\n'0x10'\n");
    EXPECT_IMPORT("v\ninf\n-1e308\n", NULL, "v:g\ninf\n-1e+308\n");
    /* out of range: an error naming file, line and column, not infinity */
    EXPECT_IMPORT_FAIL("v\n1.5\n1e400\n", NULL, "in.csv: line 3: '1e400' in column 'v' is out of");
    EXPECT_IMPORT_FAIL("v\n1e-400\n", NULL, "line 2: '1e-400' in column 'v' is out of");
    /* after the sample: a leading zero in an inferred int column, a mismatch */
    pond_csv_import_options o = POND_CSV_IMPORT_OPTIONS_INIT;
    o.sample_rows = 1;
    EXPECT_IMPORT_FAIL("v\n1\n007\n", &o, "line 3: '007' in column 'v' has a leading zero");
    EXPECT_IMPORT_FAIL("v\n1\nx\n", &o, "line 3: 'x' is not a valid int64 for column 'v'");
    PT_ASSERT_MSG_HAS("--schema");
    o.schema = "v:int64";
    EXPECT_IMPORT("v\n1\n007\n", &o, "v:l\n1\n7\n");
}

static void test_ragged(void)
{
    EXPECT_IMPORT_FAIL("a,b,c\n1,2,3\n4,5\n", NULL,
                       "in.csv: line 3 has 2 fields, the header has 3");
    pond_csv_import_options o = POND_CSV_IMPORT_OPTIONS_INIT;
    o.allow_ragged = true;
    EXPECT_IMPORT("a,b,c\n1,2,3\n4,5\n6,7,8,\n", &o, "a:l,b:l,c:l\n1|2|3\n4|5|~\n6|7|8\n");
    EXPECT_IMPORT_FAIL("a,b\n1,2,3\n", &o, "line 2 has 3 fields, more than the 2 of the header");
}

static void test_encodings_and_compression(void)
{
    const char latin1[] = "city,n\nZ\xfcrich,1\n";
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_ERR(import_text(&b, "l1.csv", latin1, sizeof latin1 - 1, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("l1.csv: line 2, byte 8: invalid UTF-8");
    pond_csv_import_options o = POND_CSV_IMPORT_OPTIONS_INIT;
    o.encoding = 3; /* POND_INPUT_CP1252 */
    pond_buf_clear(&b);
    PT_ASSERT_OK(import_text(&b, "l1.csv", latin1, sizeof latin1 - 1, &o));
    PT_ASSERT_STR_EQ(b.ptr, "city:u,n:l\n'Z\xc3\xbcrich'|1\n");
    /* UTF-16 with a byte-order mark needs no option */
    const char u16[] = "\xff\xfe"
                       "a\0\n\0"
                       "1\0\n\0";
    pond_buf_clear(&b);
    PT_ASSERT_OK(import_text(&b, "u16.csv", u16, sizeof u16 - 1, NULL));
    PT_ASSERT_STR_EQ(b.ptr, "a:l\n1\n");
    /* gzip, detected by content whatever the name */
    const char text[] = "a,b\n1,x\n2,y\n";
    uLongf zn = 256;
    Bytef z[256];
    z_stream zs = {0};
    PT_ASSERT(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    zs.next_in = (Bytef *)text;
    zs.avail_in = sizeof text - 1;
    zs.next_out = z;
    zs.avail_out = (uInt)zn;
    PT_ASSERT(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    zn = zs.total_out;
    deflateEnd(&zs);
    pond_buf_clear(&b);
    PT_ASSERT_OK(import_text(&b, "data.csv", z, zn, NULL));
    PT_ASSERT_STR_EQ(b.ptr, "a:l,b:u\n1|'x'\n2|'y'\n");
    pond_buf_clear(&b);
    PT_ASSERT_ERR(import_text(&b, "t.csv.gz", z, zn - 6, NULL), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("t.csv.gz: truncated gzip data");
    pond_buf_dispose(&b);
}

static void test_json_import(void)
{
    const char arr[] =
        "[{\"t\":\"2024-01-01T00:00:00Z\",\"n\":1,\"x\":1.5,\"s\":\"a\",\"b\":true,"
        "\"o\":{\"k\":[1,2]}},\n"
        " {\"t\":\"2024-01-02T00:00:00Z\",\"n\":null,\"x\":2,\"s\":\"007\",\"b\":false,"
        "\"o\":null,\"late\":\"z\"}]";
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(import_text(&b, "a.json", arr, sizeof arr - 1, NULL));
    PT_ASSERT_STR_EQ(b.ptr, "t:tsu:UTC,n:l,x:g,s:u,b:b,o:u,late:u\n"
                            "1704067200000000|1|1.5|'a'|true|'{\"k\":[1,2]}'|~\n"
                            "1704153600000000|~|2|'007'|false|~|'z'\n");
    /* NDJSON; mixed number and string in one key: text; a JSON string never becomes a number */
    const char nd[] = "{\"v\":1,\"w\":\"12\"}\n{\"v\":\"x\",\"w\":\"13\"}\n";
    pond_buf_clear(&b);
    PT_ASSERT_OK(import_text(&b, "n.ndjson", nd, sizeof nd - 1, NULL));
    PT_ASSERT_STR_EQ(b.ptr, "v:u,w:u\n'1'|'12'\n'x'|'13'\n");
    /* "NaN", "Infinity", "-Infinity" (pond's JSON output for them) are doubles beside numbers
     * and alone; beside other text, or spelled otherwise, text */
    const char sp[] = "{\"x\":1.5,\"y\":\"NaN\",\"z\":\"nan\",\"w\":\"a\"}\n"
                      "{\"x\":\"NaN\",\"y\":\"-Infinity\",\"z\":2,\"w\":\"Infinity\"}\n"
                      "{\"x\":\"Infinity\",\"y\":null,\"z\":null,\"w\":null}\n"
                      "{\"x\":\"-Infinity\",\"y\":\"NaN\",\"z\":null,\"w\":null}\n";
    pond_buf_clear(&b);
    PT_ASSERT_OK(import_text(&b, "sp.ndjson", sp, sizeof sp - 1, NULL));
    PT_ASSERT_STR_EQ(b.ptr, "x:g,y:g,z:u,w:u\n1.5|nan|'nan'|'a'\nnan|-inf|'2'|'Infinity'\n"
                            "inf|~|~|~\n-inf|nan|~|~\n");
    /* after the sample too, and in a column --schema makes double */
    pond_csv_import_options so = POND_CSV_IMPORT_OPTIONS_INIT;
    so.sample_rows = 1;
    so.schema = "y:double";
    pond_buf_clear(&b);
    PT_ASSERT_OK(import_text(&b, "sp.ndjson", sp, sizeof sp - 1, &so));
    PT_ASSERT(strstr(b.ptr, "x:g,y:g,") == b.ptr);
    PT_ASSERT(strstr(b.ptr, "\nnan|-inf|") && strstr(b.ptr, "\ninf|~|") &&
              strstr(b.ptr, "\n-inf|nan|"));
    /* a key first seen after the sample is refused by name */
    pond_csv_import_options o = POND_CSV_IMPORT_OPTIONS_INIT;
    o.sample_rows = 1;
    const char late[] = "{\"a\":1}\n{\"a\":2,\"b\":3}\n";
    pond_buf_clear(&b);
    PT_ASSERT(import_text(&b, "late.ndjson", late, sizeof late - 1, &o) < 0);
    PT_ASSERT_MSG_HAS("late.ndjson: line 2: key 'b' is not in the first 1 records");
    const char dup[] = "{\"a\":1,\"a\":2}\n";
    pond_buf_clear(&b);
    PT_ASSERT(import_text(&b, "dup.ndjson", dup, sizeof dup - 1, NULL) < 0);
    PT_ASSERT_MSG_HAS("key 'a' appears twice");
    const char big[] = "[{\"a\":1e400}]";
    pond_buf_clear(&b);
    PT_ASSERT(import_text(&b, "big.json", big, sizeof big - 1, NULL) < 0);
    PT_ASSERT_MSG_HAS("big.json: line 1: '1e400' in column 'a' is out of");
    /* JSON given as CSV: said so */
    o = (pond_csv_import_options)POND_CSV_IMPORT_OPTIONS_INIT;
    o.format = POND_IMPORT_CSV;
    pond_buf_clear(&b);
    PT_ASSERT_ERR(import_text(&b, "a.json", arr, sizeof arr - 1, &o), POND_EINVALID);
    PT_ASSERT_MSG_HAS("a.json: looks like JSON, not CSV");
    /* forced layouts */
    o.format = POND_IMPORT_NDJSON;
    pond_buf_clear(&b);
    PT_ASSERT(import_text(&b, "a.json", arr, sizeof arr - 1, &o) < 0);
    PT_ASSERT_MSG_HAS("record 1 is an array, not an object");
    pond_buf_dispose(&b);
}

/* A large NDJSON file imports in batches with memory bounded by one batch. */
static void test_json_import_bounded(void)
{
    size_t n = pt_light() ? 5000 : 200000;
    char path[4400];
    snprintf(path, sizeof path, "%s/big.ndjson", PT_TMPDIR());
    FILE *f = fopen(path, "w");
    PT_ASSERT(f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "{\"i\":%zu,\"s\":\"row %zu\",\"n\":{\"k\":%zu}}\n", i, i, i % 3);
    fclose(f);
    pond_csv_import_options o = POND_CSV_IMPORT_OPTIONS_INIT;
    o.batch_rows = 4096;
    o.sample_rows = 1000;
    size_t before = pond_alloc_current();
    pond_alloc_reset_peak();
    struct ArrowArrayStream s;
    PT_ASSERT_OK(pond_csv_import_stream(&s, path, &o));
    struct ArrowArray b;
    int64_t rows = 0, sum = 0;
    int rc;
    while ((rc = s.get_next(&s, &b)) == 0 && b.release) {
        const int64_t *v = b.children[0]->buffers[1];
        for (int64_t i = 0; i < b.length; i++)
            sum += v[i];
        rows += b.length;
        b.release(&b);
    }
    PT_ASSERT_INT_EQ(rc, 0);
    PT_ASSERT_INT_EQ(rows, (int64_t)n);
    PT_ASSERT_INT_EQ(sum, (int64_t)(n * (n - 1) / 2));
    s.release(&s);
    PT_ASSERT(pond_alloc_peak() - before < ((size_t)8 << 20)); /* the file is ~8 MB at full size */
}

/* SHA-256 with OpenSSL alone: the reference for pond's own hashing. */
static void ossl_sha256(uint8_t out[32], const void *data, size_t len)
{
    unsigned int n = 0;
    PT_ASSERT(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1);
    PT_ASSERT_INT_EQ(n, 32);
}

/* The whole file, malloc'd (asserts). */
static uint8_t *slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    PT_ASSERT(f);
    PT_ASSERT(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    PT_ASSERT(n >= 0);
    rewind(f);
    uint8_t *p = malloc((size_t)n + 1);
    PT_ASSERT(p);
    PT_ASSERT_INT_EQ(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len_out = (size_t)n;
    return p;
}

/* What a CSV -> series import stores is hashed right (issue 22 changes who hashes it): each
 * version's recorded sha256 is the SHA-256 of its blob file's bytes computed here, the chunk
 * table's trailer holds the same hash and every chunk hash is the SHA-256 of its 256 KiB of
 * the file; the verified read gives the same bytes. With 1 and 2 import threads. */
static void test_import_stored_hashes(void)
{
    pond_oplog_create_options co = POND_OPLOG_CREATE_OPTIONS_INIT;
    co.threshold_table = 4096; /* every version goes to the store */
    pt_pond p;
    pt_pond_disk(&p, &co);
    const int64_t rows = 60000;
    /* a new series (nothing to compare: not hashed by the table layer), a second version (its
     * hash compared with the first's), then the second CSV again: skipped as identical */
    for (int v = 0; v < 3; v++) {
        pond_buf csv = POND_BUF_INIT;
        pond_buf_puts(&csv, "ts,a,b,tag\n");
        int d = v < 1 ? v : 1; /* the third CSV is the second's */
        uint64_t x = 12345 + (uint64_t)d;
        for (int64_t i = 0; i < rows; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int64_t t = 1700000000 + d * rows + i;
            pond_buf_printf(&csv, "%lld,%.17g,%.17g,t%d\n", (long long)t,
                            (double)(x >> 11) / 9007199254740992.0, (double)(x % 100003) / 7.0,
                            (int)(x % 16));
        }
        PT_ASSERT(csv.ptr);
        const char *file = pt_tmp_file(v ? "b.csv" : "a.csv", csv.ptr, csv.size);
        pond_buf_dispose(&csv);
        pond_csv_import_options io = POND_CSV_IMPORT_OPTIONS_INIT;
        io.detect_timestamp = true;
        io.timestamp_column = "ts";
        io.threads = v + 1;
        struct ArrowArrayStream in;
        PT_ASSERT_OK(pond_csv_import_stream(&in, file, &io));
        PT_ASSERT_OK(pond_fs_begin(p.fs, NULL));
        pond_table_write_options wo = POND_TABLE_WRITE_OPTIONS_INIT;
        wo.timestamp_column = "ts";
        wo.skip_identical = true;
        pond_fs_node *n = NULL;
        PT_ASSERT_OK(pond_fs_node_open(&n, p.fs, NULL, "/s", 0));
        pond_table_write_result res;
        PT_ASSERT_OK(pond_table_node_write_stream(&res, n, POND_ENTRY_FILE_SERIES, &in, &wo));
        pond_fs_node_free(n);
        PT_ASSERT_INT_EQ(res.identical_to, v == 2 ? 2 : 0);
        PT_ASSERT_INT_EQ(res.version, v == 2 ? 0 : v + 1);
        if (v < 2)
            PT_ASSERT_OK(pond_fs_commit(NULL, p.fs));
        else
            pond_fs_abort(p.fs);
        if (in.release)
            in.release(&in);
    }
    pond_fs_node *node = NULL;
    PT_ASSERT_OK(pond_fs_node_open(&node, p.fs, NULL, "/s", 0));
    pond_stat *vs = NULL;
    size_t nv = 0;
    PT_ASSERT_OK(pond_fs_node_versions(&vs, &nv, node));
    PT_ASSERT_INT_EQ(nv, 2);
    for (size_t k = 0; k < nv; k++) {
        char hex[65];
        pond_hash_hex(hex, &vs[k].sha256);
        pond_buf path = POND_BUF_INIT;
        pond_buf_printf(&path, "%s/_large_files/%.2s/%s", p.dir, hex, hex);
        PT_ASSERT(path.ptr);
        size_t len = 0, tlen = 0;
        uint8_t *blob = slurp(path.ptr, &len);
        PT_ASSERT_INT_EQ((int64_t)len, vs[k].size);
        PT_ASSERT(len > 2 * 262144); /* several store chunks */
        uint8_t want[32];
        ossl_sha256(want, blob, len);
        PT_ASSERT_MEM_EQ(vs[k].sha256.bytes, want, 32);
        pond_buf_puts(&path, ".chunks");
        uint8_t *table = slurp(path.ptr, &tlen);
        size_t nchunks = (len + 262143) / 262144;
        PT_ASSERT_INT_EQ(tlen, 32 * (nchunks + 1) + 64); /* one group */
        PT_ASSERT_MEM_EQ(table + tlen - 32, want, 32);   /* the trailer's content hash */
        for (size_t i = 0; i < nchunks; i++) {
            size_t off = i * 262144, n = len - off < 262144 ? len - off : 262144;
            uint8_t h[32];
            ossl_sha256(h, blob + off, n);
            PT_ASSERT_MEM_EQ(table + 32 * i, h, 32);
        }
        pond_reader *r = NULL;
        PT_ASSERT_OK(pond_fs_node_open_reader(&r, node, vs[k].version));
        uint8_t *back = malloc(len + 1);
        PT_ASSERT(back);
        size_t got = 0;
        PT_ASSERT_OK(pond_reader_pread(r, back, len + 1, 0, &got));
        PT_ASSERT_INT_EQ(got, len);
        PT_ASSERT_MEM_EQ(back, blob, len);
        pond_reader_free(r);
        free(back);
        free(table);
        free(blob);
        pond_buf_dispose(&path);
    }
    pond_free(vs);
    pond_fs_node_free(node);
    pt_pond_close(&p);
}

PT_SUITE(import, PT_TEST(sniffed_delimiters), PT_TEST(quote_comment_skip_header),
         PT_TEST(null_values), PT_TEST(numbers), PT_TEST(ragged),
         PT_TEST(encodings_and_compression), PT_TEST(json_import), PT_TEST(json_import_bounded),
         PT_TEST(import_stored_hashes))
