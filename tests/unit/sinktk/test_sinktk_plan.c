/*
 * Planning a batch into rows: which record of each key is written, in
 * which order, what falls back to what, what is rejected before the store
 * sees it; the rejects and positions it relies on.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "records.h"

TestSuite(sinktk_plan, .init = records_setup, .fini = records_teardown);
TestSuite(sinktk_positions);
TestSuite(sinktk_rejects, .init = records_setup, .fini = records_teardown);

static rdapsync_sinktk_rejects rejects;

static void plan_with(rdapsync_sinktk_plan *plan, rdapsync_sinktk_mode mode, const rdapsync_sinktk_positions *stored,
                      void (*release)(void *))
{
    memset(&rejects, 0, sizeof(rejects));
    rdapsync_sinktk_plan_config config = { .label = "test sink", .mode = mode, .stored = stored, .release = release };
    cr_assert_eq(rdapsync_sinktk_plan_build(plan, host, batch, &config, &rejects), 0);
}

static void done(rdapsync_sinktk_plan *plan)
{
    rdapsync_sinktk_plan_free(plan);
    rdapsync_sinktk_rejects_free(&rejects);
}

Test(sinktk_plan, only_the_greatest_version_of_each_key_is_written_in_key_order)
{
    record_add("b", RDAPSYNC_OP_UPSERT, 5, "x", 1, 1);
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "x", 1, 2);
    record_add("b", RDAPSYNC_OP_DELETE, 7, "x", 1, 3);
    record_add("ab", RDAPSYNC_OP_UPSERT, 1, "x", 1, 4);
    record_add("b", RDAPSYNC_OP_UPSERT, 7, "w", 9, 5);
    rdapsync_sinktk_plan plan;
    plan_with(&plan, RDAPSYNC_SINKTK_UPSERT, NULL, NULL);

    cr_assert_eq(plan.count, 3);
    cr_assert_str_eq(plan.rows[0].record->key, "a");
    cr_assert_str_eq(plan.rows[1].record->key, "ab", "shorter first on a common prefix");
    cr_assert_str_eq(plan.rows[2].record->key, "b");
    cr_assert_eq(plan.rows[2].record->op, RDAPSYNC_OP_DELETE, "the delete at 7/x beats the upsert at 7/w");
    cr_assert_eq(rejects.count, 0);
    done(&plan);
}

Test(sinktk_plan, a_refused_row_falls_back_to_older_versions_newest_first)
{
    record_add("k", RDAPSYNC_OP_UPSERT, 1, "a", 1, 1);
    record_add("k", RDAPSYNC_OP_UPSERT, 3, "a", 1, 2);
    record_add("k", RDAPSYNC_OP_UPSERT, 2, "a", 1, 3);
    rdapsync_sinktk_plan plan;
    plan_with(&plan, RDAPSYNC_SINKTK_UPSERT, NULL, NULL);

    cr_assert_eq(plan.count, 1);
    cr_assert_eq(plan.rows[0].record->version.event_time_ms, 3);
    plan.rows[0].state = 7;
    cr_assert(rdapsync_sinktk_plan_fallback(&plan, 0));
    cr_assert_eq(plan.rows[0].record->version.event_time_ms, 2);
    cr_assert_eq(plan.rows[0].state, 0, "a fallback starts the store's bookkeeping over");
    cr_assert(rdapsync_sinktk_plan_fallback(&plan, 0));
    cr_assert_eq(plan.rows[0].record->version.event_time_ms, 1);
    cr_assert_not(rdapsync_sinktk_plan_fallback(&plan, 0), "no version older than the oldest");
    done(&plan);
}

Test(sinktk_plan, records_that_cannot_be_stored_are_rejected_with_the_label_and_the_key)
{
    /* (A NUL inside a key is refused by the host's record_set_key already.) */
    record_add(NULL, RDAPSYNC_OP_UPSERT, 1, "a", 1, 1);
    const rdapsync_record *empty = record_add("no-doc", RDAPSYNC_OP_UPSERT, 1, "a", 1, 3);
    host->record_set_value(batch, (rdapsync_record *)empty, NULL);
    record_add("fine", RDAPSYNC_OP_UPSERT, 1, "a", 1, 4);
    rdapsync_sinktk_plan plan;
    plan_with(&plan, RDAPSYNC_SINKTK_UPSERT, NULL, NULL);

    cr_assert_eq(plan.count, 1);
    cr_assert_str_eq(plan.rows[0].record->key, "fine");
    cr_assert_eq(rejects.count, 2);
    cr_assert_str_eq(rejects.items[0].reason, "test sink: record has no key (upsert mode needs one) (key \"\")");
    cr_assert_str_eq(rejects.items[1].reason, "test sink: upsert without a document (key \"no-doc\")");
    cr_assert_eq(rejects.items[1].record, empty);
    done(&plan);
}

Test(sinktk_plan, append_mode_keeps_every_record_in_batch_order_without_fallbacks)
{
    record_add("k", RDAPSYNC_OP_UPSERT, 5, "a", 1, 1);
    record_add(NULL, RDAPSYNC_OP_UPSERT, 1, "a", 1, 2);
    record_add("k", RDAPSYNC_OP_DELETE, 1, "a", 1, 3);
    rdapsync_sinktk_plan plan;
    plan_with(&plan, RDAPSYNC_SINKTK_APPEND, NULL, NULL);

    cr_assert_eq(plan.count, 3, "no reduction, and a change log may hold keyless records");
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(plan.rows[i].record->position.offset, (int64_t)i + 1);
    cr_assert_eq(plan.rows[2].record->op, RDAPSYNC_OP_DELETE);
    cr_assert_not(rdapsync_sinktk_plan_fallback(&plan, 0));
    done(&plan);
}

Test(sinktk_plan, records_the_stored_positions_cover_are_skipped_and_counted)
{
    record_add("a", RDAPSYNC_OP_UPSERT, 1, "a", 1, 10);
    record_add("b", RDAPSYNC_OP_UPSERT, 1, "a", 1, 20);
    record_add("c", RDAPSYNC_OP_UPSERT, 1, "a", 1, 21);
    rdapsync_sinktk_positions stored = { 0 };
    cr_assert_eq(rdapsync_sinktk_positions_note(&stored, "s", 0, 20), 0);
    cr_assert_eq(rdapsync_sinktk_positions_note(&stored, "other", 0, 99), 0);
    rdapsync_sinktk_plan plan;
    plan_with(&plan, RDAPSYNC_SINKTK_UPSERT, &stored, NULL);

    cr_assert_eq(plan.count, 1);
    cr_assert_str_eq(plan.rows[0].record->key, "c");
    cr_assert_eq(plan.already_stored, 2);
    done(&plan);
    rdapsync_sinktk_positions_free(&stored);
}

static int released;

static void release(void *data)
{
    cr_assert_eq(data, &released);
    released++;
}

Test(sinktk_plan, row_data_is_released_when_a_fallback_replaces_it_and_when_the_plan_goes)
{
    record_add("k", RDAPSYNC_OP_UPSERT, 2, "a", 1, 1);
    record_add("k", RDAPSYNC_OP_UPSERT, 1, "a", 1, 2);
    record_add("m", RDAPSYNC_OP_UPSERT, 1, "a", 1, 3);
    rdapsync_sinktk_plan plan;
    released = 0;
    plan_with(&plan, RDAPSYNC_SINKTK_UPSERT, NULL, release);
    plan.rows[0].data = &released;
    plan.rows[1].data = &released;
    cr_assert(rdapsync_sinktk_plan_fallback(&plan, 0));
    cr_assert_eq(released, 1);
    cr_assert_null(plan.rows[0].data);
    plan.rows[0].data = &released;
    done(&plan);
    cr_assert_eq(released, 3);
}

Test(sinktk_plan, an_empty_batch_plans_nothing)
{
    rdapsync_sinktk_plan plan;
    plan_with(&plan, RDAPSYNC_SINKTK_UPSERT, NULL, NULL);
    cr_assert_eq(plan.count, 0);
    done(&plan);
}

Test(sinktk_positions, keep_the_highest_offset_and_map_a_null_stream_to_empty)
{
    rdapsync_sinktk_positions p = { 0 };
    cr_assert_eq(rdapsync_sinktk_positions_note(&p, NULL, -1, 5), 0);
    cr_assert_eq(rdapsync_sinktk_positions_note(&p, "", -1, 3), 0);
    cr_assert_eq(rdapsync_sinktk_positions_note(&p, NULL, -1, 8), 0);
    cr_assert_eq(p.count, 1);
    cr_assert_str_eq(p.items[0].stream, "");
    cr_assert_eq(rdapsync_sinktk_positions_find(&p, "", -1), 8);
    cr_assert_eq(rdapsync_sinktk_positions_find(&p, NULL, 0), -1, "another partition is another position");
    rdapsync_sinktk_positions q = { 0 };
    cr_assert_eq(rdapsync_sinktk_positions_note(&q, "t", 2, 1), 0);
    cr_assert_eq(rdapsync_sinktk_positions_note(&q, NULL, -1, 2), 0);
    cr_assert_eq(rdapsync_sinktk_positions_merge(&p, &q), 0);
    cr_assert_eq(p.count, 2);
    cr_assert_eq(rdapsync_sinktk_positions_find(&p, NULL, -1), 8, "a merge never lowers an offset");
    cr_assert_eq(rdapsync_sinktk_positions_find(&p, "t", 2), 1);
    rdapsync_sinktk_positions_clear(&p);
    cr_assert_eq(p.count, 0);
    cr_assert_eq(rdapsync_sinktk_positions_find(&p, "t", 2), -1);
    rdapsync_sinktk_positions_free(&p);
    rdapsync_sinktk_positions_free(&q);
}

Test(sinktk_rejects, keep_the_record_and_a_copy_of_the_reason_cut_at_one_kilobyte)
{
    const rdapsync_record *r = record_add("k", RDAPSYNC_OP_UPSERT, 1, "a", 1, 1);
    rdapsync_sinktk_rejects list = { 0 };
    char reason[2000];
    memset(reason, 'x', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    for (int i = 0; i < 20; i++)
        cr_assert_eq(rdapsync_sinktk_rejects_add(&list, r, "%d %s", i, i == 19 ? reason : "short"), 0);
    cr_assert_eq(list.count, 20);
    cr_assert_str_eq(list.items[3].reason, "3 short");
    cr_assert_eq(list.items[3].record, r);
    cr_assert_eq(strlen(list.items[19].reason), 1023);
    rdapsync_sinktk_rejects_clear(&list);
    cr_assert_eq(list.count, 0);
    rdapsync_sinktk_rejects_free(&list);
    cr_assert_null(list.items);
}
