/*
 * The Redis sink's internals, shared by its files (all hidden: the plugin
 * exports only its entry symbol). docs/plugins/sink-redis.md describes the
 * behaviour and the data layout; this header the pieces.
 *
 *   sink_redis.c  descriptor, options, check(), the store's operations for
 *                 the SDK's writer (rdapsync/sinktk.h), flush and WAIT
 *   rds_url.c     redis://host:port/db
 *   rds_conn.c    connecting (AUTH, SELECT, SCRIPT LOAD), classifying
 *                 error replies into RETRY and ERROR
 *   rds_apply.c   the pipelined, version-guarded writes
 *   rds_subject.c subject find/erase and retention purge (ABI 1.5)
 *   rds_mvr.c     the heads and the conflict log (conflicts: {...})
 *
 * Each live key's document is a plain string at <prefix><key> (the JSON,
 * what GET answers), its version a string at <prefix>\0v:<key> (the hex of
 * the toolkit's byte-sortable version key); a tombstone is the version key
 * alone. Each row's document is first SET to a staging string,
 * <prefix>\0s:<token>:<n>, and the guard, a Lua script run on the server
 * once per chunk of rows, renames it into place when its version is newer.
 */
#ifndef RDAPSYNC_SINK_REDIS_RDS_H
#define RDAPSYNC_SINK_REDIS_RDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis.h>
#include <rdapsync/sinktk.h>

extern const rdapsync_host *rds_host;

/* Filled by the host from the option table in sink_redis.c; each member
 * is named after its option. */
typedef struct rds_config {
    char *url;
    char *host;
    int64_t port;
    int64_t database;
    char *username;
    char *password;
    char *prefix;
    int64_t ttl;           /* ms, 0: none */
    int64_t tombstone_ttl; /* ms, 0: none */
    int64_t wait_replicas;
    int64_t wait_timeout_ms;
    int64_t timeout; /* ms */
    char *conflicts; /* JSON { strategy, regions, table } or NULL */
    rdapsync_options_set set;
} rds_config;

/* Where to connect: from `url` or from host/port/database. */
typedef struct rds_endpoint {
    char host[256];
    int port;
    int database;
} rds_endpoint;

/* A growable byte buffer, reused across rows. */
typedef struct rds_buffer {
    char *data;
    size_t len, capacity;
} rds_buffer;

typedef struct rds_state {
    rdapsync_ctx *ctx;
    const rds_config *cfg;
    rds_endpoint endpoint;
    rdapsync_sinktk_writer writer;
    redisContext *redis; /* NULL while disconnected */
    char sha[41];        /* the guard script's SHA1, from SCRIPT LOAD */
    char token[40];      /* this connection's part of the staging keys */
    rds_buffer arena;    /* one chunk's keys, version keys, staging keys, versions */
    rds_buffer doc;      /* one row's document */
    rdapsync_sinktk_conflicts *conflicts; /* the conflicts option read, or NULL */
} rds_state;

/* Rows per EVALSHA of the guard script. */
#define RDS_CHUNK 64

/* ---- rds_url.c ---- */

/* Parses "redis://host[:port][/db]" (host may be [ipv6]). Credentials in
 * the URL are refused: they belong in username/password, where password
 * is masked. 0, or -1 with the reason in err. Pure. */
int rds_url_parse(const char *url, rds_endpoint *out, char *err, size_t err_size);

/* ---- rds_conn.c ---- */

/* The Lua guard script. KEYS: per row its staging key, its key and its
 * version key; ARGV: ttl ms, tombstone ttl ms, then per row its version
 * hex and "u" or "d" (a delete). Answers one element per row: 1 written
 * (the staging string renamed into place, or the key deleted, and the
 * version stored), 0 stale (the staging string deleted); or, for a key the
 * sink may not write (a version key of another type: WRONGTYPE; a document
 * key without a version key: NOTOURS), that error's text as the last
 * element. */
extern const char rds_guard_script[];

/* How an error reply is handled: RETRY for a server that is loading,
 * busy, read-only, failing to persist, or lost the script (LOADING, BUSY,
 * READONLY, MISCONF, TRYAGAIN, MASTERDOWN, NOSCRIPT; also inside a script
 * error), ERROR for anything else. Pure. */
rdapsync_status rds_classify(const char *error_reply);

/* Connects to st->endpoint, authenticates, selects the database and loads
 * the script into st->sha. OK, RETRY (cannot reach, server not ready) or
 * ERROR (refused credentials, ...) with err; leaves st->redis NULL unless
 * OK. */
rdapsync_status rds_connect(rds_state *st, char *err, size_t err_size);
/* Frees the connection; NULL-safe. */
void rds_disconnect(rds_state *st);
/* After a NULL reply: the connection is gone. Fills err, disconnects,
 * answers RETRY. */
rdapsync_status rds_lost(rds_state *st, const char *what, char *err, size_t err_size);

/* ---- rds_apply.c ---- */

/* Writes every planned row in one pipeline: staging strings, and one
 * EVALSHA of the guard per RDS_CHUNK rows. OK, RETRY or ERROR naming the
 * key. */
rdapsync_status rds_apply(rds_state *st, rdapsync_sinktk_plan *plan, rdapsync_sinktk_tally *tally, char *err,
                          size_t err_size);
/* WAIT for cfg->wait_replicas replicas: OK, or RETRY when fewer answered
 * within wait_timeout_ms or the connection is gone. */
rdapsync_status rds_wait(rds_state *st, char *err, size_t err_size);
/* Appends the hex of rdapsync_version_key(version) to `out`. 0, or -1
 * when out of memory. */
int rds_version_hex(const rdapsync_version *version, rds_buffer *out);
/* Appends bytes; 0 or -1 when out of memory. Matches rdapsync_dump_fn. */
int rds_buffer_append(const char *bytes, size_t len, void *opaque);

/* ---- rds_subject.c: the ABI 1.5 calls, as in plugin.h ---- */
rdapsync_status rds_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                 char *err, size_t err_size);
rdapsync_status rds_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn, void *arg,
                                  uint64_t *changed, char *err, size_t err_size);
rdapsync_status rds_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                    uint64_t *purged, char *err, size_t err_size);
/* ---- rds_mvr.c ---- */

/* The store's heads_load / heads_write (rdapsync/sinktk.h). */
rdapsync_status rds_mvr_load(rds_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err, size_t err_size);
rdapsync_status rds_mvr_write(rds_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                              size_t err_size);
/* The conflict log's open entries (store op conflicts_open). */
rdapsync_status rds_mvr_open_count(rds_state *st, uint64_t *count, char *err, size_t err_size);

#endif
