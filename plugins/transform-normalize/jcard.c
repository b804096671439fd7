#include "jcard.h"

#include <string.h>
#include <strings.h>

#include "rdapjson.h"

rdapsync_value *jcard_list(const rdapsync_json_api *j, rdapsync_value *vcard, jpath *path, char *err,
                           size_t err_size)
{
    rdapsync_value *list;
    const char *tag;
    size_t mark;

    if (j->type(vcard) != RDAPSYNC_JSON_ARRAY)
        return rj_fail(err, err_size, path, "expected a jCard array, got %s", rj_type_name(j->type(vcard))), NULL;
    if (j->array_size(vcard) < 2)
        return rj_fail(err, err_size, path, "jCard needs [\"vcard\", [properties]], got %zu members",
                       j->array_size(vcard)), NULL;
    tag = j->string_value(j->array_get(vcard, 0));
    if (!tag || strcmp(tag, "vcard") != 0) {
        mark = jpath_push_index(path, 0);
        rj_fail(err, err_size, path, "jCard tag is not \"vcard\"");
        jpath_pop(path, mark);
        return NULL;
    }
    list = j->array_get(vcard, 1);
    if (j->type(list) != RDAPSYNC_JSON_ARRAY) {
        mark = jpath_push_index(path, 1);
        rj_fail(err, err_size, path, "expected the jCard property list, got %s", rj_type_name(j->type(list)));
        jpath_pop(path, mark);
        return NULL;
    }
    return list;
}

int jcard_prop_read(const rdapsync_json_api *j, rdapsync_value *list, size_t index, jcard_prop *out, jpath *path,
                    char *err, size_t err_size)
{
    rdapsync_value *prop = j->array_get(list, index);
    size_t mark = jpath_push_index(path, index);
    size_t n;

    if (j->type(prop) != RDAPSYNC_JSON_ARRAY)
        goto fail_type;
    n = j->array_size(prop);
    if (n < 4) {
        rj_fail(err, err_size, path, "jCard property needs [name, params, type, value], got %zu members", n);
        goto fail;
    }
    out->prop = prop;
    out->name = j->string_value(j->array_get(prop, 0));
    out->params = j->array_get(prop, 1);
    out->type = j->string_value(j->array_get(prop, 2));
    out->value = j->array_get(prop, 3);
    out->value_count = n - 3;
    if (!out->name) {
        jpath_push_index(path, 0);
        rj_fail(err, err_size, path, "jCard property name must be a string");
        goto fail;
    }
    if (j->type(out->params) != RDAPSYNC_JSON_OBJECT) {
        jpath_push_index(path, 1);
        rj_fail(err, err_size, path, "jCard parameters must be an object, got %s",
                rj_type_name(j->type(out->params)));
        goto fail;
    }
    if (!out->type) {
        jpath_push_index(path, 2);
        rj_fail(err, err_size, path, "jCard value type must be a string");
        goto fail;
    }
    jpath_pop(path, mark);
    return 0;

fail_type:
    rj_fail(err, err_size, path, "jCard property must be an array, got %s", rj_type_name(j->type(prop)));
fail:
    jpath_pop(path, mark);
    return -1;
}

/* "voice,fax" style lists, one word at a time. */
static bool list_has(const char *list, const char *word)
{
    size_t wl = strlen(word);
    const char *p = list;

    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ')
            p++;
        if ((size_t)(p - start) == wl && strncasecmp(start, word, wl) == 0)
            return true;
    }
    return false;
}

bool jcard_has_type(const rdapsync_json_api *j, const rdapsync_value *params, const char *type)
{
    rdapsync_value *t = j->object_get(params, "type");
    const char *s = j->string_value(t);

    if (s)
        return list_has(s, type);
    if (j->type(t) == RDAPSYNC_JSON_ARRAY) {
        size_t n = j->array_size(t);
        for (size_t i = 0; i < n; i++) {
            const char *item = j->string_value(j->array_get(t, i));
            if (item && list_has(item, type))
                return true;
        }
    }
    return false;
}

const char *jcard_kind(const rdapsync_json_api *j, rdapsync_value *vcard)
{
    rdapsync_value *list = j->array_get(vcard, 1);
    size_t n = j->array_size(list);

    for (size_t i = 0; i < n; i++) {
        rdapsync_value *prop = j->array_get(list, i);
        const char *name = j->string_value(j->array_get(prop, 0));
        if (name && strcasecmp(name, "kind") == 0)
            return j->string_value(j->array_get(prop, 3));
    }
    return NULL;
}
