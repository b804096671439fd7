/*
 * /metrics: the Prometheus text exposition format (version 0.0.4). Names
 * follow Prometheus conventions: a rdapsync_ prefix, base units (seconds),
 * _total on counters; every family is written whole (HELP, TYPE, samples)
 * because the format wants a family's samples together. The list of names
 * and what each means is in docs/operations.md.
 */
#include "base/retention_metrics.h"
#include "http/http.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_snapshot.h"
#include "trace/otel.h"

/* Label values: backslash, double quote and newline are escaped. */
static void put_label_value(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", out);
        else if (*s == '"')
            fputs("\\\"", out);
        else if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
}

/* Metric names are [a-zA-Z_:][a-zA-Z0-9_:]*; plugins promise [a-z0-9_]+
 * but a broken one must not break the whole page. */
static void put_name_part(FILE *out, const char *s)
{
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        fputc(ok ? c : '_', out);
    }
}

static void put_double(FILE *out, double v)
{
    if (isnan(v))
        fputs("NaN", out);
    else if (isinf(v))
        fputs(v > 0 ? "+Inf" : "-Inf", out);
    else
        fprintf(out, "%.17g", v);
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void task_labels(FILE *out, const task_stats_snapshot *t)
{
    fputs("pipeline=\"", out);
    put_label_value(out, t->pipeline);
    fprintf(out, "\",task=\"%d\"", t->task_index);
}

typedef uint64_t (*task_value_fn)(const task_stats_snapshot *t);

static uint64_t v_in(const task_stats_snapshot *t) { return t->counts.records_in; }
static uint64_t v_out(const task_stats_snapshot *t) { return t->counts.records_out; }
static uint64_t v_dead(const task_stats_snapshot *t) { return t->counts.dead_lettered; }
static uint64_t v_dropped(const task_stats_snapshot *t) { return t->counts.dropped; }
static uint64_t v_batches(const task_stats_snapshot *t) { return t->batches; }
static uint64_t v_retries(const task_stats_snapshot *t) { return t->retries; }
static uint64_t v_restarts(const task_stats_snapshot *t) { return t->restarts; }

static void task_counter(FILE *out, const http_snapshot *snap, const char *name, const char *help, task_value_fn fn)
{
    family(out, name, "counter", help);
    for (size_t i = 0; i < snap->task_count; i++) {
        fprintf(out, "%s{", name);
        task_labels(out, &snap->tasks[i]);
        fprintf(out, "} %" PRIu64 "\n", fn(&snap->tasks[i]));
    }
}

static void task_errors(FILE *out, const http_snapshot *snap)
{
    const char *name = "rdapsync_task_record_errors_total";
    family(out, name, "counter", "Per-record errors by the stage that raised them (source, transform, sink).");
    for (size_t i = 0; i < snap->task_count; i++)
        for (int stage = 0; stage < STAGE_COUNT; stage++) {
            fprintf(out, "%s{", name);
            task_labels(out, &snap->tasks[i]);
            fprintf(out, ",stage=\"%s\"} %" PRIu64 "\n", error_stage_str((error_stage)stage),
                    snap->tasks[i].counts.errors[stage]);
        }
}

static void task_states(FILE *out, const http_snapshot *snap)
{
    const char *name = "rdapsync_task_state";
    family(out, name, "gauge", "1 for the state the task slot is in, 0 for the others.");
    for (size_t i = 0; i < snap->task_count; i++)
        for (int state = TASK_STARTING; state <= TASK_FAILED; state++) {
            fprintf(out, "%s{", name);
            task_labels(out, &snap->tasks[i]);
            fprintf(out, ",state=\"%s\"} %d\n", task_state_str((task_state)state),
                    snap->tasks[i].state == (task_state)state);
        }
    name = "rdapsync_task_circuit_open";
    family(out, name, "gauge",
           "1 while the task makes no calls: backing off after RETRY or a failure, or failed for good.");
    for (size_t i = 0; i < snap->task_count; i++) {
        fprintf(out, "%s{", name);
        task_labels(out, &snap->tasks[i]);
        fprintf(out, "} %d\n", strcmp(http_circuit_str(snap->tasks[i].state), "open") == 0);
    }
}

static void task_latency(FILE *out, const http_snapshot *snap)
{
    const char *name = "rdapsync_task_batch_write_duration_seconds";
    family(out, name, "histogram", "Time a delivered batch spent in sink write + flush, retries included.");
    for (size_t i = 0; i < snap->task_count; i++) {
        const task_stats_snapshot *t = &snap->tasks[i];
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= METRICS_LATENCY_BOUNDS; b++) {
            cumulative += t->write_latency_buckets[b];
            fprintf(out, "%s_bucket{", name);
            task_labels(out, t);
            fputs(",le=\"", out);
            if (b < METRICS_LATENCY_BOUNDS)
                fprintf(out, "%g", metrics_latency_bounds[b]);
            else
                fputs("+Inf", out);
            fprintf(out, "\"} %" PRIu64 "\n", cumulative);
        }
        fprintf(out, "%s_sum{", name);
        task_labels(out, t);
        fputs("} ", out);
        put_double(out, (double)t->total_write_latency_us / 1e6);
        fprintf(out, "\n%s_count{", name);
        task_labels(out, t);
        fprintf(out, "} %" PRIu64 "\n", cumulative);
    }
}

static void task_checkpoints(FILE *out, const http_snapshot *snap, int64_t now_ms)
{
    const char *name = "rdapsync_task_last_checkpoint_timestamp_seconds";
    family(out, name, "gauge", "Wall-clock time of the task's last checkpoint (absent before the first one).");
    for (size_t i = 0; i < snap->task_count; i++) {
        if (snap->tasks[i].last_checkpoint_ms <= 0)
            continue;
        fprintf(out, "%s{", name);
        task_labels(out, &snap->tasks[i]);
        fputs("} ", out);
        put_double(out, (double)snap->tasks[i].last_checkpoint_ms / 1000.0);
        fputc('\n', out);
    }
    name = "rdapsync_task_checkpoint_age_seconds";
    family(out, name, "gauge", "Seconds since the task's last checkpoint, at scrape time.");
    for (size_t i = 0; i < snap->task_count; i++) {
        if (snap->tasks[i].last_checkpoint_ms <= 0)
            continue;
        int64_t age = now_ms - snap->tasks[i].last_checkpoint_ms;
        fprintf(out, "%s{", name);
        task_labels(out, &snap->tasks[i]);
        fputs("} ", out);
        put_double(out, (double)(age > 0 ? age : 0) / 1000.0);
        fputc('\n', out);
    }
}

/* rdapsync_plugin_<name>_total counters and rdapsync_plugin_<name> gauges;
 * the snapshot is sorted so that each family is contiguous. */
static void plugin_metrics(FILE *out, const http_snapshot *snap)
{
    for (size_t i = 0; i < snap->plugin_count; i++) {
        const http_plugin_value *v = &snap->plugins[i];
        bool first = i == 0 || strcmp(snap->plugins[i - 1].name, v->name) != 0 ||
                     snap->plugins[i - 1].counter != v->counter;
        if (first) {
            for (int line = 0; line < 2; line++) {
                fputs(line ? "# TYPE rdapsync_plugin_" : "# HELP rdapsync_plugin_", out);
                put_name_part(out, v->name);
                fputs(v->counter ? "_total " : " ", out);
                fputs(line ? (v->counter ? "counter\n" : "gauge\n")
                           : "Published by a plugin: see the plugin's page in docs/plugins/.\n",
                      out);
            }
        }
        fputs("rdapsync_plugin_", out);
        put_name_part(out, v->name);
        fprintf(out, "%s{pipeline=\"", v->counter ? "_total" : "");
        put_label_value(out, v->pipeline);
        fprintf(out, "\",task=\"%d\",plugin=\"", v->task);
        put_label_value(out, v->plugin);
        fputs("\"} ", out);
        put_double(out, v->value);
        fputc('\n', out);
    }
}

/* The span exporter's counts (otel.h); present, at 0, without `otel:`. */
static void otel_metrics(FILE *out)
{
    family(out, "rdapsync_otel_spans_exported_total", "counter", "Spans the OpenTelemetry collector accepted.");
    fprintf(out, "rdapsync_otel_spans_exported_total %" PRIu64 "\n", otel_spans_exported());
    family(out, "rdapsync_otel_spans_dropped_total", "counter",
           "Spans dropped: the export queue was full, or their export failed.");
    fprintf(out, "rdapsync_otel_spans_dropped_total %" PRIu64 "\n", otel_spans_dropped());
    family(out, "rdapsync_otel_export_failures_total", "counter", "Span export requests that failed.");
    fprintf(out, "rdapsync_otel_export_failures_total %" PRIu64 "\n", otel_export_failures());
}

char *http_render_metrics(int64_t now_ms)
{
    http_snapshot snap;
    char *text = NULL;
    size_t size = 0;
    FILE *out;

    if (http_snapshot_take(&snap) != 0)
        return NULL;
    out = open_memstream(&text, &size);
    if (!out) {
        http_snapshot_free(&snap);
        return NULL;
    }
    family(out, "rdapsync_build_info", "gauge", "Always 1; the version is a label.");
    fprintf(out, "rdapsync_build_info{version=\"%s\"} 1\n", RDAPSYNC_VERSION);
    task_counter(out, &snap, "rdapsync_task_records_in_total",
                 "Records the source handed over (a replay after a failure counts again).", v_in);
    task_counter(out, &snap, "rdapsync_task_records_out_total", "Records the sink stored (written and flushed).",
                 v_out);
    task_counter(out, &snap, "rdapsync_task_records_dead_lettered_total",
                 "Records sent to the dead-letter sink (or logged when there is none).", v_dead);
    task_counter(out, &snap, "rdapsync_task_records_dropped_total", "Records a transform filtered out (DROP).",
                 v_dropped);
    task_errors(out, &snap);
    task_counter(out, &snap, "rdapsync_task_batches_total", "Batches delivered and checkpointed.", v_batches);
    task_counter(out, &snap, "rdapsync_task_retries_total", "RETRY answers the task backed off after.", v_retries);
    task_counter(out, &snap, "rdapsync_task_restarts_total", "Task restarts after a failure.", v_restarts);
    task_latency(out, &snap);
    task_states(out, &snap);
    task_checkpoints(out, &snap, now_ms);
    plugin_metrics(out, &snap);
    otel_metrics(out);
    retention_metrics_render(out);
    http_snapshot_free(&snap);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
