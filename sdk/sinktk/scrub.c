/* Retention deadlines and the decision about one stored document, shared
 * by every sink's subject_erase and retention_purge (sinktk.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdapsync/sinktk.h"
#include "rfc3339.h"

int rdapsync_sinktk_retention_due(const rdapsync_host *host, const rdapsync_value *doc, int64_t now_ms)
{
    const char *until = rdapsync_sinktk_retention_until(host, doc);
    int64_t ms;
    if (!until)
        return 0;
    if (rfc3339_to_ms(until, &ms) != 0)
        return -1;
    return ms < now_ms;
}

static bool concerned(const rdapsync_sinktk_scrub *scrub, const rdapsync_value *doc)
{
    if (scrub->subject)
        return rdapsync_sinktk_subject_match(scrub->host, scrub->subject, doc);
    return rdapsync_sinktk_retention_due(scrub->host, doc, scrub->now_ms) == 1;
}

int rdapsync_sinktk_scrub_text(const rdapsync_sinktk_scrub *scrub, const char *json, size_t len, char **out,
                               size_t *out_len, char *err, size_t err_size)
{
    const rdapsync_host *h = scrub->host;
    char reason[256];
    *out = NULL;
    *out_len = 0;
    rdapsync_value *doc = h->json->parse(json, len, reason, sizeof(reason));
    if (!doc) {
        snprintf(err, err_size, "stored document is not JSON: %s", reason);
        return -1;
    }
    bool yes = concerned(scrub, doc);
    h->json->decref(doc);
    if (!yes)
        return RDAPSYNC_SINKTK_KEEP;
    if (!scrub->fn)
        return RDAPSYNC_SINKTK_DELETE;
    char *next = NULL;
    size_t next_len = 0;
    if (scrub->fn(scrub->arg, json, len, &next, &next_len) != 0) {
        snprintf(err, err_size, "the rewrite of a stored document failed");
        return -1;
    }
    if (!next)
        return RDAPSYNC_SINKTK_DELETE;
    rdapsync_value *after = h->json->parse(next, next_len, reason, sizeof(reason));
    if (!after) {
        h->free(next);
        snprintf(err, err_size, "the rewritten document is not JSON: %s", reason);
        return -1;
    }
    /* Erasure never leaves a match behind; anonymised data past its
     * deadline may stay (retention asks for no more). */
    bool still = scrub->subject && rdapsync_sinktk_subject_match(h, scrub->subject, after);
    h->json->decref(after);
    if (still) {
        h->free(next);
        return RDAPSYNC_SINKTK_DELETE;
    }
    if (next_len == len && memcmp(next, json, len) == 0) {
        h->free(next);
        return RDAPSYNC_SINKTK_KEEP;
    }
    *out = next;
    *out_len = next_len;
    return RDAPSYNC_SINKTK_REPLACE;
}

typedef int (*decide_fn)(const rdapsync_sinktk_scrub *scrub, const char *json, size_t len, char **out,
                         size_t *out_len, char *err, size_t err_size);

static int list_add(rdapsync_sinktk_scrub_list *list, const rdapsync_sinktk_scrub *scrub, decide_fn decide,
                    const char *id, size_t id_len, const char *json, size_t len, char *err, size_t err_size)
{
    char *doc = NULL;
    size_t doc_len = 0;
    int verdict = decide(scrub, json, len, &doc, &doc_len, err, err_size);
    if (verdict < 0 || verdict == RDAPSYNC_SINKTK_KEEP)
        return verdict < 0 ? -1 : 0;
    if (list->count == list->capacity) {
        size_t cap = list->capacity ? list->capacity * 2 : 16;
        rdapsync_sinktk_scrub_item *items = realloc(list->items, cap * sizeof(*items));
        if (!items)
            goto oom;
        list->items = items;
        list->capacity = cap;
    }
    char *copy = malloc(id_len + 1);
    if (!copy)
        goto oom;
    memcpy(copy, id, id_len);
    copy[id_len] = '\0';
    list->items[list->count++] = (rdapsync_sinktk_scrub_item){copy, id_len, (rdapsync_sinktk_verdict)verdict, doc,
                                                              doc_len};
    return 0;
oom:
    scrub->host->free(doc);
    snprintf(err, err_size, "out of memory");
    return -1;
}

int rdapsync_sinktk_scrub_list_add(rdapsync_sinktk_scrub_list *list, const rdapsync_sinktk_scrub *scrub,
                                   const char *id, size_t id_len, const char *json, size_t len, char *err,
                                   size_t err_size)
{
    return list_add(list, scrub, rdapsync_sinktk_scrub_text, id, id_len, json, len, err, err_size);
}

int rdapsync_sinktk_scrub_list_add_heads(rdapsync_sinktk_scrub_list *list, const rdapsync_sinktk_scrub *scrub,
                                         const char *id, size_t id_len, const char *json, size_t len, char *err,
                                         size_t err_size)
{
    return list_add(list, scrub, rdapsync_sinktk_scrub_heads, id, id_len, json, len, err, err_size);
}

void rdapsync_sinktk_scrub_list_free(rdapsync_sinktk_scrub_list *list, const rdapsync_host *host)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].id);
        host->free(list->items[i].doc);
    }
    free(list->items);
    memset(list, 0, sizeof(*list));
}
