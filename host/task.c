/*
 * One task: the batch loop of one pipeline on one thread. The order of the
 * steps in task_cycle() is the delivery guarantee: nothing reaches the
 * checkpoint or the source's commit before the sink (and the dead-letter
 * sink) flushed it. See docs/architecture.md.
 */
#include "task.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "batch.h"
#include "batch_api.h"
#include "checkpoint.h"
#include "context.h"
#include "context_internal.h"
#include "dead_letter.h"
#include "log.h"

#define TASK_ERR_SIZE 1024

typedef struct instance {
    const plugin_block *block; /* borrowed from the pipeline */
    const rdapsync_plugin *desc;
    rdapsync_ctx *ctx;
    void *state;
    bool opened;
} instance;

/* How one retried call ended. */
typedef enum call_end { CALL_DONE, CALL_STOPPED, CALL_FAILED } call_end;

struct task {
    const pipeline_config *pipeline;
    int index;
    char *state_root;
    char *dir; /* <state_root>/<pipeline>/task-<i> */
    task_stats *stats;
    checkpoint_map *checkpoints;

    pthread_mutex_t lock;
    pthread_cond_t wake; /* signalled by task_request_stop() */
    atomic_bool stop;
    bool ran;
    bool started; /* every plugin opened */

    instance source, sink, dead_letter;
    instance *transforms;
    size_t transform_count;

    rdapsync_batch *batch;       /* what the source handed over */
    rdapsync_batch *dead;        /* dead letters of the current cycle */
    bool *keep;                  /* per record of `batch`: still going to the sink */
    checkpoint_map *cycle_positions; /* last position per (stream, partition) of this cycle */

    /* Sink rejects during the current write attempt. */
    size_t attempt_rejects;
    /* Sink rejects already made durable in the dead-letter sink during this
     * cycle: t->dead[sink_dead_first, sink_dead_delivered). A rewrite after a
     * flush RETRY rejects them again; they are not dead-lettered twice. */
    size_t sink_dead_first, sink_dead_delivered;
    bool reject_fatal;        /* tolerance none, or the dead-letter sink refused a dead letter */

    task_counts counts; /* of the current cycle, added to stats once delivered */
    char err[TASK_ERR_SIZE];   /* plugins' err buffer */
    char error[TASK_ERR_SIZE]; /* why the task failed */
};

/* ---- small helpers ---- */

static void task_log(struct task *t, rdapsync_log_level level, const instance *inst, const char *fmt, ...)
    RDAPSYNC_PRINTF(4, 5);

static void task_log(struct task *t, rdapsync_log_level level, const instance *inst, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    log_vwrite(level, t->pipeline->name, t->index, inst ? rdapsync_kind_str(inst->desc->kind) : NULL,
               inst ? inst->desc->name : NULL, fmt, args);
    va_end(args);
}

static void task_fail(struct task *t, const char *fmt, ...) RDAPSYNC_PRINTF(2, 3);

/* Keeps the first reason: later ones are consequences. */
static void task_fail(struct task *t, const char *fmt, ...)
{
    va_list args;
    if (t->error[0])
        return;
    va_start(args, fmt);
    vsnprintf(t->error, sizeof(t->error), fmt, args);
    va_end(args);
}

static const char *plugin_err(struct task *t) { return t->err[0] ? t->err : "(no reason given)"; }

static void clear_err(struct task *t) { memset(t->err, 0, sizeof(t->err)); }

static void set_state(struct task *t, task_state state) { task_stats_set_state(t->stats, state); }

/* ---- time ---- */

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t (*clock_now_ms)(void) = real_now_ms;

void task_test_set_clock(int64_t (*now_ms)(void)) { clock_now_ms = now_ms ? now_ms : real_now_ms; }

/* ---- stop and waiting ---- */

void task_request_stop(struct task *t)
{
    pthread_mutex_lock(&t->lock);
    atomic_store(&t->stop, true);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

bool task_stopping(const struct task *t) { return atomic_load(&((struct task *)t)->stop); }

/* Waits `ms` unless a stop is requested first; true if stopping. */
static bool task_wait(struct task *t, int64_t ms)
{
    struct timespec deadline;
    bool stopping;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&t->lock);
    while (!atomic_load(&t->stop)) {
        if (pthread_cond_timedwait(&t->wake, &t->lock, &deadline) == ETIMEDOUT)
            break;
    }
    stopping = atomic_load(&t->stop);
    pthread_mutex_unlock(&t->lock);
    return stopping;
}

/* One RETRY answer: count it, back off, report whether to go on. */
static bool retry_backoff(struct task *t, const instance *inst, const char *what, unsigned attempt)
{
    int64_t delay = backoff_delay_ms(t->pipeline->retry_backoff_initial_ms, t->pipeline->retry_backoff_max_ms,
                                     attempt, backoff_random_unit());
    task_log(t, attempt == 0 ? RDAPSYNC_LOG_WARN : RDAPSYNC_LOG_DEBUG, inst, "%s: retry in %" PRId64 " ms: %s", what,
             delay, plugin_err(t));
    task_stats_count_retry(t->stats);
    set_state(t, TASK_RETRYING);
    bool stopping = task_wait(t, delay);
    set_state(t, !t->started ? TASK_STARTING : stopping ? TASK_DRAINING : TASK_RUNNING);
    return !stopping;
}

/* ---- construction ---- */

static int instance_init(struct task *t, instance *inst, const plugin_block *block)
{
    inst->block = block;
    inst->desc = block->plugin->desc;
    inst->ctx = context_new(t->pipeline->name, t->index, t->pipeline->tasks, inst->desc->kind, inst->desc->name,
                            t->state_root, t);
    return inst->ctx ? 0 : -1;
}

struct task *task_new(const pipeline_config *pipeline, int task_index, const char *state_dir, task_stats *stats)
{
    struct task *t = calloc(1, sizeof(*t));
    size_t max_records;
    pthread_condattr_t attr;

    if (!t)
        return NULL;
    t->pipeline = pipeline;
    t->index = task_index;
    t->stats = stats;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);

    t->state_root = strdup(state_dir ? state_dir : "var/state");
    t->dir = t->state_root ? checkpoint_task_dir(t->state_root, pipeline->name, task_index) : NULL;
    t->checkpoints = checkpoint_map_new();
    t->cycle_positions = checkpoint_map_new();
    max_records = pipeline->batch_max_records > 0 ? (size_t)pipeline->batch_max_records : 1;
    t->batch = batch_new(max_records);
    /* One dead letter per record at most, plus slack for a sink that
     * rejects a record twice (it is reported, not silently dropped). */
    t->dead = batch_new(max_records * 2);
    t->keep = calloc(max_records, sizeof(*t->keep));
    if (!t->dir || !t->checkpoints || !t->cycle_positions || !t->batch || !t->dead || !t->keep)
        goto fail;
    if (pipeline->batch_max_bytes > 0)
        batch_set_byte_limit(t->batch, (size_t)pipeline->batch_max_bytes);

    if (instance_init(t, &t->source, &pipeline->source) != 0 || instance_init(t, &t->sink, &pipeline->sink) != 0)
        goto fail;
    if (pipeline->has_dead_letter && instance_init(t, &t->dead_letter, &pipeline->dead_letter) != 0)
        goto fail;
    if (pipeline->transform_count) {
        t->transforms = calloc(pipeline->transform_count, sizeof(*t->transforms));
        if (!t->transforms)
            goto fail;
        t->transform_count = pipeline->transform_count;
        for (size_t i = 0; i < pipeline->transform_count; i++)
            if (instance_init(t, &t->transforms[i], &pipeline->transforms[i]) != 0)
                goto fail;
    }
    return t;
fail:
    task_free(t);
    return NULL;
}

void task_free(struct task *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->transform_count; i++)
        context_free(t->transforms[i].ctx);
    free(t->transforms);
    context_free(t->source.ctx);
    context_free(t->sink.ctx);
    context_free(t->dead_letter.ctx);
    batch_free(t->batch);
    batch_free(t->dead);
    free(t->keep);
    checkpoint_map_free(t->cycle_positions);
    checkpoint_map_free(t->checkpoints);
    free(t->dir);
    free(t->state_root);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

const char *task_error(const struct task *t) { return t->error; }
bool task_started(const struct task *t) { return t->started; }
const struct checkpoint_map *task_checkpoints(const struct task *t) { return t->checkpoints; }

/* ---- calls from plugins ---- */

/* Sources may ask from a client library's callback thread (partition
 * assignment), so the map is read and written under the task's lock. */
bool task_checkpoint_get(struct task *t, const char *stream, int32_t partition, int64_t *offset)
{
    pthread_mutex_lock(&t->lock);
    bool found = checkpoint_map_get(t->checkpoints, stream, partition, offset);
    pthread_mutex_unlock(&t->lock);
    return found;
}

void task_checkpoint_override(struct task *t, rdapsync_ctx *ctx, const char *stream, int32_t partition,
                              int64_t offset)
{
    pthread_mutex_lock(&t->lock);
    int rc = checkpoint_map_set(t->checkpoints, stream, partition, offset);
    pthread_mutex_unlock(&t->lock);
    if (rc != 0)
        task_fail(t, "checkpoint override: out of memory");
    else
        log_write(RDAPSYNC_LOG_INFO, t->pipeline->name, t->index, "sink", context_plugin(ctx),
                  "checkpoint override: %s partition %d resumes at offset %lld", stream ? stream : "(single stream)",
                  (int)partition, (long long)offset);
}

/*
 * A record that cannot go on: dead-letter it, or under tolerance none fail
 * the task naming the record. Returns 0 when the record was taken care of,
 * -1 when the task must fail.
 */
static int route_bad(struct task *t, const rdapsync_record *record, const char *reason, error_stage stage,
                     const char *plugin)
{
    char where[512];

    t->counts.errors[stage]++;
    if (t->pipeline->tolerance == TOLERANCE_NONE) {
        dead_letter_describe(record, where, sizeof(where));
        task_fail(t, "%s %s: %s: %s (errors.tolerance none)", error_stage_str(stage), plugin, where, reason);
        return -1;
    }
    dead_letter_info info = {reason, t->pipeline->name, plugin, stage};
    if (!dead_letter_add(t->dead, record, &info)) {
        dead_letter_describe(record, where, sizeof(where));
        task_fail(t, "dead letter for %s: out of room or memory", where);
        return -1;
    }
    return 0;
}

static bool same_position(const rdapsync_position *a, const rdapsync_position *b)
{
    if (a->partition != b->partition || a->offset != b->offset)
        return false;
    if (!a->stream || !b->stream)
        return a->stream == b->stream;
    return strcmp(a->stream, b->stream) == 0;
}

static bool already_dead_lettered(const struct task *t, const rdapsync_record *record)
{
    for (size_t i = t->sink_dead_first; i < t->sink_dead_delivered; i++) {
        const rdapsync_record *d = batch_get(t->dead, i);
        if (same_position(&d->position, &record->position) && d->key_len == record->key_len &&
            (d->key_len == 0 || memcmp(d->key, record->key, d->key_len) == 0))
            return true;
    }
    return false;
}

void task_reject(struct task *t, rdapsync_ctx *ctx, const rdapsync_record *record, const char *reason)
{
    char where[512];

    if (!reason || !*reason)
        reason = "(no reason given)";
    if (t->dead_letter.ctx && ctx == t->dead_letter.ctx) {
        /* There is no dead-letter sink for the dead-letter sink: failing is
         * the only way not to lose the record. */
        dead_letter_describe(record, where, sizeof(where));
        task_fail(t, "dead-letter sink %s rejected the dead letter of %s: %s", t->dead_letter.desc->name, where,
                  reason);
        t->reject_fatal = true;
        return;
    }
    t->attempt_rejects++;
    if (already_dead_lettered(t, record)) {
        t->counts.errors[STAGE_SINK]++;
        return;
    }
    if (route_bad(t, record, reason, STAGE_SINK, context_plugin(ctx)) != 0)
        t->reject_fatal = true;
}

/* ---- open / close ---- */

static call_end open_instance(struct task *t, instance *inst)
{
    for (unsigned attempt = 0;; attempt++) {
        clear_err(t);
        rdapsync_status status = inst->desc->open(inst->ctx, inst->block->settings, &inst->state, t->err,
                                                  sizeof(t->err));
        if (status == RDAPSYNC_OK) {
            inst->opened = true;
            return CALL_DONE;
        }
        if (status == RDAPSYNC_RETRY) {
            if (!retry_backoff(t, inst, "open", attempt))
                return CALL_STOPPED;
            continue;
        }
        task_fail(t, "open %s %s: %s", rdapsync_kind_str(inst->desc->kind), inst->desc->name, plugin_err(t));
        return CALL_FAILED;
    }
}

static void close_instance(instance *inst)
{
    if (inst->opened && inst->desc->close)
        inst->desc->close(inst->state);
    inst->opened = false;
    inst->state = NULL;
}

/* Dead-letter sink first so it can take dead letters from everyone; the
 * source last so that sinks' checkpoint overrides are in place when it
 * asks for its starting positions. */
static call_end open_all(struct task *t)
{
    call_end end;

    if (t->dead_letter.ctx && (end = open_instance(t, &t->dead_letter)) != CALL_DONE)
        return end;
    if ((end = open_instance(t, &t->sink)) != CALL_DONE)
        return end;
    for (size_t i = 0; i < t->transform_count; i++)
        if ((end = open_instance(t, &t->transforms[i])) != CALL_DONE)
            return end;
    if (t->error[0])
        return CALL_FAILED; /* a checkpoint override failed */
    return open_instance(t, &t->source);
}

static void close_all(struct task *t)
{
    close_instance(&t->source);
    for (size_t i = t->transform_count; i > 0; i--)
        close_instance(&t->transforms[i - 1]);
    close_instance(&t->sink);
    close_instance(&t->dead_letter);
}

/* ---- one cycle ---- */

/* Fills t->batch. Returns CALL_DONE (batch ready, maybe empty), CALL_FAILED;
 * sets *ended on END. A stop request ends polling, not the cycle. */
static call_end poll_batch(struct task *t, bool *ended)
{
    int64_t deadline = clock_now_ms() + t->pipeline->batch_max_wait_ms;
    unsigned attempt = 0;

    /* The first poll happens even with max_wait 0 (timeout 0: whatever is ready). */
    for (bool first = true; !task_stopping(t) && batch_room(t->batch) > 0; first = false) {
        int64_t remaining = deadline - clock_now_ms();
        if (remaining <= 0) {
            if (!first)
                break;
            remaining = 0;
        }
        clear_err(t);
        size_t before = batch_count(t->batch);
        rdapsync_status status = t->source.desc->poll(t->source.state, t->batch,
                                                      remaining > INT32_MAX ? INT32_MAX : (int)remaining, t->err,
                                                      sizeof(t->err));
        t->counts.records_in += batch_count(t->batch) - before;
        if (status == RDAPSYNC_OK) {
            attempt = 0;
            continue;
        }
        if (status == RDAPSYNC_END) {
            *ended = true;
            break;
        }
        if (status == RDAPSYNC_RETRY) {
            if (!retry_backoff(t, &t->source, "poll", attempt++))
                break;
            continue;
        }
        task_fail(t, "poll source %s: %s", t->source.desc->name, plugin_err(t));
        return CALL_FAILED;
    }
    return CALL_DONE;
}

/* Runs every transform on record i; false when the record left the batch. */
static call_end transform_record(struct task *t, size_t i)
{
    rdapsync_record *record = batch_record(t->batch, i);

    for (size_t k = 0; k < t->transform_count; k++) {
        instance *inst = &t->transforms[k];
        for (unsigned attempt = 0;; attempt++) {
            clear_err(t);
            rdapsync_status status = inst->desc->transform(inst->state, t->batch, record, t->err, sizeof(t->err));
            if (status == RDAPSYNC_OK)
                break;
            if (status == RDAPSYNC_DROP) {
                t->keep[i] = false;
                t->counts.dropped++;
                return CALL_DONE;
            }
            if (status == RDAPSYNC_RETRY) {
                if (!retry_backoff(t, inst, "transform", attempt))
                    return CALL_STOPPED;
                continue;
            }
            t->keep[i] = false;
            /* ERROR, or an answer a transform may not give. */
            if (status != RDAPSYNC_ERROR)
                snprintf(t->err, sizeof(t->err), "transform answered %s", rdapsync_status_str(status));
            return route_bad(t, record, plugin_err(t), STAGE_TRANSFORM, inst->desc->name) == 0 ? CALL_DONE
                                                                                               : CALL_FAILED;
        }
    }
    return CALL_DONE;
}

/* write(batch) then flush(), again from write after any RETRY. Used for
 * the dead-letter sink, whose own rejects fail the task (task_reject). */
static call_end deliver(struct task *t, instance *inst, const rdapsync_batch *batch)
{
    for (unsigned attempt = 0;; attempt++) {
        clear_err(t);
        rdapsync_status status = inst->desc->write(inst->state, batch, t->err, sizeof(t->err));
        if (t->reject_fatal)
            return CALL_FAILED;
        if (status == RDAPSYNC_OK) {
            clear_err(t);
            status = inst->desc->flush ? inst->desc->flush(inst->state, t->err, sizeof(t->err)) : RDAPSYNC_OK;
            if (status == RDAPSYNC_OK)
                return CALL_DONE;
        }
        if (status == RDAPSYNC_RETRY) {
            if (!retry_backoff(t, inst, "write", attempt))
                return CALL_STOPPED;
            continue;
        }
        task_fail(t, "%s %s: %s", inst == &t->dead_letter ? "dead-letter sink" : "sink", inst->desc->name,
                  status == RDAPSYNC_ERROR ? plugin_err(t) : rdapsync_status_str(status));
        return CALL_FAILED;
    }
}

static call_end deliver_dead_letters(struct task *t, size_t *delivered);

/*
 * The sink's half of a cycle: write(batch), then make every dead letter of
 * the cycle durable (including the sink's own rejects from that write), and
 * only then flush() the sink. Dead letters go first because a sink that
 * stores source positions with its data (checkpoint_override) treats the
 * whole batch as done once it has flushed: a crash between its flush and the
 * dead-letter flush would lose the rejected records. When flush answers
 * RETRY after the dead letters were written, the rewrite's rejects of the
 * same records are recognised (position and key) and not sent again.
 */
static call_end deliver_cycle(struct task *t, bool has_survivors, size_t *rejects, size_t *dead_delivered)
{
    instance *inst = &t->sink;
    size_t first = batch_count(t->dead);

    *rejects = 0;
    t->attempt_rejects = 0;
    t->sink_dead_first = t->sink_dead_delivered = first;
    for (unsigned attempt = 0;; attempt++) {
        rdapsync_status status = RDAPSYNC_OK;

        if (has_survivors) {
            /* The previous attempt's rejects come again with the rewrite;
             * those not yet delivered are forgotten here. */
            if (batch_count(t->dead) > first && *dead_delivered <= first)
                batch_truncate(t->dead, first);
            t->counts.errors[STAGE_SINK] -= t->attempt_rejects;
            t->attempt_rejects = 0;
            clear_err(t);
            status = inst->desc->write(inst->state, t->batch, t->err, sizeof(t->err));
            if (t->reject_fatal)
                return CALL_FAILED;
        }
        if (status == RDAPSYNC_OK) {
            call_end end = deliver_dead_letters(t, dead_delivered);
            if (end != CALL_DONE)
                return end;
            t->sink_dead_delivered = *dead_delivered;
            if (!has_survivors)
                return CALL_DONE;
            clear_err(t);
            status = inst->desc->flush ? inst->desc->flush(inst->state, t->err, sizeof(t->err)) : RDAPSYNC_OK;
            if (status == RDAPSYNC_OK) {
                *rejects = t->attempt_rejects;
                return CALL_DONE;
            }
        }
        if (status == RDAPSYNC_RETRY) {
            if (!retry_backoff(t, inst, "write", attempt))
                return CALL_STOPPED;
            continue;
        }
        task_fail(t, "sink %s: %s", inst->desc->name,
                  status == RDAPSYNC_ERROR ? plugin_err(t) : rdapsync_status_str(status));
        return CALL_FAILED;
    }
}

/* With no dead-letter sink configured, dead letters are logged whole (at
 * error level) instead: never dropped silently. */
static void log_dead_letters(struct task *t, size_t from)
{
    for (size_t i = from; i < batch_count(t->dead); i++) {
        const rdapsync_record *r = batch_get(t->dead, i);
        const rdapsync_header *stage = batch_record_header(r, DEAD_LETTER_HEADER_STAGE);
        const rdapsync_header *plugin = batch_record_header(r, DEAD_LETTER_HEADER_PLUGIN);
        char where[512];
        dead_letter_describe(r, where, sizeof(where));
        task_log(t, RDAPSYNC_LOG_ERROR, NULL, "dead letter (no dead-letter sink configured): %s %s: %s: %s",
                 stage ? stage->value : "?", plugin ? plugin->value : "?", where, r->error ? r->error : "");
    }
}

static call_end commit_positions(struct task *t)
{
    size_t count = checkpoint_map_count(t->cycle_positions);
    const rdapsync_position *positions = checkpoint_map_positions(t->cycle_positions);
    char err[TASK_ERR_SIZE];
    struct timespec now;

    if (count == 0)
        return CALL_DONE;
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < count && rc == 0; i++)
        rc = checkpoint_map_set(t->checkpoints, positions[i].stream, positions[i].partition, positions[i].offset);
    if (rc != 0)
        snprintf(err, sizeof(err), "checkpoint: out of memory");
    else
        rc = checkpoint_save(t->dir, t->checkpoints, err, sizeof(err));
    if (rc == 0) {
        clock_gettime(CLOCK_REALTIME, &now);
        task_stats_checkpointed(t->stats, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
                                checkpoint_map_positions(t->checkpoints), checkpoint_map_count(t->checkpoints));
    }
    pthread_mutex_unlock(&t->lock);
    if (rc != 0) {
        task_fail(t, "%s", err);
        return CALL_FAILED;
    }
    if (!t->source.desc->commit)
        return CALL_DONE;
    for (unsigned attempt = 0;; attempt++) {
        clear_err(t);
        rdapsync_status status = t->source.desc->commit(t->source.state, positions, count, t->err, sizeof(t->err));
        if (status == RDAPSYNC_OK)
            return CALL_DONE;
        if (status == RDAPSYNC_RETRY) {
            /* The checkpoint file already holds these positions; a stop
             * here only delays the upstream acknowledgement. */
            if (!retry_backoff(t, &t->source, "commit", attempt))
                return CALL_STOPPED;
            continue;
        }
        task_fail(t, "commit source %s: %s", t->source.desc->name, plugin_err(t));
        return CALL_FAILED;
    }
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * poll -> bad records -> transforms -> sink -> dead letters -> checkpoint
 * -> commit. Under tolerance none, the first bad record ends the cycle's
 * processing: the records before it are still delivered and committed,
 * then the task fails.
 */
static call_end task_cycle(struct task *t, bool *ended)
{
    size_t count, stop_at, survivors = 0, rejects = 0;
    bool record_failed = false;
    call_end end;

    batch_reset(t->batch);
    batch_reset(t->dead);
    checkpoint_map_clear(t->cycle_positions);
    memset(&t->counts, 0, sizeof(t->counts));
    t->reject_fatal = false;

    end = poll_batch(t, ended);
    task_stats_add(t->stats, &(task_counts){.records_in = t->counts.records_in});
    t->counts.records_in = 0;
    if (end != CALL_DONE)
        return end;
    if (task_stopping(t) || *ended)
        set_state(t, TASK_DRAINING);
    count = batch_count(t->batch);
    if (count == 0)
        return CALL_DONE;

    stop_at = count;
    for (size_t i = 0; i < count; i++) {
        rdapsync_record *record = batch_record(t->batch, i);
        t->keep[i] = true;
        if (record->error || record->raw) {
            t->keep[i] = false;
            if (route_bad(t, record, record->error ? record->error : "bad record", STAGE_SOURCE,
                          t->source.desc->name) != 0) {
                stop_at = i;
                record_failed = true;
                break;
            }
            continue;
        }
        end = transform_record(t, i);
        if (end == CALL_STOPPED)
            return CALL_STOPPED; /* nothing delivered, nothing committed: replayed later */
        if (end == CALL_FAILED) {
            stop_at = i;
            record_failed = true;
            break;
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (i >= stop_at) {
            t->keep[i] = false;
            continue;
        }
        const rdapsync_record *record = batch_get(t->batch, i);
        if (checkpoint_map_set(t->cycle_positions, record->position.stream, record->position.partition,
                               record->position.offset) != 0) {
            task_fail(t, "checkpoint: out of memory");
            return CALL_FAILED;
        }
        if (t->keep[i])
            survivors++;
    }
    batch_keep(t->batch, t->keep);

    uint64_t started = now_us();
    size_t dead_delivered = 0;
    end = deliver_cycle(t, survivors > 0, &rejects, &dead_delivered);
    if (end != CALL_DONE)
        return end;
    uint64_t latency = now_us() - started;

    end = commit_positions(t);
    if (end != CALL_FAILED) {
        /* Delivered and checkpointed: the cycle's numbers are true now. */
        t->counts.records_out = survivors - rejects;
        t->counts.dead_lettered = batch_count(t->dead);
        task_stats_count_batch(t->stats, latency);
    }
    if (record_failed)
        return CALL_FAILED;
    return end;
}

/* Adds what the cycle really did: a cycle that did not get delivered
 * contributes only its errors (its records come again). */
static call_end task_cycle_counted(struct task *t, bool *ended)
{
    call_end end = task_cycle(t, ended);
    task_stats_add(t->stats, &t->counts);
    return end;
}

/* Delivers t->dead from *delivered on: to the dead-letter sink, or to the
 * log when none is configured. */
static call_end deliver_dead_letters(struct task *t, size_t *delivered)
{
    size_t count = batch_count(t->dead);

    if (count <= *delivered)
        return CALL_DONE;
    if (!t->dead_letter.ctx) {
        log_dead_letters(t, *delivered);
        *delivered = count;
        return CALL_DONE;
    }
    if (*delivered > 0) {
        /* Only the new ones (sink rejects after a retried write). */
        rdapsync_batch *rest = batch_new(count - *delivered);
        if (!rest) {
            task_fail(t, "dead letters: out of memory");
            return CALL_FAILED;
        }
        for (size_t i = *delivered; i < count; i++)
            batch_copy_record(rest, batch_get(t->dead, i));
        call_end end = deliver(t, &t->dead_letter, rest);
        batch_free(rest);
        if (end == CALL_DONE)
            *delivered = count;
        return end;
    }
    call_end end = deliver(t, &t->dead_letter, t->dead);
    if (end == CALL_DONE)
        *delivered = count;
    return end;
}

task_result task_run(struct task *t)
{
    char err[TASK_ERR_SIZE];
    task_result result = TASK_RESULT_FAILED;
    bool ended = false;

    if (t->ran) {
        task_fail(t, "task_run called twice");
        return TASK_RESULT_FAILED;
    }
    t->ran = true;
    set_state(t, TASK_STARTING);
    pthread_mutex_lock(&t->lock);
    int loaded = checkpoint_load(t->dir, t->checkpoints, err, sizeof(err));
    pthread_mutex_unlock(&t->lock);
    if (loaded != 0) {
        task_fail(t, "%s", err);
        goto done;
    }
    switch (open_all(t)) {
    case CALL_DONE: break;
    case CALL_STOPPED: result = TASK_RESULT_STOPPED; goto done;
    case CALL_FAILED: goto done;
    }
    t->started = true;
    set_state(t, task_stopping(t) ? TASK_DRAINING : TASK_RUNNING);
    task_log(t, RDAPSYNC_LOG_INFO, NULL, "task started");

    for (;;) {
        call_end end = task_cycle_counted(t, &ended);
        if (end == CALL_FAILED)
            goto done;
        if (end == CALL_STOPPED || task_stopping(t)) {
            result = TASK_RESULT_STOPPED;
            break;
        }
        if (ended) {
            result = TASK_RESULT_FINISHED;
            break;
        }
    }
done:
    close_all(t);
    if (result == TASK_RESULT_FAILED) {
        if (!t->error[0])
            task_fail(t, "failed");
        task_stats_set_error(t->stats, t->error);
        task_log(t, RDAPSYNC_LOG_ERROR, NULL, "task failed: %s", t->error);
    } else {
        task_log(t, RDAPSYNC_LOG_INFO, NULL, "task %s", result == TASK_RESULT_FINISHED ? "finished" : "stopped");
    }
    return result;
}
