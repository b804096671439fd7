/*
 * The SQLite sink, loaded from build/plugins through the real loader and
 * checked by reading its database file directly.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"
#include "sqlite_harness.h"

static char *dir;
static char *db_path;
static sink s;

static void setup(void)
{
    dir = tmpdir_new();
    db_path = path_join(dir, "sub/folder/rdap.db");
}

static void teardown(void)
{
    if (s.plugin)
        sink_unload(&s);
    free(db_path);
    tmpdir_remove(dir);
}

/* Loads and opens the sink on db_path with extra options (YAML flow
 * mapping members, may be empty). */
static void open_sink(const char *extra)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\", table: domains, busy_timeout: 50ms%s%s}", db_path,
             *extra ? ", " : "", extra);
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

/* The stored document of `key` in the live view, or NULL. */
static char *live_doc(sqlite3 *db, const char *key)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT doc FROM domains_live WHERE key = '%s'", key);
    return db_text(db, sql);
}

static void assert_live_doc(sqlite3 *db, const char *key, const char *expected)
{
    char *doc = live_doc(db, key);
    if (!expected)
        cr_assert_null(doc, "key %s should not be live, holds %s", key, doc);
    else
        cr_assert(doc && strcmp(doc, expected) == 0, "key %s holds %s, expected %s", key, doc ? doc : "(nothing)",
                  expected);
    free(doc);
}

TestSuite(sink_sqlite, .init = setup, .fini = teardown);

Test(sink_sqlite, creates_its_folder_a_wal_database_the_table_and_the_live_view)
{
    open_sink("");
    sqlite3 *db = db_open(db_path);
    char *mode = db_text(db, "PRAGMA journal_mode");
    cr_assert_str_eq(mode, "wal");
    free(mode);
    cr_assert_eq(db_int(db, "SELECT count(*) FROM pragma_table_info('domains') WHERE name IN ('key', 'doc', "
                            "'deleted', 'event_time_ms', 'origin', 'seq', 'src_stream', 'src_partition', "
                            "'src_offset', 'updated_at')"),
                 10);
    cr_assert_eq(db_int(db, "SELECT pk FROM pragma_table_info('domains') WHERE name = 'key'"), 1);
    cr_assert_eq(db_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name = 'domains_live'"), 1);
    sqlite3_close(db);
}

Test(sink_sqlite, stores_document_version_and_position_of_an_upsert)
{
    open_sink("");
    rdapsync_batch *batch = batch_new(8);
    add_change(batch, "example.com", "{\"handle\":\"example.com\",\"n\":1}", 1000, "eu", 7, "in.jsonl", 42);
    deliver(batch);
    sqlite3 *db = db_open(db_path);
    assert_live_doc(db, "example.com", "{\"handle\":\"example.com\",\"n\":1}");
    char *row = db_text(db, "SELECT deleted || '|' || event_time_ms || '|' || origin || '|' || seq || '|' || "
                            "src_stream || '|' || src_partition || '|' || src_offset FROM domains");
    cr_assert_str_eq(row, "0|1000|eu|7|in.jsonl|0|42");
    free(row);
    char *updated = db_text(db, "SELECT updated_at FROM domains");
    cr_assert(updated && strlen(updated) == 24 && updated[10] == 'T', "updated_at %s", updated);
    free(updated);
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite, an_older_version_never_overwrites_a_newer_one)
{
    open_sink("");
    rdapsync_batch *batch = batch_new(8);
    add_change(batch, "a.example", "{\"v\":2}", 2000, "eu", 1, NULL, 1);
    deliver(batch);
    /* Older by event time, by origin alone, by sequence alone; then equal. */
    add_change(batch, "a.example", "{\"v\":\"older-time\"}", 1999, "zz", 99, NULL, 2);
    deliver(batch);
    add_change(batch, "a.example", "{\"v\":\"older-origin\"}", 2000, "ea", 99, NULL, 3);
    deliver(batch);
    add_change(batch, "a.example", "{\"v\":\"older-seq\"}", 2000, "eu", 0, NULL, 4);
    deliver(batch);
    add_change(batch, "a.example", "{\"v\":\"same-version\"}", 2000, "eu", 1, NULL, 5);
    deliver(batch);
    sqlite3 *db = db_open(db_path);
    assert_live_doc(db, "a.example", "{\"v\":2}");
    add_change(batch, "a.example", "{\"v\":3}", 2000, "eu", 2, NULL, 6);
    deliver(batch);
    assert_live_doc(db, "a.example", "{\"v\":3}");
    cr_assert_eq(db_int(db, "SELECT count(*) FROM domains"), 1);
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite, origins_compare_bytewise_and_null_equals_empty)
{
    open_sink("");
    rdapsync_batch *batch = batch_new(8);
    /* "Z" (0x5a) < "a" (0x61) < "z" < "é" (0xc3 0xa9): no locale, no case folding. */
    add_change(batch, "o.example", "{\"o\":\"Z\"}", 5, "Z", 0, NULL, 1);
    deliver(batch);
    add_change(batch, "o.example", "{\"o\":\"a\"}", 5, "a", 0, NULL, 2);
    deliver(batch);
    add_change(batch, "o.example", "{\"o\":\"\\u00e9\"}", 5, "\xc3\xa9", 0, NULL, 3);
    deliver(batch);
    add_change(batch, "o.example", "{\"o\":\"z\"}", 5, "z", 0, NULL, 4);
    deliver(batch);
    sqlite3 *db = db_open(db_path);
    char *origin = db_text(db, "SELECT origin FROM domains");
    cr_assert_str_eq(origin, "\xc3\xa9");
    free(origin);

    /* NULL origin is "": the second write has the same version and loses. */
    add_change(batch, "n.example", "{\"first\":true}", 5, NULL, 3, NULL, 5);
    deliver(batch);
    add_change(batch, "n.example", "{\"first\":false}", 5, "", 3, NULL, 6);
    deliver(batch);
    assert_live_doc(db, "n.example", "{\"first\":true}");
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite, a_delete_leaves_a_tombstone_that_older_upserts_cannot_pass)
{
    open_sink("");
    rdapsync_batch *batch = batch_new(8);
    add_change(batch, "d.example", "{\"v\":1}", 10, "o", 0, NULL, 1);
    add_change(batch, "keep.example", "{\"v\":1}", 10, "o", 0, NULL, 2);
    deliver(batch);
    add_change(batch, "d.example", NULL, 20, "o", 0, NULL, 3);
    deliver(batch);
    sqlite3 *db = db_open(db_path);
    assert_live_doc(db, "d.example", NULL);
    cr_assert_eq(db_int(db, "SELECT deleted FROM domains WHERE key = 'd.example'"), 1);
    cr_assert_eq(db_int(db, "SELECT doc IS NULL AND event_time_ms = 20 FROM domains WHERE key = 'd.example'"), 1);

    add_change(batch, "d.example", "{\"v\":\"replayed\"}", 15, "o", 0, NULL, 4);
    deliver(batch);
    assert_live_doc(db, "d.example", NULL);
    /* A delete of a key never stored still blocks an older upsert. */
    add_change(batch, "never.example", NULL, 50, "o", 0, NULL, 5);
    deliver(batch);
    add_change(batch, "never.example", "{\"v\":1}", 40, "o", 0, NULL, 6);
    deliver(batch);
    assert_live_doc(db, "never.example", NULL);
    /* A newer upsert brings the key back. */
    add_change(batch, "d.example", "{\"v\":3}", 30, "o", 0, NULL, 7);
    deliver(batch);
    assert_live_doc(db, "d.example", "{\"v\":3}");
    assert_live_doc(db, "keep.example", "{\"v\":1}");
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite, the_greatest_version_in_one_batch_wins_whatever_its_place)
{
    open_sink("");
    rdapsync_batch *batch = batch_new(8);
    add_change(batch, "b.example", "{\"v\":2}", 2, "o", 0, NULL, 1);
    add_change(batch, "b.example", "{\"v\":3}", 3, "o", 0, NULL, 2);
    add_change(batch, "b.example", "{\"v\":1}", 1, "o", 0, NULL, 3);
    add_change(batch, "c.example", NULL, 9, "o", 0, NULL, 4);
    add_change(batch, "c.example", "{\"v\":8}", 8, "o", 0, NULL, 5);
    deliver(batch);
    sqlite3 *db = db_open(db_path);
    assert_live_doc(db, "b.example", "{\"v\":3}");
    assert_live_doc(db, "c.example", NULL);
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite, a_write_closed_before_its_flush_leaves_nothing)
{
    open_sink("");
    rdapsync_batch *batch = batch_new(8);
    add_change(batch, "kept.example", "{\"v\":1}", 1, "o", 0, NULL, 1);
    deliver(batch);
    add_change(batch, "lost.example", "{\"v\":1}", 1, "o", 0, NULL, 2);
    cr_assert_eq(sink_write(&s, batch), RDAPSYNC_OK, "%s", s.err);
    sink_reopen(&s);
    sqlite3 *db = db_open(db_path);
    cr_assert_eq(db_int(db, "SELECT count(*) FROM domains"), 1);
    assert_live_doc(db, "kept.example", "{\"v\":1}");
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite, a_record_without_key_is_rejected_with_a_reason_and_the_rest_lands)
{
    open_sink("");
    rdapsync_batch *batch = batch_new(8);
    add_change(batch, NULL, "{\"v\":1}", 1, "o", 0, NULL, 1);
    add_change(batch, "good.example", "{\"v\":1}", 1, "o", 0, NULL, 2);
    deliver(batch);
    cr_assert_eq(sink_reject_count(&s), 1);
    cr_assert(strstr(sink_last_reject(&s), "no key"), "reason: %s", sink_last_reject(&s));
    sqlite3 *db = db_open(db_path);
    cr_assert_eq(db_int(db, "SELECT count(*) FROM domains"), 1);
    assert_live_doc(db, "good.example", "{\"v\":1}");
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite, a_row_the_database_refuses_is_rejected_with_its_message_and_the_older_version_lands)
{
    /* The user's own table, with a rule of theirs. */
    char *folder = path_join(dir, "sub");
    char *sub = path_join(folder, "folder");
    cr_assert_eq(mkdir(folder, 0700), 0);
    cr_assert_eq(mkdir(sub, 0700), 0);
    free(folder);
    free(sub);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    db_exec(db, "CREATE TABLE domains (key TEXT PRIMARY KEY NOT NULL, doc TEXT CHECK (json_extract(doc, '$.bad') "
                "IS NULL), deleted INTEGER NOT NULL DEFAULT 0, event_time_ms INTEGER NOT NULL, origin TEXT NOT NULL "
                "DEFAULT '', seq INTEGER NOT NULL, src_stream TEXT, src_partition INTEGER, src_offset INTEGER, "
                "updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)");
    open_sink("");
    rdapsync_batch *batch = batch_new(8);
    add_change(batch, "x.example", "{\"bad\":true}", 2, "o", 0, NULL, 1);
    add_change(batch, "x.example", "{\"v\":1}", 1, "o", 0, NULL, 2);
    add_change(batch, "y.example", "{\"bad\":1}", 1, "o", 0, NULL, 3);
    add_change(batch, "z.example", "{\"v\":1}", 1, "o", 0, NULL, 4);
    deliver(batch);
    cr_assert_eq(sink_reject_count(&s), 2);
    cr_assert(strstr(sink_last_reject(&s), "CHECK constraint failed"), "reason: %s", sink_last_reject(&s));
    cr_assert(strstr(sink_last_reject(&s), "y.example"), "reason: %s", sink_last_reject(&s));
    assert_live_doc(db, "x.example", "{\"v\":1}");
    assert_live_doc(db, "y.example", NULL);
    assert_live_doc(db, "z.example", "{\"v\":1}");
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite, another_writer_holding_the_lock_makes_it_answer_retry_and_the_same_batch_lands_after)
{
    open_sink("");
    sqlite3 *other = db_open(db_path);
    sqlite3_busy_timeout(other, 0);
    db_exec(other, "BEGIN IMMEDIATE");
    rdapsync_batch *batch = batch_new(8);
    add_change(batch, "r.example", "{\"v\":1}", 1, "o", 0, NULL, 1);
    rdapsync_status status = sink_write(&s, batch);
    cr_assert_eq(status, RDAPSYNC_RETRY, "write while locked: %s: %s", rdapsync_status_str(status), s.err);
    cr_assert(strstr(s.err, "locked"), "reason: %s", s.err);
    db_exec(other, "COMMIT");
    deliver(batch);
    cr_assert_eq(sink_reject_count(&s), 0);
    cr_assert_eq(db_int(other, "SELECT count(*) FROM domains_live"), 1);
    sqlite3_close(other);
    batch_free(batch);
}

Test(sink_sqlite, exactly_once_positions_are_stored_with_the_rows_and_override_the_checkpoint)
{
    open_sink("exactly_once: true");
    rdapsync_batch *batch = batch_new(8);
    add_change(batch, "p1.example", "{\"v\":1}", 1, "o", 0, "in.jsonl", 100);
    add_change(batch, "p2.example", "{\"v\":1}", 1, "o", 0, "in.jsonl", 200);
    deliver(batch);
    /* Written but never flushed: its position must not count. */
    add_change(batch, "p3.example", "{\"v\":1}", 1, "o", 0, "in.jsonl", 300);
    cr_assert_eq(sink_write(&s, batch), RDAPSYNC_OK, "%s", s.err);
    batch_reset(batch);
    sink_reopen(&s);
    cr_assert_eq(sink_open(&s), RDAPSYNC_OK, "%s", s.err);
    int64_t offset = 0;
    cr_assert(sink_checkpoint(&s, "in.jsonl", 0, &offset), "no checkpoint override on reopen");
    cr_assert_eq(offset, 200);

    sqlite3 *db = db_open(db_path);
    cr_assert_eq(db_int(db, "SELECT \"offset\" FROM rdapsync_positions WHERE pipeline = 'test' AND task = 0 AND "
                            "stream = 'in.jsonl' AND \"partition\" = 0"),
                 200);
    /* A replay of what the table holds is skipped, even a newer version. */
    add_change(batch, "p2.example", "{\"v\":\"replayed\"}", 9, "o", 0, "in.jsonl", 200);
    add_change(batch, "p3.example", "{\"v\":1}", 1, "o", 0, "in.jsonl", 300);
    deliver(batch);
    assert_live_doc(db, "p2.example", "{\"v\":1}");
    assert_live_doc(db, "p3.example", "{\"v\":1}");
    cr_assert_eq(db_int(db, "SELECT \"offset\" FROM rdapsync_positions"), 300);
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite, append_mode_keeps_every_change_in_order)
{
    open_sink("mode: append");
    rdapsync_batch *batch = batch_new(8);
    add_change(batch, "k.example", "{\"v\":2}", 2, "o", 0, NULL, 1);
    add_change(batch, "k.example", "{\"v\":1}", 1, "o", 0, NULL, 2);
    add_change(batch, "k.example", NULL, 3, "o", 0, NULL, 3);
    add_change(batch, NULL, "{\"v\":\"keyless\"}", 3, "o", 0, NULL, 4);
    deliver(batch);
    sqlite3 *db = db_open(db_path);
    char *log = db_text(db, "SELECT group_concat(coalesce(doc, 'deleted'), ';') FROM (SELECT doc FROM domains "
                            "ORDER BY id)");
    cr_assert_str_eq(log, "{\"v\":2};{\"v\":1};deleted;{\"v\":\"keyless\"}");
    free(log);
    cr_assert_eq(db_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'domains_live'"), 0);
    sqlite3_close(db);
    batch_free(batch);
}

Test(sink_sqlite, open_refuses_a_missing_table_when_it_may_not_create_it)
{
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\", table: absent, create_table: false}", db_path);
    sink_load(&s, yaml, 0);
    cr_assert_eq(sink_open(&s), RDAPSYNC_ERROR);
    cr_assert(strstr(s.err, "no such table"), "reason: %s", s.err);
}

Test(sink_sqlite, check_refuses_a_positions_table_written_without_exactly_once)
{
    char yaml[1024];
    char err[256] = "";
    snprintf(yaml, sizeof(yaml), "{path: \"%s\", positions_table: rdapsync_positions}", db_path);
    sink_load(&s, yaml, 0);
    cr_assert_eq(s.plugin->desc->check(s.settings, err, sizeof(err)), RDAPSYNC_ERROR,
                 "written, even as its default, it would be ignored");
    cr_assert(strstr(err, "positions_table is set but exactly_once is false"), "reason: %s", err);
    sink_unload(&s);
    snprintf(yaml, sizeof(yaml), "{path: \"%s\", exactly_once: false}", db_path);
    sink_load(&s, yaml, 0);
    cr_assert_eq(s.plugin->desc->check(s.settings, err, sizeof(err)), RDAPSYNC_OK, "the default alone: %s", err);
}

Test(sink_sqlite, check_refuses_reserved_names_and_positions_in_the_data_table)
{
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "{path: \"%s\", table: t, positions_table: T, exactly_once: true}", db_path);
    sink_load(&s, yaml, 0);
    char err[256] = "";
    cr_assert_eq(s.plugin->desc->check(s.settings, err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "positions_table"), "reason: %s", err);
    sink_unload(&s);
    snprintf(yaml, sizeof(yaml), "{path: \"%s\", table: sqlite_master}", db_path);
    sink_load(&s, yaml, 0);
    cr_assert_eq(s.plugin->desc->check(s.settings, err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "reserved"), "reason: %s", err);
}
