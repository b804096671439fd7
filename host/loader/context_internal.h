/*
 * The host side of rdapsync_ctx: what host_api.c and the task read from a
 * context. Plugins see the context only as an opaque pointer.
 */
#ifndef RDAPSYNC_HOST_CONTEXT_INTERNAL_H
#define RDAPSYNC_HOST_CONTEXT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#include "loader/context.h"

const char *context_pipeline(const rdapsync_ctx *ctx); /* borrowed */
int context_task_index(const rdapsync_ctx *ctx);
int context_task_count(const rdapsync_ctx *ctx);
rdapsync_kind context_kind(const rdapsync_ctx *ctx);
const char *context_plugin(const rdapsync_ctx *ctx); /* borrowed */
/* "<state_dir>/<pipeline>/task-<i>", created on first call; borrowed; NULL
 * if the context has no state dir or it cannot be created. */
const char *context_state_dir(rdapsync_ctx *ctx);

void context_log(rdapsync_ctx *ctx, rdapsync_log_level level, const char *fmt, va_list args)
    RDAPSYNC_PRINTF(3, 0);
void context_counter_add(rdapsync_ctx *ctx, const char *name, uint64_t delta);
void context_gauge_set(rdapsync_ctx *ctx, const char *name, double value);

/* With an owner (a task) these go to it; without one (plugin unit tests) the context
 * keeps them itself so that a test can look. */
bool context_stopping(const rdapsync_ctx *ctx);
bool context_checkpoint_get(rdapsync_ctx *ctx, const char *stream, int32_t partition, int64_t *offset);
void context_checkpoint_override(rdapsync_ctx *ctx, const char *stream, int32_t partition, int64_t offset);
void context_reject(rdapsync_ctx *ctx, const rdapsync_record *record, const char *reason);

/* Test helpers for contexts without a task: how many records were rejected,
 * the last reason (borrowed, NULL if none), and a stop request that
 * host->stopping() then reports. */
size_t context_reject_count(const rdapsync_ctx *ctx);
const char *context_last_reject(const rdapsync_ctx *ctx);
void context_request_stop(rdapsync_ctx *ctx);

#endif
