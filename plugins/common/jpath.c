#include "jpath.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char ELLIPSIS[] = "...";

void jpath_init(jpath *path)
{
    path->buf[0] = '$';
    path->buf[1] = '\0';
    path->len = 1;
}

/* Appends n bytes; when they do not fit, the path ends in "..." and stays cut
 * (content never grows past LIMIT, so a cut path is the only one longer). */
#define LIMIT (JPATH_MAX - sizeof ELLIPSIS)

static void append(jpath *path, const char *text, size_t n)
{
    if (path->len > LIMIT)
        return;
    if (path->len + n <= LIMIT) {
        memcpy(path->buf + path->len, text, n);
        path->len += n;
    } else {
        memcpy(path->buf + path->len, text, LIMIT - path->len);
        memcpy(path->buf + LIMIT, ELLIPSIS, sizeof ELLIPSIS - 1);
        path->len = LIMIT + sizeof ELLIPSIS - 1;
    }
    path->buf[path->len] = '\0';
}

static bool plain_name(const char *key)
{
    if (!key[0] || (key[0] >= '0' && key[0] <= '9'))
        return false;
    for (const char *p = key; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

size_t jpath_push_key(jpath *path, const char *key)
{
    size_t mark = path->len;

    if (plain_name(key)) {
        append(path, ".", 1);
        append(path, key, strlen(key));
        return mark;
    }
    append(path, "['", 2);
    for (const char *p = key; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\'' || c == '\\') {
            append(path, "\\", 1);
            append(path, p, 1);
        } else if (c < 0x20) {
            char esc[8];
            int n = snprintf(esc, sizeof esc, "\\u%04x", c);
            append(path, esc, (size_t)n);
        } else {
            append(path, p, 1);
        }
    }
    append(path, "']", 2);
    return mark;
}

size_t jpath_push_index(jpath *path, size_t index)
{
    /* By hand: this runs for every array item a walk visits. */
    char text[32];
    char *p = text + sizeof text;
    size_t mark = path->len;

    *--p = ']';
    do {
        *--p = (char)('0' + index % 10);
        index /= 10;
    } while (index);
    *--p = '[';
    append(path, p, (size_t)(text + sizeof text - p));
    return mark;
}

size_t jpath_push_raw(jpath *path, const char *text)
{
    size_t mark = path->len;

    append(path, text, strlen(text));
    return mark;
}

void jpath_pop(jpath *path, size_t mark)
{
    if (mark < path->len) {
        path->len = mark;
        path->buf[mark] = '\0';
    }
}

const char *jpath_str(const jpath *path)
{
    return path->buf;
}

jpath_relation jpath_match(const char *pattern, const char *path)
{
    const char *p = pattern, *q = path;

    while (*q) {
        if (p[0] == '[' && p[1] == '*' && p[2] == ']' && q[0] == '[' && q[1] >= '0' && q[1] <= '9') {
            /* "[*]" takes one whole index, digits and bracket. */
            q++;
            while (*q >= '0' && *q <= '9')
                q++;
            if (*q != ']')
                return JPATH_UNRELATED;
            q++;
            p += 3;
            continue;
        }
        if (*p != *q)
            return JPATH_UNRELATED;
        p++;
        q++;
    }
    if (!*p)
        return JPATH_EQUAL;
    /* Below only when the pattern goes on with a new step, not a longer name. */
    return *p == '.' || *p == '[' ? JPATH_ABOVE : JPATH_UNRELATED;
}
