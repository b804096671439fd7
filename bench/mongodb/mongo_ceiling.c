/*
 * mongo_ceiling URI DATABASE FROM TO BATCH: the server's own bulk path, the
 * baseline of bench/mongodb/run.sh. Reads every document of FROM (what the
 * sink stored) and inserts the same documents into TO with unordered
 * insert_many of BATCH documents, the minimal loop a program can write.
 * Only the insert_many calls are timed; reading FROM is not. Prints one
 * line: "<documents> <seconds inserting> <documents/s>".
 */
#include <stdio.h>
#include <stdlib.h>

#include <mongoc/mongoc.h>

static void quiet_log(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
    (void)data;
    if (level <= MONGOC_LOG_LEVEL_ERROR)
        fprintf(stderr, "mongo_ceiling: %s: %s\n", domain, message);
}

static int insert(mongoc_collection_t *to, bson_t **docs, size_t n, double *seconds)
{
    bson_t *opts = BCON_NEW("ordered", BCON_BOOL(false));
    bson_error_t error;
    int64_t start = bson_get_monotonic_time();
    bool ok = mongoc_collection_insert_many(to, (const bson_t **)docs, n, opts, NULL, &error);
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
    if (argc != 6 || atoi(argv[5]) <= 0) {
        fprintf(stderr, "usage: mongo_ceiling URI DATABASE FROM TO BATCH\n");
        return 2;
    }
    size_t batch = (size_t)atoi(argv[5]), n = 0, total = 0;
    double seconds = 0;
    int rc = 0;
    mongoc_init();
    mongoc_log_set_handler(quiet_log, NULL);
    mongoc_client_t *client = mongoc_client_new(argv[1]);
    if (!client) {
        fprintf(stderr, "mongo_ceiling: bad URI\n");
        return 1;
    }
    mongoc_collection_t *from = mongoc_client_get_collection(client, argv[2], argv[3]);
    bson_t **docs = calloc(batch, sizeof(*docs));
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(from, &filter, NULL, NULL);
    const bson_t *doc;
    bson_error_t error;
    /* A second client for the inserts: the cursor keeps the first one's
     * connection between batches. */
    mongoc_client_t *writer = mongoc_client_new(argv[1]);
    mongoc_collection_t *to = mongoc_client_get_collection(writer, argv[2], argv[4]);
    while (rc == 0 && mongoc_cursor_next(cursor, &doc)) {
        docs[n++] = bson_copy(doc);
        if (n == batch) {
            rc = insert(to, docs, n, &seconds);
            total += n;
            n = 0;
        }
    }
    if (rc == 0 && mongoc_cursor_error(cursor, &error)) {
        fprintf(stderr, "mongo_ceiling: reading %s: %s\n", argv[3], error.message);
        rc = -1;
    }
    if (rc == 0 && n > 0) {
        rc = insert(to, docs, n, &seconds);
        total += n;
    }
    if (rc == 0)
        printf("%zu %.3f %.0f\n", total, seconds, seconds > 0 ? (double)total / seconds : 0.0);
    mongoc_cursor_destroy(cursor);
    bson_destroy(&filter);
    free(docs);
    mongoc_collection_destroy(to);
    mongoc_collection_destroy(from);
    mongoc_client_destroy(writer);
    mongoc_client_destroy(client);
    mongoc_cleanup();
    return rc == 0 ? 0 : 1;
}
