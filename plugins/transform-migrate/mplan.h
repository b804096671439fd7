/*
 * The migrate transform's plan: the migrations declared in its config,
 * checked (step kinds, paths, cycles, reachability of the target) and
 * turned into the shortest path from every known version to the target.
 * Pure logic over the SDK's JSON table, so check(), open() and the unit
 * tests run the same code.
 */
#ifndef RDAPSYNC_MPLAN_H
#define RDAPSYNC_MPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include <rdapsync/rdapsync.h>

#include "docpath.h"

typedef enum mstep_kind {
    MSTEP_RENAME = 0, /* { rename: { from: PATH, to: NAME } }: same parent, new member name */
    MSTEP_MOVE,       /* { move: { from: PATH, to: PATH } }: anywhere, parents created */
    MSTEP_SET_DEFAULT,/* { set_default: { path: PATH, value: ANY } }: when absent or null */
    MSTEP_DROP,       /* { drop: PATH } or { drop: { path: PATH } } */
    MSTEP_LOWERCASE,  /* { lowercase: PATH } or { lowercase: { path: PATH } }: strings, ASCII */
    MSTEP_MAP,        /* { map: { path: PATH, values: { OLD: NEW, ... } } }: string values */
    MSTEP_COUNT
} mstep_kind;

typedef struct mstep {
    mstep_kind kind;
    docpath path;         /* the member acted on (rename/move: the source) */
    docpath to;           /* move: the destination */
    char *name;           /* rename: the new member name (owned) */
    rdapsync_value *value;/* set_default: the value; map: the {OLD: NEW} object (owned references) */
} mstep;

typedef struct medge {
    size_t from, to; /* indexes into mplan.versions */
    mstep *steps;    /* owned */
    size_t step_count;
} medge;

typedef struct mplan {
    const rdapsync_json_api *j;
    char **versions; /* owned, "MAJOR.MINOR" as written */
    size_t version_count;
    size_t target;   /* index of the target in versions */
    medge *edges;    /* owned, in config order */
    size_t edge_count;
    /* next[v]: the first edge of the shortest path from version v to the
     * target; (size_t)-1 when there is none (or v is the target). */
    size_t *next;
    rdapsync_value *root; /* the parsed config (owned) */
} mplan;

/*
 * Builds the plan of `target` and the JSON text `migrations`. 0, or -1 with
 * "@PATH: reason" in err, PATH relative to the plugin's config mapping
 * (target, or migrations[2].steps[0]) so that the host reports file:line:column.
 * The caller frees a built plan with mplan_free().
 */
int mplan_build(const rdapsync_json_api *json, const char *target, const char *migrations, mplan *plan,
                char *err, size_t err_size);
void mplan_free(mplan *plan);

/* "MAJOR.MINOR" with digits only: 0 (major and minor set), or -1. */
int mplan_version(const char *text, long *major, long *minor);

/* The index of `version` among the plan's versions, or (size_t)-1. */
size_t mplan_find(const mplan *plan, const char *version);

/*
 * Migrates `doc` (an object, changed in place) from its _schemaVersion (or
 * `assume` when it has none; may be NULL) to the target, recording
 * _migration {from, path}. *migrated tells whether anything was done (a
 * document at the target is left alone). 0, or -1 with the reason in err
 * (no version, a newer major, no path, allocation).
 */
int mplan_apply(const mplan *plan, rdapsync_value *doc, const char *assume, bool *migrated, char *err,
                size_t err_size);

#endif
