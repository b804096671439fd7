/*
 * The kafka source's `debezium` format on what the real Debezium PostgreSQL
 * connector emits: the messages of tests/fixtures/debezium/ (captured from
 * Debezium 3.6.1.Final in Kafka Connect 4.3 by capture.sh there) produced
 * into librdkafka's mock cluster. Semantic types decoded from the
 * JsonConverter schema, the document column, the row's other columns as
 * headers, and the messages that are not row changes (heartbeats,
 * transaction metadata, truncates, tombstones) skipped with a counter.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "batch_api.h"
#include "kafka_harness.h"
#include "metrics.h"

#define FIXTURES RDAPSYNC_SOURCE_DIR "/tests/fixtures/debezium/"
#define J (host()->json)

static mock cluster;
static char yaml[2048];

static void setup(void) { mock_start(&cluster); }
static void teardown(void) { mock_stop(&cluster); }

TestSuite(kafka_debezium, .init = setup, .fini = teardown, .timeout = 120);

static void open_source(instance *in, const char *extra)
{
    snprintf(yaml, sizeof(yaml),
             "{brokers: \"%s\", topics: [t], group: g, format: debezium, session_timeout: 6s, %s"
             " properties: {fetch.wait.max.ms: \"10\", heartbeat.interval.ms: \"200\"}}",
             cluster.brokers, extra);
    instance_load(in, RDAPSYNC_KIND_SOURCE, yaml);
    cr_assert_eq(instance_open(in), RDAPSYNC_OK, "open: %s", in->err);
}

/* One captured message: key and payload as read (NULL payload: tombstone). */
typedef struct captured {
    char *key;
    char *payload;
} captured;

/* Line `index` (0-based) of a fixture file; caller frees with captured_free. */
static captured fixture(const char *file, size_t index)
{
    char path[512], line[65536], err[256];
    captured c = {0};
    snprintf(path, sizeof(path), FIXTURES "%s", file);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    for (size_t i = 0; i <= index; i++)
        cr_assert_not_null(fgets(line, sizeof(line), f), "%s has no line %zu", path, index + 1);
    fclose(f);
    rdapsync_value *v = J->parse(line, strlen(line), err, sizeof(err));
    cr_assert_not_null(v, "%s:%zu: %s", path, index + 1, err);
    const char *key = J->string_value(J->object_get(v, "key"));
    const char *payload = J->string_value(J->object_get(v, "payload"));
    c.key = key ? strdup(key) : NULL;
    c.payload = payload ? strdup(payload) : NULL;
    J->decref(v);
    return c;
}

static void captured_free(captured *c)
{
    free(c->key);
    free(c->payload);
}

static void produce_fixture_to(const char *file, size_t index, int partition)
{
    captured c = fixture(file, index);
    mock_produce(&cluster, "t", partition, c.key, c.payload, NULL);
    captured_free(&c);
}

static void produce_fixture(const char *file, size_t index) { produce_fixture_to(file, index, 0); }

/* Sums the plugin counter `name` over every context. */
typedef struct counter_sum {
    const char *name;
    double value;
} counter_sum;

static void add_counter(const plugin_metric_view *view, void *opaque)
{
    counter_sum *sum = opaque;
    if (strcmp(view->name, sum->name) == 0)
        sum->value += view->value;
}

static double counter(const char *name)
{
    counter_sum sum = {name, 0};
    metrics_plugin_each(add_counter, &sum);
    return sum.value;
}

static const char *str_at(const rdapsync_value *obj, const char *member)
{
    return J->string_value(J->object_get(obj, member));
}

#define DOMAINS "dbzfix.public.rdap_domains.jsonl"
#define TYPED "dbzfix.public.typed.jsonl"
#define HEARTBEATS "__debezium-heartbeat.dbzfix.jsonl"
#define TRANSACTIONS "dbzfix.transaction.jsonl"

Test(kafka_debezium, a_jsonb_document_column_becomes_the_record_document_through_snapshot_insert_update_delete)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    for (size_t i = 0; i < 6; i++) /* r D1, r D2, c D3, u D1, d D2, tombstone D2 */
        produce_fixture(DOMAINS, i);
    open_source(&src, "key_path: handle, document: doc, event_time: source,");
    rdapsync_batch *batch = batch_new(100);

    cr_assert_eq(poll_until(&src, batch, 6, 30000), 6);
    const char *keys[] = {"D1-EXAMPLE", "D2-EXAMPLE", "D3-EXAMPLE", "D1-EXAMPLE", "D2-EXAMPLE", "D2-EXAMPLE"};
    const char *ldh[] = {"one.example", "two.example", "three.example", "uno.example"};
    for (size_t i = 0; i < 6; i++) {
        const rdapsync_record *r = batch_get(batch, i);
        cr_assert_null(r->error, "record %zu is bad: %s", i, r->error);
        cr_assert_str_eq(r->key, keys[i], "key_path applies to the JSON message key");
        if (i < 4) {
            cr_assert_eq(r->op, RDAPSYNC_OP_UPSERT);
            cr_assert_eq(J->type(r->value), RDAPSYNC_JSON_OBJECT, "the jsonb column is a document, not a string");
            cr_assert_str_eq(str_at(r->value, "ldhName"), ldh[i]);
            cr_assert_str_eq(str_at(r->value, "objectClassName"), "domain");
            cr_assert_null(J->object_get(r->value, "doc"), "the document is the column, not the row");
        } else {
            cr_assert_eq(r->op, RDAPSYNC_OP_DELETE);
            cr_assert_null(r->value);
        }
        cr_assert_str_eq(r->version.origin, "dbzfix", "the origin is source.name");
    }
    cr_assert_gt(batch_get(batch, 3)->version.event_time_ms, batch_get(batch, 0)->version.event_time_ms,
                 "the update's commit time is after the snapshot's");
    const rdapsync_value *ent = J->array_get(J->object_get(batch_get(batch, 0)->value, "entities"), 0);
    cr_assert_not_null(J->object_get(ent, "vcardArray"), "the contact is there for redact to see");
    cr_assert_eq(batch_get(batch, 5)->version.sequence, batch_get(batch, 4)->version.sequence,
                 "the tombstone carries its delete's version");
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_debezium, semantic_types_are_decoded_from_the_json_converter_schema)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    produce_fixture(TYPED, 0); /* snapshot read of T1 */
    produce_fixture(TYPED, 1); /* update: amount = -0.001 */
    open_source(&src, "key_path: handle,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 2, 30000), 2);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_null(r->error, "bad: %s", r->error);
    const rdapsync_value *row = r->value;
    char *doc = dump_sorted(J->object_get(row, "doc"));
    cr_assert_str_eq(doc, "{\"a\":[1,2,{\"b\":null}]}", "jsonb (io.debezium.data.Json) is a JSON value");
    host()->free(doc);
    cr_assert_str_eq(str_at(J->object_get(row, "raw"), "x"), "y", "json too");
    cr_assert_str_eq(str_at(row, "price"), "-1234.50", "Decimal: base64 two's complement with scale 2");
    cr_assert_str_eq(str_at(row, "amount"), "12345678901234567890.123", "VariableScaleDecimal, exact");
    cr_assert_str_eq(str_at(row, "born"), "1969-07-20", "Date before the epoch");
    cr_assert_str_eq(str_at(row, "at_time"), "13:45:00.250");
    cr_assert_str_eq(str_at(row, "at_ts"), "2024-02-29T23:59:58.123Z", "Timestamp (ms) on a leap day");
    cr_assert_str_eq(str_at(row, "at_tsu"), "1999-12-31T23:59:59.123456Z", "MicroTimestamp");
    cr_assert_str_eq(str_at(row, "at_tstz"), "2024-05-01T08:00:00.000000Z", "ZonedTimestamp stays as it is");
    cr_assert_str_eq(str_at(row, "id"), "4d2a7c4e-8f43-4a2f-9c1e-0f1b2c3d4e5f", "Uuid stays a string");
    cr_assert_str_eq(str_at(row, "blob"), "3q2+7w==", "bytes stay base64");
    cr_assert_str_eq(str_at(row, "note"), "plain");
    cr_assert_str_eq(str_at(batch_get(batch, 1)->value, "amount"), "-0.001", "a negative VariableScaleDecimal");
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_debezium, time_format_epoch_ms_gives_milliseconds)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    produce_fixture(TYPED, 0);
    open_source(&src, "key_path: handle, time_format: epoch_ms,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    const rdapsync_value *row = batch_get(batch, 0)->value;
    cr_assert_eq(J->integer_value(J->object_get(row, "born")), -165LL * 86400000);
    cr_assert_eq(J->integer_value(J->object_get(row, "at_time")), 49500250);
    cr_assert_eq(J->integer_value(J->object_get(row, "at_ts")), 1709251198123LL);
    cr_assert_eq(J->integer_value(J->object_get(row, "at_tsu")), 946684799123LL, "micros truncated to ms");
    cr_assert_eq(J->integer_value(J->object_get(row, "at_tstz")), 1714550400000LL);
    cr_assert_str_eq(str_at(row, "price"), "-1234.50", "decimals are not times");
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_debezium, the_other_columns_become_headers_when_configured)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    produce_fixture(TYPED, 0);
    open_source(&src, "key_path: handle, document: doc, other_columns: headers,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_null(r->error, "bad: %s", r->error);
    cr_assert_not_null(J->object_get(r->value, "a"), "the document is the doc column");
    cr_assert_str_eq(header_of(r, "handle"), "T1");
    cr_assert_str_eq(header_of(r, "price"), "-1234.50", "decoded before it becomes a header");
    cr_assert_str_eq(header_of(r, "raw"), "{\"x\":\"y\"}", "JSON columns as compact JSON text");
    cr_assert_str_eq(header_of(r, "note"), "plain");
    cr_assert_null(header_of(r, "doc"), "the document column is not repeated");
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_debezium, the_other_columns_are_dropped_by_default)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    produce_fixture(TYPED, 0);
    open_source(&src, "key_path: handle, document: doc,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_null(header_of(r, "note"));
    cr_assert_null(header_of(r, "handle"));
    cr_assert_str_eq(r->key, "T1");
    batch_free(batch);
    instance_close(&src);
}

/* A real insert whose Json column was corrupted on the way. */
Test(kafka_debezium, a_json_column_that_is_not_json_is_a_bad_record_naming_place_and_column)
{
    instance src;
    captured c = fixture(DOMAINS, 2);
    char *at = strstr(c.payload, "\"doc\":\"{");
    cr_assert_not_null(at, "the fixture has the doc column as a JSON string");
    memcpy(at + 7, "!", 1); /* "{\"handle\"..." -> "!\"handle\"..." */
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, c.key, c.payload, NULL);
    captured_free(&c);
    produce_fixture(DOMAINS, 3);
    open_source(&src, "key_path: handle, document: doc,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 2, 30000), 2);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_not_null(r->error);
    cr_assert(strstr(r->error, "topic t partition 0 offset 0"), "reason: %s", r->error);
    cr_assert(strstr(r->error, "column doc"), "reason names the field: %s", r->error);
    cr_assert(strstr(r->error, "not valid JSON"), "reason: %s", r->error);
    cr_assert_not_null(r->raw, "the message goes to the dead-letter sink as read");
    cr_assert_null(batch_get(batch, 1)->error, "the partition keeps flowing");
    batch_free(batch);
    instance_close(&src);
}

/* The same change as the schemaless JsonConverter writes it: no schema to
 * say that doc is JSON. */
static char *schemaless(const char *file, size_t index, char **key)
{
    char err[256];
    captured c = fixture(file, index);
    rdapsync_value *v = J->parse(c.payload, strlen(c.payload), err, sizeof(err));
    rdapsync_value *k = J->parse(c.key, strlen(c.key), err, sizeof(err));
    cr_assert(v && k);
    char *out = J->dump(J->object_get(v, "payload"), 0, NULL);
    *key = J->dump(J->object_get(k, "payload"), 0, NULL);
    J->decref(v);
    J->decref(k);
    captured_free(&c);
    return out;
}

Test(kafka_debezium, json_fields_parses_a_column_without_a_schema)
{
    instance src, plain;
    char *key, *value = schemaless(DOMAINS, 2, &key);
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, key, value, NULL);
    host()->free(key);
    host()->free(value);

    open_source(&src, "key_path: handle, document: doc, json_fields: [doc],");
    rdapsync_batch *batch = batch_new(10);
    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_null(r->error, "bad: %s", r->error);
    cr_assert_str_eq(str_at(r->value, "ldhName"), "three.example");
    batch_free(batch);
    instance_close(&src);

    open_source(&plain, "key_path: handle, document: doc, start: earliest,");
    batch = batch_new(10);
    cr_assert_eq(poll_until(&plain, batch, 1, 30000), 1);
    r = batch_get(batch, 0);
    cr_assert_not_null(r->error, "without json_fields the column is a string, not a document");
    cr_assert(strstr(r->error, "json_fields"), "the reason says what to do: %s", r->error);
    batch_free(batch);
    instance_close(&plain);
}

Test(kafka_debezium, heartbeats_and_transaction_metadata_are_skipped_and_counted)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    for (size_t i = 0; i < 3; i++)
        produce_fixture(HEARTBEATS, i);
    for (size_t i = 0; i < 4; i++)
        produce_fixture(TRANSACTIONS, i);
    produce_fixture(DOMAINS, 2);
    open_source(&src, "key_path: handle, document: doc,");
    rdapsync_batch *batch = batch_new(20);

    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    poll_for(&src, batch, 500);
    cr_assert_eq(batch_count(batch), 1, "no record for the 7 messages that are not row changes");
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_null(r->error, "bad: %s", r->error);
    cr_assert_eq(r->position.offset, 8, "the row's position commits past the skipped messages");
    cr_assert_eq(counter("debezium_heartbeats"), 3);
    cr_assert_eq(counter("debezium_transactions"), 4);
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_debezium, a_truncate_is_skipped_and_counted_or_dead_lettered_as_configured)
{
    instance src, dlq;
    mock_topic(&cluster, "t", 1);
    produce_fixture(TYPED, 2); /* op t */
    produce_fixture(TYPED, 0);
    open_source(&src, "key_path: handle,");
    rdapsync_batch *batch = batch_new(10);
    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    poll_for(&src, batch, 300);
    cr_assert_eq(batch_count(batch), 1);
    cr_assert_null(batch_get(batch, 0)->error);
    cr_assert_eq(counter("debezium_truncates"), 1);
    batch_free(batch);
    instance_close(&src);

    open_source(&dlq, "key_path: handle, truncate: dead_letter,");
    batch = batch_new(10);
    cr_assert_eq(poll_until(&dlq, batch, 2, 30000), 2);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_not_null(r->error);
    cr_assert(strstr(r->error, "TRUNCATE of table typed"), "reason: %s", r->error);
    cr_assert(strstr(r->error, "topic t partition 0 offset 0"), "reason: %s", r->error);
    batch_free(batch);
    instance_close(&dlq);
}

Test(kafka_debezium, tombstones_skip_counts_them_instead_of_deleting_twice)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    produce_fixture(DOMAINS, 4); /* d D2 */
    produce_fixture(DOMAINS, 5); /* its tombstone */
    open_source(&src, "key: value, key_path: handle, document: doc, tombstones: skip,");
    rdapsync_batch *batch = batch_new(10);
    cr_assert_eq(poll_until(&src, batch, 1, 30000), 1);
    poll_for(&src, batch, 300);
    cr_assert_eq(batch_count(batch), 1);
    cr_assert_eq(batch_get(batch, 0)->op, RDAPSYNC_OP_DELETE);
    cr_assert_str_eq(batch_get(batch, 0)->key, "D2-EXAMPLE", "key: value takes the key from before");
    cr_assert_eq(counter("debezium_tombstones"), 1);
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_debezium, the_document_options_need_the_debezium_format)
{
    char err[256];
    snprintf(yaml, sizeof(yaml), "{brokers: \"%s\", topics: [t], group: g, document: doc}", cluster.brokers);
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SOURCE, yaml, err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "format: debezium"), "%s", err);
    snprintf(yaml, sizeof(yaml), "{brokers: \"%s\", topics: [t], group: g, format: debezium, other_columns: headers}",
             cluster.brokers);
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SOURCE, yaml, err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "needs document"), "%s", err);
}

/* Edge cases the captured row does not have, in the same envelope shape:
 * instants before the epoch (floor, not truncation toward zero), nanosecond
 * and Connect types, a zero Decimal with its scale, a Decimal that is not
 * base64. */
#define FIELD(type, name, field) "{\"type\":\"" type "\",\"optional\":true,\"name\":\"" name "\",\"field\":\"" field "\"}"
static const char *const edge_schema =
    "{\"type\":\"struct\",\"name\":\"x.Envelope\",\"fields\":[{\"type\":\"struct\",\"field\":\"after\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"handle\"},"
    FIELD("int64", "io.debezium.time.MicroTimestamp", "before_epoch") ","
    FIELD("int64", "io.debezium.time.NanoTimestamp", "nano") ","
    FIELD("int64", "io.debezium.time.MicroTime", "micro_time") ","
    FIELD("int32", "org.apache.kafka.connect.data.Date", "connect_date") ","
    FIELD("int64", "org.apache.kafka.connect.data.Timestamp", "connect_ts") ","
    "{\"type\":\"bytes\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data.Decimal\","
    "\"parameters\":{\"scale\":\"3\"},\"field\":\"zero\"}]}]}";

static void produce_edge(const char *after)
{
    char value[4096];
    snprintf(value, sizeof(value), "{\"schema\":%s,\"payload\":{\"op\":\"c\",\"ts_ms\":1,\"after\":%s}}", edge_schema,
             after);
    mock_produce(&cluster, "t", 0, "E1", value, NULL);
}

Test(kafka_debezium, instants_before_the_epoch_nanoseconds_and_connect_types_are_decoded_exactly)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    produce_edge("{\"handle\":\"E1\",\"before_epoch\":-1,\"nano\":1700000000123456789,\"micro_time\":1000001,"
                 "\"connect_date\":0,\"connect_ts\":-86400001,\"zero\":\"AA==\"}");
    produce_edge("{\"handle\":\"E1\",\"zero\":\"not base64!\"}");
    open_source(&src, "key: value, key_path: handle,");
    rdapsync_batch *batch = batch_new(10);

    cr_assert_eq(poll_until(&src, batch, 2, 30000), 2);
    const rdapsync_record *r = batch_get(batch, 0);
    cr_assert_null(r->error, "bad: %s", r->error);
    cr_assert_str_eq(str_at(r->value, "before_epoch"), "1969-12-31T23:59:59.999999Z");
    cr_assert_str_eq(str_at(r->value, "nano"), "2023-11-14T22:13:20.123456789Z");
    cr_assert_str_eq(str_at(r->value, "micro_time"), "00:00:01.000001");
    cr_assert_str_eq(str_at(r->value, "connect_date"), "1970-01-01");
    cr_assert_str_eq(str_at(r->value, "connect_ts"), "1969-12-30T23:59:59.999Z");
    cr_assert_str_eq(str_at(r->value, "zero"), "0.000", "zero keeps its scale");
    r = batch_get(batch, 1);
    cr_assert_not_null(r->error);
    cr_assert(strstr(r->error, "column zero is not a base64 Decimal with scale 3"), "reason: %s", r->error);
    batch_free(batch);
    instance_close(&src);
}

Test(kafka_debezium, a_partition_of_skipped_messages_only_is_committed_with_the_tasks_next_commit)
{
    instance src;
    mock_topic(&cluster, "t", 2);
    for (size_t i = 0; i < 3; i++)
        produce_fixture_to(HEARTBEATS, i, 1);
    produce_fixture_to(DOMAINS, 2, 0);
    produce_fixture_to(DOMAINS, 3, 0);
    open_source(&src, "key_path: handle, document: doc,");
    rdapsync_batch *batch = batch_new(10);
    cr_assert_eq(poll_until(&src, batch, 2, 30000), 2);
    poll_for(&src, batch, 500);
    cr_assert_eq(batch_count(batch), 2);
    cr_assert_eq(counter("debezium_heartbeats"), 3);

    /* The host acknowledges the first record only: partition 0 is committed
     * there; partition 1 (heartbeats only, nothing held) at its end. */
    commit_position(&src, "t", 0, 1);
    poll_for(&src, batch, 300); /* serves the asynchronous commit's result */
    cr_assert_eq(mock_committed(&cluster, "g", "t", 0), 1, "the second record is still held");
    cr_assert_eq(mock_committed(&cluster, "g", "t", 1), 3, "the heartbeats are done once nothing is held");
    batch_free(batch);
    instance_close(&src);
}
