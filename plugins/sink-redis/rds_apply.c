/*
 * The write path: each upsert's document goes to a staging string with a
 * plain SET (PX: it expires by itself if the guard never runs), then one
 * EVALSHA of the guard script per chunk of up to RDS_CHUNK rows compares
 * the versions and RENAMEs each newer staging string into place (or
 * deletes it). The documents never enter Lua: handing a 4 KB string to a
 * script costs the server about ten plain SETs of it (measured:
 * docs/plugins/sink-redis.md). All of it is appended to hiredis's output
 * buffer, each chunk sent as soon as it is built, then the replies are
 * read. Each row is atomic on the server; a batch is not, and needs not
 * be: a RETRY writes the same batch again and the guard makes the rows
 * already written answer "stale".
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

/* Staging keys expire on their own after this long, in case the
 * connection is lost before the guard moved or deleted them. */
#define STAGE_TTL_MS "600000"

/* Names per row in the arena: key, version key, staging key, version hex,
 * kind. */
enum { NAMES = 5 };

/* Appends `prefix`, then `infix` (infix_len bytes, may hold a NUL), then
 * `rest`. 0, or -1 when out of memory. */
static int append_name(rds_buffer *arena, const char *prefix, const char *infix, size_t infix_len, const char *rest,
                       size_t rest_len)
{
    return rds_buffer_append(prefix, strlen(prefix), arena) == 0 &&
                   rds_buffer_append(infix, infix_len, arena) == 0 && rds_buffer_append(rest, rest_len, arena) == 0
               ? 0
               : -1;
}

/* Appends to `arena` the row's NAMES, their offsets and lengths to off/len.
 * 0, or -1 when out of memory. */
static int add_names(rds_state *st, const rdapsync_record *record, size_t index, rds_buffer *arena, size_t *off,
                     size_t *len)
{
    const char *prefix = st->cfg->prefix;
    char stage[96];
    /* The NUL cannot occur in a record key (the toolkit rejects such keys),
     * so neither a version key nor a staging key collides with a record's. */
    int stage_len = snprintf(stage, sizeof(stage), "%cs:%s:%zu", '\0', st->token, index);
    const char *kind = record->op == RDAPSYNC_OP_DELETE ? "d" : "u";
    off[0] = arena->len;
    if (append_name(arena, prefix, "", 0, record->key, record->key_len) != 0)
        return -1;
    len[0] = arena->len - off[0];
    off[1] = arena->len;
    if (append_name(arena, prefix, "\0v:", 3, record->key, record->key_len) != 0)
        return -1;
    len[1] = arena->len - off[1];
    off[2] = arena->len;
    if (append_name(arena, prefix, stage, (size_t)stage_len, "", 0) != 0)
        return -1;
    len[2] = arena->len - off[2];
    off[3] = arena->len;
    if (rds_version_hex(&record->version, arena) != 0)
        return -1;
    len[3] = arena->len - off[3];
    off[4] = arena->len;
    len[4] = 1;
    return rds_buffer_append(kind, 1, arena);
}

/* Appends an upsert's staging string to the pipeline: SET <stage> <json>
 * PX STAGE_TTL_MS. A delete stages nothing. 0, or -1 when out of memory. */
static int append_stage(rds_state *st, const rdapsync_record *record, const char *names, const size_t *off,
                        const size_t *len)
{
    if (record->op == RDAPSYNC_OP_DELETE)
        return 0;
    st->doc.len = 0;
    if (rds_host->json->dump_cb(record->value, 0, rds_buffer_append, &st->doc) != 0)
        return -1;
    const char *argv[] = { "SET", names + off[2], st->doc.len ? st->doc.data : "", "PX", STAGE_TTL_MS };
    size_t lens[] = { 3, len[2], st->doc.len, 2, strlen(STAGE_TTL_MS) };
    /* hiredis copies the arguments into its output buffer. */
    return redisAppendCommandArgv(st->redis, 5, argv, lens) == REDIS_OK ? 0 : -1;
}

/* Appends rows [first, first + n) to the pipeline: each upsert's staging
 * string, then one EVALSHA sha 3n (stage key, key, version key)... ttl
 * tombstone_ttl (version kind)... that moves each newer one into place.
 * The documents never pass through Lua. 0, or -1 when out of memory. */
static int append_chunk(rds_state *st, const rdapsync_sinktk_plan *plan, size_t first, size_t n)
{
    enum { FIXED = 5, MAX_ARGS = FIXED + NAMES * RDS_CHUNK };
    const char *argv[MAX_ARGS];
    size_t lens[MAX_ARGS], off[NAMES * RDS_CHUNK], len[NAMES * RDS_CHUNK];
    char count[24], ttl[24], tombstone_ttl[24];
    static const size_t key_order[3] = { 2, 0, 1 }; /* stage, key, version key */

    st->arena.len = 0;
    for (size_t i = 0; i < n; i++)
        if (add_names(st, plan->rows[first + i].record, first + i, &st->arena, &off[NAMES * i],
                      &len[NAMES * i]) != 0)
            return -1;
    for (size_t i = 0; i < n; i++)
        if (append_stage(st, plan->rows[first + i].record, st->arena.data, &off[NAMES * i], &len[NAMES * i]) != 0)
            return -1;
    snprintf(count, sizeof(count), "%zu", 3 * n);
    snprintf(ttl, sizeof(ttl), "%lld", (long long)st->cfg->ttl);
    snprintf(tombstone_ttl, sizeof(tombstone_ttl), "%lld", (long long)st->cfg->tombstone_ttl);
    const char *fixed[FIXED] = { "EVALSHA", st->sha, count, ttl, tombstone_ttl };
    size_t argc = 0;
    for (size_t i = 0; i < 3; i++, argc++) {
        argv[argc] = fixed[i];
        lens[argc] = strlen(fixed[i]);
    }
    for (size_t i = 0; i < n; i++) /* KEYS */
        for (size_t j = 0; j < 3; j++, argc++) {
            argv[argc] = st->arena.data + off[NAMES * i + key_order[j]];
            lens[argc] = len[NAMES * i + key_order[j]];
        }
    for (size_t i = 3; i < FIXED; i++, argc++) {
        argv[argc] = fixed[i];
        lens[argc] = strlen(fixed[i]);
    }
    for (size_t i = 0; i < n; i++) /* ARGV: version, kind */
        for (size_t j = 3; j < 5; j++, argc++) {
            argv[argc] = st->arena.data + off[NAMES * i + j];
            lens[argc] = len[NAMES * i + j];
        }
    return redisAppendCommandArgv(st->redis, (int)argc, argv, lens) == REDIS_OK ? 0 : -1;
}

/* Notes the first failure in err (naming the key) and *status. */
static void failed(rds_state *st, const rdapsync_record *record, const char *why, rdapsync_status *status, char *err,
                   size_t err_size)
{
    if (*status != RDAPSYNC_OK)
        return;
    *status = rds_classify(why);
    snprintf(err, err_size, "redis %s:%d: key \"%s%.200s\": %.300s", st->endpoint.host, st->endpoint.port,
             st->cfg->prefix, record->key, why);
}

/* Takes one staging SET's reply. */
static void take_stage_reply(rds_state *st, const rdapsync_record *record, const redisReply *reply,
                             rdapsync_status *status, char *err, size_t err_size)
{
    if (reply->type == REDIS_REPLY_ERROR)
        failed(st, record, reply->str, status, err, err_size);
    else if (reply->type != REDIS_REPLY_STATUS)
        failed(st, record, "unexpected reply to SET", status, err, err_size);
}

/* Takes the guard's reply for rows [first, first + n) into the tally. */
static void take_reply(rds_state *st, const rdapsync_sinktk_plan *plan, size_t first, size_t n,
                       const redisReply *reply, rdapsync_sinktk_tally *tally, rdapsync_status *status, char *err,
                       size_t err_size)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        failed(st, plan->rows[first].record, reply->str, status, err, err_size);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements > n) {
        failed(st, plan->rows[first].record, "unexpected reply to EVALSHA", status, err, err_size);
        return;
    }
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        if (e->type == REDIS_REPLY_INTEGER) {
            tally->applied += e->integer == 1;
            tally->stale += e->integer == 0;
        } else {
            /* The guard refused this key: its error text. */
            failed(st, plan->rows[first + i].record, e->type == REDIS_REPLY_STRING ? e->str : "unexpected reply",
                   status, err, err_size);
            return;
        }
    }
    if (reply->elements < n)
        failed(st, plan->rows[first].record, "the guard script stopped early", status, err, err_size);
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
     * in step; the first failure is the one reported. Per chunk: one reply
     * per upsert's staging SET, then the guard's. */
    for (size_t first = 0; first < plan->count; first += RDS_CHUNK) {
        size_t n = plan->count - first < RDS_CHUNK ? plan->count - first : RDS_CHUNK;
        for (size_t i = 0; i <= n; i++) {
            const rdapsync_record *record = plan->rows[first + (i < n ? i : 0)].record;
            if (i < n && record->op == RDAPSYNC_OP_DELETE)
                continue;
            redisReply *reply = NULL;
            if (redisGetReply(st->redis, (void **)&reply) != REDIS_OK || !reply) {
                char what[300];
                snprintf(what, sizeof(what), "writing key \"%.200s\"", record->key);
                return rds_lost(st, what, err, err_size);
            }
            if (i < n)
                take_stage_reply(st, record, reply, &status, err, err_size);
            else
                take_reply(st, plan, first, n, reply, tally, &status, err, err_size);
            freeReplyObject(reply);
        }
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
