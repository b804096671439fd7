/*
 * rdapsync_ctx: one plugin instance's identity and its way back to its
 * task (the context_owner the task hands in). Everything a plugin asks the
 * host about "itself" goes through here.
 */
#include "loader/context.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/checkpoint.h"
#include "base/log.h"
#include "base/metrics.h"
#include "loader/context_internal.h"

#define METRIC_CACHE_SIZE 16

typedef struct metric_slot {
    const char *name; /* the plugin's static string: compared by pointer */
    bool counter;
    plugin_metric *metric;
} metric_slot;

struct rdapsync_ctx {
    char *pipeline;
    int task_index;
    int task_count;
    rdapsync_kind kind;
    char *plugin;
    char *state_root;
    char *task_dir; /* made on first use */
    const context_owner *owner; /* borrowed; NULL without a task */

    pthread_mutex_t lock; /* the fields below: any thread may log or count */
    /* Slots are filled under the lock and published by metric_count, then
     * never change: a lookup reads them without the lock (a concurrent
     * transform counts from two threads at once, on every record). */
    metric_slot metrics[METRIC_CACHE_SIZE];
    atomic_size_t metric_count;
    bool dir_made;

    /* Without a task (unit tests). */
    checkpoint_map *local_checkpoints;
    size_t reject_count;
    char *last_reject;
    atomic_bool stop_requested;
};

rdapsync_ctx *context_new(const char *pipeline, int task_index, int task_count, rdapsync_kind kind,
                          const char *plugin, const char *state_dir, const context_owner *owner)
{
    rdapsync_ctx *ctx = calloc(1, sizeof(*ctx));

    if (!ctx)
        return NULL;
    pthread_mutex_init(&ctx->lock, NULL);
    ctx->pipeline = strdup(pipeline ? pipeline : "");
    ctx->plugin = strdup(plugin ? plugin : "");
    ctx->task_index = task_index;
    ctx->task_count = task_count > 0 ? task_count : 1;
    ctx->kind = kind;
    ctx->owner = owner;
    if (!ctx->pipeline || !ctx->plugin)
        goto fail;
    if (state_dir) {
        ctx->state_root = strdup(state_dir);
        if (!ctx->state_root)
            goto fail;
        ctx->task_dir = checkpoint_task_dir(state_dir, ctx->pipeline, task_index);
        if (!ctx->task_dir)
            goto fail;
    }
    if (!owner && !(ctx->local_checkpoints = checkpoint_map_new()))
        goto fail;
    return ctx;
fail:
    context_free(ctx);
    return NULL;
}

void context_free(rdapsync_ctx *ctx)
{
    if (!ctx)
        return;
    checkpoint_map_free(ctx->local_checkpoints);
    free(ctx->last_reject);
    free(ctx->task_dir);
    free(ctx->state_root);
    free(ctx->plugin);
    free(ctx->pipeline);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
}

const char *context_pipeline(const rdapsync_ctx *ctx) { return ctx ? ctx->pipeline : NULL; }
int context_task_index(const rdapsync_ctx *ctx) { return ctx ? ctx->task_index : 0; }
int context_task_count(const rdapsync_ctx *ctx) { return ctx ? ctx->task_count : 1; }
rdapsync_kind context_kind(const rdapsync_ctx *ctx) { return ctx ? ctx->kind : RDAPSYNC_KIND_SOURCE; }
const char *context_plugin(const rdapsync_ctx *ctx) { return ctx ? ctx->plugin : NULL; }

const char *context_state_dir(rdapsync_ctx *ctx)
{
    const char *dir = NULL;

    if (!ctx || !ctx->task_dir)
        return NULL;
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->dir_made && checkpoint_mkdirs(ctx->task_dir) == 0)
        ctx->dir_made = true;
    if (ctx->dir_made)
        dir = ctx->task_dir;
    pthread_mutex_unlock(&ctx->lock);
    return dir;
}

void context_log(rdapsync_ctx *ctx, rdapsync_log_level level, const char *fmt, va_list args)
{
    if (!ctx) {
        log_vwrite(level, NULL, -1, NULL, NULL, fmt, args);
        return;
    }
    log_vwrite(level, ctx->pipeline, ctx->task_index, rdapsync_kind_str(ctx->kind), ctx->plugin, fmt, args);
}

/* The cached metric for (name, counter), NULL when not cached yet. No lock. */
static plugin_metric *cached_metric(rdapsync_ctx *ctx, const char *name, bool counter)
{
    size_t count = atomic_load_explicit(&ctx->metric_count, memory_order_acquire);

    for (size_t i = 0; i < count; i++)
        if (ctx->metrics[i].name == name && ctx->metrics[i].counter == counter)
            return ctx->metrics[i].metric;
    return NULL;
}

static plugin_metric *metric_for(rdapsync_ctx *ctx, const char *name, bool counter)
{
    plugin_metric *metric = cached_metric(ctx, name, counter);
    size_t count;

    if (metric)
        return metric;
    pthread_mutex_lock(&ctx->lock);
    /* Another thread may have cached it meanwhile. */
    if ((metric = cached_metric(ctx, name, counter)))
        goto done;
    count = atomic_load_explicit(&ctx->metric_count, memory_order_relaxed);
    metric = metrics_plugin_metric(ctx->pipeline, ctx->task_index, ctx->plugin, name, counter);
    if (metric && count < METRIC_CACHE_SIZE) {
        ctx->metrics[count] = (metric_slot){name, counter, metric};
        atomic_store_explicit(&ctx->metric_count, count + 1, memory_order_release);
    }
done:
    pthread_mutex_unlock(&ctx->lock);
    return metric;
}

void context_counter_add(rdapsync_ctx *ctx, const char *name, uint64_t delta)
{
    if (!ctx || !name)
        return;
    metrics_plugin_add(metric_for(ctx, name, true), delta);
    if (ctx->owner && ctx->owner->counted)
        ctx->owner->counted(ctx->owner->self, name, delta);
}

void context_gauge_set(rdapsync_ctx *ctx, const char *name, double value)
{
    if (ctx && name)
        metrics_plugin_set(metric_for(ctx, name, false), value);
}

bool context_stopping(const rdapsync_ctx *ctx)
{
    if (!ctx)
        return false;
    if (ctx->owner)
        return ctx->owner->stopping(ctx->owner->self);
    return atomic_load(&((rdapsync_ctx *)ctx)->stop_requested);
}

void context_request_stop(rdapsync_ctx *ctx)
{
    if (ctx)
        atomic_store(&ctx->stop_requested, true);
}

bool context_checkpoint_get(rdapsync_ctx *ctx, const char *stream, int32_t partition, int64_t *offset)
{
    if (!ctx)
        return false;
    if (ctx->owner)
        return ctx->owner->checkpoint_get(ctx->owner->self, stream, partition, offset);
    return checkpoint_map_get(ctx->local_checkpoints, stream, partition, offset);
}

void context_checkpoint_override(rdapsync_ctx *ctx, const char *stream, int32_t partition, int64_t offset)
{
    if (!ctx)
        return;
    if (ctx->owner) {
        ctx->owner->checkpoint_override(ctx->owner->self, ctx, stream, partition, offset);
        return;
    }
    if (checkpoint_map_set(ctx->local_checkpoints, stream, partition, offset) != 0)
        log_write(RDAPSYNC_LOG_ERROR, ctx->pipeline, ctx->task_index, rdapsync_kind_str(ctx->kind), ctx->plugin,
                  "checkpoint override: out of memory");
}

void context_reject(rdapsync_ctx *ctx, const rdapsync_record *record, const char *reason)
{
    if (!ctx || !record)
        return;
    if (ctx->owner) {
        ctx->owner->reject(ctx->owner->self, ctx, record, reason);
        return;
    }
    pthread_mutex_lock(&ctx->lock);
    ctx->reject_count++;
    free(ctx->last_reject);
    ctx->last_reject = strdup(reason ? reason : "rejected");
    pthread_mutex_unlock(&ctx->lock);
    log_write(RDAPSYNC_LOG_WARN, ctx->pipeline, ctx->task_index, rdapsync_kind_str(ctx->kind), ctx->plugin,
              "record rejected (key %.*s): %s", record->key ? (int)record->key_len : 6,
              record->key ? record->key : "(none)", reason ? reason : "rejected");
}

size_t context_reject_count(const rdapsync_ctx *ctx) { return ctx ? ctx->reject_count : 0; }
const char *context_last_reject(const rdapsync_ctx *ctx) { return ctx ? ctx->last_reject : NULL; }
