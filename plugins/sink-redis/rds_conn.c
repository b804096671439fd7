/*
 * The connection: connect, AUTH, SELECT, SCRIPT LOAD of the guard, and what
 * an error reply means. The script is loaded at every connect, so a
 * server that restarted (and lost its script cache) gets it again.
 */
#define _POSIX_C_SOURCE 200809L /* gethostname, getpid, clock_gettime */

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "rds.h"

/*
 * The version guard, atomic on the server for each key: the stored
 * version, in hex, is compared as a string. Lua compares strings with
 * strcoll(); lowercase hex digits of the byte-sortable key order the same
 * under the usual collations as bytewise, which is
 * rdapsync_version_compare()'s order. A newer row's staging string is
 * RENAMEd over the document key (a delete DELetes it instead), then given
 * the key's TTL or none, and the version key gets the new version; a
 * stale row's staging string is deleted. An expired version key (ttl,
 * tombstone_ttl) holds nothing, so any version is newer than it. Only
 * short strings enter the script: a document passed as an argument costs
 * the server about ten plain SETs (docs/plugins/sink-redis.md, "Why this
 * layout"). GET runs under pcall so that a version key holding another
 * type is named in the answer; a document key without a version key was
 * not written by the sink and is refused the same way (the remaining
 * staging strings are deleted first). For a key without a version, the
 * check and the move are one RENAMENX: a call less per new key.
 */
const char rds_guard_script[] =
    "local ttl, tombstone_ttl = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local out = {}\n"
    "local function refuse(i, why)\n"
    "  for j = i, #KEYS / 3 do redis.call('DEL', KEYS[3 * j - 2]) end\n"
    "  out[i] = why\n"
    "  return out\n"
    "end\n"
    "for i = 1, #KEYS / 3 do\n"
    "  local stage, key, vkey, version = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], ARGV[2 * i + 1]\n"
    "  local old = redis.pcall('GET', vkey)\n"
    "  if type(old) == 'table' and old.err then return refuse(i, old.err) end\n"
    "  local delete = ARGV[2 * i + 2] == 'd'\n"
    "  if not old and (delete and redis.call('EXISTS', key) == 1 or\n"
    "                  not delete and redis.call('RENAMENX', stage, key) == 0) then\n"
    "    return refuse(i, 'NOTOURS the key exists without the sink\\'s version key: not written by this sink')\n"
    "  end\n"
    "  if old and old >= version then\n"
    "    redis.call('DEL', stage)\n"
    "    out[i] = 0\n"
    "  else\n"
    "    local expire = ttl\n"
    "    if delete then\n"
    "      expire = tombstone_ttl\n"
    "      redis.call('DEL', key)\n"
    "    else\n"
    "      if old then redis.call('RENAME', stage, key) end\n"
    "      if expire > 0 then redis.call('PEXPIRE', key, expire) else redis.call('PERSIST', key) end\n"
    "    end\n"
    "    if expire > 0 then redis.call('SET', vkey, version, 'PX', expire) else redis.call('SET', vkey, version) end\n"
    "    out[i] = 1\n"
    "  end\n"
    "end\n"
    "return out\n";

/* Error codes after which the same command may succeed later. A script's
 * error carries the inner command's code first too. */
static const char *const retry_codes[] = { "LOADING", "BUSY", "READONLY", "MISCONF", "TRYAGAIN", "MASTERDOWN",
                                           "NOSCRIPT", NULL };

rdapsync_status rds_classify(const char *error_reply)
{
    size_t len = 0;
    while (error_reply[len] && !isspace((unsigned char)error_reply[len]))
        len++;
    for (size_t i = 0; retry_codes[i]; i++)
        if (strlen(retry_codes[i]) == len && strncmp(error_reply, retry_codes[i], len) == 0)
            return RDAPSYNC_RETRY;
    return RDAPSYNC_ERROR;
}

void rds_disconnect(rds_state *st)
{
    if (st->redis)
        redisFree(st->redis);
    st->redis = NULL;
}

rdapsync_status rds_lost(rds_state *st, const char *what, char *err, size_t err_size)
{
    snprintf(err, err_size, "redis %s:%d: %s: %s", st->endpoint.host, st->endpoint.port, what,
             st->redis && st->redis->err ? st->redis->errstr : "connection lost");
    rds_disconnect(st);
    return RDAPSYNC_RETRY;
}

/* Runs one command; `status` gets the outcome. The reply (NULL unless OK) is
 * the caller's to freeReplyObject(). */
static redisReply *command(rds_state *st, const char *what, int argc, const char **argv, rdapsync_status *status,
                           char *err, size_t err_size)
{
    redisReply *reply = redisCommandArgv(st->redis, argc, argv, NULL);
    if (!reply) {
        *status = rds_lost(st, what, err, err_size);
        return NULL;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        *status = rds_classify(reply->str);
        snprintf(err, err_size, "redis %s:%d: %s: %.300s", st->endpoint.host, st->endpoint.port, what, reply->str);
        freeReplyObject(reply);
        return NULL;
    }
    *status = RDAPSYNC_OK;
    return reply;
}

rdapsync_status rds_connect(rds_state *st, char *err, size_t err_size)
{
    const rds_config *cfg = st->cfg;
    struct timeval tv = { .tv_sec = cfg->timeout / 1000, .tv_usec = (cfg->timeout % 1000) * 1000 };
    rdapsync_status status = RDAPSYNC_OK;
    redisReply *reply;

    st->redis = redisConnectWithTimeout(st->endpoint.host, st->endpoint.port, tv);
    if (!st->redis || st->redis->err)
        return rds_lost(st, "cannot connect", err, err_size);
    if (redisSetTimeout(st->redis, tv) != REDIS_OK || redisEnableKeepAlive(st->redis) != REDIS_OK)
        return rds_lost(st, "cannot set the socket options", err, err_size);
    if (cfg->password && *cfg->password) {
        bool user = cfg->username && *cfg->username;
        const char *argv[3] = { "AUTH" };
        int argc = 1;
        if (user)
            argv[argc++] = cfg->username;
        argv[argc++] = cfg->password;
        if (!(reply = command(st, "AUTH", argc, argv, &status, err, err_size))) {
            /* Never echo the password; the server's reason names none. */
            if (status == RDAPSYNC_ERROR)
                snprintf(err, err_size, "redis %s:%d: authentication failed for user \"%s\" (check username and "
                                        "password)",
                         st->endpoint.host, st->endpoint.port, user ? cfg->username : "default");
            goto fail;
        }
        freeReplyObject(reply);
    }
    char db[16];
    snprintf(db, sizeof(db), "%d", st->endpoint.database);
    if (!(reply = command(st, "SELECT", 2, (const char *[]){ "SELECT", db }, &status, err, err_size)))
        goto fail;
    freeReplyObject(reply);
    if (!(reply = command(st, "SCRIPT LOAD", 3, (const char *[]){ "SCRIPT", "LOAD", rds_guard_script }, &status,
                          err, err_size)))
        goto fail;
    if (reply->type != REDIS_REPLY_STRING || reply->len != 40) {
        freeReplyObject(reply);
        snprintf(err, err_size, "redis %s:%d: SCRIPT LOAD did not answer a SHA1", st->endpoint.host,
                 st->endpoint.port);
        status = RDAPSYNC_ERROR;
        goto fail;
    }
    memcpy(st->sha, reply->str, 41);
    freeReplyObject(reply);
    /* Unique among the writers of this server: the host, the process, the
     * instance and the moment of connecting. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char host[64] = "";
    gethostname(host, sizeof(host) - 1);
    unsigned long hash = 5381;
    for (const char *c = host; *c; c++)
        hash = hash * 33 + (unsigned char)*c;
    snprintf(st->token, sizeof(st->token), "%lx.%lx.%lx.%lx", hash & 0xffffffffUL, (unsigned long)getpid(),
             (unsigned long)(uintptr_t)st & 0xffffffUL, (unsigned long)(now.tv_sec * 1000000000L + now.tv_nsec));
    return RDAPSYNC_OK;

fail:
    rds_disconnect(st);
    return status;
}
