/* Test helpers for the transforms (see harness.h). */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "context.h"
#include "diag.h"
#include "json_api.h"
#include "options.h"
#include "yaml_tree.h"

const rdapsync_host *H(void) { return host_api_table(); }
const rdapsync_json_api *J(void) { return host_api_table()->json; }

rdapsync_value *json(const char *text)
{
    char err[256];
    rdapsync_value *v = J()->parse(text, strlen(text), err, sizeof err);
    cr_assert_not_null(v, "test JSON does not parse: %s: %s", err, text);
    return v;
}

char *fixture_bytes(const char *name, size_t *len)
{
    char path[1024];
    FILE *f;
    char *buf;
    long size;

    snprintf(path, sizeof path, "%s/tests/fixtures/rdap/%s", RDAPSYNC_SOURCE_DIR, name);
    f = fopen(path, "rb");
    cr_assert_not_null(f, "fixture %s is missing", path);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)size + 1);
    cr_assert_not_null(buf);
    *len = fread(buf, 1, (size_t)size, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

rdapsync_value *fixture(const char *name)
{
    size_t len;
    char err[256];
    char *text = fixture_bytes(name, &len);
    rdapsync_value *v = J()->parse(text, len, err, sizeof err);
    cr_assert_not_null(v, "fixture %s does not parse: %s", name, err);
    free(text);
    return v;
}

char *dump(const rdapsync_value *value)
{
    char *s = J()->dump(value, 0, NULL);
    cr_assert_not_null(s);
    return s;
}

rdapsync_value *at(const rdapsync_value *value, const char *path)
{
    const rdapsync_json_api *j = J();
    rdapsync_value *v = (rdapsync_value *)value;
    const char *p = path;
    char key[256];

    while (*p && v) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            v = j->array_get(v, (size_t)strtoul(p + 1, NULL, 10));
            p = strchr(p, ']');
            cr_assert_not_null(p, "bad test path %s", path);
            p++;
            continue;
        }
        size_t n = strcspn(p, ".[");
        cr_assert_lt(n, sizeof key);
        memcpy(key, p, n);
        key[n] = '\0';
        v = j->object_get(v, key);
        p += n;
    }
    return v;
}

const char *str_at(const rdapsync_value *value, const char *path)
{
    return J()->string_value(at(value, path));
}

bool contains(const rdapsync_value *value, const char *needle)
{
    char *s = dump(value);
    bool found = strstr(s, needle) != NULL;
    free(s);
    return found;
}

const char *policy_dir(void)
{
    return RDAPSYNC_SOURCE_DIR "/config/policies";
}

rdapsync_status plugin_start(plugin_instance *pi, const char *name, const char *yaml)
{
    char file[1024];
    diag_list diags;
    bool failed = false;
    ynode *root;
    rdapsync_status status;

    memset(pi, 0, sizeof *pi);
    snprintf(file, sizeof file, "%s/transform-%s.so", RDAPSYNC_PLUGIN_BUILD_DIR, name);
    pi->plugin = loader_load(file, RDAPSYNC_KIND_TRANSFORM, name, pi->err, sizeof pi->err);
    cr_assert_not_null(pi->plugin, "loading %s: %s", file, pi->err);
    diag_list_init(&diags);
    root = yaml_tree_load_buffer("test.yaml", yaml, strlen(yaml), &diags);
    cr_assert_not_null(root, "YAML '%s' does not parse", yaml);
    pi->settings = options_fill(pi->plugin->desc, root, root, "test.yaml", "test", &diags, &failed);
    if (failed || diag_error_count(&diags)) {
        diag_print(&diags, stderr);
        cr_assert_fail("options '%s' rejected", yaml);
    }
    ynode_free(root);
    diag_list_free(&diags);
    pi->ctx = context_new("test", 0, 1, RDAPSYNC_KIND_TRANSFORM, name, NULL, NULL);
    cr_assert_not_null(pi->ctx);
    status = pi->plugin->desc->open(pi->ctx, pi->settings, &pi->state, pi->err, sizeof pi->err);
    pi->opened = status == RDAPSYNC_OK;
    return status;
}

void plugin_stop(plugin_instance *pi)
{
    if (pi->opened)
        pi->plugin->desc->close(pi->state);
    context_free(pi->ctx);
    options_free(pi->plugin->desc, pi->settings);
    loader_unload(pi->plugin);
    memset(pi, 0, sizeof *pi);
}

rdapsync_batch *one_record(const char *key, rdapsync_value *value, int64_t event_time_ms)
{
    const rdapsync_host *h = H();
    rdapsync_batch *batch = batch_new(4);
    rdapsync_record *r;

    cr_assert_not_null(batch);
    r = h->record_add(batch);
    cr_assert_not_null(r);
    if (key)
        cr_assert_eq(h->record_set_key(batch, r, key, strlen(key)), 0);
    cr_assert_eq(h->record_set_value(batch, r, value), 0);
    cr_assert_eq(h->record_set_version(batch, r, event_time_ms, NULL, 1), 0);
    cr_assert_eq(h->record_set_position(batch, r, "test", -1, 1), 0);
    return batch;
}

rdapsync_status plugin_transform(plugin_instance *pi, rdapsync_batch *batch)
{
    pi->err[0] = '\0';
    /* As the task does: values the transform builds go into the record's arena. */
    rdapsync_record *record = batch_record(batch, 0);
    json_api_scope_begin(record->value, 8192);
    rdapsync_status status = pi->plugin->desc->transform(pi->state, batch, record, pi->err, sizeof pi->err);
    json_api_scope_end();
    return status;
}
