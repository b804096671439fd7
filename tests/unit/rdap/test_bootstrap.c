/* Bootstrap lookup: longest suffix for names, ranges for AS numbers,
 * longest prefix for addresses, tags for entities, overrides. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "loader.h"
#include "rdap_parts.h"

static const rdapsync_json_api *J(void) { return host_api_table()->json; }

static void load(bootstrap *b, obj_kind kind, const char *json)
{
    char err[256];
    cr_assert_eq(bootstrap_add_json(b, kind, json, strlen(json), J(), err, sizeof(err)), 0, "%s", err);
}

static const char *lookup(const bootstrap *b, const char *line)
{
    static char url[256];
    obj_spec o;
    char err[256];
    cr_assert_eq(obj_parse_line(line, strlen(line), &o, err, sizeof(err)), 1, "%s", err);
    const char *u = bootstrap_lookup(b, &o);
    snprintf(url, sizeof(url), "%s", u ? u : "(none)");
    obj_spec_free(&o);
    return url;
}

Test(bootstrap, dns_takes_the_longest_label_suffix)
{
    bootstrap b = {0};
    load(&b, OBJ_DOMAIN, "{\"version\":\"1.0\",\"services\":["
                         "[[\"example\"],[\"http://a.test/rdap\"]],"
                         "[[\"co.example\",\"zz\"],[\"http://b.test/rdap/\",\"https://b.test/rdap/\"]]]}");
    cr_assert_str_eq(lookup(&b, "shop.example"), "http://a.test/rdap/");
    cr_assert_str_eq(lookup(&b, "shop.co.example"), "https://b.test/rdap/");
    /* A suffix is a whole label: "xco.example" is under "example" only. */
    cr_assert_str_eq(lookup(&b, "xco.example"), "http://a.test/rdap/");
    cr_assert_str_eq(lookup(&b, "example.org"), "(none)");
    bootstrap_free(&b);
}

Test(bootstrap, asn_uses_ranges)
{
    bootstrap b = {0};
    load(&b, OBJ_AUTNUM, "{\"services\":[[[\"64496-64511\",\"1\"],[\"https://asn.test/\"]],"
                         "[[\"65536-65551\"],[\"https://other.test/\"]]]}");
    cr_assert_str_eq(lookup(&b, "autnum:64500"), "https://asn.test/");
    cr_assert_str_eq(lookup(&b, "autnum:1"), "https://asn.test/");
    cr_assert_str_eq(lookup(&b, "autnum:65551"), "https://other.test/");
    cr_assert_str_eq(lookup(&b, "autnum:64512"), "(none)");
    bootstrap_free(&b);
}

Test(bootstrap, ip_takes_the_longest_prefix)
{
    bootstrap b = {0};
    load(&b, OBJ_IP, "{\"services\":[[[\"192.0.0.0/8\"],[\"https://wide.test/\"]],"
                     "[[\"192.0.2.0/24\"],[\"https://narrow.test/\"]]]}");
    load(&b, OBJ_IP, "{\"services\":[[[\"2001:db8::/32\"],[\"https://v6.test/\"]]]}");
    cr_assert_str_eq(lookup(&b, "ip:192.0.2.7"), "https://narrow.test/");
    cr_assert_str_eq(lookup(&b, "ip:192.0.3.0/24"), "https://wide.test/");
    /* A network wider than an entry is not inside it. */
    cr_assert_str_eq(lookup(&b, "ip:192.0.0.0/7"), "(none)");
    cr_assert_str_eq(lookup(&b, "ip:2001:db8:1::/48"), "https://v6.test/");
    bootstrap_free(&b);
}

Test(bootstrap, entity_by_object_tag)
{
    bootstrap b = {0};
    load(&b, OBJ_ENTITY, "{\"services\":[[[\"ops@example.test\"],[\"ARIN\"],[\"https://arin.test/\"]]]}");
    cr_assert_str_eq(lookup(&b, "entity:ABC-ARIN"), "https://arin.test/");
    cr_assert_str_eq(lookup(&b, "entity:ABC-RIPE"), "(none)");
    bootstrap_free(&b);
}

Test(bootstrap, star_override_covers_every_type)
{
    bootstrap b = {0};
    char err[256];
    cr_assert_eq(bootstrap_add_override(&b, "*", "http://127.0.0.1:1/rdap", err, sizeof(err)), 0);
    cr_assert_eq(bootstrap_add_override(&b, "special.example", "http://127.0.0.1:2/rdap/", err, sizeof(err)), 0);
    cr_assert_str_eq(lookup(&b, "a.special.example"), "http://127.0.0.1:2/rdap/");
    cr_assert_str_eq(lookup(&b, "example.net"), "http://127.0.0.1:1/rdap/");
    cr_assert_str_eq(lookup(&b, "autnum:7"), "http://127.0.0.1:1/rdap/");
    cr_assert_str_eq(lookup(&b, "ip:2001:db8::1"), "http://127.0.0.1:1/rdap/");
    cr_assert_str_eq(lookup(&b, "entity:X-Y"), "http://127.0.0.1:1/rdap/");
    cr_assert_eq(bootstrap_add_override(&b, "ip:nonsense", "http://x/", err, sizeof(err)), -1);
    bootstrap_free(&b);
}
