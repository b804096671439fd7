#include "runtime/backoff.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

int64_t backoff_ceiling_ms(int64_t initial_ms, int64_t max_ms, unsigned attempt)
{
    int64_t delay = initial_ms > 0 ? initial_ms : 1;

    if (max_ms < delay)
        max_ms = delay;
    for (unsigned i = 0; i < attempt && delay < max_ms; i++)
        delay = delay > max_ms / 2 ? max_ms : delay * 2;
    return delay < max_ms ? delay : max_ms;
}

int64_t backoff_delay_ms(int64_t initial_ms, int64_t max_ms, unsigned attempt, double unit)
{
    int64_t ceiling = backoff_ceiling_ms(initial_ms, max_ms, attempt);
    int64_t half = ceiling / 2;

    if (unit < 0)
        unit = 0;
    if (unit >= 1)
        unit = 0.999999;
    return half + (int64_t)((double)(ceiling - half) * unit);
}

/* xorshift64*: jitter needs spread, not cryptographic quality. */
double backoff_random_unit(void)
{
    static _Thread_local uint64_t state;

    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&state ^
                (uint64_t)pthread_self();
        if (state == 0)
            state = 0x9E3779B97F4A7C15ull;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (double)((state * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}
