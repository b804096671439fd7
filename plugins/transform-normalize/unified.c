/*
 * RDAP object classes -> the unified shape. The member order written here is
 * the order documented in docs/unified-shape.md.
 */
#include "unified.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "nz.h"
#include "rdapjson.h"
#include "tokens.h"

int nz_fail(nz *z, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!z->err || z->err_size == 0)
        return -1;
    n = snprintf(z->err, z->err_size, "%s: ", jpath_str(&z->path));
    if (n < 0 || (size_t)n >= z->err_size)
        return -1;
    va_start(ap, fmt);
    vsnprintf(z->err + n, z->err_size - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int nz_oom(nz *z)
{
    return nz_fail(z, "out of memory");
}

int nz_member(nz *z, rdapsync_value *object, const char *key, rdapsync_value_type type, rdapsync_value **out)
{
    rdapsync_value *v = z->j->object_get(object, key);
    rdapsync_value_type t = z->j->type(v);

    *out = NULL;
    if (!v || t == RDAPSYNC_JSON_NULL)
        return 0;
    if (t != type && !(type == RDAPSYNC_JSON_REAL && t == RDAPSYNC_JSON_INTEGER)) {
        size_t mark = jpath_push_key(&z->path, key);
        nz_fail(z, "expected %s, got %s", rj_type_name(type), rj_type_name(t));
        jpath_pop(&z->path, mark);
        return -1;
    }
    *out = v;
    return 0;
}

rdapsync_value *nz_lower(nz *z, const char *s, size_t len)
{
    char small[256];
    char *buf = len <= sizeof small ? small : malloc(len);
    rdapsync_value *v;

    if (!buf)
        return NULL;
    small[0] = '\0'; /* gcc -O2 cannot see that len == 0 reads nothing */
    for (size_t i = 0; i < len; i++)
        buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    v = z->j->string_new(buf, len);
    if (buf != small)
        free(buf);
    return v;
}

rdapsync_value *nz_token(nz *z, const char *s, size_t len, int kind)
{
    char small[256];
    size_t room = token_room(len);
    char *buf = room <= sizeof small ? small : malloc(room);
    rdapsync_value *v;
    size_t n;

    if (!buf)
        return NULL;
    n = token_make(s, len, (token_kind)kind, buf, room);
    v = z->j->string_new(buf, n);
    if (buf != small)
        free(buf);
    return v;
}

int nz_append(nz *z, rdapsync_value **array, rdapsync_value *item)
{
    if (!item)
        return nz_oom(z);
    if (!*array && !(*array = z->j->array_new())) {
        z->j->decref(item);
        return nz_oom(z);
    }
    return z->j->array_append(*array, item) == 0 ? 0 : nz_oom(z);
}

/* ---- common members ---- */

/* Copies the string member `key` of `in` to `out` as `as` (shared). */
static int copy_string(nz *z, rdapsync_value *in, const char *key, rdapsync_value *out, const char *as)
{
    rdapsync_value *v;

    if (nz_member(z, in, key, RDAPSYNC_JSON_STRING, &v) != 0)
        return -1;
    if (!v || z->j->string_length(v) == 0)
        return 0;
    return rj_set_ref(z->j, out, as, v) == 0 ? 0 : nz_oom(z);
}

/* Copies a scalar member (integer, or string as some servers send numbers). */
static int copy_scalar(nz *z, rdapsync_value *in, const char *key, rdapsync_value *out, const char *as)
{
    rdapsync_value *v = z->j->object_get(in, key);
    rdapsync_value_type t = z->j->type(v);

    if (!v || t == RDAPSYNC_JSON_NULL)
        return 0;
    if (t != RDAPSYNC_JSON_INTEGER && t != RDAPSYNC_JSON_STRING && t != RDAPSYNC_JSON_BOOL) {
        size_t mark = jpath_push_key(&z->path, key);
        nz_fail(z, "expected an integer or a string, got %s", rj_type_name(t));
        jpath_pop(&z->path, mark);
        return -1;
    }
    return rj_set_ref(z->j, out, as, v) == 0 ? 0 : nz_oom(z);
}

static int copy_lower(nz *z, rdapsync_value *in, const char *key, rdapsync_value *out, const char *as)
{
    rdapsync_value *v;

    if (nz_member(z, in, key, RDAPSYNC_JSON_STRING, &v) != 0)
        return -1;
    if (!v || z->j->string_length(v) == 0)
        return 0;
    v = nz_lower(z, z->j->string_value(v), z->j->string_length(v));
    if (!v)
        return nz_oom(z);
    return z->j->object_set(out, as, v) == 0 ? 0 : nz_oom(z);
}

/* An array member whose items must all be strings; NULL when absent. */
static int string_array(nz *z, rdapsync_value *in, const char *key, rdapsync_value **out)
{
    rdapsync_value *a;
    size_t mark;

    if (nz_member(z, in, key, RDAPSYNC_JSON_ARRAY, &a) != 0)
        return -1;
    *out = a;
    if (!a)
        return 0;
    mark = jpath_push_key(&z->path, key);
    for (size_t i = 0, n = z->j->array_size(a); i < n; i++) {
        rdapsync_value *item = z->j->array_get(a, i);
        if (z->j->type(item) != RDAPSYNC_JSON_STRING) {
            jpath_push_index(&z->path, i);
            nz_fail(z, "expected a string, got %s", rj_type_name(z->j->type(item)));
            jpath_pop(&z->path, mark);
            return -1;
        }
    }
    jpath_pop(&z->path, mark);
    return 0;
}

/* status: every value as a token, duplicates dropped. */
static int status_tokens(nz *z, rdapsync_value *in, rdapsync_value *out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *status, *tokens = NULL;

    if (string_array(z, in, "status", &status) != 0)
        return -1;
    for (size_t i = 0, n = j->array_size(status); i < n; i++) {
        rdapsync_value *s = j->array_get(status, i);
        rdapsync_value *tok = nz_token(z, j->string_value(s), j->string_length(s), TOKEN_STATUS);
        if (!tok) {
            j->decref(tokens);
            return nz_oom(z);
        }
        if (j->string_length(tok) == 0 || rj_array_has_string(j, tokens, j->string_value(tok))) {
            j->decref(tok);
            continue;
        }
        if (nz_append(z, &tokens, tok) != 0) {
            j->decref(tokens);
            return -1;
        }
    }
    if (!tokens)
        return 0;
    return j->object_set(out, "status", tokens) == 0 ? 0 : nz_oom(z);
}

/* events keyed by action token: {"registration": {"date": ..., "actor": ...}}; the latest date wins. */
static int events_by_action(nz *z, rdapsync_value *in, const char *key, rdapsync_value *out, const char *as)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *events, *map = NULL, *tok = NULL;
    size_t mark;

    if (nz_member(z, in, key, RDAPSYNC_JSON_ARRAY, &events) != 0)
        return -1;
    if (!events || j->array_size(events) == 0)
        return 0;
    map = j->object_new();
    if (!map)
        return nz_oom(z);
    mark = jpath_push_key(&z->path, key);
    for (size_t i = 0, n = j->array_size(events); i < n; i++) {
        rdapsync_value *ev = j->array_get(events, i), *action, *date, *actor, *entry;
        size_t m = jpath_push_index(&z->path, i);
        if (j->type(ev) != RDAPSYNC_JSON_OBJECT) {
            nz_fail(z, "expected an event object, got %s", rj_type_name(j->type(ev)));
            goto fail;
        }
        if (nz_member(z, ev, "eventAction", RDAPSYNC_JSON_STRING, &action) != 0 ||
            nz_member(z, ev, "eventDate", RDAPSYNC_JSON_STRING, &date) != 0 ||
            nz_member(z, ev, "eventActor", RDAPSYNC_JSON_STRING, &actor) != 0)
            goto fail;
        if (!action) {
            jpath_push_key(&z->path, "eventAction");
            nz_fail(z, "missing");
            goto fail;
        }
        tok = nz_token(z, j->string_value(action), j->string_length(action), TOKEN_PLAIN);
        if (!tok)
            goto oom;
        entry = j->object_get(map, j->string_value(tok));
        if (entry) {
            const char *had = rj_string_member(j, entry, "date");
            if (!date || (had && strcmp(had, j->string_value(date)) >= 0)) {
                j->decref(tok);
                tok = NULL;
                jpath_pop(&z->path, m);
                continue;
            }
        }
        entry = j->object_new();
        if (!entry)
            goto oom_tok;
        if ((date && rj_set_ref(j, entry, "date", date) != 0) ||
            (actor && rj_set_ref(j, entry, "actor", actor) != 0)) {
            j->decref(entry);
            goto oom_tok;
        }
        if (j->object_set(map, j->string_value(tok), entry) != 0)
            goto oom_tok;
        j->decref(tok);
        tok = NULL;
        jpath_pop(&z->path, m);
    }
    jpath_pop(&z->path, mark);
    return j->object_set(out, as, map) == 0 ? 0 : nz_oom(z);
oom_tok:
    j->decref(tok);
oom:
    nz_oom(z);
fail:
    jpath_pop(&z->path, mark);
    j->decref(map);
    return -1;
}

static int links(nz *z, rdapsync_value *in, rdapsync_value *out)
{
    static const char *const keys[] = {"rel", "href", "type", "title", "media"};
    const rdapsync_json_api *j = z->j;
    rdapsync_value *list, *result = NULL;
    size_t mark;

    if (nz_member(z, in, "links", RDAPSYNC_JSON_ARRAY, &list) != 0)
        return -1;
    if (!list || j->array_size(list) == 0)
        return 0;
    mark = jpath_push_key(&z->path, "links");
    for (size_t i = 0, n = j->array_size(list); i < n; i++) {
        rdapsync_value *link = j->array_get(list, i), *copy;
        size_t m = jpath_push_index(&z->path, i);
        if (j->type(link) != RDAPSYNC_JSON_OBJECT) {
            nz_fail(z, "expected a link object, got %s", rj_type_name(j->type(link)));
            goto fail;
        }
        copy = j->object_new();
        if (!copy) {
            nz_oom(z);
            goto fail;
        }
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            if (copy_string(z, link, keys[k], copy, keys[k]) != 0) {
                j->decref(copy);
                goto fail;
            }
        }
        /* hreflang is a string or an array of strings (RFC 9083 §4.2). */
        rdapsync_value *lang = j->object_get(link, "hreflang");
        if (lang && j->type(lang) != RDAPSYNC_JSON_NULL && rj_set_ref(j, copy, "hreflang", lang) != 0) {
            j->decref(copy);
            nz_oom(z);
            goto fail;
        }
        if (nz_append(z, &result, copy) != 0)
            goto fail;
        jpath_pop(&z->path, m);
    }
    jpath_pop(&z->path, mark);
    return j->object_set(out, "links", result) == 0 ? 0 : nz_oom(z);
fail:
    jpath_pop(&z->path, mark);
    j->decref(result);
    return -1;
}

/* {"v4": [...], "v6": [...]} with string items only. */
static int ip_addresses(nz *z, rdapsync_value *in, rdapsync_value *out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *ips, *v4, *v6, *copy;
    size_t mark;

    if (nz_member(z, in, "ipAddresses", RDAPSYNC_JSON_OBJECT, &ips) != 0)
        return -1;
    if (!ips)
        return 0;
    mark = jpath_push_key(&z->path, "ipAddresses");
    if (string_array(z, ips, "v4", &v4) != 0 || string_array(z, ips, "v6", &v6) != 0) {
        jpath_pop(&z->path, mark);
        return -1;
    }
    jpath_pop(&z->path, mark);
    if (!j->array_size(v4) && !j->array_size(v6))
        return 0;
    copy = j->object_new();
    if (!copy)
        return nz_oom(z);
    if (j->array_size(v4) && j->object_set(copy, "v4", j->deep_copy(v4)) != 0)
        goto oom;
    if (j->array_size(v6) && j->object_set(copy, "v6", j->deep_copy(v6)) != 0)
        goto oom;
    return j->object_set(out, "ip_addresses", copy) == 0 ? 0 : nz_oom(z);
oom:
    j->decref(copy);
    return nz_oom(z);
}

static int nameservers(nz *z, rdapsync_value *in, rdapsync_value *out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *list, *result = NULL;
    size_t mark;

    if (nz_member(z, in, "nameservers", RDAPSYNC_JSON_ARRAY, &list) != 0)
        return -1;
    if (!list || j->array_size(list) == 0)
        return 0;
    mark = jpath_push_key(&z->path, "nameservers");
    for (size_t i = 0, n = j->array_size(list); i < n; i++) {
        rdapsync_value *ns = j->array_get(list, i), *copy;
        size_t m = jpath_push_index(&z->path, i);
        if (j->type(ns) != RDAPSYNC_JSON_OBJECT) {
            nz_fail(z, "expected a nameserver object, got %s", rj_type_name(j->type(ns)));
            goto fail;
        }
        copy = j->object_new();
        if (!copy) {
            nz_oom(z);
            goto fail;
        }
        if (copy_lower(z, ns, "ldhName", copy, "ldh_name") != 0 ||
            copy_string(z, ns, "unicodeName", copy, "unicode_name") != 0 ||
            copy_string(z, ns, "handle", copy, "handle") != 0 || status_tokens(z, ns, copy) != 0 ||
            ip_addresses(z, ns, copy) != 0) {
            j->decref(copy);
            goto fail;
        }
        if (nz_append(z, &result, copy) != 0)
            goto fail;
        jpath_pop(&z->path, m);
    }
    jpath_pop(&z->path, mark);
    return j->object_set(out, "nameservers", result) == 0 ? 0 : nz_oom(z);
fail:
    jpath_pop(&z->path, mark);
    j->decref(result);
    return -1;
}

/* An array of objects whose listed members are copied (renamed) as scalars. */
static int object_list(nz *z, rdapsync_value *in, const char *key, const char *const (*members)[2], size_t count,
                       rdapsync_value **out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *list;
    size_t mark;

    *out = NULL;
    if (nz_member(z, in, key, RDAPSYNC_JSON_ARRAY, &list) != 0)
        return -1;
    if (!list || j->array_size(list) == 0)
        return 0;
    mark = jpath_push_key(&z->path, key);
    for (size_t i = 0, n = j->array_size(list); i < n; i++) {
        rdapsync_value *item = j->array_get(list, i), *copy;
        size_t m = jpath_push_index(&z->path, i);
        if (j->type(item) != RDAPSYNC_JSON_OBJECT) {
            nz_fail(z, "expected an object, got %s", rj_type_name(j->type(item)));
            goto fail;
        }
        copy = j->object_new();
        if (!copy) {
            nz_oom(z);
            goto fail;
        }
        for (size_t k = 0; k < count; k++) {
            if (copy_scalar(z, item, members[k][0], copy, members[k][1]) != 0) {
                j->decref(copy);
                goto fail;
            }
        }
        if (nz_append(z, out, copy) != 0)
            goto fail;
        jpath_pop(&z->path, m);
    }
    jpath_pop(&z->path, mark);
    return 0;
fail:
    jpath_pop(&z->path, mark);
    j->decref(*out);
    *out = NULL;
    return -1;
}

static int dnssec(nz *z, rdapsync_value *in, rdapsync_value *out)
{
    static const char *const ds[][2] = {
        {"keyTag", "key_tag"}, {"algorithm", "algorithm"}, {"digestType", "digest_type"}, {"digest", "digest"}};
    static const char *const keys[][2] = {
        {"flags", "flags"}, {"protocol", "protocol"}, {"algorithm", "algorithm"}, {"publicKey", "public_key"}};
    const rdapsync_json_api *j = z->j;
    rdapsync_value *sec, *copy, *list = NULL;
    size_t mark;

    if (nz_member(z, in, "secureDNS", RDAPSYNC_JSON_OBJECT, &sec) != 0)
        return -1;
    if (!sec)
        return 0;
    copy = j->object_new();
    if (!copy)
        return nz_oom(z);
    mark = jpath_push_key(&z->path, "secureDNS");
    if (copy_scalar(z, sec, "zoneSigned", copy, "zone_signed") != 0 ||
        copy_scalar(z, sec, "delegationSigned", copy, "delegation_signed") != 0 ||
        copy_scalar(z, sec, "maxSigLife", copy, "max_sig_life") != 0)
        goto fail;
    if (object_list(z, sec, "dsData", ds, 4, &list) != 0)
        goto fail;
    if (list && j->object_set(copy, "ds_data", list) != 0)
        goto oom;
    if (object_list(z, sec, "keyData", keys, 4, &list) != 0)
        goto fail;
    if (list && j->object_set(copy, "key_data", list) != 0)
        goto oom;
    jpath_pop(&z->path, mark);
    return j->object_set(out, "dnssec", copy) == 0 ? 0 : nz_oom(z);
oom:
    nz_oom(z);
fail:
    jpath_pop(&z->path, mark);
    j->decref(copy);
    return -1;
}

/* cidr0_cidrs [{v4prefix|v6prefix, length}] -> ["192.0.2.0/24"]. */
static int cidrs(nz *z, rdapsync_value *in, rdapsync_value *out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *list, *result = NULL;
    size_t mark;

    if (nz_member(z, in, "cidr0_cidrs", RDAPSYNC_JSON_ARRAY, &list) != 0)
        return -1;
    if (!list || j->array_size(list) == 0)
        return 0;
    mark = jpath_push_key(&z->path, "cidr0_cidrs");
    for (size_t i = 0, n = j->array_size(list); i < n; i++) {
        rdapsync_value *c = j->array_get(list, i), *prefix, *length;
        char text[160];
        size_t m = jpath_push_index(&z->path, i);
        if (j->type(c) != RDAPSYNC_JSON_OBJECT) {
            nz_fail(z, "expected an object, got %s", rj_type_name(j->type(c)));
            goto fail;
        }
        if (nz_member(z, c, "v4prefix", RDAPSYNC_JSON_STRING, &prefix) != 0)
            goto fail;
        if (!prefix && nz_member(z, c, "v6prefix", RDAPSYNC_JSON_STRING, &prefix) != 0)
            goto fail;
        if (nz_member(z, c, "length", RDAPSYNC_JSON_INTEGER, &length) != 0)
            goto fail;
        if (!prefix || !length || j->string_length(prefix) > 64) {
            nz_fail(z, "a cidr0 prefix needs v4prefix or v6prefix and length");
            goto fail;
        }
        int len = snprintf(text, sizeof text, "%s/%lld", j->string_value(prefix), (long long)j->integer_value(length));
        if (nz_append(z, &result, j->string_new(text, (size_t)len)) != 0)
            goto fail;
        jpath_pop(&z->path, m);
    }
    jpath_pop(&z->path, mark);
    return j->object_set(out, "cidrs", result) == 0 ? 0 : nz_oom(z);
fail:
    jpath_pop(&z->path, mark);
    j->decref(result);
    return -1;
}

/* The members of an ip network that describe it (also used for entity.networks). */
static int network_members(nz *z, rdapsync_value *in, rdapsync_value *net)
{
    return copy_string(z, in, "startAddress", net, "start_address") || copy_string(z, in, "endAddress", net, "end_address") ||
                   copy_string(z, in, "ipVersion", net, "ip_version") || copy_string(z, in, "name", net, "name") ||
                   copy_string(z, in, "type", net, "type") || copy_string(z, in, "country", net, "country") ||
                   copy_string(z, in, "parentHandle", net, "parent_handle") || cidrs(z, in, net)
               ? -1
               : 0;
}

static int autnum_members(nz *z, rdapsync_value *in, rdapsync_value *as)
{
    return copy_scalar(z, in, "startAutnum", as, "start") || copy_scalar(z, in, "endAutnum", as, "end") ||
                   copy_string(z, in, "name", as, "name") || copy_string(z, in, "type", as, "type") ||
                   copy_string(z, in, "country", as, "country")
               ? -1
               : 0;
}

/* entity.networks / entity.autnums: the embedded objects, summarized. */
static int embedded(nz *z, rdapsync_value *in, const char *key, int (*members)(nz *, rdapsync_value *, rdapsync_value *),
                    rdapsync_value *out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *list, *result = NULL;
    size_t mark;

    if (nz_member(z, in, key, RDAPSYNC_JSON_ARRAY, &list) != 0)
        return -1;
    if (!list || j->array_size(list) == 0)
        return 0;
    mark = jpath_push_key(&z->path, key);
    for (size_t i = 0, n = j->array_size(list); i < n; i++) {
        rdapsync_value *item = j->array_get(list, i), *copy;
        size_t m = jpath_push_index(&z->path, i);
        if (j->type(item) != RDAPSYNC_JSON_OBJECT) {
            nz_fail(z, "expected an object, got %s", rj_type_name(j->type(item)));
            goto fail;
        }
        copy = j->object_new();
        if (!copy) {
            nz_oom(z);
            goto fail;
        }
        if (copy_string(z, item, "handle", copy, "handle") != 0 || members(z, item, copy) != 0 ||
            status_tokens(z, item, copy) != 0) {
            j->decref(copy);
            goto fail;
        }
        if (nz_append(z, &result, copy) != 0)
            goto fail;
        jpath_pop(&z->path, m);
    }
    jpath_pop(&z->path, mark);
    return j->object_set(out, key, result) == 0 ? 0 : nz_oom(z);
fail:
    jpath_pop(&z->path, mark);
    j->decref(result);
    return -1;
}

/* Moves z->registrar and z->contacts into out (in that order). */
static int attach_contacts(nz *z, rdapsync_value *out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *registrar = z->registrar, *contacts = z->contacts;

    z->registrar = z->contacts = NULL;
    if (registrar && j->object_set(out, "registrar", registrar) != 0) {
        j->decref(contacts);
        return nz_oom(z);
    }
    if (contacts && j->object_set(out, "contacts", contacts) != 0)
        return nz_oom(z);
    return 0;
}

/* The host part of an http(s) URL, or 0 bytes. */
static size_t url_host(const char *url, const char **host)
{
    const char *p = strstr(url, "://");
    size_t n = 0;

    if (!p)
        return 0;
    p += 3;
    while (p[n] && p[n] != '/' && p[n] != ':' && p[n] != '?' && p[n] != '#')
        n++;
    *host = p;
    return n;
}

/* source: {server, port43, fetched_at, origin}. */
static int source_member(nz *z, rdapsync_value *in, const unified_source *src, rdapsync_value *out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *source = j->object_new();
    rdapsync_value *list = j->object_get(in, "links");
    const char *host = NULL;
    size_t host_len = 0;

    if (!source)
        return nz_oom(z);
    if (src && src->server) {
        host = src->server;
        host_len = strlen(host);
    }
    for (size_t i = 0, n = j->array_size(list); i < n && !host_len; i++) {
        rdapsync_value *link = j->array_get(list, i);
        const char *rel = rj_string_member(j, link, "rel");
        const char *href = rj_string_member(j, link, "href");
        if (rel && href && strcmp(rel, "self") == 0)
            host_len = url_host(href, &host);
    }
    if (host_len && rj_set_string(j, source, "server", host, host_len) != 0)
        goto oom;
    if (copy_string(z, in, "port43", source, "port43") != 0)
        goto fail;
    if (src && src->fetched_at) {
        if (rj_set_string(j, source, "fetched_at", src->fetched_at, strlen(src->fetched_at)) != 0)
            goto oom;
    } else {
        /* The server's own "last update of RDAP database" event is when the data was current. */
        rdapsync_value *events = j->object_get(in, "events");
        for (size_t i = 0, n = j->array_size(events); i < n; i++) {
            rdapsync_value *ev = j->array_get(events, i);
            const char *action = rj_string_member(j, ev, "eventAction");
            rdapsync_value *date = j->object_get(ev, "eventDate");
            if (action && strcasecmp(action, "last update of RDAP database") == 0 &&
                j->type(date) == RDAPSYNC_JSON_STRING) {
                if (rj_set_ref(j, source, "fetched_at", date) != 0)
                    goto oom;
                break;
            }
        }
    }
    if (src && src->origin && src->origin[0] &&
        rj_set_string(j, source, "origin", src->origin, strlen(src->origin)) != 0)
        goto oom;
    if (j->object_size(source) == 0) {
        j->decref(source);
        return 0;
    }
    return j->object_set(out, "source", source) == 0 ? 0 : nz_oom(z);
oom:
    nz_oom(z);
fail:
    j->decref(source);
    return -1;
}

typedef enum object_class { OC_DOMAIN, OC_ENTITY, OC_NAMESERVER, OC_IP_NETWORK, OC_AUTNUM } object_class;

static const struct {
    const char *rdap;
    const char *token;
} classes[] = {{"domain", "domain"},
               {"entity", "entity"},
               {"nameserver", "nameserver"},
               {"ip network", "ip_network"},
               {"autnum", "autnum"}};

static int class_of(nz *z, rdapsync_value *doc, object_class *out)
{
    rdapsync_value *name;

    if (nz_member(z, doc, "objectClassName", RDAPSYNC_JSON_STRING, &name) != 0)
        return -1;
    if (!name) {
        size_t mark = jpath_push_key(&z->path, "objectClassName");
        nz_fail(z, "missing: not an RDAP object");
        jpath_pop(&z->path, mark);
        return -1;
    }
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        if (strcasecmp(z->j->string_value(name), classes[i].rdap) == 0) {
            *out = (object_class)i;
            return 0;
        }
    }
    size_t mark = jpath_push_key(&z->path, "objectClassName");
    nz_fail(z, "unknown object class (expected domain, entity, nameserver, ip network or autnum)");
    jpath_pop(&z->path, mark);
    return -1;
}

static int class_members(nz *z, object_class oc, rdapsync_value *doc, rdapsync_value *out)
{
    const rdapsync_json_api *j = z->j;

    switch (oc) {
    case OC_DOMAIN:
        return nz_entities(z, doc, false) || attach_contacts(z, out) || nameservers(z, doc, out) ||
                       dnssec(z, doc, out)
                   ? -1
                   : 0;
    case OC_NAMESERVER:
        return ip_addresses(z, doc, out) || nz_entities(z, doc, false) || attach_contacts(z, out) ? -1 : 0;
    case OC_ENTITY: {
        rdapsync_value *self = nz_contact(z, doc);
        if (!self)
            return -1;
        if (j->object_set(out, "entity", self) != 0)
            return nz_oom(z);
        return nz_entities(z, doc, false) || attach_contacts(z, out) ||
                       embedded(z, doc, "networks", network_members, out) ||
                       embedded(z, doc, "autnums", autnum_members, out)
                   ? -1
                   : 0;
    }
    case OC_IP_NETWORK: {
        rdapsync_value *net = j->object_new();
        if (!net)
            return nz_oom(z);
        if (network_members(z, doc, net) != 0) {
            j->decref(net);
            return -1;
        }
        if (j->object_set(out, "network", net) != 0)
            return nz_oom(z);
        return nz_entities(z, doc, false) || attach_contacts(z, out) ? -1 : 0;
    }
    case OC_AUTNUM: {
        rdapsync_value *as = j->object_new();
        if (!as)
            return nz_oom(z);
        if (autnum_members(z, doc, as) != 0) {
            j->decref(as);
            return -1;
        }
        if (j->object_set(out, "autnum", as) != 0)
            return nz_oom(z);
        return nz_entities(z, doc, false) || attach_contacts(z, out) ? -1 : 0;
    }
    }
    return -1;
}

rdapsync_value *unified_build(const rdapsync_json_api *json, rdapsync_value *doc, const unified_options *options,
                              const unified_source *source, char *err, size_t err_size)
{
    nz z = {.j = json, .opt = options, .err = err, .err_size = err_size};
    rdapsync_value *out = NULL, *meta;
    object_class oc;

    if (err && err_size)
        err[0] = '\0';
    jpath_init(&z.path);
    if (json->type(doc) != RDAPSYNC_JSON_OBJECT) {
        nz_fail(&z, "expected an RDAP object, got %s", rj_type_name(json->type(doc)));
        return NULL;
    }
    if (limits_check(json, doc, options->max_depth, options->max_string, err, err_size) != 0)
        return NULL;
    if (class_of(&z, doc, &oc) != 0)
        return NULL;
    out = json->object_new();
    if (!out)
        goto oom;
    meta = json->object_new();
    if (!meta || json->object_set(out, "rdapsync", meta) != 0)
        goto oom;
    if (rj_set_string(json, meta, "schema", UNIFIED_SCHEMA, strlen(UNIFIED_SCHEMA)) != 0)
        goto oom;
    if (rj_set_string(json, out, "object_class", classes[oc].token, strlen(classes[oc].token)) != 0)
        goto oom;
    if (copy_string(&z, doc, "handle", out, "handle") != 0 || copy_lower(&z, doc, "ldhName", out, "ldh_name") != 0 ||
        copy_string(&z, doc, "unicodeName", out, "unicode_name") != 0 || status_tokens(&z, doc, out) != 0 ||
        events_by_action(&z, doc, "events", out, "events") != 0)
        goto fail;
    if (class_members(&z, oc, doc, out) != 0)
        goto fail;
    if (links(&z, doc, out) != 0 || source_member(&z, doc, source, out) != 0)
        goto fail;
    if (options->keep_raw && rj_set_ref(json, out, "raw", doc) != 0)
        goto oom;
    return out;
oom:
    nz_oom(&z);
fail:
    json->decref(z.registrar);
    json->decref(z.contacts);
    json->decref(out);
    return NULL;
}

bool unified_is_unified(const rdapsync_json_api *json, const rdapsync_value *doc)
{
    rdapsync_value *meta = json->object_get(doc, "rdapsync");
    const char *schema = rj_string_member(json, meta, "schema");

    return schema && strncmp(schema, "rdapsync.unified/", 17) == 0;
}

const char *unified_key(const rdapsync_json_api *json, const rdapsync_value *unified, bool prefer_ldh)
{
    const char *handle = rj_string_member(json, unified, "handle");
    const char *ldh = rj_string_member(json, unified, "ldh_name");

    if (prefer_ldh)
        return ldh ? ldh : handle;
    return handle ? handle : ldh;
}
