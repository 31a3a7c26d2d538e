/* pond: SHA-256 (OpenSSL EVP underneath). */
#ifndef POND_HASH_H
#define POND_HASH_H

#include "common.h"

typedef struct {
    uint8_t bytes[32];
} pond_hash;

typedef struct pond_sha256 pond_sha256;

POND_API int pond_sha256_new(pond_sha256 **out);
POND_API int pond_sha256_update(pond_sha256 *h, const void *data, size_t len);
/** Writes the digest; the context may then be reset with pond_sha256_reset. */
POND_API int pond_sha256_final(pond_hash *out, pond_sha256 *h);
POND_API int pond_sha256_reset(pond_sha256 *h);
POND_API void pond_sha256_free(pond_sha256 *h);

/** One-shot digest of a buffer. */
POND_API int pond_sha256_buf(pond_hash *out, const void *data, size_t len);

/** Lowercase hex (65 bytes with the NUL). */
POND_API void pond_hash_hex(char out[65], const pond_hash *h);
/** Parse 64 hex characters; POND_EINVALID otherwise. */
POND_API int pond_hash_from_hex(pond_hash *out, const char *hex);
POND_API bool pond_hash_equal(const pond_hash *a, const pond_hash *b);

#endif
