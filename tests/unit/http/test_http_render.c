/* What /metrics, /status, /healthz and /readyz say about task statistics
 * and plugin metrics, rendered without a server. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "metrics.h"
#include "secrets.h"

#define NOW_MS 1700000000000LL

static task_stats *a0, *a1, *b0;

static void setup(void)
{
    a0 = task_stats_new("alpha", 0);
    a1 = task_stats_new("alpha", 1);
    b0 = task_stats_new("be\"ta", 0);
    http_set_draining(false);
}

static void teardown(void)
{
    task_stats_free(a0);
    task_stats_free(a1);
    task_stats_free(b0);
    metrics_plugin_reset();
    secrets_reset();
    http_set_draining(false);
}

TestSuite(render, .init = setup, .fini = teardown);

static bool has_line(const char *text, const char *line)
{
    size_t len = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
            return true;
    return false;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

Test(render, metrics_show_each_tasks_counts_with_pipeline_and_task_labels)
{
    task_stats_add(a1, &(task_counts){.records_in = 10, .records_out = 7, .dead_lettered = 2, .dropped = 1,
                                      .errors = {[STAGE_TRANSFORM] = 2}});
    task_stats_count_retry(a1);
    task_stats_count_restart(a1);
    task_stats_count_restart(a1);
    char *m = http_render_metrics(NOW_MS);
    cr_assert_not_null(m);
    cr_assert(has_line(m, "rdapsync_task_records_in_total{pipeline=\"alpha\",task=\"1\"} 10"), "%s", m);
    cr_assert(has_line(m, "rdapsync_task_records_out_total{pipeline=\"alpha\",task=\"1\"} 7"));
    cr_assert(has_line(m, "rdapsync_task_records_dead_lettered_total{pipeline=\"alpha\",task=\"1\"} 2"));
    cr_assert(has_line(m, "rdapsync_task_records_dropped_total{pipeline=\"alpha\",task=\"1\"} 1"));
    cr_assert(has_line(m, "rdapsync_task_record_errors_total{pipeline=\"alpha\",task=\"1\",stage=\"transform\"} 2"));
    cr_assert(has_line(m, "rdapsync_task_record_errors_total{pipeline=\"alpha\",task=\"1\",stage=\"sink\"} 0"));
    cr_assert(has_line(m, "rdapsync_task_retries_total{pipeline=\"alpha\",task=\"1\"} 1"));
    cr_assert(has_line(m, "rdapsync_task_restarts_total{pipeline=\"alpha\",task=\"1\"} 2"));
    cr_assert(has_line(m, "rdapsync_task_records_in_total{pipeline=\"alpha\",task=\"0\"} 0"));
    free(m);
}

Test(render, metrics_escape_label_values)
{
    char *m = http_render_metrics(NOW_MS);
    cr_assert(has_line(m, "rdapsync_task_records_in_total{pipeline=\"be\\\"ta\",task=\"0\"} 0"), "%s", m);
    free(m);
}

Test(render, every_family_has_one_type_line_before_its_samples)
{
    metrics_plugin_add(metrics_plugin_metric("alpha", 0, "postgres", "reconnects", true), 3);
    metrics_plugin_add(metrics_plugin_metric("alpha", 1, "postgres", "reconnects", true), 4);
    metrics_plugin_set(metrics_plugin_metric("alpha", 0, "file", "input_bytes_total", false), 2048);
    metrics_plugin_add(metrics_plugin_metric("be\"ta", 0, "postgres", "reconnects", true), 1);
    char *m = http_render_metrics(NOW_MS);
    cr_assert_eq(count_of(m, "# TYPE rdapsync_plugin_reconnects_total counter\n"), 1, "%s", m);
    cr_assert_eq(count_of(m, "# TYPE rdapsync_plugin_input_bytes_total gauge\n"), 1);
    cr_assert(has_line(m, "rdapsync_plugin_reconnects_total{pipeline=\"alpha\",task=\"1\",plugin=\"postgres\"} 4"));
    cr_assert(has_line(m, "rdapsync_plugin_input_bytes_total{pipeline=\"alpha\",task=\"0\",plugin=\"file\"} 2048"));
    /* Samples of a family are contiguous: after its TYPE line, nothing but
     * its own samples until the next comment. */
    const char *type = strstr(m, "# TYPE rdapsync_plugin_reconnects_total counter\n");
    const char *p = strchr(type, '\n') + 1;
    int samples = 0;
    while (*p && *p != '#') {
        cr_assert(strncmp(p, "rdapsync_plugin_reconnects_total{", 33) == 0, "%.80s", p);
        samples++;
        p = strchr(p, '\n') + 1;
    }
    cr_assert_eq(samples, 3);
    /* Every sample line belongs to the family of the TYPE line above it. */
    char family[256] = "";
    for (char *line = m; *line; line = strchr(line, '\n') + 1) {
        if (strncmp(line, "# TYPE ", 7) == 0) {
            sscanf(line + 7, "%255s", family);
        } else if (line[0] != '#') {
            cr_assert(strncmp(line, family, strlen(family)) == 0, "%.80s not in family %s", line, family);
        }
    }
    free(m);
}

Test(render, latency_histogram_is_cumulative_with_sum_and_count)
{
    task_stats_count_batch(a0, 800);     /* 0.0008 s -> le 0.001 */
    task_stats_count_batch(a0, 1000);    /* exactly on a bound: le 0.001 */
    task_stats_count_batch(a0, 40000);   /* 0.04 s -> le 0.05 */
    task_stats_count_batch(a0, 90000000); /* 90 s -> +Inf only */
    char *m = http_render_metrics(NOW_MS);
    const char *base = "rdapsync_task_batch_write_duration_seconds";
    char line[256];
    snprintf(line, sizeof(line), "%s_bucket{pipeline=\"alpha\",task=\"0\",le=\"0.001\"} 2", base);
    cr_assert(has_line(m, line), "%s", m);
    snprintf(line, sizeof(line), "%s_bucket{pipeline=\"alpha\",task=\"0\",le=\"0.025\"} 2", base);
    cr_assert(has_line(m, line));
    snprintf(line, sizeof(line), "%s_bucket{pipeline=\"alpha\",task=\"0\",le=\"0.05\"} 3", base);
    cr_assert(has_line(m, line));
    snprintf(line, sizeof(line), "%s_bucket{pipeline=\"alpha\",task=\"0\",le=\"60\"} 3", base);
    cr_assert(has_line(m, line));
    snprintf(line, sizeof(line), "%s_bucket{pipeline=\"alpha\",task=\"0\",le=\"+Inf\"} 4", base);
    cr_assert(has_line(m, line));
    snprintf(line, sizeof(line), "%s_count{pipeline=\"alpha\",task=\"0\"} 4", base);
    cr_assert(has_line(m, line));
    snprintf(line, sizeof(line), "%s_sum{pipeline=\"alpha\",task=\"0\"} 90.041799999999995", base);
    cr_assert(has_line(m, line), "%s", m);
    snprintf(line, sizeof(line), "rdapsync_task_batches_total{pipeline=\"alpha\",task=\"0\"} 4");
    cr_assert(has_line(m, line));
    free(m);
}

Test(render, state_is_a_one_hot_set_and_circuit_follows_backoff)
{
    task_stats_set_state(a0, TASK_RUNNING);
    task_stats_set_state(a1, TASK_RETRYING);
    task_stats_set_state(b0, TASK_FAILED);
    char *m = http_render_metrics(NOW_MS);
    cr_assert(has_line(m, "rdapsync_task_state{pipeline=\"alpha\",task=\"0\",state=\"running\"} 1"), "%s", m);
    cr_assert(has_line(m, "rdapsync_task_state{pipeline=\"alpha\",task=\"0\",state=\"failed\"} 0"));
    cr_assert(has_line(m, "rdapsync_task_state{pipeline=\"alpha\",task=\"1\",state=\"retrying\"} 1"));
    cr_assert(has_line(m, "rdapsync_task_state{pipeline=\"be\\\"ta\",task=\"0\",state=\"failed\"} 1"));
    cr_assert(has_line(m, "rdapsync_task_circuit_open{pipeline=\"alpha\",task=\"0\"} 0"));
    cr_assert(has_line(m, "rdapsync_task_circuit_open{pipeline=\"alpha\",task=\"1\"} 1"));
    cr_assert(has_line(m, "rdapsync_task_circuit_open{pipeline=\"be\\\"ta\",task=\"0\"} 1"));
    free(m);
}

Test(render, checkpoint_age_is_measured_against_the_given_clock)
{
    rdapsync_position pos = {.stream = "in.jsonl", .partition = -1, .offset = 42};
    task_stats_checkpointed(a0, NOW_MS - 2500, &pos, 1);
    char *m = http_render_metrics(NOW_MS);
    cr_assert(has_line(m, "rdapsync_task_checkpoint_age_seconds{pipeline=\"alpha\",task=\"0\"} 2.5"), "%s", m);
    cr_assert(has_line(m, "rdapsync_task_last_checkpoint_timestamp_seconds{pipeline=\"alpha\",task=\"0\"} 1699999997.5"));
    /* No checkpoint yet: no sample rather than a made-up age. */
    cr_assert_null(strstr(m, "rdapsync_task_checkpoint_age_seconds{pipeline=\"alpha\",task=\"1\"}"));
    free(m);
}

static json_t *status_task(json_t *status, const char *pipeline, int task)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(status, "pipelines"), i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "name")), pipeline) == 0)
            return json_array_get(json_object_get(p, "tasks"), (size_t)task);
    }
    return NULL;
}

Test(render, status_groups_tasks_by_pipeline_with_state_circuit_and_checkpoint)
{
    rdapsync_position pos = {.stream = "in.jsonl", .partition = -1, .offset = 42};
    task_stats_set_state(a0, TASK_RUNNING);
    task_stats_set_state(a1, TASK_RESTARTING);
    task_stats_count_restart(a1);
    task_stats_add(a0, &(task_counts){.records_in = 5, .records_out = 4, .dead_lettered = 1});
    task_stats_checkpointed(a0, NOW_MS - 1000, &pos, 1);
    metrics_plugin_set(metrics_plugin_metric("alpha", 0, "kafka", "lag_seconds", false), 1.5);
    char *text = http_render_status(NOW_MS);
    cr_assert_not_null(text);
    json_error_t error;
    json_t *s = json_loads(text, 0, &error);
    cr_assert_not_null(s, "%s: %s", error.text, text);
    cr_assert_eq(json_array_size(json_object_get(s, "pipelines")), 2);
    json_t *t0 = status_task(s, "alpha", 0), *t1 = status_task(s, "alpha", 1);
    cr_assert_str_eq(json_string_value(json_object_get(t0, "state")), "running");
    cr_assert_str_eq(json_string_value(json_object_get(t0, "circuit")), "closed");
    cr_assert_str_eq(json_string_value(json_object_get(t1, "state")), "restarting");
    cr_assert_str_eq(json_string_value(json_object_get(t1, "circuit")), "open");
    cr_assert_eq(json_integer_value(json_object_get(t1, "restarts")), 1);
    cr_assert(json_is_null(json_object_get(t1, "last_checkpoint")));
    json_t *records = json_object_get(t0, "records");
    cr_assert_eq(json_integer_value(json_object_get(records, "in")), 5);
    cr_assert_eq(json_integer_value(json_object_get(records, "dead_lettered")), 1);
    json_t *cp = json_object_get(t0, "last_checkpoint");
    cr_assert_eq(json_real_value(json_object_get(cp, "age_seconds")), 1.0);
    json_t *p0 = json_array_get(json_object_get(cp, "positions"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(p0, "stream")), "in.jsonl");
    cr_assert_eq(json_integer_value(json_object_get(p0, "offset")), 42);
    cr_assert_eq(json_real_value(json_object_get(t0, "lag_seconds")), 1.5);
    cr_assert_null(json_object_get(t1, "lag_seconds"));
    json_decref(s);
    free(text);
}

Test(render, status_masks_secrets_in_last_errors)
{
    secrets_register("hunter2-password");
    task_stats_set_error(a0, "connect to postgres://app:hunter2-password@db failed");
    char *text = http_render_status(NOW_MS);
    cr_assert_null(strstr(text, "hunter2"), "%s", text);
    json_t *s = json_loads(text, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(status_task(s, "alpha", 0), "last_error")),
                     "connect to postgres://app:***@db failed");
    json_decref(s);
    free(text);
}

Test(render, status_survives_a_last_error_that_is_not_utf8)
{
    task_stats_set_error(a0, "bad byte \xff here");
    char *text = http_render_status(NOW_MS);
    cr_assert_not_null(text);
    json_t *s = json_loads(text, 0, NULL);
    cr_assert_not_null(s, "%s", text);
    json_decref(s);
    free(text);
}

Test(render, ready_only_when_every_task_runs_or_finished)
{
    char *body;
    task_stats_set_state(a0, TASK_RUNNING);
    task_stats_set_state(a1, TASK_FINISHED);
    task_stats_set_state(b0, TASK_RETRYING);
    cr_assert_eq(http_render_ready(&body), 503);
    cr_assert(strstr(body, "be\"ta/0 retrying") != NULL, "%s", body);
    free(body);
    task_stats_set_state(b0, TASK_RUNNING);
    cr_assert_eq(http_render_ready(&body), 200);
    cr_assert_str_eq(body, "ready\n");
    free(body);
}

Test(render, not_ready_while_draining)
{
    char *body;
    task_stats_set_state(a0, TASK_RUNNING);
    task_stats_set_state(a1, TASK_RUNNING);
    task_stats_set_state(b0, TASK_RUNNING);
    http_set_draining(true);
    cr_assert_eq(http_render_ready(&body), 503);
    cr_assert_str_eq(body, "draining\n");
    free(body);
    char *text = http_render_status(NOW_MS);
    json_t *s = json_loads(text, 0, NULL);
    cr_assert(json_is_false(json_object_get(s, "ready")));
    cr_assert(json_is_true(json_object_get(s, "draining")));
    json_decref(s);
    free(text);
}

Test(render, health_fails_only_for_slots_failed_for_good)
{
    char *body;
    task_stats_set_state(a0, TASK_RESTARTING);
    cr_assert_eq(http_render_health(&body), 200);
    cr_assert_str_eq(body, "ok\n");
    free(body);
    task_stats_set_state(a1, TASK_FAILED);
    cr_assert_eq(http_render_health(&body), 503);
    cr_assert(strstr(body, "alpha/1 failed") != NULL, "%s", body);
    cr_assert_null(strstr(body, "alpha/0"));
    free(body);
}

Test(render, status_shows_what_the_status_page_needs)
{
    task_stats_add(a0, &(task_counts){.records_in = 9, .records_out = 6, .dead_lettered = 2, .dropped = 1});
    metrics_plugin_set(metrics_plugin_metric("alpha", 0, "kafka", "consumer_lag", false), 321);
    metrics_plugin_set(metrics_plugin_metric("alpha", 1, "rdap", "objects_due", false), 17);
    char *text = http_render_status(NOW_MS);
    json_t *s = json_loads(text, 0, NULL);
    cr_assert_not_null(s, "%s", text);
    json_t *t0 = status_task(s, "alpha", 0), *t1 = status_task(s, "alpha", 1);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(t0, "records"), "delivered")), 9);
    cr_assert_eq(json_integer_value(json_object_get(t0, "consumer_lag")), 321);
    cr_assert_null(json_object_get(t0, "objects_due"));
    cr_assert_eq(json_integer_value(json_object_get(t1, "objects_due")), 17);
    json_t *rate = json_object_get(t0, "rate");
    cr_assert(json_is_real(json_object_get(rate, "records_per_second")), "%s", text);
    cr_assert_eq(json_integer_value(json_object_get(rate, "interval_seconds")), 5);
    cr_assert(json_is_array(json_object_get(rate, "samples")));
    cr_assert(json_is_string(json_object_get(rate, "sparkline")));
    json_decref(s);
    free(text);
}
