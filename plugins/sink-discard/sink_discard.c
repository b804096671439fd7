/*
 * The `discard` sink: counts records and keeps none. A baseline for
 * benchmarks (what the rest of the pipeline costs) and a drain for tests.
 */
#include <inttypes.h>
#include <stdlib.h>

#include <rdapsync/rdapsync.h>

static const rdapsync_host *H;

typedef struct discard_state {
    rdapsync_ctx *ctx;
    uint64_t records;
} discard_state;

static rdapsync_status discard_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    discard_state *s = calloc(1, sizeof(*s));

    if (!s)
        return RDAPSYNC_ERROR;
    s->ctx = ctx;
    *state = s;
    return RDAPSYNC_OK;
}

static void discard_close(void *state)
{
    discard_state *s = state;

    if (!s)
        return;
    H->log(s->ctx, RDAPSYNC_LOG_INFO, "discarded %" PRIu64 " records", s->records);
    free(s);
}

static rdapsync_status discard_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    discard_state *s = state;
    size_t n = H->batch_count(batch);

    s->records += n;
    H->counter_add(s->ctx, "records_discarded", n);
    return RDAPSYNC_OK;
}

static rdapsync_status discard_flush(void *state, char *err, size_t err_size) { return RDAPSYNC_OK; }

static const rdapsync_plugin discard_descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "discard",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "0.1.0",
    .description = "counts records and drops them (benchmarks, tests)",
    .open = discard_open,
    .close = discard_close,
    .write = discard_write,
    .flush = discard_flush,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    H = host;
    return &discard_descriptor;
}
