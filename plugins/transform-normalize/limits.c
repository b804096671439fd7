#include "limits.h"

#include "jpath.h"
#include "rdapjson.h"

typedef struct walk {
    const rdapsync_json_api *j;
    int max_depth;
    size_t max_string;
    bool with_path; /* the second, slow pass that names the place */
    jpath path;
    char *err;
    size_t err_size;
} walk;

static int check_string(walk *w, size_t len, const char *what)
{
    if (w->max_string && len > w->max_string) {
        if (w->with_path)
            rj_fail(w->err, w->err_size, &w->path, "%s of %zu bytes is longer than max_string (%zu)", what, len,
                    w->max_string);
        return -1;
    }
    return 0;
}

/* Recursion is bounded by max_depth: deeper levels are refused, not entered.
 * The first pass keeps no path (it runs for every record); only a record
 * that fails is walked again to name the place. */
static int check_value(walk *w, rdapsync_value *value, int depth)
{
    const rdapsync_json_api *j = w->j;
    rdapsync_value_type type = j->type(value);

    if (type == RDAPSYNC_JSON_STRING)
        return check_string(w, j->string_length(value), "string");
    if (type != RDAPSYNC_JSON_ARRAY && type != RDAPSYNC_JSON_OBJECT)
        return 0;
    if (depth >= w->max_depth) {
        if (w->with_path)
            rj_fail(w->err, w->err_size, &w->path, "nesting deeper than max_depth (%d)", w->max_depth);
        return -1;
    }
    if (type == RDAPSYNC_JSON_ARRAY) {
        size_t n = j->array_size(value);
        for (size_t i = 0; i < n; i++) {
            size_t mark = w->with_path ? jpath_push_index(&w->path, i) : 0;
            if (check_value(w, j->array_get(value, i), depth + 1) != 0)
                return -1;
            if (w->with_path)
                jpath_pop(&w->path, mark);
        }
        return 0;
    }
    for (rdapsync_value_iter *it = j->object_iter(value); it; it = j->object_iter_next(value, it)) {
        const char *key = j->object_iter_key(it);
        /* A huge member name is reported at its parent: naming it would copy it. */
        if (w->max_string && check_string(w, strlen(key), "member name") != 0)
            return -1;
        size_t mark = w->with_path ? jpath_push_key(&w->path, key) : 0;
        if (check_value(w, j->object_iter_value(it), depth + 1) != 0)
            return -1;
        if (w->with_path)
            jpath_pop(&w->path, mark);
    }
    return 0;
}

int limits_check(const rdapsync_json_api *json, const rdapsync_value *doc, int max_depth, size_t max_string,
                 char *err, size_t err_size)
{
    walk w = {.j = json, .max_depth = max_depth, .max_string = max_string, .err = err, .err_size = err_size};

    jpath_init(&w.path);
    if (RDAPSYNC_HAS(rdapsync_json_api, json, measure)) {
        /* The host walks its own tree in a fraction of the time the
         * accessors take; only a record over a limit is walked here. */
        rdapsync_json_shape shape;
        json->measure(doc, max_depth, &shape);
        if (shape.depth <= max_depth && (!max_string || shape.longest <= max_string))
            return 0;
    } else if (check_value(&w, (rdapsync_value *)doc, 0) == 0) {
        return 0;
    }
    w.with_path = true;
    return check_value(&w, (rdapsync_value *)doc, 0) == 0 ? 0 : -1;
}
