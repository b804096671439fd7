/*
 * The multi-value register of the toolkit: heads as the maximal versions
 * of the set seen (any order, duplicates), stale versions, the conflict
 * log's changes, the strategies' visible document, tombstone heads, and
 * the conflicts option.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

#include "loader.h"

#define VV(...) ((rdapsync_vv){ (const rdapsync_vv_entry[]){ __VA_ARGS__ }, \
                                sizeof((rdapsync_vv_entry[]){ __VA_ARGS__ }) / sizeof(rdapsync_vv_entry) })

static const rdapsync_host *H;

/* A version of key "k" with `doc` (NULL: a delete). */
static rdapsync_record version(rdapsync_vv vv, int64_t ts, const char *origin, const char *doc)
{
    rdapsync_value *value = doc ? H->json->parse(doc, strlen(doc), NULL, 0) : NULL;
    cr_assert(!doc || value, "test document parses: %s", doc);
    return (rdapsync_record){ .key = "k", .key_len = 1, .op = doc ? RDAPSYNC_OP_UPSERT : RDAPSYNC_OP_DELETE,
                              .value = value, .version = { ts, origin, 1 }, .vv = vv };
}

static void release(rdapsync_record *records, size_t n)
{
    for (size_t i = 0; i < n; i++)
        H->json->decref(records[i].value);
}

/* The register as a store keeps it: `state` holds the stored heads text
 * (or NULL) and is replaced when the step changed them. Returns the key
 * (the caller clears it). */
static rdapsync_sinktk_mvr_key feed(const rdapsync_sinktk_conflicts *c, char **state, const rdapsync_record *record)
{
    rdapsync_sinktk_mvr_key key = { .record = record };
    if (*state) {
        key.stored = strdup(*state);
        key.stored_len = strlen(*state);
    }
    char err[256];
    cr_assert_eq(rdapsync_sinktk_mvr_step(H, c, &key, &record, 1, err, sizeof err), 0, "%s", err);
    if (key.changed) {
        /* Stores write heads_len bytes (the PostgreSQL sink's COPY). */
        cr_assert_eq(key.heads_len, strlen(key.heads));
        free(*state);
        *state = strdup(key.heads);
    }
    return key;
}

static void init(void)
{
    H = host_api_table();
}

TestSuite(sinktk_mvr, .init = init);

Test(sinktk_mvr, concurrent_versions_are_both_heads_and_open_a_conflict)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 100, "eu", "{\"a\":1}"),
                            version(VV({ "us", 1 }), 200, "us", "{\"a\":2}") };
    char *state = NULL;
    rdapsync_sinktk_mvr_key k = feed(&lww, &state, &r[0]);
    cr_assert(k.changed);
    cr_assert_eq(k.log, RDAPSYNC_SINKTK_LOG_NONE, "one head is no conflict");
    rdapsync_sinktk_mvr_key_clear(&k);
    k = feed(&lww, &state, &r[1]);
    cr_assert_eq(k.head_count, 2);
    cr_assert_eq(k.head_count_before, 1);
    cr_assert_eq(k.log, RDAPSYNC_SINKTK_LOG_OPEN);
    cr_assert_str_eq(k.doc, "{\"a\":2}", "lww shows the later event time");
    cr_assert_str_eq(k.log_heads, "[{\"vv\":{\"us\":1},\"t\":200,\"o\":\"us\",\"s\":1,\"deleted\":false},"
                                  "{\"vv\":{\"eu\":1},\"t\":100,\"o\":\"eu\",\"s\":1,\"deleted\":false}]");
    rdapsync_sinktk_mvr_key_clear(&k);
    free(state);
    release(r, 2);
}

Test(sinktk_mvr, a_version_dominating_all_heads_resolves_the_conflict)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 300, "eu", "{\"a\":1}"),
                            version(VV({ "us", 1 }), 200, "us", "{\"a\":2}"),
                            version(VV({ "eu", 1 }, { "us", 2 }), 100, "us", "{\"a\":3}") };
    char *state = NULL;
    for (int i = 0; i < 2; i++) {
        rdapsync_sinktk_mvr_key k = feed(&lww, &state, &r[i]);
        rdapsync_sinktk_mvr_key_clear(&k);
    }
    rdapsync_sinktk_mvr_key k = feed(&lww, &state, &r[2]);
    cr_assert_eq(k.head_count, 1);
    cr_assert_eq(k.log, RDAPSYNC_SINKTK_LOG_RESOLVE);
    cr_assert_str_eq(k.doc, "{\"a\":3}", "the dominating version wins even with an older clock");
    cr_assert_eq(k.version.event_time_ms, 100);
    rdapsync_sinktk_mvr_key_clear(&k);
    free(state);
    release(r, 3);
}

Test(sinktk_mvr, dominated_and_equal_versions_are_stale_and_change_nothing)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record r[] = { version(VV({ "eu", 2 }), 100, "eu", "{\"a\":1}"),
                            version(VV({ "eu", 1 }), 999, "eu", "{\"a\":0}"),
                            version(VV({ "eu", 2 }), 100, "eu", "{\"a\":1}") };
    char *state = NULL;
    rdapsync_sinktk_mvr_key k = feed(&lww, &state, &r[0]);
    rdapsync_sinktk_mvr_key_clear(&k);
    for (int i = 1; i < 3; i++) {
        k = feed(&lww, &state, &r[i]);
        cr_assert_not(k.changed, "version %d is stale", i);
        cr_assert_eq(k.stale, 1);
        cr_assert_null(k.heads);
        rdapsync_sinktk_mvr_key_clear(&k);
    }
    free(state);
    release(r, 3);
}

/* Every order of the versions (with each one given twice) ends in the
 * same stored heads and the same visible document. */
static void permute(const rdapsync_sinktk_conflicts *c, rdapsync_record *r, size_t n, size_t at, const char *heads,
                    const char *doc)
{
    if (at == n) {
        char *state = NULL, *shown = NULL;
        for (size_t pass = 0; pass < 2; pass++) {
            for (size_t i = 0; i < n; i++) {
                rdapsync_sinktk_mvr_key k = feed(c, &state, &r[i]);
                if (k.changed) {
                    free(shown);
                    shown = k.doc ? strdup(k.doc) : strdup("(tombstone)");
                }
                rdapsync_sinktk_mvr_key_clear(&k);
            }
        }
        cr_assert_str_eq(state, heads);
        cr_assert_str_eq(shown, doc);
        free(state);
        free(shown);
        return;
    }
    for (size_t i = at; i < n; i++) {
        rdapsync_record t = r[at];
        r[at] = r[i];
        r[i] = t;
        permute(c, r, n, at + 1, heads, doc);
        r[i] = r[at];
        r[at] = t;
    }
}

Test(sinktk_mvr, heads_and_document_are_the_same_for_every_order_with_duplicates)
{
    rdapsync_sinktk_conflicts merge = { .strategy = RDAPSYNC_SINKTK_MERGE };
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 100, "eu", "{\"a\":1,\"b\":1}"),
                            version(VV({ "eu", 2 }), 150, "eu", "{\"a\":2,\"b\":1}"),
                            version(VV({ "eu", 1 }, { "us", 1 }), 120, "us", "{\"a\":1,\"c\":3}"),
                            version(VV({ "ap", 1 }), 110, "ap", "{\"d\":4}") };
    permute(&merge, r, 4, 0,
            "[{\"deleted\":false,\"doc\":{\"a\":2,\"b\":1},\"o\":\"eu\",\"s\":1,\"t\":150,\"vv\":{\"eu\":2}},"
            "{\"deleted\":false,\"doc\":{\"a\":1,\"c\":3},\"o\":\"us\",\"s\":1,\"t\":120,\"vv\":{\"eu\":1,\"us\":1}},"
            "{\"deleted\":false,\"doc\":{\"d\":4},\"o\":\"ap\",\"s\":1,\"t\":110,\"vv\":{\"ap\":1}}]",
            "{\"a\":2,\"b\":1,\"c\":3,\"d\":4}");
    release(r, 4);
}

static char *shown_by(rdapsync_sinktk_conflicts *c, rdapsync_record *r, size_t n)
{
    char *state = NULL, *shown = NULL;
    for (size_t i = 0; i < n; i++) {
        rdapsync_sinktk_mvr_key k = feed(c, &state, &r[i]);
        if (k.changed) {
            free(shown);
            shown = k.doc ? strdup(k.doc) : strdup("(tombstone)");
        }
        rdapsync_sinktk_mvr_key_clear(&k);
    }
    free(state);
    return shown;
}

Test(sinktk_mvr, strategies_pick_the_visible_document_from_the_heads)
{
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 200, "eu", "{\"a\":\"eu\",\"x\":1}"),
                            version(VV({ "us", 1 }), 100, "us", "{\"a\":\"us\",\"y\":2}") };
    char *regions[] = { "us", "eu" };
    rdapsync_sinktk_conflicts lww = { 0 }, manual = { .strategy = RDAPSYNC_SINKTK_MANUAL },
                              merge = { .strategy = RDAPSYNC_SINKTK_MERGE },
                              priority = { .strategy = RDAPSYNC_SINKTK_REGION_PRIORITY, .regions = regions,
                                           .region_count = 2 };
    char *s = shown_by(&lww, r, 2);
    cr_assert_str_eq(s, "{\"a\":\"eu\",\"x\":1}", "lww: greatest event time");
    free(s);
    s = shown_by(&manual, r, 2);
    cr_assert_str_eq(s, "{\"a\":\"eu\",\"x\":1}", "manual shows lww");
    free(s);
    s = shown_by(&priority, r, 2);
    cr_assert_str_eq(s, "{\"a\":\"us\",\"y\":2}", "region-priority: us is listed first");
    free(s);
    s = shown_by(&merge, r, 2);
    cr_assert_str_eq(s, "{\"a\":\"eu\",\"x\":1,\"y\":2}", "merge: members of both, a from the lww head");
    free(s);
    release(r, 2);
}

Test(sinktk_mvr, a_concurrent_delete_is_a_tombstone_head)
{
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 100, "eu", "{\"a\":1}"),
                            version(VV({ "us", 1 }), 200, "us", NULL) };
    rdapsync_sinktk_conflicts lww = { 0 }, merge = { .strategy = RDAPSYNC_SINKTK_MERGE };
    char *s = shown_by(&lww, r, 2);
    cr_assert_str_eq(s, "(tombstone)", "the later delete wins under lww");
    free(s);
    s = shown_by(&merge, r, 2);
    cr_assert_str_eq(s, "(tombstone)", "merge shows a tombstone when the lww head is one");
    free(s);
    r[1].version.event_time_ms = 50;
    s = shown_by(&merge, r, 2);
    cr_assert_str_eq(s, "{\"a\":1}", "an earlier concurrent delete loses to the upsert");
    free(s);
    release(r, 2);
}

Test(sinktk_mvr, records_without_a_vector_are_counted_stale_by_the_register)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record r = version((rdapsync_vv){ NULL, 0 }, 100, "eu", "{\"a\":1}");
    char *state = NULL;
    rdapsync_sinktk_mvr_key k = feed(&lww, &state, &r);
    cr_assert_not(k.changed);
    cr_assert_eq(k.stale, 1);
    rdapsync_sinktk_mvr_key_clear(&k);
    release(&r, 1);
}

Test(sinktk_mvr, stored_heads_that_are_not_a_register_fail_the_step)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record r = version(VV({ "eu", 1 }), 100, "eu", "{\"a\":1}");
    const rdapsync_record *p = &r;
    const char *bad[] = { "not json", "{}", "[{\"vv\":{}}]", "[{\"vv\":{\"eu\":0},\"t\":1,\"o\":\"\",\"s\":1,"
                                                          "\"deleted\":false,\"doc\":{}}]" };
    for (size_t i = 0; i < 4; i++) {
        rdapsync_sinktk_mvr_key k = { .record = &r, .stored = strdup(bad[i]), .stored_len = strlen(bad[i]) };
        char err[256] = "";
        cr_assert_eq(rdapsync_sinktk_mvr_step(H, &lww, &k, &p, 1, err, sizeof err), -1, "%s", bad[i]);
        cr_assert_neq(err[0], '\0');
        rdapsync_sinktk_mvr_key_clear(&k);
    }
    release(&r, 1);
}

static rdapsync_status option(const char *json, int mode, rdapsync_sinktk_conflicts **out, char *err)
{
    return rdapsync_sinktk_conflicts_option(H, json, mode, "t", "rdapsync_positions", strcmp, out, err, 256);
}

Test(sinktk_mvr, the_conflicts_option_reads_defaults_and_names_each_mistake)
{
    rdapsync_sinktk_conflicts *c = NULL;
    char err[256];
    cr_assert_eq(option(NULL, RDAPSYNC_SINKTK_UPSERT, &c, err), RDAPSYNC_OK);
    cr_assert_null(c);
    cr_assert_eq(option("{}", RDAPSYNC_SINKTK_UPSERT, &c, err), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(c->strategy, RDAPSYNC_SINKTK_LWW);
    cr_assert_str_eq(c->table, "t_conflicts");
    rdapsync_sinktk_conflicts_free(c);
    cr_assert_eq(option("{\"strategy\":\"region-priority\",\"regions\":[\"us\",\"eu\"],\"table\":\"log\"}",
                        RDAPSYNC_SINKTK_UPSERT, &c, err), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(c->region_count, 2);
    cr_assert_str_eq(c->regions[1], "eu");
    cr_assert_str_eq(c->table, "log");
    rdapsync_sinktk_conflicts_free(c);

    struct { const char *json; int mode; const char *place; } bad[] = {
        { "{}", RDAPSYNC_SINKTK_APPEND, "@conflicts:" },
        { "[]", RDAPSYNC_SINKTK_UPSERT, "@conflicts:" },
        { "{\"strategy\":\"newest\"}", RDAPSYNC_SINKTK_UPSERT, "@conflicts.strategy" },
        { "{\"strategy\":\"region-priority\"}", RDAPSYNC_SINKTK_UPSERT, "@conflicts.regions" },
        { "{\"regions\":[\"us\"]}", RDAPSYNC_SINKTK_UPSERT, "@conflicts.regions" },
        { "{\"strategy\":\"region-priority\",\"regions\":[\"us\",\"us\"]}", RDAPSYNC_SINKTK_UPSERT,
          "@conflicts.regions[1]" },
        { "{\"table\":\"t_heads\"}", RDAPSYNC_SINKTK_UPSERT, "@conflicts.table" },
        { "{\"table\":\"rdapsync_positions\"}", RDAPSYNC_SINKTK_UPSERT, "@conflicts.table" },
        { "{\"tabel\":\"x\"}", RDAPSYNC_SINKTK_UPSERT, "@conflicts.tabel" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = NULL;
        cr_assert_eq(option(bad[i].json, bad[i].mode, &c, err), RDAPSYNC_ERROR, "%s", bad[i].json);
        cr_assert_null(c);
        cr_assert(strncmp(err, bad[i].place, strlen(bad[i].place)) == 0, "%s: %s", bad[i].json, err);
    }
}

/* ---- erasure inside the heads (sinktk.h, "Erasure inside the heads") ---- */

static const char about_maren[] = "{\"contacts\":{\"registrant\":[{\"name\":\"Maren Oakhurst\","
                                  "\"emails\":[\"maren@larkspur.example\"]}]}}";

/* Two concurrent heads, the greater one about the subject. */
static char *two_heads(rdapsync_record r[2])
{
    rdapsync_sinktk_conflicts lww = { 0 };
    char *state = NULL;
    for (size_t i = 0; i < 2; i++) {
        rdapsync_sinktk_mvr_key k = feed(&lww, &state, &r[i]);
        rdapsync_sinktk_mvr_key_clear(&k);
    }
    return state;
}

static int scrub_heads(const char *heads, rdapsync_subject_rewrite_fn fn, char **out)
{
    rdapsync_sinktk_subject s;
    char err[256];
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&s, &(rdapsync_subject){ "email", "maren@larkspur.example" }, err,
                                                 sizeof err), RDAPSYNC_OK);
    rdapsync_sinktk_scrub scrub = { .host = H, .subject = &s, .fn = fn };
    size_t len;
    int verdict = rdapsync_sinktk_scrub_heads(&scrub, heads, strlen(heads), out, &len, err, sizeof err);
    rdapsync_sinktk_subject_free(&s);
    return verdict;
}

Test(sinktk_mvr, erasure_turns_the_subjects_heads_into_erased_tombstones_and_keeps_every_version, .init = init)
{
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 100, "eu", "{\"a\":1}"),
                            version(VV({ "us", 1 }), 200, "us", about_maren) };
    char *state = two_heads(r), *out = NULL;
    rdapsync_sinktk_subject s;
    char err[256];
    cr_assert_eq(rdapsync_sinktk_subject_prepare(&s, &(rdapsync_subject){ "email", "maren@larkspur.example" }, err,
                                                 sizeof err), RDAPSYNC_OK);
    cr_assert_eq(rdapsync_sinktk_subject_match_heads_text(H, &s, state, strlen(state)), 1);

    cr_assert_eq(scrub_heads(state, NULL, &out), RDAPSYNC_SINKTK_REPLACE);
    cr_assert_null(strstr(out, "maren"), "no trace of the subject: %s", out);
    cr_assert(strstr(out, "\"erased\":true"), "%s", out);
    cr_assert(strstr(out, "{\"a\":1}"), "the other head keeps its document: %s", out);
    cr_assert_eq(rdapsync_sinktk_subject_match_heads_text(H, &s, out, strlen(out)), 0);
    char *again = NULL;
    cr_assert_eq(scrub_heads(out, NULL, &again), RDAPSYNC_SINKTK_KEEP, "idempotent");
    cr_assert_null(again);

    /* The register reads the erased heads: a replay of the erased version
     * is stale, and the visible row is the greatest head's: a tombstone. */
    free(state);
    state = strdup(out);
    H->free(out);
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record replay = version(VV({ "us", 1 }), 200, "us", about_maren);
    rdapsync_sinktk_mvr_key k = feed(&lww, &state, &replay);
    cr_assert_eq(k.stale, 1, "the erased data cannot come back by replay");
    cr_assert_not(k.changed);
    rdapsync_sinktk_mvr_key_clear(&k);

    /* A version that dominates both resolves the conflict as usual. */
    rdapsync_record next = version(VV({ "eu", 1 }, { "us", 2 }), 300, "us", "{\"a\":3}");
    k = feed(&lww, &state, &next);
    cr_assert(k.changed);
    cr_assert_eq(k.head_count, 1);
    cr_assert_eq(k.log, RDAPSYNC_SINKTK_LOG_RESOLVE);
    cr_assert_str_eq(k.doc, "{\"a\":3}");
    rdapsync_sinktk_mvr_key_clear(&k);
    rdapsync_sinktk_subject_free(&s);
    release(r, 2);
    release(&replay, 1);
    release(&next, 1);
    free(state);
}

static int redact_all(void *arg, const char *document, size_t len, char **out, size_t *out_len)
{
    (void)arg, (void)document, (void)len;
    static const char text[] = "{\"contacts\":{\"registrant\":[{\"name\":\"REDACTED FOR PRIVACY\"}]}}";
    *out_len = sizeof(text) - 1;
    *out = H->alloc(*out_len);
    memcpy(*out, text, *out_len);
    return 0;
}

Test(sinktk_mvr, erasure_with_a_redaction_policy_rewrites_the_heads_document_in_place, .init = init)
{
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 100, "eu", "{\"a\":1}"),
                            version(VV({ "us", 1 }), 200, "us", about_maren) };
    char *state = two_heads(r), *out = NULL;
    cr_assert_eq(scrub_heads(state, redact_all, &out), RDAPSYNC_SINKTK_REPLACE);
    cr_assert(strstr(out, "REDACTED FOR PRIVACY"), "%s", out);
    cr_assert_null(strstr(out, "erased"), "a redacted head keeps its document: %s", out);
    cr_assert_null(strstr(out, "maren"));
    H->free(out);
    cr_assert_eq(scrub_heads("[{\"vv\":{}", NULL, &out), -1, "not JSON");
    cr_assert_eq(scrub_heads("{}", NULL, &out), -1, "not an array");
    release(r, 2);
    free(state);
}
