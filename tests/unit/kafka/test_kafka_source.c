/*
 * The kafka source against librdkafka's mock cluster: decoding (json and
 * Debezium envelopes, keys, versions, bad input) and the commit contract
 * (nothing committed behind the host's back, commits after acknowledgement,
 * revocation, resume points).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "batch_api.h"
#include "context_internal.h"
#include "kafka_harness.h"
#include "metrics.h"
#include "model/json_lazy.h"

static mock cluster;
static char yaml[2048];

static void setup(void) { mock_start(&cluster); }
static void teardown(void) { mock_stop(&cluster); }

TestSuite(kafka_source, .init = setup, .fini = teardown, .timeout = 120);

/* Options of a source on the mock cluster; `extra` adds YAML members. */
static const char *source_yaml(const char *group, const char *extra)
{
    snprintf(yaml, sizeof(yaml),
             "{brokers: \"%s\", topics: [t], group: %s, session_timeout: 6s, %s"
             " properties: {fetch.wait.max.ms: \"10\", heartbeat.interval.ms: \"200\","
             " topic.metadata.refresh.interval.ms: \"1000\"}}",
             cluster.brokers, group, extra ? extra : "");
    return yaml;
}

static void open_source(instance *in, const char *group, const char *extra)
{
    instance_load(in, RDAPSYNC_KIND_SOURCE, source_yaml(group, extra));
    cr_assert_eq(instance_open(in), RDAPSYNC_OK, "open: %s", in->err);
}

static const char *const dbz_create =
    "{\"before\":null,\"after\":{\"handle\":\"D1\",\"ldhName\":\"a.example\"},\"op\":\"c\",\"ts_ms\":1000,"
    "\"source\":{\"name\":\"regA\",\"ts_ms\":900,\"lsn\":77}}";

Test(kafka_source, debezium_create_update_and_read_become_upserts_of_after_with_the_envelope_version)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "D1", dbz_create, NULL);
    mock_produce(&cluster, "t", 0, "D1",
                 "{\"before\":{\"handle\":\"D1\"},\"after\":{\"handle\":\"D1\",\"v\":2},\"op\":\"u\",\"ts_ms\":2000,"
                 "\"source\":{\"name\":\"regA\"}}",
                 NULL);
    mock_produce(&cluster, "t", 0, "D2", "{\"after\":{\"handle\":\"D2\"},\"op\":\"r\",\"ts_ms\":3000}", NULL);
    open_source(&src, "g1", "format: debezium,");
    rdapsync_batch *batch = batch_new(100);

    cr_assert_eq(poll_until(&src, batch, 3, 30000), 3);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_str_eq(r->key, "D1");
    cr_assert_eq(r->op, RDAPSYNC_OP_UPSERT);
    char *doc = dump_sorted(r->value);
    cr_assert_str_eq(doc, "{\"handle\":\"D1\",\"ldhName\":\"a.example\"}");
    host()->free(doc);
    cr_assert_eq(r->version.event_time_ms, 1000);
    cr_assert_str_eq(r->version.origin, "regA");
    cr_assert_eq(r->version.sequence, 77, "source.lsn is the sequence when present");
    cr_assert_str_eq(r->position.stream, "t");
    cr_assert_eq(r->position.partition, 0);
    cr_assert_eq(r->position.offset, 1, "the position is the offset after the message");

    r = batch_get(batch, 1);
    cr_assert_eq(r->op, RDAPSYNC_OP_UPSERT);
    cr_assert_eq(r->version.event_time_ms, 2000);
    cr_assert_eq(r->version.sequence, 1, "without source.lsn the offset is the sequence");
    cr_assert_eq(host()->json->integer_value(host()->json->object_get(r->value, "v")), 2);

    r = batch_get(batch, 2);
    cr_assert_str_eq(r->key, "D2");
    cr_assert_eq(r->op, RDAPSYNC_OP_UPSERT, "a snapshot read is an upsert");
    cr_assert_null(r->version.origin);
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_source, the_schema_wrapper_of_the_json_converter_is_unwrapped)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "{\"schema\":{\"type\":\"struct\"},\"payload\":{\"handle\":\"W1\"}}",
                 "{\"schema\":{\"type\":\"struct\",\"fields\":[]},\"payload\":{\"before\":null,"
                 "\"after\":{\"handle\":\"W1\"},\"op\":\"c\",\"ts_ms\":5}}",
                 NULL);
    open_source(&src, "g1", "format: debezium, key_path: handle,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_null(r->error, "unexpected bad record: %s", r->error);
    cr_assert_str_eq(r->key, "W1", "key_path applies to the unwrapped JSON message key");
    cr_assert_eq(r->version.event_time_ms, 5);
    cr_assert_str_eq(host()->json->string_value(host()->json->object_get(r->value, "handle")), "W1");
    batch_free(batch);
    instance_close(&src);
}

/* `value` reaches a sink as `text` byte for byte: the validated text the host
 * hands sinks (no tree built, nothing dumped) when `as_bytes`, and the dump
 * any sink would write otherwise. */
static void expect_stored(const rdapsync_value *value, const char *text, bool as_bytes)
{
    const rdapsync_json_api *json = host()->json;
    size_t len = 0;
    const char *bytes = json->validated_text(value, &len);

    if (as_bytes) {
        cr_assert_not_null(bytes, "%s reaches the sink as its bytes, with no tree built", text);
        cr_assert_eq(len, strlen(text));
        cr_assert_eq(memcmp(bytes, text, len), 0, "stored %.*s, expected %s", (int)len, bytes, text);
    } else {
        cr_assert_null(bytes, "%s is not in the dump's form: the sink dumps it", text);
    }
    char *dumped = json->dump(value, 0, &len);
    cr_assert_str_eq(dumped, text, "the dump is the same bytes");
    host()->free(dumped);
}

Test(kafka_source, a_debezium_after_nothing_reads_reaches_the_sink_as_the_bytes_of_the_envelope)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "D1", dbz_create, NULL);
    /* A schema wrapper whose row has no semantic types: the payload is read on its own. */
    mock_produce(&cluster, "t", 0, "W2",
                 "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"field\":\"after\","
                 "\"fields\":[{\"type\":\"string\",\"field\":\"handle\"}]}]},\"payload\":{\"before\":null,"
                 "\"after\":{\"handle\":\"W2\",\"n\":[1,{\"x\":\"a\\\"b}\\\\\"}],\"e\":{}},\"op\":\"u\","
                 "\"ts_ms\":7,\"source\":{\"name\":\"regB\",\"lsn\":9}}}",
                 NULL);
    /* Whitespace around `after`, and inside a second one. */
    mock_produce(&cluster, "t", 0, "S3", "{ \"op\" : \"c\" ,\n \"after\" : {\"handle\":\"S3\",\"v\":[]} , \"ts_ms\": 3 }",
                 NULL);
    mock_produce(&cluster, "t", 0, "S4", "{\"op\":\"c\",\"after\":{ \"handle\": \"S4\" },\"ts_ms\":4}", NULL);
    /* A key written with an escape: the envelope's tree is read instead. */
    mock_produce(&cluster, "t", 0, "E5", "{\"op\":\"r\",\"\\u0061fter\":{\"handle\":\"E5\"},\"ts_ms\":5}", NULL);
    open_source(&src, "g1", "format: debezium,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 5, 30000), 5);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_null(batch_get(batch, i)->error, "record %zu is bad: %s", i, batch_get(batch, i)->error);
        cr_assert_eq(batch_get(batch, i)->op, RDAPSYNC_OP_UPSERT);
    }
    expect_stored(batch_get(batch, 0)->value, "{\"handle\":\"D1\",\"ldhName\":\"a.example\"}", true);
    cr_assert_eq(batch_get(batch, 0)->version.event_time_ms, 1000);
    cr_assert_str_eq(batch_get(batch, 0)->version.origin, "regA");
    cr_assert_eq(batch_get(batch, 0)->version.sequence, 77);
    expect_stored(batch_get(batch, 1)->value, "{\"handle\":\"W2\",\"n\":[1,{\"x\":\"a\\\"b}\\\\\"}],\"e\":{}}", true);
    cr_assert_eq(batch_get(batch, 1)->version.event_time_ms, 7, "the version still comes from the payload");
    cr_assert_str_eq(batch_get(batch, 1)->version.origin, "regB");
    cr_assert_eq(batch_get(batch, 1)->version.sequence, 9);
    expect_stored(batch_get(batch, 2)->value, "{\"handle\":\"S3\",\"v\":[]}", true);
    cr_assert_eq(batch_get(batch, 2)->version.event_time_ms, 3);
    expect_stored(batch_get(batch, 3)->value, "{\"handle\":\"S4\"}", false);
    expect_stored(batch_get(batch, 4)->value, "{\"handle\":\"E5\"}", false);
    batch_free(batch);
    instance_close(&src);
}

/* `depth` nested objects {"a":{"a":...{}}}, in a new string. */
static char *nested(int depth)
{
    char *t = malloc((size_t)depth * 6 + 1), *p = t;
    for (int i = 0; i < depth; i++)
        p += sprintf(p, i + 1 < depth ? "{\"a\":" : "{}");
    for (int i = 1; i < depth; i++)
        *p++ = '}';
    *p = '\0';
    return t;
}

Test(kafka_source, a_debezium_message_read_in_two_pieces_is_refused_exactly_when_the_whole_message_is)
{
    instance src;
    char *deep = nested(512), *deeper = nested(511), texts[3][8192];
    const char *bad_ones[] = {
        "{\"op\":\"c\",\"after\":{\"a\":1}} x",           /* the rest is not JSON */
        "{\"op\":\"c\",\"after\":{\"a\":01}}",            /* after is not */
        "{\"op\":\"c\",\"after\":{\"a\":1,\"a\":2}}",      /* duplicate key inside after */
        "{\"op\":\"c\",\"after\":{\"a\":\"\\u0000\"}}",    /* NUL inside after */
        "{\"op\":\"c\",\"op\":\"u\",\"after\":{\"a\":1}}", /* duplicate key outside it */
        texts[0],                                         /* after alone is deep enough, the message too deep */
    };
    snprintf(texts[0], sizeof(texts[0]), "{\"op\":\"c\",\"after\":%s}", deep);
    snprintf(texts[1], sizeof(texts[1]), "{\"op\":\"c\",\"after\":%s}", deeper);
    mock_topic(&cluster, "t", 1);
    for (size_t i = 0; i < 6; i++)
        mock_produce(&cluster, "t", 0, "K", bad_ones[i], NULL);
    mock_produce(&cluster, "t", 0, "K", texts[1], NULL);
    open_source(&src, "g1", "format: debezium,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 7, 30000), 7);
    for (size_t i = 0; i < 6; i++) {
        const rdapsync_record *r = batch_get(batch, i);
        char err[256], where[64];
        rdapsync_value *whole = host()->json->parse(bad_ones[i], strlen(bad_ones[i]), err, sizeof(err));
        cr_assert_null(whole, "message %zu is not valid JSON", i);
        snprintf(where, sizeof(where), "topic t partition 0 offset %zu: not valid JSON: ", i);
        cr_assert_not_null(r->error, "message %zu should be bad", i);
        cr_assert(strstr(r->error, where), "reason '%s' names %s", r->error, where);
        cr_assert(strstr(r->error, err), "reason '%s' is the whole message's: %s", r->error, err);
    }
    const rdapsync_record *ok = batch_get(batch, 6);
    cr_assert_null(ok->error, "512 levels in all are allowed: %s", ok->error);
    expect_stored(ok->value, deeper, true);
    batch_free(batch);
    instance_close(&src);
    free(deep);
    free(deeper);
}

Test(kafka_source, a_debezium_row_split_off_its_message_still_has_its_columns_decoded_when_the_schema_says_so)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    /* The schema after the payload: the source splits after off before it
     * has seen the schema, and must still decode the json column. */
    mock_produce(&cluster, "t", 0, "P1",
                 "{\"payload\":{\"op\":\"c\",\"after\":{\"handle\":\"P1\",\"doc\":\"{\\\"a\\\":[1]}\"},\"ts_ms\":1},"
                 "\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"field\":\"after\",\"fields\":["
                 "{\"type\":\"string\",\"field\":\"handle\"},"
                 "{\"type\":\"string\",\"name\":\"io.debezium.data.Json\",\"field\":\"doc\"}]}]}}",
                 NULL);
    open_source(&src, "g1", "format: debezium,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_null(r->error, "bad: %s", r->error);
    expect_stored(r->value, "{\"handle\":\"P1\",\"doc\":{\"a\":[1]}}", false);
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_source, a_debezium_document_column_reaches_the_sink_as_its_bytes_and_a_missing_one_is_named)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "C1",
                 "{\"op\":\"c\",\"after\":{\"id\":1,\"doc\":{\"handle\":\"C1\",\"x\":[1,2]},\"note\":\"n\"},\"ts_ms\":1}",
                 NULL);
    mock_produce(&cluster, "t", 0, "C2", "{\"op\":\"c\",\"after\":{\"id\":2,\"note\":\"n\"},\"ts_ms\":2}", NULL);
    mock_produce(&cluster, "t", 0, "C3", "{\"op\":\"c\",\"after\":{\"id\":3,\"doc\":\"{}\"},\"ts_ms\":3}", NULL);
    open_source(&src, "g1", "format: debezium, document: doc, other_columns: headers,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 3, 30000), 3);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_null(r->error, "bad: %s", r->error);
    cr_assert_eq(r->header_count, 2, "the row's other columns still become headers");
    expect_stored(r->value, "{\"handle\":\"C1\",\"x\":[1,2]}", true);
    const char *expect[] = {"column doc of after is absent", "column doc of after is a JSON string"};
    for (size_t i = 1; i < 3; i++) {
        r = batch_get(batch, i);
        char where[64];
        snprintf(where, sizeof(where), "topic t partition 0 offset %zu", i);
        cr_assert_not_null(r->error, "message %zu should be bad", i);
        cr_assert(strstr(r->error, where), "reason '%s' names %s", r->error, where);
        cr_assert(strstr(r->error, expect[i - 1]), "reason '%s' says %s", r->error, expect[i - 1]);
    }
    batch_free(batch);
    instance_close(&src);
}

/* A JsonConverter envelope whose `doc` column is an io.debezium.data.Json
 * string holding `doc_text` (already escaped for a JSON string). */
static char *json_column_envelope(const char *handle, const char *doc_text)
{
    char *m = malloc(1024);
    cr_assert_not_null(m);
    cr_assert_lt(snprintf(m, 1024,
                           "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"field\":\"after\","
                           "\"fields\":[{\"type\":\"string\",\"field\":\"handle\"},{\"type\":\"string\","
                           "\"name\":\"io.debezium.data.Json\",\"field\":\"doc\"}]}]},\"payload\":{\"before\":null,"
                           "\"after\":{\"handle\":\"%s\",\"doc\":\"%s\"},\"op\":\"c\",\"ts_ms\":1}}",
                           handle, doc_text),
                  1024);
    return m;
}

Test(kafka_source, a_converted_document_column_reaches_the_sink_as_its_own_bytes_not_a_tree_of_the_envelope)
{
    instance src;
    char *j1 = json_column_envelope("J1", "{\\\"handle\\\":\\\"J1\\\",\\\"x\\\":[1,2]}");
    char *j2 = json_column_envelope("J2", "[1]");
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "{\"handle\":\"J1\"}", j1, NULL);
    mock_produce(&cluster, "t", 0, "{\"handle\":\"J2\"}", j2, NULL);
    open_source(&src, "g1", "format: debezium, key_path: handle, document: doc, other_columns: headers,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 2, 30000), 2);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_null(r->error, "bad: %s", r->error);
    cr_assert_str_eq(r->key, "J1");
    cr_assert_eq(r->header_count, 1, "the row's other column still becomes a header");
    cr_assert_eq(r->value->kind, JT_LAZY, "no tree was built for the document");
    expect_stored(r->value, "{\"handle\":\"J1\",\"x\":[1,2]}", true);
    r = batch_get(batch, 1);
    cr_assert_not_null(r->error, "a document that is not an object is refused");
    cr_assert(strstr(r->error, "column doc of after is a JSON array"), "reason: %s", r->error);
    batch_free(batch);
    instance_close(&src);

    /* A key read from the value through the document still finds it converted. */
    open_source(&src, "g2", "format: debezium, key: value, key_path: doc.handle, document: doc,");
    batch = batch_new(10);
    cr_assert_eq(poll_until(&src, batch, 2, 30000), 2);
    r = batch_get(batch, 0);
    cr_assert_null(r->error, "bad: %s", r->error);
    cr_assert_str_eq(r->key, "J1");
    expect_stored(r->value, "{\"handle\":\"J1\",\"x\":[1,2]}", true);
    batch_free(batch);
    instance_close(&src);
    free(j1);
    free(j2);
}

Test(kafka_source, a_debezium_delete_and_its_tombstone_become_deletes_with_the_same_version)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "{\"id\":\"D1\"}", dbz_create, NULL);
    mock_produce(&cluster, "t", 0, "{\"id\":\"D1\"}",
                 "{\"before\":{\"handle\":\"D1\"},\"after\":null,\"op\":\"d\",\"ts_ms\":4000,"
                 "\"source\":{\"name\":\"regA\",\"lsn\":99}}",
                 NULL);
    mock_produce(&cluster, "t", 0, "{\"id\":\"D1\"}", NULL, NULL);
    mock_produce(&cluster, "t", 0, "{\"id\":\"D9\"}", NULL, NULL); /* a tombstone whose delete came before */
    open_source(&src, "g1", "format: debezium, key: value, key_path: handle,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 4, 30000), 4);
    const rdapsync_record *del = batch_get(batch, 1);
    cr_assert_null(del->error);
    cr_assert_eq(del->op, RDAPSYNC_OP_DELETE);
    cr_assert_str_eq(del->key, "D1", "the key comes from before");
    cr_assert_null(del->value);
    cr_assert_eq(del->version.event_time_ms, 4000);
    cr_assert_eq(del->version.sequence, 99);

    const rdapsync_record *tomb = batch_get(batch, 2);
    cr_assert_null(tomb->error, "tombstone: %s", tomb->error);
    cr_assert_eq(tomb->op, RDAPSYNC_OP_DELETE);
    cr_assert_str_eq(tomb->key, "D1");
    cr_assert_eq(tomb->version.event_time_ms, 4000);
    cr_assert_str_eq(tomb->version.origin, "regA");
    cr_assert_eq(tomb->version.sequence, 99);
    cr_assert_eq(tomb->position.offset, 3);

    const rdapsync_record *orphan = batch_get(batch, 3);
    cr_assert_not_null(orphan->error, "key_path cannot apply to a tombstone without its delete");
    cr_assert(strstr(orphan->error, "topic t partition 0 offset 3"), "reason: %s", orphan->error);
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_source, a_tombstone_deletes_the_message_key_with_the_lowest_time_when_its_delete_is_unknown)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "K7", NULL, NULL);
    open_source(&src, "g1", "format: debezium, origin: east,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_null(r->error);
    cr_assert_eq(r->op, RDAPSYNC_OP_DELETE);
    cr_assert_str_eq(r->key, "K7");
    cr_assert_eq(r->version.event_time_ms, 0, "never newer than a change it did not see");
    cr_assert_str_eq(r->version.origin, "east");
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_source, malformed_messages_become_bad_records_naming_the_place_and_the_partition_keeps_flowing)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "B1", "{not json", NULL);
    mock_produce(&cluster, "t", 0, "B2", "{\"op\":\"x\",\"after\":{}}", NULL);
    mock_produce(&cluster, "t", 0, "B3", "{\"op\":\"c\",\"after\":null}", NULL);
    mock_produce(&cluster, "t", 0, "B4", "[1,2]", NULL);
    mock_produce(&cluster, "t", 0, NULL, "{\"op\":\"c\",\"after\":{\"a\":1}}", NULL);
    mock_produce(&cluster, "t", 0, "OK", dbz_create, NULL);
    open_source(&src, "g1", "format: debezium,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 6, 30000), 6);
    const char *expect[] = {"not valid JSON", "unsupported Debezium op 'x'", "without an after object",
                            "not a Debezium envelope", "message has no key"};
    for (size_t i = 0; i < 5; i++) {
        const rdapsync_record *r = batch_get(batch, i);
        char where[64];
        snprintf(where, sizeof(where), "topic t partition 0 offset %zu", i);
        cr_assert_not_null(r->error, "message %zu should be bad", i);
        cr_assert(strstr(r->error, where), "reason '%s' names %s", r->error, where);
        cr_assert(strstr(r->error, expect[i]), "reason '%s' says %s", r->error, expect[i]);
        cr_assert_null(r->value);
        cr_assert_not_null(r->raw, "the raw bytes are kept for the dead-letter sink");
        cr_assert_eq(r->position.offset, (int64_t)i + 1, "its position still advances");
    }
    cr_assert_eq(memcmp(batch_get(batch, 0)->raw, "{not json", 9), 0);
    const rdapsync_record *ok = batch_get(batch, 5);
    cr_assert_null(ok->error);
    cr_assert_str_eq(ok->key, "OK");
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_source, json_format_takes_the_key_from_the_value_and_the_version_from_sink_headers)
{
    instance src;
    const char *const versioned[] = {"rdapsync.ts_ms", "123", "rdapsync.origin", "west", "rdapsync.seq", "9",
                                     "trace", "abc", NULL};
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "ignored", "{\"handle\":\"H1\",\"n\":{\"id\":5}}", versioned);
    mock_produce(&cluster, "t", 0, NULL, "{\"handle\":\"H2\"}", NULL);
    mock_produce(&cluster, "t", 0, NULL, "{\"nohandle\":1}", NULL);
    open_source(&src, "g1", "format: json, key: value, key_path: \"$.handle\", origin: here,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 3, 30000), 3);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_str_eq(r->key, "H1");
    cr_assert_eq(r->version.event_time_ms, 123);
    cr_assert_str_eq(r->version.origin, "west");
    cr_assert_eq(r->version.sequence, 9);
    cr_assert_str_eq(header_of(r, "trace"), "abc", "Kafka headers are carried");

    r = batch_get(batch, 1);
    cr_assert_str_eq(r->key, "H2");
    cr_assert_gt(r->version.event_time_ms, 0, "the message timestamp without headers");
    cr_assert_str_eq(r->version.origin, "here");
    cr_assert_eq(r->version.sequence, 1, "the offset without headers");

    r = batch_get(batch, 2);
    cr_assert_not_null(r->error);
    cr_assert(strstr(r->error, "no string or integer key at $.handle"), "reason: %s", r->error);
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_source, nothing_is_committed_until_the_host_acknowledges_and_then_exactly_its_position)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    for (int i = 0; i < 5; i++)
        mock_produce(&cluster, "t", 0, "K", "{\"a\":1}", NULL);
    open_source(&src, "g-commit", NULL);
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 5, 30000), 5);
    poll_for(&src, batch, 300);
    cr_assert_eq(mock_committed(&cluster, "g-commit", "t", 0), -1, "auto-commit must be off");

    commit_position(&src, "t", 0, 3);
    poll_for(&src, batch, 300); /* serves the asynchronous commit's result */
    cr_assert_eq(mock_committed(&cluster, "g-commit", "t", 0), 3);
    commit_position(&src, "t", 0, 2);
    poll_for(&src, batch, 300);
    cr_assert_eq(mock_committed(&cluster, "g-commit", "t", 0), 3, "a commit never goes back");
    batch_free(batch);
    instance_close(&src);
    cr_assert_eq(mock_committed(&cluster, "g-commit", "t", 0), 3, "close commits only what was acknowledged");
}

Test(kafka_source, a_new_member_resumes_from_the_committed_offsets)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    for (int i = 0; i < 6; i++)
        mock_produce(&cluster, "t", 0, "K", "{\"a\":1}", NULL);
    open_source(&src, "g-resume", NULL);
    rdapsync_batch *batch = batch_new(10);
    cr_assert_eq(poll_until(&src, batch, 6, 30000), 6);
    commit_position(&src, "t", 0, 4);
    instance_close(&src);
    batch_free(batch);

    open_source(&src, "g-resume", NULL);
    batch = batch_new(10);
    /* The mock cluster's rejoin after a leave took over 30 s once under
     * ASan on a loaded machine: a bound for hangs, not a timing check. */
    cr_assert_eq(poll_until(&src, batch, 2, 60000), 2);
    poll_for(&src, batch, 300);
    cr_assert_eq(batch_count(batch), 2, "records before the committed offset are not read again");
    cr_assert_eq(batch_get(batch, 0)->position.offset, 5);
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_source, an_assignment_resumes_at_the_task_checkpoint_when_it_is_ahead_of_the_group)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    for (int i = 0; i < 6; i++)
        mock_produce(&cluster, "t", 0, "K", "{\"a\":1}", NULL);
    instance_load(&src, RDAPSYNC_KIND_SOURCE, source_yaml("g-ckpt", NULL));
    /* The task flushed up to 5 but crashed before its Kafka commit. */
    context_checkpoint_override(src.ctx, "t", 0, 5);
    cr_assert_eq(instance_open(&src), RDAPSYNC_OK, "open: %s", src.err);
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    cr_assert_eq(batch_get(batch, 0)->position.offset, 6);
    poll_for(&src, batch, 300);
    cr_assert_eq(mock_committed(&cluster, "g-ckpt", "t", 0), 5, "the group learns the task's checkpoint");
    batch_free(batch);
    instance_close(&src);
}

/* The mock broker refuses commits while the group rebalances (a real one
 * takes them from the old generation), so the commit made inside the
 * revocation is exercised by the integration tests; this one proves where
 * each member resumes and what happens to late acknowledgements. */
Test(kafka_source, after_a_rebalance_the_new_owner_starts_at_the_acknowledged_offset_and_the_old_one_rereads_nothing)
{
    instance a, b;
    mock_topic(&cluster, "t", 2);
    for (int i = 0; i < 10; i++) {
        mock_produce(&cluster, "t", 0, "K0", "{\"a\":1}", NULL);
        mock_produce(&cluster, "t", 1, "K1", "{\"a\":1}", NULL);
    }
    open_source(&a, "g-rebalance", NULL);
    rdapsync_batch *batch_a = batch_new(100);
    cr_assert_eq(poll_until(&a, batch_a, 20, 30000), 20);
    /* The host flushed part of partition 0 and 1 and acknowledged it... */
    rdapsync_position acked[] = {{"t", 0, 4}, {"t", 1, 6}};
    cr_assert_eq(a.plugin->desc->commit(a.state, acked, 2, a.err, sizeof(a.err)), RDAPSYNC_OK);

    /* ...when a second member joins. */
    open_source(&b, "g-rebalance", NULL);
    rdapsync_batch *batch_b = batch_new(100);
    for (int i = 0; i < 200 && batch_count(batch_b) == 0; i++) {
        poll_for(&a, batch_a, 50);
        poll_for(&b, batch_b, 50);
    }
    cr_assert_gt(batch_count(batch_b), 0, "the new member got a partition");
    int moved = batch_get(batch_b, 0)->position.partition;
    int64_t first = batch_get(batch_b, 0)->position.offset - 1;
    cr_assert_eq(first, moved == 0 ? 4 : 6, "the new owner starts at the acknowledged offset, not the start");
    cr_assert_eq(mock_committed(&cluster, "g-rebalance", "t", moved), first);

    /* The old owner's host flushes the rest later: its acknowledgement of
     * a partition it gave up must not move the new owner's offset. */
    rdapsync_position late = {"t", moved, 10};
    cr_assert_eq(a.plugin->desc->commit(a.state, &late, 1, a.err, sizeof(a.err)), RDAPSYNC_OK);
    poll_for(&a, batch_a, 300);
    cr_assert_eq(mock_committed(&cluster, "g-rebalance", "t", moved), first);

    size_t before = batch_count(batch_a);
    poll_for(&a, batch_a, 500);
    for (size_t i = before; i < batch_count(batch_a); i++)
        cr_assert_neq(batch_get(batch_a, i)->position.partition, moved, "the old owner reads no more of it");
    /* The partition the rebalance handed back to the old owner resumes
     * after what its host still holds, not at the acknowledged offset. */
    for (size_t i = 0; i < batch_count(batch_a); i++)
        for (size_t j = i + 1; j < batch_count(batch_a); j++)
            cr_assert(batch_get(batch_a, i)->position.partition != batch_get(batch_a, j)->position.partition ||
                          batch_get(batch_a, i)->position.offset != batch_get(batch_a, j)->position.offset,
                      "partition %d offset %lld read twice by the same member",
                      batch_get(batch_a, i)->position.partition, (long long)batch_get(batch_a, i)->position.offset);
    batch_free(batch_a);
    batch_free(batch_b);
    instance_close(&b);
    instance_close(&a);
}

Test(kafka_source, check_refuses_reserved_properties_and_ambiguous_topics)
{
    char err[512];
    snprintf(yaml, sizeof(yaml), "{brokers: x, topics: [t], group: g, properties: {enable.auto.commit: \"true\"}}");
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SOURCE, yaml, err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "enable.auto.commit"), "%s", err);
    snprintf(yaml, sizeof(yaml), "{brokers: x, topics: [t], topic_pattern: \"t.*\", group: g}");
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SOURCE, yaml, err, sizeof(err)), RDAPSYNC_ERROR);
    snprintf(yaml, sizeof(yaml), "{brokers: x, topics: [t], group: g, key: value}");
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SOURCE, yaml, err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "key_path"), "%s", err);
    snprintf(yaml, sizeof(yaml), "{brokers: x, topics: [t], group: g, key_path: \"a..b\"}");
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SOURCE, yaml, err, sizeof(err)), RDAPSYNC_ERROR);
    snprintf(yaml, sizeof(yaml), "{brokers: x, topics: [t], group: g, properties: {no.such.property: \"1\"}}");
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SOURCE, yaml, err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "no.such.property"), "%s", err);
    snprintf(yaml, sizeof(yaml),
             "{brokers: x, topics: [t], group: g, key_path: \"a.b[2].c\", properties: {security.protocol: ssl}}");
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SOURCE, yaml, err, sizeof(err)), RDAPSYNC_OK, "%s", err);
}

static void sum_wakeups(const plugin_metric_view *view, void *opaque)
{
    if (strcmp(view->name, "fetcher_wakeups") == 0)
        *(double *)opaque += view->value;
}

Test(kafka_source, polls_of_a_few_records_do_not_wake_the_fetcher_at_every_poll)
{
    /* The task hands the source room for 32 records per poll when the
     * pipeline has transforms. A full poll meant "backlog" and cost a
     * round trip to the broker (librdkafka < 2.1): 20 full polls made 20
     * round trips. Now at most one per 512 records taken. */
    instance src;
    char key[16];
    mock_topic(&cluster, "t", 1);
    for (int i = 0; i < 640; i++) {
        snprintf(key, sizeof(key), "K%d", i);
        mock_produce(&cluster, "t", 0, key, "{\"handle\":\"H\"}", NULL);
    }
    open_source(&src, "g1", "format: json,");
    rdapsync_batch *batch = batch_new(1000);
    size_t polls = 0, full = 0;

    /* The first record, then time for librdkafka to queue the rest, so
     * that every poll after it finds a backlog. */
    batch_set_poll_limit(batch, 1);
    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    poll_for(&src, batch, 3000);
    /* The context caches its metrics: read the counter before and after
     * rather than resetting it. */
    double wakeups_before = 0;
    metrics_plugin_each(sum_wakeups, &wakeups_before);
    while (batch_count(batch) < 640 && polls < 2000) {
        size_t before = batch_count(batch);
        batch_set_poll_limit(batch, before + 32);
        rdapsync_status st = src.plugin->desc->poll(src.state, batch, 100, src.err, sizeof(src.err));
        cr_assert_eq(st, RDAPSYNC_OK, "poll: %s", src.err);
        full += batch_count(batch) == before + 32;
        polls++;
    }
    cr_assert_eq(batch_count(batch), 640);
    cr_assert_geq(full, 5, "the polls found a backlog (%zu of %zu full)", full, polls);
    double wakeups = 0;
    metrics_plugin_each(sum_wakeups, &wakeups);
    wakeups -= wakeups_before;
    cr_assert_leq(wakeups, 1, "%.0f round trips for %zu full polls", wakeups, full);
    batch_free(batch);
    instance_close(&src);
}
