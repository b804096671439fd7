/*
 * Filling a plugin's config struct from its declared option table
 * (rdapsync/options.h): value parsing shared with the host's own settings,
 * option-table sanity for the loader, and the fingerprint of a filled struct.
 */
#ifndef RDAPSYNC_HOST_OPTIONS_H
#define RDAPSYNC_HOST_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#include "base/diag.h"
#include "config/yaml_tree.h"

/* Each returns 0 and sets *out, or -1 when `text` is not of the form. */
int options_parse_int(const char *text, int64_t *out);
int options_parse_bool(const char *text, bool *out);
int options_parse_size(const char *text, int64_t *out);     /* "512", "64K", "1M", "2G", "1T" (powers of 1024) */
int options_parse_duration(const char *text, int64_t *out); /* ms: "250ms", "5s", "2m", "1h", "1d", "1m30s", "200" */
int options_parse_double(const char *text, double *out);

/* "string", "int", ... (static). */
const char *options_type_name(rdapsync_option_type type);
/* Writes a SIZE/DURATION/INT value the way a user would (e.g. "16M", "5m");
 * for the other types the decimal number. */
void options_format_value(rdapsync_option_type type, int64_t value, char *out, size_t out_size);

/* True for a plain YAML null: empty, "~", "null". */
bool options_is_null(const ynode *node);

/*
 * Checks a descriptor's table: unique valid names, known types and flags,
 * each slot inside config_size and aligned, enum lists present, defaults that
 * parse and sit within range, no default on a required option. Returns 0, or
 * -1 with a reason naming the row in err.
 */
int options_table_check(const rdapsync_option *table, size_t config_size, char *err, size_t err_size);

/* ABI 1.2: the end offset of the plugin's rdapsync_options_set in its
 * config struct, or 0 when it has none (or was built before 1.2). */
size_t options_set_end(const rdapsync_plugin *desc);
/* Checks that set lies inside config_size, aligned, apart from every
 * option's slot. 0, or -1 with a reason in err. */
int options_set_check(const rdapsync_plugin *desc, char *err, size_t err_size);

/*
 * Builds the config struct of `desc` from the mapping `config` (NULL or a
 * YAML null = no options): unknown options, types, ranges, enums, required
 * options, defaults, ${env:}/${file:} references in every scalar, and
 * (ABI 1.2) the plugin's options set: which rows the mapping wrote. Errors go
 * to diags at the offending node (or at `block` for missing options), each
 * prefixed with `context` (e.g. "pipeline 'p': sink 'postgres'"). The
 * values of SECRET options, of map entries whose key names a credential
 * (secrets_is_credential_name) and of ${file:} references are registered
 * with secrets_register() and never printed; other ${env:} values are not.
 * Returns the struct (caller frees with options_free()) even when errors
 * were added, so every error of the file is found; *failed tells.
 */
void *options_fill(const rdapsync_plugin *desc, const ynode *config, const ynode *block, const char *file,
                   const char *context, diag_list *diags, bool *failed);
/* Frees a struct from options_fill() and everything it points to. NULL-safe. */
void options_free(const rdapsync_plugin *desc, void *settings);

/* Folds the resolved values of a filled struct into an FNV-1a hash. */
uint64_t options_hash(const rdapsync_plugin *desc, const void *settings, uint64_t hash);
/* FNV-1a of `len` bytes continuing from `hash` (start: OPTIONS_HASH_SEED). */
#define OPTIONS_HASH_SEED 14695981039346656037ULL
uint64_t options_hash_bytes(uint64_t hash, const void *bytes, size_t len);

/* The option named `name` in `table`, or NULL. */
const rdapsync_option *options_find(const rdapsync_option *table, const char *name);

#endif
