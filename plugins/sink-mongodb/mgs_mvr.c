/*
 * The multi-value register's collections (conflicts: {...}; rdapsync/
 * sinktk.h, "Multi-value register"): <collection>_heads keeps each key's
 * heads as the toolkit's JSON text ({_id, heads}), the key's document in
 * the collection shows the visible one, and the conflict log keeps one
 * document per key that had several heads ({_id, heads, strategy,
 * detected_at, resolved_at}).
 *
 * There is no transaction here, so the order makes a replay safe: the
 * visible document and the log are written first, the heads last. A write
 * cut in between left the old heads, so its versions are not stale when
 * they come again and the same documents are written again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgs.h"

#define H mgs_host

mongoc_collection_t *mgs_mvr_collection(mgs_state *st, const char *suffix_or_name, bool suffix)
{
    char name[512];
    if (suffix)
        snprintf(name, sizeof name, "%s%s", st->cfg->collection, suffix_or_name);
    else
        snprintf(name, sizeof name, "%s", suffix_or_name);
    return mongoc_client_get_collection(st->client, st->cfg->database, name);
}

rdapsync_status mgs_mvr_load(mgs_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err, size_t err_size)
{
    mongoc_collection_t *heads = mgs_mvr_collection(st, "_heads", true);
    bson_t filter = BSON_INITIALIZER, id, in;
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &id);
    BSON_APPEND_ARRAY_BEGIN(&id, "$in", &in);
    for (size_t i = 0; i < count; i++) {
        char index[24];
        const char *ik;
        size_t n = bson_uint32_to_string((uint32_t)i, &ik, index, sizeof index);
        bson_append_utf8(&in, ik, (int)n, keys[i].record->key, (int)keys[i].record->key_len);
    }
    bson_append_array_end(&id, &in);
    bson_append_document_end(&filter, &id);
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(heads, &filter, NULL, NULL);
    const bson_t *doc;
    rdapsync_status status = RDAPSYNC_OK;
    while (status == RDAPSYNC_OK && mongoc_cursor_next(cursor, &doc)) {
        bson_iter_t it;
        uint32_t klen = 0, hlen = 0;
        if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_UTF8(&it))
            continue;
        const char *key = bson_iter_utf8(&it, &klen);
        if (!bson_iter_init_find(&it, doc, "heads") || !BSON_ITER_HOLDS_UTF8(&it))
            continue;
        const char *text = bson_iter_utf8(&it, &hlen);
        for (size_t i = 0; i < count; i++) {
            if (keys[i].record->key_len != klen || memcmp(keys[i].record->key, key, klen) != 0)
                continue;
            if (!(keys[i].stored = malloc(hlen + 1))) {
                snprintf(err, err_size, "out of memory");
                status = RDAPSYNC_ERROR;
                break;
            }
            memcpy(keys[i].stored, text, hlen + 1);
            keys[i].stored_len = hlen;
        }
    }
    bson_error_t error;
    const bson_t *reply = NULL;
    if (status == RDAPSYNC_OK && mongoc_cursor_error_document(cursor, &error, &reply))
        status = mgs_fail(st, "conflicts: reading the heads", &error, reply, err, err_size);
    mongoc_cursor_destroy(cursor);
    bson_destroy(&filter);
    mongoc_collection_destroy(heads);
    return status;
}

/* The key's visible document in the sink's stored shape. */
static bson_t *visible_doc(mgs_state *st, const rdapsync_sinktk_mvr_key *k, char *err, size_t err_size)
{
    rdapsync_record shown = *k->record;
    shown.version = k->version;
    shown.op = k->doc ? RDAPSYNC_OP_UPSERT : RDAPSYNC_OP_DELETE;
    shown.value = k->doc ? H->json->parse(k->doc, strlen(k->doc), err, err_size) : NULL;
    if (k->doc && !shown.value)
        return NULL;
    bson_t *doc = mgs_bson_stored(&shown, st->server.wrap_arrays, st->server.max_bson_size, err, err_size);
    H->json->decref(shown.value);
    return doc;
}

static bool upsert_by_id(mongoc_collection_t *coll, const rdapsync_sinktk_mvr_key *k, const bson_t *replacement,
                         const bson_t *opts, bson_error_t *error)
{
    bson_t selector = BSON_INITIALIZER;
    bson_append_utf8(&selector, "_id", 3, k->record->key, (int)k->record->key_len);
    bool ok = mongoc_collection_replace_one(coll, &selector, replacement, opts, NULL, error);
    bson_destroy(&selector);
    return ok;
}

/* An update of the key's open log document ({resolved_at: null}); *matched
 * says whether there was one. */
static bool update_open(mongoc_collection_t *log, const rdapsync_sinktk_mvr_key *k, bool resolve, const bson_t *wc,
                        bool *matched, bson_error_t *error)
{
    bson_t selector = BSON_INITIALIZER, update = BSON_INITIALIZER, set, reply;
    bson_append_utf8(&selector, "_id", 3, k->record->key, (int)k->record->key_len);
    bson_append_null(&selector, "resolved_at", 11);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    bson_append_utf8(&set, "heads", 5, k->log_heads, -1);
    if (resolve)
        bson_append_now_utc(&set, "resolved_at", 11);
    bson_append_document_end(&update, &set);
    bool ok = mongoc_collection_update_one(log, &selector, &update, wc, &reply, error);
    bson_iter_t it;
    *matched = ok && bson_iter_init_find(&it, &reply, "matchedCount") && bson_iter_as_int64(&it) > 0;
    bson_destroy(&reply);
    bson_destroy(&selector);
    bson_destroy(&update);
    return ok;
}

/* Opens the log document: updates an open one, else (new, or resolved
 * before) starts a new detection. */
static bool log_open(mongoc_collection_t *log, const rdapsync_sinktk_mvr_key *k, const char *strategy,
                     const bson_t *wc, const bson_t *upsert, bson_error_t *error)
{
    bool matched = false;
    if (!update_open(log, k, false, wc, &matched, error))
        return false;
    if (matched)
        return true;
    bson_t doc = BSON_INITIALIZER;
    bson_append_utf8(&doc, "_id", 3, k->record->key, (int)k->record->key_len);
    bson_append_utf8(&doc, "heads", 5, k->log_heads, -1);
    bson_append_utf8(&doc, "strategy", 8, strategy, -1);
    bson_append_now_utc(&doc, "detected_at", 11);
    bson_append_null(&doc, "resolved_at", 11);
    bool ok = upsert_by_id(log, k, &doc, upsert, error);
    bson_destroy(&doc);
    return ok;
}

static bool write_heads(mongoc_collection_t *heads, const rdapsync_sinktk_mvr_key *k, const bson_t *upsert,
                        bson_error_t *error)
{
    bson_t doc = BSON_INITIALIZER;
    bson_append_utf8(&doc, "_id", 3, k->record->key, (int)k->record->key_len);
    bson_append_utf8(&doc, "heads", 5, k->heads, -1);
    bool ok = upsert_by_id(heads, k, &doc, upsert, error);
    bson_destroy(&doc);
    return ok;
}

rdapsync_status mgs_mvr_write(mgs_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                              size_t err_size)
{
    const char *strategy = rdapsync_sinktk_strategy_names[st->conflicts->strategy];
    mongoc_collection_t *heads = mgs_mvr_collection(st, "_heads", true);
    mongoc_collection_t *log = mgs_mvr_collection(st, st->conflicts->table, false);
    bson_t wc = BSON_INITIALIZER, upsert = BSON_INITIALIZER;
    mgs_append_write_concern(st->cfg, &wc);
    mgs_append_write_concern(st->cfg, &upsert);
    BSON_APPEND_BOOL(&upsert, "upsert", true);
    rdapsync_status status = RDAPSYNC_OK;
    bson_error_t error;
    for (size_t i = 0; status == RDAPSYNC_OK && i < count; i++) {
        const rdapsync_sinktk_mvr_key *k = &keys[i];
        bson_t *doc = visible_doc(st, k, err, err_size);
        bool matched = false;
        if (!doc) {
            status = RDAPSYNC_ERROR;
        } else if (!upsert_by_id(st->coll, k, doc, &upsert, &error) ||
                   (k->log == RDAPSYNC_SINKTK_LOG_OPEN && !log_open(log, k, strategy, &wc, &upsert, &error)) ||
                   (k->log == RDAPSYNC_SINKTK_LOG_RESOLVE && !update_open(log, k, true, &wc, &matched, &error)) ||
                   !write_heads(heads, k, &upsert, &error)) {
            status = mgs_fail(st, "conflicts", &error, NULL, err, err_size);
        }
        if (doc)
            bson_destroy(doc);
    }
    bson_destroy(&wc);
    bson_destroy(&upsert);
    mongoc_collection_destroy(heads);
    mongoc_collection_destroy(log);
    return status;
}

rdapsync_status mgs_mvr_open_count(mgs_state *st, uint64_t *count, char *err, size_t err_size)
{
    mongoc_collection_t *log = mgs_mvr_collection(st, st->conflicts->table, false);
    bson_t filter = BSON_INITIALIZER;
    bson_append_null(&filter, "resolved_at", 11);
    bson_error_t error;
    int64_t n = mongoc_collection_count_documents(log, &filter, NULL, NULL, NULL, &error);
    bson_destroy(&filter);
    mongoc_collection_destroy(log);
    if (n < 0)
        return mgs_fail(st, "conflicts", &error, NULL, err, err_size);
    *count = (uint64_t)n;
    return RDAPSYNC_OK;
}
