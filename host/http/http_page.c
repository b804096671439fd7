/*
 * The status page at /: the embedded template (host/http_assets/
 * status.html) with its table rendered on the server, so that it works with
 * JavaScript off; status.js then refreshes the same table from /status.
 * Every text that goes into the page is HTML-escaped here (plugin error
 * texts first pass through secrets_mask(), as in /status and the log).
 */
#include "http/http.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http_assets.h"
#include "http/http_snapshot.h"
#include "base/secrets.h"

const http_asset *http_asset_find(const char *path)
{
    for (const http_asset *a = http_assets; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

static void put_html(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*p, out);
        }
    }
}

/* 1234567 as "1,234,567", like the script's toLocaleString("en-US"). */
static void put_count(FILE *out, uint64_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof(digits), "%" PRIu64, n);
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            fputc(',', out);
        fputc(digits[i], out);
    }
}

/* The script's seconds(): "4.2 s", "3 min 7 s", "2 h 5 min". */
static void put_seconds(FILE *out, double s)
{
    if (s < 60)
        fprintf(out, "%.1f s", s);
    else if (s < 3600)
        fprintf(out, "%d min %d s", (int)(s / 60), (int)s % 60);
    else
        fprintf(out, "%d h %d min", (int)(s / 3600), ((int)s % 3600) / 60);
}

static void put_rate(FILE *out, double rate)
{
    /* Thousands separators on the integer part, one decimal. */
    uint64_t tenths = (uint64_t)(rate * 10.0 + 0.5);
    put_count(out, tenths / 10);
    fprintf(out, ".%d", (int)(tenths % 10));
}

static const char dash[] = "\xE2\x80\x94"; /* U+2014: no value */

static void put_cell(FILE *out, const char *cls, const char *text)
{
    fprintf(out, "<td class=\"%s\">", cls);
    put_html(out, text);
    fputs("</td>", out);
}

static void task_row(FILE *out, const http_snapshot *snap, const task_stats_snapshot *t, int64_t now_ms)
{
    const char *state = task_state_str(t->state);
    double value;
    char spark[3 * 40 + 1];

    fputs("<tr data-pipeline=\"", out);
    put_html(out, t->pipeline);
    fprintf(out, "\" data-task=\"%d\">", t->task_index);
    put_cell(out, "pipeline", t->pipeline);
    fprintf(out, "<td class=\"task num\">%d</td>", t->task_index);
    fprintf(out, "<td class=\"state-cell\"><span class=\"state state-%s\">%s</span></td>", state, state);

    fputs("<td class=\"records num\">", out);
    put_count(out, t->counts.records_out + t->counts.dead_lettered + t->counts.dropped);
    fputs("</td><td class=\"rate num\">", out);
    put_rate(out, t->records_per_second);
    rate_ring_sparkline(t->rates, t->rate_count, 40, spark, sizeof(spark));
    fputs("</td>", out);
    put_cell(out, "spark", spark);

    fputs("<td class=\"lag num\">", out);
    if (http_snapshot_gauge(snap, t->pipeline, t->task_index, "consumer_lag", &value) && value >= 0) {
        put_count(out, (uint64_t)value);
        fputs(" records", out);
    } else if (http_snapshot_gauge(snap, t->pipeline, t->task_index, "lag_seconds", &value) && value >= 0) {
        put_seconds(out, value);
    } else {
        fputs(dash, out);
    }
    fputs("</td><td class=\"checkpoint num\">", out);
    if (t->last_checkpoint_ms > 0) {
        int64_t age = now_ms - t->last_checkpoint_ms;
        put_seconds(out, (double)(age > 0 ? age : 0) / 1000.0);
    } else {
        fputs("never", out);
    }
    fputs("</td><td class=\"dead num\">", out);
    put_count(out, t->counts.dead_lettered);
    fputs("</td><td class=\"restarts num\">", out);
    put_count(out, t->restarts);
    fputs("</td><td class=\"due num\">", out);
    if (http_snapshot_gauge(snap, t->pipeline, t->task_index, "objects_due", &value) && value >= 0)
        put_count(out, (uint64_t)value);
    else
        fputs(dash, out);
    fputs("</td>", out);

    char masked[2048] = "";
    if (t->last_error)
        secrets_mask(t->last_error, masked, sizeof(masked));
    put_cell(out, "error", masked);
    fputs("</tr>\n", out);
}

static void put_time(FILE *out, int64_t ms)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    fprintf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
            tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Writes one {{name}} of the template. */
static void put_field(FILE *out, const char *name, size_t len, const http_snapshot *snap, int64_t now_ms)
{
    if (len == 4 && memcmp(name, "rows", 4) == 0) {
        for (size_t i = 0; i < snap->task_count; i++)
            task_row(out, snap, &snap->tasks[i], now_ms);
    } else if (len == 4 && memcmp(name, "time", 4) == 0) {
        put_time(out, now_ms);
    } else if (len == 7 && memcmp(name, "version", 7) == 0) {
        put_html(out, RDAPSYNC_VERSION);
    } else if (len == 5 && memcmp(name, "ready", 5) == 0) {
        fputs(http_status_ready(snap) ? "ready" : "not ready", out);
    }
}

char *http_render_page(int64_t now_ms)
{
    const http_asset *page = http_asset_find("/status.html");
    http_snapshot snap;
    char *text = NULL;
    size_t size = 0;
    FILE *out;

    if (!page || http_snapshot_take(&snap) != 0)
        return NULL;
    out = open_memstream(&text, &size);
    if (!out) {
        http_snapshot_free(&snap);
        return NULL;
    }
    /* The template is ours: a "{{" always has its "}}". */
    const char *p = (const char *)page->data;
    const char *open;
    while ((open = strstr(p, "{{")) != NULL) {
        const char *close = strstr(open + 2, "}}");
        if (!close)
            break;
        fwrite(p, 1, (size_t)(open - p), out);
        put_field(out, open + 2, (size_t)(close - open - 2), &snap, now_ms);
        p = close + 2;
    }
    fputs(p, out);
    http_snapshot_free(&snap);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
