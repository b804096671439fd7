/*
 * normalize: object classes, identity, tokens, errors that name their JSON
 * path; and the plugin itself through the real loader (key, envelopes,
 * raw, dead-letter value).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "harness.h"
#include "limits.h"
#include "unified.h"

static const unified_options defaults = {.keep_raw = false, .max_depth = 32, .max_string = 65536};

static rdapsync_value *normalized(rdapsync_value *doc)
{
    char err[512];
    rdapsync_value *out = unified_build(J(), doc, &defaults, NULL, err, sizeof err);
    cr_assert_not_null(out, "normalize failed: %s", err);
    J()->decref(doc);
    return out;
}

/* The error of normalizing doc (which must fail), into err. */
static void normalize_fails(rdapsync_value *doc, char *err, size_t err_size)
{
    rdapsync_value *out = unified_build(J(), doc, &defaults, NULL, err, err_size);
    cr_assert_null(out, "normalize accepted a bad document");
    J()->decref(doc);
}

Test(normalize, every_output_is_stamped_with_the_schema_version)
{
    rdapsync_value *out = normalized(fixture("domain-minimal.json"));

    cr_assert_str_eq(str_at(out, "rdapsync.schema"), UNIFIED_SCHEMA);
    cr_assert_str_eq(str_at(out, "object_class"), "domain");
    J()->decref(out);
}

Test(normalize, ldh_name_is_lower_cased_and_unicode_name_kept)
{
    rdapsync_value *out = normalized(fixture("domain-redacted-2019-remarks.json"));
    cr_assert_str_eq(str_at(out, "ldh_name"), "saltmarsh-astronomy.example");
    cr_assert_str_eq(str_at(out, "nameservers[0].ldh_name"), "ns-311.dunedns.example");
    J()->decref(out);

    out = normalized(fixture("domain-idn.json"));
    cr_assert_str_eq(str_at(out, "ldh_name"), "xn--blbr-kaff-62am6b.example");
    cr_assert_str_eq(str_at(out, "unicode_name"), "blåbær-kaffé.example");
    J()->decref(out);
}

Test(normalize, status_values_of_any_spelling_become_one_token_form)
{
    rdapsync_value *out = normalized(json(
        "{\"objectClassName\":\"domain\",\"status\":[\"clientDeleteProhibited\",\"client delete prohibited\","
        "\"ok\",\"pendingDelete\",\"Redemption Period\",\"addPeriod\",\"linked\"]}"));
    rdapsync_value *status = at(out, "status");

    cr_assert_eq(J()->array_size(status), 6, "duplicates collapse");
    cr_assert_str_eq(str_at(out, "status[0]"), "client_delete_prohibited");
    cr_assert_str_eq(str_at(out, "status[1]"), "active");
    cr_assert_str_eq(str_at(out, "status[2]"), "pending_delete");
    cr_assert_str_eq(str_at(out, "status[3]"), "redemption_period");
    cr_assert_str_eq(str_at(out, "status[4]"), "add_period");
    cr_assert_str_eq(str_at(out, "status[5]"), "associated");
    J()->decref(out);
}

Test(normalize, events_are_keyed_by_action_and_the_latest_date_wins)
{
    rdapsync_value *out = normalized(json(
        "{\"objectClassName\":\"domain\",\"events\":[{\"eventAction\":\"transfer\",\"eventDate\":"
        "\"2019-08-01T12:00:00Z\"},{\"eventAction\":\"last changed\",\"eventDate\":\"2026-02-14T09:30:45Z\","
        "\"eventActor\":\"REG-1\"},{\"eventAction\":\"transfer\",\"eventDate\":\"2021-01-01T00:00:00Z\"},"
        "{\"eventAction\":\"transfer\",\"eventDate\":\"2020-01-01T00:00:00Z\"}]}"));

    cr_assert_str_eq(str_at(out, "events.transfer.date"), "2021-01-01T00:00:00Z");
    cr_assert_str_eq(str_at(out, "events.last_changed.date"), "2026-02-14T09:30:45Z");
    cr_assert_str_eq(str_at(out, "events.last_changed.actor"), "REG-1");
    J()->decref(out);
}

Test(normalize, dnssec_nameservers_and_links_are_carried)
{
    rdapsync_value *out = normalized(fixture("domain-dnssec.json"));

    cr_assert_not_null(at(out, "dnssec.zone_signed"));
    cr_assert_eq(J()->array_size(at(out, "dnssec.ds_data")), 2);
    cr_assert_not_null(at(out, "dnssec.ds_data[0].key_tag"));
    cr_assert_not_null(at(out, "dnssec.key_data[0].public_key"));
    J()->decref(out);

    out = normalized(fixture("domain-many-ns.json"));
    cr_assert_eq(J()->array_size(at(out, "nameservers")), 8);
    cr_assert_not_null(at(out, "nameservers[0].ip_addresses.v4[0]"));
    cr_assert_str_eq(str_at(out, "links[0].rel"), "self");
    J()->decref(out);
}

Test(normalize, source_names_the_server_and_when_the_data_was_current)
{
    rdapsync_value *out = normalized(fixture("domain-full.json"));

    cr_assert_str_eq(str_at(out, "source.server"), "rdap.registry.example");
    cr_assert_str_eq(str_at(out, "source.port43"), "whois.registry.example");
    cr_assert_str_eq(str_at(out, "source.fetched_at"), "2026-10-09T03:10:27Z");
    J()->decref(out);
}

Test(normalize, each_object_class_has_its_own_members)
{
    rdapsync_value *out = normalized(fixture("ip-v4.json"));
    cr_assert_str_eq(str_at(out, "object_class"), "ip_network");
    cr_assert_str_eq(str_at(out, "network.start_address"), "203.0.113.0");
    cr_assert_str_eq(str_at(out, "network.cidrs[0]"), "203.0.113.0/24");
    cr_assert_str_eq(str_at(out, "network.parent_handle"), "NET-203-0-0-0-0");
    J()->decref(out);

    out = normalized(fixture("autnum-range.json"));
    cr_assert_str_eq(str_at(out, "object_class"), "autnum");
    cr_assert_eq(J()->integer_value(at(out, "autnum.start")), 64504);
    cr_assert_eq(J()->integer_value(at(out, "autnum.end")), 64511);
    J()->decref(out);

    out = normalized(fixture("nameserver-glue.json"));
    cr_assert_str_eq(str_at(out, "object_class"), "nameserver");
    cr_assert_not_null(at(out, "ip_addresses.v6[0]"));
    cr_assert_str_eq(str_at(out, "registrar.iana_id"), "9977");
    J()->decref(out);

    out = normalized(fixture("entity-org.json"));
    cr_assert_str_eq(str_at(out, "object_class"), "entity");
    cr_assert_str_eq(str_at(out, "entity.kind"), "org");
    cr_assert_str_eq(str_at(out, "entity.roles[0]"), "registrant");
    cr_assert_str_eq(str_at(out, "networks[0].cidrs[0]"), "203.0.113.0/24");
    cr_assert_str_eq(str_at(out, "autnums[0].handle"), "AS64497");
    cr_assert_str_eq(str_at(out, "contacts.abuse[0].name"), "Abuse Response Team");
    J()->decref(out);
}

Test(normalize, every_good_fixture_normalizes)
{
    static const char *const names[] = {
        "autnum-range.json",          "autnum-single.json",         "domain-ccpa-california.json",
        "domain-cctld-style.json",    "domain-dnssec.json",         "domain-full.json",
        "domain-idn-cjk.json",        "domain-idn.json",            "domain-many-ns.json",
        "domain-minimal.json",        "domain-nested-entities.json", "domain-pending-delete.json",
        "domain-redacted-2019-remarks.json", "domain-redacted-partial.json", "domain-redacted-rfc9537.json",
        "domain-text-tel-label.json", "entity-org.json",            "entity-registrant.json",
        "entity-registrar.json",      "ip-v4.json",                 "ip-v6.json",
        "nameserver-glue.json",       "nameserver-idn.json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char err[512];
        rdapsync_value *doc = fixture(names[i]);
        rdapsync_value *out = unified_build(J(), doc, &defaults, NULL, err, sizeof err);
        cr_assert_not_null(out, "%s: %s", names[i], err);
        J()->decref(out);
        J()->decref(doc);
    }
}

Test(normalize, every_record_rdapgen_writes_normalizes_to_its_object_class)
{
    size_t len, records = 0;
    char *text = fixture_bytes("generated/rdapgen-mixed.jsonl", &len);
    bool seen_class[5] = {false};
    static const char *const classes[] = {"domain", "nameserver", "entity", "ip_network", "autnum"};

    for (char *line = text, *end; line < text + len; line = end + 1) {
        char err[512];
        end = strchr(line, '\n');
        cr_assert_not_null(end, "the generated file ends with a newline");
        rdapsync_value *doc = J()->parse(line, (size_t)(end - line), err, sizeof err);
        cr_assert_not_null(doc, "line %zu: %s", records + 1, err);
        rdapsync_value *out = unified_build(J(), doc, &defaults, NULL, err, sizeof err);
        cr_assert_not_null(out, "line %zu: %s", records + 1, err);
        for (size_t i = 0; i < 5; i++)
            if (strcmp(str_at(out, "object_class"), classes[i]) == 0)
                seen_class[i] = true;
        J()->decref(out);
        J()->decref(doc);
        records++;
    }
    free(text);
    cr_assert_eq(records, 24);
    for (size_t i = 0; i < 5; i++)
        cr_assert(seen_class[i], "no %s among the generated records", classes[i]);
}

Test(normalize, wrong_types_are_errors_naming_the_json_path)
{
    char err[512];

    normalize_fails(fixture("bad/wrong-types.json"), err, sizeof err);
    cr_assert_str_eq(err, "$.objectClassName: expected a string, got an integer");
    normalize_fails(fixture("bad/vcard-not-array.json"), err, sizeof err);
    cr_assert_str_eq(err, "$.entities[0].vcardArray: expected a jCard array, got a string");
    normalize_fails(json("{\"objectClassName\":\"domain\",\"entities\":[null]}"), err, sizeof err);
    cr_assert_str_eq(err, "$.entities[0]: expected an entity object, got null");
    normalize_fails(json("{\"objectClassName\":\"domain\",\"status\":\"active\"}"), err, sizeof err);
    cr_assert_str_eq(err, "$.status: expected an array, got a string");
    normalize_fails(json("{\"objectClassName\":\"domain\",\"entities\":[{\"roles\":\"registrant\"}]}"), err,
                    sizeof err);
    cr_assert_str_eq(err, "$.entities[0].roles: expected an array, got a string");
}

Test(normalize, missing_jcard_members_are_errors_naming_the_property)
{
    char err[512];

    normalize_fails(fixture("bad/jcard-missing-props.json"), err, sizeof err);
    cr_assert_str_eq(err, "$.entities[0].vcardArray[1][0]: jCard property needs [name, params, type, value], got 1 "
                          "members");
    normalize_fails(json("{\"objectClassName\":\"domain\",\"entities\":[{\"vcardArray\":[\"jcard\",[]]}]}"), err,
                    sizeof err);
    cr_assert_str_eq(err, "$.entities[0].vcardArray[0]: jCard tag is not \"vcard\"");
    normalize_fails(json("{\"objectClassName\":\"domain\",\"entities\":[{\"vcardArray\":[\"vcard\",[[\"adr\","
                         "\"cc=US\",\"text\",[]]]]}]}"),
                    err, sizeof err);
    cr_assert_str_eq(err, "$.entities[0].vcardArray[1][0][1]: jCard parameters must be an object, got a string");
    normalize_fails(json("{\"objectClassName\":\"domain\",\"entities\":[{\"vcardArray\":[\"vcard\",[[\"email\","
                         "{},\"text\",42]]]}]}"),
                    err, sizeof err);
    cr_assert_str_eq(err, "$.entities[0].vcardArray[1][0][3]: expected a string value, got an integer");
}

Test(normalize, absurd_nesting_and_huge_strings_are_errors_not_crashes)
{
    char err[512];

    normalize_fails(fixture("bad/deep-nesting-200.json"), err, sizeof err);
    cr_assert(strstr(err, "$.remarks[0].description[0][0]") == err, "path first: %s", err);
    cr_assert(strstr(err, "nesting deeper than max_depth (32)"), "%s", err);
    normalize_fails(fixture("bad/huge-string.json"), err, sizeof err);
    cr_assert_str_eq(err, "$.entities[0].vcardArray[1][1][3]: string of 1048576 bytes is longer than max_string "
                          "(65536)");
    cr_assert(!strstr(err, "AAAA"), "the reason never quotes input");
}

Test(normalize, a_top_level_array_or_a_non_rdap_object_is_an_error)
{
    char err[512];

    normalize_fails(fixture("bad/top-level-array.json"), err, sizeof err);
    cr_assert_str_eq(err, "$: expected an RDAP object, got an array");
    normalize_fails(json("{\"handle\":\"X\"}"), err, sizeof err);
    cr_assert_str_eq(err, "$.objectClassName: missing: not an RDAP object");
    normalize_fails(json("{\"objectClassName\":\"help\"}"), err, sizeof err);
    cr_assert(strstr(err, "$.objectClassName: unknown object class"), "%s", err);
}

Test(normalize, invalid_utf8_never_reaches_the_transform)
{
    size_t len;
    char err[256];
    char *bytes = fixture_bytes("bad/invalid-utf8.json", &len);

    cr_assert_null(J()->parse(bytes, len, err, sizeof err), "the host's parser refuses invalid UTF-8");
    free(bytes);
}

/* ---- the plugin ---- */

Test(normalize_plugin, sets_the_key_from_the_handle_and_replaces_the_value)
{
    plugin_instance pi;
    cr_assert_eq(plugin_start(&pi, "normalize", "{}"), RDAPSYNC_OK, "%s", pi.err);
    rdapsync_batch *b = one_record("in-key", fixture("domain-full.json"), 0);

    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    const rdapsync_record *r = H()->batch_get(b, 0);
    cr_assert_str_eq(r->key, "D918273645-EXAMPLE");
    cr_assert_str_eq(str_at(r->value, "rdapsync.schema"), UNIFIED_SCHEMA);
    batch_free(b);
    plugin_stop(&pi);
}

Test(normalize_plugin, key_option_picks_the_ldh_name_or_keeps_the_source_key)
{
    plugin_instance pi;
    cr_assert_eq(plugin_start(&pi, "normalize", "{key: ldh_name}"), RDAPSYNC_OK, "%s", pi.err);
    rdapsync_batch *b = one_record("in-key", fixture("domain-redacted-2019-remarks.json"), 0);
    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    cr_assert_str_eq(H()->batch_get(b, 0)->key, "saltmarsh-astronomy.example");
    batch_free(b);
    plugin_stop(&pi);

    cr_assert_eq(plugin_start(&pi, "normalize", "{key: keep}"), RDAPSYNC_OK, "%s", pi.err);
    b = one_record("in-key", fixture("domain-full.json"), 0);
    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    cr_assert_str_eq(H()->batch_get(b, 0)->key, "in-key");
    batch_free(b);
    plugin_stop(&pi);
}

Test(normalize_plugin, raw_option_keeps_the_original_document)
{
    plugin_instance pi;
    cr_assert_eq(plugin_start(&pi, "normalize", "{raw: true}"), RDAPSYNC_OK, "%s", pi.err);
    rdapsync_value *original = fixture("domain-full.json");
    rdapsync_batch *b = one_record(NULL, J()->deep_copy(original), 0);

    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    cr_assert(J()->equal(at(H()->batch_get(b, 0)->value, "raw"), original));
    J()->decref(original);
    batch_free(b);
    plugin_stop(&pi);
}

Test(normalize_plugin, change_envelopes_are_unwrapped_and_deletes_pass_without_a_value)
{
    plugin_instance pi;
    cr_assert_eq(plugin_start(&pi, "normalize", "{}"), RDAPSYNC_OK, "%s", pi.err);
    rdapsync_batch *b = one_record(NULL, json("{\"key\":\"K1\",\"op\":\"upsert\",\"ts_ms\":1700000000000,\"origin\":"
                                              "\"region-1\",\"seq\":3,\"value\":{\"objectClassName\":\"domain\","
                                              "\"ldhName\":\"Env.Example\"}}"),
                                   0);
    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    const rdapsync_record *r = H()->batch_get(b, 0);
    cr_assert_str_eq(str_at(r->value, "ldh_name"), "env.example");
    cr_assert_eq(r->version.event_time_ms, 1700000000000);
    cr_assert_str_eq(r->version.origin, "region-1");
    cr_assert_eq(r->version.sequence, 3);
    batch_free(b);

    b = one_record(NULL, json("{\"key\":\"K2\",\"op\":\"delete\",\"ts_ms\":5,\"value\":null}"), 0);
    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    r = H()->batch_get(b, 0);
    cr_assert_eq(r->op, RDAPSYNC_OP_DELETE);
    cr_assert_null(r->value);
    cr_assert_str_eq(r->key, "K2");
    batch_free(b);

    b = one_record(NULL, json("{\"payload\":{\"op\":\"u\",\"ts_ms\":7,\"before\":null,\"after\":{\"objectClassName\":"
                              "\"nameserver\",\"ldhName\":\"NS1.X.EXAMPLE\"}}}"),
                   0);
    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    cr_assert_str_eq(str_at(H()->batch_get(b, 0)->value, "ldh_name"), "ns1.x.example");
    cr_assert_eq(H()->batch_get(b, 0)->version.event_time_ms, 7);
    cr_assert_eq(H()->batch_get(b, 0)->version.sequence, 1, "Debezium gives no sequence: the record keeps its own");
    batch_free(b);
    plugin_stop(&pi);
}

Test(normalize_plugin, already_normalized_records_pass_unchanged)
{
    plugin_instance pi;
    cr_assert_eq(plugin_start(&pi, "normalize", "{}"), RDAPSYNC_OK, "%s", pi.err);
    rdapsync_batch *b = one_record("k", fixture("domain-full.json"), 0);
    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    rdapsync_value *first = J()->deep_copy(H()->batch_get(b, 0)->value);
    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    cr_assert(J()->equal(first, H()->batch_get(b, 0)->value));
    J()->decref(first);
    batch_free(b);
    plugin_stop(&pi);
}

Test(normalize_plugin, a_bad_record_is_an_error_with_its_path_and_error_value_clear_drops_the_document)
{
    plugin_instance pi;
    cr_assert_eq(plugin_start(&pi, "normalize", "{}"), RDAPSYNC_OK, "%s", pi.err);
    rdapsync_batch *b = one_record("k", fixture("bad/jcard-missing-props.json"), 0);
    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_ERROR);
    cr_assert(strncmp(pi.err, "$.entities[0].vcardArray[1][0]:", 31) == 0, "%s", pi.err);
    cr_assert_not_null(H()->batch_get(b, 0)->value, "keep: the dead letter holds the input");
    batch_free(b);
    plugin_stop(&pi);

    cr_assert_eq(plugin_start(&pi, "normalize", "{error_value: clear}"), RDAPSYNC_OK, "%s", pi.err);
    b = one_record("k", fixture("bad/jcard-missing-props.json"), 0);
    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_ERROR);
    cr_assert_null(H()->batch_get(b, 0)->value, "clear: nothing of the input leaves");
    batch_free(b);
    plugin_stop(&pi);
}

/* limits_check on the host's measure() and on its own walk (a host of ABI
 * 1.0 has no measure): the same verdicts, the same reasons. */
static void limits_agree(const char *text, int max_depth, size_t max_string, bool ok, const char *reason)
{
    rdapsync_json_api old = *J();
    char fast[512] = "", slow[512] = "";
    rdapsync_value *doc = json(text);

    old.struct_size = (uint32_t)offsetof(rdapsync_json_api, measure);
    cr_assert_not(RDAPSYNC_HAS(rdapsync_json_api, &old, measure));
    cr_assert_eq(limits_check(J(), doc, max_depth, max_string, fast, sizeof fast) == 0, ok, "%s: %s", text, fast);
    cr_assert_eq(limits_check(&old, doc, max_depth, max_string, slow, sizeof slow) == 0, ok, "%s: %s", text, slow);
    cr_assert_str_eq(fast, slow);
    if (reason)
        cr_assert_str_eq(fast, reason);
    J()->decref(doc);
}

Test(normalize, limits_give_the_same_verdict_measured_by_the_host_or_walked_by_the_plugin)
{
    limits_agree("{\"a\":[[1]]}", 3, 0, true, NULL);
    limits_agree("{\"a\":[[1]]}", 2, 0, false, "$.a[0]: nesting deeper than max_depth (2)");
    limits_agree("{\"a\":[\"12345\"]}", 8, 5, true, NULL);
    limits_agree("{\"a\":[\"123456\"]}", 8, 5, false, "$.a[0]: string of 6 bytes is longer than max_string (5)");
    limits_agree("{\"a\":{\"longkey\":1}}", 8, 5, false, "$.a: member name of 7 bytes is longer than max_string (5)");
    limits_agree("{\"longkey\":\"123456789\"}", 8, 0, true, NULL);
    limits_agree("\"123456\"", 0, 5, false, "$: string of 6 bytes is longer than max_string (5)");
}
