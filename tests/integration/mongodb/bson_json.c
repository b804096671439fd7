/*
 * BSON back to JSON text (see bson_json.h). Reals are printed with 17
 * significant digits and always with a '.' or an exponent, so that they
 * parse back to the same double and stay reals.
 */
#include <stdio.h>
#include <string.h>

#include "bson_json.h"

#define WRAP_KEY "_array"

void bson_json_write_string(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        default:
            if (c < 0x20)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}

static void write_double(FILE *out, double d)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.17g", d);
    fputs(buf, out);
    if (!strpbrk(buf, ".eEn"))
        fputs(".0", out);
}

static int write_members(FILE *out, bson_iter_t *members, char *err, size_t err_size)
{
    bool first = true;
    fputc('{', out);
    while (bson_iter_next(members)) {
        uint32_t len = bson_iter_key_len(members);
        if (!first)
            fputc(',', out);
        first = false;
        bson_json_write_string(out, bson_iter_key(members), len);
        fputc(':', out);
        if (bson_json_write_value(out, members, err, err_size) != 0)
            return -1;
    }
    fputc('}', out);
    return 0;
}

static int write_items(FILE *out, bson_iter_t *items, char *err, size_t err_size)
{
    bool first = true;
    fputc('[', out);
    while (bson_iter_next(items)) {
        if (!first)
            fputc(',', out);
        first = false;
        if (bson_json_write_value(out, items, err, err_size) != 0)
            return -1;
    }
    fputc(']', out);
    return 0;
}

/* A document whose only member is "_array": the wrapper of an array, or
 * an escaped object. */
static int write_document(FILE *out, const bson_iter_t *it, char *err, size_t err_size)
{
    bson_iter_t child, only;
    if (!bson_iter_recurse(it, &child))
        return -1;
    only = child;
    if (bson_iter_next(&only) && strcmp(bson_iter_key(&only), WRAP_KEY) == 0) {
        bson_iter_t after = only;
        if (!bson_iter_next(&after)) {
            bson_iter_t inner;
            if (BSON_ITER_HOLDS_ARRAY(&only) && bson_iter_recurse(&only, &inner))
                return write_items(out, &inner, err, err_size);
            if (BSON_ITER_HOLDS_DOCUMENT(&only) && bson_iter_recurse(&only, &inner))
                return write_members(out, &inner, err, err_size);
        }
    }
    return write_members(out, &child, err, err_size);
}

int bson_json_write_value(FILE *out, const bson_iter_t *it, char *err, size_t err_size)
{
    bson_iter_t child;
    switch (bson_iter_type(it)) {
    case BSON_TYPE_NULL: fputs("null", out); return 0;
    case BSON_TYPE_BOOL: fputs(bson_iter_bool(it) ? "true" : "false", out); return 0;
    case BSON_TYPE_INT32: fprintf(out, "%d", (int)bson_iter_int32(it)); return 0;
    case BSON_TYPE_INT64: fprintf(out, "%lld", (long long)bson_iter_int64(it)); return 0;
    case BSON_TYPE_DOUBLE: write_double(out, bson_iter_double(it)); return 0;
    case BSON_TYPE_UTF8: {
        uint32_t len = 0;
        const char *s = bson_iter_utf8(it, &len);
        bson_json_write_string(out, s, len);
        return 0;
    }
    case BSON_TYPE_DOCUMENT: return write_document(out, it, err, err_size);
    case BSON_TYPE_ARRAY:
        if (!bson_iter_recurse(it, &child))
            return -1;
        return write_items(out, &child, err, err_size);
    default:
        snprintf(err, err_size, "BSON type 0x%02x at \"%s\" is not one the sink writes", (unsigned)bson_iter_type(it),
                 bson_iter_key(it));
        return -1;
    }
}
