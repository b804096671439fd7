/*
 * JSON text -> compact tree. yajl does the lexing and the validation that is
 * easy to get subtly wrong (UTF-8, escapes, the number grammar, trailing
 * garbage); its events build the tree here. What the SDK refuses beyond
 * yajl: NUL in strings, unpaired surrogate escapes (yajl would turn them into
 * '?' or CESU-8), duplicate keys, integers beyond 64 bits, nesting deeper
 * than JSON_API_MAX_DEPTH.
 *
 * Children are collected on a stack and each container is allocated once, at
 * its exact size, when it closes.
 */
#include "model/json_api.h"
#include "model/json_tree.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* An object holding more members than this is checked for duplicate keys
 * once, sorted, when it closes, instead of member by member. */
#define DUP_SCAN_LIMIT 32

typedef struct slot {
    rdapsync_value *value;
    size_t key_off; /* in the key scratch; objects only */
    size_t key_len;
} slot;

typedef struct frame {
    size_t first;     /* first slot of this container */
    size_t key_start; /* key scratch length when it opened */
    int is_object;
} frame;

typedef struct parser {
    yajl_handle yajl;
    jt_doc *doc; /* every node of the tree lives in its arena */
    const char *text;
    size_t len;
    slot *slots;
    size_t nslots, slots_cap;
    frame frames[JSON_API_MAX_DEPTH];
    int depth;
    char *keys; /* key scratch: current keys of every open object */
    size_t keys_len, keys_cap;
    size_t pending_key_off, pending_key_len; /* set by map_key */
    rdapsync_value *root;
    /* First storage of the scratch stacks and of yajl's own allocations, on
     * the stack: a parse that fits makes no allocation but the tree's. */
    slot slots_inline[256];
    char keys_inline[2048];
    size_t arena_used;
    _Alignas(16) unsigned char arena[8192];
    char reason[96];
    size_t fail_at;  /* byte offset for our own refusals */
    int finishing;   /* inside yajl_complete_parse: yajl's offsets no longer index the text */
} parser;

static int refuse(parser *p, const char *reason)
{
    snprintf(p->reason, sizeof(p->reason), "%s", reason);
    p->fail_at = p->finishing ? p->len : yajl_get_bytes_consumed(p->yajl);
    return 0;
}

/* Grows a scratch array that may still be the inline one; 0 or -1. */
static int grow(void **array, size_t *cap, size_t elem, size_t need, void *inline_storage, size_t first_cap)
{
    size_t n = *cap ? *cap : first_cap;
    void *bigger;

    while (n < need)
        n *= 2;
    if (*array == inline_storage || !*array) {
        bigger = malloc(n * elem);
        if (bigger && *array)
            memcpy(bigger, *array, *cap * elem);
    } else {
        bigger = realloc(*array, n * elem);
    }
    if (!bigger)
        return -1;
    *array = bigger;
    *cap = n;
    return 0;
}

/* yajl's allocations come from the parser's arena while it lasts. Each block
 * carries its size in front, for realloc. */
static void *arena_malloc(void *ctx, size_t size)
{
    parser *p = ctx;
    size_t need = (size + 2 * sizeof(size_t) + 15) & ~(size_t)15;
    unsigned char *block;

    if (size > sizeof(p->arena) || sizeof(p->arena) - p->arena_used < need) {
        block = malloc(size + 2 * sizeof(size_t));
        if (!block)
            return NULL;
    } else {
        block = p->arena + p->arena_used;
        p->arena_used += need;
    }
    memcpy(block, &size, sizeof(size));
    return block + 2 * sizeof(size_t);
}

static void arena_free(void *ctx, void *ptr)
{
    parser *p = ctx;
    unsigned char *block = ptr ? (unsigned char *)ptr - 2 * sizeof(size_t) : NULL;

    if (block && (block < p->arena || block >= p->arena + sizeof(p->arena)))
        free(block);
}

static void *arena_realloc(void *ctx, void *ptr, size_t size)
{
    size_t old;
    void *bigger;

    if (!ptr)
        return arena_malloc(ctx, size);
    memcpy(&old, (unsigned char *)ptr - 2 * sizeof(size_t), sizeof(old));
    if (size <= old)
        return ptr;
    bigger = arena_malloc(ctx, size);
    if (!bigger)
        return NULL;
    memcpy(bigger, ptr, old);
    arena_free(ctx, ptr);
    return bigger;
}

/* Places `v` in the open container (or as the root); steals it. */
static int add(parser *p, rdapsync_value *v)
{
    slot *s;

    if (!v)
        return refuse(p, "out of memory");
    if (p->depth == 0) {
        p->root = v;
        return 1;
    }
    /* Arena nodes: nothing to release on the failure paths below. */
    if (p->nslots == p->slots_cap &&
        grow((void **)&p->slots, &p->slots_cap, sizeof(slot), p->nslots + 1, p->slots_inline, 256) != 0)
        return refuse(p, "out of memory");
    s = &p->slots[p->nslots++];
    s->value = v;
    s->key_off = p->pending_key_off;
    s->key_len = p->pending_key_len;
    return 1;
}

/* Four hex digits at t[0..4) (the caller made sure they are in the text:
 * it is not NUL-terminated, so no sscanf); 1 with *cp, or 0. */
static int hex4(const char *t, unsigned *cp)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = t[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15)
            return 0;
        v = v * 16 + d;
    }
    *cp = v;
    return 1;
}

/* An escaped string whose escapes yajl decoded: look at the raw token for
 * \uD800-\uDBFF not followed by \uDC00-\uDFFF, or a lone \uDC00-\uDFFF. The
 * token ends where yajl has consumed up to. */
static int surrogates_paired(parser *p)
{
    size_t end = yajl_get_bytes_consumed(p->yajl), start;
    const char *t = p->text;

    if (end < 2 || end > p->len)
        return 1;
    /* The opening quote is the first quote going back that is not escaped
     * (preceded by an even number of backslashes). */
    for (start = end - 1; start-- > 0;) {
        size_t bs = 0;
        if (t[start] != '"')
            continue;
        while (bs < start && t[start - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            break;
    }
    for (size_t i = start + 1; i + 1 < end; i++) {
        unsigned cp;
        if (t[i] != '\\')
            continue;
        if (t[i + 1] != 'u' || i + 6 > end || !hex4(t + i + 2, &cp)) {
            i++;
            continue;
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return 0;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned low;
            if (i + 12 > end || t[i + 6] != '\\' || t[i + 7] != 'u' || !hex4(t + i + 8, &low) ||
                low < 0xDC00 || low > 0xDFFF)
                return 0;
            i += 6;
        }
        i += 5;
    }
    return 1;
}

/* Checks a string or key; 1 when acceptable. Decoded ones (escapes were
 * present) can hold a NUL from \u0000, or an unpaired surrogate escape
 * that yajl replaced with '?'. And yajl's own UTF-8 check lets overlong
 * forms, encoded surrogates (ED A0 80) and code points above U+10FFFF
 * through, in raw and decoded strings alike: the strict check runs on
 * every string (ASCII is skipped eight bytes at a time). */
static int text_ok(parser *p, const unsigned char *s, size_t len)
{
    if ((const char *)s < p->text || (const char *)s >= p->text + p->len) {
        if (memchr(s, '\0', len))
            return refuse(p, "\\u0000 is not allowed in a string");
        /* Not only when yajl wrote '?': it also joins a high surrogate
         * with any escape that follows ("\ud800\u0041" became U+10041). */
        if (!surrogates_paired(p))
            return refuse(p, "invalid Unicode escape: unpaired surrogate");
    }
    if (!jt_utf8_valid((const char *)s, len))
        return refuse(p, surrogates_paired(p) ? "invalid UTF-8 in a string" : "invalid Unicode escape: unpaired surrogate");
    return 1;
}

static int on_null(void *ctx) { return add(ctx, jt_null()); }
static int on_bool(void *ctx, int b) { return add(ctx, jt_bool(b != 0)); }

static int on_number(void *ctx, const char *s, size_t len)
{
    parser *p = ctx;
    char buf[64], *text = buf, *end;
    int is_real = memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len);
    rdapsync_value *v;

    if (len >= sizeof(buf)) {
        text = malloc(len + 1);
        if (!text)
            return refuse(p, "out of memory");
    }
    memcpy(text, s, len);
    text[len] = '\0';
    errno = 0;
    if (is_real) {
        double d = strtod(text, &end);
        v = (errno == ERANGE && isinf(d)) ? NULL : jt_doc_real(p->doc, d);
        if (text != buf)
            free(text);
        if (!v && isinf(d))
            return refuse(p, "real number overflow");
    } else {
        long long i = strtoll(text, &end, 10);
        int overflow = errno == ERANGE;
        if (text != buf)
            free(text);
        if (overflow)
            return refuse(p, "too big integer");
        v = jt_doc_integer(p->doc, (int64_t)i);
    }
    return add(p, v);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    parser *p = ctx;
    if (!text_ok(p, s, len))
        return 0;
    return add(p, jt_doc_string(p->doc, (const char *)s, len));
}

static int open_container(parser *p, int is_object)
{
    frame *f;

    if (p->depth >= JSON_API_MAX_DEPTH)
        return refuse(p, "maximum parsing depth reached");
    f = &p->frames[p->depth];
    /* Remember the key under which this container will sit in its parent. */
    f->first = p->nslots;
    f->key_start = p->keys_len;
    f->is_object = is_object;
    /* The pending key belongs to the parent: keep it on a placeholder slot. */
    if (p->depth > 0) {
        if (!add(p, jt_null()))
            return 0;
        f->first = p->nslots;
    }
    p->depth++;
    return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, 1); }
static int on_start_array(void *ctx) { return open_container(ctx, 0); }

static int key_cmp(const void *a, const void *b, void *keys)
{
    const slot *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp((char *)keys + x->key_off, (char *)keys + y->key_off, n);
    return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static _Thread_local char *sort_keys_base;
static int key_cmp_global(const void *a, const void *b) { return key_cmp(a, b, sort_keys_base); }

static int has_duplicates(parser *p, const slot *s, size_t n)
{
    slot *sorted = malloc(n * sizeof(*sorted));
    int dup = 0;

    if (!sorted)
        return -1;
    memcpy(sorted, s, n * sizeof(*sorted));
    sort_keys_base = p->keys; /* qsort has no context argument; parse runs per thread */
    qsort(sorted, n, sizeof(*sorted), key_cmp_global);
    for (size_t i = 1; i < n && !dup; i++)
        dup = key_cmp(&sorted[i - 1], &sorted[i], p->keys) == 0;
    free(sorted);
    return dup;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    parser *p = ctx;
    frame *f = &p->frames[p->depth - 1];
    size_t members = p->nslots - f->first;

    if (!text_ok(p, key, len))
        return 0;
    if (members < DUP_SCAN_LIMIT) {
        for (size_t i = f->first; i < p->nslots; i++)
            if (p->slots[i].key_len == len && memcmp(p->keys + p->slots[i].key_off, key, len) == 0)
                return refuse(p, "duplicate object key");
    }
    if (p->keys_cap - p->keys_len < len + 1 &&
        grow((void **)&p->keys, &p->keys_cap, 1, p->keys_len + len + 1, p->keys_inline, 2048) != 0)
        return refuse(p, "out of memory");
    memcpy(p->keys + p->keys_len, key, len);
    p->keys[p->keys_len + len] = '\0';
    p->pending_key_off = p->keys_len;
    p->pending_key_len = len;
    p->keys_len += len + 1;
    return 1;
}

static int close_container(parser *p)
{
    frame *f = &p->frames[--p->depth];
    size_t n = p->nslots - f->first;
    slot *s = p->slots + f->first;
    rdapsync_value *v;

    if (f->is_object) {
        if (n >= DUP_SCAN_LIMIT) {
            int dup = has_duplicates(p, s, n);
            if (dup != 0)
                return refuse(p, dup < 0 ? "out of memory" : "duplicate object key");
        }
        v = jt_doc_object(p->doc, n);
        if (!v)
            return refuse(p, "out of memory");
        for (size_t i = 0; i < n; i++)
            if (jt_doc_object_put(v, i, p->keys + s[i].key_off, s[i].key_len, s[i].value) != 0)
                return refuse(p, "out of memory");
        p->keys_len = f->key_start;
    } else {
        v = jt_doc_array(p->doc, n);
        if (!v)
            return refuse(p, "out of memory");
        for (size_t i = 0; i < n; i++)
            v->u.items[i] = s[i].value;
    }
    p->nslots = f->first;
    if (p->depth == 0) {
        p->root = v;
        return 1;
    }
    /* Replace the placeholder the parent got when this container opened. */
    p->slots[p->nslots - 1].value = v;
    return 1;
}

static int on_end(void *ctx) { return close_container(ctx); }

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

/* "line L column C (byte B)": the character (not byte) column of the byte at
 * offset `at` (1-based byte), as jansson and editors count. */
static void place(const char *text, size_t len, size_t at, char *err, size_t err_size, const char *reason)
{
    size_t line = 1, column = 0;

    if (at > len)
        at = len;
    for (size_t i = 0; i < at; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            line++;
            column = 0;
        } else if ((c & 0xC0) != 0x80) {
            column++;
        }
    }
    snprintf(err, err_size, "line %zu column %zu (byte %zu): %s", line, column, at, reason);
}

/* yajl's own message, without its trailing newline. Verbose mode would quote
 * the input, which may be personal data: it stays off. */
static void yajl_reason(yajl_handle h, const char *text, size_t len, char *out, size_t size)
{
    unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)text, len);
    size_t n;

    snprintf(out, size, "%s", msg ? (const char *)msg : "invalid JSON");
    n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == '.'))
        out[--n] = '\0';
    if (msg)
        yajl_free_error(h, msg);
}

rdapsync_value *jt_parse(const char *text, size_t len, char *err, size_t err_size)
{
    parser p;
    yajl_status st;
    char dummy[1];
    yajl_alloc_funcs arena_funcs = {arena_malloc, arena_realloc, arena_free, &p};

    if (!err || !err_size) {
        err = dummy;
        err_size = sizeof(dummy);
    }
    err[0] = '\0';
    if (!text) {
        snprintf(err, err_size, "line 0 column 0 (byte 0): no input");
        return NULL;
    }
    /* Not memset: the inline buffers need no clearing. */
    p.text = text;
    p.len = len;
    p.slots = p.slots_inline;
    p.nslots = 0;
    p.slots_cap = sizeof(p.slots_inline) / sizeof(p.slots_inline[0]);
    p.depth = 0;
    p.keys = p.keys_inline;
    p.keys_len = 0;
    p.keys_cap = sizeof(p.keys_inline);
    p.pending_key_off = p.pending_key_len = 0;
    p.root = NULL;
    p.arena_used = 0;
    p.reason[0] = '\0';
    p.fail_at = 0;
    p.finishing = 0;
    /* A parsed RDAP document takes about 4.1 times its text in the arena. */
    p.doc = jt_doc_new(len < SIZE_MAX / 8 ? len * 4 + len / 4 + 512 : len);
    if (!p.doc) {
        snprintf(err, err_size, "line 0 column 0 (byte 0): out of memory");
        return NULL;
    }
    p.doc->text_len = len;
    p.yajl = yajl_alloc(&callbacks, &arena_funcs, &p);
    if (!p.yajl) {
        jt_doc_release(p.doc);
        snprintf(err, err_size, "line 0 column 0 (byte 0): out of memory");
        return NULL;
    }
    st = yajl_parse(p.yajl, (const unsigned char *)text, len);
    if (st == yajl_status_ok) {
        p.finishing = 1;
        st = yajl_complete_parse(p.yajl);
    }
    if (st == yajl_status_ok && !p.root) {
        st = yajl_status_error; /* empty input */
        snprintf(p.reason, sizeof(p.reason), "no JSON value");
        p.fail_at = len;
    }
    if (st != yajl_status_ok) {
        char reason[128];
        size_t at = p.fail_at;
        if (st == yajl_status_client_canceled || p.reason[0]) {
            snprintf(reason, sizeof(reason), "%s", p.reason);
        } else {
            yajl_reason(p.yajl, text, len, reason, sizeof(reason));
            at = p.finishing ? len : yajl_get_bytes_consumed(p.yajl);
        }
        place(text, len, at, err, err_size, reason);
        p.root = NULL;
    }
    /* The document's one reference goes with the root; a scalar root that
     * is a static node (null, true, false) needs no document at all. */
    if (!p.root || !(p.root->flags & JT_ARENA))
        jt_doc_release(p.doc);
    yajl_free(p.yajl);
    if (p.slots != p.slots_inline)
        free(p.slots);
    if (p.keys != p.keys_inline)
        free(p.keys);
    return p.root;
}
