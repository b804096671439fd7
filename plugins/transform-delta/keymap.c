/* The delta transform's per-key hash map (keymap.h): open addressing with
 * linear probing over one allocation per entry. A slot keeps the key's
 * 64-bit hash beside the entry's pointer: a probe that passes another key
 * compares it in the slot array instead of loading that key's entry (a
 * cache miss each, with thousands of keys). */
#include "keymap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

typedef struct entry {
    size_t key_len;
    bool live;
    unsigned char hash[KEYMAP_HASH_BYTES];
    char key[]; /* key_len bytes */
} entry;

typedef struct slot {
    uint64_t h;
    entry *e; /* NULL: free */
} slot;

struct keymap {
    slot *slots;
    size_t cap;    /* a power of two */
    size_t count;
};

/* XXH3 (libxxhash, already the content hash's library): its low bits (the
 * slot) depend on all of the key, and it takes a handle's 10-30 bytes a
 * word at a time, where a byte-wise hash made one multiply per byte. */
static uint64_t key_hash(const char *key, size_t len)
{
    return XXH3_64bits(key, len);
}

keymap *keymap_new(void)
{
    keymap *m = calloc(1, sizeof *m);
    if (m && !(m->slots = calloc(m->cap = 1024, sizeof *m->slots))) {
        free(m);
        return NULL;
    }
    return m;
}

void keymap_free(keymap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].e);
    free(m->slots);
    free(m);
}

/* The slot of `key`, or the free slot where it would go. */
static size_t find(const keymap *m, const char *key, size_t len, uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);
    for (const slot *s; (s = &m->slots[i])->e; i = (i + 1) & (m->cap - 1))
        if (s->h == h && s->e->key_len == len && memcmp(s->e->key, key, len) == 0)
            break;
    return i;
}

int keymap_get(const keymap *m, const char *key, size_t key_len, unsigned char hash[KEYMAP_HASH_BYTES], bool *live)
{
    const entry *e = m->slots[find(m, key, key_len, key_hash(key, key_len))].e;
    if (!e)
        return 0;
    *live = e->live;
    if (e->live)
        memcpy(hash, e->hash, KEYMAP_HASH_BYTES);
    return 1;
}

/* Doubles the table (at 3/4 full). 0 or -1 (then unchanged). */
static int grow(keymap *m)
{
    size_t cap = m->cap * 2;
    slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].e)
            continue;
        size_t j = (size_t)m->slots[i].h & (cap - 1);
        while (slots[j].e)
            j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int keymap_put(keymap *m, const char *key, size_t key_len, const unsigned char *hash)
{
    uint64_t h = key_hash(key, key_len);
    size_t i = find(m, key, key_len, h);
    entry *e = m->slots[i].e;
    if (!e) {
        if ((m->count + 1) * 4 > m->cap * 3) {
            if (grow(m) != 0)
                return -1;
            i = find(m, key, key_len, h);
        }
        if (!(e = malloc(sizeof *e + key_len)))
            return -1;
        e->key_len = key_len;
        memcpy(e->key, key, key_len);
        m->slots[i] = (slot){.h = h, .e = e};
        m->count++;
    }
    e->live = hash != NULL;
    if (hash)
        memcpy(e->hash, hash, KEYMAP_HASH_BYTES);
    return 0;
}
