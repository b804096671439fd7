/*
 * kafka_ceiling: the fastest a JSON pipeline on librdkafka and the record
 * model can consume a topic on this machine: every partition from the
 * beginning (no group), each message parsed with the host's own parser (the
 * very function behind host->json->parse, linked from rdapsync_core) and
 * released, nothing else. One thread. Prints "<messages> <seconds>".
 *
 *   kafka_ceiling BROKERS TOPIC [PROPERTY=VALUE...]
 *
 * The properties are librdkafka consumer settings applied after the
 * ceiling's own (the benchmark passes the kafka source's fetch defaults, so
 * that both fetch the same way). Like the source, it wakes librdkafka's
 * (before 2.1) fetcher every 1,000 messages with a watermark query: a fetcher
 * parked on a full queue otherwise waits up to a second.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_api.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char err[512];
    const rdapsync_json_api *json = json_api_table();
    if (argc < 3) {
        fprintf(stderr, "usage: kafka_ceiling BROKERS TOPIC [PROPERTY=VALUE...]\n");
        return 2;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "group.id", "kafka-ceiling", err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "queued.max.messages.kbytes", "16384", err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "kafka_ceiling: %s is not PROPERTY=VALUE\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        if (rd_kafka_conf_set(conf, argv[i], eq + 1, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    rd_kafka_poll_set_consumer(rk);
    const rd_kafka_metadata_t *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, argv[2], NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1 || md->topics[0].partition_cnt < 1) {
        fprintf(stderr, "no metadata for %s\n", argv[2]);
        return 1;
    }
    int partitions = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(list, argv[2], md->topics[0].partitions[p].id)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    double start = now_s();
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);

    long long messages = 0, bad = 0;
    int wake = rd_kafka_version() < 0x020100ff;
    int at_end = 0;
    while (at_end < partitions) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            at_end++;
        } else if (!m->err) {
            char jerr[160];
            rdapsync_value *doc = m->payload ? json->parse(m->payload, m->len, jerr, sizeof(jerr)) : NULL;
            bad += m->payload && !doc;
            json->decref(doc);
            messages++;
            if (wake && messages % 1000 == 0) {
                int64_t low, high;
                (void)rd_kafka_query_watermark_offsets(rk, rd_kafka_topic_name(m->rkt), m->partition, &low, &high,
                                                       100);
            }
        }
        rd_kafka_message_destroy(m);
    }
    double secs = now_s() - start;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    printf("%lld %.3f\n", messages, secs);
    return bad ? 1 : 0;
}
