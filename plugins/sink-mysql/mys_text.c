/*
 * Rows as SQL text for the multi-row statements. Documents are serialized
 * straight into the statement buffer, escaped on the way: one pass over
 * each document, no copy of it anywhere else. The escaping is the server's
 * backslash rule (the session's sql_mode never has NO_BACKSLASH_ESCAPES);
 * the text is UTF-8 and the connection utf8mb4, whose multibyte sequences
 * never contain a quote or a backslash byte.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mys.h"

int mys_buffer_reserve(mys_buffer *buf, size_t more)
{
    if (buf->capacity - buf->len >= more)
        return 0;
    size_t capacity = buf->capacity ? buf->capacity : 64 * 1024;
    while (capacity - buf->len < more)
        capacity *= 2;
    char *data = realloc(buf->data, capacity);
    if (!data)
        return -1;
    buf->data = data;
    buf->capacity = capacity;
    return 0;
}

int mys_buffer_append(mys_buffer *buf, const char *bytes, size_t len)
{
    if (mys_buffer_reserve(buf, len + 1) != 0)
        return -1;
    memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

int mys_buffer_printf(mys_buffer *buf, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int len = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (len < 0 || mys_buffer_reserve(buf, (size_t)len + 1) != 0)
        return -1;
    va_start(args, fmt);
    vsnprintf(buf->data + buf->len, (size_t)len + 1, fmt, args);
    va_end(args);
    buf->len += (size_t)len;
    return 0;
}

void mys_buffer_free(mys_buffer *buf)
{
    free(buf->data);
    memset(buf, 0, sizeof(*buf));
}

/* What a byte becomes after the backslash, or 0 when it stays as it is. A
 * table: this runs over every byte of every document. Only the quote and
 * the backslash must be escaped inside '...'; NUL, CR, LF and Ctrl-Z are
 * escaped as the server's own clients do. A double quote stays as it is:
 * JSON is full of them, and each escape would cost a byte on the wire and
 * a break in the copy. */
static const char escape_of[256] = {
    ['\0'] = '0', ['\n'] = 'n', ['\r'] = 'r', ['\\'] = '\\', ['\''] = '\'', [0x1a] = 'Z',
};

int mys_escape_with(mys_buffer *buf, const char *bytes, size_t len, const char table[256])
{
    if (mys_buffer_reserve(buf, 2 * len + 1) != 0)
        return -1;
    char *out = buf->data + buf->len;
    size_t run = 0; /* start of the bytes not copied yet */
    for (size_t i = 0; i < len; i++) {
        char e = table[(unsigned char)bytes[i]];
        if (!e)
            continue;
        memcpy(out, bytes + run, i - run);
        out += i - run;
        *out++ = '\\';
        *out++ = e;
        run = i + 1;
    }
    memcpy(out, bytes + run, len - run);
    out += len - run;
    buf->len = (size_t)(out - buf->data);
    buf->data[buf->len] = '\0';
    return 0;
}

int mys_text_escape(mys_buffer *buf, const char *bytes, size_t len)
{
    return mys_escape_with(buf, bytes, len, escape_of);
}

int mys_text_literal(mys_buffer *buf, const char *bytes, size_t len)
{
    if (!bytes)
        return mys_buffer_append(buf, "NULL", 4);
    if (mys_buffer_append(buf, "'", 1) != 0 || mys_text_escape(buf, bytes, len) != 0)
        return -1;
    return mys_buffer_append(buf, "'", 1);
}

static int escape_piece(const char *bytes, size_t len, void *opaque)
{
    return mys_text_escape(opaque, bytes, len);
}

/* Appends `prefix`, the decimal `value`, then `suffix` (short ASCII
 * strings): what vsnprintf would do, without parsing a format per number. */
static int append_int(mys_buffer *buf, const char *prefix, int64_t value, const char *suffix)
{
    char digits[24], *p = digits + sizeof(digits);
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    do {
        *--p = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        *--p = '-';
    size_t prefix_len = strlen(prefix), suffix_len = strlen(suffix), len = (size_t)(digits + sizeof(digits) - p);
    if (mys_buffer_reserve(buf, prefix_len + len + suffix_len + 1) != 0)
        return -1;
    char *out = buf->data + buf->len;
    memcpy(out, prefix, prefix_len);
    memcpy(out + prefix_len, p, len);
    memcpy(out + prefix_len + len, suffix, suffix_len + 1);
    buf->len += prefix_len + len + suffix_len;
    return 0;
}

int mys_text_row(mys_buffer *buf, const rdapsync_record *record)
{
    const char *origin = record->version.origin ? record->version.origin : "";
    bool deleted = record->op == RDAPSYNC_OP_DELETE;

    if (mys_buffer_append(buf, "(", 1) != 0 || mys_text_literal(buf, record->key, record->key_len) != 0)
        return -1;
    if (deleted) {
        if (mys_buffer_append(buf, ",NULL,TRUE,", 11) != 0)
            return -1;
    } else if (mys_buffer_append(buf, ",'", 2) != 0 ||
               mys_host->json->dump_cb(record->value, 0, escape_piece, buf) != 0 ||
               mys_buffer_append(buf, "',FALSE,", 8) != 0) {
        return -1;
    }
    if (append_int(buf, "", record->version.event_time_ms, ",") != 0 ||
        mys_text_literal(buf, origin, strlen(origin)) != 0 ||
        append_int(buf, ",", record->version.sequence, ",") != 0 ||
        mys_text_literal(buf, record->position.stream,
                         record->position.stream ? strlen(record->position.stream) : 0) != 0 ||
        append_int(buf, ",", record->position.partition, ",") != 0 ||
        append_int(buf, "", record->position.offset, ")") != 0)
        return -1;
    return 0;
}
