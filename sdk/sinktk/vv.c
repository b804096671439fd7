/*
 * Version vectors: their causal order and their JSON text (sinktk.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

rdapsync_vv_order rdapsync_vv_compare(const rdapsync_vv *a, const rdapsync_vv *b)
{
    bool a_ahead = false, b_ahead = false;
    size_t i = 0, j = 0;

    /* Both lists are sorted: walk them together; a region only one side
     * has puts that side ahead (the other counts 0 there). */
    while (i < a->count || j < b->count) {
        int c;
        if (i == a->count)
            c = 1;
        else if (j == b->count)
            c = -1;
        else
            c = strcmp(a->entries[i].region, b->entries[j].region);
        if (c < 0) {
            a_ahead = true;
            i++;
        } else if (c > 0) {
            b_ahead = true;
            j++;
        } else {
            if (a->entries[i].counter > b->entries[j].counter)
                a_ahead = true;
            else if (a->entries[i].counter < b->entries[j].counter)
                b_ahead = true;
            i++;
            j++;
        }
        if (a_ahead && b_ahead)
            return RDAPSYNC_VV_CONCURRENT;
    }
    if (a_ahead)
        return RDAPSYNC_VV_AFTER;
    return b_ahead ? RDAPSYNC_VV_BEFORE : RDAPSYNC_VV_EQUAL;
}

const char *rdapsync_vv_order_str(rdapsync_vv_order order)
{
    switch (order) {
    case RDAPSYNC_VV_EQUAL: return "equal";
    case RDAPSYNC_VV_BEFORE: return "before";
    case RDAPSYNC_VV_AFTER: return "after";
    case RDAPSYNC_VV_CONCURRENT: return "concurrent";
    }
    return "unknown";
}

/* A quoted JSON string of `s` into out (sized by the caller as 6 bytes per
 * input byte + 2); returns the bytes written. Bytes >= 0x80 pass through:
 * regions are UTF-8 already. */
static size_t put_string(char *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    out[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            out[n++] = '\\';
            out[n++] = (char)*p;
        } else if (*p < 0x20) {
            memcpy(out + n, "\\u00", 4);
            out[n + 4] = hex[*p >> 4];
            out[n + 5] = hex[*p & 0xf];
            n += 6;
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n++] = '"';
    return n;
}

char *rdapsync_vv_format(const rdapsync_vv *vv)
{
    size_t size = 3; /* braces and NUL */
    char *out;
    size_t n = 0;

    for (size_t i = 0; i < vv->count; i++) {
        size_t len = strlen(vv->entries[i].region);
        if (len > (SIZE_MAX - size) / 6 - 32)
            return NULL;
        size += len * 6 + 2 + 1 + 20 + 1; /* quoted, colon, digits, comma */
    }
    out = malloc(size);
    if (!out)
        return NULL;
    out[n++] = '{';
    for (size_t i = 0; i < vv->count; i++) {
        if (i)
            out[n++] = ',';
        n += put_string(out + n, vv->entries[i].region);
        n += (size_t)snprintf(out + n, size - n, ":%" PRIu64, vv->entries[i].counter);
    }
    out[n++] = '}';
    out[n] = '\0';
    return out;
}

static int fail(char *error, size_t error_size, const char *fmt, ...) RDAPSYNC_PRINTF(3, 4);

static int fail(char *error, size_t error_size, const char *fmt, ...)
{
    if (error && error_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(error, error_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int entry_order(const void *a, const void *b)
{
    return strcmp(((const rdapsync_vv_entry *)a)->region, ((const rdapsync_vv_entry *)b)->region);
}

int rdapsync_vv_from_json(const rdapsync_json_api *json, const rdapsync_value *object, rdapsync_vv_entry *entries,
                          size_t capacity, size_t *count, char *error, size_t error_size)
{
    size_t n = 0;

    if (json->type(object) != RDAPSYNC_JSON_OBJECT)
        return fail(error, error_size, "a version vector is a JSON object of region: counter");
    /* The iterator is not const in the API, but only reads. */
    rdapsync_value *obj = (rdapsync_value *)object;
    for (rdapsync_value_iter *it = json->object_iter(obj); it; it = json->object_iter_next(obj, it)) {
        const char *region = json->object_iter_key(it);
        const rdapsync_value *counter = json->object_iter_value(it);
        if (!*region)
            return fail(error, error_size, "version vector: a region name is empty");
        if (json->type(counter) != RDAPSYNC_JSON_INTEGER || json->integer_value(counter) < 1)
            return fail(error, error_size, "version vector: the counter of region \"%.64s\" is not an integer >= 1",
                        region);
        if (n == capacity)
            return fail(error, error_size, "version vector: more than %zu regions", capacity);
        entries[n].region = region;
        entries[n].counter = (uint64_t)json->integer_value(counter);
        n++;
    }
    qsort(entries, n, sizeof(*entries), entry_order);
    *count = n;
    return 0;
}

int rdapsync_vv_parse(const rdapsync_json_api *json, const char *text, size_t len, rdapsync_vv_entry *entries,
                      size_t capacity, size_t *count, rdapsync_value **holder, char *error, size_t error_size)
{
    char err[256];
    rdapsync_value *value;

    *holder = NULL;
    value = json->parse(text, len, err, sizeof(err));
    if (!value)
        return fail(error, error_size, "version vector: %s", err);
    if (rdapsync_vv_from_json(json, value, entries, capacity, count, error, error_size) != 0) {
        json->decref(value);
        return -1;
    }
    *holder = value;
    return 0;
}
