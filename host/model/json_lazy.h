/*
 * Lazy documents: JSON text validated at SIMD speed (simdjson, json_simd.h)
 * and kept as bytes; the tree (json_tree.h) is built on first access.
 *
 * A record whose document no transform reads is validated once at the
 * source and handed to the sink as the same bytes: no tree, no dump. One
 * whose root members are only looked up (a source taking its key) gets
 * those members built alone; one read further gets its tree, built from
 * the tape simdjson still holds. Either still reaches the sink as its text
 * while nothing was changed. The
 * validation refuses exactly what jt_parse() refuses; whenever it refuses,
 * jt_parse() runs on the text to give the very same verdict and message
 * (a cold path). Texts holding a real number go to jt_parse() at once: its
 * reading of them (strtod, "-0" as an integer) is what the tree keeps.
 */
#ifndef RDAPSYNC_HOST_JSON_LAZY_H
#define RDAPSYNC_HOST_JSON_LAZY_H

#include <stdbool.h>
#include <stddef.h>

#include "model/json_tree.h"

/* Same contract as jt_parse(): caller owns the result (a JT_LAZY node, or a
 * built tree when the text holds a real); NULL and the message in err. */
rdapsync_value *jl_parse(const char *text, size_t len, char *err, size_t err_size);

/* Builds the tree of a JT_LAZY node in place; 0, or -1 when memory ran out
 * (the node stays lazy, and reads as an unknown kind). */
int jl_materialize(rdapsync_value *v);

/* The type of a lazy value, read from its text's first byte (no tree). */
rdapsync_value_type jl_type(const rdapsync_value *v);

/* object_get on a lazy root without building its tree: finds the member on
 * the tape (which the thread's parser still holds right after the parse)
 * and builds that member alone, once; the full build later puts the same
 * node in place, so the pointer stays the member's. 0 with *out the member
 * (NULL when absent or the root is no object), -1 when memory ran out. */
int jl_member(rdapsync_value *v, const char *key, size_t key_len, rdapsync_value **out);

/* Makes any value ready for json_tree.c: a no-op unless v is lazy. */
static inline void jl_ready(const rdapsync_value *v)
{
    if (v && v->kind == JT_LAZY)
        (void)jl_materialize((rdapsync_value *)v);
}

/* The text a document was parsed from, when it is exactly what jt_dump()
 * (unsorted) writes for v: v is the root of a lazily parsed document whose
 * text was in that form, and nothing in its arena was changed since (the
 * tree may have been built for reading). NULL otherwise. */
static inline const char *jl_canonical_text(const rdapsync_value *v, size_t *len)
{
    const jt_doc *doc;

    if (!v || !(v->flags & JT_ARENA))
        return NULL;
    doc = v->own.doc;
    if (doc->root != v || !doc->text_canonical || doc->edited)
        return NULL;
    if (len)
        *len = doc->text_len;
    return doc->text;
}

/* Any change through the API to a node of an arena: its text no longer
 * stands for the tree. */
static inline void jl_edited(rdapsync_value *v)
{
    if (v && (v->flags & JT_ARENA))
        v->own.doc->edited = 1;
}

#endif
