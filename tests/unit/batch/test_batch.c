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

Test(batch, set_vv_copies_and_sorts_the_entries)
{
    rdapsync_batch *b = batch_new(4);
    char region[] = "us-east";
    rdapsync_vv_entry in[] = { { region, 3 }, { "eu-central", 5 }, { "ap", 1 } };
    rdapsync_record *r = H->record_add(b);

    cr_assert(RDAPSYNC_HAS(rdapsync_host, H, record_set_vv));
    cr_assert_eq(H->record_set_vv(b, r, in, 3), 0);
    region[0] = 'X'; /* the caller's string is not kept */
    cr_assert_eq(r->vv.count, 3);
    cr_assert_str_eq(r->vv.entries[0].region, "ap");
    cr_assert_str_eq(r->vv.entries[1].region, "eu-central");
    cr_assert_eq(r->vv.entries[1].counter, 5);
    cr_assert_str_eq(r->vv.entries[2].region, "us-east");
    cr_assert_eq(r->vv.entries[2].counter, 3);
    cr_assert_eq(in[0].region, region, "the caller's array is left in its order");

    rdapsync_record *r2 = H->record_add(b);
    cr_assert_eq(H->record_set_vv(b, r2, r->vv.entries, r->vv.count), 0);
    cr_assert_eq(r2->vv.entries[0].region, r->vv.entries[0].region, "regions of the previous record are shared");
    cr_assert_neq(r2->vv.entries, r->vv.entries);

    cr_assert_eq(H->record_set_vv(b, r, NULL, 0), 0);
    cr_assert_eq(r->vv.count, 0, "count 0 clears");
    cr_assert_null(r->vv.entries);
    batch_free(b);
}

Test(batch, set_vv_refuses_duplicates_empty_regions_and_zero_counters)
{
    rdapsync_batch *b = batch_new(2);
    rdapsync_record *r = H->record_add(b);
    rdapsync_vv_entry good[] = { { "eu", 1 } };
    rdapsync_vv_entry dup[] = { { "us", 1 }, { "eu", 2 }, { "us", 3 } };
    rdapsync_vv_entry empty[] = { { "", 1 } };
    rdapsync_vv_entry null_region[] = { { NULL, 1 } };
    rdapsync_vv_entry zero[] = { { "eu", 0 } };
    rdapsync_vv_entry bad_utf8[] = { { "\xc3(", 1 } };

    cr_assert_eq(H->record_set_vv(b, r, good, 1), 0);
    cr_assert_eq(H->record_set_vv(b, r, dup, 3), -1, "duplicate region");
    cr_assert_eq(H->record_set_vv(b, r, empty, 1), -1, "empty region");
    cr_assert_eq(H->record_set_vv(b, r, null_region, 1), -1, "NULL region");
    cr_assert_eq(H->record_set_vv(b, r, zero, 1), -1, "counter 0");
    cr_assert_eq(H->record_set_vv(b, r, bad_utf8, 1), -1, "invalid UTF-8");
    cr_assert_eq(H->record_set_vv(b, r, NULL, 2), -1, "entries missing");
    cr_assert_eq(r->vv.count, 1, "a refusal leaves the vector as it was");
    cr_assert_str_eq(r->vv.entries[0].region, "eu");

    rdapsync_record stray = { 0 };
    cr_assert_eq(H->record_set_vv(b, &stray, good, 1), -1, "a record of another batch");
    batch_free(b);
}

Test(batch, copied_and_moved_records_keep_their_vector)
{
    rdapsync_batch *a = batch_new(2), *b = batch_new(2), *c = batch_new(2);
    rdapsync_vv_entry in[] = { { "us", 7 }, { "eu", 2 } };
    rdapsync_record *r = H->record_add(a);
    cr_assert_eq(H->record_set_vv(a, r, in, 2), 0);

    rdapsync_record *copy = batch_copy_record(b, r);
    cr_assert_not_null(copy);
    cr_assert_eq(copy->vv.count, 2);
    cr_assert_str_eq(copy->vv.entries[0].region, "eu");
    cr_assert_eq(copy->vv.entries[1].counter, 7);
    cr_assert_neq(copy->vv.entries[0].region, r->vv.entries[0].region, "the copy lives in its own batch");

    rdapsync_record *moved = batch_move_record(c, a, 0);
    cr_assert_not_null(moved);
    cr_assert_eq(moved->vv.count, 2);
    cr_assert_str_eq(moved->vv.entries[1].region, "us");
    batch_free(a);
    batch_free(b);
    batch_free(c);
}

Test(batch, a_plugin_under_a_host_older_than_abi_1_4_reads_no_vector)
{
    rdapsync_batch *b = batch_new(2);
    rdapsync_vv_entry in[] = { { "eu", 1 } };
    rdapsync_record *r = H->record_add(b);
    cr_assert_eq(H->record_set_vv(b, r, in, 1), 0);
    cr_assert_eq(rdapsync_record_vv(H, r).count, 1, "this host has vectors");

    /* A 1.3 host's table ends before record_set_vv, and its records before
     * vv: the helper must not read the field. */
    rdapsync_host old = *H;
    old.struct_size = (uint32_t)offsetof(rdapsync_host, record_set_vv);
    rdapsync_vv none = rdapsync_record_vv(&old, r);
    cr_assert_eq(none.count, 0);
    cr_assert_null(none.entries);
    batch_free(b);
}
