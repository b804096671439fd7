/*
 * The other write path (method: copy): COPY the rows into a temporary
 * stage, then one INSERT ... SELECT ... ON CONFLICT with the same version
 * guard (append mode: COPY straight into the table). It moves fewer
 * messages than the pipeline but makes the server handle every row twice;
 * docs/plugins/sink-postgres.md has the measurements. A COPY cannot say
 * which row the server refused, so on a data error the write rolls back to
 * its savepoint and goes through the pipeline path, which can.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

#define PGS_STAGE "rdapsync_stage"
#define PGS_COPY_FLUSH_BYTES (256u * 1024u)

typedef struct copy_buffer {
    char *data;
    size_t len, capacity;
} copy_buffer;

static int buffer_reserve(copy_buffer *buf, size_t more)
{
    if (buf->len + more <= buf->capacity)
        return 0;
    size_t capacity = buf->capacity ? buf->capacity : 64 * 1024;
    while (capacity < buf->len + more)
        capacity *= 2;
    char *data = realloc(buf->data, capacity);
    if (!data)
        return -1;
    buf->data = data;
    buf->capacity = capacity;
    return 0;
}

/* One field in COPY text format: backslash escapes, \N for NULL. */
static int buffer_field(copy_buffer *buf, const char *value, size_t len, bool last)
{
    if (buffer_reserve(buf, 2 * len + 3) != 0)
        return -1;
    char *p = buf->data + buf->len;
    if (!value) {
        *p++ = '\\';
        *p++ = 'N';
    } else {
        for (size_t i = 0; i < len; i++) {
            char c = value[i];
            switch (c) {
            case '\\': *p++ = '\\'; *p++ = '\\'; break;
            case '\n': *p++ = '\\'; *p++ = 'n'; break;
            case '\r': *p++ = '\\'; *p++ = 'r'; break;
            case '\t': *p++ = '\\'; *p++ = 't'; break;
            default: *p++ = c; break;
            }
        }
    }
    *p++ = last ? '\n' : '\t';
    buf->len = (size_t)(p - buf->data);
    return 0;
}

static int buffer_row(copy_buffer *buf, pgs_row *row, pgs_buffer *doc_buffer)
{
    pgs_params params;
    int rc = pgs_row_serialize(row, doc_buffer);
    if (rc == 0) {
        pgs_row_params(row, &params);
        for (int i = 0; i < PGS_P_COUNT && rc == 0; i++)
            rc = buffer_field(buf, params.values[i], params.values[i] ? (size_t)params.lengths[i] : 0,
                              i == PGS_P_COUNT - 1);
    }
    pgs_row_release(row);
    return rc;
}

/* Result of a command, classified; `applied` gets PQcmdTuples. */
static rdapsync_status check_result(PGconn *conn, PGresult *res, ExecStatusType want, bool *data_error,
                                    uint64_t *applied, char *err, size_t err_size)
{
    if (res && PQresultStatus(res) == want) {
        if (applied)
            *applied = strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        return RDAPSYNC_OK;
    }
    pgs_error_text(conn, res, err, err_size);
    pgs_failure failure = pgs_classify(conn, res);
    PQclear(res);
    *data_error = failure == PGS_FAIL_DATA;
    return failure == PGS_FAIL_DATA ? RDAPSYNC_ERROR : pgs_failure_status(failure);
}

static rdapsync_status ensure_stage(pgs_state *st, char *err, size_t err_size)
{
    if (st->stage_ready)
        return RDAPSYNC_OK;
    /* Created in the write's transaction: a rollback takes it away again,
     * so stage_ready is cleared whenever the transaction is. */
    char *sql = pgs_printf("CREATE TEMP TABLE IF NOT EXISTS " PGS_STAGE " (%s text, doc jsonb, deleted boolean, "
                           "event_time_ms bigint, origin text, seq bigint, src_stream text, src_partition integer, "
                           "src_offset bigint) ON COMMIT DELETE ROWS",
                           st->names.key);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = pgs_exec(st->conn, sql, err, err_size);
    free(sql);
    if (status == RDAPSYNC_OK)
        st->stage_ready = true;
    return status;
}

static rdapsync_status copy_rows(pgs_state *st, pgs_rows *rows, const char *target, bool *data_error,
                                 char *err, size_t err_size)
{
    PGconn *conn = st->conn;
    char *sql = pgs_printf("COPY %s (%s, %s) FROM STDIN", target, st->names.key, pgs_schema_columns(st->cfg->mode));
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = check_result(conn, PQexec(conn, sql), PGRES_COPY_IN, data_error, NULL, err, err_size);
    free(sql);
    if (status != RDAPSYNC_OK)
        return status;

    copy_buffer buf = { 0 };
    const char *abort_reason = NULL;
    for (size_t i = 0; i < rows->count && !abort_reason; i++) {
        if (buffer_row(&buf, &rows->rows[i], &rows->doc_buffer) != 0)
            abort_reason = "out of memory";
        else if (buf.len >= PGS_COPY_FLUSH_BYTES || i + 1 == rows->count) {
            if (PQputCopyData(conn, buf.data, (int)buf.len) != 1)
                abort_reason = "connection lost during COPY";
            buf.len = 0;
        }
    }
    free(buf.data);
    if (PQputCopyEnd(conn, abort_reason) != 1 && !abort_reason)
        abort_reason = "connection lost ending COPY";
    status = check_result(conn, PQgetResult(conn), PGRES_COMMAND_OK, data_error, NULL, err, err_size);
    /* Drain to the end of the command. */
    for (PGresult *res; (res = PQgetResult(conn)) != NULL;)
        PQclear(res);
    if (abort_reason && status == RDAPSYNC_OK) {
        snprintf(err, err_size, "%s", abort_reason);
        status = RDAPSYNC_RETRY;
    }
    return status;
}

rdapsync_status pgs_copy_apply(pgs_state *st, pgs_rows *rows, pgs_rejects *rejects, pgs_tally *tally, char *err,
                               size_t err_size)
{
    PGconn *conn = st->conn;
    bool data_error = false;
    bool upsert = st->cfg->mode == PGS_MODE_UPSERT;
    uint64_t applied = 0;
    rdapsync_status status;

    if (rows->count == 0)
        return RDAPSYNC_OK;
    if (upsert && (status = ensure_stage(st, err, err_size)) != RDAPSYNC_OK)
        return status;
    /* The stage empties itself at commit; only a second write in the same
     * transaction finds rows in it. */
    bool truncate = upsert && st->stage_dirty;
    if ((status = pgs_exec(conn, truncate ? "SAVEPOINT rdapsync_w; TRUNCATE " PGS_STAGE : "SAVEPOINT rdapsync_w",
                           err, err_size)) != RDAPSYNC_OK)
        return status;
    st->stage_dirty = upsert;

    status = copy_rows(st, rows, upsert ? PGS_STAGE : st->names.table, &data_error, err, err_size);
    if (status == RDAPSYNC_OK && upsert) {
        char *conflict = pgs_schema_conflict_clause(&st->names);
        char *sql = conflict ? pgs_printf("INSERT INTO %s AS cur (%s, %s) SELECT %s, %s FROM " PGS_STAGE " %s",
                                          st->names.table, st->names.key, pgs_schema_columns(st->cfg->mode),
                                          st->names.key, pgs_schema_columns(st->cfg->mode), conflict)
                             : NULL;
        free(conflict);
        if (!sql) {
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
        status = check_result(conn, PQexec(conn, sql), PGRES_COMMAND_OK, &data_error, &applied, err, err_size);
        free(sql);
    } else if (status == RDAPSYNC_OK) {
        applied = rows->count;
    }

    if (status == RDAPSYNC_OK) {
        tally->applied += applied;
        tally->stale += upsert ? rows->count - applied : 0;
        return pgs_exec(conn, "RELEASE SAVEPOINT rdapsync_w", err, err_size);
    }
    if (!data_error)
        return status;
    /* Someone's data was refused: find whose, row by row. */
    if ((status = pgs_exec(conn, "ROLLBACK TO SAVEPOINT rdapsync_w; RELEASE SAVEPOINT rdapsync_w", err,
                           err_size)) != RDAPSYNC_OK)
        return status;
    return pgs_pipeline_apply(st, rows, rejects, tally, err, err_size);
}
