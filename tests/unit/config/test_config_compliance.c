/* The audit:, compliance: and retention: blocks: what they accept, and each
 * error at its file:line:column. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_test_util.h"

/* A key file; its path in `path` (64 bytes). */
static void key_file(char *path, const char *key) { write_temp(path, ".key", key); }

static char *with_blocks(const char *blocks, const char *pipeline_extra)
{
    static char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "%s"
             "pipelines:\n"
             "  - name: p1\n"
             "    source: { plugin: tsource, config: { path: x } }\n"
             "    sink: { plugin: tsink, config: { table: t } }\n"
             "%s",
             blocks, pipeline_extra);
    return yaml;
}

Test(config_compliance, reads_audit_and_compliance_blocks_with_keys_from_files)
{
    char key[64], blocks[512];
    loaded l;
    key_file(key, "0123456789abcdef0123");
    snprintf(blocks, sizeof(blocks),
             "audit: { path: /tmp/a.log, key: \"${file:%s}\" }\n"
             "compliance: { suppression: /tmp/s.list, key: \"${file:%s}\" }\n",
             key, key);
    load_yaml(&l, with_blocks(blocks, "    retention: { interval: 30m, action: anonymise }\n"));
    cr_assert_not_null(l.config);
    const compliance_settings *c = &l.config->compliance;
    cr_assert_str_eq(c->audit.path, "/tmp/a.log");
    cr_assert_eq(c->audit.key_len, 20);
    cr_assert_str_eq(c->suppression.path, "/tmp/s.list");
    const pipeline_config *p = &l.config->pipelines[0];
    cr_assert(p->has_retention);
    cr_assert_eq(p->retention_interval_ms, 30 * 60 * 1000);
    cr_assert(p->retention_anonymise);
    cr_assert_not_null(p->suppress_block.plugin, "the suppression instance is configured for every pipeline");
    unlink(key);
    loaded_free(&l);
}

Test(config_compliance, refuses_a_key_written_in_the_file)
{
    loaded l;
    load_yaml(&l, with_blocks("audit: { path: /tmp/a.log, key: literal-key-0123456789 }\n", ""));
    cr_assert_null(l.config);
    expect_error(&l, 1, 33, "audit: 'key' must come from ${file:PATH} or ${env:NAME}");
    loaded_free(&l);
}

Test(config_compliance, refuses_a_short_key_and_names_missing_keys)
{
    char key[64], blocks[512];
    loaded l;
    key_file(key, "short");
    snprintf(blocks, sizeof(blocks),
             "audit: { key: \"${file:%s}\" }\n"
             "compliance: { suppression: /tmp/s.list }\n",
             key);
    load_yaml(&l, with_blocks(blocks, ""));
    cr_assert_null(l.config);
    expect_error(&l, 1, 8, "audit: missing required key 'path'");
    expect_error(&l, 1, 15, "audit: 'key' must be at least 16 bytes long");
    expect_error(&l, 2, 13, "compliance: missing required key 'key'");
    unlink(key);
    loaded_free(&l);
}

Test(config_compliance, reports_unknown_keys_and_bad_retention_settings_at_their_place)
{
    loaded l;
    load_yaml(&l, with_blocks("audit: { path: /tmp/a.log, signkey: x }\n",
                              "    retention: { interval: soon, action: shred }\n"));
    cr_assert_null(l.config);
    expect_error(&l, 1, 28, "audit: unknown key 'signkey' in audit");
    expect_error(&l, 6, 28, "'interval' must be a duration greater than 0");
    expect_error(&l, 6, 42, "'action' must be one of: delete, anonymise; got 'shred'");
    loaded_free(&l);
}
