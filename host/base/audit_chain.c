/* Hash chain, keyed hashes and signatures of the audit trail (audit_chain.h). */
#include "base/audit_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

static void to_hex(const unsigned char *bytes, size_t n, char out[AUDIT_HASH_HEX])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n && i < 32; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[64] = '\0';
}

int audit_chain_hash(const char *prev_hex, const char *entry, size_t entry_len, char out[AUDIT_HASH_HEX])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, prev_hex, strlen(prev_hex)) && EVP_DigestUpdate(ctx, "\n", 1) &&
             EVP_DigestUpdate(ctx, entry, entry_len) && EVP_DigestFinal_ex(ctx, digest, &digest_len);
    EVP_MD_CTX_free(ctx);
    if (!ok || digest_len != 32)
        return -1;
    to_hex(digest, digest_len, out);
    return 0;
}

int audit_keyed_hash(const unsigned char *key, size_t key_len, const char *text, char out[AUDIT_HASH_HEX])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)text, strlen(text), digest, &digest_len) ||
        digest_len != 32)
        return -1;
    to_hex(digest, digest_len, out);
    return 0;
}

long audit_entry_end(const char *line, size_t len)
{
    static const char marker[] = ",\"hash\":\"";
    const size_t m = sizeof(marker) - 1;
    /* The last occurrence: a quote inside a string value is always escaped,
     * so the unescaped marker is a member, and "hash" is the last but "sig". */
    for (size_t i = len >= m ? len - m + 1 : 0; i-- > 0;)
        if (memcmp(line + i, marker, m) == 0)
            return (long)i;
    return -1;
}

audit_key *audit_key_load(const char *pem_path, bool private_key, char *err, size_t err_size)
{
    FILE *f = fopen(pem_path, "r");
    EVP_PKEY *key;
    if (!f) {
        snprintf(err, err_size, "cannot open %s key %s", private_key ? "signing" : "public", pem_path);
        return NULL;
    }
    key = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (!key) {
        snprintf(err, err_size, "%s is not a PEM %s key", pem_path, private_key ? "private" : "public");
        return NULL;
    }
    if (EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
        snprintf(err, err_size, "%s is not an Ed25519 key", pem_path);
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

void audit_key_free(audit_key *key) { EVP_PKEY_free(key); }

char *audit_sign(audit_key *key, const char *hash_hex)
{
    unsigned char sig[64];
    size_t sig_len = sizeof(sig);
    char *out = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
        EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)hash_hex, strlen(hash_hex)) == 1 &&
        (out = malloc(4 * ((sig_len + 2) / 3) + 1)))
        EVP_EncodeBlock((unsigned char *)out, sig, (int)sig_len);
    EVP_MD_CTX_free(ctx);
    return out;
}

bool audit_signature_ok(audit_key *key, const char *hash_hex, const char *sig_b64)
{
    unsigned char sig[96];
    size_t len = strlen(sig_b64);
    if (len != 88) /* 64 bytes in base64 */
        return false;
    if (EVP_DecodeBlock(sig, (const unsigned char *)sig_b64, (int)len) != 66)
        return false; /* 64 bytes plus the 2 padding bytes DecodeBlock counts */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
              EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)hash_hex, strlen(hash_hex)) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}
