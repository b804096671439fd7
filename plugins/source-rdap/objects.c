/*
 * One line of an objects file: a domain name, entity:HANDLE,
 * ip:ADDRESS[/PREFIX] or autnum:N, turned into an identity, the query path
 * and what the bootstrap is asked.
 */
#define _POSIX_C_SOURCE 200809L
#include "rdap_parts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void obj_spec_free(obj_spec *o)
{
    if (!o)
        return;
    free(o->id);
    free(o->path);
    free(o->lookup);
    memset(o, 0, sizeof(*o));
}

/* a + b + c; the caller frees it; NULL on allocation failure. */
static char *fmt(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static int fill(obj_spec *out, obj_kind kind, const char *id_prefix, const char *path_prefix, const char *name,
                const char *lookup, char *err, size_t err_size)
{
    out->kind = kind;
    out->id = fmt(id_prefix, name, "");
    out->path = fmt(path_prefix, name, "");
    out->lookup = strdup(lookup);
    if (!out->id || !out->path || !out->lookup) {
        obj_spec_free(out);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return 1;
}

/* Handles go into a URL path: only unreserved characters are accepted, so
 * that no handle needs escaping and none can step out of the path. */
static bool handle_ok(const char *h)
{
    if (!*h)
        return false;
    for (; *h; h++)
        if (!isalnum((unsigned char)*h) && *h != '-' && *h != '_' && *h != '.' && *h != '~')
            return false;
    return true;
}

static int parse_entity(const char *handle, obj_spec *out, char *err, size_t err_size)
{
    if (!handle_ok(handle)) {
        snprintf(err, err_size, "entity handle \"%s\" is empty or has characters other than A-Z a-z 0-9 - _ . ~",
                 handle);
        return -1;
    }
    /* RFC 8521: the service provider's tag follows the last hyphen. */
    const char *dash = strrchr(handle, '-');
    return fill(out, OBJ_ENTITY, "entity:", "entity/", handle, dash ? dash + 1 : "", err, err_size);
}

static int parse_ip(const char *text, obj_spec *out, char *err, size_t err_size)
{
    char addr[64], canon[INET6_ADDRSTRLEN], name[INET6_ADDRSTRLEN + 8];
    unsigned char bin[16];
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    int family, max, prefix;

    if (alen == 0 || alen >= sizeof(addr))
        goto bad;
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, bin) == 1)
        family = AF_INET, max = 32;
    else if (inet_pton(AF_INET6, addr, bin) == 1)
        family = AF_INET6, max = 128;
    else
        goto bad;
    prefix = max;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (!isdigit((unsigned char)slash[1]) || *end || p < 0 || p > max)
            goto bad;
        prefix = (int)p;
    }
    inet_ntop(family, bin, canon, sizeof(canon));
    snprintf(name, sizeof(name), "%s/%d", canon, prefix);
    int rc = fill(out, OBJ_IP, "ip:", "ip/", name, canon, err, err_size);
    if (rc > 0)
        out->prefix = prefix;
    return rc;
bad:
    snprintf(err, err_size, "\"ip:%s\" is not ip:ADDRESS or ip:ADDRESS/PREFIX", text);
    return -1;
}

static int parse_autnum(const char *text, obj_spec *out, char *err, size_t err_size)
{
    char *end;
    unsigned long long n;

    if (!isdigit((unsigned char)*text) || (n = strtoull(text, &end, 10), *end) || n > UINT32_MAX) {
        snprintf(err, err_size, "\"autnum:%s\" is not autnum:N with 0 <= N <= 4294967295", text);
        return -1;
    }
    char num[16];
    snprintf(num, sizeof(num), "%llu", n);
    return fill(out, OBJ_AUTNUM, "autnum:", "autnum/", num, num, err, err_size);
}

/* Domains are followed by their LDH (A-label) name, lowercased, without
 * the root's trailing dot: the form registries index and bootstrap lists. */
static int parse_domain(char *name, obj_spec *out, char *err, size_t err_size)
{
    size_t n = strlen(name);
    if (n > 0 && name[n - 1] == '.')
        name[--n] = '\0';
    if (n == 0 || n > 253 || name[0] == '.' || strstr(name, "..")) {
        snprintf(err, err_size, "\"%s\" is not a domain name", name);
        return -1;
    }
    for (char *p = name; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.') {
            snprintf(err, err_size, "\"%s\" is not an LDH domain name (write IDNs as A-labels, xn--...)", name);
            return -1;
        }
    }
    return fill(out, OBJ_DOMAIN, "domain:", "domain/", name, name, err, err_size);
}

int obj_parse_line(const char *line, size_t len, obj_spec *out, char *err, size_t err_size)
{
    char buf[512];
    const char *hash = memchr(line, '#', len);

    memset(out, 0, sizeof(*out));
    if (hash)
        len = (size_t)(hash - line);
    while (len > 0 && isspace((unsigned char)line[0]))
        line++, len--;
    while (len > 0 && isspace((unsigned char)line[len - 1]))
        len--;
    if (len == 0)
        return 0;
    if (len >= sizeof(buf)) {
        snprintf(err, err_size, "line of %zu characters is too long for an object", len);
        return -1;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    if (strncmp(buf, "entity:", 7) == 0)
        return parse_entity(buf + 7, out, err, err_size);
    if (strncmp(buf, "ip:", 3) == 0)
        return parse_ip(buf + 3, out, err, err_size);
    if (strncmp(buf, "autnum:", 7) == 0)
        return parse_autnum(buf + 7, out, err, err_size);
    if (strchr(buf, ':')) {
        snprintf(err, err_size, "\"%s\": unknown object type (domain, entity:, ip:, autnum:)", buf);
        return -1;
    }
    return parse_domain(buf, out, err, err_size);
}
