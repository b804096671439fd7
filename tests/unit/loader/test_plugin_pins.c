/* A pinned plugin is hashed before dlopen(): a file whose SHA-256 differs
 * from its pin is refused before any of its code runs (the fixture's
 * constructor leaves a mark when it does), naming the file, the digest
 * expected and the digest found. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "plugin_pins.h"
#include "spelling.h"

#define PLANTED LOADER_FIXTURE_DIR "/sink-planted.so"

static char mark[64];

static void setup(void)
{
    snprintf(mark, sizeof(mark), "/tmp/rdapsync-pin-mark-%ld", (long)getpid());
    unlink(mark);
    setenv("RDAPSYNC_TEST_CONSTRUCTOR_MARK", mark, 1);
    unsetenv("RDAPSYNC_PLUGIN_PATH");
}

static void teardown(void)
{
    unlink(mark);
    unsetenv("RDAPSYNC_TEST_CONSTRUCTOR_MARK");
}

TestSuite(plugin_pins, .init = setup, .fini = teardown);

static plugin_registry *fixture_registry(void)
{
    const char *dirs[] = { LOADER_FIXTURE_DIR };
    plugin_registry *registry = registry_new(dirs, 1);
    cr_assert_not_null(registry);
    return registry;
}

static plugin_pin pin_of(const unsigned char digest[PLUGIN_SHA256_SIZE])
{
    plugin_pin pin = { .stem = "sink-planted", .place = "run.yaml:3:13" };
    memcpy(pin.sha256, digest, PLUGIN_SHA256_SIZE);
    return pin;
}

static void planted_digest(unsigned char digest[PLUGIN_SHA256_SIZE])
{
    char err[512];
    cr_assert_eq(plugin_sha256_file(PLANTED, digest, err, sizeof(err)), 0, "%s", err);
}

Test(plugin_pins, a_matching_pin_loads_the_plugin)
{
    unsigned char digest[PLUGIN_SHA256_SIZE];
    char err[1024] = "";
    planted_digest(digest);
    plugin_registry *registry = fixture_registry();
    plugin_pin pin = pin_of(digest);
    cr_assert_eq(registry_set_pins(registry, &pin, 1), 0);
    cr_assert_not_null(registry_get(registry, RDAPSYNC_KIND_SINK, "planted", err, sizeof(err)), "%s", err);
    /* The mark proves that this fixture's code runs when it is loaded:
     * its absence in the next test means something. */
    cr_assert_eq(access(mark, F_OK), 0, "the constructor did not run");
    registry_free(registry);
}

Test(plugin_pins, a_wrong_pin_refuses_the_file_before_its_constructor_runs)
{
    unsigned char digest[PLUGIN_SHA256_SIZE], wrong[PLUGIN_SHA256_SIZE];
    char err[1024] = "", want[PLUGIN_SHA256_HEX], got[PLUGIN_SHA256_HEX];
    planted_digest(digest);
    memcpy(wrong, digest, sizeof(wrong));
    wrong[7] ^= 0x40;
    plugin_sha256_hex(digest, got);
    plugin_sha256_hex(wrong, want);
    plugin_registry *registry = fixture_registry();
    plugin_pin pin = pin_of(wrong);
    cr_assert_eq(registry_set_pins(registry, &pin, 1), 0);
    cr_assert_null(registry_get(registry, RDAPSYNC_KIND_SINK, "planted", err, sizeof(err)));
    cr_assert_neq(access(mark, F_OK), 0, "the plugin's constructor ran although its pin is wrong");
    cr_assert(strstr(err, PLANTED), "'%s' does not name the file", err);
    cr_assert(strstr(err, "refused before loading"), "'%s'", err);
    cr_assert(strstr(err, want), "'%s' does not show the pinned digest %s", err, want);
    cr_assert(strstr(err, got), "'%s' does not show the file's digest %s", err, got);
    cr_assert(strstr(err, "run.yaml:3:13"), "'%s' does not name the pin's place", err);
    registry_free(registry);
}

Test(plugin_pins, a_pin_added_after_loading_is_checked_against_the_loaded_file)
{
    unsigned char digest[PLUGIN_SHA256_SIZE];
    char err[1024] = "";
    plugin_registry *registry = fixture_registry();
    cr_assert_not_null(registry_get(registry, RDAPSYNC_KIND_SINK, "good", err, sizeof(err)), "%s", err);
    memset(digest, 0xab, sizeof(digest));
    plugin_pin pin = { .stem = "sink-good", .place = "run.yaml:2:3" };
    memcpy(pin.sha256, digest, sizeof(digest));
    cr_assert_eq(registry_set_pins(registry, &pin, 1), 0);
    cr_assert_null(registry_get(registry, RDAPSYNC_KIND_SINK, "good", err, sizeof(err)), "a cached plugin skipped its new pin");
    cr_assert(strstr(err, "refused before loading"), "'%s'", err);
    registry_free(registry);
}

Test(plugin_pins, digests_are_64_hex_digits)
{
    unsigned char digest[PLUGIN_SHA256_SIZE];
    char hex[PLUGIN_SHA256_HEX];
    const char *text = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
    cr_assert_eq(plugin_sha256_parse(text, digest), 0);
    plugin_sha256_hex(digest, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cr_assert_eq(plugin_sha256_parse("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", digest), -1);
    cr_assert_eq(plugin_sha256_parse("g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", digest), -1);
}

Test(plugin_pins, a_misspelt_stem_gets_the_nearest_plugin_file)
{
    char path[PATH_MAX], meant[SPELLING_MAX + 1];
    plugin_registry *registry = fixture_registry();
    cr_assert_eq(registry_find_stem(registry, "sink-plantd", path, sizeof(path), meant), 0);
    cr_assert_str_eq(meant, "sink-planted");
    cr_assert_eq(registry_find_stem(registry, "sink-planted", path, sizeof(path), meant), 1);
    cr_assert_str_eq(path, PLANTED);
    registry_free(registry);
}
