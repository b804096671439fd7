/* The per-task samples behind the status page's records per second and
 * sparkline: spacing, bounded size, rates, and the text sparkline. */
#include <criterion/criterion.h>
#include <string.h>

#include "rate_ring.h"

Test(rate_ring, samples_are_kept_at_least_one_interval_apart)
{
    rate_ring r = {0};
    rate_ring_note(&r, 1000, 0);
    rate_ring_note(&r, 1000 + RATE_RING_INTERVAL_MS - 1, 50);
    cr_assert_eq(r.len, 1);
    rate_ring_note(&r, 1000 + RATE_RING_INTERVAL_MS, 50);
    cr_assert_eq(r.len, 2);
}

Test(rate_ring, a_full_ring_drops_its_oldest_sample)
{
    rate_ring r = {0};
    for (int i = 0; i < RATE_RING_SLOTS + 10; i++)
        rate_ring_note(&r, (int64_t)i * RATE_RING_INTERVAL_MS, (uint64_t)i * 10);
    cr_assert_eq(r.len, RATE_RING_SLOTS);
    cr_assert_eq(r.count[r.head], 100, "oldest kept is sample 10");
    double rates[RATE_RING_SLOTS];
    size_t n = rate_ring_rates(&r, (int64_t)(RATE_RING_SLOTS + 9) * RATE_RING_INTERVAL_MS, 1290, rates);
    cr_assert_eq(n, RATE_RING_SLOTS - 1, "no partial interval at the newest sample's time");
    cr_assert_float_eq(rates[0], 10.0 * 1000 / RATE_RING_INTERVAL_MS, 1e-9);
}

Test(rate_ring, rates_between_samples_and_up_to_now)
{
    rate_ring r = {0};
    rate_ring_note(&r, 0, 0);
    rate_ring_note(&r, 5000, 500);   /* 100/s */
    rate_ring_note(&r, 10000, 500);  /* idle */
    double rates[RATE_RING_SLOTS];
    size_t n = rate_ring_rates(&r, 12000, 900, rates);
    cr_assert_eq(n, 3);
    cr_assert_float_eq(rates[0], 100.0, 1e-9);
    cr_assert_float_eq(rates[1], 0.0, 1e-9);
    cr_assert_float_eq(rates[2], 200.0, 1e-9); /* 400 in the last 2 s */
    cr_assert_float_eq(rate_ring_current(&r, 12000, 900), 200.0, 1e-9);
    /* Less than a second after the newest sample: the one before it counts. */
    cr_assert_float_eq(rate_ring_current(&r, 10500, 550), 50.0 / 5.5, 1e-9);
}

Test(rate_ring, current_rate_is_zero_without_a_sample_a_second_old)
{
    rate_ring r = {0};
    cr_assert_float_eq(rate_ring_current(&r, 1000, 10), 0.0, 1e-9);
    rate_ring_note(&r, 1000, 0);
    cr_assert_float_eq(rate_ring_current(&r, 1500, 10), 0.0, 1e-9);
}

Test(rate_ring, sparkline_scales_to_the_largest_rate)
{
    double rates[] = {0, 50, 100};
    char out[64];
    rate_ring_sparkline(rates, 3, 40, out, sizeof(out));
    cr_assert_str_eq(out, "\xE2\x96\x81\xE2\x96\x85\xE2\x96\x88"); /* ▁▅█ */
}

Test(rate_ring, sparkline_averages_when_there_are_more_rates_than_characters)
{
    double rates[] = {10, 10, 0, 0};
    char out[64];
    rate_ring_sparkline(rates, 4, 2, out, sizeof(out));
    cr_assert_str_eq(out, "\xE2\x96\x88\xE2\x96\x81"); /* █▁ */
}

Test(rate_ring, sparkline_is_empty_without_rates_and_fits_its_buffer)
{
    double rates[RATE_RING_SLOTS] = {1};
    char out[10];
    rate_ring_sparkline(rates, 0, 40, out, sizeof(out));
    cr_assert_str_eq(out, "");
    rate_ring_sparkline(rates, RATE_RING_SLOTS, 40, out, sizeof(out));
    cr_assert_eq(strlen(out), 9, "three characters of three bytes fit in 10");
}
