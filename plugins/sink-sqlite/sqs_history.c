/*
 * The history table (history: { table: NAME }): every applied version of a
 * key, appended in the flush's transaction, with valid_from/valid_to
 * (rdapsync/sinktk.h, "History tables"; docs/schema-and-history.md).
 * INSERT ... ON CONFLICT DO NOTHING on (key, valid_from, origin, seq)
 * makes a replay add nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqs.h"

static char *create_sql(const sqs_names *names)
{
    return sqs_printf("CREATE TABLE IF NOT EXISTS %1$s ("
                      "%2$s TEXT NOT NULL, "
                      "valid_from INTEGER NOT NULL, "
                      "origin TEXT NOT NULL DEFAULT '', "
                      "seq INTEGER NOT NULL, "
                      "valid_to INTEGER, "
                      "deleted INTEGER NOT NULL DEFAULT 0, "
                      "doc TEXT, "
                      "retention_until TEXT, "
                      "recorded_at TEXT NOT NULL DEFAULT (strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now')), "
                      "PRIMARY KEY (%2$s, valid_from, origin, seq))",
                      names->history, names->key);
}

static rdapsync_status prepare(sqlite3 *db, char *sql, sqlite3_stmt **out, const char *table, char *err,
                               size_t err_size)
{
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    free(sql);
    if (rc == SQLITE_OK)
        return RDAPSYNC_OK;
    char reason[512];
    sqs_error_text(db, rc, reason, sizeof(reason));
    snprintf(err, err_size, "cannot prepare the history statements on table %s: %s", table, reason);
    return sqs_failure_status(sqs_classify(rc));
}

rdapsync_status sqs_history_prepare(sqs_state *st, char *err, size_t err_size)
{
    const sqs_names *names = &st->names;
    rdapsync_status status;
    if (st->cfg->create_table) {
        char *sql = create_sql(names);
        if (!sql) {
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
        status = sqs_exec(st->db, sql, err, err_size);
        free(sql);
        if (status != RDAPSYNC_OK)
            return status;
    }
    char *head = rdapsync_sinktk_history_insert_head(names->history, names->key);
    char *insert = head ? sqs_printf("%s(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING", head) : NULL;
    free(head);
    if ((status = prepare(st->db, insert, &st->history_insert, names->history, err, err_size)) != RDAPSYNC_OK)
        return status;
    return prepare(st->db, rdapsync_sinktk_history_close_sql(names->history, names->key, "= ?1"), &st->history_close,
                   names->history, err, err_size);
}

typedef struct history_run {
    sqs_state *st;
    int rc;
} history_run;

static int bind_version(sqs_state *st, const rdapsync_record *record)
{
    sqlite3_stmt *s = st->history_insert;
    bool deleted = record->op == RDAPSYNC_OP_DELETE;
    const char *retention = rdapsync_sinktk_retention_until(sqs_host, record->value);
    char *doc = deleted ? NULL : sqs_host->json->dump(record->value, 0, NULL);
    int rc;

    if (!deleted && !doc)
        return SQLITE_NOMEM;
    rc = sqlite3_bind_text(s, 1, record->key, (int)record->key_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, record->version.event_time_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 3, record->version.origin ? record->version.origin : "", -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, record->version.sequence);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 5, deleted);
    if (rc == SQLITE_OK)
        rc = doc ? sqlite3_bind_text(s, 6, doc, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, 6);
    if (rc == SQLITE_OK)
        rc = retention ? sqlite3_bind_text(s, 7, retention, -1, SQLITE_STATIC) : sqlite3_bind_null(s, 7);
    sqs_host->free(doc);
    return rc;
}

static int step(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int one_version(const rdapsync_record *record, bool last, void *opaque)
{
    history_run *run = opaque;
    sqs_state *st = run->st;
    int rc = bind_version(st, record);
    if (rc == SQLITE_OK)
        rc = step(st->history_insert);
    if (rc == SQLITE_OK && last) {
        rc = sqlite3_bind_text(st->history_close, 1, record->key, (int)record->key_len, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = step(st->history_close);
    }
    run->rc = rc;
    return rc == SQLITE_OK ? 0 : 1;
}

rdapsync_status sqs_history_apply(sqs_state *st, const rdapsync_sinktk_plan *plan,
                                  const rdapsync_sinktk_rejects *rejects, char *err, size_t err_size)
{
    history_run run = {st, SQLITE_OK};
    if (rdapsync_sinktk_history_each(plan, rejects, one_version, &run) == 0)
        return RDAPSYNC_OK;
    char reason[512];
    if (run.rc == SQLITE_NOMEM)
        snprintf(reason, sizeof reason, "out of memory");
    else
        sqs_error_text(st->db, run.rc, reason, sizeof reason);
    snprintf(err, err_size, "history table %s: %s", st->names.history, reason);
    /* A data error here is not one record's fault alone: fail the write. */
    sqs_failure failure = run.rc == SQLITE_NOMEM ? SQS_FAIL_FATAL : sqs_classify(run.rc);
    return sqs_failure_status(failure == SQS_FAIL_DATA ? SQS_FAIL_FATAL : failure);
}
