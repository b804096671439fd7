/*
 * A record's JSON value as BSON, walked through the host's accessors (never
 * serialized to text and parsed again): integers become int64, reals
 * double, and strings, booleans, null, arrays and objects keep their type.
 *
 * Two things cannot be stored as they are everywhere, so the same rules
 * hold on MongoDB and FerretDB:
 *   - member names that are empty, start with '$' or contain '.' are
 *     refused (FerretDB refuses them; MongoDB's drivers do by default);
 *   - FerretDB 1.x refuses an array directly inside an array, which every
 *     jCard has. With `wrap`, such an array is stored as {"_array": [...]};
 *     an object whose only member is named "_array" is always stored as
 *     {"_array": {"_array": ...}} so that reading back is unambiguous in
 *     both modes (docs/plugins/sink-mongodb.md, "Stored documents").
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mgs.h"

#define J (mgs_host->json)

/* Error reporting: the leaf writes the reason, each level on the way back
 * prepends its step to the path. Only the failure path pays for it. */
typedef struct conv {
    bool wrap;
    char reason[256];
    char path[512];
} conv;

static void path_prepend(conv *c, const char *fmt_key, const char *key, size_t index)
{
    char step[160], rest[sizeof(c->path)];
    if (fmt_key)
        snprintf(step, sizeof(step), ".%.120s", key);
    else
        snprintf(step, sizeof(step), "[%zu]", index);
    snprintf(rest, sizeof(rest), "%s", c->path);
    snprintf(c->path, sizeof(c->path), "%s%s", step, rest);
}

static const char *name_problem(const char *name)
{
    if (!*name)
        return "empty member name";
    if (name[0] == '$')
        return "member name starts with '$'";
    if (strchr(name, '.'))
        return "member name contains '.'";
    return NULL;
}

static int append(conv *c, bson_t *parent, const char *key, size_t key_len, const rdapsync_value *value,
                  bool in_array, int depth);

/* `depth` is the level of the container being opened. */
static bool too_deep(conv *c, int depth)
{
    if (depth <= MGS_MAX_DEPTH)
        return false;
    snprintf(c->reason, sizeof(c->reason), "nested deeper than MongoDB's %d levels", MGS_MAX_DEPTH);
    return true;
}

static int append_members(conv *c, bson_t *doc, const rdapsync_value *object, int depth)
{
    rdapsync_value *obj = (rdapsync_value *)object; /* the iterator API is not const; nothing is changed */
    for (rdapsync_value_iter *it = J->object_iter(obj); it; it = J->object_iter_next(obj, it)) {
        const char *name = J->object_iter_key(it);
        const char *problem = name_problem(name);
        if (problem) {
            snprintf(c->reason, sizeof(c->reason), "%s (\"%.60s\")", problem, name);
            return -1;
        }
        if (append(c, doc, name, strlen(name), J->object_iter_value(it), false, depth) != 0) {
            path_prepend(c, "", name, 0);
            return -1;
        }
    }
    return 0;
}

static int append_object(conv *c, bson_t *parent, const char *key, size_t key_len, const rdapsync_value *object,
                         int depth)
{
    bson_t child, inner;
    rdapsync_value_iter *it = J->object_iter((rdapsync_value *)object);
    bool escape = J->object_size(object) == 1 && strcmp(J->object_iter_key(it), MGS_WRAP_KEY) == 0;
    /* Every begin below is matched by its end, also on failure. */
    if (too_deep(c, escape ? depth + 1 : depth))
        return -1;
    bson_append_document_begin(parent, key, (int)key_len, &child);
    if (escape) {
        /* Escaped, so that it is not read back as a wrapped array. */
        bson_append_document_begin(&child, MGS_WRAP_KEY, -1, &inner);
        int rc = append_members(c, &inner, object, depth + 2);
        bson_append_document_end(&child, &inner);
        bson_append_document_end(parent, &child);
        return rc;
    }
    int rc = append_members(c, &child, object, depth + 1);
    bson_append_document_end(parent, &child);
    return rc;
}

static int append_items(conv *c, bson_t *array, const rdapsync_value *value, int depth)
{
    size_t n = J->array_size(value);
    for (size_t i = 0; i < n; i++) {
        const char *index_key;
        char buf[16];
        size_t len = bson_uint32_to_string((uint32_t)i, &index_key, buf, sizeof(buf));
        if (append(c, array, index_key, len, J->array_get(value, i), true, depth) != 0) {
            path_prepend(c, NULL, NULL, i);
            return -1;
        }
    }
    return 0;
}

static int append_array(conv *c, bson_t *parent, const char *key, size_t key_len, const rdapsync_value *value,
                        bool in_array, int depth)
{
    bson_t child, wrapper;
    bool wrapped = c->wrap && in_array;
    if (too_deep(c, wrapped ? depth + 1 : depth))
        return -1;
    if (wrapped) {
        bson_append_document_begin(parent, key, (int)key_len, &wrapper);
        bson_append_array_begin(&wrapper, MGS_WRAP_KEY, -1, &child);
        int rc = append_items(c, &child, value, depth + 2);
        bson_append_array_end(&wrapper, &child);
        bson_append_document_end(parent, &wrapper);
        return rc;
    }
    bson_append_array_begin(parent, key, (int)key_len, &child);
    int rc = append_items(c, &child, value, depth + 1);
    bson_append_array_end(parent, &child);
    return rc;
}

static int append(conv *c, bson_t *parent, const char *key, size_t key_len, const rdapsync_value *value,
                  bool in_array, int depth)
{
    bool ok = true;
    switch (J->type(value)) {
    case RDAPSYNC_JSON_NULL: ok = bson_append_null(parent, key, (int)key_len); break;
    case RDAPSYNC_JSON_BOOL: ok = bson_append_bool(parent, key, (int)key_len, J->bool_value(value)); break;
    case RDAPSYNC_JSON_INTEGER: ok = bson_append_int64(parent, key, (int)key_len, J->integer_value(value)); break;
    case RDAPSYNC_JSON_REAL: ok = bson_append_double(parent, key, (int)key_len, J->number_value(value)); break;
    case RDAPSYNC_JSON_STRING:
        ok = bson_append_utf8(parent, key, (int)key_len, J->string_value(value), (int)J->string_length(value));
        break;
    case RDAPSYNC_JSON_ARRAY: return append_array(c, parent, key, key_len, value, in_array, depth);
    case RDAPSYNC_JSON_OBJECT: return append_object(c, parent, key, key_len, value, depth);
    }
    if (!ok) {
        /* bson_append_* fail only when the document would pass 2 GiB. */
        snprintf(c->reason, sizeof(c->reason), "document too large for BSON");
        return -1;
    }
    return 0;
}

int mgs_bson_append_value(bson_t *parent, const char *key, const rdapsync_value *value, bool wrap, char *err,
                          size_t err_size)
{
    conv c = { .wrap = wrap };
    /* The parent is the stored document (level 1); `key` opens level 2. */
    if (append(&c, parent, key, strlen(key), value, false, 2) == 0)
        return 0;
    snprintf(err, err_size, "%s at $%s", c.reason, c.path);
    return -1;
}

bson_t *mgs_bson_stored(const rdapsync_record *record, bool wrap, int64_t max_size, char *err, size_t err_size)
{
    const rdapsync_position *pos = &record->position;
    bool deleted = record->op == RDAPSYNC_OP_DELETE;
    bson_t *doc = bson_new();
    const char *origin = record->version.origin ? record->version.origin : "";

    bson_append_utf8(doc, "_id", 3, record->key, (int)record->key_len);
    if (deleted)
        bson_append_null(doc, "doc", 3);
    else if (mgs_bson_append_value(doc, "doc", record->value, wrap, err, err_size) != 0)
        goto fail;
    bson_append_bool(doc, "deleted", 7, deleted);
    bson_append_int64(doc, "event_time_ms", 13, record->version.event_time_ms);
    bson_append_utf8(doc, "origin", 6, origin, -1);
    bson_append_int64(doc, "seq", 3, record->version.sequence);
    if (pos->stream)
        bson_append_utf8(doc, "src_stream", 10, pos->stream, -1);
    else
        bson_append_null(doc, "src_stream", 10);
    bson_append_int32(doc, "src_partition", 13, pos->partition);
    bson_append_int64(doc, "src_offset", 10, pos->offset);
    if (!bson_append_now_utc(doc, "updated_at", 10)) {
        snprintf(err, err_size, "document too large for BSON");
        goto fail;
    }
    if ((int64_t)doc->len > max_size) {
        snprintf(err, err_size, "stored document of %u bytes exceeds the server's limit of %lld bytes", doc->len,
                 (long long)max_size);
        goto fail;
    }
    return doc;

fail:
    bson_destroy(doc);
    return NULL;
}
