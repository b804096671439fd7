/*
 * The SQLite sink's internals, shared by its files (all hidden: the plugin
 * exports only its entry symbol). docs/plugins/sink-sqlite.md describes the
 * behaviour; this header the pieces.
 *
 *   sink_sqlite.c    descriptor, options, the store's operations for the
 *                    SDK's writer (rdapsync/sinktk.h), which plans the
 *                    rows, runs the transactions and keeps the positions
 *   sqs_db.c         opening the file, pragmas, error classification
 *   sqs_schema.c     the table, the live view, the write statement
 *   sqs_apply.c      stepping the prepared statement, rejects and fallbacks
 *   sqs_positions.c  exactly-once: the positions table
 *   sqs_history.c    the history table (history: { table: NAME })
 *   sqs_subject.c    subject find/erase and retention purge (ABI 1.5)
 *   sqs_mvr.c        the heads and conflict log tables (conflicts: {...})
 *
 * The table has the shape of the PostgreSQL sink's (docs/plugins/
 * sink-postgres.md), so that the same records give the same rows.
 */
#ifndef RDAPSYNC_SINK_SQLITE_SQS_H
#define RDAPSYNC_SINK_SQLITE_SQS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/sinktk.h>
#include <sqlite3.h>

extern const rdapsync_host *sqs_host;

/* Index into the `synchronous` option's values, in PRAGMA order of strength. */
enum sqs_synchronous { SQS_SYNC_FULL = 0, SQS_SYNC_NORMAL = 1, SQS_SYNC_EXTRA = 2 };

/* Filled by the host from the option table in sink_sqlite.c; each member
 * is named after its option. */
typedef struct sqs_config {
    char *path;
    char *table;
    char *key_column;
    int mode; /* rdapsync_sinktk_mode */
    bool create_table;
    int synchronous;
    int64_t busy_timeout; /* ms */
    bool exactly_once;
    char *positions_table;
    char *history; /* JSON { "table": NAME } or NULL */
    char *conflicts; /* JSON { strategy, regions, table } or NULL */
    rdapsync_options_set set; /* which of them the file wrote */
} sqs_config;

/* Quoted names, built once at open. */
typedef struct sqs_names {
    char *table;     /* "table" */
    char *key;       /* "key" */
    char *positions; /* "rdapsync_positions" */
    char *live_view; /* "table_live" */
    char *history;   /* "history table", or NULL without history */
    char *heads;     /* "table_heads", or NULL without conflicts */
    char *conflicts; /* the conflict log, or NULL without conflicts */
} sqs_names;

/* A growable byte buffer (documents are serialized into one, reused). */
typedef struct sqs_buffer {
    char *data;
    size_t len, capacity;
} sqs_buffer;

typedef struct sqs_state {
    rdapsync_ctx *ctx;
    const sqs_config *cfg;
    sqs_names names;
    rdapsync_sinktk_writer writer;
    sqlite3 *db;
    sqlite3_stmt *write_stmt;
    sqlite3_stmt *position_stmt; /* exactly-once only */
    sqlite3_stmt *history_insert; /* history only */
    sqlite3_stmt *history_close;  /* history only */
    char *history_table;          /* the unquoted name from the option, or NULL */
    rdapsync_sinktk_conflicts *conflicts; /* the conflicts option read, or NULL */
    sqlite3_stmt *mvr[5];                 /* conflicts only, by enum sqs_mvr_statement (SQS_MVR_COUNT) */
    sqs_buffer doc;
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

/* `history` is the unquoted history table name, `conflicts` the conflict
 * log's, or NULL. */
int sqs_names_build(const sqs_config *cfg, const char *history, const char *conflicts, sqs_names *names);
void sqs_names_free(sqs_names *names);
/* Creates the table (and in upsert mode the live view) if asked, in one
 * immediate transaction so that tasks starting together do not race. */
rdapsync_status sqs_schema_ensure(sqlite3 *db, const sqs_config *cfg, const sqs_names *names, char *err,
                                  size_t err_size);
/* Prepares the write statement of the mode. Caller finalizes. */
rdapsync_status sqs_schema_prepare(sqlite3 *db, const sqs_config *cfg, const sqs_names *names, sqlite3_stmt **out,
                                   char *err, size_t err_size);
/* The upsert into the data table, with the version guard or (the
 * register's visible row) without. Caller frees; NULL (memory). */
char *sqs_upsert_sql(const sqs_names *names, bool guarded);
/* Parameters of the write statement, in order (1-based in SQLite). */
enum {
    SQS_P_KEY = 1, SQS_P_DOC, SQS_P_DELETED, SQS_P_TS, SQS_P_ORIGIN, SQS_P_SEQ, SQS_P_STREAM, SQS_P_PARTITION,
    SQS_P_OFFSET
};

/* ---- sqs_apply.c ---- */

/* Applies every row inside the open transaction. Rows the database refuses
 * for their data are replaced by their fallback or added to `rejects`, and
 * the others still land. Returns OK, RETRY or ERROR, with err. */
rdapsync_status sqs_apply(sqs_state *st, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                          rdapsync_sinktk_tally *tally, char *err, size_t err_size);

/* ---- sqs_positions.c ---- */

/* Creates the positions table if needed. */
rdapsync_status sqs_positions_ensure(sqlite3 *db, const sqs_names *names, char *err, size_t err_size);
/* Reads this task's stored positions into `out`. */
rdapsync_status sqs_positions_load(sqlite3 *db, const sqs_names *names, const char *pipeline, int task,
                                   rdapsync_sinktk_positions *out, char *err, size_t err_size);
/* Prepares the statement sqs_positions_store() uses. Caller finalizes. */
rdapsync_status sqs_positions_prepare(sqlite3 *db, const sqs_names *names, sqlite3_stmt **out, char *err,
                                      size_t err_size);
/* Writes `positions` inside the open transaction. */
rdapsync_status sqs_positions_store(sqlite3 *db, sqlite3_stmt *stmt, const char *pipeline, int task,
                                    const rdapsync_sinktk_positions *positions, char *err, size_t err_size);

/* ---- sqs_history.c ---- */

/* Creates the history table (if create_table) and prepares its insert and
 * valid_to statements into st. */
rdapsync_status sqs_history_prepare(sqs_state *st, char *err, size_t err_size);
/* Appends the plan's versions to the history table and recomputes valid_to
 * of their keys, inside the open transaction. Any failure fails the write
 * (a version the table refuses would leave a hole in the history). */
rdapsync_status sqs_history_apply(sqs_state *st, const rdapsync_sinktk_plan *plan,
                                  const rdapsync_sinktk_rejects *rejects, char *err, size_t err_size);

/* ---- sqs_subject.c: the ABI 1.5 calls, as in plugin.h ---- */
rdapsync_status sqs_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                 char *err, size_t err_size);
rdapsync_status sqs_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn, void *arg,
                                  uint64_t *changed, char *err, size_t err_size);
rdapsync_status sqs_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                    uint64_t *purged, char *err, size_t err_size);
/* ---- sqs_mvr.c ---- */

enum sqs_mvr_statement { SQS_MVR_SELECT, SQS_MVR_HEADS, SQS_MVR_LIVE, SQS_MVR_OPEN, SQS_MVR_RESOLVE, SQS_MVR_COUNT };
/* Creates the heads and conflict log tables (if create_table) and
 * prepares their statements into st->mvr. */
rdapsync_status sqs_mvr_prepare(sqs_state *st, char *err, size_t err_size);
void sqs_mvr_finalize(sqs_state *st);
/* The store's heads_load / heads_write (rdapsync/sinktk.h). */
rdapsync_status sqs_mvr_load(sqs_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err, size_t err_size);
rdapsync_status sqs_mvr_write(sqs_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                              size_t err_size);
/* The conflict log's open rows (store op conflicts_open). */
rdapsync_status sqs_mvr_open_count(sqs_state *st, uint64_t *count, char *err, size_t err_size);

#endif
