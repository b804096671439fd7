/*
 * Opening the database file and classifying SQLite's answers. The
 * classification decides the three-word answer: a lock held by another
 * writer, a full disk or an I/O error is RETRY (the host backs off and the
 * batch is written again), a row's data is a reject, anything else fails
 * the task.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sqs.h"

static const char *const synchronous_pragma[] = { "FULL", "NORMAL", "EXTRA" };

/* Creates the folders above `path` (mkdir -p of its dirname). */
static int make_parents(const char *path, char *err, size_t err_size)
{
    char *copy = strdup(path);
    if (!copy) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            snprintf(err, err_size, "cannot create folder %s for the database: %s", copy, strerror(errno));
            free(copy);
            return -1;
        }
        *p = '/';
    }
    free(copy);
    return 0;
}

static bool is_memory(const char *path)
{
    return strcmp(path, ":memory:") == 0 || strncmp(path, "file::memory:", 13) == 0;
}

/* PRAGMA journal_mode answers with the mode it ended up in. */
static rdapsync_status enable_wal(sqlite3 *db, const char *path, char *err, size_t err_size)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        sqs_error_text(db, rc, err, err_size);
        sqlite3_finalize(stmt);
        return sqs_failure_status(sqs_classify(rc));
    }
    const char *mode = (const char *)sqlite3_column_text(stmt, 0);
    bool ok = mode && (strcmp(mode, "wal") == 0 || (is_memory(path) && strcmp(mode, "memory") == 0));
    if (!ok)
        snprintf(err, err_size, "the database stays in journal mode %s, not WAL (a file system without shared "
                 "memory or locking, such as a network mount?)", mode ? mode : "(none)");
    sqlite3_finalize(stmt);
    return ok ? RDAPSYNC_OK : RDAPSYNC_ERROR;
}

sqlite3 *sqs_db_open(const sqs_config *cfg, rdapsync_status *status, char *err, size_t err_size)
{
    sqlite3 *db = NULL;
    char sql[64];

    *status = RDAPSYNC_ERROR;
    if (!is_memory(cfg->path) && strncmp(cfg->path, "file:", 5) != 0 && make_parents(cfg->path, err, err_size) != 0)
        return NULL;
    /* One connection per task, used by one thread at a time: no mutex. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    int rc = sqlite3_open_v2(cfg->path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot open %s: %s", cfg->path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        *status = sqs_failure_status(sqs_classify(rc));
        sqlite3_close_v2(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    /* Another writer (a second task, a user's sqlite3 shell) holds the
     * write lock for a moment: wait that long, then answer RETRY. */
    sqlite3_busy_timeout(db, (int)cfg->busy_timeout);
    if ((*status = enable_wal(db, cfg->path, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    /* In WAL mode, FULL syncs the log at every commit: a flush survives a
     * power cut. NORMAL only survives a crash of the process. */
    snprintf(sql, sizeof(sql), "PRAGMA synchronous=%s", synchronous_pragma[cfg->synchronous]);
    if ((*status = sqs_exec(db, sql, err, err_size)) != RDAPSYNC_OK)
        goto fail;
    /* A flush of 1,000 ~4 KB documents dirties ~2,000 pages (each row spills
     * into an overflow page). With SQLite's defaults (2 MB of cache, a
     * checkpoint whenever the WAL passes 1,000 pages) every flush spilled
     * pages mid-transaction, wrote the index pages it touched again, and ran
     * a checkpoint (two more fsyncs) at its commit. 8 MB of cache holds a
     * flush; a 16,384-page (64 MB) WAL limit checkpoints every ~8 flushes.
     * Durability does not change: a commit is durable when the WAL is
     * synced (synchronous), whenever the checkpoint runs. */
    if ((*status = sqs_exec(db, "PRAGMA cache_size=-8192; PRAGMA wal_autocheckpoint=16384", err, err_size)) !=
        RDAPSYNC_OK)
        goto fail;
    return db;

fail:
    sqlite3_close_v2(db);
    return NULL;
}

sqs_failure sqs_classify(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL:
        return SQS_FAIL_RETRY;
    case SQLITE_CONSTRAINT: /* a CHECK, NOT NULL, trigger RAISE(ABORT) of the user's */
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
        return SQS_FAIL_DATA;
    default:
        return SQS_FAIL_FATAL;
    }
}

rdapsync_status sqs_failure_status(sqs_failure failure)
{
    return failure == SQS_FAIL_RETRY ? RDAPSYNC_RETRY : RDAPSYNC_ERROR;
}

void sqs_error_text(sqlite3 *db, int rc, char *out, size_t out_size)
{
    const char *message = db ? sqlite3_errmsg(db) : NULL;
    if (!message || !*message)
        message = sqlite3_errstr(rc);
    snprintf(out, out_size, "%s (sqlite error %d)", message, rc);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

rdapsync_status sqs_exec(sqlite3 *db, const char *sql, char *err, size_t err_size)
{
    char *message = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &message);
    if (rc == SQLITE_OK)
        return RDAPSYNC_OK;
    snprintf(err, err_size, "%s (sqlite error %d)", message ? message : sqlite3_errstr(rc), rc);
    sqlite3_free(message);
    return sqs_failure_status(sqs_classify(rc));
}

char *sqs_quote_ident(const char *ident)
{
    size_t len = strlen(ident), extra = 0;
    for (size_t i = 0; i < len; i++)
        extra += ident[i] == '"';
    char *out = malloc(len + extra + 3);
    if (!out)
        return NULL;
    char *p = out;
    *p++ = '"';
    for (size_t i = 0; i < len; i++) {
        if (ident[i] == '"')
            *p++ = '"';
        *p++ = ident[i];
    }
    *p++ = '"';
    *p = '\0';
    return out;
}

char *sqs_printf(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int len = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (len < 0)
        return NULL;
    char *out = malloc((size_t)len + 1);
    if (!out)
        return NULL;
    va_start(args, fmt);
    vsnprintf(out, (size_t)len + 1, fmt, args);
    va_end(args);
    return out;
}
