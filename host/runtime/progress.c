/*
 * Progress lines for bounded runs. The numbers come from metrics.h: task
 * statistics (records delivered) and the source gauges input_bytes_done /
 * input_bytes_total, summed over a pipeline's tasks.
 */
#define _GNU_SOURCE /* fopencookie: a log stream that shares the terminal with the status line */
#include "runtime/progress.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"
#include "config/options.h"

#define PROGRESS_MAX_PIPELINES 64
#define PROGRESS_LINE_MAX 1024

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- formatting ---- */

/* 1234567 -> "1,234,567". */
static void group_digits(uint64_t n, char *out, size_t size)
{
    char digits[32];
    size_t len = (size_t)snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n), o = 0;

    for (size_t i = 0; i < len && o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static void format_eta(double seconds, char *out, size_t size)
{
    if (seconds < 0 || seconds > 359999.0) {
        snprintf(out, size, "?");
        return;
    }
    long s = (long)(seconds + 0.5);
    snprintf(out, size, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
}

int progress_format(char *out, size_t size, const char *pipeline, const progress_sample *start,
                    const progress_sample *prev, const progress_sample *now)
{
    const progress_sample *from = prev ? prev : start;
    double seconds = (double)(now->at_ms - from->at_ms) / 1000.0;
    /* Statistics restart from zero when a pipeline is restarted by a reload. */
    double records = now->records >= from->records ? (double)(now->records - from->records) : 0;
    double bytes = now->bytes_done >= from->bytes_done ? now->bytes_done - from->bytes_done : 0;
    double record_rate = seconds > 0 ? records / seconds : 0;
    double byte_rate = seconds > 0 ? bytes / seconds : 0;
    double fraction = now->bytes_total > 0 ? now->bytes_done / now->bytes_total : 1.0;
    double remaining = now->bytes_total > now->bytes_done ? now->bytes_total - now->bytes_done : 0;
    char done[32], to_go[48] = "", rate[32], eta[24];

    if (fraction > 1)
        fraction = 1;
    group_digits(now->records, done, sizeof(done));
    /* The number of records is not known before the end: estimate what is
     * left from the records delivered per byte read since the start (a run
     * resumed from a checkpoint starts with bytes done but no records). */
    double run_bytes = now->bytes_done - start->bytes_done;
    if (now->records > start->records && run_bytes > 0 && remaining > 0) {
        char left[32];
        group_digits((uint64_t)(remaining * (double)(now->records - start->records) / run_bytes + 0.5), left,
                     sizeof(left));
        snprintf(to_go, sizeof(to_go), " (~%s to go)", left);
    }
    group_digits((uint64_t)(record_rate + 0.5), rate, sizeof(rate));
    format_eta(byte_rate > 0 ? remaining / byte_rate : -1, eta, sizeof(eta));
    return snprintf(out, size, "%s %.1f%% %.1f/%.1f MiB, %s records%s, %s records/s, ETA %s", pipeline,
                    100.0 * fraction, now->bytes_done / 1048576.0, now->bytes_total / 1048576.0, done, to_go, rate,
                    eta);
}

/* ---- sampling ---- */

typedef struct pipeline_progress {
    char name[128];
    bool seen;          /* in the current sample */
    bool has_total;     /* its source publishes input_bytes_total */
    bool all_finished;
    progress_sample start, prev, now;
    bool reported;
} pipeline_progress;

static struct {
    progress_mode mode;
    int64_t interval_ms;
    int64_t next_ms;
    pipeline_progress pipelines[PROGRESS_MAX_PIPELINES];
    size_t count;
    /* TTY mode: the status line currently drawn, and the stream the log
     * writes through. */
    pthread_mutex_t lock;
    char line[PROGRESS_LINE_MAX];
    bool drawn;
    FILE *log_stream;
} progress = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pipeline_progress *find_pipeline(const char *name)
{
    for (size_t i = 0; i < progress.count; i++)
        if (strcmp(progress.pipelines[i].name, name) == 0)
            return &progress.pipelines[i];
    if (progress.count == PROGRESS_MAX_PIPELINES)
        return NULL;
    pipeline_progress *p = &progress.pipelines[progress.count++];
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    return p;
}

static void add_task(task_stats *stats, void *opaque)
{
    task_stats_snapshot snap;
    (void)opaque;

    if (task_stats_snapshot_take(stats, &snap) != 0)
        return;
    pipeline_progress *p = find_pipeline(snap.pipeline);
    if (p) {
        if (!p->seen) {
            p->seen = true;
            p->all_finished = true;
            p->now.records = 0;
        }
        p->now.records += snap.counts.records_out + snap.counts.dead_lettered + snap.counts.dropped;
        p->all_finished &= snap.state == TASK_FINISHED || snap.state == TASK_FAILED;
    }
    task_stats_snapshot_free(&snap);
}

static void add_gauge(const plugin_metric_view *view, void *opaque)
{
    (void)opaque;
    if (view->counter)
        return;
    bool total = strcmp(view->name, "input_bytes_total") == 0;
    if (!total && strcmp(view->name, "input_bytes_done") != 0)
        return;
    for (size_t i = 0; i < progress.count; i++) {
        pipeline_progress *p = &progress.pipelines[i];
        if (!p->seen || strcmp(p->name, view->pipeline) != 0)
            continue;
        if (total) {
            p->now.bytes_total += view->value;
            p->has_total = true;
        } else {
            p->now.bytes_done += view->value;
        }
    }
}

static void sample(int64_t now)
{
    for (size_t i = 0; i < progress.count; i++)
        progress.pipelines[i].seen = false;
    metrics_task_each(add_task, NULL);
    for (size_t i = 0; i < progress.count; i++) {
        pipeline_progress *p = &progress.pipelines[i];
        p->has_total = false;
        p->now.bytes_done = p->now.bytes_total = 0;
        p->now.at_ms = now;
    }
    metrics_plugin_each(add_gauge, NULL);
}

/* Pipelines worth a report: bounded input, still running, and sampled
 * before (a rate needs two samples). */
static bool reportable(const pipeline_progress *p)
{
    return p->seen && p->has_total && !p->all_finished && p->now.at_ms > p->start.at_ms;
}

/* ---- the terminal ---- */

static void tty_write(const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, text, len);
        if (n <= 0)
            return;
        text += n;
        len -= (size_t)n;
    }
}

/* Under progress.lock. */
static void tty_clear(void)
{
    if (progress.drawn)
        tty_write("\r\033[K", 4);
    progress.drawn = false;
}

static void tty_draw(void)
{
    if (!progress.line[0])
        return;
    tty_write(progress.line, strlen(progress.line));
    progress.drawn = true;
}

/* The log's stream in TTY mode: a log line replaces the status line, which
 * is drawn again below it. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
    (void)cookie;
    pthread_mutex_lock(&progress.lock);
    tty_clear();
    tty_write(buf, size);
    if (size > 0 && buf[size - 1] == '\n')
        tty_draw();
    pthread_mutex_unlock(&progress.lock);
    return (ssize_t)size;
}

static void report_tty(void)
{
    char text[PROGRESS_LINE_MAX] = "";
    size_t used = 0;

    for (size_t i = 0; i < progress.count; i++) {
        pipeline_progress *p = &progress.pipelines[i];
        if (!reportable(p))
            continue;
        if (used > 0 && used + 3 < sizeof(text))
            used += (size_t)snprintf(text + used, sizeof(text) - used, " | ");
        if (used < sizeof(text))
            used += (size_t)progress_format(text + used, sizeof(text) - used, p->name, &p->start,
                                            p->reported ? &p->prev : NULL, &p->now);
        p->prev = p->now;
        p->reported = true;
    }
    pthread_mutex_lock(&progress.lock);
    tty_clear();
    snprintf(progress.line, sizeof(progress.line), "%s", text);
    tty_draw();
    pthread_mutex_unlock(&progress.lock);
}

static void report_plain(void)
{
    char text[PROGRESS_LINE_MAX];

    for (size_t i = 0; i < progress.count; i++) {
        pipeline_progress *p = &progress.pipelines[i];
        if (!reportable(p))
            continue;
        progress_format(text, sizeof(text), p->name, &p->start, p->reported ? &p->prev : NULL, &p->now);
        log_write(RDAPSYNC_LOG_INFO, p->name, -1, NULL, NULL, "progress: %s", text);
        p->prev = p->now;
        p->reported = true;
    }
}

/* ---- driving ---- */

progress_mode progress_mode_parse(const char *text, int is_tty)
{
    if (text && strcmp(text, "off") == 0)
        return PROGRESS_OFF;
    if (text && strcmp(text, "tty") == 0)
        return PROGRESS_TTY;
    if (text && strcmp(text, "plain") == 0)
        return PROGRESS_PLAIN;
    return is_tty ? PROGRESS_TTY : PROGRESS_PLAIN;
}

void progress_start(void)
{
    const char *interval = getenv("RDAPSYNC_PROGRESS_INTERVAL");
    int64_t ms = 0;

    progress.mode = progress_mode_parse(getenv("RDAPSYNC_PROGRESS"), isatty(STDERR_FILENO));
    progress.count = 0;
    progress.line[0] = '\0';
    progress.drawn = false;
    if (!interval || options_parse_duration(interval, &ms) != 0 || ms <= 0)
        ms = progress.mode == PROGRESS_TTY ? 1000 : 10000;
    progress.interval_ms = ms;
    /* The first sample is the start of every rate; the first report
     * comes one interval later. */
    progress.next_ms = mono_ms();
    if (progress.mode == PROGRESS_TTY) {
        cookie_io_functions_t io = {.write = cookie_write};
        progress.log_stream = fopencookie(NULL, "w", io);
        if (progress.log_stream)
            log_set_stream(progress.log_stream);
        else
            progress.mode = PROGRESS_PLAIN;
    }
}

void progress_stop(void)
{
    if (progress.log_stream) {
        log_set_stream(NULL);
        fclose(progress.log_stream);
        progress.log_stream = NULL;
    }
    pthread_mutex_lock(&progress.lock);
    tty_clear();
    progress.line[0] = '\0';
    pthread_mutex_unlock(&progress.lock);
    progress.mode = PROGRESS_OFF;
}

int progress_timeout_ms(void)
{
    if (progress.mode == PROGRESS_OFF)
        return -1;
    int64_t wait = progress.next_ms - mono_ms();
    return wait < 0 ? 0 : wait > 60000 ? 60000 : (int)wait;
}

void progress_tick(void)
{
    int64_t now = mono_ms();

    if (progress.mode == PROGRESS_OFF || now < progress.next_ms)
        return;
    progress.next_ms = now + progress.interval_ms;
    sample(now);
    for (size_t i = 0; i < progress.count; i++) {
        pipeline_progress *p = &progress.pipelines[i];
        /* The first sample with the input's size starts the rates. */
        if (p->seen && p->has_total && p->start.at_ms == 0)
            p->start = p->now;
    }
    if (progress.mode == PROGRESS_TTY)
        report_tty();
    else
        report_plain();
}
