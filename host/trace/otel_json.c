/*
 * The OTLP/JSON body of a trace export (ExportTraceServiceRequest, as the
 * OpenTelemetry protocol maps it to JSON): ids as lowercase hex, 64-bit
 * integers as decimal strings, enums as numbers.
 *
 * Written straight into a memory stream rather than built as a jansson
 * tree: a span is ~25 JSON objects, and building, dumping and freeing them
 * with jansson measured about 16 us of CPU per span (mostly malloc and
 * free), which at sample_ratio 1 cost a pipeline ~70 % more CPU. This
 * writer does the same in about 2 us (bench/README.md, bench/otel). The
 * body's shape is fixed; the only text from outside (pipeline, plugin,
 * record key, stream) goes through put_string(), which escapes what JSON
 * requires and leaves out a value that is not valid UTF-8 (the collector
 * would refuse the whole request). tests/unit/otel parses the output with
 * jansson.
 */
#include "trace/otel_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/batch_api.h"

static void put_hex(FILE *out, const uint8_t *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char text[33];
    for (size_t i = 0; i < n; i++) {
        text[2 * i] = digits[bytes[i] >> 4];
        text[2 * i + 1] = digits[bytes[i] & 15];
    }
    fwrite(text, 1, 2 * n, out);
}

static void put_span_id(FILE *out, uint64_t id)
{
    uint8_t bytes[8];
    for (int i = 0; i < 8; i++)
        bytes[i] = (uint8_t)(id >> (56 - 8 * i));
    put_hex(out, bytes, 8);
}

/* A JSON string: quote, backslash and control characters escaped; the
 * caller checked that it is valid UTF-8. */
static void put_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', out);
            fputc(*p, out);
        } else if (*p < 0x20) {
            fprintf(out, "\\u%04x", *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* ,{"key":K,"value":{"stringValue":V}}; NULL or invalid UTF-8 left out. */
static void attr_string(FILE *out, bool *first, const char *key, const char *value)
{
    if (!value || !batch_utf8_valid(value, strlen(value)))
        return;
    fprintf(out, "%s{\"key\":\"%s\",\"value\":{\"stringValue\":", *first ? "" : ",", key);
    put_string(out, value);
    fputs("}}", out);
    *first = false;
}

static void attr_int(FILE *out, bool *first, const char *key, int64_t value)
{
    if (value < 0)
        return;
    fprintf(out, "%s{\"key\":\"%s\",\"value\":{\"intValue\":\"%" PRId64 "\"}}", *first ? "" : ",", key, value);
    *first = false;
}

static void put_span(FILE *out, const otel_span *s)
{
    bool first = true;

    fputs("{\"traceId\":\"", out);
    put_hex(out, s->trace_id, 16);
    fputs("\",\"spanId\":\"", out);
    put_span_id(out, s->span_id);
    if (s->parent_id) {
        fputs("\",\"parentSpanId\":\"", out);
        put_span_id(out, s->parent_id);
    }
    fputs("\",\"name\":", out);
    put_string(out, s->name && batch_utf8_valid(s->name, strlen(s->name)) ? s->name : "span");
    fprintf(out, ",\"kind\":1,\"startTimeUnixNano\":\"%" PRIu64 "\",\"endTimeUnixNano\":\"%" PRIu64 "\",\"attributes\":[",
            s->start_ns, s->end_ns);
    attr_string(out, &first, "rdapsync.pipeline", s->pipeline);
    attr_int(out, &first, "rdapsync.task", s->task);
    attr_string(out, &first, "rdapsync.plugin", s->plugin);
    attr_string(out, &first, "rdapsync.stage", s->stage);
    attr_int(out, &first, "rdapsync.records", s->records);
    attr_string(out, &first, "rdapsync.record.key", s->key);
    attr_string(out, &first, "rdapsync.record.stream", s->stream);
    if (s->key || s->stream) {
        attr_int(out, &first, "rdapsync.record.partition", s->partition);
        attr_int(out, &first, "rdapsync.record.offset", s->offset);
    }
    fprintf(out, "],\"status\":{\"code\":%d}}", s->error ? 2 : 0);
}

char *otel_json_encode(const otel_queued *spans, size_t count, const char *service_name)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);

    if (!out)
        return NULL;
    fputs("{\"resourceSpans\":[{\"resource\":{\"attributes\":[", out);
    bool first = true;
    attr_string(out, &first, "service.name", service_name);
    fputs("]},\"scopeSpans\":[{\"scope\":{\"name\":\"rdapsync\"},\"spans\":[", out);
    for (size_t i = 0; i < count; i++) {
        if (i)
            fputc(',', out);
        put_span(out, &spans[i].span);
    }
    fputs("]}]}]}", out);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
