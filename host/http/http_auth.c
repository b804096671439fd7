/* Checking a request's credentials against the endpoint's settings (http_settings.h). */
#include "config/http_settings.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* bcrypt of a fixed password at cost 10: compared against when the user
 * is unknown, so that the answer takes as long as for a known user. The
 * cost of real hashes varies; 10 is htpasswd's default. */
static const char decoy_hash[] = /* "rdapsync-decoy" */ "$2y$10$dS92IgjQVy/2rBGAzKo2DOyOlWX0dM9nuEw7GvcAmzjv/2Kl3Hite";

/* The scheme's credentials after "Scheme " (case-insensitive), or NULL. */
static const char *after_scheme(const char *header, const char *scheme)
{
    size_t len = strlen(scheme);
    if (strncasecmp(header, scheme, len) != 0 || header[len] != ' ')
        return NULL;
    header += len;
    while (*header == ' ')
        header++;
    return header;
}

static int bcrypt_matches(const char *password, const char *hash)
{
    struct crypt_data *data = calloc(1, sizeof(*data));
    int match = 0;
    if (!data)
        return 0;
    const char *out = crypt_r(password, hash, data);
    size_t len = strlen(hash);
    /* crypt_r answers "*0"/"*1" or NULL for a bad setting; the hash's
     * length is not secret (bcrypt's is always 60). */
    if (out && strlen(out) == len && CRYPTO_memcmp(out, hash, len) == 0)
        match = 1;
    OPENSSL_cleanse(data, sizeof(*data));
    free(data);
    return match;
}

static int basic_allows(const http_settings *settings, const char *encoded)
{
    size_t len = strlen(encoded);
    if (len == 0 || len % 4 != 0 || len > 4096)
        return 0;
    unsigned char *decoded = malloc(len / 4 * 3 + 1);
    if (!decoded)
        return 0;
    int n = EVP_DecodeBlock(decoded, (const unsigned char *)encoded, (int)len);
    int allowed = 0;
    if (n > 0) {
        /* EVP_DecodeBlock counts the '=' padding as zero bytes. */
        while (len > 0 && encoded[len - 1] == '=' && n > 0) {
            n--;
            len--;
        }
        decoded[n] = '\0';
        char *colon = memchr(decoded, ':', (size_t)n);
        if (colon && strlen((char *)decoded) == (size_t)n) {
            *colon = '\0';
            const char *hash = decoy_hash;
            for (size_t i = 0; i < settings->user_count; i++)
                if (strcmp(settings->users[i].name, (char *)decoded) == 0)
                    hash = settings->users[i].hash;
            allowed = bcrypt_matches(colon + 1, hash) && hash != decoy_hash;
        }
        OPENSSL_cleanse(decoded, (size_t)n);
    }
    free(decoded);
    return allowed;
}

static int bearer_allows(const char *expected, const char *given)
{
    unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
    unsigned int a_len = 0, b_len = 0;
    /* Equal-length digests: the comparison takes the same time whatever
     * the token's length and however much of it is right. */
    if (!EVP_Digest(expected, strlen(expected), a, &a_len, EVP_sha256(), NULL) ||
        !EVP_Digest(given, strlen(given), b, &b_len, EVP_sha256(), NULL) || a_len != b_len)
        return 0;
    return CRYPTO_memcmp(a, b, a_len) == 0;
}

int http_auth_allows(const http_settings *settings, const char *authorization)
{
    const char *credentials;
    if (!http_settings_has_auth(settings))
        return 1;
    if (!authorization)
        return 0;
    if (settings->user_count > 0 && (credentials = after_scheme(authorization, "Basic")))
        return basic_allows(settings, credentials);
    if (settings->bearer_token && (credentials = after_scheme(authorization, "Bearer")))
        return bearer_allows(settings->bearer_token, credentials);
    return 0;
}
