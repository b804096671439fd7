/* mongo_ping URI [TIMEOUT_MS]: connects with libmongoc and runs {ping: 1}
 * against the admin database. Exit 0 when the server answered ok, 1 otherwise.
 * Used by scripts/servers/ferretdb.sh as a real MongoDB wire-protocol
 * readiness check (handshake + command). Build:
 *   cc -O2 -o mongo_ping mongo_ping.c $(pkg-config --cflags --libs libmongoc-1.0)
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libmongoc warns on stderr when the server lacks a command it sends on its
 * own (FerretDB has no "endSessions"): keep only errors. */
static void log_errors_only(mongoc_log_level_t level, const char *domain,
                            const char *message, void *user_data)
{
    (void)user_data;
    if (level <= MONGOC_LOG_LEVEL_ERROR)
        fprintf(stderr, "mongo_ping: %s: %s\n", domain, message);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s URI [TIMEOUT_MS]\n", argv[0]);
        return 2;
    }
    const char *uri_str = argv[1];
    int timeout_ms = argc == 3 ? atoi(argv[2]) : 2000;
    if (timeout_ms <= 0)
        timeout_ms = 2000;

    mongoc_log_set_handler(log_errors_only, NULL);
    mongoc_init();
    int rc = 1;
    bson_error_t error;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(uri_str, &error);
    if (!uri) {
        fprintf(stderr, "mongo_ping: bad URI %s: %s\n", uri_str, error.message);
        mongoc_cleanup();
        return 2;
    }
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, timeout_ms);
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, timeout_ms);
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, timeout_ms);
    /* Fail at once instead of retrying server selection once more. */
    mongoc_uri_set_option_as_bool(uri, MONGOC_URI_SERVERSELECTIONTRYONCE, true);

    mongoc_client_t *client = mongoc_client_new_from_uri(uri);
    if (!client) {
        fprintf(stderr, "mongo_ping: cannot create client for %s\n", uri_str);
        goto out_uri;
    }
    mongoc_client_set_appname(client, "rdapsync-mongo-ping");
    mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);

    bson_t *cmd = BCON_NEW("ping", BCON_INT32(1));
    bson_t reply;
    if (mongoc_client_command_simple(client, "admin", cmd, NULL, &reply, &error)) {
        bson_iter_t it;
        double ok = 0;
        if (bson_iter_init_find(&it, &reply, "ok") && BSON_ITER_HOLDS_NUMBER(&it))
            ok = bson_iter_as_double(&it);
        if (ok == 1.0) {
            rc = 0;
        } else {
            char *json = bson_as_canonical_extended_json(&reply, NULL);
            fprintf(stderr, "mongo_ping: unexpected reply %s\n", json ? json : "?");
            bson_free(json);
        }
    } else {
        fprintf(stderr, "mongo_ping: %s\n", error.message);
    }
    bson_destroy(&reply);
    bson_destroy(cmd);
    mongoc_client_destroy(client);
out_uri:
    mongoc_uri_destroy(uri);
    mongoc_cleanup();
    return rc;
}
