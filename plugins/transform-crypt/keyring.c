/* Keyrings: "ID:BASE64" lines, newest last (crypt.h). */
#include "crypt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

void keyring_free(keyring *ring)
{
    if (!ring)
        return;
    if (ring->keys)
        OPENSSL_cleanse(ring->keys, ring->count * sizeof *ring->keys);
    free(ring->keys);
    free(ring);
}

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

static size_t trimmed_length(const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    return len;
}

/* One "ID:BASE64" line into *key; 0, or -1 with the reason. */
static int parse_line(const char *line, size_t len, crypt_key *key, char *why, size_t why_size)
{
    const char *colon = memchr(line, ':', len);
    size_t id_len, b64_len, n;
    unsigned char decoded[CRYPT_KEY_BYTES + 3];

    if (!colon) {
        snprintf(why, why_size, "expected ID:BASE64 (a key id, a colon, 32 bytes in base64)");
        return -1;
    }
    id_len = (size_t)(colon - line);
    if (id_len == 0 || id_len > CRYPT_KID_MAX) {
        snprintf(why, why_size, "the key id must have 1 to %d characters", CRYPT_KID_MAX);
        return -1;
    }
    for (size_t i = 0; i < id_len; i++)
        if (!id_char(line[i])) {
            snprintf(why, why_size, "the key id may contain only A-Z a-z 0-9 . _ -");
            return -1;
        }
    b64_len = len - id_len - 1;
    /* 32 bytes are 44 base64 characters; anything else cannot be one key. */
    if (b64_len != 44 || b64_decode(colon + 1, b64_len, decoded, sizeof decoded, &n) != 0 || n != CRYPT_KEY_BYTES) {
        OPENSSL_cleanse(decoded, sizeof decoded);
        snprintf(why, why_size, "key %.*s is not 32 bytes in base64 (openssl rand -base64 32 makes one)", (int)id_len,
                 line);
        return -1;
    }
    memcpy(key->id, line, id_len);
    key->id[id_len] = '\0';
    memcpy(key->key, decoded, CRYPT_KEY_BYTES);
    OPENSSL_cleanse(decoded, sizeof decoded);
    return 0;
}

keyring *keyring_parse(const char *text, char *err, size_t err_size)
{
    keyring *ring = calloc(1, sizeof *ring);
    size_t capacity = 0;
    int line_no = 0;
    char why[256];

    if (!ring) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    for (const char *p = text ? text : ""; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *line = p;

        p = end ? end + 1 : p + len;
        line_no++;
        while (len > 0 && (*line == ' ' || *line == '\t')) {
            line++;
            len--;
        }
        len = trimmed_length(line, len);
        if (len == 0 || line[0] == '#')
            continue;
        if (ring->count == capacity) {
            size_t grown_capacity = capacity ? capacity * 2 : 4;
            crypt_key *grown = calloc(grown_capacity, sizeof *grown);
            if (!grown) {
                snprintf(err, err_size, "out of memory");
                goto fail;
            }
            if (ring->keys) {
                memcpy(grown, ring->keys, ring->count * sizeof *grown);
                OPENSSL_cleanse(ring->keys, ring->count * sizeof *grown);
                free(ring->keys);
            }
            ring->keys = grown;
            capacity = grown_capacity;
        }
        if (parse_line(line, len, &ring->keys[ring->count], why, sizeof why) != 0) {
            snprintf(err, err_size, "keyring line %d: %s", line_no, why);
            goto fail;
        }
        if (keyring_find(ring, ring->keys[ring->count].id)) {
            snprintf(err, err_size, "keyring line %d: key id %s is listed twice", line_no, ring->keys[ring->count].id);
            ring->count++; /* wiped with the others */
            goto fail;
        }
        ring->count++;
    }
    if (ring->count == 0) {
        snprintf(err, err_size, "the keyring holds no key (one ID:BASE64 line per key, newest last)");
        goto fail;
    }
    return ring;
fail:
    keyring_free(ring);
    return NULL;
}

const crypt_key *keyring_find(const keyring *ring, const char *id)
{
    for (size_t i = 0; i < ring->count; i++)
        if (strcmp(ring->keys[i].id, id) == 0)
            return &ring->keys[i];
    return NULL;
}

const crypt_key *keyring_newest(const keyring *ring)
{
    return &ring->keys[ring->count - 1];
}
