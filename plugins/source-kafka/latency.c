/*
 * End-to-end latency: from the producer's timestamp of a message to the
 * moment the host acknowledges it through commit() (sink flushed, task
 * checkpoint written). Reported as gauges every few seconds and as one log
 * line when the source closes. Only messages with a timestamp count.
 */
#include "source_kafka.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define H ks_host

int stamps_push(ks_stamps *st, int64_t offset, int64_t timestamp_ms)
{
    if (st->count == st->capacity) {
        size_t cap = st->capacity ? st->capacity * 2 : 256;
        ks_stamp *grown = malloc(cap * sizeof(*grown));
        if (!grown)
            return -1;
        for (size_t i = 0; i < st->count; i++)
            grown[i] = st->items[(st->head + i) % st->capacity];
        free(st->items);
        st->items = grown;
        st->head = 0;
        st->capacity = cap;
    }
    st->items[(st->head + st->count) % st->capacity] = (ks_stamp){offset, timestamp_ms};
    st->count++;
    return 0;
}

static void latency_add(ks_latency *lat, int64_t ms)
{
    if (ms < 0)
        ms = 0; /* producer clock ahead of ours */
    if (ms < KS_LATENCY_FINE)
        lat->fine[ms]++;
    else if (ms / 1000 - 10 < KS_LATENCY_COARSE)
        lat->coarse[ms / 1000 - 10]++;
    else
        lat->overflow++;
    lat->count++;
    if (ms > lat->max_ms)
        lat->max_ms = ms;
}

void stamps_settle(ks_stamps *st, int64_t offset, ks_latency *lat, int64_t now_wall_ms)
{
    while (st->count && st->items[st->head].offset <= offset) {
        latency_add(lat, now_wall_ms - st->items[st->head].timestamp_ms);
        st->head = (st->head + 1) % st->capacity;
        st->count--;
    }
}

void stamps_clear(ks_stamps *st)
{
    st->head = 0;
    st->count = 0;
}

void stamps_free(ks_stamps *st)
{
    free(st->items);
    memset(st, 0, sizeof(*st));
}

int64_t latency_quantile(const ks_latency *lat, double q)
{
    if (lat->count == 0)
        return -1;
    uint64_t rank = (uint64_t)(q * (double)lat->count);
    if (rank >= lat->count)
        rank = lat->count - 1;
    uint64_t seen = 0;
    for (int64_t i = 0; i < KS_LATENCY_FINE; i++)
        if ((seen += lat->fine[i]) > rank)
            return i;
    for (int64_t i = 0; i < KS_LATENCY_COARSE; i++)
        if ((seen += lat->coarse[i]) > rank)
            return (i + 10) * 1000;
    return lat->max_ms;
}

void latency_report(ks_state *s, bool final)
{
    ks_latency *lat = s->latency;
    int64_t now = client_now_ms();

    if (lat->count == 0 || (!final && now - lat->last_gauge_ms < 5000))
        return;
    lat->last_gauge_ms = now;
    int64_t p50 = latency_quantile(lat, 0.50), p99 = latency_quantile(lat, 0.99);
    H->gauge_set(s->ctx, "end_to_end_latency_p50_ms", (double)p50);
    H->gauge_set(s->ctx, "end_to_end_latency_p99_ms", (double)p99);
    if (final)
        H->log(s->ctx, RDAPSYNC_LOG_INFO,
               "end-to-end latency (producer timestamp to commit) over %" PRIu64 " records: p50 %" PRId64
               " ms, p90 %" PRId64 " ms, p99 %" PRId64 " ms, max %" PRId64 " ms",
               lat->count, p50, latency_quantile(lat, 0.90), p99, lat->max_ms);
}
