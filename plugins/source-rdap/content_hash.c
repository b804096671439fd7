/*
 * The hash that decides whether an object changed: SHA-256 over the
 * canonical serialization (sorted keys), with the events that change on
 * every response (by default "last update of RDAP database") left out and
 * the arrays that are sets (rdapConformance, status, roles) sorted: some
 * servers, icann-rdap-srv among them, send a set in a different order on
 * every response.
 */
#include "rdap_parts.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static bool is_volatile(const rdapsync_json_api *J, const rdapsync_value *event, const rdapsync_string_list *vol)
{
    const char *action = J->string_value(J->object_get(event, "eventAction"));
    if (!action)
        return false;
    for (size_t i = 0; i < vol->count; i++)
        if (strcmp(action, vol->items[i]) == 0)
            return true;
    return false;
}

static bool listed(const rdapsync_string_list *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], name) == 0)
            return true;
    return false;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts an array of strings in place (v is our copy); other arrays stay. 0 or -1. */
static int sort_strings(const rdapsync_json_api *J, rdapsync_value *v)
{
    size_t n = J->array_size(v);
    char **items = n ? malloc(n * sizeof(*items)) : NULL;
    int rc = 0;

    if (n && !items)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(items[i] = (char *)J->string_value(J->array_get(v, i)))) {
            free(items);
            return 0; /* not a set of strings: left as it is */
        }
    /* The strings belong to the array: copy them before it changes. */
    for (size_t i = 0; i < n && rc == 0; i++)
        if (!(items[i] = strdup(items[i]))) {
            for (size_t k = 0; k < i; k++)
                free(items[k]);
            free(items);
            return -1;
        }
    qsort(items, n, sizeof(*items), by_string);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && J->array_set(v, i, J->string_new(items[i], strlen(items[i]))) != 0)
            rc = -1;
        free(items[i]);
    }
    free(items);
    return rc;
}

/* Removes volatile events from every "events" array below v and sorts the
 * set members (v is our copy). 0 or -1 (allocation). */
static int canon(const rdapsync_json_api *J, rdapsync_value *v, const rdapsync_string_list *vol,
                 const rdapsync_string_list *sets, int depth)
{
    int rc = 0;
    if (depth > 64)
        return 0;
    if (J->type(v) == RDAPSYNC_JSON_ARRAY) {
        for (size_t i = 0; i < J->array_size(v) && rc == 0; i++)
            rc = canon(J, J->array_get(v, i), vol, sets, depth + 1);
        return rc;
    }
    if (J->type(v) != RDAPSYNC_JSON_OBJECT)
        return 0;
    for (rdapsync_value_iter *it = J->object_iter(v); it && rc == 0; it = J->object_iter_next(v, it)) {
        rdapsync_value *member = J->object_iter_value(it);
        const char *key = J->object_iter_key(it);
        bool array = J->type(member) == RDAPSYNC_JSON_ARRAY;
        if (array && strcmp(key, "events") == 0)
            for (size_t i = J->array_size(member); i-- > 0;)
                if (is_volatile(J, J->array_get(member, i), vol))
                    J->array_remove(member, i);
        if (array && listed(sets, key))
            rc = sort_strings(J, member);
        if (rc == 0)
            rc = canon(J, member, vol, sets, depth + 1);
    }
    return rc;
}

static int feed(const char *bytes, size_t len, void *opaque)
{
    return EVP_DigestUpdate(opaque, bytes, len) == 1 ? 0 : -1;
}

int content_hash(const rdapsync_json_api *J, const rdapsync_value *doc, const rdapsync_string_list *vol,
                 const rdapsync_string_list *sets, unsigned char out[32])
{
    rdapsync_value *copy = vol->count || sets->count ? J->deep_copy(doc) : NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    int rc = -1;

    if (!md || ((vol->count || sets->count) && !copy))
        goto done;
    if (copy && canon(J, copy, vol, sets, 0) != 0)
        goto done;
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
        J->dump_cb(copy ? copy : doc, RDAPSYNC_DUMP_SORT_KEYS, feed, md) == 0 && EVP_DigestFinal_ex(md, out, &n) == 1 &&
        n == 32)
        rc = 0;
done:
    EVP_MD_CTX_free(md);
    J->decref(copy);
    return rc;
}
