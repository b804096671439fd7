/* Samples of a counter and the rates between them (rate_ring.h). */
#include "base/rate_ring.h"

#include <string.h>
#include <time.h>

int64_t rate_ring_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t slot(const rate_ring *ring, size_t i) { return (ring->head + i) % RATE_RING_SLOTS; }

void rate_ring_note(rate_ring *ring, int64_t now_ms, uint64_t count)
{
    if (ring->len > 0) {
        size_t newest = slot(ring, ring->len - 1);
        if (now_ms - ring->time_ms[newest] < RATE_RING_INTERVAL_MS)
            return;
    }
    size_t at;
    if (ring->len < RATE_RING_SLOTS) {
        at = slot(ring, ring->len);
        ring->len++;
    } else {
        at = ring->head;
        ring->head = (ring->head + 1) % RATE_RING_SLOTS;
    }
    ring->time_ms[at] = now_ms;
    ring->count[at] = count;
}

/* Per second from (t0, c0) to (t1, c1); a counter that went back (it does
 * not, but a slot's stats are reset by nobody) reads as 0. */
static double per_second(int64_t t0, uint64_t c0, int64_t t1, uint64_t c1)
{
    if (t1 <= t0 || c1 < c0)
        return 0;
    return (double)(c1 - c0) * 1000.0 / (double)(t1 - t0);
}

size_t rate_ring_rates(const rate_ring *ring, int64_t now_ms, uint64_t count, double *out)
{
    size_t n = 0;

    for (size_t i = 1; i < ring->len; i++) {
        size_t a = slot(ring, i - 1), b = slot(ring, i);
        out[n++] = per_second(ring->time_ms[a], ring->count[a], ring->time_ms[b], ring->count[b]);
    }
    if (ring->len > 0) {
        size_t newest = slot(ring, ring->len - 1);
        if (now_ms - ring->time_ms[newest] >= 1000 && n < RATE_RING_SLOTS)
            out[n++] = per_second(ring->time_ms[newest], ring->count[newest], now_ms, count);
    }
    return n;
}

double rate_ring_current(const rate_ring *ring, int64_t now_ms, uint64_t count)
{
    for (size_t i = ring->len; i > 0; i--) {
        size_t s = slot(ring, i - 1);
        if (now_ms - ring->time_ms[s] >= 1000)
            return per_second(ring->time_ms[s], ring->count[s], now_ms, count);
    }
    return 0;
}

void rate_ring_sparkline(const double *rates, size_t n, size_t width, char *out, size_t out_size)
{
    /* U+2581 .. U+2588 in UTF-8: E2 96 81 .. E2 96 88. */
    double max = 0;
    size_t chars, pos = 0;

    if (out_size == 0)
        return;
    out[0] = '\0';
    if (n == 0 || width == 0)
        return;
    chars = n < width ? n : width;
    if (chars > (out_size - 1) / 3)
        chars = (out_size - 1) / 3;
    for (size_t i = 0; i < n; i++)
        if (rates[i] > max)
            max = rates[i];
    for (size_t c = 0; c < chars; c++) {
        /* Character c averages rates [from, to): the newest rates stay at the right. */
        size_t from = c * n / chars, to = (c + 1) * n / chars;
        double sum = 0;
        for (size_t i = from; i < to; i++)
            sum += rates[i];
        double mean = to > from ? sum / (double)(to - from) : 0;
        int level = max > 0 ? (int)(mean / max * 7.0 + 0.5) : 0;
        if (level < 0)
            level = 0;
        if (level > 7)
            level = 7;
        out[pos++] = (char)0xE2;
        out[pos++] = (char)0x96;
        out[pos++] = (char)(0x81 + level);
    }
    out[pos] = '\0';
}
