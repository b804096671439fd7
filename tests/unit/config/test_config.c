/* config_load: the file's shape, plugin lookup, option tables, defaults;
 * every error at the line and column of the offending node. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_test_util.h"

Test(config, loads_a_minimal_file_with_every_default)
{
    loaded l;
    load_yaml(&l, minimal_yaml);
    cr_assert_not_null(l.config);
    cr_assert_eq(diag_error_count(&l.diags), 0);
    const rdapsync_config *c = l.config;
    cr_assert_str_eq(c->state_dir, "var/state");
    cr_assert_null(c->http_listen);
    cr_assert_eq(c->log_json, 0);
    cr_assert_eq(c->log_level, RDAPSYNC_LOG_INFO);
    cr_assert_eq(c->pipeline_count, 1);
    const pipeline_config *p = &c->pipelines[0];
    cr_assert_str_eq(p->name, "p1");
    cr_assert_eq(p->line, 2);
    cr_assert_eq(p->column, 5);
    cr_assert_eq(p->tasks, 1);
    cr_assert_eq(p->batch_max_records, 1000);
    cr_assert_eq(p->batch_max_wait_ms, 200);
    cr_assert_eq(p->batch_max_bytes, 16 * 1024 * 1024);
    cr_assert_eq(p->retry_backoff_initial_ms, 100);
    cr_assert_eq(p->retry_backoff_max_ms, 30000);
    cr_assert_eq(p->restart_max_failures, 5);
    cr_assert_eq(p->restart_window_ms, 300000);
    cr_assert_eq(p->restart_backoff_initial_ms, 1000);
    cr_assert_eq(p->restart_backoff_max_ms, 60000);
    cr_assert_eq(p->tolerance, TOLERANCE_NONE);
    cr_assert_not(p->has_dead_letter);
    cr_assert_eq(p->transform_count, 0);
    cr_assert_str_eq(p->source.name, "tsource");
    cr_assert_str_eq(p->sink.name, "tsink");
    cr_assert_not_null(p->source.plugin);
    cr_assert_not_null(p->source.settings);
    cr_assert_eq(p->sink.line, 8);
    cr_assert_eq(p->sink.column, 7);
    loaded_free(&l);
}

Test(config, reads_every_top_level_and_pipeline_setting)
{
    loaded l;
    load_yaml(&l, "state_dir: /var/lib/rdapsync\n"
                  "http: { listen: \"127.0.0.1:9100\" }\n"
                  "log: { format: json, level: debug }\n"
                  "pipelines:\n"
                  "  - name: full.pipe-1\n"
                  "    tasks: 4\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    transforms:\n"
                  "      - { plugin: tnoop }\n"
                  "      - { plugin: redact, config: { policy: strict } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n"
                  "    batch: { max_records: 500, max_wait: 1s, max_bytes: 4M }\n"
                  "    retry: { backoff_initial: 50ms, backoff_max: 10s }\n"
                  "    restart: { max_failures: 3, window: 10m, backoff_initial: 2s, backoff_max: 2m }\n"
                  "    errors:\n"
                  "      tolerance: all\n"
                  "      dead_letter: { plugin: tsink, config: { table: dlq }, protect: redact }\n");
    cr_assert_not_null(l.config);
    const rdapsync_config *c = l.config;
    cr_assert_str_eq(c->state_dir, "/var/lib/rdapsync");
    cr_assert_str_eq(c->http_listen, "127.0.0.1:9100");
    cr_assert_eq(c->log_json, 1);
    cr_assert_eq(c->log_level, RDAPSYNC_LOG_DEBUG);
    const pipeline_config *p = &c->pipelines[0];
    cr_assert_eq(p->tasks, 4);
    cr_assert_eq(p->transform_count, 2);
    cr_assert_str_eq(p->transforms[1].name, "redact");
    cr_assert_eq(p->batch_max_records, 500);
    cr_assert_eq(p->batch_max_wait_ms, 1000);
    cr_assert_eq(p->batch_max_bytes, 4 * 1024 * 1024);
    cr_assert_eq(p->retry_backoff_initial_ms, 50);
    cr_assert_eq(p->retry_backoff_max_ms, 10000);
    cr_assert_eq(p->restart_max_failures, 3);
    cr_assert_eq(p->restart_window_ms, 600000);
    cr_assert_eq(p->restart_backoff_initial_ms, 2000);
    cr_assert_eq(p->restart_backoff_max_ms, 120000);
    cr_assert_eq(p->tolerance, TOLERANCE_ALL);
    cr_assert(p->has_dead_letter);
    cr_assert_str_eq(p->dead_letter.name, "tsink");
    cr_assert_eq(p->protect, PROTECT_REDACT);
    loaded_free(&l);
}

Test(config, reports_an_unknown_top_level_key_at_its_place)
{
    loaded l;
    load_yaml(&l, "state_dir: x\n"
                  "pipelinez: []\n"
                  "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 2, 1, "unknown key 'pipelinez' at the top level");
    loaded_free(&l);
}

Test(config, reports_an_unknown_pipeline_key_with_the_pipeline_name)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: orders\n"
                  "    taskz: 2\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 3, 5, "pipeline 'orders': unknown key 'taskz' in the pipeline");
    loaded_free(&l);
}

Test(config, reports_a_wrong_type_at_the_value)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    tasks: many\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 3, 12, "pipeline 'p1': 'tasks' must be an integer from 1 to 64, got 'many'");
    loaded_free(&l);
}

Test(config, refuses_tasks_outside_1_to_64)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: a\n"
                  "    tasks: 0\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n"
                  "  - name: b\n"
                  "    tasks: 65\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 3, 12, "pipeline 'a': 'tasks' must be from 1 to 64, got 0");
    expect_error(&l, 7, 12, "pipeline 'b': 'tasks' must be from 1 to 64, got 65");
    loaded_free(&l);
}

Test(config, reports_missing_required_keys_at_the_pipeline)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: nosink\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "  - source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 2, 5, "pipeline 'nosink': missing required key 'sink'");
    expect_error(&l, 4, 5, "pipeline #2: missing required key 'name'");
    loaded_free(&l);
}

Test(config, reports_a_missing_pipelines_key_and_an_empty_list)
{
    loaded l;
    load_yaml(&l, "state_dir: x\n");
    expect_error(&l, 1, 1, "missing required key 'pipelines'");
    loaded_free(&l);
    load_yaml(&l, "pipelines: []\n");
    expect_error(&l, 1, 12, "'pipelines' must be a non-empty sequence");
    loaded_free(&l);
}

Test(config, reports_duplicate_pipeline_names_at_the_second)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: twin\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n"
                  "  - name: twin\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 5, 11, "duplicate pipeline name 'twin' (first defined at line 2, column 5)");
    loaded_free(&l);
}

Test(config, refuses_a_pipeline_name_with_odd_characters)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: \"a b\"\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    expect_error(&l, 2, 11, "name 'a b' may only contain");
    loaded_free(&l);
}

Test(config, names_the_kind_the_plugin_and_the_search_path_of_an_unknown_plugin)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: nosuch, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 4, 21, "pipeline 'p1': sink: unknown sink plugin 'nosuch': no sink-nosuch.so in " CONFIG_FIXTURE_DIR);
    loaded_free(&l);
}

Test(config, reports_a_plugin_used_as_the_wrong_kind)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    transforms: [ { plugin: tsink } ]\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 4, 29, "'tsink' is a sink plugin, not a transform");
    loaded_free(&l);
}

Test(config, refuses_a_plugin_name_that_is_a_path)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: ../../tmp/evil, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    expect_error(&l, 3, 23, "invalid plugin name '../../tmp/evil'");
    loaded_free(&l);
}

Test(config, reports_an_unknown_option_with_the_known_ones)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x, colour: y } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 3, 51, "pipeline 'p1': source 'tsource': unknown option 'colour' (known options: path, mode,");
    loaded_free(&l);
}

Test(config, reports_option_type_range_and_enum_errors_at_each_value)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source:\n"
                  "      plugin: tsource\n"
                  "      config:\n"
                  "        path: [a, b]\n"
                  "        limit: 1000\n"
                  "        mode: xml\n"
                  "        enabled: maybe\n"
                  "        poll_interval: 5 minutes\n"
                  "        max_size: 12Q\n"
                  "        ratio: half\n"
                  "        topics: { a: b }\n"
                  "        properties: [x]\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 6, 15, "option 'path' expects a string, got a sequence");
    expect_error(&l, 7, 16, "option 'limit' must be between 1 and 100, got '1000'");
    expect_error(&l, 8, 15, "option 'mode' must be one of: lines, json, got 'xml'");
    expect_error(&l, 9, 18, "option 'enabled' expects a boolean");
    expect_error(&l, 10, 24, "option 'poll_interval' expects a duration");
    expect_error(&l, 11, 19, "option 'max_size' expects a size");
    expect_error(&l, 12, 16, "option 'ratio' expects a number, got 'half'");
    expect_error(&l, 13, 17, "option 'topics' expects a list of scalars (or one scalar), got a mapping");
    expect_error(&l, 14, 21, "option 'properties' expects a mapping of scalars, got a sequence");
    cr_assert_eq(diag_error_count(&l.diags), 9, "every error is reported, not just the first");
    loaded_free(&l);
}

Test(config, reports_a_missing_required_option_at_the_block)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source:\n"
                  "      plugin: tsource\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 4, 7, "pipeline 'p1': source 'tsource': missing required option 'path' (string)");
    loaded_free(&l);
}

typedef struct source_settings {
    char *path;
    int mode;
    int64_t poll_interval;
    rdapsync_string_list topics;
    int64_t limit;
    int64_t max_size;
    double ratio;
    rdapsync_string_map properties;
    bool enabled;
    char *label;
} source_settings;

Test(config, applies_option_defaults_with_the_file_rules)
{
    loaded l;
    load_yaml(&l, minimal_yaml);
    cr_assert_not_null(l.config);
    const source_settings *s = l.config->pipelines[0].source.settings;
    cr_assert_str_eq(s->path, "in.jsonl");
    cr_assert_eq(s->mode, 0);
    cr_assert_eq(s->poll_interval, 5000);
    cr_assert_eq(s->topics.count, 2);
    cr_assert_str_eq(s->topics.items[0], "a");
    cr_assert_str_eq(s->topics.items[1], "b");
    cr_assert_eq(s->limit, 10);
    cr_assert_eq(s->max_size, 1024 * 1024);
    cr_assert_float_eq(s->ratio, 0.25, 1e-9);
    cr_assert_eq(s->properties.count, 0);
    cr_assert(s->enabled);
    cr_assert_null(s->label, "an unset string without default stays NULL");
    loaded_free(&l);
}

Test(config, converts_sizes_durations_lists_and_maps)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source:\n"
                  "      plugin: tsource\n"
                  "      config:\n"
                  "        path: x\n"
                  "        mode: json\n"
                  "        poll_interval: 1h30m\n"
                  "        topics: only-one\n"
                  "        max_size: 64K\n"
                  "        enabled: off\n"
                  "        label: \"\"\n"
                  "        properties: { \"client.id\": rdapsync, retries: 3 }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_not_null(l.config);
    const source_settings *s = l.config->pipelines[0].source.settings;
    cr_assert_eq(s->mode, 1);
    cr_assert_eq(s->poll_interval, 90 * 60 * 1000);
    cr_assert_eq(s->topics.count, 1);
    cr_assert_str_eq(s->topics.items[0], "only-one");
    cr_assert_eq(s->max_size, 64 * 1024);
    cr_assert_not(s->enabled);
    cr_assert_str_eq(s->label, "");
    cr_assert_eq(s->properties.count, 2);
    cr_assert_str_eq(s->properties.keys[0], "client.id");
    cr_assert_str_eq(s->properties.values[0], "rdapsync");
    cr_assert_str_eq(s->properties.values[1], "3");
    loaded_free(&l);
}

Test(config, an_empty_list_overrides_the_default)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x, topics: ~ } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_not_null(l.config);
    const source_settings *s = l.config->pipelines[0].source.settings;
    cr_assert_eq(s->topics.count, 0);
    loaded_free(&l);
}

Test(config, reports_a_non_scalar_map_value)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source:\n"
                  "      plugin: tsource\n"
                  "      config:\n"
                  "        path: x\n"
                  "        properties: { a: [1, 2] }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    expect_error(&l, 7, 26, "option 'properties': value of 'a' must be a scalar, got a sequence");
    loaded_free(&l);
}

Test(config, reports_the_check_hook_reason)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink:\n"
                  "      plugin: tsink\n"
                  "      config:\n"
                  "        table: forbidden\n");
    cr_assert_null(l.config);
    expect_error(&l, 7, 9, "pipeline 'p1': sink 'tsink': invalid configuration: table 'forbidden' is reserved");
    loaded_free(&l);
}

Test(config, batch_overlap_is_auto_by_default_and_takes_auto_or_a_boolean)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n"
                  "  - name: p2\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n"
                  "    batch: { overlap: false }\n"
                  "  - name: p3\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n"
                  "    batch: { overlap: true }\n");
    cr_assert_not_null(l.config);
    cr_assert_eq(l.config->pipelines[0].batch_overlap, BATCH_OVERLAP_AUTO);
    cr_assert_eq(l.config->pipelines[1].batch_overlap, BATCH_OVERLAP_OFF);
    cr_assert_eq(l.config->pipelines[2].batch_overlap, BATCH_OVERLAP_ON);
    loaded_free(&l);
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n"
                  "    batch: { overlap: sometimes }\n");
    cr_assert_null(l.config);
    expect_error(&l, 5, 23, "'overlap' must be auto, true or false, got 'sometimes'");
    loaded_free(&l);
}

Test(config, checks_batch_retry_and_restart_ranges)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n"
                  "    batch: { max_records: 1000001, max_wait: 0s, max_bytes: lots }\n"
                  "    retry: { backoff_initial: 1m, backoff_max: 1s }\n"
                  "    restart: { max_failures: 0, window: -5m }\n"
                  "    errors: { tolerance: some }\n");
    cr_assert_null(l.config);
    expect_error(&l, 5, 27, "'max_records' must be from 1 to 1000000, got 1000001");
    expect_error(&l, 5, 46, "'max_wait' must be a duration greater than 0");
    expect_error(&l, 5, 61, "'max_bytes' must be a size greater than 0");
    expect_error(&l, 6, 31, "retry: backoff_initial 1m is greater than backoff_max 1s");
    expect_error(&l, 7, 30, "'max_failures' must be from 1 to 1000000, got 0");
    expect_error(&l, 7, 41, "'window' must be a duration greater than 0");
    expect_error(&l, 8, 26, "'tolerance' must be one of: none, all; got 'some'");
    loaded_free(&l);
}

Test(config, reports_a_section_of_the_wrong_shape)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: tsource\n"
                  "    transforms: { plugin: tnoop }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n"
                  "    batch: 100\n");
    cr_assert_null(l.config);
    expect_error(&l, 3, 13, "'source' must be a mapping { plugin: NAME, config: {...} }, got a scalar");
    expect_error(&l, 4, 17, "'transforms' must be a sequence");
    expect_error(&l, 6, 12, "'batch' must be a mapping, got a scalar");
    loaded_free(&l);
}

Test(config, reports_an_unknown_key_inside_a_plugin_block)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, conf: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    expect_error(&l, 3, 32, "unknown key 'conf' in source (expected one of: plugin, config)");
    expect_error(&l, 3, 13, "missing required option 'path'");
    loaded_free(&l);
}

Test(config, collects_every_error_of_the_file)
{
    loaded l;
    load_yaml(&l, "bogus: 1\n"
                  "pipelines:\n"
                  "  - name: p1\n"
                  "    tasks: many\n"
                  "    source: { plugin: nosuch }\n"
                  "    sink: { plugin: tsink, config: { table: t, extra: 1 } }\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink }\n");
    cr_assert_null(l.config);
    expect_error(&l, 1, 1, "unknown key 'bogus'");
    expect_error(&l, 4, 12, "'tasks' must be an integer");
    expect_error(&l, 5, 23, "unknown source plugin 'nosuch'");
    expect_error(&l, 6, 48, "unknown option 'extra'");
    expect_error(&l, 7, 11, "duplicate pipeline name 'p1'");
    expect_error(&l, 9, 11, "missing required option 'table'");
    cr_assert_eq(diag_error_count(&l.diags), 6);
    loaded_free(&l);
}

Test(config, reports_duplicate_yaml_keys)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n"
                  "    tasks: 2\n"
                  "    tasks: 3\n");
    cr_assert_null(l.config);
    expect_error(&l, 6, 5, "duplicate key 'tasks' (first at line 5, column 5)");
    loaded_free(&l);
}

Test(config, reports_a_yaml_syntax_error_with_its_place)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource\n"
                  "    sink: x\n");
    cr_assert_null(l.config);
    cr_assert_eq(l.diags.count, 1);
    cr_assert(strstr(l.diags.items[0].message, "invalid YAML"), "%s", l.diags.items[0].message);
    cr_assert_eq(l.diags.items[0].line, 4);
    loaded_free(&l);
}

Test(config, reports_an_empty_file_and_a_missing_file)
{
    loaded l;
    load_yaml(&l, "");
    cr_assert_null(l.config);
    cr_assert(any_diag_contains(&l, "the file is empty"));
    loaded_free(&l);

    diag_list diags;
    diag_list_init(&diags);
    plugin_registry *registry = registry_new(NULL, 0);
    cr_assert_null(config_load("/nonexistent/rdapsync.yaml", registry, &diags));
    cr_assert_eq(diags.count, 1);
    cr_assert(strstr(diags.items[0].message, "cannot open the file"), "%s", diags.items[0].message);
    diag_list_free(&diags);
    registry_free(registry);
}

Test(config, refuses_yaml_aliases)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: &s { plugin: tsource, config: { path: x } }\n"
                  "    sink: *s\n");
    cr_assert_null(l.config);
    expect_error(&l, 4, 11, "YAML aliases (*s) are not supported");
    loaded_free(&l);
}

Test(config, checks_http_and_log_settings)
{
    loaded l;
    load_yaml(&l, "http: { listen: nowhere }\n"
                  "log: { format: xml, level: loud }\n"
                  "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 1, 17, "'listen' must be HOST:PORT");
    expect_error(&l, 2, 16, "'format' must be one of: text, json; got 'xml'");
    expect_error(&l, 2, 28, "'level' must be one of: error, warn, info, debug; got 'loud'");
    loaded_free(&l);
}

Test(config, searches_the_files_plugin_path)
{
    loaded l;
    memset(&l, 0, sizeof(l));
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "plugin_path: [ %s ]\n%s", CONFIG_FIXTURE_DIR, minimal_yaml);
    write_temp(l.path, ".yaml", yaml);
    unsetenv("RDAPSYNC_PLUGIN_PATH");
    l.registry = registry_new(NULL, 0);
    diag_list_init(&l.diags);
    l.config = config_load(l.path, l.registry, &l.diags);
    cr_assert_not_null(l.config, "plugin_path was not searched");
    cr_assert_eq(l.config->plugin_path_count, 1);
    cr_assert_str_eq(l.config->plugin_path[0], CONFIG_FIXTURE_DIR);
    loaded_free(&l);
}

Test(config, gives_pipelines_a_fingerprint_that_follows_their_content)
{
    loaded a, b, c;
    load_yaml(&a, minimal_yaml);
    load_yaml(&b, minimal_yaml);
    char changed[1024];
    snprintf(changed, sizeof(changed), "%s", minimal_yaml);
    memcpy(strstr(changed, "table: rdap"), "table: rdaq", 11);
    load_yaml(&c, changed);
    cr_assert_not_null(a.config);
    cr_assert_not_null(c.config);
    cr_assert_eq(a.config->pipelines[0].fingerprint, b.config->pipelines[0].fingerprint);
    cr_assert_neq(a.config->pipelines[0].fingerprint, c.config->pipelines[0].fingerprint);
    loaded_free(&a);
    loaded_free(&b);
    loaded_free(&c);
}

Test(config, suggests_the_nearest_option_of_the_plugin)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x, pol_interval: 5s } }\n"
                  "    sink: { plugin: tsink, config: { tabel: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 3, 51, "source 'tsource': unknown option 'pol_interval' (did you mean 'poll_interval'?)");
    expect_error(&l, 4, 38, "sink 'tsink': unknown option 'tabel' (did you mean 'table'?)");
    loaded_free(&l);
}

Test(config, suggests_the_nearest_plugin_of_the_same_kind)
{
    loaded l;
    load_yaml(&l, "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    transforms: [ { plugin: redcat } ]\n"
                  "    sink: { plugin: postgress, config: { table: t } }\n");
    cr_assert_null(l.config);
    expect_error(&l, 4, 29, "transform: unknown transform plugin 'redcat' (did you mean 'redact'?)");
    expect_error(&l, 5, 21, "sink: unknown sink plugin 'postgress' (did you mean 'postgres'?)");
    loaded_free(&l);
}

Test(config, suggests_the_nearest_host_key)
{
    loaded l;
    load_yaml(&l, "plugin_paths: [ x ]\n"
                  "pipelines:\n"
                  "  - name: p1\n"
                  "    source: { plugin: tsource, config: { path: x } }\n"
                  "    sink: { plugin: tsink, config: { table: t } }\n"
                  "    errors: { tolerence: all }\n"
                  "    bacth: { max_records: 10 }\n");
    cr_assert_null(l.config);
    expect_error(&l, 1, 1, "unknown key 'plugin_paths' at the top level (did you mean 'plugin_path'?)");
    expect_error(&l, 6, 15, "unknown key 'tolerence' in errors (did you mean 'tolerance'?)");
    expect_error(&l, 7, 5, "unknown key 'bacth' in the pipeline (did you mean 'batch'?)");
    loaded_free(&l);
}
