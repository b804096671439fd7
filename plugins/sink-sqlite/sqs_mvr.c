/*
 * The multi-value register's tables (conflicts: {...}; rdapsync/sinktk.h,
 * "Multi-value register"): <table>_heads keeps each key's heads as the
 * toolkit's JSON text, the key's row in the data table shows the visible
 * document, and the conflict log keeps one row per key that had several
 * heads. All in the flush's transaction, so a replay finds the heads it
 * left and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqs.h"

#define SQS_NOW "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now')"

static char *create_heads_sql(const sqs_names *n)
{
    return sqs_printf("CREATE TABLE IF NOT EXISTS %s (%s TEXT PRIMARY KEY NOT NULL, heads TEXT NOT NULL)", n->heads,
                      n->key);
}

static char *create_log_sql(const sqs_names *n)
{
    return sqs_printf("CREATE TABLE IF NOT EXISTS %s (%s TEXT PRIMARY KEY NOT NULL, heads TEXT NOT NULL, "
                      "strategy TEXT NOT NULL, detected_at TEXT NOT NULL, resolved_at TEXT)",
                      n->conflicts, n->key);
}

/* The statements, in the order of sqs_state.mvr. */
static char *statement_sql(const sqs_names *n, int which)
{
    switch (which) {
    case SQS_MVR_SELECT:
        return sqs_printf("SELECT heads FROM %s WHERE %s = ?1", n->heads, n->key);
    case SQS_MVR_HEADS:
        return sqs_printf("INSERT INTO %1$s (%2$s, heads) VALUES (?1, ?2) ON CONFLICT (%2$s) DO UPDATE SET "
                          "heads = excluded.heads",
                          n->heads, n->key);
    case SQS_MVR_LIVE:
        return sqs_upsert_sql(n, false);
    case SQS_MVR_OPEN:
        /* A resolved row that conflicts again starts a new detection. */
        return sqs_printf("INSERT INTO %1$s (%2$s, heads, strategy, detected_at) VALUES (?1, ?2, ?3, " SQS_NOW ") "
                          "ON CONFLICT (%2$s) DO UPDATE SET heads = excluded.heads, strategy = excluded.strategy, "
                          "detected_at = CASE WHEN %1$s.resolved_at IS NULL THEN %1$s.detected_at "
                          "ELSE excluded.detected_at END, resolved_at = NULL",
                          n->conflicts, n->key);
    case SQS_MVR_RESOLVE:
        return sqs_printf("UPDATE %s SET heads = ?2, resolved_at = " SQS_NOW " WHERE %s = ?1 AND resolved_at IS NULL",
                          n->conflicts, n->key);
    }
    return NULL;
}

static rdapsync_status run(sqlite3 *db, char *sql, char *err, size_t err_size)
{
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = sqs_exec(db, sql, err, err_size);
    free(sql);
    return status;
}

rdapsync_status sqs_mvr_prepare(sqs_state *st, char *err, size_t err_size)
{
    rdapsync_status status;
    if (st->cfg->create_table && ((status = run(st->db, create_heads_sql(&st->names), err, err_size)) != RDAPSYNC_OK ||
                                  (status = run(st->db, create_log_sql(&st->names), err, err_size)) != RDAPSYNC_OK))
        return status;
    for (int i = 0; i < SQS_MVR_COUNT; i++) {
        char *sql = statement_sql(&st->names, i);
        if (!sql) {
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
        int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->mvr[i], NULL);
        free(sql);
        if (rc != SQLITE_OK) {
            char reason[512];
            sqs_error_text(st->db, rc, reason, sizeof reason);
            snprintf(err, err_size, "cannot prepare the conflicts statements (tables %s, %s): %s", st->names.heads,
                     st->names.conflicts, reason);
            return sqs_failure_status(sqs_classify(rc));
        }
    }
    return RDAPSYNC_OK;
}

void sqs_mvr_finalize(sqs_state *st)
{
    for (int i = 0; i < SQS_MVR_COUNT; i++) {
        sqlite3_finalize(st->mvr[i]);
        st->mvr[i] = NULL;
    }
}

/* Fails the write: a failure here is the store's, not one record's. */
static rdapsync_status failed(sqs_state *st, int rc, char *err, size_t err_size)
{
    char reason[512];
    if (rc == SQLITE_NOMEM)
        snprintf(reason, sizeof reason, "out of memory");
    else
        sqs_error_text(st->db, rc, reason, sizeof reason);
    snprintf(err, err_size, "conflicts tables %s / %s: %s", st->names.heads, st->names.conflicts, reason);
    sqs_failure failure = rc == SQLITE_NOMEM ? SQS_FAIL_FATAL : sqs_classify(rc);
    return sqs_failure_status(failure == SQS_FAIL_DATA ? SQS_FAIL_FATAL : failure);
}

rdapsync_status sqs_mvr_load(sqs_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err, size_t err_size)
{
    sqlite3_stmt *s = st->mvr[SQS_MVR_SELECT];
    for (size_t i = 0; i < count; i++) {
        int rc = sqlite3_bind_text(s, 1, keys[i].record->key, (int)keys[i].record->key_len, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            const char *text = (const char *)sqlite3_column_text(s, 0);
            size_t len = (size_t)sqlite3_column_bytes(s, 0);
            keys[i].stored = text ? malloc(len + 1) : NULL;
            if (text && !keys[i].stored)
                rc = SQLITE_NOMEM;
            else if (text) {
                memcpy(keys[i].stored, text, len + 1);
                keys[i].stored_len = len;
                rc = SQLITE_DONE;
            }
        }
        sqlite3_reset(s);
        if (rc != SQLITE_DONE)
            return failed(st, rc, err, err_size);
    }
    return RDAPSYNC_OK;
}

static int bind_live(sqlite3_stmt *s, const rdapsync_sinktk_mvr_key *key)
{
    const rdapsync_record *r = key->record;
    int rc = sqlite3_bind_text(s, SQS_P_KEY, r->key, (int)r->key_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = key->doc ? sqlite3_bind_text(s, SQS_P_DOC, key->doc, -1, SQLITE_STATIC) : sqlite3_bind_null(s, SQS_P_DOC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, SQS_P_DELETED, key->doc == NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, SQS_P_TS, key->version.event_time_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, SQS_P_ORIGIN, key->version.origin, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, SQS_P_SEQ, key->version.sequence);
    if (rc == SQLITE_OK)
        rc = r->position.stream ? sqlite3_bind_text(s, SQS_P_STREAM, r->position.stream, -1, SQLITE_STATIC)
                                : sqlite3_bind_null(s, SQS_P_STREAM);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, SQS_P_PARTITION, r->position.partition);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, SQS_P_OFFSET, r->position.offset);
    return rc;
}

static int step(sqlite3_stmt *s, int rc)
{
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int write_key(sqs_state *st, const rdapsync_sinktk_mvr_key *key, const char *strategy)
{
    const rdapsync_record *r = key->record;
    sqlite3_stmt *heads = st->mvr[SQS_MVR_HEADS], *live = st->mvr[SQS_MVR_LIVE];
    int rc = sqlite3_bind_text(heads, 1, r->key, (int)r->key_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(heads, 2, key->heads, -1, SQLITE_STATIC);
    if ((rc = step(heads, rc)) != SQLITE_OK || (rc = step(live, bind_live(live, key))) != SQLITE_OK)
        return rc;
    if (key->log == RDAPSYNC_SINKTK_LOG_NONE)
        return SQLITE_OK;
    sqlite3_stmt *log = st->mvr[key->log == RDAPSYNC_SINKTK_LOG_OPEN ? SQS_MVR_OPEN : SQS_MVR_RESOLVE];
    rc = sqlite3_bind_text(log, 1, r->key, (int)r->key_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(log, 2, key->log_heads, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && key->log == RDAPSYNC_SINKTK_LOG_OPEN)
        rc = sqlite3_bind_text(log, 3, strategy, -1, SQLITE_STATIC);
    return step(log, rc);
}

rdapsync_status sqs_mvr_write(sqs_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                              size_t err_size)
{
    const char *strategy = rdapsync_sinktk_strategy_names[st->conflicts->strategy];
    for (size_t i = 0; i < count; i++) {
        int rc = write_key(st, &keys[i], strategy);
        if (rc != SQLITE_OK)
            return failed(st, rc, err, err_size);
    }
    return RDAPSYNC_OK;
}

rdapsync_status sqs_mvr_open_count(sqs_state *st, uint64_t *count, char *err, size_t err_size)
{
    char *sql = sqs_printf("SELECT count(*) FROM %s WHERE resolved_at IS NULL", st->names.conflicts);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    free(sql);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        *count = (uint64_t)sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_OK ? RDAPSYNC_OK : failed(st, rc, err, err_size);
}
