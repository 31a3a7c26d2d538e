/* bench_ingest: stream a file into a large-file store, or read a blob back verified.
 *
 *   bench_ingest ingest SRC STORE_DIR [--no-thread]   prints "ref <sha256> <root> <size>"
 *   bench_ingest read STORE_DIR SHA256 ROOT SIZE [BUFSIZE]
 *
 * Each prints its time, throughput, peak RSS and pond heap peak. bench/ingest.sh runs them side
 * by side with openssl, sha256sum and cp+sync. */
#include <pond/alloc.h>
#include <pond/cas.h>
#include <pond/errors.h>
#include <pond/hash.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, int64_t bytes, double secs)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s: %lld bytes in %.3f s = %.0f MB/s, peak RSS %ld KiB, pond heap peak %zu KiB\n", what,
           (long long)bytes, secs, (double)bytes / secs / 1e6, ru.ru_maxrss,
           pond_alloc_peak() / 1024);
}

static int fail(const char *what)
{
    fprintf(stderr, "bench_ingest: %s: %s\n", what, pond_error_last()->message);
    return 1;
}

static int ingest(const char *src, const char *dir, bool threaded)
{
    pond_cas_options o = POND_CAS_OPTIONS_INIT;
    o.threaded = threaded;
    pond_cas *cas;
    if (pond_cas_open(&cas, dir, &o) < 0)
        return fail("open store");
    int fd = open(src, O_RDONLY);
    if (fd < 0) {
        perror(src);
        return 1;
    }
    size_t cap = 1u << 20;
    char *buf = malloc(cap);
    pond_cas_writer *w;
    double t0 = now_s();
    if (pond_cas_writer_new(&w, cas) < 0)
        return fail("writer");
    ssize_t n;
    while ((n = read(fd, buf, cap)) > 0)
        if (pond_cas_writer_write(w, buf, (size_t)n) < 0)
            return fail("write");
    if (n < 0) {
        perror(src);
        return 1;
    }
    pond_cas_ref ref;
    double t1 = now_s();
    if (pond_cas_writer_finish(&ref, w) < 0)
        return fail("finish");
    double secs = now_s() - t0;
    printf("  streaming (read + hash + write) %.3f s, finish (fsync + publish) %.3f s\n", t1 - t0,
           secs - (t1 - t0));
    pond_cas_writer_free(w);
    close(fd);
    free(buf);
    char sha[65], root[65];
    pond_hash_hex(sha, &ref.sha256);
    pond_hash_hex(root, &ref.root);
    report(threaded ? "ingest (fsync, hashing on 2 threads)" : "ingest (fsync, 1 thread)", ref.size,
           secs);
    printf("ref %s %s %lld\n", sha, root, (long long)ref.size);
    pond_cas_free(cas);
    return 0;
}

static int read_back(const char *dir, const char *sha_hex, const char *root_hex, const char *size,
                     size_t cap)
{
    pond_cas *cas;
    pond_cas_ref ref;
    if (pond_cas_open(&cas, dir, NULL) < 0)
        return fail("open store");
    if (pond_hash_from_hex(&ref.sha256, sha_hex) < 0 || pond_hash_from_hex(&ref.root, root_hex) < 0)
        return fail("bad hash");
    ref.size = strtoll(size, NULL, 10);
    char *buf = malloc(cap);
    double t0 = now_s();
    pond_cas_reader *r;
    if (pond_cas_reader_open(&r, cas, &ref) < 0)
        return fail("reader");
    int64_t total = 0;
    size_t n;
    volatile unsigned char x = 0; /* touches the data so nothing is optimized away */
    do {
        if (pond_cas_reader_read(r, buf, cap, &n) < 0)
            return fail("read");
        total += (int64_t)n;
        if (n)
            x ^= (unsigned char)buf[n - 1];
    } while (n > 0);
    double secs = now_s() - t0;
    pond_cas_reader_free(r);
    report("verified read", total, secs);
    free(buf);
    pond_cas_free(cas);
    (void)x;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "ingest")) {
        bool threaded = !(argc > 4 && !strcmp(argv[4], "--no-thread"));
        return ingest(argv[2], argv[3], threaded);
    }
    if (argc >= 6 && !strcmp(argv[1], "read"))
        return read_back(argv[2], argv[3], argv[4], argv[5],
                         argc > 6 ? (size_t)strtoull(argv[6], NULL, 10) : (size_t)1 << 20);
    fprintf(stderr,
            "usage: %s ingest SRC STORE_DIR [--no-thread]\n"
            "       %s read STORE_DIR SHA256 ROOT SIZE [BUFSIZE]\n",
            argv[0], argv[0]);
    return 2;
}
