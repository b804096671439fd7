/*
 * Drives the built SQLite sink the way the host does: the real loader on
 * build/plugins/sink-sqlite.so, the real option filler on a YAML snippet, a
 * context without a task (rejects and checkpoint overrides stay in the
 * context for the test to look at), real batches. The database is then read
 * directly with SQLite.
 */
#ifndef SQLITE_HARNESS_H
#define SQLITE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>
#include <sqlite3.h>

#include "loader.h"

typedef struct sink {
    loaded_plugin *plugin;
    void *settings;
    rdapsync_ctx *ctx;
    void *state;
    bool opened;
    char err[1024];
} sink;

const rdapsync_host *host(void);

/* A fresh folder under $TMPDIR; tmpdir_remove() deletes it and frees. */
char *tmpdir_new(void);
void tmpdir_remove(char *dir);
/* "<dir>/<name>", malloc'd. */
char *path_join(const char *dir, const char *name);

/* Loads the sink with options `yaml` (a YAML mapping) for pipeline
 * "test", task `task_index` of 1; fails the test on any error. */
void sink_load(sink *s, const char *yaml, int task_index);
rdapsync_status sink_open(sink *s);
/* Closes (if open), frees the context, the options and the plugin. */
void sink_unload(sink *s);
/* Closes the instance only, keeping options and a new context for a reopen. */
void sink_reopen(sink *s);
rdapsync_status sink_write(sink *s, const rdapsync_batch *batch);
rdapsync_status sink_flush(sink *s);
size_t sink_reject_count(const sink *s);
const char *sink_last_reject(const sink *s);
/* What checkpoint_get answers in the sink's context after overrides. */
bool sink_checkpoint(sink *s, const char *stream, int32_t partition, int64_t *offset);

/* Appends a record: op upsert when json is non-NULL, delete otherwise. */
rdapsync_record *add_change(rdapsync_batch *batch, const char *key, const char *json, int64_t ts,
                            const char *origin, int64_t seq, const char *stream, int64_t offset);

/* Opens the database for the test's own queries (fails the test on error). */
sqlite3 *db_open(const char *path);
/* The first column of the first row of `sql` as text, malloc'd; NULL when
 * there is no row or the value is NULL. */
char *db_text(sqlite3 *db, const char *sql);
int64_t db_int(sqlite3 *db, const char *sql);
void db_exec(sqlite3 *db, const char *sql);

#endif
