/*
 * The services table every plugin receives from its entry function. The
 * entries are thin: contexts, batches and JSON each live in their own
 * module; this file only binds them to the SDK's names.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "loader/context_internal.h"
#include "loader/loader.h"
#include "model/batch_api.h"
#include "model/json_api.h"

static void api_log(rdapsync_ctx *ctx, rdapsync_log_level level, const char *fmt, ...) RDAPSYNC_PRINTF(3, 4);

static void api_log(rdapsync_ctx *ctx, rdapsync_log_level level, const char *fmt, ...)
{
    va_list args;
    if (!fmt)
        return;
    va_start(args, fmt);
    context_log(ctx, level, fmt, args);
    va_end(args);
}

static const char *api_pipeline_name(const rdapsync_ctx *ctx) { return context_pipeline(ctx); }
static int api_task_index(const rdapsync_ctx *ctx) { return context_task_index(ctx); }
static int api_task_count(const rdapsync_ctx *ctx) { return context_task_count(ctx); }
static bool api_stopping(const rdapsync_ctx *ctx) { return context_stopping(ctx); }
static const char *api_state_dir(rdapsync_ctx *ctx) { return context_state_dir(ctx); }

/* malloc(0) may return NULL; plugins read NULL as failure. */
static void *api_alloc(size_t size) { return malloc(size ? size : 1); }
static void api_free(void *ptr) { free(ptr); }

static const rdapsync_host host_table = {
    .struct_size = sizeof(rdapsync_host),
    .abi_major = RDAPSYNC_ABI_MAJOR,
    .abi_minor = RDAPSYNC_ABI_MINOR,
    .log = api_log,
    .counter_add = context_counter_add,
    .gauge_set = context_gauge_set,
    .pipeline_name = api_pipeline_name,
    .task_index = api_task_index,
    .task_count = api_task_count,
    .stopping = api_stopping,
    .state_dir = api_state_dir,
    .alloc = api_alloc,
    .free = api_free,
    .json = &json_api_functions,
    .batch_count = batch_count,
    .batch_get = batch_get,
    .batch_room = batch_room,
    .record_add = batch_record_add,
    .record_set_key = batch_record_set_key,
    .record_set_value = batch_record_set_value,
    .record_set_op = batch_record_set_op,
    .record_set_version = batch_record_set_version,
    .record_set_position = batch_record_set_position,
    .record_add_header = batch_record_add_header,
    .record_set_bad = batch_record_set_bad,
    .record_header = batch_record_header,
    .checkpoint_get = context_checkpoint_get,
    .checkpoint_override = context_checkpoint_override,
    .reject = context_reject,
    .record_set_vv = batch_record_set_vv,
};

const rdapsync_host *host_api_table(void) { return &host_table; }
