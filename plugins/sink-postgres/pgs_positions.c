/*
 * Exactly-once: the source positions this task has made durable live in a
 * table of the sink's own, written in the same transaction as the rows. On
 * open they override the host's checkpoint file; on every write they also
 * filter out records the table says are already in (a replay after a
 * crash, or a COMMIT whose answer was lost with the connection).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

static const char *stream_or_empty(const char *stream)
{
    return stream ? stream : "";
}

int64_t pgs_positions_find(const pgs_positions *positions, const char *stream, int32_t partition)
{
    stream = stream_or_empty(stream);
    for (size_t i = 0; i < positions->count; i++)
        if (positions->items[i].partition == partition && strcmp(positions->items[i].stream, stream) == 0)
            return positions->items[i].offset;
    return -1;
}

int pgs_positions_note(pgs_positions *positions, const char *stream, int32_t partition, int64_t offset)
{
    stream = stream_or_empty(stream);
    for (size_t i = 0; i < positions->count; i++) {
        pgs_position *p = &positions->items[i];
        if (p->partition == partition && strcmp(p->stream, stream) == 0) {
            if (offset > p->offset)
                p->offset = offset;
            return 0;
        }
    }
    if (positions->count == positions->capacity) {
        size_t capacity = positions->capacity ? positions->capacity * 2 : 4;
        pgs_position *items = realloc(positions->items, capacity * sizeof(*items));
        if (!items)
            return -1;
        positions->items = items;
        positions->capacity = capacity;
    }
    char *copy = strdup(stream);
    if (!copy)
        return -1;
    positions->items[positions->count++] = (pgs_position){ .stream = copy, .partition = partition, .offset = offset };
    return 0;
}

int pgs_positions_merge(pgs_positions *into, const pgs_positions *from)
{
    for (size_t i = 0; i < from->count; i++)
        if (pgs_positions_note(into, from->items[i].stream, from->items[i].partition, from->items[i].offset) != 0)
            return -1;
    return 0;
}

void pgs_positions_clear(pgs_positions *positions)
{
    for (size_t i = 0; i < positions->count; i++)
        free(positions->items[i].stream);
    positions->count = 0;
}

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
                                   pgs_positions *out, char *err, size_t err_size)
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
    pgs_positions_clear(out);
    for (int i = 0; i < PQntuples(res); i++) {
        int32_t partition = (int32_t)strtol(PQgetvalue(res, i, 1), NULL, 10);
        int64_t offset = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        if (pgs_positions_note(out, PQgetvalue(res, i, 0), partition, offset) != 0) {
            PQclear(res);
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
    }
    PQclear(res);
    return RDAPSYNC_OK;
}

rdapsync_status pgs_positions_store(PGconn *conn, const pgs_names *names, const char *pipeline, int task,
                                    const pgs_positions *positions, char *err, size_t err_size)
{
    (void)names;
    char task_text[16], partition[16], offset[24];
    snprintf(task_text, sizeof(task_text), "%d", task);
    for (size_t i = 0; i < positions->count; i++) {
        const pgs_position *p = &positions->items[i];
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
