/* Checks beyond the schema: valid, but unsafe or probably a mistake. */
#include "config/validate_checks.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/secrets.h"
#include "config/options.h"

typedef struct check_scope {
    const char *file;
    const char *prefix; /* "pipeline 'p'" */
    diag_list *diags;
} check_scope;

static void finding(check_scope *scope, diag_severity severity, const char *check, int line, int column,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void finding(check_scope *scope, diag_severity severity, const char *check, int line, int column,
                    const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    diag_add(scope->diags, severity, scope->file, line, column, check, "%s: %s", scope->prefix, message);
}

/* strcasestr() is a GNU extension; this is the portable few lines. */
static const char *find_nocase(const char *haystack, const char *needle)
{
    size_t len = strlen(needle);
    for (const char *p = haystack; *p; p++)
        if (strncasecmp(p, needle, len) == 0)
            return p;
    return NULL;
}

static bool contains_word(const char *text, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (find_nocase(text, words[i]))
            return true;
    return false;
}

/* ---- literal-secret ---- */

/* True if `raw` has text outside ${...} references. */
static bool has_literal_text(const char *raw)
{
    for (const char *p = raw; *p;) {
        if (strncmp(p, "$${", 3) == 0)
            return true;
        if (strncmp(p, "${", 2) == 0) {
            const char *close = strchr(p, '}');
            if (!close)
                return true;
            p = close + 1;
            continue;
        }
        if (!isspace((unsigned char)*p))
            return true;
        p++;
    }
    return false;
}

/* A value that starts at `value` is literal unless it is a reference. */
static bool literal_value_at(const char *value)
{
    return *value && *value != ' ' && *value != ';' && *value != '&' && *value != '\'' && strncmp(value, "${", 2);
}

/* "password=xyz" (DSN or URI query) or "scheme://user:xyz@host" with a
 * literal xyz. */
static bool embeds_literal_password(const char *raw)
{
    static const char *const keys[] = { "password=", "passwd=", "pwd=", "sasl.password=", NULL };
    for (size_t i = 0; keys[i]; i++) {
        for (const char *at = find_nocase(raw, keys[i]); at; at = find_nocase(at + 1, keys[i]))
            if (literal_value_at(at + strlen(keys[i])))
                return true;
    }
    const char *scheme = strstr(raw, "://");
    if (!scheme)
        return false;
    const char *authority = scheme + 3;
    size_t authority_len = strcspn(authority, "/?#");
    const char *at_sign = memchr(authority, '@', authority_len);
    if (!at_sign)
        return false;
    const char *colon = memchr(authority, ':', (size_t)(at_sign - authority));
    return colon && colon + 1 < at_sign && strncmp(colon + 1, "${", 2) != 0;
}

static void check_literal_scalar(check_scope *scope, const char *role, const char *plugin,
                                 const rdapsync_option *opt, const ynode *raw)
{
    if (raw->kind != YNODE_SCALAR || options_is_null(raw))
        return;
    bool named_secret = (opt->flags & RDAPSYNC_OPT_SECRET) && secrets_is_credential_name(opt->name);
    bool literal = named_secret ? has_literal_text(raw->scalar) && raw->scalar[0]
                                : (opt->type == RDAPSYNC_OPT_STRING || opt->type == RDAPSYNC_OPT_LIST ||
                                   opt->type == RDAPSYNC_OPT_MAP) &&
                                      embeds_literal_password(raw->scalar);
    if (!literal)
        return;
    finding(scope, DIAG_WARNING, "literal-secret", raw->line, raw->column,
            "%s '%s': option '%s' holds a literal %s; write it as ${env:NAME} or ${file:PATH}", role, plugin,
            opt->name, named_secret ? "secret" : "password");
}

static void check_literal_secrets(check_scope *scope, const plugin_block *block, const char *role)
{
    const ynode *config = block->config_node;
    if (!block->plugin || !config || config->kind != YNODE_MAPPING)
        return;
    const rdapsync_option *table = block->plugin->desc->options;
    for (size_t row = 0; table && table[row].name; row++) {
        const ynode *raw = ynode_get(config, table[row].name);
        if (!raw)
            continue;
        if (raw->kind == YNODE_SCALAR) {
            check_literal_scalar(scope, role, block->name, &table[row], raw);
            continue;
        }
        for (size_t i = 0; i < raw->count; i++)
            check_literal_scalar(scope, role, block->name, &table[row], raw->items[i]);
    }
}

/* ---- insecure-transport ---- */

static bool is_loopback(const char *host, size_t len)
{
    if (len == 0 || host[0] == '/' || host[0] == '@')
        return true; /* unix socket (or abstract socket) */
    if (host[0] == '[' && len >= 2) {
        host++;
        len -= 2;
    }
    if ((len == 9 && strncasecmp(host, "localhost", 9) == 0) || (len == 3 && strncmp(host, "::1", 3) == 0))
        return true;
    return len >= 4 && strncmp(host, "127.", 4) == 0;
}

/* Each host in "h1:p,h2:p" (brokers, URI authorities). */
static bool any_remote_in_host_list(const char *list, size_t len)
{
    for (size_t at = 0; at < len;) {
        size_t item_len = strcspn(list + at, ",");
        if (at + item_len > len)
            item_len = len - at;
        const char *item = list + at;
        while (item_len && isspace((unsigned char)*item)) {
            item++;
            item_len--;
        }
        size_t host_len = item_len;
        if (item_len && item[0] == '[') {
            const char *close = memchr(item, ']', item_len);
            host_len = close ? (size_t)(close - item) + 1 : item_len;
        } else {
            const char *colon = memchr(item, ':', item_len);
            if (colon)
                host_len = (size_t)(colon - item);
        }
        if (!is_loopback(item, host_len))
            return true;
        at += item_len + 1;
    }
    return false;
}

/* The value of `key=` in a DSN or URI query, copied into out; false if absent. */
static bool parameter(const char *text, const char *key, char *out, size_t out_size)
{
    size_t key_len = strlen(key);
    for (const char *at = find_nocase(text, key); at; at = find_nocase(at + 1, key)) {
        bool starts = at == text || strchr(" ?&;", at[-1]);
        if (!starts || at[key_len] != '=')
            continue;
        const char *value = at + key_len + 1;
        size_t len = strcspn(value, " &;");
        snprintf(out, out_size, "%.*s", (int)(len < out_size ? len : out_size - 1), value);
        return true;
    }
    return false;
}

static bool remote_target(const char *value)
{
    const char *scheme = strstr(value, "://");
    if (scheme) {
        const char *authority = scheme + 3;
        size_t len = strcspn(authority, "/?#");
        const char *at_sign = memchr(authority, '@', len);
        if (at_sign) {
            len -= (size_t)(at_sign + 1 - authority);
            authority = at_sign + 1;
        }
        return any_remote_in_host_list(authority, len);
    }
    char host[256];
    if (strchr(value, '=')) {
        if (parameter(value, "host", host, sizeof(host)) || parameter(value, "hostaddr", host, sizeof(host)))
            return any_remote_in_host_list(host, strlen(host));
        return false; /* libpq's default is the local socket */
    }
    return any_remote_in_host_list(value, strlen(value));
}

static bool is_off_word(const char *value)
{
    static const char *const off[] = { "disable", "disabled", "false", "off", "no", "0", "none", "plaintext",
                                       "sasl_plaintext", NULL };
    for (size_t i = 0; off[i]; i++)
        if (strcasecmp(value, off[i]) == 0)
            return true;
    return false;
}

static bool is_on_word(const char *value)
{
    static const char *const on[] = { "require", "required", "verify-ca", "verify-full", "verify_ca", "verify_identity",
                                      "ssl", "sasl_ssl", "true", "on", "yes", "1", "enable", "enabled", NULL };
    for (size_t i = 0; on[i]; i++)
        if (strcasecmp(value, on[i]) == 0)
            return true;
    return false;
}

static bool tls_off_in_text(const char *value)
{
    static const char *const keys[] = { "sslmode", "ssl-mode", "ssl_mode", "tls", "ssl", "security.protocol", NULL };
    char found[64];
    for (size_t i = 0; keys[i]; i++)
        if (parameter(value, keys[i], found, sizeof(found)) && is_off_word(found))
            return true;
    return false;
}

static const char *const transport_names[] = { "dsn", "uri", "url", "broker", "bootstrap", "host", "server",
                                               "connection", NULL };
static const char *const tls_names[] = { "tls", "ssl", "security", NULL };

typedef struct tls_setting {
    bool off; /* explicitly off somewhere */
    bool on;  /* explicitly on somewhere ("prefer", "dsn" and the like are neither) */
} tls_setting;

/* TLS settings given as separate options (bool tls: false, enum sslmode,
 * a properties map with security.protocol). */
static tls_setting sibling_tls(const plugin_block *block)
{
    tls_setting tls = { 0 };
    const rdapsync_option *table = block->plugin->desc->options;
    for (size_t row = 0; table && table[row].name; row++) {
        const rdapsync_option *opt = &table[row];
        const char *at = (const char *)block->settings + opt->offset;
        if (opt->type == RDAPSYNC_OPT_MAP) {
            const rdapsync_string_map *map = (const rdapsync_string_map *)at;
            for (size_t i = 0; i < map->count; i++) {
                if (strcasecmp(map->keys[i], "security.protocol") != 0)
                    continue;
                tls.off |= is_off_word(map->values[i]);
                tls.on |= is_on_word(map->values[i]);
            }
            continue;
        }
        if (!contains_word(opt->name, tls_names))
            continue;
        if (opt->type == RDAPSYNC_OPT_BOOL) {
            bool value;
            memcpy(&value, at, sizeof(value));
            tls.off |= !value;
            tls.on |= value;
        } else if (opt->type == RDAPSYNC_OPT_ENUM) {
            int index;
            memcpy(&index, at, sizeof(index));
            tls.off |= is_off_word(opt->enum_values[index]);
            tls.on |= is_on_word(opt->enum_values[index]);
        } else if (opt->type == RDAPSYNC_OPT_STRING) {
            const char *value;
            memcpy(&value, at, sizeof(value));
            if (value) {
                tls.off |= is_off_word(value);
                tls.on |= is_on_word(value);
            }
        }
    }
    return tls;
}

static void check_transport(check_scope *scope, const plugin_block *block, const char *role)
{
    if (!block->plugin || !block->settings)
        return;
    tls_setting sibling = sibling_tls(block);
    const rdapsync_option *table = block->plugin->desc->options;
    for (size_t row = 0; table && table[row].name; row++) {
        const rdapsync_option *opt = &table[row];
        if (!contains_word(opt->name, transport_names) || contains_word(opt->name, tls_names))
            continue;
        const char *at = (const char *)block->settings + opt->offset;
        const char *const *values = NULL;
        size_t count = 0;
        if (opt->type == RDAPSYNC_OPT_STRING) {
            values = (const char *const *)at;
            count = *values ? 1 : 0;
        } else if (opt->type == RDAPSYNC_OPT_LIST) {
            const rdapsync_string_list *list = (const rdapsync_string_list *)at;
            values = (const char *const *)list->items;
            count = list->count;
        }
        bool brokers = find_nocase(opt->name, "broker") || find_nocase(opt->name, "bootstrap");
        for (size_t i = 0; i < count; i++) {
            if (!remote_target(values[i]))
                continue;
            bool off = tls_off_in_text(values[i]) || sibling.off || (brokers && !sibling.on);
            if (!off)
                continue;
            const ynode *raw = block->config_node ? ynode_get(block->config_node, opt->name) : NULL;
            finding(scope, DIAG_WARNING, "insecure-transport", raw ? raw->line : block->line,
                    raw ? raw->column : block->column,
                    "%s '%s': option '%s' reaches a non-loopback host without TLS; personal data would cross the "
                    "network in clear",
                    role, block->name, opt->name);
            break;
        }
    }
}

/* ---- no-redact ---- */

static void check_redaction(check_scope *scope, const pipeline_config *pipeline)
{
    static const char *const stores[] = { "postgres", "mysql", "mariadb", "mongodb", "kafka", "sqlite", NULL };
    const plugin_block *sink = &pipeline->sink;
    if (!sink->name)
        return;
    bool store = false;
    for (size_t i = 0; stores[i]; i++)
        store |= strcmp(sink->name, stores[i]) == 0;
    if (!store)
        return;
    for (size_t i = 0; i < pipeline->transform_count; i++)
        if (pipeline->transforms[i].name && strcmp(pipeline->transforms[i].name, "redact") == 0)
            return;
    finding(scope, DIAG_WARNING, "no-redact", sink->line, sink->column,
            "sink '%s' stores records but the pipeline has no 'redact' transform: personal data in RDAP records "
            "(GDPR/CCPA) would be stored as received",
            sink->name);
}

/* ---- dead letters ---- */

static void check_dead_letter(check_scope *scope, const pipeline_config *pipeline, const ynode *node)
{
    const ynode *errors = ynode_get(node, "errors");
    const ynode *tolerance = ynode_get(errors, "tolerance");
    const ynode *at = tolerance ? tolerance : errors ? errors : node;
    if (pipeline->tolerance == TOLERANCE_ALL && !pipeline->has_dead_letter)
        finding(scope, DIAG_ERROR, "dead-letter-missing", at->line, at->column,
                "errors.tolerance is 'all' but there is no errors.dead_letter sink: rejected records would be "
                "lost silently");
    if (pipeline->tolerance == TOLERANCE_NONE && pipeline->has_dead_letter) {
        const ynode *dead_letter = ynode_get(errors, "dead_letter");
        finding(scope, DIAG_WARNING, "dead-letter-unused", dead_letter ? dead_letter->line : at->line,
                dead_letter ? dead_letter->column : at->column,
                "errors.dead_letter is set but errors.tolerance is 'none': the first bad record fails the task "
                "and the dead-letter sink is never used");
    }
    if (pipeline->has_dead_letter && pipeline->protect_explicit && pipeline->protect == PROTECT_NONE)
        finding(scope, DIAG_WARNING, "dead-letter-clear", pipeline->protect_line, pipeline->protect_column,
                "errors.dead_letter.protect is 'none': dead letters hold the documents as received, personal data "
                "in clear (protect: encrypt with a keyring, or protect: redact, keeps it out)");
}

/* ---- absurd values ---- */

static void absurd(check_scope *scope, const ynode *node, const char *section, const char *key, const char *why)
{
    const ynode *map = section ? ynode_get(node, section) : node;
    const ynode *at = ynode_get(map, key);
    if (!at)
        at = node;
    finding(scope, DIAG_WARNING, "absurd-value", at->line, at->column, "%s%s%s %s", section ? section : "",
            section ? "." : "", key, why);
}

static void check_values(check_scope *scope, const pipeline_config *pipeline, const ynode *node)
{
    unsigned flawed = pipeline->flawed;
    if (pipeline->tasks > 16 && !(flawed & PART_TASKS))
        absurd(scope, node, NULL, "tasks", "is above 16: few sources can feed that many tasks; scale out with "
                                           "more processes in one consumer group instead");
    if (!(flawed & PART_BATCH)) {
        if (pipeline->batch_max_records > 100000)
            absurd(scope, node, "batch", "max_records", "is above 100000: one batch holds every record in memory");
        if (pipeline->batch_max_bytes < 64 * 1024)
            absurd(scope, node, "batch", "max_bytes", "is below 64K: a single large RDAP document may not fit");
        if (pipeline->batch_max_bytes > (INT64_C(1) << 30))
            absurd(scope, node, "batch", "max_bytes", "is above 1G per batch");
        if (pipeline->batch_max_wait_ms > 60000)
            absurd(scope, node, "batch", "max_wait", "is above 1m: records wait that long before delivery");
    }
    if (pipeline->retry_backoff_max_ms > 3600000 && !(flawed & PART_RETRY))
        absurd(scope, node, "retry", "backoff_max", "is above 1h: a recovered server stays unused that long");
    if (pipeline->restart_window_ms < pipeline->restart_backoff_initial_ms * pipeline->restart_max_failures &&
        !(flawed & PART_RESTART))
        absurd(scope, node, "restart", "window",
               "is shorter than max_failures restarts at the initial backoff: the circuit can never open");
}

/* ---- more tasks than input streams ----
 * Where validate can know how many independent inputs a source has without
 * connecting anywhere: a `path` option naming a local file (one stream) or
 * a directory (one stream per regular file, how the file source shares
 * them among tasks). Kafka partitions are only known to the broker. */

static long count_inputs(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (S_ISREG(st.st_mode))
        return 1;
    if (!S_ISDIR(st.st_mode))
        return -1;
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    long count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        const char *dot = strrchr(entry->d_name, '.');
        if (entry->d_name[0] != '.' && dot && (strcmp(dot, ".json") == 0 || strcmp(dot, ".jsonl") == 0))
            count++;
    }
    closedir(dir);
    return count;
}

static void check_task_count(check_scope *scope, const pipeline_config *pipeline, const ynode *node)
{
    if (pipeline->tasks <= 1 || !pipeline->source.config_node)
        return;
    const ynode *path = ynode_get(pipeline->source.config_node, "path");
    if (!path || path->kind != YNODE_SCALAR || !path->scalar || strstr(path->scalar, "${"))
        return;
    long inputs = count_inputs(path->scalar);
    if (inputs < 0 || inputs >= pipeline->tasks)
        return;
    const ynode *at = ynode_get(node, "tasks");
    if (!at)
        at = node;
    finding(scope, DIAG_WARNING, "tasks-exceed-inputs", at->line, at->column,
            "tasks is %d but source '%s' has %ld input file(s) at its path: %ld task(s) would have nothing to read",
            pipeline->tasks, pipeline->source.name ? pipeline->source.name : "?", inputs,
            (long)pipeline->tasks - inputs);
}

/* ---- input-missing ----
 * The `file` source reads a local path, which validate can look at. A
 * missing one makes `run` fail at once, unless the source follows it (it
 * then waits for the path to appear). A warning, not an error: the file
 * may well be there by the time `run` starts. */

static void check_input_exists(check_scope *scope, const plugin_block *source)
{
    if (!source->plugin || !source->settings || !source->name || strcmp(source->name, "file") != 0)
        return;
    const rdapsync_option *table = source->plugin->desc->options;
    const rdapsync_option *path_opt = options_find(table, "path");
    const rdapsync_option *follow_opt = options_find(table, "follow");
    if (!path_opt || path_opt->type != RDAPSYNC_OPT_STRING)
        return;
    const char *path;
    memcpy(&path, (const char *)source->settings + path_opt->offset, sizeof(path));
    bool follow = false;
    if (follow_opt && follow_opt->type == RDAPSYNC_OPT_BOOL)
        memcpy(&follow, (const char *)source->settings + follow_opt->offset, sizeof(follow));
    struct stat st;
    if (!path || follow || stat(path, &st) == 0 || errno != ENOENT)
        return;
    const ynode *raw = source->config_node ? ynode_get(source->config_node, "path") : NULL;
    finding(scope, DIAG_WARNING, "input-missing", raw ? raw->line : source->line, raw ? raw->column : source->column,
            "source 'file': path '%s' does not exist and follow is false: the source would fail to open (create "
            "the path first, or set follow: true to wait for it)",
            path);
}

void validate_checks_pipeline(const char *file, const pipeline_config *pipeline, const ynode *node,
                              diag_list *diags)
{
    /* A part with an error gets no advisory check: what it would find
     * follows from the error (a misspelt `tolerance` leaves it 'none'), and
     * the file is refused anyway. An error in the pipeline mapping itself
     * (a misspelt `transforms`) leaves every part in doubt. */
    if (pipeline->flawed & PART_MAPPING)
        return;
    char prefix[256];
    snprintf(prefix, sizeof(prefix), "pipeline '%s'", pipeline->name ? pipeline->name : "?");
    check_scope scope = { .file = file, .prefix = prefix, .diags = diags };
    const struct {
        const plugin_block *block;
        const char *role;
    } blocks[] = { { &pipeline->source, "source" }, { &pipeline->sink, "sink" }, { &pipeline->dead_letter, "dead_letter" } };
    for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
        if (blocks[i].block->flawed)
            continue;
        check_literal_secrets(&scope, blocks[i].block, blocks[i].role);
        check_transport(&scope, blocks[i].block, blocks[i].role);
    }
    for (size_t i = 0; i < pipeline->transform_count; i++) {
        if (pipeline->transforms[i].flawed)
            continue;
        check_literal_secrets(&scope, &pipeline->transforms[i], "transform");
        check_transport(&scope, &pipeline->transforms[i], "transform");
    }
    if (!(pipeline->flawed & (PART_SINK | PART_TRANSFORMS)))
        check_redaction(&scope, pipeline);
    if (!(pipeline->flawed & PART_ERRORS))
        check_dead_letter(&scope, pipeline, node);
    check_values(&scope, pipeline, node);
    if (!(pipeline->flawed & (PART_TASKS | PART_SOURCE)))
        check_task_count(&scope, pipeline, node);
    if (!(pipeline->flawed & PART_SOURCE))
        check_input_exists(&scope, &pipeline->source);
}
