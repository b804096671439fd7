/*
 * Records as JSON lines. The value is serialized once, by the host's
 * dump_cb, straight into the output buffer; everything around it (key,
 * version, position, headers, dead-letter fields) is written here.
 */
#include "sink_file.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

#define J (sink_file_host->json)

int out_reserve(out_buffer *out, size_t more)
{
    if (out->cap - out->len >= more)
        return 0;
    size_t cap = out->cap ? out->cap : 64 * 1024;
    while (cap - out->len < more)
        cap *= 2;
    char *grown = realloc(out->data, cap);
    if (!grown)
        return -1;
    out->data = grown;
    out->cap = cap;
    return 0;
}

int out_append(out_buffer *out, const void *bytes, size_t len)
{
    if (out_reserve(out, len) != 0)
        return -1;
    memcpy(out->data + out->len, bytes, len);
    out->len += len;
    return 0;
}

#define LIT(out, s) out_append((out), (s), sizeof(s) - 1)

int out_int64(out_buffer *out, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRId64, v);
    return out_append(out, num, (size_t)n);
}

/* Length of the valid UTF-8 sequence at p (no overlongs, no surrogates,
 * nothing above U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F))
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
            return 0;
        return 4;
    }
    return 0;
}

static bool utf8_valid(const char *bytes, size_t len)
{
    const unsigned char *p = (const unsigned char *)bytes, *end = p + len;
    while (p < end) {
        size_t n = utf8_sequence(p, (size_t)(end - p));
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD (only header
 * values can hold them: keys and JSON strings are valid by construction). */
int out_json_string(out_buffer *out, const char *bytes, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)bytes, *end = p + len, *run = p;

    if (out_reserve(out, len + 2) != 0 || LIT(out, "\"") != 0)
        return -1;
    while (p < end) {
        unsigned char c = *p;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            p++;
            continue;
        }
        size_t n = c >= 0x80 ? utf8_sequence(p, (size_t)(end - p)) : 0;
        if (n) {
            p += n;
            continue;
        }
        if (out_append(out, run, (size_t)(p - run)) != 0)
            return -1;
        int rc;
        if (c == '"')
            rc = LIT(out, "\\\"");
        else if (c == '\\')
            rc = LIT(out, "\\\\");
        else if (c == '\n')
            rc = LIT(out, "\\n");
        else if (c == '\r')
            rc = LIT(out, "\\r");
        else if (c == '\t')
            rc = LIT(out, "\\t");
        else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rc = out_append(out, esc, sizeof(esc));
        } else {
            rc = LIT(out, "\\ufffd");
        }
        if (rc != 0)
            return -1;
        run = ++p;
    }
    if (out_append(out, run, (size_t)(p - run)) != 0)
        return -1;
    return LIT(out, "\"");
}

static int out_cstring_or_null(out_buffer *out, const char *s)
{
    return s ? out_json_string(out, s, strlen(s)) : LIT(out, "null");
}

static int out_base64_string(out_buffer *out, const unsigned char *p, size_t len)
{
    static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need = (len + 2) / 3 * 4 + 2;

    if (out_reserve(out, need) != 0)
        return -1;
    char *o = out->data + out->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = table[v >> 18];
        *o++ = table[(v >> 12) & 63];
        *o++ = table[(v >> 6) & 63];
        *o++ = table[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = table[v >> 18];
        *o++ = table[(v >> 12) & 63];
        *o++ = i + 1 < len ? table[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o++ = '"';
    out->len = (size_t)(o - out->data);
    return 0;
}

static int dump_into(const char *bytes, size_t len, void *opaque)
{
    return out_append(opaque, bytes, len);
}

static int out_value(out_buffer *out, const rdapsync_value *value)
{
    if (!value)
        return LIT(out, "null");
    return J->dump_cb(value, 0, dump_into, out);
}

/* Headers as an object; a name that repeats gets an array of its values. */
static int out_headers(out_buffer *out, const rdapsync_record *r)
{
    if (LIT(out, "{") != 0)
        return -1;
    bool first = true;
    for (size_t i = 0; i < r->header_count; i++) {
        const rdapsync_header *h = &r->headers[i];
        size_t same = 0;
        bool seen = false;
        for (size_t k = 0; k < r->header_count; k++) {
            if (strcmp(r->headers[k].name, h->name) != 0)
                continue;
            if (k < i)
                seen = true;
            same++;
        }
        if (seen)
            continue;
        if ((!first && LIT(out, ",") != 0) || out_json_string(out, h->name, strlen(h->name)) != 0 ||
            LIT(out, ":") != 0)
            return -1;
        first = false;
        if (same == 1) {
            if (out_json_string(out, h->value, h->value_len) != 0)
                return -1;
            continue;
        }
        if (LIT(out, "[") != 0)
            return -1;
        for (size_t k = i, n = 0; k < r->header_count; k++) {
            if (strcmp(r->headers[k].name, h->name) != 0)
                continue;
            if ((n++ && LIT(out, ",") != 0) || out_json_string(out, r->headers[k].value, r->headers[k].value_len) != 0)
                return -1;
        }
        if (LIT(out, "]") != 0)
            return -1;
    }
    return LIT(out, "}");
}

static int out_key(out_buffer *out, const rdapsync_record *r)
{
    return r->key ? out_json_string(out, r->key, r->key_len) : LIT(out, "null");
}

/* `,"vv":{...}` when the record has a version vector, nothing otherwise:
 * the text rdapsync_vv_format() writes, which the file source reads back. */
static int out_vv(out_buffer *out, const rdapsync_record *r)
{
    rdapsync_vv vv = rdapsync_record_vv(sink_file_host, r);
    if (vv.count == 0)
        return 0;
    char *text = rdapsync_vv_format(&vv);
    if (!text)
        return -1;
    int rc = LIT(out, ",\"vv\":") || out_append(out, text, strlen(text)) ? -1 : 0;
    free(text);
    return rc;
}

static int encode_envelope(out_buffer *out, const rdapsync_record *r)
{
    if (LIT(out, "{\"key\":") || out_key(out, r) ||
        (r->op == RDAPSYNC_OP_DELETE ? LIT(out, ",\"op\":\"delete\"") : LIT(out, ",\"op\":\"upsert\"")) ||
        LIT(out, ",\"version\":{\"ts_ms\":") || out_int64(out, r->version.event_time_ms) ||
        LIT(out, ",\"origin\":") || out_cstring_or_null(out, r->version.origin) || LIT(out, ",\"seq\":") ||
        out_int64(out, r->version.sequence) || LIT(out, "}") || out_vv(out, r) ||
        LIT(out, ",\"position\":{\"stream\":") ||
        out_cstring_or_null(out, r->position.stream) || LIT(out, ",\"partition\":") ||
        out_int64(out, r->position.partition) || LIT(out, ",\"offset\":") || out_int64(out, r->position.offset) ||
        LIT(out, "},\"headers\":") || out_headers(out, r) || LIT(out, ",\"value\":") || out_value(out, r->value))
        return -1;
    if (r->error && (LIT(out, ",\"error\":") || out_json_string(out, r->error, strlen(r->error))))
        return -1;
    if (r->raw) {
        bool text = utf8_valid(r->raw, r->raw_len);
        if (LIT(out, ",\"raw\":") ||
            (text ? out_json_string(out, r->raw, r->raw_len)
                  : out_base64_string(out, (const unsigned char *)r->raw, r->raw_len)) ||
            (text ? LIT(out, ",\"raw_encoding\":\"utf8\"") : LIT(out, ",\"raw_encoding\":\"base64\"")))
            return -1;
    }
    return LIT(out, "}\n");
}

int encode_record(sink_state *s, const rdapsync_record *r)
{
    out_buffer *out = &s->out;

    if (s->cfg->format == FORMAT_ENVELOPE || r->error || r->raw)
        return encode_envelope(out, r);
    if (r->op == RDAPSYNC_OP_DELETE)
        return LIT(out, "{\"key\":") || out_key(out, r) || LIT(out, ",\"op\":\"delete\"}\n") ? -1 : 0;
    if (!r->value)
        return encode_envelope(out, r); /* an upsert without a document: keep everything */
    return out_value(out, r->value) || LIT(out, "\n") ? -1 : 0;
}
