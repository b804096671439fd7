/*
 * redact: each RFC 9537 method on raw jCard and on unified documents, the
 * rule filters, and policy files. The redaction logic is compiled into this
 * test; policies are written inline.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "policy.h"
#include "redact_doc.h"
#include "unified.h"

static policy *inline_policy(const char *yaml)
{
    char err[512];
    policy *p = policy_parse(yaml, strlen(yaml), "test-policy.yaml", err, sizeof err);
    cr_assert_not_null(p, "policy rejected: %s", err);
    return p;
}

static void policy_fails(const char *yaml, const char *expected)
{
    char err[512];
    policy *p = policy_parse(yaml, strlen(yaml), "test-policy.yaml", err, sizeof err);
    cr_assert_null(p, "policy accepted");
    cr_assert_str_eq(err, expected);
}

static redact_result redact_ok(const policy *p, rdapsync_value *doc)
{
    char err[512];
    redact_result r;
    cr_assert_eq(redact_document(J(), p, doc, 64, &r, err, sizeof err), 0, "redact failed: %s", err);
    return r;
}

/* A domain with one registrant whose jCard holds `props` after version (index 1 on). */
static rdapsync_value *registrant_domain(const char *kind, const char *props)
{
    char text[8192];
    snprintf(text, sizeof text,
             "{\"rdapConformance\":[\"rdap_level_0\"],\"objectClassName\":\"domain\",\"ldhName\":\"x.example\","
             "\"entities\":[{\"objectClassName\":\"entity\",\"handle\":\"H1\",\"roles\":[\"registrant\"],"
             "\"vcardArray\":[\"vcard\",[[\"version\",{},\"text\",\"4.0\"],[\"kind\",{},\"text\",\"%s\"],%s]]}]}",
             kind, props);
    return json(text);
}

#define PROP(doc, i) at(doc, "entities[0].vcardArray[1][" #i "]")

Test(redact_method, removal_takes_the_property_out_and_records_its_pre_path)
{
    policy *p = inline_policy("rules: [{fields: [phone], method: removal}]");
    rdapsync_value *doc = registrant_domain("individual",
                                            "[\"tel\",{\"type\":\"voice\"},\"uri\",\"tel:+1.5555550142\"],"
                                            "[\"tel\",{\"type\":\"fax\"},\"uri\",\"tel:+1.5555550143\"]");
    redact_result r = redact_ok(p, doc);

    cr_assert_eq(r.redactions, 1);
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][2][3]"), "tel:+1.5555550143", "the fax stays");
    cr_assert_null(PROP(doc, 3));
    cr_assert_str_eq(str_at(doc, "redacted[0].prePath"), "$.entities[0].vcardArray[1][2]");
    cr_assert_str_eq(str_at(doc, "redacted[0].method"), "removal");
    cr_assert_str_eq(str_at(doc, "redacted[0].pathLang"), "jsonpath");
    cr_assert_str_eq(str_at(doc, "redacted[0].name.type"), "Registrant Phone");
    cr_assert_null(at(doc, "redacted[0].postPath"));
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, empty_value_keeps_the_property_with_an_empty_string)
{
    policy *p = inline_policy("rules: [{fields: [name], method: emptyValue}]");
    rdapsync_value *doc = registrant_domain("individual", "[\"fn\",{},\"text\",\"Corwin Ashby\"]");

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][2][3]"), "");
    cr_assert_str_eq(str_at(doc, "redacted[0].postPath"), "$.entities[0].vcardArray[1][2][3]");
    cr_assert_str_eq(str_at(doc, "redacted[0].method"), "emptyValue");
    cr_assert_str_eq(str_at(doc, "redacted[0].name.type"), "Registrant Name");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, partial_value_keeps_the_first_character_of_an_email)
{
    policy *p = inline_policy("rules: [{fields: [email], method: partialValue, keep: 1}]");
    rdapsync_value *doc = registrant_domain("individual", "[\"email\",{},\"text\",\"jdoe123@example.com\"]");

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][2][3]"), "j******@example.com");
    cr_assert_str_eq(str_at(doc, "redacted[0].method"), "partialValue");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, partial_value_masks_every_digit_of_a_phone)
{
    policy *p = inline_policy("rules: [{fields: [phone, fax], method: partialValue}]");
    rdapsync_value *doc = registrant_domain("individual",
                                            "[\"tel\",{\"type\":\"voice\"},\"uri\",\"tel:+1.5555550142;ext=12\"],"
                                            "[\"tel\",{\"type\":\"fax\"},\"text\",\"(555) 555-0179\"]");

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][2][3]"), "tel:+*.**********;ext=**");
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][2][2]"), "uri", "a masked tel: URI is still a URI");
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][3][3]"), "(***) ***-****");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, partial_value_of_a_name_gives_initials)
{
    policy *p = inline_policy("rules: [{fields: [name], method: partialValue}]");
    rdapsync_value *doc = registrant_domain(
        "individual", "[\"fn\",{},\"text\",\"Ruairí Velasco-Byrne\"],[\"n\",{},\"text\",[\"Velasco-Byrne\",\"Ruairí\","
                      "\"\",\"\",\"\"]]");

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][2][3]"), "R. V.");
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][3][3][0]"), "V.");
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][3][3][1]"), "R.");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, replacement_value_replaces_in_place_and_a_uri_becomes_text)
{
    policy *p = inline_policy("rules: [{fields: [phone], method: replacementValue, value: REDACTED}]");
    rdapsync_value *doc = registrant_domain("individual", "[\"tel\",{},\"uri\",\"tel:+1.5555550142\"]");

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][2][3]"), "REDACTED");
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][2][2]"), "text");
    cr_assert_str_eq(str_at(doc, "redacted[0].postPath"), "$.entities[0].vcardArray[1][2][3]");
    cr_assert_str_eq(str_at(doc, "redacted[0].method"), "replacementValue");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, address_parts_are_emptied_not_removed_and_the_label_goes)
{
    policy *p = inline_policy("rules: [{fields: [street, postal_code, label], method: removal}]");
    rdapsync_value *doc = registrant_domain(
        "individual", "[\"adr\",{\"cc\":\"US\",\"label\":\"1180 Kilnworks Lane\"},\"text\",[\"\",\"Unit 4\","
                      "[\"1180 Kilnworks Lane\",\"Floor 2\"],\"Asheville\",\"NC\",\"28801\",\"\"]]");

    redact_ok(p, doc);
    rdapsync_value *adr = at(doc, "entities[0].vcardArray[1][2]");
    cr_assert_str_eq(str_at(adr, "[3][1]"), "");
    cr_assert_str_eq(str_at(adr, "[3][2][0]"), "");
    cr_assert_str_eq(str_at(adr, "[3][2][1]"), "");
    cr_assert_str_eq(str_at(adr, "[3][5]"), "");
    cr_assert_str_eq(str_at(adr, "[3][3]"), "Asheville", "no rule for the city");
    cr_assert_str_eq(str_at(adr, "[3][4]"), "NC");
    cr_assert_str_eq(str_at(adr, "[1].cc"), "US");
    cr_assert_null(at(adr, "[1].label"));
    cr_assert_str_eq(str_at(doc, "redacted[0].prePath"), "$.entities[0].vcardArray[1][2][1].label");
    cr_assert_str_eq(str_at(doc, "redacted[1].method"), "emptyValue", "a part keeps its place");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, properties_by_jcard_name_and_mailto_uris_under_the_email_rule)
{
    policy *p = inline_policy("rules:\n"
                              "  - {properties: [note, geo], method: removal}\n"
                              "  - {fields: [email], method: replacementValue, value: REDACTED@redacted.invalid}\n");
    rdapsync_value *doc = registrant_domain(
        "individual", "[\"note\",{},\"text\",\"call +1 555 555 0178\"],[\"geo\",{},\"uri\",\"geo:36.4,-105.5\"],"
                      "[\"contact-uri\",{},\"uri\",\"mailto:e.q@desert-mail.example\"],"
                      "[\"contact-uri\",{},\"uri\",\"https://registrar.example/contact\"]");

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][2][3]"), "mailto:REDACTED@redacted.invalid");
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][3][3]"), "https://registrar.example/contact");
    cr_assert_null(PROP(doc, 4));
    cr_assert_str_eq(str_at(doc, "redacted[0].name.description"), "Registrant note");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, rules_apply_by_role_kind_country_and_region)
{
    policy *p = inline_policy(
        "rules:\n"
        "  - {fields: [email], roles: [technical], method: emptyValue}\n"
        "  - {fields: [email], kinds: [individual], countries: [US], regions: [CA], method: partialValue}\n");
    rdapsync_value *doc = json(
        "{\"objectClassName\":\"domain\",\"entities\":["
        "{\"roles\":[\"registrant\"],\"vcardArray\":[\"vcard\",[[\"kind\",{},\"text\",\"individual\"],"
        "[\"adr\",{\"cc\":\"US\"},\"text\",[\"\",\"\",\"\",\"Oakland\",\"CA\",\"\",\"\"]],[\"email\",{},\"text\","
        "\"m.o@bay.example\"]]]},"
        "{\"roles\":[\"registrant\"],\"vcardArray\":[\"vcard\",[[\"kind\",{},\"text\",\"individual\"],"
        "[\"adr\",{\"cc\":\"US\"},\"text\",[\"\",\"\",\"\",\"Reno\",\"NV\",\"\",\"\"]],[\"email\",{},\"text\","
        "\"nv@x.example\"]]]},"
        "{\"roles\":[\"registrant\"],\"vcardArray\":[\"vcard\",[[\"kind\",{},\"text\",\"org\"],"
        "[\"adr\",{\"cc\":\"US\"},\"text\",[\"\",\"\",\"\",\"Fresno\",\"CA\",\"\",\"\"]],[\"email\",{},\"text\","
        "\"org@x.example\"]]]},"
        "{\"roles\":[\"technical\"],\"vcardArray\":[\"vcard\",[[\"email\",{},\"text\",\"t@x.example\"]]]}]}");

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][2][3]"), "m**@bay.example");
    cr_assert_str_eq(str_at(doc, "entities[1].vcardArray[1][2][3]"), "nv@x.example", "Nevada is not California");
    cr_assert_str_eq(str_at(doc, "entities[2].vcardArray[1][2][3]"), "org@x.example", "not an individual");
    cr_assert_str_eq(str_at(doc, "entities[3].vcardArray[1][0][3]"), "");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, a_missing_kind_counts_as_a_person_unless_the_role_says_organisation)
{
    policy *p = inline_policy("entities: {missing_kind: individual, organization_roles: [registrar]}\n"
                              "rules: [{fields: [name], kinds: [individual], method: replacementValue, value: X}]");
    rdapsync_value *doc = json(
        "{\"objectClassName\":\"domain\",\"entities\":["
        "{\"roles\":[\"registrar\"],\"vcardArray\":[\"vcard\",[[\"fn\",{},\"text\",\"Juniper Ridge Names LLC\"]]]},"
        "{\"roles\":[\"registrant\"],\"vcardArray\":[\"vcard\",[[\"fn\",{},\"text\",\"Hollis Vantongeren\"]]]}]}");

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][0][3]"), "Juniper Ridge Names LLC");
    cr_assert_str_eq(str_at(doc, "entities[1].vcardArray[1][0][3]"), "X");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, a_whole_contact_goes_only_when_every_role_is_listed)
{
    policy *p = inline_policy("rules: [{fields: [entity], roles: [administrative, billing], method: removal}]");
    rdapsync_value *doc = json(
        "{\"objectClassName\":\"domain\",\"entities\":["
        "{\"roles\":[\"administrative\"],\"vcardArray\":[\"vcard\",[[\"fn\",{},\"text\",\"A\"]]]},"
        "{\"roles\":[\"administrative\",\"technical\"],\"vcardArray\":[\"vcard\",[[\"fn\",{},\"text\",\"AT\"]]]},"
        "{\"roles\":[\"billing\"],\"vcardArray\":[\"vcard\",[[\"fn\",{},\"text\",\"B\"]]]}]}");

    redact_ok(p, doc);
    cr_assert_eq(J()->array_size(at(doc, "entities")), 1);
    cr_assert_str_eq(str_at(doc, "entities[0].vcardArray[1][0][3]"), "AT");
    cr_assert_str_eq(str_at(doc, "redacted[0].name.description"), "Admin Contact");
    cr_assert_str_eq(str_at(doc, "redacted[0].prePath"), "$.entities[0]");
    cr_assert_str_eq(str_at(doc, "redacted[1].prePath"), "$.entities[2]");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, handles_are_removed_with_the_registered_name)
{
    policy *p = inline_policy("rules: [{fields: [handle], roles: [registrant], method: removal}]");
    rdapsync_value *doc = registrant_domain("individual", "[\"fn\",{},\"text\",\"A B\"]");

    redact_ok(p, doc);
    cr_assert_null(at(doc, "entities[0].handle"));
    cr_assert_str_eq(str_at(doc, "redacted[0].name.type"), "Registry Registrant ID");
    cr_assert_str_eq(str_at(doc, "redacted[0].prePath"), "$.entities[0].handle");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, conformance_gets_redacted_once_and_a_second_pass_changes_nothing)
{
    policy *p = inline_policy("rules: [{fields: [email], method: replacementValue, value: REDACTED@redacted.invalid}]");
    rdapsync_value *doc = registrant_domain("individual", "[\"email\",{},\"text\",\"a@b.example\"]");

    cr_assert_eq(redact_ok(p, doc).redactions, 1);
    rdapsync_value *once = J()->deep_copy(doc);
    cr_assert_eq(redact_ok(p, doc).redactions, 0);
    cr_assert(J()->equal(once, doc));
    cr_assert_eq(J()->array_size(at(doc, "rdapConformance")), 2);
    cr_assert_str_eq(str_at(doc, "rdapConformance[1]"), "redacted");
    J()->decref(once);
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, existing_redacted_entries_are_kept_and_new_ones_appended)
{
    policy *p = inline_policy("rules: [{fields: [email], method: emptyValue}]");
    rdapsync_value *doc = fixture("domain-redacted-rfc9537.json");
    size_t before = J()->array_size(at(doc, "redacted"));

    redact_ok(p, doc);
    cr_assert_gt(J()->array_size(at(doc, "redacted")), before);
    cr_assert_str_eq(str_at(doc, "redacted[0].name.type"), "Registry Domain ID");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, jcard_inside_an_envelope_or_a_list_is_redacted_per_rdap_root)
{
    policy *p = inline_policy("rules: [{fields: [email], method: emptyValue}]");
    rdapsync_value *doc = json(
        "{\"key\":\"k\",\"op\":\"upsert\",\"value\":{\"objectClassName\":\"domain\",\"entities\":[{\"roles\":"
        "[\"registrant\"],\"vcardArray\":[\"vcard\",[[\"email\",{},\"text\",\"a@b.example\"]]]}]},"
        "\"before\":[{\"objectClassName\":\"entity\",\"vcardArray\":[\"vcard\",[[\"email\",{},\"text\","
        "\"old@b.example\"]]]}]}");

    cr_assert_eq(redact_ok(p, doc).redactions, 2);
    cr_assert_str_eq(str_at(doc, "value.entities[0].vcardArray[1][0][3]"), "");
    cr_assert_str_eq(str_at(doc, "value.redacted[0].postPath"), "$.entities[0].vcardArray[1][0][3]");
    cr_assert_str_eq(str_at(doc, "value.rdapConformance[1]"), "redacted");
    cr_assert_str_eq(str_at(doc, "before[0].vcardArray[1][0][3]"), "");
    cr_assert_str_eq(str_at(doc, "before[0].redacted[0].postPath"), "$.vcardArray[1][0][3]");
    cr_assert_null(at(doc, "redacted"), "the envelope itself is not RDAP");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, malformed_jcard_or_absurd_nesting_is_an_error_naming_the_path)
{
    policy *p = inline_policy("rules: [{fields: [email], method: emptyValue}]");
    char err[512];
    redact_result r;
    rdapsync_value *doc = fixture("bad/vcard-not-array.json");

    cr_assert_neq(redact_document(J(), p, doc, 64, &r, err, sizeof err), 0);
    cr_assert_str_eq(err, "$.entities[0].vcardArray: expected a jCard array, got a string");
    J()->decref(doc);
    doc = fixture("bad/deep-nesting-200.json");
    cr_assert_neq(redact_document(J(), p, doc, 64, &r, err, sizeof err), 0);
    cr_assert(strstr(err, "nesting deeper than max_depth (64)"), "%s", err);
    J()->decref(doc);
    doc = json("{\"objectClassName\":\"domain\",\"entities\":[{\"vcardArray\":[\"vcard\",[[\"email\",{},\"text\","
               "[\"a@b.example\"]]]]}]}");
    cr_assert_neq(redact_document(J(), p, doc, 64, &r, err, sizeof err), 0);
    cr_assert_str_eq(err, "$.entities[0].vcardArray[1][0][3]: expected a string value, got an array");
    J()->decref(doc);
    policy_free(p);
}

/* ---- unified documents ---- */

static rdapsync_value *unified_fixture(const char *name, bool raw)
{
    unified_options o = {.keep_raw = raw, .max_depth = 32, .max_string = 65536};
    char err[512];
    rdapsync_value *doc = fixture(name);
    rdapsync_value *out = unified_build(J(), doc, &o, NULL, err, sizeof err);
    cr_assert_not_null(out, "%s", err);
    J()->decref(doc);
    return out;
}

Test(redact_unified, removal_deletes_the_member_with_a_pre_path)
{
    policy *p = inline_policy("rules: [{fields: [email], roles: [registrant], method: removal}]");
    rdapsync_value *doc = unified_fixture("domain-full.json", false);

    redact_ok(p, doc);
    cr_assert_null(at(doc, "contacts.registrant[0].emails"));
    cr_assert_not_null(at(doc, "contacts.administrative[0].emails"));
    cr_assert_str_eq(str_at(doc, "redacted[0].prePath"), "$.contacts.registrant[0].emails");
    cr_assert_null(at(doc, "rdapConformance"), "a unified document is not RDAP");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_unified, replacement_of_a_phone_drops_its_extension)
{
    policy *p = inline_policy("rules: [{fields: [phone], method: replacementValue, value: REDACTED}]");
    rdapsync_value *doc = unified_fixture("domain-full.json", false);

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "contacts.registrant[0].phones[0].number"), "REDACTED");
    cr_assert_null(at(doc, "contacts.registrant[0].phones[0].ext"));
    cr_assert_str_eq(str_at(doc, "redacted[0].postPath"), "$.registrar.phones[*].number", "one entry for the list");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_unified, partial_email_and_street_in_the_unified_shape)
{
    policy *p = inline_policy("rules:\n"
                              "  - {fields: [email], method: partialValue}\n"
                              "  - {fields: [street], method: emptyValue}\n");
    rdapsync_value *doc = unified_fixture("domain-full.json", false);

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "contacts.registrant[0].emails[0]"), "m****@larkspur-bindery.example");
    cr_assert_str_eq(str_at(doc, "contacts.registrant[0].addresses[0].street[1]"), "");
    cr_assert_str_eq(str_at(doc, "contacts.registrant[0].addresses[0].locality"), "Missoula");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_unified, the_raw_member_is_redacted_as_rdap_with_its_own_entries)
{
    policy *p = inline_policy("rules: [{fields: [email], method: emptyValue}]");
    rdapsync_value *doc = unified_fixture("domain-full.json", true);

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "raw.entities[1].vcardArray[1][8][3]"), "");
    cr_assert_str_eq(str_at(doc, "raw.redacted[1].postPath"), "$.entities[1].vcardArray[1][8][3]");
    cr_assert_str_eq(str_at(doc, "raw.rdapConformance[3]"), "redacted");
    cr_assert_str_eq(str_at(doc, "contacts.registrant[0].emails[0]"), "");
    cr_assert_not(contains(doc, "maren@larkspur-bindery.example"));
    J()->decref(doc);
    policy_free(p);
}

/* ---- policy files ---- */

Test(redact_policy, unknown_keys_and_bad_values_are_errors_with_line_and_column)
{
    policy_fails("rules:\n  - {fields: [email], method: removal, colour: red}\n",
                 "test-policy.yaml:2:40: unknown rule key \"colour\" (fields, properties, method, value, keep, "
                 "reason, roles, except_roles, kinds, countries, regions)");
    policy_fails("rules:\n  - fields: [email]\n    method: hide\n",
                 "test-policy.yaml:3:13: method must be removal, emptyValue, partialValue or replacementValue "
                 "(RFC 9537)");
    policy_fails("rules: [{fields: [email], method: replacementValue}]\n",
                 "test-policy.yaml:1:9: replacementValue needs a value");
    policy_fails("rules: [{fields: [entity], method: emptyValue}]\n",
                 "test-policy.yaml:1:9: the entity field stands alone in its rule, with method removal");
    policy_fails("rules: [{fields: [mail], method: removal}]\n",
                 "test-policy.yaml:1:18: unknown field \"mail\" (name, organization, email, phone, fax, contact_uri, "
                 "url, po_box, street, locality, region, postal_code, country, label, address, handle, entity)");
    policy_fails("retention_days: {personal: soon}\nrules: [{fields: [email], method: removal}]\n",
                 "test-policy.yaml:1:28: expected a whole number from 0 to 36500");
    policy_fails("rules: [\n", "test-policy.yaml:2:1: did not find expected node content");
    policy_fails("name: x\n", "test-policy.yaml:1:1: a policy needs rules");
}

Test(redact_policy, policies_are_found_by_name_in_the_policy_dir_or_by_path)
{
    char err[512], path[1024];
    policy *p = policy_load("gdpr-enterprise", policy_dir(), NULL, err, sizeof err);

    cr_assert_not_null(p, "%s", err);
    cr_assert_str_eq(p->name, "gdpr-enterprise");
    policy_free(p);
    snprintf(path, sizeof path, "%s/ccpa-basic.yaml", policy_dir());
    p = policy_load(path, "/nonexistent", NULL, err, sizeof err);
    cr_assert_not_null(p, "%s", err);
    cr_assert_str_eq(p->name, "ccpa-basic");
    policy_free(p);
    p = policy_load("gdpr-standard", "/nonexistent", policy_dir(), err, sizeof err);
    cr_assert_not_null(p, "the fallback directory is searched: %s", err);
    policy_free(p);
    cr_assert_null(policy_load("no-such-policy", policy_dir(), NULL, err, sizeof err));
    cr_assert(strstr(err, "policy \"no-such-policy\" not found"), "%s", err);
    cr_assert_null(policy_load("../etc/passwd", policy_dir(), NULL, err, sizeof err));
}

Test(redact_policy, the_policy_name_defaults_to_the_file_name)
{
    char err[512];
    const char *text = "rules: [{fields: [email], method: removal}]";
    policy *p = policy_parse(text, strlen(text), "dir/my-policy.yaml", err, sizeof err);

    cr_assert_not_null(p, "%s", err);
    cr_assert_str_eq(p->name, "my-policy");
    policy_free(p);
}

/* Every postPath of doc's redacted entries resolves in doc (paths are concrete). */
static void post_paths_resolve(rdapsync_value *doc, const char *prefix)
{
    rdapsync_value *entries = at(doc, prefix[0] ? prefix : "redacted");
    size_t checked = 0;

    for (size_t i = 0, n = J()->array_size(entries); i < n; i++) {
        const char *post = str_at(J()->array_get(entries, i), "postPath");
        if (!post)
            continue;
        cr_assert(post[0] == '$' && post[1] == '.', "%s", post);
        cr_assert_not_null(at(prefix[0] ? at(doc, "raw") : doc, post + 2), "postPath %s is not in the output", post);
        checked++;
    }
    cr_assert_gt(checked, 0);
}

/* Every prePath of doc's redacted entries resolves in the input. */
static void pre_paths_resolve(rdapsync_value *doc, rdapsync_value *input)
{
    rdapsync_value *entries = at(doc, "redacted");
    size_t checked = 0;

    for (size_t i = 0, n = J()->array_size(entries); i < n; i++) {
        const char *pre = str_at(J()->array_get(entries, i), "prePath");
        if (!pre)
            continue;
        cr_assert_not_null(at(input, pre + 2), "prePath %s is not in the input", pre);
        checked++;
    }
    cr_assert_gt(checked, 0);
}

Test(redact_method, post_paths_point_into_the_output_after_removals_before_them)
{
    policy *p = inline_policy("rules:\n"
                              "  - {fields: [entity], roles: [administrative], method: removal}\n"
                              "  - {fields: [phone, fax, handle], method: removal}\n"
                              "  - {fields: [email], method: emptyValue}\n");
    rdapsync_value *doc = fixture("domain-full.json");
    rdapsync_value *input = J()->deep_copy(doc);

    redact_ok(p, doc);
    post_paths_resolve(doc, "");
    pre_paths_resolve(doc, input);
    cr_assert(contains(doc, "\"prePath\":\"$.entities[3].handle\""), "the technical contact's handle as it was");
    J()->decref(input);
    /* the registrant's email was property 8, after two removed tel properties */
    cr_assert_str_eq(str_at(doc, "entities[1].vcardArray[1][6][3]"), "");
    cr_assert(contains(doc, "\"postPath\":\"$.entities[1].vcardArray[1][6][3]\""));
    cr_assert(contains(doc, "\"prePath\":\"$.entities[1].vcardArray[1][6]\""), "the removed tel as it was");
    /* the technical contact moved from entities[3] to entities[2] */
    cr_assert(contains(doc, "\"prePath\":\"$.entities[2]\""));
    cr_assert(contains(doc, "\"postPath\":\"$.entities[2].vcardArray[1][5][3]\""));
    J()->decref(doc);

    doc = unified_fixture("domain-nested-entities.json", true);
    redact_ok(p, doc);
    post_paths_resolve(doc, "");
    post_paths_resolve(doc, "raw.redacted");
    cr_assert_not_null(at(doc, "contacts.administrative[0]"), "administrative + technical: not every role listed");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, a_jcard_under_another_member_name_is_redacted_all_the_same)
{
    policy *p = inline_policy("rules: [{fields: [email], method: emptyValue}]");
    rdapsync_value *doc = json("{\"objectClassName\":\"domain\",\"entities\":[{\"objectClassName\":\"entity\","
                               "\"roles\":[\"registrant\"],\"contactCard\":[\"vcard\",[[\"email\",{},\"text\","
                               "\"hidden@x.example\"]]]}],\"extra\":[[\"vcard\",[[\"email\",{},\"text\","
                               "\"deeper@x.example\"]]]]}");

    cr_assert_eq(redact_ok(p, doc).redactions, 2);
    cr_assert_not(contains(doc, "hidden@x.example"));
    cr_assert_not(contains(doc, "deeper@x.example"));
    cr_assert_str_eq(str_at(doc, "redacted[0].name.type"), "Registrant Email");
    J()->decref(doc);
    policy_free(p);
}

Test(redact_method, a_document_that_only_claims_to_be_unified_is_still_walked_for_jcards)
{
    policy *p = inline_policy("rules: [{fields: [email], method: emptyValue}]");
    rdapsync_value *doc = json("{\"rdapsync\":{\"schema\":\"rdapsync.unified/1\"},\"objectClassName\":\"domain\","
                               "\"entities\":[{\"roles\":[\"registrant\"],\"vcardArray\":[\"vcard\",[[\"email\",{},"
                               "\"text\",\"spoof@x.example\"]]]}]}");

    redact_ok(p, doc);
    cr_assert_not(contains(doc, "spoof@x.example"));
    J()->decref(doc);
    policy_free(p);
}
