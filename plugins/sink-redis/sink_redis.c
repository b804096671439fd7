/*
 * sink redis: the cache layer. Each key's latest document is a JSON string
 * at <prefix><key>, its version at <prefix>\0v:<key>, moved into place by a
 * Lua guard that keeps out older versions atomically on the server;
 * deletes leave a tombstone (the version key alone). Writes are pipelined; flush may WAIT for replicas.
 * docs/plugins/sink-redis.md.
 *
 * The SDK's writer (rdapsync/sinktk.h) plans each batch (the greatest
 * version per key, keyless records rejected), reconnects after a RETRY and
 * reports counters; Redis is a store without transactions for it: every
 * write is on the server when apply returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rds.h"

const rdapsync_host *rds_host;
#define H rds_host

static const rdapsync_option options[] = {
    /* Secret like every URL option: masked wherever it is shown. */
    { RDAPSYNC_OPTION_STRING(rds_config, url, NULL, "redis://host:port/db (instead of host, port and database)"),
      .flags = RDAPSYNC_OPT_SECRET },
    { RDAPSYNC_OPTION_STRING(rds_config, host, "127.0.0.1", "server host name or address") },
    { RDAPSYNC_OPTION_INT(rds_config, port, "6379", 1, 65535, "server port") },
    { RDAPSYNC_OPTION_INT(rds_config, database, "0", 0, 1000000, "database number (SELECT)") },
    { RDAPSYNC_OPTION_STRING(rds_config, username, NULL, "ACL user (Redis 6+); needs password") },
    { RDAPSYNC_OPTION_STRING(rds_config, password, NULL, "password (AUTH)"), .flags = RDAPSYNC_OPT_SECRET },
    { RDAPSYNC_OPTION_STRING(rds_config, prefix, "rdap:", "put before every record key to make the Redis key") },
    { RDAPSYNC_OPTION_DURATION(rds_config, ttl, "0", 0, INT64_C(1) << 40,
                               "documents expire after this long (0: never)") },
    { RDAPSYNC_OPTION_DURATION(rds_config, tombstone_ttl, "0", 0, INT64_C(1) << 40,
                               "tombstones expire after this long (0: never); an older version may then be "
                               "written again") },
    { RDAPSYNC_OPTION_INT(rds_config, wait_replicas, "0", 0, 1000,
                          "flush WAITs for this many replicas to acknowledge the writes (0: no WAIT)") },
    { RDAPSYNC_OPTION_DURATION(rds_config, wait_timeout_ms, "1s", 1, 3600000,
                               "how long flush WAITs for the replicas before answering retry") },
    { RDAPSYNC_OPTION_DURATION(rds_config, timeout, "5s", 1, 600000, "connect and command timeout") },
    RDAPSYNC_SINKTK_OPTIONS_CONFLICTS(rds_config),
    RDAPSYNC_OPTIONS_END,
};

static bool is_set(const rds_config *cfg, const char *name)
{
    return rdapsync_option_is_set(options, &cfg->set, name);
}

/* Fills `endpoint` from url or host/port/database. */
static rdapsync_status resolve(const rds_config *cfg, rds_endpoint *endpoint, char *err, size_t err_size)
{
    if (cfg->url)
        return rds_url_parse(cfg->url, endpoint, err, err_size) == 0 ? RDAPSYNC_OK : RDAPSYNC_ERROR;
    if (!cfg->host || !*cfg->host || strlen(cfg->host) >= sizeof(endpoint->host)) {
        snprintf(err, err_size, "host must not be empty (nor longer than %zu bytes)", sizeof(endpoint->host) - 1);
        return RDAPSYNC_ERROR;
    }
    snprintf(endpoint->host, sizeof(endpoint->host), "%s", cfg->host);
    endpoint->port = (int)cfg->port;
    endpoint->database = (int)cfg->database;
    return RDAPSYNC_OK;
}

/* The conflicts option: the log is the hash <prefix>\0c:<table>, by
 * default "records_conflicts" (Redis has no data table to name it after). */
static rdapsync_status conflicts_option(const rds_config *cfg, rdapsync_sinktk_conflicts **out, char *err,
                                        size_t err_size)
{
    return rdapsync_sinktk_conflicts_option(H, cfg->conflicts, RDAPSYNC_SINKTK_UPSERT, "records", NULL, strcmp, out,
                                            err, err_size);
}

static rdapsync_status rds_check(const void *config, char *err, size_t err_size)
{
    const rds_config *cfg = config;
    rds_endpoint endpoint;

    if (cfg->url) {
        static const char *const endpoint_options[] = { "host", "port", "database" };
        for (size_t i = 0; i < 3; i++)
            if (is_set(cfg, endpoint_options[i])) {
                snprintf(err, err_size, "url and %s are both set: give the server either as url or as host, port "
                                        "and database", endpoint_options[i]);
                return RDAPSYNC_ERROR;
            }
    }
    if (resolve(cfg, &endpoint, err, err_size) != RDAPSYNC_OK)
        return RDAPSYNC_ERROR;
    if (cfg->username && *cfg->username && !(cfg->password && *cfg->password)) {
        snprintf(err, err_size, "username \"%s\" is set without a password", cfg->username);
        return RDAPSYNC_ERROR;
    }
    if (!cfg->prefix) {
        snprintf(err, err_size, "prefix must be a string (it may be empty)");
        return RDAPSYNC_ERROR;
    }
    if (is_set(cfg, "wait_timeout_ms") && cfg->wait_replicas == 0) {
        snprintf(err, err_size, "wait_timeout_ms is set but wait_replicas is 0: flush does not WAIT, so it would "
                                "be ignored");
        return RDAPSYNC_ERROR;
    }
    rdapsync_sinktk_conflicts *conflicts = NULL;
    rdapsync_status status = conflicts_option(cfg, &conflicts, err, err_size);
    rdapsync_sinktk_conflicts_free(conflicts);
    return status;
}

/* ---- the store's operations (rdapsync/sinktk.h) ---- */

static rdapsync_status store_connect(void *store, bool first, char *err, size_t err_size)
{
    rds_state *st = store;
    rdapsync_status status = rds_connect(st, err, err_size);
    if (status == RDAPSYNC_OK && !first) {
        H->log(st->ctx, RDAPSYNC_LOG_INFO, "reconnected to redis %s:%d", st->endpoint.host, st->endpoint.port);
        H->counter_add(st->ctx, "reconnects", 1);
    }
    return status;
}

static void store_disconnect(void *store)
{
    rds_disconnect(store);
}

static rdapsync_status store_apply(void *store, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                                   rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    /* Redis refuses no row for its data: a failing row fails the batch. */
    (void)rejects;
    return rds_apply(store, plan, tally, err, err_size);
}

static rdapsync_status store_heads_load(void *store, rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                        size_t err_size)
{
    return rds_mvr_load(store, keys, count, err, err_size);
}

static rdapsync_status store_heads_write(void *store, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                         size_t err_size)
{
    return rds_mvr_write(store, keys, count, err, err_size);
}

static rdapsync_status store_conflicts_open(void *store, uint64_t *count, char *err, size_t err_size)
{
    return rds_mvr_open_count(store, count, err, err_size);
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

static void state_free(rds_state *st)
{
    if (!st)
        return;
    free(st->arena.data);
    free(st->doc.data);
    rdapsync_sinktk_conflicts_free(st->conflicts);
    free(st);
}

static rdapsync_status rds_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const rds_config *cfg = config;
    rdapsync_status status = rds_check(config, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    rds_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    st->ctx = ctx;
    st->cfg = cfg;
    resolve(cfg, &st->endpoint, err, err_size);
    if ((status = conflicts_option(cfg, &st->conflicts, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    rdapsync_sinktk_writer_config writer = {
        .host = H,
        .ctx = ctx,
        .ops = &store_ops,
        .store = st,
        .label = "redis sink",
        .mode = RDAPSYNC_SINKTK_UPSERT,
        .conflicts = st->conflicts,
    };
    if ((status = rdapsync_sinktk_writer_open(&st->writer, &writer, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    *state = st;
    return RDAPSYNC_OK;
}

static void rds_close(void *state)
{
    rds_state *st = state;
    rdapsync_sinktk_writer_close(&st->writer);
    state_free(st);
}

/* A lost connection or a server answering LOADING, BUSY, READONLY,
 * MISCONF, TRYAGAIN: RETRY, and the next write reconnects; the host writes
 * the same batch again and the guard makes it harmless. */
static rdapsync_status rds_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    return rdapsync_sinktk_writer_write(&((rds_state *)state)->writer, batch, err, err_size);
}

static rdapsync_status rds_flush(void *state, char *err, size_t err_size)
{
    rds_state *st = state;
    rdapsync_status status = rdapsync_sinktk_writer_flush(&st->writer, err, err_size);
    if (status == RDAPSYNC_OK && st->cfg->wait_replicas > 0)
        status = rds_wait(st, err, err_size);
    return status;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "redis",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "2.0.0",
    .description = "Redis (cache layer): each key's latest document as a JSON string, version-guarded on the "
                   "server by a Lua script, tombstones, TTLs, pipelined writes, optional WAIT for replicas",
    .options = options,
    .config_size = sizeof(rds_config),
    RDAPSYNC_OPTIONS_SET_IN(rds_config, set),
    .check = rds_check,
    .open = rds_open,
    .close = rds_close,
    .write = rds_write,
    .flush = rds_flush,
    .subject_find = rds_subject_find,
    .subject_erase = rds_subject_erase,
    .retention_purge = rds_retention_purge,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    rds_host = host;
    return &descriptor;
}
