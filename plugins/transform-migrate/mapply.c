/* Migrating one document along the plan's shortest path (mplan.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mplan.h"

#define NONE ((size_t)-1)

typedef struct step_ctx {
    const rdapsync_json_api *j;
    const mstep *step;
} step_ctx;

static int do_rename(rdapsync_value *parent, const docpath_seg *last, void *opaque)
{
    step_ctx *c = opaque;
    const rdapsync_json_api *j = c->j;
    rdapsync_value *v = docpath_child(j, parent, last);
    if (!v || j->type(parent) != RDAPSYNC_JSON_OBJECT)
        return 0; /* absent here: nothing to rename */
    if (j->object_set(parent, c->step->name, j->incref(v)) != 0)
        return -1;
    j->object_del(parent, last->key);
    return 0;
}

static int do_default(rdapsync_value *parent, const docpath_seg *last, void *opaque)
{
    step_ctx *c = opaque;
    rdapsync_value *v = docpath_child(c->j, parent, last);
    if (v && c->j->type(v) != RDAPSYNC_JSON_NULL)
        return 0;
    if (last->kind == DOCPATH_KEY && c->j->type(parent) != RDAPSYNC_JSON_OBJECT)
        return 0;
    rdapsync_value *copy = c->j->deep_copy(c->step->value);
    return copy && docpath_store(c->j, parent, last, copy) == 0 ? 0 : -1;
}

static int do_drop(rdapsync_value *parent, const docpath_seg *last, void *opaque)
{
    step_ctx *c = opaque;
    docpath_remove(c->j, parent, last); /* absent is fine */
    return 0;
}

/* Replaces the string at `last` by new_value (stolen); 0 or -1. */
static int replace(const rdapsync_json_api *j, rdapsync_value *parent, const docpath_seg *last,
                   rdapsync_value *new_value)
{
    return new_value && docpath_store(j, parent, last, new_value) == 0 ? 0 : -1;
}

static int lower_one(const rdapsync_json_api *j, rdapsync_value *parent, const docpath_seg *last)
{
    rdapsync_value *v = docpath_child(j, parent, last);
    if (j->type(v) != RDAPSYNC_JSON_STRING)
        return 0;
    size_t n = j->string_length(v);
    const char *s = j->string_value(v);
    bool upper = false;
    for (size_t i = 0; i < n; i++)
        upper |= s[i] >= 'A' && s[i] <= 'Z';
    if (!upper)
        return 0;
    char *copy = malloc(n + 1);
    if (!copy)
        return -1;
    for (size_t i = 0; i < n; i++)
        copy[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    copy[n] = '\0';
    int rc = replace(j, parent, last, j->string_new(copy, n));
    free(copy);
    return rc;
}

static int map_one(const rdapsync_json_api *j, const rdapsync_value *table, rdapsync_value *parent,
                   const docpath_seg *last)
{
    rdapsync_value *v = docpath_child(j, parent, last);
    if (j->type(v) != RDAPSYNC_JSON_STRING)
        return 0;
    rdapsync_value *to = j->object_get(table, j->string_value(v));
    return to ? replace(j, parent, last, j->deep_copy(to)) : 0;
}

/* lowercase and map act on a string, or on each string of an array. */
static int do_values(rdapsync_value *parent, const docpath_seg *last, void *opaque)
{
    step_ctx *c = opaque;
    const rdapsync_json_api *j = c->j;
    rdapsync_value *v = docpath_child(j, parent, last);
    if (j->type(v) == RDAPSYNC_JSON_ARRAY) {
        docpath_seg item = {.kind = DOCPATH_INDEX};
        for (size_t i = 0; i < j->array_size(v); i++) {
            item.index = i;
            int rc = c->step->kind == MSTEP_MAP ? map_one(j, c->step->value, v, &item) : lower_one(j, v, &item);
            if (rc)
                return rc;
        }
        return 0;
    }
    return c->step->kind == MSTEP_MAP ? map_one(j, c->step->value, parent, last) : lower_one(j, parent, last);
}

static int do_move(const rdapsync_json_api *j, rdapsync_value *doc, const mstep *step)
{
    rdapsync_value *parent = doc;
    for (size_t i = 0; parent && i + 1 < step->path.count; i++)
        parent = docpath_child(j, parent, &step->path.segs[i]);
    const docpath_seg *last = &step->path.segs[step->path.count - 1];
    rdapsync_value *v = parent ? docpath_child(j, parent, last) : NULL;
    if (!v)
        return 0;
    j->incref(v);
    docpath_remove(j, parent, last);
    /* Intermediate objects of the destination are created as needed. */
    rdapsync_value *at = doc;
    for (size_t i = 0; i + 1 < step->to.count; i++) {
        const docpath_seg *s = &step->to.segs[i];
        rdapsync_value *next = docpath_child(j, at, s);
        if (!next && s->kind == DOCPATH_KEY && j->type(at) == RDAPSYNC_JSON_OBJECT) {
            if (j->object_set(at, s->key, j->object_new()) != 0) {
                j->decref(v);
                return -1;
            }
            next = j->object_get(at, s->key);
        }
        if (!next || j->type(next) != RDAPSYNC_JSON_OBJECT) {
            j->decref(v);
            return -2;
        }
        at = next;
    }
    return docpath_store(j, at, &step->to.segs[step->to.count - 1], v);
}

static int run_step(const rdapsync_json_api *j, rdapsync_value *doc, const mstep *step)
{
    step_ctx c = {j, step};
    switch (step->kind) {
    case MSTEP_RENAME: return docpath_each_parent(j, doc, &step->path, false, do_rename, &c);
    case MSTEP_MOVE: return do_move(j, doc, step);
    case MSTEP_SET_DEFAULT: return docpath_each_parent(j, doc, &step->path, true, do_default, &c);
    case MSTEP_DROP: return docpath_each_parent(j, doc, &step->path, false, do_drop, &c);
    case MSTEP_LOWERCASE:
    case MSTEP_MAP: return docpath_each_parent(j, doc, &step->path, false, do_values, &c);
    case MSTEP_COUNT: break;
    }
    return -1;
}

static const char *step_name(mstep_kind kind)
{
    static const char *const names[MSTEP_COUNT] = {"rename", "move", "set_default", "drop", "lowercase", "map"};
    return kind < MSTEP_COUNT ? names[kind] : "?";
}

int mplan_apply(const mplan *plan, rdapsync_value *doc, const char *assume, bool *migrated, char *err,
                size_t err_size)
{
    const rdapsync_json_api *j = plan->j;
    const char *target = plan->versions[plan->target];
    rdapsync_value *stamp = j->object_get(doc, "_schemaVersion");
    const char *from = stamp ? j->string_value(stamp) : assume;
    long maj, min, tmaj, tmin;

    *migrated = false;
    if (j->type(doc) != RDAPSYNC_JSON_OBJECT) {
        snprintf(err, err_size, "migrate: the document is not an object");
        return -1;
    }
    if (!from) {
        snprintf(err, err_size, "migrate: the document has no _schemaVersion%s", stamp ? " string" : "");
        return -1;
    }
    if (mplan_version(from, &maj, &min) != 0) {
        snprintf(err, err_size, "migrate: _schemaVersion '%.64s' is not MAJOR.MINOR", from);
        return -1;
    }
    mplan_version(target, &tmaj, &tmin);
    if (maj == tmaj && min == tmin)
        return 0;
    if (maj > tmaj) {
        snprintf(err, err_size, "migrate: schema version %s is of a newer major than the target %s", from, target);
        return -1;
    }
    size_t v = mplan_find(plan, from);
    if (v == NONE || plan->next[v] == NONE) {
        snprintf(err, err_size, "migrate: no migration path from schema version %s to %s", from, target);
        return -1;
    }
    /* `from` may point into the document (its own _schemaVersion): keep a copy. */
    char origin[64];
    snprintf(origin, sizeof origin, "%s", from);
    rdapsync_value *path = j->array_new();
    if (!path || j->array_append(path, j->string_new(origin, strlen(origin))) != 0)
        goto nomem;
    for (size_t guard = 0; v != plan->target && guard <= plan->edge_count; guard++) {
        const medge *e = &plan->edges[plan->next[v]];
        for (size_t k = 0; k < e->step_count; k++) {
            int rc = run_step(j, doc, &e->steps[k]);
            if (rc == -1)
                goto nomem;
            if (rc != 0) {
                snprintf(err, err_size, "migrate: %s -> %s, step %zu (%s): the destination's parent is not an object",
                         plan->versions[e->from], plan->versions[e->to], k, step_name(e->steps[k].kind));
                j->decref(path);
                return -1;
            }
        }
        v = e->to;
        if (j->array_append(path, j->string_new(plan->versions[v], strlen(plan->versions[v]))) != 0)
            goto nomem;
    }
    rdapsync_value *record = j->object_new();
    if (!record)
        goto nomem;
    if (j->object_set(record, "from", j->string_new(origin, strlen(origin))) != 0) {
        j->decref(record);
        goto nomem;
    }
    if (j->object_set(record, "path", path) != 0) { /* stolen even on failure */
        j->decref(record);
        goto nomem_nopath;
    }
    if (j->object_set(doc, "_migration", record) != 0 ||
        j->object_set(doc, "_schemaVersion", j->string_new(target, strlen(target))) != 0)
        goto nomem_nopath;
    *migrated = true;
    return 0;
nomem:
    j->decref(path);
nomem_nopath:
    snprintf(err, err_size, "migrate: out of memory");
    return -1;
}
