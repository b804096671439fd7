/*
 * The write path. MongoDB's usual answer, one unordered bulk of upserts
 * whose filter carries the version guard (a failed guard shows up as a
 * duplicate-key error of the upsert's insert), does not survive FerretDB:
 * its update command ignores ordered=false, stops at the first error and
 * reports it at index 0. So the sink works in rounds that only use what
 * both servers do correctly (docs/plugins/sink-mongodb.md, "Write path"):
 *
 *   A. insert every pending document in one unordered bulk. A new key is
 *      stored; an existing key answers E11000 and moves on; a document the
 *      server refuses falls back to the key's next older version in the
 *      batch or is rejected.
 *   Guard on the server (MongoDB):
 *   B. read the stored versions of those keys ({_id: {$in: ...}}). A version
 *      at least as great as ours means the guard fails: nothing to do. A
 *      key that vanished meanwhile goes back to A.
 *   C. replace the documents whose version is greater, with the guard in
 *      the filter too (atomic per document). If fewer documents matched
 *      than were sent (a concurrent writer, a vanished key), those keys are
 *      read again in the next round.
 *   Guard in the sink (FerretDB, which scans the collection for any filter):
 *   D. delete the stored documents older than ours in one command per
 *      chunk, then insert ours again: E11000 now means the guard failed.
 *
 * Every step is idempotent, so a RETRY in the middle is safe: the host
 * writes the same batch again and it converges to the same state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgs.h"

#define H mgs_host
#define MAX_ROUNDS 5
/* Bytes of keys per $in query, well below the 16 MiB command limit. */
#define READ_KEY_BYTES (4u << 20)

enum row_state { ROW_TODO = 0, ROW_EXISTS, ROW_REPLACE, ROW_DONE };

typedef struct apply {
    mgs_state *st;
    rdapsync_sinktk_plan *rows;
    rdapsync_sinktk_rejects *rejects;
    mgs_tally *tally;
    char *err;
    size_t err_size;
} apply;

/* A row's stored document: the plan row's data, destroyed by the plan
 * (mgs_doc_release) when a fallback replaces the row or the plan goes. */
static bson_t *doc_of(const rdapsync_sinktk_row *row)
{
    return row->data;
}

static void oom(apply *a)
{
    snprintf(a->err, a->err_size, "out of memory");
}

/* The server or the converter refused this row's document: the key's next
 * older version in the batch takes its place, or the record is rejected. */
static int refuse(apply *a, size_t index, const char *why)
{
    rdapsync_sinktk_row *row = &a->rows->rows[index];
    const rdapsync_record *record = row->record;
    if (rdapsync_sinktk_rejects_add(a->rejects, record, "mongodb sink: document of key \"%.200s\" refused: %s",
                                    record->key, why) != 0)
        return -1;
    if (rdapsync_sinktk_plan_fallback(a->rows, index))
        return 0; /* state ROW_TODO, no document yet */
    row->state = ROW_DONE;
    return 0;
}

/* Builds the stored documents of the rows about to be inserted. */
static int build_documents(apply *a)
{
    char why[512];
    for (size_t i = 0; i < a->rows->count; i++) {
        rdapsync_sinktk_row *row = &a->rows->rows[i];
        while (row->state == ROW_TODO && !row->data) {
            row->data = mgs_bson_stored(row->record, a->st->server.wrap_arrays, a->st->server.max_bson_size, why,
                                        sizeof(why));
            if (!row->data && refuse(a, i, why) != 0)
                return -1;
        }
    }
    return 0;
}

/* ---- running a bulk ---- */

static int64_t int64_field(const bson_t *doc, const char *name)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, name) && BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it) : 0;
}

typedef struct bulk_result {
    int64_t matched;
    int64_t inserted;
    /* writeErrors: op index and code, in op order */
    struct op_error {
        uint32_t index;
        int32_t code;
        char message[256];
    } *errors;
    size_t error_count;
} bulk_result;

static int error_order(const void *pa, const void *pb)
{
    const struct op_error *a = pa, *b = pb;
    return a->index < b->index ? -1 : a->index > b->index;
}

static void bulk_result_free(bulk_result *r)
{
    free(r->errors);
    memset(r, 0, sizeof(*r));
}

static int read_write_errors(const bson_t *reply, bulk_result *out)
{
    bson_iter_t it, array, item;
    if (!bson_iter_init_find(&it, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &array))
        return 0;
    while (bson_iter_next(&array)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&array) || !bson_iter_recurse(&array, &item))
            continue;
        struct op_error e = { 0 };
        while (bson_iter_next(&item)) {
            const char *k = bson_iter_key(&item);
            if (strcmp(k, "index") == 0 && BSON_ITER_HOLDS_NUMBER(&item))
                e.index = (uint32_t)bson_iter_as_int64(&item);
            else if (strcmp(k, "code") == 0 && BSON_ITER_HOLDS_NUMBER(&item))
                e.code = (int32_t)bson_iter_as_int64(&item);
            else if (strcmp(k, "errmsg") == 0 && BSON_ITER_HOLDS_UTF8(&item))
                snprintf(e.message, sizeof(e.message), "%s", bson_iter_utf8(&item, NULL));
        }
        struct op_error *grown = realloc(out->errors, (out->error_count + 1) * sizeof(*grown));
        if (!grown)
            return -1;
        out->errors = grown;
        out->errors[out->error_count++] = e;
    }
    if (out->error_count > 1)
        qsort(out->errors, out->error_count, sizeof(*out->errors), error_order);
    return 0;
}

static bool has_write_concern_errors(const bson_t *reply)
{
    bson_iter_t it, items;
    return bson_iter_init_find(&it, reply, "writeConcernErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
           bson_iter_recurse(&it, &items) && bson_iter_next(&items);
}

/* Executes the bulk. OK with the counts and the per-operation errors in
 * `out`; RETRY / ERROR (with err) when the command as a whole failed. */
static rdapsync_status bulk_run(apply *a, mongoc_bulk_operation_t *bulk, const char *what, bulk_result *out)
{
    bson_t reply;
    bson_error_t error;
    memset(out, 0, sizeof(*out));
    bool ok = mongoc_bulk_operation_execute(bulk, &reply, &error) != 0;
    rdapsync_status status = RDAPSYNC_OK;

    if (read_write_errors(&reply, out) != 0) {
        oom(a);
        status = RDAPSYNC_ERROR;
    } else if (has_write_concern_errors(&reply)) {
        /* Durability unknown: write everything again. */
        bson_set_error(&error, MONGOC_ERROR_WRITE_CONCERN, 64, "write concern not satisfied");
        status = mgs_fail(a->st, what, &error, &reply, a->err, a->err_size);
    } else if (!ok && (out->error_count == 0 || mgs_error_retriable(&error, &reply))) {
        status = mgs_fail(a->st, what, &error, &reply, a->err, a->err_size);
    } else {
        out->matched = int64_field(&reply, "nMatched");
        out->inserted = int64_field(&reply, "nInserted");
    }
    bson_destroy(&reply);
    if (status != RDAPSYNC_OK)
        bulk_result_free(out);
    return status;
}

static mongoc_bulk_operation_t *bulk_new(apply *a)
{
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mgs_append_write_concern(a->st->cfg, &opts);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(a->st->coll, &opts);
    bson_destroy(&opts);
    return bulk;
}

/* ---- A: insert ---- */

static rdapsync_status insert_phase(apply *a)
{
    rdapsync_sinktk_plan *rows = a->rows;
    size_t *ops = malloc((rows->count ? rows->count : 1) * sizeof(*ops));
    size_t op_count = 0;
    bson_error_t error;
    bson_t opts = BSON_INITIALIZER;
    rdapsync_status status = RDAPSYNC_OK;
    bulk_result result = { 0 };

    if (!ops) {
        oom(a);
        return RDAPSYNC_ERROR;
    }
    /* Our converter already checked names; the driver's walk would be a
     * second pass over every document. */
    BSON_APPEND_BOOL(&opts, "validate", false);
    mongoc_bulk_operation_t *bulk = bulk_new(a);
    for (size_t i = 0; i < rows->count; i++) {
        if (rows->rows[i].state != ROW_TODO)
            continue;
        if (!mongoc_bulk_operation_insert_with_opts(bulk, doc_of(&rows->rows[i]), &opts, &error)) {
            if (refuse(a, i, error.message) != 0)
                goto oom;
            continue;
        }
        ops[op_count++] = i;
    }
    if (op_count == 0)
        goto done;
    if ((status = bulk_run(a, bulk, "insert", &result)) != RDAPSYNC_OK)
        goto done;

    /* Every op inserted unless it has a write error. */
    size_t e = 0;
    for (size_t k = 0; k < op_count; k++) {
        rdapsync_sinktk_row *row = &rows->rows[ops[k]];
        while (e < result.error_count && result.errors[e].index < k)
            e++;
        if (e < result.error_count && result.errors[e].index == k) {
            if (result.errors[e].code == 11000) {
                row->state = ROW_EXISTS;
            } else if (refuse(a, ops[k], result.errors[e].message) != 0) {
                goto oom;
            }
            continue;
        }
        row->state = ROW_DONE;
        a->tally->inserted++;
    }
    goto done;

oom:
    oom(a);
    status = RDAPSYNC_ERROR;
done:
    bulk_result_free(&result);
    mongoc_bulk_operation_destroy(bulk);
    bson_destroy(&opts);
    free(ops);
    return status;
}

/* ---- B: read stored versions ---- */

static int key_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = memcmp(a, b, n);
    if (c != 0)
        return c;
    return a_len == b_len ? 0 : (a_len < b_len ? -1 : 1);
}

/* Rows are in key order: binary search. SIZE_MAX when absent. */
static size_t find_row(const rdapsync_sinktk_plan *rows, const char *key, size_t len)
{
    size_t lo = 0, hi = rows->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const rdapsync_record *r = rows->rows[mid].record;
        int c = key_cmp(r->key, r->key_len, key, len);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* Decides an EXISTS row from the stored version. `seen` marks rows found. */
static void classify(apply *a, const bson_t *stored, bool *seen)
{
    bson_iter_t it;
    uint32_t id_len = 0;
    if (!bson_iter_init_find(&it, stored, "_id") || !BSON_ITER_HOLDS_UTF8(&it))
        return;
    const char *id = bson_iter_utf8(&it, &id_len);
    size_t index = find_row(a->rows, id, id_len);
    if (index == SIZE_MAX || a->rows->rows[index].state != ROW_EXISTS)
        return;
    rdapsync_sinktk_row *row = &a->rows->rows[index];
    seen[index] = true;

    char origin[1024] = "";
    rdapsync_version version = { .event_time_ms = int64_field(stored, "event_time_ms"),
                                 .sequence = int64_field(stored, "seq"),
                                 .origin = origin };
    if (bson_iter_init_find(&it, stored, "origin") && BSON_ITER_HOLDS_UTF8(&it))
        snprintf(origin, sizeof(origin), "%s", bson_iter_utf8(&it, NULL));
    if (rdapsync_version_compare(&row->record->version, &version) > 0) {
        row->state = ROW_REPLACE;
    } else {
        row->state = ROW_DONE;
        a->tally->stale++;
    }
}

static rdapsync_status read_cursor(apply *a, mongoc_cursor_t *cursor, bool *seen)
{
    const bson_t *doc, *error_doc;
    bson_error_t error;
    while (mongoc_cursor_next(cursor, &doc))
        classify(a, doc, seen);
    if (mongoc_cursor_error_document(cursor, &error, &error_doc))
        return mgs_fail(a->st, "reading stored versions", &error, error_doc, a->err, a->err_size);
    return RDAPSYNC_OK;
}

static bson_t *read_opts(void)
{
    return BCON_NEW("projection", "{", "event_time_ms", BCON_INT32(1), "origin", BCON_INT32(1), "seq", BCON_INT32(1),
                    "}");
}

/* {_id: {$in: [...]}} in chunks. */
static rdapsync_status read_in(apply *a, bool *seen)
{
    bson_t *opts = read_opts();
    rdapsync_status status = RDAPSYNC_OK;
    size_t i = 0;
    while (i < a->rows->count && status == RDAPSYNC_OK) {
        bson_t filter = BSON_INITIALIZER, id, in;
        size_t n = 0, bytes = 0;
        bson_append_document_begin(&filter, "_id", 3, &id);
        bson_append_array_begin(&id, "$in", 3, &in);
        for (; i < a->rows->count && n < (size_t)a->st->cfg->read_chunk && bytes < READ_KEY_BYTES; i++) {
            const rdapsync_sinktk_row *row = &a->rows->rows[i];
            if (row->state != ROW_EXISTS)
                continue;
            const char *index_key;
            char buf[16];
            size_t len = bson_uint32_to_string((uint32_t)n, &index_key, buf, sizeof(buf));
            bson_append_utf8(&in, index_key, (int)len, row->record->key, (int)row->record->key_len);
            n++;
            bytes += row->record->key_len;
        }
        bson_append_array_end(&id, &in);
        bson_append_document_end(&filter, &id);
        if (n > 0) {
            mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(a->st->coll, &filter, opts, NULL);
            status = read_cursor(a, cursor, seen);
            mongoc_cursor_destroy(cursor);
        }
        bson_destroy(&filter);
    }
    bson_destroy(opts);
    return status;
}

static rdapsync_status read_phase(apply *a)
{
    size_t n = a->rows->count;
    bool *seen = calloc(n ? n : 1, sizeof(*seen));
    if (!seen) {
        oom(a);
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = read_in(a, seen);
    if (status == RDAPSYNC_OK) {
        /* Gone since the insert said it was there (deleted by someone
         * else): insert it again. */
        for (size_t i = 0; i < n; i++)
            if (a->rows->rows[i].state == ROW_EXISTS && !seen[i])
                a->rows->rows[i].state = ROW_TODO;
    }
    free(seen);
    return status;
}

/* ---- C: replace ---- */

static void append_guard_filter(bson_t *filter, const rdapsync_record *record)
{
    const rdapsync_version *v = &record->version;
    const char *origin = v->origin ? v->origin : "";
    bson_t or, clause, cmp;
    bson_append_array_begin(filter, "$or", 3, &or);

    bson_append_document_begin(&or, "0", 1, &clause);
    bson_append_document_begin(&clause, "event_time_ms", 13, &cmp);
    bson_append_int64(&cmp, "$lt", 3, v->event_time_ms);
    bson_append_document_end(&clause, &cmp);
    bson_append_document_end(&or, &clause);

    bson_append_document_begin(&or, "1", 1, &clause);
    bson_append_int64(&clause, "event_time_ms", 13, v->event_time_ms);
    bson_append_document_begin(&clause, "origin", 6, &cmp);
    bson_append_utf8(&cmp, "$lt", 3, origin, -1);
    bson_append_document_end(&clause, &cmp);
    bson_append_document_end(&or, &clause);

    bson_append_document_begin(&or, "2", 1, &clause);
    bson_append_int64(&clause, "event_time_ms", 13, v->event_time_ms);
    bson_append_utf8(&clause, "origin", 6, origin, -1);
    bson_append_document_begin(&clause, "seq", 3, &cmp);
    bson_append_int64(&cmp, "$lt", 3, v->sequence);
    bson_append_document_end(&clause, &cmp);
    bson_append_document_end(&or, &clause);

    bson_append_array_end(filter, &or);
}

static bool add_replace(apply *a, mongoc_bulk_operation_t *bulk, const rdapsync_sinktk_row *row, const bson_t *opts,
                        bson_error_t *error)
{
    bson_t filter = BSON_INITIALIZER;
    bson_append_utf8(&filter, "_id", 3, row->record->key, (int)row->record->key_len);
    if (a->st->server.guard_on_server)
        append_guard_filter(&filter, row->record);
    bool ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &filter, doc_of(row), opts, error);
    bson_destroy(&filter);
    return ok;
}

/* Replaces rows [ops, ops + count). Sets *matched. Per-operation errors of
 * a bulk of several are not trusted to point at the right operation
 * (FerretDB reports them at index 0 and skips the rest), so such a bulk is
 * run again one operation at a time: every replace is idempotent. */
static rdapsync_status replace_ops(apply *a, const size_t *ops, size_t count, int64_t *matched)
{
    bson_t *opts = BCON_NEW("upsert", BCON_BOOL(false), "validate", BCON_BOOL(false));
    bson_error_t error;
    bulk_result result = { 0 };
    rdapsync_status status = RDAPSYNC_OK;
    mongoc_bulk_operation_t *bulk = bulk_new(a);
    size_t added = 0;

    *matched = 0;
    for (size_t k = 0; k < count; k++) {
        if (!add_replace(a, bulk, &a->rows->rows[ops[k]], opts, &error)) {
            if (refuse(a, ops[k], error.message) != 0) {
                oom(a);
                status = RDAPSYNC_ERROR;
                goto done;
            }
            continue;
        }
        added++;
    }
    if (added == 0)
        goto done;
    if ((status = bulk_run(a, bulk, "replace", &result)) != RDAPSYNC_OK)
        goto done;
    if (result.error_count == 0) {
        *matched = result.matched;
        goto done;
    }
    if (count > 1) {
        for (size_t k = 0; k < count && status == RDAPSYNC_OK; k++) {
            int64_t one = 0;
            if (a->rows->rows[ops[k]].state != ROW_REPLACE)
                continue;
            status = replace_ops(a, &ops[k], 1, &one);
            *matched += one;
        }
        goto done;
    }
    if (refuse(a, ops[0], result.errors[0].message) != 0) {
        oom(a);
        status = RDAPSYNC_ERROR;
    }
done:
    bulk_result_free(&result);
    mongoc_bulk_operation_destroy(bulk);
    bson_destroy(opts);
    return status;
}

static rdapsync_status replace_phase(apply *a)
{
    rdapsync_sinktk_plan *rows = a->rows;
    size_t *ops = malloc((rows->count ? rows->count : 1) * sizeof(*ops));
    size_t count = 0;
    if (!ops) {
        oom(a);
        return RDAPSYNC_ERROR;
    }
    for (size_t i = 0; i < rows->count; i++)
        if (rows->rows[i].state == ROW_REPLACE)
            ops[count++] = i;
    int64_t matched = 0;
    rdapsync_status status = RDAPSYNC_OK;
    size_t step = a->st->server.updates_per_command;
    for (size_t from = 0; from < count && status == RDAPSYNC_OK; from += step) {
        int64_t part = 0;
        status = replace_ops(a, ops + from, count - from < step ? count - from : step, &part);
        matched += part;
    }
    if (status == RDAPSYNC_OK) {
        size_t still = 0;
        for (size_t k = 0; k < count; k++)
            still += rows->rows[ops[k]].state == ROW_REPLACE;
        if ((size_t)matched >= still) {
            for (size_t k = 0; k < count; k++)
                if (rows->rows[ops[k]].state == ROW_REPLACE)
                    rows->rows[ops[k]].state = ROW_DONE;
            a->tally->replaced += still;
        } else {
            /* Some did not match (a newer version written meanwhile, or a
             * vanished key): read them all again. */
            for (size_t k = 0; k < count; k++)
                if (rows->rows[ops[k]].state == ROW_REPLACE)
                    rows->rows[ops[k]].state = ROW_EXISTS;
        }
    }
    free(ops);
    return status;
}

/* ---- D: rewrite (version guard evaluated without the _id index) ---- */

/* FerretDB 1.x on SQLite uses no index for any filter, not even {_id: K}
 * (its query says ->'$._id', its index ->"_id"), so every update costs a
 * scan of the collection. Instead, one delete per chunk removes the stored
 * documents that are older than ours ({$or: [{_id: K, <guard>}, ...]}, one
 * scan), and the documents are inserted again: inserted means applied, a
 * duplicate key means the stored version was at least as great (the guard
 * failed). Between the two commands the key is briefly absent; a failure
 * there answers RETRY and the batch is written again. Safe with one writer
 * per key (docs/plugins/sink-mongodb.md). */
static rdapsync_status rewrite_chunk(apply *a, const size_t *ops, size_t count)
{
    bson_t filter = BSON_INITIALIZER, or, clause, reply;
    bson_t opts = BSON_INITIALIZER, insert_opts = BSON_INITIALIZER;
    bson_error_t error;
    bulk_result result = { 0 };
    rdapsync_status status = RDAPSYNC_OK;

    bson_append_array_begin(&filter, "$or", 3, &or);
    for (size_t k = 0; k < count; k++) {
        const rdapsync_record *record = a->rows->rows[ops[k]].record;
        const char *index_key;
        char buf[16];
        size_t len = bson_uint32_to_string((uint32_t)k, &index_key, buf, sizeof(buf));
        bson_append_document_begin(&or, index_key, (int)len, &clause);
        bson_append_utf8(&clause, "_id", 3, record->key, (int)record->key_len);
        append_guard_filter(&clause, record);
        bson_append_document_end(&or, &clause);
    }
    bson_append_array_end(&filter, &or);
    mgs_append_write_concern(a->st->cfg, &opts);
    bool ok = mongoc_collection_delete_many(a->st->coll, &filter, &opts, &reply, &error);
    if (!ok)
        status = mgs_fail(a->st, "delete of older versions", &error, &reply, a->err, a->err_size);
    bson_destroy(&reply);
    if (status != RDAPSYNC_OK)
        goto done;

    BSON_APPEND_BOOL(&insert_opts, "validate", false);
    mongoc_bulk_operation_t *bulk = bulk_new(a);
    for (size_t k = 0; k < count; k++)
        if (!mongoc_bulk_operation_insert_with_opts(bulk, doc_of(&a->rows->rows[ops[k]]), &insert_opts, &error)) {
            /* It was inserted once already: the driver cannot refuse it now. */
            snprintf(a->err, a->err_size, "insert: %s", error.message);
            status = RDAPSYNC_ERROR;
            break;
        }
    if (status == RDAPSYNC_OK)
        status = bulk_run(a, bulk, "insert after delete", &result);
    mongoc_bulk_operation_destroy(bulk);
    if (status != RDAPSYNC_OK)
        goto done;
    size_t e = 0;
    for (size_t k = 0; k < count; k++) {
        rdapsync_sinktk_row *row = &a->rows->rows[ops[k]];
        while (e < result.error_count && result.errors[e].index < k)
            e++;
        if (e < result.error_count && result.errors[e].index == k && result.errors[e].code != 11000) {
            if (refuse(a, ops[k], result.errors[e].message) != 0) {
                oom(a);
                status = RDAPSYNC_ERROR;
                goto done;
            }
            continue;
        }
        bool stale = e < result.error_count && result.errors[e].index == k;
        row->state = ROW_DONE;
        if (stale)
            a->tally->stale++;
        else
            a->tally->replaced++;
    }
done:
    bulk_result_free(&result);
    bson_destroy(&filter);
    bson_destroy(&opts);
    bson_destroy(&insert_opts);
    return status;
}

static rdapsync_status rewrite_phase(apply *a)
{
    rdapsync_sinktk_plan *rows = a->rows;
    size_t *ops = malloc((rows->count ? rows->count : 1) * sizeof(*ops));
    size_t count = 0;
    if (!ops) {
        oom(a);
        return RDAPSYNC_ERROR;
    }
    for (size_t i = 0; i < rows->count; i++)
        if (rows->rows[i].state == ROW_EXISTS)
            ops[count++] = i;
    rdapsync_status status = RDAPSYNC_OK;
    size_t step = (size_t)a->st->cfg->read_chunk;
    for (size_t from = 0; from < count && status == RDAPSYNC_OK; from += step)
        status = rewrite_chunk(a, ops + from, count - from < step ? count - from : step);
    free(ops);
    return status;
}

/* ---- rounds ---- */

static bool any_in(const rdapsync_sinktk_plan *rows, int state)
{
    for (size_t i = 0; i < rows->count; i++)
        if (rows->rows[i].state == state)
            return true;
    return false;
}

rdapsync_status mgs_apply(mgs_state *st, rdapsync_sinktk_plan *rows, rdapsync_sinktk_rejects *rejects,
                          mgs_tally *tally, char *err, size_t err_size)
{
    apply a = { .st = st, .rows = rows, .rejects = rejects, .tally = tally, .err = err, .err_size = err_size };
    rdapsync_status status;

    for (int round = 0; round < MAX_ROUNDS; round++) {
        if (build_documents(&a) != 0) {
            oom(&a);
            return RDAPSYNC_ERROR;
        }
        if (any_in(rows, ROW_TODO) && (status = insert_phase(&a)) != RDAPSYNC_OK)
            return status;
        if (!st->server.guard_on_server) {
            if (any_in(rows, ROW_EXISTS) && (status = rewrite_phase(&a)) != RDAPSYNC_OK)
                return status;
        } else {
            if (any_in(rows, ROW_EXISTS) && (status = read_phase(&a)) != RDAPSYNC_OK)
                return status;
            if (any_in(rows, ROW_REPLACE) && (status = replace_phase(&a)) != RDAPSYNC_OK)
                return status;
        }
        if (!any_in(rows, ROW_TODO) && !any_in(rows, ROW_EXISTS) && !any_in(rows, ROW_REPLACE))
            return RDAPSYNC_OK;
    }
    snprintf(err, err_size, "documents kept changing under the sink for %d rounds (another writer?)", MAX_ROUNDS);
    return RDAPSYNC_RETRY;
}

void mgs_doc_release(void *doc)
{
    bson_destroy(doc);
}
