/* Restart policy: backoff growth and jitter bounds, the give-up rule, and a
 * supervised task that keeps failing until its circuit opens. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "fakes.h"
#include "log.h"
#include "metrics.h"
#include "supervisor.h"

Test(backoff, ceiling_doubles_from_initial_up_to_max)
{
    int64_t expected[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
    for (unsigned i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
        cr_assert_eq(backoff_ceiling_ms(100, 5000, i), expected[i], "attempt %u", i);
    cr_assert_eq(backoff_ceiling_ms(100, 5000, 1000), 5000, "no overflow on huge attempts");
    cr_assert_eq(backoff_ceiling_ms(300, 100, 3), 300, "max below initial: initial wins");
}

Test(backoff, jitter_stays_between_half_and_the_full_ceiling)
{
    for (unsigned attempt = 0; attempt < 12; attempt++) {
        int64_t ceiling = backoff_ceiling_ms(100, 30000, attempt);
        cr_assert_eq(backoff_delay_ms(100, 30000, attempt, 0.0), ceiling / 2);
        cr_assert_leq(backoff_delay_ms(100, 30000, attempt, 0.999999), ceiling);
        for (int i = 0; i < 1000; i++) {
            int64_t d = backoff_delay_ms(100, 30000, attempt, backoff_random_unit());
            cr_assert_geq(d, ceiling / 2, "attempt %u: %lld", attempt, (long long)d);
            cr_assert_leq(d, ceiling, "attempt %u: %lld", attempt, (long long)d);
        }
    }
}

Test(backoff, random_unit_is_in_zero_one_and_spreads)
{
    double lo = 1, hi = 0;
    for (int i = 0; i < 10000; i++) {
        double u = backoff_random_unit();
        cr_assert(u >= 0.0 && u < 1.0);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    cr_assert_lt(lo, 0.1);
    cr_assert_gt(hi, 0.9);
}

Test(restart_history, gives_up_after_max_failures_within_the_window)
{
    restart_history h;
    cr_assert_eq(restart_history_init(&h, 3), 0);
    cr_assert_not(restart_history_record(&h, 1000, 60000));
    cr_assert_not(restart_history_record(&h, 2000, 60000));
    cr_assert(restart_history_record(&h, 3000, 60000), "third failure within a minute");
    restart_history_free(&h);
}

Test(restart_history, failures_outside_the_window_do_not_count)
{
    restart_history h;
    cr_assert_eq(restart_history_init(&h, 3), 0);
    cr_assert_not(restart_history_record(&h, 0, 60000));
    cr_assert_not(restart_history_record(&h, 30000, 60000));
    cr_assert_not(restart_history_record(&h, 61000, 60000), "the first failure has left the window");
    cr_assert_eq(restart_history_recent(&h, 61000, 60000), 2);
    cr_assert(restart_history_record(&h, 62000, 60000), "30000, 61000, 62000 are within a minute");
    restart_history_free(&h);
}

Test(restart_history, zero_max_failures_never_gives_up)
{
    restart_history h;
    cr_assert_eq(restart_history_init(&h, 0), 0);
    for (int i = 0; i < 100; i++)
        cr_assert_not(restart_history_record(&h, i, 60000));
    restart_history_free(&h);
}

static fake_store sink_store;
static FILE *log_sink;

static void quiet(void)
{
    memset(&fake, 0, sizeof(fake));
    log_sink = tmpfile();
    log_set_stream(log_sink);
}

static void loud(void)
{
    log_set_stream(NULL);
    fclose(log_sink);
    fake_store_free(&sink_store);
}

static pthread_mutex_t ended_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended_cond = PTHREAD_COND_INITIALIZER;
static int ended;

static void on_end(void *opaque)
{
    pthread_mutex_lock(&ended_lock);
    ended++;
    pthread_cond_broadcast(&ended_cond);
    pthread_mutex_unlock(&ended_lock);
}

static void wait_for_ends(int count)
{
    pthread_mutex_lock(&ended_lock);
    while (ended < count)
        pthread_cond_wait(&ended_cond, &ended_lock);
    pthread_mutex_unlock(&ended_lock);
}

Test(supervisor, failing_task_is_restarted_until_the_circuit_opens, .init = quiet, .fini = loud, .timeout = 60)
{
    fake_source_cfg src = {.total = 1};
    fake_sink_cfg snk = {.store = &sink_store, .flush_error = true};
    pipeline_config *p = fake_pipeline("flaky", &src, NULL, &snk, NULL);
    char *dir = fake_state_dir();
    task_stats_snapshot snap;

    p->restart_max_failures = 4;
    supervisor *sup = supervisor_start(p, dir, on_end, NULL);
    cr_assert_not_null(sup);
    wait_for_ends(1);
    cr_assert(supervisor_done(sup));
    cr_assert(supervisor_failed(sup));
    cr_assert_not(supervisor_failed_to_start(sup), "every attempt got its plugins open");
    cr_assert_eq(fake.open_calls, 4, "one attempt per allowed failure");
    cr_assert_eq(task_stats_snapshot_take(supervisor_task_stats(sup, 0), &snap), 0);
    cr_assert_eq(snap.state, TASK_FAILED);
    cr_assert_eq(snap.restarts, 3);
    cr_assert(snap.last_error && strstr(snap.last_error, "disk full"), "%s", snap.last_error);
    task_stats_snapshot_free(&snap);
    supervisor_free(sup);
    fake_pipeline_free(p);
    fake_remove_tree(dir);
    free(dir);
}

Test(supervisor, every_task_of_a_bounded_pipeline_finishes, .init = quiet, .fini = loud, .timeout = 60)
{
    fake_source_cfg src = {.total = 0};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("bounded", &src, NULL, &snk, NULL);
    char *dir = fake_state_dir();

    p->tasks = 3;
    supervisor *sup = supervisor_start(p, dir, on_end, NULL);
    cr_assert_not_null(sup);
    wait_for_ends(3);
    cr_assert(supervisor_done(sup));
    cr_assert_not(supervisor_failed(sup));
    cr_assert_eq(supervisor_task_count(sup), 3);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(task_stats_state(supervisor_task_stats(sup, i)), TASK_FINISHED);
    supervisor_free(sup);
    fake_pipeline_free(p);
    fake_remove_tree(dir);
    free(dir);
}

Test(supervisor, stop_ends_a_long_restart_backoff, .init = quiet, .fini = loud, .timeout = 60)
{
    fake_source_cfg src = {.total = 1};
    fake_sink_cfg snk = {.store = &sink_store, .flush_error = true};
    pipeline_config *p = fake_pipeline("patient", &src, NULL, &snk, NULL);
    char *dir = fake_state_dir();

    p->restart_max_failures = 100;
    p->restart_backoff_initial_ms = 3600 * 1000;
    p->restart_backoff_max_ms = 3600 * 1000;
    supervisor *sup = supervisor_start(p, dir, on_end, NULL);
    while (task_stats_state(supervisor_task_stats(sup, 0)) != TASK_RESTARTING)
        sched_yield();
    supervisor_stop(sup);
    wait_for_ends(1);
    cr_assert_not(supervisor_failed(sup), "a stopped slot is not a failed one");
    supervisor_free(sup);
    fake_pipeline_free(p);
    fake_remove_tree(dir);
    free(dir);
}

Test(supervisor, an_open_error_fails_the_slot_at_once_naming_the_config_place, .init = quiet, .fini = loud,
     .timeout = 60)
{
    fake_source_cfg src = {.total = 1, .open_error = true};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("doomed", &src, NULL, &snk, NULL);
    char *dir = fake_state_dir();
    task_stats_snapshot snap;

    p->file = "app.yaml";
    p->source.line = 7;
    p->source.column = 13;
    p->restart_max_failures = 4;
    supervisor *sup = supervisor_start(p, dir, on_end, NULL);
    cr_assert_not_null(sup);
    wait_for_ends(1);
    cr_assert(supervisor_failed(sup));
    cr_assert(supervisor_failed_to_start(sup), "the task never got its plugins open");
    cr_assert_eq(fake.open_calls, 1, "ERROR from open is permanent: the same options would fail again");
    cr_assert_eq(task_stats_snapshot_take(supervisor_task_stats(sup, 0), &snap), 0);
    cr_assert_eq(snap.state, TASK_FAILED);
    cr_assert_eq(snap.restarts, 0);
    cr_assert(snap.last_error && strstr(snap.last_error, "open source fake (app.yaml:7:13): cannot open the fake source"),
              "%s", snap.last_error);
    task_stats_snapshot_free(&snap);
    supervisor_free(sup);
    fake_pipeline_free(p);
    fake_remove_tree(dir);
    free(dir);
}
