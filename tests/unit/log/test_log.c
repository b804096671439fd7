/* Log lines: both formats carry the labels, escape the message, mask
 * secrets and respect the level; contexts label plugin lines. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "context_internal.h"
#include "loader.h"
#include "log.h"
#include "secrets.h"

static FILE *out;
static char line[8192];

static void setup(void)
{
    out = tmpfile();
    log_set_stream(out);
    log_configure(0, RDAPSYNC_LOG_INFO);
}

static void teardown(void)
{
    log_set_stream(NULL);
    fclose(out);
    secrets_reset();
}

TestSuite(log, .init = setup, .fini = teardown);

static const char *first_line(void)
{
    rewind(out);
    if (!fgets(line, sizeof(line), out))
        return "";
    return line;
}

Test(log, text_line_has_ts_level_labels_and_quoted_message)
{
    log_write(RDAPSYNC_LOG_INFO, "rdap-domains", 2, "sink", "postgres", "wrote %d rows to \"t\"", 5);
    const char *l = first_line();
    cr_assert(strncmp(l, "ts=", 3) == 0, "%s", l);
    cr_assert(strstr(l, " level=info pipeline=rdap-domains task=2 kind=sink plugin=postgres "
                        "msg=\"wrote 5 rows to \\\"t\\\"\"\n") != NULL,
              "%s", l);
}

Test(log, json_line_is_one_parseable_object)
{
    log_configure(1, RDAPSYNC_LOG_INFO);
    log_write(RDAPSYNC_LOG_WARN, "p", 0, "source", "kafka", "two\nlines\tand \x01 control");
    json_error_t error;
    json_t *o = json_loads(first_line(), 0, &error);
    cr_assert_not_null(o, "%s: %s", error.text, line);
    cr_assert_str_eq(json_string_value(json_object_get(o, "level")), "warn");
    cr_assert_str_eq(json_string_value(json_object_get(o, "pipeline")), "p");
    cr_assert_eq(json_integer_value(json_object_get(o, "task")), 0);
    cr_assert_str_eq(json_string_value(json_object_get(o, "kind")), "source");
    cr_assert_str_eq(json_string_value(json_object_get(o, "plugin")), "kafka");
    cr_assert_str_eq(json_string_value(json_object_get(o, "msg")), "two\nlines\tand \x01 control");
    cr_assert(json_is_string(json_object_get(o, "ts")));
    json_decref(o);
}

Test(log, newlines_in_messages_never_split_a_text_line)
{
    log_write(RDAPSYNC_LOG_ERROR, NULL, -1, NULL, NULL, "a\nb\r\nc");
    const char *l = first_line();
    cr_assert(strstr(l, "msg=\"a\\nb\\u000d\\nc\"\n") != NULL, "%s", l);
    cr_assert_null(fgets(line, sizeof(line), out), "one line only");
}

Test(log, registered_secrets_are_masked)
{
    secrets_register("hunter2-password");
    log_write(RDAPSYNC_LOG_ERROR, "p", 0, "sink", "postgres", "connect failed: password=hunter2-password rejected");
    const char *l = first_line();
    cr_assert_null(strstr(l, "hunter2"), "%s", l);
    cr_assert(strstr(l, "password=*** rejected") != NULL, "%s", l);
}

Test(log, lines_above_the_level_are_not_written)
{
    log_configure(0, RDAPSYNC_LOG_WARN);
    log_write(RDAPSYNC_LOG_INFO, "p", 0, NULL, NULL, "hidden");
    log_write(RDAPSYNC_LOG_DEBUG, "p", 0, NULL, NULL, "hidden");
    cr_assert_str_eq(first_line(), "");
    log_write(RDAPSYNC_LOG_WARN, "p", 0, NULL, NULL, "shown");
    cr_assert(strstr(first_line(), "msg=\"shown\"") != NULL);
}

Test(log, plugin_lines_are_labelled_by_their_context)
{
    rdapsync_ctx *ctx = context_new("pipe", 1, 2, RDAPSYNC_KIND_TRANSFORM, "redact", NULL, NULL);
    host_api_table()->log(ctx, RDAPSYNC_LOG_INFO, "policy %s loaded", "gdpr");
    cr_assert(strstr(first_line(), "pipeline=pipe task=1 kind=transform plugin=redact msg=\"policy gdpr loaded\"") !=
                  NULL,
              "%s", line);
    context_free(ctx);
}

Test(context, without_a_task_keeps_rejects_overrides_and_stop_for_tests)
{
    const rdapsync_host *h = host_api_table();
    rdapsync_ctx *ctx = context_new("pipe", 0, 1, RDAPSYNC_KIND_SINK, "s", NULL, NULL);
    rdapsync_record r = {.key = "k", .key_len = 1};
    int64_t offset;

    log_set_stream(tmpfile());
    cr_assert_str_eq(h->pipeline_name(ctx), "pipe");
    cr_assert_eq(h->task_count(ctx), 1);
    cr_assert_null(h->state_dir(ctx), "no state dir given");
    cr_assert_not(h->checkpoint_get(ctx, "t", 0, &offset));
    h->checkpoint_override(ctx, "t", 0, 17);
    cr_assert(h->checkpoint_get(ctx, "t", 0, &offset));
    cr_assert_eq(offset, 17);
    h->reject(ctx, &r, "too big");
    cr_assert_eq(context_reject_count(ctx), 1);
    cr_assert_str_eq(context_last_reject(ctx), "too big");
    cr_assert_not(h->stopping(ctx));
    context_request_stop(ctx);
    cr_assert(h->stopping(ctx));
    h->counter_add(ctx, "rows", 3);
    h->gauge_set(ctx, "lag", 1.5);
    context_free(ctx);
}
