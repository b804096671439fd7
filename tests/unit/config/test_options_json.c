/*
 * Structured options (RDAPSYNC_OPT_JSON, ABI 1.3): a YAML value becomes
 * JSON text with the documented scalar rules, and a check() reason
 * "@PATH: ..." leads back to the YAML node, for file:line:column.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "options_json.h"
#include "yaml_tree.h"

static ynode *load(const char *text)
{
    diag_list diags;
    diag_list_init(&diags);
    ynode *root = yaml_tree_load_buffer("t.yaml", text, strlen(text), &diags);
    cr_assert_not_null(root);
    cr_assert_eq(diag_error_count(&diags), 0);
    diag_list_free(&diags);
    return root;
}

Test(options_json, scalars_follow_the_documented_rules)
{
    ynode *root = load("v: [ \"1.0\", 1.0, 42, -7, 007, true, 'false', null, ~, text, { k: [] } ]\n");
    char err[256];
    const ynode *at = NULL;
    char *text = options_json_from_yaml(ynode_get(root, "v"), false, &at, err, sizeof err);
    cr_assert_not_null(text, "%s", err);
    cr_assert_str_eq(text, "[\"1.0\",\"1.0\",42,-7,\"007\",true,\"false\",null,null,\"text\",{\"k\":[]}]");
    free(text);
    ynode_free(root);
}

Test(options_json, expands_references_in_scalars)
{
    setenv("OPTIONS_JSON_TEST", "from-env", 1);
    ynode *root = load("v: { a: \"${env:OPTIONS_JSON_TEST}\" }\n");
    char err[256];
    char *text = options_json_from_yaml(ynode_get(root, "v"), false, NULL, err, sizeof err);
    cr_assert_not_null(text, "%s", err);
    cr_assert_str_eq(text, "{\"a\":\"from-env\"}");
    free(text);
    ynode_free(root);
}

Test(options_json, a_reason_with_a_path_points_at_its_node)
{
    ynode *root = load("target: \"1.1\"\n"
                       "migrations:\n"
                       "  - from: \"1.0\"\n"
                       "    steps:\n"
                       "      - { rename: x }\n"
                       "      - { frobnicate: y }\n");
    const char *rest;
    const ynode *node = options_json_locate(root, "@migrations[0].steps[1]: unknown step kind", &rest);
    cr_assert_not_null(node);
    cr_assert_eq(node->line, 6);
    cr_assert_eq(node->column, 9);
    cr_assert_str_eq(rest, "unknown step kind");
    node = options_json_locate(root, "@target: bad", &rest);
    cr_assert_not_null(node);
    cr_assert_eq(node->line, 1);
    cr_assert_null(options_json_locate(root, "@migrations[3]: no such item", &rest));
    cr_assert_str_eq(rest, "@migrations[3]: no such item", "an unknown place leaves the reason whole");
    cr_assert_null(options_json_locate(root, "plain reason", &rest));
    ynode_free(root);
}
