/* A token bucket per server: `rate` requests per second, bursts of `capacity`. */
#include "rdap_parts.h"

void tb_init(token_bucket *tb, double rate, double burst, int64_t now_ms)
{
    tb->rate = rate;
    tb->capacity = burst >= 1.0 ? burst : 1.0;
    tb->tokens = tb->capacity;
    tb->last_ms = now_ms;
}

static void refill(token_bucket *tb, int64_t now_ms)
{
    if (now_ms <= tb->last_ms)
        return;
    tb->tokens += tb->rate * (double)(now_ms - tb->last_ms) / 1000.0;
    if (tb->tokens > tb->capacity)
        tb->tokens = tb->capacity;
    tb->last_ms = now_ms;
}

bool tb_take(token_bucket *tb, int64_t now_ms)
{
    if (tb->rate <= 0)
        return true;
    refill(tb, now_ms);
    if (tb->tokens < 1.0)
        return false;
    tb->tokens -= 1.0;
    return true;
}

int64_t tb_wait_ms(const token_bucket *tb, int64_t now_ms)
{
    if (tb->rate <= 0)
        return 0;
    double tokens = tb->tokens;
    if (now_ms > tb->last_ms)
        tokens += tb->rate * (double)(now_ms - tb->last_ms) / 1000.0;
    if (tokens >= 1.0)
        return 0;
    /* Rounded up: waking a millisecond early would find no token yet. */
    return (int64_t)((1.0 - tokens) * 1000.0 / tb->rate) + 1;
}
