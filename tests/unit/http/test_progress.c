/* The arithmetic of progress lines: percentage, records to go, rate, ETA. */
#include <criterion/criterion.h>
#include <string.h>

#include "progress.h"

#define MIB 1048576.0

Test(progress, line_shows_percent_bytes_records_rate_and_eta)
{
    progress_sample start = {.at_ms = 1000, .records = 0, .bytes_done = 0, .bytes_total = 100 * MIB};
    progress_sample now = {.at_ms = 11000, .records = 25000, .bytes_done = 25 * MIB, .bytes_total = 100 * MIB};
    char line[256];
    progress_format(line, sizeof(line), "backfill", &start, NULL, &now);
    /* 25 MiB in 10 s: 75 MiB left take 30 s; 1,000 records per MiB. */
    cr_assert_str_eq(line, "backfill 25.0% 25.0/100.0 MiB, 25,000 records (~75,000 to go), 2,500 records/s, ETA 0:00:30");
}

Test(progress, rate_is_over_the_last_interval)
{
    progress_sample start = {.at_ms = 0, .records = 0, .bytes_done = 0, .bytes_total = 10 * MIB};
    progress_sample prev = {.at_ms = 10000, .records = 1000, .bytes_done = 1 * MIB, .bytes_total = 10 * MIB};
    progress_sample now = {.at_ms = 11000, .records = 2000, .bytes_done = 2 * MIB, .bytes_total = 10 * MIB};
    char line[256];
    progress_format(line, sizeof(line), "p", &start, &prev, &now);
    cr_assert(strstr(line, "1,000 records/s, ETA 0:00:08") != NULL, "%s", line);
}

Test(progress, a_resumed_run_estimates_what_is_left_from_its_own_records)
{
    /* Resumed at half the file: no records delivered before this run. */
    progress_sample start = {.at_ms = 0, .records = 0, .bytes_done = 50 * MIB, .bytes_total = 100 * MIB};
    progress_sample now = {.at_ms = 5000, .records = 10000, .bytes_done = 60 * MIB, .bytes_total = 100 * MIB};
    char line[256];
    progress_format(line, sizeof(line), "p", &start, NULL, &now);
    cr_assert(strstr(line, "p 60.0% 60.0/100.0 MiB, 10,000 records (~40,000 to go)") != NULL, "%s", line);
    cr_assert(strstr(line, "ETA 0:00:20") != NULL, "%s", line);
}

Test(progress, no_eta_before_any_byte_moved)
{
    progress_sample start = {.at_ms = 0, .bytes_total = 10 * MIB};
    progress_sample now = {.at_ms = 1000, .bytes_total = 10 * MIB};
    char line[256];
    progress_format(line, sizeof(line), "p", &start, NULL, &now);
    cr_assert(strstr(line, "0 records, 0 records/s, ETA ?") != NULL, "%s", line);
}

Test(progress, counters_that_restart_do_not_make_negative_rates)
{
    progress_sample start = {.at_ms = 0, .records = 500, .bytes_done = 1 * MIB, .bytes_total = 10 * MIB};
    progress_sample prev = {.at_ms = 1000, .records = 900, .bytes_done = 2 * MIB, .bytes_total = 10 * MIB};
    progress_sample now = {.at_ms = 2000, .records = 100, .bytes_done = 2 * MIB, .bytes_total = 10 * MIB};
    char line[256];
    progress_format(line, sizeof(line), "p", &start, &prev, &now);
    cr_assert(strstr(line, " 0 records/s") != NULL, "%s", line);
}

Test(progress, mode_follows_the_environment_value_and_the_terminal)
{
    cr_assert_eq(progress_mode_parse("off", 1), PROGRESS_OFF);
    cr_assert_eq(progress_mode_parse("plain", 1), PROGRESS_PLAIN);
    cr_assert_eq(progress_mode_parse("tty", 0), PROGRESS_TTY);
    cr_assert_eq(progress_mode_parse(NULL, 1), PROGRESS_TTY);
    cr_assert_eq(progress_mode_parse("auto", 0), PROGRESS_PLAIN);
}
