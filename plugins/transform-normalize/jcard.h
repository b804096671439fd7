/*
 * Reading jCard (RFC 7095) as RDAP servers send it: `vcardArray` is
 * ["vcard", [property, ...]] and a property is
 * [name, {params}, value-type, value, (more values ...)].
 * Shared by normalize and redact; both refuse the same malformed shapes,
 * with the JSON path of the offending member.
 */
#ifndef RDAPSYNC_JCARD_H
#define RDAPSYNC_JCARD_H

#include <stdbool.h>
#include <stddef.h>

#include <rdapsync/rdapsync.h>

#include "jpath.h"

typedef struct jcard_prop {
    rdapsync_value *prop;   /* the property array (borrowed) */
    const char *name;       /* as written; compare with strcasecmp */
    rdapsync_value *params; /* an object (borrowed) */
    const char *type;       /* value type: "text", "uri", ... */
    rdapsync_value *value;  /* element [3] (borrowed) */
    size_t value_count;     /* elements from [3] on: 1 or more */
} jcard_prop;

/*
 * The property list of `vcard` (the vcardArray member; `path` points at it).
 * Returns it (borrowed) or NULL with err set: not an array, no "vcard" tag,
 * no list.
 */
rdapsync_value *jcard_list(const rdapsync_json_api *json, rdapsync_value *vcard, jpath *path, char *err,
                           size_t err_size);

/*
 * Reads property `index` of `list` into *out; `path` points at the list.
 * -1 with err ("PATH[index]: ...") when it is not [string, object, string,
 * value...].
 */
int jcard_prop_read(const rdapsync_json_api *json, rdapsync_value *list, size_t index, jcard_prop *out, jpath *path,
                    char *err, size_t err_size);

/* True when the `type` parameter (a string, a comma list, or an array of
 * strings) names `type` (case-insensitive). */
bool jcard_has_type(const rdapsync_json_api *json, const rdapsync_value *params, const char *type);

/* The `kind` of an entity's jCard, lower case as written, or NULL. Never fails:
 * malformed lists simply have no kind here (jcard_prop_read reports them). */
const char *jcard_kind(const rdapsync_json_api *json, rdapsync_value *vcard);

#endif
