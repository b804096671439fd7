/*
 * One task: the batch loop of one pipeline. This file is the task thread's
 * side: open, poll, bad records, transforms, checkpoint, source commit,
 * close, and the loop that overlaps them with the flusher thread's sink
 * write + dead letters + sink flush (task_flush.c). The order in
 * task_loop() is the delivery guarantee: nothing reaches the checkpoint or
 * the source's commit before the sink (and the dead-letter sink) flushed
 * it. See docs/architecture.md.
 */
#include "runtime/task_shared.h"
#include "runtime/task_retention.h"
#include "runtime/task_suppress.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/audit.h"
#include "base/log.h"
#include "loader/context.h"
#include "loader/context_internal.h"
#include "loader/loader.h"
#include "model/batch.h"
#include "model/batch_api.h"
#include "model/json_api.h"
#include "runtime/dead_letter.h"
#include "runtime/task.h"
#include "runtime/task_flush.h"
#include "runtime/task_transform.h"

/* ---- small helpers ---- */

static bool task_failed(struct task *t)
{
    pthread_mutex_lock(&t->lock);
    bool failed = t->error[0] != '\0';
    pthread_mutex_unlock(&t->lock);
    return failed;
}

static void clear_err(struct task *t) { memset(t->err, 0, sizeof(t->err)); }

/* ---- time, stop ---- */

void task_test_set_clock(int64_t (*now_ms)(void)) { task_clock_set(now_ms); }

void task_request_stop(struct task *t)
{
    pthread_mutex_lock(&t->lock);
    atomic_store(&t->stop, true);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

bool task_stopping(const struct task *t) { return task_stop_requested(t); }

void task_test_set_transform_split(int split) { task_transform_pin_split(split); }
void task_test_set_transform_share(int hi, double share) { task_transform_pin_share(hi, share); }

/* ---- calls from plugins ---- */

/* A plugin's context forwards what only the task can answer to these
 * (t->owner, set in task_new()). */
static bool owner_stopping(void *self) { return task_stop_requested(self); }

/* Sources may ask from a client library's callback thread (partition
 * assignment), so the map is read and written under the task's lock. */
static bool owner_checkpoint_get(void *self, const char *stream, int32_t partition, int64_t *offset)
{
    struct task *t = self;

    pthread_mutex_lock(&t->lock);
    bool found = checkpoint_map_get(t->checkpoints, stream, partition, offset);
    pthread_mutex_unlock(&t->lock);
    return found;
}

static void owner_checkpoint_override(void *self, rdapsync_ctx *ctx, const char *stream, int32_t partition,
                                      int64_t offset)
{
    struct task *t = self;

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

static void owner_counted(void *self, const char *name, uint64_t delta)
{
    struct task *t = self;
    redaction_tally_add(&t->redactions, name, delta);
}

static void owner_reject(void *self, rdapsync_ctx *ctx, const rdapsync_record *record, const char *reason)
{
    task_reject(self, ctx, record, reason);
}

/* ---- construction ---- */

static int instance_init(struct task *t, instance *inst, const plugin_block *block)
{
    inst->block = block;
    inst->desc = block->plugin->desc;
    inst->ctx = context_new(t->pipeline->name, t->index, t->pipeline->tasks, inst->desc->kind, inst->desc->name,
                            t->state_root, &t->owner);
    return inst->ctx ? 0 : -1;
}

static int cycle_init(task_cycle *c, const pipeline_config *pipeline, size_t max_records)
{
    c->batch = batch_new(max_records);
    /* One dead letter per record at most, plus slack for a sink that
     * rejects a record twice (it is reported, not silently dropped). */
    c->dead = batch_new(max_records * 2);
    c->positions = checkpoint_map_new();
    if (!c->batch || !c->dead || !c->positions)
        return -1;
    if (pipeline->batch_max_bytes > 0)
        batch_set_byte_limit(c->batch, (size_t)pipeline->batch_max_bytes);
    return 0;
}

static void cycle_free(task_cycle *c)
{
    batch_free(c->batch);
    batch_free(c->dead);
    checkpoint_map_free(c->positions);
}

/* Caller frees with task_free(). */
struct task *task_new(const pipeline_config *pipeline, int task_index, const char *state_dir, task_stats *stats)
{
    /* Over-aligned (a multiple of its alignment in size): the transformer
     * keeps each thread's hot fields on cache lines of their own. */
    struct task *t = aligned_alloc(_Alignof(struct task), sizeof(struct task));
    size_t max_records;
    pthread_condattr_t attr;

    if (!t)
        return NULL;
    memset(t, 0, sizeof(*t));
    t->pipeline = pipeline;
    t->index = task_index;
    t->stats = stats;
    t->owner = (context_owner){.self = t,
                               .stopping = owner_stopping,
                               .checkpoint_get = owner_checkpoint_get,
                               .checkpoint_override = owner_checkpoint_override,
                               .reject = owner_reject,
                               /* The tally only feeds the audit trail, which
                                * is opened before any task and kept for the
                                * whole run: without one, a plugin's counter
                                * costs no call into the task. */
                               .counted = audit_active() ? owner_counted : NULL};
    redaction_tally_init(&t->redactions);
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&t->flusher.lock, NULL);
    pthread_cond_init(&t->flusher.cond, NULL);
    pthread_mutex_init(&t->transformer.lock, NULL);
    pthread_cond_init(&t->transformer.cond, NULL);

    t->state_root = strdup(state_dir ? state_dir : "var/state");
    t->dir = t->state_root ? checkpoint_task_dir(t->state_root, pipeline->name, task_index) : NULL;
    t->checkpoints = checkpoint_map_new();
    max_records = pipeline->batch_max_records > 0 ? (size_t)pipeline->batch_max_records : 1;
    t->keep = calloc(max_records, sizeof(*t->keep));
    if (!t->dir || !t->checkpoints || !t->keep)
        goto fail;
    for (size_t i = 0; i < 2; i++)
        if (cycle_init(&t->cycles[i], pipeline, max_records) != 0)
            goto fail;

    if (instance_init(t, &t->source, &pipeline->source) != 0 || instance_init(t, &t->sink, &pipeline->sink) != 0)
        goto fail;
    if (pipeline->has_dead_letter && instance_init(t, &t->dead_letter, &pipeline->dead_letter) != 0)
        goto fail;
    if (pipeline->protect_block.plugin && instance_init(t, &t->protect, &pipeline->protect_block) != 0)
        goto fail;
    if (pipeline->suppress_block.plugin && instance_init(t, &t->suppress, &pipeline->suppress_block) != 0)
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
    context_free(t->protect.ctx);
    context_free(t->suppress.ctx);
    task_trace_free(t);
    for (size_t i = 0; i < 2; i++)
        cycle_free(&t->cycles[i]);
    free(t->keep);
    checkpoint_map_free(t->checkpoints);
    free(t->dir);
    free(t->state_root);
    pthread_cond_destroy(&t->flusher.cond);
    pthread_mutex_destroy(&t->flusher.lock);
    pthread_cond_destroy(&t->transformer.cond);
    pthread_mutex_destroy(&t->transformer.lock);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    redaction_tally_destroy(&t->redactions);
    free(t);
}

/* Read after task_run() returned (the flusher is joined by then). */
const char *task_error(const struct task *t) { return t->error; }
bool task_started(const struct task *t) { return t->started; }
bool task_open_refused(const struct task *t) { return t->open_refused; }
const struct checkpoint_map *task_checkpoints(const struct task *t) { return t->checkpoints; }

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
            if (!task_retry_backoff(t, inst, "open", attempt, t->err))
                return CALL_STOPPED;
            continue;
        }
        /* The block's place tells which of several blocks of one plugin
         * (a sink and a dead-letter sink, say) to fix. */
        const pipeline_config *p = t->pipeline;
        char place[512] = "";
        if (p->file && inst->block->line > 0)
            snprintf(place, sizeof(place), " (%s:%d:%d)", p->file, inst->block->line, inst->block->column);
        t->open_refused = true;
        task_fail(t, "open %s %s%s: %s", rdapsync_kind_str(inst->desc->kind), inst->desc->name, place,
                  task_reason(t->err));
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
    if (t->suppress.ctx && (end = open_instance(t, &t->suppress)) != CALL_DONE)
        return end;
    if (t->protect.ctx && (end = open_instance(t, &t->protect)) != CALL_DONE)
        return end;
    if ((end = open_instance(t, &t->sink)) != CALL_DONE)
        return end;
    for (size_t i = 0; i < t->transform_count; i++)
        if ((end = open_instance(t, &t->transforms[i])) != CALL_DONE)
            return end;
    if (task_failed(t))
        return CALL_FAILED; /* a checkpoint override failed */
    return open_instance(t, &t->source);
}

static void close_all(struct task *t)
{
    close_instance(&t->source);
    for (size_t i = t->transform_count; i > 0; i--)
        close_instance(&t->transforms[i - 1]);
    close_instance(&t->sink);
    close_instance(&t->protect);
    close_instance(&t->suppress);
    close_instance(&t->dead_letter);
}

/* ---- the task thread's half of a cycle ---- */

/* Fills c->batch on this thread alone, processing each poll's records as
 * they come (see TASK_POLL_CHUNK). Returns CALL_DONE (batch ready, maybe empty; *stop_at is
 * where a failing record cut it, else SIZE_MAX), CALL_STOPPED, CALL_FAILED;
 * sets *ended on END. A stop request ends polling, not the cycle. */
static call_end poll_batch(struct task *t, task_cycle *c, bool *ended, size_t *stop_at)
{
    int64_t deadline = task_now_ms() + t->pipeline->batch_max_wait_ms;
    unsigned attempt = 0;
    call_end end = CALL_DONE;

    *stop_at = SIZE_MAX;
    /* The first poll happens even with max_wait 0 (timeout 0: whatever is ready). */
    for (bool first = true; !task_stopping(t); first = false) {
        size_t before = batch_count(c->batch);
        batch_set_poll_limit(c->batch, t->transform_count ? before + TASK_POLL_CHUNK : 0);
        if (batch_room(c->batch) == 0)
            break;
        int64_t remaining = deadline - task_now_ms();
        if (remaining <= 0) {
            if (!first)
                break;
            remaining = 0;
        }
        clear_err(t);
        rdapsync_status status = t->source.desc->poll(t->source.state, c->batch,
                                                      remaining > INT32_MAX ? INT32_MAX : (int)remaining, t->err,
                                                      sizeof(t->err));
        c->counts.records_in += batch_count(c->batch) - before;
        if (status != RDAPSYNC_OK && status != RDAPSYNC_END && status != RDAPSYNC_RETRY) {
            batch_set_poll_limit(c->batch, 0);
            task_fail(t, "poll source %s: %s", t->source.desc->name, task_reason(t->err));
            return CALL_FAILED;
        }
        /* The source's message is in t->err until the records are processed. */
        char reason[sizeof(t->err)];
        if (status == RDAPSYNC_RETRY)
            memcpy(reason, t->err, sizeof(reason));
        end = task_process_polled(t, c, before, stop_at, t->err);
        if (end != CALL_DONE || c->record_failed)
            break;
        if (status == RDAPSYNC_OK) {
            attempt = 0;
            continue;
        }
        if (status == RDAPSYNC_END) {
            *ended = true;
            break;
        }
        memcpy(t->err, reason, sizeof(reason));
        if (!task_retry_backoff(t, &t->source, "poll", attempt++, t->err))
            break;
    }
    batch_set_poll_limit(c->batch, 0);
    return end;
}

/* ABI 1.7: the fill is over and the sink writes the batch next; the
 * transforms that must note what they passed before the sink's flush do so
 * now, once per batch (plugin.h, transform_batch_end). */
static call_end end_batch_transforms(struct task *t)
{
    for (size_t i = 0; i < t->transform_count; i++) {
        const instance *in = &t->transforms[i];
        if (!in->opened || !RDAPSYNC_HAS(rdapsync_plugin, in->desc, transform_batch_end) ||
            !in->desc->transform_batch_end)
            continue;
        clear_err(t);
        if (in->desc->transform_batch_end(in->state, t->err, sizeof(t->err)) != RDAPSYNC_OK) {
            task_fail(t, "end of batch, transform %s: %s", in->desc->name, task_reason(t->err));
            return CALL_FAILED;
        }
    }
    return CALL_DONE;
}

/*
 * poll -> bad records -> transforms -> positions, into c. CALL_DONE: c is
 * ready for the flusher (c->polled may be 0; c->record_failed under
 * tolerance none: the records before the bad one are still to be
 * delivered, then the task fails). CALL_STOPPED: a stop during a transform
 * retry; nothing of c may be delivered (it is replayed later). CALL_FAILED.
 */
static call_end cycle_fill(struct task *t, task_cycle *c, bool *ended)
{
    size_t count, stop_at;
    call_end end;

    batch_reset(c->batch);
    batch_reset(c->dead);
    checkpoint_map_clear(c->positions);
    memset(&c->counts, 0, sizeof(c->counts));
    c->polled = c->survivors = 0;
    c->record_failed = c->reject_fatal = false;
    c->delivered = CALL_FAILED;
    task_trace_fill_begin(t, c);

    end = t->transformer.running ? task_transformer_fill(t, c, ended, &stop_at) : poll_batch(t, c, ended, &stop_at);
    task_stats_add(t->stats, &(task_counts){.records_in = c->counts.records_in});
    c->counts.records_in = 0;
    if (end != CALL_DONE)
        return end;
    if (task_stopping(t) || *ended) {
        atomic_store(&t->draining, true);
        task_refresh_state(t);
    }
    count = c->polled = batch_count(c->batch);
    if (stop_at > count)
        stop_at = count;

    for (size_t i = 0; i < count; i++) {
        if (i >= stop_at) {
            t->keep[i] = false;
            continue;
        }
        const rdapsync_record *record = batch_get(c->batch, i);
        if (checkpoint_map_set(c->positions, record->position.stream, record->position.partition,
                               record->position.offset) != 0) {
            task_fail(t, "checkpoint: out of memory");
            return CALL_FAILED;
        }
        if (t->keep[i])
            c->survivors++;
    }
    task_trace_fill_end(t, c);
    task_suppress_cycle(t, c);
    redaction_tally_take(&t->redactions, &c->redactions);
    batch_keep(c->batch, t->keep);
    return end_batch_transforms(t);
}

/* ABI 1.3: the transforms that keep state of what they passed make it
 * durable now that the sink flushed it, before the checkpoint says so: a
 * crash in between replays the batch against state that already has it,
 * never the other way round (plugin.h, transform_commit). The fill of the
 * next batch is over, so no transform call runs meanwhile. */
static call_end commit_transforms(struct task *t, const rdapsync_position *positions, size_t count)
{
    for (size_t i = 0; i < t->transform_count; i++) {
        const instance *in = &t->transforms[i];
        if (!in->opened || !RDAPSYNC_HAS(rdapsync_plugin, in->desc, transform_commit) || !in->desc->transform_commit)
            continue;
        clear_err(t);
        if (in->desc->transform_commit(in->state, positions, count, t->err, sizeof(t->err)) != RDAPSYNC_OK) {
            task_fail(t, "commit transform %s: %s", in->desc->name, task_reason(t->err));
            return CALL_FAILED;
        }
    }
    return CALL_DONE;
}

/* Transforms' state, the checkpoint file, then the source's commit: on the
 * task thread, so the source's callbacks never run concurrently with each
 * other. */
static call_end commit_positions(struct task *t, task_cycle *c)
{
    size_t count = checkpoint_map_count(c->positions);
    const rdapsync_position *positions = checkpoint_map_positions(c->positions);
    char err[TASK_ERR_SIZE];
    struct timespec now;

    if (count == 0)
        return CALL_DONE;
    if (commit_transforms(t, positions, count) != CALL_DONE)
        return CALL_FAILED;
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
            if (!task_retry_backoff(t, &t->source, "commit", attempt, t->err))
                return CALL_STOPPED;
            continue;
        }
        task_fail(t, "commit source %s: %s", t->source.desc->name, task_reason(t->err));
        return CALL_FAILED;
    }
}

/* Adds what a cycle really did: one that was not delivered contributes
 * only its errors (its records come again). */
static void cycle_count(struct task *t, task_cycle *c, bool delivered)
{
    if (!delivered) {
        c->counts.records_out = 0;
        c->counts.dead_lettered = 0;
        c->counts.dropped = 0;
    }
    task_stats_add(t->stats, &c->counts);
}

/* A settled cycle's documents go now, not when its slot is filled again:
 * otherwise a serial loop (batch.overlap: false) would still hold two
 * batches, and the overlapped one would hold them longer. */
static void cycle_release(task_cycle *c)
{
    batch_reset(c->batch);
    batch_reset(c->dead);
}

/* Waits for the flusher to deliver c (handed over before), then
 * checkpoints and commits its positions. */
static call_end cycle_settle(struct task *t, task_cycle *c)
{
    call_end end = task_flusher_wait(t, c);

    if (end != CALL_DONE) {
        task_trace_settle(t, c, false);
        cycle_count(t, c, false);
        cycle_release(c);
        return end;
    }
    uint64_t commit_started = task_trace_now(t);
    end = commit_positions(t, c);
    task_trace_stage(t, c, "checkpoint.commit", &t->source, "source", commit_started, (int64_t)c->polled,
                     end != CALL_FAILED);
    task_trace_settle(t, c, end != CALL_FAILED);
    if (end != CALL_FAILED) {
        /* Delivered and checkpointed: the cycle's numbers are true now. */
        c->counts.records_out = c->survivors - c->rejects;
        c->counts.dead_lettered = batch_count(c->dead);
        task_stats_count_batch(t->stats, c->latency_us);
        redaction_counts_audit(&c->redactions, t->pipeline->name, t->index, c->polled);
    }
    cycle_count(t, c, end != CALL_FAILED);
    cycle_release(c);
    return c->record_failed ? CALL_FAILED : end;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* batch.overlap: auto. Overlap costs a second batch of memory; it pays
 * when delivering a batch (sink write, dead letters, flush) takes a real
 * share of filling one, and at least a millisecond: a database commit or
 * an fsync, not a discard sink. Decided again after every batch. */
static bool overlap_pays(const task_cycle *c) { return c->latency_us >= 1000 && c->latency_us * 10 >= c->fill_us; }

/*
 * The overlapped loop. While the flusher writes and flushes batch N (cycle
 * `inflight`), this thread polls and transforms batch N+1 into the other
 * cycle; then it settles N (checkpoint, commit) and only then hands N+1
 * over. So: at most two batches are alive (one flushed, one filled), the
 * sink sees one batch at a time and in order, positions are committed in
 * order and only after their flush, and a slow sink still slows the
 * source (it cannot get more than one batch ahead). A failed or stopped
 * N abandons N+1 uncommitted; it is delivered again after a restart.
 */
static call_end task_loop(struct task *t, bool *ended)
{
    task_cycle *inflight = NULL;
    batch_overlap mode = t->pipeline->batch_overlap;
    /* auto starts serial: the first batch tells whether overlap pays. */
    bool overlap = mode == BATCH_OVERLAP_ON;

    for (size_t next = 0;; next ^= 1) {
        task_cycle *c = &t->cycles[next];
        uint64_t fill_started = mono_us();
        call_end filled = cycle_fill(t, c, ended);

        c->fill_us = mono_us() - fill_started;
        if (inflight) {
            call_end end = cycle_settle(t, inflight);
            if (mode == BATCH_OVERLAP_AUTO)
                overlap = overlap_pays(inflight);
            inflight = NULL;
            if (end == CALL_DONE)
                task_retention_tick(t); /* the flusher is idle until c is handed over */
            if (end != CALL_DONE) {
                /* The batch filled meanwhile is abandoned. */
                if (filled == CALL_DONE)
                    task_trace_settle(t, c, false);
                cycle_count(t, c, false);
                return end;
            }
        }
        if (filled != CALL_DONE) {
            cycle_count(t, c, false);
            return filled;
        }
        if (c->polled > 0) {
            task_flusher_submit(t, c);
            inflight = c;
            /* Without overlap the batch is settled before the next one is
             * polled: half the memory, no parallelism. */
            if (!overlap) {
                call_end end = cycle_settle(t, inflight);
                if (mode == BATCH_OVERLAP_AUTO)
                    overlap = overlap_pays(inflight);
                inflight = NULL;
                if (end != CALL_DONE)
                    return end;
                task_retention_tick(t);
            }
        } else {
            cycle_count(t, c, false);
            if (!inflight)
                task_retention_tick(t);
        }
        if (c->record_failed || *ended || task_stopping(t))
            break;
    }
    return inflight ? cycle_settle(t, inflight) : CALL_DONE;
}

/* batch.transform_thread: auto takes a second CPU for the transforms when
 * the pipeline's tasks leave one idle; with as many tasks as CPUs, the
 * tasks already use them all and handoffs would only add work. Nor when
 * every transform is light (RDAPSYNC_TRANSFORM_LIGHT): the handoffs would
 * cost more than the transforms (delta alone: 0.3-0.5 s of CPU per 100,000
 * records more with the thread than without, docs/benchmarks.md). */
static bool transform_thread_wanted(const struct task *t)
{
    if (t->transform_count == 0 || t->pipeline->transform_thread == TRANSFORM_THREAD_OFF)
        return false;
    if (t->pipeline->transform_thread == TRANSFORM_THREAD_ON)
        return true;
    size_t light = 0;
    for (size_t k = 0; k < t->transform_count; k++)
        light += (loader_plugin_flags(t->transforms[k].desc) & RDAPSYNC_TRANSFORM_LIGHT) != 0;
    if (light == t->transform_count)
        return false;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > t->pipeline->tasks;
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
    task_refresh_state(t);
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
    task_refresh_state(t);
    if (task_trace_start(t) != 0) {
        task_fail(t, "tracing: out of memory");
        goto done;
    }
    task_retention_start(t);
    if (task_flusher_start(t) != 0) {
        task_fail(t, "cannot start the flusher thread");
        goto done;
    }
    if (transform_thread_wanted(t) && task_transformer_start(t) != 0) {
        task_flusher_stop(t);
        task_fail(t, "cannot start the transform thread");
        goto done;
    }
    task_log(t, RDAPSYNC_LOG_INFO, NULL, "task started%s", t->transformer.running ? " (transform thread)" : "");

    call_end end = task_loop(t, &ended);
    task_transformer_stop(t);
    task_flusher_stop(t);
    if (end == CALL_FAILED)
        goto done;
    result = end == CALL_STOPPED || task_stopping(t) ? TASK_RESULT_STOPPED : TASK_RESULT_FINISHED;
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
