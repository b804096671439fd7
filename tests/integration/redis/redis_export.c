/*
 * redis-export [--drop] [--tombstones] PREFIX: what the Redis sink stored
 * under PREFIX, for the tests and the swap test.
 *
 *   (default)     one line per live key, in rdapgen's --expected shape:
 *                 {"key":K,"ts_ms":N,"origin":S,"seq":N,"value":DOC}
 *   --tombstones  one line per tombstone instead: {"key":K,"ts_ms":N,
 *                 "origin":S,"seq":N,"ttl_ms":N} (-1: no TTL)
 *   --drop        deletes every key under PREFIX, prints nothing
 *
 * The server comes from RDAPSYNC_REDIS_HOST / _PORT / _USER / _PASSWORD
 * (what scripts/servers/redis.sh env prints), database 0 or
 * RDAPSYNC_REDIS_DB. The layout (docs/plugins/sink-redis.md): the document
 * as a JSON string at PREFIX<key>, the version at PREFIX\0v:<key> (hex of
 * the toolkit's version key); a tombstone is a version key without a
 * document. A document without a version key is an error. Exit 0, or 1
 * with a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>
#include <jansson.h>
#include <rdapsync/sinktk.h>

static redisContext *redis;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "redis-export: %s: %s\n", what, why);
    exit(1);
}

static redisReply *run(int argc, const char **argv, const size_t *lens)
{
    redisReply *reply = redisCommandArgv(redis, argc, argv, lens);
    if (!reply)
        die(argv[0], redis->errstr);
    if (reply->type == REDIS_REPLY_ERROR)
        die(argv[0], reply->str);
    return reply;
}

static const char *env(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    if (v && *v)
        return v;
    if (!fallback)
        die(name, "not set (eval \"$(scripts/servers/redis.sh env)\")");
    return fallback;
}

/* PREFIX with the glob characters escaped, then '*'. Caller frees. */
static char *pattern_of(const char *prefix)
{
    char *out = malloc(2 * strlen(prefix) + 2), *p = out;
    if (!out)
        die("pattern", "out of memory");
    for (const char *s = prefix; *s; s++) {
        if (strchr("*?[]\\", *s))
            *p++ = '\\';
        *p++ = *s;
    }
    *p++ = '*';
    *p = '\0';
    return out;
}

/* One record from its version key `vkey` (PREFIX\0v:<key>). */
static void print_key(const char *vkey, size_t vlen, size_t prefix_len, int tombstones)
{
    const char *key_of = vkey + prefix_len + 3;
    size_t key_len = vlen - prefix_len - 3;
    char *rkey = malloc(prefix_len + key_len + 1);
    if (!rkey)
        die("key", "out of memory");
    memcpy(rkey, vkey, prefix_len);
    memcpy(rkey + prefix_len, key_of, key_len);
    rkey[prefix_len + key_len] = '\0';
    size_t rlen = prefix_len + key_len;
    redisReply *r = run(3, (const char *[]){ "MGET", vkey, rkey }, (size_t[]){ 4, vlen, rlen });
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING)
        die(rkey, "the version key holds no string");
    const redisReply *hex = r->element[0], *doc = r->element[1];
    int live = doc->type == REDIS_REPLY_STRING;
    if (live == tombstones) {
        freeReplyObject(r);
        free(rkey);
        return;
    }
    size_t n = hex->len / 2;
    unsigned char *vk = malloc(n + 1);
    for (size_t i = 0; vk && i < n; i++) {
        unsigned int byte;
        if (sscanf(hex->str + 2 * i, "%2x", &byte) != 1)
            die(rkey, "version is not hex");
        vk[i] = (unsigned char)byte;
    }
    rdapsync_version v;
    if (!vk || hex->len % 2 || rdapsync_version_from_key(vk, n, &v) != 0)
        die(rkey, "version is not a version key");
    json_t *line = json_object();
    json_object_set_new(line, "key", json_stringn(key_of, key_len));
    json_object_set_new(line, "ts_ms", json_integer(v.event_time_ms));
    json_object_set_new(line, "origin", json_string(v.origin ? v.origin : ""));
    json_object_set_new(line, "seq", json_integer(v.sequence));
    if (live) {
        json_error_t error;
        json_t *value = json_loadb(doc->str, doc->len, JSON_DECODE_ANY, &error);
        if (!value)
            die(rkey, error.text);
        json_object_set_new(line, "value", value);
    } else {
        redisReply *t = run(2, (const char *[]){ "PTTL", vkey }, (size_t[]){ 4, vlen });
        json_object_set_new(line, "ttl_ms", json_integer(t->integer));
        freeReplyObject(t);
    }
    char *text = json_dumps(line, JSON_COMPACT);
    if (!text || !json_object_get(line, "key"))
        die(rkey, "key is not UTF-8");
    puts(text);
    free(text);
    json_decref(line);
    free(vk);
    free(rkey);
    freeReplyObject(r);
}

/* A document key: it must have its version key. */
static void check_document(const char *rkey, size_t rlen, size_t prefix_len)
{
    char *vkey = malloc(rlen + 4);
    if (!vkey)
        die("key", "out of memory");
    memcpy(vkey, rkey, prefix_len);
    memcpy(vkey + prefix_len, "\0v:", 3);
    memcpy(vkey + prefix_len + 3, rkey + prefix_len, rlen - prefix_len);
    redisReply *r = run(2, (const char *[]){ "EXISTS", vkey }, (size_t[]){ 6, rlen + 3 });
    if (r->integer != 1)
        die(rkey, "a document without a version key");
    freeReplyObject(r);
    free(vkey);
}

int main(int argc, char **argv)
{
    int drop = 0, tombstones = 0, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--drop") == 0)
            drop = 1;
        else if (strcmp(argv[i], "--tombstones") == 0)
            tombstones = 1;
        else
            die(argv[i], "unknown option");
    }
    if (i + 1 != argc) {
        fprintf(stderr, "usage: redis-export [--drop] [--tombstones] PREFIX\n");
        return 1;
    }
    const char *prefix = argv[i];
    redis = redisConnect(env("RDAPSYNC_REDIS_HOST", NULL), atoi(env("RDAPSYNC_REDIS_PORT", NULL)));
    if (!redis || redis->err)
        die("connect", redis ? redis->errstr : "out of memory");
    const char *user = env("RDAPSYNC_REDIS_USER", ""), *password = env("RDAPSYNC_REDIS_PASSWORD", "");
    if (*password)
        freeReplyObject(*user ? run(3, (const char *[]){ "AUTH", user, password }, NULL)
                              : run(2, (const char *[]){ "AUTH", password }, NULL));
    freeReplyObject(run(2, (const char *[]){ "SELECT", env("RDAPSYNC_REDIS_DB", "0") }, NULL));
    char *pattern = pattern_of(prefix);
    size_t plen = strlen(prefix);
    char cursor[32] = "0";
    do {
        redisReply *r = run(6, (const char *[]){ "SCAN", cursor, "MATCH", pattern, "COUNT", "1000" }, NULL);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        const redisReply *keys = r->element[1];
        for (size_t k = 0; k < keys->elements; k++) {
            const redisReply *key = keys->element[k];
            if (drop) {
                freeReplyObject(run(2, (const char *[]){ "DEL", key->str }, (size_t[]){ 3, key->len }));
            } else if (key->len >= plen + 3 && memcmp(key->str + plen, "\0v:", 3) == 0) {
                print_key(key->str, key->len, plen, tombstones);
            } else if (!memchr(key->str, '\0', key->len)) {
                check_document(key->str, key->len, plen);
            } /* else a staging string (PREFIX\0s:...): not a record */
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    free(pattern);
    redisFree(redis);
    return 0;
}
