/* Lazy documents: simdjson's validation refuses what the tree parser
 * refuses, with its messages, and an untouched document dumps as the tree
 * parser's tree would. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazy_diff.h"
#include "model/json_api.h"
#include "model/json_lazy.h"

static const rdapsync_json_api *J;
static char err[512], why[512];

static void setup(void) { J = json_api_table(); }

TestSuite(json_lazy, .init = setup);

static void agree(const char *text)
{
    cr_assert_eq(lazy_diff(text, strlen(text), why, sizeof(why)), 0, "%s: %s", text, why);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* Every .json file of a fixture folder as it is, and (when the tree parser
 * takes it) in the compact form jt_dump writes, which must be offered as
 * validated text. Returns how many files. */
static int check_folder(const char *sub)
{
    char dir[1024], path[2048];
    DIR *d;
    struct dirent *e;
    int files = 0;

    snprintf(dir, sizeof(dir), "%s/tests/fixtures/rdap%s", RDAPSYNC_SOURCE_DIR, sub);
    d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    while ((e = readdir(d))) {
        size_t len, n = strlen(e->d_name), dlen;
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        char *text = slurp(path, &len);
        cr_assert_eq(lazy_diff(text, len, why, sizeof(why)), 0, "%s: %s", e->d_name, why);
        rdapsync_value *tree = jt_parse(text, len, err, sizeof(err));
        if (tree) {
            char *compact = jt_dump_string(tree, false, &dlen);
            cr_assert_eq(lazy_diff(compact, dlen, why, sizeof(why)), 0, "%s compact: %s", e->d_name, why);
            rdapsync_value *lazy = J->parse(compact, dlen, err, sizeof(err));
            size_t tlen = 0;
            const char *t = J->validated_text(lazy, &tlen);
            cr_assert(t && tlen == dlen && memcmp(t, compact, dlen) == 0, "%s: compact text not offered as is",
                      e->d_name);
            /* The tree's arena bytes are counted on the tape: one chunk holds it. */
            (void)J->object_size(lazy); /* builds the tree */
            cr_assert_eq(jt_doc_chunks(lazy->own.doc), 2, "%s: the tree took more than its one chunk", e->d_name);
            J->decref(lazy);
            free(compact);
            jt_decref(tree);
        }
        free(text);
        files++;
    }
    closedir(d);
    return files;
}

Test(json_lazy, fixtures_dump_the_same_lazily_and_compact_ones_are_offered_as_is)
{
    size_t before = json_api_live_values();
    cr_assert_gt(check_folder(""), 5);
    cr_assert_gt(check_folder("/bad"), 5);
    cr_assert_eq(json_api_live_values(), before, "no document leaks");
}

Test(json_lazy, generated_records_dump_the_same_lazily)
{
    char path[1024];
    size_t len;
    int lines = 0;

    snprintf(path, sizeof(path), "%s/tests/fixtures/rdap/generated/rdapgen-mixed.jsonl", RDAPSYNC_SOURCE_DIR);
    char *all = slurp(path, &len);
    for (char *line = all, *nl; line < all + len; line = nl + 1) {
        nl = memchr(line, '\n', (size_t)(all + len - line));
        if (!nl)
            nl = all + len;
        cr_assert_eq(lazy_diff(line, (size_t)(nl - line), why, sizeof(why)), 0, "line %d: %s", lines + 1, why);
        lines++;
    }
    free(all);
    cr_assert_gt(lines, 10);
}

Test(json_lazy, every_refusal_has_the_tree_parsers_message)
{
    static const char *bad[] = {
        "", "   ", "{", "[1,]", "{\"a\":1,}", "{} x", "{}{}", "[1] [2]", "nul", "tru", "01", "1.", "-", "+1", ".5",
        "\"\\x\"", "\"tab\there\"", "{\"a\" 1}", "{1:2}", "[\"\\u12\"]", "\xef\xbb\xbf{}",
        "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1},\"a\":[]}",
        "[\"a\\u0000b\"]", "{\"k\\u0000\":1}",
        "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "{\"\\ud800\":1}", "[\"\\ud800\\udbff\"]",
        "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]", "[\"\xff\"]", "{\"\xe2\x82\":1}",
        "9223372036854775808", "[-9223372036854775809]", "[18446744073709551616]", "[1e400]", "[-1e400]",
        "{\"a\":1}\x01", "[1]\0",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = strlen(bad[i]) + (strcmp(bad[i], "[1]") == 0); /* the last one carries its NUL */
        cr_assert_eq(lazy_diff(bad[i], len, why, sizeof(why)), 0, "#%zu %s: %s", i, bad[i], why);
        cr_assert_null(J->parse(bad[i], len, err, sizeof(err)), "#%zu %s is refused", i, bad[i]);
        cr_assert(strncmp(err, "line ", 5) == 0, "%s", err);
    }
}

Test(json_lazy, nesting_of_512_is_taken_lazily_and_513_refused_with_the_message)
{
    char text[2 * 600 + 1];
    for (int depth = 510; depth <= 530; depth++) {
        memset(text, '[', (size_t)depth);
        memset(text + depth, ']', (size_t)depth);
        text[2 * depth] = '\0';
        agree(text);
        rdapsync_value *v = J->parse(text, strlen(text), err, sizeof(err));
        cr_assert_eq(v != NULL, depth <= 512, "depth %d", depth);
        J->decref(v);
    }
}

Test(json_lazy, large_objects_with_a_duplicate_key_are_refused)
{
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof text, "{");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "\"k%d\":{\"k%d\":%d},", i, i, i);
    snprintf(text + n, sizeof text - n, "\"k299\":0}");
    agree(text);
    cr_assert_null(J->parse(text, strlen(text), err, sizeof(err)));
    cr_assert(strstr(err, "duplicate object key") != NULL, "%s", err);
    text[n - 1] = '}';
    text[n] = '\0';
    agree(text);
}

/* The duplicate scan compares a print of each key (its length and three of
 * its bytes) before the bytes, and each object's keys are its own: keys
 * that share a print are not duplicates, a nested object's keys do not
 * collide with its parent's, and a key spelled with an escape is the same
 * key as its plain spelling. */
Test(json_lazy, duplicate_keys_are_told_apart_by_their_bytes_per_object)
{
    static const struct {
        const char *text;
        int taken;
    } cases[] = {
        {"{\"axyb\":1,\"azyb\":2}", 1},
        {"{\"ab\":1,\"ba\":2,\"aab\":3,\"abb\":4,\"\":5}", 1},
        {"{\"a\":{\"b\":1},\"b\":2}", 1},
        {"{\"a\":{\"b\":1},\"c\":{\"b\":2},\"d\":[{\"b\":3},{\"b\":4}]}", 1},
        {"{\"a\":[{\"a\":1}],\"x\":{\"y\":{}},\"a\":2}", 0},
        {"{\"a\":{\"b\":1,\"c\":{\"d\":1},\"b\":2}}", 0},
        {"{\"\":1,\"\":2}", 0},
        {"{\"ab\":1,\"\\u0061b\":2}", 0},
        {"[{\"k\":1},{\"k\":1,\"k\":2}]", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        agree(cases[i].text);
        rdapsync_value *v = J->parse(cases[i].text, strlen(cases[i].text), err, sizeof(err));
        cr_assert_eq(v != NULL, cases[i].taken, "#%zu %s: %s", i, cases[i].text, err);
        if (!v)
            cr_assert(strstr(err, "duplicate object key") != NULL, "#%zu %s", i, err);
        J->decref(v);
    }
}

/* Texts whose spelling differs from jt_dump's in one token: none may be
 * offered as validated text, and all dump as the tree would. */
Test(json_lazy, only_the_dumps_own_spelling_is_offered_as_validated_text)
{
    static const struct {
        const char *text;
        int offered;
    } cases[] = {
        {"{\"a\":[1,-2,true,false,null,\"x\"],\"b\":{}}", 1},
        {"{\"a\": 1}", 0},
        {" {\"a\":1}", 0},
        {"{\"a\":1}\n", 0},
        {"[\"\\/\"]", 0},
        {"[\"/\"]", 1},
        {"[\"\\u0041\"]", 0},
        {"[\"\\u00e9\"]", 0},
        {"[\"\xc3\xa9\"]", 1},
        {"[\"\\n\\t\\\"\\\\\\b\\f\\r\"]", 1},
        {"[\"\\u000a\"]", 0},
        {"[\"\\u001F\"]", 0}, /* what jt_dump writes, but its lowercase twin has the same length */
        {"[\"\\u001f\"]", 0},
        {"[-0]", 0},
        {"[0]", 1},
        {"[1.5]", 0},
        {"[1E2]", 0},
        {"[\"\\ud83d\\ude00\"]", 0},
        {"[\"\xf0\x9f\x98\x80\"]", 1},
        {"\"s\"", 1},
        {"null", 1},
        {"-9223372036854775808", 1},
        {"[[],{},[[{}]]]", 1},
        {"{\"a\\\"b\":\"c\\\\d\"}", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *text = cases[i].text;
        agree(text);
        rdapsync_value *v = J->parse(text, strlen(text), err, sizeof(err));
        cr_assert_not_null(v, "%s: %s", text, err);
        cr_assert_eq(J->validated_text(v, NULL) != NULL, cases[i].offered, "%s", text);
        J->decref(v);
    }
}

Test(json_lazy, reading_builds_the_tree_in_place_and_only_a_change_withdraws_the_text)
{
    const char *text = "{\"handle\":\"D1\",\"n\":[1,2]}";
    size_t before = json_api_live_values(), len = 0;
    rdapsync_value *v = J->parse(text, strlen(text), err, sizeof(err));

    cr_assert_not_null(J->validated_text(v, &len));
    cr_assert_eq(len, strlen(text));
    rdapsync_value *handle = J->object_get(v, "handle");
    cr_assert_str_eq(J->string_value(handle), "D1");
    cr_assert_eq(J->type(v), RDAPSYNC_JSON_OBJECT, "the same pointer is now the tree's root");
    cr_assert_not_null(J->validated_text(v, NULL), "read only: the text still is the dump");
    cr_assert_eq(J->array_append(J->object_get(v, "n"), J->integer_new(3)), 0);
    cr_assert_null(J->validated_text(v, NULL), "a change deep inside withdraws it");
    cr_assert_eq(J->object_set(v, "handle", J->string_new("D2", 2)), 0);
    char *out = J->dump(v, 0, NULL);
    cr_assert_str_eq(out, "{\"handle\":\"D2\",\"n\":[1,2,3]}");
    free(out);
    J->decref(v);
    cr_assert_eq(json_api_live_values(), before);
}

Test(json_lazy, only_the_root_offers_the_text)
{
    const char *text = "{\"after\":{\"a\":1}}";
    rdapsync_value *v = J->parse(text, strlen(text), err, sizeof(err));

    cr_assert_null(J->validated_text(J->object_get(v, "after"), NULL));
    cr_assert_not_null(J->validated_text(v, NULL));
    J->decref(v);
}

Test(json_lazy, a_scalar_root_is_built_like_any_other)
{
    static const char *texts[] = {"null", "true", "false", "42", "\"s\"", "-7"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        rdapsync_value *v = J->parse(texts[i], strlen(texts[i]), err, sizeof(err));
        cr_assert_not_null(v, "%s", err);
        agree(texts[i]);
        cr_assert_neq(J->type(v), RDAPSYNC_JSON_OBJECT);
        J->decref(v);
    }
    rdapsync_value *v = J->parse("true", 4, err, sizeof(err));
    cr_assert(J->bool_value(v));
    J->decref(v);
}

Test(json_lazy, an_untouched_document_put_into_another_is_built_first)
{
    rdapsync_value *inner = J->parse("{\"a\":1}", 7, err, sizeof(err));
    rdapsync_value *outer = J->object_new();
    rdapsync_value *list = J->array_new();

    cr_assert_eq(J->object_set(outer, "doc", J->incref(inner)), 0);
    cr_assert_eq(J->array_append(list, J->parse("[2]", 3, err, sizeof(err))), 0);
    cr_assert_eq(J->object_set(outer, "list", list), 0);
    char *out = J->dump(outer, 0, NULL);
    cr_assert_str_eq(out, "{\"doc\":{\"a\":1},\"list\":[[2]]}");
    free(out);
    J->decref(outer);
    J->decref(inner);
}

/* Counts dump_cb's pieces; aborts on a negative tally. */
static int count(const char *b, size_t n, void *o)
{
    int *calls = o;
    if (*calls < 0)
        return 1;
    ++*calls;
    return 0;
}

Test(json_lazy, dump_cb_hands_an_untouched_text_over_in_one_piece_and_can_be_aborted)
{
    const char *text = "{\"a\":\"b\"}";
    rdapsync_value *v = J->parse(text, strlen(text), err, sizeof(err));
    int calls = 0;

    cr_assert_eq(J->dump_cb(v, 0, count, &calls), 0);
    cr_assert_eq(calls, 1);
    calls = -1000;
    cr_assert_eq(J->dump_cb(v, 0, count, &calls), -1);
    J->decref(v);
}


Test(json_lazy, looking_up_root_members_builds_only_them_and_the_tree_keeps_them)
{
    const char *text = "{\"handle\":\"D1\",\"events\":[{\"eventAction\":\"registration\"}],\"x\":{\"y\":[1]}}";
    rdapsync_value *v = J->parse(text, strlen(text), err, sizeof(err));

    cr_assert_eq(J->type(v), RDAPSYNC_JSON_OBJECT);
    rdapsync_value *events = J->object_get(v, "events");
    cr_assert_eq(J->array_size(events), 1);
    cr_assert_null(J->object_get(v, "absent"));
    cr_assert_eq(J->object_get(v, "events"), events, "looked up once, built once");
    cr_assert_eq(v->kind, JT_LAZY, "the rest of the tree is not built");
    cr_assert_not_null(J->validated_text(v, NULL));
    /* A change through the member: the text is withdrawn, the tree has it. */
    cr_assert_eq(J->object_set(J->array_get(events, 0), "eventDate", J->string_new("2020", 4)), 0);
    cr_assert_null(J->validated_text(v, NULL));
    char *out = J->dump(v, 0, NULL);
    cr_assert_str_eq(out, "{\"handle\":\"D1\",\"events\":[{\"eventAction\":\"registration\",\"eventDate\":\"2020\"}],"
                          "\"x\":{\"y\":[1]}}");
    free(out);
    cr_assert_eq(J->object_get(v, "events"), events, "the built tree holds the same node");
    J->decref(v);
}

Test(json_lazy, a_lazy_root_tells_its_type_without_a_tree)
{
    static const struct {
        const char *text;
        rdapsync_value_type type;
    } cases[] = {{" {}", RDAPSYNC_JSON_OBJECT}, {"[1]", RDAPSYNC_JSON_ARRAY}, {"\"s\"", RDAPSYNC_JSON_STRING},
                 {"true", RDAPSYNC_JSON_BOOL},  {"null", RDAPSYNC_JSON_NULL},  {"-3", RDAPSYNC_JSON_INTEGER},
                 {"2.5", RDAPSYNC_JSON_REAL}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rdapsync_value *v = J->parse(cases[i].text, strlen(cases[i].text), err, sizeof(err));
        cr_assert_eq(J->type(v), cases[i].type, "%s", cases[i].text);
        J->decref(v);
    }
}
