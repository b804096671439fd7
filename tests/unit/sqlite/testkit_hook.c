/*
 * The conformance kit's read-back hook for the SQLite sink
 * (sdk/testkit/testkit.h). The argument is "TABLE:PATH" (the sink's table
 * and database file). Reset drops the table, its _live view and the
 * exactly-once positions table, so every case starts from what a fresh
 * install sees. Read-back prints the live rows; SQLite builds each JSON
 * line (json() also proves the stored document is JSON).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "testkit.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT int rdapsync_testkit_reset(const char *arg, char *err, size_t err_size);
EXPORT int rdapsync_testkit_readback(const char *arg, FILE *out, char *err, size_t err_size);

typedef struct target {
    char table[256];
    char quoted[520];
    char live[520];
    const char *path;
} target;

static void quote(const char *name, const char *suffix, char *out, size_t out_size)
{
    size_t n = 0;
    out[n++] = '"';
    for (const char *p = name; *p && n + 4 < out_size; p++) {
        if (*p == '"')
            out[n++] = '"';
        out[n++] = *p;
    }
    for (const char *p = suffix; *p && n + 3 < out_size; p++)
        out[n++] = *p;
    out[n++] = '"';
    out[n] = '\0';
}

static int parse_arg(const char *arg, target *t, char *err, size_t err_size)
{
    const char *colon = strchr(arg, ':');
    if (!colon || colon == arg || !colon[1] || (size_t)(colon - arg) >= sizeof(t->table)) {
        snprintf(err, err_size, "hook argument must be TABLE:PATH, got \"%s\"", arg);
        return -1;
    }
    memcpy(t->table, arg, (size_t)(colon - arg));
    t->table[colon - arg] = '\0';
    t->path = colon + 1;
    quote(t->table, "", t->quoted, sizeof(t->quoted));
    quote(t->table, "_live", t->live, sizeof(t->live));
    return 0;
}

static sqlite3 *open_db(const char *path, char *err, size_t err_size)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

int rdapsync_testkit_reset(const char *arg, char *err, size_t err_size)
{
    target t;
    if (parse_arg(arg, &t, err, err_size) != 0)
        return -1;
    sqlite3 *db = open_db(t.path, err, err_size);
    if (!db)
        return -1;
    char sql[1200];
    snprintf(sql, sizeof(sql), "DROP VIEW IF EXISTS %s; DROP TABLE IF EXISTS %s; DROP TABLE IF EXISTS rdapsync_positions",
             t.live, t.quoted);
    char *message = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &message);
    if (rc != SQLITE_OK)
        snprintf(err, err_size, "%s", message ? message : sqlite3_errstr(rc));
    sqlite3_free(message);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

int rdapsync_testkit_readback(const char *arg, FILE *out, char *err, size_t err_size)
{
    target t;
    if (parse_arg(arg, &t, err, err_size) != 0)
        return -1;
    sqlite3 *db = open_db(t.path, err, err_size);
    if (!db)
        return -1;
    char sql[700];
    snprintf(sql, sizeof(sql), "SELECT json_object('key', key, 'value', json(doc)) FROM %s WHERE NOT deleted",
             t.quoted);
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        rc = fprintf(out, "%s\n", (const char *)sqlite3_column_text(stmt, 0)) < 0 ? SQLITE_IOERR : SQLITE_OK;
    if (rc != SQLITE_DONE)
        snprintf(err, err_size, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rc == SQLITE_DONE ? 0 : -1;
}
