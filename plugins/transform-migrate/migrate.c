/*
 * The migrate transform: moves documents from the schema version they carry
 * (_schemaVersion, stamped by normalize) to a target version along the
 * shortest chain of declared migrations (docs/schema-and-history.md).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/rdapsync.h>

#include "mplan.h"

static const rdapsync_host *H;

struct config {
    char *target;
    char *migrations;
    char *assume;
};

static const rdapsync_option options[] = {
    {RDAPSYNC_OPTION_STRING(struct config, target, NULL, "the schema version documents leave with (MAJOR.MINOR)"),
     .flags = RDAPSYNC_OPT_REQUIRED},
    {RDAPSYNC_OPTION_JSON(struct config, migrations, "[]",
                          "list of { from: VERSION, to: VERSION, steps: [ { rename | move | set_default | drop | "
                          "lowercase | map: ... } ] }")},
    {RDAPSYNC_OPTION_STRING(struct config, assume, NULL,
                            "the version of documents without _schemaVersion (unset: such documents are errors)")},
    RDAPSYNC_OPTIONS_END,
};

typedef struct instance {
    rdapsync_ctx *ctx;
    const struct config *config;
    mplan plan;
} instance;

static rdapsync_status migrate_check(const void *config, char *err, size_t err_size)
{
    const struct config *c = config;
    long major, minor;
    mplan plan;

    if (c->assume && mplan_version(c->assume, &major, &minor) != 0) {
        snprintf(err, err_size, "@assume: a version is written MAJOR.MINOR, e.g. \"1.0\"");
        return RDAPSYNC_ERROR;
    }
    if (mplan_build(H->json, c->target, c->migrations, &plan, err, err_size) != 0)
        return RDAPSYNC_ERROR;
    mplan_free(&plan);
    return RDAPSYNC_OK;
}

static rdapsync_status migrate_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const struct config *c = config;
    instance *s = calloc(1, sizeof *s);

    if (!s)
        return RDAPSYNC_RETRY;
    s->ctx = ctx;
    s->config = c;
    if (mplan_build(H->json, c->target, c->migrations, &s->plan, err, err_size) != 0) {
        free(s);
        return RDAPSYNC_ERROR;
    }
    *state = s;
    return RDAPSYNC_OK;
}

static void migrate_close(void *state)
{
    instance *s = state;

    if (!s)
        return;
    mplan_free(&s->plan);
    free(s);
}

static rdapsync_status migrate_transform(void *state, rdapsync_batch *batch, rdapsync_record *record, char *err,
                                         size_t err_size)
{
    instance *s = state;
    bool migrated;

    (void)batch;
    if (!record->value)
        return RDAPSYNC_OK; /* deletes carry no document */
    if (mplan_apply(&s->plan, record->value, s->config->assume, &migrated, err, err_size) != 0) {
        H->counter_add(s->ctx, "migrate_errors", 1);
        return RDAPSYNC_ERROR;
    }
    if (migrated)
        H->counter_add(s->ctx, "migrated", 1);
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "migrate",
    .kind = RDAPSYNC_KIND_TRANSFORM,
    .version = "1.0.0",
    .description = "moves documents to a target schema version along declared migrations (rename, move, "
                   "set_default, drop, lowercase, map)",
    .options = options,
    .config_size = sizeof(struct config),
    .check = migrate_check,
    .open = migrate_open,
    .close = migrate_close,
    .transform = migrate_transform,
    /* Each call reads the read-only plan and changes only its own record. */
    .flags = RDAPSYNC_TRANSFORM_CONCURRENT,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    H = host;
    return &descriptor;
}
