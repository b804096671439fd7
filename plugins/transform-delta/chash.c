/* The delta transform's content hash (chash.h). */
#include "chash.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <xxhash.h>

enum kind { XXH3_128, SHA256 };

struct chash {
    enum kind kind;
    const unsigned char *key;
    XXH3_state_t *xxh;
    EVP_MD_CTX *md;
    EVP_MD *sha256; /* fetched once: an implicit fetch per digest costs more than a small document's hashing */
};

_Static_assert(CHASH_KEY_BYTES >= XXH3_SECRET_SIZE_MIN, "an XXH3 secret is at least its minimum size");

static int kind_of(const char *name, enum kind *kind)
{
    if (name && strcmp(name, "xxh3-128") == 0)
        *kind = XXH3_128;
    else if (name && strcmp(name, "sha256") == 0)
        *kind = SHA256;
    else
        return -1;
    return 0;
}

size_t chash_key_bytes(const char *name)
{
    enum kind k;
    return kind_of(name, &k) == 0 && k == XXH3_128 ? CHASH_KEY_BYTES : 0;
}

chash *chash_new(const char *name, const unsigned char *key)
{
    chash *h = calloc(1, sizeof *h);
    if (!h || kind_of(name, &h->kind) != 0) {
        free(h);
        return NULL;
    }
    h->key = key;
    if (h->kind == XXH3_128 ? !key || !(h->xxh = XXH3_createState())
                            : !(h->md = EVP_MD_CTX_new()) || !(h->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL))) {
        chash_free(h);
        return NULL;
    }
    return h;
}

void chash_free(chash *h)
{
    if (!h)
        return;
    XXH3_freeState(h->xxh);
    EVP_MD_CTX_free(h->md);
    EVP_MD_free(h->sha256);
    free(h);
}

int chash_begin(chash *h)
{
    if (h->kind == XXH3_128)
        return XXH3_128bits_reset_withSecret(h->xxh, h->key, CHASH_KEY_BYTES) == XXH_OK ? 0 : -1;
    return EVP_DigestInit_ex2(h->md, h->sha256, NULL) == 1 ? 0 : -1;
}

int chash_update(chash *h, const void *bytes, size_t len)
{
    if (h->kind == XXH3_128)
        return XXH3_128bits_update(h->xxh, bytes, len) == XXH_OK ? 0 : -1;
    return EVP_DigestUpdate(h->md, bytes, len) == 1 ? 0 : -1;
}

int chash_end(chash *h, unsigned char out[CHASH_BYTES])
{
    if (h->kind == XXH3_128) {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->xxh));
        memset(out, 0, CHASH_BYTES);
        memcpy(out, c.digest, sizeof c.digest);
        return 0;
    }
    unsigned int n = 0;
    return EVP_DigestFinal_ex(h->md, out, &n) == 1 && n == CHASH_BYTES ? 0 : -1;
}

int chash_buffer_flush(chash_buffer *b)
{
    int rc = b->len && chash_update(b->h, b->buf, b->len) != 0 ? -1 : 0;
    b->len = 0;
    return rc;
}
