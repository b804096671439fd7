/*
 * The cryptography of the audit trail (docs/compliance.md): the hash chain,
 * keyed hashes of data subjects and the Ed25519 signature of a chain head.
 * Shared by the writer (audit_log.c), the verifier (audit_verify.c) and the
 * suppression list. All of it is OpenSSL's libcrypto.
 *
 * A line of the trail is one JSON object whose last two members are
 * "prev" (the previous line's hash, or 64 zeros for the first) and "hash",
 * optionally followed by "sig". The entry a hash covers is the line's text
 * up to `,"hash":` with a closing brace: the exact bytes written, so no
 * canonical form of JSON is needed to check it.
 */
#ifndef RDAPSYNC_HOST_AUDIT_CHAIN_H
#define RDAPSYNC_HOST_AUDIT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#define AUDIT_HASH_HEX 65 /* 64 hex digits and a NUL */
#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* hex(SHA-256(prev_hex "\n" entry)) into out. 0, or -1 if libcrypto fails. */
int audit_chain_hash(const char *prev_hex, const char *entry, size_t entry_len, char out[AUDIT_HASH_HEX]);

/* hex(HMAC-SHA-256(key, text)) into out: how a data subject is written
 * anywhere on disk. 0 or -1. */
int audit_keyed_hash(const unsigned char *key, size_t key_len, const char *text, char out[AUDIT_HASH_HEX]);

/* Where the entry of `line` (len bytes, no newline) ends: the offset of its
 * `,"hash":"` member. -1 if the line has none. */
long audit_entry_end(const char *line, size_t len);

typedef struct evp_pkey_st audit_key; /* OpenSSL's EVP_PKEY */

/* An Ed25519 key from a PEM file: private (signing) or public (checking).
 * NULL with a reason in err. Free with audit_key_free(). */
audit_key *audit_key_load(const char *pem_path, bool private_key, char *err, size_t err_size);
void audit_key_free(audit_key *key);
/* base64(Ed25519(hash_hex)) into a malloc'd string (caller frees); NULL on failure. */
char *audit_sign(audit_key *key, const char *hash_hex);
/* Whether sig_b64 is key's signature of hash_hex. */
bool audit_signature_ok(audit_key *key, const char *hash_hex, const char *sig_b64);

#endif
