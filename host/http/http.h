/*
 * The operations endpoint (config `http: { listen: "127.0.0.1:PORT" }`),
 * served by libmicrohttpd on its own thread:
 *
 *   GET /metrics   Prometheus text format 0.0.4 (docs/operations.md lists every name)
 *   GET /status    JSON: per pipeline and task, state, circuit, last error, checkpoint, counts
 *   GET /healthz   200 "ok", or 503 naming the task slots that failed for good
 *   GET /readyz    200 "ready", or 503 naming what is not running (starting, retrying, draining...)
 *   GET /          the status page (HTML; live through /status.js, a plain table without JavaScript)
 *   GET /status.js, /status.css   its embedded assets (host/http_assets/)
 *
 * Everything it shows is read from metrics.h (task_stats snapshots, plugin
 * metrics): the endpoint owns no state of the tasks.
 */
#ifndef RDAPSYNC_HOST_HTTP_H
#define RDAPSYNC_HOST_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/http_settings.h"

/*
 * Binds `listen` ("HOST:PORT", "[V6]:PORT"; port 0 picks a free one) and
 * starts serving with `settings` (TLS and authentication, http_settings.h;
 * copied, and the certificate and key files read now). One endpoint per
 * process. Start it with the signals the runtime handles blocked: its
 * thread inherits the mask. Returns 0, or -1 with the reason in err (e.g.
 * "127.0.0.1:8080: Address already in use").
 */
int http_start(const char *listen, const http_settings *settings, char *err, size_t err_size);
/*
 * Serves with new settings from now on, reading the certificate and key
 * files again (SIGHUP), on the same listening socket: no connection is
 * refused meanwhile. Call it with the signals blocked, like http_start().
 * On failure (-1, reason in err) the endpoint goes on serving with what it
 * had, the old certificate included.
 */
int http_reconfigure(const http_settings *settings, char *err, size_t err_size);
/* The port actually bound (after port 0), or 0 when not started. */
int http_port(void);
/* Stops serving and joins the server thread. Safe when not started. */
void http_stop(void);

/* The runtime says it is draining: /readyz answers 503 from then on. */
void http_set_draining(bool draining);

/* ---- rendering, without a server (the handlers and unit tests) ---- */

/* The circuit of a task slot as /status and /metrics show it: "closed"
 * (calls flow), "open" (backing off after RETRY or a failure: no calls, or
 * failed for good). Static string. */
const char *http_circuit_str(int state);

/* Each returns a malloc'd NUL-terminated text (caller frees), NULL when out
 * of memory. `now_ms` is the wall clock (ms since the epoch) that ages
 * are measured against. */
char *http_render_metrics(int64_t now_ms);
char *http_render_status(int64_t now_ms);
/* The status page (GET /): host/http_assets/status.html with its table
 * filled in, every text HTML-escaped (http_page.c). */
char *http_render_page(int64_t now_ms);
/* The HTTP status (200 or 503) and a malloc'd plain-text body in *body
 * (caller frees; NULL when out of memory). */
int http_render_health(char **body);
int http_render_ready(char **body);

/* Wall clock in ms since the epoch. */
int64_t http_wall_ms(void);

#endif
