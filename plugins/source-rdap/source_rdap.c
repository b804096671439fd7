/*
 * The `rdap` source plugin: descriptor, options, open/poll/commit/close.
 * See docs/plugins/source-rdap.md.
 */
#define _POSIX_C_SOURCE 200809L
#include "source_rdap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H source_rdap_host

const rdapsync_host *source_rdap_host;

static const char *const redirect_names[] = {"none", "same_host", "any", NULL};
static const char *const not_found_names[] = {"delete", "ignore", NULL};

#define OPT(name, type, flags, def, min, max, en, field, desc) \
    {name, type, flags, def, min, max, en, offsetof(rdap_config, field), desc}

static const rdapsync_option rdap_options[] = {
    OPT("objects", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED, NULL, 0, 0, NULL, objects,
        "file, or directory of files, listing what to follow, one per line: a domain name, entity:HANDLE, "
        "ip:ADDRESS/PREFIX or autnum:N; lines added while running are picked up"),
    OPT("bootstrap", RDAPSYNC_OPT_STRING, 0, NULL, 0, 0, NULL, bootstrap,
        "directory or base URL holding IANA's dns.json, asn.json, ipv4.json, ipv6.json, object-tags.json (RFC 9224)"),
    OPT("bootstrap_refresh", RDAPSYNC_OPT_DURATION, 0, "24h", 0, 0, NULL, bootstrap_refresh,
        "how often the bootstrap is read again; 0: never"),
    OPT("servers", RDAPSYNC_OPT_MAP, 0, NULL, 0, 0, NULL, servers,
        "overrides asked before the bootstrap: domain suffix, entity:TAG, autnum:LO-HI, ip:CIDR or * -> base URL"),
    OPT("refresh", RDAPSYNC_OPT_DURATION, 0, "24h", 0, 0, NULL, refresh,
        "how often each object is fetched again; 0: fetch each once, then END (a backfill)"),
    OPT("concurrency", RDAPSYNC_OPT_INT, 0, "4", 1, 256, NULL, concurrency, "requests in flight per server at most"),
    {"rate", RDAPSYNC_OPT_DOUBLE, 0, "10", 0, 0, NULL, offsetof(rdap_config, rate),
     "requests per second per server (token bucket); 0: unlimited"},
    OPT("timeout", RDAPSYNC_OPT_DURATION, 0, "30s", 1, 3600000, NULL, timeout, "whole request, connect included"),
    OPT("max_response_size", RDAPSYNC_OPT_SIZE, 0, "4M", 1024, INT64_C(1) << 30, NULL, max_response_size,
        "larger responses go to the dead-letter sink"),
    OPT("user_agent", RDAPSYNC_OPT_STRING, 0, "rdapsync-source-rdap/0.1", 0, 0, NULL, user_agent,
        "User-Agent header: name yourself so operators can reach you"),
    OPT("follow_redirects", RDAPSYNC_OPT_ENUM, 0, "same_host", 0, 0, redirect_names, follow_redirects,
        "none, same_host (same scheme, host and port) or any"),
    OPT("on_not_found", RDAPSYNC_OPT_ENUM, 0, "delete", 0, 0, not_found_names, on_not_found,
        "a 404 for an object seen before: emit a delete, or ignore it"),
    OPT("volatile_events", RDAPSYNC_OPT_LIST, 0, "last update of RDAP database", 0, 0, NULL, volatile_events,
        "eventActions left out of the content hash: they change on every response"),
    OPT("set_members", RDAPSYNC_OPT_LIST, 0, "rdapConformance,status,roles", 0, 0, NULL, set_members,
        "members whose string arrays are sets: sorted for the content hash, so their order is no change"),
    OPT("backoff_initial", RDAPSYNC_OPT_DURATION, 0, "1s", 1, 0, NULL, backoff_initial,
        "first wait after a server failed (doubles, with jitter)"),
    OPT("backoff_max", RDAPSYNC_OPT_DURATION, 0, "5m", 1, 0, NULL, backoff_max, "longest wait after failures"),
    OPT("max_retry_after", RDAPSYNC_OPT_DURATION, 0, "1h", 1, 0, NULL, max_retry_after,
        "a longer Retry-After is cut to this"),
    OPT("tls_verify", RDAPSYNC_OPT_BOOL, 0, "true", 0, 0, NULL, tls_verify,
        "verify server certificates and names (turn off only for a test server)"),
    OPT("rescan", RDAPSYNC_OPT_DURATION, 0, "5s", 1, 0, NULL, rescan, "how often the objects files are checked"),
    {NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL},
};

static rdapsync_status rdap_check(const void *config, char *err, size_t err_size)
{
    const rdap_config *c = config;
    if (!c->bootstrap && c->servers.count == 0) {
        snprintf(err, err_size, "give bootstrap, servers, or both: no server is known otherwise");
        return RDAPSYNC_ERROR;
    }
    if (c->rate < 0) {
        snprintf(err, err_size, "rate must be >= 0");
        return RDAPSYNC_ERROR;
    }
    if (c->backoff_max < c->backoff_initial) {
        snprintf(err, err_size, "backoff_max must be >= backoff_initial");
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}

static void rdap_close(void *state)
{
    rdap_source *s = state;
    if (!s)
        return;
    fetch_free(s);
    while (s->ready_len > 0) {
        outcome_free(&s->ready[s->ready_head]);
        s->ready_head = (s->ready_head + 1) % s->ready_cap;
        s->ready_len--;
    }
    free(s->ready);
    if (s->store.db)
        store_close(&s->store);
    servers_free(s);
    objects_free(s);
    free(s);
}

/* Settles the pending rows against the host's checkpoint (see store.c). */
static int settle_at_open(rdap_source *s, char *err, size_t err_size)
{
    int64_t cp = 0, committed = 0;
    bool have = H->checkpoint_get(s->ctx, RDAP_STREAM, -1, &cp);
    if (store_settle(s, have ? cp : 0, true) != 0) {
        snprintf(err, err_size, "state: %s", sqlite3_errmsg(s->store.db));
        return -1;
    }
    (void)store_meta_get(&s->store, "seq", &committed);
    s->seq = committed > cp ? committed : cp;
    return 0;
}

/* refresh 0: a backfill survives restarts until it ends (objects fetched
 * since it began are done); a new run after the end starts a new one.
 * refresh > 0: every object is due within `refresh` of its last answer. */
static void backfill_setup(rdap_source *s)
{
    if (s->cfg->refresh > 0) {
        /* Due times written under another refresh (or a backfill's "never")
         * are brought within this one. */
        for (size_t i = 0; i < s->object_count; i++) {
            rdap_object *o = &s->objects[i];
            if (o->next_due > o->fetched_ms + s->cfg->refresh)
                o->next_due = o->fetched_ms + s->cfg->refresh;
        }
        return;
    }
    if (store_meta_get(&s->store, "backfill_since", &s->backfill_since) != 0) {
        s->backfill_since = wall_ms();
        (void)store_meta_set(&s->store, "backfill_since", s->backfill_since);
    }
    for (size_t i = 0; i < s->object_count; i++) {
        rdap_object *o = &s->objects[i];
        o->next_due = o->fetched_ms >= s->backfill_since ? NEVER : 0;
    }
}

static rdapsync_status rdap_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    rdap_source *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    s->ctx = ctx;
    s->cfg = config;
    s->task_index = H->task_index(ctx);
    s->task_count = H->task_count(ctx);
    s->rng = (uint64_t)wall_ms() ^ ((uint64_t)s->task_index << 32);
    if (store_open(s, err, err_size) != 0 || settle_at_open(s, err, err_size) != 0 ||
        objects_sync(s, true, err, err_size) != 0 || store_load(s, err, err_size) != 0 ||
        servers_setup(s, err, err_size) != 0 || fetch_init(s, err, err_size) != 0) {
        rdap_close(s);
        return RDAPSYNC_ERROR;
    }
    backfill_setup(s);
    for (size_t i = 0; i < s->object_count; i++)
        servers_route(s, i);
    s->rescan_at = mono_ms();
    H->log(ctx, RDAPSYNC_LOG_INFO, "following %zu object(s) on %zu server(s), refresh %lld ms%s", s->object_count,
           s->server_count, (long long)s->cfg->refresh, s->cfg->refresh ? "" : " (backfill)");
    *state = s;
    return RDAPSYNC_OK;
}

static bool backfill_done(const rdap_source *s)
{
    if (s->cfg->refresh > 0 || s->transfer_count > 0 || s->ready_len > 0)
        return false;
    for (size_t k = 0; k < s->server_count; k++)
        if (s->servers[k].heap_len > 0)
            return false;
    for (size_t i = 0; i < s->object_count; i++)
        if (s->objects[i].pending_seq > 0)
            return false; /* END only once every emission is committed */
    return true;
}

/* RETRY's reason when every server with work is failing, else NULL. */
static const char *all_servers_failing(const rdap_source *s)
{
    const char *why = NULL;
    for (size_t k = 0; k < s->server_count; k++) {
        const rdap_server *srv = &s->servers[k];
        if (srv->heap_len == 0 && srv->inflight == 0)
            continue;
        if (srv->failures == 0)
            return NULL;
        why = srv->last_error;
    }
    return why;
}

static rdapsync_status rdap_poll(void *state, rdapsync_batch *batch, int timeout_ms, char *err, size_t err_size)
{
    rdap_source *s = state;
    int64_t deadline = mono_ms() + timeout_ms;
    long added = 0;

    if (mono_ms() - s->rescan_at >= s->cfg->rescan) {
        size_t before = s->object_count;
        char why[512];
        s->rescan_at = mono_ms();
        if (objects_sync(s, false, why, sizeof(why)) != 0)
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s", why);
        for (size_t i = before; i < s->object_count; i++) {
            if (s->cfg->refresh == 0 && s->objects[i].fetched_ms >= s->backfill_since)
                s->objects[i].next_due = NEVER;
            servers_route(s, i);
        }
        if (s->object_count > before)
            s->ended = false;
    }
    servers_maybe_refresh(s);
    /* The gauge `objects_due` (the status page's "Objects due"): objects
     * whose refresh time has come, queued or being fetched; a backlog
     * that grows means the rate or concurrency is too low for `refresh`. */
    H->gauge_set(s->ctx, "objects_due", (double)(servers_count_due(s, wall_ms()) + s->transfer_count));
    /* Bounded: every pass either waits until the deadline or returns. */
    for (int pass = 0; pass < 100000; pass++) {
        int64_t wait = fetch_start_due(s);
        fetch_run(s, 0);
        long n = emit_ready(s, batch, err, err_size);
        if (n < 0) {
            store_end(&s->store);
            return RDAPSYNC_ERROR;
        }
        added += n;
        if (added > 0 || H->batch_room(batch) == 0 || H->stopping(s->ctx))
            break;
        if (backfill_done(s)) {
            if (!s->ended) {
                H->log(s->ctx, RDAPSYNC_LOG_INFO, "backfill done: %zu object(s), sequence %lld", s->object_count,
                       (long long)s->seq);
                (void)store_meta_del(&s->store, "backfill_since");
                s->ended = true;
            }
            store_end(&s->store);
            return RDAPSYNC_END;
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            break;
        if (wait < 0 || wait > left)
            wait = left;
        if (s->transfer_count > 0)
            fetch_run(s, (int)(wait > 0 ? wait : 1));
        else if (wait > 0)
            curl_multi_poll(s->multi, NULL, 0, (int)wait, NULL);
    }
    if (store_end(&s->store) != 0)
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "state: %s", sqlite3_errmsg(s->store.db));
    const char *why = added == 0 ? all_servers_failing(s) : NULL;
    if (why) {
        snprintf(err, err_size, "%s", why);
        return RDAPSYNC_RETRY;
    }
    return RDAPSYNC_OK;
}

static rdapsync_status rdap_commit(void *state, const rdapsync_position *positions, size_t count, char *err,
                                   size_t err_size)
{
    rdap_source *s = state;
    for (size_t i = 0; i < count; i++) {
        if (!positions[i].stream || strcmp(positions[i].stream, RDAP_STREAM) != 0)
            continue;
        int64_t upto = positions[i].offset;
        if (store_settle(s, upto, false) != 0) {
            /* Not fatal: the rows stay pending and the next commit applies them. */
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "state: commit: %s", sqlite3_errmsg(s->store.db));
            return RDAPSYNC_OK;
        }
        for (size_t k = 0; k < s->object_count; k++)
            if (s->objects[k].pending_seq > 0 && s->objects[k].pending_seq <= upto)
                s->objects[k].pending_seq = 0;
    }
    return RDAPSYNC_OK;
}

static const rdapsync_plugin rdap_descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "rdap",
    .kind = RDAPSYNC_KIND_SOURCE,
    .version = "0.1.0",
    .description = "follows RDAP objects on their servers and emits what changed",
    .options = rdap_options,
    .config_size = sizeof(rdap_config),
    .check = rdap_check,
    .open = rdap_open,
    .close = rdap_close,
    .poll = rdap_poll,
    .commit = rdap_commit,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    source_rdap_host = host;
    return &rdap_descriptor;
}
