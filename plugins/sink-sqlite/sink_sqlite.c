/*
 * sink sqlite: the embedded default. Keyed, version-guarded upserts (or an
 * append-only change log) into one SQLite file in WAL mode, one transaction
 * per flush, with an optional exactly-once mode that stores source
 * positions in the same transaction. The table has the PostgreSQL sink's
 * shape: docs/plugins/sink-sqlite.md.
 *
 * Transactions: the first write() after a commit opens one (BEGIN
 * IMMEDIATE: the write lock is taken up front, so a second writer waits at
 * the start rather than failing halfway); flush() commits it. A failure
 * that may pass (another writer holding the lock past busy_timeout, a full
 * disk, an I/O error) rolls back, closes the file and answers RETRY; the
 * next call opens it again and the host writes the same batch again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sqs.h"

const rdapsync_host *sqs_host;
#define H sqs_host

static const char *const mode_values[] = { "upsert", "append", NULL };
static const char *const synchronous_values[] = { "full", "normal", "extra", NULL };

#define OPT(name_, type_, flags_, default_, min_, max_, enums_, field_, doc_)                                    \
    { .name = name_, .type = type_, .flags = flags_, .default_value = default_, .min = min_, .max = max_,       \
      .enum_values = enums_, .offset = offsetof(sqs_config, field_), .description = doc_ }

static const rdapsync_option options[] = {
    OPT("path", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED, NULL, 0, 0, NULL, path,
        "database file, created with its folder if missing (relative to the working directory)"),
    OPT("table", RDAPSYNC_OPT_STRING, 0, "rdap_records", 0, 0, NULL, table, "table the records go to"),
    OPT("key_column", RDAPSYNC_OPT_STRING, 0, "key", 0, 0, NULL, key_column, "column holding the record key"),
    OPT("mode", RDAPSYNC_OPT_ENUM, 0, "upsert", 0, 0, mode_values, mode,
        "upsert: one row per key, version-guarded; append: one row per change"),
    OPT("create_table", RDAPSYNC_OPT_BOOL, 0, "true", 0, 0, NULL, create_table,
        "create the table (and in upsert mode the <table>_live view) if missing"),
    OPT("synchronous", RDAPSYNC_OPT_ENUM, 0, "full", 0, 0, synchronous_values, synchronous,
        "PRAGMA synchronous: full survives a power cut; normal only a crash of the process"),
    OPT("busy_timeout", RDAPSYNC_OPT_DURATION, 0, "5s", 0, 600000, NULL, busy_timeout_ms,
        "how long to wait for another writer's lock before answering retry"),
    OPT("exactly_once", RDAPSYNC_OPT_BOOL, 0, "false", 0, 0, NULL, exactly_once,
        "store source positions in the same transaction and resume from them"),
    OPT("positions_table", RDAPSYNC_OPT_STRING, 0, "rdapsync_positions", 0, 0, NULL, positions_table,
        "table of the exactly-once positions"),
    { .name = NULL },
};

static rdapsync_status check_name(const char *what, const char *value, char *err, size_t err_size)
{
    if (!value || !*value) {
        snprintf(err, err_size, "%s must not be empty", what);
        return RDAPSYNC_ERROR;
    }
    if (strncmp(value, "sqlite_", 7) == 0) {
        snprintf(err, err_size, "%s \"%s\": names starting with sqlite_ are reserved by SQLite", what, value);
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}

static rdapsync_status sqs_check(const void *config, char *err, size_t err_size)
{
    const sqs_config *cfg = config;

    if (!cfg->path || !*cfg->path) {
        snprintf(err, err_size, "path must not be empty");
        return RDAPSYNC_ERROR;
    }
    if (check_name("table", cfg->table, err, err_size) != RDAPSYNC_OK ||
        check_name("key_column", cfg->key_column, err, err_size) != RDAPSYNC_OK ||
        check_name("positions_table", cfg->positions_table, err, err_size) != RDAPSYNC_OK)
        return RDAPSYNC_ERROR;
    /* SQLite's names are case-insensitive (ASCII). */
    if (cfg->exactly_once && strcasecmp(cfg->table, cfg->positions_table) == 0) {
        snprintf(err, err_size, "positions_table must differ from table");
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}

static void drop_connection(sqs_state *st)
{
    sqlite3_finalize(st->write_stmt);
    sqlite3_finalize(st->position_stmt);
    st->write_stmt = NULL;
    st->position_stmt = NULL;
    /* Closing with a transaction open rolls it back. */
    sqlite3_close_v2(st->db);
    st->db = NULL;
    st->in_transaction = false;
    st->writes_in_transaction = 0;
    sqs_positions_clear(&st->pending);
}

/* A connection ready to write: the file open with its pragmas, the table,
 * the exactly-once positions, the prepared statements. */
static rdapsync_status session_start(sqs_state *st, bool first, char *err, size_t err_size)
{
    const sqs_config *cfg = st->cfg;
    rdapsync_status status;

    st->db = sqs_db_open(cfg, &status, err, err_size);
    if (!st->db)
        return status;
    if ((status = sqs_schema_ensure(st->db, cfg, &st->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (cfg->exactly_once) {
        if ((status = sqs_positions_ensure(st->db, &st->names, err, err_size)) != RDAPSYNC_OK ||
            (status = sqs_positions_load(st->db, &st->names, st->pipeline, st->task, &st->committed, err,
                                         err_size)) != RDAPSYNC_OK ||
            (status = sqs_positions_prepare(st->db, &st->names, &st->position_stmt, err, err_size)) != RDAPSYNC_OK)
            goto fail;
    }
    if ((status = sqs_schema_prepare(st->db, cfg, &st->names, &st->write_stmt, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (!first) {
        H->log(st->ctx, RDAPSYNC_LOG_INFO, "reopened %s", cfg->path);
        H->counter_add(st->ctx, "reconnects", 1);
    }
    return RDAPSYNC_OK;

fail:
    drop_connection(st);
    return status;
}

static void state_free(sqs_state *st)
{
    if (!st)
        return;
    drop_connection(st);
    sqs_positions_free(&st->pending);
    sqs_positions_free(&st->committed);
    sqs_names_free(&st->names);
    free(st->doc.data);
    free(st->pipeline);
    free(st);
}

static rdapsync_status sqs_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const sqs_config *cfg = config;
    rdapsync_status status = sqs_check(config, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;

    sqs_state *st = calloc(1, sizeof(*st));
    if (!st)
        goto oom;
    st->ctx = ctx;
    st->cfg = cfg;
    st->task = H->task_index(ctx);
    st->pipeline = strdup(H->pipeline_name(ctx) ? H->pipeline_name(ctx) : "");
    if (!st->pipeline || sqs_names_build(cfg, &st->names) != 0)
        goto oom;

    if ((status = session_start(st, true, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    for (size_t i = 0; i < st->committed.count; i++) {
        const sqs_position *p = &st->committed.items[i];
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

static void sqs_close(void *state)
{
    /* An open transaction is rolled back by closing: nothing unflushed is
     * ever made durable. */
    state_free(state);
}

/*
 * Ends the open transaction after a failure. A RETRY means the host will
 * write the batch of the failed call again; if the transaction also held
 * earlier writes the host already had an OK for, they are gone with it, so
 * the answer becomes ERROR: the task restarts from its last checkpoint and
 * nothing is lost.
 */
static rdapsync_status abort_transaction(sqs_state *st, rdapsync_status status, size_t acknowledged_writes,
                                         char *err, size_t err_size)
{
    if (status == RDAPSYNC_RETRY || !st->db) {
        drop_connection(st);
    } else if (st->in_transaction && !sqlite3_get_autocommit(st->db)) {
        char rollback_err[256];
        if (sqs_exec(st->db, "ROLLBACK", rollback_err, sizeof(rollback_err)) != RDAPSYNC_OK)
            drop_connection(st);
    }
    st->in_transaction = false;
    st->writes_in_transaction = 0;
    sqs_positions_clear(&st->pending);
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

static rdapsync_status begin_transaction(sqs_state *st, char *err, size_t err_size)
{
    rdapsync_status status;

    if (!st->db && (status = session_start(st, false, err, err_size)) != RDAPSYNC_OK)
        return status;
    if (st->in_transaction)
        return RDAPSYNC_OK;
    if ((status = sqs_exec(st->db, "BEGIN IMMEDIATE", err, err_size)) != RDAPSYNC_OK) {
        drop_connection(st);
        return status;
    }
    st->in_transaction = true;
    st->writes_in_transaction = 0;
    return RDAPSYNC_OK;
}

static void report(sqs_state *st, const sqs_tally *tally, const sqs_rejects *rejects, uint64_t skipped)
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

static rdapsync_status sqs_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    sqs_state *st = state;
    sqs_rows rows = { 0 };
    sqs_rejects rejects = { 0 };
    sqs_positions seen = { 0 };
    sqs_tally tally = { 0 };
    uint64_t skipped = 0;
    rdapsync_status status;

    if (H->batch_count(batch) == 0)
        return RDAPSYNC_OK;
    if ((status = begin_transaction(st, err, err_size)) != RDAPSYNC_OK)
        return status;
    size_t acknowledged = st->writes_in_transaction;

    if (sqs_rows_build(batch, st->cfg->mode, st->cfg->exactly_once ? &st->committed : NULL, &rows, &rejects,
                       &skipped) != 0)
        goto oom;
    if (st->cfg->exactly_once) {
        for (size_t i = 0; i < H->batch_count(batch); i++) {
            const rdapsync_position *p = &H->batch_get(batch, i)->position;
            if (sqs_positions_note(&seen, p->stream, p->partition, p->offset) != 0)
                goto oom;
        }
    }
    if ((status = sqs_apply(st, &rows, &rejects, &tally, err, err_size)) != RDAPSYNC_OK) {
        status = abort_transaction(st, status, acknowledged, err, err_size);
        goto done;
    }
    if (sqs_positions_merge(&st->pending, &seen) != 0)
        goto oom;
    st->writes_in_transaction++;
    report(st, &tally, &rejects, skipped);
    goto done;

oom:
    snprintf(err, err_size, "out of memory");
    status = abort_transaction(st, RDAPSYNC_ERROR, acknowledged, err, err_size);
done:
    sqs_rows_free(&rows);
    sqs_rejects_clear(&rejects);
    free(rejects.items);
    sqs_positions_free(&seen);
    return status;
}

static rdapsync_status sqs_flush(void *state, char *err, size_t err_size)
{
    sqs_state *st = state;
    rdapsync_status status;

    if (!st->in_transaction)
        return RDAPSYNC_OK;
    /* Every write of the transaction had its OK: all of them are lost if
     * the commit fails, which only a RETRY of a single write covers. */
    size_t acknowledged = st->writes_in_transaction > 1 ? st->writes_in_transaction : 0;
    if (st->cfg->exactly_once && st->pending.count > 0 &&
        (status = sqs_positions_store(st->db, st->position_stmt, st->pipeline, st->task, &st->pending, err,
                                      err_size)) != RDAPSYNC_OK)
        return abort_transaction(st, status, acknowledged, err, err_size);
    if ((status = sqs_exec(st->db, "COMMIT", err, err_size)) != RDAPSYNC_OK)
        return abort_transaction(st, status, acknowledged, err, err_size);
    st->in_transaction = false;
    st->writes_in_transaction = 0;
    if (sqs_positions_merge(&st->committed, &st->pending) != 0) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    sqs_positions_clear(&st->pending);
    H->counter_add(st->ctx, "transactions", 1);
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "sqlite",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "1.0.0",
    .description = "SQLite (embedded): version-guarded upserts or an append log in one WAL file, optional "
                   "exactly-once",
    .options = options,
    .config_size = sizeof(sqs_config),
    .check = sqs_check,
    .open = sqs_open,
    .close = sqs_close,
    .write = sqs_write,
    .flush = sqs_flush,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    sqs_host = host;
    return &descriptor;
}
