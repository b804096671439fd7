/*
 * JSONPath strings ("$.entities[1].vcardArray[1][3][3]") built while a
 * document is walked, so that every error and every RFC 9537 entry can name
 * the exact place. Shared by the normalize and redact transforms.
 *
 * A jpath lives on the caller's stack; push returns a mark that pop restores.
 * Paths longer than JPATH_MAX are cut and end in "...": still good enough to
 * find the place, never a buffer overflow.
 *
 * Shared by the normalize, redact and encrypt/decrypt transforms
 * (plugins/common); the crypt transforms select values by comparing the
 * path built here with the configured ones (jpath_match), so a configured
 * path is spelled exactly as the RFC 9537 entries of redact spell theirs.
 */
#ifndef RDAPSYNC_JPATH_H
#define RDAPSYNC_JPATH_H

#include <stddef.h>

#define JPATH_MAX 384

typedef struct jpath {
    char buf[JPATH_MAX];
    size_t len;
} jpath;

/* Starts at "$". */
void jpath_init(jpath *path);
/* Appends ".key" (or "['key']" when the key is not a plain name); returns the mark to pop to. */
size_t jpath_push_key(jpath *path, const char *key);
/* Appends "[index]"; returns the mark to pop to. */
size_t jpath_push_index(jpath *path, size_t index);
/* Appends raw text (a filter such as "[?(@[0]=='fn')]"); returns the mark. */
size_t jpath_push_raw(jpath *path, const char *text);
void jpath_pop(jpath *path, size_t mark);
/* NUL-terminated, borrowed; valid until the next push/pop. */
const char *jpath_str(const jpath *path);

/* How a built path relates to a pattern: a pattern is a path in the same
 * spelling, where "[*]" stands for any array index. */
typedef enum jpath_relation {
    JPATH_UNRELATED = 0, /* neither the place nor above it */
    JPATH_ABOVE = 1,     /* the pattern names a place below this one: walk on */
    JPATH_EQUAL = 2      /* this is the place */
} jpath_relation;

/* Compares the built path `path` (jpath_str) with `pattern`. */
jpath_relation jpath_match(const char *pattern, const char *path);

#endif
