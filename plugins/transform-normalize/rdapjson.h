/*
 * Small helpers over the SDK's JSON table (host->json), shared by the
 * normalize and redact transforms. Header-only: every function is static
 * inline, so each plugin keeps its own copy and exports nothing.
 */
#ifndef RDAPSYNC_RDAPJSON_H
#define RDAPSYNC_RDAPJSON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rdapsync/rdapsync.h>

#include "jpath.h"

/* "string", "array", ...: for error messages. */
static inline const char *rj_type_name(rdapsync_value_type type)
{
    switch (type) {
    case RDAPSYNC_JSON_NULL: return "null";
    case RDAPSYNC_JSON_BOOL: return "a boolean";
    case RDAPSYNC_JSON_INTEGER: return "an integer";
    case RDAPSYNC_JSON_REAL: return "a number";
    case RDAPSYNC_JSON_STRING: return "a string";
    case RDAPSYNC_JSON_ARRAY: return "an array";
    case RDAPSYNC_JSON_OBJECT: return "an object";
    }
    return "unknown";
}

/* Writes "PATH: message" into err; returns -1 so callers can `return rj_fail(...)`. */
static inline int rj_fail(char *err, size_t err_size, const jpath *path, const char *fmt, ...)
    RDAPSYNC_PRINTF(4, 5);
static inline int rj_fail(char *err, size_t err_size, const jpath *path, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!err || err_size == 0)
        return -1;
    n = snprintf(err, err_size, "%s: ", jpath_str(path));
    if (n < 0 || (size_t)n >= err_size)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err + n, err_size - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Member `key` if it is a string, else NULL (absent or another type). */
static inline const char *rj_string_member(const rdapsync_json_api *j, const rdapsync_value *object, const char *key)
{
    return j->string_value(j->object_get(object, key));
}

/* Sets object[key] to a new string of len bytes; 0 or -1. */
static inline int rj_set_string(const rdapsync_json_api *j, rdapsync_value *object, const char *key, const char *s,
                                size_t len)
{
    rdapsync_value *v = j->string_new(s, len);
    if (!v)
        return -1;
    return j->object_set(object, key, v);
}

/* Sets object[key] to another reference of value (shared, never copied). */
static inline int rj_set_ref(const rdapsync_json_api *j, rdapsync_value *object, const char *key,
                             rdapsync_value *value)
{
    return j->object_set(object, key, j->incref(value));
}

/* True when the array holds the string s (exact match). */
static inline bool rj_array_has_string(const rdapsync_json_api *j, const rdapsync_value *array, const char *s)
{
    size_t n = j->array_size(array);
    for (size_t i = 0; i < n; i++) {
        const char *v = j->string_value(j->array_get(array, i));
        if (v && strcmp(v, s) == 0)
            return true;
    }
    return false;
}

#endif
