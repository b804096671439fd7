/*
 * Paths into JSON documents, written the way the redaction records and
 * error messages of the redact and normalize transforms write them
 * (jpath.h): "$.entities[1].handle", "$.contacts['odd key'][0]". The
 * leading "$" and "." may be left out ("status", "source.port43"), and
 * "[*]" stands for every item of an array. Shared by the plugins that
 * address members by configuration (migrate); compiled into each.
 */
#ifndef RDAPSYNC_DOCPATH_H
#define RDAPSYNC_DOCPATH_H

#include <stdbool.h>
#include <stddef.h>

#include <rdapsync/rdapsync.h>

typedef enum docpath_kind { DOCPATH_KEY = 0, DOCPATH_INDEX = 1, DOCPATH_ANY = 2 } docpath_kind;

typedef struct docpath_seg {
    docpath_kind kind;
    char *key;    /* DOCPATH_KEY: owned */
    size_t index; /* DOCPATH_INDEX */
} docpath_seg;

typedef struct docpath {
    docpath_seg *segs; /* owned; count >= 1 after a successful parse */
    size_t count;
    bool wildcard; /* some segment is [*] */
} docpath;

/*
 * Parses `text`. 0, or -1 with "column C: reason" in err (and *out empty).
 * The caller frees a parsed path with docpath_free().
 */
int docpath_parse(const char *text, docpath *out, char *err, size_t err_size);
void docpath_free(docpath *path);

/*
 * Calls fn(parent, last, opaque) for every container the path's last segment
 * is to be found in (an object for a key, an array for an index): with
 * wildcards, one call per match; none when an intermediate member is absent
 * or of another type. A trailing [*] visits each item of the array as an
 * index segment. With `create`, absent intermediate object members are
 * created as {} (no wildcard or index segment creates anything). Stops at
 * the first fn that returns non-zero and returns it; 0 otherwise, -1 when
 * creating fails.
 */
typedef int (*docpath_visit_fn)(rdapsync_value *parent, const docpath_seg *last, void *opaque);
int docpath_each_parent(const rdapsync_json_api *json, rdapsync_value *doc, const docpath *path, bool create,
                        docpath_visit_fn fn, void *opaque);

/* The member or item `last` names in `parent`: borrowed, or NULL. */
rdapsync_value *docpath_child(const rdapsync_json_api *json, rdapsync_value *parent, const docpath_seg *last);

/* Stores `value` (stolen, even on failure) at `last` in `parent`: an object
 * member, or an existing array item. 0 or -1. */
int docpath_store(const rdapsync_json_api *json, rdapsync_value *parent, const docpath_seg *last,
                  rdapsync_value *value);

/* Removes `last` from `parent`; 0, or -1 when absent. */
int docpath_remove(const rdapsync_json_api *json, rdapsync_value *parent, const docpath_seg *last);

#endif
