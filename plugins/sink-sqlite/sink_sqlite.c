/*
 * sink sqlite: the embedded default. Keyed, version-guarded upserts (or an
 * append-only change log) into one SQLite file in WAL mode, one transaction
 * per flush, with an optional exactly-once mode that stores source
 * positions in the same transaction. The table has the PostgreSQL sink's
 * shape: docs/plugins/sink-sqlite.md.
 *
 * Transactions: the SDK's writer (rdapsync/sinktk.h) opens one at the
 * first write() after a commit and commits it at flush(); this file tells
 * it how, in SQLite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sqs.h"

const rdapsync_host *sqs_host;
#define H sqs_host

static const char *const synchronous_values[] = { "full", "normal", "extra", NULL };

static const rdapsync_option options[] = {
    { RDAPSYNC_OPTION_STRING(sqs_config, path, NULL,
                             "database file, created with its folder if missing (relative to the working directory)"),
      .flags = RDAPSYNC_OPT_REQUIRED },
    RDAPSYNC_SINKTK_OPTIONS_TABLE(sqs_config),
    { RDAPSYNC_OPTION_ENUM(sqs_config, synchronous, "full", synchronous_values,
                           "PRAGMA synchronous: full survives a power cut; normal only a crash of the process") },
    { RDAPSYNC_OPTION_DURATION(sqs_config, busy_timeout, "5s", 0, 600000,
                               "how long to wait for another writer's lock before answering retry") },
    RDAPSYNC_SINKTK_OPTIONS_EXACTLY_ONCE(sqs_config),
    RDAPSYNC_SINKTK_OPTIONS_HISTORY(sqs_config),
    RDAPSYNC_SINKTK_OPTIONS_CONFLICTS(sqs_config),
    RDAPSYNC_OPTIONS_END,
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
    if (rdapsync_sinktk_check_exactly_once(options, &cfg->set, cfg->exactly_once, cfg->table, cfg->positions_table,
                                           strcasecmp, err, err_size) != RDAPSYNC_OK)
        return RDAPSYNC_ERROR;
    char *history = NULL;
    rdapsync_status status = rdapsync_sinktk_history_option(H, cfg->history, cfg->mode, cfg->table,
                                                            cfg->exactly_once ? cfg->positions_table : NULL,
                                                            strcasecmp, &history, err, err_size);
    if (status == RDAPSYNC_OK && history)
        status = check_name("history table", history, err, err_size);
    free(history);
    rdapsync_sinktk_conflicts *conflicts = NULL;
    if (status == RDAPSYNC_OK)
        status = rdapsync_sinktk_conflicts_option(H, cfg->conflicts, cfg->mode, cfg->table,
                                                  cfg->exactly_once ? cfg->positions_table : NULL, strcasecmp,
                                                  &conflicts, err, err_size);
    if (status == RDAPSYNC_OK && conflicts)
        status = check_name("conflicts table", conflicts->table, err, err_size);
    rdapsync_sinktk_conflicts_free(conflicts);
    return status;
}

/* ---- the store's operations (rdapsync/sinktk.h) ---- */

static void store_disconnect(void *store)
{
    sqs_state *st = store;
    sqlite3_finalize(st->write_stmt);
    sqlite3_finalize(st->position_stmt);
    sqlite3_finalize(st->history_insert);
    sqlite3_finalize(st->history_close);
    st->write_stmt = NULL;
    st->position_stmt = NULL;
    st->history_insert = NULL;
    st->history_close = NULL;
    sqs_mvr_finalize(st);
    /* Closing with a transaction open rolls it back. */
    sqlite3_close_v2(st->db);
    st->db = NULL;
}

/* A connection ready to write: the file open with its pragmas, the table,
 * the exactly-once positions table, the prepared statements. */
static rdapsync_status store_connect(void *store, bool first, char *err, size_t err_size)
{
    sqs_state *st = store;
    const sqs_config *cfg = st->cfg;
    rdapsync_status status;

    st->db = sqs_db_open(cfg, &status, err, err_size);
    if (!st->db)
        return status;
    if ((status = sqs_schema_ensure(st->db, cfg, &st->names, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (cfg->exactly_once &&
        ((status = sqs_positions_ensure(st->db, &st->names, err, err_size)) != RDAPSYNC_OK ||
         (status = sqs_positions_prepare(st->db, &st->names, &st->position_stmt, err, err_size)) != RDAPSYNC_OK))
        goto fail;
    if ((status = sqs_schema_prepare(st->db, cfg, &st->names, &st->write_stmt, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (st->names.history && (status = sqs_history_prepare(st, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (st->conflicts && (status = sqs_mvr_prepare(st, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    if (!first) {
        H->log(st->ctx, RDAPSYNC_LOG_INFO, "reopened %s", cfg->path);
        H->counter_add(st->ctx, "reconnects", 1);
    }
    return RDAPSYNC_OK;

fail:
    store_disconnect(st);
    return status;
}

/* BEGIN IMMEDIATE: the write lock is taken up front, so a second writer
 * waits at the start rather than failing halfway. */
static rdapsync_status store_begin(void *store, char *err, size_t err_size)
{
    return sqs_exec(((sqs_state *)store)->db, "BEGIN IMMEDIATE", err, err_size);
}

static rdapsync_status store_commit(void *store, char *err, size_t err_size)
{
    return sqs_exec(((sqs_state *)store)->db, "COMMIT", err, err_size);
}

static rdapsync_status store_rollback(void *store, char *err, size_t err_size)
{
    sqs_state *st = store;
    /* Some errors (a full disk, I/O) already rolled the transaction back. */
    if (sqlite3_get_autocommit(st->db))
        return RDAPSYNC_OK;
    return sqs_exec(st->db, "ROLLBACK", err, err_size);
}

static rdapsync_status store_apply(void *store, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                                   rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    sqs_state *st = store;
    rdapsync_status status = sqs_apply(st, plan, rejects, tally, err, err_size);
    if (status == RDAPSYNC_OK && st->names.history)
        status = sqs_history_apply(st, plan, rejects, err, err_size);
    return status;
}

static rdapsync_status store_load_positions(void *store, const char *pipeline, int task,
                                            rdapsync_sinktk_positions *out, char *err, size_t err_size)
{
    sqs_state *st = store;
    return sqs_positions_load(st->db, &st->names, pipeline, task, out, err, err_size);
}

static rdapsync_status store_save_positions(void *store, const char *pipeline, int task,
                                            const rdapsync_sinktk_positions *positions, char *err, size_t err_size)
{
    sqs_state *st = store;
    return sqs_positions_store(st->db, st->position_stmt, pipeline, task, positions, err, err_size);
}

static rdapsync_status store_heads_load(void *store, rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                        size_t err_size)
{
    return sqs_mvr_load(store, keys, count, err, err_size);
}

static rdapsync_status store_heads_write(void *store, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                         size_t err_size)
{
    return sqs_mvr_write(store, keys, count, err, err_size);
}

static rdapsync_status store_conflicts_open(void *store, uint64_t *count, char *err, size_t err_size)
{
    return sqs_mvr_open_count(store, count, err, err_size);
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

static void state_free(sqs_state *st)
{
    if (!st)
        return;
    sqs_names_free(&st->names);
    free(st->history_table);
    rdapsync_sinktk_conflicts_free(st->conflicts);
    free(st->doc.data);
    free(st);
}

static rdapsync_status sqs_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const sqs_config *cfg = config;
    rdapsync_status status = sqs_check(config, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;

    sqs_state *st = calloc(1, sizeof(*st));
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
    if (!st || sqs_names_build(cfg, st->history_table, st->conflicts ? st->conflicts->table : NULL, &st->names) != 0) {
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
        .label = "sqlite sink",
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

static void sqs_close(void *state)
{
    sqs_state *st = state;
    /* An open transaction is rolled back by closing: nothing unflushed is
     * ever made durable. */
    rdapsync_sinktk_writer_close(&st->writer);
    state_free(st);
}

/* A failure that may pass (another writer holding the lock past
 * busy_timeout, a full disk, an I/O error) rolls back, closes the file and
 * answers RETRY; the next write opens it again and the host writes the
 * same batch again. */
static rdapsync_status sqs_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    return rdapsync_sinktk_writer_write(&((sqs_state *)state)->writer, batch, err, err_size);
}

static rdapsync_status sqs_flush(void *state, char *err, size_t err_size)
{
    return rdapsync_sinktk_writer_flush(&((sqs_state *)state)->writer, err, err_size);
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
    RDAPSYNC_OPTIONS_SET_IN(sqs_config, set),
    .check = sqs_check,
    .open = sqs_open,
    .close = sqs_close,
    .write = sqs_write,
    .flush = sqs_flush,
    .subject_find = sqs_subject_find,
    .subject_erase = sqs_subject_erase,
    .retention_purge = sqs_retention_purge,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    sqs_host = host;
    return &descriptor;
}
