/*
 * The `rdap` source: follows a list of RDAP objects on their servers,
 * politely (per-server concurrency, rate, Retry-After, backoff), and emits
 * a record only when an object's content changed. Internal to the plugin.
 */
#ifndef SOURCE_RDAP_H
#define SOURCE_RDAP_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include <rdapsync/rdapsync.h>

#include "rdap_parts.h"

extern const rdapsync_host *source_rdap_host;

/* The one stream of the positions; offsets are the emission sequence. */
#define RDAP_STREAM "rdap"

enum { REDIRECT_NONE = 0, REDIRECT_SAME_HOST = 1, REDIRECT_ANY = 2 };
enum { NOT_FOUND_DELETE = 0, NOT_FOUND_IGNORE = 1 };

typedef struct rdap_config {
    char *objects;
    char *bootstrap;
    int64_t bootstrap_refresh;
    rdapsync_string_map servers;
    int64_t refresh;
    int64_t concurrency;
    double rate;
    int64_t timeout;
    int64_t max_response_size;
    char *user_agent;
    int follow_redirects;
    int on_not_found;
    rdapsync_string_list volatile_events;
    rdapsync_string_list set_members;
    int64_t backoff_initial;
    int64_t backoff_max;
    int64_t max_retry_after;
    bool tls_verify;
    int64_t rescan;
} rdap_config;

#define NEVER INT64_MAX

typedef struct rdap_object {
    obj_spec spec;
    int server;            /* index into servers; -1: no server knows it */
    int64_t next_due;      /* Unix ms; NEVER */
    int64_t fetched_ms;    /* last answer that counted (Unix ms), 0: never */
    char *etag;            /* owned; the latest, possibly not committed yet */
    char *last_modified;   /* owned */
    char *key;             /* owned; the key last emitted */
    unsigned char hash[32];
    bool has_hash;         /* hash is the last emitted content */
    bool deleted;          /* the last emission was a delete */
    int64_t pending_seq;   /* > 0: an emission whose commit has not come yet */
    bool in_flight;
    bool in_heap;
    char *redirect;        /* owned: where the next request goes instead (one redirect) */
    int redirects;
} rdap_object;

typedef struct rdap_server {
    char *base;            /* owned, ends with "/" */
    char *host;            /* owned: scheme://host[:port] for the same-host redirect rule */
    size_t *heap;          /* owned: object indices, earliest next_due first */
    size_t heap_len, heap_cap;
    int inflight;
    token_bucket bucket;
    int64_t blocked_until; /* monotonic ms: Retry-After or backoff */
    unsigned failures;
    char last_error[256];
} rdap_server;

enum outcome_kind { OUT_UPSERT, OUT_DELETE, OUT_BAD };

/* A finished fetch that makes a record, waiting for room in a batch. */
typedef struct outcome {
    enum outcome_kind kind;
    size_t object;
    rdapsync_value *doc;   /* owned (upsert) */
    char *raw;             /* owned (bad): the body, cut at max_response_size */
    size_t raw_len;
    char *reason;          /* owned (bad) */
    char *url;             /* owned */
    unsigned char hash[32];
    char *etag, *last_modified; /* owned */
    char *key;             /* owned */
    int64_t event_ms;
    int64_t fetched_ms;
    int64_t next_due;
} outcome;

typedef struct transfer transfer;

typedef struct id_index {
    size_t *slots;         /* owned: object index + 1, 0 empty */
    size_t cap;
} id_index;

typedef struct rdap_store {
    sqlite3 *db;
    bool in_tx;
} rdap_store;

typedef struct rdap_source {
    rdapsync_ctx *ctx;
    const rdap_config *cfg;
    int task_index, task_count;
    rdap_object *objects;  /* owned */
    size_t object_count, object_cap;
    id_index index;
    rdap_server *servers;  /* owned */
    size_t server_count;
    bootstrap overrides;   /* from `servers`, asked first */
    bootstrap registry;    /* from `bootstrap` */
    int64_t bootstrap_at;  /* monotonic ms of the last load */
    int64_t rescan_at;     /* monotonic ms of the last objects scan */
    char *objects_sig;     /* owned: names, sizes and mtimes of the objects files last read */
    CURLM *multi;
    transfer **transfers;  /* owned: in flight */
    size_t transfer_count;
    outcome *ready;        /* owned: FIFO of finished fetches */
    size_t ready_head, ready_len, ready_cap;
    rdap_store store;
    int64_t seq;           /* last sequence handed out */
    int64_t backfill_since;/* refresh 0: Unix ms when this backfill began */
    bool ended;
    size_t unroutable;     /* objects no server answers for, for the log */
    uint64_t rng;
    char last_error[512];
} rdap_source;

/* time.c */
int64_t mono_ms(void);
int64_t wall_ms(void);
double rng_unit(uint64_t *state);

/* index.c: object id -> index */
long index_find(const rdap_source *s, const char *id);
int index_add(rdap_source *s, size_t object);
void index_free(id_index *ix);

/* objects_file.c: the `objects` file or directory */
/* Reads the objects files when they changed since the last call (or
 * `force`); adds objects not seen before. 0 or -1 (err). */
int objects_sync(rdap_source *s, bool force, char *err, size_t err_size);
void objects_free(rdap_source *s);

/* servers.c: bootstrap, server table, per-server queues */
int servers_setup(rdap_source *s, char *err, size_t err_size);
/* Reloads the bootstrap when due and places every idle object again. */
void servers_maybe_refresh(rdap_source *s);
/* Places object i on its server's queue (when it has a due time). */
void servers_route(rdap_source *s, size_t i);
void heap_push(rdap_source *s, rdap_server *srv, size_t object);
/* Queued objects whose next_due (Unix ms) is at or before now_wall; costs
 * the number counted, not the queue's length. */
size_t servers_count_due(const rdap_source *s, int64_t now_wall);
size_t heap_pop(rdap_source *s, rdap_server *srv);
void servers_free(rdap_source *s);

/* fetch.c: transfers over curl multi */
int fetch_init(rdap_source *s, char *err, size_t err_size);
/* Starts what may start now; returns ms until something else could start (-1: nothing waits). */
int64_t fetch_start_due(rdap_source *s);
/* Drives transfers, waiting at most wait_ms for activity; finished ones become outcomes. */
void fetch_run(rdap_source *s, int wait_ms);
void fetch_free(rdap_source *s);

/* respond.c: a finished transfer -> outcome / state */
void respond(rdap_source *s, transfer *t, CURLcode result);
void outcome_free(outcome *o);
int outcome_push(rdap_source *s, outcome *o);
void object_schedule(rdap_source *s, rdap_object *o, int64_t now_wall);

/* emit.c: outcomes -> records */
long emit_ready(rdap_source *s, rdapsync_batch *batch, char *err, size_t err_size);

/* store.c: per-object state in SQLite, consistent with the checkpoint */
int store_open(rdap_source *s, char *err, size_t err_size);
void store_close(rdap_store *st);
int store_load(rdap_source *s, char *err, size_t err_size);
int store_meta_get(rdap_store *st, const char *name, int64_t *value);
int store_meta_set(rdap_store *st, const char *name, int64_t value);
int store_meta_del(rdap_store *st, const char *name);
/* The object's state as it is now (only for objects with nothing pending). */
int store_put_object(rdap_source *s, const rdap_object *o);
int store_put_pending(rdap_source *s, int64_t seq, const rdap_object *o);
/* Makes pending rows with seq <= upto the objects' state, drops the rest when drop_rest. */
int store_settle(rdap_source *s, int64_t upto, bool drop_rest);
int store_end(rdap_store *st);

#endif
