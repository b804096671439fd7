/*
 * The pieces of the `rdap` source that need no network and no host state:
 * objects-file lines, IANA bootstrap lookup, the content hash, the token
 * bucket, Retry-After and backoff. Kept apart so the unit tests compile
 * them directly. Internal to the plugin; nothing here is exported.
 */
#ifndef RDAP_PARTS_H
#define RDAP_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

/* ---- objects.c: one line of an objects file ---- */
typedef enum obj_kind { OBJ_DOMAIN = 0, OBJ_ENTITY = 1, OBJ_IP = 2, OBJ_AUTNUM = 3 } obj_kind;

typedef struct obj_spec {
    obj_kind kind;
    char *id;     /* owned: canonical identity, e.g. "domain:example.com", "ip:192.0.2.0/24" */
    char *path;   /* owned: the query below the server's base URL, e.g. "domain/example.com" */
    char *lookup; /* owned: what the bootstrap is asked: name, entity tag, address, number */
    int prefix;   /* ip: prefix length (32/128 without one) */
} obj_spec;

/* Parses one line (trimmed; "#" starts a comment). 1: *out filled (free
 * with obj_spec_free), 0: blank or comment, -1: invalid (reason in err). */
int obj_parse_line(const char *line, size_t len, obj_spec *out, char *err, size_t err_size);
void obj_spec_free(obj_spec *o);

/* ---- bootstrap.c: RFC 9224 registries ---- */
typedef struct bs_entry {
    obj_kind kind;
    char *text;        /* dns: the suffix ("" for the root); entity: the tag; owned */
    unsigned char addr[16];
    int family;        /* ip: 4 or 6 */
    int prefix;        /* ip: prefix length */
    uint64_t lo, hi;   /* autnum: inclusive range */
    char *url;         /* owned: base URL, ends with "/" */
} bs_entry;

typedef struct bootstrap {
    bs_entry *entries; /* owned */
    size_t count, capacity;
} bootstrap;

/* Adds the services of one registry file (dns.json, asn.json, ipv4.json,
 * ipv6.json, object-tags.json) of `kind`. 0 or -1 (err). An https URL is
 * preferred over an http one within an entry. */
int bootstrap_add_json(bootstrap *b, obj_kind kind, const char *text, size_t len, const rdapsync_json_api *json,
                       char *err, size_t err_size);
/* Adds one override: `pattern` is a domain suffix, "entity:TAG",
 * "autnum:LO-HI" (or "autnum:N"), "ip:CIDR" or "*" (everything). 0 or -1. */
int bootstrap_add_override(bootstrap *b, const char *pattern, const char *url, char *err, size_t err_size);
/* Base URL of the best entry for `o` (longest suffix for dns, longest
 * prefix for ip, the range for autnum, the tag for entities), or NULL;
 * borrowed from b. */
const char *bootstrap_lookup(const bootstrap *b, const obj_spec *o);
void bootstrap_free(bootstrap *b);

/* ---- content_hash.c ---- */
/* SHA-256 of the document serialized with sorted keys, without the events
 * whose eventAction is one of `volatile_events` (at any depth), and with
 * the string arrays of the members named in `set_members` (at any depth)
 * sorted: the same registration data gives the same hash whatever the
 * server's clock or its set order. The document is not changed. 0 or -1
 * (allocation). */
int content_hash(const rdapsync_json_api *json, const rdapsync_value *doc, const rdapsync_string_list *volatile_events,
                 const rdapsync_string_list *set_members, unsigned char out[32]);

/* ---- token_bucket.c ---- */
typedef struct token_bucket {
    double rate;     /* tokens per second; <= 0: unlimited */
    double capacity; /* burst */
    double tokens;
    int64_t last_ms;
} token_bucket;

void tb_init(token_bucket *tb, double rate, double burst, int64_t now_ms);
/* Takes one token if there is one. */
bool tb_take(token_bucket *tb, int64_t now_ms);
/* Milliseconds until a token is there (0: now). */
int64_t tb_wait_ms(const token_bucket *tb, int64_t now_ms);

/* ---- timeparse.c (eventDate: rfc3339_to_ms() of plugins/common/rfc3339.h) ---- */
/* An HTTP-date (IMF-fixdate, RFC 850 or asctime) to Unix ms. 0 or -1. */
int http_date_ms(const char *text, int64_t *ms);
/* Retry-After: delta-seconds or an HTTP-date, as a delay from `now_unix_ms`
 * (a date in the past gives 0). 0 or -1 when unreadable. */
int retry_after_ms(const char *value, int64_t now_unix_ms, int64_t *delay_ms);
/* Exponential backoff with jitter: a random point in the upper half of
 * min(max, initial * 2^failures); `unit` in [0, 1). */
int64_t backoff_ms(int64_t initial, int64_t max, unsigned failures, double unit);

#endif
