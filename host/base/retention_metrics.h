/* rdapsync_retention_purged_total{pipeline}: documents the retention purge
 * deleted or anonymised (runtime/retention.c), for /metrics. */
#ifndef RDAPSYNC_HOST_RETENTION_METRICS_H
#define RDAPSYNC_HOST_RETENTION_METRICS_H

#include <stdint.h>
#include <stdio.h>

void retention_metrics_add(const char *pipeline, uint64_t purged);
/* The family in the Prometheus text format (HELP and TYPE even when empty). */
void retention_metrics_render(FILE *out);

#endif
