/*
 * sink mysql: keyed, version-guarded upserts (or an append-only change
 * log) into MySQL or MariaDB through the MariaDB Connector/C, in multi-row
 * INSERT ... ON DUPLICATE KEY UPDATE statements (or, with method auto or
 * load, LOAD DATA LOCAL INFILE for new keys), one transaction per flush,
 * with an optional exactly-once mode that stores source positions in the
 * same transaction (InnoDB). The table has the PostgreSQL sink's shape:
 * docs/plugins/sink-mysql.md.
 *
 * Transactions: the SDK's writer (rdapsync/sinktk.h) opens one at the
 * first write() after a commit and commits it at flush(). Rows the server
 * refuses for their data go to host->reject with the server's message,
 * the rest lands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mys.h"

const rdapsync_host *mys_host;
#define H mys_host

static const char *const doc_type_values[] = { "json", "longtext", NULL };
static const char *const tls_values[] = { "off", "required", "verify", NULL };
static const char *const method_values[] = { "auto", "load", "insert", NULL };

static const rdapsync_option options[] = {
    { RDAPSYNC_OPTION_STRING(mys_config, host, "127.0.0.1", "server host name or address") },
    { RDAPSYNC_OPTION_INT(mys_config, port, "3306", 1, 65535, "server TCP port") },
    { RDAPSYNC_OPTION_STRING(mys_config, socket, NULL, "Unix socket path; when set, used instead of host and port") },
    { RDAPSYNC_OPTION_STRING(mys_config, user, NULL, "user name"), .flags = RDAPSYNC_OPT_REQUIRED },
    { RDAPSYNC_OPTION_STRING(mys_config, password, NULL, "password; pass it with ${env:NAME} or ${file:PATH}"),
      .flags = RDAPSYNC_OPT_SECRET },
    { RDAPSYNC_OPTION_STRING(mys_config, database, NULL, "database (schema) of the table"),
      .flags = RDAPSYNC_OPT_REQUIRED },
    RDAPSYNC_SINKTK_OPTIONS_TABLE(mys_config),
    { RDAPSYNC_OPTION_ENUM(mys_config, doc_type, "json", doc_type_values,
                           "doc column of a created table: json (checked by the server) or longtext (faster)") },
    { RDAPSYNC_OPTION_INT(mys_config, statement_rows, "500", 1, 100000, "rows per INSERT statement") },
    { RDAPSYNC_OPTION_SIZE(mys_config, statement_bytes, "4M", 65536, 1073741824,
                           "longest INSERT statement (also kept under the server's max_allowed_packet)") },
    { RDAPSYNC_OPTION_ENUM(mys_config, tls, "off", tls_values,
                           "off, required (encrypted, certificate not checked) or verify (CA and host name checked)") },
    { RDAPSYNC_OPTION_STRING(mys_config, tls_ca, NULL, "CA certificate file for tls: verify") },
    { RDAPSYNC_OPTION_DURATION(mys_config, connect_timeout, "10s", 1000, 3600000,
                               "how long one connection attempt may take (whole seconds)") },
    { RDAPSYNC_OPTION_DURATION(mys_config, read_timeout, "60s", 1000, 86400000,
                               "how long to wait for the server's answer before the connection counts as lost "
                               "(whole seconds)") },
    RDAPSYNC_SINKTK_OPTIONS_EXACTLY_ONCE(mys_config),
    RDAPSYNC_SINKTK_OPTIONS_HISTORY(mys_config),
    RDAPSYNC_SINKTK_OPTIONS_CONFLICTS(mys_config),
    /* insert is the default: on MariaDB 10.11 the LOAD DATA path measured
     * slower than the statements (docs/plugins/sink-mysql.md#benchmark). */
    { RDAPSYNC_OPTION_ENUM(mys_config, method, "insert", method_values,
                           "insert: INSERT statements only; auto: LOAD DATA LOCAL INFILE for new keys, INSERT "
                           "statements when keys exist; load: LOAD DATA for every batch") },
    RDAPSYNC_OPTIONS_END,
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
    size_t table_max = cfg->mode == RDAPSYNC_SINKTK_UPSERT && cfg->create_table ? MYS_MAX_IDENT - 5 : MYS_MAX_IDENT;
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
    if (cfg->tls == MYS_TLS_VERIFY && (!cfg->tls_ca || !*cfg->tls_ca)) {
        snprintf(err, err_size, "tls: verify needs tls_ca");
        return RDAPSYNC_ERROR;
    }
    /* Table names may be case-insensitive on the server (lower_case_table_names). */
    if (rdapsync_sinktk_check_exactly_once(options, &cfg->set, cfg->exactly_once, cfg->table, cfg->positions_table,
                                           strcasecmp, err, err_size) != RDAPSYNC_OK)
        return RDAPSYNC_ERROR;
    char *history = NULL;
    rdapsync_status status = rdapsync_sinktk_history_option(H, cfg->history, cfg->mode, cfg->table,
                                                            cfg->exactly_once ? cfg->positions_table : NULL,
                                                            strcasecmp, &history, err, err_size);
    if (status == RDAPSYNC_OK && history)
        status = check_ident("history table", history, MYS_MAX_IDENT, err, err_size);
    free(history);
    rdapsync_sinktk_conflicts *conflicts = NULL;
    if (status == RDAPSYNC_OK)
        status = rdapsync_sinktk_conflicts_option(H, cfg->conflicts, cfg->mode, cfg->table,
                                                  cfg->exactly_once ? cfg->positions_table : NULL, strcasecmp,
                                                  &conflicts, err, err_size);
    if (status == RDAPSYNC_OK && conflicts)
        status = check_ident("conflicts table", conflicts->table, MYS_MAX_IDENT, err, err_size);
    /* <table>_heads needs six more characters than the table. */
    if (status == RDAPSYNC_OK && conflicts)
        status = check_ident("table (with conflicts)", cfg->table, MYS_MAX_IDENT - 6, err, err_size);
    rdapsync_sinktk_conflicts_free(conflicts);
    return status;
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

/* ---- the store's operations (rdapsync/sinktk.h) ---- */

static void store_disconnect(void *store)
{
    mys_state *st = store;
    if (st->conn)
        mysql_close(st->conn);
    st->conn = NULL;
}

/* A connection ready to write: connected, the session set up, at open the
 * table and the exactly-once positions table, the statement size limit. */
static rdapsync_status store_connect(void *store, bool first, char *err, size_t err_size)
{
    mys_state *st = store;
    const mys_config *cfg = st->cfg;
    rdapsync_status status;

    st->conn = mys_connect(cfg, &status, err, err_size);
    if (!st->conn)
        return status;
    if (first && ((status = mys_schema_ensure(st->conn, cfg, &st->names, err, err_size)) != RDAPSYNC_OK ||
                  (status = check_table(st, err, err_size)) != RDAPSYNC_OK ||
                  (status = mys_load_check_table(st, err, err_size)) != RDAPSYNC_OK))
        goto fail;
    if (first && cfg->exactly_once &&
        (status = mys_positions_ensure(st->conn, &st->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (first && cfg->create_table && st->names.history &&
        (status = mys_history_ensure(st->conn, &st->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (first && cfg->create_table && st->names.heads &&
        (status = mys_mvr_ensure(st->conn, &st->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if ((status = size_statements(st, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (!first) {
        H->log(st->ctx, RDAPSYNC_LOG_INFO, "reconnected to the server");
        H->counter_add(st->ctx, "reconnects", 1);
    }
    return RDAPSYNC_OK;

fail:
    store_disconnect(st);
    return status;
}

static rdapsync_status store_begin(void *store, char *err, size_t err_size)
{
    return mys_exec(((mys_state *)store)->conn, "START TRANSACTION", err, err_size);
}

static rdapsync_status store_commit(void *store, char *err, size_t err_size)
{
    return mys_exec(((mys_state *)store)->conn, "COMMIT", err, err_size);
}

static rdapsync_status store_rollback(void *store, char *err, size_t err_size)
{
    return mys_exec(((mys_state *)store)->conn, "ROLLBACK", err, err_size);
}

/* The direct path or the statements; the sink's own counts become the
 * toolkit's counters (five names: within RDAPSYNC_SINKTK_TALLY_EXTRA, so
 * adding them cannot fail). */
static rdapsync_status store_apply(void *store, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                                   rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    mys_tally counts = { 0 };
    rdapsync_status status = mys_load_apply(store, plan, rejects, &counts, err, err_size);
    if (status == RDAPSYNC_OK && ((mys_state *)store)->names.history)
        status = mys_history_apply(store, plan, rejects, err, err_size);
    tally->applied = counts.applied;
    tally->stale = counts.stale;
    (void)rdapsync_sinktk_tally_add(tally, "statements", counts.statements);
    (void)rdapsync_sinktk_tally_add(tally, "rows_resent", counts.resent);
    (void)rdapsync_sinktk_tally_add(tally, "loads", counts.loads);
    (void)rdapsync_sinktk_tally_add(tally, "rows_loaded", counts.loaded);
    (void)rdapsync_sinktk_tally_add(tally, "load_fallbacks", counts.load_fallbacks);
    return status;
}

static rdapsync_status store_load_positions(void *store, const char *pipeline, int task,
                                            rdapsync_sinktk_positions *out, char *err, size_t err_size)
{
    mys_state *st = store;
    return mys_positions_load(st->conn, &st->names, pipeline, task, out, err, err_size);
}

static rdapsync_status store_save_positions(void *store, const char *pipeline, int task,
                                            const rdapsync_sinktk_positions *positions, char *err, size_t err_size)
{
    mys_state *st = store;
    return mys_positions_store(st->conn, &st->names, pipeline, task, positions, err, err_size);
}

static rdapsync_status store_heads_load(void *store, rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                        size_t err_size)
{
    return mys_mvr_load(store, keys, count, err, err_size);
}

static rdapsync_status store_heads_write(void *store, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                         size_t err_size)
{
    return mys_mvr_write(store, keys, count, err, err_size);
}

static rdapsync_status store_conflicts_open(void *store, uint64_t *count, char *err, size_t err_size)
{
    return mys_mvr_open_count(store, count, err, err_size);
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
};

/* ---- the plugin's callbacks ---- */

static void state_free(mys_state *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < sizeof(st->statements) / sizeof(st->statements[0]); i++)
        mys_buffer_free(&st->statements[i]);
    mys_buffer_free(&st->load_chunk);
    free(st->statement_head);
    free(st->statement_tail);
    mys_names_free(&st->names);
    free(st->history_table);
    rdapsync_sinktk_conflicts_free(st->conflicts);
    free(st);
}

static rdapsync_status mys_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const mys_config *cfg = config;
    rdapsync_status status = mys_check(config, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;

    mys_state *st = calloc(1, sizeof(*st));
    if (st && (status = rdapsync_sinktk_history_option(H, cfg->history, cfg->mode, cfg->table, NULL, strcasecmp,
                                                       &st->history_table, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    if (st && (status = rdapsync_sinktk_conflicts_option(H, cfg->conflicts, cfg->mode, cfg->table, NULL, strcasecmp,
                                                         &st->conflicts, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    if (!st || mys_names_build(cfg, st->history_table, st->conflicts ? st->conflicts->table : NULL, &st->names) != 0 ||
        mys_schema_statement(cfg, &st->names, &st->statement_head, &st->statement_tail) != 0) {
        state_free(st);
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    st->ctx = ctx;
    st->cfg = cfg;
    rdapsync_sinktk_writer_config writer = {
        .host = H,
        .ctx = ctx,
        .ops = &store_ops,
        .store = st,
        .label = "mysql sink",
        .mode = (rdapsync_sinktk_mode)cfg->mode,
        .exactly_once = cfg->exactly_once,
        .conflicts = st->conflicts,
    };
    if ((status = rdapsync_sinktk_writer_open(&st->writer, &writer, err, err_size)) != RDAPSYNC_OK) {
        state_free(st);
        return status;
    }
    *state = st;
    return RDAPSYNC_OK;
}

static void mys_close(void *state)
{
    mys_state *st = state;
    /* Closing the connection rolls an open transaction back: nothing
     * unflushed is ever made durable. */
    rdapsync_sinktk_writer_close(&st->writer);
    state_free(st);
}

/* A connection lost on the way (or a deadlock, which rolls the transaction
 * back on the server) answers RETRY; the next write reconnects and the
 * host writes the same batch again. */
static rdapsync_status mys_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    return rdapsync_sinktk_writer_write(&((mys_state *)state)->writer, batch, err, err_size);
}

static rdapsync_status mys_flush(void *state, char *err, size_t err_size)
{
    return rdapsync_sinktk_writer_flush(&((mys_state *)state)->writer, err, err_size);
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "mysql",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "1.0.0",
    .description = "MySQL / MariaDB: version-guarded upserts or an append log, optional exactly-once",
    .options = options,
    .config_size = sizeof(mys_config),
    RDAPSYNC_OPTIONS_SET_IN(mys_config, set),
    .check = mys_check,
    .open = mys_open,
    .close = mys_close,
    .write = mys_write,
    .flush = mys_flush,
    .subject_find = mys_subject_find,
    .subject_erase = mys_subject_erase,
    .retention_purge = mys_retention_purge,
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
