/*
 * A task's OpenTelemetry spans (otel.h). Per cycle, one "batch" span and,
 * as its children, one span per stage: "poll" (the fill: polling, with the
 * transforms run on each chunk as it comes), one "transform" per transform
 * (from its first call to its last in the fill), "sink.write" (each
 * attempt), "sink.flush", "checkpoint.commit" (checkpoint file + source
 * commit). Records get a "record" span of their own when they carry a
 * W3C traceparent header (the trace is continued: the span is a child of
 * that context) or when sampled at otel.sample_ratio (a child of the batch
 * span). The batch span continues the first traceparent polled, if any.
 * Before the sink's write each record's traceparent header is set to its
 * own span, or to the batch span, so that a sink that carries headers (the
 * Kafka sink) passes the trace on.
 *
 * Spans are emitted as they end, into the exporter's bounded queue: the
 * hooks only read the clock and copy a few fields.
 */
#include "runtime/task_shared.h"

#include <stdlib.h>
#include <string.h>

#include "model/batch_api.h"

#define TRACEPARENT "traceparent"

int task_trace_start(struct task *t)
{
    t->tracing = otel_enabled();
    if (!t->tracing || t->transform_count == 0)
        return 0;
    t->trace_windows = calloc(t->transform_count, sizeof(*t->trace_windows));
    return t->trace_windows ? 0 : -1;
}

void task_trace_free(struct task *t)
{
    free(t->trace_windows);
    t->trace_windows = NULL;
    for (size_t i = 0; i < 2; i++) {
        free(t->cycles[i].trace.records);
        t->cycles[i].trace.records = NULL;
        t->cycles[i].trace.record_capacity = 0;
    }
}

/* The attributes every span of the task has. */
static otel_span span_of(const struct task *t, const task_cycle *c, const char *name)
{
    otel_span s = {.name = name, .pipeline = t->pipeline->name, .task = t->index, .records = -1,
                   .partition = -1, .offset = -1};
    memcpy(s.trace_id, c->trace.trace_id, sizeof(s.trace_id));
    s.parent_id = c->trace.batch_span;
    return s;
}

void task_trace_fill_begin(struct task *t, task_cycle *c)
{
    c->trace.on = t->tracing;
    if (!t->tracing)
        return;
    c->trace.fill_start = otel_now_ns();
    for (size_t k = 0; k < t->transform_count; k++) {
        atomic_store(&t->trace_windows[k].first, 0);
        atomic_store(&t->trace_windows[k].last, 0);
        atomic_store(&t->trace_windows[k].calls, 0);
    }
}

void task_trace_transform(struct task *t, size_t k, uint64_t start, uint64_t end)
{
    task_trace_window *w = &t->trace_windows[k];
    uint_fast64_t seen = atomic_load(&w->first);
    while ((seen == 0 || start < seen) && !atomic_compare_exchange_weak(&w->first, &seen, start))
        ;
    seen = atomic_load(&w->last);
    while (end > seen && !atomic_compare_exchange_weak(&w->last, &seen, end))
        ;
    atomic_fetch_add(&w->calls, 1);
}

/* The batch continues the first record's traceparent that parses; a
 * malformed one is ignored (it is the upstream's header, not ours). */
static void batch_context(task_cycle *c)
{
    size_t count = batch_count(c->batch);
    otel_context ctx;

    for (size_t i = 0; i < count; i++) {
        const rdapsync_header *h = batch_record_header(batch_get(c->batch, i), TRACEPARENT);
        if (h && otel_traceparent_parse(h->value, h->value_len, &ctx) == 0) {
            memcpy(c->trace.trace_id, ctx.trace_id, sizeof(ctx.trace_id));
            c->trace.parent = ctx.span_id;
            c->trace.sampled = ctx.sampled;
            return;
        }
    }
    otel_random_trace(c->trace.trace_id);
    c->trace.parent = 0;
    c->trace.sampled = true;
}

/* Before batch_keep(): the batch still holds every record polled. */
void task_trace_fill_end(struct task *t, task_cycle *c)
{
    if (!c->trace.on)
        return;
    if (c->polled == 0) {
        /* An idle poll is not worth a span every max_wait. */
        c->trace.on = false;
        return;
    }
    c->trace.fill_end = otel_now_ns();
    c->trace.batch_span = otel_random_id();
    batch_context(c);

    otel_span poll = span_of(t, c, "poll");
    poll.plugin = t->source.desc->name;
    poll.stage = "source";
    poll.records = (int64_t)c->polled;
    poll.start_ns = c->trace.fill_start;
    poll.end_ns = c->trace.fill_end;
    poll.span_id = otel_random_id();
    otel_emit(&poll);
    for (size_t k = 0; k < t->transform_count; k++) {
        task_trace_window *w = &t->trace_windows[k];
        if (atomic_load(&w->calls) == 0)
            continue;
        otel_span s = span_of(t, c, "transform");
        s.plugin = t->transforms[k].desc->name;
        s.stage = "transform";
        s.records = (int64_t)atomic_load(&w->calls);
        s.start_ns = atomic_load(&w->first);
        s.end_ns = atomic_load(&w->last);
        s.span_id = otel_random_id();
        otel_emit(&s);
    }
}

void task_trace_stage(struct task *t, task_cycle *c, const char *name, const instance *inst, const char *stage,
                      uint64_t start, int64_t records, bool ok)
{
    if (!c->trace.on)
        return;
    otel_span s = span_of(t, c, name);
    s.plugin = inst ? inst->desc->name : NULL;
    s.stage = stage;
    s.records = records;
    s.start_ns = start;
    s.end_ns = otel_now_ns();
    s.span_id = otel_random_id();
    s.error = !ok;
    otel_emit(&s);
}

void task_trace_deliver_begin(struct task *t, task_cycle *c)
{
    size_t count = batch_count(c->batch);
    char header[OTEL_TRACEPARENT_SIZE];

    (void)t;
    if (!c->trace.on)
        return;
    if (c->trace.record_capacity < count) {
        task_record_span *grown = realloc(c->trace.records, count * sizeof(*grown));
        if (!grown) {
            /* No room to remember record spans: the records still carry
             * the batch's context. */
            c->trace.record_capacity = 0;
            free(c->trace.records);
            c->trace.records = NULL;
        } else {
            c->trace.records = grown;
            c->trace.record_capacity = count;
        }
    }
    for (size_t i = 0; i < count; i++) {
        rdapsync_record *record = (rdapsync_record *)batch_get(c->batch, i);
        const rdapsync_header *h = batch_record_header(record, TRACEPARENT);
        otel_context in;
        task_record_span span = {.span_id = 0};
        bool sampled = c->trace.sampled;

        if (h && otel_traceparent_parse(h->value, h->value_len, &in) == 0) {
            memcpy(span.trace_id, in.trace_id, sizeof(span.trace_id));
            span.parent_id = in.span_id;
            span.span_id = otel_random_id();
            sampled = in.sampled;
        } else {
            uint64_t id = otel_random_id();
            if (otel_sample(id)) {
                memcpy(span.trace_id, c->trace.trace_id, sizeof(span.trace_id));
                span.parent_id = c->trace.batch_span;
                span.span_id = id;
            }
        }
        if (!c->trace.records)
            span.span_id = 0;
        else
            c->trace.records[i] = span;
        if (span.span_id)
            otel_traceparent_format(span.trace_id, span.span_id, sampled, header);
        else
            otel_traceparent_format(c->trace.trace_id, c->trace.batch_span, sampled, header);
        /* Out of arena memory: the record goes on without the header. */
        (void)batch_record_put_header(c->batch, record, TRACEPARENT, header, OTEL_TRACEPARENT_SIZE - 1);
    }
}

void task_trace_deliver_end(struct task *t, task_cycle *c)
{
    size_t count = batch_count(c->batch);
    uint64_t now;

    if (!c->trace.on || !c->trace.records)
        return;
    now = otel_now_ns();
    for (size_t i = 0; i < count && i < c->trace.record_capacity; i++) {
        const task_record_span *r = &c->trace.records[i];
        if (!r->span_id)
            continue;
        const rdapsync_record *record = batch_get(c->batch, i);
        otel_span s = span_of(t, c, "record");
        memcpy(s.trace_id, r->trace_id, sizeof(s.trace_id));
        s.span_id = r->span_id;
        s.parent_id = r->parent_id;
        s.plugin = t->sink.desc->name;
        s.stage = "sink";
        s.records = 1;
        s.start_ns = c->trace.fill_start;
        s.end_ns = now;
        s.key = record->key;
        s.stream = record->position.stream ? record->position.stream : "";
        s.partition = record->position.partition;
        s.offset = record->position.offset;
        otel_emit(&s);
    }
}

void task_trace_settle(struct task *t, task_cycle *c, bool ok)
{
    if (!c->trace.on)
        return;
    otel_span s = span_of(t, c, "batch");
    s.span_id = c->trace.batch_span;
    s.parent_id = c->trace.parent;
    s.records = (int64_t)c->polled;
    s.start_ns = c->trace.fill_start;
    s.end_ns = otel_now_ns();
    s.error = !ok;
    otel_emit(&s);
    c->trace.on = false;
}
