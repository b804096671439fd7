/*
 * The `kafka` source: a librdkafka high-level consumer in a consumer group.
 * Several rdapsync processes (or tasks) with the same `group` share the
 * topics' partitions. Offsets are committed only for what the host has
 * acknowledged through commit(), i.e. after the sink flushed it.
 */
#include "source_kafka.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const rdapsync_host *ks_host;
#define H ks_host

static const char *const format_values[] = {"json", "debezium", NULL};
static const char *const key_values[] = {"message", "value", NULL};
static const char *const time_values[] = {"envelope", "source", "message", NULL};
static const char *const sequence_values[] = {"auto", "offset", NULL};
static const char *const start_values[] = {"earliest", "latest", NULL};
static const char *const time_format_values[] = {"rfc3339", "epoch_ms", NULL};
static const char *const columns_values[] = {"drop", "headers", NULL};
static const char *const truncate_values[] = {"skip", "dead_letter", NULL};
static const char *const tombstone_values[] = {"delete", "skip", NULL};

#define OPT(field) offsetof(ks_config, field)

static const rdapsync_option options[] = {
    {"brokers", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED, NULL, 0, 0, NULL, OPT(brokers),
     "bootstrap servers, host:port[,host:port...]"},
    {"topics", RDAPSYNC_OPT_LIST, 0, NULL, 0, 0, NULL, OPT(topics),
     "topics to consume (or topic_pattern)"},
    {"topic_pattern", RDAPSYNC_OPT_STRING, 0, NULL, 0, 0, NULL, OPT(topic_pattern),
     "a regular expression of topics to consume, instead of topics"},
    {"group", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED, NULL, 0, 0, NULL, OPT(group),
     "consumer group id; processes with the same group share the partitions"},
    {"format", RDAPSYNC_OPT_ENUM, 0, "json", 0, 0, format_values, OPT(format),
     "json: the value is the document; debezium: a change envelope (before/after/op/ts_ms/source)"},
    {"key", RDAPSYNC_OPT_ENUM, 0, "message", 0, 0, key_values, OPT(key_from),
     "where the record key comes from: the message key, or key_path in the value"},
    {"key_path", RDAPSYNC_OPT_STRING, 0, NULL, 0, 0, NULL, OPT(key_path),
     "JSON path (a.b[0].c) of the key: in the value (key: value; debezium: in after, or before for deletes) "
     "or in a JSON message key (key: message)"},
    {"origin", RDAPSYNC_OPT_STRING, 0, NULL, 0, 0, NULL, OPT(origin),
     "version origin; default: the envelope's source.name, else none"},
    {"event_time", RDAPSYNC_OPT_ENUM, 0, "envelope", 0, 0, time_values, OPT(event_time),
     "debezium version time: the envelope's ts_ms, source.ts_ms, or the message timestamp"},
    {"sequence", RDAPSYNC_OPT_ENUM, 0, "auto", 0, 0, sequence_values, OPT(sequence),
     "version sequence: auto (debezium source.lsn when present, else the offset) or the offset"},
    {"start", RDAPSYNC_OPT_ENUM, 0, "earliest", 0, 0, start_values, OPT(start),
     "where a partition without a committed offset starts"},
    {"host_checkpoints", RDAPSYNC_OPT_BOOL, 0, "true", 0, 0, NULL, OPT(host_checkpoints),
     "resume a partition at the task's own checkpoint when it is ahead of the group's committed offset"},
    {"session_timeout", RDAPSYNC_OPT_DURATION, 0, "45s", 1000, 3600000, NULL, OPT(session_timeout_ms),
     "how long the group waits for a silent member before giving its partitions to others"},
    {"commit_timeout", RDAPSYNC_OPT_DURATION, 0, "10s", 100, 600000, NULL, OPT(commit_timeout_ms),
     "bound of the synchronous commit and committed-offset lookups of a rebalance"},
    {"properties", RDAPSYNC_OPT_MAP, 0, NULL, 0, 0, NULL, OPT(properties),
     "librdkafka consumer properties passed through (security.protocol, sasl.*, ssl.*, ...)"},
    {"document", RDAPSYNC_OPT_STRING, 0, NULL, 0, 0, NULL, OPT(document),
     "debezium: the column of the row image that is the record's document (default: the whole row)"},
    {"other_columns", RDAPSYNC_OPT_ENUM, 0, "drop", 0, 0, columns_values, OPT(other_columns),
     "debezium with document: the row's other columns are dropped, or become record headers"},
    {"json_fields", RDAPSYNC_OPT_LIST, 0, NULL, 0, 0, NULL, OPT(json_fields),
     "debezium: columns whose string value is parsed as JSON (for converters without schemas)"},
    {"time_format", RDAPSYNC_OPT_ENUM, 0, "rfc3339", 0, 0, time_format_values, OPT(time_format),
     "debezium: io.debezium.time.* columns as RFC 3339 text (UTC) or epoch milliseconds"},
    {"truncate", RDAPSYNC_OPT_ENUM, 0, "skip", 0, 0, truncate_values, OPT(truncate),
     "debezium op t (TRUNCATE): skipped and counted, or sent to the dead-letter sink"},
    {"tombstones", RDAPSYNC_OPT_ENUM, 0, "delete", 0, 0, tombstone_values, OPT(tombstones),
     "debezium: a null-valued message deletes its key (the same version as the delete it follows), "
     "or is skipped and counted"},
    {"vv_field", RDAPSYNC_OPT_STRING, 0, NULL, 0, 0, NULL, OPT(vv_field),
     "debezium: JSON path in the envelope (after.vv) of the version vector, an object or its JSON text; "
     "the rdapsync.vv header is read in any format"},
    ORIGIN_SKIP_OPTION(ks_config, skip_origins),
    {NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL},
};

/* Properties the plugin owns: setting them would break the commit contract. */
static const char *const reserved[] = {"bootstrap.servers", "metadata.broker.list", "group.id",
                                       "enable.auto.commit", "enable.auto.offset.store",
                                       "enable.partition.eof", "auto.offset.reset", NULL};

static rdapsync_status check(const void *config, char *err, size_t err_size)
{
    const ks_config *cfg = config;

    if ((cfg->topics.count > 0) == (cfg->topic_pattern != NULL)) {
        snprintf(err, err_size, "set exactly one of topics and topic_pattern");
        return RDAPSYNC_ERROR;
    }
    if (cfg->key_from == KS_KEY_VALUE && !cfg->key_path) {
        snprintf(err, err_size, "key: value needs key_path");
        return RDAPSYNC_ERROR;
    }
    for (size_t i = 0; i < cfg->properties.count; i++)
        for (size_t r = 0; reserved[r]; r++)
            if (strcmp(cfg->properties.keys[i], reserved[r]) == 0) {
                snprintf(err, err_size, "properties: %s is set by the plugin (see brokers, group, start)",
                         reserved[r]);
                return RDAPSYNC_ERROR;
            }
    if (cfg->format != KS_FORMAT_DEBEZIUM &&
        (cfg->document || cfg->json_fields.count || cfg->other_columns != KS_COLUMNS_DROP)) {
        snprintf(err, err_size, "document, other_columns and json_fields need format: debezium");
        return RDAPSYNC_ERROR;
    }
    if (cfg->other_columns == KS_COLUMNS_HEADERS && !cfg->document) {
        snprintf(err, err_size, "other_columns: headers needs document (the column that is the document)");
        return RDAPSYNC_ERROR;
    }
    if (cfg->vv_field && cfg->format != KS_FORMAT_DEBEZIUM) {
        snprintf(err, err_size, "vv_field needs format: debezium (format: json reads the rdapsync.vv header)");
        return RDAPSYNC_ERROR;
    }
    const char *paths[] = {cfg->key_path, cfg->vv_field};
    for (size_t i = 0; i < 2; i++) {
        ks_path path = {0};
        if (paths[i] && jpath_compile(&path, paths[i], err, err_size) != 0)
            return RDAPSYNC_ERROR;
        jpath_free(&path);
    }
    rd_kafka_conf_t *conf = client_conf_new(cfg, err, err_size);
    if (!conf)
        return RDAPSYNC_ERROR;
    rd_kafka_conf_destroy(conf);
    return RDAPSYNC_OK;
}

static void source_close(void *state)
{
    ks_state *s = state;

    if (!s)
        return;
    client_close(s);
    H->log(s->ctx, RDAPSYNC_LOG_INFO, "read %llu records (%llu bad) in %llu rebalances",
           (unsigned long long)s->records, (unsigned long long)s->bad_records, (unsigned long long)s->rebalances);
    if (s->latency)
        latency_report(s, true);
    partitions_free(s);
    jpath_free(&s->key_path);
    jpath_free(&s->vv_path);
    free(s->latency);
    free(s->shell);
    free(s->last_schema);
    free(s);
}

static rdapsync_status source_open(rdapsync_ctx *ctx, const void *config, void **state, char *err,
                                   size_t err_size)
{
    const ks_config *cfg = config;
    ks_state *s = calloc(1, sizeof(*s));

    if (!s || !(s->latency = calloc(1, sizeof(*s->latency)))) {
        free(s);
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    s->ctx = ctx;
    s->cfg = cfg;
    if (cfg->key_path && jpath_compile(&s->key_path, cfg->key_path, err, err_size) != 0)
        goto fail;
    if (cfg->vv_field && jpath_compile(&s->vv_path, cfg->vv_field, err, err_size) != 0)
        goto fail;
    if (client_open(s, err, err_size) != 0)
        goto fail;
    *state = s;
    return RDAPSYNC_OK;
fail:
    source_close(s);
    return RDAPSYNC_ERROR;
}

/* Errors that come through the consumer as messages: per-partition ones are
 * logged (the consumer keeps trying); a fatal one fails the task. */
static rdapsync_status consume_error(ks_state *s, const rd_kafka_message_t *msg, char *err, size_t err_size)
{
    if (msg->err == RD_KAFKA_RESP_ERR__FATAL || s->fatal) {
        char reason[512];
        rd_kafka_fatal_error(s->rk, reason, sizeof(reason));
        snprintf(err, err_size, "kafka consumer fatal error: %s", reason);
        return RDAPSYNC_ERROR;
    }
    int64_t now = client_now_ms();
    if (now - s->last_warn_ms >= 10000) {
        s->last_warn_ms = now;
        if (msg->rkt)
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "topic %s partition %d: %s", rd_kafka_topic_name(msg->rkt),
                   (int)msg->partition, rd_kafka_message_errstr(msg));
        else
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "consumer: %s", rd_kafka_message_errstr(msg));
    }
    H->counter_add(s->ctx, "consumer_errors", 1);
    return RDAPSYNC_OK;
}

/* Messages taken from librdkafka per call: one array on the stack. */
#define POLL_CHUNK 256

/* A message read before a rebalance that ran inside the same batch call:
 * its partition may be someone else's now, or be read again from an offset
 * the new assignment set. Such a message is left to that reader. */
static bool stale(const rd_kafka_message_t *msg, const ks_partition *part)
{
    return !part->assigned || (part->delivered >= 0 && msg->offset < part->delivered);
}

/* Hands the messages of `msgs` to the batch and releases them all (also on
 * failure). Returns the records added, or -1 with err set. */
static long take(ks_state *s, rdapsync_batch *batch, rd_kafka_message_t **msgs, size_t n, bool rebalanced,
                 char *err, size_t err_size)
{
    long added = 0;
    size_t i = 0;

    for (; i < n; i++) {
        rd_kafka_message_t *msg = msgs[i];
        if (msg->err) {
            if (consume_error(s, msg, err, err_size) != RDAPSYNC_OK)
                goto fail;
            rd_kafka_message_destroy(msg);
            continue;
        }
        ks_partition *part = partitions_get(s, rd_kafka_topic_name(msg->rkt), msg->partition);
        if (part && rebalanced && stale(msg, part)) {
            rd_kafka_message_destroy(msg);
            continue;
        }
        int got = part ? decode_message(s, batch, msg, part) : -1;
        if (got < 0) {
            snprintf(err, err_size, "out of memory while adding a record");
            goto fail;
        }
        rd_kafka_message_destroy(msg);
        added += got;
    }
    return added;
fail:
    for (; i < n; i++)
        rd_kafka_message_destroy(msgs[i]);
    return -1;
}

/*
 * librdkafka before 2.1 stops fetching once its queue holds
 * queued.max.messages.kbytes and looks again only when its broker thread
 * wakes up, at most a second later: a consumer faster than that queue per
 * second idles for the rest of it. Any request to the broker wakes the
 * thread, so after a poll that emptied a backlog the source asks for the
 * watermarks of the partition it just read (one small round trip to its
 * leader). librdkafka 2.1 and later retry on their own (fetch.queue.backoff.ms).
 * At most once per WAKE_EVERY records: the host may hand over room for a
 * few dozen records per poll (it transforms them between polls), and a
 * round trip per poll cost more than the stall it prevents (kafka ->
 * redact -> kafka fell from 18,000 to 9,400 records/s).
 */
#define WAKE_EVERY 512

static void wake_fetcher(ks_state *s, const char *topic, int32_t partition)
{
    int64_t low, high;

    if (!s->wake_fetcher || !topic || s->since_wake < WAKE_EVERY)
        return;
    s->since_wake = 0;
    (void)rd_kafka_query_watermark_offsets(s->rk, topic, partition, &low, &high, 100);
    H->counter_add(s->ctx, "fetcher_wakeups", 1);
}

static rdapsync_status source_poll(void *state, rdapsync_batch *batch, int timeout_ms, char *err, size_t err_size)
{
    ks_state *s = state;
    size_t room = H->batch_room(batch);
    size_t added = 0;
    uint64_t bad_before = s->bad_records;
    int64_t deadline = client_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    rd_kafka_message_t *msgs[POLL_CHUNK];
    char last_topic[256] = "";
    int32_t last_partition = 0;

    /* The first message may take up to the host's timeout (one at a time:
     * a batch call would wait for a full array); the rest of the batch is
     * whatever librdkafka already has queued, taken in arrays. */
    while (added == 0 && room > 0 && !s->fatal) {
        int64_t left = deadline - client_now_ms();
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(s->rk, left > 0 ? (int)left : 0);
        if (!msg)
            break;
        long n = take(s, batch, &msg, 1, false, err, err_size);
        if (n < 0)
            return RDAPSYNC_ERROR;
        added += (size_t)n;
        if (n == 0 && client_now_ms() >= deadline)
            break;
    }
    while (added > 0 && added < room && !s->fatal) {
        size_t want = room - added < POLL_CHUNK ? room - added : POLL_CHUNK;
        uint64_t rebalances = s->rebalances;
        ssize_t got = rd_kafka_consume_batch_queue(s->queue, 0, msgs, want);
        if (got <= 0)
            break;
        const rd_kafka_message_t *last = msgs[got - 1];
        if (!last->err && last->rkt) {
            snprintf(last_topic, sizeof(last_topic), "%s", rd_kafka_topic_name(last->rkt));
            last_partition = last->partition;
        }
        long n = take(s, batch, msgs, (size_t)got, s->rebalances != rebalances, err, err_size);
        if (n < 0)
            return RDAPSYNC_ERROR;
        added += (size_t)n;
        if ((size_t)got < want)
            break;
    }
    if (s->fatal) {
        snprintf(err, err_size, "kafka consumer fatal error: %s", s->fatal_reason);
        return RDAPSYNC_ERROR;
    }
    s->since_wake += added;
    /* A full batch means a backlog: the fetcher may be parked on a full queue. */
    if (added == room && last_topic[0])
        wake_fetcher(s, last_topic, last_partition);
    if (added) {
        s->records += added;
        H->counter_add(s->ctx, "records", added);
        if (s->bad_records > bad_before)
            H->counter_add(s->ctx, "bad_records", s->bad_records - bad_before);
    }
    partitions_report_lag(s);
    return RDAPSYNC_OK;
}

static rdapsync_status source_commit(void *state, const rdapsync_position *positions, size_t count, char *err,
                                     size_t err_size)
{
    ks_state *s = state;

    partitions_commit(s, positions, count);
    latency_report(s, false);
    partitions_report_lag(s);
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "kafka",
    .kind = RDAPSYNC_KIND_SOURCE,
    .version = "1.0.0",
    .description = "Kafka consumer group (librdkafka): JSON documents or Debezium change envelopes",
    .options = options,
    .config_size = sizeof(ks_config),
    .check = check,
    .open = source_open,
    .close = source_close,
    .poll = source_poll,
    .commit = source_commit,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    ks_host = host;
    return &descriptor;
}
