/*
 * The MongoDB sink's conversion, compiled into the test (the plugin
 * exports none of it); no server needed: JSON values become BSON with
 * their types, arrays inside arrays are wrapped and read back
 * unambiguously, what MongoDB or FerretDB would refuse is refused with the
 * JSON path, and a row's stored document lives as long as its row of the
 * SDK toolkit's plan (which version of a key is sent is tested with the
 * toolkit, tests/unit/sinktk).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "bson_json.h"
#include "loader.h"
#include "mgs.h"

/* sink_mongodb.c owns this in the plugin; the test is the host here. */
const rdapsync_host *mgs_host;

static void setup(void)
{
    mgs_host = host_api_table();
}

TestSuite(mgs_bson, .init = setup);
TestSuite(mgs_rows, .init = setup);

static rdapsync_value *parse(const char *text)
{
    char err[256];
    rdapsync_value *v = mgs_host->json->parse(text, strlen(text), err, sizeof(err));
    cr_assert_not_null(v, "%s: %s", text, err);
    return v;
}

/* {"v": value} as BSON; NULL (and the reason in err) when refused. */
static bson_t *convert(const char *json, bool wrap, char *err, size_t err_size)
{
    rdapsync_value *v = parse(json);
    bson_t *doc = bson_new();
    int rc = mgs_bson_append_value(doc, "v", v, wrap, err, err_size);
    mgs_host->json->decref(v);
    if (rc != 0) {
        bson_destroy(doc);
        return NULL;
    }
    return doc;
}

/* What the tests' reader (bson_json.c) makes of the "v" member. Caller frees. */
static char *read_back(const bson_t *doc)
{
    bson_iter_t it;
    char *text = NULL, err[256] = "";
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert(bson_iter_init_find(&it, doc, "v"));
    cr_assert_eq(bson_json_write_value(out, &it, err, sizeof(err)), 0, "%s", err);
    fclose(out);
    return text;
}

static void assert_round_trip(const char *json, bool wrap)
{
    char err[512];
    bson_t *doc = convert(json, wrap, err, sizeof(err));
    cr_assert_not_null(doc, "%s refused: %s", json, err);
    char *back = read_back(doc);
    rdapsync_value *a = parse(json), *b = parse(back);
    char *ca = mgs_host->json->dump(a, RDAPSYNC_DUMP_SORT_KEYS, NULL);
    char *cb = mgs_host->json->dump(b, RDAPSYNC_DUMP_SORT_KEYS, NULL);
    cr_assert_str_eq(cb, ca, "read back differently (wrap %d): %s", wrap, back);
    mgs_host->free(ca);
    mgs_host->free(cb);
    mgs_host->json->decref(a);
    mgs_host->json->decref(b);
    free(back);
    bson_destroy(doc);
}

static bool descend(const bson_t *doc, const char *path, bson_iter_t *out)
{
    bson_iter_t it;
    return bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, path, out);
}

Test(mgs_bson, json_types_become_int64_double_and_the_rest_as_they_are)
{
    char err[256];
    bson_t *doc = convert("{\"i\":1,\"big\":9007199254740993,\"r\":1.0,\"s\":\"x\",\"t\":true,\"n\":null,\"a\":[1],"
                          "\"o\":{}}", false, err, sizeof(err));
    cr_assert_not_null(doc, "%s", err);
    bson_iter_t it, v;
    cr_assert(bson_iter_init_find(&it, doc, "v") && bson_iter_recurse(&it, &v));
    const bson_type_t want[] = { BSON_TYPE_INT64, BSON_TYPE_INT64, BSON_TYPE_DOUBLE, BSON_TYPE_UTF8,
                                 BSON_TYPE_BOOL,  BSON_TYPE_NULL,  BSON_TYPE_ARRAY,  BSON_TYPE_DOCUMENT };
    const char *names[] = { "i", "big", "r", "s", "t", "n", "a", "o" };
    for (size_t i = 0; i < 8; i++) {
        cr_assert(bson_iter_next(&v), "member %zu missing", i);
        cr_assert_str_eq(bson_iter_key(&v), names[i], "member order changed");
        cr_assert_eq(bson_iter_type(&v), want[i], "member %s has BSON type %d", names[i], bson_iter_type(&v));
    }
    cr_assert(descend(doc, "v.big", &v));
    cr_assert_eq(bson_iter_int64(&v), 9007199254740993LL);
    bson_destroy(doc);
}

Test(mgs_bson, integers_and_reals_read_back_as_what_they_were)
{
    assert_round_trip("{\"one\":1,\"one_real\":1.0,\"half\":0.5,\"tiny\":1e-300,\"neg\":-42,\"max\":9223372036854775807,"
                      "\"min\":-9223372036854775808,\"third\":0.3333333333333333}", false);
}

Test(mgs_bson, arrays_inside_arrays_are_wrapped_only_in_wrap_mode)
{
    char err[256];
    bson_t *doc = convert("[\"vcard\",[[\"version\",{},\"text\",\"4.0\"]]]", true, err, sizeof(err));
    cr_assert_not_null(doc, "%s", err);
    bson_iter_t it;
    cr_assert(descend(doc, "v.1._array.0._array.3", &it));
    cr_assert_str_eq(bson_iter_utf8(&it, NULL), "4.0");
    bson_destroy(doc);

    doc = convert("[\"vcard\",[[\"version\",{},\"text\",\"4.0\"]]]", false, err, sizeof(err));
    cr_assert_not_null(doc, "%s", err);
    cr_assert(descend(doc, "v.1.0.3", &it));
    bson_destroy(doc);
}

Test(mgs_bson, an_object_with_only_the_wrap_key_is_escaped_and_reads_back_as_itself)
{
    static const char *const values[] = {
        "{\"_array\":[1,2]}",
        "{\"_array\":{\"_array\":[[1]]}}",
        "[{\"_array\":[]},[{\"_array\":{}}]]",
        "{\"_array\":7}",
        "{\"_array\":[1],\"other\":2}",
        "[[],[[]],{}]",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_round_trip(values[i], true);
        assert_round_trip(values[i], false);
    }
}

Test(mgs_bson, every_rdap_fixture_reads_back_unchanged_in_both_modes)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/tests/fixtures/rdap", RDAPSYNC_SOURCE_DIR);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f);
        char *text = NULL;
        size_t cap = 0;
        ssize_t len = getdelim(&text, &cap, '\0', f);
        fclose(f);
        cr_assert_gt(len, 0);
        assert_round_trip(text, true);
        assert_round_trip(text, false);
        free(text);
        files++;
    }
    closedir(d);
    cr_assert_gt(files, 10, "only %zu fixtures found", files);
}

Test(mgs_bson, member_names_mongodb_and_ferretdb_refuse_are_refused_with_the_path)
{
    static const struct {
        const char *json, *reason, *path;
    } cases[] = {
        { "{\"a\":[{\"$where\":1}]}", "starts with '$'", "$.a[0]" },
        { "{\"a\":{\"b.c\":1}}", "contains '.'", "$.a" },
        { "{\"entities\":[{},{\"\":true}]}", "empty member name", "$.entities[1]" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512];
        cr_assert_null(convert(cases[i].json, true, err, sizeof(err)), "%s was accepted", cases[i].json);
        cr_assert_not_null(strstr(err, cases[i].reason), "reason: %s", err);
        char at[64];
        snprintf(at, sizeof(at), "at %s", cases[i].path);
        cr_assert_not_null(strstr(err, at), "path of %s: %s", cases[i].json, err);
    }
    assert_round_trip("{\"a$\":1,\"x-y\":2,\"_id\":3}", true);
}

static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 6 + 16);
    size_t n = 0;
    for (int i = 0; i < depth; i++)
        n += (size_t)sprintf(s + n, "{\"a\":");
    n += (size_t)sprintf(s + n, "1");
    for (int i = 0; i < depth; i++)
        s[n++] = '}';
    s[n] = '\0';
    return s;
}

Test(mgs_bson, documents_deeper_than_mongodb_allows_are_refused)
{
    char err[512];
    /* The value is level 2 of the stored document: 99 levels fit. */
    char *ok = nested(99), *deep = nested(100);
    bson_t *doc = convert(ok, false, err, sizeof(err));
    cr_assert_not_null(doc, "%s", err);
    bson_destroy(doc);
    cr_assert_null(convert(deep, false, err, sizeof(err)));
    cr_assert_not_null(strstr(err, "nested deeper"), "%s", err);
    /* Wrapping adds a level per array inside an array. */
    cr_assert_null(convert("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
                           "]]]]]]]]]]]]]]]]]]]]]]]]]",
                           true, err, sizeof(err)));
    free(ok);
    free(deep);
}

static rdapsync_record *add(rdapsync_batch *batch, const char *key, rdapsync_op op, const char *doc, int64_t ts,
                            const char *origin, int64_t seq)
{
    const rdapsync_host *h = mgs_host;
    rdapsync_record *r = h->record_add(batch);
    cr_assert_not_null(r);
    if (key)
        cr_assert_eq(h->record_set_key(batch, r, key, strlen(key)), 0);
    h->record_set_op(batch, r, op);
    if (doc)
        h->record_set_value(batch, r, parse(doc));
    h->record_set_version(batch, r, ts, origin, seq);
    h->record_set_position(batch, r, "s", 3, 77);
    return r;
}

Test(mgs_bson, the_stored_document_carries_the_version_and_a_tombstone_for_deletes)
{
    rdapsync_batch *batch = batch_new(4);
    char err[256];
    const rdapsync_record *up = add(batch, "k", RDAPSYNC_OP_UPSERT, "{\"x\":1}", 5, NULL, 9);
    const rdapsync_record *del = add(batch, "k", RDAPSYNC_OP_DELETE, NULL, 6, "o", 1);
    bson_t *a = mgs_bson_stored(up, true, 16777216, err, sizeof(err));
    bson_t *b = mgs_bson_stored(del, true, 16777216, err, sizeof(err));
    cr_assert(a && b, "%s", err);
    bson_iter_t it;
    cr_assert(bson_iter_init_find(&it, a, "_id") && strcmp(bson_iter_utf8(&it, NULL), "k") == 0);
    cr_assert(bson_iter_init_find(&it, a, "origin") && strcmp(bson_iter_utf8(&it, NULL), "") == 0);
    cr_assert(bson_iter_init_find(&it, a, "seq") && bson_iter_int64(&it) == 9);
    cr_assert(bson_iter_init_find(&it, a, "deleted") && !bson_iter_bool(&it));
    cr_assert(bson_iter_init_find(&it, b, "doc") && BSON_ITER_HOLDS_NULL(&it));
    cr_assert(bson_iter_init_find(&it, b, "deleted") && bson_iter_bool(&it));
    cr_assert(bson_iter_init_find(&it, b, "event_time_ms") && bson_iter_int64(&it) == 6);
    cr_assert(bson_iter_init_find(&it, b, "src_offset") && bson_iter_int64(&it) == 77);
    /* Larger than the server's limit: refused before it is sent. */
    cr_assert_null(mgs_bson_stored(up, true, 40, err, sizeof(err)));
    cr_assert_not_null(strstr(err, "exceeds the server's limit of 40 bytes"), "%s", err);
    bson_destroy(a);
    bson_destroy(b);
    batch_free(batch);
}

Test(mgs_rows, a_fallback_frees_the_stored_document_of_the_refused_version)
{
    rdapsync_batch *batch = batch_new(16);
    add(batch, "b", RDAPSYNC_OP_UPSERT, "{\"v\":1}", 10, "o", 1);
    add(batch, "b", RDAPSYNC_OP_UPSERT, "{\"v\":4}", 9, "z", 99);
    add(batch, "a", RDAPSYNC_OP_UPSERT, "{\"v\":2}", 10, "p", 0);
    rdapsync_sinktk_plan plan;
    rdapsync_sinktk_rejects rejects = { 0 };
    rdapsync_sinktk_plan_config config = { .label = "mongodb sink", .release = mgs_doc_release };
    cr_assert_eq(rdapsync_sinktk_plan_build(&plan, mgs_host, batch, &config, &rejects), 0);
    cr_assert_eq(plan.count, 2);
    char err[256];
    for (size_t i = 0; i < plan.count; i++) {
        plan.rows[i].data = mgs_bson_stored(plan.rows[i].record, false, 1 << 20, err, sizeof(err));
        cr_assert_not_null(plan.rows[i].data, "%s", err);
    }
    cr_assert(rdapsync_sinktk_plan_fallback(&plan, 1), "the server refused b at 10: b at 9 takes its place");
    cr_assert_null(plan.rows[1].data, "its document is built again from the older record");
    cr_assert_eq(plan.rows[1].record->version.event_time_ms, 9);
    plan.rows[1].data = mgs_bson_stored(plan.rows[1].record, false, 1 << 20, err, sizeof(err));
    rdapsync_sinktk_plan_free(&plan); /* frees both documents (ASan would tell) */
    rdapsync_sinktk_rejects_free(&rejects);
    batch_free(batch);
}
