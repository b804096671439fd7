/*
 * IANA RDAP bootstrap registries (RFC 9224) and the `servers` overrides,
 * with the lookup rules of the RFC: the longest matching label suffix for
 * domains, the longest matching prefix for addresses, the range that holds
 * an AS number, the service provider tag for entities.
 */
#define _POSIX_C_SOURCE 200809L
#include "rdap_parts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void bootstrap_free(bootstrap *b)
{
    for (size_t i = 0; i < b->count; i++) {
        free(b->entries[i].text);
        free(b->entries[i].url);
    }
    free(b->entries);
    memset(b, 0, sizeof(*b));
}

/* A base URL with exactly one trailing "/"; the caller frees it. */
static char *base_url(const char *url)
{
    size_t n = strlen(url);
    char *s = malloc(n + 2);
    if (!s)
        return NULL;
    memcpy(s, url, n + 1);
    if (n == 0 || s[n - 1] != '/')
        strcpy(s + n, "/");
    return s;
}

/* A lowercase copy without the root's trailing dot; the caller frees it. */
static char *lower_dup(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (d) {
        size_t n = strlen(d);
        if (n > 0 && d[n - 1] == '.')
            d[n - 1] = '\0';
    }
    return d;
}

/* Appends an entry (takes text and url even on failure). */
static int push(bootstrap *b, bs_entry *e)
{
    if (b->count == b->capacity) {
        size_t cap = b->capacity ? b->capacity * 2 : 64;
        bs_entry *v = realloc(b->entries, cap * sizeof(*v));
        if (!v) {
            free(e->text);
            free(e->url);
            return -1;
        }
        b->entries = v;
        b->capacity = cap;
    }
    b->entries[b->count++] = *e;
    return 0;
}

static int parse_cidr(const char *text, bs_entry *e)
{
    char addr[64];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (n == 0 || n >= sizeof(addr))
        return -1;
    memcpy(addr, text, n);
    addr[n] = '\0';
    memset(e->addr, 0, sizeof(e->addr));
    if (inet_pton(AF_INET, addr, e->addr) == 1)
        e->family = 4;
    else if (inet_pton(AF_INET6, addr, e->addr) == 1)
        e->family = 6;
    else
        return -1;
    int max = e->family == 4 ? 32 : 128;
    e->prefix = max;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (!isdigit((unsigned char)slash[1]) || *end || p < 0 || p > max)
            return -1;
        e->prefix = (int)p;
    }
    return 0;
}

static int parse_range(const char *text, bs_entry *e)
{
    char *end;
    if (!isdigit((unsigned char)*text))
        return -1;
    e->lo = e->hi = strtoull(text, &end, 10);
    if (*end == '-') {
        if (!isdigit((unsigned char)end[1]))
            return -1;
        e->hi = strtoull(end + 1, &end, 10);
    }
    return *end || e->hi < e->lo ? -1 : 0;
}

/* One service key of `kind` into an entry. */
static int add_key(bootstrap *b, obj_kind kind, const char *key, const char *url)
{
    bs_entry e = {.kind = kind};
    int rc = 0;
    if (kind == OBJ_IP)
        rc = parse_cidr(key, &e);
    else if (kind == OBJ_AUTNUM)
        rc = parse_range(key, &e);
    if (rc != 0)
        return -2;
    e.text = kind == OBJ_DOMAIN ? lower_dup(key) : strdup(key);
    e.url = base_url(url);
    if (!e.text || !e.url) {
        free(e.text);
        free(e.url);
        return -1;
    }
    return push(b, &e);
}

/* https first: RFC 9224 section 3 lets a client pick, and TLS is the sane pick. */
static const char *pick_url(const rdapsync_json_api *J, const rdapsync_value *urls)
{
    const char *any = NULL;
    for (size_t i = 0; i < J->array_size(urls); i++) {
        const char *u = J->string_value(J->array_get(urls, i));
        if (!u)
            continue;
        if (strncmp(u, "https://", 8) == 0)
            return u;
        if (!any)
            any = u;
    }
    return any;
}

int bootstrap_add_json(bootstrap *b, obj_kind kind, const char *text, size_t len, const rdapsync_json_api *J,
                       char *err, size_t err_size)
{
    char perr[256];
    rdapsync_value *doc = J->parse(text, len, perr, sizeof(perr));
    const rdapsync_value *services = doc ? J->object_get(doc, "services") : NULL;
    int rc = 0;

    if (!doc) {
        snprintf(err, err_size, "not JSON: %s", perr);
        return -1;
    }
    if (J->type(services) != RDAPSYNC_JSON_ARRAY) {
        snprintf(err, err_size, "no \"services\" array");
        J->decref(doc);
        return -1;
    }
    for (size_t i = 0; i < J->array_size(services) && rc == 0; i++) {
        const rdapsync_value *svc = J->array_get(services, i);
        /* object-tags.json entries are [contacts, tags, urls]; the others [keys, urls]. */
        size_t shift = kind == OBJ_ENTITY ? 1 : 0;
        const rdapsync_value *keys = J->array_get(svc, shift), *urls = J->array_get(svc, shift + 1);
        const char *url = pick_url(J, urls);
        if (J->type(keys) != RDAPSYNC_JSON_ARRAY || !url)
            continue;
        for (size_t k = 0; k < J->array_size(keys) && rc == 0; k++) {
            const char *key = J->string_value(J->array_get(keys, k));
            if (!key)
                continue;
            int r = add_key(b, kind, key, url);
            if (r == -2)
                continue; /* one unreadable key does not spoil a registry */
            rc = r;
        }
    }
    J->decref(doc);
    if (rc != 0)
        snprintf(err, err_size, "out of memory");
    return rc;
}

int bootstrap_add_override(bootstrap *b, const char *pattern, const char *url, char *err, size_t err_size)
{
    static const struct { const char *prefix; obj_kind kind; } types[] = {
        {"entity:", OBJ_ENTITY}, {"autnum:", OBJ_AUTNUM}, {"ip:", OBJ_IP}};
    int rc;

    if (strcmp(pattern, "*") == 0) {
        /* Everything: a root suffix for names, and the widest key of every other type. */
        rc = add_key(b, OBJ_DOMAIN, "", url);
        if (rc == 0)
            rc = add_key(b, OBJ_ENTITY, "*", url);
        if (rc == 0)
            rc = add_key(b, OBJ_AUTNUM, "0-4294967295", url);
        if (rc == 0)
            rc = add_key(b, OBJ_IP, "0.0.0.0/0", url);
        if (rc == 0)
            rc = add_key(b, OBJ_IP, "::/0", url);
    } else {
        obj_kind kind = OBJ_DOMAIN;
        const char *key = pattern;
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strncmp(pattern, types[i].prefix, strlen(types[i].prefix)) == 0) {
                kind = types[i].kind;
                key = pattern + strlen(types[i].prefix);
            }
        rc = add_key(b, kind, key, url);
    }
    if (rc == -2)
        snprintf(err, err_size, "servers: \"%s\" is not a domain suffix, entity:TAG, autnum:LO-HI, ip:CIDR or *",
                 pattern);
    else if (rc != 0)
        snprintf(err, err_size, "out of memory");
    return rc == 0 ? 0 : -1;
}

/* Whether `suffix` is a whole-label suffix of `name` ("" matches all). */
static bool label_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    if (s == 0)
        return true;
    if (s > n || strcmp(name + n - s, suffix) != 0)
        return false;
    return s == n || name[n - s - 1] == '.';
}

static bool prefix_match(const unsigned char *a, const unsigned char *net, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, net, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xFFu << (8 - rest));
    return (a[whole] & mask) == (net[whole] & mask);
}

const char *bootstrap_lookup(const bootstrap *b, const obj_spec *o)
{
    const bs_entry *best = NULL;
    long best_len = -1;
    unsigned char addr[16] = {0};
    int family = 0;
    unsigned long long asn = 0;

    if (o->kind == OBJ_IP) {
        if (inet_pton(AF_INET, o->lookup, addr) == 1)
            family = 4;
        else if (inet_pton(AF_INET6, o->lookup, addr) == 1)
            family = 6;
        else
            return NULL;
    } else if (o->kind == OBJ_AUTNUM) {
        asn = strtoull(o->lookup, NULL, 10);
    }
    for (size_t i = 0; i < b->count; i++) {
        const bs_entry *e = &b->entries[i];
        long len = -1;
        if (e->kind != o->kind)
            continue;
        switch (o->kind) {
        case OBJ_DOMAIN:
            if (label_suffix(o->lookup, e->text))
                len = (long)strlen(e->text);
            break;
        case OBJ_ENTITY:
            if (strcasecmp(e->text, o->lookup) == 0)
                len = 1;
            else if (strcmp(e->text, "*") == 0)
                len = 0;
            break;
        case OBJ_IP:
            /* An object's own prefix must fit inside the entry's. */
            if (e->family == family && e->prefix <= o->prefix && prefix_match(addr, e->addr, e->prefix))
                len = e->prefix;
            break;
        case OBJ_AUTNUM:
            /* Narrowest range first: overrides are usually narrower than IANA's blocks. */
            if (asn >= e->lo && asn <= e->hi)
                len = (long)(64 - __builtin_clzll((e->hi - e->lo) | 1));
            len = len >= 0 ? 64 - len : -1;
            break;
        }
        if (len > best_len) {
            best = e;
            best_len = len;
        }
    }
    return best ? best->url : NULL;
}
