/* Loading and validating the configuration file (shape in config.h). */
#include "config/config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/spelling.h"
#include "config/config_pins.h"
#include "config/options.h"
#include "config/options_json.h"
#include "config/otel_config.h"
#include "config/policy_fingerprint.h"
#include "config/validate_checks.h"

#define TASKS_MAX 64
#define BATCH_MAX_RECORDS 1000000

typedef struct config_loader {
    const char *file;
    plugin_registry *registry;
    diag_list *diags;
} config_loader;

static const char *const top_keys[] = { "state_dir", "plugin_path", "plugins",    "http",      "log",
                                         "otel",      "audit",       "compliance", "pipelines", NULL };
static const char *const pipeline_keys[] = { "name",  "tasks", "source",  "transforms", "sink",
                                             "batch", "retry", "restart", "errors",     "retention", NULL };
static const char *const retention_keys[] = { "interval", "action", NULL };
static const char *const retention_actions[] = { "delete", "anonymise", NULL };
static const char *const block_keys[] = { "plugin", "config", NULL };
static const char *const dead_letter_keys[] = { "plugin", "config", "protect", "keyring", NULL };
static const char *const protections[] = { "none", "encrypt", "redact", NULL };
static const char *const batch_keys[] = { "max_records", "max_wait", "max_bytes", "overlap", "transform_thread", NULL };
static const char *const retry_keys[] = { "backoff_initial", "backoff_max", NULL };
static const char *const restart_keys[] = { "max_failures", "window", "backoff_initial", "backoff_max", NULL };
static const char *const errors_keys[] = { "tolerance", "dead_letter", NULL };
static const char *const http_keys[] = { "listen", "web_config_file", "tls_server_config", "basic_auth_users",
                                         "authorization", NULL };
static const char *const log_keys[] = { "format", "level", NULL };
static const char *const log_formats[] = { "text", "json", NULL };
static const char *const log_levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const tolerances[] = { "none", "all", NULL };

static void report(config_loader *cl, const ynode *at, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One error at `at`; `prefix` ("pipeline 'p'") may be NULL. */
static void report(config_loader *cl, const ynode *at, const char *prefix, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    diag_add(cl->diags, DIAG_ERROR, cl->file, at ? at->line : 0, at ? at->column : 0, NULL, "%s%s%s",
             prefix ? prefix : "", prefix ? ": " : "", message);
}

static const char *kind_name(const ynode *node)
{
    if (options_is_null(node))
        return "nothing";
    return node->kind == YNODE_MAPPING ? "a mapping" : node->kind == YNODE_SEQUENCE ? "a sequence" : "a scalar";
}

static void join(const char *const *words, char *out, size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; words[i] && used < out_size; i++)
        used += (size_t)snprintf(out + used, out_size - used, "%s%s", i ? ", " : "", words[i]);
}

static bool in_list(const char *const *words, const char *word)
{
    for (size_t i = 0; words[i]; i++)
        if (strcmp(words[i], word) == 0)
            return true;
    return false;
}

/* Reports every key of `map` not in `allowed`. `section` names the mapping
 * ("at the top level", "in batch"). */
static void check_keys(config_loader *cl, const ynode *map, const char *const *allowed, const char *prefix,
                       const char *section)
{
    for (size_t i = 0; i < map->count; i++) {
        if (in_list(allowed, map->keys[i]->scalar))
            continue;
        spelling near;
        const char *meant = spelling_suggest(&near, map->keys[i]->scalar, allowed);
        if (meant) {
            report(cl, map->keys[i], prefix, "unknown key '%s' %s (did you mean '%s'?)", map->keys[i]->scalar,
                   section, meant);
            continue;
        }
        char expected[256];
        join(allowed, expected, sizeof(expected));
        report(cl, map->keys[i], prefix, "unknown key '%s' %s (expected one of: %s)", map->keys[i]->scalar, section,
               expected);
    }
}

/* A mapping, or NULL after reporting; a YAML null counts as absent. */
static const ynode *as_mapping(config_loader *cl, const ynode *node, const char *prefix, const char *what)
{
    if (!node || options_is_null(node))
        return NULL;
    if (node->kind != YNODE_MAPPING) {
        report(cl, node, prefix, "'%s' must be a mapping, got %s", what, kind_name(node));
        return NULL;
    }
    return node;
}

/* A non-empty scalar string, or NULL after reporting. */
static const char *as_string(config_loader *cl, const ynode *node, const char *prefix, const char *what)
{
    if (node->kind != YNODE_SCALAR || options_is_null(node) || !node->scalar[0]) {
        report(cl, node, prefix, "'%s' must be a non-empty string, got %s", what, kind_name(node));
        return NULL;
    }
    return node->scalar;
}

static void read_int(config_loader *cl, const ynode *map, const char *key, int64_t min, int64_t max,
                     const char *prefix, int64_t *out)
{
    const ynode *node = ynode_get(map, key);
    int64_t value;
    if (!node)
        return;
    if (node->kind != YNODE_SCALAR || options_parse_int(node->scalar, &value) < 0) {
        report(cl, node, prefix, "'%s' must be an integer from %lld to %lld, got %s%s%s", key, (long long)min,
               (long long)max, node->kind == YNODE_SCALAR ? "'" : kind_name(node),
               node->kind == YNODE_SCALAR ? node->scalar : "", node->kind == YNODE_SCALAR ? "'" : "");
        return;
    }
    if (value < min || value > max) {
        report(cl, node, prefix, "'%s' must be from %lld to %lld, got %lld", key, (long long)min, (long long)max,
               (long long)value);
        return;
    }
    *out = value;
}

/* A key whose value is auto, true or false: 2, 1 or 0 in *out. */
static void read_auto_bool(config_loader *cl, const ynode *map, const char *key, const char *prefix, int *out)
{
    const ynode *node = ynode_get(map, key);
    bool value;
    if (!node)
        return;
    if (node->kind == YNODE_SCALAR && strcmp(node->scalar, "auto") == 0) {
        *out = 2;
        return;
    }
    if (node->kind != YNODE_SCALAR || options_parse_bool(node->scalar, &value) < 0) {
        report(cl, node, prefix, "'%s' must be auto, true or false, got %s%s%s", key,
               node->kind == YNODE_SCALAR ? "'" : kind_name(node), node->kind == YNODE_SCALAR ? node->scalar : "",
               node->kind == YNODE_SCALAR ? "'" : "");
        return;
    }
    *out = value ? 1 : 0;
}

/* Durations and sizes must be > 0. */
static void read_amount(config_loader *cl, const ynode *map, const char *key, rdapsync_option_type type,
                        const char *prefix, int64_t *out)
{
    const ynode *node = ynode_get(map, key);
    int64_t value;
    if (!node)
        return;
    bool is_duration = type == RDAPSYNC_OPT_DURATION;
    int parsed = node->kind != YNODE_SCALAR  ? -1
                 : is_duration               ? options_parse_duration(node->scalar, &value)
                                             : options_parse_size(node->scalar, &value);
    if (parsed < 0 || value <= 0) {
        report(cl, node, prefix, "'%s' must be a %s greater than 0 (%s), got %s%s%s", key,
               is_duration ? "duration" : "size", is_duration ? "e.g. 250ms, 5s, 2m, 1h" : "e.g. 64K, 16M, 1G",
               node->kind == YNODE_SCALAR ? "'" : kind_name(node), node->kind == YNODE_SCALAR ? node->scalar : "",
               node->kind == YNODE_SCALAR ? "'" : "");
        return;
    }
    *out = value;
}

/* An index into `choices`, or -1 after reporting. */
static int read_choice(config_loader *cl, const ynode *node, const char *key, const char *const *choices,
                       const char *prefix)
{
    if (node->kind == YNODE_SCALAR)
        for (int i = 0; choices[i]; i++)
            if (strcmp(node->scalar, choices[i]) == 0)
                return i;
    char expected[128];
    join(choices, expected, sizeof(expected));
    if (node->kind == YNODE_SCALAR)
        report(cl, node, prefix, "'%s' must be one of: %s; got '%s'", key, expected, node->scalar);
    else
        report(cl, node, prefix, "'%s' must be one of: %s; got %s", key, expected, kind_name(node));
    return -1;
}

/* ---- plugin blocks ---- */

static void load_block_content(config_loader *cl, const ynode *node, rdapsync_kind kind, const char *role,
                               const char *prefix, plugin_block *block)
{
    block->line = node->line;
    block->column = node->column;
    if (node->kind != YNODE_MAPPING) {
        report(cl, node, prefix, "'%s' must be a mapping { plugin: NAME, config: {...} }, got %s", role,
               kind_name(node));
        return;
    }
    char section[64];
    snprintf(section, sizeof(section), "in %s", role);
    check_keys(cl, node, strcmp(role, "dead_letter") == 0 ? dead_letter_keys : block_keys, prefix, section);
    const ynode *plugin_node = ynode_get(node, "plugin");
    block->config_node = ynode_get(node, "config");
    if (!plugin_node) {
        report(cl, node, prefix, "%s: missing required key 'plugin'", role);
        return;
    }
    const char *name = as_string(cl, plugin_node, prefix, "plugin");
    if (!name)
        return;
    block->name = strdup(name);
    char err[4096];
    block->plugin = registry_get(cl->registry, kind, name, err, sizeof(err));
    if (!block->plugin) {
        report(cl, plugin_node, prefix, "%s: %s", role, err);
        return;
    }
    if (block->plugin->trust_warning)
        diag_add(cl->diags, DIAG_WARNING, cl->file, plugin_node->line, plugin_node->column, "insecure-plugin",
                 "%s: %s '%s': %s (loaded: --insecure-plugin-path)", prefix, role, name, block->plugin->trust_warning);
    const rdapsync_plugin *desc = block->plugin->desc;
    char context[512];
    snprintf(context, sizeof(context), "%s: %s '%s'", prefix, role, name);
    bool failed = false;
    block->settings = options_fill(desc, block->config_node, node, cl->file, context, cl->diags, &failed);
    if (failed || !block->settings || !desc->check)
        return;
    char reason[1024] = "";
    if (desc->check(block->settings, reason, sizeof(reason)) != RDAPSYNC_OK) {
        const ynode *at = block->config_node && !options_is_null(block->config_node) ? block->config_node : node;
        const char *text = reason;
        const ynode *inside = options_json_locate(block->config_node, reason, &text); /* "@PATH: " (ABI 1.3) */
        report(cl, inside ? inside : at, context, "invalid configuration: %s",
               text[0] ? text : "(the plugin gave no reason)");
    }
}

/* True when errors were reported since the count was `before`. */
static bool errors_since(const config_loader *cl, size_t before)
{
    return diag_error_count(cl->diags) > before;
}

static void load_block(config_loader *cl, const ynode *node, rdapsync_kind kind, const char *role,
                       const char *prefix, plugin_block *block)
{
    size_t before = diag_error_count(cl->diags);
    load_block_content(cl, node, kind, role, prefix, block);
    block->flawed = errors_since(cl, before);
}

static void free_block(plugin_block *block)
{
    if (block->plugin)
        options_free(block->plugin->desc, block->settings);
    else
        free(block->settings);
    free(block->name);
    memset(block, 0, sizeof(*block));
}

/* ---- pipeline sections ---- */

static void load_transforms(config_loader *cl, const ynode *node, const char *prefix, pipeline_config *pipeline)
{
    if (!node || options_is_null(node))
        return;
    if (node->kind != YNODE_SEQUENCE) {
        report(cl, node, prefix, "'transforms' must be a sequence of { plugin: NAME, config: {...} }, got %s",
               kind_name(node));
        return;
    }
    pipeline->transforms = calloc(node->count ? node->count : 1, sizeof(*pipeline->transforms));
    if (!pipeline->transforms)
        return;
    pipeline->transform_count = node->count;
    for (size_t i = 0; i < node->count; i++)
        load_block(cl, node->items[i], RDAPSYNC_KIND_TRANSFORM, "transform", prefix, &pipeline->transforms[i]);
}

static void load_batch(config_loader *cl, const ynode *pipe, const char *prefix, pipeline_config *pipeline)
{
    const ynode *batch = as_mapping(cl, ynode_get(pipe, "batch"), prefix, "batch");
    if (!batch)
        return;
    check_keys(cl, batch, batch_keys, prefix, "in batch");
    read_int(cl, batch, "max_records", 1, BATCH_MAX_RECORDS, prefix, &pipeline->batch_max_records);
    read_amount(cl, batch, "max_wait", RDAPSYNC_OPT_DURATION, prefix, &pipeline->batch_max_wait_ms);
    read_amount(cl, batch, "max_bytes", RDAPSYNC_OPT_SIZE, prefix, &pipeline->batch_max_bytes);
    int overlap = (int)pipeline->batch_overlap, thread = (int)pipeline->transform_thread;
    read_auto_bool(cl, batch, "overlap", prefix, &overlap);
    read_auto_bool(cl, batch, "transform_thread", prefix, &thread);
    pipeline->batch_overlap = (batch_overlap)overlap;
    pipeline->transform_thread = (transform_thread)thread;
}

/* backoff_initial <= backoff_max, reported at the initial value. */
static void check_backoff(config_loader *cl, const ynode *map, int64_t initial, int64_t max, const char *prefix,
                          const char *section)
{
    if (initial <= max)
        return;
    const ynode *at = ynode_get(map, "backoff_initial");
    char low[32], high[32];
    options_format_value(RDAPSYNC_OPT_DURATION, initial, low, sizeof(low));
    options_format_value(RDAPSYNC_OPT_DURATION, max, high, sizeof(high));
    report(cl, at ? at : map, prefix, "%s: backoff_initial %s is greater than backoff_max %s", section, low, high);
}

static void load_retry(config_loader *cl, const ynode *pipe, const char *prefix, pipeline_config *pipeline)
{
    const ynode *retry = as_mapping(cl, ynode_get(pipe, "retry"), prefix, "retry");
    if (!retry)
        return;
    check_keys(cl, retry, retry_keys, prefix, "in retry");
    read_amount(cl, retry, "backoff_initial", RDAPSYNC_OPT_DURATION, prefix, &pipeline->retry_backoff_initial_ms);
    read_amount(cl, retry, "backoff_max", RDAPSYNC_OPT_DURATION, prefix, &pipeline->retry_backoff_max_ms);
    check_backoff(cl, retry, pipeline->retry_backoff_initial_ms, pipeline->retry_backoff_max_ms, prefix, "retry");
}

static void load_restart(config_loader *cl, const ynode *pipe, const char *prefix, pipeline_config *pipeline)
{
    const ynode *restart = as_mapping(cl, ynode_get(pipe, "restart"), prefix, "restart");
    if (!restart)
        return;
    check_keys(cl, restart, restart_keys, prefix, "in restart");
    read_int(cl, restart, "max_failures", 1, 1000000, prefix, &pipeline->restart_max_failures);
    read_amount(cl, restart, "window", RDAPSYNC_OPT_DURATION, prefix, &pipeline->restart_window_ms);
    read_amount(cl, restart, "backoff_initial", RDAPSYNC_OPT_DURATION, prefix,
                &pipeline->restart_backoff_initial_ms);
    read_amount(cl, restart, "backoff_max", RDAPSYNC_OPT_DURATION, prefix, &pipeline->restart_backoff_max_ms);
    check_backoff(cl, restart, pipeline->restart_backoff_initial_ms, pipeline->restart_backoff_max_ms, prefix,
                  "restart");
}

static bool has_transform(const pipeline_config *pipeline, const char *name)
{
    for (size_t i = 0; i < pipeline->transform_count; i++)
        if (pipeline->transforms[i].name && strcmp(pipeline->transforms[i].name, name) == 0)
            return true;
    return false;
}

/* The encrypt transform for the dead letters, its options from a mapping
 * made of the one key `keyring` (resolved like any plugin option). */
static void load_protect_encrypt(config_loader *cl, const ynode *keyring, const char *prefix,
                                 pipeline_config *pipeline)
{
    plugin_block *block = &pipeline->protect_block;
    char err[4096], context[512];
    ynode key = { .kind = YNODE_SCALAR, .line = keyring->line, .column = keyring->column, .scalar = "keyring" };
    ynode *keys[1] = { &key };
    ynode *values[1] = { (ynode *)keyring };
    ynode map = { .kind = YNODE_MAPPING, .line = keyring->line, .column = keyring->column, .items = values,
                  .keys = keys, .count = 1 };
    bool failed = false;

    block->line = keyring->line;
    block->column = keyring->column;
    block->name = strdup("encrypt");
    block->plugin = registry_get(cl->registry, RDAPSYNC_KIND_TRANSFORM, "encrypt", err, sizeof(err));
    if (!block->plugin) {
        report(cl, keyring, prefix, "errors.dead_letter.protect encrypt needs the encrypt transform: %s", err);
        return;
    }
    snprintf(context, sizeof(context), "%s: errors.dead_letter", prefix);
    block->settings = options_fill(block->plugin->desc, &map, &map, cl->file, context, cl->diags, &failed);
    if (failed || !block->settings || !block->plugin->desc->check)
        return;
    char reason[1024] = "";
    if (block->plugin->desc->check(block->settings, reason, sizeof(reason)) != RDAPSYNC_OK)
        report(cl, keyring, prefix, "errors.dead_letter.keyring: %s", reason);
}

/* compliance.suppression: the redact transform with the `suppress` policy,
 * which the task applies to any record about a suppressed subject
 * (runtime/task_suppress.c), whether or not the pipeline redacts. */
static void load_suppress(config_loader *cl, const ynode *at, const char *prefix, const char *policy_dir,
                          pipeline_config *pipeline)
{
    plugin_block *block = &pipeline->suppress_block;
    char err[4096], context[512];
    ynode key = { .kind = YNODE_SCALAR, .line = at->line, .column = at->column, .scalar = "policy" };
    ynode value = { .kind = YNODE_SCALAR, .line = at->line, .column = at->column, .scalar = "suppress" };
    ynode dir_key = { .kind = YNODE_SCALAR, .line = at->line, .column = at->column, .scalar = "policy_dir" };
    ynode dir = { .kind = YNODE_SCALAR, .line = at->line, .column = at->column, .scalar = (char *)policy_dir,
                  .quoted = 1 };
    ynode *keys[2] = { &key, &dir_key };
    ynode *values[2] = { &value, &dir };
    ynode map = { .kind = YNODE_MAPPING, .line = at->line, .column = at->column, .items = values, .keys = keys,
                  .count = policy_dir ? 2 : 1 };
    bool failed = false;

    block->line = at->line;
    block->column = at->column;
    block->name = strdup("redact");
    block->plugin = registry_get(cl->registry, RDAPSYNC_KIND_TRANSFORM, "redact", err, sizeof(err));
    if (!block->plugin) {
        report(cl, at, prefix, "compliance.suppression needs the redact transform: %s", err);
        return;
    }
    snprintf(context, sizeof(context), "%s: compliance.suppression", prefix);
    block->settings = options_fill(block->plugin->desc, &map, &map, cl->file, context, cl->diags, &failed);
}

/*
 * errors.dead_letter.protect and .keyring. The default keeps personal data
 * out of dead letters whenever the pipeline redacts: encrypt with the
 * keyring, and without a keyring the pipeline is refused rather than
 * writing anything in clear.
 */
static void load_protect(config_loader *cl, const ynode *dead_letter, const char *prefix, pipeline_config *pipeline)
{
    const ynode *protect = ynode_get(dead_letter, "protect");
    const ynode *keyring = ynode_get(dead_letter, "keyring");
    bool redacts = has_transform(pipeline, "redact");

    pipeline->protect_line = protect ? protect->line : dead_letter->line;
    pipeline->protect_column = protect ? protect->column : dead_letter->column;
    if (protect) {
        int choice = read_choice(cl, protect, "protect", protections, prefix);
        if (choice < 0)
            return;
        pipeline->protect = (dead_letter_protect)choice;
        pipeline->protect_explicit = true;
    } else if (keyring) {
        pipeline->protect = PROTECT_ENCRYPT;
    } else if (redacts) {
        report(cl, dead_letter, prefix,
               "errors.dead_letter: the pipeline redacts personal data, so its dead letters must not hold documents "
               "in clear: add 'keyring: ${file:PATH}' (protect: encrypt, the default), or 'protect: redact', or "
               "'protect: none' to write them as they are");
        return;
    }
    if (pipeline->protect == PROTECT_ENCRYPT) {
        if (!keyring) {
            report(cl, protect, prefix, "errors.dead_letter.protect is 'encrypt' but there is no "
                                        "errors.dead_letter.keyring (e.g. keyring: ${file:PATH})");
            return;
        }
        load_protect_encrypt(cl, keyring, prefix, pipeline);
    } else if (keyring) {
        report(cl, keyring, prefix, "errors.dead_letter.keyring is only used with protect: encrypt");
    }
    if (pipeline->protect == PROTECT_REDACT && !redacts)
        report(cl, protect, prefix, "errors.dead_letter.protect is 'redact' but the pipeline has no redact transform");
}

static void load_errors(config_loader *cl, const ynode *pipe, const char *prefix, pipeline_config *pipeline)
{
    const ynode *errors = as_mapping(cl, ynode_get(pipe, "errors"), prefix, "errors");
    if (!errors)
        return;
    check_keys(cl, errors, errors_keys, prefix, "in errors");
    const ynode *tolerance = ynode_get(errors, "tolerance");
    if (tolerance) {
        int choice = read_choice(cl, tolerance, "tolerance", tolerances, prefix);
        if (choice >= 0)
            pipeline->tolerance = choice == 1 ? TOLERANCE_ALL : TOLERANCE_NONE;
    }
    const ynode *dead_letter = ynode_get(errors, "dead_letter");
    if (dead_letter && !options_is_null(dead_letter)) {
        pipeline->has_dead_letter = true;
        load_block(cl, dead_letter, RDAPSYNC_KIND_SINK, "dead_letter", prefix, &pipeline->dead_letter);
        load_protect(cl, dead_letter, prefix, pipeline);
    }
}

/* retention: { interval, action } (docs/compliance.md). */
static void load_retention(config_loader *cl, const ynode *pipe, const char *prefix, pipeline_config *pipeline)
{
    const ynode *retention = as_mapping(cl, ynode_get(pipe, "retention"), prefix, "retention");
    if (!retention)
        return;
    check_keys(cl, retention, retention_keys, prefix, "in retention");
    pipeline->has_retention = true;
    read_amount(cl, retention, "interval", RDAPSYNC_OPT_DURATION, prefix, &pipeline->retention_interval_ms);
    const ynode *action = ynode_get(retention, "action");
    if (action) {
        int choice = read_choice(cl, action, "action", retention_actions, prefix);
        pipeline->retention_anonymise = choice == 1;
    }
}

static bool valid_pipeline_name(const char *name)
{
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(name);
}

static void set_pipeline_defaults(pipeline_config *pipeline)
{
    pipeline->tasks = 1;
    pipeline->tolerance = TOLERANCE_NONE;
    pipeline->retention_interval_ms = 3600000;
    pipeline->batch_max_records = 1000;
    pipeline->batch_max_wait_ms = 200;
    pipeline->batch_max_bytes = INT64_C(16) << 20;
    pipeline->batch_overlap = BATCH_OVERLAP_AUTO;
    pipeline->transform_thread = TRANSFORM_THREAD_AUTO;
    pipeline->retry_backoff_initial_ms = 100;
    pipeline->retry_backoff_max_ms = 30000;
    pipeline->restart_max_failures = 5;
    pipeline->restart_window_ms = 5 * 60000;
    pipeline->restart_backoff_initial_ms = 1000;
    pipeline->restart_backoff_max_ms = 60000;
}

/* The name, checked for form and uniqueness against pipelines[0..index). */
static void load_name(config_loader *cl, const ynode *pipe, rdapsync_config *config, size_t index)
{
    pipeline_config *pipeline = &config->pipelines[index];
    char fallback[64];
    snprintf(fallback, sizeof(fallback), "pipeline #%zu", index + 1);
    const ynode *name = ynode_get(pipe, "name");
    if (!name) {
        report(cl, pipe, fallback, "missing required key 'name'");
        return;
    }
    const char *text = as_string(cl, name, fallback, "name");
    if (!text)
        return;
    if (!valid_pipeline_name(text)) {
        report(cl, name, fallback, "name '%s' may only contain letters, digits, '_', '.' and '-'", text);
        return;
    }
    for (size_t i = 0; i < index; i++) {
        if (config->pipelines[i].name && strcmp(config->pipelines[i].name, text) == 0) {
            report(cl, name, NULL, "duplicate pipeline name '%s' (first defined at line %d, column %d)", text,
                   config->pipelines[i].line, config->pipelines[i].column);
            return;
        }
    }
    pipeline->name = strdup(text);
}

static void fingerprint_block(uint64_t *hash, const plugin_block *block, const char *role)
{
    *hash = options_hash_bytes(*hash, role, strlen(role) + 1);
    if (block->name)
        *hash = options_hash_bytes(*hash, block->name, strlen(block->name) + 1);
    if (block->plugin)
        *hash = options_hash(block->plugin->desc, block->settings, *hash);
}

/* A hash of everything that makes the pipeline run the way it does, with
 * secrets resolved: a rotated password restarts the pipeline on reload. */
static uint64_t fingerprint(const pipeline_config *pipeline)
{
    uint64_t hash = OPTIONS_HASH_SEED;
    if (pipeline->name)
        hash = options_hash_bytes(hash, pipeline->name, strlen(pipeline->name) + 1);
    const int64_t numbers[] = { pipeline->tasks,
                                pipeline->has_retention,
                                pipeline->retention_interval_ms,
                                pipeline->retention_anonymise,
                                pipeline->tolerance,
                                pipeline->has_dead_letter,
                                (int64_t)pipeline->transform_count,
                                pipeline->batch_max_records,
                                pipeline->batch_max_wait_ms,
                                pipeline->batch_max_bytes,
                                pipeline->batch_overlap,
                                pipeline->transform_thread,
                                pipeline->retry_backoff_initial_ms,
                                pipeline->retry_backoff_max_ms,
                                pipeline->restart_max_failures,
                                pipeline->restart_window_ms,
                                pipeline->restart_backoff_initial_ms,
                                pipeline->restart_backoff_max_ms };
    hash = options_hash_bytes(hash, numbers, sizeof(numbers));
    fingerprint_block(&hash, &pipeline->source, "source");
    for (size_t i = 0; i < pipeline->transform_count; i++)
        fingerprint_block(&hash, &pipeline->transforms[i], "transform");
    fingerprint_block(&hash, &pipeline->sink, "sink");
    if (pipeline->has_dead_letter)
        fingerprint_block(&hash, &pipeline->dead_letter, "dead_letter");
    hash = options_hash_bytes(hash, &pipeline->protect, sizeof(pipeline->protect));
    if (pipeline->protect_block.name)
        fingerprint_block(&hash, &pipeline->protect_block, "protect");
    if (pipeline->suppress_block.name)
        fingerprint_block(&hash, &pipeline->suppress_block, "suppress");
    return hash;
}

static void load_pipeline(config_loader *cl, const ynode *pipe, rdapsync_config *config, size_t index)
{
    pipeline_config *pipeline = &config->pipelines[index];
    set_pipeline_defaults(pipeline);
    pipeline->file = config->path;
    pipeline->line = pipe->line;
    pipeline->column = pipe->column;
    if (pipe->kind != YNODE_MAPPING) {
        report(cl, pipe, NULL, "pipeline #%zu must be a mapping with name, source and sink, got %s", index + 1,
               kind_name(pipe));
        return;
    }
    size_t before = diag_error_count(cl->diags);
    load_name(cl, pipe, config, index);
    char prefix[256];
    if (pipeline->name)
        snprintf(prefix, sizeof(prefix), "pipeline '%s'", pipeline->name);
    else
        snprintf(prefix, sizeof(prefix), "pipeline #%zu", index + 1);
    check_keys(cl, pipe, pipeline_keys, prefix, "in the pipeline");
    const ynode *source = ynode_get(pipe, "source");
    const ynode *sink = ynode_get(pipe, "sink");
    if (!source)
        report(cl, pipe, prefix, "missing required key 'source'");
    if (!sink)
        report(cl, pipe, prefix, "missing required key 'sink'");
    if (errors_since(cl, before))
        pipeline->flawed |= PART_MAPPING;

    before = diag_error_count(cl->diags);
    int64_t tasks = pipeline->tasks;
    read_int(cl, pipe, "tasks", 1, TASKS_MAX, prefix, &tasks);
    pipeline->tasks = (int)tasks;
    if (errors_since(cl, before))
        pipeline->flawed |= PART_TASKS;

    if (source) {
        load_block(cl, source, RDAPSYNC_KIND_SOURCE, "source", prefix, &pipeline->source);
        if (pipeline->source.flawed)
            pipeline->flawed |= PART_SOURCE;
    }
    before = diag_error_count(cl->diags);
    load_transforms(cl, ynode_get(pipe, "transforms"), prefix, pipeline);
    load_retention(cl, pipe, prefix, pipeline);
    /* Anonymising is redacting every contact: the same instance. */
    if (config->compliance.suppression.path || pipeline->retention_anonymise)
        load_suppress(cl, pipe, prefix, config->compliance.policy_dir, pipeline);
    if (errors_since(cl, before))
        pipeline->flawed |= PART_TRANSFORMS;
    if (sink) {
        load_block(cl, sink, RDAPSYNC_KIND_SINK, "sink", prefix, &pipeline->sink);
        if (pipeline->sink.flawed)
            pipeline->flawed |= PART_SINK;
    }
    const struct {
        void (*load)(config_loader *, const ynode *, const char *, pipeline_config *);
        pipeline_part part;
    } sections[] = { { load_batch, PART_BATCH }, { load_retry, PART_RETRY }, { load_restart, PART_RESTART },
                     { load_errors, PART_ERRORS } };
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        before = diag_error_count(cl->diags);
        sections[i].load(cl, pipe, prefix, pipeline);
        if (errors_since(cl, before))
            pipeline->flawed |= sections[i].part;
    }
    pipeline->fingerprint = fingerprint(pipeline);
    pipeline->policy_fingerprint = config_policy_fingerprint(pipeline);
    validate_checks_pipeline(cl->file, pipeline, pipe, cl->diags);
}

/* ---- top level ---- */

static void load_plugin_path(config_loader *cl, const ynode *node, rdapsync_config *config)
{
    if (!node || options_is_null(node))
        return;
    if (node->kind == YNODE_MAPPING) {
        report(cl, node, NULL, "'plugin_path' must be a directory or a sequence of directories, got a mapping");
        return;
    }
    size_t count = node->kind == YNODE_SCALAR ? 1 : node->count;
    config->plugin_path = calloc(count ? count : 1, sizeof(char *));
    if (!config->plugin_path)
        return;
    for (size_t i = 0; i < count; i++) {
        const ynode *item = node->kind == YNODE_SCALAR ? node : node->items[i];
        const char *dir = as_string(cl, item, NULL, "plugin_path");
        if (dir)
            config->plugin_path[config->plugin_path_count++] = strdup(dir);
    }
    registry_prepend_path(cl->registry, (const char *const *)config->plugin_path, config->plugin_path_count);
}

/* "host:port" or "[v6]:port" with a port of 1..65535. */
static bool valid_listen(const char *text)
{
    const char *colon = strrchr(text, ':');
    int64_t port;
    return colon && colon != text && options_parse_int(colon + 1, &port) == 0 && port >= 1 && port <= 65535;
}

static void load_http(config_loader *cl, const ynode *root, rdapsync_config *config)
{
    const ynode *http = as_mapping(cl, ynode_get(root, "http"), NULL, "http");
    if (!http)
        return;
    check_keys(cl, http, http_keys, NULL, "in http");
    http_settings_load(cl->file, http, cl->diags, &config->http);
    const ynode *listen = ynode_get(http, "listen");
    if (!listen) {
        if (config->http.cert_file || http_settings_has_auth(&config->http))
            diag_add(cl->diags, DIAG_WARNING, cl->file, http->line, http->column, "http-no-listen",
                     "http: TLS or authentication is configured but there is no 'listen': no endpoint is started");
        return;
    }
    const char *text = as_string(cl, listen, "http", "listen");
    if (!text)
        return;
    if (!valid_listen(text)) {
        report(cl, listen, "http", "'listen' must be HOST:PORT (e.g. 127.0.0.1:8080), got '%s'", text);
        return;
    }
    config->http_listen = strdup(text);
    if (!http_listen_is_loopback(text) && (!config->http.cert_file || !http_settings_has_auth(&config->http)))
        diag_add(cl->diags, DIAG_WARNING, cl->file, listen->line, listen->column, "http-exposed",
                 "http: listen '%s' is not a loopback address, and the endpoint has %s; see tls_server_config, "
                 "basic_auth_users and authorization in docs/configuration.md",
                 text, config->http.cert_file ? "no authentication" : http_settings_has_auth(&config->http)
                                                                      ? "no TLS (credentials cross the network in clear)"
                                                                      : "neither TLS nor authentication");
}

static void load_log(config_loader *cl, const ynode *root, rdapsync_config *config)
{
    const ynode *log = as_mapping(cl, ynode_get(root, "log"), NULL, "log");
    if (!log)
        return;
    check_keys(cl, log, log_keys, NULL, "in log");
    const ynode *format = ynode_get(log, "format");
    if (format) {
        int choice = read_choice(cl, format, "format", log_formats, "log");
        if (choice >= 0)
            config->log_json = choice;
    }
    const ynode *level = ynode_get(log, "level");
    if (level) {
        int choice = read_choice(cl, level, "level", log_levels, "log");
        if (choice >= 0)
            config->log_level = choice;
    }
}

static void load_pipelines(config_loader *cl, const ynode *root, rdapsync_config *config)
{
    const ynode *pipelines = ynode_get(root, "pipelines");
    if (!pipelines) {
        report(cl, root, NULL, "missing required key 'pipelines'");
        return;
    }
    if (pipelines->kind != YNODE_SEQUENCE || pipelines->count == 0) {
        report(cl, pipelines, NULL, "'pipelines' must be a non-empty sequence of pipelines, got %s",
               pipelines->kind == YNODE_SEQUENCE ? "an empty sequence" : kind_name(pipelines));
        return;
    }
    config->pipelines = calloc(pipelines->count, sizeof(*config->pipelines));
    if (!config->pipelines)
        return;
    config->pipeline_count = pipelines->count;
    for (size_t i = 0; i < pipelines->count; i++)
        load_pipeline(cl, pipelines->items[i], config, i);
}

rdapsync_config *config_load(const char *path, plugin_registry *registry, diag_list *diags)
{
    size_t errors_before = diag_error_count(diags);
    ynode *root = yaml_tree_load(path, diags);
    return root ? config_load_tree(path, root, registry, diags, errors_before) : NULL;
}

rdapsync_config *config_load_tree(const char *path, ynode *tree, plugin_registry *registry, diag_list *diags,
                                  size_t errors_before)
{
    config_loader cl = { .file = path, .registry = registry, .diags = diags };
    rdapsync_config *config = calloc(1, sizeof(*config));
    if (!config) {
        ynode_free(tree);
        diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "out of memory");
        return NULL;
    }
    config->path = strdup(path);
    config->log_level = RDAPSYNC_LOG_INFO;
    config->root = tree;
    const ynode *root = config->root;
    if (root->kind != YNODE_MAPPING) {
        report(&cl, root, NULL, "the file must be a mapping with a 'pipelines' key, got %s", kind_name(root));
        goto fail;
    }
    check_keys(&cl, root, top_keys, NULL, "at the top level");
    const ynode *state_dir = ynode_get(root, "state_dir");
    const char *state_text = state_dir ? as_string(&cl, state_dir, NULL, "state_dir") : NULL;
    config->state_dir = strdup(state_text ? state_text : "var/state");
    load_plugin_path(&cl, ynode_get(root, "plugin_path"), config);
    config_pins_load(path, ynode_get(root, "plugins"), registry, diags);
    load_http(&cl, root, config);
    load_log(&cl, root, config);
    otel_config_load(ynode_get(root, "otel"), path, diags, &config->otel);
    compliance_config_load(root, path, diags, &config->compliance);
    load_pipelines(&cl, root, config);
    if (diag_error_count(diags) > errors_before)
        goto fail;
    return config;
fail:
    config_free(config);
    return NULL;
}

void config_free(rdapsync_config *config)
{
    if (!config)
        return;
    for (size_t i = 0; i < config->pipeline_count; i++) {
        pipeline_config *pipeline = &config->pipelines[i];
        free_block(&pipeline->source);
        for (size_t t = 0; t < pipeline->transform_count; t++)
            free_block(&pipeline->transforms[t]);
        free(pipeline->transforms);
        free_block(&pipeline->sink);
        free_block(&pipeline->dead_letter);
        free_block(&pipeline->protect_block);
        free_block(&pipeline->suppress_block);
        free(pipeline->name);
    }
    free(config->pipelines);
    for (size_t i = 0; i < config->plugin_path_count; i++)
        free(config->plugin_path[i]);
    free(config->plugin_path);
    free(config->http_listen);
    http_settings_free(&config->http);
    otel_settings_free(&config->otel);
    compliance_settings_free(&config->compliance);
    free(config->state_dir);
    free(config->path);
    ynode_free(config->root);
    free(config);
}
