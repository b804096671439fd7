/*
 * Exactly-once: the source positions this task has made durable live in a
 * table of the sink's own, written in the same transaction as the rows. On
 * open they override the host's checkpoint file (which may lag one flush
 * behind after a kill -9); on every write they also filter out records the
 * table says are already in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqs.h"

static const char *stream_or_empty(const char *stream)
{
    return stream ? stream : "";
}

int64_t sqs_positions_find(const sqs_positions *positions, const char *stream, int32_t partition)
{
    stream = stream_or_empty(stream);
    for (size_t i = 0; i < positions->count; i++)
        if (positions->items[i].partition == partition && strcmp(positions->items[i].stream, stream) == 0)
            return positions->items[i].offset;
    return -1;
}

int sqs_positions_note(sqs_positions *positions, const char *stream, int32_t partition, int64_t offset)
{
    stream = stream_or_empty(stream);
    for (size_t i = 0; i < positions->count; i++) {
        sqs_position *p = &positions->items[i];
        if (p->partition == partition && strcmp(p->stream, stream) == 0) {
            if (offset > p->offset)
                p->offset = offset;
            return 0;
        }
    }
    if (positions->count == positions->capacity) {
        size_t capacity = positions->capacity ? positions->capacity * 2 : 4;
        sqs_position *items = realloc(positions->items, capacity * sizeof(*items));
        if (!items)
            return -1;
        positions->items = items;
        positions->capacity = capacity;
    }
    char *copy = strdup(stream);
    if (!copy)
        return -1;
    positions->items[positions->count++] = (sqs_position){ .stream = copy, .partition = partition, .offset = offset };
    return 0;
}

int sqs_positions_merge(sqs_positions *into, const sqs_positions *from)
{
    for (size_t i = 0; i < from->count; i++)
        if (sqs_positions_note(into, from->items[i].stream, from->items[i].partition, from->items[i].offset) != 0)
            return -1;
    return 0;
}

void sqs_positions_clear(sqs_positions *positions)
{
    for (size_t i = 0; i < positions->count; i++)
        free(positions->items[i].stream);
    positions->count = 0;
}

void sqs_positions_free(sqs_positions *positions)
{
    sqs_positions_clear(positions);
    free(positions->items);
    memset(positions, 0, sizeof(*positions));
}

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
                                   sqs_positions *out, char *err, size_t err_size)
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
    sqs_positions_clear(out);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *stream = (const char *)sqlite3_column_text(stmt, 0);
        if (sqs_positions_note(out, stream ? stream : "", (int32_t)sqlite3_column_int(stmt, 1),
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
                                    const sqs_positions *positions, char *err, size_t err_size)
{
    for (size_t i = 0; i < positions->count; i++) {
        const sqs_position *p = &positions->items[i];
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
