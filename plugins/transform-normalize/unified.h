/*
 * RDAP (RFC 9083) -> the unified shape (docs/unified-shape.md): the pure
 * logic of the normalize transform, written against the SDK's JSON table so
 * that the plugin, the unit tests and the fuzz target run the same code.
 */
#ifndef RDAPSYNC_UNIFIED_H
#define RDAPSYNC_UNIFIED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

/* Stamped on every output record as rdapsync.schema. */
#define UNIFIED_SCHEMA "rdapsync.unified/1"
/* The version of the shape stamped as the document's _schemaVersion and the
 * header rdapsync.schema_version (MAJOR.MINOR; the migrate transform moves
 * documents between versions, docs/schema-and-history.md). */
#define UNIFIED_SCHEMA_VERSION "1.0"

typedef struct unified_options {
    bool keep_raw;     /* keep the input document under "raw" */
    int max_depth;     /* deepest nesting accepted (arrays and objects) */
    size_t max_string; /* longest string accepted, bytes; 0 = no limit */
} unified_options;

/* What the record knows about where the document came from; all may be NULL. */
typedef struct unified_source {
    const char *fetched_at; /* RFC 3339, from a header */
    const char *server;     /* from a header */
    const char *origin;     /* the record version's origin */
} unified_source;

/*
 * Builds the unified document of the RDAP object `doc` (borrowed; shared
 * scalars are referenced, not copied). Returns a new value the caller owns,
 * or NULL with err = "JSONPATH: reason" (err_size bytes). Never prints a
 * value from the input into err.
 */
rdapsync_value *unified_build(const rdapsync_json_api *json, rdapsync_value *doc, const unified_options *options,
                              const unified_source *source, char *err, size_t err_size);

/* True when `doc` already is a unified document (has rdapsync.schema). */
bool unified_is_unified(const rdapsync_json_api *json, const rdapsync_value *doc);

/* The record key the document suggests: its handle, else its ldh_name
 * (prefer_ldh swaps the two). Borrowed from `unified`, or NULL. */
const char *unified_key(const rdapsync_json_api *json, const rdapsync_value *unified, bool prefer_ldh);

#endif
