/*
 * The configuration's top-level `audit:` and `compliance:` blocks
 * (docs/compliance.md), validated into compliance_settings:
 *
 *   audit:
 *     path: var/audit.log                  # the trail (audit_log.h); required in the block
 *     key: "${file:/run/secrets/audit}"    # HMAC-SHA-256 key for subjects; 16 bytes or more
 *     sign_key: /run/secrets/audit.pem     # optional Ed25519 private key (PEM): every line signed
 *   compliance:
 *     suppression: var/suppressed.db       # the suppression list (SQLite, keyed hashes only)
 *     key: "${file:/run/secrets/subjects}" # HMAC-SHA-256 key of the list; 16 bytes or more
 *     policy_dir: config/policies          # where the `suppress` redaction policy is looked up
 *                                          # (default: the redact transform's, then the installed one)
 *
 * Keys must come from a reference (${file:} or ${env:}): a key written in
 * the file would sit in every copy of the configuration.
 */
#ifndef RDAPSYNC_HOST_COMPLIANCE_CONFIG_H
#define RDAPSYNC_HOST_COMPLIANCE_CONFIG_H

#include <stddef.h>

#include "base/diag.h"
#include "config/yaml_tree.h"

#define COMPLIANCE_KEY_MIN 16

typedef struct keyed_path {
    char *path;         /* owned; NULL: the block is absent */
    unsigned char *key; /* owned, key_len bytes (a registered secret) */
    size_t key_len;
} keyed_path;

typedef struct compliance_settings {
    keyed_path audit;       /* audit.path and audit.key */
    char *audit_sign_key;   /* owned; NULL: lines are not signed */
    keyed_path suppression; /* compliance.suppression and compliance.key */
    char *policy_dir;       /* owned; NULL: the redact transform's default */
} compliance_settings;

/* Fills *out from the root mapping's `audit` and `compliance` blocks
 * (either may be absent). Errors go to diags with their place. Free with
 * compliance_settings_free(). */
void compliance_config_load(const ynode *root, const char *file, diag_list *diags, compliance_settings *out);
void compliance_settings_free(compliance_settings *s);

#endif
