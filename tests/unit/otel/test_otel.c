/* The span exporter without a collector: W3C traceparent parsing and
 * writing, the OTLP/JSON body, spans counted as dropped when nothing
 * answers (and never waited for), and the `otel:` configuration block. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "batch.h"
#include "batch_api.h"
#include "diag.h"
#include "log.h"
#include "otel.h"
#include "otel_config.h"
#include "otel_internal.h"
#include "secrets.h"
#include "yaml_tree.h"

static FILE *log_out;

static void setup(void)
{
    log_out = tmpfile();
    log_set_stream(log_out);
}

static void teardown(void)
{
    otel_stop();
    secrets_reset();
    log_set_stream(NULL);
    fclose(log_out);
}

TestSuite(otel, .init = setup, .fini = teardown);

#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

Test(otel, traceparent_parses_the_w3c_example)
{
    otel_context ctx;
    cr_assert_eq(otel_traceparent_parse(TP, strlen(TP), &ctx), 0);
    cr_assert_eq(ctx.trace_id[0], 0x4b);
    cr_assert_eq(ctx.trace_id[15], 0x36);
    cr_assert_eq(ctx.span_id, 0x00f067aa0ba902b7ull);
    cr_assert(ctx.sampled);

    char out[OTEL_TRACEPARENT_SIZE];
    otel_traceparent_format(ctx.trace_id, ctx.span_id, true, out);
    cr_assert_str_eq(out, TP);
    otel_traceparent_format(ctx.trace_id, 1, false, out);
    cr_assert_str_eq(out, "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-00");
}

Test(otel, traceparent_refuses_malformed_headers)
{
    const char *bad[] = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",             /* short */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",            /* upper case */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",            /* zero trace */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",            /* zero span */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",            /* version ff */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",      /* 00 has no more fields */
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",            /* separator */
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",            /* not hex */
    };
    otel_context ctx;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect_eq(otel_traceparent_parse(bad[i], strlen(bad[i]), &ctx), -1, "accepted '%s'", bad[i]);
    /* A later version may add fields. */
    const char *later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more";
    cr_assert_eq(otel_traceparent_parse(later, strlen(later), &ctx), 0);
    cr_assert_not(ctx.sampled);
}

Test(otel, random_ids_are_not_zero_and_differ)
{
    uint64_t a = otel_random_id(), b = otel_random_id();
    cr_assert_neq(a, 0);
    cr_assert_neq(a, b);
    uint8_t t1[16], t2[16];
    otel_random_trace(t1);
    otel_random_trace(t2);
    cr_assert_neq(memcmp(t1, t2, 16), 0);
}

Test(otel, json_body_is_otlp_json)
{
    otel_queued q[2];
    memset(q, 0, sizeof(q));
    otel_span *s = &q[0].span;
    otel_context ctx;
    otel_traceparent_parse(TP, strlen(TP), &ctx);
    memcpy(s->trace_id, ctx.trace_id, 16);
    s->span_id = 0x0102030405060708ull;
    s->parent_id = ctx.span_id;
    s->name = "poll";
    s->pipeline = "p\"1";
    s->plugin = "kafka";
    s->stage = "source";
    s->task = 0;
    s->records = 42;
    s->partition = s->offset = -1;
    s->start_ns = 1700000000000000001ull;
    s->end_ns = 1700000000000000002ull;
    q[1] = q[0];
    q[1].span.parent_id = 0;
    q[1].span.error = true;
    q[1].span.key = "K1";
    q[1].span.stream = "topic";
    q[1].span.partition = 3;
    q[1].span.offset = 17;

    char *text = otel_json_encode(q, 2, "svc");
    cr_assert_not_null(text);
    json_error_t error;
    json_t *body = json_loads(text, 0, &error);
    free(text);
    cr_assert_not_null(body, "%s", error.text);
    json_t *rs = json_array_get(json_object_get(body, "resourceSpans"), 0);
    json_t *rattr = json_array_get(json_object_get(json_object_get(rs, "resource"), "attributes"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(rattr, "key")), "service.name");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(rattr, "value"), "stringValue")), "svc");
    json_t *spans = json_object_get(json_array_get(json_object_get(rs, "scopeSpans"), 0), "spans");
    cr_assert_eq(json_array_size(spans), 2);
    json_t *a = json_array_get(spans, 0), *b = json_array_get(spans, 1);
    cr_assert_str_eq(json_string_value(json_object_get(a, "traceId")), "4bf92f3577b34da6a3ce929d0e0e4736");
    cr_assert_str_eq(json_string_value(json_object_get(a, "spanId")), "0102030405060708");
    cr_assert_str_eq(json_string_value(json_object_get(a, "parentSpanId")), "00f067aa0ba902b7");
    cr_assert_str_eq(json_string_value(json_object_get(a, "startTimeUnixNano")), "1700000000000000001");
    cr_assert_str_eq(json_string_value(json_object_get(a, "name")), "poll");
    cr_assert_null(json_object_get(b, "parentSpanId"), "a root has no parentSpanId");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(b, "status"), "code")), 2);

    /* Attributes: strings as given (escaped by the JSON writer), integers
     * as decimal strings; record attributes only on record spans. */
    json_t *attrs = json_object_get(a, "attributes");
    size_t i;
    json_t *attr;
    bool pipeline = false, records = false, key = false;
    json_array_foreach(attrs, i, attr) {
        const char *name = json_string_value(json_object_get(attr, "key"));
        json_t *value = json_object_get(attr, "value");
        if (strcmp(name, "rdapsync.pipeline") == 0)
            pipeline = strcmp(json_string_value(json_object_get(value, "stringValue")), "p\"1") == 0;
        if (strcmp(name, "rdapsync.records") == 0)
            records = strcmp(json_string_value(json_object_get(value, "intValue")), "42") == 0;
        key = key || strcmp(name, "rdapsync.record.key") == 0 || strcmp(name, "rdapsync.record.offset") == 0;
    }
    cr_assert(pipeline && records && !key);
    bool offset = false;
    json_array_foreach(json_object_get(b, "attributes"), i, attr) {
        if (strcmp(json_string_value(json_object_get(attr, "key")), "rdapsync.record.offset") == 0)
            offset = strcmp(json_string_value(json_object_get(json_object_get(attr, "value"), "intValue")), "17") == 0;
    }
    cr_assert(offset);
    json_decref(body);
}

Test(otel, json_body_escapes_keys_and_leaves_out_invalid_utf8)
{
    otel_queued q;
    memset(&q, 0, sizeof(q));
    q.span.name = "record";
    q.span.span_id = 1;
    q.span.trace_id[15] = 1;
    q.span.task = -1;
    q.span.records = -1;
    q.span.key = "a\"b\\c\td\x01\xc3\xa9";   /* quote, backslash, tab, U+0001, é */
    q.span.stream = "bad\xff\xfe";             /* not UTF-8 */
    q.span.partition = 0;
    q.span.offset = 5;
    char *text = otel_json_encode(&q, 1, "svc\n");
    cr_assert_not_null(text);
    json_error_t error;
    json_t *body = json_loads(text, 0, &error);
    cr_assert_not_null(body, "%s in %s", error.text, text);
    free(text);
    json_t *span = json_array_get(
        json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(body, "resourceSpans"), 0),
                                                       "scopeSpans"),
                                       0),
                        "spans"),
        0);
    size_t i;
    json_t *attr;
    const char *key = NULL;
    bool stream = false;
    json_array_foreach(json_object_get(span, "attributes"), i, attr) {
        const char *name = json_string_value(json_object_get(attr, "key"));
        if (strcmp(name, "rdapsync.record.key") == 0)
            key = json_string_value(json_object_get(json_object_get(attr, "value"), "stringValue"));
        stream = stream || strcmp(name, "rdapsync.record.stream") == 0;
    }
    cr_assert_str_eq(key, "a\"b\\c\td\x01\xc3\xa9", "the key comes back as it was");
    cr_assert_not(stream, "an attribute that is not UTF-8 is left out, not sent broken");
    json_decref(body);
}

Test(otel, emit_without_start_does_nothing)
{
    otel_span s = {.name = "x"};
    uint64_t dropped = otel_spans_dropped(), exported = otel_spans_exported();
    cr_assert_not(otel_enabled());
    otel_emit(&s);
    cr_assert_eq(otel_spans_dropped(), dropped);
    cr_assert_eq(otel_spans_exported(), exported);
    cr_assert_not(otel_sample(12345));
}

/* A loopback port nobody listens on: bound, then closed. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

Test(otel, spans_nobody_takes_are_counted_as_dropped)
{
    char endpoint[64], err[256];
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", closed_port());
    otel_settings settings = {.endpoint = endpoint, .sample_ratio = 1.0};
    uint64_t dropped = otel_spans_dropped(), failures = otel_export_failures();

    cr_assert_eq(otel_start(&settings, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(otel_start(&settings, err, sizeof(err)), -1, "a second start is refused");
    cr_assert(otel_enabled());
    cr_assert(otel_sample(1) && otel_sample(otel_random_id()), "sample_ratio 1 samples everything");
    otel_span s = {.name = "batch", .pipeline = "p", .records = 1, .partition = -1, .offset = -1};
    size_t n = OTEL_QUEUE_CAPACITY + 100;
    for (size_t i = 0; i < n; i++) {
        s.span_id = otel_random_id();
        otel_emit(&s);
    }
    otel_stop();
    cr_assert_not(otel_enabled());
    cr_assert_eq(otel_spans_dropped() - dropped, n, "every span is dropped (queue full or export failed)");
    cr_assert_geq(otel_export_failures() - failures, 1);
    otel_emit(&s); /* after the stop: nothing, no crash */
    cr_assert_eq(otel_spans_dropped() - dropped, n);
}

Test(otel, sample_ratio_zero_samples_nothing)
{
    char endpoint[64], err[256];
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", closed_port());
    otel_settings settings = {.endpoint = endpoint, .sample_ratio = 0.0};
    cr_assert_eq(otel_start(&settings, err, sizeof(err)), 0, "%s", err);
    for (int i = 0; i < 1000; i++)
        cr_assert_not(otel_sample(otel_random_id()));
    otel_stop();
    settings.sample_ratio = 0.5;
    cr_assert_eq(otel_start(&settings, err, sizeof(err)), 0, "%s", err);
    int yes = 0;
    for (int i = 0; i < 10000; i++)
        yes += otel_sample((uint64_t)i + 1);
    /* Decided from the id: about half, and neither none nor all. */
    cr_assert(yes > 4000 && yes < 6000, "%d of 10000 sampled at 0.5", yes);
}

/* ---- configuration ---- */

static int load(const char *yaml, otel_settings *out, diag_list *diags)
{
    diag_list_init(diags);
    ynode *root = yaml_tree_load_buffer("app.yaml", yaml, strlen(yaml), diags);
    cr_assert_not_null(root);
    otel_config_load(ynode_get(root, "otel"), "app.yaml", diags, out);
    ynode_free(root);
    return (int)diag_error_count(diags);
}

static bool has_message(const diag_list *diags, int line, const char *needle)
{
    for (size_t i = 0; i < diags->count; i++)
        if (diags->items[i].line == line && strstr(diags->items[i].message, needle))
            return true;
    return false;
}

Test(otel, config_reads_every_key_and_masks_header_values)
{
    char path[] = "/tmp/otel-token-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "Bearer s3cr3t-token\n", 20), 20);
    close(fd);
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             "otel:\n  endpoint: http://127.0.0.1:4318\n  service_name: sync-a\n  sample_ratio: 0.25\n"
             "  headers:\n    authorization: \"${file:%s}\"\n    x-tenant: blue-team\n",
             path);
    otel_settings s;
    diag_list diags;
    cr_assert_eq(load(yaml, &s, &diags), 0);
    unlink(path);
    cr_assert_str_eq(s.endpoint, "http://127.0.0.1:4318");
    cr_assert_str_eq(s.service_name, "sync-a");
    cr_assert_float_eq(s.sample_ratio, 0.25, 1e-9);
    cr_assert_eq(s.header_count, 2);
    cr_assert_str_eq(s.header_names[0], "authorization");
    cr_assert_str_eq(s.header_values[0], "Bearer s3cr3t-token");
    cr_assert(secrets_contains("x Bearer s3cr3t-token y"), "a header value from ${file:} is a secret");
    cr_assert(secrets_contains("blue-team"), "every header value is a secret");
    char masked[128];
    secrets_mask("sent Bearer s3cr3t-token", masked, sizeof(masked));
    cr_assert_str_eq(masked, "sent ***");
    otel_settings_free(&s);
    diag_list_free(&diags);
}

Test(otel, config_without_otel_is_off)
{
    otel_settings s;
    diag_list diags;
    cr_assert_eq(load("pipelines: []\n", &s, &diags), 0);
    cr_assert_null(s.endpoint);
    otel_settings_free(&s);
    diag_list_free(&diags);
}

Test(otel, config_errors_name_their_place)
{
    otel_settings s;
    diag_list diags;
    cr_assert_eq(load("otel:\n  endpoint: ftp://x\n  sample_ratio: 2\n  sampel: 1\n  headers: [a]\n", &s, &diags),
                 4);
    cr_assert(has_message(&diags, 2, "'endpoint' must be an http:// or https:// URL"));
    cr_assert(has_message(&diags, 3, "'sample_ratio' must be a number from 0 to 1, got '2'"));
    cr_assert(has_message(&diags, 4, "unknown key 'sampel' in otel"));
    cr_assert(has_message(&diags, 5, "'headers' must be a mapping"));
    otel_settings_free(&s);
    diag_list_free(&diags);

    cr_assert_eq(load("otel:\n  service_name: x\n", &s, &diags), 1);
    cr_assert(has_message(&diags, 2, "missing required key 'endpoint'"));
    otel_settings_free(&s);
    diag_list_free(&diags);
}

/* ---- the task's traceparent header ---- */

Test(otel, put_header_replaces_the_first_of_that_name_or_appends)
{
    rdapsync_batch *batch = batch_new(2);
    rdapsync_record *r = batch_record_add(batch);
    cr_assert_not_null(r);
    cr_assert_eq(batch_record_add_header(batch, r, "traceparent", TP, strlen(TP)), 0);
    cr_assert_eq(batch_record_add_header(batch, r, "other", "x", 1), 0);
    const char *mine = "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-01";
    cr_assert_eq(batch_record_put_header(batch, r, "traceparent", mine, strlen(mine)), 0);
    cr_assert_eq(r->header_count, 2, "replaced, not added");
    cr_assert_str_eq(batch_record_header(r, "traceparent")->value, mine);
    cr_assert_eq(batch_record_header(r, "traceparent")->value_len, strlen(mine));
    cr_assert_str_eq(batch_record_header(r, "other")->value, "x");

    rdapsync_record *bare = batch_record_add(batch);
    cr_assert_eq(batch_record_put_header(batch, bare, "traceparent", mine, strlen(mine)), 0);
    cr_assert_eq(bare->header_count, 1, "appended when missing");
    cr_assert_str_eq(bare->headers[0].value, mine);
    batch_free(batch);
}
