/*
 * redis://host[:port][/db]: the one URL form the sink takes. Kept apart
 * (and pure) so the unit tests reach it without a server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rds.h"

/* A decimal number in [min, max] spanning exactly [s, end). */
static int parse_number(const char *s, const char *end, long min, long max, long *out)
{
    if (s == end || end - s > 10)
        return -1;
    long value = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (*p - '0');
    }
    if (value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

int rds_url_parse(const char *url, rds_endpoint *out, char *err, size_t err_size)
{
    static const char scheme[] = "redis://";
    if (strncmp(url, scheme, sizeof(scheme) - 1) != 0) {
        snprintf(err, err_size, "url \"%.200s\": must start with redis:// (TLS and unix sockets are not supported)",
                 url);
        return -1;
    }
    const char *p = url + sizeof(scheme) - 1;
    const char *authority_end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(authority_end - p))) {
        snprintf(err, err_size, "url: credentials do not belong in the url; use the username and password options "
                                "(password is a secret and is never logged)");
        return -1;
    }
    const char *host = p, *host_end, *port = NULL;
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', (size_t)(authority_end - host));
        if (!host_end) {
            snprintf(err, err_size, "url \"%.200s\": unterminated [ipv6] host", url);
            return -1;
        }
        if (host_end + 1 < authority_end) {
            if (host_end[1] != ':')
                goto bad_port;
            port = host_end + 2;
        }
    } else {
        host_end = memchr(host, ':', (size_t)(authority_end - host));
        if (host_end)
            port = host_end + 1;
        else
            host_end = authority_end;
    }
    if (host_end == host || (size_t)(host_end - host) >= sizeof(out->host)) {
        snprintf(err, err_size, "url \"%.200s\": the host is empty or too long", url);
        return -1;
    }
    long number = 6379;
    if (port && parse_number(port, authority_end, 1, 65535, &number) != 0)
        goto bad_port;
    memcpy(out->host, host, (size_t)(host_end - host));
    out->host[host_end - host] = '\0';
    out->port = (int)number;
    out->database = 0;
    if (*authority_end == '/' && authority_end[1]) {
        const char *db = authority_end + 1;
        if (parse_number(db, db + strlen(db), 0, 1000000, &number) != 0) {
            snprintf(err, err_size, "url \"%.200s\": the path must be a database number (redis://host:port/0)", url);
            return -1;
        }
        out->database = (int)number;
    } else if (*authority_end && *authority_end != '/') {
        snprintf(err, err_size, "url \"%.200s\": query strings and fragments are not supported", url);
        return -1;
    }
    return 0;

bad_port:
    snprintf(err, err_size, "url \"%.200s\": the port must be a number from 1 to 65535", url);
    return -1;
}
