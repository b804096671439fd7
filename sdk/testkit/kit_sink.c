/*
 * The sink under test, driven the way the host's task drives it. The kit
 * links the host's core: the real loader checks the .so, the real option
 * code fills its config, real batches carry the records. Only reject and
 * checkpoint_override are recorded here instead of reaching a task.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dlfcn.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "context.h"
#include "diag.h"
#include "kit.h"
#include "options.h"
#include "yaml_tree.h"

static rdapsync_host kit_table;
static bool kit_table_ready;
static kit_sink *recording; /* the sink whose rejects are being collected */
static int64_t next_offset = 1;

static void record_reject(rdapsync_ctx *ctx, const rdapsync_record *record, const char *reason)
{
    (void)ctx;
    kit_sink *sink = recording;
    if (!sink || !record)
        return;
    if (sink->reject_count == sink->reject_capacity) {
        size_t capacity = sink->reject_capacity ? sink->reject_capacity * 2 : 16;
        kit_reject *items = realloc(sink->rejects, capacity * sizeof(*items));
        if (!items)
            abort();
        sink->rejects = items;
        sink->reject_capacity = capacity;
    }
    kit_reject *r = &sink->rejects[sink->reject_count++];
    r->key = NULL;
    r->key_len = record->key ? record->key_len : 0;
    if (record->key) {
        r->key = malloc(record->key_len + 1);
        if (!r->key)
            abort();
        memcpy(r->key, record->key, record->key_len);
        r->key[record->key_len] = '\0';
    }
    r->reason = strdup(reason ? reason : "");
    if (!r->reason)
        abort();
}

static void kit_checkpoint_override(rdapsync_ctx *ctx, const char *stream, int32_t partition, int64_t offset)
{
    (void)ctx, (void)stream, (void)partition, (void)offset;
    if (recording)
        recording->overrides++;
}

const rdapsync_host *kit_host(void)
{
    if (!kit_table_ready) {
        kit_table = *host_api_table();
        kit_table.reject = record_reject;
        kit_table.checkpoint_override = kit_checkpoint_override;
        kit_table_ready = true;
    }
    return &kit_table;
}

static void diags_to_text(const diag_list *diags, char *out, size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < diags->count && used + 1 < out_size; i++) {
        const diag *d = &diags->items[i];
        used += (size_t)snprintf(out + used, out_size - used, "%s%s:%d:%d: %s", i ? "; " : "", d->file ? d->file : "",
                                 d->line, d->column, d->message ? d->message : "");
    }
}

void *kit_sink_config(const kit_sink *sink, const char *path, char *err, size_t err_size)
{
    diag_list diags;
    diag_list_init(&diags);
    void *config = NULL;
    ynode *root = yaml_tree_load(path, &diags);
    if (!root || diag_error_count(&diags) > 0) {
        diags_to_text(&diags, err, err_size);
        goto done;
    }
    bool failed = false;
    config = options_fill(sink->desc, root, root, path, "sink config", &diags, &failed);
    if (failed) {
        diags_to_text(&diags, err, err_size);
        options_free(sink->desc, config);
        config = NULL;
        goto done;
    }
    if (sink->desc->check && sink->desc->check(config, err, err_size) != RDAPSYNC_OK) {
        options_free(sink->desc, config);
        config = NULL;
    }
done:
    ynode_free(root);
    diag_list_free(&diags);
    return config;
}

void kit_sink_free_config(const kit_sink *sink, void *config)
{
    options_free(sink->desc, config);
}

int kit_sink_load(kit_sink *sink, const char *plugin_path, const char *config_path, char *err, size_t err_size)
{
    memset(sink, 0, sizeof(*sink));
    char local[4096];
    if (!strchr(plugin_path, '/')) { /* else dlopen() searches the library path */
        snprintf(local, sizeof(local), "./%s", plugin_path);
        plugin_path = local;
    }
    sink->plugin = loader_load(plugin_path, RDAPSYNC_KIND_SINK, NULL, err, err_size);
    if (!sink->plugin)
        return -1;
    /* Hand the plugin the kit's table instead of the loader's: the entry
     * only stores the pointer and returns the same constant descriptor. */
    rdapsync_entry_fn entry = (rdapsync_entry_fn)dlsym(sink->plugin->handle, RDAPSYNC_ENTRY_SYMBOL);
    sink->desc = entry ? entry(kit_host()) : NULL;
    if (!sink->desc) {
        snprintf(err, err_size, "%s: entry function vanished on the second call", plugin_path);
        return -1;
    }
    const char *tmpdir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/rdapsync-testkit-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(path)) {
        snprintf(err, err_size, "cannot create a state directory like %s", path);
        return -1;
    }
    sink->state_dir = strdup(path);
    sink->config_path = strdup(config_path);
    sink->config = kit_sink_config(sink, config_path, err, err_size);
    return sink->config ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* The state dir holds whatever the sink put there. */
static void remove_tree(const char *path)
{
    if (path && nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "rdapsync-sink-testkit: could not remove %s\n", path);
}

void kit_sink_unload(kit_sink *sink)
{
    kit_sink_close(sink);
    kit_sink_clear_rejects(sink);
    free(sink->rejects);
    if (sink->config)
        options_free(sink->desc, sink->config);
    remove_tree(sink->state_dir);
    free(sink->state_dir);
    free(sink->config_path);
    if (sink->plugin)
        loader_unload(sink->plugin);
    memset(sink, 0, sizeof(*sink));
}

rdapsync_status kit_sink_open(kit_sink *sink, const void *config, char *err, size_t err_size)
{
    kit_sink_close(sink);
    recording = sink;
    sink->ctx = context_new("testkit", 0, 1, RDAPSYNC_KIND_SINK, sink->desc->name, sink->state_dir, NULL);
    if (!sink->ctx) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    err[0] = '\0';
    sink->state = NULL;
    rdapsync_status status = sink->desc->open(sink->ctx, config ? config : sink->config, &sink->state, err, err_size);
    if (status == RDAPSYNC_OK) {
        sink->open = true;
    } else {
        context_free(sink->ctx);
        sink->ctx = NULL;
    }
    return status;
}

void kit_sink_close(kit_sink *sink)
{
    if (sink->open)
        sink->desc->close(sink->state);
    if (sink->ctx)
        context_free(sink->ctx);
    sink->open = false;
    sink->state = NULL;
    sink->ctx = NULL;
}

static rdapsync_batch *build_batch(const kit_record *const *records, size_t count)
{
    const rdapsync_host *h = kit_host();
    rdapsync_batch *batch = batch_new(count ? count : 1);
    if (!batch)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const kit_record *r = records[i];
        rdapsync_record *rec = h->record_add(batch);
        if (!rec)
            goto fail;
        if (r->key && h->record_set_key(batch, rec, r->key, r->key_len) != 0)
            goto fail;
        if (h->record_set_op(batch, rec, r->op) != 0)
            goto fail;
        if (r->value) {
            char perr[256];
            rdapsync_value *v = h->json->parse(r->value, strlen(r->value), perr, sizeof(perr));
            if (!v || h->record_set_value(batch, rec, v) != 0)
                goto fail;
        }
        if (h->record_set_version(batch, rec, r->ts, r->origin, r->seq) != 0)
            goto fail;
        if (h->record_set_position(batch, rec, "testkit", 0, next_offset++) != 0)
            goto fail;
    }
    return batch;
fail:
    batch_free(batch);
    return NULL;
}

static void note_retry(kit_sink *sink, rdapsync_status status, const char *err)
{
    if (status == RDAPSYNC_RETRY && !sink->first_retry[0])
        snprintf(sink->first_retry, sizeof(sink->first_retry), "%s", err[0] ? err : "(no reason given)");
}

rdapsync_status kit_sink_write(kit_sink *sink, const kit_record *const *records, size_t count, char *err,
                               size_t err_size)
{
    rdapsync_batch *batch = build_batch(records, count);
    if (!batch) {
        snprintf(err, err_size, "the kit could not build the batch (out of memory or a key the host refuses)");
        return RDAPSYNC_ERROR;
    }
    err[0] = '\0';
    recording = sink;
    rdapsync_status status = sink->desc->write(sink->state, batch, err, err_size);
    batch_free(batch);
    note_retry(sink, status, err);
    return status;
}

rdapsync_status kit_sink_flush(kit_sink *sink, char *err, size_t err_size)
{
    err[0] = '\0';
    recording = sink;
    rdapsync_status status = sink->desc->flush(sink->state, err, err_size);
    note_retry(sink, status, err);
    return status;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

rdapsync_status kit_sink_deliver(kit_sink *sink, const kit_record *const *records, size_t count, int attempts,
                                 int *retries, char *err, size_t err_size)
{
    long backoff = 50;
    rdapsync_status status = RDAPSYNC_ERROR;
    *retries = 0;
    for (int attempt = 0; attempt < attempts; attempt++) {
        status = kit_sink_write(sink, records, count, err, err_size);
        if (status == RDAPSYNC_OK)
            status = kit_sink_flush(sink, err, err_size);
        if (status != RDAPSYNC_RETRY)
            return status;
        (*retries)++;
        sleep_ms(backoff);
        backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
    }
    return status;
}

void kit_sink_clear_rejects(kit_sink *sink)
{
    for (size_t i = 0; i < sink->reject_count; i++) {
        free(sink->rejects[i].key);
        free(sink->rejects[i].reason);
    }
    sink->reject_count = 0;
}
