/* Records about suppressed subjects, redacted on the way in (task_suppress.h). */
#include "runtime/task_suppress.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

#include "base/log.h"
#include "model/batch.h"
#include "model/batch_api.h"
#include "model/json_api.h"
#include "runtime/task_shared.h"

#define WALK_DEPTH 64
#define CANDIDATE_MAX 512 /* longer strings name nobody */

/* Set before the tasks start and cleared after they end. */
static suppression_list *active;

int task_suppress_start(const keyed_path *settings, char *err, size_t err_size)
{
    if (!settings->path)
        return 0;
    suppression_list *list = suppression_open(settings->path, settings->key, settings->key_len, err, err_size);
    if (!list)
        return -1;
    suppression_close(active);
    active = list;
    return 0;
}

void task_suppress_stop(void)
{
    suppression_close(active);
    active = NULL;
}

/* Whether `text` as a subject of `kind` is on the list. */
static bool listed(suppression_list *list, const char *kind, const char *text, size_t len)
{
    rdapsync_sinktk_subject prepared;
    char err[128], *value = malloc(len + 1);
    bool found = false;
    if (!value)
        return false;
    memcpy(value, text, len);
    value[len] = '\0';
    rdapsync_subject s = { kind, value };
    if (rdapsync_sinktk_subject_prepare(&prepared, &s, err, sizeof(err)) == RDAPSYNC_OK) {
        found = prepared.normal && suppression_contains(list, kind, prepared.normal);
        rdapsync_sinktk_subject_free(&prepared);
    }
    free(value);
    return found;
}

/* Strings already found not listed, per thread: RDAP documents repeat most
 * of their strings (roles, statuses, event actions, vCard types, country
 * codes), and each costs a few keyed hashes. Exact bytes are compared, so
 * the cache never hides a listed string; a change of the list (its
 * generation) empties it. */
#define CLEAN_SLOTS 4096
#define CLEAN_TEXT 40
typedef struct clean_slot {
    unsigned generation; /* 0: empty */
    unsigned char len;
    char text[CLEAN_TEXT];
} clean_slot;
typedef struct clean_cache {
    unsigned generation;
    clean_slot slots[CLEAN_SLOTS];
} clean_cache;

/* A thread's cache is freed when the thread ends (a task's threads come and go). */
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static void cache_key_make(void) { pthread_key_create(&cache_key, free); }

static clean_cache *thread_cache(unsigned generation)
{
    pthread_once(&cache_once, cache_key_make);
    clean_cache *cache = pthread_getspecific(cache_key);
    if (!cache) {
        if (!(cache = calloc(1, sizeof(*cache))) || pthread_setspecific(cache_key, cache) != 0) {
            free(cache);
            return NULL;
        }
    }
    if (cache->generation != generation) {
        memset(cache->slots, 0, sizeof(cache->slots));
        cache->generation = generation;
    }
    return cache;
}

static clean_slot *clean_lookup(clean_cache *cache, const char *text, size_t len, bool *hit)
{
    uint64_t h = 14695981039346656037ULL;
    *hit = false;
    if (len >= CLEAN_TEXT || !cache)
        return NULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    clean_slot *slot = &cache->slots[h % CLEAN_SLOTS];
    *hit = slot->generation == cache->generation && slot->len == len && memcmp(slot->text, text, len) == 0;
    return slot;
}

static bool string_listed_uncached(suppression_list *list, const char *text, size_t len);

static bool string_listed(suppression_list *list, clean_cache *cache, const char *text, size_t len)
{
    bool hit;
    clean_slot *slot = clean_lookup(cache, text, len, &hit);
    if (hit)
        return false;
    if (string_listed_uncached(list, text, len))
        return true;
    if (slot) {
        slot->generation = cache->generation;
        slot->len = (unsigned char)len;
        memcpy(slot->text, text, len);
    }
    return false;
}

static bool string_listed_uncached(suppression_list *list, const char *text, size_t len)
{
    size_t digits = 0;
    if (len == 0 || len > CANDIDATE_MAX)
        return false;
    if (len > 7 && strncasecmp(text, "mailto:", 7) == 0) {
        const char *q = memchr(text, '?', len);
        return listed(list, "email", text + 7, (size_t)((q ? q : text + len) - text - 7));
    }
    if (memchr(text, '@', len) && listed(list, "email", text, len))
        return true;
    for (size_t i = 0; i < len; i++)
        digits += isdigit((unsigned char)text[i]) != 0;
    if (digits >= 4 && listed(list, "phone", text, len))
        return true;
    return listed(list, "handle", text, len) || listed(list, "name", text, len);
}

static bool walk(suppression_list *list, clean_cache *cache, const rdapsync_json_api *j, rdapsync_value *v,
                 int depth)
{
    if (depth > WALK_DEPTH)
        return true; /* deeper than any RDAP document: treat as about the subject */
    switch (j->type(v)) {
    case RDAPSYNC_JSON_STRING:
        return string_listed(list, cache, j->string_value(v), j->string_length(v));
    case RDAPSYNC_JSON_ARRAY:
        for (size_t i = 0, n = j->array_size(v); i < n; i++)
            if (walk(list, cache, j, j->array_get(v, i), depth + 1))
                return true;
        return false;
    case RDAPSYNC_JSON_OBJECT:
        for (rdapsync_value_iter *it = j->object_iter(v); it; it = j->object_iter_next(v, it))
            if (walk(list, cache, j, j->object_iter_value(it), depth + 1))
                return true;
        return false;
    default:
        return false;
    }
}

bool task_suppress_matches(suppression_list *list, const rdapsync_json_api *j, const rdapsync_value *doc)
{
    if (!list || !doc)
        return false;
    /* Generation 0 marks an empty slot: the list's generations start at 1. */
    return walk(list, thread_cache(suppression_generation(list)), j, (rdapsync_value *)doc, 0);
}

/* 0: not about a suppressed subject; 1: redacted in place; -1: still
 * names the subject after redaction (or redaction failed). */
static int suppress_record(struct task *t, rdapsync_batch *batch, rdapsync_record *record, char *err)
{
    const rdapsync_json_api *j = json_api_table();
    if (!record->value || !task_suppress_matches(active, j, record->value))
        return 0;
    if (!t->suppress.opened ||
        t->suppress.desc->transform(t->suppress.state, batch, record, err, TASK_ERR_SIZE) != RDAPSYNC_OK)
        return -1;
    if (task_suppress_matches(active, j, record->value)) {
        snprintf(err, TASK_ERR_SIZE, "the subject is still named after every contact was removed");
        return -1;
    }
    return 1;
}

void task_suppress_cycle(struct task *t, task_cycle *c)
{
    uint64_t suppressed = 0;
    if (!active)
        return;
    suppression_refresh(active);
    if (suppression_count(active) == 0)
        return;
    for (size_t i = 0, n = batch_count(c->batch); i < n; i++) {
        char err[TASK_ERR_SIZE] = "";
        rdapsync_record *record = batch_record(c->batch, i);
        int rc = t->keep[i] ? suppress_record(t, c->batch, record, err) : 0;
        if (rc < 0) {
            /* Nothing of it may reach a store: the record stays out of the
             * batch, said aloud (its key only). */
            t->keep[i] = false;
            c->survivors--;
            task_log(t, RDAPSYNC_LOG_WARN, &t->suppress,
                     "record %.*s about a suppressed subject not written: %s", (int)record->key_len,
                     record->key ? record->key : "", err[0] ? err : "redaction failed");
        }
        suppressed += rc != 0;
    }
    for (size_t i = 0, n = batch_count(c->dead); i < n; i++) {
        char err[TASK_ERR_SIZE] = "";
        rdapsync_record *record = batch_record(c->dead, i);
        int rc = suppress_record(t, c->dead, record, err);
        if (rc < 0)
            batch_record_set_value(c->dead, record, NULL); /* the dead letter keeps its reason and place */
        suppressed += rc != 0;
    }
    if (suppressed)
        redaction_tally_add(&t->redactions, REDACTION_COUNTER_PREFIX "suppressed", suppressed);
}
