/*
 * The endpoint's server: libmicrohttpd with its own polling thread. We bind
 * the listening socket ourselves so that a failure names its cause
 * ("Address already in use") and port 0 works; MHD parses HTTP, we only
 * route four GET paths to the renderers.
 */
#include "http.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_assets.h"
#include "log.h"

#if defined(__has_include)
#if __has_include(<microhttpd.h>)
#define HTTP_HAVE_MHD 1
#endif
#endif

#ifdef HTTP_HAVE_MHD

#include <microhttpd.h>

static struct MHD_Daemon *daemon_handle;
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

static enum MHD_Result handle(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **request_state)
{
    static const char text[] = "text/plain; charset=utf-8";
    char *body;
    int code;

    (void)cls;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)request_state;
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

int http_start(const char *address, char *err, size_t err_size)
{
    bool ipv6 = false;
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;

    if (daemon_handle) {
        snprintf(err, err_size, "the HTTP endpoint is already running");
        return -1;
    }
    listen_fd = bind_listen(address, &ipv6, err, err_size);
    if (listen_fd < 0)
        return -1;
    if (ipv6)
        flags |= MHD_USE_IPv6;
    bound_port = socket_port(listen_fd);
    /* The logger first, or MHD prints what comes before it on its own. */
    daemon_handle = MHD_start_daemon(flags, (uint16_t)bound_port, NULL, NULL, handle, NULL, MHD_OPTION_EXTERNAL_LOGGER,
                                     mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_LIMIT,
                                     (unsigned int)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
                                     MHD_OPTION_END);
    if (!daemon_handle) {
        snprintf(err, err_size, "http.listen '%s': libmicrohttpd could not start", address);
        close(listen_fd);
        listen_fd = -1;
        bound_port = 0;
        return -1;
    }
    log_write(RDAPSYNC_LOG_INFO, NULL, -1, NULL, "http", "serving / /metrics /status /healthz /readyz on %s (port %d)",
              address, bound_port);
    return 0;
}

int http_port(void) { return daemon_handle ? bound_port : 0; }

void http_stop(void)
{
    if (!daemon_handle)
        return;
    /* MHD closes the listening socket it was given. */
    MHD_stop_daemon(daemon_handle);
    daemon_handle = NULL;
    listen_fd = -1;
    bound_port = 0;
    http_set_draining(false);
}

#else /* built without libmicrohttpd */

int http_start(const char *address, char *err, size_t err_size)
{
    snprintf(err, err_size, "http.listen '%s': rdapsync was built without libmicrohttpd", address);
    return -1;
}

int http_port(void) { return 0; }
void http_stop(void) {}

#endif
