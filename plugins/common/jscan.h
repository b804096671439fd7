/*
 * Where a member's value sits in a JSON text, found on the bytes (jscan.c):
 * what lets a source hand one member of an envelope to the host as a text
 * of its own, parsed lazily, instead of a member of the envelope's tree
 * that every sink then dumps. Used by the Kafka source (Debezium `after`)
 * and the file source (an envelope's "value").
 */
#ifndef RDAPSYNC_PLUGINS_COMMON_JSCAN_H
#define RDAPSYNC_PLUGINS_COMMON_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The value of member `key` of the JSON object text[0..len) as a byte
 * range inside it (value_len NULL: only where it starts, without looking
 * at it), and in *depth (may be NULL) how deep the value nests (0 for a
 * scalar). 0, or -1 when the member is absent, the text is no object, a
 * key has escapes, or the text is not what JSON looks like (the caller
 * then parses the whole text). Reads nothing beyond len. */
int jscan_member(const char *text, size_t len, const char *key, const char **value, size_t *value_len,
                 int *depth);

/* Whether the first member of the object text[0..len) is named `key`
 * (written without escapes). */
bool jscan_first_key_is(const char *text, size_t len, const char *key);

/* text[0..len) with the member value at value[0..value_len) (a range
 * inside it, as jscan_member gives) written as {}, into *buf: grown with
 * realloc when smaller than needed (*cap its size; the caller frees it).
 * The new text's length, or 0 when memory runs out. */
size_t jscan_hollow(const char *text, size_t len, const char *value, size_t value_len, char **buf, size_t *cap);

#endif
