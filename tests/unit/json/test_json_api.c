/* host->json: the parser's refusals and error text, dumps, ownership. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_api.h"
#include "loader.h"

static const rdapsync_json_api *J;
static char err[512];

static void setup(void) { J = host_api_table()->json; }

TestSuite(json, .init = setup);

static rdapsync_value *parse(const char *text) { return J->parse(text, strlen(text), err, sizeof(err)); }

Test(json, parses_a_document_and_reads_members)
{
    rdapsync_value *v = parse("{\"handle\":\"EX-1\",\"n\":9007199254740993,\"r\":1.5,\"ok\":true,\"a\":[1,null]}");
    cr_assert_not_null(v, "%s", err);
    cr_assert_eq(J->type(v), RDAPSYNC_JSON_OBJECT);
    cr_assert_str_eq(J->string_value(J->object_get(v, "handle")), "EX-1");
    cr_assert_eq(J->integer_value(J->object_get(v, "n")), 9007199254740993LL, "integers are exact 64-bit");
    cr_assert_float_eq(J->number_value(J->object_get(v, "r")), 1.5, 1e-12);
    cr_assert(J->bool_value(J->object_get(v, "ok")));
    cr_assert_eq(J->array_size(J->object_get(v, "a")), 2);
    cr_assert_eq(J->type(J->array_get(J->object_get(v, "a"), 1)), RDAPSYNC_JSON_NULL);
    cr_assert_null(J->object_get(v, "missing"));
    cr_assert_null(J->string_value(J->object_get(v, "n")), "accessors of another type answer NULL");
    J->decref(v);
}

Test(json, rejects_duplicate_keys_with_line_column_and_byte)
{
    cr_assert_null(parse("{\"a\":1,\n \"a\":2}"));
    cr_assert(strncmp(err, "line 2 column ", 14) == 0, "%s", err);
    cr_assert(strstr(err, "(byte ") != NULL, "%s", err);
    cr_assert(strstr(err, "duplicate") != NULL, "%s", err);
}

Test(json, rejects_invalid_utf8)
{
    const char text[] = "{\"a\":\"\xc3\x28\"}";
    cr_assert_null(J->parse(text, sizeof(text) - 1, err, sizeof(err)));
    cr_assert(strstr(err, "line 1 column") == err, "%s", err);
}

Test(json, rejects_nul_inside_a_string)
{
    cr_assert_null(parse("{\"a\":\"x\\u0000y\"}"));
    cr_assert(strstr(err, "line 1") == err, "%s", err);
}

Test(json, rejects_trailing_garbage_and_truncation)
{
    cr_assert_null(parse("{\"a\":1} x"));
    cr_assert_null(parse("{\"a\":"));
    cr_assert_null(parse(""));
}

static char *nested(int depth)
{
    char *text = malloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) {
        text[i] = '[';
        text[depth * 2 - 1 - i] = ']';
    }
    text[depth * 2] = '\0';
    return text;
}

Test(json, accepts_nesting_of_512_and_rejects_513)
{
    char *ok = nested(512), *deep = nested(513);
    rdapsync_value *v = parse(ok);
    cr_assert_not_null(v, "%s", err);
    J->decref(v);
    cr_assert_null(parse(deep));
    cr_assert(strstr(err, "line 1 column 513 (byte 513)") == err, "%s", err);
    cr_assert(strstr(err, "depth") != NULL, "%s", err);
    free(ok);
    free(deep);
}

Test(json, brackets_inside_strings_do_not_count_as_nesting)
{
    char text[2000];
    memset(text, '[', sizeof(text));
    text[0] = '"';
    text[sizeof(text) - 2] = '"';
    text[sizeof(text) - 1] = '\0';
    rdapsync_value *v = parse(text);
    cr_assert_not_null(v, "%s", err);
    J->decref(v);
}

Test(json, parses_without_a_terminating_nul)
{
    const char text[] = "{\"a\":1}GARBAGE";
    rdapsync_value *v = J->parse(text, 7, err, sizeof(err));
    cr_assert_not_null(v, "%s", err);
    J->decref(v);
}

Test(json, dump_is_compact_and_sorts_keys_on_request)
{
    rdapsync_value *v = parse("{ \"b\" : 1, \"a\" : [ \"é\", 2 ] }");
    size_t len;
    char *plain = J->dump(v, 0, &len), *sorted = J->dump(v, RDAPSYNC_DUMP_SORT_KEYS, NULL);
    cr_assert_str_eq(plain, "{\"b\":1,\"a\":[\"é\",2]}", "UTF-8 stays as is, insertion order kept");
    cr_assert_eq(len, strlen(plain));
    cr_assert_str_eq(sorted, "{\"a\":[\"é\",2],\"b\":1}");
    host_api_table()->free(plain);
    host_api_table()->free(sorted);
    J->decref(v);
}

static int collect(const char *bytes, size_t len, void *opaque)
{
    strncat(opaque, bytes, len);
    return 0;
}

static int refuse(const char *bytes, size_t len, void *opaque) { return 1; }

Test(json, dump_cb_streams_and_can_be_aborted)
{
    rdapsync_value *v = parse("{\"x\":[1,2,3]}");
    char out[64] = "";
    cr_assert_eq(J->dump_cb(v, 0, collect, out), 0);
    cr_assert_str_eq(out, "{\"x\":[1,2,3]}");
    cr_assert_eq(J->dump_cb(v, 0, refuse, NULL), -1);
    J->decref(v);
}

Test(json, setters_steal_even_on_failure)
{
    rdapsync_value *o = J->object_new(), *a = J->array_new();
    cr_assert_eq(J->object_set(o, "k", J->string_new("v", 1)), 0);
    cr_assert_eq(J->array_append(a, J->integer_new(1)), 0);
    cr_assert_eq(J->array_set(a, 5, J->integer_new(2)), -1, "out of range; the item is released, not leaked");
    cr_assert_eq(J->array_insert(a, 0, J->integer_new(0)), 0);
    cr_assert_eq(J->integer_value(J->array_get(a, 0)), 0);
    cr_assert_eq(J->object_set(NULL, "k", J->null_new()), -1);
    cr_assert_eq(J->object_del(o, "missing"), -1);
    cr_assert_eq(J->object_del(o, "k"), 0);
    cr_assert_eq(J->object_size(o), 0);
    cr_assert_eq(J->array_remove(a, 0), 0);
    J->decref(o);
    J->decref(a);
}

Test(json, string_new_refuses_invalid_utf8)
{
    cr_assert_null(J->string_new("\xff", 1));
    rdapsync_value *s = J->string_new("ab", 2);
    cr_assert_eq(J->string_length(s), 2);
    J->decref(s);
}

Test(json, iterates_members_in_insertion_order)
{
    rdapsync_value *v = parse("{\"z\":1,\"y\":2,\"x\":3}");
    const char *order[] = {"z", "y", "x"};
    int i = 0;
    for (rdapsync_value_iter *it = J->object_iter(v); it; it = J->object_iter_next(v, it), i++) {
        cr_assert_str_eq(J->object_iter_key(it), order[i]);
        cr_assert_eq(J->integer_value(J->object_iter_value(it)), i + 1);
    }
    cr_assert_eq(i, 3);
    J->decref(v);
}

Test(json, deep_copy_is_equal_and_independent)
{
    rdapsync_value *v = parse("{\"a\":{\"b\":[1]}}");
    rdapsync_value *c = J->deep_copy(v);
    cr_assert(J->equal(v, c));
    J->array_append(J->object_get(J->object_get(c, "a"), "b"), J->integer_new(2));
    cr_assert_not(J->equal(v, c));
    J->decref(c);
    J->decref(v);
}

Test(json, null_values_are_safe_everywhere)
{
    cr_assert_eq(J->type(NULL), RDAPSYNC_JSON_NULL);
    cr_assert_null(J->incref(NULL));
    J->decref(NULL);
    cr_assert_null(J->dump(NULL, 0, NULL));
    cr_assert_null(J->parse(NULL, 0, err, sizeof(err)));
}

Test(json, parse_errors_do_not_quote_the_input)
{
    /* The reason reaches logs and dead letters; the input may be personal data. */
    cr_assert_null(parse("{\"fn\":\"Jane Q. Doe\" \"tel\":\"+1.5550100\"}"));
    cr_assert(strstr(err, "line 1 column") == err, "%s", err);
    cr_assert(strstr(err, "Doe") == NULL && strstr(err, "5550100") == NULL && strstr(err, "tel") == NULL, "%s", err);
    cr_assert_null(parse("{\"street\": \"1180 Kilnworth Road"));
    cr_assert(strstr(err, "Kilnworth") == NULL, "%s", err);
}

/* ---- the compact tree: documents, arenas and their references ---- */

Test(json, a_member_outlives_its_document_while_referenced)
{
    size_t before = json_api_live_values();
    rdapsync_value *v = parse("{\"entities\":[{\"handle\":\"R-1\",\"roles\":[\"registrar\"]}]}");
    rdapsync_value *entity = J->incref(J->array_get(J->object_get(v, "entities"), 0));
    J->decref(v); /* the document lives on through the entity */
    cr_assert_str_eq(J->string_value(J->object_get(entity, "handle")), "R-1");
    cr_assert_eq(json_api_live_values(), before + 1);
    J->decref(entity);
    cr_assert_eq(json_api_live_values(), before, "the document went with its last member");
}

Test(json, parsed_containers_grow_and_shrink_like_built_ones)
{
    rdapsync_value *v = parse("{\"a\":[1],\"b\":\"x\"}");
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_eq(J->object_set(v, key, J->integer_new(i)), 0);
        cr_assert_eq(J->array_append(J->object_get(v, "a"), J->integer_new(i)), 0);
    }
    cr_assert_eq(J->object_size(v), 102);
    cr_assert_eq(J->array_size(J->object_get(v, "a")), 101);
    cr_assert_eq(J->integer_value(J->object_get(v, "k99")), 99);
    cr_assert_eq(J->object_set(v, "b", J->string_new("y", 1)), 0, "replacing a parsed member");
    cr_assert_str_eq(J->string_value(J->object_get(v, "b")), "y");
    cr_assert_eq(J->object_del(v, "k0"), 0);
    cr_assert_null(J->object_get(v, "k0"));
    cr_assert_eq(J->array_remove(J->object_get(v, "a"), 0), 0);
    cr_assert_eq(J->integer_value(J->array_get(J->object_get(v, "a"), 0)), 0);
    J->decref(v);
}

Test(json, moving_a_piece_of_a_document_back_into_it_does_not_leak)
{
    /* A transform wraps part of the document in a new container and puts it
     * back: the document then references itself through that container. */
    size_t before = json_api_live_values();
    rdapsync_value *v = parse("{\"vcard\":[\"fn\",{},\"text\",\"Jane\"],\"x\":{}}");
    rdapsync_value *wrapper = J->array_new();
    cr_assert_eq(J->array_append(wrapper, J->incref(J->object_get(v, "vcard"))), 0);
    cr_assert_eq(J->object_set(v, "wrapped", wrapper), 0);
    /* and after the fact, through the borrowed pointer */
    cr_assert_eq(J->array_append(wrapper, J->incref(J->object_get(v, "x"))), 0);
    char *out = J->dump(v, 0, NULL);
    cr_assert_str_eq(out, "{\"vcard\":[\"fn\",{},\"text\",\"Jane\"],\"x\":{},\"wrapped\":[[\"fn\",{},\"text\",\"Jane\"],{}]}");
    free(out);
    J->decref(v);
    cr_assert_eq(json_api_live_values(), before, "the cycle kept the document alive");
}

Test(json, a_value_shared_with_a_document_stays_valid_after_it)
{
    rdapsync_value *shared = J->object_new();
    rdapsync_value *v = parse("{\"a\":1}");
    J->object_set(shared, "n", J->integer_new(7));
    cr_assert_eq(J->object_set(v, "s", J->incref(shared)), 0);
    J->decref(v);
    cr_assert_eq(J->integer_value(J->object_get(shared, "n")), 7);
    J->decref(shared);
}

Test(json, two_documents_can_exchange_pieces)
{
    rdapsync_value *a = parse("{\"x\":[1,2]}"), *b = parse("{\"y\":{\"z\":true}}");
    cr_assert_eq(J->object_set(a, "from_b", J->incref(J->object_get(b, "y"))), 0);
    J->decref(b);
    cr_assert(J->bool_value(J->object_get(J->object_get(a, "from_b"), "z")));
    rdapsync_value *copy = J->deep_copy(a);
    cr_assert(J->equal(a, copy));
    J->decref(a);
    J->decref(copy);
}

Test(json, rejects_unpaired_surrogate_escapes)
{
    cr_assert_null(parse("[\"a\\ud800b\"]"));
    cr_assert(strstr(err, "surrogate") != NULL, "%s", err);
    cr_assert_null(parse("[\"\\udc00\"]"));
    cr_assert_null(parse("{\"\\ud800\":1}"));
    cr_assert_null(parse("[\"\\ud800\\u0041\"]"), "a high surrogate followed by another escape");
    cr_assert(strstr(err, "unpaired surrogate") != NULL, "%s", err);
    rdapsync_value *v = parse("[\"\\ud83d\\ude00 ok?\",\"\\\\ud800 is text\"]");
    cr_assert_not_null(v, "%s", err);
    cr_assert_str_eq(J->string_value(J->array_get(v, 0)), "\xf0\x9f\x98\x80 ok?");
    J->decref(v);
}

Test(json, integers_beyond_64_bits_are_refused_not_rounded)
{
    cr_assert_null(parse("{\"n\":9223372036854775808}"));
    cr_assert(strstr(err, "too big integer") != NULL, "%s", err);
    rdapsync_value *v = parse("[-9223372036854775808,1e400]");
    cr_assert_null(v, "1e400 overflows a double");
    v = parse("[-9223372036854775808,0.5,-0,1E2]");
    cr_assert_not_null(v, "%s", err);
    cr_assert_eq(J->integer_value(J->array_get(v, 0)), INT64_MIN);
    char *out = J->dump(v, 0, NULL);
    cr_assert_str_eq(out, "[-9223372036854775808,0.5,0,100.0]");
    free(out);
    J->decref(v);
}

Test(json, duplicate_keys_are_found_in_large_objects_too)
{
    char text[4096];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "{");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "\"k%d\":%d,", i, i);
    snprintf(text + n, sizeof text - n, "\"k150\":0}");
    cr_assert_null(parse(text));
    cr_assert(strstr(err, "duplicate") != NULL, "%s", err);
    text[n - 1] = '}';
    text[n] = '\0';
    rdapsync_value *v = parse(text);
    cr_assert_not_null(v, "%s", err);
    cr_assert_eq(J->object_size(v), 200);
    J->decref(v);
}

Test(json, scalars_and_escapes_round_trip)
{
    rdapsync_value *v = parse(" \"tab\\there \\\"q\\\" \\\\ \\u00e9 \\u001f /\" ");
    cr_assert_not_null(v, "%s", err);
    char *out = J->dump(v, 0, NULL);
    cr_assert_str_eq(out, "\"tab\\there \\\"q\\\" \\\\ \xc3\xa9 \\u001F /\"");
    free(out);
    J->decref(v);
    v = parse("true");
    cr_assert(J->bool_value(v));
    J->decref(v);
    v = parse("123");
    cr_assert_eq(J->integer_value(v), 123, "a number at the very end of the text: %s", err);
    J->decref(v);
}

Test(json, a_parsed_value_and_its_members_account_the_text_they_keep_alive)
{
    const char *text = "{\"before\":null,\"after\":{\"handle\":\"D-1\"}}";
    rdapsync_value *v = parse(text), *built = J->object_new();
    cr_assert_eq(json_api_parsed_length(v), strlen(text));
    cr_assert_eq(json_api_parsed_length(J->object_get(v, "after")), strlen(text),
                 "a Debezium 'after' keeps its whole message alive");
    cr_assert_eq(json_api_parsed_length(built), 0, "built values are walked instead");
    J->decref(built);
    J->decref(v);
}

Test(json, rejects_the_utf8_that_yajl_alone_lets_through)
{
    /* yajl checks byte patterns only; these are all invalid UTF-8. */
    static const char *const bad[] = {
        "[\"\xed\xa0\x80\"]",         /* an encoded surrogate, U+D800 */
        "[\"\xc0\x80\"]",             /* overlong NUL */
        "[\"\xe0\x80\xaf\"]",         /* overlong '/' */
        "[\"\xf4\x90\x80\x80\"]",     /* above U+10FFFF */
        "{\"k\xed\xbf\xbf\":1}",      /* in a member name */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_null(parse(bad[i]), "case %zu accepted", i);
        cr_assert(strstr(err, "UTF-8") != NULL || strstr(err, "UTF8") != NULL, "case %zu: %s", i, err);
    }
    rdapsync_value *v = parse("[\"caf\xc3\xa9 \xf0\x9f\x98\x80\"]");
    cr_assert_not_null(v, "%s", err);
    J->decref(v);
}

Test(json, compact_copies_a_value_into_an_arena_of_its_own)
{
    size_t before = json_api_live_values();
    rdapsync_value *v = parse("{\"in\":{\"a\":[1,2,\"x\"],\"b\":{\"c\":null}},\"dropped\":\"a long string the output does not keep\"}");
    rdapsync_value *out = J->incref(J->object_get(v, "in"));
    J->decref(v);
    rdapsync_value *c = json_api_compact(out);
    cr_assert_not_null(c);
    cr_assert(J->equal(c, out));
    cr_assert_neq(c, out);
    J->decref(out); /* the first document goes; the copy stands alone */
    cr_assert_eq(json_api_live_values(), before + 1);
    char *s = J->dump(c, 0, NULL);
    cr_assert_str_eq(s, "{\"a\":[1,2,\"x\"],\"b\":{\"c\":null}}");
    free(s);
    cr_assert_gt(json_api_parsed_length(c), 0, "a compacted value is accounted without a walk");
    J->decref(c);
    rdapsync_value *built = J->object_new();
    cr_assert_null(json_api_compact(built), "only values in an arena are compacted");
    J->decref(built);
    cr_assert_eq(json_api_live_values(), before);
}

Test(json, measure_reports_nesting_and_the_longest_string_or_key)
{
    rdapsync_json_shape shape;
    rdapsync_value *v = parse("{\"abcdefgh\":[1,[\"xy\",{}]],\"k\":\"0123456789\"}");

    cr_assert(RDAPSYNC_HAS(rdapsync_json_api, J, measure));
    J->measure(v, 64, &shape);
    cr_assert_eq(shape.depth, 4); /* {} inside [] inside [] inside {} */
    cr_assert_eq(shape.longest, 10);
    /* Containers below the cap are not entered: reported as one deeper. */
    J->measure(v, 2, &shape);
    cr_assert_eq(shape.depth, 3);
    cr_assert_eq(shape.longest, 10);
    J->measure(v, 0, &shape);
    cr_assert_eq(shape.depth, 1);
    cr_assert_eq(shape.longest, 0, "nothing inside the root is looked at");
    J->decref(v);

    J->measure(NULL, 8, &shape);
    cr_assert_eq(shape.depth, 0);
    v = J->string_new("abc", 3);
    J->measure(v, 8, &shape);
    cr_assert_eq(shape.depth, 0);
    cr_assert_eq(shape.longest, 3);
    J->decref(v);
}

Test(json, measure_stops_at_the_cap_however_deep_a_built_value_is)
{
    /* Deeper than the parser allows: only a plugin can build this. */
    rdapsync_value *root = J->array_new(), *at = root;
    rdapsync_json_shape shape;

    for (int i = 0; i < 5000; i++) {
        rdapsync_value *inner = J->array_new();
        cr_assert_eq(J->array_append(at, inner), 0);
        at = inner;
    }
    J->measure(root, 32, &shape);
    cr_assert_eq(shape.depth, 33);
    J->decref(root);
}

/* The text is not NUL-terminated: reading an escape must stay inside it
 * (it used sscanf, which reads on to a NUL; ASan saw it). */
Test(json, escapes_are_read_within_the_text_only)
{
    static const char *texts[] = {"[\"\\u00e9\"]", "{\"\\ud83d\\ude00\":1}", "[\"\\ud800\"]"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        size_t len = strlen(texts[i]);
        char *exact = malloc(len);
        memcpy(exact, texts[i], len);
        rdapsync_value *v = J->parse(exact, len, err, sizeof(err));
        cr_assert_eq(v != NULL, i < 2, "%s: %s", texts[i], err);
        J->decref(v);
        free(exact);
    }
}
