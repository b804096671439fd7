/* The endpoint served over a real socket: routes, methods, status codes,
 * content types, and binding errors that name their cause. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "metrics.h"

/* No TLS, no authentication: what most of these tests are about is the server. */
static const http_settings no_security;

static task_stats *stats;
static FILE *log_out;

static void setup(void)
{
    log_out = tmpfile();
    log_set_stream(log_out);
    stats = task_stats_new("p", 0);
}

static void teardown(void)
{
    http_stop();
    task_stats_free(stats);
    log_set_stream(NULL);
    fclose(log_out);
}

TestSuite(server, .init = setup, .fini = teardown);

static char *request_with(int port, const char *method, const char *path, const char *extra_header);

/* One HTTP/1.0 request (the server closes after the response); the whole
 * response is returned, malloc'd. */
static char *request(int port, const char *method, const char *path)
{
    return request_with(port, method, path, "");
}

/* The same with `extra_header` ("Name: value\r\n" or ""). */
static char *request_with(int port, const char *method, const char *path, const char *extra_header)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char head[512], *out = NULL;
    size_t len = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    cr_assert(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0, "connect: %s", strerror(errno));
    snprintf(head, sizeof(head), "%s %s HTTP/1.0\r\nHost: localhost\r\n%s\r\n", method, path, extra_header);
    cr_assert_eq(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    for (;;) {
        out = realloc(out, len + 4097);
        ssize_t n = read(fd, out + len, 4096);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    out[len] = '\0';
    close(fd);
    return out;
}

static int start_any_port(void)
{
    char err[256];
    cr_assert_eq(http_start("127.0.0.1:0", &no_security, err, sizeof(err)), 0, "%s", err);
    int port = http_port();
    cr_assert_gt(port, 0);
    return port;
}

Test(server, serves_metrics_in_prometheus_text_format)
{
    int port = start_any_port();
    char *r = request(port, "GET", "/metrics");
    cr_assert(strncmp(r, "HTTP/1.0 200", 12) == 0 || strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
    cr_assert(strstr(r, "Content-Type: text/plain; version=0.0.4") != NULL, "%s", r);
    cr_assert(strstr(r, "rdapsync_task_records_in_total{pipeline=\"p\",task=\"0\"} 0\n") != NULL, "%s", r);
    free(r);
}

Test(server, serves_status_as_json)
{
    int port = start_any_port();
    char *r = request(port, "GET", "/status");
    cr_assert(strstr(r, " 200 ") != NULL, "%s", r);
    cr_assert(strstr(r, "Content-Type: application/json") != NULL, "%s", r);
    cr_assert(strstr(r, "\"pipelines\"") != NULL, "%s", r);
    free(r);
}

Test(server, readyz_and_healthz_answer_with_status_codes)
{
    int port = start_any_port();
    char *r = request(port, "GET", "/readyz");
    cr_assert(strstr(r, " 503 ") != NULL, "a starting task is not ready: %s", r);
    free(r);
    task_stats_set_state(stats, TASK_RUNNING);
    r = request(port, "GET", "/readyz");
    cr_assert(strstr(r, " 200 ") != NULL, "%s", r);
    free(r);
    r = request(port, "GET", "/healthz");
    cr_assert(strstr(r, " 200 ") != NULL && strstr(r, "\r\n\r\nok\n") != NULL, "%s", r);
    free(r);
    task_stats_set_state(stats, TASK_FAILED);
    r = request(port, "GET", "/healthz");
    cr_assert(strstr(r, " 503 ") != NULL && strstr(r, "p/0 failed") != NULL, "%s", r);
    free(r);
}

Test(server, unknown_paths_are_404_and_other_methods_405)
{
    int port = start_any_port();
    char *r = request(port, "GET", "/nothing");
    cr_assert(strstr(r, " 404 ") != NULL, "%s", r);
    free(r);
    r = request(port, "POST", "/metrics");
    cr_assert(strstr(r, " 405 ") != NULL, "%s", r);
    free(r);
}

Test(server, a_port_in_use_is_refused_with_the_reason)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    cr_assert_eq(listen(fd, 1), 0);
    getsockname(fd, (struct sockaddr *)&addr, &len);
    char listen_text[64], err[256];
    snprintf(listen_text, sizeof(listen_text), "127.0.0.1:%d", ntohs(addr.sin_port));
    cr_assert_eq(http_start(listen_text, &no_security, err, sizeof(err)), -1);
    cr_assert(strstr(err, "Address already in use") != NULL, "%s", err);
    cr_assert(strstr(err, listen_text) != NULL, "%s", err);
    close(fd);
}

Test(server, a_bad_address_is_refused)
{
    char err[256];
    cr_assert_eq(http_start("no-port-here", &no_security, err, sizeof(err)), -1);
    cr_assert(strstr(err, "HOST:PORT") != NULL, "%s", err);
    cr_assert_eq(http_start("host.invalid:8080", &no_security, err, sizeof(err)), -1);
    cr_assert(strstr(err, "host.invalid") != NULL, "%s", err);
}

Test(server, only_one_endpoint_per_process)
{
    char err[256];
    start_any_port();
    cr_assert_eq(http_start("127.0.0.1:0", &no_security, err, sizeof(err)), -1);
    cr_assert(strstr(err, "already running") != NULL, "%s", err);
}

Test(server, stop_frees_the_port_for_a_new_start)
{
    char err[256], again[64];
    int port = start_any_port();
    http_stop();
    cr_assert_eq(http_port(), 0);
    snprintf(again, sizeof(again), "127.0.0.1:%d", port);
    cr_assert_eq(http_start(again, &no_security, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(http_port(), port);
}

Test(server, ipv6_loopback_is_served_when_the_machine_has_it)
{
    char err[256];
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 probe = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool have_v6 = fd >= 0 && bind(fd, (struct sockaddr *)&probe, sizeof(probe)) == 0;
    if (fd >= 0)
        close(fd);
    if (!have_v6)
        cr_skip_test("no IPv6 loopback on this machine");
    cr_assert_eq(http_start("[::1]:0", &no_security, err, sizeof(err)), 0, "%s", err);
    cr_assert_gt(http_port(), 0);
}

/* A reload swaps the settings on the same socket: the port stays, and the
 * new settings apply to the next request. */
Test(server, reconfigure_applies_new_settings_on_the_same_port)
{
    char err[1024], token[] = "reload-token-31337";
    int port = start_any_port();
    http_settings bearer = { .bearer_token = token };
    cr_assert_eq(http_reconfigure(&bearer, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(http_port(), port);
    char *r = request(port, "GET", "/healthz");
    cr_assert(strstr(r, " 401 ") != NULL, "%s", r);
    cr_assert(strstr(r, "WWW-Authenticate: Bearer realm=\"rdapsync\"") != NULL, "%s", r);
    free(r);
    r = request_with(port, "GET", "/healthz", "Authorization: Bearer reload-token-31337\r\n");
    cr_assert(strstr(r, " 200 ") != NULL, "%s", r);
    free(r);
}

/* A reload whose certificate cannot be read leaves the endpoint as it was. */
Test(server, a_failed_reconfigure_keeps_serving_with_the_previous_settings)
{
    char err[1024];
    int port = start_any_port();
    http_settings broken = { .cert_file = "/nonexistent/server.crt", .key_file = "/nonexistent/server.key" };
    cr_assert_eq(http_reconfigure(&broken, err, sizeof(err)), -1);
    cr_assert(strstr(err, "still serving with the previous settings") != NULL, "%s", err);
    cr_assert(strstr(err, "/nonexistent/server.crt") != NULL, "%s", err);
    cr_assert_eq(http_port(), port);
    char *r = request(port, "GET", "/healthz");
    cr_assert(strstr(r, " 200 ") != NULL, "%s", r);
    free(r);
}

Test(server, serves_the_status_page_with_a_content_security_policy)
{
    int port = start_any_port();
    char *r = request(port, "GET", "/");
    cr_assert(strstr(r, " 200 ") != NULL, "%s", r);
    cr_assert(strstr(r, "Content-Type: text/html; charset=utf-8") != NULL, "%s", r);
    cr_assert(strstr(r, "Content-Security-Policy: default-src 'self';") != NULL, "%s", r);
    cr_assert(strstr(r, "X-Content-Type-Options: nosniff") != NULL, "%s", r);
    cr_assert(strstr(r, "<tr data-pipeline=\"p\" data-task=\"0\">") != NULL, "%s", r);
    free(r);
}

Test(server, serves_the_pages_script_and_style_but_not_its_template)
{
    int port = start_any_port();
    char *js = request(port, "GET", "/status.js"), *css = request(port, "GET", "/status.css"),
         *html = request(port, "GET", "/status.html"), *icon = request(port, "GET", "/favicon.ico");
    cr_assert(strstr(js, " 200 ") && strstr(js, "Content-Type: text/javascript; charset=utf-8"), "%s", js);
    cr_assert(strstr(js, "fetch(\"/status\"") != NULL, "%s", js);
    cr_assert(strstr(css, " 200 ") && strstr(css, "Content-Type: text/css; charset=utf-8"), "%s", css);
    cr_assert(strstr(html, " 404 ") != NULL, "%s", html);
    cr_assert(strstr(icon, " 204 ") != NULL, "%s", icon);
    free(js);
    free(css);
    free(html);
    free(icon);
}
