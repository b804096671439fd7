/*
 * The librdkafka producer behind the sink: idempotent (no duplicates or
 * reordering from its own retries), keys partitioned the way the Java
 * client does it, delivery reports on the task thread.
 */
#include "sink_kafka.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define H kk_host

int64_t producer_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Never echoes the value: it may be a resolved secret. */
static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t err_size)
{
    char why[512];

    if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) == RD_KAFKA_CONF_OK)
        return 0;
    snprintf(err, err_size, "kafka property %s: %s", name, why);
    return -1;
}

rd_kafka_conf_t *producer_conf_new(const kk_config *cfg, char *err, size_t err_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (!conf) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    /* Defaults first, so that properties may override them. */
    if (conf_set(conf, "partitioner", "murmur2_random", err, err_size) != 0 ||
        conf_set(conf, "linger.ms", "5", err, err_size) != 0 ||
        conf_set(conf, "queue.buffering.max.messages", "1000000", err, err_size) != 0 ||
        conf_set(conf, "socket.nagle.disable", "true", err, err_size) != 0 ||
        conf_set(conf, "client.id", "rdapsync", err, err_size) != 0)
        goto fail;
    for (size_t i = 0; i < cfg->properties.count; i++)
        if (conf_set(conf, cfg->properties.keys[i], cfg->properties.values[i], err, err_size) != 0)
            goto fail;
    if (conf_set(conf, "bootstrap.servers", cfg->brokers, err, err_size) != 0 ||
        conf_set(conf, "enable.idempotence", "true", err, err_size) != 0 ||
        conf_set(conf, "acks", "all", err, err_size) != 0)
        goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kk_state *s = opaque;

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        s->current.fatal = true;
        rd_kafka_fatal_error(rk, s->current.fatal_reason, sizeof(s->current.fatal_reason));
        return;
    }
    int64_t now = producer_now_ms();
    if (now - s->last_warn_ms < 10000)
        return;
    s->last_warn_ms = now;
    H->log(s->ctx, RDAPSYNC_LOG_WARN, "kafka: %s", reason);
}

/* librdkafka's own log lines (syslog levels), on librdkafka's threads. */
static void on_log(const rd_kafka_t *rk, int level, const char *facility, const char *line)
{
    kk_state *s = rd_kafka_opaque(rk);

    if (!s)
        return;
    /* librdkafka recovers from what it logs (reconnects, retries); what
     * the task must act on arrives through the error callback instead. */
    rdapsync_log_level lvl = level <= 4 ? RDAPSYNC_LOG_WARN : RDAPSYNC_LOG_DEBUG;
    H->log(s->ctx, lvl, "librdkafka %s: %s", facility, line);
}

int producer_open(kk_state *s, char *err, size_t err_size)
{
    char why[512];
    rd_kafka_conf_t *conf = producer_conf_new(s->cfg, err, err_size);

    if (!conf)
        return -1;
    rd_kafka_conf_set_opaque(conf, s);
    rd_kafka_conf_set_dr_msg_cb(conf, delivery_report);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    /* rd_kafka_new owns conf on success only. */
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (!s->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_size, "kafka producer: %s", why);
        return -1;
    }
    s->topic = rd_kafka_topic_new(s->rk, s->cfg->topic, NULL);
    if (!s->topic) {
        snprintf(err, err_size, "kafka topic %s: %s", s->cfg->topic, rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    return 0;
}

void producer_close(kk_state *s)
{
    if (!s->rk)
        return;
    /* Everything a successful write() produced is delivered already; what
     * is left belongs to a batch the host will write again after a
     * restart, so waiting long gains nothing. */
    if (rd_kafka_flush(s->rk, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(s->rk, 1000); /* serves the purged messages' reports, which free payloads */
    }
    delivery_reset(s);
    if (s->topic)
        rd_kafka_topic_destroy(s->topic);
    rd_kafka_destroy(s->rk);
    s->topic = NULL;
    s->rk = NULL;
}
