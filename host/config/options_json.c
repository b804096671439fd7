/* Structured options: YAML to JSON text, and check() reasons back to YAML positions. */
#include "config/options_json.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/options.h"
#include "base/secrets.h"

/* An unquoted scalar that reads as an integer (no leading zeros, no sign but '-'). */
static bool plain_integer(const char *s, long long *out)
{
    const char *p = s + (*s == '-');
    if (!*p || (p[0] == '0' && p[1]))
        return false;
    for (const char *c = p; *c; c++)
        if (!isdigit((unsigned char)*c))
            return false;
    errno = 0;
    *out = strtoll(s, NULL, 10);
    return errno == 0;
}

static json_t *scalar_json(const ynode *node, bool secret, const ynode **at, char *err, size_t err_size)
{
    if (!node->quoted) {
        long long number;
        if (options_is_null(node))
            return json_null();
        if (strcmp(node->scalar, "true") == 0 || strcmp(node->scalar, "false") == 0)
            return json_boolean(node->scalar[0] == 't');
        if (plain_integer(node->scalar, &number))
            return json_integer(number);
    }
    char *value = NULL;
    bool had_reference = false;
    if (secrets_expand(node->scalar, secret, &value, &had_reference, err, err_size) < 0) {
        *at = node;
        return NULL;
    }
    if (secret)
        secrets_register(value);
    json_t *out = json_string(value);
    free(value);
    if (!out) {
        *at = node;
        snprintf(err, err_size, "not valid UTF-8");
    }
    return out;
}

static json_t *to_json(const ynode *node, bool secret, const ynode **at, char *err, size_t err_size)
{
    if (node->kind == YNODE_SCALAR)
        return scalar_json(node, secret, at, err, err_size);
    json_t *out = node->kind == YNODE_MAPPING ? json_object() : json_array();
    for (size_t i = 0; out && i < node->count; i++) {
        json_t *item = to_json(node->items[i], secret, at, err, err_size);
        int rc = !item ? -1
                 : node->kind == YNODE_MAPPING ? json_object_set_new(out, node->keys[i]->scalar, item)
                                               : json_array_append_new(out, item);
        if (rc != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

char *options_json_from_yaml(const ynode *node, bool secret, const ynode **at, char *err, size_t err_size)
{
    const ynode *where = node;
    json_t *tree = to_json(node, secret, &where, err, err_size);
    if (!tree) {
        if (at)
            *at = where;
        return NULL;
    }
    char *text = json_dumps(tree, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    json_decref(tree);
    if (!text) {
        snprintf(err, err_size, "out of memory");
        if (at)
            *at = node;
        return NULL;
    }
    /* jansson's buffer is malloc'd (default allocator): the caller's free() fits. */
    return text;
}

const ynode *options_json_locate(const ynode *config, const char *reason, const char **rest)
{
    *rest = reason;
    if (!config || reason[0] != '@')
        return NULL;
    const char *end = strstr(reason, ": ");
    if (!end)
        return NULL;
    const ynode *node = config;
    const char *p = reason + 1;
    while (p < end && node) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *stop;
            unsigned long index = strtoul(p + 1, &stop, 10);
            if (*stop != ']' || node->kind != YNODE_SEQUENCE || index >= node->count)
                return NULL;
            node = node->items[index];
            p = stop + 1;
            continue;
        }
        size_t len = strcspn(p, ".[");
        if (p + len > end)
            len = (size_t)(end - p);
        const ynode *next = NULL;
        for (size_t i = 0; node->kind == YNODE_MAPPING && i < node->count; i++)
            if (strlen(node->keys[i]->scalar) == len && strncmp(node->keys[i]->scalar, p, len) == 0)
                next = node->items[i];
        node = next;
        p += len;
    }
    if (!node)
        return NULL;
    *rest = end + 2;
    return node;
}
