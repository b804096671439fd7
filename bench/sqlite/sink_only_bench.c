/*
 * sink_only_bench: a sink's own write path, without the pipeline. Reads
 * change envelopes (rdapgen --format envelope), fills batches the way the
 * file source would, and times only the sink's write() + flush(), so the
 * figure can be set against the database's bulk path: what is left between
 * this and `rdapsync run` is the rest of the pipeline (reading, parsing).
 * Any sink .so works; bench/sqlite and bench/mysql use it.
 *
 *   sink_only_bench --plugin SINK.so --config SINK.yaml --input FILE [--batch N]
 *
 * Prints one line: "records N sink_s S parse_s P sink_cpu_s C": wall seconds
 * in write+flush, wall seconds reading and parsing, and the CPU seconds this
 * process spent in write+flush (the rest of sink_s is the server's, or I/O).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "context.h"
#include "diag.h"
#include "loader.h"
#include "options.h"
#include "yaml_tree.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "sink_only_bench: %s: %s\n", what, why ? why : "");
    exit(1);
}

/* One envelope line as a new record of `batch`. */
static void add_envelope(const rdapsync_host *h, rdapsync_batch *batch, const char *line, size_t len, int64_t offset)
{
    const rdapsync_json_api *j = h->json;
    char err[256];
    rdapsync_value *env = j->parse(line, len, err, sizeof(err));
    if (!env)
        die("bad input line", err);
    rdapsync_record *r = h->record_add(batch);
    const rdapsync_value *key = j->object_get(env, "key");
    const rdapsync_value *op = j->object_get(env, "op");
    rdapsync_value *value = j->object_get(env, "value");
    if (!r || h->record_set_key(batch, r, j->string_value(key), j->string_length(key)) != 0)
        die("bad input line", "no room or no key");
    h->record_set_op(batch, r, op && strcmp(j->string_value(op), "delete") == 0 ? RDAPSYNC_OP_DELETE
                                                                                  : RDAPSYNC_OP_UPSERT);
    if (value && j->type(value) != RDAPSYNC_JSON_NULL)
        h->record_set_value(batch, r, j->incref(value));
    h->record_set_version(batch, r, j->integer_value(j->object_get(env, "ts_ms")),
                          j->string_value(j->object_get(env, "origin")), j->integer_value(j->object_get(env, "seq")));
    h->record_set_position(batch, r, "bench", -1, offset);
    j->decref(env);
}

int main(int argc, char **argv)
{
    const char *plugin_path = NULL, *config_path = NULL, *input = NULL;
    size_t batch_size = 1000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--plugin") == 0)
            plugin_path = argv[i + 1];
        else if (strcmp(argv[i], "--config") == 0)
            config_path = argv[i + 1];
        else if (strcmp(argv[i], "--input") == 0)
            input = argv[i + 1];
        else if (strcmp(argv[i], "--batch") == 0)
            batch_size = strtoul(argv[i + 1], NULL, 10);
        else
            die("unknown option", argv[i]);
    }
    if (!plugin_path || !config_path || !input || batch_size == 0)
        die("usage", "--plugin SINK.so --config SINK.yaml --input ENVELOPES.jsonl [--batch N]");

    char err[2048];
    loaded_plugin *plugin = loader_load(plugin_path, RDAPSYNC_KIND_SINK, NULL, err, sizeof(err));
    if (!plugin)
        die(plugin_path, err);
    const rdapsync_plugin *desc = plugin->desc;
    const rdapsync_host *h = host_api_table();

    diag_list diags;
    diag_list_init(&diags);
    ynode *root = yaml_tree_load(config_path, &diags);
    bool failed = !root;
    void *config = root ? options_fill(desc, root, root, config_path, "sink", &diags, &failed) : NULL;
    if (failed || (desc->check && desc->check(config, err, sizeof(err)) != RDAPSYNC_OK)) {
        diag_print(&diags, stderr);
        die(config_path, "invalid sink configuration");
    }
    rdapsync_ctx *ctx = context_new("bench", 0, 1, RDAPSYNC_KIND_SINK, desc->name, NULL, NULL);
    void *state = NULL;
    if (desc->open(ctx, config, &state, err, sizeof(err)) != RDAPSYNC_OK)
        die("open", err);

    FILE *in = fopen(input, "r");
    if (!in)
        die("cannot open", input);
    rdapsync_batch *batch = batch_new(batch_size);
    char *line = NULL;
    size_t cap = 0, records = 0;
    ssize_t len;
    int64_t offset = 0;
    double sink_s = 0, parse_s = 0, sink_cpu = 0, t0 = clock_s(CLOCK_MONOTONIC);
    for (;;) {
        len = getline(&line, &cap, in);
        if (len > 0) {
            offset += len;
            add_envelope(h, batch, line, (size_t)len, offset);
            records++;
        }
        if (h->batch_count(batch) == batch_size || (len < 0 && h->batch_count(batch) > 0)) {
            double t1 = clock_s(CLOCK_MONOTONIC), c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
            parse_s += t1 - t0;
            rdapsync_status status = desc->write(state, batch, err, sizeof(err));
            if (status == RDAPSYNC_OK)
                status = desc->flush(state, err, sizeof(err));
            if (status != RDAPSYNC_OK)
                die(rdapsync_status_str(status), err);
            t0 = clock_s(CLOCK_MONOTONIC);
            sink_s += t0 - t1;
            sink_cpu += clock_s(CLOCK_PROCESS_CPUTIME_ID) - c1;
            batch_reset(batch);
        }
        if (len < 0)
            break;
    }
    parse_s += clock_s(CLOCK_MONOTONIC) - t0;
    printf("records %zu sink_s %.3f parse_s %.3f sink_cpu_s %.3f\n", records, sink_s, parse_s, sink_cpu);

    free(line);
    fclose(in);
    batch_free(batch);
    desc->close(state);
    context_free(ctx);
    options_free(desc, config);
    ynode_free(root);
    diag_list_free(&diags);
    loader_unload(plugin);
    return 0;
}
