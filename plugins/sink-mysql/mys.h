/*
 * The MySQL/MariaDB sink's internals, shared by its files (all hidden: the
 * plugin exports only its entry symbol). docs/plugins/sink-mysql.md
 * describes the behaviour; this header the pieces.
 *
 *   sink_mysql.c     descriptor, options, the store's operations for the
 *                    SDK's writer (rdapsync/sinktk.h), which plans the
 *                    rows, runs the transactions and keeps the positions
 *   mys_conn.c       connecting, session settings, error classification
 *   mys_schema.c     the table, the live view, the statement's fixed parts
 *   mys_text.c       rows as SQL text: escaping, one row's VALUES tuple
 *   mys_apply.c      multi-row statements, sent while the next is built;
 *                    finding the rows the server refuses
 *   mys_load.c       the direct path: LOAD DATA LOCAL INFILE streamed from
 *                    memory, falling back to mys_apply.c's statements
 *   mys_positions.c  exactly-once: the positions table
 *   mys_subject.c    subject find/erase and retention purge (ABI 1.5)
 *   mys_history.c    the history table (history: { table: NAME })
 *   mys_mvr.c        the heads and conflict log tables (conflicts: {...})
 *
 * The table has the shape of the PostgreSQL sink's (docs/plugins/
 * sink-postgres.md), so that the same records give the same rows.
 */
#ifndef RDAPSYNC_SINK_MYSQL_MYS_H
#define RDAPSYNC_SINK_MYSQL_MYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>
#include <rdapsync/sinktk.h>

extern const rdapsync_host *mys_host;

enum mys_doc_type { MYS_DOC_JSON = 0, MYS_DOC_LONGTEXT = 1 };
enum mys_tls { MYS_TLS_OFF = 0, MYS_TLS_REQUIRED = 1, MYS_TLS_VERIFY = 2 };
/* insert (the default): statements only; auto: LOAD DATA while it lands
 * whole, statements when it does not; load: LOAD DATA for every batch. */
enum mys_method { MYS_METHOD_AUTO = 0, MYS_METHOD_LOAD = 1, MYS_METHOD_INSERT = 2 };

/* Longest key and origin the created table holds (bytes): InnoDB's index
 * key limit, and a generous origin. Longer ones are refused by the server
 * (strict mode) and rejected. */
#define MYS_KEY_BYTES 3072
#define MYS_ORIGIN_BYTES 255
/* MySQL identifiers are at most 64 characters. */
#define MYS_MAX_IDENT 64

/* Filled by the host from the option table in sink_mysql.c; each member
 * is named after its option. */
typedef struct mys_config {
    char *host;
    int64_t port;
    char *socket;
    char *user;
    char *password;
    char *database;
    char *table;
    char *key_column;
    int mode; /* rdapsync_sinktk_mode */
    bool create_table;
    int doc_type;
    int64_t statement_rows;
    int64_t statement_bytes;
    int tls;
    char *tls_ca;
    int64_t connect_timeout; /* ms */
    int64_t read_timeout;    /* ms */
    bool exactly_once;
    char *positions_table;
    int method;
    char *history; /* JSON { "table": NAME } or NULL */
    char *conflicts; /* JSON { strategy, regions, table } or NULL */
    rdapsync_options_set set; /* which of them the file wrote */
} mys_config;

/* Quoted names, built once at open. */
typedef struct mys_names {
    char *table;     /* `table` */
    char *key;       /* `key` */
    char *positions; /* `rdapsync_positions` */
    char *live_view; /* `table_live` */
    char *history;   /* `history`, or NULL without history */
    char *heads;     /* `table_heads`, or NULL without conflicts */
    char *conflicts; /* the conflict log, or NULL without conflicts */
} mys_names;

/* A growable byte buffer. */
typedef struct mys_buffer {
    char *data;
    size_t len, capacity;
} mys_buffer;

int mys_buffer_reserve(mys_buffer *buf, size_t more);
int mys_buffer_append(mys_buffer *buf, const char *bytes, size_t len);
int mys_buffer_printf(mys_buffer *buf, const char *fmt, ...) RDAPSYNC_PRINTF(2, 3);
void mys_buffer_free(mys_buffer *buf);

/* rdapsync_sinktk_row.state of a row given up on for good (too big for
 * any statement, or refused without an older version to fall back to). */
#define MYS_ROW_DONE 1

/* Counts of one apply, for metrics. */
typedef struct mys_tally {
    uint64_t applied;    /* rows inserted or updated */
    uint64_t stale;      /* rows the version guard kept out */
    uint64_t statements; /* statements sent */
    uint64_t resent;     /* rows sent again to find a refused one */
    uint64_t loads;      /* LOAD DATA statements sent */
    uint64_t loaded;     /* rows LOAD DATA stored (also counted in applied) */
    uint64_t load_fallbacks; /* LOAD DATA batches that then went through statements */
} mys_tally;

typedef struct mys_state {
    rdapsync_ctx *ctx;
    const mys_config *cfg;
    mys_names names;
    rdapsync_sinktk_writer writer;
    MYSQL *conn;
    size_t max_statement; /* bytes: statement_bytes, under the server's max_allowed_packet */
    char *statement_head;         /* INSERT INTO ... VALUES */
    char *statement_tail;         /* ON DUPLICATE KEY UPDATE ... (upsert) or "" */
    mys_buffer statements[3];     /* one on the wire, one being built, one for finding refused rows */
    mys_buffer load_chunk;        /* LOAD DATA text of the rows being streamed */
    char *history_table;          /* the unquoted history table name, or NULL */
    rdapsync_sinktk_conflicts *conflicts; /* the conflicts option read, or NULL */
    /* The direct path's state, kept across reconnects (mys_load.c). */
    bool load_refused;     /* the server or client refuses LOCAL INFILE: statements for the rest of the run */
    uint32_t load_pause;   /* batches still to send by statements before LOAD DATA is tried again */
    uint32_t load_backoff; /* the pause after the next fallback (doubles, up to a limit) */
} mys_state;

/* How a failed statement should be handled. */
typedef enum mys_failure {
    MYS_FAIL_RETRY = 0, /* connection lost, server going away, deadlock, lock timeout: redo later */
    MYS_FAIL_DATA = 1,  /* a row's data: find it and reject it, keep the others */
    MYS_FAIL_FATAL = 2  /* schema, permission, syntax, bug: the task fails */
} mys_failure;

/* ---- mys_conn.c ---- */

/* Connects and sets up the session (utf8mb4, strict mode, UTC, READ
 * COMMITTED). NULL with err on failure; *status says RETRY (server
 * unreachable, going away) or ERROR (access denied, unknown database). */
MYSQL *mys_connect(const mys_config *cfg, rdapsync_status *status, char *err, size_t err_size);
/* Classifies a client or server error number. */
mys_failure mys_classify(unsigned int error);
rdapsync_status mys_failure_status(mys_failure failure);
/* "message (error N, SQLSTATE S)" of the connection's last error. */
void mys_error_text(MYSQL *conn, char *out, size_t out_size);
/* Runs one statement without result rows (a result set is read and
 * dropped). OK, or RETRY / ERROR by mys_classify() (data errors count as
 * ERROR here) with err filled. */
rdapsync_status mys_exec(MYSQL *conn, const char *sql, char *err, size_t err_size);
/* The first column of the first row of `sql`, as text, into out. */
rdapsync_status mys_query_value(MYSQL *conn, const char *sql, char *out, size_t out_size, char *err,
                                size_t err_size);
/* `ident` quoted with backticks; caller frees. NULL on allocation failure. */
char *mys_quote_ident(const char *ident);
/* printf into a new buffer; caller frees. */
char *mys_printf(const char *fmt, ...) RDAPSYNC_PRINTF(1, 2);

/* ---- mys_schema.c ---- */

/* `history`: the unquoted history table name, `conflicts` the conflict
 * log's, or NULL. */
int mys_names_build(const mys_config *cfg, const char *history, const char *conflicts, mys_names *names);
void mys_names_free(mys_names *names);
/* Creates the table (and in upsert mode the live view) if asked, under a
 * named lock so that tasks starting together do not race. */
rdapsync_status mys_schema_ensure(MYSQL *conn, const mys_config *cfg, const mys_names *names, char *err,
                                  size_t err_size);
/* The fixed parts of the write statement: "INSERT ... VALUES " and the
 * ON DUPLICATE KEY UPDATE tail (empty in append mode). Caller frees both. */
int mys_schema_statement(const mys_config *cfg, const mys_names *names, char **head, char **tail);

/* ---- mys_text.c ---- */

/* Appends `bytes` with every byte that has an entry in `table` written as
 * a backslash and that entry (the rest copied as is), NUL-terminated after
 * buf->len. 0, or -1 when out of memory. */
int mys_escape_with(mys_buffer *buf, const char *bytes, size_t len, const char table[256]);
/* Appends `bytes` as the inside of a '...' literal (backslash escapes; the
 * session never sets NO_BACKSLASH_ESCAPES). 0 or -1. */
int mys_text_escape(mys_buffer *buf, const char *bytes, size_t len);
/* Appends 'escaped' (or NULL when bytes is NULL). */
int mys_text_literal(mys_buffer *buf, const char *bytes, size_t len);
/* Appends the row's "(key, doc, deleted, ts, origin, seq, stream,
 * partition, offset)" tuple, serializing the document straight into it. */
int mys_text_row(mys_buffer *buf, const rdapsync_record *record);

/* ---- mys_apply.c ---- */

/* Applies every row inside the open transaction in multi-row statements.
 * Rows the server refuses for their data are found by halving the refused
 * statement, then replaced by their fallback or added to `rejects`; the
 * others still land. Returns OK, RETRY or ERROR, with err. */
rdapsync_status mys_apply(mys_state *st, rdapsync_sinktk_plan *rows, rdapsync_sinktk_rejects *rejects, mys_tally *tally, char *err,
                          size_t err_size);

/* ---- mys_load.c ---- */

/* Lets the connection answer the server's LOCAL INFILE requests with the
 * rows being loaded only, never with a file (method auto or load). Call
 * before connecting. */
void mys_load_prepare(MYSQL *conn);
/* At open: LOAD DATA is rolled back to a savepoint when it goes wrong, so
 * a table whose engine has no transactions (MyISAM) gets statements only
 * (method auto; method load: ERROR). */
rdapsync_status mys_load_check_table(mys_state *st, char *err, size_t err_size);
/* Applies every row inside the open transaction: one LOAD DATA LOCAL
 * INFILE ... IGNORE under a savepoint when the method and the adaptive rule
 * allow it, then mys_apply()'s statements for a batch that did not land
 * whole. The same answers, rejects and tally as mys_apply(). */
rdapsync_status mys_load_apply(mys_state *st, rdapsync_sinktk_plan *rows, rdapsync_sinktk_rejects *rejects, mys_tally *tally, char *err,
                               size_t err_size);

/* ---- mys_positions.c ---- */

/* Creates the positions table if needed. */
rdapsync_status mys_positions_ensure(MYSQL *conn, const mys_names *names, char *err, size_t err_size);
/* Reads this task's stored positions into `out`. */
rdapsync_status mys_positions_load(MYSQL *conn, const mys_names *names, const char *pipeline, int task,
                                   rdapsync_sinktk_positions *out, char *err, size_t err_size);
/* Writes `positions` inside the open transaction (one statement). */
rdapsync_status mys_positions_store(MYSQL *conn, const mys_names *names, const char *pipeline, int task,
                                    const rdapsync_sinktk_positions *positions, char *err, size_t err_size);

/* ---- mys_history.c: the history table (history: { table: NAME }) ---- */

/* Creates the history table if missing (at open, with create_table). */
rdapsync_status mys_history_ensure(MYSQL *conn, const mys_names *names, char *err, size_t err_size);
/* Appends the plan's versions (multi-row INSERT ... ON DUPLICATE KEY UPDATE
 * with no change) and recomputes valid_to of their keys, inside the open
 * transaction. Any failure fails the write. */
rdapsync_status mys_history_apply(mys_state *st, const rdapsync_sinktk_plan *plan,
                                  const rdapsync_sinktk_rejects *rejects, char *err, size_t err_size);

/* ---- mys_subject.c: the ABI 1.5 calls, as in plugin.h ---- */
rdapsync_status mys_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                 char *err, size_t err_size);
rdapsync_status mys_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn, void *arg,
                                  uint64_t *changed, char *err, size_t err_size);
rdapsync_status mys_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                    uint64_t *purged, char *err, size_t err_size);
/* ---- mys_mvr.c: the heads and conflict log tables (conflicts: {...}) ---- */

/* Creates both tables if missing (at open, with create_table). */
rdapsync_status mys_mvr_ensure(MYSQL *conn, const mys_names *names, char *err, size_t err_size);
/* The store's heads_load / heads_write (rdapsync/sinktk.h). */
rdapsync_status mys_mvr_load(mys_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err, size_t err_size);
rdapsync_status mys_mvr_write(mys_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                              size_t err_size);
/* The conflict log's open rows (store op conflicts_open). */
rdapsync_status mys_mvr_open_count(mys_state *st, uint64_t *count, char *err, size_t err_size);

#endif
