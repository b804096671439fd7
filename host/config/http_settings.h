/*
 * What the HTTP endpoint needs to know about TLS and authentication, in the
 * shape of Prometheus' exporter web configuration (exporter-toolkit's
 * web-config.yml), written inline under `http:` or kept in a file of its
 * own (`http: { web_config_file: web.yml }`):
 *
 *   tls_server_config:
 *     cert_file: server.crt            # PEM; both or neither
 *     key_file: server.key
 *     client_auth_type: NoClientCert   # the only value supported
 *     min_version: TLS12               # TLS10 .. TLS13
 *   basic_auth_users:
 *     alice: $2y$10$...                # bcrypt hashes (htpasswd -B)
 *   authorization:                     # rdapsync's extension: a bearer token
 *     type: Bearer                     # the shape Prometheus uses client side
 *     credentials: ${file:token}       # or credentials_file: token
 *
 * docs/configuration.md has the reference, docs/security.md the reasons.
 */
#ifndef RDAPSYNC_HOST_HTTP_SETTINGS_H
#define RDAPSYNC_HOST_HTTP_SETTINGS_H

#include <stddef.h>

#include "base/diag.h"
#include "config/yaml_tree.h"

typedef struct http_user {
    char *name; /* owned */
    char *hash; /* owned: a bcrypt hash ($2a$, $2b$ or $2y$) */
} http_user;

typedef struct http_settings {
    char *cert_file;      /* owned; NULL = plain HTTP (then key_file is NULL too) */
    char *key_file;       /* owned */
    char *tls_priorities; /* owned GnuTLS priority string from min_version; NULL = GnuTLS' default */
    http_user *users;     /* owned array; basic authentication when user_count > 0 */
    size_t user_count;
    char *bearer_token;   /* owned secret (registered with secrets.h); NULL = no bearer token */
} http_settings;

/* True when `listen` ("HOST:PORT") names a loopback host: 127.0.0.0/8,
 * [::1] or localhost. */
int http_listen_is_loopback(const char *listen);

/* True when requests must authenticate (basic users or a bearer token). */
int http_settings_has_auth(const http_settings *settings);

/*
 * Reads the TLS and authentication keys of the `http` mapping
 * (web_config_file, tls_server_config, basic_auth_users, authorization;
 * the caller checks which keys are allowed there). `file` is
 * the configuration's path, for places), and of the file web_config_file
 * names. Every problem is a diagnostic with its file:line:column: an error
 * for what cannot work (a missing or unreadable certificate or key, a key
 * that does not match its certificate, a hash that is not bcrypt, an
 * unknown key or value), a warning (check "secret-file-readable") for a
 * key or secret file other users may read. `out` is filled as far as it
 * could be; free it with http_settings_free() in any case.
 */
void http_settings_load(const char *file, const ynode *http, diag_list *diags, http_settings *out);
/* Frees what `settings` owns (the token's memory is wiped first); leaves it zeroed. */
void http_settings_free(http_settings *settings);
/* A deep copy into *to; 0, or -1 when out of memory (then *to is zeroed). */
int http_settings_copy(http_settings *to, const http_settings *from);

/* True if `hash` has the form of a bcrypt hash: $2a$, $2b$ or $2y$, a
 * two-digit cost from 04 to 31, then 53 characters of bcrypt's base64. */
int http_is_bcrypt(const char *hash);

/*
 * Reads the PEM certificate and key and checks with OpenSSL that they parse
 * and that the key belongs to the certificate. Returns 0 with malloc'd
 * texts in *cert_pem and *key_pem (caller frees; wipe the key first), or
 * -1 when the certificate is at fault, -2 the key, -3 the pair, with a
 * reason naming the file in err (never any of the key's content). NULL
 * out pointers only check.
 */
int http_tls_load(const char *cert_file, const char *key_file, char **cert_pem, char **key_pem, char *err,
                  size_t err_size);

/*
 * Whether a request whose Authorization header is `authorization` (NULL
 * when absent) may be served: always when no authentication is configured;
 * otherwise "Basic" with a listed user whose bcrypt hash matches the
 * password, or "Bearer" with the configured token. The token is compared
 * in constant time (SHA-256 of both, CRYPTO_memcmp); an unknown user costs
 * the same bcrypt round as a known one, so timing tells nothing about which
 * names exist. Thread-safe (crypt_r); never logs what it was given.
 */
int http_auth_allows(const http_settings *settings, const char *authorization);

#endif
