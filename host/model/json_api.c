/*
 * rdapsync_json_api (value.h) over the compact tree of json_tree.h. The SDK
 * keeps the tree out of plugins' sight, so that it can change without
 * touching a plugin; here is the only place where the two meet. A parsed
 * document may still be lazy (json_lazy.h): every accessor that looks at a
 * value, or hands one to json_tree.c, makes it ready first (jl_ready).
 */
#include "model/json_api.h"
#include "model/json_lazy.h"
#include "model/json_tree.h"

#include <stdlib.h>
#include <string.h>

/* RDAPSYNC_JSON_PARSER=tree makes every parse build its tree with the tree
 * parser at once, as before lazy documents: the benchmarks' baseline in
 * the same binary, and a way back should the lazy path ever be in doubt. */
static int eager_parse(void)
{
    static int eager = -1; /* every thread that finds it unset computes the same */
    int v = __atomic_load_n(&eager, __ATOMIC_RELAXED);
    if (v < 0) {
        const char *e = getenv("RDAPSYNC_JSON_PARSER");
        v = e && strcmp(e, "tree") == 0;
        __atomic_store_n(&eager, v, __ATOMIC_RELAXED);
    }
    return v;
}

static rdapsync_value *api_parse(const char *text, size_t len, char *err, size_t err_size)
{
    if (eager_parse())
        return jt_parse(text, len, err, err_size);
    return jl_parse(text, len, err, err_size);
}

/* The open build scope of this thread (json_api.h); NULL when none. */
static _Thread_local jt_doc *scope;

void json_api_scope_begin(const rdapsync_value *basis, size_t hint)
{
    if (scope)
        return;
    if (basis && (basis->flags & JT_ARENA)) {
        scope = basis->own.doc;
        __atomic_add_fetch(&scope->refs, 1, __ATOMIC_RELAXED);
    } else {
        scope = jt_doc_new(hint);
    }
}

void json_api_scope_end(void)
{
    jt_doc *doc = scope;

    scope = NULL;
    jt_doc_release(doc); /* the scope's own reference */
}

size_t json_api_live_values(void) { return jt_live(); }

rdapsync_value *json_api_compact(const rdapsync_value *value)
{
    jt_doc *doc;
    rdapsync_value *copy;
    size_t bytes;

    /* A document nothing changed holds only its text and its tree, and
     * keeps its text for the sink. */
    if (!value || !(value->flags & JT_ARENA) || value->kind == JT_LAZY || jl_canonical_text(value, NULL))
        return NULL;
    bytes = jt_doc_measure(value);
    doc = jt_doc_new(bytes + 16); /* one chunk, exactly enough */
    if (!doc)
        return NULL;
    /* For batch accounting: a parsed document takes about four times its text. */
    doc->text_len = bytes / 4;
    copy = jt_doc_deep_copy(doc, value);
    if (!copy || !(copy->flags & JT_ARENA)) {
        jt_doc_release(doc);
        return NULL;
    }
    return copy;
}

/* A value just built in the scope's arena gets the caller's reference. */
static rdapsync_value *scoped(rdapsync_value *v) { return v ? jt_incref(v) : NULL; }

size_t json_api_parsed_length(const rdapsync_value *value)
{
    if (!value || !(value->flags & JT_ARENA))
        return 0;
    return value->own.doc->text_len;
}

size_t json_api_estimate_size(const rdapsync_value *v)
{
    size_t total = 2;

    if (!v)
        return 0;
    switch (v->kind) {
    case JT_LAZY: return v->u.str.len;
    case JT_OBJECT:
        for (uint32_t i = 0; i < v->count; i++)
            total += v->u.obj.members[i].key_len + 4 + json_api_estimate_size(v->u.obj.members[i].value);
        return total;
    case JT_ARRAY:
        for (uint32_t i = 0; i < v->count; i++)
            total += 1 + json_api_estimate_size(v->u.items[i]);
        return total;
    case JT_STRING: return v->u.str.len + 2;
    case JT_INTEGER:
    case JT_REAL: return 8;
    case JT_TRUE:
    case JT_NULL: return 4;
    case JT_FALSE: return 5;
    }
    return 0;
}

/* Caller frees with free() (host->free). */
static char *api_dump(const rdapsync_value *value, unsigned flags, size_t *len)
{
    size_t n;
    const char *text = flags & RDAPSYNC_DUMP_SORT_KEYS ? NULL : jl_canonical_text(value, &n);

    if (text) {
        char *copy = malloc(n + 1);
        if (!copy)
            return NULL;
        memcpy(copy, text, n);
        copy[n] = '\0';
        if (len)
            *len = n;
        return copy;
    }
    jl_ready(value);
    return jt_dump_string(value, (flags & RDAPSYNC_DUMP_SORT_KEYS) != 0, len);
}

static int api_dump_cb(const rdapsync_value *value, unsigned flags, rdapsync_dump_fn fn, void *opaque)
{
    size_t n;
    const char *text = flags & RDAPSYNC_DUMP_SORT_KEYS ? NULL : jl_canonical_text(value, &n);

    if (text)
        return fn(text, n, opaque) != 0 ? -1 : 0;
    jl_ready(value);
    return jt_dump(value, (flags & RDAPSYNC_DUMP_SORT_KEYS) != 0, fn, opaque);
}

static rdapsync_value *api_incref(rdapsync_value *value) { return jt_incref(value); }
static void api_decref(rdapsync_value *value) { jt_decref(value); }
static rdapsync_value *api_deep_copy(const rdapsync_value *value)
{
    jl_ready(value);
    return scope ? scoped(jt_doc_deep_copy(scope, value)) : jt_deep_copy(value);
}
static bool api_equal(const rdapsync_value *a, const rdapsync_value *b)
{
    jl_ready(a);
    jl_ready(b);
    return jt_equal(a, b);
}
static void api_measure(const rdapsync_value *value, int depth_cap, rdapsync_json_shape *shape)
{
    jl_ready(value);
    jt_measure(value, depth_cap, shape);
}

static rdapsync_value_type api_type(const rdapsync_value *v)
{
    if (!v)
        return RDAPSYNC_JSON_NULL;
    if (v->kind == JT_LAZY)
        return jl_type(v);
    switch (v->kind) {
    case JT_OBJECT: return RDAPSYNC_JSON_OBJECT;
    case JT_ARRAY: return RDAPSYNC_JSON_ARRAY;
    case JT_STRING: return RDAPSYNC_JSON_STRING;
    case JT_INTEGER: return RDAPSYNC_JSON_INTEGER;
    case JT_REAL: return RDAPSYNC_JSON_REAL;
    case JT_TRUE:
    case JT_FALSE: return RDAPSYNC_JSON_BOOL;
    default: return RDAPSYNC_JSON_NULL;
    }
}

static const char *api_string_value(const rdapsync_value *v)
{
    jl_ready(v);
    return v && v->kind == JT_STRING ? v->u.str.bytes : NULL;
}

static size_t api_string_length(const rdapsync_value *v)
{
    jl_ready(v);
    return v && v->kind == JT_STRING ? v->u.str.len : 0;
}

static int64_t api_integer_value(const rdapsync_value *v)
{
    jl_ready(v);
    return v && v->kind == JT_INTEGER ? v->u.integer : 0;
}

static double api_number_value(const rdapsync_value *v)
{
    if (!v)
        return 0.0;
    jl_ready(v);
    if (v->kind == JT_INTEGER)
        return (double)v->u.integer;
    return v->kind == JT_REAL ? v->u.real : 0.0;
}

static bool api_bool_value(const rdapsync_value *v)
{
    jl_ready(v);
    return v && v->kind == JT_TRUE;
}

static rdapsync_value *api_string_new(const char *bytes, size_t len)
{
    if (!bytes || !jt_utf8_valid(bytes, len))
        return NULL;
    return scope ? scoped(jt_doc_string(scope, bytes, len)) : jt_string(bytes, len);
}

static rdapsync_value *api_integer_new(int64_t v) { return scope ? scoped(jt_doc_integer(scope, v)) : jt_integer(v); }

/* JSON cannot hold NaN or the infinities. */
static rdapsync_value *api_real_new(double v)
{
    if (v != v || v - v != 0.0)
        return NULL;
    return scope ? scoped(jt_doc_real(scope, v)) : jt_real(v);
}

static rdapsync_value *api_bool_new(bool v) { return jt_bool(v); }
static rdapsync_value *api_null_new(void) { return jt_null(); }
static rdapsync_value *api_object_new(void) { return scope ? scoped(jt_doc_object(scope, 0)) : jt_object(0); }
static rdapsync_value *api_array_new(void) { return scope ? scoped(jt_doc_array(scope, 0)) : jt_array(0); }

static size_t api_object_size(const rdapsync_value *v)
{
    jl_ready(v);
    return v && v->kind == JT_OBJECT ? v->count : 0;
}

static rdapsync_value *api_object_get(const rdapsync_value *object, const char *key)
{
    jt_member *m;

    if (!key)
        return NULL;
    if (object && object->kind == JT_LAZY) {
        rdapsync_value *member;
        if (jl_member((rdapsync_value *)object, key, strlen(key), &member) == 0)
            return member;
        jl_ready(object); /* out of memory on the way: the whole tree, or nothing */
    }
    m = jt_object_find(object, key, strlen(key));
    return m ? m->value : NULL;
}

/* Keys follow the same rules as parsed ones: valid UTF-8 (and, being C
 * strings, no NUL). */
static int api_object_set(rdapsync_value *object, const char *key, rdapsync_value *member)
{
    size_t len;

    jl_ready(object);
    jl_ready(member);
    jl_edited(object);
    if (!object || !key || !member || object->kind != JT_OBJECT || object == member) {
        jt_decref(member);
        return -1;
    }
    /* Keys are short and almost always ASCII: measure and check in one pass. */
    unsigned char high = 0;
    for (len = 0; key[len]; len++)
        high |= (unsigned char)key[len];
    if (high >= 0x80 && !jt_utf8_valid(key, len)) {
        jt_decref(member);
        return -1;
    }
    return jt_object_set(object, key, len, member);
}

static int api_object_del(rdapsync_value *object, const char *key)
{
    if (!object || !key)
        return -1;
    jl_ready(object);
    jl_edited(object);
    return jt_object_del(object, key, strlen(key));
}

/* The iterator is a pointer to a member slot; adding members may move the
 * slots, so (as with jansson) an object must not grow while iterated. */
static rdapsync_value_iter *api_object_iter(rdapsync_value *object)
{
    jl_ready(object);
    if (!object || object->kind != JT_OBJECT || object->count == 0)
        return NULL;
    return object->u.obj.members;
}

static rdapsync_value_iter *api_object_iter_next(rdapsync_value *object, rdapsync_value_iter *iter)
{
    jt_member *m = iter;

    if (!object || !m || object->kind != JT_OBJECT)
        return NULL;
    m++;
    return m < object->u.obj.members + object->count ? m : NULL;
}

static const char *api_object_iter_key(rdapsync_value_iter *iter) { return iter ? ((jt_member *)iter)->key : NULL; }

static rdapsync_value *api_object_iter_value(rdapsync_value_iter *iter)
{
    return iter ? ((jt_member *)iter)->value : NULL;
}

static size_t api_array_size(const rdapsync_value *v)
{
    jl_ready(v);
    return v && v->kind == JT_ARRAY ? v->count : 0;
}

static rdapsync_value *api_array_get(const rdapsync_value *v, size_t index)
{
    jl_ready(v);
    return v && v->kind == JT_ARRAY && index < v->count ? v->u.items[index] : NULL;
}

static int api_array_append(rdapsync_value *array, rdapsync_value *item)
{
    jl_ready(array);
    jl_ready(item);
    jl_edited(array);
    if (!array || !item || array == item || array->kind != JT_ARRAY) {
        jt_decref(item);
        return -1;
    }
    return jt_array_insert(array, array->count, item);
}

static int api_array_insert(rdapsync_value *array, size_t index, rdapsync_value *item)
{
    jl_ready(array);
    jl_ready(item);
    jl_edited(array);
    if (!array || !item || array == item) {
        jt_decref(item);
        return -1;
    }
    return jt_array_insert(array, index, item);
}

static int api_array_set(rdapsync_value *array, size_t index, rdapsync_value *item)
{
    jl_ready(array);
    jl_ready(item);
    jl_edited(array);
    if (!array || !item || array == item) {
        jt_decref(item);
        return -1;
    }
    return jt_array_set(array, index, item);
}

static int api_array_remove(rdapsync_value *array, size_t index)
{
    jl_ready(array);
    jl_edited(array);
    return jt_array_remove(array, index);
}

static const char *api_validated_text(const rdapsync_value *value, size_t *len)
{
    return jl_canonical_text(value, len);
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
    .measure = api_measure,
    .validated_text = api_validated_text,
};

const rdapsync_json_api *json_api_table(void) { return &json_api_functions; }
