/*
 * The PostgreSQL sink's internals, shared by its files (all hidden: the
 * plugin exports only its entry symbol). docs/plugins/sink-postgres.md
 * describes the behaviour; this header the pieces.
 *
 *   sink_postgres.c   descriptor, options, open/close/write/flush
 *   pgs_conn.c        connecting, error classification, small exec helpers
 *   pgs_schema.c      table creation and the SQL of the write statements
 *   pgs_rows.c        a batch as rows: checks, greatest version per key
 *   pgs_json.c        documents to JSON text, into the sink's buffer
 *   pgs_copy.c        the write path: COPY, straight in or through a stage
 *   pgs_pipeline.c    the other write path: pipelined prepared statements
 *   pgs_positions.c   exactly-once: source positions stored with the data
 */
#ifndef RDAPSYNC_SINK_POSTGRES_PGS_H
#define RDAPSYNC_SINK_POSTGRES_PGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <rdapsync/rdapsync.h>

extern const rdapsync_host *pgs_host;

enum pgs_mode { PGS_MODE_UPSERT = 0, PGS_MODE_APPEND = 1 };
enum pgs_method { PGS_METHOD_PIPELINE = 0, PGS_METHOD_COPY = 1 };
enum pgs_compression {
    PGS_COMPRESSION_AUTO = 0, /* lz4 when the server has it, else its default */
    PGS_COMPRESSION_SERVER = 1,
    PGS_COMPRESSION_PGLZ = 2,
    PGS_COMPRESSION_LZ4 = 3
};

/* Filled by the host from the option table in sink_postgres.c. */
typedef struct pgs_config {
    char *dsn;
    char *schema;
    char *table;
    char *key_column;
    int mode;
    bool create_table;
    int compression;
    int method;
    int64_t statement_rows;
    int tls;
    char *tls_root_cert;
    int64_t connect_timeout_ms;
    int64_t statement_timeout_ms;
    bool exactly_once;
    char *positions_table;
} pgs_config;

/* Quoted, qualified names, built once at open. */
typedef struct pgs_names {
    char *table;     /* "schema"."table" or "table" */
    char *key;       /* "key" */
    char *positions; /* "schema"."rdapsync_positions" or "rdapsync_positions" */
    char *live_view; /* "schema"."table_live" */
} pgs_names;

/* One change to apply: the greatest version of a key in the batch (upsert
 * mode) or one record (append mode). Strings are borrowed from the batch
 * record; `doc` points into the rows' shared serialization buffer and is
 * only valid while the row is being sent. */
typedef struct pgs_row {
    const rdapsync_record *record;
    bool deleted;
    const char *doc; /* serialized document, NUL-terminated; NULL for deletes */
    size_t doc_len;
    size_t fallback; /* upsert mode: the next older record of the same key in the
                      * batch's sorted order (SIZE_MAX = none), used when the
                      * server rejects this one */
} pgs_row;

/* A growing byte buffer, reused for every document of a write: one
 * allocation per write instead of several per document. */
typedef struct pgs_buffer {
    char *data;
    size_t len, capacity;
} pgs_buffer;

/* A batch turned into rows. */
typedef struct pgs_rows {
    pgs_row *rows;
    size_t count;
    pgs_buffer doc_buffer; /* holds the one document being sent */
    /* upsert mode: records sorted by (key, version descending); rows point into it */
    const rdapsync_record **sorted;
    size_t sorted_count;
} pgs_rows;

/* A record the sink gives up on, reported to host->reject only once the
 * write succeeds (a RETRY must not dead-letter it twice). */
typedef struct pgs_reject {
    const rdapsync_record *record;
    char *reason; /* owned */
} pgs_reject;

typedef struct pgs_rejects {
    pgs_reject *items;
    size_t count, capacity;
} pgs_rejects;

/* Highest offset per (stream, partition); stream "" stands for NULL. */
typedef struct pgs_position {
    char *stream; /* owned */
    int32_t partition;
    int64_t offset;
} pgs_position;

typedef struct pgs_positions {
    pgs_position *items;
    size_t count, capacity;
} pgs_positions;

/* Counts of one apply, for metrics. */
typedef struct pgs_tally {
    uint64_t applied; /* rows the statement inserted or updated */
    uint64_t stale;   /* rows the version guard kept out */
} pgs_tally;

typedef struct pgs_state {
    rdapsync_ctx *ctx;
    const pgs_config *cfg;
    pgs_names names;
    char *pipeline; /* owned copy of the pipeline name */
    int task;
    PGconn *conn;
    bool in_transaction;
    size_t writes_in_transaction; /* successful write() calls since the last commit */
    bool stage_ready; /* COPY method: the temporary stage exists on this connection */
    bool stage_dirty; /* COPY method: the stage holds rows of this transaction */
    bool direct_capable; /* COPY method: the table takes the stage's binary rows as they are */
    unsigned direct_skip, direct_backoff; /* COPY method: writes until new keys are copied straight in again */
    /* exactly-once: written since the last commit, and what the database holds */
    pgs_positions pending;
    pgs_positions committed;
} pgs_state;

/* How a failed statement should be handled. */
typedef enum pgs_failure {
    PGS_FAIL_RETRY = 0, /* connection lost, server shutting down, deadlock: redo later */
    PGS_FAIL_DATA = 1,  /* this row's data: reject it, keep the others */
    PGS_FAIL_FATAL = 2  /* schema, permission, bug: the task fails */
} pgs_failure;

/* ---- pgs_conn.c ---- */

/* Connects with the configured options; on failure returns NULL and writes
 * libpq's reason into err. Caller frees with PQfinish(). */
PGconn *pgs_connect(const pgs_config *cfg, char *err, size_t err_size);
/* Classifies the error of `res` (may be NULL: the connection's error). */
pgs_failure pgs_classify(PGconn *conn, const PGresult *res);
/* "SQLSTATE message" of `res` (or of the connection) on one line. */
void pgs_error_text(PGconn *conn, const PGresult *res, char *out, size_t out_size);
/* Runs a command with no result rows. Returns RDAPSYNC_OK, or RETRY / ERROR
 * by pgs_classify() (data errors count as ERROR here) with err filled. */
rdapsync_status pgs_exec(PGconn *conn, const char *sql, char *err, size_t err_size);
/* Status word for a failure class (data -> ERROR). */
rdapsync_status pgs_failure_status(pgs_failure failure);
/* "ident" quoted as an SQL identifier; caller frees. NULL on allocation failure. */
char *pgs_quote_ident(const char *ident);
/* printf into a new buffer; caller frees. */
char *pgs_printf(const char *fmt, ...) RDAPSYNC_PRINTF(1, 2);

/* ---- pgs_schema.c ---- */

int pgs_names_build(const pgs_config *cfg, pgs_names *names);
void pgs_names_free(pgs_names *names);
/* Creates the table (and the live view) if asked, under an advisory lock
 * so that tasks starting together do not race. */
rdapsync_status pgs_schema_ensure(PGconn *conn, const pgs_config *cfg, const pgs_names *names, char *err,
                                  size_t err_size);
/* Prepares the write statement(s) of the mode on a new connection. */
rdapsync_status pgs_schema_prepare(PGconn *conn, const pgs_config *cfg, const pgs_names *names, char *err,
                                   size_t err_size);
/* Names of the prepared statements. */
#define PGS_STMT_WRITE "rdapsync_write"
#define PGS_STMT_POSITION "rdapsync_position"
/* Parameters of PGS_STMT_WRITE, in order. */
enum {
    PGS_P_KEY, PGS_P_DOC, PGS_P_DELETED, PGS_P_TS, PGS_P_ORIGIN, PGS_P_SEQ, PGS_P_STREAM, PGS_P_PARTITION,
    PGS_P_OFFSET, PGS_P_COUNT
};
/* The ON CONFLICT tail shared by both write methods (upsert mode). */
char *pgs_schema_conflict_clause(const pgs_names *names);
/* The column list shared by both write methods. */
const char *pgs_schema_columns(int mode);

/* ---- pgs_json.c ---- */

/* Appends the compact JSON text of `value` to `out`, the same text as
 * host->json->dump(value, 0). 0, or -1 on allocation failure. */
int pgs_json_serialize(const rdapsync_value *value, pgs_buffer *out);

/* ---- pgs_rows.c ---- */

/* Compares versions on the total order (event time, origin bytewise with
 * NULL as "", sequence). */
int pgs_version_cmp(const rdapsync_version *a, const rdapsync_version *b);
/* Builds rows from the batch. Records that can never be stored (no key, a
 * NUL in the key, an upsert without a document) go to `rejects`. Returns 0,
 * or -1 on allocation failure. Free with pgs_rows_free(). */
int pgs_rows_build(const rdapsync_batch *batch, int mode, const pgs_positions *committed, pgs_rows *out,
                   pgs_rejects *rejects, uint64_t *skipped);
/* Replaces rows->rows[index] by its fallback record (the next older version
 * of the key). Returns 1 if there was one, 0 if not, -1 on allocation failure. */
int pgs_rows_use_fallback(pgs_rows *rows, size_t index);
void pgs_rows_free(pgs_rows *rows);
/* Serializes a row's document into `buffer` (deletes have none), replacing
 * whatever it held: 0 or -1 on allocation failure. pgs_row_release()
 * forgets it again. */
int pgs_row_serialize(pgs_row *row, pgs_buffer *buffer);
void pgs_row_release(pgs_row *row);
/* Appends bytes; 0 or -1. */
int pgs_buffer_append(pgs_buffer *buffer, const char *bytes, size_t len);
/* Makes room for `more` bytes after len; 0 or -1. */
int pgs_buffer_reserve(pgs_buffer *buffer, size_t more);
void pgs_buffer_free(pgs_buffer *buffer);

int pgs_rejects_add(pgs_rejects *rejects, const rdapsync_record *record, const char *fmt, ...)
    RDAPSYNC_PRINTF(3, 4);
void pgs_rejects_clear(pgs_rejects *rejects);

/* The row's parameters as text, for PQsendQueryPrepared / COPY; the
 * document must have been serialized. */
typedef struct pgs_params {
    const char *values[PGS_P_COUNT];
    int lengths[PGS_P_COUNT];
    char numbers[4][24]; /* ts, seq, partition, offset */
} pgs_params;
void pgs_row_params(const pgs_row *row, pgs_params *params);

/* ---- pgs_pipeline.c / pgs_copy.c ---- */

/* Applies every row inside the open transaction. Rows the server refuses
 * for their data are replaced by their fallback or added to `rejects`, and
 * the others still land. Returns OK, RETRY (connection) or ERROR, with err. */
rdapsync_status pgs_pipeline_apply(pgs_state *st, pgs_rows *rows, pgs_rejects *rejects, pgs_tally *tally,
                                   char *err, size_t err_size);
rdapsync_status pgs_copy_apply(pgs_state *st, pgs_rows *rows, pgs_rejects *rejects, pgs_tally *tally, char *err,
                               size_t err_size);
/* Appends one row as COPY data: binary (the stage's column types) or text
 * (pgs_schema_columns() order). 0, or -1 on allocation failure. */
int pgs_copy_put_row(pgs_buffer *buffer, const pgs_row *row, bool binary);

/* ---- pgs_positions.c ---- */

/* Raises the offset of (stream, partition) to at least `offset`. 0 or -1. */
int pgs_positions_note(pgs_positions *positions, const char *stream, int32_t partition, int64_t offset);
/* The offset held for (stream, partition), or -1. */
int64_t pgs_positions_find(const pgs_positions *positions, const char *stream, int32_t partition);
void pgs_positions_clear(pgs_positions *positions);
/* Merges `from` into `into` (keeping the higher offsets). 0 or -1. */
int pgs_positions_merge(pgs_positions *into, const pgs_positions *from);
/* Creates the positions table if needed. */
rdapsync_status pgs_positions_ensure(PGconn *conn, const pgs_names *names, char *err, size_t err_size);
/* Reads this task's stored positions into `out`. */
rdapsync_status pgs_positions_load(PGconn *conn, const pgs_names *names, const char *pipeline, int task,
                                   pgs_positions *out, char *err, size_t err_size);
/* Writes `positions` inside the open transaction. */
rdapsync_status pgs_positions_store(PGconn *conn, const pgs_names *names, const char *pipeline, int task,
                                    const pgs_positions *positions, char *err, size_t err_size);

#endif
