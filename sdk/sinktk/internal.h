/*
 * What the toolkit's files share and plugins do not see (hidden symbols
 * of the static library, not part of sinktk.h).
 */
#ifndef RDAPSYNC_SINKTK_INTERNAL_H
#define RDAPSYNC_SINKTK_INTERNAL_H

#include <rdapsync/sinktk.h>

/* The keys of a batch that go to the register, taken out of a plan. */
typedef struct sinktk_mvr_batch {
    rdapsync_sinktk_mvr_key *keys;
    size_t *groups; /* per key: where its records start in the plan's sorted records */
    size_t count;
    size_t opened, resolved; /* conflicts this batch opened / resolved (after sinktk_mvr_apply) */
} sinktk_mvr_batch;

/*
 * Moves the rows whose record carries a vector out of `plan` (the rest
 * keep their order) into `out`. 0, or -1 when out of memory (the plan is
 * then untouched and `out` empty).
 */
int sinktk_mvr_split(rdapsync_sinktk_plan *plan, sinktk_mvr_batch *out);

/*
 * Runs the register for the keys of `batch`: ops->heads_load, the step of
 * each key (ops->rows_load and the step again for the keys that need a
 * docless head's document), ops->heads_write for the changed ones; adds to `tally`
 * (applied, stale and the conflict counters). OK, RETRY or ERROR with err.
 */
rdapsync_status sinktk_mvr_apply(const rdapsync_sinktk_writer *writer, const rdapsync_sinktk_plan *plan,
                                 sinktk_mvr_batch *batch, rdapsync_sinktk_tally *tally, char *err, size_t err_size);

/* The open-conflicts gauge's name per strategy (static strings). */
extern const char *const sinktk_mvr_open_gauges[];

/* Frees what `batch` holds; leaves it zeroed. */
void sinktk_mvr_batch_free(sinktk_mvr_batch *batch);

#endif
