/* Test harness for the file plugins (see harness.h). */
#define _XOPEN_SOURCE 700
#include "harness.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "batch_api.h"
#include "context.h"
#include "diag.h"
#include "metrics.h"
#include "options.h"
#include "yaml_tree.h"

const rdapsync_host *host(void) { return host_api_table(); }

char *tmpdir_new(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = malloc(4096);
    cr_assert_not_null(dir);
    snprintf(dir, 4096, "%s/rdapsync-file-test-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
    return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tmpdir_remove(char *dir)
{
    if (!dir)
        return;
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

char *path_join(const char *dir, const char *name)
{
    char *out = malloc(strlen(dir) + strlen(name) + 2);
    cr_assert_not_null(out);
    sprintf(out, "%s/%s", dir, name);
    return out;
}

void file_write(const char *path, const char *text, size_t len, bool append)
{
    FILE *f = fopen(path, append ? "ab" : "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

void file_write_str(const char *path, const char *text) { file_write(path, text, strlen(text), false); }

char *file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    cr_assert_not_null(text);
    size_t got = fread(text, 1, (size_t)size, f);
    fclose(f);
    text[got] = '\0';
    if (len)
        *len = got;
    return text;
}

size_t file_count_lines(const char *path)
{
    size_t len, lines = 0;
    char *text = file_read(path, &len);
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    free(text);
    return lines;
}

void instance_load(instance *in, rdapsync_kind kind, const char *name, const char *yaml, const char *state_dir,
                   int task_index, int task_count)
{
    char file[512];
    diag_list diags;
    bool failed = false;

    memset(in, 0, sizeof(*in));
    snprintf(file, sizeof(file), "%s/%s-%s.so", RDAPSYNC_PLUGIN_BUILD_DIR, rdapsync_kind_str(kind), name);
    in->plugin = loader_load(file, kind, name, in->err, sizeof(in->err));
    cr_assert_not_null(in->plugin, "loading %s: %s", file, in->err);

    diag_list_init(&diags);
    ynode *root = yaml_tree_load_buffer("test.yaml", yaml, strlen(yaml), &diags);
    cr_assert_not_null(root, "YAML '%s' does not parse", yaml);
    in->settings = options_fill(in->plugin->desc, root, root, "test.yaml", "test", &diags, &failed);
    if (failed || diag_error_count(&diags)) {
        diag_print(&diags, stderr);
        cr_assert_fail("options '%s' rejected", yaml);
    }
    ynode_free(root);
    diag_list_free(&diags);

    in->ctx = context_new("test", task_index, task_count, kind, name, state_dir, NULL);
    cr_assert_not_null(in->ctx);
}

rdapsync_status instance_open(instance *in)
{
    in->err[0] = '\0';
    rdapsync_status status = in->plugin->desc->open(in->ctx, in->settings, &in->state, in->err, sizeof(in->err));
    in->opened = status == RDAPSYNC_OK;
    return status;
}

void instance_close(instance *in)
{
    if (in->opened)
        in->plugin->desc->close(in->state);
    in->opened = false;
    context_free(in->ctx);
    options_free(in->plugin->desc, in->settings);
    loader_unload(in->plugin);
    memset(in, 0, sizeof(*in));
}

rdapsync_batch *poll_all(instance *source, size_t room, int max_polls)
{
    rdapsync_batch *batch = batch_new(room);
    cr_assert_not_null(batch);
    for (int i = 0; i < max_polls; i++) {
        rdapsync_status status = source->plugin->desc->poll(source->state, batch, 50, source->err,
                                                            sizeof(source->err));
        if (status == RDAPSYNC_END)
            return batch;
        cr_assert_eq(status, RDAPSYNC_OK, "poll: %s: %s", rdapsync_status_str(status), source->err);
        cr_assert_gt(batch_room(batch), 0, "the test batch of %zu records filled up", room);
    }
    return batch;
}

rdapsync_record *record_upsert(rdapsync_batch *batch, const char *key, const char *json, const char *stream,
                               int64_t offset)
{
    const rdapsync_host *h = host();
    char err[256] = "";
    rdapsync_record *r = h->record_add(batch);
    cr_assert_not_null(r);
    if (key)
        cr_assert_eq(h->record_set_key(batch, r, key, strlen(key)), 0);
    if (json) {
        rdapsync_value *v = h->json->parse(json, strlen(json), err, sizeof(err));
        cr_assert_not_null(v, "test JSON '%s': %s", json, err);
        cr_assert_eq(h->record_set_value(batch, r, v), 0);
    }
    cr_assert_eq(h->record_set_position(batch, r, stream, -1, offset), 0);
    return r;
}

struct metric_query {
    const char *plugin, *name;
    double value;
};

static void metric_visit(const plugin_metric_view *view, void *opaque)
{
    struct metric_query *q = opaque;
    if (strcmp(view->pipeline, "test") == 0 && strcmp(view->plugin, q->plugin) == 0 &&
        strcmp(view->name, q->name) == 0)
        q->value += view->value;
}

double metric_value(const char *plugin, const char *name)
{
    struct metric_query q = {plugin, name, 0};
    metrics_plugin_each(metric_visit, &q);
    return q.value;
}
