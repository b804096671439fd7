/*
 * Per-partition bookkeeping: which partitions this consumer owns, what it
 * handed to the host, what the host acknowledged and what was committed.
 *
 * The SDK gives a source no way to make the host flush, so a revocation
 * (called from within rd_kafka_consumer_poll, on the task thread) commits
 * synchronously what the host has acknowledged and gives the partition up;
 * records of it that the host still holds are flushed by this task later
 * and read again by the new owner: at-least-once, absorbed by the version
 * guard. Their late commit() is ignored, since the partition is no longer
 * ours. When the same rebalance hands the partition back (eager protocol:
 * everything is revoked, then most of it reassigned), reading resumes after
 * what the host already holds instead of re-reading it.
 */
#include "source_kafka.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H ks_host

void last_delete_clear(ks_last_delete *d)
{
    free(d->message_key);
    free(d->key);
    free(d->origin);
    memset(d, 0, sizeof(*d));
}

ks_partition *partitions_find(ks_state *s, const char *topic, int32_t partition)
{
    if (s->last_part < s->part_count) {
        ks_partition *p = &s->parts[s->last_part];
        if (p->partition == partition && strcmp(p->topic, topic) == 0)
            return p;
    }
    for (size_t i = 0; i < s->part_count; i++) {
        ks_partition *p = &s->parts[i];
        if (p->partition == partition && strcmp(p->topic, topic) == 0) {
            s->last_part = i;
            return p;
        }
    }
    return NULL;
}

ks_partition *partitions_get(ks_state *s, const char *topic, int32_t partition)
{
    ks_partition *p = partitions_find(s, topic, partition);

    if (p)
        return p;
    if (s->part_count == s->part_capacity) {
        size_t cap = s->part_capacity ? s->part_capacity * 2 : 16;
        ks_partition *grown = realloc(s->parts, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        s->parts = grown;
        s->part_capacity = cap;
    }
    p = &s->parts[s->part_count];
    memset(p, 0, sizeof(*p));
    if (!(p->topic = strdup(topic)))
        return NULL;
    p->partition = partition;
    p->committed = p->acked = p->delivered = p->recorded = -1;
    s->last_part = s->part_count++;
    return p;
}

void partitions_free(ks_state *s)
{
    for (size_t i = 0; i < s->part_count; i++) {
        free(s->parts[i].topic);
        last_delete_clear(&s->parts[i].last_delete);
        stamps_free(&s->parts[i].stamps);
    }
    free(s->parts);
    s->parts = NULL;
    s->part_count = s->part_capacity = 0;
}

size_t partitions_assigned_count(const ks_state *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->part_count; i++)
        n += s->parts[i].assigned;
    return n;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Offsets committed for the group, filled into a copy of `list`; NULL when
 * the coordinator could not answer in time (then librdkafka looks them up
 * itself when fetching starts). */
static rd_kafka_topic_partition_list_t *committed_offsets(ks_state *s, const rd_kafka_topic_partition_list_t *list)
{
    rd_kafka_topic_partition_list_t *copy = rd_kafka_topic_partition_list_copy(list);
    rd_kafka_resp_err_t rc = rd_kafka_committed(s->rk, copy, (int)s->cfg->commit_timeout_ms);

    if (rc) {
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "committed offsets lookup failed: %s", rd_kafka_err2str(rc));
        rd_kafka_topic_partition_list_destroy(copy);
        return NULL;
    }
    return copy;
}

void partitions_assign(ks_state *s, rd_kafka_topic_partition_list_t *list)
{
    rd_kafka_topic_partition_list_t *committed = committed_offsets(s, list);
    rd_kafka_topic_partition_list_t *catch_up = rd_kafka_topic_partition_list_new(list->cnt);

    for (int i = 0; i < list->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &list->elems[i];
        ks_partition *p = partitions_get(s, tp->topic, tp->partition);
        if (!p)
            continue; /* out of memory: librdkafka still starts at the committed offset */
        int64_t group = -1;
        if (committed && committed->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && committed->elems[i].offset >= 0)
            group = committed->elems[i].offset;
        int64_t host = -1;
        if (s->cfg->host_checkpoints && H->checkpoint_get(s->ctx, tp->topic, tp->partition, &host) && host > group)
            rd_kafka_topic_partition_list_add(catch_up, tp->topic, tp->partition)->offset = host;
        int64_t flushed = max64(group, host);
        int64_t start = p->retained ? max64(flushed, p->delivered) : flushed;
        /* Explicit only when ahead of the group's offset; otherwise the
         * committed offset (or `start`) applies as usual. */
        if (start > group)
            tp->offset = start;
        p->assigned = true;
        if (!p->retained)
            p->recorded = -1; /* the host holds none of its records */
        p->retained = false;
        p->committed = flushed;
        p->acked = p->committed;
        p->delivered = start;
        stamps_clear(&p->stamps);
        H->log(s->ctx, RDAPSYNC_LOG_INFO, "assigned %s partition %d at %s%" PRId64 " (group %" PRId64
               ", task checkpoint %" PRId64 ")", tp->topic, (int)tp->partition, start >= 0 ? "offset " : "",
               start, group, host);
    }
    /* A retained partition that did not come back is someone else's now. */
    for (size_t i = 0; i < s->part_count; i++)
        if (s->parts[i].retained) {
            s->parts[i].retained = false;
            s->parts[i].delivered = -1;
            last_delete_clear(&s->parts[i].last_delete);
        }
    /* The task's own checkpoint was ahead (its commit to Kafka did not
     * happen before a crash): tell the group, so that another member
     * taking the partition over starts there too. */
    if (catch_up->cnt > 0)
        rd_kafka_commit(s->rk, catch_up, 1);
    rd_kafka_topic_partition_list_destroy(catch_up);
    if (committed)
        rd_kafka_topic_partition_list_destroy(committed);
}

/* Synchronous commit of `list`; logs failures. */
static void commit_sync(ks_state *s, rd_kafka_topic_partition_list_t *list, const char *why)
{
    if (list->cnt == 0)
        return;
    rd_kafka_resp_err_t rc = rd_kafka_commit(s->rk, list, 0);
    if (rc && rc != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        H->counter_add(s->ctx, "commit_errors", 1);
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "commit on %s failed: %s (the records will be read again)", why,
               rd_kafka_err2str(rc));
    }
}

void partitions_revoke(ks_state *s, const rd_kafka_topic_partition_list_t *list, bool lost)
{
    rd_kafka_topic_partition_list_t *commit = rd_kafka_topic_partition_list_new(list ? list->cnt : 0);

    for (int i = 0; list && i < list->cnt; i++) {
        ks_partition *p = partitions_find(s, list->elems[i].topic, list->elems[i].partition);
        if (!p || !p->assigned)
            continue;
        /* Re-committing the latest acknowledged offset synchronously makes
         * sure an asynchronous commit still in flight is not the last word.
         * On close, client_close() did it before leaving: librdkafka 2.0
         * asserts when a commit is still pending as its group terminates. */
        if (!lost && !s->closing && p->acked >= 0)
            rd_kafka_topic_partition_list_add(commit, p->topic, p->partition)->offset = p->acked;
        H->log(s->ctx, RDAPSYNC_LOG_INFO, "%s %s partition %d (acknowledged up to %" PRId64 ", handed over up to %" PRId64
               ")", lost ? "lost" : "revoked", p->topic, (int)p->partition, p->acked, p->delivered);
        p->assigned = false;
        p->retained = !lost && !s->closing;
        if (!p->retained) {
            p->delivered = -1;
            last_delete_clear(&p->last_delete);
        }
        stamps_clear(&p->stamps);
    }
    commit_sync(s, commit, "revocation");
    rd_kafka_topic_partition_list_destroy(commit);
}

void partitions_commit(ks_state *s, const rdapsync_position *positions, size_t count)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)count);
    int64_t now = client_wall_ms();
    uint64_t ignored = 0;

    for (size_t i = 0; i < count; i++) {
        const rdapsync_position *pos = &positions[i];
        ks_partition *p = pos->stream ? partitions_find(s, pos->stream, pos->partition) : NULL;
        if (!p || !p->assigned) {
            ignored++;
            continue;
        }
        stamps_settle(&p->stamps, pos->offset, s->latency, now);
        if (pos->offset > p->acked)
            p->acked = pos->offset;
        /* Offsets never go back: the host may acknowledge an older position
         * of a partition read again after a rebalance. */
        if (p->acked > p->committed) {
            rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset = p->acked;
            p->committed = p->acked;
        }
    }
    /* Partitions whose messages since their last record were all skipped
     * (Debezium heartbeats, transaction metadata): once the host has
     * acknowledged that record, the skipped ones are done too. A topic that
     * carries only skipped messages is committed this way, with the next
     * commit of the task. */
    for (size_t i = 0; i < s->part_count; i++) {
        ks_partition *p = &s->parts[i];
        if (!p->assigned || p->delivered <= p->committed || p->recorded > p->acked)
            continue;
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(list, p->topic, p->partition);
        if (!tp)
            tp = rd_kafka_topic_partition_list_add(list, p->topic, p->partition);
        tp->offset = p->delivered;
        p->acked = p->committed = p->delivered;
    }
    if (list->cnt > 0) {
        rd_kafka_resp_err_t rc = rd_kafka_commit(s->rk, list, 1);
        if (rc) {
            H->counter_add(s->ctx, "commit_errors", 1);
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "offset commit: %s", rd_kafka_err2str(rc));
        } else {
            H->counter_add(s->ctx, "commits", 1);
        }
    }
    if (ignored)
        H->counter_add(s->ctx, "commits_of_revoked_partitions", ignored);
    rd_kafka_topic_partition_list_destroy(list);
}

void partitions_commit_all(ks_state *s)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)s->part_count);

    for (size_t i = 0; i < s->part_count; i++) {
        ks_partition *p = &s->parts[i];
        if (p->assigned && p->acked >= 0)
            rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset = p->acked;
    }
    commit_sync(s, list, "close");
    rd_kafka_topic_partition_list_destroy(list);
}

void partitions_report_lag(ks_state *s)
{
    int64_t now = client_now_ms();
    double lag = 0;
    bool known = false;

    if (now - s->lag_gauge_ms < 500)
        return;
    s->lag_gauge_ms = now;
    for (size_t i = 0; i < s->part_count; i++) {
        const ks_partition *p = &s->parts[i];
        int64_t low = 0, high = 0;
        int64_t base = p->committed >= 0 ? p->committed : p->delivered;
        if (!p->assigned || base < 0)
            continue;
        /* The cached values of the last fetch response: no broker call. */
        if (rd_kafka_get_watermark_offsets(s->rk, p->topic, p->partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            high < 0)
            continue;
        known = true;
        if (high > base)
            lag += (double)(high - base);
    }
    if (known)
        H->gauge_set(s->ctx, "consumer_lag", lag);
}
