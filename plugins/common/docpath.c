/* Paths into JSON documents: parsing and walking (docpath.h). */
#include "docpath.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t err_size, size_t column, const char *reason)
{
    if (err && err_size)
        snprintf(err, err_size, "column %zu: %s", column, reason);
    return -1;
}

static int push(docpath *path, docpath_kind kind, const char *key, size_t key_len, size_t index)
{
    docpath_seg *segs = realloc(path->segs, (path->count + 1) * sizeof *segs);
    if (!segs)
        return -1;
    path->segs = segs;
    docpath_seg *seg = &segs[path->count];
    memset(seg, 0, sizeof *seg);
    seg->kind = kind;
    seg->index = index;
    if (kind == DOCPATH_KEY) {
        seg->key = malloc(key_len + 1);
        if (!seg->key)
            return -1;
        memcpy(seg->key, key, key_len);
        seg->key[key_len] = '\0';
    }
    if (kind == DOCPATH_ANY)
        path->wildcard = true;
    path->count++;
    return 0;
}

/* A plain member name: what jpath writes after a dot. */
static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || (unsigned char)c >= 0x80;
}

/* "[...]" at text[*at]: an index, "*", or a quoted key. */
static int parse_bracket(const char *text, size_t *at, docpath *out, char *err, size_t err_size)
{
    size_t i = *at + 1;
    if (text[i] == '*' && text[i + 1] == ']') {
        *at = i + 2;
        return push(out, DOCPATH_ANY, NULL, 0, 0) == 0 ? 0 : fail(err, err_size, i + 1, "out of memory");
    }
    if (text[i] == '\'' || text[i] == '"') {
        char quote = text[i];
        char *key = malloc(strlen(text) + 1);
        size_t n = 0;
        if (!key)
            return fail(err, err_size, i + 1, "out of memory");
        for (i++; text[i] && text[i] != quote; i++) {
            if (text[i] == '\\' && text[i + 1])
                i++;
            key[n++] = text[i];
        }
        if (text[i] != quote || text[i + 1] != ']') {
            free(key);
            return fail(err, err_size, i + 1, "unterminated quoted name: expected a quote and ']'");
        }
        int rc = push(out, DOCPATH_KEY, key, n, 0);
        free(key);
        *at = i + 2;
        return rc == 0 ? 0 : fail(err, err_size, i + 1, "out of memory");
    }
    if (!isdigit((unsigned char)text[i]))
        return fail(err, err_size, i + 1, "expected an index, * or a quoted name after '['");
    size_t index = 0;
    for (; isdigit((unsigned char)text[i]); i++) {
        if (index > (SIZE_MAX - 9) / 10)
            return fail(err, err_size, i + 1, "index too large");
        index = index * 10 + (size_t)(text[i] - '0');
    }
    if (text[i] != ']')
        return fail(err, err_size, i + 1, "expected ']'");
    *at = i + 1;
    return push(out, DOCPATH_INDEX, NULL, 0, index) == 0 ? 0 : fail(err, err_size, i + 1, "out of memory");
}

int docpath_parse(const char *text, docpath *out, char *err, size_t err_size)
{
    size_t i = 0;
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return fail(err, err_size, 1, "empty path");
    if (text[0] == '$') {
        i = 1;
        if (text[1] && text[1] != '.' && text[1] != '[')
            return fail(err, err_size, 2, "expected '.' or '[' after '$'");
    }
    bool need_name = i == 0; /* a bare path starts with a name */
    while (text[i] || need_name) {
        if (need_name || text[i] == '.') {
            if (!need_name)
                i++;
            need_name = false;
            size_t start = i;
            while (name_char(text[i]))
                i++;
            if (i == start) {
                docpath_free(out);
                return fail(err, err_size, i + 1, "expected a member name");
            }
            if (push(out, DOCPATH_KEY, text + start, i - start, 0) != 0) {
                docpath_free(out);
                return fail(err, err_size, i + 1, "out of memory");
            }
        } else if (text[i] == '[') {
            if (parse_bracket(text, &i, out, err, err_size) != 0) {
                docpath_free(out);
                return -1;
            }
        } else {
            char reason[64];
            snprintf(reason, sizeof reason, "unexpected '%c'", text[i]);
            docpath_free(out);
            return fail(err, err_size, i + 1, reason);
        }
    }
    if (out->count == 0)
        return fail(err, err_size, i + 1, "the path names the whole document");
    return 0;
}

void docpath_free(docpath *path)
{
    for (size_t i = 0; path && i < path->count; i++)
        free(path->segs[i].key);
    if (path) {
        free(path->segs);
        memset(path, 0, sizeof *path);
    }
}

rdapsync_value *docpath_child(const rdapsync_json_api *j, rdapsync_value *parent, const docpath_seg *last)
{
    if (last->kind == DOCPATH_KEY)
        return j->type(parent) == RDAPSYNC_JSON_OBJECT ? j->object_get(parent, last->key) : NULL;
    if (last->kind == DOCPATH_INDEX)
        return j->type(parent) == RDAPSYNC_JSON_ARRAY ? j->array_get(parent, last->index) : NULL;
    return NULL;
}

int docpath_store(const rdapsync_json_api *j, rdapsync_value *parent, const docpath_seg *last, rdapsync_value *value)
{
    if (last->kind == DOCPATH_KEY && j->type(parent) == RDAPSYNC_JSON_OBJECT)
        return j->object_set(parent, last->key, value);
    if (last->kind == DOCPATH_INDEX && j->type(parent) == RDAPSYNC_JSON_ARRAY && last->index < j->array_size(parent))
        return j->array_set(parent, last->index, value);
    j->decref(value);
    return -1;
}

int docpath_remove(const rdapsync_json_api *j, rdapsync_value *parent, const docpath_seg *last)
{
    if (last->kind == DOCPATH_KEY && j->type(parent) == RDAPSYNC_JSON_OBJECT)
        return j->object_del(parent, last->key);
    if (last->kind == DOCPATH_INDEX && j->type(parent) == RDAPSYNC_JSON_ARRAY && last->index < j->array_size(parent))
        return j->array_remove(parent, last->index);
    return -1;
}

static int walk(const rdapsync_json_api *j, rdapsync_value *at, const docpath *path, size_t seg, bool create,
                docpath_visit_fn fn, void *opaque)
{
    if (seg + 1 == path->count && path->segs[seg].kind != DOCPATH_ANY)
        return fn(at, &path->segs[seg], opaque);
    if (seg + 1 == path->count) {
        /* "a[*]": every item of a is a target, visited as an index. */
        docpath_seg item = { .kind = DOCPATH_INDEX };
        for (size_t i = 0; j->type(at) == RDAPSYNC_JSON_ARRAY && i < j->array_size(at); i++) {
            item.index = i;
            int rc = fn(at, &item, opaque);
            if (rc)
                return rc;
        }
        return 0;
    }
    const docpath_seg *s = &path->segs[seg];
    if (s->kind == DOCPATH_ANY) {
        if (j->type(at) != RDAPSYNC_JSON_ARRAY)
            return 0;
        for (size_t i = 0; i < j->array_size(at); i++) {
            int rc = walk(j, j->array_get(at, i), path, seg + 1, create, fn, opaque);
            if (rc)
                return rc;
        }
        return 0;
    }
    rdapsync_value *next = docpath_child(j, at, s);
    if (!next && create && s->kind == DOCPATH_KEY && j->type(at) == RDAPSYNC_JSON_OBJECT) {
        if (j->object_set(at, s->key, j->object_new()) != 0)
            return -1;
        next = j->object_get(at, s->key);
    }
    return next ? walk(j, next, path, seg + 1, create, fn, opaque) : 0;
}

int docpath_each_parent(const rdapsync_json_api *j, rdapsync_value *doc, const docpath *path, bool create,
                        docpath_visit_fn fn, void *opaque)
{
    return path->count ? walk(j, doc, path, 0, create, fn, opaque) : 0;
}
