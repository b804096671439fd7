/*
 * Exactly-once: the positions table, written with the prepared statement
 * PGS_STMT_POSITION in the same transaction as the rows. The SDK's writer
 * (rdapsync/sinktk.h) decides when; this file knows the table.
 *
 * With several connections (connections: N, pgs_lanes.c) there is no one
 * transaction: each lane commits its own, holding its rows and the
 * positions of the whole transaction's batches under its own pipeline
 * column ("<pipeline>/<lane>/<N>"). A lane's position P thus says: every
 * record up to P whose key hashes to this lane is stored. A crash between
 * two lanes' COMMITs leaves some lanes ahead; the source resumes from the
 * lowest, and each lane skips what its own position covers, so nothing is
 * lost and nothing is applied twice. Two-phase commit would make the lanes
 * commit together, but needs max_prepared_transactions on the server and
 * leaves prepared transactions behind a crash for someone to resolve.
 *
 * When N changed since the positions were written (or a lane lacks one its
 * siblings have), a key may have moved lane, so every lane resumes from
 * the lowest position of any layout: nothing is lost; in upsert mode the
 * version guard absorbs the replay, in append mode the rows between the
 * lowest and the highest lane of an unclean stop are written again.
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

char *pgs_positions_lane_pipeline(const char *pipeline, size_t lane, size_t lanes)
{
    /* A pipeline name holds only letters, digits, '_', '.' and '-': a
     * lane's name can never be another pipeline's. */
    return lanes == 1 ? pgs_printf("%s", pipeline) : pgs_printf("%s/%zu/%zu", pipeline, lane, lanes);
}

/* Sets (stream, partition) to `offset`, lower or higher than before. */
static int set_offset(rdapsync_sinktk_positions *positions, const char *stream, int32_t partition, int64_t offset)
{
    for (size_t i = 0; i < positions->count; i++) {
        rdapsync_sinktk_position *p = &positions->items[i];
        if (p->partition == partition && strcmp(p->stream, stream) == 0) {
            p->offset = offset;
            return 0;
        }
    }
    return rdapsync_sinktk_positions_note(positions, stream, partition, offset);
}

/* Lowers (stream, partition) to `offset` if it is lower or new. */
static int note_min(rdapsync_sinktk_positions *positions, const char *stream, int32_t partition, int64_t offset)
{
    int64_t held = rdapsync_sinktk_positions_find(positions, stream, partition);
    return held >= 0 && held <= offset ? 0 : set_offset(positions, stream, partition, offset);
}

/*
 * After the rows: every lane of the current layout that holds every
 * (stream, partition) keeps its own position; where one lane lacks it, or
 * only another layout has it, a key may have moved lane, so every lane
 * takes the lowest position any layout holds. `out` gets each one's
 * lowest lane.
 */
static int settle(pgs_state *st, const rdapsync_sinktk_positions *lowest, rdapsync_sinktk_positions *out)
{
    for (size_t i = 0; i < lowest->count; i++) {
        const rdapsync_sinktk_position *p = &lowest->items[i];
        bool complete = true;
        for (size_t k = 0; k < st->lane_count; k++)
            complete = complete && rdapsync_sinktk_positions_find(&st->lanes[k].lane_stored, p->stream,
                                                                  p->partition) >= 0;
        for (size_t k = 0; !complete && k < st->lane_count; k++)
            if (set_offset(&st->lanes[k].lane_stored, p->stream, p->partition, p->offset) != 0)
                return -1;
        for (size_t k = 0; k < st->lane_count; k++)
            if (note_min(out, p->stream, p->partition,
                         rdapsync_sinktk_positions_find(&st->lanes[k].lane_stored, p->stream, p->partition)) != 0)
                return -1;
    }
    return 0;
}

rdapsync_status pgs_positions_load(pgs_state *st, const char *pipeline, int task, rdapsync_sinktk_positions *out,
                                   char *err, size_t err_size)
{
    PGconn *conn = st->lanes[0].conn;
    rdapsync_sinktk_positions lowest = { 0 };
    char task_text[16];
    snprintf(task_text, sizeof(task_text), "%d", task);
    const char *params[2] = { pipeline, task_text };
    char *sql = pgs_printf("SELECT pipeline, stream, \"partition\", \"offset\" FROM %s WHERE task = $2 AND "
                           "(pipeline = $1 OR left(pipeline, length($1) + 1) = $1 || '/')",
                           st->names.positions);
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
    for (size_t k = 0; k < st->lane_count; k++)
        rdapsync_sinktk_positions_clear(&st->lanes[k].lane_stored);
    for (int i = 0; i < PQntuples(res); i++) {
        const char *stream = PQgetvalue(res, i, 1);
        int32_t partition = (int32_t)strtol(PQgetvalue(res, i, 2), NULL, 10);
        int64_t offset = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        if (note_min(&lowest, stream, partition, offset) != 0)
            goto oom;
        for (size_t k = 0; k < st->lane_count; k++)
            if (strcmp(PQgetvalue(res, i, 0), st->lanes[k].lane_pipeline) == 0 &&
                rdapsync_sinktk_positions_note(&st->lanes[k].lane_stored, stream, partition, offset) != 0)
                goto oom;
    }
    PQclear(res);
    res = NULL;
    if (settle(st, &lowest, out) != 0)
        goto oom;
    rdapsync_sinktk_positions_free(&lowest);
    return RDAPSYNC_OK;

oom:
    PQclear(res);
    rdapsync_sinktk_positions_free(&lowest);
    snprintf(err, err_size, "out of memory");
    return RDAPSYNC_ERROR;
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
