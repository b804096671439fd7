/*
 * One value sealed into an envelope and opened again (crypt.h): AES-256-GCM
 * with a fresh 12-byte IV from RAND_bytes, the binding as associated data,
 * zstd before encryption when asked.
 */
#include "crypt.h"

#include <inttypes.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "b64.h"

#define AAD_MAGIC "rdapsync-crypt/1"
#define ZIP_ZSTD "zstd"
#define NO_FIELD UINT32_MAX

/* ---- associated data: every field length-prefixed, so no two bindings
 * serialize alike ---- */

typedef struct aad_buf {
    unsigned char *bytes; /* owned */
    size_t len, cap;
} aad_buf;

static int aad_put(aad_buf *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2 + 64;
        unsigned char *grown = realloc(b->bytes, cap);
        if (!grown)
            return -1;
        b->bytes = grown;
        b->cap = cap;
    }
    if (n)
        memcpy(b->bytes + b->len, data, n);
    b->len += n;
    return 0;
}

/* A field: 4-byte big-endian length, then the bytes; NULL is length 0xffffffff. */
static int aad_field(aad_buf *b, const char *data, size_t n)
{
    uint32_t len = data ? (uint32_t)n : NO_FIELD;
    unsigned char be[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                           (unsigned char)len};

    if (data && n >= NO_FIELD)
        return -1;
    return aad_put(b, be, 4) == 0 && (!data || aad_put(b, data, n) == 0) ? 0 : -1;
}

static int aad_number(aad_buf *b, int64_t v)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%" PRId64, v);
    return aad_field(b, text, (size_t)n);
}

/* The associated data of one envelope; caller frees b->bytes. */
static int aad_build(aad_buf *b, const char *kid, const char *zip, const crypt_binding *binding)
{
    static const rdapsync_version none = {0, NULL, 0};
    const rdapsync_version *v = binding->version ? binding->version : &none;

    memset(b, 0, sizeof *b);
    if (aad_field(b, AAD_MAGIC, strlen(AAD_MAGIC)) != 0 || aad_field(b, CRYPT_ALGORITHM, strlen(CRYPT_ALGORITHM)) != 0 ||
        aad_field(b, kid, strlen(kid)) != 0 || aad_field(b, zip, zip ? strlen(zip) : 0) != 0 ||
        aad_field(b, binding->key, binding->key_len) != 0 || aad_number(b, v->event_time_ms) != 0 ||
        aad_field(b, v->origin, v->origin ? strlen(v->origin) : 0) != 0 || aad_number(b, v->sequence) != 0 ||
        aad_field(b, binding->path, strlen(binding->path)) != 0) {
        free(b->bytes);
        b->bytes = NULL;
        return -1;
    }
    return 0;
}

/* ---- sealing ---- */

static int set_b64(const rdapsync_json_api *j, rdapsync_value *env, const char *name, const unsigned char *bytes,
                   size_t n)
{
    char *text = malloc(B64_ENCODED_SIZE(n));
    size_t len;
    int rc;

    if (!text)
        return -1;
    len = b64_encode(bytes, n, text);
    rc = j->object_set(env, name, j->string_new(text, len));
    free(text);
    return rc;
}

static int set_text(const rdapsync_json_api *j, rdapsync_value *env, const char *name, const char *text)
{
    return j->object_set(env, name, j->string_new(text, strlen(text)));
}

/* AES-256-GCM of in[n] into out (n bytes) and tag; 0 or -1. */
static int gcm_encrypt(const unsigned char *key, const unsigned char *iv, const aad_buf *aad,
                       const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len, rc = -1;

    if (c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, CRYPT_IV_BYTES, NULL) == 1 &&
        EVP_EncryptInit_ex(c, NULL, NULL, key, iv) == 1 &&
        EVP_EncryptUpdate(c, NULL, &len, aad->bytes, (int)aad->len) == 1 &&
        (n == 0 || EVP_EncryptUpdate(c, out, &len, in, (int)n) == 1) && EVP_EncryptFinal_ex(c, out + n, &len) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, CRYPT_TAG_BYTES, tag) == 1)
        rc = 0;
    EVP_CIPHER_CTX_free(c);
    return rc;
}

rdapsync_value *crypt_seal(const rdapsync_host *host, const crypt_seal_options *options, const rdapsync_value *value,
                           const crypt_binding *binding, char *err, size_t err_size)
{
    const rdapsync_json_api *j = host->json;
    size_t plain_len = 0, input_len;
    char *plain = j->dump(value, 0, &plain_len);
    unsigned char *packed = NULL, *cipher = NULL;
    const unsigned char *input;
    unsigned char iv[CRYPT_IV_BYTES], tag[CRYPT_TAG_BYTES];
    const char *zip = options->zstd ? ZIP_ZSTD : NULL;
    aad_buf aad = {0};
    rdapsync_value *env = NULL;

    if (!plain) {
        snprintf(err, err_size, "%s: out of memory serializing the value", binding->path);
        return NULL;
    }
    input = (const unsigned char *)plain;
    input_len = plain_len;
    if (options->zstd) {
        size_t bound = ZSTD_compressBound(plain_len), n;
        if (!(packed = malloc(bound ? bound : 1))) {
            snprintf(err, err_size, "%s: out of memory compressing", binding->path);
            goto out;
        }
        n = ZSTD_compress(packed, bound, plain, plain_len, options->zstd_level);
        if (ZSTD_isError(n)) {
            snprintf(err, err_size, "%s: zstd: %s", binding->path, ZSTD_getErrorName(n));
            goto out;
        }
        input = packed;
        input_len = n;
    }
    if (input_len > (size_t)INT_MAX - 64) {
        snprintf(err, err_size, "%s: value of %zu bytes is too large to encrypt", binding->path, input_len);
        goto out;
    }
    if (RAND_bytes(iv, sizeof iv) != 1) {
        snprintf(err, err_size, "%s: the random generator failed", binding->path);
        goto out;
    }
    if (!(cipher = malloc(input_len + 16)) || aad_build(&aad, options->key->id, zip, binding) != 0) {
        snprintf(err, err_size, "%s: out of memory encrypting", binding->path);
        goto out;
    }
    if (gcm_encrypt(options->key->key, iv, &aad, input, input_len, cipher, tag) != 0) {
        snprintf(err, err_size, "%s: AES-256-GCM encryption failed", binding->path);
        goto out;
    }
    /* Member order is fixed: the envelope's own bytes are the same shape every time. */
    if (!(env = j->object_new()) || set_text(j, env, "enc", CRYPT_ALGORITHM) != 0 ||
        set_text(j, env, "kid", options->key->id) != 0 || (zip && set_text(j, env, "zip", zip) != 0) ||
        set_b64(j, env, "iv", iv, sizeof iv) != 0 || set_b64(j, env, "tag", tag, sizeof tag) != 0 ||
        set_b64(j, env, "data", cipher, input_len) != 0) {
        j->decref(env);
        env = NULL;
        snprintf(err, err_size, "%s: out of memory building the envelope", binding->path);
    }
out:
    /* The clear text must not linger in freed memory. */
    OPENSSL_cleanse(plain, plain_len);
    host->free(plain);
    if (packed) {
        OPENSSL_cleanse(packed, input_len);
        free(packed);
    }
    free(cipher);
    free(aad.bytes);
    return env;
}

/* ---- opening ---- */

bool crypt_is_envelope(const rdapsync_json_api *j, const rdapsync_value *value)
{
    return j->type(value) == RDAPSYNC_JSON_OBJECT && j->object_get(value, "enc") && j->object_get(value, "data");
}

/* The string member `name`, or NULL with err. */
static const char *member(const rdapsync_json_api *j, const rdapsync_value *env, const char *name, size_t *len,
                          const char *path, char *err, size_t err_size)
{
    const rdapsync_value *v = j->object_get(env, name);

    if (j->type(v) != RDAPSYNC_JSON_STRING) {
        snprintf(err, err_size, "%s: envelope without a string \"%s\"", path, name);
        return NULL;
    }
    if (len)
        *len = j->string_length(v);
    return j->string_value(v);
}

/* Base64 member into a new buffer (caller frees) of *n bytes, or NULL with err. */
static unsigned char *b64_member(const rdapsync_json_api *j, const rdapsync_value *env, const char *name, size_t *n,
                                 const char *path, char *err, size_t err_size)
{
    size_t len;
    const char *text = member(j, env, name, &len, path, err, err_size);
    unsigned char *out;

    if (!text)
        return NULL;
    if (!(out = malloc(len / 4 * 3 + 1))) {
        snprintf(err, err_size, "%s: out of memory", path);
        return NULL;
    }
    if (b64_decode(text, len, out, len / 4 * 3 + 1, n) != 0) {
        free(out);
        snprintf(err, err_size, "%s: envelope \"%s\" is not base64", path, name);
        return NULL;
    }
    return out;
}

static int gcm_decrypt(const unsigned char *key, const unsigned char *iv, const aad_buf *aad,
                       const unsigned char *in, size_t n, unsigned char *tag, unsigned char *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len, rc = -1;

    if (c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, CRYPT_IV_BYTES, NULL) == 1 &&
        EVP_DecryptInit_ex(c, NULL, NULL, key, iv) == 1 &&
        EVP_DecryptUpdate(c, NULL, &len, aad->bytes, (int)aad->len) == 1 &&
        (n == 0 || EVP_DecryptUpdate(c, out, &len, in, (int)n) == 1) &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, CRYPT_TAG_BYTES, tag) == 1 &&
        EVP_DecryptFinal_ex(c, out + n, &len) == 1)
        rc = 0;
    EVP_CIPHER_CTX_free(c);
    return rc;
}

rdapsync_value *crypt_unseal(const rdapsync_host *host, const keyring *ring, const rdapsync_value *envelope,
                             const crypt_binding *binding, size_t max_size, char *err, size_t err_size)
{
    const rdapsync_json_api *j = host->json;
    const char *path = binding->path, *enc, *kid, *zip = NULL;
    const crypt_key *key;
    unsigned char *iv = NULL, *tag = NULL, *data = NULL, *plain = NULL, *unpacked = NULL;
    size_t iv_len, tag_len, data_len = 0, text_len, unpacked_len = 0;
    const char *text;
    aad_buf aad = {0};
    rdapsync_value *value = NULL;
    char why[256];

    if (!(enc = member(j, envelope, "enc", NULL, path, err, err_size)) ||
        !(kid = member(j, envelope, "kid", NULL, path, err, err_size)))
        return NULL;
    if (strcmp(enc, CRYPT_ALGORITHM) != 0) {
        snprintf(err, err_size, "%s: envelope algorithm \"%.40s\" is not %s", path, enc, CRYPT_ALGORITHM);
        return NULL;
    }
    if (j->object_get(envelope, "zip")) {
        if (!(zip = member(j, envelope, "zip", NULL, path, err, err_size)))
            return NULL;
        if (strcmp(zip, ZIP_ZSTD) != 0) {
            snprintf(err, err_size, "%s: envelope compression \"%.40s\" is not %s", path, zip, ZIP_ZSTD);
            return NULL;
        }
    }
    if (!(key = keyring_find(ring, kid))) {
        snprintf(err, err_size, "%s: unknown key id \"%.64s\" (not in the keyring)", path, kid);
        return NULL;
    }
    if (!(iv = b64_member(j, envelope, "iv", &iv_len, path, err, err_size)) ||
        !(tag = b64_member(j, envelope, "tag", &tag_len, path, err, err_size)) ||
        !(data = b64_member(j, envelope, "data", &data_len, path, err, err_size)))
        goto out;
    if (iv_len != CRYPT_IV_BYTES || tag_len != CRYPT_TAG_BYTES || data_len > (size_t)INT_MAX - 64) {
        snprintf(err, err_size, "%s: envelope iv must be %d bytes and tag %d bytes", path, CRYPT_IV_BYTES,
                 CRYPT_TAG_BYTES);
        goto out;
    }
    if (!(plain = malloc(data_len + 16)) || aad_build(&aad, kid, zip, binding) != 0) {
        snprintf(err, err_size, "%s: out of memory decrypting", path);
        goto out;
    }
    if (gcm_decrypt(key->key, iv, &aad, data, data_len, tag, plain) != 0) {
        snprintf(err, err_size,
                 "%s: authentication failed with key %s (payload, iv, tag or kid changed, or moved from another "
                 "record, version or path)",
                 path, kid);
        goto out;
    }
    text = (const char *)plain;
    text_len = data_len;
    if (zip) {
        unsigned long long size = ZSTD_getFrameContentSize(plain, data_len);
        size_t n;
        if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR || size > max_size) {
            snprintf(err, err_size, "%s: compressed value without a size, or larger than %zu bytes", path, max_size);
            goto out;
        }
        unpacked_len = (size_t)size;
        if (!(unpacked = malloc(size ? (size_t)size : 1))) {
            snprintf(err, err_size, "%s: out of memory decompressing", path);
            goto out;
        }
        n = ZSTD_decompress(unpacked, (size_t)size, plain, data_len);
        if (ZSTD_isError(n) || n != size) {
            snprintf(err, err_size, "%s: zstd: %s", path, ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
            goto out;
        }
        text = (const char *)unpacked;
        text_len = n;
    } else if (data_len > max_size) {
        snprintf(err, err_size, "%s: value larger than %zu bytes", path, max_size);
        goto out;
    }
    if (!(value = j->parse(text, text_len, why, sizeof why)))
        snprintf(err, err_size, "%s: decrypted value is not JSON: %s", path, why);
out:
    if (plain) {
        OPENSSL_cleanse(plain, data_len);
        free(plain);
    }
    if (unpacked) {
        OPENSSL_cleanse(unpacked, unpacked_len);
        free(unpacked);
    }
    free(iv);
    free(tag);
    free(data);
    free(aad.bytes);
    return value;
}
