/* Politeness: the token bucket, Retry-After in both forms, backoff, dates. */
#include <criterion/criterion.h>

#include "rfc3339.h"
#include "rdap_parts.h"

Test(token_bucket, gives_the_burst_then_one_token_per_interval)
{
    token_bucket tb;
    tb_init(&tb, 2.0, 2.0, 1000); /* 2 per second */
    cr_assert(tb_take(&tb, 1000));
    cr_assert(tb_take(&tb, 1000));
    cr_assert_not(tb_take(&tb, 1000));
    cr_assert_eq(tb_wait_ms(&tb, 1000), 501);
    cr_assert_not(tb_take(&tb, 1499));
    cr_assert(tb_take(&tb, 1500));
    cr_assert_not(tb_take(&tb, 1500));
}

Test(token_bucket, never_holds_more_than_its_capacity)
{
    token_bucket tb;
    tb_init(&tb, 1.0, 1.0, 0);
    cr_assert(tb_take(&tb, 0));
    cr_assert(tb_take(&tb, 100000)); /* a long idle time refills one token, not 100 */
    cr_assert_not(tb_take(&tb, 100000));
}

Test(token_bucket, rate_zero_is_unlimited)
{
    token_bucket tb;
    tb_init(&tb, 0, 1, 0);
    for (int i = 0; i < 1000; i++)
        cr_assert(tb_take(&tb, 0));
    cr_assert_eq(tb_wait_ms(&tb, 0), 0);
}

Test(retry_after, delta_seconds)
{
    int64_t d = -1;
    cr_assert_eq(retry_after_ms("120", 0, &d), 0);
    cr_assert_eq(d, 120000);
    cr_assert_eq(retry_after_ms(" 0 \r\n", 0, &d), 0);
    cr_assert_eq(d, 0);
    cr_assert_eq(retry_after_ms("12abc", 0, &d), -1);
    cr_assert_eq(retry_after_ms("-5", 0, &d), -1);
}

Test(retry_after, http_date_in_all_three_formats)
{
    int64_t now = INT64_C(784111767000); /* Sun, 06 Nov 1994 08:49:27 GMT */
    int64_t d = -1;
    cr_assert_eq(retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now, &d), 0);
    cr_assert_eq(d, 10000);
    cr_assert_eq(retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", now, &d), 0);
    cr_assert_eq(d, 10000);
    cr_assert_eq(retry_after_ms("Sun Nov  6 08:49:37 1994", now, &d), 0);
    cr_assert_eq(d, 10000);
}

Test(retry_after, a_date_in_the_past_means_now)
{
    int64_t d = -1;
    cr_assert_eq(retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", INT64_C(900000000000), &d), 0);
    cr_assert_eq(d, 0);
    cr_assert_eq(retry_after_ms("Sun, 06 Nov 1994 08:49:37 CET", 0, &d), -1);
    cr_assert_eq(retry_after_ms("tomorrow", 0, &d), -1);
}

Test(backoff, doubles_up_to_the_maximum_with_jitter_in_the_upper_half)
{
    cr_assert_eq(backoff_ms(1000, 60000, 0, 0.0), 500);
    cr_assert_eq(backoff_ms(1000, 60000, 0, 0.999999), 999);
    cr_assert_eq(backoff_ms(1000, 60000, 3, 0.0), 4000);
    cr_assert_eq(backoff_ms(1000, 60000, 30, 0.0), 30000);
    cr_assert_eq(backoff_ms(1000, 60000, 1000, 0.5), 45000);
}

Test(dates, rfc3339_event_dates)
{
    int64_t ms;
    cr_assert_eq(rfc3339_to_ms("1970-01-01T00:00:01Z", &ms), 0);
    cr_assert_eq(ms, 1000);
    cr_assert_eq(rfc3339_to_ms("1970-01-01T01:00:00.250+01:00", &ms), 0);
    cr_assert_eq(ms, 250);
    cr_assert_eq(rfc3339_to_ms("2024-13-01T00:00:00Z", &ms), -1);
}
