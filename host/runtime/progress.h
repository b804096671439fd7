/*
 * Progress of bounded runs (file backfills): records done, bytes done of
 * the total, rate and ETA per pipeline. On a terminal one status line is
 * redrawn in place under the log; otherwise a plain log line is written
 * every interval.
 *
 * Which pipelines: those whose source publishes the gauges
 * `input_bytes_total` and `input_bytes_done` (host->gauge_set; the file
 * source does). Records are what the tasks delivered (out + dead-lettered +
 * dropped). Everything is read from metrics.h; the runtime's main loop
 * drives it (progress_timeout_ms / progress_tick), so there is no thread.
 *
 * Environment (read by progress_start):
 *   RDAPSYNC_PROGRESS           auto (default: tty if stderr is a terminal, else plain) | tty | plain | off
 *   RDAPSYNC_PROGRESS_INTERVAL  a duration ("10s", "500ms"); default 1s on a terminal, 10s otherwise
 */
#ifndef RDAPSYNC_HOST_PROGRESS_H
#define RDAPSYNC_HOST_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum progress_mode { PROGRESS_OFF = 0, PROGRESS_TTY = 1, PROGRESS_PLAIN = 2 } progress_mode;

/* RDAPSYNC_PROGRESS as a mode; `is_tty` decides "auto". Unknown values
 * mean auto. */
progress_mode progress_mode_parse(const char *text, int is_tty);

/*
 * Starts reporting. In TTY mode the log is pointed at a stream that clears
 * the status line before each log line and redraws it after (log_set_stream),
 * so both share the terminal cleanly. Call from the main thread before the
 * task threads start; progress_stop() undoes it.
 */
void progress_start(void);
void progress_stop(void);

/* Milliseconds until the next tick is due (for poll()), -1 when off. */
int progress_timeout_ms(void);
/* Reports if an interval has passed since the last report. */
void progress_tick(void);

/* ---- the arithmetic, separate for tests ---- */

typedef struct progress_sample {
    int64_t at_ms;      /* monotonic */
    uint64_t records;   /* delivered so far */
    double bytes_done;  /* of the input */
    double bytes_total;
} progress_sample;

/*
 * One pipeline's progress as text, e.g.
 *   "backfill 45.2% 12.3/27.1 MiB, 45,210 records (~100,000), 10,234 records/s, ETA 0:00:21"
 * `start` is the first sample of the run, `prev` the previous report's
 * (rates are over prev..now, or start..now when prev is NULL). Returns the
 * length like snprintf.
 */
int progress_format(char *out, size_t size, const char *pipeline, const progress_sample *start,
                    const progress_sample *prev, const progress_sample *now);

#endif
