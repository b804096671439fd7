/*
 * The transform stage of a task: bad records to the dead-letter path, the
 * others through the pipeline's transforms, the output compacted.
 *
 * Serial (batch.transform_thread: false, or no transforms), the task thread
 * runs it after each poll. Threaded, a thread of its own (the transformer)
 * takes part of it while the task thread polls the next records: the
 * source fills one of three small chunk batches (a ring) and hands it
 * over; the transformer moves a chunk's records into the cycle's batch, in
 * the order they were polled, and runs the stages the task thread left
 * them. The task thread runs the first stages right after its poll, while
 * the documents are in its core's cache, and on a share of the records one
 * more, when that stage may overlap itself; the split is chosen from
 * measured costs after every batch (rebalance()). Parsing (in the source)
 * and transforming then use two CPUs, which is where a pipeline with
 * transforms spends its time. Ordering and delivery are unchanged: records
 * reach the batch in source order, positions are taken from the batch once
 * the fill is over, source callbacks stay on the task thread, and a
 * transform's calls run one at a time unless it declared them concurrent.
 * See docs/architecture.md, "The transform thread".
 */
#include "runtime/task_transform.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loader/loader.h"
#include "model/batch.h"
#include "model/batch_api.h"
#include "model/json_api.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* How transforms [from, to) ended for one record. */
typedef enum verdict { V_OK = 0, V_DROPPED, V_FAILED, V_STOPPED } verdict;

/*
 * Runs transforms [from, to) on `record` of `batch` in the record's build
 * scope. V_FAILED leaves the reason in err and the failing transform in
 * *failed; V_STOPPED: a stop during a retry. `spent` (may be NULL) gets
 * each transform's time added, in ns.
 */
static verdict run_chain(struct task *t, rdapsync_batch *batch, rdapsync_record *record, size_t from, size_t to,
                         char *err, const instance **failed, uint64_t *spent)
{
    verdict v = V_OK;

    json_api_scope_begin(record->value, 8192);
    for (size_t k = from; k < to && v == V_OK; k++) {
        instance *inst = &t->transforms[k];
        uint64_t started = spent ? now_ns() : 0;
        uint64_t traced = task_trace_now(t);
        for (unsigned attempt = 0;; attempt++) {
            memset(err, 0, TASK_ERR_SIZE);
            rdapsync_status status = inst->desc->transform(inst->state, batch, record, err, TASK_ERR_SIZE);
            if (status == RDAPSYNC_OK)
                break;
            if (status == RDAPSYNC_DROP) {
                v = V_DROPPED;
                break;
            }
            if (status == RDAPSYNC_RETRY) {
                if (task_retry_backoff(t, inst, "transform", attempt, err))
                    continue;
                v = V_STOPPED;
                break;
            }
            /* ERROR, or an answer a transform may not give. */
            if (status != RDAPSYNC_ERROR)
                snprintf(err, TASK_ERR_SIZE, "transform answered %s", rdapsync_status_str(status));
            *failed = inst;
            v = V_FAILED;
            break;
        }
        if (spent)
            spent[k] += now_ns() - started;
        if (traced)
            task_trace_transform(t, k, traced, otel_now_ns());
    }
    json_api_scope_end();
    return v;
}

/*
 * Keeps the output, not the input and the transforms' leftovers, for the
 * rest of the record's way through `batch`. The last stage of the chain
 * (number n, after the n transforms): `spent` (may be NULL) gets its time
 * in spent[n]. A failure to copy keeps the record as it is.
 */
static void compact_record(struct task *t, rdapsync_batch *batch, rdapsync_record *record, uint64_t *spent)
{
    uint64_t started = spent ? now_ns() : 0;
    rdapsync_value *compact = json_api_compact(record->value);
    if (compact)
        batch_record_set_value(batch, record, compact);
    if (spent)
        spent[t->transform_count] += now_ns() - started;
}

/*
 * Record i of c after stages [0, from) (run earlier, with `early` as their
 * verdict): the rest of the chain, then the output is compacted, unless
 * that was done already (from > n). CALL_DONE also when the record left
 * the batch (dropped or dead-lettered).
 */
static call_end finish_record(struct task *t, task_cycle *c, size_t i, size_t from, verdict early,
                              const instance *early_failed, char *err, uint64_t *spent)
{
    rdapsync_record *record = batch_record(c->batch, i);
    const instance *failed = early_failed;
    verdict v = early;

    if (v == V_OK && from < t->transform_count)
        v = run_chain(t, c->batch, record, from, t->transform_count, err, &failed, spent);
    switch (v) {
    case V_OK: break;
    case V_DROPPED:
        t->keep[i] = false;
        c->counts.dropped++;
        return CALL_DONE;
    case V_STOPPED: return CALL_STOPPED;
    case V_FAILED:
        t->keep[i] = false;
        /* An early failure's reason travelled as the record's error text. */
        return task_route_bad(t, c, record, task_reason(early == V_FAILED ? record->error : err), STAGE_TRANSFORM,
                              failed->desc->name) == 0
                   ? CALL_DONE
                   : CALL_FAILED;
    }
    if (from <= t->transform_count)
        compact_record(t, c->batch, record, spent);
    return CALL_DONE;
}

/* Records [from, count) of c: the bad ones to the dead-letter path, the
 * others through the rest of the chain (`early`: what the stages the task
 * thread ran did to each, record i - from at index i - from; NULL when it
 * ran none). */
static call_end process_range(struct task *t, task_cycle *c, size_t from, size_t *stop_at, char *err,
                              const task_chunk_early *early, uint64_t *spent)
{
    size_t count = batch_count(c->batch);

    for (size_t i = from; i < count; i++) {
        rdapsync_record *record = batch_record(c->batch, i);
        verdict v = early ? (verdict)early->verdict[i - from] : V_OK;
        t->keep[i] = true;
        if (v == V_OK && (record->error || record->raw)) {
            t->keep[i] = false;
            if (task_route_bad(t, c, record, record->error ? record->error : "bad record", STAGE_SOURCE,
                               t->source.desc->name) != 0) {
                *stop_at = i;
                c->record_failed = true;
                return CALL_DONE;
            }
            continue;
        }
        /* Without transforms a parsed document is already as compact as it
         * gets (its arena is sized from its text): nothing to do. */
        if (t->transform_count == 0)
            continue;
        call_end end = finish_record(t, c, i, early ? early->to[i - from] : 0, v,
                                     early ? early->failed[i - from] : NULL, err, spent);
        if (end == CALL_STOPPED)
            return CALL_STOPPED;
        if (end == CALL_FAILED) {
            *stop_at = i;
            c->record_failed = true;
            return CALL_DONE;
        }
    }
    return CALL_DONE;
}

call_end task_process_polled(struct task *t, task_cycle *c, size_t from, size_t *stop_at, char *err)
{
    return process_range(t, c, from, stop_at, err, NULL, NULL);
}

/* ---- the transformer thread ---- */

/* Tests pin the split (task.h); -1: measured. */
static int forced_split = -1, forced_hi = -1;
static double forced_share = 0;

void task_transform_pin_split(int split) { forced_split = split; }
void task_transform_pin_share(int hi, double share)
{
    forced_hi = hi;
    forced_share = share < 0 ? 0 : share > 1 ? 1 : share;
}

/* Stages [lo, hi) may run on both threads at once: transforms that say so,
 * and the compaction (stage n), which is the host's own. */
static bool concurrent(const struct task *t, size_t lo, size_t hi)
{
    for (size_t k = lo; k < hi; k++)
        if (k < t->transform_count &&
            !(loader_plugin_flags(t->transforms[k].desc) & RDAPSYNC_TRANSFORM_CONCURRENT))
            return false;
    return hi > lo && hi <= t->transform_count + 1;
}

/* The pinned arrangement of the tests, within what the chain allows. */
static void force_split(struct task *t, task_transformer *x)
{
    size_t n = t->transform_count;
    x->split = (size_t)forced_split < n + 1 ? (size_t)forced_split : n + 1;
    x->split_hi = forced_hi > (int)x->split ? (size_t)forced_hi : x->split;
    x->share = concurrent(t, x->split, x->split_hi) ? forced_share : 0;
    if (x->share == 0)
        x->split_hi = x->split;
}

/* Moves chunk k's records into the cycle's batch and processes them. */
static void transform_chunk(struct task *t, task_transformer *x, size_t k)
{
    task_cycle *c = x->cycle;
    rdapsync_batch *chunk = x->chunks[k];
    size_t from = batch_count(c->batch), n = batch_count(chunk);
    uint64_t started = now_ns();

    /* After a failure or a stop the rest of the fill is not delivered:
     * its records come again after a restart, like those of a cut batch. */
    if (x->end == CALL_DONE && !c->record_failed) {
        for (size_t i = 0; i < n; i++) {
            if (!batch_move_record(c->batch, chunk, i)) {
                task_fail(t, "transform stage: out of memory");
                x->end = CALL_FAILED;
                break;
            }
        }
        if (x->end == CALL_DONE) {
            x->end = process_range(t, c, from, &x->stop_at, x->err, &x->early[k], x->spent_x);
            x->records += n;
        }
    }
    batch_reset(chunk);
    x->busy_ns += now_ns() - started;
}

/*
 * Waits, briefly spinning first, until full[k] is `want` (or, for the
 * transformer, a quit). A handoff happens every 32 records, a few hundred
 * microseconds apart; sleeping on the condition variable at each one costs
 * a wake-up that can take tens of microseconds on a virtual machine, so a
 * thread that is about to get its next chunk spins for a few microseconds
 * first. The spin adapts (*shift, the caller thread's own): a wait that
 * ended while spinning doubles the next one's budget, up to 2,000 pauses;
 * one that had to sleep halves it, down to 15. A thread that always waits
 * long (its side of the chain is much cheaper than the other's, e.g. a
 * light transform after a parse) then stops burning CPU on spins that
 * never succeed. Returns with the lock held.
 */
#define SPIN_MAX 2000
#define SPIN_SHIFT_MAX 7
static void wait_chunk(task_transformer *x, size_t k, bool want, bool or_quit, unsigned *shift)
{
    int budget = SPIN_MAX >> *shift;
    bool ready = false;
    for (int spin = 0; spin < budget; spin++) {
        if (atomic_load_explicit(&x->full[k], memory_order_acquire) == want) {
            ready = true;
            break;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    if (ready && *shift > 0)
        (*shift)--;
    else if (!ready && *shift < SPIN_SHIFT_MAX)
        (*shift)++;
    pthread_mutex_lock(&x->lock);
    while (atomic_load(&x->full[k]) != want && !(or_quit && x->quit))
        pthread_cond_wait(&x->cond, &x->lock);
}

static void *transformer_main(void *arg)
{
    struct task *t = arg;
    task_transformer *x = &t->transformer;

    for (;;) {
        wait_chunk(x, x->next, true, true, &x->spin_shift_x);
        if (x->quit)
            break;
        size_t k = x->next;
        pthread_mutex_unlock(&x->lock);
        size_t n = batch_count(x->chunks[k]);
        transform_chunk(t, x, k);
        pthread_mutex_lock(&x->lock);
        atomic_store(&x->full[k], false);
        x->queued -= n;
        x->next = (x->next + 1) % TASK_CHUNKS;
        x->held = batch_count(x->cycle->batch);
        x->over_bytes = batch_room(x->cycle->batch) == 0 && x->held < x->max_records;
        x->halt = x->end != CALL_DONE || x->cycle->record_failed;
        pthread_cond_broadcast(&x->cond);
        pthread_mutex_unlock(&x->lock);
    }
    pthread_mutex_unlock(&x->lock);
    return NULL;
}

/* n zeroed counters on cache lines no other allocation shares (free()). */
static uint64_t *counters_new(size_t n)
{
    size_t bytes = (n * sizeof(uint64_t) + 63) / 64 * 64;
    uint64_t *c = aligned_alloc(64, bytes ? bytes : 64);
    if (c)
        memset(c, 0, bytes ? bytes : 64);
    return c;
}

static void transformer_free(task_transformer *x)
{
    for (int k = 0; k < TASK_CHUNKS; k++) {
        batch_free(x->chunks[k]);
        x->chunks[k] = NULL;
    }
    free(x->spent_task);
    free(x->spent_x);
    free(x->cost);
    x->spent_task = x->spent_x = NULL;
    x->cost = NULL;
}

int task_transformer_start(struct task *t)
{
    task_transformer *x = &t->transformer;
    size_t n = t->transform_count;

    x->max_records = (size_t)t->pipeline->batch_max_records;
    /* Per stage: the n transforms, then the compaction. */
    x->spent_task = counters_new(n + 1);
    x->spent_x = counters_new(n + 1);
    x->cost = calloc(n + 1, sizeof(*x->cost));
    if (!x->spent_task || !x->spent_x || !x->cost)
        goto fail;
    for (int k = 0; k < TASK_CHUNKS; k++) {
        x->chunks[k] = batch_new(TASK_POLL_CHUNK);
        if (!x->chunks[k])
            goto fail;
        atomic_store(&x->full[k], false);
    }
    x->next = 0;
    x->queued = 0;
    x->quit = false;
    x->cycle = NULL;
    x->split = x->split_hi = 0;
    x->share = 0;
    if (forced_split >= 0)
        force_split(t, x);
    x->share_credit = 0;
    x->poll_cost = x->stage_cost = 0;
    if (pthread_create(&x->thread, NULL, transformer_main, t) != 0)
        goto fail;
    x->running = true;
    return 0;
fail:
    transformer_free(x);
    return -1;
}

void task_transformer_stop(struct task *t)
{
    task_transformer *x = &t->transformer;

    if (!x->running)
        return;
    pthread_mutex_lock(&x->lock);
    x->quit = true;
    pthread_cond_broadcast(&x->cond);
    pthread_mutex_unlock(&x->lock);
    pthread_join(x->thread, NULL);
    x->running = false;
    transformer_free(x);
}

/* Waits until the transformer has taken every chunk handed over. */
static void transformer_drain(task_transformer *x)
{
    /* The transformer takes the chunks in ring order: the last one handed
     * over is the last one it frees. */
    for (size_t k = 0; k < TASK_CHUNKS; k++) {
        wait_chunk(x, k, false, false, &x->spin_shift_task);
        pthread_mutex_unlock(&x->lock);
    }
}

/*
 * After a fill: the costs it measured (smoothed over fills), and how to
 * split the next one. The chain's stages are the n transforms and the
 * compaction (stage n). Each record runs stages [0, split) on the task
 * thread right after the poll; when stage `split` may overlap itself, a
 * `share` of the records runs it there too (split_hi = split + 1); the
 * transformer runs the rest, after its own work (moving the records into
 * the batch). The choice makes the busier thread as little busy as
 * possible:
 *   task thread  poll + [0, split) + share x stage split
 *   transformer  moving + (1 - share) x stage split + [split_hi, n]
 * Sharing a wider range (whole records on either thread) balances as well
 * on paper but measured 10 % slower: the task thread's own records are
 * cheapest to transform right after their parse, so it should take the
 * chain's first stages whole.
 */
static void rebalance(struct task *t, task_transformer *x)
{
    size_t n = t->transform_count, stages = n + 1;
    double r = (double)x->records, spent = 0, total = 0;

    if (forced_split >= 0) {
        force_split(t, x);
        goto reset;
    }
    if (x->records < TASK_POLL_CHUNK)
        goto reset; /* too few records to tell */
    bool first = x->poll_cost == 0;
    for (size_t k = 0; k < stages; k++) {
        double per = (double)(x->spent_task[k] + x->spent_x[k]) / r;
        x->cost[k] = first ? per : 0.7 * x->cost[k] + 0.3 * per;
        spent += (double)x->spent_x[k];
    }
    double poll = (double)x->poll_ns / r, stage = ((double)x->busy_ns - spent) / r;
    if (stage < 0)
        stage = 0;
    x->poll_cost = first ? poll : 0.7 * x->poll_cost + 0.3 * poll;
    x->stage_cost = first ? stage : 0.7 * x->stage_cost + 0.3 * stage;
    for (size_t k = 0; k < stages; k++)
        total += x->cost[k];

    size_t best_lo = 0, best_hi = 0;
    double best_load = -1, best_share = 0, current_load = -1, current_share = 0;
    double before = 0; /* cost of [0, lo) */
    for (size_t lo = 0; lo <= stages; lo++) {
        for (size_t hi = lo; hi <= lo + 1 && hi <= stages; hi++) {
            if (hi > lo && !concurrent(t, lo, hi))
                break;
            double a = x->poll_cost + before, b = x->stage_cost + (total - before), share = 0;
            /* Moving a share f of stage lo to the task thread adds f x its
             * cost there and takes it from the transformer: even them out. */
            if (hi > lo && b > a && x->cost[lo] > 0) {
                share = (b - a) / (2 * x->cost[lo]);
                share = share > 1 ? 1 : share;
                a += share * x->cost[lo];
                b -= share * x->cost[lo];
            }
            double load = a > b ? a : b;
            if (lo == x->split && hi == x->split_hi) {
                current_load = load;
                current_share = share;
            }
            if (best_load < 0 || load < best_load) {
                best_lo = lo;
                best_hi = hi;
                best_load = load;
                best_share = share;
            }
        }
        if (lo < stages)
            before += x->cost[lo];
    }
    /* A choice within a few percent of the current one is a tie: keep the
     * current arrangement rather than move stages between threads each
     * batch (its share follows the costs freely). */
    if (current_load >= 0 && best_load > 0.95 * current_load) {
        best_lo = x->split;
        best_hi = x->split_hi;
        best_share = current_share;
    }
    if (best_share == 0)
        best_hi = best_lo;
    if (best_lo != x->split || best_hi != x->split_hi)
        task_log(t, RDAPSYNC_LOG_DEBUG, NULL,
                 "transform split [0,%zu) -> [0,%zu), [%zu,%zu) shared %.2f (per record: poll %.1f us, stages %.1f us, "
                 "moving %.1f us)",
                 x->split, best_lo, best_lo, best_hi, best_share, x->poll_cost / 1000, total / 1000,
                 x->stage_cost / 1000);
    x->split = best_lo;
    x->split_hi = best_hi;
    x->share = best_share;
reset:
    memset(x->spent_task, 0, stages * sizeof(*x->spent_task));
    memset(x->spent_x, 0, stages * sizeof(*x->spent_x));
    x->poll_ns = x->busy_ns = 0;
    x->records = 0;
}

/* Stages [0, x->split) on chunk k's records, on the task thread, and
 * [0, x->split_hi) on x->share of them (the compaction too when that range
 * covers it). CALL_STOPPED on a stop during a retry, CALL_FAILED when out
 * of memory. */
static call_end early_chunk(struct task *t, task_transformer *x, size_t k)
{
    rdapsync_batch *chunk = x->chunks[k];
    size_t n = t->transform_count;

    for (size_t i = 0, count = batch_count(chunk); i < count; i++) {
        rdapsync_record *record = batch_record(chunk, i);
        const instance *failed = NULL;
        verdict v = V_OK;
        size_t to = x->split;
        if (x->share > 0) {
            x->share_credit += x->share;
            if (x->share_credit >= 1) {
                x->share_credit -= 1;
                to = x->split_hi;
            }
        }
        x->early[k].to[i] = (uint32_t)to;
        if (!record->error && !record->raw && to > 0) {
            v = run_chain(t, chunk, record, 0, to < n ? to : n, t->err, &failed, x->spent_task);
            if (v == V_OK && to > n)
                compact_record(t, chunk, record, x->spent_task);
        }
        if (v == V_STOPPED)
            return CALL_STOPPED;
        /* The reason travels with the record to the thread that owns the
         * cycle's dead letters. */
        if (v == V_FAILED && batch_record_set_error(chunk, record, task_reason(t->err)) != 0) {
            task_fail(t, "transform stage: out of memory");
            return CALL_FAILED;
        }
        x->early[k].verdict[i] = (unsigned char)v;
        x->early[k].failed[i] = failed;
    }
    return CALL_DONE;
}

call_end task_transformer_fill(struct task *t, task_cycle *c, bool *ended, size_t *stop_at)
{
    task_transformer *x = &t->transformer;
    int64_t deadline = task_now_ms() + t->pipeline->batch_max_wait_ms;
    unsigned attempt = 0;
    size_t k = 0;
    call_end end = CALL_DONE;

    pthread_mutex_lock(&x->lock);
    x->cycle = c;
    x->end = CALL_DONE;
    x->stop_at = SIZE_MAX;
    x->held = 0;
    x->over_bytes = x->halt = false;
    /* The transformer takes the chunks in turn, across fills too. */
    k = x->next;
    pthread_mutex_unlock(&x->lock);

    /* The first poll happens even with max_wait 0 (timeout 0: whatever is ready). */
    for (bool first = true; !task_stop_requested(t); first = false) {
        rdapsync_batch *chunk = x->chunks[k];
        size_t room;

        /* Chunk k is free once the transformer is done with it; the batch
         * takes what is held plus what is still on its way. */
        wait_chunk(x, k, false, false, &x->spin_shift_task);
        size_t taken = x->held + x->queued;
        bool stop = x->halt || x->over_bytes;
        pthread_mutex_unlock(&x->lock);
        if (stop || taken >= x->max_records)
            break;
        room = x->max_records - taken;
        batch_set_poll_limit(chunk, room < TASK_POLL_CHUNK ? room : 0);

        int64_t remaining = deadline - task_now_ms();
        if (remaining <= 0) {
            if (!first)
                break;
            remaining = 0;
        }
        memset(t->err, 0, sizeof(t->err));
        uint64_t started = now_ns();
        rdapsync_status status = t->source.desc->poll(t->source.state, chunk,
                                                      remaining > INT32_MAX ? INT32_MAX : (int)remaining, t->err,
                                                      sizeof(t->err));
        x->poll_ns += now_ns() - started;
        size_t polled = batch_count(chunk);
        c->counts.records_in += polled;
        if (status != RDAPSYNC_OK && status != RDAPSYNC_END && status != RDAPSYNC_RETRY) {
            task_fail(t, "poll source %s: %s", t->source.desc->name, task_reason(t->err));
            end = CALL_FAILED;
            break;
        }
        if (polled > 0) {
            char reason[TASK_ERR_SIZE];
            if (status == RDAPSYNC_RETRY)
                memcpy(reason, t->err, sizeof(reason));
            if ((end = early_chunk(t, x, k)) != CALL_DONE)
                break;
            if (status == RDAPSYNC_RETRY)
                memcpy(t->err, reason, sizeof(reason));
            pthread_mutex_lock(&x->lock);
            atomic_store(&x->full[k], true);
            x->queued += polled;
            pthread_cond_broadcast(&x->cond);
            pthread_mutex_unlock(&x->lock);
            k = (k + 1) % TASK_CHUNKS;
        }
        if (status == RDAPSYNC_OK) {
            attempt = 0;
            continue;
        }
        if (status == RDAPSYNC_END) {
            *ended = true;
            break;
        }
        if (!task_retry_backoff(t, &t->source, "poll", attempt++, t->err))
            break;
    }
    transformer_drain(x);
    /* Records polled but not handed over (a failed poll, a stop in an
     * early transform) are not delivered: they come again. */
    batch_reset(x->chunks[k]);
    pthread_mutex_lock(&x->lock);
    x->cycle = NULL;
    if (end == CALL_DONE)
        end = x->end;
    *stop_at = x->stop_at;
    pthread_mutex_unlock(&x->lock);
    rebalance(t, x);
    return end;
}
