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

/* For a value that lives in a parsed document (the root, any member of it,
 * or what a transform built in its scope): the length of that document's
 * JSON text, the memory the value really keeps alive. 0 for other values.
 * Lets batches account a value's size without walking or serializing it. */
size_t json_api_parsed_length(const rdapsync_value *value);

/*
 * Build scopes. While a scope is open on a thread, the values plugins build
 * there (object_new, string_new, deep_copy, ...) go into an arena instead
 * of one heap allocation each: the arena of `basis`'s parsed document when
 * it has one, else a new arena of `hint` bytes. The task opens one around
 * the transforms of each record with the record's value as basis, so a
 * transform's output lives in the same arena as its input: a few
 * allocations, one free, and no reference cycle between two documents
 * however the output and the input share pieces. A value a plugin keeps
 * across records keeps that record's arena alive as long as it keeps it.
 * Scopes do not nest (begin while open is a no-op); without a scope, or if
 * an arena cannot be allocated, values come from the heap.
 */
void json_api_scope_begin(const rdapsync_value *basis, size_t hint);
void json_api_scope_end(void);

/*
 * After the transforms, a record's arena holds its input, its output and
 * whatever the transforms dropped. A copy of `value` alone into a fresh
 * arena sized to it (a new reference, owned by the caller) lets the rest
 * go: the task swaps it in. NULL when `value` is not in an arena or memory
 * runs out (keep the original then).
 */
rdapsync_value *json_api_compact(const rdapsync_value *value);

/* Parsed documents plus values built outside them that are still alive on
 * any thread: tests compare it before and after a piece of work. */
size_t json_api_live_values(void);

/* A rough, cheap size in bytes of a value's serialization (for batch
 * max_bytes accounting); walks the tree once. */
size_t json_api_estimate_size(const rdapsync_value *value);

#endif
