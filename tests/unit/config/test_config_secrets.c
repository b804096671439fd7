/* ${env:NAME} / ${file:PATH} in plugin config, and secrets kept out of
 * every diagnostic. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_test_util.h"
#include "log.h"
#include "secrets.h"

typedef struct sink_settings {
    char *table;
    char *dsn;
    char *password;
    bool tls;
    rdapsync_string_list brokers;
    rdapsync_string_map properties;
} sink_settings;

static const sink_settings *sink_of(const loaded *l)
{
    cr_assert_not_null(l->config);
    return l->config->pipelines[0].sink.settings;
}

/* A pipeline whose sink config is `sink_config` (one flow mapping). */
static void load_sink(loaded *l, const char *sink_config)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "pipelines:\n"
             "  - name: p1\n"
             "    source: { plugin: tsource, config: { path: x } }\n"
             "    transforms: [ { plugin: redact } ]\n"
             "    sink: %s\n",
             sink_config);
    load_yaml(l, yaml);
}

static void no_diag_contains(const loaded *l, const char *secret)
{
    for (size_t i = 0; i < l->diags.count; i++)
        cr_assert_null(strstr(l->diags.items[i].message, secret), "diagnostic leaks the secret: %s",
                       l->diags.items[i].message);
}

Test(secrets, resolves_an_environment_variable)
{
    setenv("RDAPSYNC_TEST_PW", "s3cret-from-env", 1);
    loaded l;
    load_sink(&l, "{ plugin: tsink, config: { table: t, password: \"${env:RDAPSYNC_TEST_PW}\" } }");
    cr_assert_str_eq(sink_of(&l)->password, "s3cret-from-env");
    loaded_free(&l);
}

Test(secrets, resolves_a_reference_embedded_in_a_longer_string)
{
    setenv("RDAPSYNC_TEST_PW", "pw-embedded-42", 1);
    setenv("RDAPSYNC_TEST_HOST", "db.internal", 1);
    loaded l;
    load_sink(&l, "{ plugin: tsink, config: { table: t, dsn: \"host=${env:RDAPSYNC_TEST_HOST} "
                  "password=${env:RDAPSYNC_TEST_PW} sslmode=require\" } }");
    cr_assert_str_eq(sink_of(&l)->dsn, "host=db.internal password=pw-embedded-42 sslmode=require");
    loaded_free(&l);
}

Test(secrets, resolves_a_file_and_drops_one_trailing_newline)
{
    char file[64];
    write_temp(file, ".secret", "file-secret-value\n\n");
    char config[512];
    snprintf(config, sizeof(config), "{ plugin: tsink, config: { table: t, password: \"${file:%s}\" } }", file);
    loaded l;
    load_sink(&l, config);
    cr_assert_str_eq(sink_of(&l)->password, "file-secret-value\n", "exactly one newline goes");
    loaded_free(&l);
    unlink(file);
}

Test(secrets, resolves_references_in_list_items_and_map_values)
{
    setenv("RDAPSYNC_TEST_BROKER", "127.0.0.1:9092", 1);
    setenv("RDAPSYNC_TEST_SASL", "sasl-secret-99", 1);
    loaded l;
    load_sink(&l, "{ plugin: tsink, config: { table: t, brokers: [ \"${env:RDAPSYNC_TEST_BROKER}\" ],"
                  " properties: { sasl.password: \"${env:RDAPSYNC_TEST_SASL}\" } } }");
    const sink_settings *s = sink_of(&l);
    cr_assert_str_eq(s->brokers.items[0], "127.0.0.1:9092");
    cr_assert_str_eq(s->properties.values[0], "sasl-secret-99");
    cr_assert(secrets_contains("x sasl-secret-99 y"), "a referenced value is registered as a secret");
    loaded_free(&l);
}

Test(secrets, keeps_an_escaped_reference_literal)
{
    loaded l;
    load_sink(&l, "{ plugin: tsink, config: { table: \"price$$${env:NOPE}x\" } }");
    cr_assert_str_eq(sink_of(&l)->table, "price$${env:NOPE}x");
    loaded_free(&l);
}

Test(secrets, reports_an_unset_variable_by_name_at_its_place)
{
    unsetenv("RDAPSYNC_TEST_UNSET");
    loaded l;
    load_sink(&l, "{ plugin: tsink, config: { table: t, password: \"${env:RDAPSYNC_TEST_UNSET}\" } }");
    cr_assert_null(l.config);
    expect_error(&l, 5, 58,
                 "pipeline 'p1': sink 'tsink': option 'password': environment variable RDAPSYNC_TEST_UNSET is not set");
    loaded_free(&l);
}

Test(secrets, reports_an_unreadable_file_by_name)
{
    loaded l;
    load_sink(&l, "{ plugin: tsink, config: { table: t, password: \"${file:/nonexistent/pw}\" } }");
    cr_assert_null(l.config);
    expect_error(&l, 5, 58, "cannot read ${file:/nonexistent/pw}");
    loaded_free(&l);
}

Test(secrets, reports_an_unknown_or_unterminated_reference)
{
    loaded l;
    load_sink(&l, "{ plugin: tsink, config: { table: \"${vault:x}\", password: \"${env:X\" } }");
    cr_assert_null(l.config);
    expect_error(&l, 5, 45, "unknown reference ${vault:x}");
    expect_error(&l, 5, 69, "unterminated ${");
    loaded_free(&l);
}

Test(secrets, never_prints_a_value_that_came_from_a_reference)
{
    setenv("RDAPSYNC_TEST_LIMIT", "not-a-number-s3cr3t", 1);
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x, limit: \"${env:RDAPSYNC_TEST_LIMIT}\" } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 3, 58, "option 'limit' expects an integer (value from a ${...} reference, not shown)");
    no_diag_contains(&l, "not-a-number-s3cr3t");
    loaded_free(&l);
}

Test(secrets, never_prints_a_literal_secret_option)
{
    loaded l;
    load_sink(&l, "{ plugin: tsink, config: { table: forbidden, password: [ literal-pw-123 ] } }");
    cr_assert_null(l.config);
    expect_error(&l, 5, 66, "option 'password' expects a string, got a sequence");
    no_diag_contains(&l, "literal-pw-123");
    loaded_free(&l);
}

Test(secrets, masks_a_resolved_secret_even_when_a_plugin_echoes_it)
{
    /* The check hook quotes the table; the table came from ${file:}. */
    char file[64];
    write_temp(file, ".secret", "forbidden\n");
    char config[512];
    snprintf(config, sizeof(config), "{ plugin: tsink, config: { table: \"${file:%s}\" } }", file);
    loaded l;
    load_sink(&l, config);
    cr_assert_null(l.config);
    cr_assert(any_diag_contains(&l, "invalid configuration: table '***' is reserved"));
    no_diag_contains(&l, "forbidden");
    loaded_free(&l);
    unlink(file);
}

Test(secrets, registers_resolved_secret_options_for_the_logger)
{
    loaded l;
    load_sink(&l, "{ plugin: tsink, config: { table: t, password: literal-secret-option } }");
    cr_assert_not_null(l.config);
    char masked[128];
    secrets_mask("login with literal-secret-option now", masked, sizeof(masked));
    cr_assert_str_eq(masked, "login with *** now");
    loaded_free(&l);
}

Test(secrets, change_the_fingerprint_when_their_value_changes)
{
    const char *sink = "{ plugin: tsink, config: { table: t, password: \"${env:RDAPSYNC_TEST_PW}\" } }";
    loaded a, b, c;
    setenv("RDAPSYNC_TEST_PW", "first-password", 1);
    load_sink(&a, sink);
    load_sink(&b, sink);
    setenv("RDAPSYNC_TEST_PW", "rotated-password", 1);
    load_sink(&c, sink);
    cr_assert_eq(a.config->pipelines[0].fingerprint, b.config->pipelines[0].fingerprint);
    cr_assert_neq(a.config->pipelines[0].fingerprint, c.config->pipelines[0].fingerprint);
    loaded_free(&a);
    loaded_free(&b);
    loaded_free(&c);
}

Test(secrets, mask_replaces_every_registered_value_and_truncates_safely)
{
    secrets_register("abc123");
    secrets_register("abc123456"); /* longer one wins where both match */
    secrets_register("no");        /* too short to mask */
    char out[64];
    size_t len = secrets_mask("x=abc123456 y=abc123 no", out, sizeof(out));
    cr_assert_str_eq(out, "x=*** y=*** no");
    cr_assert_eq(len, strlen(out));
    char tiny[6];
    secrets_mask("abc123abc123", tiny, sizeof(tiny));
    cr_assert_str_eq(tiny, "*****");
    secrets_reset();
    secrets_mask("abc123", out, sizeof(out));
    cr_assert_str_eq(out, "abc123");
}

Test(secrets, diagnostics_are_masked_too)
{
    secrets_register("hunter2-pw");
    diag_list diags;
    diag_list_init(&diags);
    diag_add(&diags, DIAG_ERROR, "f.yaml", 1, 2, NULL, "bad value %s", "hunter2-pw");
    cr_assert_str_eq(diags.items[0].message, "bad value ***");
    diag_list_free(&diags);
}

/* What one log line carrying `value` looks like once written. */
static void logged(const char *value, char *out, size_t out_size)
{
    FILE *stream = tmpfile();
    cr_assert_not_null(stream);
    log_set_stream(stream);
    log_write(RDAPSYNC_LOG_INFO, "p1", 0, "sink", "tsink", "connecting to %s now", value);
    log_set_stream(NULL);
    rewind(stream);
    size_t got = fread(out, 1, out_size - 1, stream);
    out[got] = '\0';
    fclose(stream);
}

Test(secrets, an_environment_value_of_a_plain_option_is_logged_in_clear)
{
    setenv("RDAPSYNC_TEST_ADDRESS", "127.0.0.1:36379", 1);
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x, label: \"${env:RDAPSYNC_TEST_ADDRESS}\" } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_not_null(l.config);
    char line[1024];
    logged("127.0.0.1:36379", line, sizeof(line));
    cr_assert(strstr(line, "connecting to 127.0.0.1:36379 now"), "a port is not a secret: %s", line);
    loaded_free(&l);
}

Test(secrets, secret_options_and_file_references_never_reach_a_log_line)
{
    setenv("RDAPSYNC_TEST_PW", "env-password-41", 1);
    setenv("RDAPSYNC_TEST_DSN_PW", "dsn-part-from-env", 1);
    char file[64];
    write_temp(file, ".secret", "table-from-a-file\n");
    char config[1024];
    snprintf(config, sizeof(config),
             "{ plugin: tsink, config: { table: \"${file:%s}\", password: \"${env:RDAPSYNC_TEST_PW}\","
             " dsn: \"host=db.example.net sslmode=require password=${env:RDAPSYNC_TEST_DSN_PW}\" } }",
             file);
    loaded l;
    load_sink(&l, config);
    cr_assert_not_null(l.config);
    const char *never[] = { "env-password-41", "dsn-part-from-env", "table-from-a-file",
                            "host=db.example.net sslmode=require password=dsn-part-from-env" };
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        char line[1024];
        logged(never[i], line, sizeof(line));
        cr_assert(strstr(line, "connecting to *** now"), "%s", line);
        cr_assert_null(strstr(line, never[i]), "%s", line);
    }
    loaded_free(&l);
    unlink(file);
}

Test(secrets, a_literal_dsn_in_a_secret_option_is_masked_as_a_whole)
{
    loaded l;
    load_sink(&l, "{ plugin: tsink, config: { table: t, dsn: \"host=127.0.0.1 user=app password=lit-pw-77\" } }");
    cr_assert_not_null(l.config);
    char line[1024];
    logged("host=127.0.0.1 user=app password=lit-pw-77", line, sizeof(line));
    cr_assert(strstr(line, "connecting to *** now"), "%s", line);
    loaded_free(&l);
}

Test(secrets, credential_keys_of_a_map_are_secret_and_the_other_keys_are_not)
{
    setenv("RDAPSYNC_TEST_SASL", "sasl-password-93", 1);
    setenv("RDAPSYNC_TEST_COMPRESSION", "zstd-level-3", 1);
    loaded l;
    load_sink(&l, "{ plugin: tsink, config: { table: t, properties: { sasl.password: \"${env:RDAPSYNC_TEST_SASL}\","
                  " compression.codec: \"${env:RDAPSYNC_TEST_COMPRESSION}\" } } }");
    cr_assert_not_null(l.config);
    char line[1024];
    logged("sasl-password-93", line, sizeof(line));
    cr_assert(strstr(line, "connecting to *** now"), "%s", line);
    logged("zstd-level-3", line, sizeof(line));
    cr_assert(strstr(line, "connecting to zstd-level-3 now"), "%s", line);
    loaded_free(&l);
}
