/*
 * rdapsync SDK: the keyed-sink toolkit (librdapsync-sinktk.a).
 *
 * What every keyed, version-guarded sink needs and none should write
 * again: the version order (and a byte-sortable form of it), the planning
 * of a batch into rows (the greatest version per key, the older ones kept
 * as fallbacks, upsert or append, deletes), the collection of rejects, the
 * exactly-once positions, the counters, and the write/flush/reconnect
 * frame around a store's transaction. What stays in a sink is what only it
 * knows: how to connect, how to write the planned rows and the positions
 * inside one transaction, and which rows its store refuses.
 *
 *   #include <rdapsync/sinktk.h>           (after, or instead of, rdapsync.h)
 *   CMake:      target_link_libraries(<plugin> PRIVATE rdapsync::sinktk)
 *   pkg-config: pkg-config --cflags --libs rdapsync-sinktk
 *
 * Why a static library: a plugin links with -Wl,--no-undefined and the host
 * exports no symbol, so shared code cannot live in the host; a shared
 * library beside the plugins would need its own ABI promise and a search
 * path at run time. The toolkit is compiled position-independent with
 * hidden visibility and linked into each sink's .so: the plugin still
 * exports only rdapsync_plugin_entry, each plugin carries the toolkit
 * version it was tested with, and the host's ABI is untouched.
 *
 * Memory: nothing here keeps global state. Functions that allocate say who
 * frees; every `*_free` / `*_clear` is safe on a zeroed struct, and a
 * zeroed struct is a valid empty one unless said otherwise.
 *
 * Threads: no function touches shared state; one object (a plan, a set of
 * positions, a writer) is used by one thread at a time. That matches the
 * host's rule for a sink instance (open/close on the task thread, write/
 * flush on the flusher thread, never at once).
 *
 * Errors: functions answering int return 0, or -1 when memory ran out (the
 * object is then left as it was before the call unless said otherwise).
 */
#ifndef RDAPSYNC_SINKTK_H
#define RDAPSYNC_SINKTK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rdapsync.h"

/* ======================================================================
 * Versions
 * ====================================================================== */

/*
 * The total order of record.h: event_time_ms, then origin bytewise as
 * unsigned bytes (NULL is ""), then sequence. Negative, 0 or positive like
 * strcmp. Pure.
 */
int rdapsync_version_compare(const rdapsync_version *a, const rdapsync_version *b);

/* Bytes of a version's key besides its origin: 8 (time), 1 (end of the
 * origin), 8 (sequence). */
#define RDAPSYNC_VERSION_KEY_FIXED 17

/*
 * A version as bytes whose memcmp() order (shorter first on a common
 * prefix) is rdapsync_version_compare()'s order, for stores that can only
 * compare bytes (Redis sorted members, SQL binary columns, MongoDB
 * binary). Layout: event_time_ms as 8 big-endian bytes with the sign bit
 * flipped, the origin's bytes and a 0x00 (an origin holds no NUL, so the
 * 0x00 sorts a shorter origin first), the sequence like the time.
 * Writes the key into `out` when it fits in `out_size`; returns the key's
 * length, RDAPSYNC_VERSION_KEY_FIXED + strlen(origin), in any case (call
 * with out_size 0 to size a buffer). Pure.
 */
size_t rdapsync_version_key(const rdapsync_version *version, unsigned char *out, size_t out_size);

/*
 * The version a key of rdapsync_version_key() holds. `out->origin` is
 * BORROWED: it points into `key` (NUL-terminated there) and is valid while
 * `key` is. Returns 0, or -1 when `key` is not such a key.
 */
int rdapsync_version_from_key(const unsigned char *key, size_t len, rdapsync_version *out);

/* ======================================================================
 * Version vectors (ABI 1.4; record.h, rdapsync_vv)
 * ====================================================================== */

/* How two version vectors relate; missing regions count as 0. */
typedef enum {
    RDAPSYNC_VV_EQUAL,     /* same counter for every region */
    RDAPSYNC_VV_BEFORE,    /* a is dominated by b: a <= b everywhere, < somewhere */
    RDAPSYNC_VV_AFTER,     /* a dominates b */
    RDAPSYNC_VV_CONCURRENT /* each has a region where it is ahead */
} rdapsync_vv_order;

/*
 * The causal order of `a` and `b`, both valid vectors (entries sorted and
 * unique, as record_set_vv() leaves them; count 0 is the empty vector,
 * which every non-empty one dominates). A linear merge of the two entry
 * lists. Pure.
 */
rdapsync_vv_order rdapsync_vv_compare(const rdapsync_vv *a, const rdapsync_vv *b);

/* A static string for an order ("equal", "before", "after", "concurrent"). */
const char *rdapsync_vv_order_str(rdapsync_vv_order order);

/*
 * The vector's JSON text, members in entry order (so sorted keys for a
 * valid vector), no spaces: {"eu-central":5,"us-east":3}; "{}" for count
 * 0. Regions are escaped as JSON strings. Returns a malloc'd NUL-terminated
 * string the CALLER frees with free(), or NULL when out of memory.
 */
char *rdapsync_vv_format(const rdapsync_vv *vv);

/*
 * Reads a vector from a parsed JSON value: an object whose members are
 * regions (non-empty) with integer counters >= 1. Fills entries[0..count)
 * sorted by region, *count set. The region strings are BORROWED from
 * `object` (valid while it is). Returns 0, or -1 with a reason written to
 * `error` (error_size bytes, may be 0): not an object, an empty region, a
 * counter that is not an integer >= 1, or more than `capacity` regions.
 * Duplicate regions cannot occur: the host's parser refuses duplicate keys.
 */
int rdapsync_vv_from_json(const rdapsync_json_api *json, const rdapsync_value *object, rdapsync_vv_entry *entries,
                          size_t capacity, size_t *count, char *error, size_t error_size);

/*
 * Parses the vector's JSON text (`len` bytes, e.g. a Kafka header) with the
 * host's parser, then reads it as rdapsync_vv_from_json() does. On success
 * *holder gets the parsed value that owns the region strings the entries
 * point to: the CALLER releases it with json->decref() once done with the
 * entries (after record_set_vv(), which copies them). On failure *holder
 * is NULL and `error` says why; for bad JSON text it names the place
 * ("line L column C (byte B): reason").
 */
int rdapsync_vv_parse(const rdapsync_json_api *json, const char *text, size_t len, rdapsync_vv_entry *entries,
                      size_t capacity, size_t *count, rdapsync_value **holder, char *error, size_t error_size);

/* ======================================================================
 * JSON text of a key
 * ====================================================================== */

/*
 * Streams `bytes` (len bytes of UTF-8) to `fn` as a quoted JSON string,
 * written by the host's serializer (host->json), so a key put into a
 * document by hand is escaped exactly as the documents the host
 * serializes. Returns 0, or -1 when the bytes are not UTF-8, memory ran
 * out or `fn` aborted. Allocates only for the call.
 */
int rdapsync_sinktk_json_string(const rdapsync_host *host, const char *bytes, size_t len, rdapsync_dump_fn fn,
                                void *opaque);

/* ======================================================================
 * Rejects
 * ====================================================================== */

/* A record given up on, with the reason (owned). The record is borrowed
 * from the batch being written. */
typedef struct rdapsync_sinktk_reject {
    const rdapsync_record *record;
    char *reason;
} rdapsync_sinktk_reject;

/*
 * Records a write gives up on. They are handed to host->reject() only once
 * the write succeeded (rdapsync_sinktk_report()): a write answering RETRY
 * is written again and would report them twice. Zeroed = empty.
 */
typedef struct rdapsync_sinktk_rejects {
    rdapsync_sinktk_reject *items;
    size_t count, capacity;
} rdapsync_sinktk_rejects;

/* Adds `record` with the printf-formatted reason (cut at 1 KiB, copied).
 * 0, or -1 when out of memory (nothing added). */
int rdapsync_sinktk_rejects_add(rdapsync_sinktk_rejects *rejects, const rdapsync_record *record, const char *fmt, ...)
    RDAPSYNC_PRINTF(3, 4);
/* Forgets every reject (frees the reasons), keeps the room. */
void rdapsync_sinktk_rejects_clear(rdapsync_sinktk_rejects *rejects);
/* Frees everything; leaves an empty, zeroed struct. */
void rdapsync_sinktk_rejects_free(rdapsync_sinktk_rejects *rejects);

/* ======================================================================
 * Positions (exactly-once)
 * ====================================================================== */

/* The highest offset seen of one (stream, partition). `stream` is owned;
 * "" stands for a NULL stream (so a store can keep it in a NOT NULL
 * column). */
typedef struct rdapsync_sinktk_position {
    char *stream;
    int32_t partition;
    int64_t offset;
} rdapsync_sinktk_position;

/* A small map (stream, partition) -> highest offset. Zeroed = empty. */
typedef struct rdapsync_sinktk_positions {
    rdapsync_sinktk_position *items;
    size_t count, capacity;
} rdapsync_sinktk_positions;

/* Raises (stream, partition) to at least `offset`, adding it if new;
 * `stream` is copied, NULL counts as "". 0 or -1. */
int rdapsync_sinktk_positions_note(rdapsync_sinktk_positions *positions, const char *stream, int32_t partition,
                                   int64_t offset);
/* Notes the position of every record of `batch` (read through `host`).
 * 0, or -1 (some may have been noted). */
int rdapsync_sinktk_positions_note_batch(rdapsync_sinktk_positions *positions, const rdapsync_host *host,
                                         const rdapsync_batch *batch);
/* Notes every position of `from` into `into`. 0, or -1 (some may have
 * been merged: merging again is harmless). */
int rdapsync_sinktk_positions_merge(rdapsync_sinktk_positions *into, const rdapsync_sinktk_positions *from);
/* The offset held for (stream, partition) (NULL stream = ""), or -1. */
int64_t rdapsync_sinktk_positions_find(const rdapsync_sinktk_positions *positions, const char *stream,
                                       int32_t partition);
/* Whether `record`'s position is at or below the one held for its
 * (stream, partition): it is already stored (a replay). NULL or empty
 * positions hold nothing. */
bool rdapsync_sinktk_positions_cover(const rdapsync_sinktk_positions *positions, const rdapsync_record *record);
/* Forgets every position (frees the streams), keeps the room. */
void rdapsync_sinktk_positions_clear(rdapsync_sinktk_positions *positions);
/* Frees everything; leaves an empty, zeroed struct. */
void rdapsync_sinktk_positions_free(rdapsync_sinktk_positions *positions);

/* ======================================================================
 * Planning a batch into rows
 * ====================================================================== */

typedef enum rdapsync_sinktk_mode {
    /* One row per key: only the greatest version of each key in the batch
     * is planned, in key order (bytewise, shorter first), the older ones
     * kept as its fallbacks. Keyless records are rejected. */
    RDAPSYNC_SINKTK_UPSERT = 0,
    /* One row per record, in batch order, no fallbacks; keyless records
     * are planned too (a change log may hold them). */
    RDAPSYNC_SINKTK_APPEND = 1
} rdapsync_sinktk_mode;

/* One change to write. A delete is a row whose record->op is
 * RDAPSYNC_OP_DELETE (value NULL): the store keeps a tombstone with its
 * version. */
typedef struct rdapsync_sinktk_row {
    const rdapsync_record *record; /* borrowed from the batch */
    /* The store's own bookkeeping: 0 and NULL when the row is planned and
     * each time a fallback replaces its record; `data` is released with
     * the plan's `release` then. */
    int state;
    void *data;
    size_t older_; /* the planner's: next older record of the key, SIZE_MAX none */
    size_t at_;    /* the planner's: where the record sits among the sorted ones */
} rdapsync_sinktk_row;

/* A batch as rows. Built by rdapsync_sinktk_plan_build(), freed by
 * rdapsync_sinktk_plan_free(); the rows borrow the batch's records, so a
 * plan lives no longer than the write() that received the batch. */
typedef struct rdapsync_sinktk_plan {
    rdapsync_sinktk_row *rows;
    size_t count;
    uint64_t already_stored; /* records skipped because `stored` covered them */
    /* the planner's */
    const rdapsync_record **sorted_;
    size_t sorted_count_;
    void (*release_)(void *data);
} rdapsync_sinktk_plan;

typedef struct rdapsync_sinktk_plan_config {
    /* Starts every reject reason ("sqlite sink" -> "sqlite sink: record
     * has no key ..."); borrowed for the call. */
    const char *label;
    rdapsync_sinktk_mode mode;
    /* Exactly-once: records these positions cover are skipped (counted in
     * already_stored). NULL: none. Borrowed for the call. */
    const rdapsync_sinktk_positions *stored;
    /* Frees a row's `data` when a fallback or plan_free drops it; NULL when
     * the store puts nothing there. */
    void (*release)(void *data);
} rdapsync_sinktk_plan_config;

/*
 * Plans `batch` (read through `host`). Records that can never be stored go
 * to `rejects` with "<label>: <why> (key \"<first 200 bytes>\")": no key
 * (upsert mode), a NUL byte in the key, an upsert without a document (the
 * record's own error, if it has one). Returns 0, or -1 when out of memory
 * (the plan is then empty; rejects added so far stay). The caller frees the
 * plan with rdapsync_sinktk_plan_free(), also after -1.
 */
int rdapsync_sinktk_plan_build(rdapsync_sinktk_plan *plan, const rdapsync_host *host, const rdapsync_batch *batch,
                               const rdapsync_sinktk_plan_config *config, rdapsync_sinktk_rejects *rejects);

/*
 * The store refused rows[index]: puts the key's next older version of the
 * batch in its place (state 0, data released) and returns true, or returns
 * false when there is none (append mode never has one). The caller has
 * rejected the refused record itself, so the outcome of a key does not
 * depend on how records were batched. Allocates nothing.
 */
bool rdapsync_sinktk_plan_fallback(rdapsync_sinktk_plan *plan, size_t index);

/* Releases every row's data and the plan's memory; leaves it zeroed. */
void rdapsync_sinktk_plan_free(rdapsync_sinktk_plan *plan);

/* ======================================================================
 * Counters
 * ====================================================================== */

#define RDAPSYNC_SINKTK_TALLY_EXTRA 8

/* What one write did, for the plugin counters. Zeroed = nothing. */
typedef struct rdapsync_sinktk_tally {
    uint64_t applied;        /* rows inserted or updated -> rows_applied */
    uint64_t stale;          /* rows the version guard kept out -> rows_stale */
    uint64_t already_stored; /* records exactly-once skipped -> rows_already_committed */
    /* the store's own counters (rdapsync_sinktk_tally_add) */
    struct {
        const char *name;
        uint64_t value;
    } extra[RDAPSYNC_SINKTK_TALLY_EXTRA];
    size_t extra_count;
} rdapsync_sinktk_tally;

/* Adds `value` to the store's counter `name` ([a-z0-9_]+, a static string:
 * the host keeps the pointer). 0, or -1 when more than
 * RDAPSYNC_SINKTK_TALLY_EXTRA names are used. */
int rdapsync_sinktk_tally_add(rdapsync_sinktk_tally *tally, const char *name, uint64_t value);

/*
 * After a successful write: hands each reject to host->reject() (in the
 * order they were added), then adds the non-zero counts to the plugin
 * counters rows_applied, rows_stale, rows_rejected (the rejects),
 * rows_already_committed and the extras. Borrows everything.
 */
void rdapsync_sinktk_report(const rdapsync_host *host, rdapsync_ctx *ctx, const rdapsync_sinktk_tally *tally,
                            const rdapsync_sinktk_rejects *rejects);

/* ======================================================================
 * Options every keyed table sink shares
 * ====================================================================== */

/* "upsert", "append", NULL: the names of rdapsync_sinktk_mode, in its
 * order, for an RDAPSYNC_OPT_ENUM row. */
extern const char *const rdapsync_sinktk_mode_names[];

/*
 * Option rows (options.h) with the same names, defaults and help in every
 * sink that writes one table, so that a pipeline moves from one database
 * to another by its plugin name alone. Each expands to several rows of the
 * table. `config_` must have the members the rows name, of the types
 * options.h gives (a mismatch does not compile):
 *   RDAPSYNC_SINKTK_OPTIONS_TABLE:        char *table, *key_column; int mode
 *                                         (an rdapsync_sinktk_mode); bool create_table
 *   RDAPSYNC_SINKTK_OPTIONS_EXACTLY_ONCE: bool exactly_once; char *positions_table
 */
#define RDAPSYNC_SINKTK_OPTIONS_TABLE(config_)                                                                  \
    { RDAPSYNC_OPTION_STRING(config_, table, "rdap_records", "table the records go to") },                    \
    { RDAPSYNC_OPTION_STRING(config_, key_column, "key", "column holding the record key") },                  \
    { RDAPSYNC_OPTION_ENUM(config_, mode, "upsert", rdapsync_sinktk_mode_names,                               \
                           "upsert: one row per key, version-guarded; append: one row per change") },        \
    { RDAPSYNC_OPTION_BOOL(config_, create_table, "true",                                                     \
                           "create the table (and in upsert mode the <table>_live view) if missing") }
#define RDAPSYNC_SINKTK_OPTIONS_EXACTLY_ONCE(config_)                                                           \
    { RDAPSYNC_OPTION_BOOL(config_, exactly_once, "false",                                                    \
                           "store source positions in the same transaction and resume from them") },         \
    { RDAPSYNC_OPTION_STRING(config_, positions_table, "rdapsync_positions", "table of the exactly-once positions") }

/*
 * The check() rules of the exactly-once rows: positions_table written
 * while exactly_once is off is refused (it would be ignored; `table` and
 * `set` tell written from default, ABI 1.2), and with exactly_once on the
 * positions table must not be the data table, compared with `compare`
 * (strcmp, or strcasecmp for a store whose names ignore case: 0 means the
 * same). OK, or ERROR with the reason in err. Pure.
 */
rdapsync_status rdapsync_sinktk_check_exactly_once(const rdapsync_option *table, const rdapsync_options_set *set,
                                                   bool exactly_once, const char *data_table,
                                                   const char *positions_table,
                                                   int (*compare)(const char *, const char *), char *err,
                                                   size_t err_size);

/* ======================================================================
 * The writer: write/flush/reconnect around a store
 * ====================================================================== */

/*
 * What a store does; the writer decides when. `store` is the pointer given
 * in rdapsync_sinktk_writer_config. Every call gets `err` for a one-line
 * reason and answers OK, RETRY (the session is lost or busy: the writer
 * disconnects, the host writes the batch again) or ERROR.
 *
 * A transactional store (begin, commit and rollback set) gets one
 * transaction per flush: begin before the first write after a commit,
 * commit at flush. A store without them (all three NULL) makes each write
 * durable before apply returns; flush then does nothing.
 */
struct rdapsync_sinktk_mvr_key;
struct rdapsync_sinktk_conflicts;

typedef struct rdapsync_sinktk_store_ops {
    /* Makes a session ready to write (connect, session settings, prepared
     * statements). `first` is true at open only: create what is missing
     * (tables, the positions table) then. A call that fails leaves no
     * session behind. A reconnect after a failure is the store's to log
     * and count. Required. */
    rdapsync_status (*connect)(void *store, bool first, char *err, size_t err_size);
    /* Ends the session; never fails. An open transaction is lost with it
     * (the server rolls it back). Required. */
    void (*disconnect)(void *store);
    /* Transactions: start one / make it durable / undo it on a session
     * still usable (anything but OK makes the writer disconnect). */
    rdapsync_status (*begin)(void *store, char *err, size_t err_size);
    rdapsync_status (*commit)(void *store, char *err, size_t err_size);
    rdapsync_status (*rollback)(void *store, char *err, size_t err_size);
    /* Writes the planned rows (inside the open transaction). A row the
     * store refuses for its data: rdapsync_sinktk_rejects_add() it, then
     * rdapsync_sinktk_plan_fallback() to try the key's older version; the
     * other rows still land. Fills tally->applied / stale and any extras.
     * Required. */
    rdapsync_status (*apply)(void *store, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                             rdapsync_sinktk_tally *tally, char *err, size_t err_size);
    /* Exactly-once (transactional stores only; NULL without it): read this
     * task's stored positions into `out` (given empty), and write
     * `positions` inside the open transaction. A write that fails for its
     * data is an ERROR, never a reject. */
    rdapsync_status (*load_positions)(void *store, const char *pipeline, int task, rdapsync_sinktk_positions *out,
                                      char *err, size_t err_size);
    rdapsync_status (*save_positions)(void *store, const char *pipeline, int task,
                                      const rdapsync_sinktk_positions *positions, char *err, size_t err_size);
    /* The multi-value register (conflicts: {...}; NULL without it, see
     * "Multi-value register" below). heads_load: for each of `keys`, set
     * `stored` (malloc'd, the writer frees) to the text last written by
     * heads_write for its key, or leave it NULL when the key has none.
     * heads_write: inside the open transaction, for each of `keys` (only
     * changed ones are given): store `heads` for the key, write the
     * visible document (`doc`, NULL = a tombstone) with `version` into the
     * key's row unconditionally, and apply `log` to the conflict log. Any
     * failure fails the write (nothing is rejected). */
    rdapsync_status (*heads_load)(void *store, struct rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                  size_t err_size);
    rdapsync_status (*heads_write)(void *store, const struct rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                   size_t err_size);
    /* The number of open conflicts (rows of the conflict log whose
     * resolved_at is unset) into *count, read after every connect so that
     * the conflicts_open_<strategy> gauge survives restarts. Optional with
     * conflicts: without it the gauge counts from 0 at each connect. */
    rdapsync_status (*conflicts_open)(void *store, uint64_t *count, char *err, size_t err_size);
    /* Optional with conflicts: for each of `keys` whose need_row is set,
     * set `row_doc` (malloc'd, the writer frees) to the JSON text of the
     * document in the key's row, or leave it NULL when the row is a
     * tombstone or absent; any member order and number spelling the store
     * keeps will do. A store that has it gets a lone head without its
     * document in `heads` (its row holds it), and is asked for the row
     * only when that head comes to stand beside another one. Without it
     * every head keeps its document. */
    rdapsync_status (*rows_load)(void *store, struct rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                 size_t err_size);
} rdapsync_sinktk_store_ops;

typedef struct rdapsync_sinktk_writer_config {
    const rdapsync_host *host;
    rdapsync_ctx *ctx;                    /* the sink instance's, from open() */
    const rdapsync_sinktk_store_ops *ops; /* borrowed until close */
    void *store;                          /* passed to every op; the sink's */
    const char *label;                    /* reject reasons, e.g. "sqlite sink"; borrowed until close */
    rdapsync_sinktk_mode mode;
    /* Store source positions with the data and resume from them: needs
     * a transactional store with load_positions and save_positions. */
    bool exactly_once;
    void (*release)(void *data); /* rows' data, as in rdapsync_sinktk_plan_config */
    /* The conflicts option read (rdapsync_sinktk_conflicts_option), or
     * NULL: then vectors are ignored and every record takes the plain,
     * version-guarded path. Needs heads_load and heads_write. Borrowed
     * until close. */
    const struct rdapsync_sinktk_conflicts *conflicts;
    /* With conflicts: heads_write may be given the visible document as
     * the record's own value (mvr key doc_value) rather than as text, when
     * a lone head of the batch shows it: a store that streams documents
     * (a COPY) then serializes it once, where it writes it. */
    bool mvr_doc_values;
} rdapsync_sinktk_writer_config;

/* One sink instance's writer. Its fields are the writer's; a store may
 * read `committed` (what the store holds, exactly-once). */
typedef struct rdapsync_sinktk_writer {
    rdapsync_sinktk_writer_config config;
    char *pipeline; /* owned copy of the pipeline name */
    int task;
    bool connected;
    bool in_transaction;
    size_t writes_in_transaction; /* write() calls answered OK since the last commit */
    rdapsync_sinktk_positions committed; /* exactly-once: stored in the store */
    rdapsync_sinktk_positions pending;   /* exactly-once: written since the last commit */
    /* With conflicts: the open conflicts as of the last connect
     * (ops->conflicts_open) plus those this writer opened less those it
     * resolved since; the gauge conflicts_open_<strategy>. */
    int64_t conflicts_open;
} rdapsync_sinktk_writer;

/*
 * From the sink's open(): connects (ops->connect with first = true) and,
 * exactly-once, loads the stored positions and tells the host to resume
 * after them (host->checkpoint_override, one log line each). On OK the
 * writer is open and rdapsync_sinktk_writer_close() must be called; on
 * RETRY or ERROR (with err) it holds nothing and is disconnected.
 * `config` is copied; what it points to is borrowed until close.
 */
rdapsync_status rdapsync_sinktk_writer_open(rdapsync_sinktk_writer *writer, const rdapsync_sinktk_writer_config *config,
                                            char *err, size_t err_size);

/*
 * The sink's write(): reconnects if the last failure dropped the session
 * (and reloads the positions: a commit whose answer was lost may have
 * stored some), begins a transaction if none is open, plans the batch,
 * lets ops->apply write the rows, then reports the rejects and counters.
 * On a failure it rolls back (or disconnects on RETRY) and answers RETRY
 * or ERROR. A RETRY after earlier writes of the same transaction were
 * answered OK becomes ERROR: those writes are lost with the rollback and
 * only a restart from the host's checkpoint brings them back.
 */
rdapsync_status rdapsync_sinktk_writer_write(rdapsync_sinktk_writer *writer, const rdapsync_batch *batch, char *err,
                                             size_t err_size);

/*
 * The sink's flush(): exactly-once, writes the positions of the
 * transaction (ops->save_positions), then commits; counts "transactions".
 * Without an open transaction (or a store without transactions) OK at
 * once. Failures end the transaction as in write().
 */
rdapsync_status rdapsync_sinktk_writer_flush(rdapsync_sinktk_writer *writer, char *err, size_t err_size);

/* From the sink's close(): disconnects (an open transaction is rolled back
 * by that) and frees what the writer holds. NULL-safe on a zeroed writer;
 * the store's own state is the sink's to free afterwards. */
void rdapsync_sinktk_writer_close(rdapsync_sinktk_writer *writer);

/* ======================================================================
 * History tables (history: { table: NAME })
 * ====================================================================== */

/*
 * A history table keeps every applied version of every key beside the
 * live row, in the same transaction: (key, valid_from, origin, seq) is
 * unique (the version; valid_from is its event time), `deleted` marks a
 * delete, `doc` the document, `retention_until` the redact transform's
 * deadline copied from the document, and `valid_to` the event time of the
 * key's next version in the table (NULL while the version is current; a
 * delete closes the interval of the version before it). A replay inserts
 * nothing twice (the store inserts with "do nothing on conflict"), so the
 * table stays exactly-once with or without exactly_once positions.
 * Upsert mode only: an append-mode table already is a history.
 */

/*
 * Calls fn for every version of `plan` a history table gets: for each row
 * (in plan order), the older records of its key still behind it in the
 * batch and then the row's record, oldest first; records in `rejects` (the
 * store refused them) are skipped. `last` is true for the last call of a
 * key: the moment to recompute its valid_to (see below). Stops at the
 * first fn that returns non-zero and returns it; 0 otherwise. Call it after
 * the rows were applied (fallbacks settled). Allocates nothing.
 */
int rdapsync_sinktk_history_each(const rdapsync_sinktk_plan *plan, const rdapsync_sinktk_rejects *rejects,
                                 int (*fn)(const rdapsync_record *record, bool last, void *opaque), void *opaque);

/*
 * The statement that recomputes valid_to for every version of one key, in
 * SQL that PostgreSQL, MariaDB (10.3+) and SQLite (3.33+) all run:
 *   UPDATE <table> AS cur SET valid_to = (SELECT MIN(n.valid_from) FROM
 *   <table> n WHERE n.<key> = cur.<key> AND (n.valid_from, n.origin, n.seq)
 *   > (cur.valid_from, cur.origin, cur.seq)) WHERE cur.<key> <keys>
 * `table` and `key` are already quoted for the store, `keys` the test of
 * the keys to recompute ("= $1", "= ?1", "IN ('a', 'b')": several keys in
 * one statement). Versions that arrive out of order
 * get their place: the older neighbour's interval ends at the new one.
 * Returns a malloc'd string the caller frees, or NULL (memory).
 */
char *rdapsync_sinktk_history_close_sql(const char *table, const char *key, const char *keys);

/* "INSERT INTO <table> (<key>, valid_from, origin, seq, deleted, doc,
 * retention_until) VALUES ": the head of the history insert, columns in the
 * order of rdapsync_sinktk_history_param; the store appends the values and
 * its "do nothing on conflict". malloc'd, caller frees; NULL (memory). */
char *rdapsync_sinktk_history_insert_head(const char *table, const char *key);
enum rdapsync_sinktk_history_param {
    RDAPSYNC_SINKTK_HP_KEY = 0, RDAPSYNC_SINKTK_HP_VALID_FROM, RDAPSYNC_SINKTK_HP_ORIGIN, RDAPSYNC_SINKTK_HP_SEQ,
    RDAPSYNC_SINKTK_HP_DELETED, RDAPSYNC_SINKTK_HP_DOC, RDAPSYNC_SINKTK_HP_RETENTION, RDAPSYNC_SINKTK_HP_COUNT
};

/*
 * The redact transform's retention deadline of a document: the string
 * member rdapsync.retention_until (RFC 3339), borrowed from `doc`, or NULL
 * when there is none (or doc is NULL: a delete).
 */
const char *rdapsync_sinktk_retention_until(const rdapsync_host *host, const rdapsync_value *doc);

/*
 * The history option (written `history: { table: NAME }`, an
 * RDAPSYNC_OPT_JSON option, ABI 1.3) read and checked: a mapping with a
 * `table` string, only in upsert mode, not the data table nor the
 * positions table (compared with `compare`: 0 means the same). NULL
 * `history_json` (not written): OK with *table NULL. OK with *table a
 * malloc'd copy of the name (the caller frees), or ERROR with err starting
 * "@history" so that the host names the place. Uses host->json only.
 */
rdapsync_status rdapsync_sinktk_history_option(const rdapsync_host *host, const char *history_json, int mode,
                                               const char *data_table, const char *positions_table,
                                               int (*compare)(const char *, const char *), char **table, char *err,
                                               size_t err_size);

/* The option row of the history table, the same in every table sink:
 * `config_` has a member `char *history` (the JSON text). */
#define RDAPSYNC_SINKTK_OPTIONS_HISTORY(config_)                                                                \
    { RDAPSYNC_OPTION_JSON(config_, history, NULL,                                                            \
                           "{ table: NAME }: keep every applied version there, with valid_from/valid_to "     \
                           "(upsert mode)") }

/* ======================================================================
 * Subjects and retention (ABI 1.5: subject_find, subject_erase,
 * retention_purge)
 * ====================================================================== */

/*
 * What a subject matches, the same in every sink (plugin.h,
 * rdapsync_subject), decided on the stored document:
 *   unified shape (docs/unified-shape.md): the contacts `registrar`,
 *     `registrar.abuse[]`, `contacts.<role>[]` and `entity`, and an
 *     entity document's own `handle`;
 *   raw RDAP (RFC 9083; dead letters, `raw: true`): every object at any
 *     depth that has a `vcardArray` or objectClassName "entity", and
 *     the same inside a unified document's `raw` member.
 * Per kind:
 *   email   a contact's `emails[]`, `contact_uris[]` "mailto:" (up to
 *           "?"), a vCard `email`; equal without ASCII case, outer
 *           white space ignored
 *   handle  a contact's or entity's `handle`; equal without ASCII case
 *   name    a contact's `name` or `alt_names[].value`, a vCard `fn`;
 *           equal without ASCII case, runs of white space as one space
 *   phone   a contact's `phones[].number` / `faxes[].number`, a vCard
 *           `tel` ("tel:" and ";ext=..." dropped); equal digits (at
 *           least 4 in the subject; punctuation and spaces ignored)
 * Organisation names, addresses and registrar names are not matched: they
 * are not how a requester names themself, and matching them would erase
 * other people's records.
 */
typedef enum rdapsync_sinktk_subject_kind {
    RDAPSYNC_SINKTK_SUBJECT_EMAIL = 0,
    RDAPSYNC_SINKTK_SUBJECT_HANDLE = 1,
    RDAPSYNC_SINKTK_SUBJECT_NAME = 2,
    RDAPSYNC_SINKTK_SUBJECT_PHONE = 3
} rdapsync_sinktk_subject_kind;

/* A subject made ready for matching. Zeroed = empty (matches nothing). */
typedef struct rdapsync_sinktk_subject {
    rdapsync_sinktk_subject_kind kind;
    char *normal; /* owned: the value in compare form (lower case, collapsed, or digits) */
    /* owned, or NULL: lower-case ASCII/UTF-8 bytes that the JSON text of
     * every matching document contains, compared without ASCII case: the
     * store may use it as a server-side prefilter (LIKE '%needle%',
     * ILIKE, a regex). NULL (phones, values JSON would escape): no
     * prefilter, scan everything. A prefilter only narrows; the match is
     * always decided by rdapsync_sinktk_subject_match*. */
    char *needle;
} rdapsync_sinktk_subject;

/* Prepares `s`. OK, or ERROR with err ("unknown subject kind", "a phone
 * subject needs at least 4 digits", an empty value, memory). */
rdapsync_status rdapsync_sinktk_subject_prepare(rdapsync_sinktk_subject *out, const rdapsync_subject *s, char *err,
                                                size_t err_size);
void rdapsync_sinktk_subject_free(rdapsync_sinktk_subject *subject);

/* Whether the document `doc` (NULL: false) concerns `subject`. Pure. */
bool rdapsync_sinktk_subject_match(const rdapsync_host *host, const rdapsync_sinktk_subject *subject,
                                   const rdapsync_value *doc);
/* The same on JSON text: 1 yes, 0 no, -1 the text is not JSON (a sink
 * that stores only what the host serialised never sees -1; it answers
 * ERROR naming the key). */
int rdapsync_sinktk_subject_match_text(const rdapsync_host *host, const rdapsync_sinktk_subject *subject,
                                       const char *json, size_t len);

/* What rdapsync_sinktk_subject_found needs to know about one scan: the
 * sink's name for its errors ("postgres"), the prepared subject, the part
 * of the store the rows come from (its name goes into the hits and the
 * errors), whether those rows hold heads texts (rdapsync_sinktk_subject_
 * match_heads_text) rather than documents, and the caller's fn and arg.
 * Everything is borrowed for the scan. */
typedef struct rdapsync_sinktk_subject_scan {
    const rdapsync_host *host;
    const char *sink;
    const rdapsync_sinktk_subject *subject;
    const char *where;
    bool heads;
    rdapsync_subject_found_fn fn;
    void *arg;
} rdapsync_sinktk_subject_scan;

/* The row callback of a store that scans (key, JSON text) rows for a
 * subject: hands the row to scan->fn as a hit {where, key, text} when it
 * concerns the subject. `scan` is a rdapsync_sinktk_subject_scan. 0, or -1
 * with err: the row is not JSON ("<sink> sink: <where> row of key "..." is
 * not JSON": a store only holds what the host serialised, so that is
 * damage to report, not to skip), or fn asked to stop ("stopped by the
 * caller"). */
int rdapsync_sinktk_subject_found(void *scan, const char *key, size_t key_len, const char *json, size_t len,
                                  char *err, size_t err_size);

/* Whether `doc` has a retention deadline (rdapsync_sinktk_retention_until)
 * before `now_ms`: 1 due, 0 not due or no deadline, -1 a deadline that is
 * not RFC 3339 (a sink leaves that document alone and counts it). */
int rdapsync_sinktk_retention_due(const rdapsync_host *host, const rdapsync_value *doc, int64_t now_ms);

/* What to do with one stored document (rdapsync_sinktk_scrub_text). */
typedef enum rdapsync_sinktk_verdict {
    RDAPSYNC_SINKTK_KEEP = 0,    /* not concerned, or the replacement is the same bytes */
    RDAPSYNC_SINKTK_DELETE = 1,  /* delete it */
    RDAPSYNC_SINKTK_REPLACE = 2  /* store the replacement instead */
} rdapsync_sinktk_verdict;

/* One erasure or retention pass: `subject` set for an erasure, NULL for
 * retention (documents due at `now_ms`); `fn` and `arg` as given to
 * subject_erase / retention_purge (fn NULL: delete). Borrowed. */
typedef struct rdapsync_sinktk_scrub {
    const rdapsync_host *host;
    const rdapsync_sinktk_subject *subject;
    int64_t now_ms;
    rdapsync_subject_rewrite_fn fn;
    void *arg;
} rdapsync_sinktk_scrub;

/*
 * Decides one stored document (JSON text): KEEP when it is not concerned
 * (or fn returned the same bytes), DELETE when fn is NULL, asked for it,
 * or returned a replacement that still concerns the subject (erasure
 * never leaves a match behind), REPLACE with *out (host->alloc'd, the
 * caller frees with host->free) and *out_len otherwise. Returns the
 * verdict, or -1 with err: the text is not JSON, fn failed, or its
 * replacement is not JSON. *out is NULL unless REPLACE.
 */
int rdapsync_sinktk_scrub_text(const rdapsync_sinktk_scrub *scrub, const char *json, size_t len, char **out,
                               size_t *out_len, char *err, size_t err_size);

/* A stored row to delete or replace, by the store's own id for it (a
 * PostgreSQL ctid, an SQLite rowid, a key): what a sink collects while it
 * reads, to change after the read. */
typedef struct rdapsync_sinktk_scrub_item {
    char *id;      /* owned copy, NUL-terminated after id_len */
    size_t id_len;
    rdapsync_sinktk_verdict verdict; /* DELETE or REPLACE */
    char *doc;     /* REPLACE: the replacement (host->alloc'd), else NULL */
    size_t doc_len;
} rdapsync_sinktk_scrub_item;

/* Zeroed = empty. */
typedef struct rdapsync_sinktk_scrub_list {
    rdapsync_sinktk_scrub_item *items;
    size_t count, capacity;
} rdapsync_sinktk_scrub_list;

/* Decides the stored document `json` of row `id` (rdapsync_sinktk_scrub_text)
 * and appends it when it is to be deleted or replaced. 0, or -1 with err
 * (as scrub_text, or memory). */
int rdapsync_sinktk_scrub_list_add(rdapsync_sinktk_scrub_list *list, const rdapsync_sinktk_scrub *scrub,
                                   const char *id, size_t id_len, const char *json, size_t len, char *err,
                                   size_t err_size);
/* Frees the items (replacements with scrub->host->free); leaves it zeroed. */
void rdapsync_sinktk_scrub_list_free(rdapsync_sinktk_scrub_list *list, const rdapsync_host *host);

/*
 * Erasure inside the heads (a multi-value register's stored heads, or the
 * conflict log's `heads`; "Multi-value register" below). A head is a
 * version first: dominance, staleness and convergence need only its
 * vector and version, so an erasure or retention pass keeps every head
 * and changes only documents. A head whose document concerns the subject
 * (or is past its retention deadline) gets the replacement `fn` returns;
 * when there is none (fn NULL, fn asked for deletion, or the replacement
 * still concerns the subject) the head becomes a tombstone marked
 * "erased": true, with no document. A later version the erased head does
 * not dominate still meets it as a concurrent head; one it dominates is
 * still stale, so the erased data cannot come back by replay. When the
 * strategy picks an erased head, the key's row is a tombstone. The
 * "erased" marker is informational: the register keeps it until the key's
 * heads are next rewritten.
 */

/* Whether any head's document in the heads text `json` concerns `subject`:
 * 1 yes, 0 no, -1 the text is not a JSON array. */
int rdapsync_sinktk_subject_match_heads_text(const rdapsync_host *host, const rdapsync_sinktk_subject *subject,
                                             const char *json, size_t len);
/* Scrubs the heads text `json`: KEEP (no head concerned, *out NULL) or
 * REPLACE with *out (host->alloc'd, caller frees with host->free; members
 * sorted, as the register writes them) and *out_len; never DELETE (the
 * versions stay). A head stored without its document has nothing here to
 * scrub: the key's row holds the document, and erasing the row reaches
 * it. -1 with err: the text is not a JSON array, fn failed, or memory. */
int rdapsync_sinktk_scrub_heads(const rdapsync_sinktk_scrub *scrub, const char *json, size_t len, char **out,
                                size_t *out_len, char *err, size_t err_size);
/* As rdapsync_sinktk_scrub_list_add for a row holding a heads text: appends
 * a REPLACE item when a head changed. 0, or -1 with err. */
int rdapsync_sinktk_scrub_list_add_heads(rdapsync_sinktk_scrub_list *list, const rdapsync_sinktk_scrub *scrub,
                                         const char *id, size_t id_len, const char *json, size_t len, char *err,
                                         size_t err_size);

/* Escapes `needle` for a SQL LIKE pattern with escape character '\'
 * and wraps it in '%': "%a\_b%". malloc'd, caller frees; NULL (memory). */
char *rdapsync_sinktk_like_pattern(const char *needle);

/* ======================================================================
 * Multi-value register (conflicts: { strategy, regions, table })
 * ====================================================================== */

/*
 * Records that carry a version vector (record.h, rdapsync_vv) are not
 * ordered by their version alone. Per key the store keeps the *heads*: the
 * versions that no other version seen for the key dominates, each with its
 * document (a store with rows_load: all but a lone head, whose document is
 * the key's row; rdapsync_sinktk_mvr_step says how). An incoming version that a head dominates is stale (skipped,
 * counted in rows_stale). One whose vector equals a head's replaces that
 * head only when its version (event time, origin, sequence) is greater,
 * else it is stale too: so the heads are the maximal versions of the SET
 * seen, whatever the order and however many duplicates. Otherwise the
 * incoming version removes the heads it dominates and joins them.
 *
 * A delete is a version like any other: as a head it is a tombstone (no
 * document). It takes part in dominance and in the strategies: when a
 * strategy picks it, the key's row is a tombstone (not in <table>_live);
 * `merge` takes no member from a tombstone, and shows a tombstone only
 * when the lww-greatest head is one.
 *
 * The visible document written to the key's row is a function of the
 * heads, by strategy:
 *   lww              the head with the greatest (event time, origin, seq);
 *   region-priority  the head whose region (its version's origin) comes
 *                    first in `regions` (unlisted regions after all
 *                    listed ones), then lww;
 *   merge            each top-level member from the lww-greatest head that
 *                    has it (objects only; otherwise lww);
 *   manual           lww, while the conflict stays open for review.
 * The row carries the lww-greatest head's version (for region-priority
 * the chosen head's).
 *
 * The conflict log (`table`) has one row per key that ever had more than
 * one head: key, heads (vectors and versions as JSON, no documents),
 * strategy, detected_at, resolved_at (NULL while open; set when a version
 * dominating all heads arrives; a new conflict reopens the row).
 *
 * Records without a vector take the plain path (version-guarded upsert),
 * also for a key that has heads; a key's records of one batch follow the
 * path of its greatest version (a vectorless record there is stale).
 */

typedef enum rdapsync_sinktk_strategy {
    RDAPSYNC_SINKTK_LWW = 0,
    RDAPSYNC_SINKTK_REGION_PRIORITY = 1,
    RDAPSYNC_SINKTK_MERGE = 2,
    RDAPSYNC_SINKTK_MANUAL = 3
} rdapsync_sinktk_strategy;

/* "lww", "region-priority", "merge", "manual", NULL: in enum order. */
extern const char *const rdapsync_sinktk_strategy_names[];

/* The conflicts option read. Zeroed = lww, no regions, no table. */
typedef struct rdapsync_sinktk_conflicts {
    rdapsync_sinktk_strategy strategy;
    char **regions; /* owned, region_count of them */
    size_t region_count;
    char *table; /* the conflict log's name, unquoted, owned */
} rdapsync_sinktk_conflicts;

/*
 * The conflicts option (an RDAPSYNC_OPT_JSON option) read and checked:
 * a mapping with `strategy` (default lww), `regions` (a list of distinct
 * non-empty strings; required by, and only allowed with, region-priority)
 * and `table` (default "<data_table>_conflicts"); only in upsert mode; the
 * log must not be the data, heads ("<data_table>_heads") or positions
 * table (compared with `compare`). NULL `json` (not written): OK with
 * *out NULL. OK with *out malloc'd (free with rdapsync_sinktk_conflicts_free),
 * or ERROR with err starting "@conflicts" so that the host names the place.
 */
rdapsync_status rdapsync_sinktk_conflicts_option(const rdapsync_host *host, const char *json, int mode,
                                                 const char *data_table, const char *positions_table,
                                                 int (*compare)(const char *, const char *),
                                                 rdapsync_sinktk_conflicts **out, char *err, size_t err_size);
/* Frees what rdapsync_sinktk_conflicts_option() gave; NULL-safe. */
void rdapsync_sinktk_conflicts_free(rdapsync_sinktk_conflicts *conflicts);

/* The option row, the same in every table sink: `config_` has a member
 * `char *conflicts` (the JSON text). */
#define RDAPSYNC_SINKTK_OPTIONS_CONFLICTS(config_)                                                              \
    { RDAPSYNC_OPTION_JSON(config_, conflicts, NULL,                                                          \
                           "{ strategy: lww|region-priority|merge|manual, regions: [..], table: NAME }: keep " \
                           "the heads of records with version vectors (upsert mode)") }

/* What heads_write does to the conflict log for one key. */
typedef enum rdapsync_sinktk_log_change {
    RDAPSYNC_SINKTK_LOG_NONE = 0,
    /* The key has several heads: insert its row, or update `heads` (and
     * when the row was resolved: detected_at = now, resolved_at = NULL).
     * An open row keeps its detected_at. */
    RDAPSYNC_SINKTK_LOG_OPEN = 1,
    /* One head dominates all: set `heads` and resolved_at = now on the
     * open row. */
    RDAPSYNC_SINKTK_LOG_RESOLVE = 2
} rdapsync_sinktk_log_change;

/* One key of a batch in the register. The writer fills the record, the
 * store `stored`, the toolkit the rest; the writer frees everything. */
typedef struct rdapsync_sinktk_mvr_key {
    const rdapsync_record *record; /* the key's greatest record of the batch: key, position; borrowed */
    char *stored;                  /* heads_load: the key's heads text, malloc'd, or NULL */
    size_t stored_len;
    /* The writer's: the store has rows_load, so a lone head goes into
     * `heads` without its document. */
    bool lone_docless;
    /* The writer's (writer config mvr_doc_values): a lone head of the
     * batch gives its document as doc_value instead of as doc text. */
    bool doc_as_value;
    /* rows_load: the row's document text, malloc'd, or NULL; row_loaded
     * set by the writer once rows_load ran for the key. */
    char *row_doc;
    size_t row_doc_len;
    bool row_loaded;
    /* computed */
    bool need_row;     /* a docless stored head needs its row's document: rows_load, then step again */
    bool changed;      /* the heads changed: the key is given to heads_write */
    char *heads;       /* the heads to store (JSON text, documents as the stored form says), malloc'd */
    char *doc;         /* the visible document's JSON text (host->json->dump), or NULL: a tombstone or doc_value */
    /* With doc_as_value, when a lone head of the batch is shown: its
     * record's value (borrowed: valid until the write returns), and doc is
     * NULL. Serialized as host->json->dump(doc_value, 0) gives the text. */
    const rdapsync_value *doc_value;
    rdapsync_version version; /* the visible row's version; origin points into origin_ */
    rdapsync_sinktk_log_change log;
    char *log_heads;   /* the heads for the conflict log (no documents), malloc'd */
    size_t head_count, head_count_before;
    uint64_t stale;    /* versions of the batch skipped */
    char *origin_;
    size_t heads_len;  /* strlen(heads) */
} rdapsync_sinktk_mvr_key;

/*
 * The register step of one key: parses key->stored (NULL: no heads yet),
 * offers the `count` records (any order; records without a vector are
 * counted stale) and fills the computed fields of `key` (what an earlier
 * step computed is freed first). 0, or -1 with err (stored text that is
 * not a register: a corrupt store; or memory).
 *
 * The stored text is a JSON array of heads, greatest version first, each
 * with members sorted: {"deleted","doc","o","s","t","vv"}. With
 * key->lone_docless a lone head has no "doc" (the key's row shows it).
 * When such a head ends up beside others and key->row_loaded is unset,
 * the step sets need_row, computes nothing else and the caller runs it
 * again after rows_load; the row's document (re-serialized with sorted
 * members, so that every replica stores the same bytes) becomes the
 * head's, or, when the row has none (erased, or a record without a vector
 * deleted it), the head becomes a tombstone. Heads written with their
 * documents (without lone_docless, or before it existed) still load.
 */
int rdapsync_sinktk_mvr_step(const rdapsync_host *host, const rdapsync_sinktk_conflicts *conflicts,
                             rdapsync_sinktk_mvr_key *key, const rdapsync_record *const *records, size_t count,
                             char *err, size_t err_size);
/* Frees what a key holds (stored and computed); leaves the record. */
void rdapsync_sinktk_mvr_key_clear(rdapsync_sinktk_mvr_key *key);

#endif
