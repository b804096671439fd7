/* The `file` sink through the real loader: output format, dead-letter
 * fields, durability bookkeeping, crash recovery, and the discard sink. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch.h"
#include "batch_api.h"
#include "context_internal.h"
#include "harness.h"

static char *dir;

static void setup(void) { dir = tmpdir_new(); }
static void teardown(void) { tmpdir_remove(dir); }

TestSuite(sink_file, .init = setup, .fini = teardown);

static instance open_sink(const char *path, const char *extra)
{
    instance sink;
    char yaml[4096];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\"%s%s}", path, extra ? ", " : "", extra ? extra : "");
    instance_load(&sink, RDAPSYNC_KIND_SINK, "file", yaml, NULL, 0, 1);
    cr_assert_eq(instance_open(&sink), RDAPSYNC_OK, "open: %s", sink.err);
    return sink;
}

static void write_flush(instance *sink, rdapsync_batch *b)
{
    cr_assert_eq(sink->plugin->desc->write(sink->state, b, sink->err, sizeof(sink->err)), RDAPSYNC_OK, "write: %s",
                 sink->err);
    cr_assert_eq(sink->plugin->desc->flush(sink->state, sink->err, sizeof(sink->err)), RDAPSYNC_OK, "flush: %s",
                 sink->err);
}

/* Line `index` (0-based) of the file, parsed. */
static json_t *line_json(const char *path, size_t index)
{
    char *text = file_read(path, NULL), *line = text;
    for (size_t i = 0; i < index; i++) {
        line = strchr(line, '\n');
        cr_assert_not_null(line, "%s has fewer than %zu lines", path, index + 1);
        line++;
    }
    char *end = strchr(line, '\n');
    cr_assert_not_null(end, "line %zu of %s has no newline", index + 1, path);
    json_error_t error;
    json_t *v = json_loadb(line, (size_t)(end - line), 0, &error);
    cr_assert_not_null(v, "line %zu of %s is not JSON: %s", index + 1, path, error.text);
    free(text);
    return v;
}

static const char *jstr(json_t *obj, const char *path_a, const char *path_b)
{
    json_t *v = json_object_get(obj, path_a);
    if (path_b)
        v = json_object_get(v, path_b);
    return json_string_value(v);
}

static json_int_t jint(json_t *obj, const char *a, const char *b)
{
    return json_integer_value(json_object_get(json_object_get(obj, a), b));
}

Test(sink_file, envelope_lines_hold_key_op_version_position_headers_and_value)
{
    const rdapsync_host *h = host();
    char *out = path_join(dir, "sub/dir/out.jsonl");
    instance sink = open_sink(out, NULL);
    rdapsync_batch *b = batch_new(8);

    rdapsync_record *r = record_upsert(b, "k\"1", "{\"ldhName\":\"a.example\",\"n\":[1,2.5,null,true]}", "s.jsonl", 10);
    h->record_set_version(b, r, 1234, "eu", 7);
    h->record_add_header(b, r, "h", "v", 1);
    h->record_add_header(b, r, "m", "a", 1);
    h->record_add_header(b, r, "m", "b", 1);
    r = record_upsert(b, "k2", NULL, "s.jsonl", 20);
    h->record_set_op(b, r, RDAPSYNC_OP_DELETE);
    write_flush(&sink, b);

    cr_assert_eq(file_count_lines(out), 2, "the directory was created and two lines written");
    json_t *l1 = line_json(out, 0), *l2 = line_json(out, 1);
    cr_assert_str_eq(jstr(l1, "key", NULL), "k\"1");
    cr_assert_str_eq(jstr(l1, "op", NULL), "upsert");
    cr_assert_eq(jint(l1, "version", "ts_ms"), 1234);
    cr_assert_str_eq(jstr(l1, "version", "origin"), "eu");
    cr_assert_eq(jint(l1, "version", "seq"), 7);
    cr_assert_str_eq(jstr(l1, "position", "stream"), "s.jsonl");
    cr_assert_eq(jint(l1, "position", "partition"), -1);
    cr_assert_eq(jint(l1, "position", "offset"), 10);
    cr_assert_str_eq(jstr(l1, "headers", "h"), "v");
    cr_assert_eq(json_array_size(json_object_get(json_object_get(l1, "headers"), "m")), 2, "repeated names: array");
    json_t *expected = json_loads("{\"ldhName\":\"a.example\",\"n\":[1,2.5,null,true]}", 0, NULL);
    cr_assert(json_equal(json_object_get(l1, "value"), expected), "the value as it came");
    cr_assert_null(json_object_get(l1, "error"));
    cr_assert_str_eq(jstr(l2, "op", NULL), "delete");
    cr_assert(json_is_null(json_object_get(l2, "value")));
    cr_assert(json_is_null(json_object_get(json_object_get(l2, "version"), "origin")));
    json_decref(expected);
    json_decref(l1);
    json_decref(l2);
    batch_free(b);
    instance_close(&sink);
    free(out);
}

Test(sink_file, bad_records_keep_their_reason_and_raw_bytes_as_text_or_base64)
{
    const rdapsync_host *h = host();
    char *out = path_join(dir, "dlq.jsonl");
    instance sink = open_sink(out, "format: value");
    rdapsync_batch *b = batch_new(8);
    rdapsync_record *r = record_upsert(b, "f:2", NULL, "f", 5);
    h->record_set_bad(b, r, "{\"a\":\n\t1", 8, "f:2: line 1 column 5: end of input");
    r = record_upsert(b, "f:3", NULL, "f", 9);
    h->record_set_bad(b, r, "\xff\xfe{}", 4, "f:3: invalid UTF-8");
    write_flush(&sink, b);

    json_t *l1 = line_json(out, 0), *l2 = line_json(out, 1);
    cr_assert_str_eq(jstr(l1, "error", NULL), "f:2: line 1 column 5: end of input");
    cr_assert_str_eq(jstr(l1, "raw", NULL), "{\"a\":\n\t1");
    cr_assert_str_eq(jstr(l1, "raw_encoding", NULL), "utf8");
    cr_assert_str_eq(jstr(l1, "key", NULL), "f:2", "bad records keep the envelope even in value format");
    cr_assert_str_eq(jstr(l2, "raw", NULL), "//57fQ==");
    cr_assert_str_eq(jstr(l2, "raw_encoding", NULL), "base64");
    json_decref(l1);
    json_decref(l2);
    batch_free(b);
    instance_close(&sink);
    free(out);
}

Test(sink_file, value_format_writes_documents_and_delete_markers)
{
    const rdapsync_host *h = host();
    char *out = path_join(dir, "values.jsonl");
    instance sink = open_sink(out, "format: value");
    rdapsync_batch *b = batch_new(8);
    record_upsert(b, "a", "{\"handle\":\"a\",\"x\":\"\\u00e9\\n\"}", "s", 1);
    rdapsync_record *r = record_upsert(b, "b", NULL, "s", 2);
    h->record_set_op(b, r, RDAPSYNC_OP_DELETE);
    write_flush(&sink, b);
    char *text = file_read(out, NULL);
    cr_assert_str_eq(text, "{\"handle\":\"a\",\"x\":\"\xc3\xa9\\n\"}\n{\"key\":\"b\",\"op\":\"delete\"}\n");
    free(text);
    batch_free(b);
    instance_close(&sink);
    free(out);
}

static void add_numbered(rdapsync_batch *b, int first, int count, size_t pad)
{
    char *value = malloc(pad + 64);
    for (int i = first; i < first + count; i++) {
        char key[32];
        snprintf(key, sizeof(key), "k%d", i);
        int n = sprintf(value, "{\"handle\":\"%s\",\"pad\":\"", key);
        memset(value + n, 'p', pad);
        strcpy(value + n + pad, "\"}");
        record_upsert(b, key, value, "in.jsonl", (int64_t)(i + 1) * 100);
    }
    free(value);
}

/*
 * A child process flushes 3 records, writes 40 more that reach the file
 * unflushed (> 1 MiB: the sink writes them out before any flush), tears a
 * line by hand and is killed. The next open cuts the file back to the
 * flushed length and points the source just after the last flushed record.
 */
Test(sink_file, after_a_crash_the_file_is_cut_to_its_flushed_length_and_the_source_resumes_after_it)
{
    char *out = path_join(dir, "out.jsonl");
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        instance sink = open_sink(out, NULL);
        rdapsync_batch *b = batch_new(64);
        add_numbered(b, 0, 3, 10);
        write_flush(&sink, b);
        batch_reset(b);
        add_numbered(b, 3, 40, 40 * 1024);
        sink.plugin->desc->write(sink.state, b, sink.err, sizeof(sink.err));
        file_write(out, "{\"key\":\"torn", 12, true);
        raise(SIGKILL);
        _exit(3);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child dies as in a crash");
    struct stat st;
    cr_assert_eq(stat(out, &st), 0);
    cr_assert_gt(st.st_size, 1024 * 1024, "unflushed records had reached the file");

    instance sink = open_sink(out, NULL);
    cr_assert_eq(file_count_lines(out), 3, "only the flushed records are left");
    size_t len;
    char *text = file_read(out, &len);
    cr_assert_eq(text[len - 1], '\n', "no torn line");
    free(text);
    int64_t offset = 0;
    cr_assert(host()->checkpoint_get(sink.ctx, "in.jsonl", -1, &offset), "the sink overrides the checkpoint");
    cr_assert_eq(offset, 300, "the source resumes after the last flushed record");

    /* The host replays from its older checkpoint: records already in the file are skipped. */
    rdapsync_batch *b = batch_new(64);
    add_numbered(b, 1, 5, 10);
    write_flush(&sink, b);
    cr_assert_eq(file_count_lines(out), 6, "k1, k2 skipped; k3..k5 appended");
    json_t *l3 = line_json(out, 3);
    cr_assert_str_eq(jstr(l3, "key", NULL), "k3");
    json_decref(l3);
    batch_free(b);
    instance_close(&sink);
    free(out);
}

Test(sink_file, flush_records_length_and_positions_in_the_sidecar)
{
    char *out = path_join(dir, "out.jsonl"), *side = path_join(dir, "out.jsonl.flushed");
    instance sink = open_sink(out, NULL);
    rdapsync_batch *b = batch_new(8);
    add_numbered(b, 0, 2, 1);
    record_upsert(b, "other", "{}", "other.jsonl", 7);
    write_flush(&sink, b);
    struct stat st;
    cr_assert_eq(stat(out, &st), 0);
    json_t *v = json_load_file(side, 0, NULL);
    cr_assert_not_null(v);
    cr_assert_eq(json_integer_value(json_object_get(v, "length")), st.st_size);
    json_t *positions = json_object_get(v, "positions");
    cr_assert_eq(json_array_size(positions), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(positions, 0), "stream")), "in.jsonl");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(positions, 0), "offset")), 200);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(positions, 1), "offset")), 7);
    json_decref(v);
    batch_free(b);
    instance_close(&sink);
    free(side);
    free(out);
}

Test(sink_file, written_but_unflushed_records_are_gone_after_close)
{
    char *out = path_join(dir, "out.jsonl");
    instance sink = open_sink(out, NULL);
    rdapsync_batch *b = batch_new(64);
    add_numbered(b, 0, 2, 1);
    write_flush(&sink, b);
    batch_reset(b);
    add_numbered(b, 2, 40, 40 * 1024);
    cr_assert_eq(sink.plugin->desc->write(sink.state, b, sink.err, sizeof(sink.err)), RDAPSYNC_OK);
    instance_close(&sink);
    cr_assert_eq(file_count_lines(out), 2);
    batch_free(b);
    free(out);
}

Test(sink_file, a_file_without_sidecar_loses_only_a_torn_last_line)
{
    char *out = path_join(dir, "out.jsonl");
    file_write_str(out, "{\"a\":1}\n{\"b\":2}\n{\"c\":");
    instance sink = open_sink(out, NULL);
    char *text = file_read(out, NULL);
    cr_assert_str_eq(text, "{\"a\":1}\n{\"b\":2}\n");
    free(text);
    int64_t offset;
    cr_assert_not(host()->checkpoint_get(sink.ctx, "in.jsonl", -1, &offset), "nothing to override");
    instance_close(&sink);
    free(out);
}

Test(sink_file, a_second_writer_of_the_same_file_is_refused)
{
    char *out = path_join(dir, "out.jsonl");
    instance first = open_sink(out, NULL);
    instance second;
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\"}", out);
    instance_load(&second, RDAPSYNC_KIND_SINK, "file", yaml, NULL, 0, 1);
    cr_assert_eq(instance_open(&second), RDAPSYNC_ERROR);
    cr_assert(strstr(second.err, "in use"), "%s", second.err);
    instance_close(&second);
    instance_close(&first);
    free(out);
}

Test(sink_file, several_tasks_need_a_task_placeholder_and_get_one_file_each)
{
    char *out = path_join(dir, "out.jsonl"), *templ = path_join(dir, "out-{task}.jsonl");
    char *out1 = path_join(dir, "out-1.jsonl");
    instance sink;
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\"}", out);
    instance_load(&sink, RDAPSYNC_KIND_SINK, "file", yaml, NULL, 0, 2);
    cr_assert_eq(instance_open(&sink), RDAPSYNC_ERROR);
    cr_assert(strstr(sink.err, "{task}"), "%s", sink.err);
    instance_close(&sink);

    snprintf(yaml, sizeof(yaml), "{path: \"%s\"}", templ);
    instance_load(&sink, RDAPSYNC_KIND_SINK, "file", yaml, NULL, 1, 2);
    cr_assert_eq(instance_open(&sink), RDAPSYNC_OK, "%s", sink.err);
    struct stat st;
    cr_assert_eq(stat(out1, &st), 0, "task 1 writes out-1.jsonl");
    instance_close(&sink);
    free(out);
    free(out1);
    free(templ);
}

/* What the sink writes, the source reads back as the same records. */
Test(sink_file, envelope_output_read_back_by_the_file_source_gives_the_same_records)
{
    const rdapsync_host *h = host();
    char *out = path_join(dir, "out.jsonl");
    instance sink = open_sink(out, NULL);
    rdapsync_batch *b = batch_new(8);
    rdapsync_record *r = record_upsert(b, "a", "{\"handle\":\"a\",\"n\":1}", "s", 1);
    h->record_set_version(b, r, 99, "eu", 3);
    h->record_add_header(b, r, "h", "v", 1);
    r = record_upsert(b, "b", NULL, "s", 2);
    h->record_set_op(b, r, RDAPSYNC_OP_DELETE);
    h->record_set_version(b, r, 100, NULL, 4);
    write_flush(&sink, b);
    instance_close(&sink);

    instance src;
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\"}", out);
    instance_load(&src, RDAPSYNC_KIND_SOURCE, "file", yaml, NULL, 0, 1);
    cr_assert_eq(instance_open(&src), RDAPSYNC_OK, "%s", src.err);
    rdapsync_batch *back = poll_all(&src, 8, 10);
    cr_assert_eq(batch_count(back), 2);
    for (size_t i = 0; i < 2; i++) {
        const rdapsync_record *x = batch_get(b, i), *y = batch_get(back, i);
        cr_assert_str_eq(x->key, y->key);
        cr_assert_eq(x->op, y->op);
        cr_assert_eq(x->version.event_time_ms, y->version.event_time_ms);
        cr_assert_eq(x->version.sequence, y->version.sequence);
        cr_assert(x->value ? h->json->equal(x->value, y->value) : y->value == NULL);
    }
    cr_assert_str_eq(batch_get(back, 0)->version.origin, "eu");
    cr_assert_str_eq(h->record_header(batch_get(back, 0), "h")->value, "v");
    batch_free(back);
    batch_free(b);
    instance_close(&src);
    free(out);
}

Test(sink_file, version_vectors_are_written_in_the_envelope_and_read_back_by_the_file_source)
{
    const rdapsync_host *h = host();
    char *out = path_join(dir, "vv.jsonl");
    instance sink = open_sink(out, NULL);
    rdapsync_batch *b = batch_new(8);
    rdapsync_vv_entry vv[] = { { "us-east", 3 }, { "eu-central", 5 } };
    rdapsync_record *r = record_upsert(b, "a", "{\"handle\":\"a\"}", "s", 1);
    h->record_set_version(b, r, 99, "us-east", 3);
    cr_assert_eq(h->record_set_vv(b, r, vv, 2), 0);
    r = record_upsert(b, "b", "{\"handle\":\"b\"}", "s", 2); /* no vector: no member */
    write_flush(&sink, b);
    instance_close(&sink);

    char *text = file_read(out, NULL);
    cr_assert(strstr(text, "\"seq\":3},\"vv\":{\"eu-central\":5,\"us-east\":3},\"position\""),
              "vv after the version, keys sorted: %s", text);
    cr_assert_eq(strstr(strchr(text, '\n') + 1, "\"vv\""), NULL, "a record without a vector has no \"vv\"");
    free(text);

    instance src;
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\"}", out);
    instance_load(&src, RDAPSYNC_KIND_SOURCE, "file", yaml, NULL, 0, 1);
    cr_assert_eq(instance_open(&src), RDAPSYNC_OK, "%s", src.err);
    rdapsync_batch *back = poll_all(&src, 8, 10);
    cr_assert_eq(batch_count(back), 2);
    const rdapsync_record *y = batch_get(back, 0);
    cr_assert_eq(y->vv.count, 2);
    cr_assert_str_eq(y->vv.entries[0].region, "eu-central");
    cr_assert_eq(y->vv.entries[0].counter, 5);
    cr_assert_str_eq(y->vv.entries[1].region, "us-east");
    cr_assert_eq(y->vv.entries[1].counter, 3);
    cr_assert_eq(batch_get(back, 1)->vv.count, 0);
    batch_free(back);
    batch_free(b);
    instance_close(&src);
    free(out);
}

Test(sink_file, discard_sink_takes_every_batch_and_keeps_nothing)
{
    instance sink;
    instance_load(&sink, RDAPSYNC_KIND_SINK, "discard", "{}", NULL, 0, 1);
    cr_assert_eq(instance_open(&sink), RDAPSYNC_OK, "%s", sink.err);
    rdapsync_batch *b = batch_new(8);
    add_numbered(b, 0, 5, 1);
    write_flush(&sink, b);
    write_flush(&sink, b);
    cr_assert_eq(context_reject_count(sink.ctx), 0);
    cr_assert_eq(metric_value("discard", "records_discarded"), 10.0, "every record counted");
    batch_free(b);
    instance_close(&sink);
}
