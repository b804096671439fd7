/* The delta transform's state in SQLite (dstate.h). */
#include "dstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <sqlite3.h>

#include "keymap.h"

_Static_assert(KEYMAP_HASH_BYTES == DSTATE_HASH_BYTES, "one hash size");

/* A pending row not written yet: copies of the record's key, hash,
 * document and position. */
struct held {
    char *key;
    size_t key_len;
    bool live;
    unsigned char hash[DSTATE_HASH_BYTES];
    char *doc;
    char *stream;
    int32_t partition;
    int64_t offset;
};

struct dstate {
    sqlite3 *db;
    keymap *keys; /* latest hash per key seen since open (keymap.h) */
    bool docs;    /* documents kept: temp.recent is written and read */
    unsigned char *key; /* the content hash's key (meta 'key'), NULL when it takes none */
    /* Once dstate_flush() was called (the host calls transform_batch_end),
     * pending rows wait here until it is called again, and go to the file
     * in one transaction; before that, each is written as it comes. */
    bool batched;
    struct held *held;
    size_t held_count, held_cap;
    sqlite3_stmt *get_pending, *get_durable, *add_pending, *add_recent, *scan, *put, *del, *forget, *trim;
};

static int failed(sqlite3 *db, const char *what, char *err, size_t err_size)
{
    snprintf(err, err_size, "delta state: %s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
    return -1;
}

/* The file is this task's alone: an exclusive lock, taken once, spares two
 * lock calls per statement (most of the cost of a lookup otherwise). WAL
 * with synchronous NORMAL: every commit (a pending row, a checkpoint's
 * promotion) is in the file when the call returns and survives a kill -9;
 * a power loss may undo the last ones, which leaves the state behind the
 * checkpoint: documents are then sent again, never skipped. */
static const char pragmas[] =
    "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
    "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;";
static const char schema[] =
    /* format (DSTATE_FORMAT), hash (its name), key (its key, a blob) */
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value); "
    /* A rowid table: rows with documents are too big for WITHOUT ROWID. */
    "CREATE TABLE IF NOT EXISTS delivered (key BLOB PRIMARY KEY, hash BLOB NOT NULL, doc TEXT); "
    /* Append-only, no index: one page written per row. */
    "CREATE TABLE IF NOT EXISTS pending (seq INTEGER PRIMARY KEY, key BLOB NOT NULL, hash BLOB, doc TEXT, "
    "stream TEXT NOT NULL, part INTEGER NOT NULL, off INTEGER NOT NULL); "
    /* In memory: the latest version passed of each key with pending rows,
     * for lookups. */
    "CREATE TEMP TABLE recent (key BLOB PRIMARY KEY, hash BLOB, doc TEXT);";

static int prepare(dstate *s, const char *sql, sqlite3_stmt **out, char *err, size_t err_size)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK)
        return failed(s->db, "prepare", err, err_size);
    return 0;
}

/* Whether the main database has a table named `name`: 1, 0, or -1. */
static int has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?1", -1, &q, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The meta value `name` into *out (a statement the caller finalizes, stepped
 * onto its row): 1, 0 when there is none, -1. */
static int meta_get(sqlite3 *db, const char *name, sqlite3_stmt **out)
{
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = ?1", -1, out, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(*out, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(*out);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int meta_put(sqlite3 *db, const char *name, int64_t number, const char *text, const void *blob, size_t len)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)", -1, &q, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    if (text)
        sqlite3_bind_text(q, 2, text, -1, SQLITE_STATIC);
    else if (blob)
        sqlite3_bind_blob(q, 2, blob, (int)len, SQLITE_STATIC);
    else
        sqlite3_bind_int64(q, 2, number);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* What the file holds: its format (0 for a new file) and, in `hash`, the
 * name of the hash its rows were made with. 0 or -1. */
static int stored_format(sqlite3 *db, int *format, char hash[32])
{
    int meta = has_table(db, "meta"), rows = has_table(db, "delivered");
    sqlite3_stmt *q = NULL;
    if (meta < 0 || rows < 0)
        return -1;
    *format = meta ? 0 : rows ? 1 : 0;
    snprintf(hash, 32, "%s", rows ? "sha256" : "");
    if (meta && meta_get(db, "format", &q) == 1)
        *format = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (meta && meta_get(db, "hash", &q) == 1 && sqlite3_column_type(q, 0) == SQLITE_TEXT)
        snprintf(hash, 32, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return 0;
}

/* Reads the hash's key, or makes a new one (then the file records the
 * current format, the hash and the key). 0 or -1. */
static int settle_key(dstate *s, const char *hash, size_t key_bytes, bool make)
{
    sqlite3_stmt *q = NULL;
    if (!key_bytes)
        return make ? meta_put(s->db, "format", DSTATE_FORMAT, NULL, NULL, 0) ||
                          meta_put(s->db, "hash", 0, hash, NULL, 0)
                    : 0;
    if (!(s->key = malloc(key_bytes)))
        return -1;
    if (!make) {
        int rc = meta_get(s->db, "key", &q);
        bool ok = rc == 1 && sqlite3_column_bytes(q, 0) == (int)key_bytes;
        if (ok)
            memcpy(s->key, sqlite3_column_blob(q, 0), key_bytes);
        sqlite3_finalize(q);
        return ok ? 0 : -1;
    }
    for (size_t got = 0; got < key_bytes;) {
        ssize_t n = getrandom(s->key + got, key_bytes - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return meta_put(s->db, "format", DSTATE_FORMAT, NULL, NULL, 0) || meta_put(s->db, "hash", 0, hash, NULL, 0) ||
                   meta_put(s->db, "key", 0, NULL, s->key, key_bytes)
               ? -1
               : 0;
}

/* Creates the tables and brings the file to DSTATE_FORMAT for `hash`, in
 * one transaction (dstate_open says how). 0, or -1 with err. */
static int settle_format(dstate *s, const char *path, const char *hash, size_t key_bytes, bool *rebuilt, char *err,
                         size_t err_size)
{
    int format;
    char stored[32];
    *rebuilt = false;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return failed(s->db, "begin", err, err_size);
    if (stored_format(s->db, &format, stored) != 0) {
        failed(s->db, "reading its format", err, err_size);
        goto fail;
    }
    if (format > DSTATE_FORMAT) {
        snprintf(err, err_size, "delta state %s: format %d is newer than this delta's (%d): written by a later "
                 "rdapsync; give this one another state_file, or upgrade", path, format, DSTATE_FORMAT);
        goto fail;
    }
    bool same = format == DSTATE_FORMAT && strcmp(stored, hash) == 0;
    if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        failed(s->db, "schema", err, err_size);
        goto fail;
    }
    /* Hashes of another kind cannot be compared with the new ones. */
    if (format != 0 && strcmp(stored, hash) != 0) {
        if (sqlite3_exec(s->db, "DELETE FROM delivered; DELETE FROM pending;", NULL, NULL, NULL) != SQLITE_OK) {
            failed(s->db, "rebuilding", err, err_size);
            goto fail;
        }
        *rebuilt = true;
    }
    if (settle_key(s, hash, key_bytes, !same) != 0) {
        snprintf(err, err_size, "delta state %s: its hash key is missing or of the wrong size (%s)", path,
                 sqlite3_errmsg(s->db));
        goto fail;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    failed(s->db, "commit", err, err_size);
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

dstate *dstate_open(const char *dir, const char *file, bool docs, const char *hash, size_t key_bytes, bool *rebuilt,
                    rdapsync_status *status, char *err, size_t err_size)
{
    dstate *s = calloc(1, sizeof *s);
    char path[4096];
    *status = RDAPSYNC_ERROR;
    if (!s || !(s->keys = keymap_new())) {
        dstate_close(s);
        snprintf(err, err_size, "out of memory");
        *status = RDAPSYNC_RETRY;
        return NULL;
    }
    s->docs = docs;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(s->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "delta state %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        dstate_close(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 5000);
    if (settle_format(s, path, hash, key_bytes, rebuilt, err, err_size) != 0) {
        dstate_close(s);
        return NULL;
    }
    if (prepare(s, "SELECT hash, doc FROM temp.recent WHERE key = ?1", &s->get_pending, err, err_size) ||
        prepare(s, "INSERT OR REPLACE INTO temp.recent (key, hash, doc) VALUES (?1, ?2, ?3)", &s->add_recent, err,
                err_size) ||
        prepare(s, "DELETE FROM temp.recent WHERE key NOT IN (SELECT key FROM pending)", &s->trim, err, err_size) ||
        prepare(s, "SELECT hash, doc FROM delivered WHERE key = ?1", &s->get_durable, err, err_size) ||
        prepare(s, "INSERT INTO pending (key, hash, doc, stream, part, off) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &s->add_pending, err, err_size) ||
        prepare(s, "SELECT key, hash, doc FROM pending WHERE stream = ?1 AND part = ?2 AND off <= ?3 ORDER BY seq",
                &s->scan, err, err_size) ||
        prepare(s, "INSERT OR REPLACE INTO delivered (key, hash, doc) VALUES (?1, ?2, ?3)", &s->put, err,
                err_size) ||
        prepare(s, "DELETE FROM delivered WHERE key = ?1", &s->del, err, err_size) ||
        prepare(s, "DELETE FROM pending WHERE stream = ?1 AND part = ?2 AND off <= ?3", &s->forget, err,
                err_size)) {
        dstate_close(s);
        return NULL;
    }
    *status = RDAPSYNC_OK;
    return s;
}

static void forget_held(dstate *s)
{
    for (size_t i = 0; i < s->held_count; i++) {
        free(s->held[i].key);
        free(s->held[i].doc);
        free(s->held[i].stream);
    }
    s->held_count = 0;
}

void dstate_close(dstate *s)
{
    if (!s)
        return;
    sqlite3_stmt *all[] = {s->get_pending, s->get_durable, s->add_pending, s->add_recent, s->scan, s->put, s->del,
                           s->forget, s->trim};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    sqlite3_close_v2(s->db);
    keymap_free(s->keys);
    free(s->key);
    forget_held(s);
    free(s->held);
    free(s);
}

const unsigned char *dstate_hash_key(const dstate *s) { return s->key; }

/* 1 found (hash and doc read), 0 not found, -1 error; resets the statement. */
static int read_row(sqlite3_stmt *q, unsigned char hash[DSTATE_HASH_BYTES], char **doc, bool *deleted)
{
    int rc = sqlite3_step(q);
    int out = 0;
    *deleted = false;
    if (rc == SQLITE_ROW) {
        out = 1;
        if (sqlite3_column_type(q, 0) == SQLITE_NULL || sqlite3_column_bytes(q, 0) != DSTATE_HASH_BYTES) {
            *deleted = true;
        } else {
            memcpy(hash, sqlite3_column_blob(q, 0), DSTATE_HASH_BYTES);
            if (doc && sqlite3_column_type(q, 1) != SQLITE_NULL) {
                *doc = strdup((const char *)sqlite3_column_text(q, 1));
                if (!*doc)
                    out = -1;
            }
        }
    } else if (rc != SQLITE_DONE) {
        out = -1;
    }
    sqlite3_reset(q);
    return out;
}

int dstate_lookup(dstate *s, const char *key, size_t key_len, unsigned char hash[DSTATE_HASH_BYTES], char **doc,
                  char *err, size_t err_size)
{
    sqlite3_stmt *qs[2] = {s->get_pending, s->get_durable};
    bool live;
    if (doc)
        *doc = NULL;
    else if (keymap_get(s->keys, key, key_len, hash, &live))
        return live ? 1 : 0; /* the common path: no SQLite call */
    for (int i = 0; i < 2; i++) {
        bool deleted;
        sqlite3_bind_blob(qs[i], 1, key, (int)key_len, SQLITE_STATIC);
        int rc = read_row(qs[i], hash, doc, &deleted);
        if (rc < 0)
            return failed(s->db, "lookup", err, err_size);
        if (rc == 1) {
            /* A failed keymap_put only costs this lookup again. */
            if (!doc)
                keymap_put(s->keys, key, key_len, deleted ? NULL : hash);
            return deleted ? 0 : 1;
        }
    }
    if (!doc)
        keymap_put(s->keys, key, key_len, NULL);
    return 0;
}

/* One row into `pending`. SQLITE_DONE or an SQLite error. */
static int write_pending(dstate *s, const char *key, size_t key_len, const unsigned char *hash, const char *doc,
                         const char *stream, int32_t partition, int64_t offset)
{
    sqlite3_stmt *q = s->add_pending;
    sqlite3_bind_blob(q, 1, key, (int)key_len, SQLITE_STATIC);
    if (hash)
        sqlite3_bind_blob(q, 2, hash, DSTATE_HASH_BYTES, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 2);
    if (doc)
        sqlite3_bind_text(q, 3, doc, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 3);
    sqlite3_bind_text(q, 4, stream ? stream : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 5, partition);
    sqlite3_bind_int64(q, 6, offset);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc;
}

/* Keeps a copy of the row for dstate_flush. 0 or -1 (out of memory). */
static int hold(dstate *s, const char *key, size_t key_len, const unsigned char *hash, const char *doc,
                const rdapsync_position *position)
{
    if (s->held_count == s->held_cap) {
        size_t cap = s->held_cap ? s->held_cap * 2 : 256;
        struct held *grown = realloc(s->held, cap * sizeof *grown);
        if (!grown)
            return -1;
        s->held = grown;
        s->held_cap = cap;
    }
    struct held *h = &s->held[s->held_count];
    *h = (struct held){.key = malloc(key_len ? key_len : 1), .key_len = key_len, .live = hash != NULL,
                       .doc = doc ? strdup(doc) : NULL, .stream = position->stream ? strdup(position->stream) : NULL,
                       .partition = position->partition, .offset = position->offset};
    if (!h->key || (doc && !h->doc) || (position->stream && !h->stream)) {
        free(h->key);
        free(h->doc);
        free(h->stream);
        return -1;
    }
    memcpy(h->key, key, key_len);
    if (hash)
        memcpy(h->hash, hash, DSTATE_HASH_BYTES);
    s->held_count++;
    return 0;
}

int dstate_flush(dstate *s, char *err, size_t err_size)
{
    s->batched = true;
    if (!s->held_count)
        return 0;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return failed(s->db, "begin", err, err_size);
    for (size_t i = 0; i < s->held_count; i++) {
        const struct held *h = &s->held[i];
        if (write_pending(s, h->key, h->key_len, h->live ? h->hash : NULL, h->doc, h->stream, h->partition,
                          h->offset) != SQLITE_DONE) {
            failed(s->db, "pending", err, err_size);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        failed(s->db, "pending", err, err_size);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    forget_held(s);
    return 0;
}

int dstate_pending(dstate *s, const char *key, size_t key_len, const unsigned char *hash, const char *doc,
                   const rdapsync_position *position, char *err, size_t err_size)
{
    if (s->batched && hold(s, key, key_len, hash, doc, position) != 0) {
        snprintf(err, err_size, "delta state: out of memory");
        return -1;
    }
    if (!s->batched && write_pending(s, key, key_len, hash, doc, position->stream, position->partition,
                                     position->offset) != SQLITE_DONE)
        return failed(s->db, "pending", err, err_size);
    /* Lookups of the key now answer this version: from the map, and (for
     * the documents of merge patches, or when the map is out of memory)
     * from temp.recent, which hides the durable row until the commit. */
    bool mapped = keymap_put(s->keys, key, key_len, hash) == 0;
    if (mapped && !s->docs)
        return 0;
    sqlite3_stmt *q = s->add_recent;
    sqlite3_bind_blob(q, 1, key, (int)key_len, SQLITE_STATIC);
    if (hash)
        sqlite3_bind_blob(q, 2, hash, DSTATE_HASH_BYTES, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 2);
    if (doc)
        sqlite3_bind_text(q, 3, doc, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 3);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : failed(s->db, "pending", err, err_size);
}

/* Moves the pending rows of one position into `delivered`. */
static int commit_one(dstate *s, const rdapsync_position *p)
{
    sqlite3_stmt *scan = s->scan;
    int rc;
    sqlite3_bind_text(scan, 1, p->stream ? p->stream : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(scan, 2, p->partition);
    sqlite3_bind_int64(scan, 3, p->offset);
    while ((rc = sqlite3_step(scan)) == SQLITE_ROW) {
        sqlite3_stmt *w = sqlite3_column_type(scan, 1) == SQLITE_NULL ? s->del : s->put;
        sqlite3_bind_value(w, 1, sqlite3_column_value(scan, 0));
        if (w == s->put) {
            sqlite3_bind_value(w, 2, sqlite3_column_value(scan, 1));
            sqlite3_bind_value(w, 3, sqlite3_column_value(scan, 2));
        }
        int wrc = sqlite3_step(w);
        sqlite3_reset(w);
        if (wrc != SQLITE_DONE) {
            sqlite3_reset(scan);
            return -1;
        }
    }
    sqlite3_reset(scan);
    if (rc != SQLITE_DONE)
        return -1;
    sqlite3_stmt *f = s->forget;
    sqlite3_bind_text(f, 1, p->stream ? p->stream : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(f, 2, p->partition);
    sqlite3_bind_int64(f, 3, p->offset);
    rc = sqlite3_step(f);
    sqlite3_reset(f);
    return rc == SQLITE_DONE ? 0 : -1;
}

int dstate_commit(dstate *s, const rdapsync_position *positions, size_t count, char *err, size_t err_size)
{
    /* Never the case with a host that keeps its contract (the batch's end
     * came first), but rows the commit covers must be in the file. */
    if (s->held_count && dstate_flush(s, err, err_size) != 0)
        return -1;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return failed(s->db, "begin", err, err_size);
    bool ok = true;
    for (size_t i = 0; i < count && ok; i++)
        ok = commit_one(s, &positions[i]) == 0;
    /* Keys with nothing pending any more are looked up in `delivered` again. */
    if (ok) {
        ok = sqlite3_step(s->trim) == SQLITE_DONE;
        sqlite3_reset(s->trim);
    }
    if (!ok) {
        failed(s->db, "commit", err, err_size);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        failed(s->db, "commit", err, err_size);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int dstate_recover(dstate *s, dstate_resume_fn resume, void *opaque, size_t *promoted, size_t *discarded, char *err,
                   size_t err_size)
{
    sqlite3_stmt *q = NULL;
    rdapsync_position *positions = NULL;
    size_t count = 0;
    int rc = -1;

    *promoted = *discarded = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT stream, part FROM pending", -1, &q, NULL) != SQLITE_OK)
        return failed(s->db, "recover", err, err_size);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *stream = (const char *)sqlite3_column_text(q, 0);
        int32_t part = sqlite3_column_int(q, 1);
        int64_t offset;
        if (!resume(opaque, stream && *stream ? stream : NULL, part, &offset))
            continue; /* no checkpoint: nothing of it was delivered */
        rdapsync_position *grown = realloc(positions, (count + 1) * sizeof *grown);
        char *copy = strdup(stream ? stream : "");
        if (!grown || !copy) {
            free(copy);
            positions = grown ? grown : positions;
            snprintf(err, err_size, "out of memory");
            goto out;
        }
        positions = grown;
        positions[count++] = (rdapsync_position){.stream = copy, .partition = part, .offset = offset};
    }
    sqlite3_finalize(q);
    q = NULL;
    sqlite3_int64 before = 0, after = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM pending", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        before = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    /* What the resumed checkpoint covers was delivered: make it state. */
    if (dstate_commit(s, positions, count, err, err_size) != 0)
        goto out;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM pending", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        after = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    /* The rest comes again from the source and is judged again. */
    if (sqlite3_exec(s->db, "DELETE FROM pending", NULL, NULL, NULL) != SQLITE_OK) {
        failed(s->db, "recover", err, err_size);
        goto out;
    }
    *promoted = (size_t)(before - after);
    *discarded = (size_t)after;
    rc = 0;
out:
    sqlite3_finalize(q);
    for (size_t i = 0; i < count; i++)
        free((char *)positions[i].stream);
    free(positions);
    return rc;
}
