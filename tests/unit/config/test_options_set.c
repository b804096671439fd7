/*
 * Option rows written with the SDK's macros, and the options set of ABI
 * 1.2: which rows a configuration wrote, as opposed to defaults.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "options.h"

typedef struct macro_config {
    char *path;
    bool enabled;
    double ratio;
    rdapsync_string_list topics;
    rdapsync_string_map properties;
    int64_t count;
    int64_t size;
    int64_t timeout;
    int mode;
    rdapsync_options_set set;
} macro_config;

static const char *const modes[] = { "fast", "safe", NULL };

static const rdapsync_option macro_options[] = {
    { RDAPSYNC_OPTION_STRING(macro_config, path, NULL, "where"), .flags = RDAPSYNC_OPT_REQUIRED },
    { RDAPSYNC_OPTION_BOOL(macro_config, enabled, "yes", "on or off") },
    { RDAPSYNC_OPTION_DOUBLE(macro_config, ratio, "0.5", "a share") },
    { RDAPSYNC_OPTION_LIST(macro_config, topics, "a,b", "names") },
    { RDAPSYNC_OPTION_MAP(macro_config, properties, NULL, "pass-through") },
    { RDAPSYNC_OPTION_INT(macro_config, count, "10", 1, 100, "how many") },
    { RDAPSYNC_OPTION_SIZE(macro_config, size, "1M", 0, 0, "how big") },
    { RDAPSYNC_OPTION_DURATION(macro_config, timeout, "5s", 0, 60000, "how long") },
    { RDAPSYNC_OPTION_ENUM(macro_config, mode, "safe", modes, "fast or safe") },
    RDAPSYNC_OPTIONS_END,
};

static const rdapsync_plugin with_set = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "macros",
    .kind = RDAPSYNC_KIND_SINK,
    .options = macro_options,
    .config_size = sizeof(macro_config),
    RDAPSYNC_OPTIONS_SET_IN(macro_config, set),
};

/* Fills `desc`'s struct from a YAML mapping; asserts it was accepted. */
static void *fill(const rdapsync_plugin *desc, const char *yaml)
{
    diag_list diags;
    diag_list_init(&diags);
    ynode *root = yaml_tree_load_buffer("test.yaml", yaml, strlen(yaml), &diags);
    cr_assert_not_null(root);
    bool failed = true;
    void *settings = options_fill(desc, root, root, "test.yaml", "sink", &diags, &failed);
    cr_assert_not(failed, "%s", diags.count ? diags.items[0].message : "");
    ynode_free(root);
    diag_list_free(&diags);
    return settings;
}

Test(options_macros, rows_name_their_member_and_fill_it)
{
    char err[256] = "";
    cr_assert_eq(options_table_check(macro_options, sizeof(macro_config), err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(macro_options[7].name, "timeout");
    cr_assert_eq(macro_options[7].offset, offsetof(macro_config, timeout));
    cr_assert_eq(macro_options[5].min, 1);
    cr_assert_eq(macro_options[5].max, 100);
    cr_assert_eq(macro_options[8].enum_values, modes);
    cr_assert_eq(macro_options[0].flags, RDAPSYNC_OPT_REQUIRED);

    macro_config *c = fill(&with_set, "{path: /x, ratio: 0.25, topics: [t], properties: {k: v}, count: 7, "
                                      "size: 2K, timeout: 2s, mode: fast, enabled: false}");
    cr_assert_str_eq(c->path, "/x");
    cr_assert_not(c->enabled);
    cr_assert_float_eq(c->ratio, 0.25, 1e-12);
    cr_assert_eq(c->topics.count, 1);
    cr_assert_str_eq(c->properties.values[0], "v");
    cr_assert_eq(c->count, 7);
    cr_assert_eq(c->size, 2048);
    cr_assert_eq(c->timeout, 2000);
    cr_assert_eq(c->mode, 0);
    options_free(&with_set, c);
}

Test(options_set, tells_written_options_from_defaults)
{
    char err[256] = "";
    cr_assert_eq(options_set_check(&with_set, err, sizeof(err)), 0, "%s", err);
    macro_config *c = fill(&with_set, "{path: /x, count: 10, topics: ~}");
    cr_assert(rdapsync_option_is_set(macro_options, &c->set, "path"));
    cr_assert(rdapsync_option_is_set(macro_options, &c->set, "count"), "written as its default: still written");
    cr_assert(rdapsync_option_is_set(macro_options, &c->set, "topics"), "written empty on purpose");
    cr_assert_not(rdapsync_option_is_set(macro_options, &c->set, "timeout"), "left at its default");
    cr_assert_eq(c->timeout, 5000);
    cr_assert_not(rdapsync_option_is_set(macro_options, &c->set, "no_such_option"));
    options_free(&with_set, c);
}

Test(options_set, writing_a_default_changes_the_fingerprint_only_for_a_plugin_that_can_tell)
{
    macro_config *a = fill(&with_set, "{path: /x}");
    macro_config *b = fill(&with_set, "{path: /x, count: 10}");
    cr_assert_neq(options_hash(&with_set, a, OPTIONS_HASH_SEED), options_hash(&with_set, b, OPTIONS_HASH_SEED));
    rdapsync_plugin without = with_set;
    without.options_set_end = 0;
    cr_assert_eq(options_hash(&without, a, OPTIONS_HASH_SEED), options_hash(&without, b, OPTIONS_HASH_SEED));
    options_free(&with_set, a);
    options_free(&with_set, b);
}

Test(options_set, a_descriptor_older_than_abi_1_2_has_none_whatever_follows_it)
{
    rdapsync_plugin old = with_set;
    old.abi_minor = 1;
    old.struct_size = (uint32_t)(offsetof(rdapsync_plugin, flags) + sizeof(old.flags));
    cr_assert_eq(options_set_end(&old), 0, "bytes beyond struct_size are not the plugin's to vouch for");
    char err[256] = "";
    cr_assert_eq(options_set_check(&old, err, sizeof(err)), 0, "%s", err);
    macro_config *c = fill(&old, "{path: /x, count: 3}");
    cr_assert_not(rdapsync_option_is_set(macro_options, &c->set, "path"), "nothing written into the struct");
    options_free(&old, c);
}

Test(options_set, a_set_outside_the_struct_misaligned_or_over_an_option_is_refused)
{
    char err[256];
    rdapsync_plugin bad = with_set;
    bad.options_set_end = sizeof(macro_config) + 8;
    cr_assert_eq(options_set_check(&bad, err, sizeof(err)), -1);
    cr_assert(strstr(err, "outside config_size"), "%s", err);
    bad.options_set_end = sizeof(rdapsync_options_set) - 1;
    cr_assert_eq(options_set_check(&bad, err, sizeof(err)), -1);
    bad.options_set_end = offsetof(macro_config, set) + sizeof(rdapsync_options_set) - 4;
    cr_assert_eq(options_set_check(&bad, err, sizeof(err)), -1);
    cr_assert(strstr(err, "not aligned"), "%s", err);
    bad.options_set_end = offsetof(macro_config, mode) + sizeof(rdapsync_options_set);
    cr_assert_eq(options_set_check(&bad, err, sizeof(err)), -1);
    cr_assert(strstr(err, "'mode' overlaps the options set"), "%s", err);
}
