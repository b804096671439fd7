/*
 * The encrypt transform: the whole document, or the values at chosen paths,
 * sealed with the newest key of a keyring (docs/plugins/transform-crypt.md).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include <rdapsync/rdapsync.h>

#include "binding.h"
#include "crypt.h"

static const rdapsync_host *H;

enum compress { COMPRESS_NONE = 0, COMPRESS_ZSTD = 1 };

struct config {
    char *keyring;
    rdapsync_string_list paths;
    int compress;
    int64_t compress_level;
};

static const char *const compress_values[] = {"none", "zstd", NULL};

static const rdapsync_option options[] = {
    {"keyring", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED | RDAPSYNC_OPT_SECRET, NULL, 0, 0, NULL,
     offsetof(struct config, keyring),
     "the keyring itself, normally ${file:path}: one ID:BASE64 line per 32-byte key, newest last; the newest encrypts"},
    {"paths", RDAPSYNC_OPT_LIST, 0, NULL, 0, 0, NULL, offsetof(struct config, paths),
     "JSONPath of the values to encrypt ($.entities[*].vcardArray; [*] is any index); none: the whole document"},
    {"compress", RDAPSYNC_OPT_ENUM, 0, "none", 0, 0, compress_values, offsetof(struct config, compress),
     "compress each value before encrypting it (zstd)"},
    {"compress_level", RDAPSYNC_OPT_INT, 0, "3", 1, 19, NULL, offsetof(struct config, compress_level),
     "zstd level"},
    {NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL},
};

typedef struct instance {
    rdapsync_ctx *ctx;
    keyring *ring;
    crypt_seal_options seal;
    crypt_paths paths;
} instance;

static rdapsync_status encrypt_check(const void *config, char *err, size_t err_size)
{
    const struct config *c = config;
    crypt_paths paths = {c->paths.items, c->paths.count};
    keyring *ring;

    if (crypt_paths_check(&paths, err, err_size) != 0)
        return RDAPSYNC_ERROR;
    if (!(ring = keyring_parse(c->keyring, err, err_size)))
        return RDAPSYNC_ERROR;
    keyring_free(ring);
    return RDAPSYNC_OK;
}

static rdapsync_status encrypt_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const struct config *c = config;
    instance *s = calloc(1, sizeof *s);

    if (!s)
        return RDAPSYNC_RETRY;
    s->ctx = ctx;
    s->paths.items = c->paths.items;
    s->paths.count = c->paths.count;
    if (crypt_paths_check(&s->paths, err, err_size) != 0 || !(s->ring = keyring_parse(c->keyring, err, err_size))) {
        free(s);
        return RDAPSYNC_ERROR;
    }
    s->seal.key = keyring_newest(s->ring);
    s->seal.zstd = c->compress == COMPRESS_ZSTD;
    s->seal.zstd_level = (int)c->compress_level;
    H->log(ctx, RDAPSYNC_LOG_INFO, "encrypting %s with key %s (%zu keys in the keyring)%s",
           s->paths.count ? "chosen paths" : "whole documents", s->seal.key->id, s->ring->count,
           s->seal.zstd ? ", zstd first" : "");
    *state = s;
    return RDAPSYNC_OK;
}

static void encrypt_close(void *state)
{
    instance *s = state;

    if (!s)
        return;
    keyring_free(s->ring);
    free(s);
}

static rdapsync_status encrypt_transform(void *state, rdapsync_batch *batch, rdapsync_record *record, char *err,
                                         size_t err_size)
{
    instance *s = state;
    crypt_binding binding = crypt_record_binding(record);
    rdapsync_value *doc;
    size_t sealed;

    if (!record->value)
        return RDAPSYNC_OK; /* deletes carry nothing to encrypt */
    doc = H->json->incref(record->value);
    if (crypt_encrypt_document(H, &s->seal, &s->paths, &doc, &binding, &sealed, err, err_size) != 0) {
        H->json->decref(doc);
        H->counter_add(s->ctx, "encrypt_errors", 1);
        /* A half-encrypted document must not reach the dead-letter sink. */
        H->record_set_value(batch, record, NULL);
        return RDAPSYNC_ERROR;
    }
    if (H->record_set_value(batch, record, doc) != 0)
        return RDAPSYNC_RETRY;
    H->counter_add(s->ctx, "encrypted_records", 1);
    H->counter_add(s->ctx, "encrypted_values", sealed);
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "encrypt",
    .kind = RDAPSYNC_KIND_TRANSFORM,
    .version = "1.0.0",
    .description = "encrypts whole documents or chosen paths with AES-256-GCM (optional zstd), keys from a keyring",
    .options = options,
    .config_size = sizeof(struct config),
    .check = encrypt_check,
    .open = encrypt_open,
    .close = encrypt_close,
    .transform = encrypt_transform,
    /* Each call reads the keyring and changes only its own record. */
    .flags = RDAPSYNC_TRANSFORM_CONCURRENT,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    H = host;
    return &descriptor;
}
