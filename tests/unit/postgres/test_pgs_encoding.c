/*
 * What the PostgreSQL sink sends, without a server: documents as JSON
 * text, a record as the write statement's parameters, and the bytes of a
 * row in COPY's binary and text formats. (Which records become rows is the
 * SDK toolkit's, tested in tests/unit/sinktk.)
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

TestSuite(pgs_encoding, .init = setup, .fini = teardown);

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

/* What the sink appends to its buffers must be exactly what host->json->dump writes. */
Test(pgs_encoding, documents_serialize_exactly_like_the_host_dump)
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

Test(pgs_encoding, binary_copy_rows_are_lengths_and_raw_bytes_in_stage_column_order)
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
    pgs_buffer buf = { 0 };
    cr_assert_eq(pgs_copy_put_row(&buf, r, true), 0);

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

Test(pgs_encoding, binary_copy_deletes_have_a_null_document_and_deleted_true)
{
    rdapsync_record *r = add("gone", RDAPSYNC_OP_DELETE, 1, NULL, 0, 5);
    pgs_buffer buf = { 0 };
    cr_assert_eq(pgs_copy_put_row(&buf, r, true), 0);
    static const unsigned char expected[] = { 0, 9, 0, 0, 0, 4, 'g', 'o', 'n', 'e', 0xff, 0xff, 0xff, 0xff,
                                              0, 0, 0, 1, 1 };
    cr_assert_geq(buf.len, sizeof(expected));
    cr_assert(memcmp(buf.data, expected, sizeof(expected)) == 0);
    pgs_buffer_free(&buf);
}

Test(pgs_encoding, text_copy_rows_escape_backslash_newline_cr_and_tab_only)
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
    pgs_buffer buf = { 0 };
    cr_assert_eq(pgs_copy_put_row(&buf, r, false), 0);
    const char *expected = "k\\n\\r\\t\\\\\t{\"a\":\"b\\\\\\\\c\"}\tf\t12\to\\tx\t3\ts\t-1\t99\n";
    cr_assert_eq(buf.len, strlen(expected), "%.*s", (int)buf.len, buf.data);
    cr_assert(memcmp(buf.data, expected, buf.len) == 0, "%.*s", (int)buf.len, buf.data);

    buf.len = 0;
    rdapsync_record *d = add("gone", RDAPSYNC_OP_DELETE, 1, NULL, 0, 5);
    cr_assert_eq(pgs_copy_put_row(&buf, d, false), 0);
    expected = "gone\t\\N\tt\t1\t\t0\ts\t0\t5\n";
    cr_assert_eq(buf.len, strlen(expected), "%.*s", (int)buf.len, buf.data);
    cr_assert(memcmp(buf.data, expected, buf.len) == 0, "%.*s", (int)buf.len, buf.data);
    pgs_buffer_free(&buf);
}

Test(pgs_encoding, statement_parameters_are_text_and_a_delete_has_a_null_document)
{
    rdapsync_record *r = add("k", RDAPSYNC_OP_UPSERT, 17, "or", -3, 42);
    pgs_buffer doc = { 0 };
    pgs_params params;
    cr_assert_eq(pgs_doc_serialize(r, &doc), 0);
    cr_assert_eq(doc.data[doc.len], '\0', "libpq reads text parameters up to a NUL");
    pgs_row_params(r, &doc, &params);
    cr_assert_str_eq(params.values[PGS_P_DOC], "{\"ts\":17}");
    cr_assert_eq(params.lengths[PGS_P_DOC], 9);
    cr_assert_str_eq(params.values[PGS_P_DELETED], "f");
    cr_assert_str_eq(params.values[PGS_P_TS], "17");
    cr_assert_str_eq(params.values[PGS_P_ORIGIN], "or");
    cr_assert_str_eq(params.values[PGS_P_SEQ], "-3");
    cr_assert_str_eq(params.values[PGS_P_STREAM], "s");
    cr_assert_str_eq(params.values[PGS_P_PARTITION], "0");
    cr_assert_str_eq(params.values[PGS_P_OFFSET], "42");

    rdapsync_record *d = add("k", RDAPSYNC_OP_DELETE, 18, NULL, 0, 43);
    cr_assert_eq(pgs_doc_serialize(d, &doc), 0);
    pgs_row_params(d, &doc, &params);
    cr_assert_null(params.values[PGS_P_DOC]);
    cr_assert_str_eq(params.values[PGS_P_DELETED], "t");
    cr_assert_str_eq(params.values[PGS_P_ORIGIN], "", "a NULL origin is stored as the empty one");
    pgs_buffer_free(&doc);
}
