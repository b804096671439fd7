/*
 * The SDK's JSON accessor table (value.h) over the host's compact tree
 * (json_tree.h, parsed by yajl).
 */
#ifndef RDAPSYNC_HOST_JSON_API_H
#define RDAPSYNC_HOST_JSON_API_H

#include <stddef.h>

#include <rdapsync/rdapsync.h>

/* Deepest nesting of arrays and objects parse() accepts (the SDK promises 512). */
#define JSON_API_MAX_DEPTH 512

/* The table itself (static; never freed), and a function for callers that
 * prefer one. */
extern const rdapsync_json_api json_api_functions;
const rdapsync_json_api *json_api_table(void);

/* The input length of the value most recently returned by parse() on this
 * thread, if `value` is that value (answered once); 0 otherwise. Lets
 * batches account a value's size without serializing it again. */
size_t json_api_parsed_length(const rdapsync_value *value);

/* A rough, cheap size in bytes of a value's serialization (for batch
 * max_bytes accounting); walks the tree once. */
size_t json_api_estimate_size(const rdapsync_value *value);

#endif
