/* Fuzz target: the streaming CSV reader, with a small buffer and field limit so that refills and
 * limits are exercised; then the import's chunked parallel parsing (docs/import.md, "Parallel
 * parsing"), differentially: with chunks of a few lines on 2 threads it must give the rows,
 * batches and error of one thread, or the target traps. */
#include <pond/csv.h>
#include <pond/csv_import.h>
#include <pond/errors.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void mix(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 1099511628211ull;
}

static bool valid(const struct ArrowArray *a, int64_t i)
{
    const uint8_t *v = a->buffers[0];
    return !v || (v[(a->offset + i) / 8] >> ((a->offset + i) % 8)) & 1;
}

/* A digest of what the import gives: schema, batch lengths, every value, and the error. */
static uint64_t import_digest(const char *path, int threads, int64_t batch, int64_t sample,
                              char *err, size_t err_cap)
{
    pond_csv_import_options o = POND_CSV_IMPORT_OPTIONS_INIT;
    o.threads = threads;
    o.batch_rows = batch;
    o.sample_rows = sample;
    uint64_t h = 14695981039346656037ull;
    struct ArrowArrayStream s;
    err[0] = '\0';
    if (pond_csv_import_stream(&s, path, &o) < 0) {
        snprintf(err, err_cap, "%s", pond_error_last()->message);
        return h;
    }
    struct ArrowSchema sc;
    if (s.get_schema(&s, &sc) != 0) {
        snprintf(err, err_cap, "%s", s.get_last_error(&s));
        s.release(&s);
        return h;
    }
    for (int64_t c = 0; c < sc.n_children; c++) {
        mix(&h, sc.children[c]->name, strlen(sc.children[c]->name) + 1);
        mix(&h, sc.children[c]->format, strlen(sc.children[c]->format) + 1);
    }
    struct ArrowArray b;
    int rc;
    while ((rc = s.get_next(&s, &b)) == 0 && b.release) {
        mix(&h, &b.length, sizeof b.length);
        for (int64_t c = 0; c < b.n_children; c++) {
            const struct ArrowArray *a = b.children[c];
            const char *f = sc.children[c]->format;
            for (int64_t i = 0; i < a->length; i++) {
                int64_t k = a->offset + i;
                bool v = valid(a, i);
                mix(&h, &v, 1);
                if (!v)
                    continue;
                if (!strcmp(f, "u")) {
                    const int32_t *off = a->buffers[1];
                    mix(&h, (const char *)a->buffers[2] + off[k], (size_t)(off[k + 1] - off[k]));
                } else if (!strcmp(f, "b")) {
                    bool x = (((const uint8_t *)a->buffers[1])[k / 8] >> (k % 8)) & 1;
                    mix(&h, &x, 1);
                } else {
                    mix(&h, (const char *)a->buffers[1] + k * 8, 8);
                }
            }
        }
        b.release(&b);
    }
    if (rc != 0)
        snprintf(err, err_cap, "%s", s.get_last_error(&s));
    sc.release(&sc);
    s.release(&s);
    return h;
}

static void chunked_import(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_csv.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    bool ok = write(fd, data, size) == (ssize_t)size;
    close(fd);
    if (ok) {
        int64_t batch = 1 + (int64_t)(size % 5), sample = 1 + (int64_t)(size % 3);
        char e1[1024], e2[1024];
        uint64_t h1 = import_digest(path, 1, batch, sample, e1, sizeof e1);
        uint64_t h2 = import_digest(path, 2, batch, sample, e2, sizeof e2);
        if (h1 != h2 || strcmp(e1, e2) != 0) {
            fprintf(stderr, "fuzz_csv: 2 threads differ from 1: '%s' vs '%s'\n", e2, e1);
            __builtin_trap();
        }
    }
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pond_csv_options o = POND_CSV_OPTIONS_INIT;
    o.buffer_size = size % 7 + 1;
    o.max_field = 1024;
    o.max_fields = 64;
    pond_csv_reader *r = NULL;
    if (pond_csv_reader_open_mem(&r, data, size, &o) < 0)
        return 0;
    size_t total = 0;
    while (pond_csv_reader_next(r) == 0) {
        for (size_t i = 0; i < pond_csv_reader_nfields(r); i++) {
            size_t len;
            const char *f = pond_csv_reader_field(r, i, &len, NULL);
            if (f && len)
                total += (unsigned char)f[len - 1];
        }
    }
    (void)total;
    pond_csv_reader_free(r);
    if (size <= 1 << 16) /* bounded time per input */
        chunked_import(data, size);
    return 0;
}
