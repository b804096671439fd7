/*
 * The retention purge (docs/compliance.md): documents past their
 * rdapsync.retention_until deadline deleted, or anonymised (every contact
 * redacted with the `suppress` policy) under retention.action anonymise,
 * in a pipeline's sink and dead-letter sink, through their ABI 1.5
 * retention_purge, on instances opened for it: `rdapsync retention --now`.
 * The daemon's purge runs in each task on its own instances
 * (task_retention.c).
 */
#ifndef RDAPSYNC_HOST_RETENTION_H
#define RDAPSYNC_HOST_RETENTION_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "config/config.h"

/* Purges pipeline p at now_ms, every task index of both stores. Adds the
 * count to *purged and to rdapsync_retention_purged_total; appends each
 * store's outcome to `sinks` (may be NULL) and prints it to `report` (may
 * be NULL; else logged). 0 when every store was purged, 1 when one could
 * not be (not reachable, no retention_purge). */
int retention_purge_pipeline(const rdapsync_config *config, const pipeline_config *p, int64_t now_ms,
                             uint64_t *purged, json_t *sinks, FILE *report);

/* Every pipeline of config, then one "retention" line in the audit trail
 * (trigger: "command" or "interval"). 0, or 1 when a store was missed. */
int retention_purge_all(const rdapsync_config *config, const char *trigger, int64_t now_ms, FILE *report);

#endif
