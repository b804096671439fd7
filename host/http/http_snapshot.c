/* Copies of the metrics registries for one request of the endpoint. */
#include "http/http_snapshot.h"

#include <stdlib.h>
#include <string.h>

typedef struct collect {
    http_snapshot *snap;
    size_t capacity;
    bool failed;
} collect;

static void collect_task(task_stats *stats, void *opaque)
{
    collect *c = opaque;
    http_snapshot *snap = c->snap;

    if (c->failed)
        return;
    if (snap->task_count == c->capacity) {
        size_t capacity = c->capacity ? c->capacity * 2 : 16;
        task_stats_snapshot *grown = realloc(snap->tasks, capacity * sizeof(*grown));
        if (!grown) {
            c->failed = true;
            return;
        }
        snap->tasks = grown;
        c->capacity = capacity;
    }
    if (task_stats_snapshot_take(stats, &snap->tasks[snap->task_count]) != 0) {
        c->failed = true;
        return;
    }
    snap->task_count++;
}

static void collect_plugin(const plugin_metric_view *view, void *opaque)
{
    collect *c = opaque;
    http_snapshot *snap = c->snap;

    if (c->failed)
        return;
    if (snap->plugin_count == c->capacity) {
        size_t capacity = c->capacity ? c->capacity * 2 : 32;
        http_plugin_value *grown = realloc(snap->plugins, capacity * sizeof(*grown));
        if (!grown) {
            c->failed = true;
            return;
        }
        snap->plugins = grown;
        c->capacity = capacity;
    }
    http_plugin_value *v = &snap->plugins[snap->plugin_count];
    v->pipeline = strdup(view->pipeline);
    v->plugin = strdup(view->plugin);
    v->name = strdup(view->name);
    v->task = view->task;
    v->counter = view->counter;
    v->value = view->value;
    snap->plugin_count++; /* counted even when a copy failed, so it is freed */
    if (!v->pipeline || !v->plugin || !v->name)
        c->failed = true;
}

/* Samples of one family must be contiguous in the exposition format. */
static int compare_plugin(const void *a, const void *b)
{
    const http_plugin_value *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if (x->counter != y->counter)
        return x->counter ? -1 : 1;
    if ((c = strcmp(x->pipeline, y->pipeline)) != 0)
        return c;
    if (x->task != y->task)
        return x->task < y->task ? -1 : 1;
    return strcmp(x->plugin, y->plugin);
}

int http_snapshot_take(http_snapshot *snap)
{
    collect c = {snap, 0, false};

    memset(snap, 0, sizeof(*snap));
    metrics_task_each(collect_task, &c);
    if (c.failed)
        goto fail;
    c.capacity = 0;
    metrics_plugin_each(collect_plugin, &c);
    if (c.failed)
        goto fail;
    if (snap->plugin_count > 1)
        qsort(snap->plugins, snap->plugin_count, sizeof(*snap->plugins), compare_plugin);
    return 0;
fail:
    http_snapshot_free(snap);
    return -1;
}

void http_snapshot_free(http_snapshot *snap)
{
    for (size_t i = 0; i < snap->task_count; i++)
        task_stats_snapshot_free(&snap->tasks[i]);
    free(snap->tasks);
    for (size_t i = 0; i < snap->plugin_count; i++) {
        free(snap->plugins[i].pipeline);
        free(snap->plugins[i].plugin);
        free(snap->plugins[i].name);
    }
    free(snap->plugins);
    memset(snap, 0, sizeof(*snap));
}

bool http_snapshot_gauge(const http_snapshot *snap, const char *pipeline, int task, const char *name, double *value)
{
    for (size_t i = 0; i < snap->plugin_count; i++) {
        const http_plugin_value *v = &snap->plugins[i];
        if (!v->counter && v->task == task && strcmp(v->name, name) == 0 && strcmp(v->pipeline, pipeline) == 0) {
            *value = v->value;
            return true;
        }
    }
    return false;
}
