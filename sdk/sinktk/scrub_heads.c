/*
 * Subject erasure and retention inside a multi-value register's heads
 * (sinktk.h, "Erasure inside the heads"). A head is a version first and a
 * document second: dominance, staleness and convergence need only the
 * version, so an erasure keeps every head and changes only its document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdapsync/sinktk.h"

typedef const rdapsync_json_api jsonapi;

/* The document of a head that has one (not a tombstone), or NULL. */
static rdapsync_value *head_doc(jsonapi *j, rdapsync_value *node)
{
    if (j->type(node) != RDAPSYNC_JSON_OBJECT)
        return NULL;
    const rdapsync_value *deleted = j->object_get(node, "deleted");
    if (j->type(deleted) == RDAPSYNC_JSON_BOOL && j->bool_value(deleted))
        return NULL;
    return j->object_get(node, "doc");
}

static rdapsync_value *parse_heads(jsonapi *j, const char *json, size_t len, char *err, size_t err_size)
{
    char reason[256];
    rdapsync_value *tree = j->parse(json, len, reason, sizeof(reason));
    if (!tree) {
        snprintf(err, err_size, "stored heads are not JSON: %s", reason);
        return NULL;
    }
    if (j->type(tree) != RDAPSYNC_JSON_ARRAY) {
        snprintf(err, err_size, "stored heads are not an array");
        j->decref(tree);
        return NULL;
    }
    return tree;
}

int rdapsync_sinktk_subject_match_heads_text(const rdapsync_host *host, const rdapsync_sinktk_subject *subject,
                                             const char *json, size_t len)
{
    jsonapi *j = host->json;
    char ignored[256];
    rdapsync_value *tree = parse_heads(j, json, len, ignored, sizeof(ignored));
    if (!tree)
        return -1;
    int yes = 0;
    for (size_t i = 0; !yes && i < j->array_size(tree); i++)
        yes = rdapsync_sinktk_subject_match(host, subject, head_doc(j, j->array_get(tree, i)));
    j->decref(tree);
    return yes;
}

/* The head `node` made a tombstone that is marked erased: its version
 * stays, its document goes. */
static int erase_head(jsonapi *j, rdapsync_value *node)
{
    j->object_del(node, "doc");
    rdapsync_value *yes = j->bool_new(true), *marker = j->bool_new(true);
    if (!yes || !marker) {
        j->decref(yes);
        j->decref(marker);
        return -1;
    }
    int rc = j->object_set(node, "deleted", yes);
    return rc | j->object_set(node, "erased", marker);
}

/* Scrubs the document of one head; *changed set when it did. */
static int scrub_head(const rdapsync_sinktk_scrub *scrub, rdapsync_value *node, bool *changed, char *err,
                      size_t err_size)
{
    jsonapi *j = scrub->host->json;
    rdapsync_value *doc = head_doc(j, node);
    if (!doc)
        return 0;
    size_t text_len = 0;
    char *text = j->dump(doc, 0, &text_len);
    if (!text) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    char *next = NULL;
    size_t next_len = 0;
    int verdict = rdapsync_sinktk_scrub_text(scrub, text, text_len, &next, &next_len, err, err_size);
    scrub->host->free(text);
    if (verdict <= RDAPSYNC_SINKTK_KEEP)
        return verdict;
    *changed = true;
    if (verdict == RDAPSYNC_SINKTK_DELETE)
        return erase_head(j, node) == 0 ? 0 : (snprintf(err, err_size, "out of memory"), -1);
    char reason[256];
    rdapsync_value *replacement = j->parse(next, next_len, reason, sizeof(reason));
    scrub->host->free(next);
    if (!replacement || j->object_set(node, "doc", replacement) != 0) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return 0;
}

int rdapsync_sinktk_scrub_heads(const rdapsync_sinktk_scrub *scrub, const char *json, size_t len, char **out,
                                size_t *out_len, char *err, size_t err_size)
{
    jsonapi *j = scrub->host->json;
    *out = NULL;
    *out_len = 0;
    rdapsync_value *tree = parse_heads(j, json, len, err, err_size);
    if (!tree)
        return -1;
    bool changed = false;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < j->array_size(tree); i++)
        rc = scrub_head(scrub, j->array_get(tree, i), &changed, err, err_size);
    if (rc == 0 && changed && !(*out = j->dump(tree, RDAPSYNC_DUMP_SORT_KEYS, out_len))) {
        snprintf(err, err_size, "out of memory");
        rc = -1;
    }
    j->decref(tree);
    if (rc != 0)
        return -1;
    return changed ? RDAPSYNC_SINKTK_REPLACE : RDAPSYNC_SINKTK_KEEP;
}
