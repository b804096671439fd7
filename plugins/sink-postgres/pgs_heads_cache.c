/*
 * The heads of the keys this sink wrote or read, kept between flushes:
 * a batch whose keys are all known reads no heads from the server. When
 * the cache may be trusted is pgs_mvr.c's to say (the register epoch);
 * this file only keeps the bytes.
 *
 * Bounded by bytes, with two generations instead of an LRU list: entries
 * go into the young one; when it holds half the budget, the old one is
 * dropped and the young one becomes old. A hit in the old generation
 * moves the entry back to the young one. So the keys used within the last
 * half budget of entries stay, whatever the order, and nothing is touched
 * per hit but the entry itself.
 *
 * Updates made by a transaction wait in a third table, `pending`, until
 * its COMMIT: a write rolled back never reaches the cache, and a second
 * write of the same transaction already sees the first one's heads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

typedef struct entry {
    struct entry *next;
    uint64_t hash;
    size_t key_len;
    size_t text_len;
    bool absent;  /* the key has no heads */
    char bytes[]; /* the key, then the heads text with a NUL */
} entry;

typedef struct table {
    entry **buckets;
    size_t mask;  /* buckets - 1, a power of two minus one; 0 before the first insert */
    size_t count; /* entries */
    size_t bytes; /* what they take, counted against the budget */
} table;

struct pgs_heads_cache {
    size_t budget;
    table young, old, pending;
    bool pending_lost; /* an update could not be kept: the commit clears all */
};

static uint64_t fnv1a(const char *key, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t entry_bytes(const entry *e)
{
    return sizeof(*e) + e->key_len + e->text_len + 1;
}

static void table_free(table *t)
{
    for (size_t b = 0; t->buckets && b <= t->mask; b++) {
        for (entry *e = t->buckets[b], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}

/* The link that points at the key's entry (or at the NULL ending its
 * bucket). */
static entry **table_slot(table *t, uint64_t hash, const char *key, size_t key_len)
{
    entry **link = &t->buckets[hash & t->mask];
    for (; *link; link = &(*link)->next) {
        const entry *e = *link;
        if (e->hash == hash && e->key_len == key_len && memcmp(e->bytes, key, key_len) == 0)
            break;
    }
    return link;
}

static entry *table_take(table *t, uint64_t hash, const char *key, size_t key_len)
{
    if (!t->buckets)
        return NULL;
    entry **link = table_slot(t, hash, key, key_len);
    entry *e = *link;
    if (e) {
        *link = e->next;
        t->count--;
        t->bytes -= entry_bytes(e);
    }
    return e;
}

static entry *table_find(table *t, uint64_t hash, const char *key, size_t key_len)
{
    return t->buckets ? *table_slot(t, hash, key, key_len) : NULL;
}

/* Doubles the buckets when there are more entries than buckets. */
static int table_grow(table *t)
{
    if (t->buckets && t->count < t->mask + 1)
        return 0;
    size_t n = t->buckets ? (t->mask + 1) * 2 : 256;
    entry **buckets = calloc(n, sizeof(*buckets));
    if (!buckets)
        return -1;
    for (size_t b = 0; t->buckets && b <= t->mask; b++) {
        for (entry *e = t->buckets[b], *next; e; e = next) {
            next = e->next;
            e->next = buckets[e->hash & (n - 1)];
            buckets[e->hash & (n - 1)] = e;
        }
    }
    free(t->buckets);
    t->buckets = buckets;
    t->mask = n - 1;
    return 0;
}

/* Puts `e` (whose key the table does not hold) into the table; -1 when
 * out of memory (e not taken). */
static int table_put(table *t, entry *e)
{
    if (table_grow(t) != 0)
        return -1;
    entry **head = &t->buckets[e->hash & t->mask];
    e->next = *head;
    *head = e;
    t->count++;
    t->bytes += entry_bytes(e);
    return 0;
}

pgs_heads_cache *pgs_heads_cache_new(size_t budget)
{
    pgs_heads_cache *c = calloc(1, sizeof(*c));
    if (c)
        c->budget = budget;
    return c;
}

void pgs_heads_cache_clear(pgs_heads_cache *c)
{
    if (!c)
        return;
    table_free(&c->young);
    table_free(&c->old);
    table_free(&c->pending);
    c->pending_lost = false;
}

void pgs_heads_cache_free(pgs_heads_cache *c)
{
    pgs_heads_cache_clear(c);
    free(c);
}

/* Forgets the key everywhere but in pending (it is in one generation at
 * most: keep() forgets first, a hit in the old one moves it). */
static void forget(pgs_heads_cache *c, uint64_t hash, const char *key, size_t key_len)
{
    entry *e = table_take(&c->young, hash, key, key_len);
    free(e ? e : table_take(&c->old, hash, key, key_len));
}

/* Into the young generation, the old one dropped when the young one is
 * full; an entry too big for half the budget is not kept. */
static void keep(pgs_heads_cache *c, entry *e)
{
    size_t half = c->budget / 2;
    if (entry_bytes(e) > half) {
        free(e);
        return;
    }
    if (c->young.bytes + entry_bytes(e) > half) {
        table_free(&c->old);
        c->old = c->young;
        memset(&c->young, 0, sizeof(c->young));
    }
    if (table_put(&c->young, e) != 0)
        free(e); /* out of memory: the key is simply unknown */
}

static entry *entry_new(uint64_t hash, const char *key, size_t key_len, const char *text, size_t text_len)
{
    entry *e = malloc(sizeof(*e) + key_len + text_len + 1);
    if (!e)
        return NULL;
    *e = (entry){ .hash = hash, .key_len = key_len, .text_len = text ? text_len : 0, .absent = !text };
    memcpy(e->bytes, key, key_len);
    if (text)
        memcpy(e->bytes + key_len, text, text_len);
    e->bytes[key_len + e->text_len] = '\0';
    return e;
}

int pgs_heads_cache_get(pgs_heads_cache *c, const char *key, size_t key_len, const char **text, size_t *text_len)
{
    uint64_t hash = fnv1a(key, key_len);
    entry *e = table_find(&c->pending, hash, key, key_len);
    if (!e)
        e = table_find(&c->young, hash, key, key_len);
    if (!e && (e = table_take(&c->old, hash, key, key_len)) != NULL) {
        /* Used again: young. The copy of the text handed out must stay
         * valid until the next call, so `e` itself moves. */
        if (entry_bytes(e) > c->budget / 2 || c->young.bytes + entry_bytes(e) > c->budget / 2) {
            /* Moving it would rotate the generations and free the entry
             * being returned: leave it old (taken out, put back). */
            if (table_put(&c->old, e) != 0) {
                free(e);
                return 0;
            }
        } else if (table_put(&c->young, e) != 0) {
            free(e);
            return 0;
        }
    }
    if (!e)
        return 0;
    *text = e->absent ? NULL : e->bytes + e->key_len;
    *text_len = e->text_len;
    return 1;
}

void pgs_heads_cache_put(pgs_heads_cache *c, const char *key, size_t key_len, const char *text, size_t text_len)
{
    uint64_t hash = fnv1a(key, key_len);
    forget(c, hash, key, key_len);
    entry *e = entry_new(hash, key, key_len, text, text_len);
    if (e)
        keep(c, e);
}

void pgs_heads_cache_pend(pgs_heads_cache *c, const char *key, size_t key_len, const char *text, size_t text_len)
{
    uint64_t hash = fnv1a(key, key_len);
    free(table_take(&c->pending, hash, key, key_len));
    entry *e = entry_new(hash, key, key_len, text, text_len);
    if (!e || table_put(&c->pending, e) != 0) {
        free(e);
        c->pending_lost = true;
    }
}

void pgs_heads_cache_commit(pgs_heads_cache *c)
{
    if (c->pending_lost) {
        pgs_heads_cache_clear(c);
        return;
    }
    table pending = c->pending;
    memset(&c->pending, 0, sizeof(c->pending));
    for (size_t b = 0; pending.buckets && b <= pending.mask; b++) {
        for (entry *e = pending.buckets[b], *next; e; e = next) {
            next = e->next;
            forget(c, e->hash, e->bytes, e->key_len);
            keep(c, e);
        }
        pending.buckets[b] = NULL;
    }
    table_free(&pending);
}

void pgs_heads_cache_abort(pgs_heads_cache *c)
{
    table_free(&c->pending);
    c->pending_lost = false;
}

size_t pgs_heads_cache_count(const pgs_heads_cache *c)
{
    return c->young.count + c->old.count;
}
