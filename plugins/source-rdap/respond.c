/*
 * What a finished request means: a change to emit, nothing new, a delete,
 * a dead letter, or a server to leave alone for a while.
 */
#define _POSIX_C_SOURCE 200809L
#include "rfc3339.h"
#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define H source_rdap_host

void outcome_free(outcome *o)
{
    H->json->decref(o->doc);
    free(o->raw);
    free(o->reason);
    free(o->url);
    free(o->etag);
    free(o->last_modified);
    free(o->key);
    memset(o, 0, sizeof(*o));
}

int outcome_push(rdap_source *s, outcome *o)
{
    if (s->ready_len == s->ready_cap) {
        size_t cap = s->ready_cap ? s->ready_cap * 2 : 64;
        outcome *v = malloc(cap * sizeof(*v));
        if (!v)
            return -1;
        for (size_t i = 0; i < s->ready_len; i++)
            v[i] = s->ready[(s->ready_head + i) % s->ready_cap];
        free(s->ready);
        s->ready = v;
        s->ready_cap = cap;
        s->ready_head = 0;
    }
    s->ready[(s->ready_head + s->ready_len++) % s->ready_cap] = *o;
    return 0;
}

/* The next regular fetch after an answer that counted. */
void object_schedule(rdap_source *s, rdap_object *o, int64_t now_wall)
{
    o->redirects = 0;
    free(o->redirect);
    o->redirect = NULL;
    o->next_due = s->cfg->refresh > 0 ? now_wall + s->cfg->refresh : NEVER;
}

/* Try again after `delay_ms` without counting it as an answer. */
static void again_later(rdap_source *s, rdap_object *o, size_t i, int64_t delay_ms)
{
    o->next_due = wall_ms() + delay_ms;
    servers_route(s, i);
}

/* The server is unwell: back off (or obey its Retry-After), retry the object. */
static void server_trouble(rdap_source *s, transfer *t, const char *what)
{
    rdap_server *srv = &s->servers[t->server];
    int64_t delay = -1;

    if (t->retry_after && retry_after_ms(t->retry_after, wall_ms(), &delay) == 0) {
        if (delay > s->cfg->max_retry_after)
            delay = s->cfg->max_retry_after;
        H->counter_add(s->ctx, "retry_after_honoured", 1);
    } else {
        delay = backoff_ms(s->cfg->backoff_initial, s->cfg->backoff_max, srv->failures, rng_unit(&s->rng));
    }
    srv->failures++;
    int64_t until = mono_ms() + delay;
    if (until > srv->blocked_until)
        srv->blocked_until = until;
    snprintf(srv->last_error, sizeof(srv->last_error), "%s: %s; next try in %lld ms", srv->host, what,
             (long long)delay);
    if (srv->failures == 1 || srv->failures % 10 == 0)
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s", srv->last_error);
    H->counter_add(s->ctx, "server_errors", 1);
    again_later(s, &s->objects[t->object], t->object, 0);
}

static void server_well(rdap_source *s, transfer *t)
{
    rdap_server *srv = &s->servers[t->server];
    if (srv->failures > 0)
        H->log(s->ctx, RDAPSYNC_LOG_INFO, "%s answers again", srv->host);
    srv->failures = 0;
    srv->last_error[0] = '\0';
}

/* Nothing to emit: keep the validators, schedule the next fetch, and write
 * it down unless an emission of this object still waits for its commit
 * (then the committed row must stay as it is: see store.c). */
static void unchanged(rdap_source *s, transfer *t)
{
    rdap_object *o = &s->objects[t->object];
    int64_t now = wall_ms();
    o->fetched_ms = now;
    object_schedule(s, o, now);
    if (o->pending_seq == 0 && store_put_object(s, o) != 0)
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s: state not saved: %s", o->spec.id, sqlite3_errmsg(s->store.db));
    servers_route(s, t->object);
}

static void dead_letter(rdap_source *s, transfer *t, const char *fmt_reason, const char *detail)
{
    outcome oc = {.kind = OUT_BAD, .object = t->object};
    char reason[600];
    snprintf(reason, sizeof(reason), fmt_reason, detail);
    size_t n = strlen(t->url) + strlen(reason) + 3;
    oc.reason = malloc(n);
    if (oc.reason)
        snprintf(oc.reason, n, "%s: %s", t->url, reason);
    oc.url = strdup(t->url);
    oc.raw = t->body ? t->body : strdup("");
    oc.raw_len = t->body ? t->len : 0;
    t->body = NULL;
    H->counter_add(s->ctx, "responses_bad", 1);
    /* A bad answer is an answer: the object is asked again at its next refresh, not hammered. */
    rdap_object *o = &s->objects[t->object];
    object_schedule(s, o, wall_ms());
    servers_route(s, t->object);
    if (!oc.reason || !oc.url || !oc.raw || outcome_push(s, &oc) != 0) {
        H->log(s->ctx, RDAPSYNC_LOG_ERROR, "%s: %s (out of memory: no dead letter)", t->url, reason);
        outcome_free(&oc);
    }
}

static const char *content_type(transfer *t)
{
    char *ct = NULL;
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
    return ct;
}

static bool rdap_type(const char *ct)
{
    if (!ct)
        return false;
    size_t n = strcspn(ct, "; ");
    return (n == 21 && strncasecmp(ct, "application/rdap+json", n) == 0) ||
           (n == 16 && strncasecmp(ct, "application/json", n) == 0);
}

/* eventDate of "last changed", or 0. */
static int64_t last_changed(const rdapsync_value *doc)
{
    const rdapsync_json_api *J = H->json;
    const rdapsync_value *events = J->object_get(doc, "events");
    int64_t ms = 0;
    for (size_t i = 0; i < J->array_size(events); i++) {
        const rdapsync_value *e = J->array_get(events, i);
        const char *action = J->string_value(J->object_get(e, "eventAction"));
        if (action && strcmp(action, "last changed") == 0 &&
            rfc3339_to_ms(J->string_value(J->object_get(e, "eventDate")), &ms) == 0)
            break;
    }
    return ms;
}

static void got_document(rdap_source *s, transfer *t)
{
    const rdapsync_json_api *J = H->json;
    rdap_object *o = &s->objects[t->object];
    char perr[256];
    const char *ct = content_type(t);
    rdapsync_value *doc;

    if (!rdap_type(ct)) {
        dead_letter(s, t, "content type %s is not application/rdap+json", ct ? ct : "(none)");
        return;
    }
    if (!(doc = J->parse(t->body ? t->body : "", t->len, perr, sizeof(perr)))) {
        dead_letter(s, t, "not JSON: %s", perr);
        return;
    }
    if (J->type(doc) != RDAPSYNC_JSON_OBJECT || J->object_get(doc, "errorCode") ||
        !J->string_value(J->object_get(doc, "objectClassName"))) {
        J->decref(doc);
        dead_letter(s, t, "%s", "not an RDAP object (an errorCode body, or no objectClassName)");
        return;
    }
    const char *key = J->string_value(J->object_get(doc, "handle"));
    if (!key || !*key)
        key = J->string_value(J->object_get(doc, "ldhName"));
    if (!key || !*key) {
        J->decref(doc);
        dead_letter(s, t, "%s", "RDAP object without handle or ldhName: no key");
        return;
    }
    outcome oc = {.kind = OUT_UPSERT, .object = t->object};
    if (content_hash(J, doc, &s->cfg->volatile_events, &s->cfg->set_members, oc.hash) != 0) {
        J->decref(doc);
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s: out of memory hashing; later", o->spec.id);
        again_later(s, o, t->object, s->cfg->backoff_initial);
        return;
    }
    /* The validators of an unchanged document are kept: the next
     * conditional request then matches what we hold. */
    if (o->has_hash && !o->deleted && memcmp(oc.hash, o->hash, 32) == 0) {
        J->decref(doc);
        if (t->etag) {
            free(o->etag);
            o->etag = strdup(t->etag);
        }
        if (t->last_modified) {
            free(o->last_modified);
            o->last_modified = strdup(t->last_modified);
        }
        H->counter_add(s->ctx, "objects_unchanged", 1);
        unchanged(s, t);
        return;
    }
    oc.doc = doc;
    oc.key = strdup(key);
    oc.url = strdup(t->url);
    oc.etag = t->etag ? strdup(t->etag) : NULL;
    oc.last_modified = t->last_modified ? strdup(t->last_modified) : NULL;
    oc.fetched_ms = wall_ms();
    oc.event_ms = last_changed(doc);
    if (oc.event_ms <= 0)
        oc.event_ms = oc.fetched_ms;
    object_schedule(s, o, oc.fetched_ms);
    oc.next_due = o->next_due;
    /* Until the record is emitted the object's memory still says "old":
     * a refetch meanwhile would find the change again, which is harmless. */
    if (!oc.key || !oc.url || outcome_push(s, &oc) != 0) {
        outcome_free(&oc);
        again_later(s, o, t->object, s->cfg->backoff_initial);
        return;
    }
    servers_route(s, t->object);
}

static void not_found(rdap_source *s, transfer *t)
{
    rdap_object *o = &s->objects[t->object];
    H->counter_add(s->ctx, "objects_not_found", 1);
    if (!o->has_hash || o->deleted || !o->key || s->cfg->on_not_found == NOT_FOUND_IGNORE) {
        unchanged(s, t);
        return;
    }
    outcome oc = {.kind = OUT_DELETE, .object = t->object};
    oc.key = strdup(o->key);
    oc.url = strdup(t->url);
    oc.fetched_ms = oc.event_ms = wall_ms();
    object_schedule(s, o, oc.fetched_ms);
    oc.next_due = o->next_due;
    if (!oc.key || !oc.url || outcome_push(s, &oc) != 0) {
        outcome_free(&oc);
        again_later(s, o, t->object, s->cfg->backoff_initial);
        return;
    }
    servers_route(s, t->object);
}

static void redirected(rdap_source *s, transfer *t, long code)
{
    rdap_object *o = &s->objects[t->object];
    char *to = NULL;
    curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &to);
    if (!to || s->cfg->follow_redirects == REDIRECT_NONE || o->redirects >= 5) {
        char what[64];
        snprintf(what, sizeof(what), "HTTP %ld redirect", code);
        dead_letter(s, t, "%s not followed (follow_redirects, or more than 5 in a row)", what);
        return;
    }
    const char *host = s->servers[t->server].host;
    size_t hl = strlen(host);
    if (s->cfg->follow_redirects == REDIRECT_SAME_HOST && (strncmp(to, host, hl) != 0 || (to[hl] && to[hl] != '/'))) {
        dead_letter(s, t, "redirect to another host (%s) not followed (follow_redirects: same_host)", to);
        return;
    }
    free(o->redirect);
    o->redirect = strdup(to);
    o->redirects++;
    again_later(s, o, t->object, 0);
}

void respond(rdap_source *s, transfer *t, CURLcode result)
{
    long code = 0;
    char what[CURL_ERROR_SIZE + 64];

    if (result == CURLE_WRITE_ERROR && t->too_big) {
        server_well(s, t);
        char limit[32];
        snprintf(limit, sizeof(limit), "%lld", (long long)s->cfg->max_response_size);
        dead_letter(s, t, "response larger than max_response_size (%s bytes)", limit);
        return;
    }
    if (result != CURLE_OK) {
        snprintf(what, sizeof(what), "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(result));
        server_trouble(s, t, what);
        return;
    }
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code == 429 || code >= 500) {
        snprintf(what, sizeof(what), "HTTP %ld", code);
        server_trouble(s, t, what);
        return;
    }
    server_well(s, t);
    if (code == 200)
        got_document(s, t);
    else if (code == 304)
        unchanged(s, t);
    else if (code == 404 || code == 410)
        not_found(s, t);
    else if (code >= 300 && code < 400)
        redirected(s, t, code);
    else {
        snprintf(what, sizeof(what), "HTTP %ld", code);
        dead_letter(s, t, "%s", what);
    }
}
