/*
 * rdapsync_ctx: who a plugin instance is (pipeline, task, kind, plugin), for
 * log labels, metrics, checkpoints and rejects.
 */
#ifndef RDAPSYNC_HOST_CONTEXT_H
#define RDAPSYNC_HOST_CONTEXT_H

#include <stdbool.h>

#include <rdapsync/rdapsync.h>

struct task; /* task.h; NULL in unit tests */

/* Caller frees with context_free(). Strings are copied. */
rdapsync_ctx *context_new(const char *pipeline, int task_index, int task_count, rdapsync_kind kind,
                          const char *plugin, const char *state_dir, struct task *task);
void context_free(rdapsync_ctx *ctx);

#endif
