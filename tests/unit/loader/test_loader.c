/* The loader refuses every broken plugin with a message naming the file and
 * the field, and loads a good one; the registry searches in path order. */
#include <criterion/criterion.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "options.h"

#define FIXTURE(stem) LOADER_FIXTURE_DIR "/" stem ".so"

static void expect_refusal(const char *path, rdapsync_kind kind, const char *name, const char *expected)
{
    char err[1024] = "";
    loaded_plugin *plugin = loader_load(path, kind, name, err, sizeof(err));
    cr_assert_null(plugin, "%s was accepted", path);
    cr_assert(strstr(err, expected), "message '%s' lacks '%s'", err, expected);
    cr_assert(strstr(err, path), "message '%s' does not name the file", err);
}

static void clear_env(void)
{
    unsetenv("RDAPSYNC_PLUGIN_PATH");
}

TestSuite(loader, .init = clear_env);

Test(loader, loads_a_good_plugin_and_reads_its_descriptor)
{
    char err[512] = "";
    loaded_plugin *plugin = loader_load(FIXTURE("sink-good"), RDAPSYNC_KIND_SINK, "good", err, sizeof(err));
    cr_assert_not_null(plugin, "refused: %s", err);
    cr_assert_str_eq(plugin->desc->name, "good");
    cr_assert_eq(plugin->desc->kind, RDAPSYNC_KIND_SINK);
    cr_assert_str_eq(plugin->desc->version, "9.9.9");
    cr_assert_str_eq(plugin->path, FIXTURE("sink-good"));
    loader_unload(plugin);
}

/* A plugin's write to a closed pipe or socket must be an EPIPE it can answer
 * with RETRY, not a SIGPIPE that ends the process (exit 141). Criterion runs
 * each test in its own process, so the default action set here is this
 * test's alone. */
Test(loader, ignores_sigpipe_before_plugin_code_runs_so_a_closed_pipe_is_epipe)
{
    struct sigaction action, now;
    char err[512] = "";

    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    cr_assert_eq(sigaction(SIGPIPE, &action, NULL), 0);
    loaded_plugin *plugin =
        loader_load(FIXTURE("sink-closedpipe"), RDAPSYNC_KIND_SINK, "closedpipe", err, sizeof(err));
    cr_assert_not_null(plugin, "refused: %s", err);
    cr_assert_str_eq(plugin->desc->description, "write failed with EPIPE");
    cr_assert_eq(sigaction(SIGPIPE, NULL, &now), 0);
    cr_assert(now.sa_handler == SIG_IGN, "SIGPIPE is not ignored after a load");
    loader_unload(plugin);
}

Test(loader, accepts_any_kind_and_name_when_not_asked)
{
    char err[512] = "";
    loaded_plugin *plugin = loader_load(FIXTURE("sink-good"), 0, NULL, err, sizeof(err));
    cr_assert_not_null(plugin, "refused: %s", err);
    loader_unload(plugin);
}

Test(loader, refuses_a_missing_file_without_crashing)
{
    expect_refusal(LOADER_FIXTURE_DIR "/sink-absent.so", RDAPSYNC_KIND_SINK, "absent", "cannot load");
}

Test(loader, refuses_a_file_that_is_not_a_shared_object)
{
    char path[] = "/tmp/rdapsync-loader-XXXXXX.so";
    int fd = mkstemps(path, 3);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "not elf", 7), 7);
    close(fd);
    expect_refusal(path, 0, NULL, "cannot load");
    unlink(path);
}

Test(loader, refuses_unresolved_symbols_at_load_time)
{
    expect_refusal(FIXTURE("sink-undefined"), RDAPSYNC_KIND_SINK, "undefined", "cannot load");
}

Test(loader, refuses_a_plugin_without_the_entry_symbol)
{
    expect_refusal(FIXTURE("sink-noentry"), RDAPSYNC_KIND_SINK, "noentry", "no entry symbol rdapsync_plugin_entry");
}

Test(loader, refuses_a_null_descriptor)
{
    expect_refusal(FIXTURE("sink-nulldesc"), RDAPSYNC_KIND_SINK, "nulldesc", "returned no descriptor");
}

Test(loader, refuses_a_different_abi_major_naming_both_versions)
{
    expect_refusal(FIXTURE("sink-abimajor"), RDAPSYNC_KIND_SINK, "abimajor",
                   "sink-abimajor.so: ABI major 2, host supports 1");
}

Test(loader, refuses_a_newer_abi_minor)
{
    char expected[128];
    snprintf(expected, sizeof(expected), "ABI minor %d is newer than the host's %d.%d", RDAPSYNC_ABI_MINOR + 1,
             RDAPSYNC_ABI_MAJOR, RDAPSYNC_ABI_MINOR);
    expect_refusal(FIXTURE("sink-abiminor"), RDAPSYNC_KIND_SINK, "abiminor", expected);
}

Test(loader, refuses_a_descriptor_shorter_than_its_abi_minor_requires)
{
    char expected[128];
    snprintf(expected, sizeof(expected), "struct_size %zu is smaller than the %zu bytes of ABI %d.%d",
             offsetof(rdapsync_plugin, flush),
             offsetof(rdapsync_plugin, retention_purge) + sizeof(((rdapsync_plugin *)0)->retention_purge),
             RDAPSYNC_ABI_MAJOR, RDAPSYNC_ABI_MINOR);
    expect_refusal(FIXTURE("sink-short"), RDAPSYNC_KIND_SINK, "short", expected);
}

Test(loader, refuses_subject_calls_on_a_plugin_that_is_not_a_sink)
{
    expect_refusal(FIXTURE("transform-subject"), RDAPSYNC_KIND_TRANSFORM, "subject",
                   "sets subject_find/subject_erase/retention_purge, which are for sinks only");
}

Test(loader, loads_a_plugin_built_against_abi_1_0_and_reads_no_flags_from_it)
{
    char err[512] = "";
    loaded_plugin *plugin = loader_load(FIXTURE("sink-abi10"), RDAPSYNC_KIND_SINK, "abi10", err, sizeof(err));
    cr_assert_not_null(plugin, "refused: %s", err);
    cr_assert_eq(plugin->desc->abi_minor, 0);
    cr_assert_eq(loader_plugin_flags(plugin->desc), 0u, "flags beyond struct_size must not be read");
    loader_unload(plugin);
}

Test(loader, loads_a_plugin_built_against_abi_1_1_and_reads_no_options_set_from_it)
{
    char err[512] = "";
    loaded_plugin *plugin = loader_load(FIXTURE("sink-abi11"), RDAPSYNC_KIND_SINK, "abi11", err, sizeof(err));
    cr_assert_not_null(plugin, "refused: %s", err);
    cr_assert_eq(plugin->desc->abi_minor, 1);
    cr_assert_eq(loader_plugin_flags(plugin->desc), RDAPSYNC_TRANSFORM_CONCURRENT);
    cr_assert_eq(options_set_end(plugin->desc), 0u, "options_set_end beyond struct_size must not be read");
    loader_unload(plugin);
}

Test(loader, loads_a_plugin_built_against_abi_1_2_which_has_no_transform_commit)
{
    char err[512] = "";
    loaded_plugin *plugin = loader_load(FIXTURE("sink-abi12"), RDAPSYNC_KIND_SINK, "abi12", err, sizeof(err));
    cr_assert_not_null(plugin, "refused: %s", err);
    cr_assert_eq(plugin->desc->abi_minor, 2);
    cr_assert(!RDAPSYNC_HAS(rdapsync_plugin, plugin->desc, transform_commit),
              "the host must not read transform_commit beyond struct_size");
    loader_unload(plugin);
}

Test(loader, reads_the_flags_and_options_set_of_a_plugin_built_against_the_current_abi)
{
    char err[512] = "";
    loaded_plugin *plugin = loader_load(FIXTURE("sink-good"), RDAPSYNC_KIND_SINK, "good", err, sizeof(err));
    cr_assert_not_null(plugin, "refused: %s", err);
    cr_assert_eq(plugin->desc->abi_minor, RDAPSYNC_ABI_MINOR);
    cr_assert_eq(loader_plugin_flags(plugin->desc), RDAPSYNC_TRANSFORM_CONCURRENT);
    cr_assert_neq(options_set_end(plugin->desc), 0u);
    loader_unload(plugin);
}

Test(loader, refuses_an_options_set_over_an_option)
{
    expect_refusal(FIXTURE("sink-optset"), RDAPSYNC_KIND_SINK, "optset", "'path' overlaps the options set");
}

Test(loader, refuses_a_struct_size_too_small_for_the_version_fields)
{
    expect_refusal(FIXTURE("sink-tiny"), RDAPSYNC_KIND_SINK, "tiny", "struct_size 4 is too small");
}

Test(loader, refuses_a_plugin_of_another_kind_than_its_file_says)
{
    expect_refusal(FIXTURE("sink-wrongkind"), RDAPSYNC_KIND_SINK, "wrongkind", "kind is source, expected sink");
}

Test(loader, refuses_a_plugin_whose_name_differs_from_its_file)
{
    expect_refusal(FIXTURE("sink-wrongname"), RDAPSYNC_KIND_SINK, "wrongname", "name is 'other', expected 'wrongname'");
}

Test(loader, refuses_a_sink_without_flush)
{
    expect_refusal(FIXTURE("sink-noflush"), RDAPSYNC_KIND_SINK, "noflush", "sink plugin 'noflush' has no flush callback");
}

Test(loader, refuses_a_source_without_poll)
{
    expect_refusal(FIXTURE("source-nopoll"), RDAPSYNC_KIND_SOURCE, "nopoll",
                   "source plugin 'nopoll' has no poll callback");
}

Test(loader, refuses_a_transform_without_transform)
{
    expect_refusal(FIXTURE("transform-notransform"), RDAPSYNC_KIND_TRANSFORM, "notransform",
                   "transform plugin 'notransform' has no transform callback");
}

Test(loader, refuses_duplicate_option_names)
{
    expect_refusal(FIXTURE("sink-optdup"), RDAPSYNC_KIND_SINK, "optdup", "options[2]: duplicate name 'count'");
}

Test(loader, refuses_an_option_outside_config_size)
{
    expect_refusal(FIXTURE("sink-optoffset"), RDAPSYNC_KIND_SINK, "optoffset",
                   "options[2] 'beyond': offset");
    expect_refusal(FIXTURE("sink-optoffset"), RDAPSYNC_KIND_SINK, "optoffset", "is outside config_size");
}

Test(loader, refuses_an_unknown_option_type)
{
    expect_refusal(FIXTURE("sink-opttype"), RDAPSYNC_KIND_SINK, "opttype", "options[2] 'strange': unknown type 42");
}

Test(loader, refuses_a_default_that_does_not_parse)
{
    expect_refusal(FIXTURE("sink-optdefault"), RDAPSYNC_KIND_SINK, "optdefault",
                   "options[2] 'timeout': default '5 parsecs' expects a duration");
}

Test(loader, refuses_an_enum_without_values)
{
    expect_refusal(FIXTURE("sink-optenum"), RDAPSYNC_KIND_SINK, "optenum", "options[2] 'level': enum without enum_values");
}

Test(loader, refuses_a_required_option_with_a_default)
{
    expect_refusal(FIXTURE("sink-optrequired"), RDAPSYNC_KIND_SINK, "optrequired",
                   "options[2] 'must': a required option cannot have a default");
}

/* ---- registry ---- */

Test(loader, registry_finds_a_plugin_by_kind_and_name_once)
{
    const char *dirs[] = { LOADER_FIXTURE_DIR };
    plugin_registry *registry = registry_new(dirs, 1);
    char err[1024] = "";
    const loaded_plugin *first = registry_get(registry, RDAPSYNC_KIND_SINK, "good", err, sizeof(err));
    cr_assert_not_null(first, "%s", err);
    const loaded_plugin *again = registry_get(registry, RDAPSYNC_KIND_SINK, "good", err, sizeof(err));
    cr_assert_eq(first, again, "a second lookup loaded the plugin again");
    registry_free(registry);
}

Test(loader, registry_names_the_directories_it_searched_for_an_unknown_plugin)
{
    const char *dirs[] = { LOADER_FIXTURE_DIR };
    plugin_registry *registry = registry_new(dirs, 1);
    char err[4096] = "";
    cr_assert_null(registry_get(registry, RDAPSYNC_KIND_SINK, "nosuch", err, sizeof(err)));
    cr_assert(strstr(err, "unknown sink plugin 'nosuch': no sink-nosuch.so in " LOADER_FIXTURE_DIR), "%s", err);
    registry_free(registry);
}

Test(loader, registry_says_when_a_name_belongs_to_another_kind)
{
    const char *dirs[] = { LOADER_FIXTURE_DIR };
    plugin_registry *registry = registry_new(dirs, 1);
    char err[4096] = "";
    cr_assert_null(registry_get(registry, RDAPSYNC_KIND_TRANSFORM, "good", err, sizeof(err)));
    cr_assert(strstr(err, "'good' is a sink plugin, not a transform"), "%s", err);
    registry_free(registry);
}

Test(loader, registry_refuses_a_plugin_name_that_could_escape_the_directory)
{
    const char *dirs[] = { LOADER_FIXTURE_DIR };
    plugin_registry *registry = registry_new(dirs, 1);
    char err[4096] = "";
    cr_assert_null(registry_get(registry, RDAPSYNC_KIND_SINK, "../sink-good", err, sizeof(err)));
    cr_assert(strstr(err, "invalid plugin name '../sink-good'"), "%s", err);
    registry_free(registry);
}

Test(loader, registry_reports_a_broken_first_copy_instead_of_shadowing_it)
{
    const char *dirs[] = { LOADER_FIXTURE_DIR };
    plugin_registry *registry = registry_new(dirs, 1);
    char err[4096] = "";
    cr_assert_null(registry_get(registry, RDAPSYNC_KIND_SINK, "abimajor", err, sizeof(err)));
    cr_assert(strstr(err, "ABI major 2, host supports 1"), "%s", err);
    registry_free(registry);
}

/* A temporary directory holding `stem`.so as a link to the fixture. */
static void make_plugin_dir(char *dir, const char *stem)
{
    cr_assert_not_null(mkdtemp(dir));
    char link_path[PATH_MAX], target[PATH_MAX];
    snprintf(link_path, sizeof(link_path), "%s/%s.so", dir, stem);
    snprintf(target, sizeof(target), "%s/%s.so", LOADER_FIXTURE_DIR, stem);
    cr_assert_eq(symlink(target, link_path), 0);
}

static void remove_plugin_dir(const char *dir, const char *stem)
{
    char link_path[PATH_MAX];
    snprintf(link_path, sizeof(link_path), "%s/%s.so", dir, stem);
    unlink(link_path);
    rmdir(dir);
}

Test(loader, registry_command_line_dirs_come_before_config_dirs_and_the_environment)
{
    char cli_dir[] = "/tmp/rdapsync-cli-XXXXXX", config_dir[] = "/tmp/rdapsync-cfg-XXXXXX",
         env_dir[] = "/tmp/rdapsync-env-XXXXXX";
    make_plugin_dir(cli_dir, "sink-good");
    make_plugin_dir(config_dir, "sink-good");
    make_plugin_dir(env_dir, "sink-good");
    setenv("RDAPSYNC_PLUGIN_PATH", env_dir, 1);
    const char *cli[] = { cli_dir };
    const char *config[] = { config_dir };
    plugin_registry *registry = registry_new(cli, 1);
    registry_prepend_path(registry, config, 1);
    char err[1024] = "";
    const loaded_plugin *plugin = registry_get(registry, RDAPSYNC_KIND_SINK, "good", err, sizeof(err));
    cr_assert_not_null(plugin, "%s", err);
    cr_assert(strncmp(plugin->path, cli_dir, strlen(cli_dir)) == 0, "loaded from %s", plugin->path);
    registry_free(registry);

    registry = registry_new(NULL, 0);
    registry_prepend_path(registry, config, 1);
    plugin = registry_get(registry, RDAPSYNC_KIND_SINK, "good", err, sizeof(err));
    cr_assert_not_null(plugin, "%s", err);
    cr_assert(strncmp(plugin->path, config_dir, strlen(config_dir)) == 0, "loaded from %s", plugin->path);
    registry_free(registry);

    registry = registry_new(NULL, 0);
    plugin = registry_get(registry, RDAPSYNC_KIND_SINK, "good", err, sizeof(err));
    cr_assert_not_null(plugin, "%s", err);
    cr_assert(strncmp(plugin->path, env_dir, strlen(env_dir)) == 0, "loaded from %s", plugin->path);
    registry_free(registry);
    remove_plugin_dir(cli_dir, "sink-good");
    remove_plugin_dir(config_dir, "sink-good");
    remove_plugin_dir(env_dir, "sink-good");
}

typedef struct seen {
    int good;
    int good_from_first;
    int errors;
    int abimajor_errors;
    const char *first_dir;
} seen;

static void count_plugin(const loaded_plugin *plugin, void *opaque)
{
    seen *s = opaque;
    if (strcmp(plugin->desc->name, "good") == 0) {
        s->good++;
        s->good_from_first += strncmp(plugin->path, s->first_dir, strlen(s->first_dir)) == 0;
    }
}

static void count_error(const char *path, const char *reason, void *opaque)
{
    seen *s = opaque;
    s->errors++;
    if (strstr(path, "sink-abimajor.so")) {
        s->abimajor_errors++;
        cr_assert(strstr(reason, "ABI major 2") && !strstr(reason, path), "reason '%s'", reason);
    }
}

Test(loader, registry_each_lists_every_plugin_once_and_reports_broken_files)
{
    char first_dir[] = "/tmp/rdapsync-first-XXXXXX";
    make_plugin_dir(first_dir, "sink-good");
    const char *dirs[] = { first_dir, LOADER_FIXTURE_DIR };
    plugin_registry *registry = registry_new(dirs, 2);
    seen s = { .first_dir = first_dir };
    registry_each(registry, count_plugin, count_error, &s);
    cr_assert_eq(s.good, 1, "sink 'good' listed %d times", s.good);
    cr_assert_eq(s.good_from_first, 1, "the first directory did not win");
    cr_assert_eq(s.abimajor_errors, 1);
    cr_assert_eq(s.errors, 20, "%d broken fixtures reported, 20 exist", s.errors);
    registry_free(registry);
    remove_plugin_dir(first_dir, "sink-good");
}
