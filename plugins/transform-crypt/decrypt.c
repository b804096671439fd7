/*
 * The decrypt transform: every envelope the encrypt transform wrote, opened
 * with whichever key of the keyring it names; a record that does not open
 * goes to the dead-letter sink still encrypted
 * (docs/plugins/transform-crypt.md).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/rdapsync.h>

#include "binding.h"
#include "crypt.h"

static const rdapsync_host *H;

struct config {
    char *keyring;
    int64_t max_size;
    int64_t max_depth;
};

static const rdapsync_option options[] = {
    {"keyring", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED | RDAPSYNC_OPT_SECRET, NULL, 0, 0, NULL,
     offsetof(struct config, keyring),
     "the keyring itself, normally ${file:path}: one ID:BASE64 line per 32-byte key; any listed key decrypts"},
    {"max_size", RDAPSYNC_OPT_SIZE, 0, "64M", 1, (int64_t)1 << 31, NULL, offsetof(struct config, max_size),
     "largest decrypted (decompressed) value; larger ones are errors"},
    {"max_depth", RDAPSYNC_OPT_INT, 0, "64", 4, 512, NULL, offsetof(struct config, max_depth),
     "deepest nesting searched for envelopes; deeper records are errors (nothing passes through still encrypted)"},
    {NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL},
};

typedef struct instance {
    rdapsync_ctx *ctx;
    const struct config *config;
    keyring *ring;
} instance;

static rdapsync_status decrypt_check(const void *config, char *err, size_t err_size)
{
    const struct config *c = config;
    keyring *ring = keyring_parse(c->keyring, err, err_size);

    if (!ring)
        return RDAPSYNC_ERROR;
    keyring_free(ring);
    return RDAPSYNC_OK;
}

static rdapsync_status decrypt_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    instance *s = calloc(1, sizeof *s);

    if (!s)
        return RDAPSYNC_RETRY;
    s->ctx = ctx;
    s->config = config;
    if (!(s->ring = keyring_parse(s->config->keyring, err, err_size))) {
        free(s);
        return RDAPSYNC_ERROR;
    }
    H->log(ctx, RDAPSYNC_LOG_INFO, "decrypting with %zu keys (newest %s)", s->ring->count,
           keyring_newest(s->ring)->id);
    *state = s;
    return RDAPSYNC_OK;
}

static void decrypt_close(void *state)
{
    instance *s = state;

    if (!s)
        return;
    keyring_free(s->ring);
    free(s);
}

static rdapsync_status decrypt_transform(void *state, rdapsync_batch *batch, rdapsync_record *record, char *err,
                                         size_t err_size)
{
    instance *s = state;
    crypt_binding binding = crypt_record_binding(record);
    rdapsync_value *doc;
    size_t opened;
    char why[768];

    if (!record->value)
        return RDAPSYNC_OK;
    doc = H->json->incref(record->value);
    if (crypt_decrypt_document(H, s->ring, (size_t)s->config->max_size, (int)s->config->max_depth, &doc, &binding,
                               &opened, why, sizeof why) != 0) {
        /* The record keeps its encrypted document: the dead letter holds nothing in clear. */
        H->json->decref(doc);
        H->counter_add(s->ctx, "decrypt_errors", 1);
        snprintf(err, err_size, "decrypt: key %.*s: %s", (int)(record->key_len > 200 ? 200 : record->key_len),
                 record->key ? record->key : "(none)", why);
        return RDAPSYNC_ERROR;
    }
    if (H->record_set_value(batch, record, doc) != 0)
        return RDAPSYNC_RETRY;
    H->counter_add(s->ctx, "decrypted_records", 1);
    H->counter_add(s->ctx, "decrypted_values", opened);
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "decrypt",
    .kind = RDAPSYNC_KIND_TRANSFORM,
    .version = "1.0.0",
    .description = "decrypts what the encrypt transform wrote, with any key of a keyring; failures are dead letters",
    .options = options,
    .config_size = sizeof(struct config),
    .check = decrypt_check,
    .open = decrypt_open,
    .close = decrypt_close,
    .transform = decrypt_transform,
    .flags = RDAPSYNC_TRANSFORM_CONCURRENT,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    H = host;
    return &descriptor;
}
