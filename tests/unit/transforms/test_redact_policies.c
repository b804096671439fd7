/*
 * redact: the three shipped policies on the hand-checked fixtures,
 * classification and retention, and the plugin through the real loader.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "harness.h"
#include "policy.h"
#include "redact_doc.h"
#include "unified.h"

static policy *shipped(const char *name)
{
    char err[512];
    policy *p = policy_load(name, policy_dir(), NULL, err, sizeof err);
    cr_assert_not_null(p, "%s", err);
    return p;
}

static redact_result redact_ok(const policy *p, rdapsync_value *doc)
{
    char err[512];
    redact_result r;
    cr_assert_eq(redact_document(J(), p, doc, 64, &r, err, sizeof err), 0, "redact failed: %s", err);
    return r;
}

static rdapsync_value *unified(rdapsync_value *doc)
{
    unified_options o = {.keep_raw = false, .max_depth = 32, .max_string = 65536};
    char err[512];
    rdapsync_value *out = unified_build(J(), doc, &o, NULL, err, sizeof err);
    cr_assert_not_null(out, "%s", err);
    J()->decref(doc);
    return out;
}

/* Personal data of domain-full.json, as a reader would pick it out by hand. */
static const char *const full_pii[] = {
    "maren@larkspur-bindery.example", "anouk.delacroix@correio.example", "p.ferncastle@ledger.example",
    "yusuf.brannigan@tallgrass-hosting.example", "abuse@bellwether-names.example",
    "5555550234", "5555550235", "225550188", "5555550246", "5555550247", "1134960572", "5555550200", "5555550201",
    "Maren Oakhurst", "Anouk Delacroix-Imre", "Yusuf Brannigan", "Priscilla Ferncastle",
    "314 Tanner Row", "Travessa das Flores 12", "88 Millrace Road", "9 Cooper's Yard", "2600 Canal Street",
    "59801", "LS2 7EX", "Missoula", "Porto"};

Test(gdpr_enterprise, raw_rdap_keeps_no_contact_detail_of_anyone)
{
    policy *p = shipped("gdpr-enterprise");
    rdapsync_value *doc = fixture("domain-full.json");

    redact_ok(p, doc);
    for (size_t i = 0; i < sizeof full_pii / sizeof full_pii[0]; i++)
        cr_assert_not(contains(doc, full_pii[i]), "%s survived", full_pii[i]);
    rdapsync_value *reg = at(doc, "entities[1].vcardArray[1]");
    cr_assert_str_eq(str_at(reg, "[2][3]"), "REDACTED", "the individual's fn");
    cr_assert_str_eq(str_at(reg, "[6][3]"), "REDACTED", "phone");
    cr_assert_str_eq(str_at(reg, "[7][3]"), "REDACTED", "fax");
    cr_assert_str_eq(str_at(reg, "[8][3]"), "REDACTED@redacted.invalid");
    cr_assert_str_eq(str_at(reg, "[5][3][2]"), "REDACTED", "street");
    cr_assert_str_eq(str_at(reg, "[5][3][3]"), "REDACTED", "city");
    cr_assert_str_eq(str_at(reg, "[5][3][5]"), "REDACTED", "postal code");
    cr_assert_str_eq(str_at(reg, "[5][3][4]"), "MT", "region kept");
    cr_assert_str_eq(str_at(reg, "[5][1].cc"), "US", "country kept");
    cr_assert_str_eq(str_at(reg, "[5][1].label"), "REDACTED");
    cr_assert_str_eq(str_at(reg, "[4][3]"), "Larkspur Bindery", "organisation kept");
    J()->decref(doc);
    policy_free(p);
}

Test(gdpr_enterprise, contacts_hidden_under_a_redacted_member_are_redacted_too)
{
    /* Found by fuzz_redact: the entities moved under "redacted" (the RFC 9537
     * member redact writes) were skipped and kept their e-mail addresses. */
    policy *p = shipped("gdpr-enterprise");
    rdapsync_value *doc = fixture("domain-full.json");
    rdapsync_value *entities = J()->incref(J()->object_get(doc, "entities"));
    cr_assert_eq(J()->object_del(doc, "entities"), 0);
    cr_assert_eq(J()->object_set(doc, "redacted", entities), 0);

    redact_ok(p, doc);
    for (size_t i = 0; i < sizeof full_pii / sizeof full_pii[0]; i++)
        cr_assert_not(contains(doc, full_pii[i]), "%s survived", full_pii[i]);
    J()->decref(doc);
    policy_free(p);
}

Test(gdpr_enterprise, a_jcard_hidden_as_an_object_class_name_is_redacted_too)
{
    /* Found by fuzz_redact: a jCard as the value of "objectClassName" was
     * never looked into and kept its e-mail address. */
    policy *p = shipped("gdpr-enterprise");
    rdapsync_value *doc = fixture("domain-full.json");
    rdapsync_value *abuse = at(doc, "entities[0].entities[0]");
    cr_assert_not_null(abuse);
    rdapsync_value *vcard = J()->incref(J()->object_get(abuse, "vcardArray"));
    cr_assert_not_null(vcard);
    cr_assert_eq(J()->object_del(abuse, "vcardArray"), 0);
    cr_assert_eq(J()->object_set(abuse, "objectClassName", vcard), 0);

    redact_ok(p, doc);
    cr_assert_not(contains(doc, "abuse@bellwether-names.example"), "the hidden e-mail survived");
    J()->decref(doc);
    policy_free(p);
}

Test(gdpr_enterprise, an_entity_hidden_in_a_jcard_property_value_is_redacted_too)
{
    /* Found by fuzz_redact: an entity given as the value of a jCard's "org"
     * property was never walked and kept its abuse e-mail. */
    policy *p = shipped("gdpr-enterprise");
    rdapsync_value *doc = fixture("domain-full.json");
    rdapsync_value *entities = J()->object_get(doc, "entities");
    rdapsync_value *org = at(doc, "entities[1].vcardArray[1][4]");
    cr_assert_str_eq(J()->string_value(J()->array_get(org, 0)), "org");
    cr_assert_eq(J()->array_set(org, 3, J()->incref(J()->array_get(entities, 0))), 0);
    cr_assert_eq(J()->array_remove(entities, 0), 0);

    redact_ok(p, doc);
    cr_assert_not(contains(doc, "abuse@bellwether-names.example"), "the hidden e-mail survived");
    J()->decref(doc);
    policy_free(p);
}

Test(gdpr_enterprise, organisation_names_survive)
{
    policy *p = shipped("gdpr-enterprise");
    rdapsync_value *doc = fixture("domain-full.json");

    redact_ok(p, doc);
    cr_assert(contains(doc, "\"Bellwether Names, Inc.\""));
    cr_assert(contains(doc, "\"Larkspur Bindery\""), "an individual's organisation is not a personal name");
    cr_assert(contains(doc, "\"Tallgrass Hosting Co-op\""));
    J()->decref(doc);
    doc = fixture("domain-ccpa-california.json");
    redact_ok(p, doc);
    cr_assert(contains(doc, "\"Harbor Seal Hosting LLC\""), "kind org keeps its fn");
    cr_assert_not(contains(doc, "Rosalind Achebe-Lindqvist"));
    J()->decref(doc);
    policy_free(p);
}

Test(gdpr_enterprise, unified_records_keep_no_contact_detail_either)
{
    policy *p = shipped("gdpr-enterprise");
    rdapsync_value *doc = unified(fixture("domain-full.json"));

    redact_ok(p, doc);
    for (size_t i = 0; i < sizeof full_pii / sizeof full_pii[0]; i++)
        cr_assert_not(contains(doc, full_pii[i]), "%s survived", full_pii[i]);
    cr_assert_str_eq(str_at(doc, "contacts.registrant[0].name"), "REDACTED");
    cr_assert_str_eq(str_at(doc, "contacts.registrant[0].organization"), "Larkspur Bindery");
    cr_assert_str_eq(str_at(doc, "registrar.name"), "Bellwether Names, Inc.");
    cr_assert_str_eq(str_at(doc, "contacts.registrant[0].addresses[0].region"), "MT");
    cr_assert_str_eq(str_at(doc, "contacts.registrant[0].addresses[0].country_code"), "US");
    J()->decref(doc);
    policy_free(p);
}

Test(gdpr_enterprise, free_text_that_repeats_a_number_is_removed)
{
    policy *p = shipped("gdpr-enterprise");
    rdapsync_value *doc = fixture("domain-text-tel-label.json");

    redact_ok(p, doc);
    cr_assert_not(contains(doc, "555 555 0164"), "the note repeats the cell number");
    cr_assert_not(contains(doc, "27 Windmill Coulee Road"));
    cr_assert_not(contains(doc, "4 Antenna Ridge Trail"), "labels go too");
    cr_assert_not(contains(doc, "m.okonkwohale@prairiemail.example"), "contact-uri mailto too");
    cr_assert(contains(doc, "\"Prairie Amateur Radio League\""));
    J()->decref(doc);
    policy_free(p);
}

Test(gdpr_standard, follows_the_icann_profile_methods)
{
    policy *p = shipped("gdpr-standard");
    rdapsync_value *doc = fixture("domain-full.json");

    redact_ok(p, doc);
    /* administrative and billing contacts are not published */
    cr_assert_eq(J()->array_size(at(doc, "entities")), 3);
    cr_assert_not(contains(doc, "Anouk Delacroix-Imre"));
    cr_assert_not(contains(doc, "Priscilla Ferncastle"));
    rdapsync_value *reg = at(doc, "entities[1]");
    cr_assert_null(at(reg, "handle"), "Registry Registrant ID removed");
    cr_assert_str_eq(str_at(reg, "vcardArray[1][2][3]"), "", "name emptied");
    cr_assert_str_eq(str_at(reg, "vcardArray[1][5][3][2]"), "", "street emptied");
    cr_assert_str_eq(str_at(reg, "vcardArray[1][5][3][4]"), "MT");
    cr_assert_str_eq(str_at(reg, "vcardArray[1][6][3]"), "REDACTED@redacted.invalid", "phones removed, email next");
    cr_assert(contains(doc, "abuse@bellwether-names.example"), "the registrar's abuse contact stays public");
    cr_assert(contains(doc, "\"name\":{\"type\":\"Registrant Name\"}"));
    cr_assert(contains(doc, "\"name\":{\"type\":\"Registry Tech ID\"}"));
    J()->decref(doc);
    policy_free(p);
}

Test(ccpa_basic, california_people_keep_one_email_character_and_no_phone_digit)
{
    policy *p = shipped("ccpa-basic");
    rdapsync_value *doc = fixture("domain-ccpa-california.json");

    redact_ok(p, doc);
    cr_assert_str_eq(str_at(doc, "entities[1].vcardArray[1][5][3]"), "r******@kelpmail.example");
    cr_assert_str_eq(str_at(doc, "entities[1].vcardArray[1][4][3]"), "tel:+*.**********");
    cr_assert_str_eq(str_at(doc, "entities[2].vcardArray[1][5][3]"), "tel:+*.**********", "fax too");
    cr_assert_str_eq(str_at(doc, "entities[3].vcardArray[1][6][3]"), "hostmaster@harborseal-hosting.example",
                     "an organisation is no consumer");
    cr_assert_str_eq(str_at(doc, "entities[1].vcardArray[1][2][3]"), "Rosalind Achebe-Lindqvist",
                     "ccpa-basic masks only email and phones");
    cr_assert_str_eq(str_at(doc, "redacted[0].method"), "partialValue");
    J()->decref(doc);
    doc = fixture("domain-full.json");
    cr_assert_eq(redact_ok(p, doc).redactions, 0, "nobody in California");
    J()->decref(doc);
    policy_free(p);
}

/* ---- classification and retention ---- */

Test(classification, people_make_a_record_personal_organisations_business_sensitive)
{
    policy *p = shipped("gdpr-enterprise");
    rdapsync_value *doc = fixture("domain-full.json");
    cr_assert_eq(redact_ok(p, doc).classification, CLASS_PERSONAL);
    J()->decref(doc);
    doc = fixture("ip-v6.json");
    cr_assert_eq(redact_ok(p, doc).classification, CLASS_BUSINESS);
    J()->decref(doc);
    doc = fixture("nameserver-glue.json");
    cr_assert_eq(redact_ok(p, doc).classification, CLASS_PUBLIC, "registrar data is public");
    J()->decref(doc);
    doc = fixture("domain-minimal.json");
    cr_assert_eq(redact_ok(p, doc).classification, CLASS_PUBLIC);
    J()->decref(doc);
    policy_free(p);
}

Test(classification, is_taken_before_redaction_and_also_without_any_rule_matching)
{
    policy *p = shipped("ccpa-basic");
    rdapsync_value *doc = fixture("domain-full.json");
    redact_result r = redact_ok(p, doc);

    cr_assert_eq(r.redactions, 0);
    cr_assert_eq(r.classification, CLASS_PERSONAL);
    J()->decref(doc);
    policy_free(p);
}

Test(retention, the_deadline_is_the_event_time_plus_the_category_days)
{
    policy *p = shipped("gdpr-enterprise");
    char until[40];

    /* 2026-02-14T09:30:45Z */
    cr_assert(redact_retention_until(p, CLASS_PERSONAL, 1771061445000LL, until, sizeof until));
    cr_assert_str_eq(until, "2026-03-16T09:30:45Z");
    cr_assert(redact_retention_until(p, CLASS_BUSINESS, 1771061445000LL, until, sizeof until));
    cr_assert_str_eq(until, "2027-02-14T09:30:45Z");
    cr_assert(redact_retention_until(p, CLASS_PUBLIC, 0, until, sizeof until));
    cr_assert_str_eq(until, "1979-12-30T00:00:00Z");
    policy_free(p);
}

Test(retention, a_policy_without_retention_days_sets_no_deadline)
{
    char err[256], until[40] = "";
    const char *text = "rules: [{fields: [email], method: removal}]";
    policy *p = policy_parse(text, strlen(text), "x.yaml", err, sizeof err);

    cr_assert_not_null(p, "%s", err);
    cr_assert_not(redact_retention_until(p, CLASS_PERSONAL, 0, until, sizeof until));
    policy_free(p);
}

Test(annotate, raw_rdap_gets_a_notice_and_unified_records_their_rdapsync_member)
{
    policy *p = shipped("gdpr-enterprise");
    rdapsync_value *doc = fixture("domain-full.json");
    redact_result r = redact_ok(p, doc);
    size_t notices = J()->array_size(at(doc, "notices"));

    cr_assert_eq(redact_annotate(J(), doc, p, &r, "2026-03-16T09:30:45Z"), 0);
    cr_assert_eq(J()->array_size(at(doc, "notices")), notices + 1);
    rdapsync_value *notice = J()->array_get(at(doc, "notices"), notices);
    cr_assert_str_eq(str_at(notice, "title"), "rdapsync data classification");
    cr_assert_str_eq(str_at(notice, "description[0]"), "classification: personal");
    cr_assert_str_eq(str_at(notice, "description[1]"), "retention until: 2026-03-16T09:30:45Z");
    cr_assert_eq(redact_annotate(J(), doc, p, &r, "2026-03-16T09:30:45Z"), 0);
    cr_assert_eq(J()->array_size(at(doc, "notices")), notices + 1, "one notice, however often");
    J()->decref(doc);

    doc = unified(fixture("domain-full.json"));
    r = redact_ok(p, doc);
    cr_assert_eq(redact_annotate(J(), doc, p, &r, "2026-03-16T09:30:45Z"), 0);
    cr_assert_str_eq(str_at(doc, "rdapsync.classification"), "personal");
    cr_assert_str_eq(str_at(doc, "rdapsync.retention_until"), "2026-03-16T09:30:45Z");
    cr_assert_str_eq(str_at(doc, "rdapsync.policy"), "gdpr-enterprise");
    cr_assert_str_eq(str_at(doc, "rdapsync.schema"), UNIFIED_SCHEMA);
    J()->decref(doc);
    policy_free(p);
}

/* ---- the plugin ---- */

static void start_redact(plugin_instance *pi, const char *policy_name, const char *extra)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "{policy: %s, policy_dir: \"%s\"%s}", policy_name, policy_dir(), extra);
    cr_assert_eq(plugin_start(pi, "redact", yaml), RDAPSYNC_OK, "%s", pi->err);
}

Test(redact_plugin, headers_and_document_carry_classification_and_retention_from_the_event_time)
{
    plugin_instance pi;
    start_redact(&pi, "gdpr-enterprise", "");
    rdapsync_batch *b = one_record("k", unified(fixture("domain-full.json")), 1771061445000LL);

    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    const rdapsync_record *r = H()->batch_get(b, 0);
    cr_assert_str_eq(H()->record_header(r, "rdapsync.classification")->value, "personal");
    cr_assert_str_eq(H()->record_header(r, "rdapsync.retention_until")->value, "2026-03-16T09:30:45Z");
    cr_assert_str_eq(str_at(r->value, "rdapsync.retention_until"), "2026-03-16T09:30:45Z");
    cr_assert_not(contains(r->value, "maren@larkspur-bindery.example"));
    batch_free(b);
    plugin_stop(&pi);
}

Test(redact_plugin, raw_rdap_output_stays_rdap)
{
    plugin_instance pi;
    start_redact(&pi, "gdpr-standard", "");
    rdapsync_batch *b = one_record("k", fixture("domain-full.json"), 1771061445000LL);

    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    const rdapsync_record *r = H()->batch_get(b, 0);
    cr_assert_str_eq(str_at(r->value, "objectClassName"), "domain");
    cr_assert_null(at(r->value, "rdapsync"), "no foreign member in RDAP");
    cr_assert_str_eq(str_at(r->value, "rdapConformance[3]"), "redacted");
    cr_assert_str_eq(H()->record_header(r, "rdapsync.retention_until")->value, "2026-05-15T09:30:45Z");
    batch_free(b);
    plugin_stop(&pi);
}

Test(redact_plugin, an_unknown_policy_fails_open_with_the_places_looked_at)
{
    plugin_instance pi;
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "{policy: nope, policy_dir: \"%s\"}", policy_dir());

    cr_assert_eq(plugin_start(&pi, "redact", yaml), RDAPSYNC_ERROR);
    cr_assert(strstr(pi.err, "policy \"nope\" not found"), "%s", pi.err);
    plugin_stop(&pi);
}

Test(redact_plugin, a_record_it_cannot_redact_leaves_without_its_document)
{
    plugin_instance pi;
    start_redact(&pi, "gdpr-enterprise", "");
    rdapsync_batch *b = one_record("k", fixture("bad/vcard-not-array.json"), 0);

    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_ERROR);
    cr_assert_str_eq(pi.err, "$.entities[0].vcardArray: expected a jCard array, got a string");
    cr_assert_null(H()->batch_get(b, 0)->value, "error_value clear is the default");
    batch_free(b);
    plugin_stop(&pi);
}

Test(redact_plugin, deletes_pass_and_headers_can_be_turned_off)
{
    plugin_instance pi;
    start_redact(&pi, "gdpr-enterprise", ", headers: false, annotate: false");
    rdapsync_batch *b = one_record("k", fixture("domain-full.json"), 0);

    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK, "%s", pi.err);
    cr_assert_eq(H()->batch_get(b, 0)->header_count, 0);
    cr_assert_not(contains(H()->batch_get(b, 0)->value, "rdapsync data classification"));
    H()->record_set_value(b, batch_record(b, 0), NULL);
    H()->record_set_op(b, batch_record(b, 0), RDAPSYNC_OP_DELETE);
    cr_assert_eq(plugin_transform(&pi, b), RDAPSYNC_OK);
    batch_free(b);
    plugin_stop(&pi);
}
