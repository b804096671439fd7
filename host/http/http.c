/*
 * The endpoint's server: libmicrohttpd with its own polling thread. We bind
 * the listening socket ourselves so that a failure names its cause
 * ("Address already in use") and port 0 works; MHD parses HTTP (and TLS,
 * through its GnuTLS build), we check credentials and route four GET paths
 * to the renderers.
 *
 * A reload (SIGHUP) cannot change the certificate of a running MHD daemon,
 * so http_reconfigure() starts a second daemon on the same listening
 * socket, then quiesces the first (MHD hands the socket back instead of
 * closing it) and stops it. The socket stays open throughout: no
 * connection is refused. If the new daemon cannot start, the old one goes
 * on serving with the old certificate.
 */
#include "http/http.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "config/http_settings.h"
#include "http/http_assets.h"

#if defined(__has_include)
#if __has_include(<microhttpd.h>)
#define HTTP_HAVE_MHD 1
#endif
#endif

#ifdef HTTP_HAVE_MHD

#include <microhttpd.h>
#include <openssl/crypto.h>

/* One daemon and what it serves with; the handler gets it as its cls. */
typedef struct server {
    struct MHD_Daemon *daemon;
    http_settings settings; /* owned copy */
    char *cert_pem;         /* owned; NULL without TLS */
    char *key_pem;          /* owned, wiped before free */
} server;

static server *current;
static char *listen_address; /* owned: for log lines */
static int listen_fd = -1;
static int bound_port;

/* "HOST:PORT" or "[V6]:PORT" into host and port strings. */
static int split_listen(const char *address, char *host, size_t host_size, char *port, size_t port_size)
{
    const char *colon;
    size_t host_len;

    if (address[0] == '[') {
        const char *end = strchr(address, ']');
        if (!end || end[1] != ':')
            return -1;
        host_len = (size_t)(end - address - 1);
        address++;
        colon = end + 1;
    } else {
        colon = strrchr(address, ':');
        if (!colon)
            return -1;
        host_len = (size_t)(colon - address);
    }
    if (host_len == 0 || host_len >= host_size || strlen(colon + 1) == 0 || strlen(colon + 1) >= port_size)
        return -1;
    memcpy(host, address, host_len);
    host[host_len] = '\0';
    strcpy(port, colon + 1);
    return 0;
}

/* A listening socket on the first address `address` resolves to; -1 with err. */
static int bind_listen(const char *address, bool *ipv6, char *err, size_t err_size)
{
    char host[256], port[16];
    struct addrinfo hints = {0}, *res = NULL;
    int fd = -1, one = 1, rc;

    if (split_listen(address, host, sizeof(host), port, sizeof(port)) != 0) {
        snprintf(err, err_size, "http.listen '%s': expected HOST:PORT", address);
        return -1;
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        snprintf(err, err_size, "http.listen '%s': %s", address, gai_strerror(rc));
        return -1;
    }
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        snprintf(err, err_size, "http.listen '%s': %s", address, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    /* Two daemons share the socket during a reload: whichever loses the
     * race for a connection must get EAGAIN, not block its thread. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    *ipv6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return fd;
}

static int socket_port(int fd)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);

    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        return 0;
    if (addr.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&addr)->sin_port);
    if (addr.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return 0;
}

/*
 * Headers of every answer. The policy lets the status page load only its
 * own /status.js and /status.css and fetch /status: no inline script or
 * style, so even markup that got into the page could not run.
 */
static enum MHD_Result queue(struct MHD_Connection *connection, unsigned int code, struct MHD_Response *response,
                             const char *content_type)
{
    enum MHD_Result result;

    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(response, "Content-Security-Policy",
                            "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    result = MHD_queue_response(connection, code, response);
    MHD_destroy_response(response);
    return result;
}

static enum MHD_Result respond(struct MHD_Connection *connection, unsigned int code, char *body,
                               const char *content_type)
{
    struct MHD_Response *response;

    if (!body) {
        static const char oom[] = "out of memory\n";
        response = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        code = MHD_HTTP_INTERNAL_SERVER_ERROR;
        content_type = "text/plain; charset=utf-8";
    } else {
        /* MHD frees it with free() once sent. */
        response = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    }
    if (!response) {
        free(body);
        return MHD_NO;
    }
    return queue(connection, code, response, content_type);
}

/* An embedded file: its bytes are static, MHD only reads them. */
static enum MHD_Result respond_asset(struct MHD_Connection *connection, const http_asset *asset)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(asset->size, (void *)asset->data, MHD_RESPMEM_PERSISTENT);
    if (!response)
        return MHD_NO;
    return queue(connection, MHD_HTTP_OK, response, asset->content_type);
}

static char *text_copy(const char *s) { return strdup(s); }

/* 401 with a challenge for each configured scheme (RFC 7235). */
static enum MHD_Result unauthorized(struct MHD_Connection *connection, const server *srv)
{
    static const char body[] = "unauthorized\n";
    struct MHD_Response *response =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result result;

    if (!response)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (srv->settings.user_count > 0)
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"rdapsync\", charset=\"UTF-8\"");
    if (srv->settings.bearer_token)
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"rdapsync\"");
    result = MHD_queue_response(connection, MHD_HTTP_UNAUTHORIZED, response);
    MHD_destroy_response(response);
    return result;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **request_state)
{
    static const char text[] = "text/plain; charset=utf-8";
    char *body;
    int code;

    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)request_state;
    /* Before anything else: an unauthenticated peer learns nothing, not
     * even which paths exist. */
    if (!http_auth_allows(&((const server *)cls)->settings,
                          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION))) {
        log_write(RDAPSYNC_LOG_DEBUG, NULL, -1, NULL, "http", "401 for %s: missing or wrong credentials", url);
        return unauthorized(connection, cls);
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, text_copy("only GET and HEAD\n"), text);
    if (strcmp(url, "/") == 0)
        return respond(connection, MHD_HTTP_OK, http_render_page(http_wall_ms()), "text/html; charset=utf-8");
    /* The page's script and style; the HTML template is served filled in at / only. */
    if (strcmp(url, "/status.js") == 0 || strcmp(url, "/status.css") == 0) {
        const http_asset *asset = http_asset_find(url);
        if (asset)
            return respond_asset(connection, asset);
    }
    /* Browsers ask for it on their own; the page has no icon. */
    if (strcmp(url, "/favicon.ico") == 0)
        return respond(connection, MHD_HTTP_NO_CONTENT, text_copy(""), text);
    if (strcmp(url, "/metrics") == 0)
        return respond(connection, MHD_HTTP_OK, http_render_metrics(http_wall_ms()),
                       "text/plain; version=0.0.4; charset=utf-8");
    if (strcmp(url, "/status") == 0)
        return respond(connection, MHD_HTTP_OK, http_render_status(http_wall_ms()), "application/json");
    if (strcmp(url, "/healthz") == 0) {
        code = http_render_health(&body);
        return respond(connection, (unsigned)code, body, text);
    }
    if (strcmp(url, "/readyz") == 0) {
        code = http_render_ready(&body);
        return respond(connection, (unsigned)code, body, text);
    }
    return respond(connection, MHD_HTTP_NOT_FOUND, text_copy("not found: try /, /metrics, /status, /healthz, /readyz\n"),
                   text);
}

static void mhd_log(void *cls, const char *fmt, va_list args)
{
    char line[512];
    size_t len;

    (void)cls;
    vsnprintf(line, sizeof(line), fmt, args);
    len = strlen(line);
    while (len > 0 && line[len - 1] == '\n')
        line[--len] = '\0';
    log_write(RDAPSYNC_LOG_WARN, NULL, -1, NULL, "http", "%s", line);
}

static void server_free(server *srv)
{
    if (!srv)
        return;
    http_settings_free(&srv->settings);
    free(srv->cert_pem);
    if (srv->key_pem)
        OPENSSL_cleanse(srv->key_pem, strlen(srv->key_pem));
    free(srv->key_pem);
    free(srv);
}

/* A daemon on listen_fd serving with a copy of `settings` (the files read
 * now), or NULL with the reason in err. */
static server *server_start(const http_settings *settings, bool ipv6, char *err, size_t err_size)
{
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    server *srv = calloc(1, sizeof(*srv));

    if (!srv || http_settings_copy(&srv->settings, settings) != 0) {
        snprintf(err, err_size, "out of memory");
        free(srv);
        return NULL;
    }
    if (ipv6)
        flags |= MHD_USE_IPv6;
    if (srv->settings.cert_file) {
        char reason[1024];
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, err_size, "libmicrohttpd was built without TLS support");
            goto fail;
        }
        if (http_tls_load(srv->settings.cert_file, srv->settings.key_file, &srv->cert_pem, &srv->key_pem, reason,
                          sizeof(reason)) != 0) {
            snprintf(err, err_size, "tls_server_config: %s", reason);
            goto fail;
        }
        flags |= MHD_USE_TLS;
    }
    /* The logger first, or MHD prints what comes before it on its own.
     * The TLS options are given only with TLS: MHD refuses them otherwise. */
    struct MHD_OptionItem tls_options[4];
    size_t n = 0;
    if (srv->cert_pem) {
        tls_options[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cert_pem };
        tls_options[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, srv->key_pem };
        if (srv->settings.tls_priorities)
            tls_options[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, srv->settings.tls_priorities };
    }
    tls_options[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
    srv->daemon = MHD_start_daemon(flags, (uint16_t)bound_port, NULL, NULL, handle, srv, MHD_OPTION_EXTERNAL_LOGGER,
                                   mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_LIMIT,
                                   (unsigned int)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
                                   MHD_OPTION_ARRAY, tls_options, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, err_size, "libmicrohttpd could not start%s", srv->cert_pem ? " with TLS" : "");
        goto fail;
    }
    return srv;
fail:
    server_free(srv);
    return NULL;
}

static const char *describe(const http_settings *settings)
{
    bool tls = settings->cert_file != NULL;
    if (settings->user_count && settings->bearer_token)
        return tls ? "TLS, basic or bearer authentication" : "basic or bearer authentication, no TLS";
    if (settings->user_count)
        return tls ? "TLS, basic authentication" : "basic authentication, no TLS";
    if (settings->bearer_token)
        return tls ? "TLS, bearer authentication" : "bearer authentication, no TLS";
    return tls ? "TLS, no authentication" : "no TLS, no authentication";
}

static bool listen_ipv6;

int http_start(const char *address, const http_settings *settings, char *err, size_t err_size)
{
    char reason[1024];

    if (current) {
        snprintf(err, err_size, "the HTTP endpoint is already running");
        return -1;
    }
    listen_fd = bind_listen(address, &listen_ipv6, err, err_size);
    if (listen_fd < 0)
        return -1;
    bound_port = socket_port(listen_fd);
    current = server_start(settings, listen_ipv6, reason, sizeof(reason));
    if (!current) {
        snprintf(err, err_size, "http.listen '%s': %s", address, reason);
        close(listen_fd);
        listen_fd = -1;
        bound_port = 0;
        return -1;
    }
    free(listen_address);
    listen_address = strdup(address);
    log_write(RDAPSYNC_LOG_INFO, NULL, -1, NULL, "http", "serving / /metrics /status /healthz /readyz on %s (port %d; %s)",
              address, bound_port, describe(settings));
    return 0;
}

int http_reconfigure(const http_settings *settings, char *err, size_t err_size)
{
    char reason[1024];

    if (!current) {
        snprintf(err, err_size, "the HTTP endpoint is not running");
        return -1;
    }
    server *next = server_start(settings, listen_ipv6, reason, sizeof(reason));
    if (!next) {
        snprintf(err, err_size, "http: reload failed, still serving with the previous settings%s: %s",
                 current->cert_pem ? " and certificate" : "", reason);
        return -1;
    }
    /* Both daemons accept on the socket for a moment; then the old one
     * gives it back (it must not close it) and finishes. */
    if (MHD_quiesce_daemon(current->daemon) == MHD_INVALID_SOCKET)
        log_write(RDAPSYNC_LOG_WARN, NULL, -1, NULL, "http", "could not quiesce the previous server");
    MHD_stop_daemon(current->daemon);
    server_free(current);
    current = next;
    log_write(RDAPSYNC_LOG_INFO, NULL, -1, NULL, "http", "reloaded on %s (port %d; %s)",
              listen_address ? listen_address : "?", bound_port, describe(settings));
    return 0;
}

int http_port(void) { return current ? bound_port : 0; }

void http_stop(void)
{
    if (!current)
        return;
    /* MHD closes the listening socket it was given (unless quiesced). */
    MHD_stop_daemon(current->daemon);
    server_free(current);
    current = NULL;
    free(listen_address);
    listen_address = NULL;
    listen_fd = -1;
    bound_port = 0;
    http_set_draining(false);
}

#else /* built without libmicrohttpd */

int http_start(const char *address, const http_settings *settings, char *err, size_t err_size)
{
    (void)settings;
    snprintf(err, err_size, "http.listen '%s': rdapsync was built without libmicrohttpd", address);
    return -1;
}

int http_reconfigure(const http_settings *settings, char *err, size_t err_size)
{
    (void)settings;
    snprintf(err, err_size, "rdapsync was built without libmicrohttpd");
    return -1;
}

int http_port(void) { return 0; }
void http_stop(void) {}

#endif
