/*
 * rdapsync SDK: JSON documents.
 *
 * A record's value is an opaque `rdapsync_value`: a parsed JSON document that
 * the host parses once at the source and serializes once at the sink. The
 * host validates a parsed text at once but builds its tree only when an
 * accessor first needs it; that is invisible through this table, except
 * that a document no plugin has read can reach the sink as its validated
 * text (validated_text), with no tree ever built. Plugins
 * reach it only through the function table below (host->json), so the JSON
 * library behind it can change without touching a plugin.
 *
 * Reference counting: a value returned by a `*_new`, `parse`, `copy` or
 * `deep_copy` call is owned by the caller, who releases it with `decref` or
 * hands it on with a function that "steals" it. `object_get`, `array_get`
 * and the iterator accessors return BORROWED references, valid while the
 * container holds them. Strings returned by accessors are borrowed too.
 *
 * Memory: a parsed document lives in one block that goes when the last
 * reference to any value inside it goes; values a transform builds share
 * its record's block. So a value kept across records (a cache) keeps that
 * record's document alive, and two records' documents must not be made to
 * contain each other (nothing would ever release them). Moving pieces
 * around inside one document, or from a document into new values, is fine.
 *
 * Thread rule: a value is used by one thread at a time: the task's thread
 * while the source has its record, the task's thread or its transform
 * thread while the transforms have it, then the task's flusher thread
 * while the sink writes it. Reference counts are atomic, so a value
 * shared between records with incref may be released on either; never
 * change a value that another record also holds.
 */
#ifndef RDAPSYNC_VALUE_H
#define RDAPSYNC_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rdapsync_value rdapsync_value;

typedef enum rdapsync_value_type {
    RDAPSYNC_JSON_NULL = 0,
    RDAPSYNC_JSON_BOOL = 1,
    RDAPSYNC_JSON_INTEGER = 2, /* exact 64-bit integer */
    RDAPSYNC_JSON_REAL = 3,
    RDAPSYNC_JSON_STRING = 4,
    RDAPSYNC_JSON_ARRAY = 5,
    RDAPSYNC_JSON_OBJECT = 6
} rdapsync_value_type;

/* Serialization flags for dump(). */
#define RDAPSYNC_DUMP_SORT_KEYS 0x1u /* canonical member order: for comparisons and hashing */

/* Iterator over an object's members, in insertion order; opaque. */
typedef void rdapsync_value_iter;

/*
 * Callback used by dump_cb(): receives consecutive pieces of the
 * serialization; returns 0 to continue, non-zero to abort the dump.
 */
typedef int (*rdapsync_dump_fn)(const char *bytes, size_t len, void *opaque);

/* What measure() reports of a value (see there). */
typedef struct rdapsync_json_shape {
    int depth;      /* containers on the deepest path: a scalar 0, [] 1, [[1]] 2 */
    size_t longest; /* bytes of the longest string or member name */
} rdapsync_json_shape;

typedef struct rdapsync_json_api {
    uint32_t struct_size; /* sizeof(rdapsync_json_api) of the host; test before using appended fields */

    /* Parses one JSON text of `len` bytes (no NUL needed). Rejects invalid
     * UTF-8, a NUL inside a string, duplicate object keys and nesting deeper
     * than 512; on failure returns NULL and writes "line L column C (byte B):
     * reason" into err. Caller owns the result. */
    rdapsync_value *(*parse)(const char *text, size_t len, char *err, size_t err_size);

    /* Serializes compactly (UTF-8, no newline). Returns a buffer the caller
     * frees with host->free(); *len gets its length (may be NULL). NULL on
     * allocation failure. */
    char *(*dump)(const rdapsync_value *value, unsigned flags, size_t *len);
    /* Streams the serialization to fn; returns 0 on success, -1 if fn aborted. */
    int (*dump_cb)(const rdapsync_value *value, unsigned flags, rdapsync_dump_fn fn, void *opaque);

    rdapsync_value *(*incref)(rdapsync_value *value); /* returns value; NULL-safe */
    void (*decref)(rdapsync_value *value);            /* NULL-safe */
    rdapsync_value *(*deep_copy)(const rdapsync_value *value); /* caller owns */
    bool (*equal)(const rdapsync_value *a, const rdapsync_value *b);

    rdapsync_value_type (*type)(const rdapsync_value *value); /* NULL pointer gives NULL type */

    /* Scalars. Accessors on a value of another type return 0 / NULL / false. */
    const char *(*string_value)(const rdapsync_value *value); /* NUL-terminated, borrowed */
    size_t (*string_length)(const rdapsync_value *value);
    int64_t (*integer_value)(const rdapsync_value *value);
    double (*number_value)(const rdapsync_value *value); /* integer or real as double */
    bool (*bool_value)(const rdapsync_value *value);

    /* Constructors; caller owns the result; NULL on allocation failure or
     * (strings) invalid UTF-8. */
    rdapsync_value *(*string_new)(const char *bytes, size_t len);
    rdapsync_value *(*integer_new)(int64_t v);
    rdapsync_value *(*real_new)(double v);
    rdapsync_value *(*bool_new)(bool v);
    rdapsync_value *(*null_new)(void);
    rdapsync_value *(*object_new)(void);
    rdapsync_value *(*array_new)(void);

    /* Objects. object_set STEALS `member` (even on failure); returns 0 or -1. */
    size_t (*object_size)(const rdapsync_value *object);
    rdapsync_value *(*object_get)(const rdapsync_value *object, const char *key); /* borrowed or NULL */
    int (*object_set)(rdapsync_value *object, const char *key, rdapsync_value *member);
    int (*object_del)(rdapsync_value *object, const char *key); /* 0, or -1 when absent */
    rdapsync_value_iter *(*object_iter)(rdapsync_value *object);  /* NULL when empty */
    rdapsync_value_iter *(*object_iter_next)(rdapsync_value *object, rdapsync_value_iter *iter);
    const char *(*object_iter_key)(rdapsync_value_iter *iter);      /* borrowed */
    rdapsync_value *(*object_iter_value)(rdapsync_value_iter *iter); /* borrowed */

    /* Arrays. append/insert/set STEAL `item` (even on failure); 0 or -1. */
    size_t (*array_size)(const rdapsync_value *array);
    rdapsync_value *(*array_get)(const rdapsync_value *array, size_t index); /* borrowed or NULL */
    int (*array_append)(rdapsync_value *array, rdapsync_value *item);
    int (*array_insert)(rdapsync_value *array, size_t index, rdapsync_value *item);
    int (*array_set)(rdapsync_value *array, size_t index, rdapsync_value *item);
    int (*array_remove)(rdapsync_value *array, size_t index);

    /* ---- ABI 1.1: test RDAPSYNC_HAS(rdapsync_json_api, json, measure) first ---- */

    /* The shape of `value` in one walk inside the host, several times
     * cheaper than the same walk through the accessors above: for a plugin
     * that checks sanity limits on every record before it recurses. The
     * walk does not enter containers deeper than `depth_cap`: a deeper value
     * reports depth_cap + 1, and `longest` covers the part above the cap.
     * NULL measures as a scalar. Never fails; allocates nothing. */
    void (*measure)(const rdapsync_value *value, int depth_cap, rdapsync_json_shape *shape);

    /* ---- ABI 1.6: test RDAPSYNC_HAS(rdapsync_json_api, json, validated_text) first ---- */

    /* For a sink that writes documents as JSON text: the validated text of a
     * document that nothing has read or changed since parse(), when that
     * text is byte for byte what dump(value, 0) would return (compact, the
     * same escapes and number forms); NULL otherwise, and then the sink
     * calls dump as before. Using it never changes what a sink stores; it
     * only saves building and serializing a tree. *len gets the length
     * (may be NULL). Borrowed: valid while the caller holds its reference
     * and does not read the value through any other accessor (the first
     * such access builds the tree and ends the text's life). Allocates
     * nothing; NULL-safe. */
    const char *(*validated_text)(const rdapsync_value *value, size_t *len);
} rdapsync_json_api;

#endif
