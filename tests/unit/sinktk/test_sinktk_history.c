/*
 * History tables (sinktk.h): which versions of a batch a history table
 * gets, in which order, when a key's valid_to is recomputed, and the
 * history option's checks.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "records.h"

TestSuite(sinktk_history, .init = records_setup, .fini = records_teardown);

typedef struct seen {
    const rdapsync_record *records[16];
    bool last[16];
    size_t count;
} seen;

static int note(const rdapsync_record *record, bool last, void *opaque)
{
    seen *s = opaque;
    s->records[s->count] = record;
    s->last[s->count++] = last;
    return 0;
}

static void plan_batch(rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects)
{
    memset(rejects, 0, sizeof(*rejects));
    rdapsync_sinktk_plan_config config = {.label = "test sink", .mode = RDAPSYNC_SINKTK_UPSERT};
    cr_assert_eq(rdapsync_sinktk_plan_build(plan, host, batch, &config, rejects), 0);
}

Test(sinktk_history, every_version_of_a_key_is_appended_oldest_first_and_the_last_one_closes_the_key)
{
    const rdapsync_record *b5 = record_add("b", RDAPSYNC_OP_UPSERT, 5, "x", 1, 1);
    const rdapsync_record *a1 = record_add("a", RDAPSYNC_OP_UPSERT, 1, "x", 1, 2);
    const rdapsync_record *b9 = record_add("b", RDAPSYNC_OP_DELETE, 9, "x", 1, 3);
    const rdapsync_record *b7 = record_add("b", RDAPSYNC_OP_UPSERT, 7, "x", 1, 4);
    rdapsync_sinktk_plan plan;
    rdapsync_sinktk_rejects rejects;
    plan_batch(&plan, &rejects);
    seen s = {0};
    cr_assert_eq(rdapsync_sinktk_history_each(&plan, &rejects, note, &s), 0);

    cr_assert_eq(s.count, 4, "a stale or superseded version is history too");
    cr_assert_eq(s.records[0], a1);
    cr_assert(s.last[0]);
    cr_assert_eq(s.records[1], b5);
    cr_assert_eq(s.records[2], b7);
    cr_assert_eq(s.records[3], b9);
    cr_assert(!s.last[1] && !s.last[2] && s.last[3], "valid_to of b is recomputed once, after its last version");
    rdapsync_sinktk_plan_free(&plan);
    rdapsync_sinktk_rejects_free(&rejects);
}

Test(sinktk_history, a_version_the_store_refused_is_left_out)
{
    record_add("k", RDAPSYNC_OP_UPSERT, 1, "x", 1, 1);
    record_add("k", RDAPSYNC_OP_UPSERT, 2, "x", 1, 2);
    rdapsync_sinktk_plan plan;
    rdapsync_sinktk_rejects rejects;
    plan_batch(&plan, &rejects);
    const rdapsync_record *refused = plan.rows[0].record;
    cr_assert_eq(refused->version.event_time_ms, 2);
    cr_assert_eq(rdapsync_sinktk_rejects_add(&rejects, refused, "refused"), 0);
    cr_assert(rdapsync_sinktk_plan_fallback(&plan, 0));
    seen s = {0};
    cr_assert_eq(rdapsync_sinktk_history_each(&plan, &rejects, note, &s), 0);
    cr_assert_eq(s.count, 1);
    cr_assert_eq(s.records[0]->version.event_time_ms, 1);
    cr_assert(s.last[0]);
    rdapsync_sinktk_plan_free(&plan);
    rdapsync_sinktk_rejects_free(&rejects);
}

Test(sinktk_history, the_valid_to_statement_names_the_table_the_key_and_the_keys_tested)
{
    char *sql = rdapsync_sinktk_history_close_sql("\"h\"", "\"key\"", "= $1");
    cr_assert_not_null(sql);
    cr_assert(strstr(sql, "UPDATE \"h\" AS cur SET valid_to = (SELECT MIN(n.valid_from) FROM \"h\" n"));
    cr_assert(strstr(sql, "(n.valid_from, n.origin, n.seq) > (cur.valid_from, cur.origin, cur.seq)"));
    cr_assert(strstr(sql, "WHERE cur.\"key\" = $1"));
    free(sql);
}

Test(sinktk_history, the_option_takes_a_table_name_in_upsert_mode_only)
{
    char err[256], *table = NULL;
    cr_assert_eq(rdapsync_sinktk_history_option(host, NULL, 0, "t", NULL, strcmp, &table, err, sizeof err),
                 RDAPSYNC_OK);
    cr_assert_null(table, "not written: no history");
    cr_assert_eq(rdapsync_sinktk_history_option(host, "{\"table\":\"h\"}", RDAPSYNC_SINKTK_UPSERT, "t", NULL, strcmp,
                                                &table, err, sizeof err),
                 RDAPSYNC_OK);
    cr_assert_str_eq(table, "h");
    free(table);
    cr_assert_eq(rdapsync_sinktk_history_option(host, "{\"table\":\"h\"}", RDAPSYNC_SINKTK_APPEND, "t", NULL, strcmp,
                                                &table, err, sizeof err),
                 RDAPSYNC_ERROR);
    cr_assert(strncmp(err, "@history: ", 10) == 0, "%s", err);
    cr_assert_eq(rdapsync_sinktk_history_option(host, "{\"table\":\"T\"}", RDAPSYNC_SINKTK_UPSERT, "t", NULL,
                                                strcasecmp, &table, err, sizeof err),
                 RDAPSYNC_ERROR, "the data table itself");
    cr_assert(strncmp(err, "@history.table: ", 16) == 0, "%s", err);
    cr_assert_eq(rdapsync_sinktk_history_option(host, "\"h\"", RDAPSYNC_SINKTK_UPSERT, "t", NULL, strcmp, &table, err,
                                                sizeof err),
                 RDAPSYNC_ERROR, "a bare name is not { table: NAME }");
}

Test(sinktk_history, retention_comes_from_the_redact_annotation)
{
    char e[128];
    rdapsync_value *doc = host->json->parse("{\"rdapsync\":{\"retention_until\":\"2027-01-01T00:00:00Z\"}}", 55, e,
                                            sizeof e);
    cr_assert_not_null(doc, "%s", e);
    cr_assert_str_eq(rdapsync_sinktk_retention_until(host, doc), "2027-01-01T00:00:00Z");
    cr_assert_null(rdapsync_sinktk_retention_until(host, NULL), "a delete has none");
    host->json->decref(doc);
}
