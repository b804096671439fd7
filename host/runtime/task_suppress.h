/*
 * "Erased stays erased" (compliance.suppression, docs/compliance.md): after
 * a batch's transforms and before its sink, every record and dead letter
 * about a subject on the suppression list is redacted with the `suppress`
 * policy (every contact removed), in every pipeline, whether or not it has
 * a redact transform of its own.
 *
 * The list holds keyed hashes only, so a record is checked from its side:
 * every string in it, put in each subject kind's compare form (the sinks'
 * own, rdapsync_sinktk_subject_prepare; a "mailto:" URI as its address),
 * is hashed and looked up. That is wider than the sinks' matcher (an
 * organisation that bears a suppressed person's name is redacted too): on
 * the side of not bringing the data back.
 */
#ifndef RDAPSYNC_HOST_TASK_SUPPRESS_H
#define RDAPSYNC_HOST_TASK_SUPPRESS_H

#include <stdbool.h>

#include <rdapsync/rdapsync.h>

#include "base/suppression.h"
#include "config/compliance_config.h"

struct task;
struct task_cycle;

/* Opens the process's list (run). 0, or -1 with err. NULL path: no list. */
int task_suppress_start(const keyed_path *settings, char *err, size_t err_size);
void task_suppress_stop(void);

/* Whether `doc` names a subject on `list`. Pure but for the list's lock. */
bool task_suppress_matches(suppression_list *list, const rdapsync_json_api *j, const rdapsync_value *doc);

/* Redacts c's records (those t->keep keeps) and dead letters about
 * suppressed subjects, with the task's suppress instance; a record that
 * still names the subject after it is taken out of the batch with a
 * warning. Task thread, after the fill and before batch_keep(). Counted in
 * the redaction tally (field "suppressed"). */
void task_suppress_cycle(struct task *t, struct task_cycle *c);

#endif
