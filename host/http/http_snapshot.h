/*
 * A consistent copy of every task's statistics and every plugin metric, taken
 * once per request so that /metrics and /status render from values that
 * do not move under them. Internal to http*.c.
 */
#ifndef RDAPSYNC_HOST_HTTP_SNAPSHOT_H
#define RDAPSYNC_HOST_HTTP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/metrics.h"

typedef struct http_plugin_value {
    char *pipeline, *plugin, *name; /* owned */
    int task;
    bool counter;
    double value;
} http_plugin_value;

typedef struct http_snapshot {
    task_stats_snapshot *tasks; /* owned; in creation order */
    size_t task_count;
    http_plugin_value *plugins; /* owned; sorted by name, kind, pipeline, task, plugin */
    size_t plugin_count;
} http_snapshot;

/* 0, or -1 when out of memory (nothing to free then). Free with
 * http_snapshot_free(). */
int http_snapshot_take(http_snapshot *snap);
void http_snapshot_free(http_snapshot *snap);

/* The plugin gauge `name` of one task (any plugin), or false. */
bool http_snapshot_gauge(const http_snapshot *snap, const char *pipeline, int task, const char *name, double *value);

/* True when every task moves records or finished its input and the runtime
 * is not draining: /readyz's answer (http_status.c). */
bool http_status_ready(const http_snapshot *snap);

#endif
