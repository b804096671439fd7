/*
 * The pure logic of the encrypt and decrypt transforms (AES-256-GCM with
 * OpenSSL EVP, optional zstd first): keyrings, one value sealed into an
 * envelope and opened again, whole documents and chosen paths. No plugin
 * state here, so the unit tests call it directly (docs/plugins/transform-crypt.md).
 *
 * An envelope is the JSON object
 *   {"enc":"aes-256-gcm","kid":ID,["zip":"zstd",]"iv":B64,"tag":B64,"data":B64}
 * where data is the ciphertext of the value's compact JSON serialization.
 * The associated data binds the algorithm, the key id, the compression, the
 * record key, the record version and the path of the value, so a payload
 * moved to another record, version or place fails authentication.
 */
#ifndef RDAPSYNC_CRYPT_H
#define RDAPSYNC_CRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#define CRYPT_KEY_BYTES 32
#define CRYPT_IV_BYTES 12
#define CRYPT_TAG_BYTES 16
#define CRYPT_KID_MAX 64
#define CRYPT_ALGORITHM "aes-256-gcm"

typedef struct crypt_key {
    char id[CRYPT_KID_MAX + 1];
    unsigned char key[CRYPT_KEY_BYTES];
} crypt_key;

/* Keys in file order: the last one is the newest and encrypts. */
typedef struct keyring {
    crypt_key *keys; /* owned, wiped on free */
    size_t count;
} keyring;

/*
 * Parses keyring text: one "ID:BASE64" per line (ID [A-Za-z0-9._-]{1,64},
 * BASE64 of exactly 32 bytes), blank lines and lines starting with '#'
 * ignored, ids unique, at least one key. NULL with "line N: reason" in err
 * (never a key byte). Caller frees with keyring_free().
 */
keyring *keyring_parse(const char *text, char *err, size_t err_size);
void keyring_free(keyring *ring); /* NULL-safe; wipes the keys */
const crypt_key *keyring_find(const keyring *ring, const char *id); /* borrowed or NULL */
const crypt_key *keyring_newest(const keyring *ring);               /* borrowed */

/* What a sealed value is bound to (all borrowed). key may be NULL. */
typedef struct crypt_binding {
    const char *key;
    size_t key_len;
    const rdapsync_version *version;
    const char *path; /* "$" for the whole document */
} crypt_binding;

typedef struct crypt_seal_options {
    const crypt_key *key;
    bool zstd;
    int zstd_level;
} crypt_seal_options;

/*
 * Seals `value` (its compact serialization) into a new envelope object with
 * a fresh random IV. Caller owns the result. NULL with err on failure
 * (allocation, the random generator, a value over 2 GiB).
 */
rdapsync_value *crypt_seal(const rdapsync_host *host, const crypt_seal_options *options, const rdapsync_value *value,
                           const crypt_binding *binding, char *err, size_t err_size);

/* True when `value` is an object with "enc" and "data" members: an envelope
 * (possibly a broken one, which crypt_unseal then refuses). */
bool crypt_is_envelope(const rdapsync_json_api *json, const rdapsync_value *value);

/*
 * Opens an envelope sealed for `binding` with a key of `ring` and parses the
 * plaintext. Caller owns the result. NULL with a reason in err when the
 * envelope is malformed, names an unknown key id, fails authentication (a
 * changed byte anywhere, another record or path) or would exceed max_size
 * bytes decompressed.
 */
rdapsync_value *crypt_unseal(const rdapsync_host *host, const keyring *ring, const rdapsync_value *envelope,
                             const crypt_binding *binding, size_t max_size, char *err, size_t err_size);

/* Path selection for encrypt: JSONPath in jpath's spelling, "[*]" for any index. */
typedef struct crypt_paths {
    char *const *items; /* borrowed */
    size_t count;       /* 0: the whole document */
} crypt_paths;

/* Checks configured paths: each starts with "$". 0, or -1 with err. */
int crypt_paths_check(const crypt_paths *paths, char *err, size_t err_size);

/*
 * Encrypts the record's document: whole (no paths, or a path "$") or the
 * values at the paths (those absent are skipped). *doc may be replaced (the
 * old one released). *sealed gets the number of envelopes written. 0, or -1
 * with err; on failure the document may be half encrypted.
 */
int crypt_encrypt_document(const rdapsync_host *host, const crypt_seal_options *options, const crypt_paths *paths,
                           rdapsync_value **doc, const crypt_binding *record, size_t *sealed, char *err,
                           size_t err_size);

/*
 * Decrypts every envelope in the document (the root, or any value down to
 * max_depth). All or nothing: on failure (-1 with "PATH: reason" in err)
 * the document is left exactly as it was, still encrypted. *doc may be
 * replaced. *opened gets the number of envelopes opened.
 */
int crypt_decrypt_document(const rdapsync_host *host, const keyring *ring, size_t max_size, int max_depth,
                           rdapsync_value **doc, const crypt_binding *record, size_t *opened, char *err,
                           size_t err_size);

#endif
