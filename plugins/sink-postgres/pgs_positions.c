/*
 * Exactly-once: the positions table, written with the prepared statement
 * PGS_STMT_POSITION in the same transaction as the rows. The SDK's writer
 * (rdapsync/sinktk.h) decides when; this file knows the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

rdapsync_status pgs_positions_ensure(PGconn *conn, const pgs_names *names, char *err, size_t err_size)
{
    char *sql = pgs_printf("CREATE TABLE IF NOT EXISTS %s (pipeline text NOT NULL, task integer NOT NULL, "
                           "stream text NOT NULL, \"partition\" integer NOT NULL, \"offset\" bigint NOT NULL, "
                           "updated_at timestamptz NOT NULL DEFAULT now(), "
                           "PRIMARY KEY (pipeline, task, stream, \"partition\"))",
                           names->positions);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = pgs_exec(conn, sql, err, err_size);
    free(sql);
    return status;
}

rdapsync_status pgs_positions_load(PGconn *conn, const pgs_names *names, const char *pipeline, int task,
                                   rdapsync_sinktk_positions *out, char *err, size_t err_size)
{
    char task_text[16];
    snprintf(task_text, sizeof(task_text), "%d", task);
    const char *params[2] = { pipeline, task_text };
    char *sql = pgs_printf("SELECT stream, \"partition\", \"offset\" FROM %s WHERE pipeline = $1 AND task = $2",
                           names->positions);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    PGresult *res = PQexecParams(conn, sql, 2, NULL, params, NULL, NULL, 0);
    free(sql);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgs_error_text(conn, res, err, err_size);
        rdapsync_status status = pgs_failure_status(pgs_classify(conn, res));
        PQclear(res);
        return status;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        int32_t partition = (int32_t)strtol(PQgetvalue(res, i, 1), NULL, 10);
        int64_t offset = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        if (rdapsync_sinktk_positions_note(out, PQgetvalue(res, i, 0), partition, offset) != 0) {
            PQclear(res);
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
    }
    PQclear(res);
    return RDAPSYNC_OK;
}

rdapsync_status pgs_positions_store(PGconn *conn, const char *pipeline, int task,
                                    const rdapsync_sinktk_positions *positions, char *err, size_t err_size)
{
    char task_text[16], partition[16], offset[24];
    snprintf(task_text, sizeof(task_text), "%d", task);
    for (size_t i = 0; i < positions->count; i++) {
        const rdapsync_sinktk_position *p = &positions->items[i];
        snprintf(partition, sizeof(partition), "%d", (int)p->partition);
        snprintf(offset, sizeof(offset), "%lld", (long long)p->offset);
        const char *params[5] = { pipeline, task_text, p->stream, partition, offset };
        PGresult *res = PQexecPrepared(conn, PGS_STMT_POSITION, 5, params, NULL, NULL, 0);
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
            pgs_error_text(conn, res, err, err_size);
            pgs_failure failure = pgs_classify(conn, res);
            PQclear(res);
            return pgs_failure_status(failure == PGS_FAIL_DATA ? PGS_FAIL_FATAL : failure);
        }
        PQclear(res);
    }
    return RDAPSYNC_OK;
}
