/*
 * The multi-value register of one key (sinktk.h, "Multi-value register"):
 * the heads as a set of maximal versions, and the visible document the
 * strategy makes of them.
 *
 * Stored form: a JSON array of heads, greatest version (lww order) first,
 * each {"deleted":bool,"doc":...,"o":origin,"s":seq,"t":time,"vv":{...}},
 * members sorted. Sorting the heads makes the text a function of the set
 * alone, so replicas that saw the same versions store the same bytes;
 * sorting the members keeps that true of a document read back from the
 * key's row, which a store (jsonb) may give in another member order.
 *
 * A lone head is stored without "doc" when the store can load the row
 * (key->lone_docless): the row already holds that document, and most keys
 * never have more than one head, so neither the heads nor the step touch
 * the document. Only when such a head has to stand beside another one
 * does the step ask for the row (key->need_row) and run again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

/* One head while the step runs. Everything is borrowed: from the parsed
 * stored text or from the batch's records; `entries` alone is owned. */
typedef struct head {
    rdapsync_vv vv;
    rdapsync_vv_entry *entries;
    rdapsync_version version;
    bool deleted;
    bool docless; /* stored without its document: the key's row holds it */
    const rdapsync_value *doc;
} head;

typedef struct heads {
    head *items;
    size_t count, capacity;
} heads;

static void heads_free(heads *h)
{
    for (size_t i = 0; i < h->count; i++)
        free(h->items[i].entries);
    free(h->items);
    memset(h, 0, sizeof(*h));
}

static int heads_push(heads *h, head item)
{
    if (h->count == h->capacity) {
        size_t capacity = h->capacity ? h->capacity * 2 : 4;
        head *items = realloc(h->items, capacity * sizeof(*items));
        if (!items)
            return -1;
        h->items = items;
        h->capacity = capacity;
    }
    h->items[h->count++] = item;
    return 0;
}

static void heads_remove(heads *h, size_t index)
{
    free(h->items[index].entries);
    h->items[index] = h->items[--h->count];
}

/* A copy of a vector's entry array; the regions stay borrowed. */
static head head_of(const rdapsync_vv *vv, rdapsync_version version, bool deleted, const rdapsync_value *doc,
                    bool *oom)
{
    head out = { .version = version, .deleted = deleted, .doc = doc };
    if (vv->count) {
        out.entries = malloc(vv->count * sizeof(*out.entries));
        if (!out.entries) {
            *oom = true;
            return out;
        }
        memcpy(out.entries, vv->entries, vv->count * sizeof(*out.entries));
    }
    out.vv = (rdapsync_vv){ .entries = out.entries, .count = vv->count };
    return out;
}

/* ---- the stored form ---- */

static int parse_head(const rdapsync_json_api *j, const rdapsync_value *node, heads *out, char *err,
                      size_t err_size)
{
    const rdapsync_value *vv = j->object_get(node, "vv"), *t = j->object_get(node, "t");
    const rdapsync_value *o = j->object_get(node, "o"), *s = j->object_get(node, "s");
    const rdapsync_value *deleted = j->object_get(node, "deleted");
    if (!vv || j->type(t) != RDAPSYNC_JSON_INTEGER || j->type(o) != RDAPSYNC_JSON_STRING ||
        j->type(s) != RDAPSYNC_JSON_INTEGER || j->type(deleted) != RDAPSYNC_JSON_BOOL ||
        j->type(vv) != RDAPSYNC_JSON_OBJECT) {
        snprintf(err, err_size, "a head lacks vv, t, o, s or deleted");
        return -1;
    }
    size_t capacity = j->object_size(vv), count = 0;
    rdapsync_vv_entry *entries = malloc((capacity ? capacity : 1) * sizeof(*entries));
    if (!entries) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    char reason[256];
    if (rdapsync_vv_from_json(j, vv, entries, capacity, &count, reason, sizeof reason) != 0) {
        snprintf(err, err_size, "a head's vv: %s", reason);
        free(entries);
        return -1;
    }
    head h = {
        .entries = entries,
        .vv = { .entries = entries, .count = count },
        .version = { .event_time_ms = j->integer_value(t), .origin = j->string_value(o),
                     .sequence = j->integer_value(s) },
        .deleted = j->bool_value(deleted),
        .doc = j->bool_value(deleted) ? NULL : j->object_get(node, "doc"),
    };
    h.docless = !h.deleted && !h.doc;
    if (h.doc && j->type(h.doc) == RDAPSYNC_JSON_NULL) {
        snprintf(err, err_size, "a head that is not deleted has a null doc");
        free(entries);
        return -1;
    }
    if (heads_push(out, h) != 0) {
        free(entries);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- a lone head without its document, read without a tree ----
 * Most keys' stored text is one head that lacks "doc", in the exact form
 * heads_text writes. It is read here straight from the bytes (a copy, its
 * strings cut out in place); anything else, or anything this reader does
 * not expect, goes to the JSON parser below, which also words the errors. */

typedef struct cursor {
    char *p, *end;
} cursor;

static bool eat(cursor *c, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* A string without escapes or control bytes, its closing quote replaced
 * by NUL: the opening quote was eaten. */
static const char *plain_string(cursor *c)
{
    char *start = c->p;
    for (; c->p < c->end; c->p++) {
        unsigned char b = (unsigned char)*c->p;
        if (b == '"') {
            *c->p++ = '\0';
            return start;
        }
        if (b < 0x20 || b == '\\')
            return NULL;
    }
    return NULL;
}

/* An integer of at most 18 digits (no overflow to check), as dump writes it. */
static bool small_integer(cursor *c, int64_t *out)
{
    bool negative = c->p < c->end && *c->p == '-';
    c->p += negative;
    int64_t v = 0;
    int digits = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && digits < 19) {
        v = v * 10 + (*c->p++ - '0');
        digits++;
    }
    if (digits == 0 || digits > 18 || (digits > 1 && c->p[-digits] == '0'))
        return false;
    *out = negative ? -v : v;
    return true;
}

/* 1: the text was a lone docless head (or lone tombstone) and is in *out,
 * the strings in *scratch (owned); 0: not that form, nothing kept. */
static int parse_lone(const char *text, size_t len, char **scratch, heads *out)
{
    rdapsync_vv_entry entries[16];
    size_t count = 0;
    int64_t s, t;
    char *copy = malloc(len + 1);
    if (!copy)
        return 0; /* the parser below says "out of memory" */
    memcpy(copy, text, len);
    copy[len] = '\0';
    cursor c = { copy, copy + len };
    bool deleted = eat(&c, "[{\"deleted\":true");
    if (!deleted && !eat(&c, "[{\"deleted\":false"))
        goto no;
    const char *origin;
    if (!eat(&c, ",\"o\":\"") || !(origin = plain_string(&c)) || !eat(&c, ",\"s\":") || !small_integer(&c, &s) ||
        !eat(&c, ",\"t\":") || !small_integer(&c, &t) || !eat(&c, ",\"vv\":{"))
        goto no;
    while (!eat(&c, "}")) {
        int64_t counter;
        const char *region;
        if ((count && !eat(&c, ",")) || count == sizeof entries / sizeof *entries || !eat(&c, "\"") ||
            !(region = plain_string(&c)) || !eat(&c, ":") || !small_integer(&c, &counter) || counter < 1 ||
            !*region || (count && strcmp(entries[count - 1].region, region) >= 0))
            goto no;
        entries[count++] = (rdapsync_vv_entry){ .region = region, .counter = (uint64_t)counter };
    }
    if (count == 0 || !eat(&c, "}]") || c.p != c.end)
        goto no;
    head h = { .entries = malloc(count * sizeof(*entries)), .deleted = deleted, .docless = !deleted };
    if (!h.entries)
        goto no;
    memcpy(h.entries, entries, count * sizeof(*entries));
    h.vv = (rdapsync_vv){ .entries = h.entries, .count = count };
    h.version = (rdapsync_version){ .event_time_ms = t, .origin = origin, .sequence = s };
    if (heads_push(out, h) != 0) {
        free(h.entries);
        goto no;
    }
    *scratch = copy;
    return 1;
no:
    free(copy);
    return 0;
}

/* Parses the stored text into *tree or *scratch (owned: the heads borrow
 * from it). */
static int parse_stored(const rdapsync_json_api *j, const char *text, size_t len, rdapsync_value **tree,
                        char **scratch, heads *out, char *err, size_t err_size)
{
    if (parse_lone(text, len, scratch, out))
        return 0;
    char reason[256];
    *tree = j->parse(text, len, reason, sizeof reason);
    if (!*tree) {
        snprintf(err, err_size, "stored heads are not JSON: %s", reason);
        return -1;
    }
    if (j->type(*tree) != RDAPSYNC_JSON_ARRAY) {
        snprintf(err, err_size, "stored heads are not an array");
        return -1;
    }
    for (size_t i = 0; i < j->array_size(*tree); i++) {
        const rdapsync_value *node = j->array_get(*tree, i);
        if (j->type(node) != RDAPSYNC_JSON_OBJECT || parse_head(j, node, out, err, err_size) != 0) {
            if (j->type(node) != RDAPSYNC_JSON_OBJECT)
                snprintf(err, err_size, "a stored head is not an object");
            return -1;
        }
    }
    /* The row holds one document: that of a lone head. */
    for (size_t i = 0; out->count > 1 && i < out->count; i++) {
        if (out->items[i].docless) {
            snprintf(err, err_size, "a head that is not deleted has no doc beside other heads");
            return -1;
        }
    }
    return 0;
}

static int set_member(const rdapsync_json_api *j, rdapsync_value *object, const char *name, rdapsync_value *member)
{
    return member ? j->object_set(object, name, member) : -1;
}

/* A head as JSON (a new value), with its document or without. */
static rdapsync_value *head_json(const rdapsync_json_api *j, const head *h, bool with_doc)
{
    rdapsync_value *node = j->object_new(), *vv = j->object_new();
    if (!node || !vv)
        goto fail;
    for (size_t i = 0; i < h->vv.count; i++)
        if (set_member(j, vv, h->vv.entries[i].region, j->integer_new((int64_t)h->vv.entries[i].counter)) != 0)
            goto fail;
    int rc = j->object_set(node, "vv", vv);
    vv = NULL;
    rc |= set_member(j, node, "t", j->integer_new(h->version.event_time_ms));
    const char *origin = h->version.origin ? h->version.origin : "";
    rc |= set_member(j, node, "o", j->string_new(origin, strlen(origin)));
    rc |= set_member(j, node, "s", j->integer_new(h->version.sequence));
    rc |= set_member(j, node, "deleted", j->bool_new(h->deleted));
    if (with_doc && !h->deleted && h->doc)
        rc |= set_member(j, node, "doc", j->incref((rdapsync_value *)h->doc));
    if (rc == 0)
        return node;
fail:
    j->decref(vv);
    j->decref(node);
    return NULL;
}

/* ---- the stored form, written without a tree ---- */

typedef struct text_buf {
    char *data;
    size_t len, capacity;
    bool failed;
} text_buf;

static int text_put(const char *bytes, size_t len, void *opaque)
{
    text_buf *t = opaque;
    if (t->failed)
        return -1;
    if (t->len + len + 1 > t->capacity) {
        size_t capacity = t->capacity ? t->capacity : 256;
        while (capacity < t->len + len + 1)
            capacity *= 2;
        char *data = realloc(t->data, capacity);
        if (!data) {
            t->failed = true;
            return -1;
        }
        t->data = data;
        t->capacity = capacity;
    }
    memcpy(t->data + t->len, bytes, len);
    t->len += len;
    t->data[t->len] = '\0';
    return 0;
}

static void text_lit(text_buf *t, const char *lit)
{
    text_put(lit, strlen(lit), t);
}

/* By hand: snprintf was a sixth of the register's step. */
static void text_int(text_buf *t, int64_t v)
{
    char digits[24];
    char *p = digits + sizeof digits;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    text_put(p, (size_t)(digits + sizeof digits - p), t);
}

/* A JSON string as the host's serializer writes it: a string without
 * bytes to escape as it is, any other through the serializer itself. */
static void text_string(const rdapsync_host *host, text_buf *t, const char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x20 || b == '"' || b == '\\') {
            if (rdapsync_sinktk_json_string(host, s, len, text_put, t) != 0)
                t->failed = true;
            return;
        }
    }
    text_put("\"", 1, t);
    text_put(s, len, t);
    text_put("\"", 1, t);
}

/* The heads as the stored form (members sorted), malloc'd: the same bytes
 * as a tree of head_json()s dumped with RDAPSYNC_DUMP_SORT_KEYS. */
static char *heads_sorted_text(const rdapsync_host *host, const heads *h, bool with_doc, size_t *len)
{
    text_buf t = { 0 };
    text_lit(&t, "[");
    for (size_t i = 0; i < h->count; i++) {
        const head *x = &h->items[i];
        text_lit(&t, i ? ",{\"deleted\":" : "{\"deleted\":");
        text_lit(&t, x->deleted ? "true" : "false");
        if (with_doc && !x->deleted && x->doc) {
            text_lit(&t, ",\"doc\":");
            if (host->json->dump_cb(x->doc, RDAPSYNC_DUMP_SORT_KEYS, text_put, &t) != 0)
                t.failed = true;
        }
        text_lit(&t, ",\"o\":");
        text_string(host, &t, x->version.origin ? x->version.origin : "");
        text_lit(&t, ",\"s\":");
        text_int(&t, x->version.sequence);
        text_lit(&t, ",\"t\":");
        text_int(&t, x->version.event_time_ms);
        text_lit(&t, ",\"vv\":{");
        for (size_t e = 0; e < x->vv.count; e++) {
            if (e)
                text_lit(&t, ",");
            text_string(host, &t, x->vv.entries[e].region);
            text_lit(&t, ":");
            text_int(&t, (int64_t)x->vv.entries[e].counter);
        }
        text_lit(&t, "}}");
    }
    text_lit(&t, "]");
    if (t.failed) {
        free(t.data);
        return NULL;
    }
    *len = t.len;
    return t.data;
}

/* The heads as malloc'd JSON text (copied out of the host's buffer), in
 * `flags`' member order: the conflict log's. */
static char *heads_text(const rdapsync_host *host, const heads *h, bool with_doc, unsigned flags)
{
    const rdapsync_json_api *j = host->json;
    rdapsync_value *array = j->array_new();
    for (size_t i = 0; array && i < h->count; i++) {
        rdapsync_value *node = head_json(j, &h->items[i], with_doc);
        if (!node || j->array_append(array, node) != 0) {
            j->decref(array);
            return NULL;
        }
    }
    char *text = array ? j->dump(array, flags, NULL) : NULL;
    char *copy = text ? strdup(text) : NULL;
    host->free(text);
    j->decref(array);
    return copy;
}

/* ---- the register ---- */

/* Offers one version: true when it joined the heads. */
static bool offer(heads *h, const rdapsync_record *record, bool *oom)
{
    for (size_t i = 0; i < h->count; i++) {
        rdapsync_vv_order order = rdapsync_vv_compare(&record->vv, &h->items[i].vv);
        if (order == RDAPSYNC_VV_BEFORE)
            return false;
        /* Equal vectors: the greater version stays, so that the outcome
         * does not depend on which of the two came first. */
        if (order == RDAPSYNC_VV_EQUAL && rdapsync_version_compare(&record->version, &h->items[i].version) <= 0)
            return false;
    }
    for (size_t i = h->count; i-- > 0;) {
        rdapsync_vv_order order = rdapsync_vv_compare(&record->vv, &h->items[i].vv);
        if (order == RDAPSYNC_VV_AFTER || order == RDAPSYNC_VV_EQUAL)
            heads_remove(h, i);
    }
    head item = head_of(&record->vv, record->version, record->op == RDAPSYNC_OP_DELETE, record->value, oom);
    if (*oom || heads_push(h, item) != 0) {
        free(item.entries);
        *oom = true;
    }
    return true;
}

static int lww_descending(const void *pa, const void *pb)
{
    const head *a = pa, *b = pb;
    return -rdapsync_version_compare(&a->version, &b->version);
}

static size_t region_rank(const rdapsync_sinktk_conflicts *c, const char *origin)
{
    for (size_t i = 0; i < c->region_count; i++)
        if (strcmp(c->regions[i], origin ? origin : "") == 0)
            return i;
    return c->region_count;
}

/* The head the strategy shows; heads sorted lww-first. */
static const head *chosen(const rdapsync_sinktk_conflicts *c, const heads *h)
{
    const head *best = &h->items[0];
    if (c->strategy != RDAPSYNC_SINKTK_REGION_PRIORITY)
        return best;
    for (size_t i = 1; i < h->count; i++)
        if (region_rank(c, h->items[i].version.origin) < region_rank(c, best->version.origin))
            best = &h->items[i];
    return best;
}

/* merge: each top-level member from the lww-greatest head that has it. */
static rdapsync_value *merged(const rdapsync_json_api *j, const heads *h)
{
    rdapsync_value *out = j->object_new();
    for (size_t i = 0; out && i < h->count; i++) {
        rdapsync_value *doc = (rdapsync_value *)h->items[i].doc;
        if (h->items[i].deleted || j->type(doc) != RDAPSYNC_JSON_OBJECT)
            continue;
        for (rdapsync_value_iter *it = j->object_iter(doc); it; it = j->object_iter_next(doc, it)) {
            const char *name = j->object_iter_key(it);
            if (j->object_get(out, name))
                continue;
            if (j->object_set(out, name, j->incref(j->object_iter_value(it))) != 0) {
                j->decref(out);
                return NULL;
            }
        }
    }
    return out;
}

static char *dump_copy(const rdapsync_host *host, const rdapsync_value *value, unsigned flags)
{
    char *text = host->json->dump(value, flags, NULL);
    char *copy = text ? strdup(text) : NULL;
    host->free(text);
    return copy;
}

/* Fills the key's visible document and version from the sorted heads.
 * Beside other heads the document may have come from a row (another
 * member order): its members are sorted then, so that every replica shows
 * the same bytes. A lone head is always a record of the batch, shown as
 * the record has it. */
static int visible(const rdapsync_host *host, const rdapsync_sinktk_conflicts *c, const heads *h,
                   rdapsync_sinktk_mvr_key *key)
{
    const rdapsync_json_api *j = host->json;
    const head *show = chosen(c, h);
    bool merge = c->strategy == RDAPSYNC_SINKTK_MERGE && !show->deleted &&
                 j->type(show->doc) == RDAPSYNC_JSON_OBJECT && h->count > 1;
    const char *origin = show->version.origin ? show->version.origin : "";
    if (!(key->origin_ = strdup(origin)))
        return -1;
    key->version = show->version;
    key->version.origin = key->origin_;
    if (show->deleted)
        return 0;
    if (!merge && h->count == 1 && key->doc_as_value) {
        key->doc_value = show->doc; /* a record of the batch (see above) */
        return 0;
    }
    unsigned flags = h->count > 1 ? RDAPSYNC_DUMP_SORT_KEYS : 0;
    if (!merge)
        return (key->doc = dump_copy(host, show->doc, flags)) ? 0 : -1;
    rdapsync_value *doc = merged(j, h);
    key->doc = doc ? dump_copy(host, doc, flags) : NULL;
    j->decref(doc);
    return key->doc ? 0 : -1;
}

/* Gives a docless lone head that now stands beside others the document
 * of the key's row (key->row_doc); no row document: the row was erased or
 * deleted since, and the head becomes a tombstone. 1 when the row is yet
 * to be loaded (key->need_row set), 0 done, -1 with err. */
static int fill_docless(const rdapsync_json_api *j, rdapsync_sinktk_mvr_key *key, heads *h, rdapsync_value **row,
                        char *err, size_t err_size)
{
    head *lone = NULL;
    for (size_t i = 0; i < h->count; i++)
        if (h->items[i].docless)
            lone = &h->items[i];
    if (!lone || h->count < 2)
        return 0;
    if (!key->row_loaded) {
        key->need_row = true;
        return 1;
    }
    lone->docless = false;
    if (!key->row_doc) {
        lone->deleted = true;
        return 0;
    }
    char reason[256];
    if (!(*row = j->parse(key->row_doc, key->row_doc_len, reason, sizeof reason))) {
        snprintf(err, err_size, "the row's document is not JSON: %s", reason);
        return -1;
    }
    lone->doc = *row;
    return 0;
}

/* Frees what an earlier step computed, so that the step can run again. */
static void key_reset(rdapsync_sinktk_mvr_key *key)
{
    free(key->heads);
    free(key->doc);
    free(key->log_heads);
    free(key->origin_);
    key->heads = key->doc = key->log_heads = key->origin_ = NULL;
    key->heads_len = 0;
    key->doc_value = NULL;
    key->changed = key->need_row = false;
    key->log = RDAPSYNC_SINKTK_LOG_NONE;
    key->head_count = key->head_count_before = 0;
    key->stale = 0;
    memset(&key->version, 0, sizeof(key->version));
}

int rdapsync_sinktk_mvr_step(const rdapsync_host *host, const rdapsync_sinktk_conflicts *conflicts,
                             rdapsync_sinktk_mvr_key *key, const rdapsync_record *const *records, size_t count,
                             char *err, size_t err_size)
{
    const rdapsync_json_api *j = host->json;
    rdapsync_value *tree = NULL, *row = NULL;
    char *scratch = NULL;
    heads h = { 0 };
    bool oom = false, joined = false;
    int rc = -1;

    key_reset(key);
    if (key->stored && parse_stored(j, key->stored, key->stored_len, &tree, &scratch, &h, err, err_size) != 0)
        goto done;
    size_t before = key->head_count_before = h.count;
    for (size_t i = 0; i < count && !oom; i++) {
        if (records[i]->vv.count == 0 || !offer(&h, records[i], &oom))
            key->stale++;
        else
            joined = true;
    }
    if (oom)
        goto oom;
    key->head_count = h.count;
    if (!joined) {
        rc = 0;
        goto done;
    }
    int filled = fill_docless(j, key, &h, &row, err, err_size);
    if (filled != 0) {
        rc = filled > 0 ? 0 : -1;
        goto done;
    }
    key->changed = true;
    qsort(h.items, h.count, sizeof(*h.items), lww_descending);
    key->log = h.count > 1 ? RDAPSYNC_SINKTK_LOG_OPEN
               : before > 1 ? RDAPSYNC_SINKTK_LOG_RESOLVE
                            : RDAPSYNC_SINKTK_LOG_NONE;
    bool docs = h.count > 1 || !key->lone_docless;
    if (!(key->heads = heads_sorted_text(host, &h, docs, &key->heads_len)) ||
        (key->log != RDAPSYNC_SINKTK_LOG_NONE && !(key->log_heads = heads_text(host, &h, false, 0))) ||
        visible(host, conflicts, &h, key) != 0)
        goto oom;
    rc = 0;
    goto done;
oom:
    snprintf(err, err_size, "out of memory");
done:
    heads_free(&h);
    free(scratch);
    j->decref(tree);
    j->decref(row);
    return rc;
}

void rdapsync_sinktk_mvr_key_clear(rdapsync_sinktk_mvr_key *key)
{
    free(key->stored);
    free(key->row_doc);
    free(key->heads);
    free(key->doc);
    free(key->log_heads);
    free(key->origin_);
    const rdapsync_record *record = key->record;
    memset(key, 0, sizeof(*key));
    key->record = record;
}
