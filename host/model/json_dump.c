/*
 * Compact tree -> JSON text. The output matches what jansson wrote before
 * (compact separators, UTF-8 kept as is, control characters escaped, "/" not
 * escaped, reals with 17 significant digits and always a '.' or exponent), so
 * stored documents and hashes did not change when the tree did.
 *
 * Output is gathered in a 16 KB buffer and handed to the callback in pieces.
 */
#include "model/json_tree.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_CHUNK 16384

typedef struct out {
    rdapsync_dump_fn fn;
    void *opaque;
    int failed;
    size_t len;
    char buf[OUT_CHUNK];
} out;

static void out_flush(out *o)
{
    if (o->len && !o->failed && o->fn(o->buf, o->len, o->opaque) != 0)
        o->failed = 1;
    o->len = 0;
}

static void out_put(out *o, const char *bytes, size_t n)
{
    while (n > 0 && !o->failed) {
        size_t room = OUT_CHUNK - o->len, take = n < room ? n : room;
        memcpy(o->buf + o->len, bytes, take);
        o->len += take;
        bytes += take;
        n -= take;
        if (o->len == OUT_CHUNK)
            out_flush(o);
    }
}

static void out_byte(out *o, char c)
{
    if (o->len == OUT_CHUNK)
        out_flush(o);
    o->buf[o->len++] = c;
}

static void put_string(out *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF"; /* jansson's case: stored bytes stay the same */
    size_t run = 0;

    out_byte(o, '"');
    for (size_t i = 0; i < len; i++) {
        i = jt_plain_until(s, i, len);
        if (i >= len)
            break;
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t n = 2;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out_put(o, s + run, i - run);
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xF];
            n = 6;
        }
        out_put(o, esc, n);
    }
    out_put(o, s + run, len - run);
    out_byte(o, '"');
}

/* 17 significant digits round-trip every double; a '.' or an exponent keeps
 * the number a real when read back. */
static void put_real(out *o, double d)
{
    char buf[40];
    int n = snprintf(buf, sizeof(buf) - 2, "%.17g", d);

    if (n < 0)
        n = 0;
    for (int i = 0; i < n; i++)
        if (buf[i] == ',')
            buf[i] = '.'; /* a locale with a decimal comma */
    if (!strpbrk(buf, ".eE")) {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }
    /* "1e+20" -> "1e20", "1e-07" -> "1e-7", as jansson wrote them. */
    char *e = strchr(buf, 'e');
    if (e) {
        char *digits = e + 1, *from;
        if (*digits == '-')
            digits++;
        from = digits;
        if (*from == '+')
            from++;
        while (*from == '0' && from[1])
            from++;
        if (e[1] == '+')
            digits = e + 1;
        memmove(digits, from, strlen(from) + 1);
        n = (int)strlen(buf);
    }
    out_put(o, buf, (size_t)n);
}

static int member_cmp(const void *a, const void *b)
{
    const jt_member *x = *(const jt_member *const *)a, *y = *(const jt_member *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static void put_value(out *o, const rdapsync_value *v, bool sort_keys)
{
    char num[24];
    int n;

    if (o->failed)
        return;
    switch (v->kind) {
    case JT_NULL: out_put(o, "null", 4); return;
    case JT_TRUE: out_put(o, "true", 4); return;
    case JT_FALSE: out_put(o, "false", 5); return;
    case JT_INTEGER:
        n = snprintf(num, sizeof(num), "%" PRId64, v->u.integer);
        out_put(o, num, (size_t)n);
        return;
    case JT_REAL: put_real(o, v->u.real); return;
    case JT_STRING: put_string(o, v->u.str.bytes, v->u.str.len); return;
    case JT_ARRAY:
        out_byte(o, '[');
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                out_byte(o, ',');
            put_value(o, v->u.items[i], sort_keys);
        }
        out_byte(o, ']');
        return;
    case JT_OBJECT: {
        const jt_member **order = NULL;
        if (sort_keys && v->count > 1) {
            order = malloc(v->count * sizeof(*order));
            if (!order) {
                o->failed = 1;
                return;
            }
            for (uint32_t i = 0; i < v->count; i++)
                order[i] = &v->u.obj.members[i];
            qsort(order, v->count, sizeof(*order), member_cmp);
        }
        out_byte(o, '{');
        for (uint32_t i = 0; i < v->count; i++) {
            const jt_member *m = order ? order[i] : &v->u.obj.members[i];
            if (i)
                out_byte(o, ',');
            put_string(o, m->key, m->key_len);
            out_byte(o, ':');
            put_value(o, m->value, sort_keys);
        }
        out_byte(o, '}');
        free(order);
        return;
    }
    }
}

int jt_dump(const rdapsync_value *v, bool sort_keys, rdapsync_dump_fn fn, void *opaque)
{
    out o; /* on the stack: a heap buffer per dump made malloc the hot spot */

    if (!v || !fn)
        return -1;
    o.fn = fn;
    o.opaque = opaque;
    o.failed = 0;
    o.len = 0;
    put_value(&o, v, sort_keys);
    out_flush(&o);
    return o.failed ? -1 : 0;
}

typedef struct growing {
    char *buf;
    size_t len, cap;
} growing;

static int grow_append(const char *bytes, size_t len, void *opaque)
{
    growing *g = opaque;
    if (g->cap - g->len < len + 1) {
        size_t cap = g->cap ? g->cap : 256;
        char *bigger;
        while (cap - g->len < len + 1)
            cap *= 2;
        bigger = realloc(g->buf, cap);
        if (!bigger)
            return -1;
        g->buf = bigger;
        g->cap = cap;
    }
    memcpy(g->buf + g->len, bytes, len);
    g->len += len;
    g->buf[g->len] = '\0';
    return 0;
}

char *jt_dump_string(const rdapsync_value *v, bool sort_keys, size_t *len)
{
    growing g = {NULL, 0, 0};

    if (jt_dump(v, sort_keys, grow_append, &g) != 0 || !g.buf) {
        free(g.buf);
        return NULL;
    }
    if (len)
        *len = g.len;
    return g.buf;
}
