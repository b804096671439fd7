/*
 * A task's count of redactions per field class, for the audit trail's
 * per-batch summary: the redact transform adds a counter
 * "redactions_<field>" per redaction (counts, never values); the task takes
 * the sum when a batch's fill is over and writes it to the trail once the
 * batch is delivered and checkpointed.
 */
#ifndef RDAPSYNC_HOST_REDACTION_TALLY_H
#define RDAPSYNC_HOST_REDACTION_TALLY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define REDACTION_TALLY_SLOTS 24
#define REDACTION_COUNTER_PREFIX "redactions_"

typedef struct redaction_counts {
    const char *names[REDACTION_TALLY_SLOTS]; /* the plugin's static counter names */
    uint64_t counts[REDACTION_TALLY_SLOTS];
    size_t used;
} redaction_counts;

typedef struct redaction_tally {
    pthread_mutex_t lock; /* transforms count from the task thread, the transformer and concurrent calls */
    redaction_counts open;
} redaction_tally;

void redaction_tally_init(redaction_tally *t);
void redaction_tally_destroy(redaction_tally *t);
/* Counts `delta` when `name` is a redaction counter; any other is ignored. Any thread. */
void redaction_tally_add(redaction_tally *t, const char *name, uint64_t delta);
/* Moves what was counted so far into *out and starts again from zero. */
void redaction_tally_take(redaction_tally *t, redaction_counts *out);
/* One "redaction" line in the audit trail for a delivered batch of
 * `records` records of pipeline/task; nothing when no redaction was counted
 * or there is no trail. */
void redaction_counts_audit(const redaction_counts *c, const char *pipeline, int task, size_t records);

#endif
