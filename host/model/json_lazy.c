/*
 * Lazy documents (json_lazy.h): validation on simdjson's events, and the
 * tree built from the same events on first access.
 *
 * Validation also decides whether the text is already in jt_dump()'s form,
 * without writing that form: it adds up the length of the dump (each token
 * in its shortest spelling, which is the one jt_dump writes, and no
 * whitespace) and compares it with the text's. Every token of a text is at
 * least as long as its shortest spelling, so equal lengths mean every token
 * is spelled the shortest way and no byte is whitespace. The one shortest
 * spelling that is not unique is \u00XX for a control character without a
 * short escape (hex digits in either case): a string holding one makes the
 * text non-canonical.
 */
#include "model/json_lazy.h"

#include "model/json_api.h"
#include "model/json_simd.h"

#include <stdlib.h>
#include <string.h>

/* Objects with more members than this are checked for duplicate keys once,
 * sorted, when they close (as jt_parse does). */
#define DUP_SCAN_LIMIT 32

typedef struct vkey {
    const char *s;
    size_t len;
} vkey;

enum { V_REFUSED = 1, V_REAL, V_NO_MEMORY };

typedef struct validator {
    int depth;
    int escapes;   /* the text has a backslash: decoded strings need a look */
    int canonical; /* so far no string rules it out */
    int why;       /* V_* when the walk was stopped */
    size_t length; /* of the dump */
    size_t first[JSON_API_MAX_DEPTH + 1]; /* keys[] index where each open object's keys start */
    vkey *keys;
    size_t nkeys, keys_cap;
    vkey keys_inline[256];
} validator;

static int stop(validator *v, int why)
{
    v->why = why;
    return 1;
}

/* Length of s as jt_dump writes it (escapes included); (size_t)-1 for a NUL.
 * Only texts with a backslash can decode to anything that needs escaping. */
static size_t dump_length(validator *v, const char *s, size_t len)
{
    size_t n = len;

    if (!v->escapes)
        return n;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        switch (c) {
        case 0: return (size_t)-1;
        case '"':
        case '\\':
        case '\b':
        case '\f':
        case '\n':
        case '\r':
        case '\t': n += 1; break;
        default:
            n += 5;
            v->canonical = 0;
        }
    }
    return n;
}

static size_t int_length(int64_t i)
{
    uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    size_t n = i < 0 ? 2 : 1;

    while (u >= 10) {
        u /= 10;
        n++;
    }
    return n;
}

static int v_scalar(void *ctx, enum jsimd_scalar kind, int64_t i, double d, const char *s, size_t len)
{
    validator *v = ctx;
    size_t n;

    switch (kind) {
    case JSIMD_NULL:
    case JSIMD_TRUE: v->length += 4; return 0;
    case JSIMD_FALSE: v->length += 5; return 0;
    case JSIMD_INT: v->length += int_length(i); return 0;
    case JSIMD_UINT: return stop(v, V_REFUSED); /* beyond int64: "too big integer" */
    case JSIMD_REAL: return stop(v, V_REAL);
    case JSIMD_STRING:
        n = dump_length(v, s, len);
        if (n == (size_t)-1)
            return stop(v, V_REFUSED);
        v->length += n + 2;
        return 0;
    }
    return stop(v, V_REFUSED);
}

static int vkey_cmp(const void *a, const void *b)
{
    const vkey *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int v_key(void *ctx, const char *s, size_t len)
{
    validator *v = ctx;
    size_t first = v->first[v->depth - 1], n = dump_length(v, s, len);

    if (n == (size_t)-1)
        return stop(v, V_REFUSED);
    v->length += n + 2;
    if (v->nkeys - first < DUP_SCAN_LIMIT) {
        for (size_t k = first; k < v->nkeys; k++)
            if (v->keys[k].len == len && memcmp(v->keys[k].s, s, len) == 0)
                return stop(v, V_REFUSED);
    }
    if (v->nkeys == v->keys_cap) {
        size_t cap = v->keys_cap * 2;
        vkey *grown = v->keys == v->keys_inline ? malloc(cap * sizeof(*grown)) : realloc(v->keys, cap * sizeof(*grown));
        if (!grown)
            return stop(v, V_NO_MEMORY);
        if (v->keys == v->keys_inline)
            memcpy(grown, v->keys_inline, sizeof(v->keys_inline));
        v->keys = grown;
        v->keys_cap = cap;
    }
    v->keys[v->nkeys].s = s;
    v->keys[v->nkeys].len = len;
    v->nkeys++;
    return 0;
}

static int v_open(void *ctx, int is_object, size_t count)
{
    validator *v = ctx;

    if (v->depth >= JSON_API_MAX_DEPTH)
        return stop(v, V_REFUSED);
    v->first[v->depth++] = v->nkeys;
    /* Brackets, commas between items, and a colon per member. */
    v->length += 2 + (count ? count - 1 : 0) + (is_object ? count : 0);
    return 0;
}

static int v_close(void *ctx, int is_object)
{
    validator *v = ctx;
    size_t first = v->first[--v->depth], n = v->nkeys - first;

    if (is_object && n >= DUP_SCAN_LIMIT) {
        vkey *sorted = malloc(n * sizeof(*sorted));
        int dup = 0;
        if (!sorted)
            return stop(v, V_NO_MEMORY);
        memcpy(sorted, v->keys + first, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), vkey_cmp);
        for (size_t k = 1; k < n && !dup; k++)
            dup = vkey_cmp(&sorted[k - 1], &sorted[k]) == 0;
        free(sorted);
        if (dup)
            return stop(v, V_REFUSED);
    }
    v->nkeys = first;
    return 0;
}

static const jsimd_events validate_events = {v_scalar, v_key, v_open, v_close};

rdapsync_value *jl_parse(const char *text, size_t len, char *err, size_t err_size)
{
    size_t pad = jsimd_padding();
    validator v;
    jt_doc *doc;
    char *copy;
    uint32_t ticket = 0;
    int st;

    if (!text || len > SIZE_MAX / 8)
        return jt_parse(text, len, err, err_size);
    /* The text goes into the document's arena, padded for simdjson to read
     * in place; the tree, if ever built, follows it there. */
    doc = jt_doc_new(len + pad + sizeof(rdapsync_value) + 16);
    copy = doc ? jt_doc_alloc(doc, len + pad) : NULL;
    if (!copy) {
        jt_doc_release(doc);
        return jt_parse(text, len, err, err_size);
    }
    memcpy(copy, text, len);
    memset(copy + len, 0, pad);
    v.depth = 0;
    v.escapes = memchr(text, '\\', len) != NULL;
    v.canonical = 1;
    v.why = 0;
    v.length = 0;
    v.keys = v.keys_inline;
    v.nkeys = 0;
    v.keys_cap = sizeof(v.keys_inline) / sizeof(v.keys_inline[0]);
    st = jsimd_walk(copy, len, 1, &validate_events, &v, &ticket);
    if (v.keys != v.keys_inline)
        free(v.keys);
    if (st == JSIMD_OK) {
        rdapsync_value *node = jt_doc_lazy(doc, copy, len, v.canonical && v.length == len, ticket);
        if (node) {
            if (err && err_size)
                err[0] = '\0';
            return node;
        }
    }
    /* Refused, a real number, or out of memory: the tree parser's verdict,
     * message and tree. */
    jt_doc_release(doc);
    return jt_parse(text, len, err, err_size);
}

/* ---- building the tree ---- */

typedef struct bframe {
    rdapsync_value *c;
    uint32_t next;
} bframe;

typedef struct builder {
    jt_doc *doc;
    int depth;
    const char *key;
    size_t key_len;
    rdapsync_value *root;
    bframe stack[JSIMD_MAX_DEPTH + 1];
} builder;

/* Puts v into the open container (pre-sized at open), or makes it the root. */
static int place(builder *b, rdapsync_value *v)
{
    bframe *f;

    if (!v)
        return 1;
    if (b->depth == 0) {
        b->root = v;
        return 0;
    }
    f = &b->stack[b->depth - 1];
    if (f->c->kind == JT_OBJECT)
        return jt_doc_object_put(f->c, f->next++, b->key, b->key_len, v) != 0;
    f->c->u.items[f->next++] = v;
    return 0;
}

static int b_scalar(void *ctx, enum jsimd_scalar kind, int64_t i, double d, const char *s, size_t len)
{
    builder *b = ctx;

    switch (kind) {
    case JSIMD_NULL: return place(b, jt_null());
    case JSIMD_TRUE: return place(b, jt_bool(true));
    case JSIMD_FALSE: return place(b, jt_bool(false));
    case JSIMD_INT: return place(b, jt_doc_integer(b->doc, i));
    case JSIMD_STRING: return place(b, jt_doc_string(b->doc, s, len));
    case JSIMD_UINT:
    case JSIMD_REAL: break; /* validation sent these texts to jt_parse */
    }
    return 1;
}

static int b_key(void *ctx, const char *s, size_t len)
{
    builder *b = ctx;

    b->key = s;
    b->key_len = len;
    return 0;
}

static int b_open(void *ctx, int is_object, size_t count)
{
    builder *b = ctx;
    rdapsync_value *c = is_object ? jt_doc_object(b->doc, count) : jt_doc_array(b->doc, count);

    if (!c || place(b, c) != 0)
        return 1;
    b->stack[b->depth].c = c;
    b->stack[b->depth].next = 0;
    b->depth++;
    return 0;
}

static int b_close(void *ctx, int is_object)
{
    builder *b = ctx;

    b->depth--;
    return 0;
}

static const jsimd_events build_events = {b_scalar, b_key, b_open, b_close};

int jl_materialize(rdapsync_value *v)
{
    builder b;
    size_t len;
    rdapsync_value *r;

    if (!v || v->kind != JT_LAZY)
        return 0;
    len = v->u.str.len;
    b.doc = v->own.doc;
    b.depth = 0;
    b.key = NULL;
    b.key_len = 0;
    b.root = NULL;
    /* A built RDAP document takes about 4.1 times its text (json_parse.c). */
    if (jt_doc_reserve(b.doc, len * 4 + len / 4 + 512) != 0)
        return -1;
    if (jsimd_walk_again(v->u.str.bytes, len, v->count, &build_events, &b) != JSIMD_OK || !b.root)
        return -1; /* out of memory: the text was validated already */
    /* The node plugins hold becomes the root; the built root's own node is
     * left unused in the arena. Only the kind is needed for null/true/false. */
    r = b.root;
    v->kind = r->kind;
    v->count = r->count;
    v->u = r->u;
    return 0;
}
