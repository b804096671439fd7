/* Reading the endpoint's TLS and authentication settings (http_settings.h). */
#include "config/http_settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "config/options.h"
#include "base/secrets.h"
#include "base/spelling.h"

typedef struct settings_loader {
    const char *file;     /* where the nodes come from: the config or the web config file */
    const char *base_dir; /* relative paths are under it; NULL = the working directory */
    diag_list *diags;
} settings_loader;

static const char *const web_keys[] = { "tls_server_config", "basic_auth_users", "authorization", NULL };
static const char *const tls_keys[] = { "cert_file", "key_file", "client_auth_type", "min_version", NULL };
static const char *const authorization_keys[] = { "type", "credentials", "credentials_file", NULL };

/* min_version: GnuTLS priority strings. TLS12 is exporter-toolkit's default. */
static const struct {
    const char *name;
    const char *priorities;
} tls_versions[] = {
    { "TLS10", "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0" },
    { "TLS11", "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1" },
    { "TLS12", "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" },
    { "TLS13", "NORMAL:-VERS-ALL:+VERS-TLS1.3" },
};

static void say(settings_loader *sl, diag_severity severity, const char *check, const ynode *at, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));

static void say(settings_loader *sl, diag_severity severity, const char *check, const ynode *at, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    diag_add(sl->diags, severity, sl->file, at ? at->line : 0, at ? at->column : 0, check, "http: %s", message);
}

int http_listen_is_loopback(const char *listen)
{
    return strncmp(listen, "127.", 4) == 0 || strncmp(listen, "[::1]:", 6) == 0 ||
           strncmp(listen, "localhost:", 10) == 0;
}

int http_settings_has_auth(const http_settings *settings)
{
    return settings->user_count > 0 || settings->bearer_token != NULL;
}

int http_is_bcrypt(const char *hash)
{
    static const char alphabet[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (strlen(hash) != 60 || hash[0] != '$' || hash[1] != '2' || !strchr("aby", hash[2]) || hash[3] != '$' ||
        hash[6] != '$')
        return 0;
    if (hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9')
        return 0;
    int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    return cost >= 4 && cost <= 31 && strspn(hash + 7, alphabet) == 53;
}

static void check_keys(settings_loader *sl, const ynode *map, const char *const *allowed, const char *section)
{
    for (size_t i = 0; i < map->count; i++) {
        const char *key = map->keys[i]->scalar;
        bool known = false;
        for (size_t k = 0; allowed[k]; k++)
            known = known || strcmp(allowed[k], key) == 0;
        if (known)
            continue;
        spelling near;
        const char *meant = spelling_suggest(&near, key, allowed);
        char list[256] = "";
        for (size_t k = 0, used = 0; allowed[k] && used < sizeof(list); k++)
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", k ? ", " : "", allowed[k]);
        if (meant)
            say(sl, DIAG_ERROR, NULL, map->keys[i], "unknown key '%s' in %s (did you mean '%s'?)", key, section, meant);
        else
            say(sl, DIAG_ERROR, NULL, map->keys[i], "unknown key '%s' in %s (supported: %s)", key, section, list);
    }
}

static const ynode *mapping(settings_loader *sl, const ynode *node, const char *what)
{
    if (!node || options_is_null(node))
        return NULL;
    if (node->kind != YNODE_MAPPING) {
        say(sl, DIAG_ERROR, NULL, node, "'%s' must be a mapping", what);
        return NULL;
    }
    return node;
}

/* Warns when other users may read `path` (a key or a secret). */
static void check_private(settings_loader *sl, const ynode *at, const char *what, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !(st.st_mode & S_IROTH))
        return;
    say(sl, DIAG_WARNING, "secret-file-readable", at,
        "%s '%s' is readable by every user (mode %04o); run 'chmod o-rwx %s'", what, path,
        (unsigned)(st.st_mode & 07777), path);
}

/* Every ${file:PATH} in a scalar as written (secrets.h syntax; "$${" is a
 * literal), checked with check_private(). */
static void check_file_references(settings_loader *sl, const ynode *node, const char *what)
{
    const char *text = node->scalar;
    for (const char *p = strstr(text, "${file:"); p; p = strstr(p + 1, "${file:")) {
        if (p > text && p[-1] == '$')
            continue;
        const char *end = strchr(p, '}');
        if (!end)
            return;
        char *path = strndup(p + 7, (size_t)(end - p - 7));
        if (path)
            check_private(sl, node, what, path);
        free(path);
    }
}

/* A non-empty string with ${env:}/${file:} expanded: malloc'd (caller frees)
 * or NULL after reporting. `secret`: the value is registered with secrets.h
 * and never shown. */
static char *expand(settings_loader *sl, const ynode *node, const char *what, bool secret)
{
    char reason[512], *value = NULL;
    bool had_reference = false;
    if (node->kind != YNODE_SCALAR || options_is_null(node) || !node->scalar[0]) {
        say(sl, DIAG_ERROR, NULL, node, "'%s' must be a non-empty string", what);
        return NULL;
    }
    if (secrets_expand(node->scalar, secret, &value, &had_reference, reason, sizeof(reason)) < 0) {
        say(sl, DIAG_ERROR, NULL, node, "'%s': %s", what, reason);
        return NULL;
    }
    if (secret) {
        secrets_register(value);
        check_file_references(sl, node, what);
    }
    return value;
}

/* A path value, made relative to base_dir (a web config file's folder). */
static char *expand_path(settings_loader *sl, const ynode *node, const char *what)
{
    char *path = expand(sl, node, what, false);
    if (!path || path[0] == '/' || !sl->base_dir)
        return path;
    size_t size = strlen(sl->base_dir) + strlen(path) + 2;
    char *joined = malloc(size);
    if (joined)
        snprintf(joined, size, "%s/%s", sl->base_dir, path);
    free(path);
    return joined;
}

static void load_tls(settings_loader *sl, const ynode *node, http_settings *out)
{
    const ynode *tls = mapping(sl, node, "tls_server_config");
    if (!tls)
        return;
    check_keys(sl, tls, tls_keys, "tls_server_config");
    const ynode *cert = ynode_get(tls, "cert_file"), *key = ynode_get(tls, "key_file");
    if (!cert || !key) {
        say(sl, DIAG_ERROR, NULL, tls, "tls_server_config needs both cert_file and key_file");
        return;
    }
    const ynode *auth_type = ynode_get(tls, "client_auth_type");
    if (auth_type && (auth_type->kind != YNODE_SCALAR || strcmp(auth_type->scalar, "NoClientCert") != 0))
        say(sl, DIAG_ERROR, NULL, auth_type,
            "client_auth_type: only NoClientCert is supported (client certificates are not checked)");
    const ynode *version = ynode_get(tls, "min_version");
    const char *priorities = tls_versions[2].priorities;
    if (version) {
        priorities = NULL;
        for (size_t i = 0; i < sizeof(tls_versions) / sizeof(tls_versions[0]); i++)
            if (version->kind == YNODE_SCALAR && strcmp(version->scalar, tls_versions[i].name) == 0)
                priorities = tls_versions[i].priorities;
        if (!priorities) {
            say(sl, DIAG_ERROR, NULL, version, "min_version must be one of: TLS10, TLS11, TLS12, TLS13");
            return;
        }
    }
    out->cert_file = expand_path(sl, cert, "cert_file");
    out->key_file = expand_path(sl, key, "key_file");
    out->tls_priorities = strdup(priorities);
    if (!out->cert_file || !out->key_file)
        return;
    char reason[1024];
    int rc = http_tls_load(out->cert_file, out->key_file, NULL, NULL, reason, sizeof(reason));
    if (rc != 0)
        say(sl, DIAG_ERROR, NULL, rc == -1 ? cert : key, "tls_server_config: %s", reason);
    else
        check_private(sl, key, "key_file", out->key_file);
}

static void load_users(settings_loader *sl, const ynode *node, http_settings *out)
{
    const ynode *users = mapping(sl, node, "basic_auth_users");
    if (!users || users->count == 0)
        return;
    out->users = calloc(users->count, sizeof(*out->users));
    if (!out->users)
        return;
    for (size_t i = 0; i < users->count; i++) {
        const char *name = users->keys[i]->scalar;
        char what[160];
        snprintf(what, sizeof(what), "basic_auth_users.%s", name);
        if (!name[0] || strchr(name, ':')) {
            say(sl, DIAG_ERROR, NULL, users->keys[i], "basic_auth_users: user name '%s' is empty or has a ':'", name);
            continue;
        }
        char *hash = expand(sl, users->items[i], what, true);
        if (!hash)
            continue;
        if (!http_is_bcrypt(hash)) {
            say(sl, DIAG_ERROR, NULL, users->items[i],
                "%s is not a bcrypt hash ($2y$, $2b$ or $2a$; value not shown); make one with 'htpasswd -nBC 10 %s'",
                what, name);
            OPENSSL_cleanse(hash, strlen(hash));
            free(hash);
            continue;
        }
        out->users[out->user_count].name = strdup(name);
        out->users[out->user_count++].hash = hash;
    }
}

/* The token from credentials_file: the file less one trailing newline. */
static char *read_token_file(settings_loader *sl, const ynode *node)
{
    char *path = expand_path(sl, node, "authorization.credentials_file");
    if (!path)
        return NULL;
    char *reference = malloc(strlen(path) + 9), *token = NULL, reason[512];
    bool had_reference;
    if (reference) {
        sprintf(reference, "${file:%s}", path);
        if (secrets_expand(reference, true, &token, &had_reference, reason, sizeof(reason)) < 0)
            say(sl, DIAG_ERROR, NULL, node, "authorization.credentials_file: %s", reason);
        else
            check_private(sl, node, "authorization.credentials_file", path);
    }
    free(reference);
    free(path);
    return token;
}

static void load_authorization(settings_loader *sl, const ynode *node, http_settings *out)
{
    const ynode *auth = mapping(sl, node, "authorization");
    if (!auth)
        return;
    check_keys(sl, auth, authorization_keys, "authorization");
    const ynode *type = ynode_get(auth, "type");
    if (type && (type->kind != YNODE_SCALAR || strcasecmp(type->scalar, "Bearer") != 0)) {
        say(sl, DIAG_ERROR, NULL, type, "authorization.type must be Bearer (for basic authentication use "
                                        "basic_auth_users)");
        return;
    }
    const ynode *credentials = ynode_get(auth, "credentials"), *file = ynode_get(auth, "credentials_file");
    if (!credentials == !file) {
        say(sl, DIAG_ERROR, NULL, auth, "authorization needs exactly one of credentials and credentials_file");
        return;
    }
    if (credentials && credentials->kind == YNODE_SCALAR && !strstr(credentials->scalar, "${"))
        say(sl, DIAG_WARNING, "literal-secret", credentials,
            "authorization.credentials holds a literal token; write it as ${env:NAME} or ${file:PATH}");
    char *token = credentials ? expand(sl, credentials, "authorization.credentials", true) : read_token_file(sl, file);
    if (token && strlen(token) < SECRETS_MIN_LENGTH) {
        say(sl, DIAG_ERROR, NULL, credentials ? credentials : file,
            "the bearer token is shorter than %d characters (value not shown)", SECRETS_MIN_LENGTH);
        free(token);
        return;
    }
    out->bearer_token = token;
}

static void load_keys(settings_loader *sl, const ynode *map, http_settings *out)
{
    load_tls(sl, ynode_get(map, "tls_server_config"), out);
    load_users(sl, ynode_get(map, "basic_auth_users"), out);
    load_authorization(sl, ynode_get(map, "authorization"), out);
}

/* exporter-toolkit's --web.config.file: the same keys in a file of their own,
 * with paths relative to that file's folder. */
static void load_web_config_file(settings_loader *sl, const ynode *http, const ynode *node, http_settings *out)
{
    for (size_t i = 0; web_keys[i]; i++) {
        const ynode *inline_key = ynode_get(http, web_keys[i]);
        if (inline_key) {
            say(sl, DIAG_ERROR, NULL, inline_key, "'%s' is given both here and through web_config_file", web_keys[i]);
            return;
        }
    }
    char *path = expand(sl, node, "web_config_file", false);
    if (!path)
        return;
    ynode *root = yaml_tree_load(path, sl->diags);
    char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        *slash = '\0';
    settings_loader inner = { .file = path, .base_dir = slash ? dir : NULL, .diags = sl->diags };
    if (root && root->kind != YNODE_MAPPING && !options_is_null(root))
        say(&inner, DIAG_ERROR, NULL, root, "a web config file must be a mapping");
    else if (root && root->kind == YNODE_MAPPING) {
        check_keys(&inner, root, web_keys, "the web config file");
        load_keys(&inner, root, out);
    }
    ynode_free(root);
    free(dir);
    free(path);
}

void http_settings_load(const char *file, const ynode *http, diag_list *diags, http_settings *out)
{
    settings_loader sl = { .file = file, .base_dir = NULL, .diags = diags };
    const ynode *web = ynode_get(http, "web_config_file");
    if (web)
        load_web_config_file(&sl, http, web, out);
    else
        load_keys(&sl, http, out);
}

static void wipe(char *text)
{
    if (text)
        OPENSSL_cleanse(text, strlen(text));
    free(text);
}

void http_settings_free(http_settings *settings)
{
    free(settings->cert_file);
    free(settings->key_file);
    free(settings->tls_priorities);
    for (size_t i = 0; i < settings->user_count; i++) {
        free(settings->users[i].name);
        free(settings->users[i].hash);
    }
    free(settings->users);
    wipe(settings->bearer_token);
    memset(settings, 0, sizeof(*settings));
}

static bool copy_text(char **to, const char *from)
{
    *to = from ? strdup(from) : NULL;
    return !from || *to;
}

int http_settings_copy(http_settings *to, const http_settings *from)
{
    memset(to, 0, sizeof(*to));
    bool ok = copy_text(&to->cert_file, from->cert_file) && copy_text(&to->key_file, from->key_file) &&
              copy_text(&to->tls_priorities, from->tls_priorities) &&
              copy_text(&to->bearer_token, from->bearer_token);
    if (ok && from->user_count) {
        to->users = calloc(from->user_count, sizeof(*to->users));
        ok = to->users != NULL;
        for (size_t i = 0; ok && i < from->user_count; i++, to->user_count++)
            ok = copy_text(&to->users[i].name, from->users[i].name) &&
                 copy_text(&to->users[i].hash, from->users[i].hash);
    }
    if (!ok) {
        http_settings_free(to);
        return -1;
    }
    return 0;
}
