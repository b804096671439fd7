/*
 * The span queue and its exporter thread (see otel.h). The queue is a ring
 * of OTEL_QUEUE_CAPACITY fixed-size entries under one mutex: otel_emit()
 * holds it for a copy of a few hundred bytes, the exporter only while it
 * moves a run of entries out, never during a request. HTTP is libcurl's
 * easy interface, one handle kept for the thread's life (its connection is
 * reused between requests).
 */
#include "trace/otel_internal.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "base/log.h"

/* A request may take this long; a collector that does not answer costs the
 * spans of one request, not a queue that backs up for minutes. */
#define OTEL_TIMEOUT_MS 3000L
#define OTEL_CONNECT_TIMEOUT_MS 1000L
/* The exporter sends at least this often while spans wait. */
#define OTEL_INTERVAL_MS 200

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running, quit;
    otel_queued *ring; /* OTEL_QUEUE_CAPACITY entries */
    size_t head, count;
    char *url, *service_name;
    struct curl_slist *headers;
    double sample_ratio;
} exporter = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static atomic_bool enabled;
static atomic_uint_fast64_t exported, dropped, failures;

bool otel_enabled(void) { return atomic_load_explicit(&enabled, memory_order_relaxed); }
uint64_t otel_spans_exported(void) { return atomic_load(&exported); }
uint64_t otel_spans_dropped(void) { return atomic_load(&dropped); }
uint64_t otel_export_failures(void) { return atomic_load(&failures); }

uint64_t otel_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64 over a per-thread state seeded from the clock and the
 * thread's address: ids need to be unique, not unpredictable. */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t otel_random_id(void)
{
    static _Thread_local uint64_t state;
    if (!state) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = mix(otel_now_ns() ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&state);
    }
    uint64_t id;
    do {
        state += 0x9e3779b97f4a7c15ull;
        id = mix(state);
    } while (id == 0);
    return id;
}

void otel_random_trace(uint8_t trace_id[16])
{
    uint64_t hi = otel_random_id(), lo = otel_random_id();
    for (int i = 0; i < 8; i++) {
        trace_id[i] = (uint8_t)(hi >> (56 - 8 * i));
        trace_id[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
}

bool otel_sample(uint64_t span_id)
{
    if (!otel_enabled())
        return false;
    double ratio = exporter.sample_ratio;
    if (ratio >= 1.0)
        return true;
    if (ratio <= 0.0)
        return false;
    /* The id is already uniform; mixed again so that sequential ids do not
     * all land on one side. */
    return (double)(mix(span_id) >> 11) < ratio * (double)(1ull << 53);
}

/* ---- traceparent ---- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* W3C: lowercase only */
}

static int parse_hex(const char *text, size_t digits, uint8_t *out)
{
    for (size_t i = 0; i < digits; i += 2) {
        int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int otel_traceparent_parse(const char *text, size_t len, otel_context *out)
{
    uint8_t version, span[8], flags;
    bool zero = true;

    if (!text || len < 55 || text[2] != '-' || text[35] != '-' || text[52] != '-')
        return -1;
    if (parse_hex(text, 2, &version) != 0 || version == 0xff)
        return -1;
    /* Version 00 is exactly 55 bytes; a later one may append "-...". */
    if ((version == 0 && len != 55) || (version != 0 && len > 55 && text[55] != '-'))
        return -1;
    if (parse_hex(text + 3, 32, out->trace_id) != 0 || parse_hex(text + 36, 16, span) != 0 ||
        parse_hex(text + 53, 2, &flags) != 0)
        return -1;
    for (int i = 0; i < 16; i++)
        zero = zero && out->trace_id[i] == 0;
    out->span_id = 0;
    for (int i = 0; i < 8; i++)
        out->span_id = out->span_id << 8 | span[i];
    if (zero || out->span_id == 0)
        return -1;
    out->sampled = flags & 1;
    return 0;
}

void otel_traceparent_format(const uint8_t trace_id[16], uint64_t span_id, bool sampled,
                             char out[OTEL_TRACEPARENT_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    char *p = out;
    *p++ = '0';
    *p++ = '0';
    *p++ = '-';
    for (int i = 0; i < 16; i++) {
        *p++ = digits[trace_id[i] >> 4];
        *p++ = digits[trace_id[i] & 15];
    }
    *p++ = '-';
    for (int i = 60; i >= 0; i -= 4)
        *p++ = digits[(span_id >> i) & 15];
    *p++ = '-';
    *p++ = '0';
    *p++ = sampled ? '1' : '0';
    *p = '\0';
}

/* ---- the queue ---- */

static const char *copy_into(char *buf, size_t size, const char *text)
{
    if (!text)
        return NULL;
    snprintf(buf, size, "%s", text);
    return buf;
}

void otel_emit(const otel_span *span)
{
    if (!otel_enabled())
        return;
    pthread_mutex_lock(&exporter.lock);
    if (!exporter.ring || exporter.count == OTEL_QUEUE_CAPACITY) {
        pthread_mutex_unlock(&exporter.lock);
        atomic_fetch_add(&dropped, 1);
        return;
    }
    otel_queued *q = &exporter.ring[(exporter.head + exporter.count) % OTEL_QUEUE_CAPACITY];
    q->span = *span;
    q->span.name = copy_into(q->name, sizeof(q->name), span->name);
    q->span.pipeline = copy_into(q->pipeline, sizeof(q->pipeline), span->pipeline);
    q->span.plugin = copy_into(q->plugin, sizeof(q->plugin), span->plugin);
    q->span.stage = copy_into(q->stage, sizeof(q->stage), span->stage);
    q->span.key = copy_into(q->key, sizeof(q->key), span->key);
    q->span.stream = copy_into(q->stream, sizeof(q->stream), span->stream);
    exporter.count++;
    /* Wake the exporter early only when a request's worth is waiting. */
    if (exporter.count == OTEL_EXPORT_BATCH)
        pthread_cond_signal(&exporter.wake);
    pthread_mutex_unlock(&exporter.lock);
}

/* ---- the exporter thread ---- */

static size_t discard_body(char *data, size_t size, size_t n, void *opaque)
{
    (void)data;
    (void)opaque;
    return size * n;
}

/* One POST of `count` spans; they count as exported or as dropped.
 * `failing` (the exporter thread's) is whether the last request failed:
 * a collector that is down for an hour is one warning, then one line when
 * it is back, not a line per request. Answers whether it was accepted. */
static bool export_spans(CURL *curl, const otel_queued *spans, size_t count, bool *failing)
{
    char *body = otel_json_encode(spans, count, exporter.service_name);
    long code = 0;
    CURLcode rc = CURLE_OUT_OF_MEMORY;

    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        rc = curl_easy_perform(curl);
        if (rc == CURLE_OK)
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        free(body);
    }
    if (rc == CURLE_OK && code >= 200 && code < 300) {
        atomic_fetch_add(&exported, count);
        if (*failing)
            log_info("otel: the collector at %s accepts spans again", exporter.url);
        *failing = false;
        return true;
    }
    atomic_fetch_add(&dropped, count);
    atomic_fetch_add(&failures, 1);
    if (!*failing) {
        char reason[64];
        if (rc != CURLE_OK)
            snprintf(reason, sizeof(reason), "%s", curl_easy_strerror(rc));
        else
            snprintf(reason, sizeof(reason), "HTTP %ld", code);
        log_warn("otel: export of %zu spans to %s failed: %s; spans are dropped (and counted) until it works",
                 count, exporter.url, reason);
    }
    *failing = true;
    return false;
}

static void *exporter_main(void *arg)
{
    (void)arg;
    otel_queued *out = malloc(OTEL_EXPORT_BATCH * sizeof(*out));
    CURL *curl = curl_easy_init();
    bool failing = false;

    if (curl) {
        curl_easy_setopt(curl, CURLOPT_URL, exporter.url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, exporter.headers);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, OTEL_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, OTEL_CONNECT_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
    }
    pthread_mutex_lock(&exporter.lock);
    for (;;) {
        if (exporter.count < OTEL_EXPORT_BATCH && !exporter.quit) {
            struct timespec deadline;
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_nsec += OTEL_INTERVAL_MS * 1000000L;
            if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&exporter.wake, &exporter.lock, &deadline);
        }
        if (exporter.count == 0) {
            if (exporter.quit)
                break;
            continue;
        }
        size_t n = exporter.count < OTEL_EXPORT_BATCH ? exporter.count : OTEL_EXPORT_BATCH;
        for (size_t i = 0; i < n && out; i++) {
            out[i] = exporter.ring[(exporter.head + i) % OTEL_QUEUE_CAPACITY];
            /* The copies' strings point into the ring's buffers: repoint them. */
            otel_queued *q = &out[i];
            q->span.name = q->span.name ? q->name : NULL;
            q->span.pipeline = q->span.pipeline ? q->pipeline : NULL;
            q->span.plugin = q->span.plugin ? q->plugin : NULL;
            q->span.stage = q->span.stage ? q->stage : NULL;
            q->span.key = q->span.key ? q->key : NULL;
            q->span.stream = q->span.stream ? q->stream : NULL;
        }
        exporter.head = (exporter.head + n) % OTEL_QUEUE_CAPACITY;
        exporter.count -= n;
        pthread_mutex_unlock(&exporter.lock);
        bool sent = curl && out && export_spans(curl, out, n, &failing);
        if (!curl || !out)
            atomic_fetch_add(&dropped, n);
        pthread_mutex_lock(&exporter.lock);
        if (exporter.quit && !sent) {
            /* Stopping with the collector away: one request per 512 spans
             * could take OTEL_TIMEOUT_MS each; the rest is dropped. */
            atomic_fetch_add(&dropped, exporter.count);
            exporter.count = 0;
        }
    }
    pthread_mutex_unlock(&exporter.lock);
    curl_easy_cleanup(curl);
    free(out);
    return NULL;
}

/* endpoint + "/v1/traces", unless it names that path already. */
static char *traces_url(const char *endpoint)
{
    const char *path = "/v1/traces";
    size_t len = strlen(endpoint);
    while (len > 0 && endpoint[len - 1] == '/')
        len--;
    size_t plen = strlen(path);
    bool has_path = len >= plen && memcmp(endpoint + len - plen, path, plen) == 0;
    char *url = malloc(len + plen + 1);
    if (url)
        snprintf(url, len + plen + 1, "%.*s%s", (int)len, endpoint, has_path ? "" : path);
    return url;
}

static void release_settings(void)
{
    free(exporter.ring);
    free(exporter.url);
    free(exporter.service_name);
    curl_slist_free_all(exporter.headers);
    exporter.ring = NULL;
    exporter.url = exporter.service_name = NULL;
    exporter.headers = NULL;
    exporter.head = exporter.count = 0;
}

int otel_start(const otel_settings *settings, char *err, size_t err_size)
{
    if (exporter.running) {
        snprintf(err, err_size, "otel: already started");
        return -1;
    }
    if (!settings->endpoint) {
        snprintf(err, err_size, "otel: no endpoint");
        return -1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    exporter.ring = malloc(OTEL_QUEUE_CAPACITY * sizeof(*exporter.ring));
    exporter.url = traces_url(settings->endpoint);
    exporter.service_name = strdup(settings->service_name ? settings->service_name : "rdapsync");
    exporter.headers = curl_slist_append(NULL, "Content-Type: application/json");
    bool ok = exporter.ring && exporter.url && exporter.service_name && exporter.headers;
    for (size_t i = 0; ok && i < settings->header_count; i++) {
        size_t size = strlen(settings->header_names[i]) + strlen(settings->header_values[i]) + 3;
        char *line = malloc(size);
        struct curl_slist *grown = NULL;
        if (line) {
            snprintf(line, size, "%s: %s", settings->header_names[i], settings->header_values[i]);
            grown = curl_slist_append(exporter.headers, line);
            free(line);
        }
        ok = grown != NULL;
    }
    exporter.sample_ratio = settings->sample_ratio;
    exporter.quit = false;
    if (!ok) {
        release_settings();
        snprintf(err, err_size, "otel: out of memory");
        return -1;
    }
    /* Signals are the main thread's business (runtime.c): the exporter
     * starts with them blocked, as the supervisors do. */
    sigset_t blocked, old;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &blocked, &old);
    int created = pthread_create(&exporter.thread, NULL, exporter_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (created != 0) {
        release_settings();
        snprintf(err, err_size, "otel: cannot start the exporter thread");
        return -1;
    }
    exporter.running = true;
    atomic_store(&enabled, true);
    log_write(RDAPSYNC_LOG_INFO, NULL, -1, NULL, NULL, "otel: exporting spans to %s (records sampled at %g)",
              exporter.url, exporter.sample_ratio);
    return 0;
}

void otel_stop(void)
{
    if (!exporter.running)
        return;
    atomic_store(&enabled, false);
    pthread_mutex_lock(&exporter.lock);
    exporter.quit = true;
    pthread_cond_signal(&exporter.wake);
    pthread_mutex_unlock(&exporter.lock);
    pthread_join(exporter.thread, NULL);
    exporter.running = false;
    /* Under the lock: an otel_emit() that saw `enabled` just before it
     * changed finds no ring and counts a drop. */
    pthread_mutex_lock(&exporter.lock);
    release_settings();
    pthread_mutex_unlock(&exporter.lock);
}
