/*
 * The conformance kit's read-back hook for the MongoDB sink
 * (sdk/testkit/testkit.h). The argument is "DATABASE.COLLECTION"; the
 * server comes from RDAPSYNC_MONGO_URI. Reset drops the collection, so
 * every case starts from what a fresh install sees. Read-back prints every
 * document that is not a tombstone as {"key": _id, "value": doc}, with
 * wrapped arrays unwrapped (bson_json.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "bson_json.h"
#include "testkit.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT int rdapsync_testkit_reset(const char *arg, char *err, size_t err_size);
EXPORT int rdapsync_testkit_readback(const char *arg, FILE *out, char *err, size_t err_size);

static void quiet_log(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
    (void)data;
    if (level <= MONGOC_LOG_LEVEL_ERROR)
        fprintf(stderr, "testkit-hook-mongodb: %s: %s\n", domain, message);
}

/* The collection named by arg; *client_out to destroy after it. */
static mongoc_collection_t *open_collection(const char *arg, mongoc_client_t **client_out, char *err, size_t err_size)
{
    const char *uri = getenv("RDAPSYNC_MONGO_URI");
    const char *dot = strchr(arg, '.');
    if (!uri || !*uri) {
        snprintf(err, err_size, "RDAPSYNC_MONGO_URI is not set");
        return NULL;
    }
    if (!dot || dot == arg || !dot[1]) {
        snprintf(err, err_size, "hook argument must be DATABASE.COLLECTION, got \"%s\"", arg);
        return NULL;
    }
    mongoc_init();
    mongoc_log_set_handler(quiet_log, NULL);
    bson_error_t error;
    mongoc_uri_t *parsed = mongoc_uri_new_with_error(uri, &error);
    mongoc_client_t *client = parsed ? mongoc_client_new_from_uri_with_error(parsed, &error) : NULL;
    mongoc_uri_destroy(parsed);
    if (!client) {
        snprintf(err, err_size, "%s", error.message);
        return NULL;
    }
    char *db = strndup(arg, (size_t)(dot - arg));
    mongoc_collection_t *coll = mongoc_client_get_collection(client, db, dot + 1);
    free(db);
    *client_out = client;
    return coll;
}

int rdapsync_testkit_reset(const char *arg, char *err, size_t err_size)
{
    mongoc_client_t *client = NULL;
    mongoc_collection_t *coll = open_collection(arg, &client, err, err_size);
    if (!coll)
        return -1;
    bson_error_t error;
    int rc = 0;
    /* Code 26: the collection does not exist yet. */
    if (!mongoc_collection_drop(coll, &error) && error.code != 26 && !strstr(error.message, "ns not found")) {
        snprintf(err, err_size, "drop: %s", error.message);
        rc = -1;
    }
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(client);
    return rc;
}

int rdapsync_testkit_readback(const char *arg, FILE *out, char *err, size_t err_size)
{
    mongoc_client_t *client = NULL;
    mongoc_collection_t *coll = open_collection(arg, &client, err, err_size);
    if (!coll)
        return -1;
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
    const bson_t *doc;
    bson_error_t error;
    int rc = 0;
    while (rc == 0 && mongoc_cursor_next(cursor, &doc)) {
        bson_iter_t it;
        if (bson_iter_init_find(&it, doc, "deleted") && bson_iter_as_bool(&it))
            continue;
        uint32_t key_len = 0;
        if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_UTF8(&it)) {
            snprintf(err, err_size, "a document without a string _id");
            rc = -1;
            break;
        }
        const char *key = bson_iter_utf8(&it, &key_len);
        if (!bson_iter_init_find(&it, doc, "doc")) {
            snprintf(err, err_size, "document \"%.80s\" has no doc field", key);
            rc = -1;
            break;
        }
        fputs("{\"key\":", out);
        bson_json_write_string(out, key, key_len);
        fputs(",\"value\":", out);
        rc = bson_json_write_value(out, &it, err, err_size);
        fputs("}\n", out);
    }
    if (rc == 0 && mongoc_cursor_error(cursor, &error)) {
        snprintf(err, err_size, "find: %s", error.message);
        rc = -1;
    }
    mongoc_cursor_destroy(cursor);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(client);
    return rc;
}
