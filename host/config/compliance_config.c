/* The `audit:` and `compliance:` blocks (compliance_config.h). */
#include "config/compliance_config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/secrets.h"
#include "config/options.h"

static const char *const audit_keys[] = { "path", "key", "sign_key", NULL };
static const char *const compliance_keys[] = { "suppression", "key", "policy_dir", NULL };

static void report(diag_list *diags, const char *file, const ynode *at, const char *block, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void report(diag_list *diags, const char *file, const ynode *at, const char *block, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    diag_add(diags, DIAG_ERROR, file, at ? at->line : 0, at ? at->column : 0, NULL, "%s: %s", block, message);
}

/* The expanded scalar (caller frees), or NULL after reporting. */
static char *expand(diag_list *diags, const char *file, const ynode *node, const char *block, const char *what,
                    bool secret, bool *had_reference)
{
    char *value = NULL, reason[512];
    bool referenced = false;
    if (node->kind != YNODE_SCALAR || options_is_null(node) || !node->scalar[0]) {
        report(diags, file, node, block, "'%s' must be a non-empty string", what);
        return NULL;
    }
    if (secrets_expand(node->scalar, secret, &value, &referenced, reason, sizeof(reason)) < 0) {
        report(diags, file, node, block, "'%s': %s", what, reason);
        return NULL;
    }
    if (secret)
        secrets_register(value);
    if (had_reference)
        *had_reference = referenced;
    return value;
}

/* One block: its path member `path_key` and its `key`. */
static const ynode *load_keyed(const ynode *root, const char *block, const char *const *keys, const char *path_key,
                               bool path_required, const char *file, diag_list *diags, keyed_path *out)
{
    const ynode *node = ynode_get(root, block);
    if (!node || options_is_null(node))
        return NULL;
    if (node->kind != YNODE_MAPPING) {
        report(diags, file, node, block, "'%s' must be a mapping with '%s' and 'key'", block, path_key);
        return NULL;
    }
    for (size_t i = 0; i < node->count; i++) {
        bool known = false;
        for (size_t k = 0; keys[k]; k++)
            known = known || strcmp(keys[k], node->keys[i]->scalar) == 0;
        if (!known)
            report(diags, file, node->keys[i], block, "unknown key '%s' in %s", node->keys[i]->scalar, block);
    }
    const ynode *path = ynode_get(node, path_key), *key = ynode_get(node, "key");
    if (!path && !path_required && !key)
        return node; /* the block's other settings only */
    if (!path)
        report(diags, file, node, block, "missing required key '%s'", path_key);
    else
        out->path = expand(diags, file, path, block, path_key, false, NULL);
    if (!key) {
        report(diags, file, node, block, "missing required key 'key' (e.g. \"${file:/run/secrets/%s-key}\")", block);
        return node;
    }
    bool referenced = false;
    char *value = expand(diags, file, key, block, "key", true, &referenced);
    if (!value)
        return node;
    if (!referenced)
        report(diags, file, key, block, "'key' must come from ${file:PATH} or ${env:NAME}, not the file itself");
    else if (strlen(value) < COMPLIANCE_KEY_MIN)
        report(diags, file, key, block, "'key' must be at least %d bytes long", COMPLIANCE_KEY_MIN);
    else {
        out->key_len = strlen(value);
        out->key = (unsigned char *)value;
        return node;
    }
    OPENSSL_cleanse(value, strlen(value));
    free(value);
    return node;
}

void compliance_config_load(const ynode *root, const char *file, diag_list *diags, compliance_settings *out)
{
    memset(out, 0, sizeof(*out));
    const ynode *audit = load_keyed(root, "audit", audit_keys, "path", true, file, diags, &out->audit);
    const ynode *sign = audit ? ynode_get(audit, "sign_key") : NULL;
    if (sign && !options_is_null(sign))
        out->audit_sign_key = expand(diags, file, sign, "audit", "sign_key", false, NULL);
    const ynode *compliance =
        load_keyed(root, "compliance", compliance_keys, "suppression", false, file, diags, &out->suppression);
    const ynode *dir = compliance ? ynode_get(compliance, "policy_dir") : NULL;
    if (dir && !options_is_null(dir))
        out->policy_dir = expand(diags, file, dir, "compliance", "policy_dir", false, NULL);
}

static void keyed_free(keyed_path *k)
{
    if (k->key)
        OPENSSL_cleanse(k->key, k->key_len);
    free(k->key);
    free(k->path);
}

void compliance_settings_free(compliance_settings *s)
{
    if (!s)
        return;
    keyed_free(&s->audit);
    keyed_free(&s->suppression);
    free(s->audit_sign_key);
    free(s->policy_dir);
    memset(s, 0, sizeof(*s));
}
