/*
 * The multi-value register (conflicts: {...}; rdapsync/sinktk.h,
 * "Multi-value register") in Redis: a key's heads are the string
 * <prefix>\0h:<key> (the toolkit's JSON text), its visible document the
 * usual <prefix><key> with its version key (a tombstone: the version key
 * alone), and the conflict log the hash <prefix>\0c:<table>, one field per
 * key holding {"heads","strategy","detected_at","resolved_at"} as JSON.
 *
 * A key's writes go in one MULTI/EXEC, so a crash leaves all of them or
 * none: a replay then finds the heads it left (stale) or redoes the whole.
 * The visible document goes in without the guard script: its version is
 * the shown head's, which may be older than the stored one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rds.h"

#define H rds_host

/* <prefix> INFIX <name> into `out` (reset first). 0 or -1. */
static int name(rds_buffer *out, const char *prefix, const char *infix, size_t infix_len, const char *rest,
                size_t rest_len)
{
    out->len = 0;
    return rds_buffer_append(prefix, strlen(prefix), out) | rds_buffer_append(infix, infix_len, out) |
           rds_buffer_append(rest, rest_len, out);
}

static rdapsync_status reply_error(rds_state *st, redisReply *reply, const char *what, char *err, size_t err_size)
{
    if (!reply)
        return rds_lost(st, what, err, err_size);
    snprintf(err, err_size, "%s: %s", what, reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    rdapsync_status status = reply->type == REDIS_REPLY_ERROR ? rds_classify(reply->str) : RDAPSYNC_ERROR;
    freeReplyObject(reply);
    return status;
}

/* Sends one GET per key (pipelined) of `infix` names, reads the replies
 * into out[i] (malloc'd strings or NULL). */
static rdapsync_status get_all(rds_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, bool log,
                               char **out, size_t *lens, char *err, size_t err_size)
{
    rds_buffer n = { 0 };
    const char *table = st->conflicts->table;
    for (size_t i = 0; i < count; i++) {
        int rc = log ? name(&n, st->cfg->prefix, "\0c:", 3, table, strlen(table))
                     : name(&n, st->cfg->prefix, "\0h:", 3, keys[i].record->key, keys[i].record->key_len);
        if (rc != 0 || (log ? redisAppendCommand(st->redis, "HGET %b %b", n.data, n.len, keys[i].record->key,
                                                 keys[i].record->key_len)
                            : redisAppendCommand(st->redis, "GET %b", n.data, n.len)) != REDIS_OK) {
            free(n.data);
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
    }
    free(n.data);
    rdapsync_status status = RDAPSYNC_OK;
    for (size_t i = 0; i < count; i++) {
        redisReply *reply = NULL;
        if (redisGetReply(st->redis, (void **)&reply) != REDIS_OK || !reply)
            return rds_lost(st, "conflicts: reading", err, err_size);
        if (status == RDAPSYNC_OK && reply->type == REDIS_REPLY_STRING) {
            if ((out[i] = malloc(reply->len + 1))) {
                memcpy(out[i], reply->str, reply->len + 1);
                lens[i] = reply->len;
            } else {
                snprintf(err, err_size, "out of memory");
                status = RDAPSYNC_ERROR;
            }
        } else if (status == RDAPSYNC_OK && reply->type != REDIS_REPLY_NIL) {
            status = reply_error(st, reply, "conflicts: reading", err, err_size);
            continue;
        }
        freeReplyObject(reply);
    }
    return status;
}

rdapsync_status rds_mvr_load(rds_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err, size_t err_size)
{
    char **texts = calloc(count, sizeof(*texts));
    size_t *lens = calloc(count, sizeof(*lens));
    rdapsync_status status = RDAPSYNC_ERROR;
    if (!texts || !lens)
        snprintf(err, err_size, "out of memory");
    else
        status = get_all(st, keys, count, false, texts, lens, err, err_size);
    for (size_t i = 0; texts && i < count; i++) {
        if (status == RDAPSYNC_OK) {
            keys[i].stored = texts[i];
            keys[i].stored_len = lens[i];
        } else {
            free(texts[i]);
        }
    }
    free(texts);
    free(lens);
    return status;
}

static void now_iso(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

/* The log entry after `k`'s change, given the stored one (or NULL):
 * malloc'd JSON text. */
static char *log_entry(const rdapsync_sinktk_mvr_key *k, const char *stored, size_t stored_len, const char *strategy)
{
    const rdapsync_json_api *j = H->json;
    rdapsync_value *old = stored ? j->parse(stored, stored_len, NULL, 0) : NULL;
    const char *detected = old ? j->string_value(j->object_get(old, "detected_at")) : NULL;
    bool open_before = old && j->type(j->object_get(old, "resolved_at")) == RDAPSYNC_JSON_NULL;
    char now[40];
    now_iso(now, sizeof now);
    bool resolve = k->log == RDAPSYNC_SINKTK_LOG_RESOLVE;
    rdapsync_value *entry = j->object_new(), *heads = j->parse(k->log_heads, strlen(k->log_heads), NULL, 0);
    const char *when = open_before && detected ? detected : now;
    int rc = entry && heads ? j->object_set(entry, "heads", heads) : -1;
    rc |= j->object_set(entry, "strategy", j->string_new(strategy, strlen(strategy)));
    rc |= j->object_set(entry, "detected_at", j->string_new(when, strlen(when)));
    rc |= j->object_set(entry, "resolved_at", resolve ? j->string_new(now, strlen(now)) : j->null_new());
    char *text = rc == 0 ? j->dump(entry, 0, NULL) : NULL;
    char *copy = text ? strdup(text) : NULL;
    H->free(text);
    j->decref(entry);
    j->decref(old);
    return copy;
}

/* Queues one key's MULTI ... EXEC. 0 or -1 (memory). */
static int queue_key(rds_state *st, const rdapsync_sinktk_mvr_key *k, const char *entry, rds_buffer *n,
                     rds_buffer *hex)
{
    const rdapsync_record *r = k->record;
    const char *prefix = st->cfg->prefix;
    char ttl[24];
    int64_t ms = k->doc ? st->cfg->ttl : st->cfg->tombstone_ttl;
    snprintf(ttl, sizeof ttl, "%lld", (long long)ms);
    hex->len = 0;
    if (rds_version_hex(&k->version, hex) != 0 || redisAppendCommand(st->redis, "MULTI") != REDIS_OK)
        return -1;
    if (name(n, prefix, "", 0, r->key, r->key_len) != 0 ||
        (k->doc ? (st->cfg->ttl ? redisAppendCommand(st->redis, "SET %b %s PX %s", n->data, n->len, k->doc, ttl)
                                : redisAppendCommand(st->redis, "SET %b %s", n->data, n->len, k->doc))
                : redisAppendCommand(st->redis, "DEL %b", n->data, n->len)) != REDIS_OK)
        return -1;
    if (name(n, prefix, "\0v:", 3, r->key, r->key_len) != 0 ||
        (ms ? redisAppendCommand(st->redis, "SET %b %b PX %s", n->data, n->len, hex->data, hex->len, ttl)
            : redisAppendCommand(st->redis, "SET %b %b", n->data, n->len, hex->data, hex->len)) != REDIS_OK)
        return -1;
    const char *table = st->conflicts->table;
    if (entry && (name(n, prefix, "\0c:", 3, table, strlen(table)) != 0 ||
                  redisAppendCommand(st->redis, "HSET %b %b %s", n->data, n->len, r->key, r->key_len, entry) !=
                      REDIS_OK))
        return -1;
    if (name(n, prefix, "\0h:", 3, r->key, r->key_len) != 0 ||
        redisAppendCommand(st->redis, "SET %b %s", n->data, n->len, k->heads) != REDIS_OK)
        return -1;
    return redisAppendCommand(st->redis, "EXEC") == REDIS_OK ? 0 : -1;
}

rdapsync_status rds_mvr_write(rds_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                              size_t err_size)
{
    const char *strategy = rdapsync_sinktk_strategy_names[st->conflicts->strategy];
    char **stored = calloc(count, sizeof(*stored));
    size_t *lens = calloc(count, sizeof(*lens)), queued = 0;
    rds_buffer n = { 0 }, hex = { 0 };
    rdapsync_status status = RDAPSYNC_ERROR;
    if (!stored || !lens) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }
    /* The log entries as they are, to keep an open conflict's detected_at. */
    if ((status = get_all(st, keys, count, true, stored, lens, err, err_size)) != RDAPSYNC_OK)
        goto done;
    for (size_t i = 0; i < count; i++) {
        char *entry = keys[i].log != RDAPSYNC_SINKTK_LOG_NONE ? log_entry(&keys[i], stored[i], lens[i], strategy)
                                                              : NULL;
        bool ok = (keys[i].log == RDAPSYNC_SINKTK_LOG_NONE || entry) && queue_key(st, &keys[i], entry, &n, &hex) == 0;
        free(entry);
        if (!ok) {
            snprintf(err, err_size, "out of memory");
            status = RDAPSYNC_ERROR;
            break;
        }
        queued++;
    }
    /* Every queued command answers, also after a failure to queue more:
     * read them all so the connection stays in step. */
    for (size_t i = 0; i < queued; i++) {
        size_t commands = 5 + (keys[i].log != RDAPSYNC_SINKTK_LOG_NONE);
        for (size_t c = 0; c < commands; c++) {
            redisReply *reply = NULL;
            if (redisGetReply(st->redis, (void **)&reply) != REDIS_OK || !reply) {
                status = rds_lost(st, "conflicts: writing", err, err_size);
                goto done;
            }
            bool failed = reply->type == REDIS_REPLY_ERROR ||
                          (c == commands - 1 && reply->type != REDIS_REPLY_ARRAY);
            if (failed && status == RDAPSYNC_OK) {
                status = reply_error(st, reply, "conflicts: writing", err, err_size);
                continue;
            }
            freeReplyObject(reply);
        }
    }
done:
    for (size_t i = 0; stored && i < count; i++)
        free(stored[i]);
    free(stored);
    free(lens);
    free(n.data);
    free(hex.data);
    return status;
}

/* One HVALS of the log: a scan, but only at connect. */
rdapsync_status rds_mvr_open_count(rds_state *st, uint64_t *count, char *err, size_t err_size)
{
    const rdapsync_json_api *j = H->json;
    const char *table = st->conflicts->table;
    rds_buffer n = { 0 };
    if (name(&n, st->cfg->prefix, "\0c:", 3, table, strlen(table)) != 0) {
        free(n.data);
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    redisReply *reply = redisCommand(st->redis, "HVALS %b", n.data, n.len);
    free(n.data);
    if (!reply || reply->type != REDIS_REPLY_ARRAY)
        return reply_error(st, reply, "conflicts: counting the open ones", err, err_size);
    *count = 0;
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        rdapsync_value *entry = e->type == REDIS_REPLY_STRING ? j->parse(e->str, e->len, NULL, 0) : NULL;
        *count += entry && j->type(j->object_get(entry, "resolved_at")) == RDAPSYNC_JSON_NULL;
        j->decref(entry);
    }
    freeReplyObject(reply);
    return RDAPSYNC_OK;
}
