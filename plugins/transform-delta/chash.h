/*
 * The delta transform's content hash: a digest fed in blocks, of one of two
 * kinds. `xxh3-128` (the default) is XXH3-128 (libxxhash) keyed with a
 * random secret made with the state and kept in it (dstate.h): about
 * twenty times cheaper than SHA-256 here, and a collision, which would
 * silently skip a changed document, needs either chance (2^-128 a pair) or
 * an input made with the secret, which never leaves the state directory.
 * `sha256` (OpenSSL) is for whoever wants a cryptographic guarantee
 * against inputs crafted with full knowledge of the state.
 * The digest is always CHASH_BYTES long: XXH3-128's 16 bytes are followed
 * by 16 zero bytes, so that the state keeps one hash size.
 */
#ifndef RDAPSYNC_CHASH_H
#define RDAPSYNC_CHASH_H

#include <stddef.h>
#include <string.h>

#define CHASH_BYTES 32
#define CHASH_KEY_BYTES 192 /* the XXH3 secret: its default size, 64 bytes over the minimum */

typedef struct chash chash;

/* How many key bytes the hash named `name` ("xxh3-128" or "sha256") takes
 * from the state (0: none, or an unknown name). */
size_t chash_key_bytes(const char *name);

/* A hash context of kind `name` keyed with `key` (chash_key_bytes(name)
 * bytes, borrowed for the context's life). NULL when out of memory or the
 * name is unknown. Caller frees with chash_free(). */
chash *chash_new(const char *name, const unsigned char *key);
void chash_free(chash *h);

/* Starts a digest: 0 or -1. */
int chash_begin(chash *h);

/* Feeds bytes: most calls add a few bytes to a buffer (inline), long ones
 * go to the digest directly. 0 or -1. */
int chash_update(chash *h, const void *bytes, size_t len);

/* Ends the digest into out: 0 or -1. */
int chash_end(chash *h, unsigned char out[CHASH_BYTES]);

/* The block the inline feed fills: many small updates cost more than the
 * hashing itself. Exposed for chash_feed only. */
typedef struct chash_buffer {
    chash *h;
    size_t len;
    unsigned char buf[4096];
} chash_buffer;

/* Sends the buffered bytes to the digest. 0 or -1. */
int chash_buffer_flush(chash_buffer *b);

static inline int chash_feed(chash_buffer *b, const void *bytes, size_t len)
{
    if (b->len + len > sizeof b->buf || len >= 512) {
        /* A long string is hashed where it lies: copying it first costs
         * a third of hashing it. */
        if (chash_buffer_flush(b) != 0)
            return -1;
        if (len >= 512)
            return chash_update(b->h, bytes, len);
    }
    memcpy(b->buf + b->len, bytes, len);
    b->len += len;
    return 0;
}

#endif
