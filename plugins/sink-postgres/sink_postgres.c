/*
 * sink postgres: keyed, version-guarded upserts (or an append-only change
 * log) into PostgreSQL through libpq, one transaction per flush, with an
 * optional exactly-once mode that stores source positions in the same
 * transaction. The reference sink: docs/plugins/sink-postgres.md.
 *
 * Transactions: the first write() after a commit opens one; flush() commits
 * it. A connection lost on the way answers RETRY after rolling back, and the
 * next call reconnects: the host writes the same batch again. Rows the
 * server refuses for their data go to host->reject, the rest still lands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

const rdapsync_host *pgs_host;
#define H pgs_host

static const char *const mode_values[] = { "upsert", "append", NULL };
static const char *const method_values[] = { "pipeline", "copy", NULL };
static const char *const compression_values[] = { "auto", "server", "pglz", "lz4", NULL };
static const char *const tls_values[] = { "dsn", "disable", "allow", "prefer", "require", "verify-ca", "verify-full",
                                          NULL };

#define OPT(name_, type_, flags_, default_, min_, max_, enums_, field_, doc_)                                    \
    { .name = name_, .type = type_, .flags = flags_, .default_value = default_, .min = min_, .max = max_,       \
      .enum_values = enums_, .offset = offsetof(pgs_config, field_), .description = doc_ }

static const rdapsync_option options[] = {
    OPT("dsn", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED | RDAPSYNC_OPT_SECRET, NULL, 0, 0, NULL, dsn,
        "libpq connection string or URI; pass passwords with ${env:NAME} or ${file:PATH}"),
    OPT("schema", RDAPSYNC_OPT_STRING, 0, NULL, 0, 0, NULL, schema,
        "schema of the table and the positions table (default: the connection's search_path)"),
    OPT("table", RDAPSYNC_OPT_STRING, 0, "rdap_records", 0, 0, NULL, table, "table the records go to"),
    OPT("key_column", RDAPSYNC_OPT_STRING, 0, "key", 0, 0, NULL, key_column, "column holding the record key"),
    OPT("mode", RDAPSYNC_OPT_ENUM, 0, "upsert", 0, 0, mode_values, mode,
        "upsert: one row per key, version-guarded; append: one row per change"),
    OPT("create_table", RDAPSYNC_OPT_BOOL, 0, "true", 0, 0, NULL, create_table,
        "create the table (and in upsert mode the <table>_live view) if missing"),
    OPT("compression", RDAPSYNC_OPT_ENUM, 0, "auto", 0, 0, compression_values, compression,
        "TOAST compression of the doc column of a created table; auto: lz4 if the server has it"),
    OPT("method", RDAPSYNC_OPT_ENUM, 0, "copy", 0, 0, method_values, method,
        "write path: copy (binary COPY, new keys straight into the table, others through a stage and one "
        "INSERT ... ON CONFLICT) or pipeline (pipelined prepared upserts, one per row)"),
    OPT("statement_rows", RDAPSYNC_OPT_INT, 0, "500", 1, 100000, NULL, statement_rows,
        "rows per pipeline sync point"),
    OPT("tls", RDAPSYNC_OPT_ENUM, 0, "dsn", 0, 0, tls_values, tls,
        "TLS mode (libpq sslmode); dsn: whatever the connection string says"),
    OPT("tls_root_cert", RDAPSYNC_OPT_STRING, 0, NULL, 0, 0, NULL, tls_root_cert,
        "CA certificate file for verify-ca / verify-full (libpq sslrootcert)"),
    OPT("connect_timeout", RDAPSYNC_OPT_DURATION, 0, "10s", 1000, 3600000, NULL, connect_timeout_ms,
        "how long one connection attempt may take (whole seconds)"),
    OPT("statement_timeout", RDAPSYNC_OPT_DURATION, 0, "0", 0, 86400000, NULL, statement_timeout_ms,
        "server-side statement_timeout of the session; 0 keeps the server's"),
    OPT("exactly_once", RDAPSYNC_OPT_BOOL, 0, "false", 0, 0, NULL, exactly_once,
        "store source positions in the same transaction and resume from them"),
    OPT("positions_table", RDAPSYNC_OPT_STRING, 0, "rdapsync_positions", 0, 0, NULL, positions_table,
        "table of the exactly-once positions"),
    { .name = NULL },
};

/* PostgreSQL truncates identifiers longer than NAMEDATALEN - 1 bytes. */
#define PGS_MAX_IDENT 63

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
    size_t table_max = cfg->mode == PGS_MODE_UPSERT && cfg->create_table ? PGS_MAX_IDENT - 5 : PGS_MAX_IDENT;
    if (check_ident("table", cfg->table, table_max, err, err_size) != RDAPSYNC_OK ||
        check_ident("key_column", cfg->key_column, PGS_MAX_IDENT, err, err_size) != RDAPSYNC_OK ||
        check_ident("positions_table", cfg->positions_table, PGS_MAX_IDENT, err, err_size) != RDAPSYNC_OK)
        return RDAPSYNC_ERROR;
    if (cfg->schema && *cfg->schema && check_ident("schema", cfg->schema, PGS_MAX_IDENT, err, err_size) != RDAPSYNC_OK)
        return RDAPSYNC_ERROR;
    if (cfg->exactly_once && strcmp(cfg->table, cfg->positions_table) == 0) {
        snprintf(err, err_size, "positions_table must differ from table");
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}

/* Server notices ("already exists, skipping") are not errors. */
static void on_notice(void *arg, const char *message)
{
    pgs_state *st = arg;
    char line[512];
    snprintf(line, sizeof(line), "%s", message);
    line[strcspn(line, "\n")] = '\0';
    H->log(st->ctx, RDAPSYNC_LOG_DEBUG, "server notice: %s", line);
}

static void drop_connection(pgs_state *st)
{
    PQfinish(st->conn);
    st->conn = NULL;
    st->in_transaction = false;
    st->writes_in_transaction = 0;
    st->stage_ready = false;
    st->stage_dirty = false;
    pgs_positions_clear(&st->pending);
}

/* A connection ready to write: connected, session settings, the table,
 * the exactly-once positions, the prepared statements. */
static rdapsync_status session_start(pgs_state *st, bool first, char *err, size_t err_size)
{
    const pgs_config *cfg = st->cfg;
    rdapsync_status status;

    st->conn = pgs_connect(cfg, err, err_size);
    if (!st->conn)
        return RDAPSYNC_RETRY;
    PQsetNoticeProcessor(st->conn, on_notice, st);
    if (cfg->statement_timeout_ms > 0) {
        char sql[64];
        snprintf(sql, sizeof(sql), "SET statement_timeout = %lld", (long long)cfg->statement_timeout_ms);
        if ((status = pgs_exec(st->conn, sql, err, err_size)) != RDAPSYNC_OK)
            goto fail;
    }
    if (first && (status = pgs_schema_ensure(st->conn, cfg, &st->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (cfg->exactly_once) {
        if (first && (status = pgs_positions_ensure(st->conn, &st->names, err, err_size)) != RDAPSYNC_OK)
            goto fail;
        /* Also after a reconnect: a COMMIT whose answer was lost may have
         * stored positions we do not know of yet. */
        if ((status = pgs_positions_load(st->conn, &st->names, st->pipeline, st->task, &st->committed, err,
                                          err_size)) != RDAPSYNC_OK)
            goto fail;
    }
    if ((status = pgs_schema_prepare(st->conn, cfg, &st->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (!first) {
        H->log(st->ctx, RDAPSYNC_LOG_INFO, "reconnected to PostgreSQL");
        H->counter_add(st->ctx, "reconnects", 1);
    }
    return RDAPSYNC_OK;

fail:
    drop_connection(st);
    return status;
}

static void state_free(pgs_state *st)
{
    if (!st)
        return;
    if (st->conn)
        PQfinish(st->conn);
    pgs_positions_clear(&st->pending);
    pgs_positions_clear(&st->committed);
    free(st->pending.items);
    free(st->committed.items);
    pgs_names_free(&st->names);
    free(st->pipeline);
    free(st);
}

static rdapsync_status pgs_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const pgs_config *cfg = config;
    rdapsync_status status = pgs_check(config, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;

    pgs_state *st = calloc(1, sizeof(*st));
    if (!st)
        goto oom;
    st->ctx = ctx;
    st->cfg = cfg;
    st->task = H->task_index(ctx);
    st->pipeline = strdup(H->pipeline_name(ctx) ? H->pipeline_name(ctx) : "");
    if (!st->pipeline || pgs_names_build(cfg, &st->names) != 0)
        goto oom;

    if ((status = session_start(st, true, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    for (size_t i = 0; i < st->committed.count; i++) {
        const pgs_position *p = &st->committed.items[i];
        H->checkpoint_override(ctx, *p->stream ? p->stream : NULL, p->partition, p->offset);
        H->log(ctx, RDAPSYNC_LOG_INFO, "exactly-once: resuming %s[%d] after offset %lld",
               *p->stream ? p->stream : "-", (int)p->partition, (long long)p->offset);
    }
    *state = st;
    return RDAPSYNC_OK;

oom:
    state_free(st);
    snprintf(err, err_size, "out of memory");
    return RDAPSYNC_ERROR;
}

static void pgs_close(void *state)
{
    pgs_state *st = state;
    /* An open transaction is rolled back by closing: nothing unflushed is
     * ever made durable. */
    state_free(st);
}

/*
 * Ends the open transaction after a failure. A RETRY means the host will
 * write the batch of the failed call again; if the transaction also held
 * earlier writes the host already had an OK for, they are gone with it, so
 * the answer becomes ERROR: the task restarts from its last checkpoint and
 * nothing is lost.
 */
static rdapsync_status abort_transaction(pgs_state *st, rdapsync_status status, size_t acknowledged_writes,
                                         char *err, size_t err_size)
{
    if (status == RDAPSYNC_RETRY || !st->conn || PQstatus(st->conn) != CONNECTION_OK) {
        drop_connection(st);
    } else if (st->in_transaction) {
        char rollback_err[256];
        if (pgs_exec(st->conn, "ROLLBACK", rollback_err, sizeof(rollback_err)) != RDAPSYNC_OK)
            drop_connection(st);
    }
    st->in_transaction = false;
    st->writes_in_transaction = 0;
    st->stage_ready = false;
    st->stage_dirty = false;
    pgs_positions_clear(&st->pending);
    if (status == RDAPSYNC_RETRY && acknowledged_writes > 0) {
        size_t len = strlen(err);
        snprintf(err + len, err_size - len, " (lost %zu acknowledged write(s) of this transaction)",
                 acknowledged_writes);
        return RDAPSYNC_ERROR;
    }
    if (status == RDAPSYNC_RETRY)
        H->log(st->ctx, RDAPSYNC_LOG_WARN, "transaction rolled back, the batch will be written again: %s", err);
    return status;
}

static rdapsync_status begin_transaction(pgs_state *st, char *err, size_t err_size)
{
    rdapsync_status status;

    if (!st->conn && (status = session_start(st, false, err, err_size)) != RDAPSYNC_OK)
        return status;
    if (st->in_transaction)
        return RDAPSYNC_OK;
    if ((status = pgs_exec(st->conn, "BEGIN", err, err_size)) != RDAPSYNC_OK) {
        drop_connection(st);
        return status;
    }
    st->in_transaction = true;
    st->writes_in_transaction = 0;
    return RDAPSYNC_OK;
}

static void report(pgs_state *st, const pgs_tally *tally, const pgs_rejects *rejects, uint64_t skipped)
{
    for (size_t i = 0; i < rejects->count; i++)
        H->reject(st->ctx, rejects->items[i].record, rejects->items[i].reason);
    if (tally->applied)
        H->counter_add(st->ctx, "rows_applied", tally->applied);
    if (tally->stale)
        H->counter_add(st->ctx, "rows_stale", tally->stale);
    if (rejects->count)
        H->counter_add(st->ctx, "rows_rejected", rejects->count);
    if (skipped)
        H->counter_add(st->ctx, "rows_already_committed", skipped);
}

static rdapsync_status pgs_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    pgs_state *st = state;
    pgs_rows rows = { 0 };
    pgs_rejects rejects = { 0 };
    pgs_positions seen = { 0 };
    pgs_tally tally = { 0 };
    uint64_t skipped = 0;
    rdapsync_status status;

    if (H->batch_count(batch) == 0)
        return RDAPSYNC_OK;
    if ((status = begin_transaction(st, err, err_size)) != RDAPSYNC_OK)
        return status;
    size_t acknowledged = st->writes_in_transaction;

    if (pgs_rows_build(batch, st->cfg->mode, st->cfg->exactly_once ? &st->committed : NULL, &rows, &rejects,
                       &skipped) != 0)
        goto oom;
    if (st->cfg->exactly_once) {
        for (size_t i = 0; i < H->batch_count(batch); i++) {
            const rdapsync_position *p = &H->batch_get(batch, i)->position;
            if (pgs_positions_note(&seen, p->stream, p->partition, p->offset) != 0)
                goto oom;
        }
    }
    if (st->cfg->method == PGS_METHOD_COPY)
        status = pgs_copy_apply(st, &rows, &rejects, &tally, err, err_size);
    else
        status = pgs_pipeline_apply(st, &rows, &rejects, &tally, err, err_size);
    if (status != RDAPSYNC_OK) {
        status = abort_transaction(st, status, acknowledged, err, err_size);
        goto done;
    }
    if (pgs_positions_merge(&st->pending, &seen) != 0)
        goto oom;
    st->writes_in_transaction++;
    report(st, &tally, &rejects, skipped);
    goto done;

oom:
    snprintf(err, err_size, "out of memory");
    status = abort_transaction(st, RDAPSYNC_ERROR, acknowledged, err, err_size);
done:
    pgs_rows_free(&rows);
    pgs_rejects_clear(&rejects);
    free(rejects.items);
    pgs_positions_clear(&seen);
    free(seen.items);
    return status;
}

static rdapsync_status pgs_flush(void *state, char *err, size_t err_size)
{
    pgs_state *st = state;
    rdapsync_status status;

    if (!st->in_transaction)
        return RDAPSYNC_OK;
    /* Every write of the transaction had its OK: all of them are lost if
     * the commit fails, which only a RETRY of a single write covers. */
    size_t acknowledged = st->writes_in_transaction > 1 ? st->writes_in_transaction : 0;
    if (st->cfg->exactly_once && st->pending.count > 0 &&
        (status = pgs_positions_store(st->conn, &st->names, st->pipeline, st->task, &st->pending, err, err_size)) !=
            RDAPSYNC_OK)
        return abort_transaction(st, status, acknowledged, err, err_size);
    if ((status = pgs_exec(st->conn, "COMMIT", err, err_size)) != RDAPSYNC_OK)
        return abort_transaction(st, status, acknowledged, err, err_size);
    st->in_transaction = false;
    st->writes_in_transaction = 0;
    st->stage_dirty = false;
    if (pgs_positions_merge(&st->committed, &st->pending) != 0) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    pgs_positions_clear(&st->pending);
    H->counter_add(st->ctx, "transactions", 1);
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "postgres",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "1.0.0",
    .description = "PostgreSQL: version-guarded upserts or an append log, optional exactly-once",
    .options = options,
    .config_size = sizeof(pgs_config),
    .check = pgs_check,
    .open = pgs_open,
    .close = pgs_close,
    .write = pgs_write,
    .flush = pgs_flush,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    pgs_host = host;
    return &descriptor;
}
