/*
 * Version vectors of the toolkit: the causal order (all four answers,
 * missing regions as 0) and the JSON text both ways.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

#include "loader.h"

#define VV(...) ((rdapsync_vv){ (const rdapsync_vv_entry[]){ __VA_ARGS__ }, \
                                sizeof((rdapsync_vv_entry[]){ __VA_ARGS__ }) / sizeof(rdapsync_vv_entry) })

static const rdapsync_vv none = { NULL, 0 };

Test(sinktk_vv, equal_vectors_compare_equal_both_ways)
{
    rdapsync_vv a = VV({ "eu", 2 }, { "us", 3 }), b = VV({ "eu", 2 }, { "us", 3 });
    cr_assert_eq(rdapsync_vv_compare(&a, &b), RDAPSYNC_VV_EQUAL);
    cr_assert_eq(rdapsync_vv_compare(&b, &a), RDAPSYNC_VV_EQUAL);
    cr_assert_eq(rdapsync_vv_compare(&none, &none), RDAPSYNC_VV_EQUAL, "two empty vectors are equal");
}

Test(sinktk_vv, a_vector_behind_in_one_region_and_level_elsewhere_is_before)
{
    rdapsync_vv a = VV({ "eu", 2 }, { "us", 3 }), b = VV({ "eu", 2 }, { "us", 4 });
    cr_assert_eq(rdapsync_vv_compare(&a, &b), RDAPSYNC_VV_BEFORE);
    cr_assert_eq(rdapsync_vv_compare(&b, &a), RDAPSYNC_VV_AFTER);
}

Test(sinktk_vv, a_missing_region_counts_as_zero)
{
    rdapsync_vv a = VV({ "us", 3 }), b = VV({ "ap", 1 }, { "us", 3 }), c = VV({ "us", 3 }, { "zz", 1 });
    cr_assert_eq(rdapsync_vv_compare(&a, &b), RDAPSYNC_VV_BEFORE, "missing first region");
    cr_assert_eq(rdapsync_vv_compare(&a, &c), RDAPSYNC_VV_BEFORE, "missing last region");
    cr_assert_eq(rdapsync_vv_compare(&c, &a), RDAPSYNC_VV_AFTER);
    cr_assert_eq(rdapsync_vv_compare(&none, &a), RDAPSYNC_VV_BEFORE, "the empty vector is before any other");
    cr_assert_eq(rdapsync_vv_compare(&a, &none), RDAPSYNC_VV_AFTER);
}

Test(sinktk_vv, vectors_each_ahead_somewhere_are_concurrent)
{
    rdapsync_vv a = VV({ "eu", 3 }, { "us", 1 }), b = VV({ "eu", 2 }, { "us", 2 });
    cr_assert_eq(rdapsync_vv_compare(&a, &b), RDAPSYNC_VV_CONCURRENT);
    cr_assert_eq(rdapsync_vv_compare(&b, &a), RDAPSYNC_VV_CONCURRENT);
    rdapsync_vv c = VV({ "eu", 1 }), d = VV({ "us", 1 });
    cr_assert_eq(rdapsync_vv_compare(&c, &d), RDAPSYNC_VV_CONCURRENT, "disjoint regions are concurrent");
    cr_assert_str_eq(rdapsync_vv_order_str(RDAPSYNC_VV_CONCURRENT), "concurrent");
}

Test(sinktk_vv, format_writes_sorted_members_without_spaces)
{
    rdapsync_vv v = VV({ "eu-central", 5 }, { "us-east", 3 });
    char *text = rdapsync_vv_format(&v);
    cr_assert_str_eq(text, "{\"eu-central\":5,\"us-east\":3}");
    free(text);
    text = rdapsync_vv_format(&none);
    cr_assert_str_eq(text, "{}");
    free(text);
    rdapsync_vv odd = VV({ "a\"b\\c\n", UINT64_MAX });
    text = rdapsync_vv_format(&odd);
    cr_assert_str_eq(text, "{\"a\\\"b\\\\c\\u000a\":18446744073709551615}", "escaped as JSON: %s", text);
    free(text);
}

Test(sinktk_vv, parse_reads_back_what_format_wrote_sorted)
{
    const rdapsync_json_api *json = host_api_table()->json;
    const char *text = "{\"us-east\": 3, \"eu-central\": 5, \"ap\\u00e9\": 1}";
    rdapsync_vv_entry entries[8];
    size_t count = 0;
    rdapsync_value *holder = NULL;
    char error[256];

    cr_assert_eq(rdapsync_vv_parse(json, text, strlen(text), entries, 8, &count, &holder, error, sizeof(error)), 0,
                 "%s", error);
    cr_assert_eq(count, 3);
    cr_assert_str_eq(entries[0].region, "ap\xc3\xa9");
    cr_assert_str_eq(entries[1].region, "eu-central");
    cr_assert_eq(entries[1].counter, 5);
    cr_assert_str_eq(entries[2].region, "us-east");
    rdapsync_vv v = { entries, count };
    char *formatted = rdapsync_vv_format(&v);
    cr_assert_str_eq(formatted, "{\"ap\xc3\xa9\":1,\"eu-central\":5,\"us-east\":3}");

    rdapsync_vv_entry again[8];
    size_t again_count = 0;
    rdapsync_value *holder2 = NULL;
    cr_assert_eq(rdapsync_vv_parse(json, formatted, strlen(formatted), again, 8, &again_count, &holder2, error,
                                   sizeof(error)),
                 0);
    rdapsync_vv w = { again, again_count };
    cr_assert_eq(rdapsync_vv_compare(&v, &w), RDAPSYNC_VV_EQUAL, "format then parse is the same vector");
    json->decref(holder);
    json->decref(holder2);
    free(formatted);

    cr_assert_eq(rdapsync_vv_parse(json, "{}", 2, entries, 8, &count, &holder, error, sizeof(error)), 0);
    cr_assert_eq(count, 0, "{} is the empty vector");
    json->decref(holder);
}

static void refused(const char *text, size_t capacity, const char *why)
{
    const rdapsync_json_api *json = host_api_table()->json;
    rdapsync_vv_entry entries[4];
    size_t count = 99;
    rdapsync_value *holder = (rdapsync_value *)1;
    char error[256] = "";

    cr_assert_eq(rdapsync_vv_parse(json, text, strlen(text), entries, capacity, &count, &holder, error,
                                   sizeof(error)),
                 -1, "%s is refused", text);
    cr_assert_null(holder, "nothing to release on failure");
    cr_assert(strstr(error, why), "error for %s says \"%s\": %s", text, why, error);
}

Test(sinktk_vv, parse_refuses_what_is_not_a_vector_and_says_why)
{
    refused("[1]", 4, "JSON object");
    refused("{\"\": 1}", 4, "empty");
    refused("{\"us\": 0}", 4, "integer >= 1");
    refused("{\"us\": -2}", 4, "integer >= 1");
    refused("{\"us\": 1.5}", 4, "integer >= 1");
    refused("{\"us\": \"3\"}", 4, "\"us\"");
    refused("{\"a\": 1, \"b\": 1, \"c\": 1}", 2, "more than 2 regions");
    refused("{\"us\": 1, \"us\": 2}", 4, "version vector:");
    refused("{\"us\": 1,", 4, "line 1 column");
}
