/*
 * subject_find, subject_erase and retention_purge (plugin.h, ABI 1.5) over
 * the collection. The document text lives inside BSON, where a server-side
 * text prefilter would need $where (JavaScript, which FerretDB lacks) or a
 * regex per field: the collection is scanned (documents only, a retention
 * pass only those with a deadline) and each stored document read back as
 * JSON (arrays wrapped by mgs_bson unwrapped) for the toolkit's matcher.
 * FerretDB has no multi-document transactions, so each document is
 * deleted or rewritten on its own by _id; an erasure interrupted halfway
 * is finished by calling it again (idempotent). The sink keeps no history.
 * With conflicts: {...} the register's heads and the conflict log's heads
 * (JSON text in a string) are scanned too and scrubbed head by head
 * (rdapsync_sinktk_scrub_heads: versions stay, documents go).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgs.h"

#define J mgs_host->json

static rdapsync_value *from_iter(bson_iter_t *it);

static rdapsync_value *from_array(bson_iter_t *child)
{
    rdapsync_value *array = J->array_new();
    while (array && bson_iter_next(child)) {
        rdapsync_value *item = from_iter(child);
        if (!item || J->array_append(array, item) != 0) {
            J->decref(array);
            return NULL;
        }
    }
    return array;
}

static rdapsync_value *from_members(bson_iter_t *child)
{
    rdapsync_value *object = J->object_new();
    while (object && bson_iter_next(child)) {
        rdapsync_value *member = from_iter(child);
        if (!member || J->object_set(object, bson_iter_key(child), member) != 0) {
            J->decref(object);
            return NULL;
        }
    }
    return object;
}

/* The inverse of mgs_bson_append_value: {"_array": [...]} is a wrapped
 * array, {"_array": {...}} an escaped object whose members are inside. */
static rdapsync_value *from_iter(bson_iter_t *it)
{
    bson_iter_t child, inner;
    uint32_t len;
    switch (bson_iter_type(it)) {
    case BSON_TYPE_UTF8: {
        const char *s = bson_iter_utf8(it, &len);
        return J->string_new(s, len);
    }
    case BSON_TYPE_INT32: return J->integer_new(bson_iter_int32(it));
    case BSON_TYPE_INT64: return J->integer_new(bson_iter_int64(it));
    case BSON_TYPE_DOUBLE: return J->real_new(bson_iter_double(it));
    case BSON_TYPE_BOOL: return J->bool_new(bson_iter_bool(it));
    case BSON_TYPE_ARRAY: return bson_iter_recurse(it, &child) ? from_array(&child) : NULL;
    case BSON_TYPE_DOCUMENT:
        if (!bson_iter_recurse(it, &child))
            return NULL;
        inner = child;
        if (bson_iter_next(&inner) && strcmp(bson_iter_key(&inner), MGS_WRAP_KEY) == 0) {
            bson_iter_t after = inner;
            bson_iter_t nested;
            if (!bson_iter_next(&after) && bson_iter_recurse(&inner, &nested))
                return BSON_ITER_HOLDS_ARRAY(&inner) ? from_array(&nested) : from_members(&nested);
        }
        return from_members(&child);
    default: return J->null_new();
    }
}

typedef int (*doc_fn)(void *opaque, const char *id, size_t id_len, const char *doc, size_t doc_len, char *err,
                      size_t err_size);

/* Every stored document (retention: with a deadline) as JSON text. */
static rdapsync_status scan(mgs_state *st, bool retention, doc_fn fn, void *opaque, char *err, size_t err_size)
{
    if (!st->coll) {
        snprintf(err, err_size, "mongodb sink: not connected");
        return RDAPSYNC_RETRY;
    }
    bson_t *filter = retention ? BCON_NEW("doc.rdapsync.retention_until", "{", "$exists", BCON_BOOL(true), "}")
                               : BCON_NEW("doc", "{", "$type", BCON_UTF8("object"), "}");
    bson_t *opts = BCON_NEW("projection", "{", "doc", BCON_INT32(1), "}");
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(st->coll, filter, opts, NULL);
    const bson_t *row;
    bson_error_t error;
    rdapsync_status status = RDAPSYNC_OK;
    while (status == RDAPSYNC_OK && mongoc_cursor_next(cursor, &row)) {
        bson_iter_t id, doc;
        if (!bson_iter_init_find(&id, row, "_id") || !BSON_ITER_HOLDS_UTF8(&id) ||
            !bson_iter_init_find(&doc, row, "doc") || !BSON_ITER_HOLDS_DOCUMENT(&doc))
            continue;
        uint32_t id_len;
        const char *key = bson_iter_utf8(&id, &id_len);
        rdapsync_value *value = from_iter(&doc);
        size_t text_len = 0;
        char *text = value ? J->dump(value, 0, &text_len) : NULL;
        J->decref(value);
        if (!text) {
            snprintf(err, err_size, "mongodb sink: the document of key \"%.200s\" could not be read back", key);
            status = RDAPSYNC_ERROR;
        } else if (fn(opaque, key, id_len, text, text_len, err, err_size) != 0) {
            status = RDAPSYNC_ERROR;
        }
        mgs_host->free(text);
    }
    if (status == RDAPSYNC_OK && mongoc_cursor_error(cursor, &error))
        status = mgs_fail(st, "find", &error, NULL, err, err_size);
    mongoc_cursor_destroy(cursor);
    bson_destroy(opts);
    bson_destroy(filter);
    return status;
}


/* ---- the register's heads (conflicts: {...}) ---- */

/* The heads collections: <collection>_heads and the conflict log, both
 * {_id, heads: JSON text}. */
static size_t heads_collections(mgs_state *st, mongoc_collection_t *out[2], const char *where[2])
{
    if (!st->conflicts || !st->client)
        return 0;
    out[0] = mgs_mvr_collection(st, "_heads", true);
    where[0] = "heads";
    out[1] = mgs_mvr_collection(st, st->conflicts->table, false);
    where[1] = "conflicts";
    return 2;
}

/* Every heads text of `coll` (no prefilter: the heads are a string). */
static rdapsync_status scan_heads(mgs_state *st, mongoc_collection_t *coll, doc_fn fn, void *opaque, char *err,
                                  size_t err_size)
{
    bson_t filter = BSON_INITIALIZER;
    bson_t *opts = BCON_NEW("projection", "{", "heads", BCON_INT32(1), "}");
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
    const bson_t *row;
    bson_error_t error;
    rdapsync_status status = RDAPSYNC_OK;
    while (status == RDAPSYNC_OK && mongoc_cursor_next(cursor, &row)) {
        bson_iter_t id, heads;
        if (!bson_iter_init_find(&id, row, "_id") || !BSON_ITER_HOLDS_UTF8(&id) ||
            !bson_iter_init_find(&heads, row, "heads") || !BSON_ITER_HOLDS_UTF8(&heads))
            continue;
        uint32_t id_len, text_len;
        const char *key = bson_iter_utf8(&id, &id_len), *text = bson_iter_utf8(&heads, &text_len);
        if (fn(opaque, key, id_len, text, text_len, err, err_size) != 0)
            status = RDAPSYNC_ERROR;
    }
    if (status == RDAPSYNC_OK && mongoc_cursor_error(cursor, &error))
        status = mgs_fail(st, "find", &error, NULL, err, err_size);
    mongoc_cursor_destroy(cursor);
    bson_destroy(opts);
    bson_destroy(&filter);
    return status;
}

typedef struct heads_ctx {
    mgs_state *st;
    mongoc_collection_t *coll;
    const rdapsync_sinktk_scrub *scrub;
    uint64_t changed;
    rdapsync_status status;
} heads_ctx;

/* Decides one key's heads and rewrites them at once, only if they still
 * hold the text that was judged: without transactions, a pipeline that
 * wrote the key meanwhile is not overwritten with older heads (losing a
 * version); a call again picks up what it wrote. */
static int scrub_heads_doc(void *opaque, const char *key, size_t key_len, const char *heads, size_t heads_len,
                           char *err, size_t err_size)
{
    heads_ctx *c = opaque;
    char *next = NULL;
    size_t next_len = 0;
    int verdict = rdapsync_sinktk_scrub_heads(c->scrub, heads, heads_len, &next, &next_len, err, err_size);
    if (verdict <= RDAPSYNC_SINKTK_KEEP)
        return verdict < 0 ? -1 : 0;
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, reply;
    bson_error_t error;
    bson_append_utf8(&filter, "_id", 3, key, (int)key_len);
    bson_append_utf8(&filter, "heads", 5, heads, (int)heads_len);
    bson_append_document_begin(&update, "$set", 4, &set);
    bson_append_utf8(&set, "heads", 5, next, (int)next_len);
    bson_append_document_end(&update, &set);
    bson_iter_t count;
    int rc = 0;
    if (!mongoc_collection_update_one(c->coll, &filter, &update, NULL, &reply, &error)) {
        c->status = mgs_fail(c->st, "update", &error, &reply, err, err_size);
        rc = -1;
    } else if (bson_iter_init_find(&count, &reply, "modifiedCount")) {
        c->changed += (uint64_t)bson_iter_as_int64(&count);
    }
    bson_destroy(&reply);
    bson_destroy(&filter);
    bson_destroy(&update);
    mgs_host->free(next);
    return rc;
}

/* ---- find ---- */

typedef struct find_ctx {
    const rdapsync_sinktk_subject *subject;
    const char *where;
    rdapsync_subject_found_fn fn;
    void *arg;
} find_ctx;

static int found_doc(void *opaque, const char *key, size_t key_len, const char *doc, size_t doc_len, char *err,
                     size_t err_size)
{
    find_ctx *f = opaque;
    bool heads = strcmp(f->where, "live") != 0;
    int yes = heads ? rdapsync_sinktk_subject_match_heads_text(mgs_host, f->subject, doc, doc_len)
                    : rdapsync_sinktk_subject_match_text(mgs_host, f->subject, doc, doc_len);
    if (heads && yes < 0) {
        snprintf(err, err_size, "mongodb sink: the %s of key \"%.200s\" are not a JSON array", f->where, key);
        return -1;
    }
    if (yes == 1 && f->fn(f->arg, &(rdapsync_subject_hit){f->where, key, key_len, doc, doc_len}) != 0) {
        snprintf(err, err_size, "stopped by the caller");
        return -1;
    }
    return 0;
}

rdapsync_status mgs_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                 char *err, size_t err_size)
{
    rdapsync_sinktk_subject subject;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    find_ctx f = {&subject, "live", fn, arg};
    status = scan(state, false, found_doc, &f, err, err_size);
    mongoc_collection_t *colls[2];
    const char *where[2];
    size_t n = status == RDAPSYNC_OK ? heads_collections(state, colls, where) : 0;
    for (size_t i = 0; i < n; i++) {
        f.where = where[i];
        if (status == RDAPSYNC_OK)
            status = scan_heads(state, colls[i], found_doc, &f, err, err_size);
        mongoc_collection_destroy(colls[i]);
    }
    rdapsync_sinktk_subject_free(&subject);
    return status;
}

/* ---- erase / purge ---- */

typedef struct collect_ctx {
    rdapsync_sinktk_scrub_list list;
    const rdapsync_sinktk_scrub *scrub;
} collect_ctx;

static int collect_doc(void *opaque, const char *key, size_t key_len, const char *doc, size_t doc_len, char *err,
                       size_t err_size)
{
    collect_ctx *c = opaque;
    return rdapsync_sinktk_scrub_list_add(&c->list, c->scrub, key, key_len, doc, doc_len, err, err_size);
}

static rdapsync_status change(mgs_state *st, const rdapsync_sinktk_scrub_item *it, uint64_t *changed, char *err,
                              size_t err_size)
{
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, reply;
    bson_error_t error;
    bool ok;
    bson_append_utf8(&filter, "_id", 3, it->id, (int)it->id_len);
    if (it->verdict == RDAPSYNC_SINKTK_REPLACE) {
        char why[256];
        rdapsync_value *doc = J->parse(it->doc, it->doc_len, why, sizeof(why));
        bson_append_document_begin(&update, "$set", 4, &set);
        int rc = doc ? mgs_bson_append_value(&set, "doc", doc, st->server.wrap_arrays, err, err_size) : -1;
        bson_append_document_end(&update, &set);
        J->decref(doc);
        if (rc != 0) {
            bson_destroy(&filter);
            bson_destroy(&update);
            return RDAPSYNC_ERROR;
        }
        ok = mongoc_collection_update_one(st->coll, &filter, &update, NULL, &reply, &error);
    } else {
        ok = mongoc_collection_delete_one(st->coll, &filter, NULL, &reply, &error);
    }
    rdapsync_status status = RDAPSYNC_OK;
    if (!ok) {
        status = mgs_fail(st, it->verdict == RDAPSYNC_SINKTK_REPLACE ? "update" : "delete", &error, &reply, err,
                          err_size);
    } else {
        bson_iter_t count;
        const char *field = it->verdict == RDAPSYNC_SINKTK_REPLACE ? "modifiedCount" : "deletedCount";
        if (bson_iter_init_find(&count, &reply, field))
            *changed += (uint64_t)bson_iter_as_int64(&count);
    }
    bson_destroy(&reply);
    bson_destroy(&filter);
    bson_destroy(&update);
    return status;
}

static rdapsync_status scrub_all(mgs_state *st, const rdapsync_sinktk_scrub *scrub, uint64_t *changed, char *err,
                                 size_t err_size)
{
    *changed = 0;
    collect_ctx c = {.scrub = scrub};
    rdapsync_status status = scan(st, scrub->subject == NULL, collect_doc, &c, err, err_size);
    for (size_t i = 0; status == RDAPSYNC_OK && i < c.list.count; i++)
        status = change(st, &c.list.items[i], changed, err, err_size);
    rdapsync_sinktk_scrub_list_free(&c.list, mgs_host);
    /* The heads after the data: an erasure cut in between is finished by
     * the next call, which finds the heads still to scrub. */
    mongoc_collection_t *colls[2];
    const char *where[2];
    size_t n = status == RDAPSYNC_OK ? heads_collections(st, colls, where) : 0;
    for (size_t i = 0; i < n; i++) {
        heads_ctx h = {st, colls[i], scrub, 0, RDAPSYNC_OK};
        if (status == RDAPSYNC_OK) {
            status = scan_heads(st, colls[i], scrub_heads_doc, &h, err, err_size);
            if (h.status != RDAPSYNC_OK)
                status = h.status;
        }
        *changed += h.changed;
        mongoc_collection_destroy(colls[i]);
    }
    return status;
}

rdapsync_status mgs_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn, void *arg,
                                  uint64_t *changed, char *err, size_t err_size)
{
    rdapsync_sinktk_subject subject;
    *changed = 0;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    rdapsync_sinktk_scrub scrub = {.host = mgs_host, .subject = &subject, .fn = fn, .arg = arg};
    status = scrub_all(state, &scrub, changed, err, err_size);
    rdapsync_sinktk_subject_free(&subject);
    return status;
}

rdapsync_status mgs_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                    uint64_t *purged, char *err, size_t err_size)
{
    rdapsync_sinktk_scrub scrub = {.host = mgs_host, .now_ms = now_ms, .fn = anonymise, .arg = arg};
    return scrub_all(state, &scrub, purged, err, err_size);
}
