/*
 * sink mongodb: keyed, version-guarded writes into a MongoDB collection
 * (or FerretDB) through mongo-c-driver, one document per key with _id =
 * record key. docs/plugins/sink-mongodb.md.
 *
 * write() applies the batch with unordered bulks acknowledged by the
 * configured write concern (majority + journal by default); flush() then
 * has nothing left to make durable. Deletes leave a tombstone document
 * behind (deleted: true, doc: null, its version), so an older upsert
 * replayed later cannot bring the key back.
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

/* ---- the store's operations (rdapsync/sinktk.h) ---- */

/* No transactions: every write is acknowledged by the write concern before
 * apply returns, so the writer has nothing to begin, commit or roll back,
 * and flush() nothing left to make durable. */
static rdapsync_status store_connect(void *store, bool first, char *err, size_t err_size)
{
    (void)first; /* mgs_connect knows a reconnect from its own state */
    return mgs_connect(store, err, err_size);
}

static void store_disconnect(void *store)
{
    mgs_disconnect(store);
}

static rdapsync_status store_apply(void *store, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                                   rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    mgs_tally counts = { 0 };
    rdapsync_status status = mgs_apply(store, plan, rejects, &counts, err, err_size);
    tally->stale = counts.stale;
    /* Two names: within RDAPSYNC_SINKTK_TALLY_EXTRA, adding cannot fail. */
    (void)rdapsync_sinktk_tally_add(tally, "rows_inserted", counts.inserted);
    (void)rdapsync_sinktk_tally_add(tally, "rows_replaced", counts.replaced);
    return status;
}

static const rdapsync_sinktk_store_ops store_ops = {
    .connect = store_connect,
    .disconnect = store_disconnect,
    .apply = store_apply,
};

/* ---- the plugin's callbacks ---- */

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
    rdapsync_sinktk_writer_config writer = {
        .host = H,
        .ctx = ctx,
        .ops = &store_ops,
        .store = st,
        .label = "mongodb sink",
        .mode = RDAPSYNC_SINKTK_UPSERT,
        .release = mgs_doc_release,
    };
    if ((status = rdapsync_sinktk_writer_open(&st->writer, &writer, err, err_size)) != RDAPSYNC_OK) {
        free(st);
        return status;
    }
    *state = st;
    return RDAPSYNC_OK;
}

static void mgs_close(void *state)
{
    mgs_state *st = state;
    rdapsync_sinktk_writer_close(&st->writer);
    free(st);
}

/* A connection lost on the way answers RETRY and the next write connects
 * again: the host writes the same batch again, and since every step is
 * guarded by the version, the partial work of the failed attempt changes
 * nothing in the end. */
static rdapsync_status mgs_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    return rdapsync_sinktk_writer_write(&((mgs_state *)state)->writer, batch, err, err_size);
}

static rdapsync_status mgs_flush(void *state, char *err, size_t err_size)
{
    return rdapsync_sinktk_writer_flush(&((mgs_state *)state)->writer, err, err_size);
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
