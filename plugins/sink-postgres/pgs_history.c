/*
 * The history table (history: { table: NAME }): every applied version of a
 * key, appended in the flush's transaction, with valid_from/valid_to
 * (rdapsync/sinktk.h, "History tables"; docs/schema-and-history.md).
 * INSERT ... ON CONFLICT DO NOTHING on (key, valid_from, origin, seq)
 * makes a replay add nothing. The inserts and the valid_to updates go in
 * libpq pipeline mode, a sync every HISTORY_CHUNK commands, one chunk in
 * flight (the results of a chunk are read before the next is sent, so
 * neither side's socket buffer fills up).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

#define HISTORY_CHUNK 256
#define PGS_SCHEMA_LOCK "SELECT pg_advisory_xact_lock(7262617073796863)"

rdapsync_status pgs_history_ensure(PGconn *conn, const pgs_names *names, char *err, size_t err_size)
{
    char *sql = pgs_printf("BEGIN; " PGS_SCHEMA_LOCK "; "
                           "CREATE TABLE IF NOT EXISTS %1$s ("
                           "%2$s text NOT NULL, "
                           "valid_from bigint NOT NULL, "
                           "origin text COLLATE \"C\" NOT NULL DEFAULT '', "
                           "seq bigint NOT NULL, "
                           "valid_to bigint, "
                           "deleted boolean NOT NULL DEFAULT false, "
                           "doc jsonb, "
                           "retention_until text, "
                           "recorded_at timestamptz NOT NULL DEFAULT now(), "
                           "PRIMARY KEY (%2$s, valid_from, origin, seq)); COMMIT",
                           names->history, names->key);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = pgs_exec(conn, sql, err, err_size);
    free(sql);
    if (status != RDAPSYNC_OK) {
        char ignored[128];
        pgs_exec(conn, "ROLLBACK", ignored, sizeof(ignored));
    }
    return status;
}

static rdapsync_status prepare(PGconn *conn, const char *name, char *sql, int params, const char *table, char *err,
                               size_t err_size)
{
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    PGresult *res = PQprepare(conn, name, sql, params, NULL);
    free(sql);
    if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        return RDAPSYNC_OK;
    }
    char reason[512];
    pgs_error_text(conn, res, reason, sizeof(reason));
    pgs_failure failure = pgs_classify(conn, res);
    PQclear(res);
    snprintf(err, err_size, "cannot prepare the history statements on table %s: %s", table, reason);
    return pgs_failure_status(failure == PGS_FAIL_DATA ? PGS_FAIL_FATAL : failure);
}

rdapsync_status pgs_history_prepare(PGconn *conn, const pgs_names *names, char *err, size_t err_size)
{
    char *head = rdapsync_sinktk_history_insert_head(names->history, names->key);
    char *insert = head ? pgs_printf("%s($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT DO NOTHING", head) : NULL;
    free(head);
    rdapsync_status status =
        prepare(conn, PGS_STMT_HISTORY_INSERT, insert, RDAPSYNC_SINKTK_HP_COUNT, names->history, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    return prepare(conn, PGS_STMT_HISTORY_CLOSE, rdapsync_sinktk_history_close_sql(names->history, names->key, "= $1"),
                   1, names->history, err, err_size);
}

typedef struct history_run {
    pgs_state *st;
    size_t queued; /* commands sent since the last sync */
    bool failed;   /* a command failed (message holds the first reason) */
    bool broken;   /* the connection or libpq gave up */
    bool oom;
    char message[768];
} history_run;

/* Reads the results of the `queued` commands and the sync. */
static void read_chunk(history_run *run)
{
    PGconn *conn = run->st->conn;
    for (size_t i = 0; i < run->queued && !run->broken; i++) {
        PGresult *res = PQgetResult(conn);
        if (!res) {
            run->broken = true;
            break;
        }
        ExecStatusType status = PQresultStatus(res);
        if (status != PGRES_COMMAND_OK && status != PGRES_PIPELINE_ABORTED && !run->failed) {
            run->failed = true;
            pgs_error_text(conn, res, run->message, sizeof(run->message));
        }
        PQclear(res);
        res = PQgetResult(conn); /* each command's results end with a NULL */
        if (res) {
            PQclear(res);
            run->broken = true;
        }
    }
    run->queued = 0;
    if (run->broken)
        return;
    PGresult *res = PQgetResult(conn);
    if (!res || PQresultStatus(res) != PGRES_PIPELINE_SYNC)
        run->broken = true;
    PQclear(res);
}

static int sync_chunk(history_run *run)
{
    if (PQpipelineSync(run->st->conn) != 1) {
        run->broken = true;
        return 1;
    }
    read_chunk(run);
    return run->broken || run->failed ? 1 : 0;
}

static int one_version(const rdapsync_record *record, bool last, void *opaque)
{
    history_run *run = opaque;
    pgs_state *st = run->st;
    PGconn *conn = st->conn;
    bool deleted = record->op == RDAPSYNC_OP_DELETE;
    char ts[24], seq[24];
    const char *retention = rdapsync_sinktk_retention_until(pgs_host, record->value);

    if (pgs_doc_serialize(record, &st->buffer) != 0) {
        run->oom = true;
        return 1;
    }
    snprintf(ts, sizeof ts, "%lld", (long long)record->version.event_time_ms);
    snprintf(seq, sizeof seq, "%lld", (long long)record->version.sequence);
    const char *values[RDAPSYNC_SINKTK_HP_COUNT] = {
        [RDAPSYNC_SINKTK_HP_KEY] = record->key,
        [RDAPSYNC_SINKTK_HP_VALID_FROM] = ts,
        [RDAPSYNC_SINKTK_HP_ORIGIN] = record->version.origin ? record->version.origin : "",
        [RDAPSYNC_SINKTK_HP_SEQ] = seq,
        [RDAPSYNC_SINKTK_HP_DELETED] = deleted ? "t" : "f",
        [RDAPSYNC_SINKTK_HP_DOC] = deleted ? NULL : st->buffer.data,
        [RDAPSYNC_SINKTK_HP_RETENTION] = retention,
    };
    /* libpq copies the parameters, so the buffer is free for the next row. */
    if (PQsendQueryPrepared(conn, PGS_STMT_HISTORY_INSERT, RDAPSYNC_SINKTK_HP_COUNT, values, NULL, NULL, 0) != 1) {
        run->broken = true;
        return 1;
    }
    run->queued++;
    if (last) {
        const char *key[1] = {record->key};
        if (PQsendQueryPrepared(conn, PGS_STMT_HISTORY_CLOSE, 1, key, NULL, NULL, 0) != 1) {
            run->broken = true;
            return 1;
        }
        run->queued++;
    }
    return run->queued >= HISTORY_CHUNK ? sync_chunk(run) : 0;
}

rdapsync_status pgs_history_apply(pgs_state *st, const rdapsync_sinktk_plan *plan,
                                  const rdapsync_sinktk_rejects *rejects, char *err, size_t err_size)
{
    history_run run = {.st = st};
    PGconn *conn = st->conn;

    if (PQenterPipelineMode(conn) != 1) {
        pgs_error_text(conn, NULL, run.message, sizeof(run.message));
        snprintf(err, err_size, "history table %s: %s", st->names.history, run.message);
        return RDAPSYNC_RETRY;
    }
    if (rdapsync_sinktk_history_each(plan, rejects, one_version, &run) == 0 && run.queued)
        sync_chunk(&run);
    if (!run.broken && run.queued && !run.oom)
        sync_chunk(&run); /* results of what was sent before an out-of-memory stop */
    if (!run.broken && PQexitPipelineMode(conn) != 1)
        run.broken = true;
    if (run.oom) {
        snprintf(err, err_size, "history table %s: out of memory serializing a document", st->names.history);
        return RDAPSYNC_ERROR;
    }
    if (run.broken) {
        pgs_error_text(conn, NULL, run.message, sizeof(run.message));
        snprintf(err, err_size, "history table %s: %s", st->names.history, run.message);
        return RDAPSYNC_RETRY;
    }
    if (run.failed) {
        snprintf(err, err_size, "history table %s: %s", st->names.history, run.message);
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}
