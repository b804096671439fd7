/*
 * The `kafka` sink: each record becomes one message of the topic, key =
 * record key, value = the document as JSON (a delete is a tombstone, a
 * dead letter its raw bytes), headers carried, plus the version as
 * rdapsync.ts_ms / rdapsync.origin / rdapsync.seq headers that the kafka
 * source reads back.
 *
 * write() answers OK only once every message of the batch has a successful
 * delivery report (or was rejected for good), so flush() has nothing left
 * to do: the task flushes after every write anyway, and waiting in write()
 * is what lets per-record failures reach host->reject() while the batch is
 * still alive.
 */
#include "sink_kafka.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

const rdapsync_host *kk_host;
#define H kk_host
#define J (kk_host->json)

#define OPT(field) offsetof(kk_config, field)

static const rdapsync_option options[] = {
    {"brokers", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED, NULL, 0, 0, NULL, OPT(brokers),
     "bootstrap servers, host:port[,host:port...]"},
    {"topic", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED, NULL, 0, 0, NULL, OPT(topic), "the topic written to"},
    {"version_headers", RDAPSYNC_OPT_BOOL, 0, "true", 0, 0, NULL, OPT(version_headers),
     "add rdapsync.ts_ms, rdapsync.origin, rdapsync.seq (and rdapsync.vv with a version vector) headers "
     "(the record's version)"},
    {"delivery_timeout", RDAPSYNC_OPT_DURATION, 0, "30s", 100, 3600000, NULL, OPT(delivery_timeout_ms),
     "how long a write waits for the broker's acknowledgements before answering RETRY"},
    {"properties", RDAPSYNC_OPT_MAP, 0, NULL, 0, 0, NULL, OPT(properties),
     "librdkafka producer properties passed through (security.protocol, sasl.*, ssl.*, compression.type, ...)"},
    {NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL},
};

/* Properties the plugin owns: setting them would break its guarantees. */
static const char *const reserved[] = {"bootstrap.servers", "metadata.broker.list", "enable.idempotence", "acks",
                                       "request.required.acks", "transactional.id", NULL};

static rdapsync_status check(const void *config, char *err, size_t err_size)
{
    const kk_config *cfg = config;

    for (size_t i = 0; i < cfg->properties.count; i++)
        for (size_t r = 0; reserved[r]; r++)
            if (strcmp(cfg->properties.keys[i], reserved[r]) == 0) {
                snprintf(err, err_size, "properties: %s is set by the plugin", reserved[r]);
                return RDAPSYNC_ERROR;
            }
    rd_kafka_conf_t *conf = producer_conf_new(cfg, err, err_size);
    if (!conf)
        return RDAPSYNC_ERROR;
    rd_kafka_conf_destroy(conf);
    return RDAPSYNC_OK;
}

static void sink_close(void *state)
{
    kk_state *s = state;

    if (!s)
        return;
    producer_close(s);
    delivery_reset(s);
    free(s);
}

static rdapsync_status sink_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    kk_state *s = calloc(1, sizeof(*s));

    if (!s) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    s->ctx = ctx;
    s->cfg = config;
    if (producer_open(s, err, err_size) != 0) {
        sink_close(s);
        return RDAPSYNC_ERROR;
    }
    *state = s;
    return RDAPSYNC_OK;
}

static int add_version_headers(rd_kafka_headers_t *hdrs, const rdapsync_record *r)
{
    char number[32];
    int n;

    n = snprintf(number, sizeof(number), "%" PRId64, r->version.event_time_ms);
    if (rd_kafka_header_add(hdrs, "rdapsync.ts_ms", -1, number, n))
        return -1;
    if (r->version.origin && rd_kafka_header_add(hdrs, "rdapsync.origin", -1, r->version.origin, -1))
        return -1;
    n = snprintf(number, sizeof(number), "%" PRId64, r->version.sequence);
    if (rd_kafka_header_add(hdrs, "rdapsync.seq", -1, number, n))
        return -1;
    rdapsync_vv vv = rdapsync_record_vv(kk_host, r);
    if (vv.count == 0)
        return 0;
    /* Last of its name, like the others: it wins over an rdapsync.vv the
     * record carried in from a Kafka source (the source reads the last). */
    char *text = rdapsync_vv_format(&vv);
    int rc = text && !rd_kafka_header_add(hdrs, "rdapsync.vv", -1, text, -1) ? 0 : -1;
    free(text);
    return rc;
}

static rd_kafka_headers_t *headers_of(const kk_state *s, const rdapsync_record *r)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(r->header_count + 4);

    for (size_t i = 0; i < r->header_count; i++)
        if (rd_kafka_header_add(hdrs, r->headers[i].name, -1, r->headers[i].value,
                                (ssize_t)r->headers[i].value_len))
            goto fail;
    if (s->cfg->version_headers && add_version_headers(hdrs, r) != 0)
        goto fail;
    return hdrs;
fail:
    rd_kafka_headers_destroy(hdrs);
    return NULL;
}

/* The message value, in memory from host->alloc/dump (freed by the delivery
 * report); NULL with *len 0 for a tombstone. -1 on allocation failure. */
static int payload_of(const rdapsync_record *r, char **payload, size_t *len)
{
    *payload = NULL;
    *len = 0;
    if (r->value) {
        *payload = J->dump(r->value, 0, len);
        return *payload ? 0 : -1;
    }
    if (r->raw && r->op != RDAPSYNC_OP_DELETE) {
        /* A dead letter: its bytes as read. Copied, since a delivery
         * report can come after the batch is gone. */
        if (!(*payload = H->alloc(r->raw_len ? r->raw_len : 1)))
            return -1;
        memcpy(*payload, r->raw, r->raw_len);
        *len = r->raw_len;
    }
    return 0;
}

enum produce_result { PRODUCED = 0, REJECTED = 1, FULL = 2, FAILED = 3 };

static enum produce_result produce_one(kk_state *s, size_t index, int64_t deadline, char *err, size_t err_size)
{
    const rdapsync_record *r = H->batch_get(s->current.batch, index);
    char *payload;
    size_t len;
    rd_kafka_resp_err_t rc;

    if (payload_of(r, &payload, &len) != 0) {
        snprintf(err, err_size, "out of memory serializing a record");
        return FAILED;
    }
    rd_kafka_headers_t *hdrs = headers_of(s, r);
    if (!hdrs) {
        H->free(payload);
        snprintf(err, err_size, "out of memory building headers");
        return FAILED;
    }
    for (;;) {
        rc = rd_kafka_producev(s->rk, RD_KAFKA_V_RKT(s->topic), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                               RD_KAFKA_V_KEY(r->key, r->key ? r->key_len : 0), RD_KAFKA_V_VALUE(payload, len),
                               RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(delivery_tag(s, index)),
                               RD_KAFKA_V_END);
        /* A full local queue is backpressure, not a failure: serve
         * delivery reports until there is room. */
        if (rc != RD_KAFKA_RESP_ERR__QUEUE_FULL || producer_now_ms() >= deadline)
            break;
        rd_kafka_poll(s->rk, 10);
    }
    if (rc == RD_KAFKA_RESP_ERR_NO_ERROR) {
        s->current.slots[index] = KK_IN_FLIGHT;
        s->current.in_flight++;
        return PRODUCED;
    }
    rd_kafka_headers_destroy(hdrs); /* owned by the message only on success */
    H->free(payload);
    if (rc == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        char reason[256];
        snprintf(reason, sizeof(reason), "topic %s: a message of %zu bytes is larger than message.max.bytes",
                 s->cfg->topic, len);
        delivery_reject(s, index, reason);
        return REJECTED;
    }
    snprintf(err, err_size, "topic %s: produce failed: %s", s->cfg->topic, rd_kafka_err2str(rc));
    return rc == RD_KAFKA_RESP_ERR__QUEUE_FULL ? FULL : FAILED;
}

/* Reports the rejected records of a batch that is otherwise delivered. */
static uint64_t report_rejects(kk_state *s)
{
    kk_batch *b = &s->current;
    uint64_t n = 0;

    for (size_t i = 0; i < b->count; i++)
        if (b->slots[i] == KK_REJECTED) {
            H->reject(s->ctx, H->batch_get(b->batch, i), b->reasons[i] ? b->reasons[i] : "rejected by the broker");
            n++;
        }
    return n;
}

static rdapsync_status sink_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    kk_state *s = state;
    kk_batch *b = &s->current;
    int64_t deadline = producer_now_ms() + s->cfg->delivery_timeout_ms;
    size_t sent = 0;

    if (delivery_begin(s, batch) != 0) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    for (size_t i = 0; i < b->count && !b->fatal; i++) {
        if (b->slots[i] != KK_UNSENT)
            continue;
        enum produce_result pr = produce_one(s, i, deadline, err, err_size);
        if (pr == FULL)
            return RDAPSYNC_RETRY;
        if (pr == FAILED) {
            delivery_reset(s);
            return RDAPSYNC_ERROR;
        }
        sent += pr == PRODUCED;
    }
    while (b->in_flight > 0 && !b->fatal) {
        int64_t left = deadline - producer_now_ms();
        if (left <= 0)
            break;
        rd_kafka_poll(s->rk, left < 100 ? (int)left : 100);
    }
    if (b->fatal) {
        snprintf(err, err_size, "kafka producer: %s", b->fatal_reason);
        delivery_reset(s);
        return RDAPSYNC_ERROR;
    }
    if (b->in_flight > 0) {
        snprintf(err, err_size, "topic %s: %zu of %zu messages without a delivery report after %" PRId64 " ms",
                 s->cfg->topic, b->in_flight, b->count, s->cfg->delivery_timeout_ms);
        return RDAPSYNC_RETRY;
    }
    if (b->failed > 0) {
        snprintf(err, err_size, "%zu of %zu messages failed, first: %s", b->failed, b->count, b->first_failure);
        return RDAPSYNC_RETRY;
    }
    uint64_t rejected = report_rejects(s);
    H->counter_add(s->ctx, "messages", b->count - rejected);
    if (rejected)
        H->counter_add(s->ctx, "rejected", rejected);
    delivery_reset(s);
    return RDAPSYNC_OK;
}

static rdapsync_status sink_flush(void *state, char *err, size_t err_size)
{
    kk_state *s = state;

    /* write() already waited for every delivery; serve stray callbacks. */
    rd_kafka_poll(s->rk, 0);
    if (s->current.batch) {
        snprintf(err, err_size, "a batch is still waiting for delivery reports");
        return RDAPSYNC_RETRY;
    }
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "kafka",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "1.0.0",
    .description = "Kafka idempotent producer (librdkafka): key = record key, value = the JSON document",
    .options = options,
    .config_size = sizeof(kk_config),
    .check = check,
    .open = sink_open,
    .close = sink_close,
    .write = sink_write,
    .flush = sink_flush,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    kk_host = host;
    return &descriptor;
}
