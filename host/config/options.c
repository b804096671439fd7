/* Declared options: table sanity, filling config structs, fingerprints. */
#include "config/options.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/secrets.h"
#include "base/spelling.h"
#include "config/options_json.h"

/* A runaway (unterminated) table is a plugin bug; stop reading well before
 * walking off into unrelated memory for long. The explicit-set bits
 * (rdapsync_options_set) have room for exactly this many rows. */
#define OPTIONS_MAX_ROWS RDAPSYNC_OPTIONS_MAX
#define OPTIONS_MAX_ENUM 256

/* What a value must look like, for messages. */
static const char *type_expectation(rdapsync_option_type type)
{
    switch (type) {
    case RDAPSYNC_OPT_STRING: return "a string";
    case RDAPSYNC_OPT_INT: return "an integer";
    case RDAPSYNC_OPT_BOOL: return "a boolean (true/false/yes/no/on/off)";
    case RDAPSYNC_OPT_SIZE: return "a size such as 512, 64K, 1M or 2G";
    case RDAPSYNC_OPT_DURATION: return "a duration such as 250ms, 5s, 2m or 1h";
    case RDAPSYNC_OPT_ENUM: return "one of the listed values";
    case RDAPSYNC_OPT_LIST: return "a list of scalars (or one scalar)";
    case RDAPSYNC_OPT_DOUBLE: return "a number";
    case RDAPSYNC_OPT_MAP: return "a mapping of scalars";
    case RDAPSYNC_OPT_JSON: return "any YAML value";
    }
    return "a value";
}

const rdapsync_option *options_find(const rdapsync_option *table, const char *name)
{
    for (size_t i = 0; table && table[i].name && i < OPTIONS_MAX_ROWS; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* ---- slots in the config struct ---- */

static size_t slot_size(rdapsync_option_type type)
{
    switch (type) {
    case RDAPSYNC_OPT_STRING:
    case RDAPSYNC_OPT_JSON: return sizeof(char *);
    case RDAPSYNC_OPT_INT:
    case RDAPSYNC_OPT_SIZE:
    case RDAPSYNC_OPT_DURATION: return sizeof(int64_t);
    case RDAPSYNC_OPT_BOOL: return sizeof(bool);
    case RDAPSYNC_OPT_ENUM: return sizeof(int);
    case RDAPSYNC_OPT_LIST: return sizeof(rdapsync_string_list);
    case RDAPSYNC_OPT_DOUBLE: return sizeof(double);
    case RDAPSYNC_OPT_MAP: return sizeof(rdapsync_string_map);
    }
    return 0;
}

static size_t slot_align(rdapsync_option_type type)
{
    switch (type) {
    case RDAPSYNC_OPT_STRING:
    case RDAPSYNC_OPT_JSON: return alignof(char *);
    case RDAPSYNC_OPT_INT:
    case RDAPSYNC_OPT_SIZE:
    case RDAPSYNC_OPT_DURATION: return alignof(int64_t);
    case RDAPSYNC_OPT_BOOL: return alignof(bool);
    case RDAPSYNC_OPT_ENUM: return alignof(int);
    case RDAPSYNC_OPT_LIST: return alignof(rdapsync_string_list);
    case RDAPSYNC_OPT_DOUBLE: return alignof(double);
    case RDAPSYNC_OPT_MAP: return alignof(rdapsync_string_map);
    }
    return 1;
}

static void *slot(void *settings, const rdapsync_option *opt)
{
    return (char *)settings + opt->offset;
}

static void list_free(rdapsync_string_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    memset(list, 0, sizeof(*list));
}

static void map_free(rdapsync_string_map *map)
{
    for (size_t i = 0; i < map->count; i++) {
        free(map->keys[i]);
        free(map->values[i]);
    }
    free(map->keys);
    free(map->values);
    memset(map, 0, sizeof(*map));
}

/* Releases what a slot points to and zeroes it (a repeated fill replaces). */
static void slot_clear(void *settings, const rdapsync_option *opt)
{
    void *at = slot(settings, opt);
    switch (opt->type) {
    case RDAPSYNC_OPT_STRING:
    case RDAPSYNC_OPT_JSON: {
        char *text;
        memcpy(&text, at, sizeof(text));
        free(text);
        break;
    }
    case RDAPSYNC_OPT_LIST: list_free(at); break;
    case RDAPSYNC_OPT_MAP: map_free(at); break;
    default: break;
    }
    memset(at, 0, slot_size(opt->type));
}

static int list_push(rdapsync_string_list *list, char *item)
{
    char **items = realloc(list->items, (list->count + 1) * sizeof(*items));
    if (!items) {
        free(item);
        return -1;
    }
    list->items = items;
    list->items[list->count++] = item;
    return 0;
}

static int map_push(rdapsync_string_map *map, char *key, char *value)
{
    char **keys = realloc(map->keys, (map->count + 1) * sizeof(*keys));
    if (keys)
        map->keys = keys;
    char **values = keys ? realloc(map->values, (map->count + 1) * sizeof(*values)) : NULL;
    if (values)
        map->values = values;
    if (!keys || !values) {
        free(key);
        free(value);
        return -1;
    }
    map->keys[map->count] = key;
    map->values[map->count++] = value;
    return 0;
}

/*
 * Converts one scalar text for a scalar-typed option and stores it. On
 * failure writes into err what was expected (never the text itself: the
 * caller decides whether the text may be shown).
 */
static int store_scalar(void *settings, const rdapsync_option *opt, const char *text, char *err, size_t err_size)
{
    void *at = slot(settings, opt);
    int64_t number = 0;
    switch (opt->type) {
    case RDAPSYNC_OPT_STRING:
    case RDAPSYNC_OPT_JSON: /* only defaults come here: JSON text as written in the table */ {
        char *copy = strdup(text);
        if (!copy)
            goto nomem;
        memcpy(at, &copy, sizeof(copy));
        return 0;
    }
    case RDAPSYNC_OPT_BOOL: {
        bool value;
        if (options_parse_bool(text, &value) < 0)
            goto bad_type;
        memcpy(at, &value, sizeof(value));
        return 0;
    }
    case RDAPSYNC_OPT_DOUBLE: {
        double value;
        if (options_parse_double(text, &value) < 0)
            goto bad_type;
        memcpy(at, &value, sizeof(value));
        return 0;
    }
    case RDAPSYNC_OPT_ENUM: {
        for (int i = 0; opt->enum_values && opt->enum_values[i] && i < OPTIONS_MAX_ENUM; i++) {
            if (strcmp(opt->enum_values[i], text) == 0) {
                memcpy(at, &i, sizeof(i));
                return 0;
            }
        }
        size_t used = (size_t)snprintf(err, err_size, "must be one of:");
        for (int i = 0; opt->enum_values && opt->enum_values[i] && used < err_size; i++)
            used += (size_t)snprintf(err + used, err_size - used, "%s %s", i ? "," : "", opt->enum_values[i]);
        return -1;
    }
    case RDAPSYNC_OPT_INT:
        if (options_parse_int(text, &number) < 0)
            goto bad_type;
        break;
    case RDAPSYNC_OPT_SIZE:
        if (options_parse_size(text, &number) < 0)
            goto bad_type;
        break;
    case RDAPSYNC_OPT_DURATION:
        if (options_parse_duration(text, &number) < 0)
            goto bad_type;
        break;
    default:
        goto bad_type;
    }
    if (opt->min < opt->max && (number < opt->min || number > opt->max)) {
        char low[32], high[32];
        options_format_value(opt->type, opt->min, low, sizeof(low));
        options_format_value(opt->type, opt->max, high, sizeof(high));
        snprintf(err, err_size, "must be between %s and %s", low, high);
        return -1;
    }
    memcpy(at, &number, sizeof(number));
    return 0;
bad_type:
    snprintf(err, err_size, "expects %s", type_expectation(opt->type));
    return -1;
nomem:
    snprintf(err, err_size, "out of memory");
    return -1;
}

/* Applies a default written in the table ("a,b" for lists, "k=v,k2=v2" for maps). */
static int store_default(void *settings, const rdapsync_option *opt, char *err, size_t err_size)
{
    if (!opt->default_value)
        return 0;
    if (opt->type != RDAPSYNC_OPT_LIST && opt->type != RDAPSYNC_OPT_MAP)
        return store_scalar(settings, opt, opt->default_value, err, err_size);
    char *copy = strdup(opt->default_value);
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *part = strtok_r(copy, ",", &save); part && rc == 0; part = strtok_r(NULL, ",", &save)) {
        if (opt->type == RDAPSYNC_OPT_LIST) {
            rc = list_push(slot(settings, opt), strdup(part));
            continue;
        }
        char *equals = strchr(part, '=');
        if (!equals) {
            snprintf(err, err_size, "map default entries are written key=value");
            rc = -1;
            break;
        }
        *equals = '\0';
        rc = map_push(slot(settings, opt), strdup(part), strdup(equals + 1));
    }
    free(copy);
    return rc;
}

/* ---- table sanity (loader) ---- */

static bool valid_option_name(const char *name)
{
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return false;
    return true;
}

int options_table_check(const rdapsync_option *table, size_t config_size, char *err, size_t err_size)
{
    if (!table)
        return 0;
    void *scratch = calloc(1, config_size ? config_size : 1);
    if (!scratch) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    int rc = -1;
    size_t row = 0;
    for (; table[row].name; row++) {
        const rdapsync_option *opt = &table[row];
        char reason[256];
        if (row >= OPTIONS_MAX_ROWS) {
            snprintf(err, err_size, "options: more than %d rows (is the table ended by a row with a NULL name?)",
                     OPTIONS_MAX_ROWS);
            goto out;
        }
        if (!valid_option_name(opt->name)) {
            snprintf(err, err_size, "options[%zu]: invalid name '%s' (use letters, digits, _ - .)", row, opt->name);
            goto out;
        }
        for (size_t before = 0; before < row; before++) {
            if (strcmp(table[before].name, opt->name) == 0) {
                snprintf(err, err_size, "options[%zu]: duplicate name '%s'", row, opt->name);
                goto out;
            }
        }
        if (slot_size(opt->type) == 0) {
            snprintf(err, err_size, "options[%zu] '%s': unknown type %d", row, opt->name, (int)opt->type);
            goto out;
        }
        if (opt->flags & ~(RDAPSYNC_OPT_REQUIRED | RDAPSYNC_OPT_SECRET)) {
            snprintf(err, err_size, "options[%zu] '%s': unknown flags 0x%x", row, opt->name, opt->flags);
            goto out;
        }
        if (opt->offset > config_size || slot_size(opt->type) > config_size - opt->offset) {
            snprintf(err, err_size, "options[%zu] '%s': offset %zu + %zu bytes is outside config_size %zu", row,
                     opt->name, opt->offset, slot_size(opt->type), config_size);
            goto out;
        }
        if (opt->offset % slot_align(opt->type)) {
            snprintf(err, err_size, "options[%zu] '%s': offset %zu is not aligned for a %s", row, opt->name,
                     opt->offset, options_type_name(opt->type));
            goto out;
        }
        if (opt->type == RDAPSYNC_OPT_ENUM && (!opt->enum_values || !opt->enum_values[0])) {
            snprintf(err, err_size, "options[%zu] '%s': enum without enum_values", row, opt->name);
            goto out;
        }
        if ((opt->flags & RDAPSYNC_OPT_REQUIRED) && opt->default_value) {
            snprintf(err, err_size, "options[%zu] '%s': a required option cannot have a default", row, opt->name);
            goto out;
        }
        if (store_default(scratch, opt, reason, sizeof(reason)) < 0) {
            snprintf(err, err_size, "options[%zu] '%s': default '%s' %s", row, opt->name, opt->default_value,
                     reason);
            slot_clear(scratch, opt);
            goto out;
        }
        slot_clear(scratch, opt);
    }
    rc = 0;
out:
    free(scratch);
    return rc;
}

/* ---- which options were written (ABI 1.2) ---- */

#define END_OF(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

size_t options_set_end(const rdapsync_plugin *desc)
{
    return desc->struct_size >= END_OF(rdapsync_plugin, options_set_end) ? desc->options_set_end : 0;
}

int options_set_check(const rdapsync_plugin *desc, char *err, size_t err_size)
{
    size_t end = options_set_end(desc);
    if (end == 0)
        return 0;
    size_t size = sizeof(rdapsync_options_set);
    if (end < size || end > desc->config_size) {
        snprintf(err, err_size, "options_set_end %zu: the set of %zu bytes is outside config_size %zu", end, size,
                 desc->config_size);
        return -1;
    }
    size_t start = end - size;
    if (start % alignof(rdapsync_options_set)) {
        snprintf(err, err_size, "options_set_end %zu: the set at offset %zu is not aligned", end, start);
        return -1;
    }
    for (size_t row = 0; desc->options && desc->options[row].name && row < OPTIONS_MAX_ROWS; row++) {
        const rdapsync_option *opt = &desc->options[row];
        if (opt->offset < end && opt->offset + slot_size(opt->type) > start) {
            snprintf(err, err_size, "options[%zu] '%s' overlaps the options set at offset %zu", row, opt->name, start);
            return -1;
        }
    }
    return 0;
}

static void mark_set(rdapsync_options_set *set, const rdapsync_option *table, const rdapsync_option *opt)
{
    size_t row = (size_t)(opt - table);
    set->rows[row / 64] |= UINT64_C(1) << (row % 64);
}

/* ---- filling from YAML ---- */

typedef struct fill_state {
    const rdapsync_plugin *desc;
    const char *file;
    const char *context;
    diag_list *diags;
    bool failed;
} fill_state;

static void fill_error(fill_state *fs, const ynode *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fill_error(fill_state *fs, const ynode *at, const char *fmt, ...)
{
    char message[768];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    diag_add(fs->diags, DIAG_ERROR, fs->file, at ? at->line : 0, at ? at->column : 0, NULL, "%s: %s", fs->context,
             message);
    fs->failed = true;
}

static const char *node_kind_name(const ynode *node)
{
    return node->kind == YNODE_MAPPING ? "a mapping" : node->kind == YNODE_SEQUENCE ? "a sequence" : "a scalar";
}

/* Expands references in one scalar; returns a malloc'd value or NULL after
 * reporting. *had_reference tells whether the text was a reference. A
 * secret value is registered whole (a DSN masked as one) and so is every
 * value referenced inside it (a password a plugin might quote alone). */
static char *expand_scalar(fill_state *fs, const rdapsync_option *opt, const ynode *node, bool secret,
                           bool *had_reference)
{
    char reason[512];
    char *value = NULL;
    if (secrets_expand(node->scalar, secret, &value, had_reference, reason, sizeof(reason)) < 0) {
        fill_error(fs, node, "option '%s': %s", opt->name, reason);
        return NULL;
    }
    if (secret)
        secrets_register(value);
    return value;
}

static bool is_secret(const rdapsync_option *opt) { return (opt->flags & RDAPSYNC_OPT_SECRET) != 0; }

/* Reports a conversion failure, showing the written text only when it can
 * hold no secret. */
static void conversion_error(fill_state *fs, const rdapsync_option *opt, const ynode *node, bool had_reference,
                             const char *reason)
{
    if (opt->flags & RDAPSYNC_OPT_SECRET)
        fill_error(fs, node, "option '%s' %s (secret value not shown)", opt->name, reason);
    else if (had_reference)
        fill_error(fs, node, "option '%s' %s (value from a ${...} reference, not shown)", opt->name, reason);
    else
        fill_error(fs, node, "option '%s' %s, got '%s'", opt->name, reason, node->scalar);
}

static void fill_scalar(fill_state *fs, void *settings, const rdapsync_option *opt, const ynode *node)
{
    if (node->kind != YNODE_SCALAR) {
        fill_error(fs, node, "option '%s' expects %s, got %s", opt->name, type_expectation(opt->type),
                   node_kind_name(node));
        return;
    }
    if (options_is_null(node)) {
        fill_error(fs, node, "option '%s' has no value%s", opt->name,
                   opt->type == RDAPSYNC_OPT_STRING ? " (write \"\" for an empty string)" : "");
        return;
    }
    bool had_reference = false;
    char *value = expand_scalar(fs, opt, node, is_secret(opt), &had_reference);
    if (!value)
        return;
    char reason[512];
    if (store_scalar(settings, opt, value, reason, sizeof(reason)) < 0)
        conversion_error(fs, opt, node, had_reference, reason);
    free(value);
}

static void fill_list(fill_state *fs, void *settings, const rdapsync_option *opt, const ynode *node)
{
    rdapsync_string_list *list = slot(settings, opt);
    if (options_is_null(node))
        return; /* written empty on purpose: no items, and no default */
    if (node->kind == YNODE_MAPPING) {
        fill_error(fs, node, "option '%s' expects %s, got a mapping", opt->name, type_expectation(opt->type));
        return;
    }
    size_t count = node->kind == YNODE_SCALAR ? 1 : node->count;
    for (size_t i = 0; i < count; i++) {
        const ynode *item = node->kind == YNODE_SCALAR ? node : node->items[i];
        if (item->kind != YNODE_SCALAR) {
            fill_error(fs, item, "option '%s': list items must be scalars, got %s", opt->name,
                       node_kind_name(item));
            continue;
        }
        bool had_reference;
        char *value = expand_scalar(fs, opt, item, is_secret(opt), &had_reference);
        if (value && list_push(list, value) < 0)
            fill_error(fs, item, "out of memory");
    }
}

static void fill_map(fill_state *fs, void *settings, const rdapsync_option *opt, const ynode *node)
{
    rdapsync_string_map *map = slot(settings, opt);
    if (options_is_null(node))
        return;
    if (node->kind != YNODE_MAPPING) {
        fill_error(fs, node, "option '%s' expects %s, got %s", opt->name, type_expectation(opt->type),
                   node_kind_name(node));
        return;
    }
    for (size_t i = 0; i < node->count; i++) {
        const ynode *item = node->items[i];
        if (item->kind != YNODE_SCALAR) {
            fill_error(fs, item, "option '%s': value of '%s' must be a scalar, got %s", opt->name,
                       node->keys[i]->scalar, node_kind_name(item));
            continue;
        }
        /* Pass-through properties carry credentials by name
         * (sasl.password, ssl.key.password): those entries are secret,
         * the others (compression.type: lz4) are not. */
        bool had_reference;
        bool secret = is_secret(opt) || secrets_is_credential_name(node->keys[i]->scalar);
        char *value = expand_scalar(fs, opt, item, secret, &had_reference);
        if (!value)
            continue;
        char *key = strdup(node->keys[i]->scalar);
        if (!key || map_push(map, key, value) < 0)
            fill_error(fs, item, "out of memory");
    }
}

/* A structured option (ABI 1.3): the YAML value as JSON text. */
static void fill_json(fill_state *fs, void *settings, const rdapsync_option *opt, const ynode *node)
{
    char reason[512];
    const ynode *at = node;
    char *text = options_json_from_yaml(node, is_secret(opt), &at, reason, sizeof(reason));
    if (!text) {
        fill_error(fs, at, "option '%s': %s", opt->name, reason);
        return;
    }
    memcpy(slot(settings, opt), &text, sizeof(text));
}

/* "a, b, c" of every option name, for an unknown-option message. */
static void known_options(const rdapsync_option *table, char *out, size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; table && table[i].name && used < out_size; i++)
        used += (size_t)snprintf(out + used, out_size - used, "%s%s", i ? ", " : "", table[i].name);
    if (!out[0])
        snprintf(out, out_size, "none");
}

static void report_unknown_option(fill_state *fs, const rdapsync_option *table, const ynode *key)
{
    spelling near;
    spelling_start(&near, key->scalar);
    for (size_t i = 0; table && table[i].name && i < OPTIONS_MAX_ROWS; i++)
        spelling_consider(&near, table[i].name);
    const char *meant = spelling_nearest(&near);
    if (meant) {
        fill_error(fs, key, "unknown option '%s' (did you mean '%s'?)", key->scalar, meant);
        return;
    }
    char known[512];
    known_options(table, known, sizeof(known));
    fill_error(fs, key, "unknown option '%s' (known options: %s)", key->scalar, known);
}

void *options_fill(const rdapsync_plugin *desc, const ynode *config, const ynode *block, const char *file,
                   const char *context, diag_list *diags, bool *failed)
{
    fill_state fs = { .desc = desc, .file = file, .context = context, .diags = diags };
    void *settings = calloc(1, desc->config_size ? desc->config_size : 1);
    if (!settings) {
        fill_error(&fs, block, "out of memory");
        *failed = true;
        return NULL;
    }
    if (config && !options_is_null(config) && config->kind != YNODE_MAPPING) {
        fill_error(&fs, config, "'config' must be a mapping of options, got %s", node_kind_name(config));
        config = NULL;
    }
    if (options_is_null(config))
        config = NULL;
    rdapsync_options_set written = { { 0 } };
    for (size_t i = 0; config && i < config->count; i++) {
        const ynode *key = config->keys[i];
        const rdapsync_option *opt = options_find(desc->options, key->scalar);
        if (!opt) {
            report_unknown_option(&fs, desc->options, key);
            continue;
        }
        if (ynode_get(config, key->scalar) != config->items[i])
            continue; /* a duplicate key, already reported by the parser */
        mark_set(&written, desc->options, opt);
        if (opt->type == RDAPSYNC_OPT_LIST)
            fill_list(&fs, settings, opt, config->items[i]);
        else if (opt->type == RDAPSYNC_OPT_MAP)
            fill_map(&fs, settings, opt, config->items[i]);
        else if (opt->type == RDAPSYNC_OPT_JSON)
            fill_json(&fs, settings, opt, config->items[i]);
        else
            fill_scalar(&fs, settings, opt, config->items[i]);
    }
    for (size_t row = 0; desc->options && desc->options[row].name; row++) {
        const rdapsync_option *opt = &desc->options[row];
        if (config && ynode_get(config, opt->name))
            continue;
        if (opt->flags & RDAPSYNC_OPT_REQUIRED) {
            fill_error(&fs, block, "missing required option '%s' (%s)", opt->name, options_type_name(opt->type));
            continue;
        }
        char reason[256];
        if (store_default(settings, opt, reason, sizeof(reason)) < 0)
            fill_error(&fs, block, "option '%s': bad default in the plugin: %s", opt->name, reason);
    }
    size_t set_end = options_set_end(desc);
    if (set_end)
        memcpy((char *)settings + set_end - sizeof(written), &written, sizeof(written));
    *failed = fs.failed;
    return settings;
}

void options_free(const rdapsync_plugin *desc, void *settings)
{
    if (!settings)
        return;
    for (size_t row = 0; desc && desc->options && desc->options[row].name; row++)
        slot_clear(settings, &desc->options[row]);
    free(settings);
}

/* ---- fingerprint ---- */

uint64_t options_hash_bytes(uint64_t hash, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++) {
        hash ^= p[i];
        hash *= 1099511628211ULL;
    }
    return hash;
}

static uint64_t hash_string(uint64_t hash, const char *text)
{
    if (!text)
        return options_hash_bytes(hash, "\xff", 1);
    return options_hash_bytes(hash, text, strlen(text) + 1);
}

uint64_t options_hash(const rdapsync_plugin *desc, const void *settings, uint64_t hash)
{
    /* A plugin that tells written options from defaults may act on the
     * difference: writing an option's default value is then a change. */
    size_t set_end = options_set_end(desc);
    if (settings && set_end)
        hash = options_hash_bytes(hash, (const char *)settings + set_end - sizeof(rdapsync_options_set),
                                  sizeof(rdapsync_options_set));
    for (size_t row = 0; settings && desc->options && desc->options[row].name; row++) {
        const rdapsync_option *opt = &desc->options[row];
        const void *at = (const char *)settings + opt->offset;
        hash = hash_string(hash, opt->name);
        switch (opt->type) {
        case RDAPSYNC_OPT_STRING:
        case RDAPSYNC_OPT_JSON: {
            const char *text;
            memcpy(&text, at, sizeof(text));
            hash = hash_string(hash, text);
            break;
        }
        case RDAPSYNC_OPT_LIST: {
            const rdapsync_string_list *list = at;
            hash = options_hash_bytes(hash, &list->count, sizeof(list->count));
            for (size_t i = 0; i < list->count; i++)
                hash = hash_string(hash, list->items[i]);
            break;
        }
        case RDAPSYNC_OPT_MAP: {
            const rdapsync_string_map *map = at;
            hash = options_hash_bytes(hash, &map->count, sizeof(map->count));
            for (size_t i = 0; i < map->count; i++)
                hash = hash_string(hash_string(hash, map->keys[i]), map->values[i]);
            break;
        }
        default:
            hash = options_hash_bytes(hash, at, slot_size(opt->type));
            break;
        }
    }
    return hash;
}
