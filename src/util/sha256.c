#include <pond/hash.h>

#include "util/util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

/* OpenSSL's default initialisation reads openssl.cnf on first use (a few ms for every CLI
 * command); pond needs nothing from it. */
static pthread_once_t g_ossl_once = PTHREAD_ONCE_INIT;
/* SHA-256 fetched once: passing EVP_sha256() makes OpenSSL 3 look the algorithm up in its
 * providers again on every digest, which cost more than hashing a small inline content (a
 * partition of 10,000 series versions spent 9% of its load there). */
static EVP_MD *g_sha256_md;
static void ossl_init(void)
{
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    g_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256_md(void)
{
    pthread_once(&g_ossl_once, ossl_init);
    return g_sha256_md ? g_sha256_md : EVP_sha256();
}

struct pond_sha256 {
    EVP_MD_CTX *ctx;
};

int pond_sha256_new(pond_sha256 **out)
{
    *out = NULL;
    const EVP_MD *md = sha256_md();
    pond_sha256 *h = pond_calloc(1, sizeof *h);
    if (!h)
        return POND_ENOMEM;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
        pond_sha256_free(h);
        return pond_error_set(POND_ENOMEM, POND_DOM_UTIL, "sha256: cannot create digest context");
    }
    *out = h;
    return 0;
}

int pond_sha256_update(pond_sha256 *h, const void *data, size_t len)
{
    if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
        return pond_error_set(POND_ERROR, POND_DOM_UTIL, "sha256: update failed");
    return 0;
}

int pond_sha256_final(pond_hash *out, pond_sha256 *h)
{
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(h->ctx, out->bytes, &n) != 1 || n != 32)
        return pond_error_set(POND_ERROR, POND_DOM_UTIL, "sha256: final failed");
    return 0;
}

int pond_sha256_reset(pond_sha256 *h)
{
    if (EVP_DigestInit_ex(h->ctx, sha256_md(), NULL) != 1)
        return pond_error_set(POND_ERROR, POND_DOM_UTIL, "sha256: reset failed");
    return 0;
}

void pond_sha256_free(pond_sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    pond_free(h);
}

int pond_sha256_buf(pond_hash *out, const void *data, size_t len)
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out->bytes, &n, sha256_md(), NULL) != 1 || n != 32)
        return pond_error_set(POND_ERROR, POND_DOM_UTIL, "sha256: digest failed");
    return 0;
}

void pond_hash_hex(char out[65], const pond_hash *h) { pond__hex_encode(out, h->bytes, 32); }

int pond_hash_from_hex(pond_hash *out, const char *hex)
{
    if (pond__hex_decode(out->bytes, hex, 32) < 0)
        return pond_error_set(POND_EINVALID, POND_DOM_UTIL, "bad sha256 hex '%.64s'", hex);
    if (hex[64] != '\0')
        return pond_error_set(POND_EINVALID, POND_DOM_UTIL, "bad sha256 hex: too long");
    return 0;
}

bool pond_hash_equal(const pond_hash *a, const pond_hash *b)
{
    return memcmp(a->bytes, b->bytes, 32) == 0;
}
