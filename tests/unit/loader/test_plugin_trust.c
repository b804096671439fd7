/* A plugin that another user could have planted or replaced is refused
 * before dlopen(), so none of its code runs; --insecure-plugin-path turns
 * the refusal into a warning. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "plugin_trust.h"

#define FIXTURE(stem) LOADER_FIXTURE_DIR "/" stem ".so"

/* A private directory under /tmp (root-owned and sticky) holding one copy
 * of a fixture plugin, and a path for the constructor's mark. */
typedef struct scratch {
    char dir[64];
    char plugin[128];
    char mark[128];
} scratch;

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    cr_assert_not_null(in, "cannot open %s", from);
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    cr_assert(fd >= 0, "cannot create %s", to);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        cr_assert_eq(write(fd, buf, n), (ssize_t)n);
    fclose(in);
    close(fd);
    /* open() applies the umask; the tests set modes explicitly. */
    chmod(to, 0755);
}

static void scratch_make(scratch *s, const char *stem)
{
    snprintf(s->dir, sizeof(s->dir), "/tmp/rdapsync-trust-XXXXXX");
    cr_assert_not_null(mkdtemp(s->dir));
    snprintf(s->plugin, sizeof(s->plugin), "%s/%s.so", s->dir, stem);
    snprintf(s->mark, sizeof(s->mark), "%s.mark", s->dir);
    copy_file(strcmp(stem, "sink-planted") == 0 ? FIXTURE("sink-planted") : FIXTURE("sink-good"), s->plugin);
    unlink(s->mark);
    setenv("RDAPSYNC_TEST_CONSTRUCTOR_MARK", s->mark, 1);
}

static void scratch_remove(scratch *s)
{
    chmod(s->dir, 0700);
    unlink(s->plugin);
    rmdir(s->dir);
    unlink(s->mark);
    unsetenv("RDAPSYNC_TEST_CONSTRUCTOR_MARK");
}

static void expect_refused(const char *path, const char *culprit, const char *why)
{
    char err[1024] = "";
    loaded_plugin *plugin = loader_load(path, 0, NULL, err, sizeof(err));
    cr_assert_null(plugin, "%s was loaded", path);
    cr_assert(strstr(err, path), "'%s' does not name the plugin", err);
    cr_assert(strstr(err, culprit), "'%s' does not name %s", err, culprit);
    cr_assert(strstr(err, why), "'%s' lacks '%s'", err, why);
    cr_assert(strstr(err, "--insecure-plugin-path"), "'%s' does not say how to override", err);
}

static void reset(void)
{
    plugin_trust_set_insecure(false);
    unsetenv("RDAPSYNC_PLUGIN_PATH");
}

TestSuite(plugin_trust, .init = reset, .fini = reset);

Test(plugin_trust, loads_a_plugin_from_a_private_directory_under_a_root_owned_sticky_one)
{
    struct stat st;
    cr_assert(stat("/tmp", &st) == 0 && (st.st_mode & S_ISVTX) && st.st_uid == 0,
              "this test needs /tmp root-owned and sticky");
    scratch s;
    scratch_make(&s, "sink-good");
    char err[1024] = "";
    loaded_plugin *plugin = loader_load(s.plugin, 0, NULL, err, sizeof(err));
    cr_assert_not_null(plugin, "refused: %s", err);
    cr_assert_null(plugin->trust_warning);
    loader_unload(plugin);
    scratch_remove(&s);
}

Test(plugin_trust, refuses_a_world_writable_directory_before_the_plugin_code_runs)
{
    scratch s;
    scratch_make(&s, "sink-planted");
    cr_assert_eq(chmod(s.dir, 0777), 0);
    expect_refused(s.plugin, s.dir, "writable by its group and everyone");
    cr_assert(access(s.mark, F_OK) != 0, "the plugin's constructor ran: it was dlopen()ed");
    scratch_remove(&s);
}

Test(plugin_trust, the_planted_fixture_does_run_code_when_loaded)
{
    /* Proves the check above can fail: the same file in a safe place is
     * dlopen()ed and its constructor leaves the mark. */
    scratch s;
    scratch_make(&s, "sink-planted");
    char err[1024] = "";
    loaded_plugin *plugin = loader_load(s.plugin, 0, NULL, err, sizeof(err));
    cr_assert_not_null(plugin, "refused: %s", err);
    cr_assert(access(s.mark, F_OK) == 0, "the constructor left no mark");
    loader_unload(plugin);
    scratch_remove(&s);
}

Test(plugin_trust, refuses_a_group_writable_plugin_file)
{
    scratch s;
    scratch_make(&s, "sink-good");
    cr_assert_eq(chmod(s.plugin, 0775), 0);
    expect_refused(s.plugin, "plugin", "writable by its group");
    scratch_remove(&s);
}

Test(plugin_trust, refuses_a_symbolic_link_to_a_plugin_in_an_unsafe_directory)
{
    scratch s, link_dir;
    scratch_make(&s, "sink-good");
    scratch_make(&link_dir, "sink-good");
    cr_assert_eq(chmod(s.dir, 0777), 0);
    char link_path[256];
    snprintf(link_path, sizeof(link_path), "%s/sink-linked.so", link_dir.dir);
    cr_assert_eq(symlink(s.plugin, link_path), 0);
    expect_refused(link_path, s.dir, "writable by");
    unlink(link_path);
    scratch_remove(&link_dir);
    scratch_remove(&s);
}

Test(plugin_trust, refuses_a_plugin_owned_by_another_user)
{
    if (geteuid() != 0)
        cr_skip_test("giving a file to another user needs root");
    scratch s;
    scratch_make(&s, "sink-good");
    cr_assert_eq(chown(s.plugin, 65534, 65534), 0);
    expect_refused(s.plugin, "uid 65534", "neither root nor the user running rdapsync");
    scratch_remove(&s);
}

Test(plugin_trust, refuses_a_directory_owned_by_another_user)
{
    if (geteuid() != 0)
        cr_skip_test("giving a directory to another user needs root");
    scratch s;
    scratch_make(&s, "sink-good");
    cr_assert_eq(chown(s.dir, 65534, 65534), 0);
    expect_refused(s.plugin, s.dir, "uid 65534");
    scratch_remove(&s);
}

Test(plugin_trust, insecure_plugin_path_loads_the_plugin_and_keeps_the_reason)
{
    scratch s;
    scratch_make(&s, "sink-good");
    cr_assert_eq(chmod(s.dir, 0777), 0);
    plugin_trust_set_insecure(true);
    char err[1024] = "";
    loaded_plugin *plugin = loader_load(s.plugin, 0, NULL, err, sizeof(err));
    cr_assert_not_null(plugin, "refused: %s", err);
    cr_assert_not_null(plugin->trust_warning);
    cr_assert(strstr(plugin->trust_warning, s.dir), "warning '%s' does not name the directory", plugin->trust_warning);
    loader_unload(plugin);
    scratch_remove(&s);
}

Test(plugin_trust, registry_refuses_an_unsafe_copy_instead_of_skipping_to_another)
{
    /* The first directory on the path that has the file decides: an unsafe
     * copy there must not be silently replaced by a later, safe one. */
    scratch s;
    scratch_make(&s, "sink-good");
    cr_assert_eq(chmod(s.dir, 0777), 0);
    const char *dirs[] = { s.dir, LOADER_FIXTURE_DIR };
    plugin_registry *registry = registry_new(dirs, 2);
    char err[1024] = "";
    cr_assert_null(registry_get(registry, RDAPSYNC_KIND_SINK, "good", err, sizeof(err)));
    cr_assert(strstr(err, s.dir), "'%s' does not name the unsafe directory", err);
    registry_free(registry);
    scratch_remove(&s);
}
