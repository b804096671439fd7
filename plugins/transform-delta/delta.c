/*
 * The delta transform: drops a record whose document is unchanged since
 * the last version of its key that was delivered, and can send RFC 7386
 * merge patches instead of whole documents (docs/schema-and-history.md).
 *
 * Content hash: keyed XXH3-128 by default, or SHA-256 (chash.h), of a
 * canonical walk of the document (feed_value).
 *
 * State: per key in SQLite in the task's state directory (dstate.h),
 * made durable by transform_commit (ABI 1.3) only after the sink flushed
 * the records, before the checkpoint: a kill -9 never skips a changed
 * document, nor sends a delivered one again as changed. A repeat is judged
 * from memory (keymap.h); the changes of a batch are written as pending in
 * one transaction at its end (transform_batch_end, ABI 1.7), before the
 * sink writes it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/rdapsync.h>

#include "chash.h"
#include "docpath.h"
#include "dstate.h"
#include "mpatch.h"

static const rdapsync_host *H;

enum emit { EMIT_FULL = 0, EMIT_MERGE_PATCH = 1 };

_Static_assert(CHASH_BYTES == DSTATE_HASH_BYTES, "one hash size");

struct config {
    int emit;
    int hash;
    char *state_file;
    rdapsync_string_list ignore;
};

static const char *const emit_values[] = {"full", "merge-patch", NULL};
static const char *const hash_values[] = {"xxh3-128", "sha256", NULL}; /* chash.h's names */

static const rdapsync_option options[] = {
    {RDAPSYNC_OPTION_ENUM(struct config, emit, "full", emit_values,
                          "full: changed documents go whole; merge-patch: as RFC 7386 patches against the last "
                          "delivered version (header rdapsync.delta says which)")},
    {RDAPSYNC_OPTION_ENUM(struct config, hash, "xxh3-128", hash_values,
                          "content hash: xxh3-128 (keyed with a random secret kept in the state) or sha256 "
                          "(cryptographic, slower); changing it rebuilds the state: every key's next version "
                          "passes once")},
    {RDAPSYNC_OPTION_STRING(struct config, state_file, "delta.sqlite",
                            "SQLite file of the per-key state, in the task's state directory")},
    {RDAPSYNC_OPTION_LIST(struct config, ignore, NULL,
                          "paths left out of the comparison (e.g. source.fetched_at), same syntax as migrate")},
    RDAPSYNC_OPTIONS_END,
};

typedef struct instance {
    rdapsync_ctx *ctx;
    const struct config *config;
    dstate *state;
    docpath *ignore;
    size_t ignore_count;
    chash_buffer feed; /* content_hash's digest and buffer */
} instance;

static rdapsync_status delta_check(const void *config, char *err, size_t err_size)
{
    const struct config *c = config;
    char reason[256];

    if (!c->state_file || !*c->state_file || strchr(c->state_file, '/')) {
        snprintf(err, err_size, "@state_file: a file name inside the task's state directory");
        return RDAPSYNC_ERROR;
    }
    for (size_t i = 0; i < c->ignore.count; i++) {
        docpath p;
        if (docpath_parse(c->ignore.items[i], &p, reason, sizeof reason) != 0) {
            snprintf(err, err_size, "@ignore[%zu]: path '%s': %s", i, c->ignore.items[i], reason);
            return RDAPSYNC_ERROR;
        }
        docpath_free(&p);
    }
    return RDAPSYNC_OK;
}

static void delta_close(void *state)
{
    instance *s = state;
    if (!s)
        return;
    dstate_close(s->state);
    for (size_t i = 0; i < s->ignore_count; i++)
        docpath_free(&s->ignore[i]);
    free(s->ignore);
    chash_free(s->feed.h);
    free(s);
}

static bool resume_at(void *opaque, const char *stream, int32_t partition, int64_t *offset)
{
    return H->checkpoint_get(opaque, stream, partition, offset);
}

static rdapsync_status delta_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const struct config *c = config;
    rdapsync_status status = delta_check(config, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    const char *dir = H->state_dir(ctx);
    if (!dir) {
        snprintf(err, err_size, "delta needs a state directory (state_dir)");
        return RDAPSYNC_ERROR;
    }
    instance *s = calloc(1, sizeof *s);
    if (!s || !(s->ignore = calloc(c->ignore.count + 1, sizeof *s->ignore))) {
        delta_close(s);
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_RETRY;
    }
    s->ctx = ctx;
    s->config = c;
    for (; s->ignore_count < c->ignore.count; s->ignore_count++)
        docpath_parse(c->ignore.items[s->ignore_count], &s->ignore[s->ignore_count], NULL, 0);
    const char *hash = hash_values[c->hash];
    bool rebuilt;
    s->state = dstate_open(dir, c->state_file, c->emit == EMIT_MERGE_PATCH, hash, chash_key_bytes(hash), &rebuilt,
                           &status, err, err_size);
    if (!s->state) {
        delta_close(s);
        return status;
    }
    if (!(s->feed.h = chash_new(hash, dstate_hash_key(s->state)))) {
        delta_close(s);
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_RETRY;
    }
    if (rebuilt)
        H->log(ctx, RDAPSYNC_LOG_WARN, "delta state %s was made with another content hash (or by an earlier "
               "rdapsync): rebuilt empty, so every key's next version passes as changed, once", c->state_file);
    /* The sink opened first: the checkpoint already says what it holds. */
    size_t promoted, discarded;
    if (dstate_recover(s->state, resume_at, ctx, &promoted, &discarded, err, err_size) != 0) {
        delta_close(s);
        return RDAPSYNC_RETRY;
    }
    if (promoted || discarded)
        H->log(ctx, RDAPSYNC_LOG_INFO, "delta state: %zu pending versions were delivered before the restart, %zu "
               "were not and come again", promoted, discarded);
    *state = s;
    return RDAPSYNC_OK;
}

static int drop_member(rdapsync_value *parent, const docpath_seg *last, void *opaque)
{
    docpath_remove(opaque, parent, last);
    return 0;
}

/* Feeds one value to the digest in a canonical form: a type tag, then for
 * scalars their bytes (strings with their length), for arrays the count
 * and the items, for objects the count and the members in bytewise key
 * order. Walking the tree costs far less than serializing it (no
 * escaping), and two documents hash the same exactly when they are equal
 * JSON (member order aside). 0 or -1 (allocation, digest). */
typedef struct member {
    const char *key;
    const rdapsync_value *value;
} member;

static int key_order(const void *a, const void *b)
{
    return strcmp(((const member *)a)->key, ((const member *)b)->key);
}

/* A type tag and a 64-bit count or length, the head of most values. */
static inline int feed_head(chash_buffer *f, unsigned char tag, uint64_t n)
{
    unsigned char head[1 + sizeof n];
    head[0] = tag;
    memcpy(head + 1, &n, sizeof n);
    return chash_feed(f, head, sizeof head);
}

static int feed_value(chash_buffer *md, const rdapsync_value *v)
{
    const rdapsync_json_api *j = H->json;
    rdapsync_value_type type = j->type(v);
    unsigned char tag = (unsigned char)type;
    uint64_t n;

    switch (type) {
    case RDAPSYNC_JSON_NULL: return chash_feed(md, &tag, 1);
    case RDAPSYNC_JSON_BOOL: {
        unsigned char b[2] = {tag, j->bool_value(v)};
        return chash_feed(md, b, 2);
    }
    case RDAPSYNC_JSON_INTEGER: {
        int64_t i = j->integer_value(v);
        return feed_head(md, tag, (uint64_t)i);
    }
    case RDAPSYNC_JSON_REAL: {
        double d = j->number_value(v);
        memcpy(&n, &d, sizeof n);
        return feed_head(md, tag, n);
    }
    case RDAPSYNC_JSON_STRING:
        n = j->string_length(v);
        return feed_head(md, tag, n) != 0 ? -1 : chash_feed(md, j->string_value(v), (size_t)n);
    case RDAPSYNC_JSON_ARRAY:
        n = j->array_size(v);
        if (feed_head(md, tag, n) != 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (feed_value(md, j->array_get(v, i)) != 0)
                return -1;
        return 0;
    case RDAPSYNC_JSON_OBJECT: {
        /* Members as (key, value) pairs from one iteration: no lookup of
         * each key again after sorting. */
        n = j->object_size(v);
        member small[32], *members = n <= 32 ? small : malloc(n * sizeof *members);
        size_t k = 0;
        int rc = members && feed_head(md, tag, n) == 0 ? 0 : -1;
        for (rdapsync_value_iter *it = j->object_iter((rdapsync_value *)v); rc == 0 && it && k < n;
             it = j->object_iter_next((rdapsync_value *)v, it))
            members[k++] = (member){j->object_iter_key(it), j->object_iter_value(it)};
        if (rc == 0 && k > 16) {
            qsort(members, k, sizeof *members, key_order);
        } else if (rc == 0) {
            /* RDAP objects have a few members: an insertion sort beats
             * qsort's indirect calls and its buffer. */
            for (size_t i = 1; i < k; i++) {
                member m = members[i];
                size_t at = i;
                for (; at > 0 && strcmp(members[at - 1].key, m.key) > 0; at--)
                    members[at] = members[at - 1];
                members[at] = m;
            }
        }
        for (size_t i = 0; rc == 0 && i < k; i++) {
            uint64_t len = strlen(members[i].key);
            rc = chash_feed(md, &len, sizeof len) != 0 || chash_feed(md, members[i].key, (size_t)len) != 0 ||
                         feed_value(md, members[i].value) != 0
                     ? -1
                     : 0;
        }
        if (members != small)
            free(members);
        return rc;
    }
    }
    return -1;
}

/* The content hash of the canonical document (ignored paths left out). 0 or -1. */
static int content_hash(instance *s, rdapsync_value *doc, unsigned char hash[DSTATE_HASH_BYTES])
{
    const rdapsync_json_api *j = H->json;
    rdapsync_value *subject = doc;
    int rc = -1;

    if (s->ignore_count) {
        subject = j->deep_copy(doc);
        if (!subject)
            return -1;
        for (size_t i = 0; i < s->ignore_count; i++)
            docpath_each_parent(j, subject, &s->ignore[i], false, drop_member, (void *)j);
    }
    s->feed.len = 0;
    if (chash_begin(s->feed.h) == 0 && feed_value(&s->feed, subject) == 0 && chash_buffer_flush(&s->feed) == 0 &&
        chash_end(s->feed.h, hash) == 0)
        rc = 0;
    if (subject != doc)
        j->decref(subject);
    return rc;
}

/* Replaces the document with its merge patch against the delivered one
 * (`before`, its text); the header tells consumers which they got. 0 or
 * -1 (allocation). */
static int emit_patch(instance *s, rdapsync_batch *batch, rdapsync_record *record, const char *before)
{
    const rdapsync_json_api *j = H->json;
    char reason[128];
    rdapsync_value *old = before ? j->parse(before, strlen(before), reason, sizeof reason) : NULL;
    bool inexpressible = false;
    rdapsync_value *patch = old ? mpatch_diff(j, old, record->value, &inexpressible) : NULL;
    j->decref(old);
    if (!patch) {
        if (old && !inexpressible)
            return -1;
        H->counter_add(s->ctx, "delta_full", 1);
        return H->record_add_header(batch, record, "rdapsync.delta", "full", 4);
    }
    if (H->record_set_value(batch, record, patch) != 0)
        return -1;
    H->counter_add(s->ctx, "delta_patches", 1);
    return H->record_add_header(batch, record, "rdapsync.delta", "merge-patch", 11);
}

static rdapsync_status delta_transform(void *state, rdapsync_batch *batch, rdapsync_record *record, char *err,
                                       size_t err_size)
{
    instance *s = state;
    bool patches = s->config->emit == EMIT_MERGE_PATCH;
    unsigned char now[DSTATE_HASH_BYTES], before[DSTATE_HASH_BYTES];
    char *text = NULL, *old_text = NULL;
    rdapsync_status status = RDAPSYNC_OK;

    if (!record->key) {
        H->counter_add(s->ctx, "delta_keyless", 1);
        return RDAPSYNC_OK; /* nothing to compare with: passes whole */
    }
    if (record->op == RDAPSYNC_OP_DELETE || !record->value) {
        if (dstate_pending(s->state, record->key, record->key_len, NULL, NULL, &record->position, err, err_size))
            return RDAPSYNC_RETRY;
        return RDAPSYNC_OK;
    }
    if (content_hash(s, record->value, now) != 0) {
        snprintf(err, err_size, "delta: out of memory hashing the document");
        return RDAPSYNC_RETRY;
    }
    /* The stored document is read only for a change that becomes a patch. */
    int known = dstate_lookup(s->state, record->key, record->key_len, before, NULL, err, err_size);
    if (known == 1 && patches && memcmp(before, now, sizeof now) != 0)
        known = dstate_lookup(s->state, record->key, record->key_len, before, &old_text, err, err_size);
    if (known < 0) {
        status = RDAPSYNC_RETRY;
    } else if (known == 1 && memcmp(before, now, sizeof now) == 0) {
        H->counter_add(s->ctx, "delta_unchanged", 1);
        status = RDAPSYNC_DROP;
    } else if (patches && !(text = H->json->dump(record->value, RDAPSYNC_DUMP_SORT_KEYS, NULL))) {
        /* The next patch of this key is made against this document. */
        snprintf(err, err_size, "delta: out of memory serializing the document");
        status = RDAPSYNC_RETRY;
    } else if (dstate_pending(s->state, record->key, record->key_len, now, text, &record->position, err,
                              err_size) != 0) {
        status = RDAPSYNC_RETRY;
    } else if (patches && emit_patch(s, batch, record, known == 1 ? old_text : NULL) != 0) {
        snprintf(err, err_size, "delta: out of memory building the merge patch");
        status = RDAPSYNC_RETRY;
    } else {
        H->counter_add(s->ctx, "delta_changed", 1);
    }
    H->free(text);
    free(old_text);
    return status;
}

static rdapsync_status delta_commit(void *state, const rdapsync_position *positions, size_t count, char *err,
                                    size_t err_size)
{
    instance *s = state;
    return dstate_commit(s->state, positions, count, err, err_size) == 0 ? RDAPSYNC_OK : RDAPSYNC_ERROR;
}

/* The batch's pending versions go to the file in one transaction before
 * the sink writes the batch (dstate_flush). */
static rdapsync_status delta_batch_end(void *state, char *err, size_t err_size)
{
    instance *s = state;
    return dstate_flush(s->state, err, err_size) == 0 ? RDAPSYNC_OK : RDAPSYNC_ERROR;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "delta",
    .kind = RDAPSYNC_KIND_TRANSFORM,
    .version = "1.1.0",
    .description = "drops documents unchanged since their key's last delivered version; optional RFC 7386 merge "
                   "patches",
    .options = options,
    .config_size = sizeof(struct config),
    .check = delta_check,
    .open = delta_open,
    .close = delta_close,
    .transform = delta_transform,
    /* Not concurrent: each call reads and writes the per-key state. Light:
     * a hash of the document and a lookup in memory, a fraction of the
     * parse; a transform thread's handoffs cost more than they save. */
    .flags = RDAPSYNC_TRANSFORM_LIGHT,
    .transform_commit = delta_commit,
    .transform_batch_end = delta_batch_end,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    H = host;
    return &descriptor;
}
