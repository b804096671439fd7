/*
 * SHA-256 pins of plugin files, from the top level of the configuration:
 *
 *   plugins:
 *     sink-redis: { sha256: 3f1c...64 hex digits }
 *
 * A pinned plugin is hashed (OpenSSL EVP) before dlopen() and refused when
 * the digest differs, before any of its code runs (its constructors
 * included). The key is the file's stem, KIND-NAME, as in
 * "sink-redis.so". This guards against a plugin file replaced by someone
 * the ownership rule of plugin_trust.h lets write it (root, the user
 * running rdapsync, a package upgrade): the pin says which build was
 * reviewed.
 */
#ifndef RDAPSYNC_HOST_PLUGIN_PINS_H
#define RDAPSYNC_HOST_PLUGIN_PINS_H

#include <stddef.h>

#define PLUGIN_SHA256_SIZE 32
#define PLUGIN_SHA256_HEX (PLUGIN_SHA256_SIZE * 2 + 1)

typedef struct plugin_pin {
    char *stem;  /* owned: "sink-redis" */
    unsigned char sha256[PLUGIN_SHA256_SIZE];
    char *place; /* owned: "file:line:column" of the pin, for messages */
} plugin_pin;

/* The SHA-256 of a file's bytes. 0, or -1 with the reason (naming the
 * file) in err. */
int plugin_sha256_file(const char *path, unsigned char out[PLUGIN_SHA256_SIZE], char *err, size_t err_size);
/* 64 lowercase hex digits and a NUL into `hex` (PLUGIN_SHA256_HEX bytes). */
void plugin_sha256_hex(const unsigned char digest[PLUGIN_SHA256_SIZE], char *hex);
/* Parses 64 hex digits (either case). 0, or -1 when it is not that. */
int plugin_sha256_parse(const char *text, unsigned char out[PLUGIN_SHA256_SIZE]);

/* 0 when `actual` matches the pin; else -1 and "PATH: refused before
 * loading: SHA-256 ACTUAL, expected PINNED (the pin of plugins.STEM at
 * PLACE...)" in err. */
int plugin_pin_check(const plugin_pin *pin, const char *path, const unsigned char actual[PLUGIN_SHA256_SIZE],
                     char *err, size_t err_size);

void plugin_pins_free(plugin_pin *pins, size_t count);

#endif
