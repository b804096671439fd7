/*
 * The client: one single-threaded mongoc_client_t per instance (instances
 * never run callbacks concurrently), created at open and again after any
 * connection failure, so that a restarted server is found by a fresh
 * handshake instead of waiting out the driver's reconnection cooldown.
 *
 * At each connection the sink asks what the server is (buildInfo, the
 * handshake's hello) and decides from it, unless the options force them,
 * where the version guard is evaluated and whether arrays inside arrays
 * are wrapped, and how many operations an update command may hold
 * (FerretDB; docs/plugins/sink-mongodb.md).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mgs.h"

#define H mgs_host

/* ---- libmongoc's log ---- */

static void on_mongoc_log(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
    (void)data;
    rdapsync_log_level ours = RDAPSYNC_LOG_DEBUG;
    if (level <= MONGOC_LOG_LEVEL_ERROR)
        ours = RDAPSYNC_LOG_ERROR;
    else if (level == MONGOC_LOG_LEVEL_WARNING)
        ours = RDAPSYNC_LOG_WARN;
    /* FerretDB has no endSessions, which the driver sends when a client
     * goes away: not worth a warning. */
    if (strstr(message, "endSessions"))
        ours = RDAPSYNC_LOG_DEBUG;
    if (level == MONGOC_LOG_LEVEL_TRACE)
        return;
    H->log(NULL, ours, "mongodb sink: libmongoc %s: %s", domain, message);
}

static void log_init_once(void)
{
    mongoc_init();
    mongoc_log_set_handler(on_mongoc_log, NULL);
}

void mgs_log_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, log_init_once);
}

/* ---- configuration ---- */

static bool has_any(const char *s, const char *chars)
{
    return strpbrk(s, chars) != NULL;
}

rdapsync_status mgs_config_check(const mgs_config *cfg, char *err, size_t err_size)
{
    bson_error_t error;

    mgs_log_init();
    mongoc_uri_t *uri = mongoc_uri_new_with_error(cfg->uri ? cfg->uri : "", &error);
    if (!uri) {
        /* The driver's messages name the part that is wrong, not secrets. */
        snprintf(err, err_size, "uri is not a valid MongoDB connection string: %s", error.message);
        return RDAPSYNC_ERROR;
    }
    mongoc_uri_destroy(uri);
    /* MongoDB's naming rules (the same on FerretDB). */
    if (!cfg->database || !*cfg->database || strlen(cfg->database) > 63 || has_any(cfg->database, "/\\. \"$")) {
        snprintf(err, err_size, "database must be 1 to 63 bytes without any of / \\ . space \" $");
        return RDAPSYNC_ERROR;
    }
    if (!cfg->collection || !*cfg->collection || has_any(cfg->collection, "$") ||
        strncmp(cfg->collection, "system.", 7) == 0 || cfg->collection[0] == '.') {
        snprintf(err, err_size, "collection must be non-empty, without '$', not starting with '.' or 'system.'");
        return RDAPSYNC_ERROR;
    }
    if (strlen(cfg->database) + 1 + strlen(cfg->collection) > 235) {
        snprintf(err, err_size, "database.collection is longer than 235 bytes");
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}

/* ---- errors ---- */

bool mgs_error_retriable(const bson_error_t *error, const bson_t *reply)
{
    static const uint32_t codes[] = {
        6,     /* HostUnreachable */
        7,     /* HostNotFound */
        89,    /* NetworkTimeout */
        91,    /* ShutdownInProgress */
        189,   /* PrimarySteppedDown */
        262,   /* ExceededTimeLimit */
        9001,  /* SocketException */
        10107, /* NotWritablePrimary */
        11600, /* InterruptedAtShutdown */
        11602, /* InterruptedDueToReplStateChange */
        13435, /* NotPrimaryNoSecondaryOk */
        13436, /* NotPrimaryOrSecondary */
        64,    /* WriteConcernFailed */
        50,    /* MaxTimeMSExpired */
        112,   /* WriteConflict */
    };
    if (reply && (mongoc_error_has_label(reply, "RetryableWriteError") ||
                  mongoc_error_has_label(reply, "TransientTransactionError")))
        return true;
    switch (error->domain) {
    case MONGOC_ERROR_STREAM:
    case MONGOC_ERROR_SERVER_SELECTION:
    case MONGOC_ERROR_PROTOCOL:
    case MONGOC_ERROR_WRITE_CONCERN:
        return true;
    default:
        break;
    }
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (error->code == codes[i])
            return error->domain != MONGOC_ERROR_CLIENT && error->domain != MONGOC_ERROR_BSON &&
                   error->domain != MONGOC_ERROR_COMMAND;
    return false;
}

rdapsync_status mgs_fail(mgs_state *st, const char *what, const bson_error_t *error, const bson_t *reply, char *err,
                         size_t err_size)
{
    snprintf(err, err_size, "%s: %s (domain %u, code %u)", what, error->message, error->domain, error->code);
    if (!mgs_error_retriable(error, reply))
        return RDAPSYNC_ERROR;
    st->broken = true;
    return RDAPSYNC_RETRY;
}

void mgs_append_write_concern(const mgs_config *cfg, bson_t *opts)
{
    if (cfg->write_concern == MGS_WC_URI)
        return;
    mongoc_write_concern_t *wc = mongoc_write_concern_new();
    if (cfg->write_concern == MGS_WC_MAJORITY) {
        mongoc_write_concern_set_wmajority(wc, 0);
        mongoc_write_concern_set_journal(wc, true);
    } else {
        mongoc_write_concern_set_w(wc, 1);
    }
    mongoc_write_concern_append(wc, opts);
    mongoc_write_concern_destroy(wc);
}

/* ---- connecting ---- */

static void copy_string_field(const bson_t *doc, const char *field, char *out, size_t out_size)
{
    bson_iter_t it;
    out[0] = '\0';
    if (bson_iter_init_find(&it, doc, field) && BSON_ITER_HOLDS_UTF8(&it))
        snprintf(out, out_size, "%s", bson_iter_utf8(&it, NULL));
}

static int64_t int_field(const bson_t *doc, const char *field, int64_t fallback)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, field) && BSON_ITER_HOLDS_NUMBER(&it))
        return bson_iter_as_int64(&it);
    return fallback;
}

static mongoc_uri_t *make_uri(const mgs_config *cfg, char *err, size_t err_size)
{
    bson_error_t error;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(cfg->uri, &error);
    if (!uri) {
        snprintf(err, err_size, "uri is not a valid MongoDB connection string: %s", error.message);
        return NULL;
    }
    int32_t connect_ms = (int32_t)cfg->connect_timeout;
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, connect_ms);
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, connect_ms);
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, (int32_t)cfg->operation_timeout);
    if (cfg->app_name && *cfg->app_name && !mongoc_uri_get_appname(uri))
        mongoc_uri_set_appname(uri, cfg->app_name);
    return uri;
}

static void decide_modes(mgs_state *st)
{
    const mgs_config *cfg = st->cfg;
    mgs_server *server = &st->server;
    bool ferretdb = server->ferretdb_version[0] != '\0';
    /* On FerretDB every filter other than the insert's duplicate check scans
     * the collection (on SQLite even {_id: K}): a guard in each update's
     * filter would cost one scan per record, the sink's own guard one per
     * chunk. Its update command also stops at the first error. */
    server->guard_on_server = cfg->version_guard == MGS_GUARD_SERVER || (cfg->version_guard == MGS_GUARD_AUTO && !ferretdb);
    server->wrap_arrays = cfg->nested_arrays == MGS_ARRAYS_WRAP || (cfg->nested_arrays == MGS_ARRAYS_AUTO && ferretdb);
    server->updates_per_command = ferretdb ? MGS_FERRETDB_UPDATES_PER_COMMAND : MGS_UPDATES_PER_COMMAND;
}

rdapsync_status mgs_connect(mgs_state *st, char *err, size_t err_size)
{
    const mgs_config *cfg = st->cfg;
    bson_error_t error;
    bson_t reply = BSON_INITIALIZER;
    rdapsync_status status = RDAPSYNC_ERROR;
    mongoc_server_description_t *sd = NULL;

    mgs_disconnect(st);
    mongoc_uri_t *uri = make_uri(cfg, err, err_size);
    if (!uri)
        return RDAPSYNC_ERROR;
    st->client = mongoc_client_new_from_uri_with_error(uri, &error);
    mongoc_uri_destroy(uri);
    if (!st->client) {
        snprintf(err, err_size, "cannot create the MongoDB client: %s", error.message);
        return RDAPSYNC_ERROR;
    }
    mongoc_client_set_error_api(st->client, MONGOC_ERROR_API_VERSION_2);

    /* The handshake (hello) happens on server selection. */
    sd = mongoc_client_select_server(st->client, true, NULL, &error);
    if (!sd) {
        snprintf(err, err_size, "cannot reach a writable MongoDB server: %s", error.message);
        bson_destroy(&reply);
        mgs_disconnect(st);
        /* A server that refuses our credentials will not change its mind. */
        bool auth = error.domain == MONGOC_ERROR_CLIENT && error.code == MONGOC_ERROR_CLIENT_AUTHENTICATE;
        return auth ? RDAPSYNC_ERROR : RDAPSYNC_RETRY;
    }
    st->server.max_bson_size = int_field(mongoc_server_description_hello_response(sd), "maxBsonObjectSize", 16777216);
    mongoc_server_description_destroy(sd);

    bson_t *cmd = BCON_NEW("buildInfo", BCON_INT32(1));
    bool ok = mongoc_client_command_simple(st->client, "admin", cmd, NULL, &reply, &error);
    bson_destroy(cmd);
    if (!ok) {
        status = mgs_fail(st, "buildInfo", &error, &reply, err, err_size);
        goto done;
    }
    copy_string_field(&reply, "version", st->server.version, sizeof(st->server.version));
    copy_string_field(&reply, "ferretdbVersion", st->server.ferretdb_version, sizeof(st->server.ferretdb_version));
    decide_modes(st);
    st->coll = mongoc_client_get_collection(st->client, cfg->database, cfg->collection);

    const char *server_name = st->server.ferretdb_version[0] ? "FerretDB " : "MongoDB ";
    const char *server_version = st->server.ferretdb_version[0] ? st->server.ferretdb_version : st->server.version;
    if (!st->connected_once) {
        H->log(st->ctx, RDAPSYNC_LOG_INFO,
               "connected to %s%s, writing %s.%s; version guard evaluated %s; arrays inside arrays %s",
               server_name, server_version, cfg->database, cfg->collection,
               st->server.guard_on_server ? "by the server (in the update filter)" : "by the sink (older versions deleted, then inserted)",
               st->server.wrap_arrays ? "wrapped as {\"" MGS_WRAP_KEY "\": [...]}" : "stored as they are");
    } else {
        H->log(st->ctx, RDAPSYNC_LOG_INFO, "reconnected to MongoDB (%s%s)", server_name, server_version);
        H->counter_add(st->ctx, "reconnects", 1);
    }
    st->connected_once = true;
    status = RDAPSYNC_OK;

done:
    bson_destroy(&reply);
    if (status != RDAPSYNC_OK)
        mgs_disconnect(st);
    return status;
}

void mgs_disconnect(mgs_state *st)
{
    st->broken = false;
    if (st->coll)
        mongoc_collection_destroy(st->coll);
    if (st->client)
        mongoc_client_destroy(st->client);
    st->coll = NULL;
    st->client = NULL;
}
