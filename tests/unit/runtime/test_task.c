/*
 * The task loop against scripted in-process plugins: batch bounds,
 * backpressure, delivery order (commit only after flush), RETRY handling,
 * dead letters and the tolerance rule.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "dead_letter.h"
#include "fakes.h"
#include "log.h"
#include "metrics.h"
#include "task.h"

static char *state_dir;
static fake_store sink_store, dlq_store;
static FILE *log_sink;

static void setup(void)
{
    memset(&fake, 0, sizeof(fake));
    state_dir = fake_state_dir();
    cr_assert_not_null(state_dir);
    /* Task logs go to a scratch file: the test output stays readable. */
    log_sink = tmpfile();
    log_set_stream(log_sink);
}

static void teardown(void)
{
    log_set_stream(NULL);
    if (log_sink)
        fclose(log_sink);
    task_test_set_clock(NULL);
    fake_store_free(&sink_store);
    fake_store_free(&dlq_store);
    fake_remove_tree(state_dir);
    free(state_dir);
}

TestSuite(task, .init = setup, .fini = teardown, .timeout = 60);

typedef struct run_result {
    task_result result;
    char error[1024];
    task_stats_snapshot snap;
} run_result;

static run_result run_pipeline(pipeline_config *p)
{
    run_result out;
    task_stats *stats = task_stats_new(p->name, 0);
    struct task *t = task_new(p, 0, state_dir, stats);

    cr_assert_not_null(t);
    out.result = task_run(t);
    snprintf(out.error, sizeof(out.error), "%s", task_error(t));
    cr_assert_eq(task_stats_snapshot_take(stats, &out.snap), 0);
    task_free(t);
    task_stats_free(stats);
    return out;
}

static int64_t saved_offset(const char *pipeline)
{
    char *dir = checkpoint_task_dir(state_dir, pipeline, 0);
    checkpoint_map *map = checkpoint_map_new();
    char err[512];
    int64_t offset = -1;

    cr_assert_eq(checkpoint_load(dir, map, err, sizeof(err)), 0, "%s", err);
    if (!checkpoint_map_get(map, "s", 0, &offset))
        offset = -1;
    checkpoint_map_free(map);
    free(dir);
    return offset;
}

static const char *header_value(const char *headers, const char *name, char *out, size_t size)
{
    char pattern[128];
    snprintf(pattern, sizeof(pattern), "%s=", name);
    const char *p = strstr(headers, pattern);
    if (!p)
        return NULL;
    p += strlen(pattern);
    size_t n = strcspn(p, "\n");
    snprintf(out, size, "%.*s", (int)n, p);
    return out;
}

Test(task, bounded_source_drains_checkpoints_and_finishes)
{
    fake_source_cfg src = {.total = 25};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("drain", &src, NULL, &snk, NULL);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.durable, 25);
    cr_assert_str_eq(sink_store.keys[0], "k0");
    cr_assert_str_eq(sink_store.keys[24], "k24");
    cr_assert_eq(fake.committed_offset, 25);
    cr_assert_eq(saved_offset("drain"), 25);
    cr_assert_eq(r.snap.counts.records_in, 25);
    cr_assert_eq(r.snap.counts.records_out, 25);
    cr_assert_eq(r.snap.batches, 3);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, batch_is_bounded_by_max_records)
{
    fake_source_cfg src = {.total = 25};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("count", &src, NULL, &snk, NULL);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.write_calls, 3);
    cr_assert_eq(sink_store.batch_sizes[0], 10);
    cr_assert_eq(sink_store.batch_sizes[1], 10);
    cr_assert_eq(sink_store.batch_sizes[2], 5);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, batch_is_bounded_by_max_bytes)
{
    /* Keys of 100 bytes and no value: 10 records reach 1000 bytes. */
    fake_source_cfg src = {.total = 30, .key_padding = 100, .bad = {0, 1, 2, 3, 4, 5, 6, 7}, .bad_count = 0};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("bytes", &src, NULL, &snk, NULL);
    p->batch_max_records = 1000;
    p->batch_max_bytes = 1000;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.durable, 30);
    cr_assert_gt(sink_store.write_calls, 1, "a 1000-byte limit must split 30 records of 100+ bytes");
    for (int i = 0; i < sink_store.write_calls; i++)
        cr_assert_leq(sink_store.batch_sizes[i], 10, "batch %d holds %d records", i, sink_store.batch_sizes[i]);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

static int64_t fake_now;
static int64_t stepping_clock(void) { return fake_now += 50; }

Test(task, batch_is_bounded_by_max_wait)
{
    /* One record per poll and a clock that moves 50 ms per reading: a
     * 200 ms max_wait closes every batch after a few polls, far below
     * max_records. */
    fake_source_cfg src = {.total = 40, .per_poll = 1};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("time", &src, NULL, &snk, NULL);
    p->batch_max_records = 1000;
    p->batch_max_wait_ms = 200;
    task_test_set_clock(stepping_clock);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.durable, 40);
    cr_assert_geq(sink_store.write_calls, 10);
    for (int i = 0; i < sink_store.write_calls; i++)
        cr_assert_leq(sink_store.batch_sizes[i], 4, "batch %d holds %d records", i, sink_store.batch_sizes[i]);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, source_is_never_polled_more_than_two_batches_ahead)
{
    /* 3 records per poll into batches of 10: at any poll the source has at
     * most two batches of uncommitted records out (one in the sink's hands,
     * one being filled), however slow the sink. The next batch is filled
     * before the one in the sink's hands is committed, so 19 is reached. */
    fake_source_cfg src = {.total = 200, .per_poll = 3};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("backpressure", &src, NULL, &snk, NULL);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(fake.handed_over, 200);
    cr_assert_leq(fake.max_outstanding, 20, "outstanding records reached %d", fake.max_outstanding);
    cr_assert_geq(fake.max_outstanding, 19, "the test must fill batches (saw %d)", fake.max_outstanding);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, without_overlap_the_source_is_never_polled_more_than_one_batch_ahead)
{
    /* batch.overlap: false settles each batch before the next poll: half
     * the records in memory of the overlapped loop. */
    fake_source_cfg src = {.total = 200, .per_poll = 3};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("serial", &src, NULL, &snk, NULL);
    p->batch_overlap = BATCH_OVERLAP_OFF;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(fake.handed_over, 200);
    cr_assert_eq(fake.committed_offset, 200);
    cr_assert_leq(fake.max_outstanding, 12, "outstanding records reached %d", fake.max_outstanding);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, auto_overlap_stays_serial_while_the_flush_costs_nothing)
{
    /* The fake sink flushes instantly: overlap would only cost memory. */
    fake_source_cfg src = {.total = 200, .per_poll = 3};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("auto-fast", &src, NULL, &snk, NULL);
    p->batch_overlap = BATCH_OVERLAP_AUTO;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(fake.committed_offset, 200);
    cr_assert_leq(fake.max_outstanding, 12, "outstanding records reached %d", fake.max_outstanding);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, auto_overlap_engages_when_the_flush_takes_time)
{
    /* Each flush sleeps 50 ms while filling a batch takes microseconds:
     * after the first (serial) batch the task polls ahead. */
    fake_source_cfg src = {.total = 60, .per_poll = 3};
    fake_sink_cfg snk = {.store = &sink_store, .flush_sleep_ms = 50};
    pipeline_config *p = fake_pipeline("auto-slow", &src, NULL, &snk, NULL);
    p->batch_overlap = BATCH_OVERLAP_AUTO;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(fake.committed_offset, 60);
    cr_assert_geq(fake.max_outstanding, 19, "the source was never polled a batch ahead (saw %d)", fake.max_outstanding);
    cr_assert_leq(fake.max_outstanding, 20, "outstanding records reached %d", fake.max_outstanding);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, sink_flush_overlaps_the_poll_of_the_next_batch)
{
    /* The sink's first two flushes wait until the source is polled for the
     * records after their batch. A task that polls only once the flush has
     * returned never gets there: the flush gives up and the task fails. */
    fake_source_cfg src = {.total = 30};
    fake_sink_cfg snk = {.store = &sink_store, .flush_waits_for_poll = 2};
    pipeline_config *p = fake_pipeline("overlap", &src, NULL, &snk, NULL);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.flush_calls, 3);
    cr_assert_eq(sink_store.durable, 30);
    cr_assert_eq(fake.committed_offset, 30);
    cr_assert_eq(saved_offset("overlap"), 30);
    cr_assert_eq(r.snap.counts.records_out, 30);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

/* Every commit came after the flush of every record before it, and they
 * came in order. */
static void assert_commits_follow_flushes(void)
{
    for (int i = 0; i < fake.commits && i < FAKE_MAX_EVENTS; i++) {
        cr_assert_leq(fake.commit_log[i], fake.durable_at_commit[i],
                      "commit %d of offset %lld with only %d records durable", i, (long long)fake.commit_log[i],
                      fake.durable_at_commit[i]);
        if (i > 0)
            cr_assert_gt(fake.commit_log[i], fake.commit_log[i - 1], "commit %d goes backwards", i);
    }
}

Test(task, a_flush_error_commits_nothing_from_its_batch_on)
{
    /* The second flush fails while the third batch is already polled:
     * only the first batch is committed, the third is never written. */
    fake_source_cfg src = {.total = 50};
    fake_sink_cfg snk = {.store = &sink_store, .flush_error_at = 2};
    pipeline_config *p = fake_pipeline("flusherror", &src, NULL, &snk, NULL);
    fake.commit_watch = &sink_store;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FAILED);
    cr_assert(strstr(r.error, "disk full") != NULL, "%s", r.error);
    cr_assert_eq(sink_store.durable, 10);
    cr_assert_eq(sink_store.write_calls, 2, "the batch polled during the failed flush is not written");
    cr_assert_eq(fake.commits, 1);
    cr_assert_eq(fake.committed_offset, 10);
    cr_assert_eq(saved_offset("flusherror"), 10);
    cr_assert_eq(r.snap.counts.records_out, 10);
    assert_commits_follow_flushes();
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, a_flush_retry_keeps_commits_in_order_and_after_the_flush)
{
    /* Flushes 3 and 4 (the third batch, written again after each RETRY)
     * answer RETRY while the fourth batch is being polled. */
    fake_source_cfg src = {.total = 50};
    fake_sink_cfg snk = {.store = &sink_store, .flush_retries = 2, .flush_retries_from = 3};
    pipeline_config *p = fake_pipeline("flushretry", &src, NULL, &snk, NULL);
    fake.commit_watch = &sink_store;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.write_calls, 7);
    cr_assert_eq(sink_store.flush_calls, 7);
    cr_assert_eq(sink_store.durable, 50, "no duplicates, nothing lost");
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        cr_assert_str_eq(sink_store.keys[i], key, "stored in order");
    }
    cr_assert_eq(fake.commits, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(fake.commit_log[i], 10 * (i + 1));
    assert_commits_follow_flushes();
    cr_assert_eq(saved_offset("flushretry"), 50);
    cr_assert_eq(r.snap.retries, 2);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, sinks_run_one_callback_at_a_time_and_sources_stay_on_the_task_thread)
{
    /* Dead letters from every stage and retries everywhere, in many
     * batches: no sink callback starts while another of the same sink
     * runs, each sink's write and flush stay on one thread, and the
     * source's callbacks all run on the thread that opened it. */
    fake_source_cfg src = {.total = 300, .per_poll = 4, .bad = {3, 77, 150}, .bad_count = 3, .commit_retries = 2};
    fake_transform_cfg tx = {.error_key = "k42", .drop_key = "k43", .retries = 1};
    fake_sink_cfg snk = {.store = &sink_store, .reject_key = "k99", .write_retries = 1, .flush_retries = 2,
                         .flush_retries_from = 5};
    fake_sink_cfg dlq = {.store = &dlq_store};
    pipeline_config *p = fake_pipeline("threads", &src, &tx, &snk, &dlq);
    fake.commit_watch = &sink_store;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(atomic_load(&fake.sink_overlaps), 0);
    cr_assert_eq(atomic_load(&fake.sink_thread_changes), 0);
    cr_assert_eq(atomic_load(&fake.source_thread_changes), 0);
    cr_assert_eq(sink_store.durable, 300 - 3 - 2 - 1);
    cr_assert_eq(dlq_store.durable, 5);
    cr_assert_eq(fake.committed_offset, 300);
    cr_assert_eq(r.snap.counts.records_out, 294);
    cr_assert_eq(r.snap.counts.dead_lettered, 5);
    cr_assert_eq(r.snap.counts.dropped, 1);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, nothing_is_committed_when_flush_fails)
{
    fake_source_cfg src = {.total = 5};
    fake_sink_cfg snk = {.store = &sink_store, .flush_error = true};
    pipeline_config *p = fake_pipeline("noflush", &src, NULL, &snk, NULL);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FAILED);
    cr_assert(strstr(r.error, "disk full") != NULL, "%s", r.error);
    cr_assert_eq(sink_store.write_calls, 1);
    cr_assert_eq(fake.commits, 0);
    cr_assert_eq(saved_offset("noflush"), -1, "no checkpoint may exist");
    cr_assert_eq(r.snap.counts.records_out, 0);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, flush_retry_redoes_write_then_flush)
{
    fake_source_cfg src = {.total = 5};
    fake_sink_cfg snk = {.store = &sink_store, .flush_retries = 2};
    pipeline_config *p = fake_pipeline("retry", &src, NULL, &snk, NULL);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.write_calls, 3, "write is called again after each flush RETRY");
    cr_assert_eq(sink_store.flush_calls, 3);
    cr_assert_eq(sink_store.batch_sizes[2], 5, "the same batch is written again");
    cr_assert_eq(sink_store.durable, 5, "no duplicates, nothing lost");
    cr_assert_eq(fake.commits, 1);
    cr_assert_eq(fake.committed_offset, 5);
    cr_assert_eq(r.snap.retries, 2);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, write_retry_is_retried_with_the_same_batch)
{
    fake_source_cfg src = {.total = 5, .poll_retries = 2, .commit_retries = 1};
    fake_transform_cfg tx = {.retries = 2};
    fake_sink_cfg snk = {.store = &sink_store, .write_retries = 3};
    pipeline_config *p = fake_pipeline("wretry", &src, &tx, &snk, NULL);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.write_calls, 4);
    cr_assert_eq(sink_store.flush_calls, 1);
    cr_assert_eq(sink_store.durable, 5);
    cr_assert_eq(fake.committed_offset, 5);
    cr_assert_eq(r.snap.retries, 2 + 2 + 3 + 1, "poll, transform, write and commit retries all count");
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, dead_letters_carry_reason_headers_and_counts_are_exact)
{
    /* 12 records: k2 bad at the source, k5 refused by the transform, k7
     * dropped by it, k9 rejected by the sink. */
    fake_source_cfg src = {.total = 12, .bad = {2}, .bad_count = 1};
    fake_transform_cfg tx = {.error_key = "k5", .drop_key = "k7"};
    fake_sink_cfg snk = {.store = &sink_store, .reject_key = "k9"};
    fake_sink_cfg dlq = {.store = &dlq_store};
    pipeline_config *p = fake_pipeline("dlq", &src, &tx, &snk, &dlq);
    char v[256];

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.durable, 8);
    cr_assert_eq(dlq_store.durable, 3);

    cr_assert_str_eq(dlq_store.keys[0], "k2");
    cr_assert_str_eq(dlq_store.errors[0], "fake.jsonl:3: not JSON");
    cr_assert_str_eq(dlq_store.raw[0], "bad-raw-2", "raw bytes are kept");
    const char *h = dlq_store.headers[0];
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_REASON, v, sizeof(v)), "fake.jsonl:3: not JSON");
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_PIPELINE, v, sizeof(v)), "dlq");
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_PLUGIN, v, sizeof(v)), "fake");
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_STAGE, v, sizeof(v)), "source");
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_STREAM, v, sizeof(v)), "s");
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_PARTITION, v, sizeof(v)), "0");
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_OFFSET, v, sizeof(v)), "3");

    cr_assert_str_eq(dlq_store.keys[1], "k5");
    cr_assert_str_eq(dlq_store.errors[1], "$.n: not allowed");
    h = dlq_store.headers[1];
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_STAGE, v, sizeof(v)), "transform");
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_PLUGIN, v, sizeof(v)), "faketx");
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_OFFSET, v, sizeof(v)), "6");

    cr_assert_str_eq(dlq_store.keys[2], "k9");
    cr_assert_str_eq(dlq_store.errors[2], "value too long for column");
    h = dlq_store.headers[2];
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_STAGE, v, sizeof(v)), "sink");
    cr_assert_str_eq(header_value(h, DEAD_LETTER_HEADER_PLUGIN, v, sizeof(v)), "fakesink");
    cr_assert_str_eq(header_value(h, "seen", v, sizeof(v)), "yes", "the copy keeps the record's own headers");

    cr_assert_eq(r.snap.counts.records_in, 12);
    cr_assert_eq(r.snap.counts.records_out, 8);
    cr_assert_eq(r.snap.counts.dead_lettered, 3);
    cr_assert_eq(r.snap.counts.dropped, 1);
    cr_assert_eq(r.snap.counts.errors[STAGE_SOURCE], 1);
    cr_assert_eq(r.snap.counts.errors[STAGE_TRANSFORM], 1);
    cr_assert_eq(r.snap.counts.errors[STAGE_SINK], 1);
    cr_assert_eq(fake.committed_offset, 12, "dead-lettered and dropped records still advance the position");
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, sink_rejects_are_not_duplicated_when_flush_retries)
{
    fake_source_cfg src = {.total = 6};
    fake_sink_cfg snk = {.store = &sink_store, .reject_key = "k1", .flush_retries = 2};
    fake_sink_cfg dlq = {.store = &dlq_store};
    pipeline_config *p = fake_pipeline("rejretry", &src, NULL, &snk, &dlq);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.write_calls, 3);
    cr_assert_eq(dlq_store.durable, 1);
    cr_assert_eq(r.snap.counts.dead_lettered, 1);
    cr_assert_eq(r.snap.counts.errors[STAGE_SINK], 1);
    cr_assert_eq(r.snap.counts.records_out, 5);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, dead_letters_are_durable_before_the_sink_flushes)
{
    /* A sink that stores positions with its data treats the whole batch as
     * done once it flushed: its rejects must already be in the dead-letter
     * sink by then, or a crash in between loses them. */
    fake_source_cfg src = {.total = 6};
    fake_sink_cfg snk = {.store = &sink_store, .reject_key = "k2"};
    fake_sink_cfg dlq = {.store = &dlq_store};
    pipeline_config *p = fake_pipeline("dlqfirst", &src, NULL, &snk, &dlq);
    sink_store.watch = &dlq_store;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(dlq_store.durable, 1);
    cr_assert_eq(sink_store.watch_durable_at_flush, 1, "the reject was durable when the sink flushed");
    cr_assert_eq(sink_store.durable, 5);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, tolerance_none_stops_at_the_bad_record)
{
    fake_source_cfg src = {.total = 10};
    fake_transform_cfg tx = {.error_key = "k5"};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("strict", &src, &tx, &snk, NULL);
    p->tolerance = TOLERANCE_NONE;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FAILED);
    cr_assert(strstr(r.error, "key k5") != NULL, "the error names the key: %s", r.error);
    cr_assert(strstr(r.error, "offset 6") != NULL, "the error names the position: %s", r.error);
    cr_assert(strstr(r.error, "not allowed") != NULL, "the error gives the reason: %s", r.error);
    cr_assert_eq(sink_store.durable, 5, "the records before the bad one are delivered");
    cr_assert_str_eq(sink_store.keys[4], "k4");
    cr_assert_eq(fake.committed_offset, 5, "nothing from the bad record on is committed");
    cr_assert_eq(saved_offset("strict"), 5);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, tolerance_none_fails_on_a_bad_source_record)
{
    fake_source_cfg src = {.total = 4, .bad = {0}, .bad_count = 1};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("strictsrc", &src, NULL, &snk, NULL);
    p->tolerance = TOLERANCE_NONE;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FAILED);
    cr_assert(strstr(r.error, "key k0") && strstr(r.error, "not JSON"), "%s", r.error);
    cr_assert_eq(sink_store.durable, 0);
    cr_assert_eq(fake.commits, 0);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, tolerance_none_fails_on_a_sink_reject_without_committing)
{
    fake_source_cfg src = {.total = 4};
    fake_sink_cfg snk = {.store = &sink_store, .reject_key = "k2"};
    pipeline_config *p = fake_pipeline("strictsink", &src, NULL, &snk, NULL);
    p->tolerance = TOLERANCE_NONE;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FAILED);
    cr_assert(strstr(r.error, "key k2") && strstr(r.error, "value too long"), "%s", r.error);
    cr_assert_eq(sink_store.flush_calls, 0);
    cr_assert_eq(fake.commits, 0);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, plugins_open_dead_letter_sink_transforms_source_and_close_in_reverse)
{
    fake_source_cfg src = {.total = 1};
    fake_transform_cfg tx = {0};
    fake_sink_cfg snk = {.store = &sink_store};
    fake_sink_cfg dlq = {.store = &dlq_store};
    pipeline_config *p = fake_pipeline("order", &src, &tx, &snk, &dlq);
    const char *expected[] = {"open dlq",     "open sink",       "open transform", "open source",
                              "close source", "close transform", "close sink",     "close dlq"};

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(fake.event_count, 8);
    for (int i = 0; i < 8; i++)
        cr_assert_str_eq(fake.events[i], expected[i]);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, restart_resumes_from_the_checkpoint)
{
    fake_source_cfg src = {.total = 7};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("resume", &src, NULL, &snk, NULL);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    task_stats_snapshot_free(&r.snap);
    cr_assert_eq(fake.start_offset, -1);

    src.total = 12;
    r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(fake.start_offset, 7, "the source starts after what was committed");
    cr_assert_eq(sink_store.durable, 12);
    cr_assert_str_eq(sink_store.keys[7], "k7");
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, sink_checkpoint_override_wins_over_the_file)
{
    fake_source_cfg src = {.total = 7};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("override", &src, NULL, &snk, NULL);

    run_result r = run_pipeline(p);
    task_stats_snapshot_free(&r.snap);
    cr_assert_eq(saved_offset("override"), 7);

    snk.override_stream = "s";
    snk.override_offset = 3;
    src.total = 9;
    r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(fake.start_offset, 3, "the sink's stored position is what the source resumes from");
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

typedef struct stopper {
    struct task *t;
} stopper;

static void *run_thread(void *arg)
{
    static task_result result;
    result = task_run(((stopper *)arg)->t);
    return &result;
}

Test(task, stop_request_ends_a_retry_backoff_and_commits_nothing_undelivered)
{
    /* The sink answers RETRY forever and the backoff is an hour: only the
     * stop request can end the wait. */
    fake_source_cfg src = {.total = 3};
    fake_sink_cfg snk = {.store = &sink_store, .always_retry = true};
    pipeline_config *p = fake_pipeline("stopretry", &src, NULL, &snk, NULL);
    p->retry_backoff_initial_ms = 3600 * 1000;
    p->retry_backoff_max_ms = 3600 * 1000;
    task_stats *stats = task_stats_new(p->name, 0);
    stopper s = {task_new(p, 0, state_dir, stats)};
    pthread_t thread;
    void *ret;

    pthread_create(&thread, NULL, run_thread, &s);
    while (task_stats_state(stats) != TASK_RETRYING)
        sched_yield();
    task_request_stop(s.t);
    pthread_join(thread, &ret);
    cr_assert_eq(*(task_result *)ret, TASK_RESULT_STOPPED);
    cr_assert_eq(fake.commits, 0);
    cr_assert_eq(sink_store.durable, 0);
    task_free(s.t);
    task_stats_free(stats);
    fake_pipeline_free(p);
}

Test(task, stop_request_drains_an_endless_source)
{
    fake_source_cfg src = {.total = -1, .per_poll = 1};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("endless", &src, NULL, &snk, NULL);
    p->batch_max_wait_ms = 1;
    task_stats *stats = task_stats_new(p->name, 0);
    stopper s = {task_new(p, 0, state_dir, stats)};
    pthread_t thread;
    void *ret;

    pthread_create(&thread, NULL, run_thread, &s);
    while (fake.commits < 3)
        sched_yield();
    task_request_stop(s.t);
    pthread_join(thread, &ret);
    cr_assert_eq(*(task_result *)ret, TASK_RESULT_STOPPED);
    cr_assert_eq(sink_store.durable, fake.handed_over, "everything handed over was delivered");
    cr_assert_eq(fake.committed_offset, fake.handed_over, "and committed");
    cr_assert_eq(saved_offset("endless"), fake.handed_over);
    task_free(s.t);
    task_stats_free(stats);
    fake_pipeline_free(p);
}

Test(task, dead_letters_without_a_dead_letter_sink_are_logged_and_counted)
{
    fake_source_cfg src = {.total = 3, .bad = {1}, .bad_count = 1};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("nodlq", &src, NULL, &snk, NULL);
    char line[4096];
    bool found = false;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(r.snap.counts.dead_lettered, 1);
    cr_assert_eq(sink_store.durable, 2);
    rewind(log_sink);
    while (fgets(line, sizeof(line), log_sink))
        if (strstr(line, "level=error") && strstr(line, "dead letter") && strstr(line, "key k1"))
            found = true;
    cr_assert(found, "the dead letter is logged at error level");
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

/* ---- the transform stage: serial, on its own thread, split between both ---- */

typedef struct stage_mode {
    transform_thread thread;
    int split;       /* stages on the task thread (2: the compaction too); -1: measured */
    int hi;          /* on a share of the records, stages [0, hi) there instead */
    double share;
    bool concurrent; /* both fake transforms set RDAPSYNC_TRANSFORM_CONCURRENT */
} stage_mode;

/* Serial; threaded with the whole chain on the transform thread, with the
 * first transform on the task thread, with both there, with the compaction
 * too; and with concurrent transforms, the first one shared between both
 * threads, the second one, and whole records. */
static stage_mode stage_modes[] = {
    {TRANSFORM_THREAD_OFF, -1, -1, 0, false}, {TRANSFORM_THREAD_ON, 0, -1, 0, false},
    {TRANSFORM_THREAD_ON, 1, -1, 0, false},   {TRANSFORM_THREAD_ON, 2, -1, 0, false},
    {TRANSFORM_THREAD_ON, 3, -1, 0, false},   {TRANSFORM_THREAD_ON, 0, 1, 0.5, true},
    {TRANSFORM_THREAD_ON, 1, 2, 0.34, true},  {TRANSFORM_THREAD_ON, 0, 3, 0.5, true}};

ParameterizedTestParameters(task, transform_stage)
{
    return cr_make_param_array(stage_mode, stage_modes, sizeof(stage_modes) / sizeof(stage_modes[0]));
}

static pipeline_config *two_transforms(const char *name, const stage_mode *mode, fake_source_cfg *src,
                                       fake_transform_cfg *first, fake_transform_cfg *second, fake_sink_cfg *snk,
                                       fake_sink_cfg *dlq)
{
    first->concurrent = second->concurrent = mode->concurrent;
    pipeline_config *p = fake_pipeline(name, src, first, snk, dlq);
    fake_pipeline_add_transform(p, second);
    p->transform_thread = mode->thread;
    task_test_set_transform_split(mode->split);
    task_test_set_transform_share(mode->hi, mode->share);
    return p;
}

ParameterizedTest(stage_mode *mode, task, transform_stage)
{
    /* 30 records in polls of 4, batches of 10: k2 bad at the source; the
     * first transform refuses k5 and drops k7, the second refuses k8 and
     * drops k3; both answer RETRY once. Whatever thread runs which
     * transform, the outcome is the same, in order, and exactly counted. */
    fake_source_cfg src = {.total = 30, .per_poll = 4, .bad = {2}, .bad_count = 1};
    fake_transform_cfg first = {.error_key = "k5", .drop_key = "k7", .retries = 1};
    fake_transform_cfg second = {.error_key = "k8", .drop_key = "k3", .retries = 1};
    fake_sink_cfg snk = {.store = &sink_store};
    fake_sink_cfg dlq = {.store = &dlq_store};
    pipeline_config *p = two_transforms("stage", mode, &src, &first, &second, &snk, &dlq);
    char v[256];

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.durable, 30 - 1 - 2 - 2);
    for (int i = 0, k = 0; i < 30; i++) {
        if (i == 2 || i == 3 || i == 5 || i == 7 || i == 8)
            continue;
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        cr_assert_str_eq(sink_store.keys[k], key, "records reach the sink in source order");
        cr_assert_str_eq(header_value(sink_store.headers[k], "seen", v, sizeof(v)), "yes");
        k++;
    }
    cr_assert_eq(dlq_store.durable, 3);
    cr_assert_str_eq(dlq_store.keys[0], "k2");
    cr_assert_str_eq(header_value(dlq_store.headers[0], DEAD_LETTER_HEADER_STAGE, v, sizeof(v)), "source");
    cr_assert_str_eq(dlq_store.keys[1], "k5");
    cr_assert_str_eq(dlq_store.errors[1], "$.n: not allowed");
    cr_assert_str_eq(header_value(dlq_store.headers[1], DEAD_LETTER_HEADER_STAGE, v, sizeof(v)), "transform");
    cr_assert_str_eq(header_value(dlq_store.headers[1], DEAD_LETTER_HEADER_PLUGIN, v, sizeof(v)), "faketx");
    cr_assert_str_eq(header_value(dlq_store.headers[1], DEAD_LETTER_HEADER_OFFSET, v, sizeof(v)), "6");
    cr_assert_str_eq(dlq_store.keys[2], "k8");
    cr_assert_str_eq(dlq_store.errors[2], "$.n: not allowed");
    cr_assert_eq(r.snap.counts.records_in, 30);
    cr_assert_eq(r.snap.counts.records_out, 25);
    cr_assert_eq(r.snap.counts.dead_lettered, 3);
    cr_assert_eq(r.snap.counts.dropped, 2);
    cr_assert_eq(r.snap.counts.errors[STAGE_SOURCE], 1);
    cr_assert_eq(r.snap.counts.errors[STAGE_TRANSFORM], 2);
    cr_assert_eq(r.snap.retries, 2, "each transform's RETRY counts once");
    cr_assert_eq(fake.committed_offset, 30);
    if (mode->concurrent) {
        cr_assert_eq(atomic_load(&fake.transform_threads), 2, "the shared transform ran on both threads");
    } else {
        cr_assert_eq(atomic_load(&fake.transform_overlaps), 0, "a transform's callbacks never run concurrently");
        cr_assert_eq(atomic_load(&fake.transform_threads), 1, "a pinned transform runs on one thread");
    }
    cr_assert_eq(atomic_load(&fake.source_thread_changes), 0, "the source stays on the task thread");
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

/* Whether the task said it started its transform thread. */
static bool started_transform_thread(void)
{
    char line[4096];
    bool started = false, threaded = false;

    rewind(log_sink);
    while (fgets(line, sizeof(line), log_sink))
        if (strstr(line, "task started")) {
            started = true;
            threaded = strstr(line, "(transform thread)") != NULL;
        }
    cr_assert(started, "the task logged its start");
    return threaded;
}

/* Runs 20 records through two fake transforms (light or not) with the
 * given batch.transform_thread; all of them reach the sink. */
static bool ran_threaded(transform_thread thread, bool first_light, bool second_light)
{
    fake_source_cfg src = {.total = 20, .per_poll = 4};
    fake_transform_cfg first = {.light = first_light}, second = {.light = second_light};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("light", &src, &first, &snk, NULL);
    fake_pipeline_add_transform(p, &second);
    p->transform_thread = thread;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.durable, 20);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
    return started_transform_thread();
}

Test(task, transform_thread_auto_keeps_light_transforms_on_the_task_thread)
{
    cr_assert_not(ran_threaded(TRANSFORM_THREAD_AUTO, true, true), "only light transforms: no transform thread");
}

Test(task, transform_thread_auto_starts_the_thread_when_one_transform_is_not_light)
{
    bool threaded = ran_threaded(TRANSFORM_THREAD_AUTO, true, false);
    if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
        cr_assert(threaded, "a transform that is not light, a CPU to spare: the thread starts");
    else
        cr_assert_not(threaded, "one CPU: no transform thread");
}

Test(task, transform_thread_true_starts_the_thread_for_light_transforms_too)
{
    cr_assert(ran_threaded(TRANSFORM_THREAD_ON, true, true), "transform_thread: true is obeyed");
}

ParameterizedTestParameters(task, transform_stage_tolerance_none)
{
    return cr_make_param_array(stage_mode, stage_modes, sizeof(stage_modes) / sizeof(stage_modes[0]));
}

ParameterizedTest(stage_mode *mode, task, transform_stage_tolerance_none)
{
    /* The second transform refuses k15 under tolerance none: the records
     * before it are delivered and committed, nothing from it on, in every
     * arrangement of the stage (the source may have polled further). */
    fake_source_cfg src = {.total = 40, .per_poll = 3};
    fake_transform_cfg first = {0};
    fake_transform_cfg second = {.error_key = "k15"};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = two_transforms("stage-strict", mode, &src, &first, &second, &snk, NULL);
    p->tolerance = TOLERANCE_NONE;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FAILED);
    cr_assert(strstr(r.error, "key k15") != NULL, "the error names the key: %s", r.error);
    cr_assert(strstr(r.error, "faketx") != NULL, "the error names the transform: %s", r.error);
    cr_assert_eq(sink_store.durable, 15);
    cr_assert_str_eq(sink_store.keys[14], "k14");
    cr_assert_eq(fake.committed_offset, 15);
    cr_assert_eq(saved_offset("stage-strict"), 15);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, transform_stage_on_its_thread_keeps_batches_bounded)
{
    /* max_records 10 with the stage threaded: no batch exceeds it, however
     * many records the source had ready. */
    fake_source_cfg src = {.total = 95, .per_poll = 7};
    fake_transform_cfg tx = {0};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("stage-bounded", &src, &tx, &snk, NULL);
    p->transform_thread = TRANSFORM_THREAD_ON;

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.durable, 95);
    cr_assert_eq(sink_store.write_calls, 10);
    for (int i = 0; i < 9; i++)
        cr_assert_eq(sink_store.batch_sizes[i], 10, "batch %d is full and not more", i);
    cr_assert_eq(sink_store.batch_sizes[9], 5);
    cr_assert_eq(fake.committed_offset, 95);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, measured_split_with_concurrent_transforms_keeps_order_and_counts)
{
    /* The split and share chosen from measured costs, re-chosen after each
     * of 20 fills: whatever they come to, every record arrives once, in
     * source order, and the last offset is committed. */
    fake_source_cfg src = {.total = 4000, .per_poll = 32};
    fake_transform_cfg first = {.drop_key = "k1234", .concurrent = true};
    fake_transform_cfg second = {.error_key = "k3001", .concurrent = true};
    fake_sink_cfg snk = {.store = &sink_store};
    fake_sink_cfg dlq = {.store = &dlq_store};
    pipeline_config *p = fake_pipeline("stage-measured", &src, &first, &snk, &dlq);
    fake_pipeline_add_transform(p, &second);
    p->transform_thread = TRANSFORM_THREAD_ON;
    p->batch_max_records = 200;
    task_test_set_transform_split(-1);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.durable, 3998);
    for (int i = 0, k = 0; i < 4000; i++) {
        if (i == 1234 || i == 3001)
            continue;
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        cr_assert_str_eq(sink_store.keys[k], key, "records reach the sink in source order");
        k++;
    }
    cr_assert_eq(dlq_store.durable, 1);
    cr_assert_str_eq(dlq_store.keys[0], "k3001");
    cr_assert_eq(r.snap.counts.dropped, 1);
    cr_assert_eq(fake.committed_offset, 4000);
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}

Test(task, a_long_chain_split_far_down_runs_each_transform_once_per_record)
{
    /* 300 transforms, the first 270 on the task thread: where each record
     * stopped early must hold more than a byte. */
    fake_source_cfg src = {.total = 20, .per_poll = 5};
    fake_transform_cfg tx = {0};
    fake_sink_cfg snk = {.store = &sink_store};
    pipeline_config *p = fake_pipeline("stage-long", &src, &tx, &snk, NULL);
    for (int i = 1; i < 300; i++)
        fake_pipeline_add_transform(p, &tx);
    p->transform_thread = TRANSFORM_THREAD_ON;
    task_test_set_transform_split(270);

    run_result r = run_pipeline(p);
    cr_assert_eq(r.result, TASK_RESULT_FINISHED, "%s", r.error);
    cr_assert_eq(sink_store.durable, 20);
    for (int k = 0; k < 20; k++) {
        int seen = 0;
        for (const char *at = sink_store.headers[k]; (at = strstr(at, "seen=yes")); at++)
            seen++;
        cr_assert_eq(seen, 300, "record %d went through %d transforms", k, seen);
    }
    task_stats_snapshot_free(&r.snap);
    fake_pipeline_free(p);
}
