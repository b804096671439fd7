/*
 * The register of a store that can load rows (key->lone_docless): a lone
 * head is stored without its document, the step asks for the row's
 * document only when that head comes to stand beside another one, and
 * the heads text stays the same for every order of the versions even
 * though the row gives the document back in another member order.
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

static void init(void)
{
    H = host_api_table();
}

TestSuite(sinktk_mvr_docless, .init = init);

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

/* What a store keeps of key "k": its heads text and its row's document
 * (NULL: no row, or a tombstone), and how often the row was asked for. */
typedef struct store {
    char *heads;
    char *row;
    int rows_loaded;
} store;

static void store_free(store *s)
{
    free(s->heads);
    free(s->row);
}

/* The row's document as a jsonb column gives it back: top-level members
 * in reverse order, with spaces. malloc'd. */
static char *respelled(const char *doc)
{
    rdapsync_value *v = H->json->parse(doc, strlen(doc), NULL, 0);
    cr_assert_not_null(v);
    char *out = calloc(1, strlen(doc) * 2 + 8);
    const char *names[32];
    rdapsync_value *values[32];
    size_t n = 0;
    for (rdapsync_value_iter *it = H->json->object_iter(v); it && n < 32; it = H->json->object_iter_next(v, it)) {
        names[n] = H->json->object_iter_key(it);
        values[n++] = H->json->object_iter_value(it);
    }
    strcat(out, "{");
    while (n-- > 0) {
        char *member = H->json->dump(values[n], 0, NULL);
        sprintf(out + strlen(out), "\"%s\": %s%s", names[n], member, n ? ", " : "");
        H->free(member);
    }
    strcat(out, "}");
    H->json->decref(v);
    return out;
}

/* Offers one version as the writer does: the step, and when it needs the
 * row, the row (respelled) and the step again. Keeps the heads and the
 * row as the store would. Returns the key (the caller clears it). */
static rdapsync_sinktk_mvr_key feed(const rdapsync_sinktk_conflicts *c, store *s, const rdapsync_record *record)
{
    rdapsync_sinktk_mvr_key key = { .record = record, .lone_docless = true };
    if (s->heads) {
        key.stored = strdup(s->heads);
        key.stored_len = strlen(s->heads);
    }
    char err[256];
    cr_assert_eq(rdapsync_sinktk_mvr_step(H, c, &key, &record, 1, err, sizeof err), 0, "%s", err);
    if (key.need_row) {
        cr_assert_not(key.changed, "nothing is computed before the row is there");
        s->rows_loaded++;
        key.row_loaded = true;
        if (s->row) {
            key.row_doc = respelled(s->row);
            key.row_doc_len = strlen(key.row_doc);
        }
        cr_assert_eq(rdapsync_sinktk_mvr_step(H, c, &key, &record, 1, err, sizeof err), 0, "%s", err);
        cr_assert_not(key.need_row);
    }
    if (key.changed) {
        free(s->heads);
        free(s->row);
        s->heads = strdup(key.heads);
        s->row = key.doc ? strdup(key.doc) : NULL;
    }
    return key;
}

Test(sinktk_mvr_docless, a_lone_head_is_stored_without_its_document)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 100, "eu", "{\"b\":1,\"a\":1}"),
                            version(VV({ "eu", 2 }), 200, "eu", "{\"b\":2,\"a\":2}") };
    store s = { 0 };
    for (int i = 0; i < 2; i++) {
        rdapsync_sinktk_mvr_key k = feed(&lww, &s, &r[i]);
        cr_assert(k.changed);
        cr_assert_null(strstr(k.heads, "doc"), "a lone head has no document: %s", k.heads);
        rdapsync_sinktk_mvr_key_clear(&k);
    }
    cr_assert_str_eq(s.heads, "[{\"deleted\":false,\"o\":\"eu\",\"s\":1,\"t\":200,\"vv\":{\"eu\":2}}]");
    cr_assert_str_eq(s.row, "{\"b\":2,\"a\":2}", "the row shows the record as it came");
    cr_assert_eq(s.rows_loaded, 0, "a dominating version needs no row");
    store_free(&s);
    release(r, 2);
}

Test(sinktk_mvr_docless, a_concurrent_version_takes_the_lone_heads_document_from_the_row)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 100, "eu", "{\"b\":1,\"a\":1}"),
                            version(VV({ "us", 1 }), 200, "us", "{\"b\":2,\"a\":2}") };
    store s = { 0 };
    rdapsync_sinktk_mvr_key k = feed(&lww, &s, &r[0]);
    rdapsync_sinktk_mvr_key_clear(&k);
    k = feed(&lww, &s, &r[1]);
    cr_assert_eq(s.rows_loaded, 1);
    cr_assert_eq(k.log, RDAPSYNC_SINKTK_LOG_OPEN);
    cr_assert_str_eq(s.heads, "[{\"deleted\":false,\"doc\":{\"a\":2,\"b\":2},\"o\":\"us\",\"s\":1,\"t\":200,"
                              "\"vv\":{\"us\":1}},"
                              "{\"deleted\":false,\"doc\":{\"a\":1,\"b\":1},\"o\":\"eu\",\"s\":1,\"t\":100,"
                              "\"vv\":{\"eu\":1}}]");
    cr_assert_str_eq(s.row, "{\"a\":2,\"b\":2}", "beside other heads the shown document has sorted members");
    rdapsync_sinktk_mvr_key_clear(&k);
    store_free(&s);
    release(r, 2);
}

Test(sinktk_mvr_docless, a_lone_head_whose_row_is_gone_becomes_a_tombstone)
{
    rdapsync_sinktk_conflicts merge = { .strategy = RDAPSYNC_SINKTK_MERGE };
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 300, "eu", "{\"a\":1}"),
                            version(VV({ "us", 1 }), 200, "us", "{\"b\":2}") };
    store s = { 0 };
    rdapsync_sinktk_mvr_key k = feed(&merge, &s, &r[0]);
    rdapsync_sinktk_mvr_key_clear(&k);
    free(s.row); /* an erasure deleted the row */
    s.row = NULL;
    k = feed(&merge, &s, &r[1]);
    cr_assert_eq(k.head_count, 2, "the version stays a head");
    cr_assert_null(k.doc, "the lww head is now a tombstone, shown as one");
    cr_assert(strstr(s.heads, "\"deleted\":true"), "%s", s.heads);
    cr_assert_null(strstr(s.heads, "\"a\""), "%s", s.heads);
    rdapsync_sinktk_mvr_key_clear(&k);
    store_free(&s);
    release(r, 2);
}

Test(sinktk_mvr_docless, heads_written_with_the_lone_heads_document_still_load)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record r = version(VV({ "us", 1 }), 200, "us", "{\"a\":2}");
    store s = { .heads = strdup("[{\"vv\":{\"eu\":1},\"t\":100,\"o\":\"eu\",\"s\":1,\"deleted\":false,"
                                "\"doc\":{\"b\":1,\"a\":1}}]") };
    rdapsync_sinktk_mvr_key k = feed(&lww, &s, &r);
    cr_assert_eq(s.rows_loaded, 0, "the old layout carries the document");
    cr_assert_eq(k.head_count, 2);
    cr_assert(strstr(s.heads, "\"doc\":{\"a\":1,\"b\":1}"), "%s", s.heads);
    rdapsync_sinktk_mvr_key_clear(&k);
    store_free(&s);
    release(&r, 1);
}

Test(sinktk_mvr_docless, a_docless_head_beside_others_is_a_corrupt_store)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record r = version(VV({ "ap", 1 }), 200, "ap", "{\"a\":2}");
    const rdapsync_record *p = &r;
    const char *bad = "[{\"deleted\":false,\"o\":\"eu\",\"s\":1,\"t\":100,\"vv\":{\"eu\":1}},"
                      "{\"deleted\":false,\"doc\":{},\"o\":\"us\",\"s\":1,\"t\":90,\"vv\":{\"us\":1}}]";
    rdapsync_sinktk_mvr_key k = { .record = &r, .lone_docless = true, .stored = strdup(bad),
                                  .stored_len = strlen(bad) };
    char err[256] = "";
    cr_assert_eq(rdapsync_sinktk_mvr_step(H, &lww, &k, &p, 1, err, sizeof err), -1);
    cr_assert(strstr(err, "no doc"), "%s", err);
    rdapsync_sinktk_mvr_key_clear(&k);
    release(&r, 1);
}

/* Every order of the versions (each given twice) ends in the same heads
 * text and the same shown document. */
static void permute(const rdapsync_sinktk_conflicts *c, rdapsync_record *r, size_t n, size_t at, char **heads,
                    char **row)
{
    if (at == n) {
        store s = { 0 };
        for (size_t pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < n; i++) {
                rdapsync_sinktk_mvr_key k = feed(c, &s, &r[i]);
                rdapsync_sinktk_mvr_key_clear(&k);
            }
        if (!*heads) {
            *heads = strdup(s.heads);
            *row = strdup(s.row);
        }
        cr_assert_str_eq(s.heads, *heads);
        cr_assert_str_eq(s.row, *row);
        store_free(&s);
        return;
    }
    for (size_t i = at; i < n; i++) {
        rdapsync_record t = r[at];
        r[at] = r[i];
        r[i] = t;
        permute(c, r, n, at + 1, heads, row);
        r[i] = r[at];
        r[at] = t;
    }
}

Test(sinktk_mvr_docless, heads_and_document_are_the_same_for_every_order_with_duplicates)
{
    rdapsync_sinktk_conflicts strategies[] = { { .strategy = RDAPSYNC_SINKTK_LWW },
                                               { .strategy = RDAPSYNC_SINKTK_MERGE } };
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 100, "eu", "{\"b\":1,\"a\":1}"),
                            version(VV({ "eu", 2 }), 150, "eu", "{\"b\":1,\"a\":2}"),
                            version(VV({ "eu", 1 }, { "us", 1 }), 120, "us", "{\"c\":3,\"a\":1}"),
                            version(VV({ "ap", 1 }), 110, "ap", "{\"d\":4}") };
    for (size_t i = 0; i < 2; i++) {
        char *heads = NULL, *row = NULL;
        permute(&strategies[i], r, 4, 0, &heads, &row);
        cr_assert_null(strstr(heads, "\"b\":1,\"a\""), "documents in the heads have sorted members: %s", heads);
        free(heads);
        free(row);
    }
    release(r, 4);
}

/* The heads text the host's serializer makes of a tree of the heads,
 * members sorted: what the step wrote before it wrote the text itself. */
static char *tree_heads(const char *deleted_origin_s_t, const char *vv)
{
    char json[512];
    snprintf(json, sizeof json, "[{%s,\"vv\":%s}]", deleted_origin_s_t, vv);
    rdapsync_value *tree = H->json->parse(json, strlen(json), NULL, 0);
    cr_assert_not_null(tree, "%s", json);
    char *text = H->json->dump(tree, RDAPSYNC_DUMP_SORT_KEYS, NULL);
    char *copy = strdup(text);
    H->free(text);
    H->json->decref(tree);
    return copy;
}

Test(sinktk_mvr_docless, heads_written_and_read_without_a_tree_keep_the_serializers_bytes_and_the_register)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    /* An origin and regions with bytes to escape (quote, backslash, a
     * control byte) and beyond ASCII: the text writer hands those to the
     * serializer, and the lone-head reader leaves them to the parser. */
    const char *origins[] = { "eu", "e\"u", "e\\u", "e\tu", "ré" };
    const char *expect_origin[] = { "\"eu\"", "\"e\\\"u\"", "\"e\\\\u\"", "\"e\\tu\"", "\"ré\"" };
    for (size_t i = 0; i < sizeof origins / sizeof *origins; i++) {
        rdapsync_record r[] = {
            version(VV({ origins[i], 1 }, { "us", 4 }), -5, origins[i], "{\"a\":1}"),
            version(VV({ origins[i], 2 }, { "us", 4 }), 123456789012345, origins[i], "{\"a\":2}"),
            version(VV({ origins[i], 1 }, { "us", 4 }), 999, origins[i], "{\"a\":3}"), /* dominated */
        };
        store s = { 0 };
        rdapsync_sinktk_mvr_key k = feed(&lww, &s, &r[0]);
        rdapsync_sinktk_mvr_key_clear(&k);
        k = feed(&lww, &s, &r[1]);
        rdapsync_sinktk_mvr_key_clear(&k);
        char fields[256], vv[128];
        snprintf(fields, sizeof fields, "\"o\":%s,\"t\":123456789012345,\"s\":1,\"deleted\":false", expect_origin[i]);
        snprintf(vv, sizeof vv, "{\"us\":4,%s:2}", expect_origin[i]);
        char *expected = tree_heads(fields, vv);
        cr_assert_str_eq(s.heads, expected, "origin %zu", i);
        free(expected);
        k = feed(&lww, &s, &r[2]);
        cr_assert_not(k.changed, "origin %zu: the stored head, read back, dominates", i);
        cr_assert_eq(k.stale, 1);
        rdapsync_sinktk_mvr_key_clear(&k);
        store_free(&s);
        release(r, 3);
    }
}

Test(sinktk_mvr_docless, a_stored_text_the_lone_head_reader_does_not_expect_goes_to_the_parser)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record r = version(VV({ "eu", 3 }), 300, "eu", "{\"a\":3}");
    const char *texts[] = {
        /* members in another order, spaces, a 19-digit number: the parser's */
        "[{\"o\":\"eu\",\"deleted\":false,\"s\":1,\"t\":200,\"vv\":{\"eu\":2}}]",
        "[ {\"deleted\": false, \"o\": \"eu\", \"s\": 1, \"t\": 200, \"vv\": {\"eu\": 2}} ]",
        "[{\"deleted\":false,\"o\":\"eu\",\"s\":1,\"t\":1000000000000000000,\"vv\":{\"eu\":2}}]",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        rdapsync_sinktk_mvr_key k = { .record = &r, .lone_docless = true, .stored = strdup(texts[i]),
                                      .stored_len = strlen(texts[i]) };
        char err[256];
        cr_assert_eq(rdapsync_sinktk_mvr_step(H, &lww, &k, &(const rdapsync_record *){ &r }, 1, err, sizeof err), 0,
                     "text %zu: %s", i, err);
        cr_assert(k.changed, "text %zu: the head loaded and {eu:3} dominates it", i);
        rdapsync_sinktk_mvr_key_clear(&k);
    }
    /* Regions out of order, which this toolkit never writes: the parser
     * sorts them, so the head is {eu:2, us:1}, concurrent with {eu:3}, and
     * the step asks for the row it needs beside it. */
    const char *unsorted = "[{\"deleted\":false,\"o\":\"eu\",\"s\":1,\"t\":200,\"vv\":{\"us\":1,\"eu\":2}}]";
    rdapsync_sinktk_mvr_key k = { .record = &r, .lone_docless = true, .stored = strdup(unsorted),
                                  .stored_len = strlen(unsorted) };
    char err[256] = "";
    cr_assert_eq(rdapsync_sinktk_mvr_step(H, &lww, &k, &(const rdapsync_record *){ &r }, 1, err, sizeof err), 0,
                 "%s", err);
    cr_assert(k.need_row, "{eu:3} and {eu:2, us:1} are concurrent");
    rdapsync_sinktk_mvr_key_clear(&k);
    release(&r, 1);
}

Test(sinktk_mvr_docless, a_store_taking_values_gets_a_lone_heads_document_as_its_records_value)
{
    rdapsync_sinktk_conflicts lww = { 0 };
    rdapsync_record r[] = { version(VV({ "eu", 1 }), 100, "eu", "{\"b\":1,\"a\":1}"),
                            version(VV({ "us", 1 }), 200, "us", "{\"b\":2,\"a\":2}") };
    const rdapsync_record *one = &r[0];
    rdapsync_sinktk_mvr_key k = { .record = one, .lone_docless = true, .doc_as_value = true };
    char err[256];
    cr_assert_eq(rdapsync_sinktk_mvr_step(H, &lww, &k, &one, 1, err, sizeof err), 0, "%s", err);
    cr_assert(k.changed);
    cr_assert_eq(k.doc_value, r[0].value, "the record's own value, not a copy");
    cr_assert_null(k.doc, "and no text of it");
    char *heads = strdup(k.heads);
    rdapsync_sinktk_mvr_key_clear(&k);

    /* Beside another head the shown document has sorted members: text. */
    const rdapsync_record *two = &r[1];
    k = (rdapsync_sinktk_mvr_key){ .record = two, .lone_docless = true, .doc_as_value = true, .stored = heads,
                                   .stored_len = strlen(heads), .row_loaded = true,
                                   .row_doc = strdup("{\"b\":1,\"a\":1}"), .row_doc_len = 13 };
    cr_assert_eq(rdapsync_sinktk_mvr_step(H, &lww, &k, &two, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(k.head_count, 2);
    cr_assert_null(k.doc_value);
    cr_assert_str_eq(k.doc, "{\"a\":2,\"b\":2}");
    rdapsync_sinktk_mvr_key_clear(&k);
    release(r, 2);
}
