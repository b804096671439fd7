/*
 * Supervision: a thread per task slot that runs attempts of the task until
 * it finishes, is stopped, or fails too often. Restart waits are timed
 * condition-variable waits, so a stop request ends them at once.
 */
#include "runtime/supervisor.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "runtime/backoff.h"
#include "runtime/task.h"

typedef struct slot {
    supervisor *sup;
    int index;
    pthread_t thread;
    bool thread_started;
    task_stats *stats;
    struct task *current; /* under sup->lock */
    atomic_bool ended;
    bool failed;        /* circuit open */
    bool ever_started;  /* some attempt got its plugins open */
} slot;

struct supervisor {
    const pipeline_config *pipeline;
    char *state_dir;
    supervisor_notify_fn notify;
    void *opaque;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    slot *slots;
    size_t slot_count;
};

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t (*clock_now_ms)(void) = real_now_ms;

void supervisor_test_set_clock(int64_t (*now_ms)(void)) { clock_now_ms = now_ms ? now_ms : real_now_ms; }

/* ---- restart history ---- */

int restart_history_init(restart_history *history, int64_t max_failures)
{
    memset(history, 0, sizeof(*history));
    if (max_failures <= 0)
        return 0;
    history->times = calloc((size_t)max_failures, sizeof(*history->times));
    if (!history->times)
        return -1;
    history->capacity = (size_t)max_failures;
    return 0;
}

void restart_history_free(restart_history *history)
{
    free(history->times);
    memset(history, 0, sizeof(*history));
}

size_t restart_history_recent(const restart_history *history, int64_t now_ms, int64_t window_ms)
{
    size_t recent = 0;
    for (size_t i = 0; i < history->count; i++)
        if (now_ms - history->times[i] < window_ms)
            recent++;
    return recent;
}

bool restart_history_record(restart_history *history, int64_t now_ms, int64_t window_ms)
{
    if (history->capacity == 0)
        return false;
    history->times[history->next] = now_ms;
    history->next = (history->next + 1) % history->capacity;
    if (history->count < history->capacity)
        history->count++;
    return restart_history_recent(history, now_ms, window_ms) >= history->capacity;
}

/* ---- slots ---- */

/* Waits ms unless stopped first; true if stopping. */
static bool supervisor_wait(supervisor *sup, int64_t ms)
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
    pthread_mutex_lock(&sup->lock);
    while (!sup->stop)
        if (pthread_cond_timedwait(&sup->wake, &sup->lock, &deadline) == ETIMEDOUT)
            break;
    stopping = sup->stop;
    pthread_mutex_unlock(&sup->lock);
    return stopping;
}

static void slot_log(slot *s, rdapsync_log_level level, const char *fmt, ...) RDAPSYNC_PRINTF(3, 4);

static void slot_log(slot *s, rdapsync_log_level level, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    log_vwrite(level, s->sup->pipeline->name, s->index, NULL, NULL, fmt, args);
    va_end(args);
}

static void *slot_main(void *arg)
{
    slot *s = arg;
    supervisor *sup = s->sup;
    const pipeline_config *p = sup->pipeline;
    restart_history history;
    task_state final = TASK_FINISHED;

    if (restart_history_init(&history, p->restart_max_failures) != 0) {
        task_stats_set_error(s->stats, "out of memory");
        final = TASK_FAILED;
        goto done;
    }
    for (;;) {
        pthread_mutex_lock(&sup->lock);
        if (sup->stop) {
            pthread_mutex_unlock(&sup->lock);
            break;
        }
        struct task *t = task_new(p, s->index, sup->state_dir, s->stats);
        s->current = t;
        pthread_mutex_unlock(&sup->lock);
        if (!t) {
            task_stats_set_error(s->stats, "out of memory creating the task");
            final = TASK_FAILED;
            break;
        }

        task_result result = task_run(t);
        if (task_started(t))
            s->ever_started = true;
        bool permanent = task_open_refused(t);

        pthread_mutex_lock(&sup->lock);
        s->current = NULL;
        pthread_mutex_unlock(&sup->lock);
        task_free(t);
        if (result != TASK_RESULT_FAILED)
            break;
        if (permanent) {
            slot_log(s, RDAPSYNC_LOG_ERROR, "not restarting: a plugin's open answered ERROR, which is permanent");
            final = TASK_FAILED;
            break;
        }

        int64_t now = clock_now_ms();
        if (restart_history_record(&history, now, p->restart_window_ms)) {
            slot_log(s, RDAPSYNC_LOG_ERROR, "task failed %" PRId64 " times within %" PRId64 " ms: giving up",
                     p->restart_max_failures, p->restart_window_ms);
            final = TASK_FAILED;
            break;
        }
        size_t recent = restart_history_recent(&history, now, p->restart_window_ms);
        int64_t delay = backoff_delay_ms(p->restart_backoff_initial_ms, p->restart_backoff_max_ms,
                                         recent > 0 ? (unsigned)(recent - 1) : 0, backoff_random_unit());
        task_stats_set_state(s->stats, TASK_RESTARTING);
        slot_log(s, RDAPSYNC_LOG_WARN, "restarting task in %" PRId64 " ms", delay);
        if (supervisor_wait(sup, delay))
            break;
        task_stats_count_restart(s->stats);
    }
done:
    restart_history_free(&history);
    s->failed = final == TASK_FAILED;
    task_stats_set_state(s->stats, final);
    atomic_store(&s->ended, true);
    if (sup->notify)
        sup->notify(sup->opaque);
    return NULL;
}

supervisor *supervisor_start(const pipeline_config *pipeline, const char *state_dir, supervisor_notify_fn notify,
                             void *opaque)
{
    supervisor *sup = calloc(1, sizeof(*sup));
    pthread_condattr_t attr;

    if (!sup)
        return NULL;
    sup->pipeline = pipeline;
    sup->notify = notify;
    sup->opaque = opaque;
    pthread_mutex_init(&sup->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&sup->wake, &attr);
    pthread_condattr_destroy(&attr);
    sup->state_dir = strdup(state_dir ? state_dir : "var/state");
    sup->slot_count = pipeline->tasks > 0 ? (size_t)pipeline->tasks : 1;
    sup->slots = calloc(sup->slot_count, sizeof(*sup->slots));
    if (!sup->state_dir || !sup->slots)
        goto fail;
    for (size_t i = 0; i < sup->slot_count; i++) {
        sup->slots[i].sup = sup;
        sup->slots[i].index = (int)i;
        sup->slots[i].stats = task_stats_new(pipeline->name, (int)i);
        if (!sup->slots[i].stats)
            goto fail;
    }
    for (size_t i = 0; i < sup->slot_count; i++) {
        if (pthread_create(&sup->slots[i].thread, NULL, slot_main, &sup->slots[i]) != 0)
            goto fail;
        sup->slots[i].thread_started = true;
    }
    return sup;
fail:
    supervisor_free(sup);
    return NULL;
}

void supervisor_stop(supervisor *sup)
{
    if (!sup)
        return;
    pthread_mutex_lock(&sup->lock);
    sup->stop = true;
    for (size_t i = 0; i < sup->slot_count; i++)
        if (sup->slots[i].current)
            task_request_stop(sup->slots[i].current);
    pthread_cond_broadcast(&sup->wake);
    pthread_mutex_unlock(&sup->lock);
}

bool supervisor_done(supervisor *sup)
{
    for (size_t i = 0; i < sup->slot_count; i++)
        if (!atomic_load(&sup->slots[i].ended))
            return false;
    return true;
}

bool supervisor_failed(supervisor *sup)
{
    for (size_t i = 0; i < sup->slot_count; i++)
        if (atomic_load(&sup->slots[i].ended) && sup->slots[i].failed)
            return true;
    return false;
}

bool supervisor_failed_to_start(supervisor *sup)
{
    for (size_t i = 0; i < sup->slot_count; i++)
        if (atomic_load(&sup->slots[i].ended) && sup->slots[i].failed && !sup->slots[i].ever_started)
            return true;
    return false;
}

void supervisor_free(supervisor *sup)
{
    if (!sup)
        return;
    supervisor_stop(sup);
    for (size_t i = 0; sup->slots && i < sup->slot_count; i++)
        if (sup->slots[i].thread_started)
            pthread_join(sup->slots[i].thread, NULL);
    for (size_t i = 0; sup->slots && i < sup->slot_count; i++)
        task_stats_free(sup->slots[i].stats);
    free(sup->slots);
    free(sup->state_dir);
    pthread_cond_destroy(&sup->wake);
    pthread_mutex_destroy(&sup->lock);
    free(sup);
}

const pipeline_config *supervisor_pipeline(const supervisor *sup) { return sup->pipeline; }
size_t supervisor_task_count(const supervisor *sup) { return sup->slot_count; }

task_stats *supervisor_task_stats(supervisor *sup, size_t index)
{
    return index < sup->slot_count ? sup->slots[index].stats : NULL;
}
