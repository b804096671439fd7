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

/* The prefix as a SCAN pattern: glob characters escaped, then "*". */
static char *scan_pattern(const char *prefix)
{
    size_t n = 0, len = strlen(prefix);
    char *out = malloc(2 * len + 2);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (strchr("*?[]\\", prefix[i]))
            out[n++] = '\\';
        out[n++] = prefix[i];
    }
    out[n++] = '*';
    out[n] = '\0';
    return out;
}

static rdapsync_status each_doc(rds_state *st, doc_fn fn, void *opaque, char *err, size_t err_size)
{
    const char *prefix = st->cfg->prefix ? st->cfg->prefix : "";
    size_t plen = strlen(prefix);
    char *pattern = scan_pattern(prefix);
    char cursor[32] = "0";
    rdapsync_status status = pattern ? RDAPSYNC_OK : RDAPSYNC_ERROR;
    if (!pattern)
        snprintf(err, err_size, "out of memory");
    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "500", "TYPE", "string"};
        redisReply *page = status == RDAPSYNC_OK ? call(st, "SCAN", 8, argv, NULL, &status, err, err_size) : NULL;
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
                if (k->len <= plen || k->str[plen] == '\0')
                    continue; /* a version or staging key */
                const char *get[] = {"GET", k->str};
                size_t lens[] = {3, k->len};
                redisReply *doc = call(st, "GET", 2, get, lens, &status, err, err_size);
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
    size_t prefix_len;
    const rdapsync_sinktk_subject *subject;
    rdapsync_subject_found_fn fn;
    void *arg;
} find_ctx;

static int found_doc(void *opaque, const char *key, size_t key_len, const char *doc, size_t doc_len, char *err,
                     size_t err_size)
{
    find_ctx *f = opaque;
    int yes = rdapsync_sinktk_subject_match_text(rds_host, f->subject, doc, doc_len);
    rdapsync_subject_hit hit = {"live", key + f->prefix_len, key_len - f->prefix_len, doc, doc_len};
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
    find_ctx f = {st->cfg->prefix ? strlen(st->cfg->prefix) : 0, &subject, fn, arg};
    status = each_doc(st, found_doc, &f, err, err_size);
    rdapsync_sinktk_subject_free(&subject);
    return status;
}

/* ---- erase / purge ---- */

typedef struct scrub_ctx {
    rds_state *st;
    const rdapsync_sinktk_scrub *scrub;
    uint64_t changed;
} scrub_ctx;

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
    rdapsync_status status = each_doc(st, scrub_doc, &c, err, err_size);
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
