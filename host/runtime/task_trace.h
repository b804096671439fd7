/*
 * What a task keeps for its OpenTelemetry spans (task_trace.c): per cycle
 * the batch span's context and the spans given to its records, per task
 * the window each transform ran in during the fill. Only touched while
 * tracing is on (otel_enabled() when the task started). Not for other
 * modules: included by task_shared.h.
 */
#ifndef RDAPSYNC_HOST_TASK_TRACE_H
#define RDAPSYNC_HOST_TASK_TRACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* A record's own span (sampled, or continuing the record's traceparent). */
typedef struct task_record_span {
    uint8_t trace_id[16];
    uint64_t span_id, parent_id; /* span_id 0: the record has none */
} task_record_span;

typedef struct task_cycle_trace {
    bool on;                     /* spans are made for this cycle */
    uint8_t trace_id[16];        /* the batch's trace: the first traceparent polled, else new */
    uint64_t batch_span, parent; /* parent: the traceparent's span id, or 0 (a root) */
    bool sampled;                /* the traceparent's sampled flag (true for a new trace) */
    uint64_t fill_start, fill_end; /* Unix ns */
    task_record_span *records; /* owned; one per record of the batch (its capacity) */
    size_t record_capacity;
} task_cycle_trace;

/* When one transform ran during a fill (either thread; atomics). */
typedef struct task_trace_window {
    atomic_uint_fast64_t first, last, calls; /* Unix ns; first 0: not called */
} task_trace_window;

#endif
