/*
 * normalize: every jCard form RDAP servers send (RFC 7095, RFC 6350,
 * RFC 8605) becomes the unified contact shape. The conversion logic is
 * compiled into this test.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json_api.h"
#include "unified.h"

static const unified_options defaults = {.keep_raw = false, .max_depth = 32, .max_string = 65536};

/* A domain with one entity of `roles` whose jCard holds `props` after version. */
static rdapsync_value *domain_with(const char *roles, const char *props)
{
    char text[8192];
    snprintf(text, sizeof text,
             "{\"objectClassName\":\"domain\",\"ldhName\":\"x.example\",\"entities\":[{\"objectClassName\":"
             "\"entity\",\"handle\":\"H1\",\"roles\":%s,\"vcardArray\":[\"vcard\",[[\"version\",{},\"text\","
             "\"4.0\"]%s%s]]}]}",
             roles, props[0] ? "," : "", props);
    return json(text);
}

static rdapsync_value *normalized(rdapsync_value *doc)
{
    char err[512];
    rdapsync_value *out = unified_build(J(), doc, &defaults, NULL, err, sizeof err);
    cr_assert_not_null(out, "normalize failed: %s", err);
    J()->decref(doc);
    return out;
}

/* The contact of a one-entity registrant domain. */
static rdapsync_value *registrant(const char *props, rdapsync_value **owner)
{
    *owner = normalized(domain_with("[\"registrant\"]", props));
    rdapsync_value *c = at(*owner, "contacts.registrant[0]");
    cr_assert_not_null(c, "no registrant contact");
    return c;
}

Test(normalize_jcard, structured_adr_becomes_street_lines_locality_region_postal_code_and_country_code)
{
    rdapsync_value *doc, *c = registrant(
        "[\"adr\",{\"cc\":\"us\",\"label\":\"Unit 4\\n1180 Kilnworks Lane\"},\"text\",[\"PO Box 9\",\"Unit 4\","
        "\"1180 Kilnworks Lane\",\"Asheville\",\"NC\",\"28801\",\"\"]]",
        &doc);

    cr_assert_str_eq(str_at(c, "addresses[0].po_box"), "PO Box 9");
    cr_assert_str_eq(str_at(c, "addresses[0].street[0]"), "Unit 4");
    cr_assert_str_eq(str_at(c, "addresses[0].street[1]"), "1180 Kilnworks Lane");
    cr_assert_str_eq(str_at(c, "addresses[0].locality"), "Asheville");
    cr_assert_str_eq(str_at(c, "addresses[0].region"), "NC");
    cr_assert_str_eq(str_at(c, "addresses[0].postal_code"), "28801");
    cr_assert_str_eq(str_at(c, "addresses[0].country_code"), "US");
    cr_assert_str_eq(str_at(c, "addresses[0].label"), "Unit 4\n1180 Kilnworks Lane");
    cr_assert_null(at(c, "addresses[0].country_name"), "empty parts are left out");
    J()->decref(doc);
}

Test(normalize_jcard, street_part_given_as_array_gives_one_line_each)
{
    rdapsync_value *doc, *c = registrant(
        "[\"adr\",{},\"text\",[\"\",\"\",[\"455 Foundry Street\",\"Floor 2\"],\"Greenville\",\"SC\",\"29601\","
        "\"\"]]",
        &doc);

    cr_assert_eq(J()->array_size(at(c, "addresses[0].street")), 2);
    cr_assert_str_eq(str_at(c, "addresses[0].street[1]"), "Floor 2");
    J()->decref(doc);
}

Test(normalize_jcard, label_only_adr_keeps_the_label)
{
    rdapsync_value *doc, *c = registrant(
        "[\"adr\",{\"label\":\"88 Repeater Hill Road\\nTaos, NM\"},\"text\",[\"\",\"\",\"\",\"\",\"\",\"\",\"\"]]",
        &doc);

    cr_assert_str_eq(str_at(c, "addresses[0].label"), "88 Repeater Hill Road\nTaos, NM");
    cr_assert_null(at(c, "addresses[0].street"));
    J()->decref(doc);
}

Test(normalize_jcard, adr_written_as_one_text_is_kept_as_the_label)
{
    rdapsync_value *doc, *c = registrant("[\"adr\",{},\"text\",\"1 Empty Mesa Road, Taos NM\"]", &doc);

    cr_assert_str_eq(str_at(c, "addresses[0].label"), "1 Empty Mesa Road, Taos NM");
    J()->decref(doc);
}

Test(normalize_jcard, country_name_of_two_letters_gives_the_country_code)
{
    rdapsync_value *doc, *c = registrant("[\"adr\",{},\"text\",[\"\",\"\",\"1 rue X\",\"Lyon\",\"\",\"69001\",\"fr\"]]",
                                         &doc);

    cr_assert_str_eq(str_at(c, "addresses[0].country_code"), "FR");
    J()->decref(doc);
}

Test(normalize_jcard, adr_type_parameter_becomes_types)
{
    rdapsync_value *doc, *c = registrant(
        "[\"adr\",{\"type\":\"home\"},\"text\",[\"\",\"\",\"650 Juniper Switchback\",\"Taos\",\"NM\",\"87571\",\"\"]],"
        "[\"adr\",{\"type\":[\"work\"],\"label\":\"Box 77\"},\"text\",[\"\",\"\",\"\",\"\",\"\",\"\",\"\"]]",
        &doc);

    cr_assert_str_eq(str_at(c, "addresses[0].types[0]"), "home");
    cr_assert_str_eq(str_at(c, "addresses[1].types[0]"), "work");
    cr_assert_str_eq(str_at(c, "addresses[1].label"), "Box 77");
    J()->decref(doc);
}

Test(normalize_jcard, tel_uri_with_extension_splits_number_and_ext)
{
    rdapsync_value *doc, *c = registrant("[\"tel\",{\"type\":\"voice\"},\"uri\",\"tel:+1.5555550142;ext=12\"]", &doc);

    cr_assert_str_eq(str_at(c, "phones[0].number"), "+1.5555550142");
    cr_assert_str_eq(str_at(c, "phones[0].ext"), "12");
    cr_assert_str_eq(str_at(c, "phones[0].types[0]"), "voice");
    J()->decref(doc);
}

Test(normalize_jcard, tel_as_text_keeps_the_number_as_written)
{
    rdapsync_value *doc, *c = registrant(
        "[\"tel\",{\"type\":\"cell\"},\"text\",\"+1 555 555 0178\"],[\"tel\",{},\"text\",\"(555) 555-0179\"]", &doc);

    cr_assert_str_eq(str_at(c, "phones[0].number"), "+1 555 555 0178");
    cr_assert_str_eq(str_at(c, "phones[1].number"), "(555) 555-0179");
    cr_assert_null(at(c, "phones[1].types"), "no type parameter, no types");
    J()->decref(doc);
}

Test(normalize_jcard, tel_with_fax_in_a_type_array_is_a_fax)
{
    rdapsync_value *doc, *c = registrant(
        "[\"tel\",{\"type\":[\"work\",\"fax\"]},\"uri\",\"tel:+1.5555550143\"],"
        "[\"tel\",{\"type\":[\"work\",\"voice\"]},\"uri\",\"tel:+1.5555550144\"]",
        &doc);

    cr_assert_str_eq(str_at(c, "faxes[0].number"), "+1.5555550143");
    cr_assert_str_eq(str_at(c, "phones[0].number"), "+1.5555550144");
    cr_assert_eq(J()->array_size(at(c, "faxes")), 1);
    J()->decref(doc);
}

Test(normalize_jcard, tel_type_as_comma_list_is_understood)
{
    rdapsync_value *doc, *c = registrant("[\"tel\",{\"type\":\"work,fax\"},\"uri\",\"tel:+1.5555550145\"]", &doc);

    cr_assert_str_eq(str_at(c, "faxes[0].number"), "+1.5555550145");
    cr_assert_str_eq(str_at(c, "faxes[0].types[1]"), "fax");
    J()->decref(doc);
}

Test(normalize_jcard, several_values_in_one_property_each_count)
{
    rdapsync_value *doc, *c = registrant("[\"email\",{},\"text\",\"a@x.example\",\"b@x.example\"]", &doc);

    cr_assert_eq(J()->array_size(at(c, "emails")), 2);
    cr_assert_str_eq(str_at(c, "emails[1]"), "b@x.example");
    J()->decref(doc);
}

Test(normalize_jcard, several_email_properties_all_kept)
{
    rdapsync_value *doc, *c = registrant(
        "[\"email\",{\"type\":\"work\",\"pref\":\"1\"},\"text\",\"w@x.example\"],[\"email\",{},\"text\","
        "\"h@x.example\"],[\"email\",{},\"text\",\"\"]",
        &doc);

    cr_assert_eq(J()->array_size(at(c, "emails")), 2, "the empty one is left out");
    J()->decref(doc);
}

Test(normalize_jcard, first_fn_is_the_name_and_other_scripts_are_alt_names)
{
    rdapsync_value *doc, *c = registrant(
        "[\"fn\",{\"language\":\"ja\",\"altid\":\"1\"},\"text\",\"山田 花子\"],"
        "[\"fn\",{\"language\":\"en\",\"altid\":\"1\"},\"text\",\"Hanako Yamada\"]",
        &doc);

    cr_assert_str_eq(str_at(c, "name"), "山田 花子");
    cr_assert_str_eq(str_at(c, "alt_names[0].value"), "Hanako Yamada");
    cr_assert_str_eq(str_at(c, "alt_names[0].language"), "en");
    J()->decref(doc);
}

Test(normalize_jcard, structured_org_gives_organization_and_units)
{
    rdapsync_value *doc, *c = registrant("[\"org\",{},\"text\",[\"Mesa Radio Club\",\"Antenna Committee\"]]", &doc);

    cr_assert_str_eq(str_at(c, "organization"), "Mesa Radio Club");
    cr_assert_str_eq(str_at(c, "organization_units[0]"), "Antenna Committee");
    J()->decref(doc);
}

Test(normalize_jcard, kind_individual_org_and_group_map_to_two_kinds)
{
    rdapsync_value *doc, *c = registrant("[\"kind\",{},\"text\",\"group\"]", &doc);
    cr_assert_str_eq(str_at(c, "kind"), "org");
    J()->decref(doc);
    c = registrant("[\"kind\",{},\"text\",\"Individual\"]", &doc);
    cr_assert_str_eq(str_at(c, "kind"), "individual");
    J()->decref(doc);
}

Test(normalize_jcard, contact_uri_and_url_are_kept)
{
    rdapsync_value *doc, *c = registrant(
        "[\"contact-uri\",{},\"uri\",\"mailto:e@x.example\"],[\"url\",{},\"uri\",\"https://x.example/\"]", &doc);

    cr_assert_str_eq(str_at(c, "contact_uris[0]"), "mailto:e@x.example");
    cr_assert_str_eq(str_at(c, "urls[0]"), "https://x.example/");
    J()->decref(doc);
}

Test(normalize_jcard, registrar_with_nested_abuse_contact_gives_registrar_with_abuse)
{
    rdapsync_value *out = normalized(fixture("domain-full.json"));

    cr_assert_str_eq(str_at(out, "registrar.name"), "Bellwether Names, Inc.");
    cr_assert_str_eq(str_at(out, "registrar.iana_id"), "9971");
    cr_assert_str_eq(str_at(out, "registrar.abuse[0].emails[0]"), "abuse@bellwether-names.example");
    cr_assert_str_eq(str_at(out, "registrar.abuse[0].phones[0].number"), "+1.5555550201");
    cr_assert_null(at(out, "contacts.abuse"), "the registrar's abuse contact is under the registrar");
    J()->decref(out);
}

Test(normalize_jcard, contacts_by_role_hold_every_role_of_the_fixture)
{
    rdapsync_value *out = normalized(fixture("domain-full.json"));

    cr_assert_str_eq(str_at(out, "contacts.registrant[0].name"), "Maren Oakhurst");
    cr_assert_str_eq(str_at(out, "contacts.registrant[0].kind"), "individual");
    cr_assert_str_eq(str_at(out, "contacts.registrant[0].organization"), "Larkspur Bindery");
    cr_assert_str_eq(str_at(out, "contacts.registrant[0].faxes[0].number"), "+1.5555550235");
    cr_assert_str_eq(str_at(out, "contacts.administrative[0].name"), "Anouk Delacroix-Imre");
    cr_assert_str_eq(str_at(out, "contacts.technical[0].addresses[0].street[1]"), "Building C");
    cr_assert_str_eq(str_at(out, "contacts.billing[0].addresses[0].country_code"), "GB");
    J()->decref(out);
}

Test(normalize_jcard, three_levels_of_nested_entities_are_all_filed)
{
    rdapsync_value *out = normalized(fixture("domain-nested-entities.json"));

    /* registrar -> reseller -> individual technical contact */
    cr_assert_str_eq(str_at(out, "contacts.reseller[0].name"), "Copper Kettle Web Design");
    cr_assert_str_eq(str_at(out, "contacts.technical[0].name"), "Ngozi Farrow-Lindgren");
    /* one entity with administrative + technical roles is in both lists */
    cr_assert_str_eq(str_at(out, "contacts.administrative[0].name"), "Ilse Marchbanks");
    cr_assert_str_eq(str_at(out, "contacts.technical[1].name"), "Ilse Marchbanks");
    cr_assert_str_eq(str_at(out, "registrar.abuse[0].name"), "Kestrel Point Abuse");
    J()->decref(out);
}

Test(normalize_jcard, every_form_of_the_text_tel_label_fixture_parses)
{
    rdapsync_value *out = normalized(fixture("domain-text-tel-label.json"));
    rdapsync_value *c = at(out, "contacts.registrant[0]");

    cr_assert_eq(J()->array_size(at(c, "phones")), 2);
    cr_assert_eq(J()->array_size(at(c, "faxes")), 1);
    cr_assert_eq(J()->array_size(at(c, "emails")), 2);
    cr_assert_eq(J()->array_size(at(c, "addresses")), 2);
    cr_assert_str_eq(str_at(c, "addresses[1].po_box"), "PO Box 219");
    cr_assert_str_eq(str_at(out, "contacts.technical[0].organization_units[0]"), "Tower Committee");
    J()->decref(out);
}

Test(normalize_jcard, an_adr_component_with_a_bad_line_fails_with_its_path_and_frees_the_lines_before)
{
    /* Found by fuzz_normalize (LeakSanitizer): the locality's good first
     * line was leaked when its second was not a string. */
    char err[512];
    size_t before = json_api_live_values();
    rdapsync_value *doc =
        domain_with("[\"registrant\"]", "[\"adr\",{},\"text\",[\"\",\"\",\"1 Main St\",[\"Asheville\",5],\"NC\",\"28801\",\"US\"]]");
    rdapsync_value *out = unified_build(J(), doc, &defaults, NULL, err, sizeof err);
    cr_assert_null(out);
    cr_assert(strstr(err, "vcardArray[1][1][3][3][1]: expected a string") != NULL, "%s", err);
    J()->decref(doc);
    cr_assert_eq(json_api_live_values(), before, "values leaked");
}
