/*
 * Where a member's value sits in a JSON text, found on the bytes (jscan.h):
 * the Kafka source's debezium format hands `after` (or its document
 * column) to the host as a text of its own (source-kafka/decode.c), the
 * file source an envelope's "value" (source-file/record_decode.c).
 *
 * The scan finds where things are, not whether they are right: the host's
 * parser judges the pieces (decode.c says why that is the whole verdict).
 * Strings end at a quote after an even number of backslashes, which is
 * JSON's own rule. It never reads past `len` and gives up (-1) on anything
 * it does not expect. A key written with escapes is not compared (it gives
 * up too): the caller then parses the whole text, which decodes keys.
 */
#include "jscan.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static size_t skip_space(const char *t, size_t i, size_t len)
{
    while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        i++;
    return i;
}

/* t[i] is the opening quote: the index after the closing one, or len when
 * there is none. *escaped tells whether the string holds a backslash. */
static size_t skip_string(const char *t, size_t i, size_t len, bool *escaped)
{
    *escaped = false;
    for (i++; i < len;) {
        const char *q = memchr(t + i, '"', len - i);
        if (!q)
            return len;
        size_t at = (size_t)(q - t), slashes = 0;
        while (at - slashes > i && t[at - slashes - 1] == '\\')
            slashes++;
        if (slashes)
            *escaped = true;
        if (slashes % 2 == 0)
            return at + 1;
        i = at + 1;
    }
    return len;
}

/* t[i] starts a value: the index right after it, or len; *max_depth gets
 * how deep it nests. */
static size_t skip_value(const char *t, size_t i, size_t len, int *max_depth)
{
    bool escaped;
    int depth = 0;

    *max_depth = 0;
    if (i >= len)
        return len;
    if (t[i] == '"')
        return skip_string(t, i, len, &escaped);
    if (t[i] != '{' && t[i] != '[') {
        while (i < len && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\t' &&
               t[i] != '\n' && t[i] != '\r')
            i++;
        return i;
    }
    while (i < len) {
        switch (t[i]) {
        case '"': i = skip_string(t, i, len, &escaped); continue;
        case '{':
        case '[':
            if (++depth > *max_depth)
                *max_depth = depth;
            break;
        case '}':
        case ']':
            if (--depth == 0)
                return i + 1;
            break;
        default: break;
        }
        i++;
    }
    return len;
}

int jscan_member(const char *text, size_t len, const char *key, const char **value, size_t *value_len,
                 int *depth)
{
    size_t key_len = strlen(key), i = skip_space(text, 0, len);

    if (i >= len || text[i] != '{')
        return -1;
    i = skip_space(text, i + 1, len);
    while (i < len && text[i] == '"') {
        bool escaped;
        size_t key_end = skip_string(text, i, len, &escaped);
        if (key_end >= len || escaped)
            return -1;
        bool match = key_end - i - 2 == key_len && memcmp(text + i + 1, key, key_len) == 0;
        i = skip_space(text, key_end, len);
        if (i >= len || text[i] != ':')
            return -1;
        int nesting;
        size_t start = skip_space(text, i + 1, len), end;
        if (match && !value_len) {
            *value = text + start; /* where it starts is enough: not skipped */
            return start < len ? 0 : -1;
        }
        end = skip_value(text, start, len, &nesting);
        if (end >= len || end == start)
            return -1; /* the object's closing brace is still to come */
        if (match) {
            *value = text + start;
            *value_len = end - start;
            if (depth)
                *depth = nesting;
            return 0;
        }
        i = skip_space(text, end, len);
        if (i >= len || text[i] != ',')
            return -1; /* '}': no such member */
        i = skip_space(text, i + 1, len);
    }
    return -1;
}

bool jscan_first_key_is(const char *text, size_t len, const char *key)
{
    size_t n = strlen(key), i = 0;
    bool brace = false;

    for (; i < len && (isspace((unsigned char)text[i]) || (!brace && text[i] == '{')); i++)
        brace = brace || text[i] == '{';
    return brace && len - i > n + 1 && text[i] == '"' && memcmp(text + i + 1, key, n) == 0 && text[i + 1 + n] == '"';
}

size_t jscan_hollow(const char *text, size_t len, const char *value, size_t value_len, char **buf, size_t *cap)
{
    size_t head = (size_t)(value - text), tail = len - head - value_len, need = head + 2 + tail;
    if (need > *cap) {
        char *grown = realloc(*buf, need);
        if (!grown)
            return 0;
        *buf = grown;
        *cap = need;
    }
    memcpy(*buf, text, head);
    memcpy(*buf + head, "{}", 2);
    memcpy(*buf + head + 2, value + value_len, tail);
    return need;
}
