/* Value parsing shared by option tables and the host's own settings. */
#include <criterion/criterion.h>

#include "options.h"

Test(options, parses_sizes_in_powers_of_1024)
{
    int64_t v;
    cr_assert_eq(options_parse_size("512", &v), 0);
    cr_assert_eq(v, 512);
    cr_assert_eq(options_parse_size("64K", &v), 0);
    cr_assert_eq(v, 65536);
    cr_assert_eq(options_parse_size("1M", &v), 0);
    cr_assert_eq(v, 1048576);
    cr_assert_eq(options_parse_size("2G", &v), 0);
    cr_assert_eq(v, INT64_C(2) << 30);
    cr_assert_eq(options_parse_size("16MiB", &v), 0);
    cr_assert_eq(v, INT64_C(16) << 20);
    cr_assert_eq(options_parse_size("1k", &v), 0);
    cr_assert_eq(v, 1024);
}

Test(options, refuses_malformed_and_overflowing_sizes)
{
    int64_t v;
    cr_assert_eq(options_parse_size("", &v), -1);
    cr_assert_eq(options_parse_size("M", &v), -1);
    cr_assert_eq(options_parse_size("-1M", &v), -1);
    cr_assert_eq(options_parse_size("1.5M", &v), -1);
    cr_assert_eq(options_parse_size("1 M", &v), -1);
    cr_assert_eq(options_parse_size("12Q", &v), -1);
    cr_assert_eq(options_parse_size("99999999999T", &v), -1);
}

Test(options, parses_durations_to_milliseconds)
{
    int64_t v;
    cr_assert_eq(options_parse_duration("250ms", &v), 0);
    cr_assert_eq(v, 250);
    cr_assert_eq(options_parse_duration("5s", &v), 0);
    cr_assert_eq(v, 5000);
    cr_assert_eq(options_parse_duration("2m", &v), 0);
    cr_assert_eq(v, 120000);
    cr_assert_eq(options_parse_duration("1h", &v), 0);
    cr_assert_eq(v, 3600000);
    cr_assert_eq(options_parse_duration("1d", &v), 0);
    cr_assert_eq(v, 86400000);
    cr_assert_eq(options_parse_duration("1m30s", &v), 0);
    cr_assert_eq(v, 90000);
    cr_assert_eq(options_parse_duration("200", &v), 0, "a bare number is milliseconds");
    cr_assert_eq(v, 200);
}

Test(options, refuses_malformed_durations)
{
    int64_t v;
    cr_assert_eq(options_parse_duration("", &v), -1);
    cr_assert_eq(options_parse_duration("s", &v), -1);
    cr_assert_eq(options_parse_duration("5 s", &v), -1);
    cr_assert_eq(options_parse_duration("5x", &v), -1);
    cr_assert_eq(options_parse_duration("-5s", &v), -1);
    cr_assert_eq(options_parse_duration("5sm", &v), -1);
    cr_assert_eq(options_parse_duration("1m30", &v), -1);
    cr_assert_eq(options_parse_duration("999999999999999d", &v), -1);
}

Test(options, parses_booleans_ints_and_doubles)
{
    bool b;
    cr_assert_eq(options_parse_bool("Yes", &b), 0);
    cr_assert(b);
    cr_assert_eq(options_parse_bool("off", &b), 0);
    cr_assert_not(b);
    cr_assert_eq(options_parse_bool("1", &b), -1);
    int64_t i;
    cr_assert_eq(options_parse_int("-42", &i), 0);
    cr_assert_eq(i, -42);
    cr_assert_eq(options_parse_int("42x", &i), -1);
    cr_assert_eq(options_parse_int(" 42", &i), -1);
    cr_assert_eq(options_parse_int("99999999999999999999", &i), -1);
    double d;
    cr_assert_eq(options_parse_double("0.5", &d), 0);
    cr_assert_float_eq(d, 0.5, 1e-12);
    cr_assert_eq(options_parse_double("nan", &d), -1);
    cr_assert_eq(options_parse_double("1e999", &d), -1);
}

Test(options, formats_values_the_way_a_user_writes_them)
{
    char out[32];
    options_format_value(RDAPSYNC_OPT_SIZE, INT64_C(16) << 20, out, sizeof(out));
    cr_assert_str_eq(out, "16M");
    options_format_value(RDAPSYNC_OPT_DURATION, 300000, out, sizeof(out));
    cr_assert_str_eq(out, "5m");
    options_format_value(RDAPSYNC_OPT_DURATION, 250, out, sizeof(out));
    cr_assert_str_eq(out, "250ms");
    options_format_value(RDAPSYNC_OPT_INT, -3, out, sizeof(out));
    cr_assert_str_eq(out, "-3");
}

/* The one "did you mean" helper (host/spelling.c). */
#include "spelling.h"

static const char *nearest(const char *word, const char *const *candidates)
{
    static spelling s;
    return spelling_suggest(&s, word, candidates);
}

Test(spelling, counts_edits_with_a_swap_of_neighbours_as_one)
{
    cr_assert_eq(spelling_distance("kitten", "sitting"), 3);
    cr_assert_eq(spelling_distance("valdiate", "validate"), 1);
    cr_assert_eq(spelling_distance("", "abc"), 3);
    cr_assert_eq(spelling_distance("same", "same"), 0);
}

Test(spelling, suggests_the_nearest_candidate_when_close_enough)
{
    static const char *const sinks[] = { "discard", "file", "postgres", "sqlite", "mysql", NULL };
    static const char *const errors[] = { "tolerance", "dead_letter", NULL };
    static const char *const commands[] = { "run", "validate", "plugins", "version", "help", NULL };
    cr_assert_str_eq(nearest("sqllite", sinks), "sqlite");
    cr_assert_str_eq(nearest("postgress", sinks), "postgres");
    cr_assert_str_eq(nearest("tolerence", errors), "tolerance");
    cr_assert_str_eq(nearest("valdiate", commands), "validate");
    cr_assert_str_eq(nearest("plugin", commands), "plugins");
}

Test(spelling, suggests_nothing_far_from_every_candidate)
{
    static const char *const commands[] = { "run", "validate", "plugins", "version", "help", NULL };
    static const char *const options[] = { "path", "format", "follow", "tls", NULL };
    cr_assert_null(nearest("frobnicate", commands));
    cr_assert_null(nearest("x", options), "one letter is no evidence");
    cr_assert_null(nearest("ssl", options), "two edits in three letters is another word");
    cr_assert_null(nearest("colour", options));
    cr_assert_null(nearest("path", (const char *const[]){ NULL }));
}
