/* rdapsync's commands: output and exit codes. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "runtime.h"

typedef struct cli_result {
    int code;
    char out[65536];
    char err[65536];
} cli_result;

static void read_all(int fd, char *buf, size_t size)
{
    lseek(fd, 0, SEEK_SET);
    ssize_t got = read(fd, buf, size - 1);
    buf[got > 0 ? got : 0] = '\0';
    close(fd);
}

static int temp_fd(void)
{
    char path[] = "/tmp/rdapsync-cli-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    unlink(path);
    return fd;
}

/* Runs cli_main with the NULL-terminated arguments, capturing stdout/stderr. */
static void run_cli(cli_result *r, ...)
{
    char *argv[32] = { "rdapsync" };
    int argc = 1;
    va_list args;
    va_start(args, r);
    for (char *arg; argc < 31 && (arg = va_arg(args, char *));)
        argv[argc++] = arg;
    va_end(args);
    argv[argc] = NULL;
    int out = temp_fd(), err = temp_fd();
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(out, 1);
    dup2(err, 2);
    r->code = cli_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    read_all(out, r->out, sizeof(r->out));
    read_all(err, r->err, sizeof(r->err));
}

static char yaml_path[64];

static const char *write_yaml(const char *text)
{
    snprintf(yaml_path, sizeof(yaml_path), "/tmp/rdapsync-cli-XXXXXX.yaml");
    int fd = mkstemps(yaml_path, 5);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return yaml_path;
}

static void cleanup(void)
{
    if (yaml_path[0])
        unlink(yaml_path);
}

static void setup(void)
{
    unsetenv("RDAPSYNC_PLUGIN_PATH");
}

TestSuite(cli, .init = setup, .fini = cleanup);

static const char *const good_yaml = "pipelines:\n"
                                     "  - name: p1\n"
                                     "    source: { plugin: tsource, config: { path: x } }\n"
                                     "    sink: { plugin: tsink, config: { table: t } }\n";

Test(cli, version_prints_the_version_and_the_abi)
{
    cli_result r;
    run_cli(&r, "version", NULL);
    cr_assert_eq(r.code, EXIT_OK);
    char expected[128];
    snprintf(expected, sizeof(expected), "rdapsync %s (plugin ABI %d.%d)\n", RDAPSYNC_VERSION, RDAPSYNC_ABI_MAJOR,
             RDAPSYNC_ABI_MINOR);
    cr_assert_str_eq(r.out, expected);
    run_cli(&r, "--version", NULL);
    cr_assert_str_eq(r.out, expected);
}

Test(cli, help_lists_the_commands_and_help_cmd_explains_one)
{
    cli_result r;
    run_cli(&r, "--help", NULL);
    cr_assert_eq(r.code, EXIT_OK);
    cr_assert(strstr(r.out, "validate FILE [--strict]") && strstr(r.out, "--plugin-path DIR"), "%s", r.out);
    run_cli(&r, "help", "plugins", NULL);
    cr_assert_eq(r.code, EXIT_OK);
    cr_assert(strstr(r.out, "usage: rdapsync [GLOBAL OPTIONS] plugins [--json]"), "%s", r.out);
    run_cli(&r, "validate", "--help", NULL);
    cr_assert_eq(r.code, EXIT_OK);
    cr_assert(strstr(r.out, "--strict"), "%s", r.out);
}

Test(cli, bad_command_lines_exit_with_the_usage_code)
{
    cli_result r;
    run_cli(&r, NULL);
    cr_assert_eq(r.code, EXIT_USAGE);
    run_cli(&r, "frobnicate", NULL);
    cr_assert_eq(r.code, EXIT_USAGE);
    cr_assert(strstr(r.err, "unknown command 'frobnicate'"), "%s", r.err);
    run_cli(&r, "--no-such-option", "version", NULL);
    cr_assert_eq(r.code, EXIT_USAGE);
    run_cli(&r, "validate", NULL);
    cr_assert_eq(r.code, EXIT_USAGE);
    cr_assert(strstr(r.err, "expected exactly one FILE"), "%s", r.err);
    run_cli(&r, "validate", "a.yaml", "b.yaml", NULL);
    cr_assert_eq(r.code, EXIT_USAGE);
    run_cli(&r, "--log-format", "xml", "version", NULL);
    cr_assert_eq(r.code, EXIT_USAGE);
    run_cli(&r, "run", "--strict", "x.yaml", NULL);
    cr_assert_eq(r.code, EXIT_USAGE, "--strict belongs to validate only");
    run_cli(&r, "help", "nosuch", NULL);
    cr_assert_eq(r.code, EXIT_USAGE);
}

Test(cli, validate_says_ok_with_the_pipeline_count)
{
    const char *file = write_yaml(good_yaml);
    cli_result r;
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "validate", file, NULL);
    cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
    char expected[128];
    snprintf(expected, sizeof(expected), "%s: ok (1 pipeline)\n", file);
    cr_assert_str_eq(r.out, expected);
    cr_assert_str_eq(r.err, "");
}

Test(cli, validate_accepts_global_options_after_the_command)
{
    const char *file = write_yaml(good_yaml);
    cli_result r;
    run_cli(&r, "validate", file, "--plugin-path", CLI_FIXTURE_DIR, NULL);
    cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
}

Test(cli, validate_prints_file_line_column_and_exits_3_on_errors)
{
    const char *file = write_yaml("pipelines:\n"
                                  "  - name: p1\n"
                                  "    tasks: many\n"
                                  "    source: { plugin: tsource, config: { path: x } }\n"
                                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cli_result r;
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "validate", file, NULL);
    cr_assert_eq(r.code, EXIT_CONFIG);
    char expected[256];
    snprintf(expected, sizeof(expected),
             "%s:3:12: error: pipeline 'p1': 'tasks' must be an integer from 1 to 64, got 'many'\n", file);
    cr_assert_str_eq(r.err, expected);
    cr_assert_str_eq(r.out, "");
}

Test(cli, validate_passes_warnings_but_strict_fails_on_them)
{
    const char *file = write_yaml("pipelines:\n"
                                  "  - name: p1\n"
                                  "    source: { plugin: tsource, config: { path: x } }\n"
                                  "    sink: { plugin: postgres, config: { table: t } }\n");
    cli_result r;
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "validate", file, NULL);
    cr_assert_eq(r.code, EXIT_OK);
    cr_assert(strstr(r.err, ":4:11: warning: pipeline 'p1': sink 'postgres' stores records") &&
                  strstr(r.err, "[no-redact]"),
              "%s", r.err);
    cr_assert(strstr(r.out, ": ok (1 pipeline)"), "%s", r.out);
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "validate", "--strict", file, NULL);
    cr_assert_eq(r.code, EXIT_CONFIG);
    cr_assert(strstr(r.err, ":4:11: error: pipeline 'p1': sink 'postgres'"), "%s", r.err);
    cr_assert_str_eq(r.out, "");
}

Test(cli, run_refuses_an_invalid_file_before_starting_anything)
{
    const char *file = write_yaml("pipelines: []\n");
    cli_result r;
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "run", file, NULL);
    cr_assert_eq(r.code, EXIT_CONFIG);
    cr_assert(strstr(r.err, ":1:12: error: 'pipelines' must be a non-empty sequence"), "%s", r.err);
}

Test(cli, plugins_lists_each_plugin_with_its_options)
{
    cli_result r;
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "plugins", NULL);
    cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
    cr_assert(strstr(r.out, "source tsource 1.0.0  (" CLI_FIXTURE_DIR "/source-tsource.so)"), "%s", r.out);
    cr_assert(strstr(r.out, "  config test source\n"), "%s", r.out);
    cr_assert(strstr(r.out, "    path                     string   required\n        file to read\n"), "%s", r.out);
    cr_assert(strstr(r.out, "    mode                     enum     default \"lines\", one of: lines, json\n"), "%s",
              r.out);
    cr_assert(strstr(r.out, "    limit                    int      default \"10\", range 1..100\n"), "%s", r.out);
    cr_assert(strstr(r.out, "    password                 string   secret\n"), "%s", r.out);
    cr_assert(strstr(r.out, "sink tsink 1.0.0") && strstr(r.out, "transform redact 1.0.0"), "%s", r.out);
}

static void set_sigpipe(void (*handler)(int))
{
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    cr_assert_eq(sigaction(SIGPIPE, &action, NULL), 0);
}

static bool sigpipe_ignored(void)
{
    struct sigaction now;
    cr_assert_eq(sigaction(SIGPIPE, NULL, &now), 0);
    return now.sa_handler == SIG_IGN;
}

/* The commands that load plugins other than `run` leave them in a process
 * where a write to a closed socket is EPIPE, not death by SIGPIPE. */
Test(cli, validate_and_plugins_load_plugins_with_sigpipe_ignored)
{
    const char *file = write_yaml(good_yaml);
    cli_result r;
    set_sigpipe(SIG_DFL);
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "validate", file, NULL);
    cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
    cr_assert(sigpipe_ignored(), "validate loaded plugins with SIGPIPE's default action");
    set_sigpipe(SIG_DFL);
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "plugins", NULL);
    cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
    cr_assert(sigpipe_ignored(), "plugins loaded plugins with SIGPIPE's default action");
}

Test(cli, plugins_filters_by_name)
{
    cli_result r;
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "plugins", "transform-redact", NULL);
    cr_assert_eq(r.code, EXIT_OK);
    cr_assert(strstr(r.out, "transform redact"), "%s", r.out);
    cr_assert_null(strstr(r.out, "tsource"), "%s", r.out);
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "plugins", "nothing-like-this", NULL);
    cr_assert_eq(r.code, EXIT_CONFIG);
}

Test(cli, plugins_json_is_a_schema_per_plugin)
{
    cli_result r;
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "plugins", "--json", NULL);
    cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
    json_error_t error;
    json_t *doc = json_loads(r.out, 0, &error);
    cr_assert_not_null(doc, "not JSON: %s", error.text);
    json_t *plugins = json_object_get(doc, "plugins");
    json_t *source = NULL;
    size_t i;
    json_t *entry;
    json_array_foreach(plugins, i, entry)
    {
        if (strcmp(json_string_value(json_object_get(entry, "name")), "tsource") == 0)
            source = entry;
    }
    cr_assert_not_null(source);
    cr_assert_str_eq(json_string_value(json_object_get(source, "kind")), "source");
    json_t *schema = json_object_get(source, "config");
    cr_assert_str_eq(json_string_value(json_object_get(schema, "type")), "object");
    cr_assert(json_is_false(json_object_get(schema, "additionalProperties")));
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(schema, "required"), 0)), "path");
    json_t *limit = json_object_get(json_object_get(schema, "properties"), "limit");
    cr_assert_str_eq(json_string_value(json_object_get(limit, "type")), "integer");
    cr_assert_eq(json_integer_value(json_object_get(limit, "default")), 10);
    cr_assert_eq(json_integer_value(json_object_get(limit, "minimum")), 1);
    cr_assert_eq(json_integer_value(json_object_get(limit, "maximum")), 100);
    json_t *mode = json_object_get(json_object_get(schema, "properties"), "mode");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(mode, "enum"), 1)), "json");
    cr_assert_null(json_object_get(source, "concurrent"), "only transforms say whether their calls may overlap");
    json_decref(doc);
}

/* `plugins --json` says `flag` is true of plugin `yes` and false of `no`. */
static void expect_plugin_flag(const char *flag, const char *yes, const char *no)
{
    cli_result r;
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "plugins", "--json", NULL);
    cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
    json_t *doc = json_loads(r.out, 0, NULL);
    cr_assert_not_null(doc);
    int seen = 0;
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(doc, "plugins"), i, entry)
    {
        const char *name = json_string_value(json_object_get(entry, "name"));
        if (strcmp(name, yes) == 0 && ++seen)
            cr_assert(json_is_true(json_object_get(entry, flag)), "%s is %s", yes, flag);
        if (strcmp(name, no) == 0 && ++seen)
            cr_assert(json_is_false(json_object_get(entry, flag)), "%s is not %s", no, flag);
    }
    cr_assert_eq(seen, 2);
    json_decref(doc);
}

Test(cli, plugins_say_which_transforms_may_run_concurrently)
{
    cli_result r;
    expect_plugin_flag("concurrent", "redact", "tnoop");

    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "plugins", "redact", NULL);
    cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
    cr_assert(strstr(r.out, "concurrent: its calls may overlap"), "%s", r.out);
}

Test(cli, plugins_say_which_transforms_are_light)
{
    cli_result r;
    expect_plugin_flag("light", "tlight", "redact");

    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "plugins", "tlight", NULL);
    cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
    cr_assert(strstr(r.out, "light: little work per record"), "%s", r.out);
    run_cli(&r, "--plugin-path", CLI_FIXTURE_DIR, "plugins", "redact", NULL);
    cr_assert(!strstr(r.out, "light:"), "%s", r.out);
}

Test(cli, plugins_reports_a_broken_file_and_goes_on)
{
    char dir[] = "/tmp/rdapsync-cli-dir-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char broken[128];
    snprintf(broken, sizeof(broken), "%s/sink-broken.so", dir);
    FILE *f = fopen(broken, "w");
    fputs("not a shared object", f);
    fclose(f);
    cli_result r;
    run_cli(&r, "--plugin-path", dir, "--plugin-path", CLI_FIXTURE_DIR, "plugins", NULL);
    cr_assert_eq(r.code, EXIT_OK);
    cr_assert(strstr(r.err, "sink-broken.so: skipped: cannot load"), "%s", r.err);
    cr_assert(strstr(r.out, "sink tsink"), "%s", r.out);
    unlink(broken);
    rmdir(dir);
}

Test(cli, suggests_the_nearest_command)
{
    cli_result r;
    run_cli(&r, "valdiate", "x.yaml", NULL);
    cr_assert_eq(r.code, EXIT_USAGE);
    cr_assert(strstr(r.err, "rdapsync: unknown command 'valdiate' (did you mean 'validate'?)"), "%s", r.err);
    run_cli(&r, "help", "plugin", NULL);
    cr_assert_eq(r.code, EXIT_USAGE);
    cr_assert(strstr(r.err, "no such command 'plugin' (did you mean 'plugins'?)"), "%s", r.err);
    run_cli(&r, "frobnicate", NULL);
    cr_assert_null(strstr(r.err, "did you mean"), "nothing is near: %s", r.err);
}

Test(cli, validate_warns_at_the_path_of_a_file_source_that_does_not_exist)
{
    const char *file = write_yaml("pipelines:\n"
                                  "  - name: p1\n"
                                  "    source:\n"
                                  "      plugin: file\n"
                                  "      config: { path: no-such-input.jsonl }\n"
                                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cli_result r;
    run_cli(&r, "--plugin-path", RDAPSYNC_PLUGIN_BUILD_DIR, "--plugin-path", CLI_FIXTURE_DIR, "validate", file, NULL);
    cr_assert_eq(r.code, EXIT_OK, "a warning: the file may be there when run starts: %s", r.err);
    char expected[512];
    snprintf(expected, sizeof(expected),
             "%s:5:23: warning: pipeline 'p1': source 'file': path 'no-such-input.jsonl' does not exist", file);
    cr_assert(strstr(r.err, expected) && strstr(r.err, "[input-missing]"), "%s", r.err);
    cr_assert(strstr(r.out, ": ok (1 pipeline)"), "%s", r.out);
}

Test(cli, validate_accepts_a_missing_path_that_the_file_source_follows)
{
    const char *file = write_yaml("pipelines:\n"
                                  "  - name: p1\n"
                                  "    source: { plugin: file, config: { path: no-such-input.jsonl, follow: true } }\n"
                                  "    sink: { plugin: tsink, config: { table: t } }\n");
    cli_result r;
    run_cli(&r, "--plugin-path", RDAPSYNC_PLUGIN_BUILD_DIR, "--plugin-path", CLI_FIXTURE_DIR, "validate", file, NULL);
    cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
    cr_assert_str_eq(r.err, "", "following waits for the path to appear");
}
