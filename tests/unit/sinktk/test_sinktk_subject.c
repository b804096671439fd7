/*
 * Subjects and retention (sinktk.h): what each kind matches in the unified
 * shape and in raw RDAP, what it must not match, the prefilter needle, the
 * retention test, and the decision about one stored document.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

TestSuite(sinktk_subject, .init = records_setup, .fini = records_teardown);

static const char unified[] =
    "{\"rdapsync\":{\"schema\":\"rdapsync.unified/1\",\"retention_until\":\"2026-02-27T16:45:12Z\"},"
    "\"object_class\":\"domain\",\"handle\":\"D918273645-EXAMPLE\",\"ldh_name\":\"larkspur-bindery.example\","
    "\"registrar\":{\"handle\":\"9971\",\"name\":\"Bellwether Names, Inc.\","
    "\"abuse\":[{\"name\":\"Bellwether Abuse Desk\",\"emails\":[\"abuse@bellwether-names.example\"]}]},"
    "\"contacts\":{\"registrant\":[{\"handle\":\"C20117001-EXAMPLE\",\"name\":\"Maren  Oakhurst\","
    "\"alt_names\":[{\"value\":\"M. Oakhurst\"}],\"organization\":\"Larkspur Bindery\","
    "\"emails\":[\"Maren@Larkspur-Bindery.example\"],\"contact_uris\":[\"mailto:orders@larkspur.example?subject=x\"],"
    "\"phones\":[{\"number\":\"+1.5555550234\",\"ext\":\"7\"}],\"faxes\":[{\"number\":\"+1 (555) 555-0235\"}]}]}}";

static const char raw[] =
    "{\"objectClassName\":\"domain\",\"handle\":\"D1\",\"entities\":[{\"objectClassName\":\"entity\","
    "\"handle\":\"C20117001-EXAMPLE\",\"vcardArray\":[\"vcard\",[[\"version\",{},\"text\",\"4.0\"],"
    "[\"fn\",{},\"text\",\"Maren Oakhurst\"],[\"tel\",{\"type\":\"voice\"},\"uri\",\"tel:+1.5555550234;ext=7\"],"
    "[\"email\",{},\"text\",\"maren@larkspur-bindery.example\"]]],"
    "\"entities\":[{\"objectClassName\":\"entity\",\"handle\":\"NESTED-1\"}]}]}";

static int match(const char *kind, const char *value, const char *doc)
{
    rdapsync_subject s = {kind, value};
    rdapsync_sinktk_subject prepared;
    char err[256];
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&prepared, &s, err, sizeof err), RDAPSYNC_OK, "%s", err);
    int yes = rdapsync_sinktk_subject_match_text(host, &prepared, doc, strlen(doc));
    rdapsync_sinktk_subject_free(&prepared);
    return yes;
}

Test(sinktk_subject, each_kind_matches_a_unified_contact_whatever_its_case_spacing_or_punctuation)
{
    cr_assert_eq(match("email", " maren@larkspur-bindery.EXAMPLE ", unified), 1);
    cr_assert_eq(match("email", "orders@larkspur.example", unified), 1, "a mailto: contact URI");
    cr_assert_eq(match("email", "abuse@bellwether-names.example", unified), 1, "the registrar's abuse contact");
    cr_assert_eq(match("handle", "c20117001-example", unified), 1);
    cr_assert_eq(match("name", "maren oakhurst", unified), 1, "white space runs collapse");
    cr_assert_eq(match("name", "M. Oakhurst", unified), 1, "an alternative name");
    cr_assert_eq(match("phone", "+1 555 555 0234", unified), 1);
    cr_assert_eq(match("phone", "1-555-555-0235", unified), 1, "a fax");
}

Test(sinktk_subject, each_kind_matches_a_raw_rdap_entity_at_any_depth)
{
    cr_assert_eq(match("email", "maren@larkspur-bindery.example", raw), 1);
    cr_assert_eq(match("handle", "NESTED-1", raw), 1);
    cr_assert_eq(match("name", "Maren Oakhurst", raw), 1);
    cr_assert_eq(match("phone", "+1.555.555.0234", raw), 1, "tel: and the extension dropped");
    char wrapped[4096];
    snprintf(wrapped, sizeof wrapped, "{\"object_class\":\"domain\",\"raw\":%s}", raw);
    cr_assert_eq(match("email", "maren@larkspur-bindery.example", wrapped), 1, "inside the unified raw member");
}

Test(sinktk_subject, other_people_organisations_and_the_domain_do_not_match)
{
    cr_assert_eq(match("email", "maren@larkspur-bindery.example.net", unified), 0);
    cr_assert_eq(match("email", "larkspur-bindery.example", unified), 0, "no substring matches");
    cr_assert_eq(match("name", "Larkspur Bindery", unified), 0, "an organisation is not a name");
    cr_assert_eq(match("name", "Bellwether Names, Inc.", unified), 1, "the registrar contact's own name does");
    cr_assert_eq(match("handle", "D918273645-EXAMPLE", unified), 0, "a domain handle is not a person");
    cr_assert_eq(match("handle", "D1", raw), 0);
    cr_assert_eq(match("phone", "5555550234", unified), 0, "the country code is part of the number");
    cr_assert_eq(match("email", "maren@larkspur-bindery.example", "[1,2]"), 0);
    cr_assert_eq(match("email", "maren@larkspur-bindery.example", "not json"), -1);
}

Test(sinktk_subject, an_entity_document_matches_its_own_handle)
{
    cr_assert_eq(match("handle", "E-1", "{\"object_class\":\"entity\",\"handle\":\"E-1\"}"), 1);
    cr_assert_eq(match("handle", "E-1", "{\"object_class\":\"domain\",\"handle\":\"E-1\"}"), 0);
}

Test(sinktk_subject, unknown_kinds_empty_values_and_short_phones_are_refused)
{
    rdapsync_sinktk_subject p;
    char err[256];
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&p, &(rdapsync_subject){"ssn", "1"}, err, sizeof err),
                 RDAPSYNC_ERROR);
    cr_assert(strstr(err, "unknown subject kind"));
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&p, &(rdapsync_subject){"email", "  "}, err, sizeof err),
                 RDAPSYNC_ERROR);
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&p, &(rdapsync_subject){"phone", "+1 23"}, err, sizeof err),
                 RDAPSYNC_ERROR);
    cr_assert(strstr(err, "4 digits"));
}

Test(sinktk_subject, the_needle_is_a_substring_of_every_matching_text_or_absent)
{
    rdapsync_sinktk_subject p;
    char err[256];
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&p, &(rdapsync_subject){"email", "Maren@X.example"}, err, 256), 0);
    cr_assert_str_eq(p.needle, "maren@x.example");
    rdapsync_sinktk_subject_free(&p);
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&p, &(rdapsync_subject){"name", "Maren  Oakhurst"}, err, 256), 0);
    cr_assert_str_eq(p.needle, "oakhurst", "the longest word: spacing may differ in the store");
    rdapsync_sinktk_subject_free(&p);
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&p, &(rdapsync_subject){"phone", "+1 555"}, err, 256), 0);
    cr_assert_null(p.needle, "digits may be split by punctuation: no prefilter");
    rdapsync_sinktk_subject_free(&p);
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&p, &(rdapsync_subject){"handle", "a\"b"}, err, 256), 0);
    cr_assert_null(p.needle, "JSON escapes a quote");
    rdapsync_sinktk_subject_free(&p);
    char *like = rdapsync_sinktk_like_pattern("a_b%c\\d");
    cr_assert_str_eq(like, "%a\\_b\\%c\\\\d%");
    free(like);
}

/* The hits a scan handed over; `stop` makes the callback refuse. */
typedef struct hits {
    int count;
    char where[32], key[64];
    bool stop;
} hits;

static int take_hit(void *arg, const rdapsync_subject_hit *hit)
{
    hits *h = arg;
    h->count++;
    snprintf(h->where, sizeof h->where, "%s", hit->where);
    snprintf(h->key, sizeof h->key, "%.*s", (int)hit->key_len, hit->key);
    return h->stop ? 1 : 0;
}

Test(sinktk_subject, a_scanned_row_is_a_hit_when_it_names_the_subject_and_damage_names_sink_part_and_key)
{
    rdapsync_subject s = {"email", "maren@larkspur-bindery.example"};
    rdapsync_sinktk_subject prepared;
    char err[256] = "";
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&prepared, &s, err, sizeof err), RDAPSYNC_OK, "%s", err);
    hits h = {0};
    rdapsync_sinktk_subject_scan scan = {host, "postgres", &prepared, "history", false, take_hit, &h};

    cr_assert_eq(rdapsync_sinktk_subject_found(&scan, "k1", 2, unified, strlen(unified), err, sizeof err), 0);
    cr_assert_eq(h.count, 1);
    cr_assert_str_eq(h.where, "history");
    cr_assert_str_eq(h.key, "k1");
    const char other[] = "{\"handle\":\"D2\",\"contacts\":{}}";
    cr_assert_eq(rdapsync_sinktk_subject_found(&scan, "k2", 2, other, strlen(other), err, sizeof err), 0);
    cr_assert_eq(h.count, 1, "a document about someone else is no hit");

    cr_assert_eq(rdapsync_sinktk_subject_found(&scan, "k3", 2, "{not json", 9, err, sizeof err), -1);
    cr_assert_str_eq(err, "postgres sink: history row of key \"k3\" is not JSON");

    h.stop = true;
    cr_assert_eq(rdapsync_sinktk_subject_found(&scan, "k1", 2, unified, strlen(unified), err, sizeof err), -1);
    cr_assert_str_eq(err, "stopped by the caller");

    const char heads[] = "[{\"vv\":{\"eu\":1},\"t\":1,\"o\":\"eu\",\"s\":0,\"deleted\":false,\"doc\":{\"contacts\":"
                         "{\"registrant\":[{\"emails\":[\"Maren@Larkspur-Bindery.example\"]}]}}}]";
    hits hh = {0};
    rdapsync_sinktk_subject_scan heads_scan = {host, "sqlite", &prepared, "heads", true, take_hit, &hh};
    cr_assert_eq(rdapsync_sinktk_subject_found(&heads_scan, "k4", 2, heads, strlen(heads), err, sizeof err), 0,
                 "%s", err);
    cr_assert_eq(hh.count, 1, "a head's document names the subject");
    cr_assert_eq(rdapsync_sinktk_subject_found(&heads_scan, "k5", 2, "{}", 2, err, sizeof err), -1,
                 "a heads text is an array");
    rdapsync_sinktk_subject_free(&prepared);
}

static rdapsync_value *parsed(const char *text)
{
    char err[256];
    rdapsync_value *v = host->json->parse(text, strlen(text), err, sizeof err);
    cr_assert_not_null(v, "%s", err);
    return v;
}

Test(sinktk_subject, a_document_is_due_once_its_retention_deadline_has_passed)
{
    rdapsync_value *doc = parsed(unified);
    int64_t deadline = 1772210712000; /* 2026-02-27T16:45:12Z */
    cr_assert_eq(rdapsync_sinktk_retention_due(host, doc, deadline), 0);
    cr_assert_eq(rdapsync_sinktk_retention_due(host, doc, deadline + 1), 1);
    host->json->decref(doc);
    doc = parsed("{\"rdapsync\":{\"retention_until\":\"soon\"}}");
    cr_assert_eq(rdapsync_sinktk_retention_due(host, doc, deadline), -1);
    host->json->decref(doc);
    doc = parsed("{\"handle\":\"x\"}");
    cr_assert_eq(rdapsync_sinktk_retention_due(host, doc, INT64_MAX), 0, "no deadline, never due");
    host->json->decref(doc);
}

/* Rewrites: "same" returns the input, "clean" a document without the
 * subject, "leaky" one that still has it, "fail" fails. */
static int rewrite(void *arg, const char *document, size_t len, char **out, size_t *out_len)
{
    const char *how = arg, *text = NULL;
    if (strcmp(how, "fail") == 0)
        return -1;
    if (strcmp(how, "same") == 0) {
        *out = host->alloc(len);
        memcpy(*out, document, len);
        *out_len = len;
        return 0;
    }
    text = strcmp(how, "clean") == 0 ? "{\"contacts\":{\"registrant\":[{\"name\":\"REDACTED\"}]}}"
                                     : "{\"contacts\":{\"registrant\":[{\"name\":\"Maren Oakhurst\"}]}}";
    *out_len = strlen(text);
    *out = host->alloc(*out_len);
    memcpy(*out, text, *out_len);
    return 0;
}

static int scrub(const char *how, const char *doc, char **out)
{
    rdapsync_sinktk_subject p;
    char err[256];
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&p, &(rdapsync_subject){"name", "maren oakhurst"}, err, 256), 0);
    rdapsync_sinktk_scrub sc = {.host = host, .subject = &p, .fn = how ? rewrite : NULL, .arg = (void *)how};
    size_t out_len;
    int verdict = rdapsync_sinktk_scrub_text(&sc, doc, strlen(doc), out, &out_len, err, sizeof err);
    rdapsync_sinktk_subject_free(&p);
    return verdict;
}

Test(sinktk_subject, scrub_replaces_deletes_or_keeps_and_never_leaves_a_match_behind)
{
    char *out = NULL;
    cr_assert_eq(scrub(NULL, unified, &out), RDAPSYNC_SINKTK_DELETE, "no rewrite: delete");
    cr_assert_eq(scrub("clean", unified, &out), RDAPSYNC_SINKTK_REPLACE);
    cr_assert(strstr(out, "REDACTED"));
    host->free(out);
    cr_assert_eq(scrub("leaky", unified, &out), RDAPSYNC_SINKTK_DELETE, "a replacement that still matches");
    cr_assert_null(out);
    cr_assert_eq(scrub("clean", "{\"handle\":\"other\"}", &out), RDAPSYNC_SINKTK_KEEP, "not concerned");
    cr_assert_eq(scrub("fail", unified, &out), -1);
    cr_assert_eq(scrub(NULL, "{oops", &out), -1);
}

Test(sinktk_subject, retention_scrub_keeps_an_identical_anonymised_document)
{
    rdapsync_sinktk_scrub sc = {.host = host, .now_ms = INT64_MAX, .fn = rewrite, .arg = "same"};
    char *out = NULL, err[256];
    size_t len;
    cr_assert_eq(rdapsync_sinktk_scrub_text(&sc, unified, strlen(unified), &out, &len, err, sizeof err),
                 RDAPSYNC_SINKTK_KEEP, "idempotent: a second pass changes nothing");
    sc.fn = NULL;
    cr_assert_eq(rdapsync_sinktk_scrub_text(&sc, unified, strlen(unified), &out, &len, err, sizeof err),
                 RDAPSYNC_SINKTK_DELETE);
    sc.now_ms = 0;
    cr_assert_eq(rdapsync_sinktk_scrub_text(&sc, unified, strlen(unified), &out, &len, err, sizeof err),
                 RDAPSYNC_SINKTK_KEEP, "not yet due");
}
