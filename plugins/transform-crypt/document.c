/*
 * Whole documents and chosen paths (crypt.h). Both walks first find their
 * places and only then change the document, so nothing is changed while it
 * is being iterated, and decrypt can refuse a record without having opened
 * half of it.
 */
#include "crypt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpath.h"

/* One place in the document: a member of an object or an item of an array. */
typedef struct place {
    rdapsync_value *parent; /* borrowed; NULL: the root */
    char *name;             /* owned; NULL for an array item */
    size_t index;
    char *path;               /* owned */
    rdapsync_value *current; /* borrowed */
    rdapsync_value *result;  /* owned until applied */
} place;

typedef struct places {
    place *items;
    size_t count, cap;
} places;

static void places_free(const rdapsync_json_api *j, places *ps)
{
    for (size_t i = 0; i < ps->count; i++) {
        free(ps->items[i].name);
        free(ps->items[i].path);
        j->decref(ps->items[i].result);
    }
    free(ps->items);
    memset(ps, 0, sizeof *ps);
}

static int places_add(places *ps, rdapsync_value *parent, const char *name, size_t index, const char *path,
                      rdapsync_value *current)
{
    place *p;

    if (ps->count == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 8;
        place *grown = realloc(ps->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        ps->items = grown;
        ps->cap = cap;
    }
    p = &ps->items[ps->count];
    memset(p, 0, sizeof *p);
    p->parent = parent;
    p->index = index;
    p->current = current;
    if ((name && !(p->name = strdup(name))) || !(p->path = strdup(path))) {
        free(p->name);
        return -1;
    }
    ps->count++;
    return 0;
}

/* Puts every result in its place; steals them. */
static int places_apply(const rdapsync_json_api *j, places *ps, rdapsync_value **doc)
{
    int rc = 0;

    for (size_t i = 0; i < ps->count; i++) {
        place *p = &ps->items[i];
        rdapsync_value *v = p->result;

        p->result = NULL;
        if (!p->parent) {
            j->decref(*doc);
            *doc = v;
        } else if ((p->name ? j->object_set(p->parent, p->name, v) : j->array_set(p->parent, p->index, v)) != 0) {
            rc = -1;
        }
    }
    return rc;
}

/* ---- encrypt ---- */

int crypt_paths_check(const crypt_paths *paths, char *err, size_t err_size)
{
    for (size_t i = 0; i < paths->count; i++)
        if (paths->items[i][0] != '$') {
            snprintf(err, err_size, "path \"%s\" must start with $ (JSONPath as in RFC 9537 entries: $.entities[*].vcardArray)",
                     paths->items[i]);
            return -1;
        }
    return 0;
}

/* The strongest relation of the current path to any pattern. */
static jpath_relation relation(const crypt_paths *paths, const jpath *at)
{
    jpath_relation best = JPATH_UNRELATED;

    for (size_t i = 0; i < paths->count && best != JPATH_EQUAL; i++) {
        jpath_relation r = jpath_match(paths->items[i], jpath_str(at));
        if (r > best)
            best = r;
    }
    return best;
}

static int find_selected(const rdapsync_json_api *j, const crypt_paths *paths, rdapsync_value *node, jpath *at,
                         places *ps);

static int visit_selected(const rdapsync_json_api *j, const crypt_paths *paths, rdapsync_value *parent,
                          const char *name, size_t index, rdapsync_value *child, jpath *at, places *ps)
{
    size_t mark = name ? jpath_push_key(at, name) : jpath_push_index(at, index);
    jpath_relation r = relation(paths, at);
    int rc = 0;

    if (r == JPATH_EQUAL)
        rc = places_add(ps, parent, name, index, jpath_str(at), child);
    else if (r == JPATH_ABOVE)
        rc = find_selected(j, paths, child, at, ps);
    jpath_pop(at, mark);
    return rc;
}

static int find_selected(const rdapsync_json_api *j, const crypt_paths *paths, rdapsync_value *node, jpath *at,
                         places *ps)
{
    if (j->type(node) == RDAPSYNC_JSON_OBJECT) {
        for (rdapsync_value_iter *it = j->object_iter(node); it; it = j->object_iter_next(node, it))
            if (visit_selected(j, paths, node, j->object_iter_key(it), 0, j->object_iter_value(it), at, ps) != 0)
                return -1;
    } else if (j->type(node) == RDAPSYNC_JSON_ARRAY) {
        for (size_t i = 0, n = j->array_size(node); i < n; i++)
            if (visit_selected(j, paths, node, NULL, i, j->array_get(node, i), at, ps) != 0)
                return -1;
    }
    return 0;
}

static bool whole_document(const crypt_paths *paths)
{
    for (size_t i = 0; i < paths->count; i++)
        if (strcmp(paths->items[i], "$") == 0)
            return true;
    return paths->count == 0;
}

int crypt_encrypt_document(const rdapsync_host *host, const crypt_seal_options *options, const crypt_paths *paths,
                           rdapsync_value **doc, const crypt_binding *record, size_t *sealed, char *err,
                           size_t err_size)
{
    const rdapsync_json_api *j = host->json;
    places ps = {0};
    jpath at;
    int rc = -1;

    *sealed = 0;
    jpath_init(&at);
    if (whole_document(paths) ? places_add(&ps, NULL, NULL, 0, "$", *doc) != 0
                              : find_selected(j, paths, *doc, &at, &ps) != 0) {
        snprintf(err, err_size, "out of memory walking the document");
        goto out;
    }
    for (size_t i = 0; i < ps.count; i++) {
        crypt_binding b = *record;
        b.path = ps.items[i].path;
        if (!(ps.items[i].result = crypt_seal(host, options, ps.items[i].current, &b, err, err_size)))
            goto out;
    }
    if (places_apply(j, &ps, doc) != 0) {
        snprintf(err, err_size, "out of memory placing the envelopes");
        goto out;
    }
    *sealed = ps.count;
    rc = 0;
out:
    places_free(j, &ps);
    return rc;
}

/* ---- decrypt ---- */

static int find_envelopes(const rdapsync_json_api *j, rdapsync_value *node, int depth, int max_depth, jpath *at,
                          places *ps, char *err, size_t err_size);

static int visit_envelope(const rdapsync_json_api *j, rdapsync_value *parent, const char *name, size_t index,
                          rdapsync_value *child, int depth, int max_depth, jpath *at, places *ps, char *err,
                          size_t err_size)
{
    size_t mark = name ? jpath_push_key(at, name) : jpath_push_index(at, index);
    int rc = 0;

    if (crypt_is_envelope(j, child)) {
        if (places_add(ps, parent, name, index, jpath_str(at), child) != 0) {
            snprintf(err, err_size, "out of memory walking the document");
            rc = -1;
        }
    } else {
        rc = find_envelopes(j, child, depth + 1, max_depth, at, ps, err, err_size);
    }
    jpath_pop(at, mark);
    return rc;
}

static int find_envelopes(const rdapsync_json_api *j, rdapsync_value *node, int depth, int max_depth, jpath *at,
                          places *ps, char *err, size_t err_size)
{
    rdapsync_value_type t = j->type(node);

    if (t != RDAPSYNC_JSON_OBJECT && t != RDAPSYNC_JSON_ARRAY)
        return 0;
    /* An envelope below the walk would pass through encrypted: refuse instead. */
    if (depth >= max_depth) {
        snprintf(err, err_size, "%s: nested deeper than max_depth %d", jpath_str(at), max_depth);
        return -1;
    }
    if (t == RDAPSYNC_JSON_OBJECT) {
        for (rdapsync_value_iter *it = j->object_iter(node); it; it = j->object_iter_next(node, it))
            if (visit_envelope(j, node, j->object_iter_key(it), 0, j->object_iter_value(it), depth, max_depth, at,
                               ps, err, err_size) != 0)
                return -1;
    } else {
        for (size_t i = 0, n = j->array_size(node); i < n; i++)
            if (visit_envelope(j, node, NULL, i, j->array_get(node, i), depth, max_depth, at, ps, err, err_size) != 0)
                return -1;
    }
    return 0;
}

int crypt_decrypt_document(const rdapsync_host *host, const keyring *ring, size_t max_size, int max_depth,
                           rdapsync_value **doc, const crypt_binding *record, size_t *opened, char *err,
                           size_t err_size)
{
    const rdapsync_json_api *j = host->json;
    places ps = {0};
    jpath at;
    int rc = -1;

    *opened = 0;
    jpath_init(&at);
    if (crypt_is_envelope(j, *doc)) {
        if (places_add(&ps, NULL, NULL, 0, "$", *doc) != 0) {
            snprintf(err, err_size, "out of memory walking the document");
            goto out;
        }
    } else if (find_envelopes(j, *doc, 0, max_depth, &at, &ps, err, err_size) != 0) {
        goto out;
    }
    for (size_t i = 0; i < ps.count; i++) {
        crypt_binding b = *record;
        b.path = ps.items[i].path;
        if (!(ps.items[i].result = crypt_unseal(host, ring, ps.items[i].current, &b, max_size, err, err_size)))
            goto out;
    }
    if (places_apply(j, &ps, doc) != 0) {
        snprintf(err, err_size, "out of memory placing the decrypted values");
        goto out;
    }
    *opened = ps.count;
    rc = 0;
out:
    places_free(j, &ps);
    return rc;
}
