/*
 * The librdkafka consumer behind the source: its configuration and the
 * callbacks that tie rebalances and commits to the partition table.
 */
#include "source_kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define H ks_host

/* librdkafka 2.1.0: fetch.queue.backoff.ms, a full queue is retried after it. */
#define CLIENT_QUEUE_BACKOFF_VERSION 0x020100ff

int64_t client_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t client_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
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

rd_kafka_conf_t *client_conf_new(const ks_config *cfg, char *err, size_t err_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char number[32];

    if (!conf) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    /* Defaults first, so that properties may override them. */
    snprintf(number, sizeof(number), "%lld", (long long)cfg->session_timeout_ms);
    if (conf_set(conf, "session.timeout.ms", number, err, err_size) != 0 ||
        conf_set(conf, "fetch.wait.max.ms", "100", err, err_size) != 0 ||
        /* librdkafka's default prefetch (64 MB per consumer, fetch responses
         * of up to 50 MB) dwarfs a batch of 1,000 ~4 KB records. Two
         * batches queued keep a task fed while bounding memory; the poll
         * wakes the fetcher when it has drained a backlog (source_kafka.c),
         * so a small queue does not throttle. Fetch responses of 1 MB (a
         * quarter batch) rather than a whole one: each is a buffer of its
         * own until its last message is gone, and smaller ones stay under
         * the daemon's mmap threshold (cli/main.c), so they are reused
         * instead of faulted in afresh. */
        conf_set(conf, "queued.max.messages.kbytes", "8192", err, err_size) != 0 ||
        conf_set(conf, "fetch.max.bytes", "1048576", err, err_size) != 0 ||
        (rd_kafka_version() >= CLIENT_QUEUE_BACKOFF_VERSION &&
         conf_set(conf, "fetch.queue.backoff.ms", "10", err, err_size) != 0) ||
        conf_set(conf, "socket.nagle.disable", "true", err, err_size) != 0 ||
        conf_set(conf, "client.id", "rdapsync", err, err_size) != 0)
        goto fail;
    for (size_t i = 0; i < cfg->properties.count; i++)
        if (conf_set(conf, cfg->properties.keys[i], cfg->properties.values[i], err, err_size) != 0)
            goto fail;
    /* What the commit contract needs: nothing is committed or even stored
     * behind the host's back. */
    if (conf_set(conf, "bootstrap.servers", cfg->brokers, err, err_size) != 0 ||
        conf_set(conf, "group.id", cfg->group, err, err_size) != 0 ||
        conf_set(conf, "enable.auto.commit", "false", err, err_size) != 0 ||
        conf_set(conf, "enable.auto.offset.store", "false", err, err_size) != 0 ||
        conf_set(conf, "enable.partition.eof", "false", err, err_size) != 0 ||
        conf_set(conf, "auto.offset.reset", cfg->start == KS_START_LATEST ? "latest" : "earliest", err,
                 err_size) != 0)
        goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t why, rd_kafka_topic_partition_list_t *list,
                         void *opaque)
{
    ks_state *s = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;

    s->rebalances++;
    H->counter_add(s->ctx, "rebalances", 1);
    if (why == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        partitions_assign(s, list);
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, list);
        else
            rc = rd_kafka_assign(rk, list);
    } else {
        if (why != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "rebalance error: %s", rd_kafka_err2str(why));
        partitions_revoke(s, list, rd_kafka_assignment_lost(rk) != 0);
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, list);
        else
            rc = rd_kafka_assign(rk, NULL);
    }
    if (error) {
        H->log(s->ctx, RDAPSYNC_LOG_ERROR, "rebalance: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (rc) {
        H->log(s->ctx, RDAPSYNC_LOG_ERROR, "rebalance: %s", rd_kafka_err2str(rc));
    }
    H->gauge_set(s->ctx, "assigned_partitions", (double)partitions_assigned_count(s));
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets,
                      void *opaque)
{
    ks_state *s = opaque;

    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    if (err) {
        H->counter_add(s->ctx, "commit_errors", 1);
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "offset commit failed: %s (the records will be read again)",
               rd_kafka_err2str(err));
        return;
    }
    for (int i = 0; offsets && i < offsets->cnt; i++)
        if (offsets->elems[i].err)
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "offset commit of %s partition %d failed: %s",
                   offsets->elems[i].topic, (int)offsets->elems[i].partition,
                   rd_kafka_err2str(offsets->elems[i].err));
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    ks_state *s = opaque;

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        s->fatal = true;
        rd_kafka_fatal_error(rk, s->fatal_reason, sizeof(s->fatal_reason));
        return;
    }
    int64_t now = client_now_ms();
    if (now - s->last_warn_ms < 10000)
        return;
    s->last_warn_ms = now;
    H->log(s->ctx, RDAPSYNC_LOG_WARN, "kafka: %s", reason);
}

/* librdkafka's own log lines (syslog levels), on librdkafka's threads. */
static void on_log(const rd_kafka_t *rk, int level, const char *facility, const char *line)
{
    ks_state *s = rd_kafka_opaque(rk);

    if (!s)
        return;
    /* librdkafka recovers from what it logs (reconnects, retries); what
     * the task must act on arrives through the error callback instead. */
    rdapsync_log_level lvl = level <= 4 ? RDAPSYNC_LOG_WARN : RDAPSYNC_LOG_DEBUG;
    H->log(s->ctx, lvl, "librdkafka %s: %s", facility, line);
}

static int subscribe(ks_state *s, char *err, size_t err_size)
{
    const ks_config *cfg = s->cfg;
    size_t n = cfg->topic_pattern ? 1 : cfg->topics.count;
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new((int)n);

    if (cfg->topic_pattern) {
        /* librdkafka reads a subscription starting with ^ as a regex. */
        char *pattern = malloc(strlen(cfg->topic_pattern) + 2);
        if (!pattern) {
            rd_kafka_topic_partition_list_destroy(topics);
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        sprintf(pattern, "%s%s", cfg->topic_pattern[0] == '^' ? "" : "^", cfg->topic_pattern);
        rd_kafka_topic_partition_list_add(topics, pattern, RD_KAFKA_PARTITION_UA);
        free(pattern);
    } else {
        for (size_t i = 0; i < n; i++)
            rd_kafka_topic_partition_list_add(topics, cfg->topics.items[i], RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t rc = rd_kafka_subscribe(s->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (rc) {
        snprintf(err, err_size, "subscribe: %s", rd_kafka_err2str(rc));
        return -1;
    }
    return 0;
}

int client_open(ks_state *s, char *err, size_t err_size)
{
    char why[512];
    rd_kafka_conf_t *conf = client_conf_new(s->cfg, err, err_size);

    if (!conf)
        return -1;
    rd_kafka_conf_set_opaque(conf, s);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    /* rd_kafka_new owns conf on success only. */
    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (!s->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, err_size, "kafka consumer: %s", why);
        return -1;
    }
    rd_kafka_poll_set_consumer(s->rk);
    if (!(s->queue = rd_kafka_queue_get_consumer(s->rk))) {
        snprintf(err, err_size, "kafka consumer: no consumer queue");
        return -1;
    }
    s->wake_fetcher = rd_kafka_version() < CLIENT_QUEUE_BACKOFF_VERSION;
    return subscribe(s, err, err_size);
}

/* The consumer queue is forwarded to the close queue, so messages fetched
 * before the close arrive there too. rd_kafka_queue_poll_callback() aborts
 * the process on such a message (librdkafka asserts that every op it serves
 * as a callback is handled), so the queue is served as events: a revocation
 * goes to on_rebalance as it would have, fetched messages are dropped (they
 * were never handed to the host, so their offsets are not committed and the
 * next owner reads them again). */
static void serve_close_queue(ks_state *s, rd_kafka_queue_t *queue, int timeout_ms)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, timeout_ms);

    if (!ev)
        return;
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
        on_rebalance(s->rk, rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev), s);
    else if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_ERROR)
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "consumer close: %s", rd_kafka_event_error_string(ev));
    rd_kafka_event_destroy(ev);
}

/*
 * Gives the assignment up before the close. A revocation that reaches the
 * close queue is answered with rd_kafka_assign(), which waits for the
 * group's thread; when the group finishes terminating in between, that
 * answer never comes and the close hangs for good (librdkafka issue 4884,
 * open; seen here about once in ten closes during a rebalance, under
 * load). Revoked while still subscribed, through the consumer poll that
 * serves every other rebalance, the partitions are gone before the close
 * starts, and the close has nothing to revoke. Bounded like the close:
 * what is left then is revoked by the close as before.
 */
static void unsubscribe_first(ks_state *s)
{
    rd_kafka_resp_err_t err = rd_kafka_unsubscribe(s->rk);
    if (err) {
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "consumer close: unsubscribe: %s", rd_kafka_err2str(err));
        return;
    }
    int64_t deadline = client_now_ms() + s->cfg->commit_timeout_ms;
    while (partitions_assigned_count(s) > 0 && client_now_ms() < deadline) {
        /* Messages fetched before the revocation were never handed to the
         * host: dropped, not committed, read again by the next owner. */
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(s->rk, 100);
        if (msg)
            rd_kafka_message_destroy(msg);
    }
}

void client_close(ks_state *s)
{
    if (!s->rk)
        return;
    s->closing = true;
    /* Commits what the host acknowledged, then gives up the partitions and
     * leaves the group (the revocations commit nothing more: closing). */
    partitions_commit_all(s);
    unsubscribe_first(s);
    /* Leaving the group is bounded: a close during a rebalance may wait on
     * the coordinator, and a stopping task must not hang on it. */
    bool closed = false;
    rd_kafka_queue_t *queue = rd_kafka_queue_new(s->rk);
    rd_kafka_error_t *error = rd_kafka_consumer_close_queue(s->rk, queue);
    if (error) {
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "consumer close: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else {
        int64_t deadline = client_now_ms() + 2 * s->cfg->commit_timeout_ms;
        while (!(closed = rd_kafka_consumer_closed(s->rk)) && client_now_ms() < deadline)
            serve_close_queue(s, queue, 100);
        if (!closed)
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "consumer close: the group did not answer in %lld ms; leaving anyway",
                   (long long)(2 * s->cfg->commit_timeout_ms));
    }
    rd_kafka_queue_destroy(queue);
    if (s->queue)
        rd_kafka_queue_destroy(s->queue);
    s->queue = NULL;
    rd_kafka_destroy_flags(s->rk, closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    s->rk = NULL;
}
