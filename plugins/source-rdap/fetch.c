/*
 * Requests over one curl multi handle: every server's transfers progress
 * together, so a server that hangs or is down holds up only its own
 * objects. Each server gets at most `concurrency` requests at once and
 * `rate` per second (token bucket), and none while it is blocked by a
 * Retry-After or a backoff.
 */
#define _POSIX_C_SOURCE 200809L
#include "fetch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define H source_rdap_host

int fetch_init(rdap_source *s, char *err, size_t err_size)
{
    s->multi = curl_multi_init();
    if (!s->multi) {
        snprintf(err, err_size, "curl_multi_init failed");
        return -1;
    }
    curl_multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return 0;
}

static void transfer_free(transfer *t)
{
    if (!t)
        return;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t->url);
    free(t->body);
    free(t->etag);
    free(t->last_modified);
    free(t->retry_after);
    free(t);
}

static size_t on_body(char *ptr, size_t size, size_t n, void *opaque)
{
    transfer *t = opaque;
    size_t add = size * n;
    if (t->len + add > t->max_size) {
        t->too_big = true; /* what came so far is kept for the dead letter */
        return 0;
    }
    char *b = realloc(t->body, t->len + add + 1);
    if (!b)
        return 0;
    memcpy(b + t->len, ptr, add);
    t->body = b;
    t->len += add;
    b[t->len] = '\0';
    return add;
}

/* "Name: value\r\n" -> *out (the caller frees it) when the name matches. */
static void header_value(const char *line, size_t len, const char *name, char **out)
{
    size_t n = strlen(name);
    if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return;
    const char *v = line + n + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    free(*out);
    *out = strndup(v, (size_t)(end - v));
}

static size_t on_header(char *line, size_t size, size_t n, void *opaque)
{
    transfer *t = opaque;
    size_t len = size * n;
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue): forget the last one's headers. */
        free(t->etag);
        free(t->last_modified);
        free(t->retry_after);
        t->etag = t->last_modified = t->retry_after = NULL;
    }
    header_value(line, len, "ETag", &t->etag);
    header_value(line, len, "Last-Modified", &t->last_modified);
    header_value(line, len, "Retry-After", &t->retry_after);
    return len;
}

/* a + b; the caller frees it. */
static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", a, b);
    return s;
}

static int start_one(rdap_source *s, size_t object)
{
    rdap_object *o = &s->objects[object];
    const rdap_config *cfg = s->cfg;
    transfer *t = calloc(1, sizeof(*t));

    if (!t)
        return -1;
    t->object = object;
    t->server = o->server;
    t->max_size = (size_t)cfg->max_response_size;
    t->url = o->redirect ? strdup(o->redirect) : join(s->servers[o->server].base, o->spec.path);
    t->easy = curl_easy_init();
    t->headers = curl_slist_append(NULL, "Accept: application/rdap+json, application/json;q=0.9");
    if (!t->url || !t->easy || !t->headers)
        goto fail;
    /* Conditional requests only when the validator belongs to the content we hold. */
    if (o->etag && o->has_hash) {
        char *h = join("If-None-Match: ", o->etag);
        struct curl_slist *l = h ? curl_slist_append(t->headers, h) : NULL;
        free(h);
        if (l)
            t->headers = l;
    } else if (o->last_modified && o->has_hash) {
        char *h = join("If-Modified-Since: ", o->last_modified);
        struct curl_slist *l = h ? curl_slist_append(t->headers, h) : NULL;
        free(h);
        if (l)
            t->headers = l;
    }
    CURL *c = t->easy;
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_PRIVATE, t);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->timeout);
    curl_easy_setopt(c, CURLOPT_USERAGENT, cfg->user_agent);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    /* Redirects are followed by respond.c, which checks where they go first. */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, cfg->tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, cfg->tls_verify ? 2L : 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    transfer **v = realloc(s->transfers, (s->transfer_count + 1) * sizeof(*v));
    if (!v)
        goto fail;
    s->transfers = v;
    if (curl_multi_add_handle(s->multi, c) != CURLM_OK)
        goto fail;
    v[s->transfer_count++] = t;
    o->in_flight = true;
    s->servers[o->server].inflight++;
    H->counter_add(s->ctx, "requests", 1);
    return 0;
fail:
    transfer_free(t);
    return -1;
}

/* Room for outcomes is bounded by what is in flight: never start more than
 * a poll can hand over plus what waits already. */
#define MAX_READY 256

int64_t fetch_start_due(rdap_source *s)
{
    int64_t now_wall = wall_ms(), now = mono_ms(), wait = -1;

    for (size_t k = 0; k < s->server_count; k++) {
        rdap_server *srv = &s->servers[k];
        int64_t w = -1;
        while (srv->heap_len > 0) {
            size_t top = srv->heap[0];
            rdap_object *o = &s->objects[top];
            if (o->next_due > now_wall) {
                w = o->next_due - now_wall;
                break;
            }
            if (srv->blocked_until > now) {
                w = srv->blocked_until - now;
                break;
            }
            if (srv->inflight >= s->cfg->concurrency || s->ready_len + s->transfer_count >= MAX_READY)
                break; /* a finishing transfer wakes the loop */
            if (!tb_take(&srv->bucket, now)) {
                w = tb_wait_ms(&srv->bucket, now);
                break;
            }
            heap_pop(s, srv);
            if (start_one(s, top) != 0) {
                H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s: cannot start a request (out of memory); later", o->spec.id);
                o->next_due = now_wall + s->cfg->backoff_initial;
                heap_push(s, srv, top);
                w = s->cfg->backoff_initial;
                break;
            }
        }
        if (w >= 0 && (wait < 0 || w < wait))
            wait = w;
    }
    return wait;
}

void fetch_run(rdap_source *s, int wait_ms)
{
    int running = 0, left = 0;
    CURLMsg *msg;

    if (s->transfer_count > 0 && wait_ms > 0)
        curl_multi_poll(s->multi, NULL, 0, wait_ms, NULL);
    curl_multi_perform(s->multi, &running);
    while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
        transfer *t = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode result = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(s->multi, msg->easy_handle);
        for (size_t i = 0; i < s->transfer_count; i++)
            if (s->transfers[i] == t) {
                s->transfers[i] = s->transfers[--s->transfer_count];
                break;
            }
        s->objects[t->object].in_flight = false;
        s->servers[t->server].inflight--;
        respond(s, t, result);
        transfer_free(t);
    }
}

void fetch_free(rdap_source *s)
{
    for (size_t i = 0; i < s->transfer_count; i++) {
        curl_multi_remove_handle(s->multi, s->transfers[i]->easy);
        transfer_free(s->transfers[i]);
    }
    free(s->transfers);
    s->transfers = NULL;
    s->transfer_count = 0;
    if (s->multi)
        curl_multi_cleanup(s->multi);
    s->multi = NULL;
}
