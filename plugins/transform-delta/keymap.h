/*
 * The delta transform's in-memory view of its per-key state: for each key
 * seen since open, the content hash of its latest version passed (pending
 * or delivered), or that it has none (unknown or deleted). A repeat of a
 * key's last document is then judged without an SQLite call; SQLite stays
 * the durable copy (dstate.h) and is read once per key, on its first sight.
 * Memory: about 90 bytes plus the key's length per distinct key.
 */
#ifndef RDAPSYNC_KEYMAP_H
#define RDAPSYNC_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>

#define KEYMAP_HASH_BYTES 32

typedef struct keymap keymap;

/* An empty map; NULL when out of memory. Caller frees with keymap_free(). */
keymap *keymap_new(void);
void keymap_free(keymap *m);

/* 1 when `key` is in the map (then *live says whether it has a version and
 * hash is filled when it has), 0 when it is not. */
int keymap_get(const keymap *m, const char *key, size_t key_len, unsigned char hash[KEYMAP_HASH_BYTES], bool *live);

/* Sets `key` to `hash`, or to "no version" when hash is NULL. 0, or -1 when
 * out of memory (then the map holds no entry for the key at all, so the
 * next lookup reads SQLite again). */
int keymap_put(keymap *m, const char *key, size_t key_len, const unsigned char *hash);

#endif
