/*
 * connections: N. One PostgreSQL backend parses, compresses and indexes
 * the rows of one connection on one core; a second connection lets the
 * server use a second core for the same task. The planned rows are split
 * by a hash of their key, so all versions of a key go through the same
 * connection in the order the plan gives them (and a key never takes row
 * locks on two connections: lanes never wait for each other). Lane 0 runs
 * on the calling thread, each other lane on a thread of its own for the
 * duration of the write; each writes its part in its own transaction, the
 * same way a single connection writes the whole batch.
 *
 * Exactly-once over several transactions: pgs_positions.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

int pgs_lanes_make(pgs_state *st)
{
    size_t n = st->cfg->connections > 0 ? (size_t)st->cfg->connections : 1;
    const char *pipeline = pgs_host->pipeline_name(st->ctx);
    st->lanes = calloc(n, sizeof(*st->lanes));
    if (!st->lanes)
        return -1;
    st->lane_count = n;
    for (size_t k = 0; k < n; k++) {
        pgs_state *lane = &st->lanes[k];
        lane->ctx = st->ctx;
        lane->cfg = st->cfg;
        lane->names = st->names;         /* borrowed: the instance frees them */
        lane->conflicts = st->conflicts; /* borrowed too */
        lane->lane_index = k;
        lane->epoch_committed = lane->epoch_open = -1;
        if (st->conflicts && st->cfg->heads_cache > 0 &&
            !(lane->heads_cache = pgs_heads_cache_new((size_t)st->cfg->heads_cache)))
            return -1;
        lane->lane_pipeline = pgs_positions_lane_pipeline(pipeline ? pipeline : "", k, n);
        if (!lane->lane_pipeline)
            return -1;
    }
    return 0;
}

void pgs_lanes_free(pgs_state *st)
{
    for (size_t k = 0; st->lanes && k < st->lane_count; k++) {
        pgs_state *lane = &st->lanes[k];
        PQfinish(lane->conn);
        pgs_buffer_free(&lane->buffer);
        free(lane->lane_pipeline);
        pgs_heads_cache_free(lane->heads_cache);
        free(lane->registers);
        free(lane->table_oid);
        free(lane->epoch_sql);
        rdapsync_sinktk_positions_free(&lane->lane_stored);
        rdapsync_sinktk_positions_free(&lane->lane_saving);
    }
    free(st->lanes);
    st->lanes = NULL;
    st->lane_count = 0;
}

size_t pgs_lane_of(const rdapsync_record *record, size_t lanes)
{
    if (lanes <= 1 || !record->key)
        return 0;
    uint64_t hash = 14695981039346656037u;
    for (size_t i = 0; i < record->key_len; i++)
        hash = (hash ^ (unsigned char)record->key[i]) * 1099511628211u;
    return (size_t)(hash % lanes);
}

/* One lane's write: its part of the plan and what came of it. */
typedef struct lane_work {
    pgs_state *lane;
    rdapsync_sinktk_plan part; /* rows copied from the plan; sorted_ borrowed from it */
    rdapsync_sinktk_rejects rejects;
    rdapsync_sinktk_tally tally;
    rdapsync_status status;
    char err[512];
} lane_work;

static rdapsync_status lane_apply(pgs_state *lane, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                                  rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    rdapsync_status status = lane->cfg->method == PGS_METHOD_COPY
                                 ? pgs_copy_apply(lane, plan, rejects, tally, err, err_size)
                                 : pgs_pipeline_apply(lane, plan, rejects, tally, err, err_size);
    if (status == RDAPSYNC_OK && lane->names.history)
        status = pgs_history_apply(lane, plan, rejects, err, err_size);
    return status;
}

static void *lane_main(void *arg)
{
    lane_work *w = arg;
    w->status = w->part.count == 0 ? RDAPSYNC_OK
                                   : lane_apply(w->lane, &w->part, &w->rejects, &w->tally, w->err, sizeof(w->err));
    return NULL;
}

/*
 * Splits the plan into the lanes' parts. A part is a plan whose rows are
 * copies of the plan's (their fallbacks index the plan's sorted records,
 * which the part borrows: rdapsync_sinktk_plan_fallback() works on it).
 * Exactly-once, a row the lane's own committed positions cover is dropped:
 * the plan only skipped what every lane holds.
 */
static int split(pgs_state *st, const rdapsync_sinktk_plan *plan, lane_work *work, uint64_t *already_stored)
{
    size_t n = st->lane_count;
    for (size_t k = 0; k < n; k++) {
        work[k].lane = &st->lanes[k];
        work[k].part.sorted_ = plan->sorted_;
        work[k].part.sorted_count_ = plan->sorted_count_;
        work[k].part.rows = plan->count ? malloc(plan->count * sizeof(*plan->rows)) : NULL;
        if (plan->count && !work[k].part.rows)
            return -1;
    }
    for (size_t i = 0; i < plan->count; i++) {
        lane_work *w = &work[pgs_lane_of(plan->rows[i].record, n)];
        if (st->cfg->exactly_once && rdapsync_sinktk_positions_cover(&w->lane->lane_stored, plan->rows[i].record)) {
            (*already_stored)++;
            continue;
        }
        w->part.rows[w->part.count++] = plan->rows[i];
    }
    return 0;
}

/* The worse of two answers: ERROR over RETRY over OK. */
static rdapsync_status worse(rdapsync_status a, rdapsync_status b)
{
    if (a == RDAPSYNC_ERROR || b == RDAPSYNC_ERROR)
        return RDAPSYNC_ERROR;
    return a == RDAPSYNC_RETRY || b == RDAPSYNC_RETRY ? RDAPSYNC_RETRY : RDAPSYNC_OK;
}

/* Moves a lane's rejects and counts into the write's. */
static int merge(lane_work *w, rdapsync_sinktk_rejects *rejects, rdapsync_sinktk_tally *tally)
{
    tally->applied += w->tally.applied;
    tally->stale += w->tally.stale;
    for (size_t i = 0; i < w->tally.extra_count; i++)
        if (rdapsync_sinktk_tally_add(tally, w->tally.extra[i].name, w->tally.extra[i].value) != 0)
            return -1;
    for (size_t i = 0; i < w->rejects.count; i++)
        if (rdapsync_sinktk_rejects_add(rejects, w->rejects.items[i].record, "%s", w->rejects.items[i].reason) != 0)
            return -1;
    return 0;
}

rdapsync_status pgs_lanes_apply(pgs_state *st, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                                rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    if (st->lane_count == 1)
        return lane_apply(&st->lanes[0], plan, rejects, tally, err, err_size);

    size_t n = st->lane_count;
    lane_work *work = calloc(n, sizeof(*work));
    pthread_t *threads = calloc(n, sizeof(*threads));
    bool *started = calloc(n, sizeof(*started));
    rdapsync_status status = RDAPSYNC_OK;
    if (!work || !threads || !started || split(st, plan, work, &tally->already_stored) != 0) {
        snprintf(err, err_size, "out of memory");
        status = RDAPSYNC_ERROR;
        goto done;
    }
    for (size_t k = 1; k < n; k++)
        started[k] = pthread_create(&threads[k], NULL, lane_main, &work[k]) == 0;
    lane_main(&work[0]);
    for (size_t k = 1; k < n; k++) {
        if (started[k])
            pthread_join(threads[k], NULL);
        else /* no thread: this lane's part is written here, after lane 0's */
            lane_main(&work[k]);
    }
    for (size_t k = 0; k < n; k++) {
        if (work[k].status != RDAPSYNC_OK && status == RDAPSYNC_OK)
            snprintf(err, err_size, "connection %zu of %zu: %s", k + 1, n, work[k].err);
        status = worse(status, work[k].status);
    }
    for (size_t k = 0; status == RDAPSYNC_OK && k < n; k++)
        if (merge(&work[k], rejects, tally) != 0) {
            snprintf(err, err_size, "out of memory");
            status = RDAPSYNC_ERROR;
        }

done:
    for (size_t k = 0; work && k < n; k++) {
        free(work[k].part.rows);
        rdapsync_sinktk_rejects_free(&work[k].rejects);
    }
    free(work);
    free(threads);
    free(started);
    return status;
}
