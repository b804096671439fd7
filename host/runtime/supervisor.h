/*
 * A supervisor runs one pipeline: `tasks` slots, each a thread that runs a
 * task and restarts it when it fails, with exponential backoff and jitter
 * (restart settings). After max_failures failures within window the slot's
 * state becomes FAILED for good (the circuit stays open); a task that
 * finishes (END) or is stopped leaves its slot FINISHED.
 */
#ifndef RDAPSYNC_HOST_SUPERVISOR_H
#define RDAPSYNC_HOST_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/metrics.h"
#include "config/config.h"

typedef struct supervisor supervisor;

/* Called on a slot's thread when that slot ends for good (FINISHED or
 * FAILED); must be async-safe enough to write to a pipe and return. */
typedef void (*supervisor_notify_fn)(void *opaque);

/*
 * Starts the slot threads. `pipeline` is borrowed until supervisor_free();
 * `state_dir` is copied. `notify` may be NULL. Returns NULL if a thread
 * could not be started (the ones started are stopped again).
 * Threads inherit the caller's signal mask.
 */
supervisor *supervisor_start(const pipeline_config *pipeline, const char *state_dir, supervisor_notify_fn notify,
                             void *opaque);
/* Asks every slot to stop: running tasks drain, restart waits end. Returns at once. */
void supervisor_stop(supervisor *sup);
/* True once every slot has ended. */
bool supervisor_done(supervisor *sup);
/* True if a slot ended FAILED (circuit open). */
bool supervisor_failed(supervisor *sup);
/* True if a slot ended FAILED without its task ever having opened its plugins. */
bool supervisor_failed_to_start(supervisor *sup);
/* Stops, joins every thread, frees. NULL-safe. */
void supervisor_free(supervisor *sup);

const pipeline_config *supervisor_pipeline(const supervisor *sup);
size_t supervisor_task_count(const supervisor *sup);
/* Borrowed, valid until supervisor_free(); thread-safe to read (metrics.h). */
task_stats *supervisor_task_stats(supervisor *sup, size_t index);

/*
 * The give-up rule, as a pure function of failure times: records a failure
 * at now_ms and answers whether max_failures failures (this one included)
 * fall within the last window_ms. max_failures <= 0 never gives up.
 * `times` holds up to max_failures entries (ring buffer); *count is how
 * many are used.
 */
typedef struct restart_history {
    int64_t *times; /* owned; max_failures entries */
    size_t capacity;
    size_t count;
    size_t next;
} restart_history;

int restart_history_init(restart_history *history, int64_t max_failures);
void restart_history_free(restart_history *history);
bool restart_history_record(restart_history *history, int64_t now_ms, int64_t window_ms);
/* How many recorded failures fall within (now_ms - window_ms, now_ms]. */
size_t restart_history_recent(const restart_history *history, int64_t now_ms, int64_t window_ms);

/* Test hook: the monotonic clock (ms) the restart window is measured with;
 * NULL restores the real one. */
void supervisor_test_set_clock(int64_t (*now_ms)(void));

#endif
