/* cas: writing, dedup, verified reads, corruption detection, bounded memory. */
#include "pt.h"

#include <pond/cas.h>
#include <pond/hash.h>

#include "cas/cas_internal.h"
#include "util/util.h"
#include "cas_test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

void ct_fill(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)(x >> 24);
    }
}

uint8_t *ct_filled(size_t len, uint64_t seed)
{
    uint8_t *p = malloc(len ? len : 1);
    PT_ASSERT(p);
    ct_fill(p, len, seed);
    return p;
}

pond_cas *ct_store(const char *name, uint32_t chunk, uint32_t fanout, bool threaded)
{
    pond_cas_options o = POND_CAS_OPTIONS_INIT;
    o.chunk_size = chunk;
    o.fanout = fanout;
    o.threaded = threaded;
    char *dir = pond__path_join(PT_TMPDIR(), name);
    PT_ASSERT(dir);
    pond_cas *cas = NULL;
    PT_ASSERT_OK(pond_cas_open(&cas, dir, &o));
    pond_free(dir);
    return cas;
}

static int count_cb(const pond_cas_entry *e, void *payload)
{
    ct_counts *c = payload;
    c->n[e->kind]++;
    if (e->kind == POND_CAS_ENTRY_BLOB && e->has_chunks)
        c->blobs_with_chunks++;
    if (e->stale)
        c->stale[e->kind]++;
    return 0;
}

ct_counts ct_count(pond_cas *cas, int64_t grace_us)
{
    ct_counts c;
    memset(&c, 0, sizeof c);
    PT_ASSERT_OK(pond_cas_foreach(cas, grace_us, count_cb, &c));
    return c;
}

char *ct_blob_path(pond_cas *cas, const pond_hash *sha, const char *suffix)
{
    char *p = NULL;
    PT_ASSERT_OK(pond_cas_blob_path(&p, cas, sha));
    size_t n = strlen(p), m = strlen(suffix);
    char *q = malloc(n + m + 1);
    PT_ASSERT(q);
    memcpy(q, p, n);
    memcpy(q + n, suffix, m + 1);
    pond_free(p);
    return q;
}

void ct_flip(const char *path, int64_t off)
{
    PT_ASSERT(chmod(path, 0644) == 0);
    int fd = open(path, O_RDWR);
    PT_ASSERT(fd >= 0);
    uint8_t b;
    PT_ASSERT(pread(fd, &b, 1, off) == 1);
    b ^= 0x40;
    PT_ASSERT(pwrite(fd, &b, 1, off) == 1);
    close(fd);
}

void ct_age(const char *path, int age_s)
{
    struct timeval now, tv[2];
    gettimeofday(&now, NULL);
    tv[0] = tv[1] = now;
    tv[0].tv_sec -= age_s;
    tv[1].tv_sec -= age_s;
    PT_ASSERT(utimes(path, tv) == 0);
}

/* Reads the whole blob through a reader, sequentially in `step`-byte reads. */
static uint8_t *read_all(pond_cas *cas, const pond_cas_ref *ref, size_t step)
{
    pond_cas_reader *r = NULL;
    PT_ASSERT_OK(pond_cas_reader_open(&r, cas, ref));
    PT_ASSERT_INT_EQ(pond_cas_reader_size(r), ref->size);
    uint8_t *out = malloc((size_t)ref->size + 1);
    PT_ASSERT(out);
    size_t total = 0, n;
    do {
        PT_ASSERT_OK(pond_cas_reader_read(r, out + total,
                                          POND_MIN(step, (size_t)ref->size + 1 - total), &n));
        total += n;
    } while (n > 0 && total <= (size_t)ref->size);
    PT_ASSERT_INT_EQ(total, ref->size);
    pond_cas_reader_free(r);
    return out;
}

static void test_roundtrip_small(void)
{
    pond_cas *cas = ct_store("lf", POND_CAS_DEFAULT_CHUNK_SIZE, POND_CAS_DEFAULT_FANOUT, true);
    pond_cas_ref ref;
    PT_ASSERT_OK(pond_cas_put(&ref, cas, "hello, pond", 11));
    pond_hash want;
    PT_ASSERT_OK(pond_sha256_buf(&want, "hello, pond", 11));
    PT_ASSERT(pond_hash_equal(&ref.sha256, &want));
    PT_ASSERT_INT_EQ(ref.size, 11);
    /* the blob sits at <dir>/<ab>/<hex> with exactly the bytes written */
    char hex[65];
    pond_hash_hex(hex, &want);
    char path[4200];
    snprintf(path, sizeof path, "%s/lf/%.2s/%s", PT_TMPDIR(), hex, hex);
    pond_buf b = POND_BUF_INIT;
    PT_ASSERT_OK(pond__read_file(&b, path, 1 << 20, POND_DOM_CAS));
    PT_ASSERT_INT_EQ(b.size, 11);
    PT_ASSERT_MEM_EQ(b.ptr, "hello, pond", 11);
    pond_buf_dispose(&b);
    uint8_t *got = read_all(cas, &ref, 4);
    PT_ASSERT_MEM_EQ(got, "hello, pond", 11);
    free(got);
    /* nothing is left in tmp/ */
    ct_counts c = ct_count(cas, 0);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_BLOB], 1);
    PT_ASSERT_INT_EQ(c.blobs_with_chunks, 1);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 0);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_CHUNKS], 0);
    pond_cas_free(cas);
}

static void test_empty_blob(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, true);
    pond_cas_ref ref;
    PT_ASSERT_OK(pond_cas_put(&ref, cas, NULL, 0));
    pond_hash want;
    PT_ASSERT_OK(pond_sha256_buf(&want, "", 0));
    PT_ASSERT(pond_hash_equal(&ref.sha256, &want));
    PT_ASSERT_INT_EQ(ref.size, 0);
    pond_cas_reader *r;
    PT_ASSERT_OK(pond_cas_reader_open(&r, cas, &ref));
    char buf[8];
    size_t n = 99;
    PT_ASSERT_OK(pond_cas_reader_read(r, buf, sizeof buf, &n));
    PT_ASSERT_INT_EQ(n, 0);
    pond_cas_reader_free(r);
    pond_cas_ref again;
    PT_ASSERT_OK(pond_cas_verify(&again, cas, &ref.sha256));
    PT_ASSERT(pond_hash_equal(&again.root, &ref.root));
    pond_cas_free(cas);
}

/* The root, computed here from docs/cas.md independently of the writer. */
static void spec_root(pond_hash *root, const uint8_t *data, size_t len, uint32_t chunk,
                      uint32_t fanout)
{
    size_t nchunks = (len + chunk - 1) / chunk, ngroups = (nchunks + fanout - 1) / fanout;
    uint8_t *hashes = malloc(nchunks * 32 + 1), *tail = malloc(ngroups * 32 + 64);
    PT_ASSERT(hashes && tail);
    for (size_t i = 0; i < nchunks; i++) {
        size_t n = POND_MIN((size_t)chunk, len - i * chunk);
        PT_ASSERT_OK(pond_sha256_buf((pond_hash *)(hashes + 32 * i), data + i * chunk, n));
    }
    for (size_t g = 0; g < ngroups; g++) {
        size_t n = POND_MIN((size_t)fanout, nchunks - g * fanout);
        PT_ASSERT_OK(
            pond_sha256_buf((pond_hash *)(tail + 32 * g), hashes + 32 * g * fanout, 32 * n));
    }
    uint8_t *t = tail + 32 * ngroups;
    memset(t, 0, 64);
    memcpy(t, "PONDCHK1", 8);
    t[8] = 1;
    for (int i = 0; i < 4; i++) {
        t[12 + i] = (uint8_t)(chunk >> (8 * i));
        t[16 + i] = (uint8_t)(fanout >> (8 * i));
    }
    for (int i = 0; i < 8; i++)
        t[24 + i] = (uint8_t)((uint64_t)len >> (8 * i));
    PT_ASSERT_OK(pond_sha256_buf((pond_hash *)(t + 32), data, len));
    PT_ASSERT_OK(pond_sha256_buf(root, tail, ngroups * 32 + 64));
    free(hashes);
    free(tail);
}

/* Writes `data` in pieces of the sizes in `steps` (cycled), checks the root against the spec and
 * the table file byte for byte against the in-memory builder; returns nothing, asserts. */
static void check_written_table(pond_cas *cas, const uint8_t *data, size_t len, const size_t *steps,
                                size_t nsteps, uint32_t chunk, uint32_t fanout)
{
    pond_cas_ref ref;
    pond_cas_writer *w;
    PT_ASSERT_OK(pond_cas_writer_new(&w, cas));
    for (size_t off = 0, i = 0; off < len; i++) {
        size_t n = POND_MIN(steps[i % nsteps], len - off);
        PT_ASSERT_OK(pond_cas_writer_write(w, data + off, n));
        off += n;
    }
    PT_ASSERT_OK(pond_cas_writer_finish(&ref, w));
    PT_ASSERT(!pond_cas_writer_deduplicated(w));
    pond_cas_writer_free(w);
    pond_hash want;
    spec_root(&want, data, len, chunk, fanout);
    PT_ASSERT(pond_hash_equal(&ref.root, &want));
    /* the table file is chunk hashes, group hashes, trailer */
    size_t nchunks = (len + chunk - 1) / chunk, ngroups = (nchunks + fanout - 1) / fanout;
    char *tp = ct_blob_path(cas, &ref.sha256, ".chunks");
    struct stat st;
    PT_ASSERT(stat(tp, &st) == 0);
    PT_ASSERT_INT_EQ(st.st_size, 32 * (nchunks + ngroups) + 64);
    /* and byte for byte what the in-memory builder (fuzzed against the parser) produces */
    pond_buf img = POND_BUF_INIT, file = POND_BUF_INIT;
    pond_hash broot;
    PT_ASSERT_OK(pond_cas__table_build(&img, &broot, data, len, chunk, fanout));
    PT_ASSERT_OK(pond__read_file(&file, tp, 1 << 20, POND_DOM_CAS));
    PT_ASSERT_INT_EQ(file.size, img.size);
    PT_ASSERT_MEM_EQ(file.ptr, img.ptr, img.size);
    PT_ASSERT(pond_hash_equal(&broot, &want));
    pond_buf_dispose(&img);
    pond_buf_dispose(&file);
    free(tp);
    uint8_t *got = read_all(cas, &ref, 1000);
    PT_ASSERT_MEM_EQ(got, data, len);
    free(got);
}

static void test_root_matches_spec(void)
{
    size_t len = 64 * 4 * 3 + 17; /* 13 chunks, 4 groups, a short last chunk */
    uint8_t *data = ct_filled(len, 7);
    static const size_t odd[] = {37}; /* odd-sized writes straddle chunk boundaries */
    for (int threaded = 0; threaded < 2; threaded++) {
        pond_cas *cas = ct_store(threaded ? "t" : "s", 64, 4, threaded);
        check_written_table(cas, data, len, odd, 1, 64, 4);
        pond_cas_free(cas);
    }
    free(data);
    /* Many chunks through the ring: whole chunks lent from the caller's memory, partial ones
     * copied, groups completed at every point, the two threads sharing the chunk hashes. */
    len = 64 * 4 * 300 + 5;
    data = ct_filled(len, 8);
    static const size_t mixed[] = {37, 64 * 5 + 3, 64, 1, 64 * 9, 64 * 4 * 7, 63, 2000};
    for (int threaded = 0; threaded < 2; threaded++) {
        pond_cas *cas = ct_store(threaded ? "tm" : "sm", 64, 4, threaded);
        for (size_t first = 0; first < 8; first++)
            check_written_table(cas, data, len - first * 97, mixed + first, 8 - first, 64, 4);
        pond_cas_free(cas);
    }
    free(data);
}

static void test_dedup(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, true);
    size_t len = 1000;
    uint8_t *data = ct_filled(len, 3);
    pond_cas_ref a, b;
    PT_ASSERT_OK(pond_cas_put(&a, cas, data, len));
    pond_cas_writer *w;
    PT_ASSERT_OK(pond_cas_writer_new(&w, cas));
    PT_ASSERT_OK(pond_cas_writer_write(w, data, 500));
    PT_ASSERT_OK(pond_cas_writer_write(w, data + 500, 500));
    PT_ASSERT_OK(pond_cas_writer_finish(&b, w));
    PT_ASSERT(pond_cas_writer_deduplicated(w));
    PT_ASSERT_ERR(pond_cas_writer_finish(&b, w), POND_EINVALID);
    pond_cas_writer_free(w);
    PT_ASSERT(pond_hash_equal(&a.sha256, &b.sha256));
    PT_ASSERT(pond_hash_equal(&a.root, &b.root));
    PT_ASSERT_INT_EQ(a.size, b.size);
    ct_counts c = ct_count(cas, 0);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_BLOB], 1);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 0);
    uint8_t *ra = read_all(cas, &a, 100), *rb = read_all(cas, &b, 333);
    PT_ASSERT_MEM_EQ(ra, data, len);
    PT_ASSERT_MEM_EQ(rb, data, len);
    free(ra);
    free(rb);
    /* different content is a different blob */
    data[999] ^= 1;
    PT_ASSERT_OK(pond_cas_put(&b, cas, data, len));
    PT_ASSERT(!pond_hash_equal(&a.sha256, &b.sha256));
    PT_ASSERT_INT_EQ(ct_count(cas, 0).n[POND_CAS_ENTRY_BLOB], 2);
    free(data);
    pond_cas_free(cas);
}

static void test_random_access(void)
{
    pond_cas *cas = ct_store("lf", 64, 4, false);
    size_t len = 64 * 23 + 5;
    uint8_t *data = malloc(len), *buf = malloc(len + 100);
    ct_fill(data, len, 11);
    pond_cas_ref ref;
    PT_ASSERT_OK(pond_cas_put(&ref, cas, data, len));
    pond_cas_reader *r;
    PT_ASSERT_OK(pond_cas_reader_open(&r, cas, &ref));
    uint64_t x = 99;
    for (int k = 0; k < 500; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t off = (size_t)(x % (len + 10)), n = (size_t)((x >> 20) % 300);
        size_t got;
        PT_ASSERT_OK(pond_cas_reader_read_at(r, buf, n, (int64_t)off, &got));
        size_t want = off >= len ? 0 : POND_MIN(n, len - off);
        PT_ASSERT_INT_EQ(got, want);
        if (want)
            PT_ASSERT_MEM_EQ(buf, data + off, want);
    }
    /* footer first, as a Parquet reader does: seek to the end, then read backwards */
    int64_t pos;
    PT_ASSERT_OK(pond_cas_reader_seek(&pos, r, -8, SEEK_END));
    PT_ASSERT_INT_EQ(pos, (int64_t)len - 8);
    size_t got;
    PT_ASSERT_OK(pond_cas_reader_read(r, buf, 100, &got));
    PT_ASSERT_INT_EQ(got, 8);
    PT_ASSERT_MEM_EQ(buf, data + len - 8, 8);
    PT_ASSERT_OK(pond_cas_reader_read(r, buf, 100, &got));
    PT_ASSERT_INT_EQ(got, 0);
    PT_ASSERT_OK(pond_cas_reader_seek(&pos, r, 10, SEEK_SET));
    PT_ASSERT_OK(pond_cas_reader_seek(&pos, r, 90, SEEK_CUR));
    PT_ASSERT_INT_EQ(pos, 100);
    PT_ASSERT_OK(pond_cas_reader_read(r, buf, 200, &got));
    PT_ASSERT_INT_EQ(got, 200);
    PT_ASSERT_MEM_EQ(buf, data + 100, 200);
    PT_ASSERT_ERR(pond_cas_reader_seek(&pos, r, -1, SEEK_SET), POND_EINVALID);
    PT_ASSERT_OK(pond_cas_reader_seek(&pos, r, 1000000, SEEK_SET));
    PT_ASSERT_OK(pond_cas_reader_read(r, buf, 10, &got));
    PT_ASSERT_INT_EQ(got, 0);
    /* one read of the whole blob */
    PT_ASSERT_OK(pond_cas_reader_read_at(r, buf, len + 100, 0, &got));
    PT_ASSERT_INT_EQ(got, len);
    PT_ASSERT_MEM_EQ(buf, data, len);
    pond_cas_reader_free(r);
    free(data);
    free(buf);
    pond_cas_free(cas);
}

/* Reads chunk i alone (and, separately, through a multi-chunk read); returns the rc. */
static int read_chunk_rc(pond_cas *cas, const pond_cas_ref *ref, size_t chunk, size_t i)
{
    pond_cas_reader *r;
    PT_ASSERT_OK(pond_cas_reader_open(&r, cas, ref));
    uint8_t buf[256];
    size_t got;
    memset(buf, 0xAA, sizeof buf);
    int rc = pond_cas_reader_read_at(r, buf, 3, (int64_t)(i * chunk + 1), &got);
    if (rc < 0) {
        PT_ASSERT_INT_EQ(got, 0);
        for (size_t k = 0; k < sizeof buf; k++)
            PT_ASSERT(buf[k] == 0xAA); /* nothing reached the caller */
    }
    /* a second read of the same chunk fails again (a failed chunk is never cached) */
    int rc2 = pond_cas_reader_read_at(r, buf, 1, (int64_t)(i * chunk), &got);
    PT_ASSERT_INT_EQ(rc2, rc);
    pond_cas_reader_free(r);
    return rc;
}

static void test_corrupt_byte(void)
{
    const size_t C = 64;
    pond_cas *cas = ct_store("lf", C, 4, true);
    size_t len = C * 12;
    uint8_t *data = malloc(len), *other = malloc(len), *buf = malloc(len);
    ct_fill(data, len, 5);
    ct_fill(other, len, 6);
    pond_cas_ref ref, ref2;
    PT_ASSERT_OK(pond_cas_put(&ref, cas, data, len));
    PT_ASSERT_OK(pond_cas_put(&ref2, cas, other, len));
    char *bp = ct_blob_path(cas, &ref.sha256, "");
    ct_flip(bp, 5 * C + 10);
    char hex[65];
    pond_hash_hex(hex, &ref.sha256);
    for (size_t i = 0; i < 12; i++) {
        int rc = read_chunk_rc(cas, &ref, C, i);
        PT_ASSERT_INT_EQ(rc, i == 5 ? POND_ECORRUPT : 0);
        if (i == 5) {
            PT_ASSERT_MSG_HAS(hex);
            PT_ASSERT_MSG_HAS("chunk 5 ");
        }
    }
    /* a whole-blob read fails, wipes what it wrote (the good chunks before the bad one and the
     * bad one, verified in place) and writes nothing after the bad chunk */
    pond_cas_reader *r;
    PT_ASSERT_OK(pond_cas_reader_open(&r, cas, &ref));
    size_t got;
    memset(buf, 0xAA, len);
    PT_ASSERT_ERR(pond_cas_reader_read(r, buf, len, &got), POND_ECORRUPT);
    PT_ASSERT_INT_EQ(got, 0);
    for (size_t k = 0; k < len; k++)
        PT_ASSERT_INT_EQ(buf[k], k < 6 * C ? 0 : 0xAA);
    /* the position did not move: reading the good prefix works */
    PT_ASSERT_OK(pond_cas_reader_read(r, buf, 5 * C, &got));
    PT_ASSERT_INT_EQ(got, 5 * C);
    PT_ASSERT_MEM_EQ(buf, data, 5 * C);
    pond_cas_reader_free(r);
    /* fsck names the chunk too; the other blob is unaffected */
    pond_cas_ref v;
    PT_ASSERT_ERR(pond_cas_verify(&v, cas, &ref.sha256), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("chunk 5 ");
    PT_ASSERT_OK(pond_cas_verify(&v, cas, &ref2.sha256));
    PT_ASSERT(pond_hash_equal(&v.root, &ref2.root));
    uint8_t *o = read_all(cas, &ref2, 1000);
    PT_ASSERT_MEM_EQ(o, other, len);
    free(o);
    /* writing the content again heals the damaged copy */
    PT_ASSERT_OK(pond_cas_put(&v, cas, data, len));
    PT_ASSERT_OK(read_chunk_rc(cas, &ref, C, 5));
    free(bp);
    free(data);
    free(other);
    free(buf);
    pond_cas_free(cas);
}

/* The blob file's bytes read plainly, without the store (the reference for the reader). */
static uint8_t *plain_blob(pond_cas *cas, const pond_hash *sha, size_t len)
{
    char *bp = ct_blob_path(cas, sha, "");
    uint8_t *p = malloc(len + 1);
    PT_ASSERT(p);
    int fd = open(bp, O_RDONLY);
    PT_ASSERT(fd >= 0);
    PT_ASSERT_INT_EQ(pread(fd, p, len + 1, 0), (ssize_t)len);
    close(fd);
    free(bp);
    return p;
}

/* Reads at and around chunk edges, with the reader's cached chunk in every state: a chunk a
 * read covers whole is verified in the caller's buffer, a partial one in the reader's; both
 * give the blob file's bytes, and nothing is written past what the read returns. */
static void test_read_chunk_edges(void)
{
    const size_t C = 64;
    pond_cas *cas = ct_store("lf", C, 4, false);
    const size_t len = C * 9 + 17;
    uint8_t *data = ct_filled(len, 21);
    pond_cas_ref ref;
    PT_ASSERT_OK(pond_cas_put(&ref, cas, data, len));
    uint8_t *plain = plain_blob(cas, &ref.sha256, len);
    PT_ASSERT_MEM_EQ(plain, data, len);
    const size_t cap = len + 2 * C;
    uint8_t *buf = malloc(cap);
    PT_ASSERT(buf);
    size_t offs[64], lens[32], no = 0, nl = 0;
    for (size_t k = 0; k <= len / C + 1; k++)
        for (int d = -2; d <= 2; d++)
            if ((int64_t)(k * C) + d >= 0)
                offs[no++] = (size_t)((int64_t)(k * C) + d);
    offs[no++] = len - 1;
    offs[no++] = len;
    for (size_t j = 0; j <= 3; j++)
        for (int e = -1; e <= 1; e++)
            if ((int64_t)(j * C) + e >= 0)
                lens[nl++] = (size_t)((int64_t)(j * C) + e);
    lens[nl++] = len;
    lens[nl++] = len + C;
    pond_cas_reader *r;
    PT_ASSERT_OK(pond_cas_reader_open(&r, cas, &ref));
    uint64_t x = 7;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t a = 0; a < no; a++)
            for (size_t b = 0; b < nl; b++) {
                size_t off = offs[a], n = lens[b];
                if (pass == 1) { /* random reads, to vary what the reader has cached */
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                    off = (size_t)(x % (len + 3));
                    n = (size_t)((x >> 24) % (4 * C + 3));
                }
                memset(buf, 0x5A, cap);
                size_t got = 99;
                PT_ASSERT_OK(pond_cas_reader_read_at(r, buf, n, (int64_t)off, &got));
                size_t want = off >= len ? 0 : POND_MIN(n, len - off);
                PT_ASSERT_INT_EQ(got, want);
                if (want)
                    PT_ASSERT_MEM_EQ(buf, plain + off, want);
                for (size_t k = want; k < cap; k++)
                    PT_ASSERT_INT_EQ(buf[k], 0x5A);
            }
    }
    pond_cas_reader_free(r);
    free(buf);
    free(plain);
    free(data);
    pond_cas_free(cas);
}

/* A damaged chunk read through the caller's buffer (whole chunks) and through the reader's
 * (a partial first chunk): the read fails naming blob and chunk, every byte it wrote is wiped,
 * nothing after the bad chunk is touched, and the reader still serves the good chunks. */
static void test_corrupt_in_place(void)
{
    const size_t C = 64;
    pond_cas *cas = ct_store("lf", C, 4, false);
    const size_t len = C * 8;
    uint8_t *data = ct_filled(len, 22), *buf = malloc(len);
    PT_ASSERT(buf);
    pond_cas_ref ref;
    PT_ASSERT_OK(pond_cas_put(&ref, cas, data, len));
    char *bp = ct_blob_path(cas, &ref.sha256, "");
    ct_flip(bp, 3 * C + 7);
    char hex[65];
    pond_hash_hex(hex, &ref.sha256);
    struct {
        size_t off, n, wiped; /* the read, and how many of its bytes are wiped (the rest 0xAA) */
    } cases[] = {
        {0, len, 4 * C},               /* chunks 0-2 verified in place, then chunk 3 fails */
        {3 * C, C, C},                 /* exactly the bad chunk */
        {2 * C + 5, 3 * C, 2 * C - 5}, /* chunk 2 partial (cached), chunk 3 whole */
        {3 * C + 1, C, 0},             /* the bad chunk partial: nothing of it reaches buf */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        pond_cas_reader *r;
        PT_ASSERT_OK(pond_cas_reader_open(&r, cas, &ref));
        memset(buf, 0xAA, len);
        size_t got = 99;
        PT_ASSERT_ERR(pond_cas_reader_read_at(r, buf, cases[c].n, (int64_t)cases[c].off, &got),
                      POND_ECORRUPT);
        PT_ASSERT_MSG_HAS(hex);
        PT_ASSERT_MSG_HAS("chunk 3 (offset 192, 64 bytes): sha-256 mismatch");
        PT_ASSERT_INT_EQ(got, 0);
        size_t wiped = cases[c].wiped;
        for (size_t k = 0; k < len; k++)
            PT_ASSERT_INT_EQ(buf[k], k < wiped ? 0 : 0xAA);
        /* the chunks around it still read, through both paths */
        PT_ASSERT_OK(pond_cas_reader_read_at(r, buf, 3 * C, 0, &got));
        PT_ASSERT_INT_EQ(got, 3 * C);
        PT_ASSERT_MEM_EQ(buf, data, 3 * C);
        PT_ASSERT_OK(pond_cas_reader_read_at(r, buf, C + 3, 4 * C, &got));
        PT_ASSERT_INT_EQ(got, C + 3);
        PT_ASSERT_MEM_EQ(buf, data + 4 * C, C + 3);
        pond_cas_reader_free(r);
    }
    free(bp);
    free(buf);
    free(data);
    pond_cas_free(cas);
}

static void test_truncated_and_replaced(void)
{
    const size_t C = 64;
    pond_cas *cas = ct_store("lf", C, 4, true);
    size_t len = C * 10;
    uint8_t *a = malloc(len), *b = malloc(len);
    ct_fill(a, len, 1);
    ct_fill(b, len, 2);
    b[0] = a[0]; /* chunk 0 differs anyway except... keep chunks 1.. different */
    memcpy(b + 3 * C, a + 3 * C, C); /* chunk 3 identical in both blobs */
    pond_cas_ref ra, rb;
    PT_ASSERT_OK(pond_cas_put(&ra, cas, a, len));
    PT_ASSERT_OK(pond_cas_put(&rb, cas, b, len));
    char *pa = ct_blob_path(cas, &ra.sha256, ""), *pb = ct_blob_path(cas, &rb.sha256, "");
    /* truncate a in the middle of chunk 7: chunks 7.. fail, 0..6 read */
    PT_ASSERT(chmod(pa, 0644) == 0);
    PT_ASSERT(truncate(pa, (off_t)(7 * C + 20)) == 0);
    for (size_t i = 0; i < 10; i++) {
        int rc = read_chunk_rc(cas, &ra, C, i);
        PT_ASSERT_INT_EQ(rc, i >= 7 ? POND_ECORRUPT : 0);
        if (i == 7)
            PT_ASSERT_MSG_HAS("chunk 7 ");
    }
    pond_cas_ref v;
    PT_ASSERT_ERR(pond_cas_verify(&v, cas, &ra.sha256), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("chunk 7 ");
    /* replace a's bytes by b's: every chunk but the shared one fails */
    PT_ASSERT(unlink(pa) == 0);
    PT_ASSERT(link(pb, pa) == 0);
    for (size_t i = 0; i < 10; i++)
        PT_ASSERT_INT_EQ(read_chunk_rc(cas, &ra, C, i), i == 3 ? 0 : POND_ECORRUPT);
    /* replace the table as well: a's root no longer matches, nothing opens */
    char *ta = ct_blob_path(cas, &ra.sha256, ".chunks"),
         *tb = ct_blob_path(cas, &rb.sha256, ".chunks");
    PT_ASSERT(unlink(ta) == 0);
    PT_ASSERT(link(tb, ta) == 0);
    pond_cas_reader *r = NULL;
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &ra), POND_ECORRUPT);
    PT_ASSERT(r == NULL);
    PT_ASSERT_MSG_HAS("root");
    /* b still reads */
    uint8_t *got = read_all(cas, &rb, 4096);
    PT_ASSERT_MEM_EQ(got, b, len);
    free(got);
    free(pa), free(pb), free(ta), free(tb), free(a), free(b);
    pond_cas_free(cas);
}

static void test_corrupt_table(void)
{
    const size_t C = 64;
    pond_cas *cas = ct_store("lf", C, 4, false);
    size_t len = C * 10; /* 10 chunks, 3 groups */
    uint8_t *a = ct_filled(len, 9);
    pond_cas_ref ref;
    PT_ASSERT_OK(pond_cas_put(&ref, cas, a, len));
    char *tp = ct_blob_path(cas, &ref.sha256, ".chunks");
    /* a chunk hash in group 1 (chunk 5): group 1's chunks fail, the others read */
    ct_flip(tp, 32 * 5 + 3);
    for (size_t i = 0; i < 10; i++) {
        int rc = read_chunk_rc(cas, &ref, C, i);
        PT_ASSERT_INT_EQ(rc, i >= 4 && i < 8 ? POND_ECORRUPT : 0);
        if (i == 4)
            PT_ASSERT_MSG_HAS("group 1");
    }
    ct_flip(tp, 32 * 5 + 3);
    PT_ASSERT_OK(read_chunk_rc(cas, &ref, C, 5));
    /* a group hash or the trailer: the root check refuses the table */
    pond_cas_reader *r;
    ct_flip(tp, 32 * 10 + 1);
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &ref), POND_ECORRUPT);
    ct_flip(tp, 32 * 10 + 1);
    ct_flip(tp, 32 * 13 + 30); /* trailer: size */
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &ref), POND_ECORRUPT);
    ct_flip(tp, 32 * 13 + 30);
    /* a wrong recorded size or root */
    pond_cas_ref bad = ref;
    bad.size++;
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &bad), POND_ECORRUPT);
    bad = ref;
    bad.root.bytes[0] ^= 1;
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &bad), POND_ECORRUPT);
    /* a truncated table */
    PT_ASSERT(truncate(tp, 32 * 13 + 63) == 0);
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &ref), POND_ECORRUPT);
    /* a missing table; a missing blob */
    PT_ASSERT(unlink(tp) == 0);
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &ref), POND_ECORRUPT);
    PT_ASSERT_MSG_HAS("missing");
    bad = ref;
    bad.sha256.bytes[0] ^= 1;
    PT_ASSERT_ERR(pond_cas_reader_open(&r, cas, &bad), POND_ENOTFOUND);
    free(tp);
    free(a);
    pond_cas_free(cas);
}

static void test_bounded_memory(void)
{
    size_t total = pt_light() ? (16u << 20) : (256u << 20);
    size_t limit = pt_light() ? (4u << 20) : (8u << 20);
    pond_cas *cas = ct_store("lf", POND_CAS_DEFAULT_CHUNK_SIZE, POND_CAS_DEFAULT_FANOUT, true);
    size_t step = 1u << 20;
    uint8_t *buf = malloc(step);
    pond_sha256 *src, *back;
    PT_ASSERT_OK(pond_sha256_new(&src));
    PT_ASSERT_OK(pond_sha256_new(&back));
    size_t base = pond_alloc_current();
    pond_alloc_reset_peak();
    pond_cas_writer *w;
    PT_ASSERT_OK(pond_cas_writer_new(&w, cas));
    for (size_t off = 0; off < total; off += step) {
        ct_fill(buf, step, off / step);
        PT_ASSERT_OK(pond_sha256_update(src, buf, step));
        PT_ASSERT_OK(pond_cas_writer_write(w, buf, step));
    }
    pond_cas_ref ref;
    PT_ASSERT_OK(pond_cas_writer_finish(&ref, w));
    pond_cas_writer_free(w);
    pond_hash want;
    PT_ASSERT_OK(pond_sha256_final(&want, src));
    PT_ASSERT(pond_hash_equal(&ref.sha256, &want));
    PT_ASSERT_INT_EQ(ref.size, (int64_t)total);
    pond_cas_reader *r;
    PT_ASSERT_OK(pond_cas_reader_open(&r, cas, &ref));
    size_t got, sum = 0;
    do {
        PT_ASSERT_OK(pond_cas_reader_read(r, buf, step - 1000, &got)); /* unaligned reads */
        PT_ASSERT_OK(pond_sha256_update(back, buf, got));
        sum += got;
    } while (got);
    pond_cas_reader_free(r);
    PT_ASSERT_INT_EQ(sum, total);
    pond_hash h;
    PT_ASSERT_OK(pond_sha256_final(&h, back));
    PT_ASSERT(pond_hash_equal(&h, &want));
    size_t peak = pond_alloc_peak() - base;
    if (peak >= limit)
        pt_fail(__FILE__, __LINE__, "peak heap %zu bytes for %zu bytes", peak, total);
    pond_sha256_free(src);
    pond_sha256_free(back);
    free(buf);
    pond_cas_free(cas);
}

typedef struct {
    pond_cas *cas;
    const uint8_t *data;
    size_t len;
    pond_cas_ref ref;
    int rc;
} put_job;

static void *put_thread(void *arg)
{
    put_job *j = arg;
    j->rc = pond_cas_put(&j->ref, j->cas, j->data, j->len);
    return NULL;
}

static void test_concurrent_same_content(void)
{
    pond_cas *cas = ct_store("lf", 4096, 16, true);
    size_t len = 300000;
    uint8_t *data = ct_filled(len, 21);
    put_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (put_job){cas, data, len, {{{0}}, {{0}}, 0}, 0};
        PT_ASSERT(pthread_create(&th[i], NULL, put_thread, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        PT_ASSERT_OK(jobs[i].rc);
        PT_ASSERT(pond_hash_equal(&jobs[i].ref.root, &jobs[0].ref.root));
    }
    ct_counts c = ct_count(cas, 0);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_BLOB], 1);
    PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 0);
    pond_cas_ref v;
    PT_ASSERT_OK(pond_cas_verify(&v, cas, &jobs[0].ref.sha256));
    free(data);
    pond_cas_free(cas);
}

static void test_bad_args(void)
{
    pond_cas *cas = NULL;
    pond_cas_options o = POND_CAS_OPTIONS_INIT;
    o.chunk_size = 8;
    PT_ASSERT_ERR(pond_cas_open(&cas, "/tmp/x", &o), POND_EINVALID);
    o = (pond_cas_options)POND_CAS_OPTIONS_INIT;
    o.fanout = 1;
    PT_ASSERT_ERR(pond_cas_open(&cas, "/tmp/x", &o), POND_EINVALID);
    o = (pond_cas_options)POND_CAS_OPTIONS_INIT;
    o.version = 99;
    PT_ASSERT_ERR(pond_cas_open(&cas, "/tmp/x", &o), POND_EINVALID);
    PT_ASSERT(cas == NULL);
    /* a store whose parent does not exist: the writer reports it */
    char *dir = pond__path_join(PT_TMPDIR(), "no/such/dir");
    PT_ASSERT_OK(pond_cas_open(&cas, dir, NULL));
    pond_cas_writer *w = NULL;
    PT_ASSERT_ERR(pond_cas_writer_new(&w, cas), POND_ENOTFOUND);
    PT_ASSERT(w == NULL);
    pond_cas_free(cas);
    pond_free(dir);
}

/* The zero-copy face (pond_cas_writer_buffer/commit: a producer reads straight into the
 * writer's chunk buffers), mixed with pond_cas_writer_write in uneven pieces, stores the same
 * blob with the same chunk table as one write of the same bytes, threaded or not; a commit
 * without a buffer, or of more than the buffer holds, is refused. */
static void test_writer_buffer(void)
{
    for (int threaded = 0; threaded < 2; threaded++) {
        pond_cas *cas = ct_store(threaded ? "t" : "u", 64, 4, threaded);
        size_t len = 64 * 37 + 13;
        uint8_t *data = ct_filled(len, 7);
        pond_cas_ref want, got;
        PT_ASSERT_OK(pond_cas_put(&want, cas, data, len));
        pond_cas_writer *w;
        PT_ASSERT_OK(pond_cas_writer_new(&w, cas));
        static const size_t steps[] = {1, 5, 64, 100, 0, 63, 200};
        size_t off = 0;
        for (size_t i = 0; off < len; i++) {
            size_t k = POND_MIN(steps[i % POND_ARRAY_LEN(steps)], len - off);
            if (i % 3 == 2) {
                PT_ASSERT_OK(pond_cas_writer_write(w, data + off, k));
            } else {
                void *p;
                size_t cap;
                PT_ASSERT_OK(pond_cas_writer_buffer(&p, &cap, w));
                PT_ASSERT(cap > 0 && cap <= 64);
                k = POND_MIN(k, cap);
                memcpy(p, data + off, k);
                PT_ASSERT_OK(pond_cas_writer_commit(w, k));
            }
            off += k;
        }
        PT_ASSERT_OK(pond_cas_writer_finish(&got, w));
        pond_cas_writer_free(w);
        PT_ASSERT(pond_hash_equal(&got.sha256, &want.sha256));
        PT_ASSERT(pond_hash_equal(&got.root, &want.root));
        PT_ASSERT_INT_EQ(got.size, (int64_t)len);
        uint8_t *back = read_all(cas, &got, 64);
        PT_ASSERT_MEM_EQ(back, data, len);
        free(back);
        /* misuse is refused, and the writer's error sticks */
        PT_ASSERT_OK(pond_cas_writer_new(&w, cas));
        PT_ASSERT_ERR(pond_cas_writer_commit(w, 1), POND_EINVALID);
        PT_ASSERT_MSG_HAS("without a buffer");
        PT_ASSERT(pond_cas_writer_finish(&got, w) < 0);
        pond_cas_writer_free(w);
        PT_ASSERT_OK(pond_cas_writer_new(&w, cas));
        void *p;
        size_t cap;
        PT_ASSERT_OK(pond_cas_writer_buffer(&p, &cap, w));
        PT_ASSERT_ERR(pond_cas_writer_commit(w, cap + 1), POND_EINVALID);
        pond_cas_writer_free(w);
        /* a buffer lent before finish commits nothing after it */
        PT_ASSERT_OK(pond_cas_writer_new(&w, cas));
        PT_ASSERT_OK(pond_cas_writer_buffer(&p, &cap, w));
        PT_ASSERT_OK(pond_cas_writer_finish(&got, w));
        PT_ASSERT_ERR(pond_cas_writer_commit(w, 1), POND_EINVALID);
        PT_ASSERT_MSG_HAS("already finished");
        pond_cas_writer_free(w);
        /* nothing of the refused writers is left in tmp/ */
        ct_counts c = ct_count(cas, 0);
        PT_ASSERT_INT_EQ(c.n[POND_CAS_ENTRY_TEMP], 0);
        free(data);
        pond_cas_free(cas);
    }
}

PT_SUITE(cas_rw, PT_TEST(roundtrip_small), PT_TEST(empty_blob), PT_TEST(root_matches_spec),
         PT_TEST(dedup), PT_TEST(random_access), PT_TEST(corrupt_byte),
         PT_TEST(truncated_and_replaced), PT_TEST(corrupt_table), PT_TEST(bounded_memory),
         PT_TEST(concurrent_same_content), PT_TEST(bad_args), PT_TEST(writer_buffer),
         PT_TEST(read_chunk_edges), PT_TEST(corrupt_in_place))
