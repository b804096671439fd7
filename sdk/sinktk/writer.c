/*
 * The frame around a store: when to connect, begin, commit, roll back and
 * reload positions, and what a failure means for the writes the host was
 * already told are done. The store only knows how (sinktk.h).
 *
 * One transaction spans the writes between two flushes. A RETRY asks the
 * host to write the failed batch again; if the transaction also held
 * earlier batches the host had an OK for, they are gone with the
 * rollback, so the answer becomes ERROR: the task restarts from its last
 * checkpoint and nothing is lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool transactional(const rdapsync_sinktk_writer *w)
{
    return w->config.ops->begin != NULL;
}

static rdapsync_status out_of_memory(char *err, size_t err_size)
{
    snprintf(err, err_size, "out of memory");
    return RDAPSYNC_ERROR;
}

static void session_drop(rdapsync_sinktk_writer *w)
{
    if (w->connected)
        w->config.ops->disconnect(w->config.store);
    w->connected = false;
    w->in_transaction = false;
    w->writes_in_transaction = 0;
    rdapsync_sinktk_positions_clear(&w->pending);
}

static void report_conflicts_open(const rdapsync_sinktk_writer *w)
{
    if (w->config.conflicts)
        w->config.host->gauge_set(w->config.ctx, sinktk_mvr_open_gauges[w->config.conflicts->strategy],
                                  (double)w->conflicts_open);
}

/* The gauge starts again from the log at every connect: a restart, or a
 * rollback of writes this writer had already counted. */
static rdapsync_status read_conflicts_open(rdapsync_sinktk_writer *w, char *err, size_t err_size)
{
    uint64_t count = 0;
    if (!w->config.conflicts)
        return RDAPSYNC_OK;
    if (w->config.ops->conflicts_open) {
        rdapsync_status status = w->config.ops->conflicts_open(w->config.store, &count, err, err_size);
        if (status != RDAPSYNC_OK)
            return status;
    }
    w->conflicts_open = (int64_t)count;
    report_conflicts_open(w);
    return RDAPSYNC_OK;
}

/* A session, and exactly-once what the store holds: also after a
 * reconnect, since a COMMIT whose answer was lost may have stored
 * positions the writer does not know of yet. */
static rdapsync_status session_connect(rdapsync_sinktk_writer *w, bool first, char *err, size_t err_size)
{
    const rdapsync_sinktk_store_ops *ops = w->config.ops;
    rdapsync_status status = ops->connect(w->config.store, first, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    w->connected = true;
    if ((status = read_conflicts_open(w, err, err_size)) != RDAPSYNC_OK) {
        session_drop(w);
        return status;
    }
    if (!w->config.exactly_once)
        return RDAPSYNC_OK;
    rdapsync_sinktk_positions_clear(&w->committed);
    status = ops->load_positions(w->config.store, w->pipeline, w->task, &w->committed, err, err_size);
    if (status != RDAPSYNC_OK)
        session_drop(w);
    return status;
}

static void announce_positions(const rdapsync_sinktk_writer *w)
{
    const rdapsync_host *host = w->config.host;
    for (size_t i = 0; i < w->committed.count; i++) {
        const rdapsync_sinktk_position *p = &w->committed.items[i];
        host->checkpoint_override(w->config.ctx, *p->stream ? p->stream : NULL, p->partition, p->offset);
        host->log(w->config.ctx, RDAPSYNC_LOG_INFO, "exactly-once: resuming %s[%d] after offset %lld",
                  *p->stream ? p->stream : "-", (int)p->partition, (long long)p->offset);
    }
}

rdapsync_status rdapsync_sinktk_writer_open(rdapsync_sinktk_writer *writer, const rdapsync_sinktk_writer_config *config,
                                            char *err, size_t err_size)
{
    memset(writer, 0, sizeof(*writer));
    writer->config = *config;
    const rdapsync_sinktk_store_ops *ops = config->ops;
    bool with_transactions = ops->begin && ops->commit && ops->rollback;
    bool some_transactions = ops->begin || ops->commit || ops->rollback;
    if (!ops->connect || !ops->disconnect || !ops->apply || with_transactions != some_transactions ||
        (config->exactly_once && (!with_transactions || !ops->load_positions || !ops->save_positions)) ||
        (config->conflicts && (!ops->heads_load || !ops->heads_write))) {
        snprintf(err, err_size, "%s: the store lacks operations its configuration needs", config->label);
        return RDAPSYNC_ERROR;
    }
    const char *pipeline = config->host->pipeline_name(config->ctx);
    writer->task = config->host->task_index(config->ctx);
    writer->pipeline = strdup(pipeline ? pipeline : "");
    if (!writer->pipeline)
        return out_of_memory(err, err_size);
    rdapsync_status status = session_connect(writer, true, err, err_size);
    if (status != RDAPSYNC_OK) {
        rdapsync_sinktk_writer_close(writer);
        return status;
    }
    announce_positions(writer);
    return RDAPSYNC_OK;
}

void rdapsync_sinktk_writer_close(rdapsync_sinktk_writer *writer)
{
    if (writer->connected)
        writer->config.ops->disconnect(writer->config.store);
    rdapsync_sinktk_positions_free(&writer->committed);
    rdapsync_sinktk_positions_free(&writer->pending);
    free(writer->pipeline);
    memset(writer, 0, sizeof(*writer));
}

/* Ends the open transaction after a failure (see the top of the file). */
static rdapsync_status abort_writes(rdapsync_sinktk_writer *w, rdapsync_status status, size_t acknowledged,
                                    char *err, size_t err_size)
{
    if (status == RDAPSYNC_RETRY || !w->connected || !transactional(w)) {
        session_drop(w);
    } else if (w->in_transaction) {
        char rollback_err[256];
        if (w->config.ops->rollback(w->config.store, rollback_err, sizeof(rollback_err)) != RDAPSYNC_OK)
            session_drop(w);
    }
    w->in_transaction = false;
    w->writes_in_transaction = 0;
    rdapsync_sinktk_positions_clear(&w->pending);
    if (status == RDAPSYNC_RETRY && acknowledged > 0) {
        size_t len = strlen(err);
        snprintf(err + len, err_size - len, " (lost %zu acknowledged write(s) of this transaction)", acknowledged);
        return RDAPSYNC_ERROR;
    }
    if (status == RDAPSYNC_RETRY)
        w->config.host->log(w->config.ctx, RDAPSYNC_LOG_WARN, "%s, the batch will be written again: %s",
                            transactional(w) ? "transaction rolled back" : "write failed", err);
    return status;
}

static rdapsync_status begin(rdapsync_sinktk_writer *w, char *err, size_t err_size)
{
    rdapsync_status status;
    if (!w->connected && (status = session_connect(w, false, err, err_size)) != RDAPSYNC_OK)
        return status;
    if (!transactional(w) || w->in_transaction)
        return RDAPSYNC_OK;
    if ((status = w->config.ops->begin(w->config.store, err, err_size)) != RDAPSYNC_OK) {
        session_drop(w);
        return status;
    }
    w->in_transaction = true;
    w->writes_in_transaction = 0;
    return RDAPSYNC_OK;
}

rdapsync_status rdapsync_sinktk_writer_write(rdapsync_sinktk_writer *writer, const rdapsync_batch *batch, char *err,
                                             size_t err_size)
{
    const rdapsync_host *host = writer->config.host;
    rdapsync_sinktk_plan plan = { 0 };
    rdapsync_sinktk_rejects rejects = { 0 };
    rdapsync_sinktk_positions seen = { 0 };
    rdapsync_sinktk_tally tally = { 0 };
    sinktk_mvr_batch registered = { 0 };
    rdapsync_status status;

    if (host->batch_count(batch) == 0)
        return RDAPSYNC_OK;
    if ((status = begin(writer, err, err_size)) != RDAPSYNC_OK)
        return status;
    size_t acknowledged = writer->writes_in_transaction;

    rdapsync_sinktk_plan_config plan_config = {
        .label = writer->config.label,
        .mode = writer->config.mode,
        .stored = writer->config.exactly_once ? &writer->committed : NULL,
        .release = writer->config.release,
    };
    if (rdapsync_sinktk_plan_build(&plan, host, batch, &plan_config, &rejects) != 0)
        goto oom;
    if (writer->config.exactly_once && rdapsync_sinktk_positions_note_batch(&seen, host, batch) != 0)
        goto oom;
    if (writer->config.conflicts && sinktk_mvr_split(&plan, &registered) != 0)
        goto oom;
    tally.already_stored = plan.already_stored;
    status = writer->config.ops->apply(writer->config.store, &plan, &rejects, &tally, err, err_size);
    if (status == RDAPSYNC_OK)
        status = sinktk_mvr_apply(writer, &plan, &registered, &tally, err, err_size);
    if (status != RDAPSYNC_OK) {
        status = abort_writes(writer, status, acknowledged, err, err_size);
        goto done;
    }
    if (rdapsync_sinktk_positions_merge(&writer->pending, &seen) != 0)
        goto oom;
    if (transactional(writer))
        writer->writes_in_transaction++;
    rdapsync_sinktk_report(host, writer->config.ctx, &tally, &rejects);
    if (registered.opened || registered.resolved) {
        writer->conflicts_open += (int64_t)registered.opened - (int64_t)registered.resolved;
        report_conflicts_open(writer);
    }
    goto done;

oom:
    status = abort_writes(writer, out_of_memory(err, err_size), acknowledged, err, err_size);
done:
    sinktk_mvr_batch_free(&registered);
    rdapsync_sinktk_plan_free(&plan);
    rdapsync_sinktk_rejects_free(&rejects);
    rdapsync_sinktk_positions_free(&seen);
    return status;
}

rdapsync_status rdapsync_sinktk_writer_flush(rdapsync_sinktk_writer *writer, char *err, size_t err_size)
{
    const rdapsync_sinktk_store_ops *ops = writer->config.ops;
    rdapsync_status status;

    if (!writer->in_transaction)
        return RDAPSYNC_OK;
    /* Every write of the transaction had its OK: all of them are lost if
     * the commit fails, which only a RETRY of a single write covers. */
    size_t acknowledged = writer->writes_in_transaction > 1 ? writer->writes_in_transaction : 0;
    if (writer->config.exactly_once && writer->pending.count > 0 &&
        (status = ops->save_positions(writer->config.store, writer->pipeline, writer->task, &writer->pending, err,
                                      err_size)) != RDAPSYNC_OK)
        return abort_writes(writer, status, acknowledged, err, err_size);
    if ((status = ops->commit(writer->config.store, err, err_size)) != RDAPSYNC_OK)
        return abort_writes(writer, status, acknowledged, err, err_size);
    writer->in_transaction = false;
    writer->writes_in_transaction = 0;
    if (rdapsync_sinktk_positions_merge(&writer->committed, &writer->pending) != 0)
        return out_of_memory(err, err_size);
    rdapsync_sinktk_positions_clear(&writer->pending);
    writer->config.host->counter_add(writer->config.ctx, "transactions", 1);
    return RDAPSYNC_OK;
}
