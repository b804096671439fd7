/*
 * The small JSON path of key_path: member names separated by dots, array
 * indexes in brackets ("a.b[0].c"), an optional leading "$." or "$".
 * Member names cannot contain '.', '[' or ']'.
 */
#include "source_kafka.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define J (ks_host->json)

void jpath_free(ks_path *path)
{
    free(path->text);
    free(path->segments);
    memset(path, 0, sizeof(*path));
}

static int add_segment(ks_path *path, const char *name, size_t index)
{
    ks_path_segment *grown = realloc(path->segments, (path->count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    path->segments = grown;
    path->segments[path->count].name = name;
    path->segments[path->count].index = index;
    path->count++;
    return 0;
}

int jpath_compile(ks_path *path, const char *text, char *err, size_t err_size)
{
    const char *original = text;

    memset(path, 0, sizeof(*path));
    if (text[0] == '$')
        text += text[1] == '.' ? 2 : 1;
    /* Names are copied NUL-terminated one after the other: never longer
     * than the text plus one terminator per segment. */
    if (!(path->text = malloc(2 * strlen(text) + 2)))
        goto oom;
    char *out = path->text;
    const char *p = text;
    while (*p) {
        if (*p == '[') {
            char *end;
            if (!isdigit((unsigned char)p[1]))
                goto bad;
            unsigned long long index = strtoull(p + 1, &end, 10);
            if (*end != ']')
                goto bad;
            if (add_segment(path, NULL, (size_t)index) != 0)
                goto oom;
            p = end + 1;
        } else {
            size_t n = strcspn(p, ".[]");
            if (n == 0)
                goto bad;
            memcpy(out, p, n);
            out[n] = '\0';
            if (add_segment(path, out, 0) != 0)
                goto oom;
            out += n + 1;
            p += n;
        }
        if (*p == '.') {
            if (!p[1] || p[1] == '.' || p[1] == '[')
                goto bad;
            p++;
        } else if (*p && *p != '[') {
            goto bad;
        }
    }
    if (path->count == 0)
        goto bad;
    return 0;
bad:
    snprintf(err, err_size, "key_path '%s': expected names separated by dots, each with optional [index]", original);
    jpath_free(path);
    return -1;
oom:
    snprintf(err, err_size, "out of memory");
    jpath_free(path);
    return -1;
}

rdapsync_value *jpath_find(const ks_path *path, rdapsync_value *root)
{
    rdapsync_value *v = root;

    for (size_t i = 0; v && i < path->count; i++)
        v = path->segments[i].name ? J->object_get(v, path->segments[i].name)
                                   : J->array_get(v, path->segments[i].index);
    return v;
}
