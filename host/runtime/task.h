/*
 * A task: one thread's worth of one pipeline (task index i of `tasks`),
 * running source -> transforms -> sink in batches, with dead-lettering,
 * retries and checkpoints. The supervisor creates one per attempt and runs
 * it on its own thread; tests run it on theirs with hand-built descriptors.
 *
 * One cycle:
 *   poll until max_records / max_bytes / max_wait
 *   -> bad records (record_set_bad) to the dead-letter path
 *   -> each transform in order on each record (ERROR: dead letter, DROP: consumed)
 *   -> sink write + dead-letter sink write + flush + sink flush (RETRY:
 *      back off, write the same batch again, flush)
 *   -> checkpoint file -> source commit
 * Cycles overlap: the sink's half runs on the task's flusher thread
 * (task_flush.c) while the task thread polls and transforms the next
 * batch; a cycle is checkpointed and committed before the next one is
 * handed to the flusher, so at most two batches are alive.
 * A position is committed only after every record before it was flushed by
 * the sink or the dead-letter sink.
 */
#ifndef RDAPSYNC_HOST_TASK_H
#define RDAPSYNC_HOST_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#include "base/metrics.h"
#include "config/config.h"

struct task;

typedef enum task_result {
    TASK_RESULT_FINISHED = 0, /* the source answered END and everything was delivered */
    TASK_RESULT_STOPPED = 1,  /* a stop was requested; the last batch was delivered (or not started) */
    TASK_RESULT_FAILED = 2    /* see task_error() */
} task_result;

/*
 * `pipeline` and its plugin blocks are borrowed until task_free();
 * `state_dir` is copied; `stats` is borrowed and may be NULL. Plugin
 * descriptors may be real loaded ones or built in-process (tests).
 * Caller frees with task_free().
 */
struct task *task_new(const pipeline_config *pipeline, int task_index, const char *state_dir, task_stats *stats);
void task_free(struct task *t);

/* Opens the plugins (dead-letter sink, sink, transforms, source), runs
 * cycles until END, a stop request or a failure, delivers what it holds
 * when asked to stop, and closes everything in reverse order. Call once. */
task_result task_run(struct task *t);
/* The reason of a FAILED result (borrowed; "" otherwise). */
const char *task_error(const struct task *t);

/* True once task_run() got every plugin open. */
bool task_started(const struct task *t);
/* True when task_run() failed because a plugin's open answered ERROR. That
 * is permanent (abi.h): opening again with the same options would fail the
 * same way, so the supervisor does not restart the task. What may pass (a
 * server not up yet) is answered RETRY, which the task retries itself. */
bool task_open_refused(const struct task *t);

/* Any thread: asks the task to stop polling, deliver and return. Wakes a
 * backoff wait at once. */
void task_request_stop(struct task *t);
bool task_stopping(const struct task *t);

/* Test hooks: the task's checkpoint map (borrowed), and the clock that
 * batch deadlines (max_wait) are measured with (monotonic ms; NULL
 * restores the real one). Backoff waits always use the real clock. */
const struct checkpoint_map *task_checkpoints(const struct task *t);
void task_test_set_clock(int64_t (*now_ms)(void));
/* Tests: run transforms [0, split) on the task thread and the rest on the
 * transform thread (batch.transform_thread), instead of the measured
 * split; -1 goes back to measuring. */
void task_test_set_transform_split(int split);
/* Tests: with a pinned split, the share of records (0..1) on which the
 * task thread runs stages [0, hi) instead (stage n, after the n
 * transforms, is the compaction), when stages [split, hi) may overlap. */
void task_test_set_transform_share(int hi, double share);

#endif
