/*
 * The transform stage of a task (task_transform.c), for the task thread
 * (task.c): bad records and transforms on polled records, serially or on
 * the transformer thread (task_shared.h has its state).
 */
#ifndef RDAPSYNC_HOST_TASK_TRANSFORM_H
#define RDAPSYNC_HOST_TASK_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/task_shared.h"

/* Records [from, count) of c's batch: bad ones to the
 * dead-letter path, the others through the transforms (err: the calling
 * thread's buffer). Sets *stop_at and c->record_failed at a record that
 * fails the task; CALL_STOPPED on a stop during a transform retry. */
call_end task_process_polled(struct task *t, task_cycle *c, size_t from, size_t *stop_at, char *err);
/* start: 0 or -1 (no thread). fill: polls c's batch full through the
 * transformer (as cycle_fill's serial poll does, *stop_at SIZE_MAX unless
 * a record failed the task). stop: joins the thread. Task thread only. */
int task_transformer_start(struct task *t);
call_end task_transformer_fill(struct task *t, task_cycle *c, bool *ended, size_t *stop_at);
void task_transformer_stop(struct task *t);
/* Test hooks behind task.h's task_test_set_transform_split/share: pin the
 * split (-1: measure again) and, with it, the share of stages [split, hi). */
void task_transform_pin_split(int split);
void task_transform_pin_share(int hi, double share);

#endif
