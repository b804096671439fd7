/*
 * What the task thread (task.c), the flusher (task_flush.c) and the
 * transform stage (task_transform.c) all call: the task's log lines, its
 * failure reason, its clock, retry backoff and the dead-letter route of a
 * record that cannot go on. Kept apart from task.c so that the three
 * threads' files depend on this one, not on each other.
 */
#include "runtime/task_shared.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "base/log.h"
#include "runtime/backoff.h"
#include "runtime/dead_letter.h"

/* ---- small helpers ---- */

void task_log(struct task *t, rdapsync_log_level level, const instance *inst, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    log_vwrite(level, t->pipeline->name, t->index, inst ? rdapsync_kind_str(inst->desc->kind) : NULL,
               inst ? inst->desc->name : NULL, fmt, args);
    va_end(args);
}

void task_fail(struct task *t, const char *fmt, ...)
{
    va_list args;

    pthread_mutex_lock(&t->lock);
    if (!t->error[0]) {
        va_start(args, fmt);
        vsnprintf(t->error, sizeof(t->error), fmt, args);
        va_end(args);
    }
    pthread_mutex_unlock(&t->lock);
}

/* Both threads change what the task is doing (a flusher backoff while the
 * task thread polls), so the state is derived from flags, not set. */
void task_refresh_state(struct task *t)
{
    task_state state = !t->started                  ? TASK_STARTING
                       : atomic_load(&t->retrying)  ? TASK_RETRYING
                       : atomic_load(&t->draining) || atomic_load(&t->stop) ? TASK_DRAINING
                                                                           : TASK_RUNNING;
    pthread_mutex_lock(&t->lock);
    task_stats_set_state(t->stats, state);
    pthread_mutex_unlock(&t->lock);
}

/* ---- time ---- */

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t (*clock_now_ms)(void) = real_now_ms;

int64_t task_now_ms(void) { return clock_now_ms(); }

void task_clock_set(int64_t (*now_ms)(void)) { clock_now_ms = now_ms ? now_ms : real_now_ms; }

/* ---- stop and waiting ---- */

bool task_stop_requested(const struct task *t) { return atomic_load(&((struct task *)t)->stop); }

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

bool task_retry_backoff(struct task *t, const instance *inst, const char *what, unsigned attempt, const char *err)
{
    int64_t delay = backoff_delay_ms(t->pipeline->retry_backoff_initial_ms, t->pipeline->retry_backoff_max_ms,
                                     attempt, backoff_random_unit());
    task_log(t, attempt == 0 ? RDAPSYNC_LOG_WARN : RDAPSYNC_LOG_DEBUG, inst, "%s: retry in %" PRId64 " ms: %s", what,
             delay, task_reason(err));
    task_stats_count_retry(t->stats);
    atomic_fetch_add(&t->retrying, 1);
    task_refresh_state(t);
    bool stopping = task_wait(t, delay);
    atomic_fetch_sub(&t->retrying, 1);
    task_refresh_state(t);
    return !stopping;
}

/* ---- records that cannot go on ---- */

int task_route_bad(struct task *t, task_cycle *c, const rdapsync_record *record, const char *reason,
                   error_stage stage, const char *plugin)
{
    char where[512];

    c->counts.errors[stage]++;
    if (t->pipeline->tolerance == TOLERANCE_NONE) {
        dead_letter_describe(record, where, sizeof(where));
        task_fail(t, "%s %s: %s: %s (errors.tolerance none)", error_stage_str(stage), plugin, where, reason);
        return -1;
    }
    dead_letter_info info = {reason, t->pipeline->name, plugin, stage};
    rdapsync_record *copy = dead_letter_add(c->dead, record, &info);
    if (!copy) {
        dead_letter_describe(record, where, sizeof(where));
        task_fail(t, "dead letter for %s: out of room or memory", where);
        return -1;
    }
    task_protect_dead_letter(t, c->dead, copy);
    return 0;
}
