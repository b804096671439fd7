/*
 * The writer around a store: one transaction per flush, reconnects after
 * RETRY, what a failure means for writes already answered OK, rejects and
 * counters reported once, and the exactly-once positions.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "memory_store.h"
#include "records.h"

/* The host as the writer sees it: the real one, with the calls a sink
 * makes about itself recorded. */
static rdapsync_host spy;
static struct {
    int rejects;
    char last_reject[256];
    int warnings;
    char last_log[512];
    struct {
        const char *name;
        uint64_t value;
    } counters[16];
    int overrides;
    char override_stream[32];
    int64_t override_offset;
} seen;

static void spy_reject(rdapsync_ctx *ctx, const rdapsync_record *record, const char *reason)
{
    (void)ctx;
    (void)record;
    seen.rejects++;
    snprintf(seen.last_reject, sizeof(seen.last_reject), "%s", reason);
}

static void spy_counter(rdapsync_ctx *ctx, const char *name, uint64_t delta)
{
    (void)ctx;
    for (size_t i = 0; i < 16; i++) {
        if (!seen.counters[i].name || strcmp(seen.counters[i].name, name) == 0) {
            seen.counters[i].name = name;
            seen.counters[i].value += delta;
            return;
        }
    }
    cr_assert_fail("too many counters");
}

static uint64_t counter(const char *name)
{
    for (size_t i = 0; i < 16 && seen.counters[i].name; i++)
        if (strcmp(seen.counters[i].name, name) == 0)
            return seen.counters[i].value;
    return 0;
}

static void spy_log(rdapsync_ctx *ctx, rdapsync_log_level level, const char *fmt, ...)
{
    (void)ctx;
    va_list args;
    va_start(args, fmt);
    vsnprintf(seen.last_log, sizeof(seen.last_log), fmt, args);
    va_end(args);
    seen.warnings += level == RDAPSYNC_LOG_WARN;
}

static void spy_override(rdapsync_ctx *ctx, const char *stream, int32_t partition, int64_t offset)
{
    (void)ctx;
    (void)partition;
    seen.overrides++;
    snprintf(seen.override_stream, sizeof(seen.override_stream), "%s", stream ? stream : "(null)");
    seen.override_offset = offset;
}

static rdapsync_ctx *ctx;
static memory_store store;
static rdapsync_sinktk_writer writer;
static char err[512];

static void setup(void)
{
    records_setup();
    spy = *host;
    spy.reject = spy_reject;
    spy.counter_add = spy_counter;
    spy.log = spy_log;
    spy.checkpoint_override = spy_override;
    memset(&seen, 0, sizeof(seen));
    memset(&store, 0, sizeof(store));
    ctx = context_new("pipe", 0, 1, RDAPSYNC_KIND_SINK, "memory", NULL, NULL);
}

static void teardown(void)
{
    rdapsync_sinktk_writer_close(&writer);
    memory_store_free(&store);
    context_free(ctx);
    records_teardown();
}

TestSuite(sinktk_writer, .init = setup, .fini = teardown);

static rdapsync_status open_writer(const rdapsync_sinktk_store_ops *ops, bool exactly_once)
{
    rdapsync_sinktk_writer_config config = {
        .host = &spy,
        .ctx = ctx,
        .ops = ops,
        .store = &store,
        .label = "memory sink",
        .mode = RDAPSYNC_SINKTK_UPSERT,
        .exactly_once = exactly_once,
    };
    return rdapsync_sinktk_writer_open(&writer, &config, err, sizeof(err));
}

static rdapsync_status write_batch(void)
{
    return rdapsync_sinktk_writer_write(&writer, batch, err, sizeof(err));
}

static rdapsync_status flush(void)
{
    return rdapsync_sinktk_writer_flush(&writer, err, sizeof(err));
}

Test(sinktk_writer, writes_land_only_when_the_flush_commits)
{
    cr_assert_eq(open_writer(&memory_store_ops, false), RDAPSYNC_OK, "%s", err);
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "o", 1, 1);
    record_add("b", RDAPSYNC_OP_DELETE, 2, "o", 1, 2);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(memory_table_ts(&store.durable, "a"), -1, "nothing durable before the flush");
    cr_assert_eq(flush(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(memory_table_ts(&store.durable, "a"), 1);
    cr_assert_eq(memory_table_ts(&store.durable, "b"), 2, "a delete keeps a tombstone");
    cr_assert_eq(counter("rows_applied"), 2);
    cr_assert_eq(counter("memory_applies"), 1, "the store's own counters are reported");
    cr_assert_eq(counter("transactions"), 1);
    cr_assert_eq(flush(), RDAPSYNC_OK, "a flush without writes is fine");
    cr_assert_eq(store.calls[OP_COMMIT], 1, "and commits nothing");
}

Test(sinktk_writer, one_transaction_spans_the_writes_between_two_flushes)
{
    cr_assert_eq(open_writer(&memory_store_ops, false), RDAPSYNC_OK, "%s", err);
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "o", 1, 1);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(store.calls[OP_BEGIN], 1);
    cr_assert_eq(counter("rows_stale"), 1, "the second copy is kept out by the guard");
    cr_assert_eq(flush(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(store.calls[OP_BEGIN], 2, "a write after a commit begins anew");
}

Test(sinktk_writer, a_retry_drops_the_session_and_the_next_write_reconnects)
{
    cr_assert_eq(open_writer(&memory_store_ops, false), RDAPSYNC_OK, "%s", err);
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "o", 1, 1);
    store.fail[OP_APPLY] = RDAPSYNC_RETRY;
    cr_assert_eq(write_batch(), RDAPSYNC_RETRY);
    cr_assert_eq(store.calls[OP_DISCONNECT], 1);
    cr_assert_eq(store.calls[OP_ROLLBACK], 0, "a lost session is not rolled back, it is dropped");
    cr_assert_eq(seen.warnings, 1);
    cr_assert(strstr(seen.last_log, "transaction rolled back, the batch will be written again"), "%s", seen.last_log);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(store.calls[OP_CONNECT], 2);
    cr_assert_eq(flush(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(memory_table_ts(&store.durable, "a"), 1);
}

Test(sinktk_writer, a_retry_after_writes_answered_ok_in_the_same_transaction_is_an_error)
{
    cr_assert_eq(open_writer(&memory_store_ops, false), RDAPSYNC_OK, "%s", err);
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "o", 1, 1);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    store.fail[OP_APPLY] = RDAPSYNC_RETRY;
    cr_assert_eq(write_batch(), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "lost 1 acknowledged write(s) of this transaction"), "%s", err);
}

Test(sinktk_writer, a_failed_commit_of_one_write_asks_for_that_batch_again)
{
    cr_assert_eq(open_writer(&memory_store_ops, false), RDAPSYNC_OK, "%s", err);
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "o", 1, 1);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    store.fail[OP_COMMIT] = RDAPSYNC_RETRY;
    cr_assert_eq(flush(), RDAPSYNC_RETRY, "the host rewrites the one batch the transaction held");
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(flush(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(memory_table_ts(&store.durable, "a"), 1);
}

Test(sinktk_writer, a_failed_commit_of_two_writes_is_an_error)
{
    cr_assert_eq(open_writer(&memory_store_ops, false), RDAPSYNC_OK, "%s", err);
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "o", 1, 1);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    store.fail[OP_COMMIT] = RDAPSYNC_RETRY;
    cr_assert_eq(flush(), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "lost 2 acknowledged write(s)"), "%s", err);
}

Test(sinktk_writer, an_error_rolls_back_and_keeps_a_usable_session)
{
    cr_assert_eq(open_writer(&memory_store_ops, false), RDAPSYNC_OK, "%s", err);
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "o", 1, 1);
    store.fail[OP_APPLY] = RDAPSYNC_ERROR;
    cr_assert_eq(write_batch(), RDAPSYNC_ERROR);
    cr_assert_eq(store.calls[OP_ROLLBACK], 1);
    cr_assert_eq(store.calls[OP_DISCONNECT], 0);
    cr_assert_eq(seen.warnings, 0);
}

Test(sinktk_writer, a_failed_rollback_drops_the_session)
{
    cr_assert_eq(open_writer(&memory_store_ops, false), RDAPSYNC_OK, "%s", err);
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "o", 1, 1);
    store.fail[OP_APPLY] = RDAPSYNC_ERROR;
    store.fail[OP_ROLLBACK] = RDAPSYNC_ERROR;
    cr_assert_eq(write_batch(), RDAPSYNC_ERROR);
    cr_assert_eq(store.calls[OP_DISCONNECT], 1);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(store.calls[OP_CONNECT], 2);
}

Test(sinktk_writer, rejects_are_reported_once_and_only_by_a_write_that_succeeds)
{
    cr_assert_eq(open_writer(&memory_store_ops, false), RDAPSYNC_OK, "%s", err);
    record_add("k", RDAPSYNC_OP_UPSERT, 5, "o", 1, 1);
    record_add("k", RDAPSYNC_OP_UPSERT, 3, "o", 1, 2);
    record_add(NULL, RDAPSYNC_OP_UPSERT, 3, "o", 1, 3);
    store.refuse_ts = 5;
    store.fail[OP_APPLY] = RDAPSYNC_RETRY;
    cr_assert_eq(write_batch(), RDAPSYNC_RETRY);
    cr_assert_eq(seen.rejects, 0, "a batch written again would report them twice");
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(seen.rejects, 2);
    cr_assert_str_eq(seen.last_reject, "memory refused \"k\"");
    cr_assert_eq(counter("rows_rejected"), 2);
    cr_assert_eq(flush(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(memory_table_ts(&store.durable, "k"), 3, "the key's older version took the refused one's place");
}

Test(sinktk_writer, an_empty_batch_touches_nothing)
{
    cr_assert_eq(open_writer(&memory_store_ops, false), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(store.calls[OP_BEGIN], 0);
    cr_assert_eq(flush(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(store.calls[OP_COMMIT], 0);
}

Test(sinktk_writer, an_open_that_cannot_connect_holds_nothing)
{
    store.fail[OP_CONNECT] = RDAPSYNC_RETRY;
    cr_assert_eq(open_writer(&memory_store_ops, false), RDAPSYNC_RETRY);
    cr_assert_str_eq(err, "injected failure of operation 0");
    cr_assert_eq(store.calls[OP_DISCONNECT], 0);
    cr_assert_null(writer.pipeline);
}

Test(sinktk_writer, exactly_once_resumes_after_the_stored_positions_and_skips_what_they_cover)
{
    cr_assert_eq(rdapsync_sinktk_positions_note(&store.durable_positions, "s", 0, 20), 0);
    cr_assert_eq(open_writer(&memory_store_ops, true), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(seen.overrides, 1);
    cr_assert_str_eq(seen.override_stream, "s");
    cr_assert_eq(seen.override_offset, 20);
    cr_assert(strstr(seen.last_log, "exactly-once: resuming s[0] after offset 20"), "%s", seen.last_log);

    record_add("a", RDAPSYNC_OP_UPSERT, 1, "o", 1, 10);
    record_add("b", RDAPSYNC_OP_UPSERT, 1, "o", 1, 20);
    record_add("c", RDAPSYNC_OP_UPSERT, 1, "o", 1, 30);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(counter("rows_already_committed"), 2);
    cr_assert_eq(counter("rows_applied"), 1);
    cr_assert_eq(store.calls[OP_SAVE], 0, "positions are written at the flush");
    cr_assert_eq(flush(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(store.calls[OP_SAVE], 1);
    cr_assert_eq(rdapsync_sinktk_positions_find(&store.durable_positions, "s", 0), 30, "in the same transaction");
    cr_assert_eq(rdapsync_sinktk_positions_find(&writer.committed, "s", 0), 30);
    cr_assert_eq(memory_table_ts(&store.durable, "a"), -1);
}

Test(sinktk_writer, exactly_once_a_failed_flush_forgets_the_positions_and_a_reconnect_reloads_them)
{
    cr_assert_eq(open_writer(&memory_store_ops, true), RDAPSYNC_OK, "%s", err);
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "o", 1, 10);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    store.fail[OP_SAVE] = RDAPSYNC_RETRY;
    cr_assert_eq(flush(), RDAPSYNC_RETRY);
    cr_assert_eq(writer.pending.count, 0);
    /* Meanwhile another commit stored a position (an answer lost with the
     * connection): the reconnect must learn it. */
    cr_assert_eq(rdapsync_sinktk_positions_note(&store.durable_positions, "s", 0, 10), 0);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(store.calls[OP_LOAD], 2);
    cr_assert_eq(counter("rows_already_committed"), 1);
}

Test(sinktk_writer, exactly_once_needs_a_store_with_transactions_and_positions)
{
    cr_assert_eq(open_writer(&memory_store_autocommit_ops, true), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "memory sink: the store lacks operations"), "%s", err);
    cr_assert_eq(store.calls[OP_CONNECT], 0);
}

Test(sinktk_writer, a_store_without_transactions_writes_at_once_and_its_flush_does_nothing)
{
    cr_assert_eq(open_writer(&memory_store_autocommit_ops, false), RDAPSYNC_OK, "%s", err);
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "o", 1, 1);
    cr_assert_eq(write_batch(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(memory_table_ts(&store.durable, "a"), 1);
    cr_assert_eq(flush(), RDAPSYNC_OK, "%s", err);
    cr_assert_eq(counter("transactions"), 0);
    store.fail[OP_APPLY] = RDAPSYNC_RETRY;
    cr_assert_eq(write_batch(), RDAPSYNC_RETRY, "never an error: nothing acknowledged is lost");
    cr_assert(strstr(seen.last_log, "write failed, the batch will be written again"), "%s", seen.last_log);
    store.fail[OP_APPLY] = RDAPSYNC_ERROR;
    cr_assert_eq(write_batch(), RDAPSYNC_ERROR);
    cr_assert_eq(store.calls[OP_DISCONNECT], 2, "a failed write leaves no half-used session behind");
}
