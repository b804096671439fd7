/*
 * sink mysql: keyed, version-guarded upserts (or an append-only change
 * log) into MySQL or MariaDB through the MariaDB Connector/C, in multi-row
 * INSERT ... ON DUPLICATE KEY UPDATE statements (or, with method auto or
 * load, LOAD DATA LOCAL INFILE for new keys), one transaction per flush,
 * with an optional exactly-once mode that stores source positions in the
 * same transaction (InnoDB). The table has the PostgreSQL sink's shape:
 * docs/plugins/sink-mysql.md.
 *
 * Transactions: the first write() after a commit opens one; flush() commits
 * it. A connection lost on the way (or a deadlock, which rolls the
 * transaction back on the server) answers RETRY; the next call reconnects
 * and the host writes the same batch again. Rows the server refuses for
 * their data go to host->reject with the server's message, the rest lands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mys.h"

const rdapsync_host *mys_host;
#define H mys_host

static const char *const mode_values[] = { "upsert", "append", NULL };
static const char *const doc_type_values[] = { "json", "longtext", NULL };
static const char *const tls_values[] = { "off", "required", "verify", NULL };
static const char *const method_values[] = { "auto", "load", "insert", NULL };

#define OPT(name_, type_, flags_, default_, min_, max_, enums_, field_, doc_)                                    \
    { .name = name_, .type = type_, .flags = flags_, .default_value = default_, .min = min_, .max = max_,       \
      .enum_values = enums_, .offset = offsetof(mys_config, field_), .description = doc_ }

static const rdapsync_option options[] = {
    OPT("host", RDAPSYNC_OPT_STRING, 0, "127.0.0.1", 0, 0, NULL, host, "server host name or address"),
    OPT("port", RDAPSYNC_OPT_INT, 0, "3306", 1, 65535, NULL, port, "server TCP port"),
    OPT("socket", RDAPSYNC_OPT_STRING, 0, NULL, 0, 0, NULL, socket,
        "Unix socket path; when set, used instead of host and port"),
    OPT("user", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED, NULL, 0, 0, NULL, user, "user name"),
    OPT("password", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_SECRET, NULL, 0, 0, NULL, password,
        "password; pass it with ${env:NAME} or ${file:PATH}"),
    OPT("database", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED, NULL, 0, 0, NULL, database,
        "database (schema) of the table"),
    OPT("table", RDAPSYNC_OPT_STRING, 0, "rdap_records", 0, 0, NULL, table, "table the records go to"),
    OPT("key_column", RDAPSYNC_OPT_STRING, 0, "key", 0, 0, NULL, key_column, "column holding the record key"),
    OPT("mode", RDAPSYNC_OPT_ENUM, 0, "upsert", 0, 0, mode_values, mode,
        "upsert: one row per key, version-guarded; append: one row per change"),
    OPT("create_table", RDAPSYNC_OPT_BOOL, 0, "true", 0, 0, NULL, create_table,
        "create the table (and in upsert mode the <table>_live view) if missing"),
    OPT("doc_type", RDAPSYNC_OPT_ENUM, 0, "json", 0, 0, doc_type_values, doc_type,
        "doc column of a created table: json (checked by the server) or longtext (faster)"),
    OPT("statement_rows", RDAPSYNC_OPT_INT, 0, "500", 1, 100000, NULL, statement_rows,
        "rows per INSERT statement"),
    OPT("statement_bytes", RDAPSYNC_OPT_SIZE, 0, "4M", 65536, 1073741824, NULL, statement_bytes,
        "longest INSERT statement (also kept under the server's max_allowed_packet)"),
    OPT("tls", RDAPSYNC_OPT_ENUM, 0, "off", 0, 0, tls_values, tls,
        "off, required (encrypted, certificate not checked) or verify (CA and host name checked)"),
    OPT("tls_ca", RDAPSYNC_OPT_STRING, 0, NULL, 0, 0, NULL, tls_ca, "CA certificate file for tls: verify"),
    OPT("connect_timeout", RDAPSYNC_OPT_DURATION, 0, "10s", 1000, 3600000, NULL, connect_timeout_ms,
        "how long one connection attempt may take (whole seconds)"),
    OPT("read_timeout", RDAPSYNC_OPT_DURATION, 0, "60s", 1000, 86400000, NULL, read_timeout_ms,
        "how long to wait for the server's answer before the connection counts as lost (whole seconds)"),
    OPT("exactly_once", RDAPSYNC_OPT_BOOL, 0, "false", 0, 0, NULL, exactly_once,
        "store source positions in the same transaction and resume from them"),
    OPT("positions_table", RDAPSYNC_OPT_STRING, 0, "rdapsync_positions", 0, 0, NULL, positions_table,
        "table of the exactly-once positions"),
    /* insert is the default: on MariaDB 10.11 the LOAD DATA path measured
     * slower than the statements (docs/plugins/sink-mysql.md#benchmark). */
    OPT("method", RDAPSYNC_OPT_ENUM, 0, "insert", 0, 0, method_values, method,
        "insert: INSERT statements only; auto: LOAD DATA LOCAL INFILE for new keys, INSERT statements when keys "
        "exist; load: LOAD DATA for every batch"),
    { .name = NULL },
};

static rdapsync_status check_ident(const char *what, const char *value, size_t max, char *err, size_t err_size)
{
    if (!value || !*value) {
        snprintf(err, err_size, "%s must not be empty", what);
        return RDAPSYNC_ERROR;
    }
    size_t len = strlen(value);
    if (len > max) {
        snprintf(err, err_size, "%s is longer than %zu characters, the limit of MySQL names", what, max);
        return RDAPSYNC_ERROR;
    }
    if (value[len - 1] == ' ') {
        snprintf(err, err_size, "%s must not end with a space (MySQL refuses such names)", what);
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}

static rdapsync_status mys_check(const void *config, char *err, size_t err_size)
{
    const mys_config *cfg = config;

    /* The view <table>_live needs five more characters. */
    size_t table_max = cfg->mode == MYS_MODE_UPSERT && cfg->create_table ? MYS_MAX_IDENT - 5 : MYS_MAX_IDENT;
    if (check_ident("table", cfg->table, table_max, err, err_size) != RDAPSYNC_OK ||
        check_ident("key_column", cfg->key_column, MYS_MAX_IDENT, err, err_size) != RDAPSYNC_OK ||
        check_ident("positions_table", cfg->positions_table, MYS_MAX_IDENT, err, err_size) != RDAPSYNC_OK ||
        check_ident("database", cfg->database, MYS_MAX_IDENT, err, err_size) != RDAPSYNC_OK)
        return RDAPSYNC_ERROR;
    if (!cfg->user || !*cfg->user) {
        snprintf(err, err_size, "user must not be empty");
        return RDAPSYNC_ERROR;
    }
    if ((!cfg->host || !*cfg->host) && (!cfg->socket || !*cfg->socket)) {
        snprintf(err, err_size, "give a host or a socket");
        return RDAPSYNC_ERROR;
    }
    /* Table names may be case-insensitive on the server (lower_case_table_names). */
    if (cfg->exactly_once && strcasecmp(cfg->table, cfg->positions_table) == 0) {
        snprintf(err, err_size, "positions_table must differ from table");
        return RDAPSYNC_ERROR;
    }
    if (cfg->tls == MYS_TLS_VERIFY && (!cfg->tls_ca || !*cfg->tls_ca)) {
        snprintf(err, err_size, "tls: verify needs tls_ca");
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}

static void drop_connection(mys_state *st)
{
    if (st->conn)
        mysql_close(st->conn);
    st->conn = NULL;
    st->in_transaction = false;
    st->writes_in_transaction = 0;
    mys_positions_clear(&st->pending);
}

/* The table exists with every column the statements name. */
static rdapsync_status check_table(mys_state *st, char *err, size_t err_size)
{
    char *sql = mys_printf("SELECT %s, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, "
                           "src_offset, updated_at FROM %s LIMIT 0",
                           st->names.key, st->names.table);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    char reason[512];
    rdapsync_status status = mys_exec(st->conn, sql, reason, sizeof(reason));
    free(sql);
    if (status != RDAPSYNC_OK)
        snprintf(err, err_size, "table %s is not usable: %s%s", st->names.table, reason,
                 st->cfg->create_table ? "" : " (create_table is false: the table must exist with the documented "
                                               "columns)");
    return status;
}

/* Statements stay under the server's packet limit (with room for the
 * protocol's own bytes). */
static rdapsync_status size_statements(mys_state *st, char *err, size_t err_size)
{
    char value[32];
    rdapsync_status status = mys_query_value(st->conn, "SELECT @@max_allowed_packet", value, sizeof(value), err,
                                             err_size);
    if (status != RDAPSYNC_OK)
        return status;
    unsigned long long packet = strtoull(value, NULL, 10);
    size_t limit = (size_t)st->cfg->statement_bytes;
    if (packet > 4096 && packet - 1024 < limit)
        limit = (size_t)(packet - 1024);
    st->max_statement = limit;
    return RDAPSYNC_OK;
}

/* A connection ready to write: connected, the session set up, the table,
 * the exactly-once positions, the statement size limit. */
static rdapsync_status session_start(mys_state *st, bool first, char *err, size_t err_size)
{
    const mys_config *cfg = st->cfg;
    rdapsync_status status;

    st->conn = mys_connect(cfg, &status, err, err_size);
    if (!st->conn)
        return status;
    if (first && (status = mys_schema_ensure(st->conn, cfg, &st->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (first && (status = check_table(st, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (first && (status = mys_load_check_table(st, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (cfg->exactly_once) {
        if (first && (status = mys_positions_ensure(st->conn, &st->names, err, err_size)) != RDAPSYNC_OK)
            goto fail;
        /* Also after a reconnect: a COMMIT whose answer was lost may have
         * stored positions we do not know of yet. */
        if ((status = mys_positions_load(st->conn, &st->names, st->pipeline, st->task, &st->committed, err,
                                         err_size)) != RDAPSYNC_OK)
            goto fail;
    }
    if ((status = size_statements(st, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (!first) {
        H->log(st->ctx, RDAPSYNC_LOG_INFO, "reconnected to the server");
        H->counter_add(st->ctx, "reconnects", 1);
    }
    return RDAPSYNC_OK;

fail:
    drop_connection(st);
    return status;
}

static void state_free(mys_state *st)
{
    if (!st)
        return;
    drop_connection(st);
    mys_positions_free(&st->pending);
    mys_positions_free(&st->committed);
    for (size_t i = 0; i < sizeof(st->statements) / sizeof(st->statements[0]); i++)
        mys_buffer_free(&st->statements[i]);
    mys_buffer_free(&st->load_chunk);
    free(st->statement_head);
    free(st->statement_tail);
    mys_names_free(&st->names);
    free(st->pipeline);
    free(st);
}

static rdapsync_status mys_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const mys_config *cfg = config;
    rdapsync_status status = mys_check(config, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;

    mys_state *st = calloc(1, sizeof(*st));
    if (!st)
        goto oom;
    st->ctx = ctx;
    st->cfg = cfg;
    st->task = H->task_index(ctx);
    st->pipeline = strdup(H->pipeline_name(ctx) ? H->pipeline_name(ctx) : "");
    if (!st->pipeline || mys_names_build(cfg, &st->names) != 0 ||
        mys_schema_statement(cfg, &st->names, &st->statement_head, &st->statement_tail) != 0)
        goto oom;

    if ((status = session_start(st, true, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    for (size_t i = 0; i < st->committed.count; i++) {
        const mys_position *p = &st->committed.items[i];
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

static void mys_close(void *state)
{
    /* Closing the connection rolls an open transaction back: nothing
     * unflushed is ever made durable. */
    state_free(state);
}

/*
 * Ends the open transaction after a failure. A RETRY means the host will
 * write the batch of the failed call again; if the transaction also held
 * earlier writes the host already had an OK for, they are gone with it, so
 * the answer becomes ERROR: the task restarts from its last checkpoint and
 * nothing is lost.
 */
static rdapsync_status abort_transaction(mys_state *st, rdapsync_status status, size_t acknowledged_writes,
                                         char *err, size_t err_size)
{
    if (status == RDAPSYNC_RETRY || !st->conn) {
        drop_connection(st);
    } else if (st->in_transaction) {
        char rollback_err[256];
        if (mys_exec(st->conn, "ROLLBACK", rollback_err, sizeof(rollback_err)) != RDAPSYNC_OK)
            drop_connection(st);
    }
    st->in_transaction = false;
    st->writes_in_transaction = 0;
    mys_positions_clear(&st->pending);
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

static rdapsync_status begin_transaction(mys_state *st, char *err, size_t err_size)
{
    rdapsync_status status;

    if (!st->conn && (status = session_start(st, false, err, err_size)) != RDAPSYNC_OK)
        return status;
    if (st->in_transaction)
        return RDAPSYNC_OK;
    if ((status = mys_exec(st->conn, "START TRANSACTION", err, err_size)) != RDAPSYNC_OK) {
        drop_connection(st);
        return status;
    }
    st->in_transaction = true;
    st->writes_in_transaction = 0;
    return RDAPSYNC_OK;
}

static void report(mys_state *st, const mys_tally *tally, const mys_rejects *rejects, uint64_t skipped)
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
    if (tally->statements)
        H->counter_add(st->ctx, "statements", tally->statements);
    if (tally->resent)
        H->counter_add(st->ctx, "rows_resent", tally->resent);
    if (tally->loads)
        H->counter_add(st->ctx, "loads", tally->loads);
    if (tally->loaded)
        H->counter_add(st->ctx, "rows_loaded", tally->loaded);
    if (tally->load_fallbacks)
        H->counter_add(st->ctx, "load_fallbacks", tally->load_fallbacks);
}

static rdapsync_status mys_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    mys_state *st = state;
    mys_rows rows = { 0 };
    mys_rejects rejects = { 0 };
    mys_positions seen = { 0 };
    mys_tally tally = { 0 };
    uint64_t skipped = 0;
    rdapsync_status status;

    if (H->batch_count(batch) == 0)
        return RDAPSYNC_OK;
    if ((status = begin_transaction(st, err, err_size)) != RDAPSYNC_OK)
        return status;
    size_t acknowledged = st->writes_in_transaction;

    if (mys_rows_build(batch, st->cfg->mode, st->cfg->exactly_once ? &st->committed : NULL, &rows, &rejects,
                       &skipped) != 0)
        goto oom;
    if (st->cfg->exactly_once) {
        for (size_t i = 0; i < H->batch_count(batch); i++) {
            const rdapsync_position *p = &H->batch_get(batch, i)->position;
            if (mys_positions_note(&seen, p->stream, p->partition, p->offset) != 0)
                goto oom;
        }
    }
    if ((status = mys_load_apply(st, &rows, &rejects, &tally, err, err_size)) != RDAPSYNC_OK) {
        status = abort_transaction(st, status, acknowledged, err, err_size);
        goto done;
    }
    if (mys_positions_merge(&st->pending, &seen) != 0)
        goto oom;
    st->writes_in_transaction++;
    report(st, &tally, &rejects, skipped);
    goto done;

oom:
    snprintf(err, err_size, "out of memory");
    status = abort_transaction(st, RDAPSYNC_ERROR, acknowledged, err, err_size);
done:
    mys_rows_free(&rows);
    mys_rejects_clear(&rejects);
    free(rejects.items);
    mys_positions_free(&seen);
    return status;
}

static rdapsync_status mys_flush(void *state, char *err, size_t err_size)
{
    mys_state *st = state;
    rdapsync_status status;

    if (!st->in_transaction)
        return RDAPSYNC_OK;
    /* Every write of the transaction had its OK: all of them are lost if
     * the commit fails, which only a RETRY of a single write covers. */
    size_t acknowledged = st->writes_in_transaction > 1 ? st->writes_in_transaction : 0;
    if (st->cfg->exactly_once && st->pending.count > 0 &&
        (status = mys_positions_store(st->conn, &st->names, st->pipeline, st->task, &st->pending, err, err_size)) !=
            RDAPSYNC_OK)
        return abort_transaction(st, status, acknowledged, err, err_size);
    if ((status = mys_exec(st->conn, "COMMIT", err, err_size)) != RDAPSYNC_OK)
        return abort_transaction(st, status, acknowledged, err, err_size);
    st->in_transaction = false;
    st->writes_in_transaction = 0;
    if (mys_positions_merge(&st->committed, &st->pending) != 0) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    mys_positions_clear(&st->pending);
    H->counter_add(st->ctx, "transactions", 1);
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "mysql",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "1.0.0",
    .description = "MySQL / MariaDB: version-guarded upserts or an append log, optional exactly-once",
    .options = options,
    .config_size = sizeof(mys_config),
    .check = mys_check,
    .open = mys_open,
    .close = mys_close,
    .write = mys_write,
    .flush = mys_flush,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    mys_host = host;
    return &descriptor;
}

/* Connector/C sets up its global state once, on the first mysql_init()
 * (thread-safe, pthread_once), and keeps it until mysql_library_end().
 * The host dlclose()s the plugin when it is done with it: give that state
 * back then, or it is lost with the unmapped library. */
__attribute__((destructor)) static void mys_library_end(void)
{
    mysql_library_end();
}
