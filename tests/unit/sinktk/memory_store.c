#include "memory_store.h"

#include <stdio.h>
#include <string.h>

static rdapsync_status injected(memory_store *s, enum memory_op op, char *err, size_t err_size)
{
    s->calls[op]++;
    rdapsync_status status = s->fail[op];
    s->fail[op] = RDAPSYNC_OK;
    if (status != RDAPSYNC_OK)
        snprintf(err, err_size, "injected failure of operation %d", (int)op);
    return status;
}

int64_t memory_table_ts(const memory_table *table, const char *key)
{
    for (size_t i = 0; i < table->count; i++)
        if (strcmp(table->rows[i].key, key) == 0)
            return table->rows[i].ts;
    return -1;
}

/* The version guard on event times only: enough for these tests. */
static void table_put(memory_table *table, const rdapsync_record *record, rdapsync_sinktk_tally *tally)
{
    memory_row *row = NULL;
    for (size_t i = 0; i < table->count && !row; i++)
        if (strcmp(table->rows[i].key, record->key) == 0)
            row = &table->rows[i];
    if (row && row->ts >= record->version.event_time_ms) {
        tally->stale++;
        return;
    }
    if (!row && table->count < MEMORY_ROWS)
        row = &table->rows[table->count++];
    if (!row)
        return;
    snprintf(row->key, sizeof(row->key), "%s", record->key);
    row->ts = record->version.event_time_ms;
    row->deleted = record->op == RDAPSYNC_OP_DELETE;
    tally->applied++;
}

static rdapsync_status m_connect(void *store, bool first, char *err, size_t err_size)
{
    memory_store *s = store;
    (void)first;
    rdapsync_status status = injected(s, OP_CONNECT, err, err_size);
    s->connected = status == RDAPSYNC_OK;
    return status;
}

static void m_disconnect(void *store)
{
    memory_store *s = store;
    s->calls[OP_DISCONNECT]++;
    s->connected = false;
    s->in_transaction = false;
}

static rdapsync_status m_begin(void *store, char *err, size_t err_size)
{
    memory_store *s = store;
    rdapsync_status status = injected(s, OP_BEGIN, err, err_size);
    if (status == RDAPSYNC_OK) {
        s->in_transaction = true;
        s->txn = s->durable;
        rdapsync_sinktk_positions_clear(&s->txn_positions);
    }
    return status;
}

static rdapsync_status m_commit(void *store, char *err, size_t err_size)
{
    memory_store *s = store;
    rdapsync_status status = injected(s, OP_COMMIT, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    s->durable = s->txn;
    s->in_transaction = false;
    return rdapsync_sinktk_positions_merge(&s->durable_positions, &s->txn_positions) == 0 ? RDAPSYNC_OK
                                                                                          : RDAPSYNC_ERROR;
}

static rdapsync_status m_rollback(void *store, char *err, size_t err_size)
{
    memory_store *s = store;
    s->in_transaction = false;
    return injected(s, OP_ROLLBACK, err, err_size);
}

static rdapsync_status m_apply(void *store, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                               rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    memory_store *s = store;
    memory_table *table = s->in_transaction ? &s->txn : &s->durable;
    for (size_t i = 0; i < plan->count;) {
        const rdapsync_record *record = plan->rows[i].record;
        if (s->refuse_ts && record->version.event_time_ms == s->refuse_ts) {
            if (rdapsync_sinktk_rejects_add(rejects, record, "memory refused \"%s\"", record->key) != 0)
                return RDAPSYNC_ERROR;
            if (!rdapsync_sinktk_plan_fallback(plan, i))
                i++;
            continue;
        }
        table_put(table, record, tally);
        i++;
    }
    if (rdapsync_sinktk_tally_add(tally, "memory_applies", 1) != 0)
        return RDAPSYNC_ERROR;
    /* A failure comes after the work, like a connection lost mid-batch. */
    return injected(s, OP_APPLY, err, err_size);
}

static rdapsync_status m_load(void *store, const char *pipeline, int task, rdapsync_sinktk_positions *out, char *err,
                              size_t err_size)
{
    memory_store *s = store;
    (void)pipeline;
    (void)task;
    rdapsync_status status = injected(s, OP_LOAD, err, err_size);
    if (status == RDAPSYNC_OK && rdapsync_sinktk_positions_merge(out, &s->durable_positions) != 0)
        status = RDAPSYNC_ERROR;
    return status;
}

static rdapsync_status m_save(void *store, const char *pipeline, int task, const rdapsync_sinktk_positions *positions,
                              char *err, size_t err_size)
{
    memory_store *s = store;
    (void)pipeline;
    (void)task;
    rdapsync_status status = injected(s, OP_SAVE, err, err_size);
    if (status == RDAPSYNC_OK && rdapsync_sinktk_positions_merge(&s->txn_positions, positions) != 0)
        status = RDAPSYNC_ERROR;
    return status;
}

void memory_store_free(memory_store *store)
{
    rdapsync_sinktk_positions_free(&store->durable_positions);
    rdapsync_sinktk_positions_free(&store->txn_positions);
}

const rdapsync_sinktk_store_ops memory_store_ops = {
    .connect = m_connect,
    .disconnect = m_disconnect,
    .begin = m_begin,
    .commit = m_commit,
    .rollback = m_rollback,
    .apply = m_apply,
    .load_positions = m_load,
    .save_positions = m_save,
};

const rdapsync_sinktk_store_ops memory_store_autocommit_ops = {
    .connect = m_connect,
    .disconnect = m_disconnect,
    .apply = m_apply,
};
