/*
 * The `flaky` sink, for the fault tests only: its first `fail_writes` write
 * calls answer `answer` (ERROR by default; -1 fails every call), then it
 * accepts every batch and keeps none. The number of failures so far lives
 * in a file in the task's state directory, so it survives the task
 * restarts the failures cause (each restart opens a fresh instance).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/rdapsync.h>

static const rdapsync_host *H;

typedef struct flaky_config {
    int64_t fail_writes;
    int answer; /* 0 error, 1 retry */
} flaky_config;

static const char *const answers[] = {"error", "retry", NULL};

static const rdapsync_option flaky_options[] = {
    {.name = "fail_writes", .type = RDAPSYNC_OPT_INT, .default_value = "0", .min = -1, .max = 1000000,
     .offset = offsetof(flaky_config, fail_writes), .description = "write calls that fail before it works; -1: all"},
    {.name = "answer", .type = RDAPSYNC_OPT_ENUM, .default_value = "error", .enum_values = answers,
     .offset = offsetof(flaky_config, answer), .description = "what a failing write answers"},
    {0},
};

typedef struct flaky_state {
    rdapsync_ctx *ctx;
    const flaky_config *cfg;
    char path[1024];
} flaky_state;

static long read_failures(const flaky_state *s)
{
    long n = 0;
    FILE *f = fopen(s->path, "r");
    if (f) {
        if (fscanf(f, "%ld", &n) != 1)
            n = 0;
        fclose(f);
    }
    return n;
}

static int write_failures(const flaky_state *s, long n)
{
    FILE *f = fopen(s->path, "w");
    if (!f)
        return -1;
    fprintf(f, "%ld\n", n);
    return fclose(f);
}

static rdapsync_status flaky_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    flaky_state *s = calloc(1, sizeof(*s));
    const char *dir = H->state_dir(ctx);

    if (!s || !dir) {
        free(s);
        snprintf(err, err_size, "out of memory or no state directory");
        return RDAPSYNC_ERROR;
    }
    s->ctx = ctx;
    s->cfg = config;
    snprintf(s->path, sizeof(s->path), "%s/flaky.failures", dir);
    *state = s;
    return RDAPSYNC_OK;
}

static void flaky_close(void *state) { free(state); }

static rdapsync_status flaky_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    flaky_state *s = state;
    long failures = read_failures(s);

    if (s->cfg->fail_writes < 0 || failures < s->cfg->fail_writes) {
        if (write_failures(s, failures + 1) != 0) {
            snprintf(err, err_size, "%s: %s", s->path, strerror(errno));
            return RDAPSYNC_ERROR;
        }
        snprintf(err, err_size, "flaky: planned failure %ld of %lld", failures + 1, (long long)s->cfg->fail_writes);
        return s->cfg->answer == 1 ? RDAPSYNC_RETRY : RDAPSYNC_ERROR;
    }
    H->counter_add(s->ctx, "records_kept", H->batch_count(batch));
    return RDAPSYNC_OK;
}

static rdapsync_status flaky_flush(void *state, char *err, size_t err_size) { return RDAPSYNC_OK; }

static const rdapsync_plugin flaky_descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "flaky",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "0.1.0",
    .description = "fails its first N writes, then keeps nothing (fault tests)",
    .options = flaky_options,
    .config_size = sizeof(flaky_config),
    .open = flaky_open,
    .close = flaky_close,
    .write = flaky_write,
    .flush = flaky_flush,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    H = host;
    return &flaky_descriptor;
}
