/*
 * rdapsync SDK: the services the host gives plugins.
 *
 * The host passes this table to the plugin's entry function; plugins call
 * the host only through it (the host exports no symbols, plugins link
 * nothing of it). The table is append-only: a plugin built against a newer
 * minor tests `struct_size` before touching a field the host may not have.
 */
#ifndef RDAPSYNC_HOST_H
#define RDAPSYNC_HOST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "record.h"
#include "value.h"

/*
 * One plugin instance in one task of one pipeline. Handed to open(); valid
 * until close() returns. Log lines and metrics are labelled with it.
 */
typedef struct rdapsync_ctx rdapsync_ctx;

typedef enum rdapsync_log_level {
    RDAPSYNC_LOG_ERROR = 0,
    RDAPSYNC_LOG_WARN = 1,
    RDAPSYNC_LOG_INFO = 2,
    RDAPSYNC_LOG_DEBUG = 3
} rdapsync_log_level;

typedef struct rdapsync_host {
    uint32_t struct_size; /* sizeof(rdapsync_host) of the host */
    uint16_t abi_major;
    uint16_t abi_minor;

    /* ---- logging and metrics (any thread) ---- */

    /* One structured line labelled [kind:plugin:pipeline.task]. Never pass
     * secrets: the host masks the values of declared secret options it
     * knows, but cannot guess others. */
    void (*log)(rdapsync_ctx *ctx, rdapsync_log_level level, const char *fmt, ...) RDAPSYNC_PRINTF(3, 4);
    /* Adds to the counter rdapsync_plugin_<name>_total{pipeline,task,plugin}.
     * `name` is [a-z0-9_]+ and a static string. */
    void (*counter_add)(rdapsync_ctx *ctx, const char *name, uint64_t delta);
    /* Sets the gauge rdapsync_plugin_<name>{pipeline,task,plugin}. */
    void (*gauge_set)(rdapsync_ctx *ctx, const char *name, double value);

    /* ---- identity ---- */

    const char *(*pipeline_name)(const rdapsync_ctx *ctx); /* borrowed */
    int (*task_index)(const rdapsync_ctx *ctx);            /* 0 .. task_count-1 */
    int (*task_count)(const rdapsync_ctx *ctx);
    /* True once the host is draining (SIGTERM/SIGINT, reload, task stop):
     * a source should return from poll() promptly. */
    bool (*stopping)(const rdapsync_ctx *ctx);
    /* The state directory of this pipeline's task, created on demand, for
     * plugins that need local files; borrowed. */
    const char *(*state_dir)(rdapsync_ctx *ctx);

    /* ---- memory that crosses the boundary ---- */
    void *(*alloc)(size_t size); /* free with free() below */
    void (*free)(void *ptr);     /* NULL-safe; frees host->alloc and json->dump buffers */

    /* ---- JSON ---- */
    const rdapsync_json_api *json;

    /* ---- batches and records ----
     * Records live in a batch; strings given to setters are copied into the
     * batch, so callers keep ownership of what they pass. All return 0, or
     * -1 on allocation failure / invalid UTF-8 in a key. */

    size_t (*batch_count)(const rdapsync_batch *batch);
    /* Borrowed; valid while the batch is. Index < batch_count. */
    const rdapsync_record *(*batch_get)(const rdapsync_batch *batch, size_t index);
    /* How many more records record_add() will accept (batches are bounded). */
    size_t (*batch_room)(const rdapsync_batch *batch);
    /* Appends an empty upsert record (no key, no value, position of the
     * previous record) and returns it for the setters below; NULL when the
     * batch is full. */
    rdapsync_record *(*record_add)(rdapsync_batch *batch);

    int (*record_set_key)(rdapsync_batch *batch, rdapsync_record *record, const char *key, size_t len);
    /* STEALS value (even on failure); replaces and releases the old one.
     * NULL clears it. */
    int (*record_set_value)(rdapsync_batch *batch, rdapsync_record *record, rdapsync_value *value);
    int (*record_set_op)(rdapsync_batch *batch, rdapsync_record *record, rdapsync_op op);
    int (*record_set_version)(rdapsync_batch *batch, rdapsync_record *record, int64_t event_time_ms,
                              const char *origin, int64_t sequence);
    int (*record_set_position)(rdapsync_batch *batch, rdapsync_record *record, const char *stream,
                               int32_t partition, int64_t offset);
    /* Appends a header; names may repeat. */
    int (*record_add_header)(rdapsync_batch *batch, rdapsync_record *record, const char *name,
                             const char *value, size_t value_len);
    /* Marks the record bad: keeps the raw bytes and the reason. The host
     * routes it to the dead-letter sink (or fails the task) before any
     * transform sees it; its position still advances the checkpoint once
     * dead-lettered. */
    int (*record_set_bad)(rdapsync_batch *batch, rdapsync_record *record, const char *raw, size_t raw_len,
                          const char *reason);
    /* First header with that name, or NULL; borrowed. */
    const rdapsync_header *(*record_header)(const rdapsync_record *record, const char *name);

    /* ---- checkpoints and delivery ---- */

    /* The last committed position of (stream, partition) for this task:
     * returns true and sets *offset, or false when there is none. Sources
     * call it from open() and when partitions are assigned. */
    bool (*checkpoint_get)(rdapsync_ctx *ctx, const char *stream, int32_t partition, int64_t *offset);
    /* Sinks that store positions with their data (exactly-once) call this
     * from open() for each position they hold; it overrides the checkpoint
     * file for this task's source. */
    void (*checkpoint_override)(rdapsync_ctx *ctx, const char *stream, int32_t partition, int64_t offset);
    /* From a sink's write(): the record cannot be stored, ever (constraint,
     * oversize, bad key), for `reason` (copied). The host sends it to the
     * dead-letter sink, or fails the task under errors.tolerance none. The
     * sink still returns OK for the rest of the batch. */
    void (*reject)(rdapsync_ctx *ctx, const rdapsync_record *record, const char *reason);

    /* ---- ABI 1.4: test RDAPSYNC_HAS(rdapsync_host, host, record_set_vv) first ---- */

    /* Sets the record's version vector (record.h, rdapsync_vv): copies the
     * `count` entries and their region strings into the batch, sorted by
     * region bytewise; the caller keeps what it passed and may give the
     * entries in any order. count 0 clears the vector (entries may then be
     * NULL). Returns 0, or -1 (the record's vector unchanged) on a
     * duplicate region, a NULL or empty region, invalid UTF-8 in a region,
     * a counter of 0, a record not of this batch, or allocation failure. */
    int (*record_set_vv)(rdapsync_batch *batch, rdapsync_record *record, const rdapsync_vv_entry *entries,
                         size_t count);
} rdapsync_host;

/*
 * The record's version vector as a plugin may read it: the record's own
 * when the host is ABI 1.4 or newer, the empty vector when it is older
 * (its records end before `vv`, so reading the field would read the next
 * record). Every plugin that reads `record->vv` goes through this.
 */
static inline rdapsync_vv rdapsync_record_vv(const rdapsync_host *host, const rdapsync_record *record)
{
    rdapsync_vv none = { NULL, 0 };
    return RDAPSYNC_HAS(rdapsync_host, host, record_set_vv) ? record->vv : none;
}

#endif
