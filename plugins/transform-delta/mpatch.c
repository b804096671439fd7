/* RFC 7386 JSON Merge Patch: diff and apply (mpatch.h). */
#include "mpatch.h"

#include <stddef.h>

static bool is_object(const rdapsync_json_api *j, const rdapsync_value *v)
{
    return j->type(v) == RDAPSYNC_JSON_OBJECT;
}

/* Whether a value put into a patch would carry a null member somewhere
 * (its nulls would read as removals). */
static bool holds_null_member(const rdapsync_json_api *j, rdapsync_value *v)
{
    if (!is_object(j, v))
        return false;
    for (rdapsync_value_iter *it = j->object_iter(v); it; it = j->object_iter_next(v, it)) {
        rdapsync_value *m = j->object_iter_value(it);
        if (j->type(m) == RDAPSYNC_JSON_NULL || holds_null_member(j, m))
            return true;
    }
    return false;
}

rdapsync_value *mpatch_diff(const rdapsync_json_api *j, const rdapsync_value *from, rdapsync_value *to,
                            bool *inexpressible)
{
    *inexpressible = false;
    if (!is_object(j, from) || !is_object(j, to)) {
        if (j->type(to) == RDAPSYNC_JSON_NULL || holds_null_member(j, to)) {
            *inexpressible = true;
            return NULL;
        }
        return j->incref(to);
    }
    rdapsync_value *patch = j->object_new();
    if (!patch)
        return NULL;
    /* Members gone from `to` are removed with a null. */
    for (rdapsync_value_iter *it = j->object_iter((rdapsync_value *)from); it;
         it = j->object_iter_next((rdapsync_value *)from, it)) {
        const char *key = j->object_iter_key(it);
        if (!j->object_get(to, key) && j->object_set(patch, key, j->null_new()) != 0)
            goto fail;
    }
    for (rdapsync_value_iter *it = j->object_iter(to); it; it = j->object_iter_next(to, it)) {
        const char *key = j->object_iter_key(it);
        rdapsync_value *now = j->object_iter_value(it);
        rdapsync_value *before = j->object_get(from, key);
        if (before && j->equal(before, now))
            continue;
        rdapsync_value *part;
        if (before && is_object(j, before) && is_object(j, now)) {
            part = mpatch_diff(j, before, now, inexpressible);
        } else if (j->type(now) == RDAPSYNC_JSON_NULL || holds_null_member(j, now)) {
            *inexpressible = true;
            part = NULL;
        } else {
            part = j->incref(now);
        }
        if (!part || j->object_set(patch, key, part) != 0)
            goto fail;
    }
    return patch;
fail:
    j->decref(patch);
    return NULL;
}

rdapsync_value *mpatch_apply(const rdapsync_json_api *j, rdapsync_value *target, const rdapsync_value *patch)
{
    if (!is_object(j, patch)) {
        j->decref(target);
        return j->deep_copy(patch);
    }
    if (!is_object(j, target)) {
        j->decref(target);
        target = j->object_new();
        if (!target)
            return NULL;
    }
    for (rdapsync_value_iter *it = j->object_iter((rdapsync_value *)patch); it;
         it = j->object_iter_next((rdapsync_value *)patch, it)) {
        const char *key = j->object_iter_key(it);
        rdapsync_value *value = j->object_iter_value(it);
        if (j->type(value) == RDAPSYNC_JSON_NULL) {
            j->object_del(target, key);
            continue;
        }
        rdapsync_value *old = j->object_get(target, key);
        rdapsync_value *merged = mpatch_apply(j, old ? j->incref(old) : j->null_new(), value);
        if (!merged || j->object_set(target, key, merged) != 0) {
            j->decref(target);
            return NULL;
        }
    }
    return target;
}
