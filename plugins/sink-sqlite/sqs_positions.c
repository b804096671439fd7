/*
 * Exactly-once: the source positions this task has made durable live in a
 * table of the sink's own, written in the same transaction as the rows.
 * The SDK's writer decides when they are read and written (on open they
 * override the host's checkpoint file, which may lag one flush behind
 * after a kill -9; on every write they filter out records already in);
 * this file only knows the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqs.h"

rdapsync_status sqs_positions_ensure(sqlite3 *db, const sqs_names *names, char *err, size_t err_size)
{
    char *sql = sqs_printf("CREATE TABLE IF NOT EXISTS %s (pipeline TEXT NOT NULL, task INTEGER NOT NULL, "
                           "stream TEXT NOT NULL, \"partition\" INTEGER NOT NULL, \"offset\" INTEGER NOT NULL, "
                           "updated_at TEXT NOT NULL DEFAULT (strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now')), "
                           "PRIMARY KEY (pipeline, task, stream, \"partition\"))",
                           names->positions);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = sqs_exec(db, sql, err, err_size);
    free(sql);
    return status;
}

static rdapsync_status prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, char *err, size_t err_size)
{
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    int rc = sqlite3_prepare_v2(db, sql, -1, out, NULL);
    if (rc == SQLITE_OK)
        return RDAPSYNC_OK;
    sqs_error_text(db, rc, err, err_size);
    return sqs_failure_status(sqs_classify(rc));
}

rdapsync_status sqs_positions_load(sqlite3 *db, const sqs_names *names, const char *pipeline, int task,
                                   rdapsync_sinktk_positions *out, char *err, size_t err_size)
{
    sqlite3_stmt *stmt = NULL;
    char *sql = sqs_printf("SELECT stream, \"partition\", \"offset\" FROM %s WHERE pipeline = ?1 AND task = ?2",
                           names->positions);
    rdapsync_status status = prepare(db, sql, &stmt, err, err_size);
    free(sql);
    if (status != RDAPSYNC_OK)
        return status;
    sqlite3_bind_text(stmt, 1, pipeline, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, task);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *stream = (const char *)sqlite3_column_text(stmt, 0);
        if (rdapsync_sinktk_positions_note(out, stream ? stream : "", (int32_t)sqlite3_column_int(stmt, 1),
                               sqlite3_column_int64(stmt, 2)) != 0) {
            sqlite3_finalize(stmt);
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
    }
    if (rc != SQLITE_DONE) {
        sqs_error_text(db, rc, err, err_size);
        status = sqs_failure_status(sqs_classify(rc));
    }
    sqlite3_finalize(stmt);
    return status;
}

rdapsync_status sqs_positions_prepare(sqlite3 *db, const sqs_names *names, sqlite3_stmt **out, char *err,
                                      size_t err_size)
{
    char *sql = sqs_printf("INSERT INTO %s (pipeline, task, stream, \"partition\", \"offset\") "
                           "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (pipeline, task, stream, \"partition\") "
                           "DO UPDATE SET \"offset\" = excluded.\"offset\", "
                           "updated_at = strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now')",
                           names->positions);
    rdapsync_status status = prepare(db, sql, out, err, err_size);
    free(sql);
    return status;
}

rdapsync_status sqs_positions_store(sqlite3 *db, sqlite3_stmt *stmt, const char *pipeline, int task,
                                    const rdapsync_sinktk_positions *positions, char *err, size_t err_size)
{
    for (size_t i = 0; i < positions->count; i++) {
        const rdapsync_sinktk_position *p = &positions->items[i];
        sqlite3_bind_text(stmt, 1, pipeline, -1, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 2, task);
        sqlite3_bind_text(stmt, 3, p->stream, -1, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 4, p->partition);
        sqlite3_bind_int64(stmt, 5, p->offset);
        int rc = sqlite3_step(stmt);
        if (rc != SQLITE_DONE)
            sqs_error_text(db, rc, err, err_size);
        sqlite3_reset(stmt);
        if (rc != SQLITE_DONE) {
            sqs_failure failure = sqs_classify(rc);
            return sqs_failure_status(failure == SQS_FAIL_DATA ? SQS_FAIL_FATAL : failure);
        }
    }
    return RDAPSYNC_OK;
}
