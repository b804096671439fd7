/*
 * The SQLite sink with conflicts: {...}: records with version vectors keep
 * their heads in <table>_heads, the data table shows the visible document
 * and the conflict log opens and resolves; a replay changes nothing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "sqlite_harness.h"

static char *dir;
static char *db_path;
static sink s;

static void setup(void)
{
    dir = tmpdir_new();
    db_path = path_join(dir, "rdap.db");
}

static void teardown(void)
{
    if (s.plugin)
        sink_unload(&s);
    free(db_path);
    tmpdir_remove(dir);
}

TestSuite(sink_sqlite_conflicts, .init = setup, .fini = teardown);

static void open_sink(const char *conflicts)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "{path: \"%s\", table: domains, conflicts: %s}", db_path, conflicts);
    sink_load(&s, yaml, 0);
    rdapsync_status status = sink_open(&s);
    cr_assert_eq(status, RDAPSYNC_OK, "open: %s: %s", rdapsync_status_str(status), s.err);
}

static void deliver(rdapsync_batch *batch)
{
    rdapsync_status status = sink_write(&s, batch);
    cr_assert_eq(status, RDAPSYNC_OK, "write: %s: %s", rdapsync_status_str(status), s.err);
    status = sink_flush(&s);
    cr_assert_eq(status, RDAPSYNC_OK, "flush: %s: %s", rdapsync_status_str(status), s.err);
    batch_reset(batch);
}

/* A change of key "d" with a vector of (region, counter) pairs. */
static void change(rdapsync_batch *batch, const char *json, int64_t ts, const char *origin, int64_t offset,
                   size_t n, const rdapsync_vv_entry *vv)
{
    rdapsync_record *r = add_change(batch, "d", json, ts, origin, 1, "f", offset);
    cr_assert_eq(host()->record_set_vv(batch, r, vv, n), 0);
}

static char *text(sqlite3 *db, const char *sql)
{
    char *t = db_text(db, sql);
    return t ? t : strdup("(null)");
}

Test(sink_sqlite_conflicts, concurrent_versions_open_a_conflict_that_a_dominating_one_resolves)
{
    open_sink("{strategy: merge, table: review}");
    rdapsync_batch *batch = batch_new(64);
    change(batch, "{\"a\":1,\"x\":1}", 200, "eu", 1, 1, (rdapsync_vv_entry[]){ { "eu", 1 } });
    change(batch, "{\"a\":2,\"y\":2}", 100, "us", 2, 1, (rdapsync_vv_entry[]){ { "us", 1 } });
    deliver(batch);

    sqlite3 *db = db_open(db_path);
    char *doc = text(db, "SELECT doc FROM domains_live WHERE key = 'd'");
    cr_assert_str_eq(doc, "{\"a\":1,\"x\":1,\"y\":2}", "merge of both heads");
    free(doc);
    cr_assert_eq(db_int(db, "SELECT json_array_length(heads) FROM domains_heads WHERE key = 'd'"), 2);
    cr_assert_eq(db_int(db, "SELECT count(*) FROM review WHERE resolved_at IS NULL AND strategy = 'merge'"), 1);
    char *heads = text(db, "SELECT heads FROM review");
    cr_assert_null(strstr(heads, "\"doc\""), "the log keeps versions, not documents: %s", heads);
    free(heads);
    char *detected = text(db, "SELECT detected_at FROM review");

    /* The same versions again (a replay): nothing changes. */
    change(batch, "{\"a\":2,\"y\":2}", 100, "us", 2, 1, (rdapsync_vv_entry[]){ { "us", 1 } });
    change(batch, "{\"a\":1,\"x\":1}", 200, "eu", 1, 1, (rdapsync_vv_entry[]){ { "eu", 1 } });
    deliver(batch);
    char *again = text(db, "SELECT detected_at FROM review");
    cr_assert_str_eq(again, detected);
    free(again);
    free(detected);

    /* A write that saw both heads resolves the conflict, older clock or not. */
    change(batch, "{\"a\":3}", 50, "us", 3, 2, (rdapsync_vv_entry[]){ { "eu", 1 }, { "us", 2 } });
    deliver(batch);
    doc = text(db, "SELECT doc FROM domains_live WHERE key = 'd'");
    cr_assert_str_eq(doc, "{\"a\":3}");
    free(doc);
    cr_assert_eq(db_int(db, "SELECT event_time_ms FROM domains WHERE key = 'd'"), 50);
    cr_assert_eq(db_int(db, "SELECT count(*) FROM review WHERE resolved_at IS NOT NULL"), 1);
    cr_assert_eq(db_int(db, "SELECT json_array_length(heads) FROM domains_heads WHERE key = 'd'"), 1);
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite_conflicts, a_concurrent_delete_under_lww_leaves_a_tombstone_row)
{
    open_sink("{}");
    rdapsync_batch *batch = batch_new(64);
    change(batch, "{\"a\":1}", 100, "eu", 1, 1, (rdapsync_vv_entry[]){ { "eu", 1 } });
    deliver(batch);
    change(batch, NULL, 200, "us", 2, 1, (rdapsync_vv_entry[]){ { "us", 1 } });
    deliver(batch);
    sqlite3 *db = db_open(db_path);
    cr_assert_eq(db_int(db, "SELECT deleted FROM domains WHERE key = 'd'"), 1);
    cr_assert_eq(db_int(db, "SELECT count(*) FROM domains_live"), 0);
    cr_assert_eq(db_int(db, "SELECT count(*) FROM domains_conflicts WHERE resolved_at IS NULL"), 1);
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite_conflicts, records_without_vectors_keep_the_version_guarded_path)
{
    open_sink("{}");
    rdapsync_batch *batch = batch_new(64);
    add_change(batch, "e", "{\"v\":2}", 200, "eu", 1, "f", 1);
    add_change(batch, "e", "{\"v\":1}", 100, "eu", 1, "f", 2);
    deliver(batch);
    sqlite3 *db = db_open(db_path);
    char *doc = text(db, "SELECT doc FROM domains_live WHERE key = 'e'");
    cr_assert_str_eq(doc, "{\"v\":2}");
    free(doc);
    cr_assert_eq(db_int(db, "SELECT count(*) FROM domains_heads"), 0);
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite_conflicts, check_refuses_a_conflict_log_named_like_the_heads_table)
{
    sink_load(&s, "{path: /tmp/x.db, table: domains, conflicts: {table: domains_heads}}", 0);
    char err[512];
    cr_assert_eq(s.plugin->desc->check(s.settings, err, sizeof err), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "@conflicts.table"), "%s", err);
}
