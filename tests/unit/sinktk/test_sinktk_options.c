/* The option rows keyed table sinks share, and their exactly-once rules. */
#include <criterion/criterion.h>
#include <string.h>
#include <strings.h>

#include <rdapsync/sinktk.h>

#include "options.h"

typedef struct shared_config {
    char *table;
    char *key_column;
    int mode;
    bool create_table;
    bool exactly_once;
    char *positions_table;
    rdapsync_options_set set;
} shared_config;

static const rdapsync_option shared_options[] = {
    RDAPSYNC_SINKTK_OPTIONS_TABLE(shared_config),
    RDAPSYNC_SINKTK_OPTIONS_EXACTLY_ONCE(shared_config),
    RDAPSYNC_OPTIONS_END,
};

static const rdapsync_plugin shared_plugin = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "shared",
    .kind = RDAPSYNC_KIND_SINK,
    .options = shared_options,
    .config_size = sizeof(shared_config),
    RDAPSYNC_OPTIONS_SET_IN(shared_config, set),
};

static shared_config *fill(const char *yaml)
{
    diag_list diags;
    diag_list_init(&diags);
    ynode *root = yaml_tree_load_buffer("test.yaml", yaml, strlen(yaml), &diags);
    bool failed = true;
    shared_config *c = options_fill(&shared_plugin, root, root, "test.yaml", "sink", &diags, &failed);
    cr_assert_not(failed, "%s", diags.count ? diags.items[0].message : "");
    ynode_free(root);
    diag_list_free(&diags);
    return c;
}

static rdapsync_status check(const shared_config *c, int (*compare)(const char *, const char *), char *err)
{
    return rdapsync_sinktk_check_exactly_once(shared_options, &c->set, c->exactly_once, c->table, c->positions_table,
                                              compare, err, 256);
}

Test(sinktk_options, shared_rows_have_the_defaults_every_sink_documents)
{
    char err[256] = "";
    cr_assert_eq(options_table_check(shared_options, sizeof(shared_config), err, sizeof(err)), 0, "%s", err);
    shared_config *c = fill("{}");
    cr_assert_str_eq(c->table, "rdap_records");
    cr_assert_str_eq(c->key_column, "key");
    cr_assert_eq(c->mode, RDAPSYNC_SINKTK_UPSERT);
    cr_assert(c->create_table);
    cr_assert_not(c->exactly_once);
    cr_assert_str_eq(c->positions_table, "rdapsync_positions");
    options_free(&shared_plugin, c);
    c = fill("{mode: append}");
    cr_assert_eq(c->mode, RDAPSYNC_SINKTK_APPEND, "the enum index is the toolkit's mode");
    options_free(&shared_plugin, c);
}

Test(sinktk_options, a_positions_table_written_without_exactly_once_is_refused)
{
    char err[256] = "";
    shared_config *c = fill("{positions_table: rdapsync_positions}");
    cr_assert_eq(check(c, strcmp, err), RDAPSYNC_ERROR, "even its default value, written, would be ignored");
    cr_assert(strstr(err, "positions_table is set but exactly_once is false"), "%s", err);
    options_free(&shared_plugin, c);
    c = fill("{exactly_once: false}");
    cr_assert_eq(check(c, strcmp, err), RDAPSYNC_OK, "%s", err);
    options_free(&shared_plugin, c);
    c = fill("{exactly_once: true, positions_table: p}");
    cr_assert_eq(check(c, strcmp, err), RDAPSYNC_OK, "%s", err);
    options_free(&shared_plugin, c);
}

Test(sinktk_options, the_positions_table_must_not_be_the_data_table_as_the_store_compares_names)
{
    char err[256] = "";
    shared_config *c = fill("{exactly_once: true, table: T, positions_table: t}");
    cr_assert_eq(check(c, strcmp, err), RDAPSYNC_OK, "case matters to this store: %s", err);
    cr_assert_eq(check(c, strcasecmp, err), RDAPSYNC_ERROR, "not to this one");
    cr_assert_str_eq(err, "positions_table must differ from table");
    options_free(&shared_plugin, c);
}
