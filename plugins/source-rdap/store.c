/*
 * Per-object state in SQLite, in the task's state directory.
 *
 * `objects` holds what the sink durably has: the content hash of the last
 * record delivered for each object, its validators and its next due time.
 * An emitted record's new state first goes to `pending` under the
 * record's sequence number (its position); commit() moves the rows at or
 * below the committed position into `objects`. After a kill -9, open()
 * settles `pending` against the host's checkpoint: rows the checkpoint
 * covers were delivered and are applied, the others are dropped and their
 * objects fetched again — so nothing is re-emitted wholesale and no change
 * is lost. An answer that emits nothing ("unchanged", 304) is written to
 * `objects` at once, unless the object has a pending row: the committed
 * row must keep the old hash and validators until that row is committed,
 * or a crash would leave a 304 standing for a change never delivered.
 */
#define _POSIX_C_SOURCE 200809L
#include "source_rdap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H source_rdap_host

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS objects(id TEXT PRIMARY KEY, key TEXT, hash BLOB, etag TEXT, last_modified TEXT,"
    " next_due INTEGER, fetched_ms INTEGER, deleted INTEGER);"
    "CREATE TABLE IF NOT EXISTS pending(seq INTEGER PRIMARY KEY, id TEXT, key TEXT, hash BLOB, etag TEXT,"
    " last_modified TEXT, next_due INTEGER, fetched_ms INTEGER, deleted INTEGER);"
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER);";

int store_open(rdap_source *s, char *err, size_t err_size)
{
    const char *dir = H->state_dir(s->ctx);
    char path[4096];
    char *msg = NULL;

    if (!dir) {
        snprintf(err, err_size, "the host gives no state directory");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/source-rdap.db", dir);
    if (sqlite3_open(path, &s->store.db) != SQLITE_OK ||
        sqlite3_exec(s->store.db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, err_size, "%s: %s", path, msg ? msg : sqlite3_errmsg(s->store.db));
        sqlite3_free(msg);
        return -1;
    }
    sqlite3_busy_timeout(s->store.db, 5000);
    return 0;
}

void store_close(rdap_store *st)
{
    if (st->in_tx)
        store_end(st);
    sqlite3_close(st->db);
    st->db = NULL;
}

static int begin(rdap_store *st)
{
    if (st->in_tx)
        return 0;
    if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    st->in_tx = true;
    return 0;
}

int store_end(rdap_store *st)
{
    if (!st->in_tx)
        return 0;
    st->in_tx = false;
    return sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, i);
}

static int put_row(rdap_source *s, const char *sql, int64_t seq, const rdap_object *o)
{
    sqlite3_stmt *q = NULL;
    int i = 1, rc;
    if (begin(&s->store) != 0 || sqlite3_prepare_v2(s->store.db, sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    if (seq > 0)
        sqlite3_bind_int64(q, i++, seq);
    bind_text(q, i++, o->spec.id);
    bind_text(q, i++, o->key);
    if (o->has_hash)
        sqlite3_bind_blob(q, i++, o->hash, 32, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, i++);
    bind_text(q, i++, o->etag);
    bind_text(q, i++, o->last_modified);
    sqlite3_bind_int64(q, i++, o->next_due);
    sqlite3_bind_int64(q, i++, o->fetched_ms);
    sqlite3_bind_int(q, i++, o->deleted);
    rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(q);
    return rc;
}

int store_put_object(rdap_source *s, const rdap_object *o)
{
    return put_row(s, "INSERT OR REPLACE INTO objects VALUES(?,?,?,?,?,?,?,?)", 0, o);
}

int store_put_pending(rdap_source *s, int64_t seq, const rdap_object *o)
{
    return put_row(s, "INSERT OR REPLACE INTO pending VALUES(?,?,?,?,?,?,?,?,?)", seq, o);
}

static int exec_int(rdap_source *s, const char *sql, int64_t v)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->store.db, sql, -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, v);
        rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(q);
    return rc;
}

int store_settle(rdap_source *s, int64_t upto, bool drop_rest)
{
    int rc = begin(&s->store);
    if (rc == 0)
        rc = exec_int(s, "INSERT OR REPLACE INTO objects SELECT id, key, hash, etag, last_modified, next_due,"
                         " fetched_ms, deleted FROM pending WHERE seq <= ?1 ORDER BY seq", upto);
    if (rc == 0)
        rc = exec_int(s, drop_rest ? "DELETE FROM pending WHERE ?1 = ?1" : "DELETE FROM pending WHERE seq <= ?1",
                      upto);
    if (rc == 0)
        rc = exec_int(s, "INSERT OR REPLACE INTO meta VALUES('seq', max(?1, coalesce((SELECT value FROM meta"
                         " WHERE name = 'seq'), 0)))", upto);
    if (store_end(&s->store) != 0)
        rc = -1;
    return rc;
}

int store_meta_get(rdap_store *st, const char *name, int64_t *value)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE name = ?", -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) {
            *value = sqlite3_column_int64(q, 0);
            rc = 0;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

int store_meta_set(rdap_store *st, const char *name, int64_t value)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO meta VALUES(?, ?)", -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, value);
        rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(q);
    return rc;
}

int store_meta_del(rdap_store *st, const char *name)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(st->db, "DELETE FROM meta WHERE name = ?", -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(q);
    return rc;
}

/* A column as a string the caller frees, NULL for SQL NULL. */
static char *col_dup(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? strdup((const char *)t) : NULL;
}

int store_load(rdap_source *s, char *err, size_t err_size)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->store.db, "SELECT id, key, hash, etag, last_modified, next_due, fetched_ms, deleted"
                                        " FROM objects", -1, &q, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "state: %s", sqlite3_errmsg(s->store.db));
        return -1;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        long i = index_find(s, (const char *)sqlite3_column_text(q, 0));
        if (i < 0)
            continue; /* no longer listed */
        rdap_object *o = &s->objects[i];
        o->key = col_dup(q, 1);
        if (sqlite3_column_bytes(q, 2) == 32) {
            memcpy(o->hash, sqlite3_column_blob(q, 2), 32);
            o->has_hash = true;
        }
        o->etag = col_dup(q, 3);
        o->last_modified = col_dup(q, 4);
        o->next_due = sqlite3_column_int64(q, 5);
        o->fetched_ms = sqlite3_column_int64(q, 6);
        o->deleted = sqlite3_column_int(q, 7) != 0;
    }
    sqlite3_finalize(q);
    return 0;
}
