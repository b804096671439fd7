/*
 * Generated changes and the state they must leave behind. The expected
 * state is computed here the simple way (greatest version per key, deleted
 * keys absent), independently of any sink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"

static void *must(void *p)
{
    if (!p) {
        fprintf(stderr, "rdapsync-sink-testkit: out of memory\n");
        exit(2);
    }
    return p;
}

static char *dup_bytes(const char *bytes, size_t len)
{
    if (!bytes)
        return NULL;
    char *out = must(malloc(len + 1));
    memcpy(out, bytes, len);
    out[len] = '\0';
    return out;
}

kit_record *kit_set_add(kit_set *set, const char *key, size_t key_len, rdapsync_op op, const char *value, int64_t ts,
                        const char *origin, int64_t seq)
{
    if (set->count == set->capacity) {
        set->capacity = set->capacity ? set->capacity * 2 : 64;
        set->items = must(realloc(set->items, set->capacity * sizeof(*set->items)));
    }
    kit_record *r = &set->items[set->count++];
    r->key = dup_bytes(key, key_len);
    r->key_len = key ? key_len : 0;
    r->op = op;
    r->value = value ? dup_bytes(value, strlen(value)) : NULL;
    r->ts = ts;
    r->origin = origin ? dup_bytes(origin, strlen(origin)) : NULL;
    r->seq = seq;
    return r;
}

void kit_set_free(kit_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        free(set->items[i].key);
        free(set->items[i].value);
        free(set->items[i].origin);
    }
    free(set->items);
    memset(set, 0, sizeof(*set));
}

int kit_version_cmp(const kit_record *a, const kit_record *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    int c = strcmp(a->origin ? a->origin : "", b->origin ? b->origin : "");
    if (c != 0)
        return c < 0 ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

uint64_t kit_rand(uint64_t *rng)
{
    uint64_t x = *rng ? *rng : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

size_t kit_rand_below(uint64_t *rng, size_t n)
{
    return n ? (size_t)(kit_rand(rng) % n) : 0;
}

void kit_shuffle(const kit_record **items, size_t count, uint64_t *rng)
{
    for (size_t i = count; i > 1; i--) {
        size_t j = kit_rand_below(rng, i);
        const kit_record *t = items[i - 1];
        items[i - 1] = items[j];
        items[j] = t;
    }
}

static const char *const words[] = {
    "registrar", "registrant", "nameserver", "delegation", "signed",   "transfer", "renewal",  "expiration",
    "abuse",     "contact",    "redacted",   "privacy",    "handle",   "entity",   "status",   "active",
    "zone",      "glue",       "dnssec",     "rdap",       "whois",    "port43",   "lookup",   "ccTLD",
    "gTLD",      "ICANN",      "RIR",        "autnum",     "network",  "prefix",   "ключ",     "例え",
};

static void set_string(const rdapsync_json_api *json, rdapsync_value *obj, const char *name, const char *text,
                       size_t len)
{
    json->object_set(obj, name, must(json->string_new(text, len)));
}

char *kit_document(const char *key, size_t key_len, int revision, size_t size, uint64_t *rng)
{
    const rdapsync_json_api *json = kit_host()->json;
    rdapsync_value *doc = must(json->object_new());
    char text[256];

    set_string(json, doc, "objectClassName", "domain", 6);
    set_string(json, doc, "handle", key ? key : "", key ? key_len : 0);
    snprintf(text, sizeof(text), "rev-%d.example", revision);
    set_string(json, doc, "ldhName", text, strlen(text));
    json->object_set(doc, "revision", must(json->integer_new(revision)));
    json->object_set(doc, "ratio", must(json->real_new(1.5)));
    json->object_set(doc, "secure", must(json->bool_new(revision % 2 == 0)));
    json->object_set(doc, "notes", must(json->null_new()));
    set_string(json, doc, "unicode", "caf\xc3\xa9 \xe4\xbe\x8b\xe3\x81\x88 \xf0\x9f\xa6\x8a \"quoted\" back\\slash",
               strlen("caf\xc3\xa9 \xe4\xbe\x8b\xe3\x81\x88 \xf0\x9f\xa6\x8a \"quoted\" back\\slash"));

    rdapsync_value *status = must(json->array_new());
    json->array_append(status, must(json->string_new("active", 6)));
    json->object_set(doc, "status", status);

    rdapsync_value *events = must(json->array_new());
    rdapsync_value *event = must(json->object_new());
    set_string(json, event, "eventAction", "last changed", 12);
    snprintf(text, sizeof(text), "2024-01-%02dT00:00:%02dZ", 1 + revision % 28, revision % 60);
    set_string(json, event, "eventDate", text, strlen(text));
    json->array_append(events, event);
    json->object_set(doc, "events", events);

    rdapsync_value *nameservers = must(json->array_new());
    for (int i = 1; i <= 2; i++) {
        rdapsync_value *ns = must(json->object_new());
        set_string(json, ns, "objectClassName", "nameserver", 10);
        snprintf(text, sizeof(text), "ns%d.example.net", i);
        set_string(json, ns, "ldhName", text, strlen(text));
        json->array_append(nameservers, ns);
    }
    json->object_set(doc, "nameservers", nameservers);

    /* Pad with remarks up to about `size` bytes. */
    size_t have = 300 + key_len;
    rdapsync_value *remarks = must(json->array_new());
    while (have < size) {
        size_t used = 0;
        while (used < 180) {
            const char *w = words[kit_rand_below(rng, sizeof(words) / sizeof(words[0]))];
            used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s", used ? " " : "", w);
        }
        json->array_append(remarks, must(json->string_new(text, used)));
        have += used + 3;
    }
    json->object_set(doc, "remarks", remarks);

    char *out = must(json->dump(doc, RDAPSYNC_DUMP_SORT_KEYS, NULL));
    json->decref(doc);
    char *copy = must(strdup(out));
    kit_host()->free(out);
    return copy;
}

/* ---- states ---- */

void kit_state_add(kit_state *state, const char *key, size_t key_len, const char *value)
{
    if (state->count == state->capacity) {
        state->capacity = state->capacity ? state->capacity * 2 : 64;
        state->items = must(realloc(state->items, state->capacity * sizeof(*state->items)));
    }
    kit_entry *e = &state->items[state->count++];
    e->key = dup_bytes(key, key_len);
    e->key_len = key_len;
    e->value = dup_bytes(value, strlen(value));
}

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = memcmp(a, b, n);
    if (c != 0)
        return c;
    return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

static int entry_order(const void *pa, const void *pb)
{
    const kit_entry *a = pa, *b = pb;
    return key_cmp(a->key, a->key_len, b->key, b->key_len);
}

void kit_state_sort(kit_state *state)
{
    if (state->count > 1)
        qsort(state->items, state->count, sizeof(*state->items), entry_order);
}

void kit_state_free(kit_state *state)
{
    for (size_t i = 0; i < state->count; i++) {
        free(state->items[i].key);
        free(state->items[i].value);
    }
    free(state->items);
    memset(state, 0, sizeof(*state));
}

static int record_order(const void *pa, const void *pb)
{
    const kit_record *a = *(const kit_record *const *)pa;
    const kit_record *b = *(const kit_record *const *)pb;
    int c = key_cmp(a->key, a->key_len, b->key, b->key_len);
    return c ? c : -kit_version_cmp(a, b);
}

void kit_state_expected(const kit_set *set, kit_state *out)
{
    const kit_record **sorted = must(malloc((set->count ? set->count : 1) * sizeof(*sorted)));
    size_t n = 0;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < set->count; i++)
        if (set->items[i].key)
            sorted[n++] = &set->items[i];
    qsort(sorted, n, sizeof(*sorted), record_order);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && key_cmp(sorted[i - 1]->key, sorted[i - 1]->key_len, sorted[i]->key, sorted[i]->key_len) == 0)
            continue;
        if (sorted[i]->op == RDAPSYNC_OP_UPSERT)
            kit_state_add(out, sorted[i]->key, sorted[i]->key_len, sorted[i]->value);
    }
    free(sorted);
}
