/* Every Parquet file of ../shared/corpus/manifest.json, in-process: "read" files must dump to
 * the oracle digest, "reject" files must fail cleanly, the rest must not crash; every file
 * must stay within a bounded allocation and leave nothing allocated. */
#include "pt.h"

#include <pond/hash.h>
#include <pond/parquet.h>

#include "util/json.h"
#include <sys/stat.h>

typedef struct {
    pond_sha256 *h;
} digest_ctx;

static int digest_write(void *payload, const void *buf, size_t len)
{
    digest_ctx *d = payload;
    return pond_sha256_update(d->h, buf, len);
}

/* Dumps path into a digest; returns the reader's rc and the digest / row count. */
static int dump_digest(const char *path, char hex_out[72], int64_t *rows_out)
{
    pond_parquet_reader *r = NULL;
    int rc = pond_parquet_reader_open_file(&r, path, NULL);
    if (rc < 0)
        return rc;
    digest_ctx d;
    PT_ASSERT_OK(pond_sha256_new(&d.h));
    /* every batch the reader produces must pass Arrow validation */
    struct ArrowSchema s;
    PT_ASSERT_OK(pond_parquet_reader_schema(r, &s));
    pond_buf text = POND_BUF_INIT;
    int64_t rows = 0;
    struct ArrowArray a;
    while ((rc = pond_parquet_reader_next(r, &a)) == 0) {
        PT_ASSERT_OK(pond_arrow_array_validate(&s, &a));
        pond_buf_clear(&text);
        PT_ASSERT_OK(pond_arrow_canon_batch(&text, &s, &a));
        PT_ASSERT_OK(digest_write(&d, text.ptr ? text.ptr : "", text.size));
        rows += a.length;
        pond_arrow_array_release(&a);
    }
    if (rc == POND_ITEROVER)
        rc = 0;
    *rows_out = rows;
    pond_buf_dispose(&text);
    pond_arrow_schema_release(&s);
    pond_hash h;
    PT_ASSERT_OK(pond_sha256_final(&h, d.h));
    pond_sha256_free(d.h);
    pond_parquet_reader_free(r);
    char hex[65];
    pond_hash_hex(hex, &h);
    snprintf(hex_out, 72, "sha256:%s", hex);
    return rc;
}

static void test_manifest_files(void)
{
    const char *corpus = pt_corpus_dir();
    if (!corpus)
        pt_skip("no ../shared/corpus (set POND_CORPUS)");
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", corpus);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    PT_ASSERT(root != NULL);
    json_t *files = json_object_get(root, "parquet");
    PT_ASSERT(json_is_object(files));
    const char *key;
    json_t *e;
    int n_read = 0, n_reject = 0, n_other = 0, n_missing = 0, n_big = 0;
    json_object_foreach(files, key, e)
    {
        const char *expect = json_string_value(json_object_get(e, "expect"));
        const char *digest = json_string_value(json_object_get(e, "expectedDigest"));
        const char *if_read = json_string_value(json_object_get(e, "digestIfRead"));
        const char *source = json_string_value(json_object_get(e, "expectationSource"));
        json_int_t bytes = json_integer_value(json_object_get(e, "bytes"));
        json_t *rows_j = json_object_get(e, "expectedRows");
        PT_ASSERT(expect != NULL);
        snprintf(path, sizeof path, "%s/%s", corpus, key);
        struct stat st;
        if (stat(path, &st) != 0) {
            n_missing++;
            printf("  note: %s is listed but absent from the corpus; skipped\n", key);
            continue;
        }
        /* the 10M-row file takes seconds; light runs (valgrind) skip files over 4 MB */
        if (bytes > (4 << 20) && pt_light()) {
            n_big++;
            continue;
        }
        size_t base = pond_alloc_current();
        pond_alloc_reset_peak();
        char got[72];
        int64_t rows = -1;
        int rc = dump_digest(path, got, &rows);
        const char *msg = pond_error_last()->message;
        size_t peak = pond_alloc_peak() - base;
        /* no file may make the reader hold more than a bounded amount */
        if (peak > ((size_t)512 << 20))
            pt_fail(__FILE__, __LINE__, "%s: peak allocation %zu bytes", key, peak);
        if (pond_alloc_current() != base)
            pt_fail(__FILE__, __LINE__, "%s: %zu bytes still allocated", key,
                    pond_alloc_current() - base);
        bool crc_case = source && strstr(source, "CRC mismatch");
        if (!strcmp(expect, "read") && !crc_case) {
            if (rc < 0)
                pt_fail(__FILE__, __LINE__, "%s: %s", key, msg);
            if (!digest || strcmp(got, digest) != 0)
                pt_fail(__FILE__, __LINE__, "%s: digest %s, want %s", key, got,
                        digest ? digest : "(none)");
            if (rows_j)
                PT_ASSERT_INT_EQ(rows, json_integer_value(rows_j));
            n_read++;
        } else if (!strcmp(expect, "read")) {
            /* a reader that verifies page CRCs must reject these */
            PT_ASSERT_ERR(rc, POND_ECORRUPT);
            PT_ASSERT_MSG_HAS("CRC");
            n_reject++;
        } else if (!strcmp(expect, "reject")) {
            if (rc >= 0)
                pt_fail(__FILE__, __LINE__, "%s: read, but it must be rejected", key);
            PT_ASSERT(rc != POND_ERROR && msg[0] != '\0');
            n_reject++;
        } else if (!strcmp(expect, "read-or-reject-cleanly")) {
            if (rc == 0 && if_read && strcmp(got, if_read) != 0)
                pt_fail(__FILE__, __LINE__, "%s: read with digest %s, want %s", key, got, if_read);
            if (rc < 0)
                PT_ASSERT(rc == POND_ECORRUPT || rc == POND_EUNSUPPORTED);
            n_other++;
        } else {
            n_other++; /* ambiguous: it only must not crash or leak (checked above) */
        }
    }
    printf("  corpus: %d read and matched, %d rejected, %d other, %d absent, %d large skipped\n",
           n_read, n_reject, n_other, n_missing, n_big);
    PT_ASSERT(n_read >= 50);
    json_decref(root);
}

PT_SUITE(pq_corpus, PT_TEST(manifest_files))
