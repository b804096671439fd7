/*
 * sink-counter: the smallest useful rdapsync sink, built out of the tree
 * against the installed SDK. It counts what reaches it (upserts, deletes,
 * dead letters, rejected records) and, at every flush, replaces the file
 * `path` with the totals as one JSON object:
 *
 *   {"records":12,"upserts":10,"deletes":2,"bad":0,"rejected":1}
 *
 * It shows every part a sink has: the option table and its config struct,
 * open/close, write (with host->reject for records it refuses) and flush
 * (durable, atomic, RETRY on a transient failure with the partial work
 * undone). Walk-through: docs/plugin-guide.md.
 */
/* fsync(), fileno(): POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rdapsync/rdapsync.h>

/* The host's services; the only global a plugin should have. */
static const rdapsync_host *H;

/* Filled by the host from the option table below, before open(). */
struct counter_config {
    char *path;            /* where the totals go */
    int64_t max_key_bytes; /* longer keys are rejected; 0 = no limit */
};

static const rdapsync_option counter_options[] = {
    {.name = "path", .type = RDAPSYNC_OPT_STRING, .flags = RDAPSYNC_OPT_REQUIRED,
     .offset = offsetof(struct counter_config, path), .description = "file that receives the totals at each flush"},
    {.name = "max_key_bytes", .type = RDAPSYNC_OPT_SIZE, .default_value = "0", .min = 0, .max = INT64_C(1) << 20,
     .offset = offsetof(struct counter_config, max_key_bytes),
     .description = "records with a longer key are rejected (dead-lettered); 0: no limit"},
    {.name = NULL},
};

struct counts {
    uint64_t upserts, deletes, bad, rejected;
};

/* One instance per task; the host never calls one instance concurrently. */
struct counter {
    rdapsync_ctx *ctx;
    const struct counter_config *cfg; /* borrowed until close() */
    struct counts flushed;            /* in the file */
    struct counts pending;            /* written since the last flush */
    struct counts last;               /* the last write() alone: what a failed flush gives back */
};

static void counts_add(struct counts *to, const struct counts *from, int sign)
{
    to->upserts += (uint64_t)sign * from->upserts;
    to->deletes += (uint64_t)sign * from->deletes;
    to->bad += (uint64_t)sign * from->bad;
    to->rejected += (uint64_t)sign * from->rejected;
}

static rdapsync_status counter_check(const void *config, char *err, size_t err_size)
{
    const struct counter_config *cfg = config;
    if (cfg->path[0] == '\0') {
        snprintf(err, err_size, "path is empty");
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}

static rdapsync_status counter_open(rdapsync_ctx *ctx, const void *config, void **state, char *err,
                                    size_t err_size)
{
    struct counter *c = calloc(1, sizeof(*c));

    if (!c) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    c->ctx = ctx;
    c->cfg = config;
    *state = c;
    H->log(ctx, RDAPSYNC_LOG_INFO, "counting into %s", c->cfg->path);
    return RDAPSYNC_OK;
}

static void counter_close(void *state)
{
    struct counter *c = state;
    if (!c)
        return;
    H->log(c->ctx, RDAPSYNC_LOG_INFO, "%" PRIu64 " upserts, %" PRIu64 " deletes, %" PRIu64 " rejected",
           c->flushed.upserts, c->flushed.deletes, c->flushed.rejected);
    free(c);
}

/* The batch and its records are borrowed until we return. */
static rdapsync_status counter_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    struct counter *c = state;
    struct counts n = {0};

    (void)err; /* nothing here can fail: counting needs no I/O */
    (void)err_size;

    for (size_t i = 0; i < H->batch_count(batch); i++) {
        const rdapsync_record *r = H->batch_get(batch, i);
        if (c->cfg->max_key_bytes > 0 && r->key && r->key_len > (size_t)c->cfg->max_key_bytes) {
            char reason[128];
            snprintf(reason, sizeof(reason), "key of %zu bytes is longer than max_key_bytes %" PRId64, r->key_len,
                     c->cfg->max_key_bytes);
            H->reject(c->ctx, r, reason); /* the host dead-letters it; we go on */
            n.rejected++;
        } else if (r->error) {
            n.bad++; /* we are someone's dead-letter sink */
        } else if (r->op == RDAPSYNC_OP_DELETE) {
            n.deletes++;
        } else {
            n.upserts++;
        }
    }
    counts_add(&c->pending, &n, 1);
    c->last = n;
    H->counter_add(c->ctx, "records_counted", n.upserts + n.deletes + n.bad);
    return RDAPSYNC_OK;
}

/* Totals to `path` atomically: a reader sees the old file or the new one. */
static rdapsync_status counter_flush(void *state, char *err, size_t err_size)
{
    struct counter *c = state;
    struct counts total = c->flushed;
    char tmp[4096];
    FILE *out;

    counts_add(&total, &c->pending, 1);
    snprintf(tmp, sizeof(tmp), "%s.tmp", c->cfg->path);
    if (!(out = fopen(tmp, "w")))
        goto fail;
    int written = fprintf(out,
                          "{\"records\":%" PRIu64 ",\"upserts\":%" PRIu64 ",\"deletes\":%" PRIu64
                          ",\"bad\":%" PRIu64 ",\"rejected\":%" PRIu64 "}\n",
                          total.upserts + total.deletes + total.bad, total.upserts, total.deletes, total.bad,
                          total.rejected);
    int synced = fflush(out) == 0 && fsync(fileno(out)) == 0;
    if (fclose(out) != 0 || written < 0 || !synced || rename(tmp, c->cfg->path) != 0)
        goto fail;
    c->flushed = total;
    c->pending = c->last = (struct counts){0};
    return RDAPSYNC_OK;
fail:
    /* Transient (disk full, directory not there yet): give back the last
     * write and let the host back off and write the same batch again. */
    snprintf(err, err_size, "%s: %s", c->cfg->path, strerror(errno));
    counts_add(&c->pending, &c->last, -1);
    c->last = (struct counts){0};
    return RDAPSYNC_RETRY;
}

static const rdapsync_plugin counter_descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "counter",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "1.0.0",
    .description = "counts upserts, deletes and rejects; writes the totals to a file at each flush",
    .options = counter_options,
    .config_size = sizeof(struct counter_config),
    .check = counter_check,
    .open = counter_open,
    .close = counter_close,
    .write = counter_write,
    .flush = counter_flush,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    H = host;
    return &counter_descriptor;
}
