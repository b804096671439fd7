/*
 * The MongoDB sink's internals, shared by its files (all hidden: the plugin
 * exports only its entry symbol). docs/plugins/sink-mongodb.md describes
 * the behaviour; this header the pieces.
 *
 *   sink_mongodb.c   descriptor, options, the store's operations for the
 *                    SDK's writer (rdapsync/sinktk.h), which plans the
 *                    rows (greatest version per key) and reconnects
 *   mgs_conn.c       the client, what the server is, error classification
 *   mgs_bson.c       a JSON value as BSON (types kept), the stored document
 *   mgs_apply.c      the write path: insert new keys, then a guarded replace
 *                    (or delete + insert) of existing ones; rejects and
 *                    fallbacks
 *   mgs_subject.c    subject find/erase and retention purge (ABI 1.5)
 *   mgs_mvr.c        the heads and conflict log collections (conflicts: {...})
 *
 * The stored document has the fields of the PostgreSQL sink's row
 * (docs/plugins/sink-postgres.md), so that the same records give the same
 * state in every database.
 */
#ifndef RDAPSYNC_SINK_MONGODB_MGS_H
#define RDAPSYNC_SINK_MONGODB_MGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mongoc/mongoc.h>
#include <rdapsync/sinktk.h>

extern const rdapsync_host *mgs_host;

/* Where the version guard is evaluated (option version_guard). */
enum mgs_guard { MGS_GUARD_AUTO = 0, MGS_GUARD_SERVER = 1, MGS_GUARD_CLIENT = 2 };
/* How an array directly inside an array is stored (option nested_arrays). */
enum mgs_arrays { MGS_ARRAYS_AUTO = 0, MGS_ARRAYS_NATIVE = 1, MGS_ARRAYS_WRAP = 2 };
enum mgs_write_concern { MGS_WC_MAJORITY = 0, MGS_WC_ACKNOWLEDGED = 1, MGS_WC_URI = 2 };

/* The member name that marks a wrapped array or an escaped object. */
#define MGS_WRAP_KEY "_array"
/* MongoDB refuses documents nested deeper than this. */
#define MGS_MAX_DEPTH 100
/* FerretDB 1.x keeps one SQLite connection per operation of an update
 * command until the command ends, from a pool of 100: a command of 100
 * operations or more waits for itself forever. */
#define MGS_FERRETDB_UPDATES_PER_COMMAND 50
#define MGS_UPDATES_PER_COMMAND 1000

/* Filled by the host from the option table in sink_mongodb.c; each member
 * is named after its option. */
typedef struct mgs_config {
    char *uri;
    char *database;
    char *collection;
    int version_guard;
    int nested_arrays;
    int write_concern;
    int64_t connect_timeout;   /* ms */
    int64_t operation_timeout; /* ms */
    int64_t read_chunk;
    char *app_name;
    char *conflicts; /* JSON { strategy, regions, table } or NULL */
} mgs_config;

/* What open() learned about the server, and the choices made from it. */
typedef struct mgs_server {
    char version[64];          /* buildInfo.version */
    char ferretdb_version[64]; /* buildInfo.ferretdbVersion, "" on MongoDB */
    int64_t max_bson_size;     /* hello.maxBsonObjectSize */
    bool guard_on_server;      /* the guard is part of the update's filter */
    bool wrap_arrays;          /* arrays inside arrays are wrapped */
    size_t updates_per_command; /* replace operations sent in one update command */
} mgs_server;

/* Counts of one write, for metrics. */
typedef struct mgs_tally {
    uint64_t inserted; /* keys stored for the first time */
    uint64_t replaced; /* keys whose stored version was older */
    uint64_t stale;    /* rows the version guard kept out */
} mgs_tally;

typedef struct mgs_state {
    rdapsync_ctx *ctx;
    const mgs_config *cfg;
    rdapsync_sinktk_writer writer;
    mongoc_client_t *client; /* NULL after a connection failure */
    mongoc_collection_t *coll;
    mgs_server server;
    bool connected_once;
    /* A retriable failure happened: the write answers RETRY, and the
     * writer drops the client once the handles made from it (bulks,
     * cursors) are gone. */
    bool broken;
    rdapsync_sinktk_conflicts *conflicts; /* the conflicts option read, or NULL */
} mgs_state;

/* ---- mgs_conn.c ---- */

/* Checks the URI and names without I/O. */
rdapsync_status mgs_config_check(const mgs_config *cfg, char *err, size_t err_size);
/* Creates the client and the collection handle and asks the server what
 * it is (buildInfo, hello); decides the guard and array modes. RETRY when
 * the server cannot be reached, ERROR for what retrying cannot fix. */
rdapsync_status mgs_connect(mgs_state *st, char *err, size_t err_size);
void mgs_disconnect(mgs_state *st);
/* Whether a failed operation is worth retrying with a new connection:
 * network, server selection, shutdown and step-down, write concern. */
bool mgs_error_retriable(const bson_error_t *error, const bson_t *reply);
/* Status word for a failure: RETRY (marking the client broken, see
 * mgs_state) or ERROR; err gets "what: message". */
rdapsync_status mgs_fail(mgs_state *st, const char *what, const bson_error_t *error, const bson_t *reply, char *err,
                         size_t err_size);
/* The write concern of the write commands, appended to `opts`. */
void mgs_append_write_concern(const mgs_config *cfg, bson_t *opts);
/* Routes libmongoc's own log lines to the host's log (once per process). */
void mgs_log_init(void);

/* ---- mgs_bson.c ---- */

/* Appends `value` under `key` with its JSON type kept (integers int64,
 * reals double). `wrap` wraps arrays directly inside arrays. Returns 0,
 * or -1 with the reason (and the JSON path) in err. */
int mgs_bson_append_value(bson_t *parent, const char *key, const rdapsync_value *value, bool wrap, char *err,
                          size_t err_size);
/* The stored document of a record: _id, doc (null for a delete), deleted,
 * version, source position, updated_at. Caller owns it (bson_destroy).
 * NULL with err when the document cannot be stored. */
bson_t *mgs_bson_stored(const rdapsync_record *record, bool wrap, int64_t max_size, char *err, size_t err_size);

/* ---- mgs_apply.c ---- */

/* Applies every row: documents of keys not stored yet are inserted, the
 * others replace the stored document only when their version is greater
 * (in the update filter, or by a guarded delete and a new insert). A
 * row's stored document is its data (a bson_t, freed by mgs_doc_release).
 * Rows the server refuses for their data fall back to an older version of
 * the key in the batch or go to `rejects`. OK, RETRY (connection dropped)
 * or ERROR, with err. */
rdapsync_status mgs_apply(mgs_state *st, rdapsync_sinktk_plan *rows, rdapsync_sinktk_rejects *rejects,
                          mgs_tally *tally, char *err, size_t err_size);
/* Frees a row's stored document (rdapsync_sinktk_plan_config.release). */
void mgs_doc_release(void *doc);

/* ---- mgs_subject.c: the ABI 1.5 calls, as in plugin.h ---- */
rdapsync_status mgs_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                 char *err, size_t err_size);
rdapsync_status mgs_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn, void *arg,
                                  uint64_t *changed, char *err, size_t err_size);
rdapsync_status mgs_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                    uint64_t *purged, char *err, size_t err_size);
/* ---- mgs_mvr.c ---- */

/* The store's heads_load / heads_write (rdapsync/sinktk.h). */
/* The collection `suffix_or_name` of the instance's database: the
 * collection's name followed by it when `suffix`. Caller destroys it. */
mongoc_collection_t *mgs_mvr_collection(mgs_state *st, const char *suffix_or_name, bool suffix);
rdapsync_status mgs_mvr_load(mgs_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err, size_t err_size);
rdapsync_status mgs_mvr_write(mgs_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                              size_t err_size);
/* The conflict log's open documents (store op conflicts_open). */
rdapsync_status mgs_mvr_open_count(mgs_state *st, uint64_t *count, char *err, size_t err_size);

#endif
