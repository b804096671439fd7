/*
 * The flusher thread of a task (task_flush.c), for the task thread
 * (task.c), and the sink rejects that a plugin's context forwards to it.
 */
#ifndef RDAPSYNC_HOST_TASK_FLUSH_H
#define RDAPSYNC_HOST_TASK_FLUSH_H

#include <rdapsync/rdapsync.h>

#include "runtime/task_shared.h"

/* start: 0 or -1 (no thread). submit: hands c over (the
 * slot must be empty). wait: until c, the cycle handed over, is delivered;
 * answers how its delivery ended. stop: joins the thread (nothing may be in
 * flight). All from the task thread. */
int task_flusher_start(struct task *t);
void task_flusher_submit(struct task *t, task_cycle *c);
call_end task_flusher_wait(struct task *t, const task_cycle *c);
void task_flusher_stop(struct task *t);

/* A sink's host->reject() during write(): the record becomes a dead letter
 * of the cycle being flushed (stage sink), or fails the task (tolerance
 * none, a reject by the dead-letter sink, or a reject outside write()). */
void task_reject(struct task *t, rdapsync_ctx *ctx, const rdapsync_record *record, const char *reason);

#endif
