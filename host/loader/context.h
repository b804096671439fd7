/*
 * rdapsync_ctx: who a plugin instance is (pipeline, task, kind, plugin), for
 * log labels, metrics, checkpoints and rejects.
 */
#ifndef RDAPSYNC_HOST_CONTEXT_H
#define RDAPSYNC_HOST_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

/*
 * Who answers a plugin's questions about its run: the task that runs the
 * instance. The context only forwards to it, so that this layer (what a
 * plugin may call) does not depend on the task runtime above it. Every
 * function is called with `self`, from any thread the plugin calls from.
 */
typedef struct context_owner {
    void *self;
    bool (*stopping)(void *self);
    bool (*checkpoint_get)(void *self, const char *stream, int32_t partition, int64_t *offset);
    void (*checkpoint_override)(void *self, rdapsync_ctx *ctx, const char *stream, int32_t partition,
                                int64_t offset);
    void (*reject)(void *self, rdapsync_ctx *ctx, const rdapsync_record *record, const char *reason);
    /* May be NULL. Every counter a plugin adds, after the metric: the task
     * sums the redactions per batch for the audit trail. */
    void (*counted)(void *self, const char *name, uint64_t delta);
} context_owner;

/* Caller frees with context_free(). Strings are copied. `owner` is
 * borrowed until context_free(); NULL (unit tests) makes the context
 * keep checkpoints, rejects and stop requests itself. */
rdapsync_ctx *context_new(const char *pipeline, int task_index, int task_count, rdapsync_kind kind,
                          const char *plugin, const char *state_dir, const context_owner *owner);
void context_free(rdapsync_ctx *ctx);

#endif
