/*
 * Lazy documents (json_lazy.h): validation on simdjson's tape (json_simd.h),
 * and the tree built from the same tape on first access.
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

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Objects with more members than this are checked for duplicate keys once,
 * sorted, when they close (as jt_parse does). */
#define DUP_SCAN_LIMIT 32

/* Arena sizes of json_tree.c's nodes (null, true and false take none). */
#define NODE sizeof(rdapsync_value)
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

/* A key and its print: the length in the low 32 bits, three of its bytes
 * above. Keys of different prints differ, so the duplicate scan compares
 * one word per earlier key and the bytes only when the prints match. */
typedef struct vkey {
    const char *s;
    uint64_t print;
} vkey;

#define VKEY_LEN(k) ((size_t)(uint32_t)(k)->print)

enum { V_OK, V_REFUSED, V_REAL, V_NO_MEMORY };

/* An enclosing container while the tape is read (the open one lives in
 * validate()'s locals). */
typedef struct vframe {
    size_t first;  /* keys[] index where its keys start (objects) */
    uint64_t seen; /* its keys' bits (add_key) */
    bool is_object;
} vframe;

typedef struct validator {
    bool scan;      /* the text has \u or \/ escapes: decoded strings need a look */
    bool canonical; /* so far nothing rules it out */
    size_t length;  /* of the dump */
    size_t tree;    /* arena bytes of the tree (json_tree.c's layout) */
    vkey *keys;
    size_t nkeys, keys_cap;
    vkey keys_inline[256];
    vframe frames[JSON_API_MAX_DEPTH + 1];
} validator;

/*
 * The text's escapes, found with memchr (most texts have none or a few).
 * Short ones (\" \\ \b \f \n \r \t) are what jt_dump writes for what
 * they decode to, one byte longer than it: they add to the dump's length
 * without any string being looked at. Any other escape (\uXXXX, \/) makes
 * the text non-canonical and decoded strings are scanned (for \u0000, and
 * for the dump's length).
 */
static void look_at_escapes(validator *v, const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    v->scan = false;
    while (p < end && (p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (p + 1 >= end)
            break; /* simdjson refuses it */
        switch (p[1]) {
        case '"':
        case '\\':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't': v->length++; break;
        default: v->scan = true; v->canonical = false;
        }
        p += 2;
    }
}

/* Length of s as jt_dump writes it (escapes included); (size_t)-1 for a NUL. */
static size_t dump_length(validator *v, const char *s, size_t len)
{
    size_t n = len;

    for (size_t i = 0; i < len; i++) {
        i = jt_plain_until(s, i, len);
        if (i >= len)
            break;
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
            v->canonical = false;
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

static int vkey_cmp(const void *a, const void *b)
{
    const vkey *x = a, *y = b;
    size_t xl = VKEY_LEN(x), yl = VKEY_LEN(y), n = xl < yl ? xl : yl;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (xl > yl) - (xl < yl);
}

static uint64_t key_print(const char *s, uint32_t len)
{
    if (!len)
        return 0;
    return (uint64_t)len | (uint64_t)(unsigned char)s[0] << 32 | (uint64_t)(unsigned char)s[len / 2] << 40 |
           (uint64_t)(unsigned char)s[len - 1] << 48;
}

/* The key of the object whose keys start at keys[first]. *seen holds a bit
 * per key of that object, chosen by its print: a key whose bit is clear
 * has no twin before it, and most keys are spared the scan. */
static int add_key(validator *v, size_t first, uint64_t *seen, const char *s, uint32_t len)
{
    uint64_t print = key_print(s, len);
    uint64_t bit = (uint64_t)1 << ((print * 0x9E3779B97F4A7C15u) >> 58);

    if ((*seen & bit) && v->nkeys - first < DUP_SCAN_LIMIT) {
        for (size_t k = first; k < v->nkeys; k++)
            if (v->keys[k].print == print && memcmp(v->keys[k].s, s, len) == 0)
                return V_REFUSED;
    }
    if (v->nkeys == v->keys_cap) {
        size_t cap = v->keys_cap * 2;
        vkey *grown = v->keys == v->keys_inline ? malloc(cap * sizeof(*grown)) : realloc(v->keys, cap * sizeof(*grown));
        if (!grown)
            return V_NO_MEMORY;
        if (v->keys == v->keys_inline)
            memcpy(grown, v->keys_inline, sizeof(v->keys_inline));
        v->keys = grown;
        v->keys_cap = cap;
    }
    *seen |= bit;
    v->keys[v->nkeys].s = s;
    v->keys[v->nkeys].print = print;
    v->nkeys++;
    return V_OK;
}

/* Large objects: their keys sorted once, when they close. */
static int large_object_ok(const vkey *keys, size_t n)
{
    vkey *sorted;
    int dup = 0;

    if (n < DUP_SCAN_LIMIT)
        return V_OK;
    sorted = malloc(n * sizeof(*sorted));
    if (!sorted)
        return V_NO_MEMORY;
    memcpy(sorted, keys, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), vkey_cmp);
    for (size_t k = 1; k < n && !dup; k++)
        dup = vkey_cmp(&sorted[k - 1], &sorted[k]) == 0;
    free(sorted);
    return dup ? V_REFUSED : V_OK;
}

/* The checks jt_parse makes beyond simdjson, and the dump's length, in one
 * pass over the tape. V_OK, or why the text goes to jt_parse.
 *
 * simdjson vouches for the structure: inside an object a key (a string)
 * or the closing brace comes where a member may start, and the member's
 * value follows its key. So a key is taken where it stands, with no
 * dispatch on its type and no state saying a key is due: the one switch
 * is over values, which is where the branch predictor loses (every
 * misprediction costs more than the rest of a word's work). The open
 * container's state lives in locals; frames keep the enclosing ones. */
static int validate(validator *v, const jsimd_tape *t)
{
    const uint64_t *tape = t->tape;
    const uint8_t *strings = t->strings;
    const bool scan = v->scan;
    size_t end = JSIMD_END(tape), i = 1, length = v->length, tree = 0, first = 0;
    uint64_t seen = 0;
    int depth = 0, rc;
    bool in_object = false;

    while (i < end) {
        uint64_t w = tape[i++];
        size_t count, n;
        uint32_t len32;
        const char *s;

        if (in_object) {
            if (JSIMD_TYPE(w) == '}') {
                rc = v->nkeys - first < DUP_SCAN_LIMIT ? V_OK : large_object_ok(v->keys + first, v->nkeys - first);
                if (rc != V_OK)
                    return rc;
                v->nkeys = first;
                depth--;
                first = v->frames[depth].first;
                seen = v->frames[depth].seen;
                in_object = v->frames[depth].is_object;
                continue;
            }
            memcpy(&len32, strings + JSIMD_PAYLOAD(w), sizeof(len32));
            s = (const char *)strings + JSIMD_PAYLOAD(w) + sizeof(len32);
            n = scan ? dump_length(v, s, len32) : len32;
            if (n == (size_t)-1)
                return V_REFUSED; /* \u0000 */
            length += n + 2;
            tree += len32 + 1 + 7; /* the key, and the padding after it at worst */
            if ((rc = add_key(v, first, &seen, s, len32)) != V_OK)
                return rc;
            w = tape[i++]; /* the member's value */
        }
        switch (JSIMD_TYPE(w)) {
        case '"':
            memcpy(&len32, strings + JSIMD_PAYLOAD(w), sizeof(len32));
            s = (const char *)strings + JSIMD_PAYLOAD(w) + sizeof(len32);
            n = scan ? dump_length(v, s, len32) : len32;
            if (n == (size_t)-1)
                return V_REFUSED; /* \u0000 */
            length += n + 2;
            tree += NODE + ALIGN8(len32 + 1);
            break;
        case '{':
        case '[':
            count = JSIMD_COUNT(w);
            if (depth >= JSON_API_MAX_DEPTH || count == JSIMD_COUNT_SATURATED)
                return V_REFUSED; /* jt_parse says which */
            /* Brackets, commas between items, and a colon per member. */
            length += 2 + (count ? count - 1 : 0) + (JSIMD_TYPE(w) == '{' ? count : 0);
            tree += NODE + ALIGN8(count * (JSIMD_TYPE(w) == '{' ? sizeof(jt_member) : sizeof(rdapsync_value *)));
            v->frames[depth].first = first;
            v->frames[depth].seen = seen;
            v->frames[depth].is_object = in_object;
            depth++;
            in_object = JSIMD_TYPE(w) == '{';
            first = v->nkeys;
            seen = 0;
            break;
        case ']':
            depth--;
            first = v->frames[depth].first;
            seen = v->frames[depth].seen;
            in_object = v->frames[depth].is_object;
            break;
        case 'l':
            length += int_length((int64_t)tape[i++]);
            tree += NODE;
            break;
        case 'u': return V_REFUSED; /* beyond int64: "too big integer" */
        case 'd': return V_REAL;
        case 't':
        case 'n': length += 4; break;
        case 'f': length += 5; break;
        default: return V_REFUSED;
        }
    }
    v->length = length;
    v->tree = tree;
    return depth == 0 ? V_OK : V_REFUSED;
}

rdapsync_value *jl_parse(const char *text, size_t len, char *err, size_t err_size)
{
    size_t pad = jsimd_padding();
    validator *v = NULL;
    jsimd_tape t;
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
    st = jsimd_parse(copy, len, 1, &t, &ticket);
    if (st == JSIMD_OK) {
        /* Per thread and reused: the frames take 8 KB, too much for every
         * caller's stack. */
        static _Thread_local validator tls_validator;
        v = &tls_validator;
        v->canonical = true;
        v->length = 0;
        look_at_escapes(v, copy, len);
        v->keys = v->keys_inline;
        v->nkeys = 0;
        v->keys_cap = sizeof(v->keys_inline) / sizeof(v->keys_inline[0]);
        st = validate(v, &t);
        if (v->keys != v->keys_inline)
            free(v->keys);
    }
    if (st == JSIMD_OK) {
        rdapsync_value *node = jt_doc_lazy(doc, copy, len, v->canonical && v->length == len, ticket, v->tree);
        if (node) {
            if (err && err_size)
                err[0] = '\0';
            return node;
        }
    }
    /* Refused, a real number, no simdjson, or out of memory: the tree
     * parser's verdict, message and tree. */
    jt_doc_release(doc);
    return jt_parse(text, len, err, err_size);
}

/* ---- building the tree ---- */

typedef struct bframe {
    rdapsync_value *c;
    uint32_t next;
} bframe;

/* The tape index after the value at i. */
static size_t value_end(const uint64_t *tape, size_t i)
{
    switch (JSIMD_TYPE(tape[i])) {
    case '{':
    case '[': return (size_t)(tape[i] & 0xFFFFFFFFu);
    case 'l':
    case 'u':
    case 'd': return i + 2;
    default: return i + 1;
    }
}

static rdapsync_value *piece_at(const jt_piece *p, size_t at)
{
    for (; p; p = p->next)
        if (p->at == at)
            return p->value;
    return NULL;
}

/* Builds the value at tape[from] (which ends before `to`) into doc, putting
 * in the root object's members already built (`pieces`) instead of building
 * them again; the value, or NULL when memory runs out. */
static rdapsync_value *build(jt_doc *doc, const jsimd_tape *t, size_t from, size_t to, const jt_piece *pieces)
{
    static _Thread_local bframe stack[JSON_API_MAX_DEPTH + 1];
    const uint64_t *tape = t->tape;
    size_t i = from;
    int depth = 0;
    const char *key = NULL;
    size_t key_len = 0;
    rdapsync_value *root = NULL;

    while (i < to) {
        uint64_t w = tape[i];
        bframe *top = depth ? &stack[depth - 1] : NULL;
        rdapsync_value *v = NULL;
        bool opened = false;
        uint32_t len32;
        const char *s;

        if (pieces && depth == 1 && key)
            v = piece_at(pieces, i);
        if (v) {
            i = value_end(tape, i);
        } else {
            switch (JSIMD_TYPE(w)) {
            case '{': v = jt_doc_object(doc, JSIMD_COUNT(w)); break;
            case '[': v = jt_doc_array(doc, JSIMD_COUNT(w)); break;
            case '}':
            case ']':
                depth--;
                i++;
                continue;
            case '"':
                memcpy(&len32, t->strings + JSIMD_PAYLOAD(w), sizeof(len32));
                s = (const char *)t->strings + JSIMD_PAYLOAD(w) + sizeof(len32);
                if (top && top->c->kind == JT_OBJECT && !key) {
                    key = s;
                    key_len = len32;
                    i++;
                    continue;
                }
                v = jt_doc_string(doc, s, len32);
                break;
            case 'l':
                v = jt_doc_integer(doc, (int64_t)tape[i + 1]);
                i++;
                break;
            case 't': v = jt_bool(true); break;
            case 'f': v = jt_bool(false); break;
            case 'n': v = jt_null(); break;
            default: return NULL; /* validation sent 'u' and 'd' to jt_parse */
            }
            if (!v)
                return NULL;
            i++;
            if (v->kind == JT_OBJECT || v->kind == JT_ARRAY) {
                /* Placed below, then filled: containers are sized already. */
                stack[depth].c = v;
                stack[depth].next = 0;
                opened = true;
            }
        }
        if (!top) {
            root = v;
        } else if (top->c->kind == JT_OBJECT) {
            if (jt_doc_object_put(top->c, top->next++, key, key_len, v) != 0)
                return NULL;
            key = NULL;
        } else {
            top->c->u.items[top->next++] = v;
        }
        if (opened)
            depth++; /* its members or items come next */
    }
    return root;
}

int jl_materialize(rdapsync_value *v)
{
    size_t len;
    jsimd_tape t;
    rdapsync_value *r;
    jt_doc *doc;

    if (!v || v->kind != JT_LAZY)
        return 0;
    len = v->u.str.len;
    doc = v->own.doc;
    /* Exactly what the tree takes, counted during validation: one chunk. */
    if (jt_doc_reserve(doc, doc->tree_bytes + 64) != 0)
        return -1;
    if (jsimd_reparse(v->u.str.bytes, len, v->count, &t) != JSIMD_OK)
        return -1; /* out of memory: the text was validated already */
    r = build(doc, &t, 1, JSIMD_END(t.tape), doc->pieces);
    if (!r)
        return -1;
    /* The node plugins hold becomes the root; the built root's own node is
     * left unused in the arena. Only the kind is needed for null/true/false. */
    v->kind = r->kind;
    v->count = r->count;
    v->u = r->u;
    return 0;
}

rdapsync_value_type jl_type(const rdapsync_value *v)
{
    const char *p = v->u.str.bytes, *end = p + v->u.str.len;

    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    switch (p < end ? *p : 0) {
    case '{': return RDAPSYNC_JSON_OBJECT;
    case '[': return RDAPSYNC_JSON_ARRAY;
    case '"': return RDAPSYNC_JSON_STRING;
    case 't':
    case 'f': return RDAPSYNC_JSON_BOOL;
    case 'n': return RDAPSYNC_JSON_NULL;
    default: return RDAPSYNC_JSON_INTEGER; /* texts with reals are never lazy */
    }
}

int jl_member(rdapsync_value *v, const char *key, size_t key_len, rdapsync_value **out)
{
    jt_doc *doc = v->own.doc;
    const uint64_t *tape;
    jsimd_tape t;
    size_t i, end;

    *out = NULL;
    if (jsimd_reparse(v->u.str.bytes, v->u.str.len, v->count, &t) != JSIMD_OK)
        return -1;
    tape = t.tape;
    if (JSIMD_TYPE(tape[1]) != '{')
        return 0;
    end = value_end(tape, 1) - 1; /* the closing brace */
    for (i = 2; i < end; i = value_end(tape, i + 1)) {
        uint32_t len32;
        jt_piece *piece;
        memcpy(&len32, t.strings + JSIMD_PAYLOAD(tape[i]), sizeof(len32));
        if (len32 != key_len || memcmp(t.strings + JSIMD_PAYLOAD(tape[i]) + sizeof(len32), key, key_len) != 0)
            continue;
        if ((*out = piece_at(doc->pieces, i + 1)))
            return 0;
        piece = jt_doc_alloc(doc, sizeof(*piece));
        *out = piece ? build(doc, &t, i + 1, value_end(tape, i + 1), NULL) : NULL;
        if (!*out)
            return -1;
        piece->at = i + 1;
        piece->value = *out;
        piece->next = doc->pieces;
        doc->pieces = piece;
        return 0;
    }
    return 0;
}
