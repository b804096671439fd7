/*
 * The host's log: one line per event on stderr, either key=value text
 *   ts=2024-05-01T12:00:00.123Z level=info pipeline=x task=0 kind=sink plugin=file msg="..."
 * or one JSON object per line (config log.format: json). Messages pass
 * through secrets_mask() before they are written. Safe from any thread.
 */
#ifndef RDAPSYNC_HOST_LOG_H
#define RDAPSYNC_HOST_LOG_H

#include <stdarg.h>
#include <stdio.h>

#include <rdapsync/rdapsync.h>

/* json: 0 text, 1 JSON lines; level: the most verbose rdapsync_log_level written.
 * Defaults: text, info. */
void log_configure(int json, int level);
/* Where lines go (default stderr); tests point it at a temporary file.
 * The stream stays the caller's. */
void log_set_stream(FILE *stream);
int log_enabled(rdapsync_log_level level);

/* Labels may be NULL (then left out); task < 0 is left out. */
void log_write(rdapsync_log_level level, const char *pipeline, int task, const char *kind, const char *plugin,
               const char *fmt, ...) RDAPSYNC_PRINTF(6, 7);
void log_vwrite(rdapsync_log_level level, const char *pipeline, int task, const char *kind, const char *plugin,
                const char *fmt, va_list args) RDAPSYNC_PRINTF(6, 0);

/* Host-wide lines without labels. */
#define log_info(...) log_write(RDAPSYNC_LOG_INFO, NULL, -1, NULL, NULL, __VA_ARGS__)
#define log_warn(...) log_write(RDAPSYNC_LOG_WARN, NULL, -1, NULL, NULL, __VA_ARGS__)
#define log_error(...) log_write(RDAPSYNC_LOG_ERROR, NULL, -1, NULL, NULL, __VA_ARGS__)

#endif
