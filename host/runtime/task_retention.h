/*
 * The daemon's retention purge (a pipeline's retention: block,
 * docs/compliance.md): each task purges its own sink and dead-letter sink
 * instances every retention.interval, between batches, while its flusher
 * is idle. Its own instances, because a store may be held by the one that
 * writes (a file sink locks its output) and because the purge then never
 * races the task's writes.
 */
#ifndef RDAPSYNC_HOST_TASK_RETENTION_H
#define RDAPSYNC_HOST_TASK_RETENTION_H

struct task;

/* Starts the interval (the first purge one interval after the task opened). */
void task_retention_start(struct task *t);
/* Purges when due. Task thread, flusher idle. A failure is logged and
 * written to the trail; the task goes on (the next interval tries again). */
void task_retention_tick(struct task *t);

#endif
