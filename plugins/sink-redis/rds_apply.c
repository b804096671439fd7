/*
 * The write path: one EVALSHA of the guard script per planned row, all
 * appended to hiredis's output buffer first and sent as one pipeline,
 * then one reply read per row. Each row is atomic on the server; a batch
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
    out->len = 0;
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

/* Appends the EVALSHA of one row to the pipeline. 0, or -1 when out of
 * memory. */
static int append_row(rds_state *st, const rdapsync_record *record, rds_buffer *version)
{
    const rds_config *cfg = st->cfg;
    bool deleted = record->op == RDAPSYNC_OP_DELETE;
    char ttl[24];

    st->key.len = 0;
    if (rds_buffer_append(cfg->prefix, strlen(cfg->prefix), &st->key) != 0 ||
        rds_buffer_append(record->key, record->key_len, &st->key) != 0 || rds_version_hex(&record->version, version))
        return -1;
    st->doc.len = 0;
    if (!deleted && rds_host->json->dump_cb(record->value, 0, rds_buffer_append, &st->doc) != 0)
        return -1;
    snprintf(ttl, sizeof(ttl), "%lld", (long long)(deleted ? cfg->tombstone_ttl : cfg->ttl));
    const char *argv[] = { "EVALSHA", st->sha, "1", st->key.data, version->data, deleted ? "" : st->doc.data, ttl };
    size_t lens[] = { 7, 40, 1, st->key.len, version->len, deleted ? 0 : st->doc.len, strlen(ttl) };
    /* hiredis copies the arguments into its output buffer: the buffers are
     * free for the next row. */
    return redisAppendCommandArgv(st->redis, 7, argv, lens) == REDIS_OK ? 0 : -1;
}

rdapsync_status rds_apply(rds_state *st, rdapsync_sinktk_plan *plan, rdapsync_sinktk_tally *tally, char *err,
                          size_t err_size)
{
    rds_buffer version = { 0 };
    rdapsync_status status = RDAPSYNC_OK;

    /* A flush's WAIT may have found the connection gone. */
    if (!st->redis && (status = rds_connect(st, err, err_size)) != RDAPSYNC_OK)
        return status;
    for (size_t i = 0; i < plan->count; i++) {
        if (append_row(st, plan->rows[i].record, &version) != 0) {
            free(version.data);
            /* Half a pipeline in the output buffer: drop the connection. */
            rds_disconnect(st);
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
    }
    free(version.data);
    /* Every reply is read, also after an error one, so the connection stays
     * in step; the first failure is the one reported. */
    for (size_t i = 0; i < plan->count; i++) {
        const rdapsync_record *record = plan->rows[i].record;
        redisReply *reply = NULL;
        if (redisGetReply(st->redis, (void **)&reply) != REDIS_OK || !reply) {
            char what[300];
            snprintf(what, sizeof(what), "writing key \"%.200s\"", record->key);
            return rds_lost(st, what, err, err_size);
        }
        if (reply->type == REDIS_REPLY_INTEGER) {
            tally->applied += reply->integer == 1;
            tally->stale += reply->integer == 0;
        } else if (status == RDAPSYNC_OK) {
            bool error = reply->type == REDIS_REPLY_ERROR;
            status = error ? rds_classify(reply->str) : RDAPSYNC_ERROR;
            snprintf(err, err_size, "redis %s:%d: key \"%s%.200s\": %.300s", st->endpoint.host, st->endpoint.port,
                     st->cfg->prefix, record->key, error ? reply->str : "unexpected reply to EVALSHA");
        }
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
