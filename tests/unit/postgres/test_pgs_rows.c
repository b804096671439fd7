/*
 * The PostgreSQL sink's batch reduction, without a server: which record of
 * each key is sent, in which order, what falls back to what, what is
 * rejected before the server sees it, the version order itself, and the
 * bytes of a row in COPY's binary and text formats.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "batch.h"
#include "loader.h"
#include "pgs.h"

/* sink_postgres.c owns this in the plugin; the test is the host here. */
const rdapsync_host *pgs_host;

static rdapsync_batch *batch;

static void setup(void)
{
    pgs_host = host_api_table();
    batch = batch_new(64);
}

static void teardown(void)
{
    batch_free(batch);
}

TestSuite(pgs_rows, .init = setup, .fini = teardown);

static rdapsync_record *add(const char *key, rdapsync_op op, int64_t ts, const char *origin, int64_t seq,
                            int64_t offset)
{
    const rdapsync_host *h = pgs_host;
    rdapsync_record *r = h->record_add(batch);
    cr_assert_not_null(r);
    if (key)
        cr_assert_eq(h->record_set_key(batch, r, key, strlen(key)), 0);
    h->record_set_op(batch, r, op);
    if (op == RDAPSYNC_OP_UPSERT) {
        char text[64], err[64];
        snprintf(text, sizeof(text), "{\"ts\":%lld}", (long long)ts);
        h->record_set_value(batch, r, h->json->parse(text, strlen(text), err, sizeof(err)));
    }
    h->record_set_version(batch, r, ts, origin, seq);
    h->record_set_position(batch, r, "s", 0, offset);
    return r;
}

static void build(int mode, const pgs_positions *committed, pgs_rows *rows, pgs_rejects *rejects, uint64_t *skipped)
{
    memset(rejects, 0, sizeof(*rejects));
    *skipped = 0;
    cr_assert_eq(pgs_rows_build(batch, mode, committed, rows, rejects, skipped), 0);
}

static void release(pgs_rows *rows, pgs_rejects *rejects)
{
    pgs_rows_free(rows);
    pgs_rejects_clear(rejects);
    free(rejects->items);
}

Test(pgs_rows, version_order_is_time_then_origin_bytewise_then_sequence)
{
    rdapsync_version a = { 10, "b", 1 }, b = { 11, "a", 0 };
    cr_assert_lt(pgs_version_cmp(&a, &b), 0, "event time decides first");
    rdapsync_version c = { 10, "a", 9 }, d = { 10, "b", 0 };
    cr_assert_lt(pgs_version_cmp(&c, &d), 0, "then origin");
    rdapsync_version e = { 10, "Z", 0 }, f = { 10, "a", 0 };
    cr_assert_lt(pgs_version_cmp(&e, &f), 0, "origin compares bytewise, not by locale");
    rdapsync_version g = { 10, "\xc3\xa9", 0 }, i = { 10, "z", 0 };
    cr_assert_gt(pgs_version_cmp(&g, &i), 0, "bytes above 0x7f sort after ASCII");
    rdapsync_version j = { 10, NULL, 5 }, k = { 10, "", 5 };
    cr_assert_eq(pgs_version_cmp(&j, &k), 0, "a NULL origin is the empty origin");
    rdapsync_version l = { 10, "a", 1 }, m = { 10, "a", 2 };
    cr_assert_lt(pgs_version_cmp(&l, &m), 0, "then sequence");
}

Test(pgs_rows, only_the_greatest_version_of_each_key_is_sent_in_key_order)
{
    add("k2", RDAPSYNC_OP_UPSERT, 5, "a", 1, 1);
    add("k1", RDAPSYNC_OP_UPSERT, 7, "a", 1, 2);
    add("k2", RDAPSYNC_OP_DELETE, 9, "a", 1, 3);
    add("k2", RDAPSYNC_OP_UPSERT, 9, "", 1, 4);
    add("k1", RDAPSYNC_OP_UPSERT, 7, "b", 0, 5);
    pgs_rows rows;
    pgs_rejects rejects;
    uint64_t skipped;
    build(PGS_MODE_UPSERT, NULL, &rows, &rejects, &skipped);

    cr_assert_eq(rows.count, 2);
    cr_assert_str_eq(rows.rows[0].record->key, "k1");
    cr_assert_str_eq(rows.rows[0].record->version.origin, "b");
    cr_assert_str_eq(rows.rows[1].record->key, "k2");
    cr_assert(rows.rows[1].deleted, "the delete at (9, \"a\") beats the upsert at (9, \"\")");
    cr_assert_eq(rejects.count, 0);
    release(&rows, &rejects);
}

Test(pgs_rows, a_refused_row_falls_back_to_older_versions_newest_first)
{
    add("k", RDAPSYNC_OP_UPSERT, 1, "a", 1, 1);
    add("k", RDAPSYNC_OP_UPSERT, 3, "a", 1, 2);
    add("k", RDAPSYNC_OP_UPSERT, 2, "a", 1, 3);
    pgs_rows rows;
    pgs_rejects rejects;
    uint64_t skipped;
    build(PGS_MODE_UPSERT, NULL, &rows, &rejects, &skipped);

    cr_assert_eq(rows.count, 1);
    cr_assert_eq(rows.rows[0].record->version.event_time_ms, 3);
    cr_assert_eq(pgs_rows_use_fallback(&rows, 0), 1);
    cr_assert_eq(rows.rows[0].record->version.event_time_ms, 2);
    cr_assert_eq(pgs_row_serialize(&rows.rows[0], &rows.doc_buffer), 0);
    cr_assert_eq(rows.rows[0].doc_len, strlen("{\"ts\":2}"));
    cr_assert(memcmp(rows.rows[0].doc, "{\"ts\":2}", rows.rows[0].doc_len) == 0, "the fallback carries its own document");
    cr_assert_eq(pgs_rows_use_fallback(&rows, 0), 1);
    cr_assert_eq(rows.rows[0].record->version.event_time_ms, 1);
    cr_assert_eq(pgs_rows_use_fallback(&rows, 0), 0, "no version older than the oldest");
    release(&rows, &rejects);
}

Test(pgs_rows, records_that_cannot_be_stored_are_rejected_before_the_server)
{
    /* (A NUL inside a key is refused by the host's record_set_key already.) */
    add(NULL, RDAPSYNC_OP_UPSERT, 1, "a", 1, 1);
    rdapsync_record *empty = add("no-doc", RDAPSYNC_OP_UPSERT, 1, "a", 1, 3);
    pgs_host->record_set_value(batch, empty, NULL);
    add("fine", RDAPSYNC_OP_UPSERT, 1, "a", 1, 4);
    pgs_rows rows;
    pgs_rejects rejects;
    uint64_t skipped;
    build(PGS_MODE_UPSERT, NULL, &rows, &rejects, &skipped);

    cr_assert_eq(rows.count, 1);
    cr_assert_str_eq(rows.rows[0].record->key, "fine");
    cr_assert_eq(rejects.count, 2);
    cr_assert(strstr(rejects.items[0].reason, "no key"), "%s", rejects.items[0].reason);
    cr_assert(strstr(rejects.items[1].reason, "without a document"), "%s", rejects.items[1].reason);
    cr_assert(strstr(rejects.items[1].reason, "no-doc"), "the reason names the key: %s", rejects.items[1].reason);
    release(&rows, &rejects);
}

Test(pgs_rows, append_mode_keeps_every_record_in_batch_order)
{
    add("k", RDAPSYNC_OP_UPSERT, 5, "a", 1, 1);
    add(NULL, RDAPSYNC_OP_UPSERT, 1, "a", 1, 2);
    add("k", RDAPSYNC_OP_DELETE, 1, "a", 1, 3);
    pgs_rows rows;
    pgs_rejects rejects;
    uint64_t skipped;
    build(PGS_MODE_APPEND, NULL, &rows, &rejects, &skipped);

    cr_assert_eq(rows.count, 3, "no reduction, and a change log may hold keyless records");
    cr_assert_eq(rows.rows[0].record->position.offset, 1);
    cr_assert_eq(rows.rows[1].record->position.offset, 2);
    cr_assert(rows.rows[2].deleted);
    release(&rows, &rejects);
}

Test(pgs_rows, exactly_once_skips_records_at_or_below_the_stored_position)
{
    add("a", RDAPSYNC_OP_UPSERT, 1, "a", 1, 10);
    add("b", RDAPSYNC_OP_UPSERT, 1, "a", 1, 20);
    add("c", RDAPSYNC_OP_UPSERT, 1, "a", 1, 30);
    pgs_positions committed = { 0 };
    cr_assert_eq(pgs_positions_note(&committed, "s", 0, 20), 0);
    cr_assert_eq(pgs_positions_note(&committed, "other", 0, 99), 0);
    pgs_rows rows;
    pgs_rejects rejects;
    uint64_t skipped;
    build(PGS_MODE_UPSERT, &committed, &rows, &rejects, &skipped);

    cr_assert_eq(skipped, 2);
    cr_assert_eq(rows.count, 1);
    cr_assert_str_eq(rows.rows[0].record->key, "c");
    release(&rows, &rejects);
    pgs_positions_clear(&committed);
    free(committed.items);
}

Test(pgs_rows, positions_keep_the_highest_offset_and_map_null_stream_to_empty)
{
    pgs_positions p = { 0 };
    cr_assert_eq(pgs_positions_note(&p, NULL, -1, 5), 0);
    cr_assert_eq(pgs_positions_note(&p, "", -1, 3), 0);
    cr_assert_eq(pgs_positions_note(&p, NULL, -1, 8), 0);
    cr_assert_eq(p.count, 1);
    cr_assert_eq(pgs_positions_find(&p, "", -1), 8);
    cr_assert_eq(pgs_positions_find(&p, NULL, 0), -1, "another partition is another position");
    pgs_positions_clear(&p);
    free(p.items);
}

/* What the sink appends to its buffers must be exactly what host->json->dump writes. */
Test(pgs_rows, documents_serialize_exactly_like_the_host_dump)
{
    static const char *const docs[] = {
        "{\"objectClassName\":\"domain\",\"handle\":\"EX-1\",\"events\":[{\"eventAction\":\"last changed\"}],\"n\":[]}",
        "{\"quote\":\"a\\\"b\",\"back\":\"c\\\\d\",\"ctl\":\"\\u0001\\b\\f\\n\\r\\t\\u001f\",\"slash\":\"/\",\"del\":\"\\u007f\"}",
        "{\"utf8\":\"caf\xc3\xa9 \xe4\xbe\x8b \xf0\x9f\xa6\x8a\",\"esc\":\"\\u00e9\\ud83e\\udd8a\",\"k\\\"ey\\n\":1}",
        "[1.5,0.1,3.0,-0.0,1e300,-2.5e-300,123456789.25,0,1e-7,1.5e+20,1e21,5e-324]",
        "[9223372036854775807,-9223372036854775808,0,-1]",
        "{\"a\":{\"b\":{\"c\":[[],{},[{}],null,true,false]}}}",
        "\"just a string\"",
        "{}",
    };
    const rdapsync_json_api *json = pgs_host->json;
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        char err[128];
        rdapsync_value *v = json->parse(docs[i], strlen(docs[i]), err, sizeof(err));
        cr_assert_not_null(v, "fixture %zu: %s", i, err);
        size_t len = 0;
        char *expected = json->dump(v, 0, &len);
        pgs_buffer buf = { 0 };
        cr_assert_eq(pgs_json_serialize(v, &buf), 0);
        cr_assert_eq(buf.len, len, "fixture %zu: %.*s vs %s", i, (int)buf.len, buf.data, expected);
        cr_assert(memcmp(buf.data, expected, len) == 0, "fixture %zu: %.*s vs %s", i, (int)buf.len, buf.data, expected);
        pgs_host->free(expected);
        pgs_buffer_free(&buf);
        json->decref(v);
    }
}

/* One upsert row of a record, for the COPY encoders. */
static pgs_row row_of(const rdapsync_record *record)
{
    pgs_row row = { .record = record, .deleted = record->op == RDAPSYNC_OP_DELETE, .fallback = SIZE_MAX };
    return row;
}

Test(pgs_rows, binary_copy_rows_are_lengths_and_raw_bytes_in_stage_column_order)
{
    const rdapsync_host *h = pgs_host;
    rdapsync_record *r = h->record_add(batch);
    char err[64];
    const char *doc = "{\"a\":\"x\\\"y\\n\"}"; /* {"a":"x\"y\n"}: quotes and escapes stay as they are */
    cr_assert_eq(h->record_set_key(batch, r, "k\t1", 3), 0);
    h->record_set_op(batch, r, RDAPSYNC_OP_UPSERT);
    h->record_set_value(batch, r, h->json->parse(doc, strlen(doc), err, sizeof(err)));
    h->record_set_version(batch, r, 0x0102030405060708LL, "or", -2);
    h->record_set_position(batch, r, NULL, 7, 300);
    pgs_row row = row_of(r);
    pgs_buffer buf = { 0 };
    cr_assert_eq(pgs_copy_put_row(&buf, &row, true), 0);

    static const unsigned char expected[] = {
        0, 9,                                         /* fields */
        0, 0, 0, 3, 'k', '\t', '1',                   /* key: no escaping in binary */
        0, 0, 0, 15, 1, '{', '"', 'a', '"', ':', '"', 'x', '\\', '"', 'y', '\\', 'n', '"', '}', /* jsonb v1 + text */
        0, 0, 0, 1, 0,                                /* deleted false */
        0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,           /* event_time_ms, big-endian */
        0, 0, 0, 2, 'o', 'r',                         /* origin */
        0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, /* seq -2 */
        0xff, 0xff, 0xff, 0xff,                       /* src_stream NULL */
        0, 0, 0, 4, 0, 0, 0, 7,                       /* src_partition */
        0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 44,          /* src_offset 300 */
    };
    cr_assert_eq(buf.len, sizeof(expected));
    cr_assert(memcmp(buf.data, expected, sizeof(expected)) == 0);
    pgs_buffer_free(&buf);
}

Test(pgs_rows, binary_copy_deletes_have_a_null_document_and_deleted_true)
{
    rdapsync_record *r = add("gone", RDAPSYNC_OP_DELETE, 1, NULL, 0, 5);
    pgs_row row = row_of(r);
    pgs_buffer buf = { 0 };
    cr_assert_eq(pgs_copy_put_row(&buf, &row, true), 0);
    static const unsigned char expected[] = { 0, 9, 0, 0, 0, 4, 'g', 'o', 'n', 'e', 0xff, 0xff, 0xff, 0xff,
                                              0, 0, 0, 1, 1 };
    cr_assert_geq(buf.len, sizeof(expected));
    cr_assert(memcmp(buf.data, expected, sizeof(expected)) == 0);
    pgs_buffer_free(&buf);
}

Test(pgs_rows, text_copy_rows_escape_backslash_newline_cr_and_tab_only)
{
    const rdapsync_host *h = pgs_host;
    rdapsync_record *r = h->record_add(batch);
    char err[64];
    const char *doc = "{\"a\":\"b\\\\c\"}"; /* {"a":"b\\c"} */
    cr_assert_eq(h->record_set_key(batch, r, "k\n\r\t\\", 5), 0);
    h->record_set_op(batch, r, RDAPSYNC_OP_UPSERT);
    h->record_set_value(batch, r, h->json->parse(doc, strlen(doc), err, sizeof(err)));
    h->record_set_version(batch, r, 12, "o\tx", 3);
    h->record_set_position(batch, r, "s", -1, 99);
    pgs_row row = row_of(r);
    pgs_buffer buf = { 0 };
    cr_assert_eq(pgs_copy_put_row(&buf, &row, false), 0);
    const char *expected = "k\\n\\r\\t\\\\\t{\"a\":\"b\\\\\\\\c\"}\tf\t12\to\\tx\t3\ts\t-1\t99\n";
    cr_assert_eq(buf.len, strlen(expected), "%.*s", (int)buf.len, buf.data);
    cr_assert(memcmp(buf.data, expected, buf.len) == 0, "%.*s", (int)buf.len, buf.data);

    buf.len = 0;
    rdapsync_record *d = add("gone", RDAPSYNC_OP_DELETE, 1, NULL, 0, 5);
    row = row_of(d);
    cr_assert_eq(pgs_copy_put_row(&buf, &row, false), 0);
    expected = "gone\t\\N\tt\t1\t\t0\ts\t0\t5\n";
    cr_assert_eq(buf.len, strlen(expected), "%.*s", (int)buf.len, buf.data);
    cr_assert(memcmp(buf.data, expected, buf.len) == 0, "%.*s", (int)buf.len, buf.data);
    pgs_buffer_free(&buf);
}
