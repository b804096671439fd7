/*
 * rdapsync_json_api over jansson. The SDK keeps jansson out of plugins'
 * sight so that the library can change without touching a plugin; here is
 * the only place where the two meet.
 */
#include "json_api.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define J(v) ((json_t *)(v))
#define CJ(v) ((const json_t *)(v))
#define V(j) ((rdapsync_value *)(j))

/* parse() remembers its last result per thread for json_api_parsed_length(). */
static _Thread_local const void *last_parsed;
static _Thread_local size_t last_parsed_len;

/*
 * jansson's own depth limit is a compile-time 2048; the SDK promises 512.
 * One lexical pass finds the first place that nests deeper, skipping string
 * contents, and reports it the way jansson reports its own errors (line,
 * character column, byte offset).
 */
static int depth_check(const char *text, size_t len, char *err, size_t err_size)
{
    int depth = 0, line = 1, column = 0;
    int in_string = 0, escaped = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            line++;
            column = 0;
        } else if ((c & 0xC0) != 0x80) {
            column++;
        }
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > JSON_API_MAX_DEPTH) {
                if (err && err_size)
                    snprintf(err, err_size, "line %d column %d (byte %zu): maximum parsing depth %d reached", line,
                             column, i + 1, JSON_API_MAX_DEPTH);
                return -1;
            }
        } else if (c == ']' || c == '}') {
            if (depth > 0)
                depth--;
        }
    }
    return 0;
}

static rdapsync_value *api_parse(const char *text, size_t len, char *err, size_t err_size)
{
    json_error_t error;
    json_t *value;

    if (err && err_size)
        err[0] = '\0';
    if (!text) {
        if (err && err_size)
            snprintf(err, err_size, "line 0 column 0 (byte 0): no input");
        return NULL;
    }
    if (depth_check(text, len, err, err_size) != 0)
        return NULL;
    /* JSON_ALLOW_NUL stays off: "\u0000" in a string is an error. jansson
     * checks UTF-8 and rejects trailing garbage after the one text. */
    value = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
    if (!value) {
        /* jansson quotes the offending input ("... near 'Jane Doe'"): that
         * excerpt may be personal data and the reason goes to logs and
         * dead letters, so only the place and the kind of error are kept. */
        char *near = strstr(error.text, " near '");
        if (near)
            *near = '\0';
        if (err && err_size)
            snprintf(err, err_size, "line %d column %d (byte %d): %s", error.line, error.column, error.position,
                     error.text);
        return NULL;
    }
    last_parsed = value;
    last_parsed_len = len;
    return V(value);
}

size_t json_api_parsed_length(const rdapsync_value *value)
{
    if (!value || (const void *)value != last_parsed)
        return 0;
    /* Answered once: a later value at a recycled address must not inherit it. */
    last_parsed = NULL;
    return last_parsed_len;
}

size_t json_api_estimate_size(const rdapsync_value *value)
{
    const json_t *j = CJ(value);
    size_t total = 0;

    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *member;
        total = 2;
        /* json_object_foreach wants a non-const object; it does not modify it. */
        json_object_foreach((json_t *)j, key, member)
        {
            total += strlen(key) + 4 + json_api_estimate_size(V(member));
        }
        return total;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        total = 2;
        for (size_t i = 0; i < n; i++)
            total += 1 + json_api_estimate_size(V(json_array_get(j, i)));
        return total;
    }
    case JSON_STRING:
        return json_string_length(j) + 2;
    case JSON_INTEGER:
    case JSON_REAL:
        return 8;
    case JSON_TRUE:
    case JSON_NULL:
        return 4;
    case JSON_FALSE:
        return 5;
    }
    return 0;
}

static size_t dump_flags(unsigned flags)
{
    size_t out = JSON_COMPACT | JSON_ENCODE_ANY;
    if (flags & RDAPSYNC_DUMP_SORT_KEYS)
        out |= JSON_SORT_KEYS;
    return out;
}

/* Caller frees with free() (host->free): jansson allocates with malloc. */
static char *api_dump(const rdapsync_value *value, unsigned flags, size_t *len)
{
    char *out;

    if (!value)
        return NULL;
    out = json_dumps(CJ(value), dump_flags(flags));
    if (out && len)
        *len = strlen(out);
    return out;
}

struct dump_relay {
    rdapsync_dump_fn fn;
    void *opaque;
};

static int dump_relay_fn(const char *buffer, size_t size, void *data)
{
    struct dump_relay *relay = data;
    return relay->fn(buffer, size, relay->opaque) == 0 ? 0 : -1;
}

static int api_dump_cb(const rdapsync_value *value, unsigned flags, rdapsync_dump_fn fn, void *opaque)
{
    struct dump_relay relay = {fn, opaque};

    if (!value || !fn)
        return -1;
    return json_dump_callback(CJ(value), dump_relay_fn, &relay, dump_flags(flags)) == 0 ? 0 : -1;
}

static rdapsync_value *api_incref(rdapsync_value *value) { return V(json_incref(J(value))); }
static void api_decref(rdapsync_value *value) { json_decref(J(value)); }
static rdapsync_value *api_deep_copy(const rdapsync_value *value) { return V(json_deep_copy(CJ(value))); }

static bool api_equal(const rdapsync_value *a, const rdapsync_value *b)
{
    return json_equal(CJ(a), CJ(b)) == 1;
}

static rdapsync_value_type api_type(const rdapsync_value *value)
{
    if (!value)
        return RDAPSYNC_JSON_NULL;
    switch (json_typeof(CJ(value))) {
    case JSON_OBJECT: return RDAPSYNC_JSON_OBJECT;
    case JSON_ARRAY: return RDAPSYNC_JSON_ARRAY;
    case JSON_STRING: return RDAPSYNC_JSON_STRING;
    case JSON_INTEGER: return RDAPSYNC_JSON_INTEGER;
    case JSON_REAL: return RDAPSYNC_JSON_REAL;
    case JSON_TRUE:
    case JSON_FALSE: return RDAPSYNC_JSON_BOOL;
    case JSON_NULL: return RDAPSYNC_JSON_NULL;
    }
    return RDAPSYNC_JSON_NULL;
}

static const char *api_string_value(const rdapsync_value *value) { return json_string_value(CJ(value)); }
static size_t api_string_length(const rdapsync_value *value) { return json_string_length(CJ(value)); }
static int64_t api_integer_value(const rdapsync_value *value) { return (int64_t)json_integer_value(CJ(value)); }
static double api_number_value(const rdapsync_value *value) { return json_number_value(CJ(value)); }
static bool api_bool_value(const rdapsync_value *value) { return json_is_true(CJ(value)); }

static rdapsync_value *api_string_new(const char *bytes, size_t len)
{
    if (!bytes)
        return NULL;
    return V(json_stringn(bytes, len));
}

static rdapsync_value *api_integer_new(int64_t v) { return V(json_integer((json_int_t)v)); }
/* jansson refuses NaN and infinities (NULL): JSON cannot hold them. */
static rdapsync_value *api_real_new(double v) { return V(json_real(v)); }
static rdapsync_value *api_bool_new(bool v) { return V(json_boolean(v)); }
static rdapsync_value *api_null_new(void) { return V(json_null()); }
static rdapsync_value *api_object_new(void) { return V(json_object()); }
static rdapsync_value *api_array_new(void) { return V(json_array()); }

static size_t api_object_size(const rdapsync_value *object) { return json_object_size(CJ(object)); }

static rdapsync_value *api_object_get(const rdapsync_value *object, const char *key)
{
    if (!key)
        return NULL;
    return V(json_object_get(CJ(object), key));
}

static int api_object_set(rdapsync_value *object, const char *key, rdapsync_value *member)
{
    if (!object || !key) {
        json_decref(J(member));
        return -1;
    }
    return json_object_set_new(J(object), key, J(member));
}

static int api_object_del(rdapsync_value *object, const char *key)
{
    if (!object || !key)
        return -1;
    return json_object_del(J(object), key);
}

static rdapsync_value_iter *api_object_iter(rdapsync_value *object) { return json_object_iter(J(object)); }

static rdapsync_value_iter *api_object_iter_next(rdapsync_value *object, rdapsync_value_iter *iter)
{
    return json_object_iter_next(J(object), iter);
}

static const char *api_object_iter_key(rdapsync_value_iter *iter) { return iter ? json_object_iter_key(iter) : NULL; }

static rdapsync_value *api_object_iter_value(rdapsync_value_iter *iter)
{
    return iter ? V(json_object_iter_value(iter)) : NULL;
}

static size_t api_array_size(const rdapsync_value *array) { return json_array_size(CJ(array)); }
static rdapsync_value *api_array_get(const rdapsync_value *array, size_t index)
{
    return V(json_array_get(CJ(array), index));
}

static int api_array_append(rdapsync_value *array, rdapsync_value *item)
{
    if (!array) {
        json_decref(J(item));
        return -1;
    }
    return json_array_append_new(J(array), J(item));
}

static int api_array_insert(rdapsync_value *array, size_t index, rdapsync_value *item)
{
    if (!array) {
        json_decref(J(item));
        return -1;
    }
    return json_array_insert_new(J(array), index, J(item));
}

static int api_array_set(rdapsync_value *array, size_t index, rdapsync_value *item)
{
    if (!array) {
        json_decref(J(item));
        return -1;
    }
    return json_array_set_new(J(array), index, J(item));
}

static int api_array_remove(rdapsync_value *array, size_t index)
{
    if (!array)
        return -1;
    return json_array_remove(J(array), index);
}

const rdapsync_json_api json_api_functions = {
    .struct_size = sizeof(rdapsync_json_api),
    .parse = api_parse,
    .dump = api_dump,
    .dump_cb = api_dump_cb,
    .incref = api_incref,
    .decref = api_decref,
    .deep_copy = api_deep_copy,
    .equal = api_equal,
    .type = api_type,
    .string_value = api_string_value,
    .string_length = api_string_length,
    .integer_value = api_integer_value,
    .number_value = api_number_value,
    .bool_value = api_bool_value,
    .string_new = api_string_new,
    .integer_new = api_integer_new,
    .real_new = api_real_new,
    .bool_new = api_bool_new,
    .null_new = api_null_new,
    .object_new = api_object_new,
    .array_new = api_array_new,
    .object_size = api_object_size,
    .object_get = api_object_get,
    .object_set = api_object_set,
    .object_del = api_object_del,
    .object_iter = api_object_iter,
    .object_iter_next = api_object_iter_next,
    .object_iter_key = api_object_iter_key,
    .object_iter_value = api_object_iter_value,
    .array_size = api_array_size,
    .array_get = api_array_get,
    .array_append = api_array_append,
    .array_insert = api_array_insert,
    .array_set = api_array_set,
    .array_remove = api_array_remove,
};

const rdapsync_json_api *json_api_table(void) { return &json_api_functions; }
