/*
 * The write path: one EVALSHA of the guard script per chunk of up to
 * RDS_CHUNK planned rows (one script call costs more than the rows in it),
 * all appended to hiredis's output buffer first and sent as one pipeline,
 * then one reply read per chunk. Each row is atomic on the server; a batch
 * is not, and needs not be: a RETRY writes the same batch again and the
 * guard makes the rows already written answer "stale".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rds.h"

int rds_buffer_append(const char *bytes, size_t len, void *opaque)
{
    rds_buffer *buf = opaque;
    if (buf->capacity - buf->len < len) {
        size_t capacity = buf->capacity ? buf->capacity : 4096;
        while (capacity - buf->len < len)
            capacity *= 2;
        char *data = realloc(buf->data, capacity);
        if (!data)
            return -1;
        buf->data = data;
        buf->capacity = capacity;
    }
    memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    return 0;
}

int rds_version_hex(const rdapsync_version *version, rds_buffer *out)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char small[256];
    size_t len = rdapsync_version_key(version, NULL, 0);
    unsigned char *key = len <= sizeof(small) ? small : malloc(len);
    if (!key)
        return -1;
    rdapsync_version_key(version, key, len);
    for (size_t i = 0; i < len; i++) {
        char pair[2] = { digits[key[i] >> 4], digits[key[i] & 15] };
        if (rds_buffer_append(pair, 2, out) != 0)
            goto oom;
    }
    if (key != small)
        free(key);
    return 0;
oom:
    if (key != small)
        free(key);
    return -1;
}

/* Appends `record`'s key, version and document (empty for a delete) to
 * `arena`, their offsets and lengths to off/len. 0, or -1 when out of
 * memory. */
static int add_row(rds_state *st, const rdapsync_record *record, rds_buffer *arena, size_t *off, size_t *len)
{
    const char *prefix = st->cfg->prefix;
    off[0] = arena->len;
    if (rds_buffer_append(prefix, strlen(prefix), arena) != 0 ||
        rds_buffer_append(record->key, record->key_len, arena) != 0)
        return -1;
    len[0] = arena->len - off[0];
    off[1] = arena->len;
    if (rds_version_hex(&record->version, arena) != 0)
        return -1;
    len[1] = arena->len - off[1];
    off[2] = arena->len;
    if (record->op != RDAPSYNC_OP_DELETE &&
        rds_host->json->dump_cb(record->value, 0, rds_buffer_append, arena) != 0)
        return -1;
    len[2] = arena->len - off[2];
    return 0;
}

/* Appends one EVALSHA of rows [first, first + n) to the pipeline:
 * EVALSHA sha n key... ttl tombstone_ttl (version doc)... 0, or -1 when
 * out of memory. */
static int append_chunk(rds_state *st, const rdapsync_sinktk_plan *plan, size_t first, size_t n)
{
    enum { FIXED = 5, MAX_ARGS = FIXED + 3 * RDS_CHUNK };
    const char *argv[MAX_ARGS];
    size_t lens[MAX_ARGS], off[3 * RDS_CHUNK], len[3 * RDS_CHUNK];
    char count[24], ttl[24], tombstone_ttl[24];

    st->arena.len = 0;
    for (size_t i = 0; i < n; i++)
        if (add_row(st, plan->rows[first + i].record, &st->arena, &off[3 * i], &len[3 * i]) != 0)
            return -1;
    snprintf(count, sizeof(count), "%zu", n);
    snprintf(ttl, sizeof(ttl), "%lld", (long long)st->cfg->ttl);
    snprintf(tombstone_ttl, sizeof(tombstone_ttl), "%lld", (long long)st->cfg->tombstone_ttl);
    const char *fixed[FIXED] = { "EVALSHA", st->sha, count, ttl, tombstone_ttl };
    size_t argc = 0;
    for (size_t i = 0; i < 3; i++, argc++) {
        argv[argc] = fixed[i];
        lens[argc] = strlen(fixed[i]);
    }
    for (size_t i = 0; i < n; i++, argc++) { /* KEYS */
        argv[argc] = st->arena.data + off[3 * i];
        lens[argc] = len[3 * i];
    }
    for (size_t i = 3; i < FIXED; i++, argc++) {
        argv[argc] = fixed[i];
        lens[argc] = strlen(fixed[i]);
    }
    for (size_t i = 0; i < n; i++) /* ARGV: version, doc */
        for (size_t j = 1; j < 3; j++, argc++) {
            argv[argc] = len[3 * i + j] ? st->arena.data + off[3 * i + j] : "";
            lens[argc] = len[3 * i + j];
        }
    /* hiredis copies the arguments into its output buffer: the arena is
     * free for the next chunk. */
    return redisAppendCommandArgv(st->redis, (int)argc, argv, lens) == REDIS_OK ? 0 : -1;
}

/* Takes one chunk's reply into the tally; the first failure goes to err
 * (naming the key) and decides *status. */
static void take_reply(rds_state *st, const rdapsync_sinktk_plan *plan, size_t first, size_t n,
                       const redisReply *reply, rdapsync_sinktk_tally *tally, rdapsync_status *status, char *err,
                       size_t err_size)
{
    const char *why = NULL;
    size_t at = first;
    if (reply->type == REDIS_REPLY_ERROR) {
        why = reply->str;
    } else if (reply->type != REDIS_REPLY_ARRAY || reply->elements > n) {
        why = "unexpected reply to EVALSHA";
    } else {
        for (size_t i = 0; i < reply->elements && !why; i++) {
            const redisReply *e = reply->element[i];
            if (e->type == REDIS_REPLY_INTEGER) {
                tally->applied += e->integer == 1;
                tally->stale += e->integer == 0;
            } else {
                /* The guard's HGET failed on this key: its error text. */
                why = e->type == REDIS_REPLY_STRING ? e->str : "unexpected reply to EVALSHA";
                at = first + i;
            }
        }
        if (!why && reply->elements < n)
            why = "the guard script stopped early";
    }
    if (!why || *status != RDAPSYNC_OK)
        return;
    *status = rds_classify(why);
    const rdapsync_record *record = plan->rows[at].record;
    snprintf(err, err_size, "redis %s:%d: key \"%s%.200s\"%s: %.300s", st->endpoint.host, st->endpoint.port,
             st->cfg->prefix, record->key, reply->type == REDIS_REPLY_ERROR && n > 1 ? " (and the next keys)" : "",
             why);
}

rdapsync_status rds_apply(rds_state *st, rdapsync_sinktk_plan *plan, rdapsync_sinktk_tally *tally, char *err,
                          size_t err_size)
{
    rdapsync_status status = RDAPSYNC_OK;

    /* A flush's WAIT may have found the connection gone. */
    if (!st->redis && (status = rds_connect(st, err, err_size)) != RDAPSYNC_OK)
        return status;
    for (size_t first = 0; first < plan->count; first += RDS_CHUNK) {
        size_t n = plan->count - first < RDS_CHUNK ? plan->count - first : RDS_CHUNK;
        if (append_chunk(st, plan, first, n) != 0) {
            /* Half a pipeline in the output buffer: drop the connection. */
            rds_disconnect(st);
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
        /* Send what is ready, so the server works on this chunk while the
         * next one is serialized. The replies are small: the server never
         * blocks on them while nobody reads. */
        int done = 0;
        if (redisBufferWrite(st->redis, &done) != REDIS_OK)
            return rds_lost(st, "sending", err, err_size);
    }
    /* Every reply is read, also after an error one, so the connection stays
     * in step; the first failure is the one reported. */
    for (size_t first = 0; first < plan->count; first += RDS_CHUNK) {
        size_t n = plan->count - first < RDS_CHUNK ? plan->count - first : RDS_CHUNK;
        redisReply *reply = NULL;
        if (redisGetReply(st->redis, (void **)&reply) != REDIS_OK || !reply) {
            char what[300];
            snprintf(what, sizeof(what), "writing key \"%.200s\"", plan->rows[first].record->key);
            return rds_lost(st, what, err, err_size);
        }
        take_reply(st, plan, first, n, reply, tally, &status, err, err_size);
        freeReplyObject(reply);
    }
    return status;
}

rdapsync_status rds_wait(rds_state *st, char *err, size_t err_size)
{
    const rds_config *cfg = st->cfg;
    char replicas[24], timeout[24];
    if (!st->redis) {
        snprintf(err, err_size, "redis %s:%d: connection lost before WAIT", st->endpoint.host, st->endpoint.port);
        return RDAPSYNC_RETRY;
    }
    snprintf(replicas, sizeof(replicas), "%lld", (long long)cfg->wait_replicas);
    snprintf(timeout, sizeof(timeout), "%lld", (long long)cfg->wait_timeout_ms);
    redisReply *reply = redisCommand(st->redis, "WAIT %s %s", replicas, timeout);
    if (!reply)
        return rds_lost(st, "WAIT", err, err_size);
    rdapsync_status status = RDAPSYNC_OK;
    if (reply->type != REDIS_REPLY_INTEGER) {
        status = reply->type == REDIS_REPLY_ERROR ? rds_classify(reply->str) : RDAPSYNC_ERROR;
        snprintf(err, err_size, "redis %s:%d: WAIT: %.300s", st->endpoint.host, st->endpoint.port,
                 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    } else if (reply->integer < cfg->wait_replicas) {
        status = RDAPSYNC_RETRY;
        snprintf(err, err_size, "redis %s:%d: WAIT: %lld of %lld replicas acknowledged the writes within %lld ms "
                                "(wait_replicas, wait_timeout_ms); writing the batch again",
                 st->endpoint.host, st->endpoint.port, reply->integer, (long long)cfg->wait_replicas,
                 (long long)cfg->wait_timeout_ms);
    }
    freeReplyObject(reply);
    return status;
}
