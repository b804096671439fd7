/*
 * sink mongodb: keyed, version-guarded writes into a MongoDB collection
 * (or FerretDB) through mongo-c-driver, one document per key with _id =
 * record key. docs/plugins/sink-mongodb.md.
 *
 * write() applies the batch with unordered bulks acknowledged by the
 * configured write concern (majority + journal by default); flush() then
 * has nothing left to make durable. A connection lost on the way answers
 * RETRY and the next call connects again: the host writes the same batch
 * again, and since every step is guarded by the version, the partial work
 * of the failed attempt changes nothing in the end. Deletes leave a
 * tombstone document behind (deleted: true, doc: null, its version), so an
 * older upsert replayed later cannot bring the key back.
 *
 * There is no exactly-once mode: see the documentation for why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgs.h"

const rdapsync_host *mgs_host;
#define H mgs_host

static const char *const guard_values[] = { "auto", "server", "client", NULL };
static const char *const arrays_values[] = { "auto", "native", "wrap", NULL };
static const char *const write_concern_values[] = { "majority", "acknowledged", "uri", NULL };

#define OPT(name_, type_, flags_, default_, min_, max_, enums_, field_, doc_)                                    \
    { .name = name_, .type = type_, .flags = flags_, .default_value = default_, .min = min_, .max = max_,       \
      .enum_values = enums_, .offset = offsetof(mgs_config, field_), .description = doc_ }

static const rdapsync_option options[] = {
    OPT("uri", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED | RDAPSYNC_OPT_SECRET, NULL, 0, 0, NULL, uri,
        "MongoDB connection string (mongodb:// or mongodb+srv://); pass credentials with ${env:NAME} or ${file:PATH}"),
    OPT("database", RDAPSYNC_OPT_STRING, 0, "rdapsync", 0, 0, NULL, database, "database of the collection"),
    OPT("collection", RDAPSYNC_OPT_STRING, 0, "rdap_records", 0, 0, NULL, collection,
        "collection the records go to, one document per key (_id = key)"),
    OPT("version_guard", RDAPSYNC_OPT_ENUM, 0, "auto", 0, 0, guard_values, version_guard,
        "server: the guard is in the update filter; client: older stored versions are deleted by one guarded "
        "delete, then the documents inserted (one writer per key); auto: client on FerretDB, server elsewhere"),
    OPT("nested_arrays", RDAPSYNC_OPT_ENUM, 0, "auto", 0, 0, arrays_values, nested_arrays,
        "arrays directly inside arrays: native, or wrap as {\"_array\": [...]} (FerretDB refuses them); "
        "auto: wrap on FerretDB"),
    OPT("write_concern", RDAPSYNC_OPT_ENUM, 0, "majority", 0, 0, write_concern_values, write_concern,
        "majority: w majority + journal; acknowledged: w 1; uri: what the connection string says"),
    OPT("connect_timeout", RDAPSYNC_OPT_DURATION, 0, "10s", 100, 3600000, NULL, connect_timeout_ms,
        "connection and server selection timeout"),
    OPT("operation_timeout", RDAPSYNC_OPT_DURATION, 0, "60s", 1000, 3600000, NULL, operation_timeout_ms,
        "how long one command may take before the connection counts as broken (socketTimeoutMS)"),
    OPT("read_chunk", RDAPSYNC_OPT_INT, 0, "1000", 1, 100000, NULL, read_chunk,
        "keys per {_id: {$in: ...}} read of stored versions (guard on the server) or per guarded delete (in the sink)"),
    OPT("app_name", RDAPSYNC_OPT_STRING, 0, "rdapsync", 0, 0, NULL, app_name,
        "application name sent in the handshake (server logs, currentOp); the URI's appname wins"),
    { .name = NULL },
};

static rdapsync_status mgs_check(const void *config, char *err, size_t err_size)
{
    return mgs_config_check(config, err, err_size);
}

static void state_free(mgs_state *st)
{
    if (!st)
        return;
    mgs_disconnect(st);
    free(st);
}

static rdapsync_status mgs_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    rdapsync_status status = mgs_config_check(config, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    mgs_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    st->ctx = ctx;
    st->cfg = config;
    if ((status = mgs_connect(st, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    *state = st;
    return RDAPSYNC_OK;
}

static void mgs_close(void *state)
{
    state_free(state);
}

static void report(mgs_state *st, const mgs_tally *tally, const mgs_rejects *rejects)
{
    for (size_t i = 0; i < rejects->count; i++)
        H->reject(st->ctx, rejects->items[i].record, rejects->items[i].reason);
    if (tally->inserted)
        H->counter_add(st->ctx, "rows_inserted", tally->inserted);
    if (tally->replaced)
        H->counter_add(st->ctx, "rows_replaced", tally->replaced);
    if (tally->stale)
        H->counter_add(st->ctx, "rows_stale", tally->stale);
    if (rejects->count)
        H->counter_add(st->ctx, "rows_rejected", rejects->count);
}

static rdapsync_status mgs_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    mgs_state *st = state;
    mgs_rows rows = { 0 };
    mgs_rejects rejects = { 0 };
    mgs_tally tally = { 0 };
    rdapsync_status status;

    if (H->batch_count(batch) == 0)
        return RDAPSYNC_OK;
    if (!st->client && (status = mgs_connect(st, err, err_size)) != RDAPSYNC_OK)
        return status;
    if (mgs_rows_build(batch, &rows, &rejects) != 0) {
        snprintf(err, err_size, "out of memory");
        status = RDAPSYNC_ERROR;
        goto done;
    }
    status = mgs_apply(st, &rows, &rejects, &tally, err, err_size);
    if (st->broken)
        mgs_disconnect(st);
    if (status == RDAPSYNC_OK)
        report(st, &tally, &rejects);
    else if (status == RDAPSYNC_RETRY)
        H->log(st->ctx, RDAPSYNC_LOG_WARN, "write failed, the batch will be written again: %s", err);
done:
    mgs_rows_free(&rows);
    mgs_rejects_clear(&rejects);
    free(rejects.items);
    return status;
}

static rdapsync_status mgs_flush(void *state, char *err, size_t err_size)
{
    /* write() returned only after the server acknowledged every document
     * with the configured write concern: nothing is left to flush. */
    (void)state;
    (void)err;
    (void)err_size;
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "mongodb",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "1.0.0",
    .description = "MongoDB / FerretDB: version-guarded documents by _id, tombstones for deletes",
    .options = options,
    .config_size = sizeof(mgs_config),
    .check = mgs_check,
    .open = mgs_open,
    .close = mgs_close,
    .write = mgs_write,
    .flush = mgs_flush,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    mgs_host = host;
    return &descriptor;
}
