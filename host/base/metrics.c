/*
 * Task statistics and plugin metrics. Writers are task threads (a few
 * updates per batch); readers are the HTTP endpoint and tests. A mutex per
 * task_stats keeps snapshots consistent; plugin metrics are atomics found
 * once through a locked registry and then updated lock-free.
 */
#include "base/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

const char *task_state_str(task_state state)
{
    switch (state) {
    case TASK_STARTING: return "starting";
    case TASK_RUNNING: return "running";
    case TASK_RETRYING: return "retrying";
    case TASK_RESTARTING: return "restarting";
    case TASK_DRAINING: return "draining";
    case TASK_FINISHED: return "finished";
    case TASK_FAILED: return "failed";
    }
    return "unknown";
}

const char *error_stage_str(error_stage stage)
{
    switch (stage) {
    case STAGE_SOURCE: return "source";
    case STAGE_TRANSFORM: return "transform";
    case STAGE_SINK: return "sink";
    case STAGE_COUNT: break;
    }
    return "unknown";
}

struct task_stats {
    pthread_mutex_t lock;
    char *pipeline;
    int task_index;
    task_state state;
    task_counts counts;
    uint64_t restarts, retries, batches;
    uint64_t last_write_latency_us, total_write_latency_us;
    uint64_t write_latency_buckets[METRICS_LATENCY_BOUNDS + 1];
    char *last_error;
    int64_t last_checkpoint_ms;
    rdapsync_position *positions;
    size_t position_count;
    rate_ring delivered; /* samples of out + dead_lettered + dropped */
    task_stats *next; /* registry list */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static task_stats *registry_head;

static uint64_t delivered(const task_counts *c) { return c->records_out + c->dead_lettered + c->dropped; }

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

task_stats *task_stats_new(const char *pipeline, int task_index)
{
    task_stats *stats = calloc(1, sizeof(*stats));

    if (!stats)
        return NULL;
    stats->pipeline = strdup(pipeline ? pipeline : "");
    if (!stats->pipeline) {
        free(stats);
        return NULL;
    }
    pthread_mutex_init(&stats->lock, NULL);
    stats->task_index = task_index;
    stats->state = TASK_STARTING;
    rate_ring_note(&stats->delivered, rate_ring_now_ms(), 0); /* the first rate starts here */

    pthread_mutex_lock(&registry_lock);
    task_stats **tail = &registry_head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = stats;
    pthread_mutex_unlock(&registry_lock);
    return stats;
}

static void free_positions(rdapsync_position *positions, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free((char *)positions[i].stream);
    free(positions);
}

void task_stats_free(task_stats *stats)
{
    if (!stats)
        return;
    pthread_mutex_lock(&registry_lock);
    for (task_stats **p = &registry_head; *p; p = &(*p)->next) {
        if (*p == stats) {
            *p = stats->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    free_positions(stats->positions, stats->position_count);
    free(stats->last_error);
    free(stats->pipeline);
    pthread_mutex_destroy(&stats->lock);
    free(stats);
}

void task_stats_set_state(task_stats *stats, task_state state)
{
    if (!stats)
        return;
    pthread_mutex_lock(&stats->lock);
    /* FAILED is final: the circuit stays open. */
    if (stats->state != TASK_FAILED)
        stats->state = state;
    pthread_mutex_unlock(&stats->lock);
}

task_state task_stats_state(const task_stats *stats)
{
    task_state state;
    pthread_mutex_lock((pthread_mutex_t *)&stats->lock);
    state = stats->state;
    pthread_mutex_unlock((pthread_mutex_t *)&stats->lock);
    return state;
}

void task_stats_add(task_stats *stats, const task_counts *delta)
{
    if (!stats)
        return;
    pthread_mutex_lock(&stats->lock);
    stats->counts.records_in += delta->records_in;
    stats->counts.records_out += delta->records_out;
    stats->counts.dead_lettered += delta->dead_lettered;
    stats->counts.dropped += delta->dropped;
    for (int i = 0; i < STAGE_COUNT; i++)
        stats->counts.errors[i] += delta->errors[i];
    rate_ring_note(&stats->delivered, rate_ring_now_ms(), delivered(&stats->counts));
    pthread_mutex_unlock(&stats->lock);
}

void task_stats_set_error(task_stats *stats, const char *message)
{
    if (!stats)
        return;
    char *copy = dup_or_null(message);
    pthread_mutex_lock(&stats->lock);
    free(stats->last_error);
    stats->last_error = copy;
    pthread_mutex_unlock(&stats->lock);
}

void task_stats_count_restart(task_stats *stats)
{
    if (!stats)
        return;
    pthread_mutex_lock(&stats->lock);
    stats->restarts++;
    pthread_mutex_unlock(&stats->lock);
}

void task_stats_count_retry(task_stats *stats)
{
    if (!stats)
        return;
    pthread_mutex_lock(&stats->lock);
    stats->retries++;
    pthread_mutex_unlock(&stats->lock);
}

/* From a fast local sink (~1 ms) to a write that waited out retries. */
const double metrics_latency_bounds[METRICS_LATENCY_BOUNDS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                               0.5,   1,      2.5,   5,    10,    30,   60};

size_t metrics_latency_bucket(uint64_t latency_us)
{
    double seconds = (double)latency_us / 1e6;
    size_t i = 0;
    while (i < METRICS_LATENCY_BOUNDS && seconds > metrics_latency_bounds[i])
        i++;
    return i;
}

void task_stats_count_batch(task_stats *stats, uint64_t write_latency_us)
{
    if (!stats)
        return;
    size_t bucket = metrics_latency_bucket(write_latency_us);
    pthread_mutex_lock(&stats->lock);
    stats->write_latency_buckets[bucket]++;
    stats->batches++;
    stats->last_write_latency_us = write_latency_us;
    stats->total_write_latency_us += write_latency_us;
    pthread_mutex_unlock(&stats->lock);
}

static rdapsync_position *copy_positions(const rdapsync_position *positions, size_t count)
{
    rdapsync_position *out;

    if (count == 0)
        return NULL;
    out = calloc(count, sizeof(*out));
    if (!out)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        out[i] = positions[i];
        out[i].stream = NULL;
        if (positions[i].stream && !(out[i].stream = strdup(positions[i].stream))) {
            free_positions(out, i);
            return NULL;
        }
    }
    return out;
}

void task_stats_checkpointed(task_stats *stats, int64_t time_ms, const rdapsync_position *positions, size_t count)
{
    if (!stats)
        return;
    rdapsync_position *copy = copy_positions(positions, count);
    if (count && !copy)
        count = 0;
    pthread_mutex_lock(&stats->lock);
    free_positions(stats->positions, stats->position_count);
    stats->positions = copy;
    stats->position_count = count;
    stats->last_checkpoint_ms = time_ms;
    pthread_mutex_unlock(&stats->lock);
}

int task_stats_snapshot_take(task_stats *stats, task_stats_snapshot *out)
{
    int64_t now_ms = rate_ring_now_ms();

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&stats->lock);
    /* Reads sample too, so an idle task's rate falls to 0 on the page. */
    rate_ring_note(&stats->delivered, now_ms, delivered(&stats->counts));
    out->records_per_second = rate_ring_current(&stats->delivered, now_ms, delivered(&stats->counts));
    out->rate_count = rate_ring_rates(&stats->delivered, now_ms, delivered(&stats->counts), out->rates);
    out->pipeline = strdup(stats->pipeline);
    out->task_index = stats->task_index;
    out->state = stats->state;
    out->counts = stats->counts;
    out->restarts = stats->restarts;
    out->retries = stats->retries;
    out->batches = stats->batches;
    out->last_write_latency_us = stats->last_write_latency_us;
    out->total_write_latency_us = stats->total_write_latency_us;
    memcpy(out->write_latency_buckets, stats->write_latency_buckets, sizeof(out->write_latency_buckets));
    out->last_error = dup_or_null(stats->last_error);
    out->last_checkpoint_ms = stats->last_checkpoint_ms;
    out->positions = copy_positions(stats->positions, stats->position_count);
    out->position_count = out->positions ? stats->position_count : 0;
    int failed = !out->pipeline || (stats->last_error && !out->last_error) ||
                 (stats->position_count && !out->positions);
    pthread_mutex_unlock(&stats->lock);
    if (failed) {
        task_stats_snapshot_free(out);
        return -1;
    }
    return 0;
}

void task_stats_snapshot_free(task_stats_snapshot *snapshot)
{
    if (!snapshot)
        return;
    free(snapshot->pipeline);
    free(snapshot->last_error);
    free_positions(snapshot->positions, snapshot->position_count);
    memset(snapshot, 0, sizeof(*snapshot));
}

void metrics_task_each(void (*fn)(task_stats *stats, void *opaque), void *opaque)
{
    pthread_mutex_lock(&registry_lock);
    for (task_stats *s = registry_head; s; s = s->next)
        fn(s, opaque);
    pthread_mutex_unlock(&registry_lock);
}

/* ---- plugin metrics ---- */

struct plugin_metric {
    char *pipeline, *plugin, *name;
    int task;
    bool counter;
    _Atomic uint64_t value; /* counter total, or the gauge's double bits */
    plugin_metric *next;
};

static pthread_mutex_t plugin_lock = PTHREAD_MUTEX_INITIALIZER;
static plugin_metric *plugin_head;

static bool same(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

plugin_metric *metrics_plugin_metric(const char *pipeline, int task, const char *plugin, const char *name,
                                     bool counter)
{
    plugin_metric *m;

    pthread_mutex_lock(&plugin_lock);
    for (m = plugin_head; m; m = m->next)
        if (m->task == task && m->counter == counter && same(m->name, name) && same(m->plugin, plugin) &&
            same(m->pipeline, pipeline))
            goto done;
    m = calloc(1, sizeof(*m));
    if (!m)
        goto done;
    m->pipeline = strdup(pipeline ? pipeline : "");
    m->plugin = strdup(plugin ? plugin : "");
    m->name = strdup(name ? name : "");
    if (!m->pipeline || !m->plugin || !m->name) {
        free(m->pipeline);
        free(m->plugin);
        free(m->name);
        free(m);
        m = NULL;
        goto done;
    }
    m->task = task;
    m->counter = counter;
    m->next = plugin_head;
    plugin_head = m;
done:
    pthread_mutex_unlock(&plugin_lock);
    return m;
}

void metrics_plugin_add(plugin_metric *metric, uint64_t delta)
{
    if (metric)
        atomic_fetch_add(&metric->value, delta);
}

void metrics_plugin_set(plugin_metric *metric, double value)
{
    uint64_t bits;
    if (!metric)
        return;
    memcpy(&bits, &value, sizeof(bits));
    atomic_store(&metric->value, bits);
}

void metrics_plugin_each(void (*fn)(const plugin_metric_view *view, void *opaque), void *opaque)
{
    pthread_mutex_lock(&plugin_lock);
    for (plugin_metric *m = plugin_head; m; m = m->next) {
        plugin_metric_view view = {m->pipeline, m->plugin, m->name, m->task, m->counter, 0};
        uint64_t bits = atomic_load(&m->value);
        if (m->counter)
            view.value = (double)bits;
        else
            memcpy(&view.value, &bits, sizeof(bits));
        fn(&view, opaque);
    }
    pthread_mutex_unlock(&plugin_lock);
}

void metrics_plugin_reset(void)
{
    pthread_mutex_lock(&plugin_lock);
    while (plugin_head) {
        plugin_metric *next = plugin_head->next;
        free(plugin_head->pipeline);
        free(plugin_head->plugin);
        free(plugin_head->name);
        free(plugin_head);
        plugin_head = next;
    }
    pthread_mutex_unlock(&plugin_lock);
}
