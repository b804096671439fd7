/* The status page at / rendered without a server: every text is
 * HTML-escaped (a plugin's error cannot inject markup), the numbers of
 * each task and the plugin gauges it shows, the embedded assets. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "http_assets.h"
#include "metrics.h"
#include "secrets.h"

#define NOW_MS 1700000000000LL

static task_stats *ok_task, *bad_task;

static void setup(void)
{
    ok_task = task_stats_new("flowing", 0);
    bad_task = task_stats_new("do<o>med", 1);
}

static void teardown(void)
{
    task_stats_free(ok_task);
    task_stats_free(bad_task);
    metrics_plugin_reset();
    secrets_reset();
}

TestSuite(page, .init = setup, .fini = teardown);

/* The <tr> of one task, copied (caller frees). */
static char *row_of(const char *page, const char *pipeline_attr, int task)
{
    char head[256];
    snprintf(head, sizeof(head), "<tr data-pipeline=\"%s\" data-task=\"%d\">", pipeline_attr, task);
    const char *start = strstr(page, head);
    cr_assert_not_null(start, "no row %s in\n%s", head, page);
    const char *end = strstr(start, "</tr>");
    cr_assert_not_null(end);
    return strndup(start, (size_t)(end - start));
}

/* The text of the <td class="CLS..."> of a row, copied (caller frees). */
static char *cell_of(const char *row, const char *cls)
{
    char head[64];
    snprintf(head, sizeof(head), "<td class=\"%s", cls);
    const char *start = strstr(row, head);
    cr_assert_not_null(start, "no cell %s in %s", cls, row);
    start = strchr(start, '>') + 1;
    const char *end = strstr(start, "</td>");
    return strndup(start, (size_t)(end - start));
}

Test(page, an_error_text_with_markup_is_escaped_not_injected)
{
    task_stats_set_error(bad_task, "sink: <script>alert(1)</script>\"'&");
    task_stats_set_state(bad_task, TASK_FAILED);
    char *page = http_render_page(NOW_MS);
    cr_assert_not_null(page);
    char *row = row_of(page, "do&lt;o&gt;med", 1);
    char *error = cell_of(row, "error");
    cr_assert_str_eq(error, "sink: &lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;");
    /* The only <script> of the page is the template's /status.js. */
    const char *first = strstr(page, "<script");
    cr_assert_not_null(first);
    cr_assert(strncmp(first, "<script src=\"/status.js\"", 24) == 0, "%s", first);
    cr_assert_null(strstr(first + 1, "<script"), "%s", page);
    cr_assert_null(strstr(page, "<o>"), "the pipeline name got in as markup:\n%s", page);
    char *state = cell_of(row, "state-cell");
    cr_assert_str_eq(state, "<span class=\"state state-failed\">failed</span>");
    free(state);
    free(error);
    free(row);
    free(page);
}

Test(page, an_error_text_is_shown_with_secrets_masked)
{
    secrets_register("hunter2-password");
    task_stats_set_error(bad_task, "connect: password hunter2-password refused");
    char *page = http_render_page(NOW_MS);
    cr_assert_null(strstr(page, "hunter2"), "%s", page);
    char *row = row_of(page, "do&lt;o&gt;med", 1);
    char *error = cell_of(row, "error");
    cr_assert_str_eq(error, "connect: password *** refused");
    free(error);
    free(row);
    free(page);
}

Test(page, a_row_shows_records_dead_letters_restarts_and_checkpoint_age)
{
    task_stats_add(ok_task, &(task_counts){.records_in = 1300000, .records_out = 1234000, .dead_lettered = 560,
                                           .dropped = 7});
    task_stats_count_restart(ok_task);
    task_stats_count_restart(ok_task);
    task_stats_set_state(ok_task, TASK_RUNNING);
    task_stats_checkpointed(ok_task, NOW_MS - 4200, NULL, 0);
    char *page = http_render_page(NOW_MS);
    char *row = row_of(page, "flowing", 0);
    char *records = cell_of(row, "records"), *dead = cell_of(row, "dead"), *restarts = cell_of(row, "restarts"),
         *age = cell_of(row, "checkpoint"), *lag = cell_of(row, "lag"), *due = cell_of(row, "due"),
         *error = cell_of(row, "error");
    cr_assert_str_eq(records, "1,234,567"); /* out + dead letters + dropped */
    cr_assert_str_eq(dead, "560");
    cr_assert_str_eq(restarts, "2");
    cr_assert_str_eq(age, "4.2 s");
    cr_assert_str_eq(lag, "\xE2\x80\x94", "no lag gauge: a dash, got %s", lag);
    cr_assert_str_eq(due, "\xE2\x80\x94");
    cr_assert_str_eq(error, "");
    free(records);
    free(dead);
    free(restarts);
    free(age);
    free(lag);
    free(due);
    free(error);
    free(row);
    free(page);
}

Test(page, a_task_never_checkpointed_says_never)
{
    char *page = http_render_page(NOW_MS);
    char *row = row_of(page, "flowing", 0);
    char *age = cell_of(row, "checkpoint");
    cr_assert_str_eq(age, "never");
    free(age);
    free(row);
    free(page);
}

Test(page, consumer_lag_and_objects_due_come_from_the_plugins_gauges)
{
    metrics_plugin_set(metrics_plugin_metric("flowing", 0, "kafka", "consumer_lag", false), 12345);
    metrics_plugin_set(metrics_plugin_metric("do<o>med", 1, "rdap", "objects_due", false), 42);
    metrics_plugin_set(metrics_plugin_metric("do<o>med", 1, "rdap", "lag_seconds", false), 75);
    char *page = http_render_page(NOW_MS);
    char *ok_row = row_of(page, "flowing", 0), *bad_row = row_of(page, "do&lt;o&gt;med", 1);
    char *lag = cell_of(ok_row, "lag"), *due = cell_of(bad_row, "due"), *lag_seconds = cell_of(bad_row, "lag");
    cr_assert_str_eq(lag, "12,345 records");
    cr_assert_str_eq(due, "42");
    cr_assert_str_eq(lag_seconds, "1 min 15 s");
    free(lag);
    free(due);
    free(lag_seconds);
    free(ok_row);
    free(bad_row);
    free(page);
}

Test(page, the_template_is_filled_in_and_links_to_metrics_and_status)
{
    char *page = http_render_page(NOW_MS);
    cr_assert_null(strstr(page, "{{"), "a template field was left:\n%s", page);
    cr_assert_not_null(strstr(page, "<a href=\"/metrics\">"));
    cr_assert_not_null(strstr(page, "<a href=\"/status\">"));
    cr_assert_not_null(strstr(page, "<time id=\"updated\">2023-11-14T22:13:20.000Z</time>"), "%s", page);
    cr_assert_not_null(strstr(page, "<noscript><meta http-equiv=\"refresh\""));
    free(page);
}

Test(page, the_assets_are_embedded_with_their_content_types)
{
    const http_asset *js = http_asset_find("/status.js"), *css = http_asset_find("/status.css");
    cr_assert_not_null(js);
    cr_assert_not_null(css);
    cr_assert_str_eq(js->content_type, "text/javascript; charset=utf-8");
    cr_assert_str_eq(css->content_type, "text/css; charset=utf-8");
    cr_assert_eq(strlen((const char *)js->data), js->size);
    /* The script writes texts with textContent only, never as markup. */
    cr_assert_not_null(strstr((const char *)js->data, "textContent"));
    cr_assert_null(strstr((const char *)js->data, "innerHTML"));
    cr_assert_null(http_asset_find("/nothing.js"));
}
