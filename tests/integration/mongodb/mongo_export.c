/*
 * mongo-export URI DATABASE COLLECTION: prints every live document (not a
 * tombstone) the MongoDB sink stored, one JSON line each, in the shape of
 * rdapgen's --expected file:
 *
 *   {"key":K,"ts_ms":N,"origin":S,"seq":N,"value":V}
 *
 * in the server's order and with the value's members as stored; the swap
 * test's canonicalizer sorts and re-serializes. Exit 0, or 1 with a reason.
 *
 * mongo-export --drop URI DATABASE COLLECTION drops the collection instead
 * (a missing one is fine), for the tests' clean-up.
 *
 * mongo-export --raw URI DATABASE COLLECTION prints every document as it
 * is, in relaxed extended JSON, one a line (tombstones, heads and conflict
 * log collections included).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "bson_json.h"

static void quiet_log(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
    (void)data;
    if (level <= MONGOC_LOG_LEVEL_ERROR)
        fprintf(stderr, "mongo-export: %s: %s\n", domain, message);
}

static int write_line(FILE *out, const bson_t *doc, char *err, size_t err_size)
{
    bson_iter_t it;
    uint32_t len = 0;
    if (bson_iter_init_find(&it, doc, "deleted") && bson_iter_as_bool(&it))
        return 0;
    if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_UTF8(&it)) {
        snprintf(err, err_size, "a document without a string _id");
        return -1;
    }
    const char *key = bson_iter_utf8(&it, &len);
    fputs("{\"key\":", out);
    bson_json_write_string(out, key, len);
    static const char *const version[][2] = { { "event_time_ms", "ts_ms" }, { "origin", "origin" }, { "seq", "seq" },
                                              { "doc", "value" } };
    for (size_t i = 0; i < sizeof(version) / sizeof(version[0]); i++) {
        if (!bson_iter_init_find(&it, doc, version[i][0])) {
            snprintf(err, err_size, "document \"%.80s\" has no %s field", key, version[i][0]);
            return -1;
        }
        fprintf(out, ",\"%s\":", version[i][1]);
        if (bson_json_write_value(out, &it, err, err_size) != 0)
            return -1;
    }
    fputs("}\n", out);
    return 0;
}

int main(int argc, char **argv)
{
    bool drop = argc == 5 && strcmp(argv[1], "--drop") == 0;
    bool raw = argc == 5 && strcmp(argv[1], "--raw") == 0;
    if (drop || raw) {
        argv++;
        argc--;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: mongo-export [--drop | --raw] URI DATABASE COLLECTION\n");
        return 2;
    }
    mongoc_init();
    mongoc_log_set_handler(quiet_log, NULL);
    bson_error_t error;
    char err[512] = "";
    int rc = 1;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(argv[1], &error);
    mongoc_client_t *client = uri ? mongoc_client_new_from_uri_with_error(uri, &error) : NULL;
    if (!client) {
        fprintf(stderr, "mongo-export: %s\n", error.message);
        goto done;
    }
    mongoc_collection_t *coll = mongoc_client_get_collection(client, argv[2], argv[3]);
    if (drop) {
        /* Code 26: there was nothing to drop. */
        rc = mongoc_collection_drop(coll, &error) || error.code == 26 || strstr(error.message, "ns not found") ? 0 : 1;
        if (rc != 0)
            fprintf(stderr, "mongo-export: drop: %s\n", error.message);
        mongoc_collection_destroy(coll);
        goto done;
    }
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
    const bson_t *doc;
    rc = 0;
    while (rc == 0 && mongoc_cursor_next(cursor, &doc)) {
        if (raw) {
            char *json = bson_as_relaxed_extended_json(doc, NULL);
            rc = json && puts(json) >= 0 ? 0 : 1;
            bson_free(json);
            continue;
        }
        rc = write_line(stdout, doc, err, sizeof(err)) == 0 ? 0 : 1;
    }
    if (rc == 0 && mongoc_cursor_error(cursor, &error)) {
        snprintf(err, sizeof(err), "find: %s", error.message);
        rc = 1;
    }
    if (rc != 0)
        fprintf(stderr, "mongo-export: %s\n", err);
    if (fflush(stdout) != 0)
        rc = 1;
    mongoc_cursor_destroy(cursor);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
done:
    mongoc_client_destroy(client);
    mongoc_uri_destroy(uri);
    mongoc_cleanup();
    return rc;
}
