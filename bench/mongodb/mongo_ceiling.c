/*
 * mongo_ceiling URI DATABASE COLLECTION BATCH FILE [native|wrap]: the
 * server's own bulk path, the baseline of bench/mongodb/run.sh.
 *
 * Reads rdapgen change envelopes from FILE and builds, for each, the
 * document the mongodb sink stores (docs/plugins/sink-mongodb.md: _id, doc,
 * deleted, version fields, source position, updated_at; integers int64,
 * arrays inside arrays wrapped with `wrap`), then inserts them into
 * COLLECTION with unordered insert_many of BATCH documents: the minimal
 * loop a program can write. Only the insert_many calls are timed, not
 * reading and converting. Prints "<documents> <seconds inserting>
 * <documents/s>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

static void quiet_log(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
    (void)data;
    if (level <= MONGOC_LOG_LEVEL_ERROR)
        fprintf(stderr, "mongo_ceiling: %s: %s\n", domain, message);
}

static void copy_value(bson_t *out, const char *key, const bson_iter_t *it, bool wrap, bool in_array);

static void copy_children(bson_t *out, const bson_iter_t *it, bool wrap, bool array)
{
    bson_iter_t child;
    bson_iter_recurse(it, &child);
    while (bson_iter_next(&child))
        copy_value(out, bson_iter_key(&child), &child, wrap, array);
}

/* The sink's types: int32 from the JSON reader becomes int64; an array in
 * an array is wrapped as {"_array": [...]} with `wrap`. */
static void copy_value(bson_t *out, const char *key, const bson_iter_t *it, bool wrap, bool in_array)
{
    bson_t child, wrapper;
    switch (bson_iter_type(it)) {
    case BSON_TYPE_INT32: bson_append_int64(out, key, -1, bson_iter_int32(it)); break;
    case BSON_TYPE_DOCUMENT:
        bson_append_document_begin(out, key, -1, &child);
        copy_children(&child, it, wrap, false);
        bson_append_document_end(out, &child);
        break;
    case BSON_TYPE_ARRAY:
        if (wrap && in_array) {
            bson_append_document_begin(out, key, -1, &wrapper);
            bson_append_array_begin(&wrapper, "_array", -1, &child);
            copy_children(&child, it, wrap, true);
            bson_append_array_end(&wrapper, &child);
            bson_append_document_end(out, &wrapper);
        } else {
            bson_append_array_begin(out, key, -1, &child);
            copy_children(&child, it, wrap, true);
            bson_append_array_end(out, &child);
        }
        break;
    default: bson_append_iter(out, key, -1, it); break;
    }
}

/* The stored document of one envelope line; NULL if it is not one. */
static bson_t *stored(const char *line, size_t len, int64_t offset, bool wrap)
{
    bson_error_t error;
    bson_t *envelope = bson_new_from_json((const uint8_t *)line, (ssize_t)len, &error);
    bson_iter_t key, op, ts, origin, seq, value;
    if (!envelope || !bson_iter_init_find(&key, envelope, "key") || !bson_iter_init_find(&op, envelope, "op") ||
        !bson_iter_init_find(&ts, envelope, "ts_ms") || !bson_iter_init_find(&origin, envelope, "origin") ||
        !bson_iter_init_find(&seq, envelope, "seq") || !bson_iter_init_find(&value, envelope, "value")) {
        if (envelope)
            bson_destroy(envelope);
        return NULL;
    }
    bool deleted = strcmp(bson_iter_utf8(&op, NULL), "delete") == 0;
    bson_t *doc = bson_new();
    bson_append_iter(doc, "_id", 3, &key);
    if (deleted)
        bson_append_null(doc, "doc", 3);
    else
        copy_value(doc, "doc", &value, wrap, false);
    bson_append_bool(doc, "deleted", 7, deleted);
    bson_append_int64(doc, "event_time_ms", 13, bson_iter_as_int64(&ts));
    bson_append_iter(doc, "origin", 6, &origin);
    bson_append_int64(doc, "seq", 3, bson_iter_as_int64(&seq));
    bson_append_utf8(doc, "src_stream", 10, "bench", 5);
    bson_append_int32(doc, "src_partition", 13, -1);
    bson_append_int64(doc, "src_offset", 10, offset);
    bson_append_now_utc(doc, "updated_at", 10);
    bson_destroy(envelope);
    return doc;
}

static int insert(mongoc_collection_t *coll, bson_t **docs, size_t n, double *seconds)
{
    bson_t *opts = BCON_NEW("ordered", BCON_BOOL(false));
    bson_error_t error;
    int64_t start = bson_get_monotonic_time();
    bool ok = mongoc_collection_insert_many(coll, (const bson_t **)docs, n, opts, NULL, &error);
    *seconds += (double)(bson_get_monotonic_time() - start) / 1e6;
    bson_destroy(opts);
    for (size_t i = 0; i < n; i++)
        bson_destroy(docs[i]);
    if (!ok)
        fprintf(stderr, "mongo_ceiling: insert_many: %s\n", error.message);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 6 || argc > 7 || atoi(argv[4]) <= 0) {
        fprintf(stderr, "usage: mongo_ceiling URI DATABASE COLLECTION BATCH FILE [native|wrap]\n");
        return 2;
    }
    size_t batch = (size_t)atoi(argv[4]), n = 0, total = 0, cap = 0;
    bool wrap = argc == 7 && strcmp(argv[6], "wrap") == 0;
    FILE *in = fopen(argv[5], "r");
    if (!in) {
        perror(argv[5]);
        return 1;
    }
    mongoc_init();
    mongoc_log_set_handler(quiet_log, NULL);
    mongoc_client_t *client = mongoc_client_new(argv[1]);
    if (!client) {
        fprintf(stderr, "mongo_ceiling: bad URI\n");
        return 1;
    }
    mongoc_collection_t *coll = mongoc_client_get_collection(client, argv[2], argv[3]);
    bson_t **docs = calloc(batch, sizeof(*docs));
    char *line = NULL;
    ssize_t len;
    int64_t offset = 0;
    double seconds = 0;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, in)) > 0) {
        offset += len;
        if ((docs[n] = stored(line, (size_t)len, offset, wrap)) == NULL) {
            fprintf(stderr, "mongo_ceiling: %s: not an envelope at offset %lld\n", argv[5], (long long)offset);
            rc = -1;
            break;
        }
        if (++n == batch) {
            rc = insert(coll, docs, n, &seconds);
            total += n;
            n = 0;
        }
    }
    if (rc == 0 && n > 0) {
        rc = insert(coll, docs, n, &seconds);
        total += n;
    }
    if (rc == 0)
        printf("%zu %.3f %.0f\n", total, seconds, seconds > 0 ? (double)total / seconds : 0.0);
    for (size_t i = 0; rc != 0 && i < n; i++)
        bson_destroy(docs[i]);
    free(line);
    free(docs);
    fclose(in);
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(client);
    mongoc_cleanup();
    return rc == 0 ? 0 : 1;
}
