/*
 * The OTLP/JSON body of a trace export (ExportTraceServiceRequest, as the
 * OpenTelemetry protocol maps it to JSON): ids as lowercase hex, 64-bit
 * integers as decimal strings, enums as numbers. Built with jansson, which
 * escapes whatever a record key or a plugin name holds.
 */
#include "otel_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

static json_t *hex(const uint8_t *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char text[33];
    for (size_t i = 0; i < n; i++) {
        text[2 * i] = digits[bytes[i] >> 4];
        text[2 * i + 1] = digits[bytes[i] & 15];
    }
    text[2 * n] = '\0';
    return json_string(text);
}

static json_t *span_id(uint64_t id)
{
    uint8_t bytes[8];
    for (int i = 0; i < 8; i++)
        bytes[i] = (uint8_t)(id >> (56 - 8 * i));
    return hex(bytes, 8);
}

static json_t *decimal(uint64_t v)
{
    char text[24];
    snprintf(text, sizeof(text), "%" PRIu64, v);
    return json_string(text);
}

/* Appends {"key":k,"value":{"stringValue":v}}; a NULL v is left out.
 * json_stringn_nocheck would pass invalid UTF-8 on: json_string answers
 * NULL for it instead, and the attribute is left out. */
static void attr_string(json_t *attrs, const char *key, const char *value)
{
    json_t *v = value ? json_string(value) : NULL;
    if (v)
        json_array_append_new(attrs, json_pack("{s:s, s:{s:o}}", "key", key, "value", "stringValue", v));
}

static void attr_int(json_t *attrs, const char *key, int64_t value)
{
    char text[24];
    if (value < 0)
        return;
    snprintf(text, sizeof(text), "%" PRId64, value);
    json_array_append_new(attrs, json_pack("{s:s, s:{s:s}}", "key", key, "value", "intValue", text));
}

static json_t *span_json(const otel_span *s)
{
    json_t *attrs = json_array();
    attr_string(attrs, "rdapsync.pipeline", s->pipeline);
    attr_int(attrs, "rdapsync.task", s->task);
    attr_string(attrs, "rdapsync.plugin", s->plugin);
    attr_string(attrs, "rdapsync.stage", s->stage);
    attr_int(attrs, "rdapsync.records", s->records);
    attr_string(attrs, "rdapsync.record.key", s->key);
    attr_string(attrs, "rdapsync.record.stream", s->stream);
    if (s->key || s->stream) {
        attr_int(attrs, "rdapsync.record.partition", s->partition);
        attr_int(attrs, "rdapsync.record.offset", s->offset);
    }
    json_t *span = json_pack("{s:o, s:o, s:s, s:i, s:o, s:o, s:o, s:{s:i}}", "traceId", hex(s->trace_id, 16),
                             "spanId", span_id(s->span_id), "name", s->name ? s->name : "span", "kind", 1,
                             "startTimeUnixNano", decimal(s->start_ns), "endTimeUnixNano", decimal(s->end_ns),
                             "attributes", attrs, "status", "code", s->error ? 2 : 0);
    if (span && s->parent_id)
        json_object_set_new(span, "parentSpanId", span_id(s->parent_id));
    return span;
}

char *otel_json_encode(const otel_queued *spans, size_t count, const char *service_name)
{
    json_t *list = json_array();
    for (size_t i = 0; i < count && list; i++) {
        json_t *span = span_json(&spans[i].span);
        if (!span || json_array_append_new(list, span) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    json_t *body = json_pack("{s:[{s:{s:[{s:s, s:{s:s}}]}, s:[{s:{s:s}, s:o}]}]}", "resourceSpans", "resource",
                             "attributes", "key", "service.name", "value", "stringValue", service_name,
                             "scopeSpans", "scope", "name", "rdapsync", "spans", list);
    if (!body)
        return NULL;
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}
