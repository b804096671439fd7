/*
 * Numbers the host keeps for /metrics and /status: per-task statistics
 * (task_stats, one per supervised task slot, surviving restarts) and the
 * counters and gauges plugins add through host->counter_add / gauge_set.
 * Every function here is thread-safe: task threads write, the HTTP endpoint
 * reads snapshots.
 */
#ifndef RDAPSYNC_HOST_METRICS_H
#define RDAPSYNC_HOST_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#include "base/rate_ring.h"

typedef enum task_state {
    TASK_STARTING = 0,   /* opening plugins */
    TASK_RUNNING = 1,    /* polling / delivering */
    TASK_RETRYING = 2,   /* backing off after a RETRY answer */
    TASK_RESTARTING = 3, /* failed; waiting out the restart backoff */
    TASK_DRAINING = 4,   /* stop requested or input ended: delivering the last batch */
    TASK_FINISHED = 5,   /* ended cleanly (END or stop) */
    TASK_FAILED = 6      /* restart limit reached: circuit open, for good */
} task_state;

/* Static string: "starting", "running", ...; never NULL. */
const char *task_state_str(task_state state);

typedef enum error_stage { STAGE_SOURCE = 0, STAGE_TRANSFORM = 1, STAGE_SINK = 2, STAGE_COUNT = 3 } error_stage;
/* "source", "transform", "sink". */
const char *error_stage_str(error_stage stage);

/* What one batch added; summed into the task's totals. */
typedef struct task_counts {
    uint64_t records_in;      /* handed over by the source */
    uint64_t records_out;     /* stored by the sink (written, flushed, not rejected) */
    uint64_t dead_lettered;   /* sent to the dead-letter sink (or logged when none) */
    uint64_t dropped;         /* DROP from a transform */
    uint64_t errors[STAGE_COUNT]; /* per-record errors by stage */
} task_counts;

typedef struct task_stats task_stats;

/* Registered in a process-wide list (metrics_task_each) until freed.
 * Caller frees with task_stats_free(). */
task_stats *task_stats_new(const char *pipeline, int task_index);
void task_stats_free(task_stats *stats);

void task_stats_set_state(task_stats *stats, task_state state);
task_state task_stats_state(const task_stats *stats);
void task_stats_add(task_stats *stats, const task_counts *delta);
/* The last task-level error (copied, one line); NULL clears it. */
void task_stats_set_error(task_stats *stats, const char *message);
void task_stats_count_restart(task_stats *stats);
void task_stats_count_retry(task_stats *stats);
/* One delivered batch and how long sink write + flush took. */
void task_stats_count_batch(task_stats *stats, uint64_t write_latency_us);

/* The batch write latency histogram: upper bounds in seconds of its
 * buckets, ascending; one more bucket (+Inf) follows the last bound. */
#define METRICS_LATENCY_BOUNDS 15
extern const double metrics_latency_bounds[METRICS_LATENCY_BOUNDS];
/* The bucket of a latency: 0..METRICS_LATENCY_BOUNDS (the last is +Inf). */
size_t metrics_latency_bucket(uint64_t latency_us);
/* A checkpoint was written at wall time `time_ms` holding `positions` (copied). */
void task_stats_checkpointed(task_stats *stats, int64_t time_ms, const rdapsync_position *positions, size_t count);

typedef struct task_stats_snapshot {
    char *pipeline; /* owned */
    int task_index;
    task_state state;
    task_counts counts;
    uint64_t restarts;
    uint64_t retries;
    uint64_t batches;
    uint64_t last_write_latency_us;
    uint64_t total_write_latency_us;
    /* Batches per latency bucket (not cumulative); the last is +Inf. */
    uint64_t write_latency_buckets[METRICS_LATENCY_BOUNDS + 1];
    char *last_error;              /* owned; NULL if none */
    int64_t last_checkpoint_ms;    /* wall clock; 0 if never */
    rdapsync_position *positions;  /* owned array, stream strings owned */
    size_t position_count;
    /* Records delivered (out + dead_lettered + dropped) per second: now,
     * and between the samples of the last ~10 minutes, oldest first
     * (rate_ring.h: one sample per task_stats_add or snapshot at least
     * RATE_RING_INTERVAL_MS after the previous one). */
    double records_per_second;
    double rates[RATE_RING_SLOTS];
    size_t rate_count;
} task_stats_snapshot;

/* Copies the current values; 0, or -1 on allocation failure. Free with
 * task_stats_snapshot_free(). */
int task_stats_snapshot_take(task_stats *stats, task_stats_snapshot *out);
void task_stats_snapshot_free(task_stats_snapshot *snapshot);

/* Calls fn for every live task_stats, in creation order, under the registry
 * lock: fn must not create or free task_stats. */
void metrics_task_each(void (*fn)(task_stats *stats, void *opaque), void *opaque);

/* ---- plugin metrics ---- */

typedef struct plugin_metric plugin_metric;

/* The metric named by these labels, created on first use; the pointer is
 * valid until metrics_plugin_reset(). NULL on allocation failure. */
plugin_metric *metrics_plugin_metric(const char *pipeline, int task, const char *plugin, const char *name,
                                     bool counter);
void metrics_plugin_add(plugin_metric *metric, uint64_t delta);
void metrics_plugin_set(plugin_metric *metric, double value);

typedef struct plugin_metric_view {
    const char *pipeline, *plugin, *name; /* borrowed for the callback */
    int task;
    bool counter;
    double value;
} plugin_metric_view;

void metrics_plugin_each(void (*fn)(const plugin_metric_view *view, void *opaque), void *opaque);
/* Forgets every plugin metric (tests only: pointers become invalid). */
void metrics_plugin_reset(void);

#endif
