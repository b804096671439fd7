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

static const rdapsync_option options[] = {
    { RDAPSYNC_OPTION_STRING(mgs_config, uri, NULL,
                             "MongoDB connection string (mongodb:// or mongodb+srv://); pass credentials with "
                             "${env:NAME} or ${file:PATH}"),
      .flags = RDAPSYNC_OPT_REQUIRED | RDAPSYNC_OPT_SECRET },
    { RDAPSYNC_OPTION_STRING(mgs_config, database, "rdapsync", "database of the collection") },
    { RDAPSYNC_OPTION_STRING(mgs_config, collection, "rdap_records",
                             "collection the records go to, one document per key (_id = key)") },
    { RDAPSYNC_OPTION_ENUM(mgs_config, version_guard, "auto", guard_values,
                           "server: the guard is in the update filter; client: older stored versions are deleted by "
                           "one guarded delete, then the documents inserted (one writer per key); auto: client on "
                           "FerretDB, server elsewhere") },
    { RDAPSYNC_OPTION_ENUM(mgs_config, nested_arrays, "auto", arrays_values,
                           "arrays directly inside arrays: native, or wrap as {\"_array\": [...]} (FerretDB refuses "
                           "them); auto: wrap on FerretDB") },
    { RDAPSYNC_OPTION_ENUM(mgs_config, write_concern, "majority", write_concern_values,
                           "majority: w majority + journal; acknowledged: w 1; uri: what the connection string says") },
    { RDAPSYNC_OPTION_DURATION(mgs_config, connect_timeout, "10s", 100, 3600000,
                               "connection and server selection timeout") },
    { RDAPSYNC_OPTION_DURATION(mgs_config, operation_timeout, "60s", 1000, 3600000,
                               "how long one command may take before the connection counts as broken "
                               "(socketTimeoutMS)") },
    { RDAPSYNC_OPTION_INT(mgs_config, read_chunk, "1000", 1, 100000,
                          "keys per {_id: {$in: ...}} read of stored versions (guard on the server) or per guarded "
                          "delete (in the sink)") },
    { RDAPSYNC_OPTION_STRING(mgs_config, app_name, "rdapsync",
                             "application name sent in the handshake (server logs, currentOp); the URI's appname "
                             "wins") },
    RDAPSYNC_SINKTK_OPTIONS_CONFLICTS(mgs_config),
    RDAPSYNC_OPTIONS_END,
};

/* The conflicts option of this collection: the log is a collection of
 * the same database (its name compared exactly, like MongoDB's). */
static rdapsync_status conflicts_option(const mgs_config *cfg, rdapsync_sinktk_conflicts **out, char *err,
                                        size_t err_size)
{
    return rdapsync_sinktk_conflicts_option(H, cfg->conflicts, RDAPSYNC_SINKTK_UPSERT, cfg->collection, NULL, strcmp,
                                            out, err, err_size);
}

static rdapsync_status mgs_check(const void *config, char *err, size_t err_size)
{
    rdapsync_status status = mgs_config_check(config, err, err_size);
    rdapsync_sinktk_conflicts *conflicts = NULL;
    if (status == RDAPSYNC_OK)
        status = conflicts_option(config, &conflicts, err, err_size);
    rdapsync_sinktk_conflicts_free(conflicts);
    return status;
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

static rdapsync_status store_heads_load(void *store, rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                        size_t err_size)
{
    return mgs_mvr_load(store, keys, count, err, err_size);
}

static rdapsync_status store_heads_write(void *store, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                         size_t err_size)
{
    return mgs_mvr_write(store, keys, count, err, err_size);
}

static rdapsync_status store_conflicts_open(void *store, uint64_t *count, char *err, size_t err_size)
{
    return mgs_mvr_open_count(store, count, err, err_size);
}

static const rdapsync_sinktk_store_ops store_ops = {
    .connect = store_connect,
    .disconnect = store_disconnect,
    .apply = store_apply,
    .heads_load = store_heads_load,
    .heads_write = store_heads_write,
    .conflicts_open = store_conflicts_open,
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
    if ((status = conflicts_option(config, &st->conflicts, err, err_size)) != RDAPSYNC_OK) {
        free(st);
        return status;
    }
    rdapsync_sinktk_writer_config writer = {
        .host = H,
        .ctx = ctx,
        .ops = &store_ops,
        .store = st,
        .label = "mongodb sink",
        .mode = RDAPSYNC_SINKTK_UPSERT,
        .release = mgs_doc_release,
        .conflicts = st->conflicts,
    };
    if ((status = rdapsync_sinktk_writer_open(&st->writer, &writer, err, err_size)) != RDAPSYNC_OK) {
        rdapsync_sinktk_conflicts_free(st->conflicts);
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
    rdapsync_sinktk_conflicts_free(st->conflicts);
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
    .subject_find = mgs_subject_find,
    .subject_erase = mgs_subject_erase,
    .retention_purge = mgs_retention_purge,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    mgs_host = host;
    return &descriptor;
}
