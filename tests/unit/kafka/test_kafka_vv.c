/*
 * Version vectors through Kafka (the rdapsync.vv header both ways, a
 * Debezium envelope's vv_field) and skip_origins, on librdkafka's mock
 * cluster.
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

static mock cluster;
static char yaml[2048];

static void setup(void) { mock_start(&cluster); }
static void teardown(void) { mock_stop(&cluster); }

TestSuite(kafka_vv, .init = setup, .fini = teardown, .timeout = 120);

static void open_source(instance *in, const char *group, const char *extra)
{
    snprintf(yaml, sizeof(yaml),
             "{brokers: \"%s\", topics: [t], group: %s, session_timeout: 6s, %s"
             " properties: {fetch.wait.max.ms: \"10\", heartbeat.interval.ms: \"200\","
             " topic.metadata.refresh.interval.ms: \"1000\"}}",
             cluster.brokers, group, extra ? extra : "");
    instance_load(in, RDAPSYNC_KIND_SOURCE, yaml);
    cr_assert_eq(instance_open(in), RDAPSYNC_OK, "open: %s", in->err);
}

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

Test(kafka_vv, the_sink_writes_the_vector_as_a_header_the_source_reads_back)
{
    instance sink, src;
    mock_topic(&cluster, "t", 1);
    snprintf(yaml, sizeof(yaml), "{brokers: \"%s\", topic: t}", cluster.brokers);
    instance_load(&sink, RDAPSYNC_KIND_SINK, yaml);
    cr_assert_eq(instance_open(&sink), RDAPSYNC_OK, "open: %s", sink.err);
    rdapsync_batch *out = batch_new(4);
    rdapsync_vv_entry vv[] = {{"us-east", 3}, {"eu-central", 5}};
    rdapsync_record *r = record_upsert(out, "D1", "{\"handle\":\"D1\"}", 1);
    cr_assert_eq(host()->record_set_version(out, r, 1234, "us-east", 7), 0);
    cr_assert_eq(host()->record_set_vv(out, r, vv, 2), 0);
    record_upsert(out, "D2", "{\"handle\":\"D2\"}", 2); /* no vector: no header */
    cr_assert_eq(sink.plugin->desc->write(sink.state, out, sink.err, sizeof(sink.err)), RDAPSYNC_OK, "%s", sink.err);
    cr_assert_eq(sink.plugin->desc->flush(sink.state, sink.err, sizeof(sink.err)), RDAPSYNC_OK, "%s", sink.err);
    instance_close(&sink);

    size_t n;
    read_msg *msgs = read_topic(&cluster, "t", 2, 10000, &n);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(read_header(&msgs[0], "rdapsync.vv"), "{\"eu-central\":5,\"us-east\":3}");
    cr_assert_null(read_header(&msgs[1], "rdapsync.vv"));
    read_free(msgs, n);

    open_source(&src, "g-vv", NULL);
    rdapsync_batch *in = batch_new(4);
    cr_assert_eq(poll_until(&src, in, 2, 30000), 2);
    const rdapsync_record *back = batch_get(in, 0);
    cr_assert_null(back->error);
    cr_assert_str_eq(back->version.origin, "us-east");
    cr_assert_eq(back->vv.count, 2);
    cr_assert_str_eq(back->vv.entries[0].region, "eu-central");
    cr_assert_eq(back->vv.entries[0].counter, 5);
    cr_assert_str_eq(back->vv.entries[1].region, "us-east");
    cr_assert_eq(back->vv.entries[1].counter, 3);
    cr_assert_eq(batch_get(in, 1)->vv.count, 0);
    batch_free(in);
    batch_free(out);
    instance_close(&src);
}

Test(kafka_vv, a_bad_vv_header_makes_a_bad_record_naming_the_message)
{
    instance src;
    const char *const bad_vv[] = {"rdapsync.vv", "{\"us\":0}", NULL};
    const char *const not_json[] = {"rdapsync.vv", "{\"us\":", NULL};
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "K1", "{\"a\":1}", bad_vv);
    mock_produce(&cluster, "t", 0, "K2", "{\"a\":1}", not_json);
    open_source(&src, "g-badvv", NULL);
    rdapsync_batch *in = batch_new(4);
    cr_assert_eq(poll_until(&src, in, 2, 30000), 2);
    const char *e0 = batch_get(in, 0)->error, *e1 = batch_get(in, 1)->error;
    cr_assert_not_null(e0);
    cr_assert(strstr(e0, "topic t partition 0 offset 0: header rdapsync.vv: ") && strstr(e0, "integer >= 1"),
              "%s", e0);
    cr_assert_not_null(e1);
    cr_assert(strstr(e1, "offset 1: header rdapsync.vv: version vector: line 1 column"), "%s", e1);
    cr_assert_null(batch_get(in, 0)->value);
    batch_free(in);
    instance_close(&src);
}

Test(kafka_vv, a_debezium_vv_field_is_read_as_an_object_or_as_json_text)
{
    instance src;
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "k",
                 "{\"before\":null,\"after\":{\"handle\":\"D1\",\"vv\":{\"b\":2,\"a\":1}},\"op\":\"c\",\"ts_ms\":1,"
                 "\"source\":{\"name\":\"a\"}}",
                 NULL);
    mock_produce(&cluster, "t", 0, "k",
                 "{\"before\":null,\"after\":{\"handle\":\"D2\",\"vv\":\"{\\\"a\\\":4}\"},\"op\":\"u\",\"ts_ms\":2,"
                 "\"source\":{\"name\":\"a\"}}",
                 NULL);
    mock_produce(&cluster, "t", 0, "k",
                 "{\"before\":null,\"after\":{\"handle\":\"D3\",\"vv\":[1]},\"op\":\"u\",\"ts_ms\":3,"
                 "\"source\":{\"name\":\"a\"}}",
                 NULL);
    open_source(&src, "g-dbz", "format: debezium, key: value, key_path: handle, vv_field: after.vv,");
    rdapsync_batch *in = batch_new(4);
    cr_assert_eq(poll_until(&src, in, 3, 30000), 3);
    const rdapsync_record *r = batch_get(in, 0);
    cr_assert_null(r->error, "%s", r->error);
    cr_assert_eq(r->vv.count, 2);
    cr_assert_str_eq(r->vv.entries[0].region, "a");
    cr_assert_eq(r->vv.entries[1].counter, 2);
    r = batch_get(in, 1);
    cr_assert_null(r->error, "%s", r->error);
    cr_assert_eq(r->vv.count, 1);
    cr_assert_eq(r->vv.entries[0].counter, 4, "a json column read without schemas is JSON text");
    cr_assert_not_null(batch_get(in, 2)->error);
    cr_assert(strstr(batch_get(in, 2)->error, "vv_field is a JSON array"), "%s", batch_get(in, 2)->error);
    batch_free(in);
    instance_close(&src);

    char err[512];
    snprintf(yaml, sizeof(yaml), "{brokers: \"%s\", topics: [t], group: g, vv_field: after.vv}", cluster.brokers);
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SOURCE, yaml, err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "vv_field needs format: debezium"), "%s", err);
}

Test(kafka_vv, skip_origins_emits_no_record_of_a_listed_origin_and_commits_past_it)
{
    instance src;
    const char *const eu[] = {"rdapsync.origin", "eu", NULL};
    const char *const us[] = {"rdapsync.origin", "us", NULL};
    mock_topic(&cluster, "t", 1);
    mock_produce(&cluster, "t", 0, "A", "{\"a\":1}", eu);
    mock_produce(&cluster, "t", 0, "B", "{\"a\":1}", us);
    mock_produce(&cluster, "t", 0, "C", "{\"a\":1}", eu);
    mock_produce(&cluster, "t", 0, "D", "{\"a\":1}", us);
    mock_produce(&cluster, "t", 0, "E", "{\"a\":1}", us);
    open_source(&src, "g-skip", "skip_origins: [us],");
    rdapsync_batch *in = batch_new(8);
    cr_assert_eq(poll_until(&src, in, 2, 30000), 2);
    poll_for(&src, in, 500);
    cr_assert_eq(batch_count(in), 2, "only eu's records");
    cr_assert_str_eq(batch_get(in, 0)->key, "A");
    cr_assert_str_eq(batch_get(in, 1)->key, "C");
    cr_assert_eq(counter("origins_skipped"), 3);
    commit_position(&src, "t", 0, batch_get(in, 1)->position.offset);
    poll_for(&src, in, 300);
    cr_assert_eq(mock_committed(&cluster, "g-skip", "t", 0), 5, "the skipped tail is committed with the last record");
    batch_free(in);
    instance_close(&src);
}
