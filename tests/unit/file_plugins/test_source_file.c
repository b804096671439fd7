/* The `file` source through the real loader: records, keys, versions and
 * positions; resume; bad input; directories; following. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"
#include "batch_api.h"
#include "harness.h"
#include "log.h"
#include "model/json_lazy.h"

static char *dir;

static void setup(void) { dir = tmpdir_new(); }
static void teardown(void) { tmpdir_remove(dir); }

TestSuite(source_file, .init = setup, .fini = teardown);

static instance open_source(const char *path, const char *extra, const char *state)
{
    instance src;
    char yaml[4096];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\"%s%s}", path, extra ? ", " : "", extra ? extra : "");
    instance_load(&src, RDAPSYNC_KIND_SOURCE, "file", yaml, state, 0, 1);
    cr_assert_eq(instance_open(&src), RDAPSYNC_OK, "open: %s", src.err);
    return src;
}

static const rdapsync_record *rec(rdapsync_batch *b, size_t i)
{
    cr_assert_lt(i, batch_count(b), "record %zu of %zu", i, batch_count(b));
    return host()->batch_get(b, i);
}

static const char *member(const rdapsync_record *r, const char *name)
{
    return host()->json->string_value(host()->json->object_get(r->value, name));
}

#define DOMAIN_LINE(handle, ldh, date)                                                                        \
    "{\"objectClassName\":\"domain\"," handle ldh "\"events\":[{\"eventAction\":\"registration\","            \
    "\"eventDate\":\"2001-01-01T00:00:00Z\"},{\"eventAction\":\"last changed\",\"eventDate\":\"" date "\"}]}\n"

Test(source_file, reads_json_lines_in_order_with_keys_versions_and_byte_offsets)
{
    char *input = path_join(dir, "in.jsonl");
    const char *l1 = DOMAIN_LINE("\"handle\":\"H1\",", "\"ldhName\":\"one.example\",", "2024-03-01T12:00:00Z");
    const char *l2 = DOMAIN_LINE("", "\"ldhName\":\"two.example\",", "2024-03-01T12:00:00.250+01:00");
    const char *l3 = "{\"objectClassName\":\"entity\"}\n";
    char text[2048];
    snprintf(text, sizeof(text), "%s\n%s%s", l1, l2, l3); /* a blank line 2 is skipped but counted */
    file_write_str(input, text);

    instance src = open_source(input, NULL, NULL);
    rdapsync_batch *b = poll_all(&src, 16, 10);

    cr_assert_eq(batch_count(b), 3);
    cr_assert_str_eq(rec(b, 0)->key, "H1", "handle is the key");
    cr_assert_str_eq(rec(b, 1)->key, "two.example", "ldhName when there is no handle");
    char fallback[600];
    snprintf(fallback, sizeof(fallback), "%s:4", input);
    cr_assert_str_eq(rec(b, 2)->key, fallback, "FILE:LINE when there is neither");

    cr_assert_eq(rec(b, 0)->version.event_time_ms, INT64_C(1709294400000), "last changed of line 1");
    cr_assert_eq(rec(b, 1)->version.event_time_ms, INT64_C(1709290800250), "offsets and fractions honoured");
    cr_assert_eq(rec(b, 2)->version.event_time_ms, 0);
    cr_assert_eq(rec(b, 0)->version.sequence, 1);
    cr_assert_eq(rec(b, 1)->version.sequence, 3);
    cr_assert_eq(rec(b, 2)->version.sequence, 4);

    int64_t after1 = (int64_t)strlen(l1), after2 = after1 + 1 + (int64_t)strlen(l2);
    cr_assert_str_eq(rec(b, 0)->position.stream, input);
    cr_assert_eq(rec(b, 0)->position.partition, -1);
    cr_assert_eq(rec(b, 0)->position.offset, after1);
    cr_assert_eq(rec(b, 1)->position.offset, after2);
    cr_assert_eq(rec(b, 2)->position.offset, (int64_t)strlen(text));
    cr_assert_str_eq(member(rec(b, 1), "ldhName"), "two.example");
    cr_assert_null(rec(b, 0)->error);
    cr_assert_eq(metric_value("file", "bytes_read"), (double)strlen(text), "bytes_read counts the file");

    batch_free(b);
    instance_close(&src);
    free(input);
}

Test(source_file, envelope_lines_carry_op_key_version_and_headers)
{
    char *input = path_join(dir, "changes.jsonl");
    file_write_str(input,
                   "{\"key\":\"k1\",\"op\":\"upsert\",\"ts_ms\":1000,\"origin\":\"eu\",\"seq\":7,"
                   "\"value\":{\"handle\":\"k1\",\"ldhName\":\"k1.example\"}}\n"
                   "{\"key\":\"k1\",\"op\":\"delete\",\"ts_ms\":2000,\"origin\":\"us\",\"seq\":8,\"value\":null}\n"
                   "{\"key\":\"k2\",\"op\":\"upsert\",\"version\":{\"ts_ms\":5,\"origin\":\"ap\",\"seq\":9},"
                   "\"headers\":{\"h\":\"v\",\"m\":[\"a\",\"b\"]},\"value\":{\"ldhName\":\"k2.example\"}}\n"
                   "{\"key\":\"k3\",\"op\":\"merge\",\"value\":{}}\n");
    instance src = open_source(input, NULL, NULL);
    rdapsync_batch *b = poll_all(&src, 16, 10);

    cr_assert_eq(batch_count(b), 4);
    cr_assert_str_eq(rec(b, 0)->key, "k1");
    cr_assert_eq(rec(b, 0)->op, RDAPSYNC_OP_UPSERT);
    cr_assert_eq(rec(b, 0)->version.event_time_ms, 1000);
    cr_assert_str_eq(rec(b, 0)->version.origin, "eu");
    cr_assert_eq(rec(b, 0)->version.sequence, 7);
    cr_assert_str_eq(member(rec(b, 0), "ldhName"), "k1.example", "the envelope's value, not the envelope");
    cr_assert_null(host()->json->object_get(rec(b, 0)->value, "op"));

    cr_assert_eq(rec(b, 1)->op, RDAPSYNC_OP_DELETE);
    cr_assert_null(rec(b, 1)->value);
    cr_assert_str_eq(rec(b, 1)->version.origin, "us");

    cr_assert_str_eq(rec(b, 2)->version.origin, "ap", "the sink-file shape with a version object");
    cr_assert_eq(rec(b, 2)->version.sequence, 9);
    cr_assert_eq(rec(b, 2)->header_count, 3);
    cr_assert_str_eq(host()->record_header(rec(b, 2), "h")->value, "v");
    cr_assert_str_eq(rec(b, 2)->headers[2].value, "b");

    cr_assert_not_null(rec(b, 3)->error, "an unknown op is bad input");
    cr_assert(strstr(rec(b, 3)->error, ":4: envelope \"op\""), "reason: %s", rec(b, 3)->error);
    batch_free(b);
    instance_close(&src);
    free(input);
}

Test(source_file, an_envelopes_value_reaches_the_sink_as_its_own_bytes_not_a_member_of_the_envelopes_tree)
{
    const char *value = "{\"handle\":\"k1\",\"ldhName\":\"k1.example\",\"nested\":{\"value\":[1,{\"op\":2}]}}";
    char line[512];
    snprintf(line, sizeof line, "{\"key\":\"k1\",\"op\":\"upsert\",\"ts_ms\":1000,\"value\":%s,\"seq\":7}\n", value);
    char *input = path_join(dir, "changes.jsonl");
    file_write_str(input, line);
    instance src = open_source(input, NULL, NULL);
    rdapsync_batch *b = poll_all(&src, 16, 10);

    cr_assert_eq(batch_count(b), 1);
    const rdapsync_record *r = rec(b, 0);
    cr_assert_null(r->error);
    cr_assert_eq(r->version.sequence, 7, "members after the value are read from the envelope");
    cr_assert_eq(r->value->kind, JT_LAZY, "no tree was built for the value");
    char *dumped = host()->json->dump(r->value, 0, NULL);
    cr_assert_str_eq(dumped, value, "the sink writes the value's own bytes");
    host()->free(dumped);
    cr_assert_str_eq(member(r, "ldhName"), "k1.example", "and a transform still reads it");
    batch_free(b);
    instance_close(&src);
    free(input);
}

Test(source_file, an_envelope_whose_value_is_refused_is_bad_with_the_whole_lines_line_and_column)
{
    /* A duplicate key inside the value: the value alone is refused, and so
     * is the whole line, whose message (its column) is the answer. */
    const char *bad = "{\"key\":\"k1\",\"op\":\"upsert\",\"value\":{\"a\":1,\"a\":2}}";
    char err[256] = "", text[512];
    cr_assert_null(host()->json->parse(bad, strlen(bad), err, sizeof err));
    snprintf(text, sizeof text, "%s\n{\"key\":\"x\",\"value\":{\"b\":1}}\n", bad);
    char *input = path_join(dir, "changes.jsonl");
    file_write_str(input, text);
    instance src = open_source(input, NULL, NULL);
    rdapsync_batch *b = poll_all(&src, 16, 10);

    cr_assert_eq(batch_count(b), 2);
    cr_assert_not_null(rec(b, 0)->error);
    cr_assert(strstr(rec(b, 0)->error, err), "reason %s, the parser says %s", rec(b, 0)->error, err);
    /* "key" first but no "op": not an envelope, the whole line is the document. */
    cr_assert_null(rec(b, 1)->error);
    cr_assert_not_null(host()->json->object_get(rec(b, 1)->value, "value"));
    cr_assert_str_eq(member(rec(b, 1), "key"), "x");
    batch_free(b);
    instance_close(&src);
    free(input);
}

Test(source_file, skip_origins_leaves_out_the_listed_origins_and_their_positions_go_to_the_previous_record)
{
    char *input = path_join(dir, "two-regions.jsonl");
    const char *lines[] = {
        "{\"key\":\"a\",\"op\":\"upsert\",\"ts_ms\":1,\"origin\":\"eu\",\"seq\":1,\"value\":{}}\n",
        "{\"key\":\"b\",\"op\":\"upsert\",\"ts_ms\":2,\"origin\":\"us\",\"seq\":1,\"value\":{}}\n",
        "{\"key\":\"c\",\"op\":\"upsert\",\"version\":{\"ts_ms\":3,\"origin\":\"us\",\"seq\":2},\"value\":{}}\n",
        "{\"key\":\"d\",\"op\":\"delete\",\"ts_ms\":4,\"origin\":\"ap\",\"seq\":1}\n",
        "{\"handle\":\"plain-document\"}\n",
        "{\"key\":\"e\",\"op\":\"upsert\",\"ts_ms\":5,\"origin\":\"us\",\"seq\":3,\"value\":{}}\n",
    };
    char text[2048] = "";
    for (size_t i = 0; i < 6; i++)
        strcat(text, lines[i]);
    file_write_str(input, text);
    instance src = open_source(input, "skip_origins: [us, ap]", NULL);
    rdapsync_batch *b = poll_all(&src, 16, 10);

    cr_assert_eq(batch_count(b), 2, "us and ap are left out; an origin-less document is kept");
    cr_assert_str_eq(rec(b, 0)->key, "a");
    cr_assert_str_eq(rec(b, 1)->key, "plain-document");
    cr_assert_eq(rec(b, 1)->position.offset, (int64_t)strlen(text),
                 "the skipped last line's position moved onto the last record emitted");
    cr_assert_eq(metric_value("file", "origins_skipped"), 4.0, "every skipped record is counted");
    batch_free(b);
    instance_close(&src);
    free(input);
}

Test(source_file, key_field_option_chooses_the_key)
{
    char *input = path_join(dir, "in.jsonl");
    file_write_str(input, "{\"handle\":\"H\",\"ldhName\":\"x.example\",\"id\":42}\n{\"handle\":\"G\"}\n");
    instance src = open_source(input, "key_field: id", NULL);
    rdapsync_batch *b = poll_all(&src, 8, 10);
    cr_assert_str_eq(rec(b, 0)->key, "42");
    cr_assert_str_eq(rec(b, 1)->key, "G", "falls back when the member is missing");
    batch_free(b);
    instance_close(&src);
    free(input);
}

static char *lines_of(int first, int count)
{
    char *text = calloc(1, 64 * (size_t)count + 1);
    for (int i = first; i < first + count; i++)
        sprintf(text + strlen(text), "{\"handle\":\"H%d\"}\n", i);
    return text;
}

Test(source_file, resumes_after_the_checkpoint_offset_with_true_line_numbers)
{
    char *input = path_join(dir, "in.jsonl"), *state = path_join(dir, "state");
    char *text = lines_of(1, 5);
    file_write_str(input, text);

    /* First run: two records handed over and committed. */
    instance src = open_source(input, NULL, state);
    rdapsync_batch *b = batch_new(2);
    cr_assert_eq(src.plugin->desc->poll(src.state, b, 0, src.err, sizeof(src.err)), RDAPSYNC_OK);
    cr_assert_eq(batch_count(b), 2);
    rdapsync_position committed = rec(b, 1)->position;
    committed.stream = input;
    cr_assert_eq(src.plugin->desc->commit(src.state, &committed, 1, src.err, sizeof(src.err)), RDAPSYNC_OK);
    batch_free(b);
    instance_close(&src);

    /* Overwrite the bytes already consumed with newlines: a reader that went
     * back over them would count these lines. */
    char *changed = strdup(text);
    memset(changed, '\n', (size_t)committed.offset - 1);
    file_write_str(input, changed);

    instance again;
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\"}", input);
    instance_load(&again, RDAPSYNC_KIND_SOURCE, "file", yaml, state, 0, 1);
    host()->checkpoint_override(again.ctx, input, -1, committed.offset); /* what checkpoint_get answers */
    cr_assert_eq(instance_open(&again), RDAPSYNC_OK, "%s", again.err);
    b = poll_all(&again, 16, 10);
    cr_assert_eq(batch_count(b), 3, "records 3..5 only");
    cr_assert_str_eq(rec(b, 0)->key, "H3");
    cr_assert_eq(rec(b, 0)->version.sequence, 3, "line numbers continue from the commit");
    cr_assert_eq(rec(b, 2)->position.offset, (int64_t)strlen(text));
    batch_free(b);
    instance_close(&again);
    free(changed);
    free(text);
    free(state);
    free(input);
}

Test(source_file, resumes_with_counted_line_numbers_when_there_is_no_line_mark)
{
    char *input = path_join(dir, "in.jsonl");
    char *text = lines_of(1, 4);
    file_write_str(input, text);
    int64_t after2 = (int64_t)(strchr(strchr(text, '\n') + 1, '\n') + 1 - text);

    instance src;
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\"}", input);
    instance_load(&src, RDAPSYNC_KIND_SOURCE, "file", yaml, NULL, 0, 1);
    host()->checkpoint_override(src.ctx, input, -1, after2);
    cr_assert_eq(instance_open(&src), RDAPSYNC_OK, "%s", src.err);
    rdapsync_batch *b = poll_all(&src, 16, 10);
    cr_assert_eq(batch_count(b), 2);
    cr_assert_str_eq(rec(b, 0)->key, "H3");
    cr_assert_eq(rec(b, 0)->version.sequence, 3);
    batch_free(b);
    instance_close(&src);
    free(text);
    free(input);
}

/* Asserts that record i is bad, its reason starts with "<input>:<line>: "
 * and contains `why`, and its raw bytes are `raw` (when given). */
#define RAW(literal) literal, sizeof(literal) - 1

static void expect_bad(rdapsync_batch *b, size_t i, const char *input, int line, const char *why, const char *raw,
                       size_t raw_len)
{
    const rdapsync_record *r = rec(b, i);
    char prefix[1024];
    snprintf(prefix, sizeof(prefix), "%s:%d: ", input, line);
    cr_assert_not_null(r->error, "record %zu should be bad", i);
    cr_assert_null(r->value);
    cr_assert_eq(strncmp(r->error, prefix, strlen(prefix)), 0, "reason '%s' should start with '%s'", r->error,
                 prefix);
    cr_assert(strstr(r->error, why), "reason '%s' should mention '%s'", r->error, why);
    if (raw) {
        cr_assert_eq(r->raw_len, raw_len, "raw length of record %zu", i);
        cr_assert_eq(memcmp(r->raw, raw, raw_len), 0, "raw bytes of record %zu", i);
    }
}

Test(source_file, an_envelope_vv_member_becomes_the_records_sorted_version_vector)
{
    char *input = path_join(dir, "vv.jsonl");
    file_write_str(input, "{\"key\":\"k1\",\"op\":\"upsert\",\"ts_ms\":1,\"origin\":\"us-east\",\"seq\":3,"
                          "\"vv\":{\"us-east\":3,\"eu-central\":5},\"value\":{\"handle\":\"k1\"}}\n"
                          "{\"key\":\"k2\",\"op\":\"delete\",\"ts_ms\":2,\"vv\":{\"eu-central\":6}}\n"
                          "{\"key\":\"k3\",\"op\":\"upsert\",\"ts_ms\":3,\"value\":{}}\n");
    instance src = open_source(input, NULL, NULL);
    rdapsync_batch *b = poll_all(&src, 16, 10);

    cr_assert_eq(batch_count(b), 3);
    cr_assert_eq(rec(b, 0)->vv.count, 2);
    cr_assert_str_eq(rec(b, 0)->vv.entries[0].region, "eu-central");
    cr_assert_eq(rec(b, 0)->vv.entries[0].counter, 5);
    cr_assert_str_eq(rec(b, 0)->vv.entries[1].region, "us-east");
    cr_assert_eq(rec(b, 0)->vv.entries[1].counter, 3);
    cr_assert_eq(rec(b, 1)->op, RDAPSYNC_OP_DELETE, "a delete carries its vector too");
    cr_assert_eq(rec(b, 1)->vv.count, 1);
    cr_assert_eq(rec(b, 2)->vv.count, 0, "no \"vv\": no vector, as before");
    batch_free(b);
    instance_close(&src);
    free(input);
}

Test(source_file, a_bad_vv_member_is_a_bad_record_naming_file_line_and_column)
{
    char *input = path_join(dir, "badvv.jsonl");
    const char *l2 = "{\"key\":\"k2\",\"op\":\"upsert\", \"vv\":{\"us\":0},\"value\":{}}";
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"key\":\"k1\",\"op\":\"upsert\",\"vv\":{\"us\":1},\"value\":{}}\n%s\n"
             "{\"key\":\"k3\",\"op\":\"upsert\",\"vv\":[1],\"value\":{}}\n"
             "{\"key\":\"k4\",\"op\":\"upsert\",\"vv\":{\"\":2},\"value\":{}}\n"
             "{\"key\":\"k5\",\"op\":\"upsert\",\"vv\":{\"a\":1.5},\"value\":{}}\n",
             l2);
    file_write_str(input, text);
    instance src = open_source(input, NULL, NULL);
    rdapsync_batch *b = poll_all(&src, 16, 10);

    cr_assert_eq(batch_count(b), 5, "every line is a record, good or bad");
    cr_assert_null(rec(b, 0)->error);
    char place[1024];
    snprintf(place, sizeof(place), "%s:2:28: envelope \"vv\": ", input);
    cr_assert_not_null(rec(b, 1)->error);
    cr_assert_eq(strncmp(rec(b, 1)->error, place, strlen(place)), 0, "reason '%s' starts with '%s'",
                 rec(b, 1)->error, place);
    cr_assert(strstr(rec(b, 1)->error, "\"us\" is not an integer >= 1"), "%s", rec(b, 1)->error);
    cr_assert_null(rec(b, 1)->value, "a bad record has no document");
    cr_assert_eq(rec(b, 1)->raw_len, strlen(l2), "the raw line goes to the dead letter");
    cr_assert_eq(rec(b, 1)->vv.count, 0);
    const char *whys[] = { "JSON object", "empty", "integer >= 1" };
    for (int i = 0; i < 3; i++) {
        snprintf(place, sizeof(place), "%s:%d:27: envelope \"vv\": ", input, i + 3);
        cr_assert_eq(strncmp(rec(b, i + 2)->error, place, strlen(place)), 0, "'%s' starts with '%s'",
                     rec(b, i + 2)->error, place);
        cr_assert(strstr(rec(b, i + 2)->error, whys[i]), "%s", rec(b, i + 2)->error);
    }
    batch_free(b);
    instance_close(&src);
    free(input);
}

Test(source_file, malformed_lines_become_bad_records_with_file_line_reasons_and_raw_bytes)
{
    char *input = path_join(dir, "mixed.jsonl");
    char deep[1400] = "";
    for (int i = 0; i < 600; i++)
        strcat(deep, "[");
    char text[8192] = "";
    strcat(text, "{\"handle\":\"ok1\"}\n");                 /* 1 */
    strcat(text, "{\"handle\": \"unterminated}\n");         /* 2 */
    strcat(text, "{\"handle\":\"bad\xff\xfe utf8\"}\n");    /* 3 */
    strcat(text, "[1,2,3]\n");                              /* 4 */
    strcat(text, "{\"a\":{\"b\":");                         /* 5: too deep */
    strcat(text, deep);
    strcat(text, "\n");
    strcat(text, "{\"handle\":\"dup\",\"handle\":\"dup2\"}\n"); /* 6 */
    strcat(text, "{\"handle\":\"ok2\"}\n");                 /* 7 */
    size_t len = strlen(text);
    memcpy(text + len, "{\"handle\":\"n\0l\"}\n", 17);      /* 8: a raw NUL byte */
    len += 17;
    file_write(input, text, len, false);

    instance src = open_source(input, NULL, NULL);
    rdapsync_batch *b = poll_all(&src, 16, 10);
    cr_assert_eq(batch_count(b), 8, "every line is a record, good or bad");
    cr_assert_str_eq(rec(b, 0)->key, "ok1");
    expect_bad(b, 1, input, 2, "line 1 column", RAW("{\"handle\": \"unterminated}"));
    expect_bad(b, 2, input, 3, "invalid bytes in UTF8", RAW("{\"handle\":\"bad\xff\xfe utf8\"}"));
    expect_bad(b, 3, input, 4, "top-level value is an array", RAW("[1,2,3]"));
    expect_bad(b, 4, input, 5, "depth", NULL, 0);
    expect_bad(b, 5, input, 6, "duplicate", NULL, 0);
    cr_assert_str_eq(rec(b, 6)->key, "ok2", "reading goes on after bad lines");
    expect_bad(b, 7, input, 8, "line 1 column", RAW("{\"handle\":\"n\0l\"}"));
    cr_assert_eq(rec(b, 7)->position.offset, (int64_t)len, "bad records advance the position too");
    batch_free(b);
    instance_close(&src);
    free(input);
}

Test(source_file, a_line_longer_than_max_record_size_is_a_bad_record_with_a_prefix)
{
    char *input = path_join(dir, "long.jsonl");
    size_t big = 3 * 1024 * 1024;
    char *text = malloc(big + 64);
    char *p = text;
    p += sprintf(p, "{\"handle\":\"a\"}\n{\"x\":\"");
    memset(p, 'y', big);
    p += big;
    p += sprintf(p, "\"}\n{\"handle\":\"b\"}\n");
    file_write(input, text, (size_t)(p - text), false);

    instance src = open_source(input, "max_record_size: 1M", NULL);
    rdapsync_batch *b = poll_all(&src, 8, 10);
    cr_assert_eq(batch_count(b), 3);
    expect_bad(b, 1, input, 2, "longer than max_record_size 1048576", NULL, 0);
    cr_assert_eq(rec(b, 1)->raw_len, (size_t)4096, "a prefix is kept, not the whole line");
    cr_assert_eq(memcmp(rec(b, 1)->raw, "{\"x\":\"yyy", 9), 0);
    cr_assert_str_eq(rec(b, 2)->key, "b", "the next line is read whole");
    cr_assert_eq(rec(b, 2)->version.sequence, 3);
    batch_free(b);
    instance_close(&src);
    free(text);
    free(input);
}

Test(source_file, a_too_long_line_that_fits_in_the_read_buffer_is_bad_too)
{
    char *input = path_join(dir, "long.jsonl");
    char text[4096];
    int n = sprintf(text, "{\"x\":\"");
    memset(text + n, 'z', 2000);
    strcpy(text + n + 2000, "\"}\n{\"handle\":\"after\"}\n");
    file_write_str(input, text);
    instance src = open_source(input, "max_record_size: 1K", NULL);
    rdapsync_batch *b = poll_all(&src, 8, 10);
    cr_assert_eq(batch_count(b), 2);
    expect_bad(b, 0, input, 1, "line of 2008 bytes is longer than max_record_size 1024", NULL, 0);
    cr_assert_str_eq(rec(b, 1)->key, "after");
    batch_free(b);
    instance_close(&src);
    free(input);
}

/* Each hostile fixture is one document: bad with FILE:LINE, or a record. */
Test(source_file, hostile_fixture_documents_become_bad_records_or_records_never_a_crash)
{
    char fixtures[4096];
    snprintf(fixtures, sizeof(fixtures), "%s/tests/fixtures/rdap/bad", RDAPSYNC_SOURCE_DIR);
    static const struct {
        const char *name;
        bool bad;
        const char *why;
    } expected[] = {
        /* sorted by name: the directory order */
        {"deep-nesting-200.json", false, NULL},
        {"deep-nesting-5000.json", true, "depth"},
        {"duplicate-keys.json", true, "duplicate"},
        {"empty.json", true, "line"},
        {"huge-number.json", true, "line"},
        {"huge-string.json", false, NULL},
        {"invalid-utf8.json", true, "invalid bytes in UTF8"},
        {"jcard-missing-props.json", false, NULL},
        {"nul-in-string.json", true, "line"},
        {"top-level-array.json", true, "top-level value is an array"},
        {"truncated.json", true, "line"},
        {"vcard-not-array.json", false, NULL},
        {"wrong-types.json", false, NULL},
    };
    size_t n = sizeof(expected) / sizeof(expected[0]);

    instance src = open_source(fixtures, NULL, NULL);
    rdapsync_batch *b = poll_all(&src, 64, 40);
    cr_assert_eq(batch_count(b), n, "one record per *.json file, README.md ignored");
    for (size_t i = 0; i < n; i++) {
        const rdapsync_record *r = rec(b, i);
        char stream[4200];
        snprintf(stream, sizeof(stream), "%s/%s", fixtures, expected[i].name);
        cr_assert_str_eq(r->position.stream, stream, "record %zu comes from %s", i, expected[i].name);
        if (!expected[i].bad) {
            cr_assert_null(r->error, "%s: unexpected error %s", expected[i].name, r->error);
            cr_assert_not_null(r->value);
            continue;
        }
        cr_assert_not_null(r->error, "%s should be bad", expected[i].name);
        cr_assert_eq(strncmp(r->error, stream, strlen(stream)), 0, "reason '%s' names the file", r->error);
        cr_assert_eq(r->error[strlen(stream)], ':', "reason '%s' has FILE:LINE", r->error);
        cr_assert(strstr(r->error, expected[i].why), "%s: reason '%s' lacks '%s'", expected[i].name, r->error,
                  expected[i].why);
    }
    size_t truncated_len;
    char truncated_path[4200];
    snprintf(truncated_path, sizeof(truncated_path), "%s/truncated.json", fixtures);
    char *truncated = file_read(truncated_path, &truncated_len);
    cr_assert_eq(rec(b, 10)->raw_len, truncated_len, "the raw document is kept whole");
    cr_assert_eq(memcmp(rec(b, 10)->raw, truncated, truncated_len), 0);
    free(truncated);
    batch_free(b);
    instance_close(&src);
}

Test(source_file, a_pretty_printed_json_file_is_one_record)
{
    char fixture[4096];
    snprintf(fixture, sizeof(fixture), "%s/tests/fixtures/rdap/domain-full.json", RDAPSYNC_SOURCE_DIR);
    instance src = open_source(fixture, NULL, NULL);
    rdapsync_batch *b = poll_all(&src, 8, 10);
    cr_assert_eq(batch_count(b), 1);
    cr_assert_null(rec(b, 0)->error, "%s", rec(b, 0)->error);
    cr_assert_not_null(member(rec(b, 0), "ldhName"));
    cr_assert_gt(rec(b, 0)->version.event_time_ms, 0, "its last changed event");
    batch_free(b);
    instance_close(&src);
}

Test(source_file, a_directory_is_read_in_name_order_json_and_jsonl_only)
{
    char *in = path_join(dir, "in");
    cr_assert_eq(mkdir(in, 0755), 0);
    char *b_file = path_join(in, "b.jsonl"), *a_file = path_join(in, "a.jsonl"), *c_file = path_join(in, "c.json");
    char *hidden = path_join(in, ".hidden.jsonl"), *txt = path_join(in, "notes.txt");
    file_write_str(b_file, "{\"handle\":\"b1\"}\n{\"handle\":\"b2\"}\n");
    file_write_str(a_file, "{\"handle\":\"a1\"}\n");
    file_write_str(c_file, "{\n  \"handle\": \"c1\",\n  \"ldhName\": \"c.example\"\n}\n");
    file_write_str(hidden, "{\"handle\":\"hidden\"}\n");
    file_write_str(txt, "{\"handle\":\"txt\"}\n");

    instance src = open_source(in, NULL, NULL);
    rdapsync_batch *b = poll_all(&src, 16, 10);
    cr_assert_eq(batch_count(b), 4);
    cr_assert_str_eq(rec(b, 0)->key, "a1");
    cr_assert_str_eq(rec(b, 1)->key, "b1");
    cr_assert_str_eq(rec(b, 2)->key, "b2");
    cr_assert_str_eq(rec(b, 3)->key, "c1", "a *.json file is one pretty-printed document");
    cr_assert_str_eq(rec(b, 0)->position.stream, a_file, "stream = configured path + file name");
    cr_assert_str_eq(rec(b, 3)->position.stream, c_file);
    batch_free(b);
    instance_close(&src);
    free(b_file);
    free(a_file);
    free(c_file);
    free(hidden);
    free(txt);
    free(in);
}

Test(source_file, files_committed_earlier_are_not_read_again)
{
    char *in = path_join(dir, "in");
    cr_assert_eq(mkdir(in, 0755), 0);
    char *a = path_join(in, "a.json"), *b_file = path_join(in, "b.jsonl");
    file_write_str(a, "{\"handle\":\"a\"}");
    file_write_str(b_file, "{\"handle\":\"b1\"}\n{\"handle\":\"b2\"}\n");

    instance src;
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\"}", in);
    instance_load(&src, RDAPSYNC_KIND_SOURCE, "file", yaml, NULL, 0, 1);
    host()->checkpoint_override(src.ctx, a, -1, 14);
    host()->checkpoint_override(src.ctx, b_file, -1, 16);
    cr_assert_eq(instance_open(&src), RDAPSYNC_OK, "%s", src.err);
    rdapsync_batch *b = poll_all(&src, 8, 10);
    cr_assert_eq(batch_count(b), 1);
    cr_assert_str_eq(rec(b, 0)->key, "b2");
    batch_free(b);
    instance_close(&src);
    free(a);
    free(b_file);
    free(in);
}

Test(source_file, a_bounded_run_answers_end_again_after_the_end)
{
    char *input = path_join(dir, "in.jsonl");
    file_write_str(input, "{\"handle\":\"x\"}\n");
    instance src = open_source(input, NULL, NULL);
    rdapsync_batch *b = poll_all(&src, 4, 5);
    cr_assert_eq(batch_count(b), 1);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(src.plugin->desc->poll(src.state, b, 0, src.err, sizeof(src.err)), RDAPSYNC_END);
    cr_assert_eq(batch_count(b), 1);
    batch_free(b);
    instance_close(&src);
    free(input);
}

Test(source_file, a_missing_path_without_follow_fails_open_saying_there_is_nothing_to_read)
{
    char *input = path_join(dir, "nope.jsonl");
    instance src;
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\"}", input);
    instance_load(&src, RDAPSYNC_KIND_SOURCE, "file", yaml, NULL, 0, 1);
    cr_assert_eq(instance_open(&src), RDAPSYNC_ERROR, "a missing input is permanent: ERROR, not RETRY");
    char expected[1024];
    snprintf(expected, sizeof(expected), "path %s does not exist", input);
    cr_assert(strstr(src.err, expected), "error '%s' names the path", src.err);
    cr_assert(strstr(src.err, "follow: true"), "error '%s' says how to wait for it instead", src.err);
    instance_close(&src);
    free(input);
}

/* Polls (timeout 100 ms each) until `want` records arrived or 100 polls. */
static void poll_until(instance *src, rdapsync_batch *b, size_t want)
{
    for (int i = 0; i < 100 && batch_count(b) < want; i++)
        cr_assert_eq(src->plugin->desc->poll(src->state, b, 100, src->err, sizeof(src->err)), RDAPSYNC_OK,
                     "following never ends: %s", src->err);
}

Test(source_file, follow_mode_sees_appended_lines_and_new_files)
{
    char *in = path_join(dir, "in");
    cr_assert_eq(mkdir(in, 0755), 0);
    char *a = path_join(in, "a.jsonl"), *c = path_join(in, "c.jsonl");
    file_write_str(a, "{\"handle\":\"a1\"}\n");

    instance src = open_source(in, "follow: true", NULL);
    rdapsync_batch *b = batch_new(16);
    poll_until(&src, b, 1);
    cr_assert_eq(batch_count(b), 1);

    /* Half a line is not a record yet... */
    file_write(a, "{\"handle\":", 10, true);
    cr_assert_eq(src.plugin->desc->poll(src.state, b, 50, src.err, sizeof(src.err)), RDAPSYNC_OK);
    cr_assert_eq(batch_count(b), 1, "a line without its newline waits");
    /* ...until its newline comes. */
    file_write(a, "\"a2\"}\n", 6, true);
    poll_until(&src, b, 2);
    cr_assert_eq(batch_count(b), 2);
    cr_assert_str_eq(rec(b, 1)->key, "a2");
    cr_assert_eq(rec(b, 1)->version.sequence, 2);

    file_write_str(c, "{\"handle\":\"c1\"}\n");
    poll_until(&src, b, 3);
    cr_assert_eq(batch_count(b), 3, "a new file is picked up");
    cr_assert_str_eq(rec(b, 2)->key, "c1");
    cr_assert_str_eq(rec(b, 2)->position.stream, c);

    file_write(a, "{\"handle\":\"a3\"}\n", 16, true);
    poll_until(&src, b, 4);
    cr_assert_str_eq(rec(b, 3)->key, "a3", "an earlier file that grows again is read again");
    batch_free(b);
    instance_close(&src);
    free(a);
    free(c);
    free(in);
}

/* An empty directory used to reach qsort(NULL, 0, ...), undefined
 * behaviour that UBSan reports (the sanitizer build runs this test). */
Test(source_file, following_an_empty_directory_polls_nothing_then_reads_a_new_file)
{
    char *in = path_join(dir, "in");
    cr_assert_eq(mkdir(in, 0755), 0);
    instance src = open_source(in, "follow: true", NULL);
    rdapsync_batch *b = batch_new(16);
    cr_assert_eq(src.plugin->desc->poll(src.state, b, 50, src.err, sizeof(src.err)), RDAPSYNC_OK, "%s", src.err);
    cr_assert_eq(batch_count(b), 0, "an empty directory yields nothing");

    char *a = path_join(in, "a.jsonl");
    file_write_str(a, "{\"handle\":\"a1\"}\n");
    poll_until(&src, b, 1);
    cr_assert_str_eq(rec(b, 0)->key, "a1", "a file created later is read");
    batch_free(b);
    instance_close(&src);
    free(a);
    free(in);
}

Test(source_file, several_tasks_share_a_directory_without_overlap)
{
    char *in = path_join(dir, "in");
    cr_assert_eq(mkdir(in, 0755), 0);
    for (int i = 0; i < 12; i++) {
        char name[32], line[64];
        snprintf(name, sizeof(name), "f%02d.jsonl", i);
        snprintf(line, sizeof(line), "{\"handle\":\"h%d\"}\n", i);
        char *p = path_join(in, name);
        file_write_str(p, line);
        free(p);
    }
    size_t total = 0;
    int seen[12] = {0};
    for (int task = 0; task < 3; task++) {
        instance src;
        char yaml[1024];
        snprintf(yaml, sizeof(yaml), "{path: \"%s\"}", in);
        instance_load(&src, RDAPSYNC_KIND_SOURCE, "file", yaml, NULL, task, 3);
        cr_assert_eq(instance_open(&src), RDAPSYNC_OK, "%s", src.err);
        rdapsync_batch *b = poll_all(&src, 16, 20);
        for (size_t i = 0; i < batch_count(b); i++)
            seen[atoi(rec(b, i)->key + 1)]++;
        total += batch_count(b);
        batch_free(b);
        instance_close(&src);
    }
    cr_assert_eq(total, 12);
    for (int i = 0; i < 12; i++)
        cr_assert_eq(seen[i], 1, "file %d read by exactly one task", i);
    free(in);
}

/* Log lines of the plugins go to this file while a test runs. */
static FILE *capture_log(void)
{
    FILE *log = tmpfile();
    cr_assert_not_null(log);
    log_set_stream(log);
    return log;
}

static int count_in_log(FILE *log, const char *text)
{
    char line[4096];
    int count = 0;
    fflush(log);
    rewind(log);
    while (fgets(line, sizeof(line), log))
        count += strstr(line, text) != NULL;
    return count;
}

Test(source_file, following_a_missing_file_waits_for_it_and_reads_it_once_created)
{
    FILE *log = capture_log();
    char *input = path_join(dir, "later.jsonl");
    instance src = open_source(input, "follow: true", NULL);
    rdapsync_batch *b = batch_new(16);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(src.plugin->desc->poll(src.state, b, 10, src.err, sizeof(src.err)), RDAPSYNC_OK, "%s",
                     src.err);
    cr_assert_eq(batch_count(b), 0);
    cr_assert_eq(count_in_log(log, "waiting for it to appear"), 1, "said once, not at every poll");

    file_write_str(input, "{\"handle\":\"l1\"}\n{\"handle\":\"l2\"}\n");
    poll_until(&src, b, 2);
    cr_assert_eq(batch_count(b), 2);
    cr_assert_str_eq(rec(b, 0)->key, "l1");
    cr_assert_str_eq(rec(b, 1)->position.stream, input);
    cr_assert_eq(count_in_log(log, "appeared"), 1);
    file_write(input, "{\"handle\":\"l3\"}\n", 16, true);
    poll_until(&src, b, 3);
    cr_assert_str_eq(rec(b, 2)->key, "l3", "then it is followed like any file");
    batch_free(b);
    instance_close(&src);
    log_set_stream(NULL);
    fclose(log);
    free(input);
}

Test(source_file, following_a_missing_directory_waits_for_it_and_reads_its_files)
{
    char *in = path_join(dir, "incoming");
    char *a = path_join(in, "a.jsonl");
    instance src = open_source(in, "follow: true", NULL);
    rdapsync_batch *b = batch_new(16);
    cr_assert_eq(src.plugin->desc->poll(src.state, b, 10, src.err, sizeof(src.err)), RDAPSYNC_OK, "%s", src.err);
    cr_assert_eq(batch_count(b), 0);
    cr_assert_eq(mkdir(in, 0755), 0);
    file_write_str(a, "{\"handle\":\"a1\"}\n");
    poll_until(&src, b, 1);
    cr_assert_str_eq(rec(b, 0)->key, "a1");
    cr_assert_str_eq(rec(b, 0)->position.stream, a, "streams are named as for a directory");
    batch_free(b);
    instance_close(&src);
    free(a);
    free(in);
}
