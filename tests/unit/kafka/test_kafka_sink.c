/*
 * The kafka sink against librdkafka's mock cluster: what a record becomes
 * on the topic, and the delivery contract (write answers OK only when every
 * message has a successful delivery report; failures are retried without
 * duplicates of what was delivered, or rejected per record).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "batch_api.h"
#include "context_internal.h"
#include "kafka_harness.h"

static mock cluster;
static char yaml[2048];

static void setup(void) { mock_start(&cluster); }
static void teardown(void) { mock_stop(&cluster); }

TestSuite(kafka_sink, .init = setup, .fini = teardown, .timeout = 120);

static void open_sink(instance *in, const char *extra)
{
    snprintf(yaml, sizeof(yaml), "{brokers: \"%s\", topic: out, %s}", cluster.brokers, extra ? extra : "");
    instance_load(in, RDAPSYNC_KIND_SINK, yaml);
    cr_assert_eq(instance_open(in), RDAPSYNC_OK, "open: %s", in->err);
}

static rdapsync_status write_flush(instance *in, rdapsync_batch *batch)
{
    rdapsync_status st = in->plugin->desc->write(in->state, batch, in->err, sizeof(in->err));
    if (st != RDAPSYNC_OK)
        return st;
    return in->plugin->desc->flush(in->state, in->err, sizeof(in->err));
}

Test(kafka_sink, records_become_keyed_json_messages_with_headers_version_and_tombstones)
{
    instance sink;
    mock_topic(&cluster, "out", 1);
    open_sink(&sink, NULL);
    rdapsync_batch *batch = batch_new(10);
    rdapsync_record *r = record_upsert(batch, "D1", "{\"handle\":\"D1\",\"n\":[1,2]}", 1);
    cr_assert_eq(host()->record_add_header(batch, r, "trace", "abc", 3), 0);
    cr_assert_eq(host()->record_set_version(batch, r, 1234, "regA", 7), 0);
    record_delete(batch, "D2", 2);

    cr_assert_eq(write_flush(&sink, batch), RDAPSYNC_OK, "%s", sink.err);
    size_t n;
    read_msg *msgs = read_topic(&cluster, "out", 2, 10000, &n);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(msgs[0].key, "D1");
    cr_assert_str_eq(msgs[0].value, "{\"handle\":\"D1\",\"n\":[1,2]}");
    cr_assert_str_eq(read_header(&msgs[0], "trace"), "abc");
    cr_assert_str_eq(read_header(&msgs[0], "rdapsync.ts_ms"), "1234");
    cr_assert_str_eq(read_header(&msgs[0], "rdapsync.origin"), "regA");
    cr_assert_str_eq(read_header(&msgs[0], "rdapsync.seq"), "7");
    cr_assert_str_eq(msgs[1].key, "D2");
    cr_assert_null(msgs[1].value, "a delete is a tombstone");
    read_free(msgs, n);
    batch_free(batch);
    instance_close(&sink);
}

Test(kafka_sink, a_dead_letter_is_written_with_its_raw_bytes)
{
    instance sink;
    mock_topic(&cluster, "out", 1);
    open_sink(&sink, "version_headers: false");
    rdapsync_batch *batch = batch_new(10);
    rdapsync_record *r = record_upsert(batch, "B1", NULL, 1);
    cr_assert_eq(host()->record_set_bad(batch, r, "{not json", 9, "topic t partition 0 offset 0: not valid JSON"),
                 0);

    cr_assert_eq(write_flush(&sink, batch), RDAPSYNC_OK, "%s", sink.err);
    size_t n;
    read_msg *msgs = read_topic(&cluster, "out", 1, 10000, &n);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(msgs[0].value, "{not json");
    cr_assert_null(read_header(&msgs[0], "rdapsync.ts_ms"), "version_headers: false");
    read_free(msgs, n);
    batch_free(batch);
    instance_close(&sink);
}

Test(kafka_sink, write_answers_retry_while_the_broker_is_down_and_the_retry_adds_no_duplicates)
{
    instance sink;
    mock_topic(&cluster, "out", 1);
    open_sink(&sink, "delivery_timeout: 1s");
    rdapsync_batch *first = batch_new(10);
    record_upsert(first, "A", "{\"a\":1}", 1);
    cr_assert_eq(write_flush(&sink, first), RDAPSYNC_OK, "%s", sink.err);

    rd_kafka_mock_broker_set_down(cluster.cluster, 1);
    rdapsync_batch *batch = batch_new(10);
    for (int i = 0; i < 5; i++) {
        char key[8];
        snprintf(key, sizeof(key), "K%d", i);
        record_upsert(batch, key, "{\"b\":2}", 2 + i);
    }
    cr_assert_eq(sink.plugin->desc->write(sink.state, batch, sink.err, sizeof(sink.err)), RDAPSYNC_RETRY);
    cr_assert(strstr(sink.err, "without a delivery report"), "%s", sink.err);

    rd_kafka_mock_broker_set_up(cluster.cluster, 1);
    rdapsync_status st = RDAPSYNC_RETRY;
    for (int i = 0; i < 30 && st == RDAPSYNC_RETRY; i++)
        st = sink.plugin->desc->write(sink.state, batch, sink.err, sizeof(sink.err)); /* the host's retries */
    cr_assert_eq(st, RDAPSYNC_OK, "%s", sink.err);
    cr_assert_eq(sink.plugin->desc->flush(sink.state, sink.err, sizeof(sink.err)), RDAPSYNC_OK);

    size_t n;
    read_msg *msgs = read_topic(&cluster, "out", 20, 3000, &n);
    cr_assert_eq(n, 6, "every record once: %zu messages", n);
    read_free(msgs, n);
    batch_free(first);
    batch_free(batch);
    instance_close(&sink);
}

Test(kafka_sink, a_record_too_large_for_the_topic_is_rejected_and_the_rest_delivered)
{
    instance sink;
    char big[3000];
    mock_topic(&cluster, "out", 1);
    open_sink(&sink, "properties: {message.max.bytes: \"2000\"}");
    memset(big, 'x', sizeof(big));
    memcpy(big, "{\"s\":\"", 6);
    memcpy(big + sizeof(big) - 3, "\"}", 3);
    rdapsync_batch *batch = batch_new(10);
    record_upsert(batch, "small1", "{\"a\":1}", 1);
    record_upsert(batch, "huge", big, 2);
    record_upsert(batch, "small2", "{\"a\":2}", 3);

    cr_assert_eq(write_flush(&sink, batch), RDAPSYNC_OK, "%s", sink.err);
    cr_assert_eq(context_reject_count(sink.ctx), 1);
    cr_assert(strstr(context_last_reject(sink.ctx), "larger than message.max.bytes"), "%s",
              context_last_reject(sink.ctx));
    size_t n;
    read_msg *msgs = read_topic(&cluster, "out", 3, 3000, &n);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(msgs[0].key, "small1");
    cr_assert_str_eq(msgs[1].key, "small2");
    read_free(msgs, n);
    batch_free(batch);
    instance_close(&sink);
}

Test(kafka_sink, produce_errors_the_broker_answers_are_retried_without_duplicates_or_reordering)
{
    instance sink;
    mock_topic(&cluster, "out", 1);
    open_sink(&sink, NULL);
    rd_kafka_mock_push_request_errors(cluster.cluster, 0 /* ApiKey Produce */, 3,
                                      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    rdapsync_batch *batch = batch_new(100);
    for (int i = 0; i < 50; i++) {
        char value[32];
        snprintf(value, sizeof(value), "{\"i\":%d}", i);
        record_upsert(batch, "same-key", value, i + 1);
    }
    rdapsync_status st = RDAPSYNC_RETRY;
    for (int i = 0; i < 10 && st == RDAPSYNC_RETRY; i++)
        st = write_flush(&sink, batch);
    cr_assert_eq(st, RDAPSYNC_OK, "%s", sink.err);
    size_t n;
    read_msg *msgs = read_topic(&cluster, "out", 100, 3000, &n);
    cr_assert_eq(n, 50);
    for (size_t i = 0; i < n; i++) {
        char value[32];
        snprintf(value, sizeof(value), "{\"i\":%zu}", i);
        cr_assert_str_eq(msgs[i].value, value);
    }
    read_free(msgs, n);
    batch_free(batch);
    instance_close(&sink);
}

Test(kafka_sink, check_refuses_properties_that_would_break_idempotence)
{
    char err[512];
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SINK, "{brokers: x, topic: t, properties: {enable.idempotence: \"false\"}}",
                                err, sizeof(err)),
                 RDAPSYNC_ERROR);
    cr_assert(strstr(err, "enable.idempotence"), "%s", err);
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SINK, "{brokers: x, topic: t, properties: {acks: \"1\"}}", err,
                                sizeof(err)),
                 RDAPSYNC_ERROR);
    cr_assert_eq(instance_check(RDAPSYNC_KIND_SINK, "{brokers: x, topic: t, properties: {compression.type: lz4}}",
                                err, sizeof(err)),
                 RDAPSYNC_OK, "%s", err);
}
