/* Batches and the SDK's record setters. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "batch_api.h"
#include "loader.h"

static const rdapsync_host *H;

static void setup(void) { H = host_api_table(); }

TestSuite(batch, .init = setup);

Test(batch, record_add_stops_at_max_records)
{
    rdapsync_batch *b = batch_new(3);
    cr_assert_eq(H->batch_room(b), 3);
    for (int i = 0; i < 3; i++)
        cr_assert_not_null(H->record_add(b));
    cr_assert_eq(H->batch_room(b), 0);
    cr_assert_null(H->record_add(b));
    cr_assert_eq(H->batch_count(b), 3);
    batch_reset(b);
    cr_assert_eq(H->batch_count(b), 0);
    cr_assert_eq(H->batch_room(b), 3);
    batch_free(b);
}

Test(batch, byte_limit_closes_the_batch)
{
    rdapsync_batch *b = batch_new(100);
    char key[64];
    memset(key, 'k', sizeof(key));
    batch_set_byte_limit(b, 200);
    int added = 0;
    rdapsync_record *r;
    while ((r = H->record_add(b))) {
        cr_assert_eq(H->record_set_key(b, r, key, sizeof(key)), 0);
        added++;
    }
    cr_assert_eq(added, 4, "64-byte keys: the 4th reaches 200 bytes");
    cr_assert_eq(H->batch_room(b), 0);
    cr_assert_eq(batch_bytes(b), 256);
    batch_free(b);
}

Test(batch, new_record_is_an_upsert_at_the_previous_position)
{
    rdapsync_batch *b = batch_new(4);
    rdapsync_record *first = H->record_add(b);
    cr_assert_eq(first->op, RDAPSYNC_OP_UPSERT);
    cr_assert_null(first->key);
    cr_assert_null(first->value);
    cr_assert_eq(first->position.partition, -1);
    cr_assert_eq(H->record_set_position(b, first, "file.jsonl", 2, 120), 0);
    rdapsync_record *second = H->record_add(b);
    cr_assert_str_eq(second->position.stream, "file.jsonl");
    cr_assert_eq(second->position.partition, 2);
    cr_assert_eq(second->position.offset, 120);
    batch_free(b);
}

Test(batch, setters_copy_strings_into_the_batch)
{
    rdapsync_batch *b = batch_new(2);
    rdapsync_record *r = H->record_add(b);
    char key[] = "EX-1", origin[] = "eu", stream[] = "t", hv[] = "v1";

    cr_assert_eq(H->record_set_key(b, r, key, 4), 0);
    cr_assert_eq(H->record_set_version(b, r, 1700000000000, origin, 7), 0);
    cr_assert_eq(H->record_set_position(b, r, stream, 0, 8), 0);
    cr_assert_eq(H->record_add_header(b, r, "h", hv, 2), 0);
    memset(key, 0, sizeof(key));
    memset(origin, 0, sizeof(origin));
    memset(stream, 0, sizeof(stream));
    memset(hv, 0, sizeof(hv));
    cr_assert_str_eq(r->key, "EX-1");
    cr_assert_eq(r->key_len, 4);
    cr_assert_str_eq(r->version.origin, "eu");
    cr_assert_eq(r->version.sequence, 7);
    cr_assert_str_eq(r->position.stream, "t");
    cr_assert_str_eq(H->record_header(r, "h")->value, "v1");
    cr_assert_null(H->record_header(r, "nope"));
    batch_free(b);
}

Test(batch, keys_must_be_valid_utf8_without_nul)
{
    rdapsync_batch *b = batch_new(1);
    rdapsync_record *r = H->record_add(b);
    cr_assert_eq(H->record_set_key(b, r, "\xc3\x28", 2), -1);
    cr_assert_eq(H->record_set_key(b, r, "\xed\xa0\x80", 3), -1, "surrogates are not UTF-8");
    cr_assert_eq(H->record_set_key(b, r, "\xc0\x80", 2), -1, "overlong");
    cr_assert_eq(H->record_set_key(b, r, "a\0b", 3), -1);
    cr_assert_eq(H->record_set_key(b, r, "\xe2\x82\xac", 3), 0);
    cr_assert_eq(H->record_set_key(b, r, "\xf0\x9f\x98\x80", 4), 0);
    cr_assert_null(H->record_add(b));
    batch_free(b);
}

Test(batch, setters_refuse_records_of_another_batch)
{
    rdapsync_batch *a = batch_new(1), *b = batch_new(1);
    rdapsync_record *r = H->record_add(a);
    cr_assert_eq(H->record_set_key(b, r, "k", 1), -1);
    cr_assert_eq(H->record_set_value(b, r, H->json->object_new()), -1, "the value is still released");
    batch_free(a);
    batch_free(b);
}

Test(batch, headers_grow_and_repeat)
{
    rdapsync_batch *b = batch_new(1);
    rdapsync_record *r = H->record_add(b);
    char name[16];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "h%d", i % 20);
        cr_assert_eq(H->record_add_header(b, r, name, name, strlen(name)), 0);
    }
    cr_assert_eq(r->header_count, 40);
    cr_assert_str_eq(r->headers[39].name, "h19");
    cr_assert_eq(H->record_header(r, "h5"), &r->headers[5], "the first one with that name");
    batch_free(b);
}

Test(batch, set_bad_keeps_raw_bytes_and_reason_and_drops_the_value)
{
    rdapsync_batch *b = batch_new(1);
    rdapsync_record *r = H->record_add(b);
    H->record_set_value(b, r, H->json->object_new());
    H->record_set_op(b, r, RDAPSYNC_OP_DELETE);
    cr_assert_eq(H->record_set_bad(b, r, "{\"a\":\0", 6, "f.jsonl:3: truncated"), 0);
    cr_assert_null(r->value);
    cr_assert_eq(r->op, RDAPSYNC_OP_UPSERT);
    cr_assert_eq(r->raw_len, 6);
    cr_assert_eq(memcmp(r->raw, "{\"a\":\0", 6), 0);
    cr_assert_str_eq(r->error, "f.jsonl:3: truncated");
    batch_free(b);
}

Test(batch, copy_record_is_deep_and_shares_the_value)
{
    rdapsync_batch *a = batch_new(1), *b = batch_new(1);
    rdapsync_record *r = H->record_add(a);
    rdapsync_value *v = H->json->object_new();
    H->record_set_key(a, r, "k", 1);
    H->record_set_value(a, r, v);
    H->record_set_version(a, r, 5, "o", 6);
    H->record_set_position(a, r, "s", 1, 2);
    H->record_add_header(a, r, "h", "x", 1);
    rdapsync_record *c = batch_copy_record(b, r);
    cr_assert_not_null(c);
    batch_free(a); /* the copy must survive its original */
    cr_assert_str_eq(c->key, "k");
    cr_assert_eq(c->value, v);
    cr_assert_eq(H->json->type(c->value), RDAPSYNC_JSON_OBJECT);
    cr_assert_str_eq(c->version.origin, "o");
    cr_assert_str_eq(c->position.stream, "s");
    cr_assert_str_eq(c->headers[0].value, "x");
    cr_assert_null(batch_copy_record(b, c), "full");
    batch_free(b);
}

Test(batch, keep_compacts_in_order_and_releases_the_others)
{
    rdapsync_batch *b = batch_new(4);
    for (int i = 0; i < 4; i++) {
        char k[4];
        snprintf(k, sizeof(k), "k%d", i);
        rdapsync_record *r = H->record_add(b);
        H->record_set_key(b, r, k, strlen(k));
        H->record_set_value(b, r, H->json->integer_new(i));
    }
    bool keep[] = {false, true, false, true};
    batch_keep(b, keep);
    cr_assert_eq(H->batch_count(b), 2);
    cr_assert_str_eq(H->batch_get(b, 0)->key, "k1");
    cr_assert_str_eq(H->batch_get(b, 1)->key, "k3");
    cr_assert_null(H->batch_get(b, 2));
    batch_truncate(b, 1);
    cr_assert_eq(H->batch_count(b), 1);
    batch_free(b);
}

Test(batch, value_bytes_follow_parsed_input_length)
{
    rdapsync_batch *b = batch_new(2);
    const char *text = "{\"handle\":\"EX-1\",   \"x\":[1,2,3]}";
    char err[128];
    rdapsync_record *r = H->record_add(b);
    H->record_set_value(b, r, H->json->parse(text, strlen(text), err, sizeof(err)));
    cr_assert_eq(batch_value_bytes(b), strlen(text));
    H->record_set_value(b, r, NULL);
    cr_assert_eq(batch_value_bytes(b), 0);
    batch_free(b);
}
