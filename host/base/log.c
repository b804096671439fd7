/*
 * Structured log lines. A line is built whole in a buffer and written with
 * one call under a lock, so lines from different task threads never mix.
 */
#include "base/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/secrets.h"

#define LOG_MESSAGE_MAX 4096

static atomic_int log_json_format = 0;
static atomic_int log_max_level = RDAPSYNC_LOG_INFO;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_configure(int json, int level)
{
    atomic_store(&log_json_format, json ? 1 : 0);
    if (level < RDAPSYNC_LOG_ERROR)
        level = RDAPSYNC_LOG_ERROR;
    if (level > RDAPSYNC_LOG_DEBUG)
        level = RDAPSYNC_LOG_DEBUG;
    atomic_store(&log_max_level, level);
}

void log_set_stream(FILE *stream)
{
    pthread_mutex_lock(&log_lock);
    log_stream = stream;
    pthread_mutex_unlock(&log_lock);
}

int log_enabled(rdapsync_log_level level) { return (int)level <= atomic_load(&log_max_level); }

static const char *level_name(rdapsync_log_level level)
{
    switch (level) {
    case RDAPSYNC_LOG_ERROR: return "error";
    case RDAPSYNC_LOG_WARN: return "warn";
    case RDAPSYNC_LOG_INFO: return "info";
    case RDAPSYNC_LOG_DEBUG: return "debug";
    }
    return "info";
}

/* A small growable line buffer; on allocation failure the line is cut. */
typedef struct line_buf {
    char *data;
    size_t len, cap;
} line_buf;

static void buf_put(line_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_puts(line_buf *b, const char *s) { buf_put(b, s, strlen(s)); }

/* Escapes for both formats: a JSON string body is also a valid quoted
 * logfmt value. Control characters become \u00XX so a line stays a line. */
static void buf_put_escaped(line_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char tmp[8];
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            buf_put(b, tmp, 2);
        } else if (c == '\n') {
            buf_put(b, "\\n", 2);
        } else if (c == '\t') {
            buf_put(b, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof(tmp), "\\u%04x", c);
            buf_put(b, tmp, 6);
        } else {
            buf_put(b, (const char *)&c, 1);
        }
    }
}

/* Text values are bare when they need no quoting (pipeline names, plugin
 * names, kinds), quoted otherwise. */
static void buf_put_text_value(line_buf *b, const char *s)
{
    int bare = *s != '\0';
    for (const char *p = s; *p && bare; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            bare = 0;
    if (bare) {
        buf_puts(b, s);
        return;
    }
    buf_put(b, "\"", 1);
    buf_put_escaped(b, s);
    buf_put(b, "\"", 1);
}

static void format_time(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    /* strftime bounds the date part; the milliseconds are always 3 digits. */
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0 || n >= size)
        return;
    snprintf(out + n, size - n, ".%03dZ", (int)(ts.tv_nsec / 1000000L) % 1000);
}

static void field(line_buf *b, int json, const char *name, const char *value)
{
    if (!value)
        return;
    if (json) {
        buf_puts(b, ",\"");
        buf_puts(b, name);
        buf_puts(b, "\":\"");
        buf_put_escaped(b, value);
        buf_puts(b, "\"");
    } else {
        buf_puts(b, " ");
        buf_puts(b, name);
        buf_puts(b, "=");
        buf_put_text_value(b, value);
    }
}

void log_vwrite(rdapsync_log_level level, const char *pipeline, int task, const char *kind, const char *plugin,
                const char *fmt, va_list args)
{
    char message[LOG_MESSAGE_MAX];
    char ts[40], task_text[16];
    line_buf b = {0};
    int json = atomic_load(&log_json_format);

    if (!log_enabled(level))
        return;
    vsnprintf(message, sizeof(message), fmt, args);
    {
        char masked[LOG_MESSAGE_MAX];
        secrets_mask(message, masked, sizeof(masked));
        memcpy(message, masked, sizeof(message));
    }
    format_time(ts, sizeof(ts));
    snprintf(task_text, sizeof(task_text), "%d", task);

    if (json) {
        buf_puts(&b, "{\"ts\":\"");
        buf_puts(&b, ts);
        buf_puts(&b, "\"");
        field(&b, 1, "level", level_name(level));
        field(&b, 1, "pipeline", pipeline);
        if (task >= 0) {
            buf_puts(&b, ",\"task\":");
            buf_puts(&b, task_text);
        }
        field(&b, 1, "kind", kind);
        field(&b, 1, "plugin", plugin);
        field(&b, 1, "msg", message);
        buf_puts(&b, "}\n");
    } else {
        buf_puts(&b, "ts=");
        buf_puts(&b, ts);
        field(&b, 0, "level", level_name(level));
        field(&b, 0, "pipeline", pipeline);
        if (task >= 0)
            field(&b, 0, "task", task_text);
        field(&b, 0, "kind", kind);
        field(&b, 0, "plugin", plugin);
        buf_puts(&b, " msg=\"");
        buf_put_escaped(&b, message);
        buf_puts(&b, "\"\n");
    }
    if (!b.data)
        return;
    pthread_mutex_lock(&log_lock);
    FILE *out = log_stream ? log_stream : stderr;
    fwrite(b.data, 1, b.len, out);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
    free(b.data);
}

void log_write(rdapsync_log_level level, const char *pipeline, int task, const char *kind, const char *plugin,
               const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    log_vwrite(level, pipeline, task, kind, plugin, fmt, args);
    va_end(args);
}
