/*
 * Building the migrate transform's plan from its config (mplan.h): every
 * error names its place as "@PATH: reason" for the host to turn into
 * file:line:column.
 */
#include "mplan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE ((size_t)-1)

static const char *const step_names[MSTEP_COUNT] = {"rename", "move", "set_default", "drop", "lowercase", "map"};

static int fail(char *err, size_t err_size, const char *fmt, ...) RDAPSYNC_PRINTF(3, 4);

static int fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return -1;
}

int mplan_version(const char *text, long *major, long *minor)
{
    char *end;
    if (!text || !isdigit((unsigned char)text[0]))
        return -1;
    *major = strtol(text, &end, 10);
    if (*end != '.' || !isdigit((unsigned char)end[1]))
        return -1;
    *minor = strtol(end + 1, &end, 10);
    return *end ? -1 : 0;
}

size_t mplan_find(const mplan *plan, const char *version)
{
    long major, minor, m2, n2;
    if (mplan_version(version, &major, &minor) != 0)
        return NONE;
    for (size_t i = 0; i < plan->version_count; i++)
        if (mplan_version(plan->versions[i], &m2, &n2) == 0 && m2 == major && n2 == minor)
            return i;
    return NONE;
}

/* The index of `version`, added when new; NONE on allocation failure. */
static size_t intern(mplan *plan, const char *version)
{
    size_t at = mplan_find(plan, version);
    if (at != NONE)
        return at;
    char **versions = realloc(plan->versions, (plan->version_count + 1) * sizeof *versions);
    if (!versions)
        return NONE;
    plan->versions = versions;
    versions[plan->version_count] = strdup(version);
    if (!versions[plan->version_count])
        return NONE;
    return plan->version_count++;
}

/* A version member "from"/"to" of a migration: a "MAJOR.MINOR" string. */
static const char *version_member(const rdapsync_json_api *j, rdapsync_value *m, const char *name, size_t index,
                                   char *err, size_t err_size)
{
    rdapsync_value *v = j->object_get(m, name);
    const char *text = j->string_value(v);
    long major, minor;
    if (!v) {
        fail(err, err_size, "@migrations[%zu]: missing '%s' (a version such as \"1.0\")", index, name);
        return NULL;
    }
    if (!text || mplan_version(text, &major, &minor) != 0) {
        fail(err, err_size, "@migrations[%zu].%s: a version is written MAJOR.MINOR, e.g. \"1.0\"", index, name);
        return NULL;
    }
    return text;
}

/* A path argument: a string or { path: STRING }. */
static int path_arg(const rdapsync_json_api *j, rdapsync_value *arg, const char *member, docpath *out,
                    const char *where, char *err, size_t err_size)
{
    rdapsync_value *v = member ? j->object_get(arg, member) : arg;
    char reason[256];
    if (!v || j->type(v) != RDAPSYNC_JSON_STRING)
        return fail(err, err_size, "@%s: '%s' must be a path such as \"$.source.port43\"", where,
                    member ? member : "path");
    if (docpath_parse(j->string_value(v), out, reason, sizeof reason) != 0)
        return fail(err, err_size, "@%s: path '%s': %s", where, j->string_value(v), reason);
    return 0;
}

static int check_members(const rdapsync_json_api *j, rdapsync_value *arg, const char *const *allowed,
                         const char *where, const char *kind, char *err, size_t err_size)
{
    for (rdapsync_value_iter *it = j->object_iter(arg); it; it = j->object_iter_next(arg, it)) {
        const char *key = j->object_iter_key(it);
        bool known = false;
        for (size_t i = 0; allowed[i]; i++)
            known |= strcmp(allowed[i], key) == 0;
        if (!known)
            return fail(err, err_size, "@%s: unknown member '%s' of a %s step", where, key, kind);
    }
    return 0;
}

static int read_step(const rdapsync_json_api *j, rdapsync_value *s, mstep *step, const char *where, char *err,
                     size_t err_size)
{
    static const char *const pair[] = {"from", "to", NULL};
    static const char *const with_value[] = {"path", "value", NULL};
    static const char *const with_values[] = {"path", "values", NULL};
    static const char *const only_path[] = {"path", NULL};
    if (j->type(s) != RDAPSYNC_JSON_OBJECT || j->object_size(s) != 1)
        return fail(err, err_size, "@%s: a step is a mapping with one kind: rename, move, set_default, drop, "
                    "lowercase or map", where);
    rdapsync_value_iter *it = j->object_iter(s);
    const char *kind = j->object_iter_key(it);
    rdapsync_value *arg = j->object_iter_value(it);
    int k = -1;
    for (int i = 0; i < MSTEP_COUNT; i++)
        if (strcmp(step_names[i], kind) == 0)
            k = i;
    if (k < 0)
        return fail(err, err_size, "@%s: unknown step kind '%s' (known: rename, move, set_default, drop, "
                    "lowercase, map)", where, kind);
    step->kind = (mstep_kind)k;
    bool object = j->type(arg) == RDAPSYNC_JSON_OBJECT;
    switch (step->kind) {
    case MSTEP_RENAME:
    case MSTEP_MOVE: {
        if (!object || check_members(j, arg, pair, where, kind, err, err_size) != 0)
            return object ? -1 : fail(err, err_size, "@%s: %s takes { from: PATH, to: %s }", where, kind,
                                      step->kind == MSTEP_RENAME ? "NAME" : "PATH");
        if (path_arg(j, arg, "from", &step->path, where, err, err_size) != 0)
            return -1;
        if (step->path.segs[step->path.count - 1].kind != DOCPATH_KEY)
            return fail(err, err_size, "@%s: %s works on object members: the path must end in a name", where, kind);
        if (step->kind == MSTEP_MOVE) {
            if (path_arg(j, arg, "to", &step->to, where, err, err_size) != 0)
                return -1;
            if (step->path.wildcard || step->to.wildcard || step->to.segs[step->to.count - 1].kind != DOCPATH_KEY)
                return fail(err, err_size, "@%s: move takes paths without [*] that end in a name", where);
            return 0;
        }
        const char *name = j->string_value(j->object_get(arg, "to"));
        if (!name || !*name || strpbrk(name, ".[]$"))
            return fail(err, err_size, "@%s: rename's 'to' is a member name (use move for another place)", where);
        step->name = strdup(name);
        return step->name ? 0 : fail(err, err_size, "@%s: out of memory", where);
    }
    case MSTEP_SET_DEFAULT:
        if (!object || check_members(j, arg, with_value, where, kind, err, err_size) != 0 ||
            !j->object_get(arg, "value"))
            return fail(err, err_size, "@%s: set_default takes { path: PATH, value: VALUE }", where);
        if (path_arg(j, arg, "path", &step->path, where, err, err_size) != 0)
            return -1;
        step->value = j->incref(j->object_get(arg, "value"));
        return 0;
    case MSTEP_DROP:
    case MSTEP_LOWERCASE:
        if (object && check_members(j, arg, only_path, where, kind, err, err_size) != 0)
            return -1;
        if (path_arg(j, arg, object ? "path" : NULL, &step->path, where, err, err_size) != 0)
            return -1;
        if (step->kind == MSTEP_DROP && step->path.segs[step->path.count - 1].kind == DOCPATH_ANY)
            return fail(err, err_size, "@%s: drop of every item: drop the array itself", where);
        return 0;
    case MSTEP_MAP: {
        rdapsync_value *values = object ? j->object_get(arg, "values") : NULL;
        if (!object || check_members(j, arg, with_values, where, kind, err, err_size) != 0 ||
            j->type(values) != RDAPSYNC_JSON_OBJECT)
            return fail(err, err_size, "@%s: map takes { path: PATH, values: { OLD: NEW, ... } }", where);
        if (path_arg(j, arg, "path", &step->path, where, err, err_size) != 0)
            return -1;
        step->value = j->incref(values);
        return 0;
    }
    case MSTEP_COUNT: break;
    }
    return -1;
}

static int read_migration(mplan *plan, rdapsync_value *m, size_t index, char *err, size_t err_size)
{
    const rdapsync_json_api *j = plan->j;
    static const char *const allowed[] = {"from", "to", "steps", NULL};
    char where[64];
    snprintf(where, sizeof where, "migrations[%zu]", index);
    if (j->type(m) != RDAPSYNC_JSON_OBJECT)
        return fail(err, err_size, "@%s: a migration is { from: VERSION, to: VERSION, steps: [...] }", where);
    for (rdapsync_value_iter *it = j->object_iter(m); it; it = j->object_iter_next(m, it))
        for (size_t i = 0, known = 0; !known; i++) {
            if (!allowed[i])
                return fail(err, err_size, "@%s: unknown member '%s' (from, to, steps)", where,
                            j->object_iter_key(it));
            known = strcmp(allowed[i], j->object_iter_key(it)) == 0;
        }
    const char *from = version_member(j, m, "from", index, err, err_size);
    const char *to = from ? version_member(j, m, "to", index, err, err_size) : NULL;
    if (!to)
        return -1;
    medge *e = &plan->edges[plan->edge_count];
    memset(e, 0, sizeof *e);
    e->from = intern(plan, from);
    e->to = intern(plan, to);
    if (e->from == NONE || e->to == NONE)
        return fail(err, err_size, "@%s: out of memory", where);
    plan->edge_count++;
    if (e->from == e->to)
        return fail(err, err_size, "@%s: migrates %s to itself", where, from);
    for (size_t i = 0; i + 1 < plan->edge_count; i++)
        if (plan->edges[i].from == e->from && plan->edges[i].to == e->to)
            return fail(err, err_size, "@%s: a second migration from %s to %s (the first is migrations[%zu])",
                        where, from, to, i);
    rdapsync_value *steps = j->object_get(m, "steps");
    if (j->type(steps) != RDAPSYNC_JSON_ARRAY)
        return fail(err, err_size, "@%s: 'steps' must be a list (may be empty: [])", where);
    e->steps = calloc(j->array_size(steps) + 1, sizeof *e->steps);
    if (!e->steps)
        return fail(err, err_size, "@%s: out of memory", where);
    for (size_t i = 0; i < j->array_size(steps); i++) {
        char at[96];
        snprintf(at, sizeof at, "%s.steps[%zu]", where, i);
        e->step_count++;
        if (read_step(j, j->array_get(steps, i), &e->steps[i], at, err, err_size) != 0)
            return -1;
    }
    return 0;
}

/* Depth-first search for a cycle; colour 0 new, 1 on the stack, 2 done. */
static size_t find_cycle(const mplan *plan, size_t v, int *colour, size_t *via)
{
    colour[v] = 1;
    for (size_t i = 0; i < plan->edge_count; i++) {
        const medge *e = &plan->edges[i];
        if (e->from != v)
            continue;
        via[e->to] = i;
        if (colour[e->to] == 1)
            return i;
        if (colour[e->to] == 0) {
            size_t found = find_cycle(plan, e->to, colour, via);
            if (found != NONE)
                return found;
        }
    }
    colour[v] = 2;
    return NONE;
}

static int check_cycles(const mplan *plan, char *err, size_t err_size)
{
    int *colour = calloc(plan->version_count + 1, sizeof *colour);
    size_t *via = calloc(plan->version_count + 1, sizeof *via);
    int rc = 0;
    if (!colour || !via) {
        rc = fail(err, err_size, "@migrations: out of memory");
        goto out;
    }
    for (size_t v = 0; v < plan->version_count && rc == 0; v++) {
        if (colour[v])
            continue;
        size_t closing = find_cycle(plan, v, colour, via);
        if (closing == NONE)
            continue;
        /* Walk back from the edge that closed the cycle to name it. */
        char path[512];
        size_t used = 0, at = plan->edges[closing].to, guard = 0;
        used += (size_t)snprintf(path, sizeof path, "%s", plan->versions[at]);
        size_t e = closing;
        do {
            at = plan->edges[e].from;
            if (used < sizeof path)
                used += (size_t)snprintf(path + used, sizeof path - used, " <- %s", plan->versions[at]);
            e = via[at];
        } while (at != plan->edges[closing].to && ++guard <= plan->version_count);
        rc = fail(err, err_size, "@migrations[%zu]: the migrations form a cycle (%s)", closing, path);
    }
out:
    free(colour);
    free(via);
    return rc;
}

/* Breadth-first from the target over reversed edges: the shortest path. */
static int route(mplan *plan, char *err, size_t err_size)
{
    size_t n = plan->version_count;
    size_t *queue = calloc(n + 1, sizeof *queue);
    plan->next = calloc(n + 1, sizeof *plan->next);
    if (!queue || !plan->next) {
        free(queue);
        return fail(err, err_size, "@migrations: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        plan->next[i] = NONE;
    bool *seen = calloc(n + 1, sizeof *seen);
    if (!seen) {
        free(queue);
        return fail(err, err_size, "@migrations: out of memory");
    }
    size_t head = 0, tail = 0;
    queue[tail++] = plan->target;
    seen[plan->target] = true;
    while (head < tail) {
        size_t v = queue[head++];
        for (size_t i = 0; i < plan->edge_count; i++) {
            const medge *e = &plan->edges[i];
            if (e->to != v || seen[e->from])
                continue;
            seen[e->from] = true;
            plan->next[e->from] = i;
            queue[tail++] = e->from;
        }
    }
    free(queue);
    free(seen);
    return 0;
}

/* Every version a migration starts from that is older than the target must reach it. */
static int check_reachable(const mplan *plan, char *err, size_t err_size)
{
    long tmaj, tmin, maj, min;
    mplan_version(plan->versions[plan->target], &tmaj, &tmin);
    for (size_t i = 0; i < plan->edge_count; i++) {
        size_t v = plan->edges[i].from;
        mplan_version(plan->versions[v], &maj, &min);
        bool older = maj < tmaj || (maj == tmaj && min < tmin);
        if (older && v != plan->target && plan->next[v] == NONE)
            return fail(err, err_size, "@migrations[%zu]: the target %s is unreachable from %s (no chain of "
                        "migrations leads there)", i, plan->versions[plan->target], plan->versions[v]);
    }
    return 0;
}

int mplan_build(const rdapsync_json_api *j, const char *target, const char *migrations, mplan *plan, char *err,
                size_t err_size)
{
    char reason[256];
    long major, minor;
    memset(plan, 0, sizeof *plan);
    plan->j = j;
    if (!target || mplan_version(target, &major, &minor) != 0)
        return fail(err, err_size, "@target: a version is written MAJOR.MINOR, e.g. \"1.1\"");
    plan->root = j->parse(migrations ? migrations : "[]", migrations ? strlen(migrations) : 2, reason, sizeof reason);
    if (!plan->root)
        return fail(err, err_size, "@migrations: %s", reason);
    if (j->type(plan->root) != RDAPSYNC_JSON_ARRAY) {
        mplan_free(plan);
        return fail(err, err_size, "@migrations: a list of { from, to, steps }");
    }
    size_t count = j->array_size(plan->root);
    plan->edges = calloc(count + 1, sizeof *plan->edges);
    plan->target = plan->edges ? intern(plan, target) : NONE;
    int rc = plan->target == NONE ? fail(err, err_size, "@target: out of memory") : 0;
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = read_migration(plan, j->array_get(plan->root, i), i, err, err_size);
    if (rc == 0)
        rc = check_cycles(plan, err, err_size);
    if (rc == 0)
        rc = route(plan, err, err_size);
    if (rc == 0 && count) {
        bool reached = false;
        for (size_t i = 0; i < plan->edge_count; i++)
            reached |= plan->edges[i].to == plan->target;
        if (!reached)
            rc = fail(err, err_size, "@target: no migration leads to %s (the targets of the migrations are "
                      "unreachable)", target);
    }
    if (rc == 0)
        rc = check_reachable(plan, err, err_size);
    if (rc != 0)
        mplan_free(plan);
    return rc;
}

void mplan_free(mplan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->edge_count; i++) {
        for (size_t k = 0; k < plan->edges[i].step_count; k++) {
            mstep *s = &plan->edges[i].steps[k];
            docpath_free(&s->path);
            docpath_free(&s->to);
            free(s->name);
            if (plan->j)
                plan->j->decref(s->value);
        }
        free(plan->edges[i].steps);
    }
    free(plan->edges);
    for (size_t i = 0; i < plan->version_count; i++)
        free(plan->versions[i]);
    free(plan->versions);
    free(plan->next);
    if (plan->j)
        plan->j->decref(plan->root);
    memset(plan, 0, sizeof *plan);
}
