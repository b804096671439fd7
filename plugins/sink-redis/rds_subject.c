/*
 * subject_find, subject_erase and retention_purge (plugin.h, ABI 1.5) over
 * the live documents. Redis cannot search inside values, so the keys under
 * the prefix are walked with SCAN (strings only; version and staging keys,
 * which start with <prefix>\0, are skipped) and each document read with
 * GET for the toolkit's matcher. Each change is one compare-and-set script
 * on the server: a document is rewritten (its TTL kept) or deleted, with
 * its version key, only if it still holds the bytes that were judged, so a
 * pipeline writing meanwhile is never overwritten with older data (a call
 * again picks up what changed). The version key goes with the document:
 * its name holds the record key, which may itself be personal (an entity
 * handle).
 * With conflicts: {...} the register's heads keys (<prefix>\0h:<key>) are
 * walked the same way and scrubbed head by head (versions stay). The
 * conflict log's entries carry no documents (only vectors and versions)
 * and are left as they are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rds.h"

static const char cas_script[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
    "if ARGV[2] == 'd' then redis.call('DEL', KEYS[1], KEYS[2]) "
    "else redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL') end return 1";

static redisReply *call(rds_state *st, const char *what, int argc, const char **argv, const size_t *lens,
                        rdapsync_status *status, char *err, size_t err_size)
{
    if (!st->redis) {
        snprintf(err, err_size, "redis sink: not connected");
        *status = RDAPSYNC_RETRY;
        return NULL;
    }
    redisReply *reply = redisCommandArgv(st->redis, argc, argv, lens);
    if (!reply) {
        *status = rds_lost(st, what, err, err_size);
        return NULL;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        *status = rds_classify(reply->str);
        snprintf(err, err_size, "redis %s: %.300s", what, reply->str);
        freeReplyObject(reply);
        return NULL;
    }
    *status = RDAPSYNC_OK;
    return reply;
}

typedef int (*doc_fn)(void *opaque, const char *key, size_t key_len, const char *doc, size_t doc_len, char *err,
                      size_t err_size);

/* The prefix as a SCAN pattern: glob characters escaped, then `infix`
 * (`infix_len` bytes, may hold NUL), then "*"; *len gets its length. */
static char *scan_pattern(const char *prefix, const char *infix, size_t infix_len, size_t *len)
{
    size_t n = 0, plen = strlen(prefix);
    char *out = malloc(2 * plen + infix_len + 2);
    if (!out)
        return NULL;
    for (size_t i = 0; i < plen; i++) {
        if (strchr("*?[]\\", prefix[i]))
            out[n++] = '\\';
        out[n++] = prefix[i];
    }
    memcpy(out + n, infix, infix_len);
    n += infix_len;
    out[n++] = '*';
    out[n] = '\0';
    *len = n;
    return out;
}

/* Register heads keys: <prefix>\0h:<key> (rds_mvr.c). */
static const char heads_infix[] = "\0h:";
#define HEADS_INFIX_LEN 3

/* Every string key under the prefix: the documents (heads false; version
 * and staging keys skipped), or the register's heads keys (heads true). */
static rdapsync_status each_key(rds_state *st, bool heads, doc_fn fn, void *opaque, char *err, size_t err_size)
{
    const char *prefix = st->cfg->prefix ? st->cfg->prefix : "";
    size_t plen = strlen(prefix), pattern_len = 0;
    char *pattern = scan_pattern(prefix, heads_infix, heads ? HEADS_INFIX_LEN : 0, &pattern_len);
    char cursor[32] = "0";
    rdapsync_status status = pattern ? RDAPSYNC_OK : RDAPSYNC_ERROR;
    if (!pattern)
        snprintf(err, err_size, "out of memory");
    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "500", "TYPE", "string"};
        size_t lens[] = {4, strlen(cursor), 5, pattern_len, 5, 3, 4, 6};
        redisReply *page = status == RDAPSYNC_OK ? call(st, "SCAN", 8, argv, lens, &status, err, err_size) : NULL;
        if (!page)
            break;
        if (page->type != REDIS_REPLY_ARRAY || page->elements != 2) {
            snprintf(err, err_size, "redis SCAN: unexpected reply");
            status = RDAPSYNC_ERROR;
        } else {
            snprintf(cursor, sizeof(cursor), "%s", page->element[0]->str);
            redisReply *keys = page->element[1];
            for (size_t i = 0; status == RDAPSYNC_OK && i < keys->elements; i++) {
                const redisReply *k = keys->element[i];
                if (!heads && (k->len <= plen || k->str[plen] == '\0'))
                    continue; /* a version or staging key */
                const char *get[] = {"GET", k->str};
                size_t get_lens[] = {3, k->len};
                redisReply *doc = call(st, "GET", 2, get, get_lens, &status, err, err_size);
                if (doc && doc->type == REDIS_REPLY_STRING &&
                    fn(opaque, k->str, k->len, doc->str, doc->len, err, err_size) != 0)
                    status = RDAPSYNC_ERROR;
                if (doc)
                    freeReplyObject(doc);
            }
        }
        freeReplyObject(page);
    } while (status == RDAPSYNC_OK && strcmp(cursor, "0") != 0);
    free(pattern);
    return status;
}

/* ---- find ---- */

typedef struct find_ctx {
    size_t prefix_len; /* of the keys scanned: the prefix, and the heads infix for heads */
    bool heads;
    const rdapsync_sinktk_subject *subject;
    rdapsync_subject_found_fn fn;
    void *arg;
} find_ctx;

static int found_doc(void *opaque, const char *key, size_t key_len, const char *doc, size_t doc_len, char *err,
                     size_t err_size)
{
    find_ctx *f = opaque;
    int yes = f->heads ? rdapsync_sinktk_subject_match_heads_text(rds_host, f->subject, doc, doc_len)
                       : rdapsync_sinktk_subject_match_text(rds_host, f->subject, doc, doc_len);
    rdapsync_subject_hit hit = {f->heads ? "heads" : "live", key + f->prefix_len, key_len - f->prefix_len, doc,
                                doc_len};
    if (yes == 1 && f->fn(f->arg, &hit) != 0) {
        snprintf(err, err_size, "stopped by the caller");
        return -1;
    }
    return 0;
}

rdapsync_status rds_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                 char *err, size_t err_size)
{
    rds_state *st = state;
    rdapsync_sinktk_subject subject;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    size_t plen = st->cfg->prefix ? strlen(st->cfg->prefix) : 0;
    find_ctx f = {plen, false, &subject, fn, arg};
    status = each_key(st, false, found_doc, &f, err, err_size);
    if (status == RDAPSYNC_OK && st->conflicts) {
        f = (find_ctx){plen + HEADS_INFIX_LEN, true, &subject, fn, arg};
        status = each_key(st, true, found_doc, &f, err, err_size);
    }
    rdapsync_sinktk_subject_free(&subject);
    return status;
}

/* ---- erase / purge ---- */

typedef struct scrub_ctx {
    rds_state *st;
    const rdapsync_sinktk_scrub *scrub;
    uint64_t changed;
} scrub_ctx;

/* Rewrites one heads key with the compare-and-set script (its second key
 * unused: a heads key has no version key beside it). */
static int scrub_heads_key(void *opaque, const char *key, size_t key_len, const char *heads, size_t heads_len,
                           char *err, size_t err_size)
{
    scrub_ctx *c = opaque;
    char *next = NULL;
    size_t next_len = 0;
    int verdict = rdapsync_sinktk_scrub_heads(c->scrub, heads, heads_len, &next, &next_len, err, err_size);
    if (verdict <= RDAPSYNC_SINKTK_KEEP)
        return verdict < 0 ? -1 : 0;
    const char *argv[] = {"EVAL", cas_script, "2", key, key, heads, "u", next};
    size_t lens[] = {4, strlen(cas_script), 1, key_len, key_len, heads_len, 1, next_len};
    rdapsync_status status;
    redisReply *reply = call(c->st, "EVAL", 8, argv, lens, &status, err, err_size);
    if (reply) {
        c->changed += reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
        freeReplyObject(reply);
    }
    rds_host->free(next);
    return reply ? 0 : -1;
}

/* Decides and changes one document at once: the compare-and-set needs the
 * bytes that were judged, which the scrub list does not keep. */
static int scrub_doc(void *opaque, const char *key, size_t key_len, const char *doc, size_t doc_len, char *err,
                     size_t err_size)
{
    scrub_ctx *c = opaque;
    rds_state *st = c->st;
    char *next = NULL;
    size_t next_len = 0;
    int verdict = rdapsync_sinktk_scrub_text(c->scrub, doc, doc_len, &next, &next_len, err, err_size);
    if (verdict <= RDAPSYNC_SINKTK_KEEP)
        return verdict < 0 ? -1 : 0;
    /* <prefix>\0v:<key>: the version key beside the document. */
    size_t plen = st->cfg->prefix ? strlen(st->cfg->prefix) : 0;
    size_t vlen = key_len + 3;
    char *vkey = malloc(vlen);
    int rc = -1;
    if (vkey) {
        memcpy(vkey, key, plen);
        memcpy(vkey + plen, "\0v:", 3);
        memcpy(vkey + plen + 3, key + plen, key_len - plen);
        bool del = verdict == RDAPSYNC_SINKTK_DELETE;
        const char *argv[] = {"EVAL", cas_script, "2", key, vkey, doc, del ? "d" : "u", del ? "" : next};
        size_t lens[] = {4, strlen(cas_script), 1, key_len, vlen, doc_len, 1, del ? 0 : next_len};
        rdapsync_status status;
        redisReply *reply = call(st, "EVAL", 8, argv, lens, &status, err, err_size);
        if (reply) {
            c->changed += reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
            freeReplyObject(reply);
            rc = 0;
        }
    } else {
        snprintf(err, err_size, "out of memory");
    }
    free(vkey);
    rds_host->free(next);
    return rc;
}

static rdapsync_status scrub_all(rds_state *st, const rdapsync_sinktk_scrub *scrub, uint64_t *changed, char *err,
                                 size_t err_size)
{
    scrub_ctx c = {st, scrub, 0};
    rdapsync_status status = each_key(st, false, scrub_doc, &c, err, err_size);
    if (status == RDAPSYNC_OK && st->conflicts)
        status = each_key(st, true, scrub_heads_key, &c, err, err_size);
    /* What was changed stays changed: a failure part way still counts. */
    *changed = c.changed;
    return status;
}

rdapsync_status rds_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn, void *arg,
                                  uint64_t *changed, char *err, size_t err_size)
{
    rdapsync_sinktk_subject subject;
    *changed = 0;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    rdapsync_sinktk_scrub scrub = {.host = rds_host, .subject = &subject, .fn = fn, .arg = arg};
    status = scrub_all(state, &scrub, changed, err, err_size);
    rdapsync_sinktk_subject_free(&subject);
    return status;
}

rdapsync_status rds_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                    uint64_t *purged, char *err, size_t err_size)
{
    rdapsync_sinktk_scrub scrub = {.host = rds_host, .now_ms = now_ms, .fn = anonymise, .arg = arg};
    return scrub_all(state, &scrub, purged, err, err_size);
}
