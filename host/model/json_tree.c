/*
 * The compact JSON tree (json_tree.h): heap nodes, document arenas,
 * reference counts, containers.
 */
#include "model/json_tree.h"

#include <stdlib.h>
#include <string.h>

static rdapsync_value null_node = {.kind = JT_NULL, .flags = JT_IMMORTAL};
static rdapsync_value true_node = {.kind = JT_TRUE, .flags = JT_IMMORTAL};
static rdapsync_value false_node = {.kind = JT_FALSE, .flags = JT_IMMORTAL};

/* Documents and heap nodes alive, for tests that prove nothing leaked
 * (Criterion's workers exit without running LeakSanitizer). Documents are
 * made and freed on two threads of a task at tens of thousands a second:
 * one shared counter would bounce its cache line between the cores at each,
 * so each thread counts on a line of its own (a document made on one
 * thread and freed on another leaves +1 and -1: the sum is right). */
#define LIVE_STRIPES 16
static struct {
    _Alignas(64) long n;
} live_stripes[LIVE_STRIPES];
static unsigned live_next;
static _Thread_local long *live_mine;

static long *live_stripe(void)
{
    if (!live_mine)
        live_mine = &live_stripes[__atomic_fetch_add(&live_next, 1, __ATOMIC_RELAXED) % LIVE_STRIPES].n;
    return live_mine;
}

static void live_add(long delta) { __atomic_add_fetch(live_stripe(), delta, __ATOMIC_RELAXED); }

size_t jt_live(void)
{
    long sum = 0;
    for (int i = 0; i < LIVE_STRIPES; i++)
        sum += __atomic_load_n(&live_stripes[i].n, __ATOMIC_RELAXED);
    return (size_t)sum;
}

rdapsync_value *jt_null(void) { return &null_node; }
rdapsync_value *jt_bool(bool v) { return v ? &true_node : &false_node; }

/* ---- document arenas ---- */

struct jt_chunk {
    jt_chunk *next;
    size_t size;
    _Alignas(8) unsigned char bytes[];
};

/* The document and its first chunk are one allocation (the chunk right
 * after the document): a record's documents are made and freed at tens of
 * thousands a second, by two threads sharing the allocator. */
#define DOC_HEAD ((sizeof(jt_doc) + 7) & ~(size_t)7)

static jt_chunk *first_chunk(jt_doc *doc) { return (jt_chunk *)((unsigned char *)doc + DOC_HEAD); }

jt_doc *jt_doc_new(size_t hint)
{
    jt_doc *doc;
    jt_chunk *first;

    hint = (hint + 7) & ~(size_t)7;
    if (hint > SIZE_MAX - DOC_HEAD - sizeof(*first))
        return NULL;
    doc = malloc(DOC_HEAD + sizeof(*first) + hint);
    if (!doc)
        return NULL;
    memset(doc, 0, sizeof(*doc));
    first = first_chunk(doc);
    first->next = NULL;
    first->size = hint;
    doc->total = hint;
    live_add(1);
    doc->refs = 1;
    doc->chunks = first;
    doc->size = hint;
    return doc;
}

/* Bytes with no alignment (keys), or nodes and slot blocks (8-byte aligned). */
static void *doc_take(jt_doc *doc, size_t size, size_t align)
{
    void *p;

    doc->used = (doc->used + align - 1) & ~(align - 1);
    if (doc->used > doc->size)
        doc->used = doc->size;
    if (doc->size - doc->used < size) {
        /* The first chunk is sized from the text and suffices for a
         * document nobody edits; one a transform builds its output in grows
         * by half of what it has, so it takes O(log n) chunks (two or three
         * for normalize + redact) and wastes at most a third, until the
         * output is compacted into an arena of its own. */
        size_t want = doc->total / 2 + 512;
        jt_chunk *c;
        if (want < size)
            want = size;
        c = malloc(sizeof(*c) + want);
        if (!c)
            return NULL;
        c->next = doc->chunks;
        c->size = want;
        doc->chunks = c;
        doc->total += want;
        doc->used = 0;
        doc->size = want;
    }
    p = doc->chunks->bytes + doc->used;
    doc->used += size;
    return p;
}

void *jt_doc_alloc(jt_doc *doc, size_t size) { return doc_take(doc, size, 8); }

size_t jt_doc_chunks(const jt_doc *doc)
{
    size_t n = 0;
    for (const jt_chunk *c = doc->chunks; c; c = c->next)
        n++;
    return n;
}

static void doc_free(jt_doc *doc)
{
    jt_chunk *c = doc->chunks;

    for (uint32_t i = 0; i < doc->nforeign; i++)
        jt_decref(doc->foreign[i]);
    free(doc->foreign);
    while (c) {
        jt_chunk *next = c->next;
        if (c != first_chunk(doc))
            free(c);
        c = next;
    }
    free(doc);
    live_add(-1);
}

/*
 * References into `doc` held by the heap values on its foreign list, counted
 * only through values that nothing but the document holds (reference count
 * 1 all the way down): those are the document's references to itself.
 */
static uint32_t self_refs(const rdapsync_value *v, const jt_doc *doc)
{
    uint32_t n = 0;

    if (v->flags & JT_IMMORTAL)
        return 0;
    if (v->flags & JT_ARENA)
        return v->own.doc == doc;
    if (__atomic_load_n(&v->own.refs, __ATOMIC_ACQUIRE) != 1 || (v->kind != JT_ARRAY && v->kind != JT_OBJECT))
        return 0;
    for (uint32_t i = 0; i < v->count; i++)
        n += self_refs(v->kind == JT_ARRAY ? v->u.items[i] : v->u.obj.members[i].value, doc);
    return n;
}

/*
 * A plugin may move pieces of a document into a new container and put that
 * container back into the same document (or add them to a container it put
 * there before). The document then holds references to itself and would
 * never reach zero: when every remaining reference is such a self-reference,
 * nothing outside can reach it any more and it is freed. Only documents that
 * took heap values pay for the walk, which covers those values alone.
 */
void jt_doc_release(jt_doc *doc)
{
    uint32_t left, self = 0;

    if (!doc || doc->dying)
        return;
    left = __atomic_sub_fetch(&doc->refs, 1, __ATOMIC_ACQ_REL);
    if (left && doc->heap_foreign) {
        for (uint32_t i = 0; i < doc->nforeign && self < left; i++)
            self += self_refs(doc->foreign[i], doc);
        if (self != left)
            return;
    } else if (left) {
        return;
    }
    doc->dying = 1; /* the foreign values' own releases of it are now moot */
    doc_free(doc);
}

static rdapsync_value *doc_node(jt_doc *doc, enum jt_kind kind, size_t extra)
{
    rdapsync_value *v = jt_doc_alloc(doc, sizeof(*v) + extra);
    if (!v)
        return NULL;
    memset(v, 0, sizeof(*v));
    v->kind = (uint8_t)kind;
    v->flags = JT_ARENA;
    v->own.doc = doc;
    return v;
}

rdapsync_value *jt_doc_string(jt_doc *doc, const char *bytes, size_t len)
{
    rdapsync_value *v;

    if (len > SIZE_MAX - sizeof(*v) - 16)
        return NULL;
    v = doc_node(doc, JT_STRING, len + 1);
    if (!v)
        return NULL;
    v->u.str.len = len;
    v->u.str.bytes = (char *)(v + 1);
    if (len)
        memcpy(v->u.str.bytes, bytes, len);
    v->u.str.bytes[len] = '\0';
    return v;
}

rdapsync_value *jt_doc_lazy(jt_doc *doc, const char *text, size_t len, bool canonical, uint32_t ticket,
                            size_t tree_bytes)
{
    rdapsync_value *v = doc_node(doc, JT_LAZY, 0);

    if (!v)
        return NULL;
    v->count = ticket;
    v->u.str.len = len;
    v->u.str.bytes = (char *)text;
    doc->text = text;
    doc->text_len = len;
    doc->root = v;
    doc->text_canonical = canonical;
    doc->tree_bytes = tree_bytes;
    return v;
}

int jt_doc_reserve(jt_doc *doc, size_t bytes)
{
    jt_chunk *c;

    if (doc->size - (doc->used < doc->size ? doc->used : doc->size) >= bytes + 8)
        return 0;
    if (bytes > SIZE_MAX - sizeof(*c) - 8)
        return -1;
    c = malloc(sizeof(*c) + bytes + 8);
    if (!c)
        return -1;
    c->next = doc->chunks;
    c->size = bytes + 8;
    doc->chunks = c;
    doc->total += bytes + 8;
    doc->used = 0;
    doc->size = bytes + 8;
    return 0;
}

rdapsync_value *jt_doc_integer(jt_doc *doc, int64_t i)
{
    rdapsync_value *v = doc_node(doc, JT_INTEGER, 0);
    if (v)
        v->u.integer = i;
    return v;
}

rdapsync_value *jt_doc_real(jt_doc *doc, double d)
{
    rdapsync_value *v = doc_node(doc, JT_REAL, 0);
    if (v)
        v->u.real = d;
    return v;
}

rdapsync_value *jt_doc_array(jt_doc *doc, size_t count)
{
    rdapsync_value *v;

    if (count > UINT32_MAX)
        return NULL;
    v = doc_node(doc, JT_ARRAY, 0);
    if (!v)
        return NULL;
    if (count && !(v->u.items = jt_doc_alloc(doc, count * sizeof(*v->u.items))))
        return NULL;
    v->count = (uint32_t)count;
    v->u.items_cap = (uint32_t)count;
    return v;
}

rdapsync_value *jt_doc_object(jt_doc *doc, size_t count)
{
    rdapsync_value *v;

    if (count > UINT32_MAX)
        return NULL;
    v = doc_node(doc, JT_OBJECT, 0);
    if (!v)
        return NULL;
    if (count && !(v->u.obj.members = jt_doc_alloc(doc, count * sizeof(jt_member))))
        return NULL;
    v->count = (uint32_t)count;
    v->u.obj.members_cap = (uint32_t)count;
    return v;
}

int jt_doc_object_put(rdapsync_value *obj, size_t i, const char *key, size_t key_len, rdapsync_value *member)
{
    jt_member *m = &obj->u.obj.members[i];

    m->key = doc_take(obj->own.doc, key_len + 1, 1);
    if (!m->key)
        return -1;
    memcpy(m->key, key, key_len);
    m->key[key_len] = '\0';
    m->key_len = key_len;
    m->value = member;
    return 0;
}

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

size_t jt_doc_measure(const rdapsync_value *v)
{
    size_t n;

    if (!v || (v->flags & JT_IMMORTAL))
        return 0;
    switch (v->kind) {
    case JT_STRING: return ALIGN8(sizeof(*v) + v->u.str.len + 1);
    case JT_ARRAY:
        n = sizeof(*v) + ALIGN8(v->count * sizeof(rdapsync_value *));
        for (uint32_t i = 0; i < v->count; i++)
            n += jt_doc_measure(v->u.items[i]);
        return n;
    case JT_OBJECT:
        n = sizeof(*v) + ALIGN8(v->count * sizeof(jt_member));
        for (uint32_t i = 0; i < v->count; i++)
            n += v->u.obj.members[i].key_len + 1 + 7 + jt_doc_measure(v->u.obj.members[i].value);
        return n;
    default: return sizeof(*v);
    }
}

rdapsync_value *jt_doc_deep_copy(jt_doc *doc, const rdapsync_value *v)
{
    rdapsync_value *copy;

    if (!v)
        return NULL;
    switch (v->kind) {
    case JT_NULL:
    case JT_TRUE:
    case JT_FALSE: return (rdapsync_value *)v; /* immortal */
    case JT_INTEGER: return jt_doc_integer(doc, v->u.integer);
    case JT_REAL: return jt_doc_real(doc, v->u.real);
    case JT_STRING: return jt_doc_string(doc, v->u.str.bytes, v->u.str.len);
    case JT_ARRAY:
        if (!(copy = jt_doc_array(doc, v->count)))
            return NULL;
        for (uint32_t i = 0; i < v->count; i++)
            if (!(copy->u.items[i] = jt_doc_deep_copy(doc, v->u.items[i])))
                return NULL; /* the arena keeps the pieces until the document goes */
        return copy;
    case JT_OBJECT:
        if (!(copy = jt_doc_object(doc, v->count)))
            return NULL;
        for (uint32_t i = 0; i < v->count; i++) {
            const jt_member *m = &v->u.obj.members[i];
            rdapsync_value *member = jt_doc_deep_copy(doc, m->value);
            if (!member || jt_doc_object_put(copy, i, m->key, m->key_len, member) != 0)
                return NULL;
        }
        return copy;
    }
    return NULL;
}

/*
 * An arena container takes a reference to `member`. A node of the same
 * document needs no reference (the arena outlives every container in it),
 * so the caller's one is dropped; anything else is kept on the document's
 * foreign list until the document dies. 0, or -1 with member released.
 */
static int doc_adopt(jt_doc *doc, rdapsync_value *member)
{
    if (member->flags & JT_IMMORTAL)
        return 0;
    if ((member->flags & JT_ARENA) && member->own.doc == doc) {
        /* Never the last reference: the container being edited holds one. */
        __atomic_sub_fetch(&doc->refs, 1, __ATOMIC_ACQ_REL);
        return 0;
    }
    if (doc->nforeign == doc->foreign_cap) {
        size_t cap = doc->foreign_cap ? (size_t)doc->foreign_cap * 2 : 4;
        rdapsync_value **grown = cap > UINT32_MAX ? NULL : realloc(doc->foreign, cap * sizeof(*grown));
        if (!grown) {
            jt_decref(member);
            return -1;
        }
        doc->foreign = grown;
        doc->foreign_cap = (uint32_t)cap;
    }
    doc->foreign[doc->nforeign++] = member;
    if (!(member->flags & JT_ARENA))
        doc->heap_foreign = 1;
    return 0;
}

/* ---- heap nodes ---- */

static rdapsync_value *node_new(enum jt_kind kind, size_t extra)
{
    rdapsync_value *v = malloc(sizeof(*v) + extra);
    if (!v)
        return NULL;
    memset(v, 0, sizeof(*v));
    v->own.refs = 1;
    v->kind = (uint8_t)kind;
    live_add(1);
    return v;
}

rdapsync_value *jt_string(const char *bytes, size_t len)
{
    rdapsync_value *v;

    if (len > SIZE_MAX - sizeof(*v) - 1)
        return NULL;
    v = node_new(JT_STRING, len + 1);
    if (!v)
        return NULL;
    v->u.str.len = len;
    v->u.str.bytes = (char *)(v + 1);
    if (len)
        memcpy(v->u.str.bytes, bytes, len);
    v->u.str.bytes[len] = '\0';
    return v;
}

rdapsync_value *jt_integer(int64_t i)
{
    rdapsync_value *v = node_new(JT_INTEGER, 0);
    if (v)
        v->u.integer = i;
    return v;
}

rdapsync_value *jt_real(double d)
{
    rdapsync_value *v = node_new(JT_REAL, 0);
    if (v)
        v->u.real = d;
    return v;
}

static void node_free(rdapsync_value *v);

/* An array or object with room for `capacity` slots of `elem` bytes. */
static rdapsync_value *container_new(enum jt_kind kind, size_t capacity, size_t elem)
{
    rdapsync_value *v;
    void *slots = NULL;

    if (capacity > UINT32_MAX)
        return NULL;
    v = node_new(kind, 0);
    if (!v)
        return NULL;
    if (capacity && !(slots = malloc(capacity * elem))) {
        node_free(v);
        return NULL;
    }
    if (kind == JT_ARRAY) {
        v->u.items = slots;
        v->u.items_cap = (uint32_t)capacity;
    } else {
        v->u.obj.members = slots;
        v->u.obj.members_cap = (uint32_t)capacity;
    }
    return v;
}

rdapsync_value *jt_array(size_t capacity) { return container_new(JT_ARRAY, capacity, sizeof(rdapsync_value *)); }
rdapsync_value *jt_object(size_t capacity) { return container_new(JT_OBJECT, capacity, sizeof(jt_member)); }

rdapsync_value *jt_incref(rdapsync_value *v)
{
    if (!v || (v->flags & JT_IMMORTAL))
        return v;
    if (v->flags & JT_ARENA)
        __atomic_add_fetch(&v->own.doc->refs, 1, __ATOMIC_RELAXED);
    else
        __atomic_add_fetch(&v->own.refs, 1, __ATOMIC_RELAXED);
    return v;
}

static void node_free(rdapsync_value *v)
{
    switch (v->kind) {
    case JT_ARRAY:
        for (uint32_t i = 0; i < v->count; i++)
            jt_decref(v->u.items[i]);
        free(v->u.items);
        break;
    case JT_OBJECT:
        for (uint32_t i = 0; i < v->count; i++) {
            jt_decref(v->u.obj.members[i].value);
            free(v->u.obj.members[i].key);
        }
        free(v->u.obj.members);
        break;
    default:
        break;
    }
    free(v);
    live_add(-1);
}

void jt_decref(rdapsync_value *v)
{
    if (!v || (v->flags & JT_IMMORTAL))
        return;
    if (v->flags & JT_ARENA)
        jt_doc_release(v->own.doc);
    else if (__atomic_sub_fetch(&v->own.refs, 1, __ATOMIC_ACQ_REL) == 0)
        node_free(v);
}

/* ---- containers (both kinds) ---- */

/* Room for one more slot: heap blocks grow with realloc, arena blocks are
 * copied to a bigger arena block (the old one stays until the document dies). */
static int slots_reserve(rdapsync_value *c, void **slots, uint32_t *cap, size_t elem)
{
    size_t want;
    void *grown;

    if (c->count < *cap)
        return 0;
    want = *cap ? (size_t)*cap * 2 : 4;
    if (want > UINT32_MAX)
        return -1;
    if (c->flags & JT_ARENA) {
        grown = jt_doc_alloc(c->own.doc, want * elem);
        if (grown && c->count)
            memcpy(grown, *slots, c->count * elem);
    } else {
        grown = realloc(*slots, want * elem);
    }
    if (!grown)
        return -1;
    *slots = grown;
    *cap = (uint32_t)want;
    return 0;
}

/* The container takes `member` (steals it); 0 or -1 (member released). */
static int take(rdapsync_value *container, rdapsync_value *member)
{
    if (container->flags & JT_ARENA)
        return doc_adopt(container->own.doc, member);
    return 0;
}

/* The container lets go of a value it held. Arena containers hold none of
 * their own (see doc_adopt). */
static void let_go(rdapsync_value *container, rdapsync_value *old)
{
    if (!(container->flags & JT_ARENA))
        jt_decref(old);
}

jt_member *jt_object_find(const rdapsync_value *obj, const char *key, size_t key_len)
{
    if (!obj || obj->kind != JT_OBJECT)
        return NULL;
    /* RDAP objects have a handful of members: a scan beats a hash here. */
    for (uint32_t i = 0; i < obj->count; i++) {
        jt_member *m = &obj->u.obj.members[i];
        /* The first byte settles most mismatches without a call. */
        if (m->key_len == key_len && (key_len == 0 || m->key[0] == key[0]) && memcmp(m->key, key, key_len) == 0)
            return m;
    }
    return NULL;
}

int jt_object_append(rdapsync_value *obj, const char *key, size_t key_len, rdapsync_value *member)
{
    jt_member *m;
    char *copy;

    if (!obj || obj->kind != JT_OBJECT || key_len >= UINT32_MAX ||
        slots_reserve(obj, (void **)&obj->u.obj.members, &obj->u.obj.members_cap, sizeof(jt_member)) != 0)
        goto fail;
    copy = (obj->flags & JT_ARENA) ? doc_take(obj->own.doc, key_len + 1, 1) : malloc(key_len + 1);
    if (!copy)
        goto fail;
    if (take(obj, member) != 0) {
        if (!(obj->flags & JT_ARENA))
            free(copy);
        return -1;
    }
    memcpy(copy, key, key_len);
    copy[key_len] = '\0';
    m = &obj->u.obj.members[obj->count++];
    m->key = copy;
    m->key_len = key_len;
    m->value = member;
    return 0;
fail:
    jt_decref(member);
    return -1;
}

int jt_object_set(rdapsync_value *obj, const char *key, size_t key_len, rdapsync_value *member)
{
    jt_member *m = jt_object_find(obj, key, key_len);
    rdapsync_value *old;

    if (!m)
        return jt_object_append(obj, key, key_len, member);
    if (take(obj, member) != 0)
        return -1;
    old = m->value;
    m->value = member;
    let_go(obj, old);
    return 0;
}

int jt_object_del(rdapsync_value *obj, const char *key, size_t key_len)
{
    jt_member *m = jt_object_find(obj, key, key_len);
    jt_member gone;
    size_t i;

    if (!m)
        return -1;
    gone = *m;
    i = (size_t)(m - obj->u.obj.members);
    memmove(m, m + 1, (obj->count - i - 1) * sizeof(*m)); /* insertion order kept */
    obj->count--;
    if (!(obj->flags & JT_ARENA))
        free(gone.key);
    let_go(obj, gone.value);
    return 0;
}

int jt_array_insert(rdapsync_value *arr, size_t index, rdapsync_value *item)
{
    if (!arr || arr->kind != JT_ARRAY || index > arr->count ||
        slots_reserve(arr, (void **)&arr->u.items, &arr->u.items_cap, sizeof(*arr->u.items)) != 0) {
        jt_decref(item);
        return -1;
    }
    if (take(arr, item) != 0)
        return -1;
    memmove(arr->u.items + index + 1, arr->u.items + index, (arr->count - index) * sizeof(*arr->u.items));
    arr->u.items[index] = item;
    arr->count++;
    return 0;
}

int jt_array_set(rdapsync_value *arr, size_t index, rdapsync_value *item)
{
    rdapsync_value *old;

    if (!arr || arr->kind != JT_ARRAY || index >= arr->count) {
        jt_decref(item);
        return -1;
    }
    if (take(arr, item) != 0)
        return -1;
    old = arr->u.items[index];
    arr->u.items[index] = item;
    let_go(arr, old);
    return 0;
}

int jt_array_remove(rdapsync_value *arr, size_t index)
{
    rdapsync_value *old;

    if (!arr || arr->kind != JT_ARRAY || index >= arr->count)
        return -1;
    old = arr->u.items[index];
    memmove(arr->u.items + index, arr->u.items + index + 1, (arr->count - index - 1) * sizeof(*arr->u.items));
    arr->count--;
    let_go(arr, old);
    return 0;
}

rdapsync_value *jt_deep_copy(const rdapsync_value *v)
{
    rdapsync_value *copy;

    if (!v)
        return NULL;
    switch (v->kind) {
    case JT_NULL:
    case JT_TRUE:
    case JT_FALSE: return (rdapsync_value *)v; /* immortal */
    case JT_INTEGER: return jt_integer(v->u.integer);
    case JT_REAL: return jt_real(v->u.real);
    case JT_STRING: return jt_string(v->u.str.bytes, v->u.str.len);
    case JT_ARRAY:
        copy = jt_array(v->count);
        if (!copy)
            return NULL;
        for (uint32_t i = 0; i < v->count; i++) {
            rdapsync_value *item = jt_deep_copy(v->u.items[i]);
            if (!item || jt_array_insert(copy, copy->count, item) != 0) {
                jt_decref(copy);
                return NULL;
            }
        }
        return copy;
    case JT_OBJECT:
        copy = jt_object(v->count);
        if (!copy)
            return NULL;
        for (uint32_t i = 0; i < v->count; i++) {
            const jt_member *m = &v->u.obj.members[i];
            rdapsync_value *member = jt_deep_copy(m->value);
            if (!member || jt_object_append(copy, m->key, m->key_len, member) != 0) {
                jt_decref(copy);
                return NULL;
            }
        }
        return copy;
    }
    return NULL;
}

/* `above`: containers above v. Recursion stops at depth_cap, so the stack
 * is bounded whatever a plugin built. */
static void measure(const rdapsync_value *v, int above, int depth_cap, rdapsync_json_shape *shape)
{
    if (v->kind == JT_STRING) {
        if (v->u.str.len > shape->longest)
            shape->longest = v->u.str.len;
        return;
    }
    if (v->kind != JT_ARRAY && v->kind != JT_OBJECT)
        return;
    if (above + 1 > shape->depth)
        shape->depth = above + 1;
    if (above + 1 > depth_cap)
        return;
    if (v->kind == JT_ARRAY) {
        for (uint32_t i = 0; i < v->count; i++)
            measure(v->u.items[i], above + 1, depth_cap, shape);
        return;
    }
    for (uint32_t i = 0; i < v->count; i++) {
        const jt_member *m = &v->u.obj.members[i];
        if (m->key_len > shape->longest)
            shape->longest = m->key_len;
        measure(m->value, above + 1, depth_cap, shape);
    }
}

void jt_measure(const rdapsync_value *v, int depth_cap, rdapsync_json_shape *shape)
{
    shape->depth = 0;
    shape->longest = 0;
    if (v)
        measure(v, 0, depth_cap < 0 ? 0 : depth_cap, shape);
}

bool jt_equal(const rdapsync_value *a, const rdapsync_value *b)
{
    if (!a || !b)
        return false;
    if (a == b)
        return true;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case JT_NULL:
    case JT_TRUE:
    case JT_FALSE: return true;
    case JT_INTEGER: return a->u.integer == b->u.integer;
    case JT_REAL: return a->u.real == b->u.real;
    case JT_STRING: return a->u.str.len == b->u.str.len && memcmp(a->u.str.bytes, b->u.str.bytes, a->u.str.len) == 0;
    case JT_ARRAY:
        if (a->count != b->count)
            return false;
        for (uint32_t i = 0; i < a->count; i++)
            if (!jt_equal(a->u.items[i], b->u.items[i]))
                return false;
        return true;
    case JT_OBJECT:
        /* Member order does not matter; keys are unique on both sides. */
        if (a->count != b->count)
            return false;
        for (uint32_t i = 0; i < a->count; i++) {
            const jt_member *m = &a->u.obj.members[i];
            const jt_member *n = jt_object_find(b, m->key, m->key_len);
            if (!n || !jt_equal(m->value, n->value))
                return false;
        }
        return true;
    }
    return false;
}

bool jt_utf8_valid(const char *bytes, size_t len)
{
    const unsigned char *s = (const unsigned char *)bytes, *end = s + len;

    while (s < end) {
        unsigned char c;
        size_t n;
        uint32_t cp;
        /* ASCII runs, eight bytes at a time: most RDAP text is ASCII. */
        while (end - s >= 8) {
            uint64_t w;
            memcpy(&w, s, 8);
            if (w & 0x8080808080808080ull)
                break;
            s += 8;
        }
        if (s == end)
            break;
        c = *s;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - s) <= n)
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        s += n + 1;
    }
    return true;
}
