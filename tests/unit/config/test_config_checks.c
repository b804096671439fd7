/* Validate-time checks beyond the schema (validate_checks.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_test_util.h"

static const diag *find_check(const loaded *l, const char *check)
{
    for (size_t i = 0; i < l->diags.count; i++)
        if (l->diags.items[i].check && strcmp(l->diags.items[i].check, check) == 0)
            return &l->diags.items[i];
    return NULL;
}

static void load_with(loaded *l, const char *transforms, const char *sink, const char *extra)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "pipelines:\n"
             "  - name: p1\n"
             "    source: { plugin: tsource, config: { path: x } }\n"
             "    transforms: %s\n"
             "    sink: %s\n"
             "%s",
             transforms, sink, extra);
    load_yaml(l, yaml);
}

Test(checks, a_clean_pipeline_has_no_findings)
{
    setenv("RDAPSYNC_TEST_PW", "some-password", 1);
    loaded l;
    load_with(&l, "[ { plugin: redact } ]",
              "{ plugin: postgres, config: { table: t, password: \"${env:RDAPSYNC_TEST_PW}\","
              " dsn: \"host=10.1.2.3 sslmode=verify-full password=${env:RDAPSYNC_TEST_PW}\" } }",
              "");
    cr_assert_not_null(l.config);
    cr_assert_eq(l.diags.count, 0, "unexpected: %s", l.diags.count ? l.diags.items[0].message : "");
    loaded_free(&l);
}

Test(checks, warns_about_a_literal_secret_without_printing_it)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]", "{ plugin: tsink, config: { table: t, password: Sup3rS3cret } }", "");
    cr_assert_not_null(l.config, "a warning does not fail the load");
    expect_warning(&l, 5, 58, "sink 'tsink': option 'password' holds a literal secret");
    cr_assert_str_eq(find_check(&l, "literal-secret")->check, "literal-secret");
    cr_assert_not(any_diag_contains(&l, "Sup3rS3cret"));
    loaded_free(&l);
}

Test(checks, warns_about_a_literal_password_inside_a_dsn_or_uri)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]",
              "{ plugin: tsink, config: { table: t, dsn: \"host=127.0.0.1 password=pw1234\" } }", "");
    expect_warning(&l, 5, 53, "option 'dsn' holds a literal password");
    loaded_free(&l);
    load_with(&l, "[ { plugin: redact } ]",
              "{ plugin: tsink, config: { table: \"postgres://app:pw1234@127.0.0.1/db\" } }", "");
    expect_warning(&l, 5, 45, "option 'table' holds a literal password");
    loaded_free(&l);
}

Test(checks, warns_about_sslmode_disable_toward_a_remote_host)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]",
              "{ plugin: tsink, config: { table: t, dsn: \"host=db.example.net sslmode=disable\" } }", "");
    expect_warning(&l, 5, 53, "option 'dsn' reaches a non-loopback host without TLS");
    loaded_free(&l);
}

Test(checks, accepts_sslmode_disable_on_loopback)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]",
              "{ plugin: tsink, config: { table: t, dsn: \"host=127.0.0.1 sslmode=disable\" } }", "");
    cr_assert_null(find_check(&l, "insecure-transport"));
    loaded_free(&l);
}

Test(checks, warns_about_plaintext_brokers_and_tls_off)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]",
              "{ plugin: tsink, config: { table: t, tls: no, brokers: [ \"kafka-1.example:9092\" ] } }", "");
    expect_warning(&l, 5, 66, "option 'brokers' reaches a non-loopback host without TLS");
    loaded_free(&l);
    load_with(&l, "[ { plugin: redact } ]",
              "{ plugin: tsink, config: { table: t, brokers: [ \"kafka-1.example:9092\" ],"
              " properties: { security.protocol: PLAINTEXT } } }",
              "");
    expect_warning(&l, 5, 57, "option 'brokers' reaches a non-loopback host without TLS");
    loaded_free(&l);
    load_with(&l, "[ { plugin: redact } ]",
              "{ plugin: tsink, config: { table: t, brokers: [ \"kafka-1.example:9092\" ] } }", "");
    cr_assert_null(find_check(&l, "insecure-transport"), "the sink's tls option defaults to true");
    loaded_free(&l);
    load_with(&l, "[ { plugin: redact } ]",
              "{ plugin: tsink, config: { table: t, tls: false, dsn: \"mongodb://db.example:27017/x\" } }", "");
    expect_warning(&l, 5, 65, "option 'dsn' reaches a non-loopback host without TLS");
    loaded_free(&l);
    load_with(&l, "[ { plugin: redact } ]",
              "{ plugin: tsink, config: { table: t, dsn: \"mongodb://[::1]:27017/x?tls=false\" } }", "");
    cr_assert_null(find_check(&l, "insecure-transport"), "loopback needs no TLS");
    loaded_free(&l);
}

Test(checks, warns_when_a_database_sink_has_no_redact_transform)
{
    loaded l;
    load_with(&l, "[ { plugin: tnoop } ]", "{ plugin: postgres, config: { table: t } }", "");
    expect_warning(&l, 5, 11, "sink 'postgres' stores records but the pipeline has no 'redact' transform");
    loaded_free(&l);
}

Test(checks, refuses_tolerance_all_without_a_dead_letter_sink)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]", "{ plugin: tsink, config: { table: t } }",
              "    errors: { tolerance: all }\n");
    cr_assert_null(l.config, "losing records silently is an error, not a warning");
    expect_error(&l, 6, 26, "errors.tolerance is 'all' but there is no errors.dead_letter sink");
    cr_assert_str_eq(find_check(&l, "dead-letter-missing")->check, "dead-letter-missing");
    loaded_free(&l);
}

Test(checks, warns_about_an_unused_dead_letter_sink)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]", "{ plugin: tsink, config: { table: t } }",
              "    errors: { dead_letter: { plugin: tsink, config: { table: dlq }, protect: redact } }\n");
    cr_assert_not_null(l.config);
    expect_warning(&l, 6, 28, "errors.dead_letter is set but errors.tolerance is 'none'");
    loaded_free(&l);
}

Test(checks, refuses_clear_dead_letters_in_a_redacting_pipeline_naming_the_block)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]", "{ plugin: tsink, config: { table: t } }",
              "    errors: { tolerance: all, dead_letter: { plugin: tsink, config: { table: dlq } } }\n");
    cr_assert_null(l.config, "dead letters in clear by default are an error");
    expect_error(&l, 6, 44, "errors.dead_letter: the pipeline redacts personal data, so its dead letters must not "
                            "hold documents in clear");
    loaded_free(&l);
}

Test(checks, accepts_protect_redact_and_an_explicit_none_with_a_warning)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]", "{ plugin: tsink, config: { table: t } }",
              "    errors: { tolerance: all, dead_letter: { plugin: tsink, config: { table: dlq }, protect: redact } }\n");
    cr_assert_not_null(l.config);
    cr_assert_eq(l.config->pipelines[0].protect, PROTECT_REDACT);
    cr_assert_null(find_check(&l, "dead-letter-clear"));
    loaded_free(&l);

    load_with(&l, "[ { plugin: redact } ]", "{ plugin: tsink, config: { table: t } }",
              "    errors: { tolerance: all, dead_letter: { plugin: tsink, config: { table: dlq }, protect: none } }\n");
    cr_assert_not_null(l.config, "protect: none is a choice the file may make");
    cr_assert_eq(l.config->pipelines[0].protect, PROTECT_NONE);
    expect_warning(&l, 6, 94, "errors.dead_letter.protect is 'none': dead letters hold the documents as received");
    loaded_free(&l);
}

Test(checks, refuses_protect_encrypt_without_a_keyring_and_redact_without_a_redact_transform)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]", "{ plugin: tsink, config: { table: t } }",
              "    errors: { tolerance: all, dead_letter: { plugin: tsink, config: { table: dlq }, protect: encrypt } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 6, 94, "errors.dead_letter.protect is 'encrypt' but there is no errors.dead_letter.keyring");
    loaded_free(&l);

    load_with(&l, "[ { plugin: tnoop } ]", "{ plugin: tsink, config: { table: t } }",
              "    errors: { tolerance: all, dead_letter: { plugin: tsink, config: { table: dlq }, protect: redact } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 6, 94, "errors.dead_letter.protect is 'redact' but the pipeline has no redact transform");
    loaded_free(&l);
}

Test(checks, a_pipeline_without_redact_keeps_clear_dead_letters_by_default)
{
    loaded l;
    load_with(&l, "[ { plugin: tnoop } ]", "{ plugin: tsink, config: { table: t } }",
              "    errors: { tolerance: all, dead_letter: { plugin: tsink, config: { table: dlq } } }\n");
    cr_assert_not_null(l.config);
    cr_assert_eq(l.config->pipelines[0].protect, PROTECT_NONE);
    cr_assert_null(find_check(&l, "dead-letter-clear"), "an implicit none is not warned about");
    loaded_free(&l);
}

Test(checks, warns_about_absurd_batch_and_task_values)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]", "{ plugin: tsink, config: { table: t } }",
              "    tasks: 40\n"
              "    batch: { max_records: 500000, max_bytes: 1K, max_wait: 10m }\n"
              "    restart: { max_failures: 10, window: 5s }\n");
    cr_assert_not_null(l.config);
    expect_warning(&l, 6, 12, "tasks is above 16");
    expect_warning(&l, 7, 27, "batch.max_records is above 100000");
    expect_warning(&l, 7, 46, "batch.max_bytes is below 64K");
    expect_warning(&l, 7, 60, "batch.max_wait is above 1m");
    expect_warning(&l, 8, 42, "restart.window is shorter than max_failures restarts");
    loaded_free(&l);
}

Test(checks, warns_when_tasks_exceed_the_input_files_of_the_source)
{
    char dir[] = "/tmp/rdapsync-checks-XXXXXX";
    char file[sizeof(dir) + 16];
    char yaml[1024];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/a.jsonl", dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);

    loaded l;
    snprintf(yaml, sizeof(yaml),
             "pipelines:\n"
             "  - name: p1\n"
             "    tasks: 3\n"
             "    source: { plugin: tsource, config: { path: \"%s\" } }\n"
             "    sink: { plugin: tsink, config: { table: t } }\n",
             file);
    load_yaml(&l, yaml);
    cr_assert_not_null(l.config, "a warning does not fail the load");
    const diag *d = find_check(&l, "tasks-exceed-inputs");
    cr_assert_not_null(d, "one input file, three tasks");
    cr_assert_eq(d->line, 3);
    cr_assert(strstr(d->message, "2 task(s) would have nothing to read") != NULL, "%s", d->message);
    loaded_free(&l);

    /* A directory of three files feeds three tasks. */
    for (int i = 0; i < 2; i++) {
        snprintf(file, sizeof(file), "%s/%c.jsonl", dir, 'b' + i);
        f = fopen(file, "w");
        cr_assert_not_null(f);
        fclose(f);
    }
    snprintf(yaml, sizeof(yaml),
             "pipelines:\n"
             "  - name: p1\n"
             "    tasks: 3\n"
             "    source: { plugin: tsource, config: { path: \"%s\" } }\n"
             "    sink: { plugin: tsink, config: { table: t } }\n",
             dir);
    load_yaml(&l, yaml);
    cr_assert_null(find_check(&l, "tasks-exceed-inputs"));
    loaded_free(&l);
    for (int i = 0; i < 3; i++) {
        snprintf(file, sizeof(file), "%s/%c.jsonl", dir, 'a' + i);
        unlink(file);
    }
    rmdir(dir);
}

/* The advisory check ids of validate_checks.c: none of them may follow an
 * error reported in the same part of the pipeline. */
static const char *const advisory_checks[] = { "literal-secret", "insecure-transport", "no-redact", "input-missing",
                                               "dead-letter-missing", "dead-letter-unused", "absurd-value",
                                               "tasks-exceed-inputs", NULL };

static void expect_no_advisory_finding(const loaded *l)
{
    for (size_t i = 0; advisory_checks[i]; i++) {
        const diag *d = find_check(l, advisory_checks[i]);
        cr_expect_null(d, "a finding that only follows from the error: %s", d ? d->message : "");
    }
}

Test(checks, a_misspelt_errors_key_is_not_also_reported_as_tolerance_none)
{
    loaded l;
    load_with(&l, "[ { plugin: redact } ]", "{ plugin: tsink, config: { table: t } }",
              "    errors: { tolerence: all, dead_letter: { plugin: tsink, config: { table: dlq } } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 6, 15, "unknown key 'tolerence'");
    expect_no_advisory_finding(&l);
    loaded_free(&l);
}

Test(checks, a_part_with_an_error_gets_no_advisory_check)
{
    loaded l;
    /* backoff_initial > backoff_max is the error; the window being short
     * for that backoff would only repeat it. */
    load_with(&l, "[ { plugin: redact } ]", "{ plugin: tsink, config: { table: t } }",
              "    restart: { backoff_initial: 10m, backoff_max: 1s }\n");
    expect_error(&l, 6, 33, "backoff_initial 10m is greater than backoff_max 1s");
    expect_no_advisory_finding(&l);
    loaded_free(&l);
    /* A misspelt transform: the pipeline is not known to lack redaction. */
    load_with(&l, "[ { plugin: redcat } ]", "{ plugin: postgres, config: { table: t } }", "");
    expect_error(&l, 4, 29, "unknown transform plugin 'redcat'");
    expect_no_advisory_finding(&l);
    loaded_free(&l);
    /* An unknown option in a plugin block: its literal password is not
     * reported on top of the error in that block. */
    load_with(&l, "[ { plugin: redact } ]",
              "{ plugin: tsink, config: { table: t, password: pw123456, colour: red } }", "");
    expect_error(&l, 5, 68, "unknown option 'colour'");
    expect_no_advisory_finding(&l);
    loaded_free(&l);
}

Test(checks, a_misspelt_pipeline_key_leaves_the_whole_pipeline_unchecked)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    transfroms: [ { plugin: redact } ]\n"
                  "    sink: { plugin: postgres, config: { table: t } }\n");
    expect_error(&l, 4, 5, "unknown key 'transfroms'");
    expect_no_advisory_finding(&l);
    loaded_free(&l);
}

Test(checks, an_error_in_one_part_leaves_the_findings_of_the_others)
{
    loaded l;
    load_with(&l, "[ { plugin: tnoop } ]", "{ plugin: postgres, config: { table: t } }",
              "    batch: { max_records: lots }\n");
    expect_error(&l, 6, 27, "'max_records' must be an integer");
    expect_warning(&l, 5, 11, "sink 'postgres' stores records but the pipeline has no 'redact' transform");
    loaded_free(&l);
}
