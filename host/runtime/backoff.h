/*
 * Exponential backoff with jitter, for RETRY answers (pipeline retry
 * settings) and task restarts (restart settings). Pure functions, so the
 * growth and the jitter bounds are testable without waiting.
 */
#ifndef RDAPSYNC_HOST_BACKOFF_H
#define RDAPSYNC_HOST_BACKOFF_H

#include <stdint.h>

/* The ceiling of attempt `attempt` (0-based): initial * 2^attempt, capped
 * at max (and at initial when max < initial). */
int64_t backoff_ceiling_ms(int64_t initial_ms, int64_t max_ms, unsigned attempt);

/* "Equal jitter": a delay in [ceiling/2, ceiling], where `unit` in [0, 1)
 * picks the point. Half the delay is guaranteed, so retries never bunch up
 * at zero; the random half spreads tasks that failed together. */
int64_t backoff_delay_ms(int64_t initial_ms, int64_t max_ms, unsigned attempt, double unit);

/* A uniformly distributed number in [0, 1) from a per-thread generator. */
double backoff_random_unit(void);

#endif
