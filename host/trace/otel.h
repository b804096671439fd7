/*
 * OpenTelemetry traces: spans queued by the pipeline's threads and sent by
 * one exporter thread as OTLP/HTTP JSON (libcurl).
 *
 * The pipeline never waits for the collector: otel_emit() copies a span
 * into a bounded queue under a short lock and returns; when the queue is
 * full the span is dropped and counted. The exporter thread takes up to
 * OTEL_EXPORT_BATCH spans at a time and POSTs them to <endpoint>/v1/traces;
 * a failed export (collector down, an HTTP error) drops those spans and
 * counts them too. Both counts are on /metrics.
 *
 * Process-wide: started once by the runtime from the configuration's
 * `otel:` block, stopped at exit. Without a start every call is a cheap
 * no-op and otel_enabled() answers false.
 */
#ifndef RDAPSYNC_HOST_OTEL_H
#define RDAPSYNC_HOST_OTEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/otel_config.h"

/* Spans held at most while the exporter is behind. */
#define OTEL_QUEUE_CAPACITY 8192
/* Spans per export request. */
#define OTEL_EXPORT_BATCH 512

/* A trace context: W3C traceparent's trace id, span id and sampled flag. */
typedef struct otel_context {
    uint8_t trace_id[16];
    uint64_t span_id; /* 0: none (a root) */
    bool sampled;
} otel_context;

/* One finished span. Strings are copied (truncated to their buffers) by
 * otel_emit(); integer attributes < 0 are left out. */
typedef struct otel_span {
    uint8_t trace_id[16];
    uint64_t span_id, parent_id; /* parent 0: a root span */
    const char *name;            /* "batch", "poll", "transform", "sink.write", ... */
    uint64_t start_ns, end_ns;   /* Unix time, ns */
    bool error;                  /* status ERROR */
    const char *pipeline, *plugin, *stage; /* NULL: left out */
    int64_t task, records;
    const char *key, *stream; /* record spans; NULL: left out */
    int64_t partition, offset;
} otel_span;

/* Starts the exporter thread. 0, or -1 with a reason in err. Calling it
 * again while started answers -1. */
int otel_start(const otel_settings *settings, char *err, size_t err_size);
/* Sends what is queued (each request bounded by its timeout), stops the
 * thread and forgets the settings. Idempotent. */
void otel_stop(void);
bool otel_enabled(void);

/* Queues a copy of span; never blocks on the exporter. No-op when off. */
void otel_emit(const otel_span *span);

/* Unix time in ns (span timestamps). */
uint64_t otel_now_ns(void);
/* A random non-zero id; a random trace id (never all zeros). */
uint64_t otel_random_id(void);
void otel_random_trace(uint8_t trace_id[16]);
/* Whether a span with this id is sampled at the configured ratio (decided
 * from the id, so it costs no random draw). False when off. */
bool otel_sample(uint64_t span_id);

/* Parses a W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>", exactly 55
 * bytes for version 00; later versions may add fields after a '-'). 0 on
 * success; -1 for anything malformed or an all-zero id. */
int otel_traceparent_parse(const char *text, size_t len, otel_context *out);
/* Writes "00-<trace>-<span>-<flags>" and its NUL into out (56 bytes). */
#define OTEL_TRACEPARENT_SIZE 56
void otel_traceparent_format(const uint8_t trace_id[16], uint64_t span_id, bool sampled,
                             char out[OTEL_TRACEPARENT_SIZE]);

/* Counters for /metrics: spans the collector accepted, spans dropped (the
 * queue was full, or their export failed), export requests that failed. */
uint64_t otel_spans_exported(void);
uint64_t otel_spans_dropped(void);
uint64_t otel_export_failures(void);

/* otel_json.c: the OTLP/JSON ExportTraceServiceRequest body for `count`
 * spans (resource attribute service.name). Caller frees with free(); NULL
 * when out of memory. */
typedef struct otel_queued otel_queued;
char *otel_json_encode(const otel_queued *spans, size_t count, const char *service_name);

#endif
