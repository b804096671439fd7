/*
 * The row-by-row write path (method: pipeline, and the COPY path's way to
 * find which row the server refused): one prepared INSERT ... ON CONFLICT
 * per row, sent in libpq pipeline mode so that the server never waits for
 * a round trip (docs/plugins/sink-postgres.md compares it with COPY).
 *
 * Rows go in segments, each under a savepoint, with a sync every
 * `statement_rows` rows and at most two syncs in flight (the results of
 * one chunk are read while the next is on the wire; neither side's socket
 * buffer can fill up). When the server refuses a row for its data, the
 * segment rolls back to its savepoint; the rows before the refused one are
 * sent again as a segment of their own, the refused row is replaced by its
 * key's next older version or rejected, and the rest follows. Each refusal
 * costs one resend of the rows since the previous one, never more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

#define PGS_SAVEPOINT "SAVEPOINT rdapsync_w"
#define PGS_RELEASE "RELEASE SAVEPOINT rdapsync_w"
#define PGS_ROLLBACK_TO "ROLLBACK TO SAVEPOINT rdapsync_w; RELEASE SAVEPOINT rdapsync_w"

/* What a segment ended with. */
typedef struct segment_result {
    rdapsync_status status; /* OK, or RETRY / ERROR for the whole write */
    bool row_failed;        /* a row was refused for its data (status OK) */
    size_t failed_index;    /* that row */
    char message[1024];     /* the server's message for it, or the failure */
    uint64_t applied, stale;
} segment_result;

/* Records the first failure of a segment. */
static void note_failure(PGconn *conn, const PGresult *res, long index, segment_result *out)
{
    if (out->status != RDAPSYNC_OK || out->row_failed)
        return;
    pgs_error_text(conn, res, out->message, sizeof(out->message));
    pgs_failure failure = pgs_classify(conn, res);
    if (failure == PGS_FAIL_DATA && index >= 0) {
        out->row_failed = true;
        out->failed_index = (size_t)index;
    } else {
        out->status = pgs_failure_status(failure == PGS_FAIL_DATA ? PGS_FAIL_FATAL : failure);
    }
}

static bool send_command(PGconn *conn, const char *sql)
{
    return PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0) == 1;
}

/* libpq copies the parameters into its output buffer, so the document's
 * buffer is free again as soon as the row is queued. */
static bool send_row(PGconn *conn, const rdapsync_record *record, pgs_buffer *buffer, bool *oom)
{
    pgs_params params;
    if (pgs_doc_serialize(record, buffer) != 0) {
        *oom = true;
        return false;
    }
    pgs_row_params(record, buffer, &params);
    return PQsendQueryPrepared(conn, PGS_STMT_WRITE, PGS_P_COUNT, params.values, params.lengths, NULL, 0) == 1;
}

/* Sends chunk [from, to) with the savepoint before the segment's first row
 * and the release after its last, then a sync. */
static bool send_chunk(PGconn *conn, const rdapsync_sinktk_plan *rows, pgs_buffer *buffer, size_t from, size_t to,
                       bool first, bool last, bool *oom)
{
    if (first && !send_command(conn, PGS_SAVEPOINT))
        return false;
    for (size_t i = from; i < to; i++)
        if (!send_row(conn, rows->rows[i].record, buffer, oom))
            return false;
    if (last && !send_command(conn, PGS_RELEASE))
        return false;
    return PQpipelineSync(conn) == 1;
}

/* Reads one command's result (index -1 for savepoint/release). Returns false
 * when the connection broke. */
static bool read_command(PGconn *conn, long index, int mode, segment_result *out)
{
    PGresult *res = PQgetResult(conn);
    if (!res)
        return false;
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
        if (index >= 0) {
            bool applied = strcmp(PQcmdTuples(res), "1") == 0;
            out->applied += applied;
            out->stale += !applied && mode == RDAPSYNC_SINKTK_UPSERT;
        }
        break;
    case PGRES_PIPELINE_ABORTED:
        break;
    default:
        note_failure(conn, res, index, out);
        break;
    }
    PQclear(res);
    /* Each command's results end with a NULL. */
    res = PQgetResult(conn);
    if (res) {
        PQclear(res);
        return false;
    }
    return true;
}

static bool read_chunk(PGconn *conn, size_t from, size_t to, bool first, bool last, int mode, segment_result *out)
{
    if (first && !read_command(conn, -1, mode, out))
        return false;
    for (size_t i = from; i < to; i++)
        if (!read_command(conn, (long)i, mode, out))
            return false;
    if (last && !read_command(conn, -1, mode, out))
        return false;
    PGresult *res = PQgetResult(conn);
    bool synced = res && PQresultStatus(res) == PGRES_PIPELINE_SYNC;
    PQclear(res);
    return synced;
}

/* Runs rows [from, to) as one segment; the connection is left out of
 * pipeline mode, and rolled back to the segment's savepoint if a row failed. */
static void run_segment(pgs_state *st, const rdapsync_sinktk_plan *rows, size_t from, size_t to,
                        segment_result *out)
{
    PGconn *conn = st->conn;
    size_t chunk = (size_t)st->cfg->statement_rows;
    size_t sent_to = from, read_to = from;
    bool oom = false;

    memset(out, 0, sizeof(*out));
    out->status = RDAPSYNC_OK;
    if (PQenterPipelineMode(conn) != 1)
        goto broken;

    /* Keep two chunks in flight: send one ahead, then read the older. */
    while (read_to < to) {
        while (sent_to < to && sent_to - read_to < 2 * chunk) {
            size_t end = sent_to + chunk < to ? sent_to + chunk : to;
            if (!send_chunk(conn, rows, &st->buffer, sent_to, end, sent_to == from, end == to, &oom))
                goto broken;
            sent_to = end;
        }
        size_t end = read_to + chunk < to ? read_to + chunk : to;
        if (!read_chunk(conn, read_to, end, read_to == from, end == to, st->cfg->mode, out))
            goto broken;
        read_to = end;
    }
    if (PQexitPipelineMode(conn) != 1)
        goto broken;
    if (out->row_failed) {
        char err[512];
        rdapsync_status status = pgs_exec(conn, PGS_ROLLBACK_TO, err, sizeof(err));
        if (status != RDAPSYNC_OK) {
            out->status = status;
            out->row_failed = false;
            snprintf(out->message, sizeof(out->message), "%s", err);
        }
    }
    return;

broken:
    /* The connection is gone (or libpq refused to go on, or a document could
     * not be serialized): the caller drops it, half-read results and all. A
     * lost connection is retried with the whole batch. */
    out->row_failed = false;
    if (oom) {
        out->status = RDAPSYNC_ERROR;
        snprintf(out->message, sizeof(out->message), "out of memory serializing a document");
        return;
    }
    out->status = RDAPSYNC_RETRY;
    pgs_error_text(conn, NULL, out->message, sizeof(out->message));
}

rdapsync_status pgs_pipeline_apply(pgs_state *st, rdapsync_sinktk_plan *rows, rdapsync_sinktk_rejects *rejects,
                                   rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    size_t start = 0;
    size_t refused = SIZE_MAX; /* a row known to be refused, at or after start */
    char reason[1024] = "";

    while (start < rows->count) {
        size_t end = refused != SIZE_MAX ? refused : rows->count;
        if (end > start) {
            segment_result result;
            run_segment(st, rows, start, end, &result);
            if (result.status != RDAPSYNC_OK) {
                snprintf(err, err_size, "%s", result.message);
                return result.status;
            }
            if (result.row_failed) {
                refused = result.failed_index;
                snprintf(reason, sizeof(reason), "%s", result.message);
                continue;
            }
            tally->applied += result.applied;
            tally->stale += result.stale;
            start = end;
        }
        if (refused == SIZE_MAX)
            break;
        /* start == refused */
        const rdapsync_record *record = rows->rows[refused].record;
        if (rdapsync_sinktk_rejects_add(rejects, record, "postgres refused the record: %s (table %s, key \"%.200s\")",
                                        reason, st->names.table, record->key ? record->key : "") != 0)
            goto oom;
        if (!rdapsync_sinktk_plan_fallback(rows, refused))
            start = refused + 1;
        refused = SIZE_MAX;
    }
    return RDAPSYNC_OK;

oom:
    snprintf(err, err_size, "out of memory");
    return RDAPSYNC_ERROR;
}
