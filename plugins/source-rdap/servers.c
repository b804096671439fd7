/*
 * Which server answers for which object (the `servers` overrides, then the
 * bootstrap registries), and each server's queue of objects by due time.
 */
#define _POSIX_C_SOURCE 200809L
#include "source_rdap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H source_rdap_host

static const struct { const char *file; obj_kind kind; } registries[] = {
    {"dns.json", OBJ_DOMAIN}, {"asn.json", OBJ_AUTNUM}, {"ipv4.json", OBJ_IP},
    {"ipv6.json", OBJ_IP},    {"object-tags.json", OBJ_ENTITY}};

typedef struct grow_buf {
    char *data;
    size_t len, max;
    bool over;
} grow_buf;

static size_t to_buf(char *ptr, size_t size, size_t n, void *opaque)
{
    grow_buf *b = opaque;
    size_t add = size * n;
    if (b->len + add > b->max) {
        b->over = true;
        return 0;
    }
    char *d = realloc(b->data, b->len + add + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, ptr, add);
    b->data = d;
    b->len += add;
    d[b->len] = '\0';
    return add;
}

/* One registry file from a directory or a base URL: text the caller
 * frees, NULL when absent (a bootstrap may cover only some object types). */
static char *read_registry(rdap_source *s, const char *file, size_t *len)
{
    const char *base = s->cfg->bootstrap;
    size_t n = strlen(base) + strlen(file) + 2;
    char *where = malloc(n);
    grow_buf b = {.max = 64u << 20};

    if (!where)
        return NULL;
    snprintf(where, n, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", file);
    if (strncmp(base, "http://", 7) == 0 || strncmp(base, "https://", 8) == 0) {
        CURL *c = curl_easy_init();
        long code = 0;
        if (c) {
            curl_easy_setopt(c, CURLOPT_URL, where);
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_buf);
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
            curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->cfg->timeout);
            curl_easy_setopt(c, CURLOPT_USERAGENT, s->cfg->user_agent);
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, s->cfg->tls_verify ? 1L : 0L);
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, s->cfg->tls_verify ? 2L : 0L);
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
            if (curl_easy_perform(c) != CURLE_OK ||
                (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code), code != 200)) {
                free(b.data);
                b.data = NULL;
            }
            curl_easy_cleanup(c);
        }
    } else {
        FILE *f = fopen(where, "rb");
        char chunk[65536];
        size_t got;
        while (f && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
            if (to_buf(chunk, 1, got, &b) != got) {
                free(b.data);
                b.data = NULL;
                break;
            }
        if (f)
            fclose(f);
    }
    free(where);
    *len = b.len;
    return b.data;
}

/* Builds a new registry; the old one stays when nothing could be read. */
static int load_registry(rdap_source *s, char *err, size_t err_size)
{
    bootstrap fresh = {0};
    int files = 0;

    for (size_t i = 0; i < sizeof(registries) / sizeof(registries[0]); i++) {
        size_t len;
        char why[256];
        char *text = read_registry(s, registries[i].file, &len);
        if (!text)
            continue;
        if (bootstrap_add_json(&fresh, registries[i].kind, text, len, H->json, why, sizeof(why)) != 0)
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "bootstrap %s: %s", registries[i].file, why);
        else
            files++;
        free(text);
    }
    s->bootstrap_at = mono_ms();
    if (files == 0) {
        bootstrap_free(&fresh);
        snprintf(err, err_size, "bootstrap %s: no readable dns.json, asn.json, ipv4.json, ipv6.json or object-tags.json",
                 s->cfg->bootstrap);
        return -1;
    }
    bootstrap_free(&s->registry);
    s->registry = fresh;
    H->log(s->ctx, RDAPSYNC_LOG_INFO, "bootstrap: %d registry file(s), %zu entries", files, fresh.count);
    return 0;
}

static int server_for(rdap_source *s, const char *base)
{
    for (size_t i = 0; i < s->server_count; i++)
        if (strcmp(s->servers[i].base, base) == 0)
            return (int)i;
    rdap_server *v = realloc(s->servers, (s->server_count + 1) * sizeof(*v));
    if (!v)
        return -1;
    s->servers = v;
    rdap_server *srv = &v[s->server_count];
    memset(srv, 0, sizeof(*srv));
    srv->base = strdup(base);
    const char *scheme = strstr(base, "://");
    const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
    srv->host = slash ? strndup(base, (size_t)(slash - base)) : strdup(base);
    if (!srv->base || !srv->host) {
        free(srv->base);
        free(srv->host);
        return -1;
    }
    /* A burst of one request per concurrent slot at most keeps a fresh
     * start from opening with a volley. */
    tb_init(&srv->bucket, s->cfg->rate, (double)s->cfg->concurrency, mono_ms());
    return (int)s->server_count++;
}

/* ---- the per-server queue: a binary heap on next_due ---- */

static bool earlier(const rdap_source *s, size_t a, size_t b)
{
    return s->objects[a].next_due < s->objects[b].next_due;
}

void heap_push(rdap_source *s, rdap_server *srv, size_t object)
{
    if (srv->heap_len == srv->heap_cap) {
        size_t cap = srv->heap_cap ? srv->heap_cap * 2 : 64;
        size_t *v = realloc(srv->heap, cap * sizeof(*v));
        if (!v)
            return; /* the object waits for the next bootstrap placement */
        srv->heap = v;
        srv->heap_cap = cap;
    }
    size_t i = srv->heap_len++;
    srv->heap[i] = object;
    while (i > 0 && earlier(s, srv->heap[i], srv->heap[(i - 1) / 2])) {
        size_t p = (i - 1) / 2, t = srv->heap[p];
        srv->heap[p] = srv->heap[i];
        srv->heap[i] = t;
        i = p;
    }
    s->objects[object].in_heap = true;
}

size_t heap_pop(rdap_source *s, rdap_server *srv)
{
    size_t top = srv->heap[0], i = 0;
    srv->heap[0] = srv->heap[--srv->heap_len];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < srv->heap_len && earlier(s, srv->heap[l], srv->heap[m]))
            m = l;
        if (r < srv->heap_len && earlier(s, srv->heap[r], srv->heap[m]))
            m = r;
        if (m == i)
            break;
        size_t t = srv->heap[m];
        srv->heap[m] = srv->heap[i];
        srv->heap[i] = t;
        i = m;
    }
    s->objects[top].in_heap = false;
    return top;
}

/* Entries of the subtree at i that are due by `now`: a heap's children are
 * never earlier than their parent, so only due nodes are visited. */
static size_t heap_count_due(const rdap_source *s, const rdap_server *srv, size_t i, int64_t now)
{
    if (i >= srv->heap_len || s->objects[srv->heap[i]].next_due > now)
        return 0;
    return 1 + heap_count_due(s, srv, 2 * i + 1, now) + heap_count_due(s, srv, 2 * i + 2, now);
}

size_t servers_count_due(const rdap_source *s, int64_t now_wall)
{
    size_t due = 0;
    for (size_t k = 0; k < s->server_count; k++)
        due += heap_count_due(s, &s->servers[k], 0, now_wall);
    return due;
}

void servers_route(rdap_source *s, size_t i)
{
    rdap_object *o = &s->objects[i];
    if (o->in_flight || o->in_heap || o->next_due == NEVER)
        return;
    if (o->server < 0) {
        const char *base = bootstrap_lookup(&s->overrides, &o->spec);
        if (!base)
            base = bootstrap_lookup(&s->registry, &o->spec);
        if (!base) {
            H->counter_add(s->ctx, "objects_unroutable", 1);
            /* A list in a registry the bootstrap lacks must not flood the log. */
            if (++s->unroutable <= 10 || s->unroutable % 1000 == 0)
                H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s: no RDAP server in the bootstrap or servers for it; not followed"
                       " (%zu such objects so far)", o->spec.id, s->unroutable);
            o->next_due = NEVER;
            return;
        }
        o->server = server_for(s, base);
        if (o->server < 0)
            return;
    }
    heap_push(s, &s->servers[o->server], i);
}

int servers_setup(rdap_source *s, char *err, size_t err_size)
{
    const rdapsync_string_map *m = &s->cfg->servers;
    for (size_t i = 0; i < m->count; i++)
        if (bootstrap_add_override(&s->overrides, m->keys[i], m->values[i], err, err_size) != 0)
            return -1;
    if (s->cfg->bootstrap && load_registry(s, err, err_size) != 0)
        return -1;
    return 0;
}

void servers_maybe_refresh(rdap_source *s)
{
    char err[512];
    if (!s->cfg->bootstrap || s->cfg->bootstrap_refresh <= 0 ||
        mono_ms() - s->bootstrap_at < s->cfg->bootstrap_refresh)
        return;
    if (load_registry(s, err, sizeof(err)) != 0) {
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s; keeping the previous bootstrap", err);
        return;
    }
    /* Every queued object is placed again: a delegation may have moved. */
    for (size_t k = 0; k < s->server_count; k++)
        while (s->servers[k].heap_len)
            heap_pop(s, &s->servers[k]);
    for (size_t i = 0; i < s->object_count; i++) {
        if (!s->objects[i].in_flight)
            s->objects[i].server = -1;
        servers_route(s, i);
    }
}

void servers_free(rdap_source *s)
{
    for (size_t i = 0; i < s->server_count; i++) {
        free(s->servers[i].base);
        free(s->servers[i].host);
        free(s->servers[i].heap);
    }
    free(s->servers);
    s->servers = NULL;
    s->server_count = 0;
    bootstrap_free(&s->overrides);
    bootstrap_free(&s->registry);
}
