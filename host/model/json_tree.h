/*
 * The record model: a compact, reference-counted JSON tree behind the SDK's
 * opaque rdapsync_value (value.h). A 4 KB RDAP document takes about 12 KB
 * here, against about 40 KB as jansson nodes, which is what lets a task hold
 * a 1,000-record batch in the memory budget (docs/benchmarks.md).
 *
 * Layout: every value is one 32-byte node. A string's bytes follow its node.
 * An array has one block of item pointers, an object one block of member
 * slots. A parsed document lives in one arena (jt_doc): no allocation per
 * node, and one free() per few KB when the record is done, which is what
 * keeps a 1,000-record batch cheap. Values built by plugins (object_new,
 * string_new, ...) are ordinary heap nodes with their own reference count.
 * null, true and false are static nodes that reference counting ignores.
 *
 * Only json_tree.c, json_parse.c, json_dump.c and json_api.c look inside.
 */
#ifndef RDAPSYNC_HOST_JSON_TREE_H
#define RDAPSYNC_HOST_JSON_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rdapsync/value.h>

enum jt_kind { JT_NULL, JT_TRUE, JT_FALSE, JT_INTEGER, JT_REAL, JT_STRING, JT_ARRAY, JT_OBJECT, JT_LAZY };

/*
 * JT_LAZY: a parsed document's root whose tree is not built yet (json_lazy.h).
 * It is an arena node whose u.str holds the validated text (in the arena,
 * padded for simdjson) and `count` the ticket of its simdjson parse
 * (json_simd.h); the document's `text` fields describe it. The first access
 * through the API builds the tree in the same arena and turns this node,
 * in place, into the tree's root: pointers plugins hold stay valid. Only a
 * root is ever lazy, and only json_api.c sees one: it makes the node ready
 * (jl_ready) before anything in json_tree.c or json_dump.c looks at it.
 */

/* One object member. `key` lives where the object's nodes live: in the
 * document's arena for a parsed object, in its own heap block otherwise. */
typedef struct jt_member {
    rdapsync_value *value; /* owned reference */
    char *key;             /* key_len bytes + NUL */
    size_t key_len;
} jt_member;

/*
 * A parsed document: one arena holding every node of the tree, freed in one
 * go when the last reference to any of its nodes goes. Its nodes share the
 * document's reference count. An arena container that is given a value
 * from outside the arena (a heap node or another document's) keeps that
 * reference in `foreign` until the document dies; values it replaces or
 * removes stay allocated until then too, which bounds the waste by the
 * edits made to one record.
 */
typedef struct jt_chunk jt_chunk;
/* A member of a lazy document's root built on its own, before the tree
 * (json_lazy.h, jl_member): the tape index of its value and its node,
 * which the full build puts in place instead of building it again. */
typedef struct jt_piece {
    struct jt_piece *next;
    size_t at;
    struct rdapsync_value *value;
} jt_piece;
typedef struct jt_doc {
    uint32_t refs; /* atomic */
    uint8_t heap_foreign; /* a heap value is on `foreign` (see jt_doc_release) */
    uint8_t dying;
    uint32_t nforeign, foreign_cap;
    rdapsync_value **foreign;
    size_t text_len;  /* length of the JSON text it was parsed from */
    /* A lazily parsed document (json_lazy.h) keeps its validated text in
     * the arena: `root` is its root node, `text_canonical` says the text is
     * what jt_dump writes for the tree, and `edited` is set by any change
     * made through the API to a node of this arena. While `edited` is
     * clear the text still is the root's dump, built tree or not. */
    const char *text;
    rdapsync_value *root;
    uint8_t text_canonical;
    uint8_t edited;
    size_t tree_bytes; /* arena bytes the tree of `text` takes (counted on the tape) */
    jt_piece *pieces;  /* members of the lazy root built before the tree (in the arena) */
    jt_chunk *chunks; /* most recent first */
    size_t used, size; /* bump position in chunks */
    size_t total;      /* bytes of all chunks */
} jt_doc;

#define JT_IMMORTAL 0x1u /* the static null/true/false */
#define JT_ARENA 0x2u    /* lives in own.doc's arena */

struct rdapsync_value {
    uint8_t kind;  /* enum jt_kind */
    uint8_t flags; /* JT_IMMORTAL, JT_ARENA */
    uint16_t spare;
    uint32_t count; /* array items, object members */
    union {
        uint32_t refs; /* heap nodes; atomic */
        jt_doc *doc;   /* arena nodes */
    } own;
    union {
        int64_t integer;
        double real;
        struct {
            size_t len;
            char *bytes; /* right after the node, NUL-terminated */
        } str;
        struct {
            rdapsync_value **items;
            uint32_t items_cap;
        };
        struct {
            jt_member *members;
            uint32_t members_cap;
        } obj;
    } u;
};

/* Arena allocation for the parser: a document whose first chunk has room
 * for `hint` bytes; refs 1. jt_doc_alloc returns 8-byte aligned memory
 * that lives as long as the document (NULL when memory runs out). */
jt_doc *jt_doc_new(size_t hint);
void *jt_doc_alloc(jt_doc *doc, size_t size);
void jt_doc_release(jt_doc *doc); /* drops one reference; frees at zero */

/* Arena constructors (parser only): the node belongs to doc, which must
 * already hold a reference for it. Arrays and objects get `count` slots,
 * filled by the caller. */
rdapsync_value *jt_doc_string(jt_doc *doc, const char *bytes, size_t len);
rdapsync_value *jt_doc_integer(jt_doc *doc, int64_t v);
rdapsync_value *jt_doc_real(jt_doc *doc, double v);
rdapsync_value *jt_doc_array(jt_doc *doc, size_t count);
rdapsync_value *jt_doc_object(jt_doc *doc, size_t count);
/* The JT_LAZY root of doc over `text` (which the caller placed in the
 * arena); `canonical`: the text is byte for byte jt_dump's. */
rdapsync_value *jt_doc_lazy(jt_doc *doc, const char *text, size_t len, bool canonical, uint32_t ticket,
                            size_t tree_bytes);
/* Makes sure the current chunk has `bytes` free, so that a tree about to be
 * built takes one allocation instead of several chunks; 0 or -1. */
int jt_doc_reserve(jt_doc *doc, size_t bytes);
/* Arena bytes jt_doc_deep_copy() takes for v (an upper bound: alignment
 * padding after keys is counted at its worst). */
size_t jt_doc_measure(const rdapsync_value *v);
/* A copy of `v` inside doc (which must already hold a reference for it);
 * NULL when memory runs out. */
rdapsync_value *jt_doc_deep_copy(jt_doc *doc, const rdapsync_value *v);
/* Sets member i of a jt_doc_object (key copied into the arena); 0 or -1. */
int jt_doc_object_put(rdapsync_value *obj, size_t i, const char *key, size_t key_len, rdapsync_value *member);

/* How many chunks the arena has (tests check the sizing of arenas). */
size_t jt_doc_chunks(const jt_doc *doc);

/* Documents plus heap nodes currently allocated (tests compare it before
 * and after: a leak cannot hide behind a forked test worker). */
size_t jt_live(void);

/* Static nodes; never freed, reference counts ignored. */
rdapsync_value *jt_null(void);
rdapsync_value *jt_bool(bool v);

/* Constructors: the caller owns the result; NULL on allocation failure. No
 * UTF-8 check here (the API layer and the parser do it). */
rdapsync_value *jt_string(const char *bytes, size_t len);
rdapsync_value *jt_integer(int64_t v);
rdapsync_value *jt_real(double v);
rdapsync_value *jt_array(size_t capacity);
rdapsync_value *jt_object(size_t capacity);

rdapsync_value *jt_incref(rdapsync_value *v); /* NULL-safe; returns v */
void jt_decref(rdapsync_value *v);            /* NULL-safe; frees the subtree at zero */

/* Appends without looking for an existing key (the parser has checked);
 * steals `member`; 0 or -1 (allocation failure, member released). */
int jt_object_append(rdapsync_value *obj, const char *key, size_t key_len, rdapsync_value *member);
/* Replaces or appends; steals `member`; 0 or -1. */
int jt_object_set(rdapsync_value *obj, const char *key, size_t key_len, rdapsync_value *member);
jt_member *jt_object_find(const rdapsync_value *obj, const char *key, size_t key_len); /* borrowed or NULL */
int jt_object_del(rdapsync_value *obj, const char *key, size_t key_len); /* 0, or -1 when absent */

/* Steals `item`; 0 or -1 (index out of range, allocation failure; item released). */
int jt_array_insert(rdapsync_value *arr, size_t index, rdapsync_value *item);
int jt_array_set(rdapsync_value *arr, size_t index, rdapsync_value *item);
int jt_array_remove(rdapsync_value *arr, size_t index);

rdapsync_value *jt_deep_copy(const rdapsync_value *v); /* caller owns; NULL on allocation failure */
bool jt_equal(const rdapsync_value *a, const rdapsync_value *b);
/* Nesting depth and longest string or key of v, not entering containers
 * deeper than depth_cap (value.h, measure). */
void jt_measure(const rdapsync_value *v, int depth_cap, rdapsync_json_shape *shape);

/* Serializes compactly; `sort_keys` orders members bytewise. Pieces go to
 * fn (0 to continue); returns 0, or -1 if fn aborted or memory ran out. */
int jt_dump(const rdapsync_value *v, bool sort_keys, rdapsync_dump_fn fn, void *opaque);
/* Same into one malloc'd buffer (caller frees); *len gets its length. */
char *jt_dump_string(const rdapsync_value *v, bool sort_keys, size_t *len);

/* Parses one JSON text (see value.h for what it refuses); caller owns the
 * result; on failure NULL and "line L column C (byte B): reason" in err. */
rdapsync_value *jt_parse(const char *text, size_t len, char *err, size_t err_size);

/* How many bytes from s[i] on need no escape in a JSON string (none below
 * 0x20, no '"', no '\\'), looked at eight at a time: the index of the
 * first 8-byte word that may hold one, or len. */
static inline size_t jt_plain_until(const char *s, size_t i, size_t len)
{
    while (len - i >= 8) {
        uint64_t w, lo, q, b;
        memcpy(&w, s + i, 8);
        lo = (w - 0x2020202020202020ull) & ~w;
        q = ((w ^ 0x2222222222222222ull) - 0x0101010101010101ull) & ~(w ^ 0x2222222222222222ull);
        b = ((w ^ 0x5C5C5C5C5C5C5C5Cull) - 0x0101010101010101ull) & ~(w ^ 0x5C5C5C5C5C5C5C5Cull);
        if ((lo | q | b) & 0x8080808080808080ull)
            break;
        i += 8;
    }
    return i;
}

/* True when bytes[0..len) is valid UTF-8 (no surrogates, no overlongs). */
bool jt_utf8_valid(const char *bytes, size_t len);

#endif
