/* Hashing plugin files and comparing them with their pins (plugin_pins.h). */
#include "loader/plugin_pins.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

int plugin_sha256_file(const char *path, unsigned char out[PLUGIN_SHA256_SIZE], char *err, size_t err_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: cannot read to check its SHA-256 pin: %s", path, strerror(errno));
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char buffer[65536];
    unsigned int len = 0;
    size_t n;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    while (ok && (n = fread(buffer, 1, sizeof(buffer), f)) > 0)
        ok = EVP_DigestUpdate(ctx, buffer, n);
    if (ok && ferror(f)) {
        snprintf(err, err_size, "%s: cannot read to check its SHA-256 pin: %s", path, strerror(errno));
        ok = 0;
    } else if (ok && !(ok = EVP_DigestFinal_ex(ctx, out, &len) && len == PLUGIN_SHA256_SIZE)) {
        snprintf(err, err_size, "%s: SHA-256 failed", path);
    } else if (!ok) {
        snprintf(err, err_size, "%s: SHA-256 failed", path);
    }
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return ok ? 0 : -1;
}

void plugin_sha256_hex(const unsigned char digest[PLUGIN_SHA256_SIZE], char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < PLUGIN_SHA256_SIZE; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[2 * PLUGIN_SHA256_SIZE] = '\0';
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int plugin_sha256_parse(const char *text, unsigned char out[PLUGIN_SHA256_SIZE])
{
    if (strlen(text) != 2 * PLUGIN_SHA256_SIZE)
        return -1;
    for (size_t i = 0; i < PLUGIN_SHA256_SIZE; i++) {
        int high = nibble(text[2 * i]), low = nibble(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return -1;
        out[i] = (unsigned char)(high << 4 | low);
    }
    return 0;
}

int plugin_pin_check(const plugin_pin *pin, const char *path, const unsigned char actual[PLUGIN_SHA256_SIZE],
                     char *err, size_t err_size)
{
    char want[PLUGIN_SHA256_HEX], got[PLUGIN_SHA256_HEX];
    /* A digest of a public file: no need for a constant-time comparison. */
    if (memcmp(pin->sha256, actual, PLUGIN_SHA256_SIZE) == 0)
        return 0;
    plugin_sha256_hex(pin->sha256, want);
    plugin_sha256_hex(actual, got);
    snprintf(err, err_size,
             "%s: refused before loading: SHA-256 %s, expected %s (the pin of plugins.%s at %s; change the pin only "
             "after checking the new file)",
             path, got, want, pin->stem, pin->place ? pin->place : "the configuration");
    return -1;
}

void plugin_pins_free(plugin_pin *pins, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(pins[i].stem);
        free(pins[i].place);
    }
    free(pins);
}
