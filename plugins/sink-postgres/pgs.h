/*
 * The PostgreSQL sink's internals, shared by its files (all hidden: the
 * plugin exports only its entry symbol). docs/plugins/sink-postgres.md
 * describes the behaviour; this header the pieces.
 *
 *   sink_postgres.c   descriptor, options, the store's operations for the
 *                     SDK's writer (rdapsync/sinktk.h), which plans the
 *                     rows, runs the transactions and keeps the positions
 *   pgs_conn.c        connecting, error classification, small exec helpers
 *   pgs_schema.c      table creation and the SQL of the write statements
 *   pgs_params.c      a record as statement parameters; the byte buffer
 *   pgs_json.c        documents to JSON text, into the sink's buffer
 *   pgs_copy.c        the write path: COPY, straight in or through a stage
 *   pgs_pipeline.c    the other write path: pipelined prepared statements
 *   pgs_positions.c   exactly-once: the positions table
 *   pgs_subject.c     subject find/erase and retention purge (ABI 1.5)
 *   pgs_lanes.c       connections: N, the batch split by key hash over N
 *                     connections written at once (one thread per extra one)
 *   pgs_mvr.c         the heads column, the conflict log and the register
 *                     epoch (conflicts: {...})
 *   pgs_heads_cache.c the heads known between flushes, bounded by bytes
 */
#ifndef RDAPSYNC_SINK_POSTGRES_PGS_H
#define RDAPSYNC_SINK_POSTGRES_PGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <rdapsync/sinktk.h>

extern const rdapsync_host *pgs_host;

enum pgs_method { PGS_METHOD_PIPELINE = 0, PGS_METHOD_COPY = 1 };
enum pgs_compression {
    PGS_COMPRESSION_AUTO = 0, /* lz4 when the server has it, else its default */
    PGS_COMPRESSION_SERVER = 1,
    PGS_COMPRESSION_PGLZ = 2,
    PGS_COMPRESSION_LZ4 = 3
};

/* Filled by the host from the option table in sink_postgres.c; each
 * member is named after its option. */
typedef struct pgs_config {
    char *dsn;
    char *schema;
    char *table;
    char *key_column;
    int mode; /* rdapsync_sinktk_mode */
    bool create_table;
    int compression;
    int method;
    int64_t statement_rows;
    int tls;
    char *tls_root_cert;
    int64_t connect_timeout;   /* ms */
    int64_t statement_timeout; /* ms */
    bool exactly_once;
    char *positions_table;
    char *history; /* JSON { "table": NAME } or NULL */
    int64_t connections;
    char *conflicts; /* JSON { strategy, regions, table } or NULL */
    int64_t heads_cache; /* bytes; 0: every write reads its keys' heads */
    rdapsync_options_set set; /* which of them the file wrote */
} pgs_config;

/* PostgreSQL truncates identifiers longer than NAMEDATALEN - 1 bytes. */
#define PGS_MAX_IDENT 63

/* For pgs_ask: whether the relation $1 (quoted, maybe qualified) exists. */
#define PGS_EXISTS_SQL "SELECT to_regclass($1) IS NOT NULL"

/* Serializes table creation across tasks and processes starting together:
 * CREATE TABLE IF NOT EXISTS alone can still fail on a catalog unique index. */
#define PGS_SCHEMA_LOCK "SELECT pg_advisory_xact_lock(7262617073796863)"

/* Quoted, qualified names, built once at open. */
typedef struct pgs_names {
    char *table;     /* "schema"."table" or "table" */
    char *key;       /* "key" */
    char *positions; /* "schema"."rdapsync_positions" or "rdapsync_positions" */
    char *live_view; /* "schema"."table_live" */
    char *history;   /* "schema"."history", or NULL without history */
    /* "schema"."table_heads": where releases before the heads column kept
     * the register (pgs_mvr_ensure moves it into the table). NULL without
     * conflicts, or when that name would not fit PostgreSQL's 63 bytes
     * (such a table was refused then, so none exists). */
    char *heads;
    char *conflicts; /* the conflict log, or NULL without conflicts */
} pgs_names;

/* A growing byte buffer, reused for every document of a write: one
 * allocation per write instead of several per document. */
typedef struct pgs_buffer {
    char *data;
    size_t len, capacity;
} pgs_buffer;

/*
 * The sink instance, and each of its connections ("lanes"): lanes[k] is a
 * pgs_state of its own whose ctx, cfg and names are the instance's,
 * borrowed; the write paths below take a lane. With connections: 1 there
 * is one lane and the batch goes to it whole.
 */
typedef struct pgs_state pgs_state;
struct pgs_state {
    rdapsync_ctx *ctx;
    const pgs_config *cfg;
    pgs_names names;
    rdapsync_sinktk_writer writer; /* the instance's */
    pgs_state *lanes;              /* the instance's: lane_count of them */
    size_t lane_count;
    size_t lane_index;                       /* a lane's: its number */
    char *lane_pipeline;                     /* a lane's: its pipeline column in the positions table (owned) */
    rdapsync_sinktk_positions lane_stored;   /* a lane's, exactly-once: what its connection committed */
    rdapsync_sinktk_positions lane_saving;   /* a lane's, exactly-once: written in the open transaction */
    PGconn *conn;
    pgs_buffer buffer; /* the document being sent, or the COPY data being streamed */
    bool stage_ready; /* COPY method: the temporary stage exists on this connection */
    bool stage_dirty; /* COPY method: the stage holds rows of this transaction */
    bool direct_capable; /* COPY method: the table takes the stage's binary rows as they are */
    unsigned direct_skip, direct_backoff; /* COPY method: writes until new keys are copied straight in again */
    char *history_table; /* the unquoted history table name, or NULL */
    rdapsync_sinktk_conflicts *conflicts; /* the instance's conflicts option read, or NULL */
    /* With conflicts (pgs_mvr.c, "The register epoch"), a lane's: */
    struct pgs_heads_cache *heads_cache; /* owned; NULL with heads_cache: 0 */
    char *registers;                     /* the epochs table, quoted and qualified (owned), set at connect */
    char *table_oid;                     /* the data table's oid as text (owned), set at connect */
    char *epoch_sql;                     /* BEGIN and the epoch's upsert (owned), set at connect */
    int64_t epoch_committed;             /* the epoch of this lane's last COMMIT; -1: unknown */
    int64_t epoch_open;                  /* the epoch the open transaction took; -1: none */
};

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
/* Runs `sql`, a query of one boolean row taking `param` as $1, into
 * *answer. Failures as pgs_exec. */
rdapsync_status pgs_ask(PGconn *conn, const char *sql, const char *param, bool *answer, char *err, size_t err_size);
/* Status word for a failure class (data -> ERROR). */
rdapsync_status pgs_failure_status(pgs_failure failure);
/* "ident" quoted as an SQL identifier; caller frees. NULL on allocation failure. */
char *pgs_quote_ident(const char *ident);
/* printf into a new buffer; caller frees. */
char *pgs_printf(const char *fmt, ...) RDAPSYNC_PRINTF(1, 2);

/* ---- pgs_schema.c ---- */

/* `history`: the unquoted history table name, `conflicts` the conflict
 * log's, or NULL. */
int pgs_names_build(const pgs_config *cfg, const char *history, const char *conflicts, pgs_names *names);
void pgs_names_free(pgs_names *names);
/* Creates the table (and the live view) if asked, under an advisory lock
 * so that tasks starting together do not race; a table it creates keeps
 * doc STORAGE MAIN. */
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
/* The COMPRESSION clause of a created document column ("" for the
 * server's default): lz4 when `compression` asks for it or, auto, when the
 * server has it. */
const char *pgs_schema_compression(PGconn *conn, int compression);
/* The column list shared by both write methods. */
const char *pgs_schema_columns(int mode);

/* ---- pgs_json.c ---- */

/* Appends the compact JSON text of `value` to `out`, the same text as
 * host->json->dump(value, 0). 0, or -1 on allocation failure. */
int pgs_json_serialize(const rdapsync_value *value, pgs_buffer *out);

/* ---- pgs_params.c ---- */

/* Appends bytes; 0 or -1. */
int pgs_buffer_append(pgs_buffer *buffer, const char *bytes, size_t len);
/* Makes room for `more` bytes after len; 0 or -1. */
int pgs_buffer_reserve(pgs_buffer *buffer, size_t more);
void pgs_buffer_free(pgs_buffer *buffer);
/* Serializes the record's document into `buffer`, replacing what it held
 * (NUL-terminated after len; empty for a delete). 0 or -1 on allocation
 * failure. */
int pgs_doc_serialize(const rdapsync_record *record, pgs_buffer *buffer);

/* The record's parameters as text, for PQsendQueryPrepared; `doc` holds
 * its serialized document (pgs_doc_serialize), borrowed by the values. */
typedef struct pgs_params {
    const char *values[PGS_P_COUNT];
    int lengths[PGS_P_COUNT];
    char numbers[4][24]; /* ts, seq, partition, offset */
} pgs_params;
void pgs_row_params(const rdapsync_record *record, const pgs_buffer *doc, pgs_params *params);

/* ---- pgs_pipeline.c / pgs_copy.c ---- */

/* Applies every row inside the open transaction. Rows the server refuses
 * for their data are replaced by their fallback or added to `rejects`, and
 * the others still land. Returns OK, RETRY (connection) or ERROR, with err. */
rdapsync_status pgs_pipeline_apply(pgs_state *st, rdapsync_sinktk_plan *rows, rdapsync_sinktk_rejects *rejects,
                                   rdapsync_sinktk_tally *tally, char *err, size_t err_size);
rdapsync_status pgs_copy_apply(pgs_state *st, rdapsync_sinktk_plan *rows, rdapsync_sinktk_rejects *rejects,
                               rdapsync_sinktk_tally *tally, char *err, size_t err_size);
/* Appends one record as COPY data: binary (the stage's column types) or
 * text (pgs_schema_columns() order). 0, or -1 on allocation failure. */
int pgs_copy_put_row(pgs_buffer *buffer, const rdapsync_record *record, bool binary);

/* The temporary stage of the COPY path, also the register's (pgs_mvr.c). */
#define PGS_STAGE "rdapsync_stage"
/* Appends row i of a COPY's rows to buf; 0, or -1 on allocation failure. */
typedef int (*pgs_copy_row_fn)(pgs_buffer *buf, size_t i, void *arg);
/* Inside the open transaction: makes the stage (created if missing,
 * emptied if an earlier write of the transaction filled it) hold `count`
 * rows put() appends in binary COPY form with the stage's `columns`
 * (a column list, each row those fields in that order), streamed with one
 * COPY. Any failure fails the write (ERROR, or RETRY for the connection). */
rdapsync_status pgs_copy_stage_rows(pgs_state *st, const char *columns, size_t count, pgs_copy_row_fn put, void *arg,
                                    char *err, size_t err_size);
/* Binary COPY fields: a row's field count; bytes (NULL: SQL NULL); an
 * integer of `bytes` (4 or 8) bytes; a jsonb document serialized from a
 * value, or given as its JSON text. Each 0, or -1 on allocation failure. */
int pgs_copy_field_count(pgs_buffer *buf, unsigned fields);
int pgs_copy_field(pgs_buffer *buf, const char *bytes, size_t len);
int pgs_copy_int_field(pgs_buffer *buf, int64_t v, size_t bytes);
int pgs_copy_doc_field(pgs_buffer *buf, const rdapsync_value *doc);
int pgs_copy_doc_text_field(pgs_buffer *buf, const char *text, size_t len);

/* ---- pgs_positions.c ---- */

/* Creates the positions table if needed. */
rdapsync_status pgs_positions_ensure(PGconn *conn, const pgs_names *names, char *err, size_t err_size);
/* Reads this task's stored positions, of every lane layout, into each of
 * st's lanes (lane_stored) and, their minimum, into `out` (where the
 * source resumes). See the top of pgs_positions.c. */
rdapsync_status pgs_positions_load(pgs_state *st, const char *pipeline, int task, rdapsync_sinktk_positions *out,
                                   char *err, size_t err_size);
/* The pipeline column of lane `lane` of `lanes`: the pipeline name itself
 * for a single lane, "<pipeline>/<lane>/<lanes>" otherwise. malloc'd,
 * caller frees; NULL (memory). */
char *pgs_positions_lane_pipeline(const char *pipeline, size_t lane, size_t lanes);
/* Writes `positions` inside the open transaction. */
rdapsync_status pgs_positions_store(PGconn *conn, const char *pipeline, int task,
                                    const rdapsync_sinktk_positions *positions, char *err, size_t err_size);

/* ---- pgs_history.c: the history table (history: { table: NAME }) ---- */

#define PGS_STMT_HISTORY_INSERT "rdapsync_history_insert"
#define PGS_STMT_HISTORY_CLOSE "rdapsync_history_close"
/* Creates the history table if missing (at open, with create_table). */
rdapsync_status pgs_history_ensure(PGconn *conn, const pgs_names *names, char *err, size_t err_size);
/* Prepares the two history statements on this connection. */
rdapsync_status pgs_history_prepare(PGconn *conn, const pgs_names *names, char *err, size_t err_size);
/* Appends the plan's versions and recomputes valid_to of their keys inside
 * the open transaction (pipelined). Any failure fails the write. */
rdapsync_status pgs_history_apply(pgs_state *st, const rdapsync_sinktk_plan *plan,
                                  const rdapsync_sinktk_rejects *rejects, char *err, size_t err_size);

/* ---- pgs_subject.c: the ABI 1.5 calls, as in plugin.h ---- */
rdapsync_status pgs_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                 char *err, size_t err_size);
rdapsync_status pgs_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn, void *arg,
                                  uint64_t *changed, char *err, size_t err_size);
rdapsync_status pgs_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                    uint64_t *purged, char *err, size_t err_size);
/* ---- pgs_lanes.c ---- */

/* Makes the instance's lanes (cfg->connections of them, unconnected).
 * 0 or -1 (memory; the lanes made are freed by pgs_lanes_free). */
int pgs_lanes_make(pgs_state *st);
void pgs_lanes_free(pgs_state *st);
/* The lane of a record: FNV-1a of its key modulo `lanes` (keyless: 0). */
size_t pgs_lane_of(const rdapsync_record *record, size_t lanes);
/* Writes the plan over every lane at once (see pgs_lanes.c). */
rdapsync_status pgs_lanes_apply(pgs_state *st, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                                rdapsync_sinktk_tally *tally, char *err, size_t err_size);
/* ---- pgs_mvr.c: the heads column and the conflict log (conflicts: {...}) ---- */

/* Adds the data table's heads column and creates the conflict log if
 * missing, moving a <table>_heads table of an earlier release into the
 * column (at open, with create_table). */
rdapsync_status pgs_mvr_ensure(pgs_state *st, char *err, size_t err_size);
/* Checks at open that the table has the heads column. */
rdapsync_status pgs_mvr_check(pgs_state *st, char *err, size_t err_size);
/* The store's heads_load / heads_write (rdapsync/sinktk.h). */
rdapsync_status pgs_mvr_load(pgs_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err, size_t err_size);
rdapsync_status pgs_mvr_write(pgs_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                              size_t err_size);
/* The store's rows_load: the documents of the keys' rows. */
rdapsync_status pgs_mvr_rows_load(pgs_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                  size_t err_size);
/* The conflict log's open rows (store op conflicts_open). */
rdapsync_status pgs_mvr_open_count(pgs_state *st, uint64_t *count, char *err, size_t err_size);
/* At every connect, after the tables exist: finds the data table's oid
 * and the epochs table beside it (created with `ensure`), and forgets
 * the cached heads. */
rdapsync_status pgs_mvr_connect(pgs_state *st, bool ensure, char *err, size_t err_size);
/* BEGIN, and first in the transaction the next epoch of the table, which
 * holds every other register writer of the table until this transaction
 * ends; drops the cached heads if another writer committed since this
 * lane's last COMMIT. */
rdapsync_status pgs_mvr_begin(pgs_state *st, char *err, size_t err_size);
/* After the lane's COMMIT succeeded / after anything else ended the
 * transaction (ROLLBACK, a failed COMMIT, a lost connection). */
void pgs_mvr_committed(pgs_state *st);
void pgs_mvr_aborted(pgs_state *st);

/* ---- pgs_heads_cache.c: the heads known without asking the server ----
 * Keys are byte strings; a key is "known" with a heads text, or known to
 * have none (text NULL). Not thread-safe: one lane's. */
typedef struct pgs_heads_cache pgs_heads_cache;
/* An empty cache of at most about `budget` bytes (entries, their keys and
 * texts); NULL when out of memory. Free with pgs_heads_cache_free. */
pgs_heads_cache *pgs_heads_cache_new(size_t budget);
void pgs_heads_cache_free(pgs_heads_cache *c);
/* Forgets everything, pending updates included. */
void pgs_heads_cache_clear(pgs_heads_cache *c);
/* 1 when the key is known: *text (NULL: no heads; borrowed until the next
 * call on the cache) and *text_len; 0 when not. A pending update counts. */
int pgs_heads_cache_get(pgs_heads_cache *c, const char *key, size_t key_len, const char **text, size_t *text_len);
/* What the server holds now (read in the transaction that holds the
 * epoch), kept at once; text NULL: no heads. Copied. Out of memory: the
 * key is forgotten instead. */
void pgs_heads_cache_put(pgs_heads_cache *c, const char *key, size_t key_len, const char *text, size_t text_len);
/* What the open transaction wrote: kept at pgs_heads_cache_commit, gone
 * at pgs_heads_cache_abort. Copied. Out of memory: the commit forgets
 * everything instead. */
void pgs_heads_cache_pend(pgs_heads_cache *c, const char *key, size_t key_len, const char *text, size_t text_len);
void pgs_heads_cache_commit(pgs_heads_cache *c);
void pgs_heads_cache_abort(pgs_heads_cache *c);
/* Keys known (pending ones aside). */
size_t pgs_heads_cache_count(const pgs_heads_cache *c);

#endif
