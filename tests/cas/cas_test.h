/* Helpers shared by the cas test files. */
#ifndef POND_TESTS_CAS_TEST_H
#define POND_TESTS_CAS_TEST_H

#include <pond/cas.h>

typedef struct {
    int n[4];
    int stale[4];
    int blobs_with_chunks;
} ct_counts;

/* Deterministic pseudo-random bytes. */
void ct_fill(uint8_t *buf, size_t len, uint64_t seed);
/* malloc(len) filled by ct_fill (asserts); free() it. */
uint8_t *ct_filled(size_t len, uint64_t seed);
/* Opens <tmpdir>/<name> with the given parameters (asserts). */
pond_cas *ct_store(const char *name, uint32_t chunk, uint32_t fanout, bool threaded);
/* Counts foreach entries by kind. */
ct_counts ct_count(pond_cas *cas, int64_t grace_us);
/* The blob path plus a suffix ("" or ".chunks"), malloc'd. */
char *ct_blob_path(pond_cas *cas, const pond_hash *sha, const char *suffix);
/* Flips one bit of the byte at off (making the file writable first). */
void ct_flip(const char *path, int64_t off);
/* Sets a file's mtime to age_s seconds ago (asserts). */
void ct_age(const char *path, int age_s);

#endif
