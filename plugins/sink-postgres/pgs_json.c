/*
 * Serializing a document for the server. host->json->dump() is correct but
 * slow for this job: jansson 2.14 registers every object and array it
 * visits in a loop-detection hash table (an allocation and a free each), so
 * dumping a ~4 KB RDAP document cost the sink about as much CPU as parsing
 * it cost the source. Values handed to a sink are trees (the parser builds
 * no cycles), so this walks them through the accessor table straight into
 * one reused buffer. The text is what dump(value, 0) writes: compact,
 * members in insertion order, reals as "%.17g" with ".0" added to integral
 * ones.
 */
#include <stdio.h>
#include <string.h>

#include "pgs.h"

/* Deeper than the parser's limit (512) can only be a bug upstream. */
#define PGS_JSON_MAX_DEPTH 1024

static int put(pgs_buffer *out, const char *bytes, size_t len)
{
    return pgs_buffer_append(out, bytes, len);
}

static int put_string(pgs_buffer *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF"; /* jansson writes \u001F */
    if (put(out, "\"", 1) != 0)
        return -1;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (put(out, s + run, i - run) != 0)
            return -1;
        run = i + 1;
        char esc[6] = { '\\', 0, 0, 0, 0, 0 };
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            n = 6;
            break;
        }
        if (put(out, esc, n) != 0)
            return -1;
    }
    if (put(out, s + run, len - run) != 0)
        return -1;
    return put(out, "\"", 1);
}

static int put_real(pgs_buffer *out, double v)
{
    char text[40];
    int n = snprintf(text, sizeof(text), "%.17g", v);
    if (n <= 0 || (size_t)n >= sizeof(text) - 2)
        return -1;
    char *e = strchr(text, 'e');
    if (e) {
        /* jansson writes 1e300 and 1e-7, not 1e+300 and 1e-07. */
        char *digits = e + 1, *from = e + 1;
        if (*from == '+')
            from++;
        else if (*from == '-')
            digits++, from++;
        while (*from == '0' && from[1])
            from++;
        memmove(digits, from, strlen(from) + 1);
        n = (int)strlen(text);
    } else if (!strpbrk(text, ".ni")) {
        /* integral: keep it a real, as jansson does */
        memcpy(text + n, ".0", 3);
        n += 2;
    }
    return put(out, text, (size_t)n);
}

static int put_value(const rdapsync_json_api *json, const rdapsync_value *v, pgs_buffer *out, int depth)
{
    char text[24];
    if (depth > PGS_JSON_MAX_DEPTH)
        return -1;
    switch (json->type(v)) {
    case RDAPSYNC_JSON_NULL: return put(out, "null", 4);
    case RDAPSYNC_JSON_BOOL: return json->bool_value(v) ? put(out, "true", 4) : put(out, "false", 5);
    case RDAPSYNC_JSON_INTEGER:
        return put(out, text, (size_t)snprintf(text, sizeof(text), "%lld", (long long)json->integer_value(v)));
    case RDAPSYNC_JSON_REAL: return put_real(out, json->number_value(v));
    case RDAPSYNC_JSON_STRING: return put_string(out, json->string_value(v), json->string_length(v));
    case RDAPSYNC_JSON_ARRAY: {
        size_t n = json->array_size(v);
        if (put(out, "[", 1) != 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            if ((i && put(out, ",", 1) != 0) || put_value(json, json->array_get(v, i), out, depth + 1) != 0)
                return -1;
        return put(out, "]", 1);
    }
    case RDAPSYNC_JSON_OBJECT: {
        /* The iterator functions take a mutable object but do not change it. */
        rdapsync_value *object = (rdapsync_value *)v;
        if (put(out, "{", 1) != 0)
            return -1;
        bool first = true;
        for (rdapsync_value_iter *it = json->object_iter(object); it; it = json->object_iter_next(object, it)) {
            const char *key = json->object_iter_key(it);
            if ((!first && put(out, ",", 1) != 0) || put_string(out, key, strlen(key)) != 0 ||
                put(out, ":", 1) != 0 || put_value(json, json->object_iter_value(it), out, depth + 1) != 0)
                return -1;
            first = false;
        }
        return put(out, "}", 1);
    }
    }
    return -1;
}

int pgs_json_serialize(const rdapsync_value *value, pgs_buffer *out)
{
    return put_value(pgs_host->json, value, out, 0);
}
