/* A pipeline's redaction policy as one hash (policy_fingerprint.h). */
#include "config/policy_fingerprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/options.h"

#define REDACT_DEFAULT_POLICY_DIR "config/policies"

static const char *scalar(const ynode *config, const char *key)
{
    const ynode *node = config ? ynode_get(config, key) : NULL;
    return node && node->kind == YNODE_SCALAR ? node->scalar : NULL;
}

/* The policy file's bytes folded into hash, found the way the redact
 * transform looks it up (a path, or NAME.yaml in policy_dir). A policy it
 * finds elsewhere (the installed ones) counts by name only. */
static uint64_t hash_policy_file(uint64_t hash, const ynode *config)
{
    const char *spec = scalar(config, "policy"), *dir = scalar(config, "policy_dir");
    char path[4096], buf[8192];
    size_t n, len;
    if (!spec)
        return hash;
    len = strlen(spec);
    if (strchr(spec, '/') || (len > 5 && strcmp(spec + len - 5, ".yaml") == 0) ||
        (len > 4 && strcmp(spec + len - 4, ".yml") == 0))
        snprintf(path, sizeof(path), "%s", spec);
    else
        snprintf(path, sizeof(path), "%s/%s.yaml", dir ? dir : REDACT_DEFAULT_POLICY_DIR, spec);
    FILE *f = fopen(path, "rb");
    if (!f)
        return hash;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        hash = options_hash_bytes(hash, buf, n);
    fclose(f);
    return hash;
}

uint64_t config_policy_fingerprint(const pipeline_config *pipeline)
{
    uint64_t hash = OPTIONS_HASH_SEED;
    for (size_t i = 0; i < pipeline->transform_count; i++) {
        const plugin_block *block = &pipeline->transforms[i];
        if (!block->name || strcmp(block->name, "redact") != 0)
            continue;
        if (block->plugin)
            hash = options_hash(block->plugin->desc, block->settings, hash);
        hash = hash_policy_file(hash, block->config_node);
    }
    hash = options_hash_bytes(hash, &pipeline->protect, sizeof(pipeline->protect));
    if (pipeline->suppress_block.plugin) {
        hash = options_hash(pipeline->suppress_block.plugin->desc, pipeline->suppress_block.settings, hash);
        hash = options_hash_bytes(hash, "suppress", 8);
    }
    return hash;
}
