/*
 * The sink's half of a task's cycles, on a thread of its own (the
 * flusher), so that the task thread polls and transforms the next batch
 * while this one is written and flushed. The handoff holds one cycle: the
 * task thread settles (checkpoints, commits) a cycle before it hands over
 * the next, so the sink only ever has one batch in its hands, its callbacks
 * run one at a time on this thread, and positions are committed in order.
 * See docs/architecture.md, "One cycle of a task".
 */
#include "runtime/task_flush.h"

#include <string.h>
#include <time.h>

#include "base/log.h"
#include "loader/context_internal.h"
#include "model/batch.h"
#include "model/batch_api.h"
#include "runtime/dead_letter.h"

static void clear_err(task_cycle *c) { memset(c->err, 0, sizeof(c->err)); }

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- sink rejects (called from write, so on this thread) ---- */

static bool same_position(const rdapsync_position *a, const rdapsync_position *b)
{
    if (a->partition != b->partition || a->offset != b->offset)
        return false;
    if (!a->stream || !b->stream)
        return a->stream == b->stream;
    return strcmp(a->stream, b->stream) == 0;
}

static bool already_dead_lettered(const task_cycle *c, const rdapsync_record *record)
{
    for (size_t i = c->sink_dead_first; i < c->sink_dead_delivered; i++) {
        const rdapsync_record *d = batch_get(c->dead, i);
        if (same_position(&d->position, &record->position) && d->key_len == record->key_len &&
            (d->key_len == 0 || memcmp(d->key, record->key, d->key_len) == 0))
            return true;
    }
    return false;
}

void task_reject(struct task *t, rdapsync_ctx *ctx, const rdapsync_record *record, const char *reason)
{
    task_cycle *c = t->flushing;
    char where[512];

    if (!reason || !*reason)
        reason = "(no reason given)";
    if (!c) {
        /* Outside write(): there is no cycle to put the record in. */
        dead_letter_describe(record, where, sizeof(where));
        task_fail(t, "%s rejected %s outside write(): %s", context_plugin(ctx), where, reason);
        return;
    }
    if (t->dead_letter.ctx && ctx == t->dead_letter.ctx) {
        /* There is no dead-letter sink for the dead-letter sink: failing is
         * the only way not to lose the record. */
        dead_letter_describe(record, where, sizeof(where));
        task_fail(t, "dead-letter sink %s rejected the dead letter of %s: %s", t->dead_letter.desc->name, where,
                  reason);
        c->reject_fatal = true;
        return;
    }
    c->attempt_rejects++;
    if (already_dead_lettered(c, record)) {
        c->counts.errors[STAGE_SINK]++;
        return;
    }
    if (task_route_bad(t, c, record, reason, STAGE_SINK, context_plugin(ctx)) != 0)
        c->reject_fatal = true;
}

/* ---- delivery ---- */

/* write(batch) then flush(), again from write after any RETRY. Used for
 * the dead-letter sink, whose own rejects fail the task (task_reject). */
static call_end deliver(struct task *t, task_cycle *c, instance *inst, const rdapsync_batch *batch)
{
    for (unsigned attempt = 0;; attempt++) {
        clear_err(c);
        rdapsync_status status = inst->desc->write(inst->state, batch, c->err, sizeof(c->err));
        if (c->reject_fatal)
            return CALL_FAILED;
        if (status == RDAPSYNC_OK) {
            clear_err(c);
            status = inst->desc->flush ? inst->desc->flush(inst->state, c->err, sizeof(c->err)) : RDAPSYNC_OK;
            if (status == RDAPSYNC_OK)
                return CALL_DONE;
        }
        if (status == RDAPSYNC_RETRY) {
            if (!task_retry_backoff(t, inst, "write", attempt, c->err))
                return CALL_STOPPED;
            continue;
        }
        task_fail(t, "%s %s: %s", inst == &t->dead_letter ? "dead-letter sink" : "sink", inst->desc->name,
                  status == RDAPSYNC_ERROR ? task_reason(c->err) : rdapsync_status_str(status));
        return CALL_FAILED;
    }
}

/* With no dead-letter sink configured, dead letters are logged whole (at
 * error level) instead: never dropped silently. */
static void log_dead_letters(struct task *t, const task_cycle *c, size_t from)
{
    for (size_t i = from; i < batch_count(c->dead); i++) {
        const rdapsync_record *r = batch_get(c->dead, i);
        const rdapsync_header *stage = batch_record_header(r, DEAD_LETTER_HEADER_STAGE);
        const rdapsync_header *plugin = batch_record_header(r, DEAD_LETTER_HEADER_PLUGIN);
        char where[512];
        dead_letter_describe(r, where, sizeof(where));
        task_log(t, RDAPSYNC_LOG_ERROR, NULL, "dead letter (no dead-letter sink configured): %s %s: %s: %s",
                 stage ? stage->value : "?", plugin ? plugin->value : "?", where, r->error ? r->error : "");
    }
}

/* Delivers c->dead from *delivered on: to the dead-letter sink, or to the
 * log when none is configured. */
static call_end deliver_dead_letters(struct task *t, task_cycle *c, size_t *delivered)
{
    size_t count = batch_count(c->dead);

    if (count <= *delivered)
        return CALL_DONE;
    if (!t->dead_letter.ctx) {
        log_dead_letters(t, c, *delivered);
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
            batch_copy_record(rest, batch_get(c->dead, i));
        call_end end = deliver(t, c, &t->dead_letter, rest);
        batch_free(rest);
        if (end == CALL_DONE)
            *delivered = count;
        return end;
    }
    call_end end = deliver(t, c, &t->dead_letter, c->dead);
    if (end == CALL_DONE)
        *delivered = count;
    return end;
}

/*
 * write(batch), then make every dead letter of the cycle durable (including
 * the sink's own rejects from that write), and only then flush() the sink.
 * Dead letters go first because a sink that stores source positions with its
 * data (checkpoint_override) treats the whole batch as done once it has
 * flushed: a crash between its flush and the dead-letter flush would lose
 * the rejected records. When flush answers RETRY after the dead letters were
 * written, the rewrite's rejects of the same records are recognised
 * (position and key) and not sent again.
 */
static call_end deliver_cycle(struct task *t, task_cycle *c)
{
    instance *inst = &t->sink;
    size_t first = batch_count(c->dead), dead_delivered = 0;
    bool has_survivors = c->survivors > 0;

    c->rejects = 0;
    c->attempt_rejects = 0;
    c->sink_dead_first = c->sink_dead_delivered = first;
    if (has_survivors)
        task_trace_deliver_begin(t, c);
    for (unsigned attempt = 0;; attempt++) {
        rdapsync_status status = RDAPSYNC_OK;

        if (has_survivors) {
            /* The previous attempt's rejects come again with the rewrite;
             * those not yet delivered are forgotten here. */
            if (batch_count(c->dead) > first && dead_delivered <= first)
                batch_truncate(c->dead, first);
            c->counts.errors[STAGE_SINK] -= c->attempt_rejects;
            c->attempt_rejects = 0;
            clear_err(c);
            uint64_t write_started = task_trace_now(t);
            status = inst->desc->write(inst->state, c->batch, c->err, sizeof(c->err));
            task_trace_stage(t, c, "sink.write", inst, "sink", write_started, (int64_t)c->survivors,
                             status == RDAPSYNC_OK && !c->reject_fatal);
            if (c->reject_fatal)
                return CALL_FAILED;
        }
        if (status == RDAPSYNC_OK) {
            call_end end = deliver_dead_letters(t, c, &dead_delivered);
            if (end != CALL_DONE)
                return end;
            c->sink_dead_delivered = dead_delivered;
            if (!has_survivors)
                return CALL_DONE;
            clear_err(c);
            uint64_t flush_started = task_trace_now(t);
            status = inst->desc->flush ? inst->desc->flush(inst->state, c->err, sizeof(c->err)) : RDAPSYNC_OK;
            task_trace_stage(t, c, "sink.flush", inst, "sink", flush_started, (int64_t)c->survivors,
                             status == RDAPSYNC_OK);
            if (status == RDAPSYNC_OK) {
                c->rejects = c->attempt_rejects;
                task_trace_deliver_end(t, c);
                return CALL_DONE;
            }
        }
        if (status == RDAPSYNC_RETRY) {
            if (!task_retry_backoff(t, inst, "write", attempt, c->err))
                return CALL_STOPPED;
            continue;
        }
        task_fail(t, "sink %s: %s", inst->desc->name,
                  status == RDAPSYNC_ERROR ? task_reason(c->err) : rdapsync_status_str(status));
        return CALL_FAILED;
    }
}

/* ---- the thread and its one-slot handoff ---- */

static void *flusher_main(void *arg)
{
    struct task *t = arg;
    task_flusher *f = &t->flusher;

    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->job && !f->quit)
            pthread_cond_wait(&f->cond, &f->lock);
        if (!f->job)
            break;
        task_cycle *c = f->job;
        pthread_mutex_unlock(&f->lock);

        uint64_t started = now_us();
        t->flushing = c;
        c->delivered = deliver_cycle(t, c);
        t->flushing = NULL;
        c->latency_us = now_us() - started;

        pthread_mutex_lock(&f->lock);
        f->job = NULL;
        pthread_cond_broadcast(&f->cond);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* The thread inherits the task thread's signal mask (the supervisor blocks
 * SIGTERM, SIGINT and SIGHUP), so sinks' system calls are not interrupted. */
int task_flusher_start(struct task *t)
{
    task_flusher *f = &t->flusher;

    f->job = NULL;
    f->quit = false;
    if (pthread_create(&f->thread, NULL, flusher_main, t) != 0)
        return -1;
    f->running = true;
    return 0;
}

void task_flusher_submit(struct task *t, task_cycle *c)
{
    task_flusher *f = &t->flusher;

    pthread_mutex_lock(&f->lock);
    f->job = c;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

call_end task_flusher_wait(struct task *t, const task_cycle *c)
{
    task_flusher *f = &t->flusher;

    pthread_mutex_lock(&f->lock);
    while (f->job)
        pthread_cond_wait(&f->cond, &f->lock);
    pthread_mutex_unlock(&f->lock);
    return c->delivered;
}

void task_flusher_stop(struct task *t)
{
    task_flusher *f = &t->flusher;

    if (!f->running)
        return;
    pthread_mutex_lock(&f->lock);
    f->quit = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    f->running = false;
}
