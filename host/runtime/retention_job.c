/* The daemon's retention job (retention.h): one thread, each pipeline with
 * a retention: block purged every retention.interval. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/audit.h"
#include "base/log.h"
#include "runtime/retention.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static pthread_t thread;
static bool running, quit;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *job_main(void *arg)
{
    const rdapsync_config *config = arg;
    int64_t *due = calloc(config->pipeline_count ? config->pipeline_count : 1, sizeof(int64_t));
    int64_t start = mono_ms();
    if (!due)
        return NULL;
    for (size_t i = 0; i < config->pipeline_count; i++)
        due[i] = start + config->pipelines[i].retention_interval_ms;
    pthread_mutex_lock(&lock);
    while (!quit) {
        int64_t next = INT64_MAX, now = mono_ms();
        for (size_t i = 0; i < config->pipeline_count; i++) {
            const pipeline_config *p = &config->pipelines[i];
            if (!p->has_retention)
                continue;
            if (due[i] <= now) {
                pthread_mutex_unlock(&lock);
                uint64_t purged = 0;
                json_t *sinks = json_array();
                int missed = retention_purge_pipeline(config, p, wall_ms(), &purged, sinks, NULL);
                audit_event("retention", json_pack("{s:s, s:s, s:I, s:b, s:o}", "trigger", "interval", "pipeline",
                                                   p->name, "purged", (json_int_t)purged, "complete", !missed,
                                                   "sinks", sinks));
                pthread_mutex_lock(&lock);
                due[i] = mono_ms() + p->retention_interval_ms;
            }
            if (due[i] < next)
                next = due[i];
        }
        if (quit)
            break;
        if (next == INT64_MAX) {
            pthread_cond_wait(&wake, &lock);
            continue;
        }
        int64_t wait = next - mono_ms();
        if (wait <= 0)
            continue;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += wait / 1000;
        until.tv_nsec += (wait % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&wake, &lock, &until);
    }
    pthread_mutex_unlock(&lock);
    free(due);
    return NULL;
}

int retention_job_start(const rdapsync_config *config)
{
    bool any = false;
    for (size_t i = 0; i < config->pipeline_count; i++)
        any = any || config->pipelines[i].has_retention;
    if (!any || running)
        return 0;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wake, &attr);
    pthread_condattr_destroy(&attr);
    quit = false;
    /* Signals stay with the main thread (runtime.c). */
    sigset_t set, old;
    sigfillset(&set);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    int rc = pthread_create(&thread, NULL, job_main, (void *)config);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&wake);
        log_error("retention: cannot start its thread: %s", strerror(rc));
        return -1;
    }
    running = true;
    return 0;
}

void retention_job_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&lock);
    quit = true;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    pthread_cond_destroy(&wake);
    running = false;
}
