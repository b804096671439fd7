/*
 * The write path: one prepared statement stepped once per row inside the
 * flush's transaction. Each document is serialized straight into a buffer
 * the statement borrows (SQLITE_STATIC) and that is reused for the next
 * row, so a batch costs no allocation per record.
 *
 * A statement that fails on its data (a CHECK or trigger of the user's, a
 * value over SQLite's size limit) is undone by SQLite on its own while the
 * transaction stays open: the row is rejected, its key's next older version
 * in the batch is tried instead, and the other rows go on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqs.h"

static int buffer_append(const char *bytes, size_t len, void *opaque)
{
    sqs_buffer *buf = opaque;
    if (buf->capacity - buf->len < len) {
        size_t capacity = buf->capacity ? buf->capacity : 16 * 1024;
        while (capacity - buf->len < len)
            capacity *= 2;
        char *data = realloc(buf->data, capacity);
        if (!data)
            return -1;
        buf->data = data;
        buf->capacity = capacity;
    }
    memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    return 0;
}

static const char *origin_of(const rdapsync_record *record)
{
    return record->version.origin ? record->version.origin : "";
}

/* Binds the row's values; the document goes into st->doc first. SQLITE_OK,
 * SQLITE_NOMEM or a bind error. */
static int bind_row(sqs_state *st, sqlite3_stmt *stmt, const rdapsync_record *record)
{
    bool deleted = record->op == RDAPSYNC_OP_DELETE;
    int rc;

    if (record->key)
        rc = sqlite3_bind_text(stmt, SQS_P_KEY, record->key, (int)record->key_len, SQLITE_STATIC);
    else
        rc = sqlite3_bind_null(stmt, SQS_P_KEY);
    if (rc != SQLITE_OK)
        return rc;
    if (deleted) {
        rc = sqlite3_bind_null(stmt, SQS_P_DOC);
    } else {
        st->doc.len = 0;
        if (sqs_host->json->dump_cb(record->value, 0, buffer_append, &st->doc) != 0)
            return SQLITE_NOMEM;
        rc = sqlite3_bind_text64(stmt, SQS_P_DOC, st->doc.len ? st->doc.data : "", st->doc.len, SQLITE_STATIC,
                                 SQLITE_UTF8);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(stmt, SQS_P_DELETED, deleted);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(stmt, SQS_P_TS, record->version.event_time_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(stmt, SQS_P_ORIGIN, origin_of(record), -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(stmt, SQS_P_SEQ, record->version.sequence);
    if (rc == SQLITE_OK)
        rc = record->position.stream
                 ? sqlite3_bind_text(stmt, SQS_P_STREAM, record->position.stream, -1, SQLITE_STATIC)
                 : sqlite3_bind_null(stmt, SQS_P_STREAM);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(stmt, SQS_P_PARTITION, record->position.partition);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(stmt, SQS_P_OFFSET, record->position.offset);
    return rc;
}

/* Steps one row. SQLITE_DONE, or the error code with `message` filled. */
static int step_row(sqs_state *st, const rdapsync_record *record, bool *applied, char *message, size_t message_size)
{
    sqlite3_stmt *stmt = st->write_stmt;
    int rc = bind_row(st, stmt, record);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        *applied = sqlite3_changes(st->db) > 0;
    else if (rc == SQLITE_NOMEM)
        snprintf(message, message_size, "out of memory");
    else
        sqs_error_text(st->db, rc, message, message_size);
    /* No sqlite3_clear_bindings(): bind_row() binds every parameter of
     * every row. */
    sqlite3_reset(stmt);
    return rc;
}

rdapsync_status sqs_apply(sqs_state *st, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                          rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    char message[1024];

    for (size_t i = 0; i < plan->count;) {
        const rdapsync_record *record = plan->rows[i].record;
        bool applied = false;
        int rc = step_row(st, record, &applied, message, sizeof(message));
        if (rc == SQLITE_DONE) {
            tally->applied += applied;
            tally->stale += !applied && st->cfg->mode == RDAPSYNC_SINKTK_UPSERT;
            i++;
            continue;
        }
        sqs_failure failure = rc == SQLITE_NOMEM ? SQS_FAIL_FATAL : sqs_classify(rc);
        if (failure != SQS_FAIL_DATA) {
            snprintf(err, err_size, "%s", message);
            return sqs_failure_status(failure);
        }
        if (rdapsync_sinktk_rejects_add(rejects, record, "sqlite refused the record: %s (table %s, key \"%.200s\")",
                                        message, st->names.table, record->key ? record->key : "") != 0) {
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
        /* The same row index again with the key's next older version. */
        if (!rdapsync_sinktk_plan_fallback(plan, i))
            i++;
    }
    return RDAPSYNC_OK;
}
