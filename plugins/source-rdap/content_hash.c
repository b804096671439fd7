/*
 * The hash that decides whether an object changed: SHA-256 over the
 * canonical serialization (sorted keys), with the events that change on
 * every response (by default "last update of RDAP database") left out.
 */
#include "rdap_parts.h"

#include <openssl/evp.h>
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

/* Removes volatile events from every "events" array below v (v is our copy). */
static void strip(const rdapsync_json_api *J, rdapsync_value *v, const rdapsync_string_list *vol, int depth)
{
    if (depth > 64)
        return;
    if (J->type(v) == RDAPSYNC_JSON_ARRAY) {
        for (size_t i = 0; i < J->array_size(v); i++)
            strip(J, J->array_get(v, i), vol, depth + 1);
        return;
    }
    if (J->type(v) != RDAPSYNC_JSON_OBJECT)
        return;
    for (rdapsync_value_iter *it = J->object_iter(v); it; it = J->object_iter_next(v, it)) {
        rdapsync_value *member = J->object_iter_value(it);
        if (strcmp(J->object_iter_key(it), "events") == 0 && J->type(member) == RDAPSYNC_JSON_ARRAY) {
            for (size_t i = J->array_size(member); i-- > 0;)
                if (is_volatile(J, J->array_get(member, i), vol))
                    J->array_remove(member, i);
        } else {
            strip(J, member, vol, depth + 1);
        }
    }
}

static int feed(const char *bytes, size_t len, void *opaque)
{
    return EVP_DigestUpdate(opaque, bytes, len) == 1 ? 0 : -1;
}

int content_hash(const rdapsync_json_api *J, const rdapsync_value *doc, const rdapsync_string_list *vol,
                 unsigned char out[32])
{
    rdapsync_value *copy = vol->count ? J->deep_copy(doc) : NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    int rc = -1;

    if (!md || (vol->count && !copy))
        goto done;
    if (copy)
        strip(J, copy, vol, 0);
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
        J->dump_cb(copy ? copy : doc, RDAPSYNC_DUMP_SORT_KEYS, feed, md) == 0 && EVP_DigestFinal_ex(md, out, &n) == 1 &&
        n == 32)
        rc = 0;
done:
    EVP_MD_CTX_free(md);
    J->decref(copy);
    return rc;
}
