/*
 * A bounded history of one counter for the status page's "records per
 * second" and its sparkline: up to RATE_RING_SLOTS samples of (time,
 * count), at least RATE_RING_INTERVAL_MS apart, so about ten minutes of
 * history in a fixed ~2 KiB per task whatever the run's length. Not
 * thread-safe: the owner (task_stats) holds its lock around every call.
 */
#ifndef RDAPSYNC_HOST_RATE_RING_H
#define RDAPSYNC_HOST_RATE_RING_H

#include <stddef.h>
#include <stdint.h>

#define RATE_RING_SLOTS 120
#define RATE_RING_INTERVAL_MS 5000

typedef struct rate_ring {
    int64_t time_ms[RATE_RING_SLOTS]; /* monotonic clock */
    uint64_t count[RATE_RING_SLOTS];
    size_t head; /* index of the oldest sample */
    size_t len;
} rate_ring;

/* Records `count` at `now_ms` when the ring is empty or the newest sample
 * is at least RATE_RING_INTERVAL_MS old; otherwise does nothing. When full,
 * the oldest sample goes. A clock that went back is ignored. */
void rate_ring_note(rate_ring *ring, int64_t now_ms, uint64_t count);

/*
 * The rate between consecutive samples, oldest first, then the rate from
 * the newest sample to (now_ms, count) when that is at least a second
 * long: up to RATE_RING_SLOTS values into `out`, returns how many.
 */
size_t rate_ring_rates(const rate_ring *ring, int64_t now_ms, uint64_t count, double *out);

/* Records per second now: from the newest sample at least a second old to
 * (now_ms, count); 0 when there is none yet. */
double rate_ring_current(const rate_ring *ring, int64_t now_ms, uint64_t count);

/*
 * The rates as a text sparkline of at most `width` characters (U+2581..
 * U+2588, "▁".."█", scaled to the largest rate; several rates per
 * character when there are more than `width`) into out (3 bytes a
 * character plus the NUL: out_size >= 3 * width + 1). Empty for no rates.
 */
void rate_ring_sparkline(const double *rates, size_t n, size_t width, char *out, size_t out_size);

/* Monotonic clock in ms. */
int64_t rate_ring_now_ms(void);

#endif
