/*
 * The register inside the writer's write(): records with vectors leave
 * the plan before the store's apply and go through the register instead,
 * in the same transaction (sinktk.h, "Multi-value register"). One copy of
 * the logic for every store; the store only loads and writes the heads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Counter names per strategy (the host keeps the pointers). */
static const char *const detected_names[] = { "conflicts_detected_lww", "conflicts_detected_region_priority",
                                              "conflicts_detected_merge", "conflicts_detected_manual" };
static const char *const resolved_names[] = { "conflicts_resolved_lww", "conflicts_resolved_region_priority",
                                              "conflicts_resolved_merge", "conflicts_resolved_manual" };

int sinktk_mvr_split(rdapsync_sinktk_plan *plan, sinktk_mvr_batch *out)
{
    memset(out, 0, sizeof(*out));
    size_t n = 0;
    for (size_t i = 0; i < plan->count; i++)
        n += plan->rows[i].record->vv.count > 0;
    if (n == 0)
        return 0;
    out->keys = calloc(n, sizeof(*out->keys));
    out->groups = calloc(n, sizeof(*out->groups));
    if (!out->keys || !out->groups) {
        sinktk_mvr_batch_free(out);
        return -1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < plan->count; i++) {
        rdapsync_sinktk_row row = plan->rows[i];
        if (row.record->vv.count == 0) {
            plan->rows[kept++] = row;
            continue;
        }
        /* Rows are planned before any store touches them: no data yet. */
        out->keys[out->count].record = row.record;
        out->groups[out->count++] = row.at_;
    }
    plan->count = kept;
    return 0;
}

const char *const sinktk_mvr_open_gauges[] = { "conflicts_open_lww", "conflicts_open_region_priority",
                                                 "conflicts_open_merge", "conflicts_open_manual" };

void sinktk_mvr_batch_free(sinktk_mvr_batch *batch)
{
    for (size_t i = 0; batch->keys && i < batch->count; i++)
        rdapsync_sinktk_mvr_key_clear(&batch->keys[i]);
    free(batch->keys);
    free(batch->groups);
    memset(batch, 0, sizeof(*batch));
}

static bool same_key(const rdapsync_record *a, const rdapsync_record *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* The step of key k over its records of the plan. 0, or -1 with err. */
static int step_one(const rdapsync_sinktk_writer *w, const rdapsync_sinktk_plan *plan, sinktk_mvr_batch *batch,
                    size_t k, char *err, size_t err_size)
{
    rdapsync_sinktk_mvr_key *key = &batch->keys[k];
    size_t from = batch->groups[k], to = from;
    while (to < plan->sorted_count_ && same_key(plan->sorted_[to], key->record))
        to++;
    char reason[512];
    if (rdapsync_sinktk_mvr_step(w->config.host, w->config.conflicts, key, plan->sorted_ + from, to - from, reason,
                                 sizeof reason) != 0) {
        snprintf(err, err_size, "%s: key \"%.200s\": %s", w->config.label, key->record->key, reason);
        return -1;
    }
    return 0;
}

/* Steps every key; the keys whose docless head needs its row's document
 * go through ops->rows_load (one call for the batch) and step again. */
static rdapsync_status step_all(const rdapsync_sinktk_writer *w, const rdapsync_sinktk_plan *plan,
                                sinktk_mvr_batch *batch, char *err, size_t err_size)
{
    const rdapsync_sinktk_store_ops *ops = w->config.ops;
    size_t need = 0;
    for (size_t k = 0; k < batch->count; k++) {
        batch->keys[k].lone_docless = ops->rows_load != NULL;
        batch->keys[k].doc_as_value = w->config.mvr_doc_values;
        if (step_one(w, plan, batch, k, err, err_size) != 0)
            return RDAPSYNC_ERROR;
        need += batch->keys[k].need_row;
    }
    if (need == 0)
        return RDAPSYNC_OK;
    if (!ops->rows_load) {
        /* Only a store with rows_load stores heads without documents. */
        snprintf(err, err_size, "%s: stored heads without documents, and the store cannot load rows",
                 w->config.label);
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = ops->rows_load(w->config.store, batch->keys, batch->count, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    for (size_t k = 0; k < batch->count; k++) {
        if (!batch->keys[k].need_row)
            continue;
        batch->keys[k].row_loaded = true;
        if (step_one(w, plan, batch, k, err, err_size) != 0)
            return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}

/* Counts what the steps did and moves the changed keys to the front.
 * Returns how many changed. */
static size_t tally_all(const rdapsync_sinktk_writer *w, sinktk_mvr_batch *batch, rdapsync_sinktk_tally *tally)
{
    const rdapsync_sinktk_conflicts *c = w->config.conflicts;
    size_t changed = 0;
    for (size_t k = 0; k < batch->count; k++) {
        rdapsync_sinktk_mvr_key *key = &batch->keys[k];
        tally->stale += key->stale;
        if (!key->changed)
            continue;
        tally->applied++;
        if (key->log == RDAPSYNC_SINKTK_LOG_OPEN && key->head_count_before <= 1) {
            rdapsync_sinktk_tally_add(tally, detected_names[c->strategy], 1);
            batch->opened++;
        }
        if (key->log == RDAPSYNC_SINKTK_LOG_RESOLVE) {
            rdapsync_sinktk_tally_add(tally, resolved_names[c->strategy], 1);
            batch->resolved++;
        }
        if (k != changed) {
            rdapsync_sinktk_mvr_key swap = batch->keys[changed];
            batch->keys[changed] = *key;
            *key = swap;
            size_t g = batch->groups[changed];
            batch->groups[changed] = batch->groups[k];
            batch->groups[k] = g;
        }
        changed++;
    }
    return changed;
}

rdapsync_status sinktk_mvr_apply(const rdapsync_sinktk_writer *writer, const rdapsync_sinktk_plan *plan,
                                 sinktk_mvr_batch *batch, rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    const rdapsync_sinktk_store_ops *ops = writer->config.ops;
    if (batch->count == 0)
        return RDAPSYNC_OK;
    rdapsync_status status = ops->heads_load(writer->config.store, batch->keys, batch->count, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    if ((status = step_all(writer, plan, batch, err, err_size)) != RDAPSYNC_OK)
        return status;
    size_t changed = tally_all(writer, batch, tally);
    if (changed == 0)
        return RDAPSYNC_OK;
    return ops->heads_write(writer->config.store, batch->keys, changed, err, err_size);
}
