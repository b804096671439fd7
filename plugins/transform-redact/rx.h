/*
 * Internals of one redaction pass over one document, shared by the raw RDAP
 * walk (redact_rdap.c) and the unified-shape walk (redact_unified.c):
 * the path being visited, the RFC 9537 entries collected for the current
 * RDAP root, and what the document contained (for its classification).
 */
#ifndef RDAPSYNC_RX_H
#define RDAPSYNC_RX_H

#include <stdbool.h>
#include <stddef.h>

#include <rdapsync/rdapsync.h>

#include "jpath.h"
#include "policy.h"
#include "redact_doc.h"

#define RX_CACHE 64

typedef struct rx {
    const rdapsync_json_api *j;
    const policy *pol;
    int max_depth;
    jpath path;     /* relative to the current RDAP root, in the document as redacted (postPaths) */
    jpath pre;      /* the same place in the document as it came (prePaths, error reasons) */
    char *err;
    size_t err_size;
    rdapsync_value *entries; /* new `redacted` entries of the current root (owned) */
    rdapsync_value *s_jsonpath;  /* shared strings for the entries */
    rdapsync_value *s_method[4];
    rdapsync_value *s_reason; /* the policy's reason, or NULL */
    /* Per-document caches: the entries of one document share their name and
     * reason objects and the replacement strings (jansson counts references). */
    struct {
        char role[32];
        int field;
        char property[32]; /* "" for fields */
        rdapsync_value *name;
    } names[RX_CACHE];
    size_t name_count;
    struct {
        const rrule *rule;
        rdapsync_value *reason;      /* {"description": ...} or NULL */
        rdapsync_value *replacement; /* the replacement string or NULL */
    } rules[RX_CACHE];
    size_t rule_count;
    int quiet; /* > 0: replacements record no entry (the caller records one for a whole list) */
    redact_result result;
} rx;

/* Both paths move together; indices differ where earlier items are removed. */
typedef struct rx_mark {
    size_t post, pre;
} rx_mark;

static inline rx_mark rx_push_key(rx *x, const char *key)
{
    rx_mark m = {jpath_push_key(&x->path, key), jpath_push_key(&x->pre, key)};
    return m;
}

static inline rx_mark rx_push_index(rx *x, size_t post, size_t pre)
{
    rx_mark m = {jpath_push_index(&x->path, post), jpath_push_index(&x->pre, pre)};
    return m;
}

static inline void rx_pop(rx *x, rx_mark m)
{
    jpath_pop(&x->path, m.post);
    jpath_pop(&x->pre, m.pre);
}

static inline rx_mark rx_here(const rx *x)
{
    rx_mark m = {x->path.len, x->pre.len};
    return m;
}

int rx_init(rx *x, const rdapsync_json_api *json, const policy *pol, int max_depth, char *err, size_t err_size);
void rx_release(rx *x);

/* Writes "PATH: message" into err (the path in the document as it came); returns -1. */
int rx_fail(rx *x, const char *fmt, ...) RDAPSYNC_PRINTF(2, 3);
int rx_oom(rx *x);

/*
 * Records one redaction at the current path: `field` (or the jCard
 * `property` when field is RF_COUNT) of `subject`, done with `method`
 * (which may differ from the rule's: removal of an address part is an
 * emptyValue); removal gets a prePath, the others a postPath.
 */
int rx_entry(rx *x, const subject *subject, rfield field, const char *property, const rrule *rule, rmethod method);

/* Appends the collected entries to root's `redacted` member and, when
 * `rdap` is set, "redacted" to its rdapConformance. Clears x->entries. */
int rx_attach(rx *x, rdapsync_value *root, bool rdap);

/* The contact held data of the kind its subject makes personal or business-sensitive. */
void rx_classify(rx *x, const subject *subject);

/* Replaces the string at array[index] / object[key] with its redacted form
 * and records the entry (postPath = the current path, which the caller has
 * pointed at the value). Placeholders and unchanged values are left alone.
 * *changed (may be NULL) tells whether it did anything. 0 or -1. */
int rx_redact_in_array(rx *x, rdapsync_value *array, size_t index, const rrule *rule, rfield field,
                       const char *property, const subject *subject, bool *changed);
int rx_redact_in_object(rx *x, rdapsync_value *object, const char *key, const rrule *rule, rfield field,
                        const char *property, const subject *subject, bool *changed);



/* The method a rule's redaction of a value inside a structure is recorded
 * with (removal keeps the place: emptyValue). */
rmethod rx_performed(const rrule *rule);

/* One entry for a whole list or structured value at the current path, whose
 * items were redacted quietly (x->quiet); `items` appends "[*]" to the
 * postPath when the entry covers every item of an array. */
int rx_list_entry(rx *x, const subject *subject, rfield field, const char *property, const rrule *rule,
                  const char *items);

/* How a contact URI is redacted: by the contact_uri rule, else a mailto:
 * by the email rule and a tel: by the phone rule. rule NULL: it stays. */
typedef struct uri_choice {
    const rrule *rule;
    rfield field;
    bool personal; /* a mailto: or tel: (personal data when the contact is a person) */
} uri_choice;

uri_choice rx_uri_rule(rx *x, const char *uri, size_t len, const subject *subject);
/* Redacts the URI at array[index] as chosen (never removal: callers remove).
 * A mailto: keeps its scheme around the email rule's result. 0 or -1. */
int rx_redact_uri_at(rx *x, rdapsync_value *array, size_t index, const uri_choice *choice, const subject *subject,
                     bool *changed);
#endif
