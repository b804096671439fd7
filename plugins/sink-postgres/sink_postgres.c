/*
 * sink postgres: keyed, version-guarded upserts (or an append-only change
 * log) into PostgreSQL through libpq, one transaction per flush, with an
 * optional exactly-once mode that stores source positions in the same
 * transaction. The reference sink: docs/plugins/sink-postgres.md.
 *
 * Transactions: the SDK's writer (rdapsync/sinktk.h) opens one at the
 * first write() after a commit and commits it at flush(). Rows the server
 * refuses for their data go to host->reject, the rest still lands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

const rdapsync_host *pgs_host;
#define H pgs_host

static const char *const method_values[] = { "pipeline", "copy", NULL };
static const char *const compression_values[] = { "auto", "server", "pglz", "lz4", NULL };
static const char *const tls_values[] = { "dsn", "disable", "allow", "prefer", "require", "verify-ca", "verify-full",
                                          NULL };

static const rdapsync_option options[] = {
    { RDAPSYNC_OPTION_STRING(pgs_config, dsn, NULL,
                             "libpq connection string or URI; pass passwords with ${env:NAME} or ${file:PATH}"),
      .flags = RDAPSYNC_OPT_REQUIRED | RDAPSYNC_OPT_SECRET },
    { RDAPSYNC_OPTION_STRING(pgs_config, schema, NULL,
                             "schema of the table and the positions table (default: the connection's search_path)") },
    RDAPSYNC_SINKTK_OPTIONS_TABLE(pgs_config),
    { RDAPSYNC_OPTION_ENUM(pgs_config, compression, "auto", compression_values,
                           "TOAST compression of the doc column of a created table; auto: lz4 if the server has it") },
    { RDAPSYNC_OPTION_ENUM(pgs_config, method, "copy", method_values,
                           "write path: copy (binary COPY, new keys straight into the table, others through a stage "
                           "and one INSERT ... ON CONFLICT) or pipeline (pipelined prepared upserts, one per row)") },
    { RDAPSYNC_OPTION_INT(pgs_config, statement_rows, "500", 1, 100000, "rows per pipeline sync point") },
    { RDAPSYNC_OPTION_ENUM(pgs_config, tls, "dsn", tls_values,
                           "TLS mode (libpq sslmode); dsn: whatever the connection string says") },
    { RDAPSYNC_OPTION_STRING(pgs_config, tls_root_cert, NULL,
                             "CA certificate file for verify-ca / verify-full (libpq sslrootcert)") },
    { RDAPSYNC_OPTION_DURATION(pgs_config, connect_timeout, "10s", 1000, 3600000,
                               "how long one connection attempt may take (whole seconds)") },
    { RDAPSYNC_OPTION_DURATION(pgs_config, statement_timeout, "0", 0, 86400000,
                               "server-side statement_timeout of the session; 0 keeps the server's") },
    RDAPSYNC_SINKTK_OPTIONS_EXACTLY_ONCE(pgs_config),
    RDAPSYNC_SINKTK_OPTIONS_HISTORY(pgs_config),
    { RDAPSYNC_OPTION_INT(pgs_config, connections, "1", 1, 16,
                          "connections (server backends) writing at once; rows are spread by a hash of their key, "
                          "so each key keeps its order") },
    RDAPSYNC_SINKTK_OPTIONS_CONFLICTS(pgs_config),
    { RDAPSYNC_OPTION_SIZE(pgs_config, heads_cache, "8M", 0, INT64_C(1) << 40,
                           "with conflicts: bytes of heads kept between flushes, so that keys written or read "
                           "before are not read again while no other writer touched the table; 0: none") },
    RDAPSYNC_OPTIONS_END,
};

static rdapsync_status check_ident(const char *what, const char *value, size_t max, char *err, size_t err_size)
{
    if (!value || !*value) {
        snprintf(err, err_size, "%s must not be empty", what);
        return RDAPSYNC_ERROR;
    }
    if (strlen(value) > max) {
        snprintf(err, err_size, "%s is longer than %zu bytes, PostgreSQL would truncate it", what, max);
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}

static rdapsync_status pgs_check(const void *config, char *err, size_t err_size)
{
    const pgs_config *cfg = config;
    char *parse_err = NULL;

    PQconninfoOption *parsed = PQconninfoParse(cfg->dsn ? cfg->dsn : "", &parse_err);
    if (!parsed) {
        /* libpq's message names the bad keyword, never a value. */
        char reason[256] = "out of memory";
        if (parse_err) {
            snprintf(reason, sizeof(reason), "%s", parse_err);
            reason[strcspn(reason, "\n")] = '\0';
        }
        snprintf(err, err_size, "dsn is not a valid libpq connection string: %s", reason);
        PQfreemem(parse_err);
        return RDAPSYNC_ERROR;
    }
    PQconninfoFree(parsed);
    /* The view <table>_live needs five more bytes. */
    size_t table_max = cfg->mode == RDAPSYNC_SINKTK_UPSERT && cfg->create_table ? PGS_MAX_IDENT - 5 : PGS_MAX_IDENT;
    if (check_ident("table", cfg->table, table_max, err, err_size) != RDAPSYNC_OK ||
        check_ident("key_column", cfg->key_column, PGS_MAX_IDENT, err, err_size) != RDAPSYNC_OK ||
        check_ident("positions_table", cfg->positions_table, PGS_MAX_IDENT, err, err_size) != RDAPSYNC_OK)
        return RDAPSYNC_ERROR;
    if (cfg->schema && *cfg->schema && check_ident("schema", cfg->schema, PGS_MAX_IDENT, err, err_size) != RDAPSYNC_OK)
        return RDAPSYNC_ERROR;
    if (rdapsync_sinktk_check_exactly_once(options, &cfg->set, cfg->exactly_once, cfg->table, cfg->positions_table,
                                           strcmp, err, err_size) != RDAPSYNC_OK)
        return RDAPSYNC_ERROR;
    char *history = NULL;
    rdapsync_status status = rdapsync_sinktk_history_option(H, cfg->history, cfg->mode, cfg->table,
                                                            cfg->exactly_once ? cfg->positions_table : NULL, strcmp,
                                                            &history, err, err_size);
    if (status == RDAPSYNC_OK && history)
        status = check_ident("history table", history, PGS_MAX_IDENT, err, err_size);
    free(history);
    rdapsync_sinktk_conflicts *conflicts = NULL;
    if (status == RDAPSYNC_OK)
        status = rdapsync_sinktk_conflicts_option(H, cfg->conflicts, cfg->mode, cfg->table,
                                                  cfg->exactly_once ? cfg->positions_table : NULL, strcmp, &conflicts,
                                                  err, err_size);
    if (status == RDAPSYNC_OK && conflicts)
        status = check_ident("conflicts table", conflicts->table, PGS_MAX_IDENT, err, err_size);
    /* The register writes a key's heads and its visible row in one
     * transaction, which one connection holds; keys spread over several
     * connections would split it. */
    if (status == RDAPSYNC_OK && conflicts && cfg->connections > 1) {
        snprintf(err, err_size, "conflicts needs connections: 1 (a key's heads and its row are written in one "
                                "transaction)");
        status = RDAPSYNC_ERROR;
    }
    rdapsync_sinktk_conflicts_free(conflicts);
    return status;
}

/* Server notices ("already exists, skipping") are not errors. `arg`: a lane. */
static void on_notice(void *arg, const char *message)
{
    pgs_state *st = arg;
    char line[512];
    snprintf(line, sizeof(line), "%s", message);
    line[strcspn(line, "\n")] = '\0';
    H->log(st->ctx, RDAPSYNC_LOG_DEBUG, "server notice: %s", line);
}

/* ---- the store's operations (rdapsync/sinktk.h), over every lane ---- */

static void lane_disconnect(pgs_state *lane)
{
    PQfinish(lane->conn);
    lane->conn = NULL;
    pgs_mvr_aborted(lane);
    lane->stage_ready = false;
    lane->stage_dirty = false;
    rdapsync_sinktk_positions_clear(&lane->lane_saving);
}

static void store_disconnect(void *store)
{
    pgs_state *st = store;
    for (size_t k = 0; k < st->lane_count; k++)
        lane_disconnect(&st->lanes[k]);
}

/* A connection ready to write: connected, session settings, with `ensure`
 * the table and the exactly-once positions table, the prepared statements. */
static rdapsync_status lane_connect(pgs_state *lane, bool ensure, char *err, size_t err_size)
{
    const pgs_config *cfg = lane->cfg;
    rdapsync_status status;

    lane->conn = pgs_connect(cfg, err, err_size);
    if (!lane->conn)
        return RDAPSYNC_RETRY;
    PQsetNoticeProcessor(lane->conn, on_notice, lane);
    if (cfg->statement_timeout > 0) {
        char sql[64];
        snprintf(sql, sizeof(sql), "SET statement_timeout = %lld", (long long)cfg->statement_timeout);
        if ((status = pgs_exec(lane->conn, sql, err, err_size)) != RDAPSYNC_OK)
            goto fail;
    }
    if (ensure && (status = pgs_schema_ensure(lane->conn, cfg, &lane->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (ensure && cfg->exactly_once &&
        (status = pgs_positions_ensure(lane->conn, &lane->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (ensure && cfg->create_table && lane->names.history &&
        (status = pgs_history_ensure(lane->conn, &lane->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (ensure && cfg->create_table && lane->names.conflicts &&
        (status = pgs_mvr_ensure(lane, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    /* A created table has the column from pgs_mvr_ensure. */
    if (ensure && !cfg->create_table && lane->names.conflicts &&
        (status = pgs_mvr_check(lane, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (lane->names.conflicts && (status = pgs_mvr_connect(lane, ensure, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if ((status = pgs_schema_prepare(lane->conn, cfg, &lane->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (lane->names.history &&
        (status = pgs_history_prepare(lane->conn, &lane->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    return RDAPSYNC_OK;

fail:
    lane_disconnect(lane);
    return status;
}

/* Lane 0 first: it creates the tables the others prepare statements on. */
static rdapsync_status store_connect(void *store, bool first, char *err, size_t err_size)
{
    pgs_state *st = store;
    for (size_t k = 0; k < st->lane_count; k++) {
        rdapsync_status status = lane_connect(&st->lanes[k], first && k == 0, err, err_size);
        if (status != RDAPSYNC_OK) {
            store_disconnect(st);
            return status;
        }
    }
    if (!first) {
        H->log(st->ctx, RDAPSYNC_LOG_INFO, "reconnected to PostgreSQL");
        H->counter_add(st->ctx, "reconnects", 1);
    }
    return RDAPSYNC_OK;
}

static rdapsync_status store_begin(void *store, char *err, size_t err_size)
{
    pgs_state *st = store;
    for (size_t k = 0; k < st->lane_count; k++) {
        /* With conflicts the epoch comes first, before any row lock (pgs_mvr.c). */
        rdapsync_status status = st->lanes[k].names.conflicts ? pgs_mvr_begin(&st->lanes[k], err, err_size)
                                                              : pgs_exec(st->lanes[k].conn, "BEGIN", err, err_size);
        if (status != RDAPSYNC_OK)
            return status;
    }
    return RDAPSYNC_OK;
}

/* Lane by lane: a failure after the first COMMIT leaves the lanes before
 * it committed, with their positions (pgs_positions.c tells how a restart
 * resumes from that). */
static rdapsync_status store_commit(void *store, char *err, size_t err_size)
{
    pgs_state *st = store;
    for (size_t k = 0; k < st->lane_count; k++) {
        pgs_state *lane = &st->lanes[k];
        rdapsync_status status = pgs_exec(lane->conn, "COMMIT", err, err_size);
        if (status != RDAPSYNC_OK) {
            pgs_mvr_aborted(lane); /* in doubt: the next epoch tells */
            return status;
        }
        pgs_mvr_committed(lane);
        lane->stage_dirty = false;
        if (rdapsync_sinktk_positions_merge(&lane->lane_stored, &lane->lane_saving) != 0) {
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
        rdapsync_sinktk_positions_clear(&lane->lane_saving);
    }
    return RDAPSYNC_OK;
}

/* The temporary stage goes with a rolled-back transaction that created it. */
static rdapsync_status store_rollback(void *store, char *err, size_t err_size)
{
    pgs_state *st = store;
    rdapsync_status status = RDAPSYNC_OK;
    for (size_t k = 0; k < st->lane_count; k++) {
        pgs_state *lane = &st->lanes[k];
        lane->stage_ready = false;
        lane->stage_dirty = false;
        rdapsync_sinktk_positions_clear(&lane->lane_saving);
        pgs_mvr_aborted(lane);
        if (PQstatus(lane->conn) != CONNECTION_OK) {
            snprintf(err, err_size, "connection lost");
            status = RDAPSYNC_RETRY;
        } else if (status == RDAPSYNC_OK) {
            status = pgs_exec(lane->conn, "ROLLBACK", err, err_size);
        }
    }
    return status;
}

static rdapsync_status store_apply(void *store, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                                   rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    return pgs_lanes_apply(store, plan, rejects, tally, err, err_size);
}

static rdapsync_status store_load_positions(void *store, const char *pipeline, int task,
                                            rdapsync_sinktk_positions *out, char *err, size_t err_size)
{
    return pgs_positions_load(store, pipeline, task, out, err, err_size);
}

/* Every lane stores every position of the transaction: see pgs_positions.c. */
static rdapsync_status store_save_positions(void *store, const char *pipeline, int task,
                                            const rdapsync_sinktk_positions *positions, char *err, size_t err_size)
{
    pgs_state *st = store;
    (void)pipeline;
    for (size_t k = 0; k < st->lane_count; k++) {
        pgs_state *lane = &st->lanes[k];
        rdapsync_status status = pgs_positions_store(lane->conn, lane->lane_pipeline, task, positions, err, err_size);
        if (status != RDAPSYNC_OK)
            return status;
        if (rdapsync_sinktk_positions_merge(&lane->lane_saving, positions) != 0) {
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
    }
    return RDAPSYNC_OK;
}

static rdapsync_status store_heads_load(void *store, rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                        size_t err_size)
{
    pgs_state *st = store;
    return pgs_mvr_load(&st->lanes[0], keys, count, err, err_size); /* conflicts: one lane (pgs_check) */
}

static rdapsync_status store_heads_write(void *store, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                         size_t err_size)
{
    pgs_state *st = store;
    return pgs_mvr_write(&st->lanes[0], keys, count, err, err_size);
}

static rdapsync_status store_rows_load(void *store, rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                       size_t err_size)
{
    pgs_state *st = store;
    return pgs_mvr_rows_load(&st->lanes[0], keys, count, err, err_size);
}

static rdapsync_status store_conflicts_open(void *store, uint64_t *count, char *err, size_t err_size)
{
    pgs_state *st = store;
    return pgs_mvr_open_count(&st->lanes[0], count, err, err_size);
}

static const rdapsync_sinktk_store_ops store_ops = {
    .connect = store_connect,
    .disconnect = store_disconnect,
    .begin = store_begin,
    .commit = store_commit,
    .rollback = store_rollback,
    .apply = store_apply,
    .load_positions = store_load_positions,
    .save_positions = store_save_positions,
    .heads_load = store_heads_load,
    .heads_write = store_heads_write,
    .conflicts_open = store_conflicts_open,
    .rows_load = store_rows_load,
};

/* ---- the plugin's callbacks ---- */

static void state_free(pgs_state *st)
{
    if (!st)
        return;
    pgs_lanes_free(st);
    pgs_buffer_free(&st->buffer);
    pgs_names_free(&st->names);
    free(st->history_table);
    rdapsync_sinktk_conflicts_free(st->conflicts);
    free(st);
}

static rdapsync_status pgs_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const pgs_config *cfg = config;
    rdapsync_status status = pgs_check(config, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;

    pgs_state *st = calloc(1, sizeof(*st));
    if (st && (status = rdapsync_sinktk_history_option(H, cfg->history, cfg->mode, cfg->table, NULL, strcmp,
                                                       &st->history_table, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    if (st && (status = rdapsync_sinktk_conflicts_option(H, cfg->conflicts, cfg->mode, cfg->table, NULL, strcmp,
                                                         &st->conflicts, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    if (!st || pgs_names_build(cfg, st->history_table, st->conflicts ? st->conflicts->table : NULL, &st->names) !=
                   0) {
        state_free(st);
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    st->ctx = ctx;
    st->cfg = cfg;
    if (pgs_lanes_make(st) != 0) {
        state_free(st);
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_sinktk_writer_config writer = {
        .host = H,
        .ctx = ctx,
        .ops = &store_ops,
        .store = st,
        .label = "postgres sink",
        .mode = (rdapsync_sinktk_mode)cfg->mode,
        .exactly_once = cfg->exactly_once,
        .conflicts = st->conflicts,
        .mvr_doc_values = true, /* streamed into the stage (pgs_mvr.c) */
    };
    if ((status = rdapsync_sinktk_writer_open(&st->writer, &writer, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    *state = st;
    return RDAPSYNC_OK;
}

static void pgs_close(void *state)
{
    pgs_state *st = state;
    /* An open transaction is rolled back by closing: nothing unflushed is
     * ever made durable. */
    rdapsync_sinktk_writer_close(&st->writer);
    state_free(st);
}

/* A connection lost on the way answers RETRY after rolling back, and the
 * next write reconnects: the host writes the same batch again. */
static rdapsync_status pgs_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    return rdapsync_sinktk_writer_write(&((pgs_state *)state)->writer, batch, err, err_size);
}

static rdapsync_status pgs_flush(void *state, char *err, size_t err_size)
{
    return rdapsync_sinktk_writer_flush(&((pgs_state *)state)->writer, err, err_size);
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "postgres",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "1.0.0",
    .description = "PostgreSQL: version-guarded upserts or an append log, optional exactly-once",
    .options = options,
    .config_size = sizeof(pgs_config),
    RDAPSYNC_OPTIONS_SET_IN(pgs_config, set),
    .check = pgs_check,
    .open = pgs_open,
    .close = pgs_close,
    .write = pgs_write,
    .flush = pgs_flush,
    .subject_find = pgs_subject_find,
    .subject_erase = pgs_subject_erase,
    .retention_purge = pgs_retention_purge,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    pgs_host = host;
    return &descriptor;
}
