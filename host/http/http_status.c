/*
 * /status (JSON), /healthz and /readyz. Texts that came from plugins (last
 * errors) pass through secrets_mask(), like log lines.
 */
#include "http/http.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/secrets.h"
#include "http/http_snapshot.h"

static atomic_bool draining;

void http_set_draining(bool value) { atomic_store(&draining, value); }

int64_t http_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *http_circuit_str(int state)
{
    switch (state) {
    case TASK_RETRYING:
    case TASK_RESTARTING:
    case TASK_FAILED: return "open";
    default: return "closed";
    }
}

/* RFC 3339 UTC with milliseconds. */
static void format_time(int64_t ms, char *out, size_t size)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* A task is ready when it moves records or has finished its input. */
static bool task_ready(task_state state) { return state == TASK_RUNNING || state == TASK_FINISHED; }

/* Plugin texts and file names may hold bytes that are not UTF-8. */
static json_t *text_json(const char *text)
{
    json_t *s;
    if (!text)
        return json_null();
    s = json_string(text);
    return s ? s : json_string("(not valid UTF-8)");
}

static json_t *masked_string(const char *text)
{
    char masked[2048];
    if (!text)
        return json_null();
    secrets_mask(text, masked, sizeof(masked));
    return text_json(masked);
}

static json_t *checkpoint_json(const task_stats_snapshot *t, int64_t now_ms)
{
    char when[40];
    json_t *positions;

    if (t->last_checkpoint_ms <= 0)
        return json_null();
    positions = json_array();
    for (size_t i = 0; i < t->position_count; i++) {
        const rdapsync_position *p = &t->positions[i];
        json_array_append_new(positions, json_pack("{s:o, s:i, s:I}", "stream", text_json(p->stream), "partition",
                                                   (int)p->partition, "offset", (json_int_t)p->offset));
    }
    format_time(t->last_checkpoint_ms, when, sizeof(when));
    int64_t age = now_ms - t->last_checkpoint_ms;
    return json_pack("{s:s, s:f, s:o}", "time", when, "age_seconds", (double)(age > 0 ? age : 0) / 1000.0,
                     "positions", positions);
}

/* Records delivered per second, now and over the samples of the last
 * minutes (the status page's sparkline). */
static json_t *rate_json(const task_stats_snapshot *t)
{
    char spark[3 * 40 + 1];
    json_t *samples = json_array();

    for (size_t i = 0; i < t->rate_count; i++)
        json_array_append_new(samples, json_real(t->rates[i]));
    rate_ring_sparkline(t->rates, t->rate_count, 40, spark, sizeof(spark));
    return json_pack("{s:f, s:i, s:o, s:s}", "records_per_second", t->records_per_second, "interval_seconds",
                     RATE_RING_INTERVAL_MS / 1000, "samples", samples, "sparkline", spark);
}

static json_t *task_json(const http_snapshot *snap, const task_stats_snapshot *t, int64_t now_ms)
{
    json_t *task = json_pack(
        "{s:i, s:s, s:s, s:I, s:I, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:I, s:{s:f, s:f}}", "task",
        t->task_index, "state", task_state_str(t->state), "circuit", http_circuit_str(t->state), "restarts",
        (json_int_t)t->restarts, "retries", (json_int_t)t->retries, "last_error", masked_string(t->last_error),
        "last_checkpoint", checkpoint_json(t, now_ms), "records", "in", (json_int_t)t->counts.records_in, "out",
        (json_int_t)t->counts.records_out, "dead_lettered", (json_int_t)t->counts.dead_lettered, "dropped",
        (json_int_t)t->counts.dropped, "errors", "source", (json_int_t)t->counts.errors[STAGE_SOURCE], "transform",
        (json_int_t)t->counts.errors[STAGE_TRANSFORM], "sink", (json_int_t)t->counts.errors[STAGE_SINK], "batches",
        (json_int_t)t->batches, "batch_write_seconds", "last", (double)t->last_write_latency_us / 1e6, "mean",
        t->batches ? (double)t->total_write_latency_us / 1e6 / (double)t->batches : 0.0);
    double value;

    if (!task)
        return NULL;
    /* Conventions for sources that know them (docs/operations.md). */
    if (http_snapshot_gauge(snap, t->pipeline, t->task_index, "lag_seconds", &value))
        json_object_set_new(task, "lag_seconds", json_real(value));
    /* Kafka: records between the committed position and the end of the
     * assigned partitions; rdap: objects whose refresh is due. */
    if (http_snapshot_gauge(snap, t->pipeline, t->task_index, "consumer_lag", &value))
        json_object_set_new(task, "consumer_lag", json_integer((json_int_t)value));
    if (http_snapshot_gauge(snap, t->pipeline, t->task_index, "objects_due", &value))
        json_object_set_new(task, "objects_due", json_integer((json_int_t)value));
    json_object_set_new(task, "rate", rate_json(t));
    json_object_set_new(json_object_get(task, "records"), "delivered",
                        json_integer((json_int_t)(t->counts.records_out + t->counts.dead_lettered +
                                                  t->counts.dropped)));
    double done, total;
    if (http_snapshot_gauge(snap, t->pipeline, t->task_index, "input_bytes_total", &total) &&
        http_snapshot_gauge(snap, t->pipeline, t->task_index, "input_bytes_done", &done))
        json_object_set_new(task, "input", json_pack("{s:f, s:f}", "bytes_done", done, "bytes_total", total));
    return task;
}

static json_t *pipeline_entry(json_t *pipelines, const char *name)
{
    size_t i;
    json_t *p;

    json_array_foreach(pipelines, i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
            return p;
    }
    p = json_pack("{s:s, s:[]}", "name", name, "tasks");
    json_array_append_new(pipelines, p);
    return p;
}

bool http_status_ready(const http_snapshot *snap)
{
    if (atomic_load(&draining) || snap->task_count == 0)
        return false;
    for (size_t i = 0; i < snap->task_count; i++)
        if (!task_ready(snap->tasks[i].state))
            return false;
    return true;
}

char *http_render_status(int64_t now_ms)
{
    http_snapshot snap;
    char when[40];
    json_t *root, *pipelines;
    char *text = NULL;

    if (http_snapshot_take(&snap) != 0)
        return NULL;
    format_time(now_ms, when, sizeof(when));
    pipelines = json_array();
    root = json_pack("{s:s, s:s, s:b, s:b, s:o}", "version", RDAPSYNC_VERSION, "time", when, "ready",
                     http_status_ready(&snap), "draining", atomic_load(&draining), "pipelines", pipelines);
    if (!root)
        goto done;
    for (size_t i = 0; i < snap.task_count; i++) {
        json_t *pipeline = pipeline_entry(pipelines, snap.tasks[i].pipeline);
        json_t *task = task_json(&snap, &snap.tasks[i], now_ms);
        if (!pipeline || !task) {
            json_decref(task);
            goto done;
        }
        json_array_append_new(json_object_get(pipeline, "tasks"), task);
    }
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
done:
    json_decref(root);
    http_snapshot_free(&snap);
    return text;
}

/* "pipeline/task state" lines of the tasks `bad` picks. */
static char *task_lines(const http_snapshot *snap, bool (*bad)(task_state), const char *header)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);

    if (!out)
        return NULL;
    fprintf(out, "%s\n", header);
    for (size_t i = 0; i < snap->task_count; i++)
        if (bad(snap->tasks[i].state))
            fprintf(out, "%s/%d %s\n", snap->tasks[i].pipeline, snap->tasks[i].task_index,
                    task_state_str(snap->tasks[i].state));
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static bool is_failed(task_state state) { return state == TASK_FAILED; }
static bool is_not_ready(task_state state) { return !task_ready(state); }

int http_render_health(char **body)
{
    http_snapshot snap;
    bool failed = false;

    *body = NULL;
    if (http_snapshot_take(&snap) != 0)
        return 503;
    for (size_t i = 0; i < snap.task_count; i++)
        failed |= snap.tasks[i].state == TASK_FAILED;
    *body = failed ? task_lines(&snap, is_failed, "failed") : strdup("ok\n");
    http_snapshot_free(&snap);
    return failed ? 503 : 200;
}

int http_render_ready(char **body)
{
    http_snapshot snap;
    bool ready;

    *body = NULL;
    if (http_snapshot_take(&snap) != 0)
        return 503;
    ready = http_status_ready(&snap);
    if (ready)
        *body = strdup("ready\n");
    else if (atomic_load(&draining))
        *body = strdup("draining\n");
    else if (snap.task_count == 0)
        *body = strdup("no task running\n");
    else
        *body = task_lines(&snap, is_not_ready, "not ready");
    http_snapshot_free(&snap);
    return ready ? 200 : 503;
}
