/*
 * The SQLite sink's internals, shared by its files (all hidden: the plugin
 * exports only its entry symbol). docs/plugins/sink-sqlite.md describes the
 * behaviour; this header the pieces.
 *
 *   sink_sqlite.c    descriptor, options, open/close/write/flush
 *   sqs_db.c         opening the file, pragmas, error classification
 *   sqs_schema.c     the table, the live view, the write statement
 *   sqs_rows.c       a batch as rows: checks, greatest version per key
 *   sqs_apply.c      stepping the prepared statement, rejects and fallbacks
 *   sqs_positions.c  exactly-once: source positions stored with the data
 *
 * The table has the shape of the PostgreSQL sink's (docs/plugins/
 * sink-postgres.md), so that the same records give the same rows.
 */
#ifndef RDAPSYNC_SINK_SQLITE_SQS_H
#define RDAPSYNC_SINK_SQLITE_SQS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>
#include <sqlite3.h>

extern const rdapsync_host *sqs_host;

enum sqs_mode { SQS_MODE_UPSERT = 0, SQS_MODE_APPEND = 1 };
/* Index into the `synchronous` option's values, in PRAGMA order of strength. */
enum sqs_synchronous { SQS_SYNC_FULL = 0, SQS_SYNC_NORMAL = 1, SQS_SYNC_EXTRA = 2 };

/* Filled by the host from the option table in sink_sqlite.c. */
typedef struct sqs_config {
    char *path;
    char *table;
    char *key_column;
    int mode;
    bool create_table;
    int synchronous;
    int64_t busy_timeout_ms;
    bool exactly_once;
    char *positions_table;
} sqs_config;

/* Quoted names, built once at open. */
typedef struct sqs_names {
    char *table;     /* "table" */
    char *key;       /* "key" */
    char *positions; /* "rdapsync_positions" */
    char *live_view; /* "table_live" */
} sqs_names;

/* One change to apply: the greatest version of a key in the batch (upsert
 * mode) or one record (append mode). Borrowed from the batch. */
typedef struct sqs_row {
    const rdapsync_record *record;
    size_t fallback; /* upsert mode: the next older record of the same key in
                      * the sorted order (SIZE_MAX = none), tried when the
                      * database refuses this one */
} sqs_row;

typedef struct sqs_rows {
    sqs_row *rows;
    size_t count;
    /* upsert mode: records sorted by (key, version descending) */
    const rdapsync_record **sorted;
    size_t sorted_count;
} sqs_rows;

/* A record given up on, reported to host->reject only once the write
 * succeeds (a RETRY must not dead-letter it twice). */
typedef struct sqs_reject {
    const rdapsync_record *record;
    char *reason; /* owned */
} sqs_reject;

typedef struct sqs_rejects {
    sqs_reject *items;
    size_t count, capacity;
} sqs_rejects;

/* Highest offset per (stream, partition); stream "" stands for NULL. */
typedef struct sqs_position {
    char *stream; /* owned */
    int32_t partition;
    int64_t offset;
} sqs_position;

typedef struct sqs_positions {
    sqs_position *items;
    size_t count, capacity;
} sqs_positions;

/* Counts of one apply, for metrics. */
typedef struct sqs_tally {
    uint64_t applied; /* rows inserted or updated */
    uint64_t stale;   /* rows the version guard kept out */
} sqs_tally;

/* A growable byte buffer (documents are serialized into one, reused). */
typedef struct sqs_buffer {
    char *data;
    size_t len, capacity;
} sqs_buffer;

typedef struct sqs_state {
    rdapsync_ctx *ctx;
    const sqs_config *cfg;
    sqs_names names;
    char *pipeline; /* owned copy of the pipeline name */
    int task;
    sqlite3 *db;
    sqlite3_stmt *write_stmt;
    sqlite3_stmt *position_stmt; /* exactly-once only */
    bool in_transaction;
    size_t writes_in_transaction; /* successful write() calls since the last commit */
    sqs_buffer doc;
    /* exactly-once: written since the last commit, and what the file holds */
    sqs_positions pending;
    sqs_positions committed;
} sqs_state;

/* How a failed call should be handled. */
typedef enum sqs_failure {
    SQS_FAIL_RETRY = 0, /* locked by another writer, disk full, I/O: redo later */
    SQS_FAIL_DATA = 1,  /* this row's data (constraint, too big): reject it, keep the others */
    SQS_FAIL_FATAL = 2  /* schema, permissions, corruption, bug: the task fails */
} sqs_failure;

/* ---- sqs_db.c ---- */

/* Opens (creating it and its folder if needed) and sets the pragmas: WAL,
 * synchronous, busy timeout. NULL with err on failure; *status then says
 * RETRY or ERROR. Caller closes with sqlite3_close_v2(). */
sqlite3 *sqs_db_open(const sqs_config *cfg, rdapsync_status *status, char *err, size_t err_size);
/* Classifies a result code (extended codes are fine). */
sqs_failure sqs_classify(int rc);
rdapsync_status sqs_failure_status(sqs_failure failure);
/* "message (SQLITE_CODE)" of the connection's last error. */
void sqs_error_text(sqlite3 *db, int rc, char *out, size_t out_size);
/* Runs statements with no result rows. OK, or RETRY / ERROR by
 * sqs_classify() (data errors count as ERROR here) with err filled. */
rdapsync_status sqs_exec(sqlite3 *db, const char *sql, char *err, size_t err_size);
/* "ident" quoted as an SQL identifier; caller frees. NULL on allocation failure. */
char *sqs_quote_ident(const char *ident);
/* printf into a new buffer; caller frees. */
char *sqs_printf(const char *fmt, ...) RDAPSYNC_PRINTF(1, 2);

/* ---- sqs_schema.c ---- */

int sqs_names_build(const sqs_config *cfg, sqs_names *names);
void sqs_names_free(sqs_names *names);
/* Creates the table (and in upsert mode the live view) if asked, in one
 * immediate transaction so that tasks starting together do not race. */
rdapsync_status sqs_schema_ensure(sqlite3 *db, const sqs_config *cfg, const sqs_names *names, char *err,
                                  size_t err_size);
/* Prepares the write statement of the mode. Caller finalizes. */
rdapsync_status sqs_schema_prepare(sqlite3 *db, const sqs_config *cfg, const sqs_names *names, sqlite3_stmt **out,
                                   char *err, size_t err_size);
/* Parameters of the write statement, in order (1-based in SQLite). */
enum {
    SQS_P_KEY = 1, SQS_P_DOC, SQS_P_DELETED, SQS_P_TS, SQS_P_ORIGIN, SQS_P_SEQ, SQS_P_STREAM, SQS_P_PARTITION,
    SQS_P_OFFSET
};

/* ---- sqs_rows.c ---- */

/* The total order of versions: event time, origin bytewise (NULL = ""), sequence. */
int sqs_version_cmp(const rdapsync_version *a, const rdapsync_version *b);
/* Builds rows from the batch. Records that can never be stored (no key in
 * upsert mode, a NUL in the key, an upsert without a document) go to
 * `rejects`; records the exactly-once table already holds are skipped.
 * Returns 0, or -1 on allocation failure. Free with sqs_rows_free(). */
int sqs_rows_build(const rdapsync_batch *batch, int mode, const sqs_positions *committed, sqs_rows *out,
                   sqs_rejects *rejects, uint64_t *skipped);
/* Replaces rows->rows[index] by its fallback (the next older version of the
 * key). Returns true if there was one. */
bool sqs_rows_use_fallback(sqs_rows *rows, size_t index);
void sqs_rows_free(sqs_rows *rows);

int sqs_rejects_add(sqs_rejects *rejects, const rdapsync_record *record, const char *fmt, ...)
    RDAPSYNC_PRINTF(3, 4);
void sqs_rejects_clear(sqs_rejects *rejects);

/* ---- sqs_apply.c ---- */

/* Applies every row inside the open transaction. Rows the database refuses
 * for their data are replaced by their fallback or added to `rejects`, and
 * the others still land. Returns OK, RETRY or ERROR, with err. */
rdapsync_status sqs_apply(sqs_state *st, sqs_rows *rows, sqs_rejects *rejects, sqs_tally *tally, char *err,
                          size_t err_size);

/* ---- sqs_positions.c ---- */

int sqs_positions_note(sqs_positions *positions, const char *stream, int32_t partition, int64_t offset);
/* The offset held for (stream, partition), or -1. */
int64_t sqs_positions_find(const sqs_positions *positions, const char *stream, int32_t partition);
void sqs_positions_clear(sqs_positions *positions);
void sqs_positions_free(sqs_positions *positions);
int sqs_positions_merge(sqs_positions *into, const sqs_positions *from);
/* Creates the positions table if needed. */
rdapsync_status sqs_positions_ensure(sqlite3 *db, const sqs_names *names, char *err, size_t err_size);
/* Reads this task's stored positions into `out`. */
rdapsync_status sqs_positions_load(sqlite3 *db, const sqs_names *names, const char *pipeline, int task,
                                   sqs_positions *out, char *err, size_t err_size);
/* Prepares the statement sqs_positions_store() uses. Caller finalizes. */
rdapsync_status sqs_positions_prepare(sqlite3 *db, const sqs_names *names, sqlite3_stmt **out, char *err,
                                      size_t err_size);
/* Writes `positions` inside the open transaction. */
rdapsync_status sqs_positions_store(sqlite3 *db, sqlite3_stmt *stmt, const char *pipeline, int task,
                                    const sqs_positions *positions, char *err, size_t err_size);

#endif
